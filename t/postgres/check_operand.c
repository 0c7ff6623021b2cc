/*
 * check_operand.c - unit tests for telling PostgreSQL's %f, %p and %r
 * operands apart: every rule and every refusal.
 */
#include "config.h"

#include <stdio.h>

#include "harness.h"
#include "postgres/operand.h"

/* A NULL-terminated operand list and its length. */
#define OPS(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOPS(ops) nops_of(ops)

static size_t
nops_of(const char *const *ops)
{
	size_t n = 0;

	while (ops[n] != NULL)
		n++;
	return n;
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

static void
assert_error(const char *msg)
{
	char want[1024];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
}

/* --- pitr_operand_archive ----------------------------------------------- */

START_TEST(test_archive_one)
{
	const char *const *ops = OPS("pg_wal/000000010000000000000001");
	const char *path = NULL;

	ck_assert_int_eq(pitr_operand_archive(ops, 1, &path), 0);
	ck_assert_ptr_eq(path, ops[0]);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_archive_refusals)
{
	const char *path = "unchanged";

	ck_assert_int_eq(pitr_operand_archive(OPS(NULL), 0, &path), -1);
	assert_error("no WAL file given: archive_command must pass \"%p\"");
	ck_assert_int_eq(pitr_operand_archive(OPS("pg_wal/a", "pg_wal/b"), 2, &path), -1);
	assert_error("more than one WAL file given: archive_command must pass only \"%p\"");
	ck_assert_str_eq(path, "unchanged");
}
END_TEST

/* --- pitr_operand_cleanup ----------------------------------------------- */

START_TEST(test_cleanup_one)
{
	const char *const *ops = OPS("000000010000000000000003");
	const char *segment = NULL;

	ck_assert_int_eq(pitr_operand_cleanup(ops, 1, &segment), 0);
	ck_assert_ptr_eq(segment, ops[0]);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_cleanup_refusals)
{
	const char *segment = "unchanged";

	ck_assert_int_eq(pitr_operand_cleanup(OPS(NULL), 0, &segment), -1);
	assert_error("no WAL segment given: archive_cleanup_command must pass \"%r\"");
	ck_assert_int_eq(pitr_operand_cleanup(OPS("a", "b", "c"), 3, &segment), -1);
	assert_error("more than one operand given: archive_cleanup_command passes only \"%r\"");
	ck_assert_str_eq(segment, "unchanged");
}
END_TEST

/* --- pitr_operand_restore ----------------------------------------------- */

/* Resolve `ops` and assert which is %f, %p and %r (NULL: none). */
static void
assert_restore(const char *const *ops, bool want_cutoff, long after_r, const char *f,
	       const char *p, const char *r)
{
	struct pitr_operand_restore out;

	ck_assert_int_eq(pitr_operand_restore(ops, NOPS(ops), want_cutoff, after_r, &out), 0);
	ck_assert_str_eq(out.wal_name, f);
	ck_assert_str_eq(out.wal_path, p);
	if (r == NULL)
		ck_assert_ptr_null(out.cutoff);
	else
		ck_assert_str_eq(out.cutoff, r);
	ck_assert_str_eq(h_log(), "");
}

START_TEST(test_restore_pair)
{
	/* "%f %p" in that order, with or without a bare -r (whose cutoff
	 * then comes from pg_controldata). */
	assert_restore(OPS("000000010000000000000002", "pg_wal/RECOVERYXLOG"), false, -1,
		       "000000010000000000000002", "pg_wal/RECOVERYXLOG", NULL);
	assert_restore(OPS("00000002.history", "pg_wal/RECOVERYHISTORY"), true, -1,
		       "00000002.history", "pg_wal/RECOVERYHISTORY", NULL);
	/* Two operands are taken as given, even without a slash. */
	assert_restore(OPS("f", "p"), true, 0, "f", "p", NULL);
}
END_TEST

START_TEST(test_restore_cutoff_by_slash)
{
	/* %p is the one operand with a slash: %f before it, %r the other,
	 * wherever -r stood. */
	assert_restore(OPS("R", "F", "pg_wal/P"), true, -1, "F", "pg_wal/P", "R");
	assert_restore(OPS("R", "F", "pg_wal/P"), true, 2, "F", "pg_wal/P", "R");
	assert_restore(OPS("F", "pg_wal/P", "R"), true, -1, "F", "pg_wal/P", "R");
	assert_restore(OPS("F", "pg_wal/P", "R"), true, 0, "F", "pg_wal/P", "R");
}
END_TEST

START_TEST(test_restore_cutoff_after_r)
{
	/* No slash: the operand after the bare -r, else the last. */
	assert_restore(OPS("R", "F", "P"), true, 0, "F", "P", "R");
	assert_restore(OPS("F", "R", "P"), true, 1, "F", "P", "R");
	assert_restore(OPS("F", "P", "R"), true, 2, "F", "P", "R");
	assert_restore(OPS("F", "P", "R"), true, -1, "F", "P", "R");
	/* An index beyond the operands counts as none. */
	assert_restore(OPS("F", "P", "R"), true, 3, "F", "P", "R");
	/* A slash in the first operand or in several is no guide either. */
	assert_restore(OPS("/a/P", "R", "F"), true, 1, "/a/P", "F", "R");
	assert_restore(OPS("R", "/a/F", "pg_wal/P"), true, 0, "/a/F", "pg_wal/P", "R");
	assert_restore(OPS("/a/F", "pg_wal/P", "/b/R"), true, -1, "/a/F", "pg_wal/P", "/b/R");
}
END_TEST

START_TEST(test_restore_refusals)
{
	struct pitr_operand_restore out;

	ck_assert_int_eq(pitr_operand_restore(OPS(NULL), 0, false, -1, &out), -1);
	assert_error("WAL file name and destination not given: restore_command must pass "
		     "\"%f\" \"%p\"");
	ck_assert_int_eq(pitr_operand_restore(OPS("F"), 1, true, 0, &out), -1);
	assert_error("WAL file name and destination not given: restore_command must pass "
		     "\"%f\" \"%p\"");
	ck_assert_ptr_null(out.wal_name);
	/* Three without a bare -r, four with one. */
	ck_assert_int_eq(pitr_operand_restore(OPS("R", "F", "pg_wal/P"), 3, false, -1, &out), -1);
	assert_error("too many operands: restore_command passes \"%f\" \"%p\", and \"%r\" only "
		     "after --remove-unneeded");
	ck_assert_int_eq(pitr_operand_restore(OPS("R", "F", "pg_wal/P", "X"), 4, true, 0, &out),
			 -1);
	assert_error("too many operands: restore_command passes \"%f\" \"%p\", and \"%r\" only "
		     "after --remove-unneeded");
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
	Suite *s = suite_create("operand");
	TCase *tc;

	tc = tcase("pitr_operand_archive");
	tcase_add_test(tc, test_archive_one);
	tcase_add_test(tc, test_archive_refusals);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_operand_cleanup");
	tcase_add_test(tc, test_cleanup_one);
	tcase_add_test(tc, test_cleanup_refusals);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_operand_restore");
	tcase_add_test(tc, test_restore_pair);
	tcase_add_test(tc, test_restore_cutoff_by_slash);
	tcase_add_test(tc, test_restore_cutoff_after_r);
	tcase_add_test(tc, test_restore_refusals);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
