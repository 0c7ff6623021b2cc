/*
 * tarread.h - extract a (compressed) backup tarball safely: libarchive
 * reads the tar, our codec readers decompress it (the same code that reads
 * archived WAL, so every codec pitrkit writes is read the same way), and
 * each member's destination is chosen by the caller.
 *
 * Safety: a member name that is absolute, contains a ".." component, or is
 * not under a prefix the caller maps is refused with one error line naming
 * the tarball and the member; so is a member whose destination already
 * exists (nothing is overwritten), a hard link leaving the destination, and
 * every symbolic link unless the caller allows them (pg_tblspc links, see
 * PITR_TARREAD_ALLOW_SYMLINKS).  Nothing is written through a symbolic
 * link.  Files are written with the member's mode, owner when running as
 * root, and mtime.  The compressed stream is read to its end after the
 * tar's end marker, so a damaged gzip trailer (CRC) is not missed.
 *
 * Each reading function takes the tarball by its path, or (its _fd
 * variant) as a descriptor open for reading, `name` what messages call
 * it: an object's pipe from an object store (repo/store.h).  The
 * descriptor is read to its end of file but not closed: the caller closes
 * it, through pitr_store_read_end() for a store's, which says whether
 * every byte was there; only then does the tarball count as read whole.
 */
#ifndef PITR_TARREAD_H
#define PITR_TARREAD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "compress/codec.h"

/*
 * Where a member goes.  Called once per member with its name as stored
 * ("pgdata/base/1/1259").  Returns a malloc'd absolute destination path,
 * or NULL with *skip set true to leave the member out silently, or NULL
 * with *skip false after logging why the member is refused (which stops
 * the extraction).
 */
typedef char *(*pitr_tarread_map_fn)(void *ctx, const char *member, bool *skip);

/* extract flags */
#define PITR_TARREAD_ALLOW_SYMLINKS 0x1  /* keep symbolic links as stored
					  * (pg_tblspc links are rewritten
					  * afterwards by the caller) */

/*
 * Extract `path` (compressed with `codec`) through `map`.  Returns 0, or
 * -1 after logging one line (a corrupt or truncated tarball names the file
 * and, when known, the member).  *bytes (may be NULL) gets the bytes of
 * file data written.  Files written are not fsync'ed one by one: the
 * caller syncs the whole tree once with pitr_tarread_sync().
 */
int pitr_tarread_extract(const char *path, enum pitr_codec codec, pitr_tarread_map_fn map,
			 void *ctx, unsigned flags, uint64_t *bytes);
int pitr_tarread_extract_fd(int fd, const char *name, enum pitr_codec codec,
			    pitr_tarread_map_fn map, void *ctx, unsigned flags, uint64_t *bytes);

/*
 * The same, with each member's destination named by `map`'s *dest: 0 for
 * the main one (the data directory), written on the calling thread as
 * pitr_tarread_extract() does; N > 0 for another (the N-th tablespace),
 * whose members are handed, with their data, to a writer thread of its
 * own (tarqueue.h), so that it is written while the tarball is read on.
 * Up to PITR_TARREAD_WRITERS threads; beyond that destinations share them
 * (N modulo).  Memory: PITR_TARQ_BUFS * PITR_TARQ_BUF bytes of file data
 * per writer thread started (4 MiB; 16 MiB at most), besides the
 * decompression ring.  Ownership, modes, times, refusals, the error line
 * and the clean-up are those of pitr_tarread_extract(): the first error,
 * on whichever thread, stops every writer and is the one line logged.
 */
#define PITR_TARREAD_WRITERS 4
typedef char *(*pitr_tarread_dest_fn)(void *ctx, const char *member, bool *skip, unsigned *dest);
int pitr_tarread_extract_split(const char *path, enum pitr_codec codec, pitr_tarread_dest_fn map,
			       void *ctx, unsigned flags, uint64_t *bytes);
int pitr_tarread_extract_split_fd(int fd, const char *name, enum pitr_codec codec,
				  pitr_tarread_dest_fn map, void *ctx, unsigned flags,
				  uint64_t *bytes);

/*
 * The same, with members handed to the caller instead of written: `map`
 * returns NULL with *skip true and *dest PITR_TARREAD_TAKE for a member
 * that `take` gets, on the calling thread, with its size; `take` reads
 * what it wants of its data with pitr_tarread_member_read() (the rest is
 * skipped, still read through the codec) and returns 0, or -1 after
 * logging, which stops the extraction.  Only regular files are handed
 * over; another kind of member mapped so is refused.  One pass over the
 * tarball thus both extracts and feeds the caller (an incremental
 * backup's chunks, delta/delta.h).
 */
#define PITR_TARREAD_TAKE UINT_MAX
struct pitr_tarread_member;
typedef int (*pitr_tarread_take_fn)(void *ctx, const char *member, int64_t size,
				    struct pitr_tarread_member *m);
int pitr_tarread_extract_take(const char *path, enum pitr_codec codec, pitr_tarread_dest_fn map,
			      pitr_tarread_take_fn take, void *ctx, unsigned flags,
			      uint64_t *bytes);
int pitr_tarread_extract_take_fd(int fd, const char *name, enum pitr_codec codec,
				 pitr_tarread_dest_fn map, pitr_tarread_take_fn take, void *ctx,
				 unsigned flags, uint64_t *bytes);
/* Exactly `len` bytes of the handed member's data into `buf`: 0, or -1
 * after logging (the member ends before, or the tarball is damaged). */
int pitr_tarread_member_read(struct pitr_tarread_member *m, void *buf, size_t len);

/* For a split extraction's map, on the thread that called it: wait until
 * every writer thread has written what it was handed (a new destination
 * is then judged with every earlier member on disk).  0, or -1 after
 * logging the failed writer's error; 0 outside a split extraction. */
int pitr_tarread_settle(void);

/* The progress (common/progress.h) later reads count into: tar bytes as
 * decompressed, and regular files extracted; NULL: none.  One at a time,
 * as a program runs one extraction at a time. */
struct pitr_progress;
void pitr_tarread_progress(struct pitr_progress *p);

/*
 * List the members of a tarball (for pitr-verify: reading every byte
 * proves the compressed stream and the tar are whole).  `fn` is called per
 * member with its name and size and may be NULL.  Returns 0, or -1 after
 * logging.
 */
int pitr_tarread_list(const char *path, enum pitr_codec codec,
		      void (*fn)(void *ctx, const char *member, int64_t size), void *ctx);
int pitr_tarread_list_fd(int fd, const char *name, enum pitr_codec codec,
			 void (*fn)(void *ctx, const char *member, int64_t size), void *ctx);

/* Make everything written under `dir` durable: syncfs(2) of its
 * filesystem, then fsync of `dir` itself.  Returns 0, or -1 after
 * logging. */
int pitr_tarread_sync(const char *dir);

/*
 * Read a tarball member by member into memory (a small one: the sig file
 * of an incremental backup, delta.h), through the same codec reader and
 * read-ahead as an extraction.  Every failure is logged once, naming the
 * file (and the member when known).
 */
struct pitr_tarread_stream;

/* NULL after logging. */
struct pitr_tarread_stream *pitr_tarread_open(const char *path, enum pitr_codec codec);
struct pitr_tarread_stream *pitr_tarread_open_fd(int fd, const char *name, enum pitr_codec codec);

/* The next member: 1 with *name (valid until the next call) and *size;
 * 0 at the tar's end, once the compressed stream is read and checked to
 * its end; -1 after logging.  What the caller did not read of the
 * previous member is skipped (still read through the codec). */
int pitr_tarread_next(struct pitr_tarread_stream *s, const char **name, int64_t *size);

/* Exactly `len` bytes of the member's data into `buf`: 0, or -1 after
 * logging (the member ends before, or the tarball is damaged). */
int pitr_tarread_read(struct pitr_tarread_stream *s, void *buf, size_t len);

/* Release; accepts NULL. */
void pitr_tarread_close(struct pitr_tarread_stream *s);

#endif
