/*
 * check_log.c - unit tests for the OmniPITR log line format, log files and
 * the stderr fallback.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness.h"
#include "common/log.h"

static int saved_stderr = -1;

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	pitr_log_force_terminal(-1);
	h_teardown();
}

/* Send fd 2 to a fresh file in the scratch dir until stderr_end(). */
static void
stderr_begin(void)
{
	int fd = open(h_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restore fd 2 and return what was written to it (malloc'd). */
static char *
stderr_end(void)
{
	fflush(stderr);
	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	return h_read_file(h_path("stderr.txt"), NULL);
}

/* Assert that `line` (no newline) is exactly one log line of `prog` at
 * `level` saying `msg` (no regex metacharacters in prog or msg). */
static void
assert_line(const char *line, const char *prog, const char *level, const char *msg)
{
	char pattern[1024];
	regex_t re;
	int rc;

	snprintf(pattern, sizeof(pattern),
		 "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} "
		 "[+-][0-9]{4} : %d : %s : %s : %s$",
		 (int)getpid(), prog, level, msg);
	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&re, line, 0, NULL, 0);
	regfree(&re);
	ck_assert_msg(rc == 0, "line \"%s\" does not match \"%s\"", line, pattern);
}

/*
 * Assert that `text` holds exactly `n` lines, the i-th matching prog,
 * levels[i] and msgs[i], each ending in a newline.
 */
static void
assert_lines(const char *text, const char *prog, size_t n, const char *const *levels,
	     const char *const *msgs)
{
	const char *pos = text;

	for (size_t idx = 0; idx < n; idx++) {
		const char *nl = strchr(pos, '\n');
		char line[8192];

		ck_assert_msg(nl != NULL, "line %zu missing in \"%s\"", idx + 1, text);
		ck_assert_uint_lt((size_t)(nl - pos), sizeof(line));
		memcpy(line, pos, (size_t)(nl - pos));
		line[nl - pos] = '\0';
		assert_line(line, prog, levels[idx], msgs[idx]);
		pos = nl + 1;
	}
	ck_assert_str_eq(pos, "");
}
#define LEVELS(...) ((const char *const[]){ __VA_ARGS__ })
#define MSGS(...) ((const char *const[]){ __VA_ARGS__ })

/* Assert that file `path` holds exactly the one line `level : msg`. */
static void
assert_file_line(const char *path, const char *prog, const char *level, const char *msg)
{
	char *text = h_read_file(path, NULL);

	assert_lines(text, prog, 1, LEVELS(level), MSGS(msg));
	free(text);
}

/* Number of times `needle` occurs in `hay`. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *pos = strstr(hay, needle); pos != NULL; pos = strstr(pos + 1, needle))
		n++;
	return n;
}

/* --- pitr_log_open ----------------------------------------------------- */

START_TEST(test_open_template_makes_dirs)
{
	char want0[4096], want1[4096], fmt[4096];
	time_t t0, t1;
	struct tm tm;

	snprintf(fmt, sizeof(fmt), "%s/%%Y/%%m/x-%%d.log", h_dir());
	t0 = time(NULL);
	ck_assert_int_eq(pitr_log_open("check", h_path("^Y/^m/x-^d.log"), false), 0);
	pitr_log_info("into the file");
	t1 = time(NULL);
	localtime_r(&t0, &tm);
	strftime(want0, sizeof(want0), fmt, &tm);
	localtime_r(&t1, &tm);
	strftime(want1, sizeof(want1), fmt, &tm);
	/* Around midnight the day may change between the two. */
	if (!h_exists(want0))
		memcpy(want0, want1, sizeof(want0));
	ck_assert_msg(h_exists(want0), "%s missing", want0);
	assert_file_line(want0, "check", "LOG", "into the file");
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	ck_assert_str_eq(h_log(), "LOG : into the file\n");
}
END_TEST

START_TEST(test_open_appends)
{
	const char *path = h_path("a.log");
	char *text;

	h_write_file(path, "old line\n", 9);
	ck_assert_int_eq(pitr_log_open("check", path, false), 0);
	pitr_log_error("new line");
	text = h_read_file(path, NULL);
	ck_assert_int_eq(strncmp(text, "old line\n", 9), 0);
	assert_lines(text + 9, "check", 1, LEVELS("ERROR"), MSGS("new line"));
	free(text);
}
END_TEST

START_TEST(test_open_again_switches)
{
	const char *a = h_path("a.log");
	const char *b = h_path("b.log");

	ck_assert_int_eq(pitr_log_open("first", a, false), 0);
	pitr_log_info("to a");
	ck_assert_int_eq(pitr_log_open("second", b, true), 0);
	pitr_log_info("to b");
	assert_file_line(a, "first", "LOG", "to a");
	assert_file_line(b, "second", "LOG", "to b");
}
END_TEST

START_TEST(test_open_progname)
{
	const char *path = h_path("p.log");
	char *text;

	/* A path as in argv[0] gives its last part; NULL keeps the name. */
	ck_assert_int_eq(pitr_log_open("/usr/bin/pitr-archive", path, false), 0);
	pitr_log_info("one");
	ck_assert_int_eq(pitr_log_open(NULL, path, false), 0);
	pitr_log_info("two");
	text = h_read_file(path, NULL);
	assert_lines(text, "pitr-archive", 2, LEVELS("LOG", "LOG"), MSGS("one", "two"));
	free(text);
}
END_TEST

START_TEST(test_open_empty_template)
{
	char *err;

	stderr_begin();
	ck_assert_int_eq(pitr_log_open("pitr-x", "", false), -1);
	/* Without a template, lines go to stderr. */
	pitr_log_info("still here");
	err = stderr_end();
	ck_assert_int_eq(strncmp(err, "pitr-x: log file template is empty\n", 35), 0);
	assert_lines(err + 35, "pitr-x", 1, LEVELS("LOG"), MSGS("still here"));
	free(err);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
}
END_TEST

START_TEST(test_open_verbose)
{
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	ck_assert(pitr_log_is_verbose());
	ck_assert_int_eq(pitr_log_open("check", NULL, false), 0);
	ck_assert(!pitr_log_is_verbose());
}
END_TEST

/* --- pitr_log ---------------------------------------------------------- */

START_TEST(test_line_format)
{
	const char *path = h_path("f.log");
	char *text;

	ck_assert_int_eq(pitr_log_open("pitr-fmt", path, false), 0);
	pitr_log(PITR_LOG_LOG, "a %s %d", "b", 7);
	pitr_log(PITR_LOG_ERROR, "could not open \"/x\": %s", strerror(ENOENT));
	pitr_log(PITR_LOG_FATAL, "the end");
	text = h_read_file(path, NULL);
	assert_lines(text, "pitr-fmt", 3, LEVELS("LOG", "ERROR", "FATAL"),
		     MSGS("a b 7", "could not open \"/x\": No such file or directory", "the end"));
	free(text);
	ck_assert_str_eq(h_log(),
			 "LOG : a b 7\n"
			 "ERROR : could not open \"/x\": No such file or directory\n"
			 "FATAL : the end\n");
}
END_TEST

START_TEST(test_line_to_stderr)
{
	char *err;

	/* h_setup() opened the log without a template. */
	stderr_begin();
	pitr_log(PITR_LOG_ERROR, "on stderr");
	err = stderr_end();
	assert_lines(err, "check", 1, LEVELS("ERROR"), MSGS("on stderr"));
	free(err);
}
END_TEST

/* An ERROR that also goes to stderr (with a log file) into a pipe whose
 * reader is gone: no SIGPIPE kills the run (Check's forked test would end
 * by the signal), none is left pending, and the log file has the line. */
START_TEST(test_stderr_broken_pipe)
{
	int fds[2];
	sigset_t pending;
	char *file;

	ck_assert_int_eq(pitr_log_open("prog", h_path("t.log"), false), 0);
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
	close(fds[1]);
	pitr_log(PITR_LOG_ERROR, "reader gone");
	ck_assert_int_eq(sigpending(&pending), 0);
	ck_assert(!sigismember(&pending, SIGPIPE));
	file = h_read_file(h_path("t.log"), NULL);
	ck_assert_ptr_nonnull(strstr(file, " : ERROR : reader gone\n"));
	free(file);
}
END_TEST

START_TEST(test_tee_stderr)
{
	char *err, *file;

	ck_assert_int_eq(pitr_log_open("prog", h_path("t.log"), false), 0);
	pitr_log_tee_stderr(true);
	stderr_begin();
	pitr_log(PITR_LOG_ERROR, "both places");
	err = stderr_end();
	file = h_read_file(h_path("t.log"), NULL);
	assert_lines(err, "prog", 1, LEVELS("ERROR"), MSGS("both places"));
	ck_assert_str_eq(err, file);
	free(err);
	free(file);
	/* Opening again turns the copy off. */
	ck_assert_int_eq(pitr_log_open("prog", h_path("t.log"), false), 0);
	stderr_begin();
	pitr_log(PITR_LOG_LOG, "file only");
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	pitr_log_tee_stderr(true);
	pitr_log_tee_stderr(false);
	stderr_begin();
	pitr_log(PITR_LOG_LOG, "file only again");
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
}
END_TEST

START_TEST(test_line_truncated)
{
	const char *path = h_path("long.log");
	char *msg = malloc(10001);
	char *text;
	size_t len;

	ck_assert_ptr_nonnull(msg);
	memset(msg, 'x', 10000);
	msg[10000] = '\0';
	ck_assert_int_eq(pitr_log_open("check", path, false), 0);
	pitr_log(PITR_LOG_LOG, "%s", msg);
	pitr_log(PITR_LOG_LOG, "after");
	text = h_read_file(path, &len);
	/* One line of at most 8 KiB, newline-terminated, then the next line. */
	ck_assert_ptr_nonnull(strchr(text, '\n'));
	ck_assert_uint_eq((size_t)(strchr(text, '\n') - text), 8190);
	ck_assert_int_eq(text[8189], 'x');
	assert_lines(strchr(text, '\n') + 1, "check", 1, LEVELS("LOG"), MSGS("after"));
	free(text);
	free(msg);
}
END_TEST

START_TEST(test_errno_preserved)
{
	ck_assert_int_eq(pitr_log_open("check", h_path("sub/e.log"), false), 0);
	errno = ENOSPC;
	pitr_log(PITR_LOG_LOG, "keeps errno");
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert(h_exists(h_path("sub/e.log")));
}
END_TEST

START_TEST(test_rotation)
{
	time_t start;
	char *err;

	/* ^s is the epoch second: a new file whenever the second changes. */
	ck_assert_int_eq(pitr_log_open("check", h_path("rot/^s.log"), false), 0);
	stderr_begin();
	pitr_log_info("first");
	start = time(NULL);
	while (time(NULL) == start)
		usleep(10000);
	pitr_log_info("second");
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_int_eq(h_count_entries(h_path("rot")), 2);
}
END_TEST

START_TEST(test_fallback_unmakeable_dir)
{
	const char *file = h_path("file");
	char want[8192], tmpl[4096];
	char *err;
	size_t head;

	/* The log directory would have to be created under a regular file. */
	h_write_file(file, "x", 1);
	snprintf(tmpl, sizeof(tmpl), "%s/sub/log-%%Y.log", file);
	ck_assert_int_eq(pitr_log_open("pitr-fb", h_path("file/sub/log-^Y.log"), false), 0);
	stderr_begin();
	pitr_log_info("one");
	pitr_log_error("two");
	pitr_log_info("three");
	err = stderr_end();
	{
		time_t now = time(NULL);
		struct tm tm;
		char path[4096];

		localtime_r(&now, &tm);
		strftime(path, sizeof(path), tmpl, &tm);
		snprintf(want, sizeof(want),
			 "pitr-fb: could not open log file \"%s\": Not a directory\n", path);
	}
	head = strlen(want);
	/* Reported once, not per line, and every line still on stderr. */
	ck_assert_int_eq(strncmp(err, want, head), 0);
	ck_assert_int_eq(count(err, "could not open log file"), 1);
	assert_lines(err + head, "pitr-fb", 3, LEVELS("LOG", "ERROR", "LOG"),
		     MSGS("one", "two", "three"));
	free(err);
	ck_assert_str_eq(h_log(), "LOG : one\nERROR : two\nLOG : three\n");
}
END_TEST

START_TEST(test_fallback_write_error)
{
	char *err;
	const char *want = "pitr-full: could not write log file \"/dev/full\": "
			   "No space left on device\n";

	ck_assert_int_eq(pitr_log_open("pitr-full", "/dev/full", false), 0);
	stderr_begin();
	pitr_log_info("one");
	pitr_log_info("two");
	err = stderr_end();
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	ck_assert_int_eq(count(err, "could not write"), 1);
	assert_lines(err + strlen(want), "pitr-full", 2, LEVELS("LOG", "LOG"), MSGS("one", "two"));
	free(err);
}
END_TEST

START_TEST(test_fallback_expand_error)
{
	char *err;
	const char *want = "pitr-tz: could not expand log file template \"^Z\": "
			   "Invalid argument\n";

	/* A zone without an abbreviation: the template expands to nothing. */
	setenv("TZ", "<>0", 1);
	tzset();
	ck_assert_int_eq(pitr_log_open("pitr-tz", "^Z", false), 0);
	stderr_begin();
	pitr_log_info("one");
	pitr_log_info("two");
	err = stderr_end();
	ck_assert_int_eq(strncmp(err, want, strlen(want)), 0);
	ck_assert_int_eq(count(err, "could not expand"), 1);
	assert_lines(err + strlen(want), "pitr-tz", 2, LEVELS("LOG", "LOG"), MSGS("one", "two"));
	free(err);
}
END_TEST

START_TEST(test_fallback_reported_again_after_open)
{
	char *err;

	/* Each open starts afresh: a new problem is reported again. */
	ck_assert_int_eq(pitr_log_open("pitr-full", "/dev/full", false), 0);
	stderr_begin();
	pitr_log_info("one");
	ck_assert_int_eq(pitr_log_open("pitr-full", "/dev/full", false), 0);
	pitr_log_info("two");
	err = stderr_end();
	ck_assert_int_eq(count(err, "could not write"), 2);
	free(err);
}
END_TEST

/* --- pitr_log_close ---------------------------------------------------- */

START_TEST(test_close)
{
	const char *path = h_path("c.log");
	char *err;

	ck_assert_int_eq(pitr_log_open("check", path, false), 0);
	pitr_log_info("in file");
	pitr_log_close();
	pitr_log_close();
	stderr_begin();
	pitr_log_info("after close");
	err = stderr_end();
	assert_lines(err, "check", 1, LEVELS("LOG"), MSGS("after close"));
	free(err);
	assert_file_line(path, "check", "LOG", "in file");
}
END_TEST

/* --- pitr_log_v -------------------------------------------------------- */

/* A variadic front end, as a module with its own wrapper would write. */
static void __attribute__((format(printf, 2, 3)))
wrapper(enum pitr_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pitr_log_v(level, fmt, ap);
	va_end(ap);
}

START_TEST(test_log_v)
{
	wrapper(PITR_LOG_FATAL, "%s=%04d", "n", 42);
	wrapper(PITR_LOG_LOG, "%%");
	ck_assert_str_eq(h_log(), "FATAL : n=0042\nLOG : %\n");
}
END_TEST

/* --- pitr_log_info / error / verbose / is_verbose ------------------------ */

START_TEST(test_info_error)
{
	pitr_log_info("i %d", 1);
	pitr_log_error("e %d", 2);
	ck_assert_str_eq(h_log(), "LOG : i 1\nERROR : e 2\n");
}
END_TEST

START_TEST(test_verbose_off)
{
	const char *path = h_path("v.log");

	ck_assert_int_eq(pitr_log_open("check", path, false), 0);
	pitr_log_verbose("hidden");
	pitr_log_info("shown");
	ck_assert_str_eq(h_log(), "LOG : shown\n");
	assert_file_line(path, "check", "LOG", "shown");
	ck_assert(!pitr_log_is_verbose());
}
END_TEST

START_TEST(test_verbose_on)
{
	const char *path = h_path("v.log");
	char *text;

	ck_assert_int_eq(pitr_log_open("check", path, true), 0);
	ck_assert(pitr_log_is_verbose());
	pitr_log_verbose("took %d ms", 12);
	pitr_log_info("shown");
	ck_assert_str_eq(h_log(), "LOG : took 12 ms\nLOG : shown\n");
	text = h_read_file(path, NULL);
	assert_lines(text, "check", 2, LEVELS("LOG", "LOG"), MSGS("took 12 ms", "shown"));
	free(text);
}
END_TEST

/* --- pitr_log_capture -------------------------------------------------- */

START_TEST(test_capture)
{
	char buf[16];
	char *err;

	strcpy(buf, "garbage");
	stderr_begin();
	pitr_log_capture(buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	pitr_log_info("abc");
	pitr_log_error("defghij");
	/* Truncated to the buffer, NUL-terminated. */
	ck_assert_str_eq(buf, "LOG : abc\nERROR");
	pitr_log_info("more");
	ck_assert_str_eq(buf, "LOG : abc\nERROR");
	pitr_log_capture(NULL, 0);
	pitr_log_info("not captured");
	ck_assert_str_eq(buf, "LOG : abc\nERROR");
	/* A zero size captures nothing and touches nothing. */
	pitr_log_capture(buf, 0);
	pitr_log_info("nothing");
	ck_assert_str_eq(buf, "LOG : abc\nERROR");
	pitr_log_capture(NULL, 0);
	err = stderr_end();
	/* Capturing does not replace the real output. */
	ck_assert_int_eq(count(err, "\n"), 5);
	free(err);
}
END_TEST

START_TEST(test_capture_level_after_progname)
{
	/* The captured part starts at the level, even when the program name
	 * contains a level name. */
	ck_assert_int_eq(pitr_log_open("ERRORS-LOG", NULL, false), 0);
	pitr_log_error("x");
	pitr_log_info("y");
	ck_assert_str_eq(h_log(), "ERROR : x\nLOG : y\n");
}
END_TEST

/* --- pitr_log_hold ------------------------------------------------------ */

START_TEST(test_hold)
{
	char held[16];
	char *err;

	stderr_begin();
	pitr_log_hold(held, sizeof(held));
	ck_assert_str_eq(held, "");
	errno = EACCES;
	pitr_log_error("the cause, long enough to be cut");
	ck_assert_int_eq(errno, EACCES);
	pitr_log_error("a consequence");
	pitr_log_hold(NULL, 0);
	/* The first message's text alone, cut to the buffer. */
	ck_assert_str_eq(held, "the cause, long");
	pitr_log_error("after");
	err = stderr_end();
	/* Held messages were not written. */
	ck_assert_int_eq(count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, "ERROR : after\n"));
	free(err);
}
END_TEST

/* A hold inside a hold: its end brings the outer one back, so that a
 * step's own hold inside a held run (a look-ahead worker's) does not let
 * the run's later messages out. */
START_TEST(test_hold_nested)
{
	char outer[64], inner[64];
	char *err;

	stderr_begin();
	pitr_log_hold(outer, sizeof(outer));
	pitr_log_hold(inner, sizeof(inner));
	pitr_log_error("inner cause");
	pitr_log_hold(NULL, 0);
	pitr_log_error("outer cause");
	pitr_log_error("outer consequence");
	pitr_log_hold(NULL, 0);
	pitr_log_error("after");
	err = stderr_end();
	ck_assert_str_eq(inner, "inner cause");
	ck_assert_str_eq(outer, "outer cause");
	ck_assert_int_eq(count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, "ERROR : after\n"));
	free(err);
}
END_TEST

/* An errors-only hold: LOG and FATAL lines written as they come, the
 * first ERROR line kept, the later ones dropped. */
START_TEST(test_hold_errors)
{
	char held[64];
	char *err;

	stderr_begin();
	ck_assert(!pitr_log_holding());
	pitr_log_hold_errors(held, sizeof(held));
	ck_assert(pitr_log_holding());
	pitr_log_info("on the way");
	pitr_log_error("the first");
	pitr_log(PITR_LOG_FATAL, "fatal");
	pitr_log_error("the second");
	pitr_log_hold(NULL, 0);
	ck_assert(!pitr_log_holding());
	pitr_log_error("after");
	err = stderr_end();
	ck_assert_str_eq(held, "the first");
	ck_assert_int_eq(count(err, "\n"), 3);
	ck_assert_ptr_nonnull(strstr(err, "LOG : on the way\n"));
	ck_assert_ptr_nonnull(strstr(err, "FATAL : fatal\n"));
	ck_assert_ptr_nonnull(strstr(err, "ERROR : after\n"));
	/* A plain hold after it holds every level again. */
	pitr_log_hold(held, sizeof(held));
	pitr_log_info("a LOG line");
	pitr_log_hold(NULL, 0);
	ck_assert_str_eq(held, "a LOG line");
	free(err);
}
END_TEST

/* A thread's messages: one held, one written. */
static void *
thread_logs(void *arg)
{
	char *mine = arg;

	pitr_log_hold(mine, 64);
	pitr_log_error("the thread's held");
	pitr_log_hold(NULL, 0);
	pitr_log_error("the thread's written");
	return NULL;
}

/* A hold is the holding thread's alone: a worker's failure never lands
 * in the main thread's hold, nor the main thread's in the worker's. */
START_TEST(test_hold_per_thread)
{
	char held[64], mine[64];
	pthread_t t;
	char *err;

	stderr_begin();
	pitr_log_hold(held, sizeof(held));
	ck_assert_int_eq(pthread_create(&t, NULL, thread_logs, mine), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	pitr_log_error("the main's held");
	pitr_log_hold(NULL, 0);
	err = stderr_end();
	ck_assert_str_eq(held, "the main's held");
	ck_assert_str_eq(mine, "the thread's held");
	ck_assert_int_eq(count(err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(err, "ERROR : the thread's written\n"));
	free(err);
}
END_TEST

/* --- pitr_log_format_time ---------------------------------------------- */

START_TEST(test_format_time)
{
	char out[64];

	setenv("TZ", "UTC", 1);
	tzset();
	pitr_log_format_time(0, 123, out, sizeof(out));
	ck_assert_str_eq(out, "1970-01-01 00:00:00.000123 +0000");
	setenv("TZ", "XXX-1", 1);
	tzset();
	pitr_log_format_time(1700000000, 999999, out, sizeof(out));
	ck_assert_str_eq(out, "2023-11-14 23:13:20.999999 +0100");
	setenv("TZ", "XXX+5:30", 1);
	tzset();
	pitr_log_format_time(1700000000, 0, out, sizeof(out));
	ck_assert_str_eq(out, "2023-11-14 16:43:20.000000 -0530");
	pitr_log_format_time(1700000000, 0, out, 11);
	ck_assert_str_eq(out, "2023-11-14");
}
END_TEST

/* --- stderr: terminal or not, with a log file or not ------------------- */

START_TEST(test_error_reaches_stderr_with_file)
{
	const char *path = h_path("e.log");
	char *err, *file;

	/* Not a terminal (archive_command, cron): an ERROR or FATAL line
	 * goes to stderr too, in the exact OmniPITR format; LOG lines only
	 * to the file. */
	pitr_log_force_terminal(0);
	ck_assert_int_eq(pitr_log_open("pitr-x", path, false), 0);
	stderr_begin();
	pitr_log_info("quiet");
	pitr_log_error("it failed");
	pitr_log(PITR_LOG_FATAL, "the end");
	err = stderr_end();
	assert_lines(err, "pitr-x", 2, LEVELS("ERROR", "FATAL"), MSGS("it failed", "the end"));
	file = h_read_file(path, NULL);
	assert_lines(file, "pitr-x", 3, LEVELS("LOG", "ERROR", "FATAL"),
		     MSGS("quiet", "it failed", "the end"));
	free(err);
	free(file);
}
END_TEST

START_TEST(test_terminal_short_prefix)
{
	const char *path = h_path("t.log");
	char *err, *file;

	/* On a terminal: "PROGRAM: message", the level for failures; the
	 * file keeps the full line. */
	pitr_log_force_terminal(1);
	ck_assert(pitr_log_is_terminal());
	ck_assert_int_eq(pitr_log_open("/usr/bin/pitr-backup-master", NULL, false), 0);
	stderr_begin();
	pitr_log_info("backup started");
	pitr_log_error("could not connect");
	pitr_log(PITR_LOG_FATAL, "gone");
	err = stderr_end();
	ck_assert_str_eq(err, "pitr-backup-master: backup started\n"
			 "pitr-backup-master: ERROR: could not connect\n"
			 "pitr-backup-master: FATAL: gone\n");
	free(err);
	ck_assert_int_eq(pitr_log_open("pitr-y", path, false), 0);
	stderr_begin();
	pitr_log_info("to the file only");
	pitr_log_error("both");
	err = stderr_end();
	ck_assert_str_eq(err, "pitr-y: ERROR: both\n");
	file = h_read_file(path, NULL);
	assert_lines(file, "pitr-y", 2, LEVELS("LOG", "ERROR"), MSGS("to the file only", "both"));
	free(err);
	free(file);
	/* The capture is unchanged by the terminal. */
	ck_assert_str_eq(h_log(), "LOG : backup started\nERROR : could not connect\nFATAL : gone\n"
			 "LOG : to the file only\nERROR : both\n");
}
END_TEST

START_TEST(test_terminal_tee)
{
	char *err;

	/* An option error, teed: shortened on the terminal alone. */
	pitr_log_force_terminal(1);
	ck_assert_int_eq(pitr_log_open("prog", h_path("tee.log"), false), 0);
	pitr_log_tee_stderr(true);
	stderr_begin();
	pitr_log_error("unknown option \"--x\"");
	err = stderr_end();
	ck_assert_str_eq(err, "prog: ERROR: unknown option \"--x\"\n");
	free(err);
	assert_file_line(h_path("tee.log"), "prog", "ERROR", "unknown option \"--x\"");
}
END_TEST

START_TEST(test_hint)
{
	char *err;

	pitr_log_force_terminal(1);
	ck_assert_int_eq(pitr_log_open("pitr-h", h_path("h.log"), false), 0);
	stderr_begin();
	pitr_log_error("no destination given");
	pitr_log_hint("use --dst-local %s", "DIR");
	err = stderr_end();
	ck_assert_str_eq(err, "pitr-h: ERROR: no destination given\nHINT: use --dst-local DIR\n");
	free(err);
	/* Never in the file, and nothing off a terminal. */
	assert_file_line(h_path("h.log"), "pitr-h", "ERROR", "no destination given");
	pitr_log_force_terminal(0);
	stderr_begin();
	pitr_log_hint("not shown");
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_str_eq(h_log(), "ERROR : no destination given\n");
}
END_TEST

START_TEST(test_status_line)
{
	char *err;

	pitr_log_force_terminal(1);
	stderr_begin();
	pitr_log_status("data: 1 MiB");
	pitr_log_status("data: 2 MiB");
	pitr_log_info("between");
	pitr_log_hint("a hint");
	pitr_log_status(NULL);
	pitr_log_status(NULL);
	pitr_log_info("after");
	err = stderr_end();
	ck_assert_str_eq(err, "\r\033[Kdata: 1 MiB\r\033[Kdata: 2 MiB"
			 "\r\033[Kcheck: between\ndata: 2 MiB"
			 "\r\033[KHINT: a hint\ndata: 2 MiB"
			 "\r\033[K"
			 "check: after\n");
	free(err);
	/* Off a terminal: nothing. */
	pitr_log_force_terminal(0);
	stderr_begin();
	pitr_log_status("data: 3 MiB");
	pitr_log_status(NULL);
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
}
END_TEST

START_TEST(test_terminal_detected)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	int slave;
	char *err;

	/* isatty on the real thing: a pseudo-terminal, then a file. */
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(slave, STDERR_FILENO), STDERR_FILENO);
	ck_assert(pitr_log_is_terminal());
	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	close(slave);
	close(master);
	stderr_begin();
	ck_assert(!pitr_log_is_terminal());
	pitr_log_force_terminal(1);
	ck_assert(pitr_log_is_terminal());
	pitr_log_force_terminal(-1);
	ck_assert(!pitr_log_is_terminal());
	err = stderr_end();
	free(err);
}
END_TEST

START_TEST(test_status_cut_to_width)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 20 };
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	struct pollfd pfd;
	char got[256];
	size_t have = 0;
	int slave;

	/* On a 20-column terminal a longer status line is cut to 19, so it
	 * never wraps. */
	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	ck_assert_int_eq(ioctl(slave, TIOCSWINSZ, &ws), 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_eq(dup2(slave, STDERR_FILENO), STDERR_FILENO);
	pitr_log_status("data: 123456789 123456789 123456789");
	pitr_log_status(NULL);
	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
	close(slave);
	pfd = (struct pollfd){ .fd = master, .events = POLLIN };
	while (have < 27 && poll(&pfd, 1, 5000) == 1) {
		ssize_t n = read(master, got + have, sizeof(got) - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(master);
	got[have] = '\0';
	ck_assert_str_eq(got, "\r\033[Kdata: 123456789 123\r\033[K");
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

/* --- pitr_log_set_sink ------------------------------------------------- */

struct sink_seen {
	int calls;
	enum pitr_log_level level[4];
	char msg[4][64];
};

static void
sink_record(enum pitr_log_level level, const char *message, void *arg)
{
	struct sink_seen *seen = arg;

	if (seen->calls < 4) {
		seen->level[seen->calls] = level;
		snprintf(seen->msg[seen->calls], sizeof(seen->msg[0]), "%s", message);
	}
	seen->calls++;
}

START_TEST(test_sink_takes_stderr_lines)
{
	const char *path = h_path("s.log");
	struct sink_seen seen = { 0 };
	char *err;

	/* Without a log file every line goes to the sink, none to stderr,
	 * the message alone (no prefix, no newline). */
	pitr_log_force_terminal(0);
	ck_assert_int_eq(pitr_log_open("pitr-x", NULL, false), 0);
	pitr_log_set_sink(sink_record, &seen);
	stderr_begin();
	pitr_log_info("one");
	pitr_log_error("two %d", 2);
	err = stderr_end();
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_int_eq(seen.level[0], PITR_LOG_LOG);
	ck_assert_str_eq(seen.msg[0], "one");
	ck_assert_int_eq(seen.level[1], PITR_LOG_ERROR);
	ck_assert_str_eq(seen.msg[1], "two 2");

	/* With a log file, LOG lines go to the file only, ERROR lines to the
	 * file and the sink, as they would to stderr. */
	seen.calls = 0;
	ck_assert_int_eq(pitr_log_open("pitr-x", path, false), 0);
	pitr_log_info("quiet");
	pitr_log_error("loud");
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(seen.msg[0], "loud");
	err = h_read_file(path, NULL);
	assert_lines(err, "pitr-x", 2, LEVELS("LOG", "ERROR"), MSGS("quiet", "loud"));
	free(err);

	/* NULL gives stderr back. */
	pitr_log_set_sink(NULL, NULL);
	ck_assert_int_eq(pitr_log_open("pitr-x", NULL, false), 0);
	stderr_begin();
	pitr_log_info("back");
	err = stderr_end();
	assert_lines(err, "pitr-x", 1, LEVELS("LOG"), MSGS("back"));
	free(err);
	ck_assert_int_eq(seen.calls, 1);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc;

	tc = tcase("pitr_log_open");
	tcase_add_test(tc, test_open_template_makes_dirs);
	tcase_add_test(tc, test_open_appends);
	tcase_add_test(tc, test_open_again_switches);
	tcase_add_test(tc, test_open_progname);
	tcase_add_test(tc, test_open_empty_template);
	tcase_add_test(tc, test_open_verbose);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log");
	tcase_add_test(tc, test_line_format);
	tcase_add_test(tc, test_line_to_stderr);
	tcase_add_test(tc, test_tee_stderr);
	tcase_add_test(tc, test_stderr_broken_pipe);
	tcase_add_test(tc, test_line_truncated);
	tcase_add_test(tc, test_errno_preserved);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_fallback_unmakeable_dir);
	tcase_add_test(tc, test_fallback_write_error);
	tcase_add_test(tc, test_fallback_expand_error);
	tcase_add_test(tc, test_fallback_reported_again_after_open);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_close");
	tcase_add_test(tc, test_close);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_v");
	tcase_add_test(tc, test_log_v);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_info");
	tcase_add_test(tc, test_info_error);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_verbose");
	tcase_add_test(tc, test_verbose_off);
	tcase_add_test(tc, test_verbose_on);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_set_sink");
	tcase_add_test(tc, test_sink_takes_stderr_lines);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_hold");
	tcase_add_test(tc, test_hold);
	tcase_add_test(tc, test_hold_nested);
	tcase_add_test(tc, test_hold_errors);
	tcase_add_test(tc, test_hold_per_thread);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_capture");
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_capture_level_after_progname);
	suite_add_tcase(s, tc);

	tc = tcase("stderr");
	tcase_add_test(tc, test_error_reaches_stderr_with_file);
	tcase_add_test(tc, test_terminal_short_prefix);
	tcase_add_test(tc, test_terminal_tee);
	tcase_add_test(tc, test_hint);
	tcase_add_test(tc, test_status_line);
	tcase_add_test(tc, test_terminal_detected);
	tcase_add_test(tc, test_status_cut_to_width);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_log_format_time");
	tcase_add_test(tc, test_format_time);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
