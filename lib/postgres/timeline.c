/*
 * timeline.c - timeline history files and the recovery path they describe
 * (see timeline.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "postgres/lsn.h"
#include "postgres/timeline.h"

int
pitr_timeline_parse_history(const char *text, struct pitr_timeline_branch **out, size_t *n)
{
	struct pitr_timeline_branch *list = NULL;
	const char *line = text;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	while (*line != '\0') {
		size_t len = strcspn(line, "\n");
		const char *next = line[len] == '\n' ? line + len + 1 : line + len;
		const char *p = line;
		char lsn[32], *end;
		unsigned long tli;
		uint64_t at;
		size_t lsnlen;

		/* As PostgreSQL's readTimeLineHistory(): leading blanks, then
		 * '#' comments and empty lines are skipped. */
		while (p < line + len && isspace((unsigned char)*p))
			p++;
		if (p == line + len || *p == '#') {
			line = next;
			continue;
		}
		if (!isdigit((unsigned char)*p))
			goto bad;
		errno = 0;
		tli = strtoul(p, &end, 10);
		if (errno != 0 || tli == 0 || tli > UINT32_MAX || end >= line + len ||
		    !isspace((unsigned char)*end))
			goto bad;
		p = end;
		while (p < line + len && isspace((unsigned char)*p))
			p++;
		lsnlen = strcspn(p, " \t\r\n");
		if (lsnlen == 0 || lsnlen >= sizeof(lsn))
			goto bad;
		memcpy(lsn, p, lsnlen);
		lsn[lsnlen] = '\0';
		if (pitr_lsn_parse(lsn, &at) != 0)
			goto bad;
		/* Each line is a later switch from a later timeline. */
		if (count > 0 && (tli <= list[count - 1].tli || at < list[count - 1].end))
			goto bad;
		{
			struct pitr_timeline_branch *grown = realloc(list, (count + 1) * sizeof(*grown));

			if (grown == NULL)
				goto bad;
			list = grown;
		}
		list[count].tli = (uint32_t)tli;
		list[count].end = at;
		count++;
		line = next;
	}
	*out = list;
	*n = count;
	return 0;
bad:
	free(list);
	return -1;
}

bool
pitr_timeline_history_fits(uint32_t tli, const struct pitr_timeline_branch *anc, size_t n)
{
	return tli > 1 && n > 0 && anc[n - 1].tli < tli;
}

uint32_t
pitr_timeline_step_tli(const struct pitr_timeline_path *p, size_t k)
{
	return k == p->n ? p->tli : p->anc[k].tli;
}

uint64_t
pitr_timeline_step_begin(const struct pitr_timeline_path *p, size_t k)
{
	return k == 0 ? 0 : p->anc[k - 1].end;
}

uint64_t
pitr_timeline_step_end(const struct pitr_timeline_path *p, size_t k)
{
	return k == p->n ? UINT64_MAX : p->anc[k].end;
}

int
pitr_timeline_switch_point(const struct pitr_timeline_path *p, uint32_t tli, uint64_t *end)
{
	for (size_t k = 0; k <= p->n; k++)
		if (pitr_timeline_step_tli(p, k) == tli) {
			*end = pitr_timeline_step_end(p, k);
			return 0;
		}
	return -1;
}

/*
 * XLogFileReadAnyTLI skips the timelines that begin after the segment.  It
 * does not skip an ancestor that ended before the segment (its file past
 * the switch holds WAL the child never had, and replay then stops at that
 * page's timeline); such a file never serves here, which gives the same
 * verdict without reading it.
 */
bool
pitr_timeline_step_serves(const struct pitr_timeline_path *p, size_t k, uint64_t segno,
			  uint32_t segsize)
{
	if (segno < pitr_timeline_step_begin(p, k) / segsize)
		return false;
	return k == p->n || segno <= pitr_timeline_step_end(p, k) / segsize;
}

uint32_t
pitr_timeline_of_segment(const struct pitr_timeline_path *p, uint64_t segno, uint32_t segsize)
{
	size_t k = p->n;

	while (k > 0 && segno < pitr_timeline_step_begin(p, k) / segsize)
		k--;
	return pitr_timeline_step_tli(p, k);
}
