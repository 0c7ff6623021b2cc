/*
 * check_bcleanup.c - unit tests for pitr_cmd_backup_cleanup(): which
 * backups go at which --keep-days, the newest never, WAL cut at the oldest
 * remaining backup's start (timeline ignored, .history kept, .backup and
 * .partial removed), the dry run listing exactly what the real run removes,
 * truncation in steps, failures that must keep WAL, refusals and bad
 * options.  Backup dirs are synthesized as pitr-backup-master lays them out:
 * data, xlog, meta (compressed by the dir's codec) and a plain SHA-256
 * digest file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "command/bcleanup/bcleanup.h"
#include "dest/dest.h"
#include "repo/catalog.h"
#include "repo/orphan.h"
#include "compress/codec.h"
#include "common/fsutil.h"
#include "harness.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "postgres/wal.h"

#define SEGSIZE (1u << 20)
#define SYSID UINT64_C(7300000000000000001)
#define NOW ((time_t)1700000000)
#define DAY 86400

static struct pitr_bcleanup_opts opts;
static char p_bk[4096], p_arch[4096];

/*
 * unlink(2) as the library sees it: the executable's definition interposes
 * libc's, so a test can make the removal of one named file fail, as an
 * immutable file or a read-only mount would (tests run as root, where
 * permissions do not stop unlink).
 */
static const char *fail_unlink;

int
unlink(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	if (fail_unlink != NULL && strcmp(base, fail_unlink) == 0) {
		errno = EPERM;
		return -1;
	}
	return unlinkat(AT_FDCWD, path, 0);
}

/*
 * flock(2) as the library sees it: with `meta_on_lock` set, the first
 * exclusive lock taken on a directory first writes that meta file, as a
 * backup finishing its publish between the catalog's load and
 * pitr-backup-cleanup's lock would.
 */
static const char *meta_on_lock;

int
flock(int fd, int op)
{
	struct stat st;

	if (meta_on_lock != NULL && (op & LOCK_EX) && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		h_write_file(meta_on_lock, "finished", 8);
		meta_on_lock = NULL;
	}
	return (int)syscall(SYS_flock, fd, op);
}

static void
setup(void)
{
	h_setup();
	snprintf(p_bk, sizeof(p_bk), "%s", h_path("bk"));
	snprintf(p_arch, sizeof(p_arch), "%s", h_path("arch"));
	ck_assert_int_eq(mkdir(p_bk, 0700), 0);
	ck_assert_int_eq(mkdir(p_arch, 0700), 0);
	memset(&opts, 0, sizeof(opts));
	opts.archive = p_arch;
	opts.backup_dir = p_bk;
	opts.keep_days = 7;
	opts.sleep_ms = 0;
	opts.now = NOW;
	opts.min_age = -1;  /* files made here are seconds old; see test_young_orphan_stays */
	fail_unlink = NULL;
	meta_on_lock = NULL;
	pitr_log_open("check", NULL, true);
}

static void
teardown(void)
{
	fail_unlink = NULL;
	h_teardown();
}

/* --- builders ------------------------------------------------------------ */

struct membuf {
	unsigned char *data;
	size_t len;
};

static int
mem_sink(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	m->data = realloc(m->data, m->len + len);
	ck_assert_ptr_nonnull(m->data);
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static void
write_coded(const char *path, enum pitr_codec codec, const void *buf, size_t len)
{
	struct membuf m = { 0 };
	struct pitr_codec_writer *w;

	if (codec == PITR_CODEC_NONE) {
		h_write_file(path, buf, len);
		return;
	}
	w = pitr_codec_writer_new(codec, 0, 1, mem_sink, &m);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(pitr_codec_writer_write(w, buf, len), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(w), 0);
	pitr_codec_writer_free(w);
	h_write_file(path, m.data, m.len);
	free(m.data);
}

static const char *
in(const char *dir, const char *name)
{
	static char ring[8][8192];
	static unsigned next;
	char *buf = ring[next++ % 8];

	snprintf(buf, sizeof(ring[0]), "%s/%s", dir, name);
	return buf;
}

static void
fmt_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	ck_assert_ptr_nonnull(localtime_r(&t, &tm));
	ck_assert_uint_gt(strftime(out, size, "%Y-%m-%d %H:%M:%S %z", &tm), 0);
}

static void
fmt_lsn(uint64_t lsn, char *out, size_t size)
{
	snprintf(out, size, "%" PRIX32 "/%" PRIX32, (uint32_t)(lsn >> 32), (uint32_t)lsn);
}

/* Meta lines make_backup() adds (an incremental's base and chain). */
static const char *meta_extra = "";

/*
 * A backup as pitr-backup-master writes it into p_bk with the test
 * template "bk-__FILETYPE__-STAMP.tar__CEXT__": its WAL runs from segment
 * `segno` (timeline `tli`) to the next, it started at `start`.
 */
static void
make_backup(const char *stamp, enum pitr_codec codec, time_t start, uint32_t tli, uint64_t segno,
	    size_t data_len)
{
	const char *ext = pitr_codec_ext(codec);
	char name[512], data_name[512], xlog_name[512], text[4096], digest[1024];
	char start_wal[PITR_WAL_NAME_MAX], stop_wal[PITR_WAL_NAME_MAX];
	char tstart[64], tstop[64], lstart[32], lstop[32];
	unsigned char *data = malloc(data_len);
	int n;

	ck_assert_ptr_nonnull(data);
	memset(data, 'D', data_len);
	snprintf(data_name, sizeof(data_name), "bk-data-%s.tar%s", stamp, ext);
	write_coded(in(p_bk, data_name), PITR_CODEC_NONE, data, data_len);
	free(data);
	snprintf(xlog_name, sizeof(xlog_name), "bk-xlog-%s.tar%s", stamp, ext);
	h_write_file(in(p_bk, xlog_name), "xlog tarball bytes", 18);

	n = snprintf(digest, sizeof(digest), "%064d  %s\n%064d  %s\n", 0, data_name, 1, xlog_name);
	snprintf(name, sizeof(name), "bk-SHA-256-%s.tar", stamp);
	h_write_file(in(p_bk, name), digest, (size_t)n);

	pitr_wal_format_segment(start_wal, tli, segno, SEGSIZE);
	pitr_wal_format_segment(stop_wal, tli, segno + 1, SEGSIZE);
	fmt_time(start, tstart, sizeof(tstart));
	fmt_time(start + 60, tstop, sizeof(tstop));
	fmt_lsn(segno * SEGSIZE + 0x28, lstart, sizeof(lstart));
	fmt_lsn((segno + 1) * SEGSIZE + 0x100, lstop, sizeof(lstop));
	n = snprintf(text, sizeof(text),
		     "start_wal=%s\nstop_wal=%s\nstart_lsn=%s\nstop_lsn=%s\nstart_time=%s\n"
		     "stop_time=%s\nstart_epoch=%jd\nstop_epoch=%jd\nhost=testhost\nlabel=%s\n"
		     "system_identifier=%" PRIu64 "\ntimeline=%" PRIu32 "\nwal_segment_size=%u\n"
		     "data_dir=/srv/pg/data\ndata_size=%zu\nxlog_size=18\ncodec=%s\n"
		     "digests=SHA-256\n%s",
		     start_wal, stop_wal, lstart, lstop, tstart, tstop, (intmax_t)start,
		     (intmax_t)(start + 60), stamp, SYSID, tli, SEGSIZE, data_len,
		     pitr_codec_name(codec), meta_extra);
	ck_assert_int_lt(n, (int)sizeof(text));
	snprintf(name, sizeof(name), "bk-meta-%s.tar%s", stamp, ext);
	write_coded(in(p_bk, name), codec, text, (size_t)n);
}

static void
make_segment(uint32_t tli, uint64_t segno, enum pitr_codec codec)
{
	char name[PITR_WAL_NAME_MAX + 8];
	unsigned char *seg = h_make_segment(SEGSIZE, tli, segno, SYSID, (unsigned)segno);

	pitr_wal_format_segment(name, tli, segno, SEGSIZE);
	strcat(name, pitr_codec_ext(codec));
	write_coded(in(p_arch, name), codec, seg, SEGSIZE);
	free(seg);
}

static void
touch_arch(const char *name, const char *content)
{
	h_write_file(in(p_arch, name), content, strlen(content));
}

/* The backup history file PostgreSQL archives for a backup starting in
 * `segno`. */
static void
make_backup_history(uint32_t tli, uint64_t segno)
{
	char seg[PITR_WAL_NAME_MAX], name[PITR_WAL_NAME_MAX + 16];

	pitr_wal_format_segment(seg, tli, segno, SEGSIZE);
	snprintf(name, sizeof(name), "%s.00000028.backup", seg);
	touch_arch(name, "START WAL LOCATION: ...\n");
}

/*
 * Four backups, 10, 8, 3 and 1 days old, starting in segments 2, 5, 8 and
 * 11 of timeline 1, with their backup history files; the archive holds
 * segments 1 to 13 (some compressed), a partial segment and a timeline
 * history file.
 */
static void
make_standard(void)
{
	make_backup("b1", PITR_CODEC_GZIP, NOW - 10 * DAY, 1, 2, 3000);
	make_backup("b2", PITR_CODEC_NONE, NOW - 8 * DAY, 1, 5, 2000);
	make_backup("b3", PITR_CODEC_GZIP, NOW - 3 * DAY, 1, 8, 1000);
	make_backup("b4", PITR_CODEC_ZSTD, NOW - 1 * DAY, 1, 11, 500);
	for (uint64_t s = 1; s <= 13; s++)
		make_segment(1, s, s % 3 == 1 ? PITR_CODEC_GZIP : PITR_CODEC_NONE);
	make_backup_history(1, 2);
	make_backup_history(1, 5);
	make_backup_history(1, 8);
	make_backup_history(1, 11);
	touch_arch("000000010000000000000003.partial", "partial");
	touch_arch("00000002.history", "1\t0/D000000\tno recovery target specified\n");
}

/* --- assertions ---------------------------------------------------------- */

static void
assert_logged(const char *line)
{
	ck_assert_msg(strstr(h_log(), line) != NULL, "log lacks [%s]: [%s]", line, h_log());
}

static void
assert_not_logged(const char *text)
{
	ck_assert_msg(strstr(h_log(), text) == NULL, "log has [%s]: [%s]", text, h_log());
}

/* Where `line` is in the log (it must be there). */
static size_t
log_pos(const char *line)
{
	const char *p = strstr(h_log(), line);

	ck_assert_msg(p != NULL, "log lacks [%s]: [%s]", line, h_log());
	return (size_t)(p - h_log());
}

static const char *
removing(const char *kind, const char *dir, const char *name)
{
	static char ring[4][8192];
	static unsigned next;
	char *buf = ring[next++ % 4];

	snprintf(buf, sizeof(ring[0]), "LOG : Removing %s file: %s/%s\n", kind, dir, name);
	return buf;
}

/* Every file name of a dir, sorted, one per line. */
static char *
listing(const char *dir)
{
	char *cmd, *out = NULL;
	size_t size = 0;
	FILE *fp, *mem = open_memstream(&out, &size);
	char line[1024];

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_ge(asprintf(&cmd, "ls -A '%s' | LC_ALL=C sort", dir), 0);
	fp = popen(cmd, "r");
	ck_assert_ptr_nonnull(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		fputs(line, mem);
	ck_assert_int_eq(pclose(fp), 0);
	fclose(mem);
	free(cmd);
	return out;
}

static uint64_t
size_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* The bytes of backup STAMP's four files. */
static uint64_t
backup_bytes(const char *stamp, const char *ext)
{
	char name[256];
	uint64_t sum = 0;
	static const char *const types[] = { "data", "xlog", "meta" };

	for (size_t i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "bk-%s-%s.tar%s", types[i], stamp, ext);
		sum += size_of(in(p_bk, name));
	}
	snprintf(name, sizeof(name), "bk-SHA-256-%s.tar", stamp);
	return sum + size_of(in(p_bk, name));
}

/* The closing line for `n` files of `bytes`. */
static const char *
closing(bool dry, size_t n, uint64_t bytes)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "LOG : %sRemoved %zu files, total: %.1fMB\n",
		 dry ? "(dry-run) " : "", n, (double)bytes / 1048576.0);
	return buf;
}

/* The "Removing" lines of the log, without "(dry-run) ", in order. */
static char *
removal_lines(void)
{
	char *out = NULL;
	size_t size = 0;
	FILE *mem = open_memstream(&out, &size);
	const char *p = h_log();

	ck_assert_ptr_nonnull(mem);
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *body = p;

		if (strncmp(body, "LOG : ", 6) == 0)
			body += 6;
		if (strncmp(body, "(dry-run) ", 10) == 0)
			body += 10;
		if (strncmp(body, "Removing ", 9) == 0)
			fprintf(mem, "%.*s\n", (int)(len - (size_t)(body - p)), body);
		p += len + (nl != NULL);
	}
	fclose(mem);
	return out;
}

/* --- tests --------------------------------------------------------------- */

static const char *const b1_files[] = { "bk-data-b1.tar.gz", "bk-xlog-b1.tar.gz",
					"bk-SHA-256-b1.tar", "bk-meta-b1.tar.gz" };
static const char *const b2_files[] = { "bk-data-b2.tar", "bk-xlog-b2.tar", "bk-SHA-256-b2.tar",
					"bk-meta-b2.tar" };
/* What goes from the archive at the default window, oldest first. */
static const char *const old_wal[] = {
	"000000010000000000000001.gz", "000000010000000000000002",
	"000000010000000000000002.00000028.backup", "000000010000000000000003",
	"000000010000000000000003.partial", "000000010000000000000004.gz",
	"000000010000000000000005", "000000010000000000000005.00000028.backup",
	"000000010000000000000006", "000000010000000000000007.gz",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_default_window)
{
	uint64_t bytes = 0;
	char *bk, *arch;

	make_standard();
	for (size_t i = 0; i < 4; i++)
		bytes += size_of(in(p_bk, b1_files[i])) + size_of(in(p_bk, b2_files[i]));
	for (size_t i = 0; i < N(old_wal); i++)
		bytes += size_of(in(p_arch, old_wal[i]));

	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);

	/* b1 and b2 started more than 7 days ago: gone, every file. */
	bk = listing(p_bk);
	ck_assert_str_eq(bk, "bk-SHA-256-b3.tar\nbk-SHA-256-b4.tar\nbk-data-b3.tar.gz\n"
			     "bk-data-b4.tar.zst\nbk-meta-b3.tar.gz\nbk-meta-b4.tar.zst\n"
			     "bk-xlog-b3.tar.gz\nbk-xlog-b4.tar.zst\n");
	/* WAL from b3's start (segment 8) on stays, with b3's backup history
	 * file and the timeline history file. */
	arch = listing(p_arch);
	ck_assert_str_eq(arch, "000000010000000000000008\n000000010000000000000008.00000028.backup\n"
			       "000000010000000000000009\n00000001000000000000000A.gz\n"
			       "00000001000000000000000B\n00000001000000000000000B.00000028.backup\n"
			       "00000001000000000000000C\n00000001000000000000000D.gz\n"
			       "00000002.history\n");

	/* Each file is logged; within a backup data, xlog, digest, meta. */
	for (size_t i = 0; i < 4; i++) {
		assert_logged(removing("backup", p_bk, b1_files[i]));
		assert_logged(removing("backup", p_bk, b2_files[i]));
		if (i > 0) {
			ck_assert_uint_lt(log_pos(removing("backup", p_bk, b1_files[i - 1])),
					  log_pos(removing("backup", p_bk, b1_files[i])));
			ck_assert_uint_lt(log_pos(removing("backup", p_bk, b2_files[i - 1])),
					  log_pos(removing("backup", p_bk, b2_files[i])));
		}
	}
	/* Backups before WAL; WAL oldest first. */
	ck_assert_uint_lt(log_pos(removing("backup", p_bk, b2_files[3])),
			  log_pos(removing("xlog", p_arch, old_wal[0])));
	for (size_t i = 1; i < N(old_wal); i++)
		ck_assert_uint_lt(log_pos(removing("xlog", p_arch, old_wal[i - 1])),
				  log_pos(removing("xlog", p_arch, old_wal[i])));
	assert_logged("LOG : 2 backups to remove.\n");
	assert_logged("LOG : 10 xlogs to be removed, from 000000010000000000000001.gz to "
		      "000000010000000000000007.gz (the oldest backup kept starts at "
		      "000000010000000000000008)\n");
	assert_not_logged("ERROR");
	assert_not_logged("newest");
	assert_logged(closing(false, 18, bytes));

	/* A second run finds nothing more to do. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged("LOG : No backups to remove.\n");
	assert_logged("LOG : No xlogs to remove (the oldest backup kept starts at "
		      "000000010000000000000008).\n");
	ck_assert_str_eq(h_log() + strlen(h_log()) - strlen(closing(false, 0, 0)),
			 closing(false, 0, 0));
	free(bk);
	free(arch);
}
END_TEST

START_TEST(test_keep_days)
{
	char *arch;
	uint64_t seg1;

	make_standard();
	seg1 = size_of(in(p_arch, "000000010000000000000001.gz"));
	/* 30 days keeps every backup; only what precedes b1's start goes. */
	opts.keep_days = 30;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 16);
	ck_assert(!h_exists(in(p_arch, "000000010000000000000001.gz")));
	ck_assert_int_eq(h_count_entries(p_arch), 13 + 4 + 2 - 1);
	assert_logged(closing(false, 1, seg1));

	/* 9 days: b1 (10 days) goes, b2 (8 days) stays and anchors the WAL. */
	h_log_reset();
	opts.keep_days = 9;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 12);
	ck_assert(!h_exists(in(p_bk, "bk-meta-b1.tar.gz")));
	ck_assert(h_exists(in(p_bk, "bk-meta-b2.tar")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000005")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000005.00000028.backup")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000004.gz")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000002.00000028.backup")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000003.partial")));

	/* 2 days: b2 and b3 go too; WAL from b4's start (segment 11) stays. */
	h_log_reset();
	opts.keep_days = 2;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	ck_assert(h_exists(in(p_bk, "bk-data-b4.tar.zst")));
	arch = listing(p_arch);
	ck_assert_str_eq(arch, "00000001000000000000000B\n00000001000000000000000B.00000028.backup\n"
			       "00000001000000000000000C\n00000001000000000000000D.gz\n"
			       "00000002.history\n");
	assert_logged("LOG : 2 backups to remove.\n");
	assert_not_logged("ERROR");
	free(arch);
}
END_TEST

/* --keep-count alone: the N newest stay whatever their age, the days do
 * not count; the WAL from the oldest kept backup's start stays (issue 11). */
START_TEST(test_keep_count)
{
	char *bk, *arch;

	make_standard();
	opts.keep_count = 3;
	opts.keep_days = 0;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	/* b1 (10 days) goes; b2 (8 days), outside any 7-day window, stays. */
	bk = listing(p_bk);
	ck_assert(!h_exists(in(p_bk, "bk-meta-b1.tar.gz")));
	ck_assert_int_eq(h_count_entries(p_bk), 12);
	ck_assert(h_exists(in(p_bk, "bk-meta-b2.tar")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000005")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000004.gz")));
	assert_logged("LOG : Keeping the 3 newest backups.\n");
	assert_logged("LOG : 1 backups to remove.\n");
	free(bk);

	/* 100 days later, --keep-count 2: the two newest, however old. */
	h_log_reset();
	opts.keep_count = 2;
	opts.now = NOW + 100 * DAY;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	bk = listing(p_bk);
	ck_assert_str_eq(bk, "bk-SHA-256-b3.tar\nbk-SHA-256-b4.tar\nbk-data-b3.tar.gz\n"
			     "bk-data-b4.tar.zst\nbk-meta-b3.tar.gz\nbk-meta-b4.tar.zst\n"
			     "bk-xlog-b3.tar.gz\nbk-xlog-b4.tar.zst\n");
	arch = listing(p_arch);
	ck_assert_str_eq(arch, "000000010000000000000008\n000000010000000000000008.00000028.backup\n"
			       "000000010000000000000009\n00000001000000000000000A.gz\n"
			       "00000001000000000000000B\n00000001000000000000000B.00000028.backup\n"
			       "00000001000000000000000C\n00000001000000000000000D.gz\n"
			       "00000002.history\n");
	/* Kept by the count, not "only because it is the newest". */
	assert_not_logged("newest\n");
	assert_not_logged("ERROR");
	free(bk);
	free(arch);
}
END_TEST

/* One backup run written into the dir under two codecs (-dl gzip=DIR
 * -dl DIR): a gzip copy, its digest file with the codec's extension, and
 * a plain one. */
static void
make_two_copies(const char *stamp, time_t start, uint64_t segno)
{
	char plain[256], gz[256];

	make_backup(stamp, PITR_CODEC_GZIP, start, 1, segno, 300);
	snprintf(plain, sizeof(plain), "bk-SHA-256-%s.tar", stamp);
	snprintf(gz, sizeof(gz), "bk-SHA-256-%s.tar.gz", stamp);
	ck_assert_int_eq(rename(in(p_bk, plain), in(p_bk, gz)), 0);
	make_backup(stamp, PITR_CODEC_NONE, start, 1, segno, 300);
}

/* Whether both copies of run STAMP are whole in the dir (true) or both
 * gone (false); one without the other fails. */
static bool
both_copies(const char *stamp)
{
	static const char *const types[] = { "data", "xlog", "meta", "SHA-256" };
	size_t found = 0;
	char name[256];

	for (size_t i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "bk-%s-%s.tar", types[i], stamp);
		found += h_exists(in(p_bk, name));
		snprintf(name, sizeof(name), "bk-%s-%s.tar.gz", types[i], stamp);
		found += h_exists(in(p_bk, name));
	}
	ck_assert_msg(found == 0 || found == 8, "run %s: %zu of its 8 files", stamp, found);
	return found == 8;
}

/* The copies of one run under several codecs are one backup: --keep-count
 * counts runs, and every copy of a kept run stays, of the newest too. */
START_TEST(test_copies_of_one_run)
{
	char *lines;

	make_two_copies("r1", NOW - 10 * DAY, 2);
	make_two_copies("r2", NOW - 3 * DAY, 5);
	make_two_copies("r3", NOW - 1 * DAY, 8);
	for (uint64_t s = 1; s <= 9; s++)
		make_segment(1, s, PITR_CODEC_NONE);
	ck_assert_int_eq(h_count_entries(p_bk), 24);
	opts.keep_count = 1;
	opts.keep_days = 0;
	opts.dry_run = true;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	lines = removal_lines();
	ck_assert_ptr_null(strstr(lines, "-r3.tar"));
	ck_assert_ptr_nonnull(strstr(lines, "/bk-meta-r2.tar\n"));
	ck_assert_ptr_nonnull(strstr(lines, "/bk-meta-r2.tar.gz\n"));
	free(lines);
	opts.dry_run = false;
	h_log_reset();
	opts.keep_count = 2;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(!both_copies("r1"));
	ck_assert(both_copies("r2"));
	ck_assert(both_copies("r3"));
	ck_assert(h_exists(in(p_arch, "000000010000000000000005")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000004")));

	/* The day rule alone, every run out of the window: the newest run
	 * stays whole. */
	h_log_reset();
	opts.keep_count = 0;
	opts.keep_days = 1;
	opts.now = NOW + 100 * DAY;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(!both_copies("r2"));
	ck_assert(both_copies("r3"));
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert(h_exists(in(p_arch, "000000010000000000000008")));
	assert_logged("LOG : keeping backup \"bk-*-r3.tar\" although it started more than 1 day "
		      "ago: it is the newest\n");
	assert_logged("LOG : keeping backup \"bk-*-r3.tar.gz\" although it started more than 1 "
		      "day ago: it is the newest\n");
	assert_not_logged("ERROR");
}
END_TEST

/* --keep-count with --keep-days: a backup either rule keeps stays. */
START_TEST(test_keep_count_and_days)
{
	make_standard();
	/* 2 days keep b4 only, 2 newest keep b3 and b4: b1, b2 go. */
	opts.keep_days = 2;
	opts.keep_count = 2;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert(h_exists(in(p_bk, "bk-meta-b3.tar.gz")));
	ck_assert(!h_exists(in(p_bk, "bk-meta-b2.tar")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000008")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000007.gz")));
	assert_logged("LOG : Keeping the 2 newest backups and those of the --keep-days window.\n");

	/* 9 days keep b2 (8 days), which one newest alone would not. */
	h_log_reset();
	opts.keep_days = 9;
	opts.keep_count = 1;
	make_backup("b0", PITR_CODEC_NONE, NOW - 20 * DAY, 1, 1, 100);
	make_backup("b2", PITR_CODEC_NONE, NOW - 8 * DAY, 1, 5, 2000);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(!h_exists(in(p_bk, "bk-meta-b0.tar")));
	ck_assert(h_exists(in(p_bk, "bk-meta-b2.tar")));
	ck_assert(h_exists(in(p_bk, "bk-meta-b3.tar.gz")));
	ck_assert(h_exists(in(p_bk, "bk-meta-b4.tar.zst")));
	assert_logged("LOG : 1 backups to remove.\n");
}
END_TEST

/* --dry-run with --keep-count lists exactly what the real run removes. */
START_TEST(test_keep_count_dry_run)
{
	char *before, *dry, *real;

	make_standard();
	before = listing(p_bk);
	opts.keep_count = 2;
	opts.keep_days = 0;
	opts.dry_run = true;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	dry = removal_lines();
	real = listing(p_bk);
	ck_assert_str_eq(real, before);
	free(real);
	h_log_reset();
	opts.dry_run = false;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	real = removal_lines();
	ck_assert_str_eq(real, dry);
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	free(before);
	free(dry);
	free(real);
}
END_TEST

/* --keep-count out of range, or neither rule: refused, nothing removed. */
START_TEST(test_keep_count_refused)
{
	make_standard();
	opts.keep_count = -1;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	assert_logged("ERROR : invalid value \"-1\" for option \"--keep-count\": expected an "
		      "integer from 1 to 100000\n");
	opts.keep_count = 0;
	opts.keep_days = 0;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	assert_logged("ERROR : invalid value \"0\" for option \"--keep-days\"");
	ck_assert_int_eq(h_count_entries(p_bk), 16);
}
END_TEST

START_TEST(test_window_edge)
{
	uint64_t bytes;

	/* A backup that started exactly keep-days ago is inside the window;
	 * one second earlier is outside. */
	make_backup("old", PITR_CODEC_NONE, NOW - 7 * DAY - 1, 1, 2, 100);
	make_backup("edge", PITR_CODEC_NONE, NOW - 7 * DAY, 1, 3, 100);
	make_backup("new", PITR_CODEC_NONE, NOW, 1, 4, 100);
	bytes = backup_bytes("old", "");
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(!h_exists(in(p_bk, "bk-meta-old.tar")));
	ck_assert(h_exists(in(p_bk, "bk-meta-edge.tar")));
	ck_assert(h_exists(in(p_bk, "bk-meta-new.tar")));
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	assert_logged("LOG : 1 backups to remove.\n");
	assert_logged(closing(false, 4, bytes));
}
END_TEST

START_TEST(test_newest_never_removed)
{
	char line[512];

	make_standard();
	/* 100 days later every backup is out of a 1-day window. */
	opts.now = NOW + 100 * DAY;
	opts.keep_days = 1;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	ck_assert(h_exists(in(p_bk, "bk-meta-b4.tar.zst")));
	ck_assert(h_exists(in(p_bk, "bk-data-b4.tar.zst")));
	ck_assert(h_exists(in(p_bk, "bk-xlog-b4.tar.zst")));
	ck_assert(h_exists(in(p_bk, "bk-SHA-256-b4.tar")));
	snprintf(line, sizeof(line), "LOG : keeping backup \"bk-*-b4.tar.zst\" although it started "
		 "more than 1 day ago: it is the newest\n");
	assert_logged(line);
	assert_logged("LOG : 3 backups to remove.\n");
	/* Its WAL stays: the cut is at its own start. */
	ck_assert(h_exists(in(p_arch, "00000001000000000000000B")));
	ck_assert(h_exists(in(p_arch, "00000001000000000000000B.00000028.backup")));
	ck_assert(!h_exists(in(p_arch, "00000001000000000000000A.gz")));
	ck_assert_int_eq(h_count_entries(p_arch), 5);

	/* A lone backup, however old, stays, and so does its WAL. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	ck_assert_int_eq(h_count_entries(p_arch), 5);
	assert_logged(line);
	assert_logged(closing(false, 0, 0));
}
END_TEST

START_TEST(test_timelines)
{
	char *arch;

	/* A promotion to timeline 2 in segment 5; an old backup on timeline 1,
	 * the kept one on timeline 2 starting in segment 6. */
	make_backup("t1", PITR_CODEC_NONE, NOW - 20 * DAY, 1, 2, 100);
	make_backup("t2", PITR_CODEC_NONE, NOW - 1 * DAY, 2, 6, 100);
	for (uint64_t s = 1; s <= 5; s++)
		make_segment(1, s, PITR_CODEC_NONE);
	make_segment(1, 7, PITR_CODEC_NONE);  /* the old timeline went on a little */
	touch_arch("000000010000000000000005.partial", "partial");
	touch_arch("00000002.history", "1\t0/500000\tno recovery target specified\n");
	make_segment(2, 5, PITR_CODEC_LZ4);
	make_segment(2, 6, PITR_CODEC_LZ4);
	make_segment(2, 7, PITR_CODEC_LZ4);
	make_backup_history(1, 2);
	make_backup_history(2, 6);

	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	/* Positions before 6 go on both timelines; from 6 on both stay. */
	arch = listing(p_arch);
	ck_assert_str_eq(arch, "000000010000000000000007\n00000002.history\n"
			       "000000020000000000000006.00000028.backup\n"
			       "000000020000000000000006.lz4\n000000020000000000000007.lz4\n");
	assert_logged(removing("xlog", p_arch, "000000010000000000000005.partial"));
	assert_logged(removing("xlog", p_arch, "000000020000000000000005.lz4"));
	/* Equal positions: oldest first means by name, so timeline 1 first. */
	ck_assert_uint_lt(log_pos(removing("xlog", p_arch, "000000010000000000000005")),
			  log_pos(removing("xlog", p_arch, "000000020000000000000005.lz4")));
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	assert_not_logged("ERROR");
	free(arch);
}
END_TEST

START_TEST(test_dry_run_lists_what_real_run_removes)
{
	char *bk_before, *arch_before, *bk_after, *arch_after, *dry, *real;
	uint64_t bytes = 0;

	make_standard();
	for (size_t i = 0; i < 4; i++)
		bytes += size_of(in(p_bk, b1_files[i])) + size_of(in(p_bk, b2_files[i]));
	for (size_t i = 0; i < N(old_wal); i++)
		bytes += size_of(in(p_arch, old_wal[i]));
	bk_before = listing(p_bk);
	arch_before = listing(p_arch);

	opts.dry_run = true;
	opts.truncate = 1000;  /* a dry run never truncates */
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	bk_after = listing(p_bk);
	arch_after = listing(p_arch);
	ck_assert_str_eq(bk_after, bk_before);
	ck_assert_str_eq(arch_after, arch_before);
	ck_assert_uint_eq(size_of(in(p_bk, "bk-data-b1.tar.gz")), 3000);
	assert_not_logged("Truncated");
	/* Every removal line carries the prefix. */
	assert_logged("LOG : (dry-run) Removing backup file: ");
	assert_not_logged("LOG : Removing");
	assert_logged(closing(true, 18, bytes));
	dry = removal_lines();

	h_log_reset();
	opts.dry_run = false;
	opts.truncate = 0;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	real = removal_lines();
	ck_assert_str_eq(real, dry);
	assert_not_logged("(dry-run)");
	assert_logged(closing(false, 18, bytes));
	/* And they were removed. */
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert_int_eq(h_count_entries(p_arch), 9);
	free(bk_before);
	free(arch_before);
	free(bk_after);
	free(arch_after);
	free(dry);
	free(real);
}
END_TEST

START_TEST(test_truncate_in_steps)
{
	char line[32768];
	const char *tmpname = PITR_FSUTIL_TMP_PREFIX "bk-data-old.tar.gz" PITR_BCLEANUP_TRUNC_SUFFIX;
	uint64_t bytes;

	make_backup("old", PITR_CODEC_GZIP, NOW - 30 * DAY, 1, 3, 10000);
	make_backup("new", PITR_CODEC_GZIP, NOW, 1, 3, 100);
	make_backup_history(1, 2);  /* small: the only WAL file to go */
	bytes = backup_bytes("old", ".gz") + size_of(in(p_arch, "000000010000000000000002.00000028.backup"));
	opts.truncate = 3000;
	opts.sleep_ms = 1;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(!h_exists(in(p_bk, "bk-data-old.tar.gz")));
	ck_assert(!h_exists(in(p_bk, tmpname)));
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	ck_assert_int_eq(h_count_entries(p_arch), 0);
	/* 10000 -> 7000 -> 4000 -> 1000, under its temporary name, then unlinked. */
	snprintf(line, sizeof(line), "LOG : Truncated %s/%s to 7000 bytes\nLOG : Truncated %s/%s to "
		 "4000 bytes\nLOG : Truncated %s/%s to 1000 bytes\nLOG : Removing backup file: "
		 "%s/bk-xlog-old.tar.gz\n", p_bk, tmpname, p_bk, tmpname, p_bk, tmpname, p_bk);
	assert_logged(line);
	/* The smaller files went at once. */
	snprintf(line, sizeof(line), "Truncated %s/%s to 1000 bytes\n", p_bk, tmpname);
	ck_assert_ptr_null(strstr(strstr(h_log(), line) + 1, "Truncated"));
	assert_logged(closing(false, 5, bytes));
	assert_not_logged("ERROR");
}
END_TEST

START_TEST(test_truncate_exact_multiple_and_leftovers)
{
	char line[32768];
	const char *left_bk = PITR_FSUTIL_TMP_PREFIX "bk-data-x.tar" PITR_BCLEANUP_TRUNC_SUFFIX;
	const char *left_arch = PITR_FSUTIL_TMP_PREFIX "000000010000000000000001" PITR_BCLEANUP_TRUNC_SUFFIX;
	const char *publishing = PITR_FSUTIL_TMP_PREFIX "000000010000000000000004.Ab3dEf";
	const char *dead = PITR_FSUTIL_TMP_PREFIX "000000010000000000000003.Zz9yY8";
	static char big[9000];
	int lock_fd;

	make_backup("new", PITR_CODEC_NONE, NOW, 1, 3, 100);
	/* What a run killed while truncating leaves; a file another program
	 * is publishing (locked: tmpfile.h), which is not ours; and one a
	 * killed pitr-archive left (not locked). */
	h_write_file(in(p_bk, left_bk), big, sizeof(big));
	h_write_file(in(p_arch, left_arch), big, 500);
	h_write_file(in(p_arch, publishing), big, 10);
	h_write_file(in(p_arch, dead), big, 20);
	lock_fd = open(in(p_arch, publishing), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(lock_fd, 0);
	ck_assert_int_eq(flock(lock_fd, LOCK_EX), 0);
	opts.truncate = 3000;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	close(lock_fd);
	ck_assert(!h_exists(in(p_bk, left_bk)));
	ck_assert(!h_exists(in(p_arch, left_arch)));
	ck_assert(!h_exists(in(p_arch, dead)));
	ck_assert(h_exists(in(p_arch, publishing)));
	ck_assert_int_eq(h_count_entries(p_bk), 4);
	/* The leftover is shrunk where it is: 9000 -> 6000 -> 3000, then
	 * unlinked (not shrunk to 0). */
	snprintf(line, sizeof(line), "LOG : Removing leftover file: %s/%s\nLOG : Truncated %s/%s to "
		 "6000 bytes\nLOG : Truncated %s/%s to 3000 bytes\n", p_bk, left_bk, p_bk, left_bk,
		 p_bk, left_bk);
	assert_logged(line);
	assert_not_logged("to 0 bytes");
	assert_logged(removing("leftover", p_arch, left_arch));
	assert_logged(removing("leftover", p_arch, dead));
	assert_logged(closing(false, 3, 9520));
}
END_TEST

START_TEST(test_no_backup_refused)
{
	char line[32768];

	make_segment(1, 1, PITR_CODEC_NONE);
	make_segment(1, 2, PITR_CODEC_GZIP);
	touch_arch("000000010000000000000001.00000028.backup", "x");
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	snprintf(line, sizeof(line), "ERROR : no backup in \"%s\": refusing to remove anything, "
		 "because without a backup nothing tells which WAL is no longer needed\n", p_bk);
	ck_assert_str_eq(h_log(), line);
	ck_assert_int_eq(h_count_entries(p_arch), 3);

	/* Only a meta file that is not one: still no backup. */
	h_log_reset();
	h_write_file(in(p_bk, "bk-meta-x.tar"), "not a meta file\n", 16);
	h_write_file(in(p_bk, "bk-data-x.tar"), "tar", 3);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	snprintf(line, sizeof(line), "ERROR : no backup in \"%s\" (only files the catalog could not "
		 "use: see pitr-info): refusing to remove anything, because without a backup "
		 "nothing tells which WAL is no longer needed\n", p_bk);
	assert_logged(line);
	ck_assert_int_eq(h_count_entries(p_arch), 3);
	ck_assert_int_eq(h_count_entries(p_bk), 2);
}
END_TEST

START_TEST(test_bad_options)
{
	char spec[4200];

	make_standard();
	opts.keep_days = 0;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"0\" for option \"--keep-days\": expected "
				  "an integer from 1 to 100000\n");

	h_log_reset();
	opts.keep_days = 7;
	opts.sleep_ms = -1;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"-1\" for option \"--sleep\": expected an "
				  "integer from 0 to 3600000\n");

	h_log_reset();
	opts.sleep_ms = 0;
	opts.archive = NULL;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --archive given: pitr-backup-cleanup needs the WAL "
				  "archive\n");

	h_log_reset();
	opts.archive = p_arch;
	opts.backup_dir = NULL;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --backup-dir given: pitr-backup-cleanup needs the "
				  "backup directory\n");

	h_log_reset();
	snprintf(spec, sizeof(spec), "rar=%s", p_bk);
	opts.backup_dir = spec;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : unknown compression \"rar\" in --backup-dir"));

	/* A missing backup dir is the catalog's error, and nothing goes. */
	h_log_reset();
	opts.backup_dir = h_path("nope");
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : "));
	assert_not_logged("Removing");

	/* A codec prefix is accepted on both and restricts nothing. */
	h_log_reset();
	snprintf(spec, sizeof(spec), "gzip=%s", p_bk);
	opts.backup_dir = spec;
	opts.archive = p_arch;
	opts.filename_template = "__HOSTNAME__-__FILETYPE__-^Y-^m-^d.tar__CEXT__";
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert_int_eq(h_count_entries(p_arch), 9);
}
END_TEST

START_TEST(test_data_file_stays_keeps_its_wal)
{
	char line[32768];
	uint64_t bytes;

	make_standard();
	bytes = backup_bytes("b2", "") + size_of(in(p_arch, "000000010000000000000001.gz"));
	/* b1's data file cannot be removed: b1 stays whole (its meta too), b2
	 * still goes, and WAL is kept from b1's start, not b3's. */
	fail_unlink = "bk-data-b1.tar.gz";
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	snprintf(line, sizeof(line), "ERROR : could not remove \"%s/bk-data-b1.tar.gz\": Operation "
		 "not permitted\n", p_bk);
	assert_logged(line);
	for (size_t i = 0; i < 4; i++) {
		ck_assert(h_exists(in(p_bk, b1_files[i])));
		ck_assert(!h_exists(in(p_bk, b2_files[i])));
	}
	ck_assert(!h_exists(in(p_arch, "000000010000000000000001.gz")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000002")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000002.00000028.backup")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000003.partial")));
	ck_assert_int_eq(h_count_entries(p_arch), 13 + 4 + 2 - 1);
	/* The closing line counts what did go: b2 and segment 1. */
	assert_logged(closing(false, 5, bytes));
}
END_TEST

START_TEST(test_half_removed_backup_keeps_meta)
{
	char line[32768];

	make_standard();
	/* b1's xlog cannot go: its data is gone already, so b1 no longer
	 * anchors WAL; its meta stays as the record of what is left. */
	fail_unlink = "bk-xlog-b1.tar.gz";
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert(!h_exists(in(p_bk, "bk-data-b1.tar.gz")));
	ck_assert(h_exists(in(p_bk, "bk-xlog-b1.tar.gz")));
	ck_assert(h_exists(in(p_bk, "bk-SHA-256-b1.tar")));
	ck_assert(h_exists(in(p_bk, "bk-meta-b1.tar.gz")));
	snprintf(line, sizeof(line), "ERROR : could not remove \"%s/bk-xlog-b1.tar.gz\": Operation "
		 "not permitted\nERROR : backup \"bk-*-b1.tar.gz\" is half removed: its meta file "
		 "\"bk-meta-b1.tar.gz\" stays, so the next run and pitr-info see it\n", p_bk);
	assert_logged(line);
	for (size_t i = 0; i < 4; i++)
		ck_assert(!h_exists(in(p_bk, b2_files[i])));
	for (size_t i = 0; i < N(old_wal); i++)
		ck_assert(!h_exists(in(p_arch, old_wal[i])));
	ck_assert_int_eq(h_count_entries(p_arch), 9);

	/* The next run finishes b1: its other files, the meta last. */
	fail_unlink = NULL;
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	for (size_t i = 1; i < 4; i++) {
		ck_assert(!h_exists(in(p_bk, b1_files[i])));
		assert_logged(removing("backup", p_bk, b1_files[i]));
	}
	ck_assert_uint_lt(log_pos(removing("backup", p_bk, b1_files[2])),
			  log_pos(removing("backup", p_bk, b1_files[3])));
	assert_logged("half removed before: finishing");
	assert_not_logged("ERROR");
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert_int_eq(h_count_entries(p_arch), 9);
}
END_TEST

/* A remnant inside the window is left alone (it may be what an operator
 * is looking at); it protects no WAL either way. */
START_TEST(test_recent_remnant_stays)
{
	make_standard();
	ck_assert_int_eq(unlink(in(p_bk, "bk-data-b4.tar.zst")), 0);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(h_exists(in(p_bk, "bk-meta-b4.tar.zst")));
	ck_assert(h_exists(in(p_bk, "bk-xlog-b4.tar.zst")));
	ck_assert(h_exists(in(p_bk, "bk-SHA-256-b4.tar")));
	assert_not_logged("half removed before");
	/* b3 is now the newest backup and still anchors the WAL. */
	ck_assert(h_exists(in(p_arch, "000000010000000000000008")));
	ck_assert(!h_exists(in(p_arch, "000000010000000000000007.gz")));
}
END_TEST

/* Files without their meta file that a dead backup run's journal names
 * (a backup killed while publishing) are orphans: removed with the
 * journal, unless a backup run holds the dir's lock, when they may be the
 * files it is publishing (issue 9). */
START_TEST(test_orphans_removed)
{
	int fd;

	make_standard();
	opts.filename_template = "bk-__FILETYPE__-^a.tar__CEXT__";
	h_write_file(in(p_bk, "bk-data-x9.tar.gz"), "killed", 6);
	h_write_file(in(p_bk, "bk-SHA-256-x9.tar"), "killed", 6);
	h_put_journal(p_bk, "x9", "bk-meta-x9.tar.gz", "bk-data-x9.tar.gz", "bk-xlog-x9.tar.gz",
		      "bk-SHA-256-x9.tar", NULL);
	fd = pitr_orphan_lock(p_bk, false);   /* a backup running */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged(h_fmt("LOG : a backup is running into \"%s\": the files without meta there may "
			    "be its own, left for a later run\n", p_bk));
	ck_assert(h_exists(in(p_bk, "bk-data-x9.tar.gz")));
	close(fd);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged(removing("orphan", p_bk, "bk-data-x9.tar.gz"));
	assert_logged(removing("orphan", p_bk, "bk-SHA-256-x9.tar"));
	ck_assert(!h_exists(in(p_bk, "bk-data-x9.tar.gz")));
	ck_assert(!h_exists(in(p_bk, "bk-SHA-256-x9.tar")));
	ck_assert(!h_exists(in(p_bk, ".pitr-journal.x9")));
	assert_not_logged("ERROR");
}
END_TEST

/* Only files a dead backup run's journal names are orphans: files
 * without meta that no journal names stay, whatever their names:
 * OmniPITR's backups (data, xlog, MD5 digest, never a meta file) of this
 * host and of another, old and new, and any other file with "data" or
 * "xlog" and ".tar" in its name; a --dry-run names none of them either.
 * A journal whose meta file is in place (its run finished) only goes. */
START_TEST(test_orphans_by_journal)
{
	static const char *const foreign[] = {
		"metadata.tar.gz", "customer-data-2026.tar.gz", "pg_xlog_old.tar",
		"db1-data-2026-11-01-keep.tar.gz", "db2-data-2026-11-02.tar",
		"db1-data-2026-10-01.tar.gz", "db1-xlog-2026-10-01.tar.gz", "db1-MD5-2026-10-01.tar.gz",
		"db1-data-2026-11-12.tar.gz", "db1-xlog-2026-11-12.tar.gz", "db1-MD5-2026-11-12.tar.gz",
		"other-data-2026-11-12.tar.gz", "other-xlog-2026-11-12.tar.gz",
		"other-MD5-2026-11-12.tar.gz",
	};

	make_standard();
	for (size_t i = 0; i < N(foreign); i++)
		h_write_file(in(p_bk, foreign[i]), "theirs", 6);
	h_write_file(in(p_bk, "db2-meta-2026-11-02.tar"), "a meta", 6);
	h_write_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "killed", 6);
	h_write_file(in(p_bk, "db1-SHA-256-2026-11-01.tar"), "killed", 6);
	h_put_journal(p_bk, "dead", "db1-meta-2026-11-01.tar.gz", "db1-data-2026-11-01.tar.gz",
		      "db1-xlog-2026-11-01.tar.gz", "db1-SHA-256-2026-11-01.tar", NULL);
	h_put_journal(p_bk, "done", "db2-meta-2026-11-02.tar", "db2-data-2026-11-02.tar", NULL);

	opts.dry_run = true;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	for (size_t i = 0; i < N(foreign); i++)
		ck_assert_msg(strstr(h_log(), h_fmt("file: %s\n", in(p_bk, foreign[i]))) == NULL,
			      "%s named", foreign[i]);
	assert_logged(h_fmt("LOG : (dry-run) Removing orphan file: %s\n",
			    in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(h_exists(in(p_bk, ".pitr-journal.dead")));

	h_log_reset();
	opts.dry_run = false;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	for (size_t i = 0; i < N(foreign); i++)
		ck_assert_msg(h_exists(in(p_bk, foreign[i])), "%s removed", foreign[i]);
	assert_logged(removing("orphan", p_bk, "db1-data-2026-11-01.tar.gz"));
	assert_logged(removing("orphan", p_bk, "db1-SHA-256-2026-11-01.tar"));
	ck_assert(!h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(!h_exists(in(p_bk, "db1-SHA-256-2026-11-01.tar")));
	ck_assert(!h_exists(in(p_bk, ".pitr-journal.dead")));
	ck_assert(!h_exists(in(p_bk, ".pitr-journal.done")));
	ck_assert(h_exists(in(p_bk, "db2-data-2026-11-02.tar")));
	assert_not_logged("ERROR");
}
END_TEST

/* A journal records its files by inode: a file a dead run recorded that
 * another program then replaced at the same name (OmniPITR's same-day
 * backup) is not an orphan, for the sweep (dry run or real) nor for the
 * reports (pitr_orphan_journaled()); a FIFO at a journal's name is passed
 * over, not waited on (review of issue 11). */
START_TEST(test_orphan_is_the_recorded_file)
{
	make_standard();
	h_write_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "killed", 6);
	h_write_file(in(p_bk, "db1-xlog-2026-11-01.tar.gz"), "killed", 6);
	h_put_journal(p_bk, "t", "db1-meta-2026-11-01.tar.gz", "db1-data-2026-11-01.tar.gz",
		      "db1-xlog-2026-11-01.tar.gz", NULL);
	h_replace_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "OmniPITR's");
	ck_assert_int_eq(mkfifo(in(p_bk, ".pitr-journal.fifo"), 0600), 0);
	ck_assert(!pitr_orphan_journaled(p_bk, "db1-data-2026-11-01.tar.gz"));
	ck_assert(pitr_orphan_journaled(p_bk, "db1-xlog-2026-11-01.tar.gz"));
	opts.dry_run = true;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged(": \"db1-data-2026-11-01.tar.gz\", named by no pitrkit run's journal");
	assert_not_logged(h_fmt("Removing orphan file: %s\n", in(p_bk, "db1-data-2026-11-01.tar.gz")));
	assert_logged(h_fmt("LOG : (dry-run) Removing orphan file: %s\n",
			    in(p_bk, "db1-xlog-2026-11-01.tar.gz")));
	h_log_reset();
	opts.dry_run = false;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged(removing("orphan", p_bk, "db1-xlog-2026-11-01.tar.gz"));
	assert_not_logged(h_fmt("Removing orphan file: %s\n", in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(!h_exists(in(p_bk, "db1-xlog-2026-11-01.tar.gz")));
	ck_assert(!h_exists(in(p_bk, ".pitr-journal.t")));
	assert_not_logged("ERROR");
}
END_TEST

/* A live run's journal (its lock held) is left alone with its files,
 * even where no dir lock tells of the run. */
START_TEST(test_live_journal_stays)
{
	struct pitr_orphan_journal *j;
	struct stat st;

	make_standard();
	j = pitr_orphan_journal_begin(p_bk, "db1-meta-2026-11-01.tar.gz");
	ck_assert_ptr_nonnull(j);
	h_write_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "publishing", 10);
	ck_assert_int_eq(lstat(in(p_bk, "db1-data-2026-11-01.tar.gz"), &st), 0);
	ck_assert_int_eq(pitr_orphan_journal_add(j, "db1-data-2026-11-01.tar.gz", st.st_dev,
						 st.st_ino), 0);
	ck_assert_int_eq(pitr_orphan_journal_sync(j), 0);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	assert_not_logged("orphan file");
	/* Ended without its meta: the journal stays for the next sweep. */
	pitr_orphan_journal_end(j);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_logged(removing("orphan", p_bk, "db1-data-2026-11-01.tar.gz"));
	ck_assert(!h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
}
END_TEST

/* A backup that had published its data file but not yet its meta when
 * the catalog was loaded, and finished before pitr-backup-cleanup took
 * the dir's lock, keeps its data file: orphans are looked for under the
 * lock (issue 9). */
START_TEST(test_orphan_finished_meanwhile)
{
	char meta[8192];

	make_standard();
	h_write_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "publishing", 10);
	h_put_journal(p_bk, "t", "db1-meta-2026-11-01.tar.gz", "db1-data-2026-11-01.tar.gz", NULL);
	snprintf(meta, sizeof(meta), "%s/db1-meta-2026-11-01.tar.gz", p_bk);
	meta_on_lock = meta;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_ptr_null(meta_on_lock);
	ck_assert(h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	assert_not_logged("orphan file");
}
END_TEST

/* A remote backup (--dst-direct, --dst-remote) publishes its data file
 * before its meta with no lock pitr-backup-cleanup can see: an orphan whose
 * ctime is younger than PITR_DEST_UNLOCKED_MIN_AGE stays, said; so does an
 * unlocked temporary file younger than that (mtime) (issue 9). */
START_TEST(test_young_orphan_stays)
{
	make_standard();
	opts.min_age = 0;  /* the real default */
	h_write_file(in(p_bk, "db1-data-2026-11-01.tar.gz"), "publishing", 10);
	h_put_journal(p_bk, "t", "db1-meta-2026-11-01.tar.gz", "db1-data-2026-11-01.tar.gz", NULL);
	/* Unlocked, as a --dst-direct writer's between upload and publish. */
	h_write_file(in(p_bk, ".pitr-tmp.db1-data.tar.gz.AAAAAA"), "uploaded", 8);
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert(h_exists(in(p_bk, "db1-data-2026-11-01.tar.gz")));
	ck_assert(h_exists(in(p_bk, ".pitr-tmp.db1-data.tar.gz.AAAAAA")));
	assert_logged(h_fmt("LOG : leftover file left for now: younger than %d minutes (a backup may "
			    "still be publishing it from another host): %s\n",
			    PITR_DEST_UNLOCKED_MIN_AGE / 60, in(p_bk, ".pitr-tmp.db1-data.tar.gz.AAAAAA")));
	assert_not_logged("Removing leftover");
	assert_logged(h_fmt("LOG : orphan file left for now: younger than %d minutes (a backup may "
			    "still be publishing it from another host): %s\n",
			    PITR_DEST_UNLOCKED_MIN_AGE / 60, in(p_bk, "db1-data-2026-11-01.tar.gz")));
	assert_not_logged("Removing orphan");
}
END_TEST

/* An object store's orphan (no journal, no lock reaches it): its mark
 * and Last-Modified decide.  Without the mark another program stored it:
 * foreign at any age; with it, a killed run's once PITR_DEST_UNLOCKED_MIN_AGE
 * old (the gateway cannot back-date an object: s3-retention.sh shows the
 * young and the foreign staying, this the old one going). */
START_TEST(test_object_orphan_fate)
{
	const time_t now = 1800000000, hour = PITR_DEST_UNLOCKED_MIN_AGE;

	ck_assert_int_eq(pitr_orphan_object_fate(true, now - hour, now, hour), PITR_ORPHAN_REMOVE);
	ck_assert_int_eq(pitr_orphan_object_fate(true, now - 86400 * 30, now, hour),
			 PITR_ORPHAN_REMOVE);
	ck_assert_int_eq(pitr_orphan_object_fate(true, now - hour + 1, now, hour), PITR_ORPHAN_YOUNG);
	ck_assert_int_eq(pitr_orphan_object_fate(true, now, now, hour), PITR_ORPHAN_YOUNG);
	ck_assert_int_eq(pitr_orphan_object_fate(false, now - 86400 * 365, now, hour),
			 PITR_ORPHAN_FOREIGN);
	ck_assert_int_eq(pitr_orphan_object_fate(false, now, now, hour), PITR_ORPHAN_FOREIGN);
	/* No minimum age (tests): a marked one goes at once, a foreign one never. */
	ck_assert_int_eq(pitr_orphan_object_fate(true, now, now, -1), PITR_ORPHAN_REMOVE);
	ck_assert_int_eq(pitr_orphan_object_fate(false, now, now, -1), PITR_ORPHAN_FOREIGN);
}
END_TEST

START_TEST(test_wal_failure_stops)
{
	char line[32768];

	make_standard();
	fail_unlink = "000000010000000000000004.gz";
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	/* Older files went, the failed one and everything newer stayed. */
	for (size_t i = 0; i < 5; i++)
		ck_assert(!h_exists(in(p_arch, old_wal[i])));
	for (size_t i = 5; i < N(old_wal); i++)
		ck_assert(h_exists(in(p_arch, old_wal[i])));
	snprintf(line, sizeof(line), "ERROR : could not remove \"%s/000000010000000000000004.gz\": "
		 "Operation not permitted\nERROR : stopped removing WAL at "
		 "\"000000010000000000000004.gz\": newer files stay, so the archive keeps no hole\n",
		 p_arch);
	assert_logged(line);
	/* The backups went before the WAL was touched. */
	ck_assert_int_eq(h_count_entries(p_bk), 8);
}
END_TEST

START_TEST(test_pid_file)
{
	struct pitr_pidfile *held;
	char pidpath[4096];

	make_standard();
	snprintf(pidpath, sizeof(pidpath), "%s", h_path("cleanup.pid"));
	held = pitr_pidfile_acquire(pidpath);
	ck_assert_ptr_nonnull(held);
	opts.pid_file = pidpath;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : "));
	ck_assert_int_eq(h_count_entries(p_bk), 16);
	pitr_pidfile_release(held);

	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	ck_assert_int_eq(h_count_entries(p_bk), 8);
	ck_assert(!h_exists(pidpath));
}
END_TEST

/* --- chains of incremental backups (issue 13) --------------------------- */

/* An incremental (base "" and chain "": a full backup) made as
 * make_backup() does, with a sig file "bk-sig-STAMP.tar.gz" (gzip). */
static void
make_chain_backup(const char *stamp, time_t start, uint64_t segno, const char *base,
		  const char *chain)
{
	char extra[512], name[256];

	snprintf(extra, sizeof(extra), "base=%s\nchain=%s\n", base, chain);
	meta_extra = extra;
	make_backup(stamp, PITR_CODEC_GZIP, start, 1, segno, 100);
	meta_extra = "";
	snprintf(name, sizeof(name), "bk-sig-%s.tar.gz", stamp);
	write_coded(in(p_bk, name), PITR_CODEC_GZIP, "signatures", 10);
}

/* Backup STAMP's five files (gzip), in the order a removal takes them. */
static const char *
chain_file(const char *stamp, int k)
{
	static char ring[8][256];
	static unsigned next;
	char *buf = ring[next++ % 8];
	static const char *const fmt[] = { "bk-data-%s.tar.gz", "bk-xlog-%s.tar.gz",
					   "bk-sig-%s.tar.gz", "bk-SHA-256-%s.tar",
					   "bk-meta-%s.tar.gz" };

	snprintf(buf, sizeof(ring[0]), fmt[k], stamp);
	return buf;
}

static void
assert_backup_present(const char *stamp, bool present)
{
	for (int k = 0; k < 5; k++)
		ck_assert_msg(h_exists(in(p_bk, chain_file(stamp, k))) == present, "%s: %s",
			      chain_file(stamp, k), present ? "gone" : "still there");
}

/* Segments 1 to 16 of timeline 1. */
static void
make_wal(void)
{
	for (uint64_t s = 1; s <= 16; s++)
		make_segment(1, s, PITR_CODEC_NONE);
}

/* An incremental in the window keeps its whole chain, however old: F and
 * I1 stay for I2; WAL from F's start stays (every backup left in the dir
 * is recoverable by itself: pitr-verify finds no hole). */
START_TEST(test_chain_kept_whole)
{
	make_chain_backup("F", NOW - 10 * DAY, 2, "", "");
	make_chain_backup("I1", NOW - 9 * DAY, 5, "F", "F");
	make_chain_backup("I2", NOW - 3 * DAY, 8, "I1", "F|I1");
	make_chain_backup("F2", NOW - 1 * DAY, 11, "", "");
	make_wal();
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_backup_present("F", true);
	assert_backup_present("I1", true);
	assert_backup_present("I2", true);
	assert_backup_present("F2", true);
	ck_assert(!h_exists(in(p_arch, "000000010000000000000001")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000002")));
	assert_logged("LOG : No backups to remove.\n");
	assert_logged("LOG : keeping backup \"bk-*-F.tar.gz\" although no rule keeps it: the kept "
		      "incremental backup \"bk-*-I2.tar.gz\" needs it (its chain)\n");
	assert_logged("LOG : keeping backup \"bk-*-I1.tar.gz\" although no rule keeps it: the kept "
		      "incremental backup \"bk-*-I2.tar.gz\" needs it (its chain)\n");
	assert_logged("(the oldest backup kept starts at 000000010000000000000002)");
	assert_not_logged("ERROR");
}
END_TEST

/* A chain whose newest member left the window goes whole, newest member
 * first, each with its sig file (data first, meta last); the dry run
 * lists exactly that; WAL goes up to the oldest backup kept. */
START_TEST(test_chain_goes_whole)
{
	char *dry, *real;

	make_chain_backup("F", NOW - 10 * DAY, 2, "", "");
	make_chain_backup("I1", NOW - 9 * DAY, 5, "F", "F");
	make_chain_backup("I2", NOW - 8 * DAY, 8, "I1", "F|I1");
	make_chain_backup("F2", NOW - 3 * DAY, 11, "", "");
	make_chain_backup("I3", NOW - 1 * DAY, 13, "F2", "F2");
	make_wal();
	opts.dry_run = true;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_backup_present("F", true);
	assert_backup_present("I2", true);
	ck_assert_int_eq(h_count_entries(p_arch), 16);
	dry = removal_lines();
	h_log_reset();
	opts.dry_run = false;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	real = removal_lines();
	ck_assert_str_eq(real, dry);
	assert_backup_present("F", false);
	assert_backup_present("I1", false);
	assert_backup_present("I2", false);
	assert_backup_present("F2", true);
	assert_backup_present("I3", true);
	assert_logged("LOG : 3 backups to remove.\n");
	/* Newest member first; within each, data first and meta last. */
	for (int k = 0; k < 5; k++) {
		if (k > 0)
			ck_assert_uint_lt(log_pos(removing("backup", p_bk, chain_file("I2", k - 1))),
					  log_pos(removing("backup", p_bk, chain_file("I2", k))));
		ck_assert_uint_lt(log_pos(removing("backup", p_bk, chain_file("I2", 4))),
				  log_pos(removing("backup", p_bk, chain_file("I1", k))));
		ck_assert_uint_lt(log_pos(removing("backup", p_bk, chain_file("I1", 4))),
				  log_pos(removing("backup", p_bk, chain_file("F", k))));
	}
	/* WAL before F2's start (segment 11) went. */
	ck_assert(!h_exists(in(p_arch, "00000001000000000000000A")));
	ck_assert(h_exists(in(p_arch, "00000001000000000000000B")));
	ck_assert_int_eq(h_count_entries(p_bk), 10);
	assert_not_logged("keeping backup");
	free(dry);
	free(real);
}
END_TEST

/* An incremental whose data file cannot be removed stays whole, and so
 * does every backup of its chain: nothing it needs is removed, nor the
 * WAL from its full backup's start on. */
START_TEST(test_chain_member_that_stays_keeps_its_chain)
{
	char *lines;

	make_chain_backup("F", NOW - 10 * DAY, 2, "", "");
	make_chain_backup("I1", NOW - 9 * DAY, 5, "F", "F");
	make_chain_backup("I2", NOW - 8 * DAY, 8, "I1", "F|I1");
	make_chain_backup("F2", NOW - 3 * DAY, 11, "", "");
	make_wal();
	fail_unlink = "bk-data-I2.tar.gz";
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), -1);
	assert_backup_present("F", true);
	assert_backup_present("I1", true);
	assert_backup_present("I2", true);
	lines = removal_lines();
	ck_assert_str_eq(lines, h_fmt("Removing backup file: %s/bk-data-I2.tar.gz\n"
				      "Removing xlog file: %s/000000010000000000000001\n", p_bk, p_arch));
	free(lines);
	ck_assert(!h_exists(in(p_arch, "000000010000000000000001")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000002")));
	assert_logged("the kept incremental backup \"bk-*-I2.tar.gz\" needs it (its chain)\n");
}
END_TEST

/* --keep-count counts incrementals as backups and keeps their chains;
 * a full backup no kept incremental needs goes. */
START_TEST(test_chain_keep_count)
{
	make_chain_backup("F", NOW - 10 * DAY, 2, "", "");
	make_chain_backup("I1", NOW - 9 * DAY, 5, "F", "F");
	make_chain_backup("F2", NOW - 3 * DAY, 8, "", "");
	make_chain_backup("I2", NOW - 2 * DAY, 11, "F2", "F2");
	make_chain_backup("I3", NOW - 1 * DAY, 13, "I2", "F2|I2");
	make_wal();
	opts.keep_days = 0;
	opts.keep_count = 1;
	ck_assert_int_eq(pitr_cmd_backup_cleanup(&opts), 0);
	assert_backup_present("F", false);
	assert_backup_present("I1", false);
	assert_backup_present("F2", true);
	assert_backup_present("I2", true);
	assert_backup_present("I3", true);
	ck_assert(!h_exists(in(p_arch, "000000010000000000000007")));
	ck_assert(h_exists(in(p_arch, "000000010000000000000008")));
	assert_logged("LOG : 2 backups to remove.\n");
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("cmd_bcleanup");
	TCase *tc = tcase_create("cmd_bcleanup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_default_window);
	tcase_add_test(tc, test_keep_days);
	tcase_add_test(tc, test_keep_count);
	tcase_add_test(tc, test_keep_count_and_days);
	tcase_add_test(tc, test_copies_of_one_run);
	tcase_add_test(tc, test_keep_count_dry_run);
	tcase_add_test(tc, test_keep_count_refused);
	tcase_add_test(tc, test_window_edge);
	tcase_add_test(tc, test_newest_never_removed);
	tcase_add_test(tc, test_timelines);
	tcase_add_test(tc, test_dry_run_lists_what_real_run_removes);
	tcase_add_test(tc, test_truncate_in_steps);
	tcase_add_test(tc, test_truncate_exact_multiple_and_leftovers);
	tcase_add_test(tc, test_no_backup_refused);
	tcase_add_test(tc, test_bad_options);
	tcase_add_test(tc, test_data_file_stays_keeps_its_wal);
	tcase_add_test(tc, test_half_removed_backup_keeps_meta);
	tcase_add_test(tc, test_recent_remnant_stays);
	tcase_add_test(tc, test_wal_failure_stops);
	tcase_add_test(tc, test_orphans_removed);
	tcase_add_test(tc, test_orphans_by_journal);
	tcase_add_test(tc, test_orphan_is_the_recorded_file);
	tcase_add_test(tc, test_live_journal_stays);
	tcase_add_test(tc, test_orphan_finished_meanwhile);
	tcase_add_test(tc, test_young_orphan_stays);
	tcase_add_test(tc, test_pid_file);
	tcase_add_test(tc, test_chain_kept_whole);
	tcase_add_test(tc, test_chain_goes_whole);
	tcase_add_test(tc, test_chain_member_that_stays_keeps_its_chain);
	tcase_add_test(tc, test_chain_keep_count);
	tcase_add_test(tc, test_object_orphan_fate);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(suite());
}
