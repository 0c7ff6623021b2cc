/*
 * pitr-archive - archive_command: deliver one finished WAL file to every
 * destination, durably.  Parses options and calls pitr_cmd_archive().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/archive/archive.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def archive_options[] = {
	{ "bzip2-path", "bp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", 0, 0, "the cluster's data directory (default: .)" },
	{ "dst-backup", "db", PITR_OPT_STRING, "DIR", 0, 0, "absolute dir that gets a plain copy while it exists (pitr-backup-master -x)" },
	{ "dst-local", "dl", PITR_OPT_LIST, "[CODEC=]DIR", 0, 0, "local archive directory (repeatable)" },
	{ "dst-pipe", "dp", PITR_OPT_LIST, "[CODEC=]PROGRAM", 0, 0, "program run with the file name, data on stdin (repeatable)" },
	{ "dst-remote", "dr", PITR_OPT_LIST, "[CODEC=]URL", 0, 0, "rsync://host[:port]/module/path/ or host:/path/ (repeatable)" },
	{ "force-data-dir", "f", PITR_OPT_FLAG, NULL, 0, 0, "use --data-dir even if it does not look like a cluster" },
	{ "gzip-path", "gp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "lz4-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "lzma-path", "lp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "nice-path", "np", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; priority is lowered in-process" },
	{ "not-nice", "nn", PITR_OPT_FLAG, NULL, 0, 0, "do not lower the priority while compressing" },
	{ "parallel-jobs", "PJ", PITR_OPT_INT, "N", 1, 64, "remote and pipe deliveries run at once (default: 1)" },
	{ "pid-file", NULL, PITR_OPT_STRING, "FILE", 0, 0, "run only one copy at a time, locked on FILE" },
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", 0, 0, "the rsync program (default: rsync on PATH)" },
	{ "rsync-timeout", NULL, PITR_OPT_INT, "SECONDS", 1, 86400, "rsync connection and I/O timeout (default: 60)" },
	{ "state-dir", "s", PITR_OPT_STRING, "DIR", 0, 0, "remembers partial deliveries; needed with several destinations" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", 0, 0, "staging for remote and pipe copies (default: $TMPDIR or /tmp)" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log every delivery and timings" },
	{ "xz-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(archive_options) / sizeof(archive_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_archive_opts a = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-archive", "pitr-archive [OPTION]... WAL_PATH",
				archive_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (o.noperands != 1) {
		pitr_log_error(o.noperands == 0 ? "no WAL file given: archive_command must pass \"%%p\"" :
				"more than one WAL file given: archive_command must pass only \"%%p\"");
		goto out;
	}
	a.data_dir = pitr_opts_str(&o, "data-dir") ? pitr_opts_str(&o, "data-dir") : ".";
	a.force_data_dir = pitr_opts_flag(&o, "force-data-dir");
	a.dst_local = pitr_opts_list(&o, "dst-local", &a.ndst_local);
	a.dst_remote = pitr_opts_list(&o, "dst-remote", &a.ndst_remote);
	a.dst_pipe = pitr_opts_list(&o, "dst-pipe", &a.ndst_pipe);
	a.dst_backup = pitr_opts_str(&o, "dst-backup");
	a.temp_dir = pitr_opts_str(&o, "temp-dir");
	a.state_dir = pitr_opts_str(&o, "state-dir");
	a.pid_file = pitr_opts_str(&o, "pid-file");
	a.parallel_jobs = (int)pitr_opts_int(&o, "parallel-jobs", 1);
	a.not_nice = pitr_opts_flag(&o, "not-nice");
	a.rsync_path = pitr_opts_str(&o, "rsync-path");
	a.rsync_timeout = (int)pitr_opts_int(&o, "rsync-timeout", 0);
	a.wal_path = o.operands[0];
	rc = pitr_cmd_archive(&a) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
