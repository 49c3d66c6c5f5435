/*
 * internal.h - types shared inside evaluator/: parsed records and the
 * macro expander.  Not installed; cmd/ uses spf.h only (lint, issue 4,
 * will get its own accessors in spf.h).
 */
#ifndef SPF_EVALUATOR_INTERNAL_H
#define SPF_EVALUATOR_INTERNAL_H

#include "spf.h"

/* ---- records (record.c) ---- */

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

typedef struct {
	bool is_modifier;
	char qualifier;          /* '+', '-', '~', '?' ('+' when omitted) */
	bool explicit_qualifier; /* the qualifier was written */
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

/* Does the mechanism cause DNS queries (counts toward the limit of 10)? */
bool spf_mech_queries_dns(spf_mech_t mech);
const char *spf_mech_name(spf_mech_t mech);

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

/*
 * Expand a macro-string into out (appended).  With SPF_MACRO_DOMAIN the
 * result is truncated from the left to at most 253 characters by
 * removing whole labels (RFC 7208 §7.3).  Returns SPF_OK, SPF_ESYNTAX
 * (invalid macro; *errmsg set if not NULL), or the buffer's error.
 */
spf_status_t spf_macro_expand(const char *s, size_t len,
	const spf_macro_ctx_t *ctx, int flags, spf_buf_t *out,
	const char **errmsg);

#endif
