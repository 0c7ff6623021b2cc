/*
 * check_restore.c - unit tests for pitr_cmd_restore(): every codec's
 * round trip, bad archive files refused with nothing at %p, the answers
 * that end recovery (history files, -sr, finish triggers, signals), the
 * warm standby's wait and delay, removal with its limit, pause trigger,
 * hook and pg_controldata error modes, and -pf's prefetch dir.  One TCase
 * per part of lib/command/restore/, each section naming its file.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command/restore/restore.h"
#include "compress/codec.h"
#include "harness.h"
#include "common/log.h"
#include "postgres/sysid.h"
#include "postgres/wal.h"

#define SEGSIZE (1u << 20)
#define SYSID 77
#define SEG(n) "00000001000000000000000" #n

static struct pitr_restore_opts opts;
/* Stable copies: h_path() reuses a small ring of buffers. */
static char p_data[4096], p_arch[4096], p_tmp[4096], p_dest[4096], p_trigger[4096];
static char p_pause[4096], p_source[4200];
static const char *sources[4];

/* One -s, as most tests give. */
static void
set_source(const char *dir)
{
	sources[0] = dir;
	opts.sources = sources;
	opts.nsources = 1;
}

static void
setup(void)
{
	h_setup();
	snprintf(p_data, sizeof(p_data), "%s", h_path("data"));
	snprintf(p_arch, sizeof(p_arch), "%s", h_path("arch"));
	snprintf(p_tmp, sizeof(p_tmp), "%s", h_path("tmp"));
	snprintf(p_dest, sizeof(p_dest), "%s", h_path("data/pg_wal/RECOVERYXLOG"));
	snprintf(p_trigger, sizeof(p_trigger), "%s", h_path("finish.recovery"));
	snprintf(p_pause, sizeof(p_pause), "%s", h_path("pause.removal"));
	ck_assert_int_eq(mkdir(p_data, 0700), 0);
	ck_assert_int_eq(mkdir(h_path("data/pg_wal"), 0700), 0);
	h_write_file(h_path("data/PG_VERSION"), "15\n", 3);
	ck_assert_int_eq(mkdir(p_arch, 0700), 0);
	ck_assert_int_eq(mkdir(p_tmp, 0700), 0);
	memset(&opts, 0, sizeof(opts));
	opts.data_dir = p_data;
	set_source(p_arch);
	opts.temp_dir = p_tmp;
	opts.wal_path = "pg_wal/RECOVERYXLOG";
	opts.poll_ms = 20;
	opts.trigger_stable_ms = 150;
}

static void
teardown(void)
{
	h_teardown();
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Segment `segno` of cluster `sysid`: h_make_segment()'s first page, then
 * long runs, which every codec compresses quickly (xz and bzip2 take half
 * a second for a megabyte of noise on a slow machine). */
static unsigned char *
make_segment(uint64_t segno, uint64_t sysid)
{
	unsigned char *seg = h_make_segment(SEGSIZE, 1, segno, sysid, (unsigned)segno);

	for (size_t pos = 8192; pos < SEGSIZE; pos++)
		seg[pos] = (unsigned char)(pos / 512 + segno);
	return seg;
}

/* Archive segment `segno` (timeline 1) compressed with `codec` under
 * `name` (NULL: its own name) + the codec's extension; returns the path
 * (static). */
static const char *
archive_segment(enum pitr_codec codec, uint64_t segno, uint64_t sysid, const char *name)
{
	static char path[8192];
	char own[PITR_WAL_NAME_MAX];
	unsigned char *seg = make_segment(segno, sysid);

	pitr_wal_format_segment(own, 1, segno, SEGSIZE);
	snprintf(path, sizeof(path), "%s/%s%s", p_arch, name != NULL ? name : own,
		 pitr_codec_ext(codec));
	h_write_compressed(path, codec, seg, SEGSIZE);
	free(seg);
	return path;
}

/* Assert %p holds exactly segment `segno`. */
static void
assert_dest_is(uint64_t segno)
{
	unsigned char *want = make_segment(segno, SYSID);
	size_t len;
	char *got = h_read_file(p_dest, &len);

	ck_assert_uint_eq(len, SEGSIZE);
	ck_assert_mem_eq(got, want, SEGSIZE);
	free(got);
	free(want);
}

/* Assert %p holds exactly segment `segno`, and nothing else is in pg_wal. */
static void
assert_restored(uint64_t segno)
{
	assert_dest_is(segno);
	ck_assert_int_eq(h_count_entries(h_path("data/pg_wal")), 1);
}

/* Assert the restore failed without leaving anything in pg_wal. */
static void
assert_nothing_restored(void)
{
	ck_assert_int_eq(h_count_entries(h_path("data/pg_wal")), 0);
}

static void
assert_logged(const char *line)
{
	ck_assert_msg(strstr(h_log(), line) != NULL, "log lacks [%s]: [%s]", line, h_log());
}

/* Assert both texts are logged, `first` before `second`. */
static void
assert_logged_before(const char *first, const char *second)
{
	const char *a = strstr(h_log(), first), *b = strstr(h_log(), second);

	ck_assert_msg(a != NULL && b != NULL && a < b, "log lacks [%s] before [%s]: [%s]", first,
		      second, h_log());
}

static void
assert_not_logged(const char *text)
{
	ck_assert_msg(strstr(h_log(), text) == NULL, "log has [%s]: [%s]", text, h_log());
}

/* Set a file's mtime `age` seconds in the past. */
static void
set_age(const char *path, double age)
{
	struct timespec times[2];

	clock_gettime(CLOCK_REALTIME, &times[1]);
	times[1].tv_sec -= (time_t)age;
	times[1].tv_nsec -= (long)((age - (time_t)age) * 1e9);
	if (times[1].tv_nsec < 0) {
		times[1].tv_nsec += 1000000000L;
		times[1].tv_sec--;
	}
	times[0] = times[1];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

/* Fork a child that sleeps `ms`, then renames `from` to `to` (if not
 * NULL), writes `text` to `write_path` (if not NULL) and sends `signo` to
 * us (if not 0).  Returns its pid. */
static pid_t
later(int ms, const char *from, const char *to, const char *write_path, const char *text,
      int signo)
{
	pid_t parent = getpid();
	pid_t child = fork();

	ck_assert_int_ge(child, 0);
	if (child == 0) {
		usleep((useconds_t)ms * 1000);
		if (from != NULL && rename(from, to) != 0)
			_exit(1);
		if (write_path != NULL) {
			int fd = open(write_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
				_exit(2);
			close(fd);
		}
		if (signo != 0)
			kill(parent, signo);
		_exit(0);
	}
	return child;
}

static void
reap(pid_t child)
{
	int status;

	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Write an executable script into the scratch dir; returns its path
 * (static). */
static const char *
script(const char *name, const char *body)
{
	static char path[4096];
	char text[16384];

	snprintf(path, sizeof(path), "%s", h_path(name));
	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	h_write_file(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* A pg_controldata stand-in reporting `redo` as the REDO WAL file. */
static const char *
fake_controldata(const char *redo)
{
	char body[4096];

	snprintf(body, sizeof(body),
		 "echo \"Database system identifier:           77\"\n"
		 "echo \"Latest checkpoint's REDO WAL file:    %s\"\n"
		 "echo \"Bytes per WAL segment:                1048576\"\n", redo);
	return script("pg_controldata", body);
}

/* Small stand-ins for archived segments that only removal looks at. */
static void
archive_stubs(int first, int last)
{
	for (int segno = first; segno <= last; segno++) {
		char path[8192];

		snprintf(path, sizeof(path), "%s/00000001000000000000000%X.gz", p_arch, segno);
		h_write_compressed(path, PITR_CODEC_GZIP, "stub", 4);
	}
}

static int
arch_has(const char *name)
{
	char path[8192];

	snprintf(path, sizeof(path), "%s/%s", p_arch, name);
	return h_exists(path);
}

/* --- pitr_restore_ep_from_name ------------------------------------------- */

/* An object store waited on is looked at after the poll interval, then
 * twice as late after each further miss, up to the ceiling; a longer
 * interval than the ceiling (a test's) is held to it too. */
START_TEST(test_store_poll_ms)
{
	static const int want[] = { 200, 200, 400, 800, 1600, 3200, 5000, 5000 };

	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_int_eq(pitr_restore_store_poll_ms(200, i), want[i]);
	ck_assert_int_eq(pitr_restore_store_poll_ms(200, 1000), PITR_RESTORE_STORE_POLL_MAX_MS);
	ck_assert_int_eq(pitr_restore_store_poll_ms(20, 3), 80);
	ck_assert_int_eq(pitr_restore_store_poll_ms(20, 1000), PITR_RESTORE_STORE_POLL_MAX_MS);
	ck_assert_int_eq(pitr_restore_store_poll_ms(9000, 1), PITR_RESTORE_STORE_POLL_MAX_MS);
}
END_TEST

START_TEST(test_ep_from_name)
{
	enum pitr_restore_ep ep = PITR_RESTORE_EP_IGNORE;

	ck_assert_int_eq(pitr_restore_ep_from_name("break", &ep), 0);
	ck_assert_int_eq(ep, PITR_RESTORE_EP_BREAK);
	ck_assert_int_eq(pitr_restore_ep_from_name("hang", &ep), 0);
	ck_assert_int_eq(ep, PITR_RESTORE_EP_HANG);
	ck_assert_int_eq(pitr_restore_ep_from_name("ignore", &ep), 0);
	ck_assert_int_eq(ep, PITR_RESTORE_EP_IGNORE);
	ck_assert_int_eq(pitr_restore_ep_from_name("Break", &ep), -1);
	ck_assert_int_eq(pitr_restore_ep_from_name("", &ep), -1);
	ck_assert_int_eq(ep, PITR_RESTORE_EP_IGNORE);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- pitr_cmd_restore: hand-over (handover.c) ---------------------------- */

START_TEST(test_every_codec)
{
	for (int codec = 0; codec < PITR_CODEC_COUNT; codec++) {
		const char *path;
		char line[16384];

		path = archive_segment((enum pitr_codec)codec, 3, SYSID, NULL);
		snprintf(line, sizeof(line), "LOG : restored \"" SEG(3) "\" from \"%s\" in ", path);
		snprintf(p_source, sizeof(p_source), "%s=%s", pitr_codec_name(codec), p_arch);
		set_source(p_source);
		opts.wal_name = SEG(3);
		h_log_reset();
		ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
		assert_restored(3);
		assert_logged(line);
		/* The archive keeps its file. */
		ck_assert(h_exists(path));
		ck_assert_int_eq(unlink(path), 0);
		ck_assert_int_eq(unlink(p_dest), 0);
	}
}
END_TEST

START_TEST(test_codec_of_the_file_wins)
{
	/* The source says gzip; the archive holds a zstd file (its codec
	 * changed), and an old plain copy of another segment. */
	archive_segment(PITR_CODEC_ZSTD, 4, SYSID, NULL);
	archive_segment(PITR_CODEC_NONE, 5, SYSID, NULL);
	snprintf(p_source, sizeof(p_source), "gzip=%s", p_arch);
	set_source(p_source);
	opts.wal_name = SEG(4);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(4);
	/* An existing %p (left over) is replaced. */
	opts.wal_name = SEG(5);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(5);
}
END_TEST

START_TEST(test_relative_to_cwd)
{
	char *cwd = getcwd(NULL, 0);

	/* PostgreSQL's way: cwd is the data dir, -D defaults to ".". */
	archive_segment(PITR_CODEC_LZ4, 6, SYSID, NULL);
	snprintf(p_source, sizeof(p_source), "lz4=%s", p_arch);
	set_source(p_source);
	opts.data_dir = NULL;
	opts.wal_name = SEG(6);
	ck_assert_int_eq(chdir(p_data), 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	/* A %p without a directory. */
	opts.wal_path = "RECOVERYXLOG";
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
	ck_assert_int_eq(unlink(h_path("data/RECOVERYXLOG")), 0);
	assert_restored(6);
	/* An absolute %p is taken as is. */
	ck_assert_int_eq(unlink(p_dest), 0);
	opts.data_dir = p_data;
	opts.wal_path = p_dest;
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(6);
}
END_TEST

/* Restore SEG(2) from `path` and expect the one error `msg`, nothing at
 * %p and the archive file untouched. */
static void
expect_refused(const char *path, const char *msg)
{
	char want[16384];
	struct stat before, after;

	ck_assert_int_eq(stat(path, &before), 0);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	/* A message ending in ": " is a prefix (the library's reason follows). */
	snprintf(want, sizeof(want), "ERROR : %s%s", msg,
		 strlen(msg) > 2 && strcmp(msg + strlen(msg) - 2, ": ") == 0 ? "" : "\n");
	ck_assert_msg(strstr(h_log(), want) != NULL, "log lacks [%s]: [%s]", want, h_log());
	ck_assert_msg(strstr(strstr(h_log(), "ERROR : ") + 1, "ERROR : ") == NULL,
		      "more than one error: [%s]", h_log());
	assert_nothing_restored();
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert_int_eq(before.st_size, after.st_size);
	ck_assert_int_eq(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

START_TEST(test_bad_archive_files)
{
	unsigned char *seg = make_segment(2, SYSID);
	char path[8192], msg[16384];
	size_t len;
	char *gz;

	opts.wal_name = SEG(2);
	snprintf(path, sizeof(path), "%s/" SEG(2) ".gz", p_arch);

	/* Truncated compressed stream. */
	archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	gz = h_read_file(path, &len);
	h_write_file(path, gz, len / 2);
	snprintf(msg, sizeof(msg), "\"%s\" is truncated: the compressed stream ends early", path);
	expect_refused(path, msg);

	/* Corrupt compressed data: a flipped byte fails the CRC at least. */
	gz[len / 2] ^= 0x55;
	h_write_file(path, gz, len);
	snprintf(msg, sizeof(msg), "\"%s\" is corrupt: ", path);
	expect_refused(path, msg);
	free(gz);
	ck_assert_int_eq(unlink(path), 0);

	/* Plain and short: the header's segment size is not reached. */
	snprintf(path, sizeof(path), "%s/" SEG(2), p_arch);
	h_write_file(path, seg, SEGSIZE / 2);
	snprintf(msg, sizeof(msg), "\"%s\" holds 524288 bytes of WAL but its header says segments "
		 "are 1048576 bytes", path);
	expect_refused(path, msg);

	/* Too short for a header at all. */
	h_write_file(path, seg, 10);
	snprintf(msg, sizeof(msg), "\"%s\" holds 10 bytes: too short to be a WAL segment", path);
	expect_refused(path, msg);

	/* Longer than a segment. */
	{
		unsigned char *big = calloc(1, SEGSIZE + 100);

		memcpy(big, seg, SEGSIZE);
		h_write_file(path, big, SEGSIZE + 100);
		free(big);
	}
	snprintf(msg, sizeof(msg), "\"%s\" holds more than the 1048576 bytes its header says "
		 "segments are", path);
	expect_refused(path, msg);

	/* A segment under another segment's name. */
	ck_assert_int_eq(unlink(path), 0);
	archive_segment(PITR_CODEC_XZ, 1, SYSID, SEG(2));
	snprintf(path, sizeof(path), "%s/" SEG(2) ".xz", p_arch);
	snprintf(msg, sizeof(msg), "\"%s\" has page address 0/100000 but its name says 0/200000",
		 path);
	expect_refused(path, msg);

	/* Not WAL at all. */
	h_write_compressed(path, PITR_CODEC_XZ, "hello", 5);
	snprintf(msg, sizeof(msg), "\"%s\" holds 5 bytes: too short to be a WAL segment", path);
	expect_refused(path, msg);
	free(seg);
}
END_TEST

START_TEST(test_other_cluster_refused)
{
	const char *path;
	char msg[16384];

	/* pitr-archive recorded cluster 77; this segment is of cluster 78. */
	ck_assert_int_eq(pitr_sysid_check_or_record(p_arch, SYSID), 0);
	path = archive_segment(PITR_CODEC_BZIP2, 2, SYSID + 1, NULL);
	opts.wal_name = SEG(2);
	snprintf(msg, sizeof(msg), "\"%s\" is WAL of database system 78, but archive \"%s\" holds "
		 "system 77", path, p_arch);
	expect_refused(path, msg);
	/* The same cluster's segment goes through. */
	archive_segment(PITR_CODEC_NONE, 3, SYSID, NULL);
	opts.wal_name = SEG(3);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(3);
}
END_TEST

START_TEST(test_history_files)
{
	const char *text = "1\t0/3000000\tno recovery target specified\n";
	char path[8192];
	double started;
	size_t len;
	char *got;

	/* Missing: PostgreSQL probes for them; answered at once, as a LOG. */
	opts.wal_name = "00000002.history";
	opts.wal_path = "pg_wal/RECOVERYHISTORY";
	opts.recovery_delay = 3600;
	started = now_s();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	ck_assert(now_s() - started < 2.0);
	ck_assert_str_eq(h_log(), "LOG : \"00000002.history\" is not in the archive\n");
	assert_nothing_restored();

	/* Present (compressed, and fresh: the delay is for segments). */
	snprintf(path, sizeof(path), "%s/00000002.history.gz", p_arch);
	h_write_compressed(path, PITR_CODEC_GZIP, text, strlen(text));
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	got = h_read_file(h_path("data/pg_wal/RECOVERYHISTORY"), &len);
	ck_assert_str_eq(got, text);
	free(got);

	/* Backup history files and other names are copied the same way, and
	 * never waited for. */
	opts.wal_name = SEG(1) ".00000028.backup";
	opts.wal_path = "pg_wal/x";
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	opts.wal_name = SEG(1) ".partial";
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
}
END_TEST

/* --- pitr_cmd_restore: waiting (restore.c) ------------------------------- */

/* ---- several sources ---------------------------------------------------- */

static void expect_option_error(const char *msg);

/* Move archive file `name` from the archive into `dir`. */
static void
move_to(const char *dir, const char *name)
{
	char from[8192], to[8192];

	snprintf(from, sizeof(from), "%s/%s", p_arch, name);
	snprintf(to, sizeof(to), "%s/%s", dir, name);
	ck_assert_int_eq(rename(from, to), 0);
}

/* Two hosts' archives: a segment comes from the first that has it, in the
 * order given; -sr with a segment neither has fails at once; -r prunes
 * both once both record the cluster. */
START_TEST(test_several_sources)
{
	char arch2[4096], arch3[4096], line[16384];
	double started;

	snprintf(arch2, sizeof(arch2), "%s", h_path("arch2"));
	ck_assert_int_eq(mkdir(arch2, 0700), 0);
	sources[0] = p_arch;
	sources[1] = arch2;
	opts.nsources = 2;
	/* 3 only in the second; 4 in both, the second's a wrong copy (5
	 * under 4's name), which the first's shadows. */
	archive_segment(PITR_CODEC_GZIP, 3, SYSID, NULL);
	move_to(arch2, SEG(3) ".gz");
	archive_segment(PITR_CODEC_NONE, 5, SYSID, SEG(4));
	move_to(arch2, SEG(4));
	archive_segment(PITR_CODEC_ZSTD, 4, SYSID, NULL);
	opts.wal_name = SEG(3);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(3);
	opts.wal_name = SEG(4);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(4);
	/* Neither has 7: -sr answers at once. */
	h_log_reset();
	started = now_s();
	opts.wal_name = SEG(7);
	opts.streaming_replication = true;
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	ck_assert(now_s() - started < 2.0);
	assert_logged("LOG : segment \"" SEG(7) "\" is not in the archive: returning to streaming "
		      "replication\n");
	opts.streaming_replication = false;
	/* -r with a cutoff: what is older goes from each source that records
	 * this cluster; a third one without a record loses nothing. */
	ck_assert_int_eq(pitr_sysid_check_or_record(p_arch, SYSID), 0);
	ck_assert_int_eq(pitr_sysid_check_or_record(arch2, SYSID), 0);
	snprintf(arch3, sizeof(arch3), "%s", h_path("arch3"));
	ck_assert_int_eq(mkdir(arch3, 0700), 0);
	sources[2] = arch3;
	opts.nsources = 3;
	archive_segment(PITR_CODEC_GZIP, 1, SYSID, NULL);
	move_to(arch3, SEG(1) ".gz");
	archive_segment(PITR_CODEC_GZIP, 1, SYSID, NULL);
	archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	move_to(arch2, SEG(2) ".gz");
	archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(3);
	opts.wal_name = SEG(4);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(4);
	ck_assert(!arch_has(SEG(1) ".gz") && !arch_has(SEG(2) ".gz") && arch_has(SEG(4) ".zst"));
	snprintf(line, sizeof(line), "%s/" SEG(2) ".gz", arch2);
	ck_assert(!h_exists(line));
	snprintf(line, sizeof(line), "%s/" SEG(3) ".gz", arch2);
	ck_assert(h_exists(line));
	snprintf(line, sizeof(line), "LOG : removed 2 files older than \"" SEG(3) "\" from \"%s\"\n",
		 p_arch);
	assert_logged(line);
	snprintf(line, sizeof(line), "LOG : removed 1 file older than \"" SEG(3) "\" from \"%s\"\n",
		 arch2);
	assert_logged(line);
	snprintf(line, sizeof(line), "%s/" SEG(1) ".gz", arch3);
	ck_assert(h_exists(line));
	opts.nsources = 2;
}
END_TEST

/* Sources of different clusters: refused before anything, in one line;
 * a source without a record is held to the other's. */
START_TEST(test_sources_other_clusters)
{
	char arch2[4096], msg[16384];
	const char *path;

	snprintf(arch2, sizeof(arch2), "%s", h_path("arch2"));
	ck_assert_int_eq(mkdir(arch2, 0700), 0);
	sources[0] = p_arch;
	sources[1] = arch2;
	opts.nsources = 2;
	ck_assert_int_eq(pitr_sysid_check_or_record(p_arch, SYSID), 0);
	ck_assert_int_eq(pitr_sysid_check_or_record(arch2, SYSID + 1), 0);
	archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	opts.wal_name = SEG(2);
	snprintf(msg, sizeof(msg), "--source \"%s\" holds WAL of database system 77, --source \"%s\" "
		 "of system 78: the archives are of different clusters", p_arch, arch2);
	expect_option_error(msg);
	/* No record in the second: its segment of cluster 78 is refused. */
	snprintf(msg, sizeof(msg), "%s/.pitrkit-system-identifier", arch2);
	ck_assert_int_eq(unlink(msg), 0);
	path = archive_segment(PITR_CODEC_GZIP, 3, SYSID + 1, NULL);
	move_to(arch2, SEG(3) ".gz");
	snprintf(msg, sizeof(msg), "%s/" SEG(3) ".gz", arch2);
	(void)path;
	opts.wal_name = SEG(3);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_nothing_restored();
	{
		char want[32768];

		snprintf(want, sizeof(want), "ERROR : \"%s\" is WAL of database system 78, but archive "
			 "\"%s\" holds system 77\n", msg, p_arch);
		assert_logged(want);
	}
	/* The first's own segment goes through. */
	opts.wal_name = SEG(2);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(2);
}
END_TEST

START_TEST(test_streaming_missing)
{
	double started = now_s();

	opts.wal_name = SEG(7);
	opts.streaming_replication = true;
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	ck_assert(now_s() - started < 2.0);
	ck_assert_str_eq(h_log(), "LOG : segment \"" SEG(7) "\" is not in the archive: returning to "
			 "streaming replication\n");
	/* Present: delivered as usual. */
	archive_segment(PITR_CODEC_GZIP, 7, SYSID, NULL);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(7);
}
END_TEST

START_TEST(test_wait_for_segment)
{
	char staged[8192], final[8192];
	double started;
	pid_t child;

	/* The segment arrives (renamed into place, as pitr-archive does)
	 * 300 ms after the standby asked for it. */
	archive_segment(PITR_CODEC_ZSTD, 8, SYSID, ".pitr-tmp.staged");
	snprintf(staged, sizeof(staged), "%s/.pitr-tmp.staged.zst", p_arch);
	snprintf(final, sizeof(final), "%s/" SEG(8) ".zst", p_arch);
	snprintf(p_source, sizeof(p_source), "zstd=%s", p_arch);
	set_source(p_source);
	opts.wal_name = SEG(8);
	pitr_log_open("check", NULL, true);
	started = now_s();
	child = later(300, staged, final, NULL, NULL, 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(now_s() - started >= 0.3);
	reap(child);
	assert_restored(8);
	assert_logged("LOG : segment \"" SEG(8) "\" is not in the archive yet: waiting\n");
}
END_TEST

START_TEST(test_signals_while_waiting)
{
	struct sigaction sa, term_before, usr1_before;
	pid_t child;

	ck_assert_int_eq(sigaction(SIGTERM, NULL, &term_before), 0);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &usr1_before), 0);
	opts.wal_name = SEG(9);
	/* SIGTERM (server shutdown): give up promptly, exit 1. */
	child = later(100, NULL, NULL, NULL, NULL, SIGTERM);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	reap(child);
	ck_assert_str_eq(h_log(), "LOG : segment \"" SEG(9) "\" is not in the archive yet: waiting\n"
			 "LOG : interrupted by a signal: \"" SEG(9) "\" not restored\n");
	/* The previous handlers are back. */
	ck_assert_int_eq(sigaction(SIGTERM, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, term_before.sa_handler);
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, usr1_before.sa_handler);

	/* SIGHUP (a reload) is survived; SIGUSR1 is an immediate finish. */
	h_log_reset();
	child = later(50, NULL, NULL, NULL, NULL, SIGHUP);
	{
		pid_t usr1 = later(150, NULL, NULL, NULL, NULL, SIGUSR1);

		ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
		reap(usr1);
	}
	reap(child);
	ck_assert_str_eq(h_log(), "LOG : segment \"" SEG(9) "\" is not in the archive yet: waiting\n"
			 "LOG : SIGUSR1 received: immediate finish of recovery\n"
			 "LOG : ending recovery: \"" SEG(9) "\" not restored (immediate finish)\n");
	assert_nothing_restored();
}
END_TEST

START_TEST(test_recovery_delay)
{
	const char *path = archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	double started;

	snprintf(p_source, sizeof(p_source), "gzip=%s", p_arch);
	set_source(p_source);
	opts.wal_name = SEG(2);
	opts.recovery_delay = 1;
	/* 0.8 s old with a 1 s delay: handed over 0.2 s later. */
	set_age(path, 0.8);
	started = now_s();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(now_s() - started >= 0.15);
	ck_assert(now_s() - started < 1.0);
	assert_restored(2);
	/* Old enough already: at once. */
	ck_assert_int_eq(unlink(p_dest), 0);
	opts.recovery_delay = 5;
	set_age(path, 10);
	started = now_s();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(now_s() - started < 1.0);
	assert_restored(2);
}
END_TEST

/* --- pitr_cmd_restore: finish triggers (trigger.c) ----------------------- */

START_TEST(test_trigger_now)
{
	char want[8192];

	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	opts.wal_name = SEG(2);
	opts.finish_trigger = p_trigger;
	/* Settled long ago: decided at once, the present segment is not
	 * handed over. */
	h_write_file(p_trigger, "NOW\n", 4);
	set_age(p_trigger, 5);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_nothing_restored();
	snprintf(want, sizeof(want), "LOG : finish trigger \"%s\" says NOW: immediate finish of "
		 "recovery\nLOG : ending recovery: \"" SEG(2) "\" not restored (immediate finish)\n",
		 p_trigger);
	ck_assert_str_eq(h_log(), want);
	/* History files are still served (or answered missing at once). */
	h_write_file(h_path("arch/00000002.history"), "h\n", 2);
	opts.wal_name = "00000002.history";
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(h_exists(p_dest));
	opts.wal_name = "00000003.history";
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
}
END_TEST

START_TEST(test_trigger_smart)
{
	double started;
	char line[8192];

	archive_segment(PITR_CODEC_GZIP, 2, SYSID, NULL);
	snprintf(p_source, sizeof(p_source), "gzip=%s", p_arch);
	set_source(p_source);
	opts.wal_name = SEG(2);
	opts.finish_trigger = p_trigger;
	opts.recovery_delay = 3600;
	/* Empty, settled: smart; the delay no longer holds segments back. */
	h_write_file(p_trigger, "", 0);
	set_age(p_trigger, 5);
	started = now_s();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(now_s() - started < 1.0);
	assert_restored(2);
	snprintf(line, sizeof(line), "LOG : finish trigger \"%s\" found: smart finish of recovery, "
		 "handing over the segments already in the archive without delay\n", p_trigger);
	assert_logged(line);
	/* Then the first missing segment ends recovery at once. */
	h_log_reset();
	opts.wal_name = SEG(3);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_logged("LOG : ending recovery: segment \"" SEG(3) "\" is not in the archive (smart "
		      "finish)\n");
	/* History files are served whatever the finish: at its end the server
	 * picks its new timeline by them. */
	h_write_file(h_path("arch/00000002.history"), "h\n", 2);
	opts.wal_name = "00000002.history";
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert_int_eq(unlink(p_dest), 0);
	opts.wal_name = SEG(3);
	/* Any content but NOW is smart too. */
	h_write_file(p_trigger, "NOW please\n", 11);
	set_age(p_trigger, 5);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_logged("smart finish of recovery");
}
END_TEST

START_TEST(test_trigger_settles)
{
	double started;
	pid_t child;

	/* `echo NOW > finish.recovery`: the file is empty for a moment.  The
	 * segment is there and not delayed, yet nothing may be handed over
	 * before the content has settled: it becomes NOW. */
	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	opts.wal_name = SEG(2);
	opts.finish_trigger = p_trigger;
	h_write_file(p_trigger, "", 0);
	pitr_log_open("check", NULL, true);
	started = now_s();
	child = later(100, NULL, NULL, p_trigger, "NOW\n", 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	reap(child);
	/* Decided only after 150 ms of stable content, from 100 ms on (file
	 * times come from a coarse clock: a few ms of slack). */
	ck_assert_msg(now_s() - started >= 0.23, "%f [%s]", now_s() - started, h_log());
	assert_nothing_restored();
	assert_logged("\" found; waiting for its content to settle\n");
	assert_logged("\" says NOW: immediate finish of recovery\n");
	assert_not_logged("smart");

	/* A fresh trigger that stays empty becomes smart once settled. */
	ck_assert_int_eq(unlink(p_trigger), 0);
	h_write_file(p_trigger, "", 0);
	h_log_reset();
	started = now_s();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(now_s() - started >= 0.13);
	assert_restored(2);
	assert_logged("smart finish of recovery");
}
END_TEST

START_TEST(test_trigger_while_waiting)
{
	pid_t child;

	/* A warm standby waiting for a segment; the operator writes an empty
	 * trigger: smart, and the segment is missing, so recovery ends. */
	opts.wal_name = SEG(4);
	opts.finish_trigger = p_trigger;
	child = later(50, NULL, NULL, p_trigger, "", 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	reap(child);
	assert_logged("LOG : ending recovery: segment \"" SEG(4) "\" is not in the archive (smart "
		      "finish)\n");
}
END_TEST

START_TEST(test_odd_triggers)
{
	char line[16384];

	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	opts.wal_name = SEG(2);
	/* A trigger that exists but cannot be read: stop replaying. */
	ck_assert_int_eq(mkdir(p_trigger, 0700), 0);
	opts.finish_trigger = p_trigger;
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_nothing_restored();
	snprintf(line, sizeof(line), "ERROR : could not read \"%s\": Is a directory\n"
		 "LOG : finish trigger \"%s\" exists but cannot be read: immediate finish\n",
		 p_trigger, p_trigger);
	assert_logged(line);
	/* One that cannot even be looked for: an error, once; no finish. */
	snprintf(p_source, sizeof(p_source), "%s/x", h_path("data/PG_VERSION"));
	opts.finish_trigger = p_source;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(2);
	snprintf(line, sizeof(line), "ERROR : could not stat finish trigger \"%s\": Not a "
		 "directory\n", p_source);
	assert_logged(line);
}
END_TEST

/* --- pitr_cmd_restore: removal, -r (remove.c) ---------------------------- */

START_TEST(test_remove_fixed_cutoff)
{
	char line[8192];

	archive_stubs(1, 4);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	h_write_file(h_path("arch/00000001.history"), "x", 1);
	opts.wal_name = SEG(5);
	/* -rb alone does nothing (and says so with -v). */
	opts.remove_before = true;
	pitr_log_open("check", NULL, true);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_logged("LOG : --remove-before has no effect without --remove-unneeded\n");
	ck_assert_int_eq(h_count_entries(p_arch), 6);
	pitr_log_open("check", NULL, false);
	opts.remove_before = false;
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(4);
	opts.remove_at_a_time = 2;
	/* Paused: nothing goes. */
	h_write_file(p_pause, "", 0);
	opts.removal_pause_trigger = p_pause;
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(5);
	ck_assert_int_eq(h_count_entries(p_arch), 6);
	/* Unpaused: the two oldest go, after the delivery. */
	ck_assert_int_eq(unlink(p_pause), 0);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(!arch_has(SEG(1) ".gz") && !arch_has(SEG(2) ".gz"));
	ck_assert(arch_has(SEG(3) ".gz") && arch_has(SEG(4) ".gz") && arch_has(SEG(5) ".gz"));
	snprintf(line, sizeof(line), "LOG : removed 2 files older than \"" SEG(4) "\" from \"%s\"\n",
		 p_arch);
	assert_logged(line);
	assert_logged_before("LOG : restored", "LOG : removed");
	/* The next call takes the last one; the history file always stays. */
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(!arch_has(SEG(3) ".gz") && arch_has(SEG(4) ".gz"));
	ck_assert(arch_has("00000001.history"));
	/* Before the first restartpoint PostgreSQL passes timeline 0 and
	 * position 0: nothing is older. */
	archive_stubs(1, 1);
	opts.remove_cutoff = "000000000000000000000000";
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(arch_has(SEG(1) ".gz"));
}
END_TEST

START_TEST(test_remove_before_with_hook)
{
	char body[8192];
	char *seen;

	/* The hook records whether %p existed yet, the name it was given and
	 * the uncompressed content. */
	archive_stubs(1, 2);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	snprintf(body, sizeof(body),
		 "if [ -e '%s' ]; then echo after; else echo before; fi >> '%s'\n"
		 "basename \"$1\" >> '%s'\ncat \"$1\" >> '%s'\necho >> '%s'\n",
		 p_dest, h_path("seen"), h_path("seen"), h_path("seen"), h_path("seen"));
	opts.pre_removal_processing = script("hook.sh", body);
	opts.wal_name = SEG(5);
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(5);
	opts.remove_before = true;
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(5);
	seen = h_read_file(h_path("seen"), NULL);
	ck_assert_str_eq(seen, "before\n" SEG(1) "\nstub\nbefore\n" SEG(2) "\nstub\n");
	free(seen);
	ck_assert(!arch_has(SEG(1) ".gz") && !arch_has(SEG(2) ".gz"));
	/* The hook's copies are gone with their directory. */
	ck_assert_int_eq(h_count_entries(p_tmp), 0);
}
END_TEST

START_TEST(test_hook_failure_postpones)
{
	char line[8192];

	archive_stubs(1, 3);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	/* Fails for the second file: it and the third stay; the delivery
	 * itself succeeds.  Quotes group words without a shell. */
	opts.pre_removal_processing = "/bin/sh -c 'case \"$0\" in *02) exit 4;; esac'";
	opts.wal_name = SEG(5);
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(5);
	opts.remove_at_a_time = 10;
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(5);
	ck_assert(!arch_has(SEG(1) ".gz"));
	ck_assert(arch_has(SEG(2) ".gz") && arch_has(SEG(3) ".gz"));
	snprintf(line, sizeof(line), "LOG : removal of \"%s/" SEG(2) ".gz\" and newer files "
		 "postponed\n", p_arch);
	assert_logged(line);
	assert_logged("ERROR : \"/bin/sh\" failed with exit status 4\n");
	ck_assert_int_eq(h_count_entries(p_tmp), 0);

	/* A temporary directory that cannot be made postpones removal too. */
	opts.pre_removal_processing = "true";
	opts.temp_dir = h_path("no-such-dir");
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	snprintf(line, sizeof(line), "ERROR : could not create a temporary directory in \"%s\": No "
		 "such file or directory\n", h_path("no-such-dir"));
	assert_logged(line);
	ck_assert(arch_has(SEG(2) ".gz"));
	/* Without -t: $TMPDIR. */
	opts.temp_dir = NULL;
	setenv("TMPDIR", p_tmp, 1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(!arch_has(SEG(2) ".gz") && !arch_has(SEG(3) ".gz"));
	ck_assert_int_eq(h_count_entries(p_tmp), 0);
}
END_TEST

START_TEST(test_remove_with_controldata)
{
	archive_stubs(1, 6);
	archive_segment(PITR_CODEC_GZIP, 7, SYSID, NULL);
	opts.wal_name = SEG(7);
	opts.remove_unneeded = true;
	opts.pgcontroldata_path = fake_controldata(SEG(5));
	/* -rt defaults to 3; the REDO file 5 and newer stay. */
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(7);
	ck_assert(!arch_has(SEG(1) ".gz") && !arch_has(SEG(3) ".gz"));
	ck_assert(arch_has(SEG(4) ".gz"));
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	ck_assert(!arch_has(SEG(4) ".gz") && arch_has(SEG(5) ".gz"));
}
END_TEST

START_TEST(test_remove_while_waiting)
{
	char staged[8192], final[8192];
	pid_t child;

	/* A warm standby prunes while it waits for the next segment. */
	archive_stubs(1, 4);
	archive_segment(PITR_CODEC_GZIP, 6, SYSID, ".pitr-tmp.staged");
	snprintf(staged, sizeof(staged), "%s/.pitr-tmp.staged.gz", p_arch);
	snprintf(final, sizeof(final), "%s/" SEG(6) ".gz", p_arch);
	opts.wal_name = SEG(6);
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(4);
	opts.remove_at_a_time = 10;
	child = later(150, staged, final, NULL, NULL, 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	reap(child);
	assert_restored(6);
	ck_assert(!arch_has(SEG(3) ".gz") && arch_has(SEG(4) ".gz"));
	/* Removed while waiting, so before the delivery. */
	assert_logged_before("LOG : removed 3 files", "LOG : restored");
}
END_TEST

START_TEST(test_ep_break_and_ignore)
{
	char msg[8192];

	archive_stubs(1, 2);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	opts.wal_name = SEG(5);
	opts.remove_unneeded = true;
	opts.pgcontroldata_path = script("pgcd", "exit 2\n");
	/* break (the default): the call fails before anything is delivered. */
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_nothing_restored();
	snprintf(msg, sizeof(msg), "ERROR : \"%s\" failed for \"%s\": exit status 2\n"
		 "LOG : not restoring \"" SEG(5) "\": pg_controldata failed, so the files to remove "
		 "are unknown (--error-pgcontroldata break)\n", opts.pgcontroldata_path, p_data);
	ck_assert_str_eq(h_log(), msg);
	/* ignore: delivered, nothing removed. */
	opts.error_pgcontroldata = PITR_RESTORE_EP_IGNORE;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(5);
	ck_assert(arch_has(SEG(1) ".gz"));
	assert_logged("LOG : pg_controldata failed: no removal in this call (--error-pgcontroldata "
		      "ignore)\n");
	/* A program that does not exist is a failure like any other. */
	ck_assert_int_eq(unlink(p_dest), 0);
	opts.pgcontroldata_path = h_path("no-such-program");
	opts.error_pgcontroldata = PITR_RESTORE_EP_BREAK;
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_nothing_restored();
}
END_TEST

START_TEST(test_ep_hang)
{
	pid_t child;

	archive_stubs(1, 2);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	opts.wal_name = SEG(5);
	opts.remove_unneeded = true;
	opts.pgcontroldata_path = script("pgcd", "exit 2\n");
	opts.error_pgcontroldata = PITR_RESTORE_EP_HANG;
	opts.finish_trigger = p_trigger;
	/* hang: nothing delivered, until SIGTERM... */
	child = later(100, NULL, NULL, NULL, NULL, SIGTERM);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	reap(child);
	assert_nothing_restored();
	assert_logged("LOG : pg_controldata failed: waiting until it works again, a finish trigger "
		      "or a signal (--error-pgcontroldata hang)\n");
	assert_logged("LOG : interrupted by a signal while waiting for pg_controldata\n");
	/* ...or a finish trigger: NOW ends it without delivering... */
	h_log_reset();
	child = later(50, NULL, NULL, p_trigger, "NOW\n", 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	reap(child);
	assert_nothing_restored();
	assert_logged("says NOW: immediate finish of recovery\n");
	/* ...and a smart one delivers, without removal. */
	ck_assert_int_eq(unlink(p_trigger), 0);
	child = later(50, NULL, NULL, p_trigger, "", 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	reap(child);
	assert_restored(5);
	ck_assert(arch_has(SEG(1) ".gz"));
}
END_TEST

START_TEST(test_ep_hang_recovers)
{
	char body[8192];
	pid_t child;

	/* pg_controldata fails until the flag file exists, 100 ms in. */
	archive_stubs(1, 3);
	archive_segment(PITR_CODEC_GZIP, 5, SYSID, NULL);
	snprintf(body, sizeof(body),
		 "[ -e '%s' ] || exit 2\n"
		 "echo \"Database system identifier:           77\"\n"
		 "echo \"Latest checkpoint's REDO WAL file:    " SEG(3) "\"\n"
		 "echo \"Bytes per WAL segment:                1048576\"\n", h_path("works"));
	opts.pgcontroldata_path = script("pgcd", body);
	opts.wal_name = SEG(5);
	opts.remove_unneeded = true;
	opts.error_pgcontroldata = PITR_RESTORE_EP_HANG;
	opts.hang_retry_ms = 50;
	child = later(100, NULL, NULL, h_path("works"), "", 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	reap(child);
	assert_restored(5);
	assert_logged_before("LOG : pg_controldata failed: waiting", "LOG : pg_controldata works "
			     "again: going on\n");
	ck_assert(!arch_has(SEG(2) ".gz") && arch_has(SEG(3) ".gz"));
}
END_TEST

/* --- pitr_cmd_restore: bad options (restore.c) --------------------------- */

static void
expect_option_error(const char *msg)
{
	char want[16384];

	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
	assert_nothing_restored();
}

START_TEST(test_bad_options)
{
	char msg[16384];

	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	opts.wal_name = SEG(2);

	opts.nsources = 0;
	expect_option_error("no --source given: pitr-restore needs the archive to read from");
	set_source("gzp=/x");
	expect_option_error("unknown compression \"gzp\" in --source \"gzp=/x\": expected none, "
			    "gzip, bzip2, lzma, xz, lz4 or zstd");
	set_source(h_path("nope"));
	snprintf(msg, sizeof(msg), "could not open --source \"%s\": No such file or directory",
		 h_path("nope"));
	expect_option_error(msg);
	set_source(h_path("data/PG_VERSION"));
	snprintf(msg, sizeof(msg), "--source \"%s\" is not a directory", h_path("data/PG_VERSION"));
	expect_option_error(msg);
	set_source(p_arch);

	opts.data_dir = p_arch;
	snprintf(msg, sizeof(msg), "\"%s\" is not a PostgreSQL data directory (no PG_VERSION): give "
		 "the right --data-dir", p_arch);
	expect_option_error(msg);
	opts.data_dir = p_data;

	opts.wal_name = "pg_wal/" SEG(2);
	expect_option_error("\"pg_wal/" SEG(2) "\" is not a WAL file name: restore_command must pass "
			    "\"%f\"");
	opts.wal_name = "";
	expect_option_error("\"\" is not a WAL file name: restore_command must pass \"%f\"");
	opts.wal_name = SEG(2);
	opts.wal_path = "";
	expect_option_error("no destination given: restore_command must pass \"%p\"");
	opts.wal_path = "pg_wal/";
	expect_option_error("\"pg_wal/\" names a directory, not a file: restore_command must pass "
			    "\"%p\"");
	opts.wal_path = "pg_wal/RECOVERYXLOG";

	opts.remove_unneeded = true;
	opts.remove_cutoff = "%r";
	expect_option_error("--remove-unneeded \"%r\" is not a WAL segment name: restore_command "
			    "must pass \"%r\"");
	opts.remove_cutoff = SEG(1);
	opts.pre_removal_processing = "archive 'x";
	expect_option_error("--pre-removal-processing \"archive 'x\" has an unterminated ' quote");
	opts.pre_removal_processing = "  ";
	expect_option_error("--pre-removal-processing names no program");
	opts.pre_removal_processing = NULL;

	/* A destination directory that does not exist. */
	opts.wal_path = "nodir/RECOVERYXLOG";
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	snprintf(msg, sizeof(msg), "ERROR : could not create a temporary file in \"%s/nodir\": No "
		 "such file or directory\n", p_data);
	ck_assert_str_eq(h_log(), msg);
}
END_TEST

START_TEST(test_absolute_outside_data_dir)
{
	char *cwd = getcwd(NULL, 0);
	char msg[8192];

	/* pg_rewind --restore-target-wal: its own cwd, an absolute %p. */
	archive_segment(PITR_CODEC_NONE, 6, SYSID, NULL);
	opts.data_dir = NULL;
	opts.wal_name = SEG(6);
	opts.wal_path = p_dest;
	ck_assert_int_eq(chdir(p_arch), 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(6);
	ck_assert_int_eq(unlink(p_dest), 0);
	/* -r with %r reads no data dir either. */
	opts.remove_unneeded = true;
	opts.remove_cutoff = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(6);
	ck_assert_int_eq(unlink(p_dest), 0);
	/* -r without %r runs pg_controldata on the data dir: required. */
	opts.remove_cutoff = NULL;
	snprintf(msg, sizeof(msg), "\".\" is not a PostgreSQL data directory (no PG_VERSION): give "
		 "the right --data-dir");
	expect_option_error(msg);
	/* So does a relative %p. */
	opts.remove_unneeded = false;
	opts.wal_path = "pg_wal/RECOVERYXLOG";
	expect_option_error(msg);
	ck_assert_int_eq(chdir(cwd), 0);
	free(cwd);
}
END_TEST


START_TEST(test_pid_file_busy)
{
	char pidpath[4096];
	pid_t child;
	int status;

	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	opts.wal_name = SEG(2);
	snprintf(pidpath, sizeof(pidpath), "%s", h_path("restore.pid"));
	opts.pid_file = pidpath;
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		execlp("flock", "flock", pidpath, "sleep", "0.3", (char *)NULL);
		_exit(127);
	}
	for (int wait_idx = 0; wait_idx < 100 && !h_exists(pidpath); wait_idx++)
		usleep(10000);
	usleep(20000);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	assert_logged("another copy is already running");
	assert_nothing_restored();
	waitpid(child, &status, 0);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_restored(2);
	ck_assert(!h_exists(pidpath));
}
END_TEST

/* --- pitr_cmd_restore: prefetch, -pf (prefetch.c) ------------------------ */

/* The prefetch dir beside %p. */
static const char *
pf_dir(void)
{
	return h_path("data/pg_wal/" PITR_RESTORE_PREFETCH_DIR);
}

/* Wait for every worker this process forked: each exits 0. */
static void
wait_workers(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, 0)) > 0) {
		ck_assert(WIFEXITED(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
}

/* Assert the prefetch dir holds exactly segments first..last, each the
 * whole segment. */
static void
assert_prefetched(uint64_t first, uint64_t last)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s", pf_dir());
	ck_assert_int_eq(h_count_entries(dir), (int)(last - first + 1));
	for (uint64_t segno = first; segno <= last; segno++) {
		char name[PITR_WAL_NAME_MAX], path[8192];
		unsigned char *want = make_segment(segno, SYSID);
		size_t len;
		char *got;

		pitr_wal_format_segment(name, 1, segno, SEGSIZE);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		got = h_read_file(path, &len);
		ck_assert_uint_eq(len, SEGSIZE);
		ck_assert_mem_eq(got, want, SEGSIZE);
		free(got);
		free(want);
	}
}

/* Handing over 1 leaves 2 and 3 decompressed ahead (not 4: -pf 2); the
 * next call takes 2 by a rename (the same inode), and the worker then
 * holds 3 and 4.  Nothing else is left in the dir: no lock, no temp. */
START_TEST(test_prefetch_window_and_take)
{
	char path[8192];
	struct stat pre, got;

	for (uint64_t segno = 1; segno <= 5; segno++)
		archive_segment(PITR_CODEC_GZIP, segno, SYSID, NULL);
	opts.prefetch = 2;
	opts.wal_name = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	assert_prefetched(2, 3);
	snprintf(path, sizeof(path), "%s/%s", pf_dir(), SEG(2));
	ck_assert_int_eq(stat(path, &pre), 0);
	ck_assert_int_eq(unlink(p_dest), 0);

	h_log_reset();
	opts.wal_name = SEG(2);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	assert_logged("LOG : restored \"" SEG(2) "\" from the prefetched \"");
	ck_assert_int_eq(stat(p_dest, &got), 0);
	ck_assert_uint_eq(got.st_ino, pre.st_ino);
	wait_workers();
	assert_prefetched(3, 4);
	assert_dest_is(2);
}
END_TEST

/* The worker stops at the end of the archive. */
START_TEST(test_prefetch_stops_at_archive_end)
{
	archive_segment(PITR_CODEC_LZ4, 1, SYSID, NULL);
	archive_segment(PITR_CODEC_LZ4, 2, SYSID, NULL);
	opts.prefetch = 4;
	opts.wal_name = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	assert_prefetched(2, 2);
}
END_TEST

/* A killed worker's temporary file, segments before %f or beyond the
 * window, and another timeline's are removed; what is in the window stays. */
START_TEST(test_prefetch_prunes_stale)
{
	unsigned char *seg;
	char path[8192];

	for (uint64_t segno = 1; segno <= 4; segno++)
		archive_segment(PITR_CODEC_NONE, segno, SYSID, NULL);
	ck_assert_int_eq(mkdir(pf_dir(), 0700), 0);
	snprintf(path, sizeof(path), "%s/.pitr-tmp.%s.abc123", pf_dir(), SEG(3));
	h_write_file(path, "partial", 7);
	seg = make_segment(1, SYSID);
	snprintf(path, sizeof(path), "%s/%s", pf_dir(), SEG(1));
	h_write_file(path, seg, SEGSIZE);
	snprintf(path, sizeof(path), "%s/%s", pf_dir(), SEG(9));
	h_write_file(path, seg, SEGSIZE);
	snprintf(path, sizeof(path), "%s/000000020000000000000003", pf_dir());
	h_write_file(path, seg, SEGSIZE);
	free(seg);
	opts.prefetch = 2;
	opts.wal_name = SEG(2);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	assert_prefetched(3, 4);
}
END_TEST

/* A copy in the prefetch dir that does not match its name never reaches
 * %p: it is removed and the segment comes from the archive. */
START_TEST(test_prefetch_bad_copy_not_used)
{
	unsigned char *seg = make_segment(3, SYSID);
	char path[8192];

	archive_segment(PITR_CODEC_ZSTD, 2, SYSID, NULL);
	ck_assert_int_eq(mkdir(pf_dir(), 0700), 0);
	snprintf(path, sizeof(path), "%s/%s", pf_dir(), SEG(2));
	h_write_file(path, seg, SEGSIZE);
	free(seg);
	opts.prefetch = 1;
	opts.wal_name = SEG(2);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	assert_logged("not using the prefetched \"");
	assert_logged("LOG : restored \"" SEG(2) "\" from \"");
	assert_dest_is(2);
	ck_assert(!h_exists(path));
}
END_TEST

/* The server asks for history files when recovery ends: the prefetched
 * segments go then, whatever the answer. */
START_TEST(test_prefetch_history_request_clears)
{
	for (uint64_t segno = 1; segno <= 3; segno++)
		archive_segment(PITR_CODEC_NONE, segno, SYSID, NULL);
	opts.prefetch = 2;
	opts.wal_name = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	assert_prefetched(2, 3);
	ck_assert_int_eq(unlink(p_dest), 0);
	opts.wal_name = "00000002.history";
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	ck_assert_int_eq(h_count_entries(pf_dir()), 0);
}
END_TEST

/* While another worker holds the lock, a new one leaves at once. */
START_TEST(test_prefetch_one_worker_at_a_time)
{
	char path[8192];
	int fd;

	archive_segment(PITR_CODEC_NONE, 1, SYSID, NULL);
	archive_segment(PITR_CODEC_NONE, 2, SYSID, NULL);
	ck_assert_int_eq(mkdir(pf_dir(), 0700), 0);
	snprintf(path, sizeof(path), "%s/worker.pid", pf_dir());
	fd = open(path, O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(write(fd, "1", 1), 1);
	opts.prefetch = 1;
	opts.wal_name = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), 0);
	wait_workers();
	ck_assert_int_eq(h_count_entries(pf_dir()), 1); /* the lock only */
	close(fd);
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

START_TEST(test_prefetch_out_of_range)
{
	archive_segment(PITR_CODEC_NONE, 1, SYSID, NULL);
	opts.prefetch = PITR_RESTORE_PREFETCH_MAX + 1;
	opts.wal_name = SEG(1);
	ck_assert_int_eq(pitr_cmd_restore(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : --prefetch 17 is out of range: 0 to 16 segments\n");
	assert_nothing_restored();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_restore");
	TCase *tc;

	tc = tcase_create("pitr_restore_ep_from_name");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ep_from_name);
	tcase_add_test(tc, test_store_poll_ms);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: hand-over");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_codec);
	tcase_add_test(tc, test_codec_of_the_file_wins);
	tcase_add_test(tc, test_relative_to_cwd);
	tcase_add_test(tc, test_bad_archive_files);
	tcase_add_test(tc, test_other_cluster_refused);
	tcase_add_test(tc, test_several_sources);
	tcase_add_test(tc, test_sources_other_clusters);
	tcase_add_test(tc, test_history_files);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: waiting");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_streaming_missing);
	tcase_add_test(tc, test_wait_for_segment);
	tcase_add_test(tc, test_signals_while_waiting);
	tcase_add_test(tc, test_recovery_delay);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: finish triggers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_trigger_now);
	tcase_add_test(tc, test_trigger_smart);
	tcase_add_test(tc, test_trigger_settles);
	tcase_add_test(tc, test_trigger_while_waiting);
	tcase_add_test(tc, test_odd_triggers);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: removal (-r)");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_remove_fixed_cutoff);
	tcase_add_test(tc, test_remove_before_with_hook);
	tcase_add_test(tc, test_hook_failure_postpones);
	tcase_add_test(tc, test_remove_with_controldata);
	tcase_add_test(tc, test_remove_while_waiting);
	tcase_add_test(tc, test_ep_break_and_ignore);
	tcase_add_test(tc, test_ep_hang);
	tcase_add_test(tc, test_ep_hang_recovers);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: bad options");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_absolute_outside_data_dir);
	tcase_add_test(tc, test_pid_file_busy);
	suite_add_tcase(s, tc);

	tc = tcase_create("pitr_cmd_restore: prefetch (-pf)");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_prefetch_window_and_take);
	tcase_add_test(tc, test_prefetch_stops_at_archive_end);
	tcase_add_test(tc, test_prefetch_prunes_stale);
	tcase_add_test(tc, test_prefetch_bad_copy_not_used);
	tcase_add_test(tc, test_prefetch_history_request_clears);
	tcase_add_test(tc, test_prefetch_one_worker_at_a_time);
	tcase_add_test(tc, test_prefetch_out_of_range);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
