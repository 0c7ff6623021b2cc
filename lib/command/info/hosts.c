/*
 * hosts.c - pitr-info's report on several hosts' dirs (several -b or -a):
 * each archive alone, the newest backup, the furthest archive, and
 * whether they are all of one database system.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/info/info_impl.h"
#include "common/json.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"
#include "postgres/wal.h"
#include "repo/catalog.h"
#include "repo/walpath.h"

/* ---- several hosts ---- */

const struct pitr_catalog_backup *
pitr_info_newest(const struct pitr_catalog *cat)
{
	const struct pitr_catalog_backup *best = NULL;

	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (best == NULL || b->timeline > best->timeline ||
		    (b->timeline == best->timeline &&
		     (b->stop_lsn > best->stop_lsn ||
		      (b->stop_lsn == best->stop_lsn && b->stop_epoch > best->stop_epoch))))
			best = b;
	}
	return best;
}

void
pitr_info_furthest(const struct pitr_catalog *cats, size_t n, struct pitr_info_reach *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t a = 0; a < n; a++) {
		const struct pitr_catalog *cat = &cats[a];

		/* Timelines ascend: the last with segments is the latest. */
		for (size_t t = cat->ntimelines; t-- > 0;) {
			const struct pitr_catalog_timeline *tl = &cat->timelines[t];
			const struct pitr_catalog_file *f;

			if (tl->nsegments == 0 || cat->segsize == 0)
				continue;
			if (r->found && (tl->tli < r->tli || (tl->tli == r->tli && tl->last <= r->last)))
				break;
			f = pitr_walpath_find_segment(cat, tl->tli, tl->last);
			r->found = true;
			r->archive = a;
			r->tli = tl->tli;
			r->last = tl->last;
			r->end_lsn = (tl->last + 1) * (uint64_t)cat->segsize;
			r->end_epoch = f != NULL ? f->mtime : 0;
			break;
		}
	}
}

/* What the report on several hosts adds to the union catalog: each
 * archive alone, the newest backup, the furthest archive, the systems. */
struct hosts {
	struct pitr_catalog *acats;    /* one per archive */
	size_t nacats;
	const struct pitr_catalog_backup *newest;
	struct pitr_info_reach far;
	bool have_sysid;               /* one system is known ... */
	uint64_t sysid;                /* ... this one */
	char *mixed;                   /* else why not: the error line */
};

static void
hosts_free(struct hosts *h)
{
	for (size_t i = 0; i < h->nacats; i++)
		pitr_catalog_free(&h->acats[i]);
	free(h->acats);
	free(h->mixed);
}

/* One more system identifier, `what` saying whose: the first known is the
 * reference, the first that differs makes h->mixed.  0 or -1 (ENOMEM). */
static int
hosts_system(struct hosts *h, uint64_t sysid, const char *what, char **ref_what)
{
	if (h->mixed != NULL)
		return 0;
	if (!h->have_sysid) {
		h->have_sysid = true;
		h->sysid = sysid;
		return (*ref_what = pitr_xstrdup(what)) != NULL ? 0 : -1;
	}
	if (sysid == h->sysid)
		return 0;
	h->mixed = pitr_xasprintf("%s is of database system %" PRIu64 ", %s of system %" PRIu64
				  ": not one cluster", *ref_what, h->sysid, what, sysid);
	return h->mixed != NULL ? 0 : -1;
}

static int
hosts_systems(struct hosts *h, const struct pitr_catalog *cat)
{
	char *ref = NULL, *what = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		what = pitr_xasprintf("backup \"%s\" in \"%s\"", b->name, cat->backup_dirs[b->dir]);
		rc = what != NULL ? hosts_system(h, b->sysid, what, &ref) : -1;
		free(what);
	}
	for (size_t a = 0; rc == 0 && a < cat->narchive_dirs; a++) {
		uint64_t sysid;
		int r = pitr_catalog_archive_sysid(cat, a, &sysid);

		if (r != 0) {
			rc = r < 0 ? -1 : 0;
			continue;
		}
		what = pitr_xasprintf("archive \"%s\"", cat->archive_dirs[a]);
		rc = what != NULL ? hosts_system(h, sysid, what, &ref) : -1;
		free(what);
	}
	free(ref);
	return rc;
}

static int
hosts_load(struct hosts *h, const struct pitr_info_opts *opts, const struct pitr_catalog *cat)
{
	memset(h, 0, sizeof(*h));
	h->acats = pitr_xcalloc(opts->narchives + 1, sizeof(*h->acats));
	if (h->acats == NULL)
		return -1;
	for (; h->nacats < opts->narchives; h->nacats++)
		if (pitr_catalog_load(NULL, opts->archives[h->nacats], opts->s3,
				      &h->acats[h->nacats]) != 0)
			return -1;
	h->newest = pitr_info_newest(cat);
	pitr_info_furthest(h->acats, h->nacats, &h->far);
	return hosts_systems(h, cat);
}

static void
text_hosts_summary(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	char t[64], l[32], seg[PITR_WAL_NAME_MAX];
	const struct pitr_catalog_backup *b = h->newest;

	if (b == NULL)
		pitr_quote_fprintf(out, "Newest backup: none\n");
	else
		pitr_quote_fprintf(out,
				   "Newest backup: %s in %s (timeline %" PRIu32 ", stopped %s, "
				   "LSN %s)\n", b->name, cat->backup_dirs[b->dir], b->timeline,
				   b->stop_time, pitr_info_fmt_lsn(b->stop_lsn, l, sizeof(l)));
	if (!h->far.found)
		pitr_quote_fprintf(out, "Furthest archive: none (no segments)\n");
	else
		pitr_quote_fprintf(out,
				   "Furthest archive: %s (timeline %" PRIu32 ", last segment %s, "
				   "to LSN %s, %s)\n", cat->archive_dirs[h->far.archive], h->far.tli,
				   pitr_info_fmt_seg(h->far.tli, h->far.last,
						     h->acats[h->far.archive].segsize, seg),
				   pitr_info_fmt_lsn(h->far.end_lsn, l,
						     sizeof(l)), pitr_info_fmt_time(h->far.end_epoch, t, sizeof(t)));
	if (h->mixed != NULL)
		pitr_quote_fprintf(out, "Database system: DIFFERENT: %s\n", h->mixed);
	else if (h->have_sysid)
		pitr_quote_fprintf(out,
				   "Database system: %" PRIu64 " (every backup and archive that "
				   "tells)\n", h->sysid);
	else
		pitr_quote_fprintf(out, "Database system: unknown\n");
}

static void
text_hosts(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	for (size_t d = 0; d < cat->nbackup_dirs; d++) {
		size_t n = 0;

		for (size_t i = 0; i < cat->nbackups; i++)
			n += cat->backups[i].dir == d;
		pitr_quote_fprintf(out, "Backups in %s: %zu\n", cat->backup_dirs[d], n);
		for (size_t i = 0; i < cat->nbackups; i++)
			if (cat->backups[i].dir == d)
				pitr_info_text_backup(out, cat, &cat->backups[i]);
	}
	if (cat->nbackup_dirs > 0)
		pitr_info_text_unfinished(out, cat);
	for (size_t a = 0; a < h->nacats; a++)
		pitr_info_text_archive(out, cat->archive_dirs[a], &h->acats[a]);
	text_hosts_summary(out, cat, h);
	pitr_info_text_window_problems(out, cat);
}

static void
json_dirs(struct pitr_jw *j, const char *key, char **dirs, size_t n)
{
	pitr_jw_open(j, key, '[');
	for (size_t i = 0; i < n; i++)
		pitr_jw_str(j, NULL, dirs[i]);
	pitr_jw_close(j, ']');
}

static void
json_sysid(struct pitr_jw *j, const char *key, bool known, uint64_t sysid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, sysid);
	pitr_jw_str(j, key, known ? buf : NULL);
}

static void
json_archives(struct pitr_jw *j, const struct pitr_catalog *cat, const struct hosts *h)
{
	pitr_jw_open(j, "archives", '[');
	for (size_t a = 0; a < h->nacats; a++) {
		const struct pitr_catalog *ac = &h->acats[a];
		uint64_t sysid = 0;
		bool known = pitr_catalog_archive_sysid(ac, 0, &sysid) == 0;

		pitr_jw_open(j, NULL, '{');
		pitr_jw_str(j, "archive_dir", cat->archive_dirs[a]);
		json_sysid(j, "system_identifier", known, sysid);
		pitr_jw_unum(j, "files", ac->nfiles);
		pitr_jw_unum(j, "segments", pitr_info_count_segments(ac));
		pitr_jw_unum(j, "stored_size", pitr_info_archive_stored(ac));
		pitr_info_json_timelines(j, ac);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
}

static void
json_hosts_summary(struct pitr_jw *j, const struct pitr_catalog *cat, const struct hosts *h)
{
	char seg[PITR_WAL_NAME_MAX];
	const struct pitr_catalog_backup *b = h->newest;

	if (b == NULL) {
		pitr_jw_null(j, "newest_backup");
	} else {
		pitr_jw_open(j, "newest_backup", '{');
		pitr_jw_str(j, "backup_dir", cat->backup_dirs[b->dir]);
		pitr_jw_str(j, "name", b->name);
		pitr_jw_unum(j, "timeline", b->timeline);
		pitr_jw_str(j, "stop_time", b->stop_time);
		pitr_jw_num(j, "stop_epoch", (long long)b->stop_epoch);
		pitr_info_jw_lsn(j, "stop_lsn", b->stop_lsn);
		pitr_jw_close(j, '}');
	}
	if (!h->far.found) {
		pitr_jw_null(j, "furthest_archive");
	} else {
		pitr_jw_open(j, "furthest_archive", '{');
		pitr_jw_str(j, "archive_dir", cat->archive_dirs[h->far.archive]);
		pitr_jw_unum(j, "timeline", h->far.tli);
		pitr_jw_str(j, "last", pitr_info_fmt_seg(h->far.tli, h->far.last,
							 h->acats[h->far.archive].segsize, seg));
		pitr_info_jw_lsn(j, "end_lsn", h->far.end_lsn);
		pitr_info_jw_time(j, "end_time", h->far.end_epoch);
		pitr_jw_num(j, "end_epoch", (long long)h->far.end_epoch);
		pitr_jw_close(j, '}');
	}
	pitr_jw_bool(j, "same_system", h->mixed == NULL);
	json_sysid(j, "system_identifier", h->mixed == NULL && h->have_sysid, h->sysid);
	pitr_jw_str(j, "systems_differ", h->mixed);
}

static void
json_hosts(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	struct pitr_jw j = { .out = out };

	pitr_jw_open(&j, NULL, '{');
	json_dirs(&j, "backup_dirs", cat->backup_dirs, cat->nbackup_dirs);
	json_dirs(&j, "archive_dirs", cat->archive_dirs, cat->narchive_dirs);
	if (cat->segsize != 0)
		pitr_jw_unum(&j, "segment_size", cat->segsize);
	else
		pitr_jw_null(&j, "segment_size");
	pitr_jw_open(&j, "backups", '[');
	for (size_t i = 0; i < cat->nbackups; i++)
		pitr_info_json_backup(&j, cat, &cat->backups[i],
				      cat->backup_dirs[cat->backups[i].dir]);
	pitr_jw_close(&j, ']');
	json_archives(&j, cat, h);
	pitr_info_json_timelines(&j, cat);
	pitr_info_json_window(&j, cat);
	json_hosts_summary(&j, cat, h);
	pitr_info_json_problems(&j, cat);
	pitr_info_json_unfinished(&j, cat);
	pitr_jw_close(&j, '}');
	fputc('\n', out);
}

/* The report on several hosts; 1 when it was written but their systems
 * differ (logged), -1 after logging a failure. */
int
pitr_info_report_hosts(FILE *out, const struct pitr_info_opts *opts, const struct pitr_catalog *cat)
{
	struct hosts h;
	int rc = -1;

	if (hosts_load(&h, opts, cat) != 0)
		goto out;
	if (opts->json)
		json_hosts(out, cat, &h);
	else
		text_hosts(out, cat, &h);
	rc = 0;
	if (h.mixed != NULL) {
		pitr_log_error("%s", h.mixed);
		rc = 1;
	}
out:
	hosts_free(&h);
	return rc;
}
