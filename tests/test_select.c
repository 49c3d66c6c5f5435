/*
 * test_select.c - record selection under RFC 7208 §4.5
 * (spf_record_select(), evaluator/check/select.c), the rule the
 * evaluation, its prefetch and lint all take their record from.
 *
 * Table-driven: each case is a TXT RRset written as master-file text,
 * so multi-string records are joined by the same code as replies and
 * zone files (RFC 7208 §3.3: without spaces).  What the callers rely
 * on: the status (one, none, several, a failed lookup), the number of
 * candidates the permerror reports, the selected record and the first
 * candidate.  The Sender ID scopes are tested in test_senderid.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define T "t.example. 60 IN TXT "

struct select_case {
	const char *name;
	const char *zone;            /* records of t.example. (NULL: none) */
	spf_select_status_t status;
	size_t ncand;
	const char *rr;              /* the selected record's text, or NULL */
	const char *first;           /* the first candidate's text, or NULL */
};

static const struct select_case cases[] = {
	{ "alone", T "\"v=spf1\"\n", SPF_SELECT_ONE, 1, "v=spf1", "v=spf1" },
	{ "trailing-space", T "\"v=spf1 \"\n", SPF_SELECT_ONE, 1, "v=spf1 ", "v=spf1 " },
	{ "with-other-txt", T "\"google-site-verification=abc\"\n" T "\"v=spf1 -all\"\n"
	  T "\"v=DKIM1; p=\"\n", SPF_SELECT_ONE, 1, "v=spf1 -all", "v=spf1 -all" },
	{ "upper-case", T "\"V=SPF1 -all\"\n", SPF_SELECT_ONE, 1, "V=SPF1 -all", "V=SPF1 -all" },
	{ "mixed-case", T "\"v=SpF1 ~all\"\n", SPF_SELECT_ONE, 1, "v=SpF1 ~all", "v=SpF1 ~all" },
	/* "v=spf1" must be followed by SP or the end */
	{ "spf10", T "\"v=spf10 -all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "spf10-beside-spf1", T "\"v=spf10\"\n" T "\"v=spf1 -all\"\n",
	  SPF_SELECT_ONE, 1, "v=spf1 -all", "v=spf1 -all" },
	{ "no-space", T "\"v=spf1mx -all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "tab", T "\"v=spf1\\009-all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "leading-space", T "\" v=spf1 -all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "spf2-only", T "\"spf2.0/mfrom,pra -all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "other-only", T "\"hello\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	/* several: permerror, with how many there are */
	{ "two", T "\"v=spf1 -all\"\n" T "\"V=sPf1 a\"\n", SPF_SELECT_MANY, 2, NULL,
	  "v=spf1 -all" },
	{ "three", T "\"v=spf1 -all\"\n" T "\"v=spf1 a\"\n" T "\"v=spf1\"\n" T "\"x\"\n",
	  SPF_SELECT_MANY, 3, NULL, "v=spf1 -all" },
	/* character-strings joined without spaces (RFC 7208 §3.3) */
	{ "split-after-space", T "\"v=spf1 \" \"-all\"\n", SPF_SELECT_ONE, 1,
	  "v=spf1 -all", "v=spf1 -all" },
	{ "split-before-space", T "\"v=spf1\" \" -all\"\n", SPF_SELECT_ONE, 1,
	  "v=spf1 -all", "v=spf1 -all" },
	{ "split-in-version", T "\"v=sp\" \"f1 -all\"\n", SPF_SELECT_ONE, 1,
	  "v=spf1 -all", "v=spf1 -all" },
	{ "split-no-space", T "\"v=spf1\" \"-all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "split-spf10", T "\"v=spf1\" \"0 -all\"\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "split-two", T "\"v=spf1 \" \"a\"\n" T "\"v=\" \"spf1\"\n", SPF_SELECT_MANY, 2,
	  NULL, "v=spf1 a" },
	/* type SPF (99) is not read under RFC 7208 (§3.1, §14.1) */
	{ "spf99-ignored", T "\"v=spf1 -all\"\nt.example. 60 IN SPF \"v=spf1 +all\"\n",
	  SPF_SELECT_ONE, 1, "v=spf1 -all", "v=spf1 -all" },
	{ "spf99-only", "t.example. 60 IN SPF \"v=spf1 +all\"\n", SPF_SELECT_NONE, 0,
	  NULL, NULL },
	/* NODATA and NXDOMAIN: none (§4.5) */
	{ "nodata", "t.example. 60 IN A 192.0.2.1\n", SPF_SELECT_NONE, 0, NULL, NULL },
	{ "nxdomain", NULL, SPF_SELECT_NONE, 0, NULL, NULL },
};

static spf_zone_t *zone_of(const char *text)
{
	spf_zone_t *z = spf_zone_create();
	char *err = NULL;

	assert_non_null(z);
	if (text != NULL && spf_zone_load_mem(z, text, strlen(text), "case", NULL,
	    &err) != SPF_OK)
		fail_msg("zone: %s", err ? err : "?");
	return z;
}

static void assert_text(const spf_dns_rr_t *rr, const char *want, const char *name)
{
	if (want == NULL) {
		if (rr != NULL)
			fail_msg("%s: a record selected, none expected", name);
		return;
	}
	if (rr == NULL)
		fail_msg("%s: no record, \"%s\" expected", name, want);
	if (rr->u.txt.len != strlen(want) || memcmp(rr->u.txt.data, want, rr->u.txt.len) != 0)
		fail_msg("%s: \"%.*s\", \"%s\" expected", name, (int)rr->u.txt.len,
			(const char *)rr->u.txt.data, want);
}

static void test_select_rfc7208(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		const struct select_case *c = &cases[i];
		spf_zone_t *z = zone_of(c->zone);
		spf_dns_answer_t *txt = spf_zone_lookup(z, "t.example", SPF_RR_TXT);
		spf_dns_answer_t *s99 = spf_zone_lookup(z, "t.example", SPF_RR_SPF);
		spf_selection_t sel;

		assert_non_null(txt);
		assert_non_null(s99);
		/* the type-99 answer is ignored in this scope, given or not */
		for (int with99 = 0; with99 < 2; with99++) {
			memset(&sel, 0xa5, sizeof(sel));
			spf_record_select(txt, with99 ? s99 : NULL, SPF_SCOPE_RFC7208,
				with99 != 0, &sel);
			if (sel.status != c->status || sel.ncand != c->ncand)
				fail_msg("%s: status %d with %zu candidates, %d with %zu expected",
					c->name, (int)sel.status, sel.ncand, (int)c->status, c->ncand);
			assert_text(sel.rr, c->rr, c->name);
			assert_text(sel.first, c->first, c->name);
			assert_int_equal(sel.version, c->ncand > 0 ? 1 : 0);
			assert_false(sel.used_spf99);
			assert_int_equal(sel.failed, 0);
		}
		spf_dns_answer_unref(s99);
		spf_dns_answer_unref(txt);
		spf_zone_destroy(z);
	}
}

/* The first candidate is the first v=spf1 record in answer order, the
 * one lint reports on. */
static void test_select_first(void **state)
{
	spf_dns_answer_t *txt = spf_dns_answer_create("t.example", SPF_RR_TXT, SPF_DNS_OK);
	const char *texts[] = { "x", "v=spf1 a", "v=spf10", "V=SPF1 mx", "v=spf1" };
	spf_selection_t sel;

	(void)state;
	for (size_t i = 0; i < LEN(texts); i++) {
		spf_dns_rr_t rr = { .type = SPF_RR_TXT };
		uint16_t len = (uint16_t)strlen(texts[i]);

		rr.u.txt.data = (const uint8_t *)texts[i];
		rr.u.txt.len = len;
		rr.u.txt.nstrings = 1;
		rr.u.txt.lens = &len;
		assert_int_equal(spf_dns_answer_add(txt, &rr), SPF_OK);
	}
	spf_record_select(txt, NULL, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_MANY);
	assert_int_equal(sel.ncand, 3);
	assert_null(sel.rr);
	assert_ptr_equal(sel.first, spf_dns_answer_rr(txt, 1));
	spf_dns_answer_unref(txt);
}

/* A failed lookup is temperror (§4.4), whatever records it holds. */
static void test_select_failed(void **state)
{
	static const spf_dns_status_t failed[] = { SPF_DNS_TEMPFAIL, SPF_DNS_BADREPLY };
	spf_zone_t *z = zone_of(NULL);
	spf_dns_answer_t *ans;
	spf_selection_t sel;

	(void)state;
	/* the zone's timeout flag: TEMPFAIL "timeout" */
	assert_int_equal(spf_zone_set_timeout(z, "t.example"), SPF_OK);
	ans = spf_zone_lookup(z, "t.example", SPF_RR_TXT);
	assert_non_null(ans);
	assert_int_equal(spf_dns_answer_status(ans), SPF_DNS_TEMPFAIL);
	spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_DNS_ERROR);
	assert_int_equal(sel.failed, SPF_RR_TXT);
	assert_int_equal(sel.ncand, 0);
	assert_null(sel.rr);
	assert_null(sel.first);
	spf_dns_answer_unref(ans);
	spf_zone_destroy(z);
	for (size_t i = 0; i < LEN(failed); i++) {
		spf_dns_rr_t rr = { .type = SPF_RR_TXT };
		uint16_t len = 11;

		rr.u.txt.data = (const uint8_t *)"v=spf1 -all";
		rr.u.txt.len = len;
		rr.u.txt.nstrings = 1;
		rr.u.txt.lens = &len;
		ans = spf_dns_answer_create("t.example", SPF_RR_TXT, failed[i]);
		assert_non_null(ans);
		assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
		spf_record_select(ans, NULL, SPF_SCOPE_RFC7208, false, &sel);
		assert_int_equal(sel.status, SPF_SELECT_DNS_ERROR);
		assert_int_equal(sel.failed, SPF_RR_TXT);
		assert_int_equal(sel.ncand, 0);
		assert_null(sel.rr);
		spf_dns_answer_unref(ans);
	}
	/* no answer at all */
	spf_record_select(NULL, NULL, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_DNS_ERROR);
	assert_int_equal(sel.failed, SPF_RR_TXT);
	assert_int_equal(sel.ncand, 0);
	assert_null(sel.rr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_rfc7208),
		cmocka_unit_test(test_select_first),
		cmocka_unit_test(test_select_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
