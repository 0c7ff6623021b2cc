/*
 * check_tarqueue.c - unit tests for lib/tar/tarqueue.c, the bounded queue
 * that feeds a destination's writer thread: messages handled in the order
 * put, data whole across buffer boundaries, the data in flight never over
 * PITR_TARQ_BUFS * PITR_TARQ_BUF bytes, a writer's failure (in a handler
 * or at the close) stopping the reader with the writer's one message, and
 * a queue freed while full dropping everything it held.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "common/log.h"
#include "tar/tarqueue.h"

#define BOUND ((size_t)PITR_TARQ_BUFS * PITR_TARQ_BUF)

/* What the test writer saw; written on the writer thread, read after the
 * join (or under `lock`). */
struct seen {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	char order[65536];            /* "E<n> D<n>:<off>+<len> F" ... */
	unsigned char *data;          /* the bytes of every DATA, in order */
	size_t ndata;
	atomic_size_t handled;        /* DATA bytes handled */
	atomic_size_t put;            /* DATA bytes the reader got back from a put */
	atomic_int entries;           /* entries alive (allocated, not dropped) */
	int fail_entry;               /* the handler fails on this entry (0: none) */
	bool fail_close;
	bool gate;                    /* hold the first message until `open` */
	bool open;
	bool closed;
};

static int
t_handle(void *ctx, const struct pitr_tarq_msg *m, char *err, size_t errsz)
{
	struct seen *s = ctx;
	size_t at = strlen(s->order);

	pthread_mutex_lock(&s->lock);
	while (s->gate && !s->open)
		pthread_cond_wait(&s->cv, &s->lock);
	pthread_mutex_unlock(&s->lock);
	/* Every byte put but not handled yet is in the queue's buffers.
	 * (`handled` moves only here; `put` may lag behind it.) */
	ck_assert_int_le((long long)atomic_load(&s->put) - (long long)atomic_load(&s->handled),
			 (long long)BOUND);
	switch (m->kind) {
	case PITR_TARQ_ENTRY:
		snprintf(s->order + at, sizeof(s->order) - at, "E%d ", *(int *)m->entry);
		if (*(int *)m->entry == s->fail_entry) {
			snprintf(err, errsz, "could not create \"entry %d\": boom", s->fail_entry);
			return -1;
		}
		break;
	case PITR_TARQ_DATA:
		snprintf(s->order + at, sizeof(s->order) - at, "D%lld+%zu ", (long long)m->off, m->len);
		memcpy(s->data + s->ndata, m->data, m->len);
		s->ndata += m->len;
		atomic_fetch_add(&s->handled, m->len);
		break;
	case PITR_TARQ_FINISH:
		snprintf(s->order + at, sizeof(s->order) - at, "F ");
		break;
	}
	return 0;
}

static void
t_drop(void *ctx, void *entry)
{
	struct seen *s = ctx;

	atomic_fetch_sub(&s->entries, 1);
	free(entry);
}

static int
t_close(void *ctx, char *err, size_t errsz)
{
	struct seen *s = ctx;

	s->closed = true;
	if (s->fail_close) {
		snprintf(err, errsz, "could not finish extracting: boom");
		return -1;
	}
	return 0;
}

static const struct pitr_tarq_ops t_ops = { t_handle, t_drop, t_close };

static struct seen *
seen_new(size_t data)
{
	struct seen *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->data = malloc(data ? data : 1);
	ck_assert_ptr_nonnull(s->data);
	return s;
}

static void
seen_free(struct seen *s)
{
	ck_assert_int_eq(atomic_load(&s->entries), 0);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->lock);
	free(s->data);
	free(s);
}

static void
seen_open(struct seen *s)
{
	pthread_mutex_lock(&s->lock);
	s->open = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

static int
put_entry(struct pitr_tarq *q, struct seen *s, int n)
{
	int *e = malloc(sizeof(*e));

	ck_assert_ptr_nonnull(e);
	*e = n;
	atomic_fetch_add(&s->entries, 1);
	return pitr_tarq_entry(q, e);
}

/* Put `len` bytes of `src` in blocks of `blk`; 0, or -1 at the first
 * failed put. */
static int
put_data(struct pitr_tarq *q, struct seen *s, const unsigned char *src, size_t len, size_t blk)
{
	for (size_t off = 0; off < len; off += blk) {
		size_t n = len - off < blk ? len - off : blk;

		if (pitr_tarq_data(q, src + off, n, (int64_t)off) != 0)
			return -1;
		atomic_fetch_add(&s->put, n);
	}
	return 0;
}

static unsigned char *
pattern(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

/* Many small files share buffers, a big one spans them: every message in
 * the order put, every byte where it was. */
START_TEST(test_order_and_data)
{
	size_t big = 3 * PITR_TARQ_BUF + 12345, total = big + 300 * 1000;
	unsigned char *src = pattern(big, 7);
	struct seen *s = seen_new(total);
	struct pitr_tarq *q = pitr_tarq_start(&t_ops, s);
	char want[65536] = "";
	size_t w = 0, at = 0;

	ck_assert_ptr_nonnull(q);
	for (int i = 1; i <= 300; i++) {
		ck_assert_int_eq(put_entry(q, s, i), 0);
		ck_assert_int_eq(put_data(q, s, src + i, 1000, 1000), 0);
		ck_assert_int_eq(pitr_tarq_finish(q), 0);
		w += (size_t)snprintf(want + w, sizeof(want) - w, "E%d D0+1000 F ", i);
	}
	ck_assert_int_eq(put_entry(q, s, 301), 0);
	/* 200000-byte blocks: some are split at a buffer's end. */
	ck_assert_int_eq(put_data(q, s, src, big, 200000), 0);
	ck_assert_int_eq(pitr_tarq_finish(q), 0);
	ck_assert_int_eq(pitr_tarq_flush(q), 0);
	ck_assert_uint_eq(atomic_load(&s->handled), total);
	ck_assert_int_eq(pitr_tarq_end(q), 0);
	ck_assert(s->closed);
	ck_assert_str_eq(pitr_tarq_error(q), "");
	ck_assert_int_eq(strncmp(s->order, want, w), 0);
	ck_assert_str_eq(s->order + strlen(s->order) - 2, "F ");
	for (int i = 1; i <= 300; i++, at += 1000)
		ck_assert_int_eq(memcmp(s->data + at, src + i, 1000), 0);
	ck_assert_int_eq(memcmp(s->data + at, src, big), 0);
	pitr_tarq_free(q);
	seen_free(s);
	free(src);
}
END_TEST

/* The reader, on a thread of its own, runs ahead of a writer held at its
 * first message: it fills the buffers, no more, and everything arrives
 * once the writer goes on. */
struct producer {
	struct pitr_tarq *q;
	struct seen *s;
	const unsigned char *src;
	size_t len;
	int rc;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;

	p->rc = put_entry(p->q, p->s, 1) != 0 || put_data(p->q, p->s, p->src, p->len, 256 * 1024) != 0 ||
		pitr_tarq_finish(p->q) != 0 ? -1 : 0;
	return NULL;
}

START_TEST(test_bounded)
{
	size_t len = 3 * BOUND;
	unsigned char *src = pattern(len, 3);
	struct seen *s = seen_new(len);
	struct pitr_tarq *q;
	struct producer p = { .s = s, .src = src, .len = len };
	pthread_t t;

	s->gate = true;
	q = pitr_tarq_start(&t_ops, s);
	ck_assert_ptr_nonnull(q);
	p.q = q;
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	/* The writer is held: the reader gets the whole bound in, and the
	 * handler's check (put - handled <= bound) holds from then on. */
	while (atomic_load(&s->put) < BOUND)
		sched_yield();
	ck_assert_uint_eq(atomic_load(&s->put), BOUND);
	seen_open(s);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.rc, 0);
	ck_assert_int_eq(pitr_tarq_end(q), 0);
	ck_assert_uint_eq(s->ndata, len);
	ck_assert_int_eq(memcmp(s->data, src, len), 0);
	pitr_tarq_free(q);
	seen_free(s);
	free(src);
}
END_TEST

/* A handler fails: the reader's next puts fail at once (also one blocked
 * on a full queue), flush and end say so, the message is the writer's,
 * and every entry queued after it is dropped. */
START_TEST(test_handler_fails)
{
	size_t len = 2 * BOUND;
	unsigned char *src = pattern(len, 5);
	struct seen *s = seen_new(len + 100 * 10);
	struct pitr_tarq *q;
	int i, rc = 0;

	s->fail_entry = 3;
	q = pitr_tarq_start(&t_ops, s);
	ck_assert_ptr_nonnull(q);
	for (i = 1; i <= 100 && rc == 0; i++) {
		rc = put_entry(q, s, i);
		if (rc == 0)
			rc = put_data(q, s, src, i == 2 ? len : 10, 65536);
		if (rc == 0)
			rc = pitr_tarq_finish(q);
	}
	ck_assert_int_eq(rc, -1);
	ck_assert(pitr_tarq_failed(q));
	ck_assert_int_eq(pitr_tarq_flush(q), -1);
	ck_assert_int_eq(pitr_tarq_end(q), -1);
	ck_assert_str_eq(pitr_tarq_error(q), "could not create \"entry 3\": boom");
	ck_assert(!s->closed);
	ck_assert_int_eq(strncmp(s->order, "E1 D0+10 F E2 ", 14), 0);
	ck_assert_ptr_null(strstr(s->order, "E4"));
	pitr_tarq_free(q);
	ck_assert_str_eq(h_log(), "");
	seen_free(s);
	free(src);
}
END_TEST

/* The close fails: end says so, with the close's message. */
START_TEST(test_close_fails)
{
	struct seen *s = seen_new(10);
	struct pitr_tarq *q;

	s->fail_close = true;
	q = pitr_tarq_start(&t_ops, s);
	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(put_entry(q, s, 1), 0);
	ck_assert_int_eq(pitr_tarq_finish(q), 0);
	ck_assert_int_eq(pitr_tarq_end(q), -1);
	ck_assert(s->closed);
	ck_assert_str_eq(pitr_tarq_error(q), "could not finish extracting: boom");
	pitr_tarq_free(q);
	seen_free(s);
}
END_TEST

/* Freed while its writer is held and its queue full of entries: the
 * writer is stopped and joined, every entry dropped, nothing closed. */
START_TEST(test_free_while_full)
{
	struct seen *s = seen_new(10);
	struct pitr_tarq *q;

	s->gate = true;
	q = pitr_tarq_start(&t_ops, s);
	ck_assert_ptr_nonnull(q);
	/* One held by the writer, the rest fill the ring. */
	for (int i = 1; i <= PITR_TARQ_MSGS; i++)
		ck_assert_int_eq(put_entry(q, s, i), 0);
	seen_open(s);
	pitr_tarq_free(q);
	ck_assert(!s->closed);
	seen_free(s);
}
END_TEST

/* pitr_tarq_free accepts NULL. */
START_TEST(test_free_null)
{
	pitr_tarq_free(NULL);
}
END_TEST

static void
setup(void)
{
	h_setup();
}

static Suite *
tarqueue_suite(void)
{
	Suite *s = suite_create("tarqueue");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, h_teardown);
	tcase_add_test(tc, test_order_and_data);
	tcase_add_test(tc, test_bounded);
	tcase_add_test(tc, test_handler_fails);
	tcase_add_test(tc, test_close_fails);
	tcase_add_test(tc, test_free_while_full);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(tarqueue_suite());
}
