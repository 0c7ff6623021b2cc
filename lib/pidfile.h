/*
 * pidfile.h - one running copy at a time, through libbsd's pidfile_open().
 *
 * The file is locked for the life of the process; a second copy fails with
 * a message naming the running pid, and a stale file left by a dead process
 * is taken over (the lock died with it).
 */
#ifndef PITR_PIDFILE_H
#define PITR_PIDFILE_H

struct pitr_pidfile;

/* Create and lock `path`, writing our pid.  Returns NULL after logging
 * ("another copy is running (pid N)" or the system error). */
struct pitr_pidfile *pitr_pidfile_acquire(const char *path);

/* Remove the file and release; accepts NULL. */
void pitr_pidfile_release(struct pitr_pidfile *pf);

#endif
