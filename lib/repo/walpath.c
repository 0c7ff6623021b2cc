/*
 * walpath.c - the WAL recovery from a backup replays, looked up in a
 * catalog's archive along a timeline's path (see walpath.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/log.h"
#include "postgres/lsn.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"
#include "repo/walpath.h"

/* The path recovery along `tli` takes, as far as the archive's history
 * files tell. */
static struct pitr_timeline_path
path_of(const struct pitr_catalog *cat, uint32_t tli)
{
	const struct pitr_catalog_timeline *t = pitr_catalog_timeline(cat, tli);
	struct pitr_timeline_path p = { tli, NULL, 0 };

	if (t != NULL && t->has_history) {
		p.anc = t->ancestry;
		p.n = t->nancestry;
	}
	return p;
}

/* The segment file (tli, segno) itself, by binary search. */
static const struct pitr_catalog_file *
find_file(const struct pitr_catalog *cat, uint32_t tli, uint64_t segno)
{
	uint64_t per_id = pitr_wal_segs_per_id(cat->segsize);
	struct pitr_wal_name key = { PITR_WAL_SEGMENT, tli, (uint32_t)(segno / per_id),
				     (uint32_t)(segno % per_id), 0 };
	size_t lo = 0, hi = cat->nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pitr_wal_name *m = &cat->files[mid].name;
		int c = m->tli != tli ? (m->tli < tli ? -1 : 1) : pitr_wal_cmp_position(m, &key);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cat->nfiles && cat->files[lo].name.tli == tli &&
	    cat->files[lo].name.kind == PITR_WAL_SEGMENT &&
	    pitr_wal_cmp_position(&cat->files[lo].name, &key) == 0)
		return &cat->files[lo];
	return NULL;
}

/* The newest step of the path that serves the segment and has its file,
 * as recovery reads it (see pitr_timeline_step_serves). */
const struct pitr_catalog_file *
pitr_walpath_find_segment(const struct pitr_catalog *cat, uint32_t tli, uint64_t segno)
{
	struct pitr_timeline_path p = path_of(cat, tli);

	if (cat->segsize == 0)
		return NULL;
	for (size_t k = p.n + 1; k-- > 0;) {
		const struct pitr_catalog_file *f;

		if (pitr_timeline_step_serves(&p, k, segno, cat->segsize) &&
		    (f = find_file(cat, pitr_timeline_step_tli(&p, k), segno)) != NULL)
			return f;
	}
	return NULL;
}

uint32_t
pitr_walpath_latest_timeline(const struct pitr_catalog *cat, uint32_t tli)
{
	uint32_t best = tli;

	for (size_t i = 0; i < cat->ntimelines; i++) {
		struct pitr_timeline_path p = path_of(cat, cat->timelines[i].tli);
		uint64_t end;

		if (p.tli > best && pitr_timeline_switch_point(&p, tli, &end) == 0)
			best = p.tli;
	}
	return best;
}

/* Whether recovery from b can follow tli: b's timeline is tli or an
 * ancestor that b ended on before tli's line left it.  Logs why not when
 * `log`. */
static bool
on_path(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b, uint32_t tli, bool log)
{
	struct pitr_timeline_path p = path_of(cat, tli);
	const struct pitr_catalog_timeline *t = pitr_catalog_timeline(cat, tli);
	char stop[PITR_LSN_TEXT_MAX], fork[PITR_LSN_TEXT_MAX];
	uint64_t end;

	if (b->timeline == tli)
		return true;
	/* Timeline 1 has no ancestors and needs no history file. */
	if (tli > 1 && (t == NULL || !t->has_history)) {
		if (log)
			pitr_log_error("backup \"%s\" is on timeline %" PRIu32 ", and the archive has no "
				       "history file of timeline %" PRIu32 " to tell whether it leads "
				       "there", b->name, b->timeline, tli);
		return false;
	}
	if (pitr_timeline_switch_point(&p, b->timeline, &end) != 0) {
		if (log)
			pitr_log_error("backup \"%s\" is on timeline %" PRIu32 ", which is not in the "
				       "history of timeline %" PRIu32, b->name, b->timeline, tli);
		return false;
	}
	if (b->stop_lsn <= end)
		return true;
	if (log) {
		pitr_lsn_format(b->stop_lsn, stop, sizeof(stop));
		pitr_lsn_format(end, fork, sizeof(fork));
		pitr_log_error("backup \"%s\" ends at %s on timeline %" PRIu32 ", after timeline %"
			       PRIu32 " branched off it at %s", b->name, stop, b->timeline, tli, fork);
	}
	return false;
}

static uint64_t
wal_segno(const char *name, uint32_t segsize)
{
	struct pitr_wal_name w;

	pitr_wal_parse(name, &w);
	return pitr_wal_segno(&w, segsize);
}

/* The last segment the archive holds on path p (0 when none). */
static uint64_t
archive_end(const struct pitr_catalog *cat, const struct pitr_timeline_path *p, uint32_t seg)
{
	uint64_t last = 0;

	for (size_t k = 0; k <= p->n; k++) {
		const struct pitr_catalog_timeline *t =
			pitr_catalog_timeline(cat, pitr_timeline_step_tli(p, k));
		uint64_t end = k == p->n ? UINT64_MAX : pitr_timeline_step_end(p, k) / seg;

		if (t == NULL || t->nsegments == 0)
			continue;
		for (uint64_t s = t->last < end ? t->last : end; s >= t->first; s--) {
			if (find_file(cat, t->tli, s) != NULL) {
				if (s > last)
					last = s;
				break;
			}
			if (s == 0)
				break;
		}
	}
	return last;
}

int
pitr_walpath_check(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b, uint32_t tli,
		   uint64_t end_lsn, char *missing)
{
	uint32_t seg = cat->segsize != 0 ? cat->segsize : b->segsize;
	uint64_t first, last, stop_seg;
	struct pitr_timeline_path p;

	if (tli == 0)
		tli = pitr_walpath_latest_timeline(cat, b->timeline);
	if (!on_path(cat, b, tli, true))
		return -1;
	if (seg == 0) {
		pitr_log_error("backup \"%s\": the segment size is unknown (not in its meta file, "
			       "no segment in the archive)", b->name);
		return -1;
	}
	p = path_of(cat, tli);
	stop_seg = wal_segno(b->stop_wal, seg);
	first = b->xlog_file != NULL ? stop_seg + 1 : wal_segno(b->start_wal, seg);
	last = end_lsn != 0 ? end_lsn / seg : archive_end(cat, &p, seg);
	if (b->xlog_file == NULL && last < stop_seg)
		last = stop_seg;
	for (uint64_t segno = first; segno <= last; segno++) {
		if (pitr_walpath_find_segment(cat, tli, segno) != NULL)
			continue;
		pitr_wal_format_segment(missing, pitr_timeline_of_segment(&p, segno, seg), segno, seg);
		return 1;
	}
	return 0;
}

uint64_t
pitr_walpath_reachable_lsn(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
			   uint32_t tli)
{
	uint64_t segno, stop_seg;

	if (cat->segsize == 0)
		return 0;
	if (tli == 0)
		tli = pitr_walpath_latest_timeline(cat, b->timeline);
	if (!on_path(cat, b, tli, false))
		return 0;
	stop_seg = wal_segno(b->stop_wal, cat->segsize);
	segno = b->xlog_file != NULL ? stop_seg + 1 : wal_segno(b->start_wal, cat->segsize);
	while (pitr_walpath_find_segment(cat, tli, segno) != NULL)
		segno++;
	if (segno <= stop_seg)
		return 0;
	return segno * cat->segsize;
}
