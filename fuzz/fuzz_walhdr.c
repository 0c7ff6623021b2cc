/*
 * fuzz_walhdr.c - WAL page headers (postgres/walhdr): pitr-archive,
 * pitr-restore and pitr-verify judge a segment by its first 40 bytes.
 * The input is a segment file's start; it is checked against the name its
 * own header implies (so that the checks run past the page address) and
 * against a fixed name, and read back from a file as the programs do.  A
 * header that passes must name a known version and a valid segment size.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

/* The segment name the header's own fields point at, when they can. */
static int
implied_name(const struct pitr_walhdr *h, struct pitr_wal_name *name)
{
	char text[PITR_WAL_NAME_MAX];

	if (!pitr_wal_segsize_valid(h->seg_size) || h->tli == 0)
		return -1;
	pitr_wal_format_segment(text, h->tli, h->pageaddr / h->seg_size, h->seg_size);
	return pitr_wal_parse(text, name) == PITR_WAL_SEGMENT ? 0 : -1;
}

static void
check(const struct pitr_walhdr *h, const struct pitr_wal_name *name)
{
	if (pitr_walhdr_check(h, name, "fuzz input") != 0)
		return;
	if (pitr_walhdr_version(h->magic) == NULL || !pitr_wal_segsize_valid(h->seg_size) ||
	    !(h->info & PITR_WALHDR_XLP_LONG_HEADER) || h->tli > name->tli)
		fuzz_fail("a header that passed the check breaks its rules", NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pitr_walhdr h, from_file;
	struct pitr_wal_name name;

	if (pitr_walhdr_decode(data, size, &h) != 0) {
		if (size >= PITR_WALHDR_SIZE)
			fuzz_fail("a full header was refused", NULL);
		return 0;
	}
	if (implied_name(&h, &name) == 0)
		check(&h, &name);
	if (pitr_wal_parse("000000010000000000000001", &name) != PITR_WAL_SEGMENT)
		fuzz_fail("the fixed name does not parse", NULL);
	check(&h, &name);
	if (pitr_walhdr_read_file(fuzz_file(data, size, ""), &name, &from_file) == 0 &&
	    memcmp(&from_file, &h, sizeof(h)) != 0)
		fuzz_fail("the file's header differs from the buffer's", NULL);
	return 0;
}
