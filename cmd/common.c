/*
 * common.c - options, resolver set-up and error output shared by the
 * spfcheck subcommands, and what lint, flatten and diff share (a DOMAIN
 * argument, a draft --record, lint's counts as JSON).
 *
 * DIAGNOSTICS
 *	Every error is one line on stderr, "spfcheck: ...", naming the file,
 *	option or value that was wrong; callers exit with EXIT_USAGE.
 */
#include "cmd.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int spf_result_exit(spf_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return EXIT_PASS;
	case SPF_RESULT_FAIL: return EXIT_FAIL;
	case SPF_RESULT_SOFTFAIL: return EXIT_SOFTFAIL;
	case SPF_RESULT_NEUTRAL: return EXIT_NEUTRAL;
	case SPF_RESULT_NONE: return EXIT_NONE;
	case SPF_RESULT_PERMERROR: return EXIT_PERMERROR;
	case SPF_RESULT_TEMPERROR: return EXIT_TEMPERROR;
	}
	return EXIT_INTERNAL;
}

static void (*error_hook)(const char *msg);

void cmd_error_redirect(void (*fn)(const char *msg))
{
	error_hook = fn;
}

void cmd_error(const char *fmt, ...)
{
	va_list ap;

	if (error_hook != NULL) {
		spf_buf_t b;

		spf_buf_init(&b, 4096);
		va_start(ap, fmt);
		spf_buf_vprintf(&b, fmt, ap);
		va_end(ap);
		error_hook(b.err == SPF_OK ? spf_buf_cstr(&b) : "out of memory");
		spf_buf_finish(&b);
		return;
	}
	fputs("spfcheck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool cmd_memory_budget(const char *arg, size_t *bytes)
{
	char *end, tmp[64];
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || *arg == '-' || v < 1 ||
	    v > 1048576) {
		cmd_error("--memory-budget must be a number of MiB from 1 to 1048576, not '%s'",
			cmd_printable(arg, tmp, sizeof(tmp)));
		return false;
	}
	*bytes = (size_t)v * 1024 * 1024;
	return true;
}

int cmd_option_error(const char *cmd, int opt, const char *arg)
{
	if (opt == ':')
		cmd_error("option '%s' needs a value (see spfcheck %s --help)", arg, cmd);
	else
		cmd_error("unknown option '%s' (see spfcheck %s --help)", arg, cmd);
	return EXIT_USAGE;
}

bool cmd_operands(const char *cmd, int argc, char **argv, int first,
	int min, int max, const char *what)
{
	int n = argc - first;
	char p[128];

	if (n > max) {
		if (max == 0)
			cmd_error("unexpected argument '%s': spfcheck %s takes %s "
				"(see spfcheck %s --help)",
				cmd_printable(argv[first], p, sizeof(p)), cmd, what, cmd);
		else
			cmd_error("unexpected argument '%s': spfcheck %s takes %s "
				"(see spfcheck %s --help)",
				cmd_printable(argv[first + max], p, sizeof(p)), cmd, what, cmd);
		return false;
	}
	if (n < min) {
		cmd_error("%s needs %s (see spfcheck %s --help)", cmd, what, cmd);
		return false;
	}
	return true;
}

int common_opt(struct common_opts *co, int opt, const char *arg)
{
	if (opt >= 1000 && opt < 1032 && (co->not_for & COMMON_BIT(opt)) != 0) {
		static const struct option common[] = { COMMON_LONG_OPTS };
		const char *name = "this option";

		for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
			if (common[i].val == opt)
				name = common[i].name;
		cmd_error("--%s does not apply to spfcheck %s (see spfcheck %s --help)",
			name, co->cmd, co->cmd);
		return -1;
	}
	switch (opt) {
	case 1001:
		if (co->nzones >= MAX_ZONES) {
			cmd_error("too many --zone options (at most %d)", MAX_ZONES);
			return -1;
		}
		co->zones[co->nzones++] = arg;
		return 1;
	case 1002: {
		const char *eq = strchr(arg, '=');

		if (eq == NULL || eq == arg) {
			cmd_error("--record needs DOMAIN=TEXT, got '%s'", arg);
			return -1;
		}
		/* "v=spf1 -all" would be a record for a name "v" */
		if (strncasecmp(arg, "v=spf", 5) == 0 || strncasecmp(arg, "spf2.", 5) == 0) {
			cmd_error("--record needs DOMAIN=TEXT, got a record without its domain "
				"(write --record 'example.com=%s')", arg);
			return -1;
		}
		if (co->nrecords >= MAX_ZONES) {
			cmd_error("too many --record options (at most %d)", MAX_ZONES);
			return -1;
		}
		co->records[co->nrecords++] = arg;
		return 1;
	}
	case 1003:
		co->offline = true;
		return 1;
	case 1004:
		co->json = true;
		cmd_charset_raw();   /* JSON is UTF-8 in every locale */
		return 1;
	case 1005:
		co->default_exp = arg;
		return 1;
	case 1006:
		co->receiver = arg;
		return 1;
	case 1010:
		if (spf_dns_server_check(arg) != SPF_OK) {
			cmd_error("--nameserver '%s': not ADDR, ADDR:PORT or [IPV6]:PORT", arg);
			return -1;
		}
		if (co->nnameservers >= MAX_ZONES) {
			cmd_error("too many --nameserver options (at most %d)", MAX_ZONES);
			return -1;
		}
		co->nameservers[co->nnameservers++] = arg;
		return 1;
	case 1011: {
		char *end;
		unsigned long ms = strtoul(arg, &end, 10);

		if (*arg < '0' || *arg > '9' || *end != '\0' || ms == 0 || ms > 600000) {
			cmd_error("--timeout '%s': not a number of milliseconds (1-600000)", arg);
			return -1;
		}
		co->timeout_ms = (unsigned)ms;
		return 1;
	}
	case 1012:
	case 1014: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);
		bool dl = opt == 1012;

		if (*arg < '0' || *arg > '9' || *end != '\0' || v == 0 ||
		    v > (dl ? 3600000UL : 100UL)) {
			cmd_error(dl ? "--deadline '%s': not a number of milliseconds (1-3600000)" :
				"--void-limit '%s': not a number from 1 to 100", arg);
			return -1;
		}
		if (dl)
			co->deadline_ms = (unsigned)v;
		else
			co->void_limit = (unsigned)v;
		return 1;
	}
	case 1013:
		co->no_prefetch = true;
		return 1;
	case 1015: {
		char *end;
		unsigned long v = strtoul(arg, &end, 10);

		if (*arg < '0' || *arg > '9' || *end != '\0' || v == 0 || v > 100000) {
			cmd_error("--max-queries-in-flight '%s': not a number from 1 to 100000", arg);
			return -1;
		}
		co->max_inflight = (unsigned)v;
		return 1;
	}
	default:
		return 0;
	}
}

const char *cmd_receiver(const char *given)
{
	static char host[256];

	if (given != NULL && *given != '\0')
		return given;
	if (host[0] == '\0' && gethostname(host, sizeof(host)) != 0)
		return NULL;
	host[sizeof(host) - 1] = '\0';
	return host[0] != '\0' ? host : NULL;
}

void cmd_request_opts(const struct common_opts *co, spf_request_t *req)
{
	req->default_explanation = co->default_exp;
	/* %{r} and the header fields' receiver= name the same host */
	req->receiver = cmd_receiver(co->receiver);
	req->deadline_ms = co->deadline_ms;
	req->no_prefetch = co->no_prefetch;
	req->void_limit = co->void_limit;
	req->void_count = co->void_count;
}

bool cmd_resolver(const struct common_opts *co, struct event_base **basep,
	spf_resolver_t **resp)
{
	spf_resolver_opts_t ro = {
		.offline = co->offline,
		.nameservers = co->nameservers,
		.nnameservers = (size_t)co->nnameservers,
		.timeout_ms = co->timeout_ms,
		.max_inflight = co->max_inflight,
	};
	struct event_base *base = event_base_new();
	spf_status_t rst = SPF_ENOMEM;
	char *rmsg = NULL;
	spf_resolver_t *res = base ? spf_resolver_create_ex(base, &ro, &rst, &rmsg) : NULL;

	if (res == NULL) {
		cmd_error("cannot create the resolver: %s",
			rmsg != NULL ? rmsg : spf_strerror(rst));
		spf_free(rmsg);
		goto fail;
	}
	for (int i = 0; i < co->nzones; i++) {
		char *msg = NULL;
		spf_status_t st = spf_zone_load_file(spf_resolver_zone(res),
			co->zones[i], NULL, &msg);

		if (st != SPF_OK) {
			cmd_error("cannot load zone file: %s",
				msg ? msg : spf_strerror(st));
			spf_free(msg);
			goto fail;
		}
	}
	for (int i = 0; i < co->nrecords; i++) {
		const char *eq = strchr(co->records[i], '=');
		char *name = spf_strndup(co->records[i], (size_t)(eq - co->records[i]));
		spf_status_t st = name ? spf_zone_replace_txt(spf_resolver_zone(res),
			name, eq + 1, strlen(eq + 1)) : SPF_ENOMEM;

		spf_free(name);
		if (st != SPF_OK) {
			cmd_error("--record %s: %s", co->records[i], spf_strerror(st));
			goto fail;
		}
	}
	*basep = base;
	*resp = res;
	return true;
fail:
	spf_resolver_destroy(res);
	if (base != NULL)
		event_base_free(base);
	return false;
}

void cmd_resolver_free(struct event_base *base, spf_resolver_t *res)
{
	spf_resolver_destroy(res);
	if (base != NULL)
		event_base_free(base);
}

/* ---- what lint, flatten and diff share ---- */

/* Is the --record value a draft record rather than DOMAIN=TEXT? */
int cmd_draft_opt(const char *cmd, int opt, const char *arg, const char **draft)
{
	if (opt != 1002 || !cmd_is_draft(arg))
		return 0;
	if (*draft != NULL) {
		cmd_error("%s takes one draft --record", cmd);
		return -1;
	}
	*draft = arg;
	return 1;
}

bool cmd_is_draft(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL)
		return true;
	/* "v=spf1 ..." (any case), " v=spf1" and the like: the part before
	 * '=' has no dot or contains a space */
	for (const char *p = arg; p < eq; p++)
		if (*p == '.')
			return memchr(arg, ' ', (size_t)(eq - arg)) != NULL;
	return true;
}

/* Convert a DOMAIN argument to an A-label; NULL after printing why. */
const char *cmd_domain_arg(const char *arg, char **owned)
{
	const char *why = NULL;
	size_t len = strlen(arg);

	if (len == 0 || arg[0] == '.' || arg[0] == '-' || strchr(arg, '@') ||
	    strchr(arg, ' ') || strchr(arg, '/')) {
		cmd_error("'%s' is not a domain name", arg);
		return NULL;
	}
	if (spf_dns_to_ascii(arg, owned, &why) != SPF_OK) {
		cmd_error("'%s' is not a domain name%s%s", arg, why ? ": " : "",
			why ? why : "");
		return NULL;
	}
	return *owned;
}

/* The record text for display: one column per byte (QMARK keeps the
 * positions the caret points at). */
static void put_record(FILE *out, const char *s, size_t from, size_t to)
{
	if (to > from)
		spf_escape_write(out, s + from, to - from, SPF_ESC_QMARK);
}

/* Shown window of a long record around [off, off+len). */
#define WINDOW 100

void cmd_finding_print(FILE *out, const spf_lint_finding_t *f)
{
	const char *sev = spf_lint_severity_str(f->severity);
	int pre;

	if (f->record != NULL) {
		size_t from = 0, to = f->record_len;

		if (f->has_range && to > WINDOW) {
			size_t mid = f->offset + f->len / 2;

			from = mid > WINDOW / 2 ? mid - WINDOW / 2 : 0;
			if (f->offset < from)
				from = f->offset;
			to = from + WINDOW < f->record_len ? from + WINDOW :
			    f->record_len;
			if (f->offset + f->len > to)
				to = f->offset + f->len;
		} else if (!f->has_range && to > WINDOW) {
			to = WINDOW;
		}
		pre = fprintf(out, "%s: %s", f->domain, from > 0 ? "..." : "");
		put_record(out, f->record, from, to);
		fputs(to < f->record_len ? "...\n" : "\n", out);
		if (f->has_range) {
			size_t col = (size_t)pre + f->offset - from;

			fprintf(out, "%*s^", (int)col, "");
			for (size_t i = 1; i < f->len; i++)
				fputc('~', out);
			fputc('\n', out);
		}
		fprintf(out, "%s[%s]: ", sev, f->rule);
	} else {
		fprintf(out, "%s[%s] %s: ", sev, f->rule, f->domain);
	}
	fputs(f->message, out);
	if (strncmp(f->section, "RFC", 3) == 0)
		fprintf(out, " (%s)\n\n", f->section);
	else
		fprintf(out, " (RFC 7208 §%s)\n\n", f->section);
}

json_t *cmd_finding_json(const spf_lint_finding_t *f)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "rule", json_string(f->rule));
	json_object_set_new(o, "severity",
		json_string(spf_lint_severity_str(f->severity)));
	json_object_set_new(o, "domain", json_string(f->domain));
	json_object_set_new(o, "section", json_string(f->section));
	json_object_set_new(o, "message", json_string(f->message));
	if (f->record != NULL)
		json_object_set_new(o, "record",
			json_stringn_nocheck(f->record, f->record_len));
	if (f->has_range) {
		json_object_set_new(o, "offset", json_integer((json_int_t)f->offset));
		json_object_set_new(o, "length", json_integer((json_int_t)f->len));
	}
	return o;
}

json_t *cmd_lint_counts_json(const spf_lint_t *lint)
{
	spf_lint_counts_t c;
	json_t *o = json_object();

	spf_lint_counts(lint, &c);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "records", json_integer(c.records));
	json_object_set_new(o, "lookups", json_integer(c.lookups));
	json_object_set_new(o, "void_lookups", json_integer(c.voids));
	json_object_set_new(o, "void_lookups_per_query", json_integer(c.voids_query));
	json_object_set_new(o, "void_lookups_ipv6", json_integer(c.voids6));
	json_object_set_new(o, "void_lookups_ipv6_per_query",
		json_integer(c.voids6_query));
	json_object_set_new(o, "targets_without_aaaa", json_integer(c.noaaaa));
	return o;
}
