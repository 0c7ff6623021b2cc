/*
 * restore.h - pitr-restore: hand PostgreSQL the WAL file it asks for
 * (restore_command), keep a warm standby waiting, finish recovery on a
 * trigger, and prune the archive behind the standby.
 */
#ifndef PITR_CMD_RESTORE_H
#define PITR_CMD_RESTORE_H

#include <stdbool.h>

/* -ep: what to do when pg_controldata fails while -r needs it. */
struct pitr_s3_config;

enum pitr_restore_ep {
	PITR_RESTORE_EP_BREAK = 0,  /* fail the call (exit 1): OmniPITR's default */
	PITR_RESTORE_EP_HANG,       /* wait until it works, a finish trigger or a signal */
	PITR_RESTORE_EP_IGNORE,     /* log it, skip removal, deliver as usual */
};

struct pitr_restore_opts {
	const char *data_dir;               /* -D, default "."; %p is relative to it */
	const char **sources;               /* -s [CODEC=]DIR or [CODEC=]s3://BUCKET/PREFIX/,
					     * repeatable (at least one): a file is taken
					     * from the first that has it; -r prunes each */
	size_t nsources;
	const struct pitr_s3_config *s3;    /* how s3:// sources are reached; NULL: the
					     * defaults (s3/s3.h) */
	int recovery_delay;                 /* -w seconds; 0: none */
	const char *finish_trigger;         /* -f FILE */
	bool remove_unneeded;               /* -r */
	const char *remove_cutoff;          /* -r's SEGMENT (%r); NULL: pg_controldata's REDO file */
	bool remove_before;                 /* -rb: prune before handing the file over */
	int remove_at_a_time;               /* -rt, files per pass; 0: the default below */
	const char *removal_pause_trigger;  /* -p FILE: no removal while it exists */
	const char *pre_removal_processing; /* -h COMMAND, run with each file before removal */
	const char *temp_dir;               /* -t, for -h copies; default $TMPDIR or /tmp */
	bool streaming_replication;         /* -sr: a missing segment fails at once */
	const char *pid_file;               /* --pid-file */
	const char *pgcontroldata_path;     /* -pp; NULL: found (see controldata.h) */
	enum pitr_restore_ep error_pgcontroldata; /* -ep */
	int prefetch;                       /* -pf N: segments decompressed ahead; 0: none */
	const char *wal_name;               /* %f: the file PostgreSQL wants */
	const char *wal_path;               /* %p: where it goes, relative to data_dir */
	/* Timing, for tests; 0 means the default. */
	int poll_ms;                        /* archive and trigger polling: 200 */
	int trigger_stable_ms;              /* trigger content stable this long: 1000 */
	int hang_retry_ms;                  /* -ep hang retries pg_controldata: 30000 */
};

/* -rt's default: files removed per pass. */
#define PITR_RESTORE_REMOVE_AT_A_TIME_DEFAULT 3

/* The most segments -pf may decompress ahead (each takes a segment's
 * room in pg_wal). */
#define PITR_RESTORE_PREFETCH_MAX 16

/* Where -pf keeps segments decompressed ahead: a directory beside %p (in
 * pg_wal, so that handing one over is a rename), which PostgreSQL ignores. */
#define PITR_RESTORE_PREFETCH_DIR ".pitr-prefetch"

/*
 * Remove `wal_dir`/PITR_RESTORE_PREFETCH_DIR when recovery no longer needs
 * it (it ended, or stopped at its target): a worker still filling it is
 * sent SIGTERM and waited for through its lock, so that nothing it was
 * writing is left.  *removed (may be NULL): whether there was one.
 * Returns 0 (also when there is none), or -1 after logging.
 */
int pitr_restore_prefetch_remove(const char *wal_dir, bool *removed);

/*
 * A warm standby waiting for a segment looks at a directory every poll
 * interval (200 ms), but at an object store less and less often: each
 * look is a billed LIST request, five a second for as long as it waits.
 * After `misses` looks in a row found nothing (1 or more), the next is
 * this many ms later: `poll_ms` doubled per further miss, at most
 * PITR_RESTORE_STORE_POLL_MAX_MS (200, 400, 800, 1600, 3200, 5000...).
 * A segment archived soon after the standby asks for it is still seen
 * soon; one that takes long is seen at most 5 s late.
 */
#define PITR_RESTORE_STORE_POLL_MAX_MS 5000
int pitr_restore_store_poll_ms(int poll_ms, unsigned misses);

/* Parse an -ep value ("break", "hang", "ignore").  Returns 0, or -1
 * without logging (the caller names the option). */
int pitr_restore_ep_from_name(const char *name, enum pitr_restore_ep *out);

/*
 * Restore opts->wal_name to opts->wal_path, waiting for it as a warm
 * standby does unless it is not a segment, -sr is set or a finish trigger
 * says otherwise.  Installs handlers for SIGUSR1 (immediate finish),
 * SIGTERM and SIGINT (give up) and SIGHUP (ignored: PostgreSQL's reload
 * must not kill the restore command) for its duration, and puts the old
 * ones back.  Returns 0 when the file is at wal_path, complete and
 * checked; -1 otherwise, including the expected "not there" answers
 * (logged as LOG lines) and failures (logged as errors).
 *
 * With opts->prefetch, a segment found in PITR_RESTORE_PREFETCH_DIR (whole
 * and checked) is handed over by a rename, and after handing a segment
 * over a forked worker decompresses the next ones the archive holds into
 * that directory and exits; the caller returns at once.  The worker stays
 * in the caller's process group, so the server's shutdown signals reach
 * it as they reach the restore command.
 */
int pitr_cmd_restore(const struct pitr_restore_opts *opts);

#endif
