/*
 * check_timestamp.c - unit tests for lib/postgres/timestamp.c: the meta
 * file's times written in the local zone with its offset and read back to
 * the same instant whatever the reader's zone; a time without a zone is
 * local.  recovery_target_time's many forms are tested with pitr-recover's
 * targets (t/command/check_recover.c).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "postgres/timestamp.h"

/* 2024-03-01 11:00:00 UTC */
#define T0 1709290800L

static char *saved_tz;

static void
set_tz(const char *tz)
{
	ck_assert_int_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

static void
setup(void)
{
	const char *tz = getenv("TZ");

	h_setup();
	saved_tz = tz != NULL ? strdup(tz) : NULL;
}

static void
teardown(void)
{
	if (saved_tz != NULL)
		set_tz(saved_tz);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	h_teardown();
}

START_TEST(test_format_and_back)
{
	static const struct {
		const char *tz, *text;
	} zones[] = {
		{ "UTC0", "2024-03-01 11:00:00 +0000" },
		{ "CET-1CEST,M3.5.0,M10.5.0/3", "2024-03-01 12:00:00 +0100" },
		{ "<-0230>2:30", "2024-03-01 08:30:00 -0230" },
	};
	char out[PITR_TIMESTAMP_TEXT_MAX];

	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		time_t t = 0;
		bool zone = false;

		set_tz(zones[i].tz);
		ck_assert_int_eq(pitr_timestamp_format(T0, out, sizeof(out)), 0);
		ck_assert_str_eq(out, zones[i].text);
		/* Read back under another zone: the offset it states wins. */
		set_tz("<+0545>-5:45");
		ck_assert_int_eq(pitr_timestamp_parse(out, &t, &zone), 0);
		ck_assert(zone);
		ck_assert_int_eq((long)t, T0);
	}
	ck_assert_int_eq(pitr_timestamp_format(T0, out, 10), -1);
}
END_TEST

START_TEST(test_parse_local)
{
	time_t t = 0;
	bool zone = true;

	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	ck_assert_int_eq(pitr_timestamp_parse("2024-03-01 12:00:00", &t, &zone), 0);
	ck_assert(!zone);
	ck_assert_int_eq((long)t, T0);
	/* Summer time, as the zone's rules say. */
	ck_assert_int_eq(pitr_timestamp_parse("2024-07-01 13:00", &t, &zone), 0);
	ck_assert_int_eq((long)t, T0 + 122L * 86400);
	ck_assert_int_eq(pitr_timestamp_parse("2024-07-01 13:00 Z", &t, &zone), 0);
	ck_assert(zone);
	ck_assert_int_eq((long)t, T0 + 122L * 86400 + 2 * 3600);
	ck_assert_int_eq(pitr_timestamp_parse("2024-07-01 13:00 CEST", &t, &zone), -1);
}
END_TEST

/* Found by fuzz/fuzz_target: "2024-02-31 10:00" was taken (as 2 March),
 * and pitr-recover wrote it as recovery_target_time, which PostgreSQL
 * then refuses at start.  A day the month has not is refused; 29 February
 * only in a leap year. */
START_TEST(test_parse_day_of_month)
{
	time_t t = 0;
	bool zone = false;

	ck_assert_int_eq(pitr_timestamp_parse("2024-02-31 10:00", &t, &zone), -1);
	ck_assert_int_eq(pitr_timestamp_parse("2024-02-30 10:00:00 +0100", &t, &zone), -1);
	ck_assert_int_eq(pitr_timestamp_parse("2024-04-31 10:00 Z", &t, &zone), -1);
	ck_assert_int_eq(pitr_timestamp_parse("2023-02-29 10:00 Z", &t, &zone), -1);
	ck_assert_int_eq(pitr_timestamp_parse("1900-02-29 10:00 Z", &t, &zone), -1);
	ck_assert_int_eq(pitr_timestamp_parse("2024-02-29 11:00:00 Z", &t, &zone), 0);
	ck_assert_int_eq((long)t, T0 - 86400);
	ck_assert_int_eq(pitr_timestamp_parse("2000-02-29 00:00 Z", &t, &zone), 0);
	ck_assert_int_eq(pitr_timestamp_parse("2024-12-31 23:59:59 +0000", &t, &zone), 0);
}
END_TEST

/* Found by fuzz/fuzz_target: "0024-03-01 12:00:00 +0100" parsed, but was
 * formatted as "24-03-01 11:00:00 +0000" (strftime's %Y has no leading
 * zeros), which does not parse.  The year is written in four digits, as
 * PostgreSQL writes it, and a year that needs five is refused. */
START_TEST(test_format_four_digit_year)
{
	char out[PITR_TIMESTAMP_TEXT_MAX];
	time_t t = 0;
	bool zone = false;

	set_tz("UTC0");
	ck_assert_int_eq(pitr_timestamp_parse("0024-03-01 12:00:00 +0100", &t, &zone), 0);
	ck_assert_int_eq((long long)t, -61404613200LL);
	ck_assert_int_eq(pitr_timestamp_format(t, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "0024-03-01 11:00:00 +0000");
	ck_assert_int_eq(pitr_timestamp_parse(out, &t, &zone), 0);
	ck_assert_int_eq((long long)t, -61404613200LL);
	ck_assert_int_eq(pitr_timestamp_format((time_t)253402300799LL, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "9999-12-31 23:59:59 +0000");
	ck_assert_int_eq(pitr_timestamp_format((time_t)253402300800LL, out, sizeof(out)), -1);
	ck_assert_int_eq(pitr_timestamp_format(T0, out, 4), -1);
	ck_assert_int_eq(pitr_timestamp_format(T0, out, 5), -1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("timestamp");
	TCase *tc = tcase_create("timestamp");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_and_back);
	tcase_add_test(tc, test_parse_local);
	tcase_add_test(tc, test_parse_day_of_month);
	tcase_add_test(tc, test_format_four_digit_year);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
