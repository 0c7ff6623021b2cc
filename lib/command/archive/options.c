/*
 * options.c - pitr-archive's option table, shared by pitr-archive and by
 * pitr-check, which reads the archive_command's pitr-archive call with
 * the same table (config files included), so that both read one command
 * line the same way.
 */
#include "config.h"

#include <stddef.h>

#include "command/archive/ahead.h"
#include "command/archive/archive.h"
#include "common/fsutil.h"
#include "common/opts.h"
#include "dest/dest.h"
#include "s3/s3.h"

const struct pitr_opt_def pitr_archive_option_defs[] = {
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt = ".",
	  .help = "the cluster's data directory" },
	{ "dst-backup", "db", PITR_OPT_STRING, "DIR",
	  .help = "absolute dir that gets a plain copy while it exists (pitr-backup-master -x)" },
	{ "dst-local", "dl", PITR_OPT_LIST, "[CODEC=]DIR",
	  .help = "local archive directory (repeatable)" },
	{ "dst-pipe", "dp", PITR_OPT_LIST, "[CODEC=]PROGRAM",
	  .help = "program run with the file name, data on stdin (repeatable)" },
	{ "dst-remote", "dr", PITR_OPT_LIST, "[CODEC=]URL",
	  .help = "rsync://host[:port]/module/path/, host:/path/ or s3://BUCKET/PREFIX/ "
		  "(repeatable)" },
	{ "force-data-dir", "f", PITR_OPT_FLAG, NULL,
	  .help = "use --data-dir even if it does not look like a cluster" },
	PITR_OPTS_LOG,
	PITR_OPTS_NICE,
	{ "jobs", "j", PITR_OPT_INT, "N", .min = 0, .max = PITR_ARCHIVE_JOBS_MAX,
	  .dflt_doc = "one per CPU within 128 MiB",
	  .help = "worker processes delivering --look-ahead segments besides this call" },
	{ "look-ahead", "la", PITR_OPT_INT, "N", .min = 0, .max = 256,
	  .dflt = PITR_OPTS_STR(PITR_ARCHIVE_LOOK_AHEAD_DEFAULT),
	  .help = "with --state-dir, also archive up to N next .ready segments; 0: none" },
	{ "parallel-jobs", "PJ", PITR_OPT_INT, "N", .min = 1, .max = 64, .dflt = "1",
	  .help = "remote and pipe deliveries run at once" },
	PITR_OPTS_PID_FILE,
	{ "pipe-timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 86400,
	  .dflt = PITR_OPTS_STR(PITR_DEST_PIPE_TIMEOUT_DEFAULT),
	  .help = "stop a --dst-pipe program that reads nothing for this long" },
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", .dflt_doc = "rsync on the PATH",
	  .help = "the rsync program" },
	{ "rsync-timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 86400,
	  .dflt = PITR_OPTS_STR(PITR_DEST_RSYNC_TIMEOUT_DEFAULT),
	  .help = "how long a hung rsync peer is waited for" },
	PITR_OPTS_S3,
	{ "state-dir", "s", PITR_OPT_STRING, "DIR",
	  .help = "remembers partial deliveries; needed with several destinations" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", .dflt_doc = "$TMPDIR or " PITR_FSUTIL_TMPDIR_DEFAULT,
	  .help = "staging for remote and pipe copies" },
	PITR_OPTS_VERBOSE("log every delivery and timings"),
	PITR_OPTS_IGNORED_CODEC_PATHS("compression"),
	PITR_OPTS_COMMON,
};

const size_t pitr_archive_noption_defs =
	sizeof(pitr_archive_option_defs) / sizeof(pitr_archive_option_defs[0]);

void
pitr_archive_opts_read(const struct pitr_opts *o, struct pitr_archive_opts *a)
{
	a->data_dir = pitr_opts_str(o, "data-dir");
	a->force_data_dir = pitr_opts_flag(o, "force-data-dir");
	a->dst_local = pitr_opts_list(o, "dst-local", &a->ndst_local);
	a->dst_remote = pitr_opts_list(o, "dst-remote", &a->ndst_remote);
	a->dst_pipe = pitr_opts_list(o, "dst-pipe", &a->ndst_pipe);
	a->dst_backup = pitr_opts_str(o, "dst-backup");
	a->temp_dir = pitr_opts_str(o, "temp-dir");
	a->state_dir = pitr_opts_str(o, "state-dir");
	a->pid_file = pitr_opts_str(o, "pid-file");
	a->parallel_jobs = (int)pitr_opts_int(o, "parallel-jobs");
	a->look_ahead = (int)pitr_opts_int(o, "look-ahead");
	a->jobs = (int)pitr_opts_int(o, "jobs");
	a->not_nice = pitr_opts_flag(o, "not-nice");
	a->rsync_path = pitr_opts_str(o, "rsync-path");
	a->rsync_timeout = (int)pitr_opts_int(o, "rsync-timeout");
	a->pipe_timeout = (int)pitr_opts_int(o, "pipe-timeout");
	pitr_s3_config_from_opts(o, &a->s3);
}
