/*
 * walpath.h - the WAL a recovery from a backup replays, as a catalog's
 * archive holds it: which archived file serves a segment along a timeline
 * (as PostgreSQL picks it), the timeline recovery_target_timeline =
 * 'latest' follows, whether the path from a backup to a target is
 * complete, and how far it reaches.  pitr-recover checks with it before it
 * writes anything, pitr-verify reports with it, pitr-info shows the
 * recoverable windows.  The timelines' rules are postgres/timeline.h's;
 * this module applies them to the files a catalog found.
 */
#ifndef PITR_WALPATH_H
#define PITR_WALPATH_H

#include <stdint.h>

#include "repo/catalog.h"

/*
 * The archived file recovery along timeline `tli` reads for segment
 * `segno`, found as PostgreSQL's XLogFileReadAnyTLI finds it: among `tli`
 * and its ancestors (from tli's history file), newest first, skipping
 * those that begin after the segment, the first whose segment file is in
 * the archive.  Unlike PostgreSQL it also skips an ancestor whose line
 * ended before the segment (that file holds WAL the child never had, on
 * which PostgreSQL's replay would stop anyway).  Returns the file, or NULL
 * when the archive lacks it (or the segment size is unknown).
 */
const struct pitr_catalog_file *pitr_walpath_find_segment(const struct pitr_catalog *cat,
							  uint32_t tli, uint64_t segno);

/*
 * The newest timeline descending from `tli` (tli itself when none does):
 * what recovery_target_timeline = 'latest' will follow.
 */
uint32_t pitr_walpath_latest_timeline(const struct pitr_catalog *cat, uint32_t tli);

/*
 * Check that the archive holds every segment recovery from `b` needs,
 * along timeline `tli` (0: the latest descending from b->timeline), from
 * b's start segment to `end_lsn`'s segment (0: to the last segment the
 * archive holds on that path).  With --skip-xlogs backups the start to stop
 * segments must be in the archive too; otherwise the backup's own xlog
 * tarball holds them and they are not needed.  Returns 0 when complete;
 * 1 with *missing set to the first missing segment's name (at least
 * PITR_WAL_NAME_MAX bytes, named on the newest timeline recovery asks for
 * it on); -1 after logging when the backup's timeline is not on tli's
 * history, when b ends after tli's line left b's timeline, or when the
 * segment size is unknown.
 */
int pitr_walpath_check(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
		       uint32_t tli, uint64_t end_lsn, char *missing);

/* The end of the recoverable window along tli (0: the latest) from b: the
 * LSN just past the last segment the backup's xlog tarball and the archive
 * hold without a gap (0 when not even the backup's stop segment is
 * reachable, or b is not on tli's path; nothing logged). */
uint64_t pitr_walpath_reachable_lsn(const struct pitr_catalog *cat,
				    const struct pitr_catalog_backup *b, uint32_t tli);

#endif
