/*
 * catalog.c - the backups of a backup dir and the WAL of an archive, read
 * once into one structure every recovery-side program shares (see
 * catalog.h).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/catalog.h"
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

static int
add_problem(struct pitr_catalog *cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
add_problem(struct pitr_catalog *cat, const char *fmt, ...)
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
 * Decompress at most `max` bytes of `path` into a NUL-terminated buffer.
 * Returns 0 with *text (NULL when the content is longer than `max` or holds
 * NUL bytes: not the text file looked for), -1 with `reason` set when the
 * file cannot be opened or decompressed (the codec's reason included, and
 * not logged: the caller's problem line is the one report), or -2 after
 * logging a failed allocation.
 */
static int
read_text(const char *path, enum pitr_codec codec, size_t max, char **text, char *reason,
	  size_t reason_size)
{
	struct pitr_codec_reader *r = NULL;
	char *buf = pitr_xmalloc(max + 1);
	char why[256] = "";
	size_t len = 0;
	int fd = -1, rc = -1;

	*text = NULL;
	if (buf == NULL)
		return -2;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(reason, reason_size, "cannot open: %s", strerror(errno));
		goto out;
	}
	/* The reason goes into the one problem line, not into the log too. */
	if ((r = pitr_codec_reader_new_quiet(codec, fd, path, why, sizeof(why))) == NULL) {
		snprintf(reason, reason_size, "cannot read it as %s: %s", pitr_codec_name(codec), why);
		goto out;
	}
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, buf + len, max + 1 - len);

		if (n < 0) {
			snprintf(reason, reason_size, "cannot read it as %s: %s", pitr_codec_name(codec),
				 why);
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
	rc = 0;
	if (memchr(buf, '\0', len) == NULL) {
		*text = buf;
		buf = NULL;
	}
out:
	pitr_codec_reader_free(r);
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static bool
is_regular(const char *dir, const char *name)
{
	char *p = pitr_fsutil_join(dir, name);
	struct stat st;
	bool ok = p != NULL && stat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return ok;
}

/* ---- directory listing ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Entry names of `dir` except "." and "..", sorted, so that every run and
 * every program sees backups, files and problems in one order. */
static int
list_dir(const char *dir, const char *role, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **list = NULL;
	size_t count = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL) {
		pitr_log_error("cannot read %s \"%s\": %s", role, dir, strerror(errno));
		return -1;
	}
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		char **grown;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((grown = pitr_xreallocarray(list, count + 1, sizeof(*grown))) == NULL ||
		    (grown[count] = pitr_xstrdup(de->d_name)) == NULL) {
			if (grown != NULL)
				list = grown;
			free_names(list, count);
			closedir(d);
			return -1;
		}
		list = grown;
		count++;
	}
	if (errno != 0) {
		pitr_log_error("cannot read %s \"%s\": %s", role, dir, strerror(errno));
		free_names(list, count);
		closedir(d);
		return -1;
	}
	closedir(d);
	if (count > 0)
		qsort(list, count, sizeof(*list), cmp_str);
	*names = list;
	*n = count;
	return 0;
}

/* Temporary files of pitrkit's publish and hidden files are never what
 * anyone archived or backed up. */
static bool
ignored_name(const char *name)
{
	return name[0] == '.' || strstr(name, PITR_FSUTIL_TMP_PREFIX) != NULL;
}

/* ---- backups ---- */

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
digest_name(const char *dir, const char *name, size_t at, const char *algorithm)
{
	char *file = sibling_name(name, at, algorithm, false);
	char *old;

	if (file == NULL || is_regular(dir, file))
		return file;
	if ((old = sibling_name(name, at, algorithm, true)) == NULL) {
		free(file);
		return NULL;
	}
	if (strcmp(old, file) != 0 && is_regular(dir, old)) {
		free(file);
		return old;
	}
	free(old);
	return file;
}

/* The "meta" in `name` whose "data" sibling exists, or -1. */
static long
meta_position(const char *dir, const char *name)
{
	for (const char *p = strstr(name, "meta"); p != NULL; p = strstr(p + 1, "meta")) {
		char *data = sibling_name(name, (size_t)(p - name), "data", false);
		bool found = data != NULL && is_regular(dir, data);

		free(data);
		if (found)
			return (long)(p - name);
	}
	return -1;
}

static void
backup_free(struct pitr_catalog_backup *b)
{
	pitr_meta_clear(b);
	free(b->name);
	free(b->meta_file);
	free(b->data_file);
	free(b->xlog_file);
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

/* Fill the directory-given fields of a parsed backup; problems for the
 * files it lacks.  Returns 0; 2 for a remnant (no data file: problem
 * listed, data_file NULL, xlog_file and digest files set only where they
 * exist); -1 on ENOMEM. */
static int
backup_files(struct pitr_catalog *cat, const char *dir, const char *name, const char *path,
	     struct pitr_catalog_backup *b)
{
	long at = meta_position(dir, name);
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
	    (b->xlog_file = sibling_name(name, (size_t)at, "xlog", false)) == NULL)
		return -1;
	if (remnant) {
		/* What a removal killed half way leaves: its other files, the
		 * meta last, for pitr-backup-cleanup to finish. */
		if (add_problem(cat, "meta file \"%s\": its data file \"%s\" is missing", path,
				b->data_file) != 0)
			return -1;
		free(b->data_file);
		b->data_file = NULL;
	}
	if (!is_regular(dir, b->xlog_file)) {
		/* --skip-xlogs writes no xlog tarball and says so by its size. */
		if (!remnant && b->xlog_size > 0 &&
		    add_problem(cat, "meta file \"%s\": its xlog file \"%s\" is missing", path,
				b->xlog_file) != 0)
			return -1;
		free(b->xlog_file);
		b->xlog_file = NULL;
	}
	for (size_t i = 0; i < b->ndigests; i++) {
		struct pitr_catalog_digest *d = &b->digests[i];

		if ((d->file = digest_name(dir, name, (size_t)at, d->algorithm)) == NULL)
			return -1;
		if (is_regular(dir, d->file))
			continue;
		if (remnant) {
			free(d->file);
			d->file = NULL;
		} else if (add_problem(cat, "meta file \"%s\": its %s digest file \"%s\" is missing",
				       path, d->algorithm, d->file) != 0) {
			return -1;
		}
	}
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
		    (b->xlog_file && strcmp(name, b->xlog_file) == 0))
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
load_meta(struct pitr_catalog *cat, const char *dir, const char *name)
{
	struct pitr_catalog_backup b = { 0 };
	char reason[512], what[4200], err[4600], *path, *text = NULL;
	size_t stem;
	int r;

	if ((path = pitr_fsutil_join(dir, name)) == NULL)
		return -1;
	r = read_text(path, pitr_codec_from_filename(name, &stem), PITR_META_MAX, &text, reason,
		      sizeof(reason));
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
		return r == -2 ? -1 : add_problem(cat, "%s", err);
	}
	r = backup_files(cat, dir, name, path, &b);
	free(path);
	if (r >= 0 && append_backup(cat, r == 2, &b) == 0)
		return 0;
	backup_free(&b);
	return -1;
}

/* A file with "meta" in its name but no meta text, not one of a backup's
 * files.  Unreadable: maybe a damaged meta file.  Readable: a problem
 * only when it sits where a backup's meta file would (its data file
 * exists).  Returns 0, or -1 after logging. */
static int
judge_other(struct pitr_catalog *cat, const char *dir, const char *name)
{
	char reason[512], *path, *text = NULL;
	size_t stem;
	int r;

	if (is_backup_file(cat, name))
		return 0;
	if ((path = pitr_fsutil_join(dir, name)) == NULL)
		return -1;
	r = read_text(path, pitr_codec_from_filename(name, &stem), PITR_META_MAX, &text, reason,
		      sizeof(reason));
	free(text);
	if (r == -2)
		r = -1;
	else if (r != 0)
		r = add_problem(cat, "meta file \"%s\": %s", path, reason);
	else if (meta_position(dir, name) >= 0)
		r = add_problem(cat, "meta file \"%s\": not a pitrkit meta file", path);
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

/* A backup's files at their final names without its meta file: what a
 * run killed while publishing left (the meta is published last), never a
 * backup.  Listed in cat->orphans and in one problem line. */
static int
find_orphans(struct pitr_catalog *cat, const char *dir, char **names, size_t n)
{
	char *line = NULL;

	for (size_t i = 0; i < n; i++) {
		char **grown, *more;

		if (is_backup_file(cat, names[i]) || is_meta_file(cat, names[i]) ||
		    !pitr_orphan_loose(dir, names[i]))
			continue;
		grown = pitr_xreallocarray(cat->orphans, cat->norphans + 1, sizeof(*grown));
		if (grown == NULL)
			goto fail;
		cat->orphans = grown;
		if ((cat->orphans[cat->norphans] = pitr_xstrdup(names[i])) == NULL)
			goto fail;
		cat->norphans++;
		more = pitr_xasprintf("%s%s\"%s\"", line ? line : "", line ? ", " : "", names[i]);
		free(line);
		if ((line = more) == NULL)
			goto fail;
	}
	if (line != NULL && add_problem(cat, "orphan backup files without meta in \"%s\": %s, left by "
					"an interrupted backup", dir, line) != 0)
		goto fail;
	free(line);
	return 0;
fail:
	free(line);
	return -1;
}

static bool
is_orphan_listed(const struct pitr_catalog *cat, const char *name)
{
	for (size_t i = 0; i < cat->norphans; i++)
		if (strcmp(cat->orphans[i], name) == 0)
			return true;
	return false;
}

static int
load_backups(struct pitr_catalog *cat, const char *dir)
{
	char **names = NULL, **other = NULL;
	size_t n = 0, nother = 0;
	int rc = -1;

	if (list_dir(dir, "backup dir", &names, &n) != 0)
		return -1;
	/* Other files with "meta" in their name (a host called "metabox"
	 * makes every file of its backups one) are judged once the backups
	 * are known: their data and xlog files are no problem. */
	if ((other = pitr_xcalloc(n + 1, sizeof(*other))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int r;

		if (ignored_name(names[i]) || strstr(names[i], "meta") == NULL ||
		    !is_regular(dir, names[i]))
			continue;
		if ((r = load_meta(cat, dir, names[i])) < 0)
			goto out;
		if (r == 1)
			other[nother++] = names[i];
	}
	if (find_orphans(cat, dir, names, n) != 0)
		goto out;
	for (size_t i = 0; i < nother; i++)
		if (!is_orphan_listed(cat, other[i]) && judge_other(cat, dir, other[i]) != 0)
			goto out;
	if (cat->nbackups > 1)
		qsort(cat->backups, cat->nbackups, sizeof(*cat->backups), cmp_backup);
	if (cat->nremnants > 1)
		qsort(cat->remnants, cat->nremnants, sizeof(*cat->remnants), cmp_backup);
	rc = 0;
out:
	free(other);
	free_names(names, n);
	return rc;
}

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

static int
load_archive(struct pitr_catalog *cat, const char *dir)
{
	char **names = NULL;
	size_t n = 0;
	int rc = -1;

	if (list_dir(dir, "archive dir", &names, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct pitr_catalog_file f = { 0 };
		char stem[PITR_WAL_NAME_MAX], *path;
		size_t stem_len;
		struct stat st;
		int r = 0;

		if (ignored_name(names[i]))
			continue;
		f.codec = pitr_codec_from_filename(names[i], &stem_len);
		if (stem_len >= sizeof(stem) ||
		    (memcpy(stem, names[i], stem_len), stem[stem_len] = '\0',
		     pitr_wal_parse(stem, &f.name) == PITR_WAL_NONE)) {
			if (named_like_wal(names[i]) &&
			    add_problem(cat, "archive file \"%s/%s\" is named like a WAL file but is not one",
					dir, names[i]) != 0)
				goto out;
			continue;
		}
		if ((path = pitr_fsutil_join(dir, names[i])) == NULL)
			goto out;
		if (stat(path, &st) != 0)
			r = add_problem(cat, "archive file \"%s\": %s", path, strerror(errno));
		else if (!S_ISREG(st.st_mode))
			r = add_problem(cat, "archive file \"%s\" is not a regular file", path);
		free(path);
		if (r != 0)
			goto out;
		if (!S_ISREG(st.st_mode))
			continue;
		{
			struct pitr_catalog_file *grown =
				pitr_xreallocarray(cat->files, cat->nfiles + 1, sizeof(*grown));

			if (grown == NULL)
				goto out;
			cat->files = grown;
		}
		f.file = names[i];
		f.archive = cat->narchive_dirs - 1;
		names[i] = NULL;
		f.size = (uint64_t)st.st_size;
		f.mtime = st.st_mtime;
		cat->files[cat->nfiles++] = f;
	}
	if (cat->nfiles > 1)
		qsort(cat->files, cat->nfiles, sizeof(*cat->files), cmp_file);
	rc = 0;
out:
	free_names(names, n);
	return rc;
}

/* Read a segment's first page header into *hp: true when it is one of a
 * segment of that name (its segment size then in h->seg_size). */
static bool
read_header(const char *dir, const struct pitr_catalog_file *f, struct pitr_walhdr *hp)
{
	unsigned char buf[PITR_WALHDR_SIZE];
	struct pitr_codec_reader *r = NULL;
	struct pitr_walhdr h;
	size_t len = 0;
	bool out = false;
	char *path = pitr_fsutil_join(dir, f->file);
	int fd = -1;

	if (path == NULL)
		return false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (r = pitr_codec_reader_new(f->codec, fd, path)) == NULL)
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
	if (fd >= 0)
		close(fd);
	free(path);
	return out;
}

/* The segment size the header of f states; 0 when it states none. */
static uint32_t
header_segsize(const struct pitr_catalog *cat, const struct pitr_catalog_file *f)
{
	struct pitr_walhdr h;

	return read_header(cat->archive_dirs[f->archive], f, &h) ? h.seg_size : 0;
}

static int
settle_segsize(struct pitr_catalog *cat)
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
			   add_problem(cat, "backup \"%s\" has wal_segment_size %" PRIu32
				       ", backup \"%s\" %" PRIu32, b->name, b->segsize, first->name,
				       first->segsize) != 0) {
			return -1;
		}
	}
	for (size_t i = 0; cat->segsize == 0 && i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];

		if (f->name.kind != PITR_WAL_SEGMENT)
			continue;
		cat->segsize = header_segsize(cat, f);
		if (cat->segsize == 0 &&
		    add_problem(cat, "archive file \"%s/%s\": no valid WAL page header to learn the "
				"segment size from", cat->archive_dirs[f->archive], f->file) != 0)
			return -1;
	}
	for (size_t i = 0; i < cat->nbackups; i++)
		if (cat->backups[i].segsize == 0)
			cat->backups[i].segsize = cat->segsize;
	return 0;
}

/* Drop segment names that cannot exist with this segment size (last
 * eight digits too large). */
static int
drop_misfits(struct pitr_catalog *cat)
{
	size_t keep = 0;

	for (size_t i = 0; i < cat->nfiles; i++) {
		struct pitr_catalog_file *f = &cat->files[i];

		if (cat->segsize != 0 && !pitr_wal_name_fits(&f->name, cat->segsize)) {
			int r = add_problem(cat, "archive file \"%s/%s\" is named like a WAL file but "
					    "cannot be one with %" PRIu32 "-byte segments",
					    cat->archive_dirs[f->archive], f->file,
					    cat->segsize);

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
read_history(struct pitr_catalog *cat, const char *dir, const struct pitr_catalog_file *f,
	     struct pitr_catalog_timeline *t)
{
	char reason[512], *path, *text = NULL;
	int r = 0;

	if (t->has_history)
		return 0;   /* the same history under a second codec */
	if ((path = pitr_fsutil_join(dir, f->file)) == NULL)
		return -1;
	r = read_text(path, f->codec, PITR_TIMELINE_HISTORY_MAX, &text, reason, sizeof(reason));
	if (r == -2)
		r = -1;
	else if (r != 0)
		r = add_problem(cat, "history file \"%s\": %s", path, reason);
	else if (text == NULL ||
		 pitr_timeline_parse_history(text, &t->ancestry, &t->nancestry) != 0)
		r = add_problem(cat, "history file \"%s\": not a valid timeline history", path);
	else if (!pitr_timeline_history_fits(t->tli, t->ancestry, t->nancestry)) {
		r = add_problem(cat, "history file \"%s\": not a valid history of timeline %" PRIu32,
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

static int
build_timelines(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		struct pitr_catalog_timeline *t = timeline_add(cat, f->name.tli);
		uint64_t segno;

		if (t == NULL)
			return -1;
		if (f->name.kind == PITR_WAL_HISTORY) {
			if (read_history(cat, cat->archive_dirs[f->archive], f, t) != 0)
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
		    add_problem(cat, "timeline %" PRIu32 " has no valid history file in the archive",
				t->tli) != 0)
			return -1;
	}
	return 0;
}

/* Add the dir `spec` names to *dirs.  Returns it, or NULL on ENOMEM. */
static const char *
push_dir(char ***dirs, size_t *n, const char *spec)
{
	char **grown = pitr_xreallocarray(*dirs, *n + 1, sizeof(*grown));

	if (grown == NULL)
		return NULL;
	*dirs = grown;
	if ((grown[*n] = pitr_xstrdup(pitr_catalog_dir(spec))) == NULL)
		return NULL;
	return grown[(*n)++];
}

/* The problem an archive with segments but no known segment size gets. */
static int
segsize_problem(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nfiles; i++)
		if (cat->files[i].name.kind == PITR_WAL_SEGMENT)
			return add_problem(cat, "the segment size is unknown (no backup states it, no "
					   "archived segment has a valid header): segments are not "
					   "counted");
	return 0;
}

int
pitr_catalog_load_many(const char *const *backup_dirs, size_t nbackup_dirs,
		       const char *const *archive_dirs, size_t narchive_dirs,
		       struct pitr_catalog *cat)
{
	memset(cat, 0, sizeof(*cat));
	for (size_t i = 0; i < nbackup_dirs; i++) {
		const char *dir = push_dir(&cat->backup_dirs, &cat->nbackup_dirs, backup_dirs[i]);

		if (dir == NULL || load_backups(cat, dir) != 0)
			goto fail;
	}
	for (size_t i = 0; i < narchive_dirs; i++) {
		const char *dir = push_dir(&cat->archive_dirs, &cat->narchive_dirs, archive_dirs[i]);

		if (dir == NULL || load_archive(cat, dir) != 0)
			goto fail;
	}
	if (settle_segsize(cat) != 0)
		goto fail;
	if (narchive_dirs > 0 && cat->segsize == 0 && segsize_problem(cat) != 0)
		goto fail;
	if (narchive_dirs > 0 && (drop_misfits(cat) != 0 || build_timelines(cat) != 0))
		goto fail;
	return 0;
fail:
	pitr_catalog_free(cat);
	return -1;
}

int
pitr_catalog_load(const char *backup_dir, const char *archive_dir, struct pitr_catalog *cat)
{
	return pitr_catalog_load_many(&backup_dir, backup_dir != NULL ? 1 : 0, &archive_dir,
				      archive_dir != NULL ? 1 : 0, cat);
}

int
pitr_catalog_archive_sysid(const struct pitr_catalog *cat, size_t archive, uint64_t *sysid)
{
	int r = pitr_sysid_read(cat->archive_dirs[archive], sysid);

	if (r != 1)
		return r;
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		struct pitr_walhdr h;

		if (f->archive == archive && f->name.kind == PITR_WAL_SEGMENT &&
		    read_header(cat->archive_dirs[archive], f, &h)) {
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
		backup_free(&cat->backups[i]);
	free(cat->backups);
	for (size_t i = 0; i < cat->nremnants; i++)
		backup_free(&cat->remnants[i]);
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
	for (size_t i = 0; i < cat->nproblems; i++)
		free(cat->problems[i]);
	free(cat->problems);
	for (size_t i = 0; i < cat->nbackup_dirs; i++)
		free(cat->backup_dirs[i]);
	free(cat->backup_dirs);
	for (size_t i = 0; i < cat->narchive_dirs; i++)
		free(cat->archive_dirs[i]);
	free(cat->archive_dirs);
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
