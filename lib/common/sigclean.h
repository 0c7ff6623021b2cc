/*
 * sigclean.h - what a fatal signal must undo: the run's temporary files
 * and the helper programs it started.
 *
 * A fixed table, edited with signals blocked and read by the handler with
 * only async-signal-safe calls.  pitr_sigclean_install() makes SIGTERM,
 * SIGINT, SIGQUIT and SIGHUP remove every registered path (files first,
 * then directories, in two passes whatever the slots' order), send SIGTERM to every
 * registered child, write one line to stderr (and the log file) and
 * _exit(1): PostgreSQL sees an ordinary failure, never a signal death or
 * an exit status above 125.  What SIGKILL leaves, the next run's
 * tmpfile.h sweep removes.
 */
#ifndef PITR_SIGCLEAN_H
#define PITR_SIGCLEAN_H

#include <stdbool.h>
#include <sys/types.h>

/* Entries the table holds; a run has one temporary file per destination
 * and one child per parallel job, well below this. */
#define PITR_SIGCLEAN_SLOTS 64

/* Register a path to remove (rmdir when `is_dir`).  Returns the slot, or
 * -1 when the table is full or the path too long (then only the next
 * run's sweep removes it; not an error). */
int pitr_sigclean_add_path(const char *path, bool is_dir);

/* Register a child to send SIGTERM to.  Returns the slot or -1. */
int pitr_sigclean_add_pid(pid_t pid);

/* Forget the slot of a child (after it is reaped); an unknown pid is
 * accepted. */
void pitr_sigclean_remove_pid(pid_t pid);

/* Forget a slot (after a rename, a removal or a reap); -1 is accepted. */
void pitr_sigclean_remove(int slot);

/* In a forked child that does not exec (a worker with handlers of its
 * own): forget the parent's paths and children, which are not its to
 * remove or signal. */
void pitr_sigclean_forget_all(void);

/* True when a path is registered: a file is being written. */
bool pitr_sigclean_busy(void);

/* Install the handlers for SIGTERM, SIGINT, SIGQUIT and (unless
 * `keep_hup`, for a program whose SIGHUP is documented as ignored)
 * SIGHUP; `progname` starts the line the handler writes.  Returns 0 or -1
 * (logged). */
int pitr_sigclean_install(const char *progname, bool keep_hup);

/* The program name the handlers' line starts with (pitr_sigclean_install()
 * sets it too), for a program with handlers of its own. */
void pitr_sigclean_set_name(const char *progname);

/* Undo and _exit(1), as the handlers do; async-signal-safe, for handlers
 * of callers with their own signal logic. */
void pitr_sigclean_die(int signo) __attribute__((noreturn));

/* The number of registered files pitr_sigclean_die() would remove now;
 * for tests. */
int pitr_sigclean_count(void);

#endif
