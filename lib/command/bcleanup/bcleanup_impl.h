/*
 * bcleanup_impl.h - what the files of pitr-backup-cleanup share: the
 * run's tally, and the removals in an object store (objects.c), which
 * bcleanup.c calls where a backup dir or an archive is s3://.  Not
 * installed.
 */
#ifndef PITR_CMD_BCLEANUP_IMPL_H
#define PITR_CMD_BCLEANUP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/bcleanup/bcleanup.h"
#include "repo/catalog.h"
#include "repo/store.h"

struct bc_run {
	const struct pitr_bcleanup_opts *opts;
	const char *prefix;       /* "(dry-run) " or "" */
	size_t count;             /* files removed (or, dry, that would be) */
	uint64_t bytes;
	size_t aborted;           /* pending uploads aborted (or, dry, that would be) */
	bool failed;
};

/*
 * Object `name` of object store `st`: logged ("Removing KIND file: URL",
 * as a local file is), then deleted unless dry; one already gone is
 * said and not counted.  Returns 0, or -1 after logging.
 */
int pitr_bcleanup_remove_object(struct bc_run *run, const char *kind, struct pitr_store *st,
				const char *name);

/*
 * The multipart uploads right under `st`'s prefix begun at least
 * --pending-age ago (dest/dest.h's sweep rule): each logged ("Removing
 * pending upload: URL (begun ...)") and aborted unless dry.  Returns 0,
 * or -1 after logging.
 */
int pitr_bcleanup_abort_pending(struct bc_run *run, struct pitr_store *st);

/*
 * The orphans cat found in object store `st` (its backup dir): objects of
 * a backup whose meta object is missing.  No journal or lock reaches a
 * store, so each is looked at again (its meta still absent) and judged by
 * its mark and age (pitr_orphan_object_fate()): one pitrkit stored goes
 * once its Last-Modified is older than the minimum age (opts->min_age),
 * one without the mark (another program's) stays, said in a line.
 * Failures set run->failed.
 */
void pitr_bcleanup_object_orphans(struct bc_run *run, struct pitr_store *st,
				  const struct pitr_catalog *cat);

#endif
