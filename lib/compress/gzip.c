/*
 * gzip.c - gzip written with libdeflate as independent fixed-size
 * members (on worker threads when asked), read with ISA-L's inflate.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <isa-l/igzip_lib.h>

#include "compress/codec_impl.h"
#include "common/log.h"
#include "common/xalloc.h"

/*
 * Input bytes per gzip member.  Every member starts with an empty window and
 * carries 18 bytes of header and trailer; at 1 MiB that costs about 0.05%
 * on typical WAL and at most 0.45% on pgbench-loaded WAL (31:1) or text,
 * against one libdeflate stream over the whole 16 MiB segment (256 KiB cost
 * up to 2%, 4 MiB saved at most 0.3% more for four times the memory).
 */
#define GZIP_CHUNK ((size_t)1024 * 1024)

/*
 * Worker threads are capped so that memory stays bounded whatever the
 * caller asks: each slot holds a chunk and its compressed bound (2 MiB),
 * each worker a compressor (about 1 MiB), so 8 workers and 10 slots stay
 * near 30 MiB.  More would not help: the caller's thread copying input and
 * feeding the sink becomes the limit well before.
 */
#define GZIP_MAX_WORKERS 8

/*
 * The libdeflate level for each gzip level.  libdeflate's own levels match
 * zlib's sizes except at 6, where on pgbench-loaded WAL (long runs of
 * blank-padded rows) it is 5-6% larger than `gzip -6`; its level 7 is
 * within 1.6% there, smaller than `gzip -6` on other WAL and text, and
 * still about twice as fast as zlib at level 6.
 */
static const int deflate_levels[10] = { 0, 1, 2, 3, 4, 5, 7, 7, 8, 9 };

enum slot_state {
	SLOT_FREE,      /* the caller's thread may fill it */
	SLOT_QUEUED,    /* full, waiting for a worker */
	SLOT_BUSY,      /* a worker is compressing it */
	SLOT_DONE,      /* compressed, waiting to go to the sink in order */
};

struct gzip_slot {
	unsigned char *in;          /* GZIP_CHUNK bytes */
	size_t in_len;
	unsigned char *out;         /* out_cap bytes */
	size_t out_len;             /* 0 after a failure (impossible at out_cap) */
	enum slot_state state;
};

/*
 * Slots are used round-robin by sequence number (seq % nslots): the caller's
 * thread fills seq next_fill, workers take seqs from next_take on, and the
 * caller's thread hands them to the sink from next_emit on, so members leave
 * in input order whatever finishes first.  Invariant:
 * next_emit <= next_take <= next_fill < next_emit + nslots.
 */
struct gzip_writer {
	int deflate_level;
	size_t out_cap;
	struct gzip_slot *slots;
	int nslots;
	uint64_t next_fill;
	uint64_t next_take;
	uint64_t next_emit;
	bool any_member;            /* a member was made (else finish makes an empty one) */

	/* Single-threaded: compress on the caller's thread. */
	struct libdeflate_compressor *compressor;

	/* Threaded (nworkers > 0). */
	int nworkers;               /* threads started */
	int workers_len;            /* entries of workers[] */
	struct gzip_worker *workers;
	pthread_mutex_t lock;
	pthread_cond_t work_cv;     /* a slot was queued, or stop */
	pthread_cond_t done_cv;     /* a slot is done */
	bool sync_init;
	bool stop;
};

/* One worker thread and its compressor (libdeflate's are not shareable). */
struct gzip_worker {
	pthread_t thread;
	struct libdeflate_compressor *compressor;
	struct gzip_writer *gz;
};

/* Compress one slot with `c`; out_len 0 marks a failure. */
static void
compress_slot(struct libdeflate_compressor *c, struct gzip_slot *slot, size_t out_cap)
{
	slot->out_len = libdeflate_gzip_compress(c, slot->in, slot->in_len, slot->out, out_cap);
}

/*
 * A worker takes queued slots in order until told to stop; a stop leaves
 * queued slots alone (the writer is being freed).
 */
static void *
gzip_worker(void *arg)
{
	struct gzip_worker *worker = arg;
	struct gzip_writer *gz = worker->gz;

	pthread_mutex_lock(&gz->lock);
	for (;;) {
		struct gzip_slot *slot;

		while (!gz->stop && gz->next_take == gz->next_fill)
			pthread_cond_wait(&gz->work_cv, &gz->lock);
		if (gz->stop)
			break;
		slot = &gz->slots[gz->next_take++ % (uint64_t)gz->nslots];
		slot->state = SLOT_BUSY;
		pthread_mutex_unlock(&gz->lock);
		compress_slot(worker->compressor, slot, gz->out_cap);
		pthread_mutex_lock(&gz->lock);
		slot->state = SLOT_DONE;
		pthread_cond_broadcast(&gz->done_cv);
	}
	pthread_mutex_unlock(&gz->lock);
	return NULL;
}

/* Hand a compressed slot to the sink and free it; 0 or -1 (logged). */
static int
emit_slot(struct pitr_codec_writer *w, struct gzip_slot *slot)
{
	if (slot->out_len == 0)
		return codec_writer_fail(w, "libdeflate could not compress a chunk");
	slot->state = SLOT_FREE;
	slot->in_len = 0;
	return codec_emit(w, slot->out, slot->out_len);
}

/*
 * Threaded: send finished slots to the sink in order; wait for the oldest
 * while `wait_until` slots or more are outstanding.
 * The lock is not held while the sink runs: the emitted slot is DONE, and
 * workers never touch a DONE slot.
 */
static int
drain(struct pitr_codec_writer *w, uint64_t wait_until)
{
	struct gzip_writer *gz = w->impl;
	int rc = 0;

	pthread_mutex_lock(&gz->lock);
	while (gz->next_emit < gz->next_fill) {
		struct gzip_slot *slot = &gz->slots[gz->next_emit % (uint64_t)gz->nslots];

		if (slot->state != SLOT_DONE) {
			if (gz->next_fill - gz->next_emit < wait_until)
				break;
			pthread_cond_wait(&gz->done_cv, &gz->lock);
			continue;
		}
		pthread_mutex_unlock(&gz->lock);
		rc = emit_slot(w, slot);
		pthread_mutex_lock(&gz->lock);
		gz->next_emit++;
		if (rc != 0)
			break;
	}
	pthread_mutex_unlock(&gz->lock);
	return rc;
}

/* The current slot is complete (possibly short, at finish): compress it or
 * queue it, and make the next slot free to fill. */
static int
complete_slot(struct pitr_codec_writer *w)
{
	struct gzip_writer *gz = w->impl;
	struct gzip_slot *slot = &gz->slots[gz->next_fill % (uint64_t)gz->nslots];

	gz->any_member = true;
	if (gz->nworkers == 0) {
		compress_slot(gz->compressor, slot, gz->out_cap);
		return emit_slot(w, slot);
	}
	pthread_mutex_lock(&gz->lock);
	slot->state = SLOT_QUEUED;
	gz->next_fill++;
	pthread_cond_signal(&gz->work_cv);
	pthread_mutex_unlock(&gz->lock);
	/* Emit what is ready; block only when no slot is left to fill. */
	return drain(w, (uint64_t)gz->nslots);
}

static int
gzip_write(struct pitr_codec_writer *w, const unsigned char *buf, size_t len)
{
	struct gzip_writer *gz = w->impl;

	while (len > 0) {
		struct gzip_slot *slot = &gz->slots[gz->next_fill % (uint64_t)gz->nslots];
		size_t take = GZIP_CHUNK - slot->in_len;

		/* Single-threaded, a whole chunk is compressed in place. */
		if (gz->nworkers == 0 && slot->in_len == 0 && len >= GZIP_CHUNK) {
			size_t out_len = libdeflate_gzip_compress(gz->compressor, buf, GZIP_CHUNK,
								  slot->out, gz->out_cap);

			gz->any_member = true;
			if (out_len == 0)
				return codec_writer_fail(w, "libdeflate could not compress a chunk");
			if (codec_emit(w, slot->out, out_len) != 0)
				return -1;
			buf += GZIP_CHUNK;
			len -= GZIP_CHUNK;
			continue;
		}
		if (take > len)
			take = len;
		memcpy(slot->in + slot->in_len, buf, take);
		slot->in_len += take;
		buf += take;
		len -= take;
		if (slot->in_len == GZIP_CHUNK && complete_slot(w) != 0)
			return -1;
	}
	return 0;
}

/* An empty input still makes one (empty) member: a 0-byte file is not a
 * gzip file. */
static int
gzip_finish(struct pitr_codec_writer *w)
{
	struct gzip_writer *gz = w->impl;
	struct gzip_slot *slot = &gz->slots[gz->next_fill % (uint64_t)gz->nslots];

	if ((slot->in_len > 0 || !gz->any_member) && complete_slot(w) != 0)
		return -1;
	if (gz->nworkers == 0)
		return 0;
	return drain(w, 1);
}

static void
gzip_writer_free(struct pitr_codec_writer *w)
{
	struct gzip_writer *gz = w->impl;

	if (gz == NULL)
		return;
	if (gz->sync_init) {
		pthread_mutex_lock(&gz->lock);
		gz->stop = true;
		pthread_cond_broadcast(&gz->work_cv);
		pthread_mutex_unlock(&gz->lock);
		for (int worker_idx = 0; worker_idx < gz->nworkers; worker_idx++)
			pthread_join(gz->workers[worker_idx].thread, NULL);
		pthread_cond_destroy(&gz->done_cv);
		pthread_cond_destroy(&gz->work_cv);
		pthread_mutex_destroy(&gz->lock);
	}
	if (gz->workers != NULL) {
		for (int worker_idx = 0; worker_idx < gz->workers_len; worker_idx++)
			libdeflate_free_compressor(gz->workers[worker_idx].compressor);
	}
	free(gz->workers);
	if (gz->slots != NULL) {
		for (int slot_idx = 0; slot_idx < gz->nslots; slot_idx++) {
			free(gz->slots[slot_idx].in);
			free(gz->slots[slot_idx].out);
		}
	}
	free(gz->slots);
	libdeflate_free_compressor(gz->compressor);
	free(gz);
	w->impl = NULL;
}

static const struct codec_writer_ops gzip_writer_ops = {
	.write = gzip_write,
	.finish = gzip_finish,
	.free = gzip_writer_free,
};

/* Threads and their compressors start here, so that a failure is reported
 * by the constructor. */
static int
start_workers(struct pitr_codec_writer *w, int nworkers)
{
	struct gzip_writer *gz = w->impl;
	int err;

	if ((gz->workers = pitr_xcalloc((size_t)nworkers, sizeof(*gz->workers))) == NULL)
		return -1;
	gz->workers_len = nworkers;
	for (int worker_idx = 0; worker_idx < nworkers; worker_idx++) {
		gz->workers[worker_idx].gz = gz;
		gz->workers[worker_idx].compressor = libdeflate_alloc_compressor(gz->deflate_level);
		if (gz->workers[worker_idx].compressor == NULL)
			return codec_writer_fail(w, "libdeflate could not allocate a compressor");
	}
	if (pthread_mutex_init(&gz->lock, NULL) != 0)
		return codec_writer_fail(w, "could not initialise a mutex");
	if (pthread_cond_init(&gz->work_cv, NULL) != 0) {
		pthread_mutex_destroy(&gz->lock);
		return codec_writer_fail(w, "could not initialise a condition variable");
	}
	if (pthread_cond_init(&gz->done_cv, NULL) != 0) {
		pthread_cond_destroy(&gz->work_cv);
		pthread_mutex_destroy(&gz->lock);
		return codec_writer_fail(w, "could not initialise a condition variable");
	}
	gz->sync_init = true;
	for (int worker_idx = 0; worker_idx < nworkers; worker_idx++) {
		err = pthread_create(&gz->workers[worker_idx].thread, NULL, gzip_worker,
				     &gz->workers[worker_idx]);
		if (err != 0) {
			pitr_log_error("could not start a gzip compression thread: %s",
				       strerror(err));
			return -1;
		}
		gz->nworkers++;
	}
	return 0;
}

int
codec_gzip_writer_new(struct pitr_codec_writer *w)
{
	struct gzip_writer *gz;
	int nworkers = w->threads > GZIP_MAX_WORKERS ? GZIP_MAX_WORKERS : w->threads;
	struct libdeflate_compressor *probe;

	if (nworkers == 1)
		nworkers = 0;
	w->ops = &gzip_writer_ops;
	if ((gz = pitr_xcalloc(1, sizeof(*gz))) == NULL)
		return -1;
	w->impl = gz;
	gz->deflate_level = deflate_levels[w->level];
	gz->nslots = nworkers == 0 ? 1 : nworkers + 2;
	/* The single-threaded compressor; threaded, a probe for the bound. */
	probe = libdeflate_alloc_compressor(gz->deflate_level);
	if (probe == NULL)
		return codec_writer_fail(w, "libdeflate could not allocate a compressor");
	gz->out_cap = libdeflate_gzip_compress_bound(probe, GZIP_CHUNK);
	if (nworkers == 0)
		gz->compressor = probe;
	else
		libdeflate_free_compressor(probe);
	if ((gz->slots = pitr_xcalloc((size_t)gz->nslots, sizeof(*gz->slots))) == NULL)
		return -1;
	for (int slot_idx = 0; slot_idx < gz->nslots; slot_idx++) {
		if ((gz->slots[slot_idx].in = pitr_xmalloc(GZIP_CHUNK)) == NULL ||
		    (gz->slots[slot_idx].out = pitr_xmalloc(gz->out_cap)) == NULL)
			return -1;
	}
	if (nworkers > 0 && start_workers(w, nworkers) != 0)
		return -1;
	return 0;
}

/*
 * Reading: ISA-L's inflate in gzip mode, member after member.  It streams
 * like zlib's but decodes two to three times as fast, which is what
 * restore_command spends its time on.  Its errors are given zlib's words,
 * which operators and tests already know.
 */

struct gzip_reader {
	struct inflate_state st;
	bool member_end;            /* a member ended and no byte of another was seen */
	bool started;               /* the file's first bytes were judged */
};

static const char *
isal_reason(int ret)
{
	switch (ret) {
	case ISAL_INCORRECT_CHECKSUM:
		return "incorrect data check";
	case ISAL_INVALID_WRAPPER:
		return "incorrect header check";
	case ISAL_UNSUPPORTED_METHOD:
		return "unknown compression method";
	case ISAL_INVALID_BLOCK:
		return "invalid block type";
	case ISAL_INVALID_SYMBOL:
		return "invalid code";
	case ISAL_INVALID_LOOKBACK:
		return "invalid distance too far back";
	default:
		return "invalid compressed data";
	}
}

/*
 * Members follow each other until the end of the file; the file must end
 * exactly after one.  Bytes after a member that do not start a valid one
 * (trailing garbage, zero padding) fail the header check.  At the end of
 * the file, a member that neither ends nor produces anything more is
 * truncated.
 */
static ssize_t
gzip_read(struct pitr_codec_reader *r, unsigned char *buf, size_t len)
{
	struct gzip_reader *gr = r->impl;
	uint32_t want = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	int ret;

	gr->st.next_out = buf;
	gr->st.avail_out = want;
	while (gr->st.avail_out == want) {
		if (codec_reader_fill(r) != 0)
			return -1;
		/* Something else under a .gz name is not gzip, rather than a
		 * gzip header cut short (what ISA-L makes of a short one). */
		if (!gr->started && r->in_len > 0) {
			gr->started = true;
			if (r->in[0] != 0x1f || (r->in_len > 1 && r->in[1] != 0x8b))
				return codec_reader_corrupt(r, "incorrect header check");
		}
		if (gr->member_end) {
			if (r->in_pos == r->in_len)
				break;
			isal_inflate_reset(&gr->st);
			gr->st.crc_flag = ISAL_GZIP;
			gr->member_end = false;
		}
		gr->st.next_in = r->in + r->in_pos;
		gr->st.avail_in = (uint32_t)(r->in_len - r->in_pos);
		gr->st.next_out = buf + (want - gr->st.avail_out);
		ret = isal_inflate(&gr->st);
		r->in_pos = r->in_len - gr->st.avail_in;
		if (ret < 0 || ret == ISAL_NEED_DICT)
			return codec_reader_corrupt(r, isal_reason(ret));
		if (gr->st.block_state == ISAL_BLOCK_FINISH)
			gr->member_end = true;
		if (r->eof && r->in_pos == r->in_len && !gr->member_end &&
		    gr->st.avail_out == want)
			return codec_reader_truncated(r);
	}
	return (ssize_t)(want - gr->st.avail_out);
}

static void
gzip_reader_free(struct pitr_codec_reader *r)
{
	free(r->impl);
	r->impl = NULL;
}

static const struct codec_reader_ops gzip_reader_ops = {
	.read = gzip_read,
	.free = gzip_reader_free,
};

int
codec_gzip_reader_new(struct pitr_codec_reader *r)
{
	struct gzip_reader *gr;

	r->ops = &gzip_reader_ops;
	if ((gr = pitr_xcalloc(1, sizeof(*gr))) == NULL)
		return -1;
	r->impl = gr;
	isal_inflate_init(&gr->st);
	/* The gzip wrapper: header parsed, CRC-32 and length checked. */
	gr->st.crc_flag = ISAL_GZIP;
	return 0;
}

/*
 * libdeflate (unlike zlib, whose deflate documents (1 << (windowBits + 2))
 * + (1 << (memLevel + 9)), 256 KiB at the defaults) gives no figure: its
 * compressor for levels 1 to 9, counted through
 * libdeflate_set_memory_allocator() on libdeflate 1.14, takes 198 KiB at
 * level 1 and 653 KiB from level 2 on (check_codec counts it again).
 * Levels 10 to 12 (9 MiB) are never used: see deflate_levels.
 */
#define GZIP_COMPRESSOR_MEM ((size_t)768 * 1024)
/* A slot's output: libdeflate's bound for a chunk is its size + 1 KiB. */
#define GZIP_OUT_MEM (GZIP_CHUNK + GZIP_CHUNK / 16)

/* What codec_gzip_writer_new() allocates: a compressor per worker (one
 * when single-threaded), a chunk and its output per slot. */
size_t
codec_gzip_mem_estimate(int level, int threads)
{
	int nworkers = threads > GZIP_MAX_WORKERS ? GZIP_MAX_WORKERS : threads;
	size_t ncompressors = nworkers > 1 ? (size_t)nworkers : 1;
	size_t nslots = nworkers > 1 ? (size_t)nworkers + 2 : 1;

	(void)level;   /* every level in use has the same compressor size */
	return ncompressors * GZIP_COMPRESSOR_MEM + nslots * (GZIP_CHUNK + GZIP_OUT_MEM) +
		sizeof(struct gzip_writer);
}
