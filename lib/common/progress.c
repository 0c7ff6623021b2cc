/*
 * progress.c - progress of long work on the terminal's status line and in
 * periodic LOG lines (see progress.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/progress.h"

#define LINE_MAX_LEN 256

struct pitr_progress {
	char what[32];
	uint64_t bytes, total_bytes, files, total_files;
	double start_ms, drawn_ms, logged_ms;
	int logged_tenth;        /* the last tenth of the total a LOG line said */
	bool terminal;           /* asked once: add() runs for every block */
	bool drawn;
};

static double (*clock_fn)(void) = pitr_clock_ms;

void
pitr_progress_set_clock(double (*clock_ms)(void))
{
	clock_fn = clock_ms != NULL ? clock_ms : pitr_clock_ms;
}

void
pitr_progress_format_bytes(uint64_t bytes, char *out, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, size, "%" PRIu64 " B", bytes);
		return;
	}
	v /= 1024.0;
	/* 1023.96 KiB would print as "1024.0 KiB": move up before that. */
	while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(out, size, "%.1f %s", v, units[u]);
}

void
pitr_progress_format_duration(double seconds, char *out, size_t size)
{
	uint64_t s = seconds > 0 ? (uint64_t)seconds : 0;

	if (s < 60)
		snprintf(out, size, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(out, size, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		snprintf(out, size, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

/* "A of T (P%)" when the total is known and not passed yet, else "A";
 * byte counts when `unit` is NULL, else counts with that unit. */
static int
format_count(char *out, size_t size, uint64_t done, uint64_t total, const char *unit)
{
	char a[32], t[32];

	if (unit == NULL) {
		pitr_progress_format_bytes(done, a, sizeof(a));
		pitr_progress_format_bytes(total, t, sizeof(t));
	} else {
		snprintf(a, sizeof(a), "%" PRIu64, done);
		snprintf(t, sizeof(t), "%" PRIu64, total);
	}
	if (total == 0 || done >= total)
		return snprintf(out, size, "%s%s%s", a, unit ? " " : "", unit ? unit : "");
	if (unit != NULL)
		return snprintf(out, size, "%s of %s %s", a, t, unit);
	/* Below the total: at most 99 %, the estimate may be short. */
	return snprintf(out, size, "%s of %s (%d%%)", a, t, (int)(done * 100 / total));
}

int
pitr_progress_format(char *out, size_t size, const struct pitr_progress_state *st)
{
	char bytes[96], files[96], rate[32], left[32];
	double secs = st->elapsed_ms / 1000.0;
	double per_s = secs > 0 ? (double)st->bytes / secs : 0;

	format_count(bytes, sizeof(bytes), st->bytes, st->total_bytes, NULL);
	files[0] = '\0';
	if (st->files > 0 || st->total_files > 0) {
		strcpy(files, ", ");
		format_count(files + 2, sizeof(files) - 2, st->files, st->total_files, "files");
	}
	rate[0] = left[0] = '\0';
	if (secs >= 1.0) {
		pitr_progress_format_bytes((uint64_t)per_s, rate + 2, sizeof(rate) - 4);
		memcpy(rate, ", ", 2);
		strcat(rate, "/s");
	}
	if (secs >= 1.0 && per_s > 0 && st->total_bytes > st->bytes) {
		memcpy(left, ", ", 3);
		pitr_progress_format_duration((double)(st->total_bytes - st->bytes) / per_s, left + 2,
					      sizeof(left) - 8);
		strcat(left, " left");
	}
	return snprintf(out, size, "%s: %s%s%s%s", st->what, bytes, files, rate, left);
}

bool
pitr_progress_wanted(void)
{
	return pitr_log_is_terminal() || pitr_log_is_verbose();
}

struct pitr_progress *
pitr_progress_new(const char *what, uint64_t total_bytes, uint64_t total_files)
{
	struct pitr_progress *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	snprintf(p->what, sizeof(p->what), "%s", what);
	p->total_bytes = total_bytes;
	p->total_files = total_files;
	p->start_ms = p->drawn_ms = p->logged_ms = clock_fn();
	p->terminal = pitr_log_is_terminal();
	return p;
}

void
pitr_progress_set_total(struct pitr_progress *p, uint64_t total_bytes, uint64_t total_files)
{
	if (p == NULL)
		return;
	p->total_bytes = total_bytes;
	p->total_files = total_files;
}

static void
format_now(const struct pitr_progress *p, double now, char *out, size_t size)
{
	const struct pitr_progress_state st = {
		.what = p->what, .bytes = p->bytes, .total_bytes = p->total_bytes,
		.files = p->files, .total_files = p->total_files, .elapsed_ms = now - p->start_ms,
	};

	pitr_progress_format(out, size, &st);
}

/* The tenth of the total done (0..10), -1 when no total is known. */
static int
tenth(const struct pitr_progress *p)
{
	if (p->total_bytes == 0)
		return -1;
	return p->bytes >= p->total_bytes ? 10 : (int)(p->bytes * 10 / p->total_bytes);
}

/* Draw the status line and write the LOG line when each is due. */
static void
tick(struct pitr_progress *p)
{
	bool log_due = pitr_log_is_verbose();
	char line[LINE_MAX_LEN];
	double now;

	if (!p->terminal && !log_due)
		return;
	now = clock_fn();
	log_due = log_due && (now - p->logged_ms >= PITR_PROGRESS_LOG_MS ||
			      (tenth(p) > p->logged_tenth && tenth(p) < 10));
	if (!log_due && !(p->terminal && now - p->drawn_ms >= PITR_PROGRESS_DRAW_MS))
		return;
	format_now(p, now, line, sizeof(line));
	if (log_due) {
		p->logged_ms = now;
		p->logged_tenth = tenth(p);
		pitr_log_verbose("%s", line);
	}
	if (p->terminal && now - p->drawn_ms >= PITR_PROGRESS_DRAW_MS) {
		p->drawn_ms = now;
		p->drawn = true;
		pitr_log_status(line);
	}
}

void
pitr_progress_add(struct pitr_progress *p, uint64_t bytes, uint64_t files)
{
	if (p == NULL)
		return;
	p->bytes += bytes;
	p->files += files;
	tick(p);
}

void
pitr_progress_set(struct pitr_progress *p, uint64_t bytes, uint64_t files)
{
	if (p == NULL)
		return;
	p->bytes = bytes;
	p->files = files;
	tick(p);
}

void
pitr_progress_free(struct pitr_progress *p)
{
	if (p == NULL)
		return;
	if (p->drawn)
		pitr_log_status(NULL);
	free(p);
}

void
pitr_progress_finish(struct pitr_progress *p)
{
	char bytes[32], dur[32], rate[32];
	double secs;

	if (p == NULL)
		return;
	if (p->drawn)
		pitr_log_status(NULL);
	p->drawn = false;
	secs = (clock_fn() - p->start_ms) / 1000.0;
	pitr_progress_format_bytes(p->bytes, bytes, sizeof(bytes));
	pitr_progress_format_duration(secs, dur, sizeof(dur));
	pitr_progress_format_bytes(secs > 0 ? (uint64_t)((double)p->bytes / secs) : p->bytes, rate,
				   sizeof(rate));
	if (p->files > 0)
		pitr_log_verbose("%s: %s, %" PRIu64 " files in %s, %s/s", p->what, bytes, p->files, dur,
				 rate);
	else
		pitr_log_verbose("%s: %s in %s, %s/s", p->what, bytes, dur, rate);
	pitr_progress_free(p);
}
