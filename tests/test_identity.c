/*
 * test_identity.c - identities as SMTP delivers them (evaluator/
 * identity.c): what check_host() gets for each MAIL FROM and HELO, what
 * is refused and why, and that spf_check_start() reads them the same way.
 */
#include <event2/event.h>
#include <string.h>
#include "check.h"
#include "env.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* sender/helo -> checked, local, domain, malformed (a substring of the
 * reason, or NULL: a domain name) */
static const struct {
	const char *sender, *helo;
	spf_identity_t which;
	const char *checked, *local, *domain, *malformed;
} cases[] = {
	{ "user@example.com", "mx.example.net", SPF_IDENTITY_MFROM,
	  "user@example.com", "user", "example.com", NULL },
	{ "<user@example.com>", NULL, SPF_IDENTITY_MFROM,
	  "user@example.com", "user", "example.com", NULL },
	/* RFC 7208 §4.3: any local-part is evaluated (suite dorky-sentinel) */
	{ "Macro Error@e8.example.com", NULL, SPF_IDENTITY_MFROM,
	  "Macro Error@e8.example.com", "Macro Error", "e8.example.com", NULL },
	{ "\"john smith\"@example.com", NULL, SPF_IDENTITY_MFROM,
	  "\"john smith\"@example.com", "\"john smith\"", "example.com", NULL },
	{ "\"a@b\"@example.com", NULL, SPF_IDENTITY_MFROM,
	  "\"a@b\"@example.com", "\"a@b\"", "example.com", NULL },
	/* the last "@" splits (RFC 5321: a Domain holds no "@"; Postfix) */
	{ "a@b@good.example", NULL, SPF_IDENTITY_MFROM,
	  "a@b@good.example", "a@b", "good.example", NULL },
	/* SMTPUTF8 local-part: bytes kept */
	{ "j\xc3\xbcrgen@example.com", NULL, SPF_IDENTITY_MFROM,
	  "j\xc3\xbcrgen@example.com", "j\xc3\xbcrgen", "example.com", NULL },
	/* a U-label domain as its A-label */
	{ "a@b\xc3\xbc" "cher.example", NULL, SPF_IDENTITY_MFROM,
	  "a@xn--bcher-kva.example", "a", "xn--bcher-kva.example", NULL },
	{ "a@\xcc\x81" "b.example", NULL, SPF_IDENTITY_MFROM,
	  NULL, "a", NULL, "cannot convert it to an A-label" },
	/* §4.3: no local-part -> postmaster; a bare domain too */
	{ "@example.com", NULL, SPF_IDENTITY_MFROM,
	  "postmaster@example.com", "postmaster", "example.com", NULL },
	{ "example.com", NULL, SPF_IDENTITY_MFROM,
	  "postmaster@example.com", "postmaster", "example.com", NULL },
	{ "user@example.com.", NULL, SPF_IDENTITY_MFROM,
	  "user@example.com", "user", "example.com", NULL },
	/* malformed domains are none, not refusals */
	{ "user@", NULL, SPF_IDENTITY_MFROM, "user@", "user", "", "empty" },
	{ "user@localhost", NULL, SPF_IDENTITY_MFROM,
	  "user@localhost", "user", "localhost", "multi-label" },
	{ "user@[192.0.2.1]", NULL, SPF_IDENTITY_MFROM,
	  NULL, "user", "[192.0.2.1]", "domain literal" },
	/* §2.4: the null sender is postmaster@HELO */
	{ "", "mx.example.net", SPF_IDENTITY_MFROM,
	  "postmaster@mx.example.net", "postmaster", "mx.example.net", NULL },
	{ "<>", "mx.example.net", SPF_IDENTITY_MFROM,
	  "postmaster@mx.example.net", "postmaster", "mx.example.net", NULL },
	/* an odd HELO: the HELO identity is none (suite invalid-hello-macro) */
	{ "", "JUMPIN' JUPITER", SPF_IDENTITY_MFROM,
	  NULL, "postmaster", "JUMPIN' JUPITER", "not allowed in a host name" },
	{ "test@e9.example.com", "JUMPIN' JUPITER", SPF_IDENTITY_HELO,
	  NULL, "postmaster", "JUMPIN' JUPITER", "not allowed in a host name" },
	{ "test@e9.example.com", "JUMPIN' JUPITER", SPF_IDENTITY_MFROM,
	  "test@e9.example.com", "test", "e9.example.com", NULL },
	{ "", NULL, SPF_IDENTITY_MFROM, "postmaster@", "postmaster", "", "empty" },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_identity_parts_t p;
		const char *why = NULL;

		assert_non_null(a);
		assert_int_equal(spf_identity_parse(a, NULL, cases[i].sender, cases[i].helo,
			cases[i].which, &p, &why), SPF_OK);
		assert_null(why);
		if (cases[i].checked != NULL)
			assert_string_equal(p.checked, cases[i].checked);
		assert_string_equal(p.local, cases[i].local);
		if (cases[i].domain != NULL)
			assert_string_equal(p.domain, cases[i].domain);
		if (cases[i].malformed == NULL) {
			assert_null(p.malformed);
		} else {
			assert_non_null(p.malformed);
			assert_non_null(strstr(p.malformed, cases[i].malformed));
		}
		spf_arena_destroy(a);
	}
}

/* spf_domain_problem() as it was before it checked the labels in its own
 * pass: the byte rules, then spf_name_ok(), then the dot. */
static const char *domain_problem_ref(const char *d)
{
	bool dot = false;

	if (*d == '\0')
		return "the domain is empty";
	if (*d == '[')
		return "a domain literal is not a domain name";
	for (const char *p = d; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.')
			dot = true;
		else if (c >= 0x80)
			return "the domain is not ASCII (convert it to an A-label)";
		else if (!(c == '-' || c == '_' || (c >= '0' && c <= '9') ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return "the domain contains a character not allowed in a host name";
	}
	if (!spf_name_ok(d))
		return "the domain has an empty label, a label over 63 characters or is over 253 characters";
	if (!dot)
		return "the domain is not a multi-label domain name";
	return NULL;
}

static void same_problem(const char *d)
{
	const char *got = spf_domain_problem(d), *want = domain_problem_ref(d);

	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

/* RFC 7208 §4.3's domain in one pass: the same verdict, word for word, as
 * the byte rules followed by spf_name_ok(), on every string of up to 5
 * bytes from an alphabet of each kind of byte, on every byte value, and
 * at the label (63) and name (253) limits. */
static void test_domain_problem(void **state)
{
	static const char alpha[] = { 'a', 'Z', '0', '9', '-', '_', '.', '@', '`',
		'{', '[', '/', ':', ' ', (char)0x80, (char)0xc3, (char)0xff };
	char d[300];
	size_t n = sizeof(alpha), total = 1;

	(void)state;
	for (int len = 1; len <= 5; len++) {
		total *= n;
		for (size_t k = 0; k < total; k++) {
			size_t v = k;

			for (int i = 0; i < len; i++, v /= n)
				d[i] = alpha[v % n];
			d[len] = '\0';
			same_problem(d);
		}
	}
	for (int c = 1; c < 256; c++) {   /* each byte, alone and in a name */
		snprintf(d, sizeof(d), "a%cb.example", c);
		same_problem(d);
		snprintf(d, sizeof(d), "%c", c);
		same_problem(d);
	}
	for (int label = 61; label <= 65; label++) {
		memset(d, 'x', (size_t)label);
		snprintf(d + label, sizeof(d) - (size_t)label, ".example");
		same_problem(d);
		snprintf(d + label, sizeof(d) - (size_t)label, "%s", "");
		same_problem(d);
		d[0] = '.';
		same_problem(d);
	}
	for (size_t len = 250; len <= 256; len++) {   /* labels of 9 and a dot */
		for (size_t i = 0; i < len; i++)
			d[i] = i % 10 == 9 ? '.' : 'a';
		d[len] = '\0';
		if (d[len - 1] == '.')
			d[len - 1] = 'b';
		same_problem(d);
		d[len - 1] = '.';
		same_problem(d);
	}
	same_problem("");
	same_problem("[192.0.2.1]");
	assert_null(spf_domain_problem("Ex_am-ple9.COM"));
	assert_non_null(spf_domain_problem("example.com."));
}

/* A non-ASCII byte anywhere in the HELO name or the sender's domain (the
 * scan takes eight bytes at a time, then the rest one by one) sends it
 * to the A-label conversion; an ASCII one is kept as given. */
static void test_8bit_anywhere(void **state)
{
	(void)state;
	for (size_t n = 1; n <= 26; n++) {
		for (size_t k = 0; k <= n; k++) {
			spf_arena_t *a = spf_arena_create();
			spf_identity_parts_t r;
			char name[64], sender[80];

			assert_non_null(a);
			memset(name, 'a', n);
			if (k < n)
				name[k] = (char)0xff;   /* k == n: none */
			snprintf(name + n, sizeof(name) - n, ".ex");
			snprintf(sender, sizeof(sender), "u@%s", name);
			assert_int_equal(spf_identity_read(a, NULL, sender, name, &r, NULL),
				SPF_OK);
			if (k == n) {
				assert_string_equal(r.helo, name);
				assert_string_equal(r.sender, sender);
				assert_null(r.helo_idn_why);
				assert_null(r.sender_idn_why);
			} else {   /* converted (xn--) or why it did not */
				assert_true(strcmp(r.helo, name) != 0 || r.helo_idn_why != NULL);
				assert_true(strcmp(r.sender, sender) != 0 ||
					r.sender_idn_why != NULL);
			}
			spf_arena_destroy(a);
		}
	}
}

/* read once, then picked for each identity: the same as parsing for it
 * (spf_request_t.identities), whichever identity the first parse was for */
static void test_read_then_pick(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_identity_parts_t r, other, p, want;

		assert_non_null(a);
		assert_int_equal(spf_identity_read(a, NULL, cases[i].sender, cases[i].helo,
			&r, NULL), SPF_OK);
		assert_null(r.checked);
		assert_null(r.domain);
		assert_int_equal(spf_identity_parse(a, NULL, cases[i].sender, cases[i].helo,
			cases[i].which == SPF_IDENTITY_HELO ? SPF_IDENTITY_MFROM :
			SPF_IDENTITY_HELO, &other, NULL), SPF_OK);
		assert_int_equal(spf_identity_parse(a, NULL, cases[i].sender, cases[i].helo,
			cases[i].which, &want, NULL), SPF_OK);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(spf_identity_pick(a, k == 0 ? &r : &other,
				cases[i].which, &p), SPF_OK);
			assert_string_equal(p.sender, want.sender);
			assert_int_equal(p.null_sender, want.null_sender);
			if (want.helo == NULL)
				assert_null(p.helo);
			else
				assert_string_equal(p.helo, want.helo);
			assert_string_equal(p.checked, want.checked);
			assert_string_equal(p.local, want.local);
			assert_string_equal(p.domain, want.domain);
			/* one block: the domain is checked's tail */
			assert_ptr_equal(p.domain, p.checked + strlen(p.local) + 1);
			if (want.malformed == NULL)
				assert_null(p.malformed);
			else
				assert_string_equal(p.malformed, want.malformed);
		}
		spf_arena_destroy(a);
	}
}

/* %{h} keeps an odd HELO as given; a U-label HELO becomes its A-label */
static void test_helo_and_sender_text(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_identity_parts_t p;

	(void)state;
	assert_int_equal(spf_identity_parse(a, NULL, "<a@b\xc3\xbc" "cher.example>",
		"JUMPIN' JUPITER", SPF_IDENTITY_MFROM, &p, NULL), SPF_OK);
	assert_string_equal(p.helo, "JUMPIN' JUPITER");
	assert_string_equal(p.sender, "a@xn--bcher-kva.example");
	assert_false(p.null_sender);
	assert_int_equal(spf_identity_parse(a, NULL, "<>", "m\xc3\xbcx.example",
		SPF_IDENTITY_MFROM, &p, NULL), SPF_OK);
	assert_true(p.null_sender);
	assert_string_equal(p.sender, "");
	assert_string_equal(p.helo, "xn--mx-xka.example");
	assert_string_equal(p.checked, "postmaster@xn--mx-xka.example");
	spf_arena_destroy(a);
}

/* refused: what cannot be evaluated at all, with the rule named */
static const struct {
	const char *ip, *sender, *helo, *why;
} refused[] = {
	{ NULL, "a\r\nb@example.com", NULL, "RFC 5321 §2.3.8" },
	{ NULL, "a\nb@example.com", NULL, "contains CR or LF" },
	{ NULL, "a@example.com", "mx\r\nX-Evil: 1", "HELO name 'mx\\x0D\\x0AX-Evil: 1' contains CR or LF" },
	{ "fe80::1%eth0", "a@example.com", NULL, "an IPv6 zone index" },
	{ "fe80::1%25eth0", "a@example.com", NULL, "RFC 4007" },
	{ "300.1.1.1", "a@example.com", NULL, "not an IPv4 or IPv6 address" },
	{ "", "a@example.com", NULL, "empty" },
	{ "192.0.2.1%eth0", "a@example.com", NULL, "not an IPv4 or IPv6 address" },
};

static void test_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(refused); i++) {
		spf_arena_t *a = spf_arena_create();
		spf_identity_parts_t p;
		const char *why = NULL;

		assert_int_equal(spf_identity_parse(a, refused[i].ip, refused[i].sender,
			refused[i].helo, SPF_IDENTITY_MFROM, &p, &why), SPF_EINVAL);
		assert_non_null(why);
		if (strstr(why, refused[i].why) == NULL)
			fail_msg("case %zu: '%s' does not say '%s'", i, why, refused[i].why);
		spf_arena_destroy(a);
	}
}

static void test_length_limit(void **state)
{
	spf_arena_t *a = spf_arena_create();
	spf_identity_parts_t p;
	char *s = malloc(SPF_IDENTITY_MAX + 2);
	const char *why = NULL;

	(void)state;
	assert_non_null(s);
	memset(s, 'a', SPF_IDENTITY_MAX + 1);
	s[SPF_IDENTITY_MAX + 1] = '\0';
	memcpy(s + SPF_IDENTITY_MAX - 12, "@example.com", 12);
	s[SPF_IDENTITY_MAX] = '\0';   /* exactly the limit: evaluated */
	assert_int_equal(spf_identity_parse(a, NULL, s, NULL, SPF_IDENTITY_MFROM, &p, &why),
		SPF_OK);
	memmove(s + 1, s, SPF_IDENTITY_MAX + 1);   /* one byte more: refused */
	assert_int_equal(spf_identity_parse(a, NULL, s, NULL, SPF_IDENTITY_MFROM, &p, &why),
		SPF_EINVAL);
	assert_non_null(strstr(why, "2049 bytes"));
	free(s);
	spf_arena_destroy(a);
}

/* spf_check_start() reads the identity the same way: the job's sender
 * and start domain are the parser's, and a refused one is SPF_EINVAL */
static void test_check_start_uses_it(void **state)
{
	env_t *e = env_create();
	spf_resolver_t *res = e != NULL ? e->res : NULL;
	spf_request_t req = { 0 };
	spf_status_t st = SPF_OK;
	spf_job_t *job;

	(void)state;
	assert_non_null(res);
	assert_true(spf_addr_parse("192.0.2.1", &req.ip));
	req.sender = "<a@b@b\xc3\xbc" "cher.example.>";
	job = spf_check_sync(res, &req, &st);
	assert_non_null(job);
	assert_string_equal(spf_job_sender(job), "a@b@xn--bcher-kva.example");
	assert_string_equal(spf_job_start_domain(job), "xn--bcher-kva.example");
	spf_job_destroy(job);
	/* handed the identities as read: the same job, the helo copied */
	{
		spf_arena_t *a = spf_arena_create();
		spf_identity_parts_t parts;

		assert_non_null(a);
		assert_int_equal(spf_identity_read(a, NULL, req.sender, "mx.example.net",
			&parts, NULL), SPF_OK);
		req.identities = &parts;
		req.sender = "ignored@example.org";
		job = spf_check_sync(res, &req, &st);
		spf_arena_destroy(a);
		assert_non_null(job);
		assert_string_equal(spf_job_sender(job), "a@b@xn--bcher-kva.example");
		assert_string_equal(spf_job_start_domain(job), "xn--bcher-kva.example");
		spf_job_destroy(job);
		req.identities = NULL;
	}
	req.sender = "a\rb@example.com";
	assert_null(spf_check_start(res, &req, NULL, NULL, &st));
	assert_int_equal(st, SPF_EINVAL);
	env_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_read_then_pick),
		cmocka_unit_test(test_domain_problem),
		cmocka_unit_test(test_8bit_anywhere),
		cmocka_unit_test(test_helo_and_sender_text),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_check_start_uses_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
