/*
 * lint.c - find what is wrong with an SPF record before it is published.
 *
 * DESCRIPTION
 *	spf_lint_run() builds the static include/redirect tree of a domain
 *	(lint_walk.h) through a resolver, one level at a time: the TXT
 *	lookups of a level, then the lookups of its terms (A/AAAA of a, MX
 *	of mx, A of exists, TXT of exp), then the A/AAAA lookups of the MX
 *	hosts, each step's queries in parallel (a spf_sync_t group,
 *	check/sync.c).  The walk is a state machine (enum lint_step) moved on
 *	by the answer that completes a step: spf_lint_start() runs it on the
 *	shared loop and calls back (audit runs many at once); spf_lint_run()
 *	is the same walk with the loop run until it is done.  Then it
 *	walks the tree in evaluation order (an explicit stack, no recursion
 *	on DNS data) to number the DNS-querying terms and count void
 *	lookups, and checks every record.  Nothing stops at the 10-lookup
 *	limit: the user sees the whole tree and the totals.
 *
 *	Counts are the worst case: a client that matches no term, so every
 *	reachable term is evaluated.  Terms after "all" and a redirect next
 *	to "all" are never evaluated and are not counted (RFC 7208 §5.1,
 *	§6.1).  Void lookups are counted in four readings: per term for an
 *	IPv4 and an IPv6 client (RFC 7208 §4.6.4: a's A or AAAA lookup, mx's
 *	MX lookup, exists' A lookup), and per query (pyspf: also each MX
 *	host's A or AAAA lookup).
 *
 *	The rules and their ids are listed in doc/lint-rules.md.
 *
 * DIAGNOSTICS
 *	DNS failures are findings (L-DNS), never API errors.  A term whose
 *	target needs macros other than %{d} cannot be followed statically
 *	(L-DYNAMIC).  The walk is bounded: depth 20, 400 records; what is
 *	cut shows as a finding.  SPF_ENOMEM when memory runs out.
 */
#include "lint_walk.h"

#include <string.h>

#define MAX_DNS_TERMS 10   /* RFC 7208 §4.6.4 */
#define MAX_MX_NAMES 10    /* RFC 7208 §4.6.4 */
#define MAX_DEPTH LINT_MAX_DEPTH
#define MAX_NODES 400      /* and on records walked */
#define STRING_MAX 255     /* RFC 1035 character-string */
#define MSG_MAX 4096

/* Where the walk of one level is (spf_lint_start() runs it from the
 * answers; each *_WAIT step's queries are out while it is the step). */
enum lint_step {
	LS_LEVEL = 0,    /* ask the TXT (and type 99) of the level's nodes */
	LS_TXT_WAIT,     /* then select records, ask their terms' lookups */
	LS_TERMS_WAIT,   /* then ask the MX hosts' addresses */
	LS_HOSTS_WAIT,   /* then the next level: include/redirect targets */
	LS_DONE,
};

struct spf_lint {
	spf_arena_t *arena;
	const char *domain;
	const char *draft;
	size_t draft_len;
	unsigned void_limit;
	struct lnode *top;
	size_t nnodes;
	struct lnode **all_tail;
	/* answers to release */
	spf_dns_answer_t **answers;
	size_t nanswers, capanswers;
	spf_sync_t sync;        /* the queries of the step in progress */
	bool oom;
	/* the walk as a state machine (enum lint_step), driven by the
	 * answers: the level being walked and the next one */
	enum lint_step step;
	struct lnode **level;
	size_t nl;
	bool done;              /* counted and checked (or failed) */
	spf_lint_cb cb;         /* NULL: spf_lint_run() waits */
	void *cb_arg;
	spf_dns_query_t *kick;  /* spf_lint_start()'s first turn */
	/* the answers held and their budget (issue 22) */
	size_t held;
	size_t budget;
	bool over_budget;
	/* results */
	spf_lint_finding_t *findings;
	size_t nfindings, capfindings;
	spf_lint_lookup_t *lookups;
	size_t nlookups, caplookups;
	spf_lint_counts_t counts;
};

struct pending {
	spf_lint_t *lint;
	spf_dns_answer_t **slot;
};

const char *spf_lint_severity_str(spf_lint_severity_t s)
{
	switch (s) {
	case SPF_LINT_ERROR: return "error";
	case SPF_LINT_WARNING: return "warning";
	default: return "info";
	}
}

/* ---- growing arrays ---- */

static bool grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 16;
	p = spf_realloc(*arr, nc * size);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}

/* ---- DNS ---- */

static void advance(spf_lint_t *l);

static void on_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct pending *p = arg;
	spf_lint_t *l = p->lint;

	/* the run keeps every answer of the tree (rules and flatten read
	 * them): count them against the budget, and stop the walk past it */
	l->held += spf_dns_answer_bytes(ans);
	if (l->held > l->budget) {
		l->over_budget = true;
		l->oom = true;
	}
	*p->slot = spf_dns_answer_ref((spf_dns_answer_t *)ans);
	if (grow((void **)&l->answers, &l->capanswers, l->nanswers,
	    sizeof(*l->answers)))
		l->answers[l->nanswers++] = *p->slot;
	else {
		spf_dns_answer_unref(*p->slot);
		*p->slot = NULL;
		l->oom = true;
	}
	advance(l);   /* last: the run's callback may destroy it */
}

static void ask(spf_lint_t *l, const char *name, uint16_t type,
	spf_dns_answer_t **slot)
{
	struct pending *p = spf_arena_alloc(l->arena, sizeof(*p));

	if (p == NULL) {
		l->oom = true;
		return;
	}
	p->lint = l;
	p->slot = slot;
	if (!spf_sync_query(&l->sync, name, type, on_answer, p))
		l->oom = true;
}

static spf_dns_status_t ans_status(const spf_dns_answer_t *a)
{
	return a != NULL ? spf_dns_answer_status(a) : SPF_DNS_TEMPFAIL;
}

static bool is_void(const spf_dns_answer_t *a)
{
	spf_dns_status_t st = ans_status(a);

	return st == SPF_DNS_NXDOMAIN || st == SPF_DNS_NODATA;
}

static bool is_fail(const spf_dns_answer_t *a)
{
	spf_dns_status_t st = ans_status(a);

	return st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY;
}

/* ---- names and macros ---- */

/* Does the macro-string hold a macro ("%{")? */
static bool has_macro(const char *s, size_t n)
{
	if (s == NULL)
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '%' && s[i + 1] == '{')
			return true;
	return false;
}

/* The target of a term for a node (spf_term_target(), knowing nothing
 * of a message), or NULL: dynamic (then marked so) or invalid. */
static const char *term_target(spf_lint_t *l, struct lnode *n,
	struct lterm *lt)
{
	spf_target_t tg;

	if (spf_term_target(l->arena, lt->t, n->domain, NULL, &tg, NULL) ==
	    SPF_ENOMEM)
		l->oom = true;
	if (tg.dynamic)
		lt->dynamic = true;
	return tg.valid ? tg.name : NULL;
}

/* ---- record selection and parsing ---- */

static void add_lperr(spf_lint_t *l, struct lperr **list, size_t off,
	size_t len, const char *msg, const char *text, size_t tlen)
{
	struct lperr *e = spf_arena_alloc(l->arena, sizeof(*e)), **pp;

	if (e == NULL) {
		l->oom = true;
		return;
	}
	e->offset = off;
	e->len = len;
	e->message = msg;
	e->text = text;
	e->tlen = tlen;
	for (pp = list; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = e;
}

/* "NAME (U+XXXX)" of the non-ASCII character at s[0] (n bytes from
 * there), or "the byte 0xNN"; *seq its length, *ascii what to type. */
static const char *char_words(spf_lint_t *l, const char *s, size_t n,
	size_t *seq, const char **ascii)
{
	uint32_t cp;
	const char *name;

	*ascii = NULL;
	name = spf_char_name(s, n, &cp, seq, ascii);
	if (name != NULL)
		return spf_arena_printf(l->arena, "%s (U+%04X)", name,
		    (unsigned)cp);
	if (cp != 0)
		return spf_arena_printf(l->arena, "the character U+%04X",
		    (unsigned)cp);
	return spf_arena_printf(l->arena, "the byte 0x%02X",
	    (unsigned)(unsigned char)s[0]);
}

/*
 * A TXT string that was meant to be an SPF record but will not be
 * selected (RFC 7208 §4.5): leading white space, or a typographic
 * character (a byte order mark, a no-break space) before "v=spf1";
 * "v=spf1" glued to more text, or followed by such a character instead
 * of a space (named, as the record parser names one in a term); quotes
 * around it.  Returns the message and the span, or NULL (and NULL when
 * out of memory, with l->oom set).
 */
static const char *version_problem(spf_lint_t *l, const char *s, size_t n,
	size_t *off, size_t *len)
{
	size_t k = 0, e, seq, first = SIZE_MAX;
	const char *what, *ascii, *msg;
	uint32_t cp;

	for (;;) {
		if (k < n && (s[k] == ' ' || s[k] == '\t')) {
			k++;
		} else if (k < n && (unsigned char)s[k] >= 0x80) {
			(void)spf_char_name(s + k, n - k, &cp,
			    &seq, &ascii);
			if (first == SIZE_MAX)
				first = k;
			k += seq;
		} else {
			break;
		}
	}
	if (first != SIZE_MAX && n - k >= 6 && spf_strncaseeq(s + k, "v=spf1", 6)) {
		what = char_words(l, s + first, n - first, &seq, &ascii);
		msg = what == NULL ? NULL : spf_arena_printf(l->arena,
		    "%s before 'v=spf1': receivers do not select this record "
		    "and see no SPF record at all; remove %s", what,
		    k - first > seq ? "everything before 'v=spf1'" : "it");
		if (msg == NULL)
			l->oom = true;
		*off = first;
		*len = seq;
		return msg;
	}
	if (k > 0 && n - k >= 6 && spf_strncaseeq(s + k, "v=spf1", 6)) {
		*off = 0;
		*len = k;
		return "white space before 'v=spf1': receivers do not select "
		    "this record and see no SPF record at all; remove it";
	}
	if (n >= 7 && s[0] == '"' && spf_strncaseeq(s + 1, "v=spf1", 6)) {
		*off = 0;
		*len = 1;
		return "the record starts with a quote character: the quotes "
		    "were published as part of the text; remove them";
	}
	if (n > 6 && spf_strncaseeq(s, "v=spf1", 6) &&
	    (unsigned char)s[6] >= 0x80) {
		what = char_words(l, s + 6, n - 6, &seq, &ascii);
		msg = what == NULL ? NULL : spf_arena_printf(l->arena,
		    "the version tag 'v=spf1' is followed by %s, not by a "
		    "space: receivers do not select this record and see no "
		    "SPF record at all; %s", what,
		    ascii != NULL ? ascii : "type a space instead");
		if (msg == NULL)
			l->oom = true;
		*off = 6;
		*len = seq;
		return msg;
	}
	if (n > 6 && spf_strncaseeq(s, "v=spf1", 6) && s[6] != ' ') {
		for (e = 6; e < n && s[e] != ' '; e++)
			;
		*off = 0;
		*len = e;
		return "the version tag must be exactly 'v=spf1' followed by a "
		    "space or the end of the record; this record is ignored";
	}
	return NULL;
}

/* Parse the selected record; on a syntax error find every bad term. */
static void parse_node(spf_lint_t *l, struct lnode *n)
{
	spf_parse_error_t err;
	spf_status_t st;
	spf_record_t *rec;
	size_t pos, cnt = 0, k = 0, found = 0;

	st = spf_record_parse(l->arena, (const uint8_t *)n->text, n->len,
	    &n->rec, &err);
	if (st == SPF_ENOMEM) {
		l->oom = true;
		return;
	}
	if (st == SPF_OK)
		goto terms;
	n->syntax_errors = true;
	/* each term on its own, as "v=spf1 TERM" */
	for (pos = 6; pos < n->len;) {
		while (pos < n->len && n->text[pos] == ' ')
			pos++;
		if (pos == n->len)
			break;
		cnt++;
		while (pos < n->len && n->text[pos] != ' ')
			pos++;
	}
	rec = spf_arena_alloc(l->arena, sizeof(*rec));
	if (rec == NULL || (cnt > 0 && (rec->terms = spf_arena_alloc(l->arena,
	    cnt * sizeof(*rec->terms))) == NULL)) {
		l->oom = true;
		return;
	}
	rec->text = (const uint8_t *)n->text;
	rec->len = n->len;
	rec->redirect = rec->exp = rec->all = -1;
	for (pos = 6; pos < n->len;) {
		size_t off, tl;
		spf_record_t *one;
		spf_parse_error_t e1;
		char *mini;

		while (pos < n->len && n->text[pos] == ' ')
			pos++;
		if (pos == n->len)
			break;
		off = pos;
		while (pos < n->len && n->text[pos] != ' ')
			pos++;
		tl = pos - off;
		mini = spf_arena_printf(l->arena, "v=spf1 %.*s", (int)tl,
		    n->text + off);
		if (mini == NULL) {
			l->oom = true;
			return;
		}
		st = spf_record_parse(l->arena, (const uint8_t *)mini, tl + 7,
		    &one, &e1);
		if (st == SPF_ENOMEM) {
			l->oom = true;
			return;
		}
		if (st != SPF_OK) {
			add_lperr(l, &n->perrs, off + (e1.offset >= 7 ?
			    e1.offset - 7 : 0), e1.len, e1.message, NULL, 0);
			found++;
			continue;
		}
		if (one->nterms != 1)
			continue;
		rec->terms[k] = one->terms[0];
		rec->terms[k].offset = off;
		if (one->redirect == 0 || one->exp == 0) {
			int *slot = one->redirect == 0 ? &rec->redirect : &rec->exp;

			if (*slot >= 0) {
				add_lperr(l, &n->perrs, off, tl, spf_arena_printf(
				    l->arena, "second %s= modifier: each may "
				    "appear only once (RFC 7208 §6)",
				    one->terms[0].name), NULL, 0);
				found++;
				continue;
			}
			*slot = (int)k;
		}
		if (one->all == 0 && rec->all < 0)
			rec->all = (int)k;
		k++;
	}
	rec->nterms = k;
	n->rec = rec;
	if (found == 0)
		add_lperr(l, &n->perrs, err.offset, err.len, err.message, NULL, 0);
terms:
	if (n->rec->nterms > 0) {
		n->terms = spf_arena_alloc(l->arena,
		    n->rec->nterms * sizeof(*n->terms));
		if (n->terms == NULL) {
			l->oom = true;
			return;
		}
	}
	for (size_t i = 0; i < n->rec->nterms; i++) {
		struct lterm *lt = &n->terms[i];
		const spf_term_t *t = &n->rec->terms[i];

		lt->t = t;
		if (t->is_modifier)
			lt->reachable = t->mod != SPF_MOD_REDIRECT || n->rec->all < 0;
		else
			lt->reachable = n->rec->all < 0 || (int)i <= n->rec->all;
	}
}

/* RFC 7208 §4.5 (spf_record_select()), or the draft at the top. */
static void select_record(spf_lint_t *l, struct lnode *n)
{
	spf_selection_t sel;
	size_t cnt;

	if (n->role == LROLE_TOP && l->draft != NULL) {
		size_t off, len;
		const char *msg = version_problem(l, l->draft, l->draft_len, &off, &len);

		if (msg != NULL)
			add_lperr(l, &n->vers, off, len, msg, l->draft, l->draft_len);
		if (!spf_record_is_spf1((const uint8_t *)l->draft, l->draft_len)) {
			n->state = LN_NONE;
			if (msg == NULL)
				add_lperr(l, &n->vers, 0, l->draft_len < 6 ?
				    l->draft_len : 6, "not an SPF record: it "
				    "must start with 'v=spf1'", l->draft,
				    l->draft_len);
			return;
		}
		n->nspf1 = 1;
		n->text = l->draft;
		n->len = l->draft_len;
		parse_node(l, n);
		return;
	}
	spf_record_select(n->txt, NULL, SPF_SCOPE_RFC7208, false, &sel);
	if (sel.status == SPF_SELECT_DNS_ERROR) {
		n->state = LN_TEMP;
		n->why = spf_dns_status_text(l->arena, ans_status(n->txt),
		    n->txt ? spf_dns_answer_detail(n->txt) : NULL);
		return;
	}
	/* every TXT record's version section is linted, selected or not */
	cnt = ans_status(n->txt) == SPF_DNS_OK ? spf_dns_answer_count(n->txt) : 0;
	for (size_t i = 0; i < cnt; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(n->txt, i);
		const char *s = (const char *)rr->u.txt.data;
		size_t off, len;
		const char *msg = version_problem(l, s, rr->u.txt.len, &off, &len);

		/* "v=spf1" "ip4:..." (RFC 7208 §3.3 joins without a space):
		 * say so, at the boundary */
		if (msg != NULL && rr->u.txt.nstrings > 1 && rr->u.txt.lens[0] == 6 &&
		    rr->u.txt.len > 6 && s[6] != ' ' && spf_strncaseeq(s, "v=spf1", 6)) {
			msg = "character-strings 1 and 2 of the TXT record are "
			    "joined without a space (RFC 7208 §3.3): 'v=spf1' runs "
			    "into the first term, so the record does not start "
			    "with the version tag and is ignored; end string 1 "
			    "with a space or start string 2 with one";
			off = 6;
			len = 0;
		}
		if (msg != NULL)
			add_lperr(l, &n->vers, off, len, msg, s, rr->u.txt.len);
	}
	n->nspf1 = sel.ncand;
	if (sel.status == SPF_SELECT_NONE) {
		n->state = LN_NONE;
		return;
	}
	/* with several, the findings show the first */
	n->text = (const char *)sel.first->u.txt.data;
	n->len = sel.first->u.txt.len;
	n->lens = sel.first->u.txt.lens;
	n->nstrings = sel.first->u.txt.nstrings;
	if (sel.status == SPF_SELECT_MANY) {
		n->state = LN_MULTI;
		return;
	}
	parse_node(l, n);
}

/* ---- the walk ---- */

static struct lnode *new_node(spf_lint_t *l, const char *domain,
	enum lrole role, struct lnode *parent)
{
	struct lnode *n = spf_arena_alloc(l->arena, sizeof(*n));

	if (n == NULL) {
		l->oom = true;
		return NULL;
	}
	n->domain = domain;
	n->role = role;
	n->parent = parent;
	n->depth = parent ? parent->depth + 1 : 0;
	n->index = (unsigned)l->nnodes++;
	*l->all_tail = n;
	l->all_tail = &n->next_all;
	return n;
}

static bool on_path(const struct lnode *n, const char *domain)
{
	for (; n != NULL; n = n->parent)
		if (spf_streq_nocase(n->domain, domain))
			return true;
	return false;
}

/* Step 2: the lookups of a record's terms. */
static void ask_terms(spf_lint_t *l, struct lnode *n)
{
	for (size_t i = 0; n->state == LN_OK && n->rec && i < n->rec->nterms; i++) {
		struct lterm *lt = &n->terms[i];
		const spf_term_t *t = lt->t;

		if (!lt->reachable)
			continue;
		if (t->is_modifier) {
			if (t->mod == SPF_MOD_REDIRECT)
				lt->target = term_target(l, n, lt);
			else if (t->mod == SPF_MOD_EXP && n->role != LROLE_INCLUDE) {
				lt->target = term_target(l, n, lt);
				if (lt->target != NULL)
					ask(l, lt->target, SPF_RR_TXT, &lt->mx);
			}
			continue;
		}
		switch (t->mech) {
		case SPF_MECH_A:
			lt->target = term_target(l, n, lt);
			if (lt->target != NULL) {
				ask(l, lt->target, SPF_RR_A, &lt->a4);
				ask(l, lt->target, SPF_RR_AAAA, &lt->a6);
			}
			break;
		case SPF_MECH_MX:
			lt->target = term_target(l, n, lt);
			if (lt->target != NULL)
				ask(l, lt->target, SPF_RR_MX, &lt->mx);
			break;
		case SPF_MECH_EXISTS:
			lt->target = term_target(l, n, lt);
			if (lt->target != NULL)
				ask(l, lt->target, SPF_RR_A, &lt->a4);
			break;
		case SPF_MECH_INCLUDE:
			lt->target = term_target(l, n, lt);
			break;
		case SPF_MECH_PTR:
			/* needs the client's address: nothing to resolve */
			if (t->domain_spec != NULL &&
			    !spf_macro_domain_only(t->domain_spec, t->domain_spec_len))
				lt->dynamic = true;
			break;
		default:
			break;
		}
	}
}

/* Step 3: the addresses of the MX hosts. */
static void ask_hosts(spf_lint_t *l, struct lnode *n)
{
	for (size_t i = 0; n->state == LN_OK && n->rec && i < n->rec->nterms; i++) {
		struct lterm *lt = &n->terms[i];
		size_t cnt;

		if (lt->t->is_modifier || lt->t->mech != SPF_MECH_MX ||
		    ans_status(lt->mx) != SPF_DNS_OK)
			continue;
		cnt = spf_dns_answer_count(lt->mx);
		lt->nmx = cnt;
		for (size_t j = 0; j < cnt; j++) {
			const char *ex = spf_dns_answer_rr(lt->mx, j)->u.mx.exchange;

			if (ex == NULL || *ex == '\0' || strcmp(ex, ".") == 0) {
				lt->null_mx = true;
				continue;
			}
			if (!spf_name_ok(ex) || lt->nhosts >= LINT_MAX_HOSTS)
				continue;
			lt->hosts[lt->nhosts] = ex;
			ask(l, ex, SPF_RR_A, &lt->h4[lt->nhosts]);
			ask(l, ex, SPF_RR_AAAA, &lt->h6[lt->nhosts]);
			lt->nhosts++;
		}
	}
}

/* Step 4: the next level, one node per include/redirect target. */
static size_t children(spf_lint_t *l, struct lnode *n, struct lnode ***next,
	size_t nn, size_t *cap)
{
	for (size_t i = 0; n->state == LN_OK && n->rec && i < n->rec->nterms; i++) {
		struct lterm *lt = &n->terms[i];
		const spf_term_t *t = lt->t;
		bool inc = !t->is_modifier && t->mech == SPF_MECH_INCLUDE;
		bool red = t->is_modifier && t->mod == SPF_MOD_REDIRECT;
		struct lnode *c;

		if (!lt->reachable || !(inc || red) || lt->dynamic)
			continue;
		if (lt->target == NULL) {
			c = new_node(l, t->domain_spec ? t->domain_spec : "",
			    inc ? LROLE_INCLUDE : LROLE_REDIRECT, n);
			if (c != NULL)
				c->state = LN_BADNAME;
			lt->child = c;
			continue;
		}
		c = new_node(l, lt->target, inc ? LROLE_INCLUDE : LROLE_REDIRECT, n);
		if (c == NULL)
			return nn;
		lt->child = c;
		if (on_path(n, lt->target)) {
			c->state = LN_LOOP;
			continue;
		}
		if (c->depth > MAX_DEPTH || l->nnodes > MAX_NODES) {
			c->state = LN_CUT;
			continue;
		}
		if (!grow((void **)next, cap, nn, sizeof(**next))) {
			l->oom = true;
			return nn;
		}
		(*next)[nn++] = c;
	}
	return nn;
}

static void count_tree(spf_lint_t *l);
static void check_all(spf_lint_t *l);

/*
 * Move the walk on while nothing of the step is out: a level's TXT
 * lookups, then its terms' lookups, then the MX hosts', then the next
 * level; when no level is left, count and check, and call the callback.
 * Every answer calls it last; so does spf_lint_run() after a wait the
 * loop cut short (what was out is cancelled: its slot stays NULL, which
 * reads as a failed lookup).
 */
static void advance(spf_lint_t *l)
{
	struct lnode **next;
	size_t nn, capn;

	while (l->sync.pending == 0 && l->step != LS_DONE) {
		if (l->oom)
			l->nl = 0;
		switch (l->step) {
		case LS_LEVEL:
			if (l->nl == 0) {
				l->step = LS_DONE;
				break;
			}
			for (size_t i = 0; i < l->nl; i++) {
				struct lnode *n = l->level[i];

				if (n->role == LROLE_TOP) {
					if (l->draft != NULL &&
					    strcmp(n->domain, "draft.invalid") == 0)
						continue;
					ask(l, n->domain, SPF_RR_SPF, &n->spf99);
				}
				ask(l, n->domain, SPF_RR_TXT, &n->txt);
			}
			l->step = LS_TXT_WAIT;
			break;
		case LS_TXT_WAIT:
			for (size_t i = 0; i < l->nl && !l->oom; i++)
				select_record(l, l->level[i]);
			for (size_t i = 0; i < l->nl && !l->oom; i++)
				ask_terms(l, l->level[i]);
			l->step = LS_TERMS_WAIT;
			break;
		case LS_TERMS_WAIT:
			for (size_t i = 0; i < l->nl && !l->oom; i++)
				ask_hosts(l, l->level[i]);
			l->step = LS_HOSTS_WAIT;
			break;
		case LS_HOSTS_WAIT:
			next = NULL;
			nn = capn = 0;
			for (size_t i = 0; i < l->nl && !l->oom; i++)
				nn = children(l, l->level[i], &next, nn, &capn);
			spf_free(l->level);
			l->level = next;
			l->nl = nn;
			l->step = LS_LEVEL;
			break;
		case LS_DONE:
			break;
		}
	}
	if (l->step != LS_DONE || l->done)
		return;
	l->done = true;
	if (!l->oom) {
		count_tree(l);
		check_all(l);
	}
	if (l->cb != NULL)
		l->cb(l, l->cb_arg);   /* last: it may destroy l */
}

/* ---- counting, in evaluation order ---- */

static spf_lint_state_t node_state(const struct lnode *n)
{
	switch (n->state) {
	case LN_OK: return n->syntax_errors ? SPF_LINT_STATE_SYNTAX :
	    SPF_LINT_STATE_OK;
	case LN_NONE: return SPF_LINT_STATE_NONE;
	case LN_MULTI: return SPF_LINT_STATE_MULTI;
	case LN_TEMP: return SPF_LINT_STATE_TEMP;
	case LN_LOOP: return SPF_LINT_STATE_LOOP;
	case LN_CUT: return SPF_LINT_STATE_CUT;
	default: return SPF_LINT_STATE_BADNAME;
	}
}

static void add_lookup(spf_lint_t *l, const struct lnode *n,
	const struct lterm *lt, bool v4, bool v6)
{
	spf_lint_lookup_t *e;

	if (!grow((void **)&l->lookups, &l->caplookups, l->nlookups,
	    sizeof(*l->lookups))) {
		l->oom = true;
		return;
	}
	e = &l->lookups[l->nlookups++];
	e->domain = n->domain;
	e->term = lt->t->text;
	e->depth = n->depth;
	e->number = lt->lookup_no;
	e->subtree = 1;
	e->void4 = v4;
	e->void6 = v6;
	e->target = lt->target;
	e->is_redirect = lt->t->is_modifier;
	e->mech = lt->t->mech;
	e->voids = v4;
	e->state = lt->dynamic ? SPF_LINT_STATE_DYNAMIC : lt->child != NULL ?
	    node_state(lt->child) : SPF_LINT_STATE_OK;
}

static void count_term(spf_lint_t *l, struct lnode *n, struct lterm *lt,
	unsigned *counter)
{
	const spf_term_t *t = lt->t;
	bool dns = t->is_modifier ? t->mod == SPF_MOD_REDIRECT :
	    spf_mech_queries_dns(t->mech);
	bool v4 = false, v6 = false;

	if (!dns)
		return;
	lt->lookup_no = ++*counter;
	lt->subtree = 1;
	if (!t->is_modifier && t->mech == SPF_MECH_A && lt->target) {
		v4 = is_void(lt->a4);
		v6 = is_void(lt->a6);
		l->counts.voids_query += v4;
		l->counts.voids6_query += v6;
		if (ans_status(lt->a4) == SPF_DNS_OK && v6)
			l->counts.noaaaa++;
	} else if (!t->is_modifier && t->mech == SPF_MECH_MX && lt->target) {
		bool noaaaa = false;

		v4 = v6 = is_void(lt->mx);
		l->counts.voids_query += v4;
		l->counts.voids6_query += v6;
		for (size_t j = 0; j < lt->nhosts; j++) {
			l->counts.voids_query += is_void(lt->h4[j]);
			l->counts.voids6_query += is_void(lt->h6[j]);
			if (ans_status(lt->h4[j]) == SPF_DNS_OK && is_void(lt->h6[j]))
				noaaaa = true;
		}
		l->counts.noaaaa += noaaaa;
	} else if (!t->is_modifier && t->mech == SPF_MECH_EXISTS && lt->target) {
		v4 = v6 = is_void(lt->a4);
		l->counts.voids_query += v4;
		l->counts.voids6_query += v6;
	}
	l->counts.voids += v4;
	l->counts.voids6 += v6;
	add_lookup(l, n, lt, v4, v6);
}

/* ---- the tree in evaluation order (lint_walk.h) ---- */

void spf_lwalk_init(struct lwalk *w, struct lnode *top)
{
	memset(w, 0, sizeof(*w));
	if (top != NULL && top->state == LN_OK && top->rec != NULL)
		w->stack[w->sp++] = (struct lwalk_frame){ .n = top };
}

bool spf_lwalk_next(struct lwalk *w, struct lstep *s)
{
	if (w->pending != NULL) {
		struct lterm *lt = w->pending;

		w->pending = NULL;
		w->stack[w->sp++] = (struct lwalk_frame){ .n = lt->child, .via = lt };
		*s = (struct lstep){ LSTEP_ENTER, lt->child, lt, w->sp - 1 };
		return true;
	}
	while (w->sp > 0) {
		struct lwalk_frame *f = &w->stack[w->sp - 1];
		struct lnode *n = f->n;
		struct lterm *lt;

		if (f->i > n->rec->nterms) {
			w->sp--;
			*s = (struct lstep){ LSTEP_LEAVE, n, f->via, w->sp };
			return true;
		}
		if (f->i == n->rec->nterms) {
			/* the redirect after every mechanism (RFC 7208 §6.1) */
			f->i++;
			if (n->rec->redirect < 0)
				continue;
			lt = &n->terms[n->rec->redirect];
		} else {
			lt = &n->terms[f->i++];
			if (lt->t->is_modifier && lt->t->mod == SPF_MOD_REDIRECT)
				continue;
		}
		if (!lt->reachable)
			continue;
		if (lt->child != NULL && lt->child->state == LN_OK &&
		    w->sp < LWALK_MAX)
			w->pending = lt;
		*s = (struct lstep){ LSTEP_TERM, n, lt, w->sp - 1 };
		return true;
	}
	return false;
}

static void count_tree(spf_lint_t *l)
{
	struct lwalk w;
	struct lstep s;
	struct {
		size_t lookup_idx;      /* the include/redirect's entry */
		unsigned voids_before;  /* l->counts.voids before its subtree */
	} at[LWALK_MAX];
	unsigned counter = 0;
	struct lnode **tail = &l->top->next_dfs;

	if (l->top->state != LN_OK)
		return;
	l->counts.records = 1;
	spf_lwalk_init(&w, l->top);
	while (!l->oom && spf_lwalk_next(&w, &s)) {
		switch (s.kind) {
		case LSTEP_TERM:
			count_term(l, s.n, s.lt, &counter);
			break;
		case LSTEP_ENTER:
			at[s.depth].lookup_idx = l->nlookups - 1;
			at[s.depth].voids_before = l->counts.voids;
			*tail = s.n;
			tail = &s.n->next_dfs;
			s.n->next_dfs = NULL;
			l->counts.records++;
			break;
		case LSTEP_LEAVE:
			if (s.lt == NULL)
				break;
			s.lt->subtree = counter - s.lt->lookup_no + 1;
			l->lookups[at[s.depth].lookup_idx].subtree = s.lt->subtree;
			l->lookups[at[s.depth].lookup_idx].voids += l->counts.voids -
			    at[s.depth].voids_before;
			break;
		}
	}
	l->counts.lookups = counter;
}

/* ---- findings ---- */

__attribute__((format(printf, 7, 8)))
static void finding(spf_lint_t *l, const char *rule, spf_lint_severity_t sev,
	const struct lnode *n, const char *section, const spf_term_t *t,
	const char *fmt, ...)
{
	spf_lint_finding_t *f;
	spf_buf_t b;
	va_list ap;

	if (!grow((void **)&l->findings, &l->capfindings, l->nfindings,
	    sizeof(*l->findings))) {
		l->oom = true;
		return;
	}
	f = &l->findings[l->nfindings];
	memset(f, 0, sizeof(*f));
	spf_buf_init(&b, MSG_MAX);
	va_start(ap, fmt);
	spf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->message = spf_arena_strdup(l->arena, b.err == SPF_OK ?
	    spf_buf_cstr(&b) : "(message too long)");
	spf_buf_finish(&b);
	if (f->message == NULL) {
		l->oom = true;
		return;
	}
	f->rule = rule;
	f->severity = sev;
	f->domain = n->domain;
	f->section = section;
	if (n->text != NULL) {
		f->record = n->text;
		f->record_len = n->len;
	}
	if (t != NULL && n->text != NULL) {
		f->has_range = true;
		f->offset = t->offset;
		f->len = t->len;
	}
	l->nfindings++;
}

/* Move the range of the last finding. */
static void last_range(spf_lint_t *l, const char *text, size_t tlen,
	size_t off, size_t len)
{
	spf_lint_finding_t *f;

	if (l->nfindings == 0)
		return;
	f = &l->findings[l->nfindings - 1];
	f->record = text;
	f->record_len = tlen;
	f->has_range = text != NULL;
	f->offset = off;
	f->len = len;
}

/* Estimated size of the TXT answer at name: header, question, one RR
 * per record (compressed owner, type, class, TTL, rdlength, strings). */
static size_t answer_size(const char *name, const spf_dns_answer_t *txt,
	const char *draft, size_t draft_len)
{
	size_t size = 12 + strlen(name) + 2 + 4;
	size_t cnt = ans_status(txt) == SPF_DNS_OK ? spf_dns_answer_count(txt) : 0;

	for (size_t i = 0; i < cnt; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(txt, i);

		if (draft != NULL && spf_record_is_spf1(rr->u.txt.data, rr->u.txt.len))
			continue;   /* the draft replaces it */
		size += 12 + rr->u.txt.len + rr->u.txt.nstrings;
	}
	if (draft != NULL)
		size += 12 + draft_len + (draft_len + STRING_MAX - 1) / STRING_MAX +
		    (draft_len == 0);
	return size;
}

static bool host_bits(const spf_addr_t *net, unsigned prefix)
{
	unsigned bits = net->family == 4 ? 32 : 128;

	for (unsigned b = prefix; b < bits; b++)
		if (net->addr[b / 8] & (0x80u >> (b % 8)))
			return true;
	return false;
}

static unsigned term_prefix(const spf_term_t *t)
{
	if (t->mech == SPF_MECH_IP4)
		return t->cidr4 < 0 ? 32u : (unsigned)t->cidr4;
	return t->cidr6 < 0 ? 128u : (unsigned)t->cidr6;
}

static void check_ip_terms(spf_lint_t *l, const struct lnode *n)
{
	for (size_t i = 0; i < n->rec->nterms; i++) {
		const spf_term_t *t = &n->rec->terms[i];
		unsigned p = 0;

		if (t->is_modifier || (t->mech != SPF_MECH_IP4 &&
		    t->mech != SPF_MECH_IP6) || !n->terms[i].reachable)
			continue;
		p = term_prefix(t);
		if (host_bits(&t->net, p)) {
			char buf[64];
			spf_addr_t net = t->net;
			unsigned bits = net.family == 4 ? 32 : 128;

			for (unsigned b = p; b < bits; b++)
				net.addr[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
			finding(l, "L-HOST-BITS", SPF_LINT_WARNING, n, "5.6", t,
			    "'%s' has host bits set after /%u; it means %s/%u "
			    "(write that, or fix the prefix length if a single "
			    "host was meant)", t->text, p,
			    spf_addr_str(&net, buf, sizeof(buf)), p);
		}
		for (size_t j = 0; j < i; j++) {
			const spf_term_t *u = &n->rec->terms[j];
			unsigned q;

			if (u->is_modifier || u->mech != t->mech ||
			    !n->terms[j].reachable)
				continue;
			q = term_prefix(u);
			if (q <= p && spf_addr_in_net(&t->net, &u->net, q)) {
				if (u->qualifier == t->qualifier)
					finding(l, "L-OVERLAP", SPF_LINT_WARNING, n,
					    "5.6", t, "'%s' is redundant: '%s' "
					    "earlier in the record already "
					    "covers it; remove it", t->text,
					    u->text);
				else
					finding(l, "L-OVERLAP", SPF_LINT_WARNING, n,
					    "5.6", t, "'%s' is never reached: "
					    "'%s' earlier in the record matches "
					    "all of its addresses with a "
					    "different result", t->text, u->text);
				break;
			}
			if (p < q && u->qualifier == t->qualifier &&
			    spf_addr_in_net(&u->net, &t->net, p)) {
				finding(l, "L-OVERLAP", SPF_LINT_WARNING, n, "5.6",
				    u, "'%s' is redundant: '%s' later in the "
				    "record covers it with the same result; "
				    "remove it", u->text, t->text);
				break;
			}
		}
	}
}

static void check_target_node(spf_lint_t *l, const struct lnode *n,
	const struct lterm *lt)
{
	const spf_term_t *t = lt->t;
	const struct lnode *c = lt->child;
	const char *what = t->is_modifier ? "redirect" : "include";
	const char *sec = t->is_modifier ? "6.1" : "5.2";

	if (c == NULL)
		return;
	switch (c->state) {
	case LN_NONE:
		finding(l, "L-TARGET-NONE", SPF_LINT_ERROR, n, sec, t,
		    "%s target %s has no SPF record: every check that "
		    "reaches '%s' ends in permerror; fix the name or publish "
		    "a record there", what, c->domain, t->text);
		break;
	case LN_BADNAME:
		finding(l, "L-TARGET-NONE", SPF_LINT_ERROR, n, sec, t,
		    "%s target '%s' is not a valid domain name (empty label, "
		    "label over 63 or name over 253 characters): the check "
		    "ends in permerror", what, c->domain);
		break;
	case LN_MULTI:
		finding(l, "L-MULTIPLE", SPF_LINT_ERROR, n, "4.5", t,
		    "%s target %s publishes %zu v=spf1 records: every check "
		    "that reaches it ends in permerror", what, c->domain,
		    c->nspf1);
		break;
	case LN_LOOP: {
		const char *loop = spf_loop_text(l->arena, t, c->domain, NULL);

		if (loop == NULL) {
			l->oom = true;
			break;
		}
		finding(l, "L-LOOP", SPF_LINT_ERROR, n, "4.6.4", t,
		    "%s; checks that reach this term run into the lookup "
		    "limit and end in permerror", loop);
		break;
	}
	case LN_TEMP:
		finding(l, "L-DNS", SPF_LINT_WARNING, n, "4.4", t,
		    "the record of %s could not be fetched: %s; checks that "
		    "reach it give temperror", c->domain, c->why);
		break;
	case LN_CUT:
		finding(l, "L-CUT", SPF_LINT_INFO, n, "4.6.4", t,
		    "not followed: the tree is deeper than %d or has more "
		    "than %d records", MAX_DEPTH, MAX_NODES);
		break;
	default:
		break;
	}
}

static void check_a_mx(spf_lint_t *l, const struct lnode *n,
	const struct lterm *lt)
{
	const spf_term_t *t = lt->t;
	spf_buf_t none, noaaaa;
	size_t nnone = 0, nno6 = 0;

	if (lt->target == NULL)
		return;
	if (t->mech == SPF_MECH_A) {
		if (is_fail(lt->a4) || is_fail(lt->a6))
			finding(l, "L-DNS", SPF_LINT_WARNING, n, "5", t,
			    "the address lookup of %s failed (%s): checks "
			    "reaching '%s' give temperror", lt->target,
			    spf_dns_status_str(is_fail(lt->a4) ?
			    ans_status(lt->a4) : ans_status(lt->a6)), t->text);
		else if (is_void(lt->a4) && is_void(lt->a6))
			finding(l, "L-NO-ADDRESS", SPF_LINT_WARNING, n, "5.3", t,
			    "%s has no A or AAAA records: '%s' never matches "
			    "and each check spends a void lookup on it; "
			    "remove it or fix the name", lt->target, t->text);
		else if (!is_void(lt->a4) && is_void(lt->a6))
			finding(l, "L-IPV6-NOAAAA", SPF_LINT_INFO, n, "5.3", t,
			    "%s has A but no AAAA records: for an IPv6 client "
			    "'%s' is a void lookup; add AAAA records or an "
			    "ip6: term if it sends over IPv6", lt->target, t->text);
		return;
	}
	/* mx */
	if (is_fail(lt->mx)) {
		finding(l, "L-DNS", SPF_LINT_WARNING, n, "5", t, "the MX lookup "
		    "of %s failed (%s): checks reaching '%s' give temperror",
		    lt->target, spf_dns_status_str(ans_status(lt->mx)), t->text);
		return;
	}
	if (is_void(lt->mx)) {
		finding(l, "L-NO-ADDRESS", SPF_LINT_WARNING, n, "5.4", t,
		    "%s has no MX records: '%s' never matches (there is no "
		    "fallback to A, RFC 7208 §5.4) and spends a void lookup; "
		    "remove it or fix the name", lt->target, t->text);
		return;
	}
	if (lt->nmx > MAX_MX_NAMES)
		finding(l, "L-MX-TOO-MANY", SPF_LINT_ERROR, n, "4.6.4", t,
		    "%s has %zu MX names; more than %d makes '%s' a permerror "
		    "for every client it is evaluated for; list the hosts with "
		    "ip4:/ip6: or a: instead", lt->target, lt->nmx,
		    MAX_MX_NAMES, t->text);
	if (lt->null_mx)
		finding(l, "L-NULL-MX", SPF_LINT_WARNING, n, "RFC 7505", t,
		    "%s has a null MX (RFC 7505: it accepts no mail): '%s' "
		    "adds no addresses; remove it", lt->target, t->text);
	spf_buf_init(&none, 1024);
	spf_buf_init(&noaaaa, 1024);
	for (size_t j = 0; j < lt->nhosts; j++) {
		if (is_void(lt->h4[j]) && is_void(lt->h6[j]))
			spf_buf_printf(&none, "%s%s", nnone++ ? ", " : "", lt->hosts[j]);
		else if (!is_void(lt->h4[j]) && is_void(lt->h6[j]))
			spf_buf_printf(&noaaaa, "%s%s", nno6++ ? ", " : "", lt->hosts[j]);
	}
	if (nnone > 0)
		finding(l, "L-NO-ADDRESS", SPF_LINT_WARNING, n, "5.4", t,
		    "MX host%s of %s without A or AAAA records: %s; they can "
		    "never match", nnone > 1 ? "s" : "", lt->target,
		    spf_buf_cstr(&none));
	if (nno6 > 0)
		finding(l, "L-IPV6-NOAAAA", SPF_LINT_INFO, n, "5.4", t,
		    "MX host%s of %s with A but no AAAA records: %s; each is a "
		    "void AAAA lookup for an IPv6 client at receivers that "
		    "count per query (pyspf)", nno6 > 1 ? "s" : "", lt->target,
		    spf_buf_cstr(&noaaaa));
	spf_buf_finish(&none);
	spf_buf_finish(&noaaaa);
}

static void check_exp(spf_lint_t *l, const struct lnode *n,
	const struct lterm *lt)
{
	const spf_term_t *t = lt->t;
	const spf_dns_rr_t *rr;
	size_t eo = 0;
	const char *em = NULL;

	if (n->role == LROLE_INCLUDE || lt->target == NULL)
		return;
	if (is_fail(lt->mx)) {
		finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
		    "the explanation at %s could not be fetched (%s): "
		    "receivers then use their default text", lt->target,
		    spf_dns_status_str(ans_status(lt->mx)));
		return;
	}
	if (is_void(lt->mx)) {
		finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
		    "exp target %s has no TXT record: receivers ignore '%s' "
		    "and use their default explanation; publish the text or "
		    "remove the modifier", lt->target, t->text);
		return;
	}
	if (spf_dns_answer_count(lt->mx) > 1) {
		finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
		    "exp target %s has %zu TXT records; with more than one "
		    "receivers ignore the explanation; keep exactly one",
		    lt->target, spf_dns_answer_count(lt->mx));
		return;
	}
	rr = spf_dns_answer_rr(lt->mx, 0);
	for (size_t i = 0; i < rr->u.txt.len; i++) {
		const unsigned char *b = rr->u.txt.data + i;
		const char *name, *ascii;
		uint32_t cp;
		size_t seq;

		if (*b < 0x20) {
			finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
			    "the explanation at %s contains the control byte "
			    "0x%02X at offset %zu: receivers ignore it",
			    lt->target, *b, i);
			return;
		}
		if (*b < 0x80)
			continue;
		/* as the record parser names them (spf_char_name()) */
		name = spf_char_name(b, rr->u.txt.len - i, &cp, &seq, &ascii);
		if (name != NULL)
			finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
			    "the explanation at %s contains the non-ASCII "
			    "character %s (U+%04X) at offset %zu: receivers "
			    "ignore it; %s", lt->target, name, (unsigned)cp, i,
			    ascii);
		else if (cp != 0)
			finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
			    "the explanation at %s contains the non-ASCII "
			    "character U+%04X at offset %zu: receivers ignore "
			    "it", lt->target, (unsigned)cp, i);
		else
			finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
			    "the explanation at %s contains the non-ASCII byte "
			    "0x%02X at offset %zu: receivers ignore it",
			    lt->target, *b, i);
		return;
	}
	if (!spf_macro_check((const char *)rr->u.txt.data, rr->u.txt.len,
	    SPF_MACRO_EXP, &eo, &em))
		finding(l, "L-EXP", SPF_LINT_WARNING, n, "6.2", t,
		    "the explanation at %s has a bad macro at offset %zu (%s): "
		    "receivers ignore it; write %%%% for a literal '%%'",
		    lt->target, eo, em ? em : "invalid macro");
}

/* Does s[0..n) parse as one term on its own?  *all: it is an "all". */
static bool one_term(spf_lint_t *l, const char *s, size_t n, bool *all)
{
	char *mini = spf_arena_printf(l->arena, "v=spf1 %.*s", (int)n, s);
	spf_parse_error_t err;
	spf_record_t *rec;
	spf_status_t st;

	*all = false;
	if (mini == NULL) {
		l->oom = true;
		return false;
	}
	st = spf_record_parse(l->arena, (const uint8_t *)mini, n + 7, &rec, &err);
	if (st == SPF_ENOMEM)
		l->oom = true;
	if (st != SPF_OK || rec->nterms != 1)
		return false;
	*all = !rec->terms[0].is_modifier && rec->terms[0].mech == SPF_MECH_ALL;
	return true;
}

/*
 * Is one of n's terms that do not parse an "all" gone wrong: "-all" typed
 * with a dash a word processor made ("\u2013all"), after a no-break space
 * instead of a space, or a misspelt "all" ("~al", with its "did you
 * mean")?  The record has an all, then, only not one that parses:
 * L-NO-ALL ("hosts it does not list get neutral") would blame the wrong
 * thing, and the record is a permerror anyway.
 */
static bool broken_all(const struct lnode *n)
{
	for (const struct lperr *pe = n->perrs; pe != NULL; pe = pe->next) {
		size_t s = pe->offset, e = pe->offset;

		while (s > 0 && n->text[s - 1] != ' ')
			s--;
		while (e < n->len && n->text[e] != ' ')
			e++;
		/* each piece between non-ASCII characters ("ip4:192.0.2.1",
		 * NO-BREAK SPACE, "-all"): its name after any qualifier, up
		 * to ':', '/' or '=' */
		for (size_t p = s, q; p < e; p = q + 1) {
			const char *hint;
			size_t ne;

			for (q = p; q < e && (unsigned char)n->text[q] < 0x80; q++)
				;
			while (p < q && n->text[p] != '\0' &&
			    strchr("+-~?", n->text[p]) != NULL)
				p++;
			for (ne = p; ne < q && n->text[ne] != ':' &&
			    n->text[ne] != '/' && n->text[ne] != '='; ne++)
				;
			if (ne == p)
				continue;
			if (ne - p == 3 && spf_strncaseeq(n->text + p, "all", 3))
				return true;
			hint = spf_term_suggest(n->text + p, ne - p, false);
			if (hint != NULL && strcmp(hint, "all") == 0 && ne == q)
				return true;
		}
	}
	return false;
}

/* Remove the L-SYNTAX findings of n's record that start in [s, e): the
 * L-GLUED of that term says why it does not parse, and what happened. */
static void drop_syntax(spf_lint_t *l, const struct lnode *n, size_t s,
	size_t e)
{
	size_t k = 0;

	for (size_t i = 0; i < l->nfindings; i++) {
		const spf_lint_finding_t *f = &l->findings[i];

		if (strcmp(f->rule, "L-SYNTAX") == 0 && f->record == n->text &&
		    f->has_range && f->offset >= s && f->offset < e)
			continue;
		if (k != i)
			l->findings[k] = *f;
		k++;
	}
	l->nfindings = k;
}

/*
 * RFC 7208 §3.3: the character-strings of a TXT record are joined with
 * nothing between them.  A record published as "v=spf1 ip4:192.0.2.1"
 * "-all" reads as "ip4:192.0.2.1-all": where neither side of a boundary
 * is a space and the text on each side is a complete term of its own,
 * the publisher meant a space.  (A long term split in the middle, as
 * "inc" "lude:...", is fine: "lude:..." is no term.)  Error when the
 * joined text is a syntax error (which then replaces the term's L-SYNTAX,
 * its reason quoted), else a warning.  Returns true when the
 * term after a boundary is an "all", which the join swallowed (L-NO-ALL
 * would then blame the wrong thing).
 */
static bool check_glued(spf_lint_t *l, const struct lnode *n)
{
	bool swallowed = false;
	size_t b = 0;

	for (size_t k = 0; n->lens != NULL && k + 1 < n->nstrings; k++) {
		size_t s, e;
		bool all_left, all_right, joined_all;

		b += n->lens[k];
		if (b == 0 || b >= n->len || n->text[b - 1] == ' ' ||
		    n->text[b] == ' ')
			continue;
		for (s = b; s > 0 && n->text[s - 1] != ' '; s--)
			;
		for (e = b; e < n->len && n->text[e] != ' '; e++)
			;
		if (s == 0 || !one_term(l, n->text + s, b - s, &all_left) ||
		    !one_term(l, n->text + b, e - b, &all_right))
			continue;
		if (one_term(l, n->text + s, e - s, &joined_all))
			finding(l, "L-GLUED", SPF_LINT_WARNING, n, "3.3", NULL,
			    "character-strings %zu and %zu of the TXT record are "
			    "joined without a space: '%.*s' and "
			    "'%.*s' become the one term '%.*s'; end string %zu "
			    "with a space or start string %zu with one", k + 1,
			    k + 2, (int)(b - s), n->text + s, (int)(e - b),
			    n->text + b, (int)(e - s), n->text + s, k + 1, k + 2);
		else {
			const struct lperr *pe = n->perrs;

			/* the parse error of the joined term is this one */
			while (pe != NULL && (pe->offset < s || pe->offset >= e))
				pe = pe->next;
			drop_syntax(l, n, s, e);
			finding(l, "L-GLUED", SPF_LINT_ERROR, n, "3.3", NULL,
			    "character-strings %zu and %zu of the TXT record are "
			    "joined without a space: '%.*s' and "
			    "'%.*s' become '%.*s', which is not a term%s%s%s, "
			    "and the record is a permerror; end string %zu with "
			    "a space or start string %zu with one", k + 1, k + 2,
			    (int)(b - s), n->text + s, (int)(e - b), n->text + b,
			    (int)(e - s), n->text + s, pe != NULL ? " (" : "",
			    pe != NULL ? pe->message : "", pe != NULL ? ")" : "",
			    k + 1, k + 2);
		}
		last_range(l, n->text, n->len, b, 0);
		swallowed = swallowed || all_right;
	}
	return swallowed;
}

/* Is d one of the names reserved for examples and tests (RFC 2606,
 * RFC 6761), or under one? */
static bool example_domain(const char *d)
{
	static const char *const reserved[] = { "example", "example.com",
		"example.net", "example.org", "test", "invalid", "localhost" };
	size_t dl = strlen(d);

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		size_t rl = strlen(reserved[i]);

		if (dl >= rl && spf_streq_nocase(d + dl - rl, reserved[i]) &&
		    (dl == rl || d[dl - rl - 1] == '.'))
			return true;
	}
	return false;
}

/*
 * An ip4:/ip6: network inside a special-purpose block (private, loopback,
 * link-local, documentation, multicast, ...; spf_addr_special()): no
 * mail from the Internet comes from there, so the term is a leftover or
 * a mistake, and publishes a piece of the internal network.
 * Documentation ranges in a record of a name reserved for examples
 * (example.com, *.test, the draft's draft.invalid, ...) are what they
 * are for and are not reported; nor is a '-' term, which authorises
 * nothing.
 */
static void check_special_range(spf_lint_t *l, const struct lnode *n,
	const spf_term_t *t)
{
	const char *rfc, *block, *name;
	bool doc;

	name = spf_addr_special(&t->net, term_prefix(t), &rfc, &block, &doc);
	if (name == NULL || t->qualifier == '-' || (doc && example_domain(n->domain)))
		return;
	finding(l, "L-SPECIAL-RANGE", SPF_LINT_WARNING, n, "5.6", t,
	    "'%s' is inside %s, %s (%s): %s; remove it, or list the "
	    "public addresses the mail leaves from", t->text, block, name, rfc,
	    doc ? "addresses reserved for examples, no host sends mail from "
	    "them" : "mail from the Internet never comes from there");
}

/* The text of a term without its written qualifier. */
static const char *unqualified(const spf_term_t *t)
{
	return t->explicit_qualifier ? t->text + 1 : t->text;
}

/*
 * The same mechanism twice in one record (any qualifiers): the second
 * never matches an address the first did not (RFC 7208 §4.6.2, the
 * first match decides), yet it is evaluated for every address that gets
 * that far and costs its lookups again, an include its whole subtree.
 * ip4/ip6 are L-OVERLAP's, a second all is L-UNREACHABLE's.
 */
static void check_duplicates(spf_lint_t *l, const struct lnode *n)
{
	for (size_t i = 0; i < n->rec->nterms; i++) {
		const struct lterm *lt = &n->terms[i];
		const spf_term_t *t = lt->t;

		if (t->is_modifier || !lt->reachable || t->mech == SPF_MECH_IP4 ||
		    t->mech == SPF_MECH_IP6 || t->mech == SPF_MECH_ALL)
			continue;
		for (size_t j = 0; j < i; j++) {
			const spf_term_t *u = n->terms[j].t;

			if (u->is_modifier || u->mech != t->mech ||
			    !spf_streq_nocase(unqualified(u), unqualified(t)))
				continue;
			finding(l, "L-DUPLICATE", SPF_LINT_WARNING, n, "4.6.2", t,
			    "'%s' repeats '%s' earlier in the record: it never "
			    "matches anything the first did not, and spends %u "
			    "more of the %d DNS lookups; remove it", t->text,
			    u->text, lt->subtree, MAX_DNS_TERMS);
			break;
		}
	}
}

static bool is_known_modifier(const char *name)
{
	/* RFC 6652 reporting modifiers */
	return spf_streq_nocase(name, "ra") || spf_streq_nocase(name, "rp") ||
	    spf_streq_nocase(name, "rr");
}

static void check_node(spf_lint_t *l, const struct lnode *n)
{
	const spf_record_t *rec = n->rec;
	bool decisive = n->role != LROLE_INCLUDE, glued_all;

	for (const struct lperr *e = n->perrs; e != NULL; e = e->next) {
		finding(l, "L-SYNTAX", SPF_LINT_ERROR, n, "4.6", NULL,
		    "%s; a syntax error anywhere makes the whole record a "
		    "permerror", e->message);
		last_range(l, n->text, n->len, e->offset, e->len);
	}
	/* RFC 7208 §3.3: a character-string holds at most 255 bytes */
	if (n->lens == NULL && n->len > STRING_MAX) {
		finding(l, "L-STRING-LONG", SPF_LINT_ERROR, n, "3.3", NULL,
		    "the record is %zu bytes; one character-string holds at "
		    "most 255: publish it as several quoted strings in one TXT "
		    "record (\"...\" \"...\"), which receivers join without "
		    "spaces", n->len);
		last_range(l, n->text, n->len, STRING_MAX, n->len - STRING_MAX);
	}
	for (size_t i = 0, off = 0; n->lens != NULL && i < n->nstrings; i++) {
		if (n->lens[i] > STRING_MAX) {
			finding(l, "L-STRING-LONG", SPF_LINT_ERROR, n, "3.3", NULL,
			    "character-string %zu is %u bytes; at most 255 "
			    "fit: split it into several strings", i + 1,
			    n->lens[i]);
			last_range(l, n->text, n->len, off + STRING_MAX,
			    n->lens[i] - STRING_MAX);
		}
		off += n->lens[i];
	}
	{
		size_t size = answer_size(n->domain, n->txt,
		    n->role == LROLE_TOP ? l->draft : NULL, l->draft_len);

		if (size > 512)
			finding(l, "L-RRSET-512", SPF_LINT_WARNING, n, "3.4", NULL,
			    "the TXT answer for %s is about %zu bytes (all TXT "
			    "records count): over 512 it needs EDNS or TCP, "
			    "and receivers that cannot get it see temperror; "
			    "shorten the record or move other TXT records",
			    n->domain, size);
		else if (size > 450)
			finding(l, "L-RRSET-450", SPF_LINT_WARNING, n, "3.4", NULL,
			    "the TXT answer for %s is about %zu bytes (all TXT "
			    "records count); RFC 7208 §3.4 advises under 450 so "
			    "it fits a 512-byte UDP reply", n->domain, size);
	}
	for (size_t i = 0; i < rec->nterms; i++) {
		const struct lterm *lt = &n->terms[i];
		const spf_term_t *t = lt->t;

		if (t->domain_spec != NULL &&
		    spf_macro_uses_ptr(t->domain_spec, t->domain_spec_len))
			finding(l, "L-MACRO-P", SPF_LINT_WARNING, n, "7.2", t,
			    "'%s' uses the %%{p} macro, which SHOULD NOT be "
			    "used: it needs slow reverse lookups and counts "
			    "toward the lookup limit", t->text);
		if (t->is_modifier) {
			if (t->mod == SPF_MOD_REDIRECT && rec->all >= 0)
				finding(l, "L-REDIRECT-IGNORED", SPF_LINT_WARNING,
				    n, "6.1", t, "'%s' is ignored because the "
				    "record has '%s' (RFC 7208 §5.1); remove "
				    "one of them", t->text,
				    rec->terms[rec->all].text);
			else if (t->mod == SPF_MOD_REDIRECT)
				check_target_node(l, n, lt);
			else if (t->mod == SPF_MOD_EXP)
				check_exp(l, n, lt);
			else if (is_known_modifier(t->name)) {
				if (has_macro(t->domain_spec, t->domain_spec_len))
					finding(l, "L-MACRO-PLACE", SPF_LINT_WARNING,
					    n, "7", t, "macros in '%s' are never "
					    "expanded (RFC 6652 values are "
					    "literal)", t->text);
			} else {
				const char *hint = spf_term_suggest(t->name,
				    strlen(t->name), true);

				finding(l, "L-UNKNOWN-MOD", SPF_LINT_WARNING, n,
				    "6", t, "unknown modifier '%s=' is ignored "
				    "by receivers%s%s%s", t->name, hint ?
				    " (did you mean " : "", hint ? hint : "",
				    hint ? "=?)" : "");
				if (has_macro(t->domain_spec, t->domain_spec_len))
					finding(l, "L-MACRO-PLACE", SPF_LINT_WARNING,
					    n, "7", t, "macros in the unknown "
					    "modifier '%s=' are never expanded",
					    t->name);
			}
			continue;
		}
		if (!lt->reachable) {
			finding(l, "L-UNREACHABLE", SPF_LINT_WARNING, n, "5.1", t,
			    "'%s' comes after '%s' and is never evaluated; "
			    "move it before the 'all' or remove it", t->text,
			    rec->terms[rec->all].text);
			continue;
		}
		if (lt->dynamic)
			finding(l, "L-DYNAMIC", SPF_LINT_INFO, n, "7", t,
			    "'%s' depends on the sender or client (macros): "
			    "lint and flatten cannot follow it; its lookups are "
			    "counted as one term", t->text);
		switch (t->mech) {
		case SPF_MECH_ALL:
			if (t->qualifier == '+')
				finding(l, "L-PASS-ALL", SPF_LINT_ERROR, n, "5.1", t,
				    "'%s' lets every host on the Internet pass%s; "
				    "end with -all or ~all", t->text,
				    n->role == LROLE_INCLUDE ? " (through "
				    "every record that includes this one)" : "");
			else if (t->qualifier == '?' && decisive)
				finding(l, "L-NEUTRAL-ALL", SPF_LINT_WARNING, n,
				    "8.2", t, "'?all' gives neutral, which "
				    "receivers treat like no SPF record; end "
				    "with ~all or -all");
			break;
		case SPF_MECH_PTR:
			finding(l, "L-PTR", SPF_LINT_WARNING, n, "5.5", t,
			    "the ptr mechanism SHOULD NOT be used: it is slow, "
			    "unreliable and some receivers skip it; list the "
			    "networks with ip4:/ip6: instead");
			break;
		case SPF_MECH_A:
		case SPF_MECH_MX:
			check_a_mx(l, n, lt);
			break;
		case SPF_MECH_INCLUDE:
			check_target_node(l, n, lt);
			break;
		case SPF_MECH_IP4:
		case SPF_MECH_IP6:
			check_special_range(l, n, t);
			break;
		case SPF_MECH_EXISTS:
			if (lt->target != NULL && is_fail(lt->a4))
				finding(l, "L-DNS", SPF_LINT_WARNING, n, "5", t,
				    "the lookup of %s failed: checks reaching '%s' "
				    "give temperror", lt->target, t->text);
			break;
		default:
			break;
		}
	}
	check_ip_terms(l, n);
	check_duplicates(l, n);
	glued_all = check_glued(l, n);
	if (decisive && rec->all < 0 && rec->redirect < 0 && !glued_all &&
	    !broken_all(n)) {
		finding(l, "L-NO-ALL", SPF_LINT_WARNING, n, "4.7", NULL,
		    "the record has neither 'all' nor 'redirect=': hosts it "
		    "does not list get neutral, like having no SPF at all; "
		    "end it with -all or ~all");
		last_range(l, n->text, n->len, n->len, 0);
	}
}

/* Findings about the top domain itself. */
static void check_top(spf_lint_t *l)
{
	struct lnode *n = l->top;
	bool has99 = ans_status(n->spf99) == SPF_DNS_OK;

	for (const struct lperr *e = n->vers; e != NULL; e = e->next) {
		finding(l, "L-VERSION", SPF_LINT_ERROR, n, "4.5", NULL, "%s",
		    e->message);
		last_range(l, e->text, e->tlen, e->offset, e->len);
	}
	if (n->state == LN_TEMP)
		finding(l, "L-DNS", SPF_LINT_ERROR, n, "4.4", NULL,
		    "the TXT lookup of %s failed: %s; receivers give "
		    "temperror", n->domain, n->why);
	else if (n->state == LN_NONE && has99)
		finding(l, "L-TYPE99-ONLY", SPF_LINT_ERROR, n, "3.1", NULL,
		    "%s publishes SPF only as a type SPF (99) record, which "
		    "receivers no longer read (RFC 7208 §14.1): publish the "
		    "same text as a TXT record", n->domain);
	else if (n->state == LN_NONE)
		finding(l, "L-NO-RECORD", SPF_LINT_ERROR, n, "4.5", NULL,
		    "%s has no SPF record (a TXT record starting 'v=spf1'): "
		    "receivers give none; publish one, e.g. \"v=spf1 mx "
		    "-all\", or \"v=spf1 -all\" for a domain that sends no "
		    "mail", n->domain);
	else if (n->state == LN_MULTI)
		finding(l, "L-MULTIPLE", SPF_LINT_ERROR, n, "4.5", NULL,
		    "%s publishes %zu v=spf1 TXT records: receivers give "
		    "permerror; merge them into one", n->domain, n->nspf1);
	if (has99 && n->state != LN_NONE)
		finding(l, "L-TYPE99", SPF_LINT_WARNING, n, "3.1", NULL,
		    "%s also publishes the obsolete type SPF (99) record; "
		    "receivers ignore it (RFC 7208 §3.1), remove it so the "
		    "two cannot drift apart", n->domain);
}

/* The top-level term whose subtree holds lookup number k. */
static const spf_term_t *top_term_with(const struct lnode *top, unsigned k)
{
	for (size_t i = 0; i < top->rec->nterms; i++) {
		const struct lterm *lt = &top->terms[i];

		if (lt->lookup_no != 0 && k >= lt->lookup_no &&
		    k < lt->lookup_no + lt->subtree)
			return lt->t;
	}
	return NULL;
}

static void check_limits(spf_lint_t *l)
{
	struct lnode *top = l->top;
	unsigned lim = l->void_limit;
	spf_lint_counts_t *c = &l->counts;
	spf_buf_t b;

	spf_buf_init(&b, MSG_MAX);
	for (size_t i = 0; i < top->rec->nterms; i++) {
		const struct lterm *lt = &top->terms[i];

		if (lt->lookup_no != 0)
			spf_buf_printf(&b, "%s%s %u", b.len ? ", " : "",
			    lt->t->text, lt->subtree);
	}
	if (c->lookups > MAX_DNS_TERMS) {
		const spf_lint_lookup_t *e = &l->lookups[MAX_DNS_TERMS];

		finding(l, "L-LOOKUPS", SPF_LINT_ERROR, top, "4.6.4",
		    top_term_with(top, MAX_DNS_TERMS + 1), "%u DNS-querying "
		    "terms in the include/redirect tree, the limit is %d: "
		    "number 11 is '%s' in the record of %s, and a check that "
		    "gets there ends in permerror. Lookups per term: %s. "
		    "Remove terms, replace a/mx by ip4:/ip6:, or flatten",
		    c->lookups, MAX_DNS_TERMS, e->term, e->domain,
		    spf_buf_cstr(&b));
	} else if (c->lookups >= MAX_DNS_TERMS - 1) {
		finding(l, "L-LOOKUPS", SPF_LINT_WARNING, top, "4.6.4", NULL,
		    "%u DNS-querying terms in the include/redirect tree, the "
		    "limit is %d: one more include by a provider breaks it. "
		    "Lookups per term: %s", c->lookups, MAX_DNS_TERMS,
		    spf_buf_cstr(&b));
	}
	spf_buf_reset(&b);
	for (size_t i = 0; i < l->nlookups; i++)
		if (l->lookups[i].void4)
			spf_buf_printf(&b, "%s'%s' (%s)", b.len ? ", " : "",
			    l->lookups[i].term, l->lookups[i].domain);
	if (c->voids > lim)
		finding(l, "L-VOID", SPF_LINT_ERROR, top, "4.6.4", NULL,
		    "%u void lookups (no records or NXDOMAIN), the limit is "
		    "%u: %s; a client that reaches them gets permerror",
		    c->voids, lim, spf_buf_cstr(&b));
	else if (c->voids_query > lim)
		finding(l, "L-VOID-QUERY", SPF_LINT_WARNING, top, "4.6.4", NULL,
		    "%u void lookups when each query counts (pyspf and "
		    "receivers built on it count the A lookups of MX hosts "
		    "too; %u per term), the limit is %u: those receivers "
		    "give permerror", c->voids_query, c->voids, lim);
	/* only the part of the IPv6 count that AAAA-less hosts add: targets
	 * that have no address at all are void for both families, and
	 * L-VOID / L-VOID-QUERY say so; "add AAAA records" would not help */
	if (c->noaaaa > 0 && ((c->voids6 > lim && c->voids6 > c->voids) ||
	    (c->voids6_query > lim && c->voids6_query > c->voids_query)))
		finding(l, "L-IPV6-VOID", SPF_LINT_WARNING, top, "4.6.4", NULL,
		    "an IPv6 client would use %u void lookups per term and %u "
		    "per query (AAAA lookups of hosts that have only A "
		    "records), the limit is %u: receivers that count them "
		    "give IPv6 senders permerror; add AAAA records or ip6: "
		    "terms (%u a/mx targets lack AAAA)", c->voids6,
		    c->voids6_query, lim, c->noaaaa);
	spf_buf_finish(&b);
}

/*
 * Pass for a /8 or more in total, in either family: "effectively +all"
 * (RFC 7208 §5.1 on +all).  No sender owns that much: IANA hands the
 * RIRs IPv4 /8s and IPv6 /12s, and a provider's largest networks are far
 * smaller, so a /8 is the threshold for IPv6 too (2^120 addresses).
 * The addresses come from flatten's address sets (spf_flatten(): each
 * address gets the result of the first term that matches it, an
 * include passes only what its record passes), so 0.0.0.0/1 plus
 * 128.0.0.0/1 counts as the whole space, and a wide network behind an
 * include counts too.  A tree that flatten refuses (permerror,
 * temperror) is left to the findings that say why; a +all is
 * L-PASS-ALL's and not reported again.
 */
static void check_wide_pass(spf_lint_t *l)
{
	static const struct {
		int family;
		unsigned bits, wide;   /* the family's width; the threshold /8 */
	} fam[] = { { 4, 32, 8 }, { 6, 128, 8 } };
	spf_flat_t *fl = NULL;
	spf_status_t st;

	for (size_t i = 0; i < l->nfindings; i++)
		if (strcmp(l->findings[i].rule, "L-PASS-ALL") == 0)
			return;
	st = spf_flatten(l, NULL, &fl, NULL, 0);
	if (st == SPF_ENOMEM)
		l->oom = true;
	if (st != SPF_OK)
		return;
	for (size_t i = 0; i < 2; i++) {
		const struct lnode *n;
		const spf_term_t *t;
		const spf_ipset_t *pass = spf_flat_pass(fl, fam[i].family, &n, &t);
		double c = spf_ipset_count(pass, fam[i].family), space = 1, x = c;
		unsigned log2c = 0;
		const char *count;

		for (unsigned b = 0; b < fam[i].bits; b++)
			space *= 2;
		for (; x >= 2; x /= 2)
			log2c++;
		if (t == NULL || log2c < fam[i].bits - fam[i].wide)
			continue;
		/* IPv6 counts have up to 39 digits: a power of two reads */
		count = fam[i].family == 4 ? spf_arena_printf(l->arena, "%.0f",
		    c) : spf_arena_printf(l->arena, "about 2^%u", log2c);
		if (count == NULL) {
			l->oom = true;
			break;
		}
		finding(l, "L-PASS-WIDE", SPF_LINT_ERROR, n, "5.1", t,
		    "the tree lets %s IPv%d addresses pass, %.1f%% of all, "
		    "as many as a /%u (the most through '%s'): effectively "
		    "+all, every host in them can send as %s; list only the "
		    "networks the mail leaves from", count, fam[i].family,
		    100 * c / space, fam[i].bits - log2c, t->text, l->domain);
	}
	spf_flat_destroy(fl);
}

/* The term of n's parent whose target n is. */
static const struct lterm *term_of(const struct lnode *n)
{
	const struct lnode *p = n->parent;

	for (size_t i = 0; p != NULL && p->rec != NULL && i < p->rec->nterms; i++)
		if (p->terms[i].child == n)
			return &p->terms[i];
	return NULL;
}

/*
 * Is n a record the walk already reached earlier (depth-first), as the
 * same kind of target (include, redirect) of the same name?  Its
 * findings would repeat those of the first (the same answers), and so
 * would those of its whole subtree.  The top is never one.
 */
static bool seen_before(const spf_lint_t *l, const struct lnode *n)
{
	if (n == l->top)
		return false;
	for (const struct lnode *m = l->top; m != NULL && m != n; m = m->next_dfs)
		if (m->role == n->role && spf_streq_nocase(m->domain, n->domain))
			return true;
	return false;
}

/* Is n inside the subtree of a record reached a second time? */
static bool under_repeat(const spf_lint_t *l, const struct lnode *n)
{
	for (const struct lnode *a = n->parent; a != NULL; a = a->parent)
		if (seen_before(l, a))
			return true;
	return false;
}

/*
 * The same include target reached from two records of the tree (a
 * provider included directly and again through another provider): the
 * second evaluates the whole subtree again and spends its lookups twice.
 * Two includes in one record are check_duplicates()'s.  The includes
 * inside a repeated subtree are not reported again: the repeat that
 * brings them in already counts their lookups.
 */
static void check_repeated_includes(spf_lint_t *l)
{
	for (const struct lnode *n = l->top; n != NULL; n = n->next_dfs) {
		const struct lterm *lt;

		if (n->role != LROLE_INCLUDE || under_repeat(l, n))
			continue;
		for (const struct lnode *m = l->top; m != n; m = m->next_dfs) {
			if (m->role != LROLE_INCLUDE || m->parent == n->parent ||
			    !spf_streq_nocase(m->domain, n->domain))
				continue;
			lt = term_of(n);
			if (lt != NULL)
				finding(l, "L-DUPLICATE", SPF_LINT_WARNING,
				    n->parent, "4.6.4", lt->t, "'%s' includes "
				    "%s, which the tree already includes from "
				    "the record of %s: its subtree is evaluated "
				    "again and spends %u more of the %d DNS "
				    "lookups; include it once where that gives "
				    "the same results", lt->t->text, n->domain,
				    m->parent->domain, lt->subtree, MAX_DNS_TERMS);
			break;
		}
	}
}

/* Order one record's findings by position (stable; whole-record
 * findings last). */
static void sort_block(spf_lint_finding_t *f, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		spf_lint_finding_t x = f[i];
		size_t kx = x.has_range ? x.offset : SIZE_MAX, j = i;

		while (j > 0 && (f[j - 1].has_range ? f[j - 1].offset :
		    SIZE_MAX) > kx) {
			f[j] = f[j - 1];
			j--;
		}
		f[j] = x;
	}
}

static void check_all(spf_lint_t *l)
{
	check_top(l);
	if (l->top->state != LN_OK)
		return;
	for (struct lnode *n = l->top; n != NULL; n = n->next_dfs) {
		size_t first = l->nfindings;

		/* a record reached again: its findings are the first's */
		if (seen_before(l, n))
			continue;
		check_node(l, n);
		if (l->nfindings > first)
			sort_block(l->findings + first, l->nfindings - first);
	}
	check_limits(l);
	check_repeated_includes(l);
	check_wide_pass(l);
	l->counts.errors = false;
	for (size_t i = 0; i < l->nfindings; i++)
		if (l->findings[i].severity == SPF_LINT_ERROR)
			l->counts.errors = true;
}

/* ---- the API ---- */

/* A run set up to walk from its top node (no query asked yet), or NULL
 * with *status. */
static spf_lint_t *lint_new(spf_resolver_t *res, const spf_lint_request_t *req,
	spf_status_t *status)
{
	spf_lint_t *l;
	const char *domain;

	if (status != NULL)
		*status = SPF_EINVAL;
	if (res == NULL || req == NULL || (req->domain == NULL && req->draft == NULL))
		return NULL;
	l = spf_calloc(1, sizeof(*l));
	if (l == NULL || (l->arena = spf_arena_create()) == NULL) {
		spf_free(l);
		if (status != NULL)
			*status = SPF_ENOMEM;
		return NULL;
	}
	spf_sync_init(&l->sync, res);
	l->all_tail = &l->top;
	l->void_limit = req->void_limit ? req->void_limit : 2;
	l->budget = req->memory_budget ? req->memory_budget : SPF_LINT_MEMORY_BUDGET;
	domain = req->domain ? req->domain : "draft.invalid";
	{
		size_t dl = strlen(domain);

		if (dl > 1 && domain[dl - 1] == '.')
			dl--;
		l->domain = spf_arena_strndup(l->arena, domain, dl);
	}
	if (req->draft != NULL) {
		l->draft = spf_arena_strndup(l->arena, req->draft, req->draft_len);
		l->draft_len = req->draft_len;
	}
	if (l->domain != NULL && (req->draft == NULL || l->draft != NULL))
		l->top = new_node(l, l->domain, LROLE_TOP, NULL);
	if (l->top != NULL)
		l->level = spf_malloc(sizeof(*l->level));
	if (l->level == NULL) {
		spf_lint_destroy(l);
		if (status != NULL)
			*status = SPF_ENOMEM;
		return NULL;
	}
	l->level[0] = l->top;
	l->nl = 1;
	l->step = LS_LEVEL;
	if (status != NULL)
		*status = SPF_OK;
	return l;
}

spf_status_t spf_lint_status(const spf_lint_t *l)
{
	if (l == NULL)
		return SPF_EINVAL;
	if (l->oom)
		return l->over_budget ? SPF_ETOOBIG : SPF_ENOMEM;
	return SPF_OK;
}

spf_lint_t *spf_lint_run(spf_resolver_t *res, const spf_lint_request_t *req,
	spf_status_t *status)
{
	spf_lint_t *l = lint_new(res, req, status);

	if (l == NULL)
		return NULL;
	advance(l);
	while (!l->done) {
		spf_sync_wait(&l->sync);
		advance(l);
	}
	if (l->oom) {
		if (status != NULL)
			*status = spf_lint_status(l);
		spf_lint_destroy(l);
		return NULL;
	}
	return l;
}

static void kick(const spf_dns_answer_t *ans, void *arg)
{
	spf_lint_t *l = arg;

	(void)ans;
	l->kick = NULL;
	advance(l);
}

spf_lint_t *spf_lint_start(spf_resolver_t *res, const spf_lint_request_t *req,
	spf_lint_cb cb, void *arg, spf_status_t *status)
{
	spf_lint_t *l = lint_new(res, req, status);

	if (l == NULL)
		return NULL;
	l->cb = cb;
	l->cb_arg = arg;
	/* the first step on the loop's next turn: a draft without lookups
	 * would otherwise be done, and call back, inside this call */
	l->kick = spf_resolver_call_later(res, kick, l);
	if (l->kick == NULL) {
		spf_lint_destroy(l);
		if (status != NULL)
			*status = SPF_ENOMEM;
		return NULL;
	}
	return l;
}

bool spf_lint_done(const spf_lint_t *l)
{
	return l != NULL && l->done;
}

void spf_lint_destroy(spf_lint_t *l)
{
	if (l == NULL)
		return;
	/* every wait ends with nothing in flight; cancel anything else
	 * before the arena its callbacks write into goes */
	spf_sync_finish(&l->sync);
	spf_dns_query_cancel(l->kick);
	spf_free(l->level);
	for (size_t i = 0; i < l->nanswers; i++)
		spf_dns_answer_unref(l->answers[i]);
	spf_free(l->answers);
	spf_free(l->findings);
	spf_free(l->lookups);
	spf_arena_destroy(l->arena);
	spf_free(l);
}

const char *spf_lint_domain(const spf_lint_t *l) { return l->domain; }
size_t spf_lint_count(const spf_lint_t *l) { return l->nfindings; }

const spf_lint_finding_t *spf_lint_finding(const spf_lint_t *l, size_t i)
{
	return i < l->nfindings ? &l->findings[i] : NULL;
}

int spf_lint_worst(const spf_lint_t *l)
{
	int w = -1;

	for (size_t i = 0; i < l->nfindings; i++)
		if ((int)l->findings[i].severity > w)
			w = (int)l->findings[i].severity;
	return w;
}

void spf_lint_counts(const spf_lint_t *l, spf_lint_counts_t *out)
{
	*out = l->counts;
}

size_t spf_lint_lookup_count(const spf_lint_t *l) { return l->nlookups; }

const spf_lint_lookup_t *spf_lint_lookup(const spf_lint_t *l, size_t i)
{
	return i < l->nlookups ? &l->lookups[i] : NULL;
}

spf_lint_state_t spf_lint_top_state(const spf_lint_t *l)
{
	return node_state(l->top);
}

const char *spf_lint_top_record(const spf_lint_t *l, size_t *len)
{
	*len = l->top != NULL && l->top->text != NULL ? l->top->len : 0;
	return l->top != NULL ? l->top->text : NULL;
}

struct lnode *spf_lint_tree(const spf_lint_t *l) { return l->top; }
size_t spf_lint_node_count(const spf_lint_t *l) { return l->nnodes; }

const char *spf_lint_record_domain(const spf_lint_t *l, size_t i)
{
	const struct lnode *n = l->top;

	for (; n != NULL && i > 0; i--)
		n = n->next_all;
	return n != NULL ? n->domain : NULL;
}
