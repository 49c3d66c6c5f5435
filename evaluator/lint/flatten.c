/*
 * flatten.c - turn an include/redirect tree into a chain of ip4/ip6
 * records that gives the same results with fewer DNS lookups.
 *
 * DESCRIPTION
 *	The input is a finished lint run (lint_walk.h): every record of the
 *	tree with the answers of its a and mx lookups.  Addresses are kept
 *	as sets of disjoint ranges per family (IPv6 as 128-bit integers).
 *
 *	An include contributes only the addresses for which the included
 *	check_host() returns pass (RFC 7208 §5.2): walking its terms in
 *	order, an address belongs to the pass set when the first term that
 *	matches it has the '+' qualifier.  A '-ip4' inside an include
 *	therefore removes addresses from the include's pass set; it never
 *	becomes a top-level fail.  At the top, each address gets the
 *	qualifier of the first static term that matches it; the sets of one
 *	stretch between kept terms are disjoint, so their order inside the
 *	stretch does not matter and each is aggregated to the fewest CIDRs.
 *
 *	Terms that depend on the message (exists, ptr, macros other than
 *	%{d}) stay where they are, with a warning; so does an include or
 *	redirect whose subtree holds one.  A redirect to a static record is
 *	inlined.  When the record is too big for one answer, the networks
 *	of a stretch move into part records "<prefix>N.<domain>" reached by
 *	"[q]include:" (an include passes exactly for its networks, so the
 *	qualifier in front of it gives them their result), chained with
 *	include when one part is not enough.
 *
 * DIAGNOSTICS
 *	SPF_EINVAL with a reason when the tree has a permerror or temperror
 *	(flattening would change the result) or no record; SPF_ENOMEM.
 */
#include "ipset.h"
#include "lint_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRING_MAX 255

/* One element of the flattened top record, in order. */
struct item {
	char q;                 /* qualifier of a network set */
	spf_ipset_t set;        /* when kept == NULL */
	const char *kept;       /* a term kept as written */
	unsigned kept_cost;     /* lookups the kept term costs */
	int group;              /* stretch number (sets) */
};

struct spf_flat {
	spf_arena_t *arena;
	const char *domain;
	const char *prefix;
	size_t max_answer;
	spf_flat_record_t *recs;
	size_t nrecs, caprecs;
	const char **warnings;
	size_t nwarn, capwarn;
	unsigned lookups;
	spf_result_t dflt;
	spf_ipset_t final[4];    /* pass, fail, softfail, neutral */
	const char **nets[4];
	size_t nnets[4];
	struct item *items;
	size_t nitems, capitems;
	/* per lint node (by its index): its pass set, computed children
	 * first; the lint run is only read */
	struct nodeflat **node;
	size_t nnode;
	/* per family (IPv4, IPv6): the term that adds the most to the pass
	 * set, for lint's L-PASS-WIDE */
	struct {
		const struct lnode *n;
		const spf_term_t *t;
		double count;
	} widest[2];
	bool oom;
};

/* Per-node result: the pass set of an include target. */
struct nodeflat {
	bool dynamic;           /* depends on the message */
	spf_ipset_t pass;
};

/* The result computed for n, or NULL (not computed: not reached). */
static struct nodeflat *node_flat(const spf_flat_t *fl, const struct lnode *n)
{
	return n != NULL && n->index < fl->nnode ? fl->node[n->index] : NULL;
}

/* ---- growing arrays in the arena ---- */

static void *agrow(spf_flat_t *fl, void *arr, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t nc;

	if (n < *cap)
		return arr;
	nc = *cap ? *cap * 2 : 8;
	p = spf_arena_alloc(fl->arena, nc * size);
	if (p == NULL) {
		fl->oom = true;
		return NULL;
	}
	if (n > 0)
		memcpy(p, arr, n * size);
	*cap = nc;
	return p;
}

/* ---- address sets (ipset.c), out of memory noted in fl ---- */

static void add_net(spf_flat_t *fl, spf_ipset_t *p, const spf_addr_t *a,
	unsigned prefix)
{
	if (spf_ipset_add_net(fl->arena, p, a, prefix) != SPF_OK)
		fl->oom = true;
}

static void set_union(spf_flat_t *fl, spf_ipset_t *a, const spf_ipset_t *b)
{
	if (spf_ipset_union(fl->arena, a, b) != SPF_OK)
		fl->oom = true;
}

static void set_minus(spf_flat_t *fl, const spf_ipset_t *a,
	const spf_ipset_t *b, spf_ipset_t *out)
{
	if (spf_ipset_minus(fl->arena, a, b, out) != SPF_OK)
		fl->oom = true;
}

/* Add the addresses of an A/AAAA answer with a CIDR length. */
static spf_status_t add_answer(spf_arena_t *arena, spf_ipset_t *p,
	const spf_dns_answer_t *ans, int cidr4, int cidr6)
{
	spf_status_t st = SPF_OK;
	size_t n;

	if (ans == NULL || spf_dns_answer_status(ans) != SPF_DNS_OK)
		return SPF_OK;
	n = spf_dns_answer_count(ans);
	for (size_t i = 0; i < n && st == SPF_OK; i++) {
		const spf_dns_rr_t *rr = spf_dns_answer_rr(ans, i);
		spf_addr_t a = { 0 };

		if (rr->type == SPF_RR_A) {
			a.family = 4;
			memcpy(a.addr, rr->u.a, 4);
			st = spf_ipset_add_net(arena, p, &a, cidr4 < 0 ? 32u :
			    (unsigned)cidr4);
		} else if (rr->type == SPF_RR_AAAA) {
			a.family = 6;
			memcpy(a.addr, rr->u.aaaa, 16);
			st = spf_ipset_add_net(arena, p, &a, cidr6 < 0 ? 128u :
			    (unsigned)cidr6);
		}
	}
	return st;
}

spf_status_t spf_lterm_match_set(spf_arena_t *arena, const struct lterm *lt,
	spf_ipset_t *m)
{
	const spf_term_t *t = lt->t;
	spf_status_t st = SPF_OK;

	memset(m, 0, sizeof(*m));
	switch (t->mech) {
	case SPF_MECH_IP4:
		st = spf_ipset_add_net(arena, m, &t->net, t->cidr4 < 0 ? 32u :
		    (unsigned)t->cidr4);
		break;
	case SPF_MECH_IP6:
		st = spf_ipset_add_net(arena, m, &t->net, t->cidr6 < 0 ? 128u :
		    (unsigned)t->cidr6);
		break;
	case SPF_MECH_A:
		st = add_answer(arena, m, lt->a4, t->cidr4, t->cidr6);
		if (st == SPF_OK)
			st = add_answer(arena, m, lt->a6, t->cidr4, t->cidr6);
		break;
	case SPF_MECH_MX:
		for (size_t j = 0; j < lt->nhosts && st == SPF_OK; j++) {
			st = add_answer(arena, m, lt->h4[j], t->cidr4, t->cidr6);
			if (st == SPF_OK)
				st = add_answer(arena, m, lt->h6[j], t->cidr4, t->cidr6);
		}
		break;
	default:
		break;
	}
	return st;
}

static void match_set(spf_flat_t *fl, const struct lterm *lt, spf_ipset_t *m)
{
	if (spf_lterm_match_set(fl->arena, lt, m) != SPF_OK)
		fl->oom = true;
}

/* Can the term be resolved into networks here? */
static bool term_static(const spf_flat_t *fl, const struct lterm *lt)
{
	const spf_term_t *t = lt->t;

	if (t->is_modifier)
		return true;
	switch (t->mech) {
	case SPF_MECH_ALL:
	case SPF_MECH_IP4:
	case SPF_MECH_IP6:
		return true;
	case SPF_MECH_A:
	case SPF_MECH_MX:
		return !lt->dynamic && lt->target != NULL;
	case SPF_MECH_INCLUDE:
		return node_flat(fl, lt->child) != NULL &&
		    !node_flat(fl, lt->child)->dynamic;
	default:
		return false;   /* exists, ptr */
	}
}

/* The pass set of one record (children computed before). */
static void node_pass(spf_flat_t *fl, struct lnode *n)
{
	struct nodeflat *nf = spf_arena_alloc(fl->arena, sizeof(*nf));
	spf_ipset_t d = { 0 }, match, fresh;
	const spf_ipset_t *m;

	if (nf == NULL) {
		fl->oom = true;
		return;
	}
	fl->node[n->index] = nf;
	for (size_t i = 0; i < n->rec->nterms && !fl->oom; i++) {
		const struct lterm *lt = &n->terms[i];
		const spf_term_t *t = lt->t;

		if (!lt->reachable || t->is_modifier)
			continue;
		if (!term_static(fl, lt)) {
			nf->dynamic = true;
			return;
		}
		if (t->mech == SPF_MECH_ALL) {
			if (t->qualifier == '+') {
				static const spf_addr_t any4 = { .family = 4 },
					any6 = { .family = 6 };
				spf_ipset_t all = { 0 };

				add_net(fl, &all, &any4, 0);
				add_net(fl, &all, &any6, 0);
				set_minus(fl, &all, &d, &fresh);
				set_union(fl, &nf->pass, &fresh);
			}
			return;
		}
		if (t->mech == SPF_MECH_INCLUDE) {
			m = &node_flat(fl, lt->child)->pass;
		} else {
			match_set(fl, lt, &match);
			m = &match;
		}
		if (t->qualifier == '+') {
			set_minus(fl, m, &d, &fresh);
			set_union(fl, &nf->pass, &fresh);
		}
		set_union(fl, &d, m);
	}
	if (n->rec->redirect >= 0 && n->rec->all < 0) {
		const struct lterm *lt = &n->terms[n->rec->redirect];
		struct nodeflat *cf = node_flat(fl, lt->child);

		if (cf == NULL || cf->dynamic) {
			nf->dynamic = true;
			return;
		}
		set_minus(fl, &cf->pass, &d, &fresh);
		set_union(fl, &nf->pass, &fresh);
	}
}

/* ---- the top record ---- */

static int qidx(char q)
{
	switch (q) {
	case '-': return 1;
	case '~': return 2;
	case '?': return 3;
	default: return 0;
	}
}


static struct item *new_item(spf_flat_t *fl)
{
	struct item *it = agrow(fl, fl->items, &fl->capitems, fl->nitems,
	    sizeof(*fl->items));

	if (it == NULL)
		return NULL;
	fl->items = it;
	it = &fl->items[fl->nitems++];
	memset(it, 0, sizeof(*it));
	return it;
}

static void warn(spf_flat_t *fl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(spf_flat_t *fl, const char *fmt, ...)
{
	va_list ap;
	spf_buf_t b;
	const char **w = agrow(fl, fl->warnings, &fl->capwarn, fl->nwarn,
	    sizeof(*fl->warnings));

	if (w == NULL)
		return;
	fl->warnings = w;
	spf_buf_init(&b, 2048);
	va_start(ap, fmt);
	spf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	w[fl->nwarn] = spf_arena_strdup(fl->arena, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	if (w[fl->nwarn] == NULL)
		fl->oom = true;
	else
		fl->nwarn++;
}

/* A reachable +all anywhere in the tree (lint's L-PASS-ALL): flattening
 * keeps its meaning, every host passes, so the user must hear it here
 * too. */
static void warn_pass_all(spf_flat_t *fl, const struct lnode *top)
{
	for (const struct lnode *n = top; n != NULL; n = n->next_dfs)
		for (size_t i = 0; i < n->rec->nterms; i++) {
			const struct lterm *lt = &n->terms[i];

			if (lt->reachable && !lt->t->is_modifier &&
			    lt->t->mech == SPF_MECH_ALL && lt->t->qualifier == '+')
				warn(fl, "'%s' in the record of %s lets every "
				    "host on the Internet pass, and so do the "
				    "flattened records; end with -all or ~all",
				    lt->t->text, n->domain);
		}
}

/* Keep a term as written. */
static void keep(spf_flat_t *fl, const struct lnode *n, const struct lterm *lt,
	int *group, const char *why)
{
	struct item *it = new_item(fl);

	if (it == NULL)
		return;
	it->kept = lt->t->text;
	it->kept_cost = lt->subtree;
	(*group)++;
	warn(fl, "'%s' (record of %s) kept as written: %s", lt->t->text,
	    n->domain, why);
}

/* Add the static set m of term t (record of n) with qualifier q to the
 * current stretch. */
static void add_set(spf_flat_t *fl, char q, const spf_ipset_t *m,
	const spf_ipset_t *d, int group, const struct lnode *n,
	const spf_term_t *t)
{
	spf_ipset_t fresh;
	struct item *it = NULL;

	set_minus(fl, m, d, &fresh);
	if (spf_ipset_empty(&fresh))
		return;
	for (int f = 0; f < 2 && q == '+'; f++) {
		double c = spf_ipset_count(&fresh, f == 0 ? 4 : 6);

		if (c > fl->widest[f].count) {
			fl->widest[f].count = c;
			fl->widest[f].n = n;
			fl->widest[f].t = t;
		}
	}
	for (size_t i = fl->nitems; i > 0; i--) {
		struct item *x = &fl->items[i - 1];

		if (x->group != group || x->kept != NULL)
			break;
		if (x->q == q) {
			it = x;
			break;
		}
	}
	if (it == NULL) {
		it = new_item(fl);
		if (it == NULL)
			return;
		it->q = q;
		it->group = group;
	}
	set_union(fl, &it->set, &fresh);
	set_union(fl, &fl->final[qidx(q)], &fresh);
}

static void flatten_top(spf_flat_t *fl, struct lnode *top, const char **exp)
{
	spf_ipset_t d = { 0 };
	int group = 0;
	struct lnode *n = top;

	fl->dflt = SPF_RESULT_NEUTRAL;
	/* the top record's exp= stays, wherever it stands (usually after
	 * all, where the loop below stops) */
	for (size_t i = 0; i < top->rec->nterms; i++)
		if (top->terms[i].t->is_modifier && top->terms[i].t->mod == SPF_MOD_EXP)
			*exp = top->terms[i].t->text;
	while (n != NULL && !fl->oom) {
		struct lnode *next = NULL;

		for (size_t i = 0; i < n->rec->nterms && !fl->oom; i++) {
			const struct lterm *lt = &n->terms[i];
			const spf_term_t *t = lt->t;
			spf_ipset_t match;
			const spf_ipset_t *m;

			if (t->is_modifier)
				continue;
			if (!lt->reachable)
				continue;
			if (t->mech == SPF_MECH_ALL) {
				struct item *it = new_item(fl);

				if (it != NULL) {
					it->kept = t->qualifier == '+' ? "+all" :
					    spf_arena_printf(fl->arena, "%call",
					    t->qualifier);
					it->group = -1;
				}
				fl->dflt = t->qualifier == '-' ? SPF_RESULT_FAIL :
				    t->qualifier == '~' ? SPF_RESULT_SOFTFAIL :
				    t->qualifier == '?' ? SPF_RESULT_NEUTRAL :
				    SPF_RESULT_PASS;
				return;
			}
			if (!term_static(fl, lt)) {
				keep(fl, n, lt, &group, t->mech == SPF_MECH_INCLUDE ?
				    "the included tree depends on the message "
				    "(exists, ptr or macros)" : t->mech == SPF_MECH_PTR ?
				    "ptr needs the client's address" :
				    "it depends on the message (exists or macros)");
				continue;
			}
			if (t->mech == SPF_MECH_INCLUDE) {
				m = &node_flat(fl, lt->child)->pass;
			} else {
				match_set(fl, lt, &match);
				m = &match;
			}
			add_set(fl, t->qualifier, m, &d, group, n, t);
			set_union(fl, &d, m);
		}
		if (n->rec->redirect >= 0 && n->rec->all < 0) {
			const struct lterm *lt = &n->terms[n->rec->redirect];
			struct nodeflat *cf = node_flat(fl, lt->child);

			if (cf == NULL || cf->dynamic) {
				struct item *it = new_item(fl);

				if (it != NULL) {
					it->kept = spf_arena_printf(fl->arena,
					    "redirect=%s", lt->child ?
					    lt->child->domain : lt->t->domain_spec);
					it->kept_cost = lt->subtree;
					it->group = -1;
				}
				warn(fl, "'%s' kept: the target depends on the "
				    "message", lt->t->text);
				fl->dflt = SPF_RESULT_NONE;
				return;
			}
			next = lt->child;
		}
		n = next;
	}
}

/* ---- CIDRs and text ---- */

/* The networks of p as "addr/len", in arena. */
static void set_cidrs(spf_flat_t *fl, const spf_ipset_t *p,
	const char ***out, size_t *n)
{
	spf_net_t *nets;
	size_t nn;
	const char **arr;

	*out = NULL;
	*n = 0;
	if (spf_ipset_empty(p))
		return;
	if (spf_ipset_cidrs(fl->arena, p, &nets, &nn) != SPF_OK ||
	    (arr = spf_arena_alloc(fl->arena, (nn + 1) * sizeof(*arr))) == NULL) {
		fl->oom = true;
		return;
	}
	for (size_t i = 0; i < nn; i++) {
		char buf[64];

		spf_addr_str(&nets[i].addr, buf, sizeof(buf));
		arr[i] = spf_arena_printf(fl->arena, "%s/%u", buf, nets[i].prefix);
		if (arr[i] == NULL) {
			fl->oom = true;
			return;
		}
	}
	*out = arr;
	*n = nn;
}

/* "ip4:192.0.2.0/24" (the /32 and /128 are left out), no qualifier */
static const char *net_term(spf_flat_t *fl, const char *cidr)
{
	const char *slash = strrchr(cidr, '/');
	bool v6 = strchr(cidr, ':') != NULL;
	bool host = strcmp(slash + 1, v6 ? "128" : "32") == 0;

	return spf_arena_printf(fl->arena, "%s:%.*s", v6 ? "ip6" : "ip4",
	    (int)(host ? (size_t)(slash - cidr) : strlen(cidr)), cidr);
}

/* "" for '+', else the qualifier */
static const char *qprefix(char q)
{
	switch (q) {
	case '-': return "-";
	case '~': return "~";
	case '?': return "?";
	default: return "";
	}
}

static size_t answer_size(const char *name, size_t len)
{
	return 12 + strlen(name) + 2 + 4 + 12 + len +
	    (len + STRING_MAX - 1) / STRING_MAX + (len == 0);
}

static void add_record(spf_flat_t *fl, const char *name, const char *text)
{
	spf_flat_record_t *r = agrow(fl, fl->recs, &fl->caprecs, fl->nrecs,
	    sizeof(*fl->recs));
	size_t len = strlen(text), ns = 0, pos = 0;
	const char **strs;

	if (r == NULL)
		return;
	fl->recs = r;
	r = &fl->recs[fl->nrecs];
	strs = spf_arena_alloc(fl->arena, (len / 100 + 2) * sizeof(*strs));
	if (strs == NULL) {
		fl->oom = true;
		return;
	}
	/* split at spaces where possible: receivers join the strings with
	 * nothing in between (RFC 7208 §3.3) */
	while (pos < len) {
		size_t take = len - pos;

		if (take > STRING_MAX) {
			take = STRING_MAX;
			while (take > 100 && text[pos + take - 1] != ' ')
				take--;
			if (text[pos + take - 1] != ' ')
				take = STRING_MAX;
		}
		strs[ns++] = spf_arena_strndup(fl->arena, text + pos, take);
		pos += take;
	}
	r->name = name;
	r->text = text;
	r->strings = strs;
	r->nstrings = ns;
	r->answer_size = answer_size(name, len);
	fl->nrecs++;
}

/* The network terms of each set item, in order. */
struct group_terms {
	const char **terms;
	size_t n;
	size_t bytes;           /* " term" each */
	bool moved;
	const char *include;    /* the term that replaces them */
};

static void layout(spf_flat_t *fl, const char *exp)
{
	struct group_terms *g = spf_arena_alloc(fl->arena,
	    (fl->nitems + 1) * sizeof(*g));
	spf_buf_t b;
	unsigned part = 0;
	size_t max = fl->max_answer;

	if (g == NULL) {
		fl->oom = true;
		return;
	}
	for (size_t i = 0; i < fl->nitems; i++) {
		struct item *it = &fl->items[i];
		const char **cidrs;
		size_t n;

		if (it->kept != NULL)
			continue;
		set_cidrs(fl, &it->set, &cidrs, &n);
		g[i].terms = spf_arena_alloc(fl->arena, (n + 1) * sizeof(char *));
		if (g[i].terms == NULL) {
			fl->oom = true;
			return;
		}
		for (size_t k = 0; k < n; k++) {
			g[i].terms[k] = net_term(fl, cidrs[k]);
			if (g[i].terms[k] == NULL) {
				fl->oom = true;
				return;
			}
			g[i].bytes += 1 + strlen(qprefix(it->q)) +
			    strlen(g[i].terms[k]);
		}
		g[i].n = n;
	}
	spf_buf_init(&b, 1 << 20);
	for (;;) {
		size_t best = SIZE_MAX;

		spf_buf_reset(&b);
		spf_buf_puts(&b, "v=spf1");
		for (size_t i = 0; i < fl->nitems; i++) {
			if (fl->items[i].kept != NULL)
				spf_buf_printf(&b, " %s", fl->items[i].kept);
			else if (g[i].moved)
				spf_buf_printf(&b, " %s", g[i].include);
			else
				for (size_t k = 0; k < g[i].n; k++)
					spf_buf_printf(&b, " %s%s",
					    qprefix(fl->items[i].q), g[i].terms[k]);
		}
		if (exp != NULL)
			spf_buf_printf(&b, " %s", exp);
		if (b.err != SPF_OK) {
			fl->oom = true;
			break;
		}
		if (answer_size(fl->domain, b.len) < max)
			break;
		/* move the biggest stretch still inline into parts */
		for (size_t i = 0; i < fl->nitems; i++)
			if (fl->items[i].kept == NULL && !g[i].moved && g[i].n > 0 &&
			    (best == SIZE_MAX || g[i].bytes > g[best].bytes))
				best = i;
		if (best == SIZE_MAX) {
			warn(fl, "the top record is %zu bytes even with every "
			    "network moved out (too many kept terms)", b.len);
			break;
		}
		g[best].moved = true;
		g[best].include = spf_arena_printf(fl->arena, "%sinclude:%s%u.%s",
		    qprefix(fl->items[best].q), fl->prefix, part + 1, fl->domain);
		/* fill parts */
		{
			size_t k = 0;

			while (k < g[best].n && !fl->oom) {
				const char *name = spf_arena_printf(fl->arena,
				    "%s%u.%s", fl->prefix, ++part, fl->domain);
				const char *chain = spf_arena_printf(fl->arena,
				    " include:%s%u.%s", fl->prefix, part + 1,
				    fl->domain);
				spf_buf_t pb;
				size_t start = k;

				if (name == NULL || chain == NULL) {
					fl->oom = true;
					break;
				}
				spf_buf_init(&pb, 1 << 16);
				spf_buf_puts(&pb, "v=spf1");
				while (k < g[best].n) {
					/* parts hold pass terms only: the
					 * qualifier sits on the include */
					const char *term = g[best].terms[k];
					size_t add = 1 + strlen(term);

					if (k > start && answer_size(name, pb.len +
					    add + strlen(chain)) >= max)
						break;
					spf_buf_printf(&pb, " %s", term);
					k++;
				}
				if (k < g[best].n) {
					spf_buf_puts(&pb, chain);
					fl->lookups++;
				}
				if (pb.err == SPF_OK)
					add_record(fl, name, spf_arena_strdup(
					    fl->arena, spf_buf_cstr(&pb)));
				else
					fl->oom = true;
				spf_buf_finish(&pb);
			}
		}
		fl->lookups++;
	}
	if (!fl->oom) {
		const char *top = spf_arena_strdup(fl->arena, spf_buf_cstr(&b));

		if (top == NULL)
			fl->oom = true;
		else {
			/* the top record first */
			add_record(fl, fl->domain, top);
			if (!fl->oom && fl->nrecs > 1) {
				spf_flat_record_t t = fl->recs[fl->nrecs - 1];

				memmove(&fl->recs[1], &fl->recs[0],
				    (fl->nrecs - 1) * sizeof(*fl->recs));
				fl->recs[0] = t;
			}
		}
	}
	spf_buf_finish(&b);
}

/* ---- the API ---- */

static const char *tree_problem(spf_arena_t *a, const struct lnode *top)
{
	if (top == NULL || top->state != LN_OK)
		return "the domain has no usable SPF record (see spfcheck lint)";
	for (const struct lnode *n = top; n != NULL; n = n->next_dfs) {
		if (n->syntax_errors)
			return spf_arena_printf(a, "the record of %s has syntax "
			    "errors (see spfcheck lint)", n->domain);
		for (size_t i = 0; i < n->rec->nterms; i++) {
			const struct lterm *lt = &n->terms[i];

			if (!lt->reachable)
				continue;
			if (lt->child != NULL && lt->child->state != LN_OK)
				return spf_arena_printf(a, "'%s' in the record of "
				    "%s cannot be followed: no record, a loop or "
				    "a DNS failure (see spfcheck lint)",
				    lt->t->text, n->domain);
			if (lt->nmx > 10)
				return spf_arena_printf(a, "'%s' in the record of "
				    "%s has more than 10 MX names (permerror)",
				    lt->t->text, n->domain);
			if ((lt->a4 && spf_dns_answer_status(lt->a4) >= SPF_DNS_TEMPFAIL) ||
			    (lt->a6 && spf_dns_answer_status(lt->a6) >= SPF_DNS_TEMPFAIL) ||
			    (lt->mx && !lt->t->is_modifier &&
			    spf_dns_answer_status(lt->mx) >= SPF_DNS_TEMPFAIL))
				return spf_arena_printf(a, "a lookup of '%s' in the "
				    "record of %s failed; try again later",
				    lt->t->text, n->domain);
			for (size_t j = 0; j < lt->nhosts; j++)
				if (spf_dns_answer_status(lt->h4[j]) >= SPF_DNS_TEMPFAIL ||
				    spf_dns_answer_status(lt->h6[j]) >= SPF_DNS_TEMPFAIL)
					return spf_arena_printf(a, "an MX host "
					    "lookup of '%s' failed; try again "
					    "later", lt->t->text);
		}
	}
	return NULL;
}

spf_status_t spf_flatten(const spf_lint_t *lint, const spf_flatten_opts_t *opts,
	spf_flat_t **out, char *why, size_t whysize)
{
	struct lnode *top = lint ? spf_lint_tree(lint) : NULL;
	struct lnode **order = NULL;
	size_t nn = 0;
	spf_flat_t *fl;
	const char *exp = NULL, *problem;

	*out = NULL;
	if (why != NULL && whysize > 0)
		why[0] = '\0';
	if (lint == NULL)
		return SPF_EINVAL;
	fl = spf_calloc(1, sizeof(*fl));
	if (fl == NULL || (fl->arena = spf_arena_create()) == NULL) {
		spf_free(fl);
		return SPF_ENOMEM;
	}
	problem = tree_problem(fl->arena, top);
	if (problem != NULL) {
		/* the message outlives fl: copied into the caller's buffer */
		if (why != NULL && whysize > 0)
			snprintf(why, whysize, "%s", problem);
		spf_flat_destroy(fl);
		return SPF_EINVAL;
	}
	fl->domain = spf_arena_strdup(fl->arena, top->domain);
	if (fl->domain == NULL) {
		spf_flat_destroy(fl);
		return SPF_ENOMEM;
	}
	fl->prefix = opts && opts->prefix ? opts->prefix : "_spf";
	fl->max_answer = opts && opts->max_answer ? opts->max_answer : 450;
	/* pass sets, children first: reverse evaluation order */
	for (struct lnode *n = top; n != NULL; n = n->next_dfs)
		nn++;
	fl->nnode = spf_lint_node_count(lint);
	order = spf_malloc(nn * sizeof(*order));
	fl->node = spf_arena_alloc(fl->arena, (fl->nnode ? fl->nnode : 1) *
		sizeof(*fl->node));
	if (order == NULL || fl->node == NULL) {
		spf_free(order);
		spf_flat_destroy(fl);
		return SPF_ENOMEM;
	}
	memset(fl->node, 0, fl->nnode * sizeof(*fl->node));
	nn = 0;
	for (struct lnode *n = top; n != NULL; n = n->next_dfs)
		order[nn++] = n;
	for (size_t i = nn; i > 0 && !fl->oom; i--)
		node_pass(fl, order[i - 1]);
	spf_free(order);
	if (!fl->oom)
		warn_pass_all(fl, top);
	if (!fl->oom)
		flatten_top(fl, top, &exp);
	for (size_t i = 0; i < fl->nitems; i++)
		fl->lookups += fl->items[i].kept_cost;
	if (!fl->oom)
		layout(fl, exp);
	for (int q = 0; q < 4 && !fl->oom; q++)
		set_cidrs(fl, &fl->final[q], &fl->nets[q], &fl->nnets[q]);
	if (!fl->oom && fl->lookups > 10)
		warn(fl, "the flattened records still need %u DNS lookups "
		    "(limit 10) because of the terms kept", fl->lookups);
	if (fl->oom) {
		spf_flat_destroy(fl);
		return SPF_ENOMEM;
	}
	*out = fl;
	return SPF_OK;
}

void spf_flat_destroy(spf_flat_t *fl)
{
	if (fl == NULL)
		return;
	spf_arena_destroy(fl->arena);
	spf_free(fl);
}

size_t spf_flat_record_count(const spf_flat_t *fl) { return fl->nrecs; }

const spf_flat_record_t *spf_flat_record(const spf_flat_t *fl, size_t i)
{
	return i < fl->nrecs ? &fl->recs[i] : NULL;
}

size_t spf_flat_warning_count(const spf_flat_t *fl) { return fl->nwarn; }

const char *spf_flat_warning(const spf_flat_t *fl, size_t i)
{
	return i < fl->nwarn ? fl->warnings[i] : NULL;
}

unsigned spf_flat_lookups(const spf_flat_t *fl) { return fl->lookups; }
spf_result_t spf_flat_default(const spf_flat_t *fl) { return fl->dflt; }

/* The index of r's networks in final[], nets[] and nnets[] (pass,
 * fail, softfail, neutral), or -1 for a result no term gives. */
static int result_index(spf_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return 0;
	case SPF_RESULT_FAIL: return 1;
	case SPF_RESULT_SOFTFAIL: return 2;
	case SPF_RESULT_NEUTRAL: return 3;
	default: return -1;
	}
}

const char *const *spf_flat_networks(const spf_flat_t *fl, spf_result_t r,
	size_t *n)
{
	int q = result_index(r);

	if (q < 0) {
		*n = 0;
		return NULL;
	}
	*n = fl->nnets[q];
	return fl->nets[q];
}

spf_addr_t *spf_flat_samples(const spf_flat_t *fl, size_t max, size_t *n)
{
	spf_addr_t *out = spf_calloc(max ? max : 1, sizeof(*out));
	size_t k = 0;

	*n = 0;
	if (out == NULL)
		return NULL;
	/* a few addresses no network is likely to hold */
	{
		static const char *const fixed[] = { "0.0.0.1", "255.255.255.254",
			"100.64.0.1", "::2", "ffff::1", "2001:db8:ffff::1" };

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && k < max; i++)
			if (spf_addr_parse(fixed[i], &out[k]))
				k++;
	}
	for (int q = 0; q < 4; q++) {
		spf_ipset_edges(&fl->final[q], 4, out, max, &k);
		spf_ipset_edges(&fl->final[q], 6, out, max, &k);
	}
	*n = k;
	return out;
}

/* ---- evaluating many addresses ---- */

struct many {
	spf_sync_t sync;
	const spf_addr_t *ips;
	size_t n, next;
	spf_result_t *results;
	bool *limit_hit;
	const char *sender;
	const char *helo;
	bool oom;
};

struct one {
	struct many *m;
	size_t i;
};

static void start_next(struct many *m);

static void one_done(spf_job_t *job, void *arg)
{
	struct one *o = arg;
	struct many *m = o->m;

	m->results[o->i] = spf_job_result(job);
	/* both limits alike: the lookup limit and the void limit */
	if (m->limit_hit != NULL)
		m->limit_hit[o->i] = m->results[o->i] == SPF_RESULT_PERMERROR &&
		    spf_job_past_limit(job);
	spf_job_destroy(job);
	spf_free(o);
	if (!spf_sync_stopped(&m->sync))
		start_next(m);
}

static void start_next(struct many *m)
{
	while (m->next < m->n) {
		spf_request_t req = { .sender = m->sender, .helo = m->helo };
		struct one *o = spf_malloc(sizeof(*o));
		size_t i = m->next++;

		if (o == NULL) {
			m->oom = true;
			m->results[i] = SPF_RESULT_TEMPERROR;
			continue;
		}
		o->m = m;
		o->i = i;
		req.ip = m->ips[i];
		if (spf_sync_check(&m->sync, &req, one_done, o) != SPF_OK) {
			spf_free(o);
			m->oom = true;
			m->results[i] = SPF_RESULT_TEMPERROR;
			continue;
		}
		return;
	}
}

spf_status_t spf_eval_many(spf_resolver_t *res, const char *domain,
	const spf_addr_t *ips, size_t n, spf_result_t *results, bool *limit_hit)
{
	struct many m = { .ips = ips, .n = n, .results = results,
		.limit_hit = limit_hit, .helo = domain };
	char *sender;

	if (n == 0)
		return SPF_OK;
	sender = spf_malloc(strlen(domain) + sizeof("postmaster@"));
	if (sender == NULL)
		return SPF_ENOMEM;
	strcpy(sender, "postmaster@");
	strcat(sender, domain);
	m.sender = sender;
	spf_sync_init(&m.sync, res);
	/* up to 64 in flight */
	for (int k = 0; k < 64 && m.next < n; k++)
		start_next(&m);
	if (!spf_sync_wait(&m.sync)) {
		/* the loop stopped first: the jobs in flight ended as
		 * temperror; so do the addresses never started */
		for (; m.next < n; m.next++) {
			results[m.next] = SPF_RESULT_TEMPERROR;
			if (limit_hit != NULL)
				limit_hit[m.next] = false;
		}
	}
	spf_sync_finish(&m.sync);
	spf_free(sender);
	return m.oom ? SPF_ENOMEM : SPF_OK;
}

const spf_ipset_t *spf_flat_pass(const spf_flat_t *fl, int family,
	const struct lnode **n, const spf_term_t **t)
{
	int f = family == 4 ? 0 : 1;

	*n = fl->widest[f].n;
	*t = fl->widest[f].t;
	return &fl->final[0];
}

spf_status_t spf_flat_compare(const spf_flat_t *a, spf_flat_t *b,
	spf_result_t r, const char *const **added, size_t *nadded,
	const char *const **removed, size_t *nremoved)
{
	int q = result_index(r);
	spf_ipset_t x, y;
	const char **ad = NULL, **rm = NULL;

	if (q < 0) {
		*nadded = *nremoved = 0;
		*added = *removed = NULL;
		return SPF_OK;
	}
	set_minus(b, &b->final[q], &a->final[q], &x);
	set_minus(b, &a->final[q], &b->final[q], &y);
	set_cidrs(b, &x, &ad, nadded);
	set_cidrs(b, &y, &rm, nremoved);
	*added = ad;
	*removed = rm;
	return b->oom ? SPF_ENOMEM : SPF_OK;
}
