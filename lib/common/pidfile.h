/*
 * pidfile.h - one running copy at a time, through libbsd's pidfile_open().
 *
 * The file is locked for the life of the process; a second copy fails with
 * a message naming the running pid, and a stale file left by a dead process
 * is taken over (the lock died with it).
 */
#ifndef PITR_PIDFILE_H
#define PITR_PIDFILE_H

#include <stdbool.h>

struct pitr_pidfile;

/* Create and lock `path`, writing our pid.  Returns NULL after logging
 * ("another copy is running (pid N)" or the system error). */
struct pitr_pidfile *pitr_pidfile_acquire(const char *path);

/* As pitr_pidfile_acquire(), for a job that simply does not run while
 * another copy does: a file held by another copy sets *busy and logs
 * nothing.  Returns NULL (any other failure logged) or the lock. */
struct pitr_pidfile *pitr_pidfile_try(const char *path, bool *busy);

/* In a forked child: let go of the inherited lock without removing the
 * file, which the parent still holds and will remove; accepts NULL. */
void pitr_pidfile_forget(struct pitr_pidfile *pf);

/* Remove the file and release; accepts NULL. */
void pitr_pidfile_release(struct pitr_pidfile *pf);

#endif
