/*
 * patch.c - pitr-recover's applying thread (issue 13): an incremental's
 * chunk members, handed over by the reading thread (apply.c) through a
 * ring of APPLY_SLOTS buffers, patched over their file's chunk, checked
 * (format 2: by the chunk's digest, on a third thread while the next is
 * patched; format 1: block by block against the link's records) and
 * their changed blocks written back in place, so that the second core
 * patches and digests while the first reads on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"

/* The buffers the applying thread patches in: the chunk as it was and
 * as it becomes. */
struct chunk_bufs {
	unsigned char *basis, *out, *data;
};

/* The records link `i`'s base had for chunk k of `key` (*nrec of them):
 * those of the newest earlier link that stored the chunk (the file whole,
 * or that chunk); NULL when the chunk did not exist before (a new file,
 * or past the file's end then). */
static const unsigned char *
base_records(const struct recover_run *run, size_t i, const char *key, uint32_t k, size_t *nrec)
{
	uint64_t off = (uint64_t)k * PITR_DELTA_CHUNK;

	for (size_t j = i; j-- > 0;) {
		const struct pitr_delta_file *f = pitr_delta_sigs_find(&run->sigs[j], key);
		ssize_t x = 0;

		if (f == NULL || f->kind == PITR_DELTA_REMOVED || off >= f->size)
			return NULL;
		*nrec = PITR_DELTA_NBLOCKS(f->size - off < PITR_DELTA_CHUNK ? f->size - off :
					   PITR_DELTA_CHUNK);
		if (f->kind == PITR_DELTA_WHOLE)
			return f->records + (size_t)k * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD;
		if (f->kind == PITR_DELTA_DELTA && (x = recover_chunk_index(f, k)) >= 0)
			return f->records + (size_t)x * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD;
		/* same, or this chunk unchanged: as the link before had it */
	}
	return NULL;
}

/* One chunk being applied: the file's chunk as it was (basis) and as it
 * becomes (out), the link's records for it and the base's. */
struct chunk_job {
	const struct recover_apply *ap;
	const struct chunk_name *st;
	const unsigned char *basis, *out, *rec, *base_rec;
	size_t basis_len, len, nbase;
	bool digest_checked;  /* format 2: out is checked whole, by its digest */
	const unsigned char *want;  /* format 2: the digest out must have */
	int fd;
	off_t off;
	const char *path;
};

static size_t
block_len(size_t chunk_len, size_t b)
{
	size_t at = b * PITR_DELTA_BLOCK;

	return at >= chunk_len ? 0 : chunk_len - at < PITR_DELTA_BLOCK ? chunk_len - at :
		PITR_DELTA_BLOCK;
}

/* Is block b as it was, with records the base's for it? */
static bool
block_kept(const struct chunk_job *c, size_t b)
{
	size_t n = block_len(c->len, b);

	return c->base_rec != NULL && b < c->nbase && n == block_len(c->basis_len, b) &&
		memcmp(c->out + b * PITR_DELTA_BLOCK, c->basis + b * PITR_DELTA_BLOCK, n) == 0;
}

static int
mismatch(const struct chunk_job *c)
{
	pitr_log_error("chunk %" PRIu32 " of \"%s\" does not match the signature backup \"%s\" "
		       "recorded for it: the backup is damaged or its base is not the one extracted",
		       c->st->k, c->st->key, c->ap->link->name);
	return -1;
}

/* Check the new chunk against the link's records, block by block, and
 * write the blocks that changed.  A block kept as it was is checked by
 * its record alone: the link's must be the base's, which the bytes had
 * when extracted or checked before; runs of changed blocks are signed
 * (the records of a run taken alone are its slice of the chunk's).
 * Format 2: the chunk was checked whole by its digest; the changed
 * blocks are only found.  They are written in one call, from the first
 * to the last (the kept blocks between hold what is there already): a
 * page or two changed cost a page or two, and a chunk with a changed page
 * in every other block one write, not 64. */
static int
check_and_write(const struct chunk_job *c, off_t off)
{
	unsigned char records[PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD];
	size_t nb = PITR_DELTA_NBLOCKS(c->len), lo = c->len, hi = 0;

	for (size_t b = 0; b < nb;) {
		size_t e = b + 1, from = b * PITR_DELTA_BLOCK, to;

		if (block_kept(c, b)) {
			if (!c->digest_checked &&
			    memcmp(c->rec + b * PITR_DELTA_RECORD, c->base_rec + b * PITR_DELTA_RECORD,
				   PITR_DELTA_RECORD) != 0)
				return mismatch(c);
			b++;
			continue;
		}
		while (e < nb && !block_kept(c, e))
			e++;
		to = e * PITR_DELTA_BLOCK < c->len ? e * PITR_DELTA_BLOCK : c->len;
		if (!c->digest_checked &&
		    (pitr_delta_chunk_sig(c->out + from, to - from, records) != 0 ||
		     memcmp(records, c->rec + b * PITR_DELTA_RECORD, (e - b) * PITR_DELTA_RECORD) != 0))
			return mismatch(c);
		lo = from < lo ? from : lo;
		hi = to;
		b = e;
	}
	if (hi > lo && pitr_io_pwrite_all(c->fd, c->out + lo, hi - lo, off + (off_t)lo) != 0) {
		pitr_log_error("could not write \"%s\": %s", c->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Chunk member `st` (its `n` bytes in b->data) made over the file `fd`
 * (at `path`), patched or taken whole, into *c; `f` is the file in the
 * link.  chunk_finish() then checks and writes it. */
static int
chunk_prepare(const struct recover_run *run, const struct recover_apply *ap,
	      const struct pitr_delta_file *f, const struct chunk_name *st, size_t n, int fd,
	      const char *path, const struct chunk_bufs *b, struct chunk_job *c)
{
	uint64_t off = (uint64_t)st->k * PITR_DELTA_CHUNK;
	ssize_t j = recover_chunk_index(f, st->k), basis;
	char what[4200];

	*c = (struct chunk_job){ .ap = ap, .st = st, .basis = b->basis, .fd = fd, .path = path,
				 .off = (off_t)off };
	if (j < 0) {
		/* take_chunk's tally let through only the chunks f lists. */
		pitr_log_error("internal error: chunk %" PRIu32 " of \"%s\" in backup \"%s\" is not "
			       "among its manifest's", st->k, st->key, ap->link->name);
		return -1;
	}
	if (off >= f->size) {
		pitr_log_error("chunk %" PRIu32 " of \"%s\" in backup \"%s\" lies beyond its size %" PRIu64
			       ": the backup is damaged", st->k, st->key, ap->link->name, f->size);
		return -1;
	}
	c->rec = f->records + (size_t)j * PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD;
	c->base_rec = base_records(run, ap->i, st->key, st->k, &c->nbase);
	c->want = f->digests != NULL ? f->digests + (size_t)j * PITR_DELTA_DIGEST : NULL;
	if ((basis = pitr_io_pread_full(fd, b->basis, PITR_DELTA_CHUNK, (off_t)off)) < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		return -1;
	}
	c->basis_len = (size_t)basis;
	snprintf(what, sizeof(what), "chunk %" PRIu32 " of \"%s\" in backup \"%s\"", st->k, st->key,
		 ap->link->name);
	c->out = st->whole ? b->data : b->out;
	c->len = n;
	if (!st->whole && pitr_delta_chunk_patch(b->basis, c->basis_len, b->data, n,
						 ap->sigs->format, b->out, &c->len, what) != 0)
		return -1;
	if (c->len != (f->size - off < PITR_DELTA_CHUNK ? f->size - off : PITR_DELTA_CHUNK))
		return mismatch(c);
	return 0;
}

/* The prepared chunk `c` checked (format 2: by `digest`, its bytes'
 * digest) and written. */
static int
chunk_finish(struct chunk_job *c, const unsigned char *digest)
{
	if (c->want != NULL) {
		if (memcmp(digest, c->want, PITR_DELTA_DIGEST) != 0)
			return mismatch(c);
		c->digest_checked = true;
	}
	return check_and_write(c, c->off);
}

/* ------------------------------------------------------------------------
 * The digest helper: format 2's check of a chunk, a SHA-256 of the whole
 * of it, computed on a thread of its own while the applying thread
 * patches the next chunk (the two cores' worth of work in a pass of
 * many changed chunks).
 * ------------------------------------------------------------------------ */

enum { DG_IDLE, DG_BUSY, DG_DONE };

struct digester {
	pthread_t thread;
	bool started, quit;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const unsigned char *buf;
	size_t len;
	unsigned char d[PITR_DELTA_DIGEST];
	int state, rc;
};

static void *
dg_main(void *arg)
{
	struct digester *g = arg;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		while (g->state != DG_BUSY && !g->quit)
			pthread_cond_wait(&g->cv, &g->mu);
		if (g->quit)
			break;
		pthread_mutex_unlock(&g->mu);
		/* Logs its own failure (libcrypto's), once. */
		g->rc = pitr_delta_chunk_digest(g->buf, g->len, g->d);
		pthread_mutex_lock(&g->mu);
		g->state = DG_DONE;
		pthread_cond_broadcast(&g->cv);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void
dg_give(struct digester *g, const unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&g->mu);
	g->buf = buf;
	g->len = len;
	g->state = DG_BUSY;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

/* The digest given last, into `d` (may be NULL: only wait for it). */
static int
dg_take(struct digester *g, unsigned char *d)
{
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	while (g->state == DG_BUSY)
		pthread_cond_wait(&g->cv, &g->mu);
	if (g->state == DG_DONE) {
		rc = g->rc;
		if (d != NULL)
			memcpy(d, g->d, PITR_DELTA_DIGEST);
	}
	g->state = DG_IDLE;
	pthread_mutex_unlock(&g->mu);
	return rc;
}

static int
dg_start(struct digester *g)
{
	int e;

	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	if ((e = pthread_create(&g->thread, NULL, dg_main, g)) != 0) {
		pitr_log_error("could not start a thread: %s", strerror(e));
		return -1;
	}
	g->started = true;
	return 0;
}

static void
dg_stop(struct digester *g)
{
	if (g->started) {
		pthread_mutex_lock(&g->mu);
		g->quit = true;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
		pthread_join(g->thread, NULL);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
}

/* ------------------------------------------------------------------------
 * The applying thread: chunks are read (decompressed, parsed) on the
 * extracting thread and handed through a ring of APPLY_SLOTS member
 * buffers to a thread that patches, checks and writes them, so that the
 * second core signs or digests while the first reads on.  It holds two
 * chunks at a time (format 2: one patched while the digester digests
 * the other), each in a set of buffers of its own.  A failure on that
 * thread is logged there, once; the reading thread then stops without a
 * line of its own.
 * ------------------------------------------------------------------------ */

#define APPLY_SLOTS 4

/* A chunk the applying thread holds: prepared, its digest asked for. */
struct inflight {
	struct chunk_slot *s;
	struct chunk_job c;
	bool digesting;
	unsigned char d[PITR_DELTA_DIGEST];
};

struct chunk_pipe {
	const struct recover_run *run;
	const struct recover_apply *ap;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk_slot slot[APPLY_SLOTS];
	/* Queued or held: slot[(head + i) % N], i < count; the applying
	 * thread holds the first `taken` of them. */
	size_t head, count, taken;
	bool end, stop, failed;
	/* The applying thread's own: the open file, the chunk buffers. */
	char *path;
	int fd;
	unsigned char *basis[2], *out[2];
	struct digester dg;
};

/* The applying thread's file made `path`'s, unless it is already. */
static int
pipe_open(struct chunk_pipe *p, const char *path)
{
	if (p->path != NULL && strcmp(p->path, path) == 0)
		return 0;
	if (p->fd >= 0 && close(p->fd) != 0) {
		pitr_log_error("could not write \"%s\": %s", p->path, strerror(errno));
		p->fd = -1;
		return -1;
	}
	free(p->path);
	p->fd = -1;
	if ((p->path = pitr_xstrdup(path)) == NULL)
		return -1;
	if ((p->fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		pitr_log_error("could not open \"%s\", which backup \"%s\" changes: %s", path,
			       p->ap->link->name, strerror(errno));
		return -1;
	}
	return 0;
}

void
recover_slot_clear(struct chunk_slot *s)
{
	free(s->st.key);
	free(s->path);
	s->st.key = s->path = NULL;
}

/* The next queued slot past those held, or NULL at the end (or when told
 * to stop). */
static struct chunk_slot *
pipe_wait(struct chunk_pipe *p)
{
	struct chunk_slot *s = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->count == p->taken && !p->end && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->stop && p->count > p->taken)
		s = &p->slot[(p->head + p->taken++) % APPLY_SLOTS];
	pthread_mutex_unlock(&p->mu);
	return s;
}

/* The oldest held slot given back (r: how its chunk went). */
static void
pipe_release(struct chunk_pipe *p, struct inflight *h, int r)
{
	recover_slot_clear(h->s);
	h->s = NULL;
	pthread_mutex_lock(&p->mu);
	p->head = (p->head + 1) % APPLY_SLOTS;
	p->count--;
	p->taken--;
	p->failed |= r != 0;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* Held chunk `h` done: its digest taken, checked, written, released. */
static int
inflight_done(struct chunk_pipe *p, struct inflight *h)
{
	int r = 0;

	if (h->digesting) {
		r = dg_take(&p->dg, h->d);
		h->digesting = false;
	}
	if (r == 0)
		r = chunk_finish(&h->c, h->d);
	pipe_release(p, h, r);
	return r;
}

/* Slot `s` prepared in buffer set `set` as `h`; then the chunk held
 * before it (`prev`) done while `h` is digested. */
static int
inflight_next(struct chunk_pipe *p, struct chunk_slot *s, unsigned set, struct inflight *h,
	      struct inflight *prev)
{
	struct chunk_bufs b = { p->basis[set], p->out[set], s->data };
	int r = 0;

	/* A chunk of another file: the one before is written first, with
	 * its file's descriptor. */
	if (prev->s != NULL && strcmp(prev->s->path, s->path) != 0)
		r = inflight_done(p, prev);
	*h = (struct inflight){ .s = s };
	if (r == 0)
		r = pipe_open(p, s->path);
	if (r == 0)
		r = chunk_prepare(p->run, p->ap, s->f, &s->st, s->n, p->fd, s->path, &b, &h->c);
	if (prev->s != NULL && prev->digesting) {
		int d = dg_take(&p->dg, prev->d);

		prev->digesting = false;
		r = r != 0 ? r : d;
	}
	if (r == 0 && h->c.want != NULL) {
		dg_give(&p->dg, h->c.out, h->c.len);
		h->digesting = true;
	}
	if (r == 0 && prev->s != NULL)
		r = inflight_done(p, prev);
	return r;
}

static void *
pipe_main(void *arg)
{
	struct chunk_pipe *p = arg;
	struct inflight held[2] = { { .s = NULL }, { .s = NULL } };
	struct chunk_slot *s;
	unsigned set = 0;
	int r = 0;

	while (r == 0 && (s = pipe_wait(p)) != NULL) {
		r = inflight_next(p, s, set, &held[set], &held[set ^ 1]);
		set ^= 1;
	}
	if (r == 0 && held[set ^ 1].s != NULL)
		r = inflight_done(p, &held[set ^ 1]);
	/* A failure: the digester left idle before its buffers go. */
	(void)dg_take(&p->dg, NULL);
	if (r != 0) {
		pthread_mutex_lock(&p->mu);
		p->failed = true;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
	}
	if (p->fd >= 0 && close(p->fd) != 0 && r == 0) {
		pitr_log_error("could not write \"%s\": %s", p->path, strerror(errno));
		pthread_mutex_lock(&p->mu);
		p->failed = true;
		pthread_mutex_unlock(&p->mu);
	}
	p->fd = -1;
	return NULL;
}

/* Whether the applying thread failed (it logged why). */
bool
recover_pipe_failed(struct chunk_pipe *p)
{
	bool f;

	pthread_mutex_lock(&p->mu);
	f = p->failed;
	pthread_mutex_unlock(&p->mu);
	return f;
}

struct chunk_pipe *
recover_pipe_start(const struct recover_run *run, const struct recover_apply *ap)
{
	struct chunk_pipe *p = pitr_xcalloc(1, sizeof(*p));
	bool ok;
	int e;

	if (p == NULL)
		return NULL;
	p->run = run;
	p->ap = ap;
	p->fd = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	ok = dg_start(&p->dg) == 0;
	for (size_t i = 0; ok && i < 2; i++)
		ok = (p->basis[i] = pitr_xmalloc(PITR_DELTA_CHUNK)) != NULL &&
			(p->out[i] = pitr_xmalloc(PITR_DELTA_CHUNK)) != NULL;
	for (size_t i = 0; ok && i < APPLY_SLOTS; i++)
		ok = (p->slot[i].data = pitr_xmalloc(MEMBER_MAX)) != NULL;
	if (ok && (e = pthread_create(&p->thread, NULL, pipe_main, p)) != 0) {
		pitr_log_error("could not start a thread: %s", strerror(e));
		ok = false;
	}
	p->started = ok;
	if (!ok) {
		recover_pipe_finish(p, false);
		return NULL;
	}
	return p;
}

/* Stop the applying thread (at its end: every chunk applied; else at
 * once, after the chunk it is on) and free it.  0, or -1 when it failed. */
int
recover_pipe_finish(struct chunk_pipe *p, bool end)
{
	bool failed;

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&p->mu);
	p->end = true;
	p->stop = !end;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	failed = p->failed || !p->started;
	for (size_t i = 0; i < APPLY_SLOTS; i++) {
		recover_slot_clear(&p->slot[i]);
		free(p->slot[i].data);
	}
	dg_stop(&p->dg);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->path);
	for (size_t i = 0; i < 2; i++) {
		free(p->basis[i]);
		free(p->out[i]);
	}
	free(p);
	return failed ? -1 : 0;
}

/* A free slot for the reading thread, NULL when the applying thread
 * failed. */
struct chunk_slot *
recover_pipe_slot(struct chunk_pipe *p)
{
	struct chunk_slot *s = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->count == APPLY_SLOTS && !p->failed)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->failed)
		s = &p->slot[(p->head + p->count) % APPLY_SLOTS];
	pthread_mutex_unlock(&p->mu);
	return s;
}

void
recover_pipe_push(struct chunk_pipe *p)
{
	pthread_mutex_lock(&p->mu);
	p->count++;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
