/*
 * wire.c - the c-ares transport, driven by the resolver's libevent loop.
 *
 * DESCRIPTION
 *	One c-ares channel per resolver.  c-ares owns its sockets and tells
 *	us about them through ARES_OPT_SOCK_STATE_CB: for each socket it
 *	wants watched we keep a read and a write event (libevent, persistent)
 *	that call ares_process_fd(); when it closes a socket (readable and
 *	writable both 0) the events are freed.  One timer event is kept at
 *	ares_timeout() after every call into c-ares and calls
 *	ares_process_fd(ARES_SOCKET_BAD, ARES_SOCKET_BAD) to expire queries.
 *	Everything used here exists in c-ares 1.18 (Debian 12).
 *
 *	Queries are ares_query() (RD set, class IN) with EDNS0 and a UDP
 *	payload size of 1232 bytes (the DNS flag day 2020 value); a reply
 *	with TC=1 is retried over TCP by c-ares itself.  ARES_FLAG_NOCHECKRESP
 *	is set: a SERVFAIL, REFUSED or NOTIMP reply ends the query with that
 *	reply, so the answer names the rcode (c-ares 1.18 would otherwise
 *	try the other servers and then report only "Could not contact DNS
 *	servers"); the price is no fail-over to a second server on those
 *	rcodes (timeouts and unreachable servers still fail over).  Servers come from
 *	/etc/resolv.conf (c-ares' parser) unless opts lists them; the first
 *	try's timeout is opts->timeout_ms (c-ares doubles it per round) and
 *	each server is tried opts->tries times.  The outcome of a query is
 *	made into an answer by spf_wire_answer() (wire2answer.c).
 *
 *	Callbacks.  c-ares may call a query's callback from inside
 *	ares_query() (a name it cannot encode, no servers): such an answer
 *	is kept and delivered from a zero-timeout event, so spf_wire_query()
 *	never calls back from inside itself.  spf_wire_cancel() cannot take
 *	a query back from c-ares: it clears the query's callback, and the
 *	query's memory is freed when c-ares is done with it (its answer, or
 *	ARES_EDESTRUCTION from ares_destroy()).  spf_wire_destroy() thus
 *	frees every query without calling anybody.  c-ares' own allocations
 *	use the C library (ares_library_init_mem() is global, so failure
 *	injection stays with spfcheck's code).
 *
 * DIAGNOSTICS
 *	spf_wire_create() reports an unparsable nameserver (SPF_EINVAL,
 *	naming it) and c-ares initialisation failures (SPF_EDNS with
 *	ares_strerror()'s text).  A query that fails in c-ares is an answer
 *	(TEMPFAIL, ...), never an API error.  If memory runs out while an
 *	answer is built, the callback gets a NULL answer (the evaluator
 *	treats that as a temporary failure).  If a socket's events cannot be
 *	allocated the socket is not watched and its query ends by timeout.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <event2/event.h>

#define EDNS_UDP_SIZE 1232
#define DEFAULT_TIMEOUT_MS 2000
#define DEFAULT_TRIES 3
#define RECV_BUFFER (4 << 20)   /* bytes asked for each UDP socket */

struct sockev {
	struct sockev *next;
	spf_wire_t *w;
	ares_socket_t fd;
	struct event *rd;
	struct event *wr;
};

struct spf_wire_query {
	spf_wire_t *w;
	spf_wire_cb cb;             /* NULL once cancelled */
	void *arg;
	bool starting;              /* inside ares_query() */
	bool in_ares;               /* c-ares has not called back yet */
	spf_dns_answer_t *early;    /* the answer c-ares gave while starting */
	spf_wire_query_t *prev, *next;   /* the deferred list */
	char *name;
	uint16_t type;
};

struct spf_wire {
	struct event_base *base;
	ares_channel channel;
	bool have_channel;
	bool destroying;
	struct sockev *socks;
	struct event *timer;
	bool timer_armed;
	uint64_t timer_due_us;      /* when it fires (spf_monotonic_us) */
	uint64_t first_try_us;      /* a new query's first timeout */
	struct event *deferred_ev;
	spf_wire_query_t *deferred_head, *deferred_tail;
};

/* ---- server strings ---- */

static bool parse_port(const char *s, unsigned *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > 65535)
		return false;
	*port = (unsigned)v;
	return true;
}

/* "ADDR", "ADDR:PORT", "[V6]", "[V6]:PORT" or a bare IPv6 address. */
static bool parse_server(const char *spec, struct ares_addr_port_node *node)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *colon;
	size_t hlen;
	unsigned p = 0;

	memset(node, 0, sizeof *node);
	if (spec == NULL)
		return false;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL)
			return false;
		hlen = (size_t)(close - spec - 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return false;
		if (hlen == 0 || hlen >= sizeof host)
			return false;
		memcpy(host, spec + 1, hlen);
		host[hlen] = '\0';
		node->family = AF_INET6;
	} else if ((colon = strchr(spec, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		hlen = (size_t)(colon - spec);
		if (hlen == 0 || hlen >= sizeof host)
			return false;
		memcpy(host, spec, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		node->family = AF_INET;
	} else {
		hlen = strlen(spec);
		if (hlen == 0 || hlen >= sizeof host)
			return false;
		memcpy(host, spec, hlen + 1);
		node->family = colon != NULL ? AF_INET6 : AF_INET;
	}
	if (port != NULL && !parse_port(port, &p))
		return false;
	if (node->family == AF_INET) {
		if (inet_pton(AF_INET, host, &node->addr.addr4) != 1)
			return false;
	} else {
		struct in6_addr a6;

		if (inet_pton(AF_INET6, host, &a6) != 1)
			return false;
		memcpy(&node->addr.addr6, &a6, sizeof a6);
	}
	node->udp_port = (int)p;   /* 0: the channel's default, 53 */
	node->tcp_port = (int)p;
	return true;
}

spf_status_t spf_dns_server_check(const char *spec)
{
	struct ares_addr_port_node node;

	return parse_server(spec, &node) ? SPF_OK : SPF_EINVAL;
}

/* ---- sockets and the timer ---- */

static void update_timer(spf_wire_t *w)
{
	struct timeval tv, *tvp;

	if (w->destroying)
		return;
	tvp = ares_timeout(w->channel, NULL, &tv);
	w->timer_armed = tvp != NULL && evtimer_add(w->timer, tvp) == 0;
	if (w->timer_armed)
		w->timer_due_us = spf_monotonic_us() +
			(uint64_t)tvp->tv_sec * 1000000u + (uint64_t)tvp->tv_usec;
	else
		evtimer_del(w->timer);
}

/*
 * After a new query.  ares_timeout() walks every query c-ares holds, so
 * with a hundred in flight calling it per query cost more than sending
 * the query.  A new query's first timeout ends first_try_us from now; a
 * timer already due no later than that fires in time, and on_timer()
 * arms it again for whatever is left, the new query included.
 */
static void timer_after_query(spf_wire_t *w)
{
	if (w->timer_armed && w->timer_due_us <= spf_monotonic_us() + w->first_try_us)
		return;
	update_timer(w);
}

static void on_sock(evutil_socket_t fd, short what, void *arg)
{
	struct sockev *se = arg;
	spf_wire_t *w = se->w;   /* se may be freed inside ares_process_fd */

	ares_process_fd(w->channel,
		(what & EV_READ) ? (ares_socket_t)fd : ARES_SOCKET_BAD,
		(what & EV_WRITE) ? (ares_socket_t)fd : ARES_SOCKET_BAD);
	update_timer(w);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	spf_wire_t *w = arg;

	(void)fd;
	(void)what;
	ares_process_fd(w->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	update_timer(w);
}

static void sockev_free(struct sockev *se)
{
	if (se->rd != NULL)
		event_free(se->rd);
	if (se->wr != NULL)
		event_free(se->wr);
	spf_free(se);
}

/* ARES_OPT_SOCK_STATE_CB: watch fd for what c-ares wants. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	spf_wire_t *w = data;
	struct sockev **pp, *se;

	for (pp = &w->socks; (se = *pp) != NULL; pp = &se->next)
		if (se->fd == fd)
			break;
	if (!readable && !writable) {
		if (se != NULL) {
			*pp = se->next;
			sockev_free(se);
		}
		return;
	}
	if (w->destroying)
		return;
	if (se == NULL) {
		se = spf_calloc(1, sizeof *se);
		if (se == NULL)
			return;
		se->w = w;
		se->fd = fd;
		se->rd = event_new(w->base, fd, EV_READ | EV_PERSIST, on_sock, se);
		se->wr = event_new(w->base, fd, EV_WRITE | EV_PERSIST, on_sock, se);
		if (se->rd == NULL || se->wr == NULL) {
			sockev_free(se);
			return;
		}
		se->next = w->socks;
		w->socks = se;
	}
	if (readable)
		event_add(se->rd, NULL);
	else
		event_del(se->rd);
	if (writable)
		event_add(se->wr, NULL);
	else
		event_del(se->wr);
}

/* ---- queries ---- */

static void wq_free(spf_wire_query_t *wq)
{
	spf_dns_answer_unref(wq->early);
	spf_free(wq->name);
	spf_free(wq);
}

static void deferred_unlink(spf_wire_query_t *wq)
{
	spf_wire_t *w = wq->w;

	if (wq->prev != NULL)
		wq->prev->next = wq->next;
	else
		w->deferred_head = wq->next;
	if (wq->next != NULL)
		wq->next->prev = wq->prev;
	else
		w->deferred_tail = wq->prev;
	wq->prev = wq->next = NULL;
}

static void on_ares(void *arg, int status, int timeouts, unsigned char *abuf,
	int alen)
{
	spf_wire_query_t *wq = arg;
	spf_dns_answer_t *ans;
	spf_wire_cb cb;
	void *cbarg;

	(void)timeouts;
	wq->in_ares = false;
	if (wq->w->destroying || status == ARES_EDESTRUCTION
	    || status == ARES_ECANCELLED || wq->cb == NULL) {
		if (!wq->starting)
			wq_free(wq);
		return;
	}
	ans = spf_wire_answer(status, abuf, abuf != NULL && alen > 0 ? (size_t)alen : 0,
		wq->name, wq->type);
	if (wq->starting) {
		wq->early = ans;   /* spf_wire_query() defers it */
		return;
	}
	cb = wq->cb;
	cbarg = wq->arg;
	wq_free(wq);
	cb(ans, cbarg);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	spf_wire_t *w = arg;
	spf_wire_query_t *wq;

	(void)fd;
	(void)what;
	/* each callback may cancel others on the list: take one at a time */
	while ((wq = w->deferred_head) != NULL) {
		spf_wire_cb cb = wq->cb;
		void *cbarg = wq->arg;
		spf_dns_answer_t *ans = wq->early;

		deferred_unlink(wq);
		wq->early = NULL;
		wq_free(wq);
		cb(ans, cbarg);
	}
}

spf_wire_query_t *spf_wire_query(spf_wire_t *w, const char *name,
	uint16_t type, spf_wire_cb cb, void *arg)
{
	spf_wire_query_t *wq;
	struct timeval now = { 0, 0 };

	if (w == NULL || name == NULL || cb == NULL || w->destroying)
		return NULL;
	wq = spf_calloc(1, sizeof *wq);
	if (wq == NULL)
		return NULL;
	wq->name = spf_strdup(name);
	if (wq->name == NULL) {
		spf_free(wq);
		return NULL;
	}
	wq->w = w;
	wq->cb = cb;
	wq->arg = arg;
	wq->type = type;
	wq->starting = true;
	wq->in_ares = true;
	ares_query(w->channel, name, 1 /* C_IN */, type, on_ares, wq);
	wq->starting = false;
	if (!wq->in_ares) {
		/* answered from inside ares_query(): deliver it later */
		wq->prev = w->deferred_tail;
		if (w->deferred_tail != NULL)
			w->deferred_tail->next = wq;
		else
			w->deferred_head = wq;
		w->deferred_tail = wq;
		if (event_add(w->deferred_ev, &now) != 0) {
			deferred_unlink(wq);
			wq_free(wq);
			return NULL;
		}
	}
	timer_after_query(w);
	return wq;
}

void spf_wire_cancel(spf_wire_query_t *wq)
{
	if (wq == NULL)
		return;
	if (wq->in_ares) {
		wq->cb = NULL;      /* freed when c-ares calls back */
		return;
	}
	deferred_unlink(wq);
	wq_free(wq);
}

/* ---- channel ---- */

static char *msg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A spf_malloc'ed message, or NULL. */
static char *msg_printf(const char *fmt, ...)
{
	spf_buf_t buf;
	va_list ap;
	spf_status_t st;

	spf_buf_init(&buf, 1024);
	va_start(ap, fmt);
	st = spf_buf_vprintf(&buf, fmt, ap);
	va_end(ap);
	if (st != SPF_OK) {
		spf_buf_finish(&buf);
		return NULL;
	}
	return buf.data;
}

spf_status_t spf_wire_create(struct event_base *base,
	const spf_resolver_opts_t *opts, spf_wire_t **out, char **errmsg)
{
	struct ares_options ao;
	struct ares_addr_port_node *nodes = NULL;
	spf_wire_t *w;
	spf_status_t st = SPF_ENOMEM;
	int optmask, rc;

	*out = NULL;
	if (errmsg != NULL)
		*errmsg = NULL;
	w = spf_calloc(1, sizeof *w);
	if (w == NULL)
		return SPF_ENOMEM;
	w->base = base;
	if (opts->nnameservers > 0) {
		nodes = spf_calloc(opts->nnameservers, sizeof *nodes);
		if (nodes == NULL)
			goto fail;
		for (size_t i = 0; i < opts->nnameservers; i++) {
			if (!parse_server(opts->nameservers[i], &nodes[i])) {
				st = SPF_EINVAL;
				if (errmsg != NULL)
					*errmsg = msg_printf("nameserver '%s': not ADDR, ADDR:PORT or [IPV6]:PORT",
						opts->nameservers[i] ? opts->nameservers[i] : "(null)");
				goto fail;
			}
			nodes[i].next = i + 1 < opts->nnameservers ? &nodes[i + 1] : NULL;
		}
	}
	w->timer = evtimer_new(base, on_timer, w);
	w->deferred_ev = evtimer_new(base, on_deferred, w);
	if (w->timer == NULL || w->deferred_ev == NULL)
		goto fail;

	rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		st = SPF_EDNS;
		if (errmsg != NULL)
			*errmsg = msg_printf("cannot initialise c-ares: %s", ares_strerror(rc));
		goto fail;
	}
	memset(&ao, 0, sizeof ao);
	ao.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
	ao.ednspsz = EDNS_UDP_SIZE;
	ao.timeout = opts->timeout_ms > 0 && opts->timeout_ms <= INT32_MAX ?
		(int)opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	w->first_try_us = (uint64_t)ao.timeout * 1000u;
	ao.tries = opts->tries > 0 && opts->tries <= 100 ? (int)opts->tries : DEFAULT_TRIES;
	ao.sock_state_cb = on_sock_state;
	ao.sock_state_cb_data = w;
	/* room for a burst of answers to max_inflight queries: one lost
	 * to a full receive buffer costs a whole timeout (the kernel caps it
	 * at net.core.rmem_max) */
	ao.socket_receive_buffer_size = RECV_BUFFER;
	optmask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS
		| ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF;
	rc = ares_init_options(&w->channel, &ao, optmask);
	if (rc != ARES_SUCCESS) {
		ares_library_cleanup();
		st = rc == ARES_ENOMEM ? SPF_ENOMEM : SPF_EDNS;
		if (errmsg != NULL && st == SPF_EDNS)
			*errmsg = msg_printf("cannot set up c-ares: %s", ares_strerror(rc));
		goto fail;
	}
	w->have_channel = true;
	if (nodes != NULL) {
		rc = ares_set_servers_ports(w->channel, nodes);
		if (rc != ARES_SUCCESS) {
			st = rc == ARES_ENOMEM ? SPF_ENOMEM : SPF_EDNS;
			if (errmsg != NULL && st == SPF_EDNS)
				*errmsg = msg_printf("cannot use the nameservers: %s",
					ares_strerror(rc));
			goto fail;
		}
	}
	spf_free(nodes);
	*out = w;
	return SPF_OK;
fail:
	spf_free(nodes);
	spf_wire_destroy(w);
	return st;
}

void spf_wire_destroy(spf_wire_t *w)
{
	spf_wire_query_t *wq;

	if (w == NULL)
		return;
	w->destroying = true;
	while ((wq = w->deferred_head) != NULL) {
		deferred_unlink(wq);
		wq_free(wq);
	}
	if (w->have_channel) {
		/* calls on_ares(ARES_EDESTRUCTION) for each query: freed there */
		ares_destroy(w->channel);
		ares_library_cleanup();
	}
	while (w->socks != NULL) {
		struct sockev *se = w->socks;

		w->socks = se->next;
		sockev_free(se);
	}
	if (w->timer != NULL)
		event_free(w->timer);
	if (w->deferred_ev != NULL)
		event_free(w->deferred_ev);
	spf_free(w);
}
