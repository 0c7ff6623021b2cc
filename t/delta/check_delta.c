/* check_delta.c - unit tests for lib/delta: chunk signatures, deltas and
 * patches, the sig file written and read, chains composed. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librsync.h>

#include "harness.h"
#include "common/log.h"
#include "compress/codec.h"
#include "delta/delta.h"
#include "delta_fixture.h"
#include "tar/tarwrite.h"

#define MIB (1024 * 1024)
#define REC PITR_DELTA_RECORD

/* Deterministic noise (xorshift64*): incompressible, like changed pages. */
static void
noise(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 2654435761u + 88172645463325252ull;

	for (size_t i = 0; i < len; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		buf[i] = (unsigned char)((x * 2685821657736338717ull) >> 56);
	}
}

static unsigned char *
noisy(size_t len, uint64_t seed)
{
	unsigned char *b = malloc(len > 0 ? len : 1);

	ck_assert_ptr_nonnull(b);
	noise(b, len, seed);
	return b;
}


/* Records of the whole file, chunk by chunk, through pitr_delta_chunk_sig. */
static unsigned char *
chunked_records(const unsigned char *buf, size_t len)
{
	unsigned char *r = malloc(PITR_DELTA_NBLOCKS(len) * REC + 1);

	ck_assert_ptr_nonnull(r);
	for (size_t off = 0; off < len; off += PITR_DELTA_CHUNK) {
		size_t n = len - off < PITR_DELTA_CHUNK ? len - off : PITR_DELTA_CHUNK;

		ck_assert_int_eq(pitr_delta_chunk_sig(buf + off, n,
						      r + off / PITR_DELTA_BLOCK * REC), 0);
	}
	return r;
}

/* Digests of the whole file, chunk by chunk. */
static unsigned char *
chunked_digests(const unsigned char *buf, size_t len)
{
	unsigned char *d = malloc(PITR_DELTA_NCHUNKS(len) * PITR_DELTA_DIGEST + 1);

	ck_assert_ptr_nonnull(d);
	for (size_t off = 0; off < len; off += PITR_DELTA_CHUNK)
		ck_assert_int_eq(pitr_delta_chunk_digest(buf + off, len - off < PITR_DELTA_CHUNK ?
							 len - off : PITR_DELTA_CHUNK,
							 d + off / PITR_DELTA_CHUNK * PITR_DELTA_DIGEST),
				 0);
	return d;
}

static const size_t sizes[] = { 0, 1, 8191, 8192, MIB, MIB + 1, 3 * MIB + MIB / 2 };

/* SHA-256's test vectors (FIPS 180-2): "abc", and nothing. */
START_TEST(test_chunk_digest)
{
	static const unsigned char abc[PITR_DELTA_DIGEST] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
		0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
		0xf2, 0x00, 0x15, 0xad,
	};
	static const unsigned char empty[PITR_DELTA_DIGEST] = {
		0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f,
		0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b,
		0x78, 0x52, 0xb8, 0x55,
	};
	unsigned char d[PITR_DELTA_DIGEST], *big = noisy(MIB + 1, 4);

	h_setup();
	ck_assert_int_eq(pitr_delta_chunk_digest("abc", 3, d), 0);
	ck_assert_int_eq(memcmp(d, abc, sizeof(d)), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest("", 0, d), 0);
	ck_assert_int_eq(memcmp(d, empty, sizeof(d)), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest(big, MIB, d), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest(big, MIB + 1, d), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "larger than"));
	free(big);
	h_teardown();
}
END_TEST

START_TEST(test_chunk_sig_slices)
{
	h_setup();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i], siglen;
		unsigned char *buf = noisy(len, i + 1);
		unsigned char *ref = df_reference_sig(buf, len, &siglen);
		unsigned char *rec = chunked_records(buf, len);

		ck_assert_uint_eq(siglen, PITR_DELTA_SIG_HEADER + PITR_DELTA_NBLOCKS(len) * REC);
		ck_assert_int_eq(memcmp(ref + PITR_DELTA_SIG_HEADER, rec, siglen - PITR_DELTA_SIG_HEADER),
				 0);
		free(buf);
		free(ref);
		free(rec);
	}
	h_teardown();
}
END_TEST


/* Delta of `nw` against `base`'s records, then patched: `nw` again. */
static size_t
round_trip(const unsigned char *base, size_t blen, const unsigned char *nw, size_t nlen)
{
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * REC], nrec[PITR_DELTA_CHUNK_BLOCKS * REC];
	unsigned char *delta, *out = malloc(PITR_DELTA_CHUNK);
	size_t dlen, olen;

	ck_assert_int_eq(pitr_delta_chunk_sig(base, blen, rec), 0);
	ck_assert_int_eq(pitr_delta_chunk_sig(nw, nlen, nrec), 0);
	ck_assert_int_eq(pitr_delta_chunk_delta(nw, nlen, nrec, rec, PITR_DELTA_NBLOCKS(blen), &delta,
						&dlen), 0);
	ck_assert_int_eq(pitr_delta_chunk_patch(base, blen, delta, dlen, 2, out, &olen, "chunk"), 0);
	ck_assert_uint_eq(olen, nlen);
	ck_assert_int_eq(memcmp(out, nw, nlen), 0);
	free(delta);
	free(out);
	return dlen;
}

START_TEST(test_delta_patch)
{
	unsigned char *base = noisy(MIB, 7), *nw = noisy(MIB, 7), *other = noisy(MIB, 8);

	h_setup();
	/* Unchanged: a few copy commands. */
	ck_assert_uint_lt(round_trip(base, MIB, nw, MIB), 64);
	/* One page changed: that page and a little. */
	noise(nw + 37 * 8192, 8192, 99);
	ck_assert_uint_lt(round_trip(base, MIB, nw, MIB), 8192 + 64);
	/* A few bytes changed: still one page's literal at most. */
	memcpy(nw, base, MIB);
	nw[500000] ^= 0xff;
	ck_assert_uint_lt(round_trip(base, MIB, nw, MIB), 8192 + 64);
	/* All changed: a literal of it all, one piece. */
	ck_assert_uint_ge(round_trip(base, MIB, other, MIB), MIB);
	ck_assert_uint_lt(round_trip(base, MIB, other, MIB), MIB + 64);
	/* Every other block changed: 128 pieces, half of them literal. */
	memcpy(nw, base, MIB);
	for (size_t b = 1; b < PITR_DELTA_CHUNK_BLOCKS; b += 2)
		memcpy(nw + b * 8192, other + b * 8192, 8192);
	ck_assert_uint_lt(round_trip(base, MIB, nw, MIB), MIB / 2 + 128 * 32);
	/* A page moved within the chunk is still found (a kept run's
	 * librsync delta searches the base chunk's records). */
	memcpy(nw, base, MIB);
	memcpy(nw + 8192, base + 64 * 8192, 8192);
	ck_assert_uint_lt(round_trip(base, MIB, nw, MIB), 8192 + 64);
	/* The base beyond the new chunk's pages: a chunk of the base. */
	ck_assert_uint_lt(round_trip(other, MIB, base, 0), 1);
	/* Shorter (a file cut), longer (grown), empty either way. */
	ck_assert_uint_lt(round_trip(base, MIB, base, 500000), 8192 + 64);
	/* (the base's cut last block matches nothing: from there on, literal) */
	ck_assert_uint_lt(round_trip(base, 600000, base, MIB), MIB - 600000 / 8192 * 8192 + 64);
	ck_assert_uint_lt(round_trip(base, 0, base, 0), 64);
	round_trip(base, 0, base, 100);
	round_trip(base, 100, base, 0);
	ck_assert_str_eq(h_log(), "");
	free(base);
	free(nw);
	free(other);
	h_teardown();
}
END_TEST

static int
lines(const char *log)
{
	int n = 0;

	for (; *log != '\0'; log++)
		n += *log == '\n';
	return n;
}

/* Patch `delta` of `format` against `basis`: refused with one line
 * naming "chunk 3". */
static void
refused_patch(const unsigned char *basis, size_t blen, const unsigned char *delta, size_t dlen,
	      int format, const char *why)
{
	unsigned char *out = malloc(PITR_DELTA_CHUNK);
	size_t olen;

	h_log_reset();
	ck_assert_int_eq(pitr_delta_chunk_patch(basis, blen, delta, dlen, format, out, &olen,
						"chunk 3"), -1);
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_msg(strstr(h_log(), "chunk 3 is damaged") != NULL, "%s", h_log());
	ck_assert_msg(strstr(h_log(), why) != NULL, "want %s: %s", why, h_log());
	free(out);
}

/* The format-2 delta of `nw` (nlen bytes) against `base` (blen). */
static unsigned char *
pieces_delta(const unsigned char *base, size_t blen, const unsigned char *nw, size_t nlen,
	     size_t *dlen)
{
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * REC], nrec[PITR_DELTA_CHUNK_BLOCKS * REC], *d;

	ck_assert_int_eq(pitr_delta_chunk_sig(base, blen, rec), 0);
	ck_assert_int_eq(pitr_delta_chunk_sig(nw, nlen, nrec), 0);
	ck_assert_int_eq(pitr_delta_chunk_delta(nw, nlen, nrec, rec, PITR_DELTA_NBLOCKS(blen), &d,
						dlen), 0);
	return d;
}

START_TEST(test_patch_refuses)
{
	unsigned char *base = noisy(MIB, 3), *nw = noisy(MIB, 3), *delta, *two;
	size_t dlen;

	h_setup();
	noise(nw + 5 * 8192, 100, 5);
	/* Pieces: blocks 0-4 kept, 5 changed, 6-127 kept. */
	delta = pieces_delta(base, MIB, nw, MIB, &dlen);
	/* A piece's length past the delta's end, or cut. */
	delta[0] ^= 0x40;
	refused_patch(base, MIB, delta, dlen, 2, "piece 1 claims");
	delta[0] ^= 0x40;
	refused_patch(base, MIB, delta, dlen - 1, 2, "piece 3 claims");
	two = malloc(dlen + 2);
	memcpy(two, delta, dlen);
	two[dlen] = two[dlen + 1] = 0;
	refused_patch(base, MIB, two, dlen + 2, 2, "piece 4 has a cut length");
	free(two);
	/* A piece shorter than its librsync delta: it ends early. */
	delta[3] -= 1;
	refused_patch(base, MIB, delta, dlen, 2, "(piece 1) ends early");
	delta[3] += 1;
	/* A piece with bytes after its librsync delta's end. */
	delta[3] += 1;
	refused_patch(base, MIB, delta, dlen, 2, "(piece 1) has bytes after its end");
	delta[3] -= 1;
	/* Garbled: a piece's magic number. */
	delta[4] ^= 0x55;
	refused_patch(base, MIB, delta, dlen, 2, "(piece 1)");
	delta[4] ^= 0x55;
	/* A kept run reading beyond the basis: the base chunk given is shorter. */
	refused_patch(base, MIB / 2, delta, dlen, 2, "reads outside its base chunk");
	/* More than a chunk: the pieces of two chunks, one after the other. */
	two = malloc(2 * dlen);
	memcpy(two, delta, dlen);
	memcpy(two + dlen, delta, dlen);
	refused_patch(base, MIB, two, 2 * dlen, 2, "makes more than 1048576 bytes");
	free(two);
	free(delta);
	/* A format this pitrkit does not know. */
	h_log_reset();
	ck_assert_int_eq(pitr_delta_chunk_patch(base, MIB, "", 0, 3, nw, &dlen, "chunk 3"), -1);
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), "chunk 3: a delta of format 3"));
	free(base);
	free(nw);
	h_teardown();
}
END_TEST

/* Format 1 (read only): patched as before, and refused when damaged. */
START_TEST(test_patch_format1)
{
	unsigned char *base = noisy(2 * MIB, 3), *nw = noisy(MIB, 3), *out = malloc(MIB);
	unsigned char *delta;
	size_t dlen, olen;

	h_setup();
	memcpy(base + MIB, base, MIB);
	noise(nw + 5 * 8192, 100, 5);
	delta = df_format1_delta(base, MIB, nw, MIB, &dlen);
	ck_assert_uint_lt(dlen, 8192 + 64);
	ck_assert_int_eq(pitr_delta_chunk_patch(base, MIB, delta, dlen, 1, out, &olen, "c"), 0);
	ck_assert_uint_eq(olen, MIB);
	ck_assert_int_eq(memcmp(out, nw, MIB), 0);
	ck_assert_str_eq(h_log(), "");
	/* Truncated: cut inside the literal, and just before its end command. */
	refused_patch(base, MIB, delta, dlen / 2, 1, "ends");
	refused_patch(base, MIB, delta, dlen - 1, 1, "ends");
	/* Garbled: its magic number. */
	delta[0] ^= 0x55;
	refused_patch(base, MIB, delta, dlen, 1, "magic");
	delta[0] ^= 0x55;
	/* Reading beyond the basis: the base chunk given is shorter. */
	refused_patch(base, MIB / 2, delta, dlen, 1, "outside its base chunk");
	free(delta);
	/* Making more than a chunk: the delta of two chunks' bytes. */
	delta = df_format1_delta(base, MIB, base, 2 * MIB, &dlen);
	refused_patch(base, MIB, delta, dlen, 1, "more than");
	free(delta);
	/* Nothing at all. */
	refused_patch(base, MIB, (const unsigned char *)"", 0, 1, "ends");
	free(out);
	free(base);
	free(nw);
	h_teardown();
}
END_TEST

/* ---- sig files ---- */

struct csink {
	struct pitr_codec_writer *w;
};

static int
codec_sink(void *ctx, const void *buf, size_t len)
{
	return pitr_codec_writer_write(((struct csink *)ctx)->w, buf, len);
}

/* Finish `w` into `path` through `codec`. */
static void
finish_to(struct pitr_delta_sigwriter *w, const char *path, enum pitr_codec codec)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct csink s;

	ck_assert_int_ge(fd, 0);
	s.w = pitr_codec_writer_new(codec, 0, 1, h_fd_sink, &fd);
	ck_assert_ptr_nonnull(s.w);
	ck_assert_int_eq(pitr_delta_sigwriter_finish(w, codec_sink, &s), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(s.w), 0);
	pitr_codec_writer_free(s.w);
	ck_assert_int_eq(close(fd), 0);
}

/* A whole file given chunk by chunk. */
static void
put_whole(struct pitr_delta_sigwriter *w, const char *key, const unsigned char *buf, size_t len)
{
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(w, key), 0);
	df_whole_chunks(w, buf, len);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(w), 0);
}

/* Chunk k's records of `buf` (a file of `len` bytes) stored as a delta
 * chunk. */
static void
put_chunk(struct pitr_delta_sigwriter *w, const char *key, const unsigned char *buf, size_t len,
	  uint32_t k)
{
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * REC];
	size_t off = (size_t)k * PITR_DELTA_CHUNK, n = len - off < PITR_DELTA_CHUNK ? len - off :
		PITR_DELTA_CHUNK;

	unsigned char dig[PITR_DELTA_DIGEST];

	ck_assert_int_eq(pitr_delta_chunk_sig(buf + off, n, rec), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest(buf + off, n, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(w, key, k, rec, PITR_DELTA_NBLOCKS(n), dig),
			 0);
}

static void
sigfile_round_trip(enum pitr_codec codec)
{
	size_t big = 2 * MIB + MIB / 2;
	unsigned char *a = noisy(big, 1), *ra = chunked_records(a, big), *da = chunked_digests(a, big);
	struct pitr_delta_sigwriter *w;
	struct pitr_delta_sigs s;
	const struct pitr_delta_file *f;
	const char *path = h_path(h_fmt("sig%s", pitr_codec_ext(codec)));

	w = pitr_delta_sigwriter_new(h_dir(), 6912345678901234567ull, "L2", "L1");
	ck_assert_ptr_nonnull(w);
	put_whole(w, "data/base/5/1259", a, big);
	put_whole(w, "data/empty", a, 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(w, "data/by_chunk"), 0);
	for (size_t k = 0; k < 3; k++)
		ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, k < 2 ? MIB : MIB / 2,
								  ra + k * 128 * REC,
								  da + k * PITR_DELTA_DIGEST), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(w), 0);
	put_chunk(w, "tablespaces/srv/ts1/PG_15_202209061/5/16390", a, big, 0);
	put_chunk(w, "tablespaces/srv/ts1/PG_15_202209061/5/16390", a, big, 2);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_end(w, "tablespaces/srv/ts1/PG_15_202209061/5/16390",
							big), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_same(w, "data/key with spaces", 12345), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_removed(w, "data/gone"), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_end(w, "data/cut", MIB), 0);
	/* Nothing in the temp dir: the records' file is unlinked. */
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	finish_to(w, path, codec);
	pitr_delta_sigwriter_free(w);

	ck_assert_int_eq(pitr_delta_sigs_read(path, codec, &s), 0);
	ck_assert_uint_eq(s.sysid, 6912345678901234567ull);
	ck_assert_str_eq(s.label, "L2");
	ck_assert_str_eq(s.base, "L1");
	ck_assert_uint_eq(s.nfiles, 7);
	f = &s.files[0];
	ck_assert_str_eq(f->key, "data/base/5/1259");
	ck_assert_int_eq(f->kind, PITR_DELTA_WHOLE);
	ck_assert_uint_eq(f->size, big);
	ck_assert_int_eq(memcmp(f->records, ra, PITR_DELTA_NBLOCKS(big) * REC), 0);
	ck_assert_int_eq(s.format, 2);
	ck_assert_int_eq(memcmp(f->digests, da, 3 * PITR_DELTA_DIGEST), 0);
	ck_assert_int_eq(s.files[1].kind, PITR_DELTA_WHOLE);
	ck_assert_uint_eq(s.files[1].size, 0);
	ck_assert_ptr_nonnull(s.files[1].digests);
	f = pitr_delta_sigs_find(&s, "tablespaces/srv/ts1/PG_15_202209061/5/16390");
	ck_assert_ptr_eq(f, &s.files[3]);
	ck_assert_int_eq(f->kind, PITR_DELTA_DELTA);
	ck_assert_uint_eq(f->nchunks, 2);
	ck_assert_uint_eq(f->chunks[0], 0);
	ck_assert_uint_eq(f->chunks[1], 2);
	ck_assert_int_eq(memcmp(f->records, ra, 128 * REC), 0);
	ck_assert_int_eq(memcmp(f->records + 128 * REC, ra + 256 * REC, 64 * REC), 0);
	ck_assert_int_eq(memcmp(f->digests, da, PITR_DELTA_DIGEST), 0);
	ck_assert_int_eq(memcmp(f->digests + PITR_DELTA_DIGEST, da + 2 * PITR_DELTA_DIGEST,
				PITR_DELTA_DIGEST), 0);
	/* Fed by chunks (signed by the caller), as fed by bytes. */
	f = pitr_delta_sigs_find(&s, "data/by_chunk");
	ck_assert_int_eq(f->kind, PITR_DELTA_WHOLE);
	ck_assert_uint_eq(f->size, big);
	ck_assert_int_eq(memcmp(f->records, ra, PITR_DELTA_NBLOCKS(big) * REC), 0);
	ck_assert_int_eq(memcmp(f->digests, da, 3 * PITR_DELTA_DIGEST), 0);
	f = pitr_delta_sigs_find(&s, "data/key with spaces");
	ck_assert_int_eq(f->kind, PITR_DELTA_SAME);
	ck_assert_uint_eq(f->size, 12345);
	ck_assert_int_eq(pitr_delta_sigs_find(&s, "data/gone")->kind, PITR_DELTA_REMOVED);
	f = pitr_delta_sigs_find(&s, "data/cut");
	ck_assert_int_eq(f->kind, PITR_DELTA_DELTA);
	ck_assert_uint_eq(f->nchunks, 0);
	ck_assert_ptr_null(pitr_delta_sigs_find(&s, "data/nothing"));
	pitr_delta_sigs_free(&s);
	ck_assert_str_eq(h_log(), "");
	free(a);
	free(ra);
	free(da);
}

START_TEST(test_sigfile_round_trip)
{
	h_setup();
	for (int c = 0; c < PITR_CODEC_COUNT; c++) {
		sigfile_round_trip((enum pitr_codec)c);
		unlink(h_path(h_fmt("sig%s", pitr_codec_ext((enum pitr_codec)c))));
	}
	h_teardown();
}
END_TEST

START_TEST(test_sigfile_full)
{
	struct pitr_delta_sigwriter *w;
	struct pitr_delta_sigs s;

	h_setup();
	w = pitr_delta_sigwriter_new(NULL, 1, "F", NULL);
	ck_assert_ptr_nonnull(w);
	put_whole(w, "data/PG_VERSION", (const unsigned char *)"15\n", 3);
	finish_to(w, h_path("sig"), PITR_CODEC_NONE);
	pitr_delta_sigwriter_free(w);
	ck_assert_int_eq(pitr_delta_sigs_read(h_path("sig"), PITR_CODEC_NONE, &s), 0);
	ck_assert_ptr_null(s.base);
	ck_assert_uint_eq(s.nfiles, 1);
	ck_assert_uint_eq(s.files[0].size, 3);
	pitr_delta_sigs_free(&s);
	h_teardown();
}
END_TEST

START_TEST(test_sigwriter_misuse)
{
	struct pitr_delta_sigwriter *w;
	unsigned char rec[REC * 2] = { 0 }, dig[PITR_DELTA_DIGEST] = { 0 };

	h_setup();
	ck_assert_ptr_null(pitr_delta_sigwriter_new(h_dir(), 1, "a\nb", NULL));
	ck_assert_ptr_null(pitr_delta_sigwriter_new(h_path("missing"), 1, "L", NULL));
	w = pitr_delta_sigwriter_new(h_dir(), 1, "L", "B");
	ck_assert_int_eq(pitr_delta_sigwriter_same(w, "data/a\nb", 1), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(w, "data/x"), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_same(w, "data/y", 1), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(w), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(w, "data/d", 3, rec, 2, NULL), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(w, "data/d", 3, rec, 2, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(w, "data/d", 3, rec, 2, dig), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_removed(w, "data/z"), -1);
	/* Chunk 3 of 2 records does not fit a file of 3 MiB + 8193 bytes. */
	ck_assert_int_eq(pitr_delta_sigwriter_delta_end(w, "data/d", 3 * MIB + 8193), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(w, "data/e", 3, rec, 2, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_delta_end(w, "data/e", 3 * MIB + 100), -1);
	/* A chunk without a whole file; a chunk after a short one; a chunk
	 * without its digest; a chunk of nothing. */
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, 8192, rec, dig), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(w, "data/g"), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, 8192, rec, dig), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, 8192, rec, dig), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(w), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(w, "data/h"), 0);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, 8192, rec, NULL), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, 0, rec, dig), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, MIB + 1, rec, dig), -1);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(w), 0);
	pitr_delta_sigwriter_free(w);
	h_teardown();
}
END_TEST

/* ---- damaged sig files, written member by member ---- */

struct member {
	const char *name;
	const void *buf;
	size_t len;
};

static void
write_tar(const char *path, const struct member *m, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct pitr_tarwrite *t = pitr_tarwrite_new(h_fd_sink, &fd);

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(pitr_tarwrite_add_buffer(t, m[i].name, m[i].buf, m[i].len, 0600), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	pitr_tarwrite_free(t);
	close(fd);
}

#define HEAD "format=1\nsystem_identifier=9\nlabel=L\nbase=B\nblock=8192\nchunk=1048576\n\n"

/* A sig file at `path` of a 10-byte whole file "data/w" with `manifest`
 * and a `hdr` signature header. */
static void
sig_tar(const char *path, const char *manifest, const unsigned char *hdr)
{
	unsigned char sig[12 + REC];
	struct member m[2] = {
		{ "sig/data/w", sig, sizeof(sig) },
		{ "manifest", manifest, strlen(manifest) },
	};

	memcpy(sig, hdr, 12);
	ck_assert_int_eq(pitr_delta_chunk_sig("0123456789", 10, sig + 12), 0);
	write_tar(path, m, 2);
}

/* That file refused, one line naming it and `why`. */
static void
refused_sig(const char *manifest, const unsigned char *hdr, const char *why)
{
	struct pitr_delta_sigs s;

	sig_tar(h_path("bad"), manifest, hdr);
	h_log_reset();
	ck_assert_int_eq(pitr_delta_sigs_read(h_path("bad"), PITR_CODEC_NONE, &s), -1);
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_msg(strstr(h_log(), h_path("bad")) != NULL, "%s", h_log());
	ck_assert_msg(strstr(h_log(), why) != NULL, "want %s: %s", why, h_log());
}

START_TEST(test_sigfile_damaged)
{
	static const unsigned char good[12] = { 'r', 's', 1, '7', 0, 0, 0x20, 0, 0, 0, 0, 32 };
	static const unsigned char blk[12] = { 'r', 's', 1, '7', 0, 0, 0x10, 0, 0, 0, 0, 32 };
	struct pitr_delta_sigs s;

	h_setup();
	/* What the refused ones vary. */
	sig_tar(h_path("good"), HEAD "whole 10 data/w\n", good);
	ck_assert_int_eq(pitr_delta_sigs_read(h_path("good"), PITR_CODEC_NONE, &s), 0);
	ck_assert_uint_eq(s.nfiles, 1);
	/* Format 1 (the first pitrkit's): read, without digests. */
	ck_assert_int_eq(s.format, 1);
	ck_assert_ptr_nonnull(s.files[0].records);
	ck_assert_ptr_null(s.files[0].digests);
	pitr_delta_sigs_free(&s);
	refused_sig("format=3\nsystem_identifier=9\nlabel=L\nbase=B\nblock=8192\nchunk=1048576\n\n"
		    "whole 10 data/w\n", good, "is of format \"3\": this pitrkit reads formats 1 to 2");
	/* Format 2 without the digest after the records. */
	refused_sig("format=2\nsystem_identifier=9\nlabel=L\nbase=B\nblock=8192\nchunk=1048576\n\n"
		    "whole 10 data/w\n", good, "has 48 bytes, not 80 (1 records and their digests)");
	refused_sig(HEAD "whole 10 data/w\nwhole 10 data/w\n", good, "lists \"data/w\" twice");
	refused_sig(HEAD "wholly 10 data/w\n", good, "not this format's");
	refused_sig(HEAD "whole x data/w\n", good, "not this format's");
	refused_sig(HEAD "whole 10 \n", good, "not this format's");
	refused_sig(HEAD "whole 10 data/w", good, "last line is cut");
	refused_sig(HEAD "whole 10 data/w\nwhole 10 data/v\n", good,
		    "lacks the signature of \"data/v\"");
	refused_sig(HEAD "whole 9000 data/w\n", good, "has 48 bytes, not 84 (2 records)");
	refused_sig(HEAD "whole 10 data/w\n", blk, "not of 8192-byte blocks");
	refused_sig(HEAD "same 10 data/v\n", good, "belongs to no file");
	refused_sig(HEAD "delta 10 data/w\n", good, "belongs to no file");
	refused_sig("format=2\n" HEAD "whole 10 data/w\n", good, "gives \"format\" twice");
	refused_sig("format=1\nlabel=L\n\nwhole 10 data/w\n", good, "lacks \"system_identifier\"");
	refused_sig("format=1\nsystem_identifier=9\nlabel=L\nbase=\nblock=8192\nchunk=1048576\n\n"
		    "same 10 data/w\n", good, "not this format's");
	refused_sig("format=1\nsystem_identifier=9\nlabel=L\nbase=B\nblock=4096\nchunk=1048576\n\n"
		    "whole 10 data/w\n", good, "not this format's");
	h_teardown();
}
END_TEST

/* The tar or its compression damaged: refused, once, naming the file. */
START_TEST(test_sigfile_cut)
{
	static const unsigned char good[12] = { 'r', 's', 1, '7', 0, 0, 0x20, 0, 0, 0, 0, 32 };
	struct pitr_delta_sigs s;
	size_t len;
	char *bytes;

	h_setup();
	sig_tar(h_path("good"), HEAD "whole 10 data/w\n", good);
	/* Truncated: the tar cut inside the signature member. */
	bytes = h_read_file(h_path("good"), &len);
	h_write_file(h_path("bad"), bytes, 530);
	h_log_reset();
	ck_assert_int_eq(pitr_delta_sigs_read(h_path("bad"), PITR_CODEC_NONE, &s), -1);
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_msg(strstr(h_log(), h_path("bad")) != NULL, "%s", h_log());
	/* A member that claims more than the file holds: refused at the
	 * file's end, not by an allocation of its claim. */
	{
		char *lie = h_read_file(h_path("good"), &len);
		unsigned sum = 0;

		ck_assert_str_eq(lie, "sig/data/w");
		memcpy(lie + 124, "77777777770", 12);   /* 36 * 238609294 */
		memset(lie + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += (unsigned char)lie[i];
		snprintf(lie + 148, 8, "%06o", sum);
		h_write_file(h_path("bad"), lie, len);
		free(lie);
		h_log_reset();
		ck_assert_int_eq(pitr_delta_sigs_read(h_path("bad"), PITR_CODEC_NONE, &s), -1);
		ck_assert_int_eq(lines(h_log()), 1);
		ck_assert_msg(strstr(h_log(), "member \"sig/data/w\"") != NULL, "%s", h_log());
	}
	/* Compressed and cut: the codec says so, once. */
	h_write_compressed(h_path("bad.gz"), PITR_CODEC_GZIP, bytes, len);
	free(bytes);
	bytes = h_read_file(h_path("bad.gz"), &len);
	h_write_file(h_path("bad.gz"), bytes, len - 10);
	h_log_reset();
	ck_assert_int_eq(pitr_delta_sigs_read(h_path("bad.gz"), PITR_CODEC_GZIP, &s), -1);
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_msg(strstr(h_log(), h_path("bad.gz")) != NULL, "%s", h_log());
	free(bytes);
	h_teardown();
}
END_TEST

/* ---- chains ---- */

/* A file's content in each of three backups. */
struct version {
	const char *key;
	unsigned char *buf[3];   /* NULL: not in that backup */
	size_t len[3];
};

/* The sig file of backup i: files new (or all, in the full one) whole,
 * those of backup i-1 compared chunk by chunk: same, delta or removed. */
static void
write_link(struct version *v, size_t nv, int i, const char *path)
{
	static const char *labels[] = { "L0", "L1", "L2" };
	struct pitr_delta_sigwriter *w =
		pitr_delta_sigwriter_new(h_dir(), 42, labels[i], i > 0 ? labels[i - 1] : NULL);

	for (size_t j = 0; j < nv; j++) {
		unsigned char *nb = v[j].buf[i], *ob = i > 0 ? v[j].buf[i - 1] : NULL;
		size_t nl = v[j].len[i], ol = i > 0 ? v[j].len[i - 1] : 0;
		bool changed = false;

		if (nb == NULL && ob != NULL)
			ck_assert_int_eq(pitr_delta_sigwriter_removed(w, v[j].key), 0);
		if (nb == NULL)
			continue;
		if (ob == NULL) {
			put_whole(w, v[j].key, nb, nl);
			continue;
		}
		for (size_t off = 0; off < nl; off += PITR_DELTA_CHUNK) {
			size_t n = nl - off < PITR_DELTA_CHUNK ? nl - off : PITR_DELTA_CHUNK;
			size_t on = off < ol ? (ol - off < PITR_DELTA_CHUNK ? ol - off : PITR_DELTA_CHUNK) : 0;

			if (n != on || memcmp(nb + off, ob + off, n) != 0) {
				put_chunk(w, v[j].key, nb, nl, (uint32_t)(off / PITR_DELTA_CHUNK));
				changed = true;
			}
		}
		if (changed || nl != ol)
			ck_assert_int_eq(pitr_delta_sigwriter_delta_end(w, v[j].key, nl), 0);
		else
			ck_assert_int_eq(pitr_delta_sigwriter_same(w, v[j].key, nl), 0);
	}
	finish_to(w, path, PITR_CODEC_LZ4);
	pitr_delta_sigwriter_free(w);
}

static int
count_key(void *arg, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	(*(int *)arg)++;
	return 0;
}

static int
stop_at_two(void *arg, const char *key, uint64_t size)
{
	(void)key;
	(void)size;
	return ++*(int *)arg == 2 ? 7 : 0;
}

/* v's versions: base content, and what each later backup changes. */
static void
make_versions(struct version *v)
{
	unsigned char *a = noisy(5 * MIB, 11), *b = noisy(5 * MIB, 12);

	for (int i = 0; i < 7; i++)
		for (int j = 0; j < 3; j++)
			v[i].buf[j] = malloc(5 * MIB);
	for (int i = 0; i < 7; i++)
		for (int j = 0; j < 3; j++)
			memcpy(v[i].buf[j], i % 2 ? a : b, 5 * MIB);
	/* unchanged 2.5 MiB */
	v[0] = (struct version){ "data/same", { v[0].buf[0], v[0].buf[1], v[0].buf[2] },
				 { 5 * MIB / 2, 5 * MIB / 2, 5 * MIB / 2 } };
	/* changed in chunk 1 (one page) in L1, then in chunk 2 in L2 */
	v[1] = (struct version){ "data/changed", { v[1].buf[0], v[1].buf[1], v[1].buf[2] },
				 { 3 * MIB, 3 * MIB, 3 * MIB } };
	noise(v[1].buf[1] + MIB + 8192, 8192, 1);
	noise(v[1].buf[2] + MIB + 8192, 8192, 1);
	noise(v[1].buf[2] + 2 * MIB, 100, 2);
	/* grown: 1.5 MiB, 2.2 MiB, 4 MiB + 1 */
	v[2] = (struct version){ "data/grown", { v[2].buf[0], v[2].buf[1], v[2].buf[2] },
				 { MIB + MIB / 2, 2 * MIB + MIB / 5, 4 * MIB + 1 } };
	/* shrunk: 2.5 MiB, 1 MiB (a chunk boundary: nothing stored), 0.3 MiB */
	v[3] = (struct version){ "data/shrunk", { v[3].buf[0], v[3].buf[1], v[3].buf[2] },
				 { 5 * MIB / 2, MIB, 3 * MIB / 10 } };
	/* removed in L1 */
	free(v[4].buf[1]);
	free(v[4].buf[2]);
	v[4] = (struct version){ "data/removed", { v[4].buf[0], NULL, NULL }, { 8192, 0, 0 } };
	/* removed in L1, made again (other content) in L2 */
	free(v[5].buf[1]);
	v[5] = (struct version){ "data/again", { v[5].buf[0], NULL, v[5].buf[2] }, { 9000, 0, 7000 } };
	noise(v[5].buf[2], 7000, 3);
	/* new in L1, emptied in L2 */
	free(v[6].buf[0]);
	v[6] = (struct version){ "tablespaces/s/t/PG_15_1/5/1", { NULL, v[6].buf[1], v[6].buf[2] },
				 { 0, 2 * MIB, 0 } };
	free(a);
	free(b);
}

/* The chain of links[0..upto) holds each file of backup upto-1 with the
 * records of its content there, and no other: their count. */
static int
check_composed(const struct pitr_delta_sigs *links, int upto, const struct version *v, int nv)
{
	struct pitr_delta_chain *c = pitr_delta_chain_compose(links, (size_t)upto);
	int n = 0, m = 0;

	ck_assert_ptr_nonnull(c);
	for (int j = 0; j < nv; j++) {
		uint64_t size;
		const unsigned char *rec, *dig;
		bool there = pitr_delta_chain_lookup(c, v[j].key, &size, &rec, &dig);
		unsigned char *want;

		ck_assert_msg(there == (v[j].buf[upto - 1] != NULL), "%s in %d", v[j].key, upto);
		if (!there)
			continue;
		n++;
		ck_assert_uint_eq(size, v[j].len[upto - 1]);
		want = chunked_records(v[j].buf[upto - 1], v[j].len[upto - 1]);
		ck_assert_msg(memcmp(rec, want, PITR_DELTA_NBLOCKS(size) * REC) == 0, "%s in %d",
			      v[j].key, upto);
		free(want);
		want = chunked_digests(v[j].buf[upto - 1], v[j].len[upto - 1]);
		ck_assert_msg(memcmp(dig, want, PITR_DELTA_NCHUNKS(size) * PITR_DELTA_DIGEST) == 0,
			      "%s in %d", v[j].key, upto);
		free(want);
	}
	ck_assert_int_eq(pitr_delta_chain_each(c, count_key, &m), 0);
	ck_assert_int_eq(m, n);
	m = 0;
	ck_assert_int_eq(pitr_delta_chain_each(c, stop_at_two, &m), 7);
	pitr_delta_chain_free(c);
	return n;
}

START_TEST(test_chain_compose)
{
	struct version v[7];
	struct pitr_delta_sigs links[3];
	int n = 0;

	h_setup();
	make_versions(v);
	for (int i = 0; i < 3; i++) {
		write_link(v, 7, i, h_path(h_fmt("sig%d", i)));
		ck_assert_int_eq(pitr_delta_sigs_read(h_path(h_fmt("sig%d", i)), PITR_CODEC_LZ4,
						      &links[i]), 0);
	}
	/* What the incrementals hold: only what changed. */
	ck_assert_int_eq(pitr_delta_sigs_find(&links[1], "data/same")->kind, PITR_DELTA_SAME);
	ck_assert_uint_eq(pitr_delta_sigs_find(&links[1], "data/changed")->nchunks, 1);
	ck_assert_uint_eq(pitr_delta_sigs_find(&links[2], "data/changed")->nchunks, 1);
	ck_assert_uint_eq(pitr_delta_sigs_find(&links[1], "data/shrunk")->nchunks, 0);
	ck_assert_uint_eq(pitr_delta_sigs_find(&links[2], "data/grown")->nchunks, 3);
	for (int upto = 1; upto <= 3; upto++)
		n = check_composed(links, upto, v, 7);
	ck_assert_int_eq(n, 6);
	ck_assert_str_eq(h_log(), "");
	for (int i = 0; i < 3; i++)
		pitr_delta_sigs_free(&links[i]);
	for (int i = 0; i < 7; i++)
		for (int j = 0; j < 3; j++)
			free(v[i].buf[j]);
	h_teardown();
}
END_TEST

/* Compose refused: one line naming backup `label`. */
static void
refused_chain(const struct pitr_delta_sigs *links, size_t n, const char *label, const char *why)
{
	h_log_reset();
	ck_assert_ptr_null(pitr_delta_chain_compose(links, n));
	ck_assert_int_eq(lines(h_log()), 1);
	ck_assert_msg(strstr(h_log(), h_fmt("backup \"%s\"", label)) != NULL, "%s", h_log());
	ck_assert_msg(strstr(h_log(), why) != NULL, "want %s: %s", why, h_log());
}

START_TEST(test_chain_refuses)
{
	unsigned char rec[REC * 2] = { 1 };
	uint32_t ch0 = 0;
	struct pitr_delta_file full[] = {
		{ .key = "data/a", .kind = PITR_DELTA_WHOLE, .size = 10000, .records = rec },
	};
	struct pitr_delta_file same_b[] = { { .key = "data/b", .kind = PITR_DELTA_SAME, .size = 1 } };
	struct pitr_delta_file delta_b[] = {
		{ .key = "data/b", .kind = PITR_DELTA_DELTA, .size = 10, .records = rec,
		  .chunks = &ch0, .nchunks = 1 },
	};
	struct pitr_delta_file grown_a[] = {
		{ .key = "data/a", .kind = PITR_DELTA_DELTA, .size = 20000, .records = rec },
	};
	struct pitr_delta_file same_a[] = { { .key = "data/a", .kind = PITR_DELTA_SAME, .size = 9 } };
	struct pitr_delta_sigs l[2] = {
		{ .format = 1, .sysid = 5, .label = "F", .files = full, .nfiles = 1 },
		{ .format = 1, .sysid = 5, .label = "I", .base = "F", .files = same_b, .nfiles = 1 },
	};
	struct pitr_delta_chain *c;

	h_setup();
	refused_chain(l, 2, "I", "\"data/b\" is unchanged from a file no earlier backup has");
	l[1].files = delta_b;
	refused_chain(l, 2, "I", "\"data/b\" is a delta of a file no earlier backup has");
	l[1].files = grown_a;
	refused_chain(l, 2, "I", "chunk 0 of \"data/a\" is neither stored nor its base's");
	l[1].files = same_a;
	refused_chain(l, 2, "I", "size is not its base's");
	l[1].nfiles = 0;
	l[1].base = "X";
	refused_chain(l, 2, "I", "its base is \"X\", not \"F\"");
	l[1].base = NULL;
	refused_chain(l, 2, "I", "its base is \"(none)\"");
	l[1].base = "F";
	l[1].sysid = 6;
	refused_chain(l, 2, "I", "system identifier 6 is not 5");
	refused_chain(&l[1], 1, "I", "does not start with a full backup");
	l[1].sysid = 5;
	/* Links of one format only; and format 2 carries digests. */
	l[1].format = 2;
	refused_chain(l, 2, "I", "its format is 2, not 1, that of \"F\"");
	l[1].format = 3;
	refused_chain(l, 2, "I", "its format is 3");
	l[0].format = l[1].format = 2;
	refused_chain(l, 2, "F", "\"data/a\" has no chunk digests");
	l[0].format = l[1].format = 1;
	c = pitr_delta_chain_compose(l, 2);
	ck_assert_ptr_nonnull(c);
	pitr_delta_chain_free(c);
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("delta");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "chunk_sig", test_chunk_sig_slices },
		{ "chunk_digest", test_chunk_digest },
		{ "delta_patch", test_delta_patch },
		{ "patch_refuses", test_patch_refuses },
		{ "patch_format1", test_patch_format1 },
		{ "sigfile_round_trip", test_sigfile_round_trip },
		{ "sigfile_full", test_sigfile_full },
		{ "sigwriter_misuse", test_sigwriter_misuse },
		{ "sigfile_damaged", test_sigfile_damaged },
		{ "sigfile_cut", test_sigfile_cut },
		{ "chain_compose", test_chain_compose },
		{ "chain_refuses", test_chain_refuses },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
