/*
 * resolver.c - the query front end: zone overlay, backend, delivery.
 *
 * DESCRIPTION
 *	spf_resolver_query() decides where an answer comes from: the overlay
 *	zone when it holds the name (or, offline, for every name: a name no
 *	zone holds is then NXDOMAIN), otherwise the backend.  This stage has
 *	no wire transport: backend_query() answers TEMPFAIL "live DNS not
 *	available yet" at once.  A real backend replaces backend_query() and
 *	backend_cancel(): it keeps the query on res->pending while it is in
 *	flight and calls query_complete() with the answer.
 *
 *	Delivery.  A completed query goes to the back of the ready FIFO and
 *	the drain timer (libevent, 0-second timeout) is armed.  The drain
 *	callback moves the whole FIFO to a batch and delivers that batch in
 *	order.  So a callback never runs inside spf_resolver_query(); a query
 *	started from inside a callback lands in the FIFO and is delivered on
 *	a later loop iteration (libevent only looks at timers at the start of
 *	an iteration), and a callback that keeps starting queries cannot
 *	starve the rest of the loop.  Every query is on exactly one of the
 *	lists pending, ready or batch until its callback starts, so
 *	spf_dns_query_cancel() just unlinks and frees it, also when called
 *	from another query's callback.  Cancelling a query from inside its own
 *	callback is a no-op (its handle dies when the callback returns).
 *	spf_resolver_destroy() from inside a callback frees every other query
 *	at once and the resolver itself when the callback returns.
 *	spf_resolver_call_later() is a query without a name that completes
 *	at once with a NULL answer: it rides the same FIFO.
 *
 * DIAGNOSTICS
 *	spf_resolver_create() and spf_resolver_query() return NULL when an
 *	allocation (or arming the libevent timer) fails; a query that could
 *	not be started never calls its callback.  DNS failures are answers
 *	(TEMPFAIL with a detail), never API errors.
 *	spf_resolver_run_until() returns early, with *done still false, when
 *	the event loop has nothing left to wait for or reports an error (for
 *	example when called from inside an event callback).
 */
#include "spf_dns.h"

#include <string.h>

#include <event2/event.h>

struct qlist {
	spf_dns_query_t *head;
	spf_dns_query_t *tail;
};

struct spf_dns_query {
	spf_resolver_t *res;
	struct qlist *on;           /* pending, ready, batch, or NULL */
	spf_dns_query_t *prev;
	spf_dns_query_t *next;
	char *name;
	uint16_t type;
	spf_dns_cb cb;
	void *arg;
	spf_dns_answer_t *ans;      /* set once complete */
};

struct spf_resolver {
	struct event_base *base;    /* borrowed */
	spf_resolver_opts_t opts;
	spf_zone_t *zone;
	struct event *drain_ev;
	bool drain_armed;
	struct qlist pending;       /* in the backend */
	struct qlist ready;         /* answered, waiting for the drain */
	struct qlist batch;         /* being delivered by the drain */
	bool draining;
	bool destroy_pending;       /* destroy called from a callback */
	unsigned long nqueries;
};

/* ---- query lists ---- */

static void list_push(struct qlist *l, spf_dns_query_t *q)
{
	q->on = l;
	q->next = NULL;
	q->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = q;
	else
		l->head = q;
	l->tail = q;
}

static void list_unlink(spf_dns_query_t *q)
{
	struct qlist *l = q->on;

	if (l == NULL)
		return;
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		l->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		l->tail = q->prev;
	q->on = NULL;
	q->prev = q->next = NULL;
}

/* Move every query of from to the back of to. */
static void list_move(struct qlist *to, struct qlist *from)
{
	spf_dns_query_t *q;

	while ((q = from->head) != NULL) {
		list_unlink(q);
		list_push(to, q);
	}
}

static void query_free(spf_dns_query_t *q)
{
	spf_dns_answer_unref(q->ans);
	spf_free(q->name);
	spf_free(q);
}

/* ---- delivery ---- */

static void resolver_free(spf_resolver_t *res);

static bool arm_drain(spf_resolver_t *res)
{
	struct timeval now = { 0, 0 };

	if (res->drain_armed)
		return true;
	if (event_add(res->drain_ev, &now) != 0)
		return false;
	res->drain_armed = true;
	return true;
}

/*
 * A query has its answer (ownership of ans moves to q): queue it for the
 * next drain.  Returns false if the drain could not be armed.
 */
static bool query_complete(spf_dns_query_t *q, spf_dns_answer_t *ans)
{
	list_unlink(q);
	q->ans = ans;
	list_push(&q->res->ready, q);
	return arm_drain(q->res);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
	spf_resolver_t *res = arg;
	spf_dns_query_t *q;

	(void)fd;
	(void)what;
	res->drain_armed = false;
	list_move(&res->batch, &res->ready);
	res->draining = true;
	while (!res->destroy_pending && (q = res->batch.head) != NULL) {
		list_unlink(q);
		/* off every list: cancel(q) from the callback is a no-op */
		q->cb(q->ans, q->arg);
		query_free(q);
	}
	res->draining = false;
	if (res->destroy_pending)
		resolver_free(res);
}

/* ---- the backend (no wire transport at this stage) ---- */

/*
 * Start a lookup that the zone does not answer.  A wire backend puts q
 * on res->pending, starts the transport and later calls
 * query_complete(q, answer).  Returns false on ENOMEM.
 */
static bool backend_query(spf_dns_query_t *q)
{
	spf_dns_answer_t *ans;

	ans = spf_dns_answer_create(q->name, q->type, SPF_DNS_TEMPFAIL);
	if (ans == NULL)
		return false;
	if (spf_dns_answer_set_detail(ans, "live DNS not available yet") != SPF_OK) {
		spf_dns_answer_unref(ans);
		return false;
	}
	spf_dns_answer_set_ttl(ans, 0);
	return query_complete(q, ans);
}

/* Stop the transport's work for q (which is on res->pending). */
static void backend_cancel(spf_dns_query_t *q)
{
	(void)q;
}

/* ---- public interface ---- */

spf_resolver_t *spf_resolver_create(struct event_base *base,
	const spf_resolver_opts_t *opts)
{
	spf_resolver_t *res;

	if (base == NULL)
		return NULL;
	res = spf_calloc(1, sizeof *res);
	if (res == NULL)
		return NULL;
	res->base = base;
	if (opts != NULL)
		res->opts = *opts;
	res->zone = spf_zone_create();
	if (res->zone == NULL)
		goto fail;
	res->drain_ev = evtimer_new(base, drain_cb, res);
	if (res->drain_ev == NULL)
		goto fail;
	return res;
fail:
	spf_zone_destroy(res->zone);
	spf_free(res);
	return NULL;
}

static void cancel_list(struct qlist *l)
{
	spf_dns_query_t *q;

	while ((q = l->head) != NULL)
		spf_dns_query_cancel(q);
}

static void resolver_free(spf_resolver_t *res)
{
	event_free(res->drain_ev);
	spf_zone_destroy(res->zone);
	spf_free(res);
}

void spf_resolver_destroy(spf_resolver_t *res)
{
	if (res == NULL || res->destroy_pending)
		return;
	cancel_list(&res->pending);
	cancel_list(&res->ready);
	cancel_list(&res->batch);
	if (res->draining) {
		/* inside a callback: drain_cb frees res when it returns */
		res->destroy_pending = true;
		return;
	}
	resolver_free(res);
}

spf_zone_t *spf_resolver_zone(spf_resolver_t *res)
{
	return res->zone;
}

struct event_base *spf_resolver_base(spf_resolver_t *res)
{
	return res->base;
}

spf_dns_query_t *spf_resolver_query(spf_resolver_t *res, const char *name,
	uint16_t type, spf_dns_cb cb, void *arg)
{
	spf_dns_query_t *q;

	if (res == NULL || name == NULL || cb == NULL || res->destroy_pending)
		return NULL;
	q = spf_calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	q->res = res;
	q->type = type;
	q->cb = cb;
	q->arg = arg;
	q->name = spf_strdup(name);
	if (q->name == NULL)
		goto fail;

	if (res->opts.offline || spf_zone_has_name(res->zone, name)) {
		spf_dns_answer_t *ans = spf_zone_lookup(res->zone, name, type);

		if (ans == NULL || !query_complete(q, ans))
			goto fail;
	} else if (!backend_query(q)) {
		goto fail;
	}
	res->nqueries++;
	return q;
fail:
	list_unlink(q);
	query_free(q);
	return NULL;
}

spf_dns_query_t *spf_resolver_call_later(spf_resolver_t *res, spf_dns_cb cb,
	void *arg)
{
	spf_dns_query_t *q;

	if (res == NULL || cb == NULL || res->destroy_pending)
		return NULL;
	q = spf_calloc(1, sizeof *q);
	if (q == NULL)
		return NULL;
	q->res = res;
	q->cb = cb;
	q->arg = arg;
	/* a query without a name or an answer: cb(NULL, arg); not counted
	 * in spf_resolver_queries() */
	if (!query_complete(q, NULL)) {
		list_unlink(q);
		query_free(q);
		return NULL;
	}
	return q;
}

void spf_dns_query_cancel(spf_dns_query_t *q)
{
	if (q == NULL || q->on == NULL)
		return;   /* NULL, or its callback is running right now */
	if (q->on == &q->res->pending)
		backend_cancel(q);
	list_unlink(q);
	query_free(q);
}

unsigned long spf_resolver_queries(const spf_resolver_t *res)
{
	return res->nqueries;
}

void spf_resolver_run_until(spf_resolver_t *res, const bool *done)
{
	while (!*done) {
		/* 1: nothing pending or active; -1: error (or re-entered) */
		if (event_base_loop(res->base, EVLOOP_ONCE) != 0)
			break;
	}
}
