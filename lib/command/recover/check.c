/*
 * check.c - pitr-recover's incremental backups (issue 13, delta/delta.h),
 * before anything is written: the chain of backups an incremental needs
 * found, each link's signatures read and composed (bases and system
 * identifiers agree), and each incremental's data tarball not proven by
 * its digests read through, its chunk members each one its manifest
 * lists, once.  The links proven by their digests are not read twice:
 * their chunk members are counted during their pass, in apply.c, which
 * applies the links in order over the full backup's extraction.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "command/recover/recover_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "repo/catalog.h"
#include "tar/tarread.h"

/* ------------------------------------------------------------------------
 * Chunk members' names
 * ------------------------------------------------------------------------ */

/* ".pitrkit/<key>/<k>.d" or ".w": *key (malloc'd), *k, *whole.  Returns
 * 0, 1 when `member` is not such a name, -1 after logging ENOMEM. */
int
recover_chunk_parse(const char *member, char **key, uint32_t *k, bool *whole)
{
	const char *p, *slash;
	size_t digits;
	unsigned long long v;

	/* The prefix first: past a shorter name's end is not to be read. */
	if (strncmp(member, PITR_DELTA_MEMBER_PREFIX, strlen(PITR_DELTA_MEMBER_PREFIX)) != 0)
		return 1;
	p = member + strlen(PITR_DELTA_MEMBER_PREFIX);
	if ((slash = strrchr(p, '/')) == NULL || slash == p)
		return 1;
	digits = strspn(slash + 1, "0123456789");
	if (digits == 0 || digits > 10 || slash[1 + digits] != '.' ||
	    (strcmp(slash + 2 + digits, "d") != 0 && strcmp(slash + 2 + digits, "w") != 0))
		return 1;
	v = strtoull(slash + 1, NULL, 10);
	if (v > UINT32_MAX)
		return 1;
	*k = (uint32_t)v;
	*whole = slash[2 + digits] == 'w';
	*key = pitr_xstrndup(p, (size_t)(slash - p));
	return *key == NULL ? -1 : 0;
}

/* The index of chunk k among f's stored chunks, or -1. */
ssize_t
recover_chunk_index(const struct pitr_delta_file *f, uint32_t k)
{
	size_t lo = 0, hi = f->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->chunks[mid] == k)
			return (ssize_t)mid;
		if (f->chunks[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ------------------------------------------------------------------------
 * The chain, found and checked (nothing written)
 * ------------------------------------------------------------------------ */

/* The backup labelled `label` in b's dir that ended before `next` started
 * (labels may repeat: the latest such), else NULL. */
static const struct pitr_catalog_backup *
find_link(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
	  const struct pitr_catalog_backup *next, const char *label)
{
	const struct pitr_catalog_backup *found = NULL;

	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *l = &cat->backups[i];

		if (l != b && l->dir == b->dir && l->label != NULL && strcmp(l->label, label) == 0 &&
		    l->stop_epoch <= next->start_epoch)
			found = l;
	}
	return found;
}

/* Refuse the missing link `label`, saying what is left of it. */
static int
missing_link(const struct recover_run *run, const char *label)
{
	const struct pitr_catalog *cat = &run->cat;

	for (size_t i = 0; i < cat->nremnants; i++)
		if (cat->remnants[i].label != NULL && strcmp(cat->remnants[i].label, label) == 0 &&
		    cat->remnants[i].dir == run->b->dir) {
			pitr_log_error("backup \"%s\" is incremental: its chain needs backup \"%s\", whose "
				       "data file is missing from \"%s\": nothing written", run->b->name,
				       label, recover_backup_dir(run));
			return -1;
		}
	pitr_log_error("backup \"%s\" is incremental: its chain needs backup \"%s\", which \"%s\" "
		       "does not hold: nothing written", run->b->name, label, recover_backup_dir(run));
	return -1;
}

/* Split b's chain into run->links, each found, newest first. */
static int
find_links(struct recover_run *run, char *chain)
{
	const struct pitr_catalog_backup *next = run->b;
	size_t n = 1;

	for (const char *p = chain; *p != '\0'; p++)
		n += *p == '|';
	if ((run->links = pitr_xcalloc(n + 1, sizeof(*run->links))) == NULL)
		return -1;
	run->links[n] = run->b;
	for (size_t i = n; i-- > 0;) {
		char *bar = strrchr(chain, '|');
		char *label = bar != NULL ? bar + 1 : chain;

		if (i == n - 1 && strcmp(label, run->b->base) != 0) {
			pitr_log_error("the meta file of backup \"%s\" is damaged: its base \"%s\" is not the "
				       "last of its chain \"%s\"", run->b->name, run->b->base, run->b->chain);
			return -1;
		}
		if ((run->links[i] = find_link(&run->cat, run->b, next, label)) == NULL)
			return missing_link(run, label);
		next = run->links[i];
		if (bar != NULL)
			*bar = '\0';
	}
	run->nlinks = n + 1;
	return 0;
}

int
recover_chain_find(struct recover_run *run)
{
	const struct pitr_catalog_backup *b = run->b;
	char *chain;
	int rc;

	if (b->base == NULL)
		return 0;
	if (b->chain == NULL || b->chain[0] == '\0') {
		pitr_log_error("the meta file of backup \"%s\" is damaged: it has a base (\"%s\") but no "
			       "chain", b->name, b->base);
		return -1;
	}
	if ((chain = pitr_xstrdup(b->chain)) == NULL)
		return -1;
	rc = find_links(run, chain);
	free(chain);
	if (rc != 0)
		return -1;
	for (size_t i = 0; i < run->nlinks; i++)
		if (run->links[i]->sig_file == NULL) {
			pitr_log_error("backup \"%s\" (%s of the chain of \"%s\") has no sig file in \"%s\": "
				       "nothing written", run->links[i]->label, i == 0 ? "the full backup" :
				       "an incremental", b->name, recover_backup_dir(run));
			return -1;
		}
	pitr_log_info("backup \"%s\" is incremental: applied over a chain of %zu (full backup \"%s\" "
		      "first)", b->name, run->nlinks - 1, run->links[0]->name);
	return 0;
}

/* Each link's signatures read, each the one its catalog entry names. */
static int
read_sigs(struct recover_run *run)
{
	if ((run->sigs = pitr_xcalloc(run->nlinks, sizeof(*run->sigs))) == NULL)
		return -1;
	for (size_t i = 0; i < run->nlinks; i++) {
		const struct pitr_catalog_backup *l = run->links[i];
		char *path = NULL;
		int fd = recover_file_open(run, l, l->sig_file, "sig file", &path), r = -1;

		if (fd >= 0) {
			r = pitr_delta_sigs_read_fd(fd, path, l->codec, &run->sigs[i]);
			if (recover_file_close(run, l, fd, r == 0) != 0 && r == 0) {
				pitr_delta_sigs_free(&run->sigs[i]);
				r = -1;
			}
		}
		if (r == 0)
			run->nsigs++;
		if (r == 0 && (run->sigs[i].label == NULL || strcmp(run->sigs[i].label, l->label) != 0)) {
			pitr_log_error("sig file \"%s\" is of backup \"%s\", not of \"%s\": nothing written",
				       path, run->sigs[i].label ? run->sigs[i].label : "", l->label);
			r = -1;
		}
		if (r == 0 && i == 0 && run->sigs[i].base != NULL) {
			pitr_log_error("sig file \"%s\" is an incremental's (base \"%s\"): the chain of \"%s\" "
				       "must start with a full backup: nothing written", path,
				       run->sigs[i].base, run->b->name);
			r = -1;
		}
		free(path);
		if (r != 0)
			return -1;
	}
	if (run->sigs[0].sysid != run->b->sysid) {
		pitr_log_error("the chain of backup \"%s\" is of system %" PRIu64 ", the backup of %" PRIu64
			       ": nothing written", run->b->name, run->sigs[0].sysid, run->b->sysid);
		return -1;
	}
	return 0;
}

int
recover_tally_init(struct recover_tally *t, const struct pitr_delta_sigs *s)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	if ((t->first = pitr_xcalloc(s->nfiles + 1, sizeof(*t->first))) == NULL)
		return -1;
	for (size_t f = 0; f < s->nfiles; f++) {
		t->first[f] = t->want;
		if (s->files[f].kind == PITR_DELTA_DELTA)
			t->want += s->files[f].nchunks;
	}
	return (t->seen = pitr_xcalloc(t->want + 1, sizeof(*t->seen))) == NULL ? -1 : 0;
}

void
recover_tally_free(struct recover_tally *t)
{
	free(t->first);
	free(t->seen);
	t->first = NULL;
	t->seen = NULL;
}

int
recover_tally_meet(struct recover_tally *t, const char *member, char **problem)
{
	const struct pitr_delta_file *f;
	char *key = NULL;
	bool *seen = NULL;
	ssize_t j;
	uint32_t k;
	bool whole;
	int r = recover_chunk_parse(member, &key, &k, &whole);

	if (r < 0)
		return -1;
	t->met++;
	f = r > 0 ? NULL : pitr_delta_sigs_find(t->s, key);
	j = f == NULL || f->kind != PITR_DELTA_DELTA ? -1 : recover_chunk_index(f, k);
	free(key);
	if (j >= 0)
		seen = &t->seen[t->first[f - t->s->files] + (size_t)j];
	if (seen != NULL && !*seen) {
		*seen = true;
		return 0;
	}
	if (r > 0)
		*problem = pitr_xasprintf("member \"%s\" is not a chunk (%sKEY/N.d or .w)", member,
					  PITR_DELTA_MEMBER_PREFIX);
	else if (seen == NULL)
		*problem = pitr_xasprintf("member \"%s\" is a chunk its manifest does not list",
					  member);
	else
		*problem = pitr_xasprintf("member \"%s\" is stored twice", member);
	return *problem == NULL ? -1 : 1;
}

int
recover_tally_end(const struct recover_tally *t, const char *tarball, const char *label,
		  bool nothing_written)
{
	if (t->met == t->want)
		return 0;
	pitr_log_error("\"%s\" (backup \"%s\") holds %zu chunk members, its manifest lists %zu: "
		       "the backup is damaged%s", tarball, label, t->met, t->want,
		       nothing_written ? ", nothing written" : "");
	return -1;
}

struct list_ctx {
	struct recover_tally t;
	char *problem;       /* the first, malloc'd */
	bool nomem;
};

static void
list_member(void *ctx, const char *member, int64_t size)
{
	struct list_ctx *c = ctx;

	(void)size;
	if (c->problem != NULL || c->nomem ||
	    strncmp(member, PITR_DELTA_MEMBER_PREFIX, strlen(PITR_DELTA_MEMBER_PREFIX)) != 0)
		return;
	c->nomem = recover_tally_meet(&c->t, member, &c->problem) < 0;
}

/* Link i's data tarball read to its end, its chunk members those its
 * manifest lists, each once. */
static int
list_link(struct recover_run *run, size_t i)
{
	const struct pitr_catalog_backup *l = run->links[i];
	struct list_ctx c = { .problem = NULL };
	char *path = NULL;
	int fd = -1, rc = -1, r;

	if (recover_tally_init(&c.t, &run->sigs[i]) != 0 ||
	    (fd = recover_file_open(run, l, l->data_file, "data tarball", &path)) < 0)
		goto out;
	r = pitr_tarread_list_fd(fd, path, l->codec, list_member, &c);
	if (recover_file_close(run, l, fd, r == 0) != 0 || r != 0 || c.nomem)
		goto out;
	if (c.problem != NULL)
		pitr_log_error("\"%s\" (backup \"%s\"): %s: the backup is damaged, nothing written", path,
			       l->label, c.problem);
	else
		rc = recover_tally_end(&c.t, path, l->label, true);
out:
	free(c.problem);
	recover_tally_free(&c.t);
	free(path);
	return rc;
}

int
recover_chain_check(struct recover_run *run)
{
	struct pitr_delta_chain *chain;
	size_t read = 0;

	if (run->nlinks == 0)
		return 0;
	if (read_sigs(run) != 0)
		return -1;
	/* Bases and system identifiers agree link to link. */
	if ((chain = pitr_delta_chain_compose(run->sigs, run->nlinks)) == NULL)
		return -1;
	pitr_delta_chain_free(chain);
	/* A link whose digests were checked (recover_choose_check_digests(),
	 * before) is proven whole already: reading it through again would
	 * cost a decompression for nothing, and its chunk members are
	 * tallied in its pass all the same (apply.c). */
	for (size_t i = 1; i < run->nlinks; i++) {
		if (run->verified != NULL && run->verified[i])
			continue;
		if (list_link(run, i) != 0)
			return -1;
		read++;
	}
	pitr_log_info("chain of backup \"%s\" checked: %zu sig files, %zu incremental data tarballs "
		      "read through, %zu proven by their digests", run->b->name, run->nlinks, read,
		      run->nlinks - 1 - read);
	return 0;
}

void
recover_chain_free(struct recover_run *run)
{
	for (size_t i = 0; i < run->nsigs; i++)
		pitr_delta_sigs_free(&run->sigs[i]);
	free(run->sigs);
	free(run->links);
	free(run->verified);
	run->sigs = NULL;
	run->links = NULL;
	run->verified = NULL;
	run->nsigs = run->nlinks = 0;
}
