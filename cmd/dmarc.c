/*
 * dmarc.c - DMARC at the command line: `spfcheck dmarc`, the lint of a
 * domain's DMARC record, and the DMARC view of the SPF leg that check
 * and explain print with --from.
 *
 * DESCRIPTION
 *	spfcheck dmarc DOMAIN                      the published set-up
 *	spfcheck dmarc --record 'v=DMARC1; ...' [--domain NAME]   a draft,
 *	                                           used as _dmarc.NAME's TXT
 *	Prints the DNS Tree Walk (RFC 9989 §4.10) that found the policy,
 *	the Organizational Domain and the record that applies, then each
 *	finding compiler-style as lint does (cmd_finding_print), then a
 *	count line.  --json prints one object (schema 1).  Exit status as
 *	lint's: 0 clean (or warnings without --strict), 1 warnings with
 *	--strict, 2 errors, 64 bad usage or input, 70 internal error.
 *
 *	cmd_dmarc_from() (output.c) reads --from, cmd_dmarc_print() and
 *	cmd_dmarc_json() show a spf_dmarc_view_t for check and explain.
 *
 * DIAGNOSTICS
 *	One line on stderr for bad input (a domain that is not a name, a
 *	From without a domain, a draft that is not a DMARC record is linted
 *	and not refused), exit 64.
 */
#include "cmd.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char dmarc_usage[] =
	"usage: spfcheck dmarc [options] DOMAIN\n"
	"       spfcheck dmarc [options] --record 'v=DMARC1; ...' [--domain NAME]\n"
	"\n"
	"Lint the DMARC (RFC 9989) record that applies to DOMAIN: the DNS Tree\n"
	"Walk that finds it (at most 8 queries), the Organizational Domain, the\n"
	"syntax of every tag, several records at one name, a record at the\n"
	"wrong place, removed tags (pct, rf, ri: ignored since RFC 9989),\n"
	"policies weaker than p, report destinations that have not agreed to\n"
	"receive reports, whether the domain's SPF record can pass aligned.\n"
	"Each finding has a rule id (doc/lint-rules.md).\n"
	"\n"
	"options:\n"
	"  --record TEXT           lint TEXT, a draft DMARC record, as the TXT\n"
	"                          record of _dmarc.DOMAIN (DOMAIN=TEXT works as\n"
	"                          for check: a TXT record for another name)\n"
	"  --domain NAME           the domain the draft is for (default\n"
	"                          draft.invalid); same as giving DOMAIN\n"
	"  --strict                exit 1 when there are warnings\n"
	"  --org-domain walk|psl   find the policy and the Organizational Domain by\n"
	"                          the DNS Tree Walk of RFC 9989 (walk, default) or\n"
	"                          RFC 7489's Public Suffix List (psl); the other\n"
	"                          method is compared with it either way (DM-14)\n"
	"  --psl-file FILE         the Public Suffix List (default: the system's,\n"
	"                          else the one built into libpsl); the output\n"
	"                          names the list used\n"
	COMMON_HELP_ZONE COMMON_HELP_DNS COMMON_HELP_JSON
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 clean, 1 warnings (with --strict), 2 errors,\n"
	"64 bad usage or input, 70 internal error\n";

/* ---- the walk and the view, as text and JSON ---- */

static const char *org_rule_text(spf_dmarc_org_rule_t r)
{
	switch (r) {
	case SPF_DMARC_ORG_PSD_N:
		return "its record says psd=n";
	case SPF_DMARC_ORG_BELOW_PSD:
		return "one label below a public suffix's psd=y record";
	case SPF_DMARC_ORG_SHORTEST:
		return "the name with the fewest labels that has a record";
	case SPF_DMARC_ORG_PSL:
		return "the registrable domain on the Public Suffix List, RFC 7489";
	default:
		return "no record on the walk: the domain itself";
	}
}

static const char *org_rule_key(spf_dmarc_org_rule_t r)
{
	switch (r) {
	case SPF_DMARC_ORG_PSD_N:
		return "psd_n";
	case SPF_DMARC_ORG_BELOW_PSD:
		return "below_psd";
	case SPF_DMARC_ORG_SHORTEST:
		return "fewest_labels";
	case SPF_DMARC_ORG_PSL:
		return "psl";
	default:
		return "self";
	}
}

/* What one query of a walk found, one line. */
static void step_print(FILE *out, const spf_dmarc_step_t *st, const char *indent,
	size_t i)
{
	int w;

	w = fprintf(out, "%s%zu  _dmarc.%s", indent, i + 1, st->domain);
	fprintf(out, "%*s", w < 40 ? 40 - w : 1, "");
	if (st->status != SPF_DNS_OK && st->status != SPF_DNS_NODATA) {
		fprintf(out, "%s", spf_dns_status_str(st->status));
		if (st->detail != NULL) {
			fputs(" (", out);
			spf_escape_write(out, st->detail, strlen(st->detail),
				SPF_ESC_HEX);
			fputc(')', out);
		}
	} else if (st->record != NULL) {
		size_t n = st->record->len > 100 ? 100 : st->record->len;

		spf_escape_write(out, st->record->text, n, SPF_ESC_HEX);
		if (n < st->record->len)
			fputs("...", out);
	} else if (st->ndmarc > 1) {
		fprintf(out, "%zu DMARC records: all discarded", st->ndmarc);
	} else {
		fprintf(out, "no DMARC record (%zu TXT)", st->ntxt);
	}
	fputc('\n', out);
}

void cmd_dmarc_walk_print(FILE *out, const spf_dmarc_walk_t *w,
	const char *indent)
{
	for (size_t i = 0; i < w->nsteps; i++)
		step_print(out, &w->steps[i], indent, i);
	fprintf(out, "%sOrganizational Domain: %s (%s)\n", indent,
		w->org_domain, org_rule_text(w->org_rule));
}

json_t *cmd_dmarc_walk_json(const spf_dmarc_walk_t *w)
{
	json_t *o = json_object(), *qs = json_array();

	if (o == NULL || qs == NULL) {
		json_decref(o);
		json_decref(qs);
		return NULL;
	}
	json_object_set_new(o, "start", json_string(w->start));
	for (size_t i = 0; i < w->nsteps; i++) {
		const spf_dmarc_step_t *st = &w->steps[i];
		json_t *q = json_object();
		char name[300];

		snprintf(name, sizeof(name), "_dmarc.%s", st->domain);
		json_object_set_new(q, "name", json_string(name));
		json_object_set_new(q, "status",
			json_string(spf_dns_status_str(st->status)));
		json_object_set_new(q, "txt", json_integer((json_int_t)st->ntxt));
		json_object_set_new(q, "dmarc_records",
			json_integer((json_int_t)st->ndmarc));
		json_object_set_new(q, "record", st->record != NULL ?
			cmd_json_text(st->record->text) : json_null());
		json_array_append_new(qs, q);
	}
	json_object_set_new(o, "queries", qs);
	json_object_set_new(o, "organizational_domain", json_string(w->org_domain));
	json_object_set_new(o, "organizational_domain_rule",
		json_string(org_rule_key(w->org_rule)));
	json_object_set_new(o, "dns_error", json_boolean(w->dns_error));
	return o;
}

/* "reject (sp)", with t=y's lowering said. */
static void policy_text(FILE *out, const spf_dmarc_view_t *v)
{
	fprintf(out, "%s (%s", spf_dmarc_policy_str(v->applied), v->policy_tag);
	if (v->applied != v->policy)
		fprintf(out, "=%s, lowered by t=y", spf_dmarc_policy_str(v->policy));
	if (v->record->downgraded)
		fputs(", as p=none: p, sp or np is invalid", out);
	fputc(')', out);
}

void cmd_dmarc_print(FILE *out, const spf_dmarc_view_t *v, const char *p)
{
	const spf_dmarc_record_t *rec = v->record;
	const char *from = v->author->start;

	if (rec == NULL) {
		fprintf(out, "%sno DMARC record for %s on the walk up the tree: "
			"DMARC does not apply%s\n", p, from,
			v->author->dns_error ? " (a lookup failed: temperror)" : "");
	} else {
		fprintf(out, "%spolicy record _dmarc.%s (%s)", p, v->policy_domain,
			spf_dmarc_where_str(v->where));
		if (v->author_checked)
			fprintf(out, ", %s %s", from, v->author_exists ?
				"exists" : "does not exist (NXDOMAIN)");
		fputc('\n', out);
		if (!rec->usable)
			fprintf(out, "%sthe record has no valid p (or an invalid sp "
				"or np) and no valid rua: DMARC does not apply\n", p);
	}
	fprintf(out, "%sOrganizational Domains: From %s -> %s", p, from,
		v->author->org_domain);
	if (v->spf != NULL)
		fprintf(out, ", SPF %s -> %s", v->spf->start, v->spf->org_domain);
	fprintf(out, " (%s)\n", v->psl ? "--org-domain psl: the Public Suffix "
		"List, RFC 7489" : "the DNS Tree Walk, RFC 9989");
	if (v->spf == NULL)
		fprintf(out, "%sno SPF domain that can align (MAIL FROM was not "
			"checked, or its domain is not a name)\n", p);
	else
		fprintf(out, "%sSPF %s for %s: %s (aspf=%s)%s\n", p,
			v->spf_pass ? "pass" : "did not pass", v->spf->start,
			v->spf_aligned ? "aligned" : v->spf_pass ? "not aligned" :
			"cannot align", rec != NULL && rec->aspf_strict ?
			"s, strict" : "r, relaxed", v->spf_aligned ?
			": DMARC passes on SPF" : "");
	if (v->ndkim == 0)
		fprintf(out, "%sDKIM not evaluated (--dkim-domain D gives the d= "
			"of a signature that verified)\n", p);
	for (size_t i = 0; i < v->ndkim; i++) {
		const spf_dmarc_walk_t *d = v->dkim[i];

		if (d == NULL)		/* the view always has one walk per d= */
			continue;
		fprintf(out, "%sDKIM d=%s -> %s: %s (adkim=%s)\n", p, d->start,
			d->org_domain, v->dkim_aligned[i] ? "aligned" :
			"not aligned", rec != NULL && rec->adkim_strict ?
			"s, strict" : "r, relaxed");
	}
	if (rec != NULL && rec->usable && !v->spf_aligned && !v->any_dkim_aligned) {
		fprintf(out, "%s%s: ", p, v->ndkim == 0 ?
			"if DKIM does not align, the policy is" : "policy");
		policy_text(out, v);
		fputc('\n', out);
	}
	fprintf(out, "%sresult %s", p, spf_dmarc_result_str(v->result));
	if (v->result == SPF_DMARC_RESULT_DKIM_UNKNOWN)
		fputs(": pass if a DKIM signature aligns, else fail (DKIM not "
			"evaluated)", out);
	else if (v->result == SPF_DMARC_RESULT_FAIL)
		fprintf(out, ": policy %s applies", spf_dmarc_policy_str(v->applied));
	fputc('\n', out);
}

void cmd_dmarc_section(FILE *out, const spf_dmarc_view_t *v)
{
	fprintf(out, "DMARC (RFC 9989) for From %s\n", v->author->start);
	if (v->psl)
		fprintf(out, "  policy discovery: RFC 7489's method (--org-domain "
			"psl: the Public Suffix List) from %s\n", v->author->start);
	else
		fprintf(out, "  policy discovery: the DNS Tree Walk from %s\n",
			v->author->start);
	cmd_dmarc_walk_print(out, v->author, "    ");
	if (v->spf != NULL && v->spf != v->author && v->psl) {
		fprintf(out, "  the SPF domain %s\n", v->spf->start);
		cmd_dmarc_walk_print(out, v->spf, "    ");
	} else if (v->spf != NULL && v->spf != v->author) {
		fprintf(out, "  the SPF domain's walk from %s\n", v->spf->start);
		cmd_dmarc_walk_print(out, v->spf, "    ");
	}
	for (size_t i = 0; i < v->ndkim; i++) {
		if (v->dkim[i] == v->author || v->dkim[i] == v->spf)
			continue;
		fprintf(out, v->psl ? "  the DKIM domain %s\n" :
			"  the DKIM domain's walk from %s\n", v->dkim[i]->start);
		cmd_dmarc_walk_print(out, v->dkim[i], "    ");
	}
	cmd_dmarc_print(out, v, "  ");
}

json_t *cmd_dmarc_json(const spf_dmarc_view_t *v)
{
	const spf_dmarc_record_t *rec = v->record;
	json_t *o = json_object(), *pol = json_object(), *spf = json_object(),
		*dk = json_object(), *ds = json_array(), *walks = json_object(),
		*dw = json_array();

	if (o == NULL || pol == NULL || spf == NULL || dk == NULL || ds == NULL ||
	    walks == NULL || dw == NULL) {
		json_decref(o);
		json_decref(pol);
		json_decref(spf);
		json_decref(dk);
		json_decref(ds);
		json_decref(walks);
		json_decref(dw);
		return NULL;
	}
	json_object_set_new(o, "from_domain", json_string(v->author->start));
	json_object_set_new(o, "org_domain_method",
		json_string(CMD_DMARC_METHOD(v->psl)));
	json_object_set_new(o, "result", json_string(spf_dmarc_result_str(v->result)));
	json_object_set_new(pol, "where", json_string(v->where ==
		SPF_DMARC_AT_AUTHOR ? "author" : v->where == SPF_DMARC_AT_ORG ?
		"organizational" : v->where == SPF_DMARC_AT_PSD ? "psd" : "none"));
	json_object_set_new(pol, "domain", v->policy_domain != NULL ?
		json_string(v->policy_domain) : json_null());
	json_object_set_new(pol, "record", rec != NULL ?
		cmd_json_text(rec->text) : json_null());
	json_object_set_new(pol, "usable", json_boolean(rec != NULL && rec->usable));
	json_object_set_new(pol, "tag", v->policy_tag != NULL ?
		json_string(v->policy_tag) : json_null());
	json_object_set_new(pol, "policy", v->policy != SPF_DMARC_UNSET ?
		json_string(spf_dmarc_policy_str(v->policy)) : json_null());
	json_object_set_new(pol, "applied", v->applied != SPF_DMARC_UNSET ?
		json_string(spf_dmarc_policy_str(v->applied)) : json_null());
	json_object_set_new(pol, "testing", json_boolean(rec != NULL && rec->testing));
	json_object_set_new(pol, "author_exists", v->author_checked ?
		json_boolean(v->author_exists) : json_null());
	json_object_set_new(o, "policy", pol);
	json_object_set_new(spf, "domain", v->spf != NULL ?
		json_string(v->spf->start) : json_null());
	json_object_set_new(spf, "pass", json_boolean(v->spf_pass));
	json_object_set_new(spf, "aligned", json_boolean(v->spf_aligned));
	json_object_set_new(spf, "mode", json_string(rec != NULL &&
		rec->aspf_strict ? "strict" : "relaxed"));
	json_object_set_new(o, "spf", spf);
	json_object_set_new(dk, "evaluated", json_boolean(v->ndkim > 0));
	json_object_set_new(dk, "mode", json_string(rec != NULL &&
		rec->adkim_strict ? "strict" : "relaxed"));
	for (size_t i = 0; i < v->ndkim; i++)
		json_array_append_new(ds, json_pack("{s:s,s:s,s:b}", "domain",
			v->dkim[i]->start, "organizational_domain",
			v->dkim[i]->org_domain, "aligned", v->dkim_aligned[i]));
	json_object_set_new(dk, "domains", ds);
	json_object_set_new(o, "dkim", dk);
	json_object_set_new(walks, "from", cmd_dmarc_walk_json(v->author));
	json_object_set_new(walks, "spf", v->spf != NULL ?
		cmd_dmarc_walk_json(v->spf) : json_null());
	for (size_t i = 0; i < v->ndkim; i++)
		json_array_append_new(dw, cmd_dmarc_walk_json(v->dkim[i]));
	json_object_set_new(walks, "dkim", dw);
	json_object_set_new(o, "walks", walks);
	return o;
}

/* ---- check's and explain's --from ---- */

bool cmd_dmarc_arg(struct cmd_dmarc_args *a, bool from, const char *arg)
{
	if (from && a->from_arg != NULL) {
		cmd_error("--from is given once (the RFC 5322.From has one author)");
		return false;
	}
	if (!from && a->ndkim == CMD_DMARC_MAX_DKIM) {
		cmd_error("--dkim-domain: at most %d", CMD_DMARC_MAX_DKIM);
		return false;
	}
	if (from)
		a->from_arg = arg;
	else
		a->dkim_arg[a->ndkim++] = arg;
	return true;
}

bool cmd_dmarc_args_read(struct cmd_dmarc_args *a)
{
	char why[512], buf[256];
	char *owned = NULL;
	const char *d;

	if (a->from_arg == NULL) {
		if (a->ndkim > 0) {
			cmd_error("--dkim-domain needs --from (alignment is with "
				"the From domain)");
			return false;
		}
		if (a->org_psl) {
			cmd_error("--org-domain needs --from (it is how DMARC "
				"finds Organizational Domains)");
			return false;
		}
		return true;
	}
	if ((a->org_psl || a->psl_file != NULL) && !cmd_dmarc_psl(a))
		return false;
	d = cmd_dmarc_from(a->from_arg, "--from", &owned, why, sizeof(why));
	if (d == NULL) {
		cmd_error("%s", why);
		return false;
	}
	a->owned[a->nowned++] = owned;
	if (!spf_dmarc_domain_ok(d)) {
		cmd_error("--from: '%s' is not a domain name",
			cmd_printable(d, buf, sizeof(buf)));
		return false;
	}
	a->from = d;
	for (size_t i = 0; i < a->ndkim; i++) {
		d = cmd_domain_arg(a->dkim_arg[i], &owned);
		if (d == NULL)
			return false;
		a->owned[a->nowned++] = owned;
		if (!spf_dmarc_domain_ok(d)) {
			cmd_error("--dkim-domain: '%s' is not a domain name",
				cmd_printable(a->dkim_arg[i], buf, sizeof(buf)));
			return false;
		}
		a->dkim[i] = d;
	}
	return true;
}

int cmd_dmarc_org_opt(struct cmd_dmarc_args *a, int opt, const char *arg)
{
	char buf[128];

	if (opt == 1102) {
		a->psl_file = arg;
		return 1;
	}
	if (opt != 1101)
		return 0;
	if (strcmp(arg, "walk") == 0) {
		a->org_psl = false;
	} else if (strcmp(arg, "psl") == 0) {
		a->org_psl = true;
	} else {
		cmd_error("--org-domain: '%s' is not walk or psl",
			cmd_printable(arg, buf, sizeof(buf)));
		return -1;
	}
	return 1;
}

bool cmd_dmarc_psl(struct cmd_dmarc_args *a)
{
	spf_status_t st;
	char buf[512];

	if (a->psl != NULL)
		return true;
	a->psl = spf_psl_load(a->psl_file, &st);
	if (a->psl != NULL)
		return true;
	if (st == SPF_EINVAL && a->psl_file != NULL)
		cmd_error("--psl-file: cannot read a Public Suffix List from '%s'",
			cmd_printable(a->psl_file, buf, sizeof(buf)));
	else if (st == SPF_EINVAL)
		cmd_error("no Public Suffix List (libpsl has none): give --psl-file");
	else
		cmd_error("cannot load the Public Suffix List: %s", spf_strerror(st));
	return false;
}

void cmd_dmarc_args_finish(struct cmd_dmarc_args *a)
{
	spf_psl_free(a->psl);
	a->psl = NULL;
	for (size_t i = 0; i < a->nowned; i++)
		spf_free(a->owned[i]);
	a->nowned = 0;
}

void cmd_dmarc_spf_leg(const struct cmd_eval *ev, spf_dmarc_request_t *req)
{
	spf_job_summary_t view;

	/* the SPF leg is MAIL FROM's check (postmaster@HELO for the null
	 * sender, RFC 9989 §4.4); a HELO check alone never counts */
	if (ev->mfrom.used && cmd_ident_done(&ev->mfrom)) {
		const spf_job_summary_t *s = cmd_ident_summary(&ev->mfrom, &view);

		req->spf_domain = s->start_domain;
		req->spf_result = s->result;
	}
}

spf_dmarc_t *cmd_dmarc_run(spf_resolver_t *res, const struct cmd_eval *ev,
	const struct cmd_dmarc_args *a)
{
	spf_dmarc_request_t req = { .from_domain = a->from,
		.dkim_domains = a->dkim, .ndkim = a->ndkim,
		.psl = a->org_psl ? a->psl : NULL };
	spf_dmarc_t *d;
	spf_status_t st;

	cmd_dmarc_spf_leg(ev, &req);
	d = spf_dmarc_run(res, &req, &st);
	if (d == NULL)
		cmd_error("cannot evaluate DMARC: %s", spf_strerror(st));
	return d;
}

/* ---- spfcheck dmarc ---- */

static json_t *lint_json(const spf_dmarc_lint_t *l, bool draft, unsigned n[3],
	spf_dmarc_spf_align_t align, const spf_psl_t *psl)
{
	const spf_dmarc_view_t *v = spf_dmarc_lint_view(l);
	json_t *o = json_object(), *fs = json_array();

	if (o == NULL || fs == NULL) {
		json_decref(o);
		json_decref(fs);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "domain", json_string(v->author->start));
	json_object_set_new(o, "draft", json_boolean(draft));
	json_object_set_new(o, "org_domain_method",
		json_string(CMD_DMARC_METHOD(v->psl)));
	json_object_set_new(o, "psl", json_string(spf_psl_source(psl)));
	json_object_set_new(o, "errors", json_integer(n[SPF_LINT_ERROR]));
	json_object_set_new(o, "warnings", json_integer(n[SPF_LINT_WARNING]));
	json_object_set_new(o, "notes", json_integer(n[SPF_LINT_INFO]));
	json_object_set_new(o, "walk", cmd_dmarc_walk_json(v->author));
	json_object_set_new(o, "policy", v->record == NULL ? json_null() :
		json_pack("{s:s,s:s,s:o,s:b}", "where",
		spf_dmarc_where_str(v->where), "domain", v->policy_domain,
		"record", cmd_json_text(v->record->text), "usable",
		v->record->usable));
	for (size_t i = 0; i < spf_dmarc_lint_count(l); i++)
		json_array_append_new(fs, cmd_finding_json(spf_dmarc_lint_finding(l, i)));
	json_object_set_new(o, "spf_align",
		json_string(spf_dmarc_spf_align_str(align)));
	json_object_set_new(o, "findings", fs);
	return o;
}

static void lint_text(const spf_dmarc_lint_t *l, unsigned n[3],
	const spf_psl_t *psl)
{
	const spf_dmarc_view_t *v = spf_dmarc_lint_view(l);
	const char *d = v->author->start;

	if (v->psl)
		printf("%s: RFC 7489's method (--org-domain psl, the Public Suffix "
			"List %s), %zu of at most 2 queries:\n", d,
			spf_psl_source(psl), v->author->nsteps);
	else
		printf("%s: the DNS Tree Walk (RFC 9989 §4.10), %zu of at most 8 "
			"queries:\n", d, v->author->nsteps);
	cmd_dmarc_walk_print(stdout, v->author, "  ");
	if (v->record != NULL) {
		printf("  policy record: _dmarc.%s (%s)", v->policy_domain,
			spf_dmarc_where_str(v->where));
		if (v->record->usable) {
			printf("\n  policy for %s: %s=%s", d, v->policy_tag,
				spf_dmarc_policy_str(v->policy));
			if (v->record->downgraded)
				fputs(" (p, sp or np is invalid: read as p=none)", stdout);
			if (v->applied != v->policy)
				printf(", applied as %s (t=y)",
					spf_dmarc_policy_str(v->applied));
		} else {
			fputs(", not usable: DMARC does not apply", stdout);
		}
		fputc('\n', stdout);
	} else {
		printf("  policy record: none, DMARC does not apply\n");
	}
	/* which list the PSL rules used: results differ from list to list */
	printf("  Public Suffix List (DM-13, DM-14, DM-15, DM-17): %s\n",
		spf_psl_source(psl));
	fputc('\n', stdout);
	for (size_t i = 0; i < spf_dmarc_lint_count(l); i++)
		cmd_finding_print(stdout, spf_dmarc_lint_finding(l, i));
	printf("%s: %u error%s, %u warning%s, %u note%s\n", d,
		n[2], n[2] == 1 ? "" : "s", n[1], n[1] == 1 ? "" : "s",
		n[0], n[0] == 1 ? "" : "s");
}

int cmd_dmarc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "domain", required_argument, NULL, 'd' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CMD_DMARC_ORG_OPTS,
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .cmd = "dmarc",
		.not_for = COMMON_EVAL_ONLY | COMMON_BIT(1014) };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_dmarc_lint_t *l = NULL;
	spf_lint_t *spf = NULL;
	spf_dmarc_spf_align_t align = SPF_DMARC_SPF_NO_RECORD;
	struct cmd_dmarc_args da = { 0 };
	spf_dmarc_lint_opts_t lo = { 0 };
	const char *domain = NULL, *draft = NULL, *name;
	char *owned = NULL, *where = NULL;
	bool strict = false;
	unsigned n[3] = { 0, 0, 0 };
	spf_status_t st;
	int opt, rc = EXIT_INTERNAL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = cmd_draft_opt("dmarc", opt, optarg, &draft);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		c = cmd_dmarc_org_opt(&da, opt, optarg);
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
		case 'h':
			fputs(dmarc_usage, stdout);
			return 0;
		default:
			return cmd_option_error("dmarc", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("dmarc", argc, argv, optind, 0, domain != NULL ? 0 : 1,
	    domain != NULL ? "no DOMAIN besides --domain" : "one DOMAIN"))
		return EXIT_USAGE;
	if (argc - optind == 1)
		domain = argv[optind];
	if (domain == NULL && draft == NULL) {
		cmd_error("dmarc needs DOMAIN or --record 'v=DMARC1; ...' (see spfcheck dmarc --help)");
		return EXIT_USAGE;
	}
	if (domain == NULL)
		domain = "draft.invalid";
	if ((name = cmd_domain_arg(domain, &owned)) == NULL)
		return EXIT_USAGE;
	/* the list is always loaded: the rules that compare with it */
	if (!cmd_dmarc_psl(&da) || !cmd_resolver(&co, &base, &res)) {
		cmd_dmarc_args_finish(&da);
		spf_free(owned);
		return EXIT_USAGE;
	}
	lo.psl = da.psl;
	lo.psl_method = da.org_psl;
	if (draft != NULL) {
		where = spf_malloc(strlen(name) + 8);
		if (where == NULL)
			goto done;
		strcpy(where, "_dmarc.");
		strcat(where, name);
		if (spf_zone_replace_txt(spf_resolver_zone(res), where, draft,
		    strlen(draft)) != SPF_OK) {
			cmd_error("cannot use the draft record");
			goto done;
		}
	}
	l = spf_dmarc_lint_run(res, name, &lo, &st);
	if (l == NULL) {
		if (st == SPF_EINVAL) {
			cmd_error("'%s' is not a domain name", domain);
			rc = EXIT_USAGE;
		} else {
			cmd_error("cannot lint: %s", spf_strerror(st));
		}
		goto done;
	}
	/* DM-24: can the domain's SPF record pass aligned at all */
	{
		spf_lint_request_t sreq = { .domain = name };

		spf = spf_lint_run(res, &sreq, &st);
		if (spf == NULL) {
			cmd_error("cannot lint SPF: %s", spf_strerror(st));
			goto done;
		}
		align = spf_dmarc_lint_spf(l, spf);
		if (spf_dmarc_lint_status(l) != SPF_OK) {
			cmd_error("cannot lint: %s", spf_strerror(SPF_ENOMEM));
			goto done;
		}
	}
	for (size_t i = 0; i < spf_dmarc_lint_count(l); i++)
		n[spf_dmarc_lint_finding(l, i)->severity]++;
	rc = n[SPF_LINT_ERROR] ? 2 : strict && n[SPF_LINT_WARNING] ? 1 : 0;
	if (co.json) {
		json_t *o = lint_json(l, draft != NULL, n, align, da.psl);

		if (o == NULL || cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else {
		lint_text(l, n, da.psl);
	}
done:
	spf_lint_destroy(spf);
	spf_dmarc_lint_destroy(l);
	cmd_resolver_free(base, res);
	cmd_dmarc_args_finish(&da);
	spf_free(where);
	spf_free(owned);
	return rc;
}
