/*
 * check_monitor_output.c - unit tests for pitr-monitor's answers: the
 * plain numbers and error lines as OmniPITR printed them, the Prometheus
 * text (exact), JSON that python3's json module reads back, the Nagios
 * status line and exit status through OK, WARNING, CRITICAL and UNKNOWN,
 * and whole runs of pitr_cmd_monitor(): the errors check once per error
 * with the state dir, --from, --output replaced atomically, the option
 * combinations it refuses, and a check with no log file (plain 0, Nagios
 * UNKNOWN).
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/monitor/monitor_impl.h"
#include "common/log.h"
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

/* What `fn` writes to a FILE, as a string (static). */
static char out_buf[8192];

static FILE *
out_open(void)
{
	FILE *fp = fmemopen(out_buf, sizeof(out_buf), "w");

	ck_assert_ptr_nonnull(fp);
	return fp;
}

static const char *
out_close(FILE *fp)
{
	ck_assert_int_eq(fclose(fp), 0);
	return out_buf;
}

static struct pitr_mon_state
sample_state(void)
{
	struct pitr_mon_state s = { 0 };

	s.archive_last = 1000;
	snprintf(s.archive_wal, sizeof(s.archive_wal), "000000010000000000000003");
	s.restore_wait = 1010;
	s.backup_last = 900;
	s.errors_total = 3;
	return s;
}

START_TEST(test_plain)
{
	FILE *fp = out_open();
	struct pitr_mon_error e = { .epoch = 1, .pid = 42, .line = "ERROR : boom" };

	snprintf(e.ts, sizeof(e.ts), "2024-01-31 12:00:00.000123");
	pitr_mon_print_plain_number(fp, true, 12.5);
	pitr_mon_print_plain_number(fp, true, 0);
	pitr_mon_print_plain_number(fp, false, 99);
	pitr_mon_print_error(fp, &e);
	ck_assert_str_eq(out_close(fp), "12.500000\n0\n0\n2024-01-31 12:00:00.000123 : 42 : ERROR : boom\n");
}
END_TEST

START_TEST(test_values)
{
	struct pitr_mon_state s = sample_state();
	struct pitr_mon_values v;

	pitr_mon_values_compute(&s, 1020, &v);
	ck_assert(v.have_archive);
	ck_assert(v.have_restore);
	ck_assert(v.have_backup);
	ck_assert_double_eq(v.last_archive_age, 20);
	ck_assert_double_eq(v.current_archive_time, 0);
	ck_assert_double_eq(v.current_restore_time, 10);
	ck_assert_double_eq(v.last_restore_age, 0);
	ck_assert_double_eq(v.last_backup_age, 120);
	/* A log from a clock ahead of ours: never a negative age. */
	pitr_mon_values_compute(&s, 990, &v);
	ck_assert_double_eq(v.last_archive_age, 0);
}
END_TEST

START_TEST(test_prometheus)
{
	struct pitr_mon_state s = sample_state();
	struct pitr_mon_values v;
	FILE *fp = out_open();
	const char *text;

	pitr_mon_values_compute(&s, 1020, &v);
	v.have_queue = true;
	v.archive_queue = 4;
	v.archiver_failed = 2;
	ck_assert_int_eq(pitr_mon_write_prometheus(fp, &v, &s), 0);
	text = out_close(fp);
	ck_assert_ptr_nonnull(strstr(text,
		"# HELP pitrkit_last_archive_age_seconds Seconds since pitr-archive last archived a WAL file.\n"
		"# TYPE pitrkit_last_archive_age_seconds gauge\n"
		"pitrkit_last_archive_age_seconds 20.000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_current_archive_time_seconds 0.000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_archive_queue_segments 4.000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "# TYPE pitrkit_archiver_failed_total counter\n"
					   "pitrkit_archiver_failed_total 2\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_current_restore_time_seconds 10.000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_last_backup_age_seconds 120.000000\n"));
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_log_errors_total 3\n"));
	/* Never restored: the family without a sample, not a made-up 0. */
	ck_assert_ptr_nonnull(strstr(text, "# TYPE pitrkit_last_restore_age_seconds gauge\n# HELP"));
}
END_TEST

START_TEST(test_json)
{
	struct pitr_mon_state s = sample_state();
	struct pitr_mon_values v;
	struct pitr_mon_error e = { .epoch = 1.5, .pid = 42, .line = "ERROR : \"q\" \\ \x01" };
	const struct pitr_mon_error *errs[] = { &e };
	const char *path = h_path("out.json");
	FILE *fp = fopen(path, "w");
	int rc;

	snprintf(e.ts, sizeof(e.ts), "2024-01-31 12:00:00.000123");
	pitr_mon_values_compute(&s, 1020, &v);
	ck_assert_int_eq(pitr_mon_write_json(fp, &v, &s, errs, 1), 0);
	ck_assert_int_eq(fclose(fp), 0);
	rc = system(h_fmt("/usr/bin/python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); "
			  "assert d[\"last_archive_age\"] == 20 and d[\"archive_queue\"] is None "
			  "and d[\"last_restored_wal\"] is None and d[\"current_restore_time\"] == 10 "
			  "and d[\"errors_total\"] == 3 and d[\"errors\"][0][\"pid\"] == 42 "
			  "and d[\"errors\"][0][\"line\"] == \"ERROR : \\\"q\\\" \\\\ \\x01\", d' %s",
			  path));
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(test_nagios)
{
	FILE *fp = out_open();

	ck_assert_int_eq(pitr_mon_nagios(fp, "last-archive-age", true, 12.3, "s", "60", "300"),
			 PITR_MONITOR_OK);
	ck_assert_int_eq(pitr_mon_nagios(fp, "last-archive-age", true, 61, "s", "60", "300"),
			 PITR_MONITOR_WARNING);
	ck_assert_int_eq(pitr_mon_nagios(fp, "archive-queue", true, 400, "", "60", "300"),
			 PITR_MONITOR_CRITICAL);
	ck_assert_int_eq(pitr_mon_nagios(fp, "errors", true, 1, "", NULL, "0"),
			 PITR_MONITOR_CRITICAL);
	ck_assert_int_eq(pitr_mon_nagios(fp, "last-backup-age", false, 0, "s", "60", NULL),
			 PITR_MONITOR_UNKNOWN);
	ck_assert_str_eq(out_close(fp),
			 "PITR-MONITOR OK - last-archive-age 12 | last_archive_age=12.3s;60;300\n"
			 "PITR-MONITOR WARNING - last-archive-age 61 | last_archive_age=61s;60;300\n"
			 "PITR-MONITOR CRITICAL - archive-queue 400 | archive_queue=400;60;300\n"
			 "PITR-MONITOR CRITICAL - errors 1 | errors=1;;0\n"
			 "PITR-MONITOR UNKNOWN - last-backup-age: nothing in the logs yet\n");
}
END_TEST

/* Run pitr_cmd_monitor with stdout in a file; returns the exit status and
 * what it printed in *out (static). */
static int
run(const struct pitr_monitor_opts *o, const char **out)
{
	static char text[8192];
	const char *path = h_path("stdout");
	int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), rc;
	size_t len;
	char *got;

	fflush(stdout);
	ck_assert_int_ge(dup2(fd, 1), 0);
	close(fd);
	rc = pitr_cmd_monitor(o);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	got = h_read_file(path, &len);
	snprintf(text, sizeof(text), "%s", got);
	free(got);
	*out = text;
	return rc;
}

/* A log with two errors at now-100 and now-10 (local zone). */
static const char *
error_log(void)
{
	const char *path = h_path("a.log");
	char t1[64], t2[64];
	time_t now = time(NULL);
	FILE *fp = fopen(path, "w");

	pitr_log_format_time((long)now - 100, 0, t1, sizeof(t1));
	pitr_log_format_time((long)now - 10, 0, t2, sizeof(t2));
	fprintf(fp, "%s : 7 : pitr-archive : ERROR : first\n%s : 8 : omnipitr-restore : FATAL : second\n",
		t1, t2);
	fclose(fp);
	return path;
}

START_TEST(test_cmd_errors)
{
	const char *logs[] = { error_log() };
	struct pitr_monitor_opts o = { .logs = logs, .nlogs = 1, .state_dir = h_dir(),
				       .check = "errors" };
	const char *out;

	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, " : 7 : ERROR : first\n"));
	ck_assert_ptr_nonnull(strstr(out, " : 8 : FATAL : second\n"));
	ck_assert(strstr(out, "first") < strstr(out, "second"));
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_str_eq(out, "");
	o.from = "50";
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_ptr_null(strstr(out, "first"));
	ck_assert_ptr_nonnull(strstr(out, "second"));
	o.from = "2001-02-03 04:05:06";
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "first"));
	o.from = "yesterday";
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "invalid value \"yesterday\" for option \"--from\""));
	/* Nagios: the count of new errors, none left since the last call. */
	o.from = NULL;
	o.warning = "0";
	ck_assert_int_eq(run(&o, &out), PITR_MONITOR_OK);
	ck_assert_str_eq(out, "PITR-MONITOR OK - errors 0 | errors=0;0;\n");
}
END_TEST

START_TEST(test_cmd_output_file)
{
	const char *logs[] = { error_log() };
	struct pitr_monitor_opts o = { .logs = logs, .nlogs = 1, .state_dir = h_dir(),
				       .format = "prometheus", .output = h_path("m.prom") };
	const char *out;
	char *text;
	size_t len;

	h_write_file(h_path("m.prom"), "old\n", 4);
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_str_eq(out, "");
	text = h_read_file(h_path("m.prom"), &len);
	ck_assert_ptr_nonnull(strstr(text, "\npitrkit_log_errors_total 2\n"));
	free(text);
	/* State dir files, the lock, stdout's file and the output: no temporary. */
	ck_assert_int_eq(h_count_entries(h_dir()), 5);
}
END_TEST

START_TEST(test_cmd_refuses)
{
	const char *logs[] = { "/nonexistent/^Y.log" };
	struct pitr_monitor_opts o = { .logs = logs, .nlogs = 1, .state_dir = h_dir() };
	const char *out;

	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "no --check given"));
	/* OmniPITR's check names: case and '_' do not matter. */
	o.check = "Dump_State";
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_ptr_eq(strstr(out, "pitr-monitor-state\t2\n"), out);
	o.check = "last-archive-ages";
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "invalid value \"last-archive-ages\" for option \"--check\""));
	o.check = "last-archive-age";
	o.format = "prometheus";
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "writes every check at once"));
	o.format = NULL;
	o.check = "dump-state";
	o.critical = "5";
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "not dump-state"));
	o.check = "last-archive-age";
	o.critical = "lots";
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "invalid value \"lots\" for option \"--critical\""));
	o.critical = NULL;
	o.nlogs = 0;
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "no --log given"));
	o.nlogs = 1;
	o.state_dir = h_path("missing");
	ck_assert_int_eq(run(&o, &out), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "could not lock"));
	/* Nagios mode: the failure is the UNKNOWN status line. */
	o.warning = "1";
	ck_assert_int_eq(run(&o, &out), PITR_MONITOR_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(out, "PITR-MONITOR UNKNOWN - could not lock"));
}
END_TEST

/* No log file for the templates: plain answers as OmniPITR (0, or no
 * error line); a Nagios check cannot vouch for anything: UNKNOWN. */
START_TEST(test_cmd_no_log)
{
	const char *logs[] = { h_path("archive.log") };
	struct pitr_monitor_opts o = { .logs = logs, .nlogs = 1, .state_dir = h_dir(),
				       .check = "errors" };
	const char *out;

	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_str_eq(out, "");
	o.check = "current-archive-time";
	ck_assert_int_eq(run(&o, &out), 0);
	ck_assert_str_eq(out, "0\n");
	o.warning = "0";
	ck_assert_int_eq(run(&o, &out), PITR_MONITOR_UNKNOWN);
	ck_assert_str_eq(out, "PITR-MONITOR UNKNOWN - current-archive-time: no log file found for "
			 "the --log templates\n");
	o.check = "errors";
	ck_assert_int_eq(run(&o, &out), PITR_MONITOR_UNKNOWN);
	ck_assert_str_eq(out, "PITR-MONITOR UNKNOWN - errors: no log file found for the --log "
			 "templates\n");
	/* The file there, even empty (logrotate's create): answered. */
	h_write_file(logs[0], "", 0);
	ck_assert_int_eq(run(&o, &out), PITR_MONITOR_OK);
	ck_assert_str_eq(out, "PITR-MONITOR OK - errors 0 | errors=0;0;\n");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_monitor_output");
	TCase *tc = tcase_create("monitor_output");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_prometheus);
	tcase_add_test(tc, test_json);
	tcase_add_test(tc, test_nagios);
	tcase_add_test(tc, test_cmd_no_log);
	tcase_add_test(tc, test_cmd_errors);
	tcase_add_test(tc, test_cmd_output_file);
	tcase_add_test(tc, test_cmd_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
