/*
 * catalog_wal.c - the catalog's archive: WAL files, the segment size,
 * timelines with their history and gaps (see catalog.h).
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

/* ---- the archive ---- */

static int
cmp_file(const void *pa, const void *pb)
{
	const struct pitr_catalog_file *a = pa, *b = pb;
	int c;

	if (a->name.tli != b->name.tli)
		return a->name.tli < b->name.tli ? -1 : 1;
	if ((c = pitr_wal_cmp_position(&a->name, &b->name)) != 0)
		return c;
	if (a->name.kind != b->name.kind)
		return a->name.kind == PITR_WAL_HISTORY ? -1 : 1;
	/* The first archive given serves a segment several hold. */
	if (a->archive != b->archive)
		return a->archive < b->archive ? -1 : 1;
	return strcmp(a->file, b->file);
}

/* Starts like a WAL name ("0000000", any case) but is not one: a renamed
 * or half-copied segment someone should look at. */
static bool
named_like_wal(const char *name)
{
	for (int i = 0; i < 8; i++)
		if (!isxdigit((unsigned char)name[i]))
			return false;
	return true;
}

/* Archive entry e, named like WAL as f->name says, added to cat's
 * files; or the problem that it is no regular file listed.  Returns 0, or
 * -1 after logging. */
static int
add_file(struct pitr_catalog *cat, struct pitr_store *st, const struct pitr_store_entry *e,
	 struct pitr_catalog_file *f)
{
	struct pitr_catalog_file *grown;

	if (e->error != 0 || !e->regular) {
		char *path = pitr_store_path(st, e->name);
		int r = path == NULL ? -1 :
			e->error != 0 ?
			pitr_catalog_add_problem(cat, "archive file \"%s\": %s", path,
						 strerror(e->error)) :
			pitr_catalog_add_problem(cat, "archive file \"%s\" is not a regular file",
						 path);

		free(path);
		return r;
	}
	if ((grown = pitr_xreallocarray(cat->files, cat->nfiles + 1, sizeof(*grown))) == NULL)
		return -1;
	cat->files = grown;
	if ((f->file = pitr_xstrdup(e->name)) == NULL)
		return -1;
	f->archive = cat->narchive_dirs - 1;
	f->size = e->size;
	f->mtime = e->mtime;
	cat->files[cat->nfiles++] = *f;
	return 0;
}

/* One entry of the archive; 0, or -1 after logging. */
static int
load_entry(struct pitr_catalog *cat, struct pitr_store *st, const struct pitr_store_entry *e)
{
	struct pitr_catalog_file f = { 0 };
	char stem[PITR_WAL_NAME_MAX];
	size_t stem_len;

	if (pitr_catalog_ignored_name(e->name))
		return 0;
	f.codec = pitr_codec_from_filename(e->name, &stem_len);
	if (stem_len < sizeof(stem)) {
		memcpy(stem, e->name, stem_len);
		stem[stem_len] = '\0';
		if (pitr_wal_parse(stem, &f.name) != PITR_WAL_NONE)
			return add_file(cat, st, e, &f);
	}
	if (named_like_wal(e->name)) {
		char *path = pitr_store_path(st, e->name);
		int r = path == NULL ? -1 :
			pitr_catalog_add_problem(cat, "archive file \"%s\" is named like a WAL file "
						 "but is not one", path);

		free(path);
		return r;
	}
	return 0;
}

int
pitr_catalog_load_archive(struct pitr_catalog *cat, struct pitr_store *st)
{
	struct pitr_store_listing l;
	int rc = 0;

	if (pitr_store_listing(st, &l) != 0)
		return -1;
	for (size_t i = 0; i < l.n && rc == 0; i++)
		rc = load_entry(cat, st, &l.entries[i]);
	pitr_store_listing_free(&l);
	if (rc == 0 && cat->nfiles > 1)
		qsort(cat->files, cat->nfiles, sizeof(*cat->files), cmp_file);
	return rc;
}

/* Read a segment's first page header into *hp: true when it is one of a
 * segment of that name (its segment size then in h->seg_size).  Only the
 * header is read: the rest of the segment is left unread. */
bool
pitr_catalog_read_header(struct pitr_store *st, const struct pitr_catalog_file *f,
			 struct pitr_walhdr *hp)
{
	unsigned char buf[PITR_WALHDR_SIZE];
	struct pitr_codec_reader *r = NULL;
	struct pitr_walhdr h;
	size_t len = 0;
	bool out = false;
	char *path = pitr_store_path(st, f->file), why[512];
	int fd = -1;

	if (path == NULL)
		return false;
	/* A failure to read is the problem "no valid WAL page header", not a
	 * line of its own. */
	if ((fd = pitr_store_read_begin(st, f->file, why, sizeof(why))) < 0 ||
	    (r = pitr_codec_reader_new_quiet(f->codec, fd, path, why, sizeof(why))) == NULL)
		goto out;
	while (len < sizeof(buf)) {
		ssize_t n = pitr_codec_reader_read(r, buf + len, sizeof(buf) - len);

		if (n <= 0)
			goto out;
		len += (size_t)n;
	}
	if (pitr_walhdr_decode(buf, len, &h) == 0 && pitr_walhdr_version(h.magic) != NULL &&
	    (h.info & PITR_WALHDR_XLP_LONG_HEADER) && pitr_wal_segsize_valid(h.seg_size) &&
	    pitr_wal_name_fits(&f->name, h.seg_size) &&
	    h.pageaddr == pitr_wal_start_lsn(&f->name, h.seg_size)) {
		*hp = h;
		out = true;
	}
out:
	pitr_codec_reader_free(r);
	if (fd >= 0 && pitr_store_read_end(st, fd, PITR_STORE_READ_EARLY, why, sizeof(why)) != 0)
		out = false;   /* the bytes read may be what the store got wrong */
	free(path);
	return out;
}

/* "DIR/FILE" of f, for problems; NULL after logging. */
static char *
file_path(const struct pitr_catalog *cat, const struct pitr_catalog_file *f)
{
	return pitr_store_path(cat->archive_stores[f->archive], f->file);
}

/* The segment size the header of f states; 0 when it states none. */
static uint32_t
header_segsize(const struct pitr_catalog *cat, const struct pitr_catalog_file *f)
{
	struct pitr_walhdr h;

	return pitr_catalog_read_header(cat->archive_stores[f->archive], f, &h) ? h.seg_size : 0;
}

int
pitr_catalog_settle_segsize(struct pitr_catalog *cat)
{
	const struct pitr_catalog_backup *first = NULL;

	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (b->segsize == 0)
			continue;
		if (first == NULL) {
			first = b;
			cat->segsize = b->segsize;
		} else if (b->segsize != first->segsize &&
			   pitr_catalog_add_problem(cat,
						    "backup \"%s\" has wal_segment_size %" PRIu32
						    ", backup \"%s\" %" PRIu32, b->name, b->segsize, first->name,
						    first->segsize) != 0) {
			return -1;
		}
	}
	for (size_t i = 0; cat->segsize == 0 && i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		char *path;
		int r;

		if (f->name.kind != PITR_WAL_SEGMENT || (cat->segsize = header_segsize(cat, f)) != 0)
			continue;
		if ((path = file_path(cat, f)) == NULL)
			return -1;
		r = pitr_catalog_add_problem(cat, "archive file \"%s\": no valid WAL page header to "
					     "learn the segment size from", path);
		free(path);
		if (r != 0)
			return -1;
	}
	for (size_t i = 0; i < cat->nbackups; i++)
		if (cat->backups[i].segsize == 0)
			cat->backups[i].segsize = cat->segsize;
	return 0;
}

/* Drop segment names that cannot exist with this segment size (last
 * eight digits too large). */
int
pitr_catalog_drop_misfits(struct pitr_catalog *cat)
{
	size_t keep = 0;

	for (size_t i = 0; i < cat->nfiles; i++) {
		struct pitr_catalog_file *f = &cat->files[i];

		if (cat->segsize != 0 && !pitr_wal_name_fits(&f->name, cat->segsize)) {
			char *path = file_path(cat, f);
			int r = path == NULL ? -1 :
				pitr_catalog_add_problem(cat, "archive file \"%s\" is named like a WAL "
							 "file but cannot be one with %" PRIu32
							 "-byte segments", path, cat->segsize);

			free(path);

			free(f->file);
			if (r != 0) {
				for (size_t j = i + 1; j < cat->nfiles; j++)
					cat->files[keep++] = cat->files[j];
				cat->nfiles = keep;
				return -1;
			}
			continue;
		}
		cat->files[keep++] = *f;
	}
	cat->nfiles = keep;
	return 0;
}

static struct pitr_catalog_timeline *
timeline_add(struct pitr_catalog *cat, uint32_t tli)
{
	struct pitr_catalog_timeline *grown;

	if (cat->ntimelines > 0 && cat->timelines[cat->ntimelines - 1].tli == tli)
		return &cat->timelines[cat->ntimelines - 1];
	grown = pitr_xreallocarray(cat->timelines, cat->ntimelines + 1, sizeof(*grown));
	if (grown == NULL)
		return NULL;
	cat->timelines = grown;
	memset(&grown[cat->ntimelines], 0, sizeof(*grown));
	grown[cat->ntimelines].tli = tli;
	return &grown[cat->ntimelines++];
}

static int
add_gap(struct pitr_catalog_timeline *t, uint64_t first, uint64_t last)
{
	struct pitr_catalog_gap *grown = pitr_xreallocarray(t->gaps, t->ngaps + 1, sizeof(*grown));

	if (grown == NULL)
		return -1;
	t->gaps = grown;
	t->gaps[t->ngaps].first = first;
	t->gaps[t->ngaps].last = last;
	t->ngaps++;
	return 0;
}

static int
read_history(struct pitr_catalog *cat, struct pitr_store *st, const struct pitr_catalog_file *f,
	     struct pitr_catalog_timeline *t)
{
	char reason[512], *path, *text = NULL;
	int r = 0;

	if (t->has_history)
		return 0;   /* the same history under a second codec */
	if ((path = pitr_store_path(st, f->file)) == NULL)
		return -1;
	r = pitr_catalog_read_text(st, f->file, f->codec, PITR_TIMELINE_HISTORY_MAX, &text,
				   reason, sizeof(reason));
	if (r == -2)
		r = -1;
	else if (r != 0)
		r = pitr_catalog_add_problem(cat, "history file \"%s\": %s", path, reason);
	else if (text == NULL ||
		 pitr_timeline_parse_history(text, &t->ancestry, &t->nancestry) != 0)
		r = pitr_catalog_add_problem(cat,
					     "history file \"%s\": not a valid timeline history", path);
	else if (!pitr_timeline_history_fits(t->tli, t->ancestry, t->nancestry)) {
		r = pitr_catalog_add_problem(cat,
					     "history file \"%s\": not a valid history of timeline %" PRIu32,
					     path, t->tli);
		free(t->ancestry);
		t->ancestry = NULL;
		t->nancestry = 0;
	} else {
		t->has_history = true;
	}
	free(text);
	free(path);
	return r;
}

int
pitr_catalog_build_timelines(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		struct pitr_catalog_timeline *t = timeline_add(cat, f->name.tli);
		uint64_t segno;

		if (t == NULL)
			return -1;
		t->stored_size += f->size;
		if (f->name.kind == PITR_WAL_HISTORY) {
			if (read_history(cat, cat->archive_stores[f->archive], f, t) != 0)
				return -1;
			continue;
		}
		if (f->name.kind != PITR_WAL_SEGMENT || cat->segsize == 0)
			continue;
		segno = pitr_wal_segno(&f->name, cat->segsize);
		if (t->nsegments == 0) {
			t->first = t->last = segno;
			t->nsegments = 1;
		} else if (segno != t->last) {   /* equal: the same segment under another codec */
			if (segno > t->last + 1 && add_gap(t, t->last + 1, segno - 1) != 0)
				return -1;
			t->last = segno;
			t->nsegments++;
		}
	}
	for (size_t i = 0; i < cat->ntimelines; i++) {
		const struct pitr_catalog_timeline *t = &cat->timelines[i];

		/* Recovery into or across this timeline needs its history;
		 * PostgreSQL archives it at promotion. */
		if (t->tli > 1 && !t->has_history &&
		    pitr_catalog_add_problem(cat,
					     "timeline %" PRIu32 " has no valid history file in the archive",
					     t->tli) != 0)
			return -1;
	}
	return 0;
}
