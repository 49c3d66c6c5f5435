/*
 * test_html.c - the HTML writer of --format html (cmd/html.c, issue 20):
 * what each kind of byte becomes, and that no input, byte by byte or
 * made of markup and broken UTF-8, can open a tag, an attribute value
 * or a character reference of its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#include "html.h"

/* html_textn(s, len) as a string (the caller frees it). */
static char *escaped(const char *s, size_t len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	html_textn(f, s, len);
	fclose(f);
	assert_non_null(buf);
	return buf;
}

static void test_forms(void **state)
{
	static const struct {
		const char *in;
		size_t len;       /* 0: strlen(in) */
		const char *want;
	} cases[] = {
		{ "v=spf1 -all", 0, "v=spf1 -all" },
		{ "<script>alert(1)</script>", 0, "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "\"><img src=x onerror=alert(2)>", 0,
		  "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" },
		{ "a'b&c", 0, "a&#39;b&amp;c" },
		{ "&amp;", 0, "&amp;amp;" },
		/* controls, DEL, NUL inside the text */
		{ "\x01\t\n\r\x1b[31m\x7f", 0, "\\x01\\x09\\x0A\\x0D\\x1B[31m\\x7F" },
		{ "a\0b", 3, "a\\x00b" },
		/* well-formed UTF-8 as it is */
		{ "b\xc3\xbcro.example \xe2\x86\x92 \xf0\x9f\x93\xa7", 0,
		  "b\xc3\xbcro.example \xe2\x86\x92 \xf0\x9f\x93\xa7" },
		/* not UTF-8: a lone byte, overlong, surrogate, past U+10FFFF,
		 * a sequence cut short (also at the end of the text) */
		{ "\xff", 0, "\\xFF" },
		{ "\xc0\xaf", 0, "\\xC0\\xAF" },
		{ "\xe0\x80\xaf", 0, "\\xE0\\x80\\xAF" },
		{ "\xed\xa0\x80", 0, "\\xED\\xA0\\x80" },
		{ "\xf4\x90\x80\x80", 0, "\\xF4\\x90\\x80\\x80" },
		{ "\xe2\x82x", 0, "\\xE2\\x82x" },
		{ "\xe2\x82", 0, "\\xE2\\x82" },
		{ "\x80<", 0, "\\x80&lt;" },
		/* characters that reorder or hide text: by code point */
		{ "\xe2\x80\xaegnp.exe", 0, "\\u{202E}gnp.exe" },
		{ "\xc2\x85", 0, "\\u{0085}" },
		{ "a\xe2\x80\x8b" "b\xef\xbb\xbf", 0, "a\\u{200B}b\\u{FEFF}" },
		{ "\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u{2066}x\\u{2069}" },
		{ "\xe2\x80\xa8", 0, "\\u{2028}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
		char *got = escaped(cases[i].in, len);

		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, got, cases[i].want);
		free(got);
	}
}

/* The output is one line of text: no markup character, every '&' the
 * start of one of the four references the writer makes, every byte
 * either ASCII text or part of well-formed UTF-8. */
static void assert_inert(const char *out)
{
	static const char *const refs[] = { "&lt;", "&gt;", "&amp;", "&quot;", "&#39;" };

	for (const char *p = out; *p; p++) {
		unsigned char c = (unsigned char)*p;

		assert_true(c != '<' && c != '>' && c != '"' && c != '\'');
		assert_true(c >= 0x20 && c != 0x7f);
		if (c == '&') {
			bool known = false;

			for (size_t k = 0; k < sizeof(refs) / sizeof(refs[0]); k++)
				known |= strncmp(p, refs[k], strlen(refs[k])) == 0;
			assert_true(known);
		}
	}
}

static void test_every_byte(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		char in[3] = { 'a', (char)c, 'z' };
		char *got = escaped(in, sizeof(in));

		assert_inert(got);
		assert_int_equal(got[0], 'a');
		assert_int_equal(got[strlen(got) - 1], 'z');
		free(got);
	}
}

/* Random mixes of markup, quotes, controls, UTF-8 lead and continuation
 * bytes (a fixed seed: the same cases every run). */
static void test_random_mixes(void **state)
{
	static const unsigned char pieces[] = { '<', '>', '&', '"', '\'', '/',
		'=', 'a', ' ', 0, 0x0a, 0x7f, 0x80, 0xbf, 0xc2, 0xe2, 0xed, 0xf0,
		0xf4, 0xff, 0x85, 0xae, 0xa0 };
	unsigned seed = 20;

	(void)state;
	for (int n = 0; n < 20000; n++) {
		char in[24];
		size_t len = 1 + (size_t)(rand_r(&seed) % sizeof(in));
		char *got;

		for (size_t i = 0; i < len; i++)
			in[i] = (char)pieces[rand_r(&seed) % sizeof(pieces)];
		got = escaped(in, len);
		assert_inert(got);
		free(got);
	}
}

static void test_page(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	(void)state;
	assert_non_null(f);
	html_begin(f, "SPF fail: <script>x</script>@e.example", "spfcheck <test>");
	html_result(f, "fail");
	html_end(f);
	fclose(f);
	assert_non_null(buf);
	assert_non_null(strstr(buf, "<title>SPF fail: &lt;script&gt;x&lt;/script&gt;"
		"@e.example</title>"));
	assert_non_null(strstr(buf, "content=\"spfcheck &lt;test&gt;\""));
	/* no script may run, nothing may be fetched */
	assert_non_null(strstr(buf, "default-src 'none'"));
	assert_null(strstr(buf, "<script"));
	assert_null(strstr(buf, "http://"));
	assert_null(strstr(buf, "https://"));
	assert_null(strstr(buf, "@import"));
	assert_null(strstr(buf, "url("));
	assert_non_null(strstr(buf, "prefers-color-scheme:dark"));
	assert_non_null(strstr(buf, "@media print"));
	assert_non_null(strstr(buf, "<span class=\"r r-fail\">fail</span>"));
	assert_non_null(strstr(buf, "</html>\n"));
	free(buf);
}

static void test_null_text(void **state)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	(void)state;
	assert_non_null(f);
	html_text(f, NULL);
	html_text(f, "");
	fclose(f);
	assert_int_equal(n, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_random_mixes),
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_null_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
