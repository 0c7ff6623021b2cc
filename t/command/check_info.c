/*
 * check_info.c - unit tests for pitr-info: the exact text and JSON
 * reports of a synthesized backup dir and archive (two timelines, a gap,
 * a backup that cannot reach the latest timeline, a problem), JSON that
 * python3's json module reads back, string escaping, the window's choice
 * of backup, and the failures.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "repo/catalog.h"
#include "command/info/info.h"
#include "compress/codec.h"
#include "harness.h"
#include "common/log.h"
#include "common/spawn.h"
#include "postgres/wal.h"

#define SEG (1u << 20)
#define SYSID 7300000000000000001ULL

static char bk[4096], arch[4096];

static void
setup(void)
{
	h_setup();
	snprintf(bk, sizeof(bk), "%s", h_path("bk"));
	snprintf(arch, sizeof(arch), "%s", h_path("arch"));
	ck_assert_int_eq(mkdir(bk, 0700), 0);
	ck_assert_int_eq(mkdir(arch, 0700), 0);
	/* Times of WAL are printed in the reader's zone. */
	setenv("TZ", "UTC", 1);
	tzset();
}

static void
teardown(void)
{
	h_teardown();
}

/* dir/name holding `len` bytes compressed with `codec`. */
static void
put(const char *dir, const char *name, enum pitr_codec codec, const void *buf, size_t len)
{
	h_write_compressed(h_fmt("%s/%s", dir, name), codec, buf, len);
}

static void
set_mtime(const char *path, time_t t)
{
	struct utimbuf u = { t, t };

	ck_assert_int_eq(utime(path, &u), 0);
}

/* Bytes on disk of dir/name. */
static unsigned long long
fsize(const char *dir, const char *name)
{
	struct stat st;

	ck_assert_int_eq(stat(h_fmt("%s/%s", dir, name), &st), 0);
	return (unsigned long long)st.st_size;
}

/* The sum of the sizes of the archive's files whose names begin with
 * `prefix` ("" for all), the file named like WAL that is not excepted. */
static unsigned long long
arch_size(const char *prefix)
{
	static const char *const names[] = {
		"000000010000000000000001.gz", "000000010000000000000002", "000000010000000000000003.gz",
		"000000010000000000000004", "000000010000000000000006", "00000002.history",
		"000000020000000000000004.zst", "000000020000000000000005.zst",
		"000000020000000000000006.zst", "000000020000000000000007.zst",
	};
	unsigned long long sum = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(names[i], prefix, strlen(prefix)) == 0)
			sum += fsize(arch, names[i]);
	return sum;
}

/* pitr-info's size text: bytes below 1 KiB, else one decimal. */
static const char *
size_text(unsigned long long n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024)
		return h_fmt("%llu B", n);
	while (v >= 1024 && u < 2) {
		v /= 1024;
		u++;
	}
	return h_fmt("%.1f %s", v, units[u]);
}

/* Backup 1's files' sizes together, and backup 2's. */
static unsigned long long
b1_size(void)
{
	return fsize(bk, "db-meta-20240301.tar.gz") + fsize(bk, "db-data-20240301.tar.gz") +
	       fsize(bk, "db-xlog-20240301.tar.gz") + fsize(bk, "db-SHA-256-20240301.tar");
}

static unsigned long long
b2_size(void)
{
	return fsize(bk, "db-meta-20240302.tar") + fsize(bk, "db-data-20240302.tar");
}

/* Segment (tli, segno) archived with `codec`, mtime base + 600 * segno. */
static void
put_segment(uint32_t tli, uint64_t segno, enum pitr_codec codec, time_t base)
{
	unsigned char *buf = h_make_segment(SEG, tli, segno, SYSID, (unsigned)segno);
	char name[80];

	pitr_wal_format_segment(name, tli, segno, SEG);
	strcat(name, pitr_codec_ext(codec));
	put(arch, name, codec, buf, SEG);
	free(buf);
	set_mtime(h_fmt("%s/%s", arch, name), base + 600 * (time_t)segno);
}

#define TL1_BASE 1709290000   /* 2024-03-01 10:46:40 UTC */
#define TL2_BASE 1709300000   /* 2024-03-01 13:33:20 UTC */

/*
 * Two backups: db-*-20240301.tar.gz (gzip, new meta form, a SHA-256
 * digest file, timeline 1, segments 2-3) and db-*-20240302.tar (plain,
 * old form, --skip-xlogs, segment 5 on timeline 1 after timeline 2 left
 * it).  The archive: timeline 1 segments 1-4 and 6, timeline 2 (from 1 at
 * 0/480000) segments 4-7, and a file named like WAL that is not.
 */
static void
make_world(void)
{
	const char *m1 = "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
			 "start_lsn=0/200028\nstop_lsn=0/300100\n"
			 "start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:05:00 +0100\n"
			 "start_epoch=1709290800\nstop_epoch=1709291100\nhost=db1\n"
			 "label=nightly \"full\"\tbackup \\ 1\nsystem_identifier=7300000000000000001\n"
			 "timeline=1\nwal_segment_size=1048576\ndata_dir=/var/lib/postgresql/15/main\n"
			 "data_size=52428800\nxlog_size=2098176\ncodec=gzip\ndigests=SHA-256\n"
			 "pg_version=15\nsource=standby\n";
	const char *m2 = "start_wal=000000010000000000000005\nstop_wal=000000010000000000000005\n"
			 "start_lsn=0/500028\nstop_lsn=0/500100\n"
			 "start_time=2024-03-02 12:00:00 +0100\nstop_time=2024-03-02 12:01:00 +0100\n"
			 "host=db1\nlabel=second\nsystem_identifier=7300000000000000001\ntimeline=1\n"
			 "data_dir=/var/lib/postgresql/15/main\ndata_size=1000\nxlog_size=0\n"
			 "codec=none\ndigests=\n";

	put(bk, "db-meta-20240301.tar.gz", PITR_CODEC_GZIP, m1, strlen(m1));
	put(bk, "db-data-20240301.tar.gz", PITR_CODEC_GZIP, "d", 1);
	put(bk, "db-xlog-20240301.tar.gz", PITR_CODEC_GZIP, "x", 1);
	put(bk, "db-SHA-256-20240301.tar", PITR_CODEC_NONE, "0  db-data-20240301.tar.gz\n", 27);
	put(bk, "db-meta-20240302.tar", PITR_CODEC_NONE, m2, strlen(m2));
	put(bk, "db-data-20240302.tar", PITR_CODEC_NONE, "d", 1);
	for (unsigned s = 1; s <= 4; s++)
		put_segment(1, s, s % 2 ? PITR_CODEC_GZIP : PITR_CODEC_NONE, TL1_BASE);
	put_segment(1, 6, PITR_CODEC_NONE, TL1_BASE);
	put(arch, "00000002.history", PITR_CODEC_NONE, "1\t0/480000\tno recovery target specified\n", 40);
	for (unsigned s = 4; s <= 7; s++)
		put_segment(2, s, PITR_CODEC_ZSTD, TL2_BASE);
	put(arch, "000000010000000000000004.partial.tmp", PITR_CODEC_NONE, "x", 1);
}

/* Run the command with the report going to a file; returns its text. */
static char *
run_info(const char *b, const char *a, bool json, int want_rc)
{
	struct pitr_info_opts o = { &b, b != NULL, &a, a != NULL, json, NULL, NULL };
	const char *path = h_path("report");
	char *text;
	size_t len;

	o.out = fopen(path, "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_info(&o), want_rc);
	ck_assert_int_eq(fclose(o.out), 0);
	text = h_read_file(path, &len);
	ck_assert_uint_eq(strlen(text), len);
	return text;
}

START_TEST(test_text)
{
	char *text, z[5][32];
	unsigned long long b1, b2;

	make_world();
	/* Stored sizes: what the files of each take on disk. */
	b1 = b1_size();
	b2 = b2_size();
	snprintf(z[0], sizeof(z[0]), "%s", size_text(b1));
	snprintf(z[1], sizeof(z[1]), "%s", size_text(b2));
	snprintf(z[2], sizeof(z[2]), "%s", size_text(arch_size("")));
	snprintf(z[3], sizeof(z[3]), "%s", size_text(arch_size("00000001")));
	snprintf(z[4], sizeof(z[4]), "%s", size_text(arch_size("00000002")));
	text = run_info(bk, h_fmt("gzip=%s", arch), false, 0);
	ck_assert_str_eq(text, h_fmt(
		"Backups in %s: 2\n"
		"  db-*-20240301.tar.gz\n"
		"    label:        nightly \"full\"\\tbackup \\\\ 1\n"
		"    host:         db1\n"
		"    system id:    7300000000000000001\n"
		"    data dir:     /var/lib/postgresql/15/main\n"
		"    timeline:     1\n"
		"    start:        2024-03-01 12:00:00 +0100, WAL 000000010000000000000002, LSN 0/200028\n"
		"    stop:         2024-03-01 12:05:00 +0100, WAL 000000010000000000000003, LSN 0/300100\n"
		"    size:         50.0 MiB data, 2.0 MiB xlog (before compression), gzip\n"
		"    stored:       %s (%llu bytes on disk)\n"
		"    version:      PostgreSQL 15\n"
		"    source:       standby (pitr-backup-slave)\n"
		"    type:         full\n"
		"    files:        db-meta-20240301.tar.gz db-data-20240301.tar.gz db-xlog-20240301.tar.gz\n"
		"    digests:      SHA-256 (db-SHA-256-20240301.tar)\n"
		"    recoverable:  to LSN 0/800000, 2024-03-01 14:43:20 +0000 (timeline 2)\n"
		"  db-*-20240302.tar\n"
		"    label:        second\n"
		"    host:         db1\n"
		"    system id:    7300000000000000001\n"
		"    data dir:     /var/lib/postgresql/15/main\n"
		"    timeline:     1\n"
		"    start:        2024-03-02 12:00:00 +0100, WAL 000000010000000000000005, LSN 0/500028\n"
		"    stop:         2024-03-02 12:01:00 +0100, WAL 000000010000000000000005, LSN 0/500100\n"
		"    size:         1000 B data, 0 B xlog (before compression), none\n"
		"    stored:       %s (%llu bytes on disk)\n"
		"    version:      unknown (not in the meta file)\n"
		"    source:       unknown (not in the meta file)\n"
		"    type:         full\n"
		"    files:        db-meta-20240302.tar db-data-20240302.tar (no xlog file)\n"
		"    digests:      none\n"
		"    recoverable:  no (timeline 2)\n"
		"Backups in progress: 0\n"
		"Orphaned files: 0\n"
		"Archive %s: 10 files, 9 segments of 1048576 bytes, %s stored\n"
		"  timeline 1: 000000010000000000000001 to 000000010000000000000006, 5 segments, 1 gap, "
		"%s stored\n"
		"    missing 000000010000000000000005\n"
		"  timeline 2 (from timeline 1 at 0/480000): 000000020000000000000004 to "
		"000000020000000000000007, 4 segments, 0 gaps, %s stored\n"
		"Recoverable window on timeline 2: from 2024-03-01 11:05:00 +0000 (LSN 0/300100, end of "
		"backup db-*-20240301.tar.gz) to 2024-03-01 14:43:20 +0000 (LSN 0/800000)\n"
		"Problems: 1\n"
		"  archive file \"%s/000000010000000000000004.partial.tmp\" is named like a WAL file but "
		"is not one\n", bk, z[0], b1, z[1], b2, arch, z[2], z[3], z[4], arch));
	free(text);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* A backup killed while publishing left its data and xlog files without
 * meta, its journal naming them: no backup, one problem line naming them
 * (issue 9). */
START_TEST(test_orphans)
{
	char *text, z[2][32];

	make_world();
	put(bk, "db-data-20240303.tar.gz", PITR_CODEC_GZIP, "d", 1);
	put(bk, "db-xlog-20240303.tar.gz", PITR_CODEC_GZIP, "x", 1);
	h_put_journal(bk, "t", "db-meta-20240303.tar.gz", "db-data-20240303.tar.gz",
		      "db-xlog-20240303.tar.gz", NULL);
	text = run_info(bk, h_fmt("gzip=%s", arch), false, 0);
	ck_assert_ptr_nonnull(strstr(text, "Backups in "));
	ck_assert_ptr_nonnull(strstr(text, ": 2\n"));
	ck_assert_ptr_nonnull(strstr(text, h_fmt("Problems: 2\n  orphan backup files without meta in "
						 "\"%s\": \"db-data-20240303.tar.gz\", "
						 "\"db-xlog-20240303.tar.gz\", left by an interrupted "
						 "backup\n", bk)));
	/* Listed on their own too, with their sizes. */
	snprintf(z[0], sizeof(z[0]), "%s", size_text(fsize(bk, "db-data-20240303.tar.gz")));
	snprintf(z[1], sizeof(z[1]), "%s", size_text(fsize(bk, "db-xlog-20240303.tar.gz")));
	ck_assert_ptr_nonnull(strstr(text, h_fmt("Orphaned files: 2\n  %s/db-data-20240303.tar.gz (%s)\n"
						 "  %s/db-xlog-20240303.tar.gz (%s)\n", bk, z[0], bk, z[1])));
	free(text);
}
END_TEST

/* A backup being written: its temporary files held locked (as a live
 * run's are) are a backup in progress, named and summed; a dead run's
 * unlocked one is no backup in progress but a problem (issue 11). */
START_TEST(test_in_progress)
{
	const char *data = ".pitr-tmp.db-data-20240304.tar.gz.000000";
	const char *xlog = ".pitr-tmp.db-xlog-20240304.tar.gz.Ab3dEf";
	const char *dead = ".pitr-tmp.db-data-20240201.tar.gz.000000";
	char *text, out[4096];
	int fd1, fd2;
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "p=d['in_progress'][0]\n"
			 "print(len(d['in_progress']), p['name'], p['backup_dir']==sys.argv[2], p['files'],"
			 " p['bytes'], d['orphans'])",
			 (char *)h_path("report"), bk, NULL };

	make_world();
	put(bk, data, PITR_CODEC_NONE, "0123456789", 10);
	put(bk, xlog, PITR_CODEC_NONE, "01234", 5);
	put(bk, dead, PITR_CODEC_NONE, "x", 1);
	fd1 = open(h_fmt("%s/%s", bk, data), O_RDONLY);
	fd2 = open(h_fmt("%s/%s", bk, xlog), O_RDONLY);
	ck_assert_int_ge(fd1, 0);
	ck_assert_int_ge(fd2, 0);
	ck_assert_int_eq(flock(fd1, LOCK_EX), 0);
	ck_assert_int_eq(flock(fd2, LOCK_EX), 0);
	text = run_info(bk, arch, false, 0);
	ck_assert_ptr_nonnull(strstr(text, h_fmt("\nBackups in progress: 1\n"
						 "  db-*-20240304.tar in %s: 2 files at temporary names, "
						 "15 B written so far\n    %s\n    %s\nOrphaned files: 0\n",
						 bk, data, xlog)));
	ck_assert_ptr_nonnull(strstr(text, h_fmt("  temporary file \"%s/%s\": ", bk, dead)));
	free(text);
	free(run_info(bk, arch, true, 0));
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, h_fmt("1 db-*-20240304.tar True ['%s', '%s'] 15 []\n", data, xlog));
	close(fd1);
	close(fd2);
	/* The run ended (its locks dropped): no backup in progress. */
	text = run_info(bk, arch, false, 0);
	ck_assert_ptr_nonnull(strstr(text, "\nBackups in progress: 0\n"));
	free(text);
}
END_TEST

static const char *
expected_json(void)
{
	unsigned long long b1 = b1_size(), b2 = b2_size(), t1 = arch_size("00000001"),
			   t2 = arch_size("00000002"), all = arch_size("");

	return h_fmt(
		"{\n"
		"  \"backup_dir\": \"%s\",\n"
		"  \"archive_dir\": \"%s\",\n"
		"  \"segment_size\": 1048576,\n"
		"  \"backups\": [\n"
		"    {\n"
		"      \"name\": \"db-*-20240301.tar.gz\",\n"
		"      \"label\": \"nightly \\\"full\\\"\\tbackup \\\\ 1\",\n"
		"      \"host\": \"db1\",\n"
		"      \"system_identifier\": \"7300000000000000001\",\n"
		"      \"data_dir\": \"/var/lib/postgresql/15/main\",\n"
		"      \"timeline\": 1,\n"
		"      \"start_time\": \"2024-03-01 12:00:00 +0100\",\n"
		"      \"stop_time\": \"2024-03-01 12:05:00 +0100\",\n"
		"      \"start_epoch\": 1709290800,\n"
		"      \"stop_epoch\": 1709291100,\n"
		"      \"start_wal\": \"000000010000000000000002\",\n"
		"      \"stop_wal\": \"000000010000000000000003\",\n"
		"      \"start_lsn\": \"0/200028\",\n"
		"      \"stop_lsn\": \"0/300100\",\n"
		"      \"data_size\": 52428800,\n"
		"      \"xlog_size\": 2098176,\n"
		"      \"codec\": \"gzip\",\n"
		"      \"meta_file\": \"db-meta-20240301.tar.gz\",\n"
		"      \"data_file\": \"db-data-20240301.tar.gz\",\n"
		"      \"xlog_file\": \"db-xlog-20240301.tar.gz\",\n"
		"      \"digests\": [\n"
		"        {\n"
		"          \"algorithm\": \"SHA-256\",\n"
		"          \"file\": \"db-SHA-256-20240301.tar\"\n"
		"        }\n"
		"      ],\n"
		"      \"recoverable\": {\n"
		"        \"timeline\": 2,\n"
		"        \"end_lsn\": \"0/800000\",\n"
		"        \"end_time\": \"2024-03-01 14:43:20 +0000\",\n"
		"        \"end_epoch\": 1709304200\n"
		"      },\n"
		"      \"stored_size\": %llu,\n"
		"      \"pg_version\": \"15\",\n"
		"      \"source\": \"standby\",\n"
		"      \"sig_file\": null,\n"
		"      \"incremental\": false,\n"
		"      \"base\": null,\n"
		"      \"chain\": [],\n"
		"      \"chain_stored_size\": %llu,\n"
		"      \"chain_missing\": []\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"db-*-20240302.tar\",\n"
		"      \"label\": \"second\",\n"
		"      \"host\": \"db1\",\n"
		"      \"system_identifier\": \"7300000000000000001\",\n"
		"      \"data_dir\": \"/var/lib/postgresql/15/main\",\n"
		"      \"timeline\": 1,\n"
		"      \"start_time\": \"2024-03-02 12:00:00 +0100\",\n"
		"      \"stop_time\": \"2024-03-02 12:01:00 +0100\",\n"
		"      \"start_epoch\": 1709377200,\n"
		"      \"stop_epoch\": 1709377260,\n"
		"      \"start_wal\": \"000000010000000000000005\",\n"
		"      \"stop_wal\": \"000000010000000000000005\",\n"
		"      \"start_lsn\": \"0/500028\",\n"
		"      \"stop_lsn\": \"0/500100\",\n"
		"      \"data_size\": 1000,\n"
		"      \"xlog_size\": 0,\n"
		"      \"codec\": \"none\",\n"
		"      \"meta_file\": \"db-meta-20240302.tar\",\n"
		"      \"data_file\": \"db-data-20240302.tar\",\n"
		"      \"xlog_file\": null,\n"
		"      \"digests\": [],\n"
		"      \"recoverable\": {\n"
		"        \"timeline\": 2,\n"
		"        \"end_lsn\": null,\n"
		"        \"end_time\": null,\n"
		"        \"end_epoch\": null\n"
		"      },\n"
		"      \"stored_size\": %llu,\n"
		"      \"pg_version\": null,\n"
		"      \"source\": null,\n"
		"      \"sig_file\": null,\n"
		"      \"incremental\": false,\n"
		"      \"base\": null,\n"
		"      \"chain\": [],\n"
		"      \"chain_stored_size\": %llu,\n"
		"      \"chain_missing\": []\n"
		"    }\n"
		"  ],\n"
		"  \"timelines\": [\n"
		"    {\n"
		"      \"timeline\": 1,\n"
		"      \"history\": false,\n"
		"      \"parent\": null,\n"
		"      \"switch_lsn\": null,\n"
		"      \"first\": \"000000010000000000000001\",\n"
		"      \"last\": \"000000010000000000000006\",\n"
		"      \"segments\": 5,\n"
		"      \"gaps\": [\n"
		"        {\n"
		"          \"first\": \"000000010000000000000005\",\n"
		"          \"last\": \"000000010000000000000005\",\n"
		"          \"segments\": 1\n"
		"        }\n"
		"      ],\n"
		"      \"stored_size\": %llu\n"
		"    },\n"
		"    {\n"
		"      \"timeline\": 2,\n"
		"      \"history\": true,\n"
		"      \"parent\": 1,\n"
		"      \"switch_lsn\": \"0/480000\",\n"
		"      \"first\": \"000000020000000000000004\",\n"
		"      \"last\": \"000000020000000000000007\",\n"
		"      \"segments\": 4,\n"
		"      \"gaps\": [],\n"
		"      \"stored_size\": %llu\n"
		"    }\n"
		"  ],\n"
		"  \"window\": {\n"
		"    \"backup\": \"db-*-20240301.tar.gz\",\n"
		"    \"timeline\": 2,\n"
		"    \"start_lsn\": \"0/300100\",\n"
		"    \"start_time\": \"2024-03-01 11:05:00 +0000\",\n"
		"    \"start_epoch\": 1709291100,\n"
		"    \"end_lsn\": \"0/800000\",\n"
		"    \"end_time\": \"2024-03-01 14:43:20 +0000\",\n"
		"    \"end_epoch\": 1709304200\n"
		"  },\n"
		"  \"problems\": [\n"
		"    \"archive file \\\"%s/000000010000000000000004.partial.tmp\\\" is named like a WAL "
		"file but is not one\"\n"
		"  ],\n"
		"  \"archive_stored_size\": %llu,\n"
		"  \"in_progress\": [],\n"
		"  \"orphans\": []\n"
		"}\n", bk, arch, b1, b1, b2, b2, t1, t2, arch, all);
}

START_TEST(test_json)
{
	char *text, out[4096];
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "print(len(d['backups']), d['backups'][0]['label'], d['backups'][1]['xlog_file'],"
			 " d['timelines'][1]['first'], d['window']['end_epoch'], len(d['problems']))",
			 (char *)h_path("report"), NULL };

	make_world();
	text = run_info(h_fmt("none=%s", bk), arch, true, 0);
	ck_assert_str_eq(text, expected_json());
	free(text);
	/* What a script reads back. */
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "2 nightly \"full\"\tbackup \\ 1 None 000000020000000000000004 1709304200 1\n");
}
END_TEST

START_TEST(test_json_empty)
{
	char *text;

	/* An empty backup dir only: no archive, no window. */
	text = run_info(bk, NULL, true, 0);
	ck_assert_str_eq(text, h_fmt("{\n"
				  "  \"backup_dir\": \"%s\",\n"
				  "  \"archive_dir\": null,\n"
				  "  \"segment_size\": null,\n"
				  "  \"backups\": [],\n"
				  "  \"timelines\": [],\n"
				  "  \"window\": null,\n"
				  "  \"problems\": [],\n"
				  "  \"archive_stored_size\": null,\n"
				  "  \"in_progress\": [],\n"
				  "  \"orphans\": []\n"
				  "}\n", bk));
	free(text);
	text = run_info(NULL, arch, false, 0);
	ck_assert_str_eq(text, h_fmt("Archive %s: 0 files, 0 segments, 0 B stored\n"
				  "Recoverable window: none (no backup to recover from)\n"
				  "Problems: 0\n", arch));
	free(text);
}
END_TEST

/* The oldest backup that can reach the latest timeline opens the window. */
START_TEST(test_window_skips_unrecoverable)
{
	struct pitr_catalog cat;
	struct pitr_info_window w;
	const char *m0 = "start_wal=000000010000000000000001\nstop_wal=000000010000000000000001\n"
			 "start_lsn=0/100028\nstop_lsn=0/100100\n"
			 "start_time=2024-02-28 12:00:00 +0000\nstop_time=2024-02-28 12:01:00 +0000\n"
			 "timeline=1\nwal_segment_size=1048576\nxlog_size=0\n";

	make_world();
	/* Older than both, --skip-xlogs, and its segment 1 is gone. */
	put(bk, "old-meta", PITR_CODEC_NONE, m0, strlen(m0));
	put(bk, "old-data", PITR_CODEC_NONE, "d", 1);
	ck_assert_int_eq(unlink(h_fmt("%s/000000010000000000000001.gz", arch)), 0);
	ck_assert_int_eq(pitr_catalog_load(bk, arch, NULL, &cat), 0);
	ck_assert_str_eq(cat.backups[0].name, "old-*");
	pitr_info_window(&cat, &w);
	ck_assert_ptr_eq(w.backup, &cat.backups[1]);
	ck_assert_uint_eq(w.tli, 2);
	ck_assert_uint_eq(w.start_lsn, 0x300100);
	ck_assert_int_eq((long)w.start_epoch, 1709291100L);
	ck_assert_uint_eq(w.end_lsn, 0x800000);
	ck_assert_int_eq((long)w.end_epoch, TL2_BASE + 600 * 7);
	pitr_catalog_free(&cat);

	/* Nothing archived after a backup: its window ends with its own
	 * stop segment, at its stop time. */
	ck_assert_int_eq(pitr_catalog_load(bk, NULL, NULL, &cat), 0);
	pitr_info_window(&cat, &w);
	ck_assert_ptr_eq(w.backup, &cat.backups[1]);
	ck_assert_uint_eq(w.tli, 1);
	ck_assert_uint_eq(w.end_lsn, 0x400000);
	ck_assert_int_eq((long)w.end_epoch, 1709291100L);
	pitr_catalog_free(&cat);
}
END_TEST

static char *
json_of(const char *s)
{
	const char *path = h_path("json");
	FILE *f = fopen(path, "w");
	size_t len;

	ck_assert_ptr_nonnull(f);
	pitr_info_json_string(f, s);
	ck_assert_int_eq(fclose(f), 0);
	return h_read_file(path, &len);
}

START_TEST(test_json_string)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "", "\"\"" },
		{ "plain /path-*.tar", "\"plain /path-*.tar\"" },
		{ "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
		{ "\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\x7f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		/* Not UTF-8: a stray continuation byte, a cut sequence, an
		 * overlong '/', a surrogate, Latin-1. */
		{ "a\x80z", "\"a\\ufffdz\"" },
		{ "\xe2\x82", "\"\\ufffd\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "caf\xe9", "\"caf\\ufffd\"" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = json_of(cases[i].in);

		ck_assert_str_eq(got, cases[i].out);
		free(got);
	}
}
END_TEST

/* File names and meta values come from disk: a crafted one must not add
 * report lines or move the terminal.  Control bytes and invalid UTF-8 are
 * shown escaped in the text report. */
START_TEST(test_text_escapes_names)
{
	const char *m = "start_wal=000000010000000000000005\nstop_wal=000000010000000000000005\n"
			"start_lsn=0/500028\nstop_lsn=0/500100\n"
			"start_time=2024-03-02 12:00:00 +0100\nstop_time=2024-03-02 12:01:00 +0100\n"
			"host=db\xe9\nlabel=a\x1b[2Jb\nsystem_identifier=7300000000000000001\n"
			"timeline=1\ndata_dir=/d\ndata_size=1000\nxlog_size=0\ncodec=none\ndigests=\n";
	const char *evil = "x\nProblems: 0\n";
	char *text;

	put(bk, h_fmt("%s-meta-1.tar", evil), PITR_CODEC_NONE, m, strlen(m));
	put(bk, h_fmt("%s-data-1.tar", evil), PITR_CODEC_NONE, "d", 1);
	put(bk, "y\tz-meta-2.tar", PITR_CODEC_NONE, "hello\n", 6);
	put(bk, "y\tz-data-2.tar", PITR_CODEC_NONE, "d", 1);
	text = run_info(bk, NULL, false, 0);
	ck_assert_ptr_nonnull(strstr(text, "\n  x\\nProblems: 0\\n-*-1.tar\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n    label:        a\\x1b[2Jb\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n    host:         db\\xe9\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n    files:        x\\nProblems: 0\\n-meta-1.tar "
				    "x\\nProblems: 0\\n-data-1.tar (no xlog file)\n"));
	ck_assert_ptr_nonnull(strstr(text, h_fmt("\nProblems: 1\n  meta file \"%s/y\\tz-meta-2.tar\": "
						 "not a pitrkit meta file\n", bk)));
	/* One "Problems:" line, and no raw control byte but the line ends. */
	ck_assert_ptr_null(strstr(strstr(text, "\nProblems:") + 1, "\nProblems:"));
	for (const char *c = text; *c != '\0'; c++)
		ck_assert_msg(*c == '\n' || (unsigned char)*c >= 0x20, "raw control byte in:\n%s", text);
	free(text);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* ---- several hosts ---- */

/* Segment (tli, segno) of cluster `sysid`, plain, into `dir`, mtime
 * base + 600 * segno. */
static void
put_segment_in(const char *dir, uint32_t tli, uint64_t segno, uint64_t sysid, time_t base)
{
	unsigned char *buf = h_make_segment(SEG, tli, segno, sysid, (unsigned)segno);
	char name[80];

	pitr_wal_format_segment(name, tli, segno, SEG);
	put(dir, name, PITR_CODEC_NONE, buf, SEG);
	free(buf);
	set_mtime(h_fmt("%s/%s", dir, name), base + 600 * (time_t)segno);
}

/* Two hosts: the old primary (bk, arch: a timeline 1 backup, timeline 1
 * WAL 1-6) and the promoted standby (bk2, arch2: a timeline 2 backup,
 * timeline 2 from 0/480000, segments 4-8). */
static void
make_two_hosts(char *bk2, char *arch2)
{
	const char *m1 = "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
			 "start_lsn=0/200028\nstop_lsn=0/300100\n"
			 "start_time=2024-03-01 12:00:00 +0000\nstop_time=2024-03-01 12:05:00 +0000\n"
			 "host=db1\nlabel=one\nsystem_identifier=7300000000000000001\ntimeline=1\n"
			 "wal_segment_size=1048576\ndata_dir=/d\ndata_size=1\nxlog_size=0\n"
			 "codec=none\ndigests=\n";
	const char *m2 = "start_wal=000000020000000000000006\nstop_wal=000000020000000000000006\n"
			 "start_lsn=0/600028\nstop_lsn=0/600100\n"
			 "start_time=2024-03-01 11:00:00 +0000\nstop_time=2024-03-01 11:01:00 +0000\n"
			 "host=db2\nlabel=two\nsystem_identifier=7300000000000000001\ntimeline=2\n"
			 "wal_segment_size=1048576\ndata_dir=/d\ndata_size=1\nxlog_size=0\n"
			 "codec=none\ndigests=\n";

	strcpy(bk2, h_path("bk2"));
	strcpy(arch2, h_path("arch2"));
	ck_assert_int_eq(mkdir(bk2, 0700), 0);
	ck_assert_int_eq(mkdir(arch2, 0700), 0);
	put(bk, "db-meta-1.tar", PITR_CODEC_NONE, m1, strlen(m1));
	put(bk, "db-data-1.tar", PITR_CODEC_NONE, "d", 1);
	/* The standby's clock was an hour behind: its backup still is the
	 * newer, on the newer timeline. */
	put(bk2, "db-meta-2.tar", PITR_CODEC_NONE, m2, strlen(m2));
	put(bk2, "db-data-2.tar", PITR_CODEC_NONE, "d", 1);
	for (unsigned s = 1; s <= 6; s++)
		put_segment_in(arch, 1, s, SYSID, TL1_BASE);
	put(arch2, "00000002.history", PITR_CODEC_NONE, "1\t0/480000\tno recovery target specified\n", 40);
	for (unsigned s = 4; s <= 8; s++)
		put_segment_in(arch2, 2, s, SYSID, TL2_BASE);
}

static char *
run_hosts(const char *b1, const char *b2, const char *a1, const char *a2, bool json, int want_rc)
{
	const char *b[2] = { b1, b2 }, *a[2] = { a1, a2 };
	struct pitr_info_opts o = { b, 2, a, 2, json, NULL, NULL };
	const char *path = h_path("report");
	char *text;
	size_t len;

	o.out = fopen(path, "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_info(&o), want_rc);
	ck_assert_int_eq(fclose(o.out), 0);
	text = h_read_file(path, &len);
	return text;
}

static void
assert_has(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want) != NULL, "no [%s] in:\n%s", want, text);
}

START_TEST(test_several_hosts_text)
{
	char bk2[4096], arch2[4096], *text;

	make_two_hosts(bk2, arch2);
	text = run_hosts(bk, bk2, arch, arch2, false, 0);
	assert_has(text, h_fmt("Backups in %s: 1\n  db-*-1.tar\n", bk));
	assert_has(text, h_fmt("Backups in %s: 1\n  db-*-2.tar\n", bk2));
	assert_has(text, h_fmt("Archive %s: 6 files, 6 segments of 1048576 bytes, ", arch));
	assert_has(text, "  timeline 1: 000000010000000000000001 to 000000010000000000000006, "
		   "6 segments, 0 gaps, ");
	assert_has(text, h_fmt("Archive %s: 6 files, 5 segments of 1048576 bytes, ", arch2));
	assert_has(text, "  timeline 2 (from timeline 1 at 0/480000): 000000020000000000000004 to "
		   "000000020000000000000008, 5 segments, 0 gaps, ");
	assert_has(text, h_fmt("Newest backup: db-*-2.tar in %s (timeline 2, stopped 2024-03-01 "
			       "11:01:00 +0000, LSN 0/600100)\n", bk2));
	assert_has(text, h_fmt("Furthest archive: %s (timeline 2, last segment "
			       "000000020000000000000008, to LSN 0/900000, 2024-03-01 14:53:20 +0000)\n",
			       arch2));
	assert_has(text, "Database system: 7300000000000000001 (every backup and archive that tells)\n");
	/* Recovery runs over both archives: the first host's backup reaches
	 * the second's timeline 2 through timeline 1 from the first. */
	ck_assert_ptr_nonnull(strstr(strstr(text, "  db-*-1.tar\n"), "    recoverable:  to LSN 0/900000, "
				     "2024-03-01 14:53:20 +0000 (timeline 2)\n"));
	assert_has(text, "Recoverable window on timeline 2: from 2024-03-01 11:01:00 +0000 (LSN 0/600100, "
		   "end of backup db-*-2.tar) to 2024-03-01 14:53:20 +0000 (LSN 0/900000)\n");
	assert_has(text, "Problems: 0\n");
	free(text);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_several_hosts_json)
{
	char bk2[4096], arch2[4096], *text, out[4096];
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "n=d['newest_backup']; f=d['furthest_archive']\n"
			 "print(n['backup_dir']==sys.argv[2], n['name'], n['stop_lsn'], f['archive_dir']==sys.argv[3],"
			 " f['timeline'], f['last'], f['end_lsn'], d['same_system'], d['system_identifier'],"
			 " [b['backup_dir']==sys.argv[2] for b in d['backups']],"
			 " [a['segments'] for a in d['archives']], d['window']['end_lsn'])",
			 (char *)h_path("report"), bk2, arch2, NULL };

	make_two_hosts(bk2, arch2);
	text = run_hosts(bk, bk2, arch, arch2, true, 0);
	free(text);
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "True db-*-2.tar 0/600100 True 2 000000020000000000000008 0/900000 True "
			 "7300000000000000001 [True, False] [6, 5] 0/900000\n");
}
END_TEST

/* Another cluster's archive among them: the report is written, and says
 * so, and so does one error line; the call fails. */
START_TEST(test_several_hosts_other_system)
{
	char bk2[4096], arch2[4096], *text, out[4096];
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "print(d['same_system'], d['system_identifier'], d['systems_differ'] is not None)",
			 (char *)h_path("report"), NULL };
	const char *line;

	make_two_hosts(bk2, arch2);
	put(arch2, ".pitrkit-system-identifier", PITR_CODEC_NONE, "42\n", 3);
	line = h_fmt("backup \"db-*-2.tar\" in \"%s\" is of database system 7300000000000000001, "
		     "archive \"%s\" of system 42: not one cluster", bk2, arch2);
	text = run_hosts(bk, bk2, arch, arch2, false, -1);
	assert_has(text, h_fmt("Database system: DIFFERENT: %s\n", line));
	free(text);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : %s\n", line));
	h_log_reset();
	text = run_hosts(bk, bk2, arch, arch2, true, -1);
	free(text);
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "False None True\n");
}
END_TEST

/* ---- chains (issue 13) ---- */

/* Backup "db-*-DAY.tar" (plain) labelled `label`, with `base` and `chain`
 * ("" for a full backup) and a sig file of `sig_len` bytes (0: none); an
 * incremental has a SHA-256 digest file, as pitr-backup-* always writes. */
static void
put_chain_backup(const char *dir, int day, const char *label, const char *base, const char *chain,
		 size_t sig_len)
{
	const char *m = h_fmt("start_wal=00000001000000000000000%d\nstop_wal=00000001000000000000000%d\n"
			      "start_lsn=0/%d00028\nstop_lsn=0/%d00100\n"
			      "start_time=2024-03-0%d 12:00:00 +0000\nstop_time=2024-03-0%d 12:01:00 +0000\n"
			      "host=db1\nlabel=%s\nsystem_identifier=7300000000000000001\ntimeline=1\n"
			      "wal_segment_size=1048576\ndata_dir=/d\ndata_size=1\nxlog_size=0\n"
			      "codec=none\ndigests=%s\nbase=%s\nchain=%s\n", day, day, day, day, day,
			      day, label, base[0] != '\0' ? "SHA-256" : "", base, chain);
	size_t data_len = 100 * (size_t)day;
	char *sig = malloc(sig_len + data_len + 1);

	ck_assert_ptr_nonnull(sig);
	memset(sig, 's', sig_len + data_len);
	put(dir, h_fmt("db-meta-%d.tar", day), PITR_CODEC_NONE, m, strlen(m));
	put(dir, h_fmt("db-data-%d.tar", day), PITR_CODEC_NONE, sig, data_len);
	if (sig_len > 0)
		put(dir, h_fmt("db-sig-%d.tar", day), PITR_CODEC_NONE, sig, sig_len);
	if (base[0] != '\0') {
		const char *line = h_fmt("0  db-data-%d.tar\n", day);

		put(dir, h_fmt("db-SHA-256-%d.tar", day), PITR_CODEC_NONE, line, strlen(line));
	}
	free(sig);
}

/* Bytes on disk of backup DAY's files in bk. */
static unsigned long long
chain_link_size(int day, bool sig)
{
	return fsize(bk, h_fmt("db-meta-%d.tar", day)) + fsize(bk, h_fmt("db-data-%d.tar", day)) +
	       (sig ? fsize(bk, h_fmt("db-sig-%d.tar", day)) : 0) +
	       (day > 1 ? fsize(bk, h_fmt("db-SHA-256-%d.tar", day)) : 0);
}

/* A full backup F (day 1), I1 on it (day 2), I2 on I1 (day 3), and I4
 * (day 4) whose chain names a backup the dir lacks: each one's type, its
 * base, and the bytes of its chain; the sig file among its files. */
START_TEST(test_chain_text)
{
	unsigned long long f, i1, i2, i4;
	char *text;

	put_chain_backup(bk, 1, "F", "", "", 1000);
	put_chain_backup(bk, 2, "I1", "F", "F", 300);
	put_chain_backup(bk, 3, "I2", "I1", "F|I1", 200);
	put_chain_backup(bk, 4, "I4", "I3", "F|I1|I2|I3", 100);
	f = chain_link_size(1, true);
	i1 = chain_link_size(2, true);
	i2 = chain_link_size(3, true);
	i4 = chain_link_size(4, true);
	text = run_info(bk, NULL, false, 0);
	ck_assert_ptr_nonnull(strstr(text, h_fmt("  db-*-1.tar\n    label:        F\n")));
	assert_has(text, h_fmt("    stored:       %s (%llu bytes on disk)\n    version:      unknown "
			       "(not in the meta file)\n    source:       unknown (not in the meta "
			       "file)\n    type:         full\n    files:        db-meta-1.tar "
			       "db-data-1.tar (no xlog file) db-sig-1.tar\n", size_text(f), f));
	assert_has(text, h_fmt("    type:         incremental on \"F\", 1 backup before it from full "
			       "\"F\"\n    chain stored: %s (%llu bytes on disk, this backup and the 1 "
			       "before it)\n    files:        db-meta-2.tar db-data-2.tar (no xlog file) "
			       "db-sig-2.tar\n    digests:      SHA-256 (db-SHA-256-2.tar)\n",
			       size_text(f + i1), f + i1));
	assert_has(text, h_fmt("    type:         incremental on \"I1\", 2 backups before it from full "
			       "\"F\"\n    chain stored: %s (%llu bytes on disk, this backup and the 2 "
			       "before it)\n", size_text(f + i1 + i2), f + i1 + i2));
	assert_has(text, h_fmt("    type:         incremental on \"I3\", 4 backups before it from full "
			       "\"F\"\n    chain stored: %s (%llu bytes on disk, this backup and the 3 "
			       "before it here)\n    chain lacks:  \"I3\" (not in %s: it cannot be "
			       "recovered)\n", size_text(f + i1 + i2 + i4), f + i1 + i2 + i4, bk));
	free(text);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_chain_json)
{
	char *text, out[4096];
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "for b in d['backups']:\n"
			 "  print(b['label'], b['incremental'], b['base'], '|'.join(b['chain']),"
			 " b['chain_stored_size'] - b['stored_size'], b['chain_missing'], b['sig_file'])",
			 (char *)h_path("report"), NULL };

	put_chain_backup(bk, 1, "F", "", "", 0);
	put_chain_backup(bk, 2, "I1", "F", "F", 300);
	put_chain_backup(bk, 3, "I2", "I1", "F|I1", 200);
	put_chain_backup(bk, 4, "I4", "I3", "F|I1|I2|I3", 100);
	text = run_info(bk, NULL, true, 0);
	free(text);
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, h_fmt(
		"F False None  0 [] None\n"
		"I1 True F F %llu [] db-sig-2.tar\n"
		"I2 True I1 F|I1 %llu [] db-sig-3.tar\n"
		"I4 True I3 F|I1|I2|I3 %llu ['I3'] db-sig-4.tar\n",
		chain_link_size(1, false), chain_link_size(1, false) + chain_link_size(2, true),
		chain_link_size(1, false) + chain_link_size(2, true) + chain_link_size(3, true)));
}
END_TEST

/* Over several hosts' dirs, a chain's links count only in the backup's
 * own dir: recovery reads them from there. */
START_TEST(test_chain_other_dir)
{
	char bk2[4096], arch2[4096], *text;

	make_two_hosts(bk2, arch2);
	put_chain_backup(bk2, 7, "I7", "one", "one", 10);
	text = run_hosts(bk, bk2, arch, arch2, false, 0);
	assert_has(text, h_fmt("    chain lacks:  \"one\" (not in %s: it cannot be recovered)\n", bk2));
	free(text);
}
END_TEST

START_TEST(test_errors)
{
	struct pitr_info_opts o = { NULL, 0, NULL, 0, false, NULL, NULL };
	const char *bdirs[1] = { bk };
	char *text;

	ck_assert_int_eq(pitr_cmd_info(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : nothing to report on: give --backup-dir, --archive or both\n");
	h_log_reset();
	text = run_info(bk, h_path("missing"), true, -1);
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : cannot read archive dir \"%s\": No such file or "
				     "directory\n", h_path("missing")));
	h_log_reset();
	/* A report that cannot be written is an error. */
	o.backup_dirs = bdirs;
	o.nbackup_dirs = 1;
	o.out = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_info(&o), -1);
	fclose(o.out);
	ck_assert_str_eq(h_log(), "ERROR : cannot write the report: No space left on device\n");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_info");
	TCase *tc = tcase_create("pitr_cmd_info");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_orphans);
	tcase_add_test(tc, test_in_progress);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_json_empty);
	tcase_add_test(tc, test_window_skips_unrecoverable);
	tcase_add_test(tc, test_json_string);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_several_hosts_text);
	tcase_add_test(tc, test_several_hosts_json);
	tcase_add_test(tc, test_several_hosts_other_system);
	tcase_add_test(tc, test_text_escapes_names);
	tcase_add_test(tc, test_chain_text);
	tcase_add_test(tc, test_chain_json);
	tcase_add_test(tc, test_chain_other_dir);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
