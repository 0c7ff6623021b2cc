/*
 * archive.c - pitr-archive: deliver one finished WAL file to every
 * destination, durably (archive_command).
 *
 * The file is read once into the fan-out (dest/fanout.h): each distinct
 * codec among the destinations that still need the file compresses it
 * once, and its output goes to all of them.  Local destinations are
 * published first; remote and pipe destinations, which were fed staged
 * copies, are then delivered by child processes, --parallel-jobs at a
 * time, and s3 ones, gathered in memory, by a request each.  A destination that fails is isolated; every success is recorded
 * in the state dir at once, so a retry after a partial failure (PostgreSQL
 * calls archive_command again for the same file) only delivers to the
 * rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/archive/ahead.h"
#include "command/archive/archive.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "dest/fanout.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "repo/state.h"
#include "s3/s3.h"
#include "postgres/sysid.h"
#include "repo/sysidmemo.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

#define ARCHIVE_READ_SIZE (1 << 20)
#define ARCHIVE_NICENESS 10
/* State records of other files looked at per successful run. */
#define ARCHIVE_PRUNE_MAX 2

/* Everything one run holds, released by run_free(). */
struct archive_run {
	const struct pitr_archive_opts *opts;
	struct pitr_dest_env env;
	struct pitr_state *state;
	struct pitr_dest_spec *specs;   /* every destination given */
	size_t nspecs;
	struct pitr_fanout *fanout;     /* those that still need the file */
	char *wal_path;
	const char *wal_name;
	struct pitr_wal_name name;
	struct pitr_walhdr hdr;
	bool has_hdr;
	int fd;
	unsigned char *buf;
	char state_error[1024];         /* why the state dir took no record ("" if it did) */
	size_t nunrecorded;             /* deliveries the state dir does not know of */
	bool ahead;                     /* a look-ahead worker's segment (ahead.h) */
	struct stat src;                /* the file as opened */
	struct pitr_ahead_dest *held;   /* ahead: the destinations holding it */
	size_t nheld;
};

static void
run_free(struct archive_run *run)
{
	pitr_fanout_free(run->fanout);
	pitr_dest_s3_session_free(run->env.s3_session);
	pitr_dest_specs_free(run->specs, run->nspecs);
	pitr_state_free(run->state);
	if (run->fd >= 0)
		close(run->fd);
	free(run->buf);
	free(run->wal_path);
	free(run->held);
}

static int
check_data_dir(const struct pitr_archive_opts *opts)
{
	char *control;
	struct stat st;
	int rc = 0;

	if (opts->force_data_dir)
		return 0;
	control = pitr_fsutil_join(opts->data_dir, "PG_VERSION");
	if (control == NULL)
		return -1;
	if (stat(control, &st) != 0) {
		pitr_log_error("\"%s\" is not a PostgreSQL data directory (no PG_VERSION): "
			       "give the right --data-dir, or --force-data-dir", opts->data_dir);
		rc = -1;
	}
	free(control);
	return rc;
}

/* Resolve %p (relative to the data dir, as PostgreSQL passes it) and
 * check that its name is one PostgreSQL archives. */
static int
identify_file(struct archive_run *run)
{
	const char *path = run->opts->wal_path;
	const char *slash;

	if (path == NULL || *path == '\0') {
		pitr_log_error("no WAL file given: archive_command must pass \"%%p\"");
		return -1;
	}
	if (path[0] == '/' || strcmp(run->opts->data_dir, ".") == 0)
		run->wal_path = pitr_xstrdup(path);
	else
		run->wal_path = pitr_fsutil_join(run->opts->data_dir, path);
	if (run->wal_path == NULL)
		return -1;
	slash = strrchr(run->wal_path, '/');
	run->wal_name = slash != NULL ? slash + 1 : run->wal_path;
	if (pitr_wal_parse(run->wal_name, &run->name) == PITR_WAL_NONE) {
		pitr_log_error("\"%s\" is not a WAL file: its name is not one PostgreSQL archives",
			       run->wal_path);
		return -1;
	}
	/* Segments and partial segments carry a page header to check; history
	 * and backup history files are small text files. */
	if (run->name.kind == PITR_WAL_SEGMENT || run->name.kind == PITR_WAL_PARTIAL) {
		if (pitr_walhdr_read_file(run->wal_path, &run->name, &run->hdr) != 0)
			return -1;
		run->has_hdr = true;
	}
	run->fd = open(run->wal_path, O_RDONLY | O_CLOEXEC);
	if (run->fd < 0 || fstat(run->fd, &run->src) != 0) {
		pitr_log_error("could not open \"%s\": %s", run->wal_path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Which specs a look-ahead record proves hold the file already (ahead.h):
 * into held[] (nspecs of them, false when there is no record).  When it
 * proves only some, they go into the state record at once, as earlier
 * deliveries do, so that a failure of the others does not repeat them.
 */
static int
take_ahead_record(struct archive_run *run, bool *held)
{
	size_t n;

	if (run->state == NULL || run->ahead || run->name.kind != PITR_WAL_SEGMENT)
		return 0;
	n = pitr_ahead_take(run->opts->state_dir, run->wal_name, &run->src, run->specs,
			    run->nspecs, held);
	for (size_t i = 0; n > 0 && n < run->nspecs && i < run->nspecs; i++)
		if (held[i] && pitr_state_add(run->state, run->specs[i].key) != 0)
			return -1;
	return 0;
}

/* Parse every destination option, then keep for delivery those the state
 * dir does not say have the file already.  Specs are parsed before
 * anything else happens, so a typo fails the run without side effects. */
static int
collect_targets(struct archive_run *run)
{
	const struct pitr_archive_opts *opts = run->opts;
	const struct pitr_dest_args args = {
		.local = opts->dst_local, .nlocal = opts->ndst_local,
		.remote = opts->dst_remote, .nremote = opts->ndst_remote,
		.pipe = opts->dst_pipe, .npipe = opts->ndst_pipe,
		.backup = opts->dst_backup,
	};
	size_t total = pitr_dest_args_count(&args);
	bool *held;

	if (total == 0) {
		pitr_log_error("no destination given: use --dst-local, --dst-remote, --dst-pipe or "
			       "--dst-backup");
		return -1;
	}
	if (total > 1 && opts->state_dir == NULL) {
		pitr_log_error("%zu destinations need --state-dir, so that a retry after a partial "
			       "failure delivers only to the destinations that missed the file", total);
		return -1;
	}
	if (pitr_dest_args_parse(&args, &run->specs, &run->nspecs) != 0)
		return -1;
	if (opts->state_dir != NULL) {
		run->state = pitr_state_load(opts->state_dir, run->wal_name);
		if (run->state == NULL)
			return -1;
	}
	run->fanout = pitr_fanout_new(&run->env, PITR_FANOUT_ISOLATE, opts->parallel_jobs);
	held = pitr_xcalloc(run->nspecs, sizeof(*held));
	if (run->fanout == NULL || held == NULL || take_ahead_record(run, held) != 0) {
		free(held);
		return -1;
	}
	for (size_t spec_idx = 0; spec_idx < run->nspecs; spec_idx++) {
		const struct pitr_dest_spec *spec = &run->specs[spec_idx];

		if (held[spec_idx]) {
			pitr_log_verbose("\"%s\" already delivered to \"%s\" by look-ahead",
					 run->wal_name, spec->location);
			continue;
		}
		/* A --dst-backup dir gets its segments from the calls, in
		 * PostgreSQL's order: pitr-backup-master takes the stop segment's
		 * arrival as the sign that every earlier one is there. */
		if (run->ahead && spec->backup_copy)
			continue;
		if (run->state != NULL && pitr_state_has(run->state, spec->key)) {
			pitr_log_info("\"%s\" already delivered to \"%s\" by an earlier attempt",
				      run->wal_name, spec->location);
			continue;
		}
		if (pitr_fanout_add(run->fanout, spec) != 0) {
			free(held);
			return -1;
		}
	}
	free(held);
	return 0;
}

/* Remove a dead run's temporary files from `dir` when this run could
 * write there: a directory it cannot use is its destination's to
 * report, in one line. */
static void
sweep_dir(const char *dir)
{
	if (dir != NULL && access(dir, R_OK | W_OK | X_OK) == 0)
		(void)pitr_tmp_sweep(dir, false);
}

/* An archive directory holds a file per segment, and reading it whole
 * (a million entries) costs more than archiving one: a large one is swept
 * on one call in ARCHIVE_SWEEP_ODDS, a small one on every call.  A retry
 * does not wait for it: it takes over what its own killed run left there
 * by name (tmpfile.h). */
#define ARCHIVE_SWEEP_SMALL (64 * 1024)  /* st_size of a directory of ~1,500 names */
#define ARCHIVE_SWEEP_ODDS 64

static void
sweep_archive_dir(const char *dir)
{
	struct stat st;

	if (dir == NULL || stat(dir, &st) != 0)
		return;
	if (st.st_size <= ARCHIVE_SWEEP_SMALL || random() % ARCHIVE_SWEEP_ODDS == 0)
		sweep_dir(dir);
}

/* Before writing anything: what killed runs left (a SIGKILL gives no
 * chance to clean up) goes from every local directory this run writes
 * into, the state dir and, for destinations staged in files, the temp
 * dir.  Files locked by a run still going are left alone (tmpfile.h).
 * An s3 destination's abandoned uploads (only a segment larger than a
 * part makes one) are looked for on one call in ARCHIVE_SWEEP_ODDS: a
 * request each call would cost more than they do. */
static void
sweep_dead_temps(const struct archive_run *run)
{
	bool staged = false;

	srandom((unsigned)(getpid() ^ time(NULL)));
	for (size_t spec_idx = 0; spec_idx < run->nspecs; spec_idx++) {
		const struct pitr_dest_spec *spec = &run->specs[spec_idx];

		sweep_archive_dir(pitr_dest_spec_dir(spec));
		staged |= spec->kind != PITR_DEST_LOCAL && spec->kind != PITR_DEST_S3;
		if (spec->kind == PITR_DEST_S3 && random() % ARCHIVE_SWEEP_ODDS == 0)
			(void)pitr_dest_s3_sweep(spec, &run->env);
	}
	sweep_dir(run->opts->state_dir);
	if (staged)
		sweep_dir(pitr_fsutil_tmpdir(run->opts->temp_dir));
}

/* The system identifier record of s3 destination `spec`, checked or
 * made: the run's first request there, and so the one that meets a store
 * it cannot reach, said in one line naming the file, the destination and
 * the request.  With a state dir, a memo there of a recent check spares
 * the GET (sysidmemo.h). */
static int
check_s3_system_identifier(struct archive_run *run, const struct pitr_dest_spec *spec)
{
	const char *state_dir = run->opts->state_dir;
	const char *endpoint = run->env.s3 != NULL ? run->env.s3->endpoint : NULL;
	char held[1024] = "";
	char *memo = NULL;
	const char *prefix;
	struct pitr_s3 *s3;
	int rc;

	/* The record is the location's, on the store the endpoint names. */
	if (state_dir != NULL &&
	    (memo = pitr_xasprintf("%s %s", endpoint != NULL ? endpoint : "-", spec->location)) == NULL)
		return -1;
	if (memo != NULL && pitr_sysid_memo_fresh(state_dir, memo, run->hdr.sysid)) {
		free(memo);
		return 0;
	}
	pitr_log_hold(held, sizeof(held));
	s3 = pitr_dest_s3_client(spec, &run->env, &prefix);
	rc = s3 != NULL ? pitr_sysid_check_or_record_s3(s3, prefix, run->hdr.sysid) : -1;
	pitr_log_hold(NULL, 0);
	if (rc != 0)
		pitr_log_error("could not archive \"%s\" to s3 destination \"%s\": %s", run->wal_name,
			       spec->location, held);
	else if (memo != NULL)
		(void)pitr_sysid_memo_write(state_dir, memo, run->hdr.sysid);
	free(memo);
	return rc;
}

/* Refuse to mix clusters: every local archive, and every s3 one, records
 * the system identifier of the first segment it received. */
static int
check_system_identifier(struct archive_run *run)
{
	if (!run->has_hdr)
		return 0;
	for (size_t dest_idx = 0; dest_idx < pitr_fanout_count(run->fanout); dest_idx++) {
		const struct pitr_dest_spec *spec = pitr_fanout_spec(run->fanout, dest_idx);
		const char *dir = pitr_dest_spec_dir(spec);

		if (spec->kind == PITR_DEST_S3) {
			if (check_s3_system_identifier(run, spec) != 0)
				return -1;
			continue;
		}
		if (dir == NULL || spec->backup_copy)
			continue;
		if (pitr_sysid_check_or_record(dir, run->hdr.sysid) != 0)
			return -1;
	}
	return 0;
}

/* The file's name at a destination: the WAL name and the codec's
 * extension. */
static char *
target_name(void *arg, const char *ext)
{
	const struct archive_run *run = arg;

	return pitr_xasprintf("%s%s", run->wal_name, ext);
}

/* Before its first byte goes to an object store, a push loads the s3
 * library and makes a connection with its TLS handshake: ~10 ms, spent
 * beside the reading and compressing instead of after them (dest.h).
 * For the first s3 destination: a second is rare. */
static void
warm_s3(struct archive_run *run)
{
	for (size_t dest_idx = 0; dest_idx < pitr_fanout_count(run->fanout); dest_idx++) {
		const struct pitr_dest_spec *spec = pitr_fanout_spec(run->fanout, dest_idx);
		char *name;

		if (spec->kind != PITR_DEST_S3)
			continue;
		if ((name = target_name(run, pitr_codec_ext(spec->codec))) != NULL)
			(void)pitr_dest_s3_warm(spec, &run->env, name);
		free(name);
		return;
	}
}

/* Read the file once, feeding every destination that still needs it.
 * Destinations that fail are dropped (the fan-out's isolate policy) and
 * the file goes on to the others.  -1 only when the file cannot be read. */
static int
stream_file(struct archive_run *run)
{
	const struct pitr_fanout_file_opts fopts = { .name = target_name, .arg = run };
	struct pitr_fanout_file *file = pitr_fanout_open(run->fanout, &fopts);

	if (file == NULL)
		return -1;
	/* OmniPITR's default: compression yields to the server's own work. */
	if (pitr_fanout_compresses(file) && !run->opts->not_nice)
		(void)setpriority(PRIO_PROCESS, 0, ARCHIVE_NICENESS);

	run->buf = pitr_xmalloc(ARCHIVE_READ_SIZE);
	if (run->buf == NULL)
		return -1;
	for (;;) {
		ssize_t n = pitr_io_read(run->fd, run->buf, ARCHIVE_READ_SIZE);

		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", run->wal_path, strerror(errno));
			return -1;
		}
		/* -1: no destination is left to feed, each failure logged. */
		if (n == 0 || pitr_fanout_write(file, run->buf, (size_t)n) != 0)
			break;
	}
	/* What it leaves is published; its failures are counted at the end. */
	(void)pitr_fanout_close(file);
	return 0;
}

/* A look-ahead worker's delivery, for its record: a local file's size
 * as stored, which the later call checks. */
static int
note_held(struct archive_run *run, const struct pitr_dest *d)
{
	struct pitr_ahead_dest *more = pitr_xrealloc(run->held, (run->nheld + 1) * sizeof(*more));
	const char *dir = pitr_dest_spec_dir(&d->spec);
	struct stat st;
	char *path;

	if (more == NULL)
		return -1;
	run->held = more;
	more[run->nheld].key = d->spec.key;
	more[run->nheld].size = -1;
	if (dir != NULL) {
		if ((path = pitr_fsutil_join(dir, d->name)) == NULL)
			return -1;
		if (lstat(path, &st) == 0)
			more[run->nheld].size = (int64_t)st.st_size;
		free(path);
	}
	run->nheld++;
	return 0;
}

/* Log a delivered file and record it.  A state-dir write failure does not
 * undo the delivery: it is kept for the run's last line (after it, no
 * further write is tried), and only costs a retry a delivery that finds
 * the file already there. */
static int
record_delivery(void *arg, const struct pitr_dest *d, enum pitr_dest_result result)
{
	struct archive_run *run = arg;

	if (result == PITR_DEST_ALREADY)
		pitr_log_info("\"%s\" was already at %s destination \"%s\" with the same content",
			      d->name, pitr_dest_kind_name(d), d->spec.location);
	else if (result != PITR_DEST_GONE)     /* GONE is said at -v by the destination */
		pitr_log_verbose("delivered \"%s\" to %s destination \"%s\"", d->name,
				 pitr_dest_kind_name(d), d->spec.location);
	if (run->ahead && note_held(run, d) != 0)
		return -1;
	/* One destination: its record would be removed at once by the run's
	 * success, and a retry finds the file there anyway (two fsyncs a
	 * call saved). */
	if (run->state == NULL || pitr_fanout_count(run->fanout) == 1)
		return 0;
	if (run->state_error[0] == '\0') {
		int r;

		pitr_log_hold(run->state_error, sizeof(run->state_error));
		r = pitr_state_add(run->state, d->spec.key);
		pitr_log_hold(NULL, 0);
		if (r == 0)
			return 0;
		if (run->state_error[0] == '\0')
			snprintf(run->state_error, sizeof(run->state_error), "unknown error");
	}
	run->nunrecorded++;
	return 0;
}

/* The run's one line when the state dir could not record deliveries:
 * whether the file is archived, and where and why the record failed.
 * Returns the run's result: 0 when every destination holds the file (see
 * pitr-archive(1), "State directory"), else -1. */
static int
report_state_failure(const struct archive_run *run, size_t ntargets)
{
	size_t nfailed = pitr_fanout_nfailed(run->fanout);

	if (nfailed == 0) {
		pitr_log_error("archived \"%s\" to every destination, but could not record it in state "
			       "dir \"%s\" (%s); nothing is lost, but fix the state dir before a "
			       "destination fails", run->wal_name, run->opts->state_dir, run->state_error);
		return 0;
	}
	pitr_log_error("could not archive \"%s\": %zu of %zu destinations failed; %zu %s that "
		       "succeeded could not be recorded in state dir \"%s\" (%s), so a retry "
		       "repeats %s", run->wal_name, nfailed, ntargets, run->nunrecorded,
		       run->nunrecorded == 1 ? "delivery" : "deliveries", run->opts->state_dir,
		       run->state_error, run->nunrecorded == 1 ? "it" : "them");
	return -1;
}

/* Read the file into every destination that still needs it and publish
 * it there; its outcome logged.  0 when every destination holds it, 1
 * when they do but the state dir could not record it (said: the run ends
 * there, successful), -1 otherwise. */
static int
deliver(struct archive_run *run, double started)
{
	size_t ntargets = pitr_fanout_count(run->fanout);

	if (ntargets > 0) {
		if (stream_file(run) != 0)
			return -1;
		pitr_log_verbose("compressed \"%s\" for %zu destinations in %.1f ms", run->wal_name,
				 ntargets, pitr_clock_ms() - started);
	}
	if (pitr_fanout_publish(run->fanout, record_delivery, run) == 0 && run->nunrecorded == 0)
		return 0;
	if (run->nunrecorded > 0)
		return report_state_failure(run, ntargets) == 0 ? 1 : -1;
	/* One destination's failure is already its own line (ENOSPC,
	 * EROFS...); a summary would say it twice. */
	if (ntargets > 1)
		pitr_log_error("could not archive \"%s\": %zu of %zu destinations failed%s",
			       run->wal_name, pitr_fanout_nfailed(run->fanout), ntargets,
			       run->state != NULL && pitr_fanout_nfailed(run->fanout) < ntargets ?
			       "; the others are recorded in the state dir" : "");
	return -1;
}

/* What a run ends with once every destination holds the file: the state
 * record goes; a look-ahead worker leaves its own record instead. */
static int
conclude(struct archive_run *run)
{
	if (run->state != NULL && pitr_state_clear(run->state) != 0)
		return -1;
	if (run->ahead)
		return pitr_ahead_record(run->opts->state_dir, run->wal_name, &run->src, run->held,
					 run->nheld);
	return 0;
}

/*
 * Archive opts->wal_path: the call's own file, or (`ahead`) a look-ahead
 * worker's segment, which sweeps nothing (the call did), starts no
 * look-ahead and prunes no state.  The call starts the look-ahead of the
 * segments after its own (ahead.h), whose workers go on after it.
 */
static int
archive_run(const struct pitr_archive_opts *opts, bool ahead)
{
	struct archive_run run = { .opts = opts, .fd = -1, .ahead = ahead };
	double started = pitr_clock_ms();
	int rc = -1, r;

	run.env.temp_dir = opts->temp_dir;
	run.env.rsync_path = opts->rsync_path;
	run.env.rsync_timeout = opts->rsync_timeout;
	run.env.pipe_timeout = opts->pipe_timeout;
	run.env.s3 = &opts->s3;
	/* Allocation only: credentials and the s3 library wait for an s3
	 * destination. */
	if ((run.env.s3_session = pitr_dest_s3_session_new()) == NULL)
		return -1;

	if (check_data_dir(opts) != 0 || identify_file(&run) != 0)
		goto out;
	if (!ahead)
		pitr_lookahead_wait(opts, run.wal_name);
	if (collect_targets(&run) != 0)
		goto out;
	if (!ahead)
		sweep_dead_temps(&run);
	if (check_system_identifier(&run) != 0)
		goto out;
	if (!ahead)
		pitr_lookahead_start(opts, run.wal_name, run.specs, run.nspecs);
	/* After the look-ahead's fork: a child gets none of the thread. */
	warm_s3(&run);
	if ((r = deliver(&run, started)) != 0) {
		rc = r > 0 ? 0 : -1;
		goto out;
	}
	if (conclude(&run) != 0)
		goto out;
	if (!ahead)
		pitr_log_info("archived \"%s\" (%s) in %.1f ms", run.wal_name,
			      pitr_wal_kind_name(run.name.kind), pitr_clock_ms() - started);
	rc = 0;
	/* Stale records of other files, a few per successful run: a failing
	 * run's destinations are likely down, and checking can wait. */
	if (!ahead && run.state != NULL) {
		(void)pitr_archive_prune_state(opts->state_dir, run.wal_name, run.specs, run.nspecs,
					       ARCHIVE_PRUNE_MAX);
		(void)pitr_archive_prune_ahead(opts->state_dir, opts->data_dir, run.wal_name,
					       PITR_AHEAD_PRUNE_MAX);
	}
out:
	run_free(&run);
	return rc;
}

int
pitr_archive_ahead_one(const struct pitr_archive_opts *opts, const char *wal_path)
{
	struct pitr_archive_opts o = *opts;
	double started = pitr_clock_ms();
	char held[1024] = "";
	int rc;

	o.wal_path = wal_path;
	/* Reported when PostgreSQL asks for the segment, not now. */
	pitr_log_hold(held, sizeof(held));
	rc = archive_run(&o, true);
	pitr_log_hold(NULL, 0);
	if (rc == 0)
		pitr_log_verbose("look-ahead: archived \"%s\" in %.1f ms", wal_path,
				 pitr_clock_ms() - started);
	else
		pitr_log_verbose("look-ahead: \"%s\" not archived now (the call for it will say "
				 "why): %s", wal_path, held);
	return rc;
}

int
pitr_cmd_archive(const struct pitr_archive_opts *opts)
{
	struct pitr_pidfile *pidfile = NULL;
	int rc;

	if (opts->pid_file != NULL && (pidfile = pitr_pidfile_acquire(opts->pid_file)) == NULL)
		return -1;
	rc = archive_run(opts, false);
	pitr_pidfile_release(pidfile);
	return rc;
}
