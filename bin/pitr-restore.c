/*
 * pitr-restore - restore_command: hand PostgreSQL the WAL file it asks for,
 * keep a warm standby waiting, finish recovery on a trigger, prune the
 * archive.  Parses options and calls pitr_cmd_restore().
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "command/restore/restore.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigclean.h"
#include "postgres/operand.h"
#include "s3/s3.h"

static const struct pitr_opt_def restore_options[] = {
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt = ".",
	  .help = "the cluster's data directory; %p is relative to it" },
	{ "error-pgcontroldata", "ep", PITR_OPT_STRING, NULL, .choices = "break|hang|ignore",
	  .dflt = "break", .help = "when pg_controldata fails: fail, wait, or skip removal" },
	{ "finish-trigger", "f", PITR_OPT_STRING, "FILE",
	  .help = "end recovery when FILE exists: NOW at once, else after the archived segments" },
	PITR_OPTS_LOG,
	{ "pgcontroldata-path", "pp", PITR_OPT_STRING, "PATH",
	  .dflt_doc = "pg_controldata on the PATH, else /usr/lib/postgresql/VERSION/bin/pg_controldata",
	  .help = "the pg_controldata program" },
	PITR_OPTS_PID_FILE,
	{ "prefetch", "pf", PITR_OPT_INT, "N", .min = 0, .max = PITR_RESTORE_PREFETCH_MAX,
	  .dflt = "0", .help = "decompress the next N segments in the background, for the next calls" },
	{ "pre-removal-processing", "h", PITR_OPT_STRING, "COMMAND",
	  .help = "run COMMAND FILE (no shell) with each file before removing it" },
	{ "recovery-delay", "w", PITR_OPT_INT, "SECONDS", .min = 0, .max = 315360000, .dflt = "0",
	  .help = "hand a segment over only once it is that old in the archive" },
	{ "removal-pause-trigger", "p", PITR_OPT_STRING, "FILE",
	  .help = "remove nothing while FILE exists" },
	{ "remove-at-a-time", "rt", PITR_OPT_INT, "N", .min = 1, .max = 1000000,
	  .dflt = PITR_OPTS_STR(PITR_RESTORE_REMOVE_AT_A_TIME_DEFAULT),
	  .help = "remove at most N files per pass" },
	{ "remove-before", "rb", PITR_OPT_FLAG, NULL,
	  .help = "with -r: remove before handing the file over, not after" },
	{ "remove-unneeded", "r", PITR_OPT_OPTIONAL, "SEGMENT",
	  .help = "remove archived files older than SEGMENT (%r) or the REDO file" },
	PITR_OPTS_S3,
	{ "source", "s", PITR_OPT_LIST, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "an archive to restore from; required, repeatable: the first that has the file "
		  "serves it" },
	{ "streaming-replication", "sr", PITR_OPT_FLAG, NULL,
	  .help = "a missing segment fails at once (the server then streams)" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", .dflt_doc = "$TMPDIR or " PITR_FSUTIL_TMPDIR_DEFAULT,
	  .help = "for --pre-removal-processing copies" },
	PITR_OPTS_VERBOSE("log waits, removals and timings"),
	PITR_OPTS_IGNORED_CODEC_PATHS("decompression"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(restore_options) / sizeof(restore_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_restore_opts r = { 0 };
	struct pitr_operand_restore ops;
	struct pitr_s3_config s3;
	int rc = 1;

	/* First of all, until pitr_cmd_restore() installs its own: TERM, INT
	 * and QUIT end the run with exit status 1 (nothing is written yet), and
	 * SIGHUP, which PostgreSQL sends the startup process's group on every
	 * reload, is ignored (an exit 1 could end a recovery early). */
	if (pitr_sigclean_install("pitr-restore", true) != 0)
		return 1;
	signal(SIGHUP, SIG_IGN);
	switch (pitr_opts_begin(&o, "pitr-restore",
				"pitr-restore [OPTION]... %f %p\n"
				"       pitr-restore [OPTION]... -r %r %f %p",
				restore_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	/* The parser let only the table's choices through. */
	(void)pitr_restore_ep_from_name(pitr_opts_str(&o, "error-pgcontroldata"),
					&r.error_pgcontroldata);
	r.remove_unneeded = pitr_opts_flag(&o, "remove-unneeded");
	r.remove_cutoff = pitr_opts_str(&o, "remove-unneeded");
	/* A bare -r may take %r from the operands. */
	if (pitr_operand_restore(o.operands, o.noperands, r.remove_unneeded && r.remove_cutoff == NULL,
				 pitr_opts_get(&o, "remove-unneeded")->next_operand, &ops) != 0)
		goto out;
	if (ops.cutoff != NULL)
		r.remove_cutoff = ops.cutoff;
	r.data_dir = pitr_opts_str(&o, "data-dir");
	r.sources = pitr_opts_list(&o, "source", &r.nsources);
	r.recovery_delay = (int)pitr_opts_int(&o, "recovery-delay");
	r.finish_trigger = pitr_opts_str(&o, "finish-trigger");
	r.remove_before = pitr_opts_flag(&o, "remove-before");
	r.remove_at_a_time = (int)pitr_opts_int(&o, "remove-at-a-time");
	r.removal_pause_trigger = pitr_opts_str(&o, "removal-pause-trigger");
	r.pre_removal_processing = pitr_opts_str(&o, "pre-removal-processing");
	r.temp_dir = pitr_opts_str(&o, "temp-dir");
	r.streaming_replication = pitr_opts_flag(&o, "streaming-replication");
	r.pid_file = pitr_opts_str(&o, "pid-file");
	r.pgcontroldata_path = pitr_opts_str(&o, "pgcontroldata-path");
	r.prefetch = (int)pitr_opts_int(&o, "prefetch");
	pitr_s3_config_from_opts(&o, &s3);
	r.s3 = &s3;
	r.wal_name = ops.wal_name;
	r.wal_path = ops.wal_path;
	/* pitr_cmd_restore() installs its own handlers (SIGHUP ignored, TERM
	 * ends a wait); they name the program in their line. */
	pitr_sigclean_set_name(pitr_opts_progname("pitr-restore", argv[0]));
	rc = pitr_cmd_restore(&r) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
