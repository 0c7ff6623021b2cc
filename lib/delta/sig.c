/*
 * sig.c - one chunk's signature, delta and patch (delta.h), through
 * librsync's job API on memory buffers: librsync does every byte's work
 * (rolling sums, BLAKE2b, matching, copying), we only hand it buffers.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <librsync.h>

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

/* librsync's 12-byte signature header, big-endian as rs_sig writes it. */
static void
put_header(unsigned char *h)
{
	const uint32_t v[3] = { RS_BLAKE2_SIG_MAGIC, PITR_DELTA_BLOCK, PITR_DELTA_STRONG };

	for (int i = 0; i < 3; i++) {
		h[4 * i] = (unsigned char)(v[i] >> 24);
		h[4 * i + 1] = (unsigned char)(v[i] >> 16);
		h[4 * i + 2] = (unsigned char)(v[i] >> 8);
		h[4 * i + 3] = (unsigned char)v[i];
	}
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

	if (len > PITR_DELTA_CHUNK) {
		pitr_log_error("a chunk of %zu bytes is larger than %d", len, PITR_DELTA_CHUNK);
		return -1;
	}
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
	put_header(sig);
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

/* Run a delta job over `buf` into a buffer grown as needed. */
static int
delta_out(rs_job_t *job, const void *buf, size_t len, unsigned char **out, size_t *outlen)
{
	rs_buffers_t b = { .next_in = (char *)(uintptr_t)buf, .avail_in = len, .eof_in = 1 };
	size_t cap = len / 16 + 4096, used = 0;
	unsigned char *o = NULL;
	rs_result r;

	do {
		if (o == NULL || used == cap) {
			unsigned char *n = pitr_xrealloc(o, cap = o == NULL ? cap : cap * 2);

			if (n == NULL) {
				free(o);
				return -1;
			}
			o = n;
		}
		b.next_out = (char *)o + used;
		b.avail_out = cap - used;
		r = rs_job_iter(job, &b);
		used = cap - b.avail_out;
		/* Blocked with room left and the input all given: stalled. */
		if (r == RS_BLOCKED && used < cap)
			r = RS_INTERNAL_ERROR;
	} while (r == RS_BLOCKED);
	if (r != RS_DONE) {
		pitr_log_error("could not compute a chunk's delta: %s", rs_strerror(r));
		free(o);
		return -1;
	}
	*out = o;
	*outlen = used;
	return 0;
}

int
pitr_delta_chunk_delta(const void *buf, size_t len, const unsigned char *records, size_t nrec,
		       unsigned char **out, size_t *outlen)
{
	rs_signature_t *s;
	rs_job_t *job;
	int rc = -1;

	delta_rs_quiet();
	if ((s = load_sig(records, nrec)) == NULL)
		return -1;
	if ((job = pitr_xcheck(rs_delta_begin(s))) != NULL) {
		rc = delta_out(job, buf, len, out, outlen);
		rs_job_free(job);
	}
	rs_free_sumset(s);
	return rc;
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

/* Run the patch job; when `out` is full, one more step into a spare byte
 * tells a delta that ends there from one that makes more. */
static rs_result
patch_run(rs_job_t *job, const void *delta, size_t delta_len, unsigned char *out, size_t *outlen,
	  bool *too_long)
{
	rs_buffers_t b = {
		.next_in = (char *)(uintptr_t)delta, .avail_in = delta_len, .eof_in = 1,
		.next_out = (char *)out, .avail_out = PITR_DELTA_CHUNK,
	};
	char spare;
	rs_result r;

	*too_long = false;
	do
		r = rs_job_iter(job, &b);
	while (r == RS_BLOCKED && b.avail_out > 0 && b.avail_in > 0);
	*outlen = PITR_DELTA_CHUNK - b.avail_out;
	if (r != RS_BLOCKED || b.avail_out > 0)
		return r;
	b.next_out = &spare;
	b.avail_out = 1;
	do
		r = rs_job_iter(job, &b);
	while (r == RS_BLOCKED && b.avail_out > 0 && b.avail_in > 0);
	*too_long = b.avail_out == 0;
	return r;
}

int
pitr_delta_chunk_patch(const void *basis, size_t basis_len, const void *delta, size_t delta_len,
		       unsigned char *out, size_t *outlen, const char *what)
{
	struct basis b = { .buf = basis, .len = basis_len };
	bool too_long;
	rs_job_t *job;
	rs_result r;

	delta_rs_quiet();
	if ((job = pitr_xcheck(rs_patch_begin(copy_cb, &b))) == NULL)
		return -1;
	r = patch_run(job, delta, delta_len, out, outlen, &too_long);
	rs_job_free(job);
	if (too_long)
		pitr_log_error("%s is damaged: its delta makes more than %d bytes", what,
			       PITR_DELTA_CHUNK);
	else if (b.outside)
		pitr_log_error("%s is damaged: its delta reads outside its base chunk", what);
	else if (r == RS_BLOCKED || r == RS_INPUT_ENDED)
		pitr_log_error("%s is damaged: its delta ends early", what);
	else if (r != RS_DONE)
		pitr_log_error("%s is damaged: %s", what, rs_strerror(r));
	return too_long || r != RS_DONE ? -1 : 0;
}
