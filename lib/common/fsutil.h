/*
 * fsutil.h - durable file publication and small filesystem helpers.
 *
 * pitr_fsutil_publish_*() is the one way pitrkit puts a file at its final
 * name: write it under a temporary name in the same directory, fsync it,
 * rename it into place without ever replacing an existing file, and fsync
 * the directory.  Until commit returns, nothing is at the final name; after
 * it returns 0 the file survives a crash.
 */
#ifndef PITR_FSUTIL_H
#define PITR_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Temporary files start with this, so no WAL name parser ever takes one
 * for a WAL file, and a crash's leftovers are recognisable. */
#define PITR_FSUTIL_TMP_PREFIX ".pitr-tmp."

/* Where temporary files go when neither a --temp-dir nor $TMPDIR says;
 * every --temp-dir's help shows it. */
#define PITR_FSUTIL_TMPDIR_DEFAULT "/tmp"

enum pitr_publish_outcome {
	PITR_PUBLISH_NEW,        /* the file is now at its final name */
	PITR_PUBLISH_IDENTICAL,  /* a file with the same content was there already */
	PITR_PUBLISH_CONFLICT,   /* a different file is there; nothing replaced */
};

struct pitr_publish;

/* Start writing `dir`/`name` under a temporary name in `dir`, mode 0600.
 * Returns NULL after logging on failure. */
struct pitr_publish *pitr_fsutil_publish_open(const char *dir, const char *name);

/* Append bytes.  Returns 0 or -1 (logged). */
int pitr_fsutil_publish_write(struct pitr_publish *p, const void *buf, size_t len);

/* The temporary file's path, for a caller that wants to read it back. */
const char *pitr_fsutil_publish_temp_path(const struct pitr_publish *p);

/* The final path (dir/name). */
const char *pitr_fsutil_publish_final_path(const struct pitr_publish *p);

/*
 * fsync the temporary file and move it to its final name unless a file is
 * already there (renameat2 RENAME_NOREPLACE, with link+unlink as fallback),
 * then fsync the directory.  On PITR_PUBLISH_IDENTICAL the temporary file
 * is removed; on PITR_PUBLISH_CONFLICT it is kept (so the caller may
 * compare contents another way) until pitr_fsutil_publish_abort() or
 * _free().  Returns 0 with *outcome set, or -1 after logging.
 */
int pitr_fsutil_publish_commit(struct pitr_publish *p, enum pitr_publish_outcome *outcome);

/* Give up on the file: close and remove the temporary file if it still
 * exists (after a CONFLICT, say).  The paths stay readable; the handle must
 * still be freed.  Accepts NULL. */
void pitr_fsutil_publish_abort(struct pitr_publish *p);

/* Remove the temporary file if it still exists and free; accepts NULL.
 * Call after commit too: it then only frees. */
void pitr_fsutil_publish_free(struct pitr_publish *p);

/* Publish a small buffer in one call (state and meta files).  When
 * `replace` is true an existing file is replaced atomically (plain rename)
 * instead of being compared.  Returns 0 with *outcome set (may be NULL),
 * or -1 after logging. */
int pitr_fsutil_publish_buffer(const char *dir, const char *name, const void *buf, size_t len,
			       bool replace, enum pitr_publish_outcome *outcome);

/*
 * Start writeback of what was written to `fd` since *flushed once a full
 * MiB is pending (sync_file_range WRITE; nothing where it is missing), and
 * advance *flushed.  Called as a file is written, it lets the disk work
 * while the next part is produced, so the fsync that must follow has
 * little left to wait for.  Never an error: only the fsync counts.
 */
void pitr_fsutil_writeback(int fd, off_t *flushed, off_t written);

/* mkdir -p with `mode` for the directories it creates.  Returns 0 or -1
 * (logged). */
int pitr_fsutil_mkdir_p(const char *path, mode_t mode);

/* rm -rf `path` without following symbolic links, at any depth (by
 * descriptors, so paths beyond PATH_MAX are no obstacle).  A missing path
 * is no error.  Returns 0 or -1 (logged once, at the first failure). */
int pitr_fsutil_remove_tree(const char *path);

/* fsync a directory.  Returns 0 or -1 (logged). */
int pitr_fsutil_fsync_dir(const char *dir);

/* Compare two files' contents: 1 equal, 0 different, -1 error (logged). */
int pitr_fsutil_files_equal(const char *a, const char *b);

/* Where temporary files go: `dir` when it is given (not NULL nor empty:
 * a --temp-dir), else $TMPDIR when it is set and not empty, else
 * PITR_FSUTIL_TMPDIR_DEFAULT.  Returns `dir`, the environment's string or
 * a constant: the caller does not free it. */
const char *pitr_fsutil_tmpdir(const char *dir);

/* Join dir and name with one '/' into a malloc'd string; NULL after
 * logging a failed allocation (see xalloc.h). */
char *pitr_fsutil_join(const char *dir, const char *name);

/* Read a whole small file (at most `max` bytes) into a malloc'd,
 * NUL-terminated buffer.  Returns it with *len set, or NULL: errno ENOENT
 * for a missing file (not logged: callers decide), anything else logged. */
char *pitr_fsutil_read_small(const char *path, size_t max, size_t *len);

#endif
