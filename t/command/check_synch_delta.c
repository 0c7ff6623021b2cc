/*
 * check_synch_delta.c - unit tests for pitr-synch's delta copies through
 * the real rsync program (command/synch/delta.h): a file of the same size
 * and modification time but other content is found and re-sent, block by
 * block and in place; the base backup exclusions at the output (removed
 * there, pg_wal emptied and kept as the link it is, the names the output
 * keeps and the caller's left alone); begin, finish and probe on local
 * outputs, on ssh outputs (a remote shell that runs rsync's server side
 * here) and on a real rsync daemon on 127.0.0.1; rsync's exit 24 taken as
 * success and any other failure as one line naming the output and rsync's
 * reason.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command/synch/delta.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "harness.h"

#define SYSID_SRC UINT64_C(7300000000000000001)
#define SYSID_OLD UINT64_C(7300000000000000002)

static struct synch_delta_env env;
static struct synch_output out;
static char outdir[4096], tmpdir[4096];

static void
setup(void)
{
	h_setup();
	memset(&env, 0, sizeof(env));
	mkdir(h_path("tmp"), 0700);
	snprintf(tmpdir, sizeof(tmpdir), "%s", h_path("tmp"));
	env.temp_dir = tmpdir;
	memset(&out, 0, sizeof(out));
	snprintf(outdir, sizeof(outdir), "%s", h_path("out"));
	out.kind = SYNCH_OUT_LOCAL;
	out.label = outdir;
	out.path = outdir;
}

static void
teardown(void)
{
	h_teardown();
}

/* --- builders ----------------------------------------------------------- */

static void
mkdirs(const char *path)
{
	ck_assert_int_eq(pitr_fsutil_mkdir_p(path, 0700), 0);
}

/* `size` deterministic pseudo-random bytes for `seed` at dir/name
 * (parents made). */
static void
put_file(const char *dir, const char *name, size_t size, unsigned seed)
{
	char *path = pitr_fsutil_join(dir, name), *slash;
	unsigned char *buf = malloc(size + 1);
	uint32_t x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	h_write_file(path, buf, size);
	free(buf);
	free(path);
}

static void
put_text(const char *dir, const char *name, const char *text)
{
	char *path = pitr_fsutil_join(dir, name), *slash;

	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	h_write_file(path, text, strlen(text));
	free(path);
}

/* A pg_control of 8192 bytes whose first field is `sysid`. */
static void
put_control(const char *dir, uint64_t sysid)
{
	unsigned char buf[8192];

	memset(buf, 0x5a, sizeof(buf));
	memcpy(buf, &sysid, sizeof(sysid));
	mkdirs(h_fmt("%s/global", dir));
	h_write_file(h_fmt("%s/global/pg_control", dir), buf, sizeof(buf));
}

/* A small data directory as a primary holds it, with one of each thing a
 * base backup leaves out. */
static void
make_source(const char *dir)
{
	put_text(dir, "PG_VERSION", "15\n");
	put_control(dir, SYSID_SRC);
	put_file(dir, "base/1/1259", 64 * 1024, 1);
	put_file(dir, "base/1/2600", 16 * 1024, 2);
	put_file(dir, "global/1262", 8192, 3);
	put_text(dir, "postgresql.conf", "# the source's\n");
	put_text(dir, "postgresql.auto.conf", "work_mem = '8MB'\n");
	put_file(dir, "pg_wal/000000010000000000000003", 64 * 1024, 4);
	put_text(dir, "pg_wal/archive_status/000000010000000000000003.ready", "");
	put_text(dir, "pg_replslot/s1/state", "slot");
	put_text(dir, "pg_stat_tmp/global.stat", "stats");
	put_text(dir, "postmaster.pid", "4242\n");
	put_text(dir, "postmaster.opts", "postgres\n");
	put_text(dir, "backup_label", "the source's label\n");
	put_text(dir, "base/1/pg_internal.init", "cache");
	put_text(dir, "base/pgsql_tmp/pgsql_tmp1.0", "temp");
	mkdirs(h_fmt("%s/pg_tblspc", dir));
	ck_assert_int_eq(symlink("/nonexistent/ts-src", h_fmt("%s/pg_tblspc/16500", dir)), 0);
}

/* The same tree as an old, diverged node holds it. */
static void
make_stale_output(const char *dir)
{
	put_text(dir, "PG_VERSION", "15\n");
	put_control(dir, SYSID_OLD);
	put_file(dir, "base/1/1259", 64 * 1024, 1);
	put_file(dir, "base/1/2600", 16 * 1024, 99);
	put_file(dir, "base/1/9999", 8192, 5);
	put_text(dir, "postgresql.conf", "# the output's own\n");
	put_file(dir, "pg_wal/000000020000000000000007", 64 * 1024, 6);
	put_text(dir, "pg_wal/archive_status/000000020000000000000007.done", "");
	put_text(dir, "pg_replslot/old/state", "old slot");
	put_text(dir, "postmaster.opts", "old\n");
	put_text(dir, "backup_label", "an old label\n");
	put_text(dir, "base/1/pg_internal.init", "old cache");
	put_text(dir, SYNCH_IN_PROGRESS, "system identifier 1\n");
	mkdirs(h_fmt("%s/pg_tblspc", dir));
	ck_assert_int_eq(symlink("/nonexistent/ts-out", h_fmt("%s/pg_tblspc/16400", dir)), 0);
}

/* The file at `path` holds exactly `text`. */
static void
assert_text(const char *path, const char *text)
{
	size_t len;
	char *got = h_read_file(path, &len);

	ck_assert_str_eq(got, text);
	free(got);
}

static bool
same_file(const char *a, const char *b)
{
	return pitr_fsutil_files_equal(a, b) == 1;
}

static bool
is_link(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* --- the comparison ----------------------------------------------------- */

/*
 * The case size and modification time cannot tell: a file at the output
 * with the source's size and mtime but one byte different.  It is re-sent,
 * ends identical, keeps its inode (written in place) and costs a block,
 * not the file.
 */
START_TEST(test_same_size_and_mtime_differs)
{
	const char *src = h_path("src"), *a = h_path("src/base/1/16384"), *b = h_path("out/base/1/16384");
	struct timespec times[2];
	struct stat st_src, before, after;
	uint64_t sent = 0;
	size_t len;
	char *orig;
	FILE *f;

	put_file(src, "base/1/16384", 1024 * 1024, 7);
	put_file(outdir, "base/1/16384", 1024 * 1024, 7);
	/* One byte at the output differs; size and mtime are made the source's. */
	ck_assert_ptr_nonnull(f = fopen(b, "r+b"));
	ck_assert_int_eq(fseek(f, 500000, SEEK_SET), 0);
	orig = h_read_file(a, &len);
	ck_assert_int_ne(fputc(0xff ^ (unsigned char)orig[500000], f), EOF);
	free(orig);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(stat(a, &st_src), 0);
	times[0] = st_src.st_atim;
	times[1] = st_src.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, b, times, 0), 0);
	ck_assert_int_eq(stat(b, &before), 0);
	ck_assert_int_eq(before.st_size, st_src.st_size);
	ck_assert(before.st_mtim.tv_sec == st_src.st_mtim.tv_sec &&
		  before.st_mtim.tv_nsec == st_src.st_mtim.tv_nsec);
	ck_assert(!same_file(a, b));

	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, &sent), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert(same_file(a, b));
	ck_assert_int_eq(stat(b, &after), 0);
	ck_assert_uint_eq(after.st_ino, before.st_ino);
	/* One 8 KiB block and the checksums, not the 1 MiB file. */
	ck_assert_uint_gt(sent, 8192);
	ck_assert_uint_lt(sent, 64 * 1024);
}
END_TEST

/* Identical trees: nothing but the file list crosses. */
START_TEST(test_identical_sends_little)
{
	const char *src = h_path("src");
	uint64_t sent = 0;

	put_file(src, "base/1/a", 2 * 1024 * 1024, 8);
	put_file(outdir, "base/1/a", 2 * 1024 * 1024, 8);
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, &sent), 0);
	ck_assert_uint_lt(sent, 4096);
	ck_assert(same_file(h_path("src/base/1/a"), h_path("out/base/1/a")));
}
END_TEST

/* --- the base backup exclusions ----------------------------------------- */

START_TEST(test_pgdata_exclusions)
{
	const char *src = h_path("src");
	const char *keep[] = { "postgresql.conf" };
	char link[256];
	ssize_t n;

	make_source(src);
	make_stale_output(outdir);
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, true, keep, 1, NULL), 0);
	ck_assert_str_eq(h_log(), "");

	/* Files brought to the source's content, files only at the output gone. */
	ck_assert(same_file(h_path("src/base/1/1259"), h_path("out/base/1/1259")));
	ck_assert(same_file(h_path("src/base/1/2600"), h_path("out/base/1/2600")));
	ck_assert(same_file(h_path("src/global/1262"), h_path("out/global/1262")));
	ck_assert(same_file(h_path("src/postgresql.auto.conf"), h_path("out/postgresql.auto.conf")));
	ck_assert(!h_exists(h_path("out/base/1/9999")));
	/* Excluded: not sent, and removed at the output. */
	ck_assert(!h_exists(h_path("out/postmaster.pid")));
	ck_assert(!h_exists(h_path("out/postmaster.opts")));
	ck_assert(!h_exists(h_path("out/backup_label")));
	ck_assert(!h_exists(h_path("out/base/1/pg_internal.init")));
	ck_assert(!h_exists(h_path("out/base/pgsql_tmp")));
	/* Directories whose contents are excluded: there, empty. */
	ck_assert_int_eq(h_count_entries(h_path("out/pg_replslot")), 0);
	ck_assert_int_eq(h_count_entries(h_path("out/pg_stat_tmp")), 0);
	/* pg_wal: emptied, but for an empty archive_status. */
	ck_assert_int_eq(h_count_entries(h_path("out/pg_wal")), 1);
	ck_assert_int_eq(h_count_entries(h_path("out/pg_wal/archive_status")), 0);
	/* Kept: the output's own configuration, the marker, pg_control and
	 * the tablespace links (the caller's). */
	assert_text(h_path("out/postgresql.conf"), "# the output's own\n");
	ck_assert(h_exists(h_path("out/" SYNCH_IN_PROGRESS)));
	put_control(h_path("expect"), SYSID_OLD);
	ck_assert(same_file(h_path("expect/global/pg_control"), h_path("out/global/pg_control")));
	ck_assert(is_link(h_path("out/pg_tblspc/16400")));
	ck_assert(!h_exists(h_path("out/pg_tblspc/16500")) && !is_link(h_path("out/pg_tblspc/16500")));
	n = readlink(h_path("out/pg_tblspc/16400"), link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
}
END_TEST

/* An output's pg_wal that is a link stays one (its target emptied); a
 * source's pg_wal that is a link gives a directory at a new output, never
 * a link to the source's WAL. */
START_TEST(test_wal_links)
{
	const char *src = h_path("src"), *walout = h_path("walout");
	char target[4096];
	ssize_t n;

	make_source(src);
	make_stale_output(outdir);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_path("out/pg_wal")), 0);
	put_file(walout, "000000020000000000000009", 4096, 9);
	put_text(walout, "archive_status/000000020000000000000009.done", "");
	ck_assert_int_eq(symlink(walout, h_path("out/pg_wal")), 0);
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, true, NULL, 0, NULL), 0);
	ck_assert(is_link(h_path("out/pg_wal")));
	n = readlink(h_path("out/pg_wal"), target, sizeof(target) - 1);
	ck_assert_int_gt(n, 0);
	target[n] = '\0';
	ck_assert_str_eq(target, walout);
	ck_assert_int_eq(h_count_entries(walout), 1);
	ck_assert_int_eq(h_count_entries(h_path("walout/archive_status")), 0);

	/* Now the source's pg_wal is the link, the output new. */
	ck_assert_int_eq(pitr_fsutil_remove_tree(outdir), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_path("src/pg_wal")), 0);
	put_file(h_path("srcwal"), "000000010000000000000003", 4096, 10);
	ck_assert_int_eq(symlink(h_path("srcwal"), h_path("src/pg_wal")), 0);
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, true, NULL, 0, NULL), 0);
	ck_assert(!is_link(h_path("out/pg_wal")));
	ck_assert_int_eq(h_count_entries(h_path("out/pg_wal")), 1);
	ck_assert(h_exists(h_path("out/pg_wal/archive_status")));
	ck_assert(h_exists(h_path("srcwal/000000010000000000000003")));
}
END_TEST

/* A tablespace (not a data directory): the exclusions by name apply, the
 * data directory's own rules do not (no pg_wal made there). */
START_TEST(test_tablespace_tree)
{
	const char *src = h_path("ts");

	put_file(src, "PG_15_202209061/16384/16390", 8192, 1);
	put_text(src, "PG_15_202209061/pgsql_tmp/pgsql_tmp12.0", "temp");
	put_text(outdir, "PG_15_202209061/16384/16391", "dropped");
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), 0);
	ck_assert(same_file(h_path("ts/PG_15_202209061/16384/16390"),
			    h_path("out/PG_15_202209061/16384/16390")));
	ck_assert(!h_exists(h_path("out/PG_15_202209061/16384/16391")));
	ck_assert(!h_exists(h_path("out/PG_15_202209061/pgsql_tmp")));
	ck_assert(!h_exists(h_path("out/pg_wal")));
	ck_assert_int_eq(h_count_entries(outdir), 1);
}
END_TEST

/* --- probe, begin, files, finish ---------------------------------------- */

/* The whole cycle at `out`, whose data dir is `dir` seen locally. */
static void
cycle(const char *dir)
{
	const char *src = h_path("src");
	const char *names[] = { "backup_label", "pg_wal/000000010000000000000003" };
	const char *keep[] = { "postgresql.conf" };
	struct synch_probe p;

	make_source(src);
	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), 0);
	ck_assert(!p.exists);

	mkdirs(dir);
	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), 0);
	ck_assert(p.exists && p.empty && !p.datadir && p.sysid == 0);

	make_stale_output(dir);
	unlink(h_fmt("%s/%s", dir, SYNCH_IN_PROGRESS));
	put_text(dir, "postmaster.pid", "31337\n/data\n");
	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), 0);
	ck_assert(p.exists && !p.empty && p.datadir && !p.in_progress && p.pid_file);
	ck_assert_uint_eq(p.sysid, SYSID_OLD);
	ck_assert_int_eq(p.pid, 31337);
	ck_assert_str_eq(p.pg_version, "15");

	ck_assert_int_eq(pitr_synch_delta_begin(&env, &out, SYSID_SRC), 0);
	ck_assert(!h_exists(h_fmt("%s/global/pg_control", dir)));
	assert_text(h_fmt("%s/%s", dir, SYNCH_IN_PROGRESS), "system identifier 7300000000000000001\n");
	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), 0);
	ck_assert(p.in_progress && !p.datadir);
	ck_assert_uint_eq(p.sysid, SYSID_SRC);

	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, out.path, true, keep, 1, NULL), 0);
	ck_assert_int_eq(pitr_synch_delta_files(&env, &out, src, names, 2), 0);
	ck_assert(same_file(h_path("src/backup_label"), h_fmt("%s/backup_label", dir)));
	ck_assert(same_file(h_path("src/pg_wal/000000010000000000000003"),
			    h_fmt("%s/pg_wal/000000010000000000000003", dir)));
	ck_assert_int_eq(pitr_synch_delta_finish(&env, &out, h_path("src/global/pg_control")), 0);
	ck_assert(same_file(h_path("src/global/pg_control"), h_fmt("%s/global/pg_control", dir)));
	ck_assert(!h_exists(h_fmt("%s/%s", dir, SYNCH_IN_PROGRESS)));
	/* The output's postmaster.pid is neither removed nor overwritten by
	 * the tree (issue 10: a server may hold it), nor is the source's sent. */
	assert_text(h_fmt("%s/postmaster.pid", dir), "31337\n/data\n");
	ck_assert(same_file(h_path("src/base/1/2600"), h_fmt("%s/base/1/2600", dir)));
	assert_text(h_fmt("%s/postgresql.conf", dir), "# the output's own\n");

	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), 0);
	ck_assert(p.datadir && !p.in_progress && p.pid_file);
	ck_assert_uint_eq(p.sysid, SYSID_SRC);
	ck_assert_str_eq(h_log(), "");
	/* Every staging dir and rsync capture file removed. */
	ck_assert_int_eq(h_count_entries(tmpdir), 0);
}

START_TEST(test_cycle_local)
{
	cycle(outdir);
}
END_TEST

/* begin on a missing directory makes it; finish on an interrupted copy's
 * marker-only state puts pg_control back. */
START_TEST(test_begin_creates)
{
	const char *src = h_path("src");
	struct stat st;

	put_control(src, SYSID_SRC);
	snprintf(outdir, sizeof(outdir), "%s", h_path("new/deeper/out"));
	ck_assert_int_eq(pitr_synch_delta_begin(&env, &out, SYSID_SRC), 0);
	ck_assert_int_eq(stat(outdir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(pitr_synch_delta_finish(&env, &out, h_path("src/global/pg_control")), 0);
	ck_assert(same_file(h_path("src/global/pg_control"), h_fmt("%s/global/pg_control", outdir)));
	ck_assert_int_eq(h_count_entries(outdir), 1);
}
END_TEST

/* --- rsync's exit statuses ------------------------------------------------ */

static void
write_script(const char *path, const char *text)
{
	h_write_file(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0755), 0);
}

/* Exit 24 (files vanished at the source) is a success for a tree. */
START_TEST(test_vanished_is_success)
{
	const char *src = h_path("src");

	put_file(src, "base/1/a", 4096, 1);
	write_script(h_path("rsync24"), "#!/bin/sh\nrsync \"$@\" || exit $?\n"
		     "echo 'file has vanished: \"/x\"' >&2\nexit 24\n");
	env.rsync_path = h_path("rsync24");
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), 0);
	ck_assert(same_file(h_path("src/base/1/a"), h_path("out/base/1/a")));
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* Any other failure: one line naming the directory, the output, rsync's
 * status and its own reason. */
START_TEST(test_failure_one_line)
{
	const char *src = h_path("src");
	char want[16384];

	put_file(src, "base/1/a", 4096, 1);
	write_script(h_path("rsync23"), "#!/bin/sh\necho 'rsync: [receiver] mkstemp failed: "
		     "No space left on device (28)' >&2\n"
		     "echo 'rsync error: some files/attrs were not transferred (code 23)' >&2\nexit 23\n");
	env.rsync_path = h_path("rsync23");
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : could not bring up to date \"%s\" at output \"%s\": "
		 "rsync exit status 23: [receiver] mkstemp failed: No space left on device (28)\n",
		 outdir, outdir);
	ck_assert_str_eq(h_log(), want);

	/* A missing program, reported as such. */
	h_log_reset();
	env.rsync_path = h_path("no-such-rsync");
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "no-such-rsync"));
	ck_assert_ptr_null(strchr(strchr(h_log(), '\n') + 1, '\n'));
}
END_TEST

/* A missing rsync program as the run's first: still one line. */
START_TEST(test_missing_rsync_first)
{
	const char *src = h_path("src");

	put_file(src, "a", 100, 1);
	env.rsync_path = h_path("no-such-rsync");
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "no-such-rsync"));
	ck_assert_ptr_null(strchr(strchr(h_log(), '\n') + 1, '\n'));
}
END_TEST

/* --bwlimit and -z reach rsync (-z for remote outputs only). */
START_TEST(test_options_reach_rsync)
{
	const char *src = h_path("src");
	size_t len;
	char *args;

	put_file(src, "a", 100, 1);
	write_script(h_path("rsync-wrap"), h_fmt("#!/bin/sh\necho \" $* \" > '%s'\nexec rsync \"$@\"\n",
						 h_path("args")));
	env.rsync_path = h_path("rsync-wrap");
	env.bwlimit = 20480;
	env.compress = true;
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), 0);
	args = h_read_file(h_path("args"), &len);
	ck_assert_ptr_nonnull(strstr(args, " --bwlimit=20480 "));
	ck_assert_ptr_nonnull(strstr(args, " --ignore-times "));
	ck_assert_ptr_nonnull(strstr(args, " --inplace "));
	ck_assert_ptr_nonnull(strstr(args, " --no-whole-file "));
	ck_assert_ptr_null(strstr(args, " --compress "));
	free(args);
}
END_TEST

/* --- ssh outputs ------------------------------------------------------------ */

/* A remote shell for rsync that runs the command here, as sshd would run
 * it through the user's shell, after noting the options and the host. */
static void
fake_ssh(void)
{
	write_script(h_path("fake-ssh"),
		     h_fmt("#!/bin/sh\necho \"$*\" >> '%s'\n"
			   "while [ $# -gt 0 ]; do\n"
			   "  case $1 in -o|-p|-l) shift 2 ;; -*) shift ;; *) break ;; esac\n"
			   "done\nshift\nexec sh -c \"$*\"\n", h_path("ssh-calls")));
	env.ssh_path = h_path("fake-ssh");
}

START_TEST(test_cycle_ssh)
{
	char *calls;
	size_t len;

	fake_ssh();
	env.compress = true;
	out.kind = SYNCH_OUT_SSH;
	out.user = "postgres";
	out.host = "standby1";
	out.port = 2222;
	out.label = "postgres@standby1:2222:/out";
	cycle(outdir);
	calls = h_read_file(h_path("ssh-calls"), &len);
	ck_assert_ptr_nonnull(strstr(calls, "-o BatchMode=yes"));
	ck_assert_ptr_nonnull(strstr(calls, "-p 2222"));
	ck_assert_ptr_nonnull(strstr(calls, "standby1"));
	ck_assert_ptr_nonnull(strstr(calls, "rsync --server"));
	free(calls);
}
END_TEST

/* The remote rsync named by -rsp. */
START_TEST(test_ssh_remote_rsync_path)
{
	const char *src = h_path("src");

	fake_ssh();
	write_script(h_path("remote-rsync"), h_fmt("#!/bin/sh\ntouch '%s'\nexec rsync \"$@\"\n",
						   h_path("remote-ran")));
	env.remote_rsync_path = h_path("remote-rsync");
	out.kind = SYNCH_OUT_SSH;
	out.host = "standby1";
	put_file(src, "a", 100, 1);
	ck_assert_int_eq(pitr_synch_delta_tree(&env, &out, src, outdir, false, NULL, 0, NULL), 0);
	ck_assert(h_exists(h_path("remote-ran")));
	ck_assert(same_file(h_path("src/a"), h_path("out/a")));
}
END_TEST

/* --- a real rsync daemon ---------------------------------------------------- */

static pid_t daemon_pid = -1;

/* A free port on 127.0.0.1 (bound, then released for the daemon). */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static bool
port_open(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* rsync --daemon --no-detach serving module "mod" from h_path("mod"), as
 * the test's own user; stopped by pid in teardown_daemon(). */
static int
start_daemon(void)
{
	int port = free_port();
	const char *conf = h_path("rsyncd.conf");
	char *argv[] = { "rsync", "--daemon", "--no-detach", (char *)h_fmt("--config=%s", conf), NULL };

	mkdirs(h_path("mod"));
	put_text(h_dir(), "rsyncd.conf",
		 h_fmt("address = 127.0.0.1\nport = %d\nuse chroot = no\nuid = %u\ngid = %u\n"
		       "log file = %s\n[mod]\n\tpath = %s\n\tread only = false\n",
		       port, (unsigned)getuid(), (unsigned)getgid(), h_path("rsyncd.log"), h_path("mod")));
	daemon_pid = fork();
	ck_assert_int_ge(daemon_pid, 0);
	if (daemon_pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	for (int i = 0; i < 200 && !port_open(port); i++)
		usleep(50 * 1000);
	ck_assert(port_open(port));
	return port;
}

static void
teardown_daemon(void)
{
	if (daemon_pid > 0) {
		kill(daemon_pid, SIGTERM);
		waitpid(daemon_pid, NULL, 0);
		daemon_pid = -1;
	}
	teardown();
}

START_TEST(test_cycle_daemon)
{
	out.kind = SYNCH_OUT_RSYNCD;
	out.host = "127.0.0.1";
	out.port = start_daemon();
	out.path = "mod/data";
	out.label = "rsync://127.0.0.1/mod/data";
	cycle(h_path("mod/data"));
}
END_TEST

/* A module that does not exist: one line with the daemon's reason. */
START_TEST(test_daemon_unknown_module)
{
	struct synch_probe p;

	out.kind = SYNCH_OUT_RSYNCD;
	out.host = "127.0.0.1";
	out.port = start_daemon();
	out.path = "nomod/data";
	out.label = "rsync://127.0.0.1/nomod/data";
	ck_assert_int_eq(pitr_synch_delta_probe(&env, &out, out.path, &p), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : could not list \"nomod/data\" at output "
				     "\"rsync://127.0.0.1/nomod/data\": rsync exit status "));
	ck_assert_ptr_nonnull(strstr(h_log(), "Unknown module 'nomod'"));
	ck_assert_ptr_null(strchr(strchr(h_log(), '\n') + 1, '\n'));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("synch_delta");
	TCase *tc = tcase_create("local");
	TCase *td = tcase_create("daemon");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_same_size_and_mtime_differs);
	tcase_add_test(tc, test_identical_sends_little);
	tcase_add_test(tc, test_pgdata_exclusions);
	tcase_add_test(tc, test_wal_links);
	tcase_add_test(tc, test_tablespace_tree);
	tcase_add_test(tc, test_cycle_local);
	tcase_add_test(tc, test_begin_creates);
	tcase_add_test(tc, test_vanished_is_success);
	tcase_add_test(tc, test_failure_one_line);
	tcase_add_test(tc, test_missing_rsync_first);
	tcase_add_test(tc, test_options_reach_rsync);
	tcase_add_test(tc, test_cycle_ssh);
	tcase_add_test(tc, test_ssh_remote_rsync_path);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(td, setup, teardown_daemon);
	tcase_set_timeout(td, 60);
	tcase_add_test(td, test_cycle_daemon);
	tcase_add_test(td, test_daemon_unknown_module);
	suite_add_tcase(s, td);
	return s;
}

int
main(void)
{
	return h_run_suite(suite());
}
