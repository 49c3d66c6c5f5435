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
#include <time.h>

#include "../dns/spf_dns.h"

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

/* What to check.  Strings are borrowed for the duration of the call. */
typedef struct {
	spf_addr_t ip;
	/* MAIL FROM address: "user@domain", "@domain" or "" (null sender:
	 * postmaster@helo, RFC 7208 §2.4).  For SPF_IDENTITY_HELO it is
	 * ignored and postmaster@helo is checked. */
	const char *sender;
	const char *helo;                 /* may be NULL or "" */
	spf_identity_t identity;
	const char *receiver;             /* %{r}; NULL means "unknown" */
	const char *default_explanation;  /* NULL: the built-in text */
	unsigned void_limit;              /* 0: RFC default 2 */
	time_t now;                       /* %{t}; 0: time(NULL) */
	/* whole-evaluation deadline (RFC 7208 §4.6.4: at least 20 s);
	 * when it passes the result is temperror.  0: 20000 ms */
	unsigned deadline_ms;
	/* do not start the lookups of terms before they are evaluated
	 * (speculative prefetch is on by default; results are identical) */
	bool no_prefetch;
} spf_request_t;

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

typedef struct spf_trace {
	spf_trace_kind_t kind;
	const char *label;
	const char *detail;          /* may be NULL */
	spf_term_outcome_t outcome;  /* for TERM */
	spf_result_t result;         /* for CHECK: the frame's result */
	const char *role;            /* for CHECK: "check", "include", "redirect" */
	unsigned lookups;            /* DNS-querying terms used so far */
	unsigned voids;              /* void lookups so far */
	uint32_t ttl;                /* for RECORD / DNS */
	bool decisive;               /* the term that decided the result */
	struct spf_trace *parent, *first, *last, *next;
} spf_trace_t;

typedef struct spf_job spf_job_t;
typedef void (*spf_done_cb)(spf_job_t *job, void *arg);

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
/* The domain check_host() started at, and the sender used. */
const char *spf_job_sender(const spf_job_t *job);
const char *spf_job_start_domain(const spf_job_t *job);
const spf_trace_t *spf_job_trace(const spf_job_t *job);

/* Synchronous convenience: start, run the loop until done.  Returns the
 * finished job (caller destroys) or NULL as spf_check_start. */
spf_job_t *spf_check_sync(spf_resolver_t *res, const spf_request_t *req,
	spf_status_t *status);

/* The built-in default explanation (RFC 7208 §6.2 leaves it to us). */
#define SPF_DEFAULT_EXPLANATION \
	"%{o} does not designate %{i} as permitted sender"

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

/* ==== end of result header fields ==== */

#endif
