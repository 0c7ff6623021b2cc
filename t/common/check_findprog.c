/*
 * check_findprog.c - unit tests for finding programs on PATH and in
 * PostgreSQL's bin directories.
 *
 * PATH points into the scratch directory (each test runs in its own
 * process, so changing the environment and the working directory is
 * safe).  /usr/lib/postgresql is only read.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "common/findprog.h"

#define PROG "pitrkit-findprog-test"

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
make_dir(const char *name)
{
	ck_assert_int_eq(mkdir(h_path(name), 0755), 0);
}

/* A file `dir`/PROG with `mode`; returns its path (as h_path's). */
static const char *
make_prog(const char *dir, mode_t mode)
{
	const char *path = h_path(h_fmt("%s/%s", dir, PROG));

	h_write_file(path, "#!/bin/sh\n", 10);
	ck_assert_int_eq(chmod(path, mode), 0);
	return path;
}

/* pitr_findprog_on_path(PROG) with PATH set to `path`: the answer. */
static void
assert_found(const char *path, const char *want)
{
	char *got;

	ck_assert_int_eq(setenv("PATH", path, 1), 0);
	got = pitr_findprog_on_path(PROG);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_str_eq(h_log(), "");
}

static void
assert_not_found(void)
{
	errno = 0;
	ck_assert_ptr_null(pitr_findprog_on_path(PROG));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(h_log(), "");
}

/* --- pitr_findprog_executable ---------------------------------------- */

START_TEST(test_executable)
{
	make_dir("d");
	ck_assert(pitr_findprog_executable(make_prog("d", 0755)));
	ck_assert(!pitr_findprog_executable(make_prog("d", 0644)));
	ck_assert(!pitr_findprog_executable(h_path("d")));
	ck_assert(!pitr_findprog_executable(h_path("missing")));
}
END_TEST

/* --- pitr_findprog_on_path ------------------------------------------- */

START_TEST(test_on_path_first_executable_in_order)
{
	const char *one, *two;

	make_dir("one");
	make_dir("two");
	make_dir("three");
	one = make_prog("one", 0755);
	two = make_prog("two", 0755);
	assert_found(h_fmt("%s:%s:%s", h_path("three"), h_path("one"), h_path("two")), one);
	assert_found(h_fmt("%s:%s", h_path("two"), h_path("one")), two);
}
END_TEST

START_TEST(test_on_path_skips_what_cannot_run)
{
	const char *two;

	make_dir("one");
	make_dir("two");
	make_dir("dir");
	make_prog("one", 0644);
	/* A directory with the program's name. */
	make_dir(h_fmt("dir/%s", PROG));
	two = make_prog("two", 0755);
	assert_found(h_fmt("%s:%s:%s:%s", h_path("missing"), h_path("one"), h_path("dir"),
			   h_path("two")), two);
}
END_TEST

/* An empty entry, first, last or in between, is the working directory. */
START_TEST(test_on_path_empty_entry_is_working_directory)
{
	make_dir("d");
	make_prog("d", 0755);
	ck_assert_int_eq(chdir(h_path("d")), 0);
	assert_found(h_fmt("%s:", h_path("missing")), "./" PROG);
	assert_found(h_fmt(":%s", h_path("missing")), "./" PROG);
	assert_found(h_fmt("%s::%s", h_path("missing"), h_path("missing")), "./" PROG);
}
END_TEST

START_TEST(test_on_path_not_found_is_silent)
{
	make_dir("one");
	make_prog("one", 0644);
	ck_assert_int_eq(setenv("PATH", h_fmt("%s:%s", h_path("one"), h_path("missing")), 1), 0);
	assert_not_found();
}
END_TEST

START_TEST(test_on_path_unset_or_empty_holds_nothing)
{
	make_dir("d");
	make_prog("d", 0755);
	ck_assert_int_eq(chdir(h_path("d")), 0);
	ck_assert_int_eq(setenv("PATH", "", 1), 0);
	assert_not_found();
	ck_assert_int_eq(unsetenv("PATH"), 0);
	assert_not_found();
}
END_TEST

/* --- pitr_findprog_pgbin, pitr_findprog_pgbin_any -------------------- */

START_TEST(test_pgbin_path)
{
	char *path = pitr_findprog_pgbin("15", "pg_ctl");

	ck_assert_str_eq(path, "/usr/lib/postgresql/15/bin/pg_ctl");
	free(path);
	path = pitr_findprog_pgbin("9.6", "pg_controldata");
	ck_assert_str_eq(path, "/usr/lib/postgresql/9.6/bin/pg_controldata");
	free(path);
}
END_TEST

START_TEST(test_pgbin_any_missing)
{
	ck_assert(!pitr_findprog_pgbin_any(PROG));
}
END_TEST

/* Whatever this machine has installed, the answer agrees with a look of
 * our own. */
START_TEST(test_pgbin_any_agrees_with_the_disk)
{
	bool want = false;
	glob_t g;

	if (glob("/usr/lib/postgresql/*/bin/pg_ctl", 0, NULL, &g) == 0)
		for (size_t match_idx = 0; match_idx < g.gl_pathc; match_idx++)
			want = want || access(g.gl_pathv[match_idx], X_OK) == 0;
	globfree(&g);
	ck_assert_int_eq(pitr_findprog_pgbin_any("pg_ctl"), want);
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
	Suite *s = suite_create("findprog");
	TCase *tc;

	tc = tcase("executable");
	tcase_add_test(tc, test_executable);
	suite_add_tcase(s, tc);

	tc = tcase("on_path");
	tcase_add_test(tc, test_on_path_first_executable_in_order);
	tcase_add_test(tc, test_on_path_skips_what_cannot_run);
	tcase_add_test(tc, test_on_path_empty_entry_is_working_directory);
	tcase_add_test(tc, test_on_path_not_found_is_silent);
	tcase_add_test(tc, test_on_path_unset_or_empty_holds_nothing);
	suite_add_tcase(s, tc);

	tc = tcase("pgbin");
	tcase_add_test(tc, test_pgbin_path);
	tcase_add_test(tc, test_pgbin_any_missing);
	tcase_add_test(tc, test_pgbin_any_agrees_with_the_disk);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
