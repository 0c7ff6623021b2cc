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

struct bk_sign {
	struct bk_run *run;
	char **met;                /* incremental: the keys met, for the removed ones */
	size_t nmet, capmet;
	unsigned char *chunk;      /* PITR_DELTA_CHUNK bytes */
	unsigned char *records;    /* a chunk's records */
	struct bk_signer *signer;  /* incremental: a chunk signed on two cores */
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
		char **met = pitr_xrealloc(s->met, cap * sizeof(*met));

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

/* `len` bytes of `path` into s->chunk; zeros where the file shrank since
 * its size was taken, as a full backup stores it (WAL replay mends it). */
static int
read_chunk(struct bk_sign *s, int fd, const char *path, size_t len)
{
	ssize_t n = pitr_io_read_full(fd, s->chunk, len);

	if (n < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)n < len)
		memset(s->chunk + n, 0, len - (size_t)n);
	return 0;
}

/* Chunk `k` of `key`, `len` bytes in s->chunk, against the base chunk of
 * `base_len` bytes (0: beyond the base's end) and records `base_rec`: 0
 * when unchanged (not stored), 1 when stored, -1. */
static int
store_chunk(struct bk_sign *s, struct pitr_tarwrite *t, const char *key, uint32_t k, size_t len,
	    const unsigned char *base_rec, size_t base_len)
{
	size_t nrec = PITR_DELTA_NBLOCKS(len), dlen = 0;
	unsigned char *delta = NULL;
	char *member = NULL;
	bool whole;
	int rc = -1;

	if (pitr_backup_signer_sign(s->signer, s->chunk, len, s->records) != 0)
		return -1;
	if (base_len == len && memcmp(s->records, base_rec, nrec * PITR_DELTA_RECORD) == 0) {
		s->run->not_stored += len;
		return 0;
	}
	if (base_len > 0 && pitr_delta_chunk_delta(s->chunk, len, base_rec,
						   PITR_DELTA_NBLOCKS(base_len), &delta, &dlen) != 0)
		return -1;
	whole = delta == NULL || dlen >= len;
	member = pitr_xasprintf(PITR_DELTA_MEMBER_PREFIX "%s/%u.%s", key, (unsigned)k,
				whole ? "w" : "d");
	if (member != NULL &&
	    pitr_tarwrite_add_member(t, member, whole ? s->chunk : delta, whole ? len : dlen,
				     0600) == 0 &&
	    pitr_delta_sigwriter_delta_chunk(s->run->sigw, key, k, s->records, nrec) == 0) {
		s->run->not_stored += whole ? 0 : len - dlen;
		rc = 1;
	}
	free(member);
	free(delta);
	return rc;
}

/* An incremental's file that the base has (`base_size` bytes, records
 * `base_rec`): its changed chunks, then its manifest line. */
static int
store_changes(struct bk_sign *s, struct pitr_tarwrite *t, const char *key, const char *path,
	      int fd, uint64_t size, uint64_t base_size, const unsigned char *base_rec)
{
	struct bk_run *run = s->run;
	size_t nstored = 0;
	uint32_t k = 0;

	for (uint64_t off = 0; off < size; off += PITR_DELTA_CHUNK, k++) {
		size_t len = size - off < PITR_DELTA_CHUNK ? (size_t)(size - off) : PITR_DELTA_CHUNK;
		size_t base_len = off >= base_size ? 0 : base_size - off < PITR_DELTA_CHUNK ?
				  (size_t)(base_size - off) : PITR_DELTA_CHUNK;
		int r;

		if (pitr_backup_stopped(run) || read_chunk(s, fd, path, len) != 0)
			return -1;
		r = store_chunk(s, t, key, k, len, base_len == 0 ? NULL :
				base_rec + (size_t)k * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD,
				base_len);
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
	    pitr_delta_chain_lookup(run->chain, key, &base_size, &base_rec))
		rc = store_changes(s, t, key, path, fd, size, base_size, base_rec) == 0 ?
		     PITR_TARWRITE_TAKEN : -1;
	else
		rc = pitr_delta_sigwriter_whole_begin(run->sigw, key) == 0 ? PITR_TARWRITE_STORE : -1;
	if (run->chain == NULL)
		free(key);
	else if (remember(s, key) != 0)
		return -1;
	return rc;
}

static int
sign_data(void *arg, const void *buf, size_t len)
{
	return pitr_delta_sigwriter_whole_data(((struct bk_sign *)arg)->run->sigw, buf, len);
}

static int
sign_end(void *arg)
{
	return pitr_delta_sigwriter_whole_end(((struct bk_sign *)arg)->run->sigw);
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
	run->sigw = pitr_delta_sigwriter_new(pitr_fsutil_tmpdir(run->opts->temp_dir), run->sysid,
					     run->label, run->base_label);
	if (run->sigw == NULL)
		return -1;
	if (run->chain != NULL &&
	    ((s->chunk = pitr_xmalloc(PITR_DELTA_CHUNK)) == NULL ||
	     (s->records = pitr_xmalloc(PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD)) == NULL ||
	     (s->signer = pitr_backup_signer_new()) == NULL))
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

	pitr_delta_sigwriter_free(run->sigw);
	run->sigw = NULL;
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nmet; i++)
		free(s->met[i]);
	free(s->met);
	pitr_backup_signer_free(s->signer);
	free(s->chunk);
	free(s->records);
	free(s);
	run->sign = NULL;
}
