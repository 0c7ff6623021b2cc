/*
 * tarqueue.h - a writer thread fed through a bounded queue: the thread
 * reading a tarball hands each member (an opaque "entry") and its file
 * data to the writer of the member's destination, which writes it while
 * the reader goes on to the next member.
 *
 * Bounded: file data is copied into PITR_TARQ_BUFS buffers of
 * PITR_TARQ_BUF bytes each, owned by the queue (small files share a
 * buffer); at most PITR_TARQ_MSGS messages wait.  A full queue blocks the
 * reader.  Per file, messages are handled in the order they were put.
 *
 * Errors: the handler fills a message and returns -1; the writer then
 * handles nothing more, and every later put, flush or end returns -1 at
 * once, so the reader stops.  The reader logs pitr_tarq_error() (once,
 * unless it already logged an error of its own), so a failure is one line
 * whichever thread met it.  Signals stay with the thread that starts.
 */
#ifndef PITR_TAR_TARQUEUE_H
#define PITR_TAR_TARQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PITR_TARQ_BUFS 4
#define PITR_TARQ_BUF (1024 * 1024)
#define PITR_TARQ_MSGS 256
#define PITR_TARQ_ERR 8192      /* an error message's room */

enum pitr_tarq_kind {
	PITR_TARQ_ENTRY,        /* a member starts: `entry` */
	PITR_TARQ_DATA,         /* `len` bytes at `data`, at `off` in the file */
	PITR_TARQ_FINISH,       /* the member is complete */
};

struct pitr_tarq_msg {
	enum pitr_tarq_kind kind;
	void *entry;
	const void *data;
	size_t len;
	int64_t off;
};

/* What the writer does, on its thread.  handle() and close() return 0,
 * or -1 with a one-line message in err (errsz bytes).  drop() frees an
 * entry's payload, handled or not.  close() runs once after the last
 * message when the queue ends without failure (it may be NULL). */
struct pitr_tarq_ops {
	int (*handle)(void *ctx, const struct pitr_tarq_msg *m, char *err, size_t errsz);
	void (*drop)(void *ctx, void *entry);
	int (*close)(void *ctx, char *err, size_t errsz);
};

struct pitr_tarq;

/* Start a writer (ops and ctx stay the caller's until pitr_tarq_end or
 * pitr_tarq_abort return).  NULL after logging. */
struct pitr_tarq *pitr_tarq_start(const struct pitr_tarq_ops *ops, void *ctx);

/* Put an entry (always taken: dropped on failure).  0, or -1 when the
 * writer failed or is stopping. */
int pitr_tarq_entry(struct pitr_tarq *q, void *entry);

/* Copy `len` bytes (the file's at `off`) into the queue's buffers. */
int pitr_tarq_data(struct pitr_tarq *q, const void *data, size_t len, int64_t off);

/* The current entry is complete. */
int pitr_tarq_finish(struct pitr_tarq *q);

/* Wait until everything put so far is handled (a hard link to a file
 * this writer writes, made by another).  0, or -1 when the writer failed. */
int pitr_tarq_flush(struct pitr_tarq *q);

/* Has the writer failed?  (Cheap: the reader asks between members.) */
bool pitr_tarq_failed(struct pitr_tarq *q);

/* The writer's error message ("" when none). */
const char *pitr_tarq_error(const struct pitr_tarq *q);

/* Let the writer handle what is queued, close() it, join it.  0, or -1
 * when it failed (pitr_tarq_error() says why until pitr_tarq_free). */
int pitr_tarq_end(struct pitr_tarq *q);

/* Stop the writer at once (what is queued is dropped), join it.  Then
 * free everything; accepts NULL, and a queue already ended. */
void pitr_tarq_free(struct pitr_tarq *q);

#endif
