/*
 * pitr-cleanup - archive_cleanup_command: remove the archived segments a
 * streaming standby no longer needs.  Parses options and calls
 * pitr_cmd_cleanup().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/cleanup/cleanup.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigclean.h"
#include "postgres/operand.h"
#include "s3/s3.h"

static const struct pitr_opt_def cleanup_options[] = {
	{ "archive", "a", PITR_OPT_STRING, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "the archive to clean (files of every codec are removed)",
	  .required = "pitr-cleanup needs the archive to clean" },
	{ "dry-run", "n", PITR_OPT_FLAG, NULL,
	  .help = "print the files that would be removed, remove nothing" },
	PITR_OPTS_LOG,
	PITR_OPTS_PID_FILE,
	{ "removal-pause-trigger", "p", PITR_OPT_STRING, "FILE",
	  .help = "remove nothing while FILE exists" },
	PITR_OPTS_S3,
	PITR_OPTS_VERBOSE("log each removed file"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(cleanup_options) / sizeof(cleanup_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_cleanup_opts c = { 0 };
	struct pitr_s3_config s3;
	int rc = 1;

	/* First of all: a signal at any instant ends the run with exit status
	 * 1, never a signal death. */
	if (pitr_sigclean_install("pitr-cleanup", false) != 0)
		return 1;
	switch (pitr_opts_begin(&o, "pitr-cleanup", "pitr-cleanup [OPTION]... %r",
				cleanup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_operand_cleanup(o.operands, o.noperands, &c.segment) != 0)
		goto out;
	c.archive = pitr_opts_str(&o, "archive");
	c.pause_trigger = pitr_opts_str(&o, "removal-pause-trigger");
	c.pid_file = pitr_opts_str(&o, "pid-file");
	c.dry_run = pitr_opts_flag(&o, "dry-run");
	pitr_s3_config_from_opts(&o, &s3);
	c.s3 = &s3;
	rc = pitr_cmd_cleanup(&c) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
