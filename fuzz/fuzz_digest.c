/*
 * fuzz_digest.c - digest files (digest/digest): pitr-verify and
 * pitr-recover look each backup file's digest up in a "HEX  NAME" file
 * (sha256sum's format, names with '\\', '\n' or '\r' escaped).  The input
 * is a file name, a NUL, then the digest file's text.  Looking the name up
 * must end in found (with a lower-case digest of a known length), not
 * listed, or malformed; and the line pitr_digest_line writes for the name
 * must be found again with its digest.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "digest/digest.h"
#include "fuzz.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void
check_found(const char *hex, const char *name)
{
	size_t n = strlen(hex);

	if (n != 32 && n != 40 && n != 56 && n != 64 && n != 96 && n != 128)
		fuzz_fail("a digest of no known length was found", name);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)hex[i]) || isupper((unsigned char)hex[i]))
			fuzz_fail("a digest found is not lower-case hex", hex);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *all = fuzz_cstr(data, size);
	size_t namelen = strlen(all);
	const char *name = all;
	char *text = fuzz_cstr(data + (namelen < size ? namelen + 1 : size),
			       namelen < size ? size - namelen - 1 : 0);
	char hex[PITR_DIGEST_HEX_MAX], *line;
	int r = pitr_digest_lookup(text, name, hex);

	if (r < -1 || r > 1)
		fuzz_fail("a lookup returned something else", name);
	if (r == 0)
		check_found(hex, name);
	/* A file name is never empty. */
	if (name[0] != '\0') {
		if ((line = pitr_digest_line(HEX64, name)) == NULL)
			fuzz_fail("no line for a name", name);
		if (pitr_digest_lookup(line, name, hex) != 0 || strcmp(hex, HEX64) != 0)
			fuzz_fail("a line written is not found again", line);
		free(line);
	}
	free(text);
	free(all);
	return 0;
}
