/* check_pgconn_session.c - unit tests for lib/server/pgconn.c against the
 * scripted libpq (pqfake.h): what it asks the server and how it reads each
 * answer and reports each failure; and the fake itself: that it stands in
 * for every libpq function the library calls, and that it fails a test
 * that strays from its script.  check_pgconn.c runs the real libpq. */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "harness.h"
#include "server/pgconn.h"
#include "server/pqfake.h"

#define CONNINFO_DEFAULT "fallback_application_name=pitrkit"
#define STOP_NOWAIT "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => false)"
#define STOP_WAIT "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => true)"

static const struct pitr_pgconn_params no_params;

/* A session opened on libpq's defaults; the script goes on from there. */
static struct pitr_pgconn *
open_session(void)
{
	struct pitr_pgconn *c;

	h_pq_connect(CONNINFO_DEFAULT, 1);
	c = pitr_pgconn_connect(&no_params);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* --- connecting -------------------------------------------------------- */

START_TEST(test_connect_params)
{
	struct pitr_pgconn_params p = { .dbname = "host=db1 port=5 sslmode=require",
					.host = "/run/postgresql", .port = "5433", .user = "bk" };
	struct pitr_pgconn_params only_user = { .user = "bk" };
	struct pitr_pgconn *c;

	h_setup();
	/* dbname first, so that -h -p -U override its conninfo; a full
	 * conninfo is expanded; libpq's defaults fill the rest. */
	h_pq_connect("dbname='host=db1 port=5 sslmode=require' host=/run/postgresql port=5433 "
		     "user=bk " CONNINFO_DEFAULT, 1);
	h_pq_finish();
	h_pq_connect("user=bk " CONNINFO_DEFAULT, 1);
	h_pq_finish();
	c = pitr_pgconn_connect(&p);
	ck_assert_ptr_nonnull(c);
	/* The call was made from inside libpitrkit-backup.so, and the fake
	 * answered it: the executable's definitions win over libpq's. */
	ck_assert_int_eq(h_pq_calls(), 1);
	pitr_pgconn_close(c);
	c = pitr_pgconn_connect(&only_user);
	ck_assert_ptr_nonnull(c);
	pitr_pgconn_close(c);
	ck_assert_int_eq(h_pq_calls(), 4);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_connect_fails)
{
	h_setup();
	/* libpq's message holds a line per address tried and hints: the
	 * first line is logged; the failed session is finished all the same. */
	h_pq_connect(CONNINFO_DEFAULT, 1);
	h_pq_error("connection to server at \"10.0.0.1\", port 5432 failed: Connection refused\n"
		   "\tIs the server running on that host and accepting TCP/IP connections?\n"
		   "connection to server at \"10.0.0.2\", port 5432 failed: timeout expired\n");
	h_pq_finish();
	ck_assert_ptr_null(pitr_pgconn_connect(&no_params));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"10.0.0.1\", port 5432 failed: Connection refused\n");
	h_log_reset();
	h_pq_connect(CONNINFO_DEFAULT, 1);
	h_pq_error("connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  "
		   "role \"bk\" does not exist\n");
	h_pq_finish();
	ck_assert_ptr_null(pitr_pgconn_connect(&no_params));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server on "
			 "socket \"/run/postgresql/.s.PGSQL.5432\" failed: FATAL:  role \"bk\" does not "
			 "exist\n");
	h_log_reset();
	/* No message at all. */
	h_pq_connect(CONNINFO_DEFAULT, 1);
	h_pq_error("");
	h_pq_finish();
	ck_assert_ptr_null(pitr_pgconn_connect(&no_params));
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: unknown error\n");
	h_log_reset();
	/* libpq out of memory: no session to finish. */
	h_pq_connect(CONNINFO_DEFAULT, 1);
	h_pq_null(NULL);
	ck_assert_ptr_null(pitr_pgconn_connect(&no_params));
	ck_assert_str_eq(h_log(), "ERROR : out of memory\n");
	h_teardown();
}
END_TEST

/* --- single values -------------------------------------------------- */

START_TEST(test_query_value)
{
	struct pitr_pgconn *c;
	char *v = (char *)"unset";

	h_setup();
	c = open_session();
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value("f");
	h_pq_exec("SELECT pg_last_wal_replay_lsn()");
	h_pq_value(NULL);
	h_pq_exec("SHOW data_directory");
	h_pq_rows(1, 2, "/srv/pg", "ignored");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT pg_is_in_recovery()", &v), 0);
	ck_assert_str_eq(v, "f");
	free(v);
	/* An SQL NULL reads as "". */
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT pg_last_wal_replay_lsn()", &v), 0);
	ck_assert_str_eq(v, "");
	free(v);
	/* More columns than asked for: the first. */
	ck_assert_int_eq(pitr_pgconn_show(c, "data_directory", &v), 0);
	ck_assert_str_eq(v, "/srv/pg");
	free(v);
	pitr_pgconn_close(c);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_query_failures)
{
	struct pitr_pgconn *c;
	char *v = (char *)"unset";
	char longmsg[700];

	h_setup();
	c = open_session();
	/* The server's "ERROR:  " repeats our level; the LINE and caret lines
	 * are not logged. */
	h_pq_exec("SELECT nosuch()");
	h_pq_error("ERROR:  function nosuch() does not exist\nLINE 1: SELECT nosuch()\n"
		   "               ^\nHINT:  No function matches the given name.\n");
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT nosuch()", &v), -1);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT nosuch()\" failed: function nosuch() does not "
			 "exist\n");
	h_log_reset();
	/* A command that returns no rows: not an answer, and no message. */
	h_pq_exec("CHECKPOINT");
	ck_assert_int_eq(pitr_pgconn_query_value(c, "CHECKPOINT", &v), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"CHECKPOINT\" failed: unknown error\n");
	h_log_reset();
	h_pq_exec("SELECT 1 WHERE false");
	h_pq_rows(0, 1);
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 1 WHERE false", &v), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT 1 WHERE false\" failed: expected one row of 1 "
			 "columns, got 0 rows of 1\n");
	h_log_reset();
	h_pq_exec("SELECT generate_series(1, 2)");
	h_pq_rows(2, 1, "1", "2");
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT generate_series(1, 2)", &v), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT generate_series(1, 2)\" failed: expected one "
			 "row of 1 columns, got 2 rows of 1\n");
	h_log_reset();
	/* A message longer than the line buffer is cut; trailing blanks and
	 * a carriage return go. */
	memset(longmsg, 'x', sizeof(longmsg) - 2);
	longmsg[sizeof(longmsg) - 2] = '\n';
	longmsg[sizeof(longmsg) - 1] = '\0';
	h_pq_exec("SELECT 2");
	h_pq_error(longmsg);
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 2", &v), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : query \"SELECT 2\" failed: %.511s\n", longmsg));
	h_log_reset();
	h_pq_exec("SELECT 3");
	h_pq_error("ERROR:  canceling statement due to user request \r\n");
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 3", &v), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT 3\" failed: canceling statement due to user "
			 "request\n");
	h_log_reset();
	/* The server goes away: that query fails, and the next one gets no
	 * result at all from libpq. */
	h_pq_exec("SELECT 4");
	h_pq_dies("server closed the connection unexpectedly\n\tThis probably means the server "
		  "terminated abnormally\n\tbefore or while processing the request.\n");
	h_pq_exec("SELECT 5");
	h_pq_null("no connection to the server\n");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 4", &v), -1);
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 5", &v), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT 4\" failed: server closed the connection "
			 "unexpectedly\nERROR : query \"SELECT 5\" failed: no connection to the server\n");
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

START_TEST(test_show)
{
	struct pitr_pgconn *c;
	char *v = (char *)"unset";
	char name[200];

	h_setup();
	c = open_session();
	h_pq_exec("SHOW wal_segment_size");
	h_pq_value("16MB");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_show(c, "wal_segment_size", &v), 0);
	ck_assert_str_eq(v, "16MB");
	free(v);
	/* A name too long for the statement is refused before asking. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(pitr_pgconn_show(c, name, &v), -1);
	ck_assert_ptr_null(v);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : setting name \"%s\" is too long\n", name));
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

/* --- the backup calls ------------------------------------------------ */

START_TEST(test_backup_start)
{
	struct pitr_pgconn *c;
	char *lsn = (char *)"unset";

	h_setup();
	c = open_session();
	/* The label goes as a parameter, never into the SQL text. */
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "pitrkit db1 'quoted'");
	h_pq_value("0/2000028");
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "second");
	h_pq_error("ERROR:  a backup is already in progress in this session\n");
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "third");
	h_pq_error("ERROR:  WAL level not sufficient for making an online backup\nHINT:  wal_level "
		   "must be set to \"replica\" or \"logical\" at server start.\n");
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "fourth");
	h_pq_rows(0, 1);
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_backup_start(c, "pitrkit db1 'quoted'", &lsn), 0);
	ck_assert_str_eq(lsn, "0/2000028");
	free(lsn);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_pgconn_backup_start(c, "second", &lsn), -1);
	ck_assert_ptr_null(lsn);
	ck_assert_int_eq(pitr_pgconn_backup_start(c, "third", &lsn), -1);
	ck_assert_int_eq(pitr_pgconn_backup_start(c, "fourth", &lsn), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not start the backup: a backup is already in progress "
			 "in this session\n"
			 "ERROR : could not start the backup: WAL level not sufficient for making an "
			 "online backup\n"
			 "ERROR : could not start the backup: unknown error\n");
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

START_TEST(test_backup_stop)
{
	struct pitr_pgconn *c;
	struct pitr_pgconn_backup_stop s;
	const char *label = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
		"CHECKPOINT LOCATION: 0/2000060\n";

	h_setup();
	c = open_session();
	h_pq_exec(STOP_NOWAIT);
	h_pq_rows(1, 3, "0/2000138", label, NULL);
	h_pq_exec(STOP_WAIT);
	h_pq_rows(1, 3, "0/3000100", label, "16384 /srv/ts\n");
	h_pq_exec(STOP_WAIT);
	h_pq_error("ERROR:  backup is not in progress\nHINT:  Did you call pg_backup_start()?\n");
	/* pg_backup_stop answers three columns: anything else is refused. */
	h_pq_exec(STOP_NOWAIT);
	h_pq_rows(1, 2, "0/2000138", label);
	h_pq_exec(STOP_NOWAIT);
	h_pq_dies("FATAL:  terminating connection due to administrator command\nserver closed the "
		  "connection unexpectedly\n");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, false, &s), 0);
	ck_assert_str_eq(s.lsn, "0/2000138");
	ck_assert_str_eq(s.labelfile, label);
	/* No tablespaces: an empty map, not NULL. */
	ck_assert_str_eq(s.spcmapfile, "");
	pitr_pgconn_backup_stop_free(&s);
	ck_assert_ptr_null(s.lsn);
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, true, &s), 0);
	ck_assert_str_eq(s.lsn, "0/3000100");
	ck_assert_str_eq(s.spcmapfile, "16384 /srv/ts\n");
	pitr_pgconn_backup_stop_free(&s);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, true, &s), -1);
	ck_assert_ptr_null(s.lsn);
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, false, &s), -1);
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, false, &s), -1);
	ck_assert_ptr_null(s.labelfile);
	ck_assert_str_eq(h_log(), "ERROR : could not stop the backup: backup is not in progress\n"
			 "ERROR : could not stop the backup: unknown error\n"
			 "ERROR : could not stop the backup: FATAL:  terminating connection due to "
			 "administrator command\n");
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

#define TS_SQL "SELECT oid, pg_tablespace_location(oid) FROM pg_tablespace " \
	"WHERE pg_tablespace_location(oid) LIKE '/%' ORDER BY oid"
#define SLOT_SQL "SELECT lsn FROM pg_create_physical_replication_slot($1, true, true)"

START_TEST(test_tablespaces)
{
	struct pitr_pgconn *c;
	struct pitr_pgconn_tablespace *ts = (void *)1;
	size_t n = 99;

	h_setup();
	c = open_session();
	h_pq_exec(TS_SQL);
	h_pq_rows(2, 2, "16384", "/srv/ts1", "16390", "/srv/odd dir");
	h_pq_exec(TS_SQL);
	h_pq_rows(0, 2);
	h_pq_exec(TS_SQL);
	h_pq_error("ERROR:  permission denied for table pg_tablespace\n");
	/* Two columns or nothing. */
	h_pq_exec(TS_SQL);
	h_pq_rows(1, 1, "16384");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_tablespaces(c, &ts, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(ts[0].oid, "16384");
	ck_assert_str_eq(ts[0].location, "/srv/ts1");
	ck_assert_str_eq(ts[1].oid, "16390");
	ck_assert_str_eq(ts[1].location, "/srv/odd dir");
	pitr_pgconn_tablespaces_free(ts, n);
	/* None: an empty list. */
	ck_assert_int_eq(pitr_pgconn_tablespaces(c, &ts, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(ts);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_pgconn_tablespaces(c, &ts, &n), -1);
	ck_assert_ptr_null(ts);
	ck_assert_int_eq(pitr_pgconn_tablespaces(c, &ts, &n), -1);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(h_log(), "ERROR : could not list the tablespaces: permission denied for table "
			 "pg_tablespace\n"
			 "ERROR : could not list the tablespaces: unknown error\n");
	pitr_pgconn_tablespaces_free(NULL, 0);
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

START_TEST(test_temp_slot)
{
	struct pitr_pgconn *c;
	char *lsn = (char *)"unset";

	h_setup();
	c = open_session();
	/* The name goes as a parameter; temporary, reserving WAL now. */
	h_pq_exec_params(SLOT_SQL, 1, "pitr_synch_42");
	h_pq_value("0/3000028");
	h_pq_exec_params(SLOT_SQL, 1, "pitr_synch_42");
	h_pq_error("ERROR:  replication slot \"pitr_synch_42\" already exists\n");
	h_pq_exec_params(SLOT_SQL, 1, "x");
	h_pq_error("ERROR:  replication slots can only be used if max_replication_slots > 0\n");
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_create_temp_slot(c, "pitr_synch_42", &lsn), 0);
	ck_assert_str_eq(lsn, "0/3000028");
	free(lsn);
	ck_assert_int_eq(pitr_pgconn_create_temp_slot(c, "pitr_synch_42", &lsn), -1);
	ck_assert_ptr_null(lsn);
	ck_assert_int_eq(pitr_pgconn_create_temp_slot(c, "x", &lsn), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not create replication slot \"pitr_synch_42\": "
			 "replication slot \"pitr_synch_42\" already exists\n"
			 "ERROR : could not create replication slot \"x\": replication slots can only "
			 "be used if max_replication_slots > 0\n");
	pitr_pgconn_close(c);
	h_teardown();
}
END_TEST

START_TEST(test_notices)
{
	struct pitr_pgconn *c;
	struct pitr_pgconn_backup_stop s;

	h_setup();
	/* The server's notices go to our log, verbose, first line only. */
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	c = open_session();
	for (int i = 0; i < 3; i++) {
		h_pq_exec(STOP_WAIT);
		h_pq_notice(i == 1 ? "" : "NOTICE:  all required WAL segments have been archived\n");
		h_pq_rows(1, 3, "0/3000100", "label", "");
	}
	h_pq_finish();
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, true, &s), 0);
	pitr_pgconn_backup_stop_free(&s);
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, true, &s), 0);
	pitr_pgconn_backup_stop_free(&s);
	ck_assert_str_eq(h_log(), "LOG : server: NOTICE:  all required WAL segments have been "
			 "archived\nLOG : server: unknown error\n");
	h_log_reset();
	/* Not verbose: not logged. */
	ck_assert_int_eq(pitr_log_open("check", NULL, false), 0);
	ck_assert_int_eq(pitr_pgconn_backup_stop(c, true, &s), 0);
	pitr_pgconn_backup_stop_free(&s);
	pitr_pgconn_close(c);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* --- the fake itself ------------------------------------------------- */

static char failures[4096];

static void
record_failure(const char *message)
{
	snprintf(failures + strlen(failures), sizeof(failures) - strlen(failures), "%s\n", message);
}

/* Arm the recorder (h_pq_reset disarms it). */
static void
record(void)
{
	failures[0] = '\0';
	h_pq_on_failure(record_failure);
}

START_TEST(test_fake_order)
{
	struct pitr_pgconn *c;
	char *v;

	h_setup();
	/* Another statement than the next one scripted. */
	record();
	c = open_session();
	h_pq_exec("SELECT 1");
	h_pq_value("1");
	ck_assert_int_eq(pitr_pgconn_query_value(c, "SELECT 2", &v), -1);
	ck_assert_str_eq(failures, "libpq call 2: expected PQexec(\"SELECT 1\"), got "
			 "PQexec(\"SELECT 2\")\n");
	pitr_pgconn_close(c);
	/* A call beyond the script. */
	h_pq_reset();
	record();
	c = open_session();
	pitr_pgconn_close(c);
	ck_assert_str_eq(failures, "libpq call 2: PQfinish() is not in the script (1 calls)\n");
	/* A parameter that does not match its pattern. */
	h_pq_reset();
	record();
	c = open_session();
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "pitrkit *");
	ck_assert_int_eq(pitr_pgconn_backup_start(c, "other label", &v), -1);
	ck_assert_str_eq(failures, "libpq call 2: expected PQexecParams(\"SELECT pg_backup_start($1, "
			 "fast => true)\", \"pitrkit *\"), got PQexecParams(\"SELECT "
			 "pg_backup_start($1, fast => true)\", \"other label\")\n");
	pitr_pgconn_close(c);
	/* Another connection string. */
	h_pq_reset();
	record();
	h_pq_connect("dbname=db1 " CONNINFO_DEFAULT, 1);
	ck_assert_ptr_null(pitr_pgconn_connect(&no_params));
	ck_assert_str_eq(failures, "libpq call 1: expected PQconnectdbParams(\"dbname=db1 "
			 CONNINFO_DEFAULT "\", expand_dbname=1), got PQconnectdbParams(\""
			 CONNINFO_DEFAULT "\", expand_dbname=1)\n");
	/* A scripted call never made. */
	h_pq_reset();
	record();
	c = open_session();
	h_pq_finish();
	h_pq_exec("SELECT 1");
	h_pq_value("1");
	pitr_pgconn_close(c);
	h_pq_done();
	ck_assert_str_eq(failures, "libpq script: call 3, PQexec(\"SELECT 1\"), was not made (2 of 3 "
			 "calls made)\n");
	h_teardown();
}
END_TEST

START_TEST(test_fake_handles)
{
	PGconn *conn;
	PGresult *res;
	const char *keys[] = { "dbname", NULL }, *vals[] = { "x", NULL };

	h_setup();
	record();
	h_pq_connect("dbname=x", 0);
	h_pq_exec("SELECT 1");
	h_pq_value("1");
	h_pq_exec("SELECT 2");
	h_pq_notice("NOTICE:  nobody listens\n");
	h_pq_exec("SELECT 3");
	h_pq_dies("server closed the connection unexpectedly\n");
	h_pq_exec("SELECT 4");
	h_pq_value("4");
	conn = PQconnectdbParams(keys, vals, 0);
	ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
	res = PQexec(conn, "SELECT 1");
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1");
	ck_assert_ptr_null(PQgetvalue(res, 1, 0));
	ck_assert_int_eq(PQgetisnull(res, 0, 1), 1);
	ck_assert_str_eq(failures, "PQgetvalue(row 1, column 0) outside the 1 rows of 1 columns of call "
			 "2 PQexec(\"SELECT 1\")\n"
			 "PQgetisnull(row 0, column 1) outside the 1 rows of 1 columns of call 2 "
			 "PQexec(\"SELECT 1\")\n");
	failures[0] = '\0';
	PQclear(res);
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	ck_assert_str_eq(failures, "PQntuples on the result of call 2 PQexec(\"SELECT 1\") after "
			 "PQclear\nPQclear of the result of call 2 PQexec(\"SELECT 1\"), cleared already\n");
	failures[0] = '\0';
	/* A notice needs the session's processor. */
	PQclear(PQexec(conn, "SELECT 2"));
	ck_assert_str_eq(failures, "libpq call 3: PQexec(\"SELECT 2\") has a notice for the session, "
			 "which has no notice processor\n");
	failures[0] = '\0';
	/* On a lost session libpq returns no result. */
	PQclear(PQexec(conn, "SELECT 3"));
	ck_assert_int_eq(PQstatus(conn), CONNECTION_BAD);
	ck_assert_ptr_null(PQexec(conn, "SELECT 4"));
	ck_assert_str_eq(failures, "libpq call 5: PQexec(\"SELECT 4\") on a lost session returns NULL: "
			 "script it with h_pq_null\n");
	failures[0] = '\0';
	/* Results and sessions left open at the end. */
	h_pq_done();
	ck_assert_str_eq(failures, "libpq script: the session of call 1 was never finished\n");
	record();
	h_pq_connect("dbname=x", 0);
	h_pq_exec("SELECT 1");
	h_pq_value("1");
	h_pq_finish();
	conn = PQconnectdbParams(keys, vals, 0);
	res = PQexec(conn, "SELECT 1");
	PQfinish(conn);
	ck_assert_ptr_null(PQexec(conn, "SELECT 1"));
	ck_assert_str_eq(failures, "PQexec on the session of call 1 after PQfinish (call 3)\n");
	failures[0] = '\0';
	h_pq_done();
	ck_assert_str_eq(failures, "libpq script: the result of call 2 PQexec(\"SELECT 1\") was never "
			 "cleared\n");
	(void)res;
	h_teardown();
}
END_TEST

/* Every libpq function libpitrkit-backup.so imports is one the fake
 * defines: one it did not would reach the real libpq with the fake's
 * handles. */
START_TEST(test_fake_covers_library)
{
	const char *builddir = getenv("PITR_BUILDDIR");
	char cmd[4096], line[256];
	FILE *p;
	int n = 0;

	ck_assert_ptr_nonnull(builddir);
	snprintf(cmd, sizeof(cmd), "nm -D --undefined-only '%s/lib/.libs/libpitrkit-backup.so'",
		 builddir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	while (fgets(line, sizeof(line), p) != NULL) {
		char sym[200];
		bool found = false;

		if (sscanf(line, " U %199s", sym) != 1 || strncmp(sym, "PQ", 2) != 0)
			continue;
		for (size_t i = 0; h_pq_defined[i] != NULL && !found; i++)
			found = strcmp(h_pq_defined[i], sym) == 0;
		ck_assert_msg(found, "libpitrkit-backup.so calls %s, which pqfake.c does not define", sym);
		n++;
	}
	ck_assert_int_eq(pclose(p), 0);
	/* nm read the library: pgconn.c alone calls a dozen. */
	ck_assert_int_ge(n, 10);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("pgconn_session");
	TCase *tc = tcase_create("connect");

	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_connect_params);
	tcase_add_test(tc, test_connect_fails);
	suite_add_tcase(s, tc);
	tc = tcase_create("query");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_query_value);
	tcase_add_test(tc, test_query_failures);
	tcase_add_test(tc, test_show);
	suite_add_tcase(s, tc);
	tc = tcase_create("backup");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_backup_start);
	tcase_add_test(tc, test_backup_stop);
	tcase_add_test(tc, test_notices);
	tcase_add_test(tc, test_tablespaces);
	tcase_add_test(tc, test_temp_slot);
	suite_add_tcase(s, tc);
	tc = tcase_create("fake");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_fake_order);
	tcase_add_test(tc, test_fake_handles);
	tcase_add_test(tc, test_fake_covers_library);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
