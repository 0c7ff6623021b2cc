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
#include <sys/file.h>
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

/* A pid names a live process other than this one (a run of this or of
 * an older pitrkit, which held no lock; or a reused pid): refusing is
 * safe.  This process's own pid in a leftover is a previous boot's. */
static bool
pid_alive(long pid)
{
	return pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno != ESRCH);
}

enum owner_state { OWNER_DEAD, OWNER_ALIVE, OWNER_NONE };

/* -x's owner: alive while a process holds an flock on its owner file (a
 * current pitrkit's run) or the pid the file names is alive (an older
 * pitrkit's run held none).  OWNER_NONE: no owner file or no pid in it;
 * the dir is made under a temporary name with its owner file inside and
 * renamed into place, so such a dir was not made by a current pitrkit
 * (by hand, or -x naming something else): never ours to remove. */
static enum owner_state
owner_state(const char *dir, long *pid)
{
	char *of = pitr_fsutil_join(dir, PITR_BACKUP_OWNER_FILE);
	enum owner_state st = OWNER_DEAD;
	int fd;

	*pid = 0;
	if (of == NULL)
		return OWNER_ALIVE;   /* refusing is safe */
	*pid = owner_pid(of);
	fd = open(of, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		st = errno == ENOENT ? OWNER_NONE : OWNER_ALIVE;
	else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		st = OWNER_ALIVE;  /* EWOULDBLOCK: held; anything else: not ours to judge */
	else if (pid_alive(*pid))
		st = OWNER_ALIVE;
	else if (*pid == 0)
		st = OWNER_NONE;
	if (fd >= 0)
		close(fd);
	free(of);
	return st;
}

/* Empty a flat dir (-x holds WAL files and the owner file) and remove it. */
static int
remove_flat(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = pitr_fsutil_join(dir, de->d_name);
		if (p == NULL || (unlink(p) != 0 && errno != ENOENT)) {
			if (p != NULL)
				pitr_log_error("could not remove \"%s\": %s", p, strerror(errno));
			rc = -1;
		}
		free(p);
	}
	closedir(d);
	if (rc == 0 && rmdir(dir) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\": %s", dir, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* -x's parent and the prefix of its siblings ("xlogs."), malloc'd. */
static int
split_xlogs(const char *x, char **parent, char **prefix)
{
	const char *slash = strrchr(x, '/');

	*parent = slash == x ? pitr_xstrdup("/") : pitr_xasprintf("%.*s", (int)(slash - x), x);
	*prefix = pitr_xasprintf("%s.pitr-", slash + 1);
	return *parent != NULL && *prefix != NULL ? 0 : -1;
}

/* The pid in a leftover's name after "-x.pitr-new." or "-x.pitr-done."
 * (the run that made or renamed it), or 0: not one of ours. */
static long
leftover_pid(const char *rest)
{
	const char *num = strncmp(rest, "new.", 4) == 0 ? rest + 4 :
			  strncmp(rest, "done.", 5) == 0 ? rest + 5 : NULL;
	char *end;
	long pid;

	if (num == NULL || *num < '1' || *num > '9')
		return 0;
	errno = 0;
	pid = strtol(num, &end, 10);
	return errno == 0 && *end == '\0' ? pid : 0;
}

/* What a dead run left next to -x: "-x.pitr-new.PID" (killed before its
 * dir was in place, maybe before its owner file existed) and
 * "-x.pitr-done.PID" (killed after renaming it away).  Removed only when
 * both the run its name gives and its owner file's are gone (lock and
 * pid): their WAL is never the only copy (pitr-archive delivers it to the
 * archive too) and a published backup holds its own. */
static int
sweep_leftovers(const char *x)
{
	char *parent = NULL, *prefix = NULL;
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	if (split_xlogs(x, &parent, &prefix) != 0)
		goto out;
	if ((d = opendir(parent)) == NULL) {
		rc = 0;   /* mkdir names the problem */
		goto out;
	}
	rc = 0;
	while ((de = readdir(d)) != NULL) {
		char *path;
		long pid, npid;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 ||
		    (npid = leftover_pid(de->d_name + strlen(prefix))) == 0 || pid_alive(npid))
			continue;
		if ((path = pitr_fsutil_join(parent, de->d_name)) == NULL) {
			rc = -1;
			continue;
		}
		if (owner_state(path, &pid) != OWNER_ALIVE && remove_flat(path) == 0)
			pitr_log_info("removed \"%s\", left by backup process %ld, which is gone",
				      path, npid);
		free(path);
	}
out:
	if (d != NULL)
		closedir(d);
	free(parent);
	free(prefix);
	return rc;
}

/* A new dir `tmp` holding the owner file, locked through run->xlog_lock_fd
 * and naming this process, made durable before it is renamed to -x. */
static int
make_owned(struct bk_run *run, const char *tmp)
{
	char buf[32], *of;

	if (mkdir(tmp, 0700) != 0) {
		pitr_log_error("could not create --xlogs dir \"%s\": %s", run->opts->xlogs, strerror(errno));
		return -1;
	}
	if ((of = pitr_fsutil_join(tmp, PITR_BACKUP_OWNER_FILE)) == NULL)
		return -1;
	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	run->xlog_lock_fd = open(of, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (run->xlog_lock_fd < 0 || flock(run->xlog_lock_fd, LOCK_EX | LOCK_NB) != 0 ||
	    pitr_io_write_all(run->xlog_lock_fd, buf, strlen(buf)) != 0 ||
	    fsync(run->xlog_lock_fd) != 0) {
		pitr_log_error("could not write \"%s\": %s", of, strerror(errno));
		free(of);
		return -1;
	}
	free(of);
	return pitr_fsutil_fsync_dir(tmp);
}

static int
fsync_parent(const char *x)
{
	char *parent = NULL, *prefix = NULL;
	int rc = split_xlogs(x, &parent, &prefix) == 0 ? pitr_fsutil_fsync_dir(parent) : -1;

	free(parent);
	free(prefix);
	return rc;
}

/* The -x a dead run left, out of the way: renamed (so pitr-archive stops
 * writing into it), then removed.  Another run may have taken the dead
 * one over and put its own live -x in place between our check and the
 * rename: what was renamed is checked again, and put back if alive. */
static int
take_over(const char *x, long pid)
{
	char *away = pitr_xasprintf("%s.pitr-done.%ld", x, (long)getpid());
	int rc = -1;

	pitr_log_info("--xlogs dir \"%s\" was left by backup process %ld, which is gone: "
		      "taking it over", x, pid);
	if (away == NULL)
		return -1;
	if (rename(x, away) != 0) {
		if (errno == ENOENT)
			rc = 0;   /* gone meanwhile: nothing to remove */
		else
			pitr_log_error("could not rename \"%s\" to \"%s\": %s", x, away,
				       strerror(errno));
	} else if (owner_state(away, &pid) == OWNER_DEAD)
		rc = remove_flat(away);
	else if (rename(away, x) != 0)
		pitr_log_error("--xlogs dir \"%s\" was replaced by another backup's meanwhile and is "
			       "left as \"%s\": could not rename it back: %s", x, away, strerror(errno));
	else
		pitr_log_error("--xlogs dir \"%s\" was replaced by another backup's meanwhile: "
			       "left to it", x);
	free(away);
	return rc;
}

/* An existing -x: refused unless a dead run of a current pitrkit made it. */
static int
refuse_existing(const char *x, long *pid)
{
	switch (owner_state(x, pid)) {
	case OWNER_DEAD:
		return 0;
	case OWNER_NONE:
		pitr_log_error("--xlogs dir \"%s\" already exists and holds no owner file (%s) "
			       "naming a backup: remove it if no backup is running", x,
			       PITR_BACKUP_OWNER_FILE);
		break;
	default:
		if (*pid > 0)
			pitr_log_error("--xlogs dir \"%s\" already exists: backup process %ld is "
				       "running", x, *pid);
		else
			pitr_log_error("--xlogs dir \"%s\" already exists and its owner file is "
				       "held or unreadable: another backup is running", x);
	}
	return -1;
}

/* Made under a temporary name with its owner file locked inside, then
 * renamed into place: -x never exists without a live owner's lock, so
 * a run killed at any instant leaves nothing that stops the next one. */
int
pitr_backup_xlogdir_make(struct bk_run *run)
{
	const char *x = run->opts->xlogs;
	char *tmp;
	int rc = -1;

	if (x == NULL || x[0] != '/') {
		pitr_log_error(x == NULL ? "no --xlogs dir given: it must be the --dst-backup dir of "
			       "pitr-archive%s" : "--xlogs \"%s\" must be an absolute path", x ? x : "");
		return -1;
	}
	if (sweep_leftovers(x) != 0 ||
	    (tmp = pitr_xasprintf("%s.pitr-new.%ld", x, (long)getpid())) == NULL)
		return -1;
	if (make_owned(run, tmp) != 0)
		goto out;
	for (int tries = 0; rename(tmp, x) != 0; tries++) {
		long pid;

		if ((errno != ENOTEMPTY && errno != EEXIST) || tries > 0) {
			pitr_log_error("could not rename \"%s\" to \"%s\": %s", tmp, x, strerror(errno));
			goto out;
		}
		if (refuse_existing(x, &pid) != 0)
			goto out;
		if (take_over(x, pid) != 0)
			goto out;
	}
	run->xlog_created = true;
	rc = fsync_parent(x);
out:
	if (!run->xlog_created) {
		(void)remove_flat(tmp);
		if (run->xlog_lock_fd >= 0)
			close(run->xlog_lock_fd);
		run->xlog_lock_fd = -1;
	}
	free(tmp);
	return rc;
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
	if (run->xlog_lock_fd >= 0)
		close(run->xlog_lock_fd);  /* the lock goes once the dir is gone */
	run->xlog_lock_fd = -1;
}
