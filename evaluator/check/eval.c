/*
 * eval.c - RFC 7208 check_host() as a non-blocking state machine.
 *
 * DESCRIPTION
 *	A job evaluates one identity.  It holds a stack of frames: the frame
 *	of the starting domain, and one more for each include or redirect
 *	being evaluated.  job_run() loops over the innermost frame's state
 *	until the job has to wait for DNS answers; the resolver's callbacks
 *	resume it once every answer it waits for has arrived.  Nothing
 *	recurses on data from the network: include and redirect push a frame
 *	and pop it when the included check_host() has a result.
 *
 *	Every step is appended to the job's trace tree; every allocation is
 *	in the job's arena.  This file holds the states and their order;
 *	the job's other concerns live beside it (job.h lists them): the
 *	lookups (query.c), which record applies (select.c, as for lint),
 *	target names (target.c), parsed records (memo.c), speculative
 *	prefetch (prefetch.c), the trace (trace.c) and the memory budget
 *	(budget.c).
 *
 *	Limits (RFC 7208 §4.6.4): 10 DNS-querying terms (include, a, mx, ptr,
 *	exists, redirect) per job, counted when a term is evaluated; the void
 *	lookup limit (default 2), counted per term whose lookup returned
 *	NXDOMAIN or no records; at most 10 MX names (more is permerror); at
 *	most the first 10 PTR names are validated.  As a safety net, frames
 *	are also limited in depth (the 10-term limit already bounds them).
 *
 * DIAGNOSTICS
 *	Every permerror and temperror carries a problem text naming the
 *	domain and the term.  Allocation failure ends the job with temperror
 *	and the problem "out of memory".
 */
#include "job.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- frames ---- */

static struct frame *push_frame(spf_job_t *job, struct frame *parent,
	enum role role, const char *domain, spf_trace_t *under)
{
	static const char *const roles[] = { "check", "include", "redirect" };
	struct frame *f = spf_arena_alloc(job->arena, sizeof(*f));

	if (f == NULL) {
		job->oom = true;
		return NULL;
	}
	f->parent = parent;
	f->role = role;
	f->domain = domain;
	f->depth = parent ? parent->depth + 1 : 0;
	f->state = F_FETCH;
	f->node = trace_add(job, under, SPF_TRACE_CHECK, domain);
	if (f->node != NULL) {
		f->node->role = roles[role];
		f->node->beyond_limit = job->past_limit;
	}
	job->top = f;
	return f;
}

static void set_problem(spf_job_t *job, const char *text)
{
	if (job->problem == NULL)
		job->problem = text;
}

/* The frame f has its result; pop it. */
static void frame_finish(spf_job_t *job, struct frame *f, spf_result_t r,
	const char *problem)
{
	f->result = r;
	/* a lazy full trace: the run walked last, then the terms not
	 * reached, each as one node (trace_run() does nothing for any
	 * other trace: not called) */
	if (f->lazy && !job->lean) {
		trace_run(job, f, f->ti, SPF_TERM_NO_MATCH);
		if (f->rec != NULL)
			trace_run(job, f, f->rec->nterms, SPF_TERM_NOT_REACHED);
	}
	if (problem != NULL) {
		set_problem(job, problem);
		trace_note(job, f->node, problem);
	}
	if (f->node != NULL) {
		f->node->result = r;
		f->node->lookups = job->lookups;
		f->node->voids = job->voids;
	}
	job->top = f->parent;
}

static const char *frame_term_problem(spf_job_t *job, struct frame *f,
	const spf_term_t *t, const char *what)
{
	return spf_arena_printf(job->arena, "%s: '%s' in the record of %s: %s",
		"error", t->text, f->domain, what);
}

/* ---- limits (RFC 7208 §4.6.4) and loops ---- */

/*
 * A limit was exceeded with problem text.  Normally evaluation stops
 * (false).  With trace_past_limits it goes on for the trace, up to
 * PAST_LIMIT_TERMS terms, and the first problem stays the result's.
 */
static bool past_limit(spf_job_t *job, struct frame *f, const spf_term_t *t,
	const char **problem)
{
	if (job->trace_past && job->lookups <= PAST_LIMIT_TERMS &&
	    job->voids <= job->void_limit + PAST_LIMIT_TERMS) {
		if (!job->past_limit) {
			/* as without trace_past_limits: an error inside an
			 * include is the include term's error in its parent */
			job->past_limit = true;
			job->limit_problem = *problem;
			prefetch_cancel(job, W_DONE);
			job->limit_lookups = job->lookups;
			job->limit_voids = job->voids;
			trace_note(job, f->node, *problem);
			job->limit_check = f->node;
			for (;;) {
				size_t idx = (size_t)(t - f->rec->terms);

				if (idx < f->rec->nterms && job->nlimit_nodes <= MAX_FRAMES)
					job->limit_nodes[job->nlimit_nodes++] = term_node_peek(f, idx);
				if (f->role != ROLE_INCLUDE || f->parent == NULL)
					break;
				f = f->parent;
				t = &f->rec->terms[f->ti];
			}
			job->limit_frame = f;
			job->limit_term = t;
		}
		return true;
	}
	if (job->past_limit)
		*problem = job->limit_problem;
	return false;
}

/* Count a DNS-querying term (RFC 7208 §4.6.4); false if over the limit. */
static bool count_lookup(spf_job_t *job, struct frame *f, const spf_term_t *t,
	const char **problem)
{
	if (++job->lookups > MAX_DNS_TERMS) {
		*problem = spf_arena_printf(job->arena,
			"too many DNS-querying terms: '%s' in the record of %s is number %u, "
			"the limit is %d (RFC 7208 §4.6.4)",
			t->text, f->domain, job->lookups, MAX_DNS_TERMS);
		return past_limit(job, f, t, problem);
	}
	return true;
}

/* Count a void lookup; false if over the limit. */
static bool count_void(spf_job_t *job, struct frame *f, const spf_term_t *t,
	const char **problem)
{
	if (++job->voids > job->void_limit) {
		*problem = spf_arena_printf(job->arena,
			"too many void lookups: '%s' in the record of %s is void lookup number %u, "
			"the limit is %u (RFC 7208 §4.6.4)",
			t->text, f->domain, job->voids, job->void_limit);
		return past_limit(job, f, t, problem);
	}
	return true;
}

/* SPF_VOID_PER_QUERY: the address query of MX host s got no answer and
 * counts as a void lookup, as pyspf and Mail::SPF count it; false if
 * over the limit. */
static bool count_host_void(spf_job_t *job, struct frame *f, const spf_term_t *t,
	spf_trace_t *node, const struct slot *s, const char **problem)
{
	++job->voids;
	if (!job->lean)
		trace_note(job, node, spf_arena_printf(job->arena,
			"void lookup %u/%u: %s %s has no answer (counted per query: "
			"--void-count per-query)", job->voids, job->void_limit,
			spf_rrtype_str(s->type), s->name));
	if (job->voids > job->void_limit) {
		*problem = spf_arena_printf(job->arena,
			"too many void lookups: '%s' in the record of %s: MX host %s has no %s "
			"record, void lookup number %u counted per query, the limit is %u",
			t->text, f->domain, s->name, spf_rrtype_str(s->type), job->voids,
			job->void_limit);
		return past_limit(job, f, t, problem);
	}
	return true;
}

const char *spf_loop_text(spf_arena_t *arena, const spf_term_t *t,
	const char *target, const char *domain)
{
	return spf_arena_printf(arena, "%s loop: %s is already being evaluated (%s%s%s)",
		t->is_modifier ? "redirect" : "include", target, t->text,
		domain ? " in the record of " : "", domain ? domain : "");
}

/*
 * The include or redirect t of frame f is about to follow f->target.
 * When that domain is already being evaluated on the way up, it is a
 * loop: nothing ends it but the lookup limit (RFC 7208 §4.6.4).  Before
 * the limit it is followed like any target, as every evaluator does,
 * and the first loop of the job is named in the trace.  Past the limit
 * (trace_past_limits) it is not followed: false, with the problem.
 */
static bool follow_target(spf_job_t *job, struct frame *f, const spf_term_t *t,
	spf_trace_t *node, const char **problem)
{
	const struct frame *p = f;
	const char *loop;
	size_t len = strlen(f->target);

	/* spf_streq_nocase() with the target's length counted once */
	while (p != NULL && !(strlen(p->domain) == len &&
	    spf_strncaseeq(p->domain, f->target, len)))
		p = p->parent;
	if (p == NULL || (!job->past_limit && job->loop_noted))
		return true;
	loop = spf_loop_text(job->arena, t, f->target, f->domain);
	if (job->past_limit) {
		*problem = spf_arena_printf(job->arena,
			"%s; not followed past the limit", loop ? loop : "loop");
		if (node != NULL)
			node->detail = *problem;
		return false;
	}
	job->loop_noted = true;
	trace_note(job, node, spf_arena_printf(job->arena,
		"%s; it goes round until the lookup limit ends it (RFC 7208 §4.6.4)",
		loop ? loop : "loop"));
	return true;
}

/* ---- mechanisms (RFC 7208 §5) ---- */

/* Evaluate one mechanism.  Re-entered at f->step after each wait. */
static enum tres eval_mech(spf_job_t *job, struct frame *f, const spf_term_t *t,
	spf_trace_t *node, const char **problem)
{
	uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;
	enum tres r;

	switch (t->mech) {
	case SPF_MECH_ALL:
		return T_MATCH;
	case SPF_MECH_IP4:
	case SPF_MECH_IP6: {
		int cidr = t->mech == SPF_MECH_IP4 ? t->cidr4 : t->cidr6;
		int full = t->mech == SPF_MECH_IP4 ? 32 : 128;

		if (t->net.family != job->mctx.ip.family)
			return T_NOMATCH;
		return spf_addr_in_net(&job->mctx.ip, &t->net,
			cidr < 0 ? (unsigned)full : (unsigned)cidr) ? T_MATCH : T_NOMATCH;
	}
	default:
		break;
	}

	/* DNS-querying mechanisms */
	if (f->step == TS_COUNT) {
		if (!count_lookup(job, f, t, problem))
			return T_PERMERROR;
		f->step = TS_TARGET;
	}
	if (f->step == TS_TARGET) {
		r = term_target(job, f, t, node, problem);
		if (r != T_MATCH)
			return r;
		f->step = TS_ANSWERED;
		if (t->mech == SPF_MECH_INCLUDE) {
			if (f->target == NULL) {
				*problem = frame_term_problem(job, f, t,
					"the include target is not a valid domain name");
				return T_PERMERROR;
			}
			if (f->depth + 1 >= MAX_FRAMES) {
				*problem = frame_term_problem(job, f, t, "include nesting too deep");
				return T_PERMERROR;
			}
			if (!follow_target(job, f, t, node, problem))
				return T_PERMERROR;
			f->child = push_frame(job, f, ROLE_INCLUDE, f->target, node);
			return f->child ? T_PUSHED : T_TEMPERROR;
		}
		if (t->mech == SPF_MECH_PTR)
			f->step = TS_PTR_NAMES;
		else if (f->target == NULL)
			return T_NOMATCH;     /* invalid name: no such domain */
		else if (t->mech == SPF_MECH_EXISTS)   /* §5.7: always A */
			f->main = ask_match(job, node, f->target, SPF_RR_A, -1, -1);
		else if (t->mech == SPF_MECH_MX)
			f->main = ask(job, node, f->target, SPF_RR_MX);
		else
			f->main = ask_match(job, node, f->target, atype, t->cidr4, t->cidr6);
		if (f->step == TS_ANSWERED)
			return T_WAIT;
	}

	switch (t->mech) {
	case SPF_MECH_INCLUDE: {
		/* TS_ANSWERED: the included check_host() returned (RFC 7208 §5.2) */
		spf_result_t cr = f->child->result;

		switch (cr) {
		case SPF_RESULT_PASS:
			return T_MATCH;
		case SPF_RESULT_FAIL:
		case SPF_RESULT_SOFTFAIL:
		case SPF_RESULT_NEUTRAL:
			return T_NOMATCH;
		case SPF_RESULT_TEMPERROR:
			return T_TEMPERROR;
		case SPF_RESULT_NONE:
			*problem = spf_arena_printf(job->arena,
				"'%s' in the record of %s: %s has no SPF record (include of a domain without a record is permerror, RFC 7208 §5.2)",
				t->text, f->domain, f->child->domain);
			return T_PERMERROR;
		default:
			return T_PERMERROR;
		}
	}
	case SPF_MECH_A:
	case SPF_MECH_EXISTS: {
		spf_dns_status_t st = slot_status(f->main);

		if (st == SPF_DNS_OK) {
			if (t->mech == SPF_MECH_EXISTS)
				return T_MATCH;
			return f->main->matched ? T_MATCH : T_NOMATCH;
		}
		if (is_void(st))
			return count_void(job, f, t, problem) ? T_NOMATCH : T_PERMERROR;
		*problem = spf_arena_printf(job->arena, "'%s' in the record of %s: %s",
			t->text, f->domain, slot_why(job, f->main));
		return T_TEMPERROR;
	}
	case SPF_MECH_MX: {
		if (f->step == TS_ANSWERED) {
			spf_dns_status_t st = slot_status(f->main);
			size_t n;

			if (is_void(st))
				return count_void(job, f, t, problem) ? T_NOMATCH : T_PERMERROR;
			if (st != SPF_DNS_OK) {
				*problem = spf_arena_printf(job->arena,
					"'%s' in the record of %s: %s", t->text, f->domain,
					slot_why(job, f->main));
				return T_TEMPERROR;
			}
			n = spf_dns_answer_count(f->main->ans);
			if (n > MAX_MX_NAMES) {
				*problem = spf_arena_printf(job->arena,
					"'%s' in the record of %s: %s has %zu MX names, the limit is %d (RFC 7208 §4.6.4)",
					t->text, f->domain, f->target, n, MAX_MX_NAMES);
				slot_release(job, f->main);
				return T_PERMERROR;
			}
			f->nhosts = 0;
			for (size_t i = 0; i < n; i++) {
				const char *ex = spf_dns_answer_rr(f->main->ans, i)->u.mx.exchange;

				/* a null MX (RFC 7505) or a bad name has no addresses */
				if (!spf_name_ok(ex))
					continue;
				ex = spf_arena_strdup(job->arena, ex);
				if (ex == NULL) {
					job->oom = true;
					break;
				}
				f->hosts[f->nhosts++] = ask_match(job, node, ex, atype,
					t->cidr4, t->cidr6);
			}
			slot_release(job, f->main);   /* the names are copied */
			f->step = TS_MX_HOSTS;
			if (f->nhosts > 0)
				return T_WAIT;
		}
		/* every host's address query, as pyspf looks them all up
		 * before it matches; void ones are void lookups only when
		 * counted per query */
		if (f->step == TS_MX_HOSTS) {
			f->step = TS_MX_COUNTED;
			for (size_t i = 0; i < f->nhosts; i++) {
				if (f->hosts[i] == NULL || !is_void(slot_status(f->hosts[i])))
					continue;
				job->host_voids++;
				if (job->void_count == SPF_VOID_PER_QUERY &&
				    !count_host_void(job, f, t, node, f->hosts[i], problem))
					return T_PERMERROR;
			}
		}
		for (size_t i = 0; i < f->nhosts; i++) {
			spf_dns_status_t st = slot_status(f->hosts[i]);

			if (st == SPF_DNS_OK && f->hosts[i]->matched)
				return T_MATCH;
			if (st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY) {
				*problem = spf_arena_printf(job->arena,
					"'%s' in the record of %s: %s", t->text, f->domain,
					slot_why(job, f->hosts[i]));
				return T_TEMPERROR;
			}
		}
		return T_NOMATCH;
	}
	case SPF_MECH_PTR: {
		/* TS_PTR_NAMES: validated names (RFC 7208 §5.5) */
		const char *target = f->target;

		if (!ptr_names(job, node))
			return T_WAIT;
		if (is_void(job->ptr_status) && f->step == TS_PTR_NAMES) {
			f->step = TS_PTR_COUNTED;
			if (!count_void(job, f, t, problem))
				return T_PERMERROR;
		}
		if (target == NULL)
			return T_NOMATCH;
		for (size_t i = 0; i < job->nptr_valid; i++)
			if (name_under(job->ptr_valid[i], target))
				return T_MATCH;
		return T_NOMATCH;
	}
	default:
		return T_NOMATCH;
	}
}

/* ---- the states of a frame ---- */

static void st_fetch(spf_job_t *job, struct frame *f)
{
	bool at_hand = false;

	/* a record already at hand (cached) most likely has its terms'
	 * answers cached too: no speculation for it */
	f->txt = job->prefetch ? ask_at_hand(job, f->node, f->domain, SPF_RR_TXT, &at_hand) :
		ask(job, f->node, f->domain, SPF_RR_TXT);
	f->warm = at_hand;
	if (f->txt != NULL)
		f->txt->record = true;
	if (job->scope != SPF_SCOPE_RFC7208 && job->spf99) {
		f->spf99 = ask(job, f->node, f->domain, SPF_RR_SPF);
		if (f->spf99 != NULL)
			f->spf99->record = true;
	}
	f->state = F_SELECT;
}

/*
 * RFC 7208 §4.4 / §4.5, or RFC 4406 §4.4 (SPECS A.3) for a Sender ID
 * scope: the one record spf_record_select() chooses.  Returns it, or
 * NULL when the frame is finished (temperror, none, permerror), each
 * worded here for the trace and the problem text.
 */
static const spf_dns_rr_t *select_record(spf_job_t *job, struct frame *f)
{
	bool scoped = job->scope != SPF_SCOPE_RFC7208;
	spf_selection_t sel;
	const char *scope;

	/* a record parsed before (a cached answer) kept its selection */
	if (scoped || f->txt == NULL || !memo_select_spf1(f->txt->ans, &sel))
		spf_record_select(f->txt != NULL ? f->txt->ans : NULL,
			f->spf99 != NULL ? f->spf99->ans : NULL, job->scope,
			job->v1_for_pra, &sel);
	if (sel.status == SPF_SELECT_DNS_ERROR) {
		frame_finish(job, f, SPF_RESULT_TEMPERROR, spf_arena_printf(job->arena,
			"looking up the %s record of %s: %s", scoped ? "Sender ID" : "SPF",
			f->domain, slot_why(job, sel.failed == SPF_RR_SPF ? f->spf99 : f->txt)));
		return NULL;
	}
	if (sel.used_spf99)
		trace_note(job, f->node,
			"type SPF (99) records exist: the TXT records are ignored (RFC 4406 §4.4)");
	if (f->node != NULL)
		f->node->records = (unsigned)sel.ncand;
	if (sel.status == SPF_SELECT_ONE)
		return sel.rr;
	scope = job->scope == SPF_SCOPE_PRA ? "pra" : "mfrom";
	if (sel.status == SPF_SELECT_NONE) {
		const char *why = NULL;

		if (f->role == ROLE_CHECK && !scoped)
			why = spf_arena_printf(job->arena, "%s has no SPF record", f->domain);
		else if (f->role == ROLE_CHECK)
			why = spf_arena_printf(job->arena, "%s has no SPF record for scope %s%s",
				f->domain, scope, job->scope == SPF_SCOPE_PRA && !job->v1_for_pra ?
				" (spf2.0 records only: v=spf1 is not used for pra)" : "");
		frame_finish(job, f, SPF_RESULT_NONE, why);
		return NULL;
	}
	/* SPF_SELECT_MANY */
	frame_finish(job, f, SPF_RESULT_PERMERROR, scoped ?
		spf_arena_printf(job->arena,
			"%s publishes %zu %s records for scope %s%s; exactly one is allowed (RFC 4406 §4.4)",
			f->domain, sel.ncand, sel.version == 2 ? "spf2.x" : "v=spf1", scope,
			sel.used_spf99 ? " in type SPF (99)" : "") :
		spf_arena_printf(job->arena,
			"%s publishes %zu v=spf1 records; exactly one is allowed (RFC 7208 §4.5)",
			f->domain, sel.ncand));
	return NULL;
}

/* Select the record (select_record()) and parse it. */
static void st_select(spf_job_t *job, struct frame *f)
{
	const spf_dns_rr_t *found = select_record(job, f);
	spf_parse_error_t perr = { 0 };
	spf_status_t ps;
	spf_trace_t *rnode;

	if (found == NULL)
		return;
	/* parsed first: the record's label is then made in the memo */
	ps = job->scope != SPF_SCOPE_RFC7208 ?
		spf_record_parse_version(job->arena, found->u.txt.data, found->u.txt.len,
			&f->rec, &perr) :
		parse_memo(job, f->txt->ans, found, &f->rec, &perr);
	rnode = job->notrace ? NULL : trace_add(job, f->node, SPF_TRACE_RECORD,
		record_label(job, f->txt->ans, found));
	slot_recount(job, f->txt);   /* the parsed record (and label) is held too */
	if (rnode != NULL) {
		rnode->ttl = found->ttl;
		rnode->raw = found->u.txt.data;
		rnode->raw_len = found->u.txt.len;
	}
	if (rnode != NULL && job->scope != SPF_SCOPE_RFC7208)
		rnode->detail = spf_arena_printf(job->arena, "%s record for Sender ID scope %s",
			spf_rrtype_str(found->type), job->scope == SPF_SCOPE_PRA ? "pra" : "mfrom");
	if (ps == SPF_ENOMEM) {
		job->oom = true;
		return;
	}
	if (ps != SPF_OK) {
		frame_finish(job, f, SPF_RESULT_PERMERROR, spf_arena_printf(job->arena,
			"syntax error in the record of %s at byte %zu: %s",
			f->domain, perr.offset, perr.message ? perr.message : "invalid record"));
		return;
	}
	f->lazy = job->lean || f->rec->nterms > TRACE_TERMS_MAX;
	if (!f->lazy) {
		f->term_nodes = spf_arena_alloc(job->arena,
			(f->rec->nterms + 1) * sizeof(*f->term_nodes));
		if (f->term_nodes == NULL) {
			job->oom = true;
			return;
		}
		for (size_t i = 0; i < f->rec->nterms; i++)
			f->term_nodes[i] = term_node_add(job, f, i);
	}
	if (!f->warm)
		walk_sync(job, f);
	f->ti = 0;
	f->step = TS_COUNT;
	f->state = F_TERM;
}

static void decide(spf_job_t *job, struct frame *f, size_t ti, spf_result_t r)
{
	spf_trace_t *node;

	f->decider = f;
	f->decisive = &f->rec->terms[ti];
	node = term_node(job, f, ti);
	if (node != NULL && !job->past_limit)
		node->decisive = true;
	frame_finish(job, f, r, NULL);
}

/* Terms walked without a lookup and without a node of their own in a
 * lazy trace: ip4, ip6 and the modifiers other than redirect. */
static bool walkable(const spf_term_t *t)
{
	if (t->is_modifier)
		return t->mod != SPF_MOD_REDIRECT;
	return t->mech == SPF_MECH_IP4 || t->mech == SPF_MECH_IP6;
}

/* Does the client ip (its IPv4 address as a number in ip4) lie in the
 * network of the ip4/ip6 term t?  One comparison for IPv4. */
static bool net_match(const spf_addr_t *ip, uint32_t ip4, const spf_term_t *t)
{
	if (t->net.family != ip->family)
		return false;
	if (ip->family == 4) {
		unsigned prefix = t->cidr4 < 0 ? 32 : (unsigned)t->cidr4;
		const uint8_t *n = t->net.addr;
		uint32_t net = (uint32_t)n[0] << 24 | (uint32_t)n[1] << 16 |
			(uint32_t)n[2] << 8 | n[3];

		return prefix == 0 || ((ip4 ^ net) >> (32 - prefix)) == 0;
	}
	return spf_addr_in_net(ip, &t->net, t->cidr6 < 0 ? 128 : (unsigned)t->cidr6);
}

/*
 * Walk the ip4/ip6 terms and modifiers from f->ti on, straight from the
 * shared parsed record, up to the first term that matches or is not
 * walkable (RFC 7208 §5.6: a match is one comparison with the client).
 * Nothing is allocated or formatted for the terms that do not match,
 * unless every term has its node (a full trace of a small record).
 */
static void walk(spf_job_t *job, struct frame *f)
{
	const spf_record_t *rec = f->rec;
	const spf_addr_t *ip = &job->mctx.ip;
	const uint8_t *a = ip->addr;
	uint32_t ip4 = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		(uint32_t)a[2] << 8 | a[3];
	size_t i;

	for (i = f->ti; i < rec->nterms; i++) {
		const spf_term_t *t = &rec->terms[i];
		spf_trace_t *node;

		if (!walkable(t))
			break;
		if (!t->is_modifier && net_match(ip, ip4, t))
			break;
		if (f->lazy)
			continue;
		node = f->term_nodes[i];
		if (node == NULL)
			continue;
		if (t->is_modifier) {
			node->outcome = SPF_TERM_SKIPPED;
			continue;
		}
		node->outcome = SPF_TERM_NO_MATCH;
		node->lookups = job->lookups;
		node->voids = job->voids;
		node->beyond_limit = job->past_limit;
	}
	f->ti = i;
	f->step = TS_COUNT;
}

static void st_term(spf_job_t *job, struct frame *f)
{
	const spf_term_t *t;
	spf_trace_t *node;
	const char *problem = NULL;
	enum tres r;

	if (f->ti >= f->rec->nterms) {
		f->state = F_AFTER;
		return;
	}
	t = &f->rec->terms[f->ti];
	if (f->step == TS_COUNT && walkable(t)) {
		walk(job, f);
		if (f->ti >= f->rec->nterms || !walkable(&f->rec->terms[f->ti]))
			return;
		/* an ip4/ip6 term matched */
		t = &f->rec->terms[f->ti];
	}
	node = term_node(job, f, f->ti);
	if (t->is_modifier) {
		/* redirect=, used only after the last mechanism (st_after) */
		if (node != NULL)
			node->outcome = SPF_TERM_SKIPPED;
		f->ti++;
		return;
	}
	r = eval_mech(job, f, t, node, &problem);
	if (r == T_WAIT || r == T_PUSHED)
		return;
	if (node != NULL) {
		node->lookups = job->lookups;
		node->voids = job->voids;
		node->beyond_limit = job->past_limit;
	}
	switch (r) {
	case T_MATCH:
		if (node != NULL)
			node->outcome = SPF_TERM_MATCH;
		decide(job, f, f->ti, spf_qualifier_result(t->qualifier));
		return;
	case T_NOMATCH:
		if (node != NULL)
			node->outcome = SPF_TERM_NO_MATCH;
		f->ti++;
		f->step = TS_COUNT;
		return;
	case T_TEMPERROR:
	case T_PERMERROR:
	default:
		if (node != NULL)
			node->outcome = SPF_TERM_ERROR;
		f->decider = f;
		f->decisive = t;
		frame_finish(job, f, r == T_TEMPERROR ? SPF_RESULT_TEMPERROR :
			SPF_RESULT_PERMERROR, problem);
		return;
	}
}

/* No mechanism matched: redirect (RFC 7208 §6.1) or neutral (§4.7). */
static void st_after(spf_job_t *job, struct frame *f)
{
	const spf_term_t *t;
	spf_trace_t *node;
	const char *problem = NULL;
	enum tres r;

	if (f->rec->redirect < 0 || f->rec->all >= 0) {
		node = f->rec->redirect >= 0 ?
			term_node_peek(f, (size_t)f->rec->redirect) : NULL;
		if (node != NULL)
			node->detail = "ignored: the record contains \"all\" (RFC 7208 §6.1)";
		f->decider = f;
		f->decisive = NULL;
		frame_finish(job, f, SPF_RESULT_NEUTRAL, NULL);
		return;
	}
	t = &f->rec->terms[f->rec->redirect];
	node = term_node(job, f, (size_t)f->rec->redirect);
	if (f->step == TS_COUNT) {
		if (!count_lookup(job, f, t, &problem))
			goto error;
		f->step = TS_TARGET;
	}
	r = term_target(job, f, t, node, &problem);
	if (r == T_WAIT)
		return;
	if (r != T_MATCH)
		goto error;
	if (f->target == NULL) {
		problem = frame_term_problem(job, f, t,
			"the redirect target is not a valid domain name");
		goto error;
	}
	if (f->depth + 1 >= MAX_FRAMES) {
		problem = frame_term_problem(job, f, t, "redirect nesting too deep");
		goto error;
	}
	if (!follow_target(job, f, t, node, &problem))
		goto error;
	if (node != NULL) {
		node->outcome = SPF_TERM_MATCH;
		node->lookups = job->lookups;
		node->voids = job->voids;
	}
	f->state = F_REDIRECTED;
	f->child = push_frame(job, f, ROLE_REDIRECT, f->target, node);
	return;
error:
	if (node != NULL)
		node->outcome = SPF_TERM_ERROR;
	f->decider = f;
	f->decisive = t;
	frame_finish(job, f, SPF_RESULT_PERMERROR, problem);
}

static void st_redirected(spf_job_t *job, struct frame *f)
{
	struct frame *c = f->child;

	if (c->result == SPF_RESULT_NONE) {
		/* RFC 7208 §6.1: a target without a record is permerror */
		f->decider = f;
		f->decisive = &f->rec->terms[f->rec->redirect];
		frame_finish(job, f, SPF_RESULT_PERMERROR, spf_arena_printf(job->arena,
			"'%s' in the record of %s: %s has no SPF record (RFC 7208 §6.1)",
			f->decisive->text, f->domain, c->domain));
		return;
	}
	f->decider = c->decider;
	f->decisive = c->decisive;
	frame_finish(job, f, c->result, NULL);
}

/* ---- explanation (RFC 7208 §6.2) ---- */

/*
 * The state after the root frame's result is fail: the explanation, the
 * default one (expanded) until exp= gives one.  Returns true when the
 * explanation is settled, false to wait.
 */
static bool st_explain(spf_job_t *job)
{
	struct frame *d;
	const spf_term_t *t;
	spf_target_t tg;
	enum tres r;

	if (job->exp_frame == NULL)
		job->exp_frame = job->root->decider;
	d = job->exp_frame;
	if (job->explanation == NULL) {
		const char *dflt = job->default_exp;

		job->explanation = expand_text(job, d ? d : job->root, dflt, strlen(dflt));
		if (job->explanation == NULL)
			job->explanation = dflt;
	}
	if (job->exp_step == EXP_TARGET) {
		if (d == NULL || d->rec == NULL || d->rec->exp < 0)
			return true;
		t = &d->rec->terms[d->rec->exp];
		r = job_target(job, d->domain, t, job->trace, &tg, NULL);
		if (r == T_WAIT)
			return false;
		if (r != T_MATCH || !tg.valid) {
			job->exp_step = EXP_DONE;
			return true;
		}
		job->exp_slot = ask(job, trace_add(job, job->trace, SPF_TRACE_EXP,
			spf_arena_printf(job->arena, "exp=%s", tg.name)),
			tg.name, SPF_RR_TXT);
		job->exp_step = EXP_TXT;
		return false;
	}
	if (job->exp_step == EXP_TXT) {
		const spf_dns_rr_t *rr;
		const char *text;

		job->exp_step = EXP_DONE;
		/* anything but exactly one TXT record: use the default */
		if (slot_status(job->exp_slot) != SPF_DNS_OK ||
		    spf_dns_answer_count(job->exp_slot->ans) != 1)
			return true;
		rr = spf_dns_answer_rr(job->exp_slot->ans, 0);
		for (size_t i = 0; i < rr->u.txt.len; i++)
			if (rr->u.txt.data[i] < 0x20 || rr->u.txt.data[i] > 0x7e)
				return true;   /* must be printable US-ASCII */
		if (!spf_macro_check((const char *)rr->u.txt.data, rr->u.txt.len,
		    SPF_MACRO_EXP, NULL, NULL))
			return true;
		if (spf_macro_uses_ptr((const char *)rr->u.txt.data, rr->u.txt.len)) {
			job->exp_step = EXP_PTR;
			if (!ptr_names(job, job->trace))
				return false;
		}
		text = expand_text(job, d, (const char *)rr->u.txt.data, rr->u.txt.len);
		if (text != NULL)
			job->explanation = text;
		return true;
	}
	if (job->exp_step == EXP_PTR) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(job->exp_slot->ans, 0);
		const char *text;

		if (!ptr_names(job, job->trace))
			return false;
		job->exp_step = EXP_DONE;
		text = expand_text(job, d, (const char *)rr->u.txt.data, rr->u.txt.len);
		if (text != NULL)
			job->explanation = text;
	}
	return true;
}

/* The result is decided and the explanation is being fetched. */
static bool fetching_explanation(const spf_job_t *job)
{
	return job->top == NULL && job->root != NULL &&
		job->root->result == SPF_RESULT_FAIL && !job->past_limit &&
		job->exp_step != EXP_DONE;
}

/* ---- completion ---- */

static void finish_job(spf_job_t *job)
{
	struct frame *r = job->root;
	struct frame *d = r ? r->decider : NULL;

	if (job->past_limit) {
		/* the trace went on past the limit; the result, its term and
		 * the counts are the limit's, as without trace_past_limits
		 * (whatever happened after: a deadline, even out of memory) */
		struct frame *lf = job->limit_frame;

		job->result = SPF_RESULT_PERMERROR;
		job->problem = job->limit_problem;
		job->explanation = NULL;
		job->lookups = job->limit_lookups;
		job->voids = job->limit_voids;
		for (size_t i = 0; i < job->nlimit_nodes; i++) {
			spf_trace_t *n = job->limit_nodes[i];

			if (n != NULL) {
				n->outcome = SPF_TERM_ERROR;
				n->beyond_limit = false;
				n->decisive = i == 0;
			}
		}
		/* every frame on the way out gave permerror at the limit's
		 * counts, as it would have without the trace going on */
		for (spf_trace_t *n = job->limit_check; n != NULL; n = n->parent) {
			if (n->kind != SPF_TRACE_CHECK)
				continue;
			n->result = SPF_RESULT_PERMERROR;
			n->lookups = job->limit_lookups;
			n->voids = job->limit_voids;
		}
		job->domain = lf->domain;
		job->mechanism = job->limit_term->text;
		d = NULL;
	} else if (job->oom) {
		job->result = SPF_RESULT_TEMPERROR;
		job->problem = "out of memory";
	} else if (job->over_budget) {
		job->result = SPF_RESULT_TEMPERROR;
		job->problem = spf_arena_printf(job->arena,
			"the evaluation of %s needs more than its memory budget of %zu bytes "
			"(the receiver declines the cost)",
			job->start_domain, job->budget);
		if (job->problem == NULL)
			job->problem = "the evaluation needs more than its memory budget";
		d = NULL;
	} else if (job->timed_out) {
		job->result = SPF_RESULT_TEMPERROR;
		job->problem = spf_arena_printf(job->arena,
			"the evaluation did not finish within %u ms (RFC 7208 §4.6.4)",
			job->deadline_ms);
		if (job->problem == NULL)
			job->problem = "the evaluation did not finish in time";
		d = NULL;
	} else if (job->stopped != NULL) {
		job->result = SPF_RESULT_TEMPERROR;
		job->problem = job->stopped;
		d = NULL;
	} else if (r != NULL) {
		job->result = r->result;
	}
	if (d != NULL) {
		job->domain = d->domain;
		job->mechanism = d->decisive ? d->decisive->text : "default";
	}
	if (job->result != SPF_RESULT_PERMERROR && job->result != SPF_RESULT_TEMPERROR &&
	    job->result != SPF_RESULT_NONE)
		job->problem = NULL;
	if (job->result != SPF_RESULT_FAIL)
		job->explanation = NULL;
	if (job->trace != NULL) {
		job->trace->result = job->result;
		job->trace->lookups = job->lookups;
		job->trace->voids = job->voids;
	}
	job->done = true;
	spf_dns_query_cancel(job->deadline);
	job->deadline = NULL;
	budget_leave(job);
	prefetch_cancel(job, W_DONE);
	/* a finished job keeps its arena and the records its trace and
	 * results point into; nothing else */
	for (struct slot *s = job->slots; s != NULL; s = s->next)
		if (!s->record)
			slot_release(job, s);
}

/* The names of the states and steps, for --debug. */
static const char *const fstate_names[] = {
	[F_FETCH] = "fetch", [F_SELECT] = "select", [F_TERM] = "term",
	[F_AFTER] = "after", [F_REDIRECTED] = "redirected",
};
static const char *const term_step_names[] = {
	[TS_COUNT] = "count", [TS_TARGET] = "target", [TS_ANSWERED] = "answered",
	[TS_MX_HOSTS] = "mx-hosts", [TS_MX_COUNTED] = "mx-counted", [TS_PTR_NAMES] = "ptr-names",
	[TS_PTR_COUNTED] = "ptr-counted",
};
static const char *const ptr_step_names[] = {
	[PTR_ASK] = "ask", [PTR_NAMES] = "names", [PTR_FORWARD] = "forward",
	[PTR_DONE] = "done",
};
static const char *const exp_step_names[] = {
	[EXP_TARGET] = "target", [EXP_TXT] = "txt", [EXP_PTR] = "ptr",
	[EXP_DONE] = "done",
};

/* One --debug line: the step job_run() is about to take (f NULL: the
 * job's own, the explanation or completion). */
static void debug_step(const spf_job_t *job, const struct frame *f)
{
	FILE *o = job->debug;

	if (f == NULL) {
		if (fetching_explanation(job))
			fprintf(o, "spf: explanation %s", exp_step_names[job->exp_step]);
		else
			fputs("spf: done", o);
	} else {
		fprintf(o, "spf: %*s%s %s", (int)f->depth * 2, "", f->domain,
			fstate_names[f->state]);
		if ((f->state == F_TERM && f->rec != NULL && f->ti < f->rec->nterms) ||
		    f->state == F_AFTER) {
			size_t ti = f->state == F_TERM ? f->ti : (size_t)f->rec->redirect;

			if (f->state == F_TERM || f->rec->redirect >= 0) {
				fprintf(o, " terms[%zu] ", ti);
				spf_escape_write(o, f->rec->terms[ti].text,
					strlen(f->rec->terms[ti].text), SPF_ESC_HEX);
				fprintf(o, " %s", term_step_names[f->step]);
				if (f->step == TS_PTR_NAMES)
					fprintf(o, " ptr-%s", ptr_step_names[job->ptr_step]);
			}
		}
	}
	fprintf(o, " (lookups %u, void %u)\n", job->lookups, job->voids);
}

static void stop_waiting(spf_job_t *job);
static bool arm_deadline(spf_job_t *job);

void job_run(spf_job_t *job)
{
	if (job->running || job->done)
		return;
	job->running = true;
	while (job->pending == 0 && !job->done) {
		struct frame *f = job->top;

		if (job->oom) {
			/* stop here; outstanding answers are cancelled on destroy */
			finish_job(job);
			break;
		}
		size_t memory = job_memory(job);

		budget_charge(job, memory);
		if (memory > job->budget) {
			job->over_budget = true;
			finish_job(job);
			break;
		}
		if (job->debug != NULL)
			debug_step(job, f);
		if (f == NULL) {
			/* check_host() of the root frame is done */
			/* the explanation is the job's last state */
			if (fetching_explanation(job)) {
				if (st_explain(job))
					job->exp_step = EXP_DONE;
				continue;
			}
			/* the client's names, for a caller that shows
			 * them (want_ptr_name); after the result */
			if (job->want_ptr && !job->past_limit &&
			    !ptr_names(job, job->trace))
				continue;
			finish_job(job);
			break;
		}
		switch (f->state) {
		case F_FETCH: st_fetch(job, f); break;
		case F_SELECT: st_select(job, f); break;
		case F_TERM: st_term(job, f); break;
		case F_AFTER: st_after(job, f); break;
		case F_REDIRECTED: st_redirected(job, f); break;
		}
	}
	if (!job->done && job->deadline == NULL && !arm_deadline(job)) {
		/* no timer, no deadline: end now rather than wait unbounded */
		job->oom = true;
		stop_waiting(job);
		finish_job(job);
	}
	job->running = false;
	if (job->done && job->cb != NULL) {
		spf_done_cb cb = job->cb;

		job->cb = NULL;
		cb(job, job->cb_arg);
	}
}

/* Cancel every answer the job waits for and its next turn. */
static void stop_waiting(spf_job_t *job)
{
	for (struct slot *sl = job->slots; sl != NULL; sl = sl->next) {
		spf_dns_query_cancel(sl->q);
		sl->q = NULL;
	}
	spf_dns_query_cancel(job->kick);
	job->kick = NULL;
	job->pending = 0;
}

/*
 * RFC 7208 §4.6.4: the deadline passed; stop and report temperror.  If
 * the result was already decided and only the explanation was still
 * being fetched, the result stands with the default explanation
 * (RFC 7208 §6.2: a DNS error for exp= is as if there were none).
 */
static void on_deadline(const spf_dns_answer_t *ans, void *arg)
{
	spf_job_t *job = arg;

	(void)ans;
	job->deadline = NULL;
	if (job->done || job->running)
		return;
	stop_waiting(job);
	if (fetching_explanation(job)) {
		job->exp_step = EXP_DONE;
		trace_note(job, job->trace, spf_arena_printf(job->arena,
			"deadline of %u ms reached while fetching the explanation: "
			"the default explanation is used (RFC 7208 §6.2)",
			job->deadline_ms));
	} else {
		job->timed_out = true;
		trace_note(job, job->trace, spf_arena_printf(job->arena,
			"deadline of %u ms reached", job->deadline_ms));
	}
	finish_job(job);
	if (job->cb != NULL) {
		spf_done_cb cb = job->cb;

		job->cb = NULL;
		cb(job, job->cb_arg);
	}
}

void job_stop(spf_job_t *job, const char *problem)
{
	if (job->done || job->running)
		return;
	stop_waiting(job);
	job->cb = NULL;
	job->stopped = problem;
	finish_job(job);
}

static void on_kick(const spf_dns_answer_t *ans, void *arg)
{
	spf_job_t *job = arg;

	(void)ans;
	job->kick = NULL;
	job_run(job);
}

static uint64_t monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The job is about to wait for the first time: the deadline's timer,
 * for what is left of it since job_go(); false when it cannot be armed. */
static bool arm_deadline(spf_job_t *job)
{
	uint64_t spent_ms = (monotonic_us() - job->go_us) / 1000u;
	unsigned left = spent_ms < job->deadline_ms ?
		job->deadline_ms - (unsigned)spent_ms : 0;

	job->deadline = spf_resolver_call_after(job->res, left, on_deadline, job);
	return job->deadline != NULL;
}

/* Start the job's evaluation: its first turn (on_kick()), from which
 * its deadline runs (armed by job_run() when the job first waits). */
bool job_go(spf_job_t *job)
{
	job->go_us = monotonic_us();
	job->kick = spf_resolver_call_later(job->res, on_kick, job);
	return job->kick != NULL;
}

/* ---- public ---- */

spf_job_t *spf_check_start(spf_resolver_t *res, const spf_request_t *req,
	spf_done_cb done_cb, void *arg, spf_status_t *status)
{
	spf_job_t *job;
	spf_arena_t *arena;
	const char *domain, *why;
	spf_identity_parts_t parts;
	spf_status_t st = SPF_ENOMEM, pst;

	if (res == NULL || req == NULL ||
	    (req->ip.family != 4 && req->ip.family != 6)) {
		st = SPF_EINVAL;
		goto fail;
	}
	arena = spf_arena_create();
	if (arena == NULL)
		goto fail;
	job = spf_arena_alloc(arena, sizeof(*job));
	if (job == NULL) {
		spf_arena_destroy(arena);
		goto fail;
	}
	job->arena = arena;
	job->res = res;
	job->seq = spf_resolver_next_seq(res);   /* its rank in the resolver */
	job->cb = done_cb;
	job->cb_arg = arg;
	job->void_limit = req->void_limit ? req->void_limit : 2;
	job->void_count = req->void_count;
	job->default_exp = spf_arena_strdup(arena, req->default_explanation ?
		req->default_explanation : SPF_DEFAULT_EXPLANATION);
	job->mctx.ip = req->ip;
	job->mctx.receiver = req->receiver ? spf_arena_strdup(arena, req->receiver) : NULL;
	job->mctx.now = req->now ? req->now : time(NULL);

	/* RFC 7208 §2.3, §2.4, §4.3: the identity as check_host() sees it
	 * (identity.c: the one reader of senders and HELO names) */
	if (req->identities != NULL) {
		/* read by the caller: only what differs by identity */
		pst = spf_identity_pick(arena, req->identities, req->identity, &parts);
		if (pst == SPF_OK && parts.helo != NULL &&
		    (parts.helo = spf_arena_strdup(arena, parts.helo)) == NULL)
			pst = SPF_ENOMEM;
	} else {
		pst = spf_identity_parse(arena, NULL, req->sender, req->helo,
			req->identity, &parts, NULL);
	}
	if (pst != SPF_OK || job->default_exp == NULL) {
		st = pst != SPF_OK ? pst : SPF_ENOMEM;
		goto fail_job;
	}
	job->mctx.helo = parts.helo;
	job->mctx.sender = parts.checked;
	job->mctx.local = parts.local;
	job->mctx.sender_domain = parts.domain;
	domain = parts.domain;
	job->start_domain = domain;
	/* the root frame's CHECK node is the root of the trace */
	job->notrace = req->no_trace;
	job->root = push_frame(job, NULL, ROLE_CHECK, domain, NULL);
	if (job->root == NULL || (job->root->node == NULL && !job->notrace))
		goto fail_job;
	job->trace = job->root->node;
	if (job->trace != NULL)
		job->trace->role = req->identity == SPF_IDENTITY_HELO ? "helo" : "mfrom";
	/* Sender ID (RFC 4406, issue 5) */
	if (req->scope == SPF_SCOPE_MFROM || req->scope == SPF_SCOPE_PRA) {
		job->scope = req->scope;
		job->v1_for_pra = req->v1_for_pra;
		job->spf99 = req->query_spf99;
		if (req->scope == SPF_SCOPE_PRA && job->trace != NULL)
			job->trace->role = "pra";
	}
	if (job->trace != NULL)
		job->trace->detail = parts.checked;

	why = parts.malformed;
	if (why != NULL) {
		/* RFC 7208 §4.3: a malformed domain gives none at once */
		frame_finish(job, job->root, SPF_RESULT_NONE,
			spf_arena_printf(arena, "'%s': %s", domain, why));
		if (job->problem == NULL)
			goto fail_job;
	}
	job->prefetch = !req->no_prefetch;
	job->budget = req->memory_budget ? req->memory_budget : SPF_JOB_MEMORY_BUDGET;
	job->lean = req->lean_trace || req->no_trace;
	job->debug = req->debug;
	job->want_ptr = req->want_ptr_name;
	job->trace_past = req->trace_past_limits;
	job->deadline_ms = req->deadline_ms ? req->deadline_ms : DEFAULT_DEADLINE_MS;
	job->pbudget = req->budget;
	if (job->pbudget != NULL && !budget_fits(job->pbudget)) {
		/* over the budget: wait, not evaluating (budget_pump()) */
		if (!queue_add(job))
			goto fail_job;
	} else {
		if (!job_go(job))
			goto fail_job;
		if (job->pbudget != NULL)
			flight_add(job);
	}
	if (status != NULL)
		*status = SPF_OK;
	return job;
fail_job:
	spf_arena_destroy(arena);
fail:
	if (status != NULL)
		*status = st;
	return NULL;
}

void spf_job_destroy(spf_job_t *job)
{
	if (job == NULL)
		return;
	budget_leave(job);
	spf_dns_query_cancel(job->kick);
	spf_dns_query_cancel(job->deadline);
	prefetch_cancel(job, W_DONE);
	for (struct slot *s = job->slots; s != NULL; s = s->next) {
		spf_dns_query_cancel(s->q);
		spf_dns_answer_unref(s->ans);
	}
	spf_arena_destroy(job->arena);
}

bool spf_job_done(const spf_job_t *job) { return job->done; }
spf_result_t spf_job_result(const spf_job_t *job) { return job->result; }
const char *spf_job_mechanism(const spf_job_t *job) { return job->mechanism; }
const char *spf_job_domain(const spf_job_t *job) { return job->domain; }
const char *spf_job_explanation(const spf_job_t *job) { return job->explanation; }
const char *spf_job_problem(const spf_job_t *job) { return job->problem; }
unsigned spf_job_lookups(const spf_job_t *job) { return job->lookups; }
unsigned spf_job_void_lookups(const spf_job_t *job) { return job->voids; }
unsigned spf_job_host_voids(const spf_job_t *job) { return job->host_voids; }
/* the counters stop at the term past the limit (count_lookup(),
 * count_void()); with trace_past_limits the flag says it */
bool spf_job_past_limit(const spf_job_t *job)
{
	return job->past_limit || job->lookups > MAX_DNS_TERMS ||
	    job->voids > job->void_limit;
}
const char *spf_job_sender(const spf_job_t *job) { return job->mctx.sender; }
const char *spf_job_start_domain(const spf_job_t *job) { return job->start_domain; }
const spf_trace_t *spf_job_trace(const spf_job_t *job) { return job->trace; }
const char *spf_job_ptr_name(const spf_job_t *job)
{
	return job->nptr_valid > 0 ? job->ptr_valid[0] : NULL;
}
size_t spf_job_arena_memory(const spf_job_t *job)
{
	return spf_arena_used(job->arena);
}

size_t spf_job_memory(const spf_job_t *job)
{
	return job_memory(job);
}
