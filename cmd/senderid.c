/*
 * senderid.c - `spfcheck senderid`: SenderID (RFC 4406 / 4407) conflicts
 * of a domain, and what SPF and Sender ID make of one message.
 *
 * DESCRIPTION
 *	`spfcheck senderid DOMAIN` prints the records found (TXT and type
 *	SPF 99), the record each class of receivers applies (RFC 7208,
 *	Sender ID mfrom, Sender ID pra with and without the v=spf1
 *	fallback) and every conflict SID-01 ... SID-14 with its severity,
 *	explanation and fix (evaluator/senderid/senderid.c).  Exit status 0 when
 *	there is no error or warning, 1 when there is.
 *
 *	`spfcheck senderid --message FILE --ip IP [--sender ADDR]
 *	[--helo NAME]` computes the PRA of the message (RFC 4407 §2),
 *	evaluates SPF (RFC 7208) on the envelope sender (--sender, or the
 *	message's Return-Path) and Sender ID (scope pra) on the PRA, prints
 *	both side by side and flags a divergence, e.g. SPF pass but Sender
 *	ID fail: what a forwarder or mailing list meets.  Sender ID is
 *	evaluated the way deployed receivers do it: v=spf1 applies to the
 *	PRA when there is no spf2.0/pra record (RFC 4406 §3.4), TXT and type
 *	99 are queried; --strict uses spf2.0 records only (Mail::SPF),
 *	--txt-only skips type 99.  The exit status is the Sender ID result
 *	as for check (0 pass ... 6 temperror); a message without a PRA
 *	exits 1, as receivers reject it ("Missing Purported Responsible
 *	Address", RFC 4406 §4).
 *
 * DIAGNOSTICS
 *	A file that cannot be read or is not a mail message (empty, no
 *	header fields, binary data, a line that is not a header field), a
 *	missing or invalid --ip, no envelope sender: one line on stderr,
 *	exit 64.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MESSAGE_READ (2 * 1024 * 1024)   /* the header block is at most 1 MiB */

static const char senderid_usage[] =
	"usage: spfcheck senderid [options] DOMAIN\n"
	"       spfcheck senderid [options] --message FILE --ip IP [--sender ADDR] [--helo NAME]\n"
	"\n"
	"SenderID (RFC 4406, RFC 4407; Historic, but still applied by some receivers).\n"
	"With DOMAIN: the records found (TXT and type SPF 99), the record each class\n"
	"of receivers applies, and every conflict SID-01 ... SID-14 with its fix.\n"
	"With --message: the message's Purported Responsible Address, SPF on the\n"
	"envelope sender and Sender ID on the PRA side by side.\n"
	"\n"
	"options:\n"
	"  --message FILE          an RFC 5322 message (\"-\": standard input)\n"
	"  --ip IP                 the client that sent it\n"
	"  --sender ADDR           the envelope sender (default: the Return-Path)\n"
	"  --helo NAME             the HELO/EHLO name of the client\n"
	"  --strict                Sender ID with spf2.0 records only (Mail::SPF); the\n"
	"                          default applies v=spf1 to the PRA (RFC 4406 §3.4)\n"
	"  --txt-only              do not query type SPF (99) for Sender ID\n"
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: DOMAIN: 0 no errors or warnings, 1 some; --message: the Sender ID\n"
	"result as for check (0 pass ... 6 temperror; no PRA: 1); 64 bad usage or\n"
	"input, 70 internal error\n";

/* ---- DOMAIN ---- */

static const char *sev_word(spf_sid_severity_t s)
{
	return s == SPF_SID_ERROR ? "error" : s == SPF_SID_WARNING ? "warning" : "note";
}

static json_t *domain_json(const spf_senderid_report_t *r)
{
	size_t nrec, npol, ncon;
	const spf_sid_record_t *recs = spf_senderid_records(r, &nrec);
	const spf_sid_policy_t *pols = spf_senderid_policies(r, &npol);
	const spf_sid_conflict_t *cons = spf_senderid_conflicts(r, &ncon);
	json_t *o = json_object(), *dns = json_object(), *jr = json_array(),
		*jp = json_array(), *jc = json_array(), *counts = json_object();
	size_t cnt[3] = { 0 };
	char ip[64];

	if (o == NULL || dns == NULL || jr == NULL || jp == NULL || jc == NULL ||
	    counts == NULL) {
		json_decref(o);
		json_decref(dns);
		json_decref(jr);
		json_decref(jp);
		json_decref(jc);
		json_decref(counts);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "domain", cmd_json_text(spf_senderid_domain(r)));
	json_object_set_new(dns, "txt", json_string(spf_dns_status_str(
		spf_senderid_dns_status(r, SPF_RR_TXT))));
	json_object_set_new(dns, "spf", json_string(spf_dns_status_str(
		spf_senderid_dns_status(r, SPF_RR_SPF))));
	json_object_set_new(o, "dns", dns);
	for (size_t i = 0; i < nrec; i++) {
		json_t *x = json_object(), *sc = json_array();

		json_object_set_new(x, "type", json_string(recs[i].rrtype == SPF_RR_SPF ? "SPF" : "TXT"));
		json_object_set_new(x, "text", cmd_json_text(recs[i].text));
		json_object_set_new(x, "version", json_integer(recs[i].version));
		json_object_set_new(x, "well_formed", json_boolean(recs[i].well_formed));
		if (recs[i].mfrom)
			json_array_append_new(sc, json_string("mfrom"));
		if (recs[i].pra)
			json_array_append_new(sc, json_string("pra"));
		json_object_set_new(x, "scopes", sc);
		json_object_set_new(x, "problem", cmd_json_text(recs[i].problem));
		json_array_append_new(jr, x);
	}
	json_object_set_new(o, "records", jr);
	for (size_t i = 0; i < npol; i++) {
		json_t *x = json_object();

		json_object_set_new(x, "key", json_string(pols[i].key));
		json_object_set_new(x, "receiver", json_string(pols[i].receiver));
		json_object_set_new(x, "record", pols[i].record >= 0 ?
			json_integer(pols[i].record) : json_null());
		json_object_set_new(x, "selection", json_string(
			pols[i].selection == SPF_RESULT_NONE ? "none" :
			pols[i].selection == SPF_RESULT_PERMERROR ? "permerror" : "record"));
		json_object_set_new(x, "summary", cmd_json_text(pols[i].summary));
		json_array_append_new(jp, x);
	}
	json_object_set_new(o, "policies", jp);
	for (size_t i = 0; i < ncon; i++) {
		json_t *x = json_object(), *pr = json_array();
		char sev[2] = { spf_sid_severity_char(cons[i].severity), '\0' };

		cnt[cons[i].severity]++;
		json_object_set_new(x, "id", json_string(cons[i].id));
		json_object_set_new(x, "severity", json_string(sev));
		json_object_set_new(x, "summary", cmd_json_text(cons[i].summary));
		json_object_set_new(x, "explanation", cmd_json_text(cons[i].explanation));
		json_object_set_new(x, "fix", cmd_json_text(cons[i].fix));
		json_object_set_new(x, "reference", cmd_json_text(cons[i].reference));
		for (size_t k = 0; k < cons[i].nprobes; k++) {
			json_t *p = json_object();

			json_object_set_new(p, "ip", json_string(spf_addr_str(
				&cons[i].probes[k].ip, ip, sizeof(ip))));
			json_object_set_new(p, "rfc7208", json_string(
				spf_result_str(cons[i].probes[k].v1)));
			json_object_set_new(p, "senderid", json_string(
				spf_result_str(cons[i].probes[k].v2)));
			json_array_append_new(pr, p);
		}
		json_object_set_new(x, "probes", pr);
		json_array_append_new(jc, x);
	}
	json_object_set_new(o, "conflicts", jc);
	json_object_set_new(counts, "errors", json_integer((json_int_t)cnt[SPF_SID_ERROR]));
	json_object_set_new(counts, "warnings", json_integer((json_int_t)cnt[SPF_SID_WARNING]));
	json_object_set_new(counts, "notes", json_integer((json_int_t)cnt[SPF_SID_INFO]));
	json_object_set_new(o, "counts", counts);
	return o;
}

static void domain_text(const spf_senderid_report_t *r)
{
	size_t nrec, npol, ncon, cnt[3] = { 0 };
	const spf_sid_record_t *recs = spf_senderid_records(r, &nrec);
	const spf_sid_policy_t *pols = spf_senderid_policies(r, &npol);
	const spf_sid_conflict_t *cons = spf_senderid_conflicts(r, &ncon);
	spf_dns_status_t st;

	printf("senderid %s\n\nrecords:\n", spf_senderid_domain(r));
	for (int k = 0; k < 2; k++) {
		st = spf_senderid_dns_status(r, k ? SPF_RR_SPF : SPF_RR_TXT);
		if (st != SPF_DNS_OK && st != SPF_DNS_NODATA && st != SPF_DNS_NXDOMAIN)
			printf("  (%s lookup failed: %s)\n", k ? "type SPF (99)" : "TXT",
				spf_dns_status_str(st));
	}
	if (nrec == 0)
		printf("  (no SPF or Sender ID record)\n");
	for (size_t i = 0; i < nrec; i++) {
		printf("  [%zu] %-3s \"%s\"\n", i, recs[i].rrtype == SPF_RR_SPF ? "SPF" : "TXT",
			recs[i].text ? recs[i].text : "");
		if (recs[i].version == 2)
			printf("        spf2.x, scopes: %s%s%s%s%s\n",
				recs[i].mfrom ? "mfrom" : "", recs[i].mfrom && recs[i].pra ? "," : "",
				recs[i].pra ? "pra" : "", !recs[i].mfrom && !recs[i].pra ? "(none known)" : "",
				recs[i].well_formed ? "" : "  MALFORMED: ignored by Sender ID receivers");
		else if (recs[i].version == 0)
			printf("        not an SPF record\n");
	}
	printf("\neffective policy:\n");
	for (size_t i = 0; i < npol; i++)
		printf("  %-11s %s\n  %-11s   -> %s\n", pols[i].key, pols[i].receiver, "",
			pols[i].summary ? pols[i].summary : "");
	printf("\nconflicts:\n");
	if (ncon == 0)
		printf("  none\n");
	for (size_t i = 0; i < ncon; i++) {
		char ip[64];

		cnt[cons[i].severity]++;
		printf("%s %c %s [%s]\n", cons[i].id, spf_sid_severity_char(cons[i].severity),
			cons[i].summary, cons[i].reference ? cons[i].reference : "");
		if (cons[i].explanation != NULL)
			printf("    why: %s\n", cons[i].explanation);
		if (cons[i].fix != NULL)
			printf("    fix: %s\n", cons[i].fix);
		for (size_t k = 0; k < cons[i].nprobes; k++)
			printf("    %-40s RFC 7208: %-9s Sender ID: %s\n",
				spf_addr_str(&cons[i].probes[k].ip, ip, sizeof(ip)),
				spf_result_str(cons[i].probes[k].v1),
				spf_result_str(cons[i].probes[k].v2));
	}
	printf("\n%zu %s%s, %zu %s%s, %zu %s%s\n",
		cnt[SPF_SID_ERROR], sev_word(SPF_SID_ERROR), cnt[SPF_SID_ERROR] == 1 ? "" : "s",
		cnt[SPF_SID_WARNING], sev_word(SPF_SID_WARNING), cnt[SPF_SID_WARNING] == 1 ? "" : "s",
		cnt[SPF_SID_INFO], sev_word(SPF_SID_INFO), cnt[SPF_SID_INFO] == 1 ? "" : "s");
}

static int run_domain(const struct common_opts *co, const char *arg)
{
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_senderid_report_t *r;
	spf_status_t st;
	char *alabel = NULL;
	const char *why = NULL;
	char p[256];
	int rc = 0;

	st = spf_dns_to_ascii(arg, &alabel, &why);
	if (st != SPF_OK) {
		cmd_error("'%s' is not a domain name%s%s", cmd_printable(arg, p, sizeof(p)),
			why ? ": " : "", why ? why : "");
		return st == SPF_ENOMEM ? EXIT_INTERNAL : EXIT_USAGE;
	}
	if (!cmd_resolver(co, &base, &res)) {
		spf_free(alabel);
		return EXIT_USAGE;
	}
	r = spf_senderid_check(res, alabel, &st);
	if (r == NULL) {
		if (st == SPF_EINVAL)
			cmd_error("'%s' is not a domain name", cmd_printable(arg, p, sizeof(p)));
		else
			cmd_error("cannot examine %s: %s", cmd_printable(arg, p, sizeof(p)),
				spf_strerror(st));
		rc = st == SPF_EINVAL ? EXIT_USAGE : EXIT_INTERNAL;
	} else {
		size_t n;
		const spf_sid_conflict_t *c = spf_senderid_conflicts(r, &n);

		for (size_t i = 0; i < n; i++)
			if (c[i].severity != SPF_SID_INFO)
				rc = 1;
		if (co->json) {
			json_t *o = domain_json(r);

			if (o == NULL || cmd_json_print(o, false) != 0) {
				cmd_error("cannot format JSON output");
				rc = EXIT_INTERNAL;
			}
			json_decref(o);
		} else {
			domain_text(r);
		}
	}
	spf_senderid_destroy(r);
	cmd_resolver_free(base, res);
	spf_free(alabel);
	return rc;
}

/* ---- --message ---- */

/* Read at most MAX_MESSAGE_READ bytes of path ("-": stdin). */
static uint8_t *read_message(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	uint8_t *buf;
	char p[256];

	if (f == NULL) {
		cmd_error("cannot read %s: %s", cmd_printable(path, p, sizeof(p)),
			strerror(errno));
		return NULL;
	}
	buf = spf_malloc(MAX_MESSAGE_READ + 1);
	if (buf == NULL) {
		cmd_error("out of memory");
	} else {
		*len = fread(buf, 1, MAX_MESSAGE_READ, f);
		if (ferror(f)) {
			cmd_error("cannot read %s: %s", cmd_printable(path, p, sizeof(p)),
				strerror(errno));
			spf_free(buf);
			buf = NULL;
		}
	}
	if (f != stdin)
		fclose(f);
	return buf;
}

struct msg_opts {
	const char *file;
	const char *ip;
	const char *sender;
	const char *helo;
	bool strict;
	bool txt_only;
};

static bool failing(spf_result_t r)
{
	return r == SPF_RESULT_FAIL || r == SPF_RESULT_SOFTFAIL;
}

/* A sentence for the divergence, or NULL when the results agree. */
static const char *divergence(spf_result_t spf, const spf_job_t *sid,
	const spf_pra_t *pra)
{
	spf_result_t s;

	if (pra->status != SPF_PRA_OK)
		return spf == SPF_RESULT_PASS ?
			"SPF passes but the message has no PRA: Sender ID receivers reject it "
			"(550 5.7.1 Missing Purported Responsible Address)" :
			"the message has no PRA: Sender ID receivers reject it "
			"(550 5.7.1 Missing Purported Responsible Address)";
	s = spf_job_result(sid);
	if (s == spf)
		return NULL;
	if (spf == SPF_RESULT_PASS && failing(s))
		return "SPF passes but Sender ID fails: what a forwarder or mailing list "
			"meets when it resends mail under the author's From:/Sender: from "
			"servers the author's domain does not list (fix: the author's domain "
			"publishes \"spf2.0/pra ?all\", or the forwarder adds Resent-Sender/"
			"Sender, RFC 4407 §2)";
	if (failing(spf) && s == SPF_RESULT_PASS)
		return "Sender ID passes but SPF fails: the header domain authorises the "
			"client, the envelope domain does not";
	return "SPF and Sender ID give different results";
}

static void side(const char *label, const char *a, const char *b)
{
	printf("  %-12s %-38s %s\n", label, a ? a : "-", b ? b : "-");
}

static int run_message(const struct common_opts *co, const struct msg_opts *mo)
{
	spf_arena_t *arena = NULL;
	uint8_t *msg = NULL;
	size_t len = 0;
	spf_pra_t pra;
	const char *err = NULL, *envelope, *env_source;
	spf_status_t st;
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	struct cmd_ident spf = { 0 }, sid = { 0 };
	char *owned = NULL, *owned_helo = NULL, *owned_pra = NULL;
	char why[512], p[256], ipbuf[64];
	spf_addr_t ip;
	const char *div;
	double t0;
	int rc = EXIT_USAGE;

	if (mo->ip == NULL) {
		cmd_error("--message needs --ip IP (the client that sent the message)");
		return EXIT_USAGE;
	}
	if (!spf_addr_parse(mo->ip, &ip)) {
		cmd_error("'%s' is not an IPv4 or IPv6 address", cmd_printable(mo->ip, p, sizeof(p)));
		return EXIT_USAGE;
	}
	msg = read_message(mo->file, &len);
	if (msg == NULL)
		return EXIT_USAGE;
	arena = spf_arena_create();
	if (arena == NULL) {
		cmd_error("out of memory");
		rc = EXIT_INTERNAL;
		goto done;
	}
	st = spf_pra_extract(arena, msg, len, &pra, &err);
	if (st == SPF_ENOMEM || st == SPF_EINVAL) {
		cmd_error("cannot read the message: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	if (st != SPF_OK) {
		cmd_error("%s: not a mail message: %s", cmd_printable(mo->file, p, sizeof(p)),
			err ? err : spf_strerror(st));
		goto done;
	}
	/* the envelope sender: --sender, else the Return-Path */
	if (mo->sender != NULL) {
		envelope = mo->sender;
		env_source = "--sender";
	} else if (pra.return_path != NULL) {
		envelope = pra.return_path;
		env_source = "Return-Path";
	} else {
		cmd_error("no envelope sender: %s; give --sender ADDR",
			pra.return_path_problem ? pra.return_path_problem :
			"the message has no Return-Path");
		goto done;
	}
	spf.req.sender = cmd_sender(envelope, &owned, why, sizeof(why));
	if (spf.req.sender == NULL) {
		cmd_error("envelope sender (%s): %s", env_source, why);
		goto done;
	}
	if (mo->helo != NULL) {
		spf.req.helo = cmd_helo(mo->helo, &owned_helo, why, sizeof(why));
		if (spf.req.helo == NULL) {
			cmd_error("%s", why);
			goto done;
		}
	}
	if (*spf.req.sender == '\0' && spf.req.helo == NULL) {
		cmd_error("the envelope sender (%s) is null (<>): it is checked as "
			"postmaster@HELO, give --helo NAME", env_source);
		goto done;
	}
	spf.req.ip = ip;
	cmd_request_opts(co, &spf.req);
	if (!cmd_resolver(co, &base, &res))
		goto done;

	spf.used = true;
	t0 = cmd_now_ms();
	spf.job = spf_check_sync(res, &spf.req, &st);
	spf.elapsed_ms = cmd_now_ms() - t0;
	if (spf.job == NULL) {
		cmd_error("cannot evaluate: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
		goto done;
	}
	if (pra.status == SPF_PRA_OK) {
		sid.req = spf.req;
		sid.req.sender = cmd_sender(pra.pra, &owned_pra, why, sizeof(why));
		if (sid.req.sender == NULL)
			sid.req.sender = pra.pra;   /* e.g. a quoted local-part with a space */
		sid.req.scope = SPF_SCOPE_PRA;
		sid.req.v1_for_pra = !mo->strict;
		sid.req.query_spf99 = !mo->txt_only;
		sid.used = true;
		t0 = cmd_now_ms();
		sid.job = spf_check_sync(res, &sid.req, &st);
		sid.elapsed_ms = cmd_now_ms() - t0;
		if (sid.job == NULL) {
			cmd_error("cannot evaluate: %s", spf_strerror(st));
			rc = EXIT_INTERNAL;
			goto done;
		}
		rc = spf_result_exit(spf_job_result(sid.job));
	} else {
		rc = EXIT_FAIL;
	}
	div = divergence(spf_job_result(spf.job), sid.job, &pra);

	if (co->json) {
		json_t *o = json_object(), *jm = json_object(), *jp = json_object(),
			*je = json_object(), *js = cmd_ident_json(&spf);
		json_t *jd = sid.job ? cmd_ident_json(&sid) : json_null();

		json_object_set_new(o, "schema", json_integer(1));
		json_object_set_new(jm, "file", cmd_json_text(mo->file));
		json_object_set_new(jm, "fields", json_integer((json_int_t)pra.nfields));
		json_object_set_new(o, "message", jm);
		json_object_set_new(o, "ip", json_string(spf_addr_str(&ip, ipbuf, sizeof(ipbuf))));
		json_object_set_new(o, "helo", cmd_json_text(spf.req.helo));
		json_object_set_new(jp, "status", json_string(spf_pra_status_str(pra.status)));
		json_object_set_new(jp, "address", cmd_json_text(pra.pra));
		json_object_set_new(jp, "domain", cmd_json_text(pra.domain));
		json_object_set_new(jp, "field", cmd_json_text(pra.field));
		json_object_set_new(jp, "line", pra.field_line ?
			json_integer(pra.field_line) : json_null());
		json_object_set_new(jp, "why", cmd_json_text(pra.why));
		json_object_set_new(o, "pra", jp);
		json_object_set_new(je, "sender", cmd_json_text(envelope));
		json_object_set_new(je, "source", json_string(env_source));
		json_object_set_new(o, "envelope", je);
		json_object_set_new(o, "spf", js);
		if (sid.job != NULL) {
			json_object_set_new(jd, "identity", json_string("pra"));
			json_object_set_new(jd, "v1_for_pra", json_boolean(sid.req.v1_for_pra));
			json_object_set_new(jd, "query_spf99", json_boolean(sid.req.query_spf99));
		}
		json_object_set_new(o, "senderid", jd);
		json_object_set_new(o, "divergent", json_boolean(div != NULL));
		json_object_set_new(o, "divergence", cmd_json_text(div));
		if (cmd_json_print(o, false) != 0) {
			cmd_error("cannot format JSON output");
			rc = EXIT_INTERNAL;
		}
		json_decref(o);
	} else {
		char lk[2][32], vd[2][32];

		printf("message   %s (%zu header fields)\n", cmd_printable(mo->file, p, sizeof(p)),
			pra.nfields);
		printf("client    %s%s%s\n", spf_addr_str(&ip, ipbuf, sizeof(ipbuf)),
			spf.req.helo ? "  helo=" : "", spf.req.helo ? spf.req.helo : "");
		if (pra.status == SPF_PRA_OK)
			printf("PRA       %s  (%s)\n", cmd_printable(pra.pra, p, sizeof(p)), pra.why);
		else
			printf("PRA       none: %s\n", pra.why);
		printf("envelope  %s  (%s)\n\n", *envelope ? cmd_printable(envelope, p,
			sizeof(p)) : "<>", env_source);
		printf("  %-12s %-38s %s\n", "", "SPF (RFC 7208, MAIL FROM)",
			sid.req.v1_for_pra ? "Sender ID (RFC 4406, pra)" :
			"Sender ID (RFC 4406, pra, spf2.0 only)");
		side("checked", spf_job_sender(spf.job), sid.job ? spf_job_sender(sid.job) : "(no PRA)");
		side("result", spf_result_str(spf_job_result(spf.job)),
			sid.job ? spf_result_str(spf_job_result(sid.job)) : "none: no PRA");
		side("domain", spf_job_domain(spf.job) ? spf_job_domain(spf.job) :
			spf_job_start_domain(spf.job), sid.job ? (spf_job_domain(sid.job) ?
			spf_job_domain(sid.job) : spf_job_start_domain(sid.job)) : NULL);
		side("mechanism", spf_job_mechanism(spf.job), sid.job ? spf_job_mechanism(sid.job) : NULL);
		snprintf(lk[0], sizeof(lk[0]), "%u/10", spf_job_lookups(spf.job));
		snprintf(lk[1], sizeof(lk[1]), "%u/10", sid.job ? spf_job_lookups(sid.job) : 0);
		snprintf(vd[0], sizeof(vd[0]), "%u", spf_job_void_lookups(spf.job));
		snprintf(vd[1], sizeof(vd[1]), "%u", sid.job ? spf_job_void_lookups(sid.job) : 0);
		side("lookups", lk[0], sid.job ? lk[1] : NULL);
		if (spf_job_problem(spf.job) != NULL || (sid.job && spf_job_problem(sid.job)))
			side("problem", spf_job_problem(spf.job), sid.job ? spf_job_problem(sid.job) : NULL);
		if (spf_job_explanation(spf.job) != NULL || (sid.job && spf_job_explanation(sid.job)))
			printf("  explanation  SPF: %s\n%s%s%s",
				spf_job_explanation(spf.job) ? spf_job_explanation(spf.job) : "-",
				sid.job && spf_job_explanation(sid.job) ? "               Sender ID: " : "",
				sid.job && spf_job_explanation(sid.job) ? spf_job_explanation(sid.job) : "",
				sid.job && spf_job_explanation(sid.job) ? "\n" : "");
		printf("\n%s%s\n", div ? "DIVERGENCE: " : "agree: ",
			div ? div : "SPF and Sender ID give the same result");
	}
done:
	spf_job_destroy(spf.job);
	spf_job_destroy(sid.job);
	cmd_resolver_free(base, res);
	spf_arena_destroy(arena);
	spf_free(msg);
	spf_free(owned);
	spf_free(owned_helo);
	spf_free(owned_pra);
	return rc;
}

int cmd_senderid(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "message", required_argument, NULL, 'm' },
		{ "ip", required_argument, NULL, 'i' },
		{ "sender", required_argument, NULL, 's' },
		{ "helo", required_argument, NULL, 'H' },
		{ "strict", no_argument, NULL, 'S' },
		{ "txt-only", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	struct msg_opts mo = { 0 };
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = common_opt(&co, opt, optarg);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 'm': mo.file = optarg; break;
		case 'i': mo.ip = optarg; break;
		case 's': mo.sender = optarg; break;
		case 'H': mo.helo = optarg; break;
		case 'S': mo.strict = true; break;
		case 'T': mo.txt_only = true; break;
		case 'h':
			fputs(senderid_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("senderid", opt, argv[optind - 1]);
		}
	}
	if (mo.file != NULL) {
		if (!cmd_operands("senderid", argc, argv, optind, 0, 0,
		    "no DOMAIN with --message"))
			return EXIT_USAGE;
		return run_message(&co, &mo);
	}
	if (mo.ip != NULL || mo.sender != NULL || mo.helo != NULL) {
		cmd_error("--ip, --sender and --helo go with --message FILE");
		return EXIT_USAGE;
	}
	if (!cmd_operands("senderid", argc, argv, optind, 1, 1,
	    "DOMAIN or --message FILE"))
		return EXIT_USAGE;
	return run_domain(&co, argv[optind]);
}
