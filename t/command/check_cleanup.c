/*
 * check_cleanup.c - unit tests for pitr_cmd_cleanup(): what goes and
 * what stays, the dry run's list, the pause trigger, the pid file, and bad
 * input.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/cleanup/cleanup.h"
#include "harness.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "postgres/sysid.h"

static struct pitr_cleanup_opts opts;
static char p_arch[4096], p_pause[4096], p_spec[4200];

static void
setup(void)
{
	h_setup();
	snprintf(p_arch, sizeof(p_arch), "%s", h_path("arch"));
	snprintf(p_pause, sizeof(p_pause), "%s", h_path("pause.removal"));
	ck_assert_int_eq(mkdir(p_arch, 0700), 0);
	memset(&opts, 0, sizeof(opts));
	opts.archive = p_arch;
	opts.segment = "000000020000000000000005";
}

static void
teardown(void)
{
	h_teardown();
}

static void
touch(const char *name)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", p_arch, name);
	h_write_file(path, "x", 1);
}

static int
arch_has(const char *name)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", p_arch, name);
	return h_exists(path);
}

/* An archive after a promotion to timeline 2 at segment 4. */
static void
make_archive(void)
{
	touch("000000010000000000000001.gz");
	touch("000000010000000000000002.zst");
	touch("000000010000000000000003");
	touch("000000010000000000000004.partial.gz");
	touch("000000010000000000000003.00000028.backup");
	touch("00000002.history");
	touch("000000020000000000000004.xz");
	touch("000000020000000000000005.lz4");
	touch("000000010000000000000006");
	touch(PITR_SYSID_FILE);
}

static void
assert_logged(const char *line)
{
	ck_assert_msg(strstr(h_log(), line) != NULL, "log lacks [%s]: [%s]", line, h_log());
}

START_TEST(test_removes_older)
{
	char line[16384];

	make_archive();
	pitr_log_open("check", NULL, true);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	/* Older than 5 on any timeline, any codec, partials included. */
	ck_assert(!arch_has("000000010000000000000001.gz"));
	ck_assert(!arch_has("000000010000000000000002.zst"));
	ck_assert(!arch_has("000000010000000000000003"));
	ck_assert(!arch_has("000000010000000000000004.partial.gz"));
	ck_assert(!arch_has("000000020000000000000004.xz"));
	/* The cutoff, newer segments, history files and the record stay. */
	ck_assert(arch_has("000000020000000000000005.lz4"));
	ck_assert(arch_has("000000010000000000000006"));
	ck_assert(arch_has("00000002.history"));
	ck_assert(arch_has("000000010000000000000003.00000028.backup"));
	ck_assert(arch_has(PITR_SYSID_FILE));
	ck_assert_int_eq(h_count_entries(p_arch), 5);
	snprintf(line, sizeof(line), "LOG : removed \"%s/000000010000000000000001.gz\"\n", p_arch);
	assert_logged(line);
	snprintf(line, sizeof(line), "LOG : removed 5 files older than \"000000020000000000000005\" "
		 "from \"%s\"\n", p_arch);
	assert_logged(line);
	/* Again: nothing left to remove is fine. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	snprintf(line, sizeof(line), "LOG : removed 0 files older than \"000000020000000000000005\" "
		 "from \"%s\"\n", p_arch);
	ck_assert_str_eq(h_log(), line);
}
END_TEST

START_TEST(test_codec_prefix_and_cutoff_kinds)
{
	make_archive();
	/* The codec of -a does not restrict what goes. */
	snprintf(p_spec, sizeof(p_spec), "gzip=%s", p_arch);
	opts.archive = p_spec;
	/* A .partial or .backup name means its segment. */
	opts.segment = "000000010000000000000002.partial";
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert(!arch_has("000000010000000000000001.gz"));
	ck_assert(arch_has("000000010000000000000002.zst"));
	opts.segment = "000000010000000000000003.00000028.backup";
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert(!arch_has("000000010000000000000002.zst"));
	ck_assert(arch_has("000000010000000000000003"));
}
END_TEST

START_TEST(test_dry_run)
{
	char *list = NULL;
	size_t size = 0;
	char line[16384];

	make_archive();
	opts.dry_run = true;
	opts.out = open_memstream(&list, &size);
	ck_assert_ptr_nonnull(opts.out);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert_int_eq(fclose(opts.out), 0);
	/* Oldest first; equal positions by name. */
	ck_assert_str_eq(list, "000000010000000000000001.gz\n"
			 "000000010000000000000002.zst\n"
			 "000000010000000000000003\n"
			 "000000020000000000000004.xz\n"
			 "000000010000000000000004.partial.gz\n");
	free(list);
	ck_assert_int_eq(h_count_entries(p_arch), 10);
	snprintf(line, sizeof(line), "LOG : dry run: 5 files older than \"000000020000000000000005\" "
		 "would be removed from \"%s\"\n", p_arch);
	ck_assert_str_eq(h_log(), line);

	/* The list cannot be written: an error. */
	opts.out = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(opts.out);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not write the list of files: No space left on "
			 "device\n");
	fclose(opts.out);
	/* Nor read. */
	opts.out = NULL;
	opts.archive = h_path("nope");
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : could not open directory"));
}
END_TEST

START_TEST(test_pause_trigger)
{
	char line[8192];

	make_archive();
	h_write_file(p_pause, "", 0);
	opts.pause_trigger = p_pause;
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_arch), 10);
	snprintf(line, sizeof(line), "LOG : removal pause trigger \"%s\" exists: not removing "
		 "anything\n", p_pause);
	ck_assert_str_eq(h_log(), line);
	ck_assert_int_eq(unlink(p_pause), 0);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_arch), 5);
}
END_TEST

START_TEST(test_pid_file)
{
	struct pitr_pidfile *held;
	char pidpath[4096];

	make_archive();
	snprintf(pidpath, sizeof(pidpath), "%s", h_path("cleanup.pid"));
	opts.pid_file = pidpath;
	held = pitr_pidfile_acquire(pidpath);
	ck_assert_ptr_nonnull(held);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), -1);
	assert_logged("another copy is already running");
	ck_assert_int_eq(h_count_entries(p_arch), 10);
	pitr_pidfile_release(held);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_arch), 5);
	ck_assert(!h_exists(pidpath));
}
END_TEST

static void
expect_error(const char *msg)
{
	char want[16384];

	h_log_reset();
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), -1);
	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

START_TEST(test_bad_input)
{
	char msg[16384];

	make_archive();
	opts.segment = "00000002.history";
	expect_error("\"00000002.history\" is not a WAL segment name: archive_cleanup_command must "
		     "pass \"%r\"");
	opts.segment = "%r";
	expect_error("\"%r\" is not a WAL segment name: archive_cleanup_command must pass \"%r\"");
	opts.segment = NULL;
	expect_error("\"\" is not a WAL segment name: archive_cleanup_command must pass \"%r\"");
	opts.segment = "000000020000000000000005";
	opts.archive = NULL;
	expect_error("no --archive given: pitr-cleanup needs the archive to clean");
	opts.archive = "gz=/x";
	expect_error("unknown compression \"gz\" in --archive \"gz=/x\": expected none, gzip, bzip2, "
		     "lzma, xz, lz4 or zstd");
	opts.archive = h_path("nope");
	snprintf(msg, sizeof(msg), "could not open directory \"%s\": No such file or directory",
		 h_path("nope"));
	expect_error(msg);
	ck_assert_int_eq(h_count_entries(p_arch), 10);
}
END_TEST

START_TEST(test_failure_stops)
{
	char msg[16384];

	make_archive();
	/* Segment 2 cannot be removed: 1 goes, 3 and newer stay. */
	ck_assert_int_eq(unlink(h_path("arch/000000010000000000000002.zst")), 0);
	ck_assert_int_eq(mkdir(h_path("arch/000000010000000000000002.zst"), 0700), 0);
	ck_assert_int_eq(pitr_cmd_cleanup(&opts), -1);
	ck_assert(!arch_has("000000010000000000000001.gz"));
	ck_assert(arch_has("000000010000000000000003"));
	snprintf(msg, sizeof(msg), "ERROR : could not remove \"%s/000000010000000000000002.zst\": Is "
		 "a directory\nLOG : removed 1 file older than \"000000020000000000000005\" from "
		 "\"%s\"\n", p_arch, p_arch);
	ck_assert_str_eq(h_log(), msg);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_cleanup");
	TCase *tc = tcase_create("pitr_cmd_cleanup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_removes_older);
	tcase_add_test(tc, test_codec_prefix_and_cutoff_kinds);
	tcase_add_test(tc, test_dry_run);
	tcase_add_test(tc, test_pause_trigger);
	tcase_add_test(tc, test_pid_file);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_failure_stops);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
