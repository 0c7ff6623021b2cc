/*
 * fanout.h - one delivery pipeline: files compressed once per codec and
 * fed to every destination, then published, local destinations first.
 *
 * A fan-out holds a list of destinations (specs) and the files delivered
 * to all of them, opened one after the other.  Within a file, the
 * destinations that share a codec and level form a group with one codec
 * writer, whose output each of them is fed once; every destination gets
 * the file under its own name (the caller's name function, given its
 * codec's extension).  Nothing reaches a final name before
 * pitr_fanout_publish(): the local destinations are published first, one
 * at a time, then the staged ones (remote, pipe, direct, s3: pitr_dest_staged())
 * --parallel-jobs at a time; each file, in the order the files were opened,
 * goes to every destination of the phase before the next file does.  A
 * destination that failed a file gets none of the later ones, so the last
 * file of a set (a backup's meta file) never reaches a destination that
 * lacks the others.
 *
 * What a failed destination does to the others is the fan-out's policy:
 *   PITR_FANOUT_ISOLATE  it is dropped and recorded (pitr_fanout_failed());
 *                        the others go on.  pitr-archive, which keeps the
 *                        outcome of each in its state dir, so that a retry
 *                        delivers only to the rest.
 *   PITR_FANOUT_ALL      the first failure fails the file being written:
 *                        the call returns -1 and the caller gives up (a
 *                        backup is only worth having complete everywhere).
 *                        Publishing still goes on for the other
 *                        destinations, and fails at the end.
 *
 * Every failure is logged once, by the destination or the codec; the
 * fan-out itself logs only a failed allocation.  pitr_fanout_free()
 * aborts whatever was not published, so an abandoned run leaves nothing at
 * a final name.
 */
#ifndef PITR_FANOUT_H
#define PITR_FANOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "dest/dest.h"

enum pitr_fanout_policy {
	PITR_FANOUT_ISOLATE,
	PITR_FANOUT_ALL,
};

struct pitr_fanout;
struct pitr_fanout_file;

/* A file's name at a destination, given the extension of the codec it is
 * stored with ("" when uncompressed).  Returns a malloc'd name, or NULL
 * after logging. */
typedef char *(*pitr_fanout_name_fn)(void *arg, const char *ext);

/* Sees the bytes group `group` stores (compressed) before its destinations
 * get them, to digest them once per codec.  Called from pitr_fanout_write()
 * and pitr_fanout_close() only (the codec writers hand out bytes there), so
 * what it needs may be set up after pitr_fanout_open() returned.  0, or -1
 * after logging, which fails the group as a destination's failure would. */
typedef int (*pitr_fanout_tap_fn)(void *arg, size_t group, const void *buf, size_t len);

/* Told of each file published, to log it and record it.  0, or -1 after
 * logging, which counts the destination as failed. */
typedef int (*pitr_fanout_published_fn)(void *arg, const struct pitr_dest *d,
					enum pitr_dest_result result);

struct pitr_fanout_file_opts {
	pitr_fanout_name_fn name;      /* required */
	/* Stored as written, whatever the destinations' codecs (each still
	 * named with its codec's extension, as OmniPITR named its digest
	 * files), and written to one destination at a time with
	 * pitr_fanout_write_one(): a text that differs between
	 * destinations. */
	bool plain;
	pitr_fanout_tap_fn tap;        /* NULL: none */
	void *arg;                     /* for name and tap */
};

/* The threads each codec writer of a fan-out is given: one per CPU, at
 * most 4 (what a memory estimate must count). */
int pitr_fanout_thread_count(void);

/*
 * An empty fan-out.  `env` is borrowed and must outlive it; `parallel_jobs`
 * (< 1 counts as 1) staged destinations are published at once.  Returns
 * NULL after logging.  Free with pitr_fanout_free().
 */
struct pitr_fanout *pitr_fanout_new(const struct pitr_dest_env *env,
				    enum pitr_fanout_policy policy, int parallel_jobs);

/* Add a destination (`spec` copied), before any file is opened; its index
 * is the count before the call.  Returns 0, or -1 after logging. */
int pitr_fanout_add(struct pitr_fanout *f, const struct pitr_dest_spec *spec);

/* How many destinations were added, and the spec of one of them. */
size_t pitr_fanout_count(const struct pitr_fanout *f);
const struct pitr_dest_spec *pitr_fanout_spec(const struct pitr_fanout *f, size_t dest_idx);

/*
 * Open a new file on every destination that has not failed, and one codec
 * writer per group.  ISOLATE: a destination that cannot open is dropped,
 * and NULL is returned only when memory runs out.  ALL: the first failure
 * returns NULL, later destinations not opened.  The file belongs to `f`
 * (freed with it), NULL returned or not.
 */
struct pitr_fanout_file *pitr_fanout_open(struct pitr_fanout *f,
					  const struct pitr_fanout_file_opts *opts);

/*
 * Feed `len` bytes to every group of `file` (written as they are to each
 * destination of a plain file).  Returns 0, or -1: ALL, after the first
 * failure; ISOLATE, when no destination is left to feed (each dropped one
 * logged its reason; nothing more is logged).
 */
int pitr_fanout_write(struct pitr_fanout_file *file, const void *buf, size_t len);

/* Write `len` bytes to destination `dest_idx` of a plain file only, if it
 * has not failed.  Returns 0, or -1 as pitr_fanout_write(). */
int pitr_fanout_write_one(struct pitr_fanout_file *file, size_t dest_idx, const void *buf,
			  size_t len);

/*
 * End the file: every codec stream finished (the tap has seen all its
 * bytes), every upload ended (pitr_dest_end_upload()), nothing published.
 * Returns 0, or -1 as pitr_fanout_write().
 */
int pitr_fanout_close(struct pitr_fanout_file *file);

/* True if a live group compresses: whether the file costs CPU. */
bool pitr_fanout_compresses(const struct pitr_fanout_file *file);

/* The number of groups of `file`, the group destination `dest_idx` is in,
 * and the name it got (NULL if it was not opened). */
size_t pitr_fanout_groups(const struct pitr_fanout_file *file);
size_t pitr_fanout_group_of(const struct pitr_fanout_file *file, size_t dest_idx);
const char *pitr_fanout_name(const struct pitr_fanout_file *file, size_t dest_idx);

/* pitr_dest_local_file_id() of destination `dest_idx`'s copy of `file`:
 * 1 when it is not a local one or has no copy (failed, not opened). */
int pitr_fanout_local_file_id(const struct pitr_fanout_file *file, size_t dest_idx, dev_t *dev,
			      ino_t *ino);

/*
 * Publish every closed file of every destination that has not failed, in
 * the order described above, telling `published` (may be NULL) of each.
 * Returns 0 when every destination holds all its files, -1 when one (or
 * more) failed, now or before: each failure logged, nothing else.
 */
int pitr_fanout_publish(struct pitr_fanout *f, pitr_fanout_published_fn published, void *arg);

/* Whether destination `dest_idx` failed, and how many did. */
bool pitr_fanout_failed(const struct pitr_fanout *f, size_t dest_idx);
size_t pitr_fanout_nfailed(const struct pitr_fanout *f);

/* Abort what was not published, release everything; accepts NULL. */
void pitr_fanout_free(struct pitr_fanout *f);

#endif
