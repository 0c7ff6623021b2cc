/*
 * check_logpath.c - unit tests for OmniPITR log template expansion.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "common/logpath.h"

/* 2023-11-14 22:13:20 UTC, a Tuesday. */
#define WHEN ((time_t)1700000000)

static void
setup(void)
{
	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
teardown(void)
{
	h_teardown();
}

/* Assert that `template_` expands to exactly `want` at WHEN. */
static void
assert_expands(const char *template_, const char *want)
{
	char *got = pitr_logpath_expand(template_, WHEN);

	ck_assert_msg(got != NULL, "expand \"%s\": %s", template_, strerror(errno));
	ck_assert_str_eq(got, want);
	free(got);
}

/* Assert that `template_` fails with errno `err` at `when`. */
static void
assert_fails(const char *template_, time_t when, int err)
{
	errno = 0;
	ck_assert_ptr_null(pitr_logpath_expand(template_, when));
	ck_assert_int_eq(errno, err);
}

START_TEST(test_caret_becomes_percent)
{
	assert_expands("/var/log/pitr/^Y/^m/archive-^Y-^m-^d.log",
		       "/var/log/pitr/2023/11/archive-2023-11-14.log");
	assert_expands("^H:^M:^S", "22:13:20");
	assert_expands("x-^a-^j.log", "x-Tue-318.log");
	assert_expands("^s", "1700000000");
	assert_expands("plain.log", "plain.log");
}
END_TEST

START_TEST(test_local_time)
{
	/* Expansion is in local time: one hour east of UTC, the day changes. */
	setenv("TZ", "XXX-1", 1);
	tzset();
	assert_expands("^Y-^m-^d ^H ^z", "2023-11-14 23 +0100");
	setenv("TZ", "XXX-3", 1);
	tzset();
	assert_expands("^Y-^m-^d ^H ^z", "2023-11-15 01 +0300");
}
END_TEST

START_TEST(test_literal_percent)
{
	assert_expands("a%Yb^H", "a%Yb22");
	assert_expands("100%", "100%");
	assert_expands("%%", "%%");
	assert_expands("%", "%");
	assert_expands("^Y%^m", "2023%11");
	/* "^^" is "%%", strftime's percent sign: a caret cannot be literal. */
	assert_expands("a^^b", "a%b");
}
END_TEST

START_TEST(test_long_expansion)
{
	/* ^c grows 12-fold: the buffer has to grow several times. */
	size_t reps = 1000;
	char *template_ = malloc(2 * reps + 1);
	char *got;

	ck_assert_ptr_nonnull(template_);
	for (size_t idx = 0; idx < reps; idx++)
		memcpy(template_ + 2 * idx, "^c", 2);
	template_[2 * reps] = '\0';
	got = pitr_logpath_expand(template_, WHEN);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(strlen(got), 24 * reps);
	for (size_t idx = 0; idx < reps; idx++)
		ck_assert_int_eq(memcmp(got + 24 * idx, "Tue Nov 14 22:13:20 2023", 24), 0);
	free(got);
	free(template_);
}
END_TEST

START_TEST(test_empty_template)
{
	assert_fails("", WHEN, EINVAL);
	assert_fails(NULL, WHEN, EINVAL);
}
END_TEST

START_TEST(test_expands_to_nothing)
{
	/* A zone with an empty abbreviation makes ^Z expand to "". */
	setenv("TZ", "<>0", 1);
	tzset();
	assert_fails("^Z", WHEN, EINVAL);
	assert_expands("a^Z", "a");
}
END_TEST

START_TEST(test_time_out_of_range)
{
	/* localtime_r cannot represent a year past INT_MAX. */
	assert_fails("^Y", (time_t)INT64_MAX, EINVAL);
}
END_TEST

/* A broken-down time of another clock than the local one (a log line's
 * own zone) expands as given, not converted to TZ. */
START_TEST(test_expand_tm)
{
	struct tm tm = { .tm_year = 123, .tm_mon = 10, .tm_mday = 15, .tm_hour = 7,
			 .tm_min = 13, .tm_sec = 20, .tm_wday = 3, .tm_yday = 318 };
	char *got = pitr_logpath_expand_tm("/l/^Y-^m-^d-^a-^H.log", &tm);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "/l/2023-11-15-Wed-07.log");
	free(got);
	errno = 0;
	ck_assert_ptr_null(pitr_logpath_expand_tm("", &tm));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("logpath");
	TCase *tc = tcase_create("pitr_logpath_expand");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_caret_becomes_percent);
	tcase_add_test(tc, test_local_time);
	tcase_add_test(tc, test_expand_tm);
	tcase_add_test(tc, test_literal_percent);
	tcase_add_test(tc, test_long_expansion);
	tcase_add_test(tc, test_empty_template);
	tcase_add_test(tc, test_expands_to_nothing);
	tcase_add_test(tc, test_time_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
