/*
 * check_meta.c - unit tests for lib/repo/meta.c: meta files of both forms
 * parsed, every malformed one refused with its reason, and the writer:
 * what it writes reads back to the same text, and is byte for byte what
 * pitr-backup-master has always written.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "postgres/lsn.h"
#include "repo/meta.h"

#define SEG (1u << 20)
#define SYSID 7300000000000000001ULL

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

static void
backup_clear(struct pitr_catalog_backup *b)
{
	pitr_meta_clear(b);
	memset(b, 0, sizeof(*b));
}

START_TEST(test_meta_old_form)
{
	/* Exactly what pitr-backup-master wrote before the epochs, segment
	 * size and digests existed. */
	const char *text = "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
			   "start_lsn=0/2000028\nstop_lsn=0/3000100\n"
			   "start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:05:30 -0230\n"
			   "host=db1\nlabel=pitrkit db1 2024-03-01 12:00:00 +0100\n"
			   "system_identifier=7300000000000000001\ntimeline=1\ndata_dir=/var/lib/pg\n"
			   "data_size=123456\nxlog_size=2097664\ncodec=gzip,none\ndigests=\n";
	struct pitr_catalog_backup b = { 0 };
	char err[256] = "";

	ck_assert_int_eq(pitr_meta_parse(text, "m", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(b.start_wal, "000000010000000000000002");
	ck_assert_str_eq(b.stop_wal, "000000010000000000000003");
	ck_assert_uint_eq(b.start_lsn, 0x2000028);
	ck_assert_uint_eq(b.stop_lsn, 0x3000100);
	ck_assert_str_eq(b.start_time, "2024-03-01 12:00:00 +0100");
	ck_assert_str_eq(b.stop_time, "2024-03-01 12:05:30 -0230");
	ck_assert_int_eq((long)b.start_epoch, 1709290800L);          /* 11:00:00 UTC */
	ck_assert_int_eq((long)b.stop_epoch, 1709290800L + 3600 + 330 + 9000);  /* 14:35:30 UTC */
	ck_assert_str_eq(b.host, "db1");
	ck_assert_str_eq(b.label, "pitrkit db1 2024-03-01 12:00:00 +0100");
	ck_assert_uint_eq(b.sysid, SYSID);
	ck_assert_uint_eq(b.timeline, 1);
	ck_assert_uint_eq(b.segsize, 0);
	ck_assert_str_eq(b.data_dir, "/var/lib/pg");
	ck_assert_uint_eq(b.data_size, 123456);
	ck_assert_uint_eq(b.xlog_size, 2097664);
	ck_assert_uint_eq(b.ndigests, 0);
	ck_assert_ptr_null(b.digests);
	ck_assert_ptr_null(b.name);
	/* Written before issue 11: the version and the source are unknown. */
	ck_assert_ptr_null(b.pg_version);
	ck_assert_ptr_null(b.source);
	backup_clear(&b);
}
END_TEST

START_TEST(test_meta_new_form)
{
	const char *text = "start_wal=000000020000000100000FFF\nstop_wal=000000020000000200000001\n"
			   "start_lsn=1/FFF00028\nstop_lsn=2/100100\n"
			   "start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:05:00 +0100\n"
			   "start_epoch=1709290801\nstop_epoch=1709291102\n"
			   "host=\nlabel=x\nsystem_identifier=1\ntimeline=2\n"
			   "wal_segment_size=1048576\ndata_dir=/d\ndata_size=1\nxlog_size=0\n"
			   "codec=zstd\ndigests=SHA-256,MD5\npg_version=15\nsource=standby\n"
			   "future_key=whatever\n";
	struct pitr_catalog_backup b = { 0 };
	char err[256] = "";

	ck_assert_int_eq(pitr_meta_parse(text, "m", &b, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.start_lsn, 0x1FFF00028ULL);
	ck_assert_uint_eq(b.stop_lsn, 0x200100100ULL);
	/* The epochs the meta states win over the time strings. */
	ck_assert_int_eq((long)b.start_epoch, 1709290801L);
	ck_assert_int_eq((long)b.stop_epoch, 1709291102L);
	ck_assert_str_eq(b.host, "");
	ck_assert_uint_eq(b.timeline, 2);
	ck_assert_uint_eq(b.segsize, SEG);
	ck_assert_uint_eq(b.xlog_size, 0);
	ck_assert_uint_eq(b.ndigests, 2);
	ck_assert_str_eq(b.digests[0].algorithm, "SHA-256");
	ck_assert_str_eq(b.digests[1].algorithm, "MD5");
	ck_assert_ptr_null(b.digests[0].file);
	ck_assert_str_eq(b.pg_version, "15");
	ck_assert_str_eq(b.source, "standby");
	backup_clear(&b);
}
END_TEST

/* A source this version does not know (a later one's) keeps the backup
 * readable, its value as written. */
START_TEST(test_parse_unknown_source)
{
	const char *text = "start_wal=000000020000000100000FFF\nstop_wal=000000020000000200000001\n"
			   "start_lsn=1/FFF00028\nstop_lsn=2/100100\n"
			   "start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:05:00 +0100\n"
			   "host=\nlabel=x\nsystem_identifier=1\ntimeline=2\n"
			   "wal_segment_size=1048576\ndata_dir=/d\ndata_size=1\nxlog_size=0\n"
			   "codec=zstd\ndigests=\npg_version=18\nsource=cascade\n";
	struct pitr_catalog_backup b = { 0 };
	char err[256] = "";

	ck_assert_int_eq(pitr_meta_parse(text, "m", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.source, "cascade");
	backup_clear(&b);
}
END_TEST

/* Replace the line starting with `key=` by `line` (NULL: drop it). */
static const char *
edit_meta(const char *text, const char *key, const char *line)
{
	static char buf[4096];
	const char *at = strstr(text, key);
	const char *eol;

	ck_assert_ptr_nonnull(at);
	eol = strchr(at, '\n') + 1;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, line ? line : "", eol);
	return buf;
}

START_TEST(test_meta_errors)
{
	/* A backup on March 1st of segments 2 to 3; each case below breaks
	 * one thing in it. */
	const char *base = "start_wal=000000010000000000000002\nstop_wal=000000010000000000000003\n"
			   "start_lsn=0/200028\nstop_lsn=0/300100\n"
			   "start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:05:00 +0100\n"
			   "host=h\nlabel=pitrkit h 2024-03-01\nsystem_identifier=7300000000000000001\n"
			   "timeline=1\ndata_dir=/var/lib/pg\ndata_size=1001\nxlog_size=9\ncodec=gzip\n"
			   "wal_segment_size=1048576\ndigests=SHA-256\n";
	static const struct {
		const char *key, *line, *err;
	} cases[] = {
		{ "start_wal=", NULL, "F: no start_wal" },
		{ "stop_lsn=", NULL, "F: no stop_lsn" },
		{ "stop_time=", NULL, "F: no stop_time" },
		{ "timeline=", NULL, "F: no timeline" },
		{ "start_wal=", "start_wal=00000001000000000000000\n", "F: invalid start_wal \"00000001000000000000000\"" },
		{ "stop_wal=", "stop_wal=00000001000000000000000A.partial\n", "F: invalid stop_wal \"00000001000000000000000A.partial\"" },
		{ "start_lsn=", "start_lsn=0/x\n", "F: invalid start_lsn \"0/x\"" },
		{ "start_time=", "start_time=2024-03-01 12:00:00\n", "F: invalid start_time \"2024-03-01 12:00:00\"" },
		{ "stop_time=", "stop_time=2024-13-01 12:00:00 +0100\n", "F: invalid stop_time \"2024-13-01 12:00:00 +0100\"" },
		{ "timeline=", "timeline=0\n", "F: invalid timeline \"0\"" },
		{ "timeline=", "timeline=2\n", "F: timeline 2 does not match start_wal 000000010000000000000002" },
		{ "data_size=", "data_size=-1\n", "F: invalid data_size \"-1\"" },
		{ "system_identifier=", "system_identifier=99999999999999999999\n", "F: invalid system_identifier \"99999999999999999999\"" },
		{ "wal_segment_size=", "wal_segment_size=1000000\n", "F: invalid wal_segment_size \"1000000\"" },
		{ "digests=", "digests=SHA-256,../x\n", "F: invalid digests \"SHA-256,../x\"" },
		{ "host=", "host=a\nhost=b\n", "F: key \"host\" appears twice" },
		{ "host=", "just words\n", "F: line 7 is not key=value" },
		{ "stop_wal=", "stop_wal=000000010000000000000001\n", "F: the backup stops (000000010000000000000001) before it starts (000000010000000000000002)" },
		{ "start_lsn=", "start_lsn=0/100028\n", "F: start_lsn 0/100028 is not in start_wal 000000010000000000000002" },
		{ "stop_lsn=", "stop_lsn=0/500000\n", "F: stop_lsn 0/500000 is not in stop_wal 000000010000000000000003" },
	};
	struct pitr_catalog_backup b = { 0 };
	char err[256];

	/* The unedited text parses, so every failure below is the edit's. */
	ck_assert_int_eq(pitr_meta_parse(base, "F", &b, err, sizeof(err)), 0);
	backup_clear(&b);
	/* A stop LSN on a segment boundary is in the segment before, as
	 * pg_walfile_name() names it and earlier backups recorded ... */
	ck_assert_int_eq(pitr_meta_parse(edit_meta(base, "stop_lsn=", "stop_lsn=0/400000\n"), "F",
						 &b, err, sizeof(err)), 0);
	backup_clear(&b);
	/* ... or in the one starting there, which backups record since
	 * issue 9 (recovery to the backup's end reads it). */
	ck_assert_int_eq(pitr_meta_parse(edit_meta(base, "stop_lsn=", "stop_lsn=0/300000\n"), "F",
						 &b, err, sizeof(err)), 0);
	backup_clear(&b);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char copy[4096];

		snprintf(copy, sizeof(copy), "%s", base);
		err[0] = '\0';
		ck_assert_int_eq(pitr_meta_parse(edit_meta(copy, cases[i].key, cases[i].line), "F",
							 &b, err, sizeof(err)), -1);
		ck_assert_str_eq(err, cases[i].err);
		/* Nothing left allocated on failure. */
		ck_assert_ptr_null(b.start_time);
		ck_assert_ptr_null(b.host);
		ck_assert_ptr_null(b.digests);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST


/* Metas as pitr-backup-master writes them today, of backups unlike each
 * other: a primary's with 16 MiB segments; a standby's on timeline 3 with
 * 64 MiB segments, high LSNs, a stop on a segment boundary, --skip-xlogs,
 * three codecs and two digests, in a zone half an hour off; a 1 MiB
 * cluster's across an xlogid boundary on timeline 12, without digests. */
static const char *const metas[] = {
	"start_wal=000000010000000000000004\nstop_wal=000000010000000000000004\n"
	"start_lsn=0/4000028\nstop_lsn=0/4000138\n"
	"start_time=2024-03-01 12:00:00 +0100\nstop_time=2024-03-01 12:00:03 +0100\n"
	"start_epoch=1709290800\nstop_epoch=1709290803\nhost=db1\n"
	"label=pitrkit db1 2024-03-01 12:00:00 +0100\nsystem_identifier=7341234567890123456\n"
	"timeline=1\nwal_segment_size=16777216\ndata_dir=/var/lib/postgresql/15/main\n"
	"data_size=23068672\nxlog_size=16778752\ncodec=gzip\ndigests=SHA-256\n"
	"pg_version=15\nsource=primary\nbase=\nchain=\n",

	"start_wal=000000030000001A0000000F\nstop_wal=000000030000001A00000010\n"
	"start_lsn=1A/3C000060\nstop_lsn=1A/44000000\n"
	"start_time=2024-07-15 23:59:58 -0230\nstop_time=2024-07-16 00:01:02 -0230\n"
	"start_epoch=1721096998\nstop_epoch=1721097062\nhost=standby-2.example.org\n"
	"label=pitrkit standby-2.example.org 2024-07-15 23:59:58 -0230\n"
	"system_identifier=7391827364554637281\ntimeline=3\nwal_segment_size=67108864\n"
	"data_dir=/srv/pg data/15\ndata_size=1073741824\nxlog_size=0\ncodec=zstd,none,lz4\n"
	"digests=SHA-512,MD5\npg_version=17\nsource=standby\n"
	"base=pitrkit standby-2.example.org 2024-07-14 23:59:58 -0230\n"
	"chain=pitrkit db1 2024-07-01 00:00:00 -0230|pitrkit standby-2.example.org 2024-07-14 23:59:58 -0230\n",

	"start_wal=0000000C0000000000000FFF\nstop_wal=0000000C0000000100000000\n"
	"start_lsn=0/FFF00028\nstop_lsn=1/100\n"
	"start_time=2023-12-31 23:59:59 +0000\nstop_time=2024-01-01 00:00:30 +0000\n"
	"start_epoch=1704067199\nstop_epoch=1704067230\nhost=metabox\nlabel=nightly\n"
	"system_identifier=1\ntimeline=12\nwal_segment_size=1048576\ndata_dir=/d\n"
	"data_size=10240\nxlog_size=2098176\ncodec=none\ndigests=\npg_version=\nsource=\n"
	"base=\nchain=\n",
};

START_TEST(test_format_round_trip)
{
	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
		struct pitr_catalog_backup b = { 0 }, again = { 0 };
		char err[256] = "", *text, *text2;

		ck_assert_msg(pitr_meta_parse(metas[i], "m", &b, err, sizeof(err)) == 0, "%s", err);
		text = pitr_meta_format(&b);
		ck_assert_ptr_nonnull(text);
		ck_assert_str_eq(text, metas[i]);
		ck_assert_int_eq(pitr_meta_parse(text, "m", &again, err, sizeof(err)), 0);
		text2 = pitr_meta_format(&again);
		ck_assert_str_eq(text2, text);
		free(text);
		free(text2);
		backup_clear(&b);
		backup_clear(&again);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/*
 * The formatter against pitr-backup-master's own asprintf (backup_run in
 * lib/command/backup/backup.c), fed with its variables as it has them: the
 * LSNs and system identifier as the server's text, the segment size as
 * unsigned long long, the codec and digest lists joined.  The struct is
 * filled as backup_run will fill it.
 */
START_TEST(test_format_as_backup_writes)
{
	char start_file[32] = "000000020000000700000041", stop_file[64] = "000000020000000700000043";
	char tstart[64] = "2024-11-03 01:59:59 -0500", tstop[64] = "2024-11-03 01:03:10 -0600";
	char hostname[256] = "pg-primary", codecs[128] = "gzip,zstd", digests[128] = "SHA-256,SHA-1";
	char start_lsn[] = "7/41000028", stop_lsn[] = "7/43FFE100", sysid[] = "7300000000000000001";
	char data_dir[] = "/var/lib/pgsql/data", label[] = "pitrkit pg-primary 2024-11-03 01:59:59 -0500";
	const char *algorithms[] = { "SHA-256", "SHA-1" };
	time_t start_time = 1730617199, stop_time = 1730617390;
	uint32_t tli = 2;
	unsigned long long segsize = 16u << 20;
	uint64_t data_size = 40960000, xlog_size = 50333184;
	struct pitr_catalog_digest d[2];
	struct pitr_catalog_backup b = { 0 };
	char err[256], *want, *text;

	ck_assert_int_ge(asprintf(&want, "start_wal=%s\nstop_wal=%s\nstart_lsn=%s\nstop_lsn=%s\nstart_time=%s\n"
				  "stop_time=%s\nstart_epoch=%lld\nstop_epoch=%lld\nhost=%s\nlabel=%s\n"
				  "system_identifier=%s\ntimeline=%" PRIu32 "\nwal_segment_size=%llu\ndata_dir=%s\n"
				  "data_size=%" PRIu64 "\nxlog_size=%" PRIu64 "\ncodec=%s\ndigests=%s\n"
				  "pg_version=15\nsource=primary\nbase=\nchain=\n",
				  start_file, stop_file, start_lsn, stop_lsn, tstart, tstop, (long long)start_time,
				  (long long)stop_time, hostname, label, sysid, tli, segsize,
				  data_dir, data_size, xlog_size, codecs, digests), 0);

	snprintf(b.start_wal, sizeof(b.start_wal), "%s", start_file);
	snprintf(b.stop_wal, sizeof(b.stop_wal), "%s", stop_file);
	ck_assert_int_eq(pitr_lsn_parse(start_lsn, &b.start_lsn), 0);
	ck_assert_int_eq(pitr_lsn_parse(stop_lsn, &b.stop_lsn), 0);
	b.start_time = tstart;
	b.stop_time = tstop;
	b.start_epoch = start_time;
	b.stop_epoch = stop_time;
	b.host = hostname;
	b.label = label;
	b.sysid = strtoull(sysid, NULL, 10);
	b.timeline = tli;
	b.segsize = (uint32_t)segsize;
	b.data_dir = data_dir;
	b.data_size = data_size;
	b.xlog_size = xlog_size;
	b.codecs = codecs;
	for (size_t k = 0; k < 2; k++)
		d[k] = (struct pitr_catalog_digest){ (char *)algorithms[k], NULL };
	b.digests = d;
	b.ndigests = 2;
	b.pg_version = (char *)"15";
	b.source = (char *)"primary";
	text = pitr_meta_format(&b);
	ck_assert_str_eq(text, want);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(pitr_meta_parse(text, "m", &b, err, sizeof(err)), 0);
	ck_assert_str_eq(b.pg_version, "15");
	ck_assert_str_eq(b.source, "primary");
	backup_clear(&b);
	free(text);
	free(want);
}
END_TEST

/* What is not set is written empty, and still reads as a meta file's
 * beginning; the reader then refuses it for what it lacks. */
START_TEST(test_format_empty)
{
	struct pitr_catalog_backup b = { 0 };
	char err[256], *text = pitr_meta_format(&b);

	ck_assert_str_eq(text, "start_wal=\nstop_wal=\nstart_lsn=0/0\nstop_lsn=0/0\nstart_time=\n"
			       "stop_time=\nstart_epoch=0\nstop_epoch=0\nhost=\nlabel=\n"
			       "system_identifier=0\ntimeline=0\nwal_segment_size=0\ndata_dir=\n"
			       "data_size=0\nxlog_size=0\ncodec=\ndigests=\npg_version=\nsource=\n"
			       "base=\nchain=\n");
	ck_assert(pitr_meta_detect(text));
	ck_assert_int_eq(pitr_meta_parse(text, "F", &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "F: invalid start_wal \"\"");
	free(text);
}
END_TEST

START_TEST(test_detect)
{
	ck_assert(pitr_meta_detect(metas[0]));
	ck_assert(pitr_meta_detect("start_wal=garbage\n"));
	ck_assert(!pitr_meta_detect(""));
	ck_assert(!pitr_meta_detect("hello\n"));
	ck_assert(!pitr_meta_detect("stop_wal=000000010000000000000003\nstart_wal=000000010000000000000002\n"));
	ck_assert(!pitr_meta_detect(" start_wal=000000010000000000000002\n"));
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("meta");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_meta_old_form);
	tcase_add_test(tc, test_meta_new_form);
	tcase_add_test(tc, test_parse_unknown_source);
	tcase_add_test(tc, test_meta_errors);
	tcase_add_test(tc, test_detect);
	suite_add_tcase(s, tc);

	tc = tcase_create("format");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format_round_trip);
	tcase_add_test(tc, test_format_as_backup_writes);
	tcase_add_test(tc, test_format_empty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
