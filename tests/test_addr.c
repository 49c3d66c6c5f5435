/*
 * test_addr.c - address parsing/printing/matching and result names
 * (evaluator/check/addr.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include "check.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parse then print: canonical text, family; want NULL = must not parse. */
static const struct {
	const char *in;
	int family;
	const char *want;
} parse_cases[] = {
	{ "192.0.2.3", 4, "192.0.2.3" },
	{ "0.0.0.0", 4, "0.0.0.0" },
	{ "255.255.255.255", 4, "255.255.255.255" },
	{ "2001:db8::cb01", 6, "2001:db8::cb01" },
	{ "2001:DB8:0:0:0:0:0:CB01", 6, "2001:db8::cb01" },
	{ "CAFE:BABE::1", 6, "cafe:babe::1" },
	{ "::", 6, "::" },
	{ "::1", 6, "::1" },
	{ "1::", 6, "1::" },
	/* RFC 5952 §4.2.2: a single zero group is not compressed */
	{ "2001:db8:0:1:1:1:1:1", 6, "2001:db8:0:1:1:1:1:1" },
	/* §4.2.3: the longest run; the first on a tie */
	{ "2001:0:0:1:0:0:0:1", 6, "2001:0:0:1::1" },
	{ "2001:db8:0:0:1:0:0:1", 6, "2001:db8::1:0:0:1" },
	/* §4.1: no leading zeros */
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", 6, "2001:db8::1" },
	/* IPv4-mapped addresses are IPv4 (RFC 7208 §5) */
	{ "::ffff:1.2.3.4", 4, "1.2.3.4" },
	{ "::FFFF:1.2.3.4", 4, "1.2.3.4" },
	{ "::ffff:102:304", 4, "1.2.3.4" },
	/* IPv4-compatible (deprecated) stays IPv6, printed in hex */
	{ "::1.2.3.4", 6, "::102:304" },
	{ "CAFE:BABE::192.168.218.40", 6, "cafe:babe::c0a8:da28" },
	{ "", 0, NULL },
	{ "1.2.3", 0, NULL },
	{ "1.2.3.4.5", 0, NULL },
	{ "256.1.1.1", 0, NULL },
	{ " 1.2.3.4", 0, NULL },
	{ "1.2.3.4/32", 0, NULL },
	{ "fe80::1%eth0", 0, NULL },
	{ "2001:db8::g", 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", 0, NULL },
	{ "example.com", 0, NULL },
};

static void test_parse_and_print(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(parse_cases); i++) {
		spf_addr_t a;
		char buf[64];
		bool ok;

		memset(&a, 0xaa, sizeof(a));
		ok = spf_addr_parse(parse_cases[i].in, &a);
		if (ok != (parse_cases[i].want != NULL))
			print_error("case '%s'\n", parse_cases[i].in);
		assert_int_equal(ok, parse_cases[i].want != NULL);
		if (!ok)
			continue;
		assert_int_equal(a.family, parse_cases[i].family);
		if (a.family == 4) {
			static const uint8_t zero[12];

			assert_memory_equal(a.addr + 4, zero, 12);
		}
		assert_ptr_equal(spf_addr_str(&a, buf, sizeof(buf)), buf);
		assert_string_equal(buf, parse_cases[i].want);
	}
	assert_false(spf_addr_parse(NULL, NULL));
}

static void same_as_inet_pton(const char *s)
{
	uint8_t want[4];
	spf_addr_t a;
	bool v4 = inet_pton(AF_INET, s, want) == 1;
	bool ok = spf_addr_parse(s, &a);

	if (strchr(s, ':') != NULL) {   /* IPv6 text (a mapped one is IPv4) */
		assert_false(v4);
		return;
	}
	if (v4 != ok)
		print_error("'%s': inet_pton %d, spf_addr_parse %d\n", s, v4, ok);
	assert_int_equal(ok, v4);
	if (ok) {
		assert_int_equal(a.family, 4);
		assert_memory_equal(a.addr, want, 4);
	}
}

/* The dotted quad read by hand (parse_v4()) is inet_pton(AF_INET): the
 * same verdict and bytes on every string of up to 6 bytes of digits,
 * dots, a colon, a letter and a space, on 200,000 strings of digits and
 * dots of up to 16 bytes, and at the limits of a part. */
static void test_v4_as_inet_pton(void **state)
{
	static const char alpha[] = "0125 9.:a";
	static const char *edge[] = { "0.0.0.0", "255.255.255.255", "256.0.0.0",
		"1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.0", "1.2.3", "1.2.3.4.",
		".1.2.3.4", "1..2.3", "1.2.3.4.5", "1.2.3.2550", "1.2.3.1000",
		"4294967296.1.1.1", "1.2.3.4 ", " 1.2.3.4", "", "1.2.3.-4",
		"1.2.3.+4", "0x1.2.3.4", "1.2.3.4a", "99.99.99.99", "100.200.250.255" };
	char s[32];
	size_t n = sizeof(alpha) - 1, total = 1;
	unsigned long x = 12345;

	(void)state;
	for (size_t i = 0; i < LEN(edge); i++)
		same_as_inet_pton(edge[i]);
	for (int len = 0; len <= 6; len++) {
		for (size_t k = 0; k < total; k++) {
			size_t v = k;

			for (int i = 0; i < len; i++, v /= n)
				s[i] = alpha[v % n];
			s[len] = '\0';
			same_as_inet_pton(s);
		}
		total *= n;
	}
	for (int k = 0; k < 200000; k++) {   /* a fixed sequence (LCG) */
		int len;

		x = x * 6364136223846793005UL + 1442695040888963407UL;
		len = (int)((x >> 33) % 17);
		for (int i = 0; i < len; i++) {
			x = x * 6364136223846793005UL + 1442695040888963407UL;
			s[i] = "0123456789...."[(x >> 33) % 14];
		}
		s[len] = '\0';
		same_as_inet_pton(s);
	}
}

static void test_str_buffers(void **state)
{
	spf_addr_t a;
	char buf[64];

	(void)state;
	assert_true(spf_addr_parse(
	    "1111:2222:3333:4444:5555:6666:7777:8888", &a));
	/* 39 characters + NUL fit in 40, not in 39 */
	assert_string_equal(spf_addr_str(&a, buf, 40),
	    "1111:2222:3333:4444:5555:6666:7777:8888");
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(spf_addr_str(&a, buf, 39), "");
	assert_int_equal(buf[39], 'x');    /* nothing written past len */
	assert_null(spf_addr_str(&a, NULL, 10));
	assert_null(spf_addr_str(&a, buf, 0));
	/* unknown family: empty, still printable */
	memset(&a, 0, sizeof(a));
	assert_string_equal(spf_addr_str(&a, buf, sizeof(buf)), "");
	assert_string_equal(spf_addr_str(NULL, buf, sizeof(buf)), "");

	/* ::ffff:a.b.c.d as an ip6 network (family 6) uses mixed form */
	memset(&a, 0, sizeof(a));
	a.family = 6;
	a.addr[10] = a.addr[11] = 0xff;
	a.addr[12] = 1, a.addr[13] = 2, a.addr[14] = 3, a.addr[15] = 4;
	assert_string_equal(spf_addr_str(&a, buf, sizeof(buf)),
	    "::ffff:1.2.3.4");
	/* longest possible IPv6 text fits 46 bytes */
	assert_non_null(spf_addr_str(&a, buf, 46));
}

static const struct {
	const char *a, *net;
	unsigned prefix;
	bool want;
} net_cases[] = {
	{ "192.0.2.3", "192.0.2.0", 24, true },
	{ "192.0.2.3", "192.0.2.0", 32, false },
	{ "192.0.2.3", "192.0.2.3", 32, true },
	{ "192.0.3.3", "192.0.2.0", 24, false },
	{ "192.0.3.3", "192.0.2.0", 23, true },
	{ "1.2.3.4", "1.1.1.1", 0, true },           /* cidr4-0 */
	{ "1.2.3.4", "1.2.3.4", 33, false },         /* beyond 32 */
	{ "10.0.0.129", "10.0.0.128", 25, true },
	{ "10.0.0.127", "10.0.0.128", 25, false },
	{ "10.0.0.1", "10.0.0.0", 31, true },
	{ "10.0.0.2", "10.0.0.0", 31, false },
	{ "2001:db8:1234::cafe:babe", "2001:db8:1234::dead:beef", 64, true },
	{ "2001:db8:1235::cafe:babe", "2001:db8:1234::dead:beef", 64, false },
	{ "CAFE:BABE:8000::", "Cafe:Babe:8000::", 33, true },  /* cidr6-33 */
	{ "CAFE:BABE:0::", "Cafe:Babe:8000::", 33, false },
	{ "cafe:babe::1", "::", 0, true },
	{ "cafe:babe::1", "cafe:babe::1", 128, true },
	{ "cafe:babe::2", "cafe:babe::1", 128, false },
	{ "cafe:babe::1", "cafe:babe::1", 129, false },
	/* families never mix (cidr6-0-ip4, ip4-mapped-ip6) */
	{ "1.2.3.4", "::", 0, false },
	{ "::ffff:1.2.3.4", "1.2.3.0", 24, true },
	{ "::1", "0.0.0.0", 0, false },
};

static void test_in_net(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(net_cases); i++) {
		spf_addr_t a, n;

		assert_true(spf_addr_parse(net_cases[i].a, &a));
		assert_true(spf_addr_parse(net_cases[i].net, &n));
		if (spf_addr_in_net(&a, &n, net_cases[i].prefix) !=
		    net_cases[i].want)
			print_error("case %s in %s/%u\n", net_cases[i].a,
			    net_cases[i].net, net_cases[i].prefix);
		assert_int_equal(spf_addr_in_net(&a, &n, net_cases[i].prefix),
		    net_cases[i].want);
	}
	assert_false(spf_addr_in_net(NULL, NULL, 0));
}

/* The special-purpose block a network lies in (lint's L-SPECIAL-RANGE). */
static void test_special(void **state)
{
	static const struct {
		const char *net;
		unsigned prefix;
		const char *block;   /* NULL: none */
		bool doc;
	} cases[] = {
		{ "10.1.2.3", 32, "10.0.0.0/8", false },
		{ "10.0.0.0", 8, "10.0.0.0/8", false },
		{ "10.0.0.0", 7, NULL, false },
		{ "172.31.255.0", 24, "172.16.0.0/12", false },
		{ "172.32.0.0", 16, NULL, false },
		{ "100.127.0.0", 16, "100.64.0.0/10", false },
		{ "192.0.2.128", 25, "192.0.2.0/24", true },
		{ "203.0.113.9", 32, "203.0.113.0/24", true },
		{ "224.0.0.251", 32, "224.0.0.0/4", false },
		{ "8.8.8.8", 32, NULL, false },
		{ "0.0.0.0", 0, NULL, false },
		{ "::1", 128, "::1/128", false },
		{ "::2", 128, NULL, false },
		{ "fd12:3456::", 48, "fc00::/7", false },
		{ "fe80::1", 128, "fe80::/10", false },
		{ "2001:db8:1::", 48, "2001:db8::/32", true },
		{ "3fff:123::", 32, "3fff::/20", true },
		{ "2a00:1450::", 32, NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_addr_t n;
		const char *rfc = NULL, *block = NULL, *name;
		bool doc = false;

		assert_true(spf_addr_parse(cases[i].net, &n));
		name = spf_addr_special(&n, cases[i].prefix, &rfc, &block, &doc);
		if (cases[i].block == NULL) {
			assert_null(name);
			continue;
		}
		assert_non_null(name);
		assert_non_null(rfc);
		assert_string_equal(block, cases[i].block);
		assert_int_equal(doc, cases[i].doc);
	}
}

/* An ip6: network written as ::ffff:1.2.3.4 (family 6) never matches an
 * IPv4 client (RFC 7208 §5, test suite ip4-mapped-ip6). */
static void test_mapped_network(void **state)
{
	spf_addr_t client, net;

	(void)state;
	assert_true(spf_addr_parse("::ffff:1.2.3.4", &client));
	memset(&net, 0, sizeof(net));
	net.family = 6;
	net.addr[10] = net.addr[11] = 0xff;
	net.addr[12] = 1, net.addr[13] = 2, net.addr[14] = 3, net.addr[15] = 4;
	assert_false(spf_addr_in_net(&client, &net, 128));
	assert_false(spf_addr_in_net(&client, &net, 0));
}

static void test_results(void **state)
{
	static const struct {
		spf_result_t r;
		const char *name;
	} names[] = {
		{ SPF_RESULT_NONE, "none" },
		{ SPF_RESULT_NEUTRAL, "neutral" },
		{ SPF_RESULT_PASS, "pass" },
		{ SPF_RESULT_FAIL, "fail" },
		{ SPF_RESULT_SOFTFAIL, "softfail" },
		{ SPF_RESULT_TEMPERROR, "temperror" },
		{ SPF_RESULT_PERMERROR, "permerror" },
	};
	spf_result_t r;

	(void)state;
	for (size_t i = 0; i < LEN(names); i++) {
		assert_string_equal(spf_result_str(names[i].r), names[i].name);
		r = (spf_result_t)99;
		assert_true(spf_result_parse(names[i].name, &r));
		assert_int_equal(r, names[i].r);
	}
	assert_true(spf_result_parse("SoftFail", &r));
	assert_int_equal(r, SPF_RESULT_SOFTFAIL);
	assert_true(spf_result_parse("PERMERROR", &r));
	assert_int_equal(r, SPF_RESULT_PERMERROR);
	r = SPF_RESULT_PASS;
	assert_false(spf_result_parse("hardfail", &r));
	assert_false(spf_result_parse("pass ", &r));
	assert_false(spf_result_parse("", &r));
	assert_false(spf_result_parse("unknown", &r));
	assert_false(spf_result_parse(NULL, &r));
	assert_int_equal(r, SPF_RESULT_PASS);        /* untouched */
	assert_string_equal(spf_result_str((spf_result_t)42), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_print),
		cmocka_unit_test(test_v4_as_inet_pton),
		cmocka_unit_test(test_str_buffers),
		cmocka_unit_test(test_in_net),
		cmocka_unit_test(test_mapped_network),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_special),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
