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

/* Connect to the master when -cm asks for it, before the backup starts,
 * so that a wrong master fails the run before any work: it must be a
 * primary of the standby's system.  Returns 0 or -1 (logged). */
int
pitr_backup_master_connect(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;
	struct pitr_pgconn_params params = { opts->master_dbname, opts->master_host,
					     opts->master_port, opts->master_user };
	char *recovery = NULL, *sysid = NULL;
	char want[32], why[1024] = "";
	int rc = -1;

	if (!opts->call_master) {
		if (master_named(opts))
			pitr_log_info("WARNING: --database, --host, --port and --username name the master, "
				      "which only --call-master calls: they are not used (the standby's "
				      "own connection is --standby-database, --standby-host, "
				      "--standby-port, --standby-username)");
		return 0;
	}
	/* libpq's line alone would not say which server it was about. */
	pitr_log_hold(why, sizeof(why));
	run->master = pitr_pgconn_connect(&params);
	pitr_log_hold(NULL, 0);
	if (run->master == NULL) {
		pitr_log_error("--call-master: %s", why);
		return -1;
	}
	if (pitr_pgconn_query_value(run->master, "SELECT pg_is_in_recovery()", &recovery) != 0 ||
	    pitr_pgconn_query_value(run->master, "SELECT system_identifier FROM pg_control_system()",
				    &sysid) != 0)
		goto out;
	snprintf(want, sizeof(want), "%lld", (long long)run->sysid);
	if (strcmp(recovery, "f") != 0)
		pitr_log_error("the master --call-master connects to is in recovery: -d, -h, -P and -U "
			       "must name the primary");
	else if (strcmp(sysid, want) != 0)
		pitr_log_error("the master --call-master connects to is system %s, the standby is "
			       "system %s: -d, -h, -P and -U must name the standby's primary", sysid, want);
	else
		rc = 0;
out:
	free(recovery);
	free(sysid);
	return rc;
}

/* After the standby's pg_backup_stop: switch WAL on the master, so that
 * the stop segment is archived now, and end the session.  The stop LSN
 * may lie on a segment boundary that the master has not written past, and
 * pg_switch_wal() does nothing on a segment with no record in it: a
 * transaction id, committed in its own statement, writes one first.
 * Returns 0 or -1 (logged). */
int
pitr_backup_master_switch(struct bk_run *run)
{
	char *xid = NULL, *lsn = NULL;
	int rc;

	if (run->master == NULL)
		return 0;
	rc = pitr_pgconn_query_value(run->master, "SELECT pg_current_xact_id()", &xid);
	if (rc == 0)
		rc = pitr_pgconn_query_value(run->master, "SELECT pg_switch_wal()", &lsn);
	if (rc == 0)
		pitr_log_verbose("--call-master: WAL switched on the master at %s", lsn);
	free(xid);
	free(lsn);
	pitr_pgconn_close(run->master);
	run->master = NULL;
	return rc;
}
