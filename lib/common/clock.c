/*
 * clock.c - monotonic time, file ages and sleeps (see clock.h).
 */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "common/clock.h"

/* A struct timespec in milliseconds. */
static double
timespec_ms(const struct timespec *ts)
{
	return (double)ts->tv_sec * 1000.0 + (double)ts->tv_nsec / 1e6;
}

double
pitr_clock_ms(void)
{
	struct timespec ts;

	/* Cannot fail with a valid clock id and pointer. */
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return timespec_ms(&ts);
}

double
pitr_clock_file_age_ms(const struct stat *st)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	return timespec_ms(&now) - timespec_ms(&st->st_mtim);
}

/* `ms` as a relative timespec; ms > 0. */
static struct timespec
ms_timespec(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	return ts;
}

void
pitr_clock_sleep_ms(long ms)
{
	struct timespec left;

	if (ms <= 0)
		return;
	left = ms_timespec(ms);
	/* nanosleep() leaves the time still to sleep in `left`. */
	while (nanosleep(&left, &left) != 0 && errno == EINTR)
		;
}

bool
pitr_clock_sleep_interruptible_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return false;
	ts = ms_timespec(ms);
	return nanosleep(&ts, NULL) != 0 && errno == EINTR;
}
