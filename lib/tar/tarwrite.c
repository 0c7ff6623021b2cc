/*
 * tarwrite.c - directory trees and buffers into a tar through libarchive,
 * with PostgreSQL's base backup exclusions.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/pgdata.h"
#include "tar/tarwrite.h"

#define TARWRITE_BUF (256 * 1024)

struct pitr_tarwrite {
	struct archive *a;
	pitr_codec_sink_fn sink;
	void *ctx;
	uint64_t bytes;
	uint64_t files;        /* regular files stored, for a progress display */
	bool sink_failed;      /* the sink logged already */
	bool discarding;       /* being freed: libarchive's trailer goes nowhere */
	bool hooked;           /* hook set */
	struct pitr_tarwrite_hook hook;
	unsigned char *buf;
};

/*
 * A sink that fails is not reported to libarchive: the bytes are taken
 * and dropped, and each caller of a libarchive write checks sink_failed.
 * A failed write callback puts the archive in its FATAL state, in which
 * archive_write_free() (before libarchive 3.8; Debian 12 has 3.6.2) skips
 * the close that frees the output buffer: 10 KiB leaked per run stopped
 * by a signal or a failing destination.
 */
static la_ssize_t
write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct pitr_tarwrite *t = ctx;

	(void)a;
	if (t->discarding || t->sink_failed)
		return (la_ssize_t)len;
	if (t->sink(t->ctx, buf, len) != 0) {
		t->sink_failed = true;
		return (la_ssize_t)len;
	}
	t->bytes += len;
	return (la_ssize_t)len;
}

/* A libarchive failure, logged unless the sink already said why. */
static int
archive_failed(struct pitr_tarwrite *t, const char *what)
{
	if (!t->sink_failed)
		pitr_log_error("could not write tar entry \"%s\": %s", what,
			       archive_error_string(t->a) ? archive_error_string(t->a) : "unknown error");
	return -1;
}

struct pitr_tarwrite *
pitr_tarwrite_new(pitr_codec_sink_fn sink, void *ctx)
{
	struct pitr_tarwrite *t = pitr_xcalloc(1, sizeof(*t));

	if (t == NULL || (t->buf = pitr_xmalloc(TARWRITE_BUF)) == NULL ||
	    (t->a = pitr_xcheck(archive_write_new())) == NULL) {
		pitr_tarwrite_free(t);
		return NULL;
	}
	t->sink = sink;
	t->ctx = ctx;
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(t->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(t->a, 1) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, write_cb, NULL) != ARCHIVE_OK) {
		pitr_log_error("could not start a tar stream: %s", archive_error_string(t->a));
		pitr_tarwrite_free(t);
		return NULL;
	}
	return t;
}

/* Write a header for `name` from `st` (size only for regular files). */
static int
write_header(struct pitr_tarwrite *t, const char *name, const struct stat *st, const char *link)
{
	struct archive_entry *e = pitr_xcheck(archive_entry_new());
	int rc = -1;

	if (e == NULL)
		return -1;
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, name);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	archive_entry_set_nlink(e, 1);
	if (link != NULL)
		archive_entry_set_symlink(e, link);
	if (!S_ISREG(st->st_mode))
		archive_entry_set_size(e, 0);
	if (archive_write_header(t->a, e) != ARCHIVE_OK || t->sink_failed)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		archive_failed(t, name);
	archive_entry_free(e);
	return rc;
}

/* The content of `fd` (`path`) after its header: `size` bytes, zeros
 * where it shrank since stat, each buffer shown to the hook's tap. */
static int
copy_content(struct pitr_tarwrite *t, int fd, const char *path, const char *name, off_t size,
	     bool tap)
{
	off_t left = size;

	while (left > 0) {
		size_t want = left < TARWRITE_BUF ? (size_t)left : TARWRITE_BUF;
		ssize_t n = pitr_io_read(fd, t->buf, want);

		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			/* Shrunk since fstat: the header promised its size. */
			n = (ssize_t)want;
			memset(t->buf, 0, want);
		}
		if (tap && t->hook.data(t->hook.arg, t->buf, (size_t)n) != 0)
			return -1;
		if (archive_write_data(t->a, t->buf, (size_t)n) != n || t->sink_failed)
			return archive_failed(t, name);
		left -= n;
	}
	if (archive_write_finish_entry(t->a) != ARCHIVE_OK || t->sink_failed)
		return archive_failed(t, name);
	return tap ? t->hook.end(t->hook.arg) : 0;
}

/* Store the file `path` as `name`: the size stat gave, padded with zeros
 * if it shrank, unless the hook takes it.  A file gone before it was
 * opened is skipped (1). */
static int
add_file_fd(struct pitr_tarwrite *t, const char *path, const char *name, bool skip_vanished)
{
	struct stat st;
	int fd;
	int what = PITR_TARWRITE_STORE;
	int rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT && skip_vanished) {
			pitr_log_verbose("\"%s\" vanished while the backup read it: skipped", path);
			return 1;
		}
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		pitr_log_error("could not stat \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (t->hooked &&
	    (what = t->hook.file(t->hook.arg, t, path, name, fd, (uint64_t)st.st_size)) < 0)
		goto out;
	if (what != PITR_TARWRITE_TAKEN &&
	    (write_header(t, name, &st, NULL) != 0 ||
	     copy_content(t, fd, path, name, st.st_size, t->hooked) != 0))
		goto out;
	t->files++;
	rc = 0;
out:
	close(fd);
	return rc;
}

int
pitr_tarwrite_add_file(struct pitr_tarwrite *t, const char *path, const char *name)
{
	return add_file_fd(t, path, name, false) < 0 ? -1 : 0;
}

/* A buffer as `name`, shown to the hook's tap when `tap`. */
static int
add_buffer(struct pitr_tarwrite *t, const char *name, const void *buf, size_t len, mode_t mode,
	   bool tap)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | (mode & 07777);
	st.st_size = (off_t)len;
	st.st_mtime = time(NULL);
	st.st_uid = getuid();
	st.st_gid = getgid();
	if (write_header(t, name, &st, NULL) != 0)
		return -1;
	if (tap && len > 0 && t->hook.data(t->hook.arg, buf, len) != 0)
		return -1;
	if ((len > 0 && archive_write_data(t->a, buf, len) != (la_ssize_t)len) || t->sink_failed)
		return archive_failed(t, name);
	if (archive_write_finish_entry(t->a) != ARCHIVE_OK || t->sink_failed)
		return archive_failed(t, name);
	return tap ? t->hook.end(t->hook.arg) : 0;
}

int
pitr_tarwrite_add_buffer(struct pitr_tarwrite *t, const char *name, const void *buf, size_t len,
			 mode_t mode)
{
	int what;

	if (!t->hooked)
		return add_buffer(t, name, buf, len, mode, false);
	what = t->hook.file(t->hook.arg, t, NULL, name, -1, (uint64_t)len);
	if (what < 0)
		return -1;
	if (what != PITR_TARWRITE_STORE) {
		pitr_log_error("internal error: the tar hook took the in-memory file \"%s\"", name);
		return -1;
	}
	return add_buffer(t, name, buf, len, mode, true);
}

int
pitr_tarwrite_add_member(struct pitr_tarwrite *t, const char *name, const void *buf, size_t len,
			 mode_t mode)
{
	return add_buffer(t, name, buf, len, mode, false);
}

void
pitr_tarwrite_set_hook(struct pitr_tarwrite *t, const struct pitr_tarwrite_hook *hook)
{
	t->hooked = hook != NULL;
	if (hook != NULL)
		t->hook = *hook;
}

/* Recursive walk: `path` on disk is `name` in the tar; `depth` 0 is the
 * tree's root. */
static int
add_dir(struct pitr_tarwrite *t, const char *path, const char *name, unsigned flags, int depth,
	bool contents)
{
	struct stat st;
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT && depth > 0) {
			pitr_log_verbose("\"%s\" vanished while the backup read it: skipped", path);
			return 0;
		}
		pitr_log_error("could not stat \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (depth == 0 && (flags & PITR_TARWRITE_ROOT_0700))
		st.st_mode = (st.st_mode & ~07777u) | 0700;
	if (write_header(t, name, &st, NULL) != 0)
		return -1;
	if (!contents)
		return 0;
	d = opendir(path);
	if (d == NULL) {
		if (errno == ENOENT) {
			return 0;
		}
		pitr_log_error("could not open directory \"%s\": %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		char *cpath = NULL, *cname = NULL;
		bool pgdata = flags & PITR_TARWRITE_PGDATA;
		int r = 0;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				pitr_log_error("could not read directory \"%s\": %s", path, strerror(errno));
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* What a base backup leaves out: postgres/pgdata.h, shared with
		 * pitr-synch's rsync filter. */
		if (pgdata && pitr_pgdata_excluded_name(de->d_name))
			continue;
		if ((flags & PITR_TARWRITE_SKIP_PGCONTROL) && depth == 1 &&
		    strcmp(de->d_name, "pg_control") == 0 && strlen(path) >= 7 &&
		    strcmp(path + strlen(path) - 7, "/global") == 0)
			continue;
		if ((cpath = pitr_fsutil_join(path, de->d_name)) == NULL ||
		    (cname = pitr_fsutil_join(name, de->d_name)) == NULL) {
			r = -1;
		} else if (lstat(cpath, &st) != 0) {
			if (errno != ENOENT) {
				pitr_log_error("could not stat \"%s\": %s", cpath, strerror(errno));
				r = -1;
			}
		} else if (S_ISDIR(st.st_mode)) {
			bool keep_contents = !(pgdata && pitr_pgdata_excluded_contents(de->d_name, depth));

			r = add_dir(t, cpath, cname, flags, depth + 1, keep_contents);
			/* pg_wal/archive_status must exist for the server to start. */
			if (r == 0 && !keep_contents && depth == 0 && strcmp(de->d_name, "pg_wal") == 0) {
				char *sname = pitr_fsutil_join(cname, "archive_status");

				r = sname != NULL ? write_header(t, sname, &st, NULL) : -1;
				free(sname);
			}
		} else if (S_ISLNK(st.st_mode)) {
			char link[PATH_MAX];
			ssize_t n = readlink(cpath, link, sizeof(link) - 1);

			if (n < 0) {
				if (errno != ENOENT) {
					pitr_log_error("could not read link \"%s\": %s", cpath, strerror(errno));
					r = -1;
				}
			} else {
				link[n] = '\0';
				r = write_header(t, cname, &st, link);
			}
		} else if (S_ISREG(st.st_mode)) {
			r = add_file_fd(t, cpath, cname, true) < 0 ? -1 : 0;
		}
		/* Sockets, fifos and devices have no place in a data dir. */
		free(cpath);
		free(cname);
		if (r != 0)
			goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

int
pitr_tarwrite_add_tree(struct pitr_tarwrite *t, const char *dir, const char *prefix, unsigned flags)
{
	return add_dir(t, dir, prefix, flags, 0, true);
}

int
pitr_tarwrite_finish(struct pitr_tarwrite *t)
{
	if (archive_write_close(t->a) != ARCHIVE_OK || t->sink_failed)
		return archive_failed(t, "end of archive");
	return 0;
}

uint64_t
pitr_tarwrite_bytes(const struct pitr_tarwrite *t)
{
	return t->bytes;
}

uint64_t
pitr_tarwrite_files(const struct pitr_tarwrite *t)
{
	return t->files;
}

void
pitr_tarwrite_free(struct pitr_tarwrite *t)
{
	if (t == NULL)
		return;
	t->discarding = true;
	if (t->a != NULL)
		archive_write_free(t->a);
	free(t->buf);
	free(t);
}
