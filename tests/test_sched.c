/*
 * test_sched.c - the resolver's scheduler (issue 15): wire queries that
 * wait for a slot go out by need, not by arrival.  The fixture server
 * answers on 127.0.0.1 at once; with one slot (max_inflight 1) each
 * query is sent only after the previous one was answered, so the order
 * the callbacks run in is the order the queries went out, and the
 * fixture's per-name counts say what was never sent.  No timing.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "fixture.h"
#include "spf.h"

static const char zone_text[] =
	"$TTL 300\n"
	"first.example.  IN A 192.0.2.1\n"
	"d3.example.     IN A 192.0.2.3\n"
	"d9.example.     IN A 192.0.2.4\n"
	"s1.example.     IN A 192.0.2.5\n"
	"s2.example.     IN A 192.0.2.6\n"
	"sx.example.     IN A 192.0.2.7\n"
	"left.example.   IN A 192.0.2.8\n"
	"drop.example.   IN A 192.0.2.9\n"
	"s4.example.     IN A 192.0.2.10\n"
	"plain.example.  IN A 192.0.2.11\n"
	/* two evaluations: a passes at its first a term, while its
	 * speculative lookup of h2 waits behind b's blocked lookup */
	"a.example.      IN TXT \"v=spf1 a:h1.example a:h2.example -all\"\n"
	"h1.example.     IN A 198.51.100.1\n"
	"h2.example.     IN A 198.51.100.2\n"
	"b.example.      IN TXT \"v=spf1 a:hb.example -all\"\n"
	"hb.example.     IN A 198.51.100.3\n";

struct world {
	struct event_base *base;
	spf_zone_t *zone;
	fixture_server_t *srv;
	spf_resolver_t *res;
};

static int teardown(void **state)
{
	struct world *w = *state;

	if (w == NULL)
		return 0;
	spf_resolver_destroy(w->res);
	fixture_stop(w->srv);
	spf_zone_destroy(w->zone);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
	return 0;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	char ns[64];
	const char *servers[] = { ns };
	spf_resolver_opts_t opts = { .nameservers = servers, .nnameservers = 1,
		.timeout_ms = 2000, .tries = 1, .max_inflight = 1 };

	*state = w;
	if (w == NULL)
		return -1;
	w->base = event_base_new();
	w->zone = spf_zone_create();
	if (w->base != NULL && w->zone != NULL &&
	    spf_zone_load_mem(w->zone, zone_text, sizeof(zone_text) - 1, "test",
	    NULL, NULL) == SPF_OK)
		w->srv = fixture_start(w->base, w->zone, "127.0.0.1", 0);
	if (w->srv != NULL) {
		snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)fixture_port(w->srv));
		w->res = spf_resolver_create_ex(w->base, &opts, NULL, NULL);
	}
	if (w->res == NULL) {
		teardown(state);
		*state = NULL;
		return -1;
	}
	return 0;
}

/* The order answers arrived in: names, comma-separated. */
struct order {
	char names[512];
	int n;
};

struct tag {
	struct order *o;
	const char *name;
};

static void record_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct tag *t = arg;
	size_t used = strlen(t->o->names);

	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	snprintf(t->o->names + used, sizeof(t->o->names) - used, "%s%s",
		used > 0 ? "," : "", t->name);
	t->o->n++;
}

static spf_dns_query_t *ask(struct world *w, struct tag *t, const char *name,
	spf_dns_class_t cls, uint64_t seq)
{
	spf_dns_query_t *q;

	t->name = name;
	q = spf_resolver_query_sched(w->res, name, SPF_RR_A, cls, seq,
		record_answer, t);
	assert_non_null(q);
	return q;
}

/*
 * With one slot: blocked lookups before speculative ones, the earlier
 * evaluation first within a class, whatever the arrival order; a
 * blocked lookup joining a queued speculative one lifts it, and when it
 * leaves again the flight falls back; a speculative lookup cancelled
 * while queued is never sent.
 */
static void test_order_by_need(void **state)
{
	struct world *w = *state;
	struct order o = { .names = "" };
	struct tag t[12];
	spf_dns_query_t *drop, *lift;
	int i = 0;

	for (size_t k = 0; k < 12; k++)
		t[k].o = &o;
	/* the slot is free: this one goes out at once */
	ask(w, &t[i++], "first.example", SPF_DNS_SPECULATIVE, 50);
	ask(w, &t[i++], "s1.example", SPF_DNS_SPECULATIVE, 1);
	ask(w, &t[i++], "s2.example", SPF_DNS_SPECULATIVE, 2);
	ask(w, &t[i++], "d9.example", SPF_DNS_DEMAND, 9);
	ask(w, &t[i++], "d3.example", SPF_DNS_DEMAND, 3);
	/* speculative of evaluation 4, then evaluation 20 blocks on it */
	ask(w, &t[i++], "sx.example", SPF_DNS_SPECULATIVE, 4);
	ask(w, &t[i++], "sx.example", SPF_DNS_DEMAND, 20);
	/* speculative of evaluation 5; evaluation 2 blocks on it, then is
	 * cancelled: back among the speculative ones */
	ask(w, &t[i++], "left.example", SPF_DNS_SPECULATIVE, 5);
	lift = ask(w, &t[i++], "left.example", SPF_DNS_DEMAND, 2);
	drop = ask(w, &t[i++], "drop.example", SPF_DNS_SPECULATIVE, 1);
	ask(w, &t[i++], "s4.example", SPF_DNS_SPECULATIVE, 4);
	spf_dns_query_cancel(lift);
	spf_dns_query_cancel(drop);
	while (o.n < 9)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_string_equal(o.names,
		"first.example,d3.example,d9.example,sx.example,sx.example,"
		"s1.example,s2.example,s4.example,left.example");
	assert_int_equal(fixture_count_for(w->srv, "drop.example", SPF_RR_A), 0);
	/* one wire query per name: the joined one rode along */
	assert_int_equal(fixture_query_count(w->srv), 8);
}

/* spf_resolver_query() (no class given): a blocked lookup of its own
 * number, after the evaluations numbered before it, ahead of every
 * speculative one. */
static void test_plain_query_rank(void **state)
{
	struct world *w = *state;
	struct order o = { .names = "" };
	struct tag t[4] = { { &o, "first.example" }, { &o, "s1.example" },
		{ &o, "d9.example" }, { &o, "plain.example" } };
	uint64_t seq;

	ask(w, &t[0], "first.example", SPF_DNS_DEMAND, 1);
	seq = spf_resolver_next_seq(w->res);
	ask(w, &t[1], "s1.example", SPF_DNS_SPECULATIVE, seq);
	assert_non_null(spf_resolver_query(w->res, "plain.example", SPF_RR_A,
		record_answer, &t[3]));
	ask(w, &t[2], "d9.example", SPF_DNS_DEMAND, seq);
	while (o.n < 4)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_string_equal(o.names, "first.example,d9.example,plain.example,s1.example");
}

static unsigned long wire_queries(struct world *w)
{
	spf_resolver_stats_t st;

	spf_resolver_stats(w->res, &st);
	return st.wire_queries;
}

/* spf_resolver_set_max_inflight() (policyd's Max_Queries_In_Flight on
 * SIGHUP): a raised cap sends the waiting queries at once; a lowered one
 * sends nothing more until fewer than it are out. */
static void test_cap_changed(void **state)
{
	struct world *w = *state;
	struct order o = { .names = "" };
	struct tag t[6];
	static const char *const names[6] = { "first.example", "d3.example",
		"d9.example", "s1.example", "s2.example", "s4.example" };

	for (size_t k = 0; k < 6; k++)
		t[k].o = &o;
	for (size_t k = 0; k < 3; k++)
		ask(w, &t[k], names[k], SPF_DNS_DEMAND, k + 1);
	assert_int_equal(wire_queries(w), 1);
	spf_resolver_set_max_inflight(w->res, 3);
	assert_int_equal(wire_queries(w), 3);
	spf_resolver_set_max_inflight(w->res, 1);
	for (size_t k = 3; k < 6; k++)
		ask(w, &t[k], names[k], SPF_DNS_DEMAND, k + 1);
	assert_int_equal(wire_queries(w), 3);
	while (o.n < 6)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_int_equal(wire_queries(w), 6);
	assert_string_equal(o.names + strlen(o.names) - strlen("s1.example,s2.example,s4.example"),
		"s1.example,s2.example,s4.example");
	/* 0: the default */
	assert_int_equal(spf_resolver_set_max_inflight(w->res, 0), SPF_DNS_MAX_INFLIGHT);
	assert_int_equal(wire_queries(w), 6);
}

struct job_done {
	int done;
	spf_result_t result;
};

static void on_done(spf_job_t *job, void *arg)
{
	struct job_done *d = arg;

	d->done++;
	d->result = spf_job_result(job);
}

/*
 * Two evaluations on one slot.  a (started first) speculatively looks
 * up h1 and h2 and blocks on h1; b blocks on hb.  When h1 is answered
 * the slot goes to b's blocked lookup of hb, not to a's speculative h2
 * that arrived before it; a then passes at h1, and h2, still queued, is
 * dropped: it never reaches the server.
 */
static void test_finished_speculation_dropped(void **state)
{
	struct world *w = *state;
	spf_request_t req = { .helo = "mx.example.org", .now = 1700000000 };
	struct job_done da = { 0 }, db = { 0 };
	spf_job_t *a, *b;

	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.sender = "u@a.example";
	a = spf_check_start(w->res, &req, on_done, &da, NULL);
	req.sender = "u@b.example";
	b = spf_check_start(w->res, &req, on_done, &db, NULL);
	assert_non_null(a);
	assert_non_null(b);
	while (da.done == 0 || db.done == 0)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_int_equal(da.result, SPF_RESULT_PASS);
	assert_int_equal(db.result, SPF_RESULT_FAIL);
	assert_int_equal(fixture_count_for(w->srv, "h1.example", SPF_RR_A), 1);
	assert_int_equal(fixture_count_for(w->srv, "hb.example", SPF_RR_A), 1);
	assert_int_equal(fixture_count_for(w->srv, "h2.example", SPF_RR_A), 0);
	spf_job_destroy(a);
	spf_job_destroy(b);
	/* nothing was left queued to go out later */
	for (int i = 0; i < 10; i++)
		event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(fixture_count_for(w->srv, "h2.example", SPF_RR_A), 0);
}

/* Without prefetch the same two evaluations send only what they block
 * on, in the order they started. */
static void test_no_prefetch_sends_demand_only(void **state)
{
	struct world *w = *state;
	spf_request_t req = { .helo = "mx.example.org", .now = 1700000000,
		.no_prefetch = true };
	struct job_done da = { 0 }, db = { 0 };
	spf_job_t *a, *b;

	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.sender = "u@a.example";
	a = spf_check_start(w->res, &req, on_done, &da, NULL);
	req.sender = "u@b.example";
	b = spf_check_start(w->res, &req, on_done, &db, NULL);
	assert_non_null(a);
	assert_non_null(b);
	while (da.done == 0 || db.done == 0)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_int_equal(da.result, SPF_RESULT_PASS);
	assert_int_equal(db.result, SPF_RESULT_FAIL);
	assert_int_equal(fixture_query_count(w->srv), 4);
	assert_int_equal(fixture_count_for(w->srv, "h2.example", SPF_RR_A), 0);
	spf_job_destroy(a);
	spf_job_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_by_need, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_query_rank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finished_speculation_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_prefetch_sends_demand_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_changed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
