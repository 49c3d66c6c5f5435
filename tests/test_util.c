/*
 * test_util.c - the allocation wrapper, arenas, bounded buffers and the
 * display escaping of untrusted bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check.h"

#include "util.h"

static void test_buf_append_and_cap(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 10);
	assert_string_equal(spf_buf_cstr(&b), "");
	assert_int_equal(spf_buf_puts(&b, "hello"), SPF_OK);
	assert_int_equal(spf_buf_printf(&b, "%d", 1234), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "hello1234");
	assert_int_equal(b.len, 9);
	assert_int_equal(spf_buf_putc(&b, 'x'), SPF_OK);
	/* the 11th byte exceeds the cap; the buffer stays failed */
	assert_int_equal(spf_buf_putc(&b, 'y'), SPF_ETOOBIG);
	assert_int_equal(spf_buf_puts(&b, ""), SPF_ETOOBIG);
	assert_string_equal(spf_buf_cstr(&b), "hello1234x");
	spf_buf_reset(&b);
	assert_int_equal(spf_buf_puts(&b, "ok"), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "ok");
	spf_buf_finish(&b);
}

static void test_buf_printf_too_big(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 8);
	assert_int_equal(spf_buf_printf(&b, "%s", "0123456789"), SPF_ETOOBIG);
	assert_int_equal(b.len, 0);
	spf_buf_finish(&b);
}

/* printf formats into the free space first and again, exactly, only
 * when the text did not fit: both paths give the same bytes */
static void test_buf_printf_grows(void **state)
{
	spf_buf_t b;
	char want[2048];
	size_t len = 0;

	(void)state;
	spf_buf_init(&b, 4096);
	for (int i = 0; i < 40; i++) {
		int w = i * 7 % 50;

		assert_int_equal(spf_buf_printf(&b, "[%d:%*s]", i, w, "x"), SPF_OK);
		len += (size_t)snprintf(want + len, sizeof(want) - len, "[%d:%*s]", i, w, "x");
		assert_int_equal(b.len, len);
		assert_string_equal(spf_buf_cstr(&b), want);
	}
	spf_buf_finish(&b);
	/* a text that fits the space but not the cap is refused whole */
	spf_buf_init(&b, 70);
	assert_int_equal(spf_buf_puts(&b, "abc"), SPF_OK);
	assert_int_equal(spf_buf_printf(&b, "%100s", "y"), SPF_ETOOBIG);
	assert_string_equal(spf_buf_cstr(&b), "abc");
	spf_buf_finish(&b);
}

/* arena printf writes into the current chunk when the text fits, and
 * takes a new allocation when it does not */
static void test_arena_printf_fill(void **state)
{
	spf_arena_t *a = spf_arena_create();
	char *keep[400];

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < 400; i++) {
		keep[i] = spf_arena_printf(a, "%d-%*d", i, i * 13 % 300, i);
		assert_non_null(keep[i]);
	}
	for (int i = 0; i < 400; i++) {
		char want[400];

		snprintf(want, sizeof(want), "%d-%*d", i, i * 13 % 300, i);
		assert_string_equal(keep[i], want);
	}
	spf_arena_destroy(a);
}

static void test_buf_binary(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 100);
	assert_int_equal(spf_buf_append(&b, "a\0b", 3), SPF_OK);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	spf_buf_finish(&b);
}

static void test_arena(void **state)
{
	spf_arena_t *a = spf_arena_create();
	char *s, *big;

	(void)state;
	assert_non_null(a);
	s = spf_arena_strndup(a, "abcdef", 3);
	assert_string_equal(s, "abc");
	s = spf_arena_printf(a, "%s-%d", "x", 42);
	assert_string_equal(s, "x-42");
	big = spf_arena_alloc(a, 100000);
	assert_non_null(big);
	for (size_t i = 0; i < 100000; i++)
		assert_int_equal(big[i], 0);
	memset(big, 'z', 100000);
	/* small allocations after a big one still work */
	for (int i = 0; i < 1000; i++) {
		int *p = spf_arena_alloc(a, sizeof(int));

		assert_non_null(p);
		assert_int_equal(*p, 0);
		*p = i;
	}
	assert_true(spf_arena_used(a) >= 100000 + 1000 * sizeof(int));
	spf_arena_destroy(a);
	spf_arena_destroy(NULL);
}

/* Chunks of a destroyed arena serve the next one: what they held must not
 * show through (allocations are zeroed), and taking one is an allocation
 * that failure injection can fail, as a fresh malloc would be. */
static void test_arena_reuse(void **state)
{
	spf_arena_t *a;
	unsigned char *p;

	(void)state;
	for (int round = 0; round < 3; round++) {
		a = spf_arena_create();
		assert_non_null(a);
		for (int i = 0; i < 40; i++) {         /* about 10 chunks */
			p = spf_arena_alloc(a, 1000);
			assert_non_null(p);
			for (int j = 0; j < 1000; j++)
				assert_int_equal(p[j], 0);
			memset(p, 0xa5, 1000);
		}
		p = (unsigned char *)spf_arena_printf(a, "%0900d", round);
		assert_non_null(p);
		assert_int_equal(strlen((char *)p), 900);
		spf_arena_destroy(a);
	}
	/* the list now holds chunks: each take still counts and can fail */
	spf_alloc_fail_at(0);
	a = spf_arena_create();
	assert_int_equal(spf_alloc_count(), 1);
	spf_arena_destroy(a);
	spf_alloc_fail_at(1);
	assert_null(spf_arena_create());
	spf_alloc_fail_at(2);
	a = spf_arena_create();
	assert_non_null(a);
	assert_non_null(spf_arena_alloc(a, 3000));
	assert_null(spf_arena_alloc(a, 3000));  /* needs a 2nd chunk */
	assert_non_null(spf_arena_alloc(a, 16)); /* the 1st still has room */
	spf_arena_destroy(a);
	spf_alloc_fail_at(0);
}

static void test_alloc_failure_injection(void **state)
{
	void *p;

	(void)state;
	spf_alloc_fail_at(2);
	p = spf_malloc(10);
	assert_non_null(p);
	spf_free(p);
	assert_null(spf_malloc(10));           /* the 2nd fails */
	p = spf_malloc(10);                    /* and only the 2nd */
	assert_non_null(p);
	spf_free(p);
	assert_int_equal(spf_alloc_count(), 3);
	spf_alloc_fail_at(1);
	assert_null(spf_arena_create());
	spf_alloc_fail_at(0);
	p = spf_strdup("x");
	assert_string_equal(p, "x");
	spf_free(p);
}

static void test_nocase(void **state)
{
	(void)state;
	assert_true(spf_streq_nocase("Example.COM", "example.com"));
	assert_false(spf_streq_nocase("example.co", "example.com"));
	assert_true(spf_strncaseeq("ABC", "abd", 2));
	assert_false(spf_strncaseeq("ABC", "abd", 3));
	/* every pair of bytes, against folding both (spf_lower()) */
	for (int x = 0; x < 256; x++) {
		for (int y = 0; y < 256; y++) {
			char a[3] = { 'q', (char)x, 'Z' }, b[3] = { 'Q', (char)y, 'z' };

			assert_int_equal(spf_strncaseeq(a, b, 3),
				spf_lower((char)x) == spf_lower((char)y));
		}
	}
	assert_string_equal(spf_strerror(SPF_ETOOBIG), "size limit exceeded");
}

/* escaped(): s (n bytes) under how, with max */
static const char *escaped(spf_buf_t *b, const char *s, size_t n,
	spf_escape_t how, size_t max)
{
	spf_buf_reset(b);
	assert_int_equal(spf_buf_escape(b, s, n, how, max), SPF_OK);
	return spf_buf_cstr(b);
}

static void test_escape_forms(void **state)
{
	/* a tab, a backslash, a quote, DEL, "§" in UTF-8, a NUL */
	static const char s[] = "a\tb\\c\"d\x7f" "\xc2\xa7" "e";
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 1024);
	assert_string_equal(escaped(&b, s, sizeof(s) - 1, SPF_ESC_HEX, 0),
		"a\\x09b\\x5Cc\"d\\x7F\\xC2\\xA7e");
	assert_string_equal(escaped(&b, s, sizeof(s) - 1, SPF_ESC_FIELD, 0),
		"a\\x09b\\x5Cc\"d\\x7F\xc2\xa7" "e");
	assert_string_equal(escaped(&b, s, sizeof(s) - 1, SPF_ESC_CTL, 0),
		"a\\x09b\\c\"d\\x7F\xc2\xa7" "e");
	assert_string_equal(escaped(&b, s, sizeof(s) - 1, SPF_ESC_ZONE, 0),
		"a\\009b\\\\c\\\"d\\127\\194\\167e");
	assert_string_equal(escaped(&b, s, sizeof(s) - 1, SPF_ESC_QMARK, 0),
		"a?b\\c\"d???e");
	/* a NUL byte inside the length is a byte like any other */
	assert_string_equal(escaped(&b, "x\0y", 3, SPF_ESC_ZONE, 0), "x\\000y");
	assert_string_equal(escaped(&b, "", 0, SPF_ESC_HEX, 0), "");
	/* every byte: printable ASCII is itself in each form but ZONE's
	 * quote and backslash, and each form has at most 4 bytes */
	for (unsigned c = 0; c < 256; c++) {
		char one[5];
		bool plain = c >= 0x20 && c < 0x7f;

		for (int how = SPF_ESC_HEX; how <= SPF_ESC_QMARK; how++) {
			size_t w = spf_escape_byte((unsigned char)c, (spf_escape_t)how, one);

			assert_true(w >= 1 && w <= 4);
			assert_int_equal(strlen(one), w);
			if (plain && c != '\\' && c != '"')
				assert_string_equal(one, ((char[]){ (char)c, '\0' }));
			if (how == SPF_ESC_QMARK)
				assert_int_equal(w, 1);
		}
	}
	spf_buf_finish(&b);
}

static void test_escape_max(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 1024);
	/* at most max bytes, then "..." when bytes remain */
	assert_string_equal(escaped(&b, "abcdef", 6, SPF_ESC_QMARK, 4), "abcd...");
	assert_string_equal(escaped(&b, "abcd", 4, SPF_ESC_QMARK, 4), "abcd");
	/* an escape is never cut: it may end past max */
	assert_string_equal(escaped(&b, "ab\x01z", 4, SPF_ESC_HEX, 3), "ab\\x01...");
	/* appended after what the buffer holds; max counts only the new bytes */
	spf_buf_reset(&b);
	spf_buf_puts(&b, "prefix:");
	assert_int_equal(spf_buf_escape(&b, "xyz", 3, SPF_ESC_HEX, 2), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "prefix:xy...");
	spf_buf_finish(&b);
	/* the buffer's own cap still holds */
	spf_buf_init(&b, 8);
	assert_int_equal(spf_buf_escape(&b, "\x01\x02\x03", 3, SPF_ESC_ZONE, 0), SPF_ETOOBIG);
	spf_buf_finish(&b);
}

/* RFC 3986 percent-encoding: unreserved bytes and those kept as they
 * are, every other byte (NUL, '@' unless kept, non-ASCII) as %HH */
static void test_percent_encode(void **state)
{
	spf_buf_t b;

	(void)state;
	spf_buf_init(&b, 1024);
	assert_int_equal(spf_buf_percent_encode(&b, "aZ09-._~", 8, NULL), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "aZ09-._~");
	spf_buf_reset(&b);
	assert_int_equal(spf_buf_percent_encode(&b, "a@b c/\xc2\xa7\x7f", 9, NULL), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "a%40b%20c%2F%C2%A7%7F");
	spf_buf_reset(&b);
	assert_int_equal(spf_buf_percent_encode(&b, "u@x.org;y", 9, "@"), SPF_OK);
	assert_string_equal(spf_buf_cstr(&b), "u@x.org%3By");
	spf_buf_reset(&b);
	/* len bytes, a NUL among them too; appended after what is there */
	spf_buf_puts(&b, "id=");
	assert_int_equal(spf_buf_percent_encode(&b, "a\0b", 3, "@"), SPF_OK);
	assert_int_equal(b.len, 3 + 5);
	assert_memory_equal(b.data, "id=a%00b", 8);
	spf_buf_finish(&b);
	/* the buffer's own cap still holds */
	spf_buf_init(&b, 8);
	assert_int_equal(spf_buf_percent_encode(&b, "\x01\x02\x03", 3, NULL), SPF_ETOOBIG);
	spf_buf_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_and_cap),
		cmocka_unit_test(test_buf_printf_too_big),
		cmocka_unit_test(test_buf_printf_grows),
		cmocka_unit_test(test_arena_printf_fill),
		cmocka_unit_test(test_buf_binary),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_arena_reuse),
		cmocka_unit_test(test_alloc_failure_injection),
		cmocka_unit_test(test_nocase),
		cmocka_unit_test(test_escape_forms),
		cmocka_unit_test(test_escape_max),
		cmocka_unit_test(test_percent_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
