/*
 * test_eval.c - the evaluator beyond the RFC 7208 suite: what a result
 * carries (deciding term, domain, counts, problem), the trace tree, the
 * asynchronous contract (no callback from inside start, destroy while
 * running, many jobs on one loop) and allocation failure.
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
#include "env.h"

#include "spf.h"
#include "check/job.h"   /* the parse memo, driven directly */

static void txt(env_t *f, const char *name, const char *text)
{
	assert_int_equal(spf_zone_replace_txt(f->zone, name, text, strlen(text)), SPF_OK);
}

static void addr(env_t *f, const char *name, const char *ip)
{
	spf_dns_rr_t rr = { .ttl = 60 };
	spf_addr_t a;

	assert_true(spf_addr_parse(ip, &a));
	rr.type = a.family == 4 ? SPF_RR_A : SPF_RR_AAAA;
	memcpy(a.family == 4 ? rr.u.a : rr.u.aaaa, a.addr, a.family == 4 ? 4 : 16);
	assert_int_equal(spf_zone_add(f->zone, name, &rr), SPF_OK);
}

static spf_job_t *run(env_t *f, const char *ip, const char *sender)
{
	spf_request_t req = { .sender = sender, .helo = "mx.example.net" };
	spf_job_t *job;

	assert_true(spf_addr_parse(ip, &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_non_null(job);
	assert_true(spf_job_done(job));
	return job;
}

static void test_result_details(void **state)
{
	env_t *f = *state;
	spf_job_t *job;

	txt(f, "example.com", "v=spf1 a:mail.example.com include:esp.example.net -all");
	txt(f, "esp.example.net", "v=spf1 ip4:203.0.113.0/24 ~all");
	txt(f, "shop.example.com", "v=spf1 redirect=example.com");
	addr(f, "mail.example.com", "192.0.2.25");

	job = run(f, "203.0.113.9", "a@example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_string_equal(spf_job_mechanism(job), "include:esp.example.net");
	assert_string_equal(spf_job_domain(job), "example.com");
	assert_int_equal(spf_job_lookups(job), 2);
	assert_int_equal(spf_job_void_lookups(job), 0);
	assert_null(spf_job_explanation(job));
	assert_null(spf_job_problem(job));
	spf_job_destroy(job);

	/* redirect: the target's record decides and its domain is reported */
	job = run(f, "192.0.2.99", "b@shop.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_string_equal(spf_job_mechanism(job), "-all");
	assert_string_equal(spf_job_domain(job), "example.com");
	assert_string_equal(spf_job_start_domain(job), "shop.example.com");
	assert_int_equal(spf_job_lookups(job), 3);   /* redirect, a, include */
	/* %{o} is the sender's domain, not the redirect target */
	assert_string_equal(spf_job_explanation(job),
		"shop.example.com does not designate 192.0.2.99 as permitted sender");
	spf_job_destroy(job);
}

static void test_default_and_problem(void **state)
{
	env_t *f = *state;
	spf_job_t *job;

	txt(f, "n.example.com", "v=spf1 ip4:192.0.2.1");
	job = run(f, "192.0.2.2", "x@n.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_NEUTRAL);
	assert_string_equal(spf_job_mechanism(job), "default");
	spf_job_destroy(job);

	txt(f, "bad.example.com", "v=spf1 ip4:192.0.2.1 moo -all");
	job = run(f, "192.0.2.1", "x@bad.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_non_null(spf_job_problem(job));
	assert_non_null(strstr(spf_job_problem(job), "bad.example.com"));
	assert_non_null(strstr(spf_job_problem(job), "byte 21"));
	spf_job_destroy(job);

	job = run(f, "192.0.2.1", "x@missing.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_NONE);
	assert_null(spf_job_mechanism(job));
	spf_job_destroy(job);
}

static void test_void_limit_configurable(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "a@v.example.com" };
	spf_job_t *job;

	txt(f, "v.example.com", "v=spf1 a:n1.example.com a:n2.example.com a:n3.example.com ?all");
	assert_true(spf_addr_parse("192.0.2.1", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_job_void_lookups(job), 3);
	assert_non_null(strstr(spf_job_problem(job), "void"));
	spf_job_destroy(job);

	req.void_limit = 3;
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_NEUTRAL);
	assert_string_equal(spf_job_mechanism(job), "?all");
	spf_job_destroy(job);
}

/* --void-count (issue 17): RFC 7208 §4.6.4 counts the mx term's query;
 * per query (pyspf, Mail::SPF) each MX host without an address of the
 * client's family counts too.  The zone is testdata/void-count.zone's. */
static void test_void_count_per_query(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "a@v4mx.example.net" };
	spf_job_summary_t sum;
	spf_job_t *job;

	env_load(f,
		"v4mx.example.net. TXT \"v=spf1 mx ip6:2001:db8:77::/48 -all\"\n"
		"v4mx.example.net. MX 10 mx1.v4mx.example.net.\n"
		"v4mx.example.net. MX 20 mx2.v4mx.example.net.\n"
		"v4mx.example.net. MX 30 mx3.v4mx.example.net.\n"
		"mx1.v4mx.example.net. A 192.0.2.31\n"
		"mx2.v4mx.example.net. A 192.0.2.32\n"
		"mx3.v4mx.example.net. A 192.0.2.33\n"
		"two.example.net. TXT \"v=spf1 mx ip6:2001:db8:77::/48 -all\"\n"
		"two.example.net. MX 10 mx1.v4mx.example.net.\n"
		"two.example.net. MX 20 mx2.v4mx.example.net.\n");
	assert_true(spf_addr_parse("2001:db8:77::5", &req.ip));

	/* RFC 7208: the mx term found MX records, it is not void */
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_int_equal(spf_job_void_lookups(job), 0);
	assert_int_equal(spf_job_host_voids(job), 3);
	spf_job_summary_view(job, &sum);
	assert_int_equal(sum.host_voids, 3);
	spf_job_destroy(job);

	/* per query: three AAAA-less hosts, limit 2 */
	req.void_count = SPF_VOID_PER_QUERY;
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_job_void_lookups(job), 3);
	assert_string_equal(spf_job_mechanism(job), "mx");
	assert_non_null(strstr(spf_job_problem(job), "MX host mx3.v4mx.example.net has no AAAA"));
	spf_job_destroy(job);

	/* per query under a limit of 3: the ip6 term decides */
	req.void_limit = 3;
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_int_equal(spf_job_void_lookups(job), 3);
	spf_job_destroy(job);
	req.void_limit = 0;

	/* two hosts: at the limit, not past it */
	req.sender = "a@two.example.net";
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_int_equal(spf_job_void_lookups(job), 2);
	spf_job_destroy(job);

	/* an IPv4 client: every host has an A record, nothing to count */
	req.sender = "a@v4mx.example.net";
	assert_true(spf_addr_parse("192.0.2.99", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_int_equal(spf_job_void_lookups(job), 0);
	assert_int_equal(spf_job_host_voids(job), 0);
	spf_job_destroy(job);
}

static size_t count_children(const spf_trace_t *t, spf_trace_kind_t kind)
{
	size_t n = 0;

	for (const spf_trace_t *c = t->first; c != NULL; c = c->next)
		if (c->kind == kind)
			n++;
	return n;
}

static const spf_trace_t *child(const spf_trace_t *t, spf_trace_kind_t kind, size_t i)
{
	for (const spf_trace_t *c = t->first; c != NULL; c = c->next)
		if (c->kind == kind && i-- == 0)
			return c;
	return NULL;
}

static void test_trace_tree(void **state)
{
	env_t *f = *state;
	const spf_trace_t *root, *rec, *t0, *t1, *t2, *inc, *dns;
	spf_job_t *job;

	txt(f, "t.example.com", "v=spf1 ip4:198.51.100.1 include:i.example.com -all");
	txt(f, "i.example.com", "v=spf1 a:h.example.com");
	addr(f, "h.example.com", "192.0.2.7");
	job = run(f, "192.0.2.7", "u@t.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);

	root = spf_job_trace(job);
	assert_int_equal(root->kind, SPF_TRACE_CHECK);
	assert_string_equal(root->label, "t.example.com");
	assert_int_equal(root->result, SPF_RESULT_PASS);
	assert_int_equal(root->lookups, 2);
	assert_int_equal(count_children(root, SPF_TRACE_TERM), 3);
	dns = child(root, SPF_TRACE_DNS, 0);
	assert_non_null(dns);
	assert_string_equal(dns->label, "TXT t.example.com");
	rec = child(root, SPF_TRACE_RECORD, 0);
	assert_non_null(rec);
	assert_non_null(strstr(rec->label, "v=spf1 ip4:198.51.100.1"));

	t0 = child(root, SPF_TRACE_TERM, 0);
	t1 = child(root, SPF_TRACE_TERM, 1);
	t2 = child(root, SPF_TRACE_TERM, 2);
	assert_string_equal(t0->label, "ip4:198.51.100.1");
	assert_int_equal(t0->outcome, SPF_TERM_NO_MATCH);
	assert_false(t0->decisive);
	assert_string_equal(t1->label, "include:i.example.com");
	assert_int_equal(t1->outcome, SPF_TERM_MATCH);
	assert_true(t1->decisive);
	assert_int_equal(t1->lookups, 2);
	assert_int_equal(t2->outcome, SPF_TERM_NOT_REACHED);

	inc = child(t1, SPF_TRACE_CHECK, 0);
	assert_non_null(inc);
	assert_string_equal(inc->role, "include");
	assert_string_equal(inc->label, "i.example.com");
	assert_int_equal(inc->result, SPF_RESULT_PASS);
	/* the a term inside asked for A h.example.com and got the address */
	dns = child(child(inc, SPF_TRACE_TERM, 0), SPF_TRACE_DNS, 0);
	assert_non_null(dns);
	assert_string_equal(dns->label, "A h.example.com");
	assert_string_equal(dns->detail, "192.0.2.7");
	spf_job_destroy(job);
}

/* The trace carries each node's facts as data: a term's kind,
 * qualifier and argument, a record's bytes, a query's type, name and
 * status; explain and --json read these, never the display texts. */
static void test_trace_typed(void **state)
{
	env_t *f = *state;
	const uint8_t *quoted = (const uint8_t *)"v=spf1 ~ip6:2001:db8::/32 mx:m.example.com "
		"exists:nx.example.com redirect=r.example.com x=\"y";
	size_t len = strlen((const char *)quoted);
	const spf_trace_t *root, *rec, *t, *dns;
	spf_job_t *job;

	assert_int_equal(spf_zone_add_txt(f->zone, "ty.example.com", &quoted, &len, 1, 60),
		SPF_OK);
	txt(f, "r.example.com", "v=spf1 -all");
	job = run(f, "192.0.2.9", "u@ty.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	root = spf_job_trace(job);

	rec = child(root, SPF_TRACE_RECORD, 0);
	assert_non_null(rec);
	assert_int_equal(rec->raw_len, len);
	assert_memory_equal(rec->raw, quoted, len);
	/* the label is for display: quoted and escaped */
	assert_non_null(strstr(rec->label, "\\\""));

	t = child(root, SPF_TRACE_TERM, 0);
	assert_false(t->modifier);
	assert_int_equal(t->mech, SPF_MECH_IP6);
	assert_int_equal(t->qualifier, '~');
	assert_string_equal(t->value, "2001:db8::/32");
	t = child(root, SPF_TRACE_TERM, 1);
	assert_int_equal(t->mech, SPF_MECH_MX);
	assert_int_equal(t->qualifier, '+');
	assert_string_equal(t->value, "m.example.com");
	dns = child(t, SPF_TRACE_DNS, 0);
	assert_non_null(dns);
	assert_int_equal(dns->rrtype, SPF_RR_MX);
	assert_string_equal(dns->name, "m.example.com");
	assert_true(dns->answered);
	assert_int_equal(dns->status, SPF_DNS_NXDOMAIN);
	t = child(root, SPF_TRACE_TERM, 2);
	assert_int_equal(t->mech, SPF_MECH_EXISTS);
	dns = child(t, SPF_TRACE_DNS, 0);
	assert_int_equal(dns->rrtype, SPF_RR_A);
	assert_int_equal(dns->status, SPF_DNS_NXDOMAIN);
	t = child(root, SPF_TRACE_TERM, 3);
	assert_true(t->modifier);
	assert_int_equal(t->mod, SPF_MOD_REDIRECT);
	assert_string_equal(t->value, "r.example.com");
	t = child(root, SPF_TRACE_TERM, 4);
	assert_true(t->modifier);
	assert_int_equal(t->mod, SPF_MOD_UNKNOWN);
	spf_job_destroy(job);
}

struct counter {
	int calls;
};

static void count_done(spf_job_t *job, void *arg)
{
	(void)job;
	((struct counter *)arg)->calls++;
}

static void test_no_callback_inside_start(void **state)
{
	env_t *f = *state;
	struct counter c = { 0 };
	spf_request_t req = { .sender = "a@localhost" };   /* none at once */
	spf_job_t *job;

	assert_true(spf_addr_parse("192.0.2.1", &req.ip));
	job = spf_check_start(f->res, &req, count_done, &c, NULL);
	assert_non_null(job);
	assert_int_equal(c.calls, 0);
	assert_false(spf_job_done(job));
	while (c.calls == 0)
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(spf_job_result(job), SPF_RESULT_NONE);
	spf_job_destroy(job);
}

static void test_destroy_while_running(void **state)
{
	env_t *f = *state;
	struct counter c = { 0 };
	spf_request_t req = { .sender = "a@d.example.com" };
	spf_job_t *job;

	txt(f, "d.example.com", "v=spf1 a mx include:x.example.com -all");
	assert_true(spf_addr_parse("192.0.2.1", &req.ip));
	for (int turns = 0; turns < 6; turns++) {
		job = spf_check_start(f->res, &req, count_done, &c, NULL);
		assert_non_null(job);
		for (int i = 0; i < turns; i++)
			event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		spf_job_destroy(job);
	}
	/* nothing left to deliver to a destroyed job */
	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_true(c.calls <= 6);
}

static void test_many_jobs_one_loop(void **state)
{
	env_t *f = *state;
	struct counter c = { 0 };
	spf_job_t *jobs[200];
	char ip[32];

	txt(f, "m.example.com", "v=spf1 a:h.example.com ip4:198.51.100.0/24 -all");
	addr(f, "h.example.com", "192.0.2.7");
	for (int i = 0; i < 200; i++) {
		spf_request_t req = { .sender = "a@m.example.com" };

		snprintf(ip, sizeof(ip), "198.51.%d.%d", 99 + i % 2, i);
		assert_true(spf_addr_parse(ip, &req.ip));
		jobs[i] = spf_check_start(f->res, &req, count_done, &c, NULL);
		assert_non_null(jobs[i]);
	}
	while (c.calls < 200)
		assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 0);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(spf_job_result(jobs[i]),
			i % 2 ? SPF_RESULT_PASS : SPF_RESULT_FAIL);
		spf_job_destroy(jobs[i]);
	}
}

/* Fail each allocation of a whole evaluation in turn: every run ends
 * cleanly, with the right result or an error (sanitizers catch leaks). */
static void test_allocation_failures(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "a@af.example.com", .helo = "h.example.com",
		.void_limit = 5 };
	unsigned long total;
	spf_job_t *job;

	txt(f, "af.example.com", "v=spf1 a:h.example.com mx ptr include:i.example.com "
		"exists:%{ir}.x.example.com -all exp=e.example.com");
	txt(f, "i.example.com", "v=spf1 ip4:203.0.113.0/24");
	txt(f, "e.example.com", "%{i} is not allowed by %{d}");
	addr(f, "h.example.com", "192.0.2.7");
	assert_true(spf_addr_parse("192.0.2.99", &req.ip));

	spf_alloc_fail_at(0);
	job = spf_check_sync(f->res, &req, NULL);
	total = spf_alloc_count();
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_string_equal(spf_job_explanation(job),
		"192.0.2.99 is not allowed by af.example.com");
	spf_job_destroy(job);
	assert_true(total > 10);

	for (unsigned long n = 1; n <= total + 5; n++) {
		spf_status_t st;

		spf_alloc_fail_at(n);
		job = spf_check_sync(f->res, &req, &st);
		spf_alloc_fail_at(0);
		if (job == NULL) {
			assert_int_equal(st, SPF_ENOMEM);
			continue;
		}
		assert_true(spf_job_done(job));
		if (spf_job_result(job) != SPF_RESULT_FAIL &&
		    spf_job_result(job) != SPF_RESULT_TEMPERROR)
			print_message("allocation %lu: %s (%s)\n", n,
				spf_result_str(spf_job_result(job)),
				spf_job_problem(job) ? spf_job_problem(job) : "-");
		assert_true(spf_job_result(job) == SPF_RESULT_FAIL ||
			spf_job_result(job) == SPF_RESULT_TEMPERROR);
		spf_job_destroy(job);
	}
}

/* trace_past_limits: the result stays the limit's permerror, the terms
 * after the limit are evaluated for the trace and marked, the counts go
 * on, and the same request without it stops at the limit. */
static void test_trace_past_limits(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "u@big.example.com" };
	const spf_trace_t *t, *last = NULL;
	spf_job_t *job;
	int beyond = 0;

	txt(f, "big.example.com", "v=spf1 a a a a a a a a a a a:h.example.com a ip4:192.0.2.7 -all");
	addr(f, "big.example.com", "192.0.2.200");
	addr(f, "h.example.com", "192.0.2.9");
	assert_true(spf_addr_parse("192.0.2.7", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_job_lookups(job), 11);
	spf_job_destroy(job);

	req.trace_past_limits = true;
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_string_equal(spf_job_mechanism(job), "a:h.example.com");
	assert_non_null(strstr(spf_job_problem(job), "too many DNS-querying terms"));
	assert_null(spf_job_explanation(job));
	/* the counts are those at the limit, as without the flag: the
	 * term after it ("a", number 12) is in the trace only */
	assert_int_equal(spf_job_lookups(job), 11);
	assert_int_equal(spf_job_trace(job)->lookups, 11);
	for (t = spf_job_trace(job)->first; t != NULL; t = t->next) {
		if (t->kind != SPF_TRACE_TERM)
			continue;
		if (strcmp(t->label, "a:h.example.com") == 0) {
			assert_true(t->decisive);
			assert_int_equal(t->outcome, SPF_TERM_ERROR);
			assert_false(t->beyond_limit);
		}
		if (t->beyond_limit)
			beyond++;
		last = t;
	}
	/* "a" and "ip4:192.0.2.7" after the limit; the ip4 matched */
	assert_int_equal(beyond, 2);
	assert_non_null(last);
	assert_string_equal(last->label, "-all");
	assert_int_equal(last->outcome, SPF_TERM_NOT_REACHED);
	spf_job_destroy(job);
}

/* Depth of the deepest CHECK frame below t (t itself a CHECK: 1). */
static unsigned check_depth(const spf_trace_t *t)
{
	unsigned deepest = 0;

	for (const spf_trace_t *k = t->first; k != NULL; k = k->next) {
		unsigned d = check_depth(k);

		if (d > deepest)
			deepest = d;
	}
	return deepest + (t->kind == SPF_TRACE_CHECK);
}

static size_t count_nodes(const spf_trace_t *t)
{
	size_t n = 1;

	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		n += count_nodes(k);
	return n;
}

/* The notes below t that contain text. */
static size_t count_notes(const spf_trace_t *t, const char *text)
{
	size_t n = t->kind == SPF_TRACE_NOTE && strstr(t->label, text) != NULL;

	for (const spf_trace_t *k = t->first; k != NULL; k = k->next)
		n += count_notes(k, text);
	return n;
}

/* Two records that include each other (issue 12): check and explain
 * (trace_past_limits) report the same counts; the loop is named once
 * where it starts, and past the limit explain stops at it instead of
 * going round until the frame limit. */
static void test_past_limit_loop(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "a@loop.example.com" };
	spf_job_t *job;

	txt(f, "loop.example.com", "v=spf1 include:loop2.example.com -all");
	txt(f, "loop2.example.com", "v=spf1 include:loop.example.com -all");
	assert_true(spf_addr_parse("192.0.2.99", &req.ip));
	for (int past = 0; past < 2; past++) {
		const spf_trace_t *root;

		req.trace_past_limits = past;
		job = spf_check_sync(f->res, &req, NULL);
		assert_non_null(job);
		root = spf_job_trace(job);
		assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
		assert_string_equal(spf_job_mechanism(job), "include:loop2.example.com");
		assert_string_equal(spf_job_domain(job), "loop.example.com");
		assert_int_equal(spf_job_lookups(job), 11);
		assert_int_equal(root->lookups, 11);
		assert_int_equal(root->result, SPF_RESULT_PERMERROR);
		/* the root and one frame per include counted up to 10 */
		assert_int_equal(check_depth(root), 11);
		assert_true(count_nodes(root) < 60);
		assert_int_equal(count_notes(root, "include loop: loop.example.com is "
			"already being evaluated (include:loop.example.com in the record "
			"of loop2.example.com); it goes round"), 1);
		assert_int_equal(count_notes(root, "include loop: loop2.example.com is "
			"already being evaluated (include:loop2.example.com in the record "
			"of loop.example.com); not followed past the limit"), past);
		spf_job_destroy(job);
	}

	/* a self-include through a redirect: the same */
	txt(f, "r.example.com", "v=spf1 redirect=r2.example.com");
	txt(f, "r2.example.com", "v=spf1 include:r.example.com -all");
	req.sender = "a@r.example.com";
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_job_lookups(job), 11);
	assert_int_equal(count_notes(spf_job_trace(job), "not followed past the limit"), 1);
	assert_true(check_depth(spf_job_trace(job)) <= 12);
	spf_job_destroy(job);
}

/* The CHECK node says how many records the domain publishes, so that
 * explain can say why there is no record to evaluate. */
static void test_trace_records(void **state)
{
	env_t *f = *state;
	const uint8_t *second = (const uint8_t *)"v=spf1 +all";
	size_t len = strlen("v=spf1 +all");
	spf_job_t *job;

	txt(f, "two.example.com", "v=spf1 -all");
	assert_int_equal(spf_zone_add_txt(f->zone, "two.example.com", &second, &len, 1, 60),
		SPF_OK);
	job = run(f, "192.0.2.1", "a@two.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_PERMERROR);
	assert_int_equal(spf_job_trace(job)->records, 2);
	assert_null(child(spf_job_trace(job), SPF_TRACE_RECORD, 0));
	spf_job_destroy(job);

	txt(f, "one.example.com", "v=spf1 -all");
	job = run(f, "192.0.2.1", "a@one.example.com");
	assert_int_equal(spf_job_trace(job)->records, 1);
	spf_job_destroy(job);

	txt(f, "other.example.com", "google-site-verification=x");
	job = run(f, "192.0.2.1", "a@other.example.com");
	assert_int_equal(spf_job_result(job), SPF_RESULT_NONE);
	assert_int_equal(spf_job_trace(job)->records, 0);
	spf_job_destroy(job);
}

/* A U-label sender domain is looked up as its A-label; one that cannot be
 * converted is a malformed domain: none, with the reason. */
static void test_idn_sender(void **state)
{
	env_t *f = *state;
	spf_job_t *job;

	txt(f, "xn--bcher-kva.example", "v=spf1 ip4:192.0.2.0/24 -all");
	job = run(f, "192.0.2.9", "kunde@b\xc3\xbc" "cher.example");
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_string_equal(spf_job_start_domain(job), "xn--bcher-kva.example");
	spf_job_destroy(job);

	job = run(f, "192.0.2.9", "kunde@\xff\xfe.example");
	assert_int_equal(spf_job_result(job), SPF_RESULT_NONE);
	assert_non_null(strstr(spf_job_problem(job), "A-label"));
	spf_job_destroy(job);
}

/* Each RFC 7208 §4.6.4 limit exactly at and one past its value. */
static void test_limits(void **state)
{
	env_t *f = *state;
	static const struct {
		const char *domain, *record;
		spf_result_t want;
		unsigned lookups;
	} cases[] = {
		/* 10 DNS-querying terms pass, the 11th is permerror */
		{ "l10.example.com", "v=spf1 a a a a a a a a a a:h.example.com -all",
		  SPF_RESULT_PASS, 10 },
		{ "l11.example.com", "v=spf1 a a a a a a a a a a a:h.example.com -all",
		  SPF_RESULT_PERMERROR, 11 },
		/* include and redirect count too; ip4/ip6/all do not */
		{ "li.example.com", "v=spf1 ip4:10.0.0.1 ip6:2001:db8::1 include:l10.example.com",
		  SPF_RESULT_PERMERROR, 11 },
		{ "l2.example.com", "v=spf1 a:h.example.com",
		  SPF_RESULT_PASS, 1 },
		{ "lr.example.com", "v=spf1 a a a a a a a a redirect=l2.example.com",
		  SPF_RESULT_PASS, 10 },
		/* 10 MX names are fine, 11 are permerror */
		{ "mx10.example.com", "v=spf1 mx -all", SPF_RESULT_PASS, 1 },
		{ "mx11.example.com", "v=spf1 mx -all", SPF_RESULT_PERMERROR, 1 },
		/* more than 10 PTR names: only the first 10 are validated */
		{ "ptr.example.com", "v=spf1 ptr -all", SPF_RESULT_FAIL, 1 },
	};
	spf_dns_rr_t mx = { .type = SPF_RR_MX, .ttl = 60 };
	spf_dns_rr_t ptr = { .type = SPF_RR_PTR, .ttl = 60 };
	char name[64];

	addr(f, "h.example.com", "192.0.2.7");
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof(name), "m%d.example.com", i);
		mx.u.mx.preference = (uint16_t)i;
		mx.u.mx.exchange = name;
		if (i < 10)
			assert_int_equal(spf_zone_add(f->zone, "mx10.example.com", &mx), SPF_OK);
		assert_int_equal(spf_zone_add(f->zone, "mx11.example.com", &mx), SPF_OK);
		/* the 11th PTR name is the only one that validates */
		snprintf(name, sizeof(name), "p%d.ptr.example.com", i);
		ptr.u.name = name;
		assert_int_equal(spf_zone_add(f->zone, "7.2.0.192.in-addr.arpa", &ptr), SPF_OK);
	}
	addr(f, "m9.example.com", "192.0.2.7");
	addr(f, "p10.ptr.example.com", "192.0.2.7");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sender[80];
		spf_job_t *job;

		txt(f, cases[i].domain, cases[i].record);
		addr(f, cases[i].domain, "192.0.2.200");   /* bare "a": no match, not void */
		snprintf(sender, sizeof(sender), "u@%s", cases[i].domain);
		job = run(f, "192.0.2.7", sender);
		if (spf_job_result(job) != cases[i].want || spf_job_lookups(job) != cases[i].lookups)
			print_message("%s: %s, %u lookups\n", cases[i].domain,
				spf_result_str(spf_job_result(job)), spf_job_lookups(job));
		assert_int_equal(spf_job_result(job), cases[i].want);
		assert_int_equal(spf_job_lookups(job), cases[i].lookups);
		spf_job_destroy(job);
	}
}

/* want_ptr_name (issue 19): the client's validated name after the
 * result, as ptr validates it (RFC 7208 §5.5), counting no lookup and
 * changing nothing; a name whose A is another address is not one */
static void test_want_ptr_name(void **state)
{
	env_t *f = *state;
	spf_request_t req = { .sender = "a@pn.example.com", .want_ptr_name = true };
	spf_dns_rr_t ptr = { .type = SPF_RR_PTR, .ttl = 60 };
	spf_job_t *job;

	txt(f, "pn.example.com", "v=spf1 ip4:192.0.2.0/28 -all");
	ptr.u.name = "liar.example.net";
	assert_int_equal(spf_zone_add(f->zone, "9.2.0.192.in-addr.arpa", &ptr), SPF_OK);
	ptr.u.name = "out9.relay.example.net";
	assert_int_equal(spf_zone_add(f->zone, "9.2.0.192.in-addr.arpa", &ptr), SPF_OK);
	addr(f, "liar.example.net", "192.0.2.99");
	addr(f, "out9.relay.example.net", "192.0.2.9");
	ptr.u.name = "unconfirmed.example.net";
	assert_int_equal(spf_zone_add(f->zone, "20.2.0.192.in-addr.arpa", &ptr), SPF_OK);
	addr(f, "unconfirmed.example.net", "192.0.2.21");

	assert_true(spf_addr_parse("192.0.2.9", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_non_null(job);
	assert_int_equal(spf_job_result(job), SPF_RESULT_PASS);
	assert_int_equal(spf_job_lookups(job), 0);
	assert_string_equal(spf_job_ptr_name(job), "out9.relay.example.net");
	spf_job_destroy(job);

	/* a fail, with its explanation, and still the name */
	assert_true(spf_addr_parse("192.0.2.20", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_int_equal(spf_job_result(job), SPF_RESULT_FAIL);
	assert_string_equal(spf_job_mechanism(job), "-all");
	assert_null(spf_job_ptr_name(job));
	spf_job_destroy(job);

	/* without the flag no name is looked for */
	req.want_ptr_name = false;
	assert_true(spf_addr_parse("192.0.2.9", &req.ip));
	job = spf_check_sync(f->res, &req, NULL);
	assert_null(spf_job_ptr_name(job));
	spf_job_destroy(job);
}

/* A record's parse memo keeps what it costs as it grows (the record
 * parsed, then its label for the trace): rec_memo_bytes() reads the
 * kept figure, which must equal a recount after each step (fails when
 * memo_count() is left out of one of them). */
static void test_memo_bytes(void **state)
{
	static const char text[] = "v=spf1 a mx:mx.example.net ip4:192.0.2.0/24 include:a.example.net -all";
	spf_dns_answer_t *ans = spf_dns_answer_create("m.example.net", SPF_RR_TXT, SPF_DNS_OK);
	spf_dns_rr_t rr = { .type = SPF_RR_TXT, .ttl = 60 };
	const spf_dns_rr_t *in;
	spf_record_t *rec = NULL, *again = NULL;
	spf_parse_error_t err = { 0 };
	spf_job_t job;
	size_t parsed;
	const uint16_t len = (uint16_t)(sizeof(text) - 1);

	(void)state;
	memset(&job, 0, sizeof(job));
	job.arena = spf_arena_create();
	assert_non_null(job.arena);
	assert_non_null(ans);
	rr.u.txt.data = (const uint8_t *)text;
	rr.u.txt.len = strlen(text);
	rr.u.txt.nstrings = 1;
	rr.u.txt.lens = &len;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	in = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rec_memo_bytes(ans), 0);
	assert_int_equal(rec_memo_recount(ans), 0);

	assert_int_equal(parse_memo(&job, ans, in, &rec, &err), SPF_OK);
	assert_non_null(rec);
	parsed = rec_memo_bytes(ans);
	assert_true(parsed > 0);
	assert_int_equal(parsed, rec_memo_recount(ans));
	assert_int_equal(spf_arena_used(job.arena), 0);   /* parsed in the memo */

	assert_non_null(record_label(&job, ans, in));
	assert_true(rec_memo_bytes(ans) > parsed);
	assert_int_equal(rec_memo_bytes(ans), rec_memo_recount(ans));

	/* the second evaluation reads both from the memo: nothing grows */
	parsed = rec_memo_bytes(ans);
	assert_int_equal(parse_memo(&job, ans, in, &again, &err), SPF_OK);
	assert_ptr_equal(again, rec);
	assert_non_null(record_label(&job, ans, in));
	assert_int_equal(rec_memo_bytes(ans), parsed);
	assert_int_equal(rec_memo_bytes(ans), rec_memo_recount(ans));
	assert_int_equal(spf_arena_used(job.arena), 0);

	spf_dns_answer_unref(ans);
	spf_arena_destroy(job.arena);
}

/* txt answer of the given TXT records (one string each) */
static spf_dns_answer_t *txt_answer(const char *const *texts, size_t n)
{
	spf_dns_answer_t *ans = spf_dns_answer_create("s.example.net", SPF_RR_TXT, SPF_DNS_OK);

	assert_non_null(ans);
	for (size_t i = 0; i < n; i++) {
		spf_dns_rr_t rr = { .type = SPF_RR_TXT, .ttl = 60 };
		uint16_t len = (uint16_t)strlen(texts[i]);

		rr.u.txt.data = (const uint8_t *)texts[i];
		rr.u.txt.len = len;
		rr.u.txt.nstrings = 1;
		rr.u.txt.lens = &len;
		assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	}
	return ans;
}

/* A TXT answer with a parse memo answers RFC 7208 §4.5's selection from
 * the memo (memo_select_spf1()): it must be what spf_record_select()
 * gives for the answer, field by field, whichever record the memo was
 * made for; without a memo there is nothing to read. */
static void test_memo_select(void **state)
{
	static const char *const one[] = { "foo=bar", "v=spf1 -all", "v=spf10 +all", "spf2.0/pra -all" };
	static const char *const two[] = { "v=spf1 a -all", "V=SPF1 mx -all" };
	static const char *const lone[] = { "v=spf1 ip4:192.0.2.1 -all" };
	const struct {
		const char *const *texts;
		size_t n, parsed;
	} cases[] = { { one, 4, 1 }, { two, 2, 0 }, { lone, 1, 0 } };
	spf_job_t job;

	(void)state;
	memset(&job, 0, sizeof(job));
	job.arena = spf_arena_create();
	assert_non_null(job.arena);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spf_dns_answer_t *ans = txt_answer(cases[i].texts, cases[i].n);
		spf_selection_t want, got;
		spf_record_t *rec = NULL;
		spf_parse_error_t err = { 0 };

		spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &want);
		assert_false(memo_select_spf1(ans, &got));
		(void)parse_memo(&job, ans, spf_dns_answer_rr(ans, cases[i].parsed), &rec, &err);
		memset(&got, 0x5a, sizeof(got));
		assert_true(memo_select_spf1(ans, &got));
		assert_int_equal(got.status, want.status);
		assert_int_equal(got.failed, want.failed);
		assert_ptr_equal(got.rr, want.rr);
		assert_ptr_equal(got.first, want.first);
		assert_int_equal(got.ncand, want.ncand);
		assert_int_equal(got.version, want.version);
		assert_int_equal(got.used_spf99, want.used_spf99);
		spf_dns_answer_unref(ans);
	}
	assert_false(memo_select_spf1(NULL, &(spf_selection_t){ 0 }));
	spf_arena_destroy(job.arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_result_details, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_want_ptr_name, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_default_and_problem, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_void_limit_configurable, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_void_count_per_query, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_trace_tree, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_trace_typed, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_no_callback_inside_start, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_while_running, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_many_jobs_one_loop, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_allocation_failures, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_limits, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_idn_sender, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_trace_past_limits, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_past_limit_loop, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_trace_records, env_setup, env_teardown),
		cmocka_unit_test(test_memo_bytes),
		cmocka_unit_test(test_memo_select),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
