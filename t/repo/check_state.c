/*
 * check_state.c - unit tests for the per-WAL-file record of destinations done.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "repo/state.h"

#define WAL "000000010000000000000042"

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
assert_content(const char *path, const char *want)
{
	size_t len;
	char *got = h_read_file(path, &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
}

static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

/* --- load -------------------------------------------------------------- */

START_TEST(test_load_missing_is_empty)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);

	ck_assert_ptr_nonnull(st);
	ck_assert(!pitr_state_has(st, "local:/a"));
	ck_assert(!pitr_state_has(st, ""));
	/* Loading alone writes nothing. */
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	pitr_state_free(st);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_load_existing)
{
	struct pitr_state *st;

	h_write_file(h_path(WAL ".pitr-state"), "local:/a\nremote:h:/b\n", 21);
	st = pitr_state_load(h_dir(), WAL);
	ck_assert_ptr_nonnull(st);
	ck_assert(pitr_state_has(st, "local:/a"));
	ck_assert(pitr_state_has(st, "remote:h:/b"));
	ck_assert(!pitr_state_has(st, "local:/"));
	ck_assert(!pitr_state_has(st, "local:/a\nremote:h:/b"));
	pitr_state_free(st);
	/* Another WAL file's record is separate. */
	st = pitr_state_load(h_dir(), "000000010000000000000043");
	ck_assert_ptr_nonnull(st);
	ck_assert(!pitr_state_has(st, "local:/a"));
	pitr_state_free(st);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_load_no_final_newline)
{
	struct pitr_state *st;

	h_write_file(h_path(WAL ".pitr-state"), "a\nb", 3);
	st = pitr_state_load(h_dir(), WAL);
	ck_assert_ptr_nonnull(st);
	ck_assert(pitr_state_has(st, "a"));
	ck_assert(pitr_state_has(st, "b"));
	ck_assert_int_eq(pitr_state_add(st, "c"), 0);
	assert_content(h_path(WAL ".pitr-state"), "a\nb\nc\n");
	pitr_state_free(st);
}
END_TEST

START_TEST(test_load_missing_dir)
{
	char msg[4096];

	ck_assert_ptr_null(pitr_state_load(h_path("none"), WAL));
	snprintf(msg, sizeof(msg), "could not open directory \"%s\": No such file or directory",
		 h_path("none"));
	assert_error(msg);
}
END_TEST

START_TEST(test_load_bad_wal_name)
{
	ck_assert_ptr_null(pitr_state_load(h_dir(), "../x"));
	assert_error("invalid WAL file name \"../x\" for the state file");
	h_log_reset();
	ck_assert_ptr_null(pitr_state_load(h_dir(), ""));
	assert_error("invalid WAL file name \"\" for the state file");
}
END_TEST

START_TEST(test_load_unreadable)
{
	char msg[4096];

	/* A directory where the record should be. */
	ck_assert_int_eq(mkdir(h_path(WAL ".pitr-state"), 0700), 0);
	ck_assert_ptr_null(pitr_state_load(h_dir(), WAL));
	snprintf(msg, sizeof(msg), "could not read \"%s\": Is a directory",
		 h_path(WAL ".pitr-state"));
	assert_error(msg);
}
END_TEST

START_TEST(test_load_binary)
{
	char msg[4096];

	h_write_file(h_path(WAL ".pitr-state"), "a\n\0b\n", 5);
	ck_assert_ptr_null(pitr_state_load(h_dir(), WAL));
	snprintf(msg, sizeof(msg), "\"%s\" is not a valid state file", h_path(WAL ".pitr-state"));
	assert_error(msg);
}
END_TEST

/* --- has --------------------------------------------------------------- */

START_TEST(test_has_exact_lines)
{
	struct pitr_state *st;

	h_write_file(h_path(WAL ".pitr-state"), "gzip=/a\n/b\n", 11);
	st = pitr_state_load(h_dir(), WAL);
	ck_assert_ptr_nonnull(st);
	ck_assert(pitr_state_has(st, "gzip=/a"));
	ck_assert(pitr_state_has(st, "/b"));
	/* Prefixes, suffixes and substrings are not matches. */
	ck_assert(!pitr_state_has(st, "gzip=/"));
	ck_assert(!pitr_state_has(st, "=/a"));
	ck_assert(!pitr_state_has(st, "/a"));
	ck_assert(!pitr_state_has(st, "/b/"));
	ck_assert(!pitr_state_has(st, ""));
	pitr_state_free(st);
}
END_TEST

/* --- add --------------------------------------------------------------- */

START_TEST(test_add_durable)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);
	struct pitr_state *again;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_state_add(st, "gzip=/mnt/a"), 0);
	ck_assert(pitr_state_has(st, "gzip=/mnt/a"));
	assert_content(h_path(WAL ".pitr-state"), "gzip=/mnt/a\n");
	ck_assert_int_eq(pitr_state_add(st, "rsync://h/m/"), 0);
	assert_content(h_path(WAL ".pitr-state"), "gzip=/mnt/a\nrsync://h/m/\n");
	/* Adding a key twice records it once. */
	ck_assert_int_eq(pitr_state_add(st, "gzip=/mnt/a"), 0);
	assert_content(h_path(WAL ".pitr-state"), "gzip=/mnt/a\nrsync://h/m/\n");
	/* Only the record is left, no temporary file. */
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	pitr_state_free(st);

	/* A retry sees what was recorded. */
	again = pitr_state_load(h_dir(), WAL);
	ck_assert_ptr_nonnull(again);
	ck_assert(pitr_state_has(again, "gzip=/mnt/a"));
	ck_assert(pitr_state_has(again, "rsync://h/m/"));
	ck_assert(!pitr_state_has(again, "other"));
	pitr_state_free(again);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_add_bad_key)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_state_add(st, "a\nb"), -1);
	assert_error("invalid destination key for the state file");
	h_log_reset();
	ck_assert_int_eq(pitr_state_add(st, ""), -1);
	assert_error("invalid destination key for the state file");
	ck_assert(!pitr_state_has(st, "a"));
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	pitr_state_free(st);
}
END_TEST

START_TEST(test_add_publish_fails)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);
	char msg[8192];
	const char *log;
	const char *tail;

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_state_add(st, "a"), 0);
	/* A directory at the record's name makes the replacing rename fail. */
	ck_assert_int_eq(rename(h_path(WAL ".pitr-state"), h_path("saved")), 0);
	ck_assert_int_eq(mkdir(h_path(WAL ".pitr-state"), 0700), 0);
	ck_assert_int_eq(pitr_state_add(st, "b"), -1);
	log = h_log();
	snprintf(msg, sizeof(msg), "ERROR : could not rename \"%s/.pitr-tmp.%s.pitr-state.",
		 h_dir(), WAL);
	ck_assert_int_eq(strncmp(log, msg, strlen(msg)), 0);
	tail = strstr(log, "\" to \"");
	ck_assert_ptr_nonnull(tail);
	snprintf(msg, sizeof(msg), "\" to \"%s\": Is a directory\n", h_path(WAL ".pitr-state"));
	ck_assert_str_eq(tail, msg);
	/* Memory matches the disk: "b" is not recorded, "a" still is. */
	ck_assert(!pitr_state_has(st, "b"));
	ck_assert(pitr_state_has(st, "a"));
	ck_assert_int_eq(rmdir(h_path(WAL ".pitr-state")), 0);
	ck_assert_int_eq(pitr_state_add(st, "c"), 0);
	assert_content(h_path(WAL ".pitr-state"), "a\nc\n");
	pitr_state_free(st);
}
END_TEST

/* --- clear ------------------------------------------------------------- */

START_TEST(test_clear)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_state_add(st, "a"), 0);
	ck_assert(h_exists(h_path(WAL ".pitr-state")));
	ck_assert_int_eq(pitr_state_clear(st), 0);
	ck_assert(!h_exists(h_path(WAL ".pitr-state")));
	ck_assert(!pitr_state_has(st, "a"));
	/* Clearing a missing record is fine. */
	ck_assert_int_eq(pitr_state_clear(st), 0);
	/* The handle is still usable. */
	ck_assert_int_eq(pitr_state_add(st, "b"), 0);
	assert_content(h_path(WAL ".pitr-state"), "b\n");
	pitr_state_free(st);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_clear_error)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);
	char msg[4096];

	ck_assert_ptr_nonnull(st);
	/* unlink() refuses a directory at the record's name (in place of the
	 * record written: a clear with nothing recorded touches nothing). */
	ck_assert_int_eq(pitr_state_add(st, "a"), 0);
	ck_assert_int_eq(unlink(h_path(WAL ".pitr-state")), 0);
	ck_assert_int_eq(mkdir(h_path(WAL ".pitr-state"), 0700), 0);
	ck_assert_int_eq(pitr_state_clear(st), -1);
	snprintf(msg, sizeof(msg), "could not remove \"%s\": Is a directory",
		 h_path(WAL ".pitr-state"));
	assert_error(msg);
	pitr_state_free(st);
}
END_TEST

/* --- free -------------------------------------------------------------- */

/* The records of a state dir: names without the suffix, `skip`'s and
 * other files left out, at most `max`, every one reachable over calls. */
START_TEST(test_list)
{
	static const char *const wals[] = { "000000010000000000000001",
		"000000010000000000000002", "000000010000000000000003", "00000002.history" };
	bool seen[4] = { false };
	char **names;
	size_t n;

	ck_assert_int_eq(pitr_state_list(h_dir(), NULL, 8, &names, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(names);
	for (size_t i = 0; i < 4; i++)
		h_write_file(h_path(h_fmt("%s.pitr-state", wals[i])), "k\n", 2);
	h_write_file(h_path("notes.txt"), "x", 1);
	h_write_file(h_path(".pitr-tmp.x.pitr-state"), "x", 1);
	ck_assert_int_eq(pitr_state_list(h_dir(), wals[0], 8, &names, &n), 0);
	ck_assert_uint_eq(n, 3);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_ne(names[i], wals[0]);
	pitr_state_names_free(names, n);
	/* Two at a time, at random: every record comes up in a few calls. */
	for (int call = 0; call < 200; call++) {
		ck_assert_int_eq(pitr_state_list(h_dir(), NULL, 2, &names, &n), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_str_ne(names[0], names[1]);
		for (size_t i = 0; i < n; i++)
			for (size_t w = 0; w < 4; w++)
				seen[w] |= strcmp(names[i], wals[w]) == 0;
		pitr_state_names_free(names, n);
	}
	for (size_t w = 0; w < 4; w++)
		ck_assert_msg(seen[w], "%s never listed", wals[w]);
	ck_assert_int_eq(pitr_state_list(h_dir(), NULL, 0, &names, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(pitr_state_list(h_path("missing"), NULL, 2, &names, &n), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "could not open directory"));
}
END_TEST

/* Records beyond the dir's first 4096 entries are picked too: 6000
 * records, 1000 picked per call, 100 calls.  With a uniform pick a record
 * stays unpicked with probability (5/6)^100 (1e-8), and the seed makes the
 * run the same every time; a scan stopping at 4096 entries misses 1904. */
START_TEST(test_list_reaches_whole_dir)
{
	enum { NREC = 6000, PICK = 1000, CALLS = 100 };
	static bool seen[NREC];
	size_t reached = 0;
	char **names;
	size_t n;

	for (unsigned i = 0; i < NREC; i++)
		h_write_file(h_path(h_fmt("0000000100000000%08X.pitr-state", i)), "k\n", 2);
	srandom(11);
	for (int call = 0; call < CALLS; call++) {
		ck_assert_int_eq(pitr_state_list(h_dir(), NULL, PICK, &names, &n), 0);
		ck_assert_uint_eq(n, PICK);
		for (size_t i = 0; i < n; i++) {
			unsigned long k = strtoul(names[i] + 16, NULL, 16);

			ck_assert_uint_lt(k, NREC);
			reached += !seen[k];
			seen[k] = true;
		}
		pitr_state_names_free(names, n);
	}
	ck_assert_uint_eq(reached, NREC);
}
END_TEST

START_TEST(test_free)
{
	struct pitr_state *st = pitr_state_load(h_dir(), WAL);

	pitr_state_free(NULL);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_state_add(st, "a"), 0);
	/* Freeing keeps the record on disk. */
	pitr_state_free(st);
	assert_content(h_path(WAL ".pitr-state"), "a\n");
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
	Suite *s = suite_create("state");
	TCase *tc;

	tc = tcase("load");
	tcase_add_test(tc, test_load_missing_is_empty);
	tcase_add_test(tc, test_load_existing);
	tcase_add_test(tc, test_load_no_final_newline);
	tcase_add_test(tc, test_load_missing_dir);
	tcase_add_test(tc, test_load_bad_wal_name);
	tcase_add_test(tc, test_load_unreadable);
	tcase_add_test(tc, test_load_binary);
	suite_add_tcase(s, tc);

	tc = tcase("has");
	tcase_add_test(tc, test_has_exact_lines);
	suite_add_tcase(s, tc);

	tc = tcase("add");
	tcase_add_test(tc, test_add_durable);
	tcase_add_test(tc, test_add_bad_key);
	tcase_add_test(tc, test_add_publish_fails);
	suite_add_tcase(s, tc);

	tc = tcase("clear");
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_clear_error);
	suite_add_tcase(s, tc);

	tc = tcase("list");
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_list_reaches_whole_dir);
	suite_add_tcase(s, tc);

	tc = tcase("free");
	tcase_add_test(tc, test_free);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
