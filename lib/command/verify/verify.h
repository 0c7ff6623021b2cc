/*
 * verify.h - pitr-verify: prove that the backups and the WAL archive
 * can be restored, and list every reason they could not.
 *
 * Checked, through catalog.h's view of the directories: every backup's
 * digest files against the files as stored (a backup without digests has
 * its data and xlog files decompressed to the end instead); every archived
 * file decompressed to the end, segments exactly one segment long with a
 * header that fits their name (walhdr.h) and the system identifier of the
 * backups and of the rest of the archive; history files parsed; the
 * segments every backup needs, up to the end of its timeline path; gaps
 * inside each timeline; every chain of incremental backups (chain.c,
 * issue 13): each link in the backup dir, each sig file read and agreeing
 * with its meta, each incremental's chunk members against its manifest,
 * each chain composed.
 *
 * Each problem is one line on `out`, in the form of catalog.h's problems:
 *     PROBLEM: KIND "PATH": REASON
 * KIND is "meta file", "backup file", "digest file", "archive file" or
 * "archive" (PATH then is the archive directory, for missing segments);
 * the reason is one of a fixed set of phrasings the man page lists.  The
 * catalog's own problems are printed as "PROBLEM: " and their line.  When
 * a module below (codec, WAL header, file reads) found the fault it has
 * logged its own exact words too.  Last comes the summary:
 *     N backups, N segments checked, N problems
 */
#ifndef PITR_CMD_VERIFY_H
#define PITR_CMD_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pitr_s3_config;

struct pitr_verify_opts {
	const char *backup_dir;    /* -b [CODEC=]DIR or s3://BUCKET/PREFIX/; NULL:
				    * no backups to check */
	const char **archives;     /* -a [CODEC=]DIR or [CODEC=]s3://..., at least one */
	size_t narchives;
	FILE *out;                 /* problem lines and the summary (stdout) */
	bool json;                 /* --json: one JSON document instead (report.h) */
	const struct pitr_s3_config *s3;  /* PITR_OPTS_S3; NULL: s3:// refused */
};

/*
 * Verify.  Returns 0 when no problem was found, 1 when problems were
 * printed (the summary too), -1 after logging when the check could not be
 * made at all (no archive given, a bad option value, a directory that
 * cannot be read: nothing is printed) or not finished (an allocation
 * failed: no summary).
 */
int pitr_cmd_verify(const struct pitr_verify_opts *opts);

#endif
