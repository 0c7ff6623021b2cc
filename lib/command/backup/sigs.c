/*
 * sigs.c - the signatures of a backup's files (lib/delta/delta.h), taken
 * from exactly the bytes the data tarball stores, through tarwrite's
 * per-file hook; in an incremental backup the same hook stores, in place
 * of a file the base has, only the chunks that changed since it.
 *
 * A full backup's every file is of kind whole: the bytes stored are cut
 * into chunks, each signed and digested on the pool's threads
 * (sigthread.c) while the tar goes on, and given to the sig writer in
 * order.  In an incremental, a regular file from disk that the base has
 * (by key, global/pg_control excepted: it is always stored whole, last,
 * as a full backup stores it) is read in PITR_DELTA_CHUNK pieces; on the
 * pool, a chunk of the base's length and digest is unchanged (not stored,
 * not signed: its records and digest are the base's); a changed one is
 * signed and stored as ".pitrkit/<key>/<k>.d" (its delta against the base
 * chunk) or ".w" (whole), whichever is smaller.  Files of the base not
 * met are removed.  Content decides, never size or time alone: every
 * chunk is read and digested.
 *
 * The results are consumed in order on this thread, which alone writes
 * the tar: an incremental's chunk members while the tar is between
 * members (in the hook's file call, or at the end), and all of them
 * before a file stored whole starts, so that the file's data, given in
 * the hook's data calls, is never cut by a member.  Chunks of consecutive
 * changed files are thus in flight together.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/backup/backup_impl.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"

/* Stored whole in every backup: recovery's end point is read from it. */
#define PG_CONTROL_KEY "data/global/pg_control"

/* What a pool slot holds. */
enum {
	OP_WBEGIN,   /* a whole file's start (key) */
	OP_WCHUNK,   /* a chunk of it: signed and digested */
	OP_WEND,     /* its end */
	OP_DCHUNK,   /* a chunk of a file the base has: compared, maybe stored */
	OP_DEND,     /* that file's end (key, size, base_size) */
};

struct bk_sign {
	struct bk_run *run;
	char **met;                /* incremental: the keys met, for the removed ones */
	size_t nmet, capmet;
	struct bk_pool *pool;
	struct bk_chunk *cur;      /* the whole file's chunk being filled */
	bool delta_pending;        /* chunk members may be waiting to be stored */
	size_t nstored;            /* chunks stored of the file being consumed */
};

char *
pitr_backup_sig_key(const char *data_base, const char *member, bool *oom)
{
	size_t n = strlen(data_base);
	char *key = NULL;

	*oom = false;
	if (strncmp(member, data_base, n) == 0 && member[n] == '/' && member[n + 1] != '\0')
		key = pitr_xasprintf("data/%s", member + n + 1);
	else if (strncmp(member, "tablespaces/", 12) == 0 && member[12] != '\0')
		key = pitr_xstrdup(member);
	else
		return NULL;
	*oom = key == NULL;
	return key;
}

/* Keep `key` (taken over) among those met. */
static int
remember(struct bk_sign *s, char *key)
{
	if (s->nmet == s->capmet) {
		size_t cap = s->capmet ? s->capmet * 2 : 1024;
		char **met = pitr_xreallocarray(s->met, cap, sizeof(*met));

		if (met == NULL) {
			free(key);
			return -1;
		}
		s->met = met;
		s->capmet = cap;
	}
	s->met[s->nmet++] = key;
	return 0;
}

/* Chunk `k` of a file of `size` bytes into c->buf, with the base's
 * (`base_size` bytes, records `base_rec`, chunk digests `base_dig`); zeros
 * where the file shrank since its size was taken, as a full backup stores
 * it (WAL replay mends it). */
static int
load_chunk(struct bk_chunk *c, int fd, const char *path, uint64_t size, uint32_t k,
	   uint64_t base_size, const unsigned char *base_rec, const unsigned char *base_dig)
{
	ssize_t n;

	c->op = OP_DCHUNK;
	c->k = k;
	c->len = pitr_delta_chunk_len(size, k);
	c->base_len = pitr_delta_chunk_len(base_size, k);
	c->base_rec = c->base_len == 0 ? NULL :
		      base_rec + (size_t)k * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD;
	c->base_digest = c->base_len == 0 || base_dig == NULL ? NULL :
			 base_dig + (size_t)k * PITR_DELTA_DIGEST;
	c->same = false;
	n = pitr_io_read_full(fd, c->buf, c->len);
	if (n < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n < c->len)
		memset(c->buf + n, 0, c->len - (size_t)n);
	return 0;
}

/* On a pool thread: a chunk of a file the base has.  Unchanged when its
 * length and digest are the base chunk's: nothing more to do.  Else
 * signed, and its delta made against the base chunk, kept only when
 * smaller than the chunk. */
static int
work_delta(struct bk_chunk *c)
{
	if (pitr_delta_chunk_digest(c->buf, c->len, c->digest) != 0)
		return -1;
	c->same = c->base_digest != NULL && c->base_len == c->len &&
		  memcmp(c->digest, c->base_digest, PITR_DELTA_DIGEST) == 0;
	if (c->same)
		return 0;
	if (pitr_delta_chunk_sig(c->buf, c->len, c->records) != 0)
		return -1;
	if (c->base_len == 0)
		return 0;
	if (pitr_delta_chunk_delta(c->buf, c->len, c->records, c->base_rec,
				   PITR_DELTA_NBLOCKS(c->base_len), &c->delta, &c->dlen) != 0)
		return -1;
	if (c->dlen >= c->len) {
		free(c->delta);
		c->delta = NULL;
	}
	return 0;
}

/* The pool's work. */
static int
work_chunk(void *ctx, struct bk_chunk *c)
{
	(void)ctx;
	if (c->op == OP_DCHUNK)
		return work_delta(c);
	if (c->op != OP_WCHUNK)
		return 0;
	return pitr_delta_chunk_sig(c->buf, c->len, c->records) == 0 &&
	       pitr_delta_chunk_digest(c->buf, c->len, c->digest) == 0 ? 0 : -1;
}

/* A changed chunk, worked on: its member, its records. */
static int
store_chunk(struct bk_sign *s, const struct bk_chunk *c)
{
	struct bk_run *run = s->run;
	bool whole = c->delta == NULL;
	char *member = pitr_xasprintf(PITR_DELTA_MEMBER_PREFIX "%s/%u.%s", c->key,
				      (unsigned)c->k, whole ? "w" : "d");
	int rc = -1;

	if (member != NULL &&
	    pitr_tarwrite_add_member(run->tar, member, whole ? c->buf : c->delta,
				     whole ? c->len : c->dlen, 0600) == 0 &&
	    pitr_delta_sigwriter_delta_chunk(run->sigw, c->key, c->k, c->records,
					     PITR_DELTA_NBLOCKS(c->len), c->digest) == 0) {
		run->not_stored += whole ? 0 : c->len - c->dlen;
		s->nstored++;
		rc = 0;
	}
	free(member);
	return rc;
}

/* The pool's consumer, in order, on this thread. */
static int
consume_chunk(void *ctx, struct bk_chunk *c)
{
	struct bk_sign *s = ctx;
	struct bk_run *run = s->run;
	int rc = 0;

	switch (c->op) {
	case OP_WBEGIN:
		return pitr_delta_sigwriter_whole_begin(run->sigw, c->key);
	case OP_WCHUNK:
		return pitr_delta_sigwriter_whole_chunk(run->sigw, c->len, c->records, c->digest);
	case OP_WEND:
		return pitr_delta_sigwriter_whole_end(run->sigw);
	case OP_DCHUNK:
		if (c->same)
			run->not_stored += c->len;
		else
			rc = store_chunk(s, c);
		pitr_progress_set(run->progress, pitr_tarwrite_bytes(run->tar) + run->not_stored,
				  pitr_tarwrite_files(run->tar));
		return rc;
	default:
		rc = s->nstored == 0 && c->size == c->base_size ?
		     pitr_delta_sigwriter_same(run->sigw, c->key, c->size) :
		     pitr_delta_sigwriter_delta_end(run->sigw, c->key, c->size);
		s->nstored = 0;
		return rc;
	}
}

/* A slot for a mark of `op` about `key` (copied; NULL: none), queued. */
static int
mark(struct bk_sign *s, int op, const char *key, uint64_t size, uint64_t base_size)
{
	struct bk_chunk *c = pitr_backup_pool_slot(s->pool);

	if (c == NULL)
		return -1;
	c->op = op;
	c->size = size;
	c->base_size = base_size;
	if (key != NULL && (c->key = pitr_xstrdup(key)) == NULL)
		return -1;
	pitr_backup_pool_submit(s->pool, c, false);
	return 0;
}

/* An incremental's file that the base has (`base_size` bytes, records
 * `base_rec`, digests `base_dig`): its chunks queued, then its end. */
static int
store_changes(struct bk_sign *s, const char *key, const char *path, int fd, uint64_t size,
	      uint64_t base_size, const unsigned char *base_rec, const unsigned char *base_dig)
{
	uint64_t nchunks = PITR_DELTA_NCHUNKS(size);

	s->delta_pending = true;
	for (uint32_t k = 0; k < nchunks; k++) {
		struct bk_chunk *c;

		if (pitr_backup_stopped(s->run) || (c = pitr_backup_pool_slot(s->pool)) == NULL)
			return -1;
		if ((c->key = pitr_xstrdup(key)) == NULL ||
		    load_chunk(c, fd, path, size, k, base_size, base_rec, base_dig) != 0)
			return -1;
		pitr_backup_pool_submit(s->pool, c, true);
	}
	return mark(s, OP_DEND, key, size, base_size);
}

/* A file stored whole starts: the chunk members still to store go first
 * (its data must not be cut by them). */
static int
whole_begin(struct bk_sign *s, const char *key)
{
	if (s->delta_pending && pitr_backup_pool_drain(s->pool, true) != 0)
		return -1;
	s->delta_pending = false;
	return mark(s, OP_WBEGIN, key, 0, 0);
}

/* tarwrite's hook: a file about to be stored. */
static int
sign_file(void *arg, struct pitr_tarwrite *t, const char *path, const char *name, int fd,
	  uint64_t size)
{
	struct bk_sign *s = arg;
	struct bk_run *run = s->run;
	const unsigned char *base_rec, *base_dig;
	uint64_t base_size;
	bool oom;
	char *key = pitr_backup_sig_key(run->data_base, name, &oom);
	int rc;

	(void)t;
	if (key == NULL) {
		if (!oom)
			pitr_log_error("internal error: data tarball member \"%s\" has no key", name);
		return -1;
	}
	if (run->chain != NULL && fd >= 0 && strcmp(key, PG_CONTROL_KEY) != 0 &&
	    pitr_delta_chain_lookup(run->chain, key, &base_size, &base_rec, &base_dig))
		rc = store_changes(s, key, path, fd, size, base_size, base_rec, base_dig) == 0 ?
		     PITR_TARWRITE_TAKEN : -1;
	else
		rc = whole_begin(s, key) == 0 ? PITR_TARWRITE_STORE : -1;
	if (run->chain == NULL)
		free(key);
	else if (remember(s, key) != 0)
		return -1;
	return rc;
}

/* tarwrite's hook: the bytes of a file stored whole, into chunks. */
static int
sign_data(void *arg, const void *buf, size_t len)
{
	struct bk_sign *s = arg;
	const unsigned char *p = buf;

	while (len > 0) {
		struct bk_chunk *c = s->cur;
		size_t n;

		if (c == NULL) {
			if ((c = s->cur = pitr_backup_pool_slot(s->pool)) == NULL)
				return -1;
			c->op = OP_WCHUNK;
		}
		n = PITR_DELTA_CHUNK - c->len < len ? PITR_DELTA_CHUNK - c->len : len;
		memcpy(c->buf + c->len, p, n);
		c->len += n;
		p += n;
		len -= n;
		if (c->len == PITR_DELTA_CHUNK) {
			s->cur = NULL;
			pitr_backup_pool_submit(s->pool, c, true);
		}
	}
	return 0;
}

static int
sign_end(void *arg)
{
	struct bk_sign *s = arg;

	if (s->cur != NULL) {
		pitr_backup_pool_submit(s->pool, s->cur, true);
		s->cur = NULL;
	}
	return mark(s, OP_WEND, NULL, 0, 0);
}

int
pitr_backup_sigs_begin(struct bk_run *run)
{
	struct bk_sign *s = pitr_xcalloc(1, sizeof(*s));
	struct pitr_tarwrite_hook hook = { sign_file, sign_data, sign_end, s };

	if (s == NULL)
		return -1;
	run->sign = s;
	s->run = run;
	run->sigw = pitr_delta_sigwriter_new(run->opts->temp_dir, run->sysid,
					     run->label, run->base_label);
	if (run->sigw == NULL ||
	    (s->pool = pitr_backup_pool_new(0, work_chunk, consume_chunk, s)) == NULL)
		return -1;
	pitr_tarwrite_set_hook(run->tar, &hook);
	return 0;
}

static int
cmp_keys(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* pitr_delta_chain_each()'s callback: a base file not met is removed. */
static int
removed_if_unmet(void *arg, const char *key, uint64_t size)
{
	struct bk_sign *s = arg;

	(void)size;
	if (bsearch(&key, s->met, s->nmet, sizeof(*s->met), cmp_keys) != NULL)
		return 0;
	return pitr_delta_sigwriter_removed(s->run->sigw, key) == 0 ? 0 : -1;
}

int
pitr_backup_sigs_end_data(struct bk_run *run)
{
	struct bk_sign *s = run->sign;

	if (pitr_backup_pool_drain(s->pool, true) != 0)
		return -1;
	if (run->chain == NULL)
		return 0;
	if (s->nmet > 0)
		qsort(s->met, s->nmet, sizeof(*s->met), cmp_keys);
	return pitr_delta_chain_each(run->chain, removed_if_unmet, s) == 0 ? 0 : -1;
}

int
pitr_backup_sigs_write(struct bk_run *run)
{
	if (pitr_backup_files_open(run, FT_SIG, "sig", true, false) != 0 ||
	    pitr_delta_sigwriter_finish(run->sigw, pitr_backup_files_sink,
					&run->files[FT_SIG]) != 0 ||
	    pitr_backup_files_close(run, FT_SIG) != 0)
		return -1;
	return 0;
}

void
pitr_backup_sigs_free(struct bk_run *run)
{
	struct bk_sign *s = run->sign;

	/* The threads first: the slots they use go with them. */
	if (s != NULL)
		pitr_backup_pool_free(s->pool);
	pitr_delta_sigwriter_free(run->sigw);
	run->sigw = NULL;
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nmet; i++)
		free(s->met[i]);
	free(s->met);
	free(s);
	run->sign = NULL;
}
