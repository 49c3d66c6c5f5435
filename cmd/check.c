/*
 * check.c - `spfcheck check IP SENDER`: the RFC 7208 result, one line.
 *
 * DESCRIPTION
 *	Evaluates the MAIL FROM identity (or the HELO identity with
 *	--identity helo, or both, HELO first, with --identity both) and
 *	prints the result with the deciding mechanism,
 *	the domain whose record decided, the lookup counts and, for fail,
 *	the explanation; for permerror and temperror the problem.  --json
 *	prints the same as an object.  The exit status is the result
 *	(0 pass ... 6 temperror) of MAIL FROM; with --identity both the
 *	HELO result is printed on its own line ("helo: ...") or under
 *	"identities" in JSON.  --header adds Received-SPF and/or
 *	Authentication-Results fields.
 *
 * DIAGNOSTICS
 *	An invalid IP (a zone index included), a sender or HELO name that
 *	spf_identity_parse() refuses (CR or LF, over-long), a missing or an
 *	unexpected argument (named), an unreadable zone file: one line on
 *	stderr, exit 64.  A malformed domain is not an error: it is the
 *	result none (RFC 7208 §4.3).
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
	"which checks postmaster@HELO).  Any local-part is evaluated (quotes,\n"
	"spaces, UTF-8; the last @ splits); a malformed domain is the result\n"
	"none (RFC 7208 §4.3).  Refused (exit 64): CR or LF, over 2048\n"
	"bytes, an IP that is not an address (an IPv6 zone index included).\n"
	"\n"
	"options:\n"
	CMD_HELP_HELO_IDENTITY
	CMD_HELP_VOID_COUNT
	"  --header received-spf|auth-results|both\n"
	"                          also print Received-SPF (RFC 7208 §9.1) and/or\n"
	"                          Authentication-Results (RFC 8601) header fields\n"
	"  --authserv-id NAME      authserv-id of Authentication-Results\n"
	"                          (default: --receiver, else the host name)\n"
	CMD_DMARC_HELP;
/* in two pieces: C99 compilers need support no longer literal */
static const char check_usage2[] =
	CMD_DMARC_ORG_HELP
	COMMON_HELP
	"  -h, --help              this text\n"
	"\n"
	"exit status: 0 pass, 1 fail, 2 softfail, 3 neutral, 4 none,\n"
	"5 permerror, 6 temperror, 64 bad usage or input, 70 internal error\n";

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "helo", required_argument, NULL, 'H' },
		{ "identity", required_argument, NULL, 'I' },
		{ "header", required_argument, NULL, 'R' },
		{ "authserv-id", required_argument, NULL, 'A' },
		{ "from", required_argument, NULL, 'F' },
		{ "dkim-domain", required_argument, NULL, 'K' },
		CMD_DMARC_ORG_OPTS,
		{ "help", no_argument, NULL, 'h' },
		CMD_VOID_COUNT_OPT,
		COMMON_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct common_opts co = { 0 };
	spf_request_t req = { 0 };
	struct event_base *base = NULL;
	spf_resolver_t *res = NULL;
	struct cmd_eval ev = { 0 };
	struct cmd_dmarc_args da = { 0 };
	struct cmd_other other;
	bool other_differs = false;
	spf_dmarc_t *dmarc = NULL;
	enum cmd_identities ids = CMD_ID_MFROM;
	enum cmd_headers hdrs = CMD_HDR_NONE;
	const char *authserv_id = NULL;
	spf_status_t st;
	char *owned = NULL, *owned_helo = NULL;
	char why[512];
	int opt, rc;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		int c = cmd_dmarc_org_opt(&da, opt, optarg);

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
		case 'H':
			req.helo = optarg;
			break;
		case 'I':
			if (!cmd_parse_identities(optarg, &ids))
				return EXIT_USAGE;
			req.identity = ids == CMD_ID_HELO ? SPF_IDENTITY_HELO :
				SPF_IDENTITY_MFROM;
			break;
		case 'R':
			if (!cmd_parse_headers(optarg, &hdrs))
				return EXIT_USAGE;
			break;
		case 'A':
			authserv_id = optarg;
			break;
		case 'F':
		case 'K':
			if (!cmd_dmarc_arg(&da, opt == 'F', optarg))
				return EXIT_USAGE;
			break;
		case CMD_VOID_COUNT_VAL:
			if (!cmd_void_count_opt(optarg, &co.void_count))
				return EXIT_USAGE;
			break;
		case 'h':
			fputs(check_usage, stdout);
			fputs(check_usage2, stdout);
			return 0;
		default:   /* ':' (a value missing) or an unknown option */
			return cmd_option_error("check", opt, argv[optind - 1]);
		}
	}
	if (!cmd_operands("check", argc, argv, optind,
	    req.identity == SPF_IDENTITY_HELO ? 1 : 2, 2, "IP and SENDER"))
		return EXIT_USAGE;
	if (!cmd_client_ip(argv[optind], &req.ip, why, sizeof(why))) {
		cmd_error("%s", why);
		return EXIT_USAGE;
	}
	if ((ids & CMD_ID_HELO) && (req.helo == NULL || *req.helo == '\0')) {
		cmd_error("--identity %s needs --helo NAME",
			ids == CMD_ID_HELO ? "helo" : "both");
		return EXIT_USAGE;
	}
	if (req.helo != NULL) {
		req.helo = cmd_helo(req.helo, &owned_helo, why, sizeof(why));
		if (req.helo == NULL) {
			cmd_error("%s", why);
			return EXIT_USAGE;
		}
	}
	req.sender = argc - optind == 2 ?
		cmd_sender(argv[optind + 1], &owned, why, sizeof(why)) : "";
	if (req.sender == NULL) {
		cmd_error("%s", why);
		spf_free(owned_helo);
		return EXIT_USAGE;
	}
	if (*req.sender == '\0' && req.identity == SPF_IDENTITY_MFROM &&
	    (req.helo == NULL || *req.helo == '\0')) {
		cmd_error("a null sender (\"\") is checked as postmaster@HELO: give --helo NAME");
		spf_free(owned);
		spf_free(owned_helo);
		return EXIT_USAGE;
	}
	cmd_request_opts(&co, &req);
	if (!cmd_dmarc_args_read(&da) || !cmd_resolver(&co, &base, &res)) {
		cmd_dmarc_args_finish(&da);
		spf_free(owned);
		spf_free(owned_helo);
		return EXIT_USAGE;
	}
	st = cmd_evaluate(res, &req, ids, false, &ev);
	if (st != SPF_OK) {
		cmd_error("cannot evaluate: %s", spf_strerror(st));
		rc = EXIT_INTERNAL;
	} else {
		const struct cmd_ident *primary = cmd_eval_primary(&ev);
		spf_job_summary_t view;

		rc = spf_result_exit(cmd_ident_summary(primary, &view)->result);
		/* the other void counting (pyspf, Mail::SPF; or RFC 7208) */
		other_differs = cmd_other_receivers(res, primary, &other);
		if (da.from != NULL && (dmarc = cmd_dmarc_run(res, &ev, &da)) == NULL)
			rc = EXIT_INTERNAL;
		else if (co.json) {
			json_t *o = cmd_eval_json(&ev);

			if (o != NULL)
				json_object_set_new(o, "other_receivers",
					cmd_other_json(other_differs ? &other : NULL));
			if (o != NULL && dmarc != NULL)
				json_object_set_new(o, "dmarc",
					cmd_dmarc_json(spf_dmarc_view(dmarc)));
			if (o == NULL || !cmd_headers(&ev, hdrs, co.receiver, authserv_id,
			    stdout, o) || cmd_json_print(o, false) != 0) {
				cmd_error("cannot format JSON output");
				rc = EXIT_INTERNAL;
			}
			json_decref(o);
		} else {
			cmd_ident_line(stdout, primary);
			if (ev.helo.used && primary != &ev.helo) {
				fputs("helo: ", stdout);
				cmd_ident_line(stdout, &ev.helo);
			}
			if (other_differs)
				cmd_other_line(stdout, &other);
			if (dmarc != NULL)
				cmd_dmarc_print(stdout, spf_dmarc_view(dmarc), "dmarc: ");
			if (!cmd_headers(&ev, hdrs, co.receiver, authserv_id, stdout, NULL))
				rc = EXIT_INTERNAL;
		}
	}
	spf_dmarc_destroy(dmarc);
	cmd_eval_finish(&ev);
	cmd_resolver_free(base, res);
	cmd_dmarc_args_finish(&da);
	spf_free(owned);
	spf_free(owned_helo);
	return rc;
}
