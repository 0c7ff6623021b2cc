/*
 * pitr-verify - prove the backups and the WAL archive restorable: digests,
 * every archived segment decompressed and its header checked, gaps; in
 * directories or object stores.
 * Parses options and calls pitr_cmd_verify().
 */
#include "config.h"

#include <stdio.h>

#include "command/verify/verify.h"
#include "common/log.h"
#include "common/opts.h"
#include "s3/s3.h"

static const struct pitr_opt_def verify_options[] = {
	{ "archive", "a", PITR_OPT_LIST, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "a WAL archive directory or object-store prefix (repeatable)",
	  .required = "pitr-verify needs at least one" },
	{ "backup-dir", "b", PITR_OPT_STRING, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "the directory or object-store prefix pitr-backup-master wrote backups to" },
	{ "json", NULL, PITR_OPT_FLAG, NULL,
	  .help = "one JSON document of every check and problem instead of lines (schema in "
		  "pitr-verify(1))" },
	PITR_OPTS_S3,
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("log every file as it is checked"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(verify_options) / sizeof(verify_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_verify_opts v = { 0 };
	struct pitr_s3_config s3;
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-verify", "pitr-verify [--backup-dir DIR] --archive DIR... [--json] [OPTION]...",
				verify_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-verify") != 0)
		goto out;
	v.backup_dir = pitr_opts_str(&o, "backup-dir");
	v.archives = pitr_opts_list(&o, "archive", &v.narchives);
	v.out = stdout;
	v.json = pitr_opts_flag(&o, "json");
	pitr_s3_config_from_opts(&o, &s3);
	v.s3 = &s3;
	rc = pitr_cmd_verify(&v) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
