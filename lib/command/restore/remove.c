/*
 * remove.c - pitr-restore -r: prune the archive behind the standby.  What
 * may go is decided by -r's SEGMENT (%r) or pg_controldata's REDO WAL
 * file, with -ep saying what a failing pg_controldata means; each pass
 * removes at most -rt files, oldest first, each handed uncompressed to the
 * -h hook first, and none while the -p pause trigger exists.  From an
 * object store the objects are deleted by the same rules (s3arch.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/sigclean.h"
#include "common/spawn.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/controldata.h"
#include "repo/archdir.h"
#include "repo/s3arch.h"

/* While waiting, removal passes follow each other this closely while
 * there is a backlog, and this far apart once there is none: each pass
 * may run pg_controldata and reads the whole archive directory. */
#define REMOVAL_BUSY_MS 1000
#define REMOVAL_IDLE_MS 10000

/* The words are freed with run (pitr_quote_split_free). */
int
pitr_restore_remove_parse_hook(struct restore_run *run, const char *cmd)
{
	run->hook_argv = pitr_quote_split(cmd, "--pre-removal-processing", 1, &run->hook_argc);
	if (run->hook_argv == NULL)
		return -1;
	if (run->hook_argc == 0) {
		pitr_log_error("--pre-removal-processing names no program");
		return -1;
	}
	return 0;
}

/* Learnt before each pass: the REDO file moves as the standby replays. */
enum cutoff_result
pitr_restore_remove_cutoff(struct restore_run *run, struct pitr_wal_name *cutoff)
{
	const struct pitr_restore_opts *opts = run->opts;
	const char *data_dir = opts->data_dir != NULL ? opts->data_dir : ".";
	bool hanging = false;

	if (run->have_fixed_cutoff) {
		*cutoff = run->fixed_cutoff;
		return CUTOFF_OK;
	}
	for (;;) {
		struct pitr_controldata cd;
		int waited;

		if (run->controldata_prog == NULL)
			run->controldata_prog = pitr_controldata_find(opts->pgcontroldata_path, data_dir);
		if (run->controldata_prog != NULL &&
		    pitr_controldata_read(run->controldata_prog, data_dir, &cd) == 0) {
			(void)pitr_wal_parse(cd.redo_wal_file, cutoff);
			if (hanging)
				pitr_log_info("pg_controldata works again: going on");
			return CUTOFF_OK;
		}
		switch (opts->error_pgcontroldata) {
		case PITR_RESTORE_EP_BREAK:
			pitr_log_info("not restoring \"%s\": pg_controldata failed, so the files to "
				      "remove are unknown (--error-pgcontroldata break)", opts->wal_name);
			return CUTOFF_FAIL;
		case PITR_RESTORE_EP_IGNORE:
			pitr_log_info("pg_controldata failed: no removal in this call "
				      "(--error-pgcontroldata ignore)");
			run->removal_done = true;
			return CUTOFF_SKIP;
		case PITR_RESTORE_EP_HANG:
			break;
		}
		if (!hanging)
			pitr_log_info("pg_controldata failed: waiting until it works again, a finish "
				      "trigger or a signal (--error-pgcontroldata hang)");
		hanging = true;
		waited = pitr_restore_trigger_wait(run, run->hang_retry_ms);
		if (waited < 0) {
			pitr_log_info("interrupted by a signal while waiting for pg_controldata");
			return CUTOFF_FAIL;
		}
		if (waited == FINISH_IMMEDIATE)
			return CUTOFF_FAIL;
		if (waited == FINISH_SMART) {
			run->removal_done = true;
			return CUTOFF_SKIP;
		}
	}
}

/* What the -h hook is called with: the call and the source pruned. */
struct hook_ctx {
	struct restore_run *run;
	size_t source;
};

/* -h: hand the file to the hook, uncompressed, under its WAL name, before
 * it is removed.  The command runs with execvp, never a shell. */
static int
pre_removal_hook(void *ctx, const char *dir, const struct pitr_archdir_entry *entry)
{
	struct hook_ctx *hc = ctx;
	struct restore_run *run = hc->run;
	const char *tmpdir = pitr_fsutil_tmpdir(run->opts->temp_dir);
	char walname[PITR_WAL_NAME_MAX];
	struct restore_file src = { .path = NULL };
	char *copy = NULL;
	uint64_t total;
	int fd = -1, slot = -1;
	int rc = -1;

	(void)dir;
	if (run->hook_argv == NULL)
		return 0;
	if (run->hook_dir == NULL) {
		/* What killed calls left in -t goes first; this call's
		 * directory is locked while it lives (tmpfile.h). */
		if (access(tmpdir, R_OK | W_OK | X_OK) == 0)
			(void)pitr_tmp_sweep(tmpdir, false);
		if (pitr_tmp_mkdir(&run->hook_tmp, tmpdir, "restore") != 0)
			goto out;
		run->hook_dir = run->hook_tmp.path;
	}
	pitr_wal_format(walname, &entry->name);
	if (pitr_restore_file_of_entry(run, hc->source, entry, &src) != 0 ||
	    (copy = pitr_fsutil_join(run->hook_dir, walname)) == NULL)
		goto out;
	fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pitr_log_error("could not create \"%s\": %s", copy, strerror(errno));
		goto out;
	}
	/* A fatal signal empties the directory before removing it. */
	slot = pitr_sigclean_add_path(copy, false);
	if (pitr_restore_handover_decompress(run, &src, fd, copy, NULL, NULL, &total) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		pitr_log_error("could not write \"%s\": %s", copy, strerror(errno));
		goto out;
	}
	fd = -1;
	run->hook_argv[run->hook_argc] = copy;
	if (pitr_spawn_run(run->hook_argv) != 0) {
		run->hook_argv[run->hook_argc] = NULL;
		goto out;
	}
	run->hook_argv[run->hook_argc] = NULL;
	pitr_log_verbose("--pre-removal-processing done for \"%s\"", src.path);
	rc = 0;
out:
	if (rc != 0 && src.path != NULL)
		pitr_log_info("removal of \"%s\" and newer files postponed", src.path);
	if (fd >= 0)
		close(fd);
	if (copy != NULL)
		unlink(copy);
	pitr_sigclean_remove(slot);
	free(copy);
	pitr_restore_file_free(&src);
	return rc;
}

/* With several sources, only those that record their cluster (the one
 * the others record too: sources.c) are pruned: a source of unknown
 * origin, a long-term archive given as a second -s for instance, loses
 * nothing by name alone.  A single source is pruned as OmniPITR's was. */
static bool
prunable(struct restore_run *run, size_t i)
{
	uint64_t sysid;

	if (run->nsources == 1 || pitr_restore_source_sysid(run, i, &sysid) == 0)
		return true;
	if (!run->unpruned_logged)
		pitr_log_verbose("source \"%s\" records no system identifier: nothing is removed from "
				 "it (-r prunes, of several sources, those of this cluster only)",
				 run->sources[i].spec.location);
	run->unpruned_logged = true;
	return false;
}

/* Remove at most -rt files older than `cutoff` from source `i`, a
 * directory or an object store, each through the -h hook first. */
static size_t
remove_from(struct restore_run *run, size_t i, const struct pitr_wal_name *cutoff)
{
	const struct restore_source *s = &run->sources[i];
	struct hook_ctx hc = { .run = run, .source = i };
	struct pitr_s3 *s3;
	size_t n = 0;

	if (s->url.bucket == NULL)
		(void)pitr_archdir_remove_older(s->spec.location, cutoff, run->remove_at_a_time,
						pre_removal_hook, &hc, &n);
	else if ((s3 = pitr_restore_source_s3(run, i)) != NULL)
		(void)pitr_s3arch_remove_older(s3, s->url.prefix, cutoff, run->remove_at_a_time,
					       pre_removal_hook, &hc, &n);
	return n;
}

size_t
pitr_restore_remove_pass(struct restore_run *run, const struct pitr_wal_name *cutoff)
{
	const char *pause = run->opts->removal_pause_trigger;
	char cutname[PITR_WAL_NAME_MAX];
	size_t removed = 0;

	if (pause != NULL && access(pause, F_OK) == 0) {
		if (!run->pause_logged)
			pitr_log_verbose("removal pause trigger \"%s\" exists: not removing anything",
					 pause);
		run->pause_logged = true;
		return 0;
	}
	/* Every source is pruned, each by up to -rt files a pass: a standby
	 * fed from several hosts' archives keeps none of them growing. */
	pitr_wal_format(cutname, cutoff);
	for (size_t i = 0; i < run->nsources; i++) {
		size_t n;

		if (!prunable(run, i))
			continue;
		n = remove_from(run, i, cutoff);
		if (n > 0)
			pitr_log_info("removed %zu file%s older than \"%s\" from \"%s\"", n,
				      n == 1 ? "" : "s", cutname, run->sources[i].spec.location);
		if (n > removed)
			removed = n;
	}
	return removed;
}

int
pitr_restore_remove_while_waiting(struct restore_run *run)
{
	struct pitr_wal_name cutoff;
	size_t removed;

	if (!run->opts->remove_unneeded || run->removal_done || pitr_clock_ms() < run->next_removal_ms)
		return 0;
	switch (pitr_restore_remove_cutoff(run, &cutoff)) {
	case CUTOFF_FAIL:
		return -1;
	case CUTOFF_SKIP:
		return 0;
	case CUTOFF_OK:
		break;
	}
	removed = pitr_restore_remove_pass(run, &cutoff);
	/* A fixed cutoff cannot move: once a pass leaves nothing behind,
	 * nothing more will become removable in this call. */
	if (removed < run->remove_at_a_time && run->have_fixed_cutoff)
		run->removal_done = true;
	run->next_removal_ms = pitr_clock_ms() + (removed == run->remove_at_a_time ? REMOVAL_BUSY_MS
									       : REMOVAL_IDLE_MS);
	return 0;
}
