/*
 * fuzz_decompress.c - the codecs' readers (compress/), built once per
 * codec with FUZZ_CODEC naming it: pitr-restore, pitr-verify, pitr-recover
 * and the catalog read archived WAL, meta files and tarballs through
 * them.  The input is a compressed file of arbitrary bytes; reading it
 * must end in data and a clean end, or in one refusal (-1), never in a
 * crash, a leak or a read past a buffer.  Output is capped, so that a
 * small bomb does not pass for a hang.  Then the input is compressed by
 * the codec's writer and read back: the bytes must come back unchanged.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/codec.h"
#include "fuzz.h"

#ifndef FUZZ_CODEC
#error "FUZZ_CODEC names the codec: -DFUZZ_CODEC=PITR_CODEC_GZIP"
#endif

#define OUT_CAP (64u << 20)
#define ROUNDTRIP_MAX (256u << 10)

/* Read everything from `fd`; the bytes in *out (malloc'd) when want_out.
 * Returns the reader's last result: 0 (clean end) or -1. */
static int
read_all(int fd, bool want_out, uint8_t **out, size_t *outlen)
{
	struct pitr_codec_reader *r = pitr_codec_reader_new(FUZZ_CODEC, fd, "\"fuzz input\"");
	static uint8_t buf[64 * 1024];
	size_t total = 0;
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (r == NULL)
		return -1;
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, buf, sizeof(buf));

		if (n < 0)
			break;
		if (n == 0) {
			rc = 0;
			break;
		}
		if ((size_t)n > sizeof(buf))
			fuzz_fail("a read returned more than asked", NULL);
		total += (size_t)n;
		if (total > OUT_CAP) {
			rc = 0;
			break;
		}
		if (want_out) {
			uint8_t *grown = realloc(*out, total);

			if (grown == NULL)
				abort();
			memcpy(grown + total - (size_t)n, buf, (size_t)n);
			*out = grown;
		}
	}
	*outlen = total;
	pitr_codec_reader_free(r);
	return rc;
}

struct sink {
	uint8_t *buf;
	size_t len;
};

static int
sink_fn(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;
	uint8_t *grown = realloc(s->buf, s->len + len + 1);

	if (grown == NULL)
		abort();
	memcpy(grown + s->len, buf, len);
	s->buf = grown;
	s->len += len;
	return 0;
}

static void
roundtrip(const uint8_t *data, size_t size)
{
	struct sink s = { NULL, 0 };
	struct pitr_codec_writer *w = pitr_codec_writer_new(FUZZ_CODEC, 1, 1, sink_fn, &s);
	uint8_t *back;
	size_t backlen;
	int fd;

	if (w == NULL || pitr_codec_writer_write(w, data, size) != 0 ||
	    pitr_codec_writer_finish(w) != 0)
		fuzz_fail("the writer failed", pitr_codec_name(FUZZ_CODEC));
	pitr_codec_writer_free(w);
	fd = fuzz_memfd(s.buf, s.len);
	if (read_all(fd, true, &back, &backlen) != 0)
		fuzz_fail("what the writer wrote does not read back", pitr_codec_name(FUZZ_CODEC));
	if (backlen != size || (size > 0 && memcmp(back, data, size) != 0))
		fuzz_fail("what the writer wrote reads back differently", pitr_codec_name(FUZZ_CODEC));
	close(fd);
	free(back);
	free(s.buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = fuzz_memfd(data, size);
	uint8_t *out;
	size_t outlen;

	(void)read_all(fd, false, &out, &outlen);
	close(fd);
	if (size <= ROUNDTRIP_MAX)
		roundtrip(data, size);
	return 0;
}
