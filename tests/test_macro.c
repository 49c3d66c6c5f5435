/*
 * test_macro.c - macro-string checking and expansion (evaluator/check/macro.c).
 *
 * Table-driven: every RFC 7208 §7.4 example, the macro cases of
 * rfc7208-tests.yml (upper-macro, macro-mania-in-domain, v-macro-ip6,
 * exp-txt-macro-char, macro-reverse-split-on-dash, macro-multiple-
 * delimiters, domain-name-truncation, invalid-*-macro-char, undef-macro,
 * exp-only-macro-char) and the error classes with their offsets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include "check.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

enum ctx_kind {
	CTX_RFC4,       /* RFC 7208 §7.4, IPv4 client 192.0.2.3 */
	CTX_RFC6,       /* RFC 7208 §7.4, IPv6 client 2001:db8::cb01 */
	CTX_SUITE,      /* rfc7208-tests.yml style, filled per case */
};

struct ctxdef {
	const char *sender, *local, *domain, *ip, *helo, *ptr, *receiver;
};

static void make_ctx(spf_macro_ctx_t *c, const struct ctxdef *d)
{
	const char *at;

	memset(c, 0, sizeof(*c));
	c->sender = d->sender;
	c->local = d->local;
	at = strrchr(d->sender, '@');
	c->sender_domain = at != NULL ? at + 1 : d->sender;
	c->domain = d->domain != NULL ? d->domain : c->sender_domain;
	assert_true(spf_addr_parse(d->ip, &c->ip));
	c->helo = d->helo;
	c->ptr = d->ptr;
	c->receiver = d->receiver;
	c->now = 1234567890;
}

static const struct ctxdef rfc4 = {
	"strong-bad@email.example.com", "strong-bad", NULL, "192.0.2.3",
	"mail.example.org", "mx.example.org", "mx.receiver.example",
};
static const struct ctxdef rfc6 = {
	"strong-bad@email.example.com", "strong-bad", NULL, "2001:db8::cb01",
	"mail.example.org", "mx.example.org", "mx.receiver.example",
};

/* Expand s with context d and flags; return the status, text in *out. */
static spf_status_t expand(const struct ctxdef *d, const char *s, int flags,
	spf_buf_t *out, const char **errmsg)
{
	spf_macro_ctx_t c;

	make_ctx(&c, d);
	spf_buf_init(out, 4096);
	return spf_macro_expand(s, strlen(s), &c, flags, out, errmsg);
}

/* ---- RFC 7208 §7.4 ---- */

static const struct {
	const char *in;
	const char *want;
} rfc_examples[] = {
	{ "%{s}", "strong-bad@email.example.com" },
	{ "%{o}", "email.example.com" },
	{ "%{d}", "email.example.com" },
	{ "%{d4}", "email.example.com" },
	{ "%{d3}", "email.example.com" },
	{ "%{d2}", "example.com" },
	{ "%{d1}", "com" },
	{ "%{dr}", "com.example.email" },
	{ "%{d2r}", "example.email" },
	{ "%{l}", "strong-bad" },
	{ "%{l-}", "strong.bad" },
	{ "%{lr}", "strong-bad" },
	{ "%{lr-}", "bad.strong" },
	{ "%{l1r-}", "strong" },
	{ "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
	{ "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "%{d2}.trusted-domains.example.net",
	  "example.com.trusted-domains.example.net" },
};

static void test_rfc_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(rfc_examples); i++) {
		spf_buf_t out;

		assert_int_equal(expand(&rfc4, rfc_examples[i].in, 0, &out,
		    NULL), SPF_OK);
		assert_string_equal(spf_buf_cstr(&out), rfc_examples[i].want);
		spf_buf_finish(&out);
		/* the same with domain flags: nothing to truncate */
		assert_int_equal(expand(&rfc4, rfc_examples[i].in,
		    SPF_MACRO_DOMAIN, &out, NULL), SPF_OK);
		assert_string_equal(spf_buf_cstr(&out), rfc_examples[i].want);
		spf_buf_finish(&out);
	}
}

/*
 * RFC 7208 §7.4 prints the IPv6 nibbles in lower case; the test suite
 * (v-macro-ip6) expects upper case, and DNS does not care.  We follow the
 * suite: exact upper-case text here, and equal to the RFC text ignoring
 * case.
 */
static void test_rfc_example_ip6(void **state)
{
	static const char rfc[] =
	    "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".ip6._spf.example.com";
	static const char ours[] =
	    "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2"
	    ".ip6._spf.example.com";
	spf_buf_t out;

	(void)state;
	assert_int_equal(expand(&rfc6, "%{ir}.%{v}._spf.%{d2}", 0, &out,
	    NULL), SPF_OK);
	assert_string_equal(spf_buf_cstr(&out), ours);
	assert_true(spf_streq_nocase(spf_buf_cstr(&out), rfc));
	spf_buf_finish(&out);

	assert_int_equal(expand(&rfc6, "%{i}", 0, &out, NULL), SPF_OK);
	assert_string_equal(spf_buf_cstr(&out),
	    "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.C.B.0.1");
	spf_buf_finish(&out);
}

/* ---- table of expansions ---- */

static const struct ctxdef suite_upper = {
	"~jack&jill=up-a_b3.c@e8.example.com", "~jack&jill=up-a_b3.c", NULL,
	"192.168.218.42", "msgbas2x.cos.example.com", NULL, NULL,
};
static const struct ctxdef suite_dash = {
	"philip-gladstone-test@e11.example.com", "philip-gladstone-test",
	NULL, "1.2.3.4", "mail.example.com", NULL, NULL,
};
static const struct ctxdef suite_multi = {
	"foo-bar+zip+quux@e12.example.com", "foo-bar+zip+quux", NULL,
	"1.2.3.4", "mail.example.com", NULL, NULL,
};
static const struct ctxdef suite_ip6 = {
	"test@e4.example.com", "test", NULL, "CAFE:BABE::1",
	"msgbas2x.cos.example.com", NULL, NULL,
};
static const struct ctxdef suite_ip4 = {
	"test@e3.example.com", "test", NULL, "192.168.218.40",
	"msgbas2x.cos.example.com", NULL, NULL,
};
static const struct ctxdef dots = {
	"x@a..b.", "x", NULL, "192.0.2.1", NULL, NULL, NULL,
};

static const struct {
	const char *name;
	const struct ctxdef *ctx;
	int flags;
	const char *in;
	const char *want;
} expansions[] = {
	{ "upper-macro", &suite_upper, SPF_MACRO_EXP,
	  "http://example.com/why.html?l=%{L}",
	  "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c" },
	{ "upper S", &suite_upper, 0, "%{S}",
	  "~jack%26jill%3Dup-a_b3.c%40e8.example.com" },
	{ "upper with transformers", &suite_upper, 0, "%{L1r=}",
	  "~jack%26jill" },
	{ "upper I ip4 unchanged", &suite_ip4, 0, "%{I}", "192.168.218.40" },
	{ "upper C ip6", &rfc6, SPF_MACRO_EXP, "%{C}",
	  "2001%3Adb8%3A%3Acb01" },
	{ "macro-mania-in-domain", &suite_ip4, 0,
	  "macro%%percent%_%_space%-url-space.example.com",
	  "macro%percent  space%20url-space.example.com" },
	{ "macro-reverse-split-on-dash", &suite_dash, SPF_MACRO_DOMAIN,
	  "%{i}.%{l2r-}.user.%{d2}",
	  "1.2.3.4.gladstone.philip.user.example.com" },
	{ "macro-multiple-delimiters", &suite_multi, SPF_MACRO_DOMAIN,
	  "%{l2r+-}.user.%{d2}", "bar.foo.user.example.com" },
	{ "all delimiters rejoin with dots", &suite_multi, 0,
	  "%{l.-+,/_=}", "foo.bar.zip.quux" },
	{ "v-macro-ip6", &suite_ip6, SPF_MACRO_EXP,
	  "%{c} is queried as %{ir}.%{v}.arpa",
	  "cafe:babe::1 is queried as 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	  "0.0.0.0.0.0.E.B.A.B.E.F.A.C.ip6.arpa" },
	{ "v-macro-ip4", &suite_ip4, SPF_MACRO_EXP,
	  "%{i} is queried as %{ir}.%{v}.arpa",
	  "192.168.218.40 is queried as 40.218.168.192.in-addr.arpa" },
	{ "exp-txt-macro-char", &suite_ip4, SPF_MACRO_EXP,
	  "Connections from %{c} not authorized.",
	  "Connections from 192.168.218.40 not authorized." },
	{ "t is decimal now", &suite_ip4, SPF_MACRO_EXP, "t=%{t}",
	  "t=1234567890" },
	{ "t with transformers", &suite_ip4, SPF_MACRO_EXP, "%{t2}",
	  "1234567890" },
	{ "r given", &rfc4, SPF_MACRO_EXP, "%{r}", "mx.receiver.example" },
	{ "r NULL is unknown", &suite_ip4, SPF_MACRO_EXP, "%{r}", "unknown" },
	{ "p given", &rfc4, 0, "%{p}", "mx.example.org" },
	{ "p NULL is unknown", &suite_ip4, 0, "%{p}.x", "unknown.x" },
	{ "h given", &rfc4, 0, "%{h}", "mail.example.org" },
	{ "h NULL is unknown", &dots, 0, "%{h}", "unknown" },
	{ "letters case-insensitive", &rfc4, 0, "%{D2}", "example.com" },
	{ "R transformer upper", &rfc4, 0, "%{d2R}", "example.email" },
	{ "digits larger than parts", &rfc4, 0, "%{d200}",
	  "email.example.com" },
	{ "huge digit count", &rfc4, 0, "%{d99999999999999999999}",
	  "email.example.com" },
	{ "leading zero digits", &rfc4, 0, "%{d02}", "example.com" },
	{ "delimiter not present", &rfc4, 0, "%{d-}", "email.example.com" },
	{ "empty labels kept", &dots, 0, "%{o}", "a..b." },
	{ "empty labels reversed", &dots, 0, "%{or}", ".b..a" },
	{ "rightmost part empty", &dots, 0, "%{o1}", "" },
	{ "rightmost two with empty", &dots, 0, "%{o2}", "b." },
	{ "literal only", &rfc4, 0, "_spf.example.com", "_spf.example.com" },
	{ "empty string", &rfc4, 0, "", "" },
	{ "spaces in explanations", &rfc4, SPF_MACRO_EXP, "a b  c",
	  "a b  c" },
	{ "default explanation", &rfc4, SPF_MACRO_EXP,
	  SPF_DEFAULT_EXPLANATION,
	  "email.example.com does not designate 192.0.2.3 as permitted "
	  "sender" },
	{ "closing brace as literal", &rfc4, 0, "a}b{c", "a}b{c" },
};

static void test_expansions(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(expansions); i++) {
		spf_buf_t out;
		const char *msg = NULL;
		spf_status_t st = expand(expansions[i].ctx, expansions[i].in,
		    expansions[i].flags, &out, &msg);

		if (st != SPF_OK || strcmp(spf_buf_cstr(&out),
		    expansions[i].want) != 0)
			print_error("case '%s': status %d (%s), got '%s', want "
			    "'%s'\n", expansions[i].name, st, msg ? msg : "",
			    spf_buf_cstr(&out), expansions[i].want);
		assert_int_equal(st, SPF_OK);
		assert_string_equal(spf_buf_cstr(&out), expansions[i].want);
		spf_buf_finish(&out);
	}
}

/* ---- syntax errors ---- */

static const struct {
	const char *in;
	int flags;
	size_t erroff;
	const char *msgpart;   /* a word the message must contain */
} bad[] = {
	/* invalid-macro-char, invalid-embedded-, invalid-trailing- */
	{ "%(ir).sbl.example.com", 0, 0, "followed by" },
	{ "foo%(ir).sbl.example.com", 0, 3, "followed by" },
	{ "foo%.sbl.example.com", 0, 3, "followed by" },
	{ "foo%", 0, 3, "end" },
	{ "%", 0, 0, "end" },
	{ "%a", 0, 0, "followed by" },
	/* undef-macro */
	{ "%{a}.example.com", 0, 0, "letter" },
	{ "x.%{x}", SPF_MACRO_EXP, 2, "letter" },
	{ "%{}", 0, 0, "letter" },
	{ "%{1}", 0, 0, "letter" },
	/* exp-only-macro-char: c r t only in explanations */
	{ "%{r}.example.com", 0, 0, "explanation" },
	{ "ab%{c}", 0, 2, "explanation" },
	{ "%{T}", 0, 0, "explanation" },
	{ "%{C}", SPF_MACRO_DOMAIN, 0, "explanation" },
	/* transformers */
	{ "%{d0}", 0, 0, "0" },
	{ "%{d00}", 0, 0, "0" },
	{ "%{dr2}", 0, 0, "invalid character" },
	{ "%{d2!}", 0, 0, "invalid character" },
	{ "%{d.r}", 0, 0, "invalid character" },
	{ "%{d ", SPF_MACRO_EXP, 0, "invalid character" },
	{ "x%{d", 0, 1, "unterminated" },
	{ "x%{d2r.", 0, 1, "unterminated" },
	{ "%{", 0, 0, "unterminated" },
	/* literal bytes */
	{ "a b", 0, 1, "space" },
	{ "ab\tc", SPF_MACRO_EXP, 2, "control" },
	{ "ab\x7f", 0, 2, "control" },
	{ "abc\xef\xbb\xbf", SPF_MACRO_EXP, 3, "non-ASCII" },
	{ "\x96", 0, 0, "non-ASCII" },
};

static void test_syntax_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(bad); i++) {
		size_t off = 999;
		const char *msg = NULL;
		spf_buf_t out;

		if (spf_macro_check(bad[i].in, strlen(bad[i].in), bad[i].flags,
		    &off, &msg))
			print_error("case %zu '%s' accepted\n", i, bad[i].in);
		assert_false(spf_macro_check(bad[i].in, strlen(bad[i].in),
		    bad[i].flags, &off, &msg));
		assert_int_equal(off, bad[i].erroff);
		assert_non_null(msg);
		assert_non_null(strstr(msg, bad[i].msgpart));
		/* NULL out-parameters are allowed */
		assert_false(spf_macro_check(bad[i].in, strlen(bad[i].in),
		    bad[i].flags, NULL, NULL));

		/* expansion refuses and appends nothing */
		msg = NULL;
		spf_buf_init(&out, 100);
		spf_buf_puts(&out, "keep");
		{
			spf_macro_ctx_t c;

			make_ctx(&c, &rfc4);
			assert_int_equal(spf_macro_expand(bad[i].in,
			    strlen(bad[i].in), &c, bad[i].flags, &out, &msg),
			    SPF_ESYNTAX);
		}
		assert_non_null(msg);
		assert_string_equal(spf_buf_cstr(&out), "keep");
		spf_buf_finish(&out);
	}
}

/* A NUL inside the given length is an error, not the end of the text. */
static void test_embedded_nul(void **state)
{
	static const char s[] = "ab\0%{d}";
	size_t off = 0;

	(void)state;
	assert_false(spf_macro_check(s, sizeof(s) - 1, 0, &off, NULL));
	assert_int_equal(off, 2);
	assert_true(spf_macro_check(s, 2, 0, &off, NULL));
}

static const struct {
	const char *in;
	int flags;
} good[] = {
	{ "", 0 },
	{ "%%%_%-", 0 },
	{ "%{s}%{l}%{o}%{d}%{i}%{p}%{h}%{v}", 0 },
	{ "%{S}%{L}%{O}%{D}%{I}%{P}%{H}%{V}", 0 },
	{ "%{c}%{r}%{t}%{C}%{R}%{T}", SPF_MACRO_EXP },
	{ "%{d127r.-+,/_=}", 0 },
	{ "%{ir}.%{v}._spf.%{d2}", SPF_MACRO_DOMAIN },
	{ "!\"#$&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", 0 },
	{ "text with spaces %{i}", SPF_MACRO_EXP },
};

static void test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(good); i++) {
		const char *msg = NULL;
		size_t off = 0;

		if (!spf_macro_check(good[i].in, strlen(good[i].in),
		    good[i].flags, &off, &msg))
			print_error("case '%s' rejected at %zu: %s\n",
			    good[i].in, off, msg);
		assert_true(spf_macro_check(good[i].in, strlen(good[i].in),
		    good[i].flags, &off, &msg));
	}
}

static void test_uses_ptr(void **state)
{
	static const struct {
		const char *in;
		bool want;
	} cases[] = {
		{ "%{p}", true },
		{ "foo.%{P2r}.example.com", true },
		{ "%{p}.should.example.com", true },
		{ "%%{p}", false },     /* literal "%" then "{p}" */
		{ "%{d}.p.example.com", false },
		{ "%{i}%{h}", false },
		{ "", false },
		{ "%{x}%{p}", false },  /* invalid before p: stop */
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++)
		assert_int_equal(spf_macro_uses_ptr(cases[i].in,
		    strlen(cases[i].in)), cases[i].want);
	assert_false(spf_macro_uses_ptr(NULL, 0));
}

/* Issue 22: what speculative prefetch may fetch ahead of evaluation */
static void test_domain_only(void **state)
{
	static const struct {
		const char *in;
		bool want;
	} cases[] = {
		{ "_spf.example.com", true },
		{ "%{d}", true },
		{ "%{d2r}._spf.%{D}", true },
		{ "%%.%_.%-.example.com", true },   /* escapes only */
		{ "%{l}.victim.example", false },
		{ "%{s}", false },
		{ "%{o}", false },
		{ "%{i}._spf.example.com", false },
		{ "%{h}", false },
		{ "%{p}", false },
		{ "%{v}", false },
		{ "%{d}.%{ir}", false },
		{ "%{x}", false },                  /* invalid */
		{ "%{c}", false },                  /* not in a domain-spec */
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++)
		assert_int_equal(spf_macro_domain_only(cases[i].in,
		    strlen(cases[i].in)), cases[i].want);
	assert_false(spf_macro_domain_only(NULL, 0));
}

/* ---- the target of a term (spf_term_target) ---- */

static void test_term_target(void **state)
{
	static const char long_label[] = "v=spf1 a:"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example";
	static const struct {
		const char *record;      /* the first term is the one tested */
		bool with_ctx;           /* the message's values, or <domain> only */
		const char *want;        /* NULL: no name */
		bool valid, dynamic;
	} cases[] = {
		{ "v=spf1 a", false, "example.com", true, false },
		{ "v=spf1 mx:mail.example.net", false, "mail.example.net", true, false },
		{ "v=spf1 a:mail.example.net.", false, "mail.example.net", true, false },
		{ "v=spf1 include:_spf.%{d}", false, "_spf.example.com", true, false },
		{ "v=spf1 include:%{d2}._spf.example.net.", true, "example.com._spf.example.net", true, false },
		{ "v=spf1 exists:%{l}.%{d}", false, NULL, false, true },
		{ "v=spf1 exists:%{l}.%{d}", true, "strong-bad.example.com", true, false },
		{ "v=spf1 exists:%{ir}.x.%{d}", true, "3.2.0.192.x.example.com", true, false },
		{ long_label, false, long_label + 9, false, false },
	};
	spf_arena_t *arena = spf_arena_create();
	spf_macro_ctx_t ctx = {
		.sender = "strong-bad@email.example.com", .local = "strong-bad",
		.sender_domain = "email.example.com", .domain = "example.com",
		.ip = { .family = 4, .addr = { 192, 0, 2, 3 } },
	};

	(void)state;
	assert_non_null(arena);
	for (size_t i = 0; i < LEN(cases); i++) {
		spf_record_t *rec;
		spf_parse_error_t perr;
		spf_target_t tg;

		assert_int_equal(spf_record_parse(arena, (const uint8_t *)cases[i].record,
		    strlen(cases[i].record), &rec, &perr), SPF_OK);
		assert_int_equal(spf_term_target(arena, &rec->terms[0], "example.com",
		    cases[i].with_ctx ? &ctx : NULL, &tg, NULL), SPF_OK);
		if (cases[i].want == NULL)
			assert_null(tg.name);
		else
			assert_string_equal(tg.name, cases[i].want);
		assert_int_equal(tg.valid, cases[i].valid);
		assert_int_equal(tg.dynamic, cases[i].dynamic);
	}
	spf_arena_destroy(arena);
}

/* ---- RFC 7208 §7.3 truncation to 253 characters ---- */

static const struct ctxdef suite_trunc = {
	"test@somewhat.long.exp.example.com", "test", NULL,
	"192.168.218.40", "msgbas2x.cos.example.com", NULL, NULL,
};

static void test_truncation(void **state)
{
	static const char in[] =
	    "foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.example.com";
	static const char want[] =
	    "somewhat.long.exp.example.com.somewhat.long.exp.example.com."
	    "somewhat.long.exp.example.com.somewhat.long.exp.example.com."
	    "somewhat.long.exp.example.com.somewhat.long.exp.example.com."
	    "somewhat.long.exp.example.com.somewhat.long.exp.example.com."
	    "example.com";
	spf_buf_t out;
	spf_macro_ctx_t c;

	(void)state;
	/* domain-name-truncation: 258 characters lose "foobar." */
	assert_int_equal(expand(&suite_trunc, in, SPF_MACRO_DOMAIN, &out,
	    NULL), SPF_OK);
	assert_int_equal(out.len, 251);
	assert_string_equal(spf_buf_cstr(&out), want);
	spf_buf_finish(&out);

	/* without SPF_MACRO_DOMAIN nothing is cut */
	assert_int_equal(expand(&suite_trunc, in, 0, &out, NULL), SPF_OK);
	assert_int_equal(out.len, 258);
	assert_memory_equal(out.data, "foobar.", 7);
	spf_buf_finish(&out);

	/* only what this call appended is truncated */
	make_ctx(&c, &suite_trunc);
	spf_buf_init(&out, 4096);
	spf_buf_puts(&out, "prefix:");
	assert_int_equal(spf_macro_expand(in, strlen(in), &c,
	    SPF_MACRO_DOMAIN, &out, NULL), SPF_OK);
	assert_int_equal(out.len, 7 + 251);
	assert_memory_equal(out.data, "prefix:somewhat.", 16);
	assert_string_equal(out.data + 7, want);
	spf_buf_finish(&out);
}

/* Build a name of n labels of width w each ("aaa.bbb..."). */
static void labels(char *dst, size_t n, size_t w)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			dst[o++] = '.';
		for (size_t j = 0; j < w; j++)
			dst[o++] = (char)('a' + i % 26);
	}
	dst[o] = '\0';
}

static void test_truncation_edges(void **state)
{
	char name[700];
	spf_buf_t out;

	(void)state;
	/* exactly 253: untouched (63*4 + 3 dots = 255 is too long, so use
	 * 50 labels of 4 + 49 dots = 249, plus "x.yz" appended = 253) */
	labels(name, 50, 4);
	strcat(name, ".x.yz");
	assert_int_equal(strlen(name), 254);
	assert_int_equal(expand(&rfc4, name, SPF_MACRO_DOMAIN, &out, NULL),
	    SPF_OK);
	/* 254 > 253: the first label "aaaa." goes */
	assert_int_equal(out.len, 249);
	assert_memory_equal(out.data, "bbbb.", 5);
	spf_buf_finish(&out);

	labels(name, 50, 4);
	strcat(name, ".x.y");       /* 253 exactly */
	assert_int_equal(expand(&rfc4, name, SPF_MACRO_DOMAIN, &out, NULL),
	    SPF_OK);
	assert_int_equal(out.len, 253);
	spf_buf_finish(&out);

	/* a trailing dot is not counted: 253 + "." stays */
	strcat(name, ".");
	assert_int_equal(expand(&rfc4, name, SPF_MACRO_DOMAIN, &out, NULL),
	    SPF_OK);
	assert_int_equal(out.len, 254);
	assert_int_equal(out.data[253], '.');
	spf_buf_finish(&out);

	/* a single label over 253 cannot be shortened: left alone */
	memset(name, 'q', 300);
	name[300] = '\0';
	assert_int_equal(expand(&rfc4, name, SPF_MACRO_DOMAIN, &out, NULL),
	    SPF_OK);
	assert_int_equal(out.len, 300);
	spf_buf_finish(&out);

	/* several labels must go: 10 labels of 60 = 609 -> 4 labels 243 */
	labels(name, 10, 60);
	assert_int_equal(expand(&rfc4, name, SPF_MACRO_DOMAIN, &out, NULL),
	    SPF_OK);
	assert_int_equal(out.len, 4 * 60 + 3);
	assert_int_equal(out.data[0], 'g');
	spf_buf_finish(&out);
}

/* ---- buffer and allocation failures ---- */

static void test_buffer_limits(void **state)
{
	spf_macro_ctx_t c;
	spf_buf_t out;

	(void)state;
	make_ctx(&c, &rfc4);
	spf_buf_init(&out, 10);
	assert_int_equal(spf_macro_expand("%{s}", 4, &c, 0, &out, NULL),
	    SPF_ETOOBIG);
	assert_int_equal(out.err, SPF_ETOOBIG);
	/* a failed buffer stays failed */
	assert_int_equal(spf_macro_expand("x", 1, &c, 0, &out, NULL),
	    SPF_ETOOBIG);
	spf_buf_finish(&out);

	/* URL escaping triples the size: fits raw, not escaped */
	spf_buf_init(&out, 20);
	assert_int_equal(spf_macro_expand("%{l}", 4, &c, 0, &out, NULL),
	    SPF_OK);
	spf_buf_reset(&out);
	make_ctx(&c, &suite_upper);
	assert_int_equal(spf_macro_expand("%{L}", 4, &c, 0, &out, NULL),
	    SPF_ETOOBIG);
	spf_buf_finish(&out);

	make_ctx(&c, &rfc4);
	spf_buf_init(&out, 100);
	spf_alloc_fail_at(1);
	assert_int_equal(spf_macro_expand("%{d}", 4, &c, 0, &out, NULL),
	    SPF_ENOMEM);
	spf_alloc_fail_at(0);
	spf_buf_finish(&out);

	assert_int_equal(spf_macro_expand("x", 1, &c, 0, NULL, NULL),
	    SPF_EINVAL);
	spf_buf_init(&out, 100);
	assert_int_equal(spf_macro_expand("x", 1, NULL, 0, &out, NULL),
	    SPF_EINVAL);
	/* an empty expansion still yields a valid C string */
	assert_int_equal(spf_macro_expand("", 0, &c, 0, &out, NULL), SPF_OK);
	assert_non_null(out.data);
	assert_string_equal(out.data, "");
	spf_buf_finish(&out);
}

/* Expansion uses only the given length, never reads past it. */
static void test_length_bounded(void **state)
{
	spf_buf_t out;
	spf_macro_ctx_t c;

	(void)state;
	make_ctx(&c, &rfc4);
	spf_buf_init(&out, 100);
	assert_int_equal(spf_macro_expand("%{d2}.tail", 5, &c, 0, &out, NULL),
	    SPF_OK);
	assert_string_equal(spf_buf_cstr(&out), "example.com");
	spf_buf_finish(&out);
	/* cut inside a macro: unterminated */
	assert_false(spf_macro_check("%{d2}", 4, 0, NULL, NULL));
}

/* every byte as literal text: %x21-7E (but '%') anywhere, SP only in
 * explanation text, anything else refused (RFC 7208 §7.1) */
static void test_literal_bytes(void **state)
{
	(void)state;
	for (int b = 0; b < 256; b++) {
		char s[4] = { 'a', (char)b, 'z', '\0' };
		bool plain = b > ' ' && b < 0x7f;

		if (b == '%')
			continue;
		assert_int_equal(spf_macro_check(s, 3, SPF_MACRO_DOMAIN, NULL, NULL), plain);
		assert_int_equal(spf_macro_check(s, 3, SPF_MACRO_EXP, NULL, NULL),
			plain || b == ' ');
	}
}

/* spf_name_ok() against its definition byte by byte (RFC 1035 lengths:
 * 1 to 253 bytes, labels of 1 to 63, so no empty label and no final
 * dot), on names made of labels of lengths around the bounds */
static bool name_ok_ref(const char *name)
{
	size_t len = strlen(name), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return label > 0;
}

static void test_name_ok(void **state)
{
	static const size_t lens[] = { 0, 1, 2, 61, 62, 63, 64 };
	size_t nl = sizeof(lens) / sizeof(lens[0]), n = 0, ok = 0;

	(void)state;
	/* up to 5 labels, each of the lengths above: 7^5 names and fewer */
	for (size_t labels = 1; labels <= 5; labels++) {
		size_t combos = 1;

		for (size_t k = 0; k < labels; k++)
			combos *= nl;
		for (size_t c = 0; c < combos; c++) {
			char name[5 * 65 + 2] = { 0 };
			size_t at = 0, x = c;

			for (size_t k = 0; k < labels; k++, x /= nl) {
				if (k > 0)
					name[at++] = '.';
				memset(name + at, (int)('a' + k), lens[x % nl]);
				at += lens[x % nl];
			}
			for (int dot = 0; dot < 2; dot++) {
				name[at] = '.';
				name[at + (size_t)dot] = '\0';
				assert_int_equal(spf_name_ok(name), name_ok_ref(name));
				n++;
				ok += name_ok_ref(name);
			}
		}
	}
	assert_true(n > 30000);
	assert_true(ok > 1000);
	assert_true(spf_name_ok("example.com"));
	assert_false(spf_name_ok(""));
	assert_false(spf_name_ok("."));
	assert_false(spf_name_ok("example.com."));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples),
		cmocka_unit_test(test_rfc_example_ip6),
		cmocka_unit_test(test_expansions),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_uses_ptr),
		cmocka_unit_test(test_domain_only),
		cmocka_unit_test(test_term_target),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_edges),
		cmocka_unit_test(test_buffer_limits),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test(test_literal_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
