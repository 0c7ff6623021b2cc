/*
 * codec_impl.h - what codec.c and the per-codec files share: the stream
 * structs, the operations each codec implements, and helpers for the sink,
 * the input buffer and the reader's error messages.
 *
 * codec.c owns the public functions and the state checks (a failed writer
 * stays failed, a finished reader keeps returning 0); a codec file only
 * compresses or decompresses.  A codec's writer constructor sets w->ops and
 * w->impl, its reader constructor r->ops and r->impl; both return 0, or -1
 * after logging.  The ops' free functions release impl only.
 *
 * Test coverage exemption: the branches for allocation failures, thread
 * start failures and library errors that valid parameters cannot cause
 * (the `could not compress with ...` and `could not decompress ...` lines)
 * are not reached by t/check_codec.c, which has no fault injection.
 */
#ifndef PITR_CODEC_IMPL_H
#define PITR_CODEC_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "compress/codec.h"

/* Size of the buffers the codecs hand to the sink and read from the fd. */
#define CODEC_BUF_SIZE (128 * 1024)

struct pitr_codec_writer;
struct pitr_codec_reader;

struct codec_writer_ops {
	/* Compress len > 0 bytes; 0 or -1 (logged by the codec or the sink). */
	int (*write)(struct pitr_codec_writer *w, const unsigned char *buf, size_t len);
	/* Flush and write the stream's end; 0 or -1. */
	int (*finish)(struct pitr_codec_writer *w);
	/* Release w->impl (which may be half built); never fails. */
	void (*free)(struct pitr_codec_writer *w);
};

struct pitr_codec_writer {
	const struct codec_writer_ops *ops;
	void *impl;                 /* the codec's state, owned by the writer */
	enum pitr_codec codec;
	int level;                  /* resolved: never 0 unless the range is 0-0 */
	int threads;                /* >= 1 */
	pitr_codec_sink_fn sink;
	void *ctx;
	bool failed;                /* a call returned -1: every later call does too */
	bool finished;
};

struct codec_reader_ops {
	/* Up to len > 0 bytes: the count, 0 at the end of a complete stream,
	 * or -1 after logging one line. */
	ssize_t (*read)(struct pitr_codec_reader *r, unsigned char *buf, size_t len);
	/* Release r->impl (which may be half built); never fails. */
	void (*free)(struct pitr_codec_reader *r);
};

struct pitr_codec_reader {
	const struct codec_reader_ops *ops;
	void *impl;                 /* the codec's state, owned by the reader */
	enum pitr_codec codec;
	int fd;                     /* not ours: never closed */
	char *what;                 /* the label for messages, owned */
	unsigned char *in;          /* compressed input, CODEC_BUF_SIZE bytes */
	size_t in_len;              /* valid bytes in `in` */
	size_t in_pos;              /* bytes of `in` the codec has consumed */
	bool eof;                   /* read(2) returned 0 */
	bool failed;
	bool done;
	char *err;                  /* quiet reader: its one failure goes here */
	size_t err_size;
};

/* Codec constructors: set ops and impl; 0, or -1 after logging. */
int codec_gzip_writer_new(struct pitr_codec_writer *w);
int codec_gzip_reader_new(struct pitr_codec_reader *r);
int codec_bzip2_writer_new(struct pitr_codec_writer *w);
int codec_bzip2_reader_new(struct pitr_codec_reader *r);
int codec_lzma_writer_new(struct pitr_codec_writer *w);
int codec_lzma_reader_new(struct pitr_codec_reader *r);
int codec_xz_writer_new(struct pitr_codec_writer *w);
int codec_xz_reader_new(struct pitr_codec_reader *r);
int codec_lz4_writer_new(struct pitr_codec_writer *w);
int codec_lz4_reader_new(struct pitr_codec_reader *r);
int codec_zstd_writer_new(struct pitr_codec_writer *w);
int codec_zstd_reader_new(struct pitr_codec_reader *r);

/* What pitr_codec_mem_estimate() returns for each codec (level valid,
 * threads >= 1). */
size_t codec_gzip_mem_estimate(int level, int threads);
size_t codec_bzip2_mem_estimate(int level, int threads);
size_t codec_lzma_mem_estimate(int level, int threads);
size_t codec_xz_mem_estimate(int level, int threads);
size_t codec_lz4_mem_estimate(int level, int threads);
size_t codec_zstd_mem_estimate(int level, int threads);

/* Hand len bytes (0 allowed: nothing happens) to the sink; 0 or -1 (the
 * sink logged). */
int codec_emit(struct pitr_codec_writer *w, const void *buf, size_t len);

/* Log `could not compress with NAME: REASON`; returns -1. */
int codec_writer_fail(const struct pitr_codec_writer *w, const char *reason);

/*
 * Make sure unconsumed input is in r->in unless the fd is at its end:
 * when in_pos == in_len and !eof, read(2) once more (EINTR retried).
 * Returns 0 (check in_pos < in_len, or eof), or -1 after logging
 * `could not read "WHAT": REASON`.
 */
int codec_reader_fill(struct pitr_codec_reader *r);

/* Log `"WHAT" is truncated: the compressed stream ends early`; -1. */
int codec_reader_truncated(const struct pitr_codec_reader *r);

/* Log `"WHAT" is corrupt: REASON`; -1. */
int codec_reader_corrupt(const struct pitr_codec_reader *r, const char *reason);

/* Log `could not decompress "WHAT": REASON` (resource failures); -1. */
int codec_reader_fail(const struct pitr_codec_reader *r, const char *reason);

#endif
