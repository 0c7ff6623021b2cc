/*
 * sigthread.c - a backup's chunks worked on by a small pool of threads,
 * their results taken in order on the caller's.
 *
 * Signing (librsync's BLAKE2b, some 600 MB/s a core) and digesting
 * (SHA-256, some 1.7 GB/s) are what a backup spends its CPU on besides
 * compression, and a chunk's records and digest depend on that chunk
 * alone: so chunks are worked on by one thread per core, several at once,
 * while the caller reads the next ones.  What is done with the results
 * (the sig writer's calls, an incremental's tar members) must happen in
 * the order of the files and of their chunks, on the caller's thread:
 * slots are a ring, handed out, queued and taken back in one order, and a
 * slot is consumed only when it and every one before it are done.  The
 * ring bounds the chunk buffers in flight (memory stays flat).
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/backup/backup_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"

/* Threads at most: past a few, the caller's reading and the codec's
 * compressing are the limit. */
#define POOL_MAX_THREADS 4

enum { SLOT_FREE, SLOT_FILLING, SLOT_QUEUED, SLOT_RUNNING, SLOT_DONE };

struct bk_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;         /* any change of a slot's state, or quit */
	pthread_t threads[POOL_MAX_THREADS];
	size_t nthreads;
	struct bk_chunk *slots;
	int *state;
	size_t nslots;
	size_t head;               /* the oldest slot not consumed */
	size_t used;               /* slots from head on that are not free */
	size_t queued;             /* slots queued that no thread took */
	bool quit;
	bool stop;                 /* a work failed: no more work is done */
	bool failed;               /* a failure was met in order and logged */
	bk_pool_fn work, consume;
	void *ctx;
};

/* The oldest queued slot; one is (called with the lock held). */
static size_t
pool_take(struct bk_pool *p)
{
	size_t i = p->head;

	while (p->state[i] != SLOT_QUEUED)
		i = (i + 1) % p->nslots;
	p->state[i] = SLOT_RUNNING;
	p->queued--;
	return i;
}

/* A slot's work, its failure's line held in the slot: every thread may
 * meet the same failure (no memory, a library's), and the caller's thread
 * says the first in order, once, when it is the slot's turn. */
static void
run_work(struct bk_pool *p, struct bk_chunk *c)
{
	c->why[0] = '\0';
	pitr_log_hold(c->why, sizeof(c->why));
	c->rc = p->work(p->ctx, c);
	pitr_log_hold(NULL, 0);
}

static void *
pool_main(void *arg)
{
	struct bk_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		size_t i;
		bool skip;

		while (p->queued == 0 && !p->quit)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->quit)
			break;
		i = pool_take(p);
		skip = p->stop;
		pthread_mutex_unlock(&p->mu);
		/* After a failure nothing more is worked on: the slots taken
		 * since come after the failed one, which is said first. */
		if (skip) {
			p->slots[i].rc = -1;
			p->slots[i].why[0] = '\0';
		} else {
			run_work(p, &p->slots[i]);
		}
		pthread_mutex_lock(&p->mu);
		p->state[i] = SLOT_DONE;
		p->stop = p->stop || p->slots[i].rc != 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* One thread a core, at most POOL_MAX_THREADS. */
static size_t
pool_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > POOL_MAX_THREADS ? POOL_MAX_THREADS : (size_t)n;
}

static int
pool_alloc(struct bk_pool *p, size_t nslots)
{
	p->nslots = nslots;
	p->slots = pitr_xcalloc(nslots, sizeof(*p->slots));
	p->state = pitr_xcalloc(nslots, sizeof(*p->state));
	if (p->slots == NULL || p->state == NULL)
		return -1;
	for (size_t i = 0; i < nslots; i++)
		if ((p->slots[i].buf = pitr_xmalloc(PITR_DELTA_CHUNK)) == NULL ||
		    (p->slots[i].records = pitr_xmalloc(PITR_DELTA_CHUNK_BLOCKS *
							PITR_DELTA_RECORD)) == NULL)
			return -1;
	return 0;
}

/* pthread_create with every signal blocked in the new thread: the
 * program's handlers (clean-up on SIGTERM) run on the calling thread. */
static int
start_thread(struct bk_pool *p)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&p->threads[p->nthreads], NULL, pool_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

struct bk_pool *
pitr_backup_pool_new(size_t nthreads, bk_pool_fn work, bk_pool_fn consume, void *ctx)
{
	struct bk_pool *p = pitr_xcalloc(1, sizeof(*p));
	size_t want = nthreads > 0 ? nthreads : pool_threads();

	if (p == NULL)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->work = work;
	p->consume = consume;
	p->ctx = ctx;
	if (want > POOL_MAX_THREADS)
		want = POOL_MAX_THREADS;
	/* Two chunks a thread: one worked on, one waiting for it. */
	if (pool_alloc(p, 2 * want + 2) != 0) {
		pitr_backup_pool_free(p);
		return NULL;
	}
	for (; p->nthreads < want; p->nthreads++) {
		int err = start_thread(p);

		if (err != 0) {
			/* Fewer threads (none: the caller's) do the same work. */
			pitr_log_verbose("could not start a signing thread: %s", strerror(err));
			break;
		}
	}
	return p;
}

enum { UNTIL_NONE, UNTIL_ROOM, UNTIL_EMPTY };

/* Consume the done slots at the head, in order, waiting for them `until`
 * a slot is free or none is in use.  Called with the lock held; the
 * caller fills no slot. */
static int
pool_consume(struct bk_pool *p, int until)
{
	while (p->used > 0 && !p->failed) {
		struct bk_chunk *c = &p->slots[p->head];
		int rc;

		if (p->state[p->head] != SLOT_DONE) {
			if (until == UNTIL_NONE || (until == UNTIL_ROOM && p->used < p->nslots))
				return 0;
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		pthread_mutex_unlock(&p->mu);
		if (c->rc != 0)
			pitr_log_error("%s", c->why[0] != '\0' ? c->why :
				       "a chunk's work failed without a message");
		rc = c->rc != 0 ? -1 : p->consume(p->ctx, c);
		free(c->key);
		free(c->delta);
		c->key = NULL;
		c->delta = NULL;
		pthread_mutex_lock(&p->mu);
		p->state[p->head] = SLOT_FREE;
		p->head = (p->head + 1) % p->nslots;
		p->used--;
		p->failed = p->failed || rc != 0;
		p->stop = p->stop || p->failed;
	}
	return p->failed ? -1 : 0;
}

struct bk_chunk *
pitr_backup_pool_slot(struct bk_pool *p)
{
	struct bk_chunk *c = NULL;

	pthread_mutex_lock(&p->mu);
	/* What is done is consumed first, then a slot waited for if none is free. */
	if (pool_consume(p, UNTIL_ROOM) == 0) {
		size_t i = (p->head + p->used) % p->nslots;

		p->state[i] = SLOT_FILLING;
		p->used++;
		c = &p->slots[i];
		c->len = 0;
		c->rc = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return c;
}

void
pitr_backup_pool_submit(struct bk_pool *p, struct bk_chunk *c, bool work)
{
	size_t i = (size_t)(c - p->slots);

	if (work && p->nthreads == 0)
		run_work(p, c);
	pthread_mutex_lock(&p->mu);
	if (work && p->nthreads > 0) {
		p->state[i] = SLOT_QUEUED;
		p->queued++;
	} else {
		p->state[i] = SLOT_DONE;
		p->stop = p->stop || c->rc != 0;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int
pitr_backup_pool_drain(struct bk_pool *p, bool wait)
{
	int rc;

	pthread_mutex_lock(&p->mu);
	rc = pool_consume(p, wait ? UNTIL_EMPTY : UNTIL_NONE);
	pthread_mutex_unlock(&p->mu);
	return rc;
}

size_t
pitr_backup_pool_pending(struct bk_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->used;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
pitr_backup_pool_free(struct bk_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* What slots not consumed still own is dropped: the run is over. */
	for (size_t i = 0; p->slots != NULL && i < p->nslots; i++) {
		free(p->slots[i].key);
		free(p->slots[i].delta);
		free(p->slots[i].buf);
		free(p->slots[i].records);
	}
	free(p->slots);
	free(p->state);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}
