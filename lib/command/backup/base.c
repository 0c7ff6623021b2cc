/*
 * base.c - --incremental-from: the base backup of an incremental and the
 * signatures of its chain.
 *
 * The base is looked up in the first location that holds it: the
 * --dst-local dirs, then the s3:// --dst-remote locations, each through
 * its catalog (repo/catalog.h), by label or by name as pitr-info shows
 * it, or, for "latest", the newest backup of this cluster (system
 * identifier) that has a sig file; without one, "latest" takes a full
 * backup, as pgBackRest does when it has no prior backup.  rsync, ssh and
 * pipe destinations cannot be read back, so they are not asked.  The
 * chain is the base's own (its meta's chain key) then the base; every
 * link is found by label in the same location and its sig file read
 * through the location's store (an object's completeness known at its
 * read's end), and lib/delta composes them into the base's complete
 * signatures.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/backup/backup_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "dest/dest.h"
#include "repo/catalog.h"
#include "repo/store.h"

#define LATEST "latest"

/* Whether the base may be looked up at destination `spec`: one whose
 * files this run can read back. */
static bool
readable(const struct pitr_dest_spec *spec)
{
	return (spec->kind == PITR_DEST_LOCAL && !spec->backup_copy) || spec->kind == PITR_DEST_S3;
}

/* What messages call the locations looked in. */
static const char *
where(const struct bk_run *run)
{
	bool local = false, s3 = false;

	for (size_t i = 0; i < run->nspecs; i++) {
		local |= run->specs[i].kind == PITR_DEST_LOCAL;
		s3 |= run->specs[i].kind == PITR_DEST_S3;
	}
	if (local && s3)
		return "the --dst-local dirs and s3:// --dst-remote locations";
	return s3 ? "the s3:// --dst-remote locations" : "the --dst-local dirs";
}

int
pitr_backup_base_check(struct bk_run *run)
{
	const char *from = run->opts->incremental_from;

	if (from == NULL)
		return 0;
	if (from[0] == '\0') {
		pitr_log_error("--incremental-from is empty: give a backup's label or name, or "
			       "\"" LATEST "\"");
		return -1;
	}
	for (size_t i = 0; i < run->nspecs; i++)
		if (readable(&run->specs[i]))
			return 0;
	pitr_log_error("--incremental-from needs a --dst-local dir or an s3:// --dst-remote "
		       "location: the base backup is looked up there (rsync, --dst-direct and "
		       "--dst-pipe destinations cannot be read back)");
	return -1;
}

/* The catalog of readable destination `spec` into *cat: 0, 1 for a
 * local dir not made yet (it holds nothing; its own open reports it),
 * -1 after logging. */
static int
load_catalog(const struct bk_run *run, const struct pitr_dest_spec *spec,
	     struct pitr_catalog *cat)
{
	if (spec->kind == PITR_DEST_S3)
		return pitr_catalog_load(spec->location, NULL, &run->opts->s3, cat);
	if (access(spec->location, F_OK) != 0)
		return 1;
	return pitr_catalog_load(spec->location, NULL, NULL, cat);
}

/* The backup of `cat` that `want` names: for "latest", the newest of
 * `sysid` with a sig file. */
static const struct pitr_catalog_backup *
find_in(const struct pitr_catalog *cat, const char *want, uint64_t sysid)
{
	bool latest = strcmp(want, LATEST) == 0;

	for (size_t i = cat->nbackups; i-- > 0;) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (latest ? b->sysid == sysid && b->sig_file != NULL :
		    (b->label != NULL && strcmp(b->label, want) == 0) || strcmp(b->name, want) == 0)
			return b;
	}
	return NULL;
}

/* The catalog of the first readable destination holding the base, into
 * *cat, and the base; NULL with *cat empty when none does (-1 in *rc
 * after logging a location that could not be read). */
static const struct pitr_catalog_backup *
find_base(struct bk_run *run, struct pitr_catalog *cat, const char **dir, int *rc)
{
	*rc = 0;
	for (size_t i = 0; i < run->nspecs; i++) {
		const struct pitr_catalog_backup *b;
		int r;

		if (!readable(&run->specs[i]))
			continue;
		*dir = run->specs[i].location;
		if ((r = load_catalog(run, &run->specs[i], cat)) == 1)
			continue;
		if (r != 0) {
			*rc = -1;
			return NULL;
		}
		b = find_in(cat, run->opts->incremental_from, run->sysid);
		if (b != NULL)
			return b;
		pitr_catalog_free(cat);
		memset(cat, 0, sizeof(*cat));
	}
	return NULL;
}

/* The backup labelled `label` in `cat`, or NULL. */
static const struct pitr_catalog_backup *
by_label(const struct pitr_catalog *cat, const char *label, size_t len)
{
	for (size_t i = cat->nbackups; i-- > 0;)
		if (cat->backups[i].label != NULL && strlen(cat->backups[i].label) == len &&
		    strncmp(cat->backups[i].label, label, len) == 0)
			return &cat->backups[i];
	return NULL;
}

static void
free_links(struct bk_run *run)
{
	for (size_t i = 0; i < run->nlinks; i++)
		pitr_delta_sigs_free(&run->links[i]);
	free(run->links);
	run->links = NULL;
	run->nlinks = 0;
}

/* Read link `b`'s sig file into run->links[run->nlinks], through the
 * store of `cat`'s location: read only when the store delivered it whole. */
static int
read_link(struct bk_run *run, const struct pitr_catalog *cat, const char *dir,
	  const struct pitr_catalog_backup *b)
{
	struct pitr_store *st = cat->backup_stores[b->dir];
	char *path;
	int fd, rc = -1;

	if (b->sig_file == NULL) {
		pitr_log_error("backup \"%s\" in \"%s\" has no sig file: it cannot be the base of an "
			       "incremental backup", b->label, dir);
		return -1;
	}
	if ((path = pitr_store_path(st, b->sig_file)) == NULL)
		return -1;
	fd = pitr_store_read_begin(st, b->sig_file, NULL, 0);
	if (fd == -2)
		pitr_log_error("sig file \"%s\" of backup \"%s\" is missing", path, b->label);
	if (fd >= 0) {
		struct pitr_delta_sigs *out = &run->links[run->nlinks];

		rc = pitr_delta_sigs_read_fd(fd, path, b->codec, out);
		/* A reader that failed stopped early: only the store's own
		 * failure, which may be why, is worth a line then. */
		if (pitr_store_read_end(st, fd, rc == 0 ? 0 : PITR_STORE_READ_EARLY, NULL, 0) != 0 &&
		    rc == 0) {
			pitr_delta_sigs_free(out);
			rc = -1;
		}
	}
	free(path);
	if (rc == 0)
		run->nlinks++;
	return rc;
}

/* The links of `base`'s chain, the full backup first, each read. */
static int
read_chain(struct bk_run *run, const struct pitr_catalog *cat, const char *dir,
	   const struct pitr_catalog_backup *base)
{
	const char *chain = base->chain != NULL ? base->chain : "";
	size_t n = 1;

	for (const char *p = chain; *p != '\0'; p++)
		n += *p == '|';
	n += chain[0] != '\0';
	run->links = pitr_xcalloc(n, sizeof(*run->links));
	if (run->links == NULL)
		return -1;
	for (const char *p = chain; *p != '\0';) {
		size_t len = strcspn(p, "|");
		const struct pitr_catalog_backup *b = by_label(cat, p, len);

		if (b == NULL) {
			pitr_log_error("the chain of base backup \"%s\" lacks backup \"%.*s\" in \"%s\"",
				       base->label, (int)len, p, dir);
			return -1;
		}
		if (read_link(run, cat, dir, b) != 0)
			return -1;
		p += len + (p[len] == '|');
	}
	return read_link(run, cat, dir, base);
}

/* What the meta says: the base's label, and its chain with it. */
static int
meta_keys(struct bk_run *run, const struct pitr_catalog_backup *base)
{
	run->base_label = pitr_xstrdup(base->label);
	run->chain_labels = base->chain != NULL ?
			    pitr_xasprintf("%s|%s", base->chain, base->label) :
			    pitr_xstrdup(base->label);
	return run->base_label != NULL && run->chain_labels != NULL ? 0 : -1;
}

/* `base` found in `dir`: checked, its chain read and composed; 1 (nothing
 * logged) when its signatures are of an older format. */
static int
load_chain(struct bk_run *run, const struct pitr_catalog *cat, const char *dir,
	   const struct pitr_catalog_backup *base)
{
	if (base->sysid != run->sysid) {
		pitr_log_error("base backup \"%s\" in \"%s\" is of another cluster (system identifier "
			       "%llu, this server's is %llu)", base->label, dir,
			       (unsigned long long)base->sysid, (unsigned long long)run->sysid);
		return -1;
	}
	if (base->label == NULL) {
		pitr_log_error("base backup \"%s\" in \"%s\" has no label in its meta file",
			       base->name, dir);
		return -1;
	}
	if (strcmp(base->label, run->label) == 0) {
		/* A chain names its links by label. */
		pitr_log_error("base backup \"%s\" in \"%s\" has this backup's label (it started in "
			       "the same second): start this one later", base->label, dir);
		return -1;
	}
	if (base->sig_file == NULL) {
		pitr_log_error("backup \"%s\" in \"%s\" has no sig file: it cannot be the base of an "
			       "incremental backup", base->label, dir);
		return -1;
	}
	if (read_chain(run, cat, dir, base) != 0 || meta_keys(run, base) != 0)
		return -1;
	if (run->links[0].sysid != run->sysid) {
		pitr_log_error("the signatures of backup \"%s\" in \"%s\" are of another cluster "
			       "(system identifier %llu)", run->links[0].label, dir,
			       (unsigned long long)run->links[0].sysid);
		return -1;
	}
	run->chain = pitr_delta_chain_compose(run->links, run->nlinks);
	if (run->chain == NULL)
		return -1;
	if (pitr_delta_chain_format(run->chain) != PITR_DELTA_FORMAT)
		return 1;  /* links of one chain share one format (delta.h) */
	pitr_log_info("incremental backup on \"%s\" in \"%s\" (a chain of %zu)", base->label, dir,
		      run->nlinks);
	/* The chain holds copies of the records it needs: the links would
	 * double them for the whole copy of the data. */
	free_links(run);
	return 0;
}

/* Warn of every other readable destination that lacks the base: the
 * incremental written there cannot be recovered from it alone. */
static void
warn_other_dirs(struct bk_run *run, const char *dir, const char *label)
{
	for (size_t i = 0; i < run->nspecs; i++) {
		const struct pitr_dest_spec *spec = &run->specs[i];
		struct pitr_catalog cat = { 0 };
		bool found = false;

		if (!readable(spec) || strcmp(spec->location, dir) == 0)
			continue;
		if (load_catalog(run, spec, &cat) == 0)
			found = by_label(&cat, label, strlen(label)) != NULL;
		pitr_catalog_free(&cat);
		if (!found)
			pitr_log_info("WARNING: %s \"%s\" does not hold base backup \"%s\": the "
				      "incremental backup stored there needs its chain from \"%s\"",
				      spec->kind == PITR_DEST_S3 ? "--dst-remote" : "--dst-local",
				      spec->location, label, dir);
	}
}

/* The base's chain is of an older format: "latest" then takes a full
 * backup, as it does with no base at all; a named base is refused. */
static int
older_base(struct bk_run *run, const char *dir, const struct pitr_catalog_backup *base)
{
	int format = pitr_delta_chain_format(run->chain);

	pitr_backup_base_free(run);
	if (strcmp(run->opts->incremental_from, LATEST) == 0) {
		pitr_log_info("WARNING: the latest backup \"%s\" in \"%s\" has signatures of an "
			      "older pitrkit (sig format %d): taking a full backup", base->label,
			      dir, format);
		return 0;
	}
	pitr_log_error("base backup \"%s\" in \"%s\" has signatures of an older pitrkit (sig "
		       "format %d): take a full backup first", base->label, dir, format);
	return -1;
}

int
pitr_backup_base_load(struct bk_run *run)
{
	struct pitr_catalog cat = { 0 };
	const struct pitr_catalog_backup *base;
	const char *dir = NULL;
	int rc;

	if (run->opts->incremental_from == NULL)
		return 0;
	base = find_base(run, &cat, &dir, &rc);
	if (base == NULL && rc == 0 && strcmp(run->opts->incremental_from, LATEST) == 0) {
		pitr_log_info("WARNING: no backup of this cluster with a sig file in %s: taking a "
			      "full backup", where(run));
		return 0;
	}
	if (base == NULL && rc == 0) {
		pitr_log_error("base backup \"%s\" not found in %s", run->opts->incremental_from,
			       where(run));
		rc = -1;
	}
	if (base != NULL)
		rc = load_chain(run, &cat, dir, base);
	if (rc == 1)
		rc = older_base(run, dir, base);
	if (rc == 0 && run->chain != NULL)  /* not "latest" fallen back to a full */
		warn_other_dirs(run, dir, base->label);
	pitr_catalog_free(&cat);
	return rc;
}

void
pitr_backup_base_free(struct bk_run *run)
{
	pitr_delta_chain_free(run->chain);
	run->chain = NULL;
	free_links(run);
	free(run->base_label);
	free(run->chain_labels);
	run->base_label = run->chain_labels = NULL;
}
