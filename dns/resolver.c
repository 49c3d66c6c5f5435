/*
 * resolver.c - the query front end: zone overlay, cache, coalescing,
 * wire, delivery.
 *
 * DESCRIPTION
 *	spf_resolver_query() decides where an answer comes from, in order:
 *	  1. the overlay zone, when it holds the name (spf_zone_has_name());
 *	     offline, the zone answers every name (a name no zone holds is
 *	     then NXDOMAIN) and nothing below is used;
 *	  2. the cache (cache.c), for answers received from the wire;
 *	  3. a wire query already in flight for the same (name, type): the
 *	     query joins it as one more waiter (coalescing);
 *	  4. a new wire query (wire.c, c-ares), registered as in flight.
 *	A caller that can go on at once takes a cached answer without a
 *	query (spf_resolver_take_cached(): counted as a cache hit).
 *
 *	Scheduling.  At most max_inflight wire queries are out at once (a
 *	burst of thousands of evaluations must not flood the resolver's
 *	socket buffers: a lost UDP answer costs a whole retransmission
 *	timeout).  The others wait in a binary heap of flights, ordered by
 *	rank: the class (an evaluation blocked on the answer before a
 *	speculative prefetch), then the evaluation's sequence number (the one
 *	that started first), then the flight's own arrival number.  A flight's
 *	rank is the best of its waiters': a blocked query that joins a queued
 *	speculative flight lifts it, and when a waiter leaves the flight falls
 *	back to the best rank left.  A flight whose last waiter leaves while
 *	queued (a prefetch cancelled because its evaluation finished or hit a
 *	limit) is dropped and never sent.
 *	A slot an answer frees is filled at once from the heap, before the
 *	answer is delivered.  Filling it only after delivery (so that the
 *	queries the answer unblocks compete for it) saved a round trip at
 *	50 ms and under load, but cost 5 to 9 % at 5 ms on a quiet machine,
 *	where the slots then idle while the answers are processed
 *	(doc/benchmarks.md, issue 15).
 *	When a wire query ends, its answer is cached (cache.c decides if it
 *	may be) and every waiter gets a reference to it.  Cancelling a waiter
 *	only removes it; when the last waiter of a flight is cancelled the
 *	wire query is abandoned (c-ares finishes it unheard) and the flight
 *	forgotten.  A wire answer that cannot be built for lack of memory is
 *	replaced by a TEMPFAIL "out of memory" answer made when the flight
 *	started, so waiters always get an answer.
 *
 *	Delivery.  A completed query goes to the back of the ready FIFO and
 *	the drain timer (libevent, 0-second timeout) is armed.  The drain
 *	callback moves the whole FIFO to a batch and delivers that batch in
 *	order.  So a callback never runs inside spf_resolver_query(); a query
 *	started from inside a callback lands in the FIFO and is delivered on
 *	a later loop iteration (libevent only looks at timers at the start of
 *	an iteration), and a callback that keeps starting queries cannot
 *	starve the rest of the loop.  Every query is on exactly one list
 *	(a flight's waiters, timers, ready or batch) until its callback
 *	starts, so spf_dns_query_cancel() just unlinks and frees it, also
 *	when called from another query's callback.  Cancelling a query from
 *	inside its own callback is a no-op (its handle dies when the
 *	callback returns).  spf_resolver_destroy() from inside a callback
 *	frees every other query at once and the resolver itself when the
 *	callback returns.  spf_resolver_call_later() is a query without a
 *	name that completes at once with a NULL answer: it rides the same
 *	FIFO; spf_resolver_call_after() does the same when its libevent
 *	timer fires.
 *
 *	Timers never fire early.  libevent arms a timer from its own clock:
 *	on Linux CLOCK_MONOTONIC_COARSE (a few milliseconds behind), and
 *	inside a callback the time cached when the loop woke up, stale by
 *	whatever work ran since.  So spf_resolver_call_after() also notes
 *	its due time on the precise CLOCK_MONOTONIC; a timer that libevent
 *	fires before that time is armed again for what is left.
 *
 * DIAGNOSTICS
 *	spf_resolver_create() and spf_resolver_query() return NULL when an
 *	allocation (or arming a libevent event) fails; a query that could
 *	not be started never calls its callback.  spf_resolver_create_ex()
 *	also reports an unparsable nameserver (SPF_EINVAL) and a c-ares set-up
 *	failure (SPF_EDNS) with a message.  DNS failures are answers
 *	(TEMPFAIL with a detail), never API errors.
 *	spf_resolver_run_until() returns early, with *done still false, when
 *	the event loop has nothing left to wait for or reports an error (for
 *	example when called from inside an event callback).
 */
#include "dns_internal.h"

#include <string.h>
#include <time.h>

#include <event2/event.h>

struct qlist {
	spf_dns_query_t *head;
	spf_dns_query_t *tail;
};

struct flight;

struct spf_dns_query {
	spf_resolver_t *res;
	struct qlist *on;           /* a flight's waiters, timers, ready,
	                             * batch, or NULL */
	struct flight *flight;      /* when on its waiters */
	struct event *timer;        /* spf_resolver_call_after() */
	uint64_t due_us;            /* when it may fire (spf_monotonic_us) */
	spf_dns_query_t *prev;
	spf_dns_query_t *next;
	char *name;                 /* in the same allocation, after the
	                             * struct (NULL for call_later/after) */
	uint16_t type;
	uint64_t rank;              /* class and seq (make_rank()) */
	spf_dns_cb cb;
	void *arg;
	spf_dns_answer_t *ans;      /* set once complete */
	bool from_zone;             /* ans is a stand-in: look the zone up
	                             * when delivering */
};

struct spf_resolver {
	struct event_base *base;    /* borrowed */
	spf_resolver_opts_t opts;
	spf_zone_t *zone;
	struct event *drain_ev;
	bool drain_armed;
	spf_wire_t *wire;           /* NULL offline */
	spf_cache_t *cache;         /* NULL offline; also the flight table */
	struct flight *flights;     /* wire queries in flight or queued */
	struct flight **heap;       /* flights waiting for a wire slot, best
	                             * rank at [0] */
	size_t nheap, heapcap;
	uint64_t next_seq;          /* spf_resolver_next_seq() */
	uint64_t next_arrival;      /* flights' tie-break */
	unsigned inflight;          /* flights with a wire query */
	unsigned max_inflight;
	bool stopping;              /* in spf_resolver_destroy() */
	struct qlist timers;        /* spf_resolver_call_after() */
	struct qlist ready;         /* answered, waiting for the drain */
	struct qlist batch;         /* being delivered by the drain */
	bool draining;
	bool destroy_pending;       /* destroy called from a callback */
	/* nameless queries kept for reuse (SPARE_QUERIES at most): every
	 * evaluation asks for one (spf_resolver_call_later()) */
	spf_dns_query_t *spare;
	unsigned nspare;
	unsigned long nqueries;
	unsigned long zone_answers;
	unsigned long cache_hits;
	unsigned long coalesced;
	unsigned long wire_queries;
};

/* One wire query and the queries waiting for its answer. */
struct flight {
	spf_resolver_t *res;
	struct flight *prev, *next; /* res->flights */
	char *name;
	uint16_t type;
	struct qlist waiters;
	spf_wire_query_t *wq;
	bool queued;                /* on the heap, no wire query yet */
	size_t hidx;                /* its index there */
	uint64_t rank;              /* the best of its waiters' ranks */
	uint64_t arrival;           /* equal ranks: the first come first */
	bool in_table;              /* registered for coalescing */
	spf_dns_answer_t *oom;      /* the answer if the real one cannot be made */
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

#define SPARE_QUERIES 256

static void query_free(spf_dns_query_t *q)
{
	spf_resolver_t *res = q->res;

	if (q->timer != NULL)
		event_free(q->timer);
	spf_dns_answer_unref(q->ans);
	/* a nameless one is all struct: kept for the next (nameless_query()) */
	if (q->name == NULL && res->nspare < SPARE_QUERIES &&
	    !res->stopping && !res->destroy_pending) {
		q->next = res->spare;
		res->spare = q;
		res->nspare++;
		spf_mem_keep(q, sizeof *q);
		return;
	}
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
		if (q->from_zone) {
			/* made now, not when asked: a burst of queries does
			 * not hold every answer at once (issue 22) */
			spf_dns_answer_t *ans = spf_zone_lookup(res->zone, q->name, q->type);

			if (ans != NULL) {
				spf_dns_answer_unref(q->ans);
				q->ans = ans;
			}
		}
		/* off every list: cancel(q) from the callback is a no-op */
		q->cb(q->ans, q->arg);
		query_free(q);
	}
	res->draining = false;
	if (res->destroy_pending)
		resolver_free(res);
}

/* ---- flights: wire queries and their waiters ---- */

static void flight_free(struct flight *f)
{
	spf_resolver_t *res = f->res;

	if (f->in_table)
		spf_cache_flight_remove(res->cache, f->name, f->type);
	if (f->prev != NULL)
		f->prev->next = f->next;
	else if (res->flights == f)
		res->flights = f->next;
	if (f->next != NULL)
		f->next->prev = f->prev;
	spf_dns_answer_unref(f->oom);
	spf_free(f->name);
	spf_free(f);
}

static void on_wire(spf_dns_answer_t *ans, void *arg);

/* ---- the queue: a binary heap of flights by rank ---- */

/* A query's rank: the class in the top bit, then the sequence number. */
static uint64_t make_rank(spf_dns_class_t cls, uint64_t seq)
{
	seq &= ~(UINT64_C(1) << 63);
	return cls == SPF_DNS_SPECULATIVE ? seq | (UINT64_C(1) << 63) : seq;
}

static bool before(const struct flight *a, const struct flight *b)
{
	return a->rank != b->rank ? a->rank < b->rank : a->arrival < b->arrival;
}

static void heap_set(spf_resolver_t *res, size_t i, struct flight *f)
{
	res->heap[i] = f;
	f->hidx = i;
}

/* Move the flight at i to where its rank puts it. */
static void heap_fix(spf_resolver_t *res, size_t i)
{
	struct flight *f = res->heap[i];

	while (i > 0 && before(f, res->heap[(i - 1) / 2])) {
		heap_set(res, i, res->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= res->nheap)
			break;
		if (c + 1 < res->nheap && before(res->heap[c + 1], res->heap[c]))
			c++;
		if (!before(res->heap[c], f))
			break;
		heap_set(res, i, res->heap[c]);
		i = c;
	}
	heap_set(res, i, f);
}

/* Queue f for a wire slot; false on ENOMEM. */
static bool enqueue(struct flight *f)
{
	spf_resolver_t *res = f->res;

	if (res->nheap == res->heapcap) {
		size_t ncap = res->heapcap ? res->heapcap * 2 : 64;
		struct flight **n = spf_realloc(res->heap, ncap * sizeof(*n));

		if (n == NULL)
			return false;
		res->heap = n;
		res->heapcap = ncap;
	}
	f->queued = true;
	heap_set(res, res->nheap++, f);
	heap_fix(res, f->hidx);
	return true;
}

/* Take f off the queue of flights waiting for a wire slot. */
static void unqueue(struct flight *f)
{
	spf_resolver_t *res = f->res;
	size_t i = f->hidx;

	if (!f->queued)
		return;
	f->queued = false;
	res->nheap--;
	if (i < res->nheap) {
		heap_set(res, i, res->heap[res->nheap]);
		heap_fix(res, i);
	}
}

/* The best rank of f's waiters changed (one joined or left): re-rank. */
static void flight_rerank(struct flight *f)
{
	uint64_t best = UINT64_MAX;

	for (spf_dns_query_t *q = f->waiters.head; q != NULL; q = q->next)
		if (q->rank < best)
			best = q->rank;
	if (best == f->rank)
		return;
	f->rank = best;
	if (f->queued)
		heap_fix(f->res, f->hidx);
}

/* Send f's wire query; false if c-ares could not take it. */
static bool flight_send(struct flight *f)
{
	spf_resolver_t *res = f->res;

	f->wq = spf_wire_query(res->wire, f->name, f->type, on_wire, f);
	if (f->wq == NULL)
		return false;
	res->inflight++;
	res->wire_queries++;
	return true;
}

/* Start queued flights, best rank first, while fewer than max_inflight
 * wire queries are out. */
static void pump(spf_resolver_t *res)
{
	while (!res->stopping && res->inflight < res->max_inflight &&
	       res->nheap > 0) {
		struct flight *f = res->heap[0];
		spf_dns_query_t *q;

		unqueue(f);
		if (flight_send(f))
			continue;
		/* c-ares refused (out of memory): answer the waiters now */
		while ((q = f->waiters.head) != NULL) {
			q->flight = NULL;
			query_complete(q, spf_dns_answer_ref(f->oom));
		}
		flight_free(f);
	}
}

/* The wire query of f ended (ans owned here; NULL on ENOMEM). */
static void on_wire(spf_dns_answer_t *ans, void *arg)
{
	struct flight *f = arg;
	spf_resolver_t *res = f->res;
	spf_dns_query_t *q;

	f->wq = NULL;
	res->inflight--;
	if (ans == NULL)
		ans = spf_dns_answer_ref(f->oom);
	else if (!res->opts.no_cache)
		spf_cache_put(res->cache, ans);
	while ((q = f->waiters.head) != NULL) {
		q->flight = NULL;
		/* a drain that cannot be armed leaves q on ready; nothing
		 * better to do (libevent failing to add a timer) */
		query_complete(q, spf_dns_answer_ref(ans));
	}
	spf_dns_answer_unref(ans);
	flight_free(f);
	pump(res);
}

/* Remove a waiter from its flight; the last one abandons the flight. */
static void flight_leave(spf_dns_query_t *q)
{
	struct flight *f = q->flight;

	list_unlink(q);
	q->flight = NULL;
	if (f->waiters.head == NULL) {
		spf_resolver_t *res = f->res;

		if (f->queued) {
			unqueue(f);
		} else {
			spf_wire_cancel(f->wq);
			res->inflight--;
		}
		flight_free(f);
		pump(res);
	} else if (f->queued && q->rank <= f->rank) {
		/* it may have been the best: the rest decide */
		flight_rerank(f);
	}
}

/*
 * A lookup that the zone does not answer: the cache, a flight to join,
 * or a new wire query.  Returns false on ENOMEM.
 */
static bool backend_query(spf_dns_query_t *q)
{
	spf_resolver_t *res = q->res;
	spf_dns_answer_t *ans;
	struct flight *f;

	ans = spf_cache_get(res->cache, q->name, q->type);
	if (ans != NULL) {
		res->cache_hits++;
		return query_complete(q, ans);
	}
	f = spf_cache_flight_get(res->cache, q->name, q->type);
	if (f != NULL) {
		res->coalesced++;
		q->flight = f;
		list_push(&f->waiters, q);
		if (q->rank < f->rank) {
			f->rank = q->rank;
			if (f->queued)
				heap_fix(res, f->hidx);
		}
		return true;
	}

	f = spf_calloc(1, sizeof *f);
	if (f == NULL)
		return false;
	f->res = res;
	f->type = q->type;
	f->name = spf_strdup(q->name);
	f->oom = spf_dns_answer_create(q->name, q->type, SPF_DNS_TEMPFAIL);
	if (f->name == NULL || f->oom == NULL
	    || spf_dns_answer_set_detail(f->oom, "out of memory") != SPF_OK)
		goto fail;
	spf_dns_answer_set_ttl(f->oom, 0);
	f->rank = q->rank;
	f->arrival = res->next_arrival++;
	if (res->inflight < res->max_inflight) {
		if (!flight_send(f))
			goto fail;
	} else if (!enqueue(f)) {
		goto fail;
	}
	/* without the table entry the flight still works, uncoalesced */
	f->in_table = spf_cache_flight_add(res->cache, f->name, f->type, f) == SPF_OK;
	f->next = res->flights;
	if (res->flights != NULL)
		res->flights->prev = f;
	res->flights = f;
	q->flight = f;
	list_push(&f->waiters, q);
	return true;
fail:
	spf_dns_answer_unref(f->oom);
	spf_free(f->name);
	spf_free(f);
	return false;
}

/* ---- public interface ---- */

spf_resolver_t *spf_resolver_create_ex(struct event_base *base,
	const spf_resolver_opts_t *opts, spf_status_t *status, char **errmsg)
{
	spf_resolver_t *res;
	spf_status_t st = SPF_ENOMEM;

	if (errmsg != NULL)
		*errmsg = NULL;
	if (base == NULL) {
		st = SPF_EINVAL;
		goto out;
	}
	res = spf_calloc(1, sizeof *res);
	if (res == NULL)
		goto out;
	res->base = base;
	if (opts != NULL)
		res->opts = *opts;
	/* borrowed for this call only */
	res->opts.nameservers = NULL;
	res->opts.nnameservers = 0;
	res->max_inflight = res->opts.max_inflight ? res->opts.max_inflight :
		SPF_DNS_MAX_INFLIGHT;
	res->zone = spf_zone_create();
	if (res->zone == NULL)
		goto fail;
	res->drain_ev = evtimer_new(base, drain_cb, res);
	if (res->drain_ev == NULL)
		goto fail;
	if (!res->opts.offline) {
		res->cache = spf_cache_create(res->opts.cache_entries,
			res->opts.cache_bytes, res->opts.clock, res->opts.clock_arg);
		if (res->cache == NULL)
			goto fail;
		st = spf_wire_create(base, opts, &res->wire, errmsg);
		if (st != SPF_OK)
			goto fail;
	}
	st = SPF_OK;
	goto out;
fail:
	spf_cache_destroy(res->cache);
	if (res->drain_ev != NULL)
		event_free(res->drain_ev);
	spf_zone_destroy(res->zone);
	spf_free(res);
	res = NULL;
out:
	if (status != NULL)
		*status = st;
	return st == SPF_OK ? res : NULL;
}

spf_resolver_t *spf_resolver_create(struct event_base *base,
	const spf_resolver_opts_t *opts)
{
	char *msg = NULL;
	spf_resolver_t *res = spf_resolver_create_ex(base, opts, NULL, &msg);

	spf_free(msg);
	return res;
}

static void cancel_list(struct qlist *l)
{
	spf_dns_query_t *q;

	while ((q = l->head) != NULL)
		spf_dns_query_cancel(q);
}

static void resolver_free(spf_resolver_t *res)
{
	while (res->spare != NULL) {
		spf_dns_query_t *q = res->spare;

		spf_mem_show(q, sizeof *q);
		res->spare = q->next;
		spf_free(q);
	}
	/* every flight is gone (its waiters were cancelled): c-ares calls
	 * back nobody */
	spf_wire_destroy(res->wire);
	spf_cache_destroy(res->cache);
	event_free(res->drain_ev);
	spf_zone_destroy(res->zone);
	spf_free(res->heap);
	spf_free(res);
}

void spf_resolver_destroy(spf_resolver_t *res)
{
	if (res == NULL || res->destroy_pending)
		return;
	res->stopping = true;
	while (res->flights != NULL) {
		/* a flight always has a waiter; cancelling the last one frees
		 * the flight, so look no further then */
		struct flight *f = res->flights;
		bool last;

		do {
			spf_dns_query_t *q = f->waiters.head;

			last = q->next == NULL;
			spf_dns_query_cancel(q);
		} while (!last);
	}
	cancel_list(&res->timers);
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

uint64_t spf_resolver_next_seq(spf_resolver_t *res)
{
	return ++res->next_seq;
}

spf_dns_query_t *spf_resolver_query(spf_resolver_t *res, const char *name,
	uint16_t type, spf_dns_cb cb, void *arg)
{
	if (res == NULL)
		return NULL;
	return spf_resolver_query_sched(res, name, type, SPF_DNS_DEMAND,
		spf_resolver_next_seq(res), cb, arg);
}

spf_dns_query_t *spf_resolver_query_sched(spf_resolver_t *res,
	const char *name, uint16_t type, spf_dns_class_t cls, uint64_t seq,
	spf_dns_cb cb, void *arg)
{
	spf_dns_query_t *q;
	size_t nlen;

	if (res == NULL || name == NULL || cb == NULL || res->destroy_pending)
		return NULL;
	/* one allocation per query: the struct, then its name */
	nlen = strlen(name) + 1;
	q = spf_malloc(sizeof *q + nlen);
	if (q == NULL)
		return NULL;
	memset(q, 0, sizeof *q);
	q->res = res;
	q->type = type;
	q->rank = make_rank(cls, seq);
	q->cb = cb;
	q->arg = arg;
	q->name = memcpy((char *)(q + 1), name, nlen);

	if (res->opts.offline || spf_zone_has_name(res->zone, name)) {
		/* the zone is looked up on delivery; until then the answer
		 * is the one given if memory runs out then */
		spf_dns_answer_t *ans = spf_dns_answer_create(name, type, SPF_DNS_TEMPFAIL);

		if (ans == NULL || spf_dns_answer_set_detail(ans, "out of memory") != SPF_OK) {
			spf_dns_answer_unref(ans);
			goto fail;
		}
		spf_dns_answer_set_ttl(ans, 0);
		q->from_zone = true;
		if (!query_complete(q, ans))
			goto fail;
		res->zone_answers++;
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

/* A query with no name for call_later/call_after, or NULL (bad
 * arguments, a destroy pending, ENOMEM). */
static spf_dns_query_t *nameless_query(spf_resolver_t *res, spf_dns_cb cb,
	void *arg)
{
	spf_dns_query_t *q;

	if (res == NULL || cb == NULL || res->destroy_pending)
		return NULL;
	if (res->spare != NULL) {
		/* counted as an allocation: fails where spf_calloc() would */
		if (!spf_alloc_reuse())
			return NULL;
		q = res->spare;
		spf_mem_show(q, sizeof *q);
		res->spare = q->next;
		res->nspare--;
		memset(q, 0, sizeof *q);
	} else {
		q = spf_calloc(1, sizeof *q);
		if (q == NULL)
			return NULL;
	}
	q->res = res;
	q->cb = cb;
	q->arg = arg;
	return q;
}

spf_dns_query_t *spf_resolver_call_later(spf_resolver_t *res, spf_dns_cb cb,
	void *arg)
{
	spf_dns_query_t *q = nameless_query(res, cb, arg);

	if (q == NULL)
		return NULL;
	/* a query without a name or an answer: cb(NULL, arg); not counted
	 * in spf_resolver_queries() */
	if (!query_complete(q, NULL)) {
		list_unlink(q);
		query_free(q);
		return NULL;
	}
	return q;
}

uint64_t spf_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Arm q's timer for what is left until q->due_us (at least 1 ms: the
 * loop's clock may be behind the precise one). */
static bool arm_after(spf_dns_query_t *q)
{
	uint64_t now = spf_monotonic_us();
	uint64_t left = q->due_us > now ? q->due_us - now : 0;
	struct timeval tv;

	if (left < 1000)
		left = 1000;
	tv.tv_sec = (time_t)(left / 1000000u);
	tv.tv_usec = (suseconds_t)(left % 1000000u);
	return evtimer_add(q->timer, &tv) == 0;
}

static void on_after(evutil_socket_t fd, short what, void *arg)
{
	spf_dns_query_t *q = arg;

	(void)fd;
	(void)what;
	/* fired before its time by the precise clock: wait for the rest */
	if (spf_monotonic_us() < q->due_us && arm_after(q))
		return;
	/* a drain that cannot be armed: nothing better to do */
	query_complete(q, NULL);
}

spf_dns_query_t *spf_resolver_call_after(spf_resolver_t *res, unsigned ms,
	spf_dns_cb cb, void *arg)
{
	spf_dns_query_t *q = nameless_query(res, cb, arg);

	if (q == NULL)
		return NULL;
	q->timer = evtimer_new(res->base, on_after, q);
	/* measured from now, not from the loop's cached or coarse time */
	q->due_us = spf_monotonic_us() + (uint64_t)ms * 1000u;
	if (q->timer == NULL || !arm_after(q)) {
		query_free(q);
		return NULL;
	}
	list_push(&res->timers, q);
	return q;
}

void spf_dns_query_cancel(spf_dns_query_t *q)
{
	if (q == NULL || q->on == NULL)
		return;   /* NULL, or its callback is running right now */
	if (q->flight != NULL)
		flight_leave(q);
	else
		list_unlink(q);
	query_free(q);
}

bool spf_resolver_answer_at_hand(spf_resolver_t *res, const char *name,
	uint16_t type)
{
	spf_dns_answer_t *ans;

	if (res->opts.offline || res->wire == NULL || spf_zone_has_name(res->zone, name))
		return true;
	if (spf_cache_flight_get(res->cache, name, type) != NULL)
		return true;
	ans = spf_cache_get(res->cache, name, type);
	spf_dns_answer_unref(ans);
	return ans != NULL;
}

/* spf_resolver_cached(), which the evaluator asks for every lookup */
static inline spf_dns_answer_t *cached(spf_resolver_t *res, const char *name,
	uint16_t type)
{
	if (res == NULL || name == NULL || res->destroy_pending || res->opts.offline ||
	    res->wire == NULL || res->cache == NULL || spf_zone_has_name(res->zone, name))
		return NULL;
	return spf_cache_get(res->cache, name, type);
}

spf_dns_answer_t *spf_resolver_cached(spf_resolver_t *res, const char *name,
	uint16_t type)
{
	return cached(res, name, type);
}

spf_dns_answer_t *spf_resolver_take_cached(spf_resolver_t *res, const char *name,
	uint16_t type)
{
	spf_dns_answer_t *ans = cached(res, name, type);

	if (ans != NULL) {
		res->cache_hits++;
		res->nqueries++;
	}
	return ans;
}

unsigned long spf_resolver_queries(const spf_resolver_t *res)
{
	return res->nqueries;
}

void spf_resolver_stats(const spf_resolver_t *res, spf_resolver_stats_t *out)
{
	memset(out, 0, sizeof *out);
	out->queries = res->nqueries;
	out->zone_answers = res->zone_answers;
	out->cache_hits = res->cache_hits;
	out->coalesced = res->coalesced;
	out->wire_queries = res->wire_queries;
	out->cache_evictions = spf_cache_evictions(res->cache);
	out->cache_entries = spf_cache_entries(res->cache);
}

unsigned spf_resolver_set_max_inflight(spf_resolver_t *res, unsigned max_inflight)
{
	res->max_inflight = max_inflight ? max_inflight : SPF_DNS_MAX_INFLIGHT;
	pump(res);
	return res->max_inflight;
}

void spf_resolver_poll(spf_resolver_t *res)
{
	/* nothing can have arrived with no wire query out (and a look at
	 * the loop costs about what a warm evaluation does) */
	if (res->inflight > 0)
		event_base_loop(res->base, EVLOOP_NONBLOCK);
}

void spf_resolver_run_until(spf_resolver_t *res, const bool *done)
{
	while (!*done) {
		/* 1: nothing pending or active; -1: error (or re-entered) */
		if (event_base_loop(res->base, EVLOOP_ONCE) != 0)
			break;
	}
}
