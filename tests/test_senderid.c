/*
 * test_senderid.c - SenderID (RFC 4406): spf2.x version sections (with
 * every SID-04 subcase), parsing, record selection per scope (SPECS
 * A.3) in the evaluator, the two RFC 4406 test-suite cases, and each
 * conflict rule SID-01 ... SID-14 with a zone that triggers it and one
 * that does not.
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

#include "internal.h"

/* ---- version sections ---- */

static void test_version(void **state)
{
	static const struct {
		const char *text;
		int version;
		bool well_formed;
		unsigned scopes;
		unsigned flags;
	} cases[] = {
		{ "v=spf1 -all", 1, true, 0, 0 },
		{ "v=spf1", 1, true, 0, 0 },
		{ "V=SPF1 mx", 1, true, 0, 0 },
		{ "v=spf1x -all", 0, false, 0, 0 },
		{ "hello world", 0, false, 0, 0 },
		{ "spf2.0/mfrom", 2, true, SPF_SCOPE_BIT_MFROM, 0 },
		{ "spf2.0/pra ?all", 2, true, SPF_SCOPE_BIT_PRA, 0 },
		{ "spf2.0/mfrom,pra -all", 2, true, SPF_SCOPE_BIT_MFROM | SPF_SCOPE_BIT_PRA, 0 },
		{ "spf2.0/pra,mfrom -all", 2, true, SPF_SCOPE_BIT_MFROM | SPF_SCOPE_BIT_PRA, 0 },
		/* A.3 step 3: whole tokens only */
		{ "spf2.0/mfrom,prattle,fubar -all", 2, true, SPF_SCOPE_BIT_MFROM, 0 },
		{ "spf2.0/mfrom,pra,fubar -all", 2, true, SPF_SCOPE_BIT_MFROM | SPF_SCOPE_BIT_PRA, 0 },
		/* SID-04 (a) ... (j) */
		{ "v=spf2.0/pra ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_V_PREFIX },
		{ "spf2/pra ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_BAD_MINOR },
		{ "spf2./pra ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_BAD_MINOR },
		{ "spf2.x/pra ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_BAD_MINOR },
		{ "spf2.0 ?all", 2, false, 0, SPF_VER_NO_SCOPE },
		{ "spf2.0", 2, false, 0, SPF_VER_NO_SCOPE },
		{ "spf2.0/ ?all", 2, false, 0, SPF_VER_EMPTY_SCOPE },
		{ "spf2.0/pra, ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_EMPTY_SCOPE },
		{ "spf2.0/pra,", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_EMPTY_SCOPE },
		{ "spf2.0/,pra ?all", 2, false, SPF_SCOPE_BIT_PRA, SPF_VER_EMPTY_SCOPE },
		{ "spf2.0/mfrom, pra ?all", 2, false, SPF_SCOPE_BIT_MFROM, SPF_VER_SPACE_SCOPE },
		{ "spf2.0/mfrom ,pra ?all", 2, false, SPF_SCOPE_BIT_MFROM, SPF_VER_SPACE_SCOPE },
		{ "spf2.0/pra+mx ?all", 2, false, 0, SPF_VER_BAD_CHAR },
		{ "spf2.0/1pra", 2, false, 0, SPF_VER_BAD_CHAR },
		{ "spf2.0/helo -all", 2, true, 0, SPF_VER_UNKNOWN_ONLY },
		{ "spf2.1/pra ?all", 2, true, SPF_SCOPE_BIT_PRA, SPF_VER_MINOR_NOT_0 },
		{ "spf2.0/pra,pra ?all", 2, true, SPF_SCOPE_BIT_PRA, SPF_VER_REPEATED },
		{ "SPF2.0/PRA ?all", 2, true, SPF_SCOPE_BIT_PRA, SPF_VER_UPPER },
		{ "spf2.0/MFROM,pra", 2, true, SPF_SCOPE_BIT_MFROM | SPF_SCOPE_BIT_PRA, SPF_VER_UPPER },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spf_version_info_t vi;

		spf_record_version((const uint8_t *)cases[i].text, strlen(cases[i].text), &vi);
		if (vi.version != cases[i].version || vi.well_formed != cases[i].well_formed ||
		    vi.scopes != cases[i].scopes || vi.flags != cases[i].flags)
			fail_msg("'%s': version %d well_formed %d scopes %x flags %x; want %d %d %x %x",
				cases[i].text, vi.version, vi.well_formed, vi.scopes, vi.flags,
				cases[i].version, cases[i].well_formed, cases[i].scopes, cases[i].flags);
		assert_true((vi.problem != NULL) == (vi.flags != 0));
	}
}

static void test_parse_version(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = NULL;
	spf_parse_error_t err;
	const char *r1 = "spf2.0/mfrom,pra +mx +ip4:192.168.0.100 -all";

	(void)state;
	/* the RFC 7208 parser does not change: spf2.0 is not v=spf1 */
	assert_int_equal(spf_record_parse(arena, (const uint8_t *)r1, strlen(r1), &rec, &err),
		SPF_ESYNTAX);
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)r1, strlen(r1), &rec,
		&err), SPF_OK);
	assert_int_equal(rec->version, 2);
	assert_int_equal(rec->scopes, SPF_SCOPE_BIT_MFROM | SPF_SCOPE_BIT_PRA);
	assert_int_equal(rec->terms_start, 16);
	assert_int_equal(rec->nterms, 3);
	assert_string_equal(rec->terms[1].text, "+ip4:192.168.0.100");
	assert_int_equal(rec->terms[1].offset, 21);
	assert_int_equal(rec->all, 2);
	/* v=spf1 through the new entry point: the same as before */
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)"v=spf1 a -all", 13,
		&rec, &err), SPF_OK);
	assert_int_equal(rec->version, 1);
	assert_int_equal(rec->nterms, 2);
	assert_int_equal(spf_record_parse(arena, (const uint8_t *)"v=spf1 a -all", 13, &rec,
		&err), SPF_OK);
	assert_int_equal(rec->version, 1);
	/* a bare scope: no terms */
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)"spf2.0/pra", 10, &rec,
		&err), SPF_OK);
	assert_int_equal(rec->nterms, 0);
	/* malformed version sections and bad terms */
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)"v=spf2.0/pra ?all", 17,
		&rec, &err), SPF_ESYNTAX);
	assert_non_null(strstr(err.message, "v="));
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)"spf2.0/pra ip4:1.2.3",
		20, &rec, &err), SPF_ESYNTAX);
	assert_int_equal(err.offset, 15);
	assert_int_equal(spf_record_parse_version(arena, (const uint8_t *)"hello", 5, &rec, &err),
		SPF_ESYNTAX);
	assert_non_null(strstr(err.message, "spf2.0"));
	spf_arena_destroy(arena);
}

/* ---- an environment per test (env.h) ---- */

/* An environment whose zone is the master-file text zone. */
static env_t *world_open(const char *zone)
{
	env_t *e = env_create();

	assert_non_null(e);
	env_load(e, zone);
	return e;
}

static spf_result_t check(env_t *w, const char *ip, const char *sender,
	spf_scope_t scope, bool v1_for_pra, bool spf99, const char **mech)
{
	spf_request_t req = { .sender = sender, .helo = "mx.example.net", .scope = scope,
		.v1_for_pra = v1_for_pra, .query_spf99 = spf99 };
	spf_job_t *job;
	spf_result_t r;
	static char last[256];

	assert_true(spf_addr_parse(ip, &req.ip));
	job = spf_check_sync(w->res, &req, NULL);
	assert_non_null(job);
	r = spf_job_result(job);
	snprintf(last, sizeof(last), "%s", spf_job_mechanism(job) ? spf_job_mechanism(job) :
		spf_job_problem(job) ? spf_job_problem(job) : "");
	if (mech != NULL)
		*mech = last;
	spf_job_destroy(job);
	return r;
}

#define MF SPF_SCOPE_MFROM
#define PRA SPF_SCOPE_PRA
#define V7 SPF_SCOPE_RFC7208

/* RFC 4406 test suite (T4406), spec 4.4/6 and 4.4/8 */
static void test_rfc4406_suite(void **state)
{
	env_t *w;

	(void)state;
	/* v2-preferred-over-v1: the spf2.0 record wins for its scope */
	w = world_open("example1.com. 60 IN TXT \"v=spf1 -all\"\n"
		"example1.com. 60 IN TXT \"spf2.0/mfrom,pra +all\"\n");
	assert_int_equal(check(w, "1.2.3.4", "foo@example1.com", MF, false, false, NULL),
		SPF_RESULT_PASS);
	assert_int_equal(check(w, "1.2.3.4", "foo@example1.com", PRA, false, false, NULL),
		SPF_RESULT_PASS);
	/* an RFC 7208 receiver still sees only v=spf1 */
	assert_int_equal(check(w, "1.2.3.4", "foo@example1.com", V7, false, false, NULL),
		SPF_RESULT_FAIL);
	env_destroy(w);

	/* redundant-v2: two records cover mfrom -> permerror */
	w = world_open("example6.com. 60 IN TXT \"spf2.0/mfrom -all\"\n"
		"example6.com. 60 IN TXT \"spf2.0/mfrom,pra -all\"\n"
		"example6.com. 60 IN TXT \"v=spf1 -all\"\n");
	assert_int_equal(check(w, "1.2.3.4", "foo@example6.com", MF, false, false, NULL),
		SPF_RESULT_PERMERROR);
	/* pra has exactly one */
	assert_int_equal(check(w, "1.2.3.4", "foo@example6.com", PRA, false, false, NULL),
		SPF_RESULT_FAIL);
	env_destroy(w);
}

static void test_selection(void **state)
{
	env_t *w;
	const char *m;

	(void)state;
	w = world_open(/* v=spf1 only */
		"v1.example. 60 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		/* spf2.0/pra only (no v=spf1) */
		"v2.example. 60 IN TXT \"spf2.0/pra ip4:192.0.2.2 -all\"\n"
		/* an opt-out next to v=spf1 */
		"opt.example. 60 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		"opt.example. 60 IN TXT \"spf2.0/pra ?all\"\n"
		/* type 99 differs from TXT */
		"t99.example. 60 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		"t99.example. 60 IN SPF \"v=spf1 ip4:192.0.2.9 -all\"\n"
		/* malformed and unknown-scope spf2 records are discarded */
		"bad.example. 60 IN TXT \"v=spf1 ip4:192.0.2.1 -all\"\n"
		"bad.example. 60 IN TXT \"v=spf2.0/pra +all\"\n"
		"bad.example. 60 IN TXT \"spf2.0/helo +all\"\n"
		"bad.example. 60 IN TXT \"spf2.0/prattle +all\"\n"
		/* two v=spf1 records: permerror in every mode */
		"two.example. 60 IN TXT \"v=spf1 -all\"\n"
		"two.example. 60 IN TXT \"v=spf1 +all\"\n"
		/* include / redirect targets under a scope */
		"inc.example. 60 IN TXT \"spf2.0/pra include:esp.example -all\"\n"
		"esp.example. 60 IN TXT \"v=spf1 ip4:203.0.113.0/24 -all\"\n"
		"inc2.example. 60 IN TXT \"spf2.0/pra include:esp2.example -all\"\n"
		"esp2.example. 60 IN TXT \"v=spf1 -all\"\n"
		"esp2.example. 60 IN TXT \"spf2.0/pra ip4:203.0.113.7 -all\"\n"
		"red.example. 60 IN TXT \"v=spf1 -all\"\n"
		"red.example. 60 IN TXT \"spf2.0/pra redirect=esp2.example\"\n"
		/* a syntax error in the spf2.0 record */
		"syn.example. 60 IN TXT \"v=spf1 +all\"\n"
		"syn.example. 60 IN TXT \"spf2.0/pra ip4:192.0.2.300 -all\"\n");

	/* v=spf1: mfrom always; pra only with v1_for_pra (RFC 4406 §3.4) */
	assert_int_equal(check(w, "192.0.2.1", "a@v1.example", MF, false, false, NULL), SPF_RESULT_PASS);
	assert_int_equal(check(w, "192.0.2.1", "a@v1.example", PRA, true, false, NULL), SPF_RESULT_PASS);
	assert_int_equal(check(w, "192.0.2.7", "a@v1.example", PRA, true, false, NULL), SPF_RESULT_FAIL);
	assert_int_equal(check(w, "192.0.2.1", "a@v1.example", PRA, false, false, &m), SPF_RESULT_NONE);
	assert_non_null(strstr(m, "scope pra"));
	/* spf2.0 only: RFC 7208 and mfrom see nothing */
	assert_int_equal(check(w, "192.0.2.2", "a@v2.example", V7, false, false, NULL), SPF_RESULT_NONE);
	assert_int_equal(check(w, "192.0.2.2", "a@v2.example", MF, false, false, NULL), SPF_RESULT_NONE);
	assert_int_equal(check(w, "192.0.2.2", "a@v2.example", PRA, false, false, &m), SPF_RESULT_PASS);
	assert_string_equal(m, "ip4:192.0.2.2");
	/* the opt-out: pra neutral, mfrom still v=spf1 (A.4) */
	assert_int_equal(check(w, "198.51.100.1", "a@opt.example", PRA, true, false, &m), SPF_RESULT_NEUTRAL);
	assert_string_equal(m, "?all");
	assert_int_equal(check(w, "198.51.100.1", "a@opt.example", MF, true, false, NULL), SPF_RESULT_FAIL);
	/* type 99: used only when asked; then TXT is ignored (A.3 step 1) */
	assert_int_equal(check(w, "192.0.2.9", "a@t99.example", MF, false, false, NULL), SPF_RESULT_FAIL);
	assert_int_equal(check(w, "192.0.2.9", "a@t99.example", MF, false, true, NULL), SPF_RESULT_PASS);
	assert_int_equal(check(w, "192.0.2.1", "a@t99.example", MF, false, true, NULL), SPF_RESULT_FAIL);
	assert_int_equal(check(w, "192.0.2.9", "a@t99.example", V7, false, true, NULL), SPF_RESULT_FAIL);
	/* discarded spf2 records: the v=spf1 fallback applies */
	assert_int_equal(check(w, "198.51.100.1", "a@bad.example", PRA, true, false, NULL), SPF_RESULT_FAIL);
	assert_int_equal(check(w, "198.51.100.1", "a@bad.example", PRA, false, false, NULL), SPF_RESULT_NONE);
	assert_int_equal(check(w, "192.0.2.1", "a@two.example", PRA, true, false, &m), SPF_RESULT_PERMERROR);
	assert_non_null(strstr(m, "RFC 4406"));
	/* include targets select with the same scope: a v=spf1-only target
	 * is none (-> permerror) without the fallback, used with it */
	assert_int_equal(check(w, "203.0.113.5", "a@inc.example", PRA, false, false, &m), SPF_RESULT_PERMERROR);
	assert_int_equal(check(w, "203.0.113.5", "a@inc.example", PRA, true, false, NULL), SPF_RESULT_PASS);
	assert_int_equal(check(w, "203.0.113.7", "a@inc2.example", PRA, false, false, NULL), SPF_RESULT_PASS);
	assert_int_equal(check(w, "203.0.113.8", "a@inc2.example", PRA, true, false, NULL), SPF_RESULT_FAIL);
	assert_int_equal(check(w, "203.0.113.7", "a@red.example", PRA, false, false, &m), SPF_RESULT_PASS);
	assert_int_equal(check(w, "203.0.113.7", "a@red.example", V7, false, false, NULL), SPF_RESULT_FAIL);
	/* the same term grammar: a syntax error is permerror */
	assert_int_equal(check(w, "192.0.2.1", "a@syn.example", PRA, true, false, &m), SPF_RESULT_PERMERROR);
	assert_non_null(strstr(m, "syntax error"));
	assert_int_equal(check(w, "192.0.2.1", "a@syn.example", MF, true, false, NULL), SPF_RESULT_PASS);
	env_destroy(w);
}

/* Add a one-string TXT or SPF record to ans. */
static void add_text(spf_dns_answer_t *ans, uint16_t type, const char *text)
{
	spf_dns_rr_t rr = { .type = type };
	uint16_t len = (uint16_t)strlen(text);

	rr.u.txt.data = (const uint8_t *)text;
	rr.u.txt.len = len;
	rr.u.txt.nstrings = 1;
	rr.u.txt.lens = &len;
	assert_int_equal(spf_dns_answer_add(ans, &rr), SPF_OK);
}

static void test_select_unit(void **state)
{
	spf_dns_answer_t *txt = spf_dns_answer_create("x.example", SPF_RR_TXT, SPF_DNS_OK);
	spf_dns_answer_t *s99 = spf_dns_answer_create("x.example", SPF_RR_SPF, SPF_DNS_OK);
	spf_dns_answer_t *empty = spf_dns_answer_create("x.example", SPF_RR_SPF, SPF_DNS_NODATA);
	spf_dns_answer_t *fail99 = spf_dns_answer_create("x.example", SPF_RR_SPF, SPF_DNS_TEMPFAIL);
	const char *texts[] = { "v=spf1 -all", "spf2.0/pra ?all", "other" };
	spf_selection_t sel;

	(void)state;
	for (size_t i = 0; i < 3; i++)
		add_text(txt, SPF_RR_TXT, texts[i]);
	add_text(s99, SPF_RR_SPF, "v=spf1 +all");
	spf_record_select(txt, NULL, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_ONE);
	assert_int_equal(sel.ncand, 1);
	assert_int_equal(sel.version, 1);
	assert_ptr_equal(sel.first, sel.rr);
	spf_record_select(txt, NULL, SPF_SCOPE_PRA, false, &sel);
	assert_int_equal(sel.version, 2);
	assert_memory_equal(sel.rr->u.txt.data, "spf2.0/pra", 10);
	spf_record_select(txt, NULL, SPF_SCOPE_MFROM, false, &sel);
	assert_int_equal(sel.version, 1);
	spf_record_select(txt, s99, SPF_SCOPE_PRA, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_NONE);
	assert_true(sel.used_spf99);
	assert_int_equal(sel.ncand, 0);
	spf_record_select(txt, s99, SPF_SCOPE_PRA, true, &sel);
	assert_int_equal(sel.ncand, 1);
	assert_memory_equal(sel.rr->u.txt.data, "v=spf1 +all", 11);
	spf_record_select(txt, empty, SPF_SCOPE_PRA, false, &sel);
	assert_false(sel.used_spf99);
	assert_int_equal(sel.version, 2);
	/* a failed lookup: temperror, the records that arrived still told */
	spf_record_select(txt, fail99, SPF_SCOPE_MFROM, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_DNS_ERROR);
	assert_int_equal(sel.failed, SPF_RR_SPF);
	assert_int_equal(sel.ncand, 1);
	spf_record_select(txt, fail99, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_ONE);
	spf_record_select(NULL, NULL, SPF_SCOPE_PRA, true, &sel);
	assert_int_equal(sel.status, SPF_SELECT_DNS_ERROR);
	assert_int_equal(sel.failed, SPF_RR_TXT);
	assert_int_equal(sel.ncand, 0);
	assert_null(sel.rr);
	/* "V=sPf1" is a second v=spf1 record (RFC 7208 §4.5) */
	add_text(txt, SPF_RR_TXT, "V=sPf1 a");
	spf_record_select(txt, NULL, SPF_SCOPE_RFC7208, false, &sel);
	assert_int_equal(sel.status, SPF_SELECT_MANY);
	assert_int_equal(sel.ncand, 2);
	assert_null(sel.rr);
	assert_memory_equal(sel.first->u.txt.data, "v=spf1 -all", 11);
	spf_dns_answer_unref(fail99);
	spf_dns_answer_unref(txt);
	spf_dns_answer_unref(s99);
	spf_dns_answer_unref(empty);
}

/* ---- the conflict rules ---- */

struct sid_case {
	const char *name;
	const char *zone;
	const char *id;
	bool present;
	char severity;          /* when present */
};

#define T "t.example. 60 IN TXT "
#define S "t.example. 60 IN SPF "

static const struct sid_case sid_cases[] = {
	{ "01-minus-all", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n", "SID-01", true, 'W' },
	{ "01-tilde-all", T "\"v=spf1 ip4:192.0.2.0/24 ~all\"\n", "SID-01", true, 'I' },
	{ "01-redirect", T "\"v=spf1 redirect=r.example\"\nr.example. 60 IN TXT \"v=spf1 -all\"\n",
	  "SID-01", true, 'W' },
	{ "01-opt-out", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-01", false, 0 },
	{ "01-opt-out-99", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" S "\"spf2.0/pra ?all\"\n", "SID-01", false, 0 },
	{ "01-no-all", T "\"v=spf1 ip4:192.0.2.0/24\"\n", "SID-01", false, 0 },
	{ "02-differs", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/mfrom ip4:198.51.100.0/24 -all\"\n",
	  "SID-02", true, 'W' },
	{ "02-same", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/mfrom ip4:192.0.2.0/24 -all\"\n",
	  "SID-02", false, 0 },
	{ "03-pra-twice", T "\"spf2.0/pra -all\"\n" T "\"spf2.0/mfrom,pra -all\"\n" T "\"v=spf1 -all\"\n",
	  "SID-03", true, 'E' },
	{ "03-one-each", T "\"spf2.0/pra -all\"\n" T "\"spf2.0/mfrom -all\"\n" T "\"v=spf1 -all\"\n",
	  "SID-03", false, 0 },
	{ "04-v-prefix", T "\"v=spf2.0/pra ?all\"\n" T "\"v=spf1 -all\"\n", "SID-04", true, 'E' },
	{ "04-space", T "\"spf2.0/mfrom, pra ?all\"\n", "SID-04", true, 'E' },
	{ "04-unknown", T "\"spf2.0/helo ?all\"\n", "SID-04", true, 'E' },
	{ "04-repeated", T "\"spf2.0/pra,pra ?all\"\n", "SID-04", true, 'I' },
	{ "04-fine", T "\"spf2.0/pra ?all\"\n" T "\"v=spf1 -all\"\n", "SID-04", false, 0 },
	{ "05-pra", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/pra ip4:198.51.100.0/24 -all\"\n",
	  "SID-05", true, 'I' },
	{ "05-pra-same-terms", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/pra ip4:192.0.2.0/24 +all\"\n",
	  "SID-05", true, 'W' },
	{ "05-mfrom", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/mfrom,pra ip4:198.51.100.0/24 -all\"\n",
	  "SID-05", true, 'W' },
	{ "05-opt-out", T "\"v=spf1 ip4:192.0.2.0/24 -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-05", false, 0 },
	{ "06-99-only", S "\"v=spf1 -all\"\n", "SID-06", true, 'E' },
	{ "06-both", S "\"v=spf1 -all\"\n" T "\"v=spf1 -all\"\n", "SID-06", false, 0 },
	{ "07-differ", S "\"v=spf1 -all\"\n" T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-07", true, 'W' },
	{ "07-same", S "\"v=spf1 -all\"\n" T "\"v=spf1 -all\"\n", "SID-07", false, 0 },
	{ "08-v1-target", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra include:esp.example -all\"\n"
	  "esp.example. 60 IN TXT \"v=spf1 ip4:203.0.113.0/24 -all\"\n", "SID-08", true, 'W' },
	{ "08-v2-target", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra include:esp.example -all\"\n"
	  "esp.example. 60 IN TXT \"v=spf1 ip4:203.0.113.0/24 -all\"\n"
	  "esp.example. 60 IN TXT \"spf2.0/pra ip4:203.0.113.0/24 -all\"\n", "SID-08", false, 0 },
	{ "09-bare", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra\"\n", "SID-09", true, 'I' },
	{ "09-explicit", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-09", false, 0 },
	{ "10-syntax", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ip4:192.0.2.300 -all\"\n", "SID-10", true, 'E' },
	{ "10-ptr", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ptr -all\"\n", "SID-10", true, 'W' },
	{ "10-limit", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra a:a1.example a:a2.example a:a3.example "
	  "a:a4.example a:a5.example a:a6.example a:a7.example a:a8.example a:a9.example "
	  "a:a10.example a:a11.example -all\"\n", "SID-10", true, 'E' },
	{ "10-voids", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra a:n1.example a:n2.example a:n3.example -all\"\n",
	  "SID-10", true, 'E' },
	{ "10-fine", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ip4:192.0.2.1 -all\"\n", "SID-10", false, 0 },
	{ "11-no-v1", T "\"spf2.0/mfrom,pra -all\"\n", "SID-11", true, 'W' },
	{ "11-with-v1", T "\"spf2.0/mfrom,pra -all\"\n" T "\"v=spf1 -all\"\n", "SID-11", false, 0 },
	{ "12-same", T "\"v=spf1 ip4:192.0.2.1 -all\"\n" T "\"spf2.0/mfrom,pra +IP4:192.0.2.1 -all\"\n",
	  "SID-12", true, 'I' },
	{ "12-different", T "\"v=spf1 ip4:192.0.2.1 -all\"\n" T "\"spf2.0/mfrom,pra ip4:192.0.2.2 -all\"\n",
	  "SID-12", false, 0 },
	{ "13-big", T "\"v=spf1 ip4:192.0.2.1 ip4:192.0.2.2 ip4:192.0.2.3 ip4:192.0.2.4 ip4:192.0.2.5 "
	  "ip4:192.0.2.6 ip4:192.0.2.7 ip4:192.0.2.8 ip4:192.0.2.9 ip4:192.0.2.10 -all\"\n"
	  T "\"spf2.0/mfrom,pra ip4:192.0.2.1 ip4:192.0.2.2 ip4:192.0.2.3 ip4:192.0.2.4 ip4:192.0.2.5 "
	  "ip4:192.0.2.6 ip4:192.0.2.7 ip4:192.0.2.8 ip4:192.0.2.9 ip4:192.0.2.10 -all\"\n"
	  T "\"google-site-verification=abcdefghijklmnopqrstuvwxyz0123456789abcdefgh\"\n"
	  T "\"ms-domain-verification=0123456789abcdef0123456789abcdef0123456789abcdef\"\n",
	  "SID-13", true, 'W' },
	{ "13-small", T "\"v=spf1 -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-13", false, 0 },
	{ "14-sender-macro", T "\"v=spf1 exists:%{l}._u.%{d} -all\"\n", "SID-14", true, 'I' },
	{ "14-opt-out", T "\"v=spf1 exists:%{l}._u.%{d} -all\"\n" T "\"spf2.0/pra ?all\"\n", "SID-14", false, 0 },
	{ "14-no-macro", T "\"v=spf1 exists:%{i}._u.%{d} -all\"\n", "SID-14", false, 0 },
};

static void test_sid_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sid_cases) / sizeof(sid_cases[0]); i++) {
		const struct sid_case *c = &sid_cases[i];
		env_t *w;
		spf_senderid_report_t *r;
		const spf_sid_conflict_t *cons;
		size_t n;
		bool found = false;

		w = world_open(c->zone);
		r = spf_senderid_check(w->res, "t.example", NULL);
		assert_non_null(r);
		cons = spf_senderid_conflicts(r, &n);
		for (size_t k = 0; k < n; k++) {
			assert_non_null(cons[k].summary);
			assert_non_null(cons[k].explanation);
			assert_non_null(cons[k].reference);
			if (strcmp(cons[k].id, c->id) != 0)
				continue;
			if (c->present && spf_sid_severity_char(cons[k].severity) != c->severity)
				continue;
			found = true;
		}
		if (found != c->present) {
			for (size_t k = 0; k < n; k++)
				print_message("  %s %c %s\n", cons[k].id,
					spf_sid_severity_char(cons[k].severity), cons[k].summary);
			fail_msg("%s: %s %c %s", c->name, c->id, c->severity ? c->severity : ' ',
				c->present ? "missing" : "reported");
		}
		spf_senderid_destroy(r);
		env_destroy(w);
	}
}

/* The details the user acts on: records, policies, probes, fixes. */
static void test_report_details(void **state)
{
	env_t *w;
	spf_senderid_report_t *r;
	const spf_sid_record_t *recs;
	const spf_sid_policy_t *pols;
	const spf_sid_conflict_t *cons;
	size_t nrec, npol, ncon;
	char ip[64];
	bool seen = false;

	(void)state;
	w = world_open("t.example. 60 IN TXT \"v=spf1 ip4:192.0.2.0/24 mx -all\"\n"
		"t.example. 60 IN TXT \"spf2.0/mfrom ip4:198.51.100.0/24 -all\"\n"
		"t.example. 60 IN TXT \"unrelated\"\n"
		"t.example. 60 IN MX 10 mx.t.example.\n"
		"mx.t.example. 60 IN A 203.0.113.9\n");
	assert_null(spf_senderid_check(NULL, "t.example", NULL));
	assert_null(spf_senderid_check(w->res, "bad name", NULL));
	r = spf_senderid_check(w->res, "t.example.", NULL);
	assert_non_null(r);
	assert_string_equal(spf_senderid_domain(r), "t.example");
	assert_int_equal(spf_senderid_dns_status(r, SPF_RR_TXT), SPF_DNS_OK);
	assert_int_equal(spf_senderid_dns_status(r, SPF_RR_SPF), SPF_DNS_NODATA);
	recs = spf_senderid_records(r, &nrec);
	assert_int_equal(nrec, 2);   /* "unrelated" is not shown */
	assert_int_equal(recs[0].version, 1);
	assert_int_equal(recs[1].version, 2);
	assert_true(recs[1].mfrom);
	assert_false(recs[1].pra);
	pols = spf_senderid_policies(r, &npol);
	assert_int_equal(npol, 4);
	assert_string_equal(pols[0].key, "rfc7208");
	assert_int_equal(pols[0].record, 0);
	assert_string_equal(pols[1].key, "mfrom");
	assert_int_equal(pols[1].record, 1);
	assert_string_equal(pols[2].key, "pra");
	assert_int_equal(pols[2].record, 0);
	assert_string_equal(pols[3].key, "pra-strict");
	assert_int_equal(pols[3].record, -1);
	assert_int_equal(pols[3].selection, SPF_RESULT_NONE);
	cons = spf_senderid_conflicts(r, &ncon);
	for (size_t k = 0; k < ncon; k++) {
		if (strcmp(cons[k].id, "SID-02") != 0)
			continue;
		seen = true;
		assert_non_null(cons[k].fix);
		/* the MX host's address and both networks' bounds are probed */
		for (size_t p = 0; p < cons[k].nprobes; p++) {
			spf_addr_str(&cons[k].probes[p].ip, ip, sizeof(ip));
			assert_int_not_equal(cons[k].probes[p].v1, cons[k].probes[p].v2);
			if (strcmp(ip, "203.0.113.9") == 0) {
				assert_int_equal(cons[k].probes[p].v1, SPF_RESULT_PASS);
				assert_int_equal(cons[k].probes[p].v2, SPF_RESULT_FAIL);
			}
		}
		assert_true(cons[k].nprobes >= 5);
	}
	assert_true(seen);
	/* conflicts come in SID order */
	for (size_t k = 1; k < ncon; k++)
		assert_true(strcmp(cons[k - 1].id, cons[k].id) <= 0);
	spf_senderid_destroy(r);
	spf_senderid_destroy(NULL);
	env_destroy(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_parse_version),
		cmocka_unit_test(test_select_unit),
		cmocka_unit_test(test_rfc4406_suite),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_sid_rules),
		cmocka_unit_test(test_report_details),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
