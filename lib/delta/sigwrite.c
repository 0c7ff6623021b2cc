/*
 * sigwrite.c - a backup's sig file, written (delta.h).  The records are
 * collected as the backup goes, in an unlinked temporary file (nothing
 * to clean up whatever ends the run), the manifest's lines in memory; at
 * the end the tar is written through tarwrite: every signature member in
 * the order they came, then "manifest".
 *
 * Files are given one at a time: a whole file's chunks' records and
 * digests (computed by the caller's threads: sig.c), or a delta file's
 * chunks, then its end, before the next file's.  A whole file's digests
 * are kept in memory (32 bytes a MiB) and put after its records at its
 * end.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "delta/delta_impl.h"
#include "tar/tarwrite.h"

/* Records pending for the temporary file, and its read-back window. */
#define SW_BUF (256 * 1024)

struct sw_entry {
	char *name;       /* tar member name */
	size_t len;       /* its bytes, next in the temporary file */
};

struct sw_chunk {
	uint32_t k;
	size_t nrec;
};

struct pitr_delta_sigwriter {
	int fd;                      /* the unlinked temporary file */
	const char *dir;             /* where it is, for messages */
	unsigned char *buf;          /* SW_BUF (or more, reading back) */
	size_t blen;                 /* bytes pending in buf */
	struct sw_entry *e;
	size_t n, cap;
	char *manifest;
	size_t mlen, mcap;
	/* The file being given: a whole one (whole), fed chunk by chunk, or
	 * a delta one (key alone). */
	bool whole;
	bool short_chunk;            /* the last chunk was short */
	unsigned char *dig;          /* a whole file's digests so far */
	size_t ndig, digcap;
	char *key;
	uint64_t size;               /* a whole file's bytes fed so far */
	uint64_t whole_start;        /* where its signature starts */
	uint64_t flushed;            /* bytes in the temporary file */
	struct sw_chunk *chunks;     /* a delta file's, so far */
	size_t nchunks, chunks_cap;
};

/* O_TMPFILE where the filesystem has it, else a named file unlinked at
 * once: either way nothing is left behind. */
static int
open_unlinked(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	char *path;

	if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
		goto out;
	if ((path = pitr_xasprintf("%s/%ssig.XXXXXX", dir, PITR_FSUTIL_TMP_PREFIX)) == NULL)
		return -1;
	if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
		unlink(path);
	free(path);
out:
	if (fd < 0)
		pitr_log_error("could not create a temporary file in \"%s\": %s", dir,
			       strerror(errno));
	return fd;
}

/* Append to the manifest in memory. */
static int
mf_add(struct pitr_delta_sigwriter *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
mf_add(struct pitr_delta_sigwriter *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(w->manifest + w->mlen, w->mcap - w->mlen, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if ((size_t)n < w->mcap - w->mlen)
			break;
		char *m = pitr_xrealloc(w->manifest, w->mcap * 2 + (size_t)n);

		if (m == NULL)
			return -1;
		w->manifest = m;
		w->mcap = w->mcap * 2 + (size_t)n;
	}
	w->mlen += (size_t)n;
	return 0;
}

/* A label, base or key: one line of text, not empty (base may be). */
static bool
text_ok(const char *s, bool may_be_empty)
{
	return s != NULL && (may_be_empty || *s != '\0') && strchr(s, '\n') == NULL;
}

struct pitr_delta_sigwriter *
pitr_delta_sigwriter_new(const char *temp_dir, uint64_t sysid, const char *label,
			 const char *base)
{
	struct pitr_delta_sigwriter *w = pitr_xcalloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->fd = -1;
	w->dir = pitr_fsutil_tmpdir(temp_dir);
	if (!text_ok(label, false) || (base != NULL && !text_ok(base, true))) {
		pitr_log_error("a sig file's label and base must be one line of text");
		goto fail;
	}
	w->mcap = 4096;
	if ((w->buf = pitr_xmalloc(SW_BUF)) == NULL ||
	    (w->manifest = pitr_xmalloc(w->mcap)) == NULL ||
	    mf_add(w, "format=%d\nsystem_identifier=%" PRIu64 "\nlabel=%s\nbase=%s\n"
		   "block=%d\nchunk=%d\n\n", PITR_DELTA_FORMAT, sysid, label,
		   base != NULL ? base : "", PITR_DELTA_BLOCK, PITR_DELTA_CHUNK) != 0 ||
	    (w->fd = open_unlinked(w->dir)) < 0)
		goto fail;
	return w;
fail:
	pitr_delta_sigwriter_free(w);
	return NULL;
}

void
pitr_delta_sigwriter_free(struct pitr_delta_sigwriter *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->dig);
	for (size_t i = 0; i < w->n; i++)
		free(w->e[i].name);
	free(w->e);
	free(w->buf);
	free(w->manifest);
	free(w->key);
	free(w->chunks);
	free(w);
}

static int
flush(struct pitr_delta_sigwriter *w)
{
	if (w->blen > 0 && pitr_io_write_all(w->fd, w->buf, w->blen) != 0) {
		pitr_log_error("could not write a temporary file in \"%s\": %s", w->dir,
			       strerror(errno));
		return -1;
	}
	w->flushed += w->blen;
	w->blen = 0;
	return 0;
}

/* Append bytes for the temporary file. */
static int
put(struct pitr_delta_sigwriter *w, const unsigned char *p, size_t len)
{
	while (len > 0) {
		size_t n = SW_BUF - w->blen < len ? SW_BUF - w->blen : len;

		memcpy(w->buf + w->blen, p, n);
		w->blen += n;
		p += n;
		len -= n;
		if (w->blen == SW_BUF && flush(w) != 0)
			return -1;
	}
	return 0;
}

/* A member of `len` bytes, just put in the temporary file. */
static int
add_entry(struct pitr_delta_sigwriter *w, char *name, size_t len)
{
	if (name == NULL)
		return -1;
	if (w->n == w->cap) {
		size_t cap = w->cap == 0 ? 256 : w->cap * 2;
		struct sw_entry *e = pitr_xreallocarray(w->e, cap, sizeof(*e));

		if (e == NULL) {
			free(name);
			return -1;
		}
		w->e = e;
		w->cap = cap;
	}
	w->e[w->n++] = (struct sw_entry){ .name = name, .len = len };
	return 0;
}

/* No file is being given (or `key`'s, a delta one, when not NULL). */
static int
idle(const struct pitr_delta_sigwriter *w, const char *key, const char *call)
{
	if (!w->whole && (w->key == NULL || (key != NULL && strcmp(w->key, key) == 0)))
		return 0;
	pitr_log_error("sig file: %s while \"%s\" is not ended", call, w->key);
	return -1;
}

static int
key_ok(const char *key)
{
	if (text_ok(key, false))
		return 0;
	pitr_log_error("sig file: a key must be one line of text, not empty");
	return -1;
}

int
pitr_delta_sigwriter_whole_begin(struct pitr_delta_sigwriter *w, const char *key)
{
	unsigned char h[PITR_DELTA_SIG_HEADER];

	if (idle(w, NULL, "whole_begin") != 0 || key_ok(key) != 0)
		return -1;
	if ((w->key = pitr_xstrdup(key)) == NULL)
		return -1;
	w->whole = true;
	w->short_chunk = false;
	w->ndig = 0;
	w->size = 0;
	w->whole_start = w->flushed + w->blen;
	/* librsync's header, then the records chunk by chunk: a signature
	 * as one librsync job over the file would make it. */
	delta_sig_header(h);
	return put(w, h, sizeof(h));
}

/* A digest kept for the whole file being given. */
static int
dig_add(struct pitr_delta_sigwriter *w, const unsigned char *digest)
{
	if (w->ndig == w->digcap) {
		size_t cap = w->digcap == 0 ? 64 : w->digcap * 2;
		unsigned char *d = pitr_xreallocarray(w->dig, cap, PITR_DELTA_DIGEST);

		if (d == NULL)
			return -1;
		w->dig = d;
		w->digcap = cap;
	}
	memcpy(w->dig + w->ndig++ * PITR_DELTA_DIGEST, digest, PITR_DELTA_DIGEST);
	return 0;
}

int
pitr_delta_sigwriter_whole_chunk(struct pitr_delta_sigwriter *w, size_t len,
				 const unsigned char *records, const unsigned char *digest)
{
	if (!w->whole) {
		pitr_log_error("sig file: whole_chunk without whole_begin");
		return -1;
	}
	if (len == 0 || len > PITR_DELTA_CHUNK || w->short_chunk || digest == NULL) {
		pitr_log_error("sig file: a chunk of %zu bytes of \"%s\" out of order or size, or "
			       "without its digest", len, w->key);
		return -1;
	}
	w->size += len;
	w->short_chunk = len < PITR_DELTA_CHUNK;
	return put(w, records, PITR_DELTA_NBLOCKS(len) * PITR_DELTA_RECORD) == 0 &&
	       dig_add(w, digest) == 0 ? 0 : -1;
}

int
pitr_delta_sigwriter_whole_end(struct pitr_delta_sigwriter *w)
{
	uint64_t len = w->flushed + w->blen - w->whole_start;
	int rc = 0;

	if (!w->whole) {
		pitr_log_error("sig file: whole_end without whole_begin");
		return -1;
	}
	if (len != PITR_DELTA_SIG_HEADER + PITR_DELTA_NBLOCKS(w->size) * PITR_DELTA_RECORD ||
	    w->ndig != PITR_DELTA_NCHUNKS(w->size)) {
		pitr_log_error("the signature of \"%s\" has an unexpected length", w->key);
		rc = -1;
	}
	if (rc == 0)
		rc = put(w, w->dig, w->ndig * PITR_DELTA_DIGEST);
	if (rc == 0)
		rc = add_entry(w, pitr_xasprintf("sig/%s", w->key),
			       (size_t)len + w->ndig * PITR_DELTA_DIGEST);
	if (rc == 0)
		rc = mf_add(w, "whole %" PRIu64 " %s\n", w->size, w->key);
	free(w->key);
	w->key = NULL;
	w->whole = false;
	return rc;
}

int
pitr_delta_sigwriter_delta_chunk(struct pitr_delta_sigwriter *w, const char *key, uint32_t k,
				 const unsigned char *records, size_t nrec, const unsigned char *digest)
{
	if (idle(w, key, "delta_chunk") != 0 || key_ok(key) != 0)
		return -1;
	if (w->key == NULL && (w->key = pitr_xstrdup(key)) == NULL)
		return -1;
	if (nrec == 0 || nrec > PITR_DELTA_CHUNK_BLOCKS || digest == NULL ||
	    (w->nchunks > 0 && k <= w->chunks[w->nchunks - 1].k)) {
		pitr_log_error("sig file: chunk %" PRIu32 " of \"%s\" (%zu records) out of order or size, "
			       "or without its digest", k, key, nrec);
		return -1;
	}
	if (w->nchunks == w->chunks_cap) {
		size_t cap = w->chunks_cap == 0 ? 16 : w->chunks_cap * 2;
		struct sw_chunk *c = pitr_xreallocarray(w->chunks, cap, sizeof(*c));

		if (c == NULL)
			return -1;
		w->chunks = c;
		w->chunks_cap = cap;
	}
	w->chunks[w->nchunks++] = (struct sw_chunk){ .k = k, .nrec = nrec };
	if (put(w, records, nrec * PITR_DELTA_RECORD) != 0 || put(w, digest, PITR_DELTA_DIGEST) != 0)
		return -1;
	return add_entry(w, pitr_xasprintf("sig/%s/%" PRIu32, key, k),
			 nrec * PITR_DELTA_RECORD + PITR_DELTA_DIGEST);
}

int
pitr_delta_sigwriter_delta_end(struct pitr_delta_sigwriter *w, const char *key, uint64_t size)
{
	int rc = 0;

	if (idle(w, key, "delta_end") != 0 || key_ok(key) != 0)
		return -1;
	for (size_t i = 0; i < w->nchunks && rc == 0; i++)
		if (PITR_DELTA_NBLOCKS(pitr_delta_chunk_len(size, w->chunks[i].k)) != w->chunks[i].nrec) {
			pitr_log_error("sig file: chunk %" PRIu32 " of \"%s\" does not fit its size %"
				       PRIu64, w->chunks[i].k, key, size);
			rc = -1;
		}
	if (rc == 0)
		rc = mf_add(w, "delta %" PRIu64 " %s\n", size, key);
	free(w->key);
	w->key = NULL;
	w->nchunks = 0;
	return rc;
}

int
pitr_delta_sigwriter_same(struct pitr_delta_sigwriter *w, const char *key, uint64_t size)
{
	if (idle(w, NULL, "same") != 0 || key_ok(key) != 0)
		return -1;
	return mf_add(w, "same %" PRIu64 " %s\n", size, key);
}

int
pitr_delta_sigwriter_removed(struct pitr_delta_sigwriter *w, const char *key)
{
	if (idle(w, NULL, "removed") != 0 || key_ok(key) != 0)
		return -1;
	return mf_add(w, "removed 0 %s\n", key);
}

/* The next `len` bytes of the temporary file, read back through the
 * buffer (grown for a member larger than it): *p points into it. */
static int
read_back(struct pitr_delta_sigwriter *w, size_t *pos, size_t *cap, size_t len,
	  const unsigned char **p)
{
	ssize_t n;

	if (w->blen - *pos < len) {
		memmove(w->buf, w->buf + *pos, w->blen - *pos);
		w->blen -= *pos;
		*pos = 0;
		if (len > *cap) {
			unsigned char *b = pitr_xrealloc(w->buf, len);

			if (b == NULL)
				return -1;
			w->buf = b;
			*cap = len;
		}
		n = pitr_io_read_full(w->fd, w->buf + w->blen, *cap - w->blen);
		if (n < 0 || w->blen + (size_t)n < len) {
			pitr_log_error("could not read a temporary file in \"%s\": %s", w->dir,
				       n < 0 ? strerror(errno) : "it is shorter than written");
			return -1;
		}
		w->blen += (size_t)n;
	}
	*p = w->buf + *pos;
	*pos += len;
	return 0;
}

int
pitr_delta_sigwriter_finish(struct pitr_delta_sigwriter *w, pitr_codec_sink_fn sink, void *ctx)
{
	struct pitr_tarwrite *t = NULL;
	size_t pos = 0, cap = SW_BUF;
	int rc = -1;

	if (idle(w, NULL, "finish") != 0 || flush(w) != 0)
		return -1;
	if (lseek(w->fd, 0, SEEK_SET) != 0) {
		pitr_log_error("could not rewind a temporary file in \"%s\": %s", w->dir,
			       strerror(errno));
		return -1;
	}
	if ((t = pitr_tarwrite_new(sink, ctx)) == NULL)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		const unsigned char *p;

		if (read_back(w, &pos, &cap, w->e[i].len, &p) != 0 ||
		    pitr_tarwrite_add_buffer(t, w->e[i].name, p, w->e[i].len, 0600) != 0)
			goto out;
	}
	if (pitr_tarwrite_add_buffer(t, "manifest", w->manifest, w->mlen, 0600) == 0 &&
	    pitr_tarwrite_finish(t) == 0)
		rc = 0;
out:
	pitr_tarwrite_free(t);
	return rc;
}
