/*
 * info.h - pitr-info: what a backup dir and a WAL archive hold, as
 * text for people or as one JSON object for scripts (the schema is in
 * man/pitr-info.1 and stays stable: keys are only ever added).
 */
#ifndef PITR_CMD_INFO_H
#define PITR_CMD_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "repo/catalog.h"

struct pitr_info_opts {
	const char **backup_dirs;  /* -b [CODEC=]DIR, repeatable */
	size_t nbackup_dirs;
	const char **archives;     /* -a [CODEC=]DIR, repeatable; at least one
				    * dir of either kind */
	size_t narchives;
	bool json;                 /* --json */
	FILE *out;                 /* where the report goes; NULL: stdout */
	const struct pitr_s3_config *s3;  /* how s3:// dirs are reached
					   * (PITR_OPTS_S3); NULL: refused */
};

/*
 * Read the dirs through the catalog and write the report.  Problems
 * inside the dirs are part of the report, not failures.  With more than
 * one -b or -a (several hosts), each dir is listed, the window is the one
 * of all of them together, and the report adds the newest backup and the
 * furthest archive (pitr_info_newest, pitr_info_furthest) and whether they
 * are all of one database system.  Returns 0, or -1 after logging (no dir
 * given, a dir unreadable, the report not written, or -- after the report
 * -- dirs of different database systems).
 */
int pitr_cmd_info(const struct pitr_info_opts *opts);

/* The newest backup of cat, across all its backup dirs: the highest
 * timeline (a promoted standby's backups are newer than its old primary's
 * whatever their clocks said), then the latest stop LSN, then stop time;
 * NULL when cat has none. */
const struct pitr_catalog_backup *pitr_info_newest(const struct pitr_catalog *cat);

/* The archive that reaches furthest: the one whose last segment on its
 * latest timeline (the highest with segments) is the latest, timeline
 * first.  `cats` are the archives' own catalogs (one archive each). */
struct pitr_info_reach {
	size_t archive;        /* index into cats; meaningless when !found */
	bool found;
	uint32_t tli;
	uint64_t last;         /* segment number of that last segment */
	uint64_t end_lsn;      /* just past it */
	time_t end_epoch;      /* its mtime */
};
void pitr_info_furthest(const struct pitr_catalog *cats, size_t n, struct pitr_info_reach *r);

/*
 * The recoverable window: from the end of the oldest backup recovery can
 * start from (its stop time, the earliest moment recovery can stop at) to
 * the end of the gap-free WAL after it along the latest timeline
 * descending from its timeline.  Times of WAL are the archived segment
 * files' mtimes.
 */
struct pitr_info_window {
	const struct pitr_catalog_backup *backup;  /* NULL: no window */
	uint32_t tli;
	uint64_t start_lsn;    /* the backup's stop LSN */
	time_t start_epoch;    /* the backup's stop time */
	uint64_t end_lsn;      /* just past the last gap-free segment */
	time_t end_epoch;      /* that segment's mtime, or the backup's stop
				* time when the archive does not hold it */
};

/* Compute the window of `cat` (see above). */
void pitr_info_window(const struct pitr_catalog *cat, struct pitr_info_window *w);

/* Write a string as a JSON string literal (RFC 8259 escapes; bytes that
 * are not UTF-8 become U+FFFD, so the output is always valid JSON). */
void pitr_info_json_string(FILE *out, const char *s);

#endif
