/*
 * fsutil.c - durable file publication and small filesystem helpers (see fsutil.h).
 *
 * Line coverage: the unit tests provoke every failure they can (missing
 * directories, things in the way, write limits); the branches left are
 * ENOMEM and I/O errors from fsync, close, fstat and read, and the link
 * fallback noted below.
 */
#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"

/* files_equal() reads both files in blocks of this size. */
#define COMPARE_BLOCK (64 * 1024)

/* Pending bytes that make pitr_fsutil_writeback() start writeback: big
 * enough for few calls, small enough that the disk starts early. */
#define WRITEBACK_CHUNK ((off_t)1 << 20)

/*
 * A file being published.  The temporary file lives in the destination
 * directory so that the final rename never crosses a filesystem.  Its mode
 * stays 0600: archived WAL holds the whole database's changes, so it is
 * readable by the archiving user only, as PostgreSQL's own files are.
 */
struct pitr_publish {
	char *dir;
	char *final_path;
	char *temp_path;        /* a copy of tmp.path, readable after abort */
	struct pitr_tmp tmp;    /* the locked temporary file */
	int fd;                 /* tmp.fd while it is written, -1 once committed */
	off_t written;          /* bytes written so far */
	off_t flushed;          /* bytes handed to writeback so far */
	bool temp_exists;       /* the temporary file is still on disk */
	bool committed;
};

const char *
pitr_fsutil_tmpdir(const char *dir)
{
	const char *env = getenv("TMPDIR");

	if (dir != NULL && *dir != '\0')
		return dir;
	return env != NULL && *env != '\0' ? env : PITR_FSUTIL_TMPDIR_DEFAULT;
}

char *
pitr_fsutil_join(const char *dir, const char *name)
{
	size_t dlen = strlen(dir);
	size_t nlen = strlen(name);
	/* No separator after an empty dir (name alone, relative to the working
	 * directory) nor after one that already ends in '/'. */
	bool sep = dlen > 0 && dir[dlen - 1] != '/';
	char *out = pitr_xmalloc(dlen + (sep ? 1 : 0) + nlen + 1);

	if (out == NULL)
		return NULL;
	memcpy(out, dir, dlen);
	if (sep)
		out[dlen++] = '/';
	memcpy(out + dlen, name, nlen + 1);
	return out;
}

struct pitr_publish *
pitr_fsutil_publish_open(const char *dir, const char *name)
{
	struct pitr_publish *p = NULL;
	struct pitr_publish *ret = NULL;

	assert(strchr(name, '/') == NULL);
	if ((p = pitr_xcalloc(1, sizeof(*p))) == NULL)
		goto out;
	p->fd = -1;
	if ((p->dir = pitr_xstrdup(dir)) == NULL ||
	    (p->final_path = pitr_fsutil_join(dir, name)) == NULL)
		goto out;
	/* Locked while written, so a sweep (tmpfile.h) never takes it for a
	 * dead run's. */
	if (pitr_tmp_create(&p->tmp, dir, name) != 0)
		goto out;
	p->fd = p->tmp.fd;
	p->temp_exists = true;
	if ((p->temp_path = pitr_xstrdup(p->tmp.path)) == NULL)
		goto out;
	ret = p;
	p = NULL;
out:
	pitr_fsutil_publish_free(p);
	return ret;
}

int
pitr_fsutil_publish_write(struct pitr_publish *p, const void *buf, size_t len)
{
	assert(p->fd >= 0);
	if (pitr_io_write_all(p->fd, buf, len) != 0) {
		pitr_log_error("could not write \"%s\": %s", p->temp_path, strerror(errno));
		return -1;
	}
	p->written += (off_t)len;
	pitr_fsutil_writeback(p->fd, &p->flushed, p->written);
	return 0;
}

void
pitr_fsutil_writeback(int fd, off_t *flushed, off_t written)
{
#ifdef SYNC_FILE_RANGE_WRITE
	/* As PostgreSQL's backend flush does: only a hint, since the fsync
	 * that follows is what makes the file durable, so a failure here is
	 * not an error. */
	if (written - *flushed >= WRITEBACK_CHUNK) {
		(void)sync_file_range(fd, *flushed, written - *flushed, SYNC_FILE_RANGE_WRITE);
		*flushed = written;
	}
#else
	(void)fd;
	(void)flushed;
	(void)written;
#endif
}

const char *
pitr_fsutil_publish_temp_path(const struct pitr_publish *p)
{
	return p->temp_path;
}

const char *
pitr_fsutil_publish_final_path(const struct pitr_publish *p)
{
	return p->final_path;
}

/*
 * fsync what `path` names, opened with `flags` (O_DIRECTORY or 0); errors
 * name it as `noun` ("" or "directory ").  Some filesystems cannot fsync a
 * directory and say EINVAL; PostgreSQL ignores that too, as there is
 * nothing more to be done.  Returns 0 or -1 (logged).
 */
static int
fsync_opened(const char *path, int flags, const char *noun)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
	int rc = -1;

	if (fd < 0) {
		pitr_log_error("could not open %s\"%s\": %s", noun, path, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0 && !((flags & O_DIRECTORY) != 0 && errno == EINVAL)) {
		pitr_log_error("could not fsync %s\"%s\": %s", noun, path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Move temp to final without replacing anything.  Returns 0, or -1 with
 * errno set (EEXIST when a file is at the final name).  renameat2() with
 * RENAME_NOREPLACE is atomic; filesystems without it (EINVAL) and kernels
 * without the call (ENOSYS) get link()+unlink(), which also refuses to
 * replace, at the price of two links for a moment.
 */
static int
rename_noreplace(const char *temp, const char *final)
{
	if (renameat2(AT_FDCWD, temp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* Not covered by the unit tests: tmpfs and ext4 both support
	 * RENAME_NOREPLACE, so this branch needs an older filesystem. */
	if (link(temp, final) != 0)
		return -1;
	if (unlink(temp) != 0) {
		/* Report it, so the caller retries and finds IDENTICAL. */
		int saved = errno;

		pitr_log_error("could not remove \"%s\": %s", temp, strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* The temporary name is gone (renamed or removed): drop the lock. */
static void
tmp_gone(struct pitr_publish *p)
{
	p->temp_exists = false;
	pitr_tmp_release(&p->tmp);
}

/* The common end of commit and publish_buffer: with `replace`, a plain
 * rename() replaces whatever is at the final name. */
static int
publish_commit(struct pitr_publish *p, bool replace, enum pitr_publish_outcome *outcome)
{
	int rc = -1;
	int fd = p->fd;
	int eq;

	assert(!p->committed && fd >= 0);
	p->committed = true;
	if (fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", p->temp_path, strerror(errno));
		goto out;
	}
	/* The descriptor stays open, and the file locked, until it has left
	 * its temporary name (tmp_gone()) or is removed. */
	p->fd = -1;
	if (replace) {
		if (rename(p->temp_path, p->final_path) != 0) {
			pitr_log_error("could not rename \"%s\" to \"%s\": %s", p->temp_path,
				       p->final_path, strerror(errno));
			goto out;
		}
		tmp_gone(p);
		*outcome = PITR_PUBLISH_NEW;
	} else if (rename_noreplace(p->temp_path, p->final_path) == 0) {
		tmp_gone(p);
		*outcome = PITR_PUBLISH_NEW;
	} else if (errno != EEXIST) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", p->temp_path,
			       p->final_path, strerror(errno));
		goto out;
	} else {
		eq = pitr_fsutil_files_equal(p->temp_path, p->final_path);
		if (eq < 0)
			goto out;
		if (eq == 0) {
			/* Keep the temporary file: the caller may compare further
			 * (e.g. decompressed) before giving up. */
			*outcome = PITR_PUBLISH_CONFLICT;
			rc = 0;
			goto out;
		}
		if (unlink(p->temp_path) != 0) {
			pitr_log_error("could not remove \"%s\": %s", p->temp_path,
				       strerror(errno));
			goto out;
		}
		tmp_gone(p);
		/* The file may have been renamed into place by a process that
		 * died before its own fsyncs: make it durable before counting it
		 * as delivered. */
		if (fsync_opened(p->final_path, 0, "") != 0)
			goto out;
		*outcome = PITR_PUBLISH_IDENTICAL;
	}
	if (pitr_fsutil_fsync_dir(p->dir) != 0)
		goto out;
	rc = 0;
out:
	return rc;
}

int
pitr_fsutil_publish_commit(struct pitr_publish *p, enum pitr_publish_outcome *outcome)
{
	return publish_commit(p, false, outcome);
}

void
pitr_fsutil_publish_abort(struct pitr_publish *p)
{
	if (p == NULL)
		return;
	p->fd = -1;
	/* A failure to remove is logged; a leftover carries the temporary
	 * prefix and no lock, so the next sweep removes it. */
	if (p->temp_exists)
		pitr_tmp_discard(&p->tmp);
	else
		pitr_tmp_release(&p->tmp);
	p->temp_exists = false;
}

void
pitr_fsutil_publish_free(struct pitr_publish *p)
{
	if (p == NULL)
		return;
	pitr_fsutil_publish_abort(p);
	free(p->dir);
	free(p->final_path);
	free(p->temp_path);
	free(p);
}

int
pitr_fsutil_publish_buffer(const char *dir, const char *name, const void *buf, size_t len,
			   bool replace, enum pitr_publish_outcome *outcome)
{
	struct pitr_publish *p = NULL;
	enum pitr_publish_outcome result;
	int rc = -1;

	p = pitr_fsutil_publish_open(dir, name);
	if (p == NULL)
		goto out;
	if (pitr_fsutil_publish_write(p, buf, len) != 0)
		goto out;
	if (publish_commit(p, replace, &result) != 0)
		goto out;
	if (outcome != NULL)
		*outcome = result;
	rc = 0;
out:
	pitr_fsutil_publish_free(p);
	return rc;
}

/* True if path names a directory (following symlinks). */
static bool
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
pitr_fsutil_mkdir_p(const char *path, mode_t mode)
{
	char *copy = pitr_xstrdup(path);
	char *end;
	int rc = -1;
	int saved;

	if (copy == NULL)
		goto out;
	if (*copy == '\0') {
		pitr_log_error("could not create directory \"%s\": %s", path, strerror(ENOENT));
		errno = ENOENT;
		goto out;
	}
	/*
	 * Create each prefix in turn; `mode` goes through the umask, as with
	 * mkdir -p.  A failure on an existing directory is fine whatever the
	 * errno (a read-only parent may say EROFS or EACCES before EEXIST).
	 */
	end = copy;
	while (*end != '\0') {
		bool last;

		while (*end == '/')
			end++;
		while (*end != '\0' && *end != '/')
			end++;
		last = end[strspn(end, "/")] == '\0';
		saved = *end;
		*end = '\0';
		if (mkdir(copy, mode) != 0 && !is_dir(copy)) {
			/* Something that is not a directory is in the way. */
			if (errno == EEXIST)
				errno = ENOTDIR;
			pitr_log_error("could not create directory \"%s\": %s", copy,
				       strerror(errno));
			goto out;
		}
		*end = (char)saved;
		if (last)
			break;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

int
pitr_fsutil_fsync_dir(const char *dir)
{
	return fsync_opened(dir, O_DIRECTORY, "directory ");
}

int
pitr_fsutil_files_equal(const char *a, const char *b)
{
	const char *paths[2] = { a, b };
	int fds[2] = { -1, -1 };
	struct stat st[2];
	char *bufs[2] = { NULL, NULL };
	ssize_t got[2];
	int rc = -1;

	for (int file_idx = 0; file_idx < 2; file_idx++) {
		fds[file_idx] = open(paths[file_idx], O_RDONLY | O_CLOEXEC);
		if (fds[file_idx] < 0) {
			pitr_log_error("could not open \"%s\": %s", paths[file_idx],
				       strerror(errno));
			goto out;
		}
		if (fstat(fds[file_idx], &st[file_idx]) != 0) {
			pitr_log_error("could not stat \"%s\": %s", paths[file_idx],
				       strerror(errno));
			goto out;
		}
	}
	/* A directory or device is never "the same file content". */
	if (!S_ISREG(st[0].st_mode) || !S_ISREG(st[1].st_mode) || st[0].st_size != st[1].st_size) {
		rc = 0;
		goto out;
	}
	if ((bufs[0] = pitr_xmalloc(COMPARE_BLOCK)) == NULL ||
	    (bufs[1] = pitr_xmalloc(COMPARE_BLOCK)) == NULL)
		goto out;
	for (;;) {
		for (int file_idx = 0; file_idx < 2; file_idx++) {
			got[file_idx] = pitr_io_read_full(fds[file_idx], bufs[file_idx], COMPARE_BLOCK);
			if (got[file_idx] < 0) {
				pitr_log_error("could not read \"%s\": %s", paths[file_idx],
					       strerror(errno));
				goto out;
			}
		}
		/* Unequal counts: one file changed size while being read. */
		if (got[0] != got[1] || memcmp(bufs[0], bufs[1], (size_t)got[0]) != 0) {
			rc = 0;
			goto out;
		}
		if (got[0] < COMPARE_BLOCK)
			break;
	}
	rc = 1;
out:
	for (int file_idx = 0; file_idx < 2; file_idx++) {
		if (fds[file_idx] >= 0)
			close(fds[file_idx]);
		free(bufs[file_idx]);
	}
	return rc;
}

/* The descent of pitr_fsutil_remove_tree: one open directory at a time
 * (a deep tree would need a descriptor per level otherwise) and the names
 * leading to it from `top`, to remove each one from its parent once empty.
 * ids[k] is the identity of the directory at level k (top: 0): ".." of a
 * directory moved meanwhile is another one, so the way back up is checked
 * against it, and found again from `top` by the names when it differs. */
struct rm_id {
	dev_t dev;
	ino_t ino;
};

struct rm_walk {
	const char *top;
	int fd;
	char **names;
	struct rm_id *ids;
	size_t depth, cap;
};

static int
rm_failed(const struct rm_walk *w, const char *what, const char *name)
{
	pitr_log_error("could not remove \"%s\": could not %s \"%s\" %zu levels down: %s", w->top,
		       what, name, w->depth, strerror(errno));
	return -1;
}

/* Unlink what is not a directory in the current one; *sub is a copy of the
 * first subdirectory's name, or NULL when none is left. */
static int
rm_level(struct rm_walk *w, char **sub)
{
	int dfd = dup(w->fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	struct dirent *de;
	struct stat st;
	int rc = 0;

	*sub = NULL;
	if (d == NULL) {
		rc = rm_failed(w, "read", ".");
		if (dfd >= 0)
			close(dfd);
		return rc;
	}
	rewinddir(d);  /* the dup shares the offset of an earlier pass */
	while (rc == 0 && *sub == NULL && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(w->fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			rc = errno == ENOENT ? 0 : rm_failed(w, "stat", de->d_name);
		else if (S_ISDIR(st.st_mode))
			rc = (*sub = pitr_xstrdup(de->d_name)) != NULL ? 0 : -1;
		else if (unlinkat(w->fd, de->d_name, 0) != 0 && errno != ENOENT)
			rc = rm_failed(w, "unlink", de->d_name);
	}
	if (rc == 0 && *sub == NULL && errno != 0)
		rc = rm_failed(w, "read", ".");
	closedir(d);
	return rc;
}

/* Open `name` in `dfd` as a directory, without following a link; with
 * `want`, only the directory it identifies (else -1, errno ESTALE). */
static int
rm_open(int dfd, const char *name, const struct rm_id *want)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd >= 0 && want != NULL &&
	    (fstat(fd, &st) != 0 || st.st_dev != want->dev || st.st_ino != want->ino)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

/* The parent of the current directory (level depth - 1): "..", or, when
 * that is not it any more (something was moved), the same one reached
 * from `top` by the names, each level checked. */
static int
rm_parent(const struct rm_walk *w)
{
	size_t level = w->depth - 1;
	int fd = rm_open(w->fd, "..", &w->ids[level]), nfd;

	if (fd >= 0 || errno != ESTALE)
		return fd;
	fd = rm_open(AT_FDCWD, w->top, &w->ids[0]);
	for (size_t k = 0; k < level && fd >= 0; k++) {
		nfd = rm_open(fd, w->names[k], &w->ids[k + 1]);
		close(fd);
		fd = nfd;
	}
	return fd;
}

/* Make room for one more level. */
static int
rm_grow(struct rm_walk *w)
{
	size_t cap = w->cap ? w->cap * 2 : 32;
	char **names;
	struct rm_id *ids;

	if (w->depth < w->cap)
		return 0;
	if ((names = pitr_xrealloc(w->names, cap * sizeof(*names))) == NULL)
		return -1;
	w->names = names;
	if ((ids = pitr_xrealloc(w->ids, cap * sizeof(*ids))) == NULL)
		return -1;
	w->ids = ids;
	w->cap = cap;
	return 0;
}

/* Step into subdirectory `sub` (taken over), or back out of the current
 * one and remove it (sub NULL). */
static int
rm_step(struct rm_walk *w, char *sub)
{
	struct stat st;
	int nfd;

	if (sub != NULL && (rm_grow(w) != 0 || fstat(w->fd, &st) != 0)) {
		if (w->depth < w->cap)
			rm_failed(w, "stat", ".");
		free(sub);
		return -1;
	}
	nfd = sub != NULL ? rm_open(w->fd, sub, NULL) : rm_parent(w);
	if (nfd < 0 && sub == NULL && errno == ESTALE)
		pitr_log_error("could not remove \"%s\": a directory %zu levels down was moved "
			       "while it was being removed", w->top, w->depth);
	else if (nfd < 0)
		rm_failed(w, "open", sub != NULL ? sub : "..");
	if (nfd < 0) {
		free(sub);
		return -1;
	}
	close(w->fd);
	w->fd = nfd;
	if (sub == NULL) {
		char *name = w->names[--w->depth];
		int rc = unlinkat(w->fd, name, AT_REMOVEDIR) == 0 ? 0 : rm_failed(w, "rmdir", name);

		free(name);
		return rc;
	}
	w->ids[w->depth] = (struct rm_id){ st.st_dev, st.st_ino };
	w->names[w->depth++] = sub;
	return 0;
}

int
pitr_fsutil_remove_tree(const char *path)
{
	struct rm_walk w = { .top = path, .fd = -1 };
	struct stat st;
	char *sub;
	int rc = -1;

	if (lstat(path, &st) != 0)
		rc = errno == ENOENT ? 0 : -1;
	else if (!S_ISDIR(st.st_mode))
		rc = unlink(path) == 0 || errno == ENOENT ? 0 : -1;
	else
		rc = 1;
	if (rc <= 0) {
		if (rc < 0)
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
		return rc;
	}
	rc = -1;
	if ((w.fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rm_failed(&w, "open", ".");
		return -1;
	}
	while (rm_level(&w, &sub) == 0) {
		if (sub == NULL && w.depth == 0) {
			rc = rmdir(path) == 0 || errno == ENOENT ? 0 : rm_failed(&w, "rmdir", path);
			break;
		}
		if (rm_step(&w, sub) != 0)
			break;
	}
	close(w.fd);
	while (w.depth > 0)
		free(w.names[--w.depth]);
	free(w.names);
	free(w.ids);
	return rc;
}

char *
pitr_fsutil_read_small(const char *path, size_t max, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	char *ret = NULL;
	size_t cap, used = 0;
	int fd;
	int saved = 0;

	assert(max < SIZE_MAX / 2);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		if (saved != ENOENT)
			pitr_log_error("could not open \"%s\": %s", path, strerror(saved));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		pitr_log_error("could not stat \"%s\": %s", path, strerror(saved));
		goto out;
	}
	/* Only a regular file's size means anything (/proc files say 0). */
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		goto too_large;
	/* Room for one byte more than expected (to notice a file that grew
	 * since fstat) and the NUL; the buffer grows up to max + 2. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 2 : (max < 4096 ? max + 2 : 4096);
	for (;;) {
		ssize_t n;

		if (used + 1 == cap) {
			/* Always more than cap: used <= max here. */
			size_t grown = cap * 2 > max + 2 ? max + 2 : cap * 2;
			char *bigger;

			bigger = pitr_xrealloc(buf, grown);
			if (bigger == NULL) {
				saved = ENOMEM;
				goto out;
			}
			buf = bigger;
			cap = grown;
		} else if (buf == NULL && (buf = pitr_xmalloc(cap)) == NULL) {
			saved = ENOMEM;
			goto out;
		}
		n = pitr_io_read_full(fd, buf + used, cap - 1 - used);
		if (n < 0) {
			saved = errno;
			pitr_log_error("could not read \"%s\": %s", path, strerror(saved));
			goto out;
		}
		used += (size_t)n;
		if (used > max)
			goto too_large;
		if (used < cap - 1)
			break;          /* end of file */
	}
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	ret = buf;
	buf = NULL;
	goto out;
too_large:
	saved = EFBIG;
	pitr_log_error("\"%s\" is larger than %zu bytes", path, max);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	if (ret == NULL)
		errno = saved;
	return ret;
}
