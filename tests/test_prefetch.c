/*
 * test_prefetch.c - speculative prefetch over real DNS (the fixture
 * server on 127.0.0.1 with added latency): results, explanations and
 * traces are identical with and without it, the evaluation's own queries
 * join the speculative ones in flight (so each name crosses the wire
 * once), and speculation stays within the bound sequential evaluation
 * has.  Speed itself is measured by bench/, not here.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#include "fixture.h"
#include "spf.h"

static const char zone_text[] =
	"$TTL 300\n"
	"top.example.        IN TXT \"v=spf1 a:h1.example. mx:m.example. include:i1.example. "
	"exists:%{ir}.x.example. include:i2.example. -all exp=e.example.\"\n"
	"h1.example.         IN A 192.0.2.1\n"
	"m.example.          IN MX 10 mx1.example.\n"
	"m.example.          IN MX 20 mx2.example.\n"
	"mx1.example.        IN A 192.0.2.11\n"
	"mx2.example.        IN A 192.0.2.12\n"
	"i1.example.         IN TXT \"v=spf1 a:h2.example. redirect=r.example.\"\n"
	"h2.example.         IN A 192.0.2.2\n"
	"r.example.          IN TXT \"v=spf1 ip4:198.51.100.0/24 a:h3.example. ?all\"\n"
	"h3.example.         IN A 192.0.2.3\n"
	"i2.example.         IN TXT \"v=spf1 ip4:203.0.113.7\"\n"
	"e.example.          IN TXT \"%{i} is not allowed for %{d}\"\n"
	/* issue 22: records that would turn speculation into a flood of
	 * queries against victim.example (the reflection pattern) */
	"void.example.       IN TXT \"v=spf1 a:%{l}.0.victim.example a:%{l}.1.victim.example "
	"a:%{l}.2.victim.example a:%{l}.3.victim.example a:%{l}.4.victim.example \" \""
	"a:%{l}.5.victim.example a:%{l}.6.victim.example a:%{l}.7.victim.example "
	"a:%{l}.8.victim.example a:%{l}.9.victim.example -all\"\n"
	"cvoid.example.      IN TXT \"v=spf1 a:0.victim.example a:1.victim.example "
	"mx:2.victim.example exists:3.victim.example a:4.victim.example a:5.victim.example \" \""
	"a:6.victim.example a:7.victim.example a:8.victim.example -all\"\n"
	"first.example.      IN TXT \"v=spf1 ip4:0.0.0.0/0 exists:%{l}.0.victim.example "
	"exists:%{l}.1.victim.example exists:%{l}.2.victim.example exists:%{l}.3.victim.example \" \""
	"exists:%{l}.4.victim.example exists:%{l}.5.victim.example exists:%{l}.6.victim.example "
	"exists:%{l}.7.victim.example exists:%{l}.8.victim.example -all\"\n"
	"cfirst.example.     IN TXT \"v=spf1 ip4:192.0.2.0/24 a:0.victim.example "
	"mx:mxv0.victim.example include:i2.victim.example -all\"\n"
	"incl.example.       IN TXT \"v=spf1 include:p.example mx:mxv0.victim.example "
	"mx:mxv1.victim.example mx:mxv2.victim.example mx:mxv3.victim.example \" \""
	"mx:mxv4.victim.example mx:mxv5.victim.example mx:mxv6.victim.example "
	"mx:mxv7.victim.example mx:mxv8.victim.example -all\"\n"
	"p.example.          IN TXT \"v=spf1 +all\"\n"
	"mxv0.victim.example. IN MX 10 h0.victim.example.\n"
	"mxv1.victim.example. IN MX 10 h1.victim.example.\n"
	"mxv2.victim.example. IN MX 10 h2.victim.example.\n"
	"mxv3.victim.example. IN MX 10 h3.victim.example.\n"
	"mxv4.victim.example. IN MX 10 h4.victim.example.\n"
	"mxv5.victim.example. IN MX 10 h5.victim.example.\n"
	"mxv6.victim.example. IN MX 10 h6.victim.example.\n"
	"mxv7.victim.example. IN MX 10 h7.victim.example.\n"
	"mxv8.victim.example. IN MX 10 h8.victim.example.\n"
	"h0.victim.example.  IN A 192.0.2.200\n"
	/* issue 17, void lookups counted per query: three AAAA-less MX
	 * hosts stop evaluation at the mx term for an IPv6 client */
	"pq.example.         IN TXT \"v=spf1 mx:v4.victim.example a:0.victim.example "
	"a:1.victim.example ip6:2001:db8:77::/48 -all\"\n"
	"v4.victim.example.  IN MX 10 m1.victim.example.\n"
	"v4.victim.example.  IN MX 20 m2.victim.example.\n"
	"v4.victim.example.  IN MX 30 m3.victim.example.\n"
	"m1.victim.example.  IN A 192.0.2.201\n"
	"m2.victim.example.  IN A 192.0.2.202\n"
	"m3.victim.example.  IN A 192.0.2.203\n"
	"i2.victim.example.  IN TXT \"v=spf1 -all\"\n"
	/* speculation past an include that cannot pass without DNS */
	"after.example.      IN TXT \"v=spf1 ip4:198.51.100.0/24 include:i2.example "
	"include:soft.example a:h2.example mx:m.example -all\"\n"
	"soft.example.       IN TXT \"v=spf1 ip4:203.0.113.0/24 ~all\"\n"
	/* a provider-shaped record: address ranges first, then lookups and
	 * includes with names constant for the domain */
	"brand.example.      IN TXT \"v=spf1 include:prov.example -all\"\n"
	"prov.example.       IN TXT \"v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/25 "
	"ip6:2001:db8:1::/48 a:ha.prov.example mx:mb.prov.example include:pc.prov.example ~all\"\n"
	"ha.prov.example.    IN A 198.18.0.1\n"
	"mb.prov.example.    IN MX 10 ha.prov.example.\n"
	"pc.prov.example.    IN TXT \"v=spf1 ip4:198.18.1.0/24 a:hc.prov.example -all\"\n"
	"hc.prov.example.    IN A 198.18.1.200\n"
	"brand2.example.     IN TXT \"v=spf1 include:prov.example a:h2.brand2.example -all\"\n"
	"h2.brand2.example.  IN A 198.18.2.1\n";

/* fetch ahead (issue 22): sibling includes with constant names (a
 * second string: one over 4095 bytes is not portable C) */
static const char zone_ahead[] =
	"$TTL 300\n"
	"sib.example.        IN TXT \"v=spf1 include:s1.victim.example include:s2.victim.example "
	"a:h1.example include:s3.victim.example include:s4.victim.example -all\"\n"
	"sibm.example.       IN TXT \"v=spf1 include:s1.victim.example "
	"include:%{l}.s2.victim.example include:s3.victim.example -all\"\n"
	"sibi.example.       IN TXT \"v=spf1 include:s1.victim.example ip4:192.0.2.0/24 "
	"include:s2.victim.example -all\"\n"
	"nest.example.       IN TXT \"v=spf1 include:np.example -all\"\n"
	"np.example.         IN TXT \"v=spf1 include:s1.victim.example "
	"include:s2.victim.example include:s3.victim.example ~all\"\n"
	"s1.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.1 -all\"\n"
	"s2.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.2 -all\"\n"
	"s3.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.3 -all\"\n"
	"s4.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.4 -all\"\n"
	/* ten includes: the first passes (+all), or none does */
	"ten.example.        IN TXT \"v=spf1 include:p.example include:c1.victim.example "
	"include:c2.victim.example include:c3.victim.example include:c4.victim.example \" \""
	"include:c5.victim.example include:c6.victim.example include:c7.victim.example "
	"include:c8.victim.example include:c9.victim.example -all\"\n"
	"tenf.example.       IN TXT \"v=spf1 include:c0.victim.example include:c1.victim.example "
	"include:c2.victim.example include:c3.victim.example include:c4.victim.example \" \""
	"include:c5.victim.example include:c6.victim.example include:c7.victim.example "
	"include:c8.victim.example include:c9.victim.example -all\"\n"
	"c0.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.10 -all\"\n"
	"c1.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.11 -all\"\n"
	"c2.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.12 -all\"\n"
	"c3.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.13 -all\"\n"
	"c4.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.14 -all\"\n"
	"c5.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.15 -all\"\n"
	"c6.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.16 -all\"\n"
	"c7.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.17 -all\"\n"
	"c8.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.18 -all\"\n"
	"c9.victim.example.  IN TXT \"v=spf1 ip4:198.51.100.19 -all\"\n";

struct world {
	struct event_base *base;
	spf_zone_t *zone;
	fixture_server_t *srv;
};

static int teardown(void **state);

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	*state = w;
	if (w == NULL)
		return -1;
	w->base = event_base_new();
	w->zone = spf_zone_create();
	if (w->base != NULL && w->zone != NULL &&
	    spf_zone_load_mem(w->zone, zone_text, sizeof(zone_text) - 1, "test",
	    NULL, NULL) == SPF_OK &&
	    spf_zone_load_mem(w->zone, zone_ahead, sizeof(zone_ahead) - 1, "ahead",
	    NULL, NULL) == SPF_OK)
		w->srv = fixture_start(w->base, w->zone, "127.0.0.1", 0);
	if (w->srv == NULL) {
		teardown(state);
		*state = NULL;
		return -1;
	}
	fixture_set_latency(w->srv, 40);
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	fixture_stop(w->srv);
	spf_zone_destroy(w->zone);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w);
	return 0;
}

/* the resolver's per-query timeout (0: 2000 ms) */
static unsigned timeout_ms;

static spf_resolver_t *resolver(struct world *w)
{
	char ns[64];
	const char *servers[] = { ns };
	spf_resolver_opts_t opts = { .nameservers = servers, .nnameservers = 1,
		.timeout_ms = timeout_ms ? timeout_ms : 2000, .tries = 1 };
	spf_resolver_t *res;

	snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)fixture_port(w->srv));
	res = spf_resolver_create_ex(w->base, &opts, NULL, NULL);
	assert_non_null(res);
	return res;
}

/* The trace as text: every node's kind, label, outcome, result, counts
 * and answer detail, depth-first. */
static void dump(const spf_trace_t *t, int depth, char *out, size_t len)
{
	for (; t != NULL; t = t->next) {
		size_t used = strlen(out);

		snprintf(out + used, len - used, "%d|%d|%s|%s|%d|%d|%u|%u|%d\n",
			depth, (int)t->kind, t->label, t->detail ? t->detail : "",
			(int)t->outcome, t->kind == SPF_TRACE_CHECK ? (int)t->result : -1,
			t->lookups, t->voids,
			(int)t->decisive);
		dump(t->first, depth + 1, out, len);
	}
}

struct outcome {
	spf_result_t result;
	char mechanism[128];
	char explanation[256];
	unsigned lookups, voids;
	char trace[16384];
	unsigned long wire_queries, coalesced, fixture_queries, victim_queries;
};

/* how evaluate_as() counts void lookups (SPF_VOID_RFC unless a test
 * says otherwise) */
static spf_void_count_t void_count;

static void evaluate_as(struct world *w, const char *ip, const char *sender,
	bool no_prefetch, struct outcome *o)
{
	spf_resolver_t *res = resolver(w);
	spf_request_t req = { .sender = sender, .helo = "mx.example.org",
		.no_prefetch = no_prefetch, .now = 1700000000,
		.void_count = void_count };
	spf_resolver_stats_t st;
	spf_job_t *job;

	memset(o, 0, sizeof(*o));
	fixture_clear_log(w->srv);
	assert_true(spf_addr_parse(ip, &req.ip));
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	o->result = spf_job_result(job);
	snprintf(o->mechanism, sizeof(o->mechanism), "%s",
		spf_job_mechanism(job) ? spf_job_mechanism(job) : "");
	snprintf(o->explanation, sizeof(o->explanation), "%s",
		spf_job_explanation(job) ? spf_job_explanation(job) : "");
	o->lookups = spf_job_lookups(job);
	o->voids = spf_job_void_lookups(job);
	dump(spf_job_trace(job), 0, o->trace, sizeof(o->trace));
	spf_resolver_stats(res, &st);
	o->wire_queries = st.wire_queries;
	o->coalesced = st.coalesced + st.cache_hits;
	spf_job_destroy(job);
	/* let late speculative answers arrive before counting */
	for (int i = 0; i < 20; i++)
		event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	o->fixture_queries = fixture_query_count(w->srv);
	o->victim_queries = fixture_count_under(w->srv, "victim.example");
	spf_resolver_destroy(res);
}

static void evaluate(struct world *w, const char *ip, bool no_prefetch,
	struct outcome *o)
{
	evaluate_as(w, ip, "u@top.example", no_prefetch, o);
}

static void test_identical_results(void **state)
{
	struct world *w = *state;
	static const char *const ips[] = {
		"192.0.2.1",      /* a:h1 */
		"192.0.2.12",     /* the second MX host */
		"192.0.2.2",      /* a inside include i1 */
		"198.51.100.9",   /* ip4 in i1's redirect target */
		"192.0.2.3",      /* a in the redirect target */
		"203.0.113.7",    /* include i2 */
		"192.0.2.99",     /* nothing: -all with exp */
		"2001:db8::1",    /* IPv6 client: AAAA lookups, all void */
	};

	for (size_t i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
		static struct outcome with, without;

		evaluate(w, ips[i], false, &with);
		evaluate(w, ips[i], true, &without);
		assert_int_equal(with.result, without.result);
		assert_string_equal(with.mechanism, without.mechanism);
		assert_string_equal(with.explanation, without.explanation);
		assert_int_equal(with.lookups, without.lookups);
		assert_int_equal(with.voids, without.voids);
		assert_string_equal(with.trace, without.trace);
		/* without speculation nothing is joined in flight */
		assert_int_equal(without.coalesced, 0);
	}
}

static void test_speculation_joined_and_bounded(void **state)
{
	struct world *w = *state;
	struct outcome with, without;

	/* 192.0.2.99 walks every term: the worst case for speculation */
	evaluate(w, "192.0.2.99", false, &with);
	evaluate(w, "192.0.2.99", true, &without);
	assert_int_equal(with.result, SPF_RESULT_FAIL);
	assert_string_equal(with.explanation, "192.0.2.99 is not allowed for top.example");
	/* the evaluation's own queries found their answers already asked */
	assert_true(with.coalesced > 0);
	/* each (name, type) crossed the wire once either way; speculation
	 * asked for nothing a sequential evaluation does not ask for here */
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_int_equal(with.wire_queries, without.wire_queries);
}

/* Issue 22: a record naming ten targets that depend on the local part
 * (fresh per message, so no cache absorbs them) and do not exist.
 * Evaluation stops with permerror at the third void lookup (RFC 7208
 * §4.6.4); speculation must not have sent the rest. */
static void test_void_limit_reflection(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.99", "m1@void.example", false, &with);
	evaluate_as(w, "192.0.2.99", "m1@void.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PERMERROR);
	assert_int_equal(without.result, SPF_RESULT_PERMERROR);
	assert_int_equal(with.voids, 3);
	assert_int_equal(without.victim_queries, 3);
	assert_true(with.victim_queries <= 3);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_string_equal(with.trace, without.trace);
}

/* The same with names that are constant for the domain (prefetched):
 * no term past the void limit is fetched, so the victim sees the three
 * lookups sequential evaluation sends. */
static void test_void_limit_constant_names(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.99", "u@cvoid.example", false, &with);
	evaluate_as(w, "192.0.2.99", "u@cvoid.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PERMERROR);
	assert_int_equal(without.victim_queries, 3);
	assert_int_equal(with.victim_queries, 3);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
}

/* Void lookups counted per query (issue 17): evaluation stops at the mx
 * term whose three hosts have no AAAA; speculation must not fetch the
 * terms after it (the MX answer alone does not make them safe).  Counted
 * per term, the same record passes at ip6 and every term is asked. */
static void test_void_per_query_bound(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	void_count = SPF_VOID_PER_QUERY;
	evaluate_as(w, "2001:db8:77::5", "u@pq.example", false, &with);
	evaluate_as(w, "2001:db8:77::5", "u@pq.example", true, &without);
	void_count = SPF_VOID_RFC;
	assert_int_equal(with.result, SPF_RESULT_PERMERROR);
	assert_int_equal(without.result, SPF_RESULT_PERMERROR);
	assert_int_equal(with.voids, 3);
	/* MX and three AAAA, nothing of a:0 and a:1 */
	assert_int_equal(without.victim_queries, 4);
	assert_int_equal(with.victim_queries, 4);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_string_equal(with.trace, without.trace);

	evaluate_as(w, "2001:db8:77::5", "u@pq.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(with.voids, 2);
	assert_int_equal(with.victim_queries, 6);
}

/* A term that matches without DNS comes first: pass with no lookup, and
 * not one query for the terms after it. */
static void test_match_first(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.99", "m3@first.example", false, &with);
	evaluate_as(w, "192.0.2.99", "m3@first.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(with.lookups, 0);
	assert_int_equal(with.victim_queries, 0);
	assert_int_equal(without.victim_queries, 0);
	/* constant names after an ip4 the client is inside */
	evaluate_as(w, "192.0.2.99", "u@cfirst.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(with.victim_queries, 0);
	assert_int_equal(with.fixture_queries, 1);   /* the record itself */
	/* outside that ip4 the same terms are reached, and prefetched */
	evaluate_as(w, "198.51.100.1", "u@cfirst.example", false, &with);
	evaluate_as(w, "198.51.100.1", "u@cfirst.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_FAIL);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_true(with.victim_queries > 0);
	assert_int_equal(with.victim_queries, without.victim_queries);
}

/* include:p where p is "+all": the include passes, so the nine mx terms
 * after it are never reached; speculation sends exactly what sequential
 * evaluation sends. */
static void test_include_that_passes(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.99", "u@incl.example", false, &with);
	evaluate_as(w, "192.0.2.99", "u@incl.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(without.fixture_queries, 2);
	assert_int_equal(with.fixture_queries, 2);
	assert_int_equal(with.victim_queries, 0);
	assert_string_equal(with.trace, without.trace);
}

/* Past includes that cannot pass without DNS (-all, ~all with the client
 * outside their ip4), speculation goes on: the later a and mx lookups are
 * joined in flight by evaluation's own, and nothing extra is sent. */
static void test_speculation_past_includes(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.12", "u@after.example", false, &with);
	evaluate_as(w, "192.0.2.12", "u@after.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PASS);   /* mx2 */
	assert_string_equal(with.trace, without.trace);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_true(with.coalesced > 0);
}

/* A provider-shaped record: the client is outside its ip4 and ip6
 * ranges, which is known without DNS, so speculation goes past them at
 * once and the a, mx and include lookups after them go out together
 * (and the included record's a term once its record is in).  Without
 * prefetch they go one at a time.  The same terms, the same queries. */
static void test_provider_ranges_ruled_out(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;
	size_t held_with, held_without;

	evaluate_as(w, "192.0.2.99", "u@brand.example", false, &with);
	held_with = fixture_max_pending(w->srv);
	evaluate_as(w, "192.0.2.99", "u@brand.example", true, &without);
	held_without = fixture_max_pending(w->srv);
	assert_int_equal(with.result, SPF_RESULT_FAIL);
	assert_string_equal(with.trace, without.trace);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_int_equal(with.wire_queries, without.wire_queries);
	assert_int_equal(held_without, 1);
	/* a:ha, mx:mb and pc's record at once */
	assert_true(held_with >= 3);
	assert_true(with.coalesced >= 3);
	/* inside the second ip4 range: pass there, and nothing after it
	 * was asked (the two records only) */
	evaluate_as(w, "203.0.113.5", "u@brand.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(with.fixture_queries, 2);
	assert_int_equal(fixture_max_pending(w->srv), 1);
}

/* Answers at hand are read, not asked: once the provider's records and
 * lookups are cached, the walk goes through them at once, with no query
 * of its own, and the one lookup that is not cached (brand2's a term,
 * after the include) goes out speculatively. */
static void test_cached_walked_without_queries(void **state)
{
	struct world *w = *state;
	spf_resolver_t *res = resolver(w);
	spf_request_t req = { .sender = "u@brand.example", .helo = "mx.example.org",
		.now = 1700000000 };
	spf_resolver_stats_t before, after;
	unsigned long asked[2];
	spf_job_t *job;

	assert_true(spf_addr_parse("192.0.2.99", &req.ip));
	for (int np = 0; np < 2; np++) {
		/* the provider's answers into the cache */
		req.sender = "u@brand.example";
		req.no_prefetch = np;
		job = spf_check_sync(res, &req, NULL);
		assert_non_null(job);
		assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
		spf_job_destroy(job);
		for (int i = 0; i < 20; i++)
			event_base_loop(w->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		fixture_clear_log(w->srv);
		spf_resolver_stats(res, &before);
		req.sender = "u@brand2.example";
		job = spf_check_sync(res, &req, NULL);
		assert_non_null(job);
		assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
		spf_job_destroy(job);
		spf_resolver_stats(res, &after);
		asked[np] = after.queries - before.queries;
		/* brand2's record and its a term: nothing else is on the wire */
		assert_int_equal(fixture_query_count(w->srv), 2);
		assert_int_equal(after.wire_queries - before.wire_queries, 2);
		if (np == 0) {
			/* the a term joined the speculative query */
			assert_int_equal(after.coalesced - before.coalesced, 1);
		}
		spf_resolver_destroy(res);
		res = resolver(w);
	}
	spf_resolver_destroy(res);
	/* speculation asked for h2 only: the cached records, terms and MX
	 * hosts of prov.example and pc.prov.example were read */
	assert_int_equal(asked[0], asked[1] + 1);
}

/* Issue 22's fourth rule, fetch ahead: while the first include's record
 * is not known (here it never is: its server does not answer, so
 * evaluation ends with temperror there and never reaches what follows),
 * the records of the next include targets with constant names are
 * fetched, at most two of them (s2, s3; a:h1 is only counted, s4 is
 * past the cap).  Without prefetch nothing after s1 is asked.  Only the
 * counts per name are asserted, no timing: every query for s2 or s3
 * went out before s1's answer could have come. */
static void test_fetch_ahead_siblings(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	timeout_ms = 200;
	fixture_set_mode(w->srv, "s1.victim.example", FIX_DROP);
	evaluate_as(w, "192.0.2.99", "u@sib.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(fixture_count_for(w->srv, "s1.victim.example", SPF_RR_TXT), 1);
	assert_int_equal(fixture_count_for(w->srv, "s2.victim.example", SPF_RR_TXT), 1);
	assert_int_equal(fixture_count_for(w->srv, "s3.victim.example", SPF_RR_TXT), 1);
	assert_int_equal(fixture_count_for(w->srv, "s4.victim.example", SPF_RR_TXT), 0);
	assert_int_equal(fixture_count_for(w->srv, "h1.example", SPF_RR_A), 0);
	assert_int_equal(with.victim_queries, 3);
	evaluate_as(w, "192.0.2.99", "u@sib.example", true, &without);
	assert_int_equal(without.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(without.victim_queries, 1);
	assert_string_equal(with.trace, without.trace);

	/* the same one level down (a provider's record of includes) */
	evaluate_as(w, "192.0.2.99", "u@nest.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(fixture_count_for(w->srv, "s2.victim.example", SPF_RR_TXT), 1);
	assert_int_equal(fixture_count_for(w->srv, "s3.victim.example", SPF_RR_TXT), 1);
	evaluate_as(w, "192.0.2.99", "u@nest.example", true, &without);
	assert_int_equal(without.victim_queries, 1);

	/* never a name that depends on the message, and nothing past it */
	evaluate_as(w, "192.0.2.99", "m1@sibm.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(fixture_count_for(w->srv, "m1.s2.victim.example", SPF_RR_TXT), 0);
	assert_int_equal(with.victim_queries, 1);

	/* never past an ip4 the client is inside; past one it is outside */
	evaluate_as(w, "192.0.2.99", "u@sibi.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(with.victim_queries, 1);
	evaluate_as(w, "198.51.100.77", "u@sibi.example", false, &with);
	assert_int_equal(with.result, SPF_RESULT_TEMPERROR);
	assert_int_equal(fixture_count_for(w->srv, "s2.victim.example", SPF_RR_TXT), 1);
	assert_int_equal(with.victim_queries, 2);
	fixture_set_mode(w->srv, "s1.victim.example", FIX_NORMAL);
	timeout_ms = 0;
}

/* The cap: ten includes with constant names, the first of which passes
 * (+all).  Evaluation asks for two records; speculation adds the two it
 * fetched ahead while the first was not known, and not one more. */
static void test_fetch_ahead_cap(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;

	evaluate_as(w, "192.0.2.99", "u@ten.example", false, &with);
	evaluate_as(w, "192.0.2.99", "u@ten.example", true, &without);
	assert_int_equal(with.result, SPF_RESULT_PASS);
	assert_int_equal(without.result, SPF_RESULT_PASS);
	assert_int_equal(without.fixture_queries, 2);
	assert_int_equal(without.victim_queries, 0);
	assert_int_equal(with.victim_queries, 2);
	assert_int_equal(with.fixture_queries, without.fixture_queries + 2);
	assert_string_equal(with.trace, without.trace);
}

/* Ten includes none of which passes: every one is reached, so fetching
 * ahead sends nothing sequential evaluation does not, and the records
 * go out three at a time (the one the walk waits for and two ahead;
 * without prefetch one at a time). */
static void test_fetch_ahead_pipeline(void **state)
{
	struct world *w = *state;
	static struct outcome with, without;
	size_t held_with, held_without;

	evaluate_as(w, "192.0.2.99", "u@tenf.example", false, &with);
	held_with = fixture_max_pending(w->srv);
	evaluate_as(w, "192.0.2.99", "u@tenf.example", true, &without);
	held_without = fixture_max_pending(w->srv);
	assert_int_equal(with.result, SPF_RESULT_FAIL);
	assert_int_equal(with.lookups, 10);
	assert_string_equal(with.trace, without.trace);
	assert_int_equal(without.victim_queries, 10);
	assert_int_equal(with.victim_queries, 10);
	assert_int_equal(with.fixture_queries, without.fixture_queries);
	assert_int_equal(held_without, 1);
	assert_int_equal(held_with, 3);
}

struct counted {
	int done;
	int ok;
};

static void count_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct counted *c = arg;

	c->done++;
	if (spf_dns_answer_status(ans) == SPF_DNS_OK)
		c->ok++;
}

/* The cap on wire queries in flight: queued lookups still complete, in
 * the end all of them, and cancelling a queued one is safe.  With one
 * slot and 40 ms per answer, five lookups cannot finish in under 160 ms
 * (a lower bound only, so machine load cannot make it fail). */
static void test_inflight_cap(void **state)
{
	struct world *w = *state;
	static const char *const names[] = { "h1.example", "h2.example",
		"h3.example", "mx1.example", "mx2.example", "h1.example" };
	char ns[64];
	const char *servers[] = { ns };
	spf_resolver_opts_t opts = { .nameservers = servers, .nnameservers = 1,
		.timeout_ms = 2000, .tries = 1, .max_inflight = 1 };
	spf_dns_query_t *qs[6];
	struct counted c = { 0 }, cancelled = { 0 };
	spf_resolver_stats_t st;
	spf_resolver_t *res;

	snprintf(ns, sizeof(ns), "127.0.0.1:%u", (unsigned)fixture_port(w->srv));
	res = spf_resolver_create_ex(w->base, &opts, NULL, NULL);
	assert_non_null(res);
	for (int i = 0; i < 6; i++) {
		qs[i] = spf_resolver_query(res, names[i], SPF_RR_A,
			count_answer, i == 4 ? (void *)&cancelled : (void *)&c);
		assert_non_null(qs[i]);
	}
	spf_dns_query_cancel(qs[4]);    /* queued behind the others */
	while (c.done < 5)
		assert_int_equal(event_base_loop(w->base, EVLOOP_ONCE), 0);
	assert_int_equal(c.ok, 5);
	assert_int_equal(cancelled.done, 0);
	spf_resolver_stats(res, &st);
	assert_int_equal(st.wire_queries, 4);   /* h1 twice: joined */
	/* one at a time on the wire: the server never held two */
	assert_int_equal(fixture_max_pending(w->srv), 1);
	spf_resolver_destroy(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identical_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_speculation_joined_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inflight_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void_limit_reflection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void_limit_constant_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_void_per_query_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_include_that_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_speculation_past_includes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_provider_ranges_ruled_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cached_walked_without_queries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_ahead_siblings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_ahead_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_ahead_pipeline, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
