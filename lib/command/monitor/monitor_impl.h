/*
 * monitor_impl.h - what the files of lib/command/monitor share: the state
 * kept between calls in the -s dir, the log line parser, the log file
 * reader, the checks' values and the output formats.
 */
#ifndef PITR_MONITOR_IMPL_H
#define PITR_MONITOR_IMPL_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "command/monitor/monitor.h"

#define MON_WAL_NAME_MAX 64
#define MON_TS_LEN 26                 /* "YYYY-MM-DD HH:MM:SS.uuuuuu" */
#define MON_ERROR_KEEP_S (30 * 86400) /* errors are kept a month, as OmniPITR */

/* One log file already read up to `offset`. */
struct mon_file {
	char *path;
	long long offset;
	double start;           /* epoch of its first line: the reading order */
};

/* One ERROR or FATAL line, as the errors check prints it. */
struct mon_error {
	double epoch;
	long pid;
	char ts[MON_TS_LEN + 1];
	char *line;             /* "LEVEL : message" */
};

/* What the logs said, kept in STATE_DIR/pitr-monitor.state between calls.
 * Epochs are seconds with microseconds; 0 means never. */
struct mon_state {
	struct mon_file *files;
	size_t nfiles;
	double archive_last;    /* pitr-archive's last "archived" line */
	char archive_wal[MON_WAL_NAME_MAX];
	double archive_fail;    /* its first ERROR after that line */
	double restore_last;    /* pitr-restore's last "restored" line */
	char restore_wal[MON_WAL_NAME_MAX];
	double restore_wait;    /* a pitr-restore waiting since, for restore_pid */
	long restore_pid;
	double backup_last;     /* the last "backup ... done" of either backup program */
	unsigned long long errors_total; /* ERROR and FATAL lines ever read */
	struct mon_error *errors;
	size_t nerrors;
};

/* One parsed log line; the strings point into the line. */
struct mon_line {
	double epoch;
	long pid;
	char ts[MON_TS_LEN + 1];
	char program[80];       /* without "pitr-" or "omnipitr-" */
	char level[8];          /* LOG, ERROR, FATAL */
	const char *message;
	const char *level_and_message; /* "LEVEL : message" */
};

/* parse.c */
/* Parse one line (without its newline) of the OmniPITR format, PROGRAM
 * pitr-NAME or omnipitr-NAME.  Returns 0, or -1 for any other line. */
int mon_parse_line(const char *text, struct mon_line *l);
/* The epoch of "YYYY-MM-DD HH:MM:SS.uuuuuu +ZZZZ" at the start of `text`,
 * or -1. */
double mon_parse_time(const char *text);
/* Apply what one line says to the state. */
void mon_state_feed(struct mon_state *s, const struct mon_line *l);

/* state.c */
/* Read STATE_DIR/pitr-monitor.state (absent: an empty state).  Returns 0,
 * or -1 after logging. */
int mon_state_load(struct mon_state *s, const char *state_dir);
/* Write it atomically.  Returns 0, or -1 after logging. */
int mon_state_save(const struct mon_state *s, const char *state_dir);
/* The state as its file's text, to `out`. */
void mon_state_write(const struct mon_state *s, FILE *out);
/* Drop errors older than a month before `now`. */
void mon_state_prune(struct mon_state *s, double now);
void mon_state_free(struct mon_state *s);
struct mon_file *mon_state_file(struct mon_state *s, const char *path);
struct mon_file *mon_state_add_file(struct mon_state *s, const char *path, double start);
void mon_state_add_error(struct mon_state *s, const struct mon_line *l);

/* logread.c */
/* Read every new complete line of the files the templates name (today's
 * and earlier days' rotated files).  Returns the number of lines read, or
 * -1 after logging. */
long mon_read_logs(struct mon_state *s, const char *const *templates, size_t n);
/* The glob(3) pattern of a template: each ^X becomes *, glob characters of
 * the rest are escaped.  malloc'd. */
char *mon_template_glob(const char *template_);

/* The checks' values at `now`. */
struct mon_values {
	double now;
	bool have_archive, have_restore, have_backup;
	double last_archive_age, current_archive_time;
	double last_restore_age, current_restore_time;
	double last_backup_age;
	bool have_queue;
	long archive_queue;     /* .ready files in pg_wal/archive_status */
	long archiver_failed;   /* pg_stat_archiver.failed_count */
};

/* checks.c */
void mon_values_compute(const struct mon_state *s, double now, struct mon_values *v);
/* Ask the server for the archive queue.  Returns 0, or -1 after logging. */
int mon_values_queue(const struct pitr_monitor_opts *o, struct mon_values *v);
/* The lower bound of the errors to show: --from, or the errors check's
 * last call (STATE_DIR/Check-errors/from-timestamp).  Returns 0 or -1. */
int mon_errors_from(const struct pitr_monitor_opts *o, double now, double *from, bool *state_based);
int mon_errors_save_from(const char *state_dir, double from);
/* The errors newer than `from`, sorted by time: count, and the last one's
 * epoch in *last. */
size_t mon_errors_after(const struct mon_state *s, double from, const struct mon_error ***out);

/* output.c */
void mon_print_plain_number(FILE *out, bool have, double value);
void mon_print_error(FILE *out, const struct mon_error *e);
int mon_write_prometheus(FILE *out, const struct mon_values *v, const struct mon_state *s);
int mon_write_json(FILE *out, const struct mon_values *v, const struct mon_state *s,
		   const struct mon_error **errs, size_t nerrs);
/* A threshold option's value: absent (*have false) or a number.  Returns
 * 0, or -1 after logging. */
int mon_threshold(const char *text, const char *opt, bool *have, double *value);
/* Replace `path` atomically with `len` bytes of `buf`.  Returns 0 or -1. */
int mon_publish_output(const char *path, const char *buf, size_t len);
/* Nagios mode: the status line for check `name` = value; returns the exit
 * status. */
int mon_nagios(FILE *out, const char *name, bool have, double value, const char *unit,
	       const char *warning, const char *critical);

#endif
