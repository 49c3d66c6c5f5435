/*
 * internal.h - types shared inside evaluator/: parsed records and the
 * macro expander.  Not installed; cmd/ uses spf.h only (lint, issue 4,
 * will get its own accessors in spf.h).
 */
#ifndef SPF_EVALUATOR_INTERNAL_H
#define SPF_EVALUATOR_INTERNAL_H

#include "spf.h"

/* ---- records (record.c) ---- */

typedef struct {
	bool is_modifier;
	char qualifier;          /* '+', '-', '~', '?' ('+' when omitted) */
	bool explicit_qualifier; /* the qualifier was written */
	/* what the target rule needs of domain_spec, classified once by
	 * the parser (spf_spec_class()): SPF_SPEC_* bits, 0 without one */
	uint8_t spec;
	spf_mech_t mech;         /* when !is_modifier */
	spf_mod_t mod;           /* when is_modifier */
	/* modifier name as written (NUL-terminated copy, arena) */
	const char *name;
	/* domain-spec / modifier value as written (macro-string), NUL-
	 * terminated copy in the arena, or NULL when absent.  For
	 * a/mx/ptr without ":domain" it is NULL (means <domain>). */
	const char *domain_spec;
	size_t domain_spec_len;
	/* ip4/ip6: the network (host bits as written) */
	spf_addr_t net;
	/* CIDR lengths: ip4/ip6 use cidr4 resp. cidr6; a/mx use both;
	 * -1 when not written (then 32 / 128 apply) */
	int cidr4;
	int cidr6;
	/* byte span of the whole term in the record text */
	size_t offset;
	size_t len;
	/* the term text as written (NUL-terminated copy, arena) */
	const char *text;
} spf_term_t;

typedef struct {
	const uint8_t *text;     /* the record as given (arena copy) */
	size_t len;
	spf_term_t *terms;       /* in record order, modifiers included */
	size_t nterms;
	int redirect;            /* index of redirect= or -1 */
	int exp;                 /* index of exp= or -1 */
	int all;                 /* index of the first "all" or -1 */
	/* issue 5: 1 for v=spf1; 2 for spf2.<minor>/<scopes> (RFC 4406 §3,
	 * only from spf_record_parse_version()) with the scope bits */
	int version;
	unsigned scopes;         /* SPF_SCOPE_BIT_* */
	size_t terms_start;      /* offset just after the version section */
} spf_record_t;

typedef struct {
	size_t offset;           /* byte offset of the problem in the record */
	size_t len;              /* bytes concerned (at least 1 if possible) */
	const char *message;     /* actionable English text (arena/static) */
} spf_parse_error_t;

/*
 * Is text a v=spf1 record? (RFC 7208 §4.5: "v=spf1" case-insensitively,
 * followed by SP or the end of the record.)
 */
bool spf_record_is_spf1(const uint8_t *text, size_t len);

/*
 * Parse a whole record (starting with the version) per RFC 7208 §4.6 /
 * §12.  Everything is allocated in arena.  Returns SPF_OK and *out, or
 * SPF_ESYNTAX with *err filled (offset/len/message), or SPF_ENOMEM.
 * Checks done here: term syntax, CIDR ranges, ip4/ip6 literals, macro-
 * string syntax of every domain-spec and modifier value (letters c, r, t
 * are not allowed outside explanation text), domain-end of domain-specs
 * (RFC 7208 §7.1), at most one redirect and one exp, non-ASCII bytes,
 * NUL bytes, separators other than SP.
 */
spf_status_t spf_record_parse(spf_arena_t *arena, const uint8_t *text,
	size_t len, spf_record_t **out, spf_parse_error_t *err);

/* ---- SenderID record versions (record.c, select.c) — issue 5 ---- */

/* Scope bits of an spf2.x record (RFC 4406 §3). */
#define SPF_SCOPE_BIT_MFROM 0x1u
#define SPF_SCOPE_BIT_PRA   0x2u

/* What is wrong with, or notable about, a version section: the SID-04
 * subcases of SPECS A.9.  a-g make it unusable for Sender ID. */
enum {
	SPF_VER_V_PREFIX = 1u << 0,      /* (a) "v=spf2.0/..." */
	SPF_VER_BAD_MINOR = 1u << 1,     /* (b) "spf2/", "spf2./", "spf2.x/" */
	SPF_VER_NO_SCOPE = 1u << 2,      /* (c) "spf2.0" without "/scope" */
	SPF_VER_EMPTY_SCOPE = 1u << 3,   /* (d) "spf2.0/", "spf2.0/pra," */
	SPF_VER_SPACE_SCOPE = 1u << 4,   /* (e) "spf2.0/mfrom, pra" */
	SPF_VER_BAD_CHAR = 1u << 5,      /* (f) "spf2.0/pra+mx" */
	SPF_VER_UNKNOWN_ONLY = 1u << 6,  /* (g) "spf2.0/helo" */
	SPF_VER_MINOR_NOT_0 = 1u << 7,   /* (h) "spf2.1/pra" (legal) */
	SPF_VER_REPEATED = 1u << 8,      /* (i) "spf2.0/pra,pra" (legal) */
	SPF_VER_UPPER = 1u << 9,         /* (j) "SPF2.0/PRA" (legal) */
};
/* flags that make the section not well-formed (RFC 4406 §4.4 step 2) */
#define SPF_VER_MALFORMED (SPF_VER_V_PREFIX | SPF_VER_BAD_MINOR | \
	SPF_VER_NO_SCOPE | SPF_VER_EMPTY_SCOPE | SPF_VER_SPACE_SCOPE | \
	SPF_VER_BAD_CHAR)

typedef struct {
	int version;         /* 0: not SPF-looking; 1: v=spf1; 2: spf2 (maybe malformed) */
	bool well_formed;    /* v=spf1, or flags & SPF_VER_MALFORMED == 0 */
	unsigned minor;      /* spf2.<minor> (saturates at 9999) */
	unsigned scopes;     /* SPF_SCOPE_BIT_* found */
	unsigned nscopes;    /* scope ids, known or not */
	unsigned flags;      /* SPF_VER_* */
	size_t end;          /* offset just after the version section */
	const char *problem; /* static English text for the first defect, or NULL */
} spf_version_info_t;

/*
 * Classify the version section of a record (RFC 7208 §4.5, RFC 4406 §3):
 * "v=spf1" + SP/end is version 1; anything starting "spf2" or "v=spf2"
 * (case-insensitive) is version 2, checked against the RFC 4406 grammar
 * with every SID-04 subcase flagged; everything else is version 0.
 * Never fails.
 */
void spf_record_version(const uint8_t *text, size_t len,
	spf_version_info_t *out);
/* Static English text for the most severe SPF_VER_* flag in flags, or
 * NULL when flags is 0. */
const char *spf_version_problem(unsigned flags);

/*
 * Like spf_record_parse(), but also accepts a well-formed spf2.x record
 * (RFC 4406 §3: the same terms after the version section); sets
 * version, scopes and terms_start.  A malformed spf2 version section is
 * SPF_ESYNTAX with the defect in *err.
 */
spf_status_t spf_record_parse_version(spf_arena_t *arena,
	const uint8_t *text, size_t len, spf_record_t **out,
	spf_parse_error_t *err);

/* The record selection of RFC 4406 §4.4 (SPECS A.3), or of RFC 7208
 * §4.5 for SPF_SCOPE_RFC7208 (TXT only, v=spf1 only). */
typedef enum {
	SPF_SELECT_ONE = 0,      /* exactly one candidate: rr */
	SPF_SELECT_NONE,         /* no candidate: result none (§4.5) */
	SPF_SELECT_MANY,         /* several candidates: permerror (§4.5) */
	SPF_SELECT_DNS_ERROR,    /* a lookup failed: temperror (§4.4) */
} spf_select_status_t;

typedef struct {
	/* what a check does: the first of lookup failure, no candidate,
	 * several, one */
	spf_select_status_t status;
	uint16_t failed;         /* DNS_ERROR: SPF_RR_TXT or SPF_RR_SPF */
	/* the candidates in the answers that did arrive (a report reads
	 * them whatever the status) */
	const spf_dns_rr_t *rr;  /* the one record selected, or NULL */
	const spf_dns_rr_t *first; /* the first candidate, or NULL */
	size_t ncand;            /* candidates left (0: none, >1: permerror) */
	int version;             /* of the candidates: 1 or 2 (0 if none) */
	bool used_spf99;         /* type-99 records were present: TXT dropped */
} spf_selection_t;

/*
 * Select from txt (the TXT answer; NULL: the lookup gave none, a
 * temperror) and spf99 (the type-99 answer, or NULL when not queried;
 * read only for a Sender ID scope).  An answer with status TEMPFAIL or
 * BADREPLY makes the status SPF_SELECT_DNS_ERROR (TXT's first); its
 * records, like those of NODATA and NXDOMAIN answers, count as none.
 * v1_for_pra: see spf_request_t.  Never fails.
 */
void spf_record_select(const spf_dns_answer_t *txt,
	const spf_dns_answer_t *spf99, spf_scope_t scope, bool v1_for_pra,
	spf_selection_t *out);

/*
 * The special-purpose block (IANA's IPv4 and IPv6 Special-Purpose
 * Address Registries, RFC 6890, and the multicast blocks) that holds all
 * of net/prefix: its registry name ("Private-Use"), *rfc the document
 * that reserved it ("RFC 1918"), *block its text ("10.0.0.0/8") and *doc
 * whether it is reserved for documentation (RFC 5737, RFC 3849, RFC
 * 9637).  NULL when net/prefix is not inside such a block (a network
 * that only contains one, as 0.0.0.0/0, is not).  Only blocks that are
 * not globally reachable are listed, plus documentation and multicast.
 * Static strings.
 */
const char *spf_addr_special(const spf_addr_t *net, unsigned prefix,
	const char **rfc, const char **block, bool *doc);

/*
 * The mechanism (modifier false) or modifier (true: redirect, exp) that
 * the unknown name[0..n) is a typo of, for "did you mean": the nearest
 * by edit distance, at most 1 for names of up to 3 characters and 2 for
 * longer ones, the earlier in RFC order on a tie ("al" is all, not a);
 * NULL when none is that near.  Static string.
 */
const char *spf_term_suggest(const char *name, size_t n, bool modifier);

/* ---- macros (macro.c) ---- */

typedef struct {
	const char *sender;        /* s: full sender, "local@domain" */
	const char *local;         /* l: local-part ("postmaster" if none) */
	const char *sender_domain; /* o */
	const char *domain;        /* d: current <domain> */
	const char *helo;          /* h: may be NULL -> "unknown" */
	spf_addr_t ip;             /* i, c, v */
	const char *ptr;           /* p: validated name or NULL -> "unknown" */
	const char *receiver;      /* r: NULL -> "unknown" */
	time_t now;                /* t */
} spf_macro_ctx_t;

enum {
	SPF_MACRO_EXP = 1,     /* explanation text: c, r, t allowed */
	SPF_MACRO_DOMAIN = 2,  /* a domain-spec: truncate to 253 (§7.3) */
};

/*
 * Check the syntax of a macro-string (RFC 7208 §7.1).  Returns true if
 * valid; otherwise false and, if not NULL, *erroff = offset of the bad
 * '%' sequence and *errmsg = static English text.
 */
bool spf_macro_check(const char *s, size_t len, int flags,
	size_t *erroff, const char **errmsg);

/* Does the macro-string use the p macro letter (either case)? */
bool spf_macro_uses_ptr(const char *s, size_t len);

/* Is the macro-string valid (as a domain-spec) with no macro but
 * %{d...}?  Its expansion is then the same for every message evaluated
 * against the domain: sender, client, HELO and time do not change it
 * (speculative prefetch sends nothing else, check/prefetch.c). */
bool spf_macro_domain_only(const char *s, size_t len);

/*
 * Expand a macro-string into out (appended).  With SPF_MACRO_DOMAIN the
 * result is truncated from the left to at most 253 characters by
 * removing whole labels (RFC 7208 §7.3).  Returns SPF_OK, SPF_ESYNTAX
 * (invalid macro; *errmsg set if not NULL), or the buffer's error.
 */
spf_status_t spf_macro_expand(const char *s, size_t len,
	const spf_macro_ctx_t *ctx, int flags, spf_buf_t *out,
	const char **errmsg);

/* The class of a domain-spec (spf_term_t.spec). */
enum {
	SPF_SPEC_LITERAL = 1,  /* its own expansion: no macro, no trailing
	                        * dot, nothing for §7.3 to cut */
	SPF_SPEC_VALID = 2,    /* literal and spf_name_ok() */
	SPF_SPEC_PTR = 4,      /* uses the p macro letter (a PTR lookup) */
};

/* The SPF_SPEC_* bits of the domain-spec s (NUL-terminated, len bytes,
 * its characters checked by the parser).  (macro.c) */
unsigned spf_spec_class(const char *s, size_t len);

/* The name a term's lookups go to (spf_term_target()). */
typedef struct {
	const char *name;   /* no trailing dot; NULL when dynamic */
	bool valid;         /* spf_name_ok(name); an invalid name is treated
	                     * as non-existent (RFC 7208 §4.3, §4.8) */
	bool dynamic;       /* ctx was NULL and the domain-spec uses more
	                     * of the message than <domain> */
} spf_target_t;

/* Bound on one expansion of a domain-spec, before §7.3 cuts it to 253. */
#define SPF_TARGET_MAX_EXPANSION 4096

/*
 * The target of term t evaluated at domain (RFC 7208 §4.8, §5, §7.3):
 * domain itself when t has no domain-spec (taken as valid: the caller
 * checked it); else the domain-spec macro-expanded, cut to 253
 * characters from the left, without its trailing dot.  ctx: the
 * message's macro values with %{p} already resolved; ctx->domain is
 * not read (domain is %{d}), so the evaluation passes its own values
 * for every frame.  NULL when nothing but domain is known (speculative
 * prefetch, lint, the Sender ID checks): a domain-spec with a macro
 * other than %{d} is then out->dynamic, with no name.  out->name is
 * domain, t->domain_spec or a copy in arena (lives as long as they).
 * Returns SPF_OK with *out filled; SPF_ESYNTAX (a macro that cannot be
 * expanded, *errmsg set if errmsg is not NULL), SPF_ETOOBIG (longer
 * than SPF_TARGET_MAX_EXPANSION) or SPF_ENOMEM with out->name NULL.
 * (macro.c)
 */
spf_status_t spf_term_target(spf_arena_t *arena, const spf_term_t *t,
	const char *domain, const spf_macro_ctx_t *ctx, spf_target_t *out,
	const char **errmsg);

/* Does name (no trailing dot) keep RFC 1035's lengths: 1 to 253
 * characters, labels of 1 to 63?  A name failing this is treated as
 * non-existent (RFC 7208 §4.3, §4.8). */
bool spf_name_ok(const char *name);
/* RFC 7208 §4.6.4: an include or redirect t whose target is already
 * being evaluated above it is a loop that only the lookup limit ends.
 * Its one wording, for lint's L-LOOP and the evaluation trace:
 * "include loop: TARGET is already being evaluated (TERM[ in the record
 * of DOMAIN])"; domain may be NULL.  In arena; NULL on ENOMEM.  (eval.c) */
const char *spf_loop_text(spf_arena_t *arena, const spf_term_t *t,
	const char *target, const char *domain);

/* RFC 7208 §4.3: why d (no trailing dot) is not a multi-label host name
 * of letters, digits, hyphens and underscores, or NULL (identity.c). */
const char *spf_domain_problem(const char *d);

/* ---- running the loop until answered (check/sync.c) ---- */

/*
 * The synchronous tools (spf_check_sync(), spf_eval_many(), lint, Sender
 * ID) start DNS queries and checks, then run the resolver's loop until
 * every one is answered.  A spf_sync_t (caller memory: init/finish) is
 * that group: it owns the handles of what is outstanding, so when the
 * loop stops early (spf_resolver_run_until() returns with work left:
 * called from inside a callback of the same loop, or a loop error) it
 * can end them before the caller's frame goes away.  Its fields are
 * private to sync.c.
 */
struct spf_sync_item;

typedef struct {
	spf_resolver_t *res;            /* borrowed */
	struct spf_sync_item *head;     /* outstanding, newest first */
	size_t pending;                 /* items on the list */
	bool idle;                      /* pending == 0 (run_until's flag) */
	bool stopped;                   /* the last wait stopped early */
} spf_sync_t;

void spf_sync_init(spf_sync_t *s, spf_resolver_t *res);
/* Cancel what is still outstanding: queries without their callbacks,
 * checks destroyed without theirs (after a wait, nothing is). */
void spf_sync_finish(spf_sync_t *s);

/*
 * Start a query (spf_resolver_query()) or a check (spf_check_start())
 * in the group.  cb is called once from the loop, as for the call it
 * wraps, unless the loop stops first (spf_sync_wait()).  A check's job
 * is handed to cb, which owns it from then on.  spf_sync_query()
 * returns false on ENOMEM (cb is then never called); spf_sync_check()
 * returns spf_check_start()'s status (SPF_OK, SPF_ENOMEM, SPF_EINVAL).
 * Both may be called from inside a callback of the group.
 */
bool spf_sync_query(spf_sync_t *s, const char *name, uint16_t type,
	spf_dns_cb cb, void *arg);
spf_status_t spf_sync_check(spf_sync_t *s, const spf_request_t *req,
	spf_done_cb cb, void *arg);

/*
 * Run the loop until every item of the group is answered, also those
 * started from inside its callbacks; true then (also at once when there
 * is none).  When the loop stops first, returns false after ending
 * every item still outstanding: queries are cancelled (their callbacks
 * never run; the caller sees no answer) and checks are ended as
 * temperror ("internal error: the event loop stopped before the check
 * finished") and handed to their callbacks from here.  No callback of
 * the group runs after this returns.  While it ends them and until the
 * next wait, spf_sync_stopped() is true: a callback should then start
 * nothing more (what it starts is ended the same way).
 */
bool spf_sync_wait(spf_sync_t *s);
bool spf_sync_stopped(const spf_sync_t *s);

#endif
