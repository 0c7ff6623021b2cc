/*
 * store.h - a place pitrkit reads backups and archived WAL from: a local
 * directory or an object-store prefix (s3://BUCKET/PREFIX/), behind one set
 * of calls: list, look up, read, remove.
 *
 * The catalog (catalog.h) and the programs that read what it finds
 * (pitr-info, pitr-verify, pitr-recover, pitr-backup-cleanup, pitr-monitor,
 * pitr-synch) go through a store, so that an archive or a backup dir in an
 * object store is read as a local one is.  Names are relative to the
 * store: a file of a directory, or the rest of a key after the prefix with
 * no further '/' (a store is flat, as pitrkit's archives and backup dirs
 * are).
 *
 * Reading gives a file descriptor whatever the kind, so that the codec
 * readers and libarchive read an object as they read a file: for an
 * object, a pipe that a thread fills from one streamed GET
 * (common/pipefeed.h).  Whether the bytes were all there is known only at
 * pitr_store_read_end(), which a reader must call (and check) instead of
 * close(); a reader that has what it needs before the end (a WAL page
 * header, a file found too long to be what it looks for) says so, and the
 * GET gives up without that being a failure.  A GET that fails midway is
 * one line, its own (the object, the status, S3's code): what the reader
 * logged of the bytes it missed meanwhile ("truncated") is dropped
 * (pipefeed.h), so read_begin and read_end are called on one thread.
 *
 * An object store is contacted with one client for listings, lookups and
 * removals, and one per open read (kept for the next read), so that
 * reads and listings can interleave and a run reuses its connections.
 * A store is used by one thread at a time.
 */
#ifndef PITR_STORE_H
#define PITR_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "s3/s3.h"

struct pitr_store;

struct pitr_store_entry {
	const char *name;   /* relative to the store */
	uint64_t size;
	time_t mtime;       /* a file's mtime; an object's Last-Modified */
	bool regular;       /* a regular file (always, for an object) */
	int error;          /* a local entry that could not be stat'ed (a
			     * dangling link): its errno, regular false; else 0 */
	bool marked;        /* an object pitrkit stored (its mark, s3.h), as
			     * pitr_store_stat() alone tells: false in
			     * listings and for local files */
};

/*
 * A store for `location`: a directory, or s3://BUCKET/PREFIX/ reached
 * with `s3` (NULL: the defaults; copied), credentials as s3.h loads them
 * at the first request.  An object store is not contacted until the first
 * call.  `role` ("backup dir", "archive dir") names it in errors.  Returns
 * NULL after logging (a malformed s3:// location).
 */
struct pitr_store *pitr_store_new(const char *location, const struct pitr_s3_config *s3,
				  const char *role);
void pitr_store_free(struct pitr_store *st);

/* The location as given, for messages. */
const char *pitr_store_location(const struct pitr_store *st);

/* The directory of a local store, NULL for an object store: for the
 * callers that must act on local files (locks, journals, fsync). */
const char *pitr_store_dir(const struct pitr_store *st);

/* "DIR/NAME" or "s3://BUCKET/PREFIX/NAME": what messages call an entry.
 * Malloc'd; NULL after logging. */
char *pitr_store_path(const struct pitr_store *st, const char *name);

/*
 * The client and key prefix of an object store, for code that speaks S3
 * itself over the store's keys (repo/s3arch.h): 0 with both set (the
 * client stays the store's; not to be used while another call of this
 * store runs), 1 for a local store, -1 after logging (no credentials).
 */
int pitr_store_s3(struct pitr_store *st, struct pitr_s3 **client, const char **prefix);

/* Every entry except "." and ".." (for an object store: every object
 * right under the prefix, none below a further '/'), sorted by name
 * (strcmp), passed to `cb` (0: go on, -1: stop, logged by cb) once the
 * whole listing was read.  Returns 0, or -1 after logging one line: for
 * a directory "cannot read ROLE \"DIR\": why", for an object store the
 * request's, naming the location (a missing bucket, refused
 * credentials). */
typedef int (*pitr_store_entry_cb)(void *ctx, const struct pitr_store_entry *e);
int pitr_store_list(struct pitr_store *st, pitr_store_entry_cb cb, void *ctx);

/* One entry: 0 with *e filled (e->name is `name`), 1 when absent, -1
 * after logging. */
int pitr_store_stat(struct pitr_store *st, const char *name, struct pitr_store_entry *e);

/*
 * Open `name` for reading: a descriptor to read() (no seeking) until end
 * of file.  Returns the descriptor, -2 when there is no such entry
 * (nothing logged), or -1 after logging.  With `reason` non-NULL an error
 * is not logged but written there, without the entry's local path (for a
 * caller whose one problem line names it): "cannot open: Permission
 * denied"; an object store's line names the object.  A missing bucket,
 * refused credentials and other failures of the request are known here,
 * not at the first read.
 */
int pitr_store_read_begin(struct pitr_store *st, const char *name, char *reason,
			  size_t reason_size);

/*
 * Close a descriptor of pitr_store_read_begin().  Returns 0 when every
 * byte of the entry was delivered, -1 after logging (or writing `reason`
 * as above) when the read failed or was cut short: end of file seen on
 * the descriptor is not proof of a whole file until this says so.
 * Closing before the end of file cuts the read short, unless `flags`
 * holds PITR_STORE_READ_EARLY: the reader stopped on purpose (it has
 * what it needs, or found the content wrong itself), and only a failure
 * of the store before that counts (it may be why the content looked
 * wrong).
 */
#define PITR_STORE_READ_EARLY 1u
int pitr_store_read_end(struct pitr_store *st, int fd, unsigned flags, char *reason,
			size_t reason_size);

/* Remove `name`: 0 (also when it was already gone), -1 after logging. */
int pitr_store_remove(struct pitr_store *st, const char *name);

#endif
