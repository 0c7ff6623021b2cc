/*
 * codec.c - the codec table, the public stream functions that dispatch to
 * the per-codec files, and the pass-through "none" codec.
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/codec.h"
#include "compress/codec_impl.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"

static int none_writer_new(struct pitr_codec_writer *w);
static int none_reader_new(struct pitr_codec_reader *r);
static int read_failed(const struct pitr_codec_reader *r);

/* One row per codec; the levels are the command-line tools'. */
static const struct codec_info {
	const char *name;
	const char *ext;
	int default_level;
	int min_level;
	int max_level;
	int (*writer_new)(struct pitr_codec_writer *w);
	int (*reader_new)(struct pitr_codec_reader *r);
	size_t (*mem_estimate)(int level, int threads);
} codecs[PITR_CODEC_COUNT] = {
	[PITR_CODEC_NONE] = { "none", "", 0, 0, 0, none_writer_new, none_reader_new, NULL },
	[PITR_CODEC_GZIP] = { "gzip", ".gz", 6, 1, 9,
			      codec_gzip_writer_new, codec_gzip_reader_new,
			      codec_gzip_mem_estimate },
	[PITR_CODEC_BZIP2] = { "bzip2", ".bz2", 9, 1, 9,
			       codec_bzip2_writer_new, codec_bzip2_reader_new,
			       codec_bzip2_mem_estimate },
	[PITR_CODEC_LZMA] = { "lzma", ".lzma", 6, 0, 9,
			      codec_lzma_writer_new, codec_lzma_reader_new,
			      codec_lzma_mem_estimate },
	[PITR_CODEC_XZ] = { "xz", ".xz", 6, 0, 9, codec_xz_writer_new, codec_xz_reader_new,
			    codec_xz_mem_estimate },
	[PITR_CODEC_LZ4] = { "lz4", ".lz4", 1, 1, 12,
			     codec_lz4_writer_new, codec_lz4_reader_new,
			     codec_lz4_mem_estimate },
	[PITR_CODEC_ZSTD] = { "zstd", ".zst", 3, 1, 19,
			      codec_zstd_writer_new, codec_zstd_reader_new,
			      codec_zstd_mem_estimate },
};

/* The row of `codec`; an out-of-range value is a programmer error. */
static const struct codec_info *
info(enum pitr_codec codec)
{
	assert((unsigned)codec < PITR_CODEC_COUNT);
	return &codecs[codec];
}

const char *
pitr_codec_name(enum pitr_codec codec)
{
	return info(codec)->name;
}

const char *
pitr_codec_ext(enum pitr_codec codec)
{
	return info(codec)->ext;
}

int
pitr_codec_from_name(const char *name, enum pitr_codec *out)
{
	if (name == NULL)
		return -1;
	for (int codec_idx = 0; codec_idx < PITR_CODEC_COUNT; codec_idx++) {
		if (strcmp(codecs[codec_idx].name, name) == 0) {
			*out = (enum pitr_codec)codec_idx;
			return 0;
		}
	}
	return -1;
}

/*
 * A name that is only an extension (".gz") is a hidden file, not a
 * compressed one with an empty stem, so the stem must be non-empty.
 * `stem_len` may be NULL.
 */
enum pitr_codec
pitr_codec_from_filename(const char *filename, size_t *stem_len)
{
	size_t len = strlen(filename);

	for (int codec_idx = 0; codec_idx < PITR_CODEC_COUNT; codec_idx++) {
		size_t ext_len = strlen(codecs[codec_idx].ext);

		if (ext_len == 0 || len <= ext_len)
			continue;
		if (strcmp(filename + len - ext_len, codecs[codec_idx].ext) == 0) {
			if (stem_len != NULL)
				*stem_len = len - ext_len;
			return (enum pitr_codec)codec_idx;
		}
	}
	if (stem_len != NULL)
		*stem_len = len;
	return PITR_CODEC_NONE;
}

int
pitr_codec_default_level(enum pitr_codec codec)
{
	return info(codec)->default_level;
}

int
pitr_codec_min_level(enum pitr_codec codec)
{
	return info(codec)->min_level;
}

int
pitr_codec_max_level(enum pitr_codec codec)
{
	return info(codec)->max_level;
}

size_t
pitr_codec_mem_estimate(enum pitr_codec codec, int level, int threads)
{
	const struct codec_info *ci = info(codec);

	if (ci->mem_estimate == NULL)
		return 0;
	if (level == 0 && ci->min_level > 0)
		level = ci->default_level;
	if (level < ci->min_level)
		level = ci->min_level;
	if (level > ci->max_level)
		level = ci->max_level;
	return ci->mem_estimate(level, threads > 1 ? threads : 1);
}

int
codec_emit(struct pitr_codec_writer *w, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	return w->sink(w->ctx, buf, len);
}

int
codec_writer_fail(const struct pitr_codec_writer *w, const char *reason)
{
	pitr_log_error("could not compress with %s: %s", info(w->codec)->name, reason);
	return -1;
}

struct pitr_codec_writer *
pitr_codec_writer_new(enum pitr_codec codec, int level, int threads, pitr_codec_sink_fn sink,
		      void *ctx)
{
	const struct codec_info *ci = info(codec);
	struct pitr_codec_writer *w = NULL;

	assert(sink != NULL);
	if (level == 0 && ci->min_level > 0)
		level = ci->default_level;
	if (level < ci->min_level || level > ci->max_level) {
		if (ci->min_level == ci->max_level)
			pitr_log_error("invalid compression level %d for %s: must be %d", level,
				       ci->name, ci->min_level);
		else
			pitr_log_error("invalid compression level %d for %s: must be between %d and %d",
				       level, ci->name, ci->min_level, ci->max_level);
		return NULL;
	}
	if ((w = pitr_xcalloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->codec = codec;
	w->level = level;
	w->threads = threads > 1 ? threads : 1;
	w->sink = sink;
	w->ctx = ctx;
	if (ci->writer_new(w) != 0) {
		pitr_codec_writer_free(w);
		return NULL;
	}
	return w;
}

int
pitr_codec_writer_write(struct pitr_codec_writer *w, const void *buf, size_t len)
{
	assert(!w->finished);
	if (w->failed)
		return -1;
	if (len == 0)
		return 0;
	if (w->ops->write(w, buf, len) != 0) {
		w->failed = true;
		return -1;
	}
	return 0;
}

int
pitr_codec_writer_finish(struct pitr_codec_writer *w)
{
	assert(!w->finished);
	if (w->failed)
		return -1;
	if (w->ops->finish(w) != 0) {
		w->failed = true;
		return -1;
	}
	w->finished = true;
	return 0;
}

void
pitr_codec_writer_free(struct pitr_codec_writer *w)
{
	if (w == NULL)
		return;
	if (w->ops != NULL)
		w->ops->free(w);
	free(w);
}

int
codec_reader_fill(struct pitr_codec_reader *r)
{
	ssize_t got;

	if (r->in_pos < r->in_len || r->eof)
		return 0;
	got = pitr_io_read(r->fd, r->in, CODEC_BUF_SIZE);
	if (got < 0)
		return read_failed(r);
	r->in_pos = 0;
	r->in_len = (size_t)got;
	if (got == 0)
		r->eof = true;
	return 0;
}

int
codec_reader_truncated(const struct pitr_codec_reader *r)
{
	if (r->err != NULL)
		snprintf(r->err, r->err_size, "truncated: the compressed stream ends early");
	else
		pitr_log_error("\"%s\" is truncated: the compressed stream ends early", r->what);
	return -1;
}

int
codec_reader_corrupt(const struct pitr_codec_reader *r, const char *reason)
{
	if (r->err != NULL)
		snprintf(r->err, r->err_size, "corrupt: %s", reason);
	else
		pitr_log_error("\"%s\" is corrupt: %s", r->what, reason);
	return -1;
}

int
codec_reader_fail(const struct pitr_codec_reader *r, const char *reason)
{
	if (r->err != NULL)
		snprintf(r->err, r->err_size, "could not decompress: %s", reason);
	else
		pitr_log_error("could not decompress \"%s\": %s", r->what, reason);
	return -1;
}

/* read(2) of the compressed input failed (errno set). */
static int
read_failed(const struct pitr_codec_reader *r)
{
	if (r->err != NULL)
		snprintf(r->err, r->err_size, "could not read: %s", strerror(errno));
	else
		pitr_log_error("could not read \"%s\": %s", r->what, strerror(errno));
	return -1;
}

struct pitr_codec_reader *
pitr_codec_reader_new(enum pitr_codec codec, int fd, const char *what)
{
	return pitr_codec_reader_new_quiet(codec, fd, what, NULL, 0);
}

struct pitr_codec_reader *
pitr_codec_reader_new_quiet(enum pitr_codec codec, int fd, const char *what, char *err,
			    size_t err_size)
{
	const struct codec_info *ci = info(codec);
	struct pitr_codec_reader *r = NULL;

	if ((r = pitr_xcalloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->codec = codec;
	r->fd = fd;
	r->err = err_size > 0 ? err : NULL;
	r->err_size = err_size;
	if (r->err != NULL)
		r->err[0] = '\0';
	if ((r->what = pitr_xstrdup(what)) == NULL || (r->in = pitr_xmalloc(CODEC_BUF_SIZE)) == NULL ||
	    ci->reader_new(r) != 0)
		goto fail;
	return r;
fail:
	pitr_codec_reader_free(r);
	return NULL;
}

/* len == 0 is a programmer error: 0 would read as the end of the stream. */
ssize_t
pitr_codec_reader_read(struct pitr_codec_reader *r, void *buf, size_t len)
{
	ssize_t got;

	assert(len > 0);
	if (r->failed)
		return -1;
	if (r->done)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	got = r->ops->read(r, buf, len);
	if (got < 0)
		r->failed = true;
	else if (got == 0)
		r->done = true;
	return got;
}

void
pitr_codec_reader_free(struct pitr_codec_reader *r)
{
	if (r == NULL)
		return;
	if (r->ops != NULL)
		r->ops->free(r);
	free(r->in);
	free(r->what);
	free(r);
}

/* The "none" codec: bytes go to the sink and come from the fd unchanged. */

static int
none_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	return codec_emit(w, buf, len);
}

static int
none_finish(struct pitr_codec_writer *w)
{
	(void)w;
	return 0;
}

static void
none_writer_free(struct pitr_codec_writer *w)
{
	(void)w;
}

static const struct codec_writer_ops none_writer_ops = {
	.write = none_write,
	.finish = none_finish,
	.free = none_writer_free,
};

static int
none_writer_new(struct pitr_codec_writer *w)
{
	w->ops = &none_writer_ops;
	return 0;
}

/* Reads straight into the caller's buffer: an empty file is an empty
 * stream here, the only codec where that holds. */
static ssize_t
none_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	ssize_t got;

	got = pitr_io_read(r->fd, buf, len);
	if (got < 0)
		return read_failed(r);
	return got;
}

static void
none_reader_free(struct pitr_codec_reader *r)
{
	(void)r;
}

static const struct codec_reader_ops none_reader_ops = {
	.read = none_read,
	.free = none_reader_free,
};

static int
none_reader_new(struct pitr_codec_reader *r)
{
	r->ops = &none_reader_ops;
	return 0;
}

size_t
pitr_codec_prefix_len(const char *spec)
{
	const char *eq = strchr(spec, '=');
	enum pitr_codec codec;
	char name[16];

	if (eq == NULL || (size_t)(eq - spec) >= sizeof(name))
		return 0;
	memcpy(name, spec, (size_t)(eq - spec));
	name[eq - spec] = '\0';
	return pitr_codec_from_name(name, &codec) == 0 ? (size_t)(eq - spec) + 1 : 0;
}
