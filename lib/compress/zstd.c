/*
 * zstd.c - zstd frames through libzstd's streaming API, with the
 * content checksum the zstd tool writes; concatenated frames read as one.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY   /* ZSTD_estimateCStreamSize() */
#include <zstd.h>
#include <zstd_errors.h>

#include "compress/codec_impl.h"
#include "common/xalloc.h"

#define ZSTD_JOB_SIZE (4 << 20)

/* Worker threads a writer asks for at most: two take a 16 MiB segment
 * of text from 74 to 49 ms at level 3, a third gains 4 ms more for 13
 * MiB (ZSTD_sizeof_CCtx(), libzstd 1.5.4). */
#define ZSTD_MAX_WORKERS 2

/* A second worker holds a compressor of its own: up to 6.5 MiB at levels
 * 1 to 8, but 12.5 MiB at 9 and 81 MiB at 19 (ZSTD_estimateCCtxSize()),
 * where it would double what a call costs.  Past this, one worker. */
#define ZSTD_MORE_WORKERS_CCTX_MAX ((size_t)8 << 20)

/* The workers a writer at `level` offered `threads` runs. */
static int
zstd_workers(int level, int threads)
{
	if (threads < 2 || ZSTD_estimateCCtxSize(level) > ZSTD_MORE_WORKERS_CCTX_MAX)
		return 1;
	return threads < ZSTD_MAX_WORKERS ? threads : ZSTD_MAX_WORKERS;
}

struct zstd_writer {
	ZSTD_CCtx *cctx;
	size_t out_len;             /* bytes waiting in out */
	unsigned char out[CODEC_BUF_SIZE];
};

/*
 * Run the compressor with `mode` until it has taken all input
 * (ZSTD_e_continue) or flushed the frame's end (ZSTD_e_end, return 0).
 * Only full buffers go to the sink, and the rest at the end, so that the
 * sink sees few large writes.
 */
static int
zstd_pump(struct pitr_codec_writer *w, const unsigned char *buf, size_t len,
	  ZSTD_EndDirective mode)
{
	struct zstd_writer *zw = w->impl;
	ZSTD_inBuffer in = { buf, len, 0 };

	for (;;) {
		ZSTD_outBuffer out = { zw->out, sizeof(zw->out), zw->out_len };
		size_t ret = ZSTD_compressStream2(zw->cctx, &out, &in, mode);

		zw->out_len = out.pos;
		if (ZSTD_isError(ret))
			return codec_writer_fail(w, ZSTD_getErrorName(ret));
		if (zw->out_len == sizeof(zw->out) || (mode == ZSTD_e_end && ret == 0)) {
			if (codec_emit(w, zw->out, zw->out_len) != 0)
				return -1;
			zw->out_len = 0;
		}
		if (mode == ZSTD_e_continue ? in.pos == in.size : ret == 0)
			return 0;
	}
}

static int
zstd_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	return zstd_pump(w, buf, len, ZSTD_e_continue);
}

static int
zstd_finish(struct pitr_codec_writer *w)
{
	return zstd_pump(w, NULL, 0, ZSTD_e_end);
}

static void
zstd_writer_free(struct pitr_codec_writer *w)
{
	struct zstd_writer *zw = w->impl;

	if (zw == NULL)
		return;
	ZSTD_freeCCtx(zw->cctx);
	free(zw);
	w->impl = NULL;
}

static const struct codec_writer_ops zstd_writer_ops = {
	.write = zstd_write,
	.finish = zstd_finish,
	.free = zstd_writer_free,
};

/*
 * libzstd's worker threads (zstd_workers()), at least one, as the zstd
 * tool runs: compression then overlaps our reading and writing, which
 * takes a fifth off the wall time of a 16 MiB segment, and a second
 * worker compresses a second job at once.  Worker mode cuts the input
 * into jobs and writes a different (standard) frame than single-threaded
 * mode, never used here, so that the output does not depend on the
 * machine's cores: libzstd's streaming output is the same bytes for any
 * number of workers (its own determinism tests; check_codec's
 * test_zstd_write_threads holds it to that).
 */
int
codec_zstd_writer_new(struct pitr_codec_writer *w)
{
	int nworkers = zstd_workers(w->level, w->threads);
	struct zstd_writer *zw;
	size_t ret;

	w->ops = &zstd_writer_ops;
	if ((zw = pitr_xcalloc(1, sizeof(*zw))) == NULL)
		return -1;
	w->impl = zw;
	zw->cctx = ZSTD_createCCtx();
	if (zw->cctx == NULL)
		return codec_writer_fail(w, strerror(ENOMEM));
	ret = ZSTD_CCtx_setParameter(zw->cctx, ZSTD_c_compressionLevel, w->level);
	if (!ZSTD_isError(ret))
		ret = ZSTD_CCtx_setParameter(zw->cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(ret))
		ret = ZSTD_CCtx_setParameter(zw->cctx, ZSTD_c_nbWorkers, nworkers);
	/* The default job (8 MiB at level 3) keeps several job-sized
	 * buffers: 49 MiB resident for one worker on a long stream such as
	 * a backup.  4 MiB jobs hold that to 27 MiB for 0.02% more output. */
	if (!ZSTD_isError(ret))
		ret = ZSTD_CCtx_setParameter(zw->cctx, ZSTD_c_jobSize, ZSTD_JOB_SIZE);
	if (ZSTD_isError(ret))
		return codec_writer_fail(w, ZSTD_getErrorName(ret));
	return 0;
}

struct zstd_reader {
	ZSTD_DCtx *dctx;
	bool frame_end;             /* a frame ended and no byte of another was seen */
};

/*
 * ZSTD_decompressStream() returns 0 exactly when a frame is decoded and
 * flushed, and starts the next frame by itself (skippable frames
 * included); bytes that are not a frame fail its magic check.  At the end
 * of the file it still runs, without input, to flush what it holds; if it
 * then produces nothing mid-frame, the file is truncated.
 */
static ssize_t
zstd_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	struct zstd_reader *zr = r->impl;
	ZSTD_outBuffer out = { buf, len, 0 };

	while (out.pos == 0) {
		ZSTD_inBuffer in;
		size_t ret;

		if (codec_reader_fill(r) != 0)
			return -1;
		if (zr->frame_end && r->in_pos == r->in_len)
			break;
		in.src = r->in + r->in_pos;
		in.size = r->in_len - r->in_pos;
		in.pos = 0;
		ret = ZSTD_decompressStream(zr->dctx, &out, &in);
		if (ZSTD_isError(ret)) {
			if (ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
				return codec_reader_fail(r, ZSTD_getErrorName(ret));
			return codec_reader_corrupt(r, ZSTD_getErrorName(ret));
		}
		r->in_pos += in.pos;
		if (in.pos > 0 || out.pos > 0)
			zr->frame_end = ret == 0;
		if (r->eof && r->in_pos == r->in_len && !zr->frame_end && out.pos == 0)
			return codec_reader_truncated(r);
	}
	return (ssize_t)out.pos;
}

static void
zstd_reader_free(struct pitr_codec_reader *r)
{
	struct zstd_reader *zr = r->impl;

	if (zr == NULL)
		return;
	ZSTD_freeDCtx(zr->dctx);
	free(zr);
	r->impl = NULL;
}

static const struct codec_reader_ops zstd_reader_ops = {
	.read = zstd_read,
	.free = zstd_reader_free,
};

/* The window limit is raised to the format's maximum: `zstd --long` and
 * --ultra frames need more than the default 128 MiB guard. */
int
codec_zstd_reader_new(struct pitr_codec_reader *r)
{
	struct zstd_reader *zr;
	size_t ret;

	r->ops = &zstd_reader_ops;
	if ((zr = pitr_xcalloc(1, sizeof(*zr))) == NULL)
		return -1;
	r->impl = zr;
	zr->dctx = ZSTD_createDCtx();
	if (zr->dctx == NULL)
		return codec_reader_fail(r, strerror(ENOMEM));
	ret = ZSTD_DCtx_setParameter(zr->dctx, ZSTD_d_windowLogMax,
				     ZSTD_dParam_getBounds(ZSTD_d_windowLogMax).upperBound);
	if (ZSTD_isError(ret))
		return codec_reader_fail(r, ZSTD_getErrorName(ret));
	return 0;
}

/*
 * libzstd's figure for a single-threaded stream at `level`
 * (ZSTD_estimateCStreamSize(); it gives none for a worker), plus what the
 * one worker the writer asks for adds: its job buffers, the round buffer
 * and the output, which ZSTD_sizeof_CCtx() puts at 20.8 to 24.4 MiB after
 * a 16 MiB segment at levels 1 to 14 with 4 MiB jobs (libzstd 1.5): 6.25
 * jobs covers them; plus the writer's output buffer.  A second worker
 * adds its compressor and a job's input and output: 9.2 MiB at level 3,
 * covered by the compressor's estimate and 2.5 jobs.
 */
#define ZSTD_WORKER_MEM ((size_t)ZSTD_JOB_SIZE * 25 / 4)
#define ZSTD_MORE_WORKER_JOBS_MEM ((size_t)ZSTD_JOB_SIZE * 5 / 2)

size_t
codec_zstd_mem_estimate(int level, int threads)
{
	int nworkers = zstd_workers(level, threads);
	size_t more = (size_t)(nworkers - 1) * (ZSTD_estimateCCtxSize(level) + ZSTD_MORE_WORKER_JOBS_MEM);

	return ZSTD_estimateCStreamSize(level) + ZSTD_WORKER_MEM + more + sizeof(struct zstd_writer);
}
