/*
 * tarread.c - backup tarballs out to disk: our codec readers feed
 * libarchive's tar reader, archive_write_disk writes what the caller's map
 * chooses.
 *
 * The codec reader runs on a thread of its own (readahead.c), so that
 * decompressing and writing the files take a core each.  With
 * pitr_tarread_extract_split(), members of other destinations than the
 * main one (tablespaces, usually on disks of their own) are written by a
 * thread per destination (tarqueue.c), each with its own disk writer.
 *
 * libarchive's own decompression filters are deliberately not enabled:
 * the codec readers are the ones that read archived WAL, so a corrupt or
 * truncated tarball is reported in the same words as a corrupt segment,
 * and gzip goes through ISA-L.
 *
 * Member names are judged before the map sees them, and destinations are
 * absolute (the map's contract), so libarchive's NOABSOLUTEPATHS check
 * cannot be used; NODOTDOT and SECURE_SYMLINKS still guard the written
 * paths.  SECURE_SYMLINKS checks every component from "/", so callers
 * hand out destinations under realpath()-resolved directories.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/log.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "tar/tarqueue.h"
#include "tar/tarread.h"
#include "tar/tarsource.h"

/* Why `name` may not be extracted anywhere, or NULL. */
static const char *
unsafe_name(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return "empty name";
	if (name[0] == '/')
		return "absolute path";
	for (const char *p = name; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "\"..\" in its path";
		p += len;
		while (*p == '/')
			p++;
	}
	return NULL;
}

static int
refuse(const char *path, const char *member, const char *why)
{
	pitr_log_error("\"%s\": member \"%s\" refused: %s", path, member, why);
	return -1;
}

/* Where a disk-side error goes: logged at once on the reading thread; kept
 * in `buf` on a writer thread, for the reader to log (tarqueue.h). */
struct tr_err {
	char *buf;
	size_t size;
};

static void tr_fail(struct tr_err *er, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
tr_fail(struct tr_err *er, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (er == NULL)
		pitr_log_v(PITR_LOG_ERROR, fmt, ap);
	else
		vsnprintf(er->buf, er->size, fmt, ap);
	va_end(ap);
}

/* Create `dest`, the pathname `e` already carries. */
static int
disk_header(struct archive *out, struct archive_entry *e, const char *dest, const char *member,
	    const char *tarball, struct tr_err *er)
{
	struct stat st;

	/* libarchive's NO_OVERWRITE keeps an existing file silently; an
	 * extraction must instead say that it would have replaced one.  (On
	 * the thread that writes: an earlier member of the same name may be
	 * queued still.) */
	if (lstat(dest, &st) == 0 && !(S_ISDIR(st.st_mode) && archive_entry_filetype(e) == AE_IFDIR)) {
		tr_fail(er, "could not create \"%s\" (member \"%s\" of \"%s\"): it already exists", dest,
			member, tarball);
		return -1;
	}
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		tr_fail(er, "could not create \"%s\" (member \"%s\" of \"%s\"): %s", dest, member,
			tarball, archive_error_string(out));
		return -1;
	}
	return 0;
}

static int
disk_block(struct archive *out, const void *buf, size_t len, int64_t off, const char *dest,
	   struct tr_err *er)
{
	if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK) {
		tr_fail(er, "could not write \"%s\": %s", dest, archive_error_string(out));
		return -1;
	}
	return 0;
}

static int
disk_finish(struct archive *out, const char *dest, const char *member, const char *tarball,
	    struct tr_err *er)
{
	if (archive_write_finish_entry(out) != ARCHIVE_OK) {
		tr_fail(er, "could not finish \"%s\" (member \"%s\" of \"%s\"): %s", dest, member,
			tarball, archive_error_string(out));
		return -1;
	}
	return 0;
}

/* Directory modes and times are applied at the close, deepest first. */
static int
disk_close(struct archive *out, const char *tarball, struct tr_err *er)
{
	if (archive_write_close(out) != ARCHIVE_OK) {
		tr_fail(er, "could not finish extracting \"%s\": %s", tarball, archive_error_string(out));
		return -1;
	}
	return 0;
}

static struct archive *
disk_new(const char *tarball, int wflags)
{
	struct archive *out = pitr_xcheck(archive_write_disk_new());

	if (out != NULL && archive_write_disk_set_options(out, wflags) != ARCHIVE_OK) {
		pitr_log_error("could not extract \"%s\": %s", tarball, archive_error_string(out));
		archive_write_free(out);
		return NULL;
	}
	return out;
}

/* ------------------------------------------------------------------------
 * A destination's writer thread (pitr_tarread_extract_split)
 * ------------------------------------------------------------------------ */

struct tr_writer {
	struct archive *out;     /* its own disk writer, used on its thread only */
	struct pitr_tarq *q;     /* NULL: not started */
	const char *tarball;
	char *dest, *member;     /* the member being written, for errors */
	uint64_t bytes;          /* file data written: read after the join */
};

/* A queued member: its entry (pathname = destination) and names. */
struct tr_job {
	struct archive_entry *e;
	char *dest, *member;
};

static int
writer_handle(void *ctx, const struct pitr_tarq_msg *m, char *err, size_t errsz)
{
	struct tr_writer *w = ctx;
	struct tr_err er = { err, errsz };
	struct tr_job *job = m->entry;

	switch (m->kind) {
	case PITR_TARQ_ENTRY:
		free(w->dest);
		free(w->member);
		w->dest = job->dest;
		w->member = job->member;
		job->dest = job->member = NULL;
		return disk_header(w->out, job->e, w->dest, w->member, w->tarball, &er);
	case PITR_TARQ_DATA:
		if (disk_block(w->out, m->data, m->len, m->off, w->dest, &er) != 0)
			return -1;
		w->bytes += m->len;
		return 0;
	case PITR_TARQ_FINISH:
		return disk_finish(w->out, w->dest, w->member, w->tarball, &er);
	}
	snprintf(err, errsz, "unknown message");
	return -1;
}

static void
writer_drop(void *ctx, void *entry)
{
	struct tr_job *job = entry;

	(void)ctx;
	if (job == NULL)
		return;
	if (job->e != NULL)
		archive_entry_free(job->e);
	free(job->dest);
	free(job->member);
	free(job);
}

static int
writer_close(void *ctx, char *err, size_t errsz)
{
	struct tr_writer *w = ctx;
	struct tr_err er = { err, errsz };

	return disk_close(w->out, w->tarball, &er);
}

static const struct pitr_tarq_ops writer_ops = {
	.handle = writer_handle,
	.drop = writer_drop,
	.close = writer_close,
};

/* ------------------------------------------------------------------------
 * One extraction
 * ------------------------------------------------------------------------ */

struct tr_extract {
	struct tar_source s;
	struct archive *in, *out;          /* out: the main destination's */
	pitr_tarread_map_fn map;           /* one of map and dmap */
	pitr_tarread_dest_fn dmap;
	pitr_tarread_take_fn take;         /* members mapped to PITR_TARREAD_TAKE */
	void *ctx;
	unsigned flags;
	int wflags;
	uint64_t written;                  /* by this thread */
	struct tr_writer w[PITR_TARREAD_WRITERS];
	bool writers_made;
};

/* The writer of destination `id` > 0, started at its first member.  Every
 * writer's disk writer is made at the first one, before any writer thread
 * runs: archive_write_disk_new() clears the process's umask for a moment,
 * which a thread creating files then would see. */
static struct tr_writer *
writer_for(struct tr_extract *x, unsigned id)
{
	struct tr_writer *w = &x->w[(id - 1) % PITR_TARREAD_WRITERS];

	if (!x->writers_made) {
		x->writers_made = true;
		for (size_t i = 0; i < PITR_TARREAD_WRITERS; i++) {
			x->w[i].tarball = x->s.path;
			if ((x->w[i].out = disk_new(x->s.path, x->wflags)) == NULL)
				return NULL;
		}
	}
	if (w->q == NULL && (w->q = pitr_tarq_start(&writer_ops, w)) == NULL)
		return NULL;
	return w;
}

/* The split extraction running, for pitr_tarread_settle() (one at a
 * time, as with pitr_tarread_progress()). */
static struct tr_extract *tr_current;

/* Log the first failed writer's error: -2 (a writer failed) becomes -1. */
static int
writer_failed(struct tr_extract *x)
{
	for (size_t i = 0; i < PITR_TARREAD_WRITERS; i++)
		if (x->w[i].q != NULL && pitr_tarq_failed(x->w[i].q)) {
			pitr_log_error("%s", pitr_tarq_error(x->w[i].q));
			return -1;
		}
	pitr_log_error("\"%s\": a writer thread stopped", x->s.path);
	return -1;
}

int
pitr_tarread_settle(void)
{
	struct tr_extract *x = tr_current;

	for (size_t i = 0; x != NULL && i < PITR_TARREAD_WRITERS; i++)
		if (x->w[i].q != NULL && pitr_tarq_flush(x->w[i].q) != 0)
			return writer_failed(x);
	return 0;
}

static char *
tr_map(struct tr_extract *x, const char *member, bool *skip, unsigned *id)
{
	*id = 0;
	return x->dmap != NULL ? x->dmap(x->ctx, member, skip, id) : x->map(x->ctx, member, skip);
}

/* Copy the current member's data from the reader to the main disk writer,
 * or to `w`'s queue.  0, -1 (logged) or -2 (w failed). */
static int
copy_data(struct tr_extract *x, const char *member, const char *dest, struct tr_writer *w)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(x->in, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return tar_read_failed(&x->s, x->in, member);
		if (w != NULL) {
			if (pitr_tarq_data(w->q, buf, len, off) != 0)
				return -2;
			continue;
		}
		if (disk_block(x->out, buf, len, off, dest, NULL) != 0)
			return -1;
		x->written += len;
	}
}

static bool
has_data(struct archive_entry *e)
{
	return archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0;
}

static int
write_direct(struct tr_extract *x, struct archive_entry *e, const char *member, const char *dest)
{
	if (disk_header(x->out, e, dest, member, x->s.path, NULL) != 0)
		return -1;
	if (has_data(e)) {
		int r = copy_data(x, member, dest, NULL);

		if (r != 0)
			return r;
	}
	return disk_finish(x->out, dest, member, x->s.path, NULL);
}

/* Hand the member to destination `id`'s writer; *dest is taken. */
static int
write_queued(struct tr_extract *x, struct archive_entry *e, const char *member, char **dest,
	     unsigned id)
{
	struct tr_writer *w = writer_for(x, id);
	struct tr_job *job;

	if (w == NULL || (job = pitr_xcalloc(1, sizeof(*job))) == NULL)
		return -1;
	job->dest = *dest;
	*dest = NULL;
	job->e = pitr_xcheck(archive_entry_clone(e));
	job->member = pitr_xstrdup(member);
	if (job->e == NULL || job->member == NULL) {
		writer_drop(w, job);
		return -1;
	}
	/* The clone's strings are converted here, once, if ever: their
	 * conversion would use the reading archive's state. */
	(void)archive_entry_pathname(job->e);
	(void)archive_entry_hardlink(job->e);
	(void)archive_entry_symlink(job->e);
	(void)archive_entry_uname(job->e);
	(void)archive_entry_gname(job->e);
	if (pitr_tarq_entry(w->q, job) != 0)
		return -2;
	if (has_data(e)) {
		int r = copy_data(x, member, NULL, w);

		if (r != 0)
			return r;
	}
	return pitr_tarq_finish(w->q) != 0 ? -2 : 0;
}

/* Judge the current entry `e`'s kind and map it: *dest (NULL with 0: left
 * out), *link_dest for a hard link's target, *id and *link_id their
 * destinations.  0, or -1 after logging. */
static int
entry_dest(struct tr_extract *x, struct archive_entry *e, const char *member, char **dest,
	   char **link_dest, unsigned *id, unsigned *link_id)
{
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	const char *path = x->s.path;
	bool skip = false;

	if (hardlink != NULL) {
		const char *why = unsafe_name(hardlink);

		if (why != NULL) {
			char reason[64 + 4096];

			snprintf(reason, sizeof(reason), "hard link to \"%s\": %s", hardlink, why);
			return refuse(path, member, reason);
		}
	} else if (type == AE_IFLNK) {
		if (!(x->flags & PITR_TARREAD_ALLOW_SYMLINKS))
			return refuse(path, member, "a symbolic link");
	} else if (type != AE_IFREG && type != AE_IFDIR) {
		return refuse(path, member, "not a file, directory or link");
	}
	if ((*dest = tr_map(x, member, &skip, id)) == NULL)
		return skip ? 0 : -1;
	if ((*dest)[0] != '/') {
		pitr_log_error("\"%s\": member \"%s\" mapped to relative path \"%s\"", path, member,
			       *dest);
		return -1;
	}
	/* libarchive would create it, piece by piece, but no later step (nor
	 * PostgreSQL) can name it, and nothing may be created that cannot be
	 * removed by name: refuse it before anything is written. */
	if (strlen(*dest) >= PATH_MAX) {
		pitr_log_error("\"%s\": member \"%.100s...\" refused: its destination would be %zu "
			       "bytes long, over the system's limit of %d", path, member,
			       strlen(*dest), PATH_MAX);
		return -1;
	}
	if (hardlink != NULL) {
		/* The entry is reset by set_pathname later; map a copy. */
		char *link_member = pitr_xstrdup(hardlink);
		bool lskip = false;

		if (link_member == NULL)
			return -1;
		*link_dest = tr_map(x, link_member, &lskip, link_id);
		if (*link_dest == NULL && lskip)
			pitr_log_error("\"%s\": member \"%s\" is a hard link to \"%s\", which is left out",
				       path, member, link_member);
		free(link_member);
		if (*link_dest == NULL)
			return -1;
	}
	return 0;
}

struct pitr_tarread_member {
	struct tr_extract *x;
	const char *member;
};

int
pitr_tarread_member_read(struct pitr_tarread_member *m, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		la_ssize_t n = archive_read_data(m->x->in, (char *)buf + got, len - got);

		if (n < 0)
			return tar_read_failed(&m->x->s, m->x->in, m->member);
		if (n == 0) {
			pitr_log_error("\"%s\" is corrupt at member \"%s\": it ends early", m->x->s.path,
				       m->member);
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

/* The current entry `e`, which the map handed to the caller. */
static int
take_entry(struct tr_extract *x, struct archive_entry *e, const char *member)
{
	struct pitr_tarread_member m = { x, member };

	if (x->take == NULL || archive_entry_filetype(e) != AE_IFREG ||
	    archive_entry_hardlink(e) != NULL)
		return refuse(x->s.path, member, "not a regular file");
	return x->take(x->ctx, member, archive_entry_size(e), &m);
}

/* Extract the current entry `e` (name already judged safe).  0, -1
 * (logged) or -2 (a writer failed: not logged yet). */
static int
extract_entry(struct tr_extract *x, struct archive_entry *e, const char *member)
{
	char *dest = NULL, *link_dest = NULL;
	unsigned id = 0, link_id = 0;
	int rc = -1;

	if (entry_dest(x, e, member, &dest, &link_dest, &id, &link_id) != 0)
		goto out;
	rc = 0;
	if (dest == NULL) {
		if (id == PITR_TARREAD_TAKE)
			rc = take_entry(x, e, member);
		goto out;
	}
	if (link_dest != NULL) {
		archive_entry_set_hardlink(e, link_dest);
		/* The target must be written before the link to it is made. */
		if (link_id != 0 && link_id != id) {
			struct tr_writer *lw = writer_for(x, link_id);

			rc = lw == NULL ? -1 : pitr_tarq_flush(lw->q) != 0 ? -2 : 0;
			if (rc != 0)
				goto out;
		}
	}
	archive_entry_set_pathname(e, dest);
	rc = id == 0 ? write_direct(x, e, member, dest) : write_queued(x, e, member, &dest, id);
out:
	free(dest);
	free(link_dest);
	return rc;
}

/* Every member, then the stream's end, the main disk writer's close and
 * every writer's.  0, -1 (logged) or -2 (a writer failed). */
static int
extract_all(struct tr_extract *x)
{
	struct archive_entry *e;

	for (;;) {
		char *member;
		const char *why;
		int r = archive_read_next_header(x->in, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return tar_read_failed(&x->s, x->in, NULL);
		member = pitr_xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
		if (member == NULL)
			return -1;
		why = unsafe_name(member);
		r = why != NULL ? refuse(x->s.path, member, why) : extract_entry(x, e, member);
		free(member);
		for (size_t i = 0; r == 0 && i < PITR_TARREAD_WRITERS; i++)
			if (x->w[i].q != NULL && pitr_tarq_failed(x->w[i].q))
				r = -2;
		if (r != 0)
			return r;
		if (archive_entry_filetype(e) == AE_IFREG)
			pitr_progress_add(tar_progress(), 0, 1);
	}
	if (tar_drain(&x->s) != 0 || disk_close(x->out, x->s.path, NULL) != 0)
		return -1;
	for (size_t i = 0; i < PITR_TARREAD_WRITERS; i++) {
		if (x->w[i].q == NULL)
			continue;
		if (pitr_tarq_end(x->w[i].q) != 0)
			return -2;
		x->written += x->w[i].bytes;
	}
	return 0;
}

static int
extract(const char *path, int fd, enum pitr_codec codec, struct tr_extract *x, uint64_t *bytes)
{
	int rc = -1;

	x->s.fd = -1;
	x->wflags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
	if (geteuid() == 0)
		x->wflags |= ARCHIVE_EXTRACT_OWNER;
	x->in = tar_source_open(&x->s, path, fd, codec);
	if (x->in == NULL)
		return -1;
	if ((x->out = disk_new(path, x->wflags)) == NULL)
		goto out;
	tr_current = x;
	rc = extract_all(x);
	tr_current = NULL;
	if (rc == -2)
		rc = writer_failed(x);
	if (rc == 0 && bytes != NULL)
		*bytes = x->written;
out:
	/* Writers stopped (what they were handed is dropped) before their
	 * disk writers go, and all of it before the source. */
	for (size_t i = 0; i < PITR_TARREAD_WRITERS; i++) {
		pitr_tarq_free(x->w[i].q);
		if (x->w[i].out != NULL)
			archive_write_free(x->w[i].out);
		free(x->w[i].dest);
		free(x->w[i].member);
	}
	if (x->out != NULL)
		archive_write_free(x->out);
	archive_read_free(x->in);
	tar_source_close(&x->s);
	return rc;
}

int
pitr_tarread_extract(const char *path, enum pitr_codec codec, pitr_tarread_map_fn map, void *ctx,
		     unsigned flags, uint64_t *bytes)
{
	return pitr_tarread_extract_fd(-1, path, codec, map, ctx, flags, bytes);
}

int
pitr_tarread_extract_fd(int fd, const char *name, enum pitr_codec codec, pitr_tarread_map_fn map,
			void *ctx, unsigned flags, uint64_t *bytes)
{
	struct tr_extract x = { .map = map, .ctx = ctx, .flags = flags };

	return extract(name, fd, codec, &x, bytes);
}

int
pitr_tarread_extract_split(const char *path, enum pitr_codec codec, pitr_tarread_dest_fn map,
			   void *ctx, unsigned flags, uint64_t *bytes)
{
	return pitr_tarread_extract_split_fd(-1, path, codec, map, ctx, flags, bytes);
}

int
pitr_tarread_extract_split_fd(int fd, const char *name, enum pitr_codec codec,
			      pitr_tarread_dest_fn map, void *ctx, unsigned flags, uint64_t *bytes)
{
	struct tr_extract x = { .dmap = map, .ctx = ctx, .flags = flags };

	return extract(name, fd, codec, &x, bytes);
}

int
pitr_tarread_extract_take(const char *path, enum pitr_codec codec, pitr_tarread_dest_fn map,
			  pitr_tarread_take_fn take, void *ctx, unsigned flags, uint64_t *bytes)
{
	return pitr_tarread_extract_take_fd(-1, path, codec, map, take, ctx, flags, bytes);
}

int
pitr_tarread_extract_take_fd(int fd, const char *name, enum pitr_codec codec,
			     pitr_tarread_dest_fn map, pitr_tarread_take_fn take, void *ctx,
			     unsigned flags, uint64_t *bytes)
{
	struct tr_extract x = { .dmap = map, .take = take, .ctx = ctx, .flags = flags };

	return extract(name, fd, codec, &x, bytes);
}

int
pitr_tarread_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1;

	if (fd < 0) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	if (syncfs(fd) != 0) {
		pitr_log_error("could not sync the file system of \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		pitr_log_error("could not fsync directory \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

