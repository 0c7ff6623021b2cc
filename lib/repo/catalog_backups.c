/*
 * catalog_backups.c - the catalog's backup dir: meta files, the backups
 * and remnants they describe, orphans (see catalog.h).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repo/catalog.h"
#include "repo/catalog_impl.h"
#include "repo/orphan.h"
#include "repo/meta.h"
#include "compress/codec.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/sysid.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

/* ---- backups ---- */

/* The backup dir being read: its store and the listing its files are
 * looked up in. */
struct bdir {
	struct pitr_store *st;
	struct pitr_catalog_listing list;
};

/* `name` with the 4 bytes at `at` ("meta") replaced by `word`, and
 * without the codec extension when `strip_ext` (the digest files of
 * backups before issue 11). */
static char *
sibling_name(const char *name, size_t at, const char *word, bool strip_ext)
{
	size_t stem = strlen(name);

	if (strip_ext)
		pitr_codec_from_filename(name, &stem);
	if (stem < at + 4)
		stem = strlen(name);   /* "meta" inside the extension: keep it whole */
	return pitr_xasprintf("%.*s%s%.*s", (int)at, name, word, (int)(stem - at - 4),
			      name + at + 4);
}

/*
 * The name of the backup's digest file of `algorithm` beside meta file
 * `name` ("meta" at `at`): with the meta file's codec extension, as
 * OmniPITR's backups named it and pitrkit's do since issue 11, or, when
 * only that exists, without it, as pitrkit's did before.  The new name when
 * neither exists (the one a problem names).  NULL on ENOMEM.
 */
static char *
digest_name(const struct bdir *bd, const char *name, size_t at, const char *algorithm)
{
	char *file = sibling_name(name, at, algorithm, false);
	char *old;

	if (file == NULL || pitr_catalog_is_regular(&bd->list, file))
		return file;
	if ((old = sibling_name(name, at, algorithm, true)) == NULL) {
		free(file);
		return NULL;
	}
	if (strcmp(old, file) != 0 && pitr_catalog_is_regular(&bd->list, old)) {
		free(file);
		return old;
	}
	free(old);
	return file;
}

/* The "meta" in `name` whose "data" sibling exists, or -1. */
static long
meta_position(const struct bdir *bd, const char *name)
{
	for (const char *p = strstr(name, "meta"); p != NULL; p = strstr(p + 1, "meta")) {
		char *data = sibling_name(name, (size_t)(p - name), "data", false);
		bool found = data != NULL && pitr_catalog_is_regular(&bd->list, data);

		free(data);
		if (found)
			return (long)(p - name);
	}
	return -1;
}

void
pitr_catalog_backup_free(struct pitr_catalog_backup *b)
{
	pitr_meta_clear(b);
	free(b->name);
	free(b->meta_file);
	free(b->data_file);
	free(b->xlog_file);
	free(b->sig_file);
}

static int
cmp_backup(const void *pa, const void *pb)
{
	const struct pitr_catalog_backup *a = pa, *b = pb;

	if (a->start_epoch != b->start_epoch)
		return a->start_epoch < b->start_epoch ? -1 : 1;
	if (a->start_lsn != b->start_lsn)
		return a->start_lsn < b->start_lsn ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* Bytes stored of `name`; 0 when it is absent (the problem that says so
 * is listed elsewhere). */
static uint64_t
file_size(const struct bdir *bd, const char *name)
{
	const struct pitr_store_entry *e = name != NULL ? pitr_catalog_lookup(&bd->list, name) :
					   NULL;

	return e != NULL && e->regular ? e->size : 0;
}

static void
sum_sizes(const struct bdir *bd, struct pitr_catalog_backup *b)
{
	b->stored_size = file_size(bd, b->meta_file) + file_size(bd, b->data_file) +
			 file_size(bd, b->xlog_file) + file_size(bd, b->sig_file);
	for (size_t i = 0; i < b->ndigests; i++)
		b->stored_size += file_size(bd, b->digests[i].file);
}

/* Fill the directory-given fields of a parsed backup; problems for the
 * files it lacks.  Returns 0; 2 for a remnant (no data file: problem
 * listed, data_file NULL, xlog_file and digest files set only where they
 * exist); -1 on ENOMEM. */
static int
backup_files(struct pitr_catalog *cat, const struct bdir *bd, const char *name, const char *path,
	     struct pitr_catalog_backup *b)
{
	long at = meta_position(bd, name);
	bool remnant = at < 0;
	size_t stem;

	if (remnant) {
		for (const char *p = strstr(name, "meta"); p != NULL; p = strstr(p + 1, "meta"))
			at = (long)(p - name);
	}
	b->codec = pitr_codec_from_filename(name, &stem);
	if ((b->meta_file = pitr_xstrdup(name)) == NULL ||
	    (b->name = sibling_name(name, (size_t)at, "*", false)) == NULL ||
	    (b->data_file = sibling_name(name, (size_t)at, "data", false)) == NULL ||
	    (b->xlog_file = sibling_name(name, (size_t)at, "xlog", false)) == NULL ||
	    (b->sig_file = sibling_name(name, (size_t)at, "sig", false)) == NULL)
		return -1;
	if (!pitr_catalog_is_regular(&bd->list, b->sig_file)) {
		/* Backups before issue 13 have none; an incremental needs its
		 * own, which pitr-verify checks. */
		free(b->sig_file);
		b->sig_file = NULL;
	}
	if (remnant) {
		/* What a removal killed half way leaves: its other files, the
		 * meta last, for pitr-backup-cleanup to finish. */
		if (pitr_catalog_add_problem(cat,
					     "meta file \"%s\": its data file \"%s\" is missing", path,
					     b->data_file) != 0)
			return -1;
		free(b->data_file);
		b->data_file = NULL;
	}
	if (!pitr_catalog_is_regular(&bd->list, b->xlog_file)) {
		/* --skip-xlogs writes no xlog tarball and says so by its size. */
		if (!remnant && b->xlog_size > 0 &&
		    pitr_catalog_add_problem(cat,
					     "meta file \"%s\": its xlog file \"%s\" is missing", path,
					     b->xlog_file) != 0)
			return -1;
		free(b->xlog_file);
		b->xlog_file = NULL;
	}
	for (size_t i = 0; i < b->ndigests; i++) {
		struct pitr_catalog_digest *d = &b->digests[i];

		if ((d->file = digest_name(bd, name, (size_t)at, d->algorithm)) == NULL)
			return -1;
		if (pitr_catalog_is_regular(&bd->list, d->file))
			continue;
		if (remnant) {
			free(d->file);
			d->file = NULL;
		} else if (pitr_catalog_add_problem(cat,
						    "meta file \"%s\": its %s digest file \"%s\" is missing",
						    path, d->algorithm, d->file) != 0) {
			return -1;
		}
	}
	sum_sizes(bd, b);
	return remnant ? 2 : 0;
}

/* Whether b was read from the backup dir being read now: another host's
 * dir may hold files of the same names, which say nothing about this one. */
static bool
in_current_dir(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b)
{
	return cat->nbackup_dirs == 0 || b->dir == cat->nbackup_dirs - 1;
}

static bool
is_backup_file(const struct pitr_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->nbackups + cat->nremnants; i++) {
		const struct pitr_catalog_backup *b =
			i < cat->nbackups ? &cat->backups[i] : &cat->remnants[i - cat->nbackups];

		if (!in_current_dir(cat, b))
			continue;
		if ((b->data_file && strcmp(name, b->data_file) == 0) ||
		    (b->xlog_file && strcmp(name, b->xlog_file) == 0) ||
		    (b->sig_file && strcmp(name, b->sig_file) == 0))
			return true;
		for (size_t d = 0; d < b->ndigests; d++)
			if (b->digests[d].file && strcmp(name, b->digests[d].file) == 0)
				return true;
	}
	return false;
}

static int
append_backup(struct pitr_catalog *cat, bool remnant, const struct pitr_catalog_backup *b)
{
	struct pitr_catalog_backup **list = remnant ? &cat->remnants : &cat->backups;
	size_t *count = remnant ? &cat->nremnants : &cat->nbackups;
	struct pitr_catalog_backup *grown = pitr_xreallocarray(*list, *count + 1, sizeof(*grown));

	if (grown == NULL)
		return -1;
	*list = grown;
	(*list)[*count] = *b;
	(*list)[(*count)++].dir = cat->nbackup_dirs > 0 ? cat->nbackup_dirs - 1 : 0;
	return 0;
}

/* A file with "meta" in its name: its backup or remnant added, or the
 * reason its meta text is refused listed.  Returns 0; 1 when it holds no
 * meta text (judge_other decides once the backups are known); -1 after
 * logging. */
static int
load_meta(struct pitr_catalog *cat, const struct bdir *bd, const char *name)
{
	struct pitr_catalog_backup b = { 0 };
	char reason[512], what[4200], err[4600], *path, *text = NULL;
	size_t stem;
	int r;

	if ((path = pitr_store_path(bd->st, name)) == NULL)
		return -1;
	r = pitr_catalog_read_text(bd->st, name, pitr_codec_from_filename(name, &stem),
				   PITR_META_MAX, &text, reason, sizeof(reason));
	if (r != 0 || text == NULL || !pitr_meta_detect(text)) {
		free(text);
		free(path);
		return r == -2 ? -1 : 1;
	}
	snprintf(what, sizeof(what), "meta file \"%s\"", path);
	r = pitr_meta_parse(text, what, &b, err, sizeof(err));
	free(text);
	if (r != 0) {
		free(path);
		return r == -2 ? -1 : pitr_catalog_add_problem(cat, "%s", err);
	}
	r = backup_files(cat, bd, name, path, &b);
	free(path);
	if (r >= 0 && append_backup(cat, r == 2, &b) == 0)
		return 0;
	pitr_catalog_backup_free(&b);
	return -1;
}

/* A file with "meta" in its name but no meta text, not one of a backup's
 * files.  Unreadable: maybe a damaged meta file.  Readable: a problem
 * only when it sits where a backup's meta file would (its data file
 * exists).  Returns 0, or -1 after logging. */
static int
judge_other(struct pitr_catalog *cat, const struct bdir *bd, const char *name)
{
	char reason[512], *path, *text = NULL;
	size_t stem;
	int r;

	if (is_backup_file(cat, name))
		return 0;
	if ((path = pitr_store_path(bd->st, name)) == NULL)
		return -1;
	r = pitr_catalog_read_text(bd->st, name, pitr_codec_from_filename(name, &stem),
				   PITR_META_MAX, &text, reason, sizeof(reason));
	free(text);
	if (r == -2)
		r = -1;
	else if (r != 0)
		r = pitr_catalog_add_problem(cat, "meta file \"%s\": %s", path, reason);
	else if (meta_position(bd, name) >= 0)
		r = pitr_catalog_add_problem(cat, "meta file \"%s\": not a pitrkit meta file",
					     path);
	free(path);
	return r;
}

/* ---- orphans ---- */

static bool
is_meta_file(const struct pitr_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->nbackups + cat->nremnants; i++) {
		const struct pitr_catalog_backup *b =
			i < cat->nbackups ? &cat->backups[i] : &cat->remnants[i - cat->nbackups];

		if (in_current_dir(cat, b) && strcmp(name, b->meta_file) == 0)
			return true;
	}
	return false;
}

/* Add `name` to *line ("a", "b", ...).  -1 when out of memory. */
static int
line_add(char **line, const char *name)
{
	char *more = pitr_xasprintf("%s%s\"%s\"", *line ? *line : "", *line ? ", " : "", name);

	free(*line);
	*line = more;
	return more != NULL ? 0 : -1;
}

static int
list_orphan(struct pitr_catalog *cat, const char *name)
{
	char **grown = pitr_xreallocarray(cat->orphans, cat->norphans + 1, sizeof(*grown));
	size_t *dirs;

	if (grown == NULL)
		return -1;
	cat->orphans = grown;
	dirs = pitr_xreallocarray(cat->orphan_dirs, cat->norphans + 1, sizeof(*dirs));
	if (dirs == NULL)
		return -1;
	cat->orphan_dirs = dirs;
	dirs[cat->norphans] = cat->nbackup_dirs > 0 ? cat->nbackup_dirs - 1 : 0;
	if ((cat->orphans[cat->norphans] = pitr_xstrdup(name)) == NULL)
		return -1;
	cat->norphans++;
	return 0;
}

/* An object store's listing as pitr_orphan_loose_by() asks it. */
static bool
listed_regular(void *list, const char *name)
{
	return pitr_catalog_is_regular(list, name);
}

/* Whether `name` is a backup's file without its meta (repo/orphan.h's
 * loose rule), in a directory or in an object store's listing. */
static bool
is_loose(const struct bdir *bd, const char *name)
{
	const char *dir = pitr_store_dir(bd->st);

	if (dir != NULL)
		return pitr_orphan_loose(dir, name);
	return pitr_orphan_loose_by(listed_regular, (void *)&bd->list, name);
}

/* Whether an orphan is pitrkit's: a local one when a backup run's
 * journal names it, an object when it carries pitrkit's mark (s3.h; an
 * object whose HEAD fails counts as foreign, the failure logged). */
static bool
is_pitrkit_orphan(const struct bdir *bd, const char *name)
{
	const char *dir = pitr_store_dir(bd->st);
	struct pitr_store_entry e;

	if (dir != NULL)
		return pitr_orphan_journaled(dir, name);
	return pitr_store_stat(bd->st, name, &e) == 0 && e.marked;
}

/* A backup's files at their final names without its meta file, listed in
 * cat->orphans.  Those a pitrkit run left (is_pitrkit_orphan: a backup
 * run's journal names them, or an object carries pitrkit's mark) are what
 * a run killed while publishing left (the meta is published last): one
 * problem line.  The others are foreign (OmniPITR's backups had no meta
 * file): another line, as they stay until removed by hand. */
static int
find_orphans(struct pitr_catalog *cat, const struct bdir *bd)
{
	const char *where = pitr_store_location(bd->st);
	const char *why = "not stored by pitrkit (no " PITR_S3_MARK_HEADER ": OmniPITR's?)";
	char *line = NULL, *foreign = NULL;
	int rc = -1;

	if (pitr_store_dir(bd->st) != NULL) {
		where = pitr_store_dir(bd->st);
		why = "named by no pitrkit run's journal (OmniPITR's? a remote run's?)";
	}
	for (size_t i = 0; i < bd->list.n; i++) {
		const char *name = bd->list.entries[i].name;

		if (is_backup_file(cat, name) || is_meta_file(cat, name) || !is_loose(bd, name))
			continue;
		if (list_orphan(cat, name) != 0 ||
		    line_add(is_pitrkit_orphan(bd, name) ? &line : &foreign, name) != 0)
			goto out;
	}
	if (line != NULL && pitr_catalog_add_problem(cat,
						     "orphan backup files without meta in \"%s\": %s, left by "
						     "an interrupted backup", where, line) != 0)
		goto out;
	if (foreign != NULL && pitr_catalog_add_problem(cat,
							"backup files without meta in \"%s\": %s, %s: "
							"never removed by pitrkit, remove them by hand "
							"if unwanted", where, foreign, why) != 0)
		goto out;
	rc = 0;
out:
	free(line);
	free(foreign);
	return rc;
}

static bool
is_orphan_listed(const struct pitr_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->norphans; i++)
		if (strcmp(cat->orphans[i], name) == 0)
			return true;
	return false;
}

int
pitr_catalog_load_backups(struct pitr_catalog *cat, struct pitr_store *st)
{
	struct bdir bd = { .st = st };
	const char **other = NULL;
	size_t nother = 0;
	int rc = -1;

	if (pitr_catalog_list(st, &bd.list) != 0)
		return -1;
	/* Other files with "meta" in their name (a host called "metabox"
	 * makes every file of its backups one) are judged once the backups
	 * are known: their data and xlog files are no problem. */
	if ((other = pitr_xcalloc(bd.list.n + 1, sizeof(*other))) == NULL)
		goto out;
	for (size_t i = 0; i < bd.list.n; i++) {
		const struct pitr_store_entry *e = &bd.list.entries[i];
		int r;

		if (pitr_catalog_ignored_name(e->name) || strstr(e->name, "meta") == NULL ||
		    !e->regular)
			continue;
		if ((r = load_meta(cat, &bd, e->name)) < 0)
			goto out;
		if (r == 1)
			other[nother++] = e->name;
	}
	if (find_orphans(cat, &bd) != 0)
		goto out;
	for (size_t i = 0; i < nother; i++)
		if (!is_orphan_listed(cat, other[i]) && judge_other(cat, &bd, other[i]) != 0)
			goto out;
	if (cat->nbackups > 1)
		qsort(cat->backups, cat->nbackups, sizeof(*cat->backups), cmp_backup);
	if (cat->nremnants > 1)
		qsort(cat->remnants, cat->nremnants, sizeof(*cat->remnants), cmp_backup);
	rc = 0;
out:
	free(other);
	pitr_catalog_listing_free(&bd.list);
	return rc;
}
