/* check_recover_start.c - pitr-recover --start (lib/command/recover/
 * start.c) without a server: the backup is taken by pitr-backup-master
 * against the scripted server of t/server/pqfake.h, recovered, and
 * "started" by a stand-in pg_ctl that writes what a server would
 * (postmaster.pid, its log); the session with the started server is
 * scripted too.  What is judged: promoted, paused, a standby, shut down at
 * the target, stopped short, not started in time, and a server that
 * cannot be queried (its log tells). */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <ftw.h>
#include <glob.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "command/backup/backup.h"
#include "command/recover/recover.h"
#include "common/log.h"
#include "compress/codec.h"
#include "harness.h"
#include "server/pqfake.h"

static char pg_ctl[4096], restore_prog[4096], newdir[4096];
static uid_t server_uid;
static gid_t server_gid;

static int
give(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return lchown(path, server_uid, server_gid);
}

/* PostgreSQL does not run as root, and --start refuses to: as root, the
 * scratch dir goes to nobody and the run is made with its uid (the
 * effective one only, so that this process is root again after). */
static void
become_server_user(void)
{
	const struct passwd *pw;

	if (getuid() != 0)
		return;
	pw = getpwnam("nobody");
	server_uid = pw != NULL ? pw->pw_uid : 65534;
	server_gid = pw != NULL ? pw->pw_gid : 65534;
	ck_assert_int_eq(nftw(h_dir(), give, 16, FTW_PHYS), 0);
	ck_assert_int_eq(setegid(server_gid), 0);
	ck_assert_int_eq(seteuid(server_uid), 0);
}

static void
become_root_again(void)
{
	if (getuid() != 0)
		return;
	ck_assert_int_eq(seteuid(0), 0);
	ck_assert_int_eq(setegid(0), 0);
}

static void
script_file(const char *path, const char *text)
{
	h_write_file(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0755), 0);
}

/* A backup of bf_pgdata (no tablespace) in bf_dest, taken against the
 * scripted server, and the archive holding segments 2 to 4. */
static void
take_backup(void)
{
	struct pitr_backup_opts o;

	ck_assert_int_eq(unlink(h_fmt("%s/pg_tblspc/16384", bf_pgdata)), 0);
	bf_opts(&o);
	o.xlogs = NULL;
	o.skip_xlogs = true;
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(BF_STOP_WAIT, false, NULL);
	bf_script_finish();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	h_pq_done();
	for (uint64_t segno = 2; segno <= 4; segno++)
		bf_put_segment(bf_arch, segno, PITR_CODEC_GZIP);
	snprintf(pg_ctl, sizeof(pg_ctl), "%s", h_path("pg_ctl"));
	snprintf(restore_prog, sizeof(restore_prog), "%s", h_path("pitr-restore"));
	snprintf(newdir, sizeof(newdir), "%s", h_path("new"));
	script_file(restore_prog, "#!/bin/sh\nexit 1\n");
	h_log_reset();
}

static void
recover_opts(struct pitr_recover_opts *o)
{
	static char archive[4200];

	memset(o, 0, sizeof(*o));
	snprintf(archive, sizeof(archive), "gzip=%s", bf_arch);
	static const char *bdirs[1], *archives[1];

	bdirs[0] = bf_dest;
	archives[0] = archive;
	o->backup_dirs = bdirs;
	o->nbackup_dirs = 1;
	o->archives = archives;
	o->narchives = 1;
	o->target_dir = newdir;
	o->pitr_restore = restore_prog;
	o->pitr_recover = restore_prog;
	o->pg_ctl = pg_ctl;
	o->start = true;
	o->port = 5999;
	o->wait = 5;
}

/*
 * The stand-in pg_ctl: checks it was called as `pg_ctl start -D DIR -l
 * LOG -W`, writes `log` to LOG and a postmaster.pid for a postmaster with
 * pid `pid` ("$PPID": this process, alive) in status `status`, and exits
 * `exit_code`.
 */
static void
fake_pg_ctl_at(const char *sockdir, const char *log, const char *pid, const char *status,
	       int exit_code)
{
	script_file(pg_ctl, h_fmt(
		"#!/bin/sh\n"
		"[ \"$1 $2 $4 $6\" = 'start -D -l -W' ] || { echo \"bad arguments: $*\" >&2; exit 3; }\n"
		"printf '%%s' '%s' > \"$5\"\n"
		"[ -n '%s' ] && printf '%%s\\n%%s\\n1700000000\\n5999\\n%s\\nlocalhost\\n  5999001   "
		"   32768\\n%%s\\n' \"%s\" \"$3\" '%s' > \"$3/postmaster.pid\"\n"
		"exit %d\n", log, pid, sockdir, pid, status, exit_code));
}

static void
fake_pg_ctl(const char *log, const char *pid, const char *status, int exit_code)
{
	fake_pg_ctl_at("/tmp", log, pid, status, exit_code);
}

#define PING_INFO "host=/tmp port=5999 dbname=postgres connect_timeout=5"
#define SESSION_INFO "dbname=postgres host=/tmp port=5999 fallback_application_name=pitrkit"
#define REPLAY_SQL "SELECT coalesce(pg_last_wal_replay_lsn()::text, 'none') || ', last " \
	"replayed transaction committed at ' || coalesce(pg_last_xact_replay_timestamp()::text, " \
	"'none')"
#define REPLAY "0/400100, last replayed transaction committed at 2026-01-01 00:00:00+00"

/* What PostgreSQL logs on its way to a promotion at the target: a client
 * turned away while it starts is no failure. */
#define LOG_PROMOTED \
	"LOG:  starting PostgreSQL 15.10\n" \
	"FATAL:  the database system is starting up\n" \
	"LOG:  starting point-in-time recovery to WAL location (LSN) \"0/400000\"\n" \
	"LOG:  recovery stopping after WAL location (LSN) \"0/400000\"\n" \
	"LOG:  redo done at 0/4000F0 system usage: CPU: user: 0.00 s\n" \
	"LOG:  last completed transaction was at log time 2026-01-01 00:00:00+00\n" \
	"LOG:  selected new timeline ID: 2\n" \
	"LOG:  database system is ready to accept connections\n"

/* The server answers a first, plain session, then pgconn's. */
static void
script_sessions(const char *in_recovery, const char *version)
{
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_finish();
	h_pq_connect(SESSION_INFO, 1);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value(in_recovery);
	h_pq_exec("SHOW server_version_num");
	h_pq_value(version);
}

/* Recover to `o` as the server's user; its log from the "ready" line on. */
static const char *
run(const struct pitr_recover_opts *o, int want_rc)
{
	const char *ready;

	become_server_user();
	ck_assert_int_eq(pitr_cmd_recover(o), want_rc);
	become_root_again();
	ready = strstr(h_log(), h_fmt("LOG : data directory \"%s\" is ready for recovery", newdir));
	ck_assert_msg(ready != NULL, "%s", h_log());
	/* Then whether the copy archives, always. */
	ready = strchr(ready, '\n') + 1;
	ck_assert_msg(strncmp(ready, "LOG : archiving ", 16) == 0, "%s", h_log());
	return strchr(ready, '\n') + 1;
}

/* The line before pg_ctl runs. */
#define STARTING() h_fmt("LOG : starting the server: %s start -D %s -l %s/pitr-recover.log -W\n", \
			 pg_ctl, newdir, newdir)

START_TEST(test_promoted)
{
	struct pitr_recover_opts o;
	char *serverlog;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	o.target_action = "promote";
	fake_pg_ctl(LOG_PROMOTED, "$PPID", "ready", 0);
	script_sessions("f", "150010");
	h_pq_exec(REPLAY_SQL);
	h_pq_value(REPLAY);
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last completed transaction was at log time 2026-01-01 00:00:00+00\n"
		"LOG : last replayed WAL position " REPLAY "\n"
		"LOG : the server is promoted, on timeline 2, and accepts writes on port 5999\n",
		STARTING()));
	/* The server was started on the recovered directory. */
	ck_assert(h_exists(h_fmt("%s/recovery.signal", newdir)));
	ck_assert(h_exists(h_fmt("%s/postmaster.pid", newdir)));
	serverlog = h_read_file(h_fmt("%s/pitr-recover.log", newdir), NULL);
	ck_assert_str_eq(serverlog, LOG_PROMOTED);
	free(serverlog);
	bf_teardown();
}
END_TEST

/* Paused at the target (the default action), asked in each version's
 * words. */
/* A server listening on TCP only writes an empty socket-directory line
 * into postmaster.pid: the lines after it keep their places, so the
 * session goes to its listen address and the status is read. */
START_TEST(test_promoted_tcp_only)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	o.target_action = "promote";
	fake_pg_ctl_at("", LOG_PROMOTED, "$PPID", "ready", 0);
	h_pq_ping("host=localhost port=5999 dbname=postgres connect_timeout=5", 0, PQPING_OK);
	h_pq_connect("host=localhost port=5999 dbname=postgres connect_timeout=5", 0);
	h_pq_finish();
	h_pq_connect("dbname=postgres host=localhost port=5999 fallback_application_name=pitrkit", 1);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value("f");
	h_pq_exec("SHOW server_version_num");
	h_pq_value("150010");
	h_pq_exec(REPLAY_SQL);
	h_pq_value(REPLAY);
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last completed transaction was at log time 2026-01-01 00:00:00+00\n"
		"LOG : last replayed WAL position " REPLAY "\n"
		"LOG : the server is promoted, on timeline 2, and accepts writes on port 5999\n",
		STARTING()));
}
END_TEST

START_TEST(test_paused)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	fake_pg_ctl("LOG:  recovery stopping after WAL location (LSN) \"0/400000\"\n"
		    "LOG:  pausing at the end of recovery\n", "$PPID", "ready", 0);
	script_sessions("t", "150010");
	h_pq_exec("SELECT pg_get_wal_replay_pause_state() = 'paused'");
	h_pq_value("t");
	h_pq_exec(REPLAY_SQL);
	h_pq_value(REPLAY);
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last replayed WAL position " REPLAY "\n"
		"LOG : the server is paused at the target, read-only, on port 5999: SELECT "
		"pg_wal_replay_resume() promotes it\n", STARTING()));
	bf_teardown();
}
END_TEST

START_TEST(test_paused_before_14)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	fake_pg_ctl("", "$PPID", "ready", 0);
	script_sessions("t", "130012");
	h_pq_exec("SELECT pg_is_wal_replay_paused()");
	h_pq_value("t");
	/* The replay position cannot be read: the outcome stands. */
	h_pq_exec(REPLAY_SQL);
	h_pq_error("ERROR:  canceling statement due to conflict with recovery\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"ERROR : query \"" REPLAY_SQL "\" failed: canceling statement due to conflict with "
		"recovery\n"
		"LOG : the server is paused at the target, read-only, on port 5999: SELECT "
		"pg_wal_replay_resume() promotes it\n", STARTING()));
	bf_teardown();
}
END_TEST

/* --standby without a target: running, in recovery, not paused, is the
 * outcome. */
START_TEST(test_standby)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.standby = true;
	fake_pg_ctl("LOG:  entering standby mode\nLOG:  redo starts at 0/200028\n", "$PPID", "ready",
		    0);
	script_sessions("t", "150010");
	h_pq_exec("SELECT pg_get_wal_replay_pause_state() = 'paused'");
	h_pq_value("f");
	h_pq_exec(REPLAY_SQL);
	h_pq_value(REPLAY);
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : last replayed WAL position " REPLAY "\n"
		"LOG : the server runs as a standby of the archive on port 5999\n", STARTING()));
	ck_assert(h_exists(h_fmt("%s/standby.signal", newdir)));
	bf_teardown();
}
END_TEST

/* The server stops at the target: shutdown asked for, or pause without
 * hot_standby; the postmaster is gone when first looked at. */
START_TEST(test_shut_down_at_target)
{
	struct pitr_recover_opts o;
	char dead_pid[32];

	snprintf(dead_pid, sizeof(dead_pid), "%ld", bf_dead_pid());
	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	o.target_action = "shutdown";
	fake_pg_ctl("LOG:  recovery stopping after WAL location (LSN) \"0/400000\"\n"
		    "LOG:  redo done at 0/4000F0\n"
		    "LOG:  shutdown at recovery target\nLOG:  database system is shut down\n",
		    dead_pid, "stopping", 0);
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : the server shut down at the target (recovery_target_action shutdown)\n",
		STARTING()));
	bf_teardown();
}
END_TEST

START_TEST(test_pause_without_hot_standby)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	/* No postmaster.pid left at all: the log tells. */
	fake_pg_ctl("LOG:  recovery stopping after WAL location (LSN) \"0/400000\"\n"
		    "LOG:  redo done at 0/4000F0\nLOG:  database system is shut down\n", "", "", 0);
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : the server shut down at the target (pause without hot_standby stops the "
		"server)\n", STARTING()));
	bf_teardown();
}
END_TEST

/* The server stops short: its last FATAL, else its last line, is the
 * reason given; the recovered directory stays for a look. */
START_TEST(test_stopped_short)
{
	struct pitr_recover_opts o;
	char dead_pid[32];

	snprintf(dead_pid, sizeof(dead_pid), "%ld", bf_dead_pid());
	bf_setup();
	take_backup();
	recover_opts(&o);
	fake_pg_ctl("LOG:  starting PostgreSQL 15.10\n"
		    "FATAL:  could not locate required checkpoint record\n"
		    "LOG:  startup process (PID 42) exited with exit code 1\n"
		    /* A client turned away after that (pitr-recover's own
		     * session, say) is not the server's reason. */
		    "FATAL:  the database system is in recovery mode\n", dead_pid, "starting", 0);
	ck_assert_str_eq(run(&o, -1), h_fmt(
		"%s"
		"ERROR : the server stopped before reaching the target: could not locate required "
		"checkpoint record (see \"%s/pitr-recover.log\")\n", STARTING(), newdir));
	ck_assert(h_exists(h_fmt("%s/recovery.signal", newdir)));
	bf_teardown();
}
END_TEST

START_TEST(test_stopped_silently)
{
	struct pitr_recover_opts o;
	char dead_pid[32];

	snprintf(dead_pid, sizeof(dead_pid), "%ld", bf_dead_pid());
	bf_setup();
	take_backup();
	recover_opts(&o);
	fake_pg_ctl("", dead_pid, "starting", 0);
	ck_assert_str_eq(run(&o, -1), h_fmt(
		"%s"
		"ERROR : the server stopped before reaching the target: no reason logged (see "
		"\"%s/pitr-recover.log\")\n", STARTING(), newdir));
	bf_teardown();
}
END_TEST

/* Still starting when the wait ends: said, and left running. */
START_TEST(test_wait_ends)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.wait = 1;
	fake_pg_ctl("LOG:  redo starts at 0/200028\n", "$PPID", "starting", 0);
	ck_assert_str_eq(run(&o, -1), h_fmt(
		"%s"
		"ERROR : the server did not reach the target within 1 s; it is still running (see "
		"\"%s/pitr-recover.log\")\n", STARTING(), newdir));
	bf_teardown();
}
END_TEST

/* Not accepting connections at first; then no session can be had (no
 * role for this user, say): the server log tells the outcome. */
START_TEST(test_log_only)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_lsn = "0/400000";
	o.target_action = "promote";
	fake_pg_ctl(LOG_PROMOTED, "$PPID", "ready", 0);
	h_pq_ping(PING_INFO, 0, PQPING_REJECT);
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_error("connection to server on socket \"/tmp/.s.PGSQL.5999\" failed: FATAL:  role "
		   "\"nobody\" does not exist\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : cannot query the server (connection to server on socket \"/tmp/.s.PGSQL.5999\" "
		"failed: FATAL:  role \"nobody\" does not exist): watching its log instead\n"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last completed transaction was at log time 2026-01-01 00:00:00+00\n"
		"LOG : the server is promoted, on timeline 2, and accepts writes on port 5999\n",
		STARTING()));
	bf_teardown();
}
END_TEST

/* The session breaks after the first one worked: the log tells. */
START_TEST(test_session_breaks)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	fake_pg_ctl("LOG:  redo done at 0/4000F0\nLOG:  recovery has paused\n", "$PPID", "ready", 0);
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_finish();
	h_pq_connect(SESSION_INFO, 1);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_dies("server closed the connection unexpectedly\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"ERROR : query \"SELECT pg_is_in_recovery()\" failed: server closed the connection "
		"unexpectedly\n"
		"LOG : recovery replayed all the archive had: redo done at 0/4000F0\n"
		"LOG : the server is paused at the target, read-only, on port 5999: SELECT "
		"pg_wal_replay_resume() promotes it\n", STARTING()));
	bf_teardown();
}
END_TEST

/* pg_ctl itself fails, or cannot be run. */
START_TEST(test_pg_ctl_fails)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	fake_pg_ctl("", "", "", 1);
	ck_assert_str_eq(run(&o, -1), h_fmt("%sERROR : \"%s\" failed with exit status 1\n",
					     STARTING(), pg_ctl));
	bf_teardown();
}
END_TEST

START_TEST(test_pg_ctl_not_executable)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	h_write_file(pg_ctl, "#!/bin/sh\n", 10);
	ck_assert_int_eq(chmod(pg_ctl, 0644), 0);
	become_server_user();
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	become_root_again();
	ck_assert_str_eq(h_log(), h_fmt("ERROR : --pg-ctl \"%s\" is not executable: Permission "
					"denied\n", pg_ctl));
	ck_assert(!h_exists(newdir));
	bf_teardown();
}
END_TEST

/* A standby the session cannot tell about: its postmaster.pid says
 * "standby", or it is ready and the session is refused. */
START_TEST(test_standby_without_session)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.standby = true;
	fake_pg_ctl("LOG:  entering standby mode\n", "$PPID", "standby", 0);
	ck_assert_str_eq(run(&o, 0), h_fmt("%sLOG : the server runs as a standby of the archive on "
					   "port 5999\n", STARTING()));
	h_log_reset();
	snprintf(newdir, sizeof(newdir), "%s", h_path("new2"));
	fake_pg_ctl("LOG:  entering standby mode\n", "$PPID", "ready", 0);
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_error("connection to server on socket \"/tmp/.s.PGSQL.5999\" failed: FATAL:  role "
		   "\"nobody\" does not exist\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"LOG : cannot query the server (connection to server on socket \"/tmp/.s.PGSQL.5999\" "
		"failed: FATAL:  role \"nobody\" does not exist): watching its log instead\n"
		"LOG : the server runs as a standby of the archive on port 5999\n", STARTING()));
	bf_teardown();
}
END_TEST

/* The first session works, pgconn's does not, or cannot say the version:
 * the log tells. */
START_TEST(test_session_refused)
{
	struct pitr_recover_opts o;

	bf_setup();
	take_backup();
	recover_opts(&o);
	o.target_action = "promote";
	fake_pg_ctl(LOG_PROMOTED, "$PPID", "ready", 0);
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_finish();
	h_pq_connect(SESSION_INFO, 1);
	h_pq_error("connection to server on socket \"/tmp/.s.PGSQL.5999\" failed: FATAL:  too many "
		   "connections for role \"nobody\"\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"ERROR : could not connect to PostgreSQL: connection to server on socket "
		"\"/tmp/.s.PGSQL.5999\" failed: FATAL:  too many connections for role \"nobody\"\n"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last completed transaction was at log time 2026-01-01 00:00:00+00\n"
		"LOG : the server is promoted, on timeline 2, and accepts writes on port 5999\n",
		STARTING()));
	h_pq_done();
	h_log_reset();

	snprintf(newdir, sizeof(newdir), "%s", h_path("new2"));
	h_pq_ping(PING_INFO, 0, PQPING_OK);
	h_pq_connect(PING_INFO, 0);
	h_pq_finish();
	h_pq_connect(SESSION_INFO, 1);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value("f");
	h_pq_exec("SHOW server_version_num");
	h_pq_error("ERROR:  permission denied\n");
	h_pq_finish();
	ck_assert_str_eq(run(&o, 0), h_fmt(
		"%s"
		"ERROR : query \"SHOW server_version_num\" failed: permission denied\n"
		"LOG : recovery stopped: recovery stopping after WAL location (LSN) \"0/400000\"\n"
		"LOG : last completed transaction was at log time 2026-01-01 00:00:00+00\n"
		"LOG : the server is promoted, on timeline 2, and accepts writes on port 5999\n",
		STARTING()));
	bf_teardown();
}
END_TEST

/* Without --pg-ctl: the backup's version in PostgreSQL's Debian layout,
 * else the first pg_ctl on PATH (an empty entry is the working dir); none
 * anywhere is refused. */
START_TEST(test_pg_ctl_found)
{
	struct pitr_recover_opts o;
	glob_t g;
	bool debian_any = glob("/usr/lib/postgresql/*/bin/pg_ctl", GLOB_NOSORT, NULL, &g) == 0;

	globfree(&g);
	bf_setup();
	/* A version no machine has installed, so that PATH decides. */
	h_write_file(h_fmt("%s/PG_VERSION", bf_pgdata), "99\n", 3);
	take_backup();
	ck_assert_int_eq(mkdir(h_path("bin"), 0755), 0);
	ck_assert_int_eq(mkdir(h_path("nobin"), 0755), 0);
	h_write_file(h_path("nobin/pg_ctl"), "#!/bin/sh\n", 10);
	snprintf(pg_ctl, sizeof(pg_ctl), "%s", h_path("bin/pg_ctl"));
	recover_opts(&o);
	o.pg_ctl = NULL;
	o.standby = true;
	fake_pg_ctl("", "$PPID", "standby", 0);
	setenv("PATH", h_fmt(":%s:%s", h_path("nobin"), h_path("bin")), 1);
	ck_assert_str_eq(run(&o, 0), h_fmt("%sLOG : the server runs as a standby of the archive on "
					   "port 5999\n", STARTING()));
	h_log_reset();

	snprintf(newdir, sizeof(newdir), "%s", h_path("new2"));
	setenv("PATH", h_path("nobin"), 1);
	become_server_user();
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	become_root_again();
	/* Refused before anything is extracted when no pg_ctl is anywhere;
	 * once the backup's version is known otherwise. */
	if (debian_any)
		ck_assert_ptr_nonnull(strstr(h_log(), "LOG : extracted "));
	ck_assert_str_eq(strstr(h_log(), "ERROR : "), debian_any ?
			 "ERROR : no pg_ctl for PostgreSQL 99 at /usr/lib/postgresql/99/bin nor on PATH: "
			 "give --pg-ctl\n" :
			 "ERROR : no pg_ctl on PATH nor in /usr/lib/postgresql/*/bin: give --pg-ctl\n");
	ck_assert(!h_exists(newdir));
	bf_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("recover_start");
	TCase *tc = tcase_create("start");

	tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done);
	tcase_add_test(tc, test_promoted);
	tcase_add_test(tc, test_promoted_tcp_only);
	tcase_add_test(tc, test_paused);
	tcase_add_test(tc, test_paused_before_14);
	tcase_add_test(tc, test_standby);
	tcase_add_test(tc, test_shut_down_at_target);
	tcase_add_test(tc, test_pause_without_hot_standby);
	tcase_add_test(tc, test_stopped_short);
	tcase_add_test(tc, test_stopped_silently);
	tcase_add_test(tc, test_wait_ends);
	tcase_add_test(tc, test_log_only);
	tcase_add_test(tc, test_session_breaks);
	tcase_add_test(tc, test_pg_ctl_fails);
	tcase_add_test(tc, test_pg_ctl_not_executable);
	tcase_add_test(tc, test_standby_without_session);
	tcase_add_test(tc, test_session_refused);
	tcase_add_test(tc, test_pg_ctl_found);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
