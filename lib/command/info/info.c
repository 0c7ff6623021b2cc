/*
 * info.c - pitr-info: the catalog as a report, text or JSON (see
 * info.h; the JSON schema is documented in man/pitr-info.1).  The text is
 * text.c's, the JSON json.c's, the report on several hosts hosts.c's.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "command/info/info_impl.h"
#include "common/json.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/lsn.h"
#include "postgres/timestamp.h"
#include "postgres/wal.h"
#include "repo/catalog.h"
#include "repo/walpath.h"

void
pitr_info_reach_of(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
		   struct pitr_info_backup_reach *r)
{
	const struct pitr_catalog_file *f = NULL;

	r->tli = pitr_walpath_latest_timeline(cat, b->timeline);
	r->lsn = pitr_walpath_reachable_lsn(cat, b, r->tli);
	if (r->lsn != 0)
		f = pitr_walpath_find_segment(cat, r->tli, r->lsn / cat->segsize - 1);
	/* The last segment came from the backup's own xlog tarball: it was
	 * complete when the backup stopped. */
	r->epoch = f != NULL ? f->mtime : b->stop_epoch;
}

void
pitr_info_window(const struct pitr_catalog *cat, struct pitr_info_window *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];
		struct pitr_info_backup_reach r;

		pitr_info_reach_of(cat, b, &r);
		if (r.lsn == 0)
			continue;
		w->backup = b;
		w->tli = r.tli;
		w->start_lsn = b->stop_lsn;
		w->start_epoch = b->stop_epoch;
		w->end_lsn = r.lsn;
		w->end_epoch = r.epoch;
		return;
	}
}

void
pitr_info_chain_free(struct pitr_info_chain *c)
{
	pitr_catalog_chain_labels_free(c->labels, c->nlinks);
	free(c->missing);
	memset(c, 0, sizeof(*c));
}

int
pitr_info_chain_of(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
		   struct pitr_info_chain *c)
{
	memset(c, 0, sizeof(*c));
	c->stored = b->stored_size;
	if (pitr_catalog_chain_labels(b, &c->labels, &c->nlinks) != 0)
		return -1;
	if (c->nlinks > 0 && (c->missing = pitr_xcalloc(c->nlinks, sizeof(*c->missing))) == NULL) {
		pitr_info_chain_free(c);
		return -1;
	}
	for (size_t i = 0; i < c->nlinks; i++) {
		const struct pitr_catalog_backup *link =
			pitr_catalog_by_label(cat, b->dir, c->labels[i], b->codec);

		if (link != NULL) {
			c->stored += link->stored_size;
		} else {
			c->missing[i] = true;
			c->nmissing++;
		}
	}
	return 0;
}

/* ---- small formatters ---- */

/* The form the meta files use, in the reader's time zone; "@EPOCH" for a
 * time the local calendar cannot show. */
const char *
pitr_info_fmt_time(time_t t, char *buf, size_t size)
{
	if (pitr_timestamp_format(t, buf, size) != 0)
		snprintf(buf, size, "@%lld", (long long)t);
	return buf;
}

const char *
pitr_info_fmt_lsn(uint64_t lsn, char *buf, size_t size)
{
	pitr_lsn_format(lsn, buf, size);
	return buf;
}

const char *
pitr_info_fmt_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

const char *
pitr_info_fmt_seg(uint32_t tli, uint64_t segno, uint32_t segsize, char *buf)
{
	pitr_wal_format_segment(buf, tli, segno, segsize);
	return buf;
}

size_t
pitr_info_count_segments(const struct pitr_catalog *cat)
{
	size_t segs = 0;

	for (size_t i = 0; i < cat->ntimelines; i++)
		segs += cat->timelines[i].nsegments;
	return segs;
}

uint64_t
pitr_info_archive_stored(const struct pitr_catalog *cat)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < cat->nfiles; i++)
		bytes += cat->files[i].size;
	return bytes;
}

uint64_t
pitr_info_file_size(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    stat(path, &st) != 0)
		return 0;
	return (uint64_t)st.st_size;
}

void
pitr_info_json_string(FILE *out, const char *s)
{
	pitr_json_string(out, s);
}

/* ---- leftovers ---- */

/* Add a problem line to cat for each temporary file in `dir` that no
 * live run holds locked (tmpfile.h), as pitr-verify words it; `remover`
 * is the program that removes it.  Returns 0 or -1 (logged). */
static int
add_leftovers(struct pitr_catalog *cat, const char *dir, const char *remover)
{
	struct pitr_tmp_found *found;
	size_t n;
	int rc = 0;

	if (dir == NULL)
		return 0;
	if (pitr_tmp_scan(dir, &found, &n) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char **grown = pitr_xreallocarray(cat->problems, cat->nproblems + 1,
						  sizeof(*grown));
		char size[32], *line;

		if (grown == NULL) {
			rc = -1;
			break;
		}
		cat->problems = grown;
		pitr_tmp_size_text(found[i].size, size, sizeof(size));
		line = pitr_xasprintf("temporary file \"%s/%s\": %s left by an interrupted run; "
				      "%s removes it", dir, found[i].name, size, remover);
		if (line == NULL)
			rc = -1;
		else
			cat->problems[cat->nproblems++] = line;
	}
	pitr_tmp_found_free(found, n);
	return rc;
}

/* ---- the command ---- */

/* Temporary files are local: an object store has none (an object appears
 * whole or not at all). */
static int
add_all_leftovers(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nbackup_dirs; i++)
		if (add_leftovers(cat, pitr_store_dir(cat->backup_stores[i]),
				  "pitr-backup-cleanup") != 0)
			return -1;
	for (size_t i = 0; i < cat->narchive_dirs; i++)
		if (add_leftovers(cat, pitr_store_dir(cat->archive_stores[i]), "pitr-cleanup") != 0)
			return -1;
	return 0;
}

int
pitr_cmd_info(const struct pitr_info_opts *opts)
{
	FILE *out = opts->out != NULL ? opts->out : stdout;
	bool several = opts->nbackup_dirs > 1 || opts->narchives > 1;
	struct pitr_catalog cat;
	int rc = 0;

	if (opts->nbackup_dirs == 0 && opts->narchives == 0) {
		pitr_log_error("nothing to report on: give --backup-dir, --archive or both");
		return -1;
	}
	if (pitr_catalog_load_many(opts->backup_dirs, opts->nbackup_dirs, opts->archives,
				   opts->narchives, opts->s3, &cat) != 0)
		return -1;
	if (pitr_catalog_load_progress(&cat) != 0 || add_all_leftovers(&cat) != 0) {
		pitr_catalog_free(&cat);
		return -1;
	}
	pitr_log_verbose("read %zu backups, %zu archived files on %zu timelines, %zu problems",
			 cat.nbackups, cat.nfiles, cat.ntimelines, cat.nproblems);
	if (several)
		rc = pitr_info_report_hosts(out, opts, &cat);
	else if (opts->json)
		pitr_info_json_report(out, cat.nbackup_dirs ? cat.backup_dirs[0] : NULL,
				      cat.narchive_dirs ? cat.archive_dirs[0] : NULL, &cat);
	else
		pitr_info_text_report(out, opts, cat.nbackup_dirs ? cat.backup_dirs[0] : NULL,
				      cat.narchive_dirs ? cat.archive_dirs[0] : NULL, &cat);
	pitr_catalog_free(&cat);
	if (rc < 0)
		return -1;
	if (fflush(out) != 0 || ferror(out)) {
		pitr_log_error("cannot write the report: %s", strerror(errno ? errno : EIO));
		return -1;
	}
	return rc == 0 ? 0 : -1;
}
