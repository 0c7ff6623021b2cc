/*
 * check_spawn.c - unit tests for running helper programs without a shell.
 *
 * The tests run small system programs (true, false, cat, head, echo, seq,
 * sleep) and use sh -c only to make a child die of a signal; the library
 * itself never runs a shell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "common/spawn.h"

#define MISSING "pitrkit-no-such-program"

static int saved_stderr = -1;

/*
 * execvp(3) reports EACCES, not ENOENT, for a program found nowhere when a
 * directory on PATH cannot be searched, as root's /root/... entries cannot
 * by a normal user who inherited them (su, runuser, sudo -E): keep the
 * searchable directories, so that MISSING is missing wherever it is looked
 * for and the tests assert the same message for every user.
 */
static void
searchable_path(void)
{
	const char *path = getenv("PATH");
	char *copy, *kept, *dir, *save = NULL;
	size_t used = 0;

	if (path == NULL)
		return;
	copy = strdup(path);
	kept = calloc(1, strlen(path) + 1);
	ck_assert_ptr_nonnull(copy);
	ck_assert_ptr_nonnull(kept);
	for (dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
		if (access(dir, X_OK) != 0)
			continue;
		used += (size_t)sprintf(kept + used, "%s%s", used > 0 ? ":" : "", dir);
	}
	ck_assert_int_eq(setenv("PATH", kept, 1), 0);
	free(copy);
	free(kept);
}

static void
setup(void)
{
	searchable_path();
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
	h_teardown();
}

static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

static void
assert_content(const char *path, const char *want)
{
	size_t len;
	char *got = h_read_file(path, &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
}

/* Send our stderr to `path` (where children's stdout goes) until
 * stderr_restore(). */
static void
stderr_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

static void
stderr_restore(void)
{
	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	saved_stderr = -1;
}

/* Make our stdin a pipe holding `data`: a child that wrongly inherits our
 * stdin would read it. */
static void
stdin_feed(const char *data)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], data, strlen(data)), (ssize_t)strlen(data));
	close(fds[1]);
	ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
}

/* The lowest free descriptor: unchanged when nothing leaked. */
static int
next_fd(void)
{
	int fd = dup(STDIN_FILENO);

	ck_assert_int_ge(fd, 0);
	close(fd);
	return fd;
}

/* No child left unreaped. */
static void
assert_no_children(void)
{
	errno = 0;
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}

/* --- start ------------------------------------------------------------- */

START_TEST(test_start_stdin_pipe)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };

	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), 0);
	ck_assert_int_gt(sp.pid, 0);
	ck_assert_int_ge(sp.stdin_fd, 0);
	ck_assert_str_eq(sp.label, "cat");
	ck_assert_int_eq(pitr_spawn_write(&sp, "hello\n", 6), 0);
	ck_assert_int_eq(pitr_spawn_write(&sp, "world\n", 6), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	/* The child's stdout went to our stderr. */
	assert_content(h_path("out"), "hello\nworld\n");
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_int_eq(sp.stdin_fd, -1);
	ck_assert_ptr_null(sp.label);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_start_stdin_fd)
{
	struct pitr_spawn sp;
	char *argv[] = { "/bin/cat", NULL };
	int fd;

	h_write_file(h_path("in"), "from a file\n", 12);
	fd = open(h_path("in"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, fd), 0);
	ck_assert_int_eq(sp.stdin_fd, -1);
	close(fd);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	assert_content(h_path("out"), "from a file\n");
}
END_TEST

START_TEST(test_start_devnull)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };

	stdin_feed("inherited\n");
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	assert_content(h_path("out"), "");
}
END_TEST

START_TEST(test_start_missing_program)
{
	struct pitr_spawn sp;
	char *argv[] = { MISSING, "arg", NULL };
	int fd_before = next_fd();

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), -1);
	assert_error("could not execute \"" MISSING "\": No such file or directory");
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_int_eq(sp.stdin_fd, -1);
	ck_assert_ptr_null(sp.label);
	assert_no_children();
	ck_assert_int_eq(next_fd(), fd_before);
	/* Killing the failed spawn is harmless. */
	pitr_spawn_kill(&sp);
}
END_TEST

START_TEST(test_start_not_executable)
{
	struct pitr_spawn sp;
	char *argv[] = { (char *)h_path("script"), NULL };
	char msg[4096];

	h_write_file(h_path("script"), "#!/bin/sh\n", 10);
	ck_assert_int_eq(chmod(h_path("script"), 0644), 0);
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), -1);
	snprintf(msg, sizeof(msg), "could not execute \"%s\": Permission denied", h_path("script"));
	assert_error(msg);
	assert_no_children();
}
END_TEST

START_TEST(test_start_child_signals_reset)
{
	struct pitr_spawn sp;
	char *cat[] = { "cat", NULL };
	char *status_argv[] = { "cat", "/proc/self/status", NULL };
	struct sigaction now;
	sigset_t block;
	char out[8192];
	const char *line;
	unsigned long long mask;

	/* A stdin pipe makes the parent ignore SIGPIPE. */
	ck_assert_int_eq(pitr_spawn_start(&sp, cat, true, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	ck_assert_int_eq(sigaction(SIGPIPE, NULL, &now), 0);
	ck_assert(now.sa_handler == SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, NULL), 0);

	/* The child starts with SIGPIPE at its default and nothing blocked. */
	ck_assert_int_eq(pitr_spawn_capture(status_argv, out, sizeof(out)), 0);
	line = strstr(out, "\nSigIgn:\t");
	ck_assert_ptr_nonnull(line);
	mask = strtoull(line + 9, NULL, 16);
	ck_assert_uint_eq(mask & (1ULL << (SIGPIPE - 1)), 0);
	line = strstr(out, "\nSigBlk:\t");
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(strtoull(line + 9, NULL, 16), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- start_redirect ---------------------------------------------------- */

START_TEST(test_redirect_stdout)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };
	int in, out;

	h_write_file(h_path("in"), "data\n", 5);
	in = open(h_path("in"), O_RDONLY | O_CLOEXEC);
	out = open(h_path("out"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	stderr_to(h_path("err"));
	ck_assert_int_eq(pitr_spawn_start_redirect(&sp, argv, in, out, -1), 0);
	close(in);
	close(out);
	ck_assert_int_eq(sp.stdin_fd, -1);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	assert_content(h_path("out"), "data\n");
	assert_content(h_path("err"), "");
}
END_TEST

START_TEST(test_redirect_defaults)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };

	/* -1, -1: stdin /dev/null, stdout to our stderr. */
	stdin_feed("inherited\n");
	stderr_to(h_path("err"));
	ck_assert_int_eq(pitr_spawn_start_redirect(&sp, argv, -1, -1, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	assert_content(h_path("err"), "");

	{
		char *echo[] = { "echo", "to stderr", NULL };

		stderr_to(h_path("err"));
		ck_assert_int_eq(pitr_spawn_start_redirect(&sp, echo, -1, -1, -1), 0);
		ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
		stderr_restore();
		assert_content(h_path("err"), "to stderr\n");
	}
}
END_TEST

START_TEST(test_redirect_stderr_and_reap)
{
	struct pitr_spawn sp;
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 5", NULL };
	char text[128];
	int out, err, status = -1;

	out = open(h_path("out"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	err = open(h_path("err"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(out, 0);
	ck_assert_int_ge(err, 0);
	ck_assert_int_eq(pitr_spawn_start_redirect(&sp, argv, -1, out, err), 0);
	close(out);
	close(err);
	/* reap judges nothing and logs nothing: the caller reports. */
	ck_assert_int_eq(pitr_spawn_reap(&sp, &status), 0);
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_ptr_null(sp.label);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 5);
	assert_content(h_path("out"), "out\n");
	assert_content(h_path("err"), "err\n");
	ck_assert_str_eq(h_log(), "");
	pitr_spawn_status_text(status, text, sizeof(text));
	ck_assert_str_eq(text, "exit status 5");
	pitr_spawn_status_text(9, text, sizeof(text));   /* killed by SIGKILL */
	ck_assert_str_eq(text, "terminated by signal 9 (Killed)");
}
END_TEST

START_TEST(test_redirect_missing_program)
{
	struct pitr_spawn sp;
	char *argv[] = { MISSING, NULL };

	ck_assert_int_eq(pitr_spawn_start_redirect(&sp, argv, -1, -1, -1), -1);
	assert_error("could not execute \"" MISSING "\": No such file or directory");
	assert_no_children();
}
END_TEST

/* --- write ------------------------------------------------------------- */

START_TEST(test_write_large)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };
	size_t size = 1 << 20;    /* far more than a pipe holds */
	char *buf = malloc(size);
	char *got;
	size_t len;

	ck_assert_ptr_nonnull(buf);
	for (size_t pos = 0; pos < size; pos++)
		buf[pos] = (char)('a' + pos % 26);
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), 0);
	ck_assert_int_eq(pitr_spawn_write(&sp, buf, size), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	got = h_read_file(h_path("out"), &len);
	ck_assert_uint_eq(len, size);
	ck_assert_int_eq(memcmp(got, buf, size), 0);
	free(got);
	free(buf);
}
END_TEST

START_TEST(test_write_epipe)
{
	struct pitr_spawn sp;
	char *argv[] = { "head", "-c", "1", NULL };
	size_t size = 1 << 20;
	char *buf = calloc(1, size);
	char *got;
	const char *line;
	size_t len;

	ck_assert_ptr_nonnull(buf);
	buf[0] = 'Z';
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), 0);
	/* head exits after one byte: the rest meets a closed pipe, which
	 * must give EPIPE, not kill us with SIGPIPE. */
	ck_assert_int_eq(pitr_spawn_write(&sp, buf, size), -1);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	assert_error("could not write to \"head\": Broken pipe");
	/* head's byte and our own log line (we log to stderr too), in either
	 * order: head flushes its stdout only after closing its stdin. */
	got = h_read_file(h_path("out"), &len);
	line = strstr(got, " : ERROR : could not write to \"head\": Broken pipe\n");
	ck_assert_ptr_nonnull(line);
	ck_assert_int_eq(got[len - 1] == 'Z' || got[0] == 'Z', 1);
	ck_assert_ptr_eq(strchr(got, 'Z'), strrchr(got, 'Z'));
	free(got);
	free(buf);
}
END_TEST

/* --- wait -------------------------------------------------------------- */

START_TEST(test_wait_success)
{
	struct pitr_spawn sp;
	char *argv[] = { "/bin/true", NULL };

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_ptr_null(sp.label);
	assert_no_children();
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_wait_closes_stdin)
{
	struct pitr_spawn sp;
	char *argv[] = { "cat", NULL };

	/* cat only ends at EOF: wait must close the pipe first. */
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), 0);
	ck_assert_int_eq(pitr_spawn_write(&sp, "x", 1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	stderr_restore();
	ck_assert_int_eq(sp.stdin_fd, -1);
	assert_content(h_path("out"), "x");
}
END_TEST

START_TEST(test_wait_exit_status)
{
	struct pitr_spawn sp;
	char *no[] = { "false", NULL };
	char *three[] = { "sh", "-c", "exit 3", NULL };

	ck_assert_int_eq(pitr_spawn_start(&sp, no, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), -1);
	assert_error("\"false\" failed with exit status 1");
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_ptr_null(sp.label);
	h_log_reset();
	ck_assert_int_eq(pitr_spawn_start(&sp, three, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), -1);
	assert_error("\"sh\" failed with exit status 3");
}
END_TEST

START_TEST(test_wait_signal)
{
	struct pitr_spawn sp;
	char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), -1);
	assert_error("\"sh\" was terminated by signal 15 (Terminated)");
	assert_no_children();
}
END_TEST

/* --- kill -------------------------------------------------------------- */

/* A parent killed outright (SIGKILL, which no handler sees) takes its
 * helper with it: the helper gets SIGTERM from the kernel.  The test is
 * the subreaper that collects the orphan and sees how it ended. */
START_TEST(test_dies_with_parent)
{
	int fds[2], status;
	pid_t parent, helper = -1;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	ck_assert_int_eq(pipe(fds), 0);
	parent = fork();
	ck_assert_int_ge(parent, 0);
	if (parent == 0) {
		struct pitr_spawn sp;
		char *argv[] = { "sleep", "60", NULL };

		close(fds[0]);
		if (pitr_spawn_start(&sp, argv, false, -1) != 0)
			_exit(1);
		if (write(fds[1], &sp.pid, sizeof(sp.pid)) != (ssize_t)sizeof(sp.pid))
			_exit(1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &helper, sizeof(helper)), (ssize_t)sizeof(helper));
	close(fds[0]);
	ck_assert_int_eq(kill(parent, SIGKILL), 0);
	ck_assert_int_eq(waitpid(parent, &status, 0), parent);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* The orphan comes to us; it ends by SIGTERM, not after its 60 s. */
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGTERM);
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}
END_TEST

START_TEST(test_kill_running)
{
	struct pitr_spawn sp;
	char *argv[] = { "sleep", "60", NULL };
	pid_t pid;

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	pid = sp.pid;
	pitr_spawn_kill(&sp);
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_ptr_null(sp.label);
	/* Killed and reaped. */
	errno = 0;
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	assert_no_children();
	/* Already reaped: nothing more happens. */
	pitr_spawn_kill(&sp);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_kill_with_stdin_pipe)
{
	struct pitr_spawn sp;
	char *argv[] = { "sleep", "60", NULL };

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, true, -1), 0);
	pitr_spawn_kill(&sp);
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_int_eq(sp.stdin_fd, -1);
	assert_no_children();
}
END_TEST

START_TEST(test_kill_never_started)
{
	struct pitr_spawn zero = { 0 };
	struct pitr_spawn unset = { .pid = -1, .stdin_fd = -1, .label = NULL };

	/* pid 0 must not signal our process group, nor fd 0 be closed. */
	pitr_spawn_kill(&zero);
	pitr_spawn_kill(&unset);
	ck_assert_int_ge(fcntl(STDIN_FILENO, F_GETFD), 0);
	ck_assert_int_eq(zero.pid, -1);
}
END_TEST

START_TEST(test_kill_after_wait)
{
	struct pitr_spawn sp;
	char *argv[] = { "true", NULL };

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_wait(&sp), 0);
	pitr_spawn_kill(&sp);
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- run --------------------------------------------------------------- */

START_TEST(test_run)
{
	char *yes[] = { "true", NULL };
	char *no[] = { "/bin/false", NULL };
	char *missing[] = { MISSING, NULL };
	char *echo[] = { "echo", "out", NULL };
	char *cat[] = { "cat", NULL };

	ck_assert_int_eq(pitr_spawn_run(yes), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_spawn_run(no), -1);
	assert_error("\"/bin/false\" failed with exit status 1");
	h_log_reset();
	ck_assert_int_eq(pitr_spawn_run(missing), -1);
	assert_error("could not execute \"" MISSING "\": No such file or directory");
	h_log_reset();
	/* stdout to our stderr, stdin from /dev/null. */
	stdin_feed("inherited\n");
	stderr_to(h_path("out"));
	ck_assert_int_eq(pitr_spawn_run(echo), 0);
	ck_assert_int_eq(pitr_spawn_run(cat), 0);
	stderr_restore();
	assert_content(h_path("out"), "out\n");
	assert_no_children();
}
END_TEST

/* --- capture ----------------------------------------------------------- */

START_TEST(test_capture)
{
	char *argv[] = { "echo", "hello", NULL };
	char out[64];

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "hello\n");
	assert_no_children();
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_capture_truncates)
{
	char *echo[] = { "echo", "hello", NULL };
	char *seq[] = { "seq", "1", "200000", NULL };   /* about 1.2 MB */
	char out[16];
	char one[1];

	ck_assert_int_eq(pitr_spawn_capture(echo, out, 4), 0);
	ck_assert_str_eq(out, "hel");
	/* Read to the end: seq neither blocks nor dies of SIGPIPE. */
	ck_assert_int_eq(pitr_spawn_capture(seq, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1\n2\n3\n4\n5\n6\n7\n8");
	ck_assert_int_eq(pitr_spawn_capture(echo, one, sizeof(one)), 0);
	ck_assert_str_eq(one, "");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_capture_exit_status)
{
	char *argv[] = { "sh", "-c", "echo partial; exit 3", NULL };
	char *no[] = { "false", NULL };
	char out[64];

	/* A non-zero status is the caller's to judge: returned, not logged. */
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "partial\n");
	ck_assert_int_eq(pitr_spawn_capture(no, out, sizeof(out)), 1);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_capture_signal)
{
	char *argv[] = { "sh", "-c", "echo before; kill -KILL $$", NULL };
	char out[64];

	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), -1);
	assert_error("\"sh\" was terminated by signal 9 (Killed)");
	ck_assert_str_eq(out, "before\n");
	assert_no_children();
}
END_TEST

START_TEST(test_capture_missing)
{
	char *argv[] = { MISSING, NULL };
	char out[64];
	int fd_before = next_fd();

	memset(out, 'x', sizeof(out));
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), -1);
	assert_error("could not execute \"" MISSING "\": No such file or directory");
	ck_assert_str_eq(out, "");
	assert_no_children();
	ck_assert_int_eq(next_fd(), fd_before);
}
END_TEST

START_TEST(test_capture_stdin_devnull)
{
	char *argv[] = { "cat", NULL };
	char out[64];

	stdin_feed("inherited\n");
	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

/* --- timed reap ------------------------------------------------------- */

START_TEST(test_reap_timed_exits_in_time)
{
	struct pitr_spawn sp;
	char *const argv[] = { "true", NULL };
	int status;

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_reap_timed(&sp, &status, 60000, NULL, NULL), 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(sp.pid, -1);
}
END_TEST

/* A program that never ends is stopped with SIGTERM once it has made no
 * progress for the timeout. */
START_TEST(test_reap_timed_stops_hung)
{
	struct pitr_spawn sp;
	char *const argv[] = { "sleep", "600", NULL };
	int status;

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_reap_timed(&sp, &status, 200, NULL, NULL), 1);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGTERM);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* One that ignores SIGTERM gets SIGKILL after the grace period. */
START_TEST(test_reap_timed_kills_stubborn)
{
	struct pitr_spawn sp;
	char *const argv[] = { "sh", "-c", "trap '' TERM; while :; do sleep 1; done", NULL };
	int status;

	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_reap_timed(&sp, &status, 100, NULL, NULL), 1);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGKILL);
}
END_TEST

/* Progress restarts the clock: a child that keeps moving outlives many
 * timeouts. */
static int progress_calls;

static bool
always_moving(void *arg)
{
	(void)arg;
	return ++progress_calls < 20;
}

START_TEST(test_reap_timed_progress)
{
	struct pitr_spawn sp;
	char *const argv[] = { "sleep", "600", NULL };
	int status;

	progress_calls = 0;
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	ck_assert_int_eq(pitr_spawn_reap_timed(&sp, &status, 60, always_moving, NULL), 1);
	/* Stopped only after the progress ended: 20 polls, then the timeout. */
	ck_assert_int_ge(progress_calls, 20);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("spawn");
	TCase *tc;

	tc = tcase("start");
	tcase_add_test(tc, test_start_stdin_pipe);
	tcase_add_test(tc, test_start_stdin_fd);
	tcase_add_test(tc, test_start_devnull);
	tcase_add_test(tc, test_start_missing_program);
	tcase_add_test(tc, test_start_not_executable);
	tcase_add_test(tc, test_start_child_signals_reset);
	suite_add_tcase(s, tc);

	tc = tcase("start_redirect");
	tcase_add_test(tc, test_redirect_stderr_and_reap);
	tcase_add_test(tc, test_redirect_stdout);
	tcase_add_test(tc, test_redirect_defaults);
	tcase_add_test(tc, test_redirect_missing_program);
	suite_add_tcase(s, tc);

	tc = tcase("write");
	tcase_add_test(tc, test_write_large);
	tcase_add_test(tc, test_write_epipe);
	suite_add_tcase(s, tc);

	tc = tcase("wait");
	tcase_add_test(tc, test_wait_success);
	tcase_add_test(tc, test_wait_closes_stdin);
	tcase_add_test(tc, test_wait_exit_status);
	tcase_add_test(tc, test_wait_signal);
	suite_add_tcase(s, tc);

	tc = tcase("kill");
	tcase_add_test(tc, test_dies_with_parent);
	tcase_add_test(tc, test_kill_running);
	tcase_add_test(tc, test_kill_with_stdin_pipe);
	tcase_add_test(tc, test_kill_never_started);
	tcase_add_test(tc, test_kill_after_wait);
	suite_add_tcase(s, tc);

	tc = tcase("run");
	tcase_add_test(tc, test_run);
	suite_add_tcase(s, tc);

	tc = tcase("capture");
	tcase_add_test(tc, test_capture);
	tcase_add_test(tc, test_capture_truncates);
	tcase_add_test(tc, test_capture_exit_status);
	tcase_add_test(tc, test_capture_signal);
	tcase_add_test(tc, test_capture_missing);
	tcase_add_test(tc, test_capture_stdin_devnull);
	suite_add_tcase(s, tc);

	tc = tcase("reap_timed");
	tcase_add_test(tc, test_reap_timed_exits_in_time);
	tcase_add_test(tc, test_reap_timed_stops_hung);
	tcase_add_test(tc, test_reap_timed_kills_stubborn);
	tcase_add_test(tc, test_reap_timed_progress);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
