/* check_backup_master.c - pitr-backup-master's run (lib/command/backup/)
 * against the scripted server of t/server/pqfake.h: what it asks, the
 * files it publishes and in which order, what a failure at each step
 * leaves (nothing at a final name, no -x dir, the session finished, which
 * ends the backup on the server), the -x dir's life, stale temporary
 * files, signals, file name templates and digests.  The refusals that
 * come before any server contact are in check_backup.c. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "command/backup/backup.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "compress/codec.h"
#include "digest/digest.h"
#include "harness.h"
#include "postgres/wal.h"
#include "repo/catalog.h"
#include "repo/meta.h"
#include "server/pqfake.h"

/* What the scratch directory holds after a run, whatever its outcome:
 * no -x dir, under its name or renamed away. */
#define SCRATCH_AFTER "arch\ndest\npgdata\nts\n"
#define SCRATCH_AFTER_DEST2 "arch\ndest\ndest2\npgdata\nts\n"

/* pitr-archive --dst-backup at work: the backup's WAL reaches -x once
 * pg_backup_stop has switched segments.  `arg` points to the segments to
 * deliver, a bit mask of segment numbers. */
static void
archive_to_xlogs(void *arg)
{
	unsigned mask = *(const unsigned *)arg;
	char *owner;

	/* The dir exists while the backup runs, holding the owner's pid. */
	owner = h_read_file(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE), NULL);
	ck_assert_str_eq(owner, h_fmt("%ld\n", (long)getpid()));
	free(owner);
	for (uint64_t segno = 0; segno < 32; segno++)
		if (mask & (1u << segno))
			bf_put_segment(bf_xlogs, segno, PITR_CODEC_NONE);
}

static const unsigned both_segments = (1u << 2) | (1u << 3);

/* What the destination held when the session ended. */
static char at_finish[4096];

static void
note_dest(void *arg)
{
	char *l = bf_dir_list(arg);

	snprintf(at_finish, sizeof(at_finish), "%s", l);
	free(l);
}

/* The session of a whole backup of bf_pgdata, the WAL delivered to -x
 * during pg_backup_stop (unless PostgreSQL waits for the archive). */
static void
script_backup(const char *stop_sql, const char *spcmap)
{
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(stop_sql, false, spcmap);
	if (strcmp(stop_sql, BF_STOP_NOWAIT) == 0)
		h_pq_during(archive_to_xlogs, (void *)&both_segments);
	bf_script_finish();
	h_pq_during(note_dest, bf_dest);
}

/* The label of the run, from its "started" line. */
static const char *
run_label(void)
{
	static char label[512];
	const char *p = strstr(h_log(), "LOG : backup \"");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "LOG : backup \"%511[^\"]\" started", label), 1);
	return label;
}

static long long
file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (long long)st.st_size;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of `text` sorted, but for the last `keep`, which stay last in
 * their order; malloc'd. */
static char *
sorted_but_last(const char *text, int keep)
{
	char *copy = strdup(text), *lines[256], *out = NULL, *save = NULL;
	size_t n = 0, size = 0;
	FILE *f = open_memstream(&out, &size);

	ck_assert_ptr_nonnull(f);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
		ck_assert_uint_lt(n, 256);
		lines[n++] = l;
	}
	ck_assert_int_ge((int)n, keep);
	qsort(lines, n - (size_t)keep, sizeof(lines[0]), cmp_line);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[i]);
	ck_assert_int_eq(fclose(f), 0);
	free(copy);
	return out;
}

/* The data tarball of bf_pgdata, in stored order for its end:
 * pg_control after every other file (the tablespace's too), then what
 * pg_backup_stop gave. */
static char *
expected_data_members(const char *spcmap)
{
	const char *ts = bf_ts + 1;  /* "tablespaces" + the absolute path */

	return strdup(h_fmt(
		"pgdata/ 0\npgdata/PG_VERSION 3\npgdata/base/ 0\npgdata/base/5/ 0\n"
		"pgdata/base/5/1259 8\npgdata/global/ 0\npgdata/global/1262 11\n"
		"pgdata/pg_replslot/ 0\npgdata/pg_tblspc/ 0\npgdata/pg_tblspc/16384 0\n"
		"pgdata/pg_wal/ 0\npgdata/pg_wal/archive_status/ 0\npgdata/postgresql.conf 20\n"
		"tablespaces/%s/ 0\ntablespaces/%s/PG_15_202209061/ 0\n"
		"tablespaces/%s/PG_15_202209061/5/ 0\ntablespaces/%s/PG_15_202209061/5/16385 19\n"
		"pgdata/global/pg_control 8192\npgdata/backup_label %zu\n%s",
		ts, ts, ts, ts, strlen(bf_label(false)),
		spcmap ? h_fmt("pgdata/tablespace_map %zu\n", strlen(spcmap)) : ""));
}

static void
assert_data_tar(const char *path, int codec, const char *spcmap)
{
	char *list = bf_tar_list(path, codec);
	char *got = sorted_but_last(list, spcmap ? 3 : 2);
	char *want = expected_data_members(spcmap);
	char *label = bf_tar_member(path, codec, "pgdata/backup_label", NULL);

	ck_assert_str_eq(got, want);
	ck_assert_str_eq(label, bf_label(false));
	free(label);
	if (spcmap != NULL) {
		char *map = bf_tar_member(path, codec, "pgdata/tablespace_map", NULL);

		ck_assert_str_eq(map, spcmap);
		free(map);
	}
	free(list);
	free(got);
	free(want);
}

static void
assert_xlog_tar(const char *path, int codec)
{
	char *list = bf_tar_list(path, codec);

	ck_assert_str_eq(list, "pgdata/pg_wal/" BF_START_WAL " 1048576\n"
			 "pgdata/pg_wal/" BF_STOP_WAL " 1048576\n");
	free(list);
	for (uint64_t segno = 2; segno <= 3; segno++) {
		char name[PITR_WAL_NAME_MAX];
		unsigned char *want = h_make_segment(BF_SEG, 1, segno, BF_SYSID, (unsigned)segno);
		size_t len;
		char *got;

		pitr_wal_format_segment(name, 1, segno, BF_SEG);
		got = bf_tar_member(path, codec, h_fmt("pgdata/pg_wal/%s", name), &len);
		ck_assert_uint_eq(len, BF_SEG);
		ck_assert(memcmp(got, want, BF_SEG) == 0);
		free(got);
		free(want);
	}
}

/* The meta file says what the run did; pitr-info and pitr-recover read
 * it.  `data`: the data file beside it, whose size (uncompressed) the meta
 * gives. */
static void
assert_meta(const char *path, int codec, const char *data, const char *codecs,
	    const char *digests, bool xlogs)
{
	struct pitr_catalog_backup b;
	char err[256], real[PATH_MAX], *text, *tar;
	size_t len;

	memset(&b, 0, sizeof(b));
	text = bf_read(path, codec, NULL);
	ck_assert_msg(pitr_meta_parse(text, path, &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(b.start_wal, BF_START_WAL);
	ck_assert_str_eq(b.stop_wal, BF_STOP_WAL);
	ck_assert_uint_eq(b.start_lsn, 0x200028);
	ck_assert_uint_eq(b.stop_lsn, 0x300100);
	ck_assert_uint_eq(b.sysid, BF_SYSID);
	ck_assert_uint_eq(b.timeline, 1);
	ck_assert_uint_eq(b.segsize, BF_SEG);
	ck_assert_str_eq(b.host, bf_host);
	ck_assert_str_eq(b.label, run_label());
	ck_assert_int_le(b.start_epoch, b.stop_epoch);
	ck_assert_int_le(b.stop_epoch, time(NULL));
	ck_assert_int_ge(b.start_epoch, time(NULL) - 60);
	ck_assert_str_eq(b.codecs, codecs);
	ck_assert_ptr_nonnull(strstr(text, h_fmt("\ndigests=%s\n", digests)));
	/* The data dir's PG_VERSION, and a primary's backup (issue 11). */
	ck_assert_str_eq(b.pg_version, "15");
	ck_assert_str_eq(b.source, "primary");
	ck_assert_ptr_nonnull(realpath(bf_pgdata, real));
	ck_assert_str_eq(b.data_dir, real);
	tar = bf_read(data, codec, &len);
	ck_assert_uint_eq(b.data_size, len);
	free(tar);
	ck_assert_uint_eq(b.xlog_size, xlogs ? 2099200 : 0);
	pitr_meta_clear(&b);
	free(text);
}

/* A failed run leaves nothing: no file in the destination, at a final
 * or a temporary name, and no -x dir. */
static void
assert_nothing_left(void)
{
	char *l = bf_dir_list(bf_dest);

	ck_assert_str_eq(l, "");
	free(l);
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER);
	free(l);
}

/* --- the whole run ----------------------------------------------------- */

START_TEST(test_backup)
{
	struct pitr_backup_opts o;
	char *l;
	const char *label;

	bf_setup();
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	bf_opts(&o);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);

	/* The data, xlog, sig and meta files, published in that order: the meta,
	 * which marks a complete backup, last. */
	label = run_label();
	ck_assert_str_eq(bf_log(), h_fmt(
		"LOG : backup \"%s\" started at " BF_START_LSN "\n"
		"LOG : delivered \"bk-data.tar\" to %s\n"
		"LOG : delivered \"bk-xlog.tar\" to %s\n"
		"LOG : delivered \"bk-sig.tar\" to %s\n"
		"LOG : delivered \"bk-meta.tar\" to %s\n"
		"LOG : backup \"%s\" done: WAL " BF_START_WAL " to " BF_STOP_WAL ", %lld bytes of "
		"data, 2099200 bytes of WAL, to 1 destinations\n",
		label, bf_dest, bf_dest, bf_dest, bf_dest, label, file_size(h_fmt("%s/bk-data.tar", bf_dest))));
	ck_assert_ptr_nonnull(strstr(label, h_fmt("pitrkit %s ", bf_host)));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	free(l);
	/* The session ended with the data file complete but not published,
	 * before the xlog file was begun, the run's journal beside it (gone
	 * since: its meta is in place). */
	ck_assert_msg(strncmp(at_finish, ".pitr-journal.", 14) == 0 &&
		      strchr(at_finish, '\n') != NULL &&
		      strncmp(strchr(at_finish, '\n') + 1, ".pitr-tmp.bk-data.tar.", 22) == 0 &&
		      strchr(strchr(at_finish, '\n') + 1, '\n') == at_finish + strlen(at_finish) - 1,
		      "at the session's end the destination held: %s", at_finish);
	assert_data_tar(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE, NULL);
	assert_xlog_tar(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE);
	assert_meta(h_fmt("%s/bk-meta.tar", bf_dest), PITR_CODEC_NONE, h_fmt("%s/bk-data.tar", bf_dest),
		    "none", "", true);
	/* The -x dir is gone, and so is its renamed self. */
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER);
	free(l);
	bf_teardown();
}
END_TEST

/* -x given with a trailing slash ("DIR/", as shells complete it) is the
 * same dir: made, renamed away and removed, the backup whole. */
START_TEST(test_xlogs_trailing_slash)
{
	struct pitr_backup_opts o;
	char *l;

	bf_setup();
	bf_opts(&o);
	o.xlogs = h_fmt("%s//", bf_xlogs);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	free(l);
	assert_xlog_tar(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE);
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER);
	free(l);
	bf_teardown();
}
END_TEST

/* -sx: no xlog tarball and no -x dir; PostgreSQL waits for the archive.
 * A tablespace map from the server goes into the data tarball. */
/* A backup on timeline 3 carries the history files of 3 and of its
 * ancestor 2 from pg_wal in its data tarball, where pg_basebackup puts
 * them, and no other (issue 9). */
START_TEST(test_timeline_history)
{
	struct pitr_backup_opts o;
	const char *h3 = "1\t0/3000000\tno recovery target specified\n\n"
			 "2\t0/5000000\tno recovery target specified\n";
	const char *h2 = "1\t0/3000000\tno recovery target specified\n";
	const char *label = "START WAL LOCATION: 0/200028 (file 000000030000000000000002)\n"
			    "CHECKPOINT LOCATION: 0/200060\nBACKUP METHOD: streamed\n"
			    "BACKUP FROM: primary\nSTART TIME: 2026-01-01 00:00:00 UTC\n"
			    "LABEL: pitrkit\nSTART TIMELINE: 3\n";
	char *list, *got;

	bf_setup();
	bf_opts(&o);
	o.xlogs = NULL;
	o.skip_xlogs = true;
	h_write_file(h_fmt("%s/pg_wal/00000003.history", bf_pgdata), h3, strlen(h3));
	h_write_file(h_fmt("%s/pg_wal/00000002.history", bf_pgdata), h2, strlen(h2));
	h_write_file(h_fmt("%s/pg_wal/00000004.history", bf_pgdata), h3, strlen(h3));
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	h_pq_exec(BF_STOP_WAIT);
	h_pq_rows(1, 3, BF_STOP_LSN, label, "");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	list = bf_tar_list(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE);
	ck_assert_ptr_nonnull(strstr(list, "pgdata/backup_label "));
	ck_assert_ptr_nonnull(strstr(list, h_fmt("pgdata/pg_wal/00000003.history %zu\n"
						 "pgdata/pg_wal/00000002.history %zu\n", strlen(h3),
						 strlen(h2))));
	ck_assert_ptr_null(strstr(list, "00000004.history"));
	got = bf_tar_member(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE,
			    "pgdata/pg_wal/00000003.history", NULL);
	ck_assert_str_eq(got, h3);
	free(got);
	free(list);
	bf_teardown();
}
END_TEST

START_TEST(test_skip_xlogs)
{
	struct pitr_backup_opts o;
	const char *map = h_fmt("16384 %s\n", "/srv/ts");
	char *l;

	bf_setup();
	bf_opts(&o);
	o.xlogs = NULL;
	o.skip_xlogs = true;
	o.digests = "SHA-256";
	script_backup(BF_STOP_WAIT, map);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt(
		"LOG : backup \"%s\" done: WAL " BF_START_WAL " to " BF_STOP_WAL ", %lld bytes of "
		"data, 0 bytes of WAL (--skip-xlogs: restore with the archive), to 1 destinations\n",
		run_label(), file_size(h_fmt("%s/bk-data.tar", bf_dest)))));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-SHA-256.tar\nbk-data.tar\nbk-meta.tar\nbk-sig.tar\n");
	free(l);
	assert_data_tar(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE, map);
	assert_meta(h_fmt("%s/bk-meta.tar", bf_dest), PITR_CODEC_NONE, h_fmt("%s/bk-data.tar", bf_dest),
		    "none", "SHA-256", false);
	/* The digest file lists the data and sig files. */
	{
		char hex[PITR_DIGEST_HEX_MAX], hs[PITR_DIGEST_HEX_MAX], *d;

		ck_assert_int_eq(pitr_digest_file("SHA-256", h_fmt("%s/bk-data.tar", bf_dest), hex), 0);
		ck_assert_int_eq(pitr_digest_file("SHA-256", h_fmt("%s/bk-sig.tar", bf_dest), hs), 0);
		d = h_read_file(h_fmt("%s/bk-SHA-256.tar", bf_dest), NULL);
		ck_assert_str_eq(d, h_fmt("%s *bk-data.tar\n%s *bk-sig.tar\n", hex, hs));
		free(d);
	}
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER);
	free(l);
	bf_teardown();
}
END_TEST

/* The default template, the data dir the server names, two destinations
 * with their own codecs, and digest files of what each one stores. */
START_TEST(test_template_codecs_digests)
{
	struct pitr_backup_opts o;
	const char *dl[2], *dest2, *h;
	char day[2][16], dd[16], gz_dest2[4200], *l, *found;
	time_t now = time(NULL);
	struct tm tm;

	bf_setup();
	h = bf_host;
	dest2 = strdup(h_path("dest2"));
	ck_assert_int_eq(mkdir(dest2, 0700), 0);
	bf_opts(&o);
	dl[0] = bf_dest;
	snprintf(gz_dest2, sizeof(gz_dest2), "gzip=%s", dest2);
	dl[1] = gz_dest2;
	o.dst_local = dl;
	o.ndst_local = 2;
	o.filename_template = NULL;
	o.data_dir = NULL;
	o.digests = "SHA-256,md5";
	gmtime_r(&now, &tm);
	strftime(day[0], sizeof(day[0]), "%Y-%m-%d", &tm);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(day[1], sizeof(day[1]), "%Y-%m-%d", &tm);
	/* HOST-FILETYPE-YYYY-MM-DD.tar, on the day the run began (which may
	 * be yesterday by now). */
	l = bf_dir_list(bf_dest);
	found = strstr(l, h_fmt("%s-data-", h));
	ck_assert_ptr_nonnull(found);
	snprintf(dd, sizeof(dd), "%.10s", found + strlen(h) + 6);
	ck_assert_msg(strcmp(dd, day[0]) == 0 || strcmp(dd, day[1]) == 0, "day %s", dd);
	ck_assert_str_eq(l, h_fmt("%s-MD5-%s.tar\n%s-SHA-256-%s.tar\n%s-data-%s.tar\n"
				  "%s-meta-%s.tar\n%s-sig-%s.tar\n%s-xlog-%s.tar\n", h, dd, h, dd, h, dd,
				  h, dd, h, dd, h, dd));
	free(l);
	/* The codec's extension on every file, as OmniPITR named them; the
	 * digest files are plain text all the same. */
	l = bf_dir_list(dest2);
	ck_assert_str_eq(l, h_fmt("%s-MD5-%s.tar.gz\n%s-SHA-256-%s.tar.gz\n%s-data-%s.tar.gz\n"
				  "%s-meta-%s.tar.gz\n%s-sig-%s.tar.gz\n%s-xlog-%s.tar.gz\n", h, dd, h,
				  dd, h, dd, h, dd, h, dd, h, dd));
	free(l);
	/* Each destination's digest files list its own files' digests, as
	 * stored. */
	for (int k = 0; k < 2; k++) {
		const char *alg = k == 0 ? "SHA-256" : "MD5";

		for (int dest = 0; dest < 2; dest++) {
			const char *dir = dest == 0 ? bf_dest : dest2, *ext = dest == 0 ? "" : ".gz";
			char hd[PITR_DIGEST_HEX_MAX], hx[PITR_DIGEST_HEX_MAX], hs[PITR_DIGEST_HEX_MAX];
			char dn[512], xn[512], sn[512], *text;

			snprintf(dn, sizeof(dn), "%s-data-%s.tar%s", h, dd, ext);
			snprintf(xn, sizeof(xn), "%s-xlog-%s.tar%s", h, dd, ext);
			snprintf(sn, sizeof(sn), "%s-sig-%s.tar%s", h, dd, ext);
			ck_assert_int_eq(pitr_digest_file(alg, h_fmt("%s/%s", dir, dn), hd), 0);
			ck_assert_int_eq(pitr_digest_file(alg, h_fmt("%s/%s", dir, xn), hx), 0);
			ck_assert_int_eq(pitr_digest_file(alg, h_fmt("%s/%s", dir, sn), hs), 0);
			text = h_read_file(h_fmt("%s/%s-%s-%s.tar%s", dir, h, alg, dd, ext), NULL);
			/* OmniPITR's lines: omnipitr-checksum's "%s *%s\n". */
			ck_assert_str_eq(text, h_fmt("%s *%s\n%s *%s\n%s *%s\n", hd, dn, hx, xn, hs, sn));
			free(text);
		}
	}
	assert_data_tar(h_fmt("%s/%s-data-%s.tar.gz", dest2, h, dd), PITR_CODEC_GZIP, NULL);
	assert_xlog_tar(h_fmt("%s/%s-xlog-%s.tar.gz", dest2, h, dd), PITR_CODEC_GZIP);
	assert_meta(h_fmt("%s/%s-meta-%s.tar.gz", dest2, h, dd), PITR_CODEC_GZIP,
		    h_fmt("%s/%s-data-%s.tar.gz", dest2, h, dd), "none,gzip", "SHA-256,MD5", true);
	assert_meta(h_fmt("%s/%s-meta-%s.tar", bf_dest, h, dd), PITR_CODEC_NONE,
		    h_fmt("%s/%s-data-%s.tar", bf_dest, h, dd), "none,gzip", "SHA-256,MD5", true);
	free((char *)dest2);
	bf_teardown();
}
END_TEST

/* --- the server's refusals and failures ---------------------------- */

START_TEST(test_start_refused)
{
	struct pitr_backup_opts o;

	bf_setup();
	bf_opts(&o);
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1, "pitrkit *");
	h_pq_error("ERROR:  WAL level not sufficient for making an online backup\nHINT:  wal_level "
		   "must be set to \"replica\" or \"logical\" at server start.\n");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not start the backup: WAL level not sufficient for "
			 "making an online backup\n");
	assert_nothing_left();
	bf_teardown();
}
END_TEST

/* The server ends the session while the data is copied: pg_backup_stop
 * finds it gone.  The server aborts the backup with the session. */
START_TEST(test_session_dies)
{
	struct pitr_backup_opts o;

	bf_setup();
	bf_opts(&o);
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	h_pq_exec(BF_STOP_NOWAIT);
	h_pq_dies("FATAL:  terminating connection due to administrator command\nserver closed the "
		  "connection unexpectedly\n\tThis probably means the server terminated abnormally\n");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : could not stop the backup: FATAL:  terminating "
					"connection due to administrator command\n", run_label()));
	assert_nothing_left();
	bf_teardown();
}
END_TEST

START_TEST(test_stop_fails)
{
	struct pitr_backup_opts o;

	bf_setup();
	bf_opts(&o);
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	h_pq_exec(BF_STOP_NOWAIT);
	h_pq_error("ERROR:  backup is not in progress\nHINT:  Did you call pg_backup_start()?\n");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : could not stop the backup: backup is not in "
					"progress\n", run_label()));
	assert_nothing_left();
	bf_teardown();
}
END_TEST

/* What pg_backup_stop returned cannot be read. */
START_TEST(test_stop_answers)
{
	static const struct {
		const char *lsn, *label, *error;
	} cases[] = {
		{ BF_STOP_LSN, "START WAL LOCATION: 0/200028\n",
		  "backup_label from the server has no START WAL LOCATION file name" },
		{ BF_STOP_LSN, "START WAL LOCATION: 0/200028 (file 00000001000000000000000G)\n",
		  "backup_label from the server has no START WAL LOCATION file name" },
		{ "0/300100x", NULL, "server gave \"0/300100x\", not a WAL location" },
		{ "0/100000", NULL, "server gave an impossible WAL range \"" BF_START_WAL "\" to "
		  "\"000000010000000000000001\"" },
	};
	struct pitr_backup_opts o;

	bf_setup();
	bf_opts(&o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bf_script_connect(bf_pgdata, "f");
		bf_script_archiving();
		bf_script_start();
		h_pq_exec(BF_STOP_NOWAIT);
		h_pq_rows(1, 3, cases[i].lsn, cases[i].label ? cases[i].label : bf_label(false), "");
		bf_script_finish();
		ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
		ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
						"ERROR : %s\n", run_label(), cases[i].error));
		assert_nothing_left();
		h_pq_done();
		h_log_reset();
	}
	bf_teardown();
}
END_TEST

/* The server is checked before anything is made: the program's kind of
 * server, a valid segment size, the data dir it runs on. */
START_TEST(test_server_checks)
{
	struct pitr_backup_opts o;
	bf_setup();
	bf_opts(&o);

	h_pq_connect("dbname=db1 fallback_application_name=pitrkit", 1);
	h_pq_error("connection to server on socket \"/run/postgresql/.s.PGSQL.5432\" failed: No such "
		   "file or directory\n\tIs the server running locally and accepting connections on "
		   "that socket?\n");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server on "
			 "socket \"/run/postgresql/.s.PGSQL.5432\" failed: No such file or directory\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	bf_script_connect(bf_pgdata, "t");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : the server is a standby (in recovery): use "
			 "pitr-backup-slave\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	h_pq_connect("dbname=db1 fallback_application_name=pitrkit", 1);
	h_pq_exec("SHOW data_directory");
	h_pq_value(bf_pgdata);
	h_pq_exec("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'");
	h_pq_value("1000000");
	h_pq_exec("SELECT system_identifier FROM pg_control_system()");
	h_pq_value(BF_SYSID_TEXT);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value("f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : server reports wal_segment_size \"1000000\", not a valid "
			 "segment size\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	h_pq_connect("dbname=db1 fallback_application_name=pitrkit", 1);
	h_pq_exec("SHOW data_directory");
	h_pq_value(bf_pgdata);
	h_pq_exec("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'");
	h_pq_value("1048576");
	h_pq_exec("SELECT system_identifier FROM pg_control_system()");
	h_pq_error("ERROR:  permission denied for function pg_control_system\n");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : query \"SELECT system_identifier FROM pg_control_system()\" "
			 "failed: permission denied for function pg_control_system\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	/* -D and the server's data dir differ. */
	bf_script_connect(h_path("ts"), "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : data directory \"%s\" is not the one of the server "
					"connected to (\"%s\")\n", bf_pgdata, h_path("ts")));
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	/* The server's data dir is not there (another host). */
	o.data_dir = NULL;
	bf_script_connect("/nonexistent/pgdata", "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not resolve data directory \"/nonexistent/pgdata\": "
			 "No such file or directory\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	/* -D is no data dir. */
	o.data_dir = bf_ts;
	bf_script_connect(bf_ts, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : \"%s\" is not a PostgreSQL data directory (no "
					"PG_VERSION)\n", bf_ts));
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	bf_teardown();
}
END_TEST

/* --- the -x dir --------------------------------------------------------- */

/* An owner file locked as a live backup holds it (this process stands
 * for it); returns the descriptor holding the lock. */
static int
live_owner(const char *dir)
{
	const char *of = h_fmt("%s/%s", dir, PITR_BACKUP_OWNER_FILE);
	int fd;

	h_write_file(of, h_fmt("%ld\n", (long)getpid()), strlen(h_fmt("%ld\n", (long)getpid())));
	fd = open(of, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	return fd;
}

START_TEST(test_xlogs_dir_taken)
{
	struct pitr_backup_opts o;
	char *owner, *l;
	int fd;

	bf_setup();
	bf_opts(&o);
	/* A live backup's dir (its owner file locked) is left alone. */
	ck_assert_int_eq(mkdir(bf_xlogs, 0700), 0);
	fd = live_owner(bf_xlogs);
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : --xlogs dir \"%s\" already exists: backup process %ld "
					"is running\n", bf_xlogs, (long)getpid()));
	owner = h_read_file(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE), NULL);
	ck_assert_str_eq(owner, h_fmt("%ld\n", (long)getpid()));
	free(owner);
	/* Nothing of this run is left next to it. */
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, "arch\ndest\npgdata\nts\nxlogs\n");
	free(l);
	h_pq_done();
	h_log_reset();

	/* Its parent is missing. */
	o.xlogs = h_path("nodir/xlogs");
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not create --xlogs dir \"%s\": No such file or "
					"directory\n", h_path("nodir/xlogs")));
	h_pq_done();
	h_log_reset();
	o.xlogs = bf_xlogs;

	/* An owner file no process locks but naming a live process (a run
	 * of an older pitrkit, which held no lock): refused too (issue 9). */
	close(fd);
	h_write_file(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE),
		     h_fmt("%ld\n", (long)getppid()), strlen(h_fmt("%ld\n", (long)getppid())));
	bf_put_segment(bf_xlogs, 3, PITR_CODEC_NONE);
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : --xlogs dir \"%s\" already exists: backup process %ld "
					"is running\n", bf_xlogs, (long)getppid()));
	ck_assert(h_exists(h_fmt("%s/000000010000000000000003", bf_xlogs)));
	h_pq_done();
	h_log_reset();

	/* No owner file: not made by a current pitrkit (by hand, or -x naming
	 * the WAL archive): refused, nothing removed (issue 9). */
	ck_assert_int_eq(unlink(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE)), 0);
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : --xlogs dir \"%s\" already exists and holds no owner "
					"file (%s) naming a backup: remove it if no backup is "
					"running\n", bf_xlogs, PITR_BACKUP_OWNER_FILE));
	ck_assert(h_exists(h_fmt("%s/000000010000000000000003", bf_xlogs)));
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, "arch\ndest\npgdata\nts\nxlogs\n");
	free(l);
	h_pq_done();
	h_log_reset();

	bf_teardown();
}
END_TEST

/* What runs killed at each step of the dir's life leave next to it: the
 * dir under its temporary name (killed before the rename into place) and
 * the dir renamed away (killed after the backup's WAL was read); the
 * next run removes both when no live run holds them, and leaves a live
 * one's alone. */
START_TEST(test_xlogs_dir_leftovers)
{
	struct pitr_backup_opts o;
	char newdir[4200], done[4200], live[4200], older[4200], running[4200], *l;
	long dead = bf_dead_pid(), dead2 = bf_dead_pid(), alive = (long)getppid();
	/* Past both: dead2 may well be dead + 2 when other processes fork. */
	long top = dead2 > dead ? dead2 : dead;
	int fd;

	bf_setup();
	bf_opts(&o);
	snprintf(newdir, sizeof(newdir), "%s.pitr-new.%ld", bf_xlogs, dead);
	snprintf(done, sizeof(done), "%s.pitr-done.%ld", bf_xlogs, dead2);
	snprintf(live, sizeof(live), "%s.pitr-done.%ld", bf_xlogs, top + 2);
	snprintf(older, sizeof(older), "%s.pitr-done.%ld", bf_xlogs, top + 3);
	snprintf(running, sizeof(running), "%s.pitr-new.%ld", bf_xlogs, alive);
	ck_assert_int_eq(mkdir(newdir, 0700), 0);  /* killed before its owner file */
	ck_assert_int_eq(mkdir(done, 0700), 0);
	h_write_file(h_fmt("%s/%s", done, PITR_BACKUP_OWNER_FILE), h_fmt("%ld\n", dead),
		     strlen(h_fmt("%ld\n", dead)));
	bf_put_segment(done, 3, PITR_CODEC_NONE);
	ck_assert_int_eq(mkdir(live, 0700), 0);
	fd = live_owner(live);
	/* Unlocked, but its owner file names a live process (issue 9). */
	ck_assert_int_eq(mkdir(older, 0700), 0);
	h_write_file(h_fmt("%s/%s", older, PITR_BACKUP_OWNER_FILE), h_fmt("%ld\n", alive),
		     strlen(h_fmt("%ld\n", alive)));
	/* Its name gives a live process, still writing its owner file. */
	ck_assert_int_eq(mkdir(running, 0700), 0);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s\", left by backup process %ld, "
						    "which is gone\n", newdir, dead)));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s\", left by backup process %ld, "
						    "which is gone\n", done, dead2)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, h_fmt("arch\ndest\npgdata\nts\nxlogs.pitr-done.%ld\nxlogs.pitr-done.%ld\n"
				  "xlogs.pitr-new.%ld\n", top + 2, top + 3, alive));
	free(l);
	close(fd);
	bf_teardown();
}
END_TEST

/* The dir a killed backup left is taken over, emptied, and used. */
START_TEST(test_xlogs_dir_takeover)
{
	struct pitr_backup_opts o;
	long dead = bf_dead_pid();
	char *l;

	bf_setup();
	bf_opts(&o);
	ck_assert_int_eq(mkdir(bf_xlogs, 0700), 0);
	h_write_file(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE), h_fmt("%ld\n", dead),
		     strlen(h_fmt("%ld\n", dead)));
	bf_put_segment(bf_xlogs, 3, PITR_CODEC_NONE);  /* the killed backup's */
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : --xlogs dir \"%s\" was left by backup "
						    "process %ld, which is gone: taking it over\n",
						    bf_xlogs, dead)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	assert_xlog_tar(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE);
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER);
	free(l);
	bf_teardown();
}
END_TEST

/* archive_mode off, or no archive_command: refused before the start, in
 * one line; a command that does not name -x: a warning (issue 9). */
START_TEST(test_archiving_checked)
{
	struct pitr_backup_opts o;
	char *l;

	bf_setup();
	bf_opts(&o);
	bf_archive_mode = "off";
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : archive_mode is \"off\" on the server: no WAL is archived, "
			 "so the backup would never get its WAL (set archive_mode = on)\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	bf_archive_mode = "always";
	bf_archive_command = "";
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : archive_command is empty on the server: no WAL is archived, "
			 "so the backup would never get its WAL\n");
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	bf_archive_command = "/usr/local/bin/archive-wal %p";
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : WARNING: archive_command \"/usr/local/bin/"
						    "archive-wal %%p\" does not name --xlogs dir \"%s\": "
						    "unless what it runs gives it to pitr-archive "
						    "--dst-backup %s, the backup's WAL will not arrive\n",
						    bf_xlogs, bf_xlogs)));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	free(l);
	bf_archive_mode = "on";
	bf_archive_command = NULL;
	bf_teardown();
}
END_TEST

/* The WAL never reaches -x, or comes incomplete. */
START_TEST(test_xlogs_wal_missing)
{
	struct pitr_backup_opts o;
	static const unsigned only_start = 1u << 2, only_stop = 1u << 3;

	bf_setup();
	bf_opts(&o);
	o.wal_wait = 1;
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, false, NULL);
	h_pq_during(archive_to_xlogs, (void *)&only_start);
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"LOG : waiting for WAL segment \"" BF_STOP_WAL "\" in --xlogs dir "
					"\"%s\" (0 s of 1)\n"
					"ERROR : WAL segment \"" BF_STOP_WAL "\" did not reach --xlogs "
					"dir \"%s\" within 1 s: is archive_command pitr-archive "
					"--dst-backup %s?\n", run_label(), bf_xlogs, bf_xlogs, bf_xlogs));
	assert_nothing_left();
	h_pq_done();
	h_log_reset();

	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, false, NULL);
	h_pq_during(archive_to_xlogs, (void *)&only_stop);
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : WAL segment \"" BF_START_WAL "\" the backup needs is "
					"missing from --xlogs dir \"%s\"\n", run_label(), bf_xlogs));
	/* Renamed away before the tarball was begun, and removed all the
	 * same. */
	assert_nothing_left();
	bf_teardown();
}
END_TEST

/* --- stale temporary files ------------------------------------------ */

START_TEST(test_stale_temps)
{
	struct pitr_backup_opts o;
	static const char *const stale[] = {
		/* this backup's, another backup's, a killed pitr-archive's:
		 * nobody holds them locked (tmpfile.h) */
		".pitr-tmp.bk-data.tar.AbC123", ".pitr-tmp.bk-meta.tar.x1y2z3",
		".pitr-tmp.bk-SHA-256.tar.q1w2e3", ".pitr-tmp.other-data.tar.AbC123",
		".pitr-tmp.000000010000000000000003.Zz1234",
	};
	static const char *const kept[] = {
		/* a live pitr-archive's (locked below), not a temporary name */
		".pitr-tmp.000000010000000000000002.Qq1234", "bk-data.tar.AbC123",
	};
	char *l;
	int lock_fd;

	bf_setup();
	bf_opts(&o);
	o.digests = "SHA-256";
	for (size_t i = 0; i < 5; i++)
		h_write_file(h_fmt("%s/%s", bf_dest, stale[i]), "x", 1);
	for (size_t i = 0; i < 2; i++)
		h_write_file(h_fmt("%s/%s", bf_dest, kept[i]), "x", 1);
	lock_fd = open(h_fmt("%s/%s", bf_dest, kept[0]), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(lock_fd, 0);
	ck_assert_int_eq(flock(lock_fd, LOCK_EX), 0);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	close(lock_fd);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed 5 temporary files left by "
						    "interrupted runs in \"%s\"\n", bf_dest)));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, ".pitr-tmp.000000010000000000000002.Qq1234\n"
			 "bk-SHA-256.tar\nbk-data.tar\nbk-data.tar.AbC123\nbk-meta.tar\nbk-sig.tar\n"
			 "bk-xlog.tar\n");
	free(l);
	bf_teardown();
}
END_TEST

/* --- signals ------------------------------------------------------------ */

static void
send_signal(void *arg)
{
	ck_assert_int_eq(raise(*(const int *)arg), 0);
}

/* The signals that abandon a run, and their names in its error line. */
static const int stop_signals[] = { SIGTERM, SIGQUIT, SIGHUP, SIGINT };
static const char *const stop_signal_names[] = { "SIGTERM", "SIGQUIT", "SIGHUP", "SIGINT" };
#define NSTOP_SIGNALS (sizeof(stop_signals) / sizeof(stop_signals[0]))

/* SIGTERM, SIGQUIT and SIGHUP (the loop's _i) while the data streams: the
 * run abandoned through its cleanup, nothing left, every handler the run
 * installed gone with it, and no leak (libarchive's buffer is freed: the
 * tar stream never goes FATAL, see tarwrite.c), the next run fine. */
START_TEST(test_signal_during_copy)
{
	const int sig = stop_signals[_i];
	struct pitr_backup_opts o;
	struct sigaction before[NSTOP_SIGNALS], sa;

	bf_setup();
	for (size_t k = 0; k < NSTOP_SIGNALS; k++)
		ck_assert_int_eq(sigaction(stop_signals[k], NULL, &before[k]), 0);
	bf_opts(&o);
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	h_pq_during(send_signal, (void *)&sig);
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	/* One line: the copy stops at its next write. */
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : interrupted by %s: backup abandoned\n",
					run_label(), stop_signal_names[_i]));
	assert_nothing_left();
	for (size_t k = 0; k < NSTOP_SIGNALS; k++) {
		ck_assert_int_eq(sigaction(stop_signals[k], NULL, &sa), 0);
		ck_assert_ptr_eq((void *)sa.sa_handler, (void *)before[k].sa_handler);
	}
	h_pq_done();
	h_log_reset();
	/* The next run starts afresh. */
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	bf_teardown();
}
END_TEST

START_TEST(test_sigint_waiting_for_wal)
{
	static const int sig = SIGINT;
	struct pitr_backup_opts o;
	time_t t0 = time(NULL);

	bf_setup();
	bf_opts(&o);
	o.wal_wait = 30;
	/* The data file is complete when the session ends; the WAL is not in
	 * -x yet. */
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, false, NULL);
	bf_script_finish();
	h_pq_during(send_signal, (void *)&sig);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : interrupted by SIGINT: backup abandoned\n",
					run_label()));
	/* The wait ended with the signal, not the --wal-wait. */
	ck_assert_int_lt(time(NULL) - t0, 10);
	assert_nothing_left();
	bf_teardown();
}
END_TEST

/* --- publication ------------------------------------------------------ */

/* A destination that refuses a file gets none of the later ones: no meta
 * file where the data or xlog is not; the others get everything. */
/* One dir given twice, with two codecs: one lock, and the orphans of
 * both codecs' names go, a digest file's by its name with the codec's
 * extension; each codec gets its own digest file (OmniPITR's names). */
START_TEST(test_orphans_same_dir_two_codecs)
{
	struct pitr_backup_opts o;
	const char *dl[2];
	char *l;

	bf_setup();
	bf_opts(&o);
	o.digests = "SHA-256";
	h_write_file(h_fmt("%s/bk-data.tar", bf_dest), "killed", 6);
	h_write_file(h_fmt("%s/bk-xlog.tar.gz", bf_dest), "killed", 6);
	h_write_file(h_fmt("%s/bk-SHA-256.tar.gz", bf_dest), "killed", 6);
	h_put_journal(bf_dest, "none", "bk-meta.tar", "bk-data.tar", "bk-xlog.tar", "bk-SHA-256.tar",
		      NULL);
	h_put_journal(bf_dest, "gzip", "bk-meta.tar.gz", "bk-data.tar.gz", "bk-xlog.tar.gz",
		      "bk-SHA-256.tar.gz", NULL);
	dl[0] = bf_dest;
	dl[1] = h_fmt("gzip=%s", bf_dest);
	o.dst_local = dl;
	o.ndst_local = 2;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s/bk-data.tar\", an orphan",
						    bf_dest)));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s/bk-xlog.tar.gz\", an orphan",
						    bf_dest)));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s/bk-SHA-256.tar.gz\", an "
						    "orphan", bf_dest)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-SHA-256.tar\nbk-SHA-256.tar.gz\nbk-data.tar\nbk-data.tar.gz\n"
			 "bk-meta.tar\nbk-meta.tar.gz\nbk-sig.tar\nbk-sig.tar.gz\nbk-xlog.tar\n"
			 "bk-xlog.tar.gz\n");
	free(l);
	bf_teardown();
}
END_TEST

/* The start-of-run orphan sweep removes only names the -f template
 * gives: an operator's kept copy "bk-data-2020-01-02-keep.tar" (no meta)
 * matched the old glob bk-data-*-*-*.tar and went; now only the real
 * orphan of the same template does (issue 9). */
START_TEST(test_orphans_keep_copy_survives)
{
	struct pitr_backup_opts o;
	const char *dl[1];

	bf_setup();
	bf_opts(&o);
	o.filename_template = "bk-__FILETYPE__-^Y-^m-^d.tar__CEXT__";
	h_write_file(h_fmt("%s/bk-data-2020-01-02.tar", bf_dest), "killed", 6);
	h_write_file(h_fmt("%s/bk-data-2020-01-02-keep.tar", bf_dest), "operator", 8);
	h_put_journal(bf_dest, "t", "bk-meta-2020-01-02.tar", "bk-data-2020-01-02.tar",
		      "bk-xlog-2020-01-02.tar", NULL);
	dl[0] = bf_dest;
	o.dst_local = dl;
	o.ndst_local = 1;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s/bk-data-2020-01-02.tar\", "
						    "an orphan", bf_dest)));
	ck_assert(!h_exists(h_fmt("%s/bk-data-2020-01-02.tar", bf_dest)));
	ck_assert(h_exists(h_fmt("%s/bk-data-2020-01-02-keep.tar", bf_dest)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	bf_teardown();
}
END_TEST

/* An installation switching from OmniPITR: its backups (data, xlog, MD5
 * digest, never a meta file) of this host and of another, old and of
 * yesterday, under the default template, are no run's orphans (no journal
 * names them): they survive the backup run's sweep, which names none. */
START_TEST(test_omnipitr_backups_survive)
{
	struct pitr_backup_opts o;
	const char *dl[1], *hosts[2] = { bf_host, "otherhost" };
	const char *dates[2] = { "2020-01-02", NULL };
	char yesterday[16], *l;
	time_t t = time(NULL) - 86400;

	strftime(yesterday, sizeof(yesterday), "%Y-%m-%d", localtime(&t));
	dates[1] = yesterday;
	bf_setup();
	bf_opts(&o);
	o.filename_template = PITR_ORPHAN_DEFAULT_TEMPLATE;
	for (size_t h = 0; h < 2; h++)
		for (size_t d = 0; d < 2; d++) {
			h_write_file(h_fmt("%s/%s-data-%s.tar.gz", bf_dest, hosts[h], dates[d]), "d", 1);
			h_write_file(h_fmt("%s/%s-xlog-%s.tar.gz", bf_dest, hosts[h], dates[d]), "x", 1);
			h_write_file(h_fmt("%s/%s-MD5-%s.tar.gz", bf_dest, hosts[h], dates[d]), "m", 1);
		}
	dl[0] = h_fmt("gzip=%s", bf_dest);
	o.dst_local = dl;
	o.ndst_local = 1;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "orphan"));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	for (size_t h = 0; h < 2; h++)
		for (size_t d = 0; d < 2; d++) {
			ck_assert(h_exists(h_fmt("%s/%s-data-%s.tar.gz", bf_dest, hosts[h], dates[d])));
			ck_assert(h_exists(h_fmt("%s/%s-xlog-%s.tar.gz", bf_dest, hosts[h], dates[d])));
			ck_assert(h_exists(h_fmt("%s/%s-MD5-%s.tar.gz", bf_dest, hosts[h], dates[d])));
		}
	/* The run's own journal went with its meta file. */
	l = bf_dir_list(bf_dest);
	ck_assert_ptr_null(strstr(l, ".pitr-journal."));
	free(l);
	bf_teardown();
}
END_TEST

/* A name is no proof: a dead run's journal recorded its data file, which
 * OmniPITR (still installed during a switch) then replaced with its own
 * backup of the same name.  That file is another inode: not the run's
 * orphan, it stays (review of issue 11). */
START_TEST(test_orphan_replaced_by_foreign_stays)
{
	struct pitr_backup_opts o;
	const char *dl[1];
	const char *name = "bk-data-2020-01-02.tar";
	char *text;

	bf_setup();
	bf_opts(&o);
	o.filename_template = "bk-__FILETYPE__-^Y-^m-^d.tar__CEXT__";
	h_write_file(h_fmt("%s/%s", bf_dest, name), "killed", 6);
	h_put_journal(bf_dest, "t", "bk-meta-2020-01-02.tar", name, NULL);
	h_replace_file(h_fmt("%s/%s", bf_dest, name), "OmniPITR's");
	dl[0] = bf_dest;
	o.dst_local = dl;
	o.ndst_local = 1;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "orphan"));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	text = h_read_file(h_fmt("%s/%s", bf_dest, name), NULL);
	ck_assert_str_eq(text, "OmniPITR's");
	free(text);
	/* It recorded nothing still there: the journal went. */
	ck_assert(!h_exists(h_fmt("%s/.pitr-journal.t", bf_dest)));
	bf_teardown();
}
END_TEST

/* Another host's journal on a shared dir: its lock may be invisible here,
 * its run alive and about to publish its meta.  Its file published a
 * moment ago stays, and so does the journal (review of issue 11). */
START_TEST(test_other_host_young_orphan_stays)
{
	struct pitr_backup_opts o;
	const char *dl[1];
	const char *name = "hosta-data-2020-01-02.tar";

	bf_setup();
	bf_opts(&o);
	h_write_file(h_fmt("%s/%s", bf_dest, name), "hosta's, publishing", 19);
	h_put_journal_of(bf_dest, "h", "hosta", "hosta-meta-2020-01-02.tar", name, NULL);
	dl[0] = bf_dest;
	o.dst_local = dl;
	o.ndst_local = 1;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "removed"));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert(h_exists(h_fmt("%s/%s", bf_dest, name)));
	ck_assert(h_exists(h_fmt("%s/.pitr-journal.h", bf_dest)));
	bf_teardown();
}
END_TEST

/* A FIFO at a journal's name would block the open of a sweep for ever:
 * it is passed over, and the run goes on (review of issue 11). */
START_TEST(test_fifo_journal_passed_over)
{
	struct pitr_backup_opts o;
	const char *dl[1];

	bf_setup();
	bf_opts(&o);
	ck_assert_int_eq(mkfifo(h_fmt("%s/.pitr-journal.fifo", bf_dest), 0600), 0);
	dl[0] = bf_dest;
	o.dst_local = dl;
	o.ndst_local = 1;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert(h_exists(h_fmt("%s/bk-meta.tar", bf_dest)));
	bf_teardown();
}
END_TEST

START_TEST(test_publish_refused)
{
	struct pitr_backup_opts o;
	const char *dl[2];
	char *l, *old;

	bf_setup();
	bf_opts(&o);
	ck_assert_int_eq(mkdir(h_path("dest2"), 0700), 0);
	/* A run killed while publishing left its xlog file without meta: an
	 * orphan, removed at the start of the next run with the same names
	 * (issue 9), which then succeeds. */
	h_write_file(h_path("dest2/bk-xlog.tar"), "a killed backup's", 17);
	h_put_journal(h_path("dest2"), "t", "bk-meta.tar", "bk-data.tar", "bk-xlog.tar", NULL);
	dl[0] = bf_dest;
	dl[1] = h_path("dest2");
	o.dst_local = dl;
	o.ndst_local = 2;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removed \"%s/bk-xlog.tar\", an orphan without "
						    "meta file left by an interrupted backup\n",
						    h_path("dest2"))));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	l = bf_dir_list(h_path("dest2"));
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	free(l);
	h_pq_done();
	h_log_reset();

	/* A second backup with the same names (one name a day by default):
	 * refused at once, before the server is asked to start, with a
	 * hint; nothing of the first is touched. */
	old = h_read_file(h_path("dest2/bk-data.tar"), NULL);
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : backup file \"%s/bk-data.tar\" exists already: -f "
					"\"bk-__FILETYPE__.tar__CEXT__\" gives the next backup the same "
					"names (add ^H^M to -f for more than one a day)\n", bf_dest));
	l = h_read_file(h_path("dest2/bk-data.tar"), NULL);
	ck_assert_str_eq(l, old);
	free(l);
	free(old);
	l = bf_dir_list(h_dir());
	ck_assert_str_eq(l, SCRATCH_AFTER_DEST2);
	free(l);
	bf_teardown();
}
END_TEST

/* --pid-file: one backup at a time; a lower priority unless -nn. */
START_TEST(test_pid_file_and_nice)
{
	struct pitr_backup_opts o;
	struct pitr_pidfile *held;
	int nice_before = getpriority(PRIO_PROCESS, 0);

	bf_setup();
	bf_opts(&o);
	o.pid_file = h_path("backup.pid");
	/* Held by another copy: refused before the server is asked. */
	held = pitr_pidfile_acquire(o.pid_file);
	ck_assert_ptr_nonnull(held);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : another copy is already running with pid %d (pid file "
					"\"%s\")\n", (int)getpid(), o.pid_file));
	pitr_pidfile_release(held);
	h_log_reset();

	o.not_nice = false;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert(!h_exists(o.pid_file));
	if (nice_before < 10)
		ck_assert_int_eq(getpriority(PRIO_PROCESS, 0), 10);
	bf_teardown();
}
END_TEST

/* A destination that is not there: named by its own open, after the
 * server was asked and before the backup is started. */
START_TEST(test_destination_missing)
{
	struct pitr_backup_opts o;
	const char *dl[1];

	bf_setup();
	bf_opts(&o);
	dl[0] = h_path("nodest");
	o.dst_local = dl;
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not use local destination \"%s\": No such "
					"file or directory\n", dl[0]));
	ck_assert(!h_exists(dl[0]));
	ck_assert(!h_exists(bf_xlogs));
	bf_teardown();
}
END_TEST

/* A program destination gets each file on its standard input once all
 * are complete, after the local ones, in the same order. */
START_TEST(test_pipe_destination)
{
	struct pitr_backup_opts o;
	const char *dp[1];
	char prog[4200], *l;

	bf_setup();
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	bf_opts(&o);
	ck_assert_int_eq(mkdir(h_path("piped"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("tmp"), 0700), 0);
	h_write_file(h_path("to-piped"), h_fmt("#!/bin/sh\ncat > '%s'/\"$1\"\n", h_path("piped")),
		     strlen(h_fmt("#!/bin/sh\ncat > '%s'/\"$1\"\n", h_path("piped"))));
	ck_assert_int_eq(chmod(h_path("to-piped"), 0700), 0);
	snprintf(prog, sizeof(prog), "gzip=%s", h_path("to-piped"));
	dp[0] = prog;
	o.dst_pipe = dp;
	o.ndst_pipe = 1;
	o.temp_dir = h_path("tmp");
	o.parallel_jobs = 2;
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_str_eq(bf_log(), h_fmt(
		"LOG : backup \"%s\" started at " BF_START_LSN "\n"
		"LOG : delivered \"bk-data.tar\" to %s\n"
		"LOG : delivered \"bk-xlog.tar\" to %s\n"
		"LOG : delivered \"bk-sig.tar\" to %s\n"
		"LOG : delivered \"bk-meta.tar\" to %s\n"
		"LOG : delivered \"bk-data.tar.gz\" to %s\n"
		"LOG : delivered \"bk-xlog.tar.gz\" to %s\n"
		"LOG : delivered \"bk-sig.tar.gz\" to %s\n"
		"LOG : delivered \"bk-meta.tar.gz\" to %s\n"
		"LOG : backup \"%s\" done: WAL " BF_START_WAL " to " BF_STOP_WAL ", %lld bytes of "
		"data, 2099200 bytes of WAL, to 2 destinations\n",
		run_label(), bf_dest, bf_dest, bf_dest, bf_dest, h_path("to-piped"), h_path("to-piped"),
		h_path("to-piped"), h_path("to-piped"), run_label(),
		file_size(h_fmt("%s/bk-data.tar", bf_dest))));
	l = bf_dir_list(h_path("piped"));
	ck_assert_str_eq(l, "bk-data.tar.gz\nbk-meta.tar.gz\nbk-sig.tar.gz\nbk-xlog.tar.gz\n");
	free(l);
	assert_data_tar(h_fmt("%s/bk-data.tar.gz", h_path("piped")), PITR_CODEC_GZIP, NULL);
	assert_xlog_tar(h_fmt("%s/bk-xlog.tar.gz", h_path("piped")), PITR_CODEC_GZIP);
	assert_meta(h_fmt("%s/bk-meta.tar.gz", h_path("piped")), PITR_CODEC_GZIP,
		    h_fmt("%s/bk-data.tar.gz", h_path("piped")), "none,gzip", "", true);
	/* The staged copies are gone. */
	l = bf_dir_list(h_path("tmp"));
	ck_assert_str_eq(l, "");
	free(l);
	bf_teardown();
}
END_TEST

/* pg_tblspc: an in-place tablespace (a directory, not a link) is part of
 * the data dir; a data dir without pg_tblspc is refused. */
START_TEST(test_tablespace_dirs)
{
	struct pitr_backup_opts o;

	bf_setup();
	bf_opts(&o);
	ck_assert_int_eq(mkdir(h_fmt("%s/pg_tblspc/16390", bf_pgdata), 0700), 0);
	h_write_file(h_fmt("%s/pg_tblspc/16390/in-place", bf_pgdata), "x", 1);
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	{
		char *list = bf_tar_list(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE);

		ck_assert_ptr_nonnull(strstr(list, "pgdata/pg_tblspc/16390/in-place 1\n"));
		ck_assert_ptr_null(strstr(list, "tablespaces/pgdata"));
		free(list);
	}
	h_pq_done();
	h_log_reset();
	ck_assert_int_eq(unlink(h_fmt("%s/bk-data.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-xlog.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-sig.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-meta.tar", bf_dest)), 0);

	ck_assert_int_eq(unlink(h_fmt("%s/pg_tblspc/16390/in-place", bf_pgdata)), 0);
	ck_assert_int_eq(rmdir(h_fmt("%s/pg_tblspc/16390", bf_pgdata)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/pg_tblspc/16384", bf_pgdata)), 0);
	ck_assert_int_eq(rmdir(h_fmt("%s/pg_tblspc", bf_pgdata)), 0);
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : could not open directory \"%s/pg_tblspc\": No such file "
					"or directory\n", run_label(), bf_pgdata));
	assert_nothing_left();
	bf_teardown();
}
END_TEST

/* -x cannot be renamed away (its new name is taken). */
START_TEST(test_xlogs_dir_rename_fails)
{
	struct pitr_backup_opts o;
	char done[4200];
	int fd;

	bf_setup();
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	bf_opts(&o);
	snprintf(done, sizeof(done), "%s.pitr-done.%ld", bf_xlogs, (long)getpid());
	ck_assert_int_eq(mkdir(done, 0700), 0);
	h_write_file(h_fmt("%s/x", done), "x", 1);
	fd = live_owner(done);  /* a live run's: not swept */
	script_backup(BF_STOP_NOWAIT, NULL);
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	close(fd);
	ck_assert_ptr_nonnull(strstr(bf_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN
						    "\nERROR : could not rename \"%s\" to \"%s\": "
						    "Directory not empty\n", run_label(), bf_xlogs,
						    done)));
	/* Said once: the clean-up does not try the rename again. */
	ck_assert_ptr_null(strstr(strstr(h_log(), "could not rename") + 1, "could not rename"));
	ck_assert_ptr_null(strstr(h_log(), "LOG : delivered"));
	/* Nothing published; the dir stays, with its owner's pid, for the
	 * next run to take over once this process is gone. */
	ck_assert(h_exists(h_fmt("%s/%s", bf_xlogs, PITR_BACKUP_OWNER_FILE)));
	{
		char *l = bf_dir_list(bf_dest);

		ck_assert_str_eq(l, "");
		free(l);
	}
	bf_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("backup_master");
	TCase *tc = tcase_create("run");

	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_backup);
	tcase_add_test(tc, test_xlogs_trailing_slash);
	tcase_add_test(tc, test_skip_xlogs);
	tcase_add_test(tc, test_timeline_history);
	tcase_add_test(tc, test_template_codecs_digests);
	tcase_add_test(tc, test_pid_file_and_nice);
	tcase_add_test(tc, test_destination_missing);
	tcase_add_test(tc, test_pipe_destination);
	tcase_add_test(tc, test_tablespace_dirs);
	suite_add_tcase(s, tc);
	tc = tcase_create("server");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_start_refused);
	tcase_add_test(tc, test_session_dies);
	tcase_add_test(tc, test_stop_fails);
	tcase_add_test(tc, test_stop_answers);
	tcase_add_test(tc, test_server_checks);
	suite_add_tcase(s, tc);
	tc = tcase_create("xlogs");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_xlogs_dir_taken);
	tcase_add_test(tc, test_xlogs_dir_takeover);
	tcase_add_test(tc, test_xlogs_dir_leftovers);
	tcase_add_test(tc, test_archiving_checked);
	tcase_add_test(tc, test_xlogs_wal_missing);
	tcase_add_test(tc, test_xlogs_dir_rename_fails);
	suite_add_tcase(s, tc);
	tc = tcase_create("leftovers");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_stale_temps);
	tcase_add_loop_test(tc, test_signal_during_copy, 0, 3);
	tcase_add_test(tc, test_sigint_waiting_for_wal);
	tcase_add_test(tc, test_orphan_replaced_by_foreign_stays);
	tcase_add_test(tc, test_other_host_young_orphan_stays);
	tcase_add_test(tc, test_fifo_journal_passed_over);
	tcase_add_test(tc, test_publish_refused);
	tcase_add_test(tc, test_orphans_same_dir_two_codecs);
	tcase_add_test(tc, test_orphans_keep_copy_survives);
	tcase_add_test(tc, test_omnipitr_backups_survive);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
