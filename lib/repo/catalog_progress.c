/*
 * catalog_progress.c - the backups in progress in the catalog's backup
 * dirs: what a running pitr-backup-master or -slave has written so far at
 * temporary names (see catalog.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "repo/catalog.h"
#include "repo/catalog_impl.h"

/* The words the -f template's __FILETYPE__ becomes; longer first where
 * one begins another. */
static const char *const filetypes[] = {
	"data", "xlog", "sig", "meta", "SHA-256", "SHA-384", "SHA-512", "SHA-1", "MD5",
};

/* The backup a temporary file ".pitr-tmp.BASE.XXXXXX" belongs to: BASE
 * with its file type replaced by "*" and no codec extension.  Malloc'd,
 * NULL after logging. */
static char *
progress_name(const char *tmpname)
{
	const char *base = tmpname + strlen(PITR_FSUTIL_TMP_PREFIX);
	size_t len = strlen(base), stem;
	const char *at = NULL, *word = "";
	char *name, *out;

	if (len > 7 && base[len - 7] == '.')
		len -= 7;   /* the ".XXXXXX" that makes it unique */
	if ((name = pitr_xstrndup(base, len)) == NULL)
		return NULL;
	pitr_codec_from_filename(name, &stem);
	name[stem] = '\0';
	for (size_t i = 0; i < sizeof(filetypes) / sizeof(filetypes[0]) && at == NULL; i++)
		if ((at = strstr(name, filetypes[i])) != NULL)
			word = filetypes[i];
	if (at == NULL)
		return name;
	out = pitr_xasprintf("%.*s*%s", (int)(at - name), name, at + strlen(word));
	free(name);
	return out;
}

/* The entry of backup `name` in dir `dir`, added when new; NULL after
 * logging. */
static struct pitr_catalog_progress *
progress_entry(struct pitr_catalog *cat, size_t dir, char *name)
{
	struct pitr_catalog_progress *grown;

	for (size_t i = 0; i < cat->nin_progress; i++)
		if (cat->in_progress[i].dir == dir && strcmp(cat->in_progress[i].name, name) == 0) {
			free(name);
			return &cat->in_progress[i];
		}
	grown = pitr_xreallocarray(cat->in_progress, cat->nin_progress + 1, sizeof(*grown));
	if (grown == NULL) {
		free(name);
		return NULL;
	}
	cat->in_progress = grown;
	grown[cat->nin_progress] = (struct pitr_catalog_progress){ .name = name, .dir = dir };
	return &grown[cat->nin_progress++];
}

static int
progress_add(struct pitr_catalog *cat, size_t dir, const struct pitr_tmp_found *f)
{
	char *name = progress_name(f->name);
	struct pitr_catalog_progress *p;
	char **files;

	if (name == NULL || (p = progress_entry(cat, dir, name)) == NULL)
		return -1;
	files = pitr_xreallocarray(p->files, p->nfiles + 1, sizeof(*files));
	if (files == NULL)
		return -1;
	p->files = files;
	if ((files[p->nfiles] = pitr_xstrdup(f->name)) == NULL)
		return -1;
	p->nfiles++;
	p->bytes += (uint64_t)f->size;
	return 0;
}

int
pitr_catalog_load_progress(struct pitr_catalog *cat)
{
	for (size_t d = 0; d < cat->nbackup_dirs; d++) {
		const char *dir = pitr_store_dir(cat->backup_stores[d]);
		struct pitr_tmp_found *found;
		size_t n;
		int rc = 0;

		/* Locks are local: an object store's backup in progress is a
		 * pending multipart upload, no file. */
		if (dir == NULL)
			continue;
		if (pitr_tmp_scan_live(dir, &found, &n) != 0)
			return -1;
		for (size_t i = 0; i < n && rc == 0; i++)
			if (!found[i].is_dir)
				rc = progress_add(cat, d, &found[i]);
		pitr_tmp_found_free(found, n);
		if (rc != 0)
			return -1;
	}
	return 0;
}
