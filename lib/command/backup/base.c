/*
 * base.c - --incremental-from: the base backup of an incremental and the
 * signatures of its chain.
 *
 * The base is looked up in the first --dst-local dir that holds it
 * (repo/catalog.h): by label or by name as pitr-info shows it, or, for
 * "latest", the newest backup of this cluster (system identifier) that
 * has a sig file; without one, "latest" takes a full backup, as
 * pgBackRest does when it has no prior backup.  The chain is the base's
 * own (its meta's chain key) then the base; every link is found by label
 * in the same dir and its sig file read, and lib/delta composes them
 * into the base's complete signatures.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/backup/backup_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "repo/catalog.h"

#define LATEST "latest"

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
	if (run->opts->ndst_local == 0) {
		pitr_log_error("--incremental-from needs a --dst-local dir: the base backup is "
			       "looked up there");
		return -1;
	}
	return 0;
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

/* The first --dst-local dir's catalog holding the base, into *cat, and
 * the base; NULL with *cat empty when none does (-1 in *rc after
 * logging a dir that could not be read). */
static const struct pitr_catalog_backup *
find_base(struct bk_run *run, struct pitr_catalog *cat, const char **dir, int *rc)
{
	*rc = 0;
	for (size_t i = 0; i < run->opts->ndst_local; i++) {
		const struct pitr_catalog_backup *b;

		*dir = pitr_catalog_dir(run->opts->dst_local[i]);
		/* A dir not made yet holds nothing; its own open reports it. */
		if (access(*dir, F_OK) != 0)
			continue;
		if (pitr_catalog_load(*dir, NULL, NULL, cat) != 0) {
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

/* Read link `b`'s sig file into run->links[run->nlinks]. */
static int
read_link(struct bk_run *run, const char *dir, const struct pitr_catalog_backup *b)
{
	char *path;
	int rc;

	if (b->sig_file == NULL) {
		pitr_log_error("backup \"%s\" in \"%s\" has no sig file: it cannot be the base of an "
			       "incremental backup", b->label, dir);
		return -1;
	}
	path = pitr_fsutil_join(dir, b->sig_file);
	if (path == NULL)
		return -1;
	rc = pitr_delta_sigs_read(path, b->codec, &run->links[run->nlinks]);
	free(path);
	if (rc != 0)
		return -1;
	run->nlinks++;
	return 0;
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
		if (read_link(run, dir, b) != 0)
			return -1;
		p += len + (p[len] == '|');
	}
	return read_link(run, dir, base);
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

/* Warn of every other --dst-local dir that lacks the base: the
 * incremental written there cannot be recovered from it alone. */
static void
warn_other_dirs(struct bk_run *run, const char *dir, const char *label)
{
	for (size_t i = 0; i < run->opts->ndst_local; i++) {
		const char *other = pitr_catalog_dir(run->opts->dst_local[i]);
		struct pitr_catalog cat = { 0 };
		bool found = false;

		if (strcmp(other, dir) == 0)
			continue;
		if (access(other, F_OK) == 0 && pitr_catalog_load(other, NULL, NULL, &cat) == 0)
			found = by_label(&cat, label, strlen(label)) != NULL;
		pitr_catalog_free(&cat);
		if (!found)
			pitr_log_info("WARNING: --dst-local \"%s\" does not hold base backup \"%s\": "
				      "the incremental backup stored there needs its chain from \"%s\"",
				      other, label, dir);
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
		pitr_log_info("WARNING: no backup of this cluster with a sig file in the --dst-local "
			      "dirs: taking a full backup");
		return 0;
	}
	if (base == NULL && rc == 0) {
		pitr_log_error("base backup \"%s\" not found in the --dst-local dirs",
			       run->opts->incremental_from);
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
