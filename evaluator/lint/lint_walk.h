/*
 * lint_walk.h - the static include/redirect tree that lint.c builds and
 * flatten.c reads.  Private to evaluator/: cmd/ sees only the accessors
 * of spf.h.
 *
 * One lnode is one check_host() frame as evaluation could reach it: the
 * starting domain, and one node per include or redirect target.  Each
 * node keeps the answers its terms' lookups got (borrowed references,
 * released by spf_lint_destroy()).  Everything else lives in the lint
 * run's arena.
 */
#ifndef SPF_LINT_WALK_H
#define SPF_LINT_WALK_H

#include "internal.h"
#include "ipset.h"

enum lrole { LROLE_TOP, LROLE_INCLUDE, LROLE_REDIRECT };

/* Why a node has no usable record. */
enum lstate {
	LN_OK = 0,      /* a record was selected (it may have syntax errors) */
	LN_NONE,        /* no v=spf1 record (NXDOMAIN, NODATA or none among TXT) */
	LN_MULTI,       /* more than one v=spf1 record */
	LN_TEMP,        /* the TXT lookup failed (temperror) */
	LN_LOOP,        /* the domain is already being evaluated above */
	LN_CUT,         /* not walked: depth or node limit of the linter */
	LN_BADNAME,     /* the target is not a valid domain name */
};

#define LINT_MAX_HOSTS 32   /* MX hosts whose addresses are looked up */
#define LINT_MAX_DEPTH 20   /* the linter's own bound on nesting */

struct lnode;

struct lterm {
	const spf_term_t *t;
	bool reachable;         /* evaluation can reach it (not after all,
	                         * not an ignored redirect) */
	bool dynamic;           /* its target needs macros other than %{d}:
	                         * not resolvable statically */
	const char *target;     /* expanded target domain, or NULL */
	spf_dns_answer_t *a4;   /* a: A; exists: A */
	spf_dns_answer_t *a6;   /* a: AAAA */
	spf_dns_answer_t *mx;   /* mx: MX; exp: TXT of the target */
	size_t nhosts;          /* mx: hosts looked up (valid names) */
	const char *hosts[LINT_MAX_HOSTS];
	spf_dns_answer_t *h4[LINT_MAX_HOSTS];
	spf_dns_answer_t *h6[LINT_MAX_HOSTS];
	size_t nmx;             /* mx: names in the MX answer */
	bool null_mx;           /* mx: a null MX (RFC 7505) was among them */
	struct lnode *child;    /* include / redirect target */
	/* counts filled after the walk (worst case: nothing matches) */
	unsigned lookup_no;     /* this term's number among DNS terms; 0 none */
	unsigned subtree;       /* DNS terms this term costs, itself included */
};

/* A syntax error of one term (RFC 7208 §4.6: the record is a permerror). */
struct lperr {
	size_t offset, len;
	const char *message;
	const char *text;       /* for version problems: the TXT string */
	size_t tlen;
	struct lperr *next;
};

struct lnode {
	const char *domain;
	enum lrole role;
	struct lnode *parent;
	unsigned depth;
	enum lstate state;
	const char *why;            /* for LN_TEMP / LN_BADNAME */
	spf_dns_answer_t *txt;      /* TXT answer */
	spf_dns_answer_t *spf99;    /* type SPF (99) answer, top only */
	/* the selected record, as published */
	const char *text;
	size_t len;
	const uint16_t *lens;       /* its character-strings (NULL: draft) */
	size_t nstrings;
	bool syntax_errors;         /* the record as a whole is a permerror */
	struct lperr *perrs;        /* every term that does not parse */
	struct lperr *vers;         /* TXT strings with a bad version tag */
	size_t nspf1;               /* v=spf1 records found */
	spf_record_t *rec;          /* the terms that parse (offsets as in text) */
	struct lterm *terms;        /* one per rec->terms[i] */
	struct lnode *next_dfs;     /* evaluation (depth-first) order */
	unsigned index;             /* creation order: 0 .. node count - 1 */
	struct lnode *next_all;     /* every node, in creation order */
};

/*
 * The addresses flat (spf_flatten()) gives pass through its terms (the
 * default, "all" at the top, not included), and the term, in the record
 * of *n, that adds the most addresses of family (4 or 6) to them (both
 * NULL when none adds any).  Borrowed from flat.
 */
const spf_ipset_t *spf_flat_pass(const spf_flat_t *fl, int family,
	const struct lnode **n, const spf_term_t **t);

/*
 * The tree in evaluation order, the one walker of it (lint.c counts the
 * lookups with it, networks.c the addresses): the reachable terms of a
 * record in order with the redirect after the mechanisms (RFC 7208
 * §6.1), and right after an include or redirect whose target has a
 * record (LN_OK), that record: ENTER, its terms, LEAVE.  The top record
 * is entered by init (no ENTER) and left last (LEAVE with lt NULL).  An
 * explicit stack, no recursion; depth is the frame's index (0: top).
 */
enum lstep_kind { LSTEP_TERM, LSTEP_ENTER, LSTEP_LEAVE };

struct lstep {
	enum lstep_kind kind;
	struct lnode *n;        /* TERM: the record the term is in; ENTER,
	                         * LEAVE: the record entered or left */
	struct lterm *lt;       /* TERM: the term; ENTER, LEAVE: the include
	                         * or redirect that reaches n (NULL: the top) */
	size_t depth;
};

#define LWALK_MAX (LINT_MAX_DEPTH + 3)

struct lwalk_frame {
	struct lnode *n;
	size_t i;               /* next term; nterms: the redirect */
	struct lterm *via;
};

struct lwalk {
	struct lwalk_frame stack[LWALK_MAX];
	size_t sp;
	struct lterm *pending;  /* its child is entered next */
};

/* Start at top (nothing to walk unless it is LN_OK with a record). */
void spf_lwalk_init(struct lwalk *w, struct lnode *top);
/* The next step into *s; false at the end. */
bool spf_lwalk_next(struct lwalk *w, struct lstep *s);

/* The addresses a static mechanism matches (ip4, ip6, a, mx from the
 * walk's answers with their CIDR lengths; nothing for the others) into
 * *m, a fresh set in arena (flatten.c).  SPF_OK or SPF_ENOMEM. */
spf_status_t spf_lterm_match_set(spf_arena_t *arena, const struct lterm *lt,
	spf_ipset_t *m);

/* The tree of a finished lint run: the top node (NULL if none). */
struct lnode *spf_lint_tree(const spf_lint_t *lint);
/* How many nodes the tree has (every lnode's index is below it). */
size_t spf_lint_node_count(const spf_lint_t *lint);

#endif
