/*
 * tarsource.c - a tarball opened for reading (tarsource.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>

#include "common/log.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "tar/readahead.h"
#include "tar/tarread.h"
#include "tar/tarsource.h"

/* pitr_tarread_progress(): what the readers count into. */
static struct pitr_progress *progress;

void
pitr_tarread_progress(struct pitr_progress *p)
{
	progress = p;
}

struct pitr_progress *
tar_progress(void)
{
	return progress;
}

static la_ssize_t
read_cb(struct archive *a, void *ctx, const void **out)
{
	struct tar_source *s = ctx;
	ssize_t n = pitr_readahead_next(s->ra, out);

	if (n < 0) {
		s->codec_failed = true;
		archive_set_error(a, EIO, "decompression failed");
		return -1;
	}
	pitr_progress_add(tar_progress(), (uint64_t)n, 0);
	return (la_ssize_t)n;
}

void
tar_source_close(struct tar_source *s)
{
	pitr_readahead_stop(s->ra);
	s->ra = NULL;
	pitr_codec_reader_free(s->reader);
	s->reader = NULL;
	if (s->fd >= 0 && s->own_fd)
		close(s->fd);
	s->fd = -1;
}

/* Open `path` (or read `fd`) through `codec` into a new tar reader. */
struct archive *
tar_source_open(struct tar_source *s, const char *path, int fd, enum pitr_codec codec)
{
	struct archive *a;

	s->path = path;
	s->own_fd = fd < 0;
	s->fd = fd >= 0 ? fd : open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if ((a = pitr_xcheck(archive_read_new())) == NULL) {
		tar_source_close(s);
		return NULL;
	}
	s->reader = pitr_codec_reader_new(codec, s->fd, path);
	if (s->reader == NULL || (s->ra = pitr_readahead_start(s->reader)) == NULL) {
		archive_read_free(a);
		tar_source_close(s);
		return NULL;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open(a, s, NULL, read_cb, NULL) != ARCHIVE_OK) {
		if (!s->codec_failed)
			pitr_log_error("\"%s\" is not a tar archive: %s", path, archive_error_string(a));
		archive_read_free(a);
		tar_source_close(s);
		return NULL;
	}
	return a;
}

/* A tar-level failure on the read side, logged unless the codec said why. */
int
tar_read_failed(struct tar_source *s, struct archive *a, const char *member)
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

int
tar_drain(struct tar_source *s)
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
