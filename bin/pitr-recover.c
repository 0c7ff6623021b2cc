/*
 * pitr-recover - a new data directory recovered from a pitr-backup-master
 * backup and a WAL archive, to a target; optionally started and watched
 * until it gets there.  Parses options and calls pitr_cmd_recover().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/recover/recover.h"
#include "command/restore/restore.h"
#include "command/standby/standby.h"
#include "common/log.h"
#include "common/opts.h"
#include "s3/s3.h"

static const struct pitr_opt_def recover_options[] = {
	{ "archive", "a", PITR_OPT_LIST, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "a WAL archive (pitr-archive's --dst-local dir or -dr s3:// prefix); required, "
		  "repeatable: the first that has a segment serves it" },
	{ "backup", NULL, PITR_OPT_STRING, "NAME|latest", .dflt_doc = "chosen by the target",
	  .help = "the backup to use" },
	{ "backup-dir", "b", PITR_OPT_LIST, "DIR|s3://BUCKET/PREFIX/",
	  .help = "where pitr-backup-master put the backups; required, repeatable: the backup "
		  "is chosen among all of them" },
	PITR_OPTS_LOG,
	{ "pg-ctl", NULL, PITR_OPT_STRING, "PATH",
	  .dflt_doc = "/usr/lib/postgresql/VERSION/bin/pg_ctl, else pg_ctl on the PATH",
	  .help = "the pg_ctl program" },
	{ "pitr-recover", NULL, PITR_OPT_STRING, "PATH",
	  .dflt_doc = "this program",
	  .help = "recovery_end_command's program (pitr-recover --recovery-ended)" },
	{ "pitr-restore", NULL, PITR_OPT_STRING, "PATH",
	  .dflt_doc = "pitr-restore in the directory of this program",
	  .help = "restore_command's program" },
	{ "prefetch", NULL, PITR_OPT_INT, "N", .min = 0, .max = PITR_RESTORE_PREFETCH_MAX,
	  .dflt = PITR_OPTS_STR(PITR_RECOVER_PREFETCH_DEFAULT),
	  .help = "restore_command's pitr-restore -pf N: segments decompressed ahead of "
		  "replay; 0: none" },
	PITR_OPTS_S3,
	PITR_STANDBY_OPTS,
	PITR_STANDBY_OPT_PORT,
	{ "start", NULL, PITR_OPT_FLAG, NULL,
	  .help = "start the server and wait until it reaches the target" },
	{ "tablespace-map", NULL, PITR_OPT_LIST, "OLD=NEW",
	  .help = "put the tablespace at OLD in NEW (repeatable)" },
	{ "target-action", NULL, PITR_OPT_STRING, NULL, .choices = PITR_RECOVER_TARGET_ACTIONS,
	  .dflt = PITR_RECOVER_TARGET_ACTION_DEFAULT, .help = "what the server does at the target" },
	{ "target-dir", "D", PITR_OPT_STRING, "NEWDATA",
	  .help = "the new data directory (absent or empty)",
	  .required = "pitr-recover needs the new data directory" },
	{ "target-immediate", NULL, PITR_OPT_FLAG, NULL,
	  .help = "stop as soon as the backup is consistent" },
	{ "target-lsn", NULL, PITR_OPT_STRING, "LSN",
	  .help = "stop after this WAL position" },
	{ "target-name", NULL, PITR_OPT_STRING, "NAME",
	  .help = "stop at this restore point (pg_create_restore_point)" },
	{ "target-time", NULL, PITR_OPT_STRING, "TIME",
	  .help = "stop after the last commit before TIME" },
	{ "target-timeline", NULL, PITR_OPT_STRING, "latest|current|N",
	  .dflt = PITR_RECOVER_TARGET_TIMELINE_DEFAULT, .help = "the timeline to follow" },
	{ "target-xid", NULL, PITR_OPT_STRING, "XID",
	  .help = "stop after this transaction commits" },
	PITR_OPTS_VERBOSE("log more: catalog problems, every step"),
	{ "wait", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 315360000,
	  .dflt = PITR_OPTS_STR(PITR_RECOVER_WAIT_DEFAULT),
	  .help = "how long --start waits for the target" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(recover_options) / sizeof(recover_options[0]))

/* pitr-recover --recovery-ended: what recovery_end_command runs. */
static const struct pitr_opt_def ended_options[] = {
	{ "recovery-ended", NULL, PITR_OPT_FLAG, NULL,
	  .help = "remove pitr-recover's recovery settings (recovery_end_command)" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt = ".",
	  .help = "the data directory (the server runs the command in it)" },
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("log more"),
	PITR_OPTS_COMMON,
};

/* One recovery.conf target setting into the option that means it;
 * given both ways, refused. */
static int
conf_target(const struct pitr_opts *o, const struct pitr_standby_opts *sb, const char *key,
	    const char *option, const char **field)
{
	const char *v = pitr_standby_conf_value(sb, key);

	if (v == NULL)
		return 0;
	if (pitr_opts_get(o, option)->count > 0) {
		pitr_log_error("--recovery-conf sets %s and --%s gives it too: give one", key, option);
		return -1;
	}
	*field = v;
	return 0;
}

/* --recovery-conf's target: pitr-recover's own, so that it chooses the
 * backup and checks the archive as for --target-*. */
static int
conf_targets(const struct pitr_opts *o, const struct pitr_standby_opts *sb,
	     struct pitr_recover_opts *r)
{
	const char *immediate = NULL;

	if (conf_target(o, sb, "recovery_target_time", "target-time", &r->target_time) != 0 ||
	    conf_target(o, sb, "recovery_target_xid", "target-xid", &r->target_xid) != 0 ||
	    conf_target(o, sb, "recovery_target_lsn", "target-lsn", &r->target_lsn) != 0 ||
	    conf_target(o, sb, "recovery_target_name", "target-name", &r->target_name) != 0 ||
	    conf_target(o, sb, "recovery_target", "target-immediate", &immediate) != 0 ||
	    conf_target(o, sb, "recovery_target_action", "target-action", &r->target_action) != 0 ||
	    conf_target(o, sb, "recovery_target_timeline", "target-timeline", &r->target_timeline) != 0)
		return -1;
	if (immediate != NULL && strcmp(immediate, "immediate") != 0) {
		pitr_log_error("--recovery-conf: recovery_target = '%s': the only target it names is "
			       "'immediate'", immediate);
		return -1;
	}
	r->target_immediate = r->target_immediate || immediate != NULL;
	return 0;
}

static int
recovery_ended(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-recover", "pitr-recover --recovery-ended [-D DIR]",
				ended_options, sizeof(ended_options) / sizeof(ended_options[0]),
				argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-recover") == 0)
		rc = pitr_cmd_recover_ended(pitr_opts_str(&o, "data-dir")) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_recover_opts r = { 0 };
	struct pitr_standby_opts sb = { 0 };
	struct pitr_s3_config s3;
	int rc = 1;

	/* A mode of its own, with its own options: the server's
	 * recovery_end_command. */
	if (argc >= 2 && strcmp(argv[1], "--recovery-ended") == 0)
		return recovery_ended(argc, argv);
	switch (pitr_opts_begin(&o, "pitr-recover",
				"pitr-recover -b DIR... -a [CODEC=]DIR... -D NEWDATA [TARGET] [OPTION]...",
				recover_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-recover") != 0)
		goto out;
	r.backup_dirs = pitr_opts_list(&o, "backup-dir", &r.nbackup_dirs);
	r.backup = pitr_opts_str(&o, "backup");
	r.archives = pitr_opts_list(&o, "archive", &r.narchives);
	r.target_dir = pitr_opts_str(&o, "target-dir");
	r.target_time = pitr_opts_str(&o, "target-time");
	r.target_xid = pitr_opts_str(&o, "target-xid");
	r.target_lsn = pitr_opts_str(&o, "target-lsn");
	r.target_name = pitr_opts_str(&o, "target-name");
	r.target_immediate = pitr_opts_flag(&o, "target-immediate");
	r.target_action = pitr_opts_str(&o, "target-action");
	r.target_timeline = pitr_opts_str(&o, "target-timeline");
	r.tablespace_map = pitr_opts_list(&o, "tablespace-map", &r.ntablespace_map);
	r.start = pitr_opts_flag(&o, "start");
	r.pitr_restore = pitr_opts_str(&o, "pitr-restore");
	r.pitr_recover = pitr_opts_str(&o, "pitr-recover");
	r.pg_ctl = pitr_opts_str(&o, "pg-ctl");
	r.wait = (int)pitr_opts_int(&o, "wait");
	r.prefetch = (int)pitr_opts_int(&o, "prefetch");
	pitr_s3_config_from_opts(&o, &s3);
	r.s3 = &s3;
	if (pitr_standby_opts_get(&o, &sb) != 0 || conf_targets(&o, &sb, &r) != 0)
		goto out;
	r.sb = &sb;
	r.standby = sb.mode != PITR_STANDBY_NONE;
	r.port = sb.port;
	r.archive_mode = sb.archive_mode;
	rc = pitr_cmd_recover(&r) == 0 ? 0 : 1;
out:
	pitr_standby_opts_free(&sb);
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
