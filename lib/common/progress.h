/*
 * progress.h - how far long work is: bytes and files done (of a total when
 * known), the rate, the time left.
 *
 * On a terminal (log.h's pitr_log_is_terminal) one status line is redrawn
 * in place at most PITR_PROGRESS_DRAW_MS apart and erased at the end; with
 * -v a LOG line in the normal log format every PITR_PROGRESS_LOG_MS or
 * each tenth of a known total; nothing else: when stderr is not a terminal
 * (archive_command, cron) the output keeps OmniPITR's lines only.
 *
 * Totals are estimates (a backup's data dir changes while it is read): the
 * shown share stops at 99 % until the work ends, and a count beyond its
 * total is shown without one.
 */
#ifndef PITR_PROGRESS_H
#define PITR_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PITR_PROGRESS_DRAW_MS 250
#define PITR_PROGRESS_LOG_MS 10000

struct pitr_progress;

/* Whether progress would show anywhere (a terminal, or -v): callers skip
 * the work of an estimate when it would not. */
bool pitr_progress_wanted(void);

/* Progress of `what` ("data", "replay": the line's first word, copied);
 * totals 0 when unknown.  Draws nothing yet.  NULL only when out of
 * memory (logged): callers go on without progress. */
struct pitr_progress *pitr_progress_new(const char *what, uint64_t total_bytes,
					uint64_t total_files);

/* Set the totals once known (0: unknown). */
void pitr_progress_set_total(struct pitr_progress *p, uint64_t total_bytes, uint64_t total_files);

/* Add to the counts, and draw or log if it is time.  NULL p: nothing. */
void pitr_progress_add(struct pitr_progress *p, uint64_t bytes, uint64_t files);

/* Set the counts (as replay reports its position). */
void pitr_progress_set(struct pitr_progress *p, uint64_t bytes, uint64_t files);

/* The work ended: the status line erased; with -v one LOG line of the
 * totals and the mean rate.  Then free it.  NULL p: nothing. */
void pitr_progress_finish(struct pitr_progress *p);

/* Erase the status line and free, without a final line (a failed run).
 * NULL p: nothing. */
void pitr_progress_free(struct pitr_progress *p);

/* What one line says, for pitr_progress_format(). */
struct pitr_progress_state {
	const char *what;
	uint64_t bytes, total_bytes;  /* total 0: unknown */
	uint64_t files, total_files;  /* both 0: no files (replay) */
	double elapsed_ms;            /* since the start */
};

/*
 * The line: "data: 12.0 MiB of 300.0 MiB (4%), 10 of 900 files, 6.0 MiB/s,
 * 48s left"; without a known total "data: 12.0 MiB, 10 files, 6.0 MiB/s".
 * No rate nor time left before a first second has passed.  Returns the
 * length written (truncated to `size` as snprintf does).
 */
int pitr_progress_format(char *out, size_t size, const struct pitr_progress_state *st);

/* A byte count as "512 B", "1.5 KiB", "12.0 MiB", "3.2 GiB", "1.0 TiB". */
void pitr_progress_format_bytes(uint64_t bytes, char *out, size_t size);

/* A duration in seconds as "9s", "3m05s", "2h07m" (rounded down). */
void pitr_progress_format_duration(double seconds, char *out, size_t size);

/* Test hook: the clock in milliseconds (NULL: common/clock.h's). */
void pitr_progress_set_clock(double (*clock_ms)(void));

#endif
