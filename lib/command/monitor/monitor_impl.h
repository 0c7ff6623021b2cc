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

#define PITR_MON_WAL_NAME_MAX 64
#define PITR_MON_TS_LEN 26                 /* "YYYY-MM-DD HH:MM:SS.uuuuuu" */
#define PITR_MON_ERROR_KEEP_S (30 * 86400) /* errors are kept a month, as OmniPITR */

/* One log file already read up to `offset`. */
struct pitr_mon_file {
	char *path;
	long long offset;
	/* The epoch of its first pitr log line (-1: none yet): the reading
	 * order, and with the inode what tells a file replaced under the same
	 * name (logrotate's rename and create, or copytruncate). */
	double start;
	unsigned long long dev, ino; /* 0 0: unknown (a version 1 state) */
};

/* One ERROR or FATAL line, as the errors check prints it. */
struct pitr_mon_error {
	double epoch;
	long pid;
	char ts[PITR_MON_TS_LEN + 1];
	char *line;             /* "LEVEL : message" */
};

/* What the logs said, kept in STATE_DIR/pitr-monitor.state between calls.
 * Epochs are seconds with microseconds; 0 means never. */
struct pitr_mon_state {
	struct pitr_mon_file *files;
	size_t nfiles;
	double archive_last;    /* pitr-archive's last "archived" line */
	char archive_wal[PITR_MON_WAL_NAME_MAX];
	double archive_fail;    /* its first ERROR after that line */
	double restore_last;    /* pitr-restore's last "restored" line */
	char restore_wal[PITR_MON_WAL_NAME_MAX];
	double restore_wait;    /* a pitr-restore waiting since, for restore_pid */
	long restore_pid;
	double backup_last;     /* the last "backup ... done" of either backup program */
	unsigned long long errors_total; /* ERROR and FATAL lines ever read */
	struct pitr_mon_error *errors;
	size_t nerrors;
};

/* One parsed log line; the strings point into the line. */
struct pitr_mon_line {
	double epoch;
	long pid;
	char ts[PITR_MON_TS_LEN + 1];
	char program[80];       /* without "pitr-" or "omnipitr-" */
	char level[8];          /* LOG, ERROR, FATAL */
	const char *message;
	const char *level_and_message; /* "LEVEL : message" */
};

/* parse.c */
/* Parse one line (without its newline) of the OmniPITR format, PROGRAM
 * pitr-NAME or omnipitr-NAME.  Returns 0, or -1 for any other line. */
int pitr_mon_parse_line(const char *text, struct pitr_mon_line *l);
/* The epoch of "YYYY-MM-DD HH:MM:SS.uuuuuu +ZZZZ" at the start of `text`,
 * or -1. */
double pitr_mon_parse_time(const char *text);
/* The same, and the line's own wall clock (its fields as written, its
 * zone's offset) in *wall when not NULL. */
double pitr_mon_parse_wall(const char *text, struct tm *wall);
/* Apply what one line says to the state. */
void pitr_mon_state_feed(struct pitr_mon_state *s, const struct pitr_mon_line *l);

/* state.c */
/* Read STATE_DIR/pitr-monitor.state (absent: an empty state).  Returns 0,
 * or -1 after logging. */
int pitr_mon_state_load(struct pitr_mon_state *s, const char *state_dir);
/* Write it atomically.  Returns 0, or -1 after logging. */
int pitr_mon_state_save(const struct pitr_mon_state *s, const char *state_dir);
/* The state as its file's text, to `out`. */
void pitr_mon_state_write(const struct pitr_mon_state *s, FILE *out);
/* Drop errors older than a month before `now`. */
void pitr_mon_state_prune(struct pitr_mon_state *s, double now);
void pitr_mon_state_free(struct pitr_mon_state *s);
struct pitr_mon_file *pitr_mon_state_file(struct pitr_mon_state *s, const char *path);
struct pitr_mon_file *pitr_mon_state_add_file(struct pitr_mon_state *s, const char *path,
					      double start);
void pitr_mon_state_add_error(struct pitr_mon_state *s, const struct pitr_mon_line *l);

/* logread.c */
/* Read every new complete line of the files the templates name (today's
 * and earlier days' rotated files).  Returns the number of lines read, or
 * -1 after logging. */
long pitr_mon_read_logs(struct pitr_mon_state *s, const char *const *templates, size_t n);
/* The glob(3) pattern of a template: each ^X becomes *, glob characters of
 * the rest are escaped.  malloc'd. */
char *pitr_mon_template_glob(const char *template_);

/* The checks' values at `now`. */
struct pitr_mon_values {
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
void pitr_mon_values_compute(const struct pitr_mon_state *s, double now, struct pitr_mon_values *v);
/* Ask the server for the archive queue.  Returns 0, or -1 after logging. */
int pitr_mon_values_queue(const struct pitr_monitor_opts *o, struct pitr_mon_values *v);
/* The lower bound of the errors to show: --from, or the errors check's
 * last call (STATE_DIR/Check-errors/from-timestamp).  Returns 0 or -1. */
int pitr_mon_errors_from(const struct pitr_monitor_opts *o, double now, double *from,
			 bool *state_based);
int pitr_mon_errors_save_from(const char *state_dir, double from);
/* The errors newer than `from`, sorted by time: count, and the last one's
 * epoch in *last. */
size_t pitr_mon_errors_after(const struct pitr_mon_state *s, double from,
			     const struct pitr_mon_error ***out);

/* output.c */
void pitr_mon_print_plain_number(FILE *out, bool have, double value);
void pitr_mon_print_error(FILE *out, const struct pitr_mon_error *e);
int pitr_mon_write_prometheus(FILE *out, const struct pitr_mon_values *v,
			      const struct pitr_mon_state *s);
int pitr_mon_write_json(FILE *out, const struct pitr_mon_values *v, const struct pitr_mon_state *s,
		   const struct pitr_mon_error **errs, size_t nerrs);
/* A threshold option's value: absent (*have false) or a number.  Returns
 * 0, or -1 after logging. */
int pitr_mon_threshold(const char *text, const char *opt, bool *have, double *value);
/* Replace `path` atomically with `len` bytes of `buf`.  Returns 0 or -1. */
int pitr_mon_publish_output(const char *path, const char *buf, size_t len);
/* Nagios mode: the status line for check `name` = value; returns the exit
 * status. */
int pitr_mon_nagios(FILE *out, const char *name, bool have, double value, const char *unit,
	       const char *warning, const char *critical);

#endif
