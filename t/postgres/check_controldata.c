/*
 * check_controldata.c - unit tests for reading pg_controldata: parsing
 * real output (captured once from a PostgreSQL 15 cluster made with
 * --wal-segsize=1), finding the program, and running it, failures
 * included.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postgres/controldata.h"
#include "harness.h"

/* `pg_controldata` of a fresh PostgreSQL 15 cluster (initdb --wal-segsize=1). */
static const char real_output[] =
	"pg_control version number:            1300\n"
	"Catalog version number:               202209061\n"
	"Database system identifier:           7710736091634171201\n"
	"Database cluster state:               shut down\n"
	"pg_control last modified:             Sat Nov 21 21:14:08 2026\n"
	"Latest checkpoint location:           0/611AA8\n"
	"Latest checkpoint's REDO location:    0/611AA8\n"
	"Latest checkpoint's REDO WAL file:    000000010000000000000006\n"
	"Latest checkpoint's TimeLineID:       1\n"
	"Latest checkpoint's PrevTimeLineID:   1\n"
	"Latest checkpoint's full_page_writes: on\n"
	"Latest checkpoint's NextXID:          0:724\n"
	"Latest checkpoint's NextOID:          13573\n"
	"Latest checkpoint's NextMultiXactId:  1\n"
	"Latest checkpoint's NextMultiOffset:  0\n"
	"Latest checkpoint's oldestXID:        716\n"
	"Latest checkpoint's oldestXID's DB:   1\n"
	"Latest checkpoint's oldestActiveXID:  0\n"
	"Latest checkpoint's oldestMultiXid:   1\n"
	"Latest checkpoint's oldestMulti's DB: 1\n"
	"Latest checkpoint's oldestCommitTsXid:0\n"
	"Latest checkpoint's newestCommitTsXid:0\n"
	"Time of latest checkpoint:            Sat Nov 21 21:14:08 2026\n"
	"Fake LSN counter for unlogged rels:   0/3E8\n"
	"Minimum recovery ending location:     0/0\n"
	"Min recovery ending loc's timeline:   0\n"
	"Backup start location:                0/0\n"
	"Backup end location:                  0/0\n"
	"End-of-backup record required:        no\n"
	"wal_level setting:                    replica\n"
	"wal_log_hints setting:                off\n"
	"max_connections setting:              100\n"
	"max_worker_processes setting:         8\n"
	"max_wal_senders setting:              10\n"
	"max_prepared_xacts setting:           0\n"
	"max_locks_per_xact setting:           64\n"
	"track_commit_timestamp setting:       off\n"
	"Maximum data alignment:               8\n"
	"Database block size:                  8192\n"
	"Blocks per segment of large relation: 131072\n"
	"WAL block size:                       8192\n"
	"Bytes per WAL segment:                1048576\n"
	"Maximum length of identifiers:        64\n"
	"Maximum columns in an index:          32\n"
	"Maximum size of a TOAST chunk:        1996\n"
	"Size of a large-object chunk:         2048\n"
	"Date/time type storage:               64-bit integers\n"
	"Float8 argument passing:              by value\n"
	"Data page checksum version:           0\n"
	"Mock authentication nonce:            "
	"ff1ccf798ba213900d569ec9620114aa658d9ae8ffe4b3f51341b2db37503a37\n";

#define DEBIAN_15 "/usr/lib/postgresql/15/bin/pg_controldata"

static char data[4096], bin[4096];
static char *saved_path;

static void
setup(void)
{
	const char *path = getenv("PATH");

	h_setup();
	snprintf(data, sizeof(data), "%s", h_path("data"));
	snprintf(bin, sizeof(bin), "%s", h_path("bin"));
	ck_assert_int_eq(mkdir(data, 0700), 0);
	ck_assert_int_eq(mkdir(bin, 0700), 0);
	saved_path = path != NULL ? strdup(path) : NULL;
}

static void
teardown(void)
{
	if (saved_path != NULL)
		setenv("PATH", saved_path, 1);
	free(saved_path);
	h_teardown();
}

static void
assert_error_line(const char *msg)
{
	char want[16384];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_msg(strstr(h_log(), want) != NULL, "log lacks [%s]: [%s]", want, h_log());
}

/* Write an executable script `name` into the bin dir; returns its path
 * (h_path ring). */
static const char *
script(const char *name, const char *body)
{
	char text[16384];
	char rel[256];
	const char *path;

	snprintf(rel, sizeof(rel), "bin/%s", name);
	path = h_path(rel);
	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	h_write_file(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* --- pitr_controldata_parse -------------------------------------------- */

START_TEST(test_parse_real_output)
{
	struct pitr_controldata cd;

	ck_assert_int_eq(pitr_controldata_parse(real_output, "pg_controldata", &cd), 0);
	ck_assert_str_eq(cd.redo_wal_file, "000000010000000000000006");
	ck_assert_uint_eq(cd.seg_size, 1048576);
	ck_assert_uint_eq(cd.sysid, 7710736091634171201ULL);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_no_trailing_newline)
{
	struct pitr_controldata cd;
	const char *text = "Bytes per WAL segment:16777216\r\n"
			   "Latest checkpoint's REDO WAL file:\t00000002000000010000002A  \n"
			   "Database system identifier: 1";

	ck_assert_int_eq(pitr_controldata_parse(text, "x", &cd), 0);
	ck_assert_str_eq(cd.redo_wal_file, "00000002000000010000002A");
	ck_assert_uint_eq(cd.seg_size, 16777216);
	ck_assert_uint_eq(cd.sysid, 1);
}
END_TEST

START_TEST(test_parse_missing_labels)
{
	struct pitr_controldata cd;

	/* The REDO location is not the REDO WAL file; a label must be whole. */
	ck_assert_int_eq(pitr_controldata_parse("Latest checkpoint's REDO location:    0/611AA8\n"
						"Latest checkpoint's REDO WAL file\n"
						"Latest checkpoint's REDO WAL files: x\n",
						"/usr/bin/pg_controldata", &cd), -1);
	ck_assert_str_eq(h_log(), "ERROR : output of \"/usr/bin/pg_controldata\" has no \"Latest "
			 "checkpoint's REDO WAL file\" line\n");
	h_log_reset();
	ck_assert_int_eq(pitr_controldata_parse("", "pgcd", &cd), -1);
	ck_assert_str_eq(h_log(), "ERROR : output of \"pgcd\" has no \"Latest checkpoint's REDO WAL "
			 "file\" line\n");
	h_log_reset();
	ck_assert_int_eq(pitr_controldata_parse("Latest checkpoint's REDO WAL file: "
						"000000010000000000000006\n", "pgcd", &cd), -1);
	ck_assert_str_eq(h_log(), "ERROR : output of \"pgcd\" has no \"Bytes per WAL segment\" "
			 "line\n");
	h_log_reset();
	ck_assert_int_eq(pitr_controldata_parse("Latest checkpoint's REDO WAL file: "
						"000000010000000000000006\n"
						"Bytes per WAL segment: 1048576\n", "pgcd", &cd),
			 -1);
	ck_assert_str_eq(h_log(), "ERROR : output of \"pgcd\" has no \"Database system "
			 "identifier\" line\n");
}
END_TEST

START_TEST(test_parse_bad_values)
{
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
		{ "Latest checkpoint's REDO WAL file: 0/611AA8\n",
		  "has an invalid \"Latest checkpoint's REDO WAL file\": \"0/611AA8\"" },
		{ "Latest checkpoint's REDO WAL file: 00000001.history\n",
		  "has an invalid \"Latest checkpoint's REDO WAL file\": \"00000001.history\"" },
		{ "Latest checkpoint's REDO WAL file: 000000010000000000000006\n"
		  "Bytes per WAL segment: 1000\n",
		  "has an invalid \"Bytes per WAL segment\": \"1000\"" },
		{ "Latest checkpoint's REDO WAL file: 000000010000000000000006\n"
		  "Bytes per WAL segment: -16777216\n",
		  "has an invalid \"Bytes per WAL segment\": \"-16777216\"" },
		{ "Latest checkpoint's REDO WAL file: 000000010000000000000006\n"
		  "Bytes per WAL segment: 16777216\nDatabase system identifier: 12x\n",
		  "has an invalid \"Database system identifier\": \"12x\"" },
		{ "Latest checkpoint's REDO WAL file: 000000010000000000000006\n"
		  "Bytes per WAL segment: 16777216\n"
		  "Database system identifier: 99999999999999999999999\n",
		  "has an invalid \"Database system identifier\": \"99999999999999999999999\"" },
		{ "Latest checkpoint's REDO WAL file: 000000010000000000000006\n"
		  "Bytes per WAL segment: 16777216\nDatabase system identifier:\n",
		  "has an invalid \"Database system identifier\": \"\"" },
	};
	struct pitr_controldata cd;
	char want[4096];

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		h_log_reset();
		ck_assert_int_eq(pitr_controldata_parse(cases[case_idx].text, "pgcd", &cd), -1);
		snprintf(want, sizeof(want), "ERROR : output of \"pgcd\" %s\n", cases[case_idx].error);
		ck_assert_str_eq(h_log(), want);
	}
}
END_TEST

/* --- pitr_controldata_find ---------------------------------------------- */

START_TEST(test_find_given_path)
{
	char *found = pitr_controldata_find("/opt/pg/bin/pg_controldata", data);

	/* Given: used as is, checked only when run. */
	ck_assert_str_eq(found, "/opt/pg/bin/pg_controldata");
	free(found);
}
END_TEST

START_TEST(test_find_on_path)
{
	char path_env[16384];
	char *found;
	char want[8192];

	script("pg_controldata", "exit 0\n");
	/* A directory without it, an empty entry (the current directory),
	 * then ours. */
	snprintf(path_env, sizeof(path_env), "%s::%s", data, bin);
	setenv("PATH", path_env, 1);
	found = pitr_controldata_find(NULL, data);
	snprintf(want, sizeof(want), "%s/pg_controldata", bin);
	ck_assert_str_eq(found, want);
	free(found);
	/* Not executable: not taken. */
	ck_assert_int_eq(chmod(h_path("bin/pg_controldata"), 0644), 0);
	setenv("PATH", bin, 1);
	h_write_file(h_path("data/PG_VERSION"), "99\n", 3);
	ck_assert_ptr_null(pitr_controldata_find(NULL, data));
	ck_assert_str_eq(h_log(), "ERROR : could not find pg_controldata: it is not on PATH nor at "
			 "\"/usr/lib/postgresql/99/bin/pg_controldata\"; give its path with "
			 "--pgcontroldata-path\n");
}
END_TEST

START_TEST(test_find_by_pg_version)
{
	char *found;
	char msg[16384];

	setenv("PATH", bin, 1);
	/* Debian's place, by the data dir's version. */
	h_write_file(h_path("data/PG_VERSION"), "15\n", 3);
	if (access(DEBIAN_15, X_OK) == 0) {
		found = pitr_controldata_find(NULL, data);
		ck_assert_str_eq(found, DEBIAN_15);
		free(found);
	}
	/* No PG_VERSION, a bad one, and an empty PATH. */
	unsetenv("PATH");
	h_write_file(h_path("data/PG_VERSION"), "../../x\n", 8);
	ck_assert_ptr_null(pitr_controldata_find(NULL, data));
	snprintf(msg, sizeof(msg), "could not find pg_controldata: it is not on PATH and "
		 "\"%s/PG_VERSION\" names no PostgreSQL version; give its path with "
		 "--pgcontroldata-path", data);
	assert_error_line(msg);
	ck_assert_int_eq(unlink(h_path("data/PG_VERSION")), 0);
	h_log_reset();
	ck_assert_ptr_null(pitr_controldata_find(NULL, data));
	assert_error_line(msg);
	h_write_file(h_path("data/PG_VERSION"), "\n", 1);
	h_log_reset();
	ck_assert_ptr_null(pitr_controldata_find(NULL, data));
	assert_error_line(msg);
	/* An unreadable PG_VERSION (a directory) is reported as such. */
	ck_assert_int_eq(unlink(h_path("data/PG_VERSION")), 0);
	ck_assert_int_eq(mkdir(h_path("data/PG_VERSION"), 0700), 0);
	h_log_reset();
	ck_assert_ptr_null(pitr_controldata_find(NULL, data));
	ck_assert_ptr_nonnull(strstr(h_log(), "PG_VERSION\": Is a directory"));
}
END_TEST

/* --- pitr_controldata_read ---------------------------------------------- */

START_TEST(test_read_fake_program)
{
	struct pitr_controldata cd;
	char body[16384], prog[4096];
	char *lc;

	h_write_file(h_path("output.txt"), real_output, strlen(real_output));
	/* Records its arguments and LC_ALL, prints the captured output. */
	snprintf(body, sizeof(body),
		 "printf '%%s|%%s' \"$LC_ALL\" \"$1\" > '%s'\ncat '%s'\n", h_path("seen"),
		 h_path("output.txt"));
	snprintf(prog, sizeof(prog), "%s", script("pgcd", body));
	setenv("LC_ALL", "de_DE.UTF-8", 1);
	ck_assert_int_eq(pitr_controldata_read(prog, data, &cd), 0);
	ck_assert_str_eq(cd.redo_wal_file, "000000010000000000000006");
	ck_assert_uint_eq(cd.seg_size, 1048576);
	ck_assert_uint_eq(cd.sysid, 7710736091634171201ULL);
	/* The child ran in the C locale; ours is back as it was. */
	lc = h_read_file(h_path("seen"), NULL);
	snprintf(body, sizeof(body), "C|%s", data);
	ck_assert_str_eq(lc, body);
	free(lc);
	ck_assert_str_eq(getenv("LC_ALL"), "de_DE.UTF-8");
	/* Unset before, unset after. */
	unsetenv("LC_ALL");
	ck_assert_int_eq(pitr_controldata_read(prog, data, &cd), 0);
	ck_assert_ptr_null(getenv("LC_ALL"));
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_failures)
{
	struct pitr_controldata cd;
	char msg[16384];
	const char *prog;

	/* Cannot be run at all. */
	ck_assert_int_eq(pitr_controldata_read(h_path("bin/missing"), data, &cd), -1);
	snprintf(msg, sizeof(msg), "could not execute \"%s\": No such file or directory",
		 h_path("bin/missing"));
	assert_error_line(msg);

	/* Exits non-zero. */
	prog = script("fails", "echo 'pg_controldata: error: could not open file' >&2\nexit 3\n");
	h_log_reset();
	ck_assert_int_eq(pitr_controldata_read(prog, data, &cd), -1);
	snprintf(msg, sizeof(msg), "\"%s\" failed for \"%s\": exit status 3", prog, data);
	assert_error_line(msg);

	/* Prints something else. */
	prog = script("garbage", "echo hello\n");
	h_log_reset();
	ck_assert_int_eq(pitr_controldata_read(prog, data, &cd), -1);
	snprintf(msg, sizeof(msg), "output of \"%s\" has no \"Latest checkpoint's REDO WAL file\" "
		 "line", prog);
	assert_error_line(msg);

	/* The real program on a directory that is no cluster. */
	if (access(DEBIAN_15, X_OK) == 0) {
		h_log_reset();
		ck_assert_int_eq(pitr_controldata_read(DEBIAN_15, data, &cd), -1);
		snprintf(msg, sizeof(msg), "\"%s\" failed for \"%s\": exit status 1", DEBIAN_15, data);
		assert_error_line(msg);
	}
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("controldata");
	TCase *tc;

	tc = tcase_create("pitr_controldata_parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_real_output);
	tcase_add_test(tc, test_parse_no_trailing_newline);
	tcase_add_test(tc, test_parse_missing_labels);
	tcase_add_test(tc, test_parse_bad_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_controldata_find");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_find_given_path);
	tcase_add_test(tc, test_find_on_path);
	tcase_add_test(tc, test_find_by_pg_version);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_controldata_read");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_read_fake_program);
	tcase_add_test(tc, test_read_failures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
