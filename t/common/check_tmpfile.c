/*
 * check_tmpfile.c - unit tests for locked temporary files and the sweep of
 * dead ones.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/sigclean.h"
#include "common/spawn.h"
#include "common/tmpfile.h"
#include "harness.h"

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

/* True when someone holds `path` locked (a second open cannot lock it). */
static bool
locked(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool busy;

	ck_assert_int_ge(fd, 0);
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

START_TEST(test_create_locked_and_registered)
{
	struct pitr_tmp t;
	struct stat st;
	const char *prefix = h_path(".pitr-tmp.000000010000000000000001.");

	ck_assert_int_eq(pitr_tmp_create(&t, h_dir(), "000000010000000000000001"), 0);
	ck_assert_int_eq(strncmp(t.path, prefix, strlen(prefix)), 0);
	ck_assert_uint_eq(strlen(t.path), strlen(prefix) + 6);
	ck_assert_int_eq(stat(t.path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(locked(t.path));
	ck_assert_int_eq(pitr_sigclean_count(), 1);
	ck_assert_int_eq(write(t.fd, "abc", 3), 3);
	pitr_tmp_discard(&t);
	ck_assert_int_eq(pitr_sigclean_count(), 0);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	ck_assert_ptr_null(t.path);
	ck_assert_int_eq(t.fd, -1);
	/* A zeroed handle owns nothing. */
	memset(&t, 0, sizeof(t));
	pitr_tmp_discard(&t);
	pitr_tmp_release(&t);
}
END_TEST

START_TEST(test_release_keeps_file_unlocked)
{
	struct pitr_tmp t;
	char *path;

	ck_assert_int_eq(pitr_tmp_create(&t, h_dir(), "name"), 0);
	path = strdup(t.path);
	pitr_tmp_release(&t);
	ck_assert_int_eq(pitr_sigclean_count(), 0);
	ck_assert(h_exists(path));
	ck_assert(!locked(path));
	free(path);
}
END_TEST

/* A record is locked as a temporary file is, but not registered (a fatal
 * signal leaves it) and never swept as one; pitr_tmp_each_dead() passes
 * the dead ones of its prefix, locked, and none else. */
struct seen {
	char names[4][64];
	int n;
	bool was_locked;
};

static int
see(void *ctx, const char *dir, const char *name, int fd)
{
	struct seen *s = ctx;
	char *path = pitr_fsutil_join(dir, name);

	ck_assert_int_lt(s->n, 4);
	snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
	s->was_locked = locked(path);   /* held by the call for `fn` */
	ck_assert_int_ge(fd, 0);
	free(path);
	return 0;
}

START_TEST(test_records)
{
	struct pitr_tmp live, dead;
	struct seen seen = { .n = 0 };
	char *dead_path;

	ck_assert_int_eq(pitr_tmp_create_record(&live, h_dir(), ".rec."), 0);
	ck_assert_int_eq(pitr_tmp_create_record(&dead, h_dir(), ".rec."), 0);
	ck_assert_int_eq(strncmp(live.path, h_path(".rec."), strlen(h_path(".rec."))), 0);
	ck_assert_uint_eq(strlen(live.path), strlen(h_path(".rec.")) + 6);
	ck_assert(locked(live.path));
	ck_assert_int_eq(pitr_sigclean_count(), 0);
	dead_path = strdup(dead.path);
	pitr_tmp_release(&dead);
	h_write_file(h_path(".other.x"), "x", 1);   /* another prefix */
	ck_assert_int_eq(mkdir(h_path(".rec.dir"), 0700), 0);   /* no regular file */
	ck_assert_int_eq(pitr_tmp_sweep(h_dir(), false), 0);
	ck_assert(h_exists(dead_path));
	ck_assert_int_eq(pitr_tmp_each_dead(h_dir(), ".rec.", see, &seen), 0);
	ck_assert_int_eq(seen.n, 1);
	ck_assert_str_eq(seen.names[0], strrchr(dead_path, '/') + 1);
	ck_assert(seen.was_locked);
	ck_assert(!locked(dead_path));   /* released after the call */
	ck_assert_int_eq(pitr_tmp_each_dead(h_path("missing"), ".rec.", see, &seen), 0);
	pitr_tmp_discard(&live);
	free(dead_path);
}
END_TEST

/* The first name is fixed: a killed run's file there is taken over by
 * the next writer of the same name (truncated, logged); a live writer's
 * sends the next one to a random name; a second name of a published file
 * (killed between link and unlink) is removed, never truncated. */
START_TEST(test_fixed_name_taken_over)
{
	struct pitr_tmp a, b;
	struct stat st;
	const char *fixed = h_path(".pitr-tmp.seg.000000");
	size_t len;
	char *text;

	h_write_file(fixed, "dead run", 8);
	ck_assert_int_eq(pitr_tmp_create(&a, h_dir(), "seg"), 0);
	ck_assert_str_eq(a.path, fixed);
	ck_assert(locked(fixed));
	ck_assert_int_eq(stat(fixed, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_str_eq(h_log(), h_fmt("LOG : took over \"%s\", left by an interrupted run\n", fixed));
	ck_assert_int_eq(pitr_tmp_create(&b, h_dir(), "seg"), 0);
	ck_assert_str_ne(b.path, fixed);
	pitr_tmp_discard(&b);
	pitr_tmp_discard(&a);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);

	h_write_file(h_path("seg"), "published", 9);
	ck_assert_int_eq(link(h_path("seg"), fixed), 0);
	ck_assert_int_eq(pitr_tmp_create(&a, h_dir(), "seg"), 0);
	ck_assert_str_eq(a.path, fixed);
	text = h_read_file(h_path("seg"), &len);
	ck_assert_str_eq(text, "published");
	free(text);
	pitr_tmp_discard(&a);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
}
END_TEST

START_TEST(test_create_missing_dir)
{
	struct pitr_tmp t;

	ck_assert_int_eq(pitr_tmp_create(&t, h_path("none"), "x"), -1);
	ck_assert_ptr_null(t.path);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not create a temporary file in \"%s\": "
					 "No such file or directory\n", h_path("none")));
}
END_TEST

START_TEST(test_sweep_dead_not_live)
{
	struct pitr_tmp live, stage;
	char *stage_path;

	h_write_file(h_path(".pitr-tmp.000000010000000000000002.AbCdEf"), "dead", 4);
	h_write_file(h_path(".pitr-tmp.k-data.tar.gz.x1y2z3"), "dead too", 8);
	h_write_file(h_path("000000010000000000000002"), "wal", 3);
	h_write_file(h_path("pitr-tmp.not-ours"), "x", 1);
	ck_assert_int_eq(symlink("/nonexistent", h_path(".pitr-tmp.link.AbCdEf")), 0);
	ck_assert_int_eq(pitr_tmp_create(&live, h_dir(), "000000010000000000000003"), 0);
	/* A dead run's staging dir, with its file in it. */
	ck_assert_int_eq(pitr_tmp_mkdir(&stage, h_dir(), "stage"), 0);
	stage_path = strdup(stage.path);
	h_write_file(h_fmt("%s/000000010000000000000004", stage_path), "staged", 6);
	pitr_tmp_release(&stage);

	ck_assert_int_eq(pitr_tmp_sweep(h_dir(), true), 3);
	ck_assert_int_eq(h_count_entries(h_dir()), 7);
	h_log_reset();
	ck_assert_int_eq(pitr_tmp_sweep(h_dir(), false), 3);
	ck_assert_str_eq(h_log(), h_fmt("LOG : removed 3 temporary files left by interrupted runs "
					"in \"%s\"\n", h_dir()));
	ck_assert(!h_exists(h_path(".pitr-tmp.000000010000000000000002.AbCdEf")));
	ck_assert(!h_exists(h_path(".pitr-tmp.k-data.tar.gz.x1y2z3")));
	ck_assert(!h_exists(stage_path));
	ck_assert(h_exists(live.path));
	ck_assert(h_exists(h_path("000000010000000000000002")));
	ck_assert(h_exists(h_path("pitr-tmp.not-ours")));
	/* A symlink is nothing a run of ours makes: left alone. */
	ck_assert_int_eq(h_count_entries(h_dir()), 4);
	/* Once its writer is gone, the live one is dead too. */
	pitr_tmp_release(&live);
	ck_assert_int_eq(pitr_tmp_sweep(h_dir(), false), 1);
	ck_assert_int_eq(pitr_tmp_sweep(h_path("missing"), false), 0);
	free(stage_path);
}
END_TEST

START_TEST(test_scan_reports_dead)
{
	static char big[3 << 20];
	struct pitr_tmp live;
	struct pitr_tmp_found *found;
	size_t n;
	char text[32];

	h_write_file(h_path(".pitr-tmp.b.XXXXXX"), big, sizeof(big));
	h_write_file(h_path(".pitr-tmp.a.XXXXXX"), "12345", 5);
	ck_assert_int_eq(pitr_tmp_create(&live, h_dir(), "c"), 0);
	ck_assert_int_eq(pitr_tmp_scan(h_dir(), &found, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(found[0].name, ".pitr-tmp.a.XXXXXX");
	ck_assert_int_eq(found[0].size, 5);
	ck_assert_str_eq(found[1].name, ".pitr-tmp.b.XXXXXX");
	ck_assert_int_eq(found[1].size, sizeof(big));
	pitr_tmp_size_text(found[1].size, text, sizeof(text));
	ck_assert_str_eq(text, "3.0 MiB");
	pitr_tmp_size_text(found[0].size, text, sizeof(text));
	ck_assert_str_eq(text, "5 bytes");
	pitr_tmp_found_free(found, n);
	/* Nothing removed. */
	ck_assert_int_eq(h_count_entries(h_dir()), 3);
	pitr_tmp_discard(&live);
	ck_assert_int_eq(pitr_tmp_scan(h_path("missing"), &found, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

/* A writer creating, filling and checking files while another process
 * sweeps the directory without pause: the sweep never takes a file that
 * is being written, whatever the interleaving (the re-checks after each
 * lock), and every create succeeds. */
START_TEST(test_race_with_sweeper)
{
	pid_t writer = fork();
	int status, sweeps = 0;

	ck_assert_int_ge(writer, 0);
	if (writer == 0) {
		for (int i = 0; i < 2000; i++) {
			struct pitr_tmp t;
			struct stat a, b;

			if (pitr_tmp_create(&t, h_dir(), "race") != 0)
				_exit(2);
			if (write(t.fd, "x", 1) != 1 || fstat(t.fd, &a) != 0 || stat(t.path, &b) != 0 ||
			    a.st_ino != b.st_ino)
				_exit(3);
			/* Half are left behind unlocked, as a killed run's. */
			if (i % 2 == 0)
				pitr_tmp_discard(&t);
			else
				pitr_tmp_release(&t);
		}
		_exit(0);
	}
	do {
		ck_assert_int_ge(pitr_tmp_sweep(h_dir(), false), 0);
		sweeps++;
	} while (waitpid(writer, &status, WNOHANG) == 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_ge(pitr_tmp_sweep(h_dir(), false), 0);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	ck_assert_int_gt(sweeps, 0);
}
END_TEST

/* --- sigclean ------------------------------------------------------------ */

/*
 * In a child: install the handlers, create a temporary file and a
 * registered staging dir with a file in it, start a child program, say
 * the paths and the program's pid on `tell`, and wait for the signal.
 */
static void
doomed_child(int tell, const char *errfile)
{
	struct pitr_tmp t, d;
	char buf[8192];
	char *const argv[] = { "sleep", "600", NULL };
	pid_t sleeper;
	sigset_t all, old;
	int n, errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (errfd < 0 || dup2(errfd, STDERR_FILENO) < 0 ||
	    pitr_sigclean_install("check_tmpfile", false) != 0 ||
	    pitr_tmp_create(&t, h_dir(), "seg") != 0 || pitr_tmp_mkdir(&d, h_dir(), "stage") != 0)
		_exit(2);
	snprintf(buf, sizeof(buf), "%s/file", d.path);
	if (close(open(buf, O_WRONLY | O_CREAT, 0600)) != 0 || pitr_sigclean_add_path(buf, false) < 0)
		_exit(3);
	/* As spawn.c does: the program must not run our handlers between
	 * fork and exec (it would undo and report a second time). */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	sleeper = fork();
	if (sleeper == 0) {
		static const int caught[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };

		for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
			signal(caught[i], SIG_DFL);
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pitr_sigclean_add_pid(sleeper) < 0)
		_exit(4);
	sigprocmask(SIG_SETMASK, &old, NULL);
	n = snprintf(buf, sizeof(buf), "%ld %s %s\n", (long)sleeper, t.path, d.path);
	if (write(tell, buf, (size_t)n) != n)
		_exit(5);
	for (;;)
		pause();
}

/* Kill a doomed child with `signo` and check what it undid. */
static void
check_signal(int signo, const char *name)
{
	int tell[2], status;
	char buf[8192] = "", path[4096], dir[4096], want[256];
	const char *errfile = h_path("child.err");
	long sleeper;
	char *text;
	size_t got = 0, len;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(tell), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(tell[0]);
		doomed_child(tell[1], errfile);
	}
	close(tell[1]);
	while (strchr(buf, '\n') == NULL && got < sizeof(buf) - 1 &&
	       (n = read(tell[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	close(tell[0]);
	ck_assert_int_eq(sscanf(buf, "%ld %4095s %4095s", &sleeper, path, dir), 3);
	ck_assert(h_exists(path));
	ck_assert(h_exists(dir));
	ck_assert_int_eq(kill(pid, signo), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "%s: not an exit", name);
	ck_assert_int_eq(WEXITSTATUS(status), 1);
	ck_assert(!h_exists(path));
	ck_assert(!h_exists(dir));
	snprintf(want, sizeof(want), "check_tmpfile: interrupted by %s; removed 2 temporary files\n",
		 name);
	text = h_read_file(errfile, &len);
	ck_assert_str_eq(text, want);
	free(text);
	/* The program it started was sent SIGTERM: it is gone (a zombie
	 * until its new parent reaps it). */
	for (int tries = 0; tries < 1000; tries++) {
		char stat_path[64], st[512] = "";
		FILE *f;

		snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", sleeper);
		f = fopen(stat_path, "r");
		if (f == NULL)
			return;
		if (fgets(st, sizeof(st), f) == NULL)
			st[0] = '\0';
		fclose(f);
		if (strstr(st, ") Z ") != NULL)
			return;
		usleep(10000);
	}
	ck_abort_msg("%s: the child program %ld still runs", name, sleeper);
}

START_TEST(test_signal_term)
{
	check_signal(SIGTERM, "SIGTERM");
}
END_TEST

START_TEST(test_signal_int)
{
	check_signal(SIGINT, "SIGINT");
}
END_TEST

START_TEST(test_signal_quit)
{
	check_signal(SIGQUIT, "SIGQUIT");
}
END_TEST

START_TEST(test_signal_hup)
{
	check_signal(SIGHUP, "SIGHUP");
}
END_TEST

START_TEST(test_registry_full_and_too_long)
{
	int slots[PITR_SIGCLEAN_SLOTS];
	static char longpath[8192];

	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++)
		ck_assert_int_ge(slots[i] = pitr_sigclean_add_path("/nonexistent/x", false), 0);
	ck_assert_int_eq(pitr_sigclean_add_path("/nonexistent/y", false), -1);
	ck_assert_int_eq(pitr_sigclean_add_pid(12345), -1);
	ck_assert(pitr_sigclean_busy());
	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++)
		pitr_sigclean_remove(slots[i]);
	ck_assert(!pitr_sigclean_busy());
	memset(longpath, 'a', sizeof(longpath) - 1);
	ck_assert_int_eq(pitr_sigclean_add_path(longpath, false), -1);
	ck_assert_int_eq(pitr_sigclean_add_pid(0), -1);
	pitr_sigclean_remove(-1);
	pitr_sigclean_remove_pid(99999);
}
END_TEST

/* A file registered in a lower slot than its directory (claim() reuses
 * the lowest free one) is removed before it, so the directory goes too. */
START_TEST(test_undo_files_before_dirs)
{
	const char *dir = h_path("stage"), *file = h_path("stage/f");
	int status, errfd;
	pid_t pid;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	h_write_file(file, "x", 1);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int filler = pitr_sigclean_add_path("/nonexistent/x", false);

		errfd = open(h_path("child.err"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (errfd < 0 || dup2(errfd, STDERR_FILENO) < 0 || filler != 0 ||
		    pitr_sigclean_add_path(dir, true) != 1)
			_exit(2);
		pitr_sigclean_remove(filler);
		if (pitr_sigclean_add_path(file, false) != 0)
			_exit(3);
		pitr_sigclean_die(SIGTERM);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 1);
	ck_assert(!h_exists(file));
	ck_assert(!h_exists(dir));
}
END_TEST

static void
term_before_exec(void)
{
	(void)raise(SIGTERM);
}

/* A signal a spawned child gets between fork and exec does not run the
 * parent's handler there (which would remove the parent's temporary files
 * and print a line): the child dies of it as an exec'ed program would. */
START_TEST(test_spawn_child_no_undo)
{
	char *const argv[] = { "true", NULL };
	const char *file = h_path("kept"), *errfile = h_path("child.err");
	struct pitr_spawn sp;
	int status, saved = dup(STDERR_FILENO), errfd;
	char *text;

	h_write_file(file, "x", 1);
	ck_assert_int_eq(pitr_sigclean_install("check_tmpfile", false), 0);
	ck_assert_int_ge(pitr_sigclean_add_path(file, false), 0);
	errfd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(errfd, 0);
	ck_assert_int_ge(dup2(errfd, STDERR_FILENO), 0);
	close(errfd);
	pitr_spawn_pre_exec_hook = term_before_exec;
	ck_assert_int_eq(pitr_spawn_start(&sp, argv, false, -1), 0);
	pitr_spawn_pre_exec_hook = NULL;
	ck_assert_int_eq(pitr_spawn_reap(&sp, &status), 0);
	ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
	close(saved);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(WTERMSIG(status), SIGTERM);
	ck_assert(h_exists(file));
	text = h_read_file(errfile, NULL);
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert_int_eq(pitr_sigclean_count(), 1);
	pitr_sigclean_forget_all();
	ck_assert_int_eq(pitr_sigclean_count(), 0);
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
	Suite *s = suite_create("tmpfile");
	TCase *tc = tcase("create");

	tcase_add_test(tc, test_create_locked_and_registered);
	tcase_add_test(tc, test_release_keeps_file_unlocked);
	tcase_add_test(tc, test_create_missing_dir);
	tcase_add_test(tc, test_fixed_name_taken_over);
	tcase_add_test(tc, test_records);
	suite_add_tcase(s, tc);

	tc = tcase("sweep");
	tcase_add_test(tc, test_sweep_dead_not_live);
	tcase_add_test(tc, test_scan_reports_dead);
	tcase_add_test(tc, test_race_with_sweeper);
	suite_add_tcase(s, tc);

	tc = tcase("sigclean");
	tcase_add_test(tc, test_signal_term);
	tcase_add_test(tc, test_signal_int);
	tcase_add_test(tc, test_signal_quit);
	tcase_add_test(tc, test_signal_hup);
	tcase_add_test(tc, test_registry_full_and_too_long);
	tcase_add_test(tc, test_undo_files_before_dirs);
	tcase_add_test(tc, test_spawn_child_no_undo);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
