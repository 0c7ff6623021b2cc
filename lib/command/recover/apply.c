/*
 * apply.c - pitr-recover's incremental backups (issue 13, delta/delta.h):
 * each incremental of a chain (found and proven whole by check.c) applied
 * in order over the full backup's extraction.
 *
 * An incremental's data tarball holds whole files, directories and links
 * as a full one does, and the changed chunks of changed files as members
 * ".pitrkit/<key>/<k>.d" (a librsync delta against the chunk as the base
 * had it) or ".w" (the chunk whole).  It is read in one pass: extracted
 * by tarread like any tarball (whole files replace what is there), its
 * chunk members handed over as they stream by (pitr_tarread_extract_take)
 * to the applying thread (patch.c), which patches, checks and writes
 * each in place.  Then changed files are cut to their sizes and what the
 * link no longer has is removed.  The full backup's data is thus read and
 * written once, an incremental costs about what it stores, and memory is
 * a few chunks' buffers besides the chain's signatures.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "repo/catalog.h"
#include "tar/tarread.h"

/* ------------------------------------------------------------------------
 * Where a key's file is
 * ------------------------------------------------------------------------ */

/* Whether `key` is a relative path without ".." (it comes from a file
 * that could be damaged or forged). */
static bool
safe_key(const char *key)
{
	if (key[0] == '\0' || key[0] == '/')
		return false;
	for (const char *p = key; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		while (*p == '/')
			p++;
	}
	return true;
}

/* Where the file of `key` is: "data/<rel>" in run->tmp, a tablespace's
 * under its destination, as extract.c maps their members.  malloc'd, NULL
 * after logging. */
static char *
key_path(struct recover_run *run, const struct pitr_catalog_backup *link, const char *key)
{
	if (!safe_key(key)) {
		pitr_log_error("backup \"%s\" names file \"%s\", which is not a safe relative path: the "
			       "backup is damaged", link->name, key);
		return NULL;
	}
	if (strncmp(key, "data/", 5) == 0)
		return recover_join_rest(run->tmp, key + 5);
	if (strncmp(key, "tablespaces/", 12) == 0) {
		const char *p = key + 11;

		for (size_t i = 0; i < run->nts; i++) {
			size_t n = strlen(run->ts[i].old);

			if (strncmp(p, run->ts[i].old, n) == 0 && (p[n] == '/' || p[n] == '\0'))
				return recover_join_rest(run->ts[i].real, p + n);
		}
	}
	pitr_log_error("backup \"%s\" names file \"%s\", which is in neither the data directory nor "
		       "a tablespace of its chain", link->name, key);
	return NULL;
}

/* ------------------------------------------------------------------------
 * An incremental applied
 * ------------------------------------------------------------------------ */

/* Keep `dest` among the destinations seen (for drop_dirs); taken. */
static int
remember(struct recover_apply *ap, char *dest)
{
	if (ap->nseen == ap->capseen) {
		size_t cap = ap->capseen ? ap->capseen * 2 : 256;
		char **grown = pitr_xreallocarray(ap->seen, cap, sizeof(*grown));

		if (grown == NULL) {
			free(dest);
			return -1;
		}
		ap->seen = grown;
		ap->capseen = cap;
	}
	ap->seen[ap->nseen++] = dest;
	return 0;
}

/* Where an incremental's member goes (pitr_tarread_dest_fn): chunk
 * members to take_chunk(), applied as they stream by; the rest where a
 * full backup's go, a file there from an earlier link removed first
 * (tarread overwrites nothing). */
static char *
map_incr(void *ctx, const char *member, bool *skip, unsigned *id)
{
	struct recover_run *run = ctx;
	struct recover_apply *ap = run->apply;
	struct stat st;
	char *dest, *kept;

	*skip = false;
	*id = 0;
	/* The applying thread's failure, logged there, stops the reading. */
	if (recover_pipe_failed(ap->pipe))
		return NULL;
	if (strncmp(member, PITR_DELTA_MEMBER_PREFIX, strlen(PITR_DELTA_MEMBER_PREFIX)) == 0) {
		*skip = true;
		*id = PITR_TARREAD_TAKE;
		return NULL;
	}
	if ((dest = recover_map_data(ctx, member, skip, id)) == NULL)
		return NULL;
	if (lstat(dest, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(dest) != 0) {
		pitr_log_error("could not remove \"%s\" to replace it (member \"%s\" of \"%s\"): %s", dest,
			       member, run->tarball, strerror(errno));
		free(dest);
		return NULL;
	}
	if ((kept = pitr_xstrdup(dest)) == NULL || remember(ap, kept) != 0) {
		free(dest);
		return NULL;
	}
	return dest;
}

/* ------------------------------------------------------------------------
 * Chunk members, on the reading thread
 * ------------------------------------------------------------------------ */

static void
target_close(struct recover_target *t)
{
	free(t->key);
	free(t->path);
	memset(t, 0, sizeof(*t));
}

/* Make `key` (taken) the file chunks go to, unless it is already. */
static int
target_switch(struct recover_run *run, const struct recover_apply *ap, struct recover_target *t,
	      char *key)
{
	if (t->key != NULL && strcmp(t->key, key) == 0) {
		free(key);
		return 0;
	}
	target_close(t);
	t->key = key;
	t->f = pitr_delta_sigs_find(ap->sigs, key);
	if (t->f == NULL || t->f->kind != PITR_DELTA_DELTA) {
		pitr_log_error("backup \"%s\" stores chunks of \"%s\", which its manifest does not list "
			       "as changed: the backup is damaged", ap->link->name, key);
		return -1;
	}
	return (t->path = key_path(run, ap->link, key)) == NULL ? -1 : 0;
}

/* A chunk member, handed over by the extraction (pitr_tarread_take_fn):
 * read into a free slot and queued for the applying thread. */
static int
take_chunk(void *ctx, const char *member, int64_t size, struct pitr_tarread_member *m)
{
	struct recover_run *run = ctx;
	struct recover_apply *ap = run->apply;
	struct chunk_slot *s;
	struct chunk_name st;
	char *problem = NULL;
	int r;

	/* Checked here too: a link whose digests were checked was not read
	 * through before (check.c). */
	if ((r = recover_tally_meet(&ap->tally, member, &problem)) != 0) {
		if (r > 0)
			pitr_log_error("\"%s\" (backup \"%s\"): %s: the backup is damaged", run->tarball,
				       ap->link->label, problem);
		free(problem);
		return -1;
	}
	if ((r = recover_chunk_parse(member, &st.key, &st.k, &st.whole)) != 0 || size < 0) {
		if (r >= 0)
			pitr_log_error("\"%s\": member \"%s\" is not a chunk: the backup is damaged",
				       run->tarball, member);
		if (r == 0)
			free(st.key);
		return -1;
	}
	if (size > MEMBER_MAX) {
		pitr_log_error("chunk member \"%s\" of \"%s\" holds %lld bytes, more than a chunk's "
			       "delta can: the backup is damaged", member, run->tarball, (long long)size);
		free(st.key);
		return -1;
	}
	if (target_switch(run, ap, &ap->t, st.key) != 0)
		return -1;
	if ((s = recover_pipe_slot(ap->pipe)) == NULL)
		return -1;
	s->st = st;
	s->f = ap->t.f;
	s->n = (size_t)size;
	if ((s->st.key = pitr_xstrdup(ap->t.key)) == NULL ||
	    (s->path = pitr_xstrdup(ap->t.path)) == NULL ||
	    pitr_tarread_member_read(m, s->data, s->n) != 0) {
		recover_slot_clear(s);
		return -1;
	}
	recover_pipe_push(ap->pipe);
	return 0;
}

/* Every changed file cut to its size, every removed file unlinked. */
static int
settle_files(struct recover_run *run, const struct recover_apply *ap)
{
	for (size_t i = 0; i < ap->sigs->nfiles; i++) {
		const struct pitr_delta_file *f = &ap->sigs->files[i];
		char *path;
		int r = 0;

		if (f->kind != PITR_DELTA_DELTA && f->kind != PITR_DELTA_REMOVED)
			continue;
		if ((path = key_path(run, ap->link, f->key)) == NULL)
			return -1;
		if (f->kind == PITR_DELTA_DELTA && truncate(path, (off_t)f->size) != 0) {
			pitr_log_error("could not cut \"%s\" to its size in backup \"%s\": %s", path,
				       ap->link->name, strerror(errno));
			r = -1;
		} else if (f->kind == PITR_DELTA_REMOVED && unlink(path) != 0 && errno != ENOENT) {
			pitr_log_error("could not remove \"%s\", which backup \"%s\" no longer has: %s", path,
				       ap->link->name, strerror(errno));
			r = -1;
		}
		free(path);
		if (r != 0)
			return -1;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove every directory under `dir` that no member named (a dropped
 * database's), at any depth. */
static int
drop_dirs_under(const struct recover_apply *ap, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* Only directories matter: the data files, most entries, need
		 * no lstat when the file system says what they are. */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if ((p = pitr_fsutil_join(dir, de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (bsearch(&p, ap->seen, ap->nseen, sizeof(*ap->seen), cmp_str) != NULL)
				rc = drop_dirs_under(ap, p);
			else if ((rc = pitr_fsutil_remove_tree(p)) == 0)
				pitr_log_verbose("removed \"%s\": backup \"%s\" no longer has it", p,
						 ap->link->name);
		}
		free(p);
	}
	closedir(d);
	return rc;
}

/* Tablespace `t`, which the link no longer has (dropped since its base):
 * what was extracted there removed, and it forgotten, as if never met. */
static int
drop_tablespace(struct recover_run *run, const struct recover_apply *ap, size_t t)
{
	struct recover_tablespace *ts = &run->ts[t];
	DIR *d = opendir(ts->real);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", ts->real, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = pitr_fsutil_join(ts->real, de->d_name);
		rc = p == NULL ? -1 : pitr_fsutil_remove_tree(p);
		free(p);
	}
	closedir(d);
	if (rc != 0 || (ts->created != NULL && pitr_fsutil_remove_tree(ts->created) != 0))
		return -1;
	pitr_log_info("tablespace \"%s\" is gone in backup \"%s\": \"%s\" emptied", ts->old,
		      ap->link->name, ts->new);
	free(ts->old);
	free(ts->new);
	free(ts->real);
	free(ts->created);
	memmove(ts, ts + 1, (run->nts - t - 1) * sizeof(*ts));
	run->nts--;
	return 0;
}

static int
drop_dirs(struct recover_run *run, struct recover_apply *ap)
{
	qsort(ap->seen, ap->nseen, sizeof(*ap->seen), cmp_str);
	if (drop_dirs_under(ap, run->tmp) != 0)
		return -1;
	for (size_t i = 0; i < run->nts;) {
		const char *root = run->ts[i].real;

		if (bsearch(&root, ap->seen, ap->nseen, sizeof(*ap->seen), cmp_str) == NULL) {
			if (drop_tablespace(run, ap, i) != 0)
				return -1;
			continue;
		}
		if (drop_dirs_under(ap, root) != 0)
			return -1;
		i++;
	}
	return 0;
}

static void
apply_free(struct recover_apply *ap)
{
	for (size_t i = 0; i < ap->nseen; i++)
		free(ap->seen[i]);
	free(ap->seen);
	target_close(&ap->t);
	recover_tally_free(&ap->tally);
}

int
recover_chain_apply(struct recover_run *run, size_t i, uint64_t *bytes)
{
	struct recover_apply ap = { .link = run->links[i], .sigs = &run->sigs[i], .i = i };
	char *path = NULL;
	int fd = -1, rc = -1;

	free(run->base);
	if ((run->base = recover_data_base_name(ap.link->data_dir)) == NULL)
		goto out;
	pitr_log_info("applying incremental backup \"%s\" (%zu of %zu)", ap.link->name, i,
		      run->nlinks - 1);
	if (recover_tally_init(&ap.tally, ap.sigs) != 0 ||
	    (fd = recover_file_open(run, ap.link, ap.link->data_file, "data tarball", &path)) < 0 ||
	    (ap.pipe = recover_pipe_start(run, &ap)) == NULL)
		goto out;
	run->apply = &ap;
	run->tarball = path;
	rc = pitr_tarread_extract_take_fd(fd, path, ap.link->codec, map_incr, take_chunk, run,
					  PITR_TARREAD_ALLOW_SYMLINKS, bytes);
	run->apply = NULL;
	if (recover_file_close(run, ap.link, fd, rc == 0) != 0)
		rc = -1;
	fd = -1;
	if (recover_pipe_finish(ap.pipe, rc == 0) != 0)
		rc = -1;
	ap.pipe = NULL;
	/* Every chunk the manifest lists met in the pass. */
	if (rc == 0 && recover_tally_end(&ap.tally, path, ap.link->label, false) != 0)
		rc = -1;
	if (rc == 0 && (settle_files(run, &ap) != 0 || drop_dirs(run, &ap) != 0))
		rc = -1;
	run->tarball = NULL;
out:
	if (fd >= 0)
		recover_file_close(run, ap.link, fd, false);
	if (ap.pipe != NULL)
		recover_pipe_finish(ap.pipe, false);
	apply_free(&ap);
	free(path);
	return rc;
}
