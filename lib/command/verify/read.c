/*
 * read.c - pitr-verify's reads (verify_impl.h): a file or an object read
 * to its end through its store's descriptor, the store saying whether it
 * all came, the progress counted in stored bytes.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/verify/verify_impl.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "repo/store.h"

/* The progress, in stored bytes: where the codec's reads reached in the
 * file `fd`; `done`: the file is read.  An object's descriptor is a pipe
 * with no position: its `size` (its listing's) counts once it is read. */
static void
progress_at(struct vf_run *run, int fd, uint64_t size, bool done)
{
	off_t pos;

	if (run->progress == NULL)
		return;
	if ((pos = lseek(fd, 0, SEEK_CUR)) < 0) {
		if (!done)
			return;
		pos = (off_t)size;
	}
	pitr_progress_set(run->progress, run->done_bytes + (uint64_t)pos, run->done_files);
	if (done) {
		run->done_bytes += (uint64_t)pos;
		run->done_files++;
	}
}

/* The stored size of `name` in `st` for the progress: 0 without one. */
static uint64_t
stored_size(const struct vf_run *run, struct pitr_store *st, const char *name)
{
	struct pitr_store_entry e;

	return run->progress != NULL && pitr_store_stat(st, name, &e) == 0 ? e.size : 0;
}

int
pitr_verify_open(struct pitr_store *st, const char *name, const char *path)
{
	int fd = pitr_store_read_begin(st, name, NULL, 0);

	if (fd == -2)
		pitr_log_error("could not open \"%s\": it is gone", path);
	return fd < 0 ? -1 : fd;
}

enum vf_read
pitr_verify_read_whole(struct vf_run *run, struct pitr_store *st, const char *name, const char *path,
	   enum pitr_codec codec, vf_consume_fn fn, void *ctx, uint64_t *total)
{
	struct pitr_codec_reader *r;
	enum vf_read result = VF_READ_OK;
	uint64_t size = stored_size(run, st, name);
	int fd;

	*total = 0;
	if ((fd = pitr_verify_open(st, name, path)) < 0)
		return VF_READ_UNREADABLE;
	r = pitr_codec_reader_new(codec, fd, path);
	if (r == NULL) {
		(void)pitr_store_read_end(st, fd, PITR_STORE_READ_EARLY, NULL, 0);
		return VF_READ_UNREADABLE;
	}
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, run->buf, VF_READ_SIZE);

		if (n < 0) {
			result = codec == PITR_CODEC_NONE ? VF_READ_UNREADABLE : VF_READ_INCOMPLETE;
			break;
		}
		if (n == 0)
			break;
		if (fn != NULL)
			fn(ctx, run->buf, (size_t)n);
		*total += (uint64_t)n;
		progress_at(run, fd, size, false);
	}
	progress_at(run, fd, size, true);
	pitr_codec_reader_free(r);
	/* Stopped at a damaged stream on purpose: only the store's own
	 * failure before it counts (it would be why). */
	if (pitr_store_read_end(st, fd, result == VF_READ_OK ? 0 : PITR_STORE_READ_EARLY, NULL,
				0) != 0)
		result = VF_READ_UNREADABLE;
	return result;
}

void
pitr_verify_read_problem(struct vf_run *run, const char *kind, const char *path, enum pitr_codec codec,
	     enum vf_read rc)
{
	if (rc == VF_READ_INCOMPLETE)
		pitr_verify_problem(run, kind, path, "not a complete %s stream", pitr_codec_name(codec));
	else
		pitr_verify_problem(run, kind, path, "could not be read");
}


int
pitr_verify_read_text(struct pitr_store *st, const char *name, const char *path, size_t max,
		      char **text)
{
	char *buf = pitr_xmalloc(max + 1);
	size_t len = 0;
	ssize_t n = 1;
	int fd, rc = -1;

	*text = NULL;
	if (buf == NULL)
		return -1;
	if ((fd = pitr_store_read_begin(st, name, NULL, 0)) < 0) {
		free(buf);
		return fd == -2 ? 1 : -1;
	}
	while (len <= max &&
	       (n = read(fd, buf + len, max + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
			break;
		}
		len += (size_t)n;
	}
	if (len > max)
		pitr_log_error("\"%s\" is longer than %zu bytes: not the file looked for", path,
			       max);
	else if (n == 0)
		rc = 0;
	if (pitr_store_read_end(st, fd, rc == 0 ? 0 : PITR_STORE_READ_EARLY, NULL, 0) != 0)
		rc = -1;
	if (rc == 0) {
		buf[len] = '\0';
		*text = buf;
	} else {
		free(buf);
	}
	return rc;
}
