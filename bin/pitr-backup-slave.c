/*
 * pitr-backup-slave - hot base backup of a hot standby: data tarball, xlog
 * tarball (from the archive the standby restores from), digest files and
 * meta file to every destination.  Parses options and calls
 * pitr_cmd_backup_slave().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/backup/backup.h"
#include "common/log.h"
#include "common/opts.h"

/* OmniPITR's -d/-h/-P/-U name the master, which only -cm calls; the
 * standby backed up has long-only options of its own. */
static const struct pitr_opt_def backup_options[] = {
	{ "call-master", "cm", PITR_OPT_FLAG, NULL,
	  .help = "switch WAL on the master (-d, -h, -P, -U) after the backup stops" },
	{ "database", "d", PITR_OPT_STRING, "DBNAME", .dflt_doc = "libpq's",
	  .help = "master's database or full conninfo (with --call-master)" },
	{ "host", "h", PITR_OPT_STRING, "HOST", .dflt_doc = "libpq's",
	  .help = "master's host or socket dir (with --call-master)" },
	{ "port", "P", PITR_OPT_STRING, "PORT", .dflt_doc = "libpq's",
	  .help = "master's port (with --call-master)" },
	{ "username", "U", PITR_OPT_STRING, "USER", .dflt_doc = "libpq's",
	  .help = "master's user (with --call-master)" },
	{ "standby-database", NULL, PITR_OPT_STRING, "DBNAME", .dflt_doc = "libpq's",
	  .help = "standby's database or full conninfo" },
	{ "standby-host", NULL, PITR_OPT_STRING, "HOST", .dflt_doc = "libpq's",
	  .help = "standby's host or socket dir" },
	{ "standby-port", NULL, PITR_OPT_STRING, "PORT", .dflt_doc = "libpq's",
	  .help = "standby's port" },
	{ "standby-username", NULL, PITR_OPT_STRING, "USER", .dflt_doc = "libpq's",
	  .help = "standby's user" },
	{ "pgcontroldata-path", "pp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; the standby is asked through libpq" },
	{ "psql-path", "sp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; pitrkit connects with libpq" },
	{ "removal-pause-trigger", "p", PITR_OPT_STRING, "FILE",
	  .help = "created while the backup needs the archive's WAL (pitr-restore -p)" },
	{ "source", "s", PITR_OPT_STRING, "[CODEC=]DIR",
	  .help = "the archive the standby restores from" },
	{ "skip-xlogs", "sx", PITR_OPT_FLAG, NULL,
	  .help = "no xlog tarball: the backup is restored with the archive" },
	{ "xlogs", "x", PITR_OPT_IGNORED, "DIR",
	  .help = "accepted for OmniPITR; the WAL comes from --source" },
	PITR_BACKUP_SHARED_OPTS,
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(backup_options) / sizeof(backup_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_backup_opts b = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-backup-slave", "pitr-backup-slave [OPTION]...",
				backup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-backup-slave") != 0)
		goto out;
	pitr_backup_opts_shared(&o, &b);
	b.source = pitr_opts_str(&o, "source");
	b.pause_trigger = pitr_opts_str(&o, "removal-pause-trigger");
	b.call_master = pitr_opts_flag(&o, "call-master");
	b.dbname = pitr_opts_str(&o, "standby-database");
	b.host = pitr_opts_str(&o, "standby-host");
	b.port = pitr_opts_str(&o, "standby-port");
	b.user = pitr_opts_str(&o, "standby-username");
	b.master_dbname = pitr_opts_str(&o, "database");
	b.master_host = pitr_opts_str(&o, "host");
	b.master_port = pitr_opts_str(&o, "port");
	b.master_user = pitr_opts_str(&o, "username");
	rc = pitr_cmd_backup_slave(&b) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
