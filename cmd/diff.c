/*
 * diff.c - `spfcheck diff DOMAIN --record 'v=spf1 ...'` (or --zone
 * draft.zone): what changes if the draft is published.
 *
 * DESCRIPTION
 *	Two worlds are built: the current one (live DNS, or --current zone
 *	files standing in for it) and the draft one (the same, with the
 *	draft record as DOMAIN's TXT record, or the draft zone's TXT records
 *	replacing the current ones at every name of the SPF tree).  Both
 *	trees are linted and flattened; the output lists the networks added
 *	and removed per result (pass, fail, softfail, neutral), the change
 *	of the default result, of the DNS-lookup and void-lookup counts, of
 *	the lint findings' severities, and, with --ips FILE, every address
 *	whose result changes, old -> new.
 *
 *	Exit status: 0 done (whatever changed), 2 a tree could not be
 *	compared (see lint), 64 bad usage or input, 70 internal error.
 *
 * DIAGNOSTICS
 *	One line on stderr for bad input: a bad address in the --ips file
 *	names the file and line.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IPS 100000

static const char diff_usage[] =
	"usage: spfcheck diff [options] DOMAIN --record 'v=spf1 ...'\n"
	"       spfcheck diff [options] DOMAIN --zone draft.zone\n"
	"\n"
	"Show what publishing a draft changes: networks added and removed per\n"
	"result, the default result, DNS-lookup and void-lookup counts, and\n"
	"with --ips FILE every listed address whose result changes.\n"
	"\n"
	"options:\n"
	"  --record TEXT           the draft record for DOMAIN\n"
	"  --zone FILE             a draft zone file: for each name and type its\n"
	"                          records replace the current ones\n"
	"  --current FILE          a zone file standing in for the published DNS\n"
	"                          (repeatable; with --offline nothing else is asked)\n"
	"  --ips FILE              sending addresses, one per line ('#' comments)\n"
	COMMON_HELP_DNS COMMON_HELP_JSON
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 compared, 2 a tree cannot be compared, 64 bad usage or\n"
	"input, 70 internal error\n";

struct world {
	struct event_base *base;
	spf_resolver_t *res;
	spf_lint_t *lint;
	spf_flat_t *flat;
	char why[SPF_FLATTEN_WHY_SIZE];   /* when flat is NULL */
	unsigned sev[3];
};

static void world_free(struct world *w)
{
	spf_flat_destroy(w->flat);
	spf_lint_destroy(w->lint);
	cmd_resolver_free(w->base, w->res);
}

/* Read --ips: one address per line. */
static spf_addr_t *read_ips(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	spf_addr_t *ips = NULL;
	size_t cap = 0, lineno = 0;
	char line[512];

	*n = 0;
	if (fp == NULL) {
		cmd_error("cannot read --ips %s: %s", path, strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *s = line, *e;

		lineno++;
		while (*s == ' ' || *s == '\t')
			s++;
		for (e = s; *e && *e != '#' && *e != '\n' && *e != '\r' &&
		    *e != ' ' && *e != '\t'; e++)
			;
		if (e == s)
			continue;
		*e = '\0';
		if (*n == cap) {
			spf_addr_t *p;

			cap = cap ? cap * 2 : 64;
			p = *n >= MAX_IPS ? NULL : spf_realloc(ips, cap * sizeof(*ips));
			if (p == NULL) {
				cmd_error("--ips %s: too many addresses (at most %d)",
					path, MAX_IPS);
				goto fail;
			}
			ips = p;
		}
		if (!spf_addr_parse(s, &ips[*n])) {
			char buf[128];

			cmd_error("--ips %s:%zu: '%s' is not an IPv4 or IPv6 address",
				path, lineno, cmd_printable(s, buf, sizeof(buf)));
			goto fail;
		}
		(*n)++;
	}
	fclose(fp);
	if (ips == NULL)
		ips = spf_calloc(1, sizeof(*ips));
	return ips;
fail:
	fclose(fp);
	spf_free(ips);
	return NULL;
}

/* Does every TXT record of a appear in b? */
static bool same_txt(const spf_dns_answer_t *a, const spf_dns_answer_t *b)
{
	for (size_t i = 0; i < spf_dns_answer_count(a); i++) {
		const spf_dns_rr_t *x = spf_dns_answer_rr(a, i);
		bool found = false;

		for (size_t j = 0; j < spf_dns_answer_count(b) && !found; j++) {
			const spf_dns_rr_t *y = spf_dns_answer_rr(b, j);

			found = x->u.txt.len == y->u.txt.len &&
			    memcmp(x->u.txt.data, y->u.txt.data, x->u.txt.len) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

/* Make the draft zone's TXT records win at name in w's overlay. */
static bool override_txt(spf_zone_t *draft, spf_zone_t *dst, const char *name,
	bool *changed)
{
	spf_dns_answer_t *a;
	bool ok = true;

	if (!spf_zone_has_name(draft, name))
		return true;
	a = spf_zone_lookup(draft, name, SPF_RR_TXT);
	if (a == NULL)
		return false;
	if (spf_dns_answer_status(a) == SPF_DNS_OK) {
		size_t cnt = spf_dns_answer_count(a);
		spf_dns_answer_t *cur = spf_zone_lookup(dst, name, SPF_RR_TXT);

		/* already the draft's records? */
		if (cur != NULL && spf_dns_answer_status(cur) == SPF_DNS_OK &&
		    spf_dns_answer_count(cur) == cnt && same_txt(a, cur)) {
			spf_dns_answer_unref(cur);
			spf_dns_answer_unref(a);
			return true;
		}
		spf_dns_answer_unref(cur);
		*changed = true;
		for (size_t i = 0; i < cnt && ok; i++) {
			const spf_dns_rr_t *rr = spf_dns_answer_rr(a, i);

			if (i == 0)
				ok = spf_zone_replace_txt(dst, name,
					(const char *)rr->u.txt.data, rr->u.txt.len) == SPF_OK;
			else
				ok = spf_zone_add(dst, name, rr) == SPF_OK;
		}
	}
	spf_dns_answer_unref(a);
	return ok;
}

static bool build(struct world *w, const struct common_opts *co,
	const char *domain, const char *draft, const char *const *dzones,
	int ndz)
{
	spf_lint_request_t req = { .domain = domain };
	spf_status_t st;
	spf_zone_t *dz = NULL;

	if (!cmd_resolver(co, &w->base, &w->res))
		return false;
	if (draft != NULL && spf_zone_replace_txt(spf_resolver_zone(w->res),
	    domain, draft, strlen(draft)) != SPF_OK) {
		cmd_error("cannot use the draft record: out of memory");
		return false;
	}
	if (ndz > 0) {
		dz = spf_zone_create();
		for (int i = 0; dz != NULL && i < ndz; i++) {
			char *msg = NULL;

			st = spf_zone_load_file(dz, dzones[i], NULL, &msg);
			if (st == SPF_OK)
				st = spf_zone_load_file(spf_resolver_zone(w->res),
					dzones[i], NULL, NULL);
			if (st != SPF_OK) {
				cmd_error("cannot load zone file: %s",
					msg ? msg : spf_strerror(st));
				spf_free(msg);
				spf_zone_destroy(dz);
				return false;
			}
		}
		if (dz == NULL) {
			cmd_error("out of memory");
			return false;
		}
	}
	/* the draft zone's TXT records replace the current ones at every
	 * name of the tree; repeat while that changes the tree */
	for (int round = 0; round < 8; round++) {
		bool changed = false;

		spf_lint_destroy(w->lint);
		w->lint = spf_lint_run(w->res, &req, &st);
		if (w->lint == NULL) {
			cmd_error("cannot lint: %s", spf_strerror(st));
			spf_zone_destroy(dz);
			return false;
		}
		if (dz == NULL)
			break;
		if (!override_txt(dz, spf_resolver_zone(w->res), domain, &changed))
			break;
		for (size_t i = 0; spf_lint_record_domain(w->lint, i) != NULL; i++)
			if (!override_txt(dz, spf_resolver_zone(w->res),
			    spf_lint_record_domain(w->lint, i), &changed))
				break;
		if (!changed)
			break;
	}
	spf_zone_destroy(dz);
	for (size_t i = 0; i < spf_lint_count(w->lint); i++)
		w->sev[spf_lint_finding(w->lint, i)->severity]++;
	st = spf_flatten(w->lint, NULL, &w->flat, w->why, sizeof(w->why));
	if (st == SPF_ENOMEM) {
		cmd_error("out of memory");
		return false;
	}
	return true;
}

static const spf_result_t results[4] = {
	SPF_RESULT_PASS, SPF_RESULT_FAIL, SPF_RESULT_SOFTFAIL, SPF_RESULT_NEUTRAL,
};

/* "lint: 0 errors, 2 warnings -> 0 errors, 1 warning" */
static void print_lint_counts(const struct world *old, const struct world *new)
{
	unsigned oe = old->sev[SPF_LINT_ERROR], ow = old->sev[SPF_LINT_WARNING];
	unsigned ne = new->sev[SPF_LINT_ERROR], nw = new->sev[SPF_LINT_WARNING];

	printf("lint:          %u error%s, %u warning%s -> %u error%s, %u warning%s\n",
		oe, oe == 1 ? "" : "s", ow, ow == 1 ? "" : "s",
		ne, ne == 1 ? "" : "s", nw, nw == 1 ? "" : "s");
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "current", required_argument, NULL, 'c' },
		{ "ips", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .cmd = "diff",
		.not_for = COMMON_EVAL_ONLY | COMMON_BIT(1014) };
	struct world old = { 0 }, new = { 0 };
	const char *dzones[MAX_ZONES];
	int ndz = 0;
	const char *draft = NULL, *ips_path = NULL, *domain;
	char *owned = NULL;
	spf_addr_t *ips = NULL;
	size_t nips = 0;
	spf_result_t *r_old = NULL, *r_new = NULL;
	spf_lint_counts_t co_old, co_new;
	json_t *o = NULL;
	int opt, rc = 0;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = cmd_draft_opt("diff", opt, optarg, &draft);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		if (opt == 1001) {   /* --zone: the draft zone */
			if (ndz >= MAX_ZONES) {
				cmd_error("too many --zone options (at most %d)", MAX_ZONES);
				return EXIT_USAGE;
			}
			dzones[ndz++] = optarg;
			continue;
		}
		if (opt == 'c')
			opt = 1001;  /* --current: the published world */
		c = common_opt(&co, opt, optarg);
		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 'i':
			ips_path = optarg;
			break;
		case 'h':
			fputs(diff_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("diff", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("diff", argc, argv, optind, 1, 1, "one DOMAIN"))
		return EXIT_USAGE;
	if (draft == NULL && ndz == 0) {
		cmd_error("diff needs a draft: --record 'v=spf1 ...' or --zone FILE");
		return EXIT_USAGE;
	}
	if ((domain = cmd_domain_arg(argv[optind], &owned)) == NULL)
		return EXIT_USAGE;
	if (ips_path != NULL && (ips = read_ips(ips_path, &nips)) == NULL) {
		spf_free(owned);
		return EXIT_USAGE;
	}
	if (!build(&old, &co, domain, NULL, NULL, 0) ||
	    !build(&new, &co, domain, draft, dzones, ndz)) {
		rc = EXIT_USAGE;
		goto done;
	}
	spf_lint_counts(old.lint, &co_old);
	spf_lint_counts(new.lint, &co_new);
	if (nips > 0) {
		r_old = spf_calloc(nips, sizeof(*r_old));
		r_new = spf_calloc(nips, sizeof(*r_new));
		if (r_old == NULL || r_new == NULL ||
		    spf_eval_many(old.res, domain, ips, nips, r_old, NULL) != SPF_OK ||
		    spf_eval_many(new.res, domain, ips, nips, r_new, NULL) != SPF_OK) {
			cmd_error("cannot evaluate --ips: out of memory");
			rc = EXIT_INTERNAL;
			goto done;
		}
	}
	if (co.json) {
		o = json_object();
		json_object_set_new(o, "schema", json_integer(1));
		json_object_set_new(o, "domain", json_string(domain));
		json_object_set_new(o, "before", cmd_lint_counts_json(old.lint));
		json_object_set_new(o, "after", cmd_lint_counts_json(new.lint));
		json_object_set_new(o, "errors_before", json_integer(old.sev[SPF_LINT_ERROR]));
		json_object_set_new(o, "errors_after", json_integer(new.sev[SPF_LINT_ERROR]));
	} else {
		printf("%s: current -> draft\n", domain);
		printf("DNS lookups:   %u -> %u (limit 10)\n", co_old.lookups, co_new.lookups);
		printf("void lookups:  %u -> %u (limit 2; per query %u -> %u; IPv6 client %u -> %u)\n",
			co_old.voids, co_new.voids, co_old.voids_query,
			co_new.voids_query, co_old.voids6, co_new.voids6);
		print_lint_counts(&old, &new);
	}
	if (old.flat == NULL || new.flat == NULL) {
		const char *why = old.flat == NULL ? old.why : new.why;

		if (o != NULL)
			json_object_set_new(o, "networks_error", json_string(why[0] ? why : "?"));
		else
			printf("networks:      cannot compare: %s (%s)\n",
				why[0] ? why : "?", old.flat == NULL ? "current" : "draft");
		rc = 2;
	} else {
		json_t *nets = o ? json_object() : NULL;

		if (o != NULL) {
			json_object_set_new(o, "default_before",
				json_string(spf_result_str(spf_flat_default(old.flat))));
			json_object_set_new(o, "default_after",
				json_string(spf_result_str(spf_flat_default(new.flat))));
		} else if (spf_flat_default(old.flat) != spf_flat_default(new.flat)) {
			printf("default:       %s -> %s\n",
				spf_result_str(spf_flat_default(old.flat)),
				spf_result_str(spf_flat_default(new.flat)));
		} else {
			printf("default:       %s (unchanged)\n",
				spf_result_str(spf_flat_default(new.flat)));
		}
		for (int q = 0; q < 4; q++) {
			const char *const *ad, *const *rm;
			size_t nad, nrm;

			if (spf_flat_compare(old.flat, new.flat, results[q], &ad, &nad,
			    &rm, &nrm) != SPF_OK) {
				cmd_error("out of memory");
				rc = EXIT_INTERNAL;
				json_decref(nets);
				goto done;
			}
			if (o != NULL) {
				json_t *a = json_array(), *r = json_array();

				for (size_t i = 0; i < nad; i++)
					json_array_append_new(a, json_string(ad[i]));
				for (size_t i = 0; i < nrm; i++)
					json_array_append_new(r, json_string(rm[i]));
				json_object_set_new(nets, spf_result_str(results[q]),
					json_pack("{s:o,s:o}", "added", a, "removed", r));
				continue;
			}
			for (size_t i = 0; i < nad; i++)
				printf("%-14s + %s\n", i == 0 ? spf_result_str(results[q]) : "", ad[i]);
			for (size_t i = 0; i < nrm; i++)
				printf("%-14s - %s\n", i == 0 && nad == 0 ?
					spf_result_str(results[q]) : "", rm[i]);
		}
		if (o != NULL)
			json_object_set_new(o, "networks", nets);
	}
	if (nips > 0) {
		size_t changed = 0;
		json_t *arr = o ? json_array() : NULL;

		for (size_t i = 0; i < nips; i++)
			changed += r_old[i] != r_new[i];
		if (o == NULL)
			printf("addresses:     %zu of %zu change\n", changed, nips);
		for (size_t i = 0; i < nips; i++) {
			char buf[64];

			if (r_old[i] == r_new[i])
				continue;
			spf_addr_str(&ips[i], buf, sizeof(buf));
			if (o != NULL)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s}",
					"ip", buf, "before", spf_result_str(r_old[i]),
					"after", spf_result_str(r_new[i])));
			else
				printf("  %s: %s -> %s\n", buf, spf_result_str(r_old[i]),
					spf_result_str(r_new[i]));
		}
		if (o != NULL) {
			json_object_set_new(o, "addresses", json_integer((json_int_t)nips));
			json_object_set_new(o, "changes", arr);
		}
	}
	if (o != NULL && cmd_json_print(o, false) != 0) {
		cmd_error("cannot format JSON output");
		rc = EXIT_INTERNAL;
	}
done:
	json_decref(o);
	spf_free(r_old);
	spf_free(r_new);
	spf_free(ips);
	world_free(&old);
	world_free(&new);
	spf_free(owned);
	return rc;
}
