/*
 * test_header.c - Received-SPF and Authentication-Results fields
 * (evaluator/header.c): exact text, quoting, folding, and that nothing
 * from the sender, the HELO name or a record can split the field; a
 * job's summary (evaluator/summary.c) gives the same fields as the job
 * and outlives it.
 */
#include <event2/event.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include "check.h"

#include "spf.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static spf_header_info_t info(spf_identity_t id, spf_result_t r, const char *ip,
	const char *from, const char *helo, const char *mech, const char *problem)
{
	spf_header_info_t i = { 0 };
	const char *at;

	i.identity = id;
	i.result = r;
	assert_true(spf_addr_parse(ip, &i.ip));
	i.envelope_from = from;
	i.helo = helo;
	i.checked = from;
	at = from ? strrchr(from, '@') : NULL;
	i.domain = at ? at + 1 : helo;
	if (id == SPF_IDENTITY_HELO)
		i.domain = helo;
	i.mechanism = mech;
	i.problem = problem;
	return i;
}

/* Unfold (remove every line end followed by a space) and check that each
 * line is at most max characters, has no bare CR or LF, only printable
 * ASCII, and does not consist of white space only. */
static char *unfold_checked(const char *field, size_t max, bool crlf)
{
	static char buf[16384];
	size_t n = 0, col = 0;
	bool content = false;

	for (const char *p = field; *p; p++) {
		if (crlf && p[0] == '\r') {
			assert_int_equal(p[1], '\n');
			p++;
		}
		if (*p == '\n') {
			assert_true(content);
			assert_true(p[1] == ' ' || p[1] == '\t');
			assert_true(col <= max);
			col = 0;
			content = false;
			continue;
		}
		assert_true(*p >= 0x20 && *p < 0x7f);
		assert_true(n < sizeof(buf) - 1);
		if (*p != ' ')
			content = true;
		buf[n++] = *p;
		col++;
	}
	buf[n] = '\0';
	return buf;
}

static void test_received_spf_exact(void **state)
{
	static const struct {
		spf_identity_t id;
		spf_result_t r;
		const char *ip, *from, *helo, *mech, *problem;
		const char *want;   /* unfolded */
	} cases[] = {
		{ SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.25", "alice@example.com",
		  "mail.example.com", "mx", NULL,
		  "Received-SPF: pass (mx.example.org: domain of alice@example.com designates "
		  "192.0.2.25 as permitted sender) client-ip=192.0.2.25; "
		  "envelope-from=\"alice@example.com\"; helo=mail.example.com; "
		  "receiver=mx.example.org; identity=mailfrom; mechanism=mx" },
		{ SPF_IDENTITY_MFROM, SPF_RESULT_FAIL, "2001:db8::99", "alice@example.com",
		  NULL, "-all", NULL,
		  "Received-SPF: fail (mx.example.org: domain of alice@example.com does not "
		  "designate 2001:db8::99 as permitted sender) client-ip=\"2001:db8::99\"; "
		  "envelope-from=\"alice@example.com\"; receiver=mx.example.org; "
		  "identity=mailfrom; mechanism=-all" },
		{ SPF_IDENTITY_MFROM, SPF_RESULT_SOFTFAIL, "192.0.2.1", "a@example.com",
		  NULL, "ip4:192.0.2.0/24", NULL,
		  "Received-SPF: softfail (mx.example.org: transitioning domain of a@example.com "
		  "does not designate 192.0.2.1 as permitted sender) client-ip=192.0.2.1; "
		  "envelope-from=\"a@example.com\"; receiver=mx.example.org; identity=mailfrom; "
		  "mechanism=\"ip4:192.0.2.0/24\"" },
		{ SPF_IDENTITY_MFROM, SPF_RESULT_NEUTRAL, "192.0.2.1", "a@example.com",
		  NULL, "default", NULL,
		  "Received-SPF: neutral (mx.example.org: 192.0.2.1 is neither permitted nor "
		  "denied by domain of a@example.com) client-ip=192.0.2.1; "
		  "envelope-from=\"a@example.com\"; receiver=mx.example.org; identity=mailfrom; "
		  "mechanism=default" },
		{ SPF_IDENTITY_HELO, SPF_RESULT_NONE, "192.0.2.1", NULL,
		  "mail.example.com", NULL, NULL,
		  "Received-SPF: none (mx.example.org: domain of mail.example.com does not "
		  "designate permitted sender hosts) client-ip=192.0.2.1; "
		  "helo=mail.example.com; receiver=mx.example.org; identity=helo" },
		{ SPF_IDENTITY_MFROM, SPF_RESULT_PERMERROR, "192.0.2.1", "a@example.org",
		  NULL, "ip4:192.0.2.300", "syntax error at byte 7: \"bad\" (RFC 7208 \xc2\xa7" "4.6)",
		  "Received-SPF: permerror (mx.example.org: permanent error in processing the "
		  "SPF record of example.org) client-ip=192.0.2.1; envelope-from=\"a@example.org\"; "
		  "receiver=mx.example.org; identity=mailfrom; mechanism=\"ip4:192.0.2.300\"; "
		  "problem=\"syntax error at byte 7: \\\"bad\\\" (RFC 7208 section 4.6)\"" },
		{ SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.1", "", "h.example.com",
		  "a", NULL,
		  "Received-SPF: pass (mx.example.org: domain of h.example.com designates "
		  "192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from=\"<>\"; "
		  "helo=h.example.com; receiver=mx.example.org; identity=mailfrom; mechanism=a" },
	};
	spf_header_opts_t opts = { .receiver = "mx.example.org" };

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_header_info_t in = info(cases[i].id, cases[i].r, cases[i].ip,
			cases[i].from, cases[i].helo, cases[i].mech, cases[i].problem);
		char *out = NULL;

		if (cases[i].from != NULL && *cases[i].from == '\0') {
			in.checked = NULL;
			in.domain = cases[i].helo;
		}
		assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
		assert_non_null(out);
		assert_string_equal(unfold_checked(out, 78, false), cases[i].want);
		spf_free(out);
	}
}

static void test_auth_results_exact(void **state)
{
	spf_header_info_t m = info(SPF_IDENTITY_MFROM, SPF_RESULT_FAIL, "192.0.2.99",
		"alice@example.com", "mail.example.com", "-all", NULL);
	spf_header_info_t h = info(SPF_IDENTITY_HELO, SPF_RESULT_PASS, "192.0.2.99",
		"alice@example.com", "mail.example.com", "a", NULL);
	spf_header_info_t p = info(SPF_IDENTITY_MFROM, SPF_RESULT_PERMERROR, "192.0.2.99",
		"a@greedy.example.org", NULL, NULL, "too many terms");
	const spf_header_info_t *both[] = { &m, &h };
	const spf_header_info_t *perm[] = { &p };
	spf_header_opts_t opts = { .receiver = "mx.example.org", .authserv_id = "mx.example.org" };
	spf_header_opts_t noid = { 0 };
	char *out = NULL;

	(void)state;
	assert_int_equal(spf_header_auth_results(both, 2, &opts, &out), SPF_OK);
	assert_string_equal(unfold_checked(out, 78, false),
		"Authentication-Results: mx.example.org; spf=fail (mx.example.org: domain of "
		"alice@example.com does not designate 192.0.2.99 as permitted sender) "
		"smtp.mailfrom=example.com; spf=pass (mx.example.org: domain of "
		"mail.example.com designates 192.0.2.99 as permitted sender) "
		"smtp.helo=mail.example.com");
	spf_free(out);

	assert_int_equal(spf_header_auth_results(perm, 1, &noid, &out), SPF_OK);
	assert_string_equal(unfold_checked(out, 78, false),
		"Authentication-Results: localhost; spf=permerror (permanent error in "
		"processing the SPF record of greedy.example.org) reason=\"too many terms\" "
		"smtp.mailfrom=greedy.example.org");
	spf_free(out);

	/* a quoted authserv-id when it is not a token */
	opts.authserv_id = "my host";
	assert_int_equal(spf_header_auth_results(perm, 1, &opts, &out), SPF_OK);
	assert_non_null(strstr(out, "Authentication-Results: \"my host\";"));
	spf_free(out);
}

/* Hostile input: CR/LF, NUL-free control characters, non-ASCII, quotes,
 * parentheses and backslashes in every sender-supplied place. */
static void test_no_injection(void **state)
{
	static const char *const evil[] = {
		"a@example.com\r\nX-Injected: yes",
		"a@example.com\nBcc: victim@example.org",
		"\"quoted\\\"(paren)@example.com",
		"b\xc3\xa9@\xe4\xbe\x8b\xe5\xad\x90.example",
		"a@example.com\x01\x7f\x1b[31m",
		"x@y.example; identity=helo",
	};
	spf_header_opts_t opts = { .receiver = "mx.example.org\r\nX-Evil: 1",
		.authserv_id = "id\nX: y" };

	(void)state;
	for (size_t i = 0; i < LEN(evil); i++) {
		spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_FAIL, "192.0.2.1",
			"a@example.com", evil[i], "-all", evil[i]);
		const spf_header_info_t *one[] = { &in };
		char *out = NULL;
		const char *u;

		in.result = SPF_RESULT_PERMERROR;
		in.envelope_from = evil[i];
		in.checked = evil[i];
		in.domain = evil[i];
		assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
		u = unfold_checked(out, 998, false);
		assert_null(strstr(u, "\r"));
		assert_null(strstr(u, "\nX"));
		spf_free(out);
		assert_int_equal(spf_header_auth_results(one, 1, &opts, &out), SPF_OK);
		unfold_checked(out, 998, false);
		spf_free(out);
	}
	{
		spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_FAIL, "192.0.2.1",
			"a@example.com\r\nX-Injected: yes", NULL, "-all", NULL);
		char *out = NULL;

		assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
		assert_non_null(strstr(unfold_checked(out, 998, false),
			"envelope-from=\"a@example.com\\\\x0D\\\\x0AX-Injected: yes\""));
		assert_non_null(strstr(out, "(mx.example.org\\\\x0D\\\\x0AX-Evil: 1:"));
		spf_free(out);
	}
	{
		/* the semicolon cannot start a new key: the value is quoted */
		spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.1",
			"x@y.example; identity=helo", NULL, "a", NULL);
		char *out = NULL;

		assert_int_equal(spf_header_received_spf(&in, NULL, &out), SPF_OK);
		assert_non_null(strstr(unfold_checked(out, 998, false),
			"envelope-from=\"x@y.example; identity=helo\";"));
		spf_free(out);
	}
}

static void test_folding(void **state)
{
	char longname[400];
	spf_header_info_t in;
	spf_header_opts_t opts = { .receiver = "mx.example.org", .crlf = true };
	char *out = NULL;
	const char *u;

	(void)state;
	memset(longname, 'x', sizeof(longname));
	memcpy(longname + 300, "@example.com", 13);
	in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PERMERROR, "192.0.2.1", longname,
		"mail.example.com", "include:_spf.example.com",
		"too many DNS-querying terms: 'a:h9.example.org' in the record of "
		"_b.example.org is number 11, the limit is 10 (RFC 7208 \xc2\xa7" "4.6.4)");
	assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
	/* CRLF line ends; the overlong value is cut at 200 bytes */
	assert_non_null(strstr(out, "\r\n "));
	u = unfold_checked(out, 998, true);
	assert_non_null(strstr(u, "xxx...\""));
	assert_non_null(strstr(u, "problem=\"too many DNS-querying terms: "
		"'a:h9.example.org' in the record of _b.example.org is number 11, the "
		"limit is 10 (RFC 7208 section 4.6.4)\""));
	spf_free(out);

	/* short values: every line within 78 */
	in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PERMERROR, "2001:db8:1234:5678::99",
		"someone.with.a.long.name@sub.domain.example.com", "mail.example.com",
		"include:_spf.example.com", "a problem text with several words in it");
	opts.crlf = false;
	assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
	unfold_checked(out, 78, false);
	spf_free(out);
}

/* The one-line builders give the folded field unfolded, appended after
 * what the buffer held, for plain and hostile values alike; the buffer
 * is reused from field to field. */
static void test_line(void **state)
{
	static const char *const vals[] = {
		"a@example.com",
		"a@example.com\r\nX-Injected: yes",
		"\"quoted\\\"(paren)@example.com",
		"b\xc3\xa9@\xe4\xbe\x8b\xe5\xad\x90.example",
		"x@y.example; identity=helo",
		"",
	};
	static const spf_result_t results[] = { SPF_RESULT_PASS, SPF_RESULT_FAIL,
		SPF_RESULT_SOFTFAIL, SPF_RESULT_NEUTRAL, SPF_RESULT_NONE,
		SPF_RESULT_TEMPERROR, SPF_RESULT_PERMERROR };
	spf_header_opts_t opts = { .receiver = "mx.example.org", .authserv_id = "mx" };
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 16384);
	for (size_t i = 0; i < LEN(vals); i++) {
		for (size_t r = 0; r < LEN(results); r++) {
			spf_header_info_t in = info(r % 2 ? SPF_IDENTITY_HELO : SPF_IDENTITY_MFROM,
				results[r], r % 3 ? "192.0.2.1" : "2001:db8::1", "a@example.com",
				"mail.example.com", r % 2 ? NULL : "include:_spf.example.com",
				"too many terms (RFC 7208 \xc2\xa7" "4.6.4)");
			const spf_header_info_t *one[] = { &in };
			char *out = NULL;

			in.envelope_from = vals[i];
			in.checked = vals[i];
			in.helo = *vals[i] ? vals[i] : NULL;
			opts.receiver = i % 2 ? NULL : "mx.example.org";
			assert_int_equal(spf_header_received_spf(&in, &opts, &out), SPF_OK);
			spf_buf_reset(&b);
			spf_buf_puts(&b, "PREPEND ");
			assert_int_equal(spf_header_received_spf_line(&in, &opts, &b), SPF_OK);
			assert_memory_equal(b.data, "PREPEND ", 8);
			assert_string_equal(b.data + 8, unfold_checked(out, 998, false));
			spf_free(out);
			assert_int_equal(spf_header_auth_results(one, 1, &opts, &out), SPF_OK);
			spf_buf_reset(&b);
			assert_int_equal(spf_header_auth_results_line(one, 1, &opts, &b), SPF_OK);
			assert_string_equal(b.data, unfold_checked(out, 998, false));
			spf_free(out);
		}
	}
	/* bad arguments; a buffer too small for the field fails */
	{
		spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.1",
			"a@example.com", NULL, "a", NULL);
		const spf_header_info_t *one[] = { &in };
		spf_buf_t small;

		assert_int_equal(spf_header_received_spf_line(NULL, NULL, &b), SPF_EINVAL);
		assert_int_equal(spf_header_received_spf_line(&in, NULL, NULL), SPF_EINVAL);
		assert_int_equal(spf_header_auth_results_line(one, 0, NULL, &b), SPF_EINVAL);
		assert_int_equal(spf_header_auth_results_line(NULL, 1, NULL, &b), SPF_EINVAL);
		spf_buf_init(&small, 20);
		assert_int_equal(spf_header_received_spf_line(&in, NULL, &small), SPF_ETOOBIG);
		assert_int_equal(small.err, SPF_ETOOBIG);
		spf_buf_finish(&small);
	}
	spf_buf_finish(&b);
}

static void test_bad_args(void **state)
{
	spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.1",
		"a@example.com", NULL, "a", NULL);
	const spf_header_info_t *one[] = { &in };
	char *out = (char *)"x";

	(void)state;
	assert_int_equal(spf_header_received_spf(NULL, NULL, &out), SPF_EINVAL);
	assert_null(out);
	assert_int_equal(spf_header_received_spf(&in, NULL, NULL), SPF_EINVAL);
	assert_int_equal(spf_header_auth_results(one, 0, NULL, &out), SPF_EINVAL);
	assert_int_equal(spf_header_auth_results(NULL, 1, NULL, &out), SPF_EINVAL);
}

static void test_alloc_failure(void **state)
{
	spf_header_info_t in = info(SPF_IDENTITY_MFROM, SPF_RESULT_PASS, "192.0.2.1",
		"a@example.com", "mail.example.com", "a", NULL);
	const spf_header_info_t *one[] = { &in };

	(void)state;
	for (unsigned long n = 1; n < 40; n++) {
		char *out = NULL;
		spf_status_t st;

		spf_alloc_fail_at(n);
		st = spf_header_received_spf(&in, NULL, &out);
		assert_true(st == SPF_OK || st == SPF_ENOMEM);
		assert_true((st == SPF_OK) == (out != NULL));
		spf_free(out);
		spf_alloc_fail_at(n);
		st = spf_header_auth_results(one, 1, NULL, &out);
		assert_true(st == SPF_OK || st == SPF_ENOMEM);
		assert_true((st == SPF_OK) == (out != NULL));
		spf_free(out);
	}
	spf_alloc_fail_at(0);
}

/* A finished job's summary: the job's fields, copied (the job is gone
 * when they are read), the same header fields; on allocation failure
 * NULL, never half a summary. */
static void test_summary(void **state)
{
	struct event_base *base = event_base_new();
	spf_resolver_opts_t o = { .offline = true };
	spf_resolver_t *res;
	spf_request_t req = { 0 };
	spf_header_info_t hi;
	spf_job_summary_t *sum;
	spf_job_t *job;
	char *from_job = NULL, *from_sum = NULL;
	const char *rec = "v=spf1 a:nx.sum.test exp=why.sum.test -all";
	const char *why = "%{l} may not send";

	(void)state;
	assert_non_null(base);
	res = spf_resolver_create(base, &o);
	assert_non_null(res);
	assert_int_equal(spf_zone_replace_txt(spf_resolver_zone(res), "sum.test", rec,
		strlen(rec)), SPF_OK);
	assert_int_equal(spf_zone_replace_txt(spf_resolver_zone(res), "why.sum.test", why,
		strlen(why)), SPF_OK);
	assert_true(spf_addr_parse("192.0.2.1", &req.ip));
	req.sender = "bob@sum.test";
	req.identity = SPF_IDENTITY_MFROM;
	job = spf_check_sync(res, &req, NULL);
	assert_non_null(job);
	assert_null(spf_job_summarize(NULL));
	sum = spf_job_summarize(job);
	assert_non_null(sum);
	spf_header_info_from_job(&hi, job, &req);
	assert_int_equal(spf_header_received_spf(&hi, NULL, &from_job), SPF_OK);
	for (unsigned long n = 1; n < 10; n++) {
		spf_job_summary_t *s;

		spf_alloc_fail_at(n);
		s = spf_job_summarize(job);
		spf_alloc_fail_at(0);
		if (s != NULL)
			assert_string_equal(s->explanation, "bob may not send");
		spf_job_summary_destroy(s);
	}
	spf_job_destroy(job);

	assert_int_equal(sum->result, SPF_RESULT_FAIL);
	assert_string_equal(sum->sender, "bob@sum.test");
	assert_string_equal(sum->start_domain, "sum.test");
	assert_string_equal(sum->domain, "sum.test");
	assert_string_equal(sum->mechanism, "-all");
	assert_string_equal(sum->explanation, "bob may not send");
	assert_null(sum->problem);
	assert_int_equal(sum->lookups, 1);
	assert_int_equal(sum->void_lookups, 1);
	spf_header_info_from_summary(&hi, sum, &req);
	assert_int_equal(spf_header_received_spf(&hi, NULL, &from_sum), SPF_OK);
	assert_string_equal(from_sum, from_job);
	spf_free(from_job);
	spf_free(from_sum);
	spf_job_summary_destroy(sum);
	spf_job_summary_destroy(NULL);
	spf_resolver_destroy(res);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_received_spf_exact),
		cmocka_unit_test(test_auth_results_exact),
		cmocka_unit_test(test_no_injection),
		cmocka_unit_test(test_folding),
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_alloc_failure),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
