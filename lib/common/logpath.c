/*
 * logpath.c - expand OmniPITR log templates (see logpath.h).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/logpath.h"

char *
pitr_logpath_expand(const char *template_, time_t when)
{
	struct tm tm;

	if (localtime_r(&when, &tm) == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return pitr_logpath_expand_tm(template_, &tm);
}

char *
pitr_logpath_expand_tm(const char *template_, const struct tm *tm)
{
	char *fmt = NULL;
	char *out = NULL;
	size_t tlen, cap, fmt_idx = 0;
	bool out_of_memory = false;

	if (template_ == NULL || *template_ == '\0') {
		errno = EINVAL;
		return NULL;
	}
	tlen = strlen(template_);
	/* A literal '%' must survive strftime, so it becomes "%%"; '^' is
	 * OmniPITR's spelling of '%' because '%' means something to
	 * PostgreSQL in archive_command. */
	fmt = malloc(2 * tlen + 1);
	if (fmt == NULL)
		return NULL;
	for (size_t pos = 0; pos < tlen; pos++) {
		if (template_[pos] == '^') {
			fmt[fmt_idx++] = '%';
		} else if (template_[pos] == '%') {
			fmt[fmt_idx++] = '%';
			fmt[fmt_idx++] = '%';
		} else {
			fmt[fmt_idx++] = template_[pos];
		}
	}
	fmt[fmt_idx] = '\0';
	/* strftime gives 0 both for "too small" and for an empty result; grow
	 * until a generous bound, then call it empty. */
	for (cap = tlen * 4 + 64; cap <= tlen * 64 + 4096; cap *= 2) {
		size_t n;

		free(out);
		out = malloc(cap);
		if (out == NULL) {
			out_of_memory = true;
			break;
		}
		n = strftime(out, cap, fmt, tm);
		if (n > 0) {
			free(fmt);
			return out;
		}
	}
	free(out);
	free(fmt);
	/* Decided by a flag: `out` may be freed here, and a freed pointer's
	 * value cannot be compared. */
	errno = out_of_memory ? ENOMEM : EINVAL;
	return NULL;
}
