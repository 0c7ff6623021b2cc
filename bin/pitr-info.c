/*
 * pitr-info - what a backup dir and a WAL archive hold: backups, archived
 * WAL per timeline with its gaps, the recoverable window, problems; text
 * or --json.  Parses options and calls pitr_cmd_info().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/info/info.h"
#include "common/log.h"
#include "common/opts.h"
#include "s3/s3.h"

static const struct pitr_opt_def info_options[] = {
	{ "archive", "a", PITR_OPT_LIST, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "a WAL archive (any codec's files are read); repeatable: several hosts' "
		  "archives, the furthest named" },
	{ "backup-dir", "b", PITR_OPT_LIST, "DIR|s3://BUCKET/PREFIX/",
	  .help = "a backup directory of pitr-backup-master; repeatable: several hosts' "
		  "backups, the newest named" },
	{ "json", NULL, PITR_OPT_FLAG, NULL,
	  .help = "one JSON object instead of text (schema in pitr-info(1))" },
	PITR_OPTS_S3,
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("log what was read"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(info_options) / sizeof(info_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_info_opts info = { 0 };
	struct pitr_s3_config s3;
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-info", "pitr-info [-b DIR]... [-a [CODEC=]DIR]... [--json] [OPTION]...",
				info_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-info") != 0)
		goto out;
	info.backup_dirs = pitr_opts_list(&o, "backup-dir", &info.nbackup_dirs);
	info.archives = pitr_opts_list(&o, "archive", &info.narchives);
	info.json = pitr_opts_flag(&o, "json");
	pitr_s3_config_from_opts(&o, &s3);
	info.s3 = &s3;
	rc = pitr_cmd_info(&info) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
