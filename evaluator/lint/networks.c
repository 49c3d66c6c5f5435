/*
 * networks.c - which addresses a domain's SPF tree gives which result,
 * from which term, through which includes: `spfcheck tree --networks`
 * and `--ip`.
 *
 * DESCRIPTION
 *	The input is a finished lint run (lint_walk.h): every record of the
 *	tree with the answers of its lookups.  One pass over the tree in
 *	evaluation order (spf_lwalk_next(), the walker lint counts with)
 *	keeps, per record being evaluated, the addresses its earlier terms
 *	matched (decided there: later terms never see them, RFC 7208
 *	§4.6.2) and those that never reach the record at all (decided above
 *	it).  What a term matches beyond both is its contribution:
 *
 *	- in the top record, or a record a redirect from it reaches (RFC
 *	  7208 §6.1: that record's result is the result), the contribution
 *	  gets the result of the term's qualifier;
 *	- inside an include only a '+' term contributes, and it gives the
 *	  result of the qualifier of the include in the top chain that
 *	  reaches it (RFC 7208 §5.2: an include matches where its record
 *	  passes); an include that is not '+' inside an include contributes
 *	  nothing (its record then ends with a result that is not pass).
 *	  Everything an include's record passes is decided at the include.
 *
 *	The contributions are disjoint, so an address is in at most one.
 *	ptr, exists or a target with macros (the message decides), an
 *	include or redirect that ends in an error (no record, a loop, a DNS
 *	failure, a syntax error) and the 11th DNS-querying term are
 *	conditions: each keeps the set of addresses that cannot reach it, so
 *	spf_networks_match() can tell whether an address meets it first.
 *	'all' in the top chain is the default for every address left.
 *
 * DIAGNOSTICS
 *	SPF_EINVAL when the top has no usable record; SPF_ENOMEM.  Nothing
 *	recurses on DNS data: the walker keeps an explicit stack.
 */
#include "ipset.h"
#include "lint_walk.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LOOKUPS 10     /* RFC 7208 §4.6.4 */
#define MAX_MX_NAMES 10    /* RFC 7208 §4.6.4 */

/* One term's contribution: its addresses, result and path. */
struct contrib {
	spf_ipset_t set;
	spf_result_t result;
	const spf_path_step_t *path;
	size_t npath;
	unsigned lookups;
	unsigned order;         /* evaluation order of the term */
};

struct cond {
	spf_condition_t c;
	spf_ipset_t blocked;    /* addresses that never reach it */
	unsigned order;
};

struct spf_networks {
	spf_arena_t *arena;
	struct contrib *contribs;
	size_t ncontribs, capcontribs;
	struct cond *conds;
	size_t nconds, capconds;
	spf_condition_t *condv;     /* the public view of conds */
	spf_network_t *nets;
	size_t nnets;
	spf_ipset_t totals[4];      /* pass, fail, softfail, neutral */
	spf_result_t dflt;
	const spf_path_step_t *dflt_path;
	size_t dflt_npath;
	unsigned dflt_order;
	bool oom;
};

/* What is known while a record is evaluated. */
struct nframe {
	spf_ipset_t blocked;    /* decided before the record was reached */
	spf_ipset_t d;          /* decided by its terms so far */
	spf_ipset_t pass;       /* what it passes (beyond blocked) */
	bool chain;             /* the top or reached from it by redirect */
	char outer;             /* inside an include: the qualifier of the
	                         * top-chain include, 0 when its passes give
	                         * no result */
	bool dead;              /* evaluating it is an error (its
	                         * condition says so): its terms do nothing */
	spf_path_step_t *path;  /* the include/redirect terms that reach it */
	size_t npath;
};

static int ridx(spf_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return 0;
	case SPF_RESULT_FAIL: return 1;
	case SPF_RESULT_SOFTFAIL: return 2;
	default: return 3;
	}
}

static void *agrow(spf_networks_t *nw, void *arr, size_t *cap, size_t n,
	size_t size)
{
	void *p;
	size_t nc;

	if (n < *cap)
		return arr;
	nc = *cap ? *cap * 2 : 16;
	p = spf_arena_alloc(nw->arena, nc * size);
	if (p == NULL) {
		nw->oom = true;
		return NULL;
	}
	if (n > 0)
		memcpy(p, arr, n * size);
	*cap = nc;
	return p;
}

static void set_union(spf_networks_t *nw, spf_ipset_t *a, const spf_ipset_t *b)
{
	if (spf_ipset_union(nw->arena, a, b) != SPF_OK)
		nw->oom = true;
}

/* *out = a ∪ b, a fresh set */
static void set_join(spf_networks_t *nw, const spf_ipset_t *a,
	const spf_ipset_t *b, spf_ipset_t *out)
{
	memset(out, 0, sizeof(*out));
	set_union(nw, out, a);
	set_union(nw, out, b);
}

static void everything(spf_networks_t *nw, spf_ipset_t *m)
{
	static const spf_addr_t any4 = { .family = 4 }, any6 = { .family = 6 };

	memset(m, 0, sizeof(*m));
	if (spf_ipset_add_net(nw->arena, m, &any4, 0) != SPF_OK ||
	    spf_ipset_add_net(nw->arena, m, &any6, 0) != SPF_OK)
		nw->oom = true;
}

/* The frame's path plus the step (n, lt), copied into the arena. */
static spf_path_step_t *path_plus(spf_networks_t *nw, const struct nframe *f,
	const struct lnode *n, const struct lterm *lt)
{
	spf_path_step_t *p = spf_arena_alloc(nw->arena,
	    (f->npath + 1) * sizeof(*p));

	if (p == NULL) {
		nw->oom = true;
		return NULL;
	}
	if (f->npath > 0)
		memcpy(p, f->path, f->npath * sizeof(*p));
	p[f->npath].term = spf_arena_strdup(nw->arena, lt->t->text);
	p[f->npath].domain = spf_arena_strdup(nw->arena, n->domain);
	if (p[f->npath].term == NULL || p[f->npath].domain == NULL)
		nw->oom = true;
	return p;
}

static void add_cond(spf_networks_t *nw, const struct nframe *f,
	const struct lnode *n, const struct lterm *lt, spf_condition_kind_t kind,
	spf_result_t r, const char *why, unsigned order)
{
	struct cond *c = agrow(nw, nw->conds, &nw->capconds, nw->nconds,
	    sizeof(*nw->conds));

	if (c == NULL)
		return;
	nw->conds = c;
	c = &nw->conds[nw->nconds];
	memset(c, 0, sizeof(*c));
	c->c.kind = kind;
	c->c.result = r;
	c->c.why = why;
	c->c.path = path_plus(nw, f, n, lt);
	c->c.npath = f->npath + 1;
	c->order = order;
	set_join(nw, &f->blocked, &f->d, &c->blocked);
	if (c->c.path != NULL)
		nw->nconds++;
}

/* Term lt (record n, frame f) matches m: what it decides that nothing
 * before it did. */
static void contribute(spf_networks_t *nw, struct nframe *f,
	const struct lnode *n, const struct lterm *lt, const spf_ipset_t *m,
	unsigned lookups, unsigned order)
{
	spf_ipset_t excl, fresh;
	char q = lt->t->qualifier;
	struct contrib *c;

	set_join(nw, &f->blocked, &f->d, &excl);
	if (spf_ipset_minus(nw->arena, m, &excl, &fresh) != SPF_OK) {
		nw->oom = true;
		return;
	}
	set_union(nw, &f->d, m);
	if (!f->chain) {
		if (q != '+')
			return;
		set_union(nw, &f->pass, &fresh);
		if (f->outer == 0)
			return;
		q = f->outer;
	}
	if (spf_ipset_empty(&fresh))
		return;
	c = agrow(nw, nw->contribs, &nw->capcontribs, nw->ncontribs,
	    sizeof(*nw->contribs));
	if (c == NULL)
		return;
	nw->contribs = c;
	c = &nw->contribs[nw->ncontribs];
	c->set = fresh;
	c->result = spf_qualifier_result(q);
	c->path = path_plus(nw, f, n, lt);
	c->npath = f->npath + 1;
	c->lookups = lookups;
	c->order = order;
	if (c->path != NULL)
		nw->ncontribs++;
	set_union(nw, &nw->totals[ridx(c->result)], &fresh);
}

static bool failed(const spf_dns_answer_t *a)
{
	spf_dns_status_t st = a != NULL ? spf_dns_answer_status(a) :
	    SPF_DNS_TEMPFAIL;

	return st == SPF_DNS_TEMPFAIL || st == SPF_DNS_BADREPLY;
}

/* Why evaluating an include or redirect to c is an error, or NULL;
 * *r the error. */
static const char *target_error(const struct lnode *c, spf_result_t *r)
{
	*r = SPF_RESULT_PERMERROR;
	if (c == NULL)
		return "the target is not a valid domain name";
	switch (c->state) {
	case LN_OK:
		return c->syntax_errors ? "its record has syntax errors" : NULL;
	case LN_NONE: return "there is no SPF record there";
	case LN_MULTI: return "there is more than one v=spf1 record there";
	case LN_LOOP: return "a loop: the domain is already being evaluated";
	case LN_BADNAME: return "the target is not a valid domain name";
	case LN_TEMP:
		*r = SPF_RESULT_TEMPERROR;
		return "its record could not be fetched";
	default:
		return NULL;    /* LN_CUT: not followed, a condition of its own */
	}
}

/* One reachable term of record n in frame f. */
static void on_term(spf_networks_t *nw, struct nframe *f, struct lnode *n,
	struct lterm *lt, unsigned *lookups, unsigned order)
{
	const spf_term_t *t = lt->t;
	spf_result_t qr = spf_qualifier_result(t->qualifier), er;
	bool redirect = t->is_modifier && t->mod == SPF_MOD_REDIRECT;
	spf_ipset_t m;
	const char *why;

	if (t->is_modifier && !redirect)
		return;
	if (lt->lookup_no != 0) {
		*lookups = lt->lookup_no;
		if (lt->lookup_no == MAX_LOOKUPS + 1)
			add_cond(nw, f, n, lt, SPF_COND_LIMIT, SPF_RESULT_PERMERROR,
			    NULL, order);
	}
	/* inside an include, what a match gives at the top: the top-chain
	 * include's result for a '+' term there, else nothing of its own
	 * (none: the include then does not match) */
	if (!f->chain && !redirect)
		qr = t->qualifier == '+' && f->outer != 0 ?
		    spf_qualifier_result(f->outer) : SPF_RESULT_NONE;
	if (lt->dynamic || (!redirect && t->mech == SPF_MECH_PTR)) {
		add_cond(nw, f, n, lt, SPF_COND_DYNAMIC, qr, NULL, order);
		return;
	}
	if (redirect || t->mech == SPF_MECH_INCLUDE) {
		why = target_error(lt->child, &er);
		if (why != NULL)
			add_cond(nw, f, n, lt, SPF_COND_ERROR, er, why, order);
		else if (lt->child != NULL && lt->child->state == LN_CUT)
			add_cond(nw, f, n, lt, SPF_COND_DYNAMIC, qr, NULL, order);
		return;     /* the record itself follows (ENTER) */
	}
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (f->chain) {
			nw->dflt = qr;
			nw->dflt_path = path_plus(nw, f, n, lt);
			nw->dflt_npath = f->npath + 1;
			nw->dflt_order = order;
			return;
		}
		everything(nw, &m);
		break;
	case SPF_MECH_A:
	case SPF_MECH_MX:
		if (lt->target == NULL) {
			add_cond(nw, f, n, lt, SPF_COND_ERROR, SPF_RESULT_PERMERROR,
			    "the target is not a valid domain name", order);
			return;
		}
		if (t->mech == SPF_MECH_A ? failed(lt->a4) || failed(lt->a6) :
		    failed(lt->mx)) {
			add_cond(nw, f, n, lt, SPF_COND_ERROR, SPF_RESULT_TEMPERROR,
			    "a DNS lookup failed", order);
			return;
		}
		if (t->mech == SPF_MECH_MX && lt->nmx > MAX_MX_NAMES) {
			add_cond(nw, f, n, lt, SPF_COND_ERROR, SPF_RESULT_PERMERROR,
			    "more than 10 MX names (RFC 7208 §4.6.4)", order);
			return;
		}
		if (spf_lterm_match_set(nw->arena, lt, &m) != SPF_OK)
			nw->oom = true;
		break;
	case SPF_MECH_EXISTS:
		/* a static name: it exists for every client or for none */
		if (lt->target == NULL || failed(lt->a4)) {
			add_cond(nw, f, n, lt, SPF_COND_ERROR, lt->target == NULL ?
			    SPF_RESULT_PERMERROR : SPF_RESULT_TEMPERROR, lt->target ==
			    NULL ? "the target is not a valid domain name" :
			    "a DNS lookup failed", order);
			return;
		}
		if (spf_dns_answer_status(lt->a4) == SPF_DNS_OK &&
		    spf_dns_answer_count(lt->a4) > 0)
			everything(nw, &m);
		else
			memset(&m, 0, sizeof(m));
		break;
	default:    /* ip4, ip6 */
		if (spf_lterm_match_set(nw->arena, lt, &m) != SPF_OK)
			nw->oom = true;
		break;
	}
	if (!nw->oom)
		contribute(nw, f, n, lt, &m, *lookups, order);
}

static void on_enter(spf_networks_t *nw, struct nframe *p, struct nframe *c,
	const struct lnode *parent_node, struct lnode *child, struct lterm *lt)
{
	bool redirect = lt->t->is_modifier;
	char q = lt->t->qualifier;

	memset(c, 0, sizeof(*c));
	set_join(nw, &p->blocked, &p->d, &c->blocked);
	c->dead = p->dead || child->syntax_errors;
	if (redirect) {
		c->chain = p->chain;
		c->outer = p->outer;
	} else {
		c->chain = false;
		c->outer = p->chain ? q : q == '+' ? p->outer : 0;
	}
	c->path = path_plus(nw, p, parent_node, lt);
	c->npath = p->npath + 1;
}

static void on_leave(spf_networks_t *nw, struct nframe *p,
	const struct nframe *c, const struct lterm *lt)
{
	if (c->dead)
		return;
	if (lt->t->is_modifier) {
		/* the redirect's record decides for the record */
		if (!p->chain)
			set_union(nw, &p->pass, &c->pass);
		return;
	}
	set_union(nw, &p->d, &c->pass);
	if (!p->chain && lt->t->qualifier == '+')
		set_union(nw, &p->pass, &c->pass);
}

static int net_cmp(const void *a, const void *b)
{
	const spf_network_t *x = a, *y = b;
	int c;

	if (ridx(x->result) != ridx(y->result))
		return ridx(x->result) - ridx(y->result);
	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	c = memcmp(x->addr.addr, y->addr.addr, sizeof(x->addr.addr));
	if (c != 0)
		return c;
	return (int)x->prefix - (int)y->prefix;
}

/* The contributions as CIDR blocks, sorted. */
static void list_networks(spf_networks_t *nw)
{
	size_t total = 0, k = 0;
	spf_net_t **blocks;
	size_t *nblocks;

	blocks = spf_arena_alloc(nw->arena, (nw->ncontribs + 1) * sizeof(*blocks));
	nblocks = spf_arena_alloc(nw->arena, (nw->ncontribs + 1) * sizeof(*nblocks));
	if (blocks == NULL || nblocks == NULL) {
		nw->oom = true;
		return;
	}
	for (size_t i = 0; i < nw->ncontribs; i++) {
		if (spf_ipset_cidrs(nw->arena, &nw->contribs[i].set, &blocks[i],
		    &nblocks[i]) != SPF_OK) {
			nw->oom = true;
			return;
		}
		total += nblocks[i];
	}
	nw->nets = spf_arena_alloc(nw->arena, (total + 1) * sizeof(*nw->nets));
	if (nw->nets == NULL) {
		nw->oom = true;
		return;
	}
	for (size_t i = 0; i < nw->ncontribs; i++)
		for (size_t j = 0; j < nblocks[i]; j++) {
			spf_network_t *x = &nw->nets[k++];

			x->addr = blocks[i][j].addr;
			x->prefix = blocks[i][j].prefix;
			x->result = nw->contribs[i].result;
			x->path = nw->contribs[i].path;
			x->npath = nw->contribs[i].npath;
			x->lookups = nw->contribs[i].lookups;
		}
	nw->nnets = k;
	qsort(nw->nets, k, sizeof(*nw->nets), net_cmp);
}

spf_status_t spf_networks_run(const spf_lint_t *lint, spf_networks_t **out)
{
	struct lnode *top = lint != NULL ? spf_lint_tree(lint) : NULL;
	struct nframe fr[LWALK_MAX];
	struct lwalk w;
	struct lstep s;
	spf_networks_t *nw;
	unsigned lookups = 0, order = 0;

	*out = NULL;
	if (top == NULL || top->state != LN_OK || top->syntax_errors)
		return SPF_EINVAL;
	nw = spf_calloc(1, sizeof(*nw));
	if (nw == NULL || (nw->arena = spf_arena_create()) == NULL) {
		spf_free(nw);
		return SPF_ENOMEM;
	}
	nw->dflt = SPF_RESULT_NEUTRAL;      /* RFC 7208 §4.7 */
	nw->dflt_order = ~0u;
	memset(&fr[0], 0, sizeof(fr[0]));
	fr[0].chain = true;
	spf_lwalk_init(&w, top);
	while (!nw->oom && spf_lwalk_next(&w, &s)) {
		struct nframe *f = &fr[s.depth];

		switch (s.kind) {
		case LSTEP_TERM:
			if (!f->dead)
				on_term(nw, f, s.n, s.lt, &lookups, ++order);
			break;
		case LSTEP_ENTER:
			on_enter(nw, &fr[s.depth - 1], f, w.stack[s.depth - 1].n,
			    s.n, s.lt);
			break;
		case LSTEP_LEAVE:
			if (s.lt != NULL && s.depth > 0)
				on_leave(nw, &fr[s.depth - 1], f, s.lt);
			break;
		}
	}
	if (!nw->oom) {
		nw->condv = spf_arena_alloc(nw->arena, (nw->nconds + 1) *
		    sizeof(*nw->condv));
		if (nw->condv == NULL)
			nw->oom = true;
		for (size_t i = 0; !nw->oom && i < nw->nconds; i++)
			nw->condv[i] = nw->conds[i].c;
	}
	if (!nw->oom)
		list_networks(nw);
	if (nw->oom) {
		spf_networks_destroy(nw);
		return SPF_ENOMEM;
	}
	*out = nw;
	return SPF_OK;
}

void spf_networks_destroy(spf_networks_t *nw)
{
	if (nw == NULL)
		return;
	spf_arena_destroy(nw->arena);
	spf_free(nw);
}

size_t spf_networks_count(const spf_networks_t *nw) { return nw->nnets; }

const spf_network_t *spf_networks_get(const spf_networks_t *nw, size_t i)
{
	return i < nw->nnets ? &nw->nets[i] : NULL;
}

double spf_networks_addresses(const spf_networks_t *nw, spf_result_t r,
	int family)
{
	return spf_ipset_count(&nw->totals[ridx(r)], family);
}

spf_result_t spf_networks_default(const spf_networks_t *nw,
	const spf_path_step_t **path, size_t *npath)
{
	*path = nw->dflt_path;
	*npath = nw->dflt_path != NULL ? nw->dflt_npath : 0;
	return nw->dflt;
}

size_t spf_networks_condition_count(const spf_networks_t *nw)
{
	return nw->nconds;
}

const spf_condition_t *spf_networks_condition(const spf_networks_t *nw,
	size_t i)
{
	return i < nw->nconds ? &nw->condv[i] : NULL;
}

void spf_networks_match(const spf_networks_t *nw, const spf_addr_t *ip,
	spf_networks_match_t *m)
{
	const struct contrib *hit = NULL;
	unsigned order = nw->dflt_order;

	memset(m, 0, sizeof(*m));
	m->result = nw->dflt;
	for (size_t i = 0; i < nw->ncontribs; i++)
		if (spf_ipset_contains(&nw->contribs[i].set, ip)) {
			hit = &nw->contribs[i];
			order = hit->order;
			m->result = hit->result;
			break;
		}
	if (hit != NULL)
		for (size_t i = 0; i < nw->nnets; i++) {
			const spf_network_t *x = &nw->nets[i];

			if (x->path == hit->path && x->addr.family == ip->family &&
			    spf_addr_in_net(ip, &x->addr, x->prefix)) {
				m->network = x;
				break;
			}
		}
	/* conditions are in evaluation order */
	for (size_t i = 0; i < nw->nconds && nw->conds[i].order < order; i++) {
		if (spf_ipset_contains(&nw->conds[i].blocked, ip))
			continue;
		if (nw->conds[i].c.kind == SPF_COND_DYNAMIC) {
			if (m->may == NULL)
				m->may = &nw->condv[i];
			continue;
		}
		m->error = &nw->condv[i];
		m->result = nw->conds[i].c.result;
		break;
	}
}
