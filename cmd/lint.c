/*
 * lint.c - `spfcheck lint`: what is wrong with an SPF record, with
 * positions, before it is published.
 *
 * DESCRIPTION
 *	spfcheck lint DOMAIN                      the published record
 *	spfcheck lint --record 'v=spf1 ...' [--domain NAME]   a draft
 *	spfcheck lint --zone draft.zone DOMAIN    a draft zone, live DNS
 *	                                          (or --offline) for the rest
 *	Text output prints each finding compiler-style: the record, a line of
 *	^~~~ under the offending bytes, then "severity[RULE]: message
 *	(RFC 7208 §x)".  --json prints the findings, counts and the lookup
 *	table as one object.
 *
 *	Exit status: 0 clean (or warnings without --strict), 1 warnings with
 *	--strict, 2 errors, 64 bad usage or input, 70 internal error.
 *
 * DIAGNOSTICS
 *	One line on stderr for bad input (a domain that is not a name, a
 *	missing argument, an unreadable zone file), exit 64.
 */
#include "cmd.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char lint_usage[] =
	"usage: spfcheck lint [options] DOMAIN\n"
	"       spfcheck lint [options] --record 'v=spf1 ...' [--domain NAME]\n"
	"\n"
	"Check the SPF record of DOMAIN (published, or from --zone files) or a\n"
	"draft record, and the whole include/redirect tree behind it: syntax,\n"
	"lookup and void-lookup limits (counted to the end, past the limit),\n"
	"record size, loops, targets without records, IPv6 readiness, risky\n"
	"or useless terms.  Each finding has a rule id (doc/lint-rules.md).\n"
	"\n"
	"options:\n"
	"  --record TEXT           lint TEXT, a draft v=spf1 record, instead of\n"
	"                          the published one (DOMAIN=TEXT works as for\n"
	"                          check: a TXT record for another name)\n"
	"  --domain NAME           the domain the draft is for (default\n"
	"                          draft.invalid); same as giving DOMAIN\n"
	"  --strict                exit 1 when there are warnings\n"
	"  --providers FILE        with --format html: provider names for the\n"
	"                          lookup-cost tree from FILE (default: the\n"
	"                          installed providers.txt, or $SPFCHECK_PROVIDERS)\n"
	CMD_FORMAT_HTML_HELP("the findings, the lookup-cost tree and the\n"
	"                          authorised networks")
	COMMON_HELP_ZONE COMMON_HELP_DNS COMMON_HELP_JSON COMMON_HELP_VOID
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 clean, 1 warnings (with --strict), 2 errors,\n"
	"64 bad usage or input, 70 internal error\n";

static json_t *lint_json(const spf_lint_t *lint, bool draft, unsigned n[3])
{
	json_t *o = json_object(), *fs = json_array(), *ls = json_array();

	if (o == NULL || fs == NULL || ls == NULL) {
		json_decref(o);
		json_decref(fs);
		json_decref(ls);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "domain", json_string(spf_lint_domain(lint)));
	json_object_set_new(o, "draft", json_boolean(draft));
	json_object_set_new(o, "errors", json_integer(n[SPF_LINT_ERROR]));
	json_object_set_new(o, "warnings", json_integer(n[SPF_LINT_WARNING]));
	/* the word of the text output (before schema 1: "infos") */
	json_object_set_new(o, "notes", json_integer(n[SPF_LINT_INFO]));
	json_object_set_new(o, "counts", cmd_lint_counts_json(lint));
	for (size_t i = 0; i < spf_lint_lookup_count(lint); i++) {
		const spf_lint_lookup_t *e = spf_lint_lookup(lint, i);
		json_t *x = json_pack("{s:i,s:s,s:s,s:i,s:i,s:b,s:b}",
			"number", (int)e->number, "domain", e->domain,
			"term", e->term, "depth", (int)e->depth,
			"cost", (int)e->subtree, "void", e->void4,
			"void_ipv6", e->void6);

		json_array_append_new(ls, x);
	}
	json_object_set_new(o, "lookups", ls);
	for (size_t i = 0; i < spf_lint_count(lint); i++)
		json_array_append_new(fs, cmd_finding_json(spf_lint_finding(lint, i)));
	json_object_set_new(o, "findings", fs);
	return o;
}

int cmd_lint(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "strict", no_argument, NULL, 's' },
		{ "providers", required_argument, NULL, 'P' },
		{ "format", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .cmd = "lint", .not_for = COMMON_EVAL_ONLY };
	spf_lint_request_t req = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_lint_t *lint = NULL;
	const char *domain = NULL;
	char *owned = NULL;
	bool strict = false;
	enum cmd_format fmt = CMD_FMT_TEXT;
	const char *output = NULL, *prov_file = NULL;
	FILE *page = NULL;
	struct cmd_providers *prov = NULL;
	unsigned n[3] = { 0, 0, 0 };
	spf_status_t st;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		int c = cmd_draft_opt("lint", opt, optarg, &req.draft);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		c = common_opt(&co, opt, optarg);
		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 'd':
			domain = optarg;
			break;
		case 's':
			strict = true;
			break;
		case 'P':
			prov_file = optarg;
			break;
		case 'T':
			if (!cmd_parse_format(optarg, CMD_FMT_TEXT | CMD_FMT_HTML, &fmt))
				return EXIT_USAGE;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(lint_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("lint", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("lint", argc, argv, optind, 0, domain != NULL ? 0 : 1,
	    domain != NULL ? "no DOMAIN besides --domain" : "one DOMAIN"))
		return EXIT_USAGE;
	if (argc - optind == 1)
		domain = argv[optind];
	req.void_limit = co.void_limit;
	req.draft_len = req.draft != NULL ? strlen(req.draft) : 0;
	if (domain == NULL && req.draft == NULL) {
		cmd_error("lint needs DOMAIN or --record 'v=spf1 ...' (see spfcheck lint --help)");
		return EXIT_USAGE;
	}
	if (fmt == CMD_FMT_HTML && co.json) {
		cmd_error("--format html is a page of its own: not with --json");
		return EXIT_USAGE;
	}
	if (output != NULL && fmt != CMD_FMT_HTML)
		return cmd_output_needs_html();
	if (prov_file != NULL && fmt != CMD_FMT_HTML) {
		cmd_error("--providers names the providers in the HTML page's "
			"tree: give --format html (or use spfcheck tree)");
		return EXIT_USAGE;
	}
	if (domain != NULL && (req.domain = cmd_domain_arg(domain, &owned)) == NULL)
		return EXIT_USAGE;
	/* the page names the providers, as tree does */
	if (fmt == CMD_FMT_HTML && !cmd_providers_load(prov_file, &prov)) {
		spf_free(owned);
		return EXIT_USAGE;
	}
	if (fmt == CMD_FMT_HTML && (page = cmd_html_open(output)) == NULL) {
		cmd_providers_free(prov);
		spf_free(owned);
		return EXIT_CANTCREAT;
	}
	if (!cmd_resolver(&co, &base, &res)) {
		rc = EXIT_USAGE;
		goto done;
	}
	lint = spf_lint_run(res, &req, &st);
	if (lint == NULL) {
		cmd_error("cannot lint: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	for (size_t i = 0; i < spf_lint_count(lint); i++)
		n[spf_lint_finding(lint, i)->severity]++;
	rc = n[SPF_LINT_ERROR] ? 2 : strict && n[SPF_LINT_WARNING] ? 1 : 0;
	if (page != NULL) {
		if (!cmd_spf_page_html(page, lint, prov, co.void_limit, "lint"))
			rc = EXIT_INTERNAL;
		if (!cmd_html_close(page, output))
			rc = EXIT_CANTCREAT;
		page = NULL;
	} else if (co.json) {
		json_t *o = lint_json(lint, req.draft != NULL, n);

		if (o == NULL || cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else {
		spf_lint_counts_t c;

		spf_lint_counts(lint, &c);
		for (size_t i = 0; i < spf_lint_count(lint); i++)
			cmd_finding_print(stdout, spf_lint_finding(lint, i));
		printf("%s: %u error%s, %u warning%s, %u note%s; %u record%s, "
			"%u DNS lookup%s (limit 10), %u void (limit %u; %u per "
			"query, IPv6 client %u/%u)\n", spf_lint_domain(lint),
			n[2], n[2] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s",
			n[0], n[0] == 1 ? "" : "s", c.records,
			c.records == 1 ? "" : "s", c.lookups,
			c.lookups == 1 ? "" : "s", c.voids,
			req.void_limit ? req.void_limit : 2, c.voids_query,
			c.voids6, c.voids6_query);
	}
done:
	if (page != NULL && page != stdout)
		fclose(page);
	cmd_providers_free(prov);
	spf_lint_destroy(lint);
	cmd_resolver_free(base, res);
	spf_free(owned);
	return rc;
}
