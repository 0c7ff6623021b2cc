/*
 * chain.c - pitr-verify's checks of incremental backups (issue 13).
 *
 * Per backup: the base and chain its meta names agree, and every link is
 * a backup of its own dir (where pitr-recover reads it).  Per chain,
 * from each newest member (a backup no other backup's chain names): every
 * link's sig file reads (pitr_delta_sigs_read) and its manifest agrees
 * with the link's meta file (label, base, system identifier); every
 * incremental's data tarball holds exactly the ".pitrkit/" chunk members
 * its manifest lists; then the links compose (pitr_delta_chain_compose:
 * each one's base the label before it, one system identifier).  A chain's
 * links are held in memory together only while it is checked, as
 * recovery holds them; a link shared by several chains is judged once.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "command/verify/verify_impl.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "repo/catalog.h"
#include "repo/store.h"
#include "tar/tarread.h"

/* Member mismatches printed per backup before one line counts the rest:
 * a damaged tarball must not print a line per chunk. */
#define VF_MEMBER_PROBLEMS 10

int
pitr_verify_links(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st,
		  const struct pitr_catalog_backup *b)
{
	char **labels, *path;
	size_t n;

	if (!pitr_catalog_is_incremental(b))
		return 0;
	if ((path = pitr_store_path(st, b->meta_file)) == NULL)
		return -1;
	if (pitr_catalog_chain_labels(b, &labels, &n) != 0) {
		free(path);
		return -1;
	}
	if (b->chain == NULL)
		pitr_verify_problem(run, "meta file", path, "names base \"%s\" but no chain", b->base);
	else if (strcmp(labels[n - 1], b->base) != 0)
		pitr_verify_problem(run, "meta file", path, "its chain ends with \"%s\", not with its "
				    "base \"%s\"", labels[n - 1], b->base);
	for (size_t i = 0; i < n; i++)
		if (b->label != NULL && strcmp(labels[i], b->label) == 0)
			pitr_verify_problem(run, "meta file", path, "its chain names the backup "
					    "itself (\"%s\")", labels[i]);
		else if (pitr_catalog_by_label(cat, b->dir, labels[i], b->codec) == NULL)
			pitr_verify_problem(run, "meta file", path, "its chain needs backup \"%s\", "
					    "which is not in the backup dir", labels[i]);
	if (b->sig_file == NULL)
		pitr_verify_problem(run, "meta file", path, "an incremental backup without its sig "
				    "file");
	pitr_catalog_chain_labels_free(labels, n);
	free(path);
	return 0;
}

/* ---- a link's manifest against its meta file ---- */

static bool
same_label(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check_manifest(struct vf_run *run, const char *path, const struct pitr_catalog_backup *b,
	       const struct pitr_delta_sigs *s)
{
	if (!same_label(s->label, b->label))
		pitr_verify_problem(run, "backup file", path, "its manifest's label \"%s\" is not its "
				    "meta file's \"%s\"", s->label ? s->label : "",
				    b->label ? b->label : "");
	if (!same_label(s->base, b->base))
		pitr_verify_problem(run, "backup file", path, "its manifest's base \"%s\" is not its "
				    "meta file's \"%s\"", s->base ? s->base : "",
				    b->base ? b->base : "");
	if (s->sysid != b->sysid)
		pitr_verify_problem(run, "backup file", path, "system identifier %" PRIu64 " in its "
				    "manifest, not its meta file's %" PRIu64, s->sysid, b->sysid);
	if (b->base != NULL)
		return;
	for (size_t i = 0; i < s->nfiles; i++)
		if (s->files[i].kind != PITR_DELTA_WHOLE) {
			pitr_verify_problem(run, "backup file", path, "a full backup's manifest, but "
					    "\"%s\" is not stored whole", s->files[i].key);
			break;
		}
}

/* ---- an incremental's chunk members against its manifest ---- */

struct vf_members {
	char **names;            /* after the prefix: "<key>/<k>.d" or ".w" */
	size_t n, cap;
	bool failed;             /* memory */
};

static void
collect_member(void *ctx, const char *member, int64_t size)
{
	struct vf_members *m = ctx;
	size_t plen = strlen(PITR_DELTA_MEMBER_PREFIX);

	(void)size;
	if (m->failed || strncmp(member, PITR_DELTA_MEMBER_PREFIX, plen) != 0)
		return;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **grown = pitr_xreallocarray(m->names, cap, sizeof(*grown));

		if (grown == NULL) {
			m->failed = true;
			return;
		}
		m->names = grown;
		m->cap = cap;
	}
	if ((m->names[m->n] = pitr_xstrdup(member + plen)) == NULL)
		m->failed = true;
	else
		m->n++;
}

/* Split "<key>/<k>.d" in place: the key (NUL-terminated at its last
 * slash) and k.  false when the name is not a chunk's. */
static bool
parse_member(char *name, uint32_t *k)
{
	char *slash = strrchr(name, '/'), *end;
	unsigned long v;

	if (slash == NULL || slash == name || slash[1] < '0' || slash[1] > '9')
		return false;
	v = strtoul(slash + 1, &end, 10);
	if (v > UINT32_MAX || (strcmp(end, ".d") != 0 && strcmp(end, ".w") != 0))
		return false;
	*slash = '\0';
	*k = (uint32_t)v;
	return true;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Each delta file's chunks, flattened: seen[first[i] + j] for chunk j of
 * file i. */
struct vf_chunks {
	size_t *first;
	bool *seen;
	size_t mismatches;
};

static void
member_problem(struct vf_run *run, struct vf_chunks *c, const char *path, const char *key,
	       uint32_t k, const char *why)
{
	if (c->mismatches++ < VF_MEMBER_PROBLEMS)
		pitr_verify_problem(run, "backup file", path, "chunk %" PRIu32 " of \"%s\": %s", k,
				    key, why);
}

/* Mark member `name` (parsed in place) among c's chunks. */
static void
match_member(struct vf_run *run, const struct pitr_delta_sigs *s, struct vf_chunks *c,
	     const char *path, char *name)
{
	const struct pitr_delta_file *f;
	const uint32_t *at;
	uint32_t k;
	size_t slot;

	if (!parse_member(name, &k)) {
		if (c->mismatches++ < VF_MEMBER_PROBLEMS)
			pitr_verify_problem(run, "backup file", path, "member \"%s%s\" is not a "
					    "chunk of a changed file", PITR_DELTA_MEMBER_PREFIX, name);
		return;
	}
	f = pitr_delta_sigs_find(s, name);
	if (f == NULL || f->kind != PITR_DELTA_DELTA) {
		member_problem(run, c, path, name, k, "stored, but its manifest does not list the "
			       "file as stored in chunks");
		return;
	}
	at = bsearch(&k, f->chunks, f->nchunks, sizeof(k), cmp_u32);
	if (at == NULL) {
		member_problem(run, c, path, name, k, "stored, but not among the chunks its "
			       "manifest lists");
		return;
	}
	slot = c->first[f - s->files] + (size_t)(at - f->chunks);
	if (c->seen[slot])
		member_problem(run, c, path, name, k, "stored twice");
	c->seen[slot] = true;
}

/* Every chunk the manifest lists must have been stored. */
static void
unstored_chunks(struct vf_run *run, const struct pitr_delta_sigs *s, struct vf_chunks *c,
		const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct pitr_delta_file *f = &s->files[i];

		for (size_t j = 0; f->kind == PITR_DELTA_DELTA && j < f->nchunks; j++)
			if (!c->seen[c->first[i] + j])
				member_problem(run, c, path, f->key, f->chunks[j], "listed in its "
					       "manifest, but not stored");
	}
}

/* Whether the tarball `name` of `st` (`path`) lists whole, its members
 * passed to `fn`; the store must say every byte came. */
static bool
list_tarball(struct pitr_store *st, const char *name, const char *path, enum pitr_codec codec,
	     void (*fn)(void *ctx, const char *member, int64_t size), void *ctx)
{
	int fd = pitr_verify_open(st, name, path);
	int r;

	if (fd < 0)
		return false;
	r = pitr_tarread_list_fd(fd, path, codec, fn, ctx);
	return pitr_store_read_end(st, fd, r == 0 ? 0 : PITR_STORE_READ_EARLY, NULL, 0) == 0 &&
	       r == 0;
}

/* The data tarball of incremental b against its manifest s. */
static int
check_members(struct vf_run *run, struct pitr_store *st, const struct pitr_catalog_backup *b,
	      const struct pitr_delta_sigs *s)
{
	struct vf_members m = { 0 };
	struct vf_chunks c = { 0 };
	char *path = pitr_store_path(st, b->data_file);
	size_t total = 0;
	int rc = -1;

	if (path == NULL || (c.first = pitr_xcalloc(s->nfiles + 1, sizeof(*c.first))) == NULL)
		goto out;
	for (size_t i = 0; i < s->nfiles; i++) {
		c.first[i] = total;
		total += s->files[i].kind == PITR_DELTA_DELTA ? s->files[i].nchunks : 0;
	}
	if ((c.seen = pitr_xcalloc(total + 1, sizeof(*c.seen))) == NULL)
		goto out;
	if (!list_tarball(st, b->data_file, path, b->codec, collect_member, &m)) {
		pitr_verify_problem(run, "backup file", path, "not a complete %s tarball",
				    pitr_codec_name(b->codec));
		rc = 0;
		goto out;
	}
	if (m.failed)
		goto out;
	for (size_t i = 0; i < m.n; i++)
		match_member(run, s, &c, path, m.names[i]);
	unstored_chunks(run, s, &c, path);
	if (c.mismatches > VF_MEMBER_PROBLEMS)
		pitr_verify_problem(run, "backup file", path, "%zu more chunks do not match its "
				    "manifest", c.mismatches - VF_MEMBER_PROBLEMS);
	rc = 0;
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.names[i]);
	free(m.names);
	free(c.first);
	free(c.seen);
	free(path);
	return rc;
}

/* ---- chains ---- */

/* Read the sig file `name` of `st` (`path`) into *s: whether it read,
 * every byte of it delivered. */
static bool
read_sigs(struct pitr_store *st, const char *name, const char *path, enum pitr_codec codec,
	  struct pitr_delta_sigs *s)
{
	int fd = pitr_verify_open(st, name, path);
	int r;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return false;
	r = pitr_delta_sigs_read_fd(fd, path, codec, s);
	if (pitr_store_read_end(st, fd, r == 0 ? 0 : PITR_STORE_READ_EARLY, NULL, 0) != 0 &&
	    r == 0) {
		pitr_delta_sigs_free(s);
		r = -1;
	}
	return r == 0;
}

/*
 * Read link b's sig file into *s; *ok says whether it read.  The first
 * time b is met (checked[] in cat's order) it is judged too: manifest
 * against meta, an incremental's members against the manifest, a base
 * without a sig file.  Returns 0, or -1 (memory, logged).
 */
static int
read_link(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st,
	  const struct pitr_catalog_backup *b, bool is_base, bool *checked,
	  struct pitr_delta_sigs *s, bool *ok)
{
	bool first = !checked[b - cat->backups];
	char *path;
	int rc = 0;

	checked[b - cat->backups] = true;
	*ok = false;
	if (b->sig_file == NULL) {
		/* An incremental's own lack is pitr_verify_links()'s line. */
		if (first && is_base && !pitr_catalog_is_incremental(b) &&
		    (path = pitr_store_path(st, b->meta_file)) != NULL) {
			pitr_verify_problem(run, "meta file", path, "the base of an incremental "
					    "backup, but it has no sig file");
			free(path);
		}
		return 0;
	}
	if ((path = pitr_store_path(st, b->sig_file)) == NULL)
		return -1;
	if (!read_sigs(st, b->sig_file, path, b->codec, s)) {
		if (first)
			pitr_verify_problem(run, "backup file", path, "not a readable sig file");
	} else {
		*ok = true;
		if (first) {
			check_manifest(run, path, b, s);
			if (pitr_catalog_is_incremental(b) && b->data_file != NULL)
				rc = check_members(run, st, b, s);
		}
	}
	free(path);
	return rc;
}

/* Compose the links' signatures (all read, full first). */
static int
compose(struct vf_run *run, struct pitr_store *st, const struct pitr_catalog_backup *tip,
	const struct pitr_delta_sigs *sigs, size_t n)
{
	struct pitr_delta_chain *c = pitr_delta_chain_compose(sigs, n);
	char *path;

	if (c != NULL) {
		pitr_delta_chain_free(c);
		return 0;
	}
	if ((path = pitr_store_path(st, tip->meta_file)) == NULL)
		return -1;
	pitr_verify_problem(run, "meta file", path, "its chain of %zu backups does not compose "
			    "(the error logged above names the link)", n);
	free(path);
	return 0;
}

/* The chain whose newest member is cat->backups[t]: every link read and
 * judged, then composed when all are there and read. */
static int
check_chain(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st, size_t t,
	    bool *checked, bool also_compose)
{
	const struct pitr_catalog_backup *tip = &cat->backups[t];
	struct pitr_delta_sigs *sigs = NULL;
	char **labels = NULL;
	size_t n = 0;
	bool complete = true;
	int rc = -1;

	if (pitr_catalog_chain_labels(tip, &labels, &n) != 0)
		goto out;
	if (n == 0 && tip->sig_file == NULL) {
		/* A full backup from before incremental ones: nothing to read. */
		checked[t] = true;
		rc = 0;
		goto out;
	}
	if ((sigs = pitr_xcalloc(n + 1, sizeof(*sigs))) == NULL)
		goto out;
	pitr_verify_begin_check(run, "chain", tip->name, "signatures");
	for (size_t k = 0; k <= n; k++) {
		const struct pitr_catalog_backup *b = tip;
		bool ok = false;

		/* A chain naming the backup itself: pitr_verify_links() said so. */
		if (k < n)
			b = tip->label != NULL && strcmp(labels[k], tip->label) == 0 ? NULL :
			    pitr_catalog_by_label(cat, tip->dir, labels[k], tip->codec);
		if (b != NULL && read_link(run, cat, st, b, k < n, checked, &sigs[k], &ok) != 0)
			goto out;
		complete = complete && ok;
	}
	if (also_compose && n > 0 && complete && compose(run, st, tip, sigs, n + 1) != 0)
		goto out;
	rc = 0;
out:
	for (size_t k = 0; sigs != NULL && k <= n; k++)
		pitr_delta_sigs_free(&sigs[k]);
	free(sigs);
	pitr_catalog_chain_labels_free(labels, n);
	return rc;
}

/* needed[i]: some backup's chain names backup i (of the same dir). */
static int
mark_needed(const struct pitr_catalog *cat, bool *needed)
{
	for (size_t j = 0; j < cat->nbackups; j++) {
		const struct pitr_catalog_backup *b = &cat->backups[j];
		char **labels;
		size_t n;

		if (pitr_catalog_chain_labels(b, &labels, &n) != 0)
			return -1;
		for (size_t l = 0; l < n; l++)
			for (size_t i = 0; i < cat->nbackups; i++)
				if (i != j && cat->backups[i].dir == b->dir &&
				    cat->backups[i].label != NULL &&
				    strcmp(cat->backups[i].label, labels[l]) == 0)
					needed[i] = true;
		pitr_catalog_chain_labels_free(labels, n);
	}
	return 0;
}

int
pitr_verify_chains(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st)
{
	size_t n = cat->nbackups;
	bool *needed = pitr_xcalloc(n + 1, sizeof(*needed));
	bool *checked = pitr_xcalloc(n + 1, sizeof(*checked));
	int rc = -1;

	if (needed == NULL || checked == NULL || mark_needed(cat, needed) != 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!needed[i] && check_chain(run, cat, st, i, checked, true) != 0)
			goto out;
	/* What no chain reached (a copy of a link under another codec, or
	 * metas whose chains name each other): its own sig file alone. */
	for (size_t i = 0; i < n; i++)
		if (!checked[i] && check_chain(run, cat, st, i, checked, false) != 0)
			goto out;
	rc = 0;
out:
	free(needed);
	free(checked);
	return rc;
}
