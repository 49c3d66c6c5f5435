/*
 * test_sync.c - running the loop until answered (evaluator/check/sync.c)
 * and the synchronous tools built on it.
 *
 * The group: every query and check answered, nothing to wait for, and
 * the loop stopping early.  A synchronous call made from inside a
 * callback of the loop it runs is the way the loop stops early for real
 * (libevent does not run a loop inside itself): each tool is called so
 * and must come back with what it has, and nothing it started may call
 * back afterwards, when its frame or its memory is gone.  Before sync.c,
 * spf_eval_many() returned with its results unset and 64 jobs calling
 * back into its dead stack frame, and a lint run destroyed that way
 * left its queries answering into its freed arena.  libevent logs
 * "reentrant invocation" for each such call: that is expected.
 */
#include <string.h>

#include "check.h"
#include "env.h"

#include "internal.h"

/* A callback into a returned frame shows as stack-use-after-return only
 * with this ASan option (off by default). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}

#define ZONE "$TTL 300\n" \
	"example.org. TXT \"v=spf1 ip4:192.0.2.0/24 a:h.example.org -all\"\n" \
	"h.example.org. A 198.51.100.1\n" \
	"other.example.org. TXT \"unrelated\"\n"

struct seen {
	int answers;
	int checks;
	spf_result_t results[8];
	const char *problems[8];
	int nresults;
};

static void on_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct seen *s = arg;

	assert_non_null(ans);
	s->answers++;
}

static void on_check(spf_job_t *job, void *arg)
{
	struct seen *s = arg;

	if (s->nresults < 8) {
		s->results[s->nresults] = spf_job_result(job);
		s->problems[s->nresults] = spf_job_problem(job) != NULL ?
			strdup(spf_job_problem(job)) : NULL;
		s->nresults++;
	}
	s->checks++;
	spf_job_destroy(job);
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < s->nresults; i++)
		free((void *)s->problems[i]);
}

static spf_request_t request(const char *ip)
{
	spf_request_t req = { .sender = "postmaster@example.org",
		.helo = "example.org" };

	assert_true(spf_addr_parse(ip, &req.ip));
	return req;
}

/* Run the loop until it has nothing left: whatever a test left
 * outstanding runs now (the loop has no timer of its own). */
static void run_dry(env_t *e)
{
	for (int i = 0; i < 100000; i++)
		if (event_base_loop(e->base, EVLOOP_ONCE) != 0)
			return;
	fail_msg("the loop did not run dry");
}

/* ---- the group ---- */

static void test_all_answered(void **state)
{
	env_t *e = *state;
	struct seen s = { 0 }, pass = { 0 }, fail = { 0 };
	spf_sync_t g;
	spf_request_t in = request("192.0.2.7"), out = request("203.0.113.9");

	env_load(e, ZONE);
	spf_sync_init(&g, e->res);
	assert_true(spf_sync_query(&g, "example.org", SPF_RR_TXT, on_answer, &s));
	assert_true(spf_sync_query(&g, "h.example.org", SPF_RR_A, on_answer, &s));
	assert_int_equal(spf_sync_check(&g, &in, on_check, &pass), SPF_OK);
	assert_int_equal(spf_sync_check(&g, &out, on_check, &fail), SPF_OK);
	/* nothing is called back from inside the starting calls */
	assert_int_equal(s.answers + pass.checks + fail.checks, 0);
	assert_true(spf_sync_wait(&g));
	assert_false(spf_sync_stopped(&g));
	assert_int_equal(s.answers, 2);
	assert_int_equal(pass.checks, 1);
	assert_int_equal(pass.results[0], SPF_RESULT_PASS);
	assert_int_equal(fail.checks, 1);
	assert_int_equal(fail.results[0], SPF_RESULT_FAIL);
	spf_sync_finish(&g);
	run_dry(e);
	assert_int_equal(s.answers, 2);
	assert_int_equal(pass.checks + fail.checks, 2);
	seen_free(&pass);
	seen_free(&fail);
}

/* A callback of the group starts more: the wait covers them too. */
struct chain {
	spf_sync_t *g;
	int left;
	int answers;
};

static void on_chain(const spf_dns_answer_t *ans, void *arg)
{
	struct chain *c = arg;

	(void)ans;
	c->answers++;
	if (c->left > 0) {
		c->left--;
		assert_true(spf_sync_query(c->g, "example.org", SPF_RR_TXT, on_chain, c));
	}
}

static void test_started_from_callbacks(void **state)
{
	env_t *e = *state;
	spf_sync_t g;
	struct chain c = { .g = &g, .left = 3 };

	env_load(e, ZONE);
	spf_sync_init(&g, e->res);
	assert_true(spf_sync_query(&g, "example.org", SPF_RR_TXT, on_chain, &c));
	assert_true(spf_sync_wait(&g));
	assert_int_equal(c.answers, 4);
	spf_sync_finish(&g);
}

static void test_nothing_to_wait_for(void **state)
{
	env_t *e = *state;
	struct seen outside = { 0 };
	spf_sync_t g;

	env_load(e, ZONE);
	/* a query outside the group: the wait must not run the loop for it */
	assert_non_null(spf_resolver_query(e->res, "example.org", SPF_RR_TXT,
		on_answer, &outside));
	spf_sync_init(&g, e->res);
	assert_true(spf_sync_wait(&g));
	assert_false(spf_sync_stopped(&g));
	spf_sync_finish(&g);
	assert_int_equal(outside.answers, 0);
	run_dry(e);
	assert_int_equal(outside.answers, 1);
}

/* finish without a wait: everything is cancelled, nothing calls back */
static void test_finish_cancels(void **state)
{
	env_t *e = *state;
	struct seen s = { 0 };
	spf_sync_t g;
	spf_request_t req = request("192.0.2.7");

	env_load(e, ZONE);
	spf_sync_init(&g, e->res);
	assert_true(spf_sync_query(&g, "example.org", SPF_RR_TXT, on_answer, &s));
	assert_int_equal(spf_sync_check(&g, &req, on_check, &s), SPF_OK);
	spf_sync_finish(&g);
	run_dry(e);
	assert_int_equal(s.answers + s.checks, 0);
}

/* ---- the loop stopping early: calls from inside a callback ---- */

struct relay {
	spf_sync_t *g;
	int left;
	int checks;
	int temperrors;
};

struct inside {
	env_t *e;
	void (*run)(struct inside *in);
	bool done;
	/* the group */
	spf_sync_t g;
	struct seen s;
	struct relay r;
	bool waited;
	/* the tools */
	spf_result_t results[100];
	bool limit_hit[100];
	spf_status_t st;
	spf_job_t *job;
	spf_lint_t *lint;
	spf_senderid_report_t *sid;
	bool dmarc_error;
	spf_dmarc_result_t dmarc_result;
};

static void on_inside(const spf_dns_answer_t *ans, void *arg)
{
	struct inside *in = arg;

	(void)ans;
	in->run(in);
	in->done = true;
}

/* Run in->run from inside a callback of e's loop, then the loop dry. */
static void call_inside(struct inside *in)
{
	assert_non_null(spf_resolver_call_later(in->e->res, on_inside, in));
	env_wait_for(in->e->base, &in->done, 0);
	run_dry(in->e);
}

static void group_inside(struct inside *in)
{
	spf_request_t a = request("192.0.2.7"), b = request("203.0.113.9");

	spf_sync_init(&in->g, in->e->res);
	assert_true(spf_sync_query(&in->g, "example.org", SPF_RR_TXT, on_answer, &in->s));
	assert_int_equal(spf_sync_check(&in->g, &a, on_check, &in->s), SPF_OK);
	assert_int_equal(spf_sync_check(&in->g, &b, on_check, &in->s), SPF_OK);
	in->waited = spf_sync_wait(&in->g);
	/* what was left has been ended: the query cancelled, the checks
	 * handed back as temperror, here and not later */
	assert_true(spf_sync_stopped(&in->g));
	assert_int_equal(in->s.answers, 0);
	assert_int_equal(in->s.checks, 2);
	spf_sync_finish(&in->g);
}

static void test_early_stop_ends_the_rest(void **state)
{
	struct inside in = { .e = *state, .run = group_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_false(in.waited);
	assert_int_equal(in.s.answers, 0);
	assert_int_equal(in.s.checks, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(in.s.results[i], SPF_RESULT_TEMPERROR);
		assert_non_null(in.s.problems[i]);
		assert_non_null(strstr(in.s.problems[i], "event loop stopped"));
	}
	seen_free(&in.s);
}

/* a check's callback that starts another while the group is being
 * ended: that one is ended too, and the wait still returns */
static void on_relay(spf_job_t *job, void *arg)
{
	struct relay *r = arg;
	spf_request_t req = request("192.0.2.7");

	r->checks++;
	r->temperrors += spf_job_result(job) == SPF_RESULT_TEMPERROR;
	spf_job_destroy(job);
	if (r->left > 0) {
		r->left--;
		assert_int_equal(spf_sync_check(r->g, &req, on_relay, r), SPF_OK);
	}
}

static void relay_inside(struct inside *in)
{
	spf_request_t req = request("192.0.2.7");

	in->r.g = &in->g;
	in->r.left = 3;
	spf_sync_init(&in->g, in->e->res);
	assert_int_equal(spf_sync_check(&in->g, &req, on_relay, &in->r), SPF_OK);
	in->waited = spf_sync_wait(&in->g);
	spf_sync_finish(&in->g);
}

static void test_early_stop_relay(void **state)
{
	struct inside in = { .e = *state, .run = relay_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_false(in.waited);
	assert_int_equal(in.r.checks, 4);
	assert_int_equal(in.r.temperrors, 4);
}

static void eval_many_inside(struct inside *in)
{
	spf_addr_t ips[100];

	for (int i = 0; i < 100; i++) {
		char text[32];

		snprintf(text, sizeof(text), "192.0.2.%d", i);
		assert_true(spf_addr_parse(text, &ips[i]));
		in->results[i] = SPF_RESULT_PASS;
		in->limit_hit[i] = true;
	}
	in->st = spf_eval_many(in->e->res, "example.org", ips, 100, in->results,
		in->limit_hit);
}

static void test_eval_many_inside(void **state)
{
	struct inside in = { .e = *state, .run = eval_many_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_int_equal(in.st, SPF_OK);
	/* every address has a result: the 64 in flight and the 36 never
	 * started, all temperror; and nothing came back after it returned */
	for (int i = 0; i < 100; i++) {
		assert_int_equal(in.results[i], SPF_RESULT_TEMPERROR);
		assert_false(in.limit_hit[i]);
	}
}

static void check_sync_inside(struct inside *in)
{
	spf_request_t req = request("192.0.2.7");

	in->job = spf_check_sync(in->e->res, &req, &in->st);
}

static void test_check_sync_inside(void **state)
{
	struct inside in = { .e = *state, .run = check_sync_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_int_equal(in.st, SPF_OK);
	assert_non_null(in.job);
	assert_true(spf_job_done(in.job));
	assert_int_equal(spf_job_result(in.job), SPF_RESULT_TEMPERROR);
	assert_string_equal(spf_job_problem(in.job),
		"internal error: the event loop stopped before the check finished");
	spf_job_destroy(in.job);
}

static void lint_inside(struct inside *in)
{
	spf_lint_request_t req = { .domain = "example.org" };

	in->lint = spf_lint_run(in->e->res, &req, &in->st);
	/* destroyed before the loop runs on: its queries must not answer
	 * into its arena afterwards */
	spf_lint_destroy(in->lint);
}

static void test_lint_inside(void **state)
{
	struct inside in = { .e = *state, .run = lint_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_int_equal(in.st, SPF_OK);
}

static void senderid_inside(struct inside *in)
{
	in->sid = spf_senderid_check(in->e->res, "example.org", &in->st);
	spf_senderid_destroy(in->sid);
}

static void test_senderid_inside(void **state)
{
	struct inside in = { .e = *state, .run = senderid_inside };

	env_load(in.e, ZONE);
	call_inside(&in);
	assert_int_equal(in.st, SPF_OK);
	/* the lookups were cancelled: the report saw failed lookups */
}

/* DMARC's walks (evaluator/dmarc/walk.c) and its lint: the run comes
 * back with its lookups failed (temperror), and is destroyed before the
 * loop runs on */
static void dmarc_inside(struct inside *in)
{
	spf_dmarc_request_t req = { .from_domain = "a.b.example.org",
		.spf_domain = "example.org", .spf_result = SPF_RESULT_PASS };
	spf_dmarc_t *d = spf_dmarc_run(in->e->res, &req, &in->st);
	spf_dmarc_lint_t *l;

	if (d != NULL) {
		in->dmarc_error = spf_dmarc_view(d)->author->dns_error;
		in->dmarc_result = spf_dmarc_view(d)->result;
	}
	spf_dmarc_destroy(d);
	l = spf_dmarc_lint_run(in->e->res, "example.org", NULL, NULL);
	spf_dmarc_lint_destroy(l);
}

static void test_dmarc_inside(void **state)
{
	struct inside in = { .e = *state, .run = dmarc_inside };

	env_load(in.e, ZONE "_dmarc.example.org. TXT \"v=DMARC1; p=reject\"\n");
	call_inside(&in);
	assert_int_equal(in.st, SPF_OK);
	assert_true(in.dmarc_error);
	assert_int_equal(in.dmarc_result, SPF_DMARC_RESULT_TEMPERROR);
}

/* ---- the same tools, run normally, still answer ---- */

static void test_eval_many_answers(void **state)
{
	env_t *e = *state;
	spf_addr_t ips[3];
	spf_result_t results[3];
	bool limit_hit[3];

	env_load(e, ZONE);
	assert_true(spf_addr_parse("192.0.2.1", &ips[0]));
	assert_true(spf_addr_parse("198.51.100.1", &ips[1]));
	assert_true(spf_addr_parse("203.0.113.1", &ips[2]));
	assert_int_equal(spf_eval_many(e->res, "example.org", ips, 3, results,
		limit_hit), SPF_OK);
	assert_int_equal(results[0], SPF_RESULT_PASS);
	assert_int_equal(results[1], SPF_RESULT_PASS);
	assert_int_equal(results[2], SPF_RESULT_FAIL);
	assert_int_equal(spf_eval_many(e->res, "example.org", ips, 0, results,
		limit_hit), SPF_OK);
	run_dry(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_answered, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_started_from_callbacks, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_nothing_to_wait_for, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_finish_cancels, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_early_stop_ends_the_rest, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_early_stop_relay, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_eval_many_inside, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_check_sync_inside, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_lint_inside, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_senderid_inside, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_dmarc_inside, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_eval_many_answers, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
