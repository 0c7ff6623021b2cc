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
 * Decompress at most `max` bytes of `path` into a NUL-terminated buffer.
 * Returns 0 with *text (NULL when the content is longer than `max` or holds
 * NUL bytes: not the text file looked for), -1 with `reason` set when the
 * file cannot be opened or decompressed (the codec's reason included, and
 * not logged: the caller's problem line is the one report), or -2 after
 * logging a failed allocation.
 */
int
pitr_catalog_read_text(const char *path, enum pitr_codec codec, size_t max, char **text,
		       char *reason,
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
		snprintf(reason, reason_size, "cannot read it as %s: %s", pitr_codec_name(codec),
			 why);
		goto out;
	}
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, buf + len, max + 1 - len);

		if (n < 0) {
			snprintf(reason, reason_size, "cannot read it as %s: %s",
				 pitr_codec_name(codec),
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

bool
pitr_catalog_is_regular(const char *dir, const char *name)
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

void
pitr_catalog_free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Entry names of `dir` except "." and "..", sorted, so that every run and
 * every program sees backups, files and problems in one order. */
int
pitr_catalog_list_dir(const char *dir, const char *role, char ***names, size_t *n)
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
			pitr_catalog_free_names(list, count);
			closedir(d);
			return -1;
		}
		list = grown;
		count++;
	}
	if (errno != 0) {
		pitr_log_error("cannot read %s \"%s\": %s", role, dir, strerror(errno));
		pitr_catalog_free_names(list, count);
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
bool
pitr_catalog_ignored_name(const char *name)
{
	return name[0] == '.' || strstr(name, PITR_FSUTIL_TMP_PREFIX) != NULL;
}

/* ---- loading ---- */

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
			return pitr_catalog_add_problem(cat,
							"the segment size is unknown (no backup states it, no "
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

		if (dir == NULL || pitr_catalog_load_backups(cat, dir) != 0)
			goto fail;
	}
	for (size_t i = 0; i < narchive_dirs; i++) {
		const char *dir = push_dir(&cat->archive_dirs, &cat->narchive_dirs,
					   archive_dirs[i]);

		if (dir == NULL || pitr_catalog_load_archive(cat, dir) != 0)
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
		    pitr_catalog_read_header(cat->archive_dirs[archive], f, &h)) {
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

