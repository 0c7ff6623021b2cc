/*
 * lz4.c - the LZ4 frame format (what the lz4 tool writes) through
 * lz4frame, concatenated frames read as one.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4frame.h>
#include <lz4hc.h>

#include "compress/codec_impl.h"
#include "common/xalloc.h"

/* Input fed to LZ4F_compressUpdate() at a time, equal to the block size:
 * lz4frame compresses a whole block straight from the caller's buffer but
 * copies anything smaller into its own, and pitr-archive reads 1 MiB at a
 * time.  (lz4's window is 64 KiB, so 1 MiB blocks cost no ratio against
 * the tool's 4 MiB ones.) */
#define LZ4_STEP ((size_t)1024 * 1024)

struct lz4_writer {
	LZ4F_cctx *cctx;
	unsigned char *out;
	size_t out_cap;             /* one step's bound and CODEC_BUF_SIZE more */
	size_t out_len;
	bool begun;                 /* the frame header was written */
	LZ4F_preferences_t prefs;
};

/* Send what is buffered to the sink. */
static int
lz4_flush_out(struct pitr_codec_writer *w)
{
	struct lz4_writer *lw = w->impl;
	int rc = codec_emit(w, lw->out, lw->out_len);

	lw->out_len = 0;
	return rc;
}

/* The header is written by the first write (or finish) rather than by the
 * constructor, so that every sink call happens in write or finish. */
static int
lz4_begin(struct pitr_codec_writer *w)
{
	struct lz4_writer *lw = w->impl;
	size_t ret;

	ret = LZ4F_compressBegin(lw->cctx, lw->out, lw->out_cap, &lw->prefs);
	if (LZ4F_isError(ret))
		return codec_writer_fail(w, LZ4F_getErrorName(ret));
	lw->out_len = ret;
	lw->begun = true;
	return 0;
}

static int
lz4_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	struct lz4_writer *lw = w->impl;

	if (!lw->begun && lz4_begin(w) != 0)
		return -1;
	while (len > 0) {
		size_t step = len > LZ4_STEP ? LZ4_STEP : len;
		size_t ret;

		if (lw->out_cap - lw->out_len < LZ4F_compressBound(step, &lw->prefs) &&
		    lz4_flush_out(w) != 0)
			return -1;
		ret = LZ4F_compressUpdate(lw->cctx, lw->out + lw->out_len,
					  lw->out_cap - lw->out_len, buf, step, NULL);
		if (LZ4F_isError(ret))
			return codec_writer_fail(w, LZ4F_getErrorName(ret));
		lw->out_len += ret;
		buf += step;
		len -= step;
	}
	return 0;
}

static int
lz4_finish(struct pitr_codec_writer *w)
{
	struct lz4_writer *lw = w->impl;
	size_t ret;

	if (!lw->begun && lz4_begin(w) != 0)
		return -1;
	if (lw->out_cap - lw->out_len < LZ4F_compressBound(0, &lw->prefs) &&
	    lz4_flush_out(w) != 0)
		return -1;
	ret = LZ4F_compressEnd(lw->cctx, lw->out + lw->out_len, lw->out_cap - lw->out_len, NULL);
	if (LZ4F_isError(ret))
		return codec_writer_fail(w, LZ4F_getErrorName(ret));
	lw->out_len += ret;
	return lz4_flush_out(w);
}

static void
lz4_writer_free(struct pitr_codec_writer *w)
{
	struct lz4_writer *lw = w->impl;

	if (lw == NULL)
		return;
	LZ4F_freeCompressionContext(lw->cctx);
	free(lw->out);
	free(lw);
	w->impl = NULL;
}

static const struct codec_writer_ops lz4_writer_ops = {
	.write = lz4_write,
	.finish = lz4_finish,
	.free = lz4_writer_free,
};

/* The preferences of every writer at `level`. */
static void
lz4_prefs(LZ4F_preferences_t *prefs, int level)
{
	memset(prefs, 0, sizeof(*prefs));
	prefs->frameInfo.blockSizeID = LZ4F_max1MB;
	prefs->frameInfo.blockMode = LZ4F_blockIndependent;
	prefs->frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	prefs->compressionLevel = level;
}

/*
 * The lz4 tool's frame: independent blocks and a content checksum (no
 * block checksums); blocks of 1 MiB rather than its 4 MiB (see LZ4_STEP).
 */
int
codec_lz4_writer_new(struct pitr_codec_writer *w)
{
	struct lz4_writer *lw;
	LZ4F_errorCode_t ret;

	w->ops = &lz4_writer_ops;
	if ((lw = pitr_xcalloc(1, sizeof(*lw))) == NULL)
		return -1;
	w->impl = lw;
	lz4_prefs(&lw->prefs, w->level);
	/* Output accumulates until a step's worst case might not fit: the
	 * sink sees writes of at least CODEC_BUF_SIZE until the last. */
	lw->out_cap = LZ4F_compressBound(LZ4_STEP, &lw->prefs) + CODEC_BUF_SIZE;
	if ((lw->out = pitr_xmalloc(lw->out_cap)) == NULL)
		return -1;
	ret = LZ4F_createCompressionContext(&lw->cctx, LZ4F_VERSION);
	if (LZ4F_isError(ret))
		return codec_writer_fail(w, LZ4F_getErrorName(ret));
	return 0;
}

struct lz4_reader {
	LZ4F_dctx *dctx;
	bool frame_end;             /* a frame ended and no byte of another was seen */
};

/*
 * LZ4F_decompress() returns 0 exactly when a frame is complete and starts
 * the next frame by itself; bytes that are not a frame fail its magic
 * check.  At the end of the file it still runs, without input, to flush
 * what it holds; if it then produces nothing mid-frame, the file is
 * truncated.
 */
static ssize_t
lz4_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	struct lz4_reader *lr = r->impl;
	size_t produced = 0;

	while (produced == 0) {
		size_t dst_size = len;
		size_t src_size;
		size_t ret;

		if (codec_reader_fill(r) != 0)
			return -1;
		if (lr->frame_end && r->in_pos == r->in_len)
			break;
		src_size = r->in_len - r->in_pos;
		ret = LZ4F_decompress(lr->dctx, buf, &dst_size, r->in + r->in_pos, &src_size, NULL);
		if (LZ4F_isError(ret))
			return codec_reader_corrupt(r, LZ4F_getErrorName(ret));
		r->in_pos += src_size;
		produced = dst_size;
		if (src_size > 0 || dst_size > 0)
			lr->frame_end = ret == 0;
		if (r->eof && r->in_pos == r->in_len && !lr->frame_end && produced == 0)
			return codec_reader_truncated(r);
	}
	return (ssize_t)produced;
}

static void
lz4_reader_free(struct pitr_codec_reader *r)
{
	struct lz4_reader *lr = r->impl;

	if (lr == NULL)
		return;
	LZ4F_freeDecompressionContext(lr->dctx);
	free(lr);
	r->impl = NULL;
}

static const struct codec_reader_ops lz4_reader_ops = {
	.read = lz4_read,
	.free = lz4_reader_free,
};

int
codec_lz4_reader_new(struct pitr_codec_reader *r)
{
	struct lz4_reader *lr;
	LZ4F_errorCode_t ret;

	r->ops = &lz4_reader_ops;
	if ((lr = pitr_xcalloc(1, sizeof(*lr))) == NULL)
		return -1;
	r->impl = lr;
	ret = LZ4F_createDecompressionContext(&lr->dctx, LZ4F_VERSION);
	if (LZ4F_isError(ret))
		return codec_reader_fail(r, LZ4F_getErrorName(ret));
	return 0;
}

/* lz4frame's context: the block compressor's state (LZ4_sizeofState(), or
 * LZ4_sizeofStateHC() from level LZ4HC_CLEVEL_MIN on) and its copy buffer
 * of one block; plus the writer's output buffer. */
size_t
codec_lz4_mem_estimate(int level, int threads)
{
	LZ4F_preferences_t prefs;
	int state = level >= LZ4HC_CLEVEL_MIN ? LZ4_sizeofStateHC() : LZ4_sizeofState();

	(void)threads;   /* never threaded */
	lz4_prefs(&prefs, level);
	return (size_t)state + LZ4_STEP + LZ4F_compressBound(LZ4_STEP, &prefs) + CODEC_BUF_SIZE +
		sizeof(struct lz4_writer);
}
