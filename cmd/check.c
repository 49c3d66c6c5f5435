/*
 * check.c - `spfcheck check IP SENDER`: the RFC 7208 result, one line.
 *
 * DESCRIPTION
 *	Evaluates the MAIL FROM identity (or the HELO identity with
 *	--identity helo) and prints the result with the deciding mechanism,
 *	the domain whose record decided, the lookup counts and, for fail,
 *	the explanation; for permerror and temperror the problem.  --json
 *	prints the same as an object.  The exit status is the result
 *	(0 pass ... 6 temperror).
 *
 * DIAGNOSTICS
 *	An invalid IP, a malformed sender, a missing argument, an unreadable
 *	zone file: one line on stderr, exit 64.
 */
#include "cmd.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char check_usage[] =
	"usage: spfcheck check [options] IP SENDER\n"
	"\n"
	"Evaluate SPF (RFC 7208) for a message from IP with envelope sender\n"
	"SENDER (user@domain, @domain, a bare domain, or \"\" for the null sender,\n"
	"which checks postmaster@HELO).\n"
	"\n"
	"options:\n"
	"  --helo NAME             the HELO/EHLO name of the client\n"
	"  --identity mfrom|helo   which identity to check (default mfrom)\n"
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 pass, 1 fail, 2 softfail, 3 neutral, 4 none,\n"
	"5 permerror, 6 temperror, 64 bad usage or input, 70 internal error\n";

/* Accept "<addr>" as addr; refuse what cannot be an envelope sender. */
static const char *sender_arg(const char *s, char **owned)
{
	size_t len = strlen(s);
	const char *at;

	*owned = NULL;
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>') {
		*owned = spf_strndup(s + 1, len - 2);
		if (*owned == NULL)
			return NULL;
		s = *owned;
	}
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			cmd_error("sender '%s' contains a space or control character", s);
			return NULL;
		}
	}
	at = strrchr(s, '@');
	if (at != NULL && at[1] == '\0') {
		cmd_error("sender '%s' has no domain after '@'", s);
		return NULL;
	}
	return s;
}

static void print_text(const spf_job_t *job, const spf_request_t *req)
{
	spf_result_t r = spf_job_result(job);

	printf("%s", spf_result_str(r));
	if (spf_job_domain(job) != NULL)
		printf("  domain=%s", spf_job_domain(job));
	else
		printf("  domain=%s", spf_job_start_domain(job));
	if (spf_job_mechanism(job) != NULL)
		printf("  mechanism=\"%s\"", spf_job_mechanism(job));
	printf("  lookups=%u/10  void=%u/%u", spf_job_lookups(job),
		spf_job_void_lookups(job), req->void_limit ? req->void_limit : 2);
	if (spf_job_explanation(job) != NULL)
		printf("  explanation=\"%s\"", spf_job_explanation(job));
	if (spf_job_problem(job) != NULL)
		printf("  problem=\"%s\"", spf_job_problem(job));
	printf("\n");
}

static json_t *jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static int print_json(const spf_job_t *job, const spf_request_t *req)
{
	char ip[64];
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "schema", json_integer(1));
	json_object_set_new(o, "result", json_string(spf_result_str(spf_job_result(job))));
	json_object_set_new(o, "identity", json_string(
		req->identity == SPF_IDENTITY_HELO ? "helo" : "mfrom"));
	json_object_set_new(o, "ip", json_string(spf_addr_str(&req->ip, ip, sizeof(ip))));
	json_object_set_new(o, "sender", jstr_or_null(spf_job_sender(job)));
	json_object_set_new(o, "helo", jstr_or_null(req->helo));
	json_object_set_new(o, "domain", jstr_or_null(spf_job_domain(job) ?
		spf_job_domain(job) : spf_job_start_domain(job)));
	json_object_set_new(o, "mechanism", jstr_or_null(spf_job_mechanism(job)));
	json_object_set_new(o, "explanation", jstr_or_null(spf_job_explanation(job)));
	json_object_set_new(o, "problem", jstr_or_null(spf_job_problem(job)));
	json_object_set_new(o, "lookups", json_integer(spf_job_lookups(job)));
	json_object_set_new(o, "void_lookups", json_integer(spf_job_void_lookups(job)));
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL)
		return -1;
	printf("%s\n", text);
	free(text);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "helo", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	spf_request_t req = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	spf_job_t *job;
	spf_status_t st;
	char *owned = NULL;
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = common_opt(&co, opt, optarg);

		if (c < 0)
			return EXIT_USAGE;
		if (c > 0)
			continue;
		switch (opt) {
		case 'H':
			req.helo = optarg;
			break;
		case 'I':
			if (strcmp(optarg, "mfrom") == 0)
				req.identity = SPF_IDENTITY_MFROM;
			else if (strcmp(optarg, "helo") == 0)
				req.identity = SPF_IDENTITY_HELO;
			else {
				cmd_error("--identity must be mfrom or helo, not '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			fputs(check_usage, stdout);
			return 0;
		case ':':
			cmd_error("option '%s' needs a value (see spfcheck check --help)",
				argv[optind - 1]);
			return EXIT_USAGE;
		default:
			cmd_error("unknown option '%s' (see spfcheck check --help)",
				argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2 && !(argc - optind == 1 && req.identity == SPF_IDENTITY_HELO)) {
		cmd_error("check needs IP and SENDER (see spfcheck check --help)");
		return EXIT_USAGE;
	}
	if (!spf_addr_parse(argv[optind], &req.ip)) {
		cmd_error("'%s' is not an IPv4 or IPv6 address", argv[optind]);
		return EXIT_USAGE;
	}
	if (req.identity == SPF_IDENTITY_HELO && (req.helo == NULL || *req.helo == '\0')) {
		cmd_error("--identity helo needs --helo NAME");
		return EXIT_USAGE;
	}
	req.sender = argc - optind == 2 ? sender_arg(argv[optind + 1], &owned) : "";
	if (req.sender == NULL)
		return EXIT_USAGE;
	if (*req.sender == '\0' && req.identity == SPF_IDENTITY_MFROM &&
	    (req.helo == NULL || *req.helo == '\0')) {
		cmd_error("a null sender (\"\") is checked as postmaster@HELO: give --helo NAME");
		spf_free(owned);
		return EXIT_USAGE;
	}
	req.default_explanation = co.default_exp;
	req.receiver = co.receiver;
	if (!cmd_resolver(&co, &base, &res)) {
		spf_free(owned);
		return EXIT_USAGE;
	}
	job = spf_check_sync(res, &req, &st);
	if (job == NULL) {
		cmd_error("cannot evaluate: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
	} else {
		if (co.json) {
			if (print_json(job, &req) != 0) {
				cmd_error("cannot format JSON output");
				rc = EXIT_INTERNAL;
				goto done;
			}
		} else {
			print_text(job, &req);
		}
		rc = spf_result_exit(spf_job_result(job));
	}
done:
	spf_job_destroy(job);
	cmd_resolver_free(base, res);
	spf_free(owned);
	return rc;
}
