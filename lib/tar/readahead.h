/*
 * readahead.h - a codec reader decompressed on a thread of its own into a
 * bounded ring of buffers, so that extracting a tarball uses two cores:
 * one decompresses while the other writes the files (libarchive's tar
 * reader and disk writer are single-threaded, and each would otherwise
 * wait for the other).
 *
 * The thread reads the stream to its end (past the tar's end marker), so
 * the codec's final check (gzip's CRC and length) runs as before.  The
 * codec reader logs its own failures, from the thread; the consumer then
 * gets -1 and logs nothing more.  Signals stay with the calling thread.
 */
#ifndef PITR_TAR_READAHEAD_H
#define PITR_TAR_READAHEAD_H

#include <stddef.h>
#include <sys/types.h>

#include "compress/codec.h"

/* The ring: PITR_READAHEAD_SLOTS buffers of PITR_READAHEAD_SLOT bytes
 * (4 MiB in all: enough to ride over a burst of small files). */
#define PITR_READAHEAD_SLOTS 16
#define PITR_READAHEAD_SLOT (256 * 1024)

struct pitr_readahead;

/* Start decompressing `r` (still the caller's: freed after
 * pitr_readahead_stop()).  Returns NULL after logging. */
struct pitr_readahead *pitr_readahead_start(struct pitr_codec_reader *r);

/* The next block: *out points into the ring until the next call (or
 * stop).  Returns its length, 0 at the stream's end, -1 when the codec
 * failed (logged). */
ssize_t pitr_readahead_next(struct pitr_readahead *ra, const void **out);

/* Stop the thread (at once, whatever it was doing), wait for it and free
 * the ring; accepts NULL. */
void pitr_readahead_stop(struct pitr_readahead *ra);

#endif
