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
 *	in the job's arena.
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
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define MAX_DNS_TERMS 10   /* RFC 7208 §4.6.4 */
#define MAX_MX_NAMES 10    /* RFC 7208 §4.6.4 */
#define MAX_PTR_NAMES 10   /* RFC 7208 §4.6.4 */
#define MAX_FRAMES 24      /* safety net; the term limit bounds depth */
#define MAX_EXPANSION 4096 /* bound on one macro expansion */
#define DEFAULT_DEADLINE_MS 20000   /* RFC 7208 §4.6.4: at least 20 s */
#define PAST_LIMIT_TERMS 30         /* trace_past_limits: how far to go on */
/* A full trace gives every term of a record its own node up to this
 * many terms; past it, runs of ip4/ip6 terms that did not match are one
 * node each (README "Limits and resource bounds"). */
#define TRACE_TERMS_MAX 2000

enum role { ROLE_CHECK, ROLE_INCLUDE, ROLE_REDIRECT };

/* States of a frame. */
enum fstate {
	F_FETCH,      /* query the TXT record of the domain */
	F_SELECT,     /* select and parse the v=spf1 record */
	F_TERM,       /* evaluate terms[ti] (re-entered after waits) */
	F_AFTER,      /* no term matched: redirect or default */
	F_REDIRECTED, /* a redirect frame returned */
};

/* What evaluating a term gave. */
enum tres { T_MATCH, T_NOMATCH, T_WAIT, T_TEMPERROR, T_PERMERROR, T_PUSHED };

/*
 * A lookup the job waits for.  Only answers that hold SPF records (a
 * frame's TXT, type 99) stay referenced (ans) until the job is
 * destroyed; an MX or PTR answer until its names are copied; the exp
 * TXT until the job is done.  Of an address lookup only whether the
 * client matches is kept (match): the answer is let go on arrival.
 */
struct slot {
	spf_job_t *job;
	spf_dns_query_t *q;
	spf_dns_answer_t *ans;        /* NULL: not kept (or not arrived) */
	size_t bytes;                 /* what holding ans costs */
	spf_dns_status_t status;      /* TEMPFAIL until the answer arrives */
	const char *detail;           /* the answer's detail, copied */
	spf_trace_t *node;
	const char *name;
	uint16_t type;
	bool match;                   /* keep only whether the client matches */
	bool matched;
	bool record;                  /* a frame's record: kept to the end */
	int cidr4, cidr6;
	struct slot *next;
};

struct frame {
	struct frame *parent;
	enum role role;
	const char *domain;
	spf_record_t *rec;
	spf_trace_t *node;           /* CHECK node */
	/* The terms' trace nodes.  A full trace of a record of at most
	 * TRACE_TERMS_MAX terms has one per term, made up front
	 * (term_nodes).  Otherwise (lazy) they are made as terms are
	 * reached, see term_node(): in a lean trace only for terms that
	 * query DNS, decide or fail, so that walking a record allocates
	 * nothing per term; in a full trace also one node per run of
	 * ip4/ip6 terms that did not match (and one for the terms not
	 * reached), so that the trace of a record stays bounded. */
	spf_trace_t **term_nodes;
	bool lazy;
	size_t traced;               /* lazy: terms before it are in the trace */
	size_t cur_idx;              /* lazy: the term of cur_node */
	spf_trace_t *cur_node;
	spf_trace_t *redirect_node;  /* lazy: the node of redirect=, once made */
	size_t ti;
	enum fstate state;
	unsigned depth;
	/* result */
	spf_result_t result;
	struct frame *decider;       /* frame whose record decided */
	const spf_term_t *decisive;  /* the term that decided there */
	/* scratch of the term in progress */
	int phase;
	const char *target;
	struct slot *txt;
	struct slot *spf99;          /* type SPF (99): Sender ID only (issue 5) */
	struct slot *main;
	struct slot *hosts[MAX_MX_NAMES];
	size_t nhosts;
	struct frame *child;
	bool warm;                   /* its TXT answer was at hand */
};

/* What a speculative lookup is for (see "speculative prefetch"). */
enum pf_kind {
	PF_TERM,      /* the lookup of an a, mx or exists term */
	PF_HOST,      /* the address of an MX host */
	PF_RECORD,    /* the TXT record of an include or redirect target */
};

/* A speculative lookup. */
struct pf {
	spf_job_t *job;
	spf_dns_query_t *q;
	uint16_t type;
	enum pf_kind kind;
	unsigned gen;             /* the walk it belongs to */
	struct pf *next;
};

/* A record on the speculative walk, in the order evaluation walks it. */
struct sframe {
	struct sframe *parent;    /* waits for this one's outcome */
	const char *domain;
	const spf_record_t *rec;
	spf_dns_answer_t *ans;    /* referenced: it holds rec (the memo) */
	size_t bytes;             /* what holding ans costs */
	size_t ti;                /* the next term to look at */
	bool redirected;          /* its outcome is its redirect target's */
};

/* States of the speculative walk. */
enum wstate {
	W_OFF,        /* not started, or stopped: evaluation may restart it */
	W_RUN,        /* looking at terms */
	W_HELD,       /* held: too many terms before might be void */
	W_WAIT,       /* waiting for an include or redirect target's record */
	W_DONE,       /* every term evaluation may reach was looked at */
};

struct spf_job {
	spf_resolver_t *res;
	spf_arena_t *arena;
	spf_done_cb cb;
	void *cb_arg;
	spf_macro_ctx_t mctx;
	const char *default_exp;
	unsigned void_limit;
	/* Sender ID (RFC 4406, issue 5): the scope and its switches */
	spf_scope_t scope;
	bool v1_for_pra;
	bool spf99;
	struct frame *top;        /* innermost frame */
	struct frame *root;
	unsigned lookups;
	unsigned voids;
	int pending;
	bool done;
	bool running;
	bool oom;
	/* memory (spf_job_memory()): answers and records held, the budget */
	size_t held;
	size_t budget;
	bool over_budget;
	spf_dns_query_t *kick;
	struct slot *slots;
	/* the deadline (RFC 7208 §4.6.4) */
	spf_dns_query_t *deadline;
	unsigned deadline_ms;
	bool timed_out;
	/* speculative prefetch */
	bool prefetch;
	bool lean;                /* no answer texts in the trace */
	/* trace_past_limits: the first limit exceeded, evaluation going on */
	bool trace_past;
	bool past_limit;
	const char *limit_problem;
	unsigned limit_lookups;          /* the counts when the limit was */
	unsigned limit_voids;            /* exceeded: the evaluation's */
	bool loop_noted;                 /* a loop was named in the trace */
	struct frame *limit_frame;       /* where the result is reported: */
	const spf_term_t *limit_term;    /* the outermost include ancestor */
	spf_trace_t *limit_nodes[MAX_FRAMES + 1];   /* term nodes to mark */
	spf_trace_t *limit_check;        /* the frame node of the first */
	size_t nlimit_nodes;
	struct pf *pfs;
	unsigned pf_queries;      /* queries sent speculatively */
	struct sframe *walk;      /* the speculative walk's innermost record */
	enum wstate wstate;
	unsigned wgen;            /* walk generation (restarts) */
	unsigned w_terms;         /* DNS-querying terms walked (§4.6.4) */
	unsigned w_unsure;        /* of those, void or not known to be not */
	unsigned w_voids;         /* of those, known void */
	/* validated PTR names, computed once per job (RFC 7208 §5.5) */
	int ptr_phase;
	spf_dns_status_t ptr_status;
	struct slot *ptr_slot;
	struct slot *ptr_hosts[MAX_PTR_NAMES];
	size_t nptr_hosts;
	const char *ptr_valid[MAX_PTR_NAMES];
	size_t nptr_valid;
	/* explanation */
	int exp_phase;
	struct frame *exp_frame;
	struct slot *exp_slot;
	/* the memory budget (spf_budget_t): in its list of jobs in flight,
	 * or waiting in its queue (qnext within the domain's queue) */
	spf_budget_t *pbudget;
	bool in_flight;
	bool waiting;
	spf_job_t *fprev, *fnext;
	spf_job_t *qnext;
	struct dq *dq;
	/* final */
	spf_result_t result;
	const char *mechanism;
	const char *domain;
	const char *explanation;
	const char *problem;
	const char *start_domain;
	spf_trace_t *trace;
};

static void job_run(spf_job_t *job);
static void budget_leave(spf_job_t *job);

/* ---- small helpers ---- */

static spf_trace_t *trace_add(spf_job_t *job, spf_trace_t *parent,
	spf_trace_kind_t kind, const char *label)
{
	spf_trace_t *t = spf_arena_alloc(job->arena, sizeof(*t));

	if (t == NULL) {
		job->oom = true;
		return NULL;
	}
	t->kind = kind;
	t->label = label ? label : "";
	t->lookups = job->lookups;
	t->voids = job->voids;
	t->parent = parent;
	if (parent != NULL) {
		if (parent->last != NULL)
			parent->last->next = t;
		else
			parent->first = t;
		parent->last = t;
	}
	return t;
}

static void trace_note(spf_job_t *job, spf_trace_t *parent, const char *text)
{
	if (parent != NULL)
		trace_add(job, parent, SPF_TRACE_NOTE, text);
}

static spf_result_t qualifier_result(char q)
{
	switch (q) {
	case '-': return SPF_RESULT_FAIL;
	case '~': return SPF_RESULT_SOFTFAIL;
	case '?': return SPF_RESULT_NEUTRAL;
	default: return SPF_RESULT_PASS;
	}
}

bool spf_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

static char *strip_dot(spf_job_t *job, const char *s)
{
	size_t len = strlen(s);

	if (len > 0 && s[len - 1] == '.')
		len--;
	return spf_arena_strndup(job->arena, s, len);
}

static const char *rr_text_in(spf_arena_t *arena, const spf_dns_rr_t *rr)
{
	char buf[64];

	switch (rr->type) {
	case SPF_RR_A: {
		spf_addr_t a = { .family = 4 };
		memcpy(a.addr, rr->u.a, 4);
		return spf_arena_strdup(arena, spf_addr_str(&a, buf, sizeof(buf)));
	}
	case SPF_RR_AAAA: {
		spf_addr_t a = { .family = 6 };
		memcpy(a.addr, rr->u.aaaa, 16);
		return spf_arena_strdup(arena, spf_addr_str(&a, buf, sizeof(buf)));
	}
	case SPF_RR_MX:
		return spf_arena_printf(arena, "%u %s", rr->u.mx.preference,
			rr->u.mx.exchange[0] ? rr->u.mx.exchange : ".");
	case SPF_RR_PTR:
	case SPF_RR_CNAME:
		return rr->u.name;
	case SPF_RR_TXT:
	case SPF_RR_SPF: {
		spf_buf_t b;
		const char *s;
		size_t clean = 0;

		/* the common case: printable ASCII without quotes or escapes */
		while (clean < rr->u.txt.len && rr->u.txt.data[clean] >= 0x20 &&
		       rr->u.txt.data[clean] < 0x7f && rr->u.txt.data[clean] != '"' &&
		       rr->u.txt.data[clean] != '\\')
			clean++;
		if (clean == rr->u.txt.len) {
			char *q = spf_arena_alloc(arena, clean + 3);

			if (q != NULL) {
				q[0] = '"';
				memcpy(q + 1, rr->u.txt.data, clean);
				q[clean + 1] = '"';
				q[clean + 2] = '\0';
			}
			return q;
		}

		spf_buf_init(&b, 8192);
		spf_buf_putc(&b, '"');
		for (size_t i = 0; i < rr->u.txt.len; i++) {
			unsigned char c = rr->u.txt.data[i];

			if (c == '"' || c == '\\')
				spf_buf_printf(&b, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				spf_buf_printf(&b, "\\%03u", c);
			else
				spf_buf_putc(&b, (char)c);
		}
		spf_buf_putc(&b, '"');
		s = spf_arena_strdup(arena, spf_buf_cstr(&b));
		spf_buf_finish(&b);
		return s;
	}
	default:
		return spf_rrtype_str(rr->type);
	}
}

static const char *rr_text(spf_job_t *job, const spf_dns_rr_t *rr)
{
	return rr_text_in(job->arena, rr);
}

static const char *record_label(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr);
static spf_status_t parse_memo(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr, spf_record_t **out, spf_parse_error_t *err);

/* A one-line summary of an answer for the trace. */
static const char *answer_text(spf_job_t *job, const spf_dns_answer_t *ans)
{
	spf_buf_t b;
	const char *s;
	spf_dns_status_t st = spf_dns_answer_status(ans);

	spf_buf_init(&b, 16384);
	if (st != SPF_DNS_OK) {
		spf_buf_puts(&b, spf_dns_status_str(st));
		if (spf_dns_answer_detail(ans) != NULL)
			spf_buf_printf(&b, " (%s)", spf_dns_answer_detail(ans));
	} else if (spf_dns_answer_count(ans) == 1 &&
	    spf_dns_answer_type(ans) == SPF_RR_TXT) {
		/* a record: its text is made once, with the parsed record
		 * (which st_select() would parse anyway) */
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, 0);
		spf_record_t *rec;
		spf_parse_error_t perr;

		spf_buf_finish(&b);
		if (spf_record_is_spf1(rr->u.txt.data, rr->u.txt.len))
			(void)parse_memo(job, ans, rr, &rec, &perr);
		return record_label(job, ans, rr);
	} else {
		size_t n = spf_dns_answer_count(ans);

		for (size_t i = 0; i < n; i++) {
			if (i > 0)
				spf_buf_puts(&b, ", ");
			if (i == 12 && n > 13) {
				spf_buf_printf(&b, "... %zu more", n - 12);
				break;
			}
			spf_buf_puts(&b, rr_text(job, spf_dns_answer_rr(ans, i)));
		}
	}
	if (spf_dns_answer_cnames(ans) != NULL)
		spf_buf_printf(&b, " [via %s]", spf_dns_answer_cnames(ans));
	s = spf_arena_strdup(job->arena, b.err == SPF_OK ? spf_buf_cstr(&b) : "(too long to show)");
	spf_buf_finish(&b);
	return s;
}

/* ---- DNS ---- */

static bool addr_in_answer(const spf_addr_t *ip, const spf_dns_answer_t *ans,
	int cidr4, int cidr6);

/* What holding ans costs the job: the answer and, for a record, the
 * parse memo it carries (rec_memo_bytes()). */
static size_t rec_memo_bytes(const spf_dns_answer_t *ans);

static size_t hold_cost(const spf_dns_answer_t *ans)
{
	return spf_dns_answer_bytes(ans) + rec_memo_bytes(ans);
}

/* Let go of a slot's answer (what was needed from it is copied). */
static void slot_release(spf_job_t *job, struct slot *s)
{
	if (s == NULL || s->ans == NULL)
		return;
	spf_dns_answer_unref(s->ans);
	s->ans = NULL;
	job->held -= s->bytes;
	s->bytes = 0;
}

/* The slot's answer got a memo (its record was parsed): count it. */
static void slot_recount(spf_job_t *job, struct slot *s)
{
	if (s == NULL || s->ans == NULL)
		return;
	job->held -= s->bytes;
	s->bytes = hold_cost(s->ans);
	job->held += s->bytes;
}

static void on_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct slot *s = arg;
	spf_job_t *job = s->job;
	const char *detail = spf_dns_answer_detail(ans);

	s->q = NULL;
	s->status = spf_dns_answer_status(ans);
	if (detail != NULL && (s->detail = spf_arena_strdup(job->arena, detail)) == NULL)
		job->oom = true;
	if (s->node != NULL && !job->lean) {
		s->node->detail = answer_text(job, ans);
		s->node->ttl = spf_dns_answer_ttl(ans);
	}
	if (s->match) {
		s->matched = s->status == SPF_DNS_OK &&
			addr_in_answer(&job->mctx.ip, ans, s->cidr4, s->cidr6);
	} else {
		s->ans = spf_dns_answer_ref((spf_dns_answer_t *)ans);
		s->bytes = hold_cost(ans);
		job->held += s->bytes;
	}
	if (--job->pending == 0)
		job_run(job);
}

/* Start a query whose answer is awaited before the job goes on. */
static struct slot *ask(spf_job_t *job, spf_trace_t *under, const char *name,
	uint16_t type)
{
	struct slot *s = spf_arena_alloc(job->arena, sizeof(*s));

	if (s == NULL) {
		job->oom = true;
		return NULL;
	}
	s->job = job;
	s->name = name;
	s->type = type;
	s->status = SPF_DNS_TEMPFAIL;
	if (!job->lean)
		s->node = trace_add(job, under, SPF_TRACE_DNS,
			spf_arena_printf(job->arena, "%s %s", spf_rrtype_str(type), name));
	s->q = spf_resolver_query(job->res, name, type, on_answer, s);
	if (s->q == NULL) {
		job->oom = true;
		return NULL;
	}
	s->next = job->slots;
	job->slots = s;
	job->pending++;
	return s;
}

/* An address lookup of which only "is the client inside, under these
 * prefix lengths (-1: the full address)" is kept. */
static struct slot *ask_match(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, int cidr4, int cidr6)
{
	struct slot *s = ask(job, under, name, type);

	if (s != NULL) {
		s->match = true;
		s->cidr4 = cidr4;
		s->cidr6 = cidr6;
	}
	return s;
}

static spf_dns_status_t slot_status(const struct slot *s)
{
	return s != NULL ? s->status : SPF_DNS_TEMPFAIL;
}

static const char *slot_why(spf_job_t *job, const struct slot *s)
{
	const char *d = s != NULL ? s->detail : NULL;

	return spf_arena_printf(job->arena, "%s for %s %s%s%s%s",
		spf_dns_status_str(slot_status(s)),
		s ? spf_rrtype_str(s->type) : "query", s ? s->name : "",
		d ? " (" : "", d ? d : "", d ? ")" : "");
}

static bool is_void(spf_dns_status_t st)
{
	return st == SPF_DNS_NODATA || st == SPF_DNS_NXDOMAIN;
}

static bool addr_in_answer(const spf_addr_t *ip, const spf_dns_answer_t *ans,
	int cidr4, int cidr6)
{
	size_t n = ans ? spf_dns_answer_count(ans) : 0;

	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_addr_t net = { 0 };

		if (rr->type == SPF_RR_A && ip->family == 4) {
			net.family = 4;
			memcpy(net.addr, rr->u.a, 4);
			if (spf_addr_in_net(ip, &net, cidr4 < 0 ? 32 : (unsigned)cidr4))
				return true;
		} else if (rr->type == SPF_RR_AAAA && ip->family == 6) {
			net.family = 6;
			memcpy(net.addr, rr->u.aaaa, 16);
			if (spf_addr_in_net(ip, &net, cidr6 < 0 ? 128 : (unsigned)cidr6))
				return true;
		}
	}
	return false;
}

static const char *reverse_name(spf_job_t *job)
{
	const uint8_t *a = job->mctx.ip.addr;
	spf_buf_t b;
	const char *s;

	if (job->mctx.ip.family == 4)
		return spf_arena_printf(job->arena, "%u.%u.%u.%u.in-addr.arpa",
			a[3], a[2], a[1], a[0]);
	spf_buf_init(&b, 128);
	for (int i = 15; i >= 0; i--)
		spf_buf_printf(&b, "%x.%x.", a[i] & 0xf, a[i] >> 4);
	spf_buf_puts(&b, "ip6.arpa");
	s = spf_arena_strdup(job->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	return s;
}

/* ---- validated PTR names (RFC 7208 §5.5), shared by ptr and %{p} ---- */

/* Returns true once the validated names are known, false to wait. */
static bool ptr_names(spf_job_t *job, spf_trace_t *under)
{
	uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;

	switch (job->ptr_phase) {
	case 0:
		job->ptr_phase = 1;
		job->ptr_slot = ask(job, under, reverse_name(job), SPF_RR_PTR);
		return false;
	case 1: {
		const spf_dns_answer_t *ans = job->ptr_slot ? job->ptr_slot->ans : NULL;
		size_t n;

		job->ptr_status = slot_status(job->ptr_slot);
		job->ptr_phase = 3;
		if (job->ptr_status != SPF_DNS_OK)
			return true;
		n = spf_dns_answer_count(ans);
		if (n > MAX_PTR_NAMES) {
			trace_note(job, under, spf_arena_printf(job->arena,
				"%zu PTR names; only the first %d are checked (RFC 7208 §4.6.4)",
				n, MAX_PTR_NAMES));
			n = MAX_PTR_NAMES;
		}
		for (size_t i = 0; i < n; i++) {
			const char *name = spf_dns_answer_rr(ans, i)->u.name;

			if (!spf_name_ok(name))
				continue;
			name = spf_arena_strdup(job->arena, name);
			if (name == NULL) {
				job->oom = true;
				break;
			}
			job->ptr_hosts[job->nptr_hosts++] =
				ask_match(job, under, name, atype, -1, -1);
		}
		slot_release(job, job->ptr_slot);   /* the names are copied */
		if (job->nptr_hosts == 0)
			return true;
		job->ptr_phase = 2;
		return false;
	}
	case 2:
		for (size_t i = 0; i < job->nptr_hosts; i++) {
			struct slot *s = job->ptr_hosts[i];

			/* a DNS error on a forward lookup skips that name */
			if (s != NULL && s->matched)
				job->ptr_valid[job->nptr_valid++] = s->name;
		}
		job->ptr_phase = 3;
		return true;
	default:
		return true;
	}
}

static bool name_under(const char *name, const char *domain)
{
	size_t ln = strlen(name), ld = strlen(domain);

	if (ld > 0 && domain[ld - 1] == '.')
		ld--;
	if (ln == ld)
		return spf_strncaseeq(name, domain, ld);
	return ln > ld && name[ln - ld - 1] == '.' &&
		spf_strncaseeq(name + ln - ld, domain, ld);
}

/* %{p}: the validated name equal to <domain>, else one under it, else
 * any validated name, else "unknown" (RFC 7208 §7.3). */
static const char *ptr_macro_value(spf_job_t *job, const char *domain)
{
	for (size_t i = 0; i < job->nptr_valid; i++)
		if (spf_streq_nocase(job->ptr_valid[i], domain))
			return job->ptr_valid[i];
	for (size_t i = 0; i < job->nptr_valid; i++)
		if (name_under(job->ptr_valid[i], domain))
			return job->ptr_valid[i];
	return job->nptr_valid > 0 ? job->ptr_valid[0] : NULL;
}

/* ---- macro expansion ---- */

/* Expand a macro-string for frame f.  Returns NULL with *problem set on
 * failure.  Callers that may expand %{p} must run ptr_names() first. */
static const char *expand(spf_job_t *job, struct frame *f, const char *spec,
	size_t len, int flags, const char **problem)
{
	spf_macro_ctx_t ctx = job->mctx;
	spf_buf_t b;
	const char *err = NULL, *out = NULL;
	spf_status_t st;

	ctx.domain = f->domain;
	if (job->ptr_phase == 3)
		ctx.ptr = ptr_macro_value(job, f->domain);
	spf_buf_init(&b, MAX_EXPANSION);
	st = spf_macro_expand(spec, len, &ctx, flags, &b, &err);
	if (st == SPF_OK)
		out = spf_arena_strdup(job->arena, spf_buf_cstr(&b));
	else if (st == SPF_ENOMEM)
		job->oom = true;
	else if (problem != NULL)
		*problem = spf_arena_printf(job->arena, "cannot expand '%.*s': %s",
			(int)len, spec, err ? err : spf_strerror(st));
	spf_buf_finish(&b);
	if (st == SPF_OK && out == NULL)
		job->oom = true;
	return out;
}

/* A domain-spec that is its own expansion: no macro, no trailing dot,
 * nothing to truncate (the parser has checked its characters). */
static bool spec_is_literal(const spf_term_t *t)
{
	return memchr(t->domain_spec, '%', t->domain_spec_len) == NULL &&
	    t->domain_spec_len > 0 && t->domain_spec_len <= 253 &&
	    t->domain_spec[t->domain_spec_len - 1] != '.';
}

/* The target name of a term: its domain-spec expanded, or <domain>.
 * Returns T_MATCH with f->target set (NULL if the name is invalid),
 * T_WAIT while %{p} is being resolved, T_PERMERROR with a problem. */
static enum tres term_target(spf_job_t *job, struct frame *f,
	const spf_term_t *t, spf_trace_t *node, const char **problem)
{
	const char *name;

	if (t->domain_spec == NULL) {
		f->target = f->domain;
		return T_MATCH;
	}
	if (spec_is_literal(t)) {
		name = t->domain_spec;
	} else {
		if (spf_macro_uses_ptr(t->domain_spec, t->domain_spec_len) &&
		    !ptr_names(job, node))
			return T_WAIT;
		name = expand(job, f, t->domain_spec, t->domain_spec_len,
			SPF_MACRO_DOMAIN, problem);
		if (name == NULL)
			return T_PERMERROR;
		name = strip_dot(job, name);
		if (name == NULL)
			return T_PERMERROR;
	}
	if (node != NULL && strcmp(name, t->domain_spec) != 0)
		trace_note(job, node, spf_arena_printf(job->arena,
			"target expands to %s", name));
	f->target = spf_name_ok(name) ? name : NULL;
	if (f->target == NULL)
		trace_note(job, node, spf_arena_printf(job->arena,
			"'%s' is not a valid domain name: treated as non-existent", name));
	return T_MATCH;
}

/* ---- parsed records, memoised on the answer ----
 *
 * A record is parsed once per answer object: answers come shared from
 * the resolver's cache, so in a batch or a policy service a provider's
 * record is parsed once, not once per evaluation.  The memo lives in
 * its own arena and dies with the answer; a job keeps every answer it
 * used referenced until it is destroyed, so pointers into the record
 * (term texts in the trace) stay valid as long as the job.
 */
struct rec_memo {
	spf_arena_t *arena;
	const spf_dns_rr_t *rr;      /* the record parsed */
	const char *label;           /* its text for the trace, once made */
	spf_record_t *rec;
	spf_status_t status;
	spf_parse_error_t err;
};

static void rec_memo_free(void *p)
{
	struct rec_memo *m = p;

	spf_arena_destroy(m->arena);
	spf_free(m);
}

static size_t rec_memo_bytes(const spf_dns_answer_t *ans)
{
	const struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	/* only this module sets memos on answers */
	return m != NULL ? spf_heap_bytes(sizeof(*m)) + spf_arena_used(m->arena) : 0;
}

static spf_status_t parse_memo(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr, spf_record_t **out, spf_parse_error_t *err)
{
	struct rec_memo *m = spf_dns_answer_memo(ans);

	if (m == NULL) {
		m = spf_calloc(1, sizeof(*m));
		if (m != NULL)
			m->arena = spf_arena_create();
		if (m != NULL && m->arena != NULL) {
			m->rr = rr;
			m->status = spf_record_parse(m->arena, rr->u.txt.data,
				rr->u.txt.len, &m->rec, &m->err);
		}
		if (m == NULL || m->arena == NULL || m->status == SPF_ENOMEM ||
		    !spf_dns_answer_set_memo(ans, m, rec_memo_free)) {
			if (m != NULL)
				rec_memo_free(m);
			m = NULL;
		}
	}
	if (m != NULL && m->rr == rr) {
		*out = m->rec;
		*err = m->err;
		return m->status;
	}
	return spf_record_parse(job->arena, rr->u.txt.data, rr->u.txt.len, out, err);
}

/* The record's text for its trace node: made once per cached answer
 * (in the memo) rather than once per evaluation. */
static const char *record_label(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr)
{
	struct rec_memo *m = ans != NULL ? spf_dns_answer_memo(ans) : NULL;

	if (m != NULL && m->rr == rr) {
		if (m->label == NULL)
			m->label = rr_text_in(m->arena, rr);
		if (m->label != NULL)
			return m->label;
	}
	return rr_text(job, rr);
}

/* ---- speculative prefetch ----
 *
 * Speculation starts lookups before evaluation reaches the terms that
 * need them; the answers only warm the resolver's cache (or are joined
 * in flight by the evaluation's own query for the same name and type),
 * so evaluation still consumes every answer in RFC order and results,
 * explanations, limits and traces are those of sequential evaluation.
 *
 * Speculation never sends a query that a sequential evaluation of the
 * same message could not send (issue 22: a receiver must not be turned
 * into a flood of queries against somebody's DNS).  It walks the records
 * in evaluation order, one term at a time (a "walk"), and:
 *  - sends nothing whose name depends on the message: only targets that
 *    are literal or use no macro but %{d} are fetched (the same name for
 *    every message checked against the domain, so the cache absorbs
 *    them); ptr and every other target are not (spf_macro_domain_only());
 *  - stops at a term that matches without DNS: all, and an ip4/ip6 the
 *    client is inside (the client is known, so one it is not inside is
 *    ruled out and the walk goes on past it);
 *  - waits at an include (or redirect) until the target's record is
 *    known, and walks it first: the record's later terms are looked at
 *    only when the included record cannot pass without DNS (its walk
 *    ended, or stopped at a -all/~all/?all or at a non-pass ip4/ip6); if
 *    it may pass (+all, a +ip4 the client is inside) or cannot be known
 *    (no record, several, a syntax error, a DNS error, a target that
 *    depends on the message), the walk stops there;
 *  - counts DNS-querying terms as evaluation does and stops at the
 *    tenth (RFC 7208 §4.6.4);
 *  - holds before a term while more of the terms before it than the
 *    void-lookup limit are void or not known to be non-void (pending,
 *    or never fetched), so a term is fetched only when evaluation cannot
 *    stop at the void limit before it: speculation sends no query past
 *    the void limit at all.  MX host addresses are fetched once the MX
 *    answer is known (at most MAX_MX_NAMES);
 *  - is cancelled when the job's result is decided or a limit is hit.
 *
 * When the walk has stopped or is held while evaluation goes on, each
 * record evaluation enters restarts it from evaluation's own position
 * (frames, lookups and void lookups so far).  A record already at hand
 * when evaluation asks for it (cached) most likely has its terms' answers
 * cached too: no walk starts there.
 */

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
	p->q = spf_resolver_query(job->res, name, type, on_prefetch, p);
	if (p->q == NULL)
		return false;
	job->pf_queries++;
	p->next = job->pfs;
	job->pfs = p;
	return true;
}

/* The target of a term as speculation may fetch it: the same for every
 * message checked against domain; NULL otherwise or if invalid. */
static const char *prefetch_target(spf_job_t *job, const char *domain,
	const spf_term_t *t)
{
	spf_macro_ctx_t ctx = { 0 };
	spf_buf_t b;
	const char *out = NULL;

	if (t->domain_spec == NULL)
		return domain;
	if (spec_is_literal(t))
		return spf_name_ok(t->domain_spec) ? t->domain_spec : NULL;
	if (!spf_macro_domain_only(t->domain_spec, t->domain_spec_len))
		return NULL;
	ctx.domain = domain;   /* nothing else of the message is given */
	spf_buf_init(&b, MAX_EXPANSION);
	if (spf_macro_expand(t->domain_spec, t->domain_spec_len, &ctx,
	    SPF_MACRO_DOMAIN, &b, NULL) == SPF_OK) {
		out = strip_dot(job, spf_buf_cstr(&b));
		if (out != NULL && !spf_name_ok(out))
			out = NULL;
	}
	spf_buf_finish(&b);
	return out;
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

/* May a term that sends a query be fetched?  Only if evaluation cannot
 * have stopped at the void limit before it. */
static bool walk_may_send(spf_job_t *job)
{
	if (job->w_unsure <= job->void_limit)
		return true;
	job->wstate = W_HELD;
	return false;
}

/* Walk until the walk has to wait, is held, or ends. */
static void walk_run(spf_job_t *job)
{
	uint16_t atype = job->mctx.ip.family == 4 ? SPF_RR_A : SPF_RR_AAAA;

	while (job->wstate == W_RUN && !job->done) {
		struct sframe *sf = job->walk;
		const spf_record_t *rec = sf->rec;
		const spf_term_t *t;
		const char *target;

		if (sf->ti >= rec->nterms) {
			/* no term matched: redirect (RFC 7208 §6.1) or neutral */
			if (rec->redirect < 0 || rec->all >= 0 || sf->redirected) {
				walk_end(job, false);
				continue;
			}
			t = &rec->terms[rec->redirect];
			if (!walk_may_send(job) || !walk_count(job))
				return;
			target = prefetch_target(job, sf->domain, t);
			if (target == NULL || !prefetch_query(job, target, SPF_RR_TXT, PF_RECORD)) {
				walk_stop(job, W_OFF);
				return;
			}
			sf->redirected = true;
			job->wstate = W_WAIT;
			return;
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
		case SPF_MECH_IP6: {
			int cidr = t->mech == SPF_MECH_IP4 ? t->cidr4 : t->cidr6;
			int full = t->mech == SPF_MECH_IP4 ? 32 : 128;

			if (t->net.family == job->mctx.ip.family &&
			    spf_addr_in_net(&job->mctx.ip, &t->net,
			    cidr < 0 ? (unsigned)full : (unsigned)cidr)) {
				walk_end(job, t->qualifier == '+');
				continue;
			}
			sf->ti++;   /* ruled out: the client is not inside */
			continue;
		}
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
			target = prefetch_target(job, sf->domain, t);
			if (target == NULL || !prefetch_query(job, target, SPF_RR_TXT, PF_RECORD)) {
				walk_stop(job, W_OFF);
				return;
			}
			sf->ti++;
			job->wstate = W_WAIT;
			return;
		default: {
			/* a, mx, exists */
			uint16_t type = t->mech == SPF_MECH_MX ? SPF_RR_MX :
				t->mech == SPF_MECH_A ? atype : SPF_RR_A;

			target = prefetch_target(job, sf->domain, t);
			if (target != NULL && !walk_may_send(job))
				return;
			if (!walk_count(job))
				return;
			job->w_unsure++;
			if (target != NULL)
				prefetch_query(job, target, type, PF_TERM);
			sf->ti++;
			continue;
		}
		}
	}
}

/* Restart the walk at evaluation's position: frame f has just been
 * parsed, its ancestors wait at the include (or redirect) that led to
 * it, and the counts are evaluation's own. */
static void walk_sync(spf_job_t *job, struct frame *f)
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
static void prefetch_cancel(spf_job_t *job, enum wstate to)
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
	spf_dns_status_t st = spf_dns_answer_status(ans);

	p->q = NULL;
	if (job->done || p->gen != job->wgen)
		return;   /* of no use any more */
	switch (p->kind) {
	case PF_HOST:
		return;
	case PF_TERM:
		if (st == SPF_DNS_OK) {
			job->w_unsure--;
			if (p->type == SPF_RR_MX &&
			    spf_dns_answer_count(ans) <= MAX_MX_NAMES) {
				uint16_t atype = job->mctx.ip.family == 4 ?
					SPF_RR_A : SPF_RR_AAAA;

				for (size_t i = 0; i < spf_dns_answer_count(ans); i++) {
					const char *ex = spf_dns_answer_rr(ans, i)->u.mx.exchange;

					if (spf_name_ok(ex))
						prefetch_query(job, ex, atype, PF_HOST);
				}
			}
		} else if (is_void(st)) {
			job->w_voids++;
		} else {
			/* evaluation stops at temperror there */
			walk_stop(job, W_OFF);
			return;
		}
		if (job->wstate == W_HELD) {
			job->wstate = W_RUN;
			walk_run(job);
		}
		return;
	case PF_RECORD: {
		spf_selection_t sel;
		spf_record_t *rec = NULL;
		spf_parse_error_t perr;

		if (job->wstate != W_WAIT)
			return;
		spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &sel);
		if (sel.ncand != 1 || parse_memo(job, ans, sel.rr, &rec, &perr) != SPF_OK ||
		    walk_push(job, job->walk, spf_dns_answer_name(ans), rec, ans) == NULL) {
			/* none, permerror or temperror ahead */
			walk_stop(job, W_OFF);
			return;
		}
		job->wstate = W_RUN;
		walk_run(job);
		return;
	}
	}
}

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

/* ---- terms in the trace ---- */

/* "1,214": n with thousands separated, in buf. */
static const char *thousands(char *buf, size_t len, size_t n)
{
	char digits[32];
	size_t nd = (size_t)snprintf(digits, sizeof digits, "%zu", n), o = 0;

	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Lazy full trace: the terms from f->traced up to end (exclusive), which
 * have no node, become one: the term's own when it is one, else a
 * summary "1,214 ip4 terms" with the byte span of the run and outcome
 * (NO_MATCH for a run walked, NOT_REACHED for the rest of a record).
 */
static void trace_run(spf_job_t *job, struct frame *f, size_t end,
	spf_term_outcome_t outcome)
{
	const spf_term_t *first, *last;
	size_t n4 = 0, n6 = 0, nother = 0, n;
	char a[32], b[32];
	spf_trace_t *t;
	const char *label;

	if (!f->lazy || job->lean || f->rec == NULL || end > f->rec->nterms ||
	    end <= f->traced)
		return;
	first = &f->rec->terms[f->traced];
	last = &f->rec->terms[end - 1];
	n = end - f->traced;
	for (const spf_term_t *k = first; k <= last; k++) {
		if (!k->is_modifier && k->mech == SPF_MECH_IP4)
			n4++;
		else if (!k->is_modifier && k->mech == SPF_MECH_IP6)
			n6++;
		else
			nother++;
	}
	if (n == 1) {
		label = first->text;
	} else {
		/* "1,214 ip4 terms", "3,507 terms (3,506 ip4, 1 other)" */
		const size_t counts[3] = { n4, n6, nother };
		static const char *const kinds[3] = { "ip4", "ip6", "other" };
		char parts[96];
		size_t o = 0, kinds_seen = 0;

		parts[0] = '\0';
		for (size_t k = 0; k < 3; k++) {
			if (counts[k] == 0)
				continue;
			o += (size_t)snprintf(parts + o, sizeof parts - o, "%s%s %s",
				kinds_seen++ ? ", " : "", thousands(a, sizeof a, counts[k]),
				kinds[k]);
		}
		if (kinds_seen == 1 && nother == 0)
			label = spf_arena_printf(job->arena, "%s %s terms",
				thousands(b, sizeof b, n), n4 ? "ip4" : "ip6");
		else
			label = spf_arena_printf(job->arena, "%s terms (%s)",
				thousands(b, sizeof b, n), parts);
	}
	t = trace_add(job, f->node, SPF_TRACE_TERM, label);
	f->traced = end;
	if (t == NULL || label == NULL)
		return;
	t->offset = first->offset;
	t->len = last->offset + last->len - first->offset;
	t->count = (unsigned)n;
	t->outcome = n4 + n6 == 0 && outcome == SPF_TERM_NO_MATCH ?
		SPF_TERM_SKIPPED : outcome;
	t->beyond_limit = outcome != SPF_TERM_NOT_REACHED && job->past_limit;
}

/* A new node for term i of f's record. */
static spf_trace_t *term_node_add(spf_job_t *job, struct frame *f, size_t i)
{
	const spf_term_t *term = &f->rec->terms[i];
	spf_trace_t *t = trace_add(job, f->node, SPF_TRACE_TERM, term->text);

	if (t != NULL) {
		t->offset = term->offset;
		t->len = term->len;
		t->count = 1;
	}
	return t;
}

/* The trace node of term i of f's record, made now if the trace is
 * lazy; NULL when out of memory.  In a lazy trace terms are asked for in
 * record order (the terms before i without a node are summarised). */
static spf_trace_t *term_node(spf_job_t *job, struct frame *f, size_t i)
{
	if (!f->lazy)
		return f->term_nodes[i];
	if (f->cur_node != NULL && f->cur_idx == i)
		return f->cur_node;
	if ((int)i == f->rec->redirect && f->redirect_node != NULL)
		return f->redirect_node;
	trace_run(job, f, i, SPF_TERM_NO_MATCH);
	f->cur_node = term_node_add(job, f, i);
	f->cur_idx = i;
	if (f->traced < i + 1)
		f->traced = i + 1;
	if ((int)i == f->rec->redirect)
		f->redirect_node = f->cur_node;
	return f->cur_node;
}

/* The node of term i if it has one (never makes one). */
static spf_trace_t *term_node_peek(const struct frame *f, size_t i)
{
	if (!f->lazy)
		return f->term_nodes[i];
	if ((int)i == f->rec->redirect)
		return f->redirect_node;
	return f->cur_idx == i ? f->cur_node : NULL;
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
	 * reached, each as one node */
	trace_run(job, f, f->ti, SPF_TERM_NO_MATCH);
	if (f->rec != NULL)
		trace_run(job, f, f->rec->nterms, SPF_TERM_NOT_REACHED);
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

	while (p != NULL && !spf_streq_nocase(p->domain, f->target))
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

/* Evaluate one mechanism.  Re-entered with f->phase after each wait. */
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
	if (f->phase == 0) {
		if (!count_lookup(job, f, t, problem))
			return T_PERMERROR;
		f->phase = 1;
	}
	if (f->phase == 1) {
		r = term_target(job, f, t, node, problem);
		if (r != T_MATCH)
			return r;
		f->phase = 2;
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
			f->phase = 10;
		else if (f->target == NULL)
			return T_NOMATCH;     /* invalid name: no such domain */
		else if (t->mech == SPF_MECH_EXISTS)   /* §5.7: always A */
			f->main = ask_match(job, node, f->target, SPF_RR_A, -1, -1);
		else if (t->mech == SPF_MECH_MX)
			f->main = ask(job, node, f->target, SPF_RR_MX);
		else
			f->main = ask_match(job, node, f->target, atype, t->cidr4, t->cidr6);
		if (f->phase == 2)
			return T_WAIT;
	}

	switch (t->mech) {
	case SPF_MECH_INCLUDE: {
		/* phase 2: the included check_host() returned (RFC 7208 §5.2) */
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
		if (f->phase == 2) {
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
			f->phase = 3;
			if (f->nhosts > 0)
				return T_WAIT;
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
		/* phase 10: validated names (RFC 7208 §5.5) */
		const char *target = f->target;

		if (!ptr_names(job, node))
			return T_WAIT;
		if (is_void(job->ptr_status) && f->phase == 10) {
			f->phase = 11;
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

static void st_fetch(spf_job_t *job, struct frame *f)
{
	/* a record already at hand (cached) most likely has its terms'
	 * answers cached too: no speculation for it */
	f->warm = job->prefetch &&
		spf_resolver_answer_at_hand(job->res, f->domain, SPF_RR_TXT);
	f->txt = ask(job, f->node, f->domain, SPF_RR_TXT);
	if (f->txt != NULL)
		f->txt->record = true;
	if (job->scope != SPF_SCOPE_RFC7208 && job->spf99) {
		f->spf99 = ask(job, f->node, f->domain, SPF_RR_SPF);
		if (f->spf99 != NULL)
			f->spf99->record = true;
	}
	f->state = F_SELECT;
}

/* RFC 4406 §4.4 (SPECS A.3): the record for a Sender ID scope, chosen
 * by spf_record_select().  Returns it, or NULL when the frame is
 * finished (none, permerror, temperror). */
static const spf_dns_rr_t *select_scoped(spf_job_t *job, struct frame *f)
{
	const char *scope = job->scope == SPF_SCOPE_PRA ? "pra" : "mfrom";
	struct slot *sl[2] = { f->txt, f->spf99 };
	spf_selection_t sel;

	for (size_t i = 0; i < 2; i++) {
		spf_dns_status_t st = slot_status(sl[i]);

		if (sl[i] != NULL && (st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY)) {
			frame_finish(job, f, SPF_RESULT_TEMPERROR, spf_arena_printf(job->arena,
				"looking up the Sender ID record of %s: %s", f->domain,
				slot_why(job, sl[i])));
			return NULL;
		}
	}
	spf_record_select(f->txt ? f->txt->ans : NULL, f->spf99 ? f->spf99->ans : NULL,
		job->scope, job->v1_for_pra, &sel);
	if (sel.used_spf99)
		trace_note(job, f->node,
			"type SPF (99) records exist: the TXT records are ignored (RFC 4406 §4.4)");
	if (sel.ncand == 0) {
		frame_finish(job, f, SPF_RESULT_NONE, f->role == ROLE_CHECK ?
			spf_arena_printf(job->arena, "%s has no SPF record for scope %s%s",
				f->domain, scope, job->scope == SPF_SCOPE_PRA && !job->v1_for_pra ?
				" (spf2.0 records only: v=spf1 is not used for pra)" : "") : NULL);
		return NULL;
	}
	if (f->node != NULL)
		f->node->records = (unsigned)sel.ncand;
	if (sel.ncand > 1) {
		frame_finish(job, f, SPF_RESULT_PERMERROR, spf_arena_printf(job->arena,
			"%s publishes %zu %s records for scope %s%s; exactly one is allowed (RFC 4406 §4.4)",
			f->domain, sel.ncand, sel.version == 2 ? "spf2.x" : "v=spf1", scope,
			sel.used_spf99 ? " in type SPF (99)" : ""));
		return NULL;
	}
	return sel.rr;
}

/* RFC 7208 §4.4 / §4.5: select the one v=spf1 record and parse it. */
static void st_select(spf_job_t *job, struct frame *f)
{
	spf_dns_status_t st = slot_status(f->txt);
	const spf_dns_rr_t *found = NULL;
	size_t n, count = 0;
	spf_parse_error_t perr = { 0 };
	spf_status_t ps;
	spf_trace_t *rnode;

	if (job->scope != SPF_SCOPE_RFC7208) {
		found = select_scoped(job, f);
		if (found == NULL)
			return;
		goto parse;
	}
	if (st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY) {
		frame_finish(job, f, SPF_RESULT_TEMPERROR, spf_arena_printf(job->arena,
			"looking up the SPF record of %s: %s", f->domain, slot_why(job, f->txt)));
		return;
	}
	n = st == SPF_DNS_OK ? spf_dns_answer_count(f->txt->ans) : 0;
	for (size_t i = 0; i < n; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(f->txt->ans, i);

		if (spf_record_is_spf1(rr->u.txt.data, rr->u.txt.len)) {
			found = rr;
			count++;
		}
	}
	if (f->node != NULL)
		f->node->records = (unsigned)count;
	if (count == 0) {
		frame_finish(job, f, SPF_RESULT_NONE, f->role == ROLE_CHECK ?
			spf_arena_printf(job->arena, "%s has no SPF record", f->domain) : NULL);
		return;
	}
	if (count > 1) {
		frame_finish(job, f, SPF_RESULT_PERMERROR, spf_arena_printf(job->arena,
			"%s publishes %zu v=spf1 records; exactly one is allowed (RFC 7208 §4.5)",
			f->domain, count));
		return;
	}
parse:
	/* parsed first: the record's label is then made in the memo */
	ps = job->scope != SPF_SCOPE_RFC7208 ?
		spf_record_parse_version(job->arena, found->u.txt.data, found->u.txt.len,
			&f->rec, &perr) :
		parse_memo(job, f->txt->ans, found, &f->rec, &perr);
	rnode = trace_add(job, f->node, SPF_TRACE_RECORD,
		record_label(job, f->txt->ans, found));
	slot_recount(job, f->txt);   /* the parsed record (and label) is held too */
	if (rnode != NULL)
		rnode->ttl = found->ttl;
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
	f->phase = 0;
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
	f->phase = 0;
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
	if (f->phase == 0 && walkable(t)) {
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
		decide(job, f, f->ti, qualifier_result(t->qualifier));
		return;
	case T_NOMATCH:
		if (node != NULL)
			node->outcome = SPF_TERM_NO_MATCH;
		f->ti++;
		f->phase = 0;
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
	if (f->phase == 0) {
		if (!count_lookup(job, f, t, &problem))
			goto error;
		f->phase = 1;
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

/* Returns true when the explanation is settled. */
static bool explain(spf_job_t *job)
{
	struct frame *d = job->exp_frame;
	const spf_term_t *t;
	const char *problem = NULL;

	if (job->exp_phase == 0) {
		if (d == NULL || d->rec == NULL || d->rec->exp < 0)
			return true;
		t = &d->rec->terms[d->rec->exp];
		if (spf_macro_uses_ptr(t->domain_spec, t->domain_spec_len) &&
		    !ptr_names(job, job->trace))
			return false;
		d->target = expand(job, d, t->domain_spec, t->domain_spec_len,
			SPF_MACRO_DOMAIN, &problem);
		if (d->target != NULL)
			d->target = strip_dot(job, d->target);
		if (d->target == NULL || !spf_name_ok(d->target)) {
			job->exp_phase = 3;
			return true;
		}
		job->exp_slot = ask(job, trace_add(job, job->trace, SPF_TRACE_EXP,
			spf_arena_printf(job->arena, "exp=%s", d->target)),
			d->target, SPF_RR_TXT);
		job->exp_phase = 1;
		return false;
	}
	if (job->exp_phase == 1) {
		const spf_dns_rr_t *rr;
		const char *text;

		job->exp_phase = 3;
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
			job->exp_phase = 2;
			if (!ptr_names(job, job->trace))
				return false;
		}
		text = expand(job, d, (const char *)rr->u.txt.data, rr->u.txt.len,
			SPF_MACRO_EXP, NULL);
		if (text != NULL)
			job->explanation = text;
		return true;
	}
	if (job->exp_phase == 2) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(job->exp_slot->ans, 0);
		const char *text;

		if (!ptr_names(job, job->trace))
			return false;
		job->exp_phase = 3;
		text = expand(job, d, (const char *)rr->u.txt.data, rr->u.txt.len,
			SPF_MACRO_EXP, NULL);
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
		job->exp_phase < 3;
}

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

static void job_run(spf_job_t *job)
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
		if (spf_job_memory(job) > job->budget) {
			job->over_budget = true;
			finish_job(job);
			break;
		}
		if (f == NULL) {
			/* check_host() of the root frame is done */
			if (fetching_explanation(job)) {
				if (job->exp_frame == NULL)
					job->exp_frame = job->root->decider;
				if (job->explanation == NULL) {
					const char *dflt = job->default_exp;

					job->explanation = expand(job, job->exp_frame ?
						job->exp_frame : job->root, dflt, strlen(dflt),
						SPF_MACRO_EXP, NULL);
					if (job->explanation == NULL)
						job->explanation = dflt;
				}
				if (!explain(job))
					continue;
				job->exp_phase = 3;
				continue;
			}
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
	job->running = false;
	if (job->done && job->cb != NULL) {
		spf_done_cb cb = job->cb;

		job->cb = NULL;
		cb(job, job->cb_arg);
	}
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
	for (struct slot *sl = job->slots; sl != NULL; sl = sl->next) {
		spf_dns_query_cancel(sl->q);
		sl->q = NULL;
	}
	spf_dns_query_cancel(job->kick);
	job->kick = NULL;
	job->pending = 0;
	if (fetching_explanation(job)) {
		job->exp_phase = 3;
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

static void on_kick(const spf_dns_answer_t *ans, void *arg)
{
	spf_job_t *job = arg;

	(void)ans;
	job->kick = NULL;
	job_run(job);
}

/* ---- the memory budget of evaluations in flight (issue 21) ---- */

/* The jobs of one start domain waiting, in arrival order. */
struct dq {
	char *domain;
	spf_job_t *head, *tail;
	struct dq *prev, *next;
};

struct spf_budget {
	size_t limit;
	spf_job_t *flight;           /* admitted and not done */
	struct dq *first, *last;     /* domains waiting; first is served next */
	spf_budget_stats_t st;
};

spf_budget_t *spf_budget_create(size_t limit)
{
	spf_budget_t *b = spf_calloc(1, sizeof(*b));

	if (b != NULL)
		b->limit = b->st.limit = limit ? limit : SPF_BUDGET_DEFAULT;
	return b;
}

void spf_budget_destroy(spf_budget_t *b)
{
	if (b == NULL)
		return;
	/* jobs are destroyed first: nothing waits any more */
	while (b->first != NULL) {
		struct dq *d = b->first;

		b->first = d->next;
		spf_free(d->domain);
		spf_free(d);
	}
	spf_free(b);
}

static size_t job_charge(const spf_job_t *job)
{
	size_t m = spf_job_memory(job);

	return m > SPF_BUDGET_JOB_RESERVE ? m : SPF_BUDGET_JOB_RESERVE;
}

static size_t budget_used(const spf_budget_t *b)
{
	size_t used = 0;

	for (const spf_job_t *j = b->flight; j != NULL; j = j->fnext)
		used += job_charge(j);
	return used;
}

void spf_budget_stats(const spf_budget_t *b, spf_budget_stats_t *out)
{
	if (b == NULL || out == NULL)
		return;
	*out = b->st;
	out->used = budget_used(b);
}

bool spf_job_waiting(const spf_job_t *job)
{
	return job != NULL && job->waiting;
}

/* Room for one more job?  Always when none is in flight. */
static bool budget_fits(spf_budget_t *b)
{
	size_t used;

	if (b->flight == NULL)
		return true;
	used = budget_used(b);
	if (used > b->st.peak)
		b->st.peak = used;
	return used <= b->limit && b->limit - used >= SPF_BUDGET_JOB_RESERVE;
}

static void flight_add(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;

	job->in_flight = true;
	job->fprev = NULL;
	job->fnext = b->flight;
	if (b->flight != NULL)
		b->flight->fprev = job;
	b->flight = job;
	b->st.in_flight++;
	b->st.admitted++;
}

/* Queue job behind the others of its domain; false on ENOMEM. */
static bool queue_add(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;
	struct dq *d;

	for (d = b->first; d != NULL; d = d->next)
		if (spf_streq_nocase(d->domain, job->start_domain))
			break;
	if (d == NULL) {
		d = spf_calloc(1, sizeof(*d));
		if (d != NULL)
			d->domain = spf_strdup(job->start_domain);
		if (d == NULL || d->domain == NULL) {
			spf_free(d);
			return false;
		}
		d->prev = b->last;
		if (b->last != NULL)
			b->last->next = d;
		else
			b->first = d;
		b->last = d;
	}
	if (d->tail != NULL)
		d->tail->qnext = job;
	else
		d->head = job;
	d->tail = job;
	job->qnext = NULL;
	job->dq = d;
	job->waiting = true;
	b->st.waiting++;
	b->st.waited++;
	return true;
}

static void dq_unlink(spf_budget_t *b, struct dq *d)
{
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		b->first = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	else
		b->last = d->prev;
	d->prev = d->next = NULL;
}

/* Take job out of its domain's queue. */
static void queue_remove(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;
	struct dq *d = job->dq;
	spf_job_t **pp = &d->head, *prev = NULL;

	while (*pp != NULL && *pp != job) {
		prev = *pp;
		pp = &(*pp)->qnext;
	}
	if (*pp == job) {
		*pp = job->qnext;
		if (d->tail == job)
			d->tail = prev;
	}
	job->waiting = false;
	job->dq = NULL;
	b->st.waiting--;
	if (d->head == NULL) {
		dq_unlink(b, d);
		spf_free(d->domain);
		spf_free(d);
	}
}

static void on_kick(const spf_dns_answer_t *ans, void *arg);
static void on_deadline(const spf_dns_answer_t *ans, void *arg);

/* Start the job's evaluation: its first turn and its deadline. */
static bool job_go(spf_job_t *job)
{
	job->kick = spf_resolver_call_later(job->res, on_kick, job);
	job->deadline = job->kick != NULL ? spf_resolver_call_after(job->res,
		job->deadline_ms, on_deadline, job) : NULL;
	if (job->deadline == NULL) {
		spf_dns_query_cancel(job->kick);
		job->kick = NULL;
		return false;
	}
	return true;
}

/* Admit waiting jobs while there is room: the first job of the domain
 * first in line, which then goes to the end of the line. */
static void budget_pump(spf_budget_t *b)
{
	while (b->first != NULL && budget_fits(b)) {
		struct dq *d = b->first;
		spf_job_t *job = d->head;

		if (!job_go(job))
			return;   /* out of memory: retried when a job leaves */
		queue_remove(job);
		if (b->first == d && d->next != NULL) {
			dq_unlink(b, d);
			d->prev = b->last;
			b->last->next = d;
			b->last = d;
		}
		flight_add(job);
	}
}

/* The job is done or destroyed: it leaves its budget. */
static void budget_leave(spf_job_t *job)
{
	spf_budget_t *b = job->pbudget;

	if (b == NULL)
		return;
	if (job->waiting) {
		queue_remove(job);
		b->st.dropped++;
	} else if (job->in_flight) {
		size_t used = budget_used(b);

		if (used > b->st.peak)
			b->st.peak = used;
		if (job->fprev != NULL)
			job->fprev->fnext = job->fnext;
		else
			b->flight = job->fnext;
		if (job->fnext != NULL)
			job->fnext->fprev = job->fprev;
		job->in_flight = false;
		b->st.in_flight--;
	}
	job->pbudget = NULL;
	budget_pump(b);
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
	job->cb = done_cb;
	job->cb_arg = arg;
	job->void_limit = req->void_limit ? req->void_limit : 2;
	job->default_exp = spf_arena_strdup(arena, req->default_explanation ?
		req->default_explanation : SPF_DEFAULT_EXPLANATION);
	job->mctx.ip = req->ip;
	job->mctx.receiver = req->receiver ? spf_arena_strdup(arena, req->receiver) : NULL;
	job->mctx.now = req->now ? req->now : time(NULL);

	/* RFC 7208 §2.3, §2.4, §4.3: the identity as check_host() sees it
	 * (identity.c: the one reader of senders and HELO names) */
	pst = spf_identity_parse(arena, NULL, req->sender, req->helo,
		req->identity, &parts, NULL);
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
	job->root = push_frame(job, NULL, ROLE_CHECK, domain, NULL);
	if (job->root == NULL || job->root->node == NULL)
		goto fail_job;
	job->trace = job->root->node;
	job->trace->role = req->identity == SPF_IDENTITY_HELO ? "helo" : "mfrom";
	/* Sender ID (RFC 4406, issue 5) */
	if (req->scope == SPF_SCOPE_MFROM || req->scope == SPF_SCOPE_PRA) {
		job->scope = req->scope;
		job->v1_for_pra = req->v1_for_pra;
		job->spf99 = req->query_spf99;
		if (req->scope == SPF_SCOPE_PRA)
			job->trace->role = "pra";
	}
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
	job->lean = req->lean_trace;
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
const char *spf_job_sender(const spf_job_t *job) { return job->mctx.sender; }
const char *spf_job_start_domain(const spf_job_t *job) { return job->start_domain; }
const spf_trace_t *spf_job_trace(const spf_job_t *job) { return job->trace; }
size_t spf_job_arena_memory(const spf_job_t *job)
{
	return spf_arena_used(job->arena);
}

size_t spf_job_memory(const spf_job_t *job)
{
	return spf_arena_used(job->arena) + job->held;
}

static void sync_done(spf_job_t *job, void *arg)
{
	(void)job;
	*(bool *)arg = true;
}

spf_job_t *spf_check_sync(spf_resolver_t *res, const spf_request_t *req,
	spf_status_t *status)
{
	bool done = false;
	spf_job_t *job = spf_check_start(res, req, sync_done, &done, status);

	if (job == NULL)
		return NULL;
	spf_resolver_run_until(res, &done);
	if (!done) {
		/* the loop ran dry without an answer: cannot happen with a
		 * working resolver; report it rather than hang */
		job->result = SPF_RESULT_TEMPERROR;
		set_problem(job, "internal error: the event loop stopped before the check finished");
		job->done = true;
	}
	return job;
}
