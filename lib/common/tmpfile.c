/*
 * tmpfile.c - locked temporary files, and the sweep of dead ones (see tmpfile.h).
 *
 * Both sides re-check the name after taking the lock, which closes the
 * races between them: a writer whose new file was swept before it could
 * lock it sees the name gone (or naming another file) and starts over
 * with a new name; a sweeper that locked a file just renamed away, or
 * replaced, sees the name no longer names what it locked and leaves it.
 *
 * Line coverage: allocation failures and fstat/flock errors other than
 * EWOULDBLOCK are not provoked by the tests.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/sigclean.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"

/* A writer whose file keeps being swept before it can lock it gives up
 * after this many names; each loss needs a sweeper at that instant, and
 * a busy machine lost 16 in a row to a sweeper that never paused. */
#define CREATE_TRIES 256

/* True if `path` still names the file open as `fd`. */
static bool
same_file(int fd, int dfd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && fstatat(dfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* flock(2)'s ways of saying the filesystem has no locks. */
static bool
no_locks(int err)
{
	return err == ENOLCK || err == EOPNOTSUPP || err == EINVAL;
}

/* One attempt: make the file or directory at t->path (a template), open
 * and lock it.  Returns 1 done, 0 swept meanwhile (try again), -1 error
 * (logged). */
static int
create_once(struct pitr_tmp *t, const char *dir)
{
	int fd;

	if (t->is_dir) {
		if (mkdtemp(t->path) == NULL)
			goto fail;
		fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		fd = mkostemp(t->path, O_CLOEXEC);
	}
	if (fd < 0)
		goto fail;
	/* A filesystem without locks (some FUSE and network ones) still gets
	 * the file: a sweep there cannot lock it either, so it takes it for a
	 * live one and leaves it, which is safe. */
	if (flock(fd, LOCK_EX) != 0 && !no_locks(errno)) {
		pitr_log_error("could not lock \"%s\": %s", t->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!same_file(fd, AT_FDCWD, t->path)) {
		close(fd);
		return 0;
	}
	t->fd = fd;
	return 1;
fail:
	pitr_log_error("could not create a temporary %s in \"%s\": %s",
		       t->is_dir ? "directory" : "file", dir, strerror(errno));
	return -1;
}

/* Open the existing file at t->path if it is a dead run's (no lock on
 * it) and only a temporary name: a writer killed between link(2) and
 * unlink(2) of fsutil's fallback left a second name of a published file,
 * which must go, not be truncated.  Returns the fd, locked, or -1. */
static int
open_dead(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    !same_file(fd, AT_FDCWD, path)) {
		close(fd);
		return -1;
	}
	if (st.st_nlink > 1) {
		(void)unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A file's first name is always DIR/.pitr-tmp.BASE.000000, so that the
 * retry of a killed run finds what that run left under the same name and
 * takes it over (unlocked, it is dead: truncated and written again)
 * without reading the whole directory, which in an archive of a million
 * segments costs more than archiving one.  Returns 1 with t->fd locked,
 * 0 when the name is a live writer's (or not a plain file): a random name
 * then.
 */
static int
claim_fixed(struct pitr_tmp *t)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = open(t->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

		if (fd >= 0) {
			if ((flock(fd, LOCK_EX | LOCK_NB) != 0 && !no_locks(errno)) ||
			    !same_file(fd, AT_FDCWD, t->path)) {
				close(fd);
				return 0;
			}
			t->fd = fd;
			return 1;
		}
		if (errno != EEXIST)
			return 0;
		if ((fd = open_dead(t->path)) < 0)
			continue;
		if (ftruncate(fd, 0) != 0) {
			close(fd);
			return 0;
		}
		pitr_log_info("took over \"%s\", left by an interrupted run", t->path);
		t->fd = fd;
		return 1;
	}
	return 0;
}

/* How create() names and registers what it makes. */
enum create_kind {
	CREATE_FILE,     /* DIR/.pitr-tmp.BASE.000000, else .XXXXXX; registered */
	CREATE_DIR,      /* DIR/.pitr-tmp.BASE.XXXXXX, a directory; registered */
	CREATE_RECORD,   /* DIR/BASEXXXXXX, a file; not registered */
};

static int
create_unmasked(struct pitr_tmp *t, const char *dir, const char *base, enum create_kind kind)
{
	bool is_dir = kind == CREATE_DIR;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->fd = t->slot = -1;
	t->is_dir = is_dir;
	if (kind == CREATE_FILE) {
		if ((t->path = pitr_xasprintf("%s/%s%s.000000", dir, PITR_FSUTIL_TMP_PREFIX,
					      base)) == NULL)
			return -1;
		rc = claim_fixed(t);
	}
	for (int tries = 0; rc == 0 && tries < CREATE_TRIES; tries++) {
		free(t->path);
		t->path = kind == CREATE_RECORD ?
			  pitr_xasprintf("%s/%sXXXXXX", dir, base) :
			  pitr_xasprintf("%s/%s%s.XXXXXX", dir, PITR_FSUTIL_TMP_PREFIX, base);
		if (t->path == NULL)
			return -1;
		rc = create_once(t, dir);
	}
	if (rc == 0)
		pitr_log_error("could not create a temporary %s in \"%s\": removed by another "
			       "program %d times", is_dir ? "directory" : "file", dir, CREATE_TRIES);
	if (rc != 1) {
		free(t->path);
		t->path = NULL;
		return -1;
	}
	/* mkostemp() and mkdtemp() ask for 0600 and 0700, but through the
	 * umask: make the mode exact. */
	if (fchmod(t->fd, is_dir ? 0700 : 0600) != 0) {
		pitr_log_error("could not change the mode of \"%s\": %s", t->path, strerror(errno));
		pitr_tmp_discard(t);
		return -1;
	}
	if (kind != CREATE_RECORD)
		t->slot = pitr_sigclean_add_path(t->path, is_dir);
	return 0;
}

/* A signal between the file's creation and its registration would find
 * no path to remove and leave the file: in this thread, signals wait
 * until it is registered, and the handler then removes it.  (A thread
 * that does not block them, a compressor's worker, can still take one
 * meanwhile; the next run sweeps what that leaves.) */
static int
create(struct pitr_tmp *t, const char *dir, const char *base, enum create_kind kind)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = create_unmasked(t, dir, base, kind);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int
pitr_tmp_create(struct pitr_tmp *t, const char *dir, const char *base)
{
	return create(t, dir, base, CREATE_FILE);
}

int
pitr_tmp_mkdir(struct pitr_tmp *t, const char *dir, const char *base)
{
	return create(t, dir, base, CREATE_DIR);
}

int
pitr_tmp_create_record(struct pitr_tmp *t, const char *dir, const char *prefix)
{
	return create(t, dir, prefix, CREATE_RECORD);
}

void
pitr_tmp_lock_host(char *buf, size_t size)
{
	if (gethostname(buf, size) != 0 || buf[0] == '\0' || strchr(buf, '\n') != NULL)
		snprintf(buf, size, "?");
	buf[size - 1] = '\0';
}

void
pitr_tmp_release(struct pitr_tmp *t)
{
	/* A zeroed handle (path NULL) owns neither slot 0 nor fd 0. */
	if (t->path != NULL) {
		pitr_sigclean_remove(t->slot);
		if (t->fd >= 0)
			close(t->fd);
	}
	t->slot = -1;
	t->fd = -1;
	free(t->path);
	t->path = NULL;
}

void
pitr_tmp_discard(struct pitr_tmp *t)
{
	/* Removed while still locked, so no sweeper can take a new file
	 * that got the name meanwhile for it. */
	if (t->path != NULL && t->fd >= 0) {
		if ((t->is_dir ? rmdir(t->path) : unlink(t->path)) != 0 && errno != ENOENT)
			pitr_log_error("could not remove \"%s\": %s", t->path, strerror(errno));
	}
	pitr_tmp_release(t);
}

/* --- finding dead ones ------------------------------------------------- */

/*
 * Is `name` in `dfd` a dead run's temporary file or directory (or, with
 * another `prefix`, record)?  Returns 1
 * with *fd open and locked (the caller closes it after removing, so no
 * writer can take the name meanwhile) and *st filled, 0 if not (live,
 * gone, not ours to judge).
 */
static int
probe(int dfd, const char *name, const char *prefix, int *fd, struct stat *st)
{
	*fd = -1;
	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return 0;
	*fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return 0;
	if (fstat(*fd, st) != 0 || !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) ||
	    flock(*fd, LOCK_EX | LOCK_NB) != 0 || !same_file(*fd, dfd, name)) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	return 1;
}

/* Bytes of the regular files in the directory open as `fd` (consumed). */
static off_t
dir_size(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	struct stat st;
	off_t total = 0;

	if (d == NULL) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			total += st.st_size;
	closedir(d);
	return total;
}

/* Remove a dead staging directory's files, then the directory.  A
 * non-file inside (not ours) keeps it.  Returns 0 or -1 (errno). */
static int
remove_dir(int dfd, const char *name, int fd)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return unlinkat(dfd, name, AT_REMOVEDIR);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct pitr_tmp_found *)a)->name,
		      ((const struct pitr_tmp_found *)b)->name);
}

/* What a walk does with one entry of its directory (`dfd`): 0 to go on,
 * anything else to stop the walk, which returns it. */
typedef int (*walk_fn)(void *ctx, int dfd, const char *name);

/* Every entry of `dir` to `fn`, until one stops the walk.  Returns what
 * stopped it, 0 (also for a directory that does not exist), or -1 after
 * logging when the directory cannot be opened. */
static int
walk(const char *dir, walk_fn fn, void *ctx)
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
	while (rc == 0 && (de = readdir(d)) != NULL)
		rc = fn(ctx, dirfd(d), de->d_name);
	closedir(d);
	return rc;
}

/* Append one found entry.  Returns 0 or -1 (logged). */
static int
add_found(struct pitr_tmp_found **found, size_t *n, size_t *cap, const char *name, off_t size,
	  bool is_dir)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct pitr_tmp_found *grown = pitr_xrealloc(*found, ncap * sizeof(**found));

		if (grown == NULL)
			return -1;
		*found = grown;
		*cap = ncap;
	}
	if (((*found)[*n].name = pitr_xstrdup(name)) == NULL)
		return -1;
	(*found)[*n].size = size;
	(*found)[(*n)++].is_dir = is_dir;
	return 0;
}

/* What a scan keeps of an entry: 1 with its size (a directory's: its
 * files' total, or 0 where not measured), else 0. */
typedef int (*scan_take_fn)(int dfd, const char *name, off_t *size, bool *is_dir);

/* A dead run's leftover: its lock is free (probe() holds it until the fd
 * closes). */
static int
take_dead(int dfd, const char *name, off_t *size, bool *is_dir)
{
	struct stat st;
	int fd;

	if (probe(dfd, name, PITR_FSUTIL_TMP_PREFIX, &fd, &st) != 1)
		return 0;
	*is_dir = S_ISDIR(st.st_mode);
	if (*is_dir) {
		/* dir_size() closes fd, dropping the lock. */
		*size = dir_size(fd);
	} else {
		*size = st.st_size;
		close(fd);
	}
	return 1;
}

/* Is `name` in `dfd` a live writer's temporary file or directory (its
 * lock held by another process)? */
static int
take_live(int dfd, const char *name, off_t *size, bool *is_dir)
{
	struct stat st;
	int fd, live = 0;

	if (strncmp(name, PITR_FSUTIL_TMP_PREFIX, strlen(PITR_FSUTIL_TMP_PREFIX)) != 0)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) &&
	    flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
		live = 1;
		*is_dir = S_ISDIR(st.st_mode);
		*size = *is_dir ? 0 : st.st_size;
	}
	/* Closing drops the lock when it was free: a writer that wanted
	 * this name takes the next one meanwhile, as with any live file. */
	close(fd);
	return live;
}

struct scan {
	scan_take_fn take;
	struct pitr_tmp_found **found;
	size_t *n;
	size_t cap;
};

static int
scan_entry(void *ctx, int dfd, const char *name)
{
	struct scan *sc = ctx;
	off_t size;
	bool is_dir;

	if (sc->take(dfd, name, &size, &is_dir) != 1)
		return 0;
	return add_found(sc->found, sc->n, &sc->cap, name, size, is_dir);
}

static int
scan(const char *dir, scan_take_fn take, struct pitr_tmp_found **found, size_t *n)
{
	struct scan sc = { .take = take, .found = found, .n = n };

	*found = NULL;
	*n = 0;
	if (walk(dir, scan_entry, &sc) != 0) {
		pitr_tmp_found_free(*found, *n);
		*found = NULL;
		*n = 0;
		return -1;
	}
	if (*n > 1)
		qsort(*found, *n, sizeof(**found), by_name);
	return 0;
}

int
pitr_tmp_scan(const char *dir, struct pitr_tmp_found **found, size_t *n)
{
	return scan(dir, take_dead, found, n);
}

int
pitr_tmp_scan_live(const char *dir, struct pitr_tmp_found **found, size_t *n)
{
	return scan(dir, take_live, found, n);
}

void
pitr_tmp_found_free(struct pitr_tmp_found *found, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(found[i].name);
	free(found);
}

void
pitr_tmp_size_text(off_t size, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)size;
	size_t u = 0;

	if (size < 1024) {
		snprintf(buf, len, "%lld byte%s", (long long)size, size == 1 ? "" : "s");
		return;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* Remove one dead entry (locked as `fd`, consumed).  Returns 1 if it was
 * removed (or would be, dry), 0 if it vanished. */
static int
sweep_one(const char *dir, int dfd, const char *name, int fd, const struct stat *st, bool dry)
{
	int rc = 1;

	if (!dry && (S_ISDIR(st->st_mode) ? remove_dir(dfd, name, fd)
					  : unlinkat(dfd, name, 0)) != 0) {
		if (errno != ENOENT)
			pitr_log_error("could not remove \"%s/%s\": %s", dir, name, strerror(errno));
		rc = 0;
	}
	if (rc == 1)
		pitr_log_verbose("%s \"%s/%s\" (%lld bytes), left by an interrupted run",
				 dry ? "would remove" : "removed", dir, name, (long long)st->st_size);
	close(fd);
	return rc;
}

struct sweep {
	const char *dir;
	bool dry_run;
	int count;
};

static int
sweep_entry(void *ctx, int dfd, const char *name)
{
	struct sweep *sw = ctx;
	struct stat st;
	int fd;

	if (probe(dfd, name, PITR_FSUTIL_TMP_PREFIX, &fd, &st) == 1)
		sw->count += sweep_one(sw->dir, dfd, name, fd, &st, sw->dry_run);
	return 0;
}

int
pitr_tmp_sweep(const char *dir, bool dry_run)
{
	struct sweep sw = { .dir = dir, .dry_run = dry_run };
	int count;

	if (walk(dir, sweep_entry, &sw) != 0)
		return -1;
	count = sw.count;
	if (count > 0)
		pitr_log_info("%s %d temporary file%s left by interrupted runs in \"%s\"",
			      dry_run ? "would remove" : "removed", count, count == 1 ? "" : "s", dir);
	return count;
}

struct each_dead {
	const char *dir;
	const char *prefix;
	pitr_tmp_dead_fn fn;
	void *ctx;
};

static int
each_dead_entry(void *ctx, int dfd, const char *name)
{
	struct each_dead *ed = ctx;
	struct stat st;
	int fd, rc = 0;

	if (probe(dfd, name, ed->prefix, &fd, &st) != 1)
		return 0;
	if (S_ISREG(st.st_mode))
		rc = ed->fn(ed->ctx, ed->dir, name, fd);
	close(fd);
	return rc;
}

int
pitr_tmp_each_dead(const char *dir, const char *prefix, pitr_tmp_dead_fn fn, void *ctx)
{
	struct each_dead ed = { .dir = dir, .prefix = prefix, .fn = fn, .ctx = ctx };

	return walk(dir, each_dead_entry, &ed);
}
