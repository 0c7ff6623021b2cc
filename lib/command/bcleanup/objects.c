/*
 * objects.c - pitr-backup-cleanup in an object store (bcleanup_impl.h):
 * objects deleted whole, pending multipart uploads aborted, orphans
 * judged by their mark and age.
 *
 * A DELETE frees an object on the store's side in one request: there is
 * no local file to shrink in steps, so --truncate and --sleep do not
 * apply (bcleanup.c says so once with -v).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/bcleanup/bcleanup_impl.h"
#include "common/log.h"
#include "dest/dest.h"
#include "repo/orphan.h"
#include "s3/s3.h"

int
pitr_bcleanup_remove_object(struct bc_run *run, const char *kind, struct pitr_store *st,
			    const char *name)
{
	struct pitr_store_entry e;
	char *path = pitr_store_path(st, name);
	int r, rc = -1;

	if (path == NULL)
		return -1;
	if ((r = pitr_store_stat(st, name, &e)) < 0)
		goto out;
	if (r == 1) {
		pitr_log_info("%s file already gone: %s", kind, path);
		rc = 0;
		goto out;
	}
	pitr_log_info("%sRemoving %s file: %s", run->prefix, kind, path);
	if (!run->opts->dry_run && pitr_store_remove(st, name) != 0)
		goto out;
	run->count++;
	run->bytes += e.size;
	rc = 0;
out:
	free(path);
	return rc;
}

/* --- pending uploads ---------------------------------------------------- */

struct bc_pending {
	struct bc_run *run;
	struct pitr_s3 *s3;
};

/* pitr_dest_s3_stale_uploads()'s: say it, and abort it unless dry. */
static int
abort_one(void *ctx, const struct pitr_s3_pending *p)
{
	struct bc_pending *bp = ctx;
	char *label = pitr_s3_label(bp->s3, p->key), when[32] = "?";
	struct tm tm;
	int rc = 0;

	if (label == NULL)
		return -1;
	if (gmtime_r(&p->initiated, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	pitr_log_info("%sRemoving pending upload: %s (begun %s, never completed)",
		      bp->run->prefix, label, when);
	if (!bp->run->opts->dry_run && pitr_s3_pending_abort(bp->s3, p->key, p->upload_id) != 0)
		rc = -1;
	else
		bp->run->aborted++;
	free(label);
	return rc;
}

int
pitr_bcleanup_abort_pending(struct bc_run *run, struct pitr_store *st)
{
	struct bc_pending bp = { .run = run };
	long age = run->opts->pending_age;
	const char *prefix;

	if (pitr_store_s3(st, &bp.s3, &prefix) != 0)
		return -1;
	if (age == 0)
		age = PITR_DEST_S3_PENDING_MIN_AGE;
	return pitr_dest_s3_stale_uploads(bp.s3, prefix, age < 0 ? 0 : age, abort_one, &bp) < 0 ?
	       -1 : 0;
}

/* --- orphans ------------------------------------------------------------ */

/* Whether object `name` is in the store now (a HEAD): the orphan rule's
 * look at its meta object just before it goes. */
static bool
object_there(void *st, const char *name)
{
	struct pitr_store_entry e;

	return pitr_store_stat(st, name, &e) == 0;
}

/* Whether orphan `name` must stay: its meta object there by now (a
 * backup finished since the catalog was read), not stored by pitrkit
 * (foreign: never removed), or changed less than the minimum age ago (its
 * backup may be publishing it now).  A fresh HEAD decides: 1 stays, 0
 * goes (also when gone: the removal says so), -1 failed (logged). */
static int
orphan_stays(const struct bc_run *run, struct pitr_store *st, const char *name, const char *path)
{
	int min_age = run->opts->min_age != 0 ? run->opts->min_age : PITR_DEST_UNLOCKED_MIN_AGE;
	struct pitr_store_entry e;
	int r = pitr_store_stat(st, name, &e);

	if (r != 0)
		return r > 0 ? 0 : -1;
	if (!pitr_orphan_loose_by(object_there, st, name)) {
		pitr_log_info("orphan file left: its meta file is there now: %s", path);
		return 1;
	}
	switch (pitr_orphan_object_fate(e.marked, e.mtime, time(NULL), min_age)) {
	case PITR_ORPHAN_FOREIGN:
		pitr_log_info("backup file without meta left: not stored by pitrkit (no %s), never "
			      "removed by pitrkit: %s", PITR_S3_MARK_HEADER, path);
		return 1;
	case PITR_ORPHAN_YOUNG:
		pitr_log_info("orphan file left for now: younger than %d minutes (a backup may still "
			      "be publishing it): %s", min_age / 60, path);
		return 1;
	case PITR_ORPHAN_REMOVE:
		break;
	}
	return 0;
}

void
pitr_bcleanup_object_orphans(struct bc_run *run, struct pitr_store *st,
			     const struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->norphans; i++) {
		const char *name = cat->orphans[i];
		char *path = pitr_store_path(st, name);
		int stays;

		if (path == NULL) {
			run->failed = true;
			return;
		}
		stays = orphan_stays(run, st, name, path);
		if (stays < 0 || (stays == 0 &&
				  pitr_bcleanup_remove_object(run, "orphan", st, name) != 0))
			run->failed = true;
		free(path);
	}
}
