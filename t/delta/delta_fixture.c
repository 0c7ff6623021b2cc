/*
 * delta_fixture.c - see delta_fixture.h.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include <librsync.h>

#include "delta/delta.h"
#include "delta_fixture.h"

/* librsync's own signature of `len` bytes, through its stdio API: what
 * the chunk records must slice. */
unsigned char *
df_reference_sig(const unsigned char *buf, size_t len, size_t *siglen)
{
	FILE *in = fmemopen((void *)buf, len > 0 ? len : 1, "rb");
	char *out = NULL;
	FILE *sig = open_memstream(&out, siglen);
	rs_stats_t st;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(sig);
	if (len == 0)
		fgetc(in);   /* an empty file: at its end before rs_sig_file reads */
	ck_assert_int_eq(rs_sig_file(in, sig, PITR_DELTA_BLOCK, PITR_DELTA_STRONG,
				     RS_BLAKE2_SIG_MAGIC, &st), RS_DONE);
	fclose(in);
	fclose(sig);
	return (unsigned char *)out;
}

/* A format-1 delta: one librsync delta of all of `nw` against `base`'s
 * signature (what the first pitrkit with incrementals stored), made here
 * through librsync's stdio API since the library writes format 2 only. */
unsigned char *
df_format1_delta(const unsigned char *base, size_t blen, const unsigned char *nw, size_t nlen,
	      size_t *dlen)
{
	size_t siglen;
	unsigned char *sig = df_reference_sig(base, blen, &siglen);
	FILE *sf = fmemopen(sig, siglen, "rb"), *in = fmemopen((void *)nw, nlen > 0 ? nlen : 1, "rb");
	char *out = NULL;
	FILE *df = open_memstream(&out, dlen);
	rs_signature_t *s = NULL;
	rs_stats_t st;

	ck_assert_int_eq(rs_loadsig_file(sf, &s, &st), RS_DONE);
	ck_assert_int_eq(rs_build_hash_table(s), RS_DONE);
	if (nlen == 0)
		fgetc(in);
	ck_assert_int_eq(rs_delta_file(s, in, df, &st), RS_DONE);
	rs_free_sumset(s);
	fclose(sf);
	fclose(in);
	fclose(df);
	free(sig);
	return (unsigned char *)out;
}

void
df_whole_chunks(struct pitr_delta_sigwriter *w, const unsigned char *buf, size_t len)
{
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD], dig[PITR_DELTA_DIGEST];

	for (size_t off = 0; off < len; off += PITR_DELTA_CHUNK) {
		size_t n = pitr_delta_chunk_len(len, off / PITR_DELTA_CHUNK);

		ck_assert_int_eq(pitr_delta_chunk_sig(buf + off, n, rec), 0);
		ck_assert_int_eq(pitr_delta_chunk_digest(buf + off, n, dig), 0);
		ck_assert_int_eq(pitr_delta_sigwriter_whole_chunk(w, n, rec, dig), 0);
	}
}
