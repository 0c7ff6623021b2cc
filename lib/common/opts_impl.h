/*
 * opts_impl.h - what the files of the opts module (opts.c, opts_help.c,
 * opts_hint.c) share; not installed.
 */
#ifndef PITR_OPTS_IMPL_H
#define PITR_OPTS_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/opts.h"

/* Aliases of at most this many characters are OmniPITR's short spellings
 * (-dl, -?, -rcp), written with one dash by --help and by the hint that
 * follows an unknown option. */
#define PITR_OPTS_SHORT_ALIAS_MAX 3

/* Whether options of `kind` take a value (and so the next argument when
 * it is not given with '='). */
bool pitr_opts_kind_takes_value(enum pitr_opt_kind kind);

/* Step through the space-separated alias list: returns the next alias and
 * its length in *len, advancing *pos, or NULL at the end. */
const char *pitr_opts_next_alias(const char **pos, size_t *len);

/* Append printf output to buf[*used..size), truncating quietly. */
void pitr_opts_buf_add(char *buf, size_t size, size_t *used, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Append "; did you mean --NAME?" to err (used bytes *used) for the
 * spelling of `defs` nearest to the unknown `typed[0..tlen)`; nothing when
 * none is near enough (opts_hint.c). */
void pitr_opts_add_hint(const struct pitr_opt_def *defs, size_t ndefs, const char *typed,
			size_t tlen, char *err, size_t errsize, size_t *used);

#endif
