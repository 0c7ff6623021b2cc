/*
 * store.c - a store's calls dispatched to its kind, and the local kind:
 * a directory (see store.h; the s3 kind is store_s3.c's).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/store.h"
#include "repo/store_impl.h"

/* ---- listings ---- */

int
pitr_store_listing_add(struct pitr_store_listing *l, const struct pitr_store_entry *e)
{
	struct pitr_store_entry *grown = pitr_xreallocarray(l->entries, l->n + 1, sizeof(*grown));
	char *name;

	if (grown == NULL)
		return -1;
	l->entries = grown;
	if ((name = pitr_xstrdup(e->name)) == NULL)
		return -1;
	grown[l->n] = *e;
	grown[l->n++].name = name;
	return 0;
}

void
pitr_store_listing_free(struct pitr_store_listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *)l->entries[i].name);
	free(l->entries);
	memset(l, 0, sizeof(*l));
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pitr_store_entry *)a)->name,
		      ((const struct pitr_store_entry *)b)->name);
}

/* ---- the local kind ---- */

static void
entry_from_stat(struct pitr_store_entry *e, const struct stat *st)
{
	e->size = (uint64_t)st->st_size;
	e->mtime = st->st_mtime;
	e->regular = S_ISREG(st->st_mode);
	e->error = 0;
}

/* One directory entry, stat'ed through its links as open() would see it. */
static int
local_add(struct pitr_store_listing *l, DIR *d, const char *name)
{
	struct pitr_store_entry e = { .name = name };
	struct stat st;

	if (fstatat(dirfd(d), name, &st, 0) == 0)
		entry_from_stat(&e, &st);
	else
		e.error = errno;
	return pitr_store_listing_add(l, &e);
}

static int
local_list(struct pitr_store *st, struct pitr_store_listing *l)
{
	DIR *d = opendir(st->dir);
	struct dirent *de;

	if (d == NULL) {
		pitr_log_error("cannot read %s \"%s\": %s", st->role, st->location, strerror(errno));
		return -1;
	}
	for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (local_add(l, d, de->d_name) != 0) {
			closedir(d);
			return -1;
		}
	}
	if (errno != 0) {
		pitr_log_error("cannot read %s \"%s\": %s", st->role, st->location, strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

static char *
local_path(const struct pitr_store *st, const char *name)
{
	return pitr_fsutil_join(st->dir, name);
}

static int
local_stat(struct pitr_store *st, const char *name, struct pitr_store_entry *e)
{
	char *path = local_path(st, name);
	struct stat sb;
	int rc = -1;

	if (path == NULL)
		return -1;
	if (stat(path, &sb) == 0) {
		entry_from_stat(e, &sb);
		rc = 0;
	} else if (errno == ENOENT || errno == ENOTDIR) {
		rc = 1;
	} else {
		pitr_log_error("cannot stat \"%s\": %s", path, strerror(errno));
	}
	free(path);
	return rc;
}

static int
local_read_begin(struct pitr_store *st, const char *name, char *reason, size_t reason_size)
{
	char *path = local_path(st, name);
	int fd;

	if (path == NULL)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			fd = -2;
		else if (reason != NULL)
			snprintf(reason, reason_size, "cannot open: %s", strerror(errno));
		else
			pitr_log_error("cannot open \"%s\": %s", path, strerror(errno));
	}
	free(path);
	return fd;
}

/* A file's bytes are all there once read to its end: nothing to learn. */
static int
local_read_end(struct pitr_store *st, int fd, unsigned flags, char *reason, size_t reason_size)
{
	(void)st, (void)flags, (void)reason, (void)reason_size;
	close(fd);
	return 0;
}

static int
local_remove(struct pitr_store *st, const char *name)
{
	char *path = local_path(st, name);
	int rc = 0;

	if (path == NULL)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT) {
		pitr_log_error("cannot remove \"%s\": %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

static void
local_free(struct pitr_store *st)
{
	(void)st;
}

static const struct pitr_store_kind local_kind = {
	.list = local_list,
	.stat = local_stat,
	.read_begin = local_read_begin,
	.read_end = local_read_end,
	.remove = local_remove,
	.path = local_path,
	.free_ = local_free,
};

/* ---- dispatch ---- */

struct pitr_store *
pitr_store_new(const char *location, const struct pitr_s3_config *s3, const char *role)
{
	struct pitr_store *st = pitr_xcalloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	if ((st->location = pitr_xstrdup(location)) == NULL ||
	    (st->role = pitr_xstrdup(role)) == NULL)
		goto fail;
	if (pitr_s3_is_url(location)) {
		st->kind = &pitr_store_s3_kind;
		if (pitr_store_s3_init(st, s3) != 0)
			goto fail;
	} else {
		st->kind = &local_kind;
		if ((st->dir = pitr_xstrdup(location)) == NULL)
			goto fail;
	}
	return st;
fail:
	pitr_store_free(st);
	return NULL;
}

void
pitr_store_free(struct pitr_store *st)
{
	if (st == NULL)
		return;
	if (st->kind != NULL)
		st->kind->free_(st);
	free(st->location);
	free(st->role);
	free(st->dir);
	free(st);
}

const char *
pitr_store_location(const struct pitr_store *st)
{
	return st->location;
}

const char *
pitr_store_dir(const struct pitr_store *st)
{
	return st->dir;
}

char *
pitr_store_path(const struct pitr_store *st, const char *name)
{
	return st->kind->path(st, name);
}

int
pitr_store_s3(struct pitr_store *st, struct pitr_s3 **client, const char **prefix)
{
	if (st->s3 == NULL)
		return 1;
	return pitr_store_s3_client(st, client, prefix);
}

int
pitr_store_listing(struct pitr_store *st, struct pitr_store_listing *l)
{
	memset(l, 0, sizeof(*l));
	if (st->kind->list(st, l) != 0) {
		pitr_store_listing_free(l);
		return -1;
	}
	if (l->n > 1)
		qsort(l->entries, l->n, sizeof(*l->entries), cmp_entry);
	return 0;
}

static int
cmp_name_entry(const void *name, const void *e)
{
	return strcmp(name, ((const struct pitr_store_entry *)e)->name);
}

const struct pitr_store_entry *
pitr_store_listing_find(const struct pitr_store_listing *l, const char *name)
{
	if (l->n == 0)
		return NULL;
	return bsearch(name, l->entries, l->n, sizeof(*l->entries), cmp_name_entry);
}

int
pitr_store_list(struct pitr_store *st, pitr_store_entry_cb cb, void *ctx)
{
	struct pitr_store_listing l;
	int rc = -1;

	if (pitr_store_listing(st, &l) != 0)
		return -1;
	for (size_t i = 0; i < l.n; i++)
		if (cb(ctx, &l.entries[i]) != 0)
			goto out;
	rc = 0;
out:
	pitr_store_listing_free(&l);
	return rc;
}

int
pitr_store_stat(struct pitr_store *st, const char *name, struct pitr_store_entry *e)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = st->kind->stat(st, name, e);
	e->name = name;
	return rc;
}

int
pitr_store_read_begin(struct pitr_store *st, const char *name, char *reason, size_t reason_size)
{
	return st->kind->read_begin(st, name, reason, reason_size);
}

int
pitr_store_read_end(struct pitr_store *st, int fd, unsigned flags, char *reason,
		    size_t reason_size)
{
	return st->kind->read_end(st, fd, flags, reason, reason_size);
}

int
pitr_store_remove(struct pitr_store *st, const char *name)
{
	return st->kind->remove(st, name);
}
