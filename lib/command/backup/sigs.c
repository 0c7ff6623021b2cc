/*
 * sigs.c - the signatures of a backup's files (lib/delta/delta.h), taken
 * from exactly the bytes the data tarball stores, through tarwrite's
 * per-file hook; in an incremental backup the same hook stores, in place
 * of a file the base has, only the chunks that changed since it.
 *
 * A full backup's every file is of kind whole.  In an incremental, a
 * regular file from disk that the base has (by key, global/pg_control
 * excepted: it is always stored whole, last, as a full backup stores it)
 * is read in PITR_DELTA_CHUNK pieces; a chunk of the base's length whose
 * every record equals the base's is not stored, a changed one is stored as
 * ".pitrkit/<key>/<k>.d" (its librsync delta against the base chunk's
 * records) or ".w" (whole) whichever is smaller.  Files of the base not
 * met are removed.  Content decides, never size or time alone: every
 * chunk is read and signed.
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

/* One chunk's work, which needs nothing but its own buffers, so that two
 * chunks are worked on at once, one on each core. */
struct chunk_work {
	unsigned char *buf;            /* PITR_DELTA_CHUNK bytes */
	unsigned char *records;        /* its records */
	unsigned char digest[PITR_DELTA_DIGEST];
	size_t len;
	const unsigned char *base_rec; /* the base chunk's records; NULL: none */
	size_t base_len;               /* its length; 0 beyond the base's end */
	struct bk_signer *split;       /* sign on two threads; NULL: on this one */
	bool same;                     /* unchanged: not stored */
	unsigned char *delta;          /* the delta to store; NULL: stored whole */
	size_t dlen;
	int rc;
};

struct bk_sign {
	struct bk_run *run;
	char **met;                /* incremental: the keys met, for the removed ones */
	size_t nmet, capmet;
	struct chunk_work work[2]; /* incremental: two chunks at once */
	struct bk_signer *signer;  /* incremental: the second core */
	struct bk_sigq *q;         /* whole files signed on a thread */
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

/* `len` bytes of `path` into w->buf; zeros where the file shrank since
 * its size was taken, as a full backup stores it (WAL replay mends it). */
static int
read_chunk(struct chunk_work *w, int fd, const char *path)
{
	ssize_t n = pitr_io_read_full(fd, w->buf, w->len);

	if (n < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n < w->len)
		memset(w->buf + n, 0, w->len - (size_t)n);
	return 0;
}

/* Sign the chunk, compare it with the base's, and make its delta when it
 * changed (kept only when smaller than the chunk). */
static void
compute_chunk(void *arg)
{
	struct chunk_work *w = arg;
	size_t nrec = PITR_DELTA_NBLOCKS(w->len);

	w->same = false;
	w->delta = NULL;
	w->rc = pitr_backup_signer_sign(w->split, w->buf, w->len, w->records);
	if (w->rc != 0)
		return;
	if (w->base_len == w->len && memcmp(w->records, w->base_rec, nrec * PITR_DELTA_RECORD) == 0) {
		w->same = true;
		return;
	}
	if (pitr_delta_chunk_digest(w->buf, w->len, w->digest) != 0 ||
	    (w->base_len > 0 &&
	     pitr_delta_chunk_delta(w->buf, w->len, w->records, w->base_rec,
				    PITR_DELTA_NBLOCKS(w->base_len), &w->delta, &w->dlen) != 0))
		w->rc = -1;
	if (w->delta != NULL && w->dlen >= w->len) {
		free(w->delta);
		w->delta = NULL;
	}
}

/* Chunk `k` of `key`, computed: 0 when unchanged (not stored), 1 when
 * stored, -1. */
static int
store_chunk(struct bk_sign *s, struct pitr_tarwrite *t, const char *key, uint32_t k,
	    const struct chunk_work *w)
{
	bool whole = w->delta == NULL;
	char *member;
	int rc = -1;

	if (w->rc != 0)
		return -1;
	if (w->same) {
		s->run->not_stored += w->len;
		return 0;
	}
	member = pitr_xasprintf(PITR_DELTA_MEMBER_PREFIX "%s/%u.%s", key, (unsigned)k,
				whole ? "w" : "d");
	if (member != NULL &&
	    pitr_tarwrite_add_member(t, member, whole ? w->buf : w->delta,
				     whole ? w->len : w->dlen, 0600) == 0 &&
	    pitr_delta_sigwriter_delta_chunk(s->run->sigw, key, k, w->records,
					     PITR_DELTA_NBLOCKS(w->len), w->digest) == 0) {
		s->run->not_stored += whole ? 0 : w->len - w->dlen;
		rc = 1;
	}
	free(member);
	return rc;
}

/* Chunk `k` of a file of `size` bytes read into `w`, with the base's
 * (`base_size` bytes, records `base_rec`). */
static int
load_chunk(struct chunk_work *w, int fd, const char *path, uint64_t size, uint32_t k,
	   uint64_t base_size, const unsigned char *base_rec)
{
	uint64_t off = (uint64_t)k * PITR_DELTA_CHUNK;

	w->len = size - off < PITR_DELTA_CHUNK ? (size_t)(size - off) : PITR_DELTA_CHUNK;
	w->base_len = off >= base_size ? 0 : base_size - off < PITR_DELTA_CHUNK ?
		      (size_t)(base_size - off) : PITR_DELTA_CHUNK;
	w->base_rec = w->base_len == 0 ? NULL :
		      base_rec + (size_t)k * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD;
	w->delta = NULL;
	w->rc = -1;
	return read_chunk(w, fd, path);
}

/* Chunks `k` and `k + 1` (n of them, 1 or 2) loaded: worked on, one per
 * core (or a lone one on two), then stored in order.  The count stored,
 * or -1. */
static int
store_pair(struct bk_sign *s, struct pitr_tarwrite *t, const char *key, uint32_t k, int n)
{
	struct chunk_work *w = s->work;
	int stored = 0, r;

	w[0].split = w[1].split = NULL;
	if (n == 2 && pitr_backup_signer_start(s->signer, compute_chunk, &w[1])) {
		compute_chunk(&w[0]);
		pitr_backup_signer_wait(s->signer);
	} else {
		for (int i = 0; i < n; i++) {
			w[i].split = s->signer;
			compute_chunk(&w[i]);
		}
	}
	for (int i = 0; i < n; i++) {
		r = stored < 0 ? -1 : store_chunk(s, t, key, k + (uint32_t)i, &w[i]);
		stored = r < 0 ? -1 : stored + r;
		free(w[i].delta);
		w[i].delta = NULL;
	}
	return stored;
}

/* An incremental's file that the base has (`base_size` bytes, records
 * `base_rec`): its changed chunks, then its manifest line. */
static int
store_changes(struct bk_sign *s, struct pitr_tarwrite *t, const char *key, const char *path,
	      int fd, uint64_t size, uint64_t base_size, const unsigned char *base_rec)
{
	struct bk_run *run = s->run;
	size_t nstored = 0;
	uint64_t nchunks = (size + PITR_DELTA_CHUNK - 1) / PITR_DELTA_CHUNK;

	for (uint32_t k = 0; k < nchunks; k += 2) {
		int n = nchunks - k >= 2 ? 2 : 1, r;

		for (int i = 0; i < n; i++)
			if (pitr_backup_stopped(run) ||
			    load_chunk(&s->work[i], fd, path, size, k + (uint32_t)i, base_size,
				       base_rec) != 0)
				return -1;
		r = store_pair(s, t, key, k, n);
		if (r < 0)
			return -1;
		nstored += (size_t)r;
		pitr_progress_set(run->progress, pitr_tarwrite_bytes(t) + run->not_stored,
				  pitr_tarwrite_files(t));
	}
	if (nstored == 0 && size == base_size)
		return pitr_delta_sigwriter_same(run->sigw, key, size);
	return pitr_delta_sigwriter_delta_end(run->sigw, key, size);
}

/* tarwrite's hook: a file about to be stored. */
static int
sign_file(void *arg, struct pitr_tarwrite *t, const char *path, const char *name, int fd,
	  uint64_t size)
{
	struct bk_sign *s = arg;
	struct bk_run *run = s->run;
	const unsigned char *base_rec;
	uint64_t base_size;
	bool oom;
	char *key = pitr_backup_sig_key(run->data_base, name, &oom);
	int rc;

	if (key == NULL) {
		if (!oom)
			pitr_log_error("internal error: data tarball member \"%s\" has no key", name);
		return -1;
	}
	if (run->chain != NULL && fd >= 0 && strcmp(key, PG_CONTROL_KEY) != 0 &&
	    pitr_delta_chain_lookup(run->chain, key, &base_size, &base_rec, NULL))
		rc = pitr_backup_sigq_sync(s->q) == 0 &&
		     store_changes(s, t, key, path, fd, size, base_size, base_rec) == 0 ?
		     PITR_TARWRITE_TAKEN : -1;
	else
		rc = pitr_backup_sigq_begin(s->q, key) == 0 ? PITR_TARWRITE_STORE : -1;
	if (run->chain == NULL)
		free(key);
	else if (remember(s, key) != 0)
		return -1;
	return rc;
}

static int
sign_data(void *arg, const void *buf, size_t len)
{
	return pitr_backup_sigq_data(((struct bk_sign *)arg)->q, buf, len);
}

static int
sign_end(void *arg)
{
	return pitr_backup_sigq_end(((struct bk_sign *)arg)->q);
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
	if (run->sigw == NULL || (s->q = pitr_backup_sigq_new(run->sigw)) == NULL)
		return -1;
	for (int i = 0; run->chain != NULL && i < 2; i++)
		if ((s->work[i].buf = pitr_xmalloc(PITR_DELTA_CHUNK)) == NULL ||
		    (s->work[i].records = pitr_xmalloc(PITR_DELTA_CHUNK_BLOCKS *
						       PITR_DELTA_RECORD)) == NULL)
			return -1;
	if (run->chain != NULL && (s->signer = pitr_backup_signer_new()) == NULL)
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

	if (pitr_backup_sigq_sync(s->q) != 0)
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

	/* The thread first: it may be using the sig writer. */
	if (s != NULL)
		pitr_backup_sigq_free(s->q);
	pitr_delta_sigwriter_free(run->sigw);
	run->sigw = NULL;
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nmet; i++)
		free(s->met[i]);
	free(s->met);
	pitr_backup_signer_free(s->signer);
	for (int i = 0; i < 2; i++) {
		free(s->work[i].buf);
		free(s->work[i].records);
	}
	free(s);
	run->sign = NULL;
}
