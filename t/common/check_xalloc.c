/*
 * check_xalloc.c - unit tests for allocation that logs its own failure.
 *
 * Failures come from products that overflow, and from a block larger
 * than what is left of an address space capped for the call (see
 * cap_address_space()); nothing is interposed.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "common/xalloc.h"

#define OOM_LINE "ERROR : out of memory\n"

/*
 * AddressSanitizer, by default, stops the program at an allocation it
 * cannot grant.  Told that the allocator may return NULL (ASAN_OPTIONS, as
 * make check-asan sets it, adds to this rather than replacing it), it
 * returns NULL as malloc(3) does, so the tests of a failing allocator run
 * under it too.  Other builds never call this function.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/*
 * The block the allocator must refuse, and how much address space the cap
 * leaves for everything else (the log line's buffers).  A size no
 * allocator grants (SIZE_MAX) would do for glibc, but AddressSanitizer
 * reports such a request even when it may return NULL, and any report
 * fails the sanitizer run; a block the kernel refuses to map fails
 * silently in both.
 */
#define REFUSED_SIZE ((size_t)1 << 30)
#define CAP_MARGIN ((rlim_t)64 << 20)

static struct rlimit uncapped;

/* Cap the address space at what the process maps now plus CAP_MARGIN,
 * so that the mmap or brk a REFUSED_SIZE block needs fails with ENOMEM. */
static void
cap_address_space(void)
{
	unsigned long long pages = 0;
	FILE *statm = fopen("/proc/self/statm", "r");
	struct rlimit cap;

	ck_assert_ptr_nonnull(statm);
	ck_assert_int_eq(fscanf(statm, "%llu", &pages), 1);
	fclose(statm);
	ck_assert_int_eq(getrlimit(RLIMIT_AS, &uncapped), 0);
	cap.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + CAP_MARGIN;
	cap.rlim_max = uncapped.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_AS, &cap), 0);
}

/* Lift the cap, keeping errno as the capped call left it. */
static void
uncap_address_space(void)
{
	int saved = errno;

	ck_assert_int_eq(setrlimit(RLIMIT_AS, &uncapped), 0);
	errno = saved;
}

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

/* The failure was logged once and errno says ENOMEM. */
static void
assert_oom_logged(void)
{
	ck_assert_int_eq(errno, ENOMEM);
	ck_assert_str_eq(h_log(), OOM_LINE);
}

/* --- pitr_xmalloc ---------------------------------------------------- */

START_TEST(test_xmalloc)
{
	char *p = pitr_xmalloc(16);

	ck_assert_ptr_nonnull(p);
	memset(p, 'x', 16);
	free(p);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_xmalloc_zero_is_not_null)
{
	void *p = pitr_xmalloc(0);

	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

START_TEST(test_xmalloc_fails_logged)
{
	void *p;

	cap_address_space();
	p = pitr_xmalloc(REFUSED_SIZE);
	uncap_address_space();
	ck_assert_ptr_null(p);
	assert_oom_logged();
}
END_TEST

/* --- pitr_xcalloc ---------------------------------------------------- */

START_TEST(test_xcalloc_zeroed)
{
	int *p = pitr_xcalloc(8, sizeof(int));

	ck_assert_ptr_nonnull(p);
	for (int idx = 0; idx < 8; idx++)
		ck_assert_int_eq(p[idx], 0);
	free(p);
}
END_TEST

START_TEST(test_xcalloc_zero_is_not_null)
{
	void *a = pitr_xcalloc(0, 8);
	void *b = pitr_xcalloc(8, 0);

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_xcalloc_overflow_logged)
{
	ck_assert_ptr_null(pitr_xcalloc(SIZE_MAX / 2, 4));
	assert_oom_logged();
}
END_TEST

START_TEST(test_xcalloc_fails_logged)
{
	void *p;

	cap_address_space();
	p = pitr_xcalloc(1, REFUSED_SIZE);
	uncap_address_space();
	ck_assert_ptr_null(p);
	assert_oom_logged();
}
END_TEST

/* --- pitr_xrealloc, pitr_xreallocarray -------------------------------- */

START_TEST(test_xrealloc_keeps_content)
{
	char *p = pitr_xrealloc(NULL, 4);

	ck_assert_ptr_nonnull(p);
	memcpy(p, "abc", 4);
	p = pitr_xrealloc(p, 4096);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "abc");
	p = pitr_xreallocarray(p, 2, 4096);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p, "abc");
	free(p);
}
END_TEST

START_TEST(test_xrealloc_fails_keeps_block)
{
	char *p = pitr_xstrdup("abc");
	void *grown;

	cap_address_space();
	grown = pitr_xrealloc(p, REFUSED_SIZE);
	uncap_address_space();
	ck_assert_ptr_null(grown);
	assert_oom_logged();
	ck_assert_str_eq(p, "abc");
	free(p);
}
END_TEST

START_TEST(test_xreallocarray_overflow_keeps_block)
{
	char *p = pitr_xstrdup("abc");

	ck_assert_ptr_null(pitr_xreallocarray(p, SIZE_MAX / 2, 4));
	assert_oom_logged();
	ck_assert_str_eq(p, "abc");
	free(p);
}
END_TEST

START_TEST(test_xreallocarray_zero_size)
{
	void *p = pitr_xreallocarray(NULL, 5, 0);

	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

/* --- pitr_xstrdup, pitr_xstrndup -------------------------------------- */

START_TEST(test_xstrdup)
{
	char *a = pitr_xstrdup("a string");
	char *b = pitr_xstrdup("");

	ck_assert_str_eq(a, "a string");
	ck_assert_str_eq(b, "");
	free(a);
	free(b);
}
END_TEST

START_TEST(test_xstrndup)
{
	char *a = pitr_xstrndup("abcdef", 3);
	char *b = pitr_xstrndup("ab", 10);

	ck_assert_str_eq(a, "abc");
	ck_assert_str_eq(b, "ab");
	free(a);
	free(b);
}
END_TEST

/* --- pitr_xcheck ----------------------------------------------------- */

START_TEST(test_xcheck)
{
	int x;

	ck_assert_ptr_eq(pitr_xcheck(&x), &x);
	ck_assert_str_eq(h_log(), "");
	ck_assert_ptr_null(pitr_xcheck(NULL));
	assert_oom_logged();
}
END_TEST

/* --- pitr_xasprintf -------------------------------------------------- */

START_TEST(test_xasprintf)
{
	char *a = pitr_xasprintf("%s/%s%03d", "dir", "file", 7);
	char *b = pitr_xasprintf("%s", "");

	ck_assert_str_eq(a, "dir/file007");
	ck_assert_str_eq(b, "");
	free(a);
	free(b);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

static char *
format_with_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A function that takes a format of its own, as pitr_xvasprintf's callers
 * are. */
static char *
format_with_prefix(const char *fmt, ...)
{
	va_list ap;
	char *out;

	va_start(ap, fmt);
	out = pitr_xvasprintf(fmt, ap);
	va_end(ap);
	return out;
}

START_TEST(test_xvasprintf)
{
	char *a = format_with_prefix("%s=%d", "n", 42);

	ck_assert_str_eq(a, "n=42");
	free(a);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
make_suite(void)
{
	Suite *s = suite_create("xalloc");
	TCase *tc;

	tc = tcase("xmalloc");
	tcase_add_test(tc, test_xmalloc);
	tcase_add_test(tc, test_xmalloc_zero_is_not_null);
	tcase_add_test(tc, test_xmalloc_fails_logged);
	suite_add_tcase(s, tc);

	tc = tcase("xcalloc");
	tcase_add_test(tc, test_xcalloc_zeroed);
	tcase_add_test(tc, test_xcalloc_zero_is_not_null);
	tcase_add_test(tc, test_xcalloc_overflow_logged);
	tcase_add_test(tc, test_xcalloc_fails_logged);
	suite_add_tcase(s, tc);

	tc = tcase("xrealloc");
	tcase_add_test(tc, test_xrealloc_keeps_content);
	tcase_add_test(tc, test_xrealloc_fails_keeps_block);
	tcase_add_test(tc, test_xreallocarray_overflow_keeps_block);
	tcase_add_test(tc, test_xreallocarray_zero_size);
	suite_add_tcase(s, tc);

	tc = tcase("xstrdup");
	tcase_add_test(tc, test_xstrdup);
	tcase_add_test(tc, test_xstrndup);
	suite_add_tcase(s, tc);

	tc = tcase("xcheck");
	tcase_add_test(tc, test_xcheck);
	suite_add_tcase(s, tc);

	tc = tcase("xasprintf");
	tcase_add_test(tc, test_xasprintf);
	tcase_add_test(tc, test_xvasprintf);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
