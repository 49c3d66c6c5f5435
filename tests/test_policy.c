/*
 * test_policy.c - the policy service's pure parts (cmd/policy_*.c): the
 * Postfix policy protocol parser, the pypolicyd-spf style configuration
 * and the mapping of SPF results to actions, table-driven.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"

#include "policy.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parser ---- */

/* Parse all of text in chunks of chunk bytes (as a socket would deliver
 * it); returns the status of the first request or error, the number of
 * requests seen in *n. */
static policy_parse_status_t parse_chunks(const char *text, size_t len, size_t chunk,
	unsigned *n, policy_request_t *first)
{
	policy_parser_t p;
	char *buf = malloc(len + 1);
	size_t have = 0, fed = 0;
	policy_parse_status_t last = POLICY_PARSE_MORE;

	assert_non_null(buf);
	policy_parser_init(&p);
	*n = 0;
	while (fed < len || have > 0) {
		size_t used = 0, take = len - fed < chunk ? len - fed : chunk;
		policy_parse_status_t st;

		memcpy(buf + have, text + fed, take);
		have += take;
		fed += take;
		st = policy_parse(&p, buf, have, &used);
		memmove(buf, buf + used, have - used);
		have -= used;
		if (st == POLICY_PARSE_ERROR) {
			last = st;
			break;
		}
		if (st == POLICY_PARSE_REQUEST) {
			if (*n == 0 && first != NULL) {
				*first = p.req;
				memset(&p.req, 0, sizeof(p.req));
			}
			policy_request_clear(&p.req);
			(*n)++;
			last = st;
			continue;
		}
		if (fed == len)
			break;
	}
	policy_parser_finish(&p);
	free(buf);
	return last;
}

static const char postfix_req[] =
	"request=smtpd_access_policy\n"
	"protocol_state=RCPT\n"
	"protocol_name=ESMTP\n"
	"client_address=192.0.2.1\n"
	"client_name=unknown\n"
	"client_port=4321\n"
	"reverse_client_name=unknown\n"
	"server_address=127.0.0.1\n"
	"server_port=25\n"
	"helo_name=mail.example.com\n"
	"sender=Alice.Smith@Example.COM\n"
	"recipient=bob@example.net\n"
	"recipient_count=0\n"
	"queue_id=\n"
	"instance=1a2b.5f3c1a.0\n"
	"size=0\n"
	"etrn_domain=\n"
	"stress=\n"
	"sasl_method=\n"
	"sasl_username=\n"
	"sasl_sender=\n"
	"ccert_subject=\n"
	"policy_context=\n"
	"\n";

static void test_parse_postfix_request(void **state)
{
	size_t chunks[] = { 1, 2, 7, 64, 4096 };

	(void)state;
	for (size_t i = 0; i < LEN(chunks); i++) {
		policy_request_t r = { 0 };
		unsigned n;

		assert_int_equal(parse_chunks(postfix_req, strlen(postfix_req), chunks[i], &n, &r),
			POLICY_PARSE_REQUEST);
		assert_int_equal(n, 1);
		assert_string_equal(policy_req_get(&r, POLICY_A_CLIENT_ADDRESS), "192.0.2.1");
		/* C.7.4: no lower-casing */
		assert_string_equal(policy_req_get(&r, POLICY_A_SENDER), "Alice.Smith@Example.COM");
		assert_string_equal(policy_req_get(&r, POLICY_A_INSTANCE), "1a2b.5f3c1a.0");
		assert_string_equal(policy_req_get(&r, POLICY_A_QUEUE_ID), "");
		assert_non_null(r.value[POLICY_A_QUEUE_ID]);
		assert_string_equal(policy_req_get(&r, POLICY_A_SASL_USERNAME), "");
		assert_int_equal(r.nattrs, 23);
		policy_request_clear(&r);
	}
}

static void test_parse_persistent(void **state)
{
	char buf[8192] = "";
	unsigned n;

	(void)state;
	for (int i = 0; i < 5; i++)
		strcat(buf, postfix_req);
	assert_int_equal(parse_chunks(buf, strlen(buf), 13, &n, NULL), POLICY_PARSE_REQUEST);
	assert_int_equal(n, 5);
}

static void test_parse_stops_after_request(void **state)
{
	policy_parser_t p;
	const char *two = "request=smtpd_access_policy\n\nrequest=smtpd_access_policy\n\n";
	size_t used;

	(void)state;
	policy_parser_init(&p);
	assert_int_equal(policy_parse(&p, two, strlen(two), &used), POLICY_PARSE_REQUEST);
	assert_int_equal(used, strlen("request=smtpd_access_policy\n\n"));
	policy_parser_finish(&p);
}

/* The store is reused from request to request (policy_request_reset):
 * each request sees only its own values, absent ones NULL. */
static void test_parse_reuse(void **state)
{
	static const char *const reqs[] = {
		("request=smtpd_access_policy\nsender=a@long.example.com\nhelo_name=h1\n"
		 "instance=1\n\n"),
		"request=smtpd_access_policy\nsender=b@x\nsender=c@y\n\n",
		"request=smtpd_access_policy\nclient_address=192.0.2.9\n\n",
	};
	policy_parser_t p;
	size_t used;

	(void)state;
	policy_parser_init(&p);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(policy_parse(&p, reqs[0], strlen(reqs[0]), &used),
			POLICY_PARSE_REQUEST);
		assert_string_equal(p.req.value[POLICY_A_SENDER], "a@long.example.com");
		assert_string_equal(p.req.value[POLICY_A_HELO_NAME], "h1");
		assert_string_equal(p.req.value[POLICY_A_INSTANCE], "1");
		policy_request_reset(&p.req);
		assert_int_equal(policy_parse(&p, reqs[1], strlen(reqs[1]), &used),
			POLICY_PARSE_REQUEST);
		assert_string_equal(p.req.value[POLICY_A_SENDER], "c@y");
		assert_null(p.req.value[POLICY_A_HELO_NAME]);
		assert_null(p.req.value[POLICY_A_INSTANCE]);
		assert_int_equal(p.req.nattrs, 3);
		policy_request_reset(&p.req);
		assert_int_equal(policy_parse(&p, reqs[2], strlen(reqs[2]), &used),
			POLICY_PARSE_REQUEST);
		assert_null(p.req.value[POLICY_A_SENDER]);
		assert_string_equal(policy_req_get(&p.req, POLICY_A_SENDER), "");
		assert_string_equal(p.req.value[POLICY_A_CLIENT_ADDRESS], "192.0.2.9");
		assert_int_equal(p.req.bytes, strlen(reqs[2]));
		policy_request_reset(&p.req);
	}
	policy_parser_finish(&p);
}

static void test_parse_duplicate_and_crlf(void **state)
{
	const char *t = "request=smtpd_access_policy\r\nsender=a@x\r\nsender=b@y\r\n"
		"value=with=equals\r\n\r\n";
	policy_request_t r = { 0 };
	unsigned n;

	(void)state;
	assert_int_equal(parse_chunks(t, strlen(t), 5, &n, &r), POLICY_PARSE_REQUEST);
	assert_string_equal(policy_req_get(&r, POLICY_A_SENDER), "b@y");
	policy_request_clear(&r);
}

static void test_parse_errors(void **state)
{
	static const struct { const char *name; const char *text; size_t len; } cases[] = {
		{ "no request=", "sender=a@b\n\n", 0 },
		{ "wrong request", "request=junk\n\n", 0 },
		{ "empty line first", "\n", 0 },
		{ "junk line", "request=smtpd_access_policy\nGET / HTTP/1.0\n\n", 0 },
		{ "empty name", "request=smtpd_access_policy\n=x\n\n", 0 },
		{ "NUL", "request=smtpd_access_policy\nsender=a\0b\n\n", 40 },
		{ "NUL in partial line", "request=smtpd_access_policy\nsen\0", 33 },
	};
	unsigned n;

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		if (parse_chunks(cases[i].text, len, 3, &n, NULL) != POLICY_PARSE_ERROR)
			fail_msg("%s: not an error", cases[i].name);
		assert_int_equal(n, 0);
	}
}

static void test_parse_limits(void **state)
{
	size_t big = POLICY_MAX_LINE + 100;
	char *t = malloc(big + 64);
	unsigned n;
	policy_parser_t p;
	size_t used;

	(void)state;
	assert_non_null(t);
	/* a line of exactly 8192 bytes is fine; one byte more is not */
	strcpy(t, "request=smtpd_access_policy\nsender=");
	memset(t + strlen(t), 'a', POLICY_MAX_LINE - 7);
	t[28 + POLICY_MAX_LINE] = '\0';
	strcat(t, "\n\n");
	assert_int_equal(parse_chunks(t, strlen(t), 1000, &n, NULL), POLICY_PARSE_REQUEST);
	strcpy(t, "request=smtpd_access_policy\nsender=");
	memset(t + strlen(t), 'a', POLICY_MAX_LINE - 6);
	t[29 + POLICY_MAX_LINE] = '\0';
	strcat(t, "\n\n");
	assert_int_equal(parse_chunks(t, strlen(t), 1000, &n, NULL), POLICY_PARSE_ERROR);
	/* an over-long partial line is an error before its LF arrives */
	memset(t, 'x', big);
	policy_parser_init(&p);
	assert_int_equal(policy_parse(&p, t, big, &used), POLICY_PARSE_ERROR);
	assert_non_null(strstr(p.error, "8192"));
	policy_parser_finish(&p);
	free(t);
	/* too many attributes */
	{
		char *m = malloc(200 * 8 + 64);
		size_t off;

		assert_non_null(m);
		off = (size_t)sprintf(m, "request=smtpd_access_policy\n");
		for (int i = 0; i < 200; i++)
			off += (size_t)sprintf(m + off, "x%d=1\n", i);
		strcpy(m + off, "\n");
		assert_int_equal(parse_chunks(m, strlen(m), 512, &n, NULL), POLICY_PARSE_ERROR);
		free(m);
	}
}

static void test_parse_alloc_failure(void **state)
{
	(void)state;
	for (unsigned long k = 1; k < 30; k++) {
		policy_parser_t p;
		size_t used;
		policy_parse_status_t st;

		policy_parser_init(&p);
		spf_alloc_fail_at(k);
		st = policy_parse(&p, postfix_req, strlen(postfix_req), &used);
		spf_alloc_fail_at(0);
		assert_true(st == POLICY_PARSE_REQUEST || st == POLICY_PARSE_ERROR);
		policy_parser_finish(&p);
	}
}

/* ---- configuration ---- */

static policy_config_t *cfg(const char *text, char **err)
{
	policy_config_t *c = policy_config_create();

	assert_non_null(c);
	*err = NULL;
	if (policy_config_parse(c, text, strlen(text), "test.conf", err, NULL, NULL) != SPF_OK) {
		policy_config_unref(c);
		return NULL;
	}
	return c;
}

static void test_config_defaults(void **state)
{
	policy_config_t *c = policy_config_create();
	spf_addr_t a;

	(void)state;
	assert_int_equal(c->debug_level, 1);
	assert_true(c->enforce);
	assert_int_equal(c->helo_reject, POLICY_REJ_FAIL);
	assert_int_equal(c->mfrom_reject, POLICY_REJ_FAIL);
	assert_false(c->permerror_reject);
	assert_false(c->temperror_defer);
	assert_true(c->enhanced_codes);
	assert_int_equal(c->header_type, POLICY_HDR_SPF);
	assert_false(c->hide_receiver);
	assert_int_equal(c->lookup_time, 20);
	assert_int_equal(c->void_limit, 2);
	assert_int_equal(c->void_count, SPF_VOID_RFC);
	assert_true(spf_addr_parse("127.1.2.3", &a));
	assert_true(policy_net_match(c->skip, c->nskip, &a));
	assert_true(spf_addr_parse("::ffff:127.0.0.1", &a));
	assert_true(policy_net_match(c->skip, c->nskip, &a));
	assert_true(spf_addr_parse("::1", &a));
	assert_true(policy_net_match(c->skip, c->nskip, &a));
	assert_true(spf_addr_parse("192.0.2.1", &a));
	assert_false(policy_net_match(c->skip, c->nskip, &a));
	policy_config_unref(c);
}

/* Debian's shipped policyd-spf.conf, trailing blanks and all */
static const char debian_conf[] =
	"#  For a fully commented sample config file see policyd-spf.conf.commented\n"
	"\n"
	"debugLevel = 1 \n"
	"TestOnly = 1\n"
	"\n"
	"HELO_reject = Fail\n"
	"Mail_From_reject = Fail\n"
	"\n"
	"PermError_reject = False\n"
	"TempError_Defer = False\n"
	"\n"
	"skip_addresses = 127.0.0.0/8,::ffff:127.0.0.0/104,::1\n";

static void test_config_values(void **state)
{
	char *err;
	policy_config_t *c = cfg(debian_conf, &err);
	spf_addr_t a;

	(void)state;
	assert_non_null(c);
	assert_true(spf_addr_parse("::ffff:127.9.9.9", &a));
	assert_true(policy_net_match(c->skip, c->nskip, &a));
	assert_int_equal(c->nskip, 3);
	policy_config_unref(c);

	c = cfg("HELO_reject = SPF_Not_Pass\nMail_From_reject = softfail\n"
		"PermError_reject = True\nTempError_Defer = yes\nTestOnly = 0\n"
		"Header_Type = AR\nAuthserv_Id = mx.example.net\nHide_Receiver = Yes\n"
		"Lookup_Time = 5\nVoid_Limit = 3\nVoid_Count = per-query\nMax_Queries_In_Flight = 512\n"
		"SPF_Enhanced_Status_Codes = No\n"
		"Whitelist = 192.0.2.0/24, 2001:db8::/32\nHELO_Whitelist = a.example,b.example\n"
		"Domain_Whitelist = relay.example\nReason_Message = {rejectdefer}: {spf} x=y\n"
		"skip_addresses =\nUserID = nobody\n", &err);
	assert_non_null(c);
	assert_int_equal(c->helo_reject, POLICY_REJ_NOT_PASS);
	assert_int_equal(c->mfrom_reject, POLICY_REJ_SOFTFAIL);
	assert_true(c->permerror_reject);
	assert_true(c->temperror_defer);
	assert_false(c->enforce);
	assert_int_equal(c->header_type, POLICY_HDR_AR);
	assert_string_equal(c->authserv_id, "mx.example.net");
	assert_true(c->hide_receiver);
	assert_int_equal(c->lookup_time, 5);
	assert_int_equal(c->void_limit, 3);
	assert_int_equal(c->max_inflight, 512);
	assert_int_equal(c->void_count, SPF_VOID_PER_QUERY);
	assert_false(c->enhanced_codes);
	assert_int_equal(c->nwhitelist, 2);
	assert_int_equal(c->nhelo_whitelist, 2);
	assert_true(policy_name_listed(c->helo_whitelist, c->nhelo_whitelist, "B.Example."));
	assert_int_equal(c->ndomain_whitelist, 1);
	assert_string_equal(c->reason_message, "{rejectdefer}: {spf} x=y");
	assert_int_equal(c->nskip, 0);
	policy_config_unref(c);

	c = cfg("Header_Type = both\nAuthserv_Id = HOSTNAME\nVoid_Count = RFC\n", &err);
	assert_non_null(c);
	assert_int_equal(c->void_count, SPF_VOID_RFC);
	assert_int_equal(c->header_type, POLICY_HDR_BOTH);
	assert_null(c->authserv_id);
	policy_config_unref(c);
}

static void test_config_errors(void **state)
{
	static const struct { const char *text; const char *want; } cases[] = {
		{ "Bogus_Option = 1\n", "test.conf:1: unknown option 'Bogus_Option'" },
		{ "# c\n\nHELO_reject = Maybe\n", "test.conf:3: HELO_reject must be" },
		{ "Mail_From_reject = Null\n", "test.conf:1: Mail_From_reject must be" },
		{ "TestOnly = 2\n", "test.conf:1: TestOnly must be" },
		{ "Lookup_Time = 0\n", "Lookup_Time must be" },
		{ "Lookup_Time = 20s\n", "Lookup_Time must be" },
		{ "Void_Limit = -1\n", "Void_Limit must be" },
		{ "Max_Queries_In_Flight = 0\n", "test.conf:1: Max_Queries_In_Flight must be a number from 1 to 100000" },
		{ "Max_Queries_In_Flight = 100001\n", "Max_Queries_In_Flight must be" },
		{ "Void_Count = pyspf\n", "test.conf:1: Void_Count must be rfc or per-query" },
		{ "Void_Count = per query\n", "Void_Count must be rfc or per-query" },
		{ "skip_addresses = 127.0.0.0/33\n", "bad entry '127.0.0.0/33'" },
		{ "Whitelist = 192.0.2.0/24,nonsense\n", "bad entry 'nonsense'" },
		{ "Header_Type = XML\n", "Header_Type must be" },
		{ "just some words\n", "test.conf:1: not 'name = value'" },
		{ "= value\n", "a value without an option name" },
		{ "No_Mail = True\n", "No_Mail is not supported" },
		{ "Domain_Whitelist_PTR = example.com\n", "Domain_Whitelist_PTR is not supported" },
		{ "Hide_Receiver = maybe\n", "Hide_Receiver must be" },
		{ "PermError_reject = sure\n", "PermError_reject must be" },
		{ "Reason_Message = caf\xc3\xa9\n", "printable ASCII" },
		{ "debugLevel = 9\n", "debugLevel must be" },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		char *err = NULL;
		policy_config_t *c = cfg(cases[i].text, &err);

		assert_null(c);
		assert_non_null(err);
		if (strstr(err, cases[i].want) == NULL)
			fail_msg("'%s': got '%s', want '%s'", cases[i].text, err, cases[i].want);
		spf_free(err);
	}
}

static void test_config_load(void **state)
{
	char path[] = "/tmp/test_policy_XXXXXX";
	int fd = mkstemp(path);
	policy_config_t *c = NULL;
	char *err = NULL;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, debian_conf, strlen(debian_conf)), (int)strlen(debian_conf));
	close(fd);
	chmod(path, 0644);
	assert_int_equal(policy_config_load(path, &c, &err, NULL, NULL), SPF_OK);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	policy_config_unref(c);
	/* world-writable: refused */
	chmod(path, 0666);
	assert_int_not_equal(policy_config_load(path, &c, &err, NULL, NULL), SPF_OK);
	assert_non_null(strstr(err, "writable by everyone"));
	spf_free(err);
	unlink(path);
	assert_int_equal(policy_config_load(path, &c, &err, NULL, NULL), SPF_EIO);
	assert_non_null(strstr(err, "cannot read"));
	spf_free(err);
	assert_int_not_equal(policy_config_load("/", &c, &err, NULL, NULL), SPF_OK);
	spf_free(err);
}

/* ---- mapping ---- */

static void test_scope_verdict_table(void **state)
{
	/* columns: pass fail softfail neutral none permerror temperror;
	 * P prepend, R reject, D defer */
	static const struct {
		const char *conf;
		bool helo, null;
		const char *want;
	} rows[] = {
		{ "", false, false, "PRPPPPP" },
		{ "Mail_From_reject = Softfail\n", false, false, "PRRPPPP" },
		{ "Mail_From_reject = SPF_Not_Pass\n", false, false, "PRRRPPP" },
		{ "Mail_From_reject = False\nPermError_reject = True\nTempError_Defer = True\n",
			false, false, "PPPPPPP" },
		{ "PermError_reject = True\nTempError_Defer = True\n", false, false, "PRPPPRD" },
		{ "HELO_reject = Null\n", true, false, "PPPPPPP" },
		{ "HELO_reject = Null\n", true, true, "PRPPPPP" },
		{ "HELO_reject = SPF_Not_Pass\nTempError_Defer = True\n", true, false, "PRRRPPD" },
	};
	static const spf_result_t order[] = {
		SPF_RESULT_PASS, SPF_RESULT_FAIL, SPF_RESULT_SOFTFAIL, SPF_RESULT_NEUTRAL,
		SPF_RESULT_NONE, SPF_RESULT_PERMERROR, SPF_RESULT_TEMPERROR,
	};

	(void)state;
	for (size_t i = 0; i < LEN(rows); i++) {
		char *err;
		policy_config_t *c = cfg(rows[i].conf, &err);

		assert_non_null(c);
		for (size_t k = 0; k < LEN(order); k++) {
			policy_verdict_t v = policy_scope_verdict(c, rows[i].helo, order[k],
				rows[i].null, false);
			char got = v == POLICY_REJECT ? 'R' : v == POLICY_DEFER ? 'D' : 'P';

			if (got != rows[i].want[k])
				fail_msg("row %zu (%s) %s: got %c", i, rows[i].conf,
					spf_result_str(order[k]), got);
		}
		/* Reject_Not_Pass_Domains: a listed domain gets SPF_Not_Pass */
		assert_int_equal(policy_scope_verdict(c, rows[i].helo, SPF_RESULT_NEUTRAL,
			false, true), POLICY_REJECT);
		policy_config_unref(c);
	}
}

static policy_facts_t facts(const char *helo, const char *sender)
{
	policy_facts_t f = { 0 };

	f.client_address = "192.0.2.1";
	f.helo = helo;
	f.sender = sender;
	f.recipient = "bob@example.net";
	return f;
}

static void set(policy_ident_t *id, spf_result_t r)
{
	id->checked = true;
	id->result = r;
}

static void test_decide_flow(void **state)
{
	char *err;
	policy_config_t *c = cfg("", &err);
	policy_decision_t d;
	policy_facts_t f;

	(void)state;
	/* HELO first, then MAIL FROM */
	f = facts("mail.example.com", "a@example.com");
	assert_int_equal(policy_decide(c, &f, &d), POLICY_CHECK_HELO);
	set(&f.helo_id, SPF_RESULT_PASS);
	assert_int_equal(policy_decide(c, &f, &d), POLICY_CHECK_MFROM);
	set(&f.mfrom_id, SPF_RESULT_SOFTFAIL);
	assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
	assert_int_equal(d.verdict, POLICY_PREPEND);
	assert_int_equal(d.header_of, SPF_IDENTITY_MFROM);
	/* MAIL FROM none, HELO real: the HELO header */
	f.mfrom_id.result = SPF_RESULT_NONE;
	assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
	assert_int_equal(d.header_of, SPF_IDENTITY_HELO);
	/* a HELO fail is final: MAIL FROM is not checked */
	f = facts("mail.example.com", "a@example.com");
	set(&f.helo_id, SPF_RESULT_FAIL);
	f.helo_id.explanation = "go away";
	assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
	assert_int_equal(d.verdict, POLICY_REJECT);
	assert_string_equal(d.action, "550 5.7.23 Message rejected due to: go away. Please see "
		"https://www.open-spf.org/Why?s=helo;id=mail.example.com;ip=192.0.2.1;"
		"r=bob@example.net");
	policy_decision_finish(&d);
	/* null sender: the HELO verdict is final */
	f = facts("mail.example.com", "");
	set(&f.helo_id, SPF_RESULT_SOFTFAIL);
	assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
	assert_int_equal(d.verdict, POLICY_PREPEND);
	assert_int_equal(d.header_of, SPF_IDENTITY_HELO);
	/* no sender and no HELO: nothing to do */
	f = facts("", "");
	assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
	assert_int_equal(d.verdict, POLICY_DUNNO);
	/* no HELO: straight to MAIL FROM */
	f = facts("", "a@example.com");
	assert_int_equal(policy_decide(c, &f, &d), POLICY_CHECK_MFROM);
	policy_config_unref(c);

	/* HELO_reject = No_Check, null sender: MAIL FROM (postmaster@helo) */
	c = cfg("HELO_reject = No_Check\n", &err);
	f = facts("mail.example.com", "");
	assert_int_equal(policy_decide(c, &f, &d), POLICY_CHECK_MFROM);
	policy_config_unref(c);
}

static void test_decide_replies(void **state)
{
	static const struct {
		const char *conf;
		spf_result_t r;
		const char *problem;
		policy_verdict_t v;
		const char *want;
	} rows[] = {
		{ "Reason_Message = {rejectdefer}: {spf}\n", SPF_RESULT_FAIL, NULL, POLICY_REJECT,
			"550 5.7.23 rejected: x.example does not designate 192.0.2.1" },
		{ "Reason_Message = {rejectdefer}: {spf}\nSPF_Enhanced_Status_Codes = No\n",
			SPF_RESULT_FAIL, NULL, POLICY_REJECT,
			"550 rejected: x.example does not designate 192.0.2.1" },
		{ "Reason_Message = {rejectdefer}: {spf}\nPermError_reject = True\n",
			SPF_RESULT_PERMERROR, "bad record", POLICY_REJECT,
			"550 5.7.24 rejected: SPF permerror: bad record" },
		{ "Reason_Message = {rejectdefer}: {spf}\nTempError_Defer = True\n",
			SPF_RESULT_TEMPERROR, "SERVFAIL", POLICY_DEFER,
			"DEFER_IF_PERMIT 4.7.24 deferred: SPF temperror: SERVFAIL" },
		{ "Reason_Message = {rejectdefer}: {spf}\nTempError_Defer = True\n"
		  "SPF_Enhanced_Status_Codes = No\n",
			SPF_RESULT_TEMPERROR, "SERVFAIL", POLICY_DEFER,
			"DEFER_IF_PERMIT deferred: SPF temperror: SERVFAIL" },
		{ "Reason_Message = {spf}\nMail_From_reject = Softfail\n",
			SPF_RESULT_SOFTFAIL, NULL, POLICY_REJECT,
			"550 5.7.23 Receiver policy for SPF Softfail" },
		{ "Mail_From_pass_restriction = spf_passed\n", SPF_RESULT_PASS, NULL,
			POLICY_RESTRICTION, "spf_passed" },
		{ "TestOnly = 0\n", SPF_RESULT_FAIL, NULL, POLICY_PREPEND, NULL },
		{ "Header_Type = None\n", SPF_RESULT_PASS, NULL, POLICY_DUNNO, NULL },
	};

	(void)state;
	for (size_t i = 0; i < LEN(rows); i++) {
		char *err;
		policy_config_t *c = cfg(rows[i].conf, &err);
		policy_facts_t f = facts("", "a@x.example");
		policy_decision_t d;

		assert_non_null(c);
		set(&f.mfrom_id, rows[i].r);
		f.mfrom_id.explanation = "x.example does not designate 192.0.2.1\r\n\x01\xff";
		f.mfrom_id.problem = rows[i].problem;
		assert_int_equal(policy_decide(c, &f, &d), POLICY_FINAL);
		if (d.verdict != rows[i].v)
			fail_msg("row %zu: verdict %d, want %d", i, d.verdict, rows[i].v);
		if (rows[i].want != NULL) {
			assert_non_null(d.action);
			if (strncmp(d.action, rows[i].want, strlen(rows[i].want)) != 0)
				fail_msg("row %zu: got '%s', want '%s'", i, d.action, rows[i].want);
			for (const char *p = d.action; *p; p++)
				assert_true(*p >= 0x20 && *p < 0x7f);
		}
		if (i == 7)
			assert_true(d.test_only_dropped);
		policy_decision_finish(&d);
		policy_config_unref(c);
	}
}

static void test_sanitize(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 1024);
	policy_sanitize(&b, "a\nb\rc\x7f" "d\xc3\xa9", 100);
	assert_string_equal(spf_buf_cstr(&b), "a?b?c?d??");
	spf_buf_reset(&b);
	policy_sanitize(&b, "abcdef", 3);
	assert_string_equal(spf_buf_cstr(&b), "abc...");
	spf_buf_finish(&b);

	/* policy_printable() writes the same text into a caller's array */
	char out[16];
	assert_string_equal(policy_printable("a\nb\rc\x7f" "d\xc3\xa9", out, sizeof(out), 100),
		"a?b?c?d??");
	assert_string_equal(policy_printable("abcdef", out, sizeof(out), 3), "abc...");
	assert_string_equal(policy_printable("abcdef", out, sizeof(out), 6), "abcdef");
	assert_string_equal(policy_printable(NULL, out, sizeof(out), 6), "");
	assert_string_equal(policy_printable("0123456789abcdefghij", out, sizeof(out), 100),
		"0123456789abcde");
	strcpy(out, "PREPEND x");     /* in place, as action_code() calls it */
	assert_string_equal(policy_printable(out, out, sizeof(out), 4), "PREP...");

	/* every byte value at every place of a word, and cuts around the
	 * eight-byte steps: as policy_sanitize() */
	for (unsigned c = 1; c < 256; c++) {
		for (size_t at = 0; at < 19; at++) {
			char in[20], got[64];

			memset(in, 'x', sizeof(in));
			in[at] = (char)c;
			in[19] = '\0';
			for (size_t max = 0; max < 21; max += 4) {
				spf_buf_init(&b, 1024);
				policy_sanitize(&b, in, max);
				assert_string_equal(policy_printable(in, got, sizeof(got), max),
					spf_buf_cstr(&b));
				spf_buf_finish(&b);
			}
		}
	}
}

/* policy_tenths() is printf's "%.1f" */
static void test_tenths(void **state)
{
	static const double v[] = { 0, 0.04, 0.05, 0.06, 0.15, 0.25, 0.35, 0.95, 0.9999,
		1, 9.95, 9.96, 12.34, 99.95, 414.25, 1234.5678, 59999.95, 123456789.0,
		1e9, 1e12, -1, -0.04 };
	char want[64], got[33];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = policy_tenths(got, v[i]);

		got[n] = '\0';
		snprintf(want, sizeof(want), "%.1f", v[i]);
		assert_string_equal(got, want);
	}
	for (unsigned i = 0; i < 200000; i++) {
		double x = (double)i * 0.0137 + (double)(i % 7) * 1e-3;
		size_t n = policy_tenths(got, x);

		got[n] = '\0';
		snprintf(want, sizeof(want), "%.1f", x);
		assert_string_equal(got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_postfix_request),
		cmocka_unit_test(test_parse_persistent),
		cmocka_unit_test(test_parse_stops_after_request),
		cmocka_unit_test(test_parse_reuse),
		cmocka_unit_test(test_parse_duplicate_and_crlf),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_alloc_failure),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_values),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_load),
		cmocka_unit_test(test_scope_verdict_table),
		cmocka_unit_test(test_decide_flow),
		cmocka_unit_test(test_decide_replies),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_tenths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
