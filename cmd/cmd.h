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
	EXIT_CANTCREAT = 73,  /* -o FILE cannot be written (EX_CANTCREAT) */
};

int spf_result_exit(spf_result_t r);

/* charset.c: once, at start-up, whether the locale's character set is
 * UTF-8; if it is not, stdout and stderr become streams that write the
 * ASCII of each non-ASCII character (the tree of explain, "§" as
 * "section ", arrows; any other byte as \xNN).  Every command's text
 * goes through them. */
void cmd_charset_init(void);
/* Is the text output UTF-8 (the locale's, decided by cmd_charset_init())? */
bool cmd_utf8(void);
/* stdout's bytes pass unchanged from now on: JSON is UTF-8 always. */
void cmd_charset_raw(void);

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
	const char *nameservers[MAX_ZONES];   /* --nameserver ADDR[:PORT] */
	int nnameservers;
	unsigned timeout_ms;                  /* --timeout MS; 0: default */
	unsigned max_inflight;                /* --max-queries-in-flight N;
	                                       * 0: SPF_DNS_MAX_INFLIGHT */
	unsigned deadline_ms;                 /* --deadline MS; 0: 20000 */
	bool no_prefetch;                     /* --no-prefetch */
	unsigned void_limit;                  /* --void-limit N; 0: 2 */
	/* --void-count rfc|per-query of check, explain and batch (parsed
	 * by them with cmd_void_count_opt(), not by common_opt()) */
	spf_void_count_t void_count;
	/* set by the command before parsing: the common options it cannot
	 * honour (COMMON_BIT(1005) | ...), refused with a clear error
	 * rather than accepted and ignored; cmd names the command */
	unsigned not_for;
	const char *cmd;
};

#define COMMON_BIT(opt) (1u << ((opt) - 1000))
/* evaluation options: the commands that never run check_host() */
#define COMMON_EVAL_ONLY (COMMON_BIT(1005) | COMMON_BIT(1006) | \
	COMMON_BIT(1012) | COMMON_BIT(1013))

/* Print "spfcheck: <message>" on stderr, or hand the message (without
 * the prefix, borrowed for the call) to the function cmd_error_redirect()
 * set. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Send cmd_error()'s messages to fn instead of stderr; NULL: stderr
 * again.  For policyd, whose stderr may be the Postfix socket (spawn). */
void cmd_error_redirect(void (*fn)(const char *msg));

/* What getopt_long's ':' (a missing value) or '?' (an unknown option)
 * means, said for command cmd; arg is the option as typed.  Returns
 * EXIT_USAGE. */
int cmd_option_error(const char *cmd, int opt, const char *arg);

/* --memory-budget MIB of batch and policyd: the memory budget of the
 * evaluations in flight (spf_budget_t) in MiB, 1 to 1048576.  Stores
 * the bytes; false with the error printed. */
#define CMD_MEMORY_BUDGET_HELP \
	"  --memory-budget MIB     memory of the evaluations in flight, in MiB\n" \
	"                          (default 256); past it, new ones wait\n"
bool cmd_memory_budget(const char *arg, size_t *bytes);

/*
 * The operands argv[first..argc) of command cmd: at least min, at most
 * max.  what names them ("IP and SENDER", "one DOMAIN", "no arguments:
 * ..."); too many names the first unexpected one.  Prints the error and
 * returns false.
 */
bool cmd_operands(const char *cmd, int argc, char **argv, int first,
	int min, int max, const char *what);

/*
 * If opt (a getopt_long value) is a common option, store it and return
 * 1; return 0 if it is not one; on a bad value print why and return -1.
 */
int common_opt(struct common_opts *co, int opt, const char *arg);

/* This host's name for %{r} and the header fields: given (--receiver)
 * when it is set, else the host name (static), else NULL. */
const char *cmd_receiver(const char *given);

/* Set the request fields that come from common options. */
void cmd_request_opts(const struct common_opts *co, spf_request_t *req);

/* getopt_long entries of the common options (values >= 1000). */
#define COMMON_LONG_OPTS \
	{ "zone", required_argument, NULL, 1001 }, \
	{ "record", required_argument, NULL, 1002 }, \
	{ "offline", no_argument, NULL, 1003 }, \
	{ "json", no_argument, NULL, 1004 }, \
	{ "default-explanation", required_argument, NULL, 1005 }, \
	{ "receiver", required_argument, NULL, 1006 }, \
	{ "nameserver", required_argument, NULL, 1010 }, \
	{ "timeout", required_argument, NULL, 1011 }, \
	{ "deadline", required_argument, NULL, 1012 }, \
	{ "no-prefetch", no_argument, NULL, 1013 }, \
	{ "void-limit", required_argument, NULL, 1014 }, \
	{ "max-queries-in-flight", required_argument, NULL, 1015 }

/* --help lines of the common options, in pieces for the commands that
 * take only some of them */
#define COMMON_HELP COMMON_HELP_ZONE COMMON_HELP_RECORD COMMON_HELP_DNS \
	COMMON_HELP_JSON COMMON_HELP_EVAL COMMON_HELP_VOID
#define COMMON_HELP_ZONE \
	"  --zone FILE             answer from this RFC 1035 zone file first (repeatable;\n" \
	"                          for each name and type the later file wins)\n"
#define COMMON_HELP_RECORD \
	"  --record DOMAIN=TEXT    use TEXT as the only TXT record of DOMAIN (repeatable)\n"
#define COMMON_HELP_DNS \
	"  --offline               never use the network; names outside the zones\n" \
	"                          do not exist (NXDOMAIN)\n" \
	"  --nameserver ADDR[:PORT]  ask this DNS server (IPv4, or [IPv6]:PORT;\n" \
	"                          repeatable) instead of /etc/resolv.conf's\n" \
	"  --timeout MS            per-query DNS timeout in milliseconds (default 2000,\n" \
	"                          3 tries, doubled each round)\n" \
	"  --max-queries-in-flight N  DNS queries sent and not yet answered at once\n" \
	"                          (1-100000, default 128); more wait, those an\n" \
	"                          evaluation is blocked on first\n"
#define COMMON_HELP_JSON \
	"  --json                  print a JSON object\n"
#define COMMON_HELP_EXP \
	"  --default-explanation TEXT  explanation for fail when the domain gives none\n" \
	"  --receiver NAME         this host's name (%{r} in explanations and the\n" \
	"                          header fields; default: the host name)\n"
#define COMMON_HELP_EVAL COMMON_HELP_EXP \
	"  --deadline MS           give up with temperror after MS milliseconds per\n" \
	"                          identity (default 20000, RFC 7208 §4.6.4)\n" \
	"  --no-prefetch           do not start lookups before the terms that need\n" \
	"                          them are evaluated (results are the same)\n"
#define COMMON_HELP_VOID \
	"  --void-limit N          void lookups allowed (default 2, RFC 7208 §4.6.4)\n"

/*
 * Create the event base and a resolver with the zones and records of co
 * loaded.  Prints the error and returns false on failure.
 */
bool cmd_resolver(const struct common_opts *co, struct event_base **base,
	spf_resolver_t **res);
void cmd_resolver_free(struct event_base *base, spf_resolver_t *res);

/* What lint, flatten and diff share (common.c). */
/* Is a --record value a draft record ("v=spf1 ...") rather than
 * DOMAIN=TEXT? */
bool cmd_is_draft(const char *arg);
/* --record of lint, diff and dmarc: a draft (cmd_is_draft()) is kept in
 * *draft, once.  1: taken; 0: not a draft (a common option, then); -1:
 * a second draft, the error printed ("CMD takes one draft --record"). */
int cmd_draft_opt(const char *cmd, int opt, const char *arg, const char **draft);
/* A DOMAIN argument as an A-label: the text returned is *owned, which
 * the caller spf_free()s; NULL (nothing owned) after printing why it is
 * not a domain name. */
const char *cmd_domain_arg(const char *arg, char **owned);

/* Subcommands: argc/argv start at the subcommand name. */
int cmd_check(int argc, char **argv);

/* ==== explain, batch and the output they share with check (issue 9) ==== */

#include <jansson.h>

int cmd_explain(int argc, char **argv);
int cmd_batch(int argc, char **argv);

/* --void-count rfc|per-query of check, explain and batch (issue 17): the
 * getopt_long entry, its help, and the parser (false with the error
 * printed when arg is neither). */
#define CMD_VOID_COUNT_OPT { "void-count", required_argument, NULL, 1100 }
#define CMD_VOID_COUNT_VAL 1100
#define CMD_HELP_VOID_COUNT \
	"  --void-count rfc|per-query  how void lookups are counted: rfc (default,\n" \
	"                          RFC 7208 §4.6.4: a term whose query gets no answer)\n" \
	"                          or per-query (as pyspf, pypolicyd-spf and Mail::SPF:\n" \
	"                          each MX host without an address counts too)\n"
bool cmd_void_count_opt(const char *arg, spf_void_count_t *out);

/* --helo and --identity of check and explain: the same words, the same
 * meaning (issue 17: --helo alone names the client, it never adds a check) */
#define CMD_HELP_HELO_IDENTITY \
	"  --helo NAME             the HELO/EHLO name of the client: %{h} in macros,\n" \
	"                          the domain of a null sender; checked as an\n" \
	"                          identity of its own only with --identity helo|both\n" \
	"  --identity mfrom|helo|both  which identities to evaluate (default mfrom,\n" \
	"                          with or without --helo); both: HELO first, then\n" \
	"                          MAIL FROM, whose result stays the result and the\n" \
	"                          exit status\n"

/* --identity: which identities to evaluate (RFC 7208 §2.3 HELO, §2.4 MAIL FROM). */
enum cmd_identities {
	CMD_ID_DEFAULT = 0,   /* not given: the command's default */
	CMD_ID_MFROM = 1,
	CMD_ID_HELO = 2,
	CMD_ID_BOTH = 3,
};
/* --header: which result header fields to print. */
enum cmd_headers {
	CMD_HDR_NONE = 0,
	CMD_HDR_RECEIVED = 1,   /* Received-SPF (RFC 7208 §9.1) */
	CMD_HDR_AUTHRES = 2,    /* Authentication-Results (RFC 8601) */
	CMD_HDR_BOTH = 3,
};

/* Parse the value of --identity / --header; print the error and return
 * false when it is not valid. */
bool cmd_parse_identities(const char *arg, enum cmd_identities *out);
bool cmd_parse_headers(const char *arg, enum cmd_headers *out);

/*
 * A SENDER argument ("user@domain", "@domain", "domain", "<...>", "" or
 * "<>" for the null sender) and a HELO name, read by spf_identity_parse()
 * (the one reader, which spf_check_start() uses too): "<...>" removed, a
 * non-ASCII domain as its A-label.  Any local-part and any HELO name is
 * evaluated (RFC 7208 §4.3: a malformed domain is the result none); only
 * what cannot be evaluated at all (CR, LF, over SPF_IDENTITY_MAX bytes)
 * gives NULL with a one-line reason naming the rule in why[0..whylen).
 * The text returned is *owned (spf_free).
 */
const char *cmd_sender(const char *s, char **owned, char *why, size_t whylen);
const char *cmd_helo(const char *s, char **owned, char *why, size_t whylen);
/* Both at once, as a request hands them on (spf_request_t.identities:
 * read once): the sender and HELO name (NULL: none) read into *parts
 * (parts->sender and parts->helo as cmd_sender() and cmd_helo() give
 * them; parts->helo NULL for none), in a new *arena the caller
 * destroys.  False, *arena NULL, with the reason of the first refused
 * (the sender's first) in why[0..whylen). */
bool cmd_identities(const char *sender, const char *helo,
	spf_identity_parts_t *parts, spf_arena_t **arena, char *why, size_t whylen);
/* The client address s (spf_client_addr_problem: an IPv6 zone index is
 * refused with its own reason); false with why set. */
bool cmd_client_ip(const char *s, spf_addr_t *ip, char *why, size_t whylen);
/* s with control, non-ASCII and backslash bytes as \xNN (for messages). */
const char *cmd_printable(const char *s, char *buf, size_t len);

/* One identity evaluated. */
struct cmd_ident {
	bool used;
	spf_request_t req;    /* the request it ran with (strings borrowed) */
	spf_job_t *job;       /* the finished job (owned), NULL once summarised */
	spf_job_summary_t *sum;  /* its summary (owned) once the job is let go */
	double elapsed_ms;
};

/* Is there a result for id (a finished job or its summary)? */
bool cmd_ident_done(const struct cmd_ident *id);
/* id's summary: the owned one, or a view of its job in *view (borrowed
 * from the job); NULL when there is neither. */
const spf_job_summary_t *cmd_ident_summary(const struct cmd_ident *id,
	spf_job_summary_t *view);
/* Keep only the summary of id's finished job and destroy the job (issue
 * 22: the HELO job is gone before the MAIL FROM job starts).  When
 * memory runs out for the summary the job is kept: the output is the
 * same, only the memory is not given back. */
void cmd_ident_let_go(struct cmd_ident *id);

/* The identities of one message, HELO first (RFC 7208 §2.3, §2.4). */
struct cmd_eval {
	struct cmd_ident helo;
	struct cmd_ident mfrom;
	double elapsed_ms;
};

/* The identity whose result is the top-level result and exit status:
 * MAIL FROM when it was evaluated, else HELO. */
const struct cmd_ident *cmd_eval_primary(const struct cmd_eval *ev);

/*
 * Evaluate the identities of base (ip, sender, helo, receiver, default
 * explanation) on res, synchronously, HELO first.  keep_jobs: keep both
 * finished jobs (explain prints their traces); otherwise the HELO job is
 * summarised and destroyed before MAIL FROM starts (cmd_ident_let_go).
 * Returns SPF_OK or the status of a job that could not start (ev is then
 * partly filled; call cmd_eval_finish anyway).
 */
spf_status_t cmd_evaluate(spf_resolver_t *res, const spf_request_t *base,
	enum cmd_identities ids, bool keep_jobs, struct cmd_eval *ev);
void cmd_eval_finish(struct cmd_eval *ev);

/*
 * explain's HTML view of one evaluated identity (issue 20), the one
 * renderer explain's page and report's page share: the verdict in
 * words, the result and the lookup and void counters, the explanation
 * and the evaluation tree (every term with its outcome, every DNS answer
 * with its TTL, include and redirect frames in <details>, the deciding
 * term marked), from the job's trace, the structure explain --json
 * prints.  Every text from DNS goes through html_text().  id->job must be
 * the finished job (not let go; NULL writes nothing); heading is the
 * level (1-6) of the sub-headings.  Writes to o.
 */
void cmd_explain_html_body(FILE *o, const struct cmd_ident *id, int heading);

/* Monotonic clock in milliseconds. */
double cmd_now_ms(void);

/* JSON (schema 1, README "JSON output"): one identity's object, and the
 * top-level object of check/explain (identities included). */
json_t *cmd_ident_json(const struct cmd_ident *id);
json_t *cmd_eval_json(const struct cmd_eval *ev);
/* Print o (indented, or compact on one line) and a newline; -1 on error. */
int cmd_json_print(json_t *o, bool compact);
/* s as a JSON string (null for NULL); jansson refuses invalid UTF-8, so
 * such text is given as cmd_printable() shows it. */
json_t *cmd_json_text(const char *s);
/* The same for len bytes that may hold NUL (JSON "\u0000"). */
json_t *cmd_json_textn(const char *s, size_t len);

/* --format of explain, tree, lint and report: text, dot (explain,
 * tree) or html (issue 20). */
enum cmd_format {
	CMD_FMT_TEXT = 1,
	CMD_FMT_DOT = 2,
	CMD_FMT_HTML = 4,
};
/* Parse arg into *out; allowed is the formats the command has (bits of
 * enum cmd_format).  False after printing the error. */
bool cmd_parse_format(const char *arg, unsigned allowed, enum cmd_format *out);
#define CMD_FORMAT_HELP(what) \
	"  --format text|dot|html  text (default), " what " as a Graphviz dot\n" \
	"                          graph (render with: dot -Tsvg), or as a\n" \
	"                          self-contained HTML page\n" \
	CMD_OUTPUT_HELP
#define CMD_FORMAT_DOT_HELP(what) \
	"  --format text|dot       text (default), or " what " as a Graphviz dot\n" \
	"                          graph (render with: dot -Tsvg)\n"
#define CMD_FORMAT_HTML_HELP(what) \
	"  --format text|html      text (default), or " what " as a\n" \
	"                          self-contained HTML page\n" \
	CMD_OUTPUT_HELP
#define CMD_OUTPUT_HELP \
	"  -o, --output FILE       with --format html: write the page to FILE\n" \
	"                          instead of standard output\n"
/* Where --format html's page goes: path (-o FILE), else stdout (its
 * bytes then pass unchanged: the page is UTF-8).  NULL after printing
 * why the file cannot be opened. */
FILE *cmd_html_open(const char *path);
/* Flush and close (the file; stdout is flushed only).  False after
 * printing the write error. */
bool cmd_html_close(FILE *f, const char *path);
/* -o without --format html: the error, EXIT_USAGE. */
int cmd_output_needs_html(void);

/* s inside a double-quoted Graphviz ID: the bytes as spf_escape_byte()'s
 * SPF_ESC_HEX shows them (one line of ASCII), then '"' and '\\' escaped
 * for dot, so no DNS-derived text can end the string or start one of
 * dot's escapes. */
void cmd_dot_string(FILE *out, const char *s);

/* check's text line for one identity ("pass  domain=...  mechanism=..."). */
void cmd_ident_line(FILE *out, const struct cmd_ident *id);

/*
 * How other receivers judge it (issue 17): if id's evaluation met MX
 * hosts without an answer (spf_job_host_voids()), evaluate id again on
 * res with the other void counting.  When that changes the result, fill
 * *o and return true: who ("pyspf and Mail::SPF" for per-query counting,
 * "RFC 7208" for rfc counting), the counting and that evaluation's
 * result and problem (copied into o's storage).  false: the same result
 * (or nothing to compare; out of memory counts as the same).
 */
struct cmd_other {
	const char *who;
	const char *counting;        /* "per-query" or "rfc" */
	spf_result_t result;
	char problem[1024];
};
bool cmd_other_receivers(spf_resolver_t *res, const struct cmd_ident *id,
	struct cmd_other *o);
/* The line check and explain print for it ("pyspf and Mail::SPF:
 * permerror: ..."), and its JSON object (null when o is NULL). */
void cmd_other_line(FILE *out, const struct cmd_other *o);
json_t *cmd_other_json(const struct cmd_other *o);

/*
 * Build the header fields of ev asked for by hdrs (Received-SPF per
 * identity, MAIL FROM first; one Authentication-Results with both) and
 * print them on out, or, when json is not NULL, store them under
 * "headers" in json.  receiver: --receiver or NULL (then the host name).
 * Returns false (after printing the error) on failure.
 */
bool cmd_headers(const struct cmd_eval *ev, enum cmd_headers hdrs,
	const char *receiver, const char *authserv_id, FILE *out, json_t *json);

/* ==== end of issue 9 block ==== */

/* ==== lint, flatten, diff (issue 4) ==== */

int cmd_lint(int argc, char **argv);
int cmd_flatten(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* The counts of a lint run as a JSON object (common.c; a new reference
 * the caller json_decref()s, or NULL when out of memory). */
json_t *cmd_lint_counts_json(const spf_lint_t *lint);

/* One lint finding (SPF's or DMARC's), compiler-style: the record with
 * ^~~~ under the bytes it concerns, then "severity[RULE]: message
 * (section)"; a long record is shown as a window around them.  And the
 * same as a JSON object (a new reference; NULL when out of memory). */
void cmd_finding_print(FILE *out, const spf_lint_finding_t *f);
json_t *cmd_finding_json(const spf_lint_finding_t *f);

/* ==== end of issue 4 block ==== */

/* ==== policyd (issue 8) ==== */
int cmd_policyd(int argc, char **argv);
/* ==== end of issue 8 block ==== */

/* ==== batch line parsing (issue 6: tests/fuzz/fuzz_batchline.c) ==== */
/* One "IP SENDER [HELO [FROM]]" line of spfcheck batch, split and
 * checked (cmd/batchline.c). */
struct cmd_batch_line {
	spf_addr_t ip;
	const char *ip_text;          /* the fields point into the text */
	const char *sender_text;      /* as written; "" for the null sender */
	const char *sender;           /* checked: in the text or *owned_sender */
	const char *helo;             /* checked, or NULL when the line has none */
	const char *from_text;        /* FROM as written, or NULL */
	const char *from;             /* its domain, an A-label, or NULL */
	char *owned_sender, *owned_helo, *owned_from;   /* the caller
	                                                 * spf_free()s them */
	/* sender and helo as cmd_identities() read them at once (sender
	 * and helo point into id_arena, which the caller destroys after
	 * the line's jobs), for spf_request_t.identities; NULL id_arena
	 * when each was read on its own (a line the reader refused) */
	spf_identity_parts_t parts;
	spf_arena_t *id_arena;
};
/*
 * Split text (modified: the fields point into it) into IP SENDER [HELO
 * [FROM]] and check each (SENDER and HELO read at once by
 * cmd_identities(), FROM by cmd_dmarc_from; HELO "-" before a FROM is
 * no HELO).  Returns true with *out filled, or false with a one-line
 * reason in why[0..whylen) and nothing owned.
 */
bool cmd_batch_parse_line(char *text, struct cmd_batch_line *out, char *why,
	size_t whylen);
/* Copy line (len bytes, then a NUL) into *buf of *cap bytes, which
 * grows (spf_realloc, at least 128 bytes) only when len + 1 does not
 * fit: a batch slot keeps its buffer from line to line.  False when
 * memory runs out (*buf and *cap then unchanged; the caller still
 * spf_free()s *buf). */
bool cmd_batch_copy_line(char **buf, size_t *cap, const char *line, size_t len);
/* The next field of *p (NULL when none is left), NUL-terminated in
 * place: blanks end it, except inside an RFC 5321 Quoted-string. */
char *cmd_batch_field(char **p);
/* ==== end of batch line parsing block ==== */

/* ==== DMARC (issue 16: cmd/dmarc.c) ==== */
int cmd_dmarc(int argc, char **argv);
/* The domain of a --from value or a batch FROM field (the RFC
 * 5322.From; what names it in the reason): "Name <a@b>", "<a@b>",
 * "a@b" or a bare domain, as its A-label (*owned, spf_free); NULL with
 * a one-line reason in why when there is no domain or it does not
 * convert.  In output.c (batch's line parser needs it). */
const char *cmd_dmarc_from(const char *s, const char *what, char **owned,
	char *why, size_t whylen);
/* A walk's queries and Organizational Domain, a line each after indent;
 * the same as JSON (a new reference, NULL when out of memory). */
void cmd_dmarc_walk_print(FILE *out, const spf_dmarc_walk_t *w,
	const char *indent);
json_t *cmd_dmarc_walk_json(const spf_dmarc_walk_t *w);
/* The DMARC view of a message: where the policy came from, the
 * Organizational Domains, SPF (and DKIM) alignment, the policy that
 * applies if nothing aligns, the result; each line after prefix. */
void cmd_dmarc_print(FILE *out, const spf_dmarc_view_t *v, const char *prefix);
json_t *cmd_dmarc_json(const spf_dmarc_view_t *v);
/* explain's DMARC section: a heading, each walk's queries (the From's,
 * the SPF domain's, each DKIM domain's), then cmd_dmarc_print(). */
void cmd_dmarc_section(FILE *out, const spf_dmarc_view_t *v);

/* check's and explain's --from and --dkim-domain (repeatable): the
 * values as given while the options are read, their A-labels once
 * cmd_dmarc_args_read() has checked them */
#define CMD_DMARC_MAX_DKIM 16
struct cmd_dmarc_args {
	const char *from_arg;
	const char *dkim_arg[CMD_DMARC_MAX_DKIM];
	const char *from;                      /* A-label, or NULL */
	const char *dkim[CMD_DMARC_MAX_DKIM];  /* A-labels */
	size_t ndkim;
	char *owned[CMD_DMARC_MAX_DKIM + 1];
	size_t nowned;
	/* --org-domain walk|psl, --psl-file FILE: the list is loaded by
	 * cmd_dmarc_args_read() (or cmd_dmarc_psl()) and freed by
	 * cmd_dmarc_args_finish() */
	bool org_psl;
	const char *psl_file;
	spf_psl_t *psl;
};
#define CMD_DMARC_ORG_OPTS \
	{ "org-domain", required_argument, NULL, 1101 }, \
	{ "psl-file", required_argument, NULL, 1102 }
#define CMD_DMARC_ORG_HELP \
	"  --org-domain walk|psl   how Organizational Domains are found: walk, the\n" \
	"                          DNS Tree Walk of RFC 9989 (default); psl, RFC\n" \
	"                          7489's Public Suffix List (libpsl)\n" \
	"  --psl-file FILE         the Public Suffix List to use (default: the\n" \
	"                          system's, else the one built into libpsl)\n"
/* --org-domain and --psl-file: 1 when opt is one of them (kept), 0 when
 * not, -1 after printing why (a bad value: exit 64). */
int cmd_dmarc_org_opt(struct cmd_dmarc_args *a, int opt, const char *arg);
/* Load a->psl (--psl-file, else the system's list) unless loaded; false
 * after printing why (exit 64). */
bool cmd_dmarc_psl(struct cmd_dmarc_args *a);
/* "walk" or "psl": the JSON's and the text's word for the method. */
#define CMD_DMARC_METHOD(psl) ((psl) ? "psl" : "walk")
#define CMD_DMARC_HELP \
	"  --from ADDRESS|DOMAIN   the RFC 5322.From: after SPF, show DMARC (RFC 9989)\n" \
	"                          for the SPF leg: the policy and where it was\n" \
	"                          found, Organizational Domains, SPF alignment\n" \
	"  --dkim-domain D         with --from: the d= of a DKIM signature that\n" \
	"                          verified elsewhere (repeatable; DKIM is not\n" \
	"                          verified here): DKIM alignment and the result\n"
/* Keep an option's value (from: --from, else --dkim-domain); false
 * after printing why (given twice, too many).  Nothing is owned yet. */
bool cmd_dmarc_arg(struct cmd_dmarc_args *a, bool from, const char *arg);
/* Read the values kept: the From's domain, each DKIM domain, as
 * A-labels; --dkim-domain needs --from.  False after printing why
 * (exit 64).  Call cmd_dmarc_args_finish() either way. */
bool cmd_dmarc_args_read(struct cmd_dmarc_args *a);
void cmd_dmarc_args_finish(struct cmd_dmarc_args *a);
/* The DMARC view of ev's SPF leg (MAIL FROM's result and domain; none
 * when only HELO was evaluated) for a->from, on res.  NULL (after
 * printing why) when memory runs out. */
spf_dmarc_t *cmd_dmarc_run(spf_resolver_t *res, const struct cmd_eval *ev,
	const struct cmd_dmarc_args *a);
/* The SPF leg of a DMARC request (req->spf_domain, req->spf_result)
 * from ev, as cmd_dmarc_run() takes it; left alone without one.
 * spf_domain points into ev's summary: start the run before
 * cmd_eval_finish(ev). */
void cmd_dmarc_spf_leg(const struct cmd_eval *ev, spf_dmarc_request_t *req);
/* audit (cmd/audit.c): SPF and DMARC of many domains at once */
int cmd_audit(int argc, char **argv);
/* ==== end of DMARC block ==== */

/* ==== tree: the lookup-cost tree and the authorised networks (issue 17) ==== */
int cmd_tree(int argc, char **argv);
/* "ok", "none", "multiple", "dns_error", "loop", "not_followed",
 * "bad_name", "dynamic", "syntax" (JSON values; static). */
const char *cmd_lint_state_str(spf_lint_state_t s);

/* The names of well-known mail providers by include domain
 * (data/providers.txt, providers.c). */
struct cmd_providers;
/* Load the list: path (--providers), else $SPFCHECK_PROVIDERS, else the
 * installed DATADIR/spfcheck/providers.txt (missing: an empty list).
 * False after printing the error (a file that cannot be read, a bad
 * line as "FILE:LINE: what"). */
bool cmd_providers_load(const char *path, struct cmd_providers **out);
/* Parse text[0..len) (file names it in messages).  The list, or NULL
 * with one line "FILE:LINE: what" (or "FILE: out of memory") in why. */
struct cmd_providers *cmd_providers_parse(const char *text, size_t len,
	const char *file, char *why, size_t whylen);
/* The display name for domain (exact, case-insensitive; borrowed from
 * p), or NULL.  p and domain may be NULL. */
const char *cmd_provider_name(const struct cmd_providers *p, const char *domain);
size_t cmd_providers_count(const struct cmd_providers *p);
void cmd_providers_free(struct cmd_providers *p);                  /* NULL ok */
/* The page of lint and tree --format html (issue 20): the findings
 * underlined at their bytes, the lookup-cost tree with provider names,
 * the authorised networks.  cmd names the command.  False when memory
 * ran out (the page may be cut short). */
bool cmd_spf_page_html(FILE *out, const spf_lint_t *lint,
	const struct cmd_providers *prov, unsigned void_limit, const char *cmd);
/* ==== end of tree block ==== */
/* ==== DMARC aggregate reports (issue 19: cmd/report.c) ==== */
/* in the module spfcheck-report.so (cmd/module.c loads it) */
int cmd_report(int argc, char **argv);
/* Run entry(argc, argv) of the module file (cmd/module.c); cmd names
 * the command in errors. */
int cmd_run_module(const char *cmd, const char *file, const char *entry,
	int argc, char **argv);
/* ==== end of report block ==== */

/* ==== senderid (issue 5) ==== */
int cmd_senderid(int argc, char **argv);
/* ==== end of issue 5 block ==== */

#endif
