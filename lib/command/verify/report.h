/*
 * report.h - pitr-verify --json: every check it made, each one's result,
 * and every problem with the check that found it, gathered while the
 * checks run and written at the end as one JSON document (the schema is
 * in man/pitr-verify.1; keys are only ever added).
 */
#ifndef PITR_CMD_VERIFY_REPORT_H
#define PITR_CMD_VERIFY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pitr_verify_report;

/* An empty report; NULL after logging. */
struct pitr_verify_report *pitr_verify_report_new(void);

/* Release it; accepts NULL. */
void pitr_verify_report_free(struct pitr_verify_report *r);

/*
 * Begin check `type` ("backup directory", "temporary files", "backup",
 * "archive directory", "archive files", "archive gaps") of `target` (a
 * directory or a backup's name); `method` says how, or NULL.  Problems
 * reported after it are its own.
 */
void pitr_verify_report_check(struct pitr_verify_report *r, const char *type, const char *target,
			      const char *method);

/* A problem of the current check: KIND "PATH": REASON, or (kind and path
 * NULL) a line of the catalog's. */
void pitr_verify_report_problem(struct pitr_verify_report *r, const char *kind, const char *path,
				const char *reason);

/* The number of segments the current check read. */
void pitr_verify_report_segments(struct pitr_verify_report *r, size_t nsegments);

/*
 * Write the document to `out`: the dirs, the summary (the text's last
 * line's figures), the checks and the problems.  Returns 0, or -1 after
 * logging when something could not be recorded on the way (memory).
 */
int pitr_verify_report_write(const struct pitr_verify_report *r, FILE *out, const char *backup_dir,
			     const char *const *archives, size_t narchives, size_t nbackups,
			     size_t nsegments);

#endif
