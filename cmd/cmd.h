/*
 * cmd.h - what the spfcheck subcommands share: exit codes, the common
 * options (--zone, --record, --offline, ...), resolver set-up, errors.
 */
#ifndef SPF_CMD_H
#define SPF_CMD_H

#include <stdbool.h>
#include <stdio.h>

#include "spf.h"

/* Exit status (DESIGN.md): the SPF result of check, or an error. */
enum {
	EXIT_PASS = 0,
	EXIT_FAIL = 1,
	EXIT_SOFTFAIL = 2,
	EXIT_NEUTRAL = 3,
	EXIT_NONE = 4,
	EXIT_PERMERROR = 5,
	EXIT_TEMPERROR = 6,
	EXIT_USAGE = 64,      /* bad usage or input (EX_USAGE) */
	EXIT_INTERNAL = 70,   /* internal error (EX_SOFTWARE) */
};

int spf_result_exit(spf_result_t r);

#define MAX_ZONES 64

/* Options shared by the subcommands that evaluate. */
struct common_opts {
	const char *zones[MAX_ZONES];
	int nzones;
	const char *records[MAX_ZONES];   /* DOMAIN=TEXT */
	int nrecords;
	bool offline;
	bool json;
	const char *default_exp;
	const char *receiver;
};

/* Print "spfcheck: <message>" on stderr. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * If opt (a getopt_long value) is a common option, store it and return
 * 1; return 0 if it is not one; on a bad value print why and return -1.
 */
int common_opt(struct common_opts *co, int opt, const char *arg);

/* getopt_long entries of the common options (values >= 1000). */
#define COMMON_LONG_OPTS \
	{ "zone", required_argument, NULL, 1001 }, \
	{ "record", required_argument, NULL, 1002 }, \
	{ "offline", no_argument, NULL, 1003 }, \
	{ "json", no_argument, NULL, 1004 }, \
	{ "default-explanation", required_argument, NULL, 1005 }, \
	{ "receiver", required_argument, NULL, 1006 }

#define COMMON_HELP \
	"  --zone FILE             answer from this RFC 1035 zone file first (repeatable)\n" \
	"  --record DOMAIN=TEXT    use TEXT as the only TXT record of DOMAIN (repeatable)\n" \
	"  --offline               never use the network; names outside the zones\n" \
	"                          do not exist (NXDOMAIN)\n" \
	"  --json                  print a JSON object\n" \
	"  --default-explanation TEXT  explanation for fail when the domain gives none\n" \
	"  --receiver NAME         this host's name (%{r} in explanations)\n"

/*
 * Create the event base and a resolver with the zones and records of co
 * loaded.  Prints the error and returns false on failure.
 */
bool cmd_resolver(const struct common_opts *co, struct event_base **base,
	spf_resolver_t **res);
void cmd_resolver_free(struct event_base *base, spf_resolver_t *res);

/* Subcommands: argc/argv start at the subcommand name. */
int cmd_check(int argc, char **argv);

#endif
