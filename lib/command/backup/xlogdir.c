/*
 * xlogdir.c - keeping the WAL a backup needs while it runs: on a primary
 * the -x dir that pitr-archive --dst-backup fills, on a standby the removal
 * pause trigger that keeps the segments in the archive it restores from.
 * Each holds the pid of the backup that made it (PITR_BACKUP_OWNER_FILE in
 * the -x dir, the trigger's own text), so that a run finding one a killed
 * backup left takes it over, and never one a live backup holds.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"

/* The pid in an owner file (-x dir, pause trigger): > 0, or 0 when the
 * file is missing or holds no pid (not one of ours). */
static long
owner_pid(const char *path)
{
	size_t len;
	char *buf = pitr_fsutil_read_small(path, 64, &len), *end;
	long pid;

	if (buf == NULL)
		return 0;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || pid <= 0)
		pid = 0;
	free(buf);
	return pid;
}

/* The owner is gone for sure: no such process.  A pid reused since, or a
 * process of another user (EPERM), counts as alive: refusing is safe. */
static bool
owner_dead(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int
write_owner(const char *dir, const char *name, bool replace)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	return pitr_fsutil_publish_buffer(dir, name, buf, strlen(buf), replace, NULL);
}

/* A dir left by a killed backup (its owner file names a process that is
 * gone) is removed and made again; any other existing dir is refused. */
int
pitr_backup_xlogdir_make(struct bk_run *run)
{
	const char *x = run->opts->xlogs;
	bool retried = false;

	if (x == NULL || x[0] != '/') {
		pitr_log_error(x == NULL ? "no --xlogs dir given: it must be the --dst-backup dir of "
			       "pitr-archive%s" : "--xlogs \"%s\" must be an absolute path", x ? x : "");
		return -1;
	}
	while (mkdir(x, 0700) != 0) {
		char *of;
		long pid;

		if (errno != EEXIST || retried) {
			pitr_log_error("could not create --xlogs dir \"%s\": %s", x, strerror(errno));
			return -1;
		}
		of = pitr_fsutil_join(x, PITR_BACKUP_OWNER_FILE);
		if (of == NULL)
			return -1;
		pid = owner_pid(of);
		free(of);
		if (!owner_dead(pid)) {
			if (pid > 0)
				pitr_log_error("--xlogs dir \"%s\" already exists: backup process %ld is "
					       "running", x, pid);
			else
				pitr_log_error("--xlogs dir \"%s\" already exists: another backup is running, "
					       "or one was killed (remove it if none runs)", x);
			return -1;
		}
		pitr_log_info("--xlogs dir \"%s\" was left by backup process %ld, which is gone: "
			      "taking it over", x, pid);
		run->xlog_created = true;
		pitr_backup_xlogdir_remove(run);
		free(run->xlog_moved);
		run->xlog_moved = NULL;
		if (run->xlog_created) {
			run->xlog_created = false;  /* not ours to remove at the end */
			return -1;                  /* logged */
		}
		retried = true;
	}
	run->xlog_created = true;
	return write_owner(x, PITR_BACKUP_OWNER_FILE, false);
}

/* A trigger that exists already is another process's pause and is left
 * alone, unless its owner is gone (a killed backup): then it becomes ours. */
int
pitr_backup_xlogdir_claim_trigger(struct bk_run *run)
{
	const char *path = run->opts->pause_trigger;
	char buf[32], *dir, *slash;
	int fd;
	long pid;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		run->trigger_owned = true;
		if (pitr_io_write_all(fd, buf, strlen(buf)) != 0 || fsync(fd) != 0) {
			pitr_log_error("could not write removal pause trigger \"%s\": %s", path,
				       strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		pitr_log_verbose("created removal pause trigger \"%s\"", path);
		return 0;
	}
	if (errno != EEXIST) {
		pitr_log_error("could not create removal pause trigger \"%s\": %s", path,
			       strerror(errno));
		return -1;
	}
	pid = owner_pid(path);
	if (!owner_dead(pid)) {
		pitr_log_info("removal pause trigger \"%s\" exists already: left for its owner", path);
		return 0;
	}
	dir = pitr_xstrdup(path);
	if (dir == NULL)
		return -1;
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	pitr_log_info("removal pause trigger \"%s\" was left by backup process %ld, which is gone: "
		      "taking it over", path, pid);
	fd = write_owner(slash ? dir : ".", slash ? strrchr(path, '/') + 1 : path, true);
	free(dir);
	if (fd != 0)
		return -1;
	run->trigger_owned = true;
	return 0;
}

void
pitr_backup_xlogdir_release_trigger(struct bk_run *run)
{
	if (!run->trigger_owned)
		return;
	if (unlink(run->opts->pause_trigger) != 0 && errno != ENOENT)
		pitr_log_error("could not remove removal pause trigger \"%s\": %s",
			       run->opts->pause_trigger, strerror(errno));
	else
		pitr_log_verbose("removed removal pause trigger \"%s\"", run->opts->pause_trigger);
	run->trigger_owned = false;
}

/* pitr-archive may be copying into -x: after the rename it sees no dir
 * and stops. */
int
pitr_backup_xlogdir_move(struct bk_run *run)
{
	if (run->xlog_moved != NULL || !run->xlog_created)
		return 0;
	run->xlog_moved = pitr_xasprintf("%s.pitr-done.%ld", run->opts->xlogs, (long)getpid());
	if (run->xlog_moved == NULL)
		return -1;
	if (rename(run->opts->xlogs, run->xlog_moved) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", run->opts->xlogs,
			       run->xlog_moved, strerror(errno));
		free(run->xlog_moved);
		run->xlog_moved = NULL;
		run->xlog_created = false;  /* said once: the clean-up must not try again */
		return -1;
	}
	return 0;
}

void
pitr_backup_xlogdir_remove(struct bk_run *run)
{
	DIR *d;
	struct dirent *de;

	if (pitr_backup_xlogdir_move(run) != 0 || run->xlog_moved == NULL)
		return;
	d = opendir(run->xlog_moved);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *p;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			p = pitr_fsutil_join(run->xlog_moved, de->d_name);
			if (p != NULL && unlink(p) != 0)
				pitr_log_error("could not remove \"%s\": %s", p, strerror(errno));
			free(p);
		}
		closedir(d);
	}
	if (rmdir(run->xlog_moved) != 0)
		pitr_log_error("could not remove \"%s\": %s", run->xlog_moved, strerror(errno));
	run->xlog_created = false;
}
