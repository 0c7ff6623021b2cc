/*
 * restore_impl.h - what the files of pitr-restore share: the state of one
 * call (struct restore_run) and the entry points of its parts.
 *
 *   restore.c   the call: options, signals, the wait for a segment, and
 *               the order of removal and hand-over
 *   trigger.c   the finish trigger (-f) and SIGUSR1: when recovery ends
 *   handover.c  an archived or prefetched file made into %p: decompressed,
 *               checked, fsync'ed, renamed
 *   prefetch.c  -pf: the worker that decompresses the next segments ahead
 *   remove.c    -r: what may go, the -h hook, the passes and their pace
 *   sources.c   -s, repeatable: the archives (directories or object
 *               stores), their cluster, the lookup
 *   fetch.c     a found file's compressed bytes: the file, or a pipe a
 *               thread fills with the object's GET
 *
 * Not installed: the functions below are the library's only so that the
 * files can call each other.
 */
#ifndef PITR_CMD_RESTORE_IMPL_H
#define PITR_CMD_RESTORE_IMPL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "command/restore/restore.h"
#include "common/tmpfile.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"
#include "repo/archdir.h"
#include "s3/s3.h"

/* The size of run->buf, the decompression buffer. */
#define PITR_RESTORE_BUF_SIZE (1 << 20)

/* Set by the signal handlers (restore.c), read by the waiting loops. */
extern volatile sig_atomic_t pitr_restore_got_usr1;  /* immediate finish */
extern volatile sig_atomic_t pitr_restore_got_term;  /* give up */

enum finish_mode {
	FINISH_NONE,       /* no trigger: wait for missing segments */
	FINISH_PENDING,    /* a trigger exists but its content is not settled */
	FINISH_SMART,      /* deliver what the archive has, without delay, then end */
	FINISH_IMMEDIATE,  /* end now */
};

/* What the finish trigger looked like at the last look. */
struct trigger_watch {
	char *content;         /* malloc'd, NULL when the file was absent */
	size_t len;
	struct stat st;
	double since_ms;       /* monotonic time the content was first seen so */
	bool pending_logged;
	bool stat_error_logged;
	enum finish_mode decided;  /* sticky once decided */
};

enum cutoff_result {
	CUTOFF_OK,         /* *cutoff says what may go */
	CUTOFF_SKIP,       /* no removal this time; deliver as usual */
	CUTOFF_FAIL,       /* give up the call */
};

/* One -s: a directory, or an archive in an object store. */
struct restore_source {
	struct pitr_dest_spec spec;  /* its codec, and its location as given (messages) */
	struct pitr_s3_url url;      /* an object store's bucket and prefix; bucket NULL
				      * for a directory */
	struct pitr_s3 *s3;          /* its client, made at first use
				      * (pitr_restore_source_s3) */
	bool codec_named;            /* -s CODEC=...: its objects' extension is
				      * known (run->guess) */
	unsigned misses;             /* an object store: looks in a row that found
				      * nothing (pitr_restore_poll) */
	double next_look_ms;         /* and when it is looked at again (pitr_clock_ms) */
};

/* A WAL file found in a source, by pitr_restore_find(). */
struct restore_file {
	size_t source;               /* its index in run->sources */
	char *path;                  /* the file's path, or "s3://BUCKET/KEY" (messages) */
	char *key;                   /* the object's key; NULL for a file */
	enum pitr_codec codec;       /* the codec its name's extension names */
	struct stat st;              /* a file's; an object's size and mtime only */
	bool guessed;                /* an object's key named without a listing
				      * (run->guess): it may not be there, and
				      * st is zero */
};

/* Everything one call holds, released by pitr_restore_run_free(). */
struct restore_run {
	const struct pitr_restore_opts *opts;
	struct pitr_pidfile *pidfile;
	struct restore_source *sources;  /* -s, in the order given */
	size_t nsources;
	bool have_creds;             /* creds loaded: a source is an object store */
	struct pitr_s3_creds creds;
	bool have_sysid;             /* the cluster's, or a source's record (all
				      * that record one agree) */
	uint64_t sysid;              /* that identifier */
	const char *sysid_dir;       /* where it was read: the first source with
				      * a record, or control_path */
	char *control_path;          /* the data dir's pg_control, when the
				      * identifier is the cluster's (each
				      * segment's header is checked against it,
				      * and object stores' records are not read) */
	bool guess;                  /* pitr_restore_find() may name an object
				      * store's NAME+EXT of the source's codec
				      * without listing: the GET is the look */
	bool unpruned_logged;        /* -r: a source without a record was named */
	struct pitr_wal_name name;
	enum pitr_wal_kind kind;
	char *dest_path;             /* %p, resolved against the data dir */
	char *dest_dir;
	char *dest_base;
	int poll_ms;
	int stable_ms;
	int hang_retry_ms;
	size_t remove_at_a_time;
	struct trigger_watch trigger;
	bool handlers_set;
	struct sigaction old_usr1, old_term, old_int, old_hup, old_quit;
	bool have_fixed_cutoff;      /* -r SEGMENT */
	struct pitr_wal_name fixed_cutoff;
	char *controldata_prog;
	bool removal_done;           /* nothing more to remove in this call */
	bool pause_logged;
	double next_removal_ms;
	char **hook_argv;            /* -h split into words, one free slot for the path */
	size_t hook_argc;
	char *hook_dir;              /* temporary dir for -h copies: hook_tmp.path */
	struct pitr_tmp hook_tmp;    /* it, locked while this call lives (tmpfile.h) */
	char *prefetch_dir;          /* -pf: dest_dir/PITR_RESTORE_PREFETCH_DIR, else NULL */
	uint32_t seg_size;           /* of the segment handed over (-pf steps by it) */
	unsigned char *buf;          /* PITR_RESTORE_BUF_SIZE bytes */
};

/* --- restore.c ----------------------------------------------------------- */

/* Make `signo` end the wait as SIGTERM does, saving the old action in
 * *old.  Returns 0 or -1 (logged). */
int pitr_restore_on_term_signal(int signo, struct sigaction *old);

/* Release everything `run` holds and put the old signal actions back. */
void pitr_restore_run_free(struct restore_run *run);

/* --- trigger.c ----------------------------------------------------------- */

/* Look at SIGUSR1 and the finish trigger; logs each decision once.
 * Returns the mode; SMART and IMMEDIATE are final for the call. */
enum finish_mode pitr_restore_trigger_check(struct restore_run *run);

/* Wait up to `ms`, in poll steps, for SIGTERM/SIGINT or a decided finish
 * trigger.  Returns the finish mode seen (FINISH_NONE or PENDING when the
 * time ran out), or -1 for a termination signal. */
int pitr_restore_trigger_wait(struct restore_run *run, int ms);

/* --- handover.c ---------------------------------------------------------- */

/* Hand `src` (found in the archive) over to %p: the prefetched copy of
 * a segment when there is one, else decompressed from the archive; either
 * way checked and fsync'ed before the rename.  Sets run->seg_size for a
 * segment.  Returns 0, 1 when `src` was guessed and is not there (nothing
 * logged: a listing looks for it next), or -1 after logging (nothing is
 * left at %p either way). */
int pitr_restore_handover(struct restore_run *run, const struct restore_file *src);

/*
 * Decompress `src` (read through fetch.c) into `fd` (the file at
 * `out_path`) through run->buf.  With `check` not NULL the result must be one whole WAL
 * segment named `check`: its long page header matches the name, and its
 * length is the header's segment size; *hdr gets the header.  Never reads
 * more than the largest segment.  Returns 0 with *total set, 1 when `src`
 * was guessed and is not there (nothing logged), or -1 after logging one
 * line.
 */
int pitr_restore_handover_decompress(struct restore_run *run, const struct restore_file *src,
				     int fd, const char *out_path,
				     const struct pitr_wal_name *check, struct pitr_walhdr *hdr,
				     uint64_t *total);

/*
 * Decompress `src` into a new temporary file in `dir` named after `base`,
 * checked as the segment `check` (whole, its header, the archive's
 * cluster; *hdr gets the header) unless that is NULL, and fsync'ed.
 * Returns 0 with *tmp_out the file, still open and locked (tmpfile.h), for
 * the caller to rename and release, or discard; 1 (a guessed `src` is not
 * there) or -1 after logging, with nothing left behind.
 */
int pitr_restore_handover_to_temp(struct restore_run *run, const struct restore_file *src,
				  const char *dir, const char *base,
				  const struct pitr_wal_name *check, struct pitr_walhdr *hdr,
				  struct pitr_tmp *tmp_out);

/* --- prefetch.c ---------------------------------------------------------- */

/* Fork the worker that fills the prefetch dir with the -pf segments after
 * the one just handed over, and return at once; a failed fork is logged
 * and only costs speed. */
void pitr_restore_prefetch_start(struct restore_run *run);

/*
 * Remove from the prefetch dir what no later call will take: with
 * `keep_window`, every segment but the -pf ones after %f on its timeline,
 * and temporary files (only the lock holder calls it so, and any it finds
 * were left by a killed worker); without, every segment.  The lock file
 * and another worker's temporary files are left alone.  Failures are
 * logged and otherwise ignored.
 */
void pitr_restore_prefetch_prune(struct restore_run *run, bool keep_window);

/* --- sources.c ----------------------------------------------------------- */

/* Parse every -s into run->sources, check each is a directory or an
 * object store's bucket (loading the credentials for the first), and that
 * the ones with a system identifier record agree (run->sysid).  Returns 0,
 * or -1 after logging. */
int pitr_restore_sources_open(struct restore_run *run);

/* Release run->sources and the credentials. */
void pitr_restore_sources_free(struct restore_run *run);

/* Close the object stores' clients (connections included): before a
 * fork, so that parent and child never share a connection; the next use
 * makes a new one.  */
void pitr_restore_sources_disconnect(struct restore_run *run);

/* The client of source `i` (an object store), made at its first use.
 * NULL after logging. */
struct pitr_s3 *pitr_restore_source_s3(struct restore_run *run, size_t i);

/* The system identifier record of source `i`: 0 with *sysid set, 1 when
 * it has none, -1 after logging. */
int pitr_restore_source_sysid(struct restore_run *run, size_t i, uint64_t *sysid);

/* pitr_archdir_find() or pitr_s3arch_find() over the sources in order:
 * the file from the first that has it; with run->guess, an object store
 * reached before a source that has it is taken to hold NAME+EXT of its
 * codec (out->guessed), unlisted.  Returns 1 with *out set (free it with
 * pitr_restore_file_free()), 0 when none has it, -1 after logging. */
int pitr_restore_find(struct restore_run *run, const char *walname, struct restore_file *out);

/* The same for the wait for a segment: an object store whose last look
 * found nothing is not looked at again before its time
 * (pitr_restore_store_poll_ms), and counts as not having the file until
 * then; a directory is looked at every time. */
int pitr_restore_poll(struct restore_run *run, const char *walname, struct restore_file *out);

/* The file `entry` of source `i`, as pitr_restore_find() would describe
 * it (st left zero).  Returns 0, or -1 after logging. */
int pitr_restore_file_of_entry(struct restore_run *run, size_t i,
			       const struct pitr_archdir_entry *entry, struct restore_file *out);

/* Release what *f holds; a zeroed one is accepted. */
void pitr_restore_file_free(struct restore_file *f);

/* --- fetch.c ------------------------------------------------------------- */

/* A found file's compressed bytes, as a descriptor to read. */
struct restore_fetch {
	int fd;                      /* read this; -1: closed */
	int wfd;                     /* the pipe's write end (the thread's), or -1 */
	bool threaded;               /* a thread GETs the object into the pipe */
	pthread_t thread;
	struct pitr_s3 *s3;
	const char *key;
	int get_rc;                  /* pitr_s3_get()'s, once the thread ended */
};

/* Open `src`: the file itself, or a pipe that a thread fills with the
 * object's bytes as they arrive.  Returns 0, or -1 after logging. */
int pitr_restore_fetch_open(struct restore_run *run, const struct restore_file *src,
			    struct restore_fetch *fx);

/*
 * Stop reading and wait for the GET: 0 when every byte was passed (a file
 * always), 1 when the object was not there (nothing passed, nothing
 * logged), -1 when the GET failed (logged, unless the reader stopped
 * first: closing the pipe makes the GET fail quietly).  Accepts a closed
 * one (returns 0).
 */
int pitr_restore_fetch_close(struct restore_fetch *fx);

/* --- remove.c ------------------------------------------------------------ */

/*
 * Split the -h COMMAND into run->hook_argv at blanks, without a shell, as
 * pitr_quote_split() does, leaving one NULL slot for the file name and one
 * for the terminator.  Returns 0, or -1 after logging (a command that
 * names no program too).
 */
int pitr_restore_remove_parse_hook(struct restore_run *run, const char *cmd);

/*
 * What may be removed: -r's SEGMENT, or pg_controldata's REDO WAL file.
 * When pg_controldata fails, -ep decides: break fails the call, ignore
 * skips removal for the rest of it, hang waits (retrying now and then)
 * until it works, a finish trigger or a termination signal.
 */
enum cutoff_result pitr_restore_remove_cutoff(struct restore_run *run,
					      struct pitr_wal_name *cutoff);

/* One removal pass: at most -rt files older than `cutoff` from each
 * source, oldest first, each through the -h hook first, unless the pause
 * trigger exists.  Returns the most removed from one source (-rt: that one
 * has more to go; fewer: every source is drained to the cutoff); failures
 * are logged and postpone the rest. */
size_t pitr_restore_remove_pass(struct restore_run *run, const struct pitr_wal_name *cutoff);

/* While waiting: a removal pass when one is due.  Returns -1 when -ep
 * break (or a signal in -ep hang) says to give up the call, else 0. */
int pitr_restore_remove_while_waiting(struct restore_run *run);

#endif
