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
	COMMON_HELP_ZONE COMMON_HELP_DNS COMMON_HELP_JSON COMMON_HELP_VOID
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 within the limits, 1 past the lookup or void limit,\n"
	"2 no usable record at the top, 64 bad usage or input, 70 internal error\n";

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

int cmd_tree(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "providers", required_argument, NULL, 'P' },
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
	const char *domain = NULL, *prov_file = NULL;
	char *owned = NULL;
	spf_lint_counts_t c;
	spf_status_t st;
	int opt, rc = EXIT_USAGE;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
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
	if (domain != NULL && (req.domain = cmd_domain_arg(domain, &owned)) == NULL)
		return EXIT_USAGE;
	if (!cmd_providers_load(prov_file, &prov))
		goto done;
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
	rc = spf_lint_top_state(lint) != SPF_LINT_STATE_OK ? 2 :
		c.lookups > MAX_LOOKUPS || c.voids > t.void_limit ? 1 : 0;
	if (co.json) {
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
	} else {
		tree_text(stdout, &t);
	}
done:
	spf_free(t.last);
	spf_free(t.bars);
	spf_lint_destroy(lint);
	cmd_resolver_free(base, res);
	cmd_providers_free(prov);
	spf_free(owned);
	return rc;
}
