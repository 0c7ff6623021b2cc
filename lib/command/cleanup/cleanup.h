/*
 * cleanup.h - pitr-cleanup: remove the archived segments a streaming
 * standby no longer needs (archive_cleanup_command).
 */
#ifndef PITR_CMD_CLEANUP_H
#define PITR_CMD_CLEANUP_H

#include <stdbool.h>
#include <stdio.h>

struct pitr_s3_config;

struct pitr_cleanup_opts {
	const char *archive;        /* -a [CODEC=]DIR or [CODEC=]s3://BUCKET/PREFIX/; the
				     * codec does not matter: every codec's files are
				     * removed */
	const struct pitr_s3_config *s3; /* how an s3:// archive is reached; NULL: the
				     * defaults (s3/s3.h) */
	const char *pause_trigger;  /* -p FILE: remove nothing while it exists */
	const char *pid_file;       /* --pid-file */
	bool dry_run;               /* -n: list, remove nothing */
	const char *segment;        /* %r: the oldest file still needed */
	FILE *out;                  /* the --dry-run list; NULL: stdout */
};

/*
 * Remove from opts->archive (a directory, or the objects under an object
 * store's prefix, listed non-recursively) every segment and partial segment older than
 * opts->segment (timeline ignored, any codec extension, never a history
 * file), oldest first, stopping at the first failure.  With dry_run the
 * file names are written to opts->out, one per line, instead.  Returns 0
 * (also when the pause trigger exists or nothing is old enough), or -1
 * after logging.
 */
int pitr_cmd_cleanup(const struct pitr_cleanup_opts *opts);

#endif
