/*
 * test_util.c - the allocation wrapper, arenas and bounded buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
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
	assert_string_equal(spf_strerror(SPF_ETOOBIG), "size limit exceeded");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_and_cap),
		cmocka_unit_test(test_buf_printf_too_big),
		cmocka_unit_test(test_buf_binary),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_alloc_failure_injection),
		cmocka_unit_test(test_nocase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
