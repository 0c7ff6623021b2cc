/*
 * delta.h - pitr-synch's copies through the real rsync program: every
 * output with -r (an existing, stopped data directory brought up to date by
 * sending only what differs), and rsync daemon outputs always (a daemon
 * speaks only rsync's protocol).  rsync is run with execvp and an argument
 * vector (common/spawn), over ssh for ssh outputs.
 *
 * A file is "unchanged" only when every block of it matches the source's
 * by checksum and its whole content's checksum agrees (rsync
 * --ignore-times: every file through the delta algorithm): size and
 * modification time are not enough for PostgreSQL data files (a page
 * rewritten within the timestamp's granularity, a diverged old primary's
 * file of equal size and time).  Changed files are updated in place, block
 * by block, so a local output is written only where it differs.
 */
#ifndef PITR_SYNCH_DELTA_H
#define PITR_SYNCH_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/synch/output.h"

/* How rsync is run: the same for every call of a run. */
struct synch_delta_env {
	const char *rsync_path;         /* -rp; NULL: rsync on PATH */
	const char *remote_rsync_path;  /* -rsp: rsync --rsync-path; NULL: none */
	const char *ssh_path;           /* NULL: ssh on PATH */
	const char *temp_dir;           /* -t: staging of small files; NULL: $TMPDIR or /tmp */
	bool compress;                  /* -c given: rsync -z */
	int bwlimit;                    /* KiB/s (rsync --bwlimit); 0: none */
	bool verbose;
};

/* What is at an output's data directory before a copy. */
struct synch_probe {
	bool exists;                    /* the directory exists */
	bool empty;                     /* ... and holds nothing */
	bool datadir;                   /* PG_VERSION and global/pg_control are there */
	bool in_progress;               /* SYNCH_IN_PROGRESS is there (a copy interrupted) */
	bool pid_file;                  /* postmaster.pid is there */
	long pid;                       /* its first line, the postmaster's pid
					 * (on the output's host); 0: none */
	uint64_t sysid;                 /* from pg_control, else from SYNCH_IN_PROGRESS; 0: none */
	char pg_version[16];            /* PG_VERSION's text; "" when absent */
};

/* Look at `dir` of `out` (the data directory, or a tablespace's): fetches
 * PG_VERSION, global/pg_control, postmaster.pid and SYNCH_IN_PROGRESS when
 * they exist (rsync for remote outputs).  Returns 0, or -1 after logging. */
int pitr_synch_delta_probe(const struct synch_delta_env *env, const struct synch_output *out,
		      const char *dir, struct synch_probe *probe);

/* The names in `dir` of `out` ("." and ".." aside; rsync --list-only for
 * a remote output): *exists false and none for a missing directory.
 * Returns 0 with *names (NULL-terminated, for
 * pitr_synch_delta_list_free()) and *n, or -1 after logging. */
int pitr_synch_delta_list(const struct synch_delta_env *env, const struct synch_output *out,
			  const char *dir, bool *exists, char ***names, size_t *n);
void pitr_synch_delta_list_free(char **names, size_t n);

/* Start a copy at `out`'s data directory (created when missing): write
 * SYNCH_IN_PROGRESS with `sysid`, then remove global/pg_control, so that
 * from here until pitr_synch_delta_finish() the directory cannot be started.
 * Returns 0, or -1 after logging. */
int pitr_synch_delta_begin(const struct synch_delta_env *env, const struct synch_output *out,
		      uint64_t sysid);

/*
 * Bring `dst_dir` at `out` (the data directory or a tablespace's mapped
 * place) to the content of the local directory `src_dir`.  The base backup
 * exclusions by name apply (postgres/pgdata.h: the contents of
 * pg_replslot, pg_stat_tmp, ..., postmaster.pid, backup_label,
 * pgsql_tmp*, ...), and the excluded files are removed at the output too.
 * With `pgdata`, also: pg_wal emptied but for an empty archive_status
 * (kept as the directory or the link it is at the output),
 * global/pg_control and pg_tblspc's links left to the caller.  The names
 * in `keep` (output-relative: "postgresql.conf") and SYNCH_IN_PROGRESS
 * are neither sent nor removed.  Files only at the output are removed.  A
 * source file that vanishes meanwhile is not an error (rsync's exit 24).
 * *sent (may be NULL) gets the bytes rsync reports sent.  Returns 0, or -1
 * after logging.
 */
int pitr_synch_delta_tree(const struct synch_delta_env *env, const struct synch_output *out,
		     const char *src_dir, const char *dst_dir, bool pgdata,
		     const char *const *keep, size_t nkeep, uint64_t *sent);

/* A tablespace: pitr_synch_delta_tree() of the version directory `vdir`
 * ("PG_15_202209061") of `src_dir` only, to the same name in `dst_dir`;
 * nothing else at the top of `dst_dir` is sent, changed or removed. */
int pitr_synch_delta_tablespace(const struct synch_delta_env *env, const struct synch_output *out,
				const char *src_dir, const char *dst_dir, const char *vdir,
				uint64_t *sent);

/* Send the files `names` (relative, may hold a directory part:
 * "pg_wal/000000010000000000000003") from the local directory `src_dir` to
 * `out`'s data directory, each complete and synced under its name.
 * Returns 0, or -1 after logging. */
int pitr_synch_delta_files(const struct synch_delta_env *env, const struct synch_output *out,
		      const char *src_dir, const char *const *names, size_t nnames);

/* Remove `rel` (relative to `out`'s data directory: "recovery.signal")
 * there, durably for a local output; a missing name is no error.  Returns
 * 0, or -1 after logging. */
int pitr_synch_delta_remove(const struct synch_delta_env *env, const struct synch_output *out,
			    const char *rel);

/* End the copy: send `pg_control` (the local path of a file named
 * pg_control: the source's global/pg_control, or a copy of it staged in a
 * flat directory) as global/pg_control, then remove SYNCH_IN_PROGRESS.
 * Returns 0, or -1 after logging. */
int pitr_synch_delta_finish(const struct synch_delta_env *env, const struct synch_output *out,
			    const char *pg_control);

#endif
