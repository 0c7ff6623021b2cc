/*
 * check_archdir.c - unit tests for the archive directory module: finding a
 * WAL file under any codec extension, listing what is older than a cutoff
 * (timeline ignored, never history files), and removal with a limit and a
 * hook.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/archdir.h"
#include "harness.h"
#include "common/log.h"
#include "postgres/sysid.h"
#include "postgres/wal.h"

static char arch[4096];

static void
setup(void)
{
	h_setup();
	snprintf(arch, sizeof(arch), "%s", h_path("arch"));
	ck_assert_int_eq(mkdir(arch, 0700), 0);
}

static void
teardown(void)
{
	h_teardown();
}

/* Create arch/<name> holding `name` as content. */
static void
touch(const char *name)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", arch, name);
	h_write_file(path, name, strlen(name));
}

static struct pitr_wal_name
wal(const char *name)
{
	struct pitr_wal_name w;

	ck_assert_int_ne(pitr_wal_parse(name, &w), PITR_WAL_NONE);
	return w;
}

static void
assert_error_line(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_msg(strstr(h_log(), want) != NULL, "log lacks [%s]: [%s]", want, h_log());
}

/* Assert the listing older than `cutoff` is exactly the NULL-terminated
 * file names, in order. */
static void
assert_listing(const char *cutoff, const char *const *want)
{
	struct pitr_archdir_entry *entries = (void *)1;
	struct pitr_wal_name c = wal(cutoff);
	size_t n = 99, want_n = 0;

	while (want[want_n] != NULL)
		want_n++;
	ck_assert_int_eq(pitr_archdir_list_older(arch, &c, &entries, &n), 0);
	ck_assert_uint_eq(n, want_n);
	if (want_n == 0)
		ck_assert_ptr_null(entries);
	for (size_t idx = 0; idx < want_n; idx++)
		ck_assert_str_eq(entries[idx].file, want[idx]);
	free(entries);
}
#define ASSERT_LISTING(cutoff, ...) \
	assert_listing(cutoff, (const char *const[]){ __VA_ARGS__ })

/* --- pitr_archdir_find -------------------------------------------------- */

START_TEST(test_find_preferred_first)
{
	char *path = NULL;
	enum pitr_codec codec = PITR_CODEC_COUNT;
	struct stat st;
	char want[8192];

	touch("000000010000000000000001");
	touch("000000010000000000000001.gz");
	ck_assert_int_eq(pitr_archdir_find(arch, "000000010000000000000001", PITR_CODEC_GZIP,
					   &path, &codec, &st), 1);
	snprintf(want, sizeof(want), "%s/000000010000000000000001.gz", arch);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(codec, PITR_CODEC_GZIP);
	ck_assert_int_eq(st.st_size, strlen("000000010000000000000001.gz"));
	free(path);
	/* Preferring none finds the plain file. */
	ck_assert_int_eq(pitr_archdir_find(arch, "000000010000000000000001", PITR_CODEC_NONE,
					   &path, &codec, NULL), 1);
	snprintf(want, sizeof(want), "%s/000000010000000000000001", arch);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(codec, PITR_CODEC_NONE);
	free(path);
}
END_TEST

START_TEST(test_find_other_codecs)
{
	char *path = NULL;
	enum pitr_codec codec;
	char want[8192];

	/* An archive whose codec changed still serves its older files. */
	touch("000000010000000000000002.zst");
	touch("00000002.history.bz2");
	ck_assert_int_eq(pitr_archdir_find(arch, "000000010000000000000002", PITR_CODEC_GZIP,
					   &path, &codec, NULL), 1);
	snprintf(want, sizeof(want), "%s/000000010000000000000002.zst", arch);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(codec, PITR_CODEC_ZSTD);
	free(path);
	ck_assert_int_eq(pitr_archdir_find(arch, "00000002.history", PITR_CODEC_NONE, &path,
					   &codec, NULL), 1);
	ck_assert_int_eq(codec, PITR_CODEC_BZIP2);
	free(path);
}
END_TEST

START_TEST(test_find_missing_and_errors)
{
	char *path = (char *)"x";
	enum pitr_codec codec;
	char msg[16384], file[8192];

	ck_assert_int_eq(pitr_archdir_find(arch, "000000010000000000000003", PITR_CODEC_XZ, &path,
					   &codec, NULL), 0);
	ck_assert_ptr_null(path);
	ck_assert_str_eq(h_log(), "");

	/* Something that is not a file under the name. */
	snprintf(file, sizeof(file), "%s/000000010000000000000003.xz", arch);
	ck_assert_int_eq(mkdir(file, 0700), 0);
	ck_assert_int_eq(pitr_archdir_find(arch, "000000010000000000000003", PITR_CODEC_XZ, &path,
					   &codec, NULL), -1);
	snprintf(msg, sizeof(msg), "\"%s\" is not a regular file", file);
	assert_error_line(msg);

	/* The "directory" is a file. */
	touch("plain");
	snprintf(file, sizeof(file), "%s/plain", arch);
	h_log_reset();
	ck_assert_int_eq(pitr_archdir_find(file, "000000010000000000000003", PITR_CODEC_NONE, &path,
					   &codec, NULL), -1);
	snprintf(msg, sizeof(msg), "could not stat \"%s/000000010000000000000003\": Not a directory",
		 file);
	assert_error_line(msg);
}
END_TEST

/* --- pitr_archdir_parse_cutoff ------------------------------------------ */

START_TEST(test_parse_cutoff)
{
	struct pitr_wal_name c;
	char name[PITR_WAL_NAME_MAX];
	static const char *const bad[] = {
		"00000001.history", "%r", "", "00000001000000000000000g", "0000000100000000000000001",
		"000000000000000000000000.history",
		"000000010000000000000001000000010000000000000001000000010000000000000001",
	};

	ck_assert_int_eq(pitr_archdir_parse_cutoff("00000002000000010000002A", &c), 0);
	pitr_wal_format(name, &c);
	ck_assert_str_eq(name, "00000002000000010000002A");
	/* A partial segment or backup history file means its segment. */
	ck_assert_int_eq(pitr_archdir_parse_cutoff("00000002000000010000002A.partial", &c), 0);
	pitr_wal_format(name, &c);
	ck_assert_str_eq(name, "00000002000000010000002A");
	ck_assert_int_eq(pitr_archdir_parse_cutoff("00000002000000010000002A.00000028.backup", &c),
			 0);
	ck_assert_int_eq(c.kind, PITR_WAL_SEGMENT);
	ck_assert_uint_eq(c.offset, 0);
	/* %r before the first restartpoint: position 0, nothing older. */
	ck_assert_int_eq(pitr_archdir_parse_cutoff("000000000000000000000000", &c), 0);
	ck_assert_uint_eq(c.log, 0);
	ck_assert_uint_eq(c.seg, 0);
	for (size_t bad_idx = 0; bad_idx < sizeof(bad) / sizeof(bad[0]); bad_idx++)
		ck_assert_msg(pitr_archdir_parse_cutoff(bad[bad_idx], &c) == -1, "%s", bad[bad_idx]);
	ck_assert_int_eq(pitr_archdir_parse_cutoff(NULL, &c), -1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- pitr_archdir_list_older ------------------------------------------- */

START_TEST(test_list_kinds_and_order)
{
	/* Segments of two timelines, every codec, partials, history and
	 * backup history files, and things that are not WAL at all. */
	touch("000000010000000000000003.gz");
	touch("000000010000000000000001");
	touch("000000020000000000000002.zst");
	touch("000000010000000000000002.lz4");
	touch("000000010000000000000002.partial");
	touch("000000010000000000000001.00000028.backup");
	touch("00000002.history");
	touch(PITR_SYSID_FILE);
	touch(".pitr-tmp.000000010000000000000001.abc");
	touch("000000010000000000000004.bz2");
	touch("000000010000000000000005.xz");
	touch("000000010000000000000001.lzma");
	touch("notes.txt");
	touch("0000000100000000000000ff");

	ASSERT_LISTING("000000010000000000000004",
		       "000000010000000000000001", "000000010000000000000001.lzma",
		       "000000010000000000000002.lz4", "000000020000000000000002.zst",
		       "000000010000000000000002.partial", "000000010000000000000003.gz", NULL);
	/* Nothing is older than the first segment. */
	ASSERT_LISTING("000000010000000000000001", NULL);
}
END_TEST

START_TEST(test_list_cutoff_kinds)
{
	touch("000000010000000000000005");
	touch("000000010000000000000005.partial");
	touch("000000010000000000000006");
	touch("000000010000000000000004.gz");

	/* Only the cutoff's position counts: its own segment and .partial stay. */
	ASSERT_LISTING("000000010000000000000005.partial", "000000010000000000000004.gz", NULL);
	ASSERT_LISTING("000000010000000000000005.00000028.backup", "000000010000000000000004.gz",
		       NULL);
	ASSERT_LISTING("000000010000000000000006", "000000010000000000000004.gz",
		       "000000010000000000000005", "000000010000000000000005.partial", NULL);
}
END_TEST

START_TEST(test_list_timeline_ignored)
{
	/* A standby on timeline 2 still needs timeline 1's segment 6. */
	touch("000000010000000000000006");
	touch("000000010000000000000004");
	touch("000000030000000000000005");
	ASSERT_LISTING("000000020000000000000005", "000000010000000000000004", NULL);
	/* Positions compare across the xlogid boundary, past FF. */
	touch("000000010000000100000000");
	touch("0000000100000000000001FF");
	ASSERT_LISTING("000000010000000100000000", "000000010000000000000004",
		       "000000030000000000000005", "000000010000000000000006",
		       "0000000100000000000001FF", NULL);
}
END_TEST

START_TEST(test_list_missing_dir)
{
	struct pitr_archdir_entry *entries = (void *)1;
	struct pitr_wal_name c = wal("000000010000000000000004");
	size_t n = 99;
	char msg[8192];

	ck_assert_int_eq(pitr_archdir_list_older(h_path("nope"), &c, &entries, &n), -1);
	ck_assert_ptr_null(entries);
	ck_assert_uint_eq(n, 0);
	snprintf(msg, sizeof(msg), "could not open directory \"%s\": No such file or directory",
		 h_path("nope"));
	assert_error_line(msg);
}
END_TEST

/* --- pitr_archdir_remove_older ----------------------------------------- */

/* Hook state: the files seen, and the call on which to fail (0: never). */
struct hook_log {
	char seen[8][PITR_ARCHDIR_FILE_MAX];
	int calls;
	int fail_on;
	bool remove_itself;
};

static int
hook(void *ctx, const char *dir, const struct pitr_archdir_entry *entry)
{
	struct hook_log *hl = ctx;
	char path[8192];

	ck_assert_str_eq(dir, arch);
	snprintf(hl->seen[hl->calls], sizeof(hl->seen[0]), "%s", entry->file);
	hl->calls++;
	if (hl->remove_itself) {
		snprintf(path, sizeof(path), "%s/%s", dir, entry->file);
		ck_assert_int_eq(unlink(path), 0);
	}
	if (hl->calls == hl->fail_on) {
		pitr_log_error("hook failed");
		return -1;
	}
	return 0;
}

static void
make_four(void)
{
	touch("000000010000000000000001.gz");
	touch("000000010000000000000002");
	touch("000000010000000000000003.zst");
	touch("000000010000000000000004");
	touch("00000001.history");
}

START_TEST(test_remove_limit)
{
	struct pitr_wal_name c = wal("000000010000000000000004");
	size_t removed = 99;
	char line[16384];

	make_four();
	pitr_log_open("check", NULL, true);
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 2, NULL, NULL, &removed), 0);
	ck_assert_uint_eq(removed, 2);
	ck_assert(!h_exists(h_path("arch/000000010000000000000001.gz")));
	ck_assert(!h_exists(h_path("arch/000000010000000000000002")));
	ck_assert(h_exists(h_path("arch/000000010000000000000003.zst")));
	snprintf(line, sizeof(line), "LOG : removed \"%s/000000010000000000000001.gz\"\nLOG : removed "
		 "\"%s/000000010000000000000002\"\n", arch, arch);
	ck_assert_str_eq(h_log(), line);
	/* No limit: the rest; the cutoff segment and the history file stay. */
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 0, NULL, NULL, &removed), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(h_count_entries(arch), 2);
	ck_assert(h_exists(h_path("arch/000000010000000000000004")));
	ck_assert(h_exists(h_path("arch/00000001.history")));
	/* Nothing left: fine, and removed may be NULL. */
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 0, NULL, NULL, NULL), 0);
}
END_TEST

START_TEST(test_remove_hook)
{
	struct pitr_wal_name c = wal("000000010000000000000004");
	struct hook_log hl = { .fail_on = 2 };
	size_t removed = 99;

	make_four();
	/* The second hook fails: its file and the newer ones stay. */
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 0, hook, &hl, &removed), -1);
	ck_assert_uint_eq(removed, 1);
	ck_assert_int_eq(hl.calls, 2);
	ck_assert_str_eq(hl.seen[0], "000000010000000000000001.gz");
	ck_assert_str_eq(hl.seen[1], "000000010000000000000002");
	ck_assert(!h_exists(h_path("arch/000000010000000000000001.gz")));
	ck_assert(h_exists(h_path("arch/000000010000000000000002")));
	ck_assert(h_exists(h_path("arch/000000010000000000000003.zst")));
	ck_assert_str_eq(h_log(), "ERROR : hook failed\n");

	/* A file that is gone by the time it is unlinked counts as removed. */
	hl = (struct hook_log){ .remove_itself = true };
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 0, hook, &hl, &removed), 0);
	ck_assert_uint_eq(removed, 2);
	ck_assert_int_eq(hl.calls, 2);
	ck_assert_int_eq(h_count_entries(arch), 2);
}
END_TEST

START_TEST(test_remove_failure_stops)
{
	struct pitr_wal_name c = wal("000000010000000000000004");
	size_t removed = 99;
	char msg[8192];

	make_four();
	/* A directory under a segment's name cannot be unlinked. */
	ck_assert_int_eq(unlink(h_path("arch/000000010000000000000002")), 0);
	ck_assert_int_eq(mkdir(h_path("arch/000000010000000000000002"), 0700), 0);
	ck_assert_int_eq(pitr_archdir_remove_older(arch, &c, 0, NULL, NULL, &removed), -1);
	ck_assert_uint_eq(removed, 1);
	snprintf(msg, sizeof(msg), "could not remove \"%s/000000010000000000000002\": Is a directory",
		 arch);
	assert_error_line(msg);
	/* Nothing newer than the failure was removed. */
	ck_assert(h_exists(h_path("arch/000000010000000000000003.zst")));

	/* A missing directory. */
	h_log_reset();
	ck_assert_int_eq(pitr_archdir_remove_older(h_path("nope"), &c, 0, NULL, NULL, &removed), -1);
	ck_assert_uint_eq(removed, 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "could not open directory"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("archdir");
	TCase *tc;

	tc = tcase_create("pitr_archdir_find");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_find_preferred_first);
	tcase_add_test(tc, test_find_other_codecs);
	tcase_add_test(tc, test_find_missing_and_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_archdir_parse_cutoff");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_cutoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_archdir_list_older");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_kinds_and_order);
	tcase_add_test(tc, test_list_cutoff_kinds);
	tcase_add_test(tc, test_list_timeline_ignored);
	tcase_add_test(tc, test_list_missing_dir);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_archdir_remove_older");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_remove_limit);
	tcase_add_test(tc, test_remove_hook);
	tcase_add_test(tc, test_remove_failure_stops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
