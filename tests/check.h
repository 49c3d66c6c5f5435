/*
 * check.h - cmocka for spfcheck's unit tests.
 *
 * A failed cmocka assertion leaves the test through longjmp, which the
 * clang static analyzer cannot see: it follows the path past the failed
 * assertion and reports what would go wrong there (a NULL dereference
 * after assert_non_null, say).  Under the analyzer only, the assertions
 * that guard later code end the path with abort(); compiled tests use
 * cmocka's own.
 */
#ifndef SPF_TESTS_CHECK_H
#define SPF_TESTS_CHECK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#ifdef __clang_analyzer__
#undef assert_true
#define assert_true(c) do { if (!(c)) abort(); } while (0)
#undef assert_false
#define assert_false(c) do { if (c) abort(); } while (0)
#undef assert_non_null
#define assert_non_null(c) do { if ((c) == NULL) abort(); } while (0)
#undef assert_int_equal
#define assert_int_equal(a, b) do { if ((a) != (b)) abort(); } while (0)
#undef fail
#define fail() abort()
#undef skip
#define skip() abort()
#undef fail_msg
#define fail_msg(...) abort()
#endif

#endif
