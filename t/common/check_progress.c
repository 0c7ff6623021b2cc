/*
 * check_progress.c - unit tests for the progress line: its format, rate
 * and time left, when it is drawn and logged, and that nothing is written
 * when stderr is not a terminal.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "common/log.h"
#include "common/progress.h"

#define ERASE "\r\033[K"
#define MiB (1024ull * 1024)

static int saved_stderr = -1;
static double fake_now;

static double
fake_clock(void)
{
	return fake_now;
}

static void
setup(void)
{
	h_setup();
	fake_now = 1000.0;
	pitr_progress_set_clock(fake_clock);
}

static void
teardown(void)
{
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	pitr_log_force_terminal(-1);
	pitr_progress_set_clock(NULL);
	h_teardown();
}

static void
stderr_begin(void)
{
	int fd = open(h_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static char *
stderr_end(void)
{
	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	return h_read_file(h_path("stderr.txt"), NULL);
}

static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *pos = strstr(hay, needle); pos != NULL; pos = strstr(pos + 1, needle))
		n++;
	return n;
}

static const char *
fmt_state(const char *what, uint64_t bytes, uint64_t total_bytes, uint64_t files,
	  uint64_t total_files, double elapsed_ms)
{
	static char out[256];
	const struct pitr_progress_state st = { what, bytes, total_bytes, files, total_files,
						elapsed_ms };

	ck_assert_int_eq(pitr_progress_format(out, sizeof(out), &st), (int)strlen(out));
	return out;
}

/* --- formatting ---------------------------------------------------------- */

START_TEST(test_format_bytes)
{
	char out[32];

	pitr_progress_format_bytes(0, out, sizeof(out));
	ck_assert_str_eq(out, "0 B");
	pitr_progress_format_bytes(1023, out, sizeof(out));
	ck_assert_str_eq(out, "1023 B");
	pitr_progress_format_bytes(1024, out, sizeof(out));
	ck_assert_str_eq(out, "1.0 KiB");
	pitr_progress_format_bytes(1536, out, sizeof(out));
	ck_assert_str_eq(out, "1.5 KiB");
	/* Never "1024.0 KiB": it moves to the next unit. */
	pitr_progress_format_bytes(MiB - 1, out, sizeof(out));
	ck_assert_str_eq(out, "1.0 MiB");
	pitr_progress_format_bytes(300 * MiB, out, sizeof(out));
	ck_assert_str_eq(out, "300.0 MiB");
	pitr_progress_format_bytes(20 * 1024 * MiB + 512 * MiB, out, sizeof(out));
	ck_assert_str_eq(out, "20.5 GiB");
	pitr_progress_format_bytes(3 * 1024 * 1024 * MiB, out, sizeof(out));
	ck_assert_str_eq(out, "3.0 TiB");
}
END_TEST

START_TEST(test_format_duration)
{
	char out[32];

	pitr_progress_format_duration(0, out, sizeof(out));
	ck_assert_str_eq(out, "0s");
	pitr_progress_format_duration(-5, out, sizeof(out));
	ck_assert_str_eq(out, "0s");
	pitr_progress_format_duration(59.9, out, sizeof(out));
	ck_assert_str_eq(out, "59s");
	pitr_progress_format_duration(185, out, sizeof(out));
	ck_assert_str_eq(out, "3m05s");
	pitr_progress_format_duration(7620, out, sizeof(out));
	ck_assert_str_eq(out, "2h07m");
}
END_TEST

START_TEST(test_format_known_total)
{
	/* 12 MiB in 2 s: 6 MiB/s, 288 MiB left: 48 s. */
	ck_assert_str_eq(fmt_state("data", 12 * MiB, 300 * MiB, 10, 900, 2000),
			 "data: 12.0 MiB of 300.0 MiB (4%), 10 of 900 files, 6.0 MiB/s, 48s left");
	ck_assert_str_eq(fmt_state("data", 150 * MiB, 300 * MiB, 450, 900, 10000),
			 "data: 150.0 MiB of 300.0 MiB (50%), 450 of 900 files, 15.0 MiB/s, 10s left");
}
END_TEST

START_TEST(test_format_unknown_total)
{
	ck_assert_str_eq(fmt_state("data", 12 * MiB, 0, 10, 0, 2000),
			 "data: 12.0 MiB, 10 files, 6.0 MiB/s");
}
END_TEST

START_TEST(test_format_first_second)
{
	/* No rate, so no time left, before a second has passed. */
	ck_assert_str_eq(fmt_state("data", 1 * MiB, 300 * MiB, 1, 900, 999),
			 "data: 1.0 MiB of 300.0 MiB (0%), 1 of 900 files");
}
END_TEST

START_TEST(test_format_estimate_short)
{
	/* One byte short of the total: 99 %, never 100 % before the end. */
	ck_assert_str_eq(fmt_state("data", 100 * MiB - 1, 100 * MiB, 0, 0, 1000),
			 "data: 100.0 MiB of 100.0 MiB (99%), 100.0 MiB/s, 0s left");
	/* Past the estimate: the counts alone, no time left. */
	ck_assert_str_eq(fmt_state("data", 110 * MiB, 100 * MiB, 1001, 1000, 1000),
			 "data: 110.0 MiB, 1001 files, 110.0 MiB/s");
}
END_TEST

START_TEST(test_format_no_files)
{
	ck_assert_str_eq(fmt_state("replay", 1 * MiB, 2 * MiB, 0, 0, 1000),
			 "replay: 1.0 MiB of 2.0 MiB (50%), 1.0 MiB/s, 1s left");
}
END_TEST

START_TEST(test_format_truncated)
{
	char out[8];
	const struct pitr_progress_state st = { "data", 12 * MiB, 0, 0, 0, 0 };

	/* As snprintf: the full length, the text cut and terminated. */
	ck_assert_int_eq(pitr_progress_format(out, sizeof(out), &st), 14);
	ck_assert_str_eq(out, "data: 1");
}
END_TEST

/* --- drawing ------------------------------------------------------------- */

START_TEST(test_draw_throttled)
{
	struct pitr_progress *p;
	char *err;

	pitr_log_force_terminal(1);
	stderr_begin();
	p = pitr_progress_new("data", 10 * MiB, 10);
	ck_assert_ptr_nonnull(p);
	pitr_progress_add(p, MiB, 1);       /* at once: not yet */
	fake_now += 100;
	pitr_progress_add(p, MiB, 1);       /* 100 ms: not yet */
	fake_now += 200;
	pitr_progress_add(p, MiB, 1);       /* 300 ms: drawn */
	fake_now += 100;
	pitr_progress_add(p, MiB, 1);       /* 100 ms after: not again */
	fake_now += 900;
	pitr_progress_add(p, MiB, 1);       /* drawn, with a rate now */
	pitr_progress_finish(p);
	err = stderr_end();
	ck_assert_str_eq(err,
			 ERASE "data: 3.0 MiB of 10.0 MiB (30%), 3 of 10 files"
			 ERASE "data: 5.0 MiB of 10.0 MiB (50%), 5 of 10 files, 3.8 MiB/s, 1s left"
			 ERASE);
	free(err);
	/* Not verbose: no LOG line. */
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_not_terminal_silent)
{
	struct pitr_progress *p;
	char *err;

	pitr_log_force_terminal(0);
	stderr_begin();
	p = pitr_progress_new("data", 10 * MiB, 10);
	for (int i = 0; i < 10; i++) {
		fake_now += 2000;
		pitr_progress_add(p, MiB, 1);
	}
	pitr_progress_finish(p);
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_verbose_log_lines)
{
	struct pitr_progress *p;
	char *err;

	/* -v, not a terminal: LOG lines at each tenth and every 10 s. */
	ck_assert_int_eq(pitr_log_open("check", h_path("v.log"), true), 0);
	pitr_log_force_terminal(0);
	stderr_begin();
	p = pitr_progress_new("data", 100 * MiB, 0);
	fake_now += 1000;
	pitr_progress_add(p, 5 * MiB, 0);   /* 5 %: nothing */
	fake_now += 1000;
	pitr_progress_add(p, 6 * MiB, 0);   /* 11 %: a line */
	fake_now += 1000;
	pitr_progress_add(p, 1 * MiB, 0);   /* 12 %: nothing */
	fake_now += 10000;
	pitr_progress_add(p, 1 * MiB, 0);   /* 10 s later: a line */
	pitr_progress_add(p, 87 * MiB, 0);  /* 100 %: left to the final line */
	pitr_progress_finish(p);
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_str_eq(h_log(),
			 "LOG : data: 11.0 MiB of 100.0 MiB (11%), 5.5 MiB/s, 16s left\n"
			 "LOG : data: 13.0 MiB of 100.0 MiB (13%), 1.0 MiB/s, 1m27s left\n"
			 "LOG : data: 100.0 MiB in 13s, 7.7 MiB/s\n");
}
END_TEST

START_TEST(test_log_line_over_status)
{
	struct pitr_progress *p;
	char *err;

	/* A log line on the terminal erases the status line and draws it
	 * again below itself. */
	pitr_log_force_terminal(1);
	stderr_begin();
	p = pitr_progress_new("replay", 0, 0);
	fake_now += 1000;
	pitr_progress_set(p, 2 * MiB, 0);
	pitr_log_error("boom");
	pitr_progress_free(p);
	err = stderr_end();
	ck_assert_str_eq(err, ERASE "replay: 2.0 MiB, 2.0 MiB/s"
			 ERASE "check: ERROR: boom\n" "replay: 2.0 MiB, 2.0 MiB/s" ERASE);
	ck_assert_int_eq(count(err, "\n"), 1);
	free(err);
}
END_TEST

START_TEST(test_null_safe)
{
	pitr_progress_add(NULL, 1, 1);
	pitr_progress_set(NULL, 1, 1);
	pitr_progress_set_total(NULL, 1, 1);
	pitr_progress_finish(NULL);
	pitr_progress_free(NULL);
}
END_TEST

START_TEST(test_set_total_later)
{
	struct pitr_progress *p;
	char *err;

	pitr_log_force_terminal(1);
	stderr_begin();
	p = pitr_progress_new("data", 0, 0);
	pitr_progress_set_total(p, 4 * MiB, 2);
	fake_now += 2000;
	pitr_progress_add(p, 2 * MiB, 1);
	pitr_progress_free(p);
	err = stderr_end();
	ck_assert_str_eq(err, ERASE "data: 2.0 MiB of 4.0 MiB (50%), 1 of 2 files, 1.0 MiB/s, 2s left"
			 ERASE);
	free(err);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("format");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_bytes);
	tcase_add_test(tc, test_format_duration);
	tcase_add_test(tc, test_format_known_total);
	tcase_add_test(tc, test_format_unknown_total);
	tcase_add_test(tc, test_format_first_second);
	tcase_add_test(tc, test_format_estimate_short);
	tcase_add_test(tc, test_format_no_files);
	tcase_add_test(tc, test_format_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("draw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_draw_throttled);
	tcase_add_test(tc, test_not_terminal_silent);
	tcase_add_test(tc, test_verbose_log_lines);
	tcase_add_test(tc, test_log_line_over_status);
	tcase_add_test(tc, test_null_safe);
	tcase_add_test(tc, test_set_total_later);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
