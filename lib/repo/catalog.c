/*
 * catalog.c - the backups of a backup dir and the WAL of an archive, read
 * once into one structure every recovery-side program shares (see
 * catalog.h).
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

int
pitr_catalog_add_problem(struct pitr_catalog *cat, const char *fmt, ...)
{
	char **grown = pitr_xreallocarray(cat->problems, cat->nproblems + 1, sizeof(*grown));
	va_list ap;
	char *line;

	if (grown == NULL)
		return -1;
	cat->problems = grown;
	va_start(ap, fmt);
	line = pitr_xvasprintf(fmt, ap);
	va_end(ap);
	if (line == NULL)
		return -1;
	cat->problems[cat->nproblems++] = line;
	return 0;
}

/* "gzip=/dir" names /dir: the codec prefix matters to writers only. */
const char *
pitr_catalog_dir(const char *spec)
{
	return spec + pitr_codec_prefix_len(spec);
}

/* ---- reading small files ---- */

/*
 * Decompress at most `max` bytes of entry `name` of `st` into a
 * NUL-terminated buffer.  Returns 0 with *text (NULL when the content is
 * longer than `max` or holds NUL bytes: not the text file looked for), -1
 * with `reason` set when the entry cannot be read or decompressed (the
 * codec's or the store's reason, not logged: the caller's problem line is
 * the one report), or -2 after logging a failed allocation.
 */
int
pitr_catalog_read_text(struct pitr_store *st, const char *name, enum pitr_codec codec,
		       size_t max, char **text, char *reason, size_t reason_size)
{
	struct pitr_codec_reader *r = NULL;
	char *buf = pitr_xmalloc(max + 1), *path = pitr_store_path(st, name);
	char why[256] = "";
	size_t len = 0;
	unsigned flags = PITR_STORE_READ_EARLY;
	int fd = -1, rc = -1;

	*text = NULL;
	if (buf == NULL || path == NULL) {
		rc = -2;
		goto out;
	}
	if ((fd = pitr_store_read_begin(st, name, reason, reason_size)) < 0) {
		if (fd == -2)   /* removed since it was listed */
			snprintf(reason, reason_size, "cannot open: %s", strerror(ENOENT));
		goto out;
	}
	/* The reason goes into the one problem line, not into the log too. */
	if ((r = pitr_codec_reader_new_quiet(codec, fd, path, why, sizeof(why))) == NULL) {
		snprintf(reason, reason_size, "cannot read it as %s: %s", pitr_codec_name(codec),
			 why);
		goto out;
	}
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, buf + len, max + 1 - len);

		if (n < 0) {
			snprintf(reason, reason_size, "cannot read it as %s: %s",
				 pitr_codec_name(codec), why);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			rc = 0;   /* longer than any such file: not one */
			goto out;
		}
	}
	buf[len] = '\0';
	flags = 0;   /* read to its end: the store must have delivered it all */
	rc = 0;
	if (memchr(buf, '\0', len) == NULL) {
		*text = buf;
		buf = NULL;
	}
out:
	pitr_codec_reader_free(r);
	/* A store that lost bytes on the way says so here: its reason, not
	 * the codec's complaint about a short stream, is the one. */
	if (fd >= 0 && pitr_store_read_end(st, fd, flags, reason, reason_size) != 0) {
		free(*text);
		*text = NULL;
		rc = -1;
	}
	free(buf);
	free(path);
	return rc;
}

/* ---- directory listing ---- */

bool
pitr_catalog_is_regular(const struct pitr_store_listing *l, const char *name)
{
	const struct pitr_store_entry *e = pitr_store_listing_find(l, name);

	return e != NULL && e->regular;
}

/* Temporary files of pitrkit's publish and hidden files are never what
 * anyone archived or backed up. */
bool
pitr_catalog_ignored_name(const char *name)
{
	return name[0] == '.' || strstr(name, PITR_FSUTIL_TMP_PREFIX) != NULL;
}

/* ---- loading ---- */

/* Add the location `spec` names to *dirs and its store to *stores.
 * Returns the store, or NULL after logging. */
static struct pitr_store *
push_dir(char ***dirs, struct pitr_store ***stores, size_t *n, const char *spec,
	 const struct pitr_s3_config *s3, const char *role)
{
	const char *dir = pitr_catalog_dir(spec);
	char **grown = pitr_xreallocarray(*dirs, *n + 1, sizeof(*grown));
	struct pitr_store **more;

	if (grown == NULL)
		return NULL;
	*dirs = grown;
	if ((more = pitr_xreallocarray(*stores, *n + 1, sizeof(*more))) == NULL)
		return NULL;
	*stores = more;
	if (s3 == NULL && pitr_s3_is_url(dir)) {
		pitr_log_error("cannot read %s \"%s\": this program does not read object stores",
			       role, dir);
		return NULL;
	}
	if ((grown[*n] = pitr_xstrdup(dir)) == NULL)
		return NULL;
	if ((more[*n] = pitr_store_new(dir, s3, role)) == NULL) {
		free(grown[*n]);
		return NULL;
	}
	return more[(*n)++];
}

/* The problem an archive with segments but no known segment size gets. */
static int
segsize_problem(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nfiles; i++)
		if (cat->files[i].name.kind == PITR_WAL_SEGMENT)
			return pitr_catalog_add_problem(cat,
							"the segment size is unknown (no backup states it, no "
							"archived segment has a valid header): segments are not "
							"counted");
	return 0;
}

int
pitr_catalog_load_many(const char *const *backup_dirs, size_t nbackup_dirs,
		       const char *const *archive_dirs, size_t narchive_dirs,
		       const struct pitr_s3_config *s3, struct pitr_catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
	for (size_t i = 0; i < nbackup_dirs; i++) {
		struct pitr_store *st = push_dir(&cat->backup_dirs, &cat->backup_stores,
						 &cat->nbackup_dirs, backup_dirs[i], s3,
						 "backup dir");

		if (st == NULL || pitr_catalog_load_backups(cat, st) != 0)
			goto fail;
	}
	for (size_t i = 0; i < narchive_dirs; i++) {
		struct pitr_store *st = push_dir(&cat->archive_dirs, &cat->archive_stores,
						 &cat->narchive_dirs, archive_dirs[i], s3,
						 "archive dir");

		if (st == NULL || pitr_catalog_load_archive(cat, st) != 0)
			goto fail;
	}
	if (pitr_catalog_settle_segsize(cat) != 0)
		goto fail;
	if (narchive_dirs > 0 && cat->segsize == 0 && segsize_problem(cat) != 0)
		goto fail;
	if (narchive_dirs > 0 && (pitr_catalog_drop_misfits(cat) != 0 || pitr_catalog_build_timelines(cat) != 0))
		goto fail;
	return 0;
fail:
	pitr_catalog_free(cat);
	return -1;
}

int
pitr_catalog_load(const char *backup_dir, const char *archive_dir,
		  const struct pitr_s3_config *s3, struct pitr_catalog *cat)
{
	return pitr_catalog_load_many(&backup_dir, backup_dir != NULL ? 1 : 0, &archive_dir,
				      archive_dir != NULL ? 1 : 0, s3, cat);
}

/* The record of archive `st`: as pitr_sysid_read() returns. */
static int
read_sysid(struct pitr_store *st, uint64_t *sysid)
{
	const char *dir = pitr_store_dir(st), *prefix;
	struct pitr_s3 *client;

	if (dir != NULL)
		return pitr_sysid_read(dir, sysid);
	if (pitr_store_s3(st, &client, &prefix) != 0)
		return -1;
	return pitr_sysid_read_s3(client, prefix, sysid);
}

int
pitr_catalog_archive_sysid(const struct pitr_catalog *cat, size_t archive, uint64_t *sysid)
{
	struct pitr_store *st = cat->archive_stores[archive];
	int r = read_sysid(st, sysid);

	if (r != 1)
		return r;
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		struct pitr_walhdr h;

		if (f->archive == archive && f->name.kind == PITR_WAL_SEGMENT &&
		    pitr_catalog_read_header(st, f, &h)) {
			*sysid = h.sysid;
			return 0;
		}
	}
	return 1;
}

void
pitr_catalog_free(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nbackups; i++)
		pitr_catalog_backup_free(&cat->backups[i]);
	free(cat->backups);
	for (size_t i = 0; i < cat->nremnants; i++)
		pitr_catalog_backup_free(&cat->remnants[i]);
	free(cat->remnants);
	for (size_t i = 0; i < cat->nfiles; i++)
		free(cat->files[i].file);
	free(cat->files);
	for (size_t i = 0; i < cat->ntimelines; i++) {
		free(cat->timelines[i].ancestry);
		free(cat->timelines[i].gaps);
	}
	free(cat->timelines);
	for (size_t i = 0; i < cat->norphans; i++)
		free(cat->orphans[i]);
	free(cat->orphans);
	free(cat->orphan_dirs);
	for (size_t i = 0; i < cat->nin_progress; i++) {
		free(cat->in_progress[i].name);
		for (size_t f = 0; f < cat->in_progress[i].nfiles; f++)
			free(cat->in_progress[i].files[f]);
		free(cat->in_progress[i].files);
	}
	free(cat->in_progress);
	for (size_t i = 0; i < cat->nproblems; i++)
		free(cat->problems[i]);
	free(cat->problems);
	for (size_t i = 0; i < cat->nbackup_dirs; i++) {
		free(cat->backup_dirs[i]);
		pitr_store_free(cat->backup_stores[i]);
	}
	free(cat->backup_dirs);
	free(cat->backup_stores);
	for (size_t i = 0; i < cat->narchive_dirs; i++) {
		free(cat->archive_dirs[i]);
		pitr_store_free(cat->archive_stores[i]);
	}
	free(cat->archive_dirs);
	free(cat->archive_stores);
	memset(cat, 0, sizeof(*cat));
}

const struct pitr_catalog_timeline *
pitr_catalog_timeline(const struct pitr_catalog *cat, uint32_t tli)
{
	for (size_t i = 0; i < cat->ntimelines; i++)
		if (cat->timelines[i].tli == tli)
			return &cat->timelines[i];
	return NULL;
}

