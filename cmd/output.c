/*
 * output.c - what check, explain and batch share: reading the sender,
 * HELO, --identity and --header arguments, evaluating the HELO and MAIL
 * FROM identities in RFC 7208's order, the JSON objects (schema 1) and
 * the header fields.
 *
 * DESCRIPTION
 *	cmd_evaluate() runs HELO first (RFC 7208 §2.3), then MAIL FROM
 *	(§2.4); the MAIL FROM result stays the top-level result.  The JSON
 *	layout is documented in doc/json.md and doc/spfcheck.1;
 *	keys are only ever added within a schema number.
 *
 * DIAGNOSTICS
 *	Argument errors come back as one-line texts (the caller prints them
 *	with cmd_error or writes them into a batch error line).  Input bytes
 *	quoted in messages pass through cmd_printable() so a terminal or a
 *	TSV line cannot be disturbed by them.
 */
#include "cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double cmd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

const char *cmd_printable(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (len == 0)
		return "";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char one[5];
		size_t w;

		if (n + 8 >= len) {
			if (n + 4 <= len)
				memcpy(buf + n, "...", 3), n += 3;
			break;
		}
		w = spf_escape_byte(*p, SPF_ESC_HEX, one);
		memcpy(buf + n, one, w);
		n += w;
	}
	buf[n] = '\0';
	return buf;
}

void cmd_dot_string(FILE *out, const char *s)
{
	char one[5];

	/* each byte in its one-line ASCII form (spf_escape_byte, \xHH for
	 * controls, non-ASCII and '\\'), then quoted for dot: in a
	 * double-quoted ID only '"' and '\\' are special (a backslash
	 * starts dot's own escapes: \n, \l, \N, ...) */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		size_t w = spf_escape_byte(*p, SPF_ESC_HEX, one);

		for (size_t i = 0; i < w; i++) {
			if (one[i] == '"' || one[i] == '\\')
				fputc('\\', out);
			fputc(one[i], out);
		}
	}
}

bool cmd_parse_format(const char *arg, unsigned allowed, enum cmd_format *out)
{
	static const struct {
		const char *name;
		enum cmd_format f;
	} fmts[] = {
		{ "text", CMD_FMT_TEXT }, { "dot", CMD_FMT_DOT }, { "html", CMD_FMT_HTML },
	};
	char p[128];

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if ((allowed & fmts[i].f) && strcmp(arg, fmts[i].name) == 0) {
			*out = fmts[i].f;
			return true;
		}
	}
	cmd_error("--format must be %s, not '%s'", (allowed & CMD_FMT_DOT) ?
		"text, dot or html" : "text or html", cmd_printable(arg, p, sizeof(p)));
	return false;
}

FILE *cmd_html_open(const char *path)
{
	FILE *f;
	char p[256];

	if (path == NULL) {
		cmd_charset_raw();   /* the page is UTF-8 in every locale */
		return stdout;
	}
	f = fopen(path, "w");
	if (f == NULL)
		cmd_error("cannot write '%s': %s", cmd_printable(path, p, sizeof(p)),
			strerror(errno));
	return f;
}

bool cmd_html_close(FILE *f, const char *path)
{
	char p[256];
	bool ok;

	if (f == NULL)
		return false;
	ok = fflush(f) == 0 && !ferror(f);
	if (f != stdout)
		ok = fclose(f) == 0 && ok;
	if (!ok)
		cmd_error("cannot write '%s': %s", path != NULL ?
			cmd_printable(path, p, sizeof(p)) : "standard output",
			strerror(errno));
	return ok;
}

int cmd_output_needs_html(void)
{
	cmd_error("-o/--output writes the HTML page: give --format html");
	return EXIT_USAGE;
}

bool cmd_parse_identities(const char *arg, enum cmd_identities *out)
{
	if (strcmp(arg, "mfrom") == 0 || strcmp(arg, "mailfrom") == 0)
		*out = CMD_ID_MFROM;
	else if (strcmp(arg, "helo") == 0)
		*out = CMD_ID_HELO;
	else if (strcmp(arg, "both") == 0)
		*out = CMD_ID_BOTH;
	else {
		char p[128];

		cmd_error("--identity must be mfrom, helo or both, not '%s'",
			cmd_printable(arg, p, sizeof(p)));
		return false;
	}
	return true;
}

bool cmd_parse_headers(const char *arg, enum cmd_headers *out)
{
	if (strcmp(arg, "received-spf") == 0)
		*out = CMD_HDR_RECEIVED;
	else if (strcmp(arg, "auth-results") == 0 ||
	    strcmp(arg, "authentication-results") == 0)
		*out = CMD_HDR_AUTHRES;
	else if (strcmp(arg, "both") == 0)
		*out = CMD_HDR_BOTH;
	else {
		char p[128];

		cmd_error("--header must be received-spf, auth-results or both, not '%s'",
			cmd_printable(arg, p, sizeof(p)));
		return false;
	}
	return true;
}

/*
 * The sender and the HELO name go through spf_identity_read(), the one
 * reader of identities (evaluator/check/identity.c), which
 * spf_check_start() also uses: the command refuses exactly what the
 * library cannot evaluate, and what it read is handed on
 * (spf_request_t.identities), not read again.
 */
bool cmd_identities(const char *sender, const char *helo,
	spf_identity_parts_t *parts, spf_arena_t **arena, char *why, size_t whylen)
{
	const char *reason = NULL;
	spf_status_t st;

	*arena = spf_arena_create();
	if (*arena == NULL) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	st = spf_identity_read(*arena, NULL, sender, helo, parts, &reason);
	if (st == SPF_OK)
		return true;
	snprintf(why, whylen, "%s", reason != NULL ? reason : spf_strerror(st));
	spf_arena_destroy(*arena);
	*arena = NULL;
	return false;
}

static bool read_identity(const char *sender, const char *helo,
	spf_identity_parts_t *parts, spf_arena_t **arena, char *why, size_t whylen)
{
	return cmd_identities(sender, helo, parts, arena, why, whylen);
}

static const char *keep(const char *s, char **owned, spf_arena_t *arena,
	char *why, size_t whylen)
{
	*owned = spf_strdup(s);
	spf_arena_destroy(arena);
	if (*owned == NULL)
		snprintf(why, whylen, "out of memory");
	return *owned;
}

const char *cmd_sender(const char *s, char **owned, char *why, size_t whylen)
{
	spf_identity_parts_t parts;
	spf_arena_t *arena;

	*owned = NULL;
	if (!read_identity(s, NULL, &parts, &arena, why, whylen))
		return NULL;
	return keep(parts.sender, owned, arena, why, whylen);
}

const char *cmd_helo(const char *s, char **owned, char *why, size_t whylen)
{
	spf_identity_parts_t parts;
	spf_arena_t *arena;

	*owned = NULL;
	if (!read_identity(NULL, s, &parts, &arena, why, whylen))
		return NULL;
	return keep(parts.helo != NULL ? parts.helo : "", owned, arena, why, whylen);
}

const char *cmd_dmarc_from(const char *s, const char *what, char **owned,
	char *why, size_t whylen)
{
	const char *lt = strrchr(s, '<'), *at, *end;
	const char *err = NULL;
	char *d;

	*owned = NULL;
	if (lt != NULL)         /* "Name <a@b>": the address in <> */
		s = lt + 1;
	at = strrchr(s, '@');
	if (at != NULL)
		s = at + 1;
	end = s + strcspn(s, ">");
	if (end == s) {
		snprintf(why, whylen, "%s has no domain (give ADDRESS or DOMAIN)", what);
		return NULL;
	}
	d = spf_strndup(s, (size_t)(end - s));
	if (d == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (spf_dns_to_ascii(d, owned, &err) != SPF_OK) {
		char buf[256];

		snprintf(why, whylen, "%s: '%s' is not a domain name%s%s",
			what, cmd_printable(d, buf, sizeof(buf)), err ? ": " : "",
			err ? err : "");
		spf_free(d);
		return NULL;
	}
	spf_free(d);
	return *owned;
}

bool cmd_client_ip(const char *s, spf_addr_t *ip, char *why, size_t whylen)
{
	const char *problem = spf_client_addr_problem(s, ip);
	char p[128];

	if (problem == NULL)
		return true;
	snprintf(why, whylen, "client address '%s': %s",
		cmd_printable(s, p, sizeof(p)), problem);
	return false;
}

/* ---- evaluation ---- */

const struct cmd_ident *cmd_eval_primary(const struct cmd_eval *ev)
{
	return ev->mfrom.used ? &ev->mfrom : &ev->helo;
}

bool cmd_ident_done(const struct cmd_ident *id)
{
	return id->used && (id->sum != NULL || id->job != NULL);
}

const spf_job_summary_t *cmd_ident_summary(const struct cmd_ident *id,
	spf_job_summary_t *view)
{
	if (id->sum != NULL)
		return id->sum;
	if (id->job == NULL)
		return NULL;
	spf_job_summary_view(id->job, view);
	return view;
}

void cmd_ident_let_go(struct cmd_ident *id)
{
	if (id->job == NULL || id->sum != NULL)
		return;
	id->sum = spf_job_summarize(id->job);
	if (id->sum == NULL)
		return;   /* out of memory: keep the job, the output is the same */
	spf_job_destroy(id->job);
	id->job = NULL;
}

static spf_status_t run_one(spf_resolver_t *res, const spf_request_t *base,
	spf_identity_t identity, struct cmd_ident *id)
{
	spf_status_t st = SPF_OK;
	double t0 = cmd_now_ms();

	id->used = true;
	id->req = *base;
	id->req.identity = identity;
	id->job = spf_check_sync(res, &id->req, &st);
	id->elapsed_ms = cmd_now_ms() - t0;
	return id->job ? SPF_OK : st;
}

spf_status_t cmd_evaluate(spf_resolver_t *res, const spf_request_t *base,
	enum cmd_identities ids, bool keep_jobs, struct cmd_eval *ev)
{
	spf_status_t st = SPF_OK;
	double t0 = cmd_now_ms();

	memset(ev, 0, sizeof(*ev));
	/* RFC 7208 §2.3 before §2.4: HELO first, and gone (but for its
	 * summary) before MAIL FROM starts */
	if (ids & CMD_ID_HELO)
		st = run_one(res, base, SPF_IDENTITY_HELO, &ev->helo);
	if (!keep_jobs)
		cmd_ident_let_go(&ev->helo);
	if (st == SPF_OK && (ids & CMD_ID_MFROM))
		st = run_one(res, base, SPF_IDENTITY_MFROM, &ev->mfrom);
	ev->elapsed_ms = cmd_now_ms() - t0;
	return st;
}

void cmd_eval_finish(struct cmd_eval *ev)
{
	spf_job_destroy(ev->helo.job);
	spf_job_destroy(ev->mfrom.job);
	spf_job_summary_destroy(ev->helo.sum);
	spf_job_summary_destroy(ev->mfrom.sum);
	ev->helo.job = ev->mfrom.job = NULL;
	ev->helo.sum = ev->mfrom.sum = NULL;
}

/* ---- JSON ---- */

json_t *cmd_json_text(const char *s)
{
	json_t *j;
	char buf[2048];

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_string(cmd_printable(s, buf, sizeof(buf)));
}

json_t *cmd_json_textn(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *copy;

	if (j != NULL)
		return j;
	/* not UTF-8: up to a NUL byte, as cmd_json_text() shows it */
	if ((copy = malloc(len + 1)) == NULL)
		return json_null();
	memcpy(copy, s, len);
	copy[len] = '\0';
	j = cmd_json_text(copy);
	free(copy);
	return j;
}

static double round_ms(double ms)
{
	return (double)(long long)(ms * 1000.0 + 0.5) / 1000.0;
}

/* The keys from "domain" to "void_lookups" of an identity's summary. */
static void summary_json(json_t *o, const spf_job_summary_t *s)
{
	json_object_set_new(o, "domain", cmd_json_text(s->domain ? s->domain : s->start_domain));
	json_object_set_new(o, "mechanism", cmd_json_text(s->mechanism));
	json_object_set_new(o, "explanation", cmd_json_text(s->explanation));
	json_object_set_new(o, "problem", cmd_json_text(s->problem));
	json_object_set_new(o, "lookups", json_integer(s->lookups));
	json_object_set_new(o, "void_lookups", json_integer(s->void_lookups));
}

json_t *cmd_ident_json(const struct cmd_ident *id)
{
	spf_job_summary_t view;
	const spf_job_summary_t *s = cmd_ident_summary(id, &view);
	json_t *o = json_object();

	if (o == NULL || s == NULL)
		return o;
	json_object_set_new(o, "identity", json_string(
		id->req.identity == SPF_IDENTITY_HELO ? "helo" : "mfrom"));
	json_object_set_new(o, "result", json_string(spf_result_str(s->result)));
	json_object_set_new(o, "sender", cmd_json_text(s->sender));
	summary_json(o, s);
	json_object_set_new(o, "elapsed_ms", json_real(round_ms(id->elapsed_ms)));
	return o;
}

json_t *cmd_eval_json(const struct cmd_eval *ev)
{
	const struct cmd_ident *p = cmd_eval_primary(ev);
	spf_job_summary_t view;
	const spf_job_summary_t *s = cmd_ident_summary(p, &view);
	json_t *o = json_object(), *ids = json_object();
	char ip[64];

	if (o == NULL || ids == NULL || s == NULL) {
		json_decref(o);
		json_decref(ids);
		return NULL;
	}
	/* the keys of schema 1 as check printed them first, for the
	 * top-level (MAIL FROM) identity */
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "result", json_string(spf_result_str(s->result)));
	json_object_set_new(o, "identity", json_string(
		p->req.identity == SPF_IDENTITY_HELO ? "helo" : "mfrom"));
	json_object_set_new(o, "ip", json_string(spf_addr_str(&p->req.ip, ip, sizeof(ip))));
	json_object_set_new(o, "sender", cmd_json_text(s->sender));
	json_object_set_new(o, "helo", cmd_json_text(p->req.helo && *p->req.helo ? p->req.helo : NULL));
	summary_json(o, s);
	json_object_set_new(o, "elapsed_ms", json_real(round_ms(ev->elapsed_ms)));
	/* per identity, in evaluation order */
	if (cmd_ident_done(&ev->helo))
		json_object_set_new(ids, "helo", cmd_ident_json(&ev->helo));
	if (cmd_ident_done(&ev->mfrom))
		json_object_set_new(ids, "mfrom", cmd_ident_json(&ev->mfrom));
	json_object_set_new(o, "identities", ids);
	return o;
}

int cmd_json_print(json_t *o, bool compact)
{
	char *text;

	if (o == NULL)
		return -1;
	cmd_charset_raw();   /* JSON is UTF-8 in every locale (--json did it too) */
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6) |
		(compact ? JSON_COMPACT : JSON_INDENT(2)));
	if (text == NULL)
		return -1;
	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
	return 0;
}

/* ---- text ---- */

void cmd_ident_line(FILE *out, const struct cmd_ident *id)
{
	spf_job_summary_t view;
	const spf_job_summary_t *s = cmd_ident_summary(id, &view);
	unsigned vlimit = id->req.void_limit ? id->req.void_limit : 2;
	char p[1024];

	if (s == NULL)
		return;
	fprintf(out, "%s", spf_result_str(s->result));
	fprintf(out, "  domain=%s", cmd_printable(s->domain ? s->domain : s->start_domain,
		p, sizeof(p)));
	if (s->mechanism != NULL)
		fprintf(out, "  mechanism=\"%s\"", s->mechanism);
	fprintf(out, "  lookups=%u/10  void=%u/%u", s->lookups, s->void_lookups, vlimit);
	if (s->explanation != NULL)
		fprintf(out, "  explanation=\"%s\"", s->explanation);
	if (s->problem != NULL)
		fprintf(out, "  problem=\"%s\"", s->problem);
	fputc('\n', out);
}

/* ---- header fields ---- */

bool cmd_headers(const struct cmd_eval *ev, enum cmd_headers hdrs,
	const char *receiver, const char *authserv_id, FILE *out, json_t *json)
{
	const struct cmd_ident *list[2] = { &ev->mfrom, &ev->helo };
	spf_header_info_t info[2];
	const spf_header_info_t *order[2];
	spf_header_opts_t opts = { 0 };
	size_t n = 0;
	json_t *jh = NULL, *jr = NULL;
	bool ok = true;

	if (hdrs == CMD_HDR_NONE)
		return true;
	if (receiver == NULL || *receiver == '\0') {
		receiver = cmd_receiver(NULL);
	}
	opts.receiver = receiver;
	opts.authserv_id = authserv_id;
	/* MAIL FROM first: its Received-SPF is the newer trace field */
	for (size_t i = 0; i < 2; i++) {
		spf_job_summary_t view;
		const spf_job_summary_t *s = cmd_ident_summary(list[i], &view);

		if (!list[i]->used || s == NULL)
			continue;
		spf_header_info_from_summary(&info[n], s, &list[i]->req);
		order[n] = &info[n];
		n++;
	}
	if (n == 0)
		return true;
	if (json != NULL) {
		jh = json_object();
		jr = json_array();
		json_object_set_new(json, "headers", jh);
	}
	if (hdrs & CMD_HDR_RECEIVED) {
		for (size_t i = 0; i < n && ok; i++) {
			char *f = NULL;

			if (spf_header_received_spf(&info[i], &opts, &f) != SPF_OK) {
				ok = false;
				break;
			}
			if (jr != NULL)
				json_array_append_new(jr, json_string(f));
			else
				fprintf(out, "%s\n", f);
			spf_free(f);
		}
		if (jh != NULL)
			json_object_set(jh, "received_spf", jr);
	}
	if (ok && (hdrs & CMD_HDR_AUTHRES)) {
		char *f = NULL;

		if (spf_header_auth_results(order, n, &opts, &f) != SPF_OK) {
			ok = false;
		} else {
			if (jh != NULL)
				json_object_set_new(jh, "authentication_results", json_string(f));
			else
				fprintf(out, "%s\n", f);
			spf_free(f);
		}
	}
	json_decref(jr);
	if (!ok)
		cmd_error("cannot build the header fields: out of memory");
	return ok;
}

/* ---- how other receivers judge it (issue 17) ---- */

bool cmd_void_count_opt(const char *arg, spf_void_count_t *out)
{
	char p[128];

	if (strcmp(arg, "rfc") == 0)
		*out = SPF_VOID_RFC;
	else if (strcmp(arg, "per-query") == 0)
		*out = SPF_VOID_PER_QUERY;
	else {
		cmd_error("--void-count must be rfc or per-query, not '%s'",
			cmd_printable(arg, p, sizeof(p)));
		return false;
	}
	return true;
}

bool cmd_other_receivers(spf_resolver_t *res, const struct cmd_ident *id,
	struct cmd_other *o)
{
	spf_job_summary_t view;
	const spf_job_summary_t *sum = cmd_ident_summary(id, &view);
	spf_request_t req;
	spf_status_t st = SPF_OK;
	spf_job_t *job;
	bool differs;

	if (!id->used || sum == NULL || sum->host_voids == 0)
		return false;   /* no MX host went unanswered: the same count */
	req = id->req;
	req.void_count = req.void_count == SPF_VOID_RFC ? SPF_VOID_PER_QUERY :
		SPF_VOID_RFC;
	req.no_trace = true;
	req.trace_past_limits = false;
	req.debug = NULL;
	job = spf_check_sync(res, &req, &st);
	if (job == NULL)
		return false;
	differs = spf_job_result(job) != sum->result;
	if (differs) {
		const char *problem = spf_job_problem(job);

		o->who = req.void_count == SPF_VOID_PER_QUERY ? "pyspf and Mail::SPF" :
			"RFC 7208";
		o->counting = req.void_count == SPF_VOID_PER_QUERY ? "per-query" : "rfc";
		o->result = spf_job_result(job);
		snprintf(o->problem, sizeof(o->problem), "%s", problem ? problem : "");
	}
	spf_job_destroy(job);
	return differs;
}

void cmd_other_line(FILE *out, const struct cmd_other *o)
{
	fprintf(out, "%s: %s", o->who, spf_result_str(o->result));
	if (o->problem[0] != '\0') {
		fputs(": ", out);
		spf_escape_write(out, o->problem, strlen(o->problem), SPF_ESC_CTL);
	}
	fprintf(out, " (void lookups counted %s: --void-count %s)\n",
		strcmp(o->counting, "rfc") == 0 ? "per term, as RFC 7208 §4.6.4 says" :
		"per address query, MX hosts included", o->counting);
}

json_t *cmd_other_json(const struct cmd_other *o)
{
	json_t *j;

	if (o == NULL)
		return json_null();
	j = json_object();
	if (j == NULL)
		return NULL;
	json_object_set_new(j, "receivers", json_string(o->who));
	json_object_set_new(j, "void_count", json_string(o->counting));
	json_object_set_new(j, "result", json_string(spf_result_str(o->result)));
	json_object_set_new(j, "problem", o->problem[0] ? cmd_json_text(o->problem) :
		json_null());
	return j;
}
