/*
 * logpath.h - OmniPITR log file templates.
 *
 * A template such as /var/log/pitr/^Y/^m/archive-^Y-^m-^d.log has every `^`
 * turned into `%` and is then expanded with strftime(3) in local time, so
 * the log rotates by itself.  A literal `%` in the template stays literal.
 */
#ifndef PITR_LOGPATH_H
#define PITR_LOGPATH_H

#include <time.h>

/* Expand `template_` for time `when`.  Returns a malloc'd string the caller
 * frees, or NULL (errno set: EINVAL for an empty template or one that
 * expands to nothing, ENOMEM). */
char *pitr_logpath_expand(const char *template_, time_t when);
/* The same for a broken-down time (a clock other than the local one). */
char *pitr_logpath_expand_tm(const char *template_, const struct tm *tm);

#endif
