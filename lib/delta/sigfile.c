/*
 * sigfile.c - read a backup's sig file (delta.h): the tar comes through
 * tarread's stream (our codec readers, the read-ahead thread), every
 * member is kept until the manifest, last, says what each one is; then
 * every record is checked against the manifest and handed to its file.
 *
 * A whole file's member holds librsync's 12-byte header and a chunk's
 * member none; in format 2 each ends with its chunks' digests.  What a
 * member is, and so how long it must be, is known once the manifest,
 * last, is read: members are kept whole until then.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librsync.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "delta/delta_impl.h"
#include "tar/tarread.h"

/* A manifest is about 50 bytes a file: this is millions of files. */
#define MANIFEST_MAX ((int64_t)1 << 30)
#define SIG_PREFIX "sig/"
/* A member's buffer starts at this, and doubles as its bytes come. */
#define GROW_FIRST 4096
/* Larger sizes are not a file's (and would overflow the block counts). */
#define FILE_SIZE_MAX ((uint64_t)1 << 48)

struct sf_member {
	char *name;                 /* after "sig/" */
	unsigned char *rec;         /* its bytes: header, records, digests */
	size_t len;                 /* bytes at rec */
	long file;                  /* its file, once known; -1 before */
	uint32_t k;                 /* its chunk, for a delta file's */
};

/* A delta file's chunk members, counted before its arrays are made. */
struct sf_tally {
	size_t n;                   /* chunk members */
	uint32_t last;              /* the last one's k */
	size_t bytes;               /* their records' bytes */
	size_t dbytes;              /* digests copied so far */
	size_t done;                /* bytes copied so far */
};

struct sf_read {
	const char *path;
	int fd;                     /* -1: open path */
	struct sf_tally *tally;     /* per file of the manifest */
	struct sf_member *m;
	size_t n, cap;
	char *manifest;
	size_t mlen;
	struct pitr_delta_sigs *out;
};

static int damaged(const struct sf_read *rd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
damaged(const struct sf_read *rd, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pitr_log_error("sig file \"%s\" is damaged: %s", rd->path, why);
	return -1;
}

static void
members_free(struct sf_read *rd)
{
	for (size_t i = 0; i < rd->n; i++) {
		free(rd->m[i].name);
		free(rd->m[i].rec);
	}
	free(rd->m);
	free(rd->manifest);
	free(rd->tally);
}

/* `len` bytes of the member into a malloc'd buffer (`extra` bytes more
 * at its end), grown as they come: a header that claims more than the
 * file holds fails at the file's end, not at an allocation of its claim. */
static unsigned char *
read_grown(struct pitr_tarread_stream *st, size_t len, size_t extra)
{
	size_t cap = len < GROW_FIRST ? len : GROW_FIRST, have = 0;
	unsigned char *b = pitr_xmalloc(cap + extra), *n;

	while (b != NULL && have < len) {
		if (have == cap) {
			cap = len - cap < cap ? len : cap * 2;
			if ((n = pitr_xrealloc(b, cap + extra)) == NULL)
				break;
			b = n;
		}
		if (pitr_tarread_read(st, b + have, cap - have) != 0)
			break;
		have = cap;
	}
	if (b != NULL && have < len) {
		free(b);
		return NULL;
	}
	return b;
}

/* A "sig/..." member kept. */
static int
keep_member(struct sf_read *rd, struct pitr_tarread_stream *st, const char *name, int64_t size)
{
	struct sf_member *m;

	if (rd->n == rd->cap) {
		size_t cap = rd->cap == 0 ? 64 : rd->cap * 2;
		struct sf_member *n = pitr_xreallocarray(rd->m, cap, sizeof(*n));

		if (n == NULL)
			return -1;
		rd->m = n;
		rd->cap = cap;
	}
	m = &rd->m[rd->n];
	*m = (struct sf_member){ .len = (size_t)size, .file = -1 };
	if ((m->name = pitr_xstrdup(name + strlen(SIG_PREFIX))) == NULL)
		return -1;
	rd->n++;
	return (m->rec = read_grown(st, m->len, 1)) != NULL ? 0 : -1;
}

static int
keep_manifest(struct sf_read *rd, struct pitr_tarread_stream *st, int64_t size)
{
	if (size < 0 || size > MANIFEST_MAX)
		return damaged(rd, "its manifest has %" PRId64 " bytes", size);
	if ((rd->manifest = (char *)read_grown(st, (size_t)size, 1)) == NULL)
		return -1;
	rd->manifest[size] = '\0';
	rd->mlen = (size_t)size;
	return 0;
}

/* Every member: the records, then the manifest, then the end. */
static int
read_members(struct sf_read *rd, enum pitr_codec codec)
{
	struct pitr_tarread_stream *st = pitr_tarread_open_fd(rd->fd, rd->path, codec);
	const char *name;
	int64_t size;
	int r, rc = -1;

	if (st == NULL)
		return -1;
	while ((r = pitr_tarread_next(st, &name, &size)) == 1 && rd->manifest == NULL) {
		if (strcmp(name, "manifest") == 0)
			r = keep_manifest(rd, st, size);
		else if (strncmp(name, SIG_PREFIX, strlen(SIG_PREFIX)) == 0 && size >= 0)
			r = keep_member(rd, st, name, size);
		else
			r = damaged(rd, "unexpected member \"%s\"", name);
		if (r != 0)
			goto out;
	}
	if (r == 1)
		damaged(rd, "member \"%s\" follows the manifest", name);
	else if (r == 0 && rd->manifest == NULL)
		damaged(rd, "it has no manifest");
	else
		rc = r;
out:
	pitr_tarread_close(st);
	return rc;
}

/* A decimal number of `len` characters at `s`, digits only. */
static bool
parse_u64(const char *s, size_t len, uint64_t *v)
{
	*v = 0;
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9' || *v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

/* The header's keys, each required once. */
enum sf_key { K_FORMAT, K_SYSID, K_LABEL, K_BASE, K_BLOCK, K_CHUNK, K_COUNT };
static const char *const sf_keys[K_COUNT] = {
	"format", "system_identifier", "label", "base", "block", "chunk",
};

/* The value `v` (`vlen` bytes) of header key `k`: false when it is not
 * this format's. */
static bool
header_value(struct pitr_delta_sigs *o, enum sf_key k, const char *v, size_t vlen)
{
	uint64_t n;

	switch (k) {
	case K_FORMAT:
		if (!parse_u64(v, vlen, &n) || n < 1 || n > PITR_DELTA_FORMAT)
			return false;
		o->format = (int)n;
		return true;
	case K_SYSID:
		return parse_u64(v, vlen, &o->sysid);
	case K_LABEL:
		return vlen > 0 && (o->label = pitr_xstrndup(v, vlen)) != NULL;
	case K_BASE:
		return vlen == 0 || (o->base = pitr_xstrndup(v, vlen)) != NULL;
	case K_BLOCK:
		return parse_u64(v, vlen, &n) && n == PITR_DELTA_BLOCK;
	default:
		return parse_u64(v, vlen, &n) && n == PITR_DELTA_CHUNK;
	}
}

/* One "key=value" header line (`line`, `len` bytes, no newline); keys
 * of later formats are let by. */
static int
header_line(struct sf_read *rd, const char *line, size_t len, bool *seen)
{
	const char *eq = memchr(line, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - line) : 0;

	if (eq == NULL)
		return damaged(rd, "manifest line \"%.*s\" is not key=value", (int)len, line);
	for (int k = 0; k < K_COUNT; k++) {
		if (klen != strlen(sf_keys[k]) || memcmp(line, sf_keys[k], klen) != 0)
			continue;
		if (seen[k])
			return damaged(rd, "its manifest gives \"%s\" twice", sf_keys[k]);
		seen[k] = true;
		if (k == K_FORMAT && !header_value(rd->out, K_FORMAT, eq + 1, len - klen - 1)) {
			pitr_log_error("sig file \"%s\" is of format \"%.*s\": this pitrkit reads "
				       "formats 1 to %d", rd->path, (int)(len - klen - 1), eq + 1,
				       PITR_DELTA_FORMAT);
			return -1;
		}
		if (k != K_FORMAT && !header_value(rd->out, (enum sf_key)k, eq + 1, len - klen - 1))
			return damaged(rd, "manifest line \"%.*s\" is not this format's", (int)len,
				       line);
	}
	return 0;
}

/* The header lines, up to the empty line: *pos moves past it. */
static int
parse_header(struct sf_read *rd, size_t *pos)
{
	bool seen[K_COUNT] = { false };

	for (;;) {
		const char *line = rd->manifest + *pos;
		const char *nl = memchr(line, '\n', rd->mlen - *pos);

		if (nl == NULL)
			return damaged(rd, "its manifest ends within its header");
		*pos += (size_t)(nl - line) + 1;
		if (nl == line)
			break;
		if (header_line(rd, line, (size_t)(nl - line), seen) != 0)
			return -1;
	}
	for (int k = 0; k < K_COUNT; k++)
		if (!seen[k])
			return damaged(rd, "its manifest's header lacks \"%s\"", sf_keys[k]);
	return 0;
}

static bool
parse_kind(const char *s, size_t len, enum pitr_delta_kind *kind)
{
	static const char *const names[] = { "whole", "delta", "same", "removed" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (len == strlen(names[i]) && memcmp(s, names[i], len) == 0) {
			*kind = (enum pitr_delta_kind)i;
			return true;
		}
	return false;
}

/* "<kind> <size> <key>" (`len` bytes, no newline) into `f`. */
static int
file_line(struct sf_read *rd, const char *line, size_t len, struct pitr_delta_file *f)
{
	const char *sp1 = memchr(line, ' ', len), *sp2 = NULL;

	if (sp1 != NULL)
		sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line));
	if (sp2 == NULL || !parse_kind(line, (size_t)(sp1 - line), &f->kind) ||
	    !parse_u64(sp1 + 1, (size_t)(sp2 - sp1 - 1), &f->size) || f->size > FILE_SIZE_MAX ||
	    sp2 + 1 == line + len ||
	    (f->kind == PITR_DELTA_REMOVED && f->size != 0) ||
	    (rd->out->base == NULL && f->kind != PITR_DELTA_WHOLE))
		return damaged(rd, "manifest line \"%.*s\" is not this format's", (int)len, line);
	f->key = pitr_xstrndup(sp2 + 1, (size_t)(line + len - sp2 - 1));
	return f->key != NULL ? 0 : -1;
}

/* The file lines after the header, each key once. */
static int
parse_files(struct sf_read *rd, size_t pos)
{
	struct pitr_delta_sigs *o = rd->out;
	size_t n = 0, dup;

	for (size_t i = pos; i < rd->mlen; i++)
		n += rd->manifest[i] == '\n';
	if ((o->files = pitr_xcalloc(n > 0 ? n : 1, sizeof(*o->files))) == NULL ||
	    (o->index = delta_map_new()) == NULL)
		return -1;
	while (pos < rd->mlen) {
		const char *line = rd->manifest + pos, *nl = memchr(line, '\n', rd->mlen - pos);
		struct pitr_delta_file *f = &o->files[o->nfiles];
		int r;

		pos += (size_t)(nl - line) + 1;
		if (file_line(rd, line, (size_t)(nl - line), f) != 0)
			return -1;
		o->nfiles++;
		if ((r = delta_map_put(o->index, f->key, o->nfiles - 1, &dup)) < 0)
			return -1;
		if (r == 0)
			return damaged(rd, "its manifest lists \"%s\" twice", f->key);
	}
	return 0;
}

static int
parse_manifest(struct sf_read *rd)
{
	size_t pos = 0;

	if (strlen(rd->manifest) != rd->mlen)
		return damaged(rd, "its manifest holds a NUL byte");
	if (rd->mlen > 0 && rd->manifest[rd->mlen - 1] != '\n')
		return damaged(rd, "its manifest's last line is cut");
	if (parse_header(rd, &pos) != 0)
		return -1;
	return parse_files(rd, pos);
}

static bool
header_ok(const unsigned char *h)
{
	const uint32_t want[3] = { RS_BLAKE2_SIG_MAGIC, PITR_DELTA_BLOCK, PITR_DELTA_STRONG };

	for (int i = 0; i < 3; i++)
		if (delta_be32_get(h + 4 * i) != want[i])
			return false;
	return true;
}

/* Bytes of the digests of `nchunks` chunks in this sig file's format. */
static size_t
digest_bytes(const struct sf_read *rd, uint64_t nchunks)
{
	return rd->out->format >= 2 ? (size_t)nchunks * PITR_DELTA_DIGEST : 0;
}

/* A whole file's member: its records (moved over the header), and its
 * digests apart, once. */
static int
whole_member(struct sf_read *rd, struct sf_member *m, long fi)
{
	struct pitr_delta_file *f = &rd->out->files[fi];
	size_t rlen = PITR_DELTA_NBLOCKS(f->size) * PITR_DELTA_RECORD;
	size_t dlen = digest_bytes(rd, PITR_DELTA_NCHUNKS(f->size));

	if (m->len < PITR_DELTA_SIG_HEADER || !header_ok(m->rec))
		return damaged(rd, "the signature of \"%s\" is not of %d-byte blocks and %d-byte sums",
			       f->key, PITR_DELTA_BLOCK, PITR_DELTA_STRONG);
	if (f->records != NULL)
		return damaged(rd, "it holds the signature of \"%s\" twice", f->key);
	if (m->len != PITR_DELTA_SIG_HEADER + rlen + dlen)
		return damaged(rd, "the signature of \"%s\" has %zu bytes, not %zu (%" PRIu64
			       " records%s)", f->key, m->len, PITR_DELTA_SIG_HEADER + rlen + dlen,
			       PITR_DELTA_NBLOCKS(f->size), dlen > 0 ? " and their digests" : "");
	if (rd->out->format >= 2) {
		if ((f->digests = pitr_xmalloc(dlen + 1)) == NULL)
			return -1;
		memcpy(f->digests, m->rec + PITR_DELTA_SIG_HEADER + rlen, dlen);
	}
	memmove(m->rec, m->rec + PITR_DELTA_SIG_HEADER, rlen);
	f->records = m->rec;
	m->rec = NULL;
	m->file = fi;
	return 0;
}

/* A delta file's chunk member "<key>/<k>": counted in its file's tally,
 * checked (ascending, inside the file, its records' count). */
static int
chunk_member(struct sf_read *rd, struct sf_member *m)
{
	char *slash = strrchr(m->name, '/');
	struct sf_tally *t;
	uint64_t k;
	long fi = -1;
	struct pitr_delta_file *f;

	if (slash != NULL && parse_u64(slash + 1, strlen(slash + 1), &k) && k <= UINT32_MAX) {
		*slash = '\0';
		fi = delta_map_get(rd->out->index, m->name);
		*slash = '/';
	}
	f = fi >= 0 ? &rd->out->files[fi] : NULL;
	if (f == NULL || f->kind != PITR_DELTA_DELTA)
		return damaged(rd, "member \"sig/%s\" belongs to no file of its manifest", m->name);
	t = &rd->tally[fi];
	if ((t->n > 0 && k <= t->last) || k >= PITR_DELTA_NCHUNKS(f->size) ||
	    m->len != PITR_DELTA_NBLOCKS(pitr_delta_chunk_len(f->size, k)) * PITR_DELTA_RECORD +
		      digest_bytes(rd, 1))
		return damaged(rd, "member \"sig/%s\" does not fit \"%s\" of %" PRIu64 " bytes",
			       m->name, f->key, f->size);
	t->last = (uint32_t)k;
	t->n++;
	t->bytes += m->len - digest_bytes(rd, 1);
	m->file = fi;
	m->k = (uint32_t)k;
	return 0;
}

/* Every member to its file: whole ones take theirs, chunk ones are
 * counted, then copied into their file's arrays made to measure. */
static int
attach(struct sf_read *rd)
{
	struct pitr_delta_sigs *o = rd->out;

	if (o->nfiles > 0 && (rd->tally = pitr_xcalloc(o->nfiles, sizeof(*rd->tally))) == NULL)
		return -1;
	for (size_t i = 0; i < rd->n; i++) {
		long fi = delta_map_get(o->index, rd->m[i].name);
		int r = fi >= 0 && o->files[fi].kind == PITR_DELTA_WHOLE ?
			whole_member(rd, &rd->m[i], fi) : chunk_member(rd, &rd->m[i]);

		if (r != 0)
			return -1;
	}
	for (size_t i = 0; i < o->nfiles; i++) {
		struct pitr_delta_file *f = &o->files[i];

		if (f->kind == PITR_DELTA_WHOLE && f->records == NULL)
			return damaged(rd, "it lacks the signature of \"%s\"", f->key);
		if (f->kind == PITR_DELTA_DELTA &&
		    ((f->chunks = pitr_xmalloc(rd->tally[i].n * sizeof(*f->chunks) + 1)) == NULL ||
		     (f->records = pitr_xmalloc(rd->tally[i].bytes + 1)) == NULL ||
		     (o->format >= 2 &&
		      (f->digests = pitr_xmalloc(digest_bytes(rd, rd->tally[i].n) + 1)) == NULL)))
			return -1;
	}
	for (size_t i = 0; i < rd->n; i++) {
		struct sf_member *m = &rd->m[i];
		struct pitr_delta_file *f = &o->files[m->file];

		if (f->kind != PITR_DELTA_DELTA)
			continue;
		struct sf_tally *t = &rd->tally[m->file];
		size_t rlen = m->len - digest_bytes(rd, 1);

		memcpy(f->records + t->done, m->rec, rlen);
		t->done += rlen;
		if (f->digests != NULL) {
			memcpy(f->digests + t->dbytes, m->rec + rlen, PITR_DELTA_DIGEST);
			t->dbytes += PITR_DELTA_DIGEST;
		}
		f->chunks[f->nchunks++] = m->k;
	}
	return 0;
}

void
pitr_delta_sigs_free(struct pitr_delta_sigs *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].key);
		free(s->files[i].records);
		free(s->files[i].digests);
		free(s->files[i].chunks);
	}
	free(s->files);
	free(s->label);
	free(s->base);
	delta_map_free(s->index);
	memset(s, 0, sizeof(*s));
}

int
pitr_delta_sigs_read(const char *path, enum pitr_codec codec, struct pitr_delta_sigs *out)
{
	return pitr_delta_sigs_read_fd(-1, path, codec, out);
}

int
pitr_delta_sigs_read_fd(int fd, const char *name, enum pitr_codec codec,
			struct pitr_delta_sigs *out)
{
	struct sf_read rd = { .path = name, .fd = fd, .out = out };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (read_members(&rd, codec) == 0 && parse_manifest(&rd) == 0 && attach(&rd) == 0)
		rc = 0;
	members_free(&rd);
	if (rc != 0)
		pitr_delta_sigs_free(out);
	return rc;
}

const struct pitr_delta_file *
pitr_delta_sigs_find(const struct pitr_delta_sigs *s, const char *key)
{
	long i;

	if (s->index != NULL)
		return (i = delta_map_get(s->index, key)) >= 0 ? &s->files[i] : NULL;
	for (size_t j = 0; j < s->nfiles; j++)
		if (strcmp(s->files[j].key, key) == 0)
			return &s->files[j];
	return NULL;
}
