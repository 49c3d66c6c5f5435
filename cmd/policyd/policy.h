/*
 * policy.h - the parts of `spfcheck policyd` that do no I/O: the Postfix
 * policy delegation protocol parser (policy_proto.c), the configuration
 * file (policy_config.c) and the mapping of SPF results to Postfix
 * actions (policy_map.c).  The daemon itself is policyd.c.
 *
 * DESCRIPTION
 *	Postfix policy delegation (SMTPD_POLICY_README; SPECS C.1): a
 *	request is "name=value" lines ended by LF, the request by an empty
 *	line; the reply is "action=...", then an empty line.  The parser is
 *	strict: a line over POLICY_MAX_LINE bytes, a NUL byte, a line
 *	without '=', an empty name, more than POLICY_MAX_ATTRS attributes,
 *	a request over POLICY_MAX_REQUEST bytes or one without
 *	request=smtpd_access_policy is an error, and the daemon then closes
 *	the connection without replying (Postfix logs it and retries).
 *
 *	The configuration accepts pypolicyd-spf's option names and values
 *	(SPECS C.6) and the few options of our own listed in
 *	doc/policyd.md.  Anything it does not know, or a value it cannot
 *	use, is an error naming the line.
 */
#ifndef SPF_CMD_POLICY_H
#define SPF_CMD_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "spf.h"

/* ==== protocol (policy_proto.c) ==== */

/* 4 * line_length_limit (2048): the longest string Postfix sends. */
#define POLICY_MAX_LINE 8192
#define POLICY_MAX_ATTRS 128
#define POLICY_MAX_REQUEST 65536

/* The attributes spfcheck reads (C.2); others are ignored. */
typedef enum {
	POLICY_A_REQUEST = 0,
	POLICY_A_PROTOCOL_STATE,
	POLICY_A_PROTOCOL_NAME,
	POLICY_A_CLIENT_ADDRESS,
	POLICY_A_CLIENT_NAME,
	POLICY_A_HELO_NAME,
	POLICY_A_SENDER,
	POLICY_A_RECIPIENT,
	POLICY_A_QUEUE_ID,
	POLICY_A_INSTANCE,
	POLICY_A_SASL_USERNAME,
	POLICY_A_COUNT,
} policy_attr_t;

/* One parsed request: value[a] is NULL when attribute a was absent.
 * A duplicate attribute keeps the last value (C.1 allows either).  The
 * values live in store, one after another (one allocation per request,
 * none when the store is reused); value[] is set once the request is
 * complete. */
typedef struct {
	char *value[POLICY_A_COUNT];
	unsigned nattrs;        /* lines read, known or not */
	size_t bytes;           /* bytes read, line ends included */
	size_t off[POLICY_A_COUNT];   /* 1 + value[a]'s place in store; 0: absent */
	char *store;            /* spf_malloc'ed; the values and their NULs */
	size_t store_len, store_cap;
} policy_request_t;

/* The value of a, or "" when absent. */
const char *policy_req_get(const policy_request_t *req, policy_attr_t a);
/* Free what req holds and zero it. */
void policy_request_clear(policy_request_t *req);
/* Empty req for the next request, its store kept for reuse. */
void policy_request_reset(policy_request_t *req);

typedef struct {
	policy_request_t req;   /* the request being read */
	const char *error;      /* after POLICY_PARSE_ERROR: why (static) */
} policy_parser_t;

typedef enum {
	POLICY_PARSE_MORE = 0,  /* need more bytes */
	POLICY_PARSE_REQUEST,   /* parser->req holds a complete request */
	POLICY_PARSE_ERROR,     /* parser->error says why; close the connection */
} policy_parse_status_t;

void policy_parser_init(policy_parser_t *p);
void policy_parser_finish(policy_parser_t *p);

/*
 * Read complete lines from data[0..len).  *used receives the bytes
 * consumed: the caller drops them and passes the rest (a partial line)
 * again with more bytes appended.  Returns POLICY_PARSE_REQUEST as soon
 * as an empty line ends a request (the bytes after it are not consumed;
 * take p->req, then policy_request_clear(&p->req) before parsing on),
 * POLICY_PARSE_MORE when every complete line was consumed, or
 * POLICY_PARSE_ERROR (also when the partial line left is already over
 * POLICY_MAX_LINE bytes).  A CR before the LF is dropped.  Pure: no
 * I/O, no logging; allocation through spf_malloc (ENOMEM is an error).
 */
policy_parse_status_t policy_parse(policy_parser_t *p, const char *data,
	size_t len, size_t *used);

/* ==== configuration (policy_config.c) ==== */

/* HELO_reject / Mail_From_reject (C.6). */
typedef enum {
	POLICY_REJ_FAIL = 0,      /* reject Fail (the default) */
	POLICY_REJ_SOFTFAIL,      /* reject Fail and Softfail */
	POLICY_REJ_NOT_PASS,      /* SPF_Not_Pass: Fail, Softfail, Neutral */
	POLICY_REJ_NULL,          /* HELO only: reject Fail for the null sender */
	POLICY_REJ_FALSE,         /* never reject or defer, header only */
	POLICY_REJ_NO_CHECK,      /* do not check this identity */
} policy_reject_t;

typedef enum {
	POLICY_HDR_SPF = 1,       /* Received-SPF */
	POLICY_HDR_AR = 2,        /* Authentication-Results */
	POLICY_HDR_BOTH = 3,      /* ours: both (see doc/policyd.md) */
	POLICY_HDR_NONE = 0,      /* no header: dunno instead of prepend */
} policy_header_t;

typedef struct {
	spf_addr_t net;
	unsigned prefix;
} policy_net_t;

typedef struct {
	int debug_level;              /* debugLevel, default 1 */
	bool enforce;                 /* TestOnly: 1 (default) = enforce */
	policy_reject_t helo_reject, mfrom_reject;
	bool permerror_reject, temperror_defer;
	char *helo_pass_restriction, *mfrom_pass_restriction;
	policy_net_t *skip, *whitelist;
	size_t nskip, nwhitelist;
	char **helo_whitelist, **domain_whitelist, **not_pass_domains;
	size_t nhelo_whitelist, ndomain_whitelist, nnot_pass_domains;
	unsigned whitelist_lookup_time;   /* s, default 10 */
	bool enhanced_codes;          /* SPF_Enhanced_Status_Codes, default yes */
	policy_header_t header_type;  /* default SPF */
	bool hide_receiver;           /* default no */
	char *authserv_id;            /* NULL: the host name (HOSTNAME) */
	char *receiver;               /* ours: receiver=; NULL: host name */
	unsigned lookup_time;         /* s per identity, default 20 */
	unsigned request_time;        /* ours: s for a whole request, 60 */
	unsigned void_limit;          /* default 2 */
	unsigned max_inflight;        /* ours: Max_Queries_In_Flight; 0: the
	                               * resolver's default */
	spf_void_count_t void_count;  /* Void_Count: rfc (default), per-query */
	char *reason_message;         /* NULL: the default */
	bool queue_id;                /* QueueID: prefix log lines */
	char *path;                   /* the file read, or NULL */
	unsigned refs;                /* held by the daemon and requests */
} policy_config_t;

#define POLICY_DEFAULT_REASON "Message {rejectdefer} due to: {spf}. Please see {url}"

/* A config with every default (pypolicyd-spf 3.0.4's code defaults,
 * C.6), refs = 1; NULL on ENOMEM. */
policy_config_t *policy_config_create(void);
policy_config_t *policy_config_ref(policy_config_t *c);
void policy_config_unref(policy_config_t *c);             /* NULL ok */

/*
 * Apply "name = value" lines of text (label names it in messages) on
 * top of c.  Returns SPF_OK, or SPF_ESYNTAX / SPF_ENOMEM with *err a
 * spf_malloc'ed message "LABEL:LINE: ..." (spf_free).  Warnings (an
 * option read but ignored) go to warn(arg, message) when warn is not
 * NULL.
 */
spf_status_t policy_config_parse(policy_config_t *c, const char *text,
	size_t len, const char *label, char **err,
	void (*warn)(void *arg, const char *msg), void *arg);

/*
 * Read path: refuses a file that is not a regular file, is writable by
 * everyone, or over 1 MiB (SPF_EINVAL / SPF_ETOOBIG), a file that
 * cannot be read (SPF_EIO), then parses it as above.  *out is a new
 * config (refs 1) on SPF_OK.
 */
spf_status_t policy_config_load(const char *path, policy_config_t **out,
	char **err, void (*warn)(void *arg, const char *msg), void *arg);

/* Is ip in one of nets[0..n)? */
bool policy_net_match(const policy_net_t *nets, size_t n, const spf_addr_t *ip);
/* Is name (case-insensitive, trailing dot ignored) in list? */
bool policy_name_listed(char *const *list, size_t n, const char *name);

/* ==== mapping (policy_map.c) ==== */

/* One identity as the mapping sees it. */
typedef struct {
	bool checked;
	spf_result_t result;
	const char *explanation;   /* for fail, or NULL */
	const char *problem;       /* for permerror/temperror, or NULL */
} policy_ident_t;

/* What is known about a request. */
typedef struct {
	const char *client_address;
	const char *helo;          /* "" when absent */
	const char *sender;        /* "" for the null sender */
	const char *recipient;     /* "" when absent */
	policy_ident_t helo_id, mfrom_id;
} policy_facts_t;

typedef enum {
	POLICY_CHECK_HELO = 0,     /* evaluate the HELO identity next */
	POLICY_CHECK_MFROM,        /* evaluate the MAIL FROM identity next */
	POLICY_FINAL,              /* the decision is made */
} policy_step_t;

typedef enum {
	POLICY_DUNNO = 0,
	POLICY_PREPEND,            /* prepend the header of `header_of` */
	POLICY_REJECT,
	POLICY_DEFER,
	POLICY_RESTRICTION,        /* a *_pass_restriction class */
} policy_verdict_t;

typedef struct {
	policy_verdict_t verdict;
	spf_identity_t header_of;  /* for POLICY_PREPEND */
	/* for REJECT/DEFER/RESTRICTION: the action line without "action="
	 * (spf_malloc'ed, policy_decision_finish frees it) */
	char *action;
	bool test_only_dropped;    /* TestOnly = 0 turned a verdict into dunno */
} policy_decision_t;

/*
 * The next step for facts under c (SPECS C.6 "processing flow"): which
 * identity to evaluate next, or POLICY_FINAL with *d filled.  The caller
 * evaluates the identity asked for, marks it checked with its result
 * and calls again.  Returns POLICY_FINAL with verdict DUNNO and a NULL
 * action when memory runs out.
 */
policy_step_t policy_decide(const policy_config_t *c, const policy_facts_t *f,
	policy_decision_t *d);
void policy_decision_finish(policy_decision_t *d);

/* Which verdict scope's policy gives result r (C.6 _get_resultcodes).
 * listed: the domain is in Reject_Not_Pass_Domains. */
policy_verdict_t policy_scope_verdict(const policy_config_t *c, bool helo,
	spf_result_t r, bool null_sender, bool listed);

/* Make s safe for a reply or a header: control bytes, DEL and non-ASCII
 * become '?', at most max bytes (then "..."); into buf. */
void policy_sanitize(spf_buf_t *buf, const char *s, size_t max);
/* policy_sanitize(s, max) into buf[0..len) (cut to fit), for a log line
 * or a message; returns buf. */
const char *policy_printable(const char *s, char *buf, size_t len, size_t max);
/* The same text into out[0..room) (cut to fit), without a NUL; returns
 * the bytes written (0 for a NULL s). */
size_t policy_printable_put(char *out, size_t room, const char *s, size_t max);
/* v as printf's "%.1f" gives it (a log line's milliseconds), into out
 * without a NUL; returns its length. */
size_t policy_tenths(char out[32], double v);

#endif
