/*
 * test_pra.c - the PRA algorithm (RFC 4407 §2): every vector of SPECS
 * A.5, the address syntax it relies on (folding, comments, quoted
 * strings, groups, obs-route), the Return-Path, and input that is not a
 * message (empty, binary, no header fields, over the limits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "spf.h"

struct vec {
	const char *name;
	const char *headers;        /* LF line ends; "\n\nbody" appended */
	spf_pra_status_t status;
	const char *pra;            /* expected PRA or NULL */
	const char *field;          /* expected field or NULL */
};

/* SPECS A.5 "Test vectors to write (PRA)", in order, then more. */
static const struct vec vectors[] = {
	{ "from", "From: a@x.example\n", SPF_PRA_OK, "a@x.example", "From" },
	{ "sender-over-from", "Sender: s@y.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "s@y.example", "Sender" },
	{ "two-senders", "Sender: s@y.example\nSender: t@z.example\nFrom: a@x.example\n",
	  SPF_PRA_MULTIPLE_SENDER, NULL, NULL },
	{ "from-list", "From: a@x.example, b@y.example\n",
	  SPF_PRA_MULTIPLE_MAILBOXES, NULL, "From" },
	{ "resent-from", "Resent-From: r@f.example\nReceived: from a by b; Tue, 4 Mar 2025 10:00:00 +0000\nFrom: a@x.example\n",
	  SPF_PRA_OK, "r@f.example", "Resent-From" },
	{ "resent-sender", "Resent-Sender: rs@f.example\nResent-From: r@f.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "rs@f.example", "Resent-Sender" },
	{ "resent-sender-same-block", "Resent-From: r@f.example\nResent-Sender: rs@f.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "rs@f.example", "Resent-Sender" },
	{ "resent-sender-older-block",
	  "Resent-From: r2@new.example\nReceived: from x by y; Tue, 4 Mar 2025 10:00:00 +0000\n"
	  "Resent-Sender: rs@old.example\nResent-From: r@old.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "r2@new.example", "Resent-From" },
	{ "resent-from-list", "Resent-From: r1@x.example, r2@y.example\nFrom: a@x.example\n",
	  SPF_PRA_MULTIPLE_MAILBOXES, NULL, "Resent-From" },
	{ "empty-group", "From: undisclosed-recipients:;\n", SPF_PRA_NO_MAILBOX, NULL, "From" },
	{ "no-domain", "From: user\n", SPF_PRA_NO_DOMAIN, NULL, "From" },
	/* the older-block rule with Return-Path as the trace field */
	{ "resent-sender-older-block-return-path",
	  "Resent-From: r2@new.example\nReturn-Path: <b@new.example>\n"
	  "Resent-Sender: rs@old.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "r2@new.example", "Resent-From" },
	/* a Resent-Sender with no Resent-From above it is selected */
	{ "resent-sender-alone", "Received: from a by b; Tue, 4 Mar 2025 10:00:00 +0000\n"
	  "Resent-Sender: rs@f.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "rs@f.example", "Resent-Sender" },
	/* the first of several Resent-From fields (newest block on top) */
	{ "resent-from-first", "Resent-From: new@n.example\nReceived: x; Tue, 4 Mar 2025 10:00:00 +0000\n"
	  "Resent-From: old@o.example\nFrom: a@x.example\n",
	  SPF_PRA_OK, "new@n.example", "Resent-From" },
	/* empty fields do not count */
	{ "empty-sender-ignored", "Sender: \nFrom: a@x.example\n", SPF_PRA_OK, "a@x.example", "From" },
	{ "empty-resent-sender-ignored", "Resent-Sender:   \nResent-From: r@f.example\n",
	  SPF_PRA_OK, "r@f.example", "Resent-From" },
	{ "two-froms", "From: a@x.example\nFrom: b@y.example\n", SPF_PRA_MULTIPLE_FROM, NULL, NULL },
	{ "two-froms-one-sender", "From: a@x.example\nFrom: b@y.example\nSender: s@y.example\n",
	  SPF_PRA_OK, "s@y.example", "Sender" },
	{ "no-field", "To: b@y.example\nSubject: hi\n", SPF_PRA_NO_FIELD, NULL, NULL },
	{ "only-empty-from", "From:\nTo: b@y.example\n", SPF_PRA_NO_FIELD, NULL, NULL },
	/* case-insensitive names, CFWS, display names, quoted strings */
	{ "case", "FROM: a@x.example\nsender: S@Y.example\n", SPF_PRA_OK, "S@Y.example", "Sender" },
	{ "display-name", "From: \"Doe, Jane\" <jane@x.example>\n", SPF_PRA_OK, "jane@x.example", "From" },
	{ "comments", "From: (c1) jane (c2 (nested)) @ (c3) x . example (c4)\n",
	  SPF_PRA_OK, "jane@x.example", "From" },
	{ "folded", "From: Jane\n <jane@x.example>\nTo: b@y.example\n", SPF_PRA_OK, "jane@x.example", "From" },
	{ "folded-tab", "From:\n\tjane@x.example\n", SPF_PRA_OK, "jane@x.example", "From" },
	{ "quoted-local", "From: \"jane doe\"@x.example\n", SPF_PRA_OK, "\"jane doe\"@x.example", "From" },
	{ "obs-route", "From: <@relay.example,@r2.example:jane@x.example>\n", SPF_PRA_OK,
	  "jane@x.example", "From" },
	{ "group-one", "From: team: jane@x.example;\n", SPF_PRA_OK, "jane@x.example", "From" },
	{ "group-two", "From: team: a@x.example, b@x.example;\n", SPF_PRA_MULTIPLE_MAILBOXES, NULL, "From" },
	{ "group-unterminated", "From: undisclosed-recipients:\n", SPF_PRA_NO_MAILBOX, NULL, "From" },
	{ "rfc2047-display", "From: =?utf-8?q?J=C3=A4ne?= <jane@x.example>\n", SPF_PRA_OK,
	  "jane@x.example", "From" },
	{ "utf8-local", "From: j\xc3\xa4ne@x.example\n", SPF_PRA_OK, "j\xc3\xa4ne@x.example", "From" },
	{ "trailing-comma", "From: jane@x.example,\n", SPF_PRA_OK, "jane@x.example", "From" },
	{ "obs-optional-colon", "From : jane@x.example\n", SPF_PRA_OK, "jane@x.example", "From" },
	/* malformed mailboxes */
	{ "angle-no-domain", "From: Jane <jane>\n", SPF_PRA_NO_DOMAIN, NULL, "From" },
	{ "empty-angle", "From: Jane <>\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "no-local", "From: @x.example\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "no-close", "From: Jane <jane@x.example\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "after-angle", "From: <jane@x.example> junk\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "unbalanced-quote", "From: \"Jane <jane@x.example>\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "unbalanced-comment", "From: jane@x.example (oops\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "two-ats", "From: a@b@x.example\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "domain-literal", "From: jane@[192.0.2.1]\n", SPF_PRA_NO_DOMAIN, NULL, "From" },
	{ "empty-domain", "From: jane@\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "dot-dot", "From: jane@x..example\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "stray-semicolon", "From: ;\n", SPF_PRA_MALFORMED, NULL, "From" },
	{ "backslash", "From: ja\\ne@x.example\n", SPF_PRA_MALFORMED, NULL, "From" },
	/* the selected field is malformed: no fallback to a later step */
	{ "bad-sender-no-fallback", "Sender: nobody\nFrom: a@x.example\n", SPF_PRA_NO_DOMAIN, NULL, "Sender" },
};

static void check_vec(const struct vec *v, const char *msg, size_t len)
{
	spf_arena_t *arena = spf_arena_create();
	spf_pra_t pra;
	const char *err = NULL;

	assert_non_null(arena);
	if (spf_pra_extract(arena, (const uint8_t *)msg, len, &pra, &err) != SPF_OK)
		fail_msg("%s: %s", v->name, err ? err : "?");
	if (pra.status != v->status)
		fail_msg("%s: status %s, want %s (%s)", v->name, spf_pra_status_str(pra.status),
			spf_pra_status_str(v->status), pra.why ? pra.why : "");
	assert_non_null(pra.why);
	if (v->pra != NULL) {
		assert_non_null(pra.pra);
		if (strcmp(pra.pra, v->pra) != 0)
			fail_msg("%s: PRA %s, want %s", v->name, pra.pra, v->pra);
		assert_string_equal(pra.domain, strrchr(v->pra, '@') + 1);
	} else {
		assert_null(pra.pra);
		assert_null(pra.domain);
	}
	if (v->field != NULL) {
		assert_non_null(pra.field);
		assert_string_equal(pra.field, v->field);
		assert_true(pra.field_line > 0);
	}
	spf_arena_destroy(arena);
}

static void test_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		char msg[2048], crlf[4096];
		size_t n = 0;

		snprintf(msg, sizeof(msg), "%s\nbody line\n", vectors[i].headers);
		check_vec(&vectors[i], msg, strlen(msg));
		/* the same with CRLF line ends */
		for (const char *p = msg; *p; p++) {
			if (*p == '\n')
				crlf[n++] = '\r';
			crlf[n++] = *p;
		}
		check_vec(&vectors[i], crlf, n);
		/* and without a body (headers up to the end of input) */
		check_vec(&vectors[i], vectors[i].headers, strlen(vectors[i].headers));
	}
}

static spf_status_t extract(spf_arena_t *arena, const char *msg, size_t len,
	spf_pra_t *pra, const char **err)
{
	return spf_pra_extract(arena, (const uint8_t *)msg, len, pra, err);
}

static void test_return_path(void **state)
{
	static const struct {
		const char *msg;
		const char *rp;        /* NULL: none or unusable */
		bool problem;
	} cases[] = {
		{ "Return-Path: <b@l.example>\nFrom: a@x.example\n", "b@l.example", false },
		{ "Return-Path: <>\nFrom: a@x.example\n", "", false },
		{ "Return-Path: b@l.example\nFrom: a@x.example\n", "b@l.example", false },
		{ "Return-Path: <new@l.example>\nReturn-Path: <old@l.example>\nFrom: a@x.example\n",
		  "new@l.example", false },
		{ "Return-Path: <garbage\nFrom: a@x.example\n", NULL, true },
		{ "Return-Path:\nFrom: a@x.example\n", NULL, true },
		{ "From: a@x.example\n", NULL, false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_pra_t pra;

		assert_int_equal(extract(arena, cases[i].msg, strlen(cases[i].msg), &pra, NULL), SPF_OK);
		assert_int_equal(pra.status, SPF_PRA_OK);
		if (cases[i].rp == NULL)
			assert_null(pra.return_path);
		else
			assert_string_equal(pra.return_path, cases[i].rp);
		assert_true((pra.return_path_problem != NULL) == cases[i].problem);
		spf_arena_destroy(arena);
	}
}

static void test_not_a_message(void **state)
{
	static const struct {
		const char *name;
		const char *msg;
		size_t len;
		spf_status_t st;
		const char *err;       /* substring of the message */
	} cases[] = {
		{ "empty", "", 0, SPF_ESYNTAX, "empty" },
		{ "blank-first", "\nFrom: a@x.example\n", 19, SPF_ESYNTAX, "no header fields" },
		{ "crlf-blank-first", "\r\nbody\r\n", 8, SPF_ESYNTAX, "no header fields" },
		{ "continuation-first", " folded\nFrom: a@x.example\n", 25, SPF_ESYNTAX, "white space" },
		{ "no-colon", "Hello world\nFrom: a@x.example\n", 30, SPF_ESYNTAX, "line 1 is not a header field" },
		{ "space-in-name", "From: a@x.example\nX Bad: y\n", 27, SPF_ESYNTAX, "line 2 is not a header field" },
		{ "empty-name", ": y\n", 4, SPF_ESYNTAX, "line 1" },
		{ "nul", "From: a@x\0.example\n", 19, SPF_ESYNTAX, "NUL byte" },
		{ "control", "Subject: \x01\x02\nFrom: a@x.example\n", 31, SPF_ESYNTAX, "control byte" },
		{ "stray-cr", "Subject: a\rb\nFrom: a@x.example\n", 30, SPF_ESYNTAX, "stray CR" },
		{ "binary", "\x7f" "ELF\x02\x01\x01\0\0\0", 10, SPF_ESYNTAX, "line 1" },
		{ "mbox-only", "From alice@x.example Tue Mar  4 10:00:00 2025\n", 46, SPF_ESYNTAX, "no header fields" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_pra_t pra;
		const char *err = NULL;
		spf_status_t st = extract(arena, cases[i].msg, cases[i].len, &pra, &err);

		if (st != cases[i].st)
			fail_msg("%s: status %s, want %s", cases[i].name, spf_strerror(st),
				spf_strerror(cases[i].st));
		assert_non_null(err);
		if (strstr(err, cases[i].err) == NULL)
			fail_msg("%s: error '%s' lacks '%s'", cases[i].name, err, cases[i].err);
		assert_null(strchr(err, '\n'));
		spf_arena_destroy(arena);
	}
}

static void test_mbox_line_and_body(void **state)
{
	const char *msg = "From alice@x.example Tue Mar  4 10:00:00 2025\n"
		"From: a@x.example\n\n\x01\x02\0binary body is never read\n";
	spf_arena_t *arena = spf_arena_create();
	spf_pra_t pra;

	(void)state;
	assert_int_equal(extract(arena, msg, strlen(msg) + 30, &pra, NULL), SPF_OK);
	assert_int_equal(pra.status, SPF_PRA_OK);
	assert_string_equal(pra.pra, "a@x.example");
	assert_int_equal(pra.nfields, 1);
	spf_arena_destroy(arena);
}

static void test_limits(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	size_t big = 2 * 1024 * 1024;
	char *m = malloc(big);
	spf_pra_t pra;
	const char *err = NULL;
	size_t n;

	(void)state;
	assert_non_null(m);
	/* one field longer than 64 KiB (folded) */
	n = (size_t)sprintf(m, "From: a@x.example\nX-Long: a");
	while (n < 120000) {
		memcpy(m + n, "\n b", 3);
		n += 3;
	}
	assert_int_equal(extract(arena, m, n, &pra, &err), SPF_ETOOBIG);
	assert_non_null(strstr(err, "longer than"));
	/* a header block over 1 MiB */
	n = 0;
	while (n < big - 1000)
		n += (size_t)sprintf(m + n, "X-F: %0900d\n", 0);
	assert_int_equal(extract(arena, m, n, &pra, &err), SPF_ETOOBIG);
	/* over 10000 fields */
	n = 0;
	for (int i = 0; i < 10001; i++)
		n += (size_t)sprintf(m + n, "X: y\n");
	assert_int_equal(extract(arena, m, n, &pra, &err), SPF_ETOOBIG);
	assert_non_null(strstr(err, "10000"));
	/* a long but legal From (many comments) still works */
	n = (size_t)sprintf(m, "From: a@x.example");
	for (int i = 0; i < 2000; i++)
		n += (size_t)sprintf(m + n, " (c%d)", i);
	m[n++] = '\n';
	assert_int_equal(extract(arena, m, n, &pra, &err), SPF_OK);
	assert_string_equal(pra.pra, "a@x.example");
	free(m);
	spf_arena_destroy(arena);
}

static void test_args_and_oom(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	spf_pra_t pra;
	const char *msg = "Return-Path: <b@l.example>\nSender: \"x\" <s@y.example>\nFrom: a@x.example\n";

	(void)state;
	assert_int_equal(spf_pra_extract(NULL, (const uint8_t *)"x", 1, &pra, NULL), SPF_EINVAL);
	assert_int_equal(spf_pra_extract(arena, NULL, 1, &pra, NULL), SPF_EINVAL);
	assert_int_equal(spf_pra_extract(arena, (const uint8_t *)"x", 1, NULL, NULL), SPF_EINVAL);
	assert_string_equal(spf_pra_status_str(SPF_PRA_NO_DOMAIN), "no-domain");
	spf_arena_destroy(arena);
	/* every allocation failing in turn: ENOMEM or success, never a crash */
	for (unsigned long k = 1; k < 200; k++) {
		spf_status_t st;

		arena = spf_arena_create();
		assert_non_null(arena);
		spf_alloc_fail_at(k);
		st = spf_pra_extract(arena, (const uint8_t *)msg, strlen(msg), &pra, NULL);
		spf_alloc_fail_at(0);
		assert_true(st == SPF_OK || st == SPF_ENOMEM);
		if (st == SPF_OK && pra.pra != NULL)
			assert_string_equal(pra.pra, "s@y.example");
		spf_arena_destroy(arena);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_return_path),
		cmocka_unit_test(test_not_a_message),
		cmocka_unit_test(test_mbox_line_and_body),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_args_and_oom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
