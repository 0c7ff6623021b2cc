/* check_cmd_backup.c - unit tests for lib/cmd_backup.c: file name
 * templates and the refusals that come before any server contact. */
#include "config.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_backup.h"
#include "harness.h"

START_TEST(test_expand_template)
{
	/* 2024-02-29 13:14:15 UTC */
	long when = 1709212455;
	char *s;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	s = pitr_backup_expand_template(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "data", ".gz", when);
	ck_assert_str_eq(s, "db1-data-2024-02-29.tar.gz");
	free(s);
	s = pitr_backup_expand_template("__FILETYPE__-^H^M%__HOSTNAME__.tar__CEXT__", "h%d", "meta", "",
					when);
	ck_assert_str_eq(s, "meta-1314%h%d.tar");
	free(s);
	ck_assert_str_eq(h_log(), "");
	ck_assert_ptr_null(pitr_backup_expand_template("a/__FILETYPE__", "h", "xlog", "", when));
	ck_assert_str_eq(h_log(), "ERROR : filename template \"a/__FILETYPE__\" gives \"a/xlog\" for the "
			 "xlog file: not a file name\n");
	h_log_reset();
	ck_assert_ptr_null(pitr_backup_expand_template("", "h", "data", "", when));
	ck_assert_str_eq(h_log(), "ERROR : filename template \"\" gives \"\" for the data file: not a "
			 "file name\n");
	h_teardown();
}
END_TEST

START_TEST(test_refusals)
{
	const char *dl[] = { "/nonexistent-dest" };
	const char *baddl[] = { "nocodec=/x" };
	struct pitr_backup_opts o = { 0 };

	h_setup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no destination given: use --dst-local, --dst-remote or "
			 "--dst-pipe\n");
	h_log_reset();
	o.dst_local = baddl;
	o.ndst_local = 1;
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "--dst-local"));
	h_log_reset();
	o.dst_local = dl;
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --xlogs dir given: it must be the --dst-backup dir of "
			 "pitr-archive\n");
	h_log_reset();
	o.xlogs = "rel/x";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : --xlogs \"rel/x\" must be an absolute path\n");
	h_log_reset();
	o.xlogs = h_path("x");
	o.host = "127.0.0.1";
	o.port = "1";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	ck_assert(!h_exists(h_path("x")));
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_backup");
	TCase *tc = tcase_create("expand_template");

	tcase_add_test(tc, test_expand_template);
	suite_add_tcase(s, tc);
	tc = tcase_create("backup_master");
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
