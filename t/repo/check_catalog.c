/*
 * check_catalog.c - unit tests for lib/repo/catalog.c: backup dirs
 * (codecs, names, missing and damaged files, remnants), archive dirs
 * (gaps, timelines, history files, names that are not WAL, the segment
 * size from a header).  The meta format's own tests are in check_meta.c,
 * the lookups along a timeline in check_walpath.c.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/catalog.h"
#include "repo/walpath.h"
#include "compress/codec.h"
#include "harness.h"
#include "catalog_fixture.h"
#include "common/log.h"
#include "postgres/wal.h"

static void
assert_problems(const struct pitr_catalog *cat, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	for (size_t i = 0; i < cat->nproblems && i < n; i++)
		ck_assert_str_eq(cat->problems[i], want[i]);
	ck_assert_uint_eq(cat->nproblems, n);
}

static uint64_t
fsize(const char *dir, const char *name)
{
	struct stat st;

	ck_assert_int_eq(stat(h_fmt("%s/%s", dir, name), &st), 0);
	return (uint64_t)st.st_size;
}

/* ---- backup dirs ---- */

START_TEST(test_load_backups)
{
	char mtext[4096], path[8192];
	struct pitr_catalog cat;
	const struct pitr_catalog_backup *b;

	/* gzip, new form, with its digest file as pitrkit named it before
	 * issue 11 (plain text, no extension): still found. */
	put_backup("h-%s-202403%02d.tar", 1, PITR_CODEC_GZIP,
		   meta_text(1, 1, 2, 3, "h", 2000, "start_epoch=1709290800\nstop_epoch=1709291100\n"
						  "wal_segment_size=1048576\ndigests=SHA-256\n"));
	put_text(bk, "h-SHA-256-20240301.tar", PITR_CODEC_NONE, "x  h-data-20240301.tar.gz\n");
	/* Plain, old form. */
	put_backup("h-%s-202403%02d.tar", 2, PITR_CODEC_NONE, meta_text(2, 1, 5, 6, "h", 2000, "digests=\n"));
	/* A host whose name holds "meta": every file of it does; the
	 * backup was taken with --skip-xlogs (xlog_size 0, no xlog file). */
	snprintf(mtext, sizeof(mtext), "%s", meta_text(3, 1, 8, 8, "metabox", 0, ""));
	put_text(bk, "metabox-meta-20240303.tar.gz", PITR_CODEC_GZIP, mtext);
	put_text(bk, "metabox-data-20240303.tar.gz", PITR_CODEC_GZIP, "data");
	/* An xlog file and two digest files missing: listed, but a backup. */
	snprintf(mtext, sizeof(mtext), "%s", meta_text(8, 1, 20, 21, "h", 5, "digests=SHA-256,MD5\n"));
	put_text(bk, "h-meta-20240308.tar.zst", PITR_CODEC_ZSTD, mtext);
	put_text(bk, "h-data-20240308.tar.zst", PITR_CODEC_ZSTD, "data");
	/* Not backups. */
	put_text(bk, "h-meta-20240304.tar.gz", PITR_CODEC_GZIP, meta_text(4, 1, 10, 11, "h", 1, ""));
	put_text(bk, "h-meta-20240305.tar.gz", PITR_CODEC_NONE, "not gzip at all");
	put_text(bk, "h-data-20240305.tar.gz", PITR_CODEC_GZIP, "data");
	put_text(bk, "h-meta-20240306.tar", PITR_CODEC_NONE, "start_wal=garbage\n");
	put_text(bk, "h-data-20240306.tar", PITR_CODEC_NONE, "data");
	put_text(bk, "h-meta-20240307.tar", PITR_CODEC_NONE, "hello\n");
	put_text(bk, "h-data-20240307.tar", PITR_CODEC_NONE, "data");
	/* Ignored silently: foreign files, hidden and temporary files. */
	put_text(bk, "metadata.txt", PITR_CODEC_NONE, "notes\n");
	put_text(bk, ".pitr-tmp.h-meta-20240309.tar.gz.abc123", PITR_CODEC_NONE, "partial");
	put_text(bk, ".h-meta-20240310.tar", PITR_CODEC_NONE, "start_wal=x\n");
	snprintf(path, sizeof(path), "%s/meta-dir", bk);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	load(&cat, bk, NULL);
	ck_assert_uint_eq(cat.nbackups, 4);
	b = &cat.backups[0];
	ck_assert_str_eq(b->name, "h-*-20240301.tar.gz");
	ck_assert_str_eq(b->meta_file, "h-meta-20240301.tar.gz");
	ck_assert_str_eq(b->data_file, "h-data-20240301.tar.gz");
	ck_assert_str_eq(b->xlog_file, "h-xlog-20240301.tar.gz");
	ck_assert_int_eq(b->codec, PITR_CODEC_GZIP);
	ck_assert_str_eq(b->start_wal, "000000010000000000000002");
	ck_assert_str_eq(b->stop_wal, "000000010000000000000003");
	ck_assert_uint_eq(b->start_lsn, 2 * SEG + 0x28);
	ck_assert_uint_eq(b->stop_lsn, 3 * SEG + 0x100);
	ck_assert_str_eq(b->label, "pitrkit h 2024-03-01");
	ck_assert_uint_eq(b->segsize, SEG);
	ck_assert_uint_eq(b->data_size, 1001);
	ck_assert_uint_eq(b->ndigests, 1);
	ck_assert_str_eq(b->digests[0].algorithm, "SHA-256");
	ck_assert_str_eq(b->digests[0].file, "h-SHA-256-20240301.tar");
	b = &cat.backups[1];
	ck_assert_str_eq(b->name, "h-*-20240302.tar");
	ck_assert_str_eq(b->xlog_file, "h-xlog-20240302.tar");
	ck_assert_int_eq(b->codec, PITR_CODEC_NONE);
	ck_assert_int_eq((long)b->start_epoch, 1709290800L + 86400);
	ck_assert_int_eq((long)b->stop_epoch, 1709290800L + 86400 + 300);
	/* The segment size the other backup states (no archive given). */
	ck_assert_uint_eq(b->segsize, SEG);
	b = &cat.backups[2];
	ck_assert_str_eq(b->name, "metabox-*-20240303.tar.gz");
	ck_assert_str_eq(b->data_file, "metabox-data-20240303.tar.gz");
	ck_assert_ptr_null(b->xlog_file);
	ck_assert_str_eq(b->host, "metabox");
	b = &cat.backups[3];
	ck_assert_str_eq(b->name, "h-*-20240308.tar.zst");
	ck_assert_int_eq(b->codec, PITR_CODEC_ZSTD);
	ck_assert_ptr_null(b->xlog_file);
	/* Both missing: the name OmniPITR (and pitrkit now) gives it. */
	ck_assert_str_eq(b->digests[1].file, "h-MD5-20240308.tar.zst");
	ck_assert_uint_eq(cat.segsize, SEG);
	ck_assert_uint_eq(cat.nfiles, 0);
	ck_assert_uint_eq(cat.ntimelines, 0);
	/* The meta whose data file is gone: a remnant, with what it still
	 * has, for pitr-backup-cleanup to finish. */
	ck_assert_uint_eq(cat.nremnants, 1);
	b = &cat.remnants[0];
	ck_assert_str_eq(b->name, "h-*-20240304.tar.gz");
	ck_assert_str_eq(b->meta_file, "h-meta-20240304.tar.gz");
	ck_assert_ptr_null(b->data_file);
	{
		const char *want[8];
		const char *wantp[9];

		want[0] = h_fmt("meta file \"%s/h-meta-20240304.tar.gz\": its data file \"h-data-20240304.tar.gz\" is missing", bk);
		want[1] = h_fmt("meta file \"%s/h-meta-20240306.tar\": invalid start_wal \"garbage\"", bk);
		want[2] = h_fmt("meta file \"%s/h-meta-20240308.tar.zst\": its xlog file \"h-xlog-20240308.tar.zst\" is missing", bk);
		want[3] = h_fmt("meta file \"%s/h-meta-20240308.tar.zst\": its SHA-256 digest file \"h-SHA-256-20240308.tar.zst\" is missing", bk);
		want[4] = h_fmt("meta file \"%s/h-meta-20240308.tar.zst\": its MD5 digest file \"h-MD5-20240308.tar.zst\" is missing", bk);
		want[5] = h_fmt("meta file \"%s/h-meta-20240305.tar.gz\": cannot read it as gzip: corrupt: incorrect header check", bk);
		want[6] = h_fmt("meta file \"%s/h-meta-20240307.tar\": not a pitrkit meta file", bk);
		for (int i = 0; i < 7; i++)
			wantp[i] = want[i];
		wantp[7] = NULL;
		assert_problems(&cat, wantp);
	}
	/* The undecompressable meta file's problem is its one report: the
	 * codec's reason is in it, not logged besides (twice, once by the
	 * meta reading and once by the judging of files without meta). */
	ck_assert_msg(strstr(h_log(), "ERROR") == NULL, "log: [%s]", h_log());
	pitr_catalog_free(&cat);
	ck_assert_ptr_null(cat.backups);
	pitr_catalog_free(&cat);   /* harmless twice */
}
END_TEST

START_TEST(test_load_order_and_segsize_conflict)
{
	struct pitr_catalog cat;
	const char *wantp[2] = { NULL, NULL };

	/* Named in the opposite order of their start times. */
	put_backup("a-%s-%02d", 5, PITR_CODEC_NONE, meta_text(5, 1, 0, 0, "a", 1, "wal_segment_size=2097152\n"));
	put_backup("b-%s-%02d", 4, PITR_CODEC_NONE, meta_text(4, 1, 2, 3, "b", 1, "wal_segment_size=1048576\n"));
	load(&cat, bk, NULL);
	ck_assert_uint_eq(cat.nbackups, 2);
	ck_assert_str_eq(cat.backups[0].name, "b-*-04");
	ck_assert_str_eq(cat.backups[1].name, "a-*-05");
	ck_assert_uint_eq(cat.segsize, SEG);
	wantp[0] = h_fmt("backup \"a-*-05\" has wal_segment_size 2097152, backup \"b-*-04\" 1048576");
	assert_problems(&cat, wantp);
	pitr_catalog_free(&cat);
}
END_TEST

START_TEST(test_load_missing_dirs)
{
	struct pitr_catalog cat;
	char want[8192];

	memset(&cat, 0x55, sizeof(cat));
	ck_assert_int_eq(pitr_catalog_load(h_path("nope"), NULL, NULL, &cat), -1);
	ck_assert_ptr_null(cat.backups);
	ck_assert_uint_eq(cat.nproblems, 0);
	snprintf(want, sizeof(want), "ERROR : cannot read backup dir \"%s\": No such file or directory\n",
		 h_path("nope"));
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	ck_assert_int_eq(pitr_catalog_load(bk, h_path("nope2"), NULL, &cat), -1);
	snprintf(want, sizeof(want), "ERROR : cannot read archive dir \"%s\": No such file or directory\n",
		 h_path("nope2"));
	ck_assert_str_eq(h_log(), want);
	pitr_catalog_free(&cat);
	/* An object store, from a program without the s3 options to reach
	 * one: refused in one line, codec prefix dropped, nothing contacted. */
	h_log_reset();
	ck_assert_int_eq(pitr_catalog_load(NULL, "gzip=s3://bucket/wal/", NULL, &cat), -1);
	ck_assert_str_eq(h_log(), "ERROR : cannot read archive dir \"s3://bucket/wal/\": this "
			 "program does not read object stores\n");
	pitr_catalog_free(&cat);
	/* Neither dir: an empty catalog. */
	load(&cat, NULL, NULL);
	ck_assert_uint_eq(cat.nbackups + cat.nfiles + cat.ntimelines + cat.nproblems + cat.segsize, 0);
	pitr_catalog_free(&cat);
}
END_TEST

/* ---- archives ---- */

START_TEST(test_archive_gaps)
{
	struct pitr_catalog cat;
	const struct pitr_catalog_timeline *t;
	char path[8192];
	const char *want[5] = { NULL };
	char codec_arch[8200];

	put_segment(1, 1, PITR_CODEC_GZIP);
	put_segment(1, 2, PITR_CODEC_NONE);
	put_segment(1, 2, PITR_CODEC_LZ4);     /* the same segment twice */
	put_segment(1, 3, PITR_CODEC_ZSTD);
	put_segment(1, 5, PITR_CODEC_NONE);
	put_segment(1, 6, PITR_CODEC_GZIP);
	put_segment(1, 9, PITR_CODEC_NONE);
	put_text(arch, "000000010000000000000009.partial", PITR_CODEC_NONE, "p");
	put_text(arch, "000000010000000000000002.00000028.backup.gz", PITR_CODEC_GZIP, "START WAL\n");
	put_text(arch, ".pitr-tmp.000000010000000000000004.gz.x1y2z3", PITR_CODEC_NONE, "tmp");
	put_text(arch, ".000000010000000000000004", PITR_CODEC_NONE, "hidden");
	put_text(arch, "README", PITR_CODEC_NONE, "notes");
	put_text(arch, "000000010000000000000004.tmp", PITR_CODEC_NONE, "x");
	put_text(arch, "00000001000000000000000a", PITR_CODEC_NONE, "x");
	put_text(arch, "000000010000000000001000", PITR_CODEC_NONE, "x");   /* seg 4096 of 4096 */
	snprintf(path, sizeof(path), "%s/000000010000000000000007", arch);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	snprintf(codec_arch, sizeof(codec_arch), "gzip=%s", arch);
	load(&cat, NULL, codec_arch);
	ck_assert_uint_eq(cat.segsize, SEG);   /* from the first segment's header */
	ck_assert_uint_eq(cat.nfiles, 9);
	ck_assert_str_eq(cat.files[0].file, "000000010000000000000001.gz");
	ck_assert_int_eq(cat.files[0].codec, PITR_CODEC_GZIP);
	ck_assert_str_eq(cat.files[1].file, "000000010000000000000002");
	ck_assert_uint_eq(cat.files[1].size, SEG);
	ck_assert_str_eq(cat.files[2].file, "000000010000000000000002.lz4");
	ck_assert_str_eq(cat.files[3].file, "000000010000000000000002.00000028.backup.gz");
	ck_assert_int_eq(cat.files[3].name.kind, PITR_WAL_BACKUP);
	ck_assert_str_eq(cat.files[4].file, "000000010000000000000003.zst");
	ck_assert_str_eq(cat.files[7].file, "000000010000000000000009");
	ck_assert_str_eq(cat.files[8].file, "000000010000000000000009.partial");
	ck_assert_uint_eq(cat.ntimelines, 1);
	t = pitr_catalog_timeline(&cat, 1);
	ck_assert_ptr_eq(t, &cat.timelines[0]);
	ck_assert_ptr_null(pitr_catalog_timeline(&cat, 2));
	ck_assert(!t->has_history);
	ck_assert_uint_eq(t->nancestry, 0);
	ck_assert_uint_eq(t->first, 1);
	ck_assert_uint_eq(t->last, 9);
	ck_assert_uint_eq(t->nsegments, 6);
	ck_assert_uint_eq(t->ngaps, 2);
	ck_assert_uint_eq(t->gaps[0].first, 4);
	ck_assert_uint_eq(t->gaps[0].last, 4);
	ck_assert_uint_eq(t->gaps[1].first, 7);
	ck_assert_uint_eq(t->gaps[1].last, 8);
	want[0] = h_fmt("archive file \"%s/000000010000000000000004.tmp\" is named like a WAL file but is not one", arch);
	want[1] = h_fmt("archive file \"%s/000000010000000000000007\" is not a regular file", arch);
	want[2] = h_fmt("archive file \"%s/00000001000000000000000a\" is named like a WAL file but is not one", arch);
	want[3] = h_fmt("archive file \"%s/000000010000000000001000\" is named like a WAL file but cannot be one with 1048576-byte segments", arch);
	assert_problems(&cat, want);
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 1, 2)->file, "000000010000000000000002");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 1, 3)->file, "000000010000000000000003.zst");
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 1, 4));
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 1, 9)->file, "000000010000000000000009");
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 1, 10));
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 2, 2));
	pitr_catalog_free(&cat);
}
END_TEST

START_TEST(test_archive_segsize_from_later_header)
{
	struct pitr_catalog cat;
	const char *want[3] = { NULL };
	unsigned char *seg = h_make_segment(SEG, 1, 3, SYSID, 3);

	put_text(arch, "000000010000000000000001", PITR_CODEC_NONE, "short");
	/* A valid header, but of segment 3, under the name of segment 2. */
	put(arch, "000000010000000000000002", PITR_CODEC_NONE, seg, SEG);
	free(seg);
	put_segment(1, 3, PITR_CODEC_GZIP);
	load(&cat, NULL, arch);
	ck_assert_uint_eq(cat.segsize, SEG);
	ck_assert_uint_eq(cat.timelines[0].nsegments, 3);
	want[0] = h_fmt("archive file \"%s/000000010000000000000001\": no valid WAL page header to learn the segment size from", arch);
	want[1] = h_fmt("archive file \"%s/000000010000000000000002\": no valid WAL page header to learn the segment size from", arch);
	assert_problems(&cat, want);
	pitr_catalog_free(&cat);

	/* No header at all: nothing can be counted. */
	ck_assert_int_eq(unlink(h_path("arch/000000010000000000000003.gz")), 0);
	load(&cat, NULL, arch);
	ck_assert_uint_eq(cat.segsize, 0);
	ck_assert_uint_eq(cat.ntimelines, 1);
	ck_assert_uint_eq(cat.timelines[0].nsegments, 0);
	ck_assert_uint_eq(cat.nproblems, 3);
	ck_assert_str_eq(cat.problems[2], "the segment size is unknown (no backup states it, no archived "
					  "segment has a valid header): segments are not counted");
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 1, 1));
	pitr_catalog_free(&cat);
}
END_TEST

START_TEST(test_history_problems)
{
	struct pitr_catalog cat;
	const char *want[4];

	put_segment(1, 1, PITR_CODEC_NONE);
	put_text(arch, "00000002.history", PITR_CODEC_NONE, "garbage\n");
	put_segment(3, 2, PITR_CODEC_NONE);
	put_text(arch, "00000004.history", PITR_CODEC_NONE, "1\t0/100000\tx\n4\t0/200000\ty\n");
	put_text(arch, "00000001.history", PITR_CODEC_NONE, "");
	put_text(arch, "00000005.history.gz", PITR_CODEC_NONE, "not gzip");
	load(&cat, NULL, arch);
	ck_assert_uint_eq(cat.ntimelines, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert(!cat.timelines[i].has_history);
	want[0] = h_fmt("history file \"%s/00000001.history\": not a valid history of timeline 1", arch);
	want[1] = h_fmt("history file \"%s/00000002.history\": not a valid timeline history", arch);
	want[2] = h_fmt("history file \"%s/00000004.history\": not a valid history of timeline 4", arch);
	want[3] = h_fmt("history file \"%s/00000005.history.gz\": cannot read it as gzip: corrupt: incorrect header check", arch);
	ck_assert_uint_eq(cat.nproblems, 8);
	for (int i = 0; i < 4; i++)
		ck_assert_str_eq(cat.problems[i], want[i]);
	ck_assert_str_eq(cat.problems[4], "timeline 2 has no valid history file in the archive");
	ck_assert_str_eq(cat.problems[5], "timeline 3 has no valid history file in the archive");
	ck_assert_str_eq(cat.problems[6], "timeline 4 has no valid history file in the archive");
	ck_assert_str_eq(cat.problems[7], "timeline 5 has no valid history file in the archive");
	pitr_catalog_free(&cat);
}
END_TEST

/* ---- several hosts ---- */

static void
move(const char *from, const char *to, const char *name)
{
	ck_assert_int_eq(rename(h_fmt("%s/%s", from, name), h_fmt("%s/%s", to, name)), 0);
}

/* Two backup dirs and two archives read as one: each backup and file
 * knows its dir, the WAL is the union (a segment in both counted once,
 * served by the first archive's file), and a file of one dir says nothing
 * about the other (an orphan in the second is one although the first has
 * its meta). */
START_TEST(test_load_many)
{
	struct pitr_catalog cat;
	const struct pitr_catalog_timeline *t;
	const char *bk2 = h_path("bk2"), *arch2 = h_path("arch2");
	char b2[4096], a2[4096];
	const char *bdirs[2], *adirs[2], *want[2] = { NULL };
	uint64_t sysid;

	snprintf(b2, sizeof(b2), "%s", bk2);
	snprintf(a2, sizeof(a2), "%s", arch2);
	ck_assert_int_eq(mkdir(b2, 0700), 0);
	ck_assert_int_eq(mkdir(a2, 0700), 0);
	put_backup("db-%s-%02d.tar", 1, PITR_CODEC_NONE, meta_text(1, 1, 2, 3, "db1", 3, ""));
	put_backup("db-%s-%02d.tar", 2, PITR_CODEC_NONE, meta_text(2, 1, 4, 4, "db2", 3, ""));
	move(bk, b2, "db-meta-02.tar");
	move(bk, b2, "db-data-02.tar");
	move(bk, b2, "db-xlog-02.tar");
	put_text(b2, "db-data-01.tar", PITR_CODEC_NONE, "copied alone");
	put_segment(1, 1, PITR_CODEC_NONE);
	put_segment(1, 3, PITR_CODEC_NONE);
	put_segment(1, 5, PITR_CODEC_NONE);
	move(arch, a2, "000000010000000000000003");
	move(arch, a2, "000000010000000000000005");
	put_segment(1, 2, PITR_CODEC_NONE);
	move(arch, a2, "000000010000000000000002");
	put_segment(1, 2, PITR_CODEC_GZIP);
	put_segment(1, 4, PITR_CODEC_GZIP);
	bdirs[0] = bk;
	bdirs[1] = h_fmt("gzip=%s", b2);
	adirs[0] = arch;
	adirs[1] = a2;
	ck_assert_int_eq(pitr_catalog_load_many(bdirs, 2, adirs, 2, NULL, &cat), 0);
	ck_assert_uint_eq(cat.nbackup_dirs, 2);
	ck_assert_str_eq(cat.backup_dirs[1], b2);   /* the codec prefix dropped */
	ck_assert_uint_eq(cat.narchive_dirs, 2);
	ck_assert_str_eq(cat.archive_dirs[1], a2);
	ck_assert_uint_eq(cat.nbackups, 2);
	ck_assert_str_eq(cat.backups[0].name, "db-*-01.tar");
	ck_assert_uint_eq(cat.backups[0].dir, 0);
	ck_assert_str_eq(cat.backups[1].name, "db-*-02.tar");
	ck_assert_uint_eq(cat.backups[1].dir, 1);
	/* No journal names it: not a pitrkit run's (OmniPITR's?), said so. */
	want[0] = h_fmt("backup files without meta in \"%s\": \"db-data-01.tar\", named by no "
			"pitrkit run's journal (OmniPITR's? a remote run's?): never removed by "
			"pitrkit, remove them by hand if unwanted", b2);
	assert_problems(&cat, want);
	/* The orphan is listed with its dir (issue 11). */
	ck_assert_uint_eq(cat.norphans, 1);
	ck_assert_str_eq(cat.orphans[0], "db-data-01.tar");
	ck_assert_uint_eq(cat.orphan_dirs[0], 1);
	/* Stored sizes: a backup's files in its dir, a timeline's files in
	 * every archive. */
	ck_assert_uint_eq(cat.backups[1].stored_size, fsize(b2, "db-meta-02.tar") +
			  fsize(b2, "db-data-02.tar") + fsize(b2, "db-xlog-02.tar"));
	ck_assert_uint_gt(cat.backups[1].stored_size, 0);
	ck_assert_uint_eq(cat.nfiles, 6);
	ck_assert_uint_eq(cat.ntimelines, 1);
	ck_assert_uint_eq(cat.timelines[0].stored_size, 3 * (uint64_t)SEG +
			  fsize(arch, "000000010000000000000002.gz") + fsize(arch, "000000010000000000000004.gz") +
			  fsize(a2, "000000010000000000000002"));
	t = &cat.timelines[0];
	ck_assert_uint_eq(t->first, 1);
	ck_assert_uint_eq(t->last, 5);
	ck_assert_uint_eq(t->nsegments, 5);
	ck_assert_uint_eq(t->ngaps, 0);
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 1, 2)->file, "000000010000000000000002.gz");
	ck_assert_uint_eq(pitr_walpath_find_segment(&cat, 1, 2)->archive, 0);
	ck_assert_uint_eq(pitr_walpath_find_segment(&cat, 1, 3)->archive, 1);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[0], 1), 6 * (uint64_t)SEG);
	/* Each archive's system: a segment header, else its record. */
	ck_assert_int_eq(pitr_catalog_archive_sysid(&cat, 0, &sysid), 0);
	ck_assert_uint_eq(sysid, SYSID);
	put_text(a2, ".pitrkit-system-identifier", PITR_CODEC_NONE, "42\n");
	ck_assert_int_eq(pitr_catalog_archive_sysid(&cat, 1, &sysid), 0);
	ck_assert_uint_eq(sysid, 42);
	pitr_catalog_free(&cat);
	/* An archive with neither does not tell. */
	ck_assert_int_eq(pitr_catalog_load_many(bdirs, 0, adirs, 1, NULL, &cat), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/000000010000000000000001", arch)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/000000010000000000000002.gz", arch)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/000000010000000000000004.gz", arch)), 0);
	ck_assert_int_eq(pitr_catalog_archive_sysid(&cat, 0, &sysid), 1);
	pitr_catalog_free(&cat);
}
END_TEST

/* Digest files named as OmniPITR named them, with the codec's extension
 * (plain text all the same), win over pitrkit's earlier names without
 * it, which are still read; neither is taken for a meta file or an
 * orphan, a host called "metabox" included. */
START_TEST(test_digest_names)
{
	struct pitr_catalog cat;
	const struct pitr_catalog_backup *b;
	const char *none[1] = { NULL };

	put_backup("h-%s-202403%02d.tar", 1, PITR_CODEC_GZIP,
		   meta_text(1, 1, 2, 3, "h", 2000, "digests=SHA-256,MD5\n"));
	put_text(bk, "h-SHA-256-20240301.tar.gz", PITR_CODEC_NONE, "x *h-data-20240301.tar.gz\n");
	put_text(bk, "h-SHA-256-20240301.tar", PITR_CODEC_NONE, "x  h-data-20240301.tar.gz\n");
	put_text(bk, "h-MD5-20240301.tar", PITR_CODEC_NONE, "x  h-data-20240301.tar.gz\n");
	put_text(bk, "metabox-meta-20240303.tar.bz2", PITR_CODEC_BZIP2,
		 meta_text(3, 1, 8, 9, "metabox", 10, "digests=MD5\n"));
	put_text(bk, "metabox-data-20240303.tar.bz2", PITR_CODEC_BZIP2, "data");
	put_text(bk, "metabox-xlog-20240303.tar.bz2", PITR_CODEC_BZIP2, "xlog");
	put_text(bk, "metabox-MD5-20240303.tar.bz2", PITR_CODEC_NONE,
		 "x *metabox-data-20240303.tar.bz2\n");
	load(&cat, bk, arch);
	ck_assert_uint_eq(cat.nbackups, 2);
	b = &cat.backups[0];
	ck_assert_str_eq(b->digests[0].file, "h-SHA-256-20240301.tar.gz");
	ck_assert_str_eq(b->digests[1].file, "h-MD5-20240301.tar");
	b = &cat.backups[1];
	ck_assert_str_eq(b->name, "metabox-*-20240303.tar.bz2");
	ck_assert_str_eq(b->digests[0].file, "metabox-MD5-20240303.tar.bz2");
	/* The old SHA-256 file beside the new one is no backup's: an orphan
	 * only by the loose rule's reading, which finds its meta file. */
	assert_problems(&cat, none);
	pitr_catalog_free(&cat);
}
END_TEST

/* Chains (issue 13): a meta's chain split into labels (full first), a
 * base without chain taken as a chain of one, a full backup's none; the
 * backup of a dir with a label, the copy under the asked codec first. */
START_TEST(test_chain_labels)
{
	struct pitr_catalog cat;
	const struct pitr_catalog_backup *b;
	char **labels;
	size_t n;

	put_backup("h-%s-202403%02d.tar", 1, PITR_CODEC_GZIP, meta_text(1, 1, 2, 3, "h", 1, ""));
	put_backup("h-%s-202403%02d.tar", 1, PITR_CODEC_NONE, meta_text(1, 1, 2, 3, "h", 1, ""));
	put_backup("h-%s-202403%02d.tar", 2, PITR_CODEC_GZIP, meta_text(2, 1, 4, 5, "h", 1,
		   "base=pitrkit h 2024-03-01\nchain=pitrkit h 2024-03-01\n"));
	put_backup("h-%s-202403%02d.tar", 3, PITR_CODEC_NONE, meta_text(3, 1, 6, 7, "h", 1,
		   "base=pitrkit h 2024-03-02\nchain=pitrkit h 2024-03-01|pitrkit h 2024-03-02\n"));
	put_backup("h-%s-202403%02d.tar", 4, PITR_CODEC_NONE, meta_text(4, 1, 8, 9, "h", 1,
		   "base=X\n"));
	load(&cat, bk, NULL);
	ck_assert_uint_eq(cat.nbackups, 5);
	ck_assert(!pitr_catalog_is_incremental(&cat.backups[0]));
	ck_assert_int_eq(pitr_catalog_chain_labels(&cat.backups[0], &labels, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(labels);
	b = &cat.backups[3];
	ck_assert_str_eq(b->label, "pitrkit h 2024-03-03");
	ck_assert(pitr_catalog_is_incremental(b));
	ck_assert_int_eq(pitr_catalog_chain_labels(b, &labels, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(labels[0], "pitrkit h 2024-03-01");
	ck_assert_str_eq(labels[1], "pitrkit h 2024-03-02");
	pitr_catalog_chain_labels_free(labels, n);
	ck_assert_int_eq(pitr_catalog_chain_labels(&cat.backups[4], &labels, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(labels[0], "X");
	pitr_catalog_chain_labels_free(labels, n);
	b = pitr_catalog_by_label(&cat, 0, "pitrkit h 2024-03-01", PITR_CODEC_NONE);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->meta_file, "h-meta-20240301.tar");
	b = pitr_catalog_by_label(&cat, 0, "pitrkit h 2024-03-01", PITR_CODEC_GZIP);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->meta_file, "h-meta-20240301.tar.gz");
	b = pitr_catalog_by_label(&cat, 0, "pitrkit h 2024-03-02", PITR_CODEC_NONE);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->meta_file, "h-meta-20240302.tar.gz");
	ck_assert_ptr_null(pitr_catalog_by_label(&cat, 0, "X", PITR_CODEC_NONE));
	ck_assert_ptr_null(pitr_catalog_by_label(&cat, 1, "pitrkit h 2024-03-01", PITR_CODEC_NONE));
	pitr_catalog_free(&cat);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc;

	tc = tcase_create("backups");
	tcase_add_checked_fixture(tc, catalog_fixture_setup, catalog_fixture_teardown);
	tcase_add_test(tc, test_load_backups);
	tcase_add_test(tc, test_digest_names);
	tcase_add_test(tc, test_load_many);
	tcase_add_test(tc, test_load_order_and_segsize_conflict);
	tcase_add_test(tc, test_load_missing_dirs);
	tcase_add_test(tc, test_chain_labels);
	suite_add_tcase(s, tc);

	tc = tcase_create("archive");
	tcase_add_checked_fixture(tc, catalog_fixture_setup, catalog_fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_archive_gaps);
	tcase_add_test(tc, test_archive_segsize_from_later_header);
	tcase_add_test(tc, test_history_problems);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
