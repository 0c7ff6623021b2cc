/*
 * fuzz_timeline.c - timeline history files (postgres/timeline): pitr-info,
 * pitr-verify and pitr-recover read every TTTTTTTT.history of an archive.
 * The input is the file's text.  What it returns must keep the promises
 * the recovery path relies on (timelines rising, switch points never going
 * back), the lines written as PostgreSQL writes them must read back the
 * same, and the path along the child timeline must be walkable.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "postgres/lsn.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"

/* The history as PostgreSQL's writeTimeLineHistory() writes it. */
static char *
rewrite(const struct pitr_timeline_branch *b, size_t n)
{
	char *text = malloc(n * 64 + 1);
	size_t used = 0;

	if (text == NULL)
		abort();
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char lsn[PITR_LSN_TEXT_MAX];

		pitr_lsn_format(b[i].end, lsn, sizeof(lsn));
		used += (size_t)sprintf(text + used, "%u\t%s\tno recovery target specified\n",
					(unsigned)b[i].tli, lsn);
	}
	return text;
}

static void
walk(const struct pitr_timeline_branch *b, size_t n)
{
	struct pitr_timeline_path p = { .tli = b[n - 1].tli + 1, .anc = b, .n = n };
	uint64_t end;

	if (p.tli == 0 || !pitr_timeline_history_fits(p.tli, b, n))
		return;
	for (size_t k = 0; k <= n; k++) {
		if (pitr_timeline_step_begin(&p, k) > pitr_timeline_step_end(&p, k))
			fuzz_fail("a step ends before it begins", NULL);
		if (pitr_timeline_switch_point(&p, pitr_timeline_step_tli(&p, k), &end) != 0)
			fuzz_fail("a step's timeline is not on its path", NULL);
		static const uint32_t sizes[] = { PITR_WAL_MIN_SEGSIZE, PITR_WAL_DEFAULT_SEGSIZE,
						  PITR_WAL_MAX_SEGSIZE };

		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t segsize = sizes[i];
			uint64_t segno = pitr_timeline_step_begin(&p, k) / segsize;

			(void)pitr_timeline_step_serves(&p, k, segno, segsize);
			(void)pitr_timeline_of_segment(&p, segno, segsize);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct pitr_timeline_branch *b = NULL, *again = NULL;
	size_t n = 0, n_again = 0;

	if (pitr_timeline_parse_history(text, &b, &n) == 0 && n > 0) {
		char *written = rewrite(b, n);

		for (size_t i = 1; i < n; i++)
			if (b[i].tli <= b[i - 1].tli || b[i].end < b[i - 1].end)
				fuzz_fail("history lines out of order were taken", text);
		if (pitr_timeline_parse_history(written, &again, &n_again) != 0 || n_again != n)
			fuzz_fail("a history written back does not read back", written);
		for (size_t i = 0; i < n; i++)
			if (again[i].tli != b[i].tli || again[i].end != b[i].end)
				fuzz_fail("a history written back reads differently", written);
		walk(b, n);
		free(written);
		free(again);
	}
	free(b);
	free(text);
	return 0;
}
