/*
 * fetch.c - find a WAL file at a destination of archive_command and, for
 * a remote one, fetch it with the real rsync program (see check_impl.h);
 * an object store's is s3.c's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command/check/check_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/xalloc.h"
#include "repo/archdir.h"

/* rsync, --timeout, --contimeout, -d, -q, --include per codec, --exclude,
 * --, source, target, NULL. */
#define FETCH_ARGV_MAX (10 + PITR_CODEC_COUNT)

/* The rsync command that copies `wal` under every codec's name from the
 * remote directory into `into`; the strings it needs live in `own`
 * (zeroed by the caller, who frees every entry).  0 when one could
 * not be made (logged). */
static size_t
fetch_argv(const struct pitr_dest_spec *spec, const char *wal, const struct check_fetch *fetch,
	   const char *into, char *argv[], char *own[])
{
	size_t argc = 0, nown = 0;

	argv[argc++] = (char *)fetch->rsync;
	argv[argc++] = own[nown++] = pitr_xasprintf("--timeout=%d", fetch->rsync_timeout);
	if (strncmp(spec->location, "rsync://", 8) == 0)
		argv[argc++] = own[nown++] = pitr_xasprintf("--contimeout=%d", fetch->rsync_timeout);
	argv[argc++] = "-d";
	for (int c = 0; c < PITR_CODEC_COUNT; c++)
		argv[argc++] = own[nown++] = pitr_xasprintf("--include=/%s%s", wal,
							    pitr_codec_ext((enum pitr_codec)c));
	argv[argc++] = "--exclude=*";
	argv[argc++] = "--";
	argv[argc++] = spec->location;      /* ends in '/': the directory's contents */
	argv[argc++] = (char *)into;
	argv[argc] = NULL;
	for (size_t own_idx = 0; own_idx < nown; own_idx++)
		if (own[own_idx] == NULL)
			return 0;
	return argc;
}

/* Run rsync for `spec` into `into`; its stderr goes to `err_path`.
 * 0 when it ran to the end, else -1 with rsync's reason in `why`. */
static int
run_rsync(const struct pitr_dest_spec *spec, const char *wal, const struct check_fetch *fetch,
	  const char *into, const char *err_path, char *why, size_t why_size)
{
	char *argv[FETCH_ARGV_MAX], *own[FETCH_ARGV_MAX] = { NULL };
	struct pitr_spawn sp = { .pid = -1, .stdin_fd = -1 };
	int err_fd, status = 0, rc = -1;
	char reason[512];

	if (fetch_argv(spec, wal, fetch, into, argv, own) == 0)
		goto out;
	err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (err_fd < 0) {
		snprintf(why, why_size, "could not create \"%s\": %s", err_path, strerror(errno));
		goto out;
	}
	pitr_log_hold(why, why_size);
	rc = pitr_spawn_start_redirect(&sp, argv, -1, err_fd, err_fd);
	pitr_log_hold(NULL, 0);
	close(err_fd);
	if (rc != 0)
		goto out;
	rc = pitr_spawn_reap_timed(&sp, &status, (long)fetch->rsync_timeout * 1000 + 5000, NULL, NULL);
	if (rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		goto out;
	pitr_spawn_status_text(status, reason, sizeof(reason));
	snprintf(why, why_size, "rsync %s", rc == 1 ? "timed out" : reason);
	pitr_dest_rsync_reason(err_path, reason, sizeof(reason));
	snprintf(why + strlen(why), why_size - strlen(why), "%s", reason);
	rc = -1;
out:
	for (size_t own_idx = 0; own_idx < FETCH_ARGV_MAX; own_idx++)
		free(own[own_idx]);
	return rc;
}

/* A remote destination: fetch into DIR/INDEX/ (emptied first, so an
 * earlier poll's leftovers never count), then look there. */
static int
probe_remote(const struct pitr_dest_spec *spec, size_t index, const char *wal,
	     const struct check_fetch *fetch, char **path, enum pitr_codec *codec, char *why,
	     size_t why_size)
{
	char *into = pitr_xasprintf("%s/%zu/", fetch->dir, index);
	char *err_path = pitr_xasprintf("%s/%zu.err", fetch->dir, index);
	int rc = -1;

	if (into == NULL || err_path == NULL)
		goto out;
	if (pitr_fsutil_remove_tree(into) != 0 || mkdir(into, 0700) != 0) {
		pitr_log_error("could not create \"%s\": %s", into, strerror(errno));
		goto out;
	}
	rc = 0;
	if (run_rsync(spec, wal, fetch, into, err_path, why, why_size) == 0)
		rc = pitr_archdir_find(into, wal, spec->codec, path, codec, NULL);
out:
	free(into);
	free(err_path);
	return rc;
}

int
check_probe(const struct pitr_dest_spec *spec, size_t index, const char *wal,
	    const struct check_fetch *fetch, char **path, enum pitr_codec *codec, char *why,
	    size_t why_size)
{
	const char *dir = pitr_dest_spec_dir(spec);

	why[0] = '\0';
	if (spec->kind == PITR_DEST_S3)
		return check_probe_s3(spec, index, wal, fetch, path, codec);
	if (dir != NULL)
		return pitr_archdir_find(dir, wal, spec->codec, path, codec, NULL);
	return probe_remote(spec, index, wal, fetch, path, codec, why, why_size);
}
