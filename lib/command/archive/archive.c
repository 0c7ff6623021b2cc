/*
 * archive.c - pitr-archive: deliver one finished WAL file to every
 * destination, durably (archive_command).
 *
 * The file is read once.  Each distinct codec among the destinations that
 * still need the file compresses it once, and its output fans out to all of
 * them.  Local destinations are published first; remote and pipe
 * destinations, which were fed staged copies, are then delivered by child
 * processes, --parallel-jobs at a time.  Every success is recorded in the
 * state dir at once, so a retry after a partial failure (PostgreSQL calls
 * archive_command again for the same file) only delivers to the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "command/archive/archive.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "repo/state.h"
#include "postgres/sysid.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

#define ARCHIVE_READ_SIZE (1 << 20)
#define ARCHIVE_NICENESS 10
#define ARCHIVE_MAX_THREADS 4

struct archive_target {
	struct pitr_dest *dest;
	size_t group_idx;
	bool is_backup;        /* the --dst-backup copy: no system identifier record */
	bool opened;
	bool failed;
};

struct archive_group {
	enum pitr_codec codec;
	int level;
	struct pitr_codec_writer *writer;
	struct archive_run *run;
	size_t live;           /* targets of this group still being fed */
};

/* Everything one run holds, released by run_free(). */
struct archive_run {
	const struct pitr_archive_opts *opts;
	struct pitr_dest_env env;
	struct pitr_pidfile *pidfile;
	struct pitr_state *state;
	struct archive_target *targets;
	size_t ntargets;
	struct archive_group *groups;
	size_t ngroups;
	char *wal_path;
	const char *wal_name;
	struct pitr_wal_name name;
	struct pitr_walhdr hdr;
	bool has_hdr;
	int fd;
	unsigned char *buf;
};

static double
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

static void
run_free(struct archive_run *run)
{
	for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++) {
		pitr_dest_abort(run->targets[target_idx].dest);
		pitr_dest_free(run->targets[target_idx].dest);
	}
	free(run->targets);
	for (size_t group_idx = 0; group_idx < run->ngroups; group_idx++)
		pitr_codec_writer_free(run->groups[group_idx].writer);
	free(run->groups);
	pitr_state_free(run->state);
	pitr_pidfile_release(run->pidfile);
	if (run->fd >= 0)
		close(run->fd);
	free(run->buf);
	free(run->wal_path);
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
	if (control == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
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
		run->wal_path = strdup(path);
	else
		run->wal_path = pitr_fsutil_join(run->opts->data_dir, path);
	if (run->wal_path == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
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
	if (run->fd < 0) {
		pitr_log_error("could not open \"%s\": %s", run->wal_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Append one destination spec as a target unless the state dir says it
 * has the file already. */
static int
add_target(struct archive_run *run, const struct pitr_dest_spec *spec, bool is_backup)
{
	struct archive_target *t;
	size_t group_idx;

	if (run->state != NULL && pitr_state_has(run->state, spec->key)) {
		pitr_log_info("\"%s\" already delivered to \"%s\" by an earlier attempt",
			      run->wal_name, spec->location);
		return 0;
	}
	for (group_idx = 0; group_idx < run->ngroups; group_idx++)
		if (run->groups[group_idx].codec == spec->codec &&
		    run->groups[group_idx].level == spec->level)
			break;
	if (group_idx == run->ngroups) {
		struct archive_group *groups = realloc(run->groups, (run->ngroups + 1) * sizeof(*groups));

		if (groups == NULL)
			goto nomem;
		run->groups = groups;
		memset(&groups[group_idx], 0, sizeof(groups[0]));
		groups[group_idx].codec = spec->codec;
		groups[group_idx].level = spec->level;
		groups[group_idx].run = run;
		run->ngroups++;
	}
	t = realloc(run->targets, (run->ntargets + 1) * sizeof(*t));
	if (t == NULL)
		goto nomem;
	run->targets = t;
	t = &run->targets[run->ntargets];
	memset(t, 0, sizeof(*t));
	t->group_idx = group_idx;
	t->is_backup = is_backup;
	t->dest = pitr_dest_new(spec, &run->env);
	if (t->dest == NULL)
		return -1;
	run->ntargets++;
	return 0;
nomem:
	pitr_log_error("out of memory");
	return -1;
}

/* Parse every destination option into targets.  Specs are parsed before
 * anything else happens, so a typo fails the run without side effects. */
static int
collect_targets(struct archive_run *run)
{
	const struct pitr_archive_opts *opts = run->opts;
	const struct {
		const char **args;
		size_t n;
		enum pitr_dest_kind kind;
		const char *optname;
	} lists[] = {
		{ opts->dst_local, opts->ndst_local, PITR_DEST_LOCAL, "--dst-local" },
		{ opts->dst_remote, opts->ndst_remote, PITR_DEST_RSYNC, "--dst-remote" },
		{ opts->dst_pipe, opts->ndst_pipe, PITR_DEST_PIPE, "--dst-pipe" },
	};
	size_t total = opts->ndst_local + opts->ndst_remote + opts->ndst_pipe + (opts->dst_backup ? 1 : 0);
	struct pitr_dest_spec spec;
	int rc = 0;

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
	if (opts->dst_backup != NULL && opts->dst_backup[0] != '/' &&
	    strchr(opts->dst_backup, '=') != NULL) {
		pitr_log_error("--dst-backup \"%s\" cannot be compressed: pitr-backup-master reads it "
			       "as plain WAL", opts->dst_backup);
		return -1;
	}
	if (opts->dst_backup != NULL && opts->dst_backup[0] != '/') {
		pitr_log_error("--dst-backup \"%s\" must be an absolute path", opts->dst_backup);
		return -1;
	}
	if (opts->state_dir != NULL) {
		run->state = pitr_state_load(opts->state_dir, run->wal_name);
		if (run->state == NULL)
			return -1;
	}
	/* Local destinations first: they are published first. */
	for (size_t list_idx = 0; list_idx < sizeof(lists) / sizeof(lists[0]) && rc == 0; list_idx++) {
		for (size_t arg_idx = 0; arg_idx < lists[list_idx].n && rc == 0; arg_idx++) {
			if (pitr_dest_spec_parse(lists[list_idx].args[arg_idx], lists[list_idx].kind,
						 lists[list_idx].optname, &spec) != 0)
				return -1;
			rc = add_target(run, &spec, false);
			pitr_dest_spec_free(&spec);
		}
		if (list_idx == 0 && opts->dst_backup != NULL && rc == 0) {
			struct stat st;

			/* The backup's WAL collection exists only while
			 * pitr-backup-master runs: no directory, no copy. */
			if (stat(opts->dst_backup, &st) != 0 || !S_ISDIR(st.st_mode)) {
				pitr_log_verbose("--dst-backup \"%s\" does not exist: no backup is "
						 "collecting WAL", opts->dst_backup);
				continue;
			}
			memset(&spec, 0, sizeof(spec));
			spec.kind = PITR_DEST_LOCAL;
			spec.codec = PITR_CODEC_NONE;
			spec.location = (char *)opts->dst_backup;
			if (asprintf(&spec.key, "backup:none=%s", opts->dst_backup) < 0) {
				pitr_log_error("out of memory");
				return -1;
			}
			rc = add_target(run, &spec, true);
			free(spec.key);
		}
	}
	return rc;
}

/* Refuse to mix clusters: every local archive records the system
 * identifier of the first segment it received. */
static int
check_system_identifier(struct archive_run *run)
{
	if (!run->has_hdr)
		return 0;
	for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++) {
		struct archive_target *t = &run->targets[target_idx];

		if (t->dest->spec.kind != PITR_DEST_LOCAL || t->is_backup)
			continue;
		if (pitr_sysid_check_or_record(t->dest->spec.location, run->hdr.sysid) != 0)
			return -1;
	}
	return 0;
}

/* The codec writer's sink: fan the group's compressed bytes out to every
 * target of the group that has not failed. */
static int
group_sink(void *ctx, const void *buf, size_t len)
{
	struct archive_group *g = ctx;
	struct archive_run *run = g->run;
	size_t group_idx = (size_t)(g - run->groups);

	for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++) {
		struct archive_target *t = &run->targets[target_idx];

		if (t->group_idx != group_idx || t->failed)
			continue;
		if (pitr_dest_write(t->dest, buf, len) != 0) {
			t->failed = true;
			g->live--;
		}
	}
	return g->live > 0 ? 0 : -1;
}

static void
fail_group(struct archive_run *run, size_t group_idx)
{
	for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++)
		if (run->targets[target_idx].group_idx == group_idx)
			run->targets[target_idx].failed = true;
	run->groups[group_idx].live = 0;
}

static int
thread_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		return 1;
	return cpus > ARCHIVE_MAX_THREADS ? ARCHIVE_MAX_THREADS : (int)cpus;
}

/* Open every target, then read the file once, feeding each codec group.
 * Targets that fail are marked; the stream goes on for the others. */
static int
stream_file(struct archive_run *run)
{
	bool compressing = false;

	for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++) {
		struct archive_target *t = &run->targets[target_idx];
		char fname[PITR_WAL_NAME_MAX + 16];

		snprintf(fname, sizeof(fname), "%s%s", run->wal_name, pitr_codec_ext(t->dest->spec.codec));
		if (pitr_dest_open(t->dest, fname) != 0)
			t->failed = true;
		else
			run->groups[t->group_idx].live++;
	}
	for (size_t group_idx = 0; group_idx < run->ngroups; group_idx++) {
		struct archive_group *g = &run->groups[group_idx];

		if (g->live == 0)
			continue;
		compressing |= g->codec != PITR_CODEC_NONE;
		g->writer = pitr_codec_writer_new(g->codec, g->level, thread_count(), group_sink, g);
		if (g->writer == NULL)
			fail_group(run, group_idx);
	}
	/* OmniPITR's default: compression yields to the server's own work. */
	if (compressing && !run->opts->not_nice)
		(void)setpriority(PRIO_PROCESS, 0, ARCHIVE_NICENESS);

	run->buf = malloc(ARCHIVE_READ_SIZE);
	if (run->buf == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	for (;;) {
		ssize_t n = read(run->fd, run->buf, ARCHIVE_READ_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", run->wal_path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		for (size_t group_idx = 0; group_idx < run->ngroups; group_idx++) {
			struct archive_group *g = &run->groups[group_idx];

			if (g->live > 0 && pitr_codec_writer_write(g->writer, run->buf, (size_t)n) != 0)
				fail_group(run, group_idx);
		}
	}
	for (size_t group_idx = 0; group_idx < run->ngroups; group_idx++) {
		struct archive_group *g = &run->groups[group_idx];

		if (g->live > 0 && pitr_codec_writer_finish(g->writer) != 0)
			fail_group(run, group_idx);
	}
	return 0;
}

/* Record a delivered target and log it.  A state-dir write failure fails
 * the run: the next retry would otherwise not know, which is harmless for
 * correctness but the operator must hear of a broken state dir. */
static int
record_delivery(struct archive_run *run, struct archive_target *t, enum pitr_dest_result result)
{
	if (result == PITR_DEST_ALREADY)
		pitr_log_info("\"%s\" was already at %s destination \"%s\" with the same content",
			      t->dest->name, t->dest->ops->kind_name, t->dest->spec.location);
	else
		pitr_log_verbose("delivered \"%s\" to %s destination \"%s\"", t->dest->name,
				 t->dest->ops->kind_name, t->dest->spec.location);
	if (run->state != NULL && pitr_state_add(run->state, t->dest->spec.key) != 0) {
		t->failed = true;
		return -1;
	}
	return 0;
}

/* Finish the targets for which `staged` matches: locals (false) one by
 * one, staged ones (true) --parallel-jobs at a time. */
static void
finish_targets(struct archive_run *run, bool staged)
{
	size_t jobs = run->opts->parallel_jobs > 0 ? (size_t)run->opts->parallel_jobs : 1;
	size_t *batch = calloc(jobs, sizeof(*batch));
	size_t nbatch = 0;

	if (batch == NULL) {
		pitr_log_error("out of memory");
		for (size_t target_idx = 0; target_idx < run->ntargets; target_idx++)
			run->targets[target_idx].failed = true;
		return;
	}
	for (size_t target_idx = 0; target_idx <= run->ntargets; target_idx++) {
		if (target_idx < run->ntargets) {
			struct archive_target *t = &run->targets[target_idx];
			bool is_staged = t->dest->spec.kind != PITR_DEST_LOCAL;

			if (is_staged != staged || t->failed)
				continue;
			if (pitr_dest_finish_begin(t->dest) != 0) {
				t->failed = true;
				continue;
			}
			batch[nbatch++] = target_idx;
			if (nbatch < jobs && staged)
				continue;
		}
		for (size_t batch_idx = 0; batch_idx < nbatch; batch_idx++) {
			struct archive_target *t = &run->targets[batch[batch_idx]];
			enum pitr_dest_result result;

			if (pitr_dest_finish_end(t->dest, &result) != 0)
				t->failed = true;
			else
				record_delivery(run, t, result);
		}
		nbatch = 0;
	}
	free(batch);
}

int
pitr_cmd_archive(const struct pitr_archive_opts *opts)
{
	struct archive_run run = { .opts = opts, .fd = -1 };
	double started = now_ms();
	size_t nfailed = 0;
	int rc = -1;

	run.env.temp_dir = opts->temp_dir;
	run.env.rsync_path = opts->rsync_path;
	run.env.rsync_timeout = opts->rsync_timeout;

	if (opts->pid_file != NULL) {
		run.pidfile = pitr_pidfile_acquire(opts->pid_file);
		if (run.pidfile == NULL)
			goto out;
	}
	if (check_data_dir(opts) != 0 || identify_file(&run) != 0 || collect_targets(&run) != 0 ||
	    check_system_identifier(&run) != 0)
		goto out;
	if (run.ntargets > 0) {
		if (stream_file(&run) != 0)
			goto out;
		pitr_log_verbose("compressed \"%s\" for %zu destinations in %.1f ms", run.wal_name,
				 run.ntargets, now_ms() - started);
		finish_targets(&run, false);
		finish_targets(&run, true);
	}
	for (size_t target_idx = 0; target_idx < run.ntargets; target_idx++)
		if (run.targets[target_idx].failed)
			nfailed++;
	if (nfailed > 0) {
		pitr_log_error("could not archive \"%s\": %zu of %zu destinations failed%s", run.wal_name,
			       nfailed, run.ntargets,
			       run.state != NULL ? "; the others are recorded in the state dir" : "");
		goto out;
	}
	if (run.state != NULL && pitr_state_clear(run.state) != 0)
		goto out;
	pitr_log_info("archived \"%s\" (%s) in %.1f ms", run.wal_name, pitr_wal_kind_name(run.name.kind),
		      now_ms() - started);
	rc = 0;
out:
	run_free(&run);
	return rc;
}
