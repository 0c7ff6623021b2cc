/*
 * check_monitor.c - unit tests for pitr-monitor's log reading: the log
 * line parser (zones, omnipitr- names, lines that are not ours), what each
 * line tells the state, the state file written and read back (and a bad
 * one refused), template globs, and the reader: only new complete lines,
 * a replaced file read again, earlier days' files of a template followed
 * in order, a file whose first line does not give back its name ignored;
 * a file replaced under the same name and grown past the old offset
 * (rename and create, copytruncate) read from its start, a version 1
 * state loaded, a wrapper's banner before the first log line, and a
 * daily file written in another zone than the reader's.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/monitor/monitor_impl.h"
#include "common/log.h"
#include "common/logpath.h"
#include "harness.h"

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

/* A log line of PROGRAM at time `t` (local zone), as the programs write. */
static const char *
line_at(time_t t, const char *program, const char *level, const char *msg)
{
	char ts[64];

	pitr_log_format_time((long)t, 123456, ts, sizeof(ts));
	return h_fmt("%s : 4242 : %s : %s : %s\n", ts, program, level, msg);
}

static void
append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
feed(struct pitr_mon_state *s, const char *text)
{
	struct pitr_mon_line l;
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", text);
	buf[strcspn(buf, "\n")] = '\0';
	ck_assert_int_eq(pitr_mon_parse_line(buf, &l), 0);
	pitr_mon_state_feed(s, &l);
}

START_TEST(test_parse_line)
{
	struct pitr_mon_line l;
	const char *text = "2024-01-31 12:00:00.000123 +0100 : 77 : pitr-archive : LOG : "
			   "archived \"000000010000000000000003\" (segment) in 1.0 ms";

	ck_assert_int_eq(pitr_mon_parse_line(text, &l), 0);
	/* 11:00:00 UTC: the zone decides, not the reader's TZ. */
	ck_assert_double_eq_tol(l.epoch, 1706698800.000123, 1e-6);
	ck_assert_int_eq(l.pid, 77);
	ck_assert_str_eq(l.ts, "2024-01-31 12:00:00.000123");
	ck_assert_str_eq(l.program, "archive");
	ck_assert_str_eq(l.level, "LOG");
	ck_assert_str_eq(l.message, "archived \"000000010000000000000003\" (segment) in 1.0 ms");
	ck_assert_int_eq(pitr_mon_parse_line("2024-01-31 12:00:00.000000 -0230 : 1 : "
					     "omnipitr-backup-slave : ERROR : x : y", &l), 0);
	ck_assert_double_eq_tol(l.epoch, 1706711400.0, 1e-6);
	ck_assert_str_eq(l.program, "backup-slave");
	ck_assert_str_eq(l.message, "x : y");
	ck_assert_str_eq(l.level_and_message, "ERROR : x : y");
}
END_TEST

START_TEST(test_parse_refuses)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2024-01-31 12:00:00.000123 : 77 : pitr-archive : LOG : no zone",
		"2024-01-31 12:00:00.000123 +0100 : 77 : postgres : LOG : not ours",
		"2024-01-31 12:00:00.000123 +0100 : x7 : pitr-archive : LOG : bad pid",
		"2024-01-31 12:00:00.000123 +0100 : 77 : pitr-archive : LOG",
		"2024-01-31 12:00:00.000123 *0100 : 77 : pitr-archive : LOG : bad zone",
		"2024-01-31 12:00:00.000123 +0100 : 77 : pitr- : LOG : no program (fuzz_monitor)",
		"2024-01-31 12:00:00.000123 +0100 : 77 : omnipitr- : LOG : no program",
	};
	struct pitr_mon_line l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pitr_mon_parse_line(bad[i], &l) == -1, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_feed_archive)
{
	struct pitr_mon_state s = { 0 };
	time_t t = 1700000000;

	feed(&s, line_at(t, "pitr-archive", "LOG", "archived \"000000010000000000000003\" (segment) in 2 ms"));
	ck_assert_double_eq_tol(s.archive_last, t + 0.123456, 1e-6);
	ck_assert_str_eq(s.archive_wal, "000000010000000000000003");
	ck_assert(s.archive_fail == 0);
	feed(&s, line_at(t + 5, "pitr-archive", "ERROR", "could not write \"/a\": No space left"));
	feed(&s, line_at(t + 9, "pitr-archive", "ERROR", "again"));
	ck_assert_double_eq_tol(s.archive_fail, t + 5.123456, 1e-6);
	ck_assert_uint_eq(s.errors_total, 2);
	ck_assert_uint_eq(s.nerrors, 2);
	ck_assert_str_eq(s.errors[0].line, "ERROR : could not write \"/a\": No space left");
	ck_assert_int_eq(s.errors[0].pid, 4242);
	/* Other lines of pitr-archive change nothing. */
	feed(&s, line_at(t + 10, "pitr-archive", "LOG", "\"x\" already delivered to \"y\" by an earlier attempt"));
	ck_assert_double_eq_tol(s.archive_last, t + 0.123456, 1e-6);
	feed(&s, line_at(t + 11, "omnipitr-archive", "LOG", "archived \"000000010000000000000004.partial\" (partial segment) in 2 ms"));
	ck_assert(s.archive_fail == 0);
	ck_assert_str_eq(s.archive_wal, "000000010000000000000004.partial");
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_feed_restore_backup)
{
	struct pitr_mon_state s = { 0 };
	time_t t = 1700000000;

	feed(&s, line_at(t, "pitr-restore", "LOG", "restored \"000000010000000000000003\" from \"/a/x.gz\" in 1 ms"));
	ck_assert_str_eq(s.restore_wal, "000000010000000000000003");
	feed(&s, line_at(t + 1, "pitr-restore", "LOG", "segment \"000000010000000000000004\" is not in the archive yet: waiting"));
	ck_assert_double_eq_tol(s.restore_wait, t + 1.123456, 1e-6);
	ck_assert_int_eq(s.restore_pid, 4242);
	feed(&s, line_at(t + 2, "pitr-restore", "LOG", "removed 2 files older than \"x\" from \"y\""));
	ck_assert(s.restore_wait > 0);
	feed(&s, line_at(t + 3, "pitr-restore", "LOG", "ending recovery: segment \"x\" is not in the archive (smart finish)"));
	ck_assert(s.restore_wait == 0);
	feed(&s, line_at(t + 4, "pitr-restore", "LOG", "segment \"000000010000000000000004\" is not in the archive yet: waiting"));
	feed(&s, line_at(t + 5, "pitr-restore", "LOG", "restored \"000000010000000000000004\" from \"/a/y\" in 1 ms"));
	ck_assert(s.restore_wait == 0);
	ck_assert_double_eq_tol(s.restore_last, t + 5.123456, 1e-6);
	feed(&s, line_at(t + 6, "pitr-backup-master", "LOG", "backup \"b1\" started at 0/2000028"));
	ck_assert(s.backup_last == 0);
	feed(&s, line_at(t + 7, "pitr-backup-slave", "LOG", "backup \"b1\" done: WAL a to b, 1 bytes of data"));
	ck_assert_double_eq_tol(s.backup_last, t + 7.123456, 1e-6);
	ck_assert_uint_eq(s.errors_total, 0);
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_state_round_trip)
{
	struct pitr_mon_state s = { 0 }, r = { 0 };
	char *a = NULL, *b = NULL;
	size_t alen, blen;
	FILE *fp;

	ck_assert_int_eq(pitr_mon_state_load(&r, h_dir()), 0); /* none yet: empty */
	ck_assert_uint_eq(r.nfiles, 0);
	feed(&s, line_at(1700000000, "pitr-archive", "LOG", "archived \"000000010000000000000003\" (segment) in 2 ms"));
	feed(&s, line_at(1700000001, "pitr-archive", "FATAL", "tab\there"));
	feed(&s, line_at(1700000002, "pitr-restore", "LOG", "segment \"000000010000000000000004\" is not in the archive yet: waiting"));
	ck_assert_ptr_nonnull(pitr_mon_state_add_file(&s, "/var/log/a b.log", 1700000000.5));
	s.files[0].offset = 1234;
	s.files[0].dev = 64769;
	s.files[0].ino = 9876543210ULL;
	ck_assert_int_eq(pitr_mon_state_save(&s, h_dir()), 0);
	ck_assert_int_eq(pitr_mon_state_load(&r, h_dir()), 0);
	fp = open_memstream(&a, &alen);
	pitr_mon_state_write(&s, fp);
	fclose(fp);
	fp = open_memstream(&b, &blen);
	pitr_mon_state_write(&r, fp);
	fclose(fp);
	ck_assert_str_eq(a, b);
	ck_assert_ptr_nonnull(strstr(a, "\tFATAL : tab here\n"));
	ck_assert_int_eq(r.files[0].offset, 1234);
	ck_assert_uint_eq(r.files[0].dev, 64769);
	ck_assert_uint_eq(r.files[0].ino, 9876543210ULL);
	ck_assert_ptr_nonnull(strstr(a, "\nfile\t1234\t1700000000.500000\t64769\t9876543210\t/var/log/a b.log\n"));
	free(a);
	free(b);
	pitr_mon_state_free(&r);
	pitr_mon_state_prune(&s, 1700000000 + PITR_MON_ERROR_KEEP_S + 5);
	ck_assert_uint_eq(s.nerrors, 0);
	ck_assert_uint_eq(s.errors_total, 1);
	pitr_mon_state_free(&s);
}
END_TEST

/* A log line's quoted name may hold a tab (the fuzzer found it): the
 * archive and restore records still read back as written. */
START_TEST(test_state_tab_in_name)
{
	struct pitr_mon_state s = { 0 }, r = { 0 };

	feed(&s, line_at(1700000000, "pitr-archive", "LOG", "archived \"000file\t0003\" (segment) in 2 ms"));
	feed(&s, line_at(1700000001, "pitr-restore", "LOG", "segment \"0004\tx\" is not in the archive yet: waiting"));
	ck_assert_ptr_nonnull(strchr(s.archive_wal, '\t'));
	ck_assert_int_eq(pitr_mon_state_save(&s, h_dir()), 0);
	ck_assert_int_eq(pitr_mon_state_load(&r, h_dir()), 0);
	ck_assert_str_eq(r.archive_wal, s.archive_wal);
	ck_assert_str_eq(r.restore_wal, s.restore_wal);
	pitr_mon_state_free(&r);
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_state_bad)
{
	struct pitr_mon_state s = { 0 };

	h_write_file(h_path("pitr-monitor.state"), "pitr-monitor-state\t1\nbogus\t1\n", 29);
	ck_assert_int_eq(pitr_mon_state_load(&s, h_dir()), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "line 2: not a pitr-monitor state record"));
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_template_glob)
{
	char *g = pitr_mon_template_glob("/var/log/pitr/^Y/^m/archive-^Y-^m-^d.log");

	ck_assert_str_eq(g, "/var/log/pitr/*/*/archive-*-*-*.log");
	free(g);
	g = pitr_mon_template_glob("/l/[x]*^a^H.log");
	ck_assert_str_eq(g, "/l/\\[x\\]\\**.log");
	free(g);
	g = pitr_mon_template_glob("/l/plain.log");
	ck_assert_str_eq(g, "/l/plain.log");
	free(g);
}
END_TEST

START_TEST(test_read_incremental)
{
	struct pitr_mon_state s = { 0 };
	const char *tmpl = h_path("archive.log");
	const char *const tmpls[] = { tmpl };
	time_t t = time(NULL);

	append(tmpl, line_at(t, "pitr-archive", "LOG", "archived \"000000010000000000000003\" (segment) in 2 ms"));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 0);
	/* Half a line: left for the next call. */
	append(tmpl, "2024-01-31 12:00:00.000123 +0100 : 7 : pitr-archive : ERROR : ha");
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 0);
	ck_assert_uint_eq(s.errors_total, 0);
	append(tmpl, "lf\n");
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	ck_assert_uint_eq(s.errors_total, 1);
	ck_assert_str_eq(s.errors[0].line, "ERROR : half");
	/* Replaced by a shorter file: read from its start. */
	ck_assert_int_eq(unlink(tmpl), 0);
	append(tmpl, line_at(t, "pitr-archive", "ERROR", "new"));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	ck_assert_uint_eq(s.errors_total, 2);
	/* Gone: forgotten. */
	ck_assert_int_eq(unlink(tmpl), 0);
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 0);
	ck_assert_uint_eq(s.nfiles, 0);
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_read_rotated)
{
	struct pitr_mon_state s = { 0 };
	const char *tmpl = h_fmt("%s/a-^Y-^m-^d.log", h_dir());
	const char *const tmpls[] = { tmpl };
	time_t today = time(NULL), yesterday = today - 86400;
	char *p_today = pitr_logpath_expand(tmpl, today);
	char *p_yesterday = pitr_logpath_expand(tmpl, yesterday);
	char *p_other = pitr_logpath_expand(tmpl, yesterday - 86400);

	append(p_today, line_at(today, "pitr-archive", "LOG", "archived \"000000010000000000000009\" (segment) in 2 ms"));
	append(p_yesterday, line_at(yesterday, "pitr-archive", "LOG", "archived \"000000010000000000000008\" (segment) in 2 ms"));
	append(p_yesterday, line_at(yesterday + 1, "pitr-archive", "ERROR", "yesterday's"));
	/* Its name says the day before yesterday, its first line says today:
	 * not a file of the template. */
	append(p_other, line_at(today, "pitr-archive", "ERROR", "impostor"));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 3);
	ck_assert_uint_eq(s.nfiles, 2);
	ck_assert_str_eq(s.files[0].path, p_yesterday);
	ck_assert_str_eq(s.files[1].path, p_today);
	/* Read oldest file first: the last archive is today's. */
	ck_assert_str_eq(s.archive_wal, "000000010000000000000009");
	ck_assert_uint_eq(s.errors_total, 1);
	ck_assert_str_eq(s.errors[0].line, "ERROR : yesterday's");
	free(p_today);
	free(p_yesterday);
	free(p_other);
	pitr_mon_state_free(&s);
}
END_TEST

static const char *
archived(time_t t, int seg)
{
	return line_at(t, "pitr-archive", "LOG",
		       h_fmt("archived \"0000000100000000000000%02d\" (segment) in 2 ms", seg));
}

START_TEST(test_read_replaced)
{
	struct pitr_mon_state s = { 0 };
	const char *tmpl = h_path("archive.log");
	const char *const tmpls[] = { tmpl };
	time_t t = time(NULL) - 100;
	unsigned long long ino;
	FILE *fp;

	append(tmpl, archived(t, 1));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	/* logrotate's rename and create; by the next call the new file is
	 * longer than what was read of the old one.  Its first line has the
	 * old one's time: the inode tells them apart. */
	ck_assert_int_eq(rename(tmpl, h_path("archive.log.1")), 0);
	append(tmpl, line_at(t, "pitr-archive", "ERROR", "disk full"));
	append(tmpl, archived(t + 1, 2));
	append(tmpl, archived(t + 2, 3));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 3);
	ck_assert_uint_eq(s.errors_total, 1);
	ck_assert_str_eq(s.errors[0].line, "ERROR : disk full");
	ck_assert_str_eq(s.archive_wal, "000000010000000000000003");
	ino = s.files[0].ino;
	/* copytruncate: the same inode, emptied and written past the old
	 * offset; its first line's time tells. */
	fp = fopen(tmpl, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(line_at(t + 10, "pitr-archive", "ERROR", "disk full again"), fp);
	for (int i = 4; i <= 6; i++)
		fputs(archived(t + 10 + i, i), fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 4);
	ck_assert_uint_eq(s.files[0].ino, ino);
	ck_assert_uint_eq(s.errors_total, 2);
	ck_assert_str_eq(s.errors[1].line, "ERROR : disk full again");
	ck_assert_str_eq(s.archive_wal, "000000010000000000000006");
	/* Through the state file: the same file is not read again. */
	ck_assert_int_eq(pitr_mon_state_save(&s, h_dir()), 0);
	pitr_mon_state_free(&s);
	ck_assert_int_eq(pitr_mon_state_load(&s, h_dir()), 0);
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 0);
	append(tmpl, archived(t + 20, 7));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	ck_assert_uint_eq(s.errors_total, 2);
	pitr_mon_state_free(&s);
}
END_TEST

/* A state written before the files' identity was kept. */
START_TEST(test_state_v1)
{
	struct pitr_mon_state s = { 0 };
	const char *log = h_path("archive.log");
	const char *const tmpls[] = { log };
	const char *first = archived(1700000000, 1);
	const char *text;
	struct stat st;

	append(log, first);
	text = h_fmt("pitr-monitor-state\t1\nfile\t%zu\t1700000000.123456\t%s\n"
		     "archive\t1700000000.123456\t0.000000\t000000010000000000000001\n"
		     "errors-total\t0\n", strlen(first), log);
	h_write_file(h_path("pitr-monitor.state"), text, strlen(text));
	ck_assert_int_eq(pitr_mon_state_load(&s, h_dir()), 0);
	ck_assert_uint_eq(s.nfiles, 1);
	ck_assert_int_eq(s.files[0].offset, (long long)strlen(first));
	ck_assert_uint_eq(s.files[0].ino, 0);
	/* Its identity unknown, the file is taken as the one read: nothing
	 * is read twice, and the identity is kept from now on. */
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 0);
	ck_assert_int_eq(stat(log, &st), 0);
	ck_assert_uint_eq(s.files[0].ino, (unsigned long long)st.st_ino);
	append(log, line_at(1700000100, "pitr-archive", "ERROR", "new"));
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 1);
	ck_assert_uint_eq(s.errors_total, 1);
	pitr_mon_state_free(&s);
}
END_TEST

START_TEST(test_read_banner)
{
	struct pitr_mon_state s = { 0 };
	const char *exact = h_path("wrapped.log");
	const char *daily = h_fmt("%s/w-^Y-^m-^d.log", h_dir());
	const char *banner_only = h_fmt("%s/b-^Y-^m-^d.log", h_dir());
	const char *const tmpls[] = { exact, daily, banner_only };
	const char *empty = h_path("empty.log");
	time_t t = time(NULL);
	char *p_daily = pitr_logpath_expand(daily, t);
	char *p_banner = pitr_logpath_expand(banner_only, t);

	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	/* Named exactly: read whatever its first line. */
	append(exact, "archive wrapper started\n");
	append(exact, archived(t, 1));
	append(exact, line_at(t + 1, "pitr-archive", "ERROR", "could not archive"));
	/* A daily file: its first log line's time gives back its name. */
	append(p_daily, "wrapper banner\n");
	append(p_daily, line_at(t, "pitr-restore", "ERROR", "daily"));
	/* No log line yet: nothing to match its name against. */
	append(p_banner, "wrapper banner\n");
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 3), 5);
	ck_assert_uint_eq(s.nfiles, 2);
	ck_assert_uint_eq(s.errors_total, 2);
	ck_assert_str_eq(s.archive_wal, "000000010000000000000001");
	ck_assert(s.archive_fail > 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("skipping log file \"%s\": no pitr log line",
						    p_banner)));
	/* Named exactly, even empty: followed from the start. */
	append(empty, "");
	ck_assert_int_eq(pitr_mon_read_logs(&s, &empty, 1), 0);
	ck_assert_ptr_nonnull(pitr_mon_state_file(&s, empty));
	append(empty, line_at(t + 2, "pitr-archive", "ERROR", "after"));
	ck_assert_int_eq(pitr_mon_read_logs(&s, &empty, 1), 1);
	ck_assert_uint_eq(s.errors_total, 3);
	free(p_daily);
	free(p_banner);
	pitr_mon_state_free(&s);
}
END_TEST

/* The writer's TZ is UTC, the reader's nine hours ahead: a line late in
 * the writer's day falls on the next day for the reader. */
START_TEST(test_read_other_zone)
{
	struct pitr_mon_state s = { 0 };
	const char *tmpl = h_fmt("%s/archive-^Y-^m-^d.log", h_dir());
	const char *const tmpls[] = { tmpl };
	const char *old_tz = getenv("TZ");
	char *saved = old_tz != NULL ? strdup(old_tz) : NULL;

	append(h_path("archive-2026-12-01.log"), "2026-12-01 23:30:00.000000 +0000 : 42 : "
	       "pitr-archive : ERROR : could not archive \"000000010000000000000002\": disk full\n");
	/* The line's clock says the 30th: not this file. */
	append(h_path("archive-2026-12-02.log"), "2026-11-30 23:30:00.000000 +0000 : 42 : "
	       "pitr-archive : ERROR : impostor\n");
	/* Behind UTC: the 1st for the writer, the 2nd in UTC. */
	append(h_path("archive-2026-11-30.log"), "2026-11-30 22:00:00.000000 -0500 : 43 : "
	       "pitr-archive : ERROR : from New York\n");
	ck_assert_int_eq(setenv("TZ", "Asia/Tokyo", 1), 0);
	tzset();
	ck_assert_int_eq(pitr_mon_read_logs(&s, tmpls, 1), 2);
	if (saved != NULL)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
	ck_assert_uint_eq(s.nfiles, 2);
	ck_assert_uint_eq(s.errors_total, 2);
	ck_assert_str_eq(s.errors[0].line, "ERROR : from New York");
	ck_assert_str_eq(s.errors[1].line, "ERROR : could not archive \"000000010000000000000002\": disk full");
	pitr_mon_state_free(&s);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_monitor");
	TCase *tc = tcase_create("monitor_logs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_line);
	tcase_add_test(tc, test_parse_refuses);
	tcase_add_test(tc, test_feed_archive);
	tcase_add_test(tc, test_feed_restore_backup);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_tab_in_name);
	tcase_add_test(tc, test_state_bad);
	tcase_add_test(tc, test_template_glob);
	tcase_add_test(tc, test_read_incremental);
	tcase_add_test(tc, test_read_rotated);
	tcase_add_test(tc, test_read_replaced);
	tcase_add_test(tc, test_state_v1);
	tcase_add_test(tc, test_read_banner);
	tcase_add_test(tc, test_read_other_zone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
