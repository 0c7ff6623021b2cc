/*
 * fuzz_walname.c - WAL file names (postgres/wal): every name the archive,
 * restore and cleanup commands are handed or find in a directory goes
 * through pitr_wal_parse.  A name it takes must format back to itself
 * (hex digits are upper case only, so the spelling is unique), and
 * stepping a segment forth and back must return to it.  The name is also
 * split as an archived file's, into a WAL name and a codec's extension.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "compress/codec.h"
#include "fuzz.h"
#include "postgres/wal.h"

/* Every segment size a cluster can have: 1 MiB to 1 GiB. */
static void
check_segment(const struct pitr_wal_name *parsed, const char *name)
{
	for (uint32_t segsize = PITR_WAL_MIN_SEGSIZE; segsize != 0 && segsize <= PITR_WAL_MAX_SEGSIZE;
	     segsize <<= 1) {
		struct pitr_wal_name n = *parsed;
		char out[PITR_WAL_NAME_MAX];

		if (!pitr_wal_name_fits(parsed, segsize))
			continue;
		pitr_wal_format_segment(out, parsed->tli, pitr_wal_segno(parsed, segsize), segsize);
		if (parsed->kind == PITR_WAL_SEGMENT && strcmp(out, name) != 0)
			fuzz_fail("segment number does not format back to the name", name);
		if (pitr_wal_next(&n, segsize) == 0) {
			if (pitr_wal_cmp_position(&n, parsed) <= 0)
				fuzz_fail("the next segment does not sort after", name);
			if (pitr_wal_prev(&n, segsize) != 0 || pitr_wal_cmp_position(&n, parsed) != 0)
				fuzz_fail("next then prev does not come back", name);
		}
		(void)pitr_wal_start_lsn(parsed, segsize);
	}
}

/* An archived file's name: a WAL name and its codec's extension, as the
 * archive directory and the catalog split it. */
static void
check_archived(const char *name)
{
	size_t stem = 0;
	enum pitr_codec codec = pitr_codec_from_filename(name, &stem);
	const char *ext = pitr_codec_ext(codec);
	char *bare;

	if (stem > strlen(name) || strcmp(name + stem, ext) != 0)
		fuzz_fail("the stem and extension do not make the name", name);
	if ((bare = strndup(name, stem)) == NULL)
		abort();
	(void)pitr_wal_parse(bare, NULL);
	(void)pitr_codec_prefix_len(name);
	free(bare);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = fuzz_cstr(data, size);
	struct pitr_wal_name parsed;
	enum pitr_wal_kind kind = pitr_wal_parse(name, &parsed);

	(void)pitr_wal_kind_name(kind);
	if (kind != PITR_WAL_NONE) {
		char out[PITR_WAL_NAME_MAX];

		if (parsed.kind != kind)
			fuzz_fail("kind returned and kind filled differ", name);
		pitr_wal_format(out, &parsed);
		if (strcmp(out, name) != 0)
			fuzz_fail("a parsed name does not format back to itself", name);
		if (pitr_wal_cmp_position(&parsed, &parsed) != 0)
			fuzz_fail("a name does not compare equal to itself", name);
		if (kind == PITR_WAL_SEGMENT || kind == PITR_WAL_PARTIAL || kind == PITR_WAL_BACKUP)
			check_segment(&parsed, name);
	}
	check_archived(name);
	free(name);
	return 0;
}
