/*
 * pitr-backup-master - hot base backup of a primary: data tarball, xlog
 * tarball, digest files and meta file to every destination.  Parses options and calls
 * pitr_cmd_backup_master().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cmd_backup.h"
#include "log.h"
#include "opts.h"

static const struct pitr_opt_def backup_options[] = {
	{ "bzip2-path", "bp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", 0, 0, "the cluster's data directory (default: the server's data_directory)" },
	{ "database", "d", PITR_OPT_STRING, "DBNAME", 0, 0, "database or full conninfo to connect to (default: libpq's)" },
	{ "digest", "dg", PITR_OPT_STRING, "LIST", 0, 0, "digest files of the data and xlog files: MD5,SHA-1,SHA-224,SHA-256,SHA-384,SHA-512" },
	{ "dst-direct", "dd", PITR_OPT_LIST, "[CODEC=][USER@]HOST:/DIR", 0, 0, "remote directory written through ssh, no local copy (repeatable)" },
	{ "dst-local", "dl", PITR_OPT_LIST, "[CODEC=]DIR", 0, 0, "local backup directory (repeatable)" },
	{ "dst-pipe", "dp", PITR_OPT_LIST, "[CODEC=]PROGRAM", 0, 0, "program run with the file name, data on stdin (repeatable)" },
	{ "dst-remote", "dr", PITR_OPT_LIST, "[CODEC=]URL", 0, 0, "rsync://host[:port]/module/path/ or host:/path/ (repeatable)" },
	{ "filename-template", "f", PITR_OPT_STRING, "TEMPLATE", 0, 0, "file names (default: " PITR_BACKUP_DEFAULT_TEMPLATE ")" },
	{ "gzip-path", "gp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "host", "h", PITR_OPT_STRING, "HOST", 0, 0, "server host or socket dir (default: libpq's)" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "lz4-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "lzma-path", "lp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	{ "nice-path", "np", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; priority is lowered in-process" },
	{ "not-nice", "nn", PITR_OPT_FLAG, NULL, 0, 0, "do not lower the priority while compressing" },
	{ "parallel-jobs", "PJ", PITR_OPT_INT, "N", 1, 64, "remote and pipe deliveries run at once (default: 1)" },
	{ "pid-file", NULL, PITR_OPT_STRING, "FILE", 0, 0, "run only one copy at a time, locked on FILE" },
	{ "port", "p", PITR_OPT_STRING, "PORT", 0, 0, "server port (default: libpq's)" },
	{ "psql-path", "pp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; pitrkit connects with libpq" },
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", 0, 0, "the rsync program (default: rsync on PATH)" },
	{ "shell-path", "sh", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; no shell is run" },
	{ "skip-xlogs", "sx", PITR_OPT_FLAG, NULL, 0, 0, "no xlog tarball and no -x dir: the backup is restored with the archive" },
	{ "ssh-path", "ssh", PITR_OPT_STRING, "PATH", 0, 0, "the ssh program for --dst-direct (default: ssh on PATH)" },
	{ "tar-path", "tp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; tar is written in-process" },
	{ "tee-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; output fans out in-process" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", 0, 0, "staging for remote and pipe copies (default: $TMPDIR or /tmp)" },
	{ "username", "U", PITR_OPT_STRING, "USER", 0, 0, "user to connect as (default: libpq's)" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log every delivery and timings" },
	{ "xlogs", "x", PITR_OPT_STRING, "DIR", 0, 0, "the --dst-backup dir of pitr-archive; must not exist" },
	{ "xz-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; compression is in-process" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(backup_options) / sizeof(backup_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_backup_opts b = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-backup-master", "pitr-backup-master [OPTION]...",
				backup_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (o.noperands != 0) {
		pitr_log_error("unexpected argument \"%s\": pitr-backup-master takes only options",
			       o.operands[0]);
		goto out;
	}
	b.data_dir = pitr_opts_str(&o, "data-dir");
	b.dbname = pitr_opts_str(&o, "database");
	b.host = pitr_opts_str(&o, "host");
	b.port = pitr_opts_str(&o, "port");
	b.user = pitr_opts_str(&o, "username");
	b.xlogs = pitr_opts_str(&o, "xlogs");
	b.dst_local = pitr_opts_list(&o, "dst-local", &b.ndst_local);
	b.dst_remote = pitr_opts_list(&o, "dst-remote", &b.ndst_remote);
	b.dst_pipe = pitr_opts_list(&o, "dst-pipe", &b.ndst_pipe);
	b.dst_direct = pitr_opts_list(&o, "dst-direct", &b.ndst_direct);
	b.temp_dir = pitr_opts_str(&o, "temp-dir");
	b.filename_template = pitr_opts_str(&o, "filename-template");
	b.pid_file = pitr_opts_str(&o, "pid-file");
	b.parallel_jobs = (int)pitr_opts_int(&o, "parallel-jobs", 1);
	b.not_nice = pitr_opts_flag(&o, "not-nice");
	b.rsync_path = pitr_opts_str(&o, "rsync-path");
	b.ssh_path = pitr_opts_str(&o, "ssh-path");
	b.digests = pitr_opts_str(&o, "digest");
	b.skip_xlogs = pitr_opts_flag(&o, "skip-xlogs");
	rc = pitr_cmd_backup_master(&b) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
