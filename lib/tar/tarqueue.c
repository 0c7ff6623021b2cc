/*
 * tarqueue.c - a writer thread fed through a bounded queue (tarqueue.h).
 *
 * File data is copied into a few large buffers filled one after the
 * other: the reader appends to its current buffer (small files share
 * one) and queues a message naming the bytes; a buffer is reused once
 * every message naming it is handled.  The reader copies without the
 * lock: the bytes it writes are named by no queued message yet.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "tar/tarqueue.h"

struct pitr_tarq {
	const struct pitr_tarq_ops *ops;
	void *ctx;
	unsigned char *buf;                  /* PITR_TARQ_BUFS * PITR_TARQ_BUF */
	unsigned refs[PITR_TARQ_BUFS];       /* queued messages naming each buffer */
	int cur;                             /* the buffer being filled, or -1 */
	size_t used;                         /* bytes of it filled */
	struct pitr_tarq_msg msgs[PITR_TARQ_MSGS];
	int buf_of[PITR_TARQ_MSGS];          /* a DATA message's buffer */
	unsigned head;                       /* the oldest message */
	unsigned count;                      /* messages not yet handled */
	pthread_mutex_t lock;
	pthread_cond_t to_writer;            /* a message, the end, or stop */
	pthread_cond_t to_reader;            /* room, the writer done or failed */
	pthread_t thread;
	bool started;                        /* thread not yet joined */
	bool ended;                          /* the reader put its last message */
	bool stop;                           /* drop everything */
	bool failed;                         /* err holds why */
	bool done;                           /* the writer left its loop */
	char err[PITR_TARQ_ERR];
};

/* Handle the oldest message without the lock; pop it.  0 or -1. */
static int
handle_head(struct pitr_tarq *q)
{
	struct pitr_tarq_msg m = q->msgs[q->head];
	int rc;

	pthread_mutex_unlock(&q->lock);
	rc = q->ops->handle(q->ctx, &m, q->err, sizeof(q->err));
	if (m.kind == PITR_TARQ_ENTRY)
		q->ops->drop(q->ctx, m.entry);
	pthread_mutex_lock(&q->lock);
	if (m.kind == PITR_TARQ_DATA)
		q->refs[q->buf_of[q->head]]--;
	q->head = (q->head + 1) % PITR_TARQ_MSGS;
	q->count--;
	pthread_cond_signal(&q->to_reader);
	return rc;
}

static void *
writer(void *arg)
{
	struct pitr_tarq *q = arg;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		while (!q->stop && q->count == 0 && !q->ended)
			pthread_cond_wait(&q->to_writer, &q->lock);
		if (q->stop)
			break;
		if (q->count == 0) {
			int rc;

			pthread_mutex_unlock(&q->lock);
			rc = q->ops->close != NULL ? q->ops->close(q->ctx, q->err, sizeof(q->err)) : 0;
			pthread_mutex_lock(&q->lock);
			q->failed = rc != 0;
			break;
		}
		if (handle_head(q) != 0) {
			q->failed = true;
			break;
		}
	}
	q->done = true;
	pthread_cond_broadcast(&q->to_reader);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* pthread_create with every signal blocked in the new thread: the
 * program's handlers (clean-up on SIGTERM) run on the calling thread. */
static int
start_thread(struct pitr_tarq *q)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&q->thread, NULL, writer, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		pitr_log_error("could not start a writer thread: %s", strerror(err));
	return err == 0 ? 0 : -1;
}

struct pitr_tarq *
pitr_tarq_start(const struct pitr_tarq_ops *ops, void *ctx)
{
	struct pitr_tarq *q = pitr_xcalloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->ops = ops;
	q->ctx = ctx;
	q->cur = -1;
	if ((q->buf = pitr_xmalloc((size_t)PITR_TARQ_BUFS * PITR_TARQ_BUF)) == NULL) {
		free(q);
		return NULL;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->to_writer, NULL);
	pthread_cond_init(&q->to_reader, NULL);
	if (start_thread(q) != 0) {
		q->done = true;
		pitr_tarq_free(q);
		return NULL;
	}
	q->started = true;
	return q;
}

/* A buffer no queued message names, other than the current one, or -1. */
static int
free_buf(const struct pitr_tarq *q)
{
	for (int i = 0; i < PITR_TARQ_BUFS; i++)
		if (i != q->cur && q->refs[i] == 0)
			return i;
	return -1;
}

/* With the lock: wait for a message's room (and a buffer when `buf`).
 * false when the writer failed or left. */
static bool
wait_room(struct pitr_tarq *q, bool buf)
{
	while (!q->failed && !q->done &&
	       (q->count == PITR_TARQ_MSGS || (buf && free_buf(q) < 0)))
		pthread_cond_wait(&q->to_reader, &q->lock);
	return !q->failed && !q->done;
}

/* With the lock and room: queue `m`. */
static void
push(struct pitr_tarq *q, const struct pitr_tarq_msg *m)
{
	unsigned at = (q->head + q->count) % PITR_TARQ_MSGS;

	q->msgs[at] = *m;
	if (m->kind == PITR_TARQ_DATA) {
		q->buf_of[at] = q->cur;
		q->refs[q->cur]++;
	}
	q->count++;
	pthread_cond_signal(&q->to_writer);
}

/* An ENTRY or FINISH message. */
static int
put_plain(struct pitr_tarq *q, enum pitr_tarq_kind kind, void *entry)
{
	struct pitr_tarq_msg m = { .kind = kind, .entry = entry };
	bool ok;

	pthread_mutex_lock(&q->lock);
	ok = wait_room(q, false);
	if (ok)
		push(q, &m);
	pthread_mutex_unlock(&q->lock);
	if (!ok && entry != NULL)
		q->ops->drop(q->ctx, entry);
	return ok ? 0 : -1;
}

int
pitr_tarq_entry(struct pitr_tarq *q, void *entry)
{
	return put_plain(q, PITR_TARQ_ENTRY, entry);
}

int
pitr_tarq_finish(struct pitr_tarq *q)
{
	return put_plain(q, PITR_TARQ_FINISH, NULL);
}

int
pitr_tarq_data(struct pitr_tarq *q, const void *data, size_t len, int64_t off)
{
	const unsigned char *p = data;

	while (len > 0) {
		struct pitr_tarq_msg m = { .kind = PITR_TARQ_DATA, .off = off };
		bool need = q->cur < 0 || q->used == PITR_TARQ_BUF;
		size_t n;

		pthread_mutex_lock(&q->lock);
		if (need)
			q->cur = -1;
		if (!wait_room(q, need)) {
			pthread_mutex_unlock(&q->lock);
			return -1;
		}
		if (need) {
			q->cur = free_buf(q);
			q->used = 0;
		}
		pthread_mutex_unlock(&q->lock);
		n = len < PITR_TARQ_BUF - q->used ? len : PITR_TARQ_BUF - q->used;
		m.data = q->buf + (size_t)q->cur * PITR_TARQ_BUF + q->used;
		m.len = n;
		memcpy(q->buf + (size_t)q->cur * PITR_TARQ_BUF + q->used, p, n);
		pthread_mutex_lock(&q->lock);
		push(q, &m);
		pthread_mutex_unlock(&q->lock);
		q->used += n;
		p += n;
		off += (int64_t)n;
		len -= n;
	}
	return 0;
}

int
pitr_tarq_flush(struct pitr_tarq *q)
{
	bool ok;

	pthread_mutex_lock(&q->lock);
	while (q->count > 0 && !q->failed && !q->done)
		pthread_cond_wait(&q->to_reader, &q->lock);
	ok = !q->failed && !q->done;
	pthread_mutex_unlock(&q->lock);
	return ok ? 0 : -1;
}

bool
pitr_tarq_failed(struct pitr_tarq *q)
{
	bool failed;

	pthread_mutex_lock(&q->lock);
	failed = q->failed;
	pthread_mutex_unlock(&q->lock);
	return failed;
}

const char *
pitr_tarq_error(const struct pitr_tarq *q)
{
	return q->failed ? q->err : "";
}

int
pitr_tarq_end(struct pitr_tarq *q)
{
	pthread_mutex_lock(&q->lock);
	q->ended = true;
	pthread_cond_signal(&q->to_writer);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	q->started = false;
	return q->failed ? -1 : 0;
}

void
pitr_tarq_free(struct pitr_tarq *q)
{
	if (q == NULL)
		return;
	if (q->started) {
		pthread_mutex_lock(&q->lock);
		q->stop = true;
		pthread_cond_signal(&q->to_writer);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->thread, NULL);
	}
	for (unsigned i = 0; i < q->count; i++) {
		const struct pitr_tarq_msg *m = &q->msgs[(q->head + i) % PITR_TARQ_MSGS];

		if (m->kind == PITR_TARQ_ENTRY)
			q->ops->drop(q->ctx, m->entry);
	}
	pthread_cond_destroy(&q->to_reader);
	pthread_cond_destroy(&q->to_writer);
	pthread_mutex_destroy(&q->lock);
	free(q->buf);
	free(q);
}
