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

static const struct pitr_opt_def info_options[] = {
	{ "archive", "a", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the WAL archive (any codec's files are read)" },
	{ "backup-dir", "b", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the backup directory of pitr-backup-master" },
	{ "json", NULL, PITR_OPT_FLAG, NULL, 0, 0, "one JSON object instead of text (schema in pitr-info(1))" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log what was read" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(info_options) / sizeof(info_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_info_opts info = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-info", "pitr-info [-b DIR] [-a [CODEC=]DIR] [--json] [OPTION]...",
				info_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (o.noperands != 0) {
		pitr_log_error("unexpected argument \"%s\": pitr-info takes only options", o.operands[0]);
		goto out;
	}
	info.backup_dir = pitr_opts_str(&o, "backup-dir");
	info.archive = pitr_opts_str(&o, "archive");
	info.json = pitr_opts_flag(&o, "json");
	rc = pitr_cmd_info(&info) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
