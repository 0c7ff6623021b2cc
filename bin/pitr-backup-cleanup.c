/*
 * pitr-backup-cleanup - retention: remove the backups older than
 * --keep-days (never the newest) and the archived WAL no remaining backup
 * needs.  Parses options and calls pitr_cmd_backup_cleanup().
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "command/bcleanup/bcleanup.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def bcleanup_options[] = {
	{ "archive", "a", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the WAL archive (required)" },
	{ "backup-dir", "b", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the backup directory (required)" },
	{ "dry-run", "d", PITR_OPT_FLAG, NULL, 0, 0, "log what would be removed, remove nothing" },
	{ "filename-template", "f", PITR_OPT_STRING, "TEMPLATE", 0, 0, "accepted for OmniPITR; backups are found by their meta files" },
	{ "keep-days", "k", PITR_OPT_INT, "N", 1, 100000, "keep the backups started in the last N days (default: 7)" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "pid-file", NULL, PITR_OPT_STRING, "FILE", 0, 0, "run only one copy at a time, locked on FILE" },
	{ "sleep", "s", PITR_OPT_INT, "MS", 0, 3600000, "pause after each --truncate step (default: 500)" },
	{ "truncate", "t", PITR_OPT_INT, "BYTES", 0, LONG_MAX, "shrink bigger files by BYTES at a time before removing them (default: 0, at once)" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log the plan and each truncation step" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(bcleanup_options) / sizeof(bcleanup_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_bcleanup_opts b = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-backup-cleanup", "pitr-backup-cleanup [OPTION]...",
				bcleanup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (o.noperands != 0) {
		pitr_log_error("unexpected argument \"%s\": pitr-backup-cleanup takes only options",
			       o.operands[0]);
		goto out;
	}
	b.archive = pitr_opts_str(&o, "archive");
	b.backup_dir = pitr_opts_str(&o, "backup-dir");
	b.filename_template = pitr_opts_str(&o, "filename-template");
	b.keep_days = pitr_opts_int(&o, "keep-days", 7);
	b.truncate = (uint64_t)pitr_opts_int(&o, "truncate", 0);
	b.sleep_ms = pitr_opts_int(&o, "sleep", 500);
	b.dry_run = pitr_opts_flag(&o, "dry-run");
	b.pid_file = pitr_opts_str(&o, "pid-file");
	rc = pitr_cmd_backup_cleanup(&b) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
