/*
 * prefetch.c - pitr-restore -pf N: after a segment is handed over, a
 * forked worker decompresses the next N segments the archive holds into
 * PITR_RESTORE_PREFETCH_DIR beside %p (checked, fsync'ed), so that the
 * next call hands its segment over by a rename.  The server replays in one
 * process and waits for every restore command, so without this a
 * backlog's decompression adds to its replay time; with it the work moves
 * to another core, and from an object store the download too.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/sigclean.h"
#include "repo/archdir.h"

/* The worker's lock, inside the prefetch dir: one worker at a time. */
#ifdef PITR_COVERAGE
void __gcov_dump(void);     /* libgcov's, in coverage builds only */
#endif

#define PREFETCH_LOCK "worker.pid"

/* Run by the worker before it fills the window, and by a call for a
 * history file. */
void
pitr_restore_prefetch_prune(struct restore_run *run, bool keep_window)
{
	uint64_t wanted = 0;
	struct dirent *de;
	DIR *dir = opendir(run->prefetch_dir);

	if (dir == NULL) {
		if (errno != ENOENT)
			pitr_log_error("could not open directory \"%s\": %s", run->prefetch_dir,
				       strerror(errno));
		return;
	}
	if (keep_window)
		wanted = pitr_wal_segno(&run->name, run->seg_size);
	while ((de = readdir(dir)) != NULL) {
		struct pitr_wal_name name;
		bool drop;

		if (strncmp(de->d_name, PITR_FSUTIL_TMP_PREFIX, strlen(PITR_FSUTIL_TMP_PREFIX)) == 0) {
			drop = keep_window;
		} else if (pitr_wal_parse(de->d_name, &name) == PITR_WAL_SEGMENT) {
			drop = !keep_window || name.tli != run->name.tli;
			if (!drop) {
				uint64_t segno = pitr_wal_segno(&name, run->seg_size);

				drop = segno <= wanted || segno > wanted + (uint64_t)run->opts->prefetch;
			}
		} else {
			drop = false;
		}
		if (drop && unlinkat(dirfd(dir), de->d_name, 0) != 0 && errno != ENOENT)
			pitr_log_error("could not remove \"%s/%s\": %s", run->prefetch_dir, de->d_name,
				       strerror(errno));
	}
	closedir(dir);
}

/* Decompress the archive's `walname` (`name`) to `final` in the prefetch
 * dir, checked and fsync'ed.  Returns 0, 1 when the archive does not hold
 * it (yet), -1 after logging. */
static int
prefetch_one(struct restore_run *run, const struct pitr_wal_name *name, const char *walname,
	     const char *final)
{
	double started = pitr_clock_ms();
	struct pitr_walhdr hdr;
	struct pitr_tmp tmp = { .fd = -1, .slot = -1 };
	struct restore_file src;
	int found;
	int rc = -1;

	found = pitr_restore_find(run, walname, &src);
	if (found <= 0)
		return found == 0 ? 1 : -1;
	if (pitr_restore_handover_to_temp(run, &src, run->prefetch_dir, walname, name, &hdr,
					  &tmp) != 0)
		goto out;
	if (pitr_restore_got_term)
		goto out;
	if (rename(tmp.path, final) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", tmp.path, final,
			       strerror(errno));
		goto out;
	}
	pitr_tmp_release(&tmp);
	pitr_log_verbose("prefetched \"%s\" from \"%s\" in %.1f ms", walname, src.path,
			 pitr_clock_ms() - started);
	rc = 0;
out:
	pitr_tmp_discard(&tmp);
	pitr_restore_file_free(&src);
	return rc;
}

/* The worker: under the prefetch dir's lock, drop what is stale, then
 * decompress the -pf segments after %f that the archive holds. */
static void
prefetch_work(struct restore_run *run)
{
	struct pitr_wal_name next = run->name;
	struct pitr_pidfile *lock = NULL;
	struct sigaction old_quit;
	char *lock_path = NULL;
	bool busy;
	int devnull;

	/* The parent removes its --pid-file when it returns. */
	pitr_pidfile_forget(run->pidfile);
	run->pidfile = NULL;
	/* The server's immediate shutdown sends the group SIGQUIT: end as on
	 * SIGTERM, leaving no temporary file. */
	(void)pitr_restore_on_term_signal(SIGQUIT, &old_quit);
	/* Whoever reads the restore command's output must not wait for the
	 * worker (the log, on stderr without -l, stays). */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		(void)dup2(devnull, STDIN_FILENO);
		(void)dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
	if (mkdir(run->prefetch_dir, 0700) != 0 && errno != EEXIST) {
		pitr_log_error("could not create directory \"%s\": %s", run->prefetch_dir,
			       strerror(errno));
		return;
	}
	lock_path = pitr_fsutil_join(run->prefetch_dir, PREFETCH_LOCK);
	if (lock_path == NULL)
		return;
	lock = pitr_pidfile_try(lock_path, &busy);
	free(lock_path);
	if (lock == NULL)
		return;  /* another worker is at it, or the failure is logged */
	pitr_restore_prefetch_prune(run, true);
	for (int ahead = 0; ahead < run->opts->prefetch && !pitr_restore_got_term; ahead++) {
		char walname[PITR_WAL_NAME_MAX];
		char *path;
		int rc = 0;

		if (pitr_wal_next(&next, run->seg_size) != 0)
			break;
		pitr_wal_format(walname, &next);
		path = pitr_fsutil_join(run->prefetch_dir, walname);
		if (path == NULL)
			break;
		if (access(path, F_OK) != 0)
			rc = prefetch_one(run, &next, walname, path);
		free(path);
		if (rc != 0)
			break;
	}
	pitr_pidfile_release(lock);
}

/* The worker stays in the caller's process group, so the server's
 * shutdown signals reach it as they reach the restore command. */
void
pitr_restore_prefetch_start(struct restore_run *run)
{
	pid_t pid;

	/* An object store's connection must not be shared: the parent, which
	 * returns now, would close it under the worker. */
	pitr_restore_sources_disconnect(run);
	pid = fork();

	if (pid < 0) {
		pitr_log_info("could not start prefetching: %s", strerror(errno));
		return;
	}
	if (pid > 0)
		return;
	/* What the parent registered (the -h copies' directory, a copy being
	 * written) is the parent's to remove: the worker's handler undoes only
	 * the worker's own temporary files. */
	pitr_sigclean_forget_all();
	pitr_tmp_release(&run->hook_tmp);
	run->hook_dir = NULL;
	prefetch_work(run);
	pitr_restore_run_free(run);
	pitr_log_close();
#ifdef PITR_COVERAGE
	/* _exit skips the atexit handler that writes gcov's counts. */
	__gcov_dump();
#endif
	_exit(0);
}


/* Whether `pid` runs pitr-restore (or omnipitr-restore, or libtool's
 * lt-pitr-restore): the lock file's old content may name a dead worker
 * for a moment after a new one locked it, and that pid may be reused. */
static bool
is_restore(pid_t pid)
{
	char path[64], *comm;
	size_t len;
	bool yes;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((comm = pitr_fsutil_read_small(path, 64, &len)) == NULL)
		return false;
	yes = strstr(comm, "restor") != NULL;
	free(comm);
	return yes;
}

/* Hold `lock_path` (a worker's lock) in *fd, stopping its holder first:
 * the worker ends on SIGTERM without leaving a temporary file, and its
 * lock goes with it.  A lock file that does not exist means no worker
 * (*fd stays -1).  Returns 0, or -1 after logging. */
static int
stop_worker(const char *lock_path, int *fd)
{
	char *text;
	size_t len;

	*fd = open(lock_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 && errno == ENOENT)
		return 0;
	if (*fd < 0) {
		pitr_log_error("could not open \"%s\": %s", lock_path, strerror(errno));
		return -1;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	/* Held: the pid is in the file (libbsd writes it once locked; an
	 * empty file only means the worker just started, and it ends by
	 * itself after its -pf segments). */
	text = pitr_fsutil_read_small(lock_path, 64, &len);
	if (text != NULL) {
		long pid = strtol(text, NULL, 10);

		if (pid > 1 && is_restore((pid_t)pid))
			(void)kill((pid_t)pid, SIGTERM);
		free(text);
	}
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			pitr_log_error("could not lock \"%s\": %s", lock_path, strerror(errno));
			close(*fd);
			*fd = -1;
			return -1;
		}
	}
	return 0;
}

int
pitr_restore_prefetch_remove(const char *wal_dir, bool *removed)
{
	char *dir = pitr_fsutil_join(wal_dir, PITR_RESTORE_PREFETCH_DIR), *lock_path = NULL;
	struct stat st;
	int fd = -1, rc = -1;

	if (removed != NULL)
		*removed = false;
	if (dir == NULL)
		return -1;
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = 0;  /* none (a file of that name is not ours to remove) */
		goto out;
	}
	if ((lock_path = pitr_fsutil_join(dir, PREFETCH_LOCK)) == NULL ||
	    stop_worker(lock_path, &fd) != 0 || pitr_fsutil_remove_tree(dir) != 0)
		goto out;
	if (removed != NULL)
		*removed = true;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(lock_path);
	free(dir);
	return rc;
}
