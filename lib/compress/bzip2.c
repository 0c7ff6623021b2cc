/*
 * bzip2.c - bzip2 streams through libbz2, concatenated streams read
 * as one (as `bzip2 -d` does).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>

#include "compress/codec_impl.h"
#include "common/xalloc.h"

/* libbz2 has no message function for stream errors: these say what its
 * return codes mean. */
static const char *
bz_reason(int ret)
{
	switch (ret) {
	case BZ_DATA_ERROR:
		return "data integrity error (bad block or stream CRC)";
	case BZ_DATA_ERROR_MAGIC:
		return "not a bzip2 stream (bad magic number)";
	case BZ_MEM_ERROR:
		return strerror(ENOMEM);
	case BZ_PARAM_ERROR:
		return "invalid parameter";
	case BZ_SEQUENCE_ERROR:
		return "call out of sequence";
	case BZ_CONFIG_ERROR:
		return "libbz2 is miscompiled";
	default:
		return "unexpected libbz2 error";
	}
}

struct bzip2_writer {
	bz_stream bz;
	bool bz_init;
	size_t out_len;             /* bytes waiting in out */
	char out[CODEC_BUF_SIZE];
};

/*
 * Run the compressor with `action` until it has taken all input (BZ_RUN)
 * or written the stream's end (BZ_FINISH).  Only full buffers go to the
 * sink, and the rest at the end, so that the sink sees few large writes.
 */
static int
bzip2_pump(struct pitr_codec_writer *w, int action)
{
	struct bzip2_writer *bw = w->impl;

	for (;;) {
		int ret;

		bw->bz.next_out = bw->out + bw->out_len;
		bw->bz.avail_out = (unsigned int)(sizeof(bw->out) - bw->out_len);
		ret = BZ2_bzCompress(&bw->bz, action);
		bw->out_len = sizeof(bw->out) - bw->bz.avail_out;
		if (ret != BZ_RUN_OK && ret != BZ_FINISH_OK && ret != BZ_STREAM_END)
			return codec_writer_fail(w, bz_reason(ret));
		if (bw->out_len == sizeof(bw->out) || ret == BZ_STREAM_END) {
			if (codec_emit(w, bw->out, bw->out_len) != 0)
				return -1;
			bw->out_len = 0;
		}
		if (action == BZ_RUN ? bw->bz.avail_in == 0 : ret == BZ_STREAM_END)
			return 0;
	}
}

static int
bzip2_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	struct bzip2_writer *bw = w->impl;

	while (len > 0) {
		unsigned int step = len > UINT_MAX ? UINT_MAX : (unsigned int)len;

		bw->bz.next_in = (char *)buf;
		bw->bz.avail_in = step;
		if (bzip2_pump(w, BZ_RUN) != 0)
			return -1;
		buf += step;
		len -= step;
	}
	return 0;
}

static int
bzip2_finish(struct pitr_codec_writer *w)
{
	struct bzip2_writer *bw = w->impl;

	bw->bz.next_in = NULL;
	bw->bz.avail_in = 0;
	return bzip2_pump(w, BZ_FINISH);
}

static void
bzip2_writer_free(struct pitr_codec_writer *w)
{
	struct bzip2_writer *bw = w->impl;

	if (bw == NULL)
		return;
	if (bw->bz_init)
		BZ2_bzCompressEnd(&bw->bz);
	free(bw);
	w->impl = NULL;
}

static const struct codec_writer_ops bzip2_writer_ops = {
	.write = bzip2_write,
	.finish = bzip2_finish,
	.free = bzip2_writer_free,
};

int
codec_bzip2_writer_new(struct pitr_codec_writer *w)
{
	struct bzip2_writer *bw;
	int ret;

	w->ops = &bzip2_writer_ops;
	if ((bw = pitr_xcalloc(1, sizeof(*bw))) == NULL)
		return -1;
	w->impl = bw;
	/* Work factor 0 is libbz2's default (30), as the bzip2 tool uses. */
	ret = BZ2_bzCompressInit(&bw->bz, w->level, 0, 0);
	if (ret != BZ_OK)
		return codec_writer_fail(w, bz_reason(ret));
	bw->bz_init = true;
	return 0;
}

struct bzip2_reader {
	bz_stream bz;
	bool bz_init;
	bool stream_end;            /* a stream ended and no byte of another was seen */
};

/*
 * After a stream's end, more input is another stream (a decompressor is
 * started afresh for it); anything else there fails its magic check.  At
 * the end of the file the decompressor still runs, without input, to flush
 * the block it holds; if it then neither ends nor produces anything, the
 * file is truncated.
 */
static ssize_t
bzip2_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	struct bzip2_reader *br = r->impl;
	unsigned int want = len > UINT_MAX ? UINT_MAX : (unsigned int)len;
	int ret;

	br->bz.next_out = (char *)buf;
	br->bz.avail_out = want;
	while (br->bz.avail_out == want) {
		if (codec_reader_fill(r) != 0)
			return -1;
		if (br->stream_end) {
			if (r->in_pos == r->in_len)
				break;
			BZ2_bzDecompressEnd(&br->bz);
			br->bz_init = false;
			memset(&br->bz, 0, sizeof(br->bz));
			ret = BZ2_bzDecompressInit(&br->bz, 0, 0);
			if (ret != BZ_OK)
				return codec_reader_fail(r, bz_reason(ret));
			br->bz_init = true;
			br->stream_end = false;
			br->bz.next_out = (char *)buf;
			br->bz.avail_out = want;
		}
		br->bz.next_in = (char *)r->in + r->in_pos;
		br->bz.avail_in = (unsigned int)(r->in_len - r->in_pos);
		ret = BZ2_bzDecompress(&br->bz);
		r->in_pos = r->in_len - br->bz.avail_in;
		if (ret == BZ_STREAM_END)
			br->stream_end = true;
		else if (ret == BZ_MEM_ERROR)
			return codec_reader_fail(r, bz_reason(ret));
		else if (ret != BZ_OK)
			return codec_reader_corrupt(r, bz_reason(ret));
		if (r->eof && r->in_pos == r->in_len && !br->stream_end &&
		    br->bz.avail_out == want)
			return codec_reader_truncated(r);
	}
	return (ssize_t)(want - br->bz.avail_out);
}

static void
bzip2_reader_free(struct pitr_codec_reader *r)
{
	struct bzip2_reader *br = r->impl;

	if (br == NULL)
		return;
	if (br->bz_init)
		BZ2_bzDecompressEnd(&br->bz);
	free(br);
	r->impl = NULL;
}

static const struct codec_reader_ops bzip2_reader_ops = {
	.read = bzip2_read,
	.free = bzip2_reader_free,
};

int
codec_bzip2_reader_new(struct pitr_codec_reader *r)
{
	struct bzip2_reader *br;
	int ret;

	r->ops = &bzip2_reader_ops;
	if ((br = pitr_xcalloc(1, sizeof(*br))) == NULL)
		return -1;
	r->impl = br;
	ret = BZ2_bzDecompressInit(&br->bz, 0, 0);
	if (ret != BZ_OK)
		return codec_reader_fail(r, bz_reason(ret));
	br->bz_init = true;
	return 0;
}

/* libbzip2's manual: compression takes 400k + (8 x block size), the block
 * size being the level in 100 kB; plus the writer's output buffer. */
size_t
codec_bzip2_mem_estimate(int level, int threads)
{
	(void)threads;   /* never threaded */
	return (size_t)400 * 1000 + (size_t)8 * (size_t)level * 100 * 1000 +
		sizeof(struct bzip2_writer);
}
