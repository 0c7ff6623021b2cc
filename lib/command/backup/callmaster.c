/*
 * callmaster.c - pitr-backup-slave --call-master: OmniPITR's -d/-h/-P/-U
 * name the master.  On PostgreSQL 15 the standby runs pg_backup_start and
 * pg_backup_stop itself, so the master is not needed for the backup; what
 * calling it still serves is a WAL switch once the standby's backup has
 * stopped: the stop segment is the master's current one, which a quiet
 * master would otherwise archive only at its archive_timeout, and the
 * backup waits for that segment in the standby's archive.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "common/log.h"
#include "server/pgconn.h"

/* True if any of the master's connection options was given. */
static bool
master_named(const struct pitr_backup_opts *opts)
{
	return opts->master_dbname != NULL || opts->master_host != NULL ||
	       opts->master_port != NULL || opts->master_user != NULL;
}

bool
pitr_backup_master_unused(const struct pitr_backup_opts *opts)
{
	return !opts->call_master && master_named(opts);
}

/* Before the standby is connected to: an OmniPITR or older pitrkit
 * command line may mean the standby by -h/-P/-U, and whatever then goes
 * wrong with the standby's session should be read knowing they are not
 * its options. */
void
pitr_backup_master_warn(const struct pitr_backup_opts *opts)
{
	if (pitr_backup_master_unused(opts))
		pitr_log_info("WARNING: --database, --host, --port and --username name the master, "
			      "which only --call-master calls: they are not used (the standby's "
			      "own connection is --standby-database, --standby-host, "
			      "--standby-port, --standby-username)");
}

/* A session to the master, or NULL with libpq's reason in `why` (not
 * logged: the caller says which server it was about). */
static struct pitr_pgconn *
master_open(const struct pitr_backup_opts *opts, char *why, size_t size)
{
	struct pitr_pgconn_params params = { opts->master_dbname, opts->master_host,
					     opts->master_port, opts->master_user };
	struct pitr_pgconn *c;

	pitr_log_hold(why, size);
	c = pitr_pgconn_connect(&params);
	pitr_log_hold(NULL, 0);
	return c;
}

/* The master must be the standby's primary, and the role may run
 * pg_switch_wal() (not granted to PUBLIC): found out now rather than
 * after the whole backup.  Returns 0 or -1 (logged). */
static int
master_check(struct bk_run *run, struct pitr_pgconn *master)
{
	char *recovery = NULL, *sysid = NULL, *may = NULL, *role = NULL;
	char want[32];
	int rc = -1;

	if (pitr_pgconn_query_value(master, "SELECT pg_is_in_recovery()", &recovery) != 0 ||
	    pitr_pgconn_query_value(master, "SELECT system_identifier FROM pg_control_system()",
				    &sysid) != 0 ||
	    pitr_pgconn_query_value(master, "SELECT has_function_privilege('pg_switch_wal()', "
				    "'EXECUTE')", &may) != 0)
		goto out;
	snprintf(want, sizeof(want), "%lld", (long long)run->sysid);
	if (strcmp(recovery, "f") != 0)
		pitr_log_error("the master --call-master connects to is in recovery: -d, -h, -P and -U "
			       "must name the primary");
	else if (strcmp(sysid, want) != 0)
		pitr_log_error("the master --call-master connects to is system %s, the standby is "
			       "system %s: -d, -h, -P and -U must name the standby's primary", sysid, want);
	else if (strcmp(may, "t") != 0) {
		if (pitr_pgconn_query_value(master, "SELECT quote_ident(current_user)", &role) == 0)
			pitr_log_error("--call-master: role %s may not execute pg_switch_wal() on the "
				       "master: GRANT EXECUTE ON FUNCTION pg_switch_wal() TO %s, or "
				       "leave out -cm", role, role);
	} else
		rc = 0;
out:
	free(recovery);
	free(sysid);
	free(may);
	free(role);
	return rc;
}

/* Check the master when -cm asks for it, before the backup starts, so
 * that a wrong master fails the run before any work.  The session then
 * ends: held idle for the whole backup it could be dropped
 * (idle_session_timeout, a firewall, a pooler) before the switch.
 * Returns 0 or -1 (logged). */
int
pitr_backup_master_connect(struct bk_run *run)
{
	struct pitr_pgconn *master;
	char why[1024] = "";
	int rc;

	if (!run->opts->call_master)
		return 0;
	master = master_open(run->opts, why, sizeof(why));
	if (master == NULL) {
		pitr_log_error("--call-master: %s", why);
		return -1;
	}
	rc = master_check(run, master);
	pitr_pgconn_close(master);
	return rc;
}

/* After the standby's pg_backup_stop, in a session of its own: switch
 * WAL on the master, so that the stop segment is archived now.  The stop
 * LSN may lie on a segment boundary that the master has not written past,
 * and pg_switch_wal() does nothing on a segment with no record in it: a
 * transaction id, committed in its own statement, writes one first.  The
 * standby's backup is complete by then: a failed switch only means the
 * stop segment comes at the master's own pace, as without -cm. */
void
pitr_backup_master_switch(struct bk_run *run)
{
	struct pitr_pgconn *master;
	char why[1024] = "", *xid = NULL, *lsn = NULL;

	if (!run->opts->call_master)
		return;
	master = master_open(run->opts, why, sizeof(why));
	if (master != NULL) {
		pitr_log_hold(why, sizeof(why));
		if (pitr_pgconn_query_value(master, "SELECT pg_current_xact_id()", &xid) == 0)
			(void)pitr_pgconn_query_value(master, "SELECT pg_switch_wal()", &lsn);
		pitr_log_hold(NULL, 0);
	}
	if (lsn != NULL)
		pitr_log_verbose("--call-master: WAL switched on the master at %s", lsn);
	else
		pitr_log_info("WARNING: --call-master: no WAL switch on the master (%s): the stop "
			      "segment is waited for as without --call-master", why);
	free(xid);
	free(lsn);
	pitr_pgconn_close(master);
}
