/*
 * pitr-backup-master - hot base backup of a primary: data tarball, xlog
 * tarball, digest files and meta file to every destination.  Parses options and calls
 * pitr_cmd_backup_master().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/backup/backup.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def backup_options[] = {
	{ "database", "d", PITR_OPT_STRING, "DBNAME", .dflt_doc = "libpq's",
	  .help = "database or full conninfo to connect to" },
	{ "host", "h", PITR_OPT_STRING, "HOST", .dflt_doc = "libpq's",
	  .help = "server host or socket dir" },
	{ "port", "p", PITR_OPT_STRING, "PORT", .dflt_doc = "libpq's",
	  .help = "server port" },
	{ "username", "U", PITR_OPT_STRING, "USER", .dflt_doc = "libpq's",
	  .help = "user to connect as" },
	{ "psql-path", "pp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; pitrkit connects with libpq" },
	{ "skip-xlogs", "sx", PITR_OPT_FLAG, NULL,
	  .help = "no xlog tarball and no -x dir: the backup is restored with the archive" },
	{ "xlogs", "x", PITR_OPT_STRING, "DIR",
	  .help = "the --dst-backup dir of pitr-archive; must not exist" },
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

	switch (pitr_opts_begin(&o, "pitr-backup-master", "pitr-backup-master [OPTION]...",
				backup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-backup-master") != 0)
		goto out;
	pitr_backup_opts_shared(&o, &b);
	b.dbname = pitr_opts_str(&o, "database");
	b.host = pitr_opts_str(&o, "host");
	b.port = pitr_opts_str(&o, "port");
	b.user = pitr_opts_str(&o, "username");
	b.xlogs = pitr_opts_str(&o, "xlogs");
	rc = pitr_cmd_backup_master(&b) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
