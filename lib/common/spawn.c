/*
 * spawn.c - run helper programs with execvp(3), never through a shell (see spawn.h).
 *
 * Line coverage: the child's side of fork never returns to write coverage
 * data, and pipe/fork/waitpid/read failures (resource exhaustion) are not
 * provoked by the tests.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <time.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "common/sigclean.h"
#include "common/spawn.h"
#include "common/xalloc.h"

void (*pitr_spawn_pre_exec_hook)(void);

/* How often a timed wait looks at its child. */
#define SPAWN_POLL_MS 50

/*
 * Ignore SIGPIPE for the whole process, once: a child that exits before
 * reading all its input must give EPIPE on our write, never kill the
 * archiver with a signal (PostgreSQL treats that as fatal).  Children get
 * the default back before exec, as programs expect.
 */
static void
ignore_sigpipe(void)
{
	static volatile sig_atomic_t done;

	if (!done) {
		signal(SIGPIPE, SIG_IGN);
		done = 1;
	}
}

/* In the child: make `from` the descriptor `to`, without close-on-exec.
 * Returns 0 or -1. */
static int
move_fd(int from, int to)
{
	int flags;

	if (from != to)
		return dup2(from, to) < 0 ? -1 : 0;
	/* dup2() onto itself would keep FD_CLOEXEC. */
	flags = fcntl(to, F_GETFD);
	if (flags < 0)
		return -1;
	return fcntl(to, F_SETFD, flags & ~FD_CLOEXEC);
}

/*
 * In the child, after fork: set up descriptors and signals and exec.  Only
 * async-signal-safe calls, since the parent may have threads (parallel
 * deliveries).  An exec failure is reported through `errfd` (close-on-exec,
 * so a successful exec just closes it) and the child exits 127.
 */
static void
child_exec(char *const argv[], int stdin_fd, int stdout_fd, int stderr_fd, int errfd,
	   pid_t parent)
{
	sigset_t none;
	int err;

	if (pitr_spawn_pre_exec_hook != NULL)
		pitr_spawn_pre_exec_hook();
#ifdef PR_SET_PDEATHSIG
	/* A parent killed outright (SIGKILL: sigclean cannot pass SIGTERM on)
	 * takes its helper down too: an rsync left running after its
	 * pitr-synch would go on writing, and deleting, under the next run.
	 * A parent already gone before this point is noticed by its pid. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(127);
#else
	(void)parent;
#endif
	if (move_fd(stdin_fd, STDIN_FILENO) != 0)
		goto fail;
	if (move_fd(stdout_fd, STDOUT_FILENO) != 0)
		goto fail;
	if (stderr_fd >= 0 && move_fd(stderr_fd, STDERR_FILENO) != 0)
		goto fail;
	/* Until exec the parent's handlers would run here on a signal to the
	 * group (undoing the parent's temporary files, a second line): the
	 * parent forks with every signal blocked, and exec's own reset of
	 * caught signals is done before unblocking them.  SIGPIPE gets the
	 * default back too; others ignored stay so, as across exec. */
	for (int signo = 1; signo < NSIG; signo++) {
		struct sigaction sa;

		if (sigaction(signo, NULL, &sa) == 0 &&
		    (signo == SIGPIPE || (sa.sa_handler != SIG_IGN && sa.sa_handler != SIG_DFL)))
			signal(signo, SIG_DFL);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execvp(argv[0], argv);
fail:
	err = errno;
	if (write(errfd, &err, sizeof(err)) < 0)
		(void)0;  /* the parent then sees exit status 127 */
	_exit(127);
}

/* waitpid() through EINTR.  Returns 0 with *status set, or -1 (logged). */
static int
reap(pid_t pid, const char *label, int *status)
{
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			pitr_log_error("could not wait for \"%s\": %s", label, strerror(errno));
			pitr_sigclean_remove_pid(pid);
			return -1;
		}
	}
	pitr_sigclean_remove_pid(pid);
	return 0;
}

/*
 * Start argv with stdin from `stdin_fd` (or a new pipe if `stdin_pipe`,
 * or /dev/null if neither) and stdout to `stdout_fd` (or our stderr if
 * -1).  Fills sp; on failure returns -1 (logged) with sp->pid == -1,
 * sp->stdin_fd == -1 and sp->label == NULL.
 */
static int
start_child(struct pitr_spawn *sp, char *const argv[], bool stdin_pipe, int stdin_fd,
	    int stdout_fd, int stderr_fd)
{
	int in[2] = { -1, -1 };
	int errpipe[2] = { -1, -1 };
	int devnull = -1;
	int child_err;
	int status;
	sigset_t all, old_mask;
	pid_t parent;
	int fork_err;
	ssize_t n;
	int rc = -1;

	assert(argv != NULL && argv[0] != NULL);
	sp->pid = -1;
	sp->stdin_fd = -1;
	if ((sp->label = pitr_xstrdup(argv[0])) == NULL)
		goto out;
	/* Everything close-on-exec from birth: another thread's child must not
	 * inherit our pipe's write end, or this child would never see EOF. */
	if (stdin_pipe) {
		ignore_sigpipe();
		if (pipe2(in, O_CLOEXEC) != 0) {
			pitr_log_error("could not create a pipe for \"%s\": %s", sp->label,
				       strerror(errno));
			goto out;
		}
		stdin_fd = in[0];
	} else if (stdin_fd < 0) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull < 0) {
			pitr_log_error("could not open \"/dev/null\": %s", strerror(errno));
			goto out;
		}
		stdin_fd = devnull;
	}
	if (pipe2(errpipe, O_CLOEXEC) != 0) {
		pitr_log_error("could not create a pipe for \"%s\": %s", sp->label, strerror(errno));
		goto out;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old_mask);
	parent = getpid();
	sp->pid = fork();
	fork_err = errno;
	if (sp->pid == 0)
		child_exec(argv, stdin_fd, stdout_fd >= 0 ? stdout_fd : STDERR_FILENO, stderr_fd,
			   errpipe[1], parent);
	/* A fatal signal to us passes SIGTERM on to it (sigclean.h); one
	 * that came since the fork waits until it is registered. */
	if (sp->pid > 0)
		(void)pitr_sigclean_add_pid(sp->pid);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (sp->pid < 0) {
		pitr_log_error("could not start \"%s\": %s", sp->label, strerror(fork_err));
		goto out;
	}
	close(errpipe[1]);
	errpipe[1] = -1;
	/* EOF means exec succeeded; an int is the child's errno. */
	n = pitr_io_read(errpipe[0], &child_err, sizeof(child_err));
	if (n != 0) {
		if (n != (ssize_t)sizeof(child_err))
			child_err = n < 0 ? errno : EIO;
		pitr_log_error("could not execute \"%s\": %s", sp->label, strerror(child_err));
		reap(sp->pid, sp->label, &status);
		sp->pid = -1;
		goto out;
	}
	if (stdin_pipe) {
		sp->stdin_fd = in[1];
		in[1] = -1;
	}
	rc = 0;
out:
	for (int end_idx = 0; end_idx < 2; end_idx++) {
		if (in[end_idx] >= 0)
			close(in[end_idx]);
		if (errpipe[end_idx] >= 0)
			close(errpipe[end_idx]);
	}
	if (devnull >= 0)
		close(devnull);
	if (rc != 0) {
		free(sp->label);
		sp->label = NULL;
	}
	return rc;
}

int
pitr_spawn_start(struct pitr_spawn *sp, char *const argv[], bool stdin_pipe, int stdin_fd)
{
	return start_child(sp, argv, stdin_pipe, stdin_fd, -1, -1);
}

int
pitr_spawn_start_redirect(struct pitr_spawn *sp, char *const argv[], int stdin_fd, int stdout_fd,
			  int stderr_fd)
{
	return start_child(sp, argv, false, stdin_fd, stdout_fd, stderr_fd);
}

int
pitr_spawn_write(struct pitr_spawn *sp, const void *buf, size_t len)
{
	assert(sp->stdin_fd >= 0);
	if (pitr_io_write_all(sp->stdin_fd, buf, len) != 0) {
		pitr_log_error("could not write to \"%s\": %s", sp->label, strerror(errno));
		return -1;
	}
	return 0;
}

/* Close our end of the child's stdin, if any. */
static void
close_stdin(struct pitr_spawn *sp)
{
	if (sp->stdin_fd >= 0)
		close(sp->stdin_fd);
	sp->stdin_fd = -1;
}

/* Log how a child that did not exit 0 ended.  Returns 0 for exit status
 * 0, else -1. */
static int
check_status(const char *label, int status)
{
	if (WIFEXITED(status)) {
		if (WEXITSTATUS(status) == 0)
			return 0;
		pitr_log_error("\"%s\" failed with exit status %d", label, WEXITSTATUS(status));
	} else {
		/* waitpid() without WUNTRACED reports only exits and signals. */
		pitr_log_error("\"%s\" was terminated by signal %d (%s)", label, WTERMSIG(status),
			       strsignal(WTERMSIG(status)));
	}
	return -1;
}

void
pitr_spawn_status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, size, "terminated by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
}

int
pitr_spawn_reap(struct pitr_spawn *sp, int *status)
{
	int rc;

	assert(sp->pid > 0);
	close_stdin(sp);
	rc = reap(sp->pid, sp->label, status);
	sp->pid = -1;
	free(sp->label);
	sp->label = NULL;
	return rc;
}

int
pitr_spawn_wait(struct pitr_spawn *sp)
{
	int status;
	int rc = -1;

	assert(sp->pid > 0);
	close_stdin(sp);
	if (reap(sp->pid, sp->label, &status) != 0)
		goto out;
	rc = check_status(sp->label, status);
out:
	sp->pid = -1;
	free(sp->label);
	sp->label = NULL;
	return rc;
}

/* waitpid() without blocking.  Returns 1 with *status set once the child
 * ended, 0 while it runs, -1 (logged) on error. */
static int
reap_nohang(struct pitr_spawn *sp, int *status)
{
	pid_t got = waitpid(sp->pid, status, WNOHANG);

	if (got < 0 && errno != EINTR) {
		pitr_log_error("could not wait for \"%s\": %s", sp->label, strerror(errno));
		return -1;
	}
	return got == sp->pid ? 1 : 0;
}

/* Sleep `ms` milliseconds (a signal may cut it short). */
static void
nap_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/* SIGTERM, SIGKILL after the grace period, and reap. */
static void
terminate(struct pitr_spawn *sp, int *status)
{
	kill(sp->pid, SIGTERM);
	for (long waited = 0; waited < PITR_SPAWN_KILL_GRACE_MS; waited += SPAWN_POLL_MS) {
		if (reap_nohang(sp, status) != 0)
			return;
		nap_ms(SPAWN_POLL_MS);
	}
	kill(sp->pid, SIGKILL);
	(void)reap(sp->pid, sp->label, status);
}

int
pitr_spawn_reap_timed(struct pitr_spawn *sp, int *status, long timeout_ms,
		      bool (*progress)(void *arg), void *arg)
{
	long idle = 0;
	int rc = 0;

	assert(sp->pid > 0);
	close_stdin(sp);
	for (;;) {
		int ended = reap_nohang(sp, status);

		if (ended != 0) {
			rc = ended < 0 ? -1 : 0;
			break;
		}
		if (progress != NULL && progress(arg))
			idle = 0;
		if (idle >= timeout_ms) {
			terminate(sp, status);
			rc = 1;
			break;
		}
		nap_ms(SPAWN_POLL_MS);
		idle += SPAWN_POLL_MS;
	}
	pitr_sigclean_remove_pid(sp->pid);
	sp->pid = -1;
	free(sp->label);
	sp->label = NULL;
	return rc;
}

void
pitr_spawn_kill(struct pitr_spawn *sp)
{
	int status;

	/* pid 0 would be our own process group: only a started child. */
	if (sp->pid > 0) {
		close_stdin(sp);
		kill(sp->pid, SIGTERM);
		reap(sp->pid, sp->label, &status);
	}
	sp->pid = -1;
	free(sp->label);
	sp->label = NULL;
}

int
pitr_spawn_run(char *const argv[])
{
	struct pitr_spawn sp;

	if (pitr_spawn_start(&sp, argv, false, -1) != 0)
		return -1;
	return pitr_spawn_wait(&sp);
}

int
pitr_spawn_capture(char *const argv[], char *out, size_t size)
{
	struct pitr_spawn sp = { .pid = -1, .stdin_fd = -1, .label = NULL };
	int outpipe[2] = { -1, -1 };
	size_t used = 0;
	char discard[4096];
	int status;
	int rc = -1;

	assert(out != NULL && size > 0);
	out[0] = '\0';
	if (pipe2(outpipe, O_CLOEXEC) != 0) {
		pitr_log_error("could not create a pipe for \"%s\": %s", argv[0], strerror(errno));
		goto out;
	}
	if (start_child(&sp, argv, false, -1, outpipe[1], -1) != 0)
		goto out;
	close(outpipe[1]);
	outpipe[1] = -1;
	/* Read to EOF even past `size`, so the child never blocks on a full
	 * pipe (or dies of SIGPIPE) because we stopped listening. */
	for (;;) {
		bool keep = used < size - 1;
		ssize_t n = keep ? pitr_io_read(outpipe[0], out + used, size - 1 - used)
				 : pitr_io_read(outpipe[0], discard, sizeof(discard));

		if (n < 0) {
			pitr_log_error("could not read from \"%s\": %s", sp.label, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (keep)
			used += (size_t)n;
	}
	out[used] = '\0';
	if (reap(sp.pid, sp.label, &status) != 0) {
		sp.pid = -1;    /* not ours to signal any more */
		goto out;
	}
	sp.pid = -1;
	if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	} else {
		check_status(sp.label, status);
		rc = -1;
	}
out:
	for (int end_idx = 0; end_idx < 2; end_idx++)
		if (outpipe[end_idx] >= 0)
			close(outpipe[end_idx]);
	pitr_spawn_kill(&sp);
	return rc;
}
