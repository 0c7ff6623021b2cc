/*
 * check_pidfile.c - unit tests for the one-copy-at-a-time pid file lock.
 */
#include "config.h"

#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "common/pidfile.h"

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

/* The pid file holds our pid in decimal, without a newline (as libbsd
 * writes and reads it). */
static void
assert_holds_pid(const char *path, pid_t pid)
{
	char want[32];
	char *got = h_read_file(path, NULL);

	snprintf(want, sizeof(want), "%d", (int)pid);
	ck_assert_str_eq(got, want);
	free(got);
}

/*
 * Try to acquire `path` in a forked child, as a second copy of the program
 * would.  Returns the child's exit status (0: it acquired the file) and
 * what it logged in `log`.
 */
static int
acquire_in_child(const char *path, char *log, size_t size)
{
	int fds[2];
	pid_t pid;
	int status;
	ssize_t n;
	size_t used = 0;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pitr_pidfile *pf;
		const char *lines;
		ssize_t len;

		close(fds[0]);
		h_log_reset();
		pf = pitr_pidfile_acquire(path);
		lines = h_log();
		len = (ssize_t)strlen(lines);
		if (write(fds[1], lines, (size_t)len) != len)
			_exit(3);
		pitr_pidfile_release(pf);
		_exit(pf != NULL ? 0 : 1);
	}
	close(fds[1]);
	while ((n = read(fds[0], log + used, size - 1 - used)) > 0)
		used += (size_t)n;
	log[used] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* --- acquire ----------------------------------------------------------- */

START_TEST(test_acquire_writes_pid)
{
	struct pitr_pidfile *pf = pitr_pidfile_acquire(h_path("x.pid"));

	ck_assert_ptr_nonnull(pf);
	assert_holds_pid(h_path("x.pid"), getpid());
	pitr_pidfile_release(pf);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_acquire_second_copy_refused)
{
	struct pitr_pidfile *pf = pitr_pidfile_acquire(h_path("x.pid"));
	char log[4096], want[4096];

	ck_assert_ptr_nonnull(pf);
	ck_assert_int_eq(acquire_in_child(h_path("x.pid"), log, sizeof(log)), 1);
	snprintf(want, sizeof(want),
		 "ERROR : another copy is already running with pid %d (pid file \"%s\")\n",
		 (int)getpid(), h_path("x.pid"));
	ck_assert_str_eq(log, want);
	/* The refused copy left our file alone. */
	assert_holds_pid(h_path("x.pid"), getpid());
	pitr_pidfile_release(pf);

	/* Once released, another copy may run. */
	ck_assert_int_eq(acquire_in_child(h_path("x.pid"), log, sizeof(log)), 0);
	ck_assert_str_eq(log, "");
	pf = pitr_pidfile_acquire(h_path("x.pid"));
	ck_assert_ptr_nonnull(pf);
	assert_holds_pid(h_path("x.pid"), getpid());
	pitr_pidfile_release(pf);
}
END_TEST

START_TEST(test_acquire_stale_taken_over)
{
	struct pitr_pidfile *pf;

	/* Left behind by a dead process: no lock holds it. */
	h_write_file(h_path("x.pid"), "999999\n", 7);
	pf = pitr_pidfile_acquire(h_path("x.pid"));
	ck_assert_ptr_nonnull(pf);
	assert_holds_pid(h_path("x.pid"), getpid());
	pitr_pidfile_release(pf);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_acquire_locked_empty)
{
	char msg[4096];
	int fd;

	/* Another copy holds the lock but has not written its pid yet. */
	fd = open(h_path("x.pid"), O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_ptr_null(pitr_pidfile_acquire(h_path("x.pid")));
	snprintf(msg, sizeof(msg), "another copy is already running (pid file \"%s\")",
		 h_path("x.pid"));
	assert_error(msg);
	close(fd);
}
END_TEST

START_TEST(test_acquire_missing_dir)
{
	char msg[4096];

	ck_assert_ptr_null(pitr_pidfile_acquire(h_path("no/x.pid")));
	snprintf(msg, sizeof(msg), "could not create pid file \"%s\": No such file or directory",
		 h_path("no/x.pid"));
	assert_error(msg);
}
END_TEST

START_TEST(test_acquire_write_fails)
{
	struct rlimit zero = { .rlim_cur = 0, .rlim_max = RLIM_INFINITY };
	struct rlimit old;
	struct pitr_pidfile *pf;
	char msg[4096];

	/* No room to write the pid: the file must not be left behind. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &zero), 0);
	pf = pitr_pidfile_acquire(h_path("x.pid"));
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_ptr_null(pf);
	snprintf(msg, sizeof(msg), "could not write pid file \"%s\": File too large",
		 h_path("x.pid"));
	assert_error(msg);
	ck_assert(!h_exists(h_path("x.pid")));
}
END_TEST

/* --- try ---------------------------------------------------------------- */

START_TEST(test_try_free_file)
{
	bool busy = true;
	struct pitr_pidfile *pf = pitr_pidfile_try(h_path("x.pid"), &busy);

	ck_assert_ptr_nonnull(pf);
	ck_assert(!busy);
	assert_holds_pid(h_path("x.pid"), getpid());
	pitr_pidfile_release(pf);
	ck_assert(!h_exists(h_path("x.pid")));
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* Held by another copy (the lock taken here as another process would):
 * busy, and nothing logged, since not running then is the expected
 * answer. */
START_TEST(test_try_busy_is_silent)
{
	bool busy = false;
	int fd;

	fd = open(h_path("x.pid"), O_RDWR | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	ck_assert_int_eq(write(fd, "1", 1), 1);
	ck_assert_ptr_null(pitr_pidfile_try(h_path("x.pid"), &busy));
	ck_assert(busy);
	ck_assert_str_eq(h_log(), "");
	close(fd);
}
END_TEST

START_TEST(test_try_other_failure_logged)
{
	bool busy = true;
	char msg[4096];

	ck_assert_ptr_null(pitr_pidfile_try(h_path("no/x.pid"), &busy));
	ck_assert(!busy);
	snprintf(msg, sizeof(msg), "could not create pid file \"%s\": No such file or directory",
		 h_path("no/x.pid"));
	assert_error(msg);
}
END_TEST

/* --- forget ------------------------------------------------------------- */

/* A forked child forgets the inherited lock: the file stays, and the
 * parent still holds it, so a third copy is refused. */
START_TEST(test_forget_in_child_keeps_parents_lock)
{
	struct pitr_pidfile *pf = pitr_pidfile_acquire(h_path("x.pid"));
	char log[4096];
	pid_t pid;
	int status;

	ck_assert_ptr_nonnull(pf);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pitr_pidfile_forget(pf);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(h_exists(h_path("x.pid")));
	assert_holds_pid(h_path("x.pid"), getpid());
	ck_assert_int_eq(acquire_in_child(h_path("x.pid"), log, sizeof(log)), 1);
	pitr_pidfile_forget(NULL);
	pitr_pidfile_release(pf);
	ck_assert(!h_exists(h_path("x.pid")));
}
END_TEST

/* --- release ----------------------------------------------------------- */

START_TEST(test_release_removes)
{
	struct pitr_pidfile *pf = pitr_pidfile_acquire(h_path("x.pid"));

	pitr_pidfile_release(NULL);
	ck_assert_ptr_nonnull(pf);
	ck_assert(h_exists(h_path("x.pid")));
	pitr_pidfile_release(pf);
	ck_assert(!h_exists(h_path("x.pid")));
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
make_suite(void)
{
	Suite *s = suite_create("pidfile");
	TCase *tc;

	tc = tcase("acquire");
	tcase_add_test(tc, test_acquire_writes_pid);
	tcase_add_test(tc, test_acquire_second_copy_refused);
	tcase_add_test(tc, test_acquire_stale_taken_over);
	tcase_add_test(tc, test_acquire_locked_empty);
	tcase_add_test(tc, test_acquire_missing_dir);
	tcase_add_test(tc, test_acquire_write_fails);
	suite_add_tcase(s, tc);

	tc = tcase("try");
	tcase_add_test(tc, test_try_free_file);
	tcase_add_test(tc, test_try_busy_is_silent);
	tcase_add_test(tc, test_try_other_failure_logged);
	suite_add_tcase(s, tc);

	tc = tcase("forget");
	tcase_add_test(tc, test_forget_in_child_keeps_parents_lock);
	suite_add_tcase(s, tc);

	tc = tcase("release");
	tcase_add_test(tc, test_release_removes);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
