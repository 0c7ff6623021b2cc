/*
 * sigthread.c - a chunk's signature on two cores: signing (librsync's
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
	const unsigned char *buf;  /* the half given to the thread */
	size_t len;
	unsigned char *records;
	int rc;
};

static void *
signer_main(void *arg)
{
	struct bk_signer *s = arg;
	int rc;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->state != W_WORK && s->state != W_QUIT)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->state == W_QUIT)
			break;
		pthread_mutex_unlock(&s->mu);
		/* Logs (one line) from this thread only on failure. */
		rc = pitr_delta_chunk_sig(s->buf, s->len, s->records);
		pthread_mutex_lock(&s->mu);
		s->rc = rc;
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

int
pitr_backup_signer_sign(struct bk_signer *s, const void *buf, size_t len,
			unsigned char *records)
{
	size_t nblocks = PITR_DELTA_NBLOCKS(len), first;
	int rc;

	if (s == NULL || !s->started || len < SPLIT_MIN)
		return pitr_delta_chunk_sig(buf, len, records);
	first = nblocks / 2 * PITR_DELTA_BLOCK;
	pthread_mutex_lock(&s->mu);
	s->buf = (const unsigned char *)buf + first;
	s->len = len - first;
	s->records = records + nblocks / 2 * PITR_DELTA_RECORD;
	s->state = W_WORK;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	rc = pitr_delta_chunk_sig(buf, first, records);
	pthread_mutex_lock(&s->mu);
	while (s->state != W_DONE)
		pthread_cond_wait(&s->cv, &s->mu);
	s->state = W_IDLE;
	if (s->rc != 0)
		rc = -1;
	pthread_mutex_unlock(&s->mu);
	return rc;
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
