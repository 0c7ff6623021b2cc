/*
 * delta_mark.c - single files at an output through rsync (backup_label,
 * WAL segments, global/pg_control), and the in-progress marker that keeps
 * an output unstartable from the start of a copy to its end.
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

#define PG_CONTROL "global/pg_control"

/* fsync a local file and its directory (the rsync without --fsync). */
static int
sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *dir, *slash;
	int rc;

	if (fd < 0 || fsync(fd) != 0) {
		pitr_log_error("could not sync \"%s\": %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if ((dir = pitr_xstrdup(path)) == NULL)
		return -1;
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	rc = pitr_fsutil_fsync_dir(slash != NULL && *dir != '\0' ? dir : "/");
	free(dir);
	return rc;
}

static int
sync_local_files(const struct synch_delta_env *env, const char *dir, const char *const *names,
		 size_t n)
{
	if (delta_rsync_fsync(env))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *path = pitr_fsutil_join(dir, names[i]);
		int rc = path != NULL ? sync_file(path) : -1;

		free(path);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Each file is written under a temporary name and renamed (rsync's
 * default): complete under its name or not there; a link is sent as a
 * link.  --relative keeps the
 * names' directory part; --no-implied-dirs and --keep-dirlinks leave the
 * output's directories (pg_wal as a link) as they are. */
int
delta_send_files(const struct synch_delta_env *env, const struct synch_output *out,
		 const char *dir, const char *src_dir, const char *const *names, size_t n)
{
	struct delta_cmd c;
	struct delta_result r;
	char *to = delta_location(out, dir, NULL);
	int rc = -1;

	if (to == NULL || delta_cmd_init(&c, env, out) != 0) {
		free(to);
		return -1;
	}
	delta_cmd_add(&c, "--relative");
	delta_cmd_add(&c, "--no-implied-dirs");
	delta_cmd_add(&c, "--keep-dirlinks");
	delta_cmd_add(&c, "--links");
	delta_cmd_add(&c, "--perms");
	delta_cmd_add(&c, "--times");
	delta_cmd_add(&c, "--checksum");
	delta_cmd_add(&c, "--stats");
	if (delta_rsync_fsync(env))
		delta_cmd_add(&c, "--fsync");
	delta_cmd_add(&c, "--");
	for (size_t i = 0; i < n; i++)
		delta_cmd_addf(&c, "%s/./%s", src_dir, names[i]);
	delta_cmd_add(&c, to);
	rc = delta_run(env, &c, &r);
	if (rc == 1) {
		char how[64];

		delta_status_text(&r, how, sizeof(how));
		pitr_log_error("could not send %zu file%s (\"%s\"%s) to \"%s\" at output \"%s\": %s%s",
			       n, n == 1 ? "" : "s", names[0], n > 1 ? ", ..." : "", dir, out->label,
			       how, r.reason);
	}
	if (rc == 0)
		pitr_log_verbose("rsync to \"%s\" at output \"%s\": %zu file%s (\"%s\"%s), %" PRIu64
				 " bytes sent in all", dir, out->label, n, n == 1 ? "" : "s", names[0],
				 n > 1 ? ", ..." : "", r.sent);
	/* A file that vanished is not sent: an error for the files we name. */
	if (rc == 0 && r.status != 0) {
		pitr_log_error("could not send \"%s\" to output \"%s\": it vanished at the source",
			       names[0], out->label);
		rc = -1;
	}
	delta_result_free(&r);
	delta_cmd_free(&c);
	free(to);
	if (rc == 0 && out->kind == SYNCH_OUT_LOCAL)
		rc = sync_local_files(env, dir, names, n);
	return rc == 0 ? 0 : -1;
}

int
pitr_synch_delta_files(const struct synch_delta_env *env, const struct synch_output *out,
		       const char *src_dir, const char *const *names, size_t nnames)
{
	if (nnames == 0)
		return 0;
	return delta_send_files(env, out, out->path, src_dir, names, nnames);
}

static void
log_remove_failure(const char *rel, const struct synch_output *out, const struct delta_result *r)
{
	char how[64];

	delta_status_text(r, how, sizeof(how));
	pitr_log_error("could not remove \"%s\" at output \"%s\": %s%s", rel, out->label, how,
		       r->reason);
}

/* Remove `rel` (relative to the output's data dir: "global/pg_control")
 * at a remote output: an rsync --delete from an empty staging dir into
 * the name's directory, filtered to that one name (everything else there
 * is excluded, and so protected).  Staging dirs stay flat (tmpfile.h's
 * sweep removes files only).  A name already missing is no error.
 * Returns 0 or -1 (logged). */
static int
remote_remove(const struct synch_delta_env *env, const struct synch_output *out, const char *rel)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	const char *slash = strrchr(rel, '/');
	char *parent = slash != NULL ? pitr_xstrndup(rel, (size_t)(slash - rel)) : NULL;
	struct delta_cmd c;
	struct delta_result r;
	char *from = NULL, *to = NULL;
	int rc = -1;

	if ((slash != NULL && parent == NULL) || delta_stage_make(env, &stage, "synch-remove") != 0 ||
	    (from = pitr_xasprintf("%s/", stage.path)) == NULL ||
	    (to = delta_location(out, out->path, parent)) == NULL || delta_cmd_init(&c, env, out) != 0)
		goto out;
	/* No --perms nor --times: the output's directory keeps its own. */
	delta_cmd_add(&c, "--recursive");
	delta_cmd_add(&c, "--delete");
	delta_cmd_addf(&c, "--filter=+ /%s", slash != NULL ? slash + 1 : rel);
	delta_cmd_add(&c, "--filter=- *");
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, from);
	delta_cmd_add(&c, to);
	rc = delta_run(env, &c, &r);
	if (rc == 1)
		log_remove_failure(rel, out, &r);
	delta_result_free(&r);
	delta_cmd_free(&c);
out:
	free(parent);
	free(from);
	free(to);
	delta_stage_remove(&stage);
	return rc == 0 ? 0 : -1;
}

/* Remove `rel` at a local output, durably; a missing name is no error. */
static int
local_remove(const struct synch_output *out, const char *rel)
{
	char *path = pitr_fsutil_join(out->path, rel), *dir = NULL;
	int rc = -1;

	if (path == NULL)
		return -1;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			rc = 0;
		else
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if ((dir = pitr_xstrdup(path)) == NULL)
		goto out;
	*strrchr(dir, '/') = '\0';
	rc = pitr_fsutil_fsync_dir(dir);
out:
	free(path);
	free(dir);
	return rc;
}

static int
remove_at(const struct synch_delta_env *env, const struct synch_output *out, const char *rel)
{
	return out->kind == SYNCH_OUT_LOCAL ? local_remove(out, rel) : remote_remove(env, out, rel);
}

int
pitr_synch_delta_remove(const struct synch_delta_env *env, const struct synch_output *out,
			const char *rel)
{
	return remove_at(env, out, rel);
}

/* The marker's text, in a staging dir (remote outputs) or in place. */
static int
write_marker(const struct synch_delta_env *env, const struct synch_output *out, uint64_t sysid)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	const char *name = SYNCH_IN_PROGRESS;
	char text[64];
	int rc = -1;

	snprintf(text, sizeof(text), "system identifier %" PRIu64 "\n", sysid);
	if (out->kind == SYNCH_OUT_LOCAL) {
		if (pitr_fsutil_mkdir_p(out->path, 0700) != 0)
			return -1;
		return pitr_fsutil_publish_buffer(out->path, name, text, strlen(text), true, NULL);
	}
	if (delta_stage_make(env, &stage, "synch-mark") == 0 &&
	    pitr_fsutil_publish_buffer(stage.path, name, text, strlen(text), true, NULL) == 0)
		rc = delta_send_files(env, out, out->path, stage.path, &name, 1);
	delta_stage_remove(&stage);
	return rc;
}

int
pitr_synch_delta_begin(const struct synch_delta_env *env, const struct synch_output *out,
		       uint64_t sysid)
{
	if (write_marker(env, out, sysid) != 0 || remove_at(env, out, PG_CONTROL) != 0)
		return -1;
	pitr_log_verbose("output \"%s\": %s written, %s removed until the copy ends", out->label,
			 SYNCH_IN_PROGRESS, PG_CONTROL);
	return 0;
}

int
pitr_synch_delta_finish(const struct synch_delta_env *env, const struct synch_output *out,
			const char *pg_control)
{
	const char *slash = strrchr(pg_control, '/');
	char *dir = slash != NULL ? pitr_xstrndup(pg_control, (size_t)(slash - pg_control)) : NULL;
	char *global = pitr_fsutil_join(out->path, "global");
	const char *name = slash != NULL ? slash + 1 : pg_control;
	int rc = -1;

	if (dir == NULL || global == NULL)
		goto out;
	if (strcmp(name, "pg_control") != 0) {
		pitr_log_error("\"%s\" is not named pg_control", pg_control);
		goto out;
	}
	if (delta_send_files(env, out, global, dir, &name, 1) != 0 ||
	    remove_at(env, out, SYNCH_IN_PROGRESS) != 0)
		goto out;
	pitr_log_verbose("output \"%s\": %s sent, %s removed", out->label, PG_CONTROL,
			 SYNCH_IN_PROGRESS);
	rc = 0;
out:
	free(dir);
	free(global);
	return rc;
}
