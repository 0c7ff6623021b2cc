/*
 * log.h - the OmniPITR log line format, to a strftime-expanded file or stderr.
 *
 * Every line is
 *     YYYY-MM-DD HH:MM:SS.uuuuuu +ZZZZ : PID : PROGRAM : LEVEL : message
 * so that existing log watchers and pitr-monitor read pitrkit's logs as they
 * read OmniPITR's.  The file name is expanded again for every line (see
 * logpath.h), so a long-running process follows a daily or weekly template.
 * Each line is written with a single write(2) on an O_APPEND descriptor, so
 * lines of concurrent processes sharing one file never interleave.
 *
 * stderr: without a log file every line goes there, in that same format
 * unless stderr is a terminal; with one, ERROR and FATAL lines go there
 * too, so that a failure reaches the operator's terminal, cron's mail or
 * (from archive_command) PostgreSQL's server log.  On a terminal the line
 * is shortened to "PROGRAM: message" ("PROGRAM: ERROR: message" for the
 * two failure levels); anywhere else it is the exact OmniPITR line, so
 * what captures stderr of archive_command or cron keeps one format.
 */
#ifndef PITR_LOG_H
#define PITR_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum pitr_log_level {
	PITR_LOG_LOG,
	PITR_LOG_ERROR,
	PITR_LOG_FATAL,
};

/*
 * Set the program name and the log template (NULL: lines go to stderr).
 * `verbose` enables pitr_log_verbose() lines.  May be called again (tests
 * do).  Returns 0, or -1 if the template is empty (reported on stderr).
 */
int pitr_log_open(const char *progname, const char *template_, bool verbose);

/* While `on`, lines that go to the log file are also written to stderr:
 * an option error must reach both the operator's terminal and the log.
 * pitr_log_open() turns it off. */
void pitr_log_tee_stderr(bool on);

/* Forget the template and close any open file.  Safe to call twice. */
void pitr_log_close(void);

/* The open log file's descriptor, or -1: for a signal handler's one
 * line (sigclean.h).  Async-signal-safe. */
int pitr_log_fd(void);

/* Write one line at `level`.  A failure to write the log file is reported
 * once on stderr and the line is written there instead: a log problem never
 * hides the message. */
void pitr_log(enum pitr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void pitr_log_v(enum pitr_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Shorthands: LOG, ERROR, and LOG only when verbose. */
void pitr_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pitr_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pitr_log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool pitr_log_is_verbose(void);

/*
 * While `buf` is not NULL, messages are not written: the first one's text
 * (without time, program and level) is kept in `buf` (`size` bytes), for a
 * caller that folds a step's failure into its own one line.  NULL ends it,
 * and brings back the hold it was made inside, if any (a look-ahead
 * worker's whole run is held, and steps inside it hold too): every hold
 * must be ended by the caller that made it.
 */
void pitr_log_hold(char *buf, size_t size);

/*
 * The same for ERROR lines alone: LOG lines (progress, what was done) and
 * FATAL ones are written as ever, the first ERROR line's text is kept and
 * the later ones dropped.  For a reader whose failure may be another's
 * consequence, the other's line to be the one logged if so (pipefeed.h).
 * pitr_log_hold(NULL, 0) ends it.
 */
void pitr_log_hold_errors(char *buf, size_t size);

/* Whether this thread holds its lines (either hold): a step that would
 * hold leaves an outer one be. */
bool pitr_log_holding(void);

/*
 * Test hook: when `buf` is not NULL, every line's "LEVEL : message" part is
 * also appended to `buf` (NUL-terminated, truncated to `size`), one line per
 * message.  Passing NULL stops capturing.
 */
void pitr_log_capture(char *buf, size_t size);

/*
 * Whether stderr is a terminal (isatty), unless a test forced the answer
 * with pitr_log_force_terminal(): 1 yes, 0 no, -1 ask isatty again.
 */
bool pitr_log_is_terminal(void);
void pitr_log_force_terminal(int terminal);

/* A hint for the operator after an error ("HINT: text" on its own line):
 * written only when stderr is a terminal, never to the log file, whose
 * readers expect OmniPITR's lines alone. */
void pitr_log_hint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The status line (common/progress.h): `text` shown on the terminal's last
 * line, redrawn in place ("\r", erase to end of line), without a newline;
 * a log line written to stderr meanwhile erases it first and draws it again
 * after, so the two never mix.  NULL erases it.  Nothing at all unless
 * stderr is a terminal.
 */
void pitr_log_status(const char *text);

/*
 * A sink takes, in place of stderr, every line that would go there
 * (every line without a log file; with one, ERROR and FATAL lines only):
 * `message` is the text after the level, without a newline.  For a host
 * process that owns its stderr and its log, as PostgreSQL does for the
 * archive module (pgmodule/), which hands the lines to the server's log.
 * It may be called from any thread that logs.  NULL restores stderr.
 */
typedef void (*pitr_log_sink_fn)(enum pitr_log_level level, const char *message, void *arg);
void pitr_log_set_sink(pitr_log_sink_fn fn, void *arg);

/* Format the line prefix for `tv_sec`/`tv_usec` in local time into `out`
 * ("2024-01-31 12:00:00.000123 +0100"); exposed for tests and pitr-monitor. */
void pitr_log_format_time(long tv_sec, long tv_usec, char *out, size_t size);

#endif
