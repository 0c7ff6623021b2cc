/*
 * choose.c - pitr-recover's backup: the one that can reach the target on
 * the timeline followed, and the proof, before anything is written, that
 * recovery from it can get there: the archive holds every segment on the
 * way, and the backup's files match their digests.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "digest/digest.h"
#include "postgres/lsn.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"
#include "repo/catalog.h"
#include "repo/walpath.h"

/* Is b's timeline on the history of `tli` (0: any), branching off after
 * the backup ended? */
static bool
on_history(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b, uint32_t tli)
{
	const struct pitr_catalog_timeline *tl;
	struct pitr_timeline_path path = { tli, NULL, 0 };
	uint64_t end;

	if (tli == 0)
		return true;
	if ((tl = pitr_catalog_timeline(cat, tli)) != NULL) {
		path.anc = tl->ancestry;
		path.n = tl->nancestry;
	}
	return pitr_timeline_switch_point(&path, b->timeline, &end) == 0 && end >= b->stop_lsn;
}

static bool
backup_named(const struct pitr_catalog_backup *b, const char *name)
{
	const char *names[] = { b->name, b->meta_file, b->data_file, b->xlog_file };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Can recovery from b reach t at all? */
static bool
reaches(const struct pitr_catalog_backup *b, const struct pitr_recover_target *t)
{
	if (t->kind == PITR_RECOVER_TIME)
		return b->stop_epoch < t->epoch;
	if (t->kind == PITR_RECOVER_LSN)
		return b->stop_lsn <= t->lsn;
	return true;
}

const struct pitr_catalog_backup *
pitr_recover_choose(const struct pitr_catalog *cat, const char *backup_dir, const char *name,
		    const struct pitr_recover_target *t, uint32_t tli)
{
	const struct pitr_catalog_backup *best = NULL;
	char what[256], lsn[32];
	size_t candidates = 0;

	recover_target_text(t, what, sizeof(what));
	if (cat->nbackups == 0) {
		pitr_log_error("no backup in \"%s\"", backup_dir);
		return NULL;
	}
	if (name != NULL) {
		if (strcmp(name, "latest") == 0)
			best = &cat->backups[cat->nbackups - 1];
		for (size_t i = 0; best == NULL && i < cat->nbackups; i++)
			if (backup_named(&cat->backups[i], name))
				best = &cat->backups[i];
		if (best == NULL) {
			pitr_log_error("no backup named \"%s\" in \"%s\"", name, backup_dir);
			return NULL;
		}
		if (!reaches(best, t)) {
			pitr_lsn_format(best->stop_lsn, lsn, sizeof(lsn));
			pitr_log_error("backup \"%s\" ended at %s (%s), after %s: recovery cannot stop "
				       "before the end of its backup", best->name, best->stop_time, lsn, what);
			return NULL;
		}
		if (!on_history(cat, best, tli)) {
			pitr_log_error("backup \"%s\" (timeline %" PRIu32 ") is not on the history of "
				       "timeline %" PRIu32, best->name, best->timeline, tli);
			return NULL;
		}
		return best;
	}
	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (!on_history(cat, b, tli))
			continue;
		candidates++;
		if (!reaches(b, t))
			continue;
		/* Oldest first in the catalog: the last fit is the newest. */
		if (t->kind == PITR_RECOVER_XID || t->kind == PITR_RECOVER_NAME) {
			if (best == NULL)
				best = b;
		} else {
			best = b;
		}
	}
	if (best != NULL)
		return best;
	if (candidates == 0)
		pitr_log_error("no backup in \"%s\" is on the history of timeline %" PRIu32, backup_dir, tli);
	else
		pitr_log_error("no backup in \"%s\" ends before %s (the oldest ends at %s)", backup_dir,
			       what, cat->backups[0].stop_time);
	return NULL;
}

int
recover_choose_backup(struct recover_run *run, uint32_t tli_wanted)
{
	const struct pitr_recover_opts *o = run->o;

	if ((run->backup_dirs_text = recover_dirs_text(o->backup_dirs, o->nbackup_dirs, true)) == NULL ||
	    (run->archives_text = recover_dirs_text(o->archives, o->narchives, false)) == NULL ||
	    pitr_catalog_load_many(o->backup_dirs, o->nbackup_dirs, o->archives, o->narchives,
				   NULL, &run->cat) != 0)
		return -1;
	for (size_t i = 0; i < run->cat.nproblems; i++)
		pitr_log_verbose("catalog: %s", run->cat.problems[i]);
	run->b = pitr_recover_choose(&run->cat, run->backup_dirs_text, o->backup, &run->target,
				     tli_wanted);
	if (run->b == NULL)
		return -1;
	if (o->target_timeline != NULL && strcmp(o->target_timeline, "current") == 0)
		run->tli = run->b->timeline;
	else if (tli_wanted != 0)
		run->tli = tli_wanted;
	else
		run->tli = pitr_walpath_latest_timeline(&run->cat, run->b->timeline);
	if (run->cat.segsize == 0)
		run->cat.segsize = run->b->segsize;
	return 0;
}

/* Log the plan: the backup, the WAL it needs and from where. */
static void
log_plan(const struct recover_run *run)
{
	const struct pitr_catalog_backup *b = run->b;
	const struct pitr_catalog_timeline *tl = pitr_catalog_timeline(&run->cat, run->tli);
	char what[256], start[32], stop[32], end[128];

	recover_target_text(&run->target, what, sizeof(what));
	pitr_lsn_format(b->start_lsn, start, sizeof(start));
	pitr_lsn_format(b->stop_lsn, stop, sizeof(stop));
	pitr_log_info("recovering to %s from backup \"%s\" (label \"%s\", taken %s to %s, WAL %s to %s, "
		      "timeline %" PRIu32 ") into \"%s\"", what, b->name, b->label, b->start_time,
		      b->stop_time, start, stop, b->timeline, run->final);
	if (run->target.kind == PITR_RECOVER_IMMEDIATE) {
		snprintf(end, sizeof(end), "the backup's stop segment %s", b->stop_wal);
	} else if (run->target.kind == PITR_RECOVER_LSN && run->cat.segsize != 0) {
		char seg[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(seg, run->tli, run->target.lsn / run->cat.segsize, run->cat.segsize);
		snprintf(end, sizeof(end), "%s (the target LSN's segment)", seg);
	} else if (tl != NULL && tl->nsegments > 0 && run->cat.segsize != 0) {
		char seg[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(seg, run->tli, tl->last, run->cat.segsize);
		snprintf(end, sizeof(end), "%s (the last archived segment)", seg);
	} else {
		snprintf(end, sizeof(end), "the end of the archive");
	}
	if (b->xlog_file != NULL)
		pitr_log_info("WAL needed: %s to %s on timeline %" PRIu32 " (start to stop segment from "
			      "the backup's xlog tarball, the rest from archive \"%s\")", b->start_wal, end,
			      run->tli, run->archives_text);
	else
		pitr_log_info("WAL needed: %s to %s on timeline %" PRIu32 " (all from archive \"%s\": "
			      "the backup has no xlog tarball)", b->start_wal, end, run->tli,
			      run->archives_text);
}

int
recover_choose_check_wal(struct recover_run *run)
{
	char missing[PITR_WAL_NAME_MAX], what[256];
	uint64_t end = 0;
	int r;

	if (run->target.kind == PITR_RECOVER_LSN)
		end = run->target.lsn;
	else if (run->target.kind == PITR_RECOVER_IMMEDIATE)
		end = run->b->stop_lsn;
	log_plan(run);
	r = pitr_walpath_check(&run->cat, run->b, run->tli, end, missing);
	if (r <= 0)
		return r;
	recover_target_text(&run->target, what, sizeof(what));
	pitr_log_error("archive \"%s\" lacks WAL segment %s, which recovery from backup \"%s\" "
		       "to %s needs: nothing written", run->archives_text, missing, run->b->name, what);
	return -1;
}

/* Verify every digest backup `b` has: 1 when it has some (all match), 0
 * when it has none, -1 after logging. */
static int
check_digests_of(const struct recover_run *run, const struct pitr_catalog_backup *b)
{
	const char *files[2] = { b->data_file, b->xlog_file };

	if (b->ndigests == 0) {
		pitr_log_info("backup \"%s\" has no digests: its files are not verified before "
			      "extraction (take backups with --digest)", b->name);
		return 0;
	}
	for (size_t i = 0; i < b->ndigests; i++) {
		const struct pitr_catalog_digest *d = &b->digests[i];
		char *dpath = pitr_fsutil_join(recover_backup_dir(run), d->file);
		char *text = NULL;
		size_t len;

		if (dpath == NULL)
			return -1;
		text = pitr_fsutil_read_small(dpath, RECOVER_CONF_MAX, &len);
		if (text == NULL) {
			if (errno == ENOENT)
				pitr_log_error("digest file \"%s\" of backup \"%s\" is missing", dpath, b->name);
			free(dpath);
			return -1;
		}
		for (size_t f = 0; f < 2; f++) {
			char want[PITR_DIGEST_HEX_MAX], got[PITR_DIGEST_HEX_MAX];
			char *fpath;
			int r;

			if (files[f] == NULL)
				continue;
			r = pitr_digest_lookup(text, files[f], want);
			if (r != 0) {
				pitr_log_error(r > 0 ? "digest file \"%s\" does not list \"%s\"" :
					       "digest file \"%s\" is malformed (looking for \"%s\")",
					       dpath, files[f]);
				goto fail;
			}
			fpath = pitr_fsutil_join(recover_backup_dir(run), files[f]);
			if (fpath == NULL)
				goto fail;
			r = pitr_digest_file(d->algorithm, fpath, got);
			if (r == 0 && strcasecmp(want, got) != 0) {
				pitr_log_error("\"%s\" does not match its %s digest in \"%s\" (expected %s, "
					       "got %s): the backup is damaged", fpath, d->algorithm, dpath,
					       want, got);
				r = -1;
			}
			free(fpath);
			if (r != 0)
				goto fail;
		}
		pitr_log_info("%s digests of backup \"%s\" match", d->algorithm, b->name);
		free(text);
		free(dpath);
		continue;
fail:
		free(text);
		free(dpath);
		return -1;
	}
	return 1;
}

int
recover_choose_check_digests(struct recover_run *run)
{
	if (run->nlinks == 0)
		return check_digests_of(run, run->b) < 0 ? -1 : 0;
	if ((run->verified = pitr_xcalloc(run->nlinks, sizeof(*run->verified))) == NULL)
		return -1;
	for (size_t i = 0; i < run->nlinks; i++) {
		int r = check_digests_of(run, run->links[i]);

		if (r < 0)
			return -1;
		run->verified[i] = r > 0;
	}
	return 0;
}
