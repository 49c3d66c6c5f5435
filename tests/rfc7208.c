/*
 * rfc7208.c - run a test suite in the openspf YAML format.
 *
 * DESCRIPTION
 *	rfc7208 [-v] [--wire] [--no-prefetch] FILE [TEST...]
 *
 *	For every scenario of FILE, the zone data is loaded into the
 *	resolver's in-memory zone (offline, so nothing touches a network),
 *	and every test's identity is evaluated with spf_check_start() on the
 *	event loop.
 *
 *	With --wire the same zone is served instead by the fixture DNS
 *	server (fixture.h) on 127.0.0.1 with an ephemeral port, in this
 *	process and on the same event loop, and the resolver is a live one
 *	(c-ares, cache, coalescing) pointed at it, with a 500 ms timeout and
 *	one try so the suite's TIMEOUT entries (the fixture never answers
 *	them) end quickly as temperror.  Its overlay zone stays empty, so
 *	every answer crosses the wire.  A test passes when the result is one of the accepted
 *	results and, where the test gives one, the explanation matches
 *	exactly; the default explanation is set to "DEFAULT" as the suite
 *	expects.  With TEST names only those tests run.
 *
 *	All tests of a scenario are started at once and run concurrently on
 *	the one loop, as they would in `spfcheck batch`.
 *
 *	Prints each failure and a summary; exits 0 only if all passed.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "spf.h"
#include "suite.h"

/* long enough that an answer the fixture sends always arrives in time on
 * a loaded machine (the same process and loop serve it), short enough
 * that the suite's TIMEOUT entries, waited for concurrently per scenario,
 * cost little */
#define WIRE_TIMEOUT_MS 500

struct run {
	const struct stest *t;
	spf_job_t *job;
	bool done;
	int *remaining;
};

static void on_done(spf_job_t *job, void *arg)
{
	struct run *r = arg;

	(void)job;
	r->done = true;
	(*r->remaining)--;
}

static bool check_one(const struct run *r, bool verbose)
{
	const struct stest *t = r->t;
	spf_result_t got = spf_job_result(r->job);
	const char *exp = spf_job_explanation(r->job);
	bool ok = suite_accepts(t, spf_result_str(got), exp);

	if (!ok || verbose) {
		printf("%s %s (line %zu): got %s", ok ? "ok  " : "FAIL", t->name,
			t->line, spf_result_str(got));
		if (exp != NULL)
			printf(" exp=\"%s\"", exp);
		suite_print_want(t);
		if (spf_job_problem(r->job) != NULL)
			printf(" [%s]", spf_job_problem(r->job));
		printf("\n");
	}
	return ok;
}

int main(int argc, char **argv)
{
	struct suite s;
	struct event_base *base;
	int first = 1;
	bool verbose = false, wire = false, no_prefetch = false;
	size_t nrun = 0, npass = 0, nscen = 0;

	for (; first < argc && argv[first][0] == '-'; first++) {
		if (strcmp(argv[first], "-v") == 0)
			verbose = true;
		else if (strcmp(argv[first], "--wire") == 0)
			wire = true;
		else if (strcmp(argv[first], "--no-prefetch") == 0)
			no_prefetch = true;
		else
			break;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: rfc7208 [-v] [--wire] [--no-prefetch] FILE [TEST...]\n");
		return 64;
	}
	if (!suite_load(argv[first], &s))
		return 1;
	base = event_base_new();
	for (size_t i = 0; i < s.nscenarios; i++) {
		const struct scenario *sc = &s.scenarios[i];
		spf_resolver_opts_t opts = { .offline = true };
		spf_resolver_t *res = NULL;
		spf_zone_t *served = NULL;
		fixture_server_t *srv = NULL;
		char ns[32];
		const char *nsv[1] = { ns };
		struct run *runs = calloc(sc->ntests + 1, sizeof(*runs));
		int remaining = 0;
		size_t n = 0;

		if (wire) {
			served = spf_zone_create();
			if (served == NULL || !suite_fill_zone(sc, served)) {
				fprintf(stderr, "%s: scenario at line %zu: cannot build the zone\n",
					argv[first], sc->line);
				free(runs);
				return 1;
			}
			srv = fixture_start(base, served, "127.0.0.1", 0);
			if (srv == NULL) {
				fprintf(stderr, "%s: cannot start the fixture DNS server\n",
					argv[first]);
				free(runs);
				return 1;
			}
			snprintf(ns, sizeof ns, "127.0.0.1:%u", (unsigned)fixture_port(srv));
			opts.offline = false;
			opts.nameservers = nsv;
			opts.nnameservers = 1;
			opts.timeout_ms = WIRE_TIMEOUT_MS;
			opts.tries = 1;
		}
		res = spf_resolver_create(base, &opts);
		if (res == NULL || runs == NULL ||
		    (!wire && !suite_fill_zone(sc, spf_resolver_zone(res)))) {
			fprintf(stderr, "%s: scenario at line %zu: cannot build the zone\n",
				argv[first], sc->line);
			free(runs);
			spf_resolver_destroy(res);
			return 1;
		}
		nscen++;
		for (size_t j = 0; j < sc->ntests; j++) {
			const struct stest *t = &sc->tests[j];
			spf_request_t req = { 0 };
			struct run *r = &runs[n];

			if (!suite_wanted(t->name, argc, argv, first + 1))
				continue;
			if (!suite_request(t, &req)) {
				printf("FAIL %s: bad host %s\n", t->name, t->host);
				nrun++;
				continue;
			}
			req.now = 1700000000;
			req.no_prefetch = no_prefetch;
			r->t = t;
			r->remaining = &remaining;
			r->job = spf_check_start(res, &req, on_done, r, NULL);
			if (r->job == NULL) {
				printf("FAIL %s: cannot start\n", t->name);
				nrun++;
				continue;
			}
			remaining++;
			n++;
		}
		{
			bool all = false;

			while (remaining > 0) {
				if (event_base_loop(base, EVLOOP_ONCE) != 0)
					break;
			}
			all = remaining == 0;
			if (!all)
				printf("FAIL scenario at line %zu: %d checks never finished\n",
					sc->line, remaining);
		}
		for (size_t j = 0; j < n; j++) {
			nrun++;
			if (runs[j].done && check_one(&runs[j], verbose))
				npass++;
			else if (!runs[j].done)
				printf("FAIL %s: did not finish\n", runs[j].t->name);
			spf_job_destroy(runs[j].job);
		}
		free(runs);
		spf_resolver_destroy(res);
		fixture_stop(srv);
		spf_zone_destroy(served);
	}
	event_base_free(base);
	suite_free(&s);
	printf("%s%s: %zu scenarios, %zu tests: %zu passed, %zu failed\n",
		argv[first], wire ? (no_prefetch ? " (wire, no prefetch)" : " (wire)") :
		(no_prefetch ? " (no prefetch)" : ""), nscen, nrun, npass, nrun - npass);
	return npass == nrun && nrun > 0 ? 0 : 1;
}
