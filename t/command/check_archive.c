/*
 * check_archive.c - unit tests for pitr_cmd_archive(): what reaches
 * each destination, the state dir across a partial failure, and every
 * kind of bad input refused with nothing left at a final name.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command/archive/ahead.h"
#include "command/archive/archive.h"
#include "compress/codec.h"
#include "common/log.h"
#include "dest/dest.h"
#include "harness.h"
#include "postgres/sysid.h"

#define SEGSIZE (1u << 20)
#define SEG1 "000000010000000000000001"
#define SEG2 "000000010000000000000002"
#define SEG3 "000000010000000000000003"

static struct pitr_archive_opts opts;
static const char *locals[4];
/* Stable copies: h_path() reuses a small ring of buffers. */
static char p_data[4096], p_tmp[4096], p_state[4096], p_a[4096], p_b[4096], p_backup[4096];

static void
setup(void)
{
	h_setup();
	ck_assert_int_eq(mkdir(h_path("data"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("data/pg_wal"), 0700), 0);
	h_write_file(h_path("data/PG_VERSION"), "15\n", 3);
	ck_assert_int_eq(mkdir(h_path("state"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("tmp"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("a"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("b"), 0700), 0);
	snprintf(p_data, sizeof(p_data), "%s", h_path("data"));
	snprintf(p_tmp, sizeof(p_tmp), "%s", h_path("tmp"));
	snprintf(p_state, sizeof(p_state), "%s", h_path("state"));
	snprintf(p_a, sizeof(p_a), "%s", h_path("a"));
	snprintf(p_b, sizeof(p_b), "%s", h_path("b"));
	snprintf(p_backup, sizeof(p_backup), "%s", h_path("backup"));
	memset(&opts, 0, sizeof(opts));
	opts.data_dir = p_data;
	opts.temp_dir = p_tmp;
	opts.parallel_jobs = 1;
	opts.not_nice = true;
	opts.dst_local = locals;
}

static void
teardown(void)
{
	h_teardown();
}

/* Decompress `path` with `codec` and compare it with `want`. */
static void
assert_content(const char *path, enum pitr_codec codec, const unsigned char *want, size_t len)
{
	int fd = open(path, O_RDONLY);
	struct pitr_codec_reader *r;
	unsigned char *got = malloc(len + 1);
	size_t have = 0;
	ssize_t n;

	ck_assert_msg(fd >= 0, "missing %s", path);
	r = pitr_codec_reader_new(codec, fd, path);
	ck_assert_ptr_nonnull(r);
	while ((n = pitr_codec_reader_read(r, got + have, len + 1 - have)) > 0)
		have += (size_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(have, len);
	ck_assert_mem_eq(got, want, len);
	pitr_codec_reader_free(r);
	close(fd);
	free(got);
}

static void
assert_error_line(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_msg(strstr(h_log(), want) != NULL, "log lacks [%s]: [%s]", want, h_log());
}

START_TEST(test_every_codec_once)
{
	unsigned char *seg;
	char gz[4096], zst[4096];

	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 1, 77);
	seg = h_make_segment(SEGSIZE, 1, 1, 77, 1);
	snprintf(gz, sizeof(gz), "gzip=%s", h_path("b"));
	ck_assert_int_eq(mkdir(h_path("c"), 0700), 0);
	snprintf(zst, sizeof(zst), "zstd=%s", h_path("c"));
	locals[0] = p_a;
	locals[1] = gz;
	locals[2] = zst;
	opts.ndst_local = 3;
	opts.state_dir = p_state;
	opts.wal_path = "pg_wal/" SEG1;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	assert_content(h_path("a/" SEG1), PITR_CODEC_NONE, seg, SEGSIZE);
	assert_content(h_path("b/" SEG1 ".gz"), PITR_CODEC_GZIP, seg, SEGSIZE);
	assert_content(h_path("c/" SEG1 ".zst"), PITR_CODEC_ZSTD, seg, SEGSIZE);
	/* Each destination holds the file and the cluster's record, nothing else. */
	ck_assert_int_eq(h_count_entries(h_path("a")), 2);
	ck_assert_int_eq(h_count_entries(h_path("b")), 2);
	ck_assert(h_exists(h_path("c/" PITR_SYSID_FILE)));
	/* All delivered: the state record is gone. */
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : archived \"" SEG1 "\" (segment) in "));
	/* Archiving the same file again (PostgreSQL may, after a crash) succeeds. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "with the same content"));
	free(seg);
}
END_TEST

START_TEST(test_history_file)
{
	const char *text = "1\t0/3000000\tno recovery target specified\n";

	locals[0] = p_a;
	opts.ndst_local = 1;
	h_write_file(h_path("data/pg_wal/00000002.history"), text, strlen(text));
	opts.wal_path = "pg_wal/00000002.history";
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	assert_content(h_path("a/00000002.history"), PITR_CODEC_NONE, (const unsigned char *)text,
		       strlen(text));
	/* No segment header, so no system identifier to record. */
	ck_assert(!h_exists(h_path("a/" PITR_SYSID_FILE)));
}
END_TEST

START_TEST(test_partial_failure_and_retry)
{
	char script[8192];
	const char *pipes[1];
	static char up[4096];
	struct stat before, after;

	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 77);
	/* A pipe destination that fails until the flag file exists. */
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n[ -e '%s' ] || exit 4\ncat > '%s'/\"$1\"\n", h_path("flag"), h_path("b"));
	h_write_file(h_path("up.sh"), script, strlen(script));
	ck_assert_int_eq(chmod(h_path("up.sh"), 0755), 0);
	locals[0] = p_a;
	opts.ndst_local = 1;
	snprintf(up, sizeof(up), "%s", h_path("up.sh"));
	pipes[0] = up;
	opts.dst_pipe = pipes;
	opts.ndst_pipe = 1;
	opts.state_dir = p_state;
	opts.wal_path = "pg_wal/" SEG2;

	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	assert_error_line("could not archive \"" SEG2 "\": 1 of 2 destinations failed; the others are "
			  "recorded in the state dir");
	ck_assert(h_exists(h_path("a/" SEG2)));
	ck_assert(h_exists(h_path("state/" SEG2 ".pitr-state")));
	ck_assert_int_eq(stat(h_path("a/" SEG2), &before), 0);

	/* The retry delivers only to the pipe. */
	h_write_file(h_path("flag"), "", 0);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "already delivered to"));
	ck_assert_int_eq(stat(h_path("a/" SEG2), &after), 0);
	ck_assert_int_eq(before.st_ino, after.st_ino);
	ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
	ck_assert(h_exists(h_path("b/" SEG2)));
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
}
END_TEST

/* An ERROR line that starts with `start` and ends with `end`; returns
 * the log from it on. */
static const char *
assert_error_span(const char *start, const char *end)
{
	char want[4096];
	const char *e, *nl;

	snprintf(want, sizeof(want), "ERROR : %s", start);
	e = strstr(h_log(), want);
	ck_assert_msg(e != NULL, "log lacks [%s]: [%s]", want, h_log());
	nl = strchr(e, '\n');
	ck_assert_ptr_nonnull(nl);
	ck_assert_msg((size_t)(nl - e) >= strlen(end) && strncmp(nl - strlen(end), end, strlen(end)) == 0,
		      "[%.*s] does not end with [%s]", (int)(nl - e), e, end);
	return e;
}

/* That line, and no other ERROR line. */
static void
assert_one_error(const char *start, const char *end)
{
	const char *e = assert_error_span(start, end);

	ck_assert_msg(e == strstr(h_log(), "ERROR") && strstr(e + 1, "ERROR") == NULL,
		      "more than one error: [%s]", h_log());
}

/* A state dir where nothing can be created (/proc/self: whoever runs the
 * test, root included): both deliveries succeed, so the file is archived
 * and the run succeeds, with one line saying the record could not be
 * written, where and why; no destination is called failed. */
START_TEST(test_state_dir_unwritable)
{
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 77);
	locals[0] = p_a;
	locals[1] = p_b;
	opts.ndst_local = 2;
	opts.state_dir = "/proc/self";
	opts.wal_path = "pg_wal/" SEG2;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(h_exists(h_path("a/" SEG2)));
	ck_assert(h_exists(h_path("b/" SEG2)));
	assert_one_error("archived \"" SEG2 "\" to every destination, but could not record it in "
			 "state dir \"/proc/self\" (",
			 "); nothing is lost, but fix the state dir before a destination fails");
	ck_assert_ptr_null(strstr(h_log(), "destinations failed"));
}
END_TEST

/* The same with one destination failing: the run fails, and its line
 * says which succeeded and that the state dir could not record them. */
START_TEST(test_state_dir_unwritable_partial)
{
	char script[8192];
	const char *pipes[1];
	static char up[4096];

	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 77);
	snprintf(script, sizeof(script), "#!/bin/sh\nexit 4\n");
	h_write_file(h_path("up.sh"), script, strlen(script));
	ck_assert_int_eq(chmod(h_path("up.sh"), 0755), 0);
	snprintf(up, sizeof(up), "%s", h_path("up.sh"));
	pipes[0] = up;
	locals[0] = p_a;
	opts.ndst_local = 1;
	opts.dst_pipe = pipes;
	opts.ndst_pipe = 1;
	opts.state_dir = "/proc/self";
	opts.wal_path = "pg_wal/" SEG2;
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	ck_assert(h_exists(h_path("a/" SEG2)));
	/* The state write's own words (fsutil's) are not asserted here. */
	assert_error_span("could not archive \"" SEG2 "\": 1 of 2 destinations failed; 1 delivery "
			 "that succeeded could not be recorded in state dir \"/proc/self\" (",
			 "), so a retry repeats it");
}
END_TEST

/* Every destination failing: no "others" to speak of. */
START_TEST(test_all_failed)
{
	static char up[2][4096];
	const char *pipes[2];

	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 77);
	h_write_file(h_path("fail.sh"), "#!/bin/sh\nexit 4\n", 18);
	ck_assert_int_eq(chmod(h_path("fail.sh"), 0755), 0);
	snprintf(up[0], sizeof(up[0]), "%s", h_path("fail.sh"));
	snprintf(up[1], sizeof(up[1]), "gzip=%s", h_path("fail.sh"));
	pipes[0] = up[0];
	pipes[1] = up[1];
	opts.dst_pipe = pipes;
	opts.ndst_pipe = 2;
	opts.state_dir = p_state;
	opts.wal_path = "pg_wal/" SEG2;
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	assert_error_line("could not archive \"" SEG2 "\": 2 of 2 destinations failed");
}
END_TEST

/* A single destination's failure is reported once: its own line names the
 * cause, and no "1 of 1 destinations failed" line repeats it. */
START_TEST(test_single_failure_one_line)
{
	const char *pipes[1] = { "false" };
	const char *log, *p;
	int lines = 0;

	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 78);
	opts.dst_pipe = pipes;
	opts.ndst_pipe = 1;
	opts.wal_path = "pg_wal/" SEG2;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	log = h_log();
	for (p = log; (p = strstr(p, "ERROR : ")) != NULL; p++)
		lines++;
	ck_assert_msg(lines == 1, "expected one error line: [%s]", log);
	ck_assert_ptr_null(strstr(log, "destinations failed"));
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
}
END_TEST

START_TEST(test_dst_backup_only_while_it_exists)
{
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 1, 77);
	locals[0] = p_a;
	opts.ndst_local = 1;
	opts.state_dir = p_state;
	opts.dst_backup = p_backup;
	opts.wal_path = "pg_wal/" SEG1;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(!h_exists(h_path("backup")));
	ck_assert_int_eq(mkdir(h_path("backup"), 0700), 0);
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(h_exists(h_path("backup/" SEG1)));
	/* The backup's WAL collection gets no cluster record. */
	ck_assert_int_eq(h_count_entries(h_path("backup")), 1);
}
END_TEST

/* Run with the current opts, expect failure with `msg` and no file in a or b. */
static void
expect_refusal(const char *msg)
{
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	assert_error_line(msg);
	ck_assert_int_eq(h_count_entries(h_path("a")), 0);
	ck_assert_int_eq(h_count_entries(h_path("b")), 0);
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
}

START_TEST(test_bad_inputs)
{
	char msg[8192], path[4096];
	unsigned char *seg;

	locals[0] = p_a;
	locals[1] = p_b;
	opts.ndst_local = 2;
	opts.state_dir = p_state;

	/* Not a WAL name. */
	h_write_file(h_path("data/pg_wal/notwal"), "x", 1);
	opts.wal_path = "pg_wal/notwal";
	snprintf(msg, sizeof(msg), "\"%s/pg_wal/notwal\" is not a WAL file: its name is not one "
		 "PostgreSQL archives", h_path("data"));
	expect_refusal(msg);

	/* Missing file. */
	opts.wal_path = "pg_wal/" SEG2;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "No such file or directory"));

	/* A header that is not a WAL page header. */
	seg = h_make_segment(SEGSIZE, 1, 1, 77, 1);
	memset(seg, 0, 40);
	snprintf(path, sizeof(path), "%s", h_path("data/pg_wal/" SEG1));
	h_write_file(path, seg, SEGSIZE);
	opts.wal_path = "pg_wal/" SEG1;
	snprintf(msg, sizeof(msg), "\"%s\" is not a WAL segment of a known PostgreSQL version: "
		 "page magic 0x0000", path);
	expect_refusal(msg);
	free(seg);

	/* Truncated to half. */
	seg = h_make_segment(SEGSIZE, 1, 1, 77, 1);
	h_write_file(path, seg, SEGSIZE / 2);
	snprintf(msg, sizeof(msg), "\"%s\" is %u bytes but its header says segments are %u bytes",
		 path, SEGSIZE / 2, SEGSIZE);
	expect_refusal(msg);

	/* Named for another position than its header says. */
	h_write_file(h_path("data/pg_wal/" SEG2), seg, SEGSIZE);
	opts.wal_path = "pg_wal/" SEG2;
	snprintf(msg, sizeof(msg), "\"%s\" has page address 0/100000 but its name says 0/200000",
		 h_path("data/pg_wal/" SEG2));
	expect_refusal(msg);
	free(seg);

	/* Two destinations without a state dir. */
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 1, 77);
	opts.wal_path = "pg_wal/" SEG1;
	opts.state_dir = NULL;
	expect_refusal("2 destinations need --state-dir, so that a retry after a partial failure "
		       "delivers only to the destinations that missed the file");
	opts.state_dir = p_state;

	/* --dst-backup must be absolute and plain. */
	opts.dst_backup = "gzip=/x";
	expect_refusal("--dst-backup \"gzip=/x\" cannot be compressed: pitr-backup-master reads it as "
		       "plain WAL");
	opts.dst_backup = "rel/dir";
	expect_refusal("--dst-backup \"rel/dir\" must be an absolute path");
	opts.dst_backup = NULL;

	/* A bad destination spec fails before anything is written. */
	locals[1] = "gzp=/x";
	expect_refusal("unknown compression \"gzp\" in --dst-local \"gzp=/x\": expected none, gzip, "
		       "bzip2, lzma, xz, lz4 or zstd");
	locals[1] = p_b;

	/* No destination at all. */
	opts.ndst_local = 0;
	expect_refusal("no destination given: use --dst-local, --dst-remote, --dst-pipe or --dst-backup");
	opts.ndst_local = 2;

	/* Not a data directory. */
	static char seg1[4096];

	snprintf(seg1, sizeof(seg1), "%s", h_path("data/pg_wal/" SEG1));
	opts.data_dir = h_dir();
	opts.wal_path = seg1;
	snprintf(msg, sizeof(msg), "\"%s\" is not a PostgreSQL data directory (no PG_VERSION): give "
		 "the right --data-dir, or --force-data-dir", h_dir());
	expect_refusal(msg);
	opts.force_data_dir = true;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(h_exists(h_path("a/" SEG1)));
}
END_TEST

START_TEST(test_other_cluster_refused)
{
	char msg[8192];

	locals[0] = p_a;
	opts.ndst_local = 1;
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 1, 77);
	opts.wal_path = "pg_wal/" SEG1;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	/* A segment of another cluster (system identifier 78). */
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 78);
	opts.wal_path = "pg_wal/" SEG2;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	snprintf(msg, sizeof(msg), "\"%s\" holds WAL of database system 77, not 78: refusing to mix "
		 "clusters in one archive", h_path("a"));
	assert_error_line(msg);
	ck_assert(!h_exists(h_path("a/" SEG2)));
	ck_assert_int_eq(h_count_entries(h_path("a")), 2);
}
END_TEST

START_TEST(test_pid_file_busy)
{
	pid_t child;
	int status;
	char pidpath[4096];

	locals[0] = p_a;
	opts.ndst_local = 1;
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 1, 77);
	opts.wal_path = "pg_wal/" SEG1;
	snprintf(pidpath, sizeof(pidpath), "%s", h_path("archive.pid"));
	opts.pid_file = pidpath;
	/* While another process holds the pid file, the run is refused. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		execlp("flock", "flock", pidpath, "sleep", "2", (char *)NULL);
		_exit(127);
	}
	for (int wait_idx = 0; wait_idx < 100 && !h_exists(pidpath); wait_idx++)
		usleep(10000);
	usleep(100000);
	ck_assert_int_eq(pitr_cmd_archive(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "another copy is already running"));
	ck_assert(!h_exists(h_path("a/" SEG1)));
	waitpid(child, &status, 0);
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(h_exists(h_path("a/" SEG1)));
	/* Released at the end of the run. */
	ck_assert(!h_exists(pidpath));
}
END_TEST

/* A record whose file is at every destination (recorded, or a complete
 * local copy) is removed; one whose file is missing, incomplete or at a
 * destination that cannot be checked is kept. */
static void
write_record(const char *wal, const char *keys)
{
	h_write_file(h_path(h_fmt("state/%s.pitr-state", wal)), keys, strlen(keys));
}

START_TEST(test_stale_state_records)
{
	const struct pitr_dest_args args = { .local = locals, .nlocal = 2 };
	unsigned char *seg3 = h_make_segment(SEGSIZE, 1, 3, 77, 1);
	unsigned char *seg4 = h_make_segment(SEGSIZE, 1, 4, 77, 1);
	struct pitr_dest_spec *specs;
	char gz[4096 + 8], ka[4096 + 16], kb[4096 + 16];
	size_t nspecs;

	snprintf(gz, sizeof(gz), "gzip=%s", p_b);
	locals[0] = p_a;
	locals[1] = gz;
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &nspecs), 0);
	snprintf(ka, sizeof(ka), "local:none=%s\n", p_a);
	snprintf(kb, sizeof(kb), "local:gzip=%s\n", p_b);
	/* SEG3: recorded at a, a complete copy in b: stale. */
	write_record(SEG3, ka);
	h_write_compressed(h_path("b/" SEG3 ".gz"), PITR_CODEC_GZIP, seg3, SEGSIZE);
	/* SEG4: recorded at a, nothing in b: needed. */
	write_record("000000010000000000000004", ka);
	/* SEG5: recorded at b, a truncated copy in a: needed. */
	write_record("000000010000000000000005", kb);
	free(seg3);
	seg3 = h_make_segment(SEGSIZE, 1, 5, 77, 1);
	h_write_file(h_path("a/000000010000000000000005"), seg3, SEGSIZE / 2);
	pitr_log_open("check", NULL, true);
	ck_assert_int_eq(pitr_archive_prune_state(p_state, NULL, specs, nspecs, 10), 1);
	ck_assert(!h_exists(h_path("state/" SEG3 ".pitr-state")));
	ck_assert(h_exists(h_path("state/000000010000000000000004.pitr-state")));
	ck_assert(h_exists(h_path("state/000000010000000000000005.pitr-state")));
	ck_assert_ptr_nonnull(strstr(h_log(), "removed state record of \"" SEG3 "\": every "
				     "destination holds it"));
	ck_assert_ptr_nonnull(strstr(h_log(), "kept state record of \"000000010000000000000004\""));
	ck_assert_ptr_nonnull(strstr(h_log(), "kept state record of \"000000010000000000000005\": "));
	ck_assert_ptr_nonnull(strstr(h_log(), "holds 524288 bytes but its header says"));
	/* A copy that appears later makes the record stale. */
	h_write_compressed(h_path("b/000000010000000000000004.gz"), PITR_CODEC_GZIP, seg4, SEGSIZE);
	ck_assert_int_eq(pitr_archive_prune_state(p_state, NULL, specs, nspecs, 10), 1);
	ck_assert(!h_exists(h_path("state/000000010000000000000004.pitr-state")));
	ck_assert(h_exists(h_path("state/000000010000000000000005.pitr-state")));
	pitr_dest_specs_free(specs, nspecs);
	free(seg3);
	free(seg4);
}
END_TEST

/* pitr-archive's own run removes a stale record, never one a pipe
 * destination (which cannot be read back) may still need. */
START_TEST(test_archive_prunes_stale_record)
{
	static char pipe_prog[4096];
	const char *pipes[1] = { pipe_prog };
	unsigned char *seg3 = h_make_segment(SEGSIZE, 1, 3, 77, 1);
	char ka[4096 + 16];

	snprintf(pipe_prog, sizeof(pipe_prog), "%s", "true");
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 2, 77);
	locals[0] = p_a;
	opts.ndst_local = 1;
	opts.state_dir = p_state;
	opts.wal_path = "pg_wal/" SEG2;
	snprintf(ka, sizeof(ka), "local:none=%s\n", p_a);
	write_record(SEG3, "");
	h_write_file(h_path("a/" SEG3), seg3, SEGSIZE);
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	/* With a pipe destination the record is kept. */
	write_record(SEG3, ka);
	opts.dst_pipe = pipes;
	opts.ndst_pipe = 1;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ck_assert(h_exists(h_path("state/" SEG3 ".pitr-state")));
	free(seg3);
}
END_TEST

/* ---- look-ahead (issue 12) ---- */

#define SEG4 "000000010000000000000004"

/* Whether call_for() waits for the look-ahead a call starts to end, so
 * that a test sees what it did (the workers go on after the call). */
static bool ahead_sync;

/* Segments 1 to 4 in pg_wal, a .ready file for those in `ready` (a
 * string of their numbers), look-ahead on into dir a, calls waiting for
 * the look-ahead they start. */
static void
ahead_setup(const char *ready)
{
	ahead_sync = true;
	ck_assert_int_eq(mkdir(h_path("data/pg_wal/archive_status"), 0700), 0);
	for (unsigned n = 1; n <= 4; n++) {
		h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, n, 77);
		if (strchr(ready, (int)('0' + n)) != NULL)
			h_write_file(h_path(h_fmt("data/pg_wal/archive_status/0000000100000000%08X.ready", n)),
				     "", 0);
	}
	locals[0] = p_a;
	opts.ndst_local = 1;
	opts.state_dir = p_state;
	opts.look_ahead = 8;
	opts.jobs = 2;
}

/* Wait until no look-ahead runs: its workers hold the lock that
 * pitr_lookahead_wait() waits for, for a segment that never has a record. */
static void
ahead_settle(void)
{
	struct pitr_archive_opts o = opts;

	o.state_dir = p_state;
	o.look_ahead = 1;
	pitr_lookahead_wait(&o, "0000000100000000000000FF");
}

/* Archive segment `n` as PostgreSQL does: its .ready becomes .done once
 * the call succeeded. */
static int
call_for(unsigned n)
{
	char ready[4096];
	int rc;

	opts.wal_path = h_fmt("pg_wal/0000000100000000%08X", n);
	rc = pitr_cmd_archive(&opts);
	if (ahead_sync)
		ahead_settle();
	snprintf(ready, sizeof(ready), "%s", h_path(h_fmt("data/pg_wal/archive_status/"
							  "0000000100000000%08X.ready", n)));
	if (rc == 0 && access(ready, F_OK) == 0)
		ck_assert_int_eq(rename(ready, h_fmt("%.*s.done", (int)strlen(ready) - 6, ready)), 0);
	return rc;
}

static ino_t
inode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* A call archives its own segment and those after it that have a .ready
 * file, never one without (SEG4); each leaves a record that the call
 * PostgreSQL makes for it later takes, without delivering again. */
START_TEST(test_look_ahead_delivers_ready_segments)
{
	unsigned char *seg3 = h_make_segment(SEGSIZE, 1, 3, 77, 3);
	ino_t ino;

	ahead_setup("123");
	ck_assert_int_eq(call_for(1), 0);
	ck_assert(h_exists(h_path("a/" SEG1)));
	assert_content(h_path("a/" SEG3), PITR_CODEC_NONE, seg3, SEGSIZE);
	ck_assert(!h_exists(h_path("a/" SEG4)));
	ck_assert(h_exists(h_path("state/" SEG2 ".pitr-ahead")));
	ck_assert(h_exists(h_path("state/" SEG3 ".pitr-ahead")));
	ck_assert_int_eq(h_count_entries(h_path("state")), 2);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));

	ino = inode_of(h_path("a/" SEG2));
	h_log_reset();
	ck_assert_int_eq(call_for(2), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : archived \"" SEG2 "\" (segment) in "));
	ck_assert_ptr_null(strstr(h_log(), "same content"));
	ck_assert_int_eq(inode_of(h_path("a/" SEG2)), ino);
	ck_assert(!h_exists(h_path("state/" SEG2 ".pitr-ahead")));
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	free(seg3);
}
END_TEST

/* A record proves nothing once its file is gone from the destination, or
 * when the segment is another file now: delivered again. */
START_TEST(test_look_ahead_record_checked)
{
	unsigned char *seg2 = h_make_segment(SEGSIZE, 1, 2, 77, 2);

	ahead_setup("123");
	ck_assert_int_eq(call_for(1), 0);
	ck_assert_int_eq(unlink(h_path("a/" SEG2)), 0);
	ck_assert_int_eq(call_for(2), 0);
	assert_content(h_path("a/" SEG2), PITR_CODEC_NONE, seg2, SEGSIZE);

	/* SEG3 rewritten in pg_wal (another inode): its record is not its. */
	h_replace_file(h_path("data/pg_wal/" SEG3), "");
	h_write_segment(h_path("data/pg_wal"), SEGSIZE, 1, 3, 77);
	h_log_reset();
	ck_assert_int_eq(call_for(3), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "with the same content"));
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	free(seg2);
}
END_TEST

/* A look-ahead failure is not reported when it happens, but by the call
 * PostgreSQL makes for that segment. */
START_TEST(test_look_ahead_failure_reported_later)
{
	ahead_setup("123");
	h_write_file(h_path("a/" SEG3), "another file", 12);
	ck_assert_int_eq(call_for(1), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert(!h_exists(h_path("state/" SEG3 ".pitr-ahead")));
	ck_assert_int_eq(call_for(3), -1);
	assert_error_line(h_fmt("\"%s\" already exists with different content: not overwritten",
				h_path("a/" SEG3)));
}
END_TEST

/* A destination added since the look-ahead gets the file; the one the
 * record proves is not written again. */
START_TEST(test_look_ahead_new_destination)
{
	ino_t ino;

	ahead_setup("12");
	ck_assert_int_eq(call_for(1), 0);
	ino = inode_of(h_path("a/" SEG2));
	locals[1] = p_b;
	opts.ndst_local = 2;
	ck_assert_int_eq(call_for(2), 0);
	ck_assert_int_eq(inode_of(h_path("a/" SEG2)), ino);
	ck_assert(h_exists(h_path("b/" SEG2)));
	ck_assert_msg(h_count_entries(h_path("state")) == 0, "%s", h_log());
}
END_TEST

/* Detached (pitr-archive's way): the workers go on after the call; a
 * call for a segment they are delivering waits for its record. */
START_TEST(test_look_ahead_detached)
{
	ino_t ino;

	ahead_setup("1234");
	ahead_sync = false;
	opts.ahead_mode = PITR_AHEAD_DETACHED;
	ck_assert_int_eq(call_for(1), 0);
	ck_assert_int_eq(call_for(2), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : archived \"" SEG2 "\" (segment) in "));
	ck_assert(h_exists(h_path("a/" SEG2)));
	/* No record of this name ever: returns once the look-ahead ended. */
	pitr_lookahead_wait(&opts, "0000000100000000000000FF");
	ck_assert(h_exists(h_path("state/" SEG3 ".pitr-ahead")));
	ck_assert(h_exists(h_path("state/" SEG4 ".pitr-ahead")));
	ino = inode_of(h_path("a/" SEG4));
	ck_assert_int_eq(call_for(3), 0);
	ck_assert_int_eq(call_for(4), 0);
	ck_assert_int_eq(inode_of(h_path("a/" SEG4)), ino);
	pitr_lookahead_wait(&opts, "0000000100000000000000FF");
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
}
END_TEST

/* The temporary files in `dir`. */
static int
count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".pitr-tmp") != NULL;
	closedir(d);
	return n;
}

/* Children (the archive module's way): the workers go on after the
 * call as this process's children; stopping them leaves each later
 * segment either recorded and delivered or neither, nothing half-written,
 * and no child behind. */
START_TEST(test_look_ahead_children)
{
	ahead_setup("1234");
	ahead_sync = false;
	opts.ahead_mode = PITR_AHEAD_CHILDREN;
	ck_assert_int_eq(call_for(1), 0);
	ck_assert_int_eq(call_for(2), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : archived \"" SEG2 "\" (segment) in "));
	pitr_lookahead_stop();
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	ck_assert(!h_exists(h_path("state/" SEG3 ".pitr-ahead")) || h_exists(h_path("a/" SEG3)));
	ck_assert(!h_exists(h_path("state/" SEG4 ".pitr-ahead")) || h_exists(h_path("a/" SEG4)));
	ck_assert_int_eq(count_temps(h_path("a")) + count_temps(h_path("state")), 0);
	ck_assert_int_eq(call_for(3), 0);
	ck_assert_int_eq(call_for(4), 0);
	pitr_lookahead_stop();
	ck_assert_int_eq(h_count_entries(h_path("state")), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
}
END_TEST

/* Off with --look-ahead 0, and without a state dir to record in. */
START_TEST(test_look_ahead_off)
{
	ahead_setup("123");
	opts.look_ahead = 0;
	ck_assert_int_eq(call_for(1), 0);
	ck_assert(!h_exists(h_path("a/" SEG2)));
	opts.look_ahead = 8;
	opts.state_dir = NULL;
	ck_assert_int_eq(pitr_cmd_archive(&opts), 0);
	ahead_settle();
	ck_assert(!h_exists(h_path("a/" SEG2)));
}
END_TEST

/* A look-ahead record `age` seconds old for segment `n`. */
static void
write_ahead_record(unsigned n, time_t age)
{
	char path[4096];
	struct timespec times[2] = { { .tv_sec = time(NULL) - age }, { .tv_sec = time(NULL) - age } };

	snprintf(path, sizeof(path), "%s", h_path(h_fmt("state/0000000100000000%08X.pitr-ahead", n)));
	h_write_file(path, "pitrkit look-ahead 1\n", 21);
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* A successful call removes the look-ahead records PostgreSQL will never
 * take (no .ready for their segment, older than the grace), and keeps a
 * young one, one whose segment is still .ready, and what is not a
 * segment's record. */
START_TEST(test_look_ahead_stale_records_pruned)
{
	struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
	char other[4096];

	snprintf(other, sizeof(other), "%s", h_path("state/notawal.pitr-ahead"));
	ahead_setup("13");
	pitr_log_open("check", NULL, true);
	write_ahead_record(2, PITR_AHEAD_GRACE_SEC + 60);   /* marked done by hand */
	write_ahead_record(3, PITR_AHEAD_GRACE_SEC + 60);   /* still .ready */
	write_ahead_record(4, PITR_AHEAD_GRACE_SEC - 60);   /* young */
	h_write_file(other, "", 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, other, old, 0), 0);
	ck_assert_int_eq(call_for(1), 0);
	ck_assert(!h_exists(h_path("state/" SEG2 ".pitr-ahead")));
	ck_assert_ptr_nonnull(strstr(h_log(), "removed look-ahead record of \"" SEG2 "\""));
	ck_assert(h_exists(h_path("state/" SEG3 ".pitr-ahead")));
	ck_assert(h_exists(h_path("state/" SEG4 ".pitr-ahead")));
	ck_assert(h_exists(other));
	/* Once its .ready is gone (the call for it ran elsewhere), it goes too. */
	ck_assert_int_eq(unlink(h_path("data/pg_wal/archive_status/" SEG3 ".ready")), 0);
	ck_assert_uint_eq(pitr_archive_prune_ahead(p_state, opts.data_dir, SEG1, 8), 1);
	ck_assert(!h_exists(h_path("state/" SEG3 ".pitr-ahead")));
	ck_assert(h_exists(h_path("state/" SEG4 ".pitr-ahead")));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
}
END_TEST

/* Bounded per call; the call's own segment is not touched; without a
 * status dir nothing is proven stale. */
START_TEST(test_look_ahead_stale_records_bounded)
{
	char name[4096];

	ahead_setup("");
	for (unsigned n = 16; n < 16 + PITR_AHEAD_PRUNE_MAX + 3; n++)
		write_ahead_record(n, PITR_AHEAD_GRACE_SEC + 1);
	write_ahead_record(1, PITR_AHEAD_GRACE_SEC + 1);
	ck_assert_uint_eq(pitr_archive_prune_ahead(p_state, opts.data_dir, SEG1, 3), 3);
	ck_assert_int_eq(h_count_entries(h_path("state")), PITR_AHEAD_PRUNE_MAX + 1);
	ck_assert_uint_eq(pitr_archive_prune_ahead(p_state, opts.data_dir, SEG1, 100),
			  PITR_AHEAD_PRUNE_MAX);
	ck_assert(h_exists(h_path("state/" SEG1 ".pitr-ahead")));
	ck_assert_int_eq(h_count_entries(h_path("state")), 1);
	snprintf(name, sizeof(name), "%s", h_path("data/pg_wal/archive_status"));
	ck_assert_int_eq(rmdir(name), 0);
	ck_assert_uint_eq(pitr_archive_prune_ahead(p_state, opts.data_dir, "x", 100), 0);
	ck_assert(h_exists(h_path("state/" SEG1 ".pitr-ahead")));
}
END_TEST

#define MIB ((size_t)1 << 20)

/* The memory bound (issue 12): without --jobs, the call and its workers
 * fit in the budget, never fewer than the call alone; --jobs is obeyed. */
START_TEST(test_look_ahead_workers_bounded)
{
	/* xz, ~53 MiB a process: the call and one worker on 2 CPUs. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 53 * MIB, 2, 0), 1);
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 53 * MIB, 16, 0), 1);
	/* Small writers: one a CPU, besides the call. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 5 * MIB, 2, 0), 2);
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 5 * MIB, 64, 0), 16);
	/* zstd, ~33 MiB: 16 CPUs give 3 workers and the call. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 33 * MIB, 16, 0), 2);
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 32 * MIB, 16, 0), 3);
	/* More than the budget for the call alone: the call alone. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 200 * MIB, 8, 0), 0);
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 5 * MIB, 0, 0), 1);
	/* No estimate: one a CPU. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 0, 2, 0), 2);
	/* --jobs wins over the budget. */
	ck_assert_uint_eq(pitr_lookahead_workers(128 * MIB, 53 * MIB, 2, 4), 4);
	for (long cpus = 1; cpus <= 32; cpus++)
		for (size_t per = MIB; per <= 160 * MIB; per += 7 * MIB) {
			size_t workers = pitr_lookahead_workers(128 * MIB, per, cpus, 0);

			ck_assert(workers == 0 || (workers + 1) * per <= 128 * MIB);
		}
}
END_TEST

/* A process's estimate: the fixed part and one writer per distinct codec
 * and level of its destinations. */
START_TEST(test_archive_mem_estimate)
{
	struct pitr_dest_spec specs[4] = {
		{ .codec = PITR_CODEC_XZ, .level = 6 },
		{ .codec = PITR_CODEC_XZ, .level = 6 },
		{ .codec = PITR_CODEC_ZSTD, .level = 3 },
		{ .codec = PITR_CODEC_NONE, .level = 0 },
	};
	size_t xz = pitr_codec_mem_estimate(PITR_CODEC_XZ, 6, 2);
	size_t zstd = pitr_codec_mem_estimate(PITR_CODEC_ZSTD, 3, 2);

	ck_assert_uint_eq(pitr_archive_mem_estimate(specs, 0, 2), PITR_ARCHIVE_MEM_FIXED);
	ck_assert_uint_eq(pitr_archive_mem_estimate(specs + 3, 1, 2), PITR_ARCHIVE_MEM_FIXED);
	ck_assert_uint_eq(pitr_archive_mem_estimate(specs, 2, 2), PITR_ARCHIVE_MEM_FIXED + xz);
	ck_assert_uint_eq(pitr_archive_mem_estimate(specs, 4, 2),
			  PITR_ARCHIVE_MEM_FIXED + xz + zstd);
	/* xz alone allows the call and one worker, not two. */
	ck_assert_uint_gt(3 * pitr_archive_mem_estimate(specs, 1, 2), PITR_ARCHIVE_MEM_BUDGET);
	ck_assert_uint_le(2 * pitr_archive_mem_estimate(specs, 1, 2), PITR_ARCHIVE_MEM_BUDGET);
	/* Another level is another writer. */
	specs[1].level = 1;
	ck_assert_uint_gt(pitr_archive_mem_estimate(specs, 2, 2), PITR_ARCHIVE_MEM_FIXED + xz);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_archive");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "every codec compressed once", test_every_codec_once },
		{ "history file", test_history_file },
		{ "partial failure and retry", test_partial_failure_and_retry },
		{ "single failure, one line", test_single_failure_one_line },
		{ "dst-backup only while it exists", test_dst_backup_only_while_it_exists },
		{ "bad inputs", test_bad_inputs },
		{ "other cluster refused", test_other_cluster_refused },
		{ "pid file busy", test_pid_file_busy },
		{ "state dir unwritable", test_state_dir_unwritable },
		{ "state dir unwritable, one destination failing", test_state_dir_unwritable_partial },
		{ "all destinations failing", test_all_failed },
		{ "stale state records", test_stale_state_records },
		{ "pitr-archive prunes a stale record", test_archive_prunes_stale_record },
		{ "look-ahead delivers .ready segments", test_look_ahead_delivers_ready_segments },
		{ "look-ahead record checked", test_look_ahead_record_checked },
		{ "look-ahead failure reported later", test_look_ahead_failure_reported_later },
		{ "look-ahead, a new destination", test_look_ahead_new_destination },
		{ "look-ahead off", test_look_ahead_off },
		{ "look-ahead, detached workers", test_look_ahead_detached },
		{ "look-ahead, workers as children", test_look_ahead_children },
		{ "look-ahead workers bounded by memory", test_look_ahead_workers_bounded },
		{ "stale look-ahead records pruned", test_look_ahead_stale_records_pruned },
		{ "stale look-ahead records, bounded", test_look_ahead_stale_records_bounded },
		{ "memory estimate of a process", test_archive_mem_estimate },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		TCase *tc = tcase_create(cases[case_idx].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[case_idx].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
