/*
 * spawn.h - run a helper program (rsync, a --dst-pipe program) safely.
 *
 * Programs run with execvp(3) on an argument vector built in code, never
 * through a shell.  Their exit status is checked and a failure logged with
 * the program's name and status.  SIGPIPE is ignored in the parent while a
 * child's stdin pipe is written, so a child that exits early gives EPIPE,
 * not a signal death of the archiver (PostgreSQL treats that as fatal).
 */
#ifndef PITR_SPAWN_H
#define PITR_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct pitr_spawn {
	pid_t pid;
	int stdin_fd;       /* write end of the child's stdin, or -1 */
	char *label;        /* program name for messages */
};

/*
 * Start argv[0] (searched on PATH) with argv.  If `stdin_pipe` is true the
 * child's stdin is a pipe whose write end is sp->stdin_fd; otherwise the
 * child's stdin is `stdin_fd` if >= 0, else /dev/null.  stdout goes to
 * stderr (PostgreSQL's log); stderr is inherited.  Returns 0, or -1 after
 * logging (including a program that cannot be executed, reported as
 * such rather than as a generic exit status).
 */
int pitr_spawn_start(struct pitr_spawn *sp, char *const argv[], bool stdin_pipe, int stdin_fd);

/*
 * Like pitr_spawn_start() without a stdin pipe, but with stdout and stderr
 * redirected too: the child's stdin is `stdin_fd` (/dev/null if -1), its
 * stdout `stdout_fd` (our stderr if -1) and its stderr `stderr_fd` (ours if
 * -1).  All stay owned by the caller, who may close them once this returns.
 * Returns 0, or -1 after logging.
 */
int pitr_spawn_start_redirect(struct pitr_spawn *sp, char *const argv[], int stdin_fd,
			      int stdout_fd, int stderr_fd);

/* Write all of buf to the child's stdin pipe.  Returns 0 or -1 (logged). */
int pitr_spawn_write(struct pitr_spawn *sp, const void *buf, size_t len);

/* Close the stdin pipe (if any) and wait for the child.  Returns 0 if it
 * exited with status 0, or -1 after logging how it ended. */
int pitr_spawn_wait(struct pitr_spawn *sp);

/* Close the stdin pipe (if any) and wait for the child without judging
 * how it ended, for callers that report the failure with more context.
 * Returns 0 with the wait status in *status, or -1 (logged) if waitpid
 * failed. */
int pitr_spawn_reap(struct pitr_spawn *sp, int *status);

/* How long a child that outlived its timeout gets after SIGTERM before
 * SIGKILL. */
#define PITR_SPAWN_KILL_GRACE_MS 5000

/*
 * pitr_spawn_reap() with a limit: a child that neither ends nor makes
 * progress for `timeout_ms` gets SIGTERM, then SIGKILL after
 * PITR_SPAWN_KILL_GRACE_MS, and is reaped.  `progress` (may be NULL) is
 * asked every poll and returns true when the child moved on since the last
 * call, which restarts the clock.  Returns 0 with *status set, 1 when the
 * child was killed for the timeout (*status says how it ended; not
 * logged: the caller names the program and the limit), -1 (logged) when
 * waitpid failed.
 */
int pitr_spawn_reap_timed(struct pitr_spawn *sp, int *status, long timeout_ms,
			  bool (*progress)(void *arg), void *arg);

/* "exit status N" or "terminated by signal N (Name)" for a wait status. */
void pitr_spawn_status_text(int status, char *buf, size_t size);

/* Kill (SIGTERM) and reap a child that is no longer wanted; accepts a
 * never-started or already-reaped spawn. */
void pitr_spawn_kill(struct pitr_spawn *sp);

/* Run to completion: start with no stdin and wait.  Returns 0 or -1. */
int pitr_spawn_run(char *const argv[]);

/* Run argv and capture up to `size`-1 bytes of its stdout into `out`
 * (NUL-terminated).  Returns the exit status (0..255), or -1 after logging
 * if it could not be run or died of a signal. */
int pitr_spawn_capture(char *const argv[], char *out, size_t size);

/* For tests: called in the child first thing after fork (every signal
 * still blocked, the parent's handlers still in place). */
extern void (*pitr_spawn_pre_exec_hook)(void);

#endif
