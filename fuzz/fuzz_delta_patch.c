/*
 * fuzz_delta_patch.c - chunk deltas (delta/sig.c): pitr-recover applies
 * the ".d" members of incremental backups, which may have been damaged or
 * crafted, to base chunks through librsync's patch job.  The input's
 * first two bytes give the base chunk's length (little-endian, times 16:
 * up to a whole chunk), whose bytes are a fixed pattern; the third the
 * delta's format (1 or 2; others are refused); the rest is the delta.
 * Whatever it is, the patch makes at most a chunk, reads nothing outside
 * the base (ASan guards the buffer's ends), and either succeeds
 * or refuses; a refused delta leaves nothing allocated.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "delta/delta.h"
#include "fuzz.h"

static unsigned char *basis_buf;
static unsigned char *out_buf;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t blen, olen = SIZE_MAX;
	unsigned char *basis;
	int r;

	if (basis_buf == NULL) {
		fuzz_quiet_log();
		basis_buf = malloc(PITR_DELTA_CHUNK);
		out_buf = malloc(PITR_DELTA_CHUNK);
		if (basis_buf == NULL || out_buf == NULL)
			fuzz_fail("out of memory", "");
		for (size_t i = 0; i < PITR_DELTA_CHUNK; i++)
			basis_buf[i] = (unsigned char)(i * 131 + (i >> 13));
	}
	if (size < 3)
		return 0;
	blen = ((size_t)data[0] | (size_t)data[1] << 8) * 16;
	if (blen > PITR_DELTA_CHUNK)
		blen = PITR_DELTA_CHUNK;
	/* The base at the end of the buffer: a read past it is past the
	 * allocation. */
	basis = basis_buf + PITR_DELTA_CHUNK - blen;
	r = pitr_delta_chunk_patch(basis, blen, data + 3, size - 3, data[2], out_buf, &olen, "fuzz");
	if (r != 0 && r != -1)
		fuzz_fail("a patch returned something else", "");
	if (r == 0 && olen > PITR_DELTA_CHUNK)
		fuzz_fail("a patch made more than a chunk", "");
	return 0;
}
