/*
 * test_ipset.c - networks and address sets (evaluator/lint/ipset.c):
 * merging what overlaps or touches, difference splitting a range, the
 * two families kept apart, the fewest CIDR blocks of an unaligned range,
 * the whole space of each family (the IPv6 one ends at 2^128-1), the
 * edges flatten verifies at, membership (tree --ip), and every
 * allocation failing once.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"

#include "ipset.h"

__extension__ typedef unsigned __int128 u128;

/* Add "addr/len" (or a bare address: its full length) to s. */
static spf_status_t add(spf_arena_t *a, spf_ipset_t *s, const char *net)
{
	char buf[64];
	char *slash;
	spf_addr_t addr;
	unsigned prefix;

	snprintf(buf, sizeof(buf), "%s", net);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (!spf_addr_parse(buf, &addr))
		fail_msg("not an address: %s", net);
	prefix = slash != NULL ? (unsigned)atoi(slash + 1) :
	    addr.family == 4 ? 32u : 128u;
	return spf_ipset_add_net(a, s, &addr, prefix);
}

/* A set of the networks in the NULL-terminated list. */
static spf_ipset_t set_of(spf_arena_t *a, const char *const *nets)
{
	spf_ipset_t s = { 0 };

	for (size_t i = 0; nets != NULL && nets[i] != NULL; i++)
		assert_int_equal(add(a, &s, nets[i]), SPF_OK);
	return s;
}

/* The CIDR blocks of s, space-separated, in the arena. */
static const char *blocks(spf_arena_t *a, const spf_ipset_t *s)
{
	spf_net_t *nets;
	size_t n;
	spf_buf_t b;
	const char *out;

	assert_int_equal(spf_ipset_cidrs(a, s, &nets, &n), SPF_OK);
	spf_buf_init(&b, 1 << 16);
	for (size_t i = 0; i < n; i++) {
		char ip[64];

		spf_buf_printf(&b, "%s%s/%u", i ? " " : "",
		    spf_addr_str(&nets[i].addr, ip, sizeof(ip)), nets[i].prefix);
	}
	assert_int_equal(b.err, SPF_OK);
	out = spf_arena_strdup(a, spf_buf_cstr(&b));
	spf_buf_finish(&b);
	return out;
}

/* How many addresses of family s holds, from its blocks.  The whole
 * IPv6 space (2^128) has no u128: *full says it instead. */
static u128 count(spf_arena_t *a, const spf_ipset_t *s, int family, bool *full)
{
	spf_net_t *nets;
	size_t n;
	u128 sum = 0;
	unsigned bits = family == 4 ? 32 : 128;

	*full = false;
	assert_int_equal(spf_ipset_cidrs(a, s, &nets, &n), SPF_OK);
	for (size_t i = 0; i < n; i++) {
		if (nets[i].addr.family != family)
			continue;
		if (bits - nets[i].prefix == 128) {
			*full = true;
			continue;
		}
		sum += (u128)1 << (bits - nets[i].prefix);
	}
	return sum;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct {
	const char *name;
	const char *const *add;
	const char *const *minus;      /* NULL: no difference taken */
	const char *blocks;
	u128 count4, count6;           /* count6 == 0 and full6: all of IPv6 */
	bool full6;
} cases[] = {
	{ "adjacent halves merge", L("192.0.2.128/25", "192.0.2.0/25"), NULL,
	  "192.0.2.0/24", 256, 0, false },
	{ "overlap inside", L("10.1.2.0/24", "10.0.0.0/8", "10.255.0.0/16"), NULL,
	  "10.0.0.0/8", 1u << 24, 0, false },
	{ "a gap bridged", L("192.0.2.0", "192.0.2.2", "192.0.2.1"), NULL,
	  "192.0.2.0/31 192.0.2.2/32", 3, 0, false },
	{ "touching ranges merge, a gap stays", L("192.0.2.0/31", "192.0.2.3", "192.0.2.4/30"), NULL,
	  "192.0.2.0/31 192.0.2.3/32 192.0.2.4/30", 7, 0, false },
	{ "host bits cleared, prefix clamped", L("192.0.2.77/24", "198.51.100.9/40",
	  "2001:db8::1/200"), NULL, "192.0.2.0/24 198.51.100.9/32 2001:db8::1/128",
	  257, 1, false },
	/* 0.0.0.0 and :: are the integer 0 of their family: never merged */
	{ "families apart", L("0.0.0.0", "::", "0.0.0.1", "::2"), NULL,
	  "0.0.0.0/31 ::/128 ::2/128", 2, 2, false },
	{ "all of IPv4", L("0.0.0.0/0", "192.0.2.0/24"), NULL,
	  "0.0.0.0/0", (u128)1 << 32, 0, false },
	{ "all of IPv6", L("2001:db8::/32", "::/0"), NULL, "::/0", 0, 0, true },
	{ "top of IPv4", L("255.255.255.255", "255.255.255.254"), NULL,
	  "255.255.255.254/31", 2, 0, false },
	/* adding next to 2^128-1 must not wrap hi + 1 to 0 */
	{ "top of IPv6", L("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), NULL,
	  "::/128 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", 0, 3, false },
	{ "minus splits a range", L("192.0.2.0/24"), L("192.0.2.200"),
	  "192.0.2.0/25 192.0.2.128/26 192.0.2.192/29 192.0.2.201/32 "
	  "192.0.2.202/31 192.0.2.204/30 192.0.2.208/28 192.0.2.224/27",
	  255, 0, false },
	{ "unaligned range, fewest blocks", L("10.0.0.0/29"),
	  L("10.0.0.0", "10.0.0.7"),
	  "10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32", 6, 0, false },
	{ "minus several from one range", L("192.0.2.0/28", "2001:db8::/126"),
	  L("192.0.2.0/30", "192.0.2.8/30", "2001:db8::1", "2001:db8::2"),
	  "192.0.2.4/30 192.0.2.12/30 2001:db8::/128 2001:db8::3/128", 8, 2, false },
	{ "minus the other family: nothing", L("192.0.2.0/24"), L("::/0"),
	  "192.0.2.0/24", 256, 0, false },
	{ "minus IPv4 keeps IPv6", L("0.0.0.0/0", "::/0"), L("0.0.0.0/0"),
	  "::/0", 0, 0, true },
	{ "minus everything", L("192.0.2.0/24", "2001:db8::/32"),
	  L("0.0.0.0/0", "::/0"), "", 0, 0, false },
	/* from :: past the middle of the space but short of its top: not
	 * ::/0 */
	{ "IPv6 from the bottom, not to the top", L("::/1", "8000::/2"), NULL,
	  "::/1 8000::/2", 0, (u128)3 << 126, false },
	{ "all of IPv6 but fe80::/10", L("::/0"), L("fe80::/10"),
	  "::/1 8000::/2 c000::/3 e000::/4 f000::/5 f800::/6 fc00::/7 fe00::/9 "
	  "fec0::/10 ff00::/8", 0, ~(u128)0 - ((u128)1 << 118) + 1, false },
	{ "all of IPv4 but its top", L("0.0.0.0/0"), L("255.255.255.255"),
	  "0.0.0.0/1 128.0.0.0/2 192.0.0.0/3 224.0.0.0/4 240.0.0.0/5 248.0.0.0/6 "
	  "252.0.0.0/7 254.0.0.0/8 255.0.0.0/9 255.128.0.0/10 255.192.0.0/11 "
	  "255.224.0.0/12 255.240.0.0/13 255.248.0.0/14 255.252.0.0/15 "
	  "255.254.0.0/16 255.255.0.0/17 255.255.128.0/18 255.255.192.0/19 "
	  "255.255.224.0/20 255.255.240.0/21 255.255.248.0/22 255.255.252.0/23 "
	  "255.255.254.0/24 255.255.255.0/25 255.255.255.128/26 "
	  "255.255.255.192/27 255.255.255.224/28 255.255.255.240/29 "
	  "255.255.255.248/30 255.255.255.252/31 255.255.255.254/32",
	  0xffffffffu, 0, false },
};

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_ipset_t s, m, d;
		const spf_ipset_t *r;
		bool full;

		assert_non_null(a);
		print_message("%s\n", cases[i].name);
		s = set_of(a, cases[i].add);
		r = &s;
		if (cases[i].minus != NULL) {
			m = set_of(a, cases[i].minus);
			assert_int_equal(spf_ipset_minus(a, &s, &m, &d), SPF_OK);
			r = &d;
		}
		assert_string_equal(blocks(a, r), cases[i].blocks);
		assert_true(spf_ipset_empty(r) == (cases[i].blocks[0] == '\0'));
		assert_true(count(a, r, 4, &full) == cases[i].count4);
		assert_false(full);
		assert_true(count(a, r, 6, &full) == cases[i].count6);
		assert_int_equal(full, cases[i].full6);
		spf_arena_destroy(a);
	}
}

/* ::/0 minus an end of the IPv6 space: 128 blocks covering 2^128-1
 * addresses, the largest count a u128 holds. */
static void test_ipv6_space_minus_one(void **state)
{
	static const struct {
		const char *out, *first, *last;
	} ends[] = {
		{ "::", "::1/128", "8000::/1" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/1",
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_ipset_t all = set_of(a, L("::/0")), one = set_of(a, L(ends[i].out)), d;
		spf_net_t *nets;
		size_t n;
		char ip[64], first[80], last[80];
		bool full;

		assert_int_equal(spf_ipset_minus(a, &all, &one, &d), SPF_OK);
		assert_int_equal(spf_ipset_cidrs(a, &d, &nets, &n), SPF_OK);
		assert_int_equal(n, 128);
		snprintf(first, sizeof(first), "%s/%u",
		    spf_addr_str(&nets[0].addr, ip, sizeof(ip)), nets[0].prefix);
		snprintf(last, sizeof(last), "%s/%u",
		    spf_addr_str(&nets[n - 1].addr, ip, sizeof(ip)), nets[n - 1].prefix);
		assert_string_equal(first, ends[i].first);
		assert_string_equal(last, ends[i].last);
		assert_true(count(a, &d, 6, &full) == ~(u128)0);
		assert_false(full);
		/* and adding the address back gives the whole space again */
		assert_int_equal(spf_ipset_union(a, &d, &one), SPF_OK);
		assert_string_equal(blocks(a, &d), "::/0");
		spf_arena_destroy(a);
	}
}

static void test_union(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_ipset_t x = set_of(a, L("192.0.2.0/25", "2001:db8::/33", "203.0.113.0/24"));
	spf_ipset_t y = set_of(a, L("192.0.2.128/25", "2001:db8:8000::/33", "10.0.0.0/8"));
	spf_ipset_t e = { 0 };

	(void)state;
	assert_true(spf_ipset_empty(&e));
	assert_int_equal(spf_ipset_union(a, &x, &e), SPF_OK);
	assert_int_equal(spf_ipset_union(a, &x, &y), SPF_OK);
	assert_string_equal(blocks(a, &x),
	    "10.0.0.0/8 192.0.2.0/24 203.0.113.0/24 2001:db8::/32");
	/* y was only read */
	assert_string_equal(blocks(a, &y), "10.0.0.0/8 192.0.2.128/25 2001:db8:8000::/33");
	assert_int_equal(spf_ipset_union(a, &e, &y), SPF_OK);
	assert_string_equal(blocks(a, &e), blocks(a, &y));
	spf_arena_destroy(a);
}

/* Address counts per family (lint's L-PASS-WIDE). */
static void test_count(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_ipset_t x = set_of(a, L("0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"));
	spf_ipset_t y = set_of(a, L("192.0.2.0/24", "198.51.100.7", "2001:db8::/120"));
	spf_ipset_t e = { 0 };

	(void)state;
	assert_true(spf_ipset_count(&x, 4) == 4294967296.0);
	assert_true(spf_ipset_count(&x, 6) > 3.4e38);
	assert_true(spf_ipset_count(&y, 4) == 257.0);
	assert_true(spf_ipset_count(&y, 6) == 256.0);
	assert_true(spf_ipset_count(&e, 4) == 0.0);
	spf_arena_destroy(a);
}

static void test_net(void **state)
{
	spf_addr_t a, first, last;
	char ip[64];

	(void)state;
	assert_true(spf_addr_parse("192.0.2.77", &a));
	assert_int_equal(spf_ipset_net(&a, 26, &first, &last), 26);
	assert_string_equal(spf_addr_str(&first, ip, sizeof(ip)), "192.0.2.64");
	assert_string_equal(spf_addr_str(&last, ip, sizeof(ip)), "192.0.2.127");
	assert_int_equal(spf_ipset_net(&a, 99, &first, NULL), 32);
	assert_string_equal(spf_addr_str(&first, ip, sizeof(ip)), "192.0.2.77");
	assert_int_equal(spf_ipset_net(&a, 0, NULL, &last), 0);
	assert_string_equal(spf_addr_str(&last, ip, sizeof(ip)), "255.255.255.255");
	assert_true(spf_addr_parse("2001:db8::1", &a));
	assert_int_equal(spf_ipset_net(&a, 0, &first, &last), 0);
	assert_string_equal(spf_addr_str(&first, ip, sizeof(ip)), "::");
	assert_string_equal(spf_addr_str(&last, ip, sizeof(ip)),
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(spf_ipset_net(&a, 129, NULL, &last), 128);
	assert_string_equal(spf_addr_str(&last, ip, sizeof(ip)), "2001:db8::1");
}

/* The addresses flatten verifies at: each range's ends and neighbours. */
static void test_edges(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_ipset_t s = set_of(a, L("192.0.2.0/24", "198.51.100.7", "0.0.0.0/0"));
	spf_ipset_t t = set_of(a, L("192.0.2.0/24", "198.51.100.7", "::1"));
	spf_addr_t out[16];
	char ip[64], got[512];
	size_t k = 0;

	(void)state;
	/* the whole space has no neighbours */
	spf_ipset_edges(&s, 4, out, 16, &k);
	assert_int_equal(k, 2);
	assert_string_equal(spf_addr_str(&out[0], ip, sizeof(ip)), "0.0.0.0");
	assert_string_equal(spf_addr_str(&out[1], ip, sizeof(ip)), "255.255.255.255");
	/* a single address has no separate last; IPv4 before IPv6 is the
	 * caller's order; room for 4 more is needed to start a range */
	k = 0;
	spf_ipset_edges(&t, 4, out, 16, &k);
	assert_int_equal(k, 7);
	spf_ipset_edges(&t, 6, out, 11, &k);
	spf_ipset_edges(&t, 6, out, 11, &k);   /* no room: nothing */
	got[0] = '\0';
	for (size_t i = 0; i < k; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
		    i ? " " : "", spf_addr_str(&out[i], ip, sizeof(ip)));
	assert_string_equal(got, "192.0.2.0 192.0.2.255 192.0.1.255 192.0.3.0 "
	    "198.51.100.7 198.51.100.6 198.51.100.8 ::1 :: ::2");
	spf_arena_destroy(a);
}

/* Fail each allocation of a run in turn: a call that fails says
 * SPF_ENOMEM and leaves a set that is still a set (what was added
 * before, nothing half-done); ASan sees no leak or bad access. */
/* spf_ipset_contains(): the ends of each range, just outside them, the
 * other family, the whole IPv6 space. */
static void test_contains(void **state)
{
	static const struct {
		const char *addr;
		bool in;
	} probes[] = {
		{ "192.0.2.0", true }, { "192.0.2.255", true }, { "192.0.1.255", false },
		{ "192.0.3.0", false }, { "198.51.100.7", true }, { "198.51.100.6", false },
		{ "198.51.100.8", false }, { "10.0.0.1", false }, { "0.0.0.0", false },
		{ "2001:db8::", true }, { "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true },
		{ "2001:db9::", false }, { "::c000:201", false },
	};
	static const char *const nets[] = { "198.51.100.7", "192.0.2.0/24",
		"2001:db8::/32", "203.0.113.0/25", NULL };
	spf_arena_t *a = spf_arena_create();
	spf_ipset_t s = set_of(a, nets), all6 = { 0 }, empty = { 0 };
	spf_addr_t ip;

	(void)state;
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		assert_true(spf_addr_parse(probes[i].addr, &ip));
		if (spf_ipset_contains(&s, &ip) != probes[i].in)
			fail_msg("%s: want %s", probes[i].addr, probes[i].in ? "in" : "out");
		assert_false(spf_ipset_contains(&empty, &ip));
	}
	assert_int_equal(add(a, &all6, "::/0"), SPF_OK);
	assert_true(spf_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &ip));
	assert_true(spf_ipset_contains(&all6, &ip));
	assert_true(spf_addr_parse("192.0.2.1", &ip));
	assert_false(spf_ipset_contains(&all6, &ip));
	spf_arena_destroy(a);
}

static void test_enomem(void **state)
{
	bool failed = true;

	(void)state;
	for (unsigned long nth = 1; failed; nth++) {
		spf_arena_t *a = spf_arena_create();
		spf_ipset_t s = { 0 }, m = { 0 }, d, u = { 0 };
		spf_net_t *nets;
		size_t n, ok = 0;
		char net[32];
		spf_status_t st;

		assert_non_null(a);
		failed = false;
		spf_alloc_fail_at(nth);
		/* 300 separate /32s: the range array grows and the arena
		 * takes new chunks */
		for (unsigned i = 0; i < 300; i++) {
			snprintf(net, sizeof(net), "10.0.%u.%u", i / 100, 2 * (i % 100));
			st = add(a, &s, net);
			if (st == SPF_OK)
				ok++;
			else
				assert_int_equal(st, SPF_ENOMEM);
		}
		failed |= ok < 300;
		st = add(a, &m, "10.0.0.0/23");
		failed |= st != SPF_OK;
		st = spf_ipset_minus(a, &s, &m, &d);
		failed |= st != SPF_OK;
		st = spf_ipset_union(a, &u, &s);
		failed |= st != SPF_OK;
		st = spf_ipset_cidrs(a, &s, &nets, &n);
		if (st != SPF_OK) {
			assert_int_equal(st, SPF_ENOMEM);
			assert_null(nets);
			assert_int_equal(n, 0);
			failed = true;
		}
		spf_alloc_fail_at(0);
		/* every add that succeeded is there, and nothing else */
		assert_int_equal(spf_ipset_cidrs(a, &s, &nets, &n), SPF_OK);
		assert_int_equal(n, ok);
		for (size_t i = 1; i < n; i++)
			assert_true(memcmp(nets[i - 1].addr.addr, nets[i].addr.addr, 4) < 0);
		/* the sets built under failure still work */
		assert_int_equal(spf_ipset_union(a, &u, &s), SPF_OK);
		assert_int_equal(spf_ipset_cidrs(a, &u, &nets, &n), SPF_OK);
		assert_int_equal(n, ok);
		assert_int_equal(spf_ipset_minus(a, &s, &m, &d), SPF_OK);
		spf_arena_destroy(a);
		assert_true(nth < 1000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_ipv6_space_minus_one),
		cmocka_unit_test(test_union),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_net),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_contains),
		cmocka_unit_test(test_enomem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
