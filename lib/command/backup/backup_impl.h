/*
 * backup_impl.h - what the files of lib/command/backup share: the state of
 * one run, and the calls each file makes for the run's phases in backup.c.
 *
 *   backup.c    the run as a sequence of phases, the data tarball, the
 *               meta file, signals; the two programs' entry points
 *   template.c  file names: -f templates expanded, checked and matched,
 *               and the --digest names (backup.h)
 *   files.c     the backup's files to every destination through the
 *               fan-out (dest/fanout.h): names, digests, digest files,
 *               publication, a killed run's temporary files
 *   xlogdir.c   keeping the backup's WAL while it runs: the -x dir on a
 *               primary, the removal pause trigger on a standby
 *   segments.c  the WAL segments of the xlog tarball
 *   base.c      --incremental-from: the base backup and its chain's
 *               signatures, from a --dst-local dir or an s3://
 *               --dst-remote location
 *   sigs.c      every stored file signed (lib/delta), an incremental's
 *               changed chunks stored in place of its files, the sig file
 *   sigthread.c the pool of threads that digest, sign and delta chunks,
 *               their results taken in order
 *
 * Every call returns 0, or -1 after logging one line, unless it says
 * otherwise.
 */
#ifndef PITR_CMD_BACKUP_IMPL_H
#define PITR_CMD_BACKUP_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "command/backup/backup.h"
#include "common/progress.h"
#include "delta/delta.h"
#include "dest/dest.h"
#include "dest/fanout.h"
#include "digest/digest.h"
#include "postgres/timestamp.h"
#include "postgres/wal.h"
#include "server/pgconn.h"
#include "tar/tarwrite.h"

/* Files in publication order: data, xlog, sig, one per digest, meta. */
enum { FT_DATA, FT_XLOG, FT_SIG, FT_DIGEST0 };
#define FT_META(run) (FT_DIGEST0 + (run)->ndigests)
#define FT_COUNT(run) (FT_DIGEST0 + (run)->ndigests + 1)

/* The --digest digests of one codec group's stored bytes. */
struct bk_sums {
	struct pitr_digest *digests[PITR_BACKUP_MAX_DIGESTS];
	char hex[PITR_BACKUP_MAX_DIGESTS][PITR_DIGEST_HEX_MAX];
};

struct bk_sign;
struct pitr_delta_sigs;
struct pitr_delta_chain;
struct pitr_delta_sigwriter;

/* One output file (data, xlog, sig, a digest file or meta) to every destination. */
struct bk_file {
	struct bk_run *run;
	const char *filetype;        /* "data", "xlog", "sig", a digest name, "meta" */
	struct pitr_fanout_file *file;  /* NULL until opened (xlog: never with -sx) */
	struct bk_sums *sums;        /* data and xlog with --digest: one per group */
	size_t ngroups;
};

/* Everything one run holds, released by backup.c's run_free(). */
struct bk_run {
	const struct pitr_backup_opts *opts;
	bool slave;
	struct pitr_dest_env env;
	struct pitr_pidfile *pidfile;
	struct pitr_dest_spec *specs;
	size_t nspecs;
	const char *digests[PITR_BACKUP_MAX_DIGESTS];  /* canonical names */
	size_t ndigests;
	bool digest_added;           /* SHA-256, for an incremental (backup.c) */
	struct pitr_fanout *fanout;  /* every destination, all or nothing */
	int *dest_locks;             /* per spec: its dir's lock (catalog.h), -1 */
	struct pitr_orphan_journal **journals;  /* per spec: its journal (repo/orphan.h) */
	struct bk_file *files;       /* FT_COUNT(run) of them */
	struct pitr_pgconn *conn;
	struct pitr_tarwrite *tar;
	char hostname[256];
	char *data_dir;              /* realpath */
	const char *data_base;       /* its last component */
	char *xlog_moved;            /* -x after it was renamed away */
	bool xlog_created;
	int xlog_lock_fd;            /* flock on -x's owner file while we own it; -1 */
	struct pitr_dest_spec source; /* slave: -s, the standby's archive */
	bool trigger_owned;          /* slave: this run created -p */
	bool stop_logged;            /* the signal was reported */
	/* What the meta file says. */
	char *label;
	uint64_t sysid;
	char *start_lsn;             /* as pg_backup_start gave it */
	struct pitr_pgconn_backup_stop stop;
	uint64_t start_pos, stop_pos;  /* start_lsn and stop.lsn parsed */
	unsigned long long segsize;
	char start_file[32];
	char stop_file[PITR_WAL_NAME_MAX];
	struct pitr_wal_name sname, ename;  /* start and stop segments */
	time_t start_time, stop_time;
	char tstart[PITR_TIMESTAMP_TEXT_MAX], tstop[PITR_TIMESTAMP_TEXT_MAX];
	char codecs[128];            /* "gzip,none" */
	char pg_version[16];         /* PG_VERSION's first line: "15" */
	uint64_t data_size, xlog_size;
	struct pitr_progress *progress;  /* the data tarball's, while written */
	uint64_t not_stored;         /* file bytes an incremental did not store, for the progress */
	/* Incremental (base.c): the base's chain, full backup first (links:
	 * its sig files, while they are read and composed), and what the meta
	 * says of it; all NULL for a full backup. */
	struct pitr_delta_sigs *links;
	size_t nlinks;
	struct pitr_delta_chain *chain;
	char *base_label;
	char *chain_labels;
	/* sigs.c */
	struct pitr_delta_sigwriter *sigw;
	struct bk_sign *sign;
};

/* backup.c: true (after logging once) when SIGTERM or SIGINT asked the
 * run to stop. */
bool pitr_backup_stopped(struct bk_run *run);

/* callmaster.c */

/* True when -d/-h/-P/-U were given without -cm: not used. */
bool pitr_backup_master_unused(const struct pitr_backup_opts *opts);
/* Warn when the master is named without -cm (before the standby is
 * connected to, whose failure that may explain). */
void pitr_backup_master_warn(const struct pitr_backup_opts *opts);
/* With -cm, connect to the master and check it is the standby's primary
 * (run->sysid known) and the role may switch WAL; the session ends. */
int pitr_backup_master_connect(struct bk_run *run);
/* With -cm, after the standby's pg_backup_stop: pg_switch_wal() on the
 * master in a new session; a failure is a WARNING, the stop segment then
 * waited for as without -cm. */
void pitr_backup_master_switch(struct bk_run *run);

/* base.c */

/* Refuse --incremental-from without a destination it can be read back
 * from: a --dst-local dir or an s3:// location (before the server; after
 * pitr_backup_files_collect(), which parses run->specs). */
int pitr_backup_base_check(struct bk_run *run);
/* With --incremental-from: find the base (run->sysid known), read its
 * chain's sig files and compose them into run->chain; "latest" without a
 * base warns and leaves a full backup. */
int pitr_backup_base_load(struct bk_run *run);
/* Release the chain. */
void pitr_backup_base_free(struct bk_run *run);

/* sigs.c */

/* The key (lib/delta/delta.h) of tar member `member` of a data tarball
 * whose data dir is stored as `data_base`: "data/<rel>" for
 * "<data_base>/<rel>", a tablespace's member name as it is; NULL for
 * another name.  Malloc'd; NULL without logging for a foreign name, after
 * logging when memory runs out (*oom set). */
char *pitr_backup_sig_key(const char *data_base, const char *member, bool *oom);
/* The sig writer (run->label, run->base_label known) and the data
 * tarball's hook, which signs every file it stores and, for an
 * incremental, stores changed files' chunks. */
int pitr_backup_sigs_begin(struct bk_run *run);
/* After the data tarball: every file of the base not met is removed. */
int pitr_backup_sigs_end_data(struct bk_run *run);
/* The sig file, to every destination. */
int pitr_backup_sigs_write(struct bk_run *run);
void pitr_backup_sigs_free(struct bk_run *run);

/* sigthread.c */

/* One slot of the pool: a chunk to work on, or a mark taken in its
 * order (sigs.c says what each op means). */
struct bk_chunk {
	int op;
	unsigned char *buf;            /* PITR_DELTA_CHUNK bytes (the pool's) */
	size_t len;
	unsigned char *records;        /* PITR_DELTA_CHUNK_BLOCKS records (the pool's) */
	unsigned char digest[PITR_DELTA_DIGEST];
	char *key;                     /* freed by the pool once consumed */
	uint32_t k;
	uint64_t size, base_size;
	const unsigned char *base_rec; /* the base chunk's records, digest; NULL: none */
	const unsigned char *base_digest;
	size_t base_len;               /* the base chunk's length; 0: none */
	bool same;                     /* unchanged since the base: not stored */
	unsigned char *delta;          /* freed by the pool once consumed */
	size_t dlen;
	int rc;                        /* work's result: nonzero on failure */
	char why[512];                 /* work's failure, logged when consumed */
};

/* `work` runs on a pool thread, its result into c->rc; `consume` on the
 * caller's.  Each returns 0, or nonzero after logging one line (work's
 * line is held in c->why and logged by the caller's thread when the
 * failed slot's turn comes: the first failure in order, once). */
typedef int (*bk_pool_fn)(void *ctx, struct bk_chunk *c);

struct bk_pool;
/* A pool of `nthreads` threads (0: one a core, capped), 2 slots a thread
 * and 2 more; NULL after logging.  A thread that cannot start leaves
 * fewer (none: the work is done on the caller's, at submit). */
struct bk_pool *pitr_backup_pool_new(size_t nthreads, bk_pool_fn work, bk_pool_fn consume,
				     void *ctx);
/* The next slot to fill (len 0, rc 0), after consuming what is done and
 * waiting for a slot when all are taken; NULL when a work or a consume
 * failed (logged once).  The caller fills one slot at a time and submits
 * it before asking for the next. */
struct bk_chunk *pitr_backup_pool_slot(struct bk_pool *p);
/* Queue the slot: worked on when `work`, else only consumed in its turn. */
void pitr_backup_pool_submit(struct bk_pool *p, struct bk_chunk *c, bool work);
/* Consume what is done, in order; with `wait`, until every slot is
 * consumed.  -1 when a work or a consume failed (logged once). */
int pitr_backup_pool_drain(struct bk_pool *p, bool wait);
/* Slots not consumed yet. */
size_t pitr_backup_pool_pending(struct bk_pool *p);
/* Stop and join the threads, drop what is not consumed; accepts NULL. */
void pitr_backup_pool_free(struct bk_pool *p);

/* files.c */

/* Parse the destination options into run->specs and the fan-out. */
int pitr_backup_files_collect(struct bk_run *run);
/* Check every file name the -f template gives, for every codec, before
 * anything is started. */
int pitr_backup_files_check_names(struct bk_run *run);
/* Remove the temporary files killed runs left in the local destinations
 * (those no live run holds locked: tmpfile.h). */
int pitr_backup_files_remove_stale_temps(struct bk_run *run);
/* Take every local destination's lock (repo/catalog.h), removing first
 * the orphans of this run's names where no other run holds it. */
int pitr_backup_files_claim(struct bk_run *run);
/* Refuse, with a hint, when a final name of this run's files exists at a
 * local destination (a second backup in the template's period). */
int pitr_backup_files_check_free(struct bk_run *run);
/* Write each local destination's journal (repo/orphan.h), durably,
 * before any file can reach a final name there. */
int pitr_backup_files_journal(struct bk_run *run);
/* Remove the journals whose backup is complete (or left nothing), keep
 * the others for the next sweep; release them all. */
void pitr_backup_files_journal_end(struct bk_run *run);
/* Open file `ft` of type `filetype` on every destination; `digest`: its
 * groups' stored bytes are digested; `plain`: a digest file, written to
 * each destination with its own text. */
int pitr_backup_files_open(struct bk_run *run, size_t ft, const char *filetype, bool digest,
			   bool plain);
/* A codec sink (`ctx` a struct bk_file *) feeding the file to every
 * destination; fails once a signal asked the run to stop. */
int pitr_backup_files_sink(void *ctx, const void *buf, size_t len);
/* End file `ft`: codec streams and uploads ended, digests final. */
int pitr_backup_files_close(struct bk_run *run, size_t ft);
/* Open, write and close one digest file per --digest algorithm. */
int pitr_backup_files_write_digests(struct bk_run *run);
/* Publish every file (fanout.h's order), logging each. */
int pitr_backup_files_publish(struct bk_run *run);

/* xlogdir.c */

/* Create -x with our pid in it, taking over one a killed backup left. */
int pitr_backup_xlogdir_make(struct bk_run *run);
/* Rename -x away (pitr-archive stops copying into it); a no-op if this
 * run did not create it or moved it already. */
int pitr_backup_xlogdir_move(struct bk_run *run);
/* Move -x away if it is not, empty it and remove it; failures logged, the
 * run's result unchanged. */
void pitr_backup_xlogdir_remove(struct bk_run *run);
/* Create the removal pause trigger (-p) with our pid, unless another
 * live process holds it. */
int pitr_backup_xlogdir_claim_trigger(struct bk_run *run);
/* Remove the trigger if this run holds it; failures logged. */
void pitr_backup_xlogdir_release_trigger(struct bk_run *run);

/* segments.c */

/* The start and stop segments from the backup label and the stop LSN,
 * into run->start_file, stop_file, sname and ename, and the start and stop
 * LSNs into run->start_pos and stop_pos. */
int pitr_backup_segments_range(struct bk_run *run);
/* Wait until the stop segment is in the WAL source (-x dir or --source
 * archive), at most --wal-wait seconds. */
int pitr_backup_segments_wait(struct bk_run *run);
/* Add every segment from start to stop to run->tar, decompressed when
 * they come from the archive. */
int pitr_backup_segments_add(struct bk_run *run);
/* Whether the backup's timeline history files go into the data tarball
 * (pg_wal is a directory, as pg_basebackup places them) rather than the
 * xlog tarball (pg_wal is a link, which the data tarball stores as one). */
bool pitr_backup_segments_history_in_data(const struct bk_run *run);
/* The history files of the backup label's START TIMELINE and of its
 * ancestors, from pg_wal into run->tar under DATA/pg_wal/, so that a copy
 * made from the backup keeps its ancestry (a later promotion writes it
 * into the new timeline's file); nothing for timeline 1. */
int pitr_backup_segments_add_history(struct bk_run *run);

#endif
