/*
 * rfc7208_cli.c - run a test suite in the openspf YAML format through
 * the command line: `spfcheck check --json` once per test.
 *
 * DESCRIPTION
 *	rfc7208-cli [-v] (--wire | --offline) SPFCHECK FILE [TEST...]
 *
 *	--wire: for every scenario of FILE, its zone data is served by the
 *	fixture DNS server (fixture.h) on 127.0.0.1 with an ephemeral port,
 *	in this process and on its event loop, and every test runs
 *	  spfcheck check --json --nameserver 127.0.0.1:PORT --timeout 150
 *	as a child process while the loop serves its queries.  The suite's
 *	TIMEOUT entries never get a reply, so those lookups end in
 *	temperror after the child's tries.
 *
 *	--offline: every scenario's zone is written as an RFC 1035 zone file
 *	and every test runs
 *	  spfcheck check --json --offline --zone FILE
 *	A zone file cannot say "never answer" (TIMEOUT) nor hold a TXT
 *	record of no character-strings (RFC 1035 §3.3.14: one or more):
 *	such entries are left out, and a test is run only when its
 *	evaluation never meets one.  That is decided in this process, by
 *	evaluating the test with the library on the suite's in-memory zone
 *	(everything included, no prefetch, so every query is in the trace)
 *	and looking in the trace for an answer "TEMPFAIL (timeout)" or a
 *	query of a name holding an empty record.  Tests that meet one are
 *	counted and named, not run.
 *
 *	Either way the test passes when the child exits with the status of
 *	its result (0 pass ... 6 temperror), its JSON "result" is one of the
 *	results the test accepts and, where the test gives one, "explanation"
 *	is exactly the test's explanation.  The default explanation is
 *	"DEFAULT", as the suite expects; --helo, --receiver and --identity
 *	helo follow the test; the sender goes on the command line as given
 *	(so the command's own reading of identities is under test).
 *
 *	Prints each failure and a summary; exits 0 only if every test run
 *	passed and at least one ran.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "spf.h"
#include "suite.h"

#define WIRE_TIMEOUT_MS "150"
#define CHILD_LIMIT_S 60        /* a child that runs longer is killed */
#define OUT_MAX (1 << 20)

extern char **environ;

struct child {
	char *out;
	size_t len;
	bool eof, expired;
	pid_t pid;
};

static void on_out(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;
	char buf[4096];
	ssize_t n;

	(void)what;
	n = read(fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return;
		c->eof = true;
		return;
	}
	if (c->len + (size_t)n < OUT_MAX) {
		memcpy(c->out + c->len, buf, (size_t)n);
		c->len += (size_t)n;
		c->out[c->len] = '\0';
	}
}

static void on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd;
	(void)what;
	c->expired = true;
	kill(c->pid, SIGKILL);
}

/* Run argv with stdout captured in *out (malloc'ed) while base keeps
 * serving; stderr goes to errpath.  Returns the exit status, or -1. */
static int run_child(struct event_base *base, char **argv, const char *errpath,
	char **out)
{
	struct child c = { 0 };
	posix_spawn_file_actions_t fa;
	struct event *ev = NULL, *timer = NULL;
	struct timeval limit = { CHILD_LIMIT_S, 0 };
	int fds[2], status = 0, rc = -1;

	*out = NULL;
	c.out = calloc(1, OUT_MAX);
	if (c.out == NULL || pipe(fds) != 0) {
		free(c.out);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (posix_spawn(&c.pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		free(c.out);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	ev = event_new(base, fds[0], EV_READ | EV_PERSIST, on_out, &c);
	timer = evtimer_new(base, on_expire, &c);
	if (ev == NULL || timer == NULL || event_add(ev, NULL) != 0 ||
	    evtimer_add(timer, &limit) != 0) {
		kill(c.pid, SIGKILL);
		c.eof = true;
	}
	while (!c.eof)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	if (ev != NULL)
		event_free(ev);
	if (timer != NULL)
		event_free(timer);
	close(fds[0]);
	while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !c.expired)
		rc = WEXITSTATUS(status);
	*out = c.out;
	return rc;
}

/* ---- zone files ---- */

/* A domain name in master-file form: bytes other than letters, digits,
 * '-', '_' and '*' as \DDD, dots kept (RFC 1035 §5.1). */
static void put_name(FILE *f, const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '*' ||
		    *p == '.')
			fputc(*p, f);
		else
			fprintf(f, "\\%03u", *p);
	}
	if (*name == '\0' || name[strlen(name) - 1] != '.')
		fputc('.', f);
}

static void put_strings(FILE *f, const struct zentry *e)
{
	for (size_t i = 0; i < e->nvalues; i++) {
		fputs(" \"", f);
		for (size_t k = 0; k < e->values[i].len; k++) {
			unsigned char c = (unsigned char)e->values[i].data[k];

			if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ';')
				fprintf(f, "\\%03u", c);
			else
				fputc(c, f);
		}
		fputc('"', f);
	}
}

/* Write the zone data of sc as a master file; false (with *why) when
 * it cannot be written as one. */
static bool write_zone(const struct scenario *sc, const char *path, const char **why)
{
	FILE *f;

	for (size_t i = 0; i < sc->nnames; i++)
		for (size_t k = 0; k < sc->names[i].nentries; k++) {
			const struct zentry *e = &sc->names[i].entries[k];

			for (size_t v = 0; v < e->nvalues; v++)
				if ((strcmp(e->type, "TXT") == 0 || strcmp(e->type, "SPF") == 0) &&
				    e->values[v].len > 255) {
					*why = "a character-string over 255 bytes";
					return false;
				}
		}
	f = fopen(path, "w");
	if (f == NULL) {
		*why = "cannot write the zone file";
		return false;
	}
	fputs("$TTL 300\n", f);
	for (size_t i = 0; i < sc->nnames; i++) {
		const struct zname *zn = &sc->names[i];
		bool has_txt = suite_name_has_txt(zn);

		for (size_t k = 0; k < zn->nentries; k++) {
			const struct zentry *e = &zn->entries[k];
			const char *t = e->type;

			if (strcmp(t, "TIMEOUT") == 0)
				continue;   /* no zone-file form: see unwritable() */
			if (strcmp(t, "TXT") == 0 && e->nvalues == 1 && !e->is_list &&
			    strcmp(e->values[0].data, "NONE") == 0)
				continue;   /* "TXT: NONE" adds nothing (suite.c) */
			if ((strcmp(t, "TXT") == 0 || strcmp(t, "SPF") == 0) &&
			    e->nvalues == 0)
				continue;   /* no zone-file form: see unwritable() */
			if (strcmp(t, "TXT") == 0 || strcmp(t, "SPF") == 0) {
				put_name(f, zn->name);
				fprintf(f, " IN %s", t);
				put_strings(f, e);
				fputc('\n', f);
				if (strcmp(t, "SPF") == 0 && !has_txt) {
					put_name(f, zn->name);
					fputs(" IN TXT", f);
					put_strings(f, e);
					fputc('\n', f);
				}
			} else if (strcmp(t, "A") == 0 || strcmp(t, "AAAA") == 0) {
				spf_addr_t a;

				if (!spf_addr_parse(e->values[0].data, &a)) {
					*why = "an address that is not one";
					fclose(f);
					return false;
				}
				put_name(f, zn->name);
				fprintf(f, " IN %s %s\n", a.family == 4 ? "A" : "AAAA",
					e->values[0].data);
			} else if (strcmp(t, "MX") == 0 && e->nvalues == 2) {
				put_name(f, zn->name);
				fprintf(f, " IN MX %s ", e->values[0].data);
				put_name(f, e->values[1].data);
				fputc('\n', f);
			} else if (strcmp(t, "PTR") == 0 || strcmp(t, "CNAME") == 0) {
				put_name(f, zn->name);
				fprintf(f, " IN %s ", t);
				put_name(f, e->values[0].data);
				fputc('\n', f);
			} else {
				*why = "an entry type a zone file here cannot hold";
				fclose(f);
				return false;
			}
		}
	}
	if (fclose(f) != 0) {
		*why = "cannot write the zone file";
		return false;
	}
	return true;
}

/* Does sc give name an empty TXT/SPF record (no zone-file form)? */
static bool empty_record_at(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->nnames; i++) {
		if (strcasecmp(sc->names[i].name, name) != 0)
			continue;
		for (size_t k = 0; k < sc->names[i].nentries; k++)
			if (sc->names[i].entries[k].nvalues == 0 &&
			    strcmp(sc->names[i].entries[k].type, "TIMEOUT") != 0)
				return true;
	}
	return false;
}

/* Does the trace below n hold an answer that timed out, or a query of
 * a name with an empty record? */
static bool trace_unwritable(const struct scenario *sc, const spf_trace_t *n)
{
	for (; n != NULL; n = n->next) {
		const char *sp = n->label != NULL ? strchr(n->label, ' ') : NULL;

		if (n->kind == SPF_TRACE_DNS && n->detail != NULL &&
		    strncmp(n->detail, "TEMPFAIL (timeout", 17) == 0)
			return true;
		if (n->kind == SPF_TRACE_DNS && sp != NULL && empty_record_at(sc, sp + 1))
			return true;
		if (trace_unwritable(sc, n->first))
			return true;
	}
	return false;
}

/* Does evaluating t on the in-memory zone res meet an entry that a zone
 * file cannot hold?  (Then the test has no zone-file form.) */
static bool unwritable(spf_resolver_t *res, const struct scenario *sc,
	const struct stest *t)
{
	spf_request_t req = { 0 };
	spf_job_t *job;
	bool hit;

	if (!suite_request(t, &req))
		return false;
	req.no_prefetch = true;
	job = spf_check_sync(res, &req, NULL);
	hit = job == NULL || trace_unwritable(sc, spf_job_trace(job));
	spf_job_destroy(job);
	return hit;
}

/* ---- one test ---- */

static int result_exit(const char *r)
{
	static const char *const names[] = { "pass", "fail", "softfail", "neutral",
		"none", "permerror", "temperror" };

	for (int i = 0; i < 7; i++)
		if (strcmp(r, names[i]) == 0)
			return i;
	return -1;
}

static void show(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		printf("  | %s", line);
	if (f != NULL)
		fclose(f);
}

static bool run_test(struct event_base *base, const char *bin, const struct stest *t,
	const char *ns, const char *zonefile, const char *errpath, bool verbose)
{
	char *argv[32], *out = NULL;
	int n = 0, rc;
	json_t *o = NULL;
	json_error_t jerr;
	const char *got = NULL, *exp = NULL;
	bool ok = false, helo_id = t->identity && strcmp(t->identity, "helo") == 0;

	argv[n++] = (char *)bin;
	argv[n++] = "check";
	argv[n++] = "--json";
	argv[n++] = "--default-explanation";
	argv[n++] = "DEFAULT";
	if (ns != NULL) {
		argv[n++] = "--nameserver";
		argv[n++] = (char *)ns;
		argv[n++] = "--timeout";
		argv[n++] = WIRE_TIMEOUT_MS;
	} else {
		argv[n++] = "--offline";
		argv[n++] = "--zone";
		argv[n++] = (char *)zonefile;
	}
	if (t->helo != NULL) {
		argv[n++] = "--helo";
		argv[n++] = t->helo;
	}
	if (t->receiver != NULL) {
		argv[n++] = "--receiver";
		argv[n++] = t->receiver;
	}
	if (helo_id) {
		argv[n++] = "--identity";
		argv[n++] = "helo";
	}
	argv[n++] = "--";
	argv[n++] = t->host;
	if (!helo_id || (t->mailfrom != NULL && *t->mailfrom != '\0'))
		argv[n++] = t->mailfrom != NULL ? t->mailfrom : "";
	argv[n] = NULL;

	rc = run_child(base, argv, errpath, &out);
	if (rc >= 0 && out != NULL)
		o = json_loads(out, 0, &jerr);
	if (o != NULL) {
		got = json_string_value(json_object_get(o, "result"));
		exp = json_string_value(json_object_get(o, "explanation"));
	}
	ok = got != NULL && rc == result_exit(got) && suite_accepts(t, got, exp);
	if (!ok || verbose) {
		printf("%s %s (line %zu): exit %d, got %s", ok ? "ok  " : "FAIL", t->name,
			t->line, rc, got ? got : "(no JSON result)");
		if (exp != NULL)
			printf(" exp=\"%s\"", exp);
		suite_print_want(t);
		printf("\n");
		if (!ok)
			show(errpath);
	}
	json_decref(o);
	free(out);
	return ok;
}

int main(int argc, char **argv)
{
	struct suite s;
	struct event_base *base;
	char dir[] = "/tmp/rfc7208-cli.XXXXXX", zonefile[64], errpath[64];
	int first = 1, mode = 0;
	bool verbose = false;
	size_t nrun = 0, npass = 0, nscen = 0, nskip_scen = 0, nskip_tests = 0;
	size_t nskip_scen_tests = 0;
	const char *bin, *file;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[first], "--wire") == 0)
			mode = 1;
		else if (strcmp(argv[first], "--offline") == 0)
			mode = 2;
		else
			break;
	}
	if (mode == 0 || first + 2 > argc) {
		fprintf(stderr, "usage: rfc7208-cli [-v] (--wire | --offline) SPFCHECK FILE [TEST...]\n");
		return 64;
	}
	bin = argv[first];
	file = argv[first + 1];
	if (!suite_load(file, &s))
		return 1;
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(zonefile, sizeof(zonefile), "%s/scenario.zone", dir);
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	base = event_base_new();
	for (size_t i = 0; i < s.nscenarios && base != NULL; i++) {
		const struct scenario *sc = &s.scenarios[i];
		spf_zone_t *served = NULL;
		fixture_server_t *srv = NULL;
		spf_resolver_t *mem = NULL;
		char ns[32];
		size_t ntests = 0;

		for (size_t j = 0; j < sc->ntests; j++)
			if (suite_wanted(sc->tests[j].name, argc, argv, first + 2))
				ntests++;
		if (ntests == 0)
			continue;
		if (mode == 1) {
			served = spf_zone_create();
			if (served == NULL || !suite_fill_zone(sc, served)) {
				fprintf(stderr, "%s: scenario at line %zu: cannot build the zone\n",
					file, sc->line);
				return 1;
			}
			srv = fixture_start(base, served, "127.0.0.1", 0);
			if (srv == NULL) {
				fprintf(stderr, "%s: cannot start the fixture DNS server\n", file);
				return 1;
			}
			snprintf(ns, sizeof ns, "127.0.0.1:%u", (unsigned)fixture_port(srv));
		} else {
			const char *why = NULL;

			if (!write_zone(sc, zonefile, &why)) {
				printf("skip scenario at line %zu (%zu tests): %s\n", sc->line,
					ntests, why);
				nskip_scen++;
				nskip_tests += ntests;
				nskip_scen_tests += ntests;
				continue;
			}
			mem = spf_resolver_create(base, &(spf_resolver_opts_t){ .offline = true });
			if (mem == NULL || !suite_fill_zone(sc, spf_resolver_zone(mem))) {
				fprintf(stderr, "%s: scenario at line %zu: cannot build the zone\n",
					file, sc->line);
				return 1;
			}
		}
		nscen++;
		for (size_t j = 0; j < sc->ntests; j++) {
			const struct stest *t = &sc->tests[j];

			if (!suite_wanted(t->name, argc, argv, first + 2))
				continue;
			if (mem != NULL && unwritable(mem, sc, t)) {
				printf("skip %s (line %zu): its evaluation meets a TIMEOUT entry "
					"or an empty record\n",
					t->name, t->line);
				nskip_tests++;
				continue;
			}
			nrun++;
			if (run_test(base, bin, t, mode == 1 ? ns : NULL, zonefile, errpath,
			    verbose))
				npass++;
		}
		fixture_stop(srv);
		spf_zone_destroy(served);
		spf_resolver_destroy(mem);
	}
	unlink(zonefile);
	unlink(errpath);
	rmdir(dir);
	if (base != NULL)
		event_base_free(base);
	suite_free(&s);
	printf("%s through `spfcheck check --json` (%s): %zu scenarios, %zu tests: "
		"%zu passed, %zu failed", file, mode == 1 ? "wire" : "offline --zone",
		nscen, nrun, npass, nrun - npass);
	if (mode == 2)
		printf("; %zu tests not expressible as a zone file", nskip_tests);
	if (nskip_scen > 0)
		printf(" (%zu of them in %zu scenarios that cannot be written)",
			nskip_scen_tests, nskip_scen);
	printf("\n");
	return npass == nrun && nrun > 0 ? 0 : 1;
}
