/*
 * pitr-recover - a new data directory recovered from a pitr-backup-master
 * backup and a WAL archive, to a target; optionally started and watched
 * until it gets there.  Parses options and calls pitr_cmd_recover().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/recover/recover.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def recover_options[] = {
	{ "archive", "a", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the WAL archive (pitr-archive's --dst-local dir)" },
	{ "backup", NULL, PITR_OPT_STRING, "NAME|latest", 0, 0, "the backup to use (default: chosen by the target)" },
	{ "backup-dir", "b", PITR_OPT_STRING, "DIR", 0, 0, "where pitr-backup-master put the backups" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "pg-ctl", NULL, PITR_OPT_STRING, "PATH", 0, 0, "the pg_ctl program (default: /usr/lib/postgresql/VERSION/bin/pg_ctl, else on PATH)" },
	{ "pitr-restore", NULL, PITR_OPT_STRING, "PATH", 0, 0, "restore_command's program (default: pitr-restore beside this program)" },
	{ "port", NULL, PITR_OPT_INT, "N", 1, 65535, "the recovered server's port" },
	{ "standby", NULL, PITR_OPT_FLAG, NULL, 0, 0, "a standby that follows the archive (standby.signal)" },
	{ "start", NULL, PITR_OPT_FLAG, NULL, 0, 0, "start the server and wait until it reaches the target" },
	{ "tablespace-map", NULL, PITR_OPT_LIST, "OLD=NEW", 0, 0, "put the tablespace at OLD in NEW (repeatable)" },
	{ "target-action", NULL, PITR_OPT_STRING, "ACTION", 0, 0, "promote, pause or shutdown at the target (default: pause)" },
	{ "target-dir", "D", PITR_OPT_STRING, "NEWDATA", 0, 0, "the new data directory (absent or empty)" },
	{ "target-immediate", NULL, PITR_OPT_FLAG, NULL, 0, 0, "stop as soon as the backup is consistent" },
	{ "target-lsn", NULL, PITR_OPT_STRING, "LSN", 0, 0, "stop after this WAL position" },
	{ "target-name", NULL, PITR_OPT_STRING, "NAME", 0, 0, "stop at this restore point (pg_create_restore_point)" },
	{ "target-time", NULL, PITR_OPT_STRING, "TIME", 0, 0, "stop after the last commit before TIME" },
	{ "target-timeline", NULL, PITR_OPT_STRING, "latest|current|N", 0, 0, "the timeline to follow (default: latest)" },
	{ "target-xid", NULL, PITR_OPT_STRING, "XID", 0, 0, "stop after this transaction commits" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log more: catalog problems, every step" },
	{ "wait", NULL, PITR_OPT_INT, "SECONDS", 1, 315360000, "how long --start waits for the target (default: 600)" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(recover_options) / sizeof(recover_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_recover_opts r = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-recover",
				"pitr-recover -b DIR -a [CODEC=]DIR -D NEWDATA [TARGET] [OPTION]...",
				recover_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (o.noperands != 0) {
		pitr_log_error("unexpected argument \"%s\": pitr-recover takes only options",
			       o.operands[0]);
		goto out;
	}
	r.backup_dir = pitr_opts_str(&o, "backup-dir");
	r.backup = pitr_opts_str(&o, "backup");
	r.archive = pitr_opts_str(&o, "archive");
	r.target_dir = pitr_opts_str(&o, "target-dir");
	r.target_time = pitr_opts_str(&o, "target-time");
	r.target_xid = pitr_opts_str(&o, "target-xid");
	r.target_lsn = pitr_opts_str(&o, "target-lsn");
	r.target_name = pitr_opts_str(&o, "target-name");
	r.target_immediate = pitr_opts_flag(&o, "target-immediate");
	r.target_action = pitr_opts_str(&o, "target-action");
	r.target_timeline = pitr_opts_str(&o, "target-timeline");
	r.standby = pitr_opts_flag(&o, "standby");
	r.tablespace_map = pitr_opts_list(&o, "tablespace-map", &r.ntablespace_map);
	r.start = pitr_opts_flag(&o, "start");
	r.port = (int)pitr_opts_int(&o, "port", 0);
	r.pitr_restore = pitr_opts_str(&o, "pitr-restore");
	r.pg_ctl = pitr_opts_str(&o, "pg-ctl");
	r.wait = (int)pitr_opts_int(&o, "wait", 0);
	rc = pitr_cmd_recover(&r) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
