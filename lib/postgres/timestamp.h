/*
 * timestamp.h - points in time as PostgreSQL's timestamptz text has them:
 * the recovery_target_time a user gives, and the start and stop times a
 * backup's meta file records ("YYYY-MM-DD HH:MM:SS +ZZZZ").
 */
#ifndef PITR_TIMESTAMP_H
#define PITR_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Room for a formatted timestamp and its NUL. */
#define PITR_TIMESTAMP_TEXT_MAX 64

/*
 * Parse a time as recovery_target_time and the meta file write it:
 * "YYYY-MM-DD HH:MM[:SS[.frac]]" (or a 'T' between date and time) with an
 * optional zone "Z", "UTC", "GMT" or [+-]HH[[:]MM], a space before it
 * allowed; without a zone the time is local.  *has_zone says which.
 * Fractions are dropped.  Returns 0, or -1 (nothing logged).
 */
int pitr_timestamp_parse(const char *text, time_t *out, bool *has_zone);

/*
 * `t` in local time with its offset, "YYYY-MM-DD HH:MM:SS +ZZZZ" (what
 * pitr-backup-master records and pitr-info prints; pitr_timestamp_parse
 * reads it back to `t`).  Returns 0, or -1 when the time cannot be
 * represented in four digits of year (0 to 9999) or `size` is too small
 * (PITR_TIMESTAMP_TEXT_MAX is enough); nothing logged.
 */
int pitr_timestamp_format(time_t t, char *out, size_t size);

#endif
