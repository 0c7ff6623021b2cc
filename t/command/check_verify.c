/*
 * check_verify.c - unit tests for lib/command/verify/verify.c on synthesized
 * backup and archive directories: a clean set, then one fault at a time
 * (a header byte, a cut gzip file, a gap, another system, a digest that
 * does not match, damaged digest files, a short segment), each with the
 * exact problem lines, summary and return code; the refusals; and the
 * pitr-verify program's exit status.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/verify/verify.h"
#include "compress/codec.h"
#include "delta/delta.h"
#include "delta/delta_fixture.h"
#include "digest/digest.h"
#include "harness.h"
#include "common/log.h"
#include "common/spawn.h"
#include "postgres/wal.h"
#include "tar/tarwrite.h"

#define SEGSIZE (1u << 20)
#define SYSID 7300000000000000001ULL
#define OTHER_SYSID 7300000000000000999ULL

static char bk[4096], arch[4096], arch2[4096];
static char out_path[4096];

static void
setup(void)
{
	h_setup();
	snprintf(bk, sizeof(bk), "%s", h_path("bk"));
	snprintf(arch, sizeof(arch), "%s", h_path("arch"));
	snprintf(arch2, sizeof(arch2), "%s", h_path("arch2"));
	snprintf(out_path, sizeof(out_path), "%s", h_path("report"));
	ck_assert_int_eq(mkdir(bk, 0700), 0);
	ck_assert_int_eq(mkdir(arch, 0700), 0);
	ck_assert_int_eq(mkdir(arch2, 0700), 0);
}

static void
teardown(void)
{
	h_teardown();
}

static int
file_sink(void *ctx, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, ctx) == len ? 0 : -1;
}

/* `buf` compressed with `codec` to `path`. */
static void
write_compressed(const char *path, enum pitr_codec codec, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "w");
	struct pitr_codec_writer *w;

	ck_assert_ptr_nonnull(fp);
	w = pitr_codec_writer_new(codec, 0, 1, file_sink, fp);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(pitr_codec_writer_write(w, buf, len), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(w), 0);
	pitr_codec_writer_free(w);
	ck_assert_int_eq(fclose(fp), 0);
}

static const char *
join(const char *dir, const char *name)
{
	static char ring[4][8192];
	static int next;
	char *p = ring[next++ % 4];

	snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
	return p;
}

/* Segment `segno` of timeline `tli` into `dir`, compressed with `codec`;
 * `mangle` (may be NULL) edits the bytes first.  Returns the path. */
static const char *
segment(const char *dir, uint32_t tli, uint64_t segno, uint64_t sysid, enum pitr_codec codec,
	void (*mangle)(unsigned char *buf))
{
	unsigned char *buf = h_make_segment(SEGSIZE, tli, segno, sysid, (unsigned)segno);
	char name[PITR_WAL_NAME_MAX + 8];
	const char *path;

	pitr_wal_format_segment(name, tli, segno, SEGSIZE);
	strcat(name, pitr_codec_ext(codec));
	path = join(dir, name);
	if (mangle != NULL)
		mangle(buf);
	write_compressed(path, codec, buf, SEGSIZE);
	free(buf);
	return path;
}

/* The archive 1..6 of timeline 1, gzip but for a plain 6, and a backup
 * history file. */
static void
clean_archive(const char *dir)
{
	const char label[] = "START WAL LOCATION: 0/200028 (file 000000010000000000000002)\n";

	for (uint64_t s = 1; s <= 6; s++)
		segment(dir, 1, s, SYSID, s == 6 ? PITR_CODEC_NONE : PITR_CODEC_GZIP, NULL);
	write_compressed(join(dir, "000000010000000000000002.00000028.backup.gz"), PITR_CODEC_GZIP,
			 label, strlen(label));
}

/* A backup "bk-*.tar.gz" of WAL 2 to 3 with the given digests ("" for
 * none): gzip data and xlog files (content need not be a tar here), the
 * digest files as pitr-backup-master writes them, the meta file. */
static void
backup(const char *digests)
{
	char meta[2048], list[128];
	const char *data = "the data tarball", *xlog = "the xlog tarball";

	write_compressed(join(bk, "bk-data.tar.gz"), PITR_CODEC_GZIP, data, strlen(data));
	write_compressed(join(bk, "bk-xlog.tar.gz"), PITR_CODEC_GZIP, xlog, strlen(xlog));
	snprintf(list, sizeof(list), "%s", digests);
	for (char *name = strtok(list, ","); name != NULL; name = strtok(NULL, ",")) {
		char hd[PITR_DIGEST_HEX_MAX], hx[PITR_DIGEST_HEX_MAX], fname[64];
		char *l1, *l2, text[512];

		if (pitr_digest_canonical(name) == NULL)
			continue;   /* a name the test writes the file for itself */
		ck_assert_int_eq(pitr_digest_file(name, join(bk, "bk-data.tar.gz"), hd), 0);
		ck_assert_int_eq(pitr_digest_file(name, join(bk, "bk-xlog.tar.gz"), hx), 0);
		l1 = pitr_digest_line(hd, "bk-data.tar.gz");
		l2 = pitr_digest_line(hx, "bk-xlog.tar.gz");
		snprintf(text, sizeof(text), "%s%s", l1, l2);
		free(l1);
		free(l2);
		snprintf(fname, sizeof(fname), "bk-%s.tar.gz", name);
		h_write_file(join(bk, fname), text, strlen(text));
	}
	snprintf(meta, sizeof(meta),
		 "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
		 "start_lsn=0/200028\nstop_lsn=0/300100\nstart_time=2026-01-01 00:00:00 +0000\n"
		 "stop_time=2026-01-01 00:01:00 +0000\nstart_epoch=1767225600\nstop_epoch=1767225660\n"
		 "host=h\nlabel=pitrkit h\nsystem_identifier=%llu\ntimeline=1\n"
		 "wal_segment_size=%u\ndata_dir=/d\ndata_size=10240\nxlog_size=2099200\n"
		 "codec=gzip\ndigests=%s\n", (unsigned long long)SYSID, SEGSIZE, digests);
	write_compressed(join(bk, "bk-meta.tar.gz"), PITR_CODEC_GZIP, meta, strlen(meta));
}

/* Run the verification; the report in *report (static). */
static int
verify(const char *bdir, const char **archives, size_t n, const char **report)
{
	static char *text;
	struct pitr_verify_opts o = { .backup_dir = bdir, .archives = archives, .narchives = n };
	size_t len;
	int rc;

	o.out = fopen(out_path, "w");
	ck_assert_ptr_nonnull(o.out);
	rc = pitr_cmd_verify(&o);
	ck_assert_int_eq(fclose(o.out), 0);
	free(text);
	text = h_read_file(out_path, &len);
	*report = text;
	return rc;
}

static int
verify1(const char **report)
{
	const char *a[] = { arch };

	return verify(bk, a, 1, report);
}

START_TEST(test_clean)
{
	const char *r;

	backup("MD5,SHA-256");
	clean_archive(arch);
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "1 backups, 6 segments checked, 0 problems\n");
	ck_assert_str_eq(h_log(), "");
	/* No backup dir: the archive alone; a "CODEC=" prefix is accepted. */
	{
		char a[4200];
		const char *as[] = { a };

		snprintf(a, sizeof(a), "gzip=%s", arch);
		ck_assert_int_eq(verify(NULL, as, 1, &r), 0);
		ck_assert_str_eq(r, "0 backups, 6 segments checked, 0 problems\n");
	}
	/* A backup without digests: its streams are read whole instead. */
	unlink(join(bk, "bk-MD5.tar.gz"));
	unlink(join(bk, "bk-SHA-256.tar.gz"));
	backup("");
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "1 backups, 6 segments checked, 0 problems\n");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

static void
bad_pageaddr(unsigned char *buf)
{
	buf[10] = 0x50;   /* page address bits 16-23: 0x40 -> 0x50 */
}

/* A backup whose meta file never arrived (its run was killed while
 * publishing): its data, xlog and digest files are orphans, reported,
 * never a backup (issue 9). */
START_TEST(test_orphans)
{
	const char *r;
	char want[16384];

	backup("SHA-256");
	clean_archive(arch);
	ck_assert_int_eq(unlink(join(bk, "bk-meta.tar.gz")), 0);
	ck_assert_int_eq(verify1(&r), 1);
	/* No journal names them: foreign, still a problem (one line). */
	snprintf(want, sizeof(want), "PROBLEM: backup files without meta in \"%s\": "
		 "\"bk-SHA-256.tar.gz\", \"bk-data.tar.gz\", \"bk-xlog.tar.gz\", named by no pitrkit "
		 "run's journal (OmniPITR's? a remote run's?): never removed by pitrkit, remove them "
		 "by hand if unwanted\n"
		 "0 backups, 6 segments checked, 1 problems\n", bk);
	ck_assert_str_eq(r, want);
	/* A dead run's journal names them: its orphans. */
	h_put_journal(bk, "t", "bk-meta.tar.gz", "bk-data.tar.gz", "bk-xlog.tar.gz",
		      "bk-SHA-256.tar.gz", NULL);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: orphan backup files without meta in \"%s\": "
		 "\"bk-SHA-256.tar.gz\", \"bk-data.tar.gz\", \"bk-xlog.tar.gz\", left by an interrupted "
		 "backup\n0 backups, 6 segments checked, 1 problems\n", bk);
	ck_assert_str_eq(r, want);
	/* A file naming no backup file type is no orphan. */
	ck_assert_int_eq(unlink(join(bk, "bk-SHA-256.tar.gz")), 0);
	ck_assert_int_eq(unlink(join(bk, "bk-data.tar.gz")), 0);
	ck_assert_int_eq(unlink(join(bk, "bk-xlog.tar.gz")), 0);
	h_write_file(join(bk, "README"), "x", 1);
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "0 backups, 6 segments checked, 0 problems\n");
}
END_TEST

START_TEST(test_bad_header)
{
	const char *r;
	char want[16384], p[8192];

	backup("SHA-256");
	clean_archive(arch);
	snprintf(p, sizeof(p), "%s", segment(arch, 1, 4, SYSID, PITR_CODEC_NONE, bad_pageaddr));
	unlink(join(arch, "000000010000000000000004.gz"));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: archive file \"%s\": bad WAL header\n"
		 "1 backups, 6 segments checked, 1 problems\n", p);
	ck_assert_str_eq(r, want);
	snprintf(want, sizeof(want), "ERROR : \"%s\" has page address 0/500000 but its name says "
		 "0/400000\n", p);
	ck_assert_str_eq(h_log(), want);
}
END_TEST

START_TEST(test_truncated_gzip)
{
	const char *r;
	char want[16384], p[8192];

	backup("SHA-256");
	clean_archive(arch);
	snprintf(p, sizeof(p), "%s", join(arch, "000000010000000000000005.gz"));
	{
		struct stat st;

		ck_assert_int_eq(stat(p, &st), 0);
		ck_assert_int_eq(truncate(p, st.st_size / 2), 0);
	}
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: archive file \"%s\": not a complete gzip stream\n"
		 "1 backups, 6 segments checked, 1 problems\n", p);
	ck_assert_str_eq(r, want);
	/* The codec's own words are in the log, naming the file. */
	snprintf(want, sizeof(want), "ERROR : \"%s\"", p);
	ck_assert_ptr_nonnull(strstr(h_log(), want));
	ck_assert_int_eq((int)(strchr(h_log(), '\n') - h_log() + 1), (int)strlen(h_log()));
}
END_TEST

START_TEST(test_gap)
{
	const char *r;
	char want[16384];

	backup("SHA-256");
	clean_archive(arch);
	unlink(join(arch, "000000010000000000000005.gz"));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: archive \"%s\": segment 000000010000000000000005 is missing (a gap in "
		 "timeline 1)\n"
		 "PROBLEM: archive \"%s\": first missing segment 000000010000000000000005 needed by "
		 "backup bk-*.tar.gz\n"
		 "1 backups, 5 segments checked, 2 problems\n", arch, arch);
	ck_assert_str_eq(r, want);
	/* Two missing, and one before the backup's stop, which its xlog
	 * tarball holds: only the gap. */
	unlink(join(arch, "000000010000000000000004.gz"));
	segment(arch, 1, 5, SYSID, PITR_CODEC_GZIP, NULL);
	unlink(join(arch, "000000010000000000000003.gz"));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: archive \"%s\": segments 000000010000000000000003 to "
		 "000000010000000000000004 are missing (a gap in timeline 1)\n"
		 "PROBLEM: archive \"%s\": first missing segment 000000010000000000000004 needed by "
		 "backup bk-*.tar.gz\n"
		 "1 backups, 4 segments checked, 2 problems\n", arch, arch);
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --json: one document with every check's result and every problem, the
 * schema man/pitr-verify.1 documents, read back by python3's json module;
 * the exit code as without it (issue 11). */
START_TEST(test_json)
{
	struct pitr_verify_opts o = { .backup_dir = bk, .narchives = 1, .json = true };
	const char *a[] = { arch };
	char *text, out[4096];
	size_t len;
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "assert list(d)==['backup_dir','archives','ok','summary','checks','problems'], list(d)\n"
			 "assert list(d['summary'])==['backups','segments_checked','problems']\n"
			 "keys=['id','check','target','method','segments','ok','problems']\n"
			 "assert all(list(c)==keys for c in d['checks'])\n"
			 "assert all(list(p)==['check','kind','path','reason','line'] for p in d['problems'])\n"
			 "assert all(c['id']==i for i,c in enumerate(d['checks']))\n"
			 "print(d['backup_dir']==sys.argv[2], d['archives']==[sys.argv[3]], d['ok'],"
			 " d['summary'])\n"
			 "for c in d['checks']: print(c['check'], c['target'] if c['check']=='backup' else"
			 " c['target'] in sys.argv[2:], c['method'],"
			 " c['segments'], c['ok'], c['problems'])\n"
			 "for p in d['problems']: print(d['checks'][p['check']]['check'], p['kind'],"
			 " p['path']==sys.argv[3], p['reason'], p['line']==p['kind']+' \"'+p['path']+'\": '+p['reason'])\n",
			 (char *)out_path, bk, arch, NULL };

	backup("SHA-256");
	clean_archive(arch);
	unlink(join(arch, "000000010000000000000005.gz"));
	o.archives = a;
	o.out = fopen(out_path, "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_verify(&o), 1);
	ck_assert_int_eq(fclose(o.out), 0);
	text = h_read_file(out_path, &len);
	ck_assert_ptr_null(strstr(text, "PROBLEM:"));
	free(text);
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
		"True True False {'backups': 1, 'segments_checked': 5, 'problems': 2}\n"
		"backup directory True None None True 0\n"
		"temporary files True None None True 0\n"
		"backup bk-*.tar.gz digests None True 0\n"
		"archive directory True None None True 0\n"
		"temporary files True None None True 0\n"
		"archive files True None 5 True 0\n"
		"archive gaps True None None False 2\n"
		"archive gaps archive True segment 000000010000000000000005 is missing (a gap in "
		"timeline 1) True\n"
		"archive gaps archive True first missing segment 000000010000000000000005 needed by "
		"backup bk-*.tar.gz True\n");
	/* Nothing wrong: ok, exit 0. */
	segment(arch, 1, 5, SYSID, PITR_CODEC_GZIP, NULL);
	o.out = fopen(out_path, "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_verify(&o), 0);
	ck_assert_int_eq(fclose(o.out), 0);
	text = h_read_file(out_path, &len);
	ck_assert_ptr_nonnull(strstr(text, "\n  \"ok\": true,\n"));
	ck_assert_ptr_nonnull(strstr(text, "\n  \"problems\": []\n}\n"));
	free(text);
}
END_TEST

START_TEST(test_other_system)
{
	const char *r;
	char want[16384], p[8192];
	const char *a[] = { arch };

	backup("SHA-256");
	clean_archive(arch);
	snprintf(p, sizeof(p), "%s", segment(arch, 1, 3, OTHER_SYSID, PITR_CODEC_GZIP, NULL));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: archive file \"%s\": system identifier %llu, not the "
		 "%llu of backup bk-*.tar.gz\n1 backups, 6 segments checked, 1 problems\n", p,
		 (unsigned long long)OTHER_SYSID, (unsigned long long)SYSID);
	ck_assert_str_eq(r, want);
	/* Without backups the first segment is the reference. */
	ck_assert_int_eq(verify(NULL, a, 1, &r), 1);
	snprintf(want, sizeof(want), "PROBLEM: archive file \"%s\": system identifier %llu, not the "
		 "%llu of archive file \"%s\"\n0 backups, 6 segments checked, 1 problems\n", p,
		 (unsigned long long)OTHER_SYSID, (unsigned long long)SYSID,
		 join(arch, "000000010000000000000001.gz"));
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_digest_mismatch)
{
	const char *r, *data = "the data tarball, changed";
	char want[16384], md5[PITR_DIGEST_HEX_MAX], sha[PITR_DIGEST_HEX_MAX];
	char old_md5[PITR_DIGEST_HEX_MAX], old_sha[PITR_DIGEST_HEX_MAX];

	backup("MD5,SHA-256");
	clean_archive(arch);
	ck_assert_int_eq(pitr_digest_file("MD5", join(bk, "bk-data.tar.gz"), old_md5), 0);
	ck_assert_int_eq(pitr_digest_file("SHA-256", join(bk, "bk-data.tar.gz"), old_sha), 0);
	write_compressed(join(bk, "bk-data.tar.gz"), PITR_CODEC_GZIP, data, strlen(data));
	ck_assert_int_eq(pitr_digest_file("MD5", join(bk, "bk-data.tar.gz"), md5), 0);
	ck_assert_int_eq(pitr_digest_file("SHA-256", join(bk, "bk-data.tar.gz"), sha), 0);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: backup file \"%s\": MD5 is %s, its digest file says %s\n"
		 "PROBLEM: backup file \"%s\": SHA-256 is %s, its digest file says %s\n"
		 "1 backups, 6 segments checked, 2 problems\n", join(bk, "bk-data.tar.gz"), md5,
		 old_md5, join(bk, "bk-data.tar.gz"), sha, old_sha);
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_digest_files)
{
	const char *r;
	char want[16384], text[1024];
	size_t len;
	char *orig;

	backup("MD5,SHA-256");
	clean_archive(arch);
	/* A malformed line; a file that lists only the data file. */
	h_write_file(join(bk, "bk-MD5.tar.gz"), "not a digest line\n", 18);
	orig = h_read_file(join(bk, "bk-SHA-256.tar.gz"), &len);
	*strchr(orig, '\n') = '\0';
	snprintf(text, sizeof(text), "%s\n", orig);
	free(orig);
	h_write_file(join(bk, "bk-SHA-256.tar.gz"), text, strlen(text));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: digest file \"%s\": a line is not in md5sum -c format\n"
		 "PROBLEM: digest file \"%s\": does not list \"bk-xlog.tar.gz\"\n"
		 "1 backups, 6 segments checked, 2 problems\n", join(bk, "bk-MD5.tar.gz"),
		 join(bk, "bk-SHA-256.tar.gz"));
	ck_assert_str_eq(r, want);
	/* A missing one is the catalog's problem, printed once though two
	 * archives are checked. */
	unlink(join(bk, "bk-MD5.tar.gz"));
	clean_archive(arch2);
	{
		const char *a[] = { arch, arch2 };
		const char *line;

		ck_assert_int_eq(verify(bk, a, 2, &r), 1);
		line = strstr(r, "PROBLEM: meta file \"");
		ck_assert_ptr_nonnull(line);
		ck_assert_ptr_nonnull(strstr(line, "bk-MD5.tar.gz"));
		ck_assert_ptr_null(strstr(line + 1, "PROBLEM: meta file"));
		ck_assert_ptr_nonnull(strstr(r, "\n1 backups, 12 segments checked, 2 problems\n"));
	}
	/* An unreadable one (a directory in its place). */
	ck_assert_int_eq(mkdir(join(bk, "bk-MD5.tar.gz"), 0700), 0);
	h_log_reset();
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: digest file \"%s\": could not be read\n",
		 join(bk, "bk-MD5.tar.gz"));
	ck_assert_ptr_nonnull(strstr(r, want));
	ck_assert_ptr_nonnull(strstr(h_log(), join(bk, "bk-MD5.tar.gz")));
}
END_TEST

START_TEST(test_unknown_digest)
{
	const char *r;
	char want[16384];

	backup("SHA-256,WHIRLPOOL");
	h_write_file(join(bk, "bk-WHIRLPOOL.tar.gz"), "", 0);
	clean_archive(arch);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: meta file \"%s\": names an unknown digest \"WHIRLPOOL\"\n"
		 "1 backups, 6 segments checked, 1 problems\n", join(bk, "bk-meta.tar.gz"));
	ck_assert_str_eq(r, want);
}
END_TEST

/* A backup pitrkit took before issue 11: its digest file without the
 * codec's extension and in text mode ("HEX  NAME"), still verified, and
 * still caught when a file no longer matches. */
START_TEST(test_old_digest_files)
{
	const char *r;
	char *text, *star;

	backup("SHA-256");
	clean_archive(arch);
	text = h_read_file(join(bk, "bk-SHA-256.tar.gz"), NULL);
	for (star = strstr(text, " *"); star != NULL; star = strstr(star, " *"))
		star[1] = ' ';
	ck_assert_int_eq(unlink(join(bk, "bk-SHA-256.tar.gz")), 0);
	h_write_file(join(bk, "bk-SHA-256.tar"), text, strlen(text));
	free(text);
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "1 backups, 6 segments checked, 0 problems\n");
	write_compressed(join(bk, "bk-xlog.tar.gz"), PITR_CODEC_GZIP, "changed", 7);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_ptr_nonnull(strstr(r, "SHA-256 is "));
}
END_TEST

START_TEST(test_backup_streams)
{
	const char *r;
	char want[16384], p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s", join(bk, "bk-xlog.tar.gz"));
	backup("");
	clean_archive(arch);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(truncate(p, st.st_size - 3), 0);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: backup file \"%s\": not a complete gzip stream\n"
		 "1 backups, 6 segments checked, 1 problems\n", p);
	ck_assert_str_eq(r, want);
	snprintf(want, sizeof(want), "ERROR : \"%s\"", p);
	ck_assert_ptr_nonnull(strstr(h_log(), want));
}
END_TEST

static void
second_system(unsigned char *buf)
{
	/* The system identifier, little-endian at byte 24: one bit off. */
	buf[24] ^= 1;
}

START_TEST(test_sizes_and_partials)
{
	const char *r;
	char want[40000], p1[8192], p3[8192], p6[8192], p7[8192], p8[8192];
	unsigned char *buf;

	snprintf(p6, sizeof(p6), "%s", join(arch, "000000010000000000000006"));
	snprintf(p7, sizeof(p7), "%s", join(arch, "000000010000000000000007.partial"));
	snprintf(p8, sizeof(p8), "%s", join(arch, "000000010000000000000008.partial.gz"));
	backup("SHA-256");
	clean_archive(arch);
	snprintf(p1, sizeof(p1), "%s", join(arch, "000000010000000000000001.gz"));
	ck_assert_int_eq(truncate(p6, SEGSIZE / 2), 0);
	/* A partial is judged by its header only, but its stream must be
	 * whole. */
	buf = h_make_segment(SEGSIZE, 1, 7, SYSID, 7);
	h_write_file(p7, buf, SEGSIZE / 4);
	free(buf);
	buf = h_make_segment(SEGSIZE, 1, 8, SYSID, 8);
	second_system(buf);
	write_compressed(p8, PITR_CODEC_GZIP, buf, SEGSIZE);
	free(buf);
	write_compressed(p1, PITR_CODEC_GZIP, "short", 5);
	/* A whole, valid segment of a 2 MiB cluster. */
	buf = h_make_segment(2 * SEGSIZE, 1, 3, SYSID, 3);
	unlink(join(arch, "000000010000000000000003.gz"));
	snprintf(p3, sizeof(p3), "%s", join(arch, "000000010000000000000003"));
	h_write_file(p3, buf, 2 * SEGSIZE);
	free(buf);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: archive file \"%s\": 5 bytes, too short for a WAL segment\n"
		 "PROBLEM: archive file \"%s\": segment size 2097152 in its header, not the archive's "
		 "1048576\n"
		 "PROBLEM: archive file \"%s\": 524288 bytes, not the segment size 1048576\n"
		 "PROBLEM: archive file \"%s\": system identifier %llu, not the %llu of backup "
		 "bk-*.tar.gz\n"
		 "1 backups, 8 segments checked, 4 problems\n", p1, p3, p6, p8,
		 (unsigned long long)(SYSID ^ 1), (unsigned long long)SYSID);
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* Timeline 2 branches off at 0/500000 (segment 5): the backup of
 * timeline 1 needs 1's segment 4 and then 2's. */
START_TEST(test_timelines)
{
	const char *hist = "1\t0/500000\tno recovery target specified\n";
	const char *r;
	char want[16384];

	backup("SHA-256");
	for (uint64_t s = 1; s <= 5; s++)
		segment(arch, 1, s, SYSID, PITR_CODEC_GZIP, NULL);
	for (uint64_t s = 5; s <= 8; s++)
		segment(arch, 2, s, SYSID, PITR_CODEC_ZSTD, NULL);
	write_compressed(join(arch, "00000002.history.gz"), PITR_CODEC_GZIP, hist, strlen(hist));
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "1 backups, 9 segments checked, 0 problems\n");
	unlink(join(arch, "000000020000000000000007.zst"));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want),
		 "PROBLEM: archive \"%s\": segment 000000020000000000000007 is missing (a gap in "
		 "timeline 2)\n"
		 "PROBLEM: archive \"%s\": first missing segment 000000020000000000000007 needed by "
		 "backup bk-*.tar.gz\n"
		 "1 backups, 8 segments checked, 2 problems\n", arch, arch);
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "");
	/* A damaged history file is the catalog's problem, printed as such. */
	write_compressed(join(arch, "00000002.history.gz"), PITR_CODEC_GZIP, "junk\n", 5);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: history file \"%s\"", join(arch, "00000002.history.gz"));
	ck_assert_ptr_nonnull(strstr(r, want));
}
END_TEST

/* A meta file of before wal_segment_size and an archive with no segment:
 * what the backup needs cannot be known. */
START_TEST(test_unknown_segsize)
{
	const char *meta = "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
		"start_lsn=0/200028\nstop_lsn=0/300100\nstart_time=2026-01-01 00:00:00 +0000\n"
		"stop_time=2026-01-01 00:01:00 +0000\nhost=h\nlabel=l\n"
		"system_identifier=7300000000000000001\ntimeline=1\ndata_dir=/d\ndata_size=1\n"
		"xlog_size=1\ncodec=gzip\ndigests=\n";
	const char *r;
	char want[16384];

	backup("");
	write_compressed(join(bk, "bk-meta.tar.gz"), PITR_CODEC_GZIP, meta, strlen(meta));
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: archive \"%s\": the WAL backup bk-*.tar.gz needs cannot "
		 "be checked\n1 backups, 0 segments checked, 1 problems\n", arch);
	ck_assert_str_eq(r, want);
	ck_assert_str_eq(h_log(), "ERROR : backup \"bk-*.tar.gz\": the segment size is unknown (not in "
			 "its meta file, no segment in the archive)\n");
}
END_TEST

START_TEST(test_refusals)
{
	const char *r;
	const char *missing[] = { h_path("nothere") };
	const char *badcodec[] = { "rar=/x" };
	struct pitr_verify_opts o = { .backup_dir = bk };
	char want[8192];

	ck_assert_int_eq(pitr_cmd_verify(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --archive given: pitr-verify needs at least one\n");
	h_log_reset();
	ck_assert_int_eq(verify(bk, missing, 1, &r), -1);
	ck_assert_str_eq(r, "");
	snprintf(want, sizeof(want), "\"%s\"", missing[0]);
	ck_assert_ptr_nonnull(strstr(h_log(), want));
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : "));
	h_log_reset();
	ck_assert_int_eq(verify(bk, badcodec, 1, &r), -1);
	ck_assert_str_eq(r, "");
	ck_assert_str_eq(h_log(), "ERROR : unknown compression \"rar\" in --archive \"rar=/x\": "
			 "expected none, gzip, bzip2, lzma, xz, lz4 or zstd\n");
}
END_TEST

/* A crafted file name cannot add report lines: one problem, one line,
 * its control bytes escaped. */
START_TEST(test_problem_names_escaped)
{
	const char *r;
	char want[16384];

	backup("SHA-256");
	clean_archive(arch);
	h_write_file(join(bk, "x\nPROBLEM: fake-meta-1.tar"), "hello\n", 6);
	h_write_file(join(bk, "x\nPROBLEM: fake-data-1.tar"), "d", 1);
	ck_assert_int_eq(verify1(&r), 1);
	snprintf(want, sizeof(want), "PROBLEM: meta file \"%s/x\\nPROBLEM: fake-meta-1.tar\": not a "
		 "pitrkit meta file\n1 backups, 6 segments checked, 1 problems\n", bk);
	ck_assert_str_eq(r, want);
}
END_TEST

/* ---- chains of incremental backups (issue 13) ---- */

#define KEY_A "data/base/1/100"   /* 2.5 MiB: chunks 0, 1 and a half 2 */
#define KEY_B "data/base/1/200"   /* 16 KiB, never changed */
#define SIZE_A (2 * PITR_DELTA_CHUNK + PITR_DELTA_CHUNK / 2)
#define SIZE_B (2 * PITR_DELTA_BLOCK)

static int
writer_sink(void *ctx, const void *buf, size_t len)
{
	return pitr_codec_writer_write(ctx, buf, len);
}

/* A gzip writer onto `path`: *fp is the file, closed by gz_close(). */
static struct pitr_codec_writer *
gz_open(const char *path, FILE **fp)
{
	struct pitr_codec_writer *w;

	*fp = fopen(path, "w");
	ck_assert_ptr_nonnull(*fp);
	w = pitr_codec_writer_new(PITR_CODEC_GZIP, 0, 1, file_sink, *fp);
	ck_assert_ptr_nonnull(w);
	return w;
}

static void
gz_close(struct pitr_codec_writer *w, FILE *fp)
{
	ck_assert_int_eq(pitr_codec_writer_finish(w), 0);
	pitr_codec_writer_free(w);
	ck_assert_int_eq(fclose(fp), 0);
}

/* `len` bytes of file content, different for each `seed`. */
static unsigned char *
content(size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)((i * 31 + seed * 7) ^ (i >> 13));
	return buf;
}

/* The sig file of full backup LABEL: A and B whole. */
static void
full_sig(const char *label, uint64_t sysid)
{
	struct pitr_delta_sigwriter *sw = pitr_delta_sigwriter_new(h_path("tmp"), sysid, label, NULL);
	unsigned char *a = content(SIZE_A, 1), *b = content(SIZE_B, 2);
	struct pitr_codec_writer *w;
	FILE *fp;

	ck_assert_ptr_nonnull(sw);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(sw, KEY_A), 0);
	df_whole_chunks(sw, a, SIZE_A);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(sw), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(sw, KEY_B), 0);
	df_whole_chunks(sw, b, SIZE_B);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(sw), 0);
	w = gz_open(join(bk, h_fmt("bk-sig-%s.tar.gz", label)), &fp);
	ck_assert_int_eq(pitr_delta_sigwriter_finish(sw, writer_sink, w), 0);
	gz_close(w, fp);
	pitr_delta_sigwriter_free(sw);
	free(a);
	free(b);
}

/* The sig file of incremental LABEL on BASE: chunk k of A changed (its
 * content seed `seed`), B the same. */
static void
incr_sig(const char *label, const char *base, uint64_t sysid, uint32_t k, unsigned seed)
{
	struct pitr_delta_sigwriter *sw = pitr_delta_sigwriter_new(h_path("tmp"), sysid, label, base);
	unsigned char *chunk = content(PITR_DELTA_CHUNK, seed);
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD], dig[PITR_DELTA_DIGEST];
	struct pitr_codec_writer *w;
	FILE *fp;

	ck_assert_ptr_nonnull(sw);
	ck_assert_int_eq(pitr_delta_chunk_sig(chunk, PITR_DELTA_CHUNK, rec), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest(chunk, PITR_DELTA_CHUNK, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(sw, KEY_A, k, rec,
							  PITR_DELTA_CHUNK_BLOCKS, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_end(sw, KEY_A, SIZE_A), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_same(sw, KEY_B, SIZE_B), 0);
	w = gz_open(join(bk, h_fmt("bk-sig-%s.tar.gz", label)), &fp);
	ck_assert_int_eq(pitr_delta_sigwriter_finish(sw, writer_sink, w), 0);
	gz_close(w, fp);
	pitr_delta_sigwriter_free(sw);
	free(chunk);
}

/* Data tarball of backup LABEL holding "backup_label" and the members
 * named in `members` (NULL-terminated; may be NULL). */
static void
chain_data(const char *label, const char *const *members)
{
	struct pitr_codec_writer *w;
	struct pitr_tarwrite *t;
	FILE *fp;

	w = gz_open(join(bk, h_fmt("bk-data-%s.tar.gz", label)), &fp);
	t = pitr_tarwrite_new(writer_sink, w);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "backup_label", "label\n", 6, 0600), 0);
	for (size_t i = 0; members != NULL && members[i] != NULL; i++)
		ck_assert_int_eq(pitr_tarwrite_add_buffer(t, members[i], "chunk", 5, 0600), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	pitr_tarwrite_free(t);
	gz_close(w, fp);
}

/* The meta's digests line chain_meta() writes. */
static const char *chain_digests = "";

/* Meta of backup LABEL taken on day `day` (2: WAL 2, 3: WAL 3...), no
 * digests, no xlog file. */
static void
chain_meta(const char *label, int day, const char *base, const char *chain)
{
	char meta[2048];

	snprintf(meta, sizeof(meta),
		 "start_wal=00000001000000000000000%d\nstop_wal=00000001000000000000000%d\n"
		 "start_lsn=0/%d00028\nstop_lsn=0/%d00100\nstart_time=2026-01-0%d 00:00:00 +0000\n"
		 "stop_time=2026-01-0%d 00:01:00 +0000\nstart_epoch=%d\nstop_epoch=%d\n"
		 "host=h\nlabel=%s\nsystem_identifier=%llu\ntimeline=1\n"
		 "wal_segment_size=%u\ndata_dir=/d\ndata_size=10240\nxlog_size=0\n"
		 "codec=gzip\ndigests=%s\nbase=%s\nchain=%s\n", day, day, day, day, day, day,
		 1767225600 + day * 86400, 1767225660 + day * 86400, label,
		 (unsigned long long)SYSID, SEGSIZE, chain_digests, base, chain);
	write_compressed(join(bk, h_fmt("bk-meta-%s.tar.gz", label)), PITR_CODEC_GZIP, meta,
			 strlen(meta));
}

/* F (full), I1 on F (chunk 1 of A changed), I2 on I1 (chunk 0), each with
 * its sig file and data tarball; the archive 1..6. */
static void
make_chain(void)
{
	static const char *const i1[] = { ".pitrkit/" KEY_A "/1.d", NULL };
	static const char *const i2[] = { ".pitrkit/" KEY_A "/0.w", NULL };

	ck_assert_int_eq(mkdir(h_path("tmp"), 0700), 0);
	chain_meta("F", 2, "", "");
	chain_data("F", NULL);
	full_sig("F", SYSID);
	chain_meta("I1", 3, "F", "F");
	chain_data("I1", i1);
	incr_sig("I1", "F", SYSID, 1, 3);
	chain_meta("I2", 4, "I1", "F|I1");
	chain_data("I2", i2);
	incr_sig("I2", "I1", SYSID, 0, 4);
	clean_archive(arch);
}

/* A whole chain verifies; in JSON, one "chain" check, from its newest
 * member. */
START_TEST(test_chain_clean)
{
	struct pitr_verify_opts o = { .backup_dir = bk, .narchives = 1, .json = true };
	const char *r, *a[] = { arch };
	char out[4096];
	char *argv[] = { "python3", "-c",
			 "import json,sys\n"
			 "d=json.load(open(sys.argv[1], encoding='utf-8'))\n"
			 "print(d['ok'], [(c['target'], c['method']) for c in d['checks'] if c['check']=='chain'])",
			 (char *)out_path, NULL };

	make_chain();
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "3 backups, 6 segments checked, 0 problems\n");
	ck_assert_str_eq(h_log(), "");
	o.archives = a;
	o.out = fopen(out_path, "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_verify(&o), 0);
	ck_assert_int_eq(fclose(o.out), 0);
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "True [('bk-*-I2.tar.gz', 'signatures')]\n");
}
END_TEST

/* The chain's full backup gone: both incrementals name it. */
START_TEST(test_chain_missing_base)
{
	const char *r;

	make_chain();
	ck_assert_int_eq(unlink(join(bk, "bk-meta-F.tar.gz")), 0);
	ck_assert_int_eq(unlink(join(bk, "bk-data-F.tar.gz")), 0);
	ck_assert_int_eq(unlink(join(bk, "bk-sig-F.tar.gz")), 0);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt(
		"PROBLEM: meta file \"%s/bk-meta-I1.tar.gz\": its chain needs backup \"F\", which is "
		"not in the backup dir\n"
		"PROBLEM: meta file \"%s/bk-meta-I2.tar.gz\": its chain needs backup \"F\", which is "
		"not in the backup dir\n"
		"2 backups, 6 segments checked, 2 problems\n", bk, bk));
}
END_TEST

/* A sig file cut short, and a base without one. */
START_TEST(test_chain_bad_sigs)
{
	const char *r;
	char *text;
	size_t len;

	make_chain();
	text = h_read_file(join(bk, "bk-sig-I1.tar.gz"), &len);
	h_write_file(join(bk, "bk-sig-I1.tar.gz"), text, len / 2);
	free(text);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt("PROBLEM: backup file \"%s/bk-sig-I1.tar.gz\": not a readable sig "
				  "file\n3 backups, 6 segments checked, 1 problems\n", bk));
	ck_assert_ptr_nonnull(strstr(h_log(), "bk-sig-I1.tar.gz"));
	h_log_reset();
	ck_assert_int_eq(unlink(join(bk, "bk-sig-I1.tar.gz")), 0);
	ck_assert_int_eq(unlink(join(bk, "bk-sig-F.tar.gz")), 0);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt(
		"PROBLEM: meta file \"%s/bk-meta-I1.tar.gz\": an incremental backup without its sig "
		"file\n"
		"PROBLEM: meta file \"%s/bk-meta-F.tar.gz\": the base of an incremental backup, but it "
		"has no sig file\n"
		"3 backups, 6 segments checked, 2 problems\n", bk, bk));
}
END_TEST

/* I1's data tarball lacks the chunk its manifest lists and holds one it
 * does not; I2's holds a member that is no chunk's. */
START_TEST(test_chain_members)
{
	static const char *const i1[] = { ".pitrkit/" KEY_A "/2.d", ".pitrkit/" KEY_B "/0.w",
					  NULL };
	static const char *const i2[] = { ".pitrkit/" KEY_A "/0.w", ".pitrkit/" KEY_A "/0.d",
					  ".pitrkit/junk", NULL };
	const char *r;

	make_chain();
	chain_data("I1", i1);
	chain_data("I2", i2);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt(
		"PROBLEM: backup file \"%s/bk-data-I1.tar.gz\": chunk 2 of \"" KEY_A "\": stored, but "
		"not among the chunks its manifest lists\n"
		"PROBLEM: backup file \"%s/bk-data-I1.tar.gz\": chunk 0 of \"" KEY_B "\": stored, but "
		"its manifest does not list the file as stored in chunks\n"
		"PROBLEM: backup file \"%s/bk-data-I1.tar.gz\": chunk 1 of \"" KEY_A "\": listed in "
		"its manifest, but not stored\n"
		"PROBLEM: backup file \"%s/bk-data-I2.tar.gz\": chunk 0 of \"" KEY_A "\": stored twice\n"
		"PROBLEM: backup file \"%s/bk-data-I2.tar.gz\": member \".pitrkit/junk\" is not a chunk "
		"of a changed file\n"
		"3 backups, 6 segments checked, 5 problems\n", bk, bk, bk, bk, bk));
}
END_TEST

/* I1's signatures from another cluster: its manifest disagrees with its
 * meta, and the chain does not compose. */
START_TEST(test_chain_other_cluster)
{
	const char *r;

	make_chain();
	incr_sig("I1", "F", OTHER_SYSID, 1, 3);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt(
		"PROBLEM: backup file \"%s/bk-sig-I1.tar.gz\": system identifier %llu in its manifest, "
		"not its meta file's %llu\n"
		"PROBLEM: meta file \"%s/bk-meta-I2.tar.gz\": its chain of 3 backups does not compose "
		"(the error logged above names the link)\n"
		"3 backups, 6 segments checked, 2 problems\n", bk, (unsigned long long)OTHER_SYSID,
		(unsigned long long)SYSID, bk));
	ck_assert_int_ne(h_log()[0], '\0');
}
END_TEST

/* The digest files list the sig file, as pitr-backup-master writes
 * them: checked with the data file; one that does not list it says so. */
START_TEST(test_chain_sig_digested)
{
	char hd[PITR_DIGEST_HEX_MAX], hs[PITR_DIGEST_HEX_MAX], text[512];
	char *l1, *l2;
	const char *r;

	make_chain();
	chain_digests = "SHA-256";
	chain_meta("F", 2, "", "");
	chain_digests = "";
	ck_assert_int_eq(pitr_digest_file("SHA-256", join(bk, "bk-data-F.tar.gz"), hd), 0);
	ck_assert_int_eq(pitr_digest_file("SHA-256", join(bk, "bk-sig-F.tar.gz"), hs), 0);
	l1 = pitr_digest_line(hd, "bk-data-F.tar.gz");
	l2 = pitr_digest_line(hs, "bk-sig-F.tar.gz");
	snprintf(text, sizeof(text), "%s%s", l1, l2);
	h_write_file(join(bk, "bk-SHA-256-F.tar.gz"), text, strlen(text));
	ck_assert_int_eq(verify1(&r), 0);
	ck_assert_str_eq(r, "3 backups, 6 segments checked, 0 problems\n");
	h_write_file(join(bk, "bk-SHA-256-F.tar.gz"), l1, strlen(l1));
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt("PROBLEM: digest file \"%s/bk-SHA-256-F.tar.gz\": does not list "
				  "\"bk-sig-F.tar.gz\"\n3 backups, 6 segments checked, 1 problems\n",
				  bk));
	free(l1);
	free(l2);
}
END_TEST

/* A full backup no incremental needs has its sig file read too: one of
 * another backup's, then a damaged one. */
START_TEST(test_full_sig_alone)
{
	const char *r;
	char *text;
	size_t len;

	make_chain();
	chain_meta("G", 5, "", "");
	chain_data("G", NULL);
	full_sig("X", SYSID);
	ck_assert_int_eq(rename(join(bk, "bk-sig-X.tar.gz"), join(bk, "bk-sig-G.tar.gz")), 0);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt("PROBLEM: backup file \"%s/bk-sig-G.tar.gz\": its manifest's label "
				  "\"X\" is not its meta file's \"G\"\n"
				  "4 backups, 6 segments checked, 1 problems\n", bk));
	text = h_read_file(join(bk, "bk-sig-G.tar.gz"), &len);
	h_write_file(join(bk, "bk-sig-G.tar.gz"), text, len - 10);
	free(text);
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_str_eq(r, h_fmt("PROBLEM: backup file \"%s/bk-sig-G.tar.gz\": not a readable sig "
				  "file\n4 backups, 6 segments checked, 1 problems\n", bk));
}
END_TEST

/* A meta whose chain does not end with its base, and JSON's chain check. */
START_TEST(test_chain_inconsistent_meta)
{
	const char *r;

	make_chain();
	chain_meta("I2", 4, "I1", "F");
	ck_assert_int_eq(verify1(&r), 1);
	ck_assert_ptr_nonnull(strstr(r, h_fmt("PROBLEM: meta file \"%s/bk-meta-I2.tar.gz\": its chain "
					     "ends with \"F\", not with its base \"I1\"\n", bk)));
}
END_TEST

/* The program: exit 0 clean, 1 with problems (on stdout), 1 refused. */
START_TEST(test_program)
{
	const char *builddir = getenv("PITR_BUILDDIR");
	char prog[4096], out[8192], want[16384];

	ck_assert_ptr_nonnull(builddir);
	snprintf(prog, sizeof(prog), "%s/bin/pitr-verify", builddir);
	backup("SHA-256");
	clean_archive(arch);
	{
		char *argv[] = { prog, "-b", bk, "--archive", arch, NULL };

		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
		ck_assert_str_eq(out, "1 backups, 6 segments checked, 0 problems\n");
		unlink(join(arch, "000000010000000000000005.gz"));
		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 1);
		snprintf(want, sizeof(want), "PROBLEM: archive \"%s\": segment 000000010000000000000005 "
			 "is missing (a gap in timeline 1)\n"
			 "PROBLEM: archive \"%s\": first missing segment 000000010000000000000005 "
			 "needed by backup bk-*.tar.gz\n"
			 "1 backups, 5 segments checked, 2 problems\n", arch, arch);
		ck_assert_str_eq(out, want);
	}
	{
		char *argv[] = { prog, "-b", bk, NULL };

		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 1);
		ck_assert_str_eq(out, "");
	}
	{
		char *argv[] = { prog, "-a", arch, "extra", NULL };

		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 1);
		ck_assert_str_eq(out, "");
	}
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_verify");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_orphans);
	tcase_add_test(tc, test_bad_header);
	tcase_add_test(tc, test_truncated_gzip);
	tcase_add_test(tc, test_gap);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_other_system);
	tcase_add_test(tc, test_digest_mismatch);
	tcase_add_test(tc, test_digest_files);
	tcase_add_test(tc, test_unknown_digest);
	tcase_add_test(tc, test_old_digest_files);
	tcase_add_test(tc, test_backup_streams);
	tcase_add_test(tc, test_sizes_and_partials);
	tcase_add_test(tc, test_timelines);
	tcase_add_test(tc, test_unknown_segsize);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_program);
	tcase_add_test(tc, test_problem_names_escaped);
	tcase_add_test(tc, test_chain_clean);
	tcase_add_test(tc, test_chain_missing_base);
	tcase_add_test(tc, test_chain_bad_sigs);
	tcase_add_test(tc, test_chain_members);
	tcase_add_test(tc, test_chain_other_cluster);
	tcase_add_test(tc, test_chain_inconsistent_meta);
	tcase_add_test(tc, test_chain_sig_digested);
	tcase_add_test(tc, test_full_sig_alone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
