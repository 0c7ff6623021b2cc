/*
 * pipefeed.h - a descriptor to read() that a thread fills: for a source
 * that pushes its bytes (a streamed GET) and a reader that pulls them
 * (the codec readers, libarchive), which only know descriptors.
 *
 * The thread runs a producer that passes the bytes, in order, to a write
 * function feeding a pipe.  Whether the producer delivered every byte is
 * known only when the feed ends, after the reader saw end of file: the
 * reader learns it from pitr_pipefeed_end(), never from the end of file
 * alone.  A reader may end the feed before the end of file: the pipe is
 * closed, the producer's next write fails (EPIPE, SIGPIPE being blocked
 * in the thread) and it gives up, so the thread never waits for a reader
 * that is gone.
 *
 * The producer's log lines are held in the thread (log.h's
 * pitr_log_hold) and reported once by whoever ends the feed: logged, or
 * written to a caller's `reason`.
 *
 * A reader that logs its own failures (a codec reader, libarchive) would
 * say "truncated" where the producer failed midway: two lines for one
 * failure, and the first not the cause.  So from begin to end the
 * reading thread's ERROR lines are held (log.h's pitr_log_hold_errors,
 * unless that thread holds already): end drops the reader's line when
 * the producer failed, whose line is then the one, and logs it when not.
 * A feed therefore ends on the thread that began it.
 */
#ifndef PITR_PIPEFEED_H
#define PITR_PIPEFEED_H

#include <stdbool.h>
#include <stddef.h>

/* Where the producer passes its bytes: 0, or -1 when the reader is gone
 * (the producer then gives up without a line of its own).  The same type
 * as s3.h's pitr_s3_sink, so a GET feeds a pipe directly. */
typedef int (*pitr_pipefeed_write_fn)(void *wctx, const void *buf, size_t len);

/* The producer, run in the feed's thread: every byte through `write`,
 * then 0; 1 when there is nothing to read (no such object: nothing
 * written); -1 after logging. */
typedef int (*pitr_pipefeed_fn)(void *ctx, pitr_pipefeed_write_fn write, void *wctx);

struct pitr_pipefeed;

/*
 * Start `fn(ctx)` in a thread and wait until it has either passed its
 * first bytes or finished, so that a missing source or a refused request
 * is known here rather than as an empty read.  Returns 0 with *feed set
 * (its descriptor: pitr_pipefeed_fd), 1 when the producer found nothing,
 * -1 when it failed or the feed could not be set up: the reason written
 * to `reason` when it is not NULL, else logged.
 */
int pitr_pipefeed_begin(pitr_pipefeed_fn fn, void *ctx, struct pitr_pipefeed **feed,
			char *reason, size_t reason_size);

/* The descriptor to read (no seeking). */
int pitr_pipefeed_fd(const struct pitr_pipefeed *feed);

/*
 * Close the descriptor, wait for the thread and free the feed.  Returns
 * 0 when the producer delivered every byte, -1 when it failed or was cut
 * short (also by this close, when the reader had not read to the end):
 * the reason written to `reason` when it is not NULL, else logged.  With
 * `early` the reader stopped before the end on purpose (it had what it
 * needed, or found the bytes wrong itself): a producer cut short by this
 * close is no failure then, one that had failed before it still is.
 */
int pitr_pipefeed_end(struct pitr_pipefeed *feed, bool early, char *reason, size_t reason_size);

#endif
