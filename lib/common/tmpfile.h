/*
 * tmpfile.h - temporary files that tell a live writer from a dead one.
 *
 * Every temporary file pitrkit writes is DIR/.pitr-tmp.BASE.000000, or
 * DIR/.pitr-tmp.BASE.XXXXXX while a live writer holds that one (the
 * prefix of fsutil.h, which every reader ignores), and its writer holds
 * an advisory lock (flock LOCK_EX) on it for as long as the file is
 * written: the kernel drops the lock when the writer dies, however it
 * dies.  So a temporary file nobody holds locked was left by a dead run,
 * and pitr_tmp_sweep() removes it; one that is locked belongs to a run
 * still going and is left alone.  Staging directories are the same, with
 * the lock on the directory.
 *
 * Created files and directories are also registered with sigclean.h, so
 * a fatal signal removes them at once.  On a filesystem without locks the
 * files are written all the same, and no sweep ever removes one there
 * (it cannot tell a dead writer's).
 */
#ifndef PITR_TMPFILE_H
#define PITR_TMPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct pitr_tmp {
	char *path;
	int fd;         /* locked; the file open O_RDWR, or the directory; -1 when released */
	int slot;       /* sigclean slot, or -1 */
	bool is_dir;
};

/* Create DIR/.pitr-tmp.BASE.000000 (taking over a dead run's file of
 * that name, truncated) or, when a live writer has it,
 * DIR/.pitr-tmp.BASE.XXXXXX; mode 0600, open read-write and close-on-exec
 * in t->fd, locked and registered.  Returns 0, or -1 after logging. */
int pitr_tmp_create(struct pitr_tmp *t, const char *dir, const char *base);

/* The same for a directory, mode 0700 (t->fd is the directory's). */
int pitr_tmp_mkdir(struct pitr_tmp *t, const char *dir, const char *base);

/*
 * A record: DIR/PREFIXXXXXXX (mkostemp), mode 0600, open read-write and
 * locked in t->fd as a temporary file is, but neither registered with
 * sigclean nor ever removed by pitr_tmp_sweep() (its name is not a
 * temporary file's): what a run keeps for the next one to act on when it
 * dies, however it dies (dest.h's upload journals).  pitr_tmp_discard()
 * removes it; pitr_tmp_release() leaves it, unlocked, to the next run's
 * pitr_tmp_each_dead().  Returns 0, or -1 after logging.
 */
int pitr_tmp_create_record(struct pitr_tmp *t, const char *dir, const char *prefix);

/* This machine's name, for a record to say whose lock it holds: a lock
 * (flock) is seen only by processes of the host that took it, even on a
 * shared filesystem.  "?" when the host has none fit for a line. */
void pitr_tmp_lock_host(char *buf, size_t size);

/* The file was renamed to its final name (or is someone else's now):
 * forget it, close (dropping the lock) and free.  Accepts a zeroed or
 * released handle. */
void pitr_tmp_release(struct pitr_tmp *t);

/* Remove the file (or the empty directory) if still there, then
 * release.  Accepts a zeroed or released handle. */
void pitr_tmp_discard(struct pitr_tmp *t);

/* A dead run's temporary file found by pitr_tmp_scan(). */
struct pitr_tmp_found {
	char *name;     /* the entry's name in the directory */
	off_t size;     /* bytes; for a directory, of the files in it */
	bool is_dir;
};

/* Find the dead temporary files and directories in `dir` without
 * removing anything.  Returns 0 with *found (malloc'd, *n entries, sorted
 * by name), or -1 after logging; a missing directory has none. */
int pitr_tmp_scan(const char *dir, struct pitr_tmp_found **found, size_t *n);

/* The same for the temporary files and directories a live writer holds
 * (a run still writing them: pitr-info's backups in progress); a
 * directory's size is 0.  Nothing is removed or kept locked. */
int pitr_tmp_scan_live(const char *dir, struct pitr_tmp_found **found, size_t *n);

void pitr_tmp_found_free(struct pitr_tmp_found *found, size_t n);

/* A size for a report line: "512 bytes", "16.0 MiB". */
void pitr_tmp_size_text(off_t size, char *buf, size_t len);

/*
 * Remove the dead temporary files and directories in `dir` (a staging
 * directory with the files in it); with `dry_run`, only say which.  One
 * info line for the directory when any is found, one per file in
 * verbose mode.  A file that vanished meanwhile is not an error.
 * Returns the number removed (or, dry, found), or -1 after logging when
 * the directory cannot be read; a missing directory has none.
 */
int pitr_tmp_sweep(const char *dir, bool dry_run);

/*
 * Each regular file in `dir` whose name starts with `prefix` and that no
 * live process holds locked (a dead run's record) is passed to `fn` with
 * `fd`, open read-only and locked by this call until `fn` returns, so no
 * writer takes it meanwhile; `fn` may remove it, and returns 0 to go on
 * or -1 to stop (logged).  Returns 0, or -1 (fn's, or after logging when
 * the directory cannot be read); a missing directory has none.
 */
typedef int (*pitr_tmp_dead_fn)(void *ctx, const char *dir, const char *name, int fd);
int pitr_tmp_each_dead(const char *dir, const char *prefix, pitr_tmp_dead_fn fn, void *ctx);

#endif
