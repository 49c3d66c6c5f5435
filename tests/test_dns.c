/*
 * test_dns.c - unit tests of the DNS layer: answers, the zone overlay,
 * zone files and the resolver's delivery rules.
 *
 * The zone lookups are a table run against one fixture zone; the
 * resolver tests drive a real libevent event_base one iteration at a
 * time (EVLOOP_ONCE) to check on which turn callbacks run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "spf_dns.h"
#include "dns_internal.h"   /* the cache, driven directly */

/* ---- helpers ---- */

static spf_dns_rr_t rr_a(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint32_t ttl)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_A;
	rr.ttl = ttl;
	rr.u.a[0] = a;
	rr.u.a[1] = b;
	rr.u.a[2] = c;
	rr.u.a[3] = d;
	return rr;
}

static spf_dns_rr_t rr_name(uint16_t type, const char *target, uint32_t ttl)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = type;
	rr.ttl = ttl;
	rr.u.name = target;
	return rr;
}

static spf_dns_rr_t rr_mx(uint16_t pref, const char *exchange, uint32_t ttl)
{
	spf_dns_rr_t rr;

	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_MX;
	rr.ttl = ttl;
	rr.u.mx.preference = pref;
	rr.u.mx.exchange = exchange;
	return rr;
}

static void add(spf_zone_t *z, const char *name, spf_dns_rr_t rr)
{
	assert_int_equal(spf_zone_add(z, name, &rr), SPF_OK);
}

static void add_txt1(spf_zone_t *z, const char *name, const char *text)
{
	const uint8_t *s[1] = { (const uint8_t *)text };
	size_t l[1] = { strlen(text) };

	assert_int_equal(spf_zone_add_txt(z, name, s, l, 1, 3600), SPF_OK);
}

/* The text of a TXT rr as a C string (no NULs in the fixtures). */
static const char *txt_of(const spf_dns_rr_t *rr)
{
	return (const char *)rr->u.txt.data;
}

/* ---- strings ---- */

static void test_strings(void **state)
{
	static const struct {
		uint16_t type;
		const char *text;
	} types[] = {
		{ SPF_RR_A, "A" }, { SPF_RR_NS, "NS" }, { SPF_RR_CNAME, "CNAME" },
		{ SPF_RR_SOA, "SOA" }, { SPF_RR_PTR, "PTR" }, { SPF_RR_MX, "MX" },
		{ SPF_RR_TXT, "TXT" }, { SPF_RR_AAAA, "AAAA" }, { SPF_RR_SPF, "SPF" },
		{ 33, "TYPE33" }, { 65535, "TYPE65535" },
	};
	static const struct {
		spf_dns_status_t st;
		const char *text;
	} statuses[] = {
		{ SPF_DNS_OK, "OK" }, { SPF_DNS_NODATA, "NODATA" },
		{ SPF_DNS_NXDOMAIN, "NXDOMAIN" }, { SPF_DNS_TEMPFAIL, "TEMPFAIL" },
		{ SPF_DNS_BADREPLY, "BADREPLY" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		assert_string_equal(spf_rrtype_str(types[i].type), types[i].text);
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		assert_string_equal(spf_dns_status_str(statuses[i].st), statuses[i].text);

	/* the one "STATUS (detail)" form of traces, problems and lint */
	spf_arena_t *a = spf_arena_create();
	assert_non_null(a);
	assert_string_equal(spf_dns_status_text(a, SPF_DNS_TEMPFAIL, "SERVFAIL"),
		"TEMPFAIL (SERVFAIL)");
	assert_string_equal(spf_dns_status_text(a, SPF_DNS_NXDOMAIN, NULL),
		"NXDOMAIN");
	spf_arena_destroy(a);
}

/* ---- answers ---- */

static void test_answer_build(void **state)
{
	spf_dns_answer_t *ans;
	spf_dns_rr_t rr;
	char exch[] = "MX1.Example.COM.";

	(void)state;
	ans = spf_dns_answer_create("Example.COM.", SPF_RR_MX, SPF_DNS_OK);
	assert_non_null(ans);
	assert_string_equal(spf_dns_answer_name(ans), "example.com");
	assert_int_equal(spf_dns_answer_type(ans), SPF_RR_MX);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	assert_int_equal(spf_dns_answer_count(ans), 0);
	assert_int_equal(spf_dns_answer_ttl(ans), 0);
	assert_null(spf_dns_answer_detail(ans));
	assert_null(spf_dns_answer_cnames(ans));

	rr = rr_mx(10, exch, 900);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	exch[0] = 'X';   /* the answer holds its own copy */
	rr = rr_mx(20, "mx2.example.com", 300);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	/* wrong type, missing name */
	rr = rr_a(192, 0, 2, 1, 60);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_EINVAL);
	rr = rr_mx(30, NULL, 60);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_EINVAL);

	assert_int_equal(spf_dns_answer_count(ans), 2);
	assert_string_equal(spf_dns_answer_rr(ans, 0)->u.mx.exchange, "mx1.example.com");
	assert_int_equal(spf_dns_answer_rr(ans, 0)->u.mx.preference, 10);
	assert_string_equal(spf_dns_answer_rr(ans, 1)->u.mx.exchange, "mx2.example.com");
	assert_null(spf_dns_answer_rr(ans, 2));
	assert_int_equal(spf_dns_answer_ttl(ans), 300);   /* smallest */
	spf_dns_answer_set_ttl(ans, 5000);
	assert_int_equal(spf_dns_answer_ttl(ans), 5000);  /* explicit wins */

	assert_int_equal(spf_dns_answer_set_detail(ans, "SERVFAIL"), SPF_OK);
	assert_string_equal(spf_dns_answer_detail(ans), "SERVFAIL");
	assert_int_equal(spf_dns_answer_add_cname(ans, "B.example.com."), SPF_OK);
	assert_int_equal(spf_dns_answer_add_cname(ans, "c.example.com"), SPF_OK);
	assert_string_equal(spf_dns_answer_cnames(ans),
		"example.com -> b.example.com -> c.example.com");
	spf_dns_answer_unref(ans);
	spf_dns_answer_unref(NULL);
}

/* spf_dns_answer_bytes() is kept up to date by each change: every step
 * adds (or takes back) exactly what it put on or took off the heap. */
static void test_answer_bytes(void **state)
{
	static const uint8_t txt[] = { 'v', '=', 's', 'p', 'f', '1' };
	uint16_t lens[] = { 6 };
	const size_t rrsz = sizeof(spf_dns_rr_t);
	char host[32];
	spf_dns_answer_t *ans;
	spf_dns_rr_t rr;
	size_t b, prev;

	(void)state;
	assert_int_equal(spf_dns_answer_bytes(NULL), 0);
	ans = spf_dns_answer_create("Example.COM.", SPF_RR_MX, SPF_DNS_OK);
	assert_non_null(ans);
	b = spf_dns_answer_bytes(ans);
	assert_true(b >= spf_heap_bytes(sizeof("example.com")));
	for (int i = 0; i < 9; i++) {
		size_t grow = 0;

		snprintf(host, sizeof host, "mx%d.example.com", i * 100);
		rr = rr_mx(10, host, 300);
		if (i == 0)
			grow = spf_heap_bytes(4 * rrsz);
		else if (i == 4)
			grow = spf_heap_bytes(8 * rrsz) - spf_heap_bytes(4 * rrsz);
		else if (i == 8)
			grow = spf_heap_bytes(16 * rrsz) - spf_heap_bytes(8 * rrsz);
		prev = spf_dns_answer_bytes(ans);
		assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
		assert_int_equal(spf_dns_answer_bytes(ans) - prev,
			grow + spf_heap_bytes(strlen(host) + 1));
	}
	/* a refused record changes nothing */
	prev = spf_dns_answer_bytes(ans);
	rr = rr_mx(30, NULL, 60);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_EINVAL);
	assert_int_equal(spf_dns_answer_bytes(ans), prev);
	/* the detail and the CNAME chain, replaced and dropped */
	assert_int_equal(spf_dns_answer_set_detail(ans, "SERVFAIL"), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans), prev + spf_heap_bytes(9));
	assert_int_equal(spf_dns_answer_set_detail(ans, "x"), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans), prev + spf_heap_bytes(2));
	assert_int_equal(spf_dns_answer_set_detail(ans, NULL), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans), prev);
	assert_int_equal(spf_dns_answer_add_cname(ans, "b.example.com"), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans),
		prev + spf_heap_bytes(sizeof("example.com -> b.example.com")));
	assert_int_equal(spf_dns_answer_add_cname(ans, "c.example.com"), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans), prev +
		spf_heap_bytes(sizeof("example.com -> b.example.com -> c.example.com")));
	spf_dns_answer_unref(ans);

	/* a TXT record: its bytes and its string lengths */
	ans = spf_dns_answer_create("t.example", SPF_RR_TXT, SPF_DNS_OK);
	assert_non_null(ans);
	prev = spf_dns_answer_bytes(ans);
	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_TXT;
	rr.u.txt.data = txt;
	rr.u.txt.len = sizeof txt;
	rr.u.txt.nstrings = 1;
	rr.u.txt.lens = lens;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	assert_int_equal(spf_dns_answer_bytes(ans) - prev, spf_heap_bytes(4 * rrsz) +
		spf_heap_bytes(sizeof txt + 1) + spf_heap_bytes(sizeof(uint16_t)));
	spf_dns_answer_unref(ans);
}

static void test_answer_txt(void **state)
{
	static const uint8_t bytes[] = { 'v', '=', 0, 0xff, 'x', 'y' };
	uint16_t lens[] = { 4, 0, 2 };
	uint16_t badlens[] = { 4, 1 };
	uint16_t toolong[] = { 256 };
	spf_dns_answer_t *ans;
	spf_dns_rr_t rr;
	const spf_dns_rr_t *got;

	(void)state;
	ans = spf_dns_answer_create("t.example", SPF_RR_TXT, SPF_DNS_OK);
	assert_non_null(ans);
	memset(&rr, 0, sizeof rr);
	rr.type = SPF_RR_TXT;
	rr.ttl = 10;
	rr.u.txt.data = bytes;
	rr.u.txt.len = sizeof bytes;
	rr.u.txt.nstrings = 3;
	rr.u.txt.lens = lens;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	/* lengths that do not add up, a string over 255 bytes */
	rr.u.txt.lens = badlens;
	rr.u.txt.nstrings = 2;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_EINVAL);
	rr.u.txt.lens = toolong;
	rr.u.txt.nstrings = 1;
	rr.u.txt.len = 256;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_EINVAL);
	/* a TXT record with zero strings */
	rr.u.txt.data = NULL;
	rr.u.txt.len = 0;
	rr.u.txt.nstrings = 0;
	rr.u.txt.lens = NULL;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);

	assert_int_equal(spf_dns_answer_count(ans), 2);
	got = spf_dns_answer_rr(ans, 0);
	assert_ptr_not_equal(got->u.txt.data, bytes);
	assert_int_equal(got->u.txt.len, 6);
	assert_memory_equal(got->u.txt.data, bytes, 6);
	assert_int_equal(got->u.txt.data[6], 0);
	assert_int_equal(got->u.txt.nstrings, 3);
	assert_int_equal(got->u.txt.lens[0], 4);
	assert_int_equal(got->u.txt.lens[1], 0);
	assert_int_equal(got->u.txt.lens[2], 2);
	got = spf_dns_answer_rr(ans, 1);
	assert_int_equal(got->u.txt.len, 0);
	assert_int_equal(got->u.txt.nstrings, 0);
	assert_non_null(got->u.txt.data);
	assert_int_equal(got->u.txt.data[0], 0);
	spf_dns_answer_unref(ans);
}

static void test_answer_refcount(void **state)
{
	spf_dns_answer_t *ans, *ref;
	spf_dns_rr_t rr = rr_name(SPF_RR_PTR, "Host.Example.", 60);

	(void)state;
	ans = spf_dns_answer_create("1.2.0.192.in-addr.arpa", SPF_RR_PTR, SPF_DNS_OK);
	assert_non_null(ans);
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	ref = spf_dns_answer_ref(ans);
	assert_ptr_equal(ref, ans);
	assert_null(spf_dns_answer_ref(NULL));
	spf_dns_answer_unref(ans);
	/* still alive through the second reference (ASan/valgrind check) */
	assert_string_equal(spf_dns_answer_rr(ref, 0)->u.name, "host.example");
	spf_dns_answer_unref(ref);
}

/* Every allocation of building an answer may fail without leaking. */
static void test_answer_alloc_failure(void **state)
{
	static const uint8_t text[] = "v=spf1 -all";
	uint16_t lens[] = { sizeof text - 1 };
	unsigned long n;
	bool completed = false;

	(void)state;
	for (n = 1; n < 100 && !completed; n++) {
		spf_dns_answer_t *ans;
		spf_dns_rr_t rr;
		bool ok = true;

		spf_alloc_fail_at(n);
		ans = spf_dns_answer_create("x.example", SPF_RR_TXT, SPF_DNS_OK);
		if (ans == NULL)
			continue;
		memset(&rr, 0, sizeof rr);
		rr.type = SPF_RR_TXT;
		rr.u.txt.data = text;
		rr.u.txt.len = sizeof text - 1;
		rr.u.txt.nstrings = 1;
		rr.u.txt.lens = lens;
		for (int i = 0; i < 6 && ok; i++)
			ok = spf_dns_answer_add(ans, &rr) == SPF_OK;
		ok = ok && spf_dns_answer_set_detail(ans, "d") == SPF_OK;
		ok = ok && spf_dns_answer_add_cname(ans, "y.example") == SPF_OK;
		if (ok) {
			assert_int_equal(spf_dns_answer_count(ans), 6);
			completed = true;
		} else {
			assert_true(spf_dns_answer_count(ans) <= 6);
		}
		spf_dns_answer_unref(ans);
	}
	spf_alloc_fail_at(0);
	assert_true(completed);
	assert_true(n > 5);   /* failures were actually injected */
}

/* ---- zone lookups ---- */

static spf_zone_t *fixture_zone(void)
{
	spf_zone_t *z = spf_zone_create();
	static const uint8_t nul_txt[] = { 'a', 0, 'b' };
	const uint8_t *strs[1] = { nul_txt };
	size_t lens[1] = { sizeof nul_txt };
	spf_dns_rr_t soa;
	char name[32], target[32];

	assert_non_null(z);
	add_txt1(z, "example.com", "v=spf1 mx -all");
	add(z, "example.com", rr_a(192, 0, 2, 1, 600));
	add(z, "example.com", rr_mx(10, "Mail.Example.com.", 3600));
	add(z, "mail.example.com", rr_a(192, 0, 2, 2, 120));
	add(z, "mail.example.com", rr_a(192, 0, 2, 3, 60));
	add(z, "a.b.c.example.com", rr_a(192, 0, 2, 4, 60));

	/* TIMEOUT entry that still answers TXT */
	assert_int_equal(spf_zone_set_timeout(z, "timeout.example.com"), SPF_OK);
	add_txt1(z, "timeout.example.com", "v=spf1 +all");
	assert_int_equal(spf_zone_set_timeout(z, "onlytimeout.example.com"), SPF_OK);

	/* CNAMEs: a chain of 3, a loop, a dangling one */
	add(z, "alias.example.com", rr_name(SPF_RR_CNAME, "mail.example.com", 30));
	add(z, "c1.example.com", rr_name(SPF_RR_CNAME, "C2.example.com.", 500));
	add(z, "c2.example.com", rr_name(SPF_RR_CNAME, "c3.example.com", 500));
	add(z, "c3.example.com", rr_name(SPF_RR_CNAME, "mail.example.com", 500));
	add(z, "loop1.example.com", rr_name(SPF_RR_CNAME, "loop2.example.com", 60));
	add(z, "loop2.example.com", rr_name(SPF_RR_CNAME, "loop1.example.com", 60));
	add(z, "dangling.example.com", rr_name(SPF_RR_CNAME, "nowhere.example.com", 60));
	/* l0 -> l1 -> ... -> l11 (A): 11 hops from l0, 10 from l1 */
	for (int i = 0; i < 11; i++) {
		snprintf(name, sizeof name, "l%d.example.com", i);
		snprintf(target, sizeof target, "l%d.example.com", i + 1);
		add(z, name, rr_name(SPF_RR_CNAME, target, 60));
	}
	add(z, "l11.example.com", rr_a(192, 0, 2, 11, 60));

	/* wildcards */
	add_txt1(z, "*.wild.example.com", "v=spf1 ip4:192.0.2.9 -all");
	add(z, "*.wild.example.com", rr_mx(5, "mail.example.com", 60));
	add(z, "exists.wild.example.com", rr_a(192, 0, 2, 5, 60));
	add(z, "*.cw.example.com", rr_name(SPF_RR_CNAME, "mail.example.com", 60));

	/* TXT with a NUL byte; TXT with no strings */
	assert_int_equal(spf_zone_add_txt(z, "nul.example.com", strs, lens, 1, 60), SPF_OK);
	assert_int_equal(spf_zone_add_txt(z, "empty.example.com", NULL, NULL, 0, 60), SPF_OK);

	/* a negative TTL from an SOA added in code */
	memset(&soa, 0, sizeof soa);
	soa.type = SPF_RR_SOA;
	soa.ttl = 42;
	assert_int_equal(spf_zone_add(z, "soa.test", &soa), SPF_OK);
	add(z, "host.soa.test", rr_a(198, 51, 100, 1, 60));
	return z;
}

struct lookup_case {
	const char *name;
	uint16_t type;
	spf_dns_status_t status;
	size_t count;
	uint32_t ttl;
	const char *detail;    /* NULL: must be NULL */
	const char *cnames;    /* NULL: must be NULL; "*": any chain */
	const char *first;     /* first record: TXT text, name, or dotted A */
};

static const struct lookup_case lookup_cases[] = {
	{ "example.com", SPF_RR_TXT, SPF_DNS_OK, 1, 3600, NULL, NULL, "v=spf1 mx -all" },
	{ "EXAMPLE.Com.", SPF_RR_TXT, SPF_DNS_OK, 1, 3600, NULL, NULL, "v=spf1 mx -all" },
	{ "example.com", SPF_RR_MX, SPF_DNS_OK, 1, 3600, NULL, NULL, "mail.example.com" },
	{ "mail.example.com", SPF_RR_A, SPF_DNS_OK, 2, 60, NULL, NULL, "192.0.2.2" },
	{ "mail.example.com", SPF_RR_TXT, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "example.com", SPF_RR_AAAA, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "nosuch.example.com", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0, 300, NULL, NULL, NULL },
	{ "example.org", SPF_RR_A, SPF_DNS_NXDOMAIN, 0, 300, NULL, NULL, NULL },
	/* empty non-terminals */
	{ "b.c.example.com", SPF_RR_A, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "C.example.com.", SPF_RR_TXT, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "com", SPF_RR_TXT, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "x.b.c.example.com", SPF_RR_A, SPF_DNS_NXDOMAIN, 0, 300, NULL, NULL, NULL },
	/* the timeout flag */
	{ "timeout.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, 3600, NULL, NULL, "v=spf1 +all" },
	{ "timeout.example.com", SPF_RR_A, SPF_DNS_TEMPFAIL, 0, 0, "timeout", NULL, NULL },
	{ "onlytimeout.example.com", SPF_RR_TXT, SPF_DNS_TEMPFAIL, 0, 0, "timeout", NULL, NULL },
	/* CNAMEs */
	{ "alias.example.com", SPF_RR_A, SPF_DNS_OK, 2, 30, NULL,
	  "alias.example.com -> mail.example.com", "192.0.2.2" },
	{ "alias.example.com", SPF_RR_CNAME, SPF_DNS_OK, 1, 30, NULL, NULL, "mail.example.com" },
	{ "alias.example.com", SPF_RR_TXT, SPF_DNS_NODATA, 0, 30, NULL,
	  "alias.example.com -> mail.example.com", NULL },
	{ "C1.example.com", SPF_RR_A, SPF_DNS_OK, 2, 60, NULL,
	  "c1.example.com -> c2.example.com -> c3.example.com -> mail.example.com", "192.0.2.2" },
	{ "loop1.example.com", SPF_RR_TXT, SPF_DNS_TEMPFAIL, 0, 0, "CNAME loop", "*", NULL },
	{ "dangling.example.com", SPF_RR_A, SPF_DNS_NXDOMAIN, 0, 60, NULL,
	  "dangling.example.com -> nowhere.example.com", NULL },
	{ "l1.example.com", SPF_RR_A, SPF_DNS_OK, 1, 60, NULL, "*", "192.0.2.11" },
	{ "l0.example.com", SPF_RR_A, SPF_DNS_TEMPFAIL, 0, 0, "CNAME loop", "*", NULL },
	/* wildcards */
	{ "foo.wild.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, 3600, NULL, NULL,
	  "v=spf1 ip4:192.0.2.9 -all" },
	{ "a.b.WILD.example.com", SPF_RR_MX, SPF_DNS_OK, 1, 60, NULL, NULL, "mail.example.com" },
	{ "foo.wild.example.com", SPF_RR_A, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "exists.wild.example.com", SPF_RR_TXT, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "wild.example.com", SPF_RR_TXT, SPF_DNS_NODATA, 0, 300, NULL, NULL, NULL },
	{ "x.exists.wild.example.com", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0, 300, NULL, NULL, NULL },
	{ "*.wild.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, 3600, NULL, NULL,
	  "v=spf1 ip4:192.0.2.9 -all" },
	{ "host.cw.example.com", SPF_RR_A, SPF_DNS_OK, 2, 60, NULL,
	  "host.cw.example.com -> mail.example.com", "192.0.2.2" },
	/* odd TXT data */
	{ "empty.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, 60, NULL, NULL, "" },
	/* negative TTL from the SOA */
	{ "nx.soa.test", SPF_RR_TXT, SPF_DNS_NXDOMAIN, 0, 42, NULL, NULL, NULL },
	{ "host.soa.test", SPF_RR_TXT, SPF_DNS_NODATA, 0, 42, NULL, NULL, NULL },
	{ "host.soa.test", SPF_RR_A, SPF_DNS_OK, 1, 60, NULL, NULL, "198.51.100.1" },
};

static void check_first(const struct lookup_case *c, const spf_dns_rr_t *rr)
{
	char buf[64];

	switch (rr->type) {
	case SPF_RR_TXT:
		assert_string_equal(txt_of(rr), c->first);
		break;
	case SPF_RR_MX:
		assert_string_equal(rr->u.mx.exchange, c->first);
		break;
	case SPF_RR_A:
		snprintf(buf, sizeof buf, "%u.%u.%u.%u", rr->u.a[0], rr->u.a[1],
			rr->u.a[2], rr->u.a[3]);
		assert_string_equal(buf, c->first);
		break;
	default:
		assert_string_equal(rr->u.name, c->first);
		break;
	}
}

static void test_zone_lookup_table(void **state)
{
	spf_zone_t *z = fixture_zone();

	(void)state;
	for (size_t i = 0; i < sizeof lookup_cases / sizeof lookup_cases[0]; i++) {
		const struct lookup_case *c = &lookup_cases[i];
		spf_dns_answer_t *ans = spf_zone_lookup(z, c->name, c->type);

		print_message("lookup %s %s\n", c->name, spf_rrtype_str(c->type));
		assert_non_null(ans);
		assert_string_equal(spf_dns_status_str(spf_dns_answer_status(ans)),
			spf_dns_status_str(c->status));
		assert_int_equal(spf_dns_answer_type(ans), c->type);
		assert_int_equal(spf_dns_answer_count(ans), c->count);
		assert_int_equal(spf_dns_answer_ttl(ans), c->ttl);
		if (c->detail == NULL)
			assert_null(spf_dns_answer_detail(ans));
		else
			assert_string_equal(spf_dns_answer_detail(ans), c->detail);
		if (c->cnames == NULL)
			assert_null(spf_dns_answer_cnames(ans));
		else if (strcmp(c->cnames, "*") != 0)
			assert_string_equal(spf_dns_answer_cnames(ans), c->cnames);
		else
			assert_non_null(spf_dns_answer_cnames(ans));
		if (c->first != NULL)
			check_first(c, spf_dns_answer_rr(ans, 0));
		spf_dns_answer_unref(ans);
	}
	spf_zone_destroy(z);
}

static void test_zone_misc(void **state)
{
	spf_zone_t *z = fixture_zone();
	spf_dns_answer_t *ans;
	const spf_dns_rr_t *rr;
	static const struct {
		const char *name;
		bool held;
	} names[] = {
		{ "example.com", true }, { "EXAMPLE.COM.", true },
		{ "b.c.example.com", true },          /* empty non-terminal */
		{ "onlytimeout.example.com", true },  /* timeout flag only */
		{ "anything.wild.example.com", true },/* wildcard */
		{ "nosuch.example.com", false }, { "example.org", false },
		{ "x.exists.wild.example.com", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		print_message("has_name %s\n", names[i].name);
		assert_int_equal(spf_zone_has_name(z, names[i].name), names[i].held);
	}

	/* TXT data with a NUL byte comes back intact */
	ans = spf_zone_lookup(z, "nul.example.com", SPF_RR_TXT);
	assert_non_null(ans);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_int_equal(rr->u.txt.len, 3);
	assert_memory_equal(rr->u.txt.data, "a\0b", 4);
	spf_dns_answer_unref(ans);

	/* the whole loop chain is reported, 10 hops */
	ans = spf_zone_lookup(z, "loop1.example.com", SPF_RR_TXT);
	assert_non_null(ans);
	assert_string_equal(spf_dns_answer_cnames(ans),
		"loop1.example.com -> loop2.example.com -> loop1.example.com"
		" -> loop2.example.com -> loop1.example.com -> loop2.example.com"
		" -> loop1.example.com -> loop2.example.com -> loop1.example.com"
		" -> loop2.example.com -> loop1.example.com");
	spf_dns_answer_unref(ans);

	/* a string over 255 bytes is refused; nothing is added */
	{
		uint8_t big[256];
		const uint8_t *s[1] = { big };
		size_t l[1] = { sizeof big };

		memset(big, 'a', sizeof big);
		assert_int_equal(spf_zone_add_txt(z, "big.example.com", s, l, 1, 60),
			SPF_EINVAL);
	}
	assert_null(spf_zone_lookup(NULL, "x", SPF_RR_A));
	spf_zone_destroy(z);
	spf_zone_destroy(NULL);
}

static void test_zone_replace_txt(void **state)
{
	spf_zone_t *z = spf_zone_create();
	char text[600];
	spf_dns_answer_t *ans;
	const spf_dns_rr_t *rr;
	spf_dns_rr_t one;
	const uint8_t *s[1];
	size_t l[1];

	(void)state;
	assert_non_null(z);
	for (size_t i = 0; i < sizeof text; i++)
		text[i] = (char)('a' + i % 26);
	s[0] = (const uint8_t *)"old1";
	l[0] = 4;
	assert_int_equal(spf_zone_add_txt(z, "r.example", s, l, 1, 77), SPF_OK);
	s[0] = (const uint8_t *)"old2";
	assert_int_equal(spf_zone_add_txt(z, "r.example", s, l, 1, 99), SPF_OK);
	one = rr_a(10, 0, 0, 1, 60);
	assert_int_equal(spf_zone_add(z, "r.example", &one), SPF_OK);

	assert_int_equal(spf_zone_replace_txt(z, "R.Example.", text, sizeof text), SPF_OK);
	ans = spf_zone_lookup(z, "r.example", SPF_RR_TXT);
	assert_non_null(ans);
	assert_int_equal(spf_dns_answer_count(ans), 1);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->ttl, 77);    /* the TTL of the replaced record */
	assert_int_equal(rr->u.txt.len, 600);
	assert_int_equal(rr->u.txt.nstrings, 3);
	assert_int_equal(rr->u.txt.lens[0], 255);
	assert_int_equal(rr->u.txt.lens[1], 255);
	assert_int_equal(rr->u.txt.lens[2], 90);
	assert_memory_equal(rr->u.txt.data, text, sizeof text);
	spf_dns_answer_unref(ans);
	/* other types untouched */
	ans = spf_zone_lookup(z, "r.example", SPF_RR_A);
	assert_non_null(ans);
	assert_int_equal(spf_dns_answer_count(ans), 1);
	spf_dns_answer_unref(ans);

	/* exactly 255 bytes: one string; empty text: one empty string */
	assert_int_equal(spf_zone_replace_txt(z, "n.example", text, 255), SPF_OK);
	ans = spf_zone_lookup(z, "n.example", SPF_RR_TXT);
	assert_non_null(ans);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.txt.nstrings, 1);
	assert_int_equal(rr->ttl, 3600);
	spf_dns_answer_unref(ans);
	assert_int_equal(spf_zone_replace_txt(z, "n.example", "", 0), SPF_OK);
	ans = spf_zone_lookup(z, "n.example", SPF_RR_TXT);
	assert_non_null(ans);
	assert_int_equal(spf_dns_answer_count(ans), 1);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.txt.nstrings, 1);
	assert_int_equal(rr->u.txt.len, 0);
	spf_dns_answer_unref(ans);
	spf_zone_destroy(z);
}

/* Filling a zone and looking up survive every failing allocation. */
static void test_zone_alloc_failure(void **state)
{
	bool completed = false;
	unsigned long n;

	(void)state;
	for (n = 1; n < 400 && !completed; n++) {
		spf_zone_t *z;
		spf_dns_answer_t *ans = NULL;
		spf_dns_rr_t rr;
		bool ok;

		spf_alloc_fail_at(n);
		z = spf_zone_create();
		if (z == NULL)
			continue;
		rr = rr_name(SPF_RR_CNAME, "b.example", 60);
		ok = spf_zone_add(z, "a.example", &rr) == SPF_OK;
		rr = rr_mx(1, "mx.example", 60);
		ok = ok && spf_zone_add(z, "b.example", &rr) == SPF_OK;
		ok = ok && spf_zone_replace_txt(z, "b.example", "v=spf1 -all", 11) == SPF_OK;
		ok = ok && spf_zone_set_timeout(z, "t.example") == SPF_OK;
		for (int i = 0; ok && i < 100; i++) {
			char name[32];

			snprintf(name, sizeof name, "h%d.x.example", i);
			rr = rr_a(192, 0, 2, (uint8_t)i, 60);
			ok = spf_zone_add(z, name, &rr) == SPF_OK;
		}
		if (ok)
			ans = spf_zone_lookup(z, "a.example", SPF_RR_MX);
		if (ans != NULL) {
			assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
			assert_string_equal(spf_dns_answer_rr(ans, 0)->u.mx.exchange,
				"mx.example");
			completed = true;
		}
		spf_dns_answer_unref(ans);
		spf_zone_destroy(z);
	}
	spf_alloc_fail_at(0);
	assert_true(completed);
	assert_true(n > 10);
}

/* ---- zone files ---- */

/* Write text to a fresh temporary file; returns its malloc'ed path. */
static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test_dns_zone_XXXXXX");
	int fd;
	size_t len = strlen(text);

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static const char zone_text[] =
	"$ORIGIN example.net.\n"
	"$TTL 1200\n"
	"@\tIN SOA ns1 hostmaster 1 7200 3600 1209600 600\n"
	"\tIN NS ns1\n"
	"\tIN TXT \"v=spf1 \" \"include:_spf \" \"-all\"\n"
	"\tIN MX 10 mail\n"
	"\tIN MX 20 mail2.example.org.\n"
	"mail 300 IN A 192.0.2.25\n"
	"mail IN AAAA 2001:db8::25\n"
	"ns1 IN A 192.0.2.53\n"
	"; a comment line\n"
	"\n"
	"_spf IN TXT \"v=spf1 ip4:192.0.2.0/24 ?all\"\n"
	"old IN SPF \"v=spf1 -all\"\n"
	"esc IN TXT \"a\\\"b\\\\c\\065\\000d\"\n"
	"www IN CNAME mail\n"
	"srv IN SRV 0 0 25 mail\n"
	"$ORIGIN 2.0.192.in-addr.arpa.\n"
	"25 IN PTR mail.example.net.\n"
	"Upper.Example.NET. IN TXT \"up\"\n";

static void test_zone_load_file(void **state)
{
	char *path = write_temp(zone_text);
	spf_zone_t *z = spf_zone_create();
	char *err = (char *)"unchanged";
	spf_dns_answer_t *ans;
	const spf_dns_rr_t *rr;
	static const uint8_t aaaa[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x25 };

	(void)state;
	assert_non_null(z);
	assert_int_equal(spf_zone_load_file(z, path, NULL, &err), SPF_OK);
	assert_null(err);

	/* multi-string TXT at the origin, TTL from $TTL */
	ans = spf_zone_lookup(z, "example.net", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->ttl, 1200);
	assert_int_equal(rr->u.txt.nstrings, 3);
	assert_int_equal(rr->u.txt.lens[0], 7);
	assert_string_equal(txt_of(rr), "v=spf1 include:_spf -all");
	spf_dns_answer_unref(ans);

	/* MX with relative and absolute exchanges */
	ans = spf_zone_lookup(z, "EXAMPLE.net.", SPF_RR_MX);
	assert_int_equal(spf_dns_answer_count(ans), 2);
	rr = spf_dns_answer_rr(ans, 0);
	assert_int_equal(rr->u.mx.preference, 10);
	assert_string_equal(rr->u.mx.exchange, "mail.example.net");
	assert_string_equal(spf_dns_answer_rr(ans, 1)->u.mx.exchange, "mail2.example.org");
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "mail.example.net", SPF_RR_A);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_int_equal(rr->ttl, 300);
	assert_memory_equal(rr->u.a, "\xc0\x00\x02\x19", 4);
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "mail.example.net", SPF_RR_AAAA);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_memory_equal(rr->u.aaaa, aaaa, 16);
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "old.example.net", SPF_RR_SPF);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_int_equal(rr->type, SPF_RR_SPF);
	assert_string_equal(txt_of(rr), "v=spf1 -all");
	spf_dns_answer_unref(ans);
	/* an SPF record is not a TXT record */
	ans = spf_zone_lookup(z, "old.example.net", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_NODATA);
	/* negative TTL: min(SOA TTL 1200, minimum 600) */
	assert_int_equal(spf_dns_answer_ttl(ans), 600);
	spf_dns_answer_unref(ans);

	/* escapes arrive as the bytes they stand for */
	ans = spf_zone_lookup(z, "esc.example.net", SPF_RR_TXT);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_int_equal(rr->u.txt.len, 8);
	assert_memory_equal(rr->u.txt.data, "a\"b\\cA\0d", 8);
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "www.example.net", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	assert_string_equal(spf_dns_answer_cnames(ans), "www.example.net -> mail.example.net");
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "25.2.0.192.in-addr.arpa", SPF_RR_PTR);
	rr = spf_dns_answer_rr(ans, 0);
	assert_non_null(rr);
	assert_string_equal(rr->u.name, "mail.example.net");
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "example.net", SPF_RR_NS);
	assert_int_equal(spf_dns_answer_count(ans), 1);
	assert_string_equal(spf_dns_answer_rr(ans, 0)->u.name, "ns1.example.net");
	spf_dns_answer_unref(ans);

	/* a name with only an ignored type (SRV) exists: NODATA */
	ans = spf_zone_lookup(z, "srv.example.net", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_NODATA);
	spf_dns_answer_unref(ans);
	ans = spf_zone_lookup(z, "nosuch.example.net", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_NXDOMAIN);
	assert_int_equal(spf_dns_answer_ttl(ans), 600);
	spf_dns_answer_unref(ans);

	ans = spf_zone_lookup(z, "upper.example.net", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	spf_dns_answer_unref(ans);

	spf_zone_destroy(z);
	unlink(path);
	free(path);
}

/* Zone files put end to end: an SOA per zone, records after each.  ldns
 * 1.8's own zone reader used a freed record after a second SOA (fuzz_zone
 * found it; testdata/fuzz/zone/crash-ldns-second-soa*). */
static void test_zone_load_several_soa(void **state)
{
	char *path = write_temp(
		"$ORIGIN a.test.\n@ IN SOA ns hm 1 2 3 4 300\n@ IN TXT \"v=spf1 -all\"\n"
		"$ORIGIN b.test.\n@ IN SOA ns hm 1 2 3 4 60\n@ IN SOA ns hm 1 2 3 4 60\n"
		"@ IN SOA ns hm 1 2 3 4 60\nw IN A 192.0.2.1\n");
	spf_zone_t *z = spf_zone_create();
	spf_dns_answer_t *ans;

	(void)state;
	assert_int_equal(spf_zone_load_file(z, path, NULL, NULL), SPF_OK);
	ans = spf_zone_lookup(z, "a.test", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	spf_dns_answer_unref(ans);
	ans = spf_zone_lookup(z, "w.b.test", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	spf_dns_answer_unref(ans);
	spf_zone_destroy(z);
	unlink(path);
	free(path);
}

/* A second file layered over the first: for each name and type it has,
 * its records replace the first's; everything else stays. */
static void test_zone_load_layered(void **state)
{
	static const struct {
		const char *name;
		uint16_t type;
		spf_dns_status_t status;
		size_t count;
		const char *txt;    /* the first TXT record's text */
	} want[] = {
		/* two records in the later file, one set: both stay */
		{ "example.com", SPF_RR_TXT, SPF_DNS_OK, 2, "v=spf1 ip4:192.0.2.2 -all" },
		{ "example.com", SPF_RR_MX, SPF_DNS_OK, 1, NULL },   /* first file */
		{ "mail.example.com", SPF_RR_A, SPF_DNS_OK, 1, NULL },
		{ "mail.example.com", SPF_RR_AAAA, SPF_DNS_OK, 1, NULL },  /* added */
		/* a CNAME in the later file hides the first file's A */
		{ "www.example.com", SPF_RR_A, SPF_DNS_OK, 1, NULL },
		{ "www.example.com", SPF_RR_TXT, SPF_DNS_NODATA, 0, NULL },
		/* a TXT in the later file replaces the first file's CNAME */
		{ "old.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, "v=spf1 -all" },
		{ "old.example.com", SPF_RR_A, SPF_DNS_NODATA, 0, NULL },
		{ "new.example.com", SPF_RR_TXT, SPF_DNS_OK, 1, "v=spf1 a -all" },
	};
	char *first = write_temp(
		"$ORIGIN example.com.\n"
		"@ IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		"@ IN MX 10 mail\n"
		"mail IN A 192.0.2.1\n"
		"www IN A 192.0.2.80\n"
		"www IN TXT \"hello\"\n"
		"old IN CNAME mail\n");
	char *second = write_temp(
		"$ORIGIN example.com.\n"
		"@ IN TXT \"v=spf1 ip4:192.0.2.2 -all\"\n"
		"@ IN TXT \"google-site-verification=x\"\n"
		"mail IN A 192.0.2.2\n"
		"mail IN AAAA 2001:db8::2\n"
		"www IN CNAME mail\n"
		"old IN TXT \"v=spf1 -all\"\n"
		"new IN TXT \"v=spf1 a -all\"\n");
	spf_zone_t *z = spf_zone_create();
	spf_dns_answer_t *ans;

	(void)state;
	assert_int_equal(spf_zone_load_file(z, first, NULL, NULL), SPF_OK);
	assert_int_equal(spf_zone_load_file(z, second, NULL, NULL), SPF_OK);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		ans = spf_zone_lookup(z, want[i].name, want[i].type);
		assert_non_null(ans);
		assert_int_equal(spf_dns_answer_status(ans), want[i].status);
		assert_int_equal(spf_dns_answer_count(ans), want[i].count);
		if (want[i].txt != NULL)
			assert_string_equal(txt_of(spf_dns_answer_rr(ans, 0)), want[i].txt);
		spf_dns_answer_unref(ans);
	}
	/* the later A of mail: the one answered, also through www's CNAME */
	ans = spf_zone_lookup(z, "www.example.com", SPF_RR_A);
	assert_memory_equal(spf_dns_answer_rr(ans, 0)->u.a, "\xc0\x00\x02\x02", 4);
	spf_dns_answer_unref(ans);
	spf_zone_destroy(z);
	unlink(first);
	unlink(second);
	free(first);
	free(second);
}

static void test_zone_load_origin_arg(void **state)
{
	/* no $TTL: an omitted TTL is the last one stated (RFC 1035 §5.1) */
	char *path = write_temp("@ 60 IN TXT \"v=spf1 a -all\"\nsub IN A 192.0.2.7\n");
	spf_zone_t *z = spf_zone_create();
	spf_dns_answer_t *ans;

	(void)state;
	assert_int_equal(spf_zone_load_file(z, path, "Example.COM", NULL), SPF_OK);
	ans = spf_zone_lookup(z, "example.com", SPF_RR_TXT);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	assert_int_equal(spf_dns_answer_ttl(ans), 60);
	spf_dns_answer_unref(ans);
	ans = spf_zone_lookup(z, "sub.example.com", SPF_RR_A);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_OK);
	assert_int_equal(spf_dns_answer_ttl(ans), 60);
	spf_dns_answer_unref(ans);
	assert_false(spf_zone_has_name(z, "sub"));
	spf_zone_destroy(z);
	unlink(path);
	free(path);
}

static void test_zone_load_errors(void **state)
{
	static const struct {
		const char *text;
		const char *where;   /* expected ":LINE: " in the message */
	} cases[] = {
		{ "$ORIGIN example.com.\n@ IN TXT \"ok\"\n\nbad IN A 300.1.2.3\n", ":4: " },
		{ "$ORIGIN example.com.\na IN A 192.0.2.1\nb IN MX nonsense\n", ":3: " },
		{ "x.example. IN AAAA 2001:db8::zz\n", ":1: " },
		{ "a.example.com. IN A 192.0.2.1\n\nb.example.com. IN A x", ":3: " },
		{ "a.example.com. IN A 192.0.2.1\n$INCLUDE other.zone\n", ":2: " },
		{ "a.example.com. IN TXT (\n \"x\"\n\"y\" )\nb.example.com. IN BOGUS 1\n", ":4: " },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = write_temp(cases[i].text);
		spf_zone_t *z = spf_zone_create();
		char *err = NULL;
		spf_dns_answer_t *ans;

		assert_int_equal(spf_zone_load_file(z, path, NULL, &err), SPF_ESYNTAX);
		assert_non_null(err);
		print_message("%s\n", err);
		assert_true(strncmp(err, path, strlen(path)) == 0);
		assert_non_null(strstr(err, cases[i].where));
		/* nothing of a file that does not parse is added */
		ans = spf_zone_lookup(z, "a.example.com", SPF_RR_A);
		assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_NXDOMAIN);
		spf_dns_answer_unref(ans);
		spf_free(err);
		spf_zone_destroy(z);
		unlink(path);
		free(path);
	}
}

static void test_zone_load_missing(void **state)
{
	spf_zone_t *z = spf_zone_create();
	char *err = NULL;

	(void)state;
	assert_int_equal(spf_zone_load_file(z, "/nonexistent/zone.db", NULL, &err),
		SPF_EIO);
	assert_non_null(err);
	assert_string_equal(err, "/nonexistent/zone.db: No such file or directory");
	spf_free(err);
	/* errmsg may be NULL */
	assert_int_equal(spf_zone_load_file(z, "/nonexistent/zone.db", NULL, NULL),
		SPF_EIO);
	spf_zone_destroy(z);
}

/* ---- the resolver ---- */

struct rfix {
	struct event_base *base;
	spf_resolver_t *res;
};

static int resolver_setup(void **state, bool offline)
{
	struct rfix *f = calloc(1, sizeof *f);
	/* online: a closed loopback port, so live queries fail fast and
	 * nothing leaves the machine */
	static const char *const closed[] = { "127.0.0.1:9" };
	spf_resolver_opts_t opts = { .offline = offline, .nameservers = closed,
		.nnameservers = 1, .timeout_ms = 200, .tries = 1 };

	if (f == NULL)
		return -1;
	f->base = event_base_new();
	f->res = f->base ? spf_resolver_create(f->base, &opts) : NULL;
	if (f->res == NULL) {
		if (f->base != NULL)
			event_base_free(f->base);
		free(f);
		return -1;
	}
	add_txt1(spf_resolver_zone(f->res), "example.com", "v=spf1 -all");
	add(spf_resolver_zone(f->res), "example.com", rr_a(192, 0, 2, 1, 60));
	*state = f;
	return 0;
}

static int setup_offline(void **state)
{
	return resolver_setup(state, true);
}

static int setup_online(void **state)
{
	return resolver_setup(state, false);
}

static int resolver_teardown(void **state)
{
	struct rfix *f = *state;

	spf_resolver_destroy(f->res);   /* may already be NULL */
	event_base_free(f->base);
	free(f);
	return 0;
}

/* One callback's record of what it saw. */
struct seen {
	int calls;
	int order;                  /* global delivery order, from 1 */
	int turn;                   /* loop turn it ran on */
	spf_dns_status_t status;
	size_t count;
	char detail[64];
	bool null_answer;
	/* actions to take from inside the callback */
	struct rfix *f;
	spf_dns_query_t *cancel_other;
	spf_dns_query_t *self;
	bool cancel_self;
	bool destroy_resolver;
	struct seen *start_child;   /* start a query with this record */
	bool *set_done;
};

static int g_order;
static int g_turn;

static void on_answer(const spf_dns_answer_t *ans, void *arg)
{
	struct seen *s = arg;

	s->calls++;
	s->order = ++g_order;
	s->turn = g_turn;
	s->null_answer = ans == NULL;
	if (ans != NULL) {
		s->status = spf_dns_answer_status(ans);
		s->count = spf_dns_answer_count(ans);
		snprintf(s->detail, sizeof s->detail, "%s",
			spf_dns_answer_detail(ans) ? spf_dns_answer_detail(ans) : "");
	}
	if (s->cancel_other != NULL)
		spf_dns_query_cancel(s->cancel_other);
	if (s->cancel_self)
		spf_dns_query_cancel(s->self);
	if (s->start_child != NULL)
		assert_non_null(spf_resolver_query(s->f->res, "example.com",
			SPF_RR_A, on_answer, s->start_child));
	if (s->destroy_resolver) {
		spf_resolver_destroy(s->f->res);
		s->f->res = NULL;
	}
	if (s->set_done != NULL)
		*s->set_done = true;
}

/* One loop iteration, counted. */
static void turn(struct rfix *f)
{
	g_turn++;
	event_base_loop(f->base, EVLOOP_ONCE);
}

static void test_resolver_delivery(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	assert_ptr_equal(spf_resolver_base(f->res), f->base);
	assert_int_equal(spf_resolver_queries(f->res), 0);
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a));
	assert_non_null(spf_resolver_query(f->res, "Example.COM.", SPF_RR_AAAA, on_answer, &b));
	assert_non_null(spf_resolver_query(f->res, "nosuch.example", SPF_RR_TXT, on_answer, &c));
	assert_non_null(spf_resolver_call_later(f->res, on_answer, &d));
	/* never from inside the call */
	assert_int_equal(a.calls + b.calls + c.calls + d.calls, 0);
	assert_int_equal(spf_resolver_queries(f->res), 3);

	g_order = 0;
	turn(f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(d.calls, 1);
	/* FIFO */
	assert_int_equal(a.order, 1);
	assert_int_equal(b.order, 2);
	assert_int_equal(c.order, 3);
	assert_int_equal(d.order, 4);
	assert_int_equal(a.status, SPF_DNS_OK);
	assert_int_equal(a.count, 1);
	assert_int_equal(b.status, SPF_DNS_NODATA);
	assert_int_equal(c.status, SPF_DNS_NXDOMAIN);   /* offline */
	assert_true(d.null_answer);
	assert_false(a.null_answer);
	/* exactly once */
	turn(f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(d.calls, 1);
}

static void test_resolver_online_no_wire(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 };
	bool done = false;

	a.set_done = NULL;
	b.set_done = &done;
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_A, on_answer, &a));
	assert_non_null(spf_resolver_query(f->res, "elsewhere.example", SPF_RR_TXT, on_answer, &b));
	spf_resolver_run_until(f->res, &done);
	assert_true(done);
	assert_int_equal(a.status, SPF_DNS_OK);            /* from the zone */
	assert_int_equal(b.status, SPF_DNS_TEMPFAIL);      /* went live: port closed */
	assert_true(b.detail[0] != '\0');
}

static void test_resolver_cancel(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	spf_dns_query_t *qa, *qb, *qc, *qd;

	qa = spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a);
	qb = spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &b);
	qc = spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &c);
	qd = spf_resolver_call_later(f->res, on_answer, &d);
	assert_non_null(qa);
	assert_non_null(qb);
	assert_non_null(qc);
	assert_non_null(qd);
	/* cancelled before delivery; b's callback cancels c (delivered in
	 * the same batch); a cancels itself (a no-op) */
	spf_dns_query_cancel(qd);
	spf_dns_query_cancel(NULL);
	b.cancel_other = qc;
	a.self = qa;
	a.cancel_self = true;
	turn(f);
	turn(f);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 0);
	assert_int_equal(d.calls, 0);
}

static void test_resolver_cancel_first(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 };
	spf_dns_query_t *qa;
	bool done = false;

	qa = spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a);
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_A, on_answer, &b));
	b.set_done = &done;
	spf_dns_query_cancel(qa);
	spf_resolver_run_until(f->res, &done);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 1);
	assert_int_equal(spf_resolver_queries(f->res), 2);
}

static void test_resolver_query_from_callback(void **state)
{
	struct rfix *f = *state;
	struct seen parent = { 0 }, child = { 0 }, grandchild = { 0 };
	bool done = false;

	parent.f = f;
	parent.start_child = &child;
	child.f = f;
	child.start_child = &grandchild;
	grandchild.set_done = &done;
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT,
		on_answer, &parent));
	g_turn = 0;
	turn(f);
	assert_int_equal(parent.calls, 1);
	assert_int_equal(child.calls, 0);   /* not in the parent's turn */
	turn(f);
	assert_int_equal(child.calls, 1);
	assert_int_equal(grandchild.calls, 0);
	assert_true(child.turn > parent.turn);
	spf_resolver_run_until(f->res, &done);
	assert_true(done);
	assert_int_equal(grandchild.calls, 1);
	assert_int_equal(grandchild.status, SPF_DNS_OK);
	assert_int_equal(spf_resolver_queries(f->res), 3);
}

static void test_resolver_destroy_pending(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 };

	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a));
	assert_non_null(spf_resolver_call_later(f->res, on_answer, &b));
	spf_resolver_destroy(f->res);
	f->res = NULL;
	spf_resolver_destroy(NULL);
	/* the loop has nothing left to run: returns at once */
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 1);
	assert_int_equal(a.calls, 0);
	assert_int_equal(b.calls, 0);
}

static void test_resolver_destroy_in_callback(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 }, c = { 0 };

	a.f = f;
	a.destroy_resolver = true;
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a));
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_A, on_answer, &b));
	assert_non_null(spf_resolver_call_later(f->res, on_answer, &c));
	turn(f);
	assert_null(f->res);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE), 1);
}

static void test_resolver_run_until_terminates(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 };
	bool done = false;

	/* nothing pending: returns with done still false */
	spf_resolver_run_until(f->res, &done);
	assert_false(done);
	/* a query whose callback does not set done: returns after it */
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a));
	spf_resolver_run_until(f->res, &done);
	assert_false(done);
	assert_int_equal(a.calls, 1);
	/* already done: does not run the loop */
	done = true;
	a.calls = 0;
	assert_non_null(spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a));
	spf_resolver_run_until(f->res, &done);
	assert_int_equal(a.calls, 0);
	turn(f);
	assert_int_equal(a.calls, 1);
}

/* A query that could not be started never calls back and leaks nothing. */
static void test_resolver_alloc_failure(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 };
	unsigned long n, started = 0, failed = 0;

	for (n = 1; n <= 12; n++) {
		spf_alloc_fail_at(n);
		if (spf_resolver_query(f->res, "example.com", SPF_RR_TXT, on_answer, &a) != NULL)
			started++;
		else
			failed++;
		spf_alloc_fail_at(0);
		turn(f);
		assert_int_equal((unsigned long)a.calls, started);
	}
	assert_true(failed > 0);
	assert_true(started > 0);
	assert_int_equal(spf_resolver_queries(f->res), started);
}

/* A nameless query (spf_resolver_call_later()) is kept for the next one
 * once delivered or cancelled: taking the kept one counts as an
 * allocation for spf_alloc_fail_at() (it fails where a new one would),
 * and the query taken again starts clean (its callback, argument and
 * answer its own). */
static void test_resolver_spare_queries(void **state)
{
	struct rfix *f = *state;
	struct seen a = { 0 }, b = { 0 }, c = { 0 };
	spf_dns_query_t *q;

	assert_non_null(spf_resolver_call_later(f->res, on_answer, &a));
	turn(f);
	assert_int_equal(a.calls, 1);
	assert_true(a.null_answer);
	/* kept: taking it is the one allocation made */
	spf_alloc_fail_at(0);
	q = spf_resolver_call_later(f->res, on_answer, &b);
	assert_non_null(q);
	assert_int_equal(spf_alloc_count(), 1);
	spf_dns_query_cancel(q);
	/* the first allocation to fail: so does taking the kept query */
	spf_alloc_fail_at(1);
	assert_null(spf_resolver_call_later(f->res, on_answer, &c));
	spf_alloc_fail_at(0);
	assert_non_null(spf_resolver_call_later(f->res, on_answer, &c));
	turn(f);
	assert_int_equal(b.calls, 0);   /* cancelled */
	assert_int_equal(c.calls, 1);
	assert_true(c.null_answer);
	assert_int_equal(a.calls, 1);
}

/* An answer for name with n A records (10.x.y.z). */
static spf_dns_answer_t *a_answer(const char *name, size_t n)
{
	spf_dns_answer_t *ans = spf_dns_answer_create(name, SPF_RR_A, SPF_DNS_OK);

	assert_non_null(ans);
	for (size_t i = 0; i < n; i++) {
		spf_dns_rr_t rr;

		memset(&rr, 0, sizeof rr);
		rr.type = SPF_RR_A;
		rr.ttl = 300;
		rr.u.a[0] = 10;
		rr.u.a[1] = (uint8_t)(i >> 16);
		rr.u.a[2] = (uint8_t)(i >> 8);
		rr.u.a[3] = (uint8_t)i;
		assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
	}
	return ans;
}

/* The hash reads a name 8 bytes at a time with every byte's 0x20 bit
 * set: at every length around the word boundaries a name is found in
 * any case and with a final dot, and names that differ in the 0x20 bit
 * of a byte that is not a letter ("@" and "`", "-" and "\r", 0xC1 and
 * 0xE1), in the last byte, or in length are misses. */
static char upper_ascii(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

static void test_cache_key_words(void **state)
{
	static const char alpha[] = "aB-c@d9E_f";
	spf_cache_t *c = spf_cache_create(0, 0, NULL, NULL);

	(void)state;
	assert_non_null(c);
	for (size_t len = 1; len <= 40; len++) {
		char name[48], other[48];
		spf_dns_answer_t *ans, *got;

		for (size_t i = 0; i < len; i++)
			name[i] = alpha[(i * 7 + len) % (sizeof alpha - 1)];
		name[len] = '\0';
		ans = a_answer(name, 1);
		assert_true(spf_cache_put(c, ans));
		spf_dns_answer_unref(ans);
		/* upper, lower and mixed case, with and without a final dot */
		for (int v = 0; v < 3; v++) {
			for (size_t i = 0; i < len; i++)
				other[i] = (char)(v == 0 ? upper_ascii(name[i]) :
				    v == 1 ? spf_lower(name[i]) :
				    (i % 2 ? upper_ascii(name[i]) : name[i]));
			other[len] = '.';
			other[len + 1] = '\0';
			got = spf_cache_get(c, other, SPF_RR_A);
			assert_non_null(got);
			spf_dns_answer_unref(got);
			other[len] = '\0';
			got = spf_cache_get(c, other, SPF_RR_A);
			assert_non_null(got);
			spf_dns_answer_unref(got);
		}
		/* one byte changed, at each place: a miss */
		for (size_t i = 0; i < len; i++) {
			memcpy(other, name, len + 1);
			other[i] = other[i] == '@' ? '`' : other[i] == '-' ? '\r' :
			    other[i] == '_' ? '\x7f' : (char)0xc1;
			assert_null(spf_cache_get(c, other, SPF_RR_A));
		}
		memcpy(other, name, len + 1);
		other[len - 1] = '\0';
		if (len > 1)
			assert_null(spf_cache_get(c, other, SPF_RR_A));
	}
	assert_int_equal(spf_cache_entries(c), 40);
	{
		spf_dns_answer_t *ans = a_answer("x\xc1yz", 1);

		assert_true(spf_cache_put(c, ans));
		spf_dns_answer_unref(ans);
		assert_null(spf_cache_get(c, "x\xe1yz", SPF_RR_A));
		assert_null(spf_cache_get(c, "X\xe1YZ", SPF_RR_A));
		ans = spf_cache_get(c, "X\xc1YZ", SPF_RR_A);
		assert_non_null(ans);
		spf_dns_answer_unref(ans);
	}
	spf_cache_destroy(c);
}

/* Issue 22: 500 huge answers (4,000 addresses each, what a 64 KB reply
 * holds; about 160 KB each in memory) leave 1,000 small cached answers
 * in place: huge answers live in a pool of their own, bounded apart.
 * (Before, about 100 of them evicted every small answer of the default
 * 16 MiB cache.) */
/* keys are names but for case and a final dot: the bytes compared
 * first, then case-insensitively; another name or type is a miss */
static void test_cache_key_case(void **state)
{
	spf_cache_t *c = spf_cache_create(0, 0, NULL, NULL);
	spf_dns_answer_t *ans = a_answer("Mail.Example.TEST.", 1), *got;
	int flight = 1;

	(void)state;
	assert_non_null(c);
	assert_true(spf_cache_put(c, ans));
	spf_dns_answer_unref(ans);
	got = spf_cache_get(c, "mail.example.test", SPF_RR_A);
	assert_non_null(got);
	spf_dns_answer_unref(got);
	got = spf_cache_get(c, "MAIL.EXAMPLE.test.", SPF_RR_A);
	assert_non_null(got);
	spf_dns_answer_unref(got);
	assert_null(spf_cache_get(c, "mail.example.tesu", SPF_RR_A));
	assert_null(spf_cache_get(c, "mail.example.test", SPF_RR_AAAA));
	assert_null(spf_cache_get(c, "mail.example.tes", SPF_RR_A));
	assert_int_equal(spf_cache_flight_add(c, "Q.Example.Test", SPF_RR_TXT, &flight), SPF_OK);
	assert_ptr_equal(spf_cache_flight_get(c, "q.example.test.", SPF_RR_TXT), &flight);
	assert_null(spf_cache_flight_get(c, "q.example.tesT", SPF_RR_MX));
	assert_null(spf_cache_flight_get(c, "r.example.test", SPF_RR_TXT));
	spf_cache_flight_remove(c, "Q.EXAMPLE.TEST", SPF_RR_TXT);
	assert_null(spf_cache_flight_get(c, "q.example.test", SPF_RR_TXT));
	spf_cache_destroy(c);
}

static void test_cache_huge_pool(void **state)
{
	spf_cache_t *c = spf_cache_create(0, 0, NULL, NULL);
	size_t small_bytes;
	char name[64];

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 1000; i++) {
		spf_dns_answer_t *ans;

		snprintf(name, sizeof name, "s%d.small.test", i);
		ans = a_answer(name, 2);
		assert_true(spf_cache_put(c, ans));
		spf_dns_answer_unref(ans);
	}
	small_bytes = spf_cache_bytes(c);
	for (int i = 0; i < 500; i++) {
		spf_dns_answer_t *ans;

		snprintf(name, sizeof name, "h%d.huge.test", i);
		ans = a_answer(name, 4000);
		assert_true(spf_dns_answer_bytes(ans) > SPF_CACHE_HUGE_ANSWER);
		assert_true(spf_cache_put(c, ans));
		spf_dns_answer_unref(ans);
	}
	for (int i = 0; i < 1000; i++) {
		spf_dns_answer_t *got;

		snprintf(name, sizeof name, "s%d.small.test", i);
		got = spf_cache_get(c, name, SPF_RR_A);
		assert_non_null(got);
		assert_int_equal(spf_dns_answer_count(got), 2);
		spf_dns_answer_unref(got);
	}
	/* the newest huge answer is cached, the oldest evicted; the pool
	 * holds at most its 1/16 of the budget */
	{
		spf_dns_answer_t *got = spf_cache_get(c, "h499.huge.test", SPF_RR_A);

		assert_non_null(got);
		spf_dns_answer_unref(got);
		assert_null(spf_cache_get(c, "h0.huge.test", SPF_RR_A));
	}
	assert_true(spf_cache_bytes(c) - small_bytes <=
		16u * 1024 * 1024 / SPF_CACHE_HUGE_POOL_SHARE);
	assert_true(spf_cache_entries(c) > 1000 && spf_cache_entries(c) < 1000 + 128);
	print_message("1000 small answers (%zu bytes) kept beside %zu huge ones (%zu bytes)\n",
		small_bytes, spf_cache_entries(c) - 1000, spf_cache_bytes(c) - small_bytes);
	spf_cache_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_answer_build),
		cmocka_unit_test(test_answer_txt),
		cmocka_unit_test(test_answer_bytes),
		cmocka_unit_test(test_answer_refcount),
		cmocka_unit_test(test_answer_alloc_failure),
		cmocka_unit_test(test_zone_lookup_table),
		cmocka_unit_test(test_zone_misc),
		cmocka_unit_test(test_zone_replace_txt),
		cmocka_unit_test(test_zone_alloc_failure),
		cmocka_unit_test(test_zone_load_file),
		cmocka_unit_test(test_zone_load_origin_arg),
		cmocka_unit_test(test_zone_load_several_soa),
		cmocka_unit_test(test_zone_load_layered),
		cmocka_unit_test(test_zone_load_errors),
		cmocka_unit_test(test_zone_load_missing),
		cmocka_unit_test_setup_teardown(test_resolver_delivery,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_online_no_wire,
			setup_online, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_cancel,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_cancel_first,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_query_from_callback,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_destroy_pending,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_destroy_in_callback,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_run_until_terminates,
			setup_offline, resolver_teardown),
		cmocka_unit_test(test_cache_key_case),
		cmocka_unit_test(test_cache_key_words),
		cmocka_unit_test(test_cache_huge_pool),
		cmocka_unit_test_setup_teardown(test_resolver_alloc_failure,
			setup_offline, resolver_teardown),
		cmocka_unit_test_setup_teardown(test_resolver_spare_queries,
			setup_offline, resolver_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
