/*
 * batch.c - `spfcheck batch`: evaluate "IP SENDER [HELO]" lines from
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
 *
 *	Output (TSV, one line per input line that is not blank or a comment):
 *	  line  ip  sender  result  mechanism  domain  lookups  void_lookups
 *	  helo_result  detail
 *	result is the MAIL FROM result (HELO with --identity helo) or
 *	"error" for a malformed line; detail is the problem, the
 *	explanation (for fail) or the error message; "-" marks an empty
 *	field.  --brief writes only the result word per line, or "error",
 *	a tab and the reason.
 *	--json writes one JSON object per line instead (schema 1,
 *	as check --json, with "line").  A summary goes to stderr at the end;
 *	a progress line too, while running, when stderr is a terminal.
 *
 * DIAGNOSTICS
 *	A malformed line (bad IP, bad sender, too many fields, too long) gets
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
#define MAX_CONCURRENCY 10000

static const char batch_usage[] =
	"usage: spfcheck batch [options] < FILE\n"
	"\n"
	"Read \"IP SENDER [HELO]\" lines (blank lines and lines starting with #\n"
	"are skipped; SENDER \"<>\" or \"\" is the null sender) and write one\n"
	"result line per input line, in input order, as TSV:\n"
	"  line ip sender result mechanism domain lookups void_lookups helo_result detail\n"
	"or, with --json, one JSON object per line.  A malformed line gets\n"
	"result \"error\" and the message in detail; processing goes on.\n"
	"\n"
	"options:\n"
	"  --input FILE            read FILE instead of stdin\n"
	"  --concurrency N         evaluate up to N lines at once (default 256)\n"
	"  --identity mfrom|helo|both  identities to check (default mfrom);\n"
	"                          both: HELO first when the line has one\n"
	"  --brief                 write only the result word per line (\"error\",\n"
	"                          a tab and the reason for a malformed line)\n"
	CMD_HELP_VOID_COUNT
	CMD_MEMORY_BUDGET_HELP
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 every line evaluated, 64 bad usage or a malformed line,\n"
	"70 internal error.  A summary (counts per result, rate) goes to stderr.\n";

struct batch;

/* One input line in the reorder window. */
struct slot {
	struct batch *b;
	unsigned long lineno;
	bool busy;            /* holds a line not yet written */
	bool done;            /* out is ready */
	char *out;            /* the output line, with its newline */
	char *text;           /* the line's fields (owned) */
	char *owned_sender, *owned_helo;
	const char *ip_text, *sender_text;
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
	bool finished_any;
	bool failed;          /* an internal error */
	bool malformed;
	unsigned long counts[SPF_RESULT_PERMERROR + 1];
	unsigned long errors, lines;
	const struct common_opts *co;
	spf_budget_t *budget;    /* of the evaluations in flight */
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

static void set_out(struct slot *s, spf_buf_t *b)
{
	s->out = xstrdup(b->err == SPF_OK ? spf_buf_cstr(b) : "internal error\n");
	s->done = true;
}

/*
 * The next field of *p: blanks (space, tab, CR, LF) end it, except
 * inside an RFC 5321 Quoted-string ("john smith"@example.com: the quotes
 * stay, a backslash escapes the next byte).  NULL when no field is left.
 */
static char *next_field(char **p)
{
	char *s = *p, *start;
	bool quoted = false;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s == '\0')
		return NULL;
	start = s;
	for (; *s != '\0'; s++) {
		if (quoted && *s == '\\' && s[1] != '\0')
			s++;
		else if (*s == '"')
			quoted = !quoted;
		else if (!quoted && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
			break;
	}
	if (*s != '\0')
		*s++ = '\0';
	*p = s;
	return start;
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
		ip = next_field(&rest);
		if (ip != NULL)
			sender = next_field(&rest);
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
	spf_buf_t buf;

	b->counts[r]++;
	s->ev.elapsed_ms = cmd_now_ms() - s->t_start;
	spf_buf_init(&buf, 16384);
	if (b->brief) {
		spf_buf_printf(&buf, "%s\n", spf_result_str(r));
	} else if (b->json) {
		json_t *o = cmd_eval_json(&s->ev);
		char *text;

		if (o != NULL)
			json_object_set_new(o, "line", json_integer((json_int_t)s->lineno));
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
		field(&buf, detail, true);
	}
	set_out(s, &buf);
	spf_buf_finish(&buf);
	cmd_eval_finish(&s->ev);
}

static void on_done(spf_job_t *job, void *arg);

/* Start the identity id of s; false (with an error line) if it cannot. */
static bool start(struct slot *s, struct cmd_ident *id, spf_identity_t identity)
{
	spf_status_t st = SPF_OK;

	id->used = true;
	id->req = s->req;
	id->req.identity = identity;
	s->cur = id;
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
	result_line(s);
	b->running--;
}

bool cmd_batch_parse_line(char *text, struct cmd_batch_line *out, char *why,
	size_t whylen)
{
	char *f[4] = { 0 }, *rest = text, *tok;
	const char *problem;
	int n = 0;

	memset(out, 0, sizeof(*out));
	while ((tok = next_field(&rest)) != NULL) {
		if (n == 4)
			break;
		f[n++] = tok;
	}
	if (n < 2) {
		snprintf(why, whylen, "a line needs IP SENDER [HELO]");
		return false;
	}
	if (n > 3) {
		snprintf(why, whylen, "too many fields: a line is IP SENDER [HELO]");
		return false;
	}
	/* the IP field itself is in the line's output: the reason does not
	 * quote it (quoting escaped bytes again garbles them) */
	if ((problem = spf_client_addr_problem(f[0], &out->ip)) != NULL) {
		snprintf(why, whylen, "the IP field: %s", problem);
		return false;
	}
	out->ip_text = f[0];
	if (strcmp(f[1], "\"\"") == 0)
		f[1] = (char *)"";
	out->sender_text = f[1];
	out->sender = cmd_sender(f[1], &out->owned_sender, why, whylen);
	if (out->sender == NULL)
		goto fail;
	out->helo = n == 3 ? cmd_helo(f[2], &out->owned_helo, why, whylen) : NULL;
	if (n == 3 && out->helo == NULL)
		goto fail;
	return true;
fail:
	spf_free(out->owned_sender);
	spf_free(out->owned_helo);
	out->owned_sender = out->owned_helo = NULL;
	return false;
}

/* Split, check and start one line. */
static void take_line(struct batch *b, struct slot *s, const char *line)
{
	struct cmd_batch_line pl;
	char why[512];
	const char *helo;

	s->text = xstrdup(line);
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
	s->req.lean_trace = !b->json;   /* the trace is never shown */
	s->req.budget = b->budget;
	s->t_start = cmd_now_ms();
	b->running++;
	if (helo != NULL && (b->ids & CMD_ID_HELO)) {
		if (!start(s, &s->ev.helo, SPF_IDENTITY_HELO))
			b->running--;
	} else if (!start(s, &s->ev.mfrom, SPF_IDENTITY_MFROM)) {
		b->running--;
	}
}

static void slot_clear(struct slot *s)
{
	struct batch *b = s->b;

	cmd_eval_finish(&s->ev);
	spf_free(s->out);
	spf_free(s->text);
	spf_free(s->owned_sender);
	spf_free(s->owned_helo);
	memset(s, 0, sizeof(*s));
	s->b = b;
}

/* Write the finished lines at the head of the window, in order. */
static void flush(struct batch *b)
{
	while (b->write_seq < b->next_seq) {
		struct slot *s = &b->win[b->write_seq % b->nwin];

		if (!s->done)
			break;
		fputs(s->out, stdout);
		slot_clear(s);
		b->write_seq++;
		b->lines++;
	}
}

/*
 * Read one line into buf.  Returns 1 for a line, 0 at the end, -1 for a
 * line over MAX_LINE (the rest of it is consumed), -2 on a read error.
 */
static int read_line(FILE *in, char *buf, size_t len)
{
	size_t n;
	int ch;

	if (fgets(buf, (int)len, in) == NULL)
		return ferror(in) ? -2 : 0;
	n = strlen(buf);
	if ((n > 0 && buf[n - 1] == '\n') || feof(in)) {
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
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
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	struct batch b = { .concurrency = DEFAULT_CONCURRENCY, .ids = CMD_ID_MFROM };
	struct event_base *base = NULL;
	const char *input = NULL;
	FILE *in = stdin;
	static char line[MAX_LINE + 2];
	bool eof = false, tty = isatty(STDERR_FILENO) == 1;
	double t0, last_progress = 0;
	char tmp[256];
	unsigned long lineno = 0;
	size_t budget = SPF_BUDGET_DEFAULT;
	int opt, rc = EXIT_PASS;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int cr = common_opt(&co, opt, optarg);

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
	if (input != NULL && strcmp(input, "-") != 0) {
		in = fopen(input, "r");
		if (in == NULL) {
			cmd_error("cannot read --input %s: %s",
				cmd_printable(input, tmp, sizeof(tmp)), strerror(errno));
			return EXIT_USAGE;
		}
	}
	b.json = co.json;
	b.co = &co;
	if (!cmd_resolver(&co, &base, &b.res)) {
		if (in != stdin)
			fclose(in);
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
	for (size_t i = 0; i < b.nwin; i++)
		b.win[i].b = &b;
	t0 = cmd_now_ms();
	for (;;) {
		while (!eof && b.running < b.concurrency && b.next_seq - b.write_seq < b.nwin) {
			int got = read_line(in, line, sizeof(line));
			struct slot *s;

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
			if (lineno == 1 && got == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
				memmove(line, line + 3, strlen(line + 3) + 1);
			if (got == 1 && skip_line(line))
				continue;
			s = &b.win[b.next_seq % b.nwin];
			b.next_seq++;
			s->busy = true;
			s->lineno = lineno;
			if (got == -1) {
				line[64] = '\0';
				error_line(s, line, "the line is longer than 4096 characters");
			} else {
				take_line(&b, s, line);
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

		fprintf(stderr, "batch: %lu lines: pass %lu, fail %lu, softfail %lu, neutral %lu, "
			"none %lu, permerror %lu, temperror %lu, error %lu; %.2f s, %.0f lines/s\n",
			b.lines, b.counts[SPF_RESULT_PASS], b.counts[SPF_RESULT_FAIL],
			b.counts[SPF_RESULT_SOFTFAIL], b.counts[SPF_RESULT_NEUTRAL],
			b.counts[SPF_RESULT_NONE], b.counts[SPF_RESULT_PERMERROR],
			b.counts[SPF_RESULT_TEMPERROR], b.errors, secs,
			secs > 0 ? (double)b.lines / secs : 0.0);
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
		for (size_t i = 0; i < b.nwin; i++)
			slot_clear(&b.win[i]);
		spf_free(b.win);
	}
	spf_budget_destroy(b.budget);   /* after the jobs */
	cmd_resolver_free(base, b.res);
	if (in != stdin)
		fclose(in);
	return rc;
}
