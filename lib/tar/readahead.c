/*
 * readahead.c - a codec reader drained by a thread into a ring of buffers
 * (readahead.h).  One producer, one consumer: the consumer holds at most
 * one slot (the block libarchive is working on) and gives it back when it
 * asks for the next.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "tar/readahead.h"

struct pitr_readahead {
	struct pitr_codec_reader *reader;
	unsigned char *buf;               /* SLOTS * SLOT bytes */
	size_t len[PITR_READAHEAD_SLOTS]; /* bytes in each filled slot */
	pthread_mutex_t lock;
	pthread_cond_t cv;                /* a slot filled or freed, or the end */
	pthread_t thread;
	unsigned head;                    /* the oldest filled slot */
	unsigned filled;                  /* filled slots from head on */
	bool held;                        /* the consumer holds the slot before head */
	bool ended;                       /* the producer is done: end or failure */
	bool failed;                      /* the codec failed (logged) */
	bool stop;                        /* the consumer wants no more */
};

/* The producer: fill free slots until the stream ends, fails or the
 * consumer stops. */
static void *
produce(void *arg)
{
	struct pitr_readahead *ra = arg;

	pthread_mutex_lock(&ra->lock);
	for (;;) {
		unsigned slot;
		ssize_t n;

		while (!ra->stop && ra->filled + ra->held >= PITR_READAHEAD_SLOTS)
			pthread_cond_wait(&ra->cv, &ra->lock);
		if (ra->stop)
			break;
		slot = (ra->head + ra->filled) % PITR_READAHEAD_SLOTS;
		/* Decompress without the lock: the consumer works meanwhile. */
		pthread_mutex_unlock(&ra->lock);
		n = pitr_codec_reader_read(ra->reader, ra->buf + (size_t)slot * PITR_READAHEAD_SLOT,
					   PITR_READAHEAD_SLOT);
		pthread_mutex_lock(&ra->lock);
		if (n <= 0) {
			ra->failed = n < 0;
			break;
		}
		ra->len[slot] = (size_t)n;
		ra->filled++;
		pthread_cond_signal(&ra->cv);
	}
	ra->ended = true;
	pthread_cond_signal(&ra->cv);
	pthread_mutex_unlock(&ra->lock);
	return NULL;
}

/* pthread_create with every signal blocked in the new thread: the
 * program's handlers (clean-up on SIGTERM) run on the calling thread. */
static int
start_thread(struct pitr_readahead *ra)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&ra->thread, NULL, produce, ra);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0)
		pitr_log_error("could not start the decompression thread: %s", strerror(err));
	return err == 0 ? 0 : -1;
}

struct pitr_readahead *
pitr_readahead_start(struct pitr_codec_reader *r)
{
	struct pitr_readahead *ra = pitr_xcalloc(1, sizeof(*ra));

	if (ra == NULL)
		return NULL;
	ra->reader = r;
	ra->buf = pitr_xmalloc((size_t)PITR_READAHEAD_SLOTS * PITR_READAHEAD_SLOT);
	if (ra->buf == NULL) {
		free(ra);
		return NULL;
	}
	pthread_mutex_init(&ra->lock, NULL);
	pthread_cond_init(&ra->cv, NULL);
	if (start_thread(ra) != 0) {
		pthread_cond_destroy(&ra->cv);
		pthread_mutex_destroy(&ra->lock);
		free(ra->buf);
		free(ra);
		return NULL;
	}
	return ra;
}

ssize_t
pitr_readahead_next(struct pitr_readahead *ra, const void **out)
{
	ssize_t n;

	pthread_mutex_lock(&ra->lock);
	if (ra->held) {
		ra->held = false;
		pthread_cond_signal(&ra->cv);
	}
	while (ra->filled == 0 && !ra->ended)
		pthread_cond_wait(&ra->cv, &ra->lock);
	if (ra->filled > 0) {
		*out = ra->buf + (size_t)ra->head * PITR_READAHEAD_SLOT;
		n = (ssize_t)ra->len[ra->head];
		ra->head = (ra->head + 1) % PITR_READAHEAD_SLOTS;
		ra->filled--;
		ra->held = true;
	} else {
		n = ra->failed ? -1 : 0;
	}
	pthread_mutex_unlock(&ra->lock);
	return n;
}

void
pitr_readahead_stop(struct pitr_readahead *ra)
{
	if (ra == NULL)
		return;
	pthread_mutex_lock(&ra->lock);
	ra->stop = true;
	pthread_cond_signal(&ra->cv);
	pthread_mutex_unlock(&ra->lock);
	pthread_join(ra->thread, NULL);
	pthread_cond_destroy(&ra->cv);
	pthread_mutex_destroy(&ra->lock);
	free(ra->buf);
	free(ra);
}
