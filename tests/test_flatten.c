/*
 * test_flatten.c - spf_flatten() on trees built in code: the networks
 * per result (an include gives only the addresses it passes), the terms
 * it must keep (exists, macros), the exp= modifier after all, the
 * lookups the flattened chain costs, a chain split over several records,
 * and the trees it refuses.
 */
#include <string.h>

#include "check.h"
#include "env.h"

#define Z "$TTL 300\n"

/* Lint d in f's environment and flatten it; the lint run is returned
 * in *lint (caller destroys both). */
static spf_flat_t *flatten(env_t *f, const char *zone, const char *d,
	size_t max_answer, spf_lint_t **lint)
{
	spf_lint_request_t req = { .domain = d };
	spf_flatten_opts_t fo = { .max_answer = max_answer };
	spf_flat_t *flat = NULL;
	char why[SPF_FLATTEN_WHY_SIZE];
	spf_status_t st;

	env_load(f, zone);
	*lint = spf_lint_run(f->res, &req, &st);
	assert_non_null(*lint);
	st = spf_flatten(*lint, &fo, &flat, why, sizeof(why));
	if (st != SPF_OK)
		fail_msg("flatten: %s: %s", spf_strerror(st), why);
	return flat;
}

/* The networks of flat whose result is r, joined with ' '. */
static void networks(const spf_flat_t *flat, spf_result_t r, char *out, size_t size)
{
	size_t n = 0;
	const char *const *nets = spf_flat_networks(flat, r, &n);

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(out);

		snprintf(out + len, size - len, "%s%s", i > 0 ? " " : "", nets[i]);
	}
}

static bool has_warning(const spf_flat_t *flat, const char *part)
{
	for (size_t i = 0; i < spf_flat_warning_count(flat); i++)
		if (strstr(spf_flat_warning(flat, i), part) != NULL)
			return true;
	return false;
}

static const char tree[] = Z
	"a.example.org. TXT \"v=spf1 include:inc.example.org a:h.example.org mx "
	"exists:%{i}.ex.example.org ?ip4:198.51.100.7 -all exp=why.example.org\"\n"
	/* only what inc passes comes back: not its -ip4, not its ~all */
	"inc.example.org. TXT \"v=spf1 -ip4:192.0.2.200 ip4:192.0.2.0/25 "
	"ip4:192.0.2.128/25 ip6:2001:db8:1::/48 ~all\"\n"
	"h.example.org. A 203.0.113.5\n"
	"h.example.org. AAAA 2001:db8::1\n"
	"a.example.org. MX 10 mail.example.org.\n"
	"mail.example.org. A 203.0.113.6\n"
	"why.example.org. TXT \"not allowed\"\n";

/* The lint run is only read: two flattenings of one run agree, and a
 * flattening stays whole after the run is gone (ASan and valgrind see a
 * read of freed memory). */
static void test_flat_owns_its_results(void **state)
{
	env_t *f = *state;
	spf_lint_t *lint;
	spf_flat_t *one = flatten(f, tree, "a.example.org", 0, &lint);
	spf_flat_t *two = NULL;
	char why[SPF_FLATTEN_WHY_SIZE], a[512], b[512];

	assert_int_equal(spf_flatten(lint, NULL, &two, why, sizeof(why)), SPF_OK);
	spf_lint_destroy(lint);
	networks(one, SPF_RESULT_PASS, a, sizeof a);
	networks(two, SPF_RESULT_PASS, b, sizeof b);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "203.0.113.6/32"));
	assert_int_equal(spf_flat_record_count(one), spf_flat_record_count(two));
	assert_string_equal(spf_flat_record(one, 0)->name, "a.example.org");
	assert_string_equal(spf_flat_record(one, 0)->text,
		spf_flat_record(two, 0)->text);
	spf_flat_destroy(one);
	spf_flat_destroy(two);
}

static void test_networks_and_kept_terms(void **state)
{
	env_t *f = *state;
	spf_lint_t *lint;
	spf_flat_t *flat = flatten(f, tree, "a.example.org", 0, &lint);
	const spf_flat_record_t *top;
	char buf[512];

	networks(flat, SPF_RESULT_PASS, buf, sizeof buf);
	print_message("pass: %s\n", buf);
	/* -ip4:192.0.2.200 matched first in inc: that address fails there,
	 * so inc does not pass it and its two /25 are cut around it;
	 * a and mx give their hosts, aggregated per family */
	assert_string_equal(buf, "192.0.2.0/25 192.0.2.128/26 192.0.2.192/29 "
		"192.0.2.201/32 192.0.2.202/31 192.0.2.204/30 192.0.2.208/28 "
		"192.0.2.224/27 203.0.113.5/32 203.0.113.6/32 2001:db8::1/128 "
		"2001:db8:1::/48");
	networks(flat, SPF_RESULT_NEUTRAL, buf, sizeof buf);
	assert_string_equal(buf, "198.51.100.7/32");
	networks(flat, SPF_RESULT_SOFTFAIL, buf, sizeof buf);
	assert_string_equal(buf, "");        /* inc's ~all stays inside inc */
	assert_int_equal(spf_flat_default(flat), SPF_RESULT_FAIL);

	assert_true(spf_flat_record_count(flat) >= 1);
	top = spf_flat_record(flat, 0);
	for (size_t i = 0; i < spf_flat_record_count(flat); i++)
		print_message("%s: %s\n", spf_flat_record(flat, i)->name,
			spf_flat_record(flat, i)->text);
	assert_string_equal(top->name, "a.example.org");
	/* the dynamic term is kept as written, in its place (before the
	 * ?ip4 that follows it), with a warning; the static ones are gone */
	assert_true(strstr(top->text, "exists:") < strstr(top->text, "?ip4:198.51.100.7"));
	assert_non_null(strstr(top->text, "exists:%{i}.ex.example.org"));
	assert_null(strstr(top->text, "include:inc.example.org"));
	assert_null(strstr(top->text, " mx"));
	assert_null(strstr(top->text, "a:h.example.org"));
	assert_true(has_warning(flat, "exists"));
	/* exp= stays, after all (RFC 7208 §6.2: the explanation of a fail) */
	{
		const char *all = strstr(top->text, "-all");
		size_t len = strlen(top->text);

		assert_non_null(all);
		assert_true(len > strlen(" exp=why.example.org"));
		assert_string_equal(top->text + len - strlen(" exp=why.example.org"),
			" exp=why.example.org");
		assert_true(all < strstr(top->text, "exp="));
	}
	/* what the chain costs: exists is the only querying term left in a
	 * chain of one record */
	assert_int_equal(spf_flat_record_count(flat), 1);
	assert_int_equal(spf_flat_lookups(flat), 1);
	spf_flat_destroy(flat);
	spf_lint_destroy(lint);
}

/* Many networks and a small answer size: a chain of records, each
 * answer under the size, each string at most 255 bytes, linked by
 * include (one lookup each past the first record). */
static void test_chain(void **state)
{
	env_t *f = *state;
	char zone[8192];
	size_t off;
	spf_lint_t *lint;
	spf_flat_t *flat;
	size_t nrec, n = 0;

	/* one character-string a term: a string holds at most 255 bytes */
	off = (size_t)snprintf(zone, sizeof zone, Z "c.example.org. TXT \"v=spf1\"");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(zone + off, sizeof zone - off, " \" ip4:10.%d.0.1\"", 2 * i);
	snprintf(zone + off, sizeof zone - off, " \" -all\"\n");
	flat = flatten(f, zone, "c.example.org", 200, &lint);
	nrec = spf_flat_record_count(flat);
	print_message("%zu records, %u lookups\n", nrec, spf_flat_lookups(flat));
	assert_true(nrec >= 2);
	for (size_t i = 0; i < nrec; i++) {
		const spf_flat_record_t *r = spf_flat_record(flat, i);

		assert_true(r->answer_size <= 200);
		for (size_t j = 0; j < r->nstrings; j++)
			assert_true(strlen(r->strings[j]) <= 255);
		if (i + 1 < nrec)
			assert_non_null(strstr(r->text, spf_flat_record(flat, i + 1)->name));
	}
	assert_int_equal(spf_flat_lookups(flat), nrec - 1);
	(void)spf_flat_networks(flat, SPF_RESULT_PASS, &n);
	assert_int_equal(n, 40);             /* none adjacent: none merged */
	spf_flat_destroy(flat);
	spf_lint_destroy(lint);
}

/* A tree with a permerror cannot be flattened faithfully. */
static void test_refuses_errors(void **state)
{
	env_t *f = *state;
	spf_lint_request_t req = { .domain = "e.example.org" };
	spf_flatten_opts_t fo = { 0 };
	spf_flat_t *flat = NULL;
	char why[SPF_FLATTEN_WHY_SIZE];
	spf_status_t st;
	spf_lint_t *lint;

	env_load(f, Z "e.example.org. TXT \"v=spf1 include:none.example.org -all\"\n");
	lint = spf_lint_run(f->res, &req, &st);
	assert_non_null(lint);
	assert_int_equal(spf_flatten(lint, &fo, &flat, why, sizeof(why)), SPF_EINVAL);
	assert_null(flat);
	assert_true(why[0] != '\0');
	print_message("why: %s\n", why);
	spf_lint_destroy(lint);
}

/* "+all" after a "-ip6:" in an include passes all of IPv6 but that
 * network: the part from :: up is not ::/0 (it was, through a shift by
 * 128 in the CIDR blocks, and flatten's own check then failed). */
static void test_all_but_one_network(void **state)
{
	env_t *f = *state;
	spf_lint_t *lint;
	spf_flat_t *flat = flatten(f, Z
	    "t.example.org. TXT \"v=spf1 include:i.example.org -all\"\n"
	    "i.example.org. TXT \"v=spf1 -ip6:fe80::/10 -ip4:192.0.2.0/24 +all\"\n",
	    "t.example.org", 0, &lint);
	char buf[512];

	networks(flat, SPF_RESULT_PASS, buf, sizeof buf);
	assert_string_equal(buf, "0.0.0.0/1 128.0.0.0/2 192.0.0.0/23 192.0.3.0/24 "
	    "192.0.4.0/22 192.0.8.0/21 192.0.16.0/20 192.0.32.0/19 192.0.64.0/18 "
	    "192.0.128.0/17 192.1.0.0/16 192.2.0.0/15 192.4.0.0/14 192.8.0.0/13 "
	    "192.16.0.0/12 192.32.0.0/11 192.64.0.0/10 192.128.0.0/9 193.0.0.0/8 "
	    "194.0.0.0/7 196.0.0.0/6 200.0.0.0/5 208.0.0.0/4 224.0.0.0/3 "
	    "::/1 8000::/2 c000::/3 e000::/4 f000::/5 f800::/6 fc00::/7 fe00::/9 "
	    "fec0::/10 ff00::/8");
	/* the +all inside the include is kept: say so (issue 17) */
	assert_true(has_warning(flat, "'+all' in the record of i.example.org lets every host"));
	spf_flat_destroy(flat);
	spf_lint_destroy(lint);
}

/* Everything flatten printed: the records and the networks per result. */
static void result_text(const spf_flat_t *flat, char *out, size_t size)
{
	static const spf_result_t rs[] = { SPF_RESULT_PASS, SPF_RESULT_FAIL,
		SPF_RESULT_SOFTFAIL, SPF_RESULT_NEUTRAL };
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < spf_flat_record_count(flat); i++)
		len += (size_t)snprintf(out + len, size - len, "%s: %s\n",
		    spf_flat_record(flat, i)->name, spf_flat_record(flat, i)->text);
	for (size_t k = 0; k < 4; k++) {
		len += (size_t)snprintf(out + len, size - len, "%s:",
		    spf_result_str(rs[k]));
		networks(flat, rs[k], out + len, size - len);
		len += strlen(out + len);
		len += (size_t)snprintf(out + len, size - len, "\n");
	}
	assert_true(len < size);
}

/* Fail each allocation of spf_flatten() in turn, until a run makes
 * fewer allocations than the one to fail: every failure is SPF_ENOMEM
 * with nothing returned or leaked (ASan), and the lint run stays usable
 * for the next try. */
static void enomem_sweep(env_t *f, const char *zone, const char *d,
	size_t max_answer)
{
	spf_flatten_opts_t fo = { .max_answer = max_answer };
	spf_lint_t *lint;
	spf_flat_t *flat = flatten(f, zone, d, max_answer, &lint);
	static char want[16384], got[16384];
	unsigned long nth, fails = 0;

	result_text(flat, want, sizeof(want));
	spf_flat_destroy(flat);
	for (nth = 1; nth < 100000; nth++) {
		char why[SPF_FLATTEN_WHY_SIZE];
		spf_status_t st;
		unsigned long made;

		flat = NULL;
		spf_alloc_fail_at(nth);
		st = spf_flatten(lint, &fo, &flat, why, sizeof(why));
		made = spf_alloc_count();
		spf_alloc_fail_at(0);
		if (st == SPF_OK) {
			/* either nothing failed, or the failure was absorbed
			 * without changing the result */
			result_text(flat, got, sizeof(got));
			assert_string_equal(got, want);
			spf_flat_destroy(flat);
		} else {
			assert_int_equal(st, SPF_ENOMEM);
			assert_null(flat);
			fails++;
		}
		if (made < nth)
			break;
	}
	print_message("%s: %lu allocations, %lu failed runs\n", d, nth - 1, fails);
	assert_true(fails > 0);
	spf_lint_destroy(lint);
}

static void test_enomem(void **state)
{
	env_t *f = *state;
	char zone[8192];
	size_t off;

	enomem_sweep(f, tree, "a.example.org", 0);
	off = (size_t)snprintf(zone, sizeof zone, Z "c.example.org. TXT \"v=spf1\"");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(zone + off, sizeof zone - off, " \" ip4:10.%d.0.1\"", 2 * i);
	snprintf(zone + off, sizeof zone - off, " \" -all\"\n");
	enomem_sweep(f, zone, "c.example.org", 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_flat_owns_its_results, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_networks_and_kept_terms, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_chain, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_errors, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_all_but_one_network, env_setup, env_teardown),
		cmocka_unit_test_setup_teardown(test_enomem, env_setup, env_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
