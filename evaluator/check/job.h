/*
 * job.h - the evaluation job shared by the files of evaluator/check/
 * (internal: nothing outside this folder includes it).
 *
 * DESCRIPTION
 *	One spf_job_t evaluates one identity (eval.c).  Its state is split
 *	by concern over these files, which share the types below:
 *	  eval.c      the frames' states, mechanisms, limits, the
 *	              explanation, completion, spf_check_start() and the
 *	              accessors;
 *	  sync.c      running the loop until a group of checks and queries
 *	              is answered (spf_check_sync());
 *	  query.c     the lookups a job waits for (slots) and the validated
 *	              PTR names (RFC 7208 §5.5);
 *	  target.c    domain-spec -> target name (spf_term_target() with
 *	              the message's macro values), explanation texts;
 *	  memo.c      records parsed once per cached answer;
 *	  prefetch.c  speculative prefetch (the "walk");
 *	  trace.c     the trace tree's nodes;
 *	  budget.c    the memory budget of the evaluations in flight.
 *
 * OWNERSHIP
 *	The job and everything reachable from it (frames, slots, sframes,
 *	pf records, trace nodes, expanded names, problem texts) live in the
 *	job's arena (job->arena) and are freed together by
 *	spf_job_destroy(); nothing here is freed on its own.  The
 *	exceptions are references, counted in job->held:
 *	  - slot->ans: a reference on a resolver answer, dropped by
 *	    slot_release() (finish_job() drops all but the records', and
 *	    spf_job_destroy() the rest);
 *	  - sframe->ans: dropped by walk_pop() / walk_stop();
 *	  - the answers' parse memos (memo.c) belong to the answer and die
 *	    with it (spf_dns_answer_set_memo()).
 *	Pending queries (slot->q, pf->q, job->kick, job->deadline) are
 *	cancelled by finish_job() or spf_job_destroy().  The budget's
 *	queue entries (struct dq) are heap-allocated and freed by budget.c.
 */
#ifndef SPF_CHECK_JOB_H
#define SPF_CHECK_JOB_H

#include "internal.h"

#define MAX_DNS_TERMS 10   /* RFC 7208 §4.6.4 */
#define MAX_MX_NAMES 10    /* RFC 7208 §4.6.4 */
#define MAX_PTR_NAMES 10   /* RFC 7208 §4.6.4 */
#define MAX_FRAMES 24      /* safety net; the term limit bounds depth */
#define MAX_EXPANSION 4096 /* bound on one explanation's expansion */
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

/* Where eval_mech() (and st_after() for redirect) resumes the term in
 * progress after a wait. */
enum term_step {
	TS_COUNT,       /* count the DNS-querying term (RFC 7208 §4.6.4) */
	TS_TARGET,      /* expand the target (§4.8, §7), send the first query
	                 * or push the include's frame */
	TS_ANSWERED,    /* the first query answered (mx: its exchanges are
	                 * asked for next), or the included check returned */
	TS_MX_HOSTS,    /* mx: the exchanges' addresses answered (§5.4) */
	TS_MX_COUNTED,  /* mx: the hosts without an answer were counted
	                 * (spf_job_host_voids(); void lookups per query) */
	TS_PTR_NAMES,   /* ptr: the client's validated names (§5.5) */
	TS_PTR_COUNTED, /* ptr: no names was counted as a void lookup */
};

/* The client's validated names (ptr and %{p}, RFC 7208 §5.5): found once
 * per job, by ptr_names(). */
enum ptr_step {
	PTR_ASK,        /* ask for the PTR names */
	PTR_NAMES,      /* they answered: ask for each name's addresses */
	PTR_FORWARD,    /* the addresses answered: keep the names that match */
	PTR_DONE,       /* job->ptr_valid holds the validated names */
};

/* The explanation (RFC 7208 §6.2), the job's last state: explain(). */
enum exp_step {
	EXP_TARGET,     /* expand exp='s domain-spec and ask for its TXT */
	EXP_TXT,        /* the TXT answered: check and expand it */
	EXP_PTR,        /* it uses %{p}: the validated names answered */
	EXP_DONE,       /* the explanation is settled */
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
	enum term_step step;
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
	PF_AHEAD,     /* the same, fetched ahead of an include not known
	               * to fail (prefetch.c, walk_ahead()) */
};

/* At most this many include and redirect targets fetched ahead and not
 * reached yet, per job (and never more than the void limit). */
#define PF_AHEAD_MAX 2

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
	uint64_t seq;             /* started as the seq-th: its rank among
	                           * the queries waiting for the wire */
	spf_arena_t *arena;
	spf_done_cb cb;
	void *cb_arg;
	spf_macro_ctx_t mctx;
	const char *default_exp;
	unsigned void_limit;
	spf_void_count_t void_count;   /* SPF_VOID_PER_QUERY: MX hosts count */
	unsigned host_voids;           /* spf_job_host_voids() */
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
	/* the deadline (RFC 7208 §4.6.4), counted from job_go() (go_us,
	 * CLOCK_MONOTONIC); its timer is armed when the job first
	 * waits (a job that never waits cannot overrun it) */
	spf_dns_query_t *deadline;
	unsigned deadline_ms;
	uint64_t go_us;
	bool timed_out;
	const char *stopped;      /* the loop stopped first (job_stop()) */
	/* speculative prefetch */
	bool prefetch;
	bool lean;                /* no answer texts in the trace */
	bool notrace;             /* no trace at all (no_trace): no nodes */
	FILE *debug;              /* spf_request_t.debug */
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
	const char *ahead[PF_AHEAD_MAX];   /* fetched ahead, not reached */
	unsigned n_ahead;
	/* validated PTR names, computed once per job (RFC 7208 §5.5);
	 * want_ptr: also after the result (spf_request_t.want_ptr_name) */
	bool want_ptr;
	enum ptr_step ptr_step;
	spf_dns_status_t ptr_status;
	struct slot *ptr_slot;
	struct slot *ptr_hosts[MAX_PTR_NAMES];
	size_t nptr_hosts;
	const char *ptr_valid[MAX_PTR_NAMES];
	size_t nptr_valid;
	/* explanation */
	enum exp_step exp_step;
	struct frame *exp_frame;
	struct slot *exp_slot;
	/* the memory budget (spf_budget_t): in its list of jobs in flight,
	 * or waiting in its queue (qnext within the domain's queue) */
	spf_budget_t *pbudget;
	bool in_flight;
	bool waiting;
	size_t charged;              /* in flight: what the budget counts for
	                              * it (budget_charge()) */
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

/* ---- small helpers shared by every file (inline: on hot paths) ---- */

static inline spf_dns_status_t slot_status(const struct slot *s)
{
	return s != NULL ? s->status : SPF_DNS_TEMPFAIL;
}

static inline bool is_void(spf_dns_status_t st)
{
	return st == SPF_DNS_NODATA || st == SPF_DNS_NXDOMAIN;
}

/* memo.c: what an answer's parse memo costs (0 without one), kept up
 * to date as the memo grows; rec_memo_recount() counts it again (the
 * two are equal, test_eval test_memo_bytes) */
size_t rec_memo_bytes(const spf_dns_answer_t *ans);
size_t rec_memo_recount(const spf_dns_answer_t *ans);

/* What holding ans costs the job: the answer and, for a record, the
 * parse memo it carries (rec_memo_bytes()). */
static inline size_t hold_cost(const spf_dns_answer_t *ans)
{
	return spf_dns_answer_bytes(ans) + rec_memo_bytes(ans);
}

/* Let go of a slot's answer (what was needed from it is copied). */
static inline void slot_release(spf_job_t *job, struct slot *s)
{
	if (s == NULL || s->ans == NULL)
		return;
	spf_dns_answer_unref(s->ans);
	s->ans = NULL;
	job->held -= s->bytes;
	s->bytes = 0;
}

/* The slot's answer got a memo (its record was parsed): count it. */
static inline void slot_recount(spf_job_t *job, struct slot *s)
{
	if (s == NULL || s->ans == NULL)
		return;
	job->held -= s->bytes;
	s->bytes = hold_cost(s->ans);
	job->held += s->bytes;
}

/* ---- eval.c ---- */
void job_run(spf_job_t *job);

/* What the job holds (spf_job_memory()): its arena and the answers and
 * records it references (held).  Inline: job_run() asks at every step. */
static inline size_t job_memory(const spf_job_t *job)
{
	return spf_arena_used(job->arena) + job->held;
}

bool job_go(spf_job_t *job);
/* End a job that is not done as temperror with problem (static text):
 * its queries and timers cancelled, its callback dropped (sync.c calls
 * it when the loop stopped before the job finished). */
void job_stop(spf_job_t *job, const char *problem);

/* ---- trace.c: nodes live in job->arena; NULL (and job->oom) when out
 * of memory ---- */
spf_trace_t *trace_add(spf_job_t *job, spf_trace_t *parent,
	spf_trace_kind_t kind, const char *label);
void trace_note(spf_job_t *job, spf_trace_t *parent, const char *text);
const char *rr_text_in(spf_arena_t *arena, const spf_dns_rr_t *rr);
const char *rr_text(spf_job_t *job, const spf_dns_rr_t *rr);
const char *answer_text(spf_job_t *job, const spf_dns_answer_t *ans);
void trace_run(spf_job_t *job, struct frame *f, size_t end,
	spf_term_outcome_t outcome);
spf_trace_t *term_node_add(spf_job_t *job, struct frame *f, size_t i);
spf_trace_t *term_node_lazy(spf_job_t *job, struct frame *f, size_t i);

/* The trace node of term i of f's record, made now if the trace is
 * lazy (term_node_lazy()); NULL without a trace or when out of memory.
 * In a lazy trace terms are asked for in record order (the terms before
 * i without a node are summarised).  Inline: asked at every term, and
 * most evaluations have no trace. */
static inline spf_trace_t *term_node(spf_job_t *job, struct frame *f, size_t i)
{
	if (job->notrace)
		return NULL;
	if (!f->lazy)
		return f->term_nodes[i];
	return term_node_lazy(job, f, i);
}
spf_trace_t *term_node_peek(const struct frame *f, size_t i);

/* ---- query.c: slots live in job->arena; a kept answer is referenced
 * until slot_release() ---- */
struct slot *ask(spf_job_t *job, spf_trace_t *under, const char *name,
	uint16_t type);
struct slot *ask_match(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, int cidr4, int cidr6);
/* ask(), and *at_hand: whether the answer was at hand when asked
 * (spf_resolver_answer_at_hand(), without a second cache lookup when
 * the cache has it) */
struct slot *ask_at_hand(spf_job_t *job, spf_trace_t *under,
	const char *name, uint16_t type, bool *at_hand);
const char *slot_why(spf_job_t *job, const struct slot *s);
bool ptr_names(spf_job_t *job, spf_trace_t *under);
bool name_under(const char *name, const char *domain);
const char *ptr_macro_value(spf_job_t *job, const char *domain);

/* ---- target.c: names and texts returned are in job->arena (or are
 * the term's own or the domain) ---- */
/* The target of t at domain (spf_term_target() with the message's macro
 * values).  T_MATCH with *tg filled; T_WAIT while %{p} is resolved (its
 * lookups under node "under"); T_PERMERROR with *problem set (if not
 * NULL), or with job->oom set. */
enum tres job_target(spf_job_t *job, const char *domain,
	const spf_term_t *t, spf_trace_t *under, spf_target_t *tg,
	const char **problem);
/* job_target() for a term of frame f: f->target is the name, NULL when
 * it is not a valid domain name; the trace node notes both. */
enum tres term_target(spf_job_t *job, struct frame *f,
	const spf_term_t *t, spf_trace_t *node, const char **problem);
/* An explanation text expanded at f's domain (RFC 7208 §6.2), or NULL
 * (invalid, too long, or out of memory: job->oom). */
const char *expand_text(spf_job_t *job, struct frame *f, const char *s,
	size_t len);

/* ---- memo.c: the record and label returned belong to the answer's
 * memo (valid while the answer is referenced) or to job->arena ---- */
spf_status_t parse_memo(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr, spf_record_t **out, spf_parse_error_t *err);
const char *record_label(spf_job_t *job, const spf_dns_answer_t *ans,
	const spf_dns_rr_t *rr);
/* The selection of RFC 7208 §4.5 in the TXT answer ans, as
 * spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, ...) makes it, kept
 * in ans's memo when the memo was made: true and *out filled when ans
 * has a memo, false otherwise (then select). */
bool memo_select_spf1(const spf_dns_answer_t *ans, spf_selection_t *out);

/* ---- prefetch.c ---- */
void walk_sync(spf_job_t *job, struct frame *f);
void prefetch_cancel(spf_job_t *job, enum wstate to);

/* ---- budget.c ---- */
bool budget_fits(spf_budget_t *b);
void flight_add(spf_job_t *job);
bool queue_add(spf_job_t *job);
void budget_leave(spf_job_t *job);
void budget_recharge(spf_job_t *job, size_t charge);

/* What a job in flight that uses memory counts for: at least
 * SPF_BUDGET_JOB_RESERVE. */
static inline size_t budget_charge_of(size_t memory)
{
	return memory > SPF_BUDGET_JOB_RESERVE ? memory : SPF_BUDGET_JOB_RESERVE;
}

/* A job in flight uses memory now (job_memory()): count that.  Inline:
 * job_run() calls it at every step, and the charge seldom changes. */
static inline void budget_charge(spf_job_t *job, size_t memory)
{
	size_t c = budget_charge_of(memory);

	if (job->pbudget != NULL && job->in_flight && c != job->charged)
		budget_recharge(job, c);
}

#endif
