/*
 * xz.c - the .xz format and the legacy .lzma ("alone") format, both
 * through liblzma, with the xz tool's presets and checks.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>

#include "compress/codec_impl.h"
#include "common/xalloc.h"

/* liblzma 5.4 has no message function: these are the xz tool's texts for
 * its return codes, lower-cased. */
static const char *
lzma_reason(lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		return strerror(ENOMEM);
	case LZMA_MEMLIMIT_ERROR:
		return "memory usage limit reached";
	case LZMA_FORMAT_ERROR:
		return "file format not recognized";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_DATA_ERROR:
		return "compressed data is corrupt";
	case LZMA_UNSUPPORTED_CHECK:
		return "unsupported type of integrity check";
	case LZMA_PROG_ERROR:
		return "internal error (bug)";
	default:
		return "unexpected liblzma error";
	}
}

struct xz_writer {
	lzma_stream strm;
	size_t out_len;             /* bytes waiting in out */
	uint8_t out[CODEC_BUF_SIZE];
};

/*
 * Run the encoder with `action` until it has taken all input (LZMA_RUN) or
 * written the stream's end (LZMA_FINISH).  Only full buffers go to the
 * sink, and the rest at the end, so that the sink sees few large writes.
 */
static int
xz_pump(struct pitr_codec_writer *w, lzma_action action)
{
	struct xz_writer *xw = w->impl;

	for (;;) {
		lzma_ret ret;

		xw->strm.next_out = xw->out + xw->out_len;
		xw->strm.avail_out = sizeof(xw->out) - xw->out_len;
		ret = lzma_code(&xw->strm, action);
		xw->out_len = sizeof(xw->out) - xw->strm.avail_out;
		if (ret != LZMA_OK && ret != LZMA_STREAM_END)
			return codec_writer_fail(w, lzma_reason(ret));
		if (xw->out_len == sizeof(xw->out) || ret == LZMA_STREAM_END) {
			if (codec_emit(w, xw->out, xw->out_len) != 0)
				return -1;
			xw->out_len = 0;
		}
		if (action == LZMA_RUN ? xw->strm.avail_in == 0 : ret == LZMA_STREAM_END)
			return 0;
	}
}

static int
xz_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	struct xz_writer *xw = w->impl;

	xw->strm.next_in = buf;
	xw->strm.avail_in = len;
	return xz_pump(w, LZMA_RUN);
}

static int
xz_finish(struct pitr_codec_writer *w)
{
	struct xz_writer *xw = w->impl;

	xw->strm.next_in = NULL;
	xw->strm.avail_in = 0;
	return xz_pump(w, LZMA_FINISH);
}

static void
xz_writer_free(struct pitr_codec_writer *w)
{
	struct xz_writer *xw = w->impl;

	if (xw == NULL)
		return;
	lzma_end(&xw->strm);
	free(xw);
	w->impl = NULL;
}

static const struct codec_writer_ops xz_writer_ops = {
	.write = xz_write,
	.finish = xz_finish,
	.free = xz_writer_free,
};

/* The shared part of both writer constructors. */
static struct xz_writer *
xz_writer_alloc(struct pitr_codec_writer *w)
{
	struct xz_writer *xw;
	const lzma_stream init = LZMA_STREAM_INIT;

	w->ops = &xz_writer_ops;
	if ((xw = pitr_xmalloc(sizeof(*xw))) == NULL)
		return NULL;
	xw->strm = init;
	xw->out_len = 0;
	w->impl = xw;
	return xw;
}

/* The dictionary never exceeds this: the xz tool's presets 6 to 9 use 8 to
 * 64 MiB, which costs an encoder 94 to 674 MiB, while a WAL segment is
 * usually 16 MiB and rarely gains from a window beyond a few MiB.  With
 * 4 MiB the encoder stays under 64 MiB at every level; the output is still
 * a standard .xz / .lzma file. */
#define XZ_MAX_DICT ((uint32_t)4 << 20)

/* The preset for the writer's level, dictionary bounded (see above). */
static int
bounded_preset(struct pitr_codec_writer *w, lzma_options_lzma *opts)
{
	if (lzma_lzma_preset(opts, (uint32_t)w->level))
		return codec_writer_fail(w, lzma_reason(LZMA_OPTIONS_ERROR));
	if (opts->dict_size > XZ_MAX_DICT)
		opts->dict_size = XZ_MAX_DICT;
	return 0;
}

/* CRC64, as `xz` writes by default.  The threaded encoder would split the
 * stream into blocks and change the output, so threads are ignored. */
int
codec_xz_writer_new(struct pitr_codec_writer *w)
{
	struct xz_writer *xw = xz_writer_alloc(w);
	lzma_options_lzma opts;
	lzma_filter filters[2];
	lzma_ret ret;

	if (xw == NULL)
		return -1;
	if (bounded_preset(w, &opts) != 0)
		return -1;
	filters[0].id = LZMA_FILTER_LZMA2;
	filters[0].options = &opts;
	filters[1].id = LZMA_VLI_UNKNOWN;
	filters[1].options = NULL;
	ret = lzma_stream_encoder(&xw->strm, filters, LZMA_CHECK_CRC64);
	if (ret != LZMA_OK)
		return codec_writer_fail(w, lzma_reason(ret));
	return 0;
}

/* The .lzma header records an unknown size and the stream ends with an
 * end-of-payload marker, as `xz --format=lzma` writes from a pipe. */
int
codec_lzma_writer_new(struct pitr_codec_writer *w)
{
	struct xz_writer *xw = xz_writer_alloc(w);
	lzma_options_lzma opts;
	lzma_ret ret;

	if (xw == NULL)
		return -1;
	if (bounded_preset(w, &opts) != 0)
		return -1;
	ret = lzma_alone_encoder(&xw->strm, &opts);
	if (ret != LZMA_OK)
		return codec_writer_fail(w, lzma_reason(ret));
	return 0;
}

struct xz_reader {
	lzma_stream strm;
	bool alone;                 /* .lzma: nothing may follow the stream */
	bool stream_end;
};

/*
 * The xz decoder runs with LZMA_CONCATENATED, so it reads concatenated
 * streams and stream padding and reports LZMA_STREAM_END only when told the
 * input is over (LZMA_FINISH) at a stream boundary.  The .lzma format has no
 * concatenation: bytes after its end are corrupt.  At the end of the input,
 * a decoder that neither ends nor produces output is waiting for bytes that
 * will never come: the file is truncated.
 */
static ssize_t
xz_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	struct xz_reader *xr = r->impl;

	xr->strm.next_out = buf;
	xr->strm.avail_out = len;
	while (xr->strm.avail_out == len && !xr->stream_end) {
		lzma_action action = LZMA_RUN;
		lzma_ret ret;

		if (codec_reader_fill(r) != 0)
			return -1;
		if (r->in_pos == r->in_len)
			action = LZMA_FINISH;
		xr->strm.next_in = r->in + r->in_pos;
		xr->strm.avail_in = r->in_len - r->in_pos;
		ret = lzma_code(&xr->strm, action);
		r->in_pos = r->in_len - xr->strm.avail_in;
		switch (ret) {
		case LZMA_OK:
			if (action == LZMA_FINISH && xr->strm.avail_out == len)
				return codec_reader_truncated(r);
			break;
		case LZMA_STREAM_END:
			xr->stream_end = true;
			break;
		case LZMA_BUF_ERROR:
			return codec_reader_truncated(r);
		case LZMA_MEM_ERROR:
			return codec_reader_fail(r, lzma_reason(ret));
		case LZMA_MEMLIMIT_ERROR:
			return codec_reader_corrupt(r, "its header asks for more than 256 MiB to "
						    "decompress");
		default:
			return codec_reader_corrupt(r, lzma_reason(ret));
		}
	}
	if (xr->stream_end && xr->alone && xr->strm.avail_out == len) {
		/* The .lzma stream is over: the file must be too. */
		if (codec_reader_fill(r) != 0)
			return -1;
		if (r->in_pos < r->in_len)
			return codec_reader_corrupt(r, "trailing data after the end of the stream");
	}
	return (ssize_t)(len - xr->strm.avail_out);
}

static void
xz_reader_free(struct pitr_codec_reader *r)
{
	struct xz_reader *xr = r->impl;

	if (xr == NULL)
		return;
	lzma_end(&xr->strm);
	free(xr);
	r->impl = NULL;
}

static const struct codec_reader_ops xz_reader_ops = {
	.read = xz_read,
	.free = xz_reader_free,
};

/* The shared part of both reader constructors. */
static struct xz_reader *
xz_reader_alloc(struct pitr_codec_reader *r)
{
	struct xz_reader *xr;
	const lzma_stream init = LZMA_STREAM_INIT;

	r->ops = &xz_reader_ops;
	if ((xr = pitr_xcalloc(1, sizeof(*xr))) == NULL)
		return NULL;
	xr->strm = init;
	r->impl = xr;
	return xr;
}

/*
 * The decoders' memory limit.  xz and lzma at -9 (pitrkit's highest level,
 * and the xz tool's) need about 65 MiB to decompress; a damaged or crafted
 * header can ask for 4 GiB, which is refused rather than allocated.
 */
#define XZ_READ_MEMLIMIT (256ULL << 20)

int
codec_xz_reader_new(struct pitr_codec_reader *r)
{
	struct xz_reader *xr = xz_reader_alloc(r);
	lzma_ret ret;

	if (xr == NULL)
		return -1;
	ret = lzma_stream_decoder(&xr->strm, XZ_READ_MEMLIMIT, LZMA_CONCATENATED);
	if (ret != LZMA_OK)
		return codec_reader_fail(r, lzma_reason(ret));
	return 0;
}

int
codec_lzma_reader_new(struct pitr_codec_reader *r)
{
	struct xz_reader *xr = xz_reader_alloc(r);
	lzma_ret ret;

	if (xr == NULL)
		return -1;
	xr->alone = true;
	ret = lzma_alone_decoder(&xr->strm, XZ_READ_MEMLIMIT);
	if (ret != LZMA_OK)
		return codec_reader_fail(r, lzma_reason(ret));
	return 0;
}

/* liblzma's own figure for the filter chain the writer builds (the preset,
 * its dictionary bounded), plus the writer's output buffer and XZ_SLACK:
 * liblzma calls its figure approximate, and the peak RSS of a writer
 * compressing 16 MiB grew 0.3 MiB past it (49.7 MB against 49.4).
 * UINT64_MAX (options it does not know) is taken as the largest bounded
 * encoder. */
#define XZ_SLACK ((size_t)1 << 20)

static size_t
encoder_mem(lzma_vli filter, int level)
{
	lzma_options_lzma opts;
	lzma_filter filters[2] = { { filter, &opts }, { LZMA_VLI_UNKNOWN, NULL } };
	uint64_t mem;

	if (lzma_lzma_preset(&opts, (uint32_t)level))
		return (size_t)64 << 20;
	if (opts.dict_size > XZ_MAX_DICT)
		opts.dict_size = XZ_MAX_DICT;
	mem = lzma_raw_encoder_memusage(filters);
	if (mem == UINT64_MAX || mem > SIZE_MAX)
		return (size_t)64 << 20;
	return (size_t)mem + XZ_SLACK + sizeof(struct xz_writer);
}

size_t
codec_xz_mem_estimate(int level, int threads)
{
	(void)threads;   /* never threaded: see codec_xz_writer_new() */
	return encoder_mem(LZMA_FILTER_LZMA2, level);
}

size_t
codec_lzma_mem_estimate(int level, int threads)
{
	(void)threads;
	return encoder_mem(LZMA_FILTER_LZMA1, level);
}
