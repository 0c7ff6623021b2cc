/*
 * io.h - a whole buffer read from or written to a descriptor, under one
 * rule for everything the kernel may do short of that.
 *
 * The rule, for every loop over read(2) and write(2) in pitrkit:
 * - EINTR is retried: a signal interrupting a transfer is not a failure
 *   (our handlers only set flags, which callers look at between calls).
 * - A short transfer goes on from where it stopped.
 * - A write(2) that returns 0 for a non-empty buffer made no progress and
 *   would make none if retried: it fails with ENOSPC, as PostgreSQL
 *   assumes of a write that reports no reason.
 * - A read(2) that returns 0 is end of file.
 *
 * Nothing here logs: the caller knows what the descriptor is and names it
 * in its one error line, with strerror(errno).
 */
#ifndef PITR_IO_H
#define PITR_IO_H

#include <stddef.h>
#include <sys/types.h>

/* Write all `len` bytes of `buf` to `fd`.  Returns 0, or -1 with errno set
 * (EPIPE for a reader that went away, ENOSPC for a write that made no
 * progress); how much was written before a failure is not said. */
int pitr_io_write_all(int fd, const void *buf, size_t len);

/* Read until `len` bytes are in `buf` or end of file.  Returns the count
 * read (less than `len` only at end of file), or -1 with errno set. */
ssize_t pitr_io_read_full(int fd, void *buf, size_t len);

/* The same at offset `off` >= 0 (pwrite(2), pread(2)), the descriptor's own
 * position untouched: for a file patched in place. */
int pitr_io_pwrite_all(int fd, const void *buf, size_t len, off_t off);
ssize_t pitr_io_pread_full(int fd, void *buf, size_t len, off_t off);

/* One read(2) of at most `len` bytes, retried on EINTR.  Returns the count
 * read (0 at end of file), or -1 with errno set.  For streams that use
 * whatever has arrived (a pipe's output, a compressor's input). */
ssize_t pitr_io_read(int fd, void *buf, size_t len);

#endif
