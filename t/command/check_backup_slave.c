/* check_backup_slave.c - pitr-backup-slave's run (lib/command/backup/)
 * against the scripted server of t/server/pqfake.h: the backup of a hot
 * standby, its WAL read from the archive the standby restores from (-s)
 * and kept there by the removal pause trigger (-p) while the backup needs
 * it.  The refusals that come before any server contact are in
 * check_backup.c. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "command/backup/backup.h"
#include "common/log.h"
#include "compress/codec.h"
#include "harness.h"
#include "postgres/wal.h"
#include "server/pqfake.h"

#define SCRATCH_AFTER "arch\ndest\npgdata\nts\n"

static char trigger[4096];

/* Options for a backup of the standby on bf_pgdata, its WAL from
 * gzip=bf_arch, the trigger in the scratch dir. */
static void
slave_opts(struct pitr_backup_opts *o)
{
	static char source[4200];

	bf_opts(o);
	o->xlogs = NULL;
	snprintf(source, sizeof(source), "gzip=%s", bf_arch);
	o->source = source;
	snprintf(trigger, sizeof(trigger), "%s", h_path("pause"));
	o->pause_trigger = trigger;
}

/* The trigger holds this process's pid while the backup needs the
 * archive: checked when pg_backup_stop runs.  Then the stop segment
 * reaches the archive (the primary archives it). */
static void
trigger_held_then_archive(void *arg)
{
	char *pid = h_read_file(trigger, NULL);

	(void)arg;
	ck_assert_str_eq(pid, h_fmt("%ld\n", (long)getpid()));
	free(pid);
	bf_put_segment(bf_arch, 3, PITR_CODEC_GZIP);
}

static void
archive_stop_segment(void *arg)
{
	(void)arg;
	bf_put_segment(bf_arch, 3, PITR_CODEC_GZIP);
}

/* The session of a whole backup of the standby. */
static void
script_backup(void (*during_stop)(void *arg))
{
	bf_script_connect(bf_pgdata, "t");
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, true, NULL);
	if (during_stop != NULL)
		h_pq_during(during_stop, NULL);
	bf_script_finish();
}

static const char *
run_label(void)
{
	static char label[512];
	const char *p = strstr(h_log(), "LOG : backup \"");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "LOG : backup \"%511[^\"]\" started", label), 1);
	return label;
}

static size_t
file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (size_t)st.st_size;
}

static void
assert_dir(const char *dir, const char *want)
{
	char *l = bf_dir_list(dir);

	ck_assert_str_eq(l, want);
	free(l);
}

/* The archive is the standby's: the backup reads it and leaves it as it
 * was. */
#define ARCHIVE_AFTER BF_START_WAL ".gz\n" BF_STOP_WAL ".gz\n"

START_TEST(test_backup)
{
	struct pitr_backup_opts o;
	char *list, *label;

	bf_setup();
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	slave_opts(&o);
	/* OmniPITR's -P names the master: without -cm it is not used, and
	 * the backup says so rather than take it for the standby's. */
	o.master_port = "5999";
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(trigger_held_then_archive);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_str_eq(bf_log(), h_fmt(
		"LOG : WARNING: --database, --host, --port and --username name the master, which "
		"only --call-master calls: they are not used (the standby's own connection is "
		"--standby-database, --standby-host, --standby-port, --standby-username)\n"
		"LOG : created removal pause trigger \"%s\"\n"
		"LOG : backup \"%s\" started at " BF_START_LSN "\n"
		"LOG : removed removal pause trigger \"%s\"\n"
		"LOG : delivered \"bk-data.tar\" to %s\n"
		"LOG : delivered \"bk-xlog.tar\" to %s\n"
		"LOG : delivered \"bk-sig.tar\" to %s\n"
		"LOG : delivered \"bk-meta.tar\" to %s\n"
		"LOG : backup \"%s\" done: WAL " BF_START_WAL " to " BF_STOP_WAL ", %zu bytes of "
		"data, 2099200 bytes of WAL, to 1 destinations\n",
		trigger, run_label(), trigger, bf_dest, bf_dest, bf_dest, bf_dest, run_label(),
		file_size(h_fmt("%s/bk-data.tar", bf_dest))));
	assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	assert_dir(bf_arch, ARCHIVE_AFTER);
	assert_dir(h_dir(), SCRATCH_AFTER);
	/* The standby's label; the archived segments decompressed. */
	label = bf_tar_member(h_fmt("%s/bk-data.tar", bf_dest), PITR_CODEC_NONE, "pgdata/backup_label",
			      NULL);
	ck_assert_str_eq(label, bf_label(true));
	free(label);
	list = bf_tar_list(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE);
	ck_assert_str_eq(list, "pgdata/pg_wal/" BF_START_WAL " 1048576\n"
			 "pgdata/pg_wal/" BF_STOP_WAL " 1048576\n");
	free(list);
	for (uint64_t segno = 2; segno <= 3; segno++) {
		unsigned char *want = h_make_segment(BF_SEG, 1, segno, BF_SYSID, (unsigned)segno);
		char name[PITR_WAL_NAME_MAX], *got;
		size_t len;

		pitr_wal_format_segment(name, 1, segno, BF_SEG);
		got = bf_tar_member(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE,
				    h_fmt("pgdata/pg_wal/%s", name), &len);
		ck_assert_uint_eq(len, BF_SEG);
		ck_assert(memcmp(got, want, BF_SEG) == 0);
		free(got);
		free(want);
	}
	list = bf_read(h_fmt("%s/bk-meta.tar", bf_dest), PITR_CODEC_NONE, NULL);
	ck_assert(bf_has_line(list, "start_wal=" BF_START_WAL));
	ck_assert(bf_has_line(list, "stop_wal=" BF_STOP_WAL));
	ck_assert(bf_has_line(list, "system_identifier=" BF_SYSID_TEXT));
	ck_assert(bf_has_line(list, "xlog_size=2099200"));
	free(list);
	bf_teardown();
}
END_TEST

/* A standby whose replay ends on a segment boundary (the primary's last
 * record was a switch) stops there: the backup's last segment is the one
 * that starts at the stop LSN, which recovery to the end of the backup
 * reads before it stops, so the xlog tarball holds it (issue 9). */
static void
archive_boundary_segments(void *arg)
{
	(void)arg;
	bf_put_segment(bf_arch, 3, PITR_CODEC_GZIP);
	bf_put_segment(bf_arch, 4, PITR_CODEC_GZIP);
}

START_TEST(test_stop_on_boundary)
{
	struct pitr_backup_opts o;
	char *list;

	bf_setup();
	slave_opts(&o);
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	bf_script_connect(bf_pgdata, "t");
	bf_script_start();
	h_pq_exec(BF_STOP_NOWAIT);
	h_pq_rows(1, 3, "0/400000", bf_label(true), "");
	h_pq_during(archive_boundary_segments, NULL);
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "done: WAL " BF_START_WAL " to 000000010000000000000004, "));
	list = bf_tar_list(h_fmt("%s/bk-xlog.tar", bf_dest), PITR_CODEC_NONE);
	ck_assert_str_eq(list, "pgdata/pg_wal/" BF_START_WAL " 1048576\n"
			 "pgdata/pg_wal/" BF_STOP_WAL " 1048576\n"
			 "pgdata/pg_wal/000000010000000000000004 1048576\n");
	free(list);
	list = bf_read(h_fmt("%s/bk-meta.tar", bf_dest), PITR_CODEC_NONE, NULL);
	ck_assert(bf_has_line(list, "stop_wal=000000010000000000000004"));
	ck_assert(bf_has_line(list, "stop_lsn=0/400000"));
	free(list);
	bf_teardown();
}
END_TEST

/* -sx with -s: no xlog tarball, but the trigger holds until the stop
 * segment is in the archive, from where a recovery will read it. */
START_TEST(test_skip_xlogs)
{
	struct pitr_backup_opts o;

	bf_setup();
	slave_opts(&o);
	o.skip_xlogs = true;
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(trigger_held_then_archive);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\n");
	assert_dir(h_dir(), SCRATCH_AFTER);
	h_pq_done();
	h_log_reset();

	/* -sx without -s: no wait, and no trigger asked for. */
	o.source = NULL;
	o.pause_trigger = NULL;
	ck_assert_int_eq(unlink(h_fmt("%s/bk-data.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-sig.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-meta.tar", bf_dest)), 0);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\n");
	bf_teardown();
}
END_TEST

#define MASTER_UNUSED \
	"LOG : WARNING: --database, --host, --port and --username name the master, which " \
	"only --call-master calls: they are not used (the standby's own connection is " \
	"--standby-database, --standby-host, --standby-port, --standby-username)\n"

START_TEST(test_not_a_standby)
{
	struct pitr_backup_opts o;

	bf_setup();
	slave_opts(&o);
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : the server is not a standby (not in recovery): use "
			 "pitr-backup-master\n");
	assert_dir(bf_dest, "");
	assert_dir(h_dir(), SCRATCH_AFTER);
	h_pq_done();
	h_log_reset();

	/* An older command line naming the standby by -h/-P/-U, libpq's
	 * default reaching the primary: the warning comes first, before the
	 * standby is connected to, and the error says why. */
	o.master_host = "standby1";
	o.master_port = "5433";
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), MASTER_UNUSED
			 "ERROR : the server is not a standby (not in recovery): use "
			 "pitr-backup-master (-d/-h/-P/-U name the master, as in OmniPITR; the "
			 "standby is --standby-database/--standby-host/--standby-port/"
			 "--standby-username)\n");
	assert_dir(bf_dest, "");
	bf_teardown();
}
END_TEST

/* --- --call-master ------------------------------------------------------ */

#define MASTER_CONNINFO "host=master1 port=5999 user=mon fallback_application_name=pitrkit"
#define MASTER_MAY "SELECT has_function_privilege('pg_switch_wal()', 'EXECUTE')"

static void
cm_opts(struct pitr_backup_opts *o)
{
	slave_opts(o);
	o->call_master = true;
	o->master_host = "master1";
	o->master_port = "5999";
	o->master_user = "mon";
}

/* The check before the backup, in a session that ends there: one held
 * idle through the backup could be gone by its end. */
static void
script_master_check(const char *may)
{
	h_pq_connect(MASTER_CONNINFO, 1);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value("f");
	h_pq_exec("SELECT system_identifier FROM pg_control_system()");
	h_pq_value(BF_SYSID_TEXT);
	h_pq_exec(MASTER_MAY);
	h_pq_value(may);
	if (strcmp(may, "t") != 0) {
		h_pq_exec("SELECT quote_ident(current_user)");
		h_pq_value("mon");
	}
	h_pq_finish();
}

/* The standby's backup with -cm, up to its stop; then `switch_session`
 * scripts the master's session of the switch, and the standby's ends. */
static void
script_cm_backup(void (*switch_session)(void))
{
	bf_script_connect(bf_pgdata, "t");
	script_master_check("t");
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, true, NULL);
	switch_session();
	bf_script_finish();
}

static void
switch_ok(void)
{
	h_pq_connect(MASTER_CONNINFO, 1);
	h_pq_exec("SELECT pg_current_xact_id()");
	h_pq_value("750");
	h_pq_exec("SELECT pg_switch_wal()");
	h_pq_value("0/3000100");
	h_pq_during(archive_stop_segment, NULL);
	h_pq_finish();
}

START_TEST(test_call_master)
{
	struct pitr_backup_opts o;

	bf_setup();
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	cm_opts(&o);
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_cm_backup(switch_ok);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(bf_log(), "LOG : --call-master: WAL switched on the master at "
				     "0/3000100\n"));
	ck_assert_ptr_null(strstr(bf_log(), "WARNING"));
	ck_assert_ptr_null(strstr(bf_log(), "ERROR"));
	assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	bf_teardown();
}
END_TEST

/* A role without EXECUTE on pg_switch_wal() is refused before the backup
 * starts, in one line. */
START_TEST(test_call_master_not_allowed)
{
	struct pitr_backup_opts o;

	bf_setup();
	cm_opts(&o);
	bf_script_connect(bf_pgdata, "t");
	script_master_check("f");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : --call-master: role mon may not execute pg_switch_wal() "
			 "on the master: GRANT EXECUTE ON FUNCTION pg_switch_wal() TO mon, or leave "
			 "out -cm\n");
	assert_dir(bf_dest, "");
	assert_dir(h_dir(), SCRATCH_AFTER);
	bf_teardown();
}
END_TEST

/* The master out of reach at the switch: the segment comes anyway (the
 * master's archive_timeout, its next switch). */
static void
switch_no_login(void)
{
	h_pq_connect(MASTER_CONNINFO, 1);
	h_pq_error("connection to server at \"master1\", port 5999 failed: FATAL:  role \"mon\" is "
		   "not permitted to log in\n");
	h_pq_during(archive_stop_segment, NULL);
	h_pq_finish();
}

/* The session lost before the switch. */
static void
switch_session_dies(void)
{
	h_pq_connect(MASTER_CONNINFO, 1);
	h_pq_exec("SELECT pg_current_xact_id()");
	h_pq_dies("FATAL:  terminating connection due to administrator command\n");
	h_pq_during(archive_stop_segment, NULL);
	h_pq_finish();
}

/* A failed switch leaves the finished backup whole: a WARNING, and the
 * stop segment waited for as without -cm. */
START_TEST(test_call_master_switch_fails)
{
	static void (*const sessions[])(void) = { switch_no_login, switch_session_dies };
	static const char *const why[] = {
		"could not connect to PostgreSQL: connection to server at \"master1\", port 5999 "
		"failed: FATAL:  role \"mon\" is not permitted to log in",
		"query \"SELECT pg_current_xact_id()\" failed: FATAL:  terminating connection due to "
		"administrator command",
	};

	for (size_t i = 0; i < 2; i++) {
		struct pitr_backup_opts o;

		bf_setup();
		cm_opts(&o);
		bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
		script_cm_backup(sessions[i]);
		ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
		ck_assert_ptr_nonnull(strstr(h_log(), h_fmt(
			"LOG : WARNING: --call-master: no WAL switch on the master (%s): the stop "
			"segment is waited for as without --call-master\n", why[i])));
		ck_assert_ptr_null(strstr(h_log(), "ERROR"));
		assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
		h_pq_done();
		h_log_reset();
		bf_teardown();
	}
}
END_TEST

/* --- the removal pause trigger ---------------------------------------- */

/* Another live process's pause is left as it is, before and after. */
START_TEST(test_trigger_held_by_another)
{
	struct pitr_backup_opts o;
	char *pid;
	const char *ppid = h_fmt("%ld\n", (long)getppid());

	bf_setup();
	slave_opts(&o);
	h_write_file(trigger, ppid, strlen(ppid));
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(archive_stop_segment);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removal pause trigger \"%s\" exists "
						    "already: left for its owner\n", trigger)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	pid = h_read_file(trigger, NULL);
	ck_assert_str_eq(pid, ppid);
	free(pid);
	bf_teardown();
}
END_TEST

/* A killed backup's trigger becomes ours, and goes with us. */
START_TEST(test_trigger_takeover)
{
	struct pitr_backup_opts o;
	long dead = bf_dead_pid();
	char cwd[4096];

	bf_setup();
	slave_opts(&o);
	h_write_file(trigger, h_fmt("%ld\n", dead), strlen(h_fmt("%ld\n", dead)));
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(trigger_held_then_archive);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removal pause trigger \"%s\" was left by "
						    "backup process %ld, which is gone: taking it "
						    "over\n", trigger, dead)));
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert(!h_exists(trigger));
	h_pq_done();
	h_log_reset();

	/* The same with a trigger named relative to the working dir. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(h_dir()), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-data.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-xlog.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-sig.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/bk-meta.tar", bf_dest)), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/" BF_STOP_WAL ".gz", bf_arch)), 0);
	h_write_file(trigger, h_fmt("%ld\n", dead), strlen(h_fmt("%ld\n", dead)));
	o.pause_trigger = "pause";
	script_backup(trigger_held_then_archive);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : removal pause trigger \"pause\" was left by "
						    "backup process %ld, which is gone: taking it "
						    "over\n", dead)));
	ck_assert(!h_exists(trigger));
	ck_assert_int_eq(chdir(cwd), 0);
	bf_teardown();
}
END_TEST

START_TEST(test_trigger_cannot_be_made)
{
	struct pitr_backup_opts o;

	bf_setup();
	slave_opts(&o);
	o.pause_trigger = h_path("nodir/pause");
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	bf_script_connect(bf_pgdata, "t");
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	/* Refused before the backup is started on the server. */
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not create removal pause trigger \"%s\": No such "
					"file or directory\n", o.pause_trigger));
	assert_dir(bf_dest, "");
	bf_teardown();
}
END_TEST

/* The trigger cannot be removed (something else took its name): said,
 * and the backup stands. */
static void
trigger_replaced(void *arg)
{
	(void)arg;
	ck_assert_int_eq(unlink(trigger), 0);
	ck_assert_int_eq(mkdir(trigger, 0700), 0);
	bf_put_segment(bf_arch, 3, PITR_CODEC_GZIP);
}

START_TEST(test_trigger_cannot_be_removed)
{
	struct pitr_backup_opts o;

	bf_setup();
	slave_opts(&o);
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(trigger_replaced);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("ERROR : could not remove removal pause trigger "
						    "\"%s\": Is a directory\n", trigger)));
	ck_assert_ptr_nonnull(strstr(h_log(), "\" done: WAL "));
	assert_dir(bf_dest, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	bf_teardown();
}
END_TEST

/* --- the archive -------------------------------------------------------- */

/* The stop segment never reaches the archive: the trigger goes all the
 * same. */
START_TEST(test_archive_timeout)
{
	struct pitr_backup_opts o;

	bf_setup();
	slave_opts(&o);
	o.wal_wait = 1;
	bf_put_segment(bf_arch, 2, PITR_CODEC_GZIP);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"LOG : waiting for WAL segment \"" BF_STOP_WAL "\" in --source "
					"archive \"%s\" (0 s of 1)\n"
					"ERROR : WAL segment \"" BF_STOP_WAL "\" did not reach --source "
					"archive \"%s\" within 1 s: is the primary archiving there?\n",
					run_label(), bf_arch, bf_arch));
	ck_assert(!h_exists(trigger));
	assert_dir(bf_dest, "");
	bf_teardown();
}
END_TEST

/* What the archive holds is not the backup's WAL. */
START_TEST(test_archive_bad_segments)
{
	struct pitr_backup_opts o;
	unsigned char *seg = h_make_segment(BF_SEG, 1, 2, BF_SYSID, 2), *big;
	char *seg2;

	bf_setup();
	slave_opts(&o);
	seg2 = strdup(h_fmt("%s/" BF_START_WAL ".gz", bf_arch));
	bf_put_segment(bf_arch, 3, PITR_CODEC_GZIP);

	/* Missing. */
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : WAL segment \"" BF_START_WAL "\" the backup needs is "
					"missing from --source archive \"%s\"\n", run_label(), bf_arch));
	assert_dir(bf_dest, "");
	ck_assert(!h_exists(trigger));
	h_pq_done();
	h_log_reset();

	/* Short. */
	h_write_compressed(seg2, PITR_CODEC_GZIP, seg, BF_SEG / 2);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : archived WAL segment \"%s\" holds 524288 bytes, not a "
					"segment of 1048576\n", run_label(), seg2));
	assert_dir(bf_dest, "");
	h_pq_done();
	h_log_reset();

	/* Long. */
	big = calloc(1, BF_SEG + 100);
	ck_assert_ptr_nonnull(big);
	memcpy(big, seg, BF_SEG);
	h_write_compressed(seg2, PITR_CODEC_GZIP, big, BF_SEG + 100);
	free(big);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : archived WAL segment \"%s\" holds more than 1048576 "
					"bytes, not a segment of 1048576\n", run_label(), seg2));
	assert_dir(bf_dest, "");
	h_pq_done();
	h_log_reset();

	/* Not gzip at all: refused on its magic bytes. */
	h_write_file(seg2, "not gzip", 8);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : \"%s\" is corrupt: incorrect header check\n",
					run_label(), seg2));
	assert_dir(bf_dest, "");
	h_pq_done();
	h_log_reset();

	/* Unreadable: a directory where the segment should be. */
	ck_assert_int_eq(unlink(seg2), 0);
	ck_assert_int_eq(mkdir(seg2, 0700), 0);
	script_backup(NULL);
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : backup \"%s\" started at " BF_START_LSN "\n"
					"ERROR : \"%s\" is not a regular file\n", run_label(), seg2));
	assert_dir(bf_dest, "");

	free(seg);
	free(seg2);
	bf_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("backup_slave");
	TCase *tc = tcase_create("run");

	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_backup);
	tcase_add_test(tc, test_stop_on_boundary);
	tcase_add_test(tc, test_skip_xlogs);
	tcase_add_test(tc, test_not_a_standby);
	tcase_add_test(tc, test_call_master);
	tcase_add_test(tc, test_call_master_not_allowed);
	tcase_add_test(tc, test_call_master_switch_fails);
	suite_add_tcase(s, tc);
	tc = tcase_create("trigger");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_trigger_held_by_another);
	tcase_add_test(tc, test_trigger_takeover);
	tcase_add_test(tc, test_trigger_cannot_be_made);
	tcase_add_test(tc, test_trigger_cannot_be_removed);
	suite_add_tcase(s, tc);
	tc = tcase_create("archive");
	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_archive_timeout);
	tcase_add_test(tc, test_archive_bad_segments);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
