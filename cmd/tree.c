/*
 * tree.c - `spfcheck tree DOMAIN`: what a domain's SPF record tree costs,
 * without a client address: one line per DNS-querying term.
 *
 * DESCRIPTION
 *	spfcheck tree DOMAIN                      the published tree
 *	spfcheck tree --record 'v=spf1 ...'       a draft at the top
 *	The tree comes from lint's walk (spf_lint_run(): the whole tree, past
 *	the limits, counted for a client that matches nothing).  Each
 *	include, redirect, a, mx, ptr and exists gets a line: its own lookup,
 *	the lookups of its subtree (itself included), the void lookups in it,
 *	and the running total against the limit of 10 (RFC 7208 §4.6.4); the
 *	line where the total passes 10, or the void lookups pass the void
 *	limit, is marked.  An include whose target is a well-known provider
 *	(providers.c) is named.  --json prints the same as data.
 *
 *	Exit status: 0 within the limits, 1 past the lookup or the void
 *	limit, 2 no usable record at the top (none, several, a DNS failure,
 *	a syntax error), 64 bad usage or input, 70 internal error.
 *
 * DIAGNOSTICS
 *	One line on stderr for bad input (a domain that is not a name, an
 *	unreadable zone or provider file, a bad provider line: FILE:LINE).
 */
#include "cmd.h"
#include "html.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOOKUPS 10     /* RFC 7208 §4.6.4 */
#define MAX_TREE_DEPTH 31  /* lint walks at most 21 levels */
#define TERM_COLUMN 44     /* the term column's width (longer ones push) */

static const char tree_usage[] =
	"usage: spfcheck tree [options] DOMAIN\n"
	"       spfcheck tree [options] --record 'v=spf1 ...' [--domain NAME]\n"
	"\n"
	"Show what the SPF record tree of DOMAIN costs, without a client\n"
	"address: one line per include, redirect, a, mx, ptr and exists with its\n"
	"own lookup, its subtree's lookups, its void lookups and the running\n"
	"total against the limit of 10 (marked where it is passed).  Includes of\n"
	"well-known providers are named.\n"
	"\n"
	"options:\n"
	"  --record TEXT           a draft v=spf1 record at the top instead of the\n"
	"                          published one (DOMAIN=TEXT works as for check)\n"
	"  --domain NAME           the domain the draft is for (default\n"
	"                          draft.invalid); same as giving DOMAIN\n"
	"  --providers FILE        provider names from FILE (default: the installed\n"
	"                          providers.txt, or $SPFCHECK_PROVIDERS)\n"
	"  --networks              instead: the networks each result (pass, fail,\n"
	"                          softfail, neutral) is given to, merged and sorted,\n"
	"                          with the term and the includes behind each\n"
	"  --ip ADDRESS            instead: which term decides ADDRESS, through which\n"
	"                          includes (no sender needed)\n"
	CMD_FORMAT_HELP("the lookup-cost tree, the findings and the networks")
	COMMON_HELP_ZONE COMMON_HELP_DNS COMMON_HELP_JSON COMMON_HELP_VOID
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 within the limits (--networks: listed), 1 past the lookup\n"
	"or void limit, 2 no usable record at the top; with --ip: 0 pass, 1 fail,\n"
	"2 softfail, 3 neutral from a term, 5 permerror, 6 temperror, 8 no term\n"
	"matches (all or the default decides), 9 it depends on the message;\n"
	"64 bad usage or input, 70 internal error\n";

struct tree {
	const spf_lint_t *lint;
	const struct cmd_providers *prov;
	unsigned void_limit;
	size_t n;
	/* per line: is it the last of its siblings, and which ancestor
	 * levels still have siblings below (a bar in that column) */
	bool *last;
	uint32_t *bars;
	unsigned over_lookup;   /* the line number past 10 (0: none) */
	size_t over_void;       /* the line index + 1 past the void limit */
};

const char *cmd_lint_state_str(spf_lint_state_t s)
{
	switch (s) {
	case SPF_LINT_STATE_OK: return "ok";
	case SPF_LINT_STATE_NONE: return "none";
	case SPF_LINT_STATE_MULTI: return "multiple";
	case SPF_LINT_STATE_TEMP: return "dns_error";
	case SPF_LINT_STATE_LOOP: return "loop";
	case SPF_LINT_STATE_CUT: return "not_followed";
	case SPF_LINT_STATE_BADNAME: return "bad_name";
	case SPF_LINT_STATE_DYNAMIC: return "dynamic";
	default: return "syntax";
	}
}

/* What a target's state means, in words (NULL for ok). */
static const char *state_words(spf_lint_state_t s)
{
	switch (s) {
	case SPF_LINT_STATE_NONE: return "no SPF record there: permerror";
	case SPF_LINT_STATE_MULTI: return "several v=spf1 records there: permerror";
	case SPF_LINT_STATE_TEMP: return "its record could not be fetched: temperror";
	case SPF_LINT_STATE_LOOP: return "a loop: permerror";
	case SPF_LINT_STATE_CUT: return "not followed (the tree is too deep or too big)";
	case SPF_LINT_STATE_BADNAME: return "not a valid domain name: permerror";
	case SPF_LINT_STATE_DYNAMIC: return "the target depends on the message (macros)";
	case SPF_LINT_STATE_SYNTAX: return "its record has syntax errors: permerror";
	default: return NULL;
	}
}

/* The shape of the tree from the lines' depths, from the last line up:
 * open[d] says a later line sits at depth d before any shallower one. */
static bool tree_shape(struct tree *t)
{
	bool open[MAX_TREE_DEPTH + 1] = { false };
	unsigned voids = 0;

	t->n = spf_lint_lookup_count(t->lint);
	t->last = spf_calloc(t->n + 1, sizeof(*t->last));
	t->bars = spf_calloc(t->n + 1, sizeof(*t->bars));
	if (t->last == NULL || t->bars == NULL)
		return false;
	for (size_t i = t->n; i > 0; i--) {
		const spf_lint_lookup_t *e = spf_lint_lookup(t->lint, i - 1);
		unsigned d = e->depth > MAX_TREE_DEPTH ? MAX_TREE_DEPTH : e->depth;

		t->last[i - 1] = !open[d];
		for (unsigned k = 0; k < d; k++)
			if (open[k])
				t->bars[i - 1] |= 1u << k;
		open[d] = true;
		for (unsigned k = d + 1; k <= MAX_TREE_DEPTH; k++)
			open[k] = false;
	}
	for (size_t i = 0; i < t->n; i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(t->lint, i);

		if (e->number == MAX_LOOKUPS + 1)
			t->over_lookup = e->number;
		voids += e->void4;
		if (e->void4 && voids == t->void_limit + 1)
			t->over_void = i + 1;
	}
	return true;
}

/* Display width of UTF-8 text (one column per code point). */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static void put(FILE *out, const char *s)
{
	spf_escape_write(out, s, strlen(s), SPF_ESC_CTL);
}

static void tree_text(FILE *out, const struct tree *t)
{
	const spf_lint_t *lint = t->lint;
	spf_lint_counts_t c;

	spf_lint_counts(lint, &c);
	fputs(spf_lint_domain(lint), out);
	for (size_t w = width(spf_lint_domain(lint)); w < TERM_COLUMN; w++)
		fputc(' ', out);
	fputs("  own  tree  void  total\n", out);
	for (size_t i = 0; i < t->n; i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, i);
		unsigned d = e->depth > MAX_TREE_DEPTH ? MAX_TREE_DEPTH : e->depth;
		const char *prov = e->mech == SPF_MECH_INCLUDE || e->is_redirect ?
			cmd_provider_name(t->prov, e->target) : NULL;
		const char *sw = state_words(e->state);
		size_t w = 0;

		for (unsigned k = 0; k < d; k++) {
			fputs(t->bars[i] & (1u << k) ? "│  " : "   ", out);
			w += 3;
		}
		fputs(t->last[i] ? "└─ " : "├─ ", out);
		w += 3;
		put(out, e->term);
		for (w += width(e->term); w < TERM_COLUMN; w++)
			fputc(' ', out);
		fprintf(out, "  %3u  %4u  %4u  %5u", 1u, e->subtree, e->voids,
			e->number);
		if (prov != NULL) {
			fputs("  ", out);
			put(out, prov);
		}
		if (e->void4)
			fputs("  (void lookup)", out);
		if (sw != NULL)
			fprintf(out, "  (%s)", sw);
		if (e->number == t->over_lookup && t->over_lookup != 0)
			fprintf(out, "  ◀ lookup %u: past the limit of %d, a check "
				"that gets here is a permerror", e->number, MAX_LOOKUPS);
		if (t->over_void == i + 1)
			fprintf(out, "  ◀ void lookup %u: past the limit of %u, a "
				"check that gets here is a permerror", t->void_limit + 1,
				t->void_limit);
		fputc('\n', out);
	}
	fprintf(out, "%s: %u DNS lookup%s (limit %d), %u void lookup%s (limit "
		"%u), %u record%s", spf_lint_domain(lint), c.lookups, c.lookups == 1 ?
		"" : "s", MAX_LOOKUPS, c.voids, c.voids == 1 ? "" : "s",
		t->void_limit, c.records, c.records == 1 ? "" : "s");
	if (c.lookups > MAX_LOOKUPS) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, MAX_LOOKUPS);

		fprintf(out, "; past the lookup limit: a client that no term "
			"matches before lookup %d ('", MAX_LOOKUPS + 1);
		put(out, e->term);
		fputs("' in the record of ", out);
		put(out, e->domain);
		fputs(") gets permerror", out);
	} else if (c.voids > t->void_limit)
		fputs("; past the void limit: a client that no term matches "
			"before the marked lookup gets permerror", out);
	else
		fprintf(out, "; %u to spare", MAX_LOOKUPS - c.lookups);
	fputc('\n', out);
}

/* The same tree as a Graphviz dot graph: a node per line, an edge
 * from each include or redirect to the terms of its record. */
static void tree_dot(FILE *out, const struct tree *t)
{
	const spf_lint_t *lint = t->lint;
	size_t last[MAX_TREE_DEPTH + 1] = { 0 };
	spf_lint_counts_t c;

	spf_lint_counts(lint, &c);
	fputs("digraph spf_tree {\n"
		"\tgraph [rankdir=LR, fontname=\"Helvetica\", fontsize=11];\n"
		"\tnode [shape=box, fontname=\"Helvetica\", fontsize=10];\n"
		"\tn0 [style=\"rounded,bold\", label=\"", out);
	cmd_dot_string(out, spf_lint_domain(lint));
	fprintf(out, "\\n%u DNS lookup%s (limit %d), %u void (limit %u)\"%s];\n",
		c.lookups, c.lookups == 1 ? "" : "s", MAX_LOOKUPS, c.voids,
		t->void_limit, c.lookups > MAX_LOOKUPS || c.voids > t->void_limit ?
		", color=red3" : "");
	for (size_t i = 0; i < t->n; i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, i);
		unsigned d = e->depth > MAX_TREE_DEPTH ? MAX_TREE_DEPTH : e->depth;
		const char *prov = e->mech == SPF_MECH_INCLUDE || e->is_redirect ?
			cmd_provider_name(t->prov, e->target) : NULL;
		const char *sw = state_words(e->state);
		bool over = e->number > MAX_LOOKUPS;

		fprintf(out, "\tn%zu [label=\"", i + 1);
		cmd_dot_string(out, e->term);
		if (prov != NULL) {
			fputs("\\n", out);
			cmd_dot_string(out, prov);
		}
		fprintf(out, "\\nown 1, tree %u, void %u, total %u", e->subtree,
			e->voids, e->number);
		if (sw != NULL)
			fprintf(out, "\\n%s", sw);
		if (e->number == t->over_lookup && t->over_lookup != 0)
			fprintf(out, "\\nlookup %u: past the limit of %d", e->number,
				MAX_LOOKUPS);
		if (t->over_void == i + 1)
			fprintf(out, "\\nvoid lookup %u: past the limit of %u",
				t->void_limit + 1, t->void_limit);
		fputc('"', out);
		if (over || t->over_void == i + 1)
			fputs(", color=red3, fontcolor=red3", out);
		else if (e->void4 || sw != NULL)
			fputs(", color=darkorange3", out);
		fputs("];\n", out);
		fprintf(out, "\tn%zu -> n%zu;\n", d > 0 ? last[d - 1] : (size_t)0, i + 1);
		last[d] = i + 1;
	}
	fputs("}\n", out);
}

static json_t *tree_json(const struct tree *t, bool draft)
{
	const spf_lint_t *lint = t->lint;
	json_t *o = json_object(), *ls = json_array();
	spf_lint_counts_t c;

	if (o == NULL || ls == NULL) {
		json_decref(o);
		json_decref(ls);
		return NULL;
	}
	spf_lint_counts(lint, &c);
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "domain", cmd_json_text(spf_lint_domain(lint)));
	json_object_set_new(o, "draft", json_boolean(draft));
	json_object_set_new(o, "state", json_string(cmd_lint_state_str(
		spf_lint_top_state(lint))));
	json_object_set_new(o, "records", json_integer(c.records));
	json_object_set_new(o, "lookups", json_integer(c.lookups));
	json_object_set_new(o, "limit", json_integer(MAX_LOOKUPS));
	json_object_set_new(o, "void_lookups", json_integer(c.voids));
	json_object_set_new(o, "void_limit", json_integer(t->void_limit));
	json_object_set_new(o, "past_limit", json_boolean(c.lookups > MAX_LOOKUPS ||
		c.voids > t->void_limit));
	for (size_t i = 0; i < t->n; i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, i);
		const char *prov = e->mech == SPF_MECH_INCLUDE || e->is_redirect ?
			cmd_provider_name(t->prov, e->target) : NULL;
		json_t *x = json_object();

		json_object_set_new(x, "number", json_integer(e->number));
		json_object_set_new(x, "depth", json_integer(e->depth));
		json_object_set_new(x, "domain", cmd_json_text(e->domain));
		json_object_set_new(x, "term", cmd_json_text(e->term));
		json_object_set_new(x, "target", cmd_json_text(e->target));
		json_object_set_new(x, "provider", cmd_json_text(prov));
		json_object_set_new(x, "own", json_integer(1));
		json_object_set_new(x, "subtree", json_integer(e->subtree));
		json_object_set_new(x, "voids", json_integer(e->voids));
		json_object_set_new(x, "void", json_boolean(e->void4));
		json_object_set_new(x, "void_ipv6", json_boolean(e->void6));
		json_object_set_new(x, "total", json_integer(e->number));
		json_object_set_new(x, "past_limit", json_boolean(e->number > MAX_LOOKUPS));
		json_object_set_new(x, "state", json_string(cmd_lint_state_str(e->state)));
		json_array_append_new(ls, x);
	}
	json_object_set_new(o, "terms", ls);
	return o;
}

/* ---- --networks and --ip ---- */

#define EXIT_NO_TERM 8     /* --ip: no term but all (or none) matches */
#define EXIT_DEPENDS 9     /* --ip: a term that depends on the message first */

static const spf_result_t results4[] = { SPF_RESULT_PASS, SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL, SPF_RESULT_NEUTRAL };

/* An address count: exact up to 2^53, then as a power of two. */
static const char *count_str(double c, char *buf, size_t len)
{
	unsigned e = 0;
	double x = c;

	if (c < 9007199254740992.0) {
		snprintf(buf, len, "%.0f", c);
		return buf;
	}
	while (x >= 2) {
		x /= 2;
		e++;
	}
	snprintf(buf, len, "%s2^%u", x == 1 ? "" : "about ", e);
	return buf;
}

static const char *net_str(const spf_addr_t *a, unsigned prefix, char *buf,
	size_t len)
{
	char ab[64];

	snprintf(buf, len, "%s/%u", spf_addr_str(a, ab, sizeof(ab)), prefix);
	return buf;
}

/* "TERM" and, when it is not in the top record, " via A > B". */
static void path_text(FILE *out, const spf_path_step_t *p, size_t n)
{
	if (n == 0)
		return;
	put(out, p[n - 1].term);
	for (size_t i = 0; i + 1 < n; i++) {
		fputs(i == 0 ? "  via " : " > ", out);
		put(out, p[i].term);
	}
}

static json_t *path_json(const spf_path_step_t *p, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, json_pack("{s:o,s:o}", "term",
			cmd_json_text(p[i].term), "record", cmd_json_text(p[i].domain)));
	return a;
}

static const char *cond_words(const spf_condition_t *c)
{
	switch (c->kind) {
	case SPF_COND_DYNAMIC: return "depends on the message";
	case SPF_COND_LIMIT: return "lookup 11: past the limit of 10 (RFC 7208 §4.6.4)";
	default: return c->why;
	}
}

static void networks_text(FILE *out, const spf_lint_t *lint,
	const spf_networks_t *nw)
{
	const spf_path_step_t *dp;
	size_t ndp, nn = spf_networks_count(nw), nc;
	spf_result_t d = spf_networks_default(nw, &dp, &ndp);

	fprintf(out, "%s: the addresses each result is given to\n",
		spf_lint_domain(lint));
	for (size_t r = 0; r < 4; r++) {
		char b4[64], b6[64];
		size_t k = 0;

		for (size_t i = 0; i < nn; i++)
			k += spf_networks_get(nw, i)->result == results4[r];
		if (k == 0)
			continue;
		fprintf(out, "%s: %zu network%s, %s IPv4 and %s IPv6 addresses\n",
			spf_result_str(results4[r]), k, k == 1 ? "" : "s",
			count_str(spf_networks_addresses(nw, results4[r], 4), b4, sizeof(b4)),
			count_str(spf_networks_addresses(nw, results4[r], 6), b6, sizeof(b6)));
		for (size_t i = 0; i < nn; i++) {
			const spf_network_t *x = spf_networks_get(nw, i);
			char nb[80];

			if (x->result != results4[r])
				continue;
			fprintf(out, "  %-24s  ", net_str(&x->addr, x->prefix, nb, sizeof(nb)));
			path_text(out, x->path, x->npath);
			if (x->lookups > MAX_LOOKUPS)
				fputs("  (past the lookup limit: permerror instead)", out);
			fputc('\n', out);
		}
	}
	fprintf(out, "every other address: %s", spf_result_str(d));
	if (dp != NULL) {
		fputs(" (", out);
		path_text(out, dp, ndp);
		fputs(")\n", out);
	} else {
		fputs(" (no all and no redirect: RFC 7208 §4.7)\n", out);
	}
	nc = spf_networks_condition_count(nw);
	if (nc > 0)
		fputs("terms that can decide first, for the addresses that reach them:\n", out);
	for (size_t i = 0; i < nc; i++) {
		const spf_condition_t *c = spf_networks_condition(nw, i);

		fputs("  ", out);
		path_text(out, c->path, c->npath);
		if (c->kind == SPF_COND_DYNAMIC && c->result == SPF_RESULT_NONE)
			fprintf(out, "  %s: if it matches, the include it is in does "
				"not\n", cond_words(c));
		else
			fprintf(out, "  %s: %s%s\n", cond_words(c), c->kind ==
				SPF_COND_DYNAMIC ? "if it matches, " : "",
				spf_result_str(c->result));
	}
}

static json_t *cond_json(const spf_condition_t *c)
{
	if (c == NULL || c->path == NULL || c->npath == 0)
		return json_null();
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:o}",
		"kind", c->kind == SPF_COND_DYNAMIC ? "dynamic" : c->kind ==
		SPF_COND_LIMIT ? "limit" : "error",
		"result", spf_result_str(c->result),
		"why", cmd_json_text(cond_words(c)),
		"term", cmd_json_text(c->path[c->npath - 1].term),
		"record", cmd_json_text(c->path[c->npath - 1].domain),
		"path", path_json(c->path, c->npath - 1));
}

static json_t *networks_json(const spf_lint_t *lint, const spf_networks_t *nw,
	bool draft)
{
	json_t *o = json_object(), *res = json_object(), *conds = json_array();
	const spf_path_step_t *dp;
	size_t ndp;
	spf_result_t d = spf_networks_default(nw, &dp, &ndp);

	if (o == NULL || res == NULL || conds == NULL) {
		json_decref(o);
		json_decref(res);
		json_decref(conds);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "domain", cmd_json_text(spf_lint_domain(lint)));
	json_object_set_new(o, "draft", json_boolean(draft));
	for (size_t r = 0; r < 4; r++) {
		json_t *x = json_object(), *list = json_array();

		json_object_set_new(x, "ipv4_addresses", json_integer((json_int_t)
			spf_networks_addresses(nw, results4[r], 4)));
		json_object_set_new(x, "ipv6_addresses", json_real(
			spf_networks_addresses(nw, results4[r], 6)));
		for (size_t i = 0; i < spf_networks_count(nw); i++) {
			const spf_network_t *n = spf_networks_get(nw, i);
			char nb[80];

			if (n->result != results4[r])
				continue;
			json_array_append_new(list, json_pack("{s:s,s:o,s:o,s:o,s:b}",
				"network", net_str(&n->addr, n->prefix, nb, sizeof(nb)),
				"term", cmd_json_text(n->path[n->npath - 1].term),
				"record", cmd_json_text(n->path[n->npath - 1].domain),
				"path", path_json(n->path, n->npath - 1),
				"past_limit", n->lookups > MAX_LOOKUPS));
		}
		json_object_set_new(x, "networks", list);
		json_object_set_new(res, spf_result_str(results4[r]), x);
	}
	json_object_set_new(o, "results", res);
	json_object_set_new(o, "default", json_pack("{s:s,s:o,s:o}", "result",
		spf_result_str(d), "term", cmd_json_text(dp ? dp[ndp - 1].term : NULL),
		"record", cmd_json_text(dp ? dp[ndp - 1].domain : NULL)));
	for (size_t i = 0; i < spf_networks_condition_count(nw); i++) {
		const spf_condition_t *c = spf_networks_condition(nw, i);

		json_array_append_new(conds, cond_json(c));
	}
	json_object_set_new(o, "conditions", conds);
	return o;
}

/* --ip: which term decides ip (into json when it is not NULL).
 * Returns the exit status. */
static int ip_answer(FILE *out, json_t *json, const spf_networks_t *nw,
	const spf_addr_t *ip)
{
	spf_networks_match_t m;
	const spf_path_step_t *dp, *p;
	size_t ndp, np;
	char ipb[64], nb[80];
	int rc;
	const char *decided;

	spf_networks_default(nw, &dp, &ndp);
	spf_networks_match(nw, ip, &m);
	spf_addr_str(ip, ipb, sizeof(ipb));
	p = m.network != NULL ? m.network->path : m.error != NULL ?
		m.error->path : dp;
	np = m.network != NULL ? m.network->npath : m.error != NULL ?
		m.error->npath : ndp;
	if (m.may != NULL) {
		rc = EXIT_DEPENDS;
		decided = "depends";
	} else if (m.error != NULL) {
		rc = spf_result_exit(m.result);
		decided = m.error->kind == SPF_COND_LIMIT ? "limit" : "error";
	} else if (m.network != NULL) {
		rc = spf_result_exit(m.result);
		decided = "term";
	} else {
		rc = EXIT_NO_TERM;
		decided = "default";
	}
	if (json != NULL) {
		json_object_set_new(json, "ip", json_string(ipb));
		json_object_set_new(json, "decided_by", json_string(decided));
		json_object_set_new(json, "result", json_string(spf_result_str(m.result)));
		json_object_set_new(json, "network", m.network != NULL ?
			json_string(net_str(&m.network->addr, m.network->prefix, nb,
			sizeof(nb))) : json_null());
		json_object_set_new(json, "term", cmd_json_text(p ? p[np - 1].term : NULL));
		json_object_set_new(json, "record", cmd_json_text(p ? p[np - 1].domain : NULL));
		json_object_set_new(json, "path", path_json(p, p ? np - 1 : 0));
		json_object_set_new(json, "error", m.error ? cond_json(m.error) : json_null());
		json_object_set_new(json, "depends_on", m.may ? cond_json(m.may) : json_null());
		return rc;
	}
	fprintf(out, "%s: ", ipb);
	if (m.may != NULL) {
		fputs("depends on the message: ", out);
		path_text(out, m.may->path, m.may->npath);
		if (m.may->result == SPF_RESULT_NONE)
			fputs(" comes first (if it matches, the include it is in "
				"does not); if it does not, ", out);
		else
			fprintf(out, " comes first (if it matches: %s); if it does "
				"not, ", spf_result_str(m.may->result));
	}
	if (m.error != NULL) {
		fprintf(out, "%s, at ", spf_result_str(m.result));
		path_text(out, p, np);
		fprintf(out, ": %s\n", cond_words(m.error));
	} else if (m.network != NULL) {
		fprintf(out, "%s, by ", spf_result_str(m.result));
		path_text(out, p, np);
		fprintf(out, " (%s)\n", net_str(&m.network->addr, m.network->prefix,
			nb, sizeof(nb)));
	} else {
		fprintf(out, "no term matches it; %s", spf_result_str(m.result));
		if (dp != NULL) {
			fputs(" by ", out);
			path_text(out, dp, ndp);
			fputc('\n', out);
		} else {
			fputs(", the default without all (RFC 7208 §4.7)\n", out);
		}
	}
	return rc;
}

int cmd_tree(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "providers", required_argument, NULL, 'P' },
		{ "networks", no_argument, NULL, 'N' },
		{ "ip", required_argument, NULL, 'i' },
		{ "format", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .cmd = "tree", .not_for = COMMON_EVAL_ONLY };
	spf_lint_request_t req = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_lint_t *lint = NULL;
	struct cmd_providers *prov = NULL;
	struct tree t = { 0 };
	const char *domain = NULL, *prov_file = NULL, *ip_arg = NULL;
	spf_networks_t *nw = NULL;
	spf_addr_t ip;
	bool networks = false, dot = false;
	enum cmd_format fmt = CMD_FMT_TEXT;
	const char *output = NULL;
	FILE *page = NULL;
	char why[256];
	char *owned = NULL;
	spf_lint_counts_t c;
	spf_status_t st;
	int opt, rc = EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		int r = cmd_draft_opt("tree", opt, optarg, &req.draft);

		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		r = common_opt(&co, opt, optarg);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (opt) {
		case 'd':
			domain = optarg;
			break;
		case 'P':
			prov_file = optarg;
			break;
		case 'N':
			networks = true;
			break;
		case 'i':
			ip_arg = optarg;
			break;
		case 'T':
			if (!cmd_parse_format(optarg, CMD_FMT_TEXT | CMD_FMT_DOT |
			    CMD_FMT_HTML, &fmt))
				return EXIT_USAGE;
			dot = fmt == CMD_FMT_DOT;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(tree_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("tree", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("tree", argc, argv, optind, 0, domain != NULL ? 0 : 1,
	    domain != NULL ? "no DOMAIN besides --domain" : "one DOMAIN"))
		return EXIT_USAGE;
	if (argc - optind == 1)
		domain = argv[optind];
	req.void_limit = co.void_limit;
	req.draft_len = req.draft != NULL ? strlen(req.draft) : 0;
	if (domain == NULL && req.draft == NULL) {
		cmd_error("tree needs DOMAIN or --record 'v=spf1 ...' (see spfcheck tree --help)");
		return EXIT_USAGE;
	}
	if (dot && (co.json || networks || ip_arg != NULL)) {
		cmd_error("--format dot draws the lookup-cost tree only: not with %s",
			co.json ? "--json" : ip_arg != NULL ? "--ip" : "--networks");
		return EXIT_USAGE;
	}
	if (fmt == CMD_FMT_HTML && (co.json || networks || ip_arg != NULL)) {
		cmd_error("--format html is a page of its own (the networks are on "
			"it): not with %s", co.json ? "--json" : ip_arg != NULL ?
			"--ip" : "--networks");
		return EXIT_USAGE;
	}
	if (output != NULL && fmt != CMD_FMT_HTML)
		return cmd_output_needs_html();
	if (ip_arg != NULL) {
		if (!cmd_client_ip(ip_arg, &ip, why, sizeof(why))) {
			cmd_error("--ip: %s", why);
			return EXIT_USAGE;
		}
		networks = true;
	}
	if (domain != NULL && (req.domain = cmd_domain_arg(domain, &owned)) == NULL)
		return EXIT_USAGE;
	if (!networks && !cmd_providers_load(prov_file, &prov))
		goto done;
	if (fmt == CMD_FMT_HTML && (page = cmd_html_open(output)) == NULL) {
		rc = EXIT_CANTCREAT;
		goto done;
	}
	if (!cmd_resolver(&co, &base, &res))
		goto done;
	lint = spf_lint_run(res, &req, &st);
	if (lint == NULL) {
		cmd_error("cannot walk the tree: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	t.lint = lint;
	t.prov = prov;
	t.void_limit = co.void_limit ? co.void_limit : 2;
	if (!tree_shape(&t)) {
		cmd_error("out of memory");
		rc = EXIT_INTERNAL;
		goto done;
	}
	spf_lint_counts(lint, &c);
	if (networks && spf_lint_top_state(lint) == SPF_LINT_STATE_OK) {
		st = spf_networks_run(lint, &nw);
		if (st != SPF_OK) {
			cmd_error("cannot list the networks: %s", spf_strerror(st));
			rc = EXIT_INTERNAL;
			goto done;
		}
		if (co.json) {
			json_t *o;

			rc = 0;
			if (ip_arg != NULL) {
				/* the answer alone */
				o = json_object();
				if (o != NULL) {
					json_object_set_new(o, "schema", json_integer(1));
					json_object_set_new(o, "domain",
						cmd_json_text(spf_lint_domain(lint)));
					json_object_set_new(o, "draft",
						json_boolean(req.draft != NULL));
					rc = ip_answer(stdout, o, nw, &ip);
				}
			} else {
				o = networks_json(lint, nw, req.draft != NULL);
			}
			if (o == NULL || cmd_json_print(o, false) != 0) {
				cmd_error("cannot format JSON output");
				rc = EXIT_INTERNAL;
			}
			json_decref(o);
		} else if (ip_arg != NULL) {
			rc = ip_answer(stdout, NULL, nw, &ip);
		} else {
			networks_text(stdout, lint, nw);
			rc = 0;
		}
		goto done;
	}
	rc = spf_lint_top_state(lint) != SPF_LINT_STATE_OK ? 2 :
		c.lookups > MAX_LOOKUPS || c.voids > t.void_limit ? 1 : 0;
	if (page != NULL) {
		if (!cmd_spf_page_html(page, lint, prov, co.void_limit, "tree"))
			rc = EXIT_INTERNAL;
		if (!cmd_html_close(page, output))
			rc = EXIT_CANTCREAT;
		page = NULL;
	} else if (co.json) {
		json_t *o = tree_json(&t, req.draft != NULL);

		if (o == NULL || cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else if (rc == 2) {
		static const char *const top[] = {
			[SPF_LINT_STATE_NONE] = "no SPF record (receivers give none)",
			[SPF_LINT_STATE_MULTI] = "more than one v=spf1 record: "
				"receivers give permerror",
			[SPF_LINT_STATE_TEMP] = "the TXT lookup failed: receivers "
				"give temperror",
			[SPF_LINT_STATE_SYNTAX] = "the record has syntax errors: "
				"receivers give permerror (see spfcheck lint)",
		};
		spf_lint_state_t s = spf_lint_top_state(lint);

		printf("%s: %s\n", spf_lint_domain(lint), s < sizeof(top) /
			sizeof(top[0]) && top[s] != NULL ? top[s] : "no usable record");
		if (spf_lint_top_state(lint) == SPF_LINT_STATE_SYNTAX)
			tree_text(stdout, &t);
	} else if (dot) {
		tree_dot(stdout, &t);
	} else {
		tree_text(stdout, &t);
	}
done:
	if (page != NULL && page != stdout)
		fclose(page);
	spf_networks_destroy(nw);
	spf_free(t.last);
	spf_free(t.bars);
	spf_lint_destroy(lint);
	cmd_resolver_free(base, res);
	cmd_providers_free(prov);
	spf_free(owned);
	return rc;
}

/* ---- HTML: lint's findings, the lookup-cost tree and the networks as
 * one page (issue 20; lint and tree --format html) ---- */

/* What fn(out, ...) writes for a path, as HTML text. */
static void html_path(FILE *o, const spf_path_step_t *p, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);

	if (mem == NULL)
		return;
	path_text(mem, p, n);
	fclose(mem);
	html_textn(o, buf, len);
	free(buf);
}

static void html_finding(FILE *o, const spf_lint_finding_t *f, size_t i)
{
	const char *sev = spf_lint_severity_str(f->severity);
	char *tip = NULL;
	size_t tlen = 0;
	FILE *t = open_memstream(&tip, &tlen);

	if (t != NULL) {
		fprintf(t, "%s[%s]: %s (%s%s)", sev, f->rule, f->message,
			f->section != NULL && strncmp(f->section, "RFC", 3) == 0 ?
			"" : "RFC 7208 §", f->section != NULL ? f->section : "");
		fclose(t);
	}
	fprintf(o, "<li class=\"finding\" id=\"f%zu\"><span class=\"sev s-%s\">%s"
		"</span> <code>", i + 1, sev, sev);
	html_text(o, f->rule);
	fputs("</code> in the record of <b>", o);
	html_text(o, f->domain);
	fputs("</b>", o);
	if (f->record != NULL) {
		size_t len = f->record_len, off = f->has_range ? f->offset : len,
			n = f->has_range ? f->len : 0;

		if (off > len)
			off = len;
		if (n > len - off)
			n = len - off;
		fputs("<pre class=\"record\">", o);
		html_textn(o, f->record, off);
		fprintf(o, "<a class=\"u s-%s\" href=\"#f%zu\" title=\"", sev, i + 1);
		if (tip != NULL)
			html_text(o, tip);
		fputs("\">", o);
		html_textn(o, f->record + off, n);
		fputs("</a>", o);
		html_textn(o, f->record + off + n, len - off - n);
		fputs("</pre>", o);
	}
	fputs("<div class=\"message\">", o);
	html_text(o, f->message);
	if (f->section != NULL) {
		fputs(" <span class=\"dim\">(", o);
		if (strncmp(f->section, "RFC", 3) != 0)
			fputs("RFC 7208 §", o);
		html_text(o, f->section);
		fputs(")</span>", o);
	}
	fputs("</div></li>\n", o);
	free(tip);
}

static void html_networks(FILE *o, const spf_networks_t *nw)
{
	const spf_path_step_t *dp;
	size_t ndp, nn = spf_networks_count(nw);
	spf_result_t d = spf_networks_default(nw, &dp, &ndp);

	fputs("<h2>Authorised networks</h2>\n<table class=\"networks\">\n<tr><th>"
		"result</th><th>network</th><th>term, through</th></tr>\n", o);
	for (size_t r = 0; r < 4; r++) {
		for (size_t i = 0; i < nn; i++) {
			const spf_network_t *x = spf_networks_get(nw, i);
			char nb[80];

			if (x->result != results4[r])
				continue;
			fputs("<tr><td>", o);
			html_result(o, spf_result_str(x->result));
			fprintf(o, "</td><td><code>%s</code></td><td><code>",
				net_str(&x->addr, x->prefix, nb, sizeof(nb)));
			html_path(o, x->path, x->npath);
			fputs("</code>", o);
			if (x->lookups > MAX_LOOKUPS)
				fputs(" <span class=\"over\">(past the lookup limit: "
					"permerror instead)</span>", o);
			fputs("</td></tr>\n", o);
		}
	}
	fputs("<tr><td>", o);
	html_result(o, spf_result_str(d));
	fputs("</td><td>every other address</td><td><code>", o);
	if (dp != NULL)
		html_path(o, dp, ndp);
	else
		fputs("no all and no redirect (RFC 7208 §4.7)", o);
	fputs("</code></td></tr>\n</table>\n", o);
}

/* The top record as published, and in words what the findings say of
 * it and its tree: clean when there are none. */
static void html_top(FILE *o, const spf_lint_t *lint, const unsigned n[3])
{
	static const char *const none[] = {
		[SPF_LINT_STATE_NONE] = "no v=spf1 record: receivers give none",
		[SPF_LINT_STATE_MULTI] = "more than one v=spf1 record: receivers "
			"give permerror (RFC 7208 §4.5)",
		[SPF_LINT_STATE_TEMP] = "the TXT lookup failed: receivers give "
			"temperror",
	};
	spf_lint_state_t s = spf_lint_top_state(lint);
	size_t len;
	const char *rec = spf_lint_top_record(lint, &len);

	fputs("<h2>Record</h2>\n", o);
	if (rec != NULL) {
		fputs("<pre class=\"record top\">", o);
		html_textn(o, rec, len);
		fputs("</pre>\n", o);
	} else {
		fprintf(o, "<p class=\"over\">%s</p>\n", s < sizeof(none) /
			sizeof(none[0]) && none[s] != NULL ? none[s] :
			"no usable record");
	}
	if (spf_lint_count(lint) == 0)
		fputs("<p class=\"clean\">Clean: no findings in this record or "
			"the records it includes.</p>\n", o);
	else if (n[2] == 0 && n[1] == 0)
		fputs("<p class=\"clean\">No errors and no warnings: only notes "
			"below.</p>\n", o);
}

bool cmd_spf_page_html(FILE *o, const spf_lint_t *lint,
	const struct cmd_providers *prov, unsigned void_limit, const char *cmd)
{
	struct tree t = { .lint = lint, .prov = prov,
		.void_limit = void_limit ? void_limit : 2 };
	spf_networks_t *nw = NULL;
	spf_lint_counts_t c;
	unsigned n[3] = { 0, 0, 0 };
	char *title = NULL;
	size_t tlen = 0;
	FILE *tf;
	bool ok = tree_shape(&t);

	spf_lint_counts(lint, &c);
	for (size_t i = 0; i < spf_lint_count(lint); i++)
		n[spf_lint_finding(lint, i)->severity]++;
	if (ok && spf_lint_top_state(lint) == SPF_LINT_STATE_OK &&
	    spf_networks_run(lint, &nw) != SPF_OK)
		nw = NULL;
	tf = open_memstream(&title, &tlen);
	if (tf != NULL) {
		fprintf(tf, "SPF record of %s: %u error%s, %u warning%s, %u DNS "
			"lookup%s (spfcheck %s)", spf_lint_domain(lint), n[2],
			n[2] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s", c.lookups,
			c.lookups == 1 ? "" : "s", cmd);
		fclose(tf);
	}
	html_begin(o, title != NULL ? title : "spfcheck", cmd);
	free(title);
	fputs("<header>\n<h1>SPF record of <code>", o);
	html_text(o, spf_lint_domain(lint));
	fputs("</code></h1>\n<p class=\"sub\">spfcheck lint and tree: the "
		"findings at their bytes (point at an underline for the rule), "
		"what each include costs against the limit of 10 DNS lookups "
		"(RFC 7208 §4.6.4), and the addresses each result is given "
		"to.</p>\n</header>\n<div class=\"cards\">\n", o);
	fprintf(o, "<div class=\"card%s\"><span>errors</span><b class=\"errors\">"
		"%u</b></div>\n<div class=\"card\"><span>warnings</span><b "
		"class=\"warnings\">%u</b></div>\n<div class=\"card\"><span>notes"
		"</span><b>%u</b></div>\n", n[2] ? " over" : "", n[2], n[1], n[0]);
	fprintf(o, "<div class=\"card%s\"><span>DNS lookups (RFC 7208 §4.6.4)"
		"</span><b class=\"lookups\">%u/%d</b></div>\n", c.lookups >
		MAX_LOOKUPS ? " over" : "", c.lookups, MAX_LOOKUPS);
	fprintf(o, "<div class=\"card%s\"><span>void lookups</span><b class="
		"\"voids\">%u/%u</b></div>\n<div class=\"card\"><span>records</span>"
		"<b>%u</b></div>\n</div>\n", c.voids > t.void_limit ? " over" : "",
		c.voids, t.void_limit, c.records);

	html_top(o, lint, n);
	fputs("<h2>Findings</h2>\n", o);
	if (spf_lint_count(lint) == 0)
		fputs("<p>No findings.</p>\n", o);
	else
		fputs("<ol class=\"findings\">\n", o);
	for (size_t i = 0; i < spf_lint_count(lint); i++)
		html_finding(o, spf_lint_finding(lint, i), i);
	if (spf_lint_count(lint) > 0)
		fputs("</ol>\n", o);

	fputs("<h2>Lookup cost</h2>\n", o);
	if (ok && t.n == 0)
		fputs("<p class=\"dim\">No term of the tree queries DNS: the "
			"record costs no lookups.</p>\n", o);
	else
		fputs("<table class=\"cost\">\n<tr><th>term</th><th>provider"
			"</th><th>own</th><th>tree</th><th>void</th><th>total</th>"
			"<th></th></tr>\n", o);
	for (size_t i = 0; ok && i < t.n; i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, i);
		const char *pn = e->mech == SPF_MECH_INCLUDE || e->is_redirect ?
			cmd_provider_name(prov, e->target) : NULL;
		const char *sw = state_words(e->state);
		bool over = e->number > MAX_LOOKUPS || t.over_void == i + 1;

		fprintf(o, "<tr%s><td style=\"padding-left:%.1frem\"><code>",
			over ? " class=\"over\"" : "", 0.5 + 1.2 * (e->depth >
			MAX_TREE_DEPTH ? MAX_TREE_DEPTH : e->depth));
		html_text(o, e->term);
		fputs("</code></td><td class=\"provider\">", o);
		html_text(o, pn);
		fprintf(o, "</td><td class=\"n\">1</td><td class=\"n\">%u</td><td "
			"class=\"n\">%u</td><td class=\"n\">%u</td><td>", e->subtree,
			e->voids, e->number);
		if (e->void4)
			fputs("void lookup ", o);
		if (sw != NULL)
			fprintf(o, "(%s) ", sw);
		if (e->number == t.over_lookup && t.over_lookup != 0)
			fprintf(o, "◀ lookup %u: past the limit of %d ", e->number,
				MAX_LOOKUPS);
		if (t.over_void == i + 1)
			fprintf(o, "◀ void lookup %u: past the limit of %u",
				t.void_limit + 1, t.void_limit);
		fputs("</td></tr>\n", o);
	}
	if (!ok || t.n > 0)
		fputs("</table>\n", o);
	if (nw != NULL)
		html_networks(o, nw);
	html_end(o);
	spf_networks_destroy(nw);
	spf_free(t.last);
	spf_free(t.bars);
	return ok;
}
