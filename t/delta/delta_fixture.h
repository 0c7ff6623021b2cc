/*
 * delta_fixture.h - what the tests of incremental backups share: librsync
 * signatures and deltas made through librsync's own stdio API, as the
 * reference lib/delta's must equal, and the format-1 chunk delta (one
 * librsync delta of a whole chunk) that only the first pitrkit with
 * incrementals wrote.
 */
#ifndef PITR_T_DELTA_FIXTURE_H
#define PITR_T_DELTA_FIXTURE_H

#include <stddef.h>

struct pitr_delta_sigwriter;

/* librsync's signature of `len` bytes (RS_BLAKE2_SIG_MAGIC, delta.h's
 * block and strong sum), malloc'd, *siglen bytes. */
unsigned char *df_reference_sig(const unsigned char *buf, size_t len, size_t *siglen);

/* The format-1 delta of `nw` (nlen bytes) against the signature of
 * `base` (blen bytes), malloc'd, *dlen bytes. */
unsigned char *df_format1_delta(const unsigned char *base, size_t blen, const unsigned char *nw,
				size_t nlen, size_t *dlen);

/* A whole file's `len` bytes given to the sig writer `w` chunk by chunk
 * (records and digest of each, as the backup's pool gives them), between
 * the caller's whole_begin and whole_end. */
void df_whole_chunks(struct pitr_delta_sigwriter *w, const unsigned char *buf, size_t len);

#endif
