/*
 * ahead.h - look-ahead archiving inside pitr-archive (issue 12): while
 * PostgreSQL's archiver waits for one call, the segments it will ask for
 * next (those with a .ready file) are delivered by worker processes on the
 * spare cores, and each one that every destination holds is recorded in
 * the state dir; the call PostgreSQL later makes for it finds the record,
 * checks it and the destinations cheaply, and returns at once.
 *
 * The contract of a call does not move: it succeeds only when its file is
 * durable at every destination it is given now.  A look-ahead failure is
 * not reported (it is logged at -v only): the call for that segment
 * archives it as if no look-ahead had happened, and reports what fails
 * then.
 */
#ifndef PITR_CMD_ARCHIVE_AHEAD_H
#define PITR_CMD_ARCHIVE_AHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "command/archive/archive.h"
#include "dest/dest.h"

/* --look-ahead's and --jobs's defaults (see pitr-archive(1)). */
/* 32, not 8: a look-ahead's last segment leaves a core idle until the
 * next call starts another, and with fewer of those boundaries a backlog
 * drained 9% faster (bench/drain, lz4: 1.61 s against 1.76 s). */
#define PITR_ARCHIVE_LOOK_AHEAD_DEFAULT 32
#define PITR_ARCHIVE_JOBS_MAX 16

/*
 * The memory bound of a look-ahead (issue 12): the call and the workers it
 * starts hold at most this much together, unless --jobs says otherwise.
 * Each process counts PITR_ARCHIVE_MEM_FIXED (the program, its 1 MiB read
 * buffer, the libraries: 3.6 MiB resident measured for a call without
 * compression) plus a writer per distinct codec and level of its
 * destinations (pitr_codec_mem_estimate()).
 */
#define PITR_ARCHIVE_MEM_BUDGET ((size_t)128 << 20)
#define PITR_ARCHIVE_MEM_FIXED ((size_t)4 << 20)

/* ---- the record (ahead.c) ----
 *
 * "<walname>.pitr-ahead" in the state dir, written once by the worker
 * after every destination holds the segment durably:
 *   pitrkit look-ahead 1
 *   source INO SIZE MTIME_SEC MTIME_NSEC     (the segment as it was read)
 *   dest SIZE KEY                            (SIZE: the stored file's, -1
 *                                             for a remote or pipe one)
 * It is published as every state record is (complete at its name, made
 * durable), after the files it names were made durable.  Losing it would
 * only cost the later call a delivery that finds the file already there.
 */

#define PITR_AHEAD_SUFFIX ".pitr-ahead"

/* Stale records (pitr_archive_prune_ahead()): how old one must be, and
 * how many a call removes at most. */
#define PITR_AHEAD_GRACE_SEC 600
#define PITR_AHEAD_PRUNE_MAX 8

/* One destination that holds the segment. */
struct pitr_ahead_dest {
	const char *key;     /* the spec's key (borrowed) */
	int64_t size;        /* the stored file's size; -1: not a local dir */
};

/* Write the record of `wal_name` in `state_dir`: `src` is the segment's
 * fstat as it was read.  0, or -1 after logging. */
int pitr_ahead_record(const char *state_dir, const char *wal_name, const struct stat *src,
		      const struct pitr_ahead_dest *dests, size_t n);

/*
 * Take the record of `wal_name` (the segment now at `src`, lstat'ed by the
 * caller) if there is one: held[i] is set for each of the `nspecs` specs
 * the record names whose file is still there (a local dir's at the size
 * recorded), provided the record is of this very segment (inode, size,
 * modification time).  The record is removed whatever it proves.  Returns
 * the number of specs set; what did not hold is said with -v.
 */
size_t pitr_ahead_take(const char *state_dir, const char *wal_name, const struct stat *src,
		       const struct pitr_dest_spec *specs, size_t nspecs, bool *held);

/*
 * Remove records no call will ever take (prune.c): their segment has no
 * .ready file in `data_dir`'s pg_wal/archive_status any more (the
 * operator marked it done by hand, archive_command changed, the segment
 * is gone), so PostgreSQL will not ask for it again; and the record is
 * older than PITR_AHEAD_GRACE_SEC.  `current` (the call's own) is
 * skipped.  At most `max` removed; each said with -v, nothing fails the
 * run.  Returns the number removed.
 */
size_t pitr_archive_prune_ahead(const char *state_dir, const char *data_dir, const char *current,
				size_t max);

/* ---- the workers (lookahead.c) ---- */

/*
 * Start delivering up to opts->look_ahead segments that follow `wal_name`
 * in the data dir's pg_wal/archive_status (a .ready file each, no record
 * yet) to `specs`, unless another look-ahead holds the data dir's lock, on
 * workers that go on after the call (opts->ahead_mode says how); how many:
 * pitr_lookahead_workers().  What prevented it is logged at -v.
 */
void pitr_lookahead_start(const struct pitr_archive_opts *opts, const char *wal_name,
			  const struct pitr_dest_spec *specs, size_t nspecs);

/* The memory one archiving process may hold with `specs` and codec
 * writers of `threads` threads: PITR_ARCHIVE_MEM_FIXED and a writer per
 * distinct codec and level. */
size_t pitr_archive_mem_estimate(const struct pitr_dest_spec *specs, size_t nspecs, int threads);

/*
 * How many workers a look-ahead starts: `user_jobs` (--jobs) > 0 is
 * obeyed as given; 0 asks for one per CPU (`cpus`, 1 to
 * PITR_ARCHIVE_JOBS_MAX), cut so that the call and its workers, each
 * taking `per_process` bytes (0: unknown, not cut), stay within `budget`.
 * Never fewer than 0 workers, so never fewer than 1 process: the call.
 */
size_t pitr_lookahead_workers(size_t budget, size_t per_process, long cpus, int user_jobs);

/* While a look-ahead runs and `wal_name` has no record, wait (it may be
 * the segment a worker is delivering), 10 s at most.  Returns at once
 * otherwise.  Children that ended are reaped first. */
void pitr_lookahead_wait(const struct pitr_archive_opts *opts, const char *wal_name);

/* Children mode, when the process that started them stops archiving: no
 * worker takes another segment, and each one is waited for (the segment
 * it holds, 30 s at most, then killed). */
void pitr_lookahead_stop(void);

/* Children mode: who forks a worker.  `child` runs in the new process
 * (and never returns); the result is fork()'s.  The default forks in the
 * calling thread; the archive module forks in the archiver's own thread,
 * which lives as long as the archiver, because a child's
 * PR_SET_PDEATHSIG fires when the thread that forked it ends. */
typedef pid_t (*pitr_lookahead_forker_fn)(void (*child)(void *), void *arg);
void pitr_lookahead_set_forker(pitr_lookahead_forker_fn fn);

/* Archive one look-ahead segment at `wal_path` (archive.c): its log lines
 * held, its record written when every destination holds it.  0 or -1. */
int pitr_archive_ahead_one(const struct pitr_archive_opts *opts, const char *wal_path);

#endif
