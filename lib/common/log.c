/*
 * log.c - the OmniPITR log line format (see log.h).
 *
 * The logger (and logpath.c) allocate with plain malloc, not common/xalloc,
 * whose "out of memory" line would come back here: they report a failure
 * by their return value instead.
 *
 * Worker threads log too (a backup's signing pool, a recovery's writers):
 * a line is written under a lock, so that the log file's rotation, the
 * capture and the "said once" flags are never raced, and a hold is the
 * holding thread's alone, so that a worker's failure never lands in a
 * step's hold on the main thread.  The lock is taken around fork() too: a
 * child (the archive module's look-ahead) must not inherit it taken.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/logpath.h"

#define LOG_LINE_MAX 8192

static struct {
	char progname[64];
	char *template_;        /* NULL: stderr */
	char *path;             /* the expansion the fd belongs to */
	int fd;
	bool verbose;
	bool tee;               /* also write file lines to stderr */
	bool file_failed;       /* a file problem was reported once already */
	char *capture;
	size_t capture_size;
	int terminal;           /* pitr_log_force_terminal(); -1: isatty */
	char status[512];       /* pitr_log_status()'s line while shown, else "" */
	pitr_log_sink_fn sink;  /* pitr_log_set_sink(): takes stderr's lines */
	void *sink_arg;
} logger = { .progname = "pitrkit", .fd = -1, .terminal = -1 };

/* pitr_log_hold(): the first message, not written; this thread's.  The
 * holds it ended are kept, innermost last, to come back to. */
#define HOLD_DEPTH 8
static _Thread_local char *held;
static _Thread_local size_t held_size;
static _Thread_local bool held_errors_only;   /* pitr_log_hold_errors() */
static _Thread_local struct {
	char *buf;
	size_t size;
	bool errors_only;
} outer_holds[HOLD_DEPTH];
static _Thread_local int nouter;

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
log_lock(void)
{
	pthread_mutex_lock(&log_mu);
}

static void
log_unlock(void)
{
	pthread_mutex_unlock(&log_mu);
}

static void
register_atfork(void)
{
	pthread_atfork(log_lock, log_unlock, log_unlock);
}

/* Erase the terminal's current line: the cursor to its start, then clear
 * to its end (ECMA-48 EL), which every terminal emulator in use knows. */
#define ERASE_LINE "\r\033[K"

static const char *const level_names[] = {
	[PITR_LOG_LOG] = "LOG",
	[PITR_LOG_ERROR] = "ERROR",
	[PITR_LOG_FATAL] = "FATAL",
};

int
pitr_log_open(const char *progname, const char *template_, bool verbose)
{
	pitr_log_close();
	if (progname != NULL) {
		const char *slash = strrchr(progname, '/');

		snprintf(logger.progname, sizeof(logger.progname), "%s", slash ? slash + 1 : progname);
	}
	logger.verbose = verbose;
	logger.tee = false;
	logger.file_failed = false;
	if (template_ != NULL) {
		if (*template_ == '\0') {
			fprintf(stderr, "%s: log file template is empty\n", logger.progname);
			return -1;
		}
		logger.template_ = strdup(template_);
		if (logger.template_ == NULL)
			return -1;
	}
	return 0;
}

void
pitr_log_close(void)
{
	if (logger.fd >= 0)
		close(logger.fd);
	logger.fd = -1;
	free(logger.template_);
	logger.template_ = NULL;
	free(logger.path);
	logger.path = NULL;
}

/* Create the parent directories of `path` (mode 0700 is too strict for
 * shared log dirs; 0755 as mkdir -p would). */
static void
make_parents(const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return;
	for (char *slash = strchr(copy + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(copy, 0755) != 0 && errno != EEXIST)
			break;
		*slash = '/';
	}
	free(copy);
}

/* Return the fd for the current expansion of the template, reopening when
 * the expansion changed (rotation), or -1 when the file cannot be used. */
static int
current_fd(time_t now)
{
	char *path = pitr_logpath_expand(logger.template_, now);
	int saved;

	if (path == NULL) {
		if (!logger.file_failed)
			fprintf(stderr, "%s: could not expand log file template \"%s\": %s\n",
				logger.progname, logger.template_, strerror(errno));
		logger.file_failed = true;
		return -1;
	}
	if (logger.fd >= 0 && logger.path != NULL && strcmp(path, logger.path) == 0) {
		free(path);
		return logger.fd;
	}
	if (logger.fd >= 0)
		close(logger.fd);
	free(logger.path);
	logger.path = path;
	make_parents(path);
	logger.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logger.fd < 0) {
		saved = errno;
		if (!logger.file_failed)
			fprintf(stderr, "%s: could not open log file \"%s\": %s\n", logger.progname,
				path, strerror(saved));
		logger.file_failed = true;
	}
	return logger.fd;
}

void
pitr_log_format_time(long tv_sec, long tv_usec, char *out, size_t size)
{
	time_t t = (time_t)tv_sec;
	struct tm tm;
	char date[32], zone[8];

	localtime_r(&t, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(out, size, "%s.%06ld %s", date, tv_usec, zone);
}

/* Write all of `buf` to stderr; a failure has nowhere left to go. */
static void
write_stderr(const char *buf, size_t len)
{
	/* A stderr whose reader is gone (a pipe to a closed pager, a dead
	 * logger) must not kill the run with SIGPIPE before its clean-up and
	 * exit status: the message then has nowhere to go, and that is all. */
	static const struct timespec now = { 0, 0 };
	sigset_t pipe_set, old;
	bool blocked, broken = false;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	blocked = sigprocmask(SIG_BLOCK, &pipe_set, &old) == 0;
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			broken = n < 0 && errno == EPIPE;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (blocked) {
		/* Take the SIGPIPE this write raised, unless one was already
		 * pending before it (blocked by the caller). */
		if (broken && !sigismember(&old, SIGPIPE))
			(void)sigtimedwait(&pipe_set, NULL, &now);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
	}
}

bool
pitr_log_is_terminal(void)
{
	return logger.terminal >= 0 ? logger.terminal != 0 : isatty(STDERR_FILENO) == 1;
}

void
pitr_log_force_terminal(int terminal)
{
	logger.terminal = terminal < 0 ? -1 : terminal != 0;
}

/*
 * The log line `line` (`len` bytes, newline included, the message from
 * `head` on) to stderr: as it is, or on a terminal as "PROGRAM: message",
 * the level named for a failure, the status line erased before and drawn
 * again after.
 */
static void
to_stderr(enum pitr_log_level level, const char *line, int len, int head)
{
	char shortened[LOG_LINE_MAX + 128];
	bool failure = level != PITR_LOG_LOG;
	int n;

	if (!pitr_log_is_terminal()) {
		write_stderr(line, (size_t)len);
		return;
	}
	n = snprintf(shortened, sizeof(shortened), "%s%s: %s%s%.*s",
		     logger.status[0] ? ERASE_LINE : "", logger.progname,
		     failure ? level_names[level] : "", failure ? ": " : "", len - head, line + head);
	if (n > (int)sizeof(shortened) - 1)
		n = (int)sizeof(shortened) - 1;
	write_stderr(shortened, (size_t)n);
	if (logger.status[0])
		write_stderr(logger.status, strlen(logger.status));
}

void
pitr_log_status(const char *text)
{
	char buf[sizeof(logger.status) + 8];
	struct winsize ws;
	int n;

	if (!pitr_log_is_terminal() || text == NULL || *text == '\0') {
		if (logger.status[0] && pitr_log_is_terminal())
			write_stderr(ERASE_LINE, strlen(ERASE_LINE));
		logger.status[0] = '\0';
		return;
	}
	snprintf(logger.status, sizeof(logger.status), "%s", text);
	/* A line longer than the terminal wraps, and "\r" would then redraw
	 * only its last row: cut it to the width, when the terminal tells. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    strlen(logger.status) >= ws.ws_col)
		logger.status[ws.ws_col - 1] = '\0';
	n = snprintf(buf, sizeof(buf), ERASE_LINE "%s", logger.status);
	write_stderr(buf, (size_t)(n < (int)sizeof(buf) ? n : (int)sizeof(buf) - 1));
}

void
pitr_log_hint(const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	va_list ap;
	int saved_errno = errno;
	int n;

	if (held != NULL || !pitr_log_is_terminal())
		return;
	n = snprintf(line, sizeof(line), "%sHINT: ", logger.status[0] ? ERASE_LINE : "");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	write_stderr(line, (size_t)n);
	if (logger.status[0])
		write_stderr(logger.status, strlen(logger.status));
	errno = saved_errno;
}

/* A formatted line (`len` bytes, LEVEL at `level_at`, the message at
 * `head`) to the capture, the log file and stderr (or the sink); called
 * with the lock held. */
static void
write_line(enum pitr_log_level level, char *line, int len, int level_at, int head,
	   time_t now)
{
	ssize_t written;
	int fd = -1;

	if (logger.capture != NULL && logger.capture_size > 0) {
		size_t used = strlen(logger.capture);

		snprintf(logger.capture + used, logger.capture_size - used, "%s", line + level_at);
	}
	if (logger.template_ != NULL)
		fd = current_fd(now);
	if (fd >= 0) {
		written = write(fd, line, (size_t)len);
		if (written != len) {
			/* Said once, like the open failure; the line goes to stderr. */
			if (!logger.file_failed)
				fprintf(stderr, "%s: could not write log file \"%s\": %s\n",
					logger.progname, logger.path,
					written < 0 ? strerror(errno) : "short write");
			logger.file_failed = true;
			fd = -1;
		}
	}
	if (fd < 0 || logger.tee || level != PITR_LOG_LOG) {
		if (logger.sink != NULL) {
			line[len - 1] = '\0';
			logger.sink(level, line + head, logger.sink_arg);
		} else {
			to_stderr(level, line, len, head);
		}
	}
}

void
pitr_log_v(enum pitr_log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	char stamp[48];
	struct timeval tv;
	int saved_errno = errno;
	int level_at, head, len, msg_len;

	gettimeofday(&tv, NULL);
	pitr_log_format_time(tv.tv_sec, tv.tv_usec, stamp, sizeof(stamp));
	/* Where LEVEL starts, for the capture: searching for the level name
	 * would stop early in a program name such as "LOGGER". */
	level_at = snprintf(line, sizeof(line), "%s : %d : %s : ", stamp, (int)getpid(),
			    logger.progname);
	head = level_at + snprintf(line + level_at, sizeof(line) - (size_t)level_at, "%s : ",
				   level_names[level]);
	msg_len = vsnprintf(line + head, sizeof(line) - (size_t)head - 1, fmt, ap);
	if (held != NULL && (!held_errors_only || level == PITR_LOG_ERROR)) {
		if (held[0] == '\0')
			snprintf(held, held_size, "%s", line + head);
		errno = saved_errno;
		return;
	}
	len = head + (msg_len > 0 ? msg_len : 0);
	if (len > (int)sizeof(line) - 2)
		len = (int)sizeof(line) - 2;
	line[len++] = '\n';
	line[len] = '\0';

	pthread_once(&atfork_once, register_atfork);
	log_lock();
	write_line(level, line, len, level_at, head, tv.tv_sec);
	log_unlock();
	errno = saved_errno;
}

void
pitr_log(enum pitr_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pitr_log_v(level, fmt, ap);
	va_end(ap);
}

void
pitr_log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pitr_log_v(PITR_LOG_LOG, fmt, ap);
	va_end(ap);
}

void
pitr_log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pitr_log_v(PITR_LOG_ERROR, fmt, ap);
	va_end(ap);
}

void
pitr_log_verbose(const char *fmt, ...)
{
	va_list ap;

	if (!logger.verbose)
		return;
	va_start(ap, fmt);
	pitr_log_v(PITR_LOG_LOG, fmt, ap);
	va_end(ap);
}

int
pitr_log_fd(void)
{
	return logger.fd;
}

void
pitr_log_set_sink(pitr_log_sink_fn fn, void *arg)
{
	logger.sink = fn;
	logger.sink_arg = arg;
}

void
pitr_log_tee_stderr(bool on)
{
	logger.tee = on;
}

bool
pitr_log_is_verbose(void)
{
	return logger.verbose;
}

void
pitr_log_hold(char *buf, size_t size)
{
	if (buf == NULL || size == 0) {
		/* The end of a hold brings back the one it was made inside. */
		held = nouter > 0 ? outer_holds[nouter - 1].buf : NULL;
		held_size = nouter > 0 ? outer_holds[nouter - 1].size : 0;
		held_errors_only = nouter > 0 && outer_holds[nouter - 1].errors_only;
		nouter -= nouter > 0;
		return;
	}
	if (held != NULL && nouter < HOLD_DEPTH) {
		outer_holds[nouter].buf = held;
		outer_holds[nouter].size = held_size;
		outer_holds[nouter].errors_only = held_errors_only;
		nouter++;
	}
	held = buf;
	held_size = size;
	held_errors_only = false;
	buf[0] = '\0';
}

void
pitr_log_hold_errors(char *buf, size_t size)
{
	pitr_log_hold(buf, size);
	held_errors_only = held != NULL;
}

bool
pitr_log_holding(void)
{
	return held != NULL;
}

void
pitr_log_capture(char *buf, size_t size)
{
	logger.capture = buf;
	logger.capture_size = size;
	if (buf != NULL && size > 0)
		buf[0] = '\0';
}
