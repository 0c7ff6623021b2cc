/*
 * pitr-backup-cleanup - retention: remove the backups older than
 * --keep-days and not among the --keep-count newest (never the newest) and
 * the archived WAL no remaining backup needs.  Parses options and calls pitr_cmd_backup_cleanup().
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "command/bcleanup/bcleanup.h"
#include "repo/orphan.h"
#include "common/log.h"
#include "common/opts.h"
#include "dest/dest.h"
#include "s3/s3.h"

/* PITR_DEST_S3_PENDING_MIN_AGE, as the option table's text. */
#define PENDING_AGE_DEFAULT "172800"
_Static_assert(PITR_DEST_S3_PENDING_MIN_AGE == 172800, "PENDING_AGE_DEFAULT follows dest.h");

static const struct pitr_opt_def bcleanup_options[] = {
	{ "archive", "a", PITR_OPT_STRING, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "the WAL archive",
	  .required = "pitr-backup-cleanup needs the WAL archive" },
	{ "backup-dir", "b", PITR_OPT_STRING, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "the backup directory",
	  .required = "pitr-backup-cleanup needs the backup directory" },
	{ "dry-run", "d", PITR_OPT_FLAG, NULL,
	  .help = "log what would be removed, remove nothing" },
	{ "filename-template", "f", PITR_OPT_STRING, "TEMPLATE",
	  .dflt = PITR_ORPHAN_DEFAULT_TEMPLATE,
	  .help = "the backups' file names: which files without meta are orphans" },
	{ "keep-count", NULL, PITR_OPT_INT, "N", .min = 1, .max = 100000,
	  .help = "keep the N newest backups whatever their age; with --keep-days, a backup "
		  "either keeps stays; alone, age does not count" },
	{ "keep-days", "k", PITR_OPT_INT, "N", .min = 1, .max = 100000, .dflt = "7",
	  .help = "keep the backups started in the last N days" },
	PITR_OPTS_LOG,
	{ "pending-age", NULL, PITR_OPT_INT, "SECONDS", .min = 0, .max = INT_MAX,
	  .dflt = PENDING_AGE_DEFAULT,
	  .help = "in an object store, abort the multipart uploads begun this long ago and "
		  "never completed (killed runs')" },
	PITR_OPTS_PID_FILE,
	{ "sleep", "s", PITR_OPT_INT, "MS", .min = 0, .max = 3600000, .dflt = "500",
	  .help = "pause after each --truncate step" },
	{ "truncate", "t", PITR_OPT_INT, "BYTES", .min = 0, .max = LONG_MAX, .dflt = "0",
	  .help = "shrink bigger local files by BYTES at a time before removing them; 0 removes "
		  "them at once (objects are deleted whole)" },
	PITR_OPTS_S3,
	PITR_OPTS_VERBOSE("log the plan and each truncation step"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(bcleanup_options) / sizeof(bcleanup_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_bcleanup_opts b = { 0 };
	struct pitr_s3_config s3;
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-backup-cleanup", "pitr-backup-cleanup [OPTION]...",
				bcleanup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-backup-cleanup") != 0)
		goto out;
	b.archive = pitr_opts_str(&o, "archive");
	b.backup_dir = pitr_opts_str(&o, "backup-dir");
	b.filename_template = pitr_opts_str(&o, "filename-template");
	b.keep_days = pitr_opts_int(&o, "keep-days");
	if (pitr_opts_get(&o, "keep-count")->count > 0) {
		b.keep_count = pitr_opts_int(&o, "keep-count");
		/* Alone, the count decides; --keep-days' default does not apply. */
		if (pitr_opts_get(&o, "keep-days")->count == 0)
			b.keep_days = 0;
	}
	b.truncate = (uint64_t)pitr_opts_int(&o, "truncate");
	b.sleep_ms = pitr_opts_int(&o, "sleep");
	b.dry_run = pitr_opts_flag(&o, "dry-run");
	b.pid_file = pitr_opts_str(&o, "pid-file");
	/* 0 asks for every pending upload: the struct's "none" (< 0). */
	b.pending_age = pitr_opts_int(&o, "pending-age");
	if (b.pending_age == 0)
		b.pending_age = -1;
	pitr_s3_config_from_opts(&o, &s3);
	b.s3 = &s3;
	rc = pitr_cmd_backup_cleanup(&b) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
