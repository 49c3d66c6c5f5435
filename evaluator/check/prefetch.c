/*
 * prefetch.c - speculative prefetch.
 *
 * DESCRIPTION
 *	Speculation starts lookups before evaluation reaches the terms that
 *	need them; the answers only warm the resolver's cache (or are joined
 *	in flight by the evaluation's own query for the same name and type),
 *	so evaluation still consumes every answer in RFC order and results,
 *	explanations, limits and traces are those of sequential evaluation.
 *
 *	Speculation never sends a query that a sequential evaluation of the
 *	same message could not send, except at most PF_AHEAD_MAX records
 *	fetched ahead of an include that may pass (issue 22: a receiver must
 *	not be turned into a flood of queries against somebody's DNS; no
 *	more queries for names evaluation cannot reach than the void limit
 *	allows).  It walks the records in evaluation order, one term at a
 *	time (a "walk"), and:
 *	 - sends nothing whose name depends on the message: only targets that
 *	   are literal or use no macro but %{d} are fetched (the same name for
 *	   every message checked against the domain, so the cache absorbs
 *	   them); ptr and every other target are not (spf_term_target()
 *	   given nothing of the message);
 *	 - stops at a term that matches without DNS: all, and an ip4/ip6 the
 *	   client is inside (the client is known, so one it is not inside is
 *	   ruled out and the walk goes on past it);
 *	 - waits at an include (or redirect) until the target's record is
 *	   known, and walks it first: the record's later terms are looked at
 *	   only when the included record cannot pass without DNS (its walk
 *	   ended, or stopped at a -all/~all/?all or at a non-pass ip4/ip6); if
 *	   it may pass (+all, a +ip4 the client is inside) or cannot be known
 *	   (no record, several, a syntax error, a DNS error, a target that
 *	   depends on the message), the walk stops there;
 *	 - while it waits there, fetches ahead the records of the later
 *	   include and redirect targets (names constant for the domain only,
 *	   none past a term that matches without DNS or past the tenth
 *	   DNS-querying term): evaluation may never reach them, so at most
 *	   PF_AHEAD_MAX of them (and no more than the void limit) are out
 *	   and not reached by the walk at any time (issue 22: no more
 *	   queries for names evaluation cannot reach than the void limit
 *	   allows); one the walk reaches stops counting (walk_ahead());
 *	 - counts DNS-querying terms as evaluation does and stops at the
 *	   tenth (RFC 7208 §4.6.4);
 *	 - holds before a term while more of the terms before it than the
 *	   void-lookup limit are void or not known to be non-void (pending,
 *	   or never fetched), so a term is fetched only when evaluation cannot
 *	   stop at the void limit before it: speculation sends no query past
 *	   the void limit at all.  MX host addresses are fetched once the MX
 *	   answer is known (at most MAX_MX_NAMES); when void lookups are
 *	   counted per query (SPF_VOID_PER_QUERY) each of them is a lookup
 *	   that may be void too;
 *	 - is cancelled when the job's result is decided or a limit is hit.
 *	An answer already in the cache is read (spf_resolver_cached()), not
 *	asked: a cached include or redirect target is walked at once, with
 *	no wait, and a cached term's answer is counted at once, so the walk
 *	gets through a provider's cached records in one go and costs no
 *	query and no callback for them.
 *
 *	When the walk has stopped or is held while evaluation goes on, each
 *	record evaluation enters restarts it from evaluation's own position
 *	(frames, lookups and void lookups so far).  A record already at hand
 *	when evaluation asks for it (cached) most likely has its terms' answers
 *	cached too: no walk starts there.
 */
#include "job.h"

#include <string.h>
#include <strings.h>

static void walk_run(spf_job_t *job);
static void walk_stop(spf_job_t *job, enum wstate to);
static void on_prefetch(const spf_dns_answer_t *ans, void *arg);

/* Start one speculative query. */
static bool prefetch_query(spf_job_t *job, const char *name, uint16_t type,
	enum pf_kind kind)
{
	struct pf *p;

	/* a safety net: the walk's rules already bound it */
	if (job->pf_queries >= MAX_DNS_TERMS * (1 + MAX_MX_NAMES))
		return false;
	p = spf_arena_alloc(job->arena, sizeof(*p));
	if (p == NULL)
		return false;   /* speculation is optional */
	p->job = job;
	p->type = type;
	p->kind = kind;
	p->gen = job->wgen;
	p->q = spf_resolver_query_sched(job->res, name, type,
		SPF_DNS_SPECULATIVE, job->seq, on_prefetch, p);
	if (p->q == NULL)
		return false;
	job->pf_queries++;
	p->next = job->pfs;
	job->pfs = p;
	return true;
}

static struct sframe *walk_push(spf_job_t *job, struct sframe *parent,
	const char *domain, const spf_record_t *rec, const spf_dns_answer_t *ans)
{
	struct sframe *sf = spf_arena_alloc(job->arena, sizeof(*sf));

	if (sf == NULL)
		return NULL;
	sf->parent = parent;
	sf->domain = domain;
	sf->rec = rec;
	sf->ans = ans != NULL ? spf_dns_answer_ref((spf_dns_answer_t *)ans) : NULL;
	sf->bytes = hold_cost(ans);
	job->held += sf->bytes;
	job->walk = sf;
	return sf;
}

static void walk_pop(spf_job_t *job)
{
	struct sframe *sf = job->walk;

	job->walk = sf->parent;
	spf_dns_answer_unref(sf->ans);
	sf->ans = NULL;
	job->held -= sf->bytes;
	sf->bytes = 0;
}

static void walk_stop(spf_job_t *job, enum wstate to)
{
	while (job->walk != NULL)
		walk_pop(job);
	job->wstate = to;
}

/*
 * The innermost record's walk ended: may_pass says whether its check
 * may have given pass without DNS.  Its include parent goes on only if
 * not; a redirecting parent ends the same way.
 */
static void walk_end(spf_job_t *job, bool may_pass)
{
	for (;;) {
		walk_pop(job);
		if (job->walk == NULL) {
			job->wstate = W_DONE;
			return;
		}
		if (!job->walk->redirected)
			break;
	}
	if (may_pass)
		walk_stop(job, W_OFF);
}

/* Count a DNS-querying term as evaluation would (RFC 7208 §4.6.4):
 * false when evaluation would stop at it (or before). */
static bool walk_count(spf_job_t *job)
{
	if (job->w_terms >= MAX_DNS_TERMS || job->w_voids > job->void_limit) {
		walk_stop(job, W_OFF);
		return false;
	}
	job->w_terms++;
	return true;
}

/* The void lookups a term of query type may spend: one, but counted per
 * query (SPF_VOID_PER_QUERY) an mx term's hosts may each be void too,
 * until its MX answer says how many there are. */
static unsigned mx_weight(const spf_job_t *job, uint16_t type)
{
	return type == SPF_RR_MX && job->void_count == SPF_VOID_PER_QUERY ?
		1 + MAX_MX_NAMES : 1;
}

/* May a term that sends a query be fetched?  Only if evaluation cannot
 * have stopped at the void limit before it. */
static bool walk_may_send(spf_job_t *job)
{
	if (job->w_unsure <= job->void_limit)
		return true;
	job->wstate = W_HELD;
	return false;
}

/* The target of t as speculation may fetch it (spf_term_target() with
 * nothing of the message: the same for every message checked against
 * domain), or NULL when it depends on more or is not a valid name. */
static const char *walk_target(spf_job_t *job, const char *domain,
	const spf_term_t *t)
{
	spf_target_t tg;

	if (spf_term_target(job->arena, t, domain, NULL, &tg, NULL) != SPF_OK ||
	    !tg.valid)
		return NULL;
	return tg.name;
}

static bool record_known(spf_job_t *job, const spf_dns_answer_t *ans);

/* Is the client inside ip4 or ip6 term t? */
static bool client_inside(const spf_job_t *job, const spf_term_t *t)
{
	int cidr = t->mech == SPF_MECH_IP4 ? t->cidr4 : t->cidr6;
	int full = t->mech == SPF_MECH_IP4 ? 32 : 128;

	return t->net.family == job->mctx.ip.family &&
		spf_addr_in_net(&job->mctx.ip, &t->net,
		cidr < 0 ? (unsigned)full : (unsigned)cidr);
}

/* At most this many targets fetched ahead and not reached: PF_AHEAD_MAX,
 * and never more than the void limit. */
static unsigned ahead_cap(const spf_job_t *job)
{
	return job->void_limit < PF_AHEAD_MAX ? job->void_limit : PF_AHEAD_MAX;
}

/* The walk has reached include or redirect target name: evaluation may
 * reach it, so if it was fetched ahead it counts no more. */
static void ahead_reached(spf_job_t *job, const char *name)
{
	for (unsigned i = 0; i < job->n_ahead; i++) {
		if (strcasecmp(job->ahead[i], name) == 0) {
			job->ahead[i] = job->ahead[--job->n_ahead];
			return;
		}
	}
}

/* Fetch the record of name ahead, unless it is at hand already (cached,
 * in flight, in a zone) or fetched ahead before.  False when the cap is
 * reached or the query cannot be started. */
static bool ahead_fetch(spf_job_t *job, const char *name)
{
	for (unsigned i = 0; i < job->n_ahead; i++) {
		if (strcasecmp(job->ahead[i], name) == 0)
			return true;
	}
	if (spf_resolver_answer_at_hand(job->res, name, SPF_RR_TXT))
		return true;   /* no query */
	if (job->n_ahead >= ahead_cap(job) ||
	    !prefetch_query(job, name, SPF_RR_TXT, PF_AHEAD))
		return false;
	job->ahead[job->n_ahead++] = name;
	return true;
}

/*
 * The walk waits for the record of an include (or redirect target) that
 * may pass: fetch ahead the records of the include and redirect targets
 * evaluation reaches next if it does not, in evaluation order (the rest
 * of the innermost record, then of each include ancestor), until
 * ahead_fetch() refuses, a target depends on the message (or is not a
 * valid name), a term matches without DNS (all, an ip4/ip6 the client
 * is inside), or the count of DNS-querying terms known so far passes
 * the tenth.  Terms that are not includes or redirects are only counted.
 */
static void walk_ahead(spf_job_t *job)
{
	unsigned terms = job->w_terms;

	for (const struct sframe *sf = job->walk; sf != NULL; sf = sf->parent) {
		const spf_record_t *rec = sf->rec;
		const char *target;

		if (sf->redirected)
			continue;   /* its outcome is its redirect target's */
		for (size_t i = sf->ti; i < rec->nterms; i++) {
			const spf_term_t *t = &rec->terms[i];

			if (t->is_modifier)
				continue;
			if (t->mech == SPF_MECH_ALL)
				return;
			if (t->mech == SPF_MECH_IP4 || t->mech == SPF_MECH_IP6) {
				if (client_inside(job, t))
					return;
				continue;
			}
			if (++terms > MAX_DNS_TERMS)
				return;
			if (t->mech != SPF_MECH_INCLUDE)
				continue;
			target = walk_target(job, sf->domain, t);
			if (target == NULL || !ahead_fetch(job, target))
				return;
		}
		if (rec->redirect >= 0 && rec->all < 0) {
			if (++terms > MAX_DNS_TERMS)
				return;
			target = walk_target(job, sf->domain, &rec->terms[rec->redirect]);
			if (target == NULL || !ahead_fetch(job, target))
				return;
		}
	}
}

/*
 * Fetch the record of include or redirect t (of the innermost record,
 * sf) and wait for it.  A record in the cache is walked at once, with
 * no query and no wait (the walk stays W_RUN).  False when it cannot be
 * fetched or walked (the walk is then stopped).
 */
static bool walk_fetch_record(spf_job_t *job, struct sframe *sf,
	const spf_term_t *t, bool redirect)
{
	const char *target = walk_target(job, sf->domain, t);
	spf_dns_answer_t *ans;
	bool ok;

	if (target == NULL) {
		walk_stop(job, W_OFF);
		return false;
	}
	ahead_reached(job, target);
	if (redirect)
		sf->redirected = true;
	else
		sf->ti++;
	ans = spf_resolver_cached(job->res, target, SPF_RR_TXT);
	if (ans != NULL) {
		ok = record_known(job, ans);
		spf_dns_answer_unref(ans);
		return ok;
	}
	if (!prefetch_query(job, target, SPF_RR_TXT, PF_RECORD)) {
		walk_stop(job, W_OFF);
		return false;
	}
	job->wstate = W_WAIT;
	walk_ahead(job);
	return true;
}

/* A speculative MX host's address is known (status st): counted per
 * query (SPF_VOID_PER_QUERY) it is a possible void lookup as a term's
 * is, counted in w_unsure while not known. */
static void host_known(spf_job_t *job, spf_dns_status_t st)
{
	if (job->void_count != SPF_VOID_PER_QUERY)
		return;
	if (st == SPF_DNS_OK)
		job->w_unsure--;
	else if (is_void(st))
		job->w_voids++;
}

/* The answer of a term's lookup is known (ans; w_unsure counted the
 * term as not known yet, mx_weight() of it): count it as evaluation
 * will, and fetch the hosts of an MX.  False when evaluation stops at a
 * temperror there (the walk is then stopped). */
static bool term_known(spf_job_t *job, const spf_dns_answer_t *ans)
{
	spf_dns_status_t st = spf_dns_answer_status(ans);
	uint16_t type = spf_dns_answer_type(ans);

	/* the term's own lookup stays "may be void" until it is known */
	job->w_unsure -= mx_weight(job, type) - 1;
	if (is_void(st)) {
		job->w_voids++;
		return true;
	}
	if (st != SPF_DNS_OK) {
		walk_stop(job, W_OFF);
		return false;
	}
	job->w_unsure--;
	if (type == SPF_RR_MX && spf_dns_answer_count(ans) <= MAX_MX_NAMES) {
		uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;

		for (size_t i = 0; i < spf_dns_answer_count(ans); i++) {
			const char *ex = spf_dns_answer_rr(ans, i)->u.mx.exchange;
			spf_dns_answer_t *c;

			if (!spf_name_ok(ex))
				continue;
			if (job->void_count == SPF_VOID_PER_QUERY)
				job->w_unsure++;
			c = spf_resolver_cached(job->res, ex, atype);
			if (c != NULL) {
				/* at hand already */
				host_known(job, spf_dns_answer_status(c));
				spf_dns_answer_unref(c);
			} else {
				prefetch_query(job, ex, atype, PF_HOST);
			}
		}
	}
	return true;
}

/* The record of an include or redirect target is known (ans): walk it
 * next, or stop when evaluation would not get past it without DNS (no
 * record, several, a syntax error, a DNS error).  False if stopped. */
static bool record_known(spf_job_t *job, const spf_dns_answer_t *ans)
{
	spf_selection_t sel;
	spf_record_t *rec = NULL;
	spf_parse_error_t perr;

	spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &sel);
	if (sel.status != SPF_SELECT_ONE ||
	    parse_memo(job, ans, sel.rr, &rec, &perr) != SPF_OK ||
	    walk_push(job, job->walk, spf_dns_answer_name(ans), rec, ans) == NULL) {
		/* none, permerror or temperror ahead */
		walk_stop(job, W_OFF);
		return false;
	}
	job->wstate = W_RUN;
	return true;
}

/* Walk until the walk has to wait, is held, or ends. */
static void walk_run(spf_job_t *job)
{
	uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;

	while (job->wstate == W_RUN && !job->done) {
		struct sframe *sf = job->walk;
		const spf_record_t *rec;
		const spf_term_t *t;
		const char *target;

		if (sf == NULL) {
			/* nothing (left) to walk */
			job->wstate = W_DONE;
			return;
		}
		rec = sf->rec;

		if (sf->ti >= rec->nterms) {
			/* no term matched: redirect (RFC 7208 §6.1) or neutral */
			if (rec->redirect < 0 || rec->all >= 0 || sf->redirected) {
				walk_end(job, false);
				continue;
			}
			t = &rec->terms[rec->redirect];
			if (!walk_may_send(job) || !walk_count(job))
				return;
			walk_fetch_record(job, sf, t, true);
			continue;
		}
		t = &rec->terms[sf->ti];
		if (t->is_modifier) {
			sf->ti++;
			continue;
		}
		switch (t->mech) {
		case SPF_MECH_ALL:
			walk_end(job, t->qualifier == '+');
			continue;
		case SPF_MECH_IP4:
		case SPF_MECH_IP6:
			if (client_inside(job, t)) {
				walk_end(job, t->qualifier == '+');
				continue;
			}
			sf->ti++;   /* ruled out: the client is not inside */
			continue;
		case SPF_MECH_PTR:
			/* never fetched; its lookup may be void */
			if (!walk_count(job))
				return;
			job->w_unsure++;
			sf->ti++;
			continue;
		case SPF_MECH_INCLUDE:
			if (!walk_may_send(job) || !walk_count(job))
				return;
			walk_fetch_record(job, sf, t, false);
			continue;
		default: {
			/* a, mx, exists */
			uint16_t type = t->mech == SPF_MECH_MX ? SPF_RR_MX :
				t->mech == SPF_MECH_A ? atype : SPF_RR_A;

			target = walk_target(job, sf->domain, t);
			if (target != NULL && !walk_may_send(job))
				return;
			if (!walk_count(job))
				return;
			job->w_unsure += mx_weight(job, type);
			sf->ti++;
			if (target != NULL) {
				spf_dns_answer_t *ans = spf_resolver_cached(job->res,
					target, type);

				if (ans == NULL) {
					prefetch_query(job, target, type, PF_TERM);
				} else {
					term_known(job, ans);
					spf_dns_answer_unref(ans);
				}
			}
			continue;
		}
		}
	}
}

/* Restart the walk at evaluation's position: frame f has just been
 * parsed, its ancestors wait at the include (or redirect) that led to
 * it, and the counts are evaluation's own. */
void walk_sync(spf_job_t *job, struct frame *f)
{
	struct sframe *below = NULL;

	if (!job->prefetch || job->past_limit || job->scope != SPF_SCOPE_RFC7208 ||
	    job->wstate == W_RUN || job->wstate == W_WAIT || job->wstate == W_DONE)
		return;
	walk_stop(job, W_OFF);
	job->wgen++;
	/* build the chain from f up, then link it root first */
	for (struct frame *g = f; g != NULL; g = g->parent) {
		struct sframe *sf = spf_arena_alloc(job->arena, sizeof(*sf));

		if (sf == NULL || g->rec == NULL) {
			for (; below != NULL; below = below->parent) {
				spf_dns_answer_unref(below->ans);
				job->held -= below->bytes;
			}
			return;
		}
		sf->domain = g->domain;
		sf->rec = g->rec;
		sf->ans = g->txt != NULL && g->txt->ans != NULL ?
			spf_dns_answer_ref(g->txt->ans) : NULL;
		sf->bytes = hold_cost(sf->ans);
		job->held += sf->bytes;
		sf->ti = g == f ? 0 : g->ti + 1;
		sf->redirected = g != f && g->state == F_REDIRECTED;
		sf->parent = below;   /* reversed below */
		below = sf;
	}
	{
		/* below is now the root's sframe with parent pointers running
		 * down to f's: reverse them */
		struct sframe *prev = NULL, *cur = below;

		while (cur != NULL) {
			struct sframe *next = cur->parent;

			cur->parent = prev;
			prev = cur;
			cur = next;
		}
		job->walk = prev;
	}
	job->w_terms = job->lookups;
	job->w_unsure = job->voids;
	job->w_voids = job->voids;
	job->wstate = W_RUN;
	walk_run(job);
}

/* The result is decided or a limit is hit: speculation that has not
 * come back is of no use any more (a query still waiting for a slot is
 * never sent). */
void prefetch_cancel(spf_job_t *job, enum wstate to)
{
	for (struct pf *p = job->pfs; p != NULL; p = p->next) {
		spf_dns_query_cancel(p->q);
		p->q = NULL;
	}
	walk_stop(job, to);
}

static void on_prefetch(const spf_dns_answer_t *ans, void *arg)
{
	struct pf *p = arg;
	spf_job_t *job = p->job;

	p->q = NULL;
	if (job->done || p->gen != job->wgen)
		return;   /* of no use any more */
	switch (p->kind) {
	case PF_HOST:
		if (job->void_count != SPF_VOID_PER_QUERY)
			return;
		host_known(job, spf_dns_answer_status(ans));
		break;
	case PF_TERM:
		if (!term_known(job, ans))
			return;
		break;
	case PF_AHEAD:
		return;   /* it only warms the cache */
	case PF_RECORD:
		if (job->wstate != W_WAIT)
			return;
		if (record_known(job, ans))
			walk_run(job);
		return;
	}
	if (job->wstate == W_HELD) {
		job->wstate = W_RUN;
		walk_run(job);
	}
}
