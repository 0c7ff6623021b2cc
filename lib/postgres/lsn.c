/*
 * lsn.c - WAL locations to and from PostgreSQL's "X/X" text (see lsn.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>

#include "postgres/lsn.h"

int
pitr_lsn_parse(const char *text, uint64_t *out)
{
	uint64_t part[2] = { 0, 0 };
	const char *p = text;

	for (int half = 0; half < 2; half++) {
		int digits = 0;

		while (isxdigit((unsigned char)*p)) {
			if (++digits > 8)
				return -1;
			part[half] = part[half] * 16 +
				     (uint64_t)(isdigit((unsigned char)*p) ? *p - '0'
									 : (tolower((unsigned char)*p) - 'a' + 10));
			p++;
		}
		if (digits == 0 || *p != (half == 0 ? '/' : '\0'))
			return -1;
		p++;
	}
	*out = part[0] << 32 | part[1];
	return 0;
}

void
pitr_lsn_format(uint64_t lsn, char *out, size_t size)
{
	snprintf(out, size, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(uint32_t)lsn);
}
