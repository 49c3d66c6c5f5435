/*
 * audit.c - `spfcheck audit`: the SPF and DMARC health of many domains
 * at once, one line of output per domain, in input order.
 *
 * DESCRIPTION
 *	Domains come one per line from FILE or stdin (blank lines and lines
 *	starting with # are skipped).  Each domain gets two runs on the one
 *	event loop and the one resolver (its zones and cache shared): SPF's
 *	lint (spf_lint_start(): the record, its whole include/redirect tree,
 *	lookups and void lookups counted to the end, every lint rule) and
 *	DMARC's lint (spf_dmarc_lint_start(): the DNS Tree Walk, the policy
 *	that applies, every DM rule); when both have called back, whether
 *	the SPF record can pass aligned (spf_dmarc_spf_alignable(), with the
 *	Organizational Domain the walk found).  With a Public Suffix List
 *	(--org-domain psl or --psl-file; without, none is read and the
 *	rules that need one do not run), the DMARC lint compares the walk
 *	with it, and the SPF domains that can align get walks of their
 *	own (DM-14, spf_dmarc_lint_spf_domains()) before the row is made.
 *
 *	As batch does, lines are read only while fewer than --concurrency
 *	domains are in flight and the reorder window (4 x concurrency, at
 *	least 64) has room: a domain done early waits there until every one
 *	before it is written, so memory stays bounded whatever the input.
 *
 *	Output: a table (default), CSV with a header line (--csv, RFC 4180
 *	quoting), or one JSON object per line (--json, schema 1, with every
 *	finding).  A line that is not a domain name gets a line of its own in
 *	its place, with the reason, and the audit goes on.  A progress line
 *	goes to stderr only when stderr is a terminal; a summary line always.
 *
 *	Exit status: 0 clean (warnings without --strict), 1 warnings with
 *	--strict, 2 errors (SPF's or DMARC's), 64 bad usage, an unreadable
 *	file or a line that is not a domain, 70 internal error.
 *
 * DIAGNOSTICS
 *	An unreadable FILE: one line on stderr, exit 64, nothing on stdout.
 *	A bad line: its reason in its output line, exit 64 at the end.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 1024
#define DEFAULT_CONCURRENCY 64
#define MAX_CONCURRENCY 10000
#define DOMAIN_WIDTH 28

static const char audit_usage[] =
	"usage: spfcheck audit [options] [FILE]\n"
	"\n"
	"Audit the SPF and DMARC set-up of many domains at once: read domains,\n"
	"one per line, from FILE (or stdin, or \"-\"; blank lines and lines\n"
	"starting with # are skipped), check them all concurrently, and write\n"
	"one line per domain in input order: SPF present, records, DNS lookups\n"
	"and void lookups of the whole tree, lint errors and warnings; the\n"
	"DMARC policy record found by the DNS Tree Walk (RFC 9989), its policy,\n"
	"t=, whether rua is set, its lint errors and warnings; whether SPF can\n"
	"pass aligned (yes, providers: only other organisations' includes pass,\n"
	"never, no_record); the rule ids found.  A line that is not a domain\n"
	"gets an error line in its place; the audit goes on.\n"
	"\n"
	"options:\n"
	"  --csv                   CSV with a header line instead of the table\n"
	"  --json                  one JSON object per domain (JSON lines), with\n"
	"                          every finding\n"
	"  --strict                exit 1 when there are warnings\n"
	"  --concurrency N         audit up to N domains at once (default 64)\n"
	CMD_DMARC_ORG_HELP
	"                          with either of these two, the DMARC lint also\n"
	"                          compares the walk with the list (DM-13, DM-14,\n"
	"                          DM-15, DM-17); without, no list is read\n"
	COMMON_HELP_ZONE COMMON_HELP_RECORD COMMON_HELP_DNS COMMON_HELP_VOID
	"  -h, --help              this text\n"
	"\n"
	"columns: domain spf records lookups void_lookups spf_errors spf_warnings\n"
	"  dmarc dmarc_record policy t rua dmarc_errors dmarc_warnings spf_align\n"
	"  rules error\n"
	"\n"
	"exit status: 0 clean, 1 warnings (with --strict), 2 errors,\n"
	"64 bad usage, an unreadable FILE or a line that is not a domain,\n"
	"70 internal error.  A summary (counts, rate) goes to stderr.\n";

enum audit_format { FMT_TABLE = 0, FMT_CSV, FMT_JSON };

struct audit;

/* One input line in the reorder window. */
struct slot {
	struct audit *a;
	unsigned long lineno;
	bool done;            /* out is ready */
	char *out;            /* the output line(s), newline included */
	char *owned;          /* the domain's A-label (spf_free) */
	const char *domain;
	spf_lint_t *spf;
	spf_dmarc_lint_t *dm;
	int waiting;          /* runs that have not called back */
};

struct audit {
	spf_resolver_t *res;
	const struct common_opts *co;
	/* --org-domain, --psl-file: the list and the method, or none */
	spf_dmarc_lint_opts_t dmarc_opts;
	struct slot *win;
	size_t nwin;
	unsigned long next_seq, write_seq;
	unsigned running, concurrency;
	enum audit_format fmt;
	bool finished_any;
	bool failed;          /* an internal error */
	bool malformed;       /* a line that is not a domain */
	bool any_error, any_warning;
	unsigned long domains, clean, with_warnings, with_errors, bad_lines;
};

static char *xstrdup(const char *s)
{
	char *p = spf_strdup(s);

	if (p == NULL) {
		cmd_error("out of memory");
		exit(EXIT_INTERNAL);
	}
	return p;
}

static void set_out(struct slot *s, spf_buf_t *b)
{
	if (b->err != SPF_OK)
		s->a->failed = true;
	s->out = xstrdup(b->err == SPF_OK ? spf_buf_cstr(b) : "internal error\n");
	s->done = true;
}

/* ---- the columns ---- */

struct row {
	const char *domain;
	const char *spf;           /* lint's state word, or "error" */
	unsigned records, lookups, voids;
	unsigned spf_n[3];         /* info, warning, error */
	const char *dmarc;         /* where the record was found */
	const char *dmarc_record;  /* its domain */
	const char *policy, *t, *rua;
	unsigned dm_n[3];
	const char *align;
	const char *rules;         /* rule ids of errors and warnings */
	const char *error;
};

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line break; control and non-ASCII bytes as \xNN. */
static void csv_field(spf_buf_t *b, const char *s, bool last)
{
	if (s != NULL && *s != '\0') {
		bool quote = strpbrk(s, ",\"\r\n") != NULL;
		spf_buf_t e;

		spf_buf_init(&e, 4 * MAX_LINE);
		spf_buf_escape(&e, s, strlen(s), SPF_ESC_FIELD, 0);
		if (quote)
			spf_buf_putc(b, '"');
		for (const char *p = e.err == SPF_OK ? spf_buf_cstr(&e) : "?"; *p; p++) {
			if (*p == '"')
				spf_buf_putc(b, '"');
			spf_buf_putc(b, *p);
		}
		if (quote)
			spf_buf_putc(b, '"');
		spf_buf_finish(&e);
	}
	spf_buf_putc(b, last ? '\n' : ',');
}

static void csv_uint(spf_buf_t *b, bool set, unsigned v)
{
	if (set)
		spf_buf_printf(b, "%u", v);
	spf_buf_putc(b, ',');
}

static const char csv_header[] =
	"domain,spf,records,lookups,void_lookups,spf_errors,spf_warnings,"
	"dmarc,dmarc_record,policy,t,rua,dmarc_errors,dmarc_warnings,"
	"spf_align,rules,error\n";

static void row_csv(spf_buf_t *b, const struct row *r)
{
	bool spf = r->error == NULL;
	bool dm = r->error == NULL;

	csv_field(b, r->domain, false);
	csv_field(b, r->spf, false);
	csv_uint(b, spf, r->records);
	csv_uint(b, spf, r->lookups);
	csv_uint(b, spf, r->voids);
	csv_uint(b, spf, r->spf_n[SPF_LINT_ERROR]);
	csv_uint(b, spf, r->spf_n[SPF_LINT_WARNING]);
	csv_field(b, r->dmarc, false);
	csv_field(b, r->dmarc_record, false);
	csv_field(b, r->policy, false);
	csv_field(b, r->t, false);
	csv_field(b, r->rua, false);
	csv_uint(b, dm, r->dm_n[SPF_LINT_ERROR]);
	csv_uint(b, dm, r->dm_n[SPF_LINT_WARNING]);
	csv_field(b, r->align, false);
	csv_field(b, r->rules, false);
	csv_field(b, r->error, true);
}

static const char table_header[] =
	"DOMAIN                       SPF        REC LOOKUPS VOID ERR WARN  "
	"DMARC   POLICY     T RUA ERR WARN  SPF-ALIGN  RULES\n";

static void row_table(spf_buf_t *b, const struct row *r)
{
	spf_buf_t d;

	spf_buf_init(&d, 4 * MAX_LINE);
	spf_buf_escape(&d, r->domain, strlen(r->domain), SPF_ESC_FIELD, 0);
	spf_buf_printf(b, "%-*s ", DOMAIN_WIDTH,
		d.err == SPF_OK ? spf_buf_cstr(&d) : "?");
	spf_buf_finish(&d);
	if (r->error != NULL) {
		spf_buf_printf(b, "error: ");
		spf_buf_escape(b, r->error, strlen(r->error), SPF_ESC_FIELD, 0);
		spf_buf_putc(b, '\n');
		return;
	}
	spf_buf_printf(b, "%-10s %3u %7u %4u %3u %4u  %-7s %-10s %-1s %-3s %3u %4u  %-10s %s\n",
		r->spf, r->records, r->lookups, r->voids,
		r->spf_n[SPF_LINT_ERROR], r->spf_n[SPF_LINT_WARNING],
		r->dmarc, r->policy ? r->policy : "-", r->t ? r->t : "-",
		r->rua ? r->rua : "-",
		r->dm_n[SPF_LINT_ERROR], r->dm_n[SPF_LINT_WARNING], r->align,
		r->rules != NULL && *r->rules ? r->rules : "-");
}

/* ---- one domain ---- */

static const char *where_word(spf_dmarc_where_t w)
{
	switch (w) {
	case SPF_DMARC_AT_AUTHOR:
		return "author";
	case SPF_DMARC_AT_ORG:
		return "org";
	case SPF_DMARC_AT_PSD:
		return "psd";
	default:
		return "none";
	}
}

/* Add f's rule id to rules (space-separated, each once) when it is an
 * error or a warning. */
static void add_rule(spf_buf_t *rules, const spf_lint_finding_t *f)
{
	const char *have = rules->err == SPF_OK ? spf_buf_cstr(rules) : "";
	size_t n = strlen(f->rule);

	if (f->severity == SPF_LINT_INFO)
		return;
	for (const char *p = have; (p = strstr(p, f->rule)) != NULL; p += n)
		if ((p == have || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return;
	if (*have != '\0')
		spf_buf_putc(rules, ' ');
	spf_buf_puts(rules, f->rule);
}

static json_t *findings_json(size_t n, const spf_lint_finding_t *(*get)(const void *, size_t),
	const void *run)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		json_array_append_new(a, cmd_finding_json(get(run, i)));
	return a;
}

static const spf_lint_finding_t *spf_get(const void *run, size_t i)
{
	return spf_lint_finding(run, i);
}

static const spf_lint_finding_t *dm_get(const void *run, size_t i)
{
	return spf_dmarc_lint_finding(run, i);
}

static json_t *row_json(const struct slot *s, const struct row *r,
	const spf_dmarc_view_t *v, const char *provider)
{
	json_t *o = json_object(), *spf = json_object(), *dm = json_object();

	if (o == NULL || spf == NULL || dm == NULL) {
		json_decref(o);
		json_decref(spf);
		json_decref(dm);
		return NULL;
	}
	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "line", json_integer((json_int_t)s->lineno));
	json_object_set_new(o, "domain", json_string(r->domain));
	json_object_set_new(spf, "state", json_string(r->spf));
	json_object_set_new(spf, "records", json_integer(r->records));
	json_object_set_new(spf, "lookups", json_integer(r->lookups));
	json_object_set_new(spf, "void_lookups", json_integer(r->voids));
	json_object_set_new(spf, "errors", json_integer(r->spf_n[SPF_LINT_ERROR]));
	json_object_set_new(spf, "warnings", json_integer(r->spf_n[SPF_LINT_WARNING]));
	json_object_set_new(spf, "notes", json_integer(r->spf_n[SPF_LINT_INFO]));
	json_object_set_new(spf, "align", json_string(r->align));
	json_object_set_new(spf, "provider", cmd_json_text(provider));
	json_object_set_new(spf, "findings", findings_json(spf_lint_count(s->spf),
		spf_get, s->spf));
	json_object_set_new(o, "spf", spf);
	json_object_set_new(dm, "org_domain_method",
		json_string(CMD_DMARC_METHOD(v->psl)));
	json_object_set_new(dm, "psl", cmd_json_text(spf_psl_source(
		s->a->dmarc_opts.psl)));
	json_object_set_new(dm, "where", json_string(r->dmarc));
	json_object_set_new(dm, "record_domain", cmd_json_text(v->policy_domain));
	json_object_set_new(dm, "org_domain", cmd_json_text(v->author->org_domain));
	json_object_set_new(dm, "record", v->record != NULL ?
		cmd_json_textn(v->record->text, v->record->len) : json_null());
	json_object_set_new(dm, "policy_tag", cmd_json_text(v->policy_tag));
	json_object_set_new(dm, "policy", v->record != NULL ?
		json_string(spf_dmarc_policy_str(v->policy)) : json_null());
	json_object_set_new(dm, "applied", v->record != NULL ?
		json_string(spf_dmarc_policy_str(v->applied)) : json_null());
	json_object_set_new(dm, "testing", json_boolean(v->record != NULL &&
		v->record->testing));
	json_object_set_new(dm, "rua", json_boolean(v->record != NULL &&
		v->record->nrua > 0));
	json_object_set_new(dm, "errors", json_integer(r->dm_n[SPF_LINT_ERROR]));
	json_object_set_new(dm, "warnings", json_integer(r->dm_n[SPF_LINT_WARNING]));
	json_object_set_new(dm, "notes", json_integer(r->dm_n[SPF_LINT_INFO]));
	json_object_set_new(dm, "findings", findings_json(spf_dmarc_lint_count(s->dm),
		dm_get, s->dm));
	json_object_set_new(o, "dmarc", dm);
	return o;
}

static void put_json(struct slot *s, spf_buf_t *b, json_t *o)
{
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	if (text == NULL)
		s->a->failed = true;
	spf_buf_puts(b, text != NULL ? text : "{}");
	spf_buf_putc(b, '\n');
	free(text);
}

static void put_row(struct slot *s, const struct row *r, json_t *o)
{
	spf_buf_t b;

	spf_buf_init(&b, 1 << 20);
	if (s->a->fmt == FMT_CSV)
		row_csv(&b, r);
	else if (s->a->fmt == FMT_TABLE)
		row_table(&b, r);
	else
		put_json(s, &b, o);
	set_out(s, &b);
	spf_buf_finish(&b);
}

/* A line that is not a domain (or a run that could not start). */
static void error_row(struct slot *s, const char *input, const char *why)
{
	struct row r = { .domain = input, .spf = "error",
		.error = why != NULL ? why : "failed", .rules = "" };
	json_t *o = NULL;

	if (s->a->fmt == FMT_JSON) {
		char tmp[MAX_LINE * 4 + 16];

		o = json_object();
		json_object_set_new(o, "schema", json_integer(1));
		json_object_set_new(o, "line", json_integer((json_int_t)s->lineno));
		json_object_set_new(o, "input",
			json_string(cmd_printable(input, tmp, sizeof(tmp))));
		json_object_set_new(o, "error", json_string(why));
	}
	put_row(s, &r, o);
	json_decref(o);
}

/* Both runs are back: the row. */
static void finish(struct slot *s)
{
	struct audit *a = s->a;
	struct row r = { .domain = s->domain };
	const spf_dmarc_view_t *v;
	spf_lint_counts_t c;
	spf_buf_t rules;
	const char *provider = NULL;
	json_t *o = NULL;

	a->running--;
	a->finished_any = true;
	if (spf_lint_status(s->spf) != SPF_OK ||
	    spf_dmarc_lint_status(s->dm) != SPF_OK) {
		a->failed = true;
		error_row(s, s->domain, spf_strerror(spf_lint_status(s->spf) != SPF_OK ?
			spf_lint_status(s->spf) : spf_dmarc_lint_status(s->dm)));
		return;
	}
	v = spf_dmarc_lint_view(s->dm);
	spf_lint_counts(s->spf, &c);
	r.spf = cmd_lint_state_str(spf_lint_top_state(s->spf));
	r.records = c.records;
	r.lookups = c.lookups;
	r.voids = c.voids;
	spf_buf_init(&rules, 4096);
	for (size_t i = 0; i < spf_lint_count(s->spf); i++) {
		const spf_lint_finding_t *f = spf_lint_finding(s->spf, i);

		r.spf_n[f->severity]++;
		add_rule(&rules, f);
	}
	for (size_t i = 0; i < spf_dmarc_lint_count(s->dm); i++) {
		const spf_lint_finding_t *f = spf_dmarc_lint_finding(s->dm, i);

		r.dm_n[f->severity]++;
		add_rule(&rules, f);
	}
	r.rules = rules.err == SPF_OK ? spf_buf_cstr(&rules) : "";
	r.dmarc = where_word(v->where);
	if (v->where == SPF_DMARC_AT_NONE && v->author->dns_error)
		r.dmarc = "dns_error";
	r.dmarc_record = v->policy_domain;
	/* NULL: no record (empty in CSV, "-" in the table) */
	r.policy = v->record != NULL ? spf_dmarc_policy_str(v->policy) : NULL;
	r.t = v->record == NULL ? NULL : v->record->testing ? "y" : "n";
	r.rua = v->record == NULL ? NULL : v->record->nrua > 0 ? "yes" : "no";
	r.align = spf_dmarc_spf_align_str(spf_dmarc_spf_alignable(s->spf,
		v->author->org_domain, &provider));
	if (r.spf_n[SPF_LINT_ERROR] + r.dm_n[SPF_LINT_ERROR] > 0) {
		a->any_error = true;
		a->with_errors++;
	} else if (r.spf_n[SPF_LINT_WARNING] + r.dm_n[SPF_LINT_WARNING] > 0) {
		a->any_warning = true;
		a->with_warnings++;
	} else {
		a->clean++;
	}
	if (a->fmt == FMT_JSON)
		o = row_json(s, &r, v, provider);
	put_row(s, &r, o);
	json_decref(o);
	spf_buf_finish(&rules);
	/* the answers the runs hold go now, not when the line is written */
	spf_lint_destroy(s->spf);
	spf_dmarc_lint_destroy(s->dm);
	s->spf = NULL;
	s->dm = NULL;
}

static void on_spf_domains(spf_dmarc_lint_t *l, void *arg)
{
	(void)l;
	finish(arg);
}

/* Both runs are back: with a Public Suffix List, DM-14 for the SPF
 * domains first (walks of their own, on the loop), then the row. */
static void both_back(struct slot *s)
{
	if (s->a->dmarc_opts.psl != NULL && spf_lint_status(s->spf) == SPF_OK &&
	    spf_dmarc_lint_status(s->dm) == SPF_OK &&
	    spf_dmarc_lint_spf_domains(s->dm, s->spf, on_spf_domains, s))
		return;
	finish(s);
}

static void on_spf(spf_lint_t *l, void *arg)
{
	struct slot *s = arg;

	(void)l;
	if (--s->waiting == 0)
		both_back(s);
}

static void on_dmarc(spf_dmarc_lint_t *l, void *arg)
{
	struct slot *s = arg;

	(void)l;
	if (--s->waiting == 0)
		both_back(s);
}

/* Why line (trimmed) is not a domain name, or NULL with s->domain set. */
static const char *take_domain(struct slot *s, const char *line)
{
	const char *why = NULL;

	if (strpbrk(line, " \t@/") != NULL || *line == '.' || *line == '-')
		return "not a domain name";
	if (spf_dns_to_ascii(line, &s->owned, &why) != SPF_OK)
		return why != NULL ? why : "not a domain name";
	if (!spf_dmarc_domain_ok(s->owned))
		return "not a domain name: letters, digits, '-' and '_', "
			"labels of 1 to 63 bytes";
	/* as looked up and shown: lower case, no final dot */
	for (char *p = s->owned; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (strlen(s->owned) > 1 && s->owned[strlen(s->owned) - 1] == '.')
		s->owned[strlen(s->owned) - 1] = '\0';
	s->domain = s->owned;
	return NULL;
}

static void take_line(struct audit *a, struct slot *s, const char *line)
{
	spf_lint_request_t req = { .void_limit = a->co->void_limit };
	const char *why = take_domain(s, line);
	spf_status_t st = SPF_OK;

	if (why != NULL) {
		a->malformed = true;
		a->bad_lines++;
		error_row(s, line, why);
		return;
	}
	a->domains++;
	req.domain = s->domain;
	s->spf = spf_lint_start(a->res, &req, on_spf, s, &st);
	if (s->spf != NULL)
		s->dm = spf_dmarc_lint_start(a->res, s->domain, &a->dmarc_opts,
			on_dmarc, s, &st);
	if (s->spf == NULL || s->dm == NULL) {
		spf_lint_destroy(s->spf);
		s->spf = NULL;
		a->failed = true;
		error_row(s, line, spf_strerror(st));
		return;
	}
	s->waiting = 2;
	a->running++;
}

static void slot_clear(struct slot *s)
{
	struct audit *a = s->a;

	spf_lint_destroy(s->spf);
	spf_dmarc_lint_destroy(s->dm);
	spf_free(s->out);
	spf_free(s->owned);
	memset(s, 0, sizeof(*s));
	s->a = a;
}

static void flush(struct audit *a)
{
	while (a->write_seq < a->next_seq) {
		struct slot *s = &a->win[a->write_seq % a->nwin];

		if (!s->done)
			break;
		fputs(s->out, stdout);
		slot_clear(s);
		a->write_seq++;
	}
}

/* One line into buf, trimmed: 1, 0 at the end, -1 too long (the rest
 * consumed), -2 a read error. */
static int read_line(FILE *in, char *buf, size_t len)
{
	size_t n;
	int ch;
	char *p;

	if (fgets(buf, (int)len, in) == NULL)
		return ferror(in) ? -2 : 0;
	n = strlen(buf);
	if (!((n > 0 && buf[n - 1] == '\n') || feof(in))) {
		while ((ch = getc(in)) != EOF && ch != '\n')
			;
		return -1;
	}
	while (n > 0 && strchr(" \t\r\n", buf[n - 1]) != NULL)
		buf[--n] = '\0';
	for (p = buf; *p == ' ' || *p == '\t'; p++)
		;
	memmove(buf, p, strlen(p) + 1);
	return 1;
}

static void progress(const struct audit *a, double t0, bool final)
{
	double secs = (cmd_now_ms() - t0) / 1000.0;

	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r\033[Kaudit: %lu domains done, %u in flight, %.0f domains/s",
		a->write_seq, a->running, secs > 0 ? (double)a->write_seq / secs : 0.0);
	fflush(stderr);
}

int cmd_audit(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "csv", no_argument, NULL, 'C' },
		{ "strict", no_argument, NULL, 'S' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		CMD_DMARC_ORG_OPTS,
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { .not_for = COMMON_EVAL_ONLY, .cmd = "audit" };
	struct cmd_dmarc_args da = { 0 };
	struct audit a = { .concurrency = DEFAULT_CONCURRENCY };
	struct event_base *base = NULL;
	const char *input = NULL;
	FILE *in = stdin;
	static char line[MAX_LINE + 2];
	bool eof = false, csv = false, strict = false;
	bool tty = isatty(STDERR_FILENO) == 1;
	double t0, last_progress = 0;
	char tmp[256];
	unsigned long lineno = 0;
	int opt, rc = EXIT_PASS;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int cr = cmd_dmarc_org_opt(&da, opt, optarg);

		if (cr == 0)
			cr = common_opt(&co, opt, optarg);
		if (cr < 0)
			return EXIT_USAGE;
		if (cr > 0)
			continue;
		switch (opt) {
		case 'C':
			csv = true;
			break;
		case 'S':
			strict = true;
			break;
		case 'c': {
			char *end;
			long v;

			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg || v < 1 ||
			    v > MAX_CONCURRENCY) {
				cmd_error("--concurrency must be a number from 1 to %d, not '%s'",
					MAX_CONCURRENCY, cmd_printable(optarg, tmp, sizeof(tmp)));
				return EXIT_USAGE;
			}
			a.concurrency = (unsigned)v;
			break;
		}
		case 'h':
			fputs(audit_usage, stdout);
			return 0;
		default:
			return cmd_option_error("audit", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("audit", argc, argv, optind, 0, 1,
	    "at most one FILE of domains (default: stdin)"))
		return EXIT_USAGE;
	if (csv && co.json) {
		cmd_error("--csv and --json exclude each other (see spfcheck audit --help)");
		return EXIT_USAGE;
	}
	a.fmt = csv ? FMT_CSV : co.json ? FMT_JSON : FMT_TABLE;
	if (optind < argc)
		input = argv[optind];
	/* the list only when asked for: the PSL rules' results depend on it */
	if ((da.org_psl || da.psl_file != NULL) && !cmd_dmarc_psl(&da))
		return EXIT_USAGE;
	a.dmarc_opts.psl = da.psl;
	a.dmarc_opts.psl_method = da.org_psl;
	if (input != NULL && strcmp(input, "-") != 0) {
		in = fopen(input, "r");
		if (in == NULL) {
			cmd_error("cannot read %s: %s",
				cmd_printable(input, tmp, sizeof(tmp)), strerror(errno));
			cmd_dmarc_args_finish(&da);
			return EXIT_USAGE;
		}
	}
	if (co.json)
		cmd_charset_raw();
	a.co = &co;
	if (!cmd_resolver(&co, &base, &a.res)) {
		if (in != stdin)
			fclose(in);
		cmd_dmarc_args_finish(&da);
		return EXIT_USAGE;
	}
	a.nwin = (size_t)a.concurrency * 4 < 64 ? 64 : (size_t)a.concurrency * 4;
	a.win = spf_calloc(a.nwin, sizeof(*a.win));
	if (a.win == NULL) {
		cmd_error("out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < a.nwin; i++)
		a.win[i].a = &a;
	if (a.fmt == FMT_CSV)
		fputs(csv_header, stdout);
	else if (a.fmt == FMT_TABLE)
		fputs(table_header, stdout);
	t0 = cmd_now_ms();
	for (;;) {
		while (!eof && a.running < a.concurrency && a.next_seq - a.write_seq < a.nwin) {
			int got = read_line(in, line, sizeof(line));
			struct slot *s;

			if (got == 0) {
				eof = true;
				break;
			}
			if (got == -2) {
				cmd_error("reading the domains: %s", strerror(errno));
				eof = true;
				a.failed = true;
				break;
			}
			lineno++;
			if (lineno == 1 && got == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
				memmove(line, line + 3, strlen(line + 3) + 1);
			if (got == 1 && (line[0] == '\0' || line[0] == '#'))
				continue;
			s = &a.win[a.next_seq % a.nwin];
			a.next_seq++;
			s->lineno = lineno;
			if (got == -1) {
				line[64] = '\0';
				a.malformed = true;
				a.bad_lines++;
				error_row(s, line, "the line is longer than 1024 characters");
			} else {
				take_line(&a, s, line);
			}
		}
		flush(&a);
		if (eof && a.write_seq == a.next_seq)
			break;
		if (a.running == 0)
			continue;
		a.finished_any = false;
		spf_resolver_run_until(a.res, &a.finished_any);
		if (!a.finished_any) {
			cmd_error("internal error: the event loop stopped with %u domains in flight",
				a.running);
			rc = EXIT_INTERNAL;
			goto out;
		}
		if (tty && cmd_now_ms() - last_progress > 200) {
			last_progress = cmd_now_ms();
			progress(&a, t0, false);
		}
	}
	if (tty)
		progress(&a, t0, true);
	{
		double secs = (cmd_now_ms() - t0) / 1000.0;

		fprintf(stderr, "audit: %lu domains: %lu clean, %lu with warnings, "
			"%lu with errors; %lu lines not domains; %.2f s, %.0f domains/s\n",
			a.domains, a.clean, a.with_warnings, a.with_errors, a.bad_lines,
			secs, secs > 0 ? (double)a.domains / secs : 0.0);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("writing the output: %s", strerror(errno));
		rc = EXIT_INTERNAL;
	} else if (a.failed) {
		rc = EXIT_INTERNAL;
	} else if (a.malformed) {
		rc = EXIT_USAGE;
	} else if (a.any_error) {
		rc = 2;
	} else if (a.any_warning && strict) {
		rc = 1;
	}
out:
	if (a.win != NULL) {
		for (size_t i = 0; i < a.nwin; i++)
			slot_clear(&a.win[i]);
		spf_free(a.win);
	}
	cmd_resolver_free(base, a.res);
	cmd_dmarc_args_finish(&da);
	if (in != stdin)
		fclose(in);
	return rc;
}
