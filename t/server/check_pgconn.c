/* check_pgconn.c - unit tests for lib/server/pgconn.c (no server needed: the
 * failure paths of connecting). */
#include "config.h"

#include <check.h>
#include <stdlib.h>

#include "harness.h"
#include "server/pgconn.h"

START_TEST(test_connect_refused)
{
	struct pitr_pgconn_params p = { .host = "127.0.0.1", .port = "1", .user = "nobody" };

	h_setup();
	ck_assert_ptr_null(pitr_pgconn_connect(&p));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	h_teardown();
}
END_TEST

START_TEST(test_connect_conninfo)
{
	/* A full conninfo in dbname is expanded; an explicit port wins. */
	struct pitr_pgconn_params p = { .dbname = "host=127.0.0.1 port=2 connect_timeout=5",
					.port = "1" };
	struct pitr_pgconn_params bad = { .dbname = "host=127.0.0.1 nosuchkey=1" };

	h_setup();
	ck_assert_ptr_null(pitr_pgconn_connect(&p));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	h_log_reset();
	ck_assert_ptr_null(pitr_pgconn_connect(&bad));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: invalid connection "
			 "option \"nosuchkey\"\n");
	h_teardown();
}
END_TEST

START_TEST(test_close_null)
{
	struct pitr_pgconn_backup_stop s = { 0 };

	pitr_pgconn_close(NULL);
	pitr_pgconn_backup_stop_free(&s);
	ck_assert_ptr_null(s.lsn);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("pgconn");
	TCase *tc = tcase_create("connect");

	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_connect_conninfo);
	suite_add_tcase(s, tc);
	tc = tcase_create("close");
	tcase_add_test(tc, test_close_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
