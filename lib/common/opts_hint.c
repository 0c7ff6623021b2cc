/*
 * opts_hint.c - the nearest known spelling after an unknown option
 * (`unknown option "--dst-locl"; did you mean --dst-local?`), kept apart
 * from the parser: it is the only place that weighs typing slips.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "common/opts.h"
#include "common/opts_impl.h"

/* Optimal string alignment distance of a[0..alen) and b[0..blen): edits,
 * adjacent transpositions counting one, as typing slips come.  Both are at
 * most HINT_NAME_MAX long. */
#define HINT_NAME_MAX 64
static size_t
typo_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t d[HINT_NAME_MAX + 1][HINT_NAME_MAX + 1];

	for (size_t i = 0; i <= alen; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= blen; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= alen; i++) {
		for (size_t j = 1; j <= blen; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[alen][blen];
}

/* How far `typed` is from `known`: 0 for a case slip (-pj for -PJ), else
 * the typo distance, or SIZE_MAX when too far to suggest: more than two
 * edits, or more than a third of what was typed (so a one-letter -Q is
 * never "corrected" into -D). */
static size_t
hint_score(const char *typed, size_t tlen, const char *known, size_t klen)
{
	size_t dist;

	if (tlen == klen && strncasecmp(typed, known, tlen) == 0)
		return 0;
	if (tlen > HINT_NAME_MAX || klen > HINT_NAME_MAX)
		return SIZE_MAX;
	dist = typo_distance(typed, tlen, known, klen);
	return dist <= 2 && dist * 3 <= tlen ? dist : SIZE_MAX;
}

/* Append "; did you mean --NAME?" to err (used bytes *used) for the
 * spelling nearest to the unknown `typed[0..tlen)`, the first in table
 * order on a tie, written as --help writes it (one dash for OmniPITR's
 * short names); nothing when none is near enough. */
void
pitr_opts_add_hint(const struct pitr_opt_def *defs, size_t ndefs, const char *typed, size_t tlen,
	 char *err, size_t errsize, size_t *used)
{
	const char *best = NULL;
	size_t best_len = 0, best_score = SIZE_MAX;
	bool best_short = false;

	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		const char *pos = defs[def_idx].aliases;
		const char *name = defs[def_idx].name;
		size_t len = strlen(name);
		bool is_alias = false;

		do {
			size_t score = hint_score(typed, tlen, name, len);

			if (score < best_score) {
				best = name;
				best_len = len;
				best_score = score;
				best_short = is_alias && len <= PITR_OPTS_SHORT_ALIAS_MAX;
			}
			is_alias = true;
		} while ((name = pitr_opts_next_alias(&pos, &len)) != NULL);
	}
	if (best != NULL)
		pitr_opts_buf_add(err, errsize, used, "; did you mean %s%.*s?", best_short ? "-" : "--",
				  (int)best_len, best);
}
