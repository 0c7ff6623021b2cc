/*
 * tarread.c - backup tarballs out to disk: our codec readers feed
 * libarchive's tar reader, archive_write_disk writes what the caller's map
 * chooses.
 *
 * The codec reader runs on a thread of its own (readahead.c), so that
 * decompressing and writing the files take a core each.
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
#include "tar/readahead.h"
#include "tar/tarread.h"

struct tr_source {
	const char *path;
	int fd;
	struct pitr_codec_reader *reader;
	struct pitr_readahead *ra;   /* the thread decompressing `reader` */
	bool codec_failed;     /* the codec reader logged already */
};

/* pitr_tarread_progress(): what the extractions count into. */
static struct pitr_progress *tr_progress;

void
pitr_tarread_progress(struct pitr_progress *p)
{
	tr_progress = p;
}

static la_ssize_t
read_cb(struct archive *a, void *ctx, const void **out)
{
	struct tr_source *s = ctx;
	ssize_t n = pitr_readahead_next(s->ra, out);

	if (n < 0) {
		s->codec_failed = true;
		archive_set_error(a, EIO, "decompression failed");
		return -1;
	}
	pitr_progress_add(tr_progress, (uint64_t)n, 0);
	return (la_ssize_t)n;
}

static void
source_close(struct tr_source *s)
{
	pitr_readahead_stop(s->ra);
	s->ra = NULL;
	pitr_codec_reader_free(s->reader);
	s->reader = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Open `path` for reading through `codec` into a new tar reader. */
static struct archive *
source_open(struct tr_source *s, const char *path, enum pitr_codec codec)
{
	struct archive *a;

	s->path = path;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if ((a = pitr_xcheck(archive_read_new())) == NULL) {
		source_close(s);
		return NULL;
	}
	s->reader = pitr_codec_reader_new(codec, s->fd, path);
	if (s->reader == NULL || (s->ra = pitr_readahead_start(s->reader)) == NULL) {
		archive_read_free(a);
		source_close(s);
		return NULL;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, s, NULL, read_cb, NULL) != ARCHIVE_OK) {
		if (!s->codec_failed)
			pitr_log_error("\"%s\" is not a tar archive: %s", path, archive_error_string(a));
		archive_read_free(a);
		source_close(s);
		return NULL;
	}
	return a;
}

/* A tar-level failure on the read side, logged unless the codec said why. */
static int
read_failed(struct tr_source *s, struct archive *a, const char *member)
{
	if (s->codec_failed)
		return -1;
	if (member != NULL)
		pitr_log_error("\"%s\" is corrupt at member \"%s\": %s", s->path, member,
			       archive_error_string(a) ? archive_error_string(a) : "unknown error");
	else
		pitr_log_error("\"%s\" is corrupt: %s", s->path,
			       archive_error_string(a) ? archive_error_string(a) : "unknown error");
	return -1;
}

/* libarchive stops at the tar's end marker; read the compressed stream to
 * its end too, or the codec's final check (gzip's CRC and length, say)
 * would never run and a damaged tail would pass. */
static int
drain(struct tr_source *s)
{
	for (;;) {
		const void *block;
		ssize_t n = pitr_readahead_next(s->ra, &block);

		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
	}
}

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

/* Copy the current member's data from the reader to the disk writer. */
static int
copy_data(struct tr_source *s, struct archive *in, struct archive *out, const char *member,
	  const char *dest, uint64_t *bytes)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(in, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK)
			return read_failed(s, in, member);
		if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK) {
			pitr_log_error("could not write \"%s\": %s", dest, archive_error_string(out));
			return -1;
		}
		*bytes += len;
	}
}

/* Extract the current entry `e` (name already judged safe). */
static int
extract_entry(struct tr_source *s, struct archive *in, struct archive *out,
	      struct archive_entry *e, const char *member, pitr_tarread_map_fn map, void *ctx,
	      unsigned flags, uint64_t *bytes)
{
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	char *dest = NULL, *link_dest = NULL, *link_member = NULL;
	bool skip = false;
	struct stat st;
	int rc = -1;

	if (hardlink != NULL) {
		const char *why = unsafe_name(hardlink);

		if (why != NULL) {
			char reason[64 + 4096];

			snprintf(reason, sizeof(reason), "hard link to \"%s\": %s", hardlink, why);
			return refuse(s->path, member, reason);
		}
		/* The entry is reset by set_pathname below; keep the name. */
		if ((link_member = pitr_xstrdup(hardlink)) == NULL)
			return -1;
	} else if (type == AE_IFLNK) {
		if (!(flags & PITR_TARREAD_ALLOW_SYMLINKS))
			return refuse(s->path, member, "a symbolic link");
	} else if (type != AE_IFREG && type != AE_IFDIR) {
		return refuse(s->path, member, "not a file, directory or link");
	}
	dest = map(ctx, member, &skip);
	if (dest == NULL) {
		rc = skip ? 0 : -1;
		goto out;
	}
	if (dest[0] != '/') {
		pitr_log_error("\"%s\": member \"%s\" mapped to relative path \"%s\"", s->path, member,
			       dest);
		goto out;
	}
	/* libarchive would create it, piece by piece, but no later step (nor
	 * PostgreSQL) can name it, and nothing may be created that cannot be
	 * removed by name: refuse it before anything is written. */
	if (strlen(dest) >= PATH_MAX) {
		pitr_log_error("\"%s\": member \"%.100s...\" refused: its destination would be %zu "
			       "bytes long, over the system's limit of %d", s->path, member,
			       strlen(dest), PATH_MAX);
		goto out;
	}
	if (link_member != NULL) {
		bool lskip = false;

		link_dest = map(ctx, link_member, &lskip);
		if (link_dest == NULL) {
			if (lskip)
				pitr_log_error("\"%s\": member \"%s\" is a hard link to \"%s\", which is left "
					       "out", s->path, member, link_member);
			goto out;
		}
		archive_entry_set_hardlink(e, link_dest);
	}
	/* libarchive's NO_OVERWRITE keeps an existing file silently; an
	 * extraction must instead say that it would have replaced one. */
	if (lstat(dest, &st) == 0 && !(S_ISDIR(st.st_mode) && type == AE_IFDIR)) {
		pitr_log_error("could not create \"%s\" (member \"%s\" of \"%s\"): it already exists",
			       dest, member, s->path);
		goto out;
	}
	archive_entry_set_pathname(e, dest);
	if (archive_write_header(out, e) != ARCHIVE_OK) {
		pitr_log_error("could not create \"%s\" (member \"%s\" of \"%s\"): %s", dest, member,
			       s->path, archive_error_string(out));
		goto out;
	}
	if (type == AE_IFREG && archive_entry_size(e) > 0 &&
	    copy_data(s, in, out, member, dest, bytes) != 0)
		goto out;
	if (archive_write_finish_entry(out) != ARCHIVE_OK) {
		pitr_log_error("could not finish \"%s\" (member \"%s\" of \"%s\"): %s", dest, member,
			       s->path, archive_error_string(out));
		goto out;
	}
	rc = 0;
out:
	free(dest);
	free(link_dest);
	free(link_member);
	return rc;
}

int
pitr_tarread_extract(const char *path, enum pitr_codec codec, pitr_tarread_map_fn map, void *ctx,
		     unsigned flags, uint64_t *bytes)
{
	struct tr_source s = { .fd = -1 };
	struct archive *in, *out = NULL;
	struct archive_entry *e;
	int wflags = ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
	uint64_t written = 0;
	int rc = -1;

	if (geteuid() == 0)
		wflags |= ARCHIVE_EXTRACT_OWNER;
	in = source_open(&s, path, codec);
	if (in == NULL)
		return -1;
	if ((out = pitr_xcheck(archive_write_disk_new())) == NULL)
		goto out;
	if (archive_write_disk_set_options(out, wflags) != ARCHIVE_OK) {
		pitr_log_error("could not extract \"%s\": %s", path, archive_error_string(out));
		goto out;
	}
	for (;;) {
		char *member;
		const char *why;
		int r = archive_read_next_header(in, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			read_failed(&s, in, NULL);
			goto out;
		}
		member = pitr_xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
		if (member == NULL)
			goto out;
		why = unsafe_name(member);
		r = why != NULL ? refuse(path, member, why) :
			extract_entry(&s, in, out, e, member, map, ctx, flags, &written);
		free(member);
		if (r != 0)
			goto out;
		if (archive_entry_filetype(e) == AE_IFREG)
			pitr_progress_add(tr_progress, 0, 1);
	}
	if (drain(&s) != 0)
		goto out;
	/* Directory modes and times are applied here, deepest first. */
	if (archive_write_close(out) != ARCHIVE_OK) {
		pitr_log_error("could not finish extracting \"%s\": %s", path, archive_error_string(out));
		goto out;
	}
	if (bytes != NULL)
		*bytes = written;
	rc = 0;
out:
	if (out != NULL)
		archive_write_free(out);
	archive_read_free(in);
	source_close(&s);
	return rc;
}

int
pitr_tarread_list(const char *path, enum pitr_codec codec,
		  void (*fn)(void *ctx, const char *member, int64_t size), void *ctx)
{
	struct tr_source s = { .fd = -1 };
	struct archive *in;
	struct archive_entry *e;
	int rc = -1;

	in = source_open(&s, path, codec);
	if (in == NULL)
		return -1;
	for (;;) {
		int r = archive_read_next_header(in, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			read_failed(&s, in, NULL);
			goto out;
		}
		/* Skipping reads through the codec: every byte is checked. */
		if (archive_read_data_skip(in) != ARCHIVE_OK) {
			read_failed(&s, in, archive_entry_pathname(e));
			goto out;
		}
		if (fn != NULL)
			fn(ctx, archive_entry_pathname(e), archive_entry_size(e));
	}
	if (drain(&s) != 0)
		goto out;
	rc = 0;
out:
	archive_read_free(in);
	source_close(&s);
	return rc;
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
