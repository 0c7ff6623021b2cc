/*
 * s3arch.c - find, list and prune WAL objects in an archive in an object
 * store (see s3arch.h).
 *
 * Line coverage: the store's failures are provoked by
 * t/integration/s3-restore.sh (a missing bucket, wrong credentials), not
 * by t/repo/check_s3arch.c, which tests the name matching only.
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "repo/s3arch.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "s3/s3.h"

enum pitr_dest_kind
pitr_s3arch_spec_kind(const char *arg)
{
	return pitr_s3_is_url(arg + pitr_codec_prefix_len(arg)) ? PITR_DEST_RSYNC : PITR_DEST_LOCAL;
}

bool
pitr_s3arch_match(const char *name, const char *walname, enum pitr_codec *codec)
{
	size_t wal_len = strlen(walname);

	if (strncmp(name, walname, wal_len) != 0)
		return false;
	for (int codec_idx = 0; codec_idx < PITR_CODEC_COUNT; codec_idx++) {
		if (strcmp(name + wal_len, pitr_codec_ext((enum pitr_codec)codec_idx)) == 0) {
			*codec = (enum pitr_codec)codec_idx;
			return true;
		}
	}
	return false;
}

/* What pitr_s3arch_find()'s listing saw: each codec's copy, if any. */
struct find_ctx {
	const char *walname;
	size_t prefix_len;
	bool have[PITR_CODEC_COUNT];
	struct pitr_s3_object obj[PITR_CODEC_COUNT];  /* key not kept: rebuilt */
};

static int
find_cb(void *ctx, const struct pitr_s3_object *obj)
{
	struct find_ctx *fc = ctx;
	enum pitr_codec codec;

	if (strlen(obj->key) >= fc->prefix_len &&
	    pitr_s3arch_match(obj->key + fc->prefix_len, fc->walname, &codec)) {
		fc->have[codec] = true;
		fc->obj[codec] = *obj;
		fc->obj[codec].key = NULL;
	}
	return 0;
}

int
pitr_s3arch_find(struct pitr_s3 *s3, const char *prefix, const char *walname,
		 enum pitr_codec preferred, struct pitr_s3arch_found *found)
{
	struct find_ctx fc = { .walname = walname, .prefix_len = strlen(prefix) };
	char *list_prefix;
	int rc;

	assert(s3 != NULL && prefix != NULL && walname != NULL && found != NULL);
	memset(found, 0, sizeof(*found));
	if ((list_prefix = pitr_xasprintf("%s%s", prefix, walname)) == NULL)
		return -1;
	rc = pitr_s3_list(s3, list_prefix, false, find_cb, &fc);
	free(list_prefix);
	if (rc != 0)
		return -1;
	for (int try_idx = -1; try_idx < PITR_CODEC_COUNT; try_idx++) {
		/* The preferred codec first, then the others in table order. */
		enum pitr_codec c = try_idx < 0 ? preferred : (enum pitr_codec)try_idx;

		if (!fc.have[c])
			continue;
		found->key = pitr_xasprintf("%s%s%s", prefix, walname, pitr_codec_ext(c));
		if (found->key == NULL)
			return -1;
		found->codec = c;
		found->size = fc.obj[c].size;
		found->mtime = fc.obj[c].mtime;
		return 1;
	}
	return 0;
}

/* What pitr_s3arch_list_older()'s listing gathers. */
struct older_ctx {
	size_t prefix_len;
	struct pitr_wal_name limit;
	struct pitr_archdir_entry *list;
	size_t count, cap;
};

static int
older_cb(void *ctx, const struct pitr_s3_object *obj)
{
	struct older_ctx *oc = ctx;
	struct pitr_archdir_entry e;

	if (strlen(obj->key) <= oc->prefix_len ||
	    !pitr_archdir_parse_entry(obj->key + oc->prefix_len, &e) ||
	    pitr_wal_cmp_position(&e.name, &oc->limit) >= 0)
		return 0;
	if (oc->count == oc->cap) {
		size_t newcap = oc->cap > 0 ? oc->cap * 2 : 64;
		struct pitr_archdir_entry *grown = pitr_xreallocarray(oc->list, newcap, sizeof(*grown));

		if (grown == NULL)
			return -1;
		oc->list = grown;
		oc->cap = newcap;
	}
	oc->list[oc->count++] = e;
	return 0;
}

int
pitr_s3arch_list_older(struct pitr_s3 *s3, const char *prefix,
		       const struct pitr_wal_name *cutoff, struct pitr_archdir_entry **entries,
		       size_t *n)
{
	struct older_ctx oc = { .prefix_len = strlen(prefix) };

	assert(s3 != NULL && prefix != NULL && cutoff != NULL && entries != NULL && n != NULL);
	*entries = NULL;
	*n = 0;
	/* Only the cutoff's position counts, as in pitr_archdir_list_older(). */
	oc.limit = *cutoff;
	oc.limit.kind = PITR_WAL_SEGMENT;
	oc.limit.offset = 0;
	if (pitr_s3_list(s3, prefix, false, older_cb, &oc) != 0) {
		free(oc.list);
		return -1;
	}
	pitr_archdir_sort(oc.list, oc.count);
	if (oc.count == 0) {
		free(oc.list);
		oc.list = NULL;
	}
	*entries = oc.list;
	*n = oc.count;
	return 0;
}

int
pitr_s3arch_remove_older(struct pitr_s3 *s3, const char *prefix,
			 const struct pitr_wal_name *cutoff, size_t limit,
			 pitr_archdir_hook_fn hook, void *ctx, size_t *removed)
{
	struct pitr_archdir_entry *entries = NULL;
	size_t n = 0, done = 0;
	char *where = NULL, *key = NULL, *label = NULL;
	int rc = -1;

	if (removed != NULL)
		*removed = 0;
	if (pitr_s3arch_list_older(s3, prefix, cutoff, &entries, &n) != 0)
		goto out;
	if ((where = pitr_s3_label(s3, prefix)) == NULL)
		goto out;
	if (limit > 0 && n > limit)
		n = limit;
	for (size_t entry_idx = 0; entry_idx < n; entry_idx++) {
		if (hook != NULL && hook(ctx, where, &entries[entry_idx]) != 0)
			goto out;
		if ((key = pitr_xasprintf("%s%s", prefix, entries[entry_idx].file)) == NULL)
			goto out;
		/* A key already gone (a concurrent cleanup) counts as removed. */
		if (pitr_s3_delete(s3, key) != 0)
			goto out;
		if ((label = pitr_s3_label(s3, key)) != NULL)
			pitr_log_verbose("removed \"%s\"", label);
		free(label);
		label = NULL;
		free(key);
		key = NULL;
		done++;
	}
	rc = 0;
out:
	if (removed != NULL)
		*removed = done;
	free(key);
	free(where);
	free(entries);
	return rc;
}
