/*
 * sigthread.c - signing off the main thread.  A chunk's signature on two
 * cores: signing (librsync's
 * BLAKE2b, some 500 MB/s a core) is what an incremental backup spends its
 * time on, and a block's record depends on that block alone, so a second
 * thread signs the second half of each chunk while the caller signs the
 * first; the records come out as one call over the whole chunk gives them.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "command/backup/backup_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "delta/delta.h"

/* Below this the thread's hand-over costs more than it saves. */
#define SPLIT_MIN (128 * 1024)

enum { W_IDLE, W_WORK, W_DONE, W_QUIT };

struct bk_signer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool started;
	int state;
	void (*fn)(void *arg);     /* the job given to the thread */
	void *arg;
};

static void *
signer_main(void *arg)
{
	struct bk_signer *s = arg;
	void (*fn)(void *);
	void *job;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->state != W_WORK && s->state != W_QUIT)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->state == W_QUIT)
			break;
		fn = s->fn;
		job = s->arg;
		pthread_mutex_unlock(&s->mu);
		fn(job);
		pthread_mutex_lock(&s->mu);
		s->state = W_DONE;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct bk_signer *
pitr_backup_signer_new(void)
{
	struct bk_signer *s = pitr_xcalloc(1, sizeof(*s));
	int err;

	if (s == NULL)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	err = pthread_create(&s->thread, NULL, signer_main, s);
	if (err != 0) {
		/* One core then: the work is the same. */
		pitr_log_verbose("could not start a signing thread: %s", strerror(err));
		return s;
	}
	s->started = true;
	return s;
}

bool
pitr_backup_signer_start(struct bk_signer *s, void (*fn)(void *arg), void *arg)
{
	if (s == NULL || !s->started)
		return false;
	pthread_mutex_lock(&s->mu);
	s->fn = fn;
	s->arg = arg;
	s->state = W_WORK;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return true;
}

void
pitr_backup_signer_wait(struct bk_signer *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->state != W_DONE)
		pthread_cond_wait(&s->cv, &s->mu);
	s->state = W_IDLE;
	pthread_mutex_unlock(&s->mu);
}

/* Half a chunk's records. */
struct half {
	const unsigned char *buf;
	size_t len;
	unsigned char *records;
	int rc;
};

static void
sign_half(void *arg)
{
	struct half *h = arg;

	/* Logs (one line) from the thread only on failure. */
	h->rc = pitr_delta_chunk_sig(h->buf, h->len, h->records);
}

int
pitr_backup_signer_sign(struct bk_signer *s, const void *buf, size_t len,
			unsigned char *records)
{
	size_t nblocks = PITR_DELTA_NBLOCKS(len), first = nblocks / 2 * PITR_DELTA_BLOCK;
	struct half h = { (const unsigned char *)buf + first, len - first,
			  records + nblocks / 2 * PITR_DELTA_RECORD, 0 };
	int rc;

	if (len < SPLIT_MIN || !pitr_backup_signer_start(s, sign_half, &h))
		return pitr_delta_chunk_sig(buf, len, records);
	rc = pitr_delta_chunk_sig(buf, first, records);
	pitr_backup_signer_wait(s);
	return rc == 0 && h.rc == 0 ? 0 : -1;
}

void
pitr_backup_signer_free(struct bk_signer *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->state = W_QUIT;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

/*
 * The signatures of files stored whole, on a thread of their own: a full
 * backup's main thread reads and writes the tar while the codec writers
 * compress on theirs, and signing (as costly as the rest together with
 * lz4) would otherwise hold the main thread.  The thread owns the sig
 * writer while it has work: the caller queues copies of what it stores
 * and waits for the queue to drain (pitr_backup_sigq_sync) before calling
 * the sig writer itself.
 */

#define SIGQ_SLOTS 64
#define SIGQ_BYTES (8u << 20)   /* data queued at most: memory stays flat */

enum { Q_BEGIN, Q_DATA, Q_END };

struct sigq_item {
	int op;
	char *key;              /* Q_BEGIN */
	unsigned char *buf;     /* Q_DATA */
	size_t len;
};

struct bk_sigq {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pitr_delta_sigwriter *w;
	struct sigq_item ring[SIGQ_SLOTS];
	size_t head, count, bytes;
	bool busy;              /* the thread works on an item */
	bool quit;
	bool failed;            /* the sig writer failed (logged): items dropped */
};

/* One item, on the thread, outside the lock. */
static int
sigq_run(struct pitr_delta_sigwriter *w, const struct sigq_item *it)
{
	switch (it->op) {
	case Q_BEGIN:
		return pitr_delta_sigwriter_whole_begin(w, it->key);
	case Q_DATA:
		return pitr_delta_sigwriter_whole_data(w, it->buf, it->len);
	default:
		return pitr_delta_sigwriter_whole_end(w);
	}
}

static void *
sigq_main(void *arg)
{
	struct bk_sigq *q = arg;
	struct sigq_item it;
	bool skip;
	int rc;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->count == 0 && !q->quit)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->count == 0)
			break;
		it = q->ring[q->head];
		q->busy = true;
		skip = q->failed;
		pthread_mutex_unlock(&q->mu);
		rc = skip ? 0 : sigq_run(q->w, &it);
		free(it.key);
		free(it.buf);
		pthread_mutex_lock(&q->mu);
		q->head = (q->head + 1) % SIGQ_SLOTS;
		q->count--;
		q->bytes -= it.len;
		q->busy = false;
		q->failed = q->failed || rc != 0;
		pthread_cond_broadcast(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

struct bk_sigq *
pitr_backup_sigq_new(struct pitr_delta_sigwriter *w)
{
	struct bk_sigq *q = pitr_xcalloc(1, sizeof(*q));
	int err;

	if (q == NULL)
		return NULL;
	q->w = w;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	err = pthread_create(&q->thread, NULL, sigq_main, q);
	if (err != 0) {
		pitr_log_error("could not start a signing thread: %s", strerror(err));
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cv);
		free(q);
		return NULL;
	}
	return q;
}

/* Queue `it` (taken over), waiting for room. */
static int
sigq_put(struct bk_sigq *q, struct sigq_item it)
{
	pthread_mutex_lock(&q->mu);
	while (!q->failed && (q->count == SIGQ_SLOTS ||
			      (q->bytes > 0 && q->bytes + it.len > SIGQ_BYTES)))
		pthread_cond_wait(&q->cv, &q->mu);
	if (q->failed) {
		pthread_mutex_unlock(&q->mu);
		free(it.key);
		free(it.buf);
		return -1;
	}
	q->ring[(q->head + q->count) % SIGQ_SLOTS] = it;
	q->count++;
	q->bytes += it.len;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int
pitr_backup_sigq_begin(struct bk_sigq *q, const char *key)
{
	struct sigq_item it = { .op = Q_BEGIN, .key = pitr_xstrdup(key) };

	return it.key != NULL ? sigq_put(q, it) : -1;
}

int
pitr_backup_sigq_data(struct bk_sigq *q, const void *buf, size_t len)
{
	struct sigq_item it = { .op = Q_DATA, .buf = pitr_xmalloc(len ? len : 1), .len = len };

	if (it.buf == NULL)
		return -1;
	memcpy(it.buf, buf, len);
	return sigq_put(q, it);
}

int
pitr_backup_sigq_end(struct bk_sigq *q)
{
	return sigq_put(q, (struct sigq_item){ .op = Q_END });
}

int
pitr_backup_sigq_sync(struct bk_sigq *q)
{
	bool failed;

	pthread_mutex_lock(&q->mu);
	while (q->count > 0 || q->busy)
		pthread_cond_wait(&q->cv, &q->mu);
	failed = q->failed;
	pthread_mutex_unlock(&q->mu);
	return failed ? -1 : 0;
}

void
pitr_backup_sigq_free(struct bk_sigq *q)
{
	if (q == NULL)
		return;
	pthread_mutex_lock(&q->mu);
	/* What is queued is dropped: the run is over. */
	q->failed = true;
	q->quit = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->thread, NULL);
	for (; q->count > 0; q->count--, q->head = (q->head + 1) % SIGQ_SLOTS) {
		free(q->ring[q->head].key);
		free(q->ring[q->head].buf);
	}
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q);
}
