/*
 * common.c - options, resolver set-up and error output shared by the
 * spfcheck subcommands.
 *
 * DIAGNOSTICS
 *	Every error is one line on stderr, "spfcheck: ...", naming the file,
 *	option or value that was wrong; callers exit with EXIT_USAGE.
 */
#include "cmd.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

void cmd_error(const char *fmt, ...)
{
	va_list ap;

	fputs("spfcheck: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int common_opt(struct common_opts *co, int opt, const char *arg)
{
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
		return 1;
	case 1005:
		co->default_exp = arg;
		return 1;
	case 1006:
		co->receiver = arg;
		return 1;
	default:
		return 0;
	}
}

bool cmd_resolver(const struct common_opts *co, struct event_base **basep,
	spf_resolver_t **resp)
{
	spf_resolver_opts_t ro = { .offline = co->offline };
	struct event_base *base = event_base_new();
	spf_resolver_t *res = base ? spf_resolver_create(base, &ro) : NULL;

	if (res == NULL) {
		cmd_error("cannot create the resolver: out of memory");
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
