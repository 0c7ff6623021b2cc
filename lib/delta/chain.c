/*
 * chain.c - the signatures of a chain's newest link, composed from the
 * full backup's and each incremental's (delta.h): a map from key to the
 * file's size, records and (format 2) chunk digests, updated link by link
 * in place, so that what is held is the newest link's files' and no more.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "delta/delta_impl.h"

struct chain_file {
	char *key;                   /* NULL once removed */
	uint64_t size;
	unsigned char *records;      /* PITR_DELTA_NBLOCKS(size) records */
	unsigned char *digests;      /* PITR_DELTA_NCHUNKS(size); NULL in format 1 */
};

struct pitr_delta_chain {
	struct chain_file *f;        /* removed ones stay, keyless */
	size_t n, cap;
	struct pitr_delta_map *map;  /* key -> index in f */
	int format;
};

static int broken(const struct pitr_delta_sigs *link, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
broken(const struct pitr_delta_sigs *link, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pitr_log_error("backup \"%s\" of the chain is damaged: %s", link->label, why);
	return -1;
}

static unsigned char *
bytes_copy(const unsigned char *p, size_t len)
{
	unsigned char *r = pitr_xmalloc(len > 0 ? len : 1);

	if (r != NULL && len > 0)
		memcpy(r, p, len);
	return r;
}

/* A whole file: its records replace any earlier state. */
static int
put_whole(struct pitr_delta_chain *c, const struct pitr_delta_file *f)
{
	long i = delta_map_get(c->map, f->key);
	unsigned char *r = bytes_copy(f->records, PITR_DELTA_NBLOCKS(f->size) * PITR_DELTA_RECORD);
	unsigned char *d = NULL;

	if (r == NULL || (c->format >= 2 &&
			  (d = bytes_copy(f->digests, PITR_DELTA_NCHUNKS(f->size) *
					  PITR_DELTA_DIGEST)) == NULL))
		goto fail;
	if (i < 0) {
		if (c->n == c->cap) {
			size_t cap = c->cap == 0 ? 256 : c->cap * 2;
			struct chain_file *n = pitr_xreallocarray(c->f, cap, sizeof(*n));

			if (n == NULL)
				goto fail;
			c->f = n;
			c->cap = cap;
		}
		c->f[c->n] = (struct chain_file){ .key = pitr_xstrdup(f->key) };
		if (c->f[c->n].key == NULL)
			goto fail;
		if (delta_map_put(c->map, c->f[c->n].key, c->n, NULL) < 0) {
			free(c->f[c->n].key);
			goto fail;
		}
		i = (long)c->n++;
	}
	free(c->f[i].records);
	free(c->f[i].digests);
	c->f[i].records = r;
	c->f[i].digests = d;
	c->f[i].size = f->size;
	return 0;
fail:
	free(r);
	free(d);
	return -1;
}

static void
drop(struct pitr_delta_chain *c, const char *key)
{
	long i = delta_map_get(c->map, key);

	if (i < 0)
		return;
	delta_map_del(c->map, key);
	free(c->f[i].key);
	free(c->f[i].records);
	free(c->f[i].digests);
	c->f[i] = (struct chain_file){ 0 };
}

/* Every chunk of the new size not stored in `f` must be the earlier
 * state's chunk of the same length, and every stored one must fit. */
static int
delta_fits(const struct pitr_delta_sigs *link, const struct pitr_delta_file *f, uint64_t old)
{
	uint64_t nch = (f->size + PITR_DELTA_CHUNK - 1) / PITR_DELTA_CHUNK;
	size_t j = 0;

	for (uint64_t k = 0; k < nch; k++) {
		bool stored = j < f->nchunks && f->chunks[j] == k;

		if (!stored && pitr_delta_chunk_len(old, k) != pitr_delta_chunk_len(f->size, k))
			return broken(link, "chunk %" PRIu64 " of \"%s\" is neither stored nor its base's",
				      k, f->key);
		j += stored;
	}
	if (j != f->nchunks)
		return broken(link, "\"%s\" stores chunks beyond its size or out of order", f->key);
	return 0;
}

/* The earlier digests cut or extended to the new size, the stored
 * chunks' laid over them. */
static int
put_digests(struct chain_file *cf, const struct pitr_delta_file *f)
{
	unsigned char *d = pitr_xrealloc(cf->digests, PITR_DELTA_NCHUNKS(f->size) *
					 PITR_DELTA_DIGEST + 1);

	if (d == NULL)
		return -1;
	cf->digests = d;
	for (size_t j = 0; j < f->nchunks; j++)
		memcpy(d + (size_t)f->chunks[j] * PITR_DELTA_DIGEST, f->digests + j * PITR_DELTA_DIGEST,
		       PITR_DELTA_DIGEST);
	return 0;
}

/* A delta file: the earlier records cut or extended to the new size, the
 * stored chunks' records laid over them (and their digests). */
static int
put_delta(struct pitr_delta_chain *c, const struct pitr_delta_sigs *link,
	  const struct pitr_delta_file *f)
{
	long i = delta_map_get(c->map, f->key);
	size_t len = PITR_DELTA_NBLOCKS(f->size) * PITR_DELTA_RECORD, from = 0;
	struct chain_file *cf;
	unsigned char *r;

	if (i < 0)
		return broken(link, "\"%s\" is a delta of a file no earlier backup has", f->key);
	cf = &c->f[i];
	if (delta_fits(link, f, cf->size) != 0)
		return -1;
	if (c->format >= 2 && put_digests(cf, f) != 0)
		return -1;
	if ((r = pitr_xrealloc(cf->records, len > 0 ? len : 1)) == NULL)
		return -1;
	cf->records = r;
	cf->size = f->size;
	for (size_t j = 0; j < f->nchunks; j++) {
		size_t n = PITR_DELTA_NBLOCKS(pitr_delta_chunk_len(f->size, f->chunks[j])) * PITR_DELTA_RECORD;

		memcpy(r + (size_t)f->chunks[j] * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD,
		       f->records + from, n);
		from += n;
	}
	return 0;
}

static int
apply_file(struct pitr_delta_chain *c, const struct pitr_delta_sigs *link,
	   const struct pitr_delta_file *f)
{
	long i;

	switch (f->kind) {
	case PITR_DELTA_WHOLE:
		return put_whole(c, f);
	case PITR_DELTA_DELTA:
		return put_delta(c, link, f);
	case PITR_DELTA_REMOVED:
		drop(c, f->key);
		return 0;
	default:
		if ((i = delta_map_get(c->map, f->key)) < 0)
			return broken(link, "\"%s\" is unchanged from a file no earlier backup has",
				      f->key);
		if (c->f[i].size != f->size)
			return broken(link, "\"%s\" is unchanged but its size is not its base's",
				      f->key);
		return 0;
	}
}

/* Format 2: every whole and delta file of the link has its digests. */
static int
digests_ok(const struct pitr_delta_sigs *l)
{
	for (size_t j = 0; l->format >= 2 && j < l->nfiles; j++)
		if ((l->files[j].kind == PITR_DELTA_WHOLE || l->files[j].kind == PITR_DELTA_DELTA) &&
		    l->files[j].digests == NULL)
			return broken(l, "\"%s\" has no chunk digests", l->files[j].key);
	return 0;
}

/* Link i's base, system identifier and format. */
static int
link_ok(const struct pitr_delta_sigs *links, size_t i)
{
	const struct pitr_delta_sigs *l = &links[i];

	if (l->format < 1 || l->format > PITR_DELTA_FORMAT)
		return broken(l, "its format is %d: this pitrkit reads formats 1 to %d", l->format,
			      PITR_DELTA_FORMAT);
	if (l->format != links[0].format)
		return broken(l, "its format is %d, not %d, that of \"%s\"", l->format,
			      links[0].format, links[0].label);

	if (i == 0 && l->base != NULL)
		return broken(l, "the chain does not start with a full backup (its base is \"%s\")",
			      l->base);
	if (i > 0 && (l->base == NULL || strcmp(l->base, links[i - 1].label) != 0))
		return broken(l, "its base is \"%s\", not \"%s\"", l->base ? l->base : "(none)",
			      links[i - 1].label);
	if (l->sysid != links[0].sysid)
		return broken(l, "its system identifier %" PRIu64 " is not %" PRIu64 ", that of \"%s\"",
			      l->sysid, links[0].sysid, links[0].label);
	return digests_ok(l);
}

struct pitr_delta_chain *
pitr_delta_chain_compose(const struct pitr_delta_sigs *links, size_t n)
{
	struct pitr_delta_chain *c;

	if (n == 0) {
		pitr_log_error("a chain of backups needs one at least");
		return NULL;
	}
	if ((c = pitr_xcalloc(1, sizeof(*c))) == NULL || (c->map = delta_map_new()) == NULL)
		goto fail;
	c->format = links[0].format;
	for (size_t i = 0; i < n; i++) {
		if (link_ok(links, i) != 0)
			goto fail;
		for (size_t j = 0; j < links[i].nfiles; j++)
			if (apply_file(c, &links[i], &links[i].files[j]) != 0)
				goto fail;
	}
	return c;
fail:
	pitr_delta_chain_free(c);
	return NULL;
}

int
pitr_delta_chain_format(const struct pitr_delta_chain *c)
{
	return c->format;
}

bool
pitr_delta_chain_lookup(const struct pitr_delta_chain *c, const char *key, uint64_t *size,
			const unsigned char **records, const unsigned char **digests)
{
	long i = delta_map_get(c->map, key);

	if (i < 0)
		return false;
	*size = c->f[i].size;
	*records = c->f[i].records;
	if (digests != NULL)
		*digests = c->f[i].digests;
	return true;
}

int
pitr_delta_chain_each(const struct pitr_delta_chain *c,
		      int (*fn)(void *arg, const char *key, uint64_t size), void *arg)
{
	for (size_t i = 0; i < c->n; i++) {
		int r;

		if (c->f[i].key != NULL && (r = fn(arg, c->f[i].key, c->f[i].size)) != 0)
			return r;
	}
	return 0;
}

void
pitr_delta_chain_free(struct pitr_delta_chain *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->f[i].key);
		free(c->f[i].records);
		free(c->f[i].digests);
	}
	free(c->f);
	delta_map_free(c->map);
	free(c);
}
