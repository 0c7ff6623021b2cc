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
	const char *backup_dir;  /* -b [CODEC=]DIR, or NULL */
	const char *archive;     /* -a [CODEC=]DIR, or NULL; at least one of the two */
	bool json;               /* --json */
	FILE *out;               /* where the report goes; NULL: stdout */
};

/*
 * Read both dirs through the catalog and write the report.  Problems
 * inside the dirs are part of the report, not failures.  Returns 0, or -1
 * after logging (neither dir given, a dir unreadable, the report not
 * written).
 */
int pitr_cmd_info(const struct pitr_info_opts *opts);

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
