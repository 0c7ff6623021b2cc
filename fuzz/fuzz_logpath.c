/*
 * fuzz_logpath.c - log file templates (common/logpath): --log's
 * ^-strftime template is expanded again for every log line.  The input is
 * eight bytes of time, then the template.  An expansion is a non-empty
 * string, or NULL with errno saying why (EINVAL, ENOMEM); a template
 * without '^' expands to itself.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/logpath.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t when = 0;
	char *tmpl, *out;

	if (size < sizeof(when))
		return 0;
	memcpy(&when, data, sizeof(when));
	/* A time localtime() can represent; the far years only test libc. */
	when %= (int64_t)400 * 366 * 86400;
	tmpl = fuzz_cstr(data + sizeof(when), size - sizeof(when));
	errno = 0;
	out = pitr_logpath_expand(tmpl, (time_t)when);
	if (out == NULL) {
		if (errno != EINVAL && errno != ENOMEM)
			fuzz_fail("an expansion failed without saying why", tmpl);
	} else {
		if (out[0] == '\0')
			fuzz_fail("an expansion is empty", tmpl);
		if (strchr(tmpl, '^') == NULL && strcmp(out, tmpl) != 0)
			fuzz_fail("a template without ^ changed", tmpl);
	}
	free(out);
	free(tmpl);
	return 0;
}
