/*
 * report.c - `spfcheck report FILE...`: DMARC aggregate reports (RFC
 * 9990) joined with SPF as it is today.
 *
 * DESCRIPTION
 *	Each operand is a file, a directory (read recursively, in name
 *	order, dot files and symbolic links to directories skipped) or "-"
 *	for stdin.  Each file is unwrapped (XML, gzip, zip or a mail
 *	message, told by content: spf_report_unwrap()) and parsed
 *	(spf_report_parse()); a line per report says who sent it, for
 *	which dates and policy.  Its records are folded at once into one
 *	source per (source IP, envelope domain, header_from), so memory
 *	grows with the distinct sources, not with the records read.  The
 *	envelope domain is the record's envelope_from, else the domain of
 *	its SPF auth_result, else its header_from.
 *
 *	The source IP is kept in its canonical text (spf_addr_str()).
 *	Then every distinct (source IP, envelope domain) is evaluated now,
 *	once (pair_up(); sources that differ by header_from only share the
 *	result), 64 at a time on one resolver and cache (spf_check_start()
 *	with want_ptr_name: the client's validated name as ptr finds it,
 *	RFC 7208 §5.5).  Sources are
 *	grouped by the Organizational Domain of that name, found with the
 *	Public Suffix List (libpsl): the DNS Tree Walk of RFC 9989 needs a
 *	DMARC record at the sender's organisation and up to 8 queries per
 *	name, and most relays' organisations publish none.  A source with
 *	no validated name is a group of its own, named by its address.
 *	The SPF leg's alignment with header_from (RFC 9989 §4.4) comes
 *	from spf_dmarc_run()'s walks: the Organizational Domains and the
 *	aspf of today's DMARC record (relaxed without one).
 *
 *	Groups that fail today (any result but pass) or whose passing
 *	mail does not align come first, each source with the term that
 *	decided (as check prints it) and an `spfcheck explain` line.
 *	--json prints one object, --csv a row per source, --format html a
 *	page where each source's explain tree (cmd_explain_html_body(), from
 *	the trace of today's evaluation, kept as HTML when the job ends, up
 *	to TRACE_BUDGET bytes) opens under its explain line.  --what-if with
 *	a draft --record evaluates every source again with the draft as
 *	the policy domain's record (a second resolver, as diff does) and
 *	shows the groups whose result would change.
 *
 * DIAGNOSTICS
 *	A file that cannot be read: one line, exit 66 at the end.  A file
 *	that is not a report (not XML, not a DMARC report, a DOCTYPE,
 *	truncated gzip, a zip with several files, over --max-size, a record
 *	with an invalid IP): one line naming the file, exit 65 at the end;
 *	the other files are still read.  Bad usage: 64.
 */
#include "cmd.h"
#include "report.h"
#include "html.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libpsl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_DATAERR 65
#define EXIT_NOINPUT 66
#define IN_FLIGHT 64
#define MAX_DEPTH 32
/* --format html keeps explain's tree of every source as HTML (a few KB
 * each) up to this many bytes in all; past it a source shows only the
 * explain command */
#define TRACE_BUDGET (32u << 20)

static const char report_usage[] =
	"usage: spfcheck report [options] FILE|DIR|- ...\n"
	"\n"
	"Read DMARC aggregate reports (RFC 9990: XML, .xml.gz, .zip with one XML\n"
	"file, or a mail message with the report attached; directories are read\n"
	"recursively, - is stdin) and evaluate SPF now for every source they\n"
	"list.  Sources are grouped by the Organizational Domain of their\n"
	"validated reverse-DNS name; groups that fail SPF today or do not align\n"
	"with the From domain come first, with the deciding term and an\n"
	"spfcheck explain line to copy.\n"
	"\n"
	"options:\n"
	"  --records               each report's records too (text, or --json)\n"
	"  --sources               with --json: each group's sources too\n"
	"  --csv                   one CSV row per source (the last column,\n"
	"                          findings: DM-20 when it applies)\n"
	CMD_FORMAT_HTML_HELP("each group's volume and SPF results as bars,\n"
	"                          failing groups first, with their sources (the\n"
	"                          explain tree of each behind a click),")
	"  --what-if               with a draft --record 'v=spf1 ...' (once; other\n"
	"                          --record values are DOMAIN=TEXT): evaluate every\n"
	"                          source against it as the policy domain's record\n"
	"                          and show the groups whose result would change\n"
	"  --domain NAME           the domain the draft is for (default: the\n"
	"                          reports' policy domain)\n"
	"  --max-size BYTES        refuse a report over BYTES, read or decompressed\n"
	"                          (default 67108864)\n"
	COMMON_HELP_ZONE COMMON_HELP_RECORD COMMON_HELP_DNS COMMON_HELP_JSON
	"  --deadline MS           give up with temperror after MS milliseconds per\n"
	"                          source (default 20000)\n"
	COMMON_HELP_VOID
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 reports read, 65 a file is not a valid report, 66 a file\n"
	"cannot be read, 64 bad usage, 70 internal error\n";

/* ---- the sources ---- */

/* result index: SPF's seven, then anything else a reporter wrote */
#define NRES 8
static const char *const res_names[NRES] = {
	"pass", "fail", "softfail", "neutral", "none", "permerror",
	"temperror", "other",
};

static int res_index(const char *s)
{
	spf_result_t r;

	if (s == NULL || !spf_result_parse(s, &r))
		return NRES - 1;
	for (int i = 0; i < NRES - 1; i++)
		if (strcmp(res_names[i], spf_result_str(r)) == 0)
			return i;
	return NRES - 1;
}

struct eval {
	spf_result_t result;
	char *domain, *mechanism, *problem;
};

struct source {
	char *key;                 /* ip NUL env NUL hfrom */
	const char *ip, *env, *hfrom;
	spf_addr_t addr;
	uint64_t count;
	uint64_t reported[NRES];   /* messages by the reporters' SPF result */
	struct eval now, draft;
	char *ptr;                 /* validated name, or NULL */
	char *trace;               /* --format html: explain's tree of the
	                            * evaluation today as HTML (malloc'ed by
	                            * open_memstream), or NULL */
	const char *org;           /* the group's name (owned by the group) */
	bool aligned;              /* SPF identifier alignment */
	bool align_known;          /* the From domain could be walked */
	size_t group;
	size_t same;               /* the source with the same (IP, envelope
	                            * domain) that is evaluated for this one
	                            * (its own index when it is that one) */
};

struct group {
	char *name;
	uint64_t count, reported[NRES], now[NRES], draft[NRES];
	uint64_t unaligned;        /* messages passing now, not aligned */
	size_t nsrc;
	size_t *src;               /* indexes into the sources */
	bool bad, changes;
};

/* an open-addressing table of strings to indexes */
struct table {
	size_t cap, n;
	const char **keys;
	size_t *keylen;
	size_t *val;
};

static uint64_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211u;
	return h;
}

static bool table_grow(struct table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	const char **k = spf_calloc(cap, sizeof(*k));
	size_t *kl = spf_calloc(cap, sizeof(*kl)), *v = spf_calloc(cap, sizeof(*v));

	if (k == NULL || kl == NULL || v == NULL) {
		spf_free(k), spf_free(kl), spf_free(v);
		return false;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (t->keys[i] == NULL)
			continue;
		j = hash(t->keys[i], t->keylen[i]) & (cap - 1);
		while (k[j] != NULL)
			j = (j + 1) & (cap - 1);
		k[j] = t->keys[i], kl[j] = t->keylen[i], v[j] = t->val[i];
	}
	spf_free(t->keys), spf_free(t->keylen), spf_free(t->val);
	t->keys = k, t->keylen = kl, t->val = v, t->cap = cap;
	return true;
}

/* The slot of key: found (true) or where it goes (false). */
static size_t table_find(const struct table *t, const char *key, size_t len,
	bool *found)
{
	size_t j = hash(key, len) & (t->cap - 1);

	while (t->keys[j] != NULL) {
		if (t->keylen[j] == len && memcmp(t->keys[j], key, len) == 0) {
			*found = true;
			return j;
		}
		j = (j + 1) & (t->cap - 1);
	}
	*found = false;
	return j;
}

static void table_free(struct table *t)
{
	spf_free(t->keys), spf_free(t->keylen), spf_free(t->val);
}

struct run {
	struct common_opts co;
	bool json, csv, sources, what_if, list_records;
	FILE *page;                /* --format html: the page (else NULL) */
	size_t trace_bytes;        /* the sources' trace HTML kept so far */
	bool traces_cut;           /* TRACE_BUDGET was reached */
	size_t max;
	/* reading */
	struct table stab;
	struct source *src;
	size_t nsrc, capsrc;
	unsigned long files, reports, records, bad_files, unreadable;
	uint64_t messages;
	int64_t begin, end;
	char *policy_domain;       /* the first report's; */
	bool several_domains;
	/* DM-20: of the messages of reports that publish p=reject, those
	 * that passed DMARC (<policy_evaluated> dkim or spf pass), and of
	 * them those that passed by DKIM */
	uint64_t reject_pass, reject_dkim_pass;
	json_t *jreports;
	bool progress;
	double last_progress;
	/* evaluating */
	spf_resolver_t *res;
	size_t next, running, done;
	bool finished_any, oom, use_draft;
	/* grouping */
	struct group *grp;
	size_t ngrp;
};

/* Message counts add up without wrapping (a hostile report may say
 * 18446744073709551615); JSON integers are signed 64-bit. */
static void add(uint64_t *to, uint64_t n)
{
	*to = *to > UINT64_MAX - n ? UINT64_MAX : *to + n;
}

static json_t *jcount(uint64_t n)
{
	return json_integer((json_int_t)(n > INT64_MAX ? INT64_MAX : n));
}

static char *dup_lower(const char *s)
{
	char *d = spf_strdup(s);

	for (char *p = d; p != NULL && *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	/* no final dot */
	if (d != NULL && *d != '\0' && d[strlen(d) - 1] == '.')
		d[strlen(d) - 1] = '\0';
	return d;
}

/* The envelope domain of a record: envelope_from (its domain when it is
 * an address), else its SPF auth_result's domain (mfrom first), else
 * header_from; NULL when it has none. */
static const char *envelope(const spf_report_record_t *r, const char **spf_result)
{
	const spf_report_auth_t *spf = NULL;
	const char *d;

	for (size_t i = 0; i < r->nspf; i++)
		if (r->spf_results[i].scope == NULL ||
		    strcmp(r->spf_results[i].scope, "mfrom") == 0) {
			spf = &r->spf_results[i];
			break;
		}
	*spf_result = spf ? spf->result : r->spf;
	if (r->envelope_from != NULL && r->envelope_from[0] != '\0') {
		d = strrchr(r->envelope_from, '@');
		return d ? d + 1 : r->envelope_from;
	}
	if (spf != NULL && spf->domain != NULL && spf->domain[0] != '\0')
		return spf->domain;
	if (r->header_from != NULL && r->header_from[0] != '\0')
		return r->header_from;
	return NULL;
}

static bool add_record(struct run *rn, const spf_report_record_t *r)
{
	const char *res = NULL, *env = envelope(r, &res);
	const char *hf = r->header_from ? r->header_from : "";
	const char *ip = r->source_ip;
	char *e = NULL, *h = NULL, *key = NULL, ipbuf[64];
	size_t lip, le, lh, len, j;
	bool found;
	struct source *s;
	spf_addr_t addr;

	if (env == NULL)
		env = "";
	/* one spelling per address: 2A01:DB8:0:0::1 and 2a01:db8::1, or
	 * ::ffff:192.0.2.1 and 192.0.2.1, are one source */
	if (spf_addr_parse(ip, &addr) && spf_addr_str(&addr, ipbuf,
	    sizeof(ipbuf))[0] != '\0')
		ip = ipbuf;
	e = dup_lower(env);
	h = dup_lower(hf);
	if (e == NULL || h == NULL)
		goto oom;
	lip = strlen(ip), le = strlen(e), lh = strlen(h);
	len = lip + le + lh + 2;
	key = spf_malloc(len + 1);
	if (key == NULL)
		goto oom;
	memcpy(key, ip, lip + 1);
	memcpy(key + lip + 1, e, le + 1);
	memcpy(key + lip + le + 2, h, lh + 1);
	if (rn->stab.n * 2 >= rn->stab.cap && !table_grow(&rn->stab))
		goto oom;
	j = table_find(&rn->stab, key, len, &found);
	if (found) {
		s = &rn->src[rn->stab.val[j]];
		spf_free(key);
	} else {
		if (rn->nsrc == rn->capsrc) {
			size_t cap = rn->capsrc ? rn->capsrc * 2 : 64;
			struct source *ns = spf_realloc(rn->src, cap * sizeof(*ns));

			if (ns == NULL)
				goto oom;
			rn->src = ns, rn->capsrc = cap;
		}
		s = &rn->src[rn->nsrc];
		memset(s, 0, sizeof(*s));
		s->key = key;
		s->ip = key, s->env = key + lip + 1, s->hfrom = key + lip + le + 2;
		if (!spf_addr_parse(s->ip, &s->addr))
			memset(&s->addr, 0, sizeof(s->addr));
		rn->stab.keys[j] = key, rn->stab.keylen[j] = len;
		rn->stab.val[j] = rn->nsrc++;
		rn->stab.n++;
	}
	add(&s->count, r->count);
	add(&s->reported[res_index(res)], r->count);
	spf_free(e), spf_free(h);
	return true;
oom:
	spf_free(e), spf_free(h), spf_free(key);
	return false;
}

/* ---- reading files ---- */

static const char *when(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL)
		return "?";
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

static const char *pr(const char *s, char *buf, size_t len)
{
	return s == NULL ? "-" : cmd_printable(s, buf, len);
}

/* the auth results of a record, "dkim example.com/sel pass, spf ..." */
static void auths_text(const spf_report_record_t *r)
{
	char a[256], b[256], c[256];
	bool first = true;

	for (size_t i = 0; i < r->ndkim; i++, first = false)
		printf("%sdkim %s%s%s %s", first ? "" : ", ",
			pr(r->dkim_results[i].domain, a, sizeof(a)),
			r->dkim_results[i].selector ? "/" : "",
			r->dkim_results[i].selector ? pr(r->dkim_results[i].selector,
			b, sizeof(b)) : "", pr(r->dkim_results[i].result, c, sizeof(c)));
	for (size_t i = 0; i < r->nspf; i++, first = false)
		printf("%sspf %s%s%s %s", first ? "" : ", ",
			pr(r->spf_results[i].domain, a, sizeof(a)),
			r->spf_results[i].scope ? "/" : "",
			r->spf_results[i].scope ? pr(r->spf_results[i].scope, b,
			sizeof(b)) : "", pr(r->spf_results[i].result, c, sizeof(c)));
	if (first)
		fputs("-", stdout);
}

static json_t *auths_json(const spf_report_auth_t *a, size_t n, bool dkim)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "domain", cmd_json_text(a[i].domain));
		json_object_set_new(o, dkim ? "selector" : "scope",
			cmd_json_text(dkim ? a[i].selector : a[i].scope));
		json_object_set_new(o, "result", cmd_json_text(a[i].result));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *record_json(const spf_report_record_t *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "source_ip", cmd_json_text(r->source_ip));
	json_object_set_new(o, "count", jcount(r->count));
	json_object_set_new(o, "disposition", cmd_json_text(r->disposition));
	json_object_set_new(o, "dkim", cmd_json_text(r->dkim));
	json_object_set_new(o, "spf", cmd_json_text(r->spf));
	json_object_set_new(o, "header_from", cmd_json_text(r->header_from));
	json_object_set_new(o, "envelope_from", cmd_json_text(r->envelope_from));
	json_object_set_new(o, "envelope_to", cmd_json_text(r->envelope_to));
	json_object_set_new(o, "auth_dkim", auths_json(r->dkim_results, r->ndkim, true));
	json_object_set_new(o, "auth_spf", auths_json(r->spf_results, r->nspf, false));
	return o;
}

static void report_line(struct run *rn, const char *file,
	const spf_report_t *rep, spf_wrap_t kind, uint64_t msgs)
{
	char a[256], b[256], c[256], t1[32], t2[32];

	if (rn->json) {
		json_t *o = json_object();

		json_object_set_new(o, "file", cmd_json_text(file));
		json_object_set_new(o, "format", json_string(spf_wrap_str(kind)));
		json_object_set_new(o, "org_name", cmd_json_text(rep->org_name));
		json_object_set_new(o, "email", cmd_json_text(rep->email));
		json_object_set_new(o, "report_id", cmd_json_text(rep->report_id));
		json_object_set_new(o, "begin", rep->begin < 0 ? json_null() :
			json_integer(rep->begin));
		json_object_set_new(o, "end", rep->end < 0 ? json_null() :
			json_integer(rep->end));
		json_object_set_new(o, "domain", cmd_json_text(rep->domain));
		json_object_set_new(o, "p", cmd_json_text(rep->p));
		json_object_set_new(o, "sp", cmd_json_text(rep->sp));
		json_object_set_new(o, "np", cmd_json_text(rep->np));
		json_object_set_new(o, "adkim", cmd_json_text(rep->adkim));
		json_object_set_new(o, "aspf", cmd_json_text(rep->aspf));
		json_object_set_new(o, "records", json_integer((json_int_t)rep->nrecords));
		json_object_set_new(o, "messages", jcount(msgs));
		if (rn->list_records) {
			json_t *l = json_array();

			for (size_t i = 0; i < rep->nrecords; i++)
				json_array_append_new(l, record_json(&rep->records[i]));
			json_object_set_new(o, "record_list", l);
		}
		json_array_append_new(rn->jreports, o);
		return;
	}
	if (rn->csv || rn->page != NULL)
		return;
	printf("report %s  %s .. %s UTC  from %s", pr(file, a, sizeof(a)),
		when(rep->begin, t1, sizeof(t1)), when(rep->end, t2, sizeof(t2)),
		pr(rep->org_name, b, sizeof(b)));
	if (rep->email != NULL)
		printf(" <%s>", pr(rep->email, b, sizeof(b)));
	printf("  id %s\n", pr(rep->report_id, c, sizeof(c)));
	printf("  %s, policy %s p=%s", spf_wrap_str(kind), pr(rep->domain, a, sizeof(a)),
		pr(rep->p, b, sizeof(b)));
	if (rep->sp != NULL)
		printf(" sp=%s", pr(rep->sp, b, sizeof(b)));
	if (rep->np != NULL)
		printf(" np=%s", pr(rep->np, b, sizeof(b)));
	/* adkim and aspf default to r (RFC 9989 §4.7) */
	printf(" adkim=%s", rep->adkim ? pr(rep->adkim, b, sizeof(b)) : "r");
	printf(" aspf=%s, %zu record%s, %" PRIu64 " message%s\n",
		rep->aspf ? pr(rep->aspf, b, sizeof(b)) : "r", rep->nrecords,
		rep->nrecords == 1 ? "" : "s", msgs, msgs == 1 ? "" : "s");
	for (size_t i = 0; rn->list_records && i < rep->nrecords; i++) {
		const spf_report_record_t *r = &rep->records[i];

		printf("    %s  count %" PRIu64 "  %s", r->source_ip, r->count,
			pr(r->disposition, a, sizeof(a)));
		printf("  dkim %s", pr(r->dkim, a, sizeof(a)));
		printf("  spf %s", pr(r->spf, a, sizeof(a)));
		printf("  From %s", pr(r->header_from, a, sizeof(a)));
		if (r->envelope_from != NULL)
			printf("  MAIL FROM %s", pr(r->envelope_from, a, sizeof(a)));
		fputs("\n      auth: ", stdout);
		auths_text(r);
		fputc('\n', stdout);
	}
}

static void show_progress(struct run *rn, bool last)
{
	if (!rn->progress)
		return;
	if (!last && cmd_now_ms() - rn->last_progress < 200)
		return;
	rn->last_progress = cmd_now_ms();
	fprintf(stderr, "\rreport: %lu files, %lu records, %zu sources%s",
		rn->files, rn->records, rn->nsrc, last ? "\n" : "");
}

/* Read fd into *data (spf_free), at most max bytes. */
static int read_all(int fd, size_t max, char **data, size_t *len, char *why,
	size_t whylen)
{
	spf_buf_t b;
	char chunk[65536];
	ssize_t n;

	spf_buf_init(&b, max + 1);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(why, whylen, "cannot read: %s", strerror(errno));
			spf_buf_finish(&b);
			return EXIT_NOINPUT;
		}
		if (b.len + (size_t)n > max) {
			snprintf(why, whylen, "more than %zu bytes (--max-size)", max);
			spf_buf_finish(&b);
			return EXIT_DATAERR;
		}
		if (spf_buf_append(&b, chunk, (size_t)n) != SPF_OK) {
			spf_buf_finish(&b);
			return EXIT_INTERNAL;
		}
	}
	*len = b.len;
	*data = b.data;   /* NULL for an empty file */
	return 0;
}

static void file_error(struct run *rn, const char *file, const char *why, int rc)
{
	char a[256];

	cmd_error("%s: %s", pr(file, a, sizeof(a)), why);
	if (rc == EXIT_NOINPUT)
		rn->unreadable++;
	else
		rn->bad_files++;
}

/* One file (or stdin for "-").  false only when memory ran out. */
static bool read_report(struct run *rn, const char *file)
{
	char why[256], *data = NULL, *xml = NULL;
	size_t len = 0, xlen = 0;
	spf_report_t *rep = NULL;
	spf_wrap_t kind;
	spf_status_t st;
	uint64_t msgs = 0;
	int fd = 0, rc;

	rn->files++;
	if (strcmp(file, "-") != 0) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
			file_error(rn, file, why, EXIT_NOINPUT);
			return true;
		}
	}
	rc = read_all(fd, rn->max, &data, &len, why, sizeof(why));
	if (fd != 0)
		close(fd);
	if (rc == EXIT_INTERNAL)
		return false;
	if (rc != 0) {
		file_error(rn, file, why, rc);
		return true;
	}
	st = spf_report_unwrap(data ? data : "", len, rn->max, &xml, &xlen, &kind,
		why, sizeof(why));
	spf_free(data);
	if (st == SPF_ENOMEM)
		return false;
	if (st != SPF_OK) {
		file_error(rn, file, why, EXIT_DATAERR);
		return true;
	}
	st = spf_report_parse(xml, xlen, &rep, why, sizeof(why));
	spf_free(xml);
	if (st == SPF_ENOMEM)
		return false;
	if (st != SPF_OK) {
		file_error(rn, file, why, EXIT_DATAERR);
		return true;
	}
	rn->reports++;
	if (rep->domain != NULL) {
		if (rn->policy_domain == NULL)
			rn->policy_domain = dup_lower(rep->domain);
		else if (strcasecmp(rn->policy_domain, rep->domain) != 0)
			rn->several_domains = true;
	}
	if (rep->begin >= 0 && (rn->begin < 0 || rep->begin < rn->begin))
		rn->begin = rep->begin;
	if (rep->end >= 0 && rep->end > rn->end)
		rn->end = rep->end;
	for (size_t i = 0; i < rep->nrecords; i++) {
		const spf_report_record_t *r = &rep->records[i];

		if (!add_record(rn, r)) {
			spf_report_destroy(rep);
			return false;
		}
		add(&msgs, r->count);
		if (rep->p != NULL && strcasecmp(rep->p, "reject") == 0) {
			bool dkim = r->dkim != NULL && strcasecmp(r->dkim, "pass") == 0;
			bool spf = r->spf != NULL && strcasecmp(r->spf, "pass") == 0;

			if (dkim || spf)
				add(&rn->reject_pass, r->count);
			if (dkim)
				add(&rn->reject_dkim_pass, r->count);
		}
	}
	rn->records += rep->nrecords;
	add(&rn->messages, msgs);
	report_line(rn, strcmp(file, "-") == 0 ? "(stdin)" : file, rep, kind, msgs);
	spf_report_destroy(rep);
	show_progress(rn, false);
	return true;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool read_path(struct run *rn, const char *path, int depth)
{
	struct stat sb;
	struct dirent **ents = NULL;
	int n;
	bool ok = true;

	if (strcmp(path, "-") == 0 || stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return read_report(rn, path);
	if (depth >= MAX_DEPTH) {
		file_error(rn, path, "directories nested too deep", EXIT_NOINPUT);
		return true;
	}
	n = scandir(path, &ents, NULL, by_name);
	if (n < 0) {
		char why[256];

		snprintf(why, sizeof(why), "cannot read the directory: %s",
			strerror(errno));
		file_error(rn, path, why, EXIT_NOINPUT);
		return true;
	}
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *full;
		struct stat lsb;

		if (ok && name[0] != '.' &&
		    (full = spf_malloc(strlen(path) + strlen(name) + 2)) != NULL) {
			strcpy(full, path);
			if (full[0] != '\0' && full[strlen(full) - 1] != '/')
				strcat(full, "/");
			strcat(full, name);
			/* a link to a directory is not followed (loops) */
			if (lstat(full, &lsb) == 0 && S_ISLNK(lsb.st_mode) &&
			    stat(full, &lsb) == 0 && S_ISDIR(lsb.st_mode))
				;
			else
				ok = read_path(rn, full, depth + 1);
			spf_free(full);
		} else if (ok && name[0] != '.') {
			ok = false;
		}
		free(ents[i]);
	}
	free(ents);
	return ok;
}

/* ---- evaluating ---- */

struct pending {
	struct run *rn;
	size_t i;
	char *sender;
	spf_request_t req;         /* as started (sender borrowed from above) */
};

/* explain's tree of the finished job as HTML (cmd_explain_html_body(),
 * the renderer explain's page uses), kept in s->trace within the page's
 * budget for traces. */
static void keep_trace(struct run *rn, struct source *s, spf_job_t *job,
	const spf_request_t *req)
{
	struct cmd_ident id = { .used = true, .req = *req, .job = job };
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	if (rn->trace_bytes >= TRACE_BUDGET) {
		rn->traces_cut = true;
		return;
	}
	if ((mem = open_memstream(&buf, &len)) == NULL)
		return;
	cmd_explain_html_body(mem, &id, 4);
	if (fclose(mem) != 0 || len == 0 || len > TRACE_BUDGET - rn->trace_bytes) {
		rn->traces_cut = rn->traces_cut || len > 0;
		free(buf);
		return;
	}
	rn->trace_bytes += len;
	s->trace = buf;
}

/* the result and what decided it, with the domain as check prints it:
 * where the result came from, else the domain the evaluation started at
 * (a none or a permerror before any record) */
static void keep(struct eval *e, spf_job_t *job)
{
	const char *d = spf_job_domain(job), *m = spf_job_mechanism(job);
	const char *p = spf_job_problem(job);

	if (d == NULL)
		d = spf_job_start_domain(job);
	e->result = spf_job_result(job);
	e->domain = d ? spf_strdup(d) : NULL;
	e->mechanism = m ? spf_strdup(m) : NULL;
	e->problem = p ? spf_strdup(p) : NULL;
}

static void start_next(struct run *rn);

static void on_done(spf_job_t *job, void *arg)
{
	struct pending *p = arg;
	struct run *rn = p->rn;
	struct source *s = &rn->src[p->i];

	if (rn->use_draft) {
		keep(&s->draft, job);
	} else {
		const char *n = spf_job_ptr_name(job);

		keep(&s->now, job);
		s->ptr = n ? dup_lower(n) : NULL;
		if (rn->page != NULL)
			keep_trace(rn, s, job, &p->req);
	}
	spf_job_destroy(job);
	spf_free(p->sender);
	spf_free(p);
	rn->running--;
	rn->done++;
	rn->finished_any = true;
	start_next(rn);
}

static void start_next(struct run *rn)
{
	while (rn->next < rn->nsrc && rn->running < IN_FLIGHT) {
		struct source *s = &rn->src[rn->next];
		struct pending *p;
		struct eval *e = rn->use_draft ? &s->draft : &s->now;
		spf_request_t req = { 0 };
		spf_status_t st = SPF_OK;

		if (s->same != rn->next) {
			/* another From domain of an (IP, envelope domain)
			 * already started: share_results() copies its result */
			rn->next++;
			rn->done++;
			continue;
		}
		p = spf_calloc(1, sizeof(*p));
		if (p == NULL || (p->sender = spf_malloc(strlen(s->env) + 12)) == NULL) {
			spf_free(p);
			rn->oom = true;
			return;
		}
		p->rn = rn, p->i = rn->next++;
		strcpy(p->sender, "postmaster@");
		strcat(p->sender, s->env);
		cmd_request_opts(&rn->co, &req);
		req.ip = s->addr;
		req.sender = p->sender;
		req.identity = SPF_IDENTITY_MFROM;
		/* the page shows each trace as explain does: the DNS answers,
		 * the terms past a limit */
		req.lean_trace = rn->page == NULL || rn->use_draft;
		req.trace_past_limits = !req.lean_trace;
		req.want_ptr_name = !rn->use_draft;
		p->req = req;
		if (spf_check_start(rn->res, &req, on_done, p, &st) == NULL) {
			/* an identity that cannot be checked at all */
			e->result = SPF_RESULT_NONE;
			e->problem = spf_strdup(st == SPF_ENOMEM ? "out of memory" :
				"the envelope domain cannot be checked");
			if (st == SPF_ENOMEM)
				rn->oom = true;
			spf_free(p->sender);
			spf_free(p);
			rn->done++;
			continue;
		}
		rn->running++;
	}
}

/* Which source is evaluated for which: one per distinct (IP, envelope
 * domain), whatever the From domains (the key of a source starts with
 * "ip NUL env NUL"). */
static bool pair_up(struct run *rn)
{
	struct table t = { 0 };

	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];
		size_t len = strlen(s->ip) + 1 + strlen(s->env), j;
		bool found;

		if (t.n * 2 >= t.cap && !table_grow(&t)) {
			table_free(&t);
			return false;
		}
		j = table_find(&t, s->key, len, &found);
		if (!found) {
			t.keys[j] = s->key, t.keylen[j] = len, t.val[j] = i;
			t.n++;
		}
		s->same = t.val[j];
	}
	table_free(&t);
	return true;
}

static bool copy_eval(struct eval *to, const struct eval *from)
{
	to->result = from->result;
	to->domain = from->domain ? spf_strdup(from->domain) : NULL;
	to->mechanism = from->mechanism ? spf_strdup(from->mechanism) : NULL;
	to->problem = from->problem ? spf_strdup(from->problem) : NULL;
	return (to->domain != NULL || from->domain == NULL) &&
		(to->mechanism != NULL || from->mechanism == NULL) &&
		(to->problem != NULL || from->problem == NULL);
}

/* The sources that were not evaluated get the result of the one that
 * was for them. */
static bool share_results(struct run *rn, bool draft)
{
	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];
		const struct source *o = &rn->src[s->same];

		if (s->same == i)
			continue;
		if (draft) {
			if (!copy_eval(&s->draft, &o->draft))
				return false;
			continue;
		}
		if (!copy_eval(&s->now, &o->now))
			return false;
		if (o->ptr != NULL && (s->ptr = spf_strdup(o->ptr)) == NULL)
			return false;
		if (o->trace != NULL) {
			size_t len = strlen(o->trace);

			if (len > TRACE_BUDGET - rn->trace_bytes)
				rn->traces_cut = true;
			else if ((s->trace = strdup(o->trace)) != NULL)
				rn->trace_bytes += len;
		}
	}
	return true;
}

static bool evaluate(struct run *rn, spf_resolver_t *res, bool draft)
{
	rn->res = res;
	rn->use_draft = draft;
	rn->next = rn->running = rn->done = 0;
	start_next(rn);
	while (rn->running > 0) {
		rn->finished_any = false;
		spf_resolver_run_until(res, &rn->finished_any);
		if (!rn->finished_any) {
			cmd_error("internal error: the event loop stopped with %zu "
				"checks in flight", rn->running);
			return false;
		}
		if (rn->progress && cmd_now_ms() - rn->last_progress > 200) {
			rn->last_progress = cmd_now_ms();
			fprintf(stderr, "\rreport: %s %zu of %zu sources", draft ?
				"what-if" : "evaluating", rn->done, rn->nsrc);
		}
	}
	if (rn->progress)
		fprintf(stderr, "\rreport: %s %zu of %zu sources\n", draft ?
			"what-if" : "evaluated", rn->done, rn->nsrc);
	return !rn->oom && share_results(rn, draft);
}

/* SPF identifier alignment of each source (RFC 9989 §4.4), one DMARC
 * run per distinct (header_from, envelope domain). */
static bool align(struct run *rn)
{
	struct table t = { 0 };
	bool *memo = NULL, *known = NULL;
	size_t nmemo = 0, cap = 0;
	bool ok = false;

	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];
		size_t lh = strlen(s->hfrom), le = strlen(s->env), j;
		bool found;

		if (t.n * 2 >= t.cap && !table_grow(&t))
			goto done;
		/* the key: env NUL hfrom, inside the source's key */
		j = table_find(&t, s->env, le + 1 + lh, &found);
		if (!found) {
			spf_dmarc_request_t req = { .from_domain = s->hfrom,
				.spf_domain = s->env, .spf_result = SPF_RESULT_PASS };
			spf_dmarc_t *d = NULL;
			spf_status_t st;

			if (nmemo == cap) {
				size_t nc = cap ? cap * 2 : 16;
				bool *m = spf_realloc(memo, nc), *k = spf_realloc(known, nc);

				if (m != NULL)
					memo = m;
				if (k != NULL)
					known = k;
				if (m == NULL || k == NULL)
					goto done;
				cap = nc;
			}
			memo[nmemo] = known[nmemo] = false;
			if (spf_dmarc_domain_ok(s->hfrom) && s->hfrom[0] != '\0' &&
			    (d = spf_dmarc_run(rn->res, &req, &st)) != NULL) {
				const spf_dmarc_view_t *v = spf_dmarc_view(d);

				known[nmemo] = v->spf != NULL;
				memo[nmemo] = v->spf != NULL && spf_dmarc_aligned(
					v->spf->start, v->spf->org_domain,
					v->author->start, v->author->org_domain,
					v->record != NULL && v->record->aspf_strict);
			}
			spf_dmarc_destroy(d);
			t.keys[j] = s->env, t.keylen[j] = le + 1 + lh;
			t.val[j] = nmemo++;
			t.n++;
		}
		if (memo == NULL || known == NULL)
			goto done;
		s->aligned = memo[t.val[j]];
		s->align_known = known[t.val[j]];
	}
	ok = true;
done:
	table_free(&t);
	spf_free(memo);
	spf_free(known);
	return ok;
}

/* ---- grouping ---- */

static bool src_bad(const struct source *s)
{
	return s->now.result != SPF_RESULT_PASS || !s->aligned;
}

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->bad != y->bad)
		return x->bad ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

static const struct run *sort_run;

static int cmp_src(const void *a, const void *b)
{
	const struct source *x = &sort_run->src[*(const size_t *)a];
	const struct source *y = &sort_run->src[*(const size_t *)b];

	if (src_bad(x) != src_bad(y))
		return src_bad(x) ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->key, y->key) != 0 ? strcmp(x->key, y->key) :
		strcmp(x->env, y->env);
}

static bool group(struct run *rn)
{
	const psl_ctx_t *psl = psl_latest(NULL);
	psl_ctx_t *owned = (psl_ctx_t *)psl;
	struct table t = { 0 };
	bool ok = false;

	if (psl == NULL)
		psl = psl_builtin();
	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];
		const char *org = NULL;
		char *name;
		size_t j;
		bool found;

		if (s->ptr != NULL && psl != NULL)
			org = psl_registrable_domain(psl, s->ptr);
		if (org == NULL)
			org = s->ptr;
		if (org != NULL) {
			name = spf_strdup(org);
		} else {
			name = spf_malloc(strlen(s->ip) + 3);
			if (name != NULL)
				sprintf(name, "[%s]", s->ip);
		}
		if (name == NULL || (t.n * 2 >= t.cap && !table_grow(&t))) {
			spf_free(name);
			goto done;
		}
		j = table_find(&t, name, strlen(name), &found);
		if (found) {
			spf_free(name);
		} else {
			struct group *g = spf_realloc(rn->grp, (rn->ngrp + 1) * sizeof(*g));

			if (g == NULL) {
				spf_free(name);
				goto done;
			}
			rn->grp = g;
			memset(&g[rn->ngrp], 0, sizeof(*g));
			g[rn->ngrp].name = name;
			t.keys[j] = name, t.keylen[j] = strlen(name);
			t.val[j] = rn->ngrp++;
			t.n++;
		}
		s->group = t.val[j];
		rn->grp[s->group].nsrc++;
	}
	for (size_t k = 0; k < rn->ngrp; k++) {
		rn->grp[k].src = spf_calloc(rn->grp[k].nsrc, sizeof(size_t));
		if (rn->grp[k].src == NULL)
			goto done;
		rn->grp[k].nsrc = 0;
	}
	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];
		struct group *g = &rn->grp[s->group];

		g->src[g->nsrc++] = i;
		add(&g->count, s->count);
		for (int r = 0; r < NRES; r++)
			add(&g->reported[r], s->reported[r]);
		add(&g->now[res_index(spf_result_str(s->now.result))], s->count);
		if (rn->what_if) {
			add(&g->draft[res_index(spf_result_str(s->draft.result))], s->count);
			if (s->draft.result != s->now.result)
				g->changes = true;
		}
		if (s->now.result == SPF_RESULT_PASS && !s->aligned)
			add(&g->unaligned, s->count);
		if (src_bad(s))
			g->bad = true;
	}
	sort_run = rn;
	for (size_t k = 0; k < rn->ngrp; k++)
		if (rn->grp[k].nsrc > 1)
			qsort(rn->grp[k].src, rn->grp[k].nsrc, sizeof(size_t), cmp_src);
	if (rn->ngrp > 1)
		qsort(rn->grp, rn->ngrp, sizeof(*rn->grp), cmp_group);
	for (size_t k = 0; k < rn->ngrp; k++)
		for (size_t i = 0; i < rn->grp[k].nsrc; i++)
			rn->src[rn->grp[k].src[i]].group = k;
	ok = true;
done:
	table_free(&t);
	if (owned != NULL)
		psl_free(owned);
	return ok;
}

/* ---- output ---- */

static void counts_text(const uint64_t c[NRES])
{
	bool first = true;

	for (int r = 0; r < NRES; r++)
		if (c[r] > 0) {
			printf("%s%s %" PRIu64, first ? "" : ", ", res_names[r], c[r]);
			first = false;
		}
	if (first)
		fputs("-", stdout);
}

static json_t *counts_json(const uint64_t c[NRES])
{
	json_t *o = json_object();

	for (int r = 0; r < NRES; r++)
		if (c[r] > 0)
			json_object_set_new(o, res_names[r], jcount(c[r]));
	return o;
}

/* the deciding term, as check prints it */
static void term_text(const struct eval *e)
{
	char a[512];

	printf("%s", spf_result_str(e->result));
	if (e->domain != NULL)
		printf("  domain=%s", cmd_printable(e->domain, a, sizeof(a)));
	if (e->mechanism != NULL)
		printf("  mechanism=\"%s\"", cmd_printable(e->mechanism, a, sizeof(a)));
	if (e->problem != NULL)
		printf("  problem=\"%s\"", cmd_printable(e->problem, a, sizeof(a)));
}

/* the sender argument of the explain line, quoted for a shell when it
 * needs to be */
static void explain_line(const struct source *s)
{
	char a[512];
	const char *env = cmd_printable(s->env, a, sizeof(a));
	bool plain = env[0] != '\0';

	for (const char *p = env; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-' || *p == '_'))
			plain = false;
	printf("    spfcheck explain %s %spostmaster@%s%s\n", s->ip,
		plain ? "" : "'", plain ? env : "...", plain ? "" : "'");
}

static void source_text(const struct run *rn, const struct source *s, bool detail)
{
	char a[512], b[512], c[512];

	printf("  %s  %s  %" PRIu64 " message%s  MAIL FROM %s  From %s\n", s->ip,
		s->ptr ? cmd_printable(s->ptr, a, sizeof(a)) : "(no validated name)",
		s->count, s->count == 1 ? "" : "s",
		s->env[0] ? cmd_printable(s->env, b, sizeof(b)) : "-",
		s->hfrom[0] ? cmd_printable(s->hfrom, c, sizeof(c)) : "-");
	if (!detail)
		return;
	fputs("    reported: ", stdout);
	counts_text(s->reported);
	fputs("\n    today:    ", stdout);
	term_text(&s->now);
	printf("\n    aligned:  %s\n", !s->align_known ? "unknown (not domain names)" :
		s->aligned ? "yes" : "no (MAIL FROM and From are different organisations)");
	if (rn->what_if && s->draft.result != s->now.result) {
		fputs("    what-if:  ", stdout);
		term_text(&s->draft);
		fputc('\n', stdout);
	}
	explain_line(s);
}

static void group_text(const struct run *rn, const struct group *g)
{
	printf("%s  %" PRIu64 " message%s, %zu source%s\n", g->name, g->count,
		g->count == 1 ? "" : "s", g->nsrc, g->nsrc == 1 ? "" : "s");
	fputs("  reported SPF: ", stdout);
	counts_text(g->reported);
	fputs("\n  SPF today:    ", stdout);
	counts_text(g->now);
	if (g->unaligned > 0)
		printf("; passing but not aligned: %" PRIu64, g->unaligned);
	fputc('\n', stdout);
	if (rn->what_if) {
		fputs("  what-if:      ", stdout);
		counts_text(g->draft);
		fputs(g->changes ? "  (changes)\n" : "  (no change)\n", stdout);
	}
	for (size_t i = 0; i < g->nsrc; i++) {
		const struct source *s = &rn->src[g->src[i]];

		source_text(rn, s, src_bad(s) || (rn->what_if &&
			s->draft.result != s->now.result));
	}
	fputc('\n', stdout);
}

/*
 * DM-20 (doc/lint-rules.md): the policy domain publishes p=reject and
 * every message of its reports that passed DMARC passed by SPF alone
 * (RFC 9989 §7.4, §8: a p=reject domain must not rely on SPF only;
 * forwarded mail then fails).  False when it does not apply; f's
 * message lives in buf.
 */
static bool spf_only(const struct run *rn, spf_lint_finding_t *f, char *buf,
	size_t len, char *dom, size_t dlen)
{
	if (rn->reject_pass == 0 || rn->reject_dkim_pass > 0)
		return false;
	memset(f, 0, sizeof(*f));
	f->rule = "DM-20";
	f->severity = SPF_LINT_WARNING;
	/* the reports' text: printable only */
	f->domain = cmd_printable(rn->policy_domain != NULL ?
		rn->policy_domain : "-", dom, dlen);
	f->section = "RFC 9989 §7.4, §8";
	snprintf(buf, len, "the reports' policy is p=reject, and all %" PRIu64
		" message%s that passed DMARC passed by SPF alone, none by DKIM: "
		"forwarded mail breaks SPF and is then rejected; sign the mail "
		"with DKIM aligned with the From domain", rn->reject_pass,
		rn->reject_pass == 1 ? "" : "s");
	f->message = buf;
	return true;
}

static void output_text(const struct run *rn)
{
	spf_lint_finding_t f;
	char msg[512], dom[300];
	char t1[32], t2[32];
	size_t nbad = 0;

	for (size_t k = 0; k < rn->ngrp; k++)
		nbad += rn->grp[k].bad;
	if (rn->reports == 0) {
		printf("no report read\n");
		return;
	}
	printf("\n%lu report%s, %lu record%s, %" PRIu64 " message%s, %s .. %s UTC; "
		"%zu source%s in %zu group%s\n\n",
		rn->reports, rn->reports == 1 ? "" : "s", rn->records,
		rn->records == 1 ? "" : "s", rn->messages, rn->messages == 1 ? "" : "s",
		when(rn->begin, t1, sizeof(t1)), when(rn->end, t2, sizeof(t2)),
		rn->nsrc, rn->nsrc == 1 ? "" : "s", rn->ngrp, rn->ngrp == 1 ? "" : "s");
	if (spf_only(rn, &f, msg, sizeof(msg), dom, sizeof(dom))) {
		cmd_finding_print(stdout, &f);   /* a blank line after */
	}
	if (nbad > 0)
		printf("== failing SPF or not aligned today: %zu group%s ==\n\n", nbad,
			nbad == 1 ? "" : "s");
	for (size_t k = 0; k < rn->ngrp; k++) {
		if (k == nbad)
			printf("== passing and aligned today: %zu group%s ==\n\n",
				rn->ngrp - nbad, rn->ngrp - nbad == 1 ? "" : "s");
		group_text(rn, &rn->grp[k]);
	}
	if (rn->what_if) {
		size_t nchange = 0;

		for (size_t k = 0; k < rn->ngrp; k++)
			nchange += rn->grp[k].changes;
		printf("what-if: %zu group%s would change\n", nchange,
			nchange == 1 ? "" : "s");
		for (size_t k = 0; k < rn->ngrp; k++)
			if (rn->grp[k].changes) {
				printf("  %s: ", rn->grp[k].name);
				counts_text(rn->grp[k].now);
				fputs(" -> ", stdout);
				counts_text(rn->grp[k].draft);
				fputc('\n', stdout);
			}
	}
}

/* ---- --format html (issue 20): the groups as a page, bars in SVG ---- */

/* the results of c as one bar, each part as wide as its messages */
static void bar_html(FILE *o, const uint64_t c[NRES])
{
	double total = 0, x = 0;

	for (int r = 0; r < NRES; r++)
		total += (double)c[r];
	fputs("<svg class=\"bar\" viewBox=\"0 0 1000 20\" preserveAspectRatio="
		"\"none\" role=\"img\" aria-label=\"", o);
	for (int r = 0, first = 1; r < NRES; r++)
		if (c[r] > 0) {
			fprintf(o, "%s%s %" PRIu64, first ? "" : ", ", res_names[r], c[r]);
			first = 0;
		}
	fputs("\">", o);
	if (total <= 0)
		fputs("<rect class=\"empty\" width=\"1000\" height=\"20\"/>", o);
	for (int r = 0; r < NRES && total > 0; r++) {
		double w = 1000.0 * (double)c[r] / total;

		if (c[r] == 0)
			continue;
		fprintf(o, "<rect class=\"%s\" x=\"%.1f\" width=\"%.1f\" height=\"20\">"
			"<title>%s %" PRIu64 "</title></rect>", res_names[r], x, w,
			res_names[r], c[r]);
		x += w;
	}
	fputs("</svg>\n", o);
}

static void counts_html(FILE *o, const uint64_t c[NRES])
{
	int first = 1;

	for (int r = 0; r < NRES; r++)
		if (c[r] > 0) {
			fprintf(o, "%s<span class=\"r r-%s\">%s</span> %" PRIu64,
				first ? "" : " ", res_names[r], res_names[r], c[r]);
			first = 0;
		}
	if (first)
		fputs("-", o);
}

static void source_html(FILE *o, const struct source *s)
{
	fputs("<tr><td><code>", o);
	html_text(o, s->ip);
	fputs("</code><br><span class=\"dim\">", o);
	html_text(o, s->ptr != NULL ? s->ptr : "(no validated name)");
	fprintf(o, "</span></td><td class=\"n\">%" PRIu64 "</td><td>", s->count);
	html_text(o, s->env[0] ? s->env : "-");
	fputs("</td><td>", o);
	html_text(o, s->hfrom[0] ? s->hfrom : "-");
	fputs("</td><td>", o);
	html_result(o, spf_result_str(s->now.result));
	if (s->now.mechanism != NULL) {
		fputs(" <code class=\"deciding\">", o);
		html_text(o, s->now.mechanism);
		fputs("</code>", o);
	}
	if (s->now.domain != NULL) {
		fputs(" in ", o);
		html_text(o, s->now.domain);
	}
	if (s->now.problem != NULL) {
		fputs("<br><span class=\"over\">", o);
		html_text(o, s->now.problem);
		fputs("</span>", o);
	}
	fprintf(o, "</td><td>%s</td></tr>\n<tr class=\"why\"><td colspan=\"6\">",
		!s->align_known ? "unknown" : s->aligned ? "yes" : "no");
	/* explain's tree behind a click (a <details>: no script needed) */
	if (s->trace != NULL)
		fputs("<details class=\"trace\"><summary>", o);
	fputs("<span class=\"dim\">why:</span> <code>spfcheck explain ", o);
	html_text(o, s->ip);
	fputs(" postmaster@", o);
	html_text(o, s->env[0] ? s->env : "...");
	fputs("</code>", o);
	if (s->trace != NULL) {
		fputs(" <span class=\"dim\">(its tree)</span></summary>\n"
			"<div class=\"explain\">\n", o);
		fputs(s->trace, o);
		fputs("</div></details>", o);
	}
	fputs("</td></tr>\n", o);
}

static void output_html(const struct run *rn, FILE *o)
{
	spf_lint_finding_t f;
	char msg[512], dom[300];
	char t1[32], t2[32];
	size_t nbad = 0;

	for (size_t k = 0; k < rn->ngrp; k++)
		nbad += rn->grp[k].bad;
	html_begin(o, "DMARC aggregate reports: SPF today (spfcheck report)",
		"spfcheck report");
	fputs("<header>\n<h1>DMARC aggregate reports: SPF today</h1>\n", o);
	fprintf(o, "<p class=\"sub\">%lu report%s, %lu record%s, %" PRIu64
		" message%s, %s .. %s UTC. Every source was evaluated again now; "
		"groups that fail SPF or do not align come first, and each "
		"source's explain tree opens under its explain command.</p>\n"
		"</header>\n",
		rn->reports, rn->reports == 1 ? "" : "s", rn->records,
		rn->records == 1 ? "" : "s", rn->messages, rn->messages == 1 ? "" : "s",
		when(rn->begin, t1, sizeof(t1)), when(rn->end, t2, sizeof(t2)));
	fprintf(o, "<div class=\"cards\">\n<div class=\"card\"><span>messages"
		"</span><b>%" PRIu64 "</b></div>\n<div class=\"card\"><span>sources"
		"</span><b>%zu</b></div>\n<div class=\"card\"><span>groups</span><b>"
		"%zu</b></div>\n<div class=\"card%s\"><span>failing or not aligned"
		"</span><b class=\"failing\">%zu</b></div>\n</div>\n", rn->messages,
		rn->nsrc, rn->ngrp, nbad ? " over" : "", nbad);
	/* the run's findings (DM-20), as the text says them */
	if (spf_only(rn, &f, msg, sizeof(msg), dom, sizeof(dom))) {
		fprintf(o, "<p class=\"finding\" id=\"%s\"><span class=\"sev "
			"s-warning\">warning[%s]</span> ", f.rule, f.rule);
		html_text(o, f.domain);
		fputs(": ", o);
		html_text(o, f.message);
		fputs(" (", o);
		html_text(o, f.section);
		fputs(")</p>\n", o);
	}
	if (rn->traces_cut)
		fprintf(o, "<p class=\"over\">Some sources show no tree: the page "
			"keeps at most %u MiB of them; their explain command shows it."
			"</p>\n", TRACE_BUDGET >> 20);
	fputs("<p class=\"legend\">", o);
	for (int r = 0; r < NRES; r++)
		fprintf(o, "<span><svg width=\"12\" height=\"12\"><rect class=\"%s\" "
			"width=\"12\" height=\"12\"/></svg> %s</span>", res_names[r],
			res_names[r]);
	fputs("</p>\n", o);
	for (size_t k = 0; k < rn->ngrp; k++) {
		const struct group *g = &rn->grp[k];

		if (k == 0 && nbad > 0)
			fputs("<h2>Failing SPF or not aligned today</h2>\n", o);
		if (k == nbad)
			fputs("<h2>Passing and aligned today</h2>\n", o);
		fprintf(o, "<section class=\"group%s\"><h3>", g->bad ? " bad" : "");
		html_text(o, g->name);
		fprintf(o, " <span class=\"dim\">%" PRIu64 " message%s, %zu source%s"
			"</span></h3>\n<div>SPF today: ", g->count, g->count == 1 ? "" :
			"s", g->nsrc, g->nsrc == 1 ? "" : "s");
		counts_html(o, g->now);
		if (g->unaligned > 0)
			fprintf(o, "; passing but not aligned: %" PRIu64, g->unaligned);
		fputs("</div>\n", o);
		bar_html(o, g->now);
		fputs("<div class=\"dim\">reported by the receivers: ", o);
		counts_html(o, g->reported);
		fputs("</div>\n", o);
		bar_html(o, g->reported);
		fprintf(o, "<details%s><summary>the sources, the term that decides "
			"today, and the explain command</summary>\n<table><tr><th>"
			"source</th><th>messages</th><th>MAIL FROM</th><th>From</th>"
			"<th>SPF today</th><th>aligned</th></tr>\n",
			g->bad ? " open" : "");
		for (size_t i = 0; i < g->nsrc; i++)
			source_html(o, &rn->src[g->src[i]]);
		fputs("</table></details></section>\n", o);
	}
	html_end(o);
}

static json_t *eval_json(const struct eval *e)
{
	return json_pack("{s:s,s:o,s:o,s:o}", "result", spf_result_str(e->result),
		"domain", cmd_json_text(e->domain), "mechanism",
		cmd_json_text(e->mechanism), "problem", cmd_json_text(e->problem));
}

static json_t *source_json(const struct run *rn, const struct source *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "source_ip", json_string(s->ip));
	json_object_set_new(o, "ptr", cmd_json_text(s->ptr));
	json_object_set_new(o, "envelope_domain", cmd_json_text(s->env));
	json_object_set_new(o, "header_from", cmd_json_text(s->hfrom));
	json_object_set_new(o, "messages", jcount(s->count));
	json_object_set_new(o, "reported_spf", counts_json(s->reported));
	json_object_set_new(o, "today", eval_json(&s->now));
	json_object_set_new(o, "aligned", s->align_known ? json_boolean(s->aligned)
		: json_null());
	if (rn->what_if)
		json_object_set_new(o, "what_if", eval_json(&s->draft));
	return o;
}

static int output_json(const struct run *rn)
{
	json_t *o = json_object(), *gs = json_array(), *fs = json_array();
	spf_lint_finding_t f;
	char msg[512], dom[300];
	int rc;

	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "reports", json_incref(rn->jreports));
	json_object_set_new(o, "records", json_integer((json_int_t)rn->records));
	json_object_set_new(o, "messages", jcount(rn->messages));
	for (size_t k = 0; k < rn->ngrp; k++) {
		const struct group *g = &rn->grp[k];
		json_t *j = json_object();

		json_object_set_new(j, "organization", cmd_json_text(g->name));
		json_object_set_new(j, "status", json_string(g->bad ? "attention" : "ok"));
		json_object_set_new(j, "messages", jcount(g->count));
		json_object_set_new(j, "sources", json_integer((json_int_t)g->nsrc));
		json_object_set_new(j, "reported_spf", counts_json(g->reported));
		json_object_set_new(j, "today", counts_json(g->now));
		json_object_set_new(j, "passing_unaligned",
			jcount(g->unaligned));
		if (rn->what_if) {
			json_object_set_new(j, "what_if", counts_json(g->draft));
			json_object_set_new(j, "what_if_changes", json_boolean(g->changes));
		}
		if (rn->sources) {
			json_t *a = json_array();

			for (size_t i = 0; i < g->nsrc; i++)
				json_array_append_new(a, source_json(rn, &rn->src[g->src[i]]));
			json_object_set_new(j, "source_list", a);
		}
		json_array_append_new(gs, j);
	}
	json_object_set_new(o, "groups", gs);
	if (spf_only(rn, &f, msg, sizeof(msg), dom, sizeof(dom)))
		json_array_append_new(fs, cmd_finding_json(&f));
	json_object_set_new(o, "findings", fs);
	rc = cmd_json_print(o, false);
	json_decref(o);
	return rc;
}

static void csv_field(const char *s, bool last)
{
	bool quote = false;

	if (s == NULL)
		s = "";
	for (const char *p = s; *p != '\0'; p++)
		if (*p == ',' || *p == '"' || *p == '\n' || *p == '\r')
			quote = true;
	if (quote) {
		fputc('"', stdout);
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"')
				fputc('"', stdout);
			fputc(*p, stdout);
		}
		fputc('"', stdout);
	} else {
		fputs(s, stdout);
	}
	fputs(last ? "\n" : ",", stdout);
}

/* The last column: the rule ids of the run's findings (DM-20), on every
 * row, since the CSV has only rows of sources; the text and --json give
 * their messages. */
static void output_csv(const struct run *rn)
{
	spf_lint_finding_t f;
	char msg[512], dom[300];
	const char *findings = spf_only(rn, &f, msg, sizeof(msg), dom,
		sizeof(dom)) ? f.rule : "";

	fputs("group,source_ip,ptr,envelope_domain,header_from,messages,"
		"reported_spf,today,domain,mechanism,problem,aligned", stdout);
	fputs(rn->what_if ? ",what_if,what_if_mechanism,findings\n" :
		",findings\n", stdout);
	for (size_t k = 0; k < rn->ngrp; k++)
		for (size_t i = 0; i < rn->grp[k].nsrc; i++) {
			const struct source *s = &rn->src[rn->grp[k].src[i]];
			char n[32], rep[160] = "";
			size_t off = 0;

			for (int r = 0; r < NRES; r++)
				if (s->reported[r] > 0 && off < sizeof(rep))
					off += (size_t)snprintf(rep + off, sizeof(rep) - off,
						"%s%s=%" PRIu64, off ? " " : "",
						res_names[r], s->reported[r]);
			snprintf(n, sizeof(n), "%" PRIu64, s->count);
			csv_field(rn->grp[k].name, false);
			csv_field(s->ip, false);
			csv_field(s->ptr, false);
			csv_field(s->env, false);
			csv_field(s->hfrom, false);
			csv_field(n, false);
			csv_field(rep, false);
			csv_field(spf_result_str(s->now.result), false);
			csv_field(s->now.domain, false);
			csv_field(s->now.mechanism, false);
			csv_field(s->now.problem, false);
			csv_field(!s->align_known ? "" : s->aligned ? "yes" : "no",
				false);
			if (rn->what_if) {
				csv_field(spf_result_str(s->draft.result), false);
				csv_field(s->draft.mechanism, false);
			}
			csv_field(findings, true);
		}
}

/* ---- the command ---- */

static void run_free(struct run *rn)
{
	for (size_t i = 0; i < rn->nsrc; i++) {
		struct source *s = &rn->src[i];

		spf_free(s->key), spf_free(s->ptr);
		free(s->trace);
		spf_free(s->now.domain), spf_free(s->now.mechanism), spf_free(s->now.problem);
		spf_free(s->draft.domain), spf_free(s->draft.mechanism),
			spf_free(s->draft.problem);
	}
	spf_free(rn->src);
	for (size_t k = 0; k < rn->ngrp; k++)
		spf_free(rn->grp[k].name), spf_free(rn->grp[k].src);
	spf_free(rn->grp);
	table_free(&rn->stab);
	spf_free(rn->policy_domain);
	json_decref(rn->jreports);
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sources", no_argument, NULL, 's' },
		{ "records", no_argument, NULL, 'r' },
		{ "csv", no_argument, NULL, 'c' },
		{ "format", required_argument, NULL, 'T' },
		{ "output", required_argument, NULL, 'o' },
		{ "what-if", no_argument, NULL, 'w' },
		{ "domain", required_argument, NULL, 'd' },
		{ "max-size", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct run rn = { .co = { .cmd = "report", .not_for = COMMON_BIT(1005) |
		COMMON_BIT(1006) }, .max = SPF_REPORT_MAX_BYTES, .begin = -1,
		.end = -1 };
	struct event_base *base = NULL, *base2 = NULL;
	spf_resolver_t *res = NULL, *res2 = NULL;
	const char *draft = NULL, *domain = NULL, *name;
	enum cmd_format fmt = CMD_FMT_TEXT;
	const char *output = NULL;
	char *owned = NULL;
	int opt, rc = EXIT_INTERNAL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":ho:", longopts, NULL)) != -1) {
		int c = cmd_draft_opt("report", opt, optarg, &draft);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		c = common_opt(&rn.co, opt, optarg);
		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 's':
			rn.sources = true;
			break;
		case 'r':
			rn.list_records = true;
			break;
		case 'T':
			if (!cmd_parse_format(optarg, CMD_FMT_TEXT | CMD_FMT_HTML, &fmt))
				return EXIT_USAGE;
			break;
		case 'o':
			output = optarg;
			break;
		case 'c':
			rn.csv = true;
			break;
		case 'w':
			rn.what_if = true;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'm': {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] < '0' ||
			    optarg[0] > '9' || v < 1024 || v > (1ull << 32)) {
				cmd_error("--max-size: '%s' is not a size from 1024 to "
					"4294967296 bytes", optarg);
				return EXIT_USAGE;
			}
			rn.max = (size_t)v;
			break;
		}
		case 'h':
			fputs(report_usage, stdout);
			return 0;
		default:
			return cmd_option_error("report", opt, argv[optind - 1]);
		}
	}
	rn.json = rn.co.json;
	if (fmt == CMD_FMT_HTML && (rn.json || rn.csv || rn.what_if ||
	    rn.list_records)) {
		cmd_error("--format html is a page of its own: not with %s",
			rn.json ? "--json" : rn.csv ? "--csv" : rn.what_if ?
			"--what-if" : "--records");
		return EXIT_USAGE;
	}
	if (output != NULL && fmt != CMD_FMT_HTML)
		return cmd_output_needs_html();
	if (argc - optind < 1) {
		cmd_error("report needs FILE, DIR or - (see spfcheck report --help)");
		return EXIT_USAGE;
	}
	if (rn.json && rn.csv) {
		cmd_error("report: --json and --csv cannot be used together");
		return EXIT_USAGE;
	}
	if (rn.list_records && rn.csv) {
		cmd_error("report: --records goes with text or --json, not --csv");
		return EXIT_USAGE;
	}
	if (rn.sources && !rn.json) {
		cmd_error("report: --sources goes with --json (text and CSV show the "
			"sources anyway)");
		return EXIT_USAGE;
	}
	if (rn.what_if != (draft != NULL)) {
		cmd_error(rn.what_if ? "report --what-if needs a draft --record 'v=spf1 ...'"
			: "report: a draft --record goes with --what-if");
		return EXIT_USAGE;
	}
	if (domain != NULL && !rn.what_if) {
		cmd_error("report: --domain goes with --what-if");
		return EXIT_USAGE;
	}
	rn.jreports = json_array();
	if (rn.jreports == NULL)
		goto done;
	rn.progress = isatty(2) && !rn.json;
	if (fmt == CMD_FMT_HTML && (rn.page = cmd_html_open(output)) == NULL) {
		rc = EXIT_CANTCREAT;
		goto done;
	}
	if (!cmd_resolver(&rn.co, &base, &res)) {
		rc = EXIT_USAGE;
		goto done;
	}
	for (int i = optind; i < argc; i++)
		if (!read_path(&rn, argv[i], 0)) {
			cmd_error("out of memory reading the reports");
			goto done;
		}
	show_progress(&rn, true);
	if (!pair_up(&rn)) {
		cmd_error("out of memory pairing the sources");
		goto done;
	}
	if (!evaluate(&rn, res, false) || !align(&rn))
		goto done;
	if (rn.what_if && draft != NULL) {
		if (domain == NULL && rn.several_domains) {
			cmd_error("report --what-if: the reports are for several "
				"domains; say which with --domain");
			rc = EXIT_USAGE;
			goto done;
		}
		if (domain == NULL)
			domain = rn.policy_domain;
		if (domain == NULL) {
			cmd_error("report --what-if: no policy domain in the reports; "
				"say which with --domain");
			rc = EXIT_USAGE;
			goto done;
		}
		if ((name = cmd_domain_arg(domain, &owned)) == NULL) {
			rc = EXIT_USAGE;
			goto done;
		}
		if (!cmd_resolver(&rn.co, &base2, &res2))
			goto done;
		if (spf_zone_replace_txt(spf_resolver_zone(res2), name, draft,
		    strlen(draft)) != SPF_OK) {
			cmd_error("cannot use the draft record");
			goto done;
		}
		if (!evaluate(&rn, res2, true))
			goto done;
	}
	if (!group(&rn)) {
		cmd_error("out of memory grouping the sources");
		goto done;
	}
	if (rn.json) {
		if (output_json(&rn) != 0) {
			cmd_error("cannot format JSON output");
			goto done;
		}
	} else if (rn.page != NULL) {
		output_html(&rn, rn.page);
	} else if (rn.csv) {
		output_csv(&rn);
	} else {
		output_text(&rn);
	}
	rc = rn.unreadable > 0 ? EXIT_NOINPUT : rn.bad_files > 0 ? EXIT_DATAERR : 0;
	if (rn.page != NULL && !cmd_html_close(rn.page, output))
		rc = EXIT_CANTCREAT;
	rn.page = NULL;
done:
	if (rn.page != NULL && rn.page != stdout)
		fclose(rn.page);
	run_free(&rn);
	spf_free(owned);
	cmd_resolver_free(base2, res2);
	cmd_resolver_free(base, res);
	return rc;
}
