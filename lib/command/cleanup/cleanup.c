/*
 * cleanup.c - pitr-cleanup: remove the archived segments a streaming
 * standby no longer needs (archive_cleanup_command).
 *
 * PostgreSQL runs it at every restartpoint with %r, the oldest file the
 * standby still needs; everything older goes, as pg_archivecleanup would
 * remove it, except that every codec's extension is recognised.  The
 * archive is a directory or one in an object store (s3://BUCKET/PREFIX/,
 * s3arch.h), cleaned by the same rules.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repo/archdir.h"
#include "repo/s3arch.h"
#include "command/cleanup/cleanup.h"
#include "dest/dest.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/tmpfile.h"
#include "postgres/wal.h"
#include "s3/s3.h"

/* Dead runs' temporary files in the archive (tmpfile.h): listed to `out`
 * on a dry run, else removed.  Returns 0 or -1 (logged). */
static int
dead_temps(const char *dir, bool dry_run, FILE *out)
{
	struct pitr_tmp_found *found;
	size_t n;

	if (!dry_run)
		return pitr_tmp_sweep(dir, false) < 0 ? -1 : 0;
	if (pitr_tmp_scan(dir, &found, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\n", found[i].name);
	if (n > 0)
		pitr_log_info("dry run: %zu temporary file%s left by interrupted runs would be removed "
			      "from \"%s\"", n, n == 1 ? "" : "s", dir);
	pitr_tmp_found_free(found, n);
	return 0;
}

/* Write the names of `entries` to `out`, one a line, and say how many a
 * real run would remove from `where`.  Returns 0 or -1 (logged). */
static int
dry_run_list(const struct pitr_archdir_entry *entries, size_t n, FILE *out,
	     const struct pitr_cleanup_opts *opts, const char *where)
{
	for (size_t entry_idx = 0; entry_idx < n; entry_idx++)
		fprintf(out, "%s\n", entries[entry_idx].file);
	if (fflush(out) != 0) {
		pitr_log_error("could not write the list of files: %s", strerror(errno));
		return -1;
	}
	pitr_log_info("dry run: %zu file%s older than \"%s\" would be removed from \"%s\"", n,
		      n == 1 ? "" : "s", opts->segment, where);
	return 0;
}

static void
log_removed(size_t removed, const struct pitr_cleanup_opts *opts, const char *where)
{
	pitr_log_info("removed %zu file%s older than \"%s\" from \"%s\"", removed,
		      removed == 1 ? "" : "s", opts->segment, where);
}

/* A directory: dead runs' temporary files, then the WAL files older than
 * `cutoff`. */
static int
clean_dir(const struct pitr_cleanup_opts *opts, const char *dir,
	  const struct pitr_wal_name *cutoff, FILE *out)
{
	struct pitr_archdir_entry *entries = NULL;
	size_t n = 0, removed = 0;
	int rc;

	if (dead_temps(dir, opts->dry_run, out) != 0)
		return -1;
	if (opts->dry_run) {
		rc = pitr_archdir_list_older(dir, cutoff, &entries, &n);
		if (rc == 0)
			rc = dry_run_list(entries, n, out, opts, dir);
		free(entries);
		return rc;
	}
	rc = pitr_archdir_remove_older(dir, cutoff, 0, NULL, NULL, &removed);
	if (removed > 0 || rc == 0)
		log_removed(removed, opts, dir);
	return rc;
}

/* An object store: the objects older than `cutoff`, by the same rules.
 * Nothing there is temporary (an object appears whole or not at all). */
static int
clean_s3(const struct pitr_cleanup_opts *opts, const char *location,
	 const struct pitr_wal_name *cutoff, FILE *out)
{
	struct pitr_s3_config defaults = { .endpoint = NULL };
	struct pitr_s3_url url = { .bucket = NULL };
	struct pitr_s3_creds creds = { .access_key = NULL };
	struct pitr_archdir_entry *entries = NULL;
	struct pitr_s3 *s3 = NULL;
	bool have_creds = false;
	size_t n = 0, removed = 0;
	int rc = -1;

	if (pitr_s3_url_parse(location, "--archive", &url) != 0)
		goto out;
	if (pitr_s3_creds_load(&creds) != 0)
		goto out;
	have_creds = true;
	s3 = pitr_s3_new(opts->s3 != NULL ? opts->s3 : &defaults, &creds, url.bucket);
	if (s3 == NULL)
		goto out;
	if (opts->dry_run) {
		rc = pitr_s3arch_list_older(s3, url.prefix, cutoff, &entries, &n);
		if (rc == 0)
			rc = dry_run_list(entries, n, out, opts, location);
		goto out;
	}
	rc = pitr_s3arch_remove_older(s3, url.prefix, cutoff, 0, NULL, NULL, &removed);
	if (removed > 0 || rc == 0)
		log_removed(removed, opts, location);
out:
	free(entries);
	pitr_s3_free(s3);
	if (have_creds)
		pitr_s3_creds_free(&creds);
	pitr_s3_url_free(&url);
	return rc;
}

int
pitr_cmd_cleanup(const struct pitr_cleanup_opts *opts)
{
	struct pitr_dest_spec archive = { 0 };
	struct pitr_pidfile *pidfile = NULL;
	struct pitr_wal_name cutoff;
	FILE *out = opts->out != NULL ? opts->out : stdout;
	int rc = -1;

	if (opts->archive == NULL) {
		pitr_log_error("no --archive given: pitr-cleanup needs the archive to clean");
		goto out;
	}
	if (pitr_archdir_parse_cutoff(opts->segment, &cutoff) != 0) {
		pitr_log_error("\"%s\" is not a WAL segment name: archive_cleanup_command must pass "
			       "\"%%r\"", opts->segment != NULL ? opts->segment : "");
		goto out;
	}
	if (pitr_dest_spec_parse(opts->archive, pitr_s3arch_spec_kind(opts->archive), "--archive",
				 &archive) != 0)
		goto out;
	if (opts->pid_file != NULL) {
		pidfile = pitr_pidfile_acquire(opts->pid_file);
		if (pidfile == NULL)
			goto out;
	}
	if (opts->pause_trigger != NULL && access(opts->pause_trigger, F_OK) == 0) {
		pitr_log_info("removal pause trigger \"%s\" exists: not removing anything",
			      opts->pause_trigger);
		rc = 0;
		goto out;
	}
	if (archive.kind == PITR_DEST_S3)
		rc = clean_s3(opts, archive.location, &cutoff, out);
	else
		rc = clean_dir(opts, archive.location, &cutoff, out);
out:
	pitr_pidfile_release(pidfile);
	pitr_dest_spec_free(&archive);
	return rc;
}
