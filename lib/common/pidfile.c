/*
 * pidfile.c - one running copy at a time, through libbsd's pidfile_open() (see pidfile.h).
 *
 * Line coverage: ENOMEM, ftruncate failure and a short pwrite are not
 * provoked by the tests; the "running with pid" message is logged in a
 * forked child whose coverage data is not kept.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <bsd/libutil.h>

#include "common/log.h"
#include "common/pidfile.h"
#include "common/xalloc.h"

/* libbsd's handle holds the locked descriptor; the lock lasts as long as
 * it stays open, and dies with the process however it ends. */
struct pitr_pidfile {
	struct pidfh *pfh;
};

/*
 * Write our pid into the locked file, as pidfile_write() would: decimal
 * with no newline, since libbsd's reader (which names the running copy to
 * a second one) rejects anything after the digits.  Not pidfile_write()
 * itself: when that fails, libbsd invalidates the handle without freeing
 * it, and no call can free it afterwards.  Returns 0, or -1 with errno set.
 */
static int
write_pid(int fd)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	ssize_t n;

	if (ftruncate(fd, 0) != 0)
		return -1;
	do
		n = pwrite(fd, buf, (size_t)len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n != len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* pitr_pidfile_acquire() and _try(): with `busy` not NULL, a file another
 * copy holds sets *busy and is not logged. */
static struct pitr_pidfile *
acquire(const char *path, bool *busy)
{
	struct pitr_pidfile *pf = NULL;
	struct pitr_pidfile *ret = NULL;
	pid_t otherpid = -1;
	int saved;

	if (busy != NULL)
		*busy = false;
	if ((pf = pitr_xcalloc(1, sizeof(*pf))) == NULL)
		goto out;
	pf->pfh = pidfile_open(path, 0644, &otherpid);
	if (pf->pfh == NULL) {
		saved = errno;
		if (saved == EEXIST && busy != NULL)
			*busy = true;
		else if (saved == EEXIST && otherpid > 0)
			pitr_log_error("another copy is already running with pid %d (pid file \"%s\")",
				       (int)otherpid, path);
		else if (saved == EEXIST)
			/* Locked, but the other copy has not written its pid yet
			 * (libbsd gave up waiting for it). */
			pitr_log_error("another copy is already running (pid file \"%s\")", path);
		else
			pitr_log_error("could not create pid file \"%s\": %s", path, strerror(saved));
		goto out;
	}
	if (write_pid(pidfile_fileno(pf->pfh)) != 0) {
		saved = errno;
		pitr_log_error("could not write pid file \"%s\": %s", path, strerror(saved));
		/* Unlinks, unlocks and frees. */
		pidfile_remove(pf->pfh);
		pf->pfh = NULL;
		goto out;
	}
	ret = pf;
	pf = NULL;
out:
	free(pf);
	return ret;
}

struct pitr_pidfile *
pitr_pidfile_acquire(const char *path)
{
	return acquire(path, NULL);
}

struct pitr_pidfile *
pitr_pidfile_try(const char *path, bool *busy)
{
	return acquire(path, busy);
}

void
pitr_pidfile_forget(struct pitr_pidfile *pf)
{
	if (pf == NULL)
		return;
	/* Closes our descriptor and frees; the file and the lock held through
	 * the parent's descriptor stay. */
	pidfile_close(pf->pfh);
	free(pf);
}

void
pitr_pidfile_release(struct pitr_pidfile *pf)
{
	if (pf == NULL)
		return;
	/* Unlinks, then closes (dropping the lock) and frees the handle. */
	pidfile_remove(pf->pfh);
	free(pf);
}
