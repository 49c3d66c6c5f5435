/*
 * batch.c - `spfcheck batch`: evaluate "IP SENDER [HELO [FROM]]" lines from
 * stdin (or --input FILE), many at once on the one event loop, and write
 * one result line per input line, in input order.
 *
 * DESCRIPTION
 *	Lines are read only while fewer than --concurrency of them are being
 *	evaluated and the reorder window (4 x concurrency lines, at least
 *	64) has room: a line that finished early waits in the window until
 *	every line before it is written.  So memory stays bounded whatever
 *	the size of the input.  All jobs share one resolver, and so its
 *	zones and its cache.  With --identity both a line's HELO identity is
 *	evaluated first, then its MAIL FROM identity (RFC 7208 §2.3, §2.4).
 *	A line with FROM (the RFC 5322.From, cmd/batchline.c) then gets its
 *	DMARC view (RFC 9989) of the SPF leg, spf_dmarc_start() on the same
 *	loop and resolver: the line is done when that is back.
 *
 *	Output (TSV, one line per input line that is not blank or a comment):
 *	  line  ip  sender  result  mechanism  domain  lookups  void_lookups
 *	  helo_result  detail  [dmarc]
 *	dmarc only on lines with FROM ("dmarc=RESULT aligned=yes|no
 *	policy=POLICY", dmarc_field()).  result is the MAIL FROM result (HELO with --identity helo) or
 *	"error" for a malformed line; detail is the problem, the
 *	explanation (for fail) or the error message; "-" marks an empty
 *	field.  --brief writes only the result word per line, or "error",
 *	a tab and the reason (and, with FROM, a tab and the dmarc field).
 *	--json writes one JSON object per line instead (schema 1,
 *	as check --json, with "line", and "dmarc" as check --from's).  A summary goes to stderr at the end;
 *	a progress line too, while running, when stderr is a terminal.
 *
 * DIAGNOSTICS
 *	A malformed line (bad IP, bad sender, a FROM without a domain, too
 *	many fields, too long) gets
 *	an error line in its place; processing goes on and the exit status
 *	is then 64.  Bad options or an unreadable --input: one line on
 *	stderr, exit 64.  Otherwise 0.
 */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 4096
#define DEFAULT_CONCURRENCY 256
/* Lines started between two looks at the event loop: a thousand lines
 * started in one go hold the answers that arrive meanwhile for several
 * milliseconds, a round trip or more on a near resolver (issue 15). */
#define START_BURST 16
#define MAX_CONCURRENCY 10000

static const char batch_usage[] =
	"usage: spfcheck batch [options] < FILE\n"
	"\n"
	"Read \"IP SENDER [HELO [FROM]]\" lines (blank lines and lines starting\n"
	"with # are skipped; SENDER \"<>\" or \"\" is the null sender) and write\n"
	"one result line per input line, in input order, as TSV:\n"
	"  line ip sender result mechanism domain lookups void_lookups helo_result detail\n"
	"or, with --json, one JSON object per line.  A malformed line gets\n"
	"result \"error\" and the message in detail; processing goes on.\n"
	"FROM (the RFC 5322.From: ADDRESS or DOMAIN; HELO \"-\" for none) adds\n"
	"DMARC (RFC 9989) for the SPF leg, as check --from: an 11th field\n"
	"  dmarc=pass|unknown|none|temperror aligned=yes|no policy=POLICY|-\n"
	"(unknown: SPF does not pass aligned and DKIM is not evaluated), the same\n"
	"after the result word with --brief, a \"dmarc\" object with --json.\n"
	"\n"
	"options:\n"
	"  --input FILE            read FILE instead of stdin\n"
	"  --concurrency N         evaluate up to N lines at once (default 256)\n"
	"  --identity mfrom|helo|both  identities to check (default mfrom);\n"
	"                          both: HELO first when the line has one\n"
	"  --brief                 write only the result word per line (\"error\",\n"
	"                          a tab and the reason for a malformed line)\n"
	CMD_DMARC_ORG_HELP
	"                          (for FROM's DMARC; --psl-file alone changes\n"
	"                          nothing)\n"
	CMD_HELP_VOID_COUNT
	CMD_MEMORY_BUDGET_HELP
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 every line evaluated, 64 bad usage or a malformed line,\n"
	"70 internal error.  A summary (counts per result, DMARC results of lines\n"
	"with FROM, rate, DNS lookups and queries sent) goes to stderr.\n";

struct batch;

/* One input line in the reorder window. */
struct slot {
	struct batch *b;
	unsigned long lineno;
	bool busy;            /* holds a line not yet written */
	bool done;            /* out is ready */
	const char *out;      /* the output line, with its newline: out_heap
	                       * or a batch-owned constant (brief_line) */
	size_t out_len;
	char *out_heap;       /* owned, or NULL */
	/* the line's fields: the slot's own buffer (text_cap bytes), kept
	 * when the slot is cleared for its next line, freed at the end */
	char *text;
	size_t text_cap;
	char *owned_sender, *owned_helo, *owned_from;
	spf_identity_parts_t parts;  /* the line's identities, read once */
	spf_arena_t *id_arena;       /* holds them, or NULL */
	const char *ip_text, *sender_text;
	const char *from;        /* the FROM field's domain, or NULL */
	spf_dmarc_t *dmarc;      /* its DMARC view, once SPF is done */
	spf_request_t req;
	struct cmd_eval ev;
	struct cmd_ident *cur;   /* the identity being evaluated */
	double t0, t_start;
};

struct batch {
	spf_resolver_t *res;
	struct slot *win;
	size_t nwin;
	unsigned long next_seq, write_seq;
	unsigned running, concurrency;
	enum cmd_identities ids;
	bool json;
	bool brief;           /* only the result word per line */
	/* --brief's whole line for each result without FROM: the result
	 * word and a newline, made once from spf_result_str() */
	char brief_line[SPF_RESULT_PERMERROR + 1][16];
	size_t brief_len[SPF_RESULT_PERMERROR + 1];
	bool finished_any;
	bool failed;          /* an internal error */
	bool malformed;
	unsigned long counts[SPF_RESULT_PERMERROR + 1];
	unsigned long dmarc_counts[SPF_DMARC_RESULT_DKIM_UNKNOWN + 1];
	unsigned long errors, lines, dmarc_lines;
	const struct common_opts *co;
	spf_budget_t *budget;    /* of the evaluations in flight */
	const spf_psl_t *psl;    /* --org-domain psl: FROM's DMARC by the
	                          * Public Suffix List; NULL: the walk */
};

/* A TSV field: "-" when empty; tabs, other control bytes and backslash
 * as \xNN (UTF-8 text such as "§" is kept). */
static void field(spf_buf_t *b, const char *s, bool last)
{
	if (s == NULL || *s == '\0')
		spf_buf_putc(b, '-');
	else
		spf_buf_escape(b, s, strlen(s), SPF_ESC_FIELD, 0);
	spf_buf_putc(b, last ? '\n' : '\t');
}

/* b's text becomes s's output line (b's data is taken: b is empty
 * after). */
static void set_out(struct slot *s, spf_buf_t *b)
{
	static const char failed[] = "internal error\n";

	if (b->err == SPF_OK && b->data != NULL) {
		s->out_heap = b->data;
		s->out = b->data;
		s->out_len = b->len;
		b->data = NULL;
		b->len = b->cap = 0;
	} else {
		s->out = failed;
		s->out_len = sizeof(failed) - 1;
	}
	s->done = true;
}

/*
 * The DMARC view of a line with FROM, short: "dmarc=RESULT aligned=yes|no
 * policy=POLICY" (RESULT pass, fail, unknown: SPF did not pass aligned
 * and DKIM is not evaluated, none: no usable record, temperror; aligned:
 * SPF passed and aligned under aspf; POLICY: what a message that fails
 * gets, after t=y, "-" without a usable record).
 */
static void dmarc_field(spf_buf_t *b, const spf_dmarc_view_t *v)
{
	spf_buf_puts(b, "dmarc=");
	spf_buf_puts(b, spf_dmarc_result_str(v->result));
	spf_buf_puts(b, v->spf_aligned ? " aligned=yes" : " aligned=no");
	spf_buf_puts(b, " policy=");
	spf_buf_puts(b, v->record != NULL && v->record->usable &&
		v->applied != SPF_DMARC_UNSET ? spf_dmarc_policy_str(v->applied) : "-");
}

static void error_line(struct slot *s, const char *input, const char *msg)
{
	struct batch *b = s->b;
	spf_buf_t buf;

	b->errors++;
	b->malformed = true;
	spf_buf_init(&buf, 8192);
	if (b->brief) {
		/* the word, then why: a script reading the first word is
		 * unchanged, a person sees the reason */
		field(&buf, "error", false);
		field(&buf, msg, true);
	} else if (b->json) {
		json_t *o = json_object();
		char *text;
		char tmp[1200];

		json_object_set_new(o, "schema", json_integer(1));
		json_object_set_new(o, "line", json_integer((json_int_t)s->lineno));
		json_object_set_new(o, "error", json_string(msg));
		json_object_set_new(o, "input", json_string(cmd_printable(input, tmp, sizeof(tmp))));
		text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		spf_buf_puts(&buf, text ? text : "{}");
		spf_buf_putc(&buf, '\n');
		free(text);
	} else {
		char n[32], copy[640], *rest = copy, *ip, *sender = NULL;

		snprintf(n, sizeof(n), "%lu", s->lineno);
		snprintf(copy, sizeof(copy), "%s", input);
		ip = cmd_batch_field(&rest);
		if (ip != NULL)
			sender = cmd_batch_field(&rest);
		field(&buf, n, false);
		field(&buf, ip, false);
		field(&buf, sender, false);
		field(&buf, "error", false);
		for (int i = 0; i < 5; i++)
			field(&buf, NULL, false);
		field(&buf, msg, true);
	}
	set_out(s, &buf);
	spf_buf_finish(&buf);
}

/* Format the finished identities of s and free their jobs. */
static void result_line(struct slot *s)
{
	struct batch *b = s->b;
	const struct cmd_ident *p = cmd_eval_primary(&s->ev);
	spf_job_summary_t view, hview;
	const spf_job_summary_t *sum = cmd_ident_summary(p, &view);
	const spf_job_summary_t *helo = cmd_ident_summary(&s->ev.helo, &hview);
	spf_result_t r = sum->result;
	const spf_dmarc_view_t *dv = s->dmarc != NULL ? spf_dmarc_view(s->dmarc) : NULL;
	spf_buf_t buf;

	b->counts[r]++;
	if (dv != NULL) {
		b->dmarc_lines++;
		b->dmarc_counts[dv->result]++;
	}
	if (b->brief && dv == NULL) {   /* the word alone: a constant line */
		s->out = b->brief_line[r];
		s->out_len = b->brief_len[r];
		s->done = true;
		goto done;
	}
	if (b->json)   /* only JSON shows the time */
		s->ev.elapsed_ms = cmd_now_ms() - s->t_start;
	spf_buf_init(&buf, 16384);
	if (b->brief) {
		spf_buf_puts(&buf, spf_result_str(r));
		if (dv != NULL) {
			spf_buf_putc(&buf, '\t');
			dmarc_field(&buf, dv);
		}
		spf_buf_putc(&buf, '\n');
	} else if (b->json) {
		json_t *o = cmd_eval_json(&s->ev);
		char *text;

		if (o != NULL)
			json_object_set_new(o, "line", json_integer((json_int_t)s->lineno));
		if (o != NULL && dv != NULL)
			json_object_set_new(o, "dmarc", cmd_dmarc_json(dv));
		text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
			JSON_REAL_PRECISION(6)) : NULL;
		json_decref(o);
		if (text == NULL)
			b->failed = true;
		spf_buf_puts(&buf, text ? text : "{}");
		spf_buf_putc(&buf, '\n');
		free(text);
	} else {
		char n[32], lk[16], vd[16], ip[64];
		const char *detail = sum->problem ? sum->problem : sum->explanation;

		snprintf(n, sizeof(n), "%lu", s->lineno);
		snprintf(lk, sizeof(lk), "%u", sum->lookups);
		snprintf(vd, sizeof(vd), "%u", sum->void_lookups);
		field(&buf, n, false);
		field(&buf, spf_addr_str(&s->req.ip, ip, sizeof(ip)), false);
		field(&buf, *s->sender_text ? s->sender_text : "<>", false);
		field(&buf, spf_result_str(r), false);
		field(&buf, sum->mechanism, false);
		field(&buf, sum->domain ? sum->domain : sum->start_domain, false);
		field(&buf, lk, false);
		field(&buf, vd, false);
		field(&buf, s->ev.helo.used && helo != NULL ?
			spf_result_str(helo->result) : NULL, false);
		field(&buf, detail, dv == NULL);
		if (dv != NULL) {   /* FROM: an 11th field, dmarc */
			dmarc_field(&buf, dv);
			spf_buf_putc(&buf, '\n');
		}
	}
	set_out(s, &buf);
	spf_buf_finish(&buf);
done:
	cmd_eval_finish(&s->ev);
	spf_dmarc_destroy(s->dmarc);
	s->dmarc = NULL;
}

static void on_done(spf_job_t *job, void *arg);

/* The DMARC view is back: the line is complete. */
static void on_dmarc(spf_dmarc_t *d, void *arg)
{
	struct slot *s = arg;
	struct batch *b = s->b;

	b->finished_any = true;
	s->dmarc = d;
	if (spf_dmarc_status(d) != SPF_OK) {
		b->failed = true;
		spf_dmarc_destroy(d);
		s->dmarc = NULL;
		error_line(s, "", "cannot evaluate DMARC: out of memory");
		cmd_eval_finish(&s->ev);
	} else {
		result_line(s);
	}
	b->running--;
}

/* SPF is done and the line has a FROM: start its DMARC view on the
 * shared loop (the walks' queries go through the resolver's cache and
 * join those in flight).  False (with an error line) if it cannot. */
static bool start_dmarc(struct slot *s)
{
	spf_dmarc_request_t req = { .from_domain = s->from, .psl = s->b->psl };
	spf_status_t st = SPF_OK;
	char why[128];

	cmd_dmarc_spf_leg(&s->ev, &req);
	s->dmarc = spf_dmarc_start(s->b->res, &req, on_dmarc, s, &st);
	if (s->dmarc == NULL) {
		s->b->failed = true;
		snprintf(why, sizeof(why), "cannot evaluate DMARC: %s", spf_strerror(st));
		error_line(s, "", why);
		cmd_eval_finish(&s->ev);
		return false;
	}
	return true;
}

/* Start the identity id of s; false (with an error line) if it cannot. */
static bool start(struct slot *s, struct cmd_ident *id, spf_identity_t identity)
{
	spf_status_t st = SPF_OK;

	id->used = true;
	id->req = s->req;
	id->req.identity = identity;
	s->cur = id;
	if (s->b->json)
		s->t0 = cmd_now_ms();
	id->job = spf_check_start(s->b->res, &id->req, on_done, s, &st);
	if (id->job == NULL) {
		id->used = false;
		s->b->failed = true;
		error_line(s, "", spf_strerror(st));
		cmd_eval_finish(&s->ev);
		return false;
	}
	return true;
}

static void on_done(spf_job_t *job, void *arg)
{
	struct slot *s = arg;
	struct batch *b = s->b;

	(void)job;
	if (b->json)
		s->cur->elapsed_ms = cmd_now_ms() - s->t0;
	b->finished_any = true;
	if (s->cur == &s->ev.helo && (b->ids & CMD_ID_MFROM)) {
		/* RFC 7208 §2.3 then §2.4: the MAIL FROM identity next, the
		 * HELO job gone but for its summary (issue 22) */
		cmd_ident_let_go(&s->ev.helo);
		if (start(s, &s->ev.mfrom, SPF_IDENTITY_MFROM))
			return;
		b->running--;
		return;
	}
	if (s->from != NULL) {
		if (!start_dmarc(s))
			b->running--;
		return;
	}
	result_line(s);
	b->running--;
}

/* Split, check and start one line (len bytes, NUL-terminated). */
static void take_line(struct batch *b, struct slot *s, const char *line,
	size_t len)
{
	struct cmd_batch_line pl;
	char why[512];
	const char *helo;

	if (!cmd_batch_copy_line(&s->text, &s->text_cap, line, len)) {
		cmd_error("out of memory");
		exit(EXIT_INTERNAL);
	}
	if (!cmd_batch_parse_line(s->text, &pl, why, sizeof(why))) {
		error_line(s, line, why);
		return;
	}
	s->req.ip = pl.ip;
	s->ip_text = pl.ip_text;
	s->sender_text = pl.sender_text;
	s->req.sender = pl.sender;
	s->owned_sender = pl.owned_sender;
	s->owned_helo = pl.owned_helo;
	s->owned_from = pl.owned_from;
	s->id_arena = pl.id_arena;
	if (s->id_arena != NULL) {
		/* read once: the jobs pick their identity from these */
		s->parts = pl.parts;
		s->req.identities = &s->parts;
	}
	s->from = pl.from;
	helo = pl.helo;
	s->req.helo = helo;
	if (helo == NULL && (b->ids == CMD_ID_HELO ||
	    (*s->req.sender == '\0' && (b->ids & CMD_ID_MFROM)))) {
		error_line(s, line, b->ids == CMD_ID_HELO ?
			"--identity helo needs a HELO name on each line" :
			"a null sender is checked as postmaster@HELO: the line needs a HELO name");
		return;
	}
	cmd_request_opts(b->co, &s->req);
	s->req.no_trace = !b->json;   /* the trace is never shown */
	s->req.budget = b->budget;
	if (b->json)
		s->t_start = cmd_now_ms();
	b->running++;
	if (helo != NULL && (b->ids & CMD_ID_HELO)) {
		if (!start(s, &s->ev.helo, SPF_IDENTITY_HELO))
			b->running--;
	} else if (!start(s, &s->ev.mfrom, SPF_IDENTITY_MFROM)) {
		b->running--;
	}
}

/* Free what s's line held; its text buffer stays for the next line
 * (the end of cmd_batch() frees it). */
static void slot_clear(struct slot *s)
{
	struct batch *b = s->b;
	char *text = s->text;
	size_t cap = s->text_cap;

	spf_dmarc_destroy(s->dmarc);   /* before its callback: cancelled */
	cmd_eval_finish(&s->ev);
	spf_free(s->out_heap);
	spf_free(s->owned_sender);
	spf_free(s->owned_helo);
	spf_free(s->owned_from);
	spf_arena_destroy(s->id_arena);
	memset(s, 0, sizeof(*s));
	s->b = b;
	s->text = text;
	s->text_cap = cap;
}

/* Write the finished lines at the head of the window, in order. */
static void flush(struct batch *b)
{
	while (b->write_seq < b->next_seq) {
		struct slot *s = &b->win[b->write_seq % b->nwin];

		if (!s->done)
			break;
		fwrite(s->out, 1, s->out_len, stdout);
		slot_clear(s);
		b->write_seq++;
		b->lines++;
	}
}

/*
 * Read one line into buf (its length without the NUL in *out_len).
 * Returns 1 for a line, 0 at the end, -1 for a line over MAX_LINE (the
 * rest of it is consumed), -2 on a read error.
 */
static int read_line(FILE *in, char *buf, size_t len, size_t *out_len)
{
	size_t n;
	int ch;

	if (fgets(buf, (int)len, in) == NULL)
		return ferror(in) ? -2 : 0;
	n = strlen(buf);
	if ((n > 0 && buf[n - 1] == '\n') || feof(in)) {
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		*out_len = n;
		return 1;
	}
	while ((ch = getc(in)) != EOF && ch != '\n')
		;
	return -1;
}

static bool skip_line(const char *line)
{
	while (*line == ' ' || *line == '\t' || *line == '\r' || *line == '\n')
		line++;
	return *line == '\0' || *line == '#';
}

static void progress(const struct batch *b, double t0, bool final)
{
	double secs = (cmd_now_ms() - t0) / 1000.0;

	if (final) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r\033[Kbatch: %lu lines done, %u in flight, %.0f lines/s",
		b->lines, b->running, secs > 0 ? (double)b->lines / secs : 0.0);
	fflush(stderr);
}

int cmd_batch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "identity", required_argument, NULL, 'I' },
		{ "brief", no_argument, NULL, 'B' },
		{ "memory-budget", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		CMD_VOID_COUNT_OPT,
		CMD_DMARC_ORG_OPTS,
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	struct cmd_dmarc_args da = { 0 };
	struct batch b = { .concurrency = DEFAULT_CONCURRENCY, .ids = CMD_ID_MFROM };
	struct event_base *base = NULL;
	const char *input = NULL;
	FILE *in = stdin;
	static char line[MAX_LINE + 2];
	bool eof = false, tty = isatty(STDERR_FILENO) == 1;
	double t0, last_progress = 0;
	char tmp[256];
	unsigned long lineno = 0, started = 0;
	size_t len = 0;
	size_t budget = SPF_BUDGET_DEFAULT;
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
		case 'i':
			input = optarg;
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
			b.concurrency = (unsigned)v;
			break;
		}
		case 'I':
			if (!cmd_parse_identities(optarg, &b.ids))
				return EXIT_USAGE;
			break;
		case 'B':
			b.brief = true;
			break;
		case CMD_VOID_COUNT_VAL:
			if (!cmd_void_count_opt(optarg, &co.void_count))
				return EXIT_USAGE;
			break;
		case 'M':
			if (!cmd_memory_budget(optarg, &budget))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(batch_usage, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("batch", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("batch", argc, argv, optind, 0, 0,
	    "no arguments: it reads lines from stdin or --input"))
		return EXIT_USAGE;
	/* as check --from: the list is read when named or needed */
	if ((da.org_psl || da.psl_file != NULL) && !cmd_dmarc_psl(&da))
		return EXIT_USAGE;
	b.psl = da.org_psl ? da.psl : NULL;
	if (input != NULL && strcmp(input, "-") != 0) {
		in = fopen(input, "r");
		if (in == NULL) {
			cmd_error("cannot read --input %s: %s",
				cmd_printable(input, tmp, sizeof(tmp)), strerror(errno));
			cmd_dmarc_args_finish(&da);
			return EXIT_USAGE;
		}
	}
	b.json = co.json;
	for (int r = 0; r <= SPF_RESULT_PERMERROR; r++) {
		snprintf(b.brief_line[r], sizeof(b.brief_line[r]), "%s\n",
			spf_result_str((spf_result_t)r));
		b.brief_len[r] = strlen(b.brief_line[r]);
	}
	b.co = &co;
	if (!cmd_resolver(&co, &base, &b.res)) {
		if (in != stdin)
			fclose(in);
		cmd_dmarc_args_finish(&da);
		return EXIT_USAGE;
	}
	b.nwin = (size_t)b.concurrency * 4 < 64 ? 64 : (size_t)b.concurrency * 4;
	b.win = spf_calloc(b.nwin, sizeof(*b.win));
	b.budget = spf_budget_create(budget);
	if (b.win == NULL || b.budget == NULL) {
		cmd_error("out of memory");
		rc = EXIT_INTERNAL;
		goto out;
	}
	t0 = cmd_now_ms();
	for (;;) {
		while (!eof && b.running < b.concurrency && b.next_seq - b.write_seq < b.nwin) {
			int got;
			struct slot *s;

			/* only lets lines finish: the window and the count
			 * checked above still hold */
			if (b.running > 0 && ++started % START_BURST == 0)
				spf_resolver_poll(b.res);
			got = read_line(in, line, sizeof(line), &len);

			if (got == 0) {
				eof = true;
				break;
			}
			if (got == -2) {
				cmd_error("reading the input: %s", strerror(errno));
				eof = true;
				b.failed = true;
				break;
			}
			lineno++;
			/* a UTF-8 byte-order mark (an editor's) opens no field */
			if (lineno == 1 && got == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
				len -= 3;
				memmove(line, line + 3, len + 1);
			}
			if (got == 1 && skip_line(line))
				continue;
			s = &b.win[b.next_seq % b.nwin];
			s->b = &b;   /* a slot's page is touched when first used */
			b.next_seq++;
			s->busy = true;
			s->lineno = lineno;
			if (got == -1) {
				line[64] = '\0';
				error_line(s, line, "the line is longer than 4096 characters");
			} else {
				take_line(&b, s, line, len);
			}
		}
		flush(&b);
		if (eof && b.write_seq == b.next_seq)
			break;
		if (b.running == 0)
			continue;
		b.finished_any = false;
		spf_resolver_run_until(b.res, &b.finished_any);
		if (!b.finished_any) {
			cmd_error("internal error: the event loop stopped with %u checks in flight",
				b.running);
			rc = EXIT_INTERNAL;
			goto out;
		}
		if (tty && cmd_now_ms() - last_progress > 200) {
			last_progress = cmd_now_ms();
			progress(&b, t0, false);
		}
	}
	if (tty)
		progress(&b, t0, true);
	{
		double secs = (cmd_now_ms() - t0) / 1000.0;

		spf_resolver_stats_t ds;

		spf_resolver_stats(b.res, &ds);
		fprintf(stderr, "batch: %lu lines: pass %lu, fail %lu, softfail %lu, neutral %lu, "
			"none %lu, permerror %lu, temperror %lu, error %lu; ",
			b.lines, b.counts[SPF_RESULT_PASS], b.counts[SPF_RESULT_FAIL],
			b.counts[SPF_RESULT_SOFTFAIL], b.counts[SPF_RESULT_NEUTRAL],
			b.counts[SPF_RESULT_NONE], b.counts[SPF_RESULT_PERMERROR],
			b.counts[SPF_RESULT_TEMPERROR], b.errors);
		if (b.dmarc_lines > 0)
			fprintf(stderr, "dmarc %lu: pass %lu, fail %lu, unknown %lu, "
				"none %lu, temperror %lu; ", b.dmarc_lines,
				b.dmarc_counts[SPF_DMARC_RESULT_PASS],
				b.dmarc_counts[SPF_DMARC_RESULT_FAIL],
				b.dmarc_counts[SPF_DMARC_RESULT_DKIM_UNKNOWN],
				b.dmarc_counts[SPF_DMARC_RESULT_NONE],
				b.dmarc_counts[SPF_DMARC_RESULT_TEMPERROR]);
		fprintf(stderr, "%.2f s, %.0f lines/s; DNS %lu lookups, %lu sent\n",
			secs, secs > 0 ? (double)b.lines / secs : 0.0, ds.queries,
			ds.wire_queries);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cmd_error("writing the output: %s", strerror(errno));
		rc = EXIT_INTERNAL;
	} else if (b.failed) {
		rc = EXIT_INTERNAL;
	} else if (b.malformed) {
		rc = EXIT_USAGE;
	}
out:
	if (b.win != NULL) {
		/* the slots never used are still calloc's untouched zero pages */
		for (size_t i = 0; i < b.nwin && i < b.next_seq; i++) {
			slot_clear(&b.win[i]);
			spf_free(b.win[i].text);
		}
		spf_free(b.win);
	}
	spf_budget_destroy(b.budget);   /* after the jobs */
	cmd_resolver_free(base, b.res);
	cmd_dmarc_args_finish(&da);
	if (in != stdin)
		fclose(in);
	return rc;
}
