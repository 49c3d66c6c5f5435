/*
 * main.c - the spfcheck command: dispatch to a subcommand.
 */
#include "cmd.h"

#include <string.h>

#ifndef SPFCHECK_VERSION
#define SPFCHECK_VERSION "unknown"
#endif

static const char usage[] =
	"usage: spfcheck COMMAND [options] [arguments]\n"
	"\n"
	"commands:\n"
	"  check IP SENDER     evaluate SPF (RFC 7208) for a sender; exit status = result\n"
	"  explain IP SENDER   show why: the evaluation tree, every term and lookup\n"
	"  batch               evaluate \"IP SENDER [HELO [FROM]]\" lines from stdin, many at once\n"
	"  policyd             Postfix policy service (pypolicyd-spf drop-in)\n"
	"  senderid DOMAIN     SenderID (RFC 4406) conflicts; --message FILE: PRA, SPF vs Sender ID\n"
	"  lint DOMAIN         find problems in a record before publishing, with positions\n"
	"  dmarc DOMAIN        lint the DMARC (RFC 9989) record that applies to a domain\n"
	"  audit [FILE]        SPF and DMARC health of many domains at once (table, CSV, JSON)\n"
	"  tree DOMAIN         the lookup cost of each include, a, mx, ... without an IP\n"
	"  flatten DOMAIN      resolve includes, a and mx into a chain of ip4/ip6 records\n"
	"  diff DOMAIN --record TEXT  what publishing a record changes\n"
	"  report FILE...      DMARC aggregate reports: who fails SPF today, and why\n"
	"\n"
	"spfcheck COMMAND --help shows the options of a command; man spfcheck has all.\n"
	"  --help              this text\n"
	"  --version           print the version, and those of c-ares, ldns and libidn2\n";

int main(int argc, char **argv)
{
	/* the policy service speaks Postfix's protocol on its streams: its
	 * bytes are never rewritten */
	if (argc < 2 || strcmp(argv[1], "policyd") != 0)
		cmd_charset_init();
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		const char *cares, *ldns, *idn2;

		spf_dns_lib_versions(&cares, &ldns, &idn2);
		/* the libraries as loaded now, for bug reports */
		printf("spfcheck %s\nc-ares %s, ldns %s, libidn2 %s\n",
		       SPFCHECK_VERSION, cares, ldns, idn2);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "batch") == 0)
		return cmd_batch(argc - 1, argv + 1);
	if (strcmp(argv[1], "policyd") == 0)
		return cmd_policyd(argc - 1, argv + 1);
	if (strcmp(argv[1], "senderid") == 0)
		return cmd_senderid(argc - 1, argv + 1);
	if (strcmp(argv[1], "lint") == 0)
		return cmd_lint(argc - 1, argv + 1);
	if (strcmp(argv[1], "dmarc") == 0)
		return cmd_dmarc(argc - 1, argv + 1);
	if (strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (strcmp(argv[1], "tree") == 0)
		return cmd_tree(argc - 1, argv + 1);
	if (strcmp(argv[1], "flatten") == 0)
		return cmd_flatten(argc - 1, argv + 1);
	if (strcmp(argv[1], "diff") == 0)
		return cmd_diff(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_run_module("report", "spfcheck-report.so", "cmd_report",
			argc - 1, argv + 1);
	cmd_error("unknown command '%s' (try spfcheck --help)", argv[1]);
	return EXIT_USAGE;
}
