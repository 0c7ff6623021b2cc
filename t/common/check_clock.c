/*
 * check_clock.c - unit tests for monotonic time, file ages and sleeps.
 *
 * Signals come from a one-shot interval timer (SIGALRM, a handler without
 * SA_RESTART, as pitrkit's own), so a sleep is really interrupted.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "harness.h"
#include "common/clock.h"

static volatile sig_atomic_t got_alarm;

static void
on_alarm(int signo)
{
	(void)signo;
	got_alarm = 1;
}

static void
setup(void)
{
	h_setup();
	got_alarm = 0;
}

static void
teardown(void)
{
	h_teardown();
}

/* Deliver SIGALRM once, `ms` from now, to a handler that only sets a flag. */
static void
alarm_in_ms(long ms)
{
	struct sigaction sa;
	struct itimerval it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static double
monotonic_ms(void)
{
	struct timespec ts;

	ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* --- pitr_clock_ms --------------------------------------------------- */

/* Bracketed by CLOCK_MONOTONIC readings: it is that clock, in ms. */
START_TEST(test_ms_is_the_monotonic_clock)
{
	double before = monotonic_ms();
	double now = pitr_clock_ms();
	double after = monotonic_ms();

	ck_assert(before <= now);
	ck_assert(now <= after);
}
END_TEST

START_TEST(test_ms_has_sub_millisecond_precision)
{
	double first = pitr_clock_ms();
	double now = first;

	/* Some reading within a few ms is not a whole number of ms. */
	while (now - first < 5.0 && now == (double)(long long)now)
		now = pitr_clock_ms();
	ck_assert(now != (double)(long long)now);
}
END_TEST

/* --- pitr_clock_file_age_ms ------------------------------------------ */

static void
set_mtime(const char *path, time_t offset_s)
{
	struct timespec times[2];

	ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &times[1]), 0);
	times[1].tv_sec += offset_s;
	times[0] = times[1];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

START_TEST(test_file_age_of_an_old_file)
{
	const char *path = h_path("f");
	struct stat st;
	double age;

	h_write_file(path, "x", 1);
	set_mtime(path, -10);
	ck_assert_int_eq(stat(path, &st), 0);
	age = pitr_clock_file_age_ms(&st);
	ck_assert(age >= 10000.0);
	ck_assert(age < 15000.0);
}
END_TEST

START_TEST(test_file_age_in_the_future_is_negative)
{
	const char *path = h_path("f");
	struct stat st;
	double age;

	h_write_file(path, "x", 1);
	set_mtime(path, 60);
	ck_assert_int_eq(stat(path, &st), 0);
	age = pitr_clock_file_age_ms(&st);
	ck_assert(age <= -55000.0);
	ck_assert(age > -60001.0);
}
END_TEST

/* --- pitr_clock_sleep_ms --------------------------------------------- */

START_TEST(test_sleep_sleeps_the_whole_time)
{
	double start = pitr_clock_ms();

	pitr_clock_sleep_ms(30);
	ck_assert(pitr_clock_ms() - start >= 30.0);
}
END_TEST

START_TEST(test_sleep_goes_on_after_a_signal)
{
	double start = pitr_clock_ms();

	alarm_in_ms(20);
	pitr_clock_sleep_ms(150);
	ck_assert_int_eq(got_alarm, 1);
	ck_assert(pitr_clock_ms() - start >= 150.0);
}
END_TEST

START_TEST(test_sleep_nothing_for_zero)
{
	double start = pitr_clock_ms();

	pitr_clock_sleep_ms(0);
	pitr_clock_sleep_ms(-5);
	ck_assert(pitr_clock_ms() - start < 20.0);
}
END_TEST

/* --- pitr_clock_sleep_interruptible_ms ------------------------------- */

START_TEST(test_interruptible_sleeps_without_a_signal)
{
	double start = pitr_clock_ms();

	ck_assert(!pitr_clock_sleep_interruptible_ms(30));
	ck_assert(pitr_clock_ms() - start >= 30.0);
}
END_TEST

START_TEST(test_interruptible_ends_at_a_signal)
{
	double start = pitr_clock_ms();

	alarm_in_ms(20);
	ck_assert(pitr_clock_sleep_interruptible_ms(5000));
	ck_assert_int_eq(got_alarm, 1);
	ck_assert(pitr_clock_ms() - start < 4000.0);
}
END_TEST

START_TEST(test_interruptible_nothing_for_zero)
{
	ck_assert(!pitr_clock_sleep_interruptible_ms(0));
	ck_assert(!pitr_clock_sleep_interruptible_ms(-1));
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
	Suite *s = suite_create("clock");
	TCase *tc;

	tc = tcase("ms");
	tcase_add_test(tc, test_ms_is_the_monotonic_clock);
	tcase_add_test(tc, test_ms_has_sub_millisecond_precision);
	suite_add_tcase(s, tc);

	tc = tcase("file_age_ms");
	tcase_add_test(tc, test_file_age_of_an_old_file);
	tcase_add_test(tc, test_file_age_in_the_future_is_negative);
	suite_add_tcase(s, tc);

	tc = tcase("sleep_ms");
	tcase_add_test(tc, test_sleep_sleeps_the_whole_time);
	tcase_add_test(tc, test_sleep_goes_on_after_a_signal);
	tcase_add_test(tc, test_sleep_nothing_for_zero);
	suite_add_tcase(s, tc);

	tc = tcase("sleep_interruptible_ms");
	tcase_add_test(tc, test_interruptible_sleeps_without_a_signal);
	tcase_add_test(tc, test_interruptible_ends_at_a_signal);
	tcase_add_test(tc, test_interruptible_nothing_for_zero);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
