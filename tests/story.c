/*
 * story.c - `check` and `explain` tell the same story (issue 12, part 4).
 *
 * DESCRIPTION
 *	story FILE...
 *
 *	For every test of every scenario in the openspf-format YAML FILEs
 *	(the RFC 7208 suite, our own scenarios), the zone data is loaded into
 *	the resolver's in-memory zone and the identity is evaluated four
 *	ways, as the commands do:
 *	  check    the default request (spfcheck check);
 *	  lean     lean_trace (spfcheck batch --json);
 *	  no-trace no_trace (spfcheck batch, the policy service), whose
 *	           job must have no trace at all;
 *	  explain  trace_past_limits (spfcheck explain: the trace goes on
 *	           past a limit, for the picture).
 *	It asserts that the four agree on the result, the deciding term,
 *	the domain, the problem, the explanation, and the DNS-querying and
 *	void lookup counts; that the result is one the test accepts; and
 *	that explain's trace tells the same: its root carries the result and
 *	the counts, the deciding term is in the trace (in the frame of the
 *	reported domain, not beyond the limit), and nothing is marked beyond
 *	the limit unless the result is a limit's permerror.
 *
 *	Prints each disagreement and a summary; exits 0 only if every test
 *	agreed and at least one ran.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf.h"
#include "suite.h"

enum { M_CHECK, M_LEAN, M_NOTRACE, M_EXPLAIN, NMODES };

static const char *const mode_names[NMODES] = { "check", "lean", "no-trace", "explain" };

static bool str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static const char *show(const char *s)
{
	return s ? s : "(null)";
}

/* Is there, below t, a TERM node labelled mech in a CHECK frame of
 * domain that decided (decisive, or the error that ended its frame) and
 * was evaluated for the result (not beyond the limit)? */
static const spf_trace_t *deciding_term(const spf_trace_t *t, const char *mech,
	const char *domain)
{
	for (const spf_trace_t *k = t->first; k != NULL; k = k->next) {
		const spf_trace_t *d;

		if (k->kind == SPF_TRACE_TERM && strcmp(k->label, mech) == 0 &&
		    t->kind == SPF_TRACE_CHECK && strcmp(t->label, domain) == 0 &&
		    !k->beyond_limit &&
		    (k->decisive || k->outcome == SPF_TERM_ERROR ||
		     k->outcome == SPF_TERM_MATCH))
			return k;
		if ((d = deciding_term(k, mech, domain)) != NULL)
			return d;
	}
	return NULL;
}

static bool any_beyond(const spf_trace_t *t)
{
	if (t->beyond_limit)
		return true;
	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		if (any_beyond(k))
			return true;
	return false;
}

#define DISAGREE(...) do { \
	printf("FAIL %s (line %zu): ", t->name, t->line); \
	printf(__VA_ARGS__); \
	printf("\n"); \
	ok = false; \
} while (0)

static bool compare(const struct stest *t, spf_job_t *const jobs[NMODES])
{
	const spf_job_t *c = jobs[M_CHECK], *x = jobs[M_EXPLAIN];
	const spf_trace_t *root = spf_job_trace(x);
	const char *mech = spf_job_mechanism(c), *domain = spf_job_domain(c);
	bool ok = true;

	if (!suite_accepts(t, spf_result_str(spf_job_result(c)), spf_job_explanation(c)))
		DISAGREE("check gives %s (explanation %s), not what the test accepts",
			spf_result_str(spf_job_result(c)), show(spf_job_explanation(c)));
	if (spf_job_trace(jobs[M_NOTRACE]) != NULL)
		DISAGREE("no_trace: the job has a trace");
	for (int m = M_LEAN; m < NMODES; m++) {
		const spf_job_t *o = jobs[m];
		const char *n = mode_names[m];

		if (spf_job_result(o) != spf_job_result(c))
			DISAGREE("result: check %s, %s %s", spf_result_str(spf_job_result(c)),
				n, spf_result_str(spf_job_result(o)));
		if (!str_same(spf_job_mechanism(o), mech))
			DISAGREE("mechanism: check %s, %s %s", show(mech), n,
				show(spf_job_mechanism(o)));
		if (!str_same(spf_job_domain(o), domain))
			DISAGREE("domain: check %s, %s %s", show(domain), n,
				show(spf_job_domain(o)));
		if (!str_same(spf_job_problem(o), spf_job_problem(c)))
			DISAGREE("problem: check %s, %s %s", show(spf_job_problem(c)), n,
				show(spf_job_problem(o)));
		if (!str_same(spf_job_explanation(o), spf_job_explanation(c)))
			DISAGREE("explanation: check %s, %s %s", show(spf_job_explanation(c)),
				n, show(spf_job_explanation(o)));
		if (spf_job_lookups(o) != spf_job_lookups(c))
			DISAGREE("lookups: check %u, %s %u", spf_job_lookups(c), n,
				spf_job_lookups(o));
		if (spf_job_void_lookups(o) != spf_job_void_lookups(c))
			DISAGREE("void lookups: check %u, %s %u", spf_job_void_lookups(c), n,
				spf_job_void_lookups(o));
	}
	if (root == NULL)
		return ok;   /* no evaluation (a malformed domain): nothing to tell */
	if (root->result != spf_job_result(c) || root->lookups != spf_job_lookups(c) ||
	    root->voids != spf_job_void_lookups(c))
		DISAGREE("explain's tree says %s, lookups %u, void %u; check %s, %u, %u",
			spf_result_str(root->result), root->lookups, root->voids,
			spf_result_str(spf_job_result(c)), spf_job_lookups(c),
			spf_job_void_lookups(c));
	if (mech != NULL && strcmp(mech, "default") != 0 && domain != NULL) {
		const spf_trace_t *d = deciding_term(root, mech, domain);
		spf_result_t r = spf_job_result(c);

		if (d == NULL)
			DISAGREE("explain's tree has no deciding term %s in the record of %s",
				mech, domain);
		/* an error goes up unchanged through includes and redirects:
		 * every frame on the way out shows it */
		for (; d != NULL && (r == SPF_RESULT_PERMERROR || r == SPF_RESULT_TEMPERROR);
		     d = d->parent)
			if (d->kind == SPF_TRACE_CHECK && d->result != r)
				DISAGREE("explain's tree: the frame of %s says %s on the way "
					"out of %s", d->label, spf_result_str(d->result),
					spf_result_str(r));
	}
	if (any_beyond(root) && (spf_job_problem(c) == NULL ||
	    strstr(spf_job_problem(c), "too many") == NULL))
		DISAGREE("explain's tree marks terms beyond a limit, but the result "
			"is not a limit's (%s)", show(spf_job_problem(c)));
	return ok;
}

static bool run_file(struct event_base *base, const char *path, size_t *nrun,
	size_t *nok)
{
	struct suite s;

	if (!suite_load(path, &s))
		return false;
	for (size_t i = 0; i < s.nscenarios; i++) {
		const struct scenario *sc = &s.scenarios[i];
		spf_resolver_opts_t opts = { .offline = true };
		spf_resolver_t *res = spf_resolver_create(base, &opts);

		if (res == NULL || !suite_fill_zone(sc, spf_resolver_zone(res))) {
			fprintf(stderr, "%s: scenario at line %zu: cannot build the zone\n",
				path, sc->line);
			spf_resolver_destroy(res);
			suite_free(&s);
			return false;
		}
		for (size_t j = 0; j < sc->ntests; j++) {
			const struct stest *t = &sc->tests[j];
			spf_job_t *jobs[NMODES] = { NULL };
			spf_request_t req = { 0 };
			bool started = true;

			(*nrun)++;
			if (!suite_request(t, &req)) {
				printf("FAIL %s: bad host %s\n", t->name, t->host);
				continue;
			}
			req.now = 1700000000;
			for (int m = 0; m < NMODES; m++) {
				spf_request_t r = req;

				r.lean_trace = m == M_LEAN;
				r.no_trace = m == M_NOTRACE;
				r.trace_past_limits = m == M_EXPLAIN;
				jobs[m] = spf_check_sync(res, &r, NULL);
				if (jobs[m] == NULL)
					started = false;
			}
			if (!started)
				printf("FAIL %s: cannot start\n", t->name);
			else if (compare(t, jobs))
				(*nok)++;
			for (int m = 0; m < NMODES; m++)
				spf_job_destroy(jobs[m]);
		}
		spf_resolver_destroy(res);
	}
	suite_free(&s);
	return true;
}

int main(int argc, char **argv)
{
	struct event_base *base;
	size_t nrun = 0, nok = 0;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: story FILE...\n");
		return 64;
	}
	base = event_base_new();
	if (base == NULL)
		return 1;
	for (int i = 1; i < argc; i++) {
		size_t before = nrun, okbefore = nok;

		if (!run_file(base, argv[i], &nrun, &nok)) {
			rc = 1;
			continue;
		}
		printf("%s: %zu tests, check and explain agree on %zu\n", argv[i],
			nrun - before, nok - okbefore);
	}
	event_base_free(base);
	if (nrun == 0 || nok != nrun)
		rc = 1;
	return rc;
}
