/*
 * timeline.h - timelines and their history files, as PostgreSQL's
 * timeline.c and xlogrecovery.c read them.
 *
 * Promotion starts a new timeline and archives its history file
 * (TTTTTTTT.history): one line per ancestor, "parentTLI<TAB>X/X<TAB>
 * reason", saying up to which LSN each ancestor was current.  Recovery
 * along a timeline replays its ancestors' WAL up to those switch points,
 * then its own.  The path of a timeline is that sequence: step 0 the
 * oldest ancestor, step n the timeline itself.
 */
#ifndef PITR_TIMELINE_H
#define PITR_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A history file gains one short line per timeline switch: anything
 * larger is not one. */
#define PITR_TIMELINE_HISTORY_MAX (1024 * 1024)

/* One line of a timeline history file: `tli` was current until `end`. */
struct pitr_timeline_branch {
	uint32_t tli;
	uint64_t end;
};

/* Parse a timeline history file's text ("parentTLI<TAB>X/X<TAB>reason"
 * lines; blank and '#' lines skipped) into *out (malloc'd, oldest first).
 * Returns 0, or -1 (malformed; nothing allocated).  Nothing logged. */
int pitr_timeline_parse_history(const char *text, struct pitr_timeline_branch **out, size_t *n);

/* Whether a parsed history can be timeline `tli`'s: timeline 1 has none,
 * any later one names at least one ancestor, all below itself. */
bool pitr_timeline_history_fits(uint32_t tli, const struct pitr_timeline_branch *anc, size_t n);

/* A timeline and its history: the path recovery along it takes.  With no
 * history known (anc NULL, n 0) the path is the timeline alone. */
struct pitr_timeline_path {
	uint32_t tli;
	const struct pitr_timeline_branch *anc;   /* tli's history, oldest first */
	size_t n;
};

/* Step k (0 to p->n) of a path: its timeline, the LSN where it begins (0
 * for the first) and where the path leaves it (UINT64_MAX for p->tli). */
uint32_t pitr_timeline_step_tli(const struct pitr_timeline_path *p, size_t k);
uint64_t pitr_timeline_step_begin(const struct pitr_timeline_path *p, size_t k);
uint64_t pitr_timeline_step_end(const struct pitr_timeline_path *p, size_t k);

/* Where the path leaves timeline `tli` (tliSwitchPoint): 0 with *end set
 * (UINT64_MAX for p->tli itself), or -1 when tli is not on the path. */
int pitr_timeline_switch_point(const struct pitr_timeline_path *p, uint32_t tli, uint64_t *end);

/*
 * Whether step k's timeline may supply segment `segno` (of `segsize`
 * bytes) to recovery along the path: it began at or before the segment
 * (as XLogFileReadAnyTLI requires) and, for an ancestor, the path left it
 * in or after the segment (past that its file holds WAL the path never
 * had).  Recovery takes the newest step that serves and has the file.
 */
bool pitr_timeline_step_serves(const struct pitr_timeline_path *p, size_t k, uint64_t segno,
			       uint32_t segsize);

/* The newest timeline of the path that began at or before segment
 * `segno`: the one recovery first asks for that segment on. */
uint32_t pitr_timeline_of_segment(const struct pitr_timeline_path *p, uint64_t segno,
				  uint32_t segsize);

#endif
