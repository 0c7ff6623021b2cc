/*
 * fuzz_delta_sigs.c - sig files (delta/sigfile.c, chain.c): incremental
 * backups read their base's sig files, pitr-recover and pitr-verify every
 * link's, and any may be damaged.  The input is a sig file (a tar, not
 * compressed).  A file that reads must hold what the manifest promises:
 * every key found again, whole files' records present, delta files'
 * chunks ascending and inside the file; a full backup's composes into a
 * chain whose every file has its own records.  A refusal must leave
 * nothing allocated.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "delta/delta.h"
#include "fuzz.h"

static void
check_file(const struct pitr_delta_sigs *s, const struct pitr_delta_file *f)
{
	uint64_t nch = (f->size + PITR_DELTA_CHUNK - 1) / PITR_DELTA_CHUNK;

	if (pitr_delta_sigs_find(s, f->key) != f)
		fuzz_fail("a key is not found again", f->key);
	if (f->kind == PITR_DELTA_WHOLE && f->records == NULL)
		fuzz_fail("a whole file has no records", f->key);
	if ((f->kind == PITR_DELTA_WHOLE || f->kind == PITR_DELTA_DELTA) &&
	    (f->digests != NULL) != (s->format >= 2))
		fuzz_fail("a file's digests do not follow its sig file's format", f->key);
	for (size_t i = 0; i < f->nchunks; i++)
		if (f->chunks[i] >= nch || (i > 0 && f->chunks[i] <= f->chunks[i - 1]))
			fuzz_fail("a delta file's chunks are out of order or size", f->key);
}

/* A full backup's sig file is a chain of one. */
static void
check_chain(const struct pitr_delta_sigs *s)
{
	struct pitr_delta_chain *c = pitr_delta_chain_compose(s, 1);

	if (c == NULL)
		fuzz_fail("a full backup's signatures do not compose", s->label);
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct pitr_delta_file *f = &s->files[i];
		const unsigned char *rec, *dig;
		uint64_t size;

		if (!pitr_delta_chain_lookup(c, f->key, &size, &rec, &dig) || size != f->size ||
		    memcmp(rec, f->records, PITR_DELTA_NBLOCKS(size) * PITR_DELTA_RECORD) != 0 ||
		    (dig != NULL) != (f->digests != NULL) ||
		    (dig != NULL && memcmp(dig, f->digests, PITR_DELTA_NCHUNKS(size) *
					   PITR_DELTA_DIGEST) != 0))
			fuzz_fail("a chain of one differs from its link", f->key);
	}
	pitr_delta_chain_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file(data, size, ".sig");
	struct pitr_delta_sigs s;

	if (pitr_delta_sigs_read(path, PITR_CODEC_NONE, &s) != 0)
		return 0;
	if (s.label == NULL || s.label[0] == '\0')
		fuzz_fail("a sig file without a label was read", "");
	for (size_t i = 0; i < s.nfiles; i++)
		check_file(&s, &s.files[i]);
	if (s.base == NULL)
		check_chain(&s);
	pitr_delta_sigs_free(&s);
	return 0;
}
