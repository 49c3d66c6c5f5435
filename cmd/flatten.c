/*
 * flatten.c - `spfcheck flatten DOMAIN`: the record tree of DOMAIN as a
 * chain of ip4/ip6 records, printed as zone-file lines, and checked.
 *
 * DESCRIPTION
 *	Lints DOMAIN (evaluator/lint/lint.c walks the tree), flattens it
 *	(evaluator/lint/flatten.c), then verifies: a sample of addresses inside
 *	and outside every network is evaluated against the original records
 *	and again with the flattened records in the zone overlay; every
 *	address must get the same result.  Addresses for which the original
 *	tree hits a processing limit (10 lookups or the void limit, RFC 7208
 *	§4.6.4, both alike) are reported apart (the flattened records fix
 *	those).
 *
 *	Exit status: 0 flattened and verified, 1 the verification found a
 *	difference, 2 the tree cannot be flattened (a permerror or temperror
 *	in it), 64 bad usage or input, 70 internal error.
 *
 * DIAGNOSTICS
 *	One line on stderr for bad input, exit 64.
 */
#include "cmd.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAMPLES 4096

static const char flatten_usage[] =
	"usage: spfcheck flatten [options] DOMAIN\n"
	"\n"
	"Resolve the include, a and mx terms of DOMAIN's SPF tree into ip4/ip6\n"
	"networks (an include contributes only the addresses it passes),\n"
	"aggregated to the fewest CIDRs, and print the result as zone-file\n"
	"lines: a chain of TXT records with strings of at most 255 bytes and\n"
	"answers under 450 bytes.  exists, ptr and macro terms are kept as they\n"
	"are.  The result is verified by evaluating addresses inside and\n"
	"outside every network against the original and the flattened records.\n"
	"\n"
	"options:\n"
	"  --prefix LABEL          names of the parts: LABELn.DOMAIN (default _spf)\n"
	"  --max-answer BYTES      answer size to stay under (default 450)\n"
	"  --ttl SECONDS           TTL printed on the zone lines (default 3600)\n"
	"  --no-verify             do not evaluate the sample addresses\n"
	COMMON_HELP_ZONE COMMON_HELP_RECORD COMMON_HELP_DNS COMMON_HELP_JSON
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 flattened and verified, 1 verification found a\n"
	"difference, 2 cannot be flattened, 64 bad usage or input, 70 internal\n";

/* A zone-file character-string: quotes and backslashes escaped. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	spf_escape_write(out, s, strlen(s), SPF_ESC_ZONE);
	fputc('"', out);
}

struct verify {
	size_t n, agree, limit;
	size_t ndiff;
	char diffs[8][160];
};

static bool verify(spf_resolver_t *res, const char *domain,
	const spf_flat_t *flat, struct verify *v)
{
	size_t n = 0;
	spf_addr_t *ips = spf_flat_samples(flat, MAX_SAMPLES, &n);
	spf_result_t *old = spf_calloc(n + 1, sizeof(*old));
	spf_result_t *new = spf_calloc(n + 1, sizeof(*new));
	bool *limit = spf_calloc(n + 1, sizeof(*limit));
	bool ok = false;

	memset(v, 0, sizeof(*v));
	if (ips == NULL || old == NULL || new == NULL || limit == NULL)
		goto done;
	if (spf_eval_many(res, domain, ips, n, old, limit) != SPF_OK)
		goto done;
	for (size_t i = 0; i < spf_flat_record_count(flat); i++) {
		const spf_flat_record_t *r = spf_flat_record(flat, i);

		if (spf_zone_replace_txt(spf_resolver_zone(res), r->name, r->text,
		    strlen(r->text)) != SPF_OK)
			goto done;
	}
	if (spf_eval_many(res, domain, ips, n, new, NULL) != SPF_OK)
		goto done;
	v->n = n;
	for (size_t i = 0; i < n; i++) {
		char buf[64];

		if (old[i] == new[i]) {
			v->agree++;
			continue;
		}
		if (limit[i]) {
			v->limit++;
			continue;
		}
		if (v->ndiff < 8)
			snprintf(v->diffs[v->ndiff], sizeof(v->diffs[0]), "%s: %s -> %s",
				spf_addr_str(&ips[i], buf, sizeof(buf)),
				spf_result_str(old[i]), spf_result_str(new[i]));
		v->ndiff++;
	}
	ok = true;
done:
	spf_free(ips);
	spf_free(old);
	spf_free(new);
	spf_free(limit);
	return ok;
}

int cmd_flatten(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "prefix", required_argument, NULL, 'p' },
		{ "max-answer", required_argument, NULL, 'm' },
		{ "ttl", required_argument, NULL, 't' },
		{ "no-verify", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .cmd = "flatten",
		.not_for = COMMON_EVAL_ONLY | COMMON_BIT(1014) };
	spf_lint_request_t req = { 0 };
	spf_flatten_opts_t fo = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_lint_t *lint = NULL;
	spf_flat_t *flat = NULL;
	struct verify v = { 0 };
	bool do_verify = true, verified = false;
	unsigned long ttl = 3600;
	char *owned = NULL;
	char why[SPF_FLATTEN_WHY_SIZE];
	spf_status_t st;
	int opt, rc = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = common_opt(&co, opt, optarg);
		char *end;

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 'p':
			if (*optarg == '\0' || strchr(optarg, '.') || strchr(optarg, ' ') ||
			    strlen(optarg) > 40) {
				cmd_error("--prefix must be one DNS label, e.g. _spf");
				return EXIT_USAGE;
			}
			fo.prefix = optarg;
			break;
		case 'm':
			fo.max_answer = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || fo.max_answer < 200 ||
			    fo.max_answer > 65535) {
				cmd_error("--max-answer must be a number of bytes from 200 to 65535");
				return EXIT_USAGE;
			}
			break;
		case 't':
			ttl = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || ttl > 2147483647UL) {
				cmd_error("--ttl must be a number of seconds");
				return EXIT_USAGE;
			}
			break;
		case 'n':
			do_verify = false;
			break;
		case 'h':
			fputs(flatten_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("flatten", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("flatten", argc, argv, optind, 1, 1, "one DOMAIN"))
		return EXIT_USAGE;
	if ((req.domain = cmd_domain_arg(argv[optind], &owned)) == NULL)
		return EXIT_USAGE;
	if (!cmd_resolver(&co, &base, &res)) {
		spf_free(owned);
		return EXIT_USAGE;
	}
	lint = spf_lint_run(res, &req, &st);
	if (lint == NULL) {
		cmd_error("cannot flatten: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	st = spf_flatten(lint, &fo, &flat, why, sizeof(why));
	if (st == SPF_EINVAL) {
		cmd_error("cannot flatten %s: %s", req.domain, why[0] ? why : "invalid tree");
		rc = 2;
		goto done;
	}
	if (st != SPF_OK) {
		cmd_error("cannot flatten: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	if (do_verify) {
		if (!verify(res, spf_lint_domain(lint), flat, &v)) {
			cmd_error("cannot verify: out of memory");
			rc = EXIT_INTERNAL;
			goto done;
		}
		verified = true;
		if (v.ndiff > 0)
			rc = 1;
	}
	if (co.json) {
		spf_lint_counts_t c;
		json_t *o = json_object(), *recs = json_array(), *ws = json_array();

		spf_lint_counts(lint, &c);
		for (size_t i = 0; i < spf_flat_record_count(flat); i++) {
			const spf_flat_record_t *r = spf_flat_record(flat, i);
			json_t *ss = json_array();

			for (size_t k = 0; k < r->nstrings; k++)
				json_array_append_new(ss, json_string(r->strings[k]));
			json_array_append_new(recs, json_pack("{s:s,s:s,s:o,s:i}",
				"name", r->name, "text", r->text, "strings", ss,
				"answer_bytes", (int)r->answer_size));
		}
		for (size_t i = 0; i < spf_flat_warning_count(flat); i++)
			json_array_append_new(ws, json_string(spf_flat_warning(flat, i)));
		json_object_set_new(o, "schema", json_integer(1));
		json_object_set_new(o, "domain", json_string(spf_lint_domain(lint)));
		json_object_set_new(o, "records", recs);
		json_object_set_new(o, "warnings", ws);
		json_object_set_new(o, "lookups_before", json_integer(c.lookups));
		json_object_set_new(o, "lookups_after", json_integer(spf_flat_lookups(flat)));
		if (verified) {
			json_t *d = json_array();

			for (size_t i = 0; i < v.ndiff && i < 8; i++)
				json_array_append_new(d, json_string(v.diffs[i]));
			json_object_set_new(o, "verify", json_pack("{s:i,s:i,s:i,s:i,s:o,s:b}",
				"addresses", (int)v.n, "agree", (int)v.agree,
				"original_over_limit", (int)v.limit,
				"differ", (int)v.ndiff, "differences", d,
				"ok", v.ndiff == 0));
		}
		if (cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else {
		spf_lint_counts_t c;

		spf_lint_counts(lint, &c);
		for (size_t i = 0; i < spf_flat_record_count(flat); i++) {
			const spf_flat_record_t *r = spf_flat_record(flat, i);

			printf("%s.\t%lu\tIN\tTXT\t", r->name, ttl);
			for (size_t k = 0; k < r->nstrings; k++) {
				if (k > 0)
					fputc(' ', stdout);
				put_string(stdout, r->strings[k]);
			}
			printf("\t; %zu bytes\n", r->answer_size);
		}
		for (size_t i = 0; i < spf_flat_warning_count(flat); i++)
			printf("; warning: %s\n", spf_flat_warning(flat, i));
		printf("; DNS lookups: %u before, %u after\n", c.lookups,
			spf_flat_lookups(flat));
		if (verified) {
			printf("; verified: %zu addresses, %zu agree, %zu differ", v.n,
				v.agree, v.ndiff);
			if (v.limit > 0)
				printf(", %zu where the original hits a lookup or "
					"void-lookup limit (permerror; the flattened "
					"records fix it)", v.limit);
			printf(" - %s\n", v.ndiff == 0 ? "OK" : "DIFFERENT");
			for (size_t i = 0; i < v.ndiff && i < 8; i++)
				printf(";   %s\n", v.diffs[i]);
		}
	}
done:
	spf_flat_destroy(flat);
	spf_lint_destroy(lint);
	cmd_resolver_free(base, res);
	spf_free(owned);
	return rc;
}
