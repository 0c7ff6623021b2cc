/*
 * clock.h - time for intervals, timeouts and file ages, and sleeps.
 *
 * Durations are measured on the monotonic clock only: the wall clock may
 * jump (NTP, an administrator, a VM resumed) and make a timeout fire early,
 * never, or a logged duration negative.  The wall clock appears once, in
 * pitr_clock_file_age_ms(), because a file's modification time is on it.
 */
#ifndef PITR_CLOCK_H
#define PITR_CLOCK_H

#include <stdbool.h>
#include <sys/stat.h>

/* Milliseconds on the monotonic clock, from an arbitrary origin, with
 * sub-millisecond precision: only differences between two calls mean
 * anything. */
double pitr_clock_ms(void);

/* How long ago, in milliseconds of wall-clock time, the file `st`
 * describes was last modified (negative for a time in the future). */
double pitr_clock_file_age_ms(const struct stat *st);

/* Sleep `ms` milliseconds (nothing for ms <= 0), all of them: a signal
 * handler that runs meanwhile does not shorten the sleep. */
void pitr_clock_sleep_ms(long ms);

/* Sleep up to `ms` milliseconds (nothing for ms <= 0), returning early
 * when a signal handler runs, so that a polling loop looks at the flags
 * its handlers set without waiting out the step.  Returns true if a
 * signal cut the sleep short. */
bool pitr_clock_sleep_interruptible_ms(long ms);

#endif
