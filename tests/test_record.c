/*
 * test_record.c - SPF record recognition and parsing (evaluator/check/record.c).
 *
 * Table-driven: the record texts of every syntax case in
 * rfc7208-tests.yml (with the expected permerror or acceptance), every
 * error class of the parser with its offset, CIDR edge cases, control and
 * non-ASCII bytes, case-insensitivity, and allocation failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include "check.h"

#include "internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal that may hold NUL bytes, with its length. */
#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static spf_status_t parse(spf_arena_t *arena, const char *s, size_t len,
	spf_record_t **rec, spf_parse_error_t *err)
{
	return spf_record_parse(arena, (const uint8_t *)s, len, rec, err);
}

/* ---- version (RFC 7208 §4.5) ---- */

static void test_is_spf1(void **state)
{
	static const struct {
		const char *s;
		size_t len;
		bool want;
	} cases[] = {
		{ "v=spf1", 6, true },
		{ "v=spf1 ", 7, true },
		{ "v=spf1 -all", 11, true },
		{ "V=sPf1 +all", 11, true },        /* multitxt2 */
		{ "v=SpF1 ~all", 11, true },        /* case-insensitive */
		{ "v=spf10", 7, false },            /* nospace2 */
		{ "v=spf1mx", 8, false },           /* nospace1 */
		{ "v=spf1\t-all", 11, false },
		{ "v=spf1\0", 7, false },
		{ " v=spf1", 7, false },
		{ "v=spf", 5, false },
		{ "v=spf1 -all", 5, false },        /* length counts */
		{ "spf2.0/pra", 10, false },
		{ "v=spf3 !a:yahoo.com -all", 24, false },
		{ "", 0, false },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++)
		assert_int_equal(spf_record_is_spf1(
		    (const uint8_t *)cases[i].s, cases[i].len), cases[i].want);
	assert_false(spf_record_is_spf1(NULL, 6));
	/* each byte of "v=spf1 " replaced by every value, against the
	 * definition: "v=spf1" but for ASCII case, then SP or the end */
	for (size_t at = 0; at < 7; at++) {
		for (int c = 0; c < 256; c++) {
			uint8_t t[8] = "v=spf1 ";
			bool want = true;

			t[at] = (uint8_t)c;
			for (size_t i = 0; i < 6; i++)
				want = want && spf_lower((char)t[i]) == "v=spf1"[i];
			assert_int_equal(spf_record_is_spf1(t, 7), want && t[6] == ' ');
			assert_int_equal(spf_record_is_spf1(t, 6), want);
		}
	}
}

/* ---- records that must parse ---- */

static const char *const valid[] = {
	"v=spf1",
	"v=spf1 ",
	"V=sPf1 +all",
	"v=SpF1 ~all",
	"v=spf1 a  -all",                               /* two-spaces */
	"v=spf1 a -all ",                               /* trailing-space */
	"v=spf1 ip4:192.0.2.5 -all",
	"v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
	"v=spf1 redirect=t5.example.com ~all",
	"v=spf1 ip4:1.2.3.4 redirect=t2.example.com",
	"v=spf1 a:mail.example...com -all",      /* invalid-domain-empty-label */
	"v=spf1 a:a123456789012345678901234567890123456789012345678901234567890"
	"123.example.com -all",                  /* invalid-domain-long */
	"v=spf1 a:%{H}.bar -all",
	"v=spf1 ?all",
	"v=spf1 all -all",
	"v=spf1 ptr:example.com -all",
	"v=spf1 ptr -all",
	"v=spf1 ptr:example.Com -all",
	"v=spf1 a/0 -all",
	"v=spf1 a//0 -all",
	"v=spf1 a//33 -all",                            /* a-cidr6 */
	"v=spf1 a/24//64 -all",
	"v=spf1 a/24 -all",
	"v=spf1 a//64 -all",
	"v=spf1 a:foo.example.com/24",
	"v=spf1 a:foo:bar/baz.example.com",             /* a-colon-domain */
	"v=spf1 a:foo.example.xn--zckzah -all",         /* a-dash-in-toplabel */
	"v=spf1 mx/0 -all",
	"v=spf1 mx//0 -all",
	"v=spf1 mx//33 -all",
	"v=spf1 mx:foo.example.com/24",
	"v=spf1 mx:foo:bar/baz.example.com",
	"v=spf1 include:ip5.example.com ~all",
	"v=spf1 exists:mail.example.com",
	"v=spf1 ip4:1.1.1.1/0 -all",
	"v=spf1 ip4:1.2.3.4/32 -all",
	"v=spf1 -ip4:1.2.3.4 ip6:::FFFF:1.2.3.4",
	"v=spf1 ip6:::1.1.1.1/0",
	"v=spf1 ip6:Cafe:Babe:8000::/33",
	"v=spf1 ip6:::/0 ip6:2001:db8::/128",
	"v=spf1 exp=exp1.example.com redirect=e2.example.com",
	"v=spf1 -all exp=exp2.example.com",
	"v=spf1 include:e3.example.com -all exp=exp3.example.com",
	"v=spf1 default=pass",                      /* default-modifier-obsolete */
	"v=spf1 default=+",
	"v=spf1 foo=",                              /* empty unknown value */
	"v=spf1 redirect=%{d}.d.spf.example.com.",
	"v=spf1 include:o.spf.example.com. ~all",
	"v=spf1 exp=msg.example.com. -all",
	"v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all",
	"v=spf1 -all exp=%{ir}.example.com",
	"v=spf1 -all exp=foobar.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}.%{o}"
	".example.com",
	"v=spf1 -all exp=msg8.%{D2}",
	"v=spf1 a:%{H} -all",
	"v=spf1 -include:_spfh.%{d2} ip4:1.2.3.0/24 -all",
	"v=spf1 exists:%{i}.%{l2r-}.user.%{d2}",
	"v=spf1 exists:%{l2r+-}.user.%{d2}",
	"v=spf1 exists:%{p}.should.example.com ~exists:%{p}.ok.example.com",
	"v=spf1 a mx a mx a mx a mx a ptr ip4:1.2.3.4 -all",
	"v=spf1 ptr:fe.example.org ptr:sgp.example.com "
	"exp=_expspf.example.org -all",
	"v=spf1 ip4:192.0.2.225 ?include:webmail.pair.com "
	"?include:relay.pair.com -all",
	"v=spf1 IP4:1.2.3.4 MX:Example.COM/24 Include:x.example.com ALL",
	"v=spf1 Redirect=x.example.com EXP=y.example.com",
	"v=spf1 a:1.2.3.4-5",            /* toplabel "4-5": LDH with hyphen */
	"v=spf1 a:.com",                 /* grammar: empty macro-string */
	"v=spf1 a:foo%%",                /* ends in a macro-expand */
	"v=spf1 include:x.123abc",
	"v=spf1 ip4=1.2.3.4",            /* an unknown modifier named ip4 */
	"v=spf1 a:}{.example.com",
	"v=spf1 ip4:255.255.255.255/32 ip4:0.0.0.0/0 ip4:10.0.0.0/8",
};

static void test_valid_records(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(valid); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_record_t *rec = NULL;
		spf_parse_error_t err;
		spf_status_t st;

		assert_non_null(arena);
		st = parse(arena, valid[i], strlen(valid[i]), &rec, &err);
		if (st != SPF_OK)
			print_error("'%s' rejected at %zu: %s\n", valid[i],
			    err.offset, err.message);
		assert_int_equal(st, SPF_OK);
		assert_non_null(rec);
		assert_int_equal(rec->len, strlen(valid[i]));
		assert_memory_equal(rec->text, valid[i], rec->len);
		/* each term's span and text agree with the record */
		for (size_t k = 0; k < rec->nterms; k++) {
			const spf_term_t *t = &rec->terms[k];

			assert_true(t->offset + t->len <= rec->len);
			assert_int_equal(strlen(t->text), t->len);
			assert_memory_equal(t->text, valid[i] + t->offset,
			    t->len);
			assert_true(t->len > 0);
			assert_int_not_equal(valid[i][t->offset], ' ');
		}
		spf_arena_destroy(arena);
	}
}

/* ---- what the parsed terms hold ---- */

static spf_record_t *must_parse(spf_arena_t *arena, const char *s)
{
	spf_record_t *rec = NULL;
	spf_parse_error_t err;

	if (parse(arena, s, strlen(s), &rec, &err) != SPF_OK)
		print_error("'%s' rejected at %zu: %s\n", s, err.offset,
		    err.message);
	assert_non_null(rec);
	return rec;
}

static void test_term_fields(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	const char *s = "v=spf1  -ip4:192.0.2.0/24 ~a:%{d2}.example.com/24//64 "
	    "?mx//0 +all ptr include:_spf.example.com ip6:2001:db8::/32 "
	    "exists:%{i}.x.example ip4:1.2.3.4 a Foo.Bar=baz "
	    "exp=explain.example.com redirect=r.example.com -all";
	spf_record_t *rec;
	const spf_term_t *t;
	spf_addr_t want;

	(void)state;
	rec = must_parse(arena, s);
	assert_int_equal(rec->nterms, 14);
	assert_int_equal(rec->all, 3);
	assert_int_equal(rec->exp, 11);
	assert_int_equal(rec->redirect, 12);

	t = &rec->terms[0];
	assert_false(t->is_modifier);
	assert_int_equal(t->mech, SPF_MECH_IP4);
	assert_int_equal(t->qualifier, '-');
	assert_true(t->explicit_qualifier);
	assert_int_equal(t->offset, 8);
	assert_int_equal(t->len, 17);
	assert_string_equal(t->text, "-ip4:192.0.2.0/24");
	assert_int_equal(t->net.family, 4);
	assert_true(spf_addr_parse("192.0.2.0", &want));
	assert_memory_equal(t->net.addr, want.addr, 16);
	assert_int_equal(t->cidr4, 24);
	assert_int_equal(t->cidr6, -1);
	assert_null(t->domain_spec);

	t = &rec->terms[1];
	assert_int_equal(t->mech, SPF_MECH_A);
	assert_int_equal(t->qualifier, '~');
	assert_string_equal(t->domain_spec, "%{d2}.example.com");
	assert_int_equal(t->domain_spec_len, 17);
	assert_int_equal(t->cidr4, 24);
	assert_int_equal(t->cidr6, 64);

	t = &rec->terms[2];
	assert_int_equal(t->mech, SPF_MECH_MX);
	assert_int_equal(t->qualifier, '?');
	assert_null(t->domain_spec);
	assert_int_equal(t->cidr4, -1);
	assert_int_equal(t->cidr6, 0);

	t = &rec->terms[3];
	assert_int_equal(t->mech, SPF_MECH_ALL);
	assert_int_equal(t->qualifier, '+');
	assert_true(t->explicit_qualifier);

	t = &rec->terms[4];
	assert_int_equal(t->mech, SPF_MECH_PTR);
	assert_int_equal(t->qualifier, '+');
	assert_false(t->explicit_qualifier);
	assert_null(t->domain_spec);

	t = &rec->terms[5];
	assert_int_equal(t->mech, SPF_MECH_INCLUDE);
	assert_string_equal(t->domain_spec, "_spf.example.com");
	assert_int_equal(t->cidr4, -1);
	assert_int_equal(t->cidr6, -1);

	t = &rec->terms[6];
	assert_int_equal(t->mech, SPF_MECH_IP6);
	assert_int_equal(t->net.family, 6);
	assert_int_equal(t->net.addr[0], 0x20);
	assert_int_equal(t->net.addr[3], 0xb8);
	assert_int_equal(t->cidr6, 32);
	assert_int_equal(t->cidr4, -1);

	t = &rec->terms[7];
	assert_int_equal(t->mech, SPF_MECH_EXISTS);
	assert_string_equal(t->domain_spec, "%{i}.x.example");

	t = &rec->terms[8];
	assert_int_equal(t->mech, SPF_MECH_IP4);
	assert_int_equal(t->cidr4, -1);        /* /32 applies */

	t = &rec->terms[9];
	assert_int_equal(t->mech, SPF_MECH_A);
	assert_null(t->domain_spec);
	assert_int_equal(t->cidr4, -1);
	assert_int_equal(t->cidr6, -1);

	t = &rec->terms[10];
	assert_true(t->is_modifier);
	assert_int_equal(t->mod, SPF_MOD_UNKNOWN);
	assert_string_equal(t->name, "Foo.Bar");
	assert_string_equal(t->domain_spec, "baz");

	t = &rec->terms[11];
	assert_true(t->is_modifier);
	assert_int_equal(t->mod, SPF_MOD_EXP);
	assert_string_equal(t->domain_spec, "explain.example.com");
	assert_false(t->explicit_qualifier);

	t = &rec->terms[12];
	assert_int_equal(t->mod, SPF_MOD_REDIRECT);
	assert_string_equal(t->name, "redirect");
	assert_string_equal(t->domain_spec, "r.example.com");
	assert_int_equal(t->offset + t->len, strlen(s) - 5);

	/* an ip6 network written as ::ffff:a.b.c.d stays IPv6 */
	rec = must_parse(arena, "v=spf1 ip6:::FFFF:1.2.3.4");
	assert_int_equal(rec->terms[0].net.family, 6);
	assert_int_equal(rec->terms[0].net.addr[10], 0xff);

	/* mechanism names are case-insensitive */
	rec = must_parse(arena, "v=spf1 IP4:1.2.3.4 Mx:Example.COM/24 "
	    "INCLUDE:x.example.com ALL rEdIrEcT=y.example.com");
	assert_int_equal(rec->terms[0].mech, SPF_MECH_IP4);
	assert_int_equal(rec->terms[1].mech, SPF_MECH_MX);
	assert_string_equal(rec->terms[1].domain_spec, "Example.COM");
	assert_int_equal(rec->terms[1].cidr4, 24);
	assert_int_equal(rec->terms[2].mech, SPF_MECH_INCLUDE);
	assert_int_equal(rec->terms[3].mech, SPF_MECH_ALL);
	assert_int_equal(rec->redirect, 4);
	assert_int_equal(rec->terms[4].mod, SPF_MOD_REDIRECT);
	assert_string_equal(rec->terms[4].name, "rEdIrEcT");

	/* empty record */
	rec = must_parse(arena, "v=spf1");
	assert_int_equal(rec->nterms, 0);
	assert_int_equal(rec->all, -1);
	assert_int_equal(rec->redirect, -1);
	assert_int_equal(rec->exp, -1);

	/* the first all counts; a colon domain is kept whole */
	rec = must_parse(arena, "v=spf1 all -all mx:foo:bar/baz.example.com");
	assert_int_equal(rec->all, 0);
	assert_string_equal(rec->terms[2].domain_spec,
	    "foo:bar/baz.example.com");
	assert_int_equal(rec->terms[2].cidr4, -1);

	/* the record text is copied: the caller's buffer may go */
	{
		char tmp[] = "v=spf1 a:x.example.com";

		rec = must_parse(arena, tmp);
		memset(tmp, 'z', sizeof(tmp) - 1);
		assert_string_equal(rec->terms[0].domain_spec,
		    "x.example.com");
		assert_memory_equal(rec->text, "v=spf1 a:x", 10);
	}
	spf_arena_destroy(arena);
}

/* ---- CIDR edge cases ---- */

static void test_cidr_edges(void **state)
{
	static const struct {
		const char *rec;
		int cidr4, cidr6;
	} ok[] = {
		{ "v=spf1 ip4:1.2.3.4/0", 0, -1 },
		{ "v=spf1 ip4:1.2.3.4/9", 9, -1 },
		{ "v=spf1 ip4:1.2.3.4/10", 10, -1 },
		{ "v=spf1 ip4:1.2.3.4/32", 32, -1 },
		{ "v=spf1 ip6:::/0", -1, 0 },
		{ "v=spf1 ip6:::/99", -1, 99 },
		{ "v=spf1 ip6:::/100", -1, 100 },
		{ "v=spf1 ip6:::/128", -1, 128 },
		{ "v=spf1 a/32//128", 32, 128 },
		{ "v=spf1 a/0//0", 0, 0 },
		{ "v=spf1 mx:x.example.com//128", -1, 128 },
		{ "v=spf1 mx:x.example.com/1", 1, -1 },
	};
	static const struct {
		const char *rec;
		size_t off;
		const char *msg;
	} bad[] = {
		{ "v=spf1 ip4:1.2.3.4/33", 18, "ip4 prefix length 33 out of "
		  "range 0-32" },
		{ "v=spf1 ip4:1.2.3.4/032", 18, "leading zeros" },
		{ "v=spf1 ip4:1.2.3.4/00", 18, "leading zeros" },
		{ "v=spf1 ip4:1.2.3.4/", 18, "missing" },
		{ "v=spf1 ip4:1.2.3.4/x", 18, "invalid ip4 prefix" },
		{ "v=spf1 ip4:1.2.3.4/24/", 18, "invalid ip4 prefix" },
		{ "v=spf1 ip4:1.2.3.4/99999999999", 18, "out of range" },
		{ "v=spf1 ip4:1.2.3.4//32", 18, "only for a and mx" },
		{ "v=spf1 ip4:1.2.3.4/-1", 18, "invalid" },
		{ "v=spf1 ip6:::1.1.1.1/129", 20, "ip6 prefix length 129 out "
		  "of range 0-128" },
		{ "v=spf1 ip6:::1.1.1.1//33", 20, "only for a and mx" },
		{ "v=spf1 ip6:::/0128", 13, "leading zeros" },
		{ "v=spf1 a/33 -all", 8, "ip4 prefix length 33 out of range" },
		{ "v=spf1 a//129 -all", 9, "ip6 prefix length 129" },
		{ "v=spf1 a/032", 8, "leading zeros" },
		{ "v=spf1 a//064", 9, "leading zeros" },
		{ "v=spf1 a/24/64 -all", 8, "/N//N" },
		{ "v=spf1 a/24///64", 8, "/N//N" },
		{ "v=spf1 mx/33 -all", 9, "ip4 prefix length 33" },
		{ "v=spf1 mx//129 -all", 10, "ip6 prefix length 129" },
		{ "v=spf1 a:x.example.com/24/16", 22, "/N//N" },
		{ "v=spf1 a:x.example.com/33", 22, "out of range" },
		{ "v=spf1 a:x.example.com/", 19, "top-level label" },
		{ "v=spf1 -all/8", 11, "takes no argument" },
		{ "v=spf1 ptr/0 -all", 10, "no CIDR" },
		{ "v=spf1 ptr:x.example.com/24", 24, "no CIDR" },
		{ "v=spf1 include:ip5.example.com/24 -all", 30, "no CIDR" },
		{ "v=spf1 exists:mail.example.com/24", 30, "no CIDR" },
	};

	(void)state;
	for (size_t i = 0; i < LEN(ok); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_record_t *rec = must_parse(arena, ok[i].rec);

		assert_int_equal(rec->terms[0].cidr4, ok[i].cidr4);
		assert_int_equal(rec->terms[0].cidr6, ok[i].cidr6);
		spf_arena_destroy(arena);
	}
	for (size_t i = 0; i < LEN(bad); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_record_t *rec = NULL;
		spf_parse_error_t err;

		assert_int_equal(parse(arena, bad[i].rec, strlen(bad[i].rec),
		    &rec, &err), SPF_ESYNTAX);
		if (err.offset != bad[i].off || err.message == NULL ||
		    strstr(err.message, bad[i].msg) == NULL)
			print_error("'%s': offset %zu, message '%s'\n",
			    bad[i].rec, err.offset, err.message);
		assert_null(rec);
		assert_int_equal(err.offset, bad[i].off);
		assert_non_null(strstr(err.message, bad[i].msg));
		spf_arena_destroy(arena);
	}
}

/* ---- every error class, with its offset ---- */

static const struct {
	const char *name;       /* test-suite case or error class */
	const char *rec;
	size_t len;             /* 0: strlen */
	size_t off;
	size_t errlen;          /* 0: not checked */
	const char *msg;
} errors[] = {
	/* version */
	{ "nospace2", "v=spf10", 0, 6, 1, "followed by a space" },
	{ "nospace1", "v=spf1mx", 0, 6, 1, "followed by a space" },
	{ "not spf", "spf2.0/pra +all", 0, 0, 10, "not an SPF record" },
	{ "empty text", "", 0, 0, 0, "not an SPF record" },
	{ "version then tab", "v=spf1\t-all", 0, 6, 1, "followed by a space" },
	/* bytes */
	{ "control-char-policy", "v=spf1 a:ctrl.example.com\rptr -all", 0,
	  25, 1, "CR" },
	{ "badip4", "v=spf1 ip4:192.0.2.5\n include:spf.protection.outlook"
	  ".com ~all", 0, 20, 1, "LF" },
	{ "tab separator", "v=spf1 a\t-all", 0, 8, 1, "TAB" },
	{ "DEL", "v=spf1 a:x.example.com\x7f", 0, 22, 1, "control" },
	{ "escape char", "v=spf1 \x1b[0m", 0, 7, 1, "control character 0x1B" },
	/* did you mean (issue 17) */
	{ "typo-include", "v=spf1 inlude:_spf.example.com -all", 0, 7, 6,
	  "unknown mechanism 'inlude' (did you mean include?)" },
	{ "typo-ip", "v=spf1 ip:192.0.2.1 -all", 0, 7, 2, "'ip' (did you mean ip4?)" },
	{ "typo-all", "v=spf1 a ~al", 0, 10, 2, "'al' (did you mean all?)" },
	{ "typo-ipv4", "v=spf1 ipv4:192.0.2.1 -all", 0, 7, 4, "(did you mean ip4?)" },
	/* the character named, its three bytes underlined (issue 17) */
	{ "non-ascii-policy", "v=spf1 a:\xEF\xBB\xBFgarbage.example.net -all",
	  0, 9, 3, "non-ASCII character ZERO WIDTH NO-BREAK SPACE (BYTE ORDER MARK) (U+FEFF)" },
	{ "en-dash", "v=spf1 ip4:192.0.2.1 \xE2\x80\x93" "all", 0, 21, 3,
	  "non-ASCII character EN DASH (U+2013): SPF records must be US-ASCII "
	  "(RFC 7208 §3.1); type '-' instead" },
	{ "nbsp", "v=spf1 a\xC2\xA0-all", 0, 8, 2, "NO-BREAK SPACE (U+00A0)" },
	{ "curly-quote", "v=spf1 a:x.example.net \xE2\x80\x9D", 0, 23, 3,
	  "RIGHT DOUBLE QUOTATION MARK (U+201D)" },
	{ "zwsp", "v=spf1 mx\xE2\x80\x8B -all", 0, 9, 3, "ZERO WIDTH SPACE (U+200B): "
	  "SPF records must be US-ASCII (RFC 7208 §3.1); delete it" },
	{ "unnamed-utf8", "v=spf1 a:\xC3\xA9.example.net", 0, 9, 2,
	  "non-ASCII character U+00E9 (2 bytes of UTF-8, the first 0xC3)" },
	{ "truncated-utf8", "v=spf1 a:x\xE2\x80", 0, 10, 1, "non-ASCII byte 0xE2" },
	{ "non-ascii-mech", "v=spf1 \x80" "a:example.net -all", 0, 7, 1,
	  "non-ASCII" },
	{ "non-ascii-result", "v=spf1 a:example.net \x96" "all", 0, 21, 1,
	  "US-ASCII" },
	{ "a-null", "v=spf1 a:foo.example.com\0", 25, 24, 1, "NUL" },
	{ "mx-null", "v=spf1 mx:foo.example.com\0", 26, 25, 1, "NUL" },
	{ "NUL mid-record", "v=spf1 -all\0 +all", 17, 11, 1, "NUL" },
	{ "NUL after space", "v=spf1 \0", 8, 7, 1, "NUL" },
	/* term syntax */
	{ "detect-errors-anywhere", "v=spf1 ip4:1.2.3.4 -all moo", 0, 24, 3,
	  "unknown mechanism 'moo'" },
	{ "modifier-charset-bad1", "v=spf1 moo.cow/far_out=man:dog/cat "
	  "ip4:1.2.3.4 -all", 0, 7, 7, "unknown mechanism 'moo.cow'" },
	{ "modifier-charset-bad2", "v=spf1 moo.cow:far_out=man:dog/cat "
	  "ip4:1.2.3.4 -all", 0, 7, 7, "unknown mechanism 'moo.cow'" },
	{ "redirect-is-modifier", "v=spf1 ip4:1.2.3.4 redirect:t2.example.com",
	  0, 19, 0, "must be written redirect=" },
	{ "exp as mechanism", "v=spf1 -all exp:x.example.com", 0, 12, 0,
	  "must be written exp=" },
	{ "all-dot", "v=spf1 -all.", 0, 11, 1, "unexpected '.' after 'all'" },
	{ "all-arg", "v=spf1 -all:foobar", 0, 11, 7, "takes no argument" },
	{ "all-cidr", "v=spf1 -all/8", 0, 11, 2, "takes no argument" },
	{ "bare qualifier", "v=spf1 + -all", 0, 7, 1, "without a mechanism" },
	{ "no mechanism name", "v=spf1 :x.example.com", 0, 7, 0,
	  "no mechanism name" },
	{ "unknown with qualifier", "v=spf1 ~allow", 0, 8, 5,
	  "unknown mechanism 'allow'" },
	{ "mech with junk", "v=spf1 mx-foo", 0, 9, 4,
	  "unexpected '-foo' after 'mx'" },
	/* modifiers */
	{ "invalid-modifier", "v=spf1 1up=foo", 0, 7, 3,
	  "must start with a letter" },
	{ "empty-modifier-name", "v=spf1 =all", 0, 7, 4,
	  "no modifier name" },
	{ "bad char in name", "v=spf1 foo!bar=x", 0, 10, 1,
	  "invalid character '!'" },
	{ "qualifier on modifier", "v=spf1 -redirect=x.example.com", 0, 7, 1,
	  "cannot have a qualifier" },
	{ "qualifier on unknown modifier", "v=spf1 ?foo=bar", 0, 7, 1,
	  "cannot have a qualifier" },
	{ "unknown-modifier-syntax", "v=spf1 -all foo=%abc", 0, 16, 2,
	  "followed by" },
	{ "unknown modifier with c", "v=spf1 foo=%{c}", 0, 11, 4,
	  "explanation" },
	{ "exp-empty-domain", "v=spf1 exp= -all", 0, 7, 4,
	  "exp= needs a domain" },
	{ "redirect-empty-domain", "v=spf1 ?all redirect=", 0, 12, 9,
	  "redirect= needs a domain" },
	{ "exp-syntax-error", "v=spf1 exp=-all", 0, 11, 4, "top-level label" },
	{ "redirect-syntax-error", "v=spf1 redirect=-all ?all", 0, 16, 4,
	  "top-level label" },
	{ "exp-twice", "v=spf1 exp=e13msg.example.com -all "
	  "exp=e11msg.example.com", 0, 35, 22, "second exp=" },
	{ "redirect-twice", "v=spf1 redirect=e12.example.com -all "
	  "redirect=e12.example.com", 0, 37, 24, "second redirect=" },
	{ "twice, mixed case", "v=spf1 Exp=a.example.com EXP=b.example.com",
	  0, 25, 0, "offset 7" },
	{ "exp-only-macro-char", "v=spf1 -all exp=%{r}.example.com", 0, 16, 4,
	  "explanation" },
	{ "t in domain", "v=spf1 exists:%{t}.example.com", 0, 14, 4,
	  "explanation" },
	/* macros in domain-specs */
	{ "invalid-macro-char", "v=spf1 -exists:%(ir).sbl.example.com ?all",
	  0, 15, 2, "followed by" },
	{ "invalid-embedded-macro-char", "v=spf1 exists:foo%(ir).sbl.example"
	  ".com ?all", 0, 17, 2, "followed by" },
	{ "invalid-trailing-macro-char", "v=spf1 exists:foo%.sbl.example.com "
	  "?all", 0, 17, 2, "followed by" },
	{ "undef-macro", "v=spf1 a:%{a}.example.com -all", 0, 9, 4,
	  "letter" },
	{ "macro digit 0", "v=spf1 a:%{d0}.example.com", 0, 9, 5,
	  "must not be 0" },
	{ "unterminated macro", "v=spf1 a:x.%{d", 0, 11, 3, "unterminated" },
	/* domain-end (RFC 7208 §7.1) */
	{ "invalid-domain", "v=spf1 a:foo-bar -all", 0, 9, 7,
	  "domain 'foo-bar' must end in a top-level label like '.com' or in "
	  "a macro" },
	{ "a-numeric", "v=spf1 a:111.222.33.44", 0, 9, 13,
	  "ip4:111.222.33.44" },
	{ "a-numeric-toplabel", "v=spf1 a:abc.123", 0, 13, 3, "all-numeric" },
	{ "mx-numeric-top-label", "v=spf1 mx:abc.123", 0, 14, 3,
	  "all-numeric" },
	{ "a-bad-toplabel", "v=spf1 a:example.-com", 0, 17, 4,
	  "start or end with '-'" },
	{ "toplabel ends in dash", "v=spf1 a:example.com-", 0, 17, 4,
	  "start or end with '-'" },
	{ "mx-bad-toplab", "v=spf1 mx:example.-com", 0, 18, 4,
	  "start or end with '-'" },
	{ "a-only-toplabel", "v=spf1 a:museum", 0, 9, 6, "top-level label" },
	{ "a-only-toplabel-trailing-dot", "v=spf1 a:museum.", 0, 9, 7,
	  "top-level label" },
	{ "a-bad-domain", "v=spf1 a:example.com:8080", 0, 17, 8,
	  "port numbers" },
	{ "mx-bad-domain", "v=spf1 mx:example.com:8080", 0, 18, 8,
	  "port numbers" },
	{ "empty last label", "v=spf1 a:example.com..", 0, 9, 13,
	  "empty label" },
	{ "macro then literal", "v=spf1 a:%{d}com", 0, 9, 7,
	  "must end in '.' and a top-level label" },
	{ "macro then dot", "v=spf1 a:%{d}.", 0, 9, 5,
	  "must end in '.' and a top-level label" },
	{ "underscore toplabel", "v=spf1 include:x.ex_ample", 0, 17, 8,
	  "only letters, digits and '-'" },
	/* empty or missing domains */
	{ "a-empty-domain", "v=spf1 a:", 0, 8, 1, "empty domain" },
	{ "mx-empty-domain", "v=spf1 mx: -all", 0, 9, 1, "empty domain" },
	{ "ptr-empty-domain", "v=spf1 ptr:", 0, 10, 1, "empty domain" },
	{ "include-empty-domain", "v=spf1 include: -all", 0, 14, 1,
	  "empty domain" },
	{ "exists-empty-domain", "v=spf1 exists:", 0, 13, 1, "empty domain" },
	{ "include-syntax-error", "v=spf1 include +all", 0, 7, 7,
	  "include needs ':'" },
	{ "exists-implicit", "v=spf1 exists", 0, 7, 6, "exists needs ':'" },
	/* ip4 / ip6 */
	{ "bare-ip4", "v=spf1 ip4", 0, 7, 3, "ip4 needs ':'" },
	{ "ip4 colon only", "v=spf1 ip4:", 0, 7, 4, "ip4 needs ':'" },
	{ "bad-ip4-port", "v=spf1 ip4:1.2.3.4:8080", 0, 11, 12,
	  "port numbers" },
	{ "bad-ip4-short", "v=spf1 ip4:1.2.3", 0, 11, 5,
	  "not a full IPv4 address" },
	{ "ip4 leading zero", "v=spf1 ip4:192.0.02.1", 0, 11, 10,
	  "leading zeros" },
	{ "ip4 octet > 255", "v=spf1 ip4:192.0.256.1", 0, 11, 11,
	  "larger than 255" },
	{ "ip4 five parts", "v=spf1 ip4:1.2.3.4.5", 0, 11, 9,
	  "not a valid IPv4" },
	{ "ip4 with ip6", "v=spf1 ip4:2001:db8::1", 0, 11, 11,
	  "for IPv6 use ip6:" },
	{ "ip4 hostname", "v=spf1 ip4:mail.example.com", 0, 11, 16,
	  "not a valid IPv4" },
	{ "bare-ip6", "v=spf1 -all ip6", 0, 12, 3, "ip6 needs ':'" },
	{ "ip6-bad1", "v=spf1 ip6::CAFE::BABE", 0, 11, 11,
	  "not a valid IPv6" },
	{ "ip6 with ip4", "v=spf1 ip6:1.2.3.4", 0, 11, 7, "for IPv4 use ip4:" },
	{ "ip6 zone", "v=spf1 ip6:fe80::1%eth0", 0, 11, 12,
	  "not a valid IPv6" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(errors); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_record_t *rec = NULL;
		spf_parse_error_t err;
		size_t len = errors[i].len ? errors[i].len :
		    strlen(errors[i].rec);
		spf_status_t st;

		memset(&err, 0x55, sizeof(err));
		st = parse(arena, errors[i].rec, len, &rec, &err);
		if (st != SPF_ESYNTAX || err.offset != errors[i].off ||
		    (errors[i].errlen && err.len != errors[i].errlen) ||
		    strstr(err.message, errors[i].msg) == NULL)
			print_error("case %s: status %d offset %zu len %zu "
			    "message '%s'\n", errors[i].name, st, err.offset,
			    err.len, st == SPF_ESYNTAX ? err.message : "");
		assert_int_equal(st, SPF_ESYNTAX);
		assert_null(rec);
		assert_int_equal(err.offset, errors[i].off);
		if (errors[i].errlen)
			assert_int_equal(err.len, errors[i].errlen);
		assert_true(err.offset + err.len <= len || len == 0);
		assert_non_null(err.message);
		assert_non_null(strstr(err.message, errors[i].msg));
		spf_arena_destroy(arena);
	}
}

/* Messages are printable ASCII but for "§" (header.c writes it as
 * "section "), so they can go into headers and logs. */
static void test_messages_ascii(void **state)
{
	(void)state;
	for (size_t i = 0; i < LEN(errors); i++) {
		spf_arena_t *arena = spf_arena_create();
		spf_record_t *rec = NULL;
		spf_parse_error_t err;
		size_t len = errors[i].len ? errors[i].len :
		    strlen(errors[i].rec);

		assert_int_equal(parse(arena, errors[i].rec, len, &rec, &err),
		    SPF_ESYNTAX);
		/* printable ASCII, but for the section sign of "RFC 7208
		 * §3.1" (the one style of references; cmd/ shows it as
		 * "section " under a locale that is not UTF-8) */
		for (const char *p = err.message; *p; p++) {
			if (strncmp(p, "\xC2\xA7", 2) == 0) {
				p++;
				continue;
			}
			assert_true(*p >= 0x20 && *p < 0x7f);
		}
		spf_arena_destroy(arena);
	}
}

/* The first error by position is the one reported. */
static void test_first_error_wins(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = NULL;
	spf_parse_error_t err;

	(void)state;
	assert_int_equal(spf_record_parse(arena,
	    BYTES("v=spf1 moo a:b\tc \x80"), &rec, &err), SPF_ESYNTAX);
	assert_int_equal(err.offset, 7);
	assert_int_equal(spf_record_parse(arena, BYTES("v=spf1 a:b\tc moo"),
	    &rec, &err), SPF_ESYNTAX);
	assert_int_equal(err.offset, 10);
	spf_arena_destroy(arena);
}

/* A very long quoted piece is cut in the message, not the record. */
static void test_long_term(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = NULL;
	spf_parse_error_t err;
	char s[2100];

	(void)state;
	memcpy(s, "v=spf1 ", 7);
	memset(s + 7, 'x', 2000);
	s[2007] = '\0';
	assert_int_equal(parse(arena, s, strlen(s), &rec, &err), SPF_ESYNTAX);
	assert_int_equal(err.offset, 7);
	assert_int_equal(err.len, 2000);
	assert_true(strlen(err.message) < 300);
	assert_non_null(strstr(err.message, "..."));

	memcpy(s + 7, "a:", 2);
	memcpy(s + 2007, ".com", 5);
	assert_int_equal(parse(arena, s, strlen(s), &rec, &err), SPF_OK);
	assert_int_equal(rec->terms[0].domain_spec_len, 2002);
	spf_arena_destroy(arena);
}

static void test_bad_arguments(void **state)
{
	spf_arena_t *arena = spf_arena_create();
	spf_record_t *rec = (spf_record_t *)1;
	spf_parse_error_t err;

	(void)state;
	assert_int_equal(spf_record_parse(NULL, BYTES("v=spf1"), &rec, &err),
	    SPF_EINVAL);
	assert_null(rec);
	assert_int_equal(spf_record_parse(arena, BYTES("v=spf1"), NULL, &err),
	    SPF_EINVAL);
	assert_int_equal(spf_record_parse(arena, NULL, 5, &rec, &err),
	    SPF_EINVAL);
	/* err may be NULL */
	assert_int_equal(spf_record_parse(arena, BYTES("v=spf1 moo"), &rec,
	    NULL), SPF_ESYNTAX);
	assert_int_equal(spf_record_parse(arena, BYTES("v=spf1 a"), &rec,
	    NULL), SPF_OK);
	spf_arena_destroy(arena);
}

/* Every allocation may fail: ENOMEM (or ESYNTAX with a fallback
 * message), never a crash or a half-filled record. */
static void test_alloc_failures(void **state)
{
	static const char *const recs[] = {
		"v=spf1 ip4:192.0.2.0/24 a:%{d2}.example.com/24//64 mx "
		"include:_spf.example.com foo=bar exp=x.example.com -all",
		"v=spf1 a:foo-bar",
	};

	(void)state;
	for (size_t r = 0; r < LEN(recs); r++) {
		bool done = false;

		for (unsigned long n = 1; n < 200 && !done; n++) {
			spf_arena_t *arena = spf_arena_create();
			spf_record_t *rec = NULL;
			spf_parse_error_t err;
			spf_status_t st;

			assert_non_null(arena);
			spf_alloc_fail_at(n);
			st = parse(arena, recs[r], strlen(recs[r]), &rec,
			    &err);
			spf_alloc_fail_at(0);
			if (r == 0) {
				assert_true(st == SPF_OK || st == SPF_ENOMEM);
				done = st == SPF_OK;
			} else {
				assert_true(st == SPF_ESYNTAX ||
				    st == SPF_ENOMEM);
				if (st == SPF_ESYNTAX)
					assert_non_null(err.message);
				done = st == SPF_ESYNTAX &&
				    strstr(err.message, "foo-bar") != NULL;
			}
			assert_true((st == SPF_OK) == (rec != NULL));
			spf_arena_destroy(arena);
		}
		assert_true(done);
	}
}

static void test_mech_helpers(void **state)
{
	static const struct {
		spf_mech_t m;
		const char *name;
		bool dns;
	} cases[] = {
		{ SPF_MECH_ALL, "all", false },
		{ SPF_MECH_INCLUDE, "include", true },
		{ SPF_MECH_A, "a", true },
		{ SPF_MECH_MX, "mx", true },
		{ SPF_MECH_PTR, "ptr", true },
		{ SPF_MECH_IP4, "ip4", false },
		{ SPF_MECH_IP6, "ip6", false },
		{ SPF_MECH_EXISTS, "exists", true },
	};

	(void)state;
	for (size_t i = 0; i < LEN(cases); i++) {
		assert_string_equal(spf_mech_name(cases[i].m), cases[i].name);
		assert_int_equal(spf_mech_queries_dns(cases[i].m),
		    cases[i].dns);
	}
	assert_string_equal(spf_mech_name((spf_mech_t)77), "unknown");
	/* typo hints: nearest name, ties in RFC order, short names strict */
	assert_string_equal(spf_term_suggest("inlude", 6, false), "include");
	assert_string_equal(spf_term_suggest("IP", 2, false), "ip4");
	assert_string_equal(spf_term_suggest("al", 2, false), "all");
	assert_string_equal(spf_term_suggest("exsits", 6, false), "exists");
	assert_null(spf_term_suggest("moo", 3, false));
	assert_null(spf_term_suggest("mx", 2, false));
	assert_null(spf_term_suggest("v", 1, true));
	assert_string_equal(spf_term_suggest("redirectt", 9, true), "redirect");
	assert_string_equal(spf_term_suggest("xp", 2, true), "exp");
	assert_null(spf_term_suggest("averyveryverylongname", 21, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_spf1),
		cmocka_unit_test(test_valid_records),
		cmocka_unit_test(test_term_fields),
		cmocka_unit_test(test_cidr_edges),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_messages_ascii),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_long_term),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_mech_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
