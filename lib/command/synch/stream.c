/*
 * stream.c - pitr-synch's full copy: the data directory and tablespaces
 * read once into one tar stream, compressed once, and written to every
 * output's receiver (pitr-synch --receive, run here or over ssh) at once.
 *
 * The stream holds, in order: the data directory without global/pg_control
 * (pgdata/...), each tablespace (tablespaces/OID/...), pg_control (before
 * pg_backup_stop: a standby's copy ends at the minRecoveryPoint it holds),
 * then after the stop the WAL from the start segment to the stop segment
 * and the timeline history files from the source's pg_wal (kept there by
 * the run's replication slot), then each output's own configuration files
 * (config/INDEX/NAME: its tablespace_map names its own places), then the
 * tar's end, which alone lets a receiver finish.  An output whose
 * receiver fails is dropped and named; the others go on.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/synch/synch_impl.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/sigclean.h"
#include "common/xalloc.h"
#include "postgres/lsn.h"
#include "postgres/wal.h"
#include "postgres/pgdata.h"
#include "tar/tarwrite.h"

/* The receiver's words besides its tablespaces. */
#define RECEIVER_WORDS 16
/* Compression threads, as the backup's fan-out uses: more gain little next
 * to reading and the receivers' work. */
#define STREAM_MAX_THREADS 4

static void
target_failed(struct synch_target *t, const char *why)
{
	if (t->failed)
		return;
	t->failed = true;
	pitr_log_error("output \"%s\" failed: %s", t->out.label, why);
	pitr_sigclean_remove_pid(t->sp.pid);
	pitr_spawn_kill(&t->sp);
}

static size_t
live_targets(const struct synch_run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->nt; i++)
		n += run->t[i].started && !run->t[i].failed;
	return n;
}

/* Compressed bytes to every live receiver. */
static int
fan_sink(void *ctx, const void *buf, size_t len)
{
	struct synch_run *run = ctx;

	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (t->started && !t->failed && pitr_spawn_write(&t->sp, buf, len) != 0)
			target_failed(t, "its receiver stopped reading");
	}
	run->sent += len;
	if (live_targets(run) == 0) {
		pitr_log_error("no output is left to copy to");
		return -1;
	}
	return 0;
}

/* Tar bytes into the compressor. */
static int
tar_sink(void *ctx, const void *buf, size_t len)
{
	struct synch_run *run = ctx;

	if (run->progress != NULL)
		pitr_progress_set(run->progress, pitr_tarwrite_bytes(run->tar) + len,
				  pitr_tarwrite_files(run->tar));
	return pitr_codec_writer_write(run->writer, buf, len);
}

/* The receiver's words: pitr-synch --receive DIR, the stream's facts and
 * each tablespace's place at this output.  Owned strings go to `own`
 * (nts + 2 slots, for free_words()).  NULL-terminated; *n gets the count.
 * NULL after logging. */
static char **
receiver_words(const struct synch_run *run, size_t i, const char *prog, char **own, size_t *n)
{
	const struct synch_target *t = &run->t[i];
	char **w = pitr_xcalloc(RECEIVER_WORDS + 2 * run->nts, sizeof(char *));

	if (w == NULL || (own[0] = pitr_xasprintf("%" PRIu64, run->sysid)) == NULL ||
	    (own[1] = pitr_xasprintf("%zu", i)) == NULL) {
		free(w);
		return NULL;
	}
	*n = 0;
	w[(*n)++] = (char *)prog;
	w[(*n)++] = "--receive";
	w[(*n)++] = t->out.path;
	w[(*n)++] = "--codec";
	w[(*n)++] = (char *)pitr_codec_name(run->codec);
	w[(*n)++] = "--sysid";
	w[(*n)++] = own[0];
	w[(*n)++] = "--index";
	w[(*n)++] = own[1];
	if (run->o->verbose)
		w[(*n)++] = "--verbose";
	/* A local receiver logs where this run does; a remote one's lines come
	 * back through ssh's standard error. */
	if (run->o->log != NULL && t->out.kind == SYNCH_OUT_LOCAL) {
		w[(*n)++] = "--log";
		w[(*n)++] = (char *)run->o->log;
	}
	for (size_t k = 0; k < run->nts; k++) {
		if ((own[k + 2] = pitr_xasprintf("%s=%s", run->ts[k].oid, t->ts_dirs[k])) == NULL) {
			free(w);
			return NULL;
		}
		w[(*n)++] = "--tablespace";
		w[(*n)++] = own[k + 2];
	}
	return w;
}

/* The remote command line for ssh: every word shell-quoted. */
static char *
remote_command(char *const *words, size_t n)
{
	char *cmd = pitr_xstrdup(""), *q, *grown;

	for (size_t k = 0; cmd != NULL && k < n; k++) {
		if ((q = pitr_quote_shell(words[k])) == NULL) {
			free(cmd);
			return NULL;
		}
		grown = pitr_xasprintf("%s%s%s", cmd, k ? " " : "", q);
		free(q);
		free(cmd);
		cmd = grown;
	}
	return cmd;
}

/* ssh HOST 'the receiver's words', never prompting. */
static int
spawn_ssh(struct synch_run *run, struct synch_target *t, char *const *words, size_t n)
{
	char *ssh[16], port[16], *cmd = remote_command(words, n);
	size_t s = 0;
	int rc;

	if (cmd == NULL)
		return -1;
	ssh[s++] = (char *)(run->o->ssh_path ? run->o->ssh_path : "ssh");
	ssh[s++] = "-o";
	ssh[s++] = "BatchMode=yes";
	ssh[s++] = "-o";
	ssh[s++] = "ServerAliveInterval=15";
	if (t->out.port > 0) {
		snprintf(port, sizeof(port), "%d", t->out.port);
		ssh[s++] = "-p";
		ssh[s++] = port;
	}
	if (t->out.user != NULL) {
		ssh[s++] = "-l";
		ssh[s++] = t->out.user;
	}
	ssh[s++] = "--";
	ssh[s++] = t->out.host;
	ssh[s++] = cmd;
	ssh[s] = NULL;
	rc = pitr_spawn_start(&t->sp, ssh, true, -1);
	free(cmd);
	return rc;
}

static int
start_one(struct synch_run *run, size_t i, const char *local_prog)
{
	struct synch_target *t = &run->t[i];
	char **own = pitr_xcalloc(run->nts + 2, sizeof(char *)), **w = NULL;
	size_t n = 0;
	int rc = -1;

	if (own != NULL)
		w = receiver_words(run, i, t->out.kind == SYNCH_OUT_LOCAL ? local_prog :
				   run->o->remote_synch ? run->o->remote_synch : PITR_SYNCH_REMOTE_DEFAULT,
				   own, &n);
	if (w != NULL)
		rc = t->out.kind == SYNCH_OUT_LOCAL ? pitr_spawn_start(&t->sp, w, true, -1)
						    : spawn_ssh(run, t, w, n);
	if (rc == 0) {
		t->started = true;
		pitr_sigclean_add_pid(t->sp.pid);
		pitr_log_verbose("output \"%s\": receiver started (pid %ld)", t->out.label, (long)t->sp.pid);
	} else {
		t->failed = true;
		pitr_log_error("output \"%s\" failed: its receiver could not be started", t->out.label);
	}
	for (size_t k = 0; own != NULL && k < run->nts + 2; k++)
		free(own[k]);
	free(own);
	free(w);
	return rc;
}

static size_t
stream_targets(const struct synch_run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->nt; i++)
		n += !run->t[i].delta;
	return n;
}

int
synch_stream_start(struct synch_run *run)
{
	const char *local = run->o->local_synch;
	long cpus;

	if (stream_targets(run) == 0)
		return 0;   /* every output goes through rsync: no stream */
	for (size_t i = 0; i < run->nt; i++)
		if (!run->t[i].delta)
			(void)start_one(run, i, local);
	if (live_targets(run) == 0)
		return -1;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	run->writer = pitr_codec_writer_new(run->codec, run->level, cpus < 1 ? 1 : cpus > STREAM_MAX_THREADS ?
					    STREAM_MAX_THREADS : (int)cpus, fan_sink, run);
	if (run->writer == NULL)
		return -1;
	run->tar = pitr_tarwrite_new(tar_sink, run);
	return run->tar != NULL ? 0 : -1;
}

/* The data dir and tablespaces into the tar, pg_control last. */
static int
stream_tree(struct synch_run *run)
{
	char path[PATH_MAX];

	if (pitr_tarwrite_add_tree(run->tar, run->data_dir, SYNCH_MEMBER_DATA,
				   PITR_TARWRITE_PGDATA | PITR_TARWRITE_ROOT_0700 |
				   PITR_TARWRITE_SKIP_PGCONTROL) != 0)
		return -1;
	for (size_t k = 0; k < run->nts; k++) {
		char prefix[64];

		snprintf(prefix, sizeof(prefix), SYNCH_MEMBER_TS "/%s", run->ts[k].oid);
		if (pitr_tarwrite_add_tree(run->tar, run->ts[k].location, prefix, PITR_TARWRITE_PGDATA) != 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/global/pg_control", run->data_dir);
	return pitr_tarwrite_add_file(run->tar, path, SYNCH_MEMBER_DATA "/global/pg_control");
}

/* The stream's progress in tar bytes (before compression), the total from
 * a stat-only walk as pitr-backup-master's. */
int
synch_stream_data(struct synch_run *run)
{
	uint64_t bytes, files;
	int rc;

	if (run->tar == NULL)
		return 0;
	if (pitr_progress_wanted()) {
		pitr_pgdata_estimate(run->data_dir, &bytes, &files);
		run->progress = pitr_progress_new("data", bytes, files);
	}
	rc = stream_tree(run);
	if (rc == 0)
		pitr_progress_finish(run->progress);
	else
		pitr_progress_free(run->progress);
	run->progress = NULL;
	return rc;
}

int
synch_label_start(const char *label, struct pitr_wal_name *start)
{
	const char *p = strstr(label, "START WAL LOCATION: ");
	char name[32];

	p = p != NULL ? strstr(p, "(file ") : NULL;
	if (p == NULL || sscanf(p, "(file %24[0-9A-F])", name) != 1 ||
	    pitr_wal_parse(name, start) != PITR_WAL_SEGMENT) {
		pitr_log_error("backup_label from the server has no valid START WAL LOCATION");
		return -1;
	}
	return 0;
}

int
synch_wal_range(const struct synch_run *run, struct pitr_wal_name *start, uint64_t *last)
{
	uint64_t stop;

	if (synch_label_start(run->labelfile, start) != 0)
		return -1;
	if (pitr_lsn_parse(run->stop_lsn, &stop) != 0) {
		pitr_log_error("server gave \"%s\", not a WAL location", run->stop_lsn);
		return -1;
	}
	/* The stop LSN ends the WAL: on a segment boundary, the segment
	 * before it is the last (the next one may not exist yet). */
	*last = pitr_wal_prev_segno(stop, (uint32_t)run->segsize);
	return 0;
}

/* The WAL the copy needs, start to stop segment, from the source's pg_wal. */
static int
add_wal(struct synch_run *run)
{
	uint32_t segsize = (uint32_t)run->segsize;
	struct pitr_wal_name start;
	uint64_t last;

	if (synch_wal_range(run, &start, &last) != 0)
		return -1;
	for (uint64_t segno = pitr_wal_segno(&start, segsize); segno <= last; segno++) {
		char name[PITR_WAL_NAME_MAX], path[PATH_MAX], member[128];

		pitr_wal_format_segment(name, start.tli, segno, segsize);
		snprintf(path, sizeof(path), "%s/pg_wal/%s", run->data_dir, name);
		snprintf(member, sizeof(member), SYNCH_MEMBER_DATA "/pg_wal/%s", name);
		if (pitr_tarwrite_add_file(run->tar, path, member) != 0)
			return -1;
	}
	return 0;
}

/* Every timeline history file of the source's pg_wal, as pg_basebackup
 * brings them: a later promotion of the copy needs its ancestry. */
static int
add_history(struct synch_run *run)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/pg_wal", run->data_dir);
	if ((d = opendir(dir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct pitr_wal_name wn;
		char path[PATH_MAX + 256], member[300];

		if (pitr_wal_parse(de->d_name, &wn) != PITR_WAL_HISTORY)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(member, sizeof(member), SYNCH_MEMBER_DATA "/pg_wal/%s", de->d_name);
		rc = pitr_tarwrite_add_file(run->tar, path, member);
	}
	closedir(d);
	return rc;
}

static int
add_config(struct synch_run *run)
{
	for (size_t i = 0; i < run->nt; i++) {
		struct synch_member *m;
		size_t n;
		int rc = 0;

		if (!run->t[i].started || run->t[i].failed)
			continue;
		if ((m = synch_config_members(run, i, &n)) == NULL)
			return -1;
		for (size_t k = 0; rc == 0 && k < n; k++) {
			char member[PATH_MAX];

			snprintf(member, sizeof(member), SYNCH_MEMBER_CONFIG "/%zu/%s", i, m[k].name);
			rc = pitr_tarwrite_add_buffer(run->tar, member, m[k].text, strlen(m[k].text), 0600);
		}
		synch_config_free(m, n);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Wait for every receiver: each one's own verdict on its output. */
static int
wait_all(struct synch_run *run)
{
	int rc = 0;

	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];
		char what[64];
		int status;

		if (t->delta)
			continue;
		if (!t->started || t->failed) {
			rc = -1;
			continue;
		}
		if (pitr_spawn_reap(&t->sp, &status) != 0 || status != 0) {
			pitr_spawn_status_text(status, what, sizeof(what));
			pitr_sigclean_remove_pid(t->sp.pid);
			t->failed = true;
			pitr_log_error("output \"%s\" failed: its receiver ended with %s", t->out.label, what);
			rc = -1;
			continue;
		}
		pitr_sigclean_remove_pid(t->sp.pid);
		pitr_log_info("output \"%s\": copy complete", t->out.label);
	}
	return rc;
}

int
synch_stream_finish(struct synch_run *run)
{
	if (run->tar == NULL)
		return 0;
	if (add_wal(run) != 0 || add_history(run) != 0 || add_config(run) != 0 ||
	    pitr_tarwrite_finish(run->tar) != 0 || pitr_codec_writer_finish(run->writer) != 0) {
		synch_stream_abort(run);
		return -1;
	}
	return wait_all(run);
}

void
synch_stream_abort(struct synch_run *run)
{
	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (t->started && !t->failed) {
			t->failed = true;
			pitr_sigclean_remove_pid(t->sp.pid);
			pitr_spawn_kill(&t->sp);
		}
	}
}
