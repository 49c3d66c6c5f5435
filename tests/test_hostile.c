/*
 * test_hostile.c - hostile DNS servers and resource bounds (issue 6).
 *
 * Each hostile mode of the fixture server (fixture.h) is driven through
 * the real resolver (c-ares, wire2answer.c, cache) and the evaluator, on
 * loopback only, and must give a defined answer and SPF result, keep the
 * memory of the evaluation bounded and not crash:
 *
 *   mode              DNS answer                     SPF result
 *   bad-id            TEMPFAIL "timeout" (c-ares     temperror
 *                     drops a reply with another ID)
 *   bad-question      TEMPFAIL "timeout" (c-ares     temperror
 *                     drops it too)
 *   wrong-type        NODATA (other types ignored)   none; a:NAME does not
 *                                                    match (a void lookup)
 *   bad-rdata         BADREPLY                       temperror
 *   cname-loop        TEMPFAIL "CNAME loop"          temperror
 *   huge-txt (64 KB)  OK over TCP, every record      the record's result
 *   many-mx (1000)    OK over TCP, 1000 records      permerror (RFC 7208
 *                                                    §4.6.4: over 10 MX)
 *   ptr-loop          BADREPLY "unparsable reply"    temperror
 *   garbled           BADREPLY "unparsable reply"    temperror
 *   short             TEMPFAIL "timeout" (c-ares     temperror
 *                     drops a reply shorter than a header)
 *   truncate-always   BADREPLY "truncated reply"     temperror
 *   late              TEMPFAIL "timeout"; the late   temperror
 *                     reply is ignored
 *
 * RFC 7208 §4.4 and §5: a DNS error other than "no such name" (a server
 * failure, a timeout, a reply that cannot be used) is temperror; CNAME
 * loops are such an error (RFC 1034 §3.6.2 calls them illegal), so they
 * are temperror too, not a void lookup.
 *
 * The resource-bound tests check that the evaluation deadline holds when
 * every answer is slow and that the memory of one evaluation
 * (spf_job_memory) stays under the bounds README "Limits and resource
 * bounds" documents, on hostile but valid record trees.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include "check.h"
#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "dns_internal.h"
#include "fixture.h"
#include "internal.h"
#include "spf.h"

#define GUARD_MS 10000
/* DNS timeouts: short where no usable reply comes (the test waits for
 * the timeout), long where a reply comes, so a loaded machine cannot turn
 * an answer into a timeout (the fixture runs on the same loop) */
#define DNS_TIMEOUT_MS 200
#define ANSWER_TIMEOUT_MS 2000
/* for the tests of big but well-formed replies (1000 MX over TCP): a
 * timeout that valgrind's slowdown cannot reach, as they test sizes, not
 * timing */
#define BIG_REPLY_TIMEOUT_MS 5000
/* bounds on spf_job_memory() (README "Limits and resource bounds") */
#define JOB_MEMORY_SMALL (256u * 1024)       /* hostile modes above */
#define JOB_MEMORY_TREE (1024u * 1024)       /* 10 includes x 4 KB, 10 MX x 10 */
#define JOB_MEMORY_WORST (32u * 1024 * 1024) /* 10 includes x 60 KB records */
/* the worst tree's own memory (spf_job_arena_memory(): not the shared
 * answers and parsed records), issue 21: the lean walk allocates nothing
 * per term; a full trace summarises runs past 2,000 terms */
#define JOB_ARENA_WORST_LEAN (64u * 1024)
#define JOB_ARENA_WORST_FULL (256u * 1024)
#define WORST_TRACE_NODES 200   /* nodes of the worst tree's full trace */

struct fx {
	struct event_base *base;
	spf_zone_t *zone;
	fixture_server_t *srv;
	spf_resolver_t *res;
	char ns[64];
};

/* ---- zone ---- */

static void add_mx(spf_zone_t *z, const char *name, uint16_t pref, const char *host)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_MX;
	rr.ttl = 300;
	rr.u.mx.preference = pref;
	rr.u.mx.exchange = host;
	assert_int_equal(spf_zone_add(z, name, &rr), SPF_OK);
}

static void add_addr(spf_zone_t *z, const char *name, uint8_t a, uint8_t b,
	uint8_t c, uint8_t d)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_A;
	rr.ttl = 300;
	rr.u.a[0] = a;
	rr.u.a[1] = b;
	rr.u.a[2] = c;
	rr.u.a[3] = d;
	assert_int_equal(spf_zone_add(z, name, &rr), SPF_OK);
}

/* 192.0.b2.b3 */
static void add_a(spf_zone_t *z, const char *name, uint8_t b2, uint8_t b3)
{
	add_addr(z, name, 192, 0, b2, b3);
}

static void add_txt(spf_zone_t *z, const char *name, const char *text)
{
	assert_int_equal(spf_zone_replace_txt(z, name, text, strlen(text)), SPF_OK);
}

/* Each hostile domain: a record, an address and a mail exchanger. */
static const char *const hostile_names[] = {
	"bad-id.test", "bad-question.test", "wrong-type.test", "bad-rdata.test",
	"cname-loop.test", "huge-txt.test", "many-mx.test", "ptr-loop.test",
	"garbled.test", "short.test", "truncate-always.test", "late.test",
};

static void fill_zone(spf_zone_t *z)
{
	char buf[128];

	add_a(z, "ok.test", 2, 1);
	add_txt(z, "ok.test", "v=spf1 ip4:192.0.2.1 -all");
	/* the explanation's server is silent (fx_setup: FIX_DROP) */
	add_txt(z, "exp.test", "v=spf1 exp=why.exp.test -all");
	add_txt(z, "why.exp.test", "%{d} published this explanation");
	for (size_t i = 0; i < sizeof hostile_names / sizeof hostile_names[0]; i++) {
		const char *n = hostile_names[i];
		char rec[300];

		add_txt(z, n, "v=spf1 ip4:192.0.2.1 -all");
		add_a(z, n, 2, 1);
		add_mx(z, n, 10, "ok.test");
		/* domains that reach it by include, a and mx */
		snprintf(buf, sizeof buf, "inc.%s", n);
		snprintf(rec, sizeof rec, "v=spf1 include:%s -all", n);
		add_txt(z, buf, rec);
		snprintf(buf, sizeof buf, "a.%s", n);
		snprintf(rec, sizeof rec, "v=spf1 a:%s -all", n);
		add_txt(z, buf, rec);
		snprintf(buf, sizeof buf, "mx.%s", n);
		snprintf(rec, sizeof rec, "v=spf1 mx:%s -all", n);
		add_txt(z, buf, rec);
	}
}

static void fx_resolver(struct fx *f, unsigned timeout_ms)
{
	const char *ns[1] = { f->ns };
	spf_resolver_opts_t o = {
		.nameservers = ns, .nnameservers = 1,
		.timeout_ms = timeout_ms, .tries = 1,
	};

	spf_resolver_destroy(f->res);
	f->res = spf_resolver_create(f->base, &o);
	assert_non_null(f->res);
}

static int fx_teardown(void **state);

/* a set-up that failed half-way frees what it made */
static int fx_setup_failed(void **state)
{
	fx_teardown(state);
	*state = NULL;
	return -1;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	*state = f;
	if (f == NULL)
		return -1;
	f->base = event_base_new();
	f->zone = spf_zone_create();
	if (f->base == NULL || f->zone == NULL)
		return fx_setup_failed(state);
	fill_zone(f->zone);
	f->srv = fixture_start(f->base, f->zone, "127.0.0.1", 0);
	if (f->srv == NULL)
		return fx_setup_failed(state);
	for (size_t i = 0; i < sizeof hostile_names / sizeof hostile_names[0]; i++) {
		char word[64];
		fixture_mode_t mode;

		snprintf(word, sizeof word, "%s", hostile_names[i]);
		*strstr(word, ".test") = '\0';
		if (fixture_mode_parse(word, &mode) != 0
		    || fixture_set_mode(f->srv, hostile_names[i], mode) != 0)
			return fx_setup_failed(state);
	}
	if (fixture_set_mode(f->srv, "why.exp.test", FIX_DROP) != 0)
		return fx_setup_failed(state);
	fixture_set_late(f->srv, 3 * DNS_TIMEOUT_MS / 2);
	snprintf(f->ns, sizeof f->ns, "127.0.0.1:%u", (unsigned)fixture_port(f->srv));
	fx_resolver(f, DNS_TIMEOUT_MS);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	spf_resolver_destroy(f->res);
	fixture_stop(f->srv);
	spf_zone_destroy(f->zone);
	if (f->base != NULL)
		event_base_free(f->base);
	free(f);
	return 0;
}

/* ---- running the loop ---- */

static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Run the loop until the fixture has sent every reply it held back
 * (late or delayed), then one more non-blocking turn so whatever the
 * resolver's sockets got is read; fails the test after GUARD_MS. */
static void run_until_sent(struct fx *f)
{
	bool expired = false;
	struct timeval tv = { GUARD_MS / 1000, (GUARD_MS % 1000) * 1000 };
	struct event *guard = evtimer_new(f->base, on_guard, &expired);

	assert_non_null(guard);
	evtimer_add(guard, &tv);
	while (fixture_pending(f->srv) > 0 && !expired)
		if (event_base_loop(f->base, EVLOOP_ONCE) != 0)
			break;
	event_free(guard);
	assert_false(expired);
	assert_int_equal(fixture_pending(f->srv), 0);
	event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

struct got {
	bool done;
	int *left;                   /* counted down when done, if set */
	spf_dns_status_t status;
	size_t count;
	char detail[128];
	size_t txtlen;
};

static void on_got(const spf_dns_answer_t *ans, void *arg)
{
	struct got *g = arg;

	g->status = spf_dns_answer_status(ans);
	g->count = spf_dns_answer_count(ans);
	snprintf(g->detail, sizeof g->detail, "%s",
		spf_dns_answer_detail(ans) ? spf_dns_answer_detail(ans) : "");
	if (g->status == SPF_DNS_OK && spf_dns_answer_type(ans) == SPF_RR_TXT)
		for (size_t i = 0; i < g->count; i++)
			g->txtlen += spf_dns_answer_rr(ans, i)->u.txt.len;
	g->done = true;
	if (g->left != NULL && --*g->left == 0)
		*g->left = -1;       /* all done: see test_hostile_storm */
}

static struct got ask(struct fx *f, const char *name, uint16_t type)
{
	struct got g = { 0 };

	assert_non_null(spf_resolver_query(f->res, name, type, on_got, &g));
	env_wait_for(f->base, &g.done, GUARD_MS);
	return g;
}

struct run {
	bool done;
};

static void on_job(spf_job_t *job, void *arg)
{
	(void)job;
	((struct run *)arg)->done = true;
}

/* Evaluate sender from ip on res; the finished job (caller destroys). */
static spf_job_t *evaluate_on(struct event_base *base, spf_resolver_t *res,
	const char *ip, const char *sender, unsigned deadline_ms)
{
	spf_request_t req = { 0 };
	struct run r = { false };
	spf_job_t *job;

	assert_true(spf_addr_parse(ip, &req.ip));
	req.sender = sender;
	req.helo = "helo.test";
	req.now = 1700000000;
	req.deadline_ms = deadline_ms;
	job = spf_check_start(res, &req, on_job, &r, NULL);
	assert_non_null(job);
	env_wait_for(base, &r.done, GUARD_MS);
	assert_true(spf_job_done(job));
	return job;
}

static spf_result_t evaluate(struct fx *f, const char *sender, size_t *memory)
{
	spf_job_t *job = evaluate_on(f->base, f->res, "192.0.2.1", sender, 0);
	spf_result_t r = spf_job_result(job);

	print_message("  %-28s %-9s %s (%zu bytes)\n", sender, spf_result_str(r),
		spf_job_problem(job) ? spf_job_problem(job) : "", spf_job_memory(job));
	if (memory != NULL)
		*memory = spf_job_memory(job);
	assert_true(spf_job_memory(job) < JOB_MEMORY_SMALL);
	spf_job_destroy(job);
	return r;
}

/* ---- hostile modes ---- */

struct hostile_case {
	const char *name;
	uint16_t type;
	spf_dns_status_t status;
	const char *detail;          /* NULL: any */
	spf_result_t direct;         /* u@NAME */
	spf_result_t included;       /* u@inc.NAME: include:NAME -all */
};

static const struct hostile_case hostile_cases[] = {
	{ "bad-id.test", SPF_RR_TXT, SPF_DNS_TEMPFAIL, "timeout",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "bad-question.test", SPF_RR_TXT, SPF_DNS_TEMPFAIL, "timeout",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "wrong-type.test", SPF_RR_TXT, SPF_DNS_NODATA, "",
	  SPF_RESULT_NONE, SPF_RESULT_PERMERROR },
	{ "bad-rdata.test", SPF_RR_TXT, SPF_DNS_BADREPLY, NULL,
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "cname-loop.test", SPF_RR_TXT, SPF_DNS_TEMPFAIL, "CNAME loop",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	/* huge-txt: test_hostile_huge_txt, with a timeout that allows for
	 * valgrind */
	{ "ptr-loop.test", SPF_RR_TXT, SPF_DNS_BADREPLY, "unparsable reply",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "garbled.test", SPF_RR_TXT, SPF_DNS_BADREPLY, "unparsable reply",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "short.test", SPF_RR_TXT, SPF_DNS_TEMPFAIL, "timeout",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "truncate-always.test", SPF_RR_TXT, SPF_DNS_BADREPLY, "truncated reply",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
	{ "late.test", SPF_RR_TXT, SPF_DNS_TEMPFAIL, "timeout",
	  SPF_RESULT_TEMPERROR, SPF_RESULT_TEMPERROR },
};

/* Every mode through the resolver, then through the evaluator directly
 * and by include; nothing that failed is cached. */
static void test_hostile_table(void **state)
{
	struct fx *f = *state;
	spf_resolver_stats_t st;
	char sender[128];

	for (size_t i = 0; i < sizeof hostile_cases / sizeof hostile_cases[0]; i++) {
		const struct hostile_case *c = &hostile_cases[i];
		struct got g;

		fx_resolver(f, c->detail != NULL && strcmp(c->detail, "timeout") == 0 ?
			DNS_TIMEOUT_MS : ANSWER_TIMEOUT_MS);
		g = ask(f, c->name, c->type);

		print_message("%s %s: %s \"%s\"\n", c->name, spf_rrtype_str(c->type),
			spf_dns_status_str(g.status), g.detail);
		assert_int_equal(g.status, c->status);
		if (c->detail != NULL)
			assert_string_equal(g.detail, c->detail);
		snprintf(sender, sizeof sender, "u@%s", c->name);
		assert_int_equal(evaluate(f, sender, NULL), c->direct);
		snprintf(sender, sizeof sender, "u@inc.%s", c->name);
		assert_int_equal(evaluate(f, sender, NULL), c->included);
	}
	spf_resolver_stats(f->res, &st);
	print_message("cache entries %zu\n", st.cache_entries);
	/* the hostile ones were asked again each time: never cached */
	assert_true(fixture_count_for(f->srv, "bad-id.test", SPF_RR_TXT) >= 3);
	assert_true(fixture_count_for(f->srv, "ptr-loop.test", SPF_RR_TXT) >= 3);
	assert_true(fixture_count_for(f->srv, "garbled.test", SPF_RR_TXT) >= 3);
}

/* Other types: A and MX of the modes that act on every type. */
static void test_hostile_types(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name;
		uint16_t type;
		spf_dns_status_t status;
	} cases[] = {
		{ "wrong-type.test", SPF_RR_A, SPF_DNS_NODATA },
		{ "wrong-type.test", SPF_RR_MX, SPF_DNS_NODATA },
		{ "bad-rdata.test", SPF_RR_A, SPF_DNS_BADREPLY },
		{ "bad-rdata.test", SPF_RR_MX, SPF_DNS_BADREPLY },
		{ "bad-rdata.test", SPF_RR_AAAA, SPF_DNS_BADREPLY },
		{ "ptr-loop.test", SPF_RR_A, SPF_DNS_BADREPLY },
		{ "garbled.test", SPF_RR_MX, SPF_DNS_BADREPLY },
		{ "cname-loop.test", SPF_RR_A, SPF_DNS_TEMPFAIL },
		{ "many-mx.test", SPF_RR_A, SPF_DNS_OK },
		{ "huge-txt.test", SPF_RR_A, SPF_DNS_OK },
	};

	fx_resolver(f, ANSWER_TIMEOUT_MS);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct got g = ask(f, cases[i].name, cases[i].type);

		print_message("%s %s: %s \"%s\"\n", cases[i].name,
			spf_rrtype_str(cases[i].type), spf_dns_status_str(g.status), g.detail);
		assert_int_equal(g.status, cases[i].status);
	}
	/* a:NAME with the wrong type: a void lookup, no match, -all */
	assert_int_equal(evaluate(f, "u@a.wrong-type.test", NULL), SPF_RESULT_FAIL);
	/* a:NAME, mx:NAME on unusable replies: temperror */
	assert_int_equal(evaluate(f, "u@a.bad-rdata.test", NULL), SPF_RESULT_TEMPERROR);
	assert_int_equal(evaluate(f, "u@mx.ptr-loop.test", NULL), SPF_RESULT_TEMPERROR);
	assert_int_equal(evaluate(f, "u@a.cname-loop.test", NULL), SPF_RESULT_TEMPERROR);
}

/* 64 KB of TXT: truncated over UDP, whole over TCP, one v=spf1 among
 * the junk; the evaluation's memory does not grow with it. */
static void test_hostile_huge_txt(void **state)
{
	struct fx *f = *state;
	struct got g;
	size_t mem = 0;

	fx_resolver(f, BIG_REPLY_TIMEOUT_MS);
	g = ask(f, "huge-txt.test", SPF_RR_TXT);

	print_message("%zu records, %zu bytes of text\n", g.count, g.txtlen);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_true(g.count > 200);
	assert_true(g.txtlen > 50000);
	/* once over UDP (TC=1), once over TCP */
	assert_int_equal(fixture_count_for(f->srv, "huge-txt.test", SPF_RR_TXT), 2);
	assert_int_equal(evaluate(f, "u@huge-txt.test", &mem), SPF_RESULT_PASS);
	assert_int_equal(evaluate(f, "u@inc.huge-txt.test", NULL), SPF_RESULT_PASS);
}

/* 1000 MX records: delivered (over TCP), then permerror (RFC 7208
 * §4.6.4: more than 10 MX names) without looking any of them up. */
static void test_hostile_many_mx(void **state)
{
	struct fx *f = *state;
	struct got g;
	spf_job_t *job;

	fx_resolver(f, BIG_REPLY_TIMEOUT_MS);
	g = ask(f, "many-mx.test", SPF_RR_MX);

	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(g.count, 1000);
	fixture_clear_log(f->srv);
	job = evaluate_on(f->base, f->res, "192.0.2.1", "u@mx.many-mx.test", 0);
	print_message("%s: %s\n", spf_result_str(spf_job_result(job)), spf_job_problem(job));
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_non_null(strstr(spf_job_problem(job), "1000 MX names"));
	assert_true(spf_job_memory(job) < JOB_MEMORY_SMALL);
	spf_job_destroy(job);
	/* no host of the 1000 was looked up */
	assert_int_equal(fixture_count_for(f->srv, "m0.many-mx.test", SPF_RR_A), 0);
	assert_int_equal(fixture_count_for(f->srv, "m999.many-mx.test", SPF_RR_A), 0);
}

/* A reply that comes after c-ares gave up is dropped, and the next query
 * for the same name on the same resolver gets its own answer. */
static void test_hostile_late(void **state)
{
	struct fx *f = *state;
	struct got g;

	/* one resolver throughout, with a timeout long enough for the normal
	 * answers and shorter than the late delay */
	fx_resolver(f, 1000);
	fixture_set_late(f->srv, 1500);
	g = ask(f, "late.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_string_equal(g.detail, "timeout");
	/* the late reply goes out now, to nobody: wait until it has gone,
	 * then give the loop a turn to read (and drop) it */
	run_until_sent(f);
	assert_int_equal(fixture_set_mode(f->srv, "late.test", FIX_NORMAL), 0);
	g = ask(f, "late.test", SPF_RR_TXT);
	assert_int_equal(g.status, SPF_DNS_OK);
	assert_int_equal(g.count, 1);
	/* and a bad-ID reply does not poison a later good query either */
	g = ask(f, "bad-id.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_TEMPFAIL);
	assert_int_equal(fixture_set_mode(f->srv, "bad-id.test", FIX_NORMAL), 0);
	g = ask(f, "bad-id.test", SPF_RR_A);
	assert_int_equal(g.status, SPF_DNS_OK);
}

/* Many hostile lookups at once, with the fixture slow: every query is
 * answered, none twice, and the resolver still works afterwards. */
#define NSTORM 60

static void test_hostile_storm(void **state)
{
	struct fx *f = *state;
	const size_t nnames = sizeof hostile_names / sizeof hostile_names[0];
	struct got g[NSTORM];
	int left = NSTORM;
	bool all = false;
	struct got ok;

	memset(g, 0, sizeof g);
	fixture_set_latency(f->srv, 20);
	for (int i = 0; i < NSTORM; i++) {
		int k = i / (int)nnames % 3;
		uint16_t t = k == 0 ? SPF_RR_TXT : k == 1 ? SPF_RR_A : SPF_RR_MX;

		g[i].left = &left;
		assert_non_null(spf_resolver_query(f->res, hostile_names[(size_t)i % nnames],
			t, on_got, &g[i]));
	}
	/* on_got sets left to -1 after the last answer */
	while (!all) {
		bool step = false;

		for (int i = 0; i < NSTORM && !step; i++)
			if (!g[i].done) {
				env_wait_for(f->base, &g[i].done, GUARD_MS);
				step = true;
			}
		all = !step;
	}
	assert_int_equal(left, -1);
	fixture_set_latency(f->srv, 0);
	fx_resolver(f, ANSWER_TIMEOUT_MS);
	ok = ask(f, "ok.test", SPF_RR_TXT);
	assert_int_equal(ok.status, SPF_DNS_OK);
}

/* ---- the explanation never changes the result (RFC 7208 §6.2) ---- */

#define EXP_DEFAULT "default for %{d}"

/* Evaluate u@exp.test from 192.0.2.9 with the default explanation
 * EXP_DEFAULT; the finished job (caller destroys). */
static spf_job_t *evaluate_exp(struct event_base *base, spf_resolver_t *res,
	unsigned deadline_ms)
{
	spf_request_t req = { 0 };
	struct run r = { false };
	spf_job_t *job;

	assert_true(spf_addr_parse("192.0.2.9", &req.ip));
	req.sender = "u@exp.test";
	req.now = 1700000000;
	req.deadline_ms = deadline_ms;
	req.default_explanation = EXP_DEFAULT;
	job = spf_check_start(res, &req, on_job, &r, NULL);
	assert_non_null(job);
	env_wait_for(base, &r.done, GUARD_MS);
	print_message("deadline %u: %s, explanation \"%s\", problem %s\n", deadline_ms,
		spf_result_str(spf_job_result(job)),
		spf_job_explanation(job) ? spf_job_explanation(job) : "(none)",
		spf_job_problem(job) ? spf_job_problem(job) : "(none)");
	return job;
}

/* The trace's top-level note containing text, or NULL. */
static const spf_trace_t *trace_note_with(const spf_job_t *job, const char *text)
{
	for (const spf_trace_t *t = spf_job_trace(job)->first; t != NULL; t = t->next)
		if (t->kind == SPF_TRACE_NOTE && strstr(t->label, text) != NULL)
			return t;
	return NULL;
}

/* The job failed on -all with the default explanation and no problem. */
static void assert_default_fail(const spf_job_t *job)
{
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_string_equal(spf_job_mechanism(job), "-all");
	assert_non_null(spf_job_explanation(job));
	assert_string_equal(spf_job_explanation(job), "default for exp.test");
	assert_null(spf_job_problem(job));
}

/* f->res decides from what it has at hand, then asks the silent server
 * for the explanation: the 500 ms deadline ends the wait, the result
 * stays fail with the default explanation and the trace says why. */
static void exp_past_deadline(struct fx *f)
{
	spf_job_t *job;

	fixture_clear_log(f->srv);
	job = evaluate_exp(f->base, f->res, 500);
	assert_default_fail(job);
	assert_non_null(trace_note_with(job, "while fetching the explanation"));
	spf_job_destroy(job);
	/* it was asked, and never answered */
	assert_int_equal(fixture_count_for(f->srv, "why.exp.test", SPF_RR_TXT), 1);
}

/* Over the wire, the exp= name's server silent: a DNS timeout shorter
 * than the deadline is a DNS error (the default explanation); a DNS
 * timeout longer than the deadline ends at the deadline, and the result
 * stays fail with the default explanation, not temperror. */
static void test_exp_silent_wire(void **state)
{
	struct fx *f = *state;
	spf_job_t *job;

	/* default options: the 20 s deadline outlives the DNS timeout */
	job = evaluate_exp(f->base, f->res, 0);
	assert_default_fail(job);
	assert_null(trace_note_with(job, "deadline"));
	spf_job_destroy(job);
	assert_true(fixture_count_for(f->srv, "why.exp.test", SPF_RR_TXT) >= 1);

	/* the DNS would wait 60 s; the deadline comes first.  The record is
	 * asked first so the result is decided from the cache at once and
	 * only the explanation waits. */
	fx_resolver(f, 60000);
	assert_int_equal(ask(f, "exp.test", SPF_RR_TXT).status, SPF_DNS_OK);
	exp_past_deadline(f);
}

/* The record from the in-memory zone: offline with the exp= name a
 * timeout (the RFC 7208 suite's TIMEOUT), and online with the record in
 * the resolver's zone and only the exp= name asked of the silent server. */
static void test_exp_silent_memory(void **state)
{
	struct fx *f = *state;
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(f->base, &o);
	spf_job_t *job;

	assert_non_null(res);
	add_txt(spf_resolver_zone(res), "exp.test", "v=spf1 exp=why.exp.test -all");
	assert_int_equal(spf_zone_set_timeout(spf_resolver_zone(res), "why.exp.test"), SPF_OK);
	job = evaluate_exp(f->base, res, 0);
	assert_default_fail(job);
	spf_job_destroy(job);
	job = evaluate_exp(f->base, res, 500);
	assert_default_fail(job);
	spf_job_destroy(job);
	spf_resolver_destroy(res);

	/* the zone overlay answers exp.test; why.exp.test goes to the wire */
	fx_resolver(f, 60000);
	add_txt(spf_resolver_zone(f->res), "exp.test", "v=spf1 exp=why.exp.test -all");
	exp_past_deadline(f);
	assert_int_equal(fixture_count_for(f->srv, "exp.test", SPF_RR_TXT), 0);
}

/* The same exp= name answered: its text is the explanation (the tests
 * above fail for the right reason). */
static void test_exp_answered(void **state)
{
	struct fx *f = *state;
	spf_job_t *job;

	assert_int_equal(fixture_set_mode(f->srv, "why.exp.test", FIX_NORMAL), 0);
	job = evaluate_exp(f->base, f->res, 500);
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_string_equal(spf_job_explanation(job), "exp.test published this explanation");
	spf_job_destroy(job);
}

/* ---- resource bounds ---- */

/*
 * The deadline tests assert no upper bound on the time (a loaded machine
 * may be slow), only that the deadline never fires early: it is measured
 * from spf_check_start() on the precise monotonic clock, and t0 is read
 * before that call.  A guard of GUARD_MS fails a test that hangs.
 */

/* Every answer slower than the deadline: temperror at the deadline. */
static void test_deadline_slow_answers(void **state)
{
	struct fx *f = *state;
	spf_job_t *job;
	double t0, ms;
	const unsigned deadline = 300;

	fx_resolver(f, 5000);                  /* DNS would wait longer */
	fixture_set_latency(f->srv, 2000);
	t0 = now_ms();
	job = evaluate_on(f->base, f->res, "192.0.2.1", "u@ok.test", deadline);
	ms = now_ms() - t0;
	print_message("deadline %u ms: %s after %.0f ms (%s)\n", deadline,
		spf_result_str(spf_job_result(job)), ms, spf_job_problem(job));
	assert_int_equal(spf_job_result(job), SPF_RESULT_TEMPERROR);
	assert_non_null(strstr(spf_job_problem(job), "did not finish within 300 ms"));
	assert_true(ms >= deadline);
	spf_job_destroy(job);
	fixture_set_latency(f->srv, 0);
}

/* Every answer slow but within the DNS timeout: a chain of includes
 * that would take 12 x 150 ms stops at the deadline. */
static void test_deadline_slow_chain(void **state)
{
	struct fx *f = *state;
	spf_job_t *job;
	double t0, ms;
	const unsigned deadline = 400;
	char name[64], rec[128];

	for (int i = 0; i < 9; i++) {
		snprintf(name, sizeof name, "c%d.chain.test", i);
		snprintf(rec, sizeof rec, "v=spf1 include:c%d.chain.test -all", i + 1);
		add_txt(f->zone, name, rec);
	}
	add_txt(f->zone, "c9.chain.test", "v=spf1 ip4:192.0.2.1 -all");
	fx_resolver(f, 1000);
	fixture_set_latency(f->srv, 150);
	t0 = now_ms();
	job = evaluate_on(f->base, f->res, "192.0.2.1", "u@c0.chain.test", deadline);
	ms = now_ms() - t0;
	print_message("deadline %u ms: %s after %.0f ms, %u lookups (%s)\n", deadline,
		spf_result_str(spf_job_result(job)), ms, spf_job_lookups(job),
		spf_job_problem(job));
	assert_int_equal(spf_job_result(job), SPF_RESULT_TEMPERROR);
	assert_non_null(strstr(spf_job_problem(job), "did not finish within 400 ms"));
	assert_true(ms >= deadline);
	/* stopped part-way: all 9 includes take 10 answers of 150 ms */
	assert_true(spf_job_lookups(job) < 9);
	spf_job_destroy(job);
	/* without the deadline it passes: the tree itself is fine */
	job = evaluate_on(f->base, f->res, "192.0.2.1", "u@c0.chain.test", 10000);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	spf_job_destroy(job);
	fixture_set_latency(f->srv, 0);
}

/* A record of about len bytes of ip4 terms that do not match 198.51.100.1. */
static void long_record(char *buf, size_t size, size_t len, unsigned seed)
{
	size_t n = (size_t)snprintf(buf, size, "v=spf1");

	for (unsigned i = 0; n + 24 < size && n < len; i++)
		n += (size_t)snprintf(buf + n, size - n, " ip4:10.%u.%u.%u",
			(seed + i / 65536) % 256, (i / 256) % 256, i % 256);
	snprintf(buf + n, size - n, " ~all");
}

/* The memory of one evaluation (offline, from a zone) of the record
 * tree at sender, which must give want. */
static size_t tree_memory(spf_resolver_t *res, struct event_base *base,
	const char *sender, spf_result_t want, bool lean)
{
	spf_request_t req = { 0 };
	spf_job_t *job;
	size_t mem;

	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.sender = sender;
	req.now = 1700000000;
	req.lean_trace = lean;
	(void)base;
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	print_message("%-22s %s: %s, %u lookups, %zu bytes\n", sender,
		lean ? "lean " : "trace", spf_result_str(spf_job_result(job)),
		spf_job_lookups(job), spf_job_memory(job));
	assert_int_equal(spf_job_result(job), want);
	mem = spf_job_memory(job);
	spf_job_destroy(job);
	return mem;
}

/* The worst a record tree can be (a DNS message holds at most 64 KB):
 * worst.tree.test includes w0 ... w9.tree.test, records of about 60 KB
 * of ip4 terms (long_record() with seeds 0 ... 9), then -all. */
static void add_include_tree(spf_zone_t *z, const char *top_name,
	char prefix, size_t len)
{
	static char rec[64000];
	char name[64], top[1024];
	size_t n = (size_t)snprintf(top, sizeof top, "v=spf1");

	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "%c%d.tree.test", prefix, i);
		long_record(rec, sizeof rec, len, (unsigned)i);
		add_txt(z, name, rec);
		n += (size_t)snprintf(top + n, sizeof top - n, " include:%s", name);
	}
	snprintf(top + n, sizeof top - n, " -all");
	add_txt(z, top_name, top);
}

static void add_worst_tree(spf_zone_t *z)
{
	add_include_tree(z, "worst.tree.test", 'w', 60000);
}


/* The job's own memory for the worst tree (warm: the records parsed). */
static size_t worst_arena(spf_resolver_t *res, bool lean)
{
	spf_request_t req = { 0 };
	spf_job_t *job;
	size_t mem;

	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.sender = "u@worst.tree.test";
	req.now = 1700000000;
	req.lean_trace = lean;
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	mem = spf_job_arena_memory(job);
	print_message("u@worst.tree.test      %s: own memory %zu bytes\n",
		lean ? "lean " : "trace", mem);
	spf_job_destroy(job);
	return mem;
}

static void test_memory_bounded(void **state)
{
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(base, &o);
	spf_zone_t *z = spf_resolver_zone(res);
	char name[64], top[1024];
	size_t n, mem;

	(void)state;
	/* 10 includes, each a record of about 4 KB (no lookups) */
	add_include_tree(z, "includes.tree.test", 'i', 4000);

	/* 10 mx terms, each 10 hosts with 10 addresses */
	n = (size_t)snprintf(top, sizeof top, "v=spf1");
	for (int i = 0; i < 10; i++) {
		char host[96];

		snprintf(name, sizeof name, "m%d.tree.test", i);
		n += (size_t)snprintf(top + n, sizeof top - n, " mx:%s", name);
		for (int j = 0; j < 10; j++) {
			snprintf(host, sizeof host, "h%d.%s", j, name);
			add_mx(z, name, (uint16_t)j, host);
			for (int k = 0; k < 10; k++)
				add_addr(z, host, 10, (uint8_t)i, (uint8_t)j, (uint8_t)k);
		}
	}
	snprintf(top + n, sizeof top - n, " -all");
	add_txt(z, "mx.tree.test", top);

	add_worst_tree(z);

	mem = tree_memory(res, base, "u@includes.tree.test", SPF_RESULT_FAIL, false);
	assert_true(mem < JOB_MEMORY_TREE);
	mem = tree_memory(res, base, "u@includes.tree.test", SPF_RESULT_FAIL, true);
	assert_true(mem < JOB_MEMORY_TREE);
	mem = tree_memory(res, base, "u@mx.tree.test", SPF_RESULT_FAIL, false);
	assert_true(mem < JOB_MEMORY_TREE);
	mem = tree_memory(res, base, "u@mx.tree.test", SPF_RESULT_FAIL, true);
	assert_true(mem < JOB_MEMORY_TREE);
	mem = tree_memory(res, base, "u@worst.tree.test", SPF_RESULT_FAIL, false);
	assert_true(mem < JOB_MEMORY_WORST);
	mem = tree_memory(res, base, "u@worst.tree.test", SPF_RESULT_FAIL, true);
	assert_true(mem < JOB_MEMORY_WORST);
	assert_true(worst_arena(res, false) < JOB_ARENA_WORST_FULL);
	assert_true(worst_arena(res, true) < JOB_ARENA_WORST_LEAN);

	spf_resolver_destroy(res);
	event_base_free(base);
}

/* explain's trace goes on past the lookup limit, into an include whose
 * server is silent: the deadline ends the picture, and the result stays
 * the limit's permerror with the limit's counts, as check gives at once
 * (issue 12: explain and check tell the same story). */
static void test_deadline_past_limit(void **state)
{
	struct fx *f = *state;
	spf_request_t req = { 0 };
	spf_zone_t *z;
	spf_job_t *job;

	fx_resolver(f, 60000);
	z = spf_resolver_zone(f->res);
	add_a(z, "h.lim.test", 2, 7);
	/* 11 a terms: the 11th is over the limit; the include is asked of
	 * the silent server (why.exp.test: FIX_DROP) only past it */
	add_txt(z, "lim.test", "v=spf1 a:h.lim.test a:h.lim.test a:h.lim.test "
		"a:h.lim.test a:h.lim.test a:h.lim.test a:h.lim.test a:h.lim.test "
		"a:h.lim.test a:h.lim.test a:h.lim.test include:why.exp.test -all");
	assert_true(spf_addr_parse("192.0.2.9", &req.ip));
	req.sender = "u@lim.test";
	req.deadline_ms = 500;
	for (int past = 0; past < 2; past++) {
		struct run r = { false };

		req.trace_past_limits = past;
		job = spf_check_start(f->res, &req, on_job, &r, NULL);
		assert_non_null(job);
		env_wait_for(f->base, &r.done, GUARD_MS);
		assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
		assert_string_equal(spf_job_mechanism(job), "a:h.lim.test");
		assert_non_null(strstr(spf_job_problem(job), "is number 11"));
		assert_int_equal(spf_job_lookups(job), 11);
		assert_int_equal(spf_job_trace(job)->lookups, 11);
		assert_int_equal(spf_job_trace(job)->result, SPF_RESULT_PERMERROR);
		/* only the picture went to the silent server, and waited */
		assert_true((trace_note_with(job, "deadline of 500 ms reached") != NULL) == past);
		spf_job_destroy(job);
	}
}

/*
 * Issue 22: 10 mx terms, each MX name with 10 hosts, each host with
 * 4,000 addresses (a 64 KB answer).  RFC 7208 allows these 100 host
 * lookups; a job used to keep all 100 answers (about 16 MB) until it was
 * destroyed, uncounted.  Now it keeps whether the client matched and
 * lets each answer go on arrival: its counted memory stays small, far
 * under the budget; with a budget below what it needs the result is
 * temperror (the receiver declines the cost), not permerror.
 */
static void test_big_mx_tree(void **state)
{
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(base, &o);
	spf_zone_t *z = spf_resolver_zone(res);
	spf_request_t req = { 0 };
	spf_job_t *job;
	char name[64], host[64], top[512];
	size_t n;

	(void)state;
	n = (size_t)snprintf(top, sizeof top, "v=spf1");
	for (int i = 0; i < 10; i++) {
		snprintf(name, sizeof name, "m%d.bigmx.test", i);
		n += (size_t)snprintf(top + n, sizeof top - n, " mx:%s", name);
		for (int j = 0; j < 10; j++) {
			snprintf(host, sizeof host, "h%d.bigmx.test", j);
			add_mx(z, name, (uint16_t)j, host);
		}
	}
	snprintf(top + n, sizeof top - n, " -all");
	add_txt(z, "bigmx.test", top);
	for (int j = 0; j < 10; j++) {
		snprintf(host, sizeof host, "h%d.bigmx.test", j);
		for (int k = 0; k < 4000; k++)
			add_addr(z, host, 10, (uint8_t)j, (uint8_t)(k / 256), (uint8_t)(k % 256));
	}
	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.sender = "u@bigmx.test";
	req.now = 1700000000;
	for (int lean = 0; lean < 2; lean++) {
		req.lean_trace = lean;
		job = spf_check_sync(res, &req, NULL);
		assert_non_null(job);
		print_message("bigmx %s: %s, %u lookups, %zu bytes\n", lean ? "lean " : "trace",
			spf_result_str(spf_job_result(job)), spf_job_lookups(job),
			spf_job_memory(job));
		assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
		assert_int_equal(spf_job_lookups(job), 10);
		assert_true(spf_job_memory(job) < JOB_MEMORY_SMALL);
		assert_true(spf_job_memory(job) < SPF_JOB_MEMORY_BUDGET);
		spf_job_destroy(job);
	}
	/* flatten (the lint walk keeps the answers it reads: 100 of 4,000
	 * addresses) gives a short chain; with a budget under what the walk
	 * keeps it stops with SPF_ETOOBIG */
	{
		spf_lint_request_t lr = { .domain = "bigmx.test" };
		spf_status_t st;
		spf_lint_t *lint = spf_lint_run(res, &lr, &st);
		spf_flat_t *flat = NULL;
		char why[SPF_FLATTEN_WHY_SIZE];
		spf_flatten_opts_t fo = { 0 };

		assert_non_null(lint);
		assert_int_equal(spf_flatten(lint, &fo, &flat, why, sizeof(why)), SPF_OK);
		print_message("bigmx flatten: %zu records, %u lookups\n",
			spf_flat_record_count(flat), spf_flat_lookups(flat));
		assert_true(spf_flat_lookups(flat) < 10);
		spf_flat_destroy(flat);
		spf_lint_destroy(lint);
		lr.memory_budget = 1024 * 1024;
		assert_null(spf_lint_run(res, &lr, &st));
		assert_int_equal(st, SPF_ETOOBIG);
	}
	/* a budget smaller than the job needs: temperror, and why */
	req.lean_trace = false;
	req.memory_budget = 8192;
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	print_message("bigmx budget 8192: %s: %s\n", spf_result_str(spf_job_result(job)),
		spf_job_problem(job));
	assert_int_equal(spf_job_result(job), SPF_RESULT_TEMPERROR);
	assert_non_null(strstr(spf_job_problem(job), "memory budget of 8192 bytes"));
	spf_job_destroy(job);
	spf_resolver_destroy(res);
	event_base_free(base);
}

static size_t count_nodes(const spf_trace_t *t)
{
	size_t n = 1;

	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		n += count_nodes(k);
	return n;
}

/* The CHECK node of an include's target under the root. */
static const spf_trace_t *include_check(const spf_trace_t *root, const char *domain)
{
	for (const spf_trace_t *t = root->first; t != NULL; t = t->next)
		for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
			if (k->kind == SPF_TRACE_CHECK && strcmp(k->label, domain) == 0)
				return k;
	return NULL;
}

/* The full trace of the worst tree (10 includes of 60 KB records):
 * past 2,000 terms a record's runs of ip4 terms that do not match are
 * one node each, with the byte span and the count of the run; the term
 * that matches keeps its own node; the terms not reached are one node. */
static void test_worst_tree_trace(void **state)
{
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(base, &o);
	spf_zone_t *z = spf_resolver_zone(res);
	static char rec[64000];
	size_t nterms = 0, last_end = 0;
	spf_request_t req = { 0 };
	const spf_trace_t *check, *k;
	spf_job_t *job;
	unsigned sum = 0, runs = 0;

	(void)state;
	add_worst_tree(z);
	/* w3's record: its terms and where its last ip4 term ends */
	long_record(rec, sizeof rec, 60000, 3);
	for (const char *p = rec; (p = strchr(p, ' ')) != NULL; p++)
		nterms++;
	last_end = (size_t)(strstr(rec, " ~all") - rec);

	/* 10.3.2.1 is term 514 of w3's record */
	assert_true(spf_addr_parse("10.3.2.1", &req.ip));
	req.sender = "u@worst.tree.test";
	req.now = 1700000000;
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_string_equal(spf_job_mechanism(job), "include:w3.tree.test");
	assert_true(count_nodes(spf_job_trace(job)) < WORST_TRACE_NODES);
	assert_true(spf_job_arena_memory(job) < JOB_ARENA_WORST_FULL);
	check = include_check(spf_job_trace(job), "w3.tree.test");
	assert_non_null(check);
	for (k = check->first; k != NULL; k = k->next) {
		if (k->kind != SPF_TRACE_TERM)
			continue;
		assert_true(k->count >= 1);
		sum += k->count;
		if (k->count > 1)
			runs++;
		if (k->decisive) {
			assert_string_equal(k->label, "ip4:10.3.2.1");
			assert_int_equal(k->outcome, SPF_TERM_MATCH);
			assert_memory_equal(rec + k->offset, "ip4:10.3.2.1", k->len);
		}
	}
	assert_int_equal(sum, nterms);
	assert_int_equal(runs, 2);
	/* the first run: the 513 terms before the match, from byte 7 */
	k = check->first;
	while (k->kind != SPF_TRACE_TERM)
		k = k->next;
	assert_string_equal(k->label, "513 ip4 terms");
	assert_int_equal(k->outcome, SPF_TERM_NO_MATCH);
	assert_int_equal(k->offset, 7);
	assert_int_equal(k->count, 513);
	/* the rest: not reached, up to the end of the record */
	k = check->last;
	assert_int_equal(k->outcome, SPF_TERM_NOT_REACHED);
	assert_int_equal(k->offset + k->len, strlen(rec));
	spf_job_destroy(job);

	/* no match anywhere: one run per record, then ~all; -all decides */
	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_true(count_nodes(spf_job_trace(job)) < WORST_TRACE_NODES);
	check = include_check(spf_job_trace(job), "w9.tree.test");
	assert_non_null(check);
	k = check->first;
	while (k->kind != SPF_TRACE_TERM)
		k = k->next;
	assert_int_equal(k->count, nterms - 1);
	assert_int_equal(k->offset + k->len, last_end);
	assert_string_equal(k->next->label, "~all");
	assert_int_equal(k->next->outcome, SPF_TERM_MATCH);
	spf_job_destroy(job);
	spf_resolver_destroy(res);
	event_base_free(base);
}

/* 60 KB records in the answer cache, each with the memo an evaluation
 * leaves on it (the record parsed into an arena of its own, and its
 * text for the trace): the cache counts each memo at no less than it
 * takes, for the densest kinds a hostile publisher can pick (ip4 terms,
 * 30,000 bare "a" terms, unknown modifiers, ip6); and the worst tree's
 * ten 60 KB ip4 records stay within the default budget's pool of huge
 * answers (1 MiB of 16, issue 22), which keeps what fits. */
static void test_cache_counts_memos(void **state)
{
	static const char *const kinds[] = { "ip4", "a", "x=", "ip6", "ip4/24" };
	static char rec[64000];
	/* 1 GiB: its pool of huge answers (1/16) holds every record here */
	spf_cache_t *c = spf_cache_create(0, 1024u * 1024 * 1024, NULL, NULL);
	spf_cache_t *dflt = spf_cache_create(0, 0, NULL, NULL);
	spf_zone_t *z = spf_zone_create();
	size_t before, total = 0;

	(void)state;
	assert_non_null(c);
	assert_non_null(dflt);
	assert_non_null(z);
	for (unsigned i = 0; i < 15; i++) {
		unsigned kind = i < 5 ? i : 0;   /* then ten ip4 records */
		size_t n = (size_t)snprintf(rec, sizeof rec, "v=spf1");
		spf_dns_answer_t *ans;
		spf_arena_t *memo;
		spf_record_t *r;
		spf_parse_error_t err;
		char name[64];
		size_t used, len;

		for (unsigned k = 0; n + 24 < sizeof rec && n < 60000; k++) {
			unsigned hi = (k / 256) % 256, lo = k % 256;

			if (kind == 0)
				n += (size_t)snprintf(rec + n, sizeof rec - n, " ip4:10.0.%u.%u", hi, lo);
			else if (kind == 1)
				n += (size_t)snprintf(rec + n, sizeof rec - n, " a");
			else if (kind == 2)
				n += (size_t)snprintf(rec + n, sizeof rec - n, " x=%u%u", hi, lo);
			else if (kind == 3)
				n += (size_t)snprintf(rec + n, sizeof rec - n, " ip6:2001:db8::%x:%x", hi, lo);
			else
				n += (size_t)snprintf(rec + n, sizeof rec - n, " ip4:10.%u.%u.0/24", hi, lo);
		}
		snprintf(rec + n, sizeof rec - n, " -all");
		len = strlen(rec);
		snprintf(name, sizeof name, "m%u.memo.test", i);
		assert_int_equal(spf_zone_replace_txt(z, name, rec, len), SPF_OK);
		ans = spf_zone_lookup(z, name, SPF_RR_TXT);
		assert_non_null(ans);
		before = spf_cache_bytes(c);
		assert_true(spf_cache_put(c, ans));
		/* what eval.c's memo holds: the parsed record and its label */
		memo = spf_arena_create();
		assert_int_equal(spf_record_parse(memo, (const uint8_t *)rec, len,
			&r, &err), SPF_OK);
		assert_non_null(spf_arena_strndup(memo, rec, len + 2));
		used = spf_arena_used(memo) + len;   /* + the answer's copy */
		print_message("%-6s %5zu terms: memo and text %7zu bytes, counted %7zu\n",
			kinds[kind], r->nterms, used, spf_cache_bytes(c) - before);
		assert_true(spf_cache_bytes(c) - before >= used);
		total += spf_cache_bytes(c) - before;
		if (i >= 5)
			(void)spf_cache_put(dflt, ans);   /* huge: its pool may evict */
		spf_arena_destroy(memo);
		spf_dns_answer_unref(ans);
	}
	assert_int_equal(spf_cache_entries(c), 15);
	assert_int_equal(spf_cache_bytes(c), total);
	/* the default budget: 60 KB records are huge answers (issue 22),
	 * in a pool of 1 MiB of the 16 */
	print_message("default cache: %zu of the ten ip4 records, %zu bytes\n",
		spf_cache_entries(dflt), spf_cache_bytes(dflt));
	assert_true(spf_cache_entries(dflt) >= 1);
	assert_true(spf_cache_bytes(dflt) <= 16u * 1024 * 1024 / 16);
	spf_cache_destroy(c);
	spf_cache_destroy(dflt);
	spf_zone_destroy(z);
}

/* ---- the memory budget of evaluations in flight ---- */

struct bjob {
	spf_job_t *job;
	spf_budget_t *budget;
	bool small;
	unsigned *hostile_done, *small_seen_after;
	size_t *max_in_flight;
};

static void on_budget_done(spf_job_t *job, void *arg)
{
	struct bjob *b = arg;
	spf_budget_stats_t st;

	spf_budget_stats(b->budget, &st);
	if (st.in_flight > *b->max_in_flight)
		*b->max_in_flight = st.in_flight;
	assert_false(spf_job_waiting(job));
	if (b->small) {
		assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
		*b->small_seen_after = *b->hostile_done;
	} else {
		assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
		(*b->hostile_done)++;
	}
}

/* A budget of three jobs' reserve: 40 evaluations of the worst tree and
 * then one of a small domain are started at once.  At most three are in
 * flight; the others wait, and the small domain is admitted on the
 * second turn (round robin by domain), not after the 37 hostile ones
 * queued before it.  A waiting job destroyed is counted as dropped. */
static void test_budget_fair(void **state)
{
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res = spf_resolver_create(base, &o);
	spf_budget_t *budget = spf_budget_create(3 * SPF_BUDGET_JOB_RESERVE);
	static struct bjob jobs[42];
	unsigned hostile_done = 0, small_seen_after = ~0u;
	size_t max_in_flight = 0;
	spf_request_t req = { 0 };
	spf_budget_stats_t st;
	spf_job_t *dropped;
	bool all = false;

	(void)state;
	assert_non_null(budget);
	add_worst_tree(spf_resolver_zone(res));
	add_txt(spf_resolver_zone(res), "small.test", "v=spf1 ip4:198.51.100.0/24 -all");
	assert_true(spf_addr_parse("198.51.100.1", &req.ip));
	req.now = 1700000000;
	req.lean_trace = true;
	req.budget = budget;
	for (size_t i = 0; i < 41; i++) {
		jobs[i].budget = budget;
		jobs[i].small = i == 40;
		jobs[i].hostile_done = &hostile_done;
		jobs[i].small_seen_after = &small_seen_after;
		jobs[i].max_in_flight = &max_in_flight;
		req.sender = i == 40 ? "u@small.test" : "u@worst.tree.test";
		jobs[i].job = spf_check_start(res, &req, on_budget_done, &jobs[i], NULL);
		assert_non_null(jobs[i].job);
		assert_true(spf_job_waiting(jobs[i].job) == (i >= 3));
	}
	/* one more, destroyed while it waits: never evaluated, counted */
	req.sender = "v@worst.tree.test";
	dropped = spf_check_start(res, &req, NULL, NULL, NULL);
	assert_true(spf_job_waiting(dropped));
	spf_budget_stats(budget, &st);
	assert_int_equal(st.in_flight, 3);
	assert_int_equal(st.waiting, 39);
	spf_job_destroy(dropped);
	spf_budget_stats(budget, &st);
	assert_int_equal(st.waiting, 38);
	assert_int_equal(st.dropped, 1);

	while (!all) {
		all = true;
		for (size_t i = 0; i < 41; i++)
			if (!spf_job_done(jobs[i].job))
				all = false;
		if (!all)
			assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	}
	assert_int_equal(hostile_done, 40);
	assert_true(max_in_flight <= 3);
	/* (st.peak may pass the limit: a job is admitted at its reserve and
	 * then counts the records it holds, shared as they are) */
	/* admitted second: at most the three first and one more before it */
	print_message("small domain done after %u hostile ones\n", small_seen_after);
	assert_true(small_seen_after <= 4);
	spf_budget_stats(budget, &st);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.waiting, 0);
	assert_int_equal(st.admitted, 41);
	assert_int_equal(st.waited, 39);
	assert_true(st.peak >= 3 * SPF_BUDGET_JOB_RESERVE);
	for (size_t i = 0; i < 41; i++)
		spf_job_destroy(jobs[i].job);
	spf_budget_destroy(budget);
	spf_resolver_destroy(res);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hostile_table, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_types, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_huge_txt, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_many_mx, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_late, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_hostile_storm, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exp_silent_wire, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exp_silent_memory, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_exp_answered, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_slow_answers, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_slow_chain, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_deadline_past_limit, fx_setup, fx_teardown),
		cmocka_unit_test(test_memory_bounded),
		cmocka_unit_test(test_big_mx_tree),
		cmocka_unit_test(test_worst_tree_trace),
		cmocka_unit_test(test_budget_fair),
		cmocka_unit_test(test_cache_counts_memos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
