/*
 * sig.c - one chunk's signature, digest, delta and patch (delta.h),
 * through librsync's job API on memory buffers: librsync does every
 * byte's work (rolling sums, BLAKE2b, matching, copying), we only hand it
 * buffers and cut a changed chunk into runs; libcrypto's SHA-256 makes
 * the digests.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <librsync.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"
#include "delta/delta_impl.h"

#define SIG_MAX (PITR_DELTA_SIG_HEADER + PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD)

static void
rs_silent(rs_loglevel level, char const *msg)
{
	(void)level;
	(void)msg;
}

static void
quiet_once(void)
{
	rs_trace_to(rs_silent);
}

void
delta_rs_quiet(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, quiet_once);
}

/* A chunk is PITR_DELTA_CHUNK bytes at most; false after logging. */
static bool
chunk_len_ok(size_t len)
{
	if (len <= PITR_DELTA_CHUNK)
		return true;
	pitr_log_error("a chunk of %zu bytes is larger than %d", len, PITR_DELTA_CHUNK);
	return false;
}

/* librsync's 12-byte signature header, big-endian as rs_sig writes it. */
void
delta_sig_header(unsigned char *h)
{
	const uint32_t v[3] = { RS_BLAKE2_SIG_MAGIC, PITR_DELTA_BLOCK, PITR_DELTA_STRONG };

	for (int i = 0; i < 3; i++)
		delta_be32_put(h + 4 * i, v[i]);
}

/* Run `job` over all of `in` (the whole input) into `out` (`cap` bytes);
 * *outlen gets the bytes written.  RS_DONE, RS_BLOCKED when `out` is full
 * before the end, or librsync's error. */
static rs_result
run_job(rs_job_t *job, const void *in, size_t inlen, void *out, size_t cap, size_t *outlen)
{
	rs_buffers_t b = {
		.next_in = (char *)(uintptr_t)in, .avail_in = inlen, .eof_in = 1,
		.next_out = out, .avail_out = cap,
	};
	rs_result r;

	do
		r = rs_job_iter(job, &b);
	while (r == RS_BLOCKED && b.avail_out > 0 && b.avail_in > 0);
	*outlen = cap - b.avail_out;
	return r;
}

int
pitr_delta_chunk_sig(const void *buf, size_t len, unsigned char *records)
{
	unsigned char sig[SIG_MAX];
	size_t want = PITR_DELTA_SIG_HEADER + PITR_DELTA_NBLOCKS(len) * PITR_DELTA_RECORD, got;
	rs_job_t *job;
	rs_result r;

	if (!chunk_len_ok(len))
		return -1;
	delta_rs_quiet();
	if ((job = pitr_xcheck(rs_sig_begin(PITR_DELTA_BLOCK, PITR_DELTA_STRONG,
					    RS_BLAKE2_SIG_MAGIC))) == NULL)
		return -1;
	r = run_job(job, buf, len, sig, sizeof(sig), &got);
	rs_job_free(job);
	if (r != RS_DONE || got != want) {
		pitr_log_error("could not compute a chunk's signature: %s",
			       r != RS_DONE ? rs_strerror(r) : "unexpected length");
		return -1;
	}
	memcpy(records, sig + PITR_DELTA_SIG_HEADER, got - PITR_DELTA_SIG_HEADER);
	return 0;
}

/* The base chunk's records loaded and indexed for a delta job, or NULL
 * after logging. */
static rs_signature_t *
load_sig(const unsigned char *records, size_t nrec)
{
	unsigned char sig[SIG_MAX];
	rs_signature_t *s = NULL;
	rs_job_t *job;
	rs_result r;
	size_t got;

	if (nrec > PITR_DELTA_CHUNK_BLOCKS) {
		pitr_log_error("a base chunk of %zu records holds more than %d", nrec,
			       PITR_DELTA_CHUNK_BLOCKS);
		return NULL;
	}
	delta_sig_header(sig);
	if (nrec > 0)
		memcpy(sig + PITR_DELTA_SIG_HEADER, records, nrec * PITR_DELTA_RECORD);
	if ((job = pitr_xcheck(rs_loadsig_begin(&s))) == NULL)
		return NULL;
	r = run_job(job, sig, PITR_DELTA_SIG_HEADER + nrec * PITR_DELTA_RECORD, NULL, 0, &got);
	rs_job_free(job);
	if (r == RS_DONE)
		r = rs_build_hash_table(s);
	if (r != RS_DONE) {
		pitr_log_error("could not load a base chunk's signature: %s", rs_strerror(r));
		if (s != NULL)
			rs_free_sumset(s);
		return NULL;
	}
	return s;
}

/* A growable output buffer for a chunk's pieces. */
struct dbuf {
	unsigned char *p;
	size_t len, cap;
};

static int
dbuf_room(struct dbuf *d, size_t want)
{
	size_t cap = d->cap;
	unsigned char *n;

	if (d->cap - d->len >= want)
		return 0;
	while (cap - d->len < want)
		cap = cap * 2 + 4096;
	if ((n = pitr_xrealloc(d->p, cap)) == NULL)
		return -1;
	d->p = n;
	d->cap = cap;
	return 0;
}

/* Run a delta job over `buf` (all of its input) appending to `d`. */
static int
delta_out(rs_job_t *job, const void *buf, size_t len, struct dbuf *d)
{
	rs_buffers_t b = { .next_in = (char *)(uintptr_t)buf, .avail_in = len, .eof_in = 1 };
	rs_result r;

	do {
		/* Room was made for the literal runs: a full buffer grows. */
		if (dbuf_room(d, 4096) != 0)
			return -1;
		b.next_out = (char *)d->p + d->len;
		b.avail_out = d->cap - d->len;
		r = rs_job_iter(job, &b);
		/* Blocked with room left and the input all given: stalled. */
		if (r == RS_BLOCKED && b.avail_out > 0)
			r = RS_INTERNAL_ERROR;
		d->len = d->cap - b.avail_out;
	} while (r == RS_BLOCKED);
	if (r != RS_DONE) {
		pitr_log_error("could not compute a chunk's delta: %s", rs_strerror(r));
		return -1;
	}
	return 0;
}

/* One piece: its 4-byte length, then the librsync delta of `len` bytes
 * against `s` (NULL: the literal delta). */
static int
put_piece(rs_signature_t *s, const unsigned char *buf, size_t len, struct dbuf *d)
{
	size_t at = d->len;
	uint32_t n;
	rs_job_t *job;
	int rc;

	if (dbuf_room(d, 4) != 0)
		return -1;
	d->len += 4;
	if ((job = pitr_xcheck(rs_delta_begin(s))) == NULL)
		return -1;
	rc = delta_out(job, buf, len, d);
	rs_job_free(job);
	n = (uint32_t)(d->len - at - 4);
	delta_be32_put(d->p + at, n);
	return rc;
}

/* Block i's record equals the base's at the same position. */
static bool
kept(const unsigned char *records, const unsigned char *base_records, size_t base_nrec, size_t i)
{
	return i < base_nrec && memcmp(records + i * PITR_DELTA_RECORD,
				       base_records + i * PITR_DELTA_RECORD, PITR_DELTA_RECORD) == 0;
}

/* The bytes of the changed blocks, to size the output once. */
static size_t
changed_bytes(size_t len, const unsigned char *records, const unsigned char *base_records,
	      size_t base_nrec, bool *any_kept)
{
	size_t nblocks = PITR_DELTA_NBLOCKS(len), n = 0;

	*any_kept = false;
	for (size_t i = 0; i < nblocks; i++) {
		if (kept(records, base_records, base_nrec, i))
			*any_kept = true;
		else
			n += i + 1 < nblocks ? PITR_DELTA_BLOCK : len - i * PITR_DELTA_BLOCK;
	}
	return n;
}

int
pitr_delta_chunk_delta(const void *buf, size_t len, const unsigned char *records,
		       const unsigned char *base_records, size_t base_nrec,
		       unsigned char **out, size_t *outlen)
{
	const unsigned char *p = buf;
	size_t nblocks = PITR_DELTA_NBLOCKS(len);
	struct dbuf d = { 0 };
	rs_signature_t *s = NULL;
	bool any_kept;
	int rc = 0;

	if (!chunk_len_ok(len))
		return -1;
	delta_rs_quiet();
	/* The base's records loaded and indexed once for all kept runs. */
	if (dbuf_room(&d, changed_bytes(len, records, base_records, base_nrec, &any_kept) +
		      4096) != 0 || (any_kept && (s = load_sig(base_records, base_nrec)) == NULL)) {
		free(d.p);
		return -1;
	}
	for (size_t i = 0, j; i < nblocks && rc == 0; i = j) {
		bool k = kept(records, base_records, base_nrec, i);
		size_t end;

		for (j = i + 1; j < nblocks && kept(records, base_records, base_nrec, j) == k; j++)
			;
		end = j * PITR_DELTA_BLOCK < len ? j * PITR_DELTA_BLOCK : len;
		rc = put_piece(k ? s : NULL, p + i * PITR_DELTA_BLOCK, end - i * PITR_DELTA_BLOCK, &d);
	}
	if (s != NULL)
		rs_free_sumset(s);
	if (rc != 0) {
		free(d.p);
		return -1;
	}
	*out = d.p;
	*outlen = d.len;
	return 0;
}

struct basis {
	const unsigned char *buf;
	size_t len;
	bool outside;    /* the delta asked for bytes the basis has not */
};

/* librsync's copy callback: a pointer into the basis, never a byte
 * outside it. */
static rs_result
copy_cb(void *arg, rs_long_t pos, size_t *len, void **buf)
{
	struct basis *b = arg;

	if (pos < 0 || (uint64_t)pos > b->len || *len > b->len - (size_t)pos) {
		b->outside = true;
		return RS_CORRUPT;
	}
	*buf = (void *)(uintptr_t)(b->buf + pos);
	return RS_DONE;
}

/* Run the patch job into `out` (`cap` bytes); when it is full, one more
 * step into a spare byte tells a delta that ends there from one that
 * makes more.  *used gets the delta's bytes taken. */
static rs_result
patch_run(rs_job_t *job, const void *delta, size_t delta_len, unsigned char *out, size_t cap,
	  size_t *outlen, size_t *used, bool *too_long)
{
	rs_buffers_t b = {
		.next_in = (char *)(uintptr_t)delta, .avail_in = delta_len, .eof_in = 1,
		.next_out = (char *)out, .avail_out = cap,
	};
	char spare;
	rs_result r;

	*too_long = false;
	do
		r = rs_job_iter(job, &b);
	while (r == RS_BLOCKED && b.avail_out > 0 && b.avail_in > 0);
	*outlen = cap - b.avail_out;
	if (r == RS_BLOCKED && b.avail_out == 0) {
		b.next_out = &spare;
		b.avail_out = 1;
		do
			r = rs_job_iter(job, &b);
		while (r == RS_BLOCKED && b.avail_out > 0 && b.avail_in > 0);
		*too_long = b.avail_out == 0;
	}
	*used = delta_len - b.avail_in;
	return r;
}

/* One librsync delta applied to the basis: into `out` (`cap` bytes),
 * *outlen its bytes; `piece` names it in messages (0: the whole delta). */
static int
patch_one(struct basis *b, const void *delta, size_t delta_len, unsigned char *out, size_t cap,
	  size_t *outlen, size_t piece, const char *what)
{
	char where[64] = "";
	size_t used;
	bool too_long;
	rs_job_t *job;
	rs_result r;

	if ((job = pitr_xcheck(rs_patch_begin(copy_cb, b))) == NULL)
		return -1;
	r = patch_run(job, delta, delta_len, out, cap, outlen, &used, &too_long);
	rs_job_free(job);
	if (piece > 0)
		snprintf(where, sizeof(where), " (piece %zu)", piece);
	if (too_long)
		pitr_log_error("%s is damaged: its delta%s makes more than %d bytes", what, where,
			       PITR_DELTA_CHUNK);
	else if (b->outside)
		pitr_log_error("%s is damaged: its delta%s reads outside its base chunk", what, where);
	else if (r == RS_BLOCKED || r == RS_INPUT_ENDED)
		pitr_log_error("%s is damaged: its delta%s ends early", what, where);
	else if (r != RS_DONE)
		pitr_log_error("%s is damaged: its delta%s: %s", what, where, rs_strerror(r));
	else if (piece > 0 && used != delta_len)
		pitr_log_error("%s is damaged: its delta%s has bytes after its end", what, where);
	else
		return 0;
	return -1;
}

/* Format 2: each piece, bounds-checked, appended to `out`. */
static int
patch_pieces(struct basis *b, const unsigned char *d, size_t dlen, unsigned char *out,
	     size_t *outlen, const char *what)
{
	size_t pos = 0, total = 0, piece = 0, n;

	while (pos < dlen) {
		uint32_t len;

		piece++;
		if (dlen - pos < 4) {
			pitr_log_error("%s is damaged: its delta's piece %zu has a cut length", what,
				       piece);
			return -1;
		}
		len = delta_be32_get(d + pos);
		pos += 4;
		if (len > dlen - pos) {
			pitr_log_error("%s is damaged: its delta's piece %zu claims %" PRIu32
				       " bytes, %zu are left", what, piece, len, dlen - pos);
			return -1;
		}
		if (patch_one(b, d + pos, len, out + total, PITR_DELTA_CHUNK - total, &n, piece,
			      what) != 0)
			return -1;
		total += n;
		pos += len;
	}
	*outlen = total;
	return 0;
}

int
pitr_delta_chunk_patch(const void *basis, size_t basis_len, const void *delta, size_t delta_len,
		       int format, unsigned char *out, size_t *outlen, const char *what)
{
	struct basis b = { .buf = basis, .len = basis_len };

	delta_rs_quiet();
	if (format == 2)
		return patch_pieces(&b, delta, delta_len, out, outlen, what);
	if (format == 1)
		return patch_one(&b, delta, delta_len, out, PITR_DELTA_CHUNK, outlen, 0, what);
	pitr_log_error("%s: a delta of format %d, which this pitrkit does not read", what, format);
	return -1;
}

int
pitr_delta_chunk_digest(const void *buf, size_t len, unsigned char *digest)
{
	unsigned int n = 0;
	const char *why;

	if (!chunk_len_ok(len))
		return -1;
	if (EVP_Digest(buf, len, digest, &n, EVP_sha256(), NULL) != 1 || n != PITR_DELTA_DIGEST) {
		why = ERR_reason_error_string(ERR_get_error());
		pitr_log_error("could not compute a chunk's SHA-256: %s",
			       why != NULL ? why : "unknown error");
		return -1;
	}
	return 0;
}
