/*
 * spf.h - the public interface of spfcheck's SPF evaluator.
 *
 * DESCRIPTION
 *	spf_check_start() runs RFC 7208 check_host() as a non-blocking job on
 *	a resolver (dns/spf_dns.h).  Each DNS need is a query; the job
 *	suspends until its callback and resumes from the event loop.
 *	include and redirect push frames on the job; nothing recurses on
 *	network data.  When the job is done, done_cb is called once; the
 *	result, the deciding term, the explanation, the problem text, the
 *	lookup counts and the trace tree are then read with the accessors.
 *
 *	Everything a job allocates lives in its arena and dies with
 *	spf_job_destroy().
 */
#ifndef SPF_H
#define SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "spf_dns.h"

/* RFC 7208 §2.6: the seven results, nothing else. */
typedef enum {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
} spf_result_t;

/* "none", "neutral", "pass", ... (lower case, static). */
const char *spf_result_str(spf_result_t r);
/* Parse a result name, case-insensitive; false if unknown. */
bool spf_result_parse(const char *s, spf_result_t *out);

/* An IP address.  IPv4-mapped IPv6 addresses are stored as IPv4
 * (RFC 7208 §5: they are treated as IPv4). */
typedef struct {
	int family;          /* 4 or 6 */
	uint8_t addr[16];    /* IPv4 in the first 4 bytes */
} spf_addr_t;

/* Parse a textual address; false if it is not an IPv4 or IPv6 address. */
bool spf_addr_parse(const char *s, spf_addr_t *out);
/* Canonical text (dotted quad or RFC 5952); buf at least 46 bytes. */
const char *spf_addr_str(const spf_addr_t *a, char *buf, size_t len);
/* Does a match the network net/prefix (same family required)? */
bool spf_addr_in_net(const spf_addr_t *a, const spf_addr_t *net, unsigned prefix);

typedef enum {
	SPF_IDENTITY_MFROM = 0,   /* RFC 7208 §2.4 MAIL FROM */
	SPF_IDENTITY_HELO,        /* RFC 7208 §2.3 HELO */
} spf_identity_t;

/* Which records a check reads (issue 5, SenderID).  SPF_SCOPE_RFC7208,
 * the default, is RFC 7208: TXT only, v=spf1 only (§4.5).  The Sender
 * ID scopes select per RFC 4406 §4.4: spf2.x records for the scope
 * win over v=spf1; several candidates are permerror; the same rule at
 * every include and redirect target. */
typedef enum {
	SPF_SCOPE_RFC7208 = 0,
	SPF_SCOPE_MFROM,          /* RFC 4406 "mfrom": the MAIL FROM identity */
	SPF_SCOPE_PRA,            /* RFC 4406 "pra": the RFC 4407 PRA */
} spf_scope_t;

/* How void lookups are counted (RFC 7208 §4.6.4; issue 17).
 * SPF_VOID_RFC, the default: a void lookup is a query of a term (a, mx,
 * ptr, exists, include's TXT) that gets no answer, so an mx term costs
 * at most one.  SPF_VOID_PER_QUERY: as pyspf (and so pypolicyd-spf) and
 * Mail::SPF also do, every address query of an MX host that gets no
 * answer counts too: an MX whose hosts have no AAAA spends a void lookup
 * per host for an IPv6 client (no A: for an IPv4 client), and passes the
 * limit where RFC 7208 counting does not. */
typedef enum {
	SPF_VOID_RFC = 0,
	SPF_VOID_PER_QUERY,
} spf_void_count_t;

/* The memory budget of evaluations in flight (below). */
typedef struct spf_budget spf_budget_t;

struct spf_identity_parts;

/* What to check.  Strings are borrowed for the duration of the call. */
typedef struct {
	spf_addr_t ip;
	/* MAIL FROM address: "user@domain", "@domain" or "" (null sender:
	 * postmaster@helo, RFC 7208 §2.4).  For SPF_IDENTITY_HELO it is
	 * ignored and postmaster@helo is checked. */
	const char *sender;
	const char *helo;                 /* may be NULL or "" */
	/* NULL, or sender and helo as spf_identity_read() (or
	 * spf_identity_parse()) already read them, by a caller that checked
	 * them first: spf_check_start() then picks the identity from these
	 * (spf_identity_pick()) and does not read sender and helo again */
	const struct spf_identity_parts *identities;
	spf_identity_t identity;
	const char *receiver;             /* %{r}; NULL means "unknown" */
	const char *default_explanation;  /* NULL: the built-in text */
	unsigned void_limit;              /* 0: RFC default 2 */
	spf_void_count_t void_count;      /* 0: SPF_VOID_RFC */
	time_t now;                       /* %{t}; 0: time(NULL) */
	/* whole-evaluation deadline (RFC 7208 §4.6.4: at least 20 s);
	 * when it passes the result is temperror.  0: 20000 ms */
	unsigned deadline_ms;
	/* do not start the lookups of terms before they are evaluated
	 * (speculative prefetch is on by default; results are identical) */
	bool no_prefetch;
	/* leave the answer texts out of the trace's DNS nodes (their
	 * detail stays NULL): for callers that never show the trace, such
	 * as batch and the policy service */
	bool lean_trace;
	/* when a lookup limit is exceeded, keep evaluating (up to 30 DNS-
	 * querying terms) for the trace only, marking those terms and
	 * frames beyond_limit; an include or redirect back into a domain
	 * being evaluated (a loop) is not followed then.  The result, the
	 * deciding term and the counts stay those of the limit, exactly as
	 * without this flag (for explain) */
	bool trace_past_limits;
	/* the memory budget the job runs under (see spf_budget_t), borrowed
	 * for the job's life; NULL: none */
	spf_budget_t *budget;
	/* SenderID (RFC 4406; issue 5).  scope: see spf_scope_t; sender is
	 * then the address of that scope (the PRA for SPF_SCOPE_PRA). */
	spf_scope_t scope;
	/* scope pra: use v=spf1 when no spf2.x record covers pra (RFC 4406
	 * §3.4, Microsoft's receivers).  false (default): spf2.x only, as
	 * Mail::SPF and RFC 7208 §2.4 would have it. */
	bool v1_for_pra;
	/* with a SenderID scope: also query type SPF (99); when it has
	 * records, TXT is ignored (RFC 4406 §4.4).  false: TXT only. */
	bool query_spf99;
	/* the most memory one evaluation may hold (spf_job_memory());
	 * past it the result is temperror: the domain may be fine, the
	 * receiver declines the cost.  0: SPF_JOB_MEMORY_BUDGET */
	size_t memory_budget;
	/* when set, one line per state and sub-step the evaluation passes
	 * through is written here (explain --debug): which frame, state,
	 * term and step, and the counters */
	FILE *debug;
	/* once the result is known, also find the client's validated
	 * domain names as ptr does (RFC 7208 §5.5: PTR, then A/AAAA of at
	 * most 10 names), for a caller that shows who the client is
	 * (spf_job_ptr_name()); these lookups count toward no limit and
	 * never change the result */
	bool want_ptr_name;
	/* build no trace at all (spf_job_trace() returns NULL), for a
	 * caller that never reads it (batch without --json, the policy
	 * service); implies lean_trace.  Results, problems, explanations
	 * and counters are the same as with a trace */
	bool no_trace;
} spf_request_t;

/* The default per-evaluation memory budget (README "Limits and resource
 * bounds"): above what the largest legitimate tree holds (10 includes of
 * 60 KB records: about 9 MB with the records and their parses), and as
 * much as one job held before answers were let go on arrival (10 mx
 * terms of hosts with 4,000 addresses each: 16 MB, now about 20 KB). */
#define SPF_JOB_MEMORY_BUDGET (16u * 1024 * 1024)

/* A term's kind: a mechanism (RFC 7208 §5) or a modifier (§6). */
typedef enum {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
} spf_mech_t;

typedef enum {
	SPF_MOD_REDIRECT,
	SPF_MOD_EXP,
	SPF_MOD_UNKNOWN,
} spf_mod_t;

/* The result a matching mechanism gives under its qualifier (§4.6.2). */
static inline spf_result_t spf_qualifier_result(char qualifier)
{
	switch (qualifier) {
	case '-': return SPF_RESULT_FAIL;
	case '~': return SPF_RESULT_SOFTFAIL;
	case '?': return SPF_RESULT_NEUTRAL;
	default: return SPF_RESULT_PASS;
	}
}
/* Does the mechanism cause DNS queries (counts toward the limit of 10)? */
bool spf_mech_queries_dns(spf_mech_t mech);
const char *spf_mech_name(spf_mech_t mech);

/* How a term came out during evaluation (for the trace). */
typedef enum {
	SPF_TERM_NOT_REACHED = 0,
	SPF_TERM_MATCH,
	SPF_TERM_NO_MATCH,
	SPF_TERM_ERROR,
	SPF_TERM_SKIPPED,     /* e.g. redirect ignored because of all */
} spf_term_outcome_t;

/* Trace tree (read-only for callers; lives in the job's arena). */
typedef enum {
	SPF_TRACE_CHECK,      /* one check_host() frame: label = domain */
	SPF_TRACE_RECORD,     /* the record selected: label = record text */
	SPF_TRACE_TERM,       /* one term: label = term text */
	SPF_TRACE_DNS,        /* one query: label = "TYPE name", detail = answer */
	SPF_TRACE_EXP,        /* explanation lookup */
	SPF_TRACE_NOTE,       /* free text (limits, errors) */
} spf_trace_kind_t;

/*
 * One node of the trace.  label and detail are for display (a record
 * quoted and escaped, "TYPE name", an answer in one line); what a
 * formatter decides on is in the typed fields, so that no caller reads
 * the texts back.
 */
typedef struct spf_trace {
	spf_trace_kind_t kind;
	const char *label;
	const char *detail;          /* may be NULL */
	spf_term_outcome_t outcome;  /* for TERM */
	unsigned lookups;            /* DNS-querying terms used so far */
	unsigned voids;              /* void lookups so far */
	uint32_t ttl;                /* for RECORD / DNS */
	bool decisive;               /* the term that decided the result */
	bool beyond_limit;           /* evaluated only for the picture: after
	                              * a limit was exceeded (trace_past_limits);
	                              * for TERM and for CHECK (a frame entered
	                              * past the limit) */
	/* what only one kind of node has (read the members of its kind) */
	union {
		struct {             /* TERM */
			/* the byte span in the record's text (RECORD's
			 * label) and how many terms the node stands for: 1,
			 * or more for a run summarised in one node (a full
			 * trace of a record of over 2,000 terms: ip4/ip6
			 * terms that did not match, terms not reached) */
			size_t offset, len;
			unsigned count;
			/* with count == 1: the term as parsed */
			bool modifier;
			char qualifier;      /* '+', '-', '~', '?' */
			spf_mech_t mech;     /* when !modifier */
			spf_mod_t mod;       /* when modifier */
			const char *value;   /* in label: the argument after ':'
			                      * or '=' ("192.0.2.0/24"); NULL
			                      * without one, and in lean traces */
		};
		struct {             /* CHECK */
			spf_result_t result; /* the frame's result */
			/* the v=spf1 (Sender ID: the scope's) records the
			 * domain publishes; more than one is permerror
			 * (RFC 7208 §4.5, RFC 4406 §4.4) */
			unsigned records;
			const char *role;    /* "check", "include", "redirect" */
		};
		struct {             /* RECORD: the bytes as published */
			const uint8_t *raw;
			size_t raw_len;
		};
		struct {             /* DNS: the query, how it was answered */
			const char *name;
			uint16_t rrtype;
			bool answered;       /* false: no answer (yet, or ever) */
			spf_dns_status_t status;   /* when answered */
		};
	};
	struct spf_trace *parent, *first, *last, *next;
} spf_trace_t;

typedef struct spf_job spf_job_t;
typedef void (*spf_done_cb)(spf_job_t *job, void *arg);

/* ==== the memory budget of evaluations in flight (issue 21) ====
 *
 * One budget for a process's evaluations (the policy service and batch
 * use one each; README "Limits and resource bounds").  A job started
 * with spf_request_t.budget is admitted when the memory of the jobs in
 * flight under the budget, each counted as spf_job_memory() but at least
 * SPF_BUDGET_JOB_RESERVE, leaves room for one more reserve (or when no
 * job is in flight); otherwise it waits in the budget's queue, not yet
 * evaluating, and its deadline (deadline_ms) starts only when it is
 * admitted.  Waiting jobs are admitted in turn by domain (the domain
 * check_host() starts at): round robin over the domains waiting, in
 * arrival order within one, so that one domain's many evaluations do not
 * hold back the others.  A job leaves the budget when it is done or
 * destroyed; a caller that cannot wait longer (a request deadline)
 * destroys the waiting job, which spf_budget_stats() counts as dropped.
 */
#define SPF_BUDGET_DEFAULT (256u * 1024 * 1024)  /* bytes */
#define SPF_BUDGET_JOB_RESERVE (64u * 1024)      /* a job counts at least this */

typedef struct {
	size_t limit;              /* bytes */
	size_t used;               /* now: the jobs in flight, as counted above */
	size_t peak;               /* the most used has been */
	size_t in_flight;          /* jobs admitted and not done */
	size_t waiting;            /* jobs in the queue now */
	unsigned long admitted;    /* jobs admitted, ever */
	unsigned long waited;      /* of those and the dropped: had to wait */
	unsigned long dropped;     /* destroyed while waiting */
} spf_budget_stats_t;

/* A budget of limit bytes (0: SPF_BUDGET_DEFAULT).  NULL on ENOMEM.
 * Destroy it after every job started with it. */
spf_budget_t *spf_budget_create(size_t limit);
void spf_budget_destroy(spf_budget_t *b);      /* NULL is a no-op */
void spf_budget_stats(const spf_budget_t *b, spf_budget_stats_t *out);
/* Is the job waiting in its budget's queue (not evaluating yet)? */
bool spf_job_waiting(const spf_job_t *job);

/*
 * Start check_host() for req on res.  done_cb(job, arg) is called once
 * from the event loop (never from inside this call).  Returns NULL on
 * ENOMEM or if req is invalid (then *status, if not NULL, says which).
 * The caller owns the job and destroys it (also from inside done_cb).
 */
spf_job_t *spf_check_start(spf_resolver_t *res, const spf_request_t *req,
	spf_done_cb done_cb, void *arg, spf_status_t *status);
/* Cancel (if still running) and free.  NULL is a no-op. */
void spf_job_destroy(spf_job_t *job);

bool spf_job_done(const spf_job_t *job);
spf_result_t spf_job_result(const spf_job_t *job);
/* The term that decided ("-all", "ip4:192.0.2.0/24"), "default" when no
 * term matched, or NULL when evaluation did not get that far. */
const char *spf_job_mechanism(const spf_job_t *job);
/* The domain whose record decided (after redirects), or NULL. */
const char *spf_job_domain(const spf_job_t *job);
/* The explanation (RFC 7208 §6.2) for fail; NULL otherwise. */
const char *spf_job_explanation(const spf_job_t *job);
/* Why permerror/temperror (or none for a malformed domain); else NULL. */
const char *spf_job_problem(const spf_job_t *job);
unsigned spf_job_lookups(const spf_job_t *job);
unsigned spf_job_void_lookups(const spf_job_t *job);
/* The address queries of MX hosts that got no answer (NXDOMAIN or no
 * record of the client's family), up to where evaluation stopped: void
 * lookups under SPF_VOID_PER_QUERY, none under SPF_VOID_RFC.  When it is
 * 0 the other counting gives the same result; otherwise evaluate again
 * with the other spf_void_count_t to know. */
unsigned spf_job_host_voids(const spf_job_t *job);
/* Did the job pass one of the processing limits of RFC 7208 §4.6.4 (10
 * DNS-querying terms, the void-lookup limit)?  Its result is then the
 * limit's permerror. */
bool spf_job_past_limit(const spf_job_t *job);
/* The domain check_host() started at, and the sender used. */
const char *spf_job_sender(const spf_job_t *job);
const char *spf_job_start_domain(const spf_job_t *job);
/* The trace's root (NULL when the request asked for no_trace). */
const spf_trace_t *spf_job_trace(const spf_job_t *job);
/* With want_ptr_name: the client's first validated name (RFC 7208 §5.5),
 * lower case as answered, or NULL when it has none (no PTR, no name
 * whose addresses include the client, a DNS error).  Lives as long as
 * the job. */
const char *spf_job_ptr_name(const spf_job_t *job);
/* The memory the job holds: what its arena has handed out (terms,
 * names, trace, texts) plus the DNS answers it references and the
 * records parsed from them (shared with the cache, but kept alive by the
 * job).  A job keeps only the answers holding SPF records; from any
 * other it keeps what it needs (does the client match, the status, a
 * bounded summary for the trace) and lets the answer go on arrival.
 * Bounded by the request's memory_budget; see README "Limits and
 * resource bounds". */
size_t spf_job_memory(const spf_job_t *job);
/* The job's own part of that: what its arena has handed out, without
 * the answers and parsed records it shares with the cache and other
 * jobs.  Bounded by the limits, not by the size of the records: the
 * worst tree (10 includes of 60 KB records) takes about 10 KB lean. */
size_t spf_job_arena_memory(const spf_job_t *job);

/*
 * What the output needs of a finished job, without the job (summary.c,
 * issue 22).  A finished job still holds its arena and its records (up
 * to SPF_JOB_MEMORY_BUDGET); a caller that evaluates HELO and then MAIL
 * FROM for one message keeps the HELO identity's summary instead, and
 * destroys that job before the next one starts.  A few hundred bytes:
 * the texts are bounded by the identity, domain and macro-expansion
 * limits.  The fields mean what the accessors of the same name say.
 */
typedef struct {
	spf_result_t result;
	const char *sender;        /* spf_job_sender() */
	const char *start_domain;  /* spf_job_start_domain() */
	const char *domain;        /* spf_job_domain(), or NULL */
	const char *mechanism;     /* spf_job_mechanism(), or NULL */
	const char *explanation;   /* spf_job_explanation(), or NULL */
	const char *problem;       /* spf_job_problem(), or NULL */
	unsigned lookups, void_lookups;
	unsigned host_voids;       /* spf_job_host_voids() */
} spf_job_summary_t;

/* Fill *out from a finished job, its texts borrowed from the job (valid
 * until it is destroyed). */
void spf_job_summary_view(const spf_job_t *job, spf_job_summary_t *out);
/* The summary of a finished job, with copies of its texts (owned by the
 * summary; the job may be destroyed at once).  NULL on ENOMEM, or when
 * job is NULL or not done.  Free it with spf_job_summary_destroy(). */
spf_job_summary_t *spf_job_summarize(const spf_job_t *job);
/* Free a summary and its texts.  NULL is a no-op. */
void spf_job_summary_destroy(spf_job_summary_t *s);

/* ==== identities as SMTP delivers them (identity.c) — issue 12 ==== */

/* The longest MAIL FROM or HELO name evaluated, in bytes (Postfix's
 * line_length_limit; RFC 5321 §4.5.3.1.4 lets extensions go past 512). */
#define SPF_IDENTITY_MAX 2048

/* One identity read by spf_identity_parse().  Strings live in the arena
 * given to it, or are borrowed from its arguments. */
typedef struct spf_identity_parts {
	spf_addr_t ip;          /* the client address, when one was given */
	/* the MAIL FROM as given without "<...>", its domain as the A-label
	 * when it is a U-label that converts; "" for the null sender */
	const char *sender;
	bool null_sender;       /* "" or "<>" */
	/* the HELO name (%{h}), as the A-label when it is a U-label that
	 * converts; NULL when there is none */
	const char *helo;
	/* what check_host() gets for the identity asked for (RFC 7208 §2.3,
	 * §2.4, §4.3): "local@domain", the local-part (%{l}: the bytes as
	 * given, quotes and all; "postmaster" when there is none) and the
	 * <domain> (no final dot) */
	const char *checked;
	const char *local;
	const char *domain;
	/* why domain is not a domain name, so that check_host() returns
	 * none (RFC 7208 §4.3), or NULL */
	const char *malformed;
	/* why the sender's domain / the HELO name did not convert to an
	 * A-label (IDNA2008), or NULL: what spf_identity_pick() words as
	 * malformed */
	const char *sender_idn_why;
	const char *helo_idn_why;
} spf_identity_parts_t;

/*
 * Read the identities of one SMTP transaction: ip (the client address
 * text; NULL: not read), sender (MAIL FROM: "user@domain", "@domain",
 * "domain", "<...>", "" or "<>"; NULL is ""), helo (NULL or "": none),
 * for the identity which.  The sender splits at its last "@"; the
 * local-part may hold any bytes.  This is the only reader of these
 * inputs: spf_check_start() uses it, and so do the commands.  Returns
 * SPF_OK (a malformed domain is not an error: out->malformed says why
 * the result is none), SPF_EINVAL when the input cannot be evaluated
 * at all (a client address that is not an address, an IPv6 zone index
 * included; CR or LF in the sender or HELO name; over SPF_IDENTITY_MAX
 * bytes) with *why (if why is not NULL; in arena) a one-line reason
 * naming the rule and the input with control and non-ASCII bytes as
 * \xNN, or SPF_ENOMEM.
 */
spf_status_t spf_identity_parse(spf_arena_t *arena, const char *ip,
	const char *sender, const char *helo, spf_identity_t which,
	spf_identity_parts_t *out, const char **why);

/*
 * spf_identity_parse() in its two steps, for a caller that reads a
 * transaction's identities once and evaluates one or both of them
 * (spf_request_t.identities):
 *  - spf_identity_read(): what does not depend on the identity: the
 *    checks, the refusals and their *why, "<...>" removed, the A-labels
 *    (ip, sender, null_sender, helo and the *_idn_why); checked, local,
 *    domain and malformed stay NULL;
 *  - spf_identity_pick(): from what spf_identity_read() or
 *    spf_identity_parse() (for any which) gave, *out as *in with
 *    checked, local, domain and malformed for the identity which (new
 *    strings in arena, the others borrowed from *in; out may be in).
 *    SPF_OK or SPF_ENOMEM.
 */
spf_status_t spf_identity_read(spf_arena_t *arena, const char *ip,
	const char *sender, const char *helo, spf_identity_parts_t *out,
	const char **why);
spf_status_t spf_identity_pick(spf_arena_t *arena, const spf_identity_parts_t *in,
	spf_identity_t which, spf_identity_parts_t *out);

/* Why s cannot be a client address (static text naming the rule: not an
 * address, or an IPv6 zone index), or NULL after storing it in *out. */
const char *spf_client_addr_problem(const char *s, spf_addr_t *out);

/* ==== end of identities ==== */

/* Synchronous convenience: start, run the loop until done.  Returns the
 * finished job (caller destroys) or NULL as spf_check_start.  When the
 * loop stops first (called from inside a callback of res's loop), the
 * job is ended as temperror with the problem "internal error: the event
 * loop stopped before the check finished". */
spf_job_t *spf_check_sync(spf_resolver_t *res, const spf_request_t *req,
	spf_status_t *status);

/* The built-in default explanation (RFC 7208 §6.2 leaves it to us).
 * %{c}, not %{i}: RFC 7208 §7.3 makes "c" the client address in its
 * readable form for explanations (2001:db8::60, not the dotted nibbles
 * that %{i} gives an IPv6 client); for IPv4 both are the dotted quad. */
#define SPF_DEFAULT_EXPLANATION \
	"%{o} does not designate %{c} as permitted sender"

/* ==== result header fields (header.c) — issue 9 ==== */

/*
 * One evaluated identity as the header builders see it.  All strings are
 * borrowed for the duration of the call; any of them may contain
 * sender-supplied bytes: the builders escape or drop CR, LF, control
 * and non-ASCII characters, so the field cannot be split or injected.
 */
typedef struct {
	spf_identity_t identity;
	spf_result_t result;
	spf_addr_t ip;
	const char *envelope_from; /* MAIL FROM as given; "" null sender; NULL unknown */
	const char *helo;          /* HELO/EHLO name or NULL */
	const char *checked;       /* the address checked, e.g. postmaster@helo */
	const char *domain;        /* the domain check_host() started at */
	const char *mechanism;     /* the deciding term, "default", or NULL */
	const char *problem;       /* for permerror/temperror, or NULL */
} spf_header_info_t;

typedef struct {
	const char *receiver;      /* this host: comment prefix and receiver= (NULL: left out) */
	const char *authserv_id;   /* RFC 8601 authserv-id (NULL: receiver, else "localhost") */
	bool crlf;                 /* end and fold lines with CRLF instead of LF */
} spf_header_opts_t;

/* Fill info from a finished job and the request it ran (borrowed from both). */
void spf_header_info_from_job(spf_header_info_t *info, const spf_job_t *job,
	const spf_request_t *req);
/* The same from the job's summary (spf_job_summarize(); borrowed). */
void spf_header_info_from_summary(spf_header_info_t *info,
	const spf_job_summary_t *s, const spf_request_t *req);

/*
 * RFC 7208 §9.1: "Received-SPF: result (comment) key=value; ..." for one
 * identity, folded per RFC 5322 §2.2.3 (lines of at most 78 characters
 * where a space allows it), without the final line end.  *out is
 * malloc'ed (spf_free).  Returns SPF_OK, SPF_EINVAL (NULL argument) or
 * SPF_ENOMEM.
 */
spf_status_t spf_header_received_spf(const spf_header_info_t *info,
	const spf_header_opts_t *opts, char **out);

/*
 * RFC 8601: "Authentication-Results: authserv-id; spf=result (comment)
 * smtp.mailfrom=domain; spf=result smtp.helo=name" with one resinfo per
 * identity in infos[0..n-1] (n >= 1), folded as above.  Same ownership
 * and statuses as spf_header_received_spf().
 */
spf_status_t spf_header_auth_results(const spf_header_info_t *const *infos,
	size_t n, const spf_header_opts_t *opts, char **out);

/*
 * The same fields on one line, not folded, appended to out (a caller's
 * buffer, which may be reused from field to field: nothing is
 * allocated beyond out's growth).  Unfolding the field of
 * spf_header_received_spf() / spf_header_auth_results() gives these
 * bytes.  Returns SPF_OK, SPF_EINVAL (NULL argument, n == 0),
 * SPF_ENOMEM or SPF_ETOOBIG (out's bound, or the field over the bound
 * the folded builders keep); on an error out is failed (out->err).
 */
spf_status_t spf_header_received_spf_line(const spf_header_info_t *info,
	const spf_header_opts_t *opts, spf_buf_t *out);
spf_status_t spf_header_auth_results_line(const spf_header_info_t *const *infos,
	size_t n, const spf_header_opts_t *opts, spf_buf_t *out);

/* ==== end of result header fields ==== */

/* ==== SenderID: the PRA (pra.c) and the conflict report (senderid.c) — issue 5 ==== */

/* Whether a message has a PRA, and if not why (RFC 4407 §2 step 6). */
typedef enum {
	SPF_PRA_OK = 0,
	SPF_PRA_NO_FIELD,           /* no Resent-Sender/-From, Sender or From */
	SPF_PRA_MULTIPLE_SENDER,    /* several non-empty Sender fields (step 3) */
	SPF_PRA_MULTIPLE_FROM,      /* no Sender and several From fields (step 4) */
	SPF_PRA_MULTIPLE_MAILBOXES, /* the field selected lists several (step 5) */
	SPF_PRA_NO_MAILBOX,         /* a group without a mailbox ("x:;") */
	SPF_PRA_MALFORMED,          /* the mailbox is hopelessly malformed */
	SPF_PRA_NO_DOMAIN,          /* the mailbox has no domain ("From: user") */
} spf_pra_status_t;

/* "ok", "no-field", "multiple-sender", ... (static). */
const char *spf_pra_status_str(spf_pra_status_t st);

/* The PRA of a message.  Strings live in the arena given to
 * spf_pra_extract(); any of them may be NULL as documented. */
typedef struct {
	spf_pra_status_t status;
	const char *pra;          /* "local@domain" when SPF_PRA_OK, else NULL */
	const char *domain;       /* the PRA's domain, else NULL */
	/* the field the algorithm selected: "Resent-Sender", "Resent-From",
	 * "Sender" or "From" (NULL when none was), its 1-based line */
	const char *field;
	unsigned field_line;
	const char *why;          /* how the PRA was chosen, or why there is none */
	/* the topmost Return-Path: its address ("" for "<>"), or NULL when
	 * there is none or it cannot be read (return_path_problem says why) */
	const char *return_path;
	const char *return_path_problem;
	size_t nfields;           /* header fields read */
} spf_pra_t;

/*
 * Compute the Purported Responsible Address (RFC 4407 §2) of msg: the
 * header block (CRLF or LF line ends, folded fields, an mbox "From "
 * line on top is skipped), then optionally an empty line and a body,
 * which is not read.  Everything in *out is allocated in arena.
 * Returns SPF_OK when the header block could be read: out->status then
 * says whether there is a PRA.  Otherwise *err (if not NULL) is a one-
 * line English reason naming the line: SPF_ESYNTAX when msg is not a
 * message header (no header field, NUL or control bytes, a line that is
 * neither a field nor a continuation), SPF_ETOOBIG when the header block
 * is over 1 MiB, a field over 64 KiB or there are over 10000 fields,
 * SPF_EINVAL for NULL arguments, SPF_ENOMEM.
 */
spf_status_t spf_pra_extract(spf_arena_t *arena, const uint8_t *msg,
	size_t len, spf_pra_t *out, const char **err);

/* Severity of a SenderID conflict (SPECS A.9). */
typedef enum {
	SPF_SID_ERROR = 0,    /* E: a receiver class gets permerror or none */
	SPF_SID_WARNING,      /* W: receiver classes disagree; mail at risk */
	SPF_SID_INFO,         /* I: advice */
} spf_sid_severity_t;

/* 'E', 'W' or 'I'. */
char spf_sid_severity_char(spf_sid_severity_t s);

/* One record found at the domain (TXT or type SPF 99). */
typedef struct {
	uint16_t rrtype;          /* SPF_RR_TXT or SPF_RR_SPF */
	const char *text;         /* printable: other bytes as \NNN */
	int version;              /* 1 v=spf1, 2 spf2.x (also malformed), 0 other */
	bool well_formed;         /* version section per RFC 4406 §3 */
	bool mfrom, pra;          /* spf2.x scopes */
	const char *problem;      /* the version section's defect, or NULL */
} spf_sid_record_t;

/* The record one class of receivers applies to the domain. */
typedef struct {
	const char *key;          /* "rfc7208", "mfrom", "pra", "pra-strict" */
	const char *receiver;     /* who: "RFC 7208 receivers (MAIL FROM, HELO)" ... */
	int record;               /* index into the records, or -1 */
	spf_result_t selection;   /* NONE (no record), PERMERROR (several) or
	                           * NEUTRAL (record is the one applied) */
	const char *summary;      /* one line */
} spf_sid_policy_t;

/* An address for which two policies give different verdicts. */
typedef struct {
	spf_addr_t ip;
	spf_result_t v1;          /* RFC 7208 receivers (v=spf1) */
	spf_result_t v2;          /* Sender ID receivers (the spf2.x record) */
} spf_sid_probe_t;

/* One conflict of SPECS A.9. */
typedef struct {
	const char *id;           /* "SID-01" ... "SID-14" */
	spf_sid_severity_t severity;
	const char *summary;      /* one line naming the records */
	const char *explanation;  /* why it matters, to whom, the RFC */
	const char *fix;          /* what to publish instead, or NULL */
	const char *reference;    /* "RFC 4406 §3.4", ... */
	const spf_sid_probe_t *probes;   /* SID-02/SID-05: where verdicts differ */
	size_t nprobes;
} spf_sid_conflict_t;

typedef struct spf_senderid_report spf_senderid_report_t;

/*
 * Examine domain for SenderID conflicts: fetch its TXT and type-99
 * records, the effective policy per receiver class and every SID-01 ...
 * SID-14 conflict, evaluating with spf_check_sync() on res (so this runs
 * res's event loop until done: call it from a command or a test, never
 * from inside a callback).  DNS failures do not fail the report; they
 * show in spf_senderid_dns_status().  Returns NULL with *status (if not
 * NULL) SPF_EINVAL (NULL argument, domain not a domain name) or
 * SPF_ENOMEM.  The caller destroys the report.
 */
spf_senderid_report_t *spf_senderid_check(spf_resolver_t *res,
	const char *domain, spf_status_t *status);
void spf_senderid_destroy(spf_senderid_report_t *r);      /* NULL ok */
const char *spf_senderid_domain(const spf_senderid_report_t *r);
/* status of the TXT (SPF_RR_TXT) or type 99 (SPF_RR_SPF) lookup */
spf_dns_status_t spf_senderid_dns_status(const spf_senderid_report_t *r,
	uint16_t rrtype);
/* Arrays owned by the report; *n receives the count. */
const spf_sid_record_t *spf_senderid_records(const spf_senderid_report_t *r,
	size_t *n);
const spf_sid_policy_t *spf_senderid_policies(const spf_senderid_report_t *r,
	size_t *n);
const spf_sid_conflict_t *spf_senderid_conflicts(const spf_senderid_report_t *r,
	size_t *n);

/* ==== end of SenderID ==== */

/* ==== lint and flatten (lint.c, flatten.c) — issue 4 ==== */

/*
 * Lint walks the whole include/redirect tree of a domain (or of a draft
 * record) through a resolver, level by level, issuing the queries of a
 * level in parallel and running the resolver's loop until they are
 * answered.  It does not stop at the 10-lookup limit: the totals always
 * cover the whole tree.  Counts are the worst case, a client that
 * matches nothing.  Rule ids are stable; doc/lint-rules.md lists them.
 */
typedef enum {
	SPF_LINT_INFO = 0,
	SPF_LINT_WARNING,
	SPF_LINT_ERROR,
} spf_lint_severity_t;

/* "info", "warning", "error" (static). */
const char *spf_lint_severity_str(spf_lint_severity_t s);

/* One finding.  All strings live as long as the lint run. */
typedef struct {
	const char *rule;            /* "L-SYNTAX", "L-LOOKUPS", ... */
	spf_lint_severity_t severity;
	const char *domain;          /* the domain whose record it concerns */
	const char *section;         /* RFC 7208 section ("4.6.4"), or an
	                              * RFC reference ("RFC 7505") */
	const char *message;         /* what is wrong and what to do */
	const char *record;          /* that record's text, or NULL */
	size_t record_len;
	bool has_range;              /* offset/len point into record */
	size_t offset;
	size_t len;
} spf_lint_finding_t;

typedef struct {
	/* the domain to lint; with a draft it names the draft's domain
	 * (NULL: "draft.invalid") */
	const char *domain;
	/* a draft record used in place of the domain's v=spf1 TXT record
	 * (as one character-string, as typed); NULL: the published one */
	const char *draft;
	size_t draft_len;
	unsigned void_limit;         /* 0: RFC default 2 */
	/* the most bytes of DNS answers the run may keep (it keeps every
	 * answer of the tree: rules and flatten read them); past it the
	 * run stops with SPF_ETOOBIG.  0: SPF_LINT_MEMORY_BUDGET */
	size_t memory_budget;
} spf_lint_request_t;

/* The default for spf_lint_request_t.memory_budget: 64 MiB, four
 * evaluations' worth (a lint run looks up up to 32 hosts per mx term,
 * both address families); 10 mx terms of 10 hosts with 4,000 addresses
 * each keep about 16.4 MB. */
#define SPF_LINT_MEMORY_BUDGET (4u * SPF_JOB_MEMORY_BUDGET)

typedef struct spf_lint spf_lint_t;

/*
 * Lint synchronously: runs res's event loop until the walk is done (call
 * it from a command or a test, never from inside a callback).  Returns
 * the run (caller destroys) or NULL with *status (if not NULL) SPF_EINVAL
 * (NULL argument, no domain and no draft), SPF_ENOMEM, or SPF_ETOOBIG
 * when the tree's DNS answers (the run keeps them all) need more than
 * the request's memory_budget.
 */
spf_lint_t *spf_lint_run(spf_resolver_t *res, const spf_lint_request_t *req,
	spf_status_t *status);
void spf_lint_destroy(spf_lint_t *lint);                  /* NULL ok */

/*
 * The same walk, asynchronously on res's loop, many at once (audit):
 * cb(lint, arg) is called once, from the loop (never from inside this
 * call), when the run is counted and checked; cb owns it from then on
 * and may destroy it.  req's strings are copied.  Returns the run
 * (destroying it before cb cancels what is out; cb is then never
 * called), or NULL with *status as spf_lint_run().  In cb,
 * spf_lint_status() is SPF_OK, or SPF_ENOMEM / SPF_ETOOBIG: the walk
 * stopped and the run has no findings or counts to read.
 */
typedef void (*spf_lint_cb)(spf_lint_t *lint, void *arg);
spf_lint_t *spf_lint_start(spf_resolver_t *res, const spf_lint_request_t *req,
	spf_lint_cb cb, void *arg, spf_status_t *status);
spf_status_t spf_lint_status(const spf_lint_t *lint);
bool spf_lint_done(const spf_lint_t *lint);
const char *spf_lint_domain(const spf_lint_t *lint);
/* Findings in evaluation order of the records; i < spf_lint_count(). */
size_t spf_lint_count(const spf_lint_t *lint);
const spf_lint_finding_t *spf_lint_finding(const spf_lint_t *lint, size_t i);
/* The most severe finding's severity, or -1 when there are none. */
int spf_lint_worst(const spf_lint_t *lint);

typedef struct {
	unsigned records;       /* records in the tree */
	unsigned lookups;       /* DNS-querying terms (RFC 7208 §4.6.4) */
	unsigned voids;         /* void lookups per term, IPv4 client (RFC) */
	unsigned voids_query;   /* per query, IPv4 client (pyspf: MX hosts' A) */
	unsigned voids6;        /* per term, IPv6 client (AAAA lookups) */
	unsigned voids6_query;  /* per query, IPv6 client */
	unsigned noaaaa;        /* a/mx targets with A but no AAAA */
	bool errors;            /* the tree has a permerror or temperror */
} spf_lint_counts_t;

void spf_lint_counts(const spf_lint_t *lint, spf_lint_counts_t *out);

/* What the walk found where a record was looked for: the top domain
 * (spf_lint_top_state()) or an include/redirect target (its lookup's
 * state). */
typedef enum {
	SPF_LINT_STATE_OK = 0,      /* a record that parses (for a term: its
	                             * target was followed, or it has none) */
	SPF_LINT_STATE_NONE,        /* no v=spf1 record */
	SPF_LINT_STATE_MULTI,       /* more than one v=spf1 record */
	SPF_LINT_STATE_TEMP,        /* the TXT lookup failed */
	SPF_LINT_STATE_LOOP,        /* the domain is already being evaluated */
	SPF_LINT_STATE_CUT,         /* not walked: the linter's depth or size bound */
	SPF_LINT_STATE_BADNAME,     /* the target is not a valid domain name */
	SPF_LINT_STATE_DYNAMIC,     /* the target depends on the message (macros) */
	SPF_LINT_STATE_SYNTAX,      /* a record with syntax errors (permerror) */
} spf_lint_state_t;

/* One DNS-querying term of the tree, in evaluation order. */
typedef struct {
	const char *domain;     /* the record it is in */
	const char *term;       /* as written */
	unsigned depth;         /* 0 for the top record */
	unsigned number;        /* its place among the DNS-querying terms */
	unsigned subtree;       /* lookups it costs, itself included */
	bool void4, void6;      /* its own lookup is void (IPv4/IPv6 client) */
	/* added for spfcheck tree (issue 17) */
	const char *target;     /* the name it looks up (%{d} expanded), or NULL
	                         * (ptr, a dynamic or invalid target) */
	spf_mech_t mech;        /* the mechanism; for redirect= is_redirect */
	bool is_redirect;
	unsigned voids;         /* void lookups it costs, itself included (per
	                         * term, IPv4 client: RFC 7208 §4.6.4) */
	spf_lint_state_t state; /* include/redirect: what is at the target */
} spf_lint_lookup_t;

size_t spf_lint_lookup_count(const spf_lint_t *lint);
/* The top domain's record: SPF_LINT_STATE_OK, _NONE, _MULTI, _TEMP or
 * _SYNTAX. */
spf_lint_state_t spf_lint_top_state(const spf_lint_t *lint);
/* The top domain's v=spf1 record as published (or the draft), *len its
 * bytes (it may hold NUL); NULL when there is none (several, none, a
 * DNS failure).  Lives as long as lint. */
const char *spf_lint_top_record(const spf_lint_t *lint, size_t *len);
const spf_lint_lookup_t *spf_lint_lookup(const spf_lint_t *lint, size_t i);

/*
 * Flatten the tree of a finished lint run into a chain of records:
 * include/a/mx become ip4/ip6 networks (an include contributes only the
 * addresses for which it passes), aggregated to the fewest CIDRs per
 * result; exists, ptr and macro terms (and includes holding them) stay
 * as written, each with a warning.  Parts go to "<prefix>N.<domain>"
 * and are chained with include; every character-string is at most 255
 * bytes and every TXT answer under max_answer bytes.
 */
typedef struct {
	const char *prefix;     /* NULL: "_spf" */
	size_t max_answer;      /* 0: 450 (RFC 7208 §3.4) */
} spf_flatten_opts_t;

typedef struct {
	const char *name;       /* owner name, no trailing dot */
	const char *text;       /* the record */
	size_t nstrings;
	const char *const *strings;   /* text split, each <= 255 bytes */
	size_t answer_size;     /* estimated size of the TXT answer */
} spf_flat_record_t;

typedef struct spf_flat spf_flat_t;

/*
 * Returns SPF_OK and *out (destroy with spf_flat_destroy), SPF_EINVAL
 * when the tree cannot be flattened faithfully (why, a buffer of whysize
 * bytes the caller owns, receives the reason, truncated to fit: a
 * permerror or temperror in the tree, no record), or SPF_ENOMEM.  When
 * the kept terms still need more than 10 lookups the result says so in a
 * warning.  The lint run is only read: flat's records, warnings and
 * networks are its own and may outlive lint.  SPF_FLATTEN_WHY_SIZE bytes hold any reason.
 */
#define SPF_FLATTEN_WHY_SIZE 512
spf_status_t spf_flatten(const spf_lint_t *lint, const spf_flatten_opts_t *opts,
	spf_flat_t **out, char *why, size_t whysize);
void spf_flat_destroy(spf_flat_t *flat);                  /* NULL ok */
size_t spf_flat_record_count(const spf_flat_t *flat);
const spf_flat_record_t *spf_flat_record(const spf_flat_t *flat, size_t i);
size_t spf_flat_warning_count(const spf_flat_t *flat);
const char *spf_flat_warning(const spf_flat_t *flat, size_t i);
/* DNS-querying terms the flattened chain uses. */
unsigned spf_flat_lookups(const spf_flat_t *flat);
/*
 * The networks ("192.0.2.0/24", "2001:db8::/32") whose static result is
 * r (pass, fail, softfail, neutral), aggregated; addresses that only
 * dynamic terms decide are not included.  *n receives the count; the
 * array lives as long as flat.
 */
const char *const *spf_flat_networks(const spf_flat_t *flat, spf_result_t r,
	size_t *n);
/* The result when no term matches: the all qualifier's result, neutral
 * without all, or none when a redirect decides (kept dynamic). */
spf_result_t spf_flat_default(const spf_flat_t *flat);

/* Addresses inside and outside every network of flat (first, last, and
 * the neighbours just outside), at most max; *n receives the count.  The
 * array is malloc'ed (spf_free). */
spf_addr_t *spf_flat_samples(const spf_flat_t *flat, size_t max, size_t *n);

/*
 * Evaluate ips[0..n) with spf_check_start() on res, many in flight, as
 * sender postmaster@domain; results[i] receives each result and, when
 * limit_hit is not NULL, limit_hit[i] whether the result is the
 * permerror of a processing limit (RFC 7208 §4.6.4: 10 DNS-querying
 * terms or the void-lookup limit, alike: spf_job_past_limit()).  Runs res's loop; when the loop stops first (called
 * from inside one of its callbacks), every address not evaluated gets
 * temperror and nothing is left running.  SPF_OK or SPF_ENOMEM.
 */
spf_status_t spf_eval_many(spf_resolver_t *res, const char *domain,
	const spf_addr_t *ips, size_t n, spf_result_t *results, bool *limit_hit);

/* The domain of the i-th record the walk looked up (the top first, then
 * level by level, also those without a usable record); NULL past the
 * end. */
const char *spf_lint_record_domain(const spf_lint_t *lint, size_t i);

/*
 * Networks whose static result is r in b but not in a (*added) and in a
 * but not in b (*removed), aggregated.  The arrays live as long as b.
 * SPF_OK or SPF_ENOMEM.
 */
spf_status_t spf_flat_compare(const spf_flat_t *a, spf_flat_t *b,
	spf_result_t r, const char *const **added, size_t *nadded,
	const char *const **removed, size_t *nremoved);

/*
 * The authorised networks of a lint run's tree (networks.c, issue 17):
 * which addresses get which result, from which term, through which
 * includes, without a client address.  Computed as evaluation runs (RFC
 * 7208 §4.6.2: the first term that matches decides; §5.2: an include
 * matches the addresses its record passes; §6.1: a redirect's record
 * decides what no mechanism did), with the answers of the walk.  Terms
 * that depend on the message (ptr, exists or a target with macros), an
 * include or redirect that ends in an error, and the 11th DNS-querying
 * term are conditions: an address that reaches one may (or, for an
 * error, does) get its result there instead.
 */
typedef struct {
	const char *term;       /* as written */
	const char *domain;     /* the record it is in */
} spf_path_step_t;

/* One network and the term that gives it its result. */
typedef struct {
	spf_addr_t addr;        /* the network's first address */
	unsigned prefix;
	spf_result_t result;    /* pass, fail, softfail or neutral */
	/* from the top record: the include and redirect terms followed, then
	 * the term that matches (path[npath - 1]) */
	const spf_path_step_t *path;
	size_t npath;
	unsigned lookups;       /* DNS-querying terms used when it is reached
	                         * (over 10: only past the limit, permerror) */
} spf_network_t;

typedef enum {
	SPF_COND_DYNAMIC,       /* depends on the message: it may match */
	SPF_COND_ERROR,         /* an error every address that reaches it gets */
	SPF_COND_LIMIT,         /* the 11th DNS-querying term (RFC 7208 §4.6.4) */
} spf_condition_kind_t;

typedef struct {
	spf_condition_kind_t kind;
	/* ERROR: permerror or temperror; LIMIT: permerror; DYNAMIC: the
	 * result it gives if it matches, or none when a match inside an
	 * include only keeps that include from matching */
	spf_result_t result;
	const char *why;        /* ERROR: what is wrong, in words; else NULL */
	const spf_path_step_t *path;
	size_t npath;
} spf_condition_t;

typedef struct spf_networks spf_networks_t;

/*
 * The networks of lint's tree.  SPF_OK and *out (destroy with
 * spf_networks_destroy; it does not need lint afterwards), SPF_EINVAL
 * when the top has no usable record (spf_lint_top_state() says why), or
 * SPF_ENOMEM.
 */
spf_status_t spf_networks_run(const spf_lint_t *lint, spf_networks_t **out);
void spf_networks_destroy(spf_networks_t *nets);          /* NULL ok */
/* The networks, by result (pass, fail, softfail, neutral), then IPv4
 * before IPv6, then address: each term's addresses as the fewest CIDR
 * blocks. */
size_t spf_networks_count(const spf_networks_t *nets);
const spf_network_t *spf_networks_get(const spf_networks_t *nets, size_t i);
/* How many addresses of family (4 or 6) get result r from a term (the
 * default's are not counted); exact for IPv4, as a double for IPv6. */
double spf_networks_addresses(const spf_networks_t *nets, spf_result_t r,
	int family);
/* The result of an address no term matches but all: the all term's
 * (*path its path), or neutral with *path NULL when there is none
 * (RFC 7208 §4.7). */
spf_result_t spf_networks_default(const spf_networks_t *nets,
	const spf_path_step_t **path, size_t *npath);
size_t spf_networks_condition_count(const spf_networks_t *nets);
const spf_condition_t *spf_networks_condition(const spf_networks_t *nets,
	size_t i);

/* Which term decides an address. */
typedef struct {
	/* the result when the terms that depend on the message do not
	 * match: the error's when error is set, else the term's (or the
	 * default's) */
	spf_result_t result;
	const spf_network_t *network;   /* the network that holds it; NULL:
	                                 * no term matches it but all */
	/* the first ERROR or LIMIT condition it reaches before that term
	 * (it decides), or NULL */
	const spf_condition_t *error;
	/* the first DYNAMIC condition it reaches before that term and
	 * before error (it may decide first), or NULL */
	const spf_condition_t *may;
} spf_networks_match_t;

void spf_networks_match(const spf_networks_t *nets, const spf_addr_t *ip,
	spf_networks_match_t *m);

/* ==== end of lint and flatten ==== */

/* ==== DMARC (RFC 9989): records, the DNS Tree Walk, alignment — issue 16 ====
 *
 * evaluator/dmarc/.  The SPF leg of DMARC and the record linter: a
 * record parser that positions what it finds (record.c), policy
 * discovery and the Organizational Domain by the DNS Tree Walk of RFC
 * 9989 §4.10 (walk.c), identifier alignment (§4.4) and the DMARC view of
 * one message (walk.c), and the lint of a domain's DMARC set-up
 * (lint.c).  Findings use spf_lint_finding_t; rule ids are DM-NN
 * (doc/lint-rules.md).  DKIM is never verified here: a caller that has
 * verified signatures elsewhere passes their d= domains.
 */

/* A policy (RFC 9989 §4.7 p, sp, np). */
typedef enum {
	SPF_DMARC_UNSET = 0,      /* the tag is absent (or invalid) */
	SPF_DMARC_NONE,
	SPF_DMARC_QUARANTINE,
	SPF_DMARC_REJECT,
} spf_dmarc_policy_t;

/* "none", "quarantine", "reject", or "-" for UNSET (static). */
const char *spf_dmarc_policy_str(spf_dmarc_policy_t p);

/* One tag of a record, as written: spans are byte offsets in the
 * record's text. */
typedef struct {
	const char *name;          /* lower case */
	const char *value;         /* WSP around it removed */
	size_t offset, len;        /* the whole tag, name to value */
	size_t value_offset, value_len;
} spf_dmarc_tag_t;

/*
 * A record as read by spf_dmarc_parse().  Everything lives in the arena
 * the parse was given.  The effective values already follow RFC 9989
 * §4.7/§4.8: a bad optional value is replaced by its default; p missing
 * or invalid, or sp/np invalid, makes the record p=none when rua holds a
 * valid URI (downgraded) and unusable otherwise.
 */
typedef struct {
	const char *text;          /* the record (NUL-terminated copy) */
	size_t len;
	/* D.2 step 1: begins with v=DMARC1 then ';' or the end.  false: not
	 * a DMARC record at all (ignored by receivers); lookalike: it is
	 * not one but looks meant to be (leading space, v=dmarc1, ...) */
	bool is_dmarc;
	bool lookalike;
	spf_dmarc_policy_t p, sp, np;    /* as published; UNSET if absent */
	bool p_bad, sp_bad, np_bad;      /* present with an invalid value */
	bool usable;               /* DMARC applies with this record */
	bool downgraded;           /* p treated as none (bad p/sp/np, rua) */
	bool adkim_strict, aspf_strict;
	bool testing;              /* t=y */
	char psd;                  /* 'y', 'n' or 'u' (default) */
	size_t nrua, nruf;         /* syntactically valid URIs */
	const char *const *rua;    /* the URIs, "!size" suffix removed */
	const char *const *ruf;
	bool has_fo;
	size_t ntags;
	const spf_dmarc_tag_t *tags;
	/* what a linter says of this record alone (syntax, removed tags,
	 * values), in record order; rule, severity, section, message and
	 * the span are set, domain and record are NULL */
	size_t nproblems;
	const spf_lint_finding_t *problems;
} spf_dmarc_record_t;

/* The most bytes of one DMARC record parsed; past it the rest is not
 * read (a problem says so).  A TXT RRset is at most 65535 bytes. */
#define SPF_DMARC_RECORD_MAX 65535

/*
 * Parse text[0..len) (untrusted: any bytes, NUL included) as a DMARC
 * record.  Never fails on content: a text that is not a DMARC record
 * comes back with is_dmarc false.  *out lives in arena.  SPF_OK, or
 * SPF_EINVAL (NULL arguments) or SPF_ENOMEM.
 */
spf_status_t spf_dmarc_parse(spf_arena_t *arena, const void *text, size_t len,
	spf_dmarc_record_t **out);

/* The effective policy of rec for its own domain (which "p"), an
 * existing subdomain ("sp" then "p") or a non-existent one ("np", "sp",
 * "p"); *tag (if not NULL) receives the tag used.  UNSET when the
 * record is not usable. */
spf_dmarc_policy_t spf_dmarc_policy_for(const spf_dmarc_record_t *rec,
	bool subdomain, bool exists, const char **tag);

/*
 * RFC 7489's Organizational Domain by the Public Suffix List (libpsl,
 * evaluator/dmarc/psl.c), beside RFC 9989's walk.  spf_psl_load(file)
 * reads the list in file (the tests' own), or with file NULL the
 * system's (libpsl's psl_latest(): the publicsuffix package's file or
 * the list built into libpsl, the newer).  Returns the list (free with
 * spf_psl_free(), NULL ok) or NULL with *status SPF_EINVAL (the file
 * cannot be read or has no rule) or SPF_ENOMEM.
 */
typedef struct spf_psl spf_psl_t;

spf_psl_t *spf_psl_load(const char *file, spf_status_t *status);
void spf_psl_free(spf_psl_t *psl);
/* Which list psl is, for the output: the file given, "system list
 * (PATH)" or "libpsl builtin" (borrowed from psl). */
const char *spf_psl_source(const spf_psl_t *psl);
/* The registrable domain of domain (a lower-case A-label, no final
 * dot): a pointer into domain; domain itself when it is a public
 * suffix (libpsl's "*" rule makes every TLD one). */
const char *spf_psl_org_domain(const spf_psl_t *psl, const char *domain);
/* Is domain a public suffix on psl (ICANN or private section, or a TLD
 * by the "*" rule)? */
bool spf_psl_is_public_suffix(const spf_psl_t *psl, const char *domain);

/* The DNS Tree Walk: at most 8 queries (RFC 9989 §4.10). */
#define SPF_DMARC_WALK_MAX 8

/* One query of a walk: TXT at _dmarc.<domain>. */
typedef struct {
	const char *domain;        /* the name below _dmarc. */
	spf_dns_status_t status;
	const char *detail;        /* the DNS error's text, or NULL */
	size_t ntxt;               /* TXT records there, each parsed: */
	const spf_dmarc_record_t *const *txt;
	size_t ndmarc;             /* of them, DMARC records */
	const spf_dmarc_record_t *record;  /* the one DMARC record, or NULL
	                                    * (none, or several: discarded) */
} spf_dmarc_step_t;

/* How the Organizational Domain of a walk was chosen (§4.10.2). */
typedef enum {
	SPF_DMARC_ORG_SELF = 0,    /* no record on the walk: the start */
	SPF_DMARC_ORG_PSD_N,       /* a record with psd=n */
	SPF_DMARC_ORG_BELOW_PSD,   /* one label below a psd=y record */
	SPF_DMARC_ORG_SHORTEST,    /* the record with the fewest labels */
	SPF_DMARC_ORG_PSL,         /* RFC 7489: the PSL's registrable domain */
} spf_dmarc_org_rule_t;

typedef struct {
	const char *start;         /* lower case, no final dot */
	size_t nsteps;
	spf_dmarc_step_t steps[SPF_DMARC_WALK_MAX];
	const char *org_domain;
	spf_dmarc_org_rule_t org_rule;
	bool dns_error;            /* a query failed: TEMPFAIL or BADREPLY */
} spf_dmarc_walk_t;

/* Where the record that applies was found (§4.10.1). */
typedef enum {
	SPF_DMARC_AT_NONE = 0,     /* nowhere: DMARC does not apply */
	SPF_DMARC_AT_AUTHOR,       /* _dmarc.<Author Domain> */
	SPF_DMARC_AT_ORG,          /* the Organizational Domain's */
	SPF_DMARC_AT_PSD,          /* a Public Suffix Domain's (psd=y) */
} spf_dmarc_where_t;

const char *spf_dmarc_where_str(spf_dmarc_where_t w);   /* static */

/* DMARC's result for a message (§4.4, §11.2) */
typedef enum {
	SPF_DMARC_RESULT_NONE = 0, /* no usable policy record */
	SPF_DMARC_RESULT_PASS,     /* an aligned identifier passed */
	SPF_DMARC_RESULT_FAIL,     /* a policy, nothing aligned */
	SPF_DMARC_RESULT_TEMPERROR,/* a query the result needed failed */
	SPF_DMARC_RESULT_DKIM_UNKNOWN,  /* SPF does not pass aligned and
	                                 * DKIM was not evaluated: pass if
	                                 * DKIM aligns, fail otherwise */
} spf_dmarc_result_t;

const char *spf_dmarc_result_str(spf_dmarc_result_t r);  /* static */

typedef struct {
	/* the RFC 5322.From domain (Author Domain), an A-label */
	const char *from_domain;
	/* the domain SPF checked (MAIL FROM's, or HELO's for the null
	 * sender) and its result; NULL: no SPF leg */
	const char *spf_domain;
	spf_result_t spf_result;
	/* d= of DKIM signatures that verified elsewhere; 0: DKIM not
	 * evaluated */
	const char *const *dkim_domains;
	size_t ndkim;
	/* NULL: the DNS Tree Walk (RFC 9989).  Else RFC 7489's method with
	 * this list: each domain's Organizational Domain is its
	 * registrable domain, and policy discovery queries _dmarc.<Author
	 * Domain> then, without a record there, _dmarc.<its Organizational
	 * Domain> (the SPF and DKIM domains need no query).  Borrowed for
	 * the run's life. */
	const spf_psl_t *psl;
} spf_dmarc_request_t;

/* The DMARC view of one message.  Pointers live as long as the run. */
typedef struct {
	const spf_dmarc_walk_t *author;    /* policy discovery walk */
	const spf_dmarc_walk_t *spf;       /* the SPF domain's, or NULL */
	const spf_dmarc_walk_t *const *dkim;   /* ndkim walks */
	size_t ndkim;
	spf_dmarc_where_t where;
	const char *policy_domain;         /* where the record was, or NULL */
	const spf_dmarc_record_t *record;  /* the record applied, or NULL */
	/* the Author Domain exists (any answer but NXDOMAIN; looked up only
	 * when the record is not its own, for np, §4.10.1) */
	bool author_checked, author_exists;
	const char *policy_tag;            /* "p", "sp" or "np", or NULL */
	spf_dmarc_policy_t policy;         /* the tag's policy */
	spf_dmarc_policy_t applied;        /* one lower with t=y */
	bool spf_pass, spf_aligned;        /* SPF result pass; and aligned */
	const bool *dkim_aligned;          /* per d= */
	bool any_dkim_aligned;
	spf_dmarc_result_t result;
	bool psl;                          /* found by RFC 7489's PSL method */
} spf_dmarc_view_t;

typedef struct spf_dmarc spf_dmarc_t;

/* Can d start a walk: RFC 1035 lengths (a final dot allowed), letters,
 * digits, '-' and '_' (an A-label)? */
bool spf_dmarc_domain_ok(const char *d);

/*
 * Run the walks req needs (the Author Domain's, the SPF domain's, each
 * DKIM domain's; identical domains share one) and compute the view,
 * synchronously: spf_dmarc_start() waited for on res's loop.  An SPF domain that is not
 * a domain name (SPF's result was none) gets no walk and cannot align.
 * Returns the run (caller destroys) or NULL with *status SPF_EINVAL (no
 * from_domain, or it or a DKIM domain is not a domain name) or
 * SPF_ENOMEM.
 */
spf_dmarc_t *spf_dmarc_run(spf_resolver_t *res, const spf_dmarc_request_t *req,
	spf_status_t *status);

/*
 * The same run, asynchronously on res's loop, many at once (audit):
 * cb(d, arg) is called once, from the loop (never from inside this
 * call), when the view is complete; cb owns d from then on and may
 * destroy it.  req and its strings are borrowed for this call only.
 * Returns the run (destroying it before cb cancels its queries; cb is
 * then never called) or NULL with *status as spf_dmarc_run().  In cb,
 * spf_dmarc_status() is SPF_OK, or SPF_ENOMEM when memory ran out on
 * the way (the view is then incomplete: do not use it).
 */
typedef void (*spf_dmarc_cb)(spf_dmarc_t *d, void *arg);
spf_dmarc_t *spf_dmarc_start(spf_resolver_t *res, const spf_dmarc_request_t *req,
	spf_dmarc_cb cb, void *arg, spf_status_t *status);
spf_status_t spf_dmarc_status(const spf_dmarc_t *d);
/* Is d's view complete (its callback called, or spf_dmarc_run() back)? */
bool spf_dmarc_done(const spf_dmarc_t *d);
const spf_dmarc_view_t *spf_dmarc_view(const spf_dmarc_t *d);
void spf_dmarc_destroy(spf_dmarc_t *d);                  /* NULL ok */

/*
 * Identifier alignment (§4.4): do a and b align, strictly (the same
 * name, case-insensitive, no final dot) or relaxed (the same
 * Organizational Domain: org_a and org_b from their walks)?
 */
bool spf_dmarc_aligned(const char *a, const char *org_a, const char *b,
	const char *org_b, bool strict);

/*
 * Lint the DMARC set-up of domain (an A-label): policy discovery by the
 * walk, then the record's problems, the TXT data at _dmarc.<domain>,
 * several records at a name, a record at the apex, sp/np where they
 * have no effect, external report destinations without authorisation.
 * Synchronous on res's loop.  Returns the run (destroy it) or NULL with
 * *status SPF_EINVAL (not a domain name; psl_method without psl) or
 * SPF_ENOMEM.  Findings'
 * domain is the name they concern (_dmarc.<d> for records); their
 * strings live as long as the run.
 */
typedef struct spf_dmarc_lint spf_dmarc_lint_t;

/* What a lint compares with (NULL: neither): with psl, the rules that
 * need the Public Suffix List (DM-13's first half, DM-14, DM-15, DM-17),
 * RFC 7489's method run beside the walk; psl_method (needs psl): the
 * view and the other rules are RFC 7489's, the walk the comparison. */
typedef struct {
	const spf_psl_t *psl;      /* borrowed for the run's life */
	bool psl_method;
} spf_dmarc_lint_opts_t;

spf_dmarc_lint_t *spf_dmarc_lint_run(spf_resolver_t *res, const char *domain,
	const spf_dmarc_lint_opts_t *opts, spf_status_t *status);
void spf_dmarc_lint_destroy(spf_dmarc_lint_t *l);         /* NULL ok */
/*
 * The same lint, asynchronously on res's loop (audit): cb(l, arg) once,
 * from the loop, when the findings are made; cb owns l and may destroy
 * it.  NULL with *status SPF_EINVAL (no domain, no cb; a name that is
 * not a domain) or SPF_ENOMEM.  In cb, spf_dmarc_lint_status() is SPF_OK
 * or SPF_ENOMEM (then read nothing else of l).
 */
typedef void (*spf_dmarc_lint_cb)(spf_dmarc_lint_t *l, void *arg);
spf_dmarc_lint_t *spf_dmarc_lint_start(spf_resolver_t *res, const char *domain,
	const spf_dmarc_lint_opts_t *opts, spf_dmarc_lint_cb cb, void *arg,
	spf_status_t *status);
spf_status_t spf_dmarc_lint_status(const spf_dmarc_lint_t *l);
const spf_dmarc_view_t *spf_dmarc_lint_view(const spf_dmarc_lint_t *l);
size_t spf_dmarc_lint_count(const spf_dmarc_lint_t *l);
const spf_lint_finding_t *spf_dmarc_lint_finding(const spf_dmarc_lint_t *l,
	size_t i);

/*
 * Can the SPF record of a lint run's domain ever pass aligned with it
 * (RFC 9989 §4.4)?  From the pass-qualified terms of its tree
 * (evaluator/dmarc/spfalign.c): OWN, a pass term in a record at or
 * below org_domain (the domain's Organizational Domain; NULL: the
 * domain itself); PROVIDERS, pass terms only in other organisations'
 * records, *provider (if not NULL) the first such record's domain
 * (borrowed from lint; SPF passes aligned only for mail the provider
 * sends with a MAIL FROM in the domain); NEVER, no pass term at all;
 * NO_RECORD, no usable record.
 */
typedef enum {
	SPF_DMARC_SPF_NO_RECORD = 0,
	SPF_DMARC_SPF_NEVER,
	SPF_DMARC_SPF_PROVIDERS,
	SPF_DMARC_SPF_OWN,
} spf_dmarc_spf_align_t;

spf_dmarc_spf_align_t spf_dmarc_spf_alignable(const spf_lint_t *lint,
	const char *org_domain, const char **provider);
/* "yes", "providers", "never", "no_record" (static; audit's words). */
const char *spf_dmarc_spf_align_str(spf_dmarc_spf_align_t a);

/*
 * DM-24 (doc/lint-rules.md): add to l the finding of what
 * spf_dmarc_spf_alignable() says of spf, the SPF lint run of l's domain,
 * with l's Organizational Domain: a warning when only other
 * organisations' records pass (PROVIDERS), a note when nothing passes
 * (NEVER), nothing for OWN or NO_RECORD (spfcheck lint reports a missing
 * or broken record).  Returns the verdict; l's status turns SPF_ENOMEM
 * when the finding could not be made.
 */
spf_dmarc_spf_align_t spf_dmarc_lint_spf(spf_dmarc_lint_t *l,
	const spf_lint_t *spf);

/*
 * DM-14 for the SPF domains of l's domain (l made with a Public Suffix
 * List; without one, nothing): each domain whose record spf (the SPF
 * lint run of l's domain) enters and that can align with the domain by
 * one method, walked (spf_dmarc_start(), at most 16); a warning at each
 * one whose relaxed alignment with the domain the walk and the PSL see
 * differently.  spf_dmarc_lint_spf() calls it synchronously (cb NULL).
 * With cb, asynchronously on l's loop: true when cb(l, arg) will be
 * called once, from the loop, with the findings made (l's status says
 * whether memory ran out); false when there is nothing to wait for (no
 * list, no such domain, already done, or out of memory: see l's
 * status).  spf is borrowed for this call only.
 */
bool spf_dmarc_lint_spf_domains(spf_dmarc_lint_t *l, const spf_lint_t *spf,
	spf_dmarc_lint_cb cb, void *arg);

/* ==== end of DMARC ==== */

#endif
