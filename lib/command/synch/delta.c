/*
 * delta.c - pitr-synch's copies through the real rsync program (-r, and
 * rsync daemon outputs): a data directory or tablespace brought up to date
 * by sending only what differs, single files sent whole, and the marker
 * that makes an output unstartable while it is copied.
 *
 * What "differs" means (the man page says the same): rsync
 * --ignore-times, so no file is skipped on its size and modification time
 * (a page rewritten within the timestamp's granularity, a diverged old
 * primary's file of equal size and time): every file goes through rsync's
 * delta algorithm, which compares it block by block (8 KiB, a page) by a
 * rolling and a strong checksum and then verifies the whole file's
 * checksum (xxh128 from rsync 3.2.3, MD5 before), sending again what fails
 * it.  That reads each file once at each end; --checksum would read every
 * file whole at both ends first and a changed one a second time (a re-sync
 * after 1% of pgbench_accounts changed took 1.5 x as long with it).  The
 * delta algorithm runs even to a local output (--no-whole-file) and the
 * file is
 * written in place (--inplace), so only the blocks that differ cross the
 * link and a local output is written only where it differs.  Writing in
 * place is safe because global/pg_control is removed before (begin) and
 * put back after everything else (finish): a copy interrupted half way
 * cannot be started.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/synch/delta_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "dest/dest.h"
#include "postgres/pgdata.h"

/*
 * rsync's block for the delta algorithm: a PostgreSQL page.  rsync's own
 * choice is about the square root of the file's size (32 KiB for a 1 GiB
 * segment), which sends four pages for one changed page; 8 KiB sends that
 * page alone, for some more checksums coming back (see bench/synch).
 */
#define DELTA_BLOCK_SIZE 8192

/*
 * The base backup exclusions as rsync filter rules.  "H" hides a name from
 * the sender, so --delete removes it at the output too (rsync's
 * --delete-excluded, spelled out); "P" protects a name at the output from
 * deletion.  A rule without a leading slash matches at any depth, as
 * basebackup.c's names do (in tablespaces too: pgsql_tmp).
 */
static void
add_name_filters(struct delta_cmd *c)
{
	for (const char *const *n = pitr_pgdata_exclude_dir_contents; *n != NULL; n++)
		delta_cmd_addf(c, "--filter=H %s/*", *n);
	for (const char *const *n = pitr_pgdata_exclude_files; *n != NULL; n++)
		delta_cmd_addf(c, "--filter=H %s", *n);
	for (const char *const *n = pitr_pgdata_exclude_file_prefixes; *n != NULL; n++)
		delta_cmd_addf(c, "--filter=H %s*", *n);
}

/* The data directory's own: pg_wal is copied by empty_wal() instead (it
 * may be a link at either end); pg_control and the tablespace links are
 * the caller's.  The output's postmaster.pid is never removed nor
 * written: a server may hold it (only a stale one gets this far). */
static void
add_pgdata_filters(struct delta_cmd *c)
{
	delta_cmd_add(c, "--filter=P /postmaster.pid");
	delta_cmd_add(c, "--filter=H /global/pg_control");
	delta_cmd_add(c, "--filter=P /global/pg_control");
	delta_cmd_add(c, "--filter=H /pg_tblspc/*");
	delta_cmd_add(c, "--filter=P /pg_tblspc/*");
	delta_cmd_addf(c, "--filter=H /%s", PITR_PGDATA_WAL_DIR);
	delta_cmd_addf(c, "--filter=P /%s", PITR_PGDATA_WAL_DIR);
}

/* The names the output keeps (its own configuration, the marker): neither
 * sent nor removed. */
static void
add_keep_filters(struct delta_cmd *c, const char *const *keep, size_t nkeep)
{
	delta_cmd_addf(c, "--filter=H /%s", SYNCH_IN_PROGRESS);
	delta_cmd_addf(c, "--filter=P /%s", SYNCH_IN_PROGRESS);
	for (size_t i = 0; i < nkeep; i++) {
		delta_cmd_addf(c, "--filter=H /%s", keep[i]);
		delta_cmd_addf(c, "--filter=P /%s", keep[i]);
	}
}

/* One error line for a failed rsync run at `dir` of `out`. */
static void
log_failure(const char *what, const char *dir, const struct synch_output *out,
	    const struct delta_result *r)
{
	char how[64];

	delta_status_text(r, how, sizeof(how));
	pitr_log_error("could not %s \"%s\" at output \"%s\": %s%s", what, dir, out->label, how,
		       r->reason);
}

/* Run `c` (freed) and report a failure as `what` at `dir`.  Returns 0 or
 * -1 (logged); *sent (may be NULL) grows by the bytes sent. */
static int
run_logged(const struct synch_delta_env *env, struct delta_cmd *c, const char *what,
	   const char *dir, const struct synch_output *out, uint64_t *sent)
{
	struct delta_result r;
	int rc = delta_run(env, c, &r);

	delta_cmd_free(c);
	if (rc == 1)
		log_failure(what, dir, out, &r);
	if (rc == 0) {
		pitr_log_verbose("rsync to \"%s\" at output \"%s\": %" PRIu64 " files updated, %" PRIu64
				 " bytes sent as they are, %" PRIu64 " bytes found there, %" PRIu64
				 " bytes sent in all", dir, out->label, r.files, r.literal, r.matched,
				 r.sent);
		if (sent != NULL)
			*sent += r.sent;
	}
	delta_result_free(&r);
	return rc == 0 ? 0 : -1;
}

/* A local output written by an rsync without --fsync: everything to disk
 * (syncfs: the whole file system, once, after the tree). */
static int
sync_local(const struct synch_delta_env *env, const struct synch_output *out, const char *dir)
{
	int fd;

	if (out->kind != SYNCH_OUT_LOCAL || delta_rsync_fsync(env))
		return 0;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) != 0) {
		pitr_log_error("could not sync \"%s\": %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* An empty staging directory with the mode of the source's pg_wal (0700,
 * or 0750 with group access), for empty_wal(). */
static int
wal_template(const struct synch_delta_env *env, const char *src_dir, struct pitr_tmp *stage)
{
	char *src_wal = pitr_fsutil_join(src_dir, PITR_PGDATA_WAL_DIR);
	struct stat st;
	mode_t mode = 0700;
	int rc = -1;

	if (src_wal == NULL)
		return -1;
	if (stat(src_wal, &st) == 0 && S_ISDIR(st.st_mode))
		mode = st.st_mode & 0777;
	if (delta_stage_make(env, stage, "synch-wal") != 0)
		goto out;
	if (chmod(stage->path, mode) != 0) {
		pitr_log_error("could not change the mode of \"%s\": %s", stage->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(src_wal);
	return rc;
}

/* `sub` of `dst_dir` at the output made exactly the (empty) staging dir
 * `from`, but for the names `keep` protects (NULL: none). */
static int
empty_dir_at(const struct synch_delta_env *env, const struct synch_output *out,
	     const char *from, const char *dst_dir, const char *sub, const char *keep,
	     uint64_t *sent)
{
	struct delta_cmd c;
	char *to = delta_location(out, dst_dir, sub);
	int rc = -1;

	if (to == NULL || delta_cmd_init(&c, env, out) != 0) {
		free(to);
		return -1;
	}
	delta_cmd_add(&c, "--recursive");
	delta_cmd_add(&c, "--perms");
	delta_cmd_add(&c, "--delete");
	delta_cmd_add(&c, "--stats");
	if (keep != NULL)
		delta_cmd_addf(&c, "--filter=P /%s", keep);
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, from);
	delta_cmd_add(&c, to);
	rc = run_logged(env, &c, "empty pg_wal of", dst_dir, out, sent);
	free(to);
	return rc;
}

/* pg_wal at the output emptied but for an empty archive_status: the old
 * segments (a diverged timeline's, maybe) must not be replayed.  The
 * output's pg_wal stays the directory or the link it is.  Two rsync runs
 * from one empty staging dir (staging dirs stay flat: tmpfile.h's sweep
 * removes files only): pg_wal without archive_status, then
 * archive_status. */
static int
empty_wal(const struct synch_delta_env *env, const struct synch_output *out, const char *src_dir,
	  const char *dst_dir, uint64_t *sent)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	char *from = NULL;
	int rc = -1;

	if (wal_template(env, src_dir, &stage) != 0 || (from = pitr_xasprintf("%s/", stage.path)) == NULL)
		goto out;
	rc = empty_dir_at(env, out, from, dst_dir, PITR_PGDATA_WAL_DIR, "archive_status", sent);
	if (rc == 0)
		rc = empty_dir_at(env, out, from, dst_dir, PITR_PGDATA_WAL_DIR "/archive_status", NULL,
				  sent);
out:
	free(from);
	delta_stage_remove(&stage);
	return rc;
}

/* The options of a tree's comparison and update (see the top comment). */
static void
add_tree_options(struct delta_cmd *c, const struct synch_delta_env *env)
{
	static const char *const opts[] = {
		"--recursive", "--links", "--perms", "--times", "--group", "--owner",
		"--ignore-times", "--inplace", "--no-whole-file", "--delete", "--stats",
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		delta_cmd_add(c, opts[i]);
	delta_cmd_addf(c, "--block-size=%d", DELTA_BLOCK_SIZE);
	if (delta_rsync_fsync(env))
		delta_cmd_add(c, "--fsync");
}

/* A tablespace's: only its version directory `only` is sent, and
 * anything else at the top of the place is neither sent nor removed, so
 * --delete acts only inside the directory pitr-synch owns there.  These
 * rules come first: the first rule that matches a name decides. */
static void
add_only_filters(struct delta_cmd *c, const char *only)
{
	if (only == NULL)
		return;
	delta_cmd_addf(c, "--filter=+ /%s/", only);
	delta_cmd_add(c, "--filter=- /*");
}

static int
tree(const struct synch_delta_env *env, const struct synch_output *out, const char *src_dir,
     const char *dst_dir, bool pgdata, const char *only, const char *const *keep, size_t nkeep,
     uint64_t *sent)
{
	struct delta_cmd c;
	char *from = pitr_xasprintf("%s/", src_dir), *to = delta_location(out, dst_dir, NULL);
	uint64_t total = 0;
	int rc = -1;

	if (from == NULL || to == NULL || delta_cmd_init(&c, env, out) != 0)
		goto out;
	add_tree_options(&c, env);
	add_only_filters(&c, only);
	add_keep_filters(&c, keep, nkeep);
	add_name_filters(&c);
	if (pgdata)
		add_pgdata_filters(&c);
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, from);
	delta_cmd_add(&c, to);
	rc = run_logged(env, &c, "bring up to date", dst_dir, out, &total);
	if (rc == 0 && pgdata)
		rc = empty_wal(env, out, src_dir, dst_dir, &total);
	if (rc == 0)
		rc = sync_local(env, out, dst_dir);
	if (sent != NULL)
		*sent = total;
out:
	free(from);
	free(to);
	return rc;
}

int
pitr_synch_delta_tree(const struct synch_delta_env *env, const struct synch_output *out,
		      const char *src_dir, const char *dst_dir, bool pgdata,
		      const char *const *keep, size_t nkeep, uint64_t *sent)
{
	return tree(env, out, src_dir, dst_dir, pgdata, NULL, keep, nkeep, sent);
}

int
pitr_synch_delta_tablespace(const struct synch_delta_env *env, const struct synch_output *out,
			    const char *src_dir, const char *dst_dir, const char *vdir,
			    uint64_t *sent)
{
	return tree(env, out, src_dir, dst_dir, false, vdir, NULL, 0, sent);
}
