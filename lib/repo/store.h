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
 * object, a pipe that a thread fills from one streamed GET.  Whether the
 * bytes were all there is known only at pitr_store_read_end(), which a
 * reader must call (and check) instead of close().
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
	time_t mtime;
	bool regular;       /* a regular file (always, for an object) */
};

/*
 * A store for `location`: a directory, or s3://BUCKET/PREFIX/ reached
 * with `s3` (NULL: the defaults, credentials as s3.h loads them).  An
 * object store is not contacted until the first call.  `role` ("backup
 * dir", "archive") names it in errors.  Returns NULL after logging.
 */
struct pitr_store *pitr_store_new(const char *location, const struct pitr_s3_config *s3,
				  const char *role);
void pitr_store_free(struct pitr_store *st);

/* The location as given, for messages. */
const char *pitr_store_location(const struct pitr_store *st);

/* The directory of a local store, NULL for an object store: for the
 * callers that must act on local files (locks, journals, fsync). */
const char *pitr_store_dir(const struct pitr_store *st);

/* Every entry except "." and "..", sorted by name, passed to `cb`
 * (0: go on, -1: stop, logged by cb).  Returns 0, or -1 after logging. */
typedef int (*pitr_store_entry_cb)(void *ctx, const struct pitr_store_entry *e);
int pitr_store_list(struct pitr_store *st, pitr_store_entry_cb cb, void *ctx);

/* One entry: 0 with *e filled (e->name is `name`), 1 when absent, -1
 * after logging. */
int pitr_store_stat(struct pitr_store *st, const char *name, struct pitr_store_entry *e);

/*
 * Open `name` for reading: a descriptor to read() (no seeking) until end
 * of file.  Returns the descriptor, -2 when there is no such entry
 * (nothing logged), or -1 after logging.  With `reason` non-NULL an error
 * is not logged but written there (for a caller whose one problem line
 * says it).
 */
int pitr_store_read_begin(struct pitr_store *st, const char *name, char *reason,
			  size_t reason_size);

/* Close a descriptor of pitr_store_read_begin().  Returns 0 when every
 * byte of the entry was delivered, -1 after logging (or writing `reason`
 * as above) when the read failed or was cut short: end of file seen on
 * the descriptor is not proof of a whole file until this says so. */
int pitr_store_read_end(struct pitr_store *st, int fd, char *reason, size_t reason_size);

/* Remove `name`: 0 (also when it was already gone), -1 after logging. */
int pitr_store_remove(struct pitr_store *st, const char *name);

#endif
