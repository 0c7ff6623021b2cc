/*
 * check_sysid.c - unit tests for the one-cluster-per-archive record.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "postgres/sysid.h"

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

static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

static void
assert_record(const char *want)
{
	char *got = h_read_file(h_path(PITR_SYSID_FILE), NULL);

	ck_assert_str_eq(got, want);
	free(got);
}

/* --- check_or_record --------------------------------------------------- */

START_TEST(test_first_records)
{
	struct stat st;

	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 7318459183462719017ULL), 0);
	assert_record("7318459183462719017\n");
	ck_assert_int_eq(stat(h_path(PITR_SYSID_FILE), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	/* Just the record, no temporary file. */
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	/* Later checks with the same identifier pass and change nothing. */
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 7318459183462719017ULL), 0);
	assert_record("7318459183462719017\n");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_extremes)
{
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), UINT64_MAX), 0);
	assert_record("18446744073709551615\n");
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), UINT64_MAX), 0);
	ck_assert_int_eq(pitr_sysid_check_or_record(h_path("sub"), 0), -1);
	ck_assert_int_eq(mkdir(h_path("sub"), 0700), 0);
	h_log_reset();
	ck_assert_int_eq(pitr_sysid_check_or_record(h_path("sub"), 0), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_mismatch)
{
	char msg[4096];

	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 100), 0);
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 200), -1);
	snprintf(msg, sizeof(msg),
		 "\"%s\" holds WAL of database system 100, not 200: refusing to mix clusters "
		 "in one archive", h_dir());
	assert_error(msg);
	/* The record is kept. */
	assert_record("100\n");
}
END_TEST

START_TEST(test_malformed)
{
	char msg[4096];

	h_write_file(h_path(PITR_SYSID_FILE), "abc\n", 4);
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 1), -1);
	snprintf(msg, sizeof(msg), "\"%s\" is not a valid system identifier record",
		 h_path(PITR_SYSID_FILE));
	assert_error(msg);
	/* Never replaced. */
	assert_record("abc\n");
}
END_TEST

START_TEST(test_missing_dir)
{
	char msg[4096];

	ck_assert_int_eq(pitr_sysid_check_or_record(h_path("none"), 1), -1);
	snprintf(msg, sizeof(msg),
		 "could not create a temporary file in \"%s\": No such file or directory",
		 h_path("none"));
	assert_error(msg);
}
END_TEST

/* --- read -------------------------------------------------------------- */

START_TEST(test_read_none)
{
	uint64_t got = 42;

	ck_assert_int_eq(pitr_sysid_read(h_dir(), &got), 1);
	ck_assert_uint_eq(got, 42);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_valid)
{
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{ "7318459183462719017\n", 7318459183462719017ULL },
		{ "7318459183462719017", 7318459183462719017ULL },     /* written by hand */
		{ "0\n", 0 },
		{ "007\n", 7 },
		{ "18446744073709551615\n", UINT64_MAX },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		uint64_t got = 1;

		h_write_file(h_path(PITR_SYSID_FILE), cases[case_idx].text,
			     strlen(cases[case_idx].text));
		ck_assert_int_eq(pitr_sysid_read(h_dir(), &got), 0);
		ck_assert_uint_eq(got, cases[case_idx].want);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_malformed)
{
	static const char *const cases[] = {
		"",
		"\n",
		"12\n\n",
		"-1\n",
		"+1\n",
		" 1\n",
		"1 \n",
		"1x\n",
		"0x10\n",
		"18446744073709551616\n",       /* UINT64_MAX + 1 */
		"99999999999999999999\n",
		"1\r\n",
	};
	char msg[4096];

	snprintf(msg, sizeof(msg), "ERROR : \"%s\" is not a valid system identifier record\n",
		 h_path(PITR_SYSID_FILE));
	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		uint64_t got = 5;

		h_log_reset();
		h_write_file(h_path(PITR_SYSID_FILE), cases[case_idx], strlen(cases[case_idx]));
		ck_assert_msg(pitr_sysid_read(h_dir(), &got) == -1, "case \"%s\"", cases[case_idx]);
		ck_assert_uint_eq(got, 5);
		ck_assert_str_eq(h_log(), msg);
	}
	/* An embedded NUL. */
	h_log_reset();
	h_write_file(h_path(PITR_SYSID_FILE), "1\0002\n", 4);
	ck_assert_int_eq(pitr_sysid_read(h_dir(), &(uint64_t){ 0 }), -1);
	ck_assert_str_eq(h_log(), msg);
}
END_TEST

START_TEST(test_read_too_large)
{
	char big[100];
	char msg[4096];
	uint64_t got;

	memset(big, '1', sizeof(big));
	h_write_file(h_path(PITR_SYSID_FILE), big, sizeof(big));
	ck_assert_int_eq(pitr_sysid_read(h_dir(), &got), -1);
	snprintf(msg, sizeof(msg), "\"%s\" is larger than 64 bytes", h_path(PITR_SYSID_FILE));
	assert_error(msg);
}
END_TEST

START_TEST(test_read_unreadable)
{
	char msg[4096];
	uint64_t got;

	ck_assert_int_eq(mkdir(h_path(PITR_SYSID_FILE), 0700), 0);
	ck_assert_int_eq(pitr_sysid_read(h_dir(), &got), -1);
	snprintf(msg, sizeof(msg), "could not read \"%s\": Is a directory", h_path(PITR_SYSID_FILE));
	assert_error(msg);
	h_log_reset();
	ck_assert_int_eq(pitr_sysid_check_or_record(h_dir(), 1), -1);
	assert_error(msg);
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
	Suite *s = suite_create("sysid");
	TCase *tc;

	tc = tcase("check_or_record");
	tcase_add_test(tc, test_first_records);
	tcase_add_test(tc, test_extremes);
	tcase_add_test(tc, test_mismatch);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_missing_dir);
	suite_add_tcase(s, tc);

	tc = tcase("read");
	tcase_add_test(tc, test_read_none);
	tcase_add_test(tc, test_read_valid);
	tcase_add_test(tc, test_read_malformed);
	tcase_add_test(tc, test_read_too_large);
	tcase_add_test(tc, test_read_unreadable);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
