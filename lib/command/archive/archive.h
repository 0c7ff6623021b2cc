/*
 * archive.h - pitr-archive: deliver one finished WAL file to every
 * destination, durably (archive_command).
 */
#ifndef PITR_CMD_ARCHIVE_H
#define PITR_CMD_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/opts.h"
#include "dest/dest.h"
#include "s3/s3.h"

/* How look-ahead workers (ahead.h) relate to the call that starts them. */
enum pitr_ahead_mode {
	PITR_AHEAD_CHILDREN,           /* the caller's children, dying with its
					* thread, reaped later (the archive module) */
	PITR_AHEAD_DETACHED,           /* nobody's children (pitr-archive: the
					* call is a process that ends) */
};

struct pitr_archive_opts {
	const char *data_dir;          /* -D, default "." */
	bool force_data_dir;           /* -f: do not check that data_dir is a cluster */
	const char **dst_local;        /* -dl, [CODEC=]DIR */
	size_t ndst_local;
	const char **dst_remote;       /* -dr, [CODEC=]rsync or s3 location */
	size_t ndst_remote;
	const char **dst_pipe;         /* -dp, [CODEC=]PROGRAM */
	size_t ndst_pipe;
	const char *dst_backup;        /* -db, absolute, only while it exists */
	const char *temp_dir;          /* -t */
	const char *state_dir;         /* -s */
	const char *pid_file;          /* --pid-file */
	int parallel_jobs;             /* -PJ, >= 1 */
	int look_ahead;                /* --look-ahead: segments delivered ahead; 0: none */
	int jobs;                      /* --jobs: processes delivering at once; 0: one a CPU */
	enum pitr_ahead_mode ahead_mode; /* how look-ahead workers relate to the call */
	bool not_nice;                 /* -nn */
	const char *rsync_path;        /* -rp */
	int rsync_timeout;             /* seconds; 0: the default */
	int pipe_timeout;              /* --pipe-timeout seconds; 0: the default */
	struct pitr_s3_config s3;      /* --s3-*; zeroed: s3.h's defaults */
	const char *wal_path;          /* the %p operand */
};

/* pitr-archive's option table, for pitr-archive and for pitr-check, which
 * reads an archive_command's pitr-archive call with it. */
extern const struct pitr_opt_def pitr_archive_option_defs[];
extern const size_t pitr_archive_noption_defs;

/* Fill *a from parsed options (every field but wal_path, the operand). */
void pitr_archive_opts_read(const struct pitr_opts *o, struct pitr_archive_opts *a);

/* Archive opts->wal_path.  Logs what it did and every failure.  Returns 0
 * only when every destination holds the file, durably; -1 otherwise (with
 * the state dir recording the destinations that succeeded). */
int pitr_cmd_archive(const struct pitr_archive_opts *opts);

/*
 * Look at up to `max` state records in `state_dir` other than `current`'s
 * (picked at random among all of them, pitr_state_list(), so repeated
 * calls reach every one) and remove each one
 * whose file every destination of `specs` holds: the record names the
 * destination, or it is a local directory with a complete copy (read
 * whole, header checked).  A record with a remote or pipe destination it
 * does not name is kept.  What it removes and why it keeps a record are
 * logged with -v, and so is any failure: none fails the run.  Returns the
 * number removed, or -1 when the state dir cannot be read.
 */
int pitr_archive_prune_state(const char *state_dir, const char *current,
			     const struct pitr_dest_spec *specs, size_t nspecs, size_t max);

#endif
