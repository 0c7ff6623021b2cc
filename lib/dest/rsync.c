/*
 * rsync.c - a remote destination, delivered by the real rsync program
 * (daemon URL or remote shell), from a staged copy.
 *
 * rsync writes to a temporary name and renames, so a reader of the remote
 * archive never sees a partial file; --fsync (where the installed rsync has
 * it) makes the rename durable there too.  --ignore-existing means an
 * existing remote file is never replaced; when rsync reports that it sent
 * nothing, a second, dry-run comparison by checksum tells an identical file
 * (delivered) from a different one (an error).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/dest_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/sigclean.h"
#include "common/spawn.h"
#include "common/xalloc.h"

#define RSYNC_ARGV_MAX 16

struct rsync_priv {
	struct pitr_dest_stage stage;
	struct pitr_spawn child;
	char *out_path;       /* rsync's itemized output */
	char *err_path;       /* rsync's messages, quoted in our error line */
	int out_fd;
	int err_fd;
	int out_slot;         /* sigclean slots of the two, or -1 */
	int err_slot;
	bool running;
};

/* Asked once per process, since archive_command runs once per file
 * anyway. */
bool
pitr_dest_rsync_has_fsync(const char *rsync)
{
	static int known = -1;
	static char help[1 << 16];
	char *argv[] = { (char *)rsync, "--help", NULL };

	if (known < 0) {
		known = 0;
		if (pitr_spawn_capture(argv, help, sizeof(help)) >= 0 && strstr(help, "--fsync") != NULL)
			known = 1;
	}
	return known == 1;
}

static const char *
rsync_program(const struct pitr_dest *d)
{
	return d->env->rsync_path != NULL && *d->env->rsync_path != '\0' ? d->env->rsync_path : "rsync";
}

/* rsync's exit statuses for an I/O timeout and a daemon connection timeout. */
#define RSYNC_EXIT_TIMEOUT 30
#define RSYNC_EXIT_CONTIMEOUT 35

/* The seconds a hung peer is given. */
static int
rsync_timeout(const struct pitr_dest *d)
{
	return d->env->rsync_timeout > 0 ? d->env->rsync_timeout : PITR_DEST_RSYNC_TIMEOUT_DEFAULT;
}

/* Build rsync's argument vector into argv (RSYNC_ARGV_MAX entries);
 * strings for the timeouts live in `tbuf`. */
static void
build_argv(const struct pitr_dest *d, const char *src, bool compare_only, char *argv[],
	   char tbuf[2][48])
{
	int timeout = rsync_timeout(d);
	int argc = 0;

	argv[argc++] = (char *)rsync_program(d);
	argv[argc++] = "--itemize-changes";
	if (compare_only) {
		argv[argc++] = "--dry-run";
		argv[argc++] = "--checksum";
	} else {
		argv[argc++] = "--ignore-existing";
		if (pitr_dest_rsync_has_fsync(rsync_program(d)))
			argv[argc++] = "--fsync";
	}
	/* rsync starts the I/O clock of a silent peer at its first check, half
	 * a --timeout in, and so gives up after one and a half of it (90 s for
	 * 60); two thirds of ours makes a hung peer cost `timeout` in all. */
	snprintf(tbuf[0], sizeof(tbuf[0]), "--timeout=%d", timeout >= 3 ? timeout * 2 / 3 : 1);
	argv[argc++] = tbuf[0];
	if (strncmp(d->spec.location, "rsync://", 8) == 0) {
		snprintf(tbuf[1], sizeof(tbuf[1]), "--contimeout=%d", timeout);
		argv[argc++] = tbuf[1];
	}
	argv[argc++] = "--";
	argv[argc++] = (char *)src;
	argv[argc++] = d->spec.location;
	argv[argc] = NULL;
}

static int
rsync_open(struct pitr_dest *d, const char *name)
{
	struct rsync_priv *rp = pitr_xcalloc(1, sizeof(*rp));

	if (rp == NULL)
		return -1;
	rp->out_fd = -1;
	rp->err_fd = -1;
	rp->out_slot = rp->err_slot = -1;
	rp->child.pid = -1;
	rp->child.stdin_fd = -1;
	d->priv = rp;
	return pitr_dest_stage_open(&rp->stage, d->env, name);
}

static int
rsync_write(struct pitr_dest *d, const void *buf, size_t len)
{
	struct rsync_priv *rp = d->priv;

	return pitr_dest_stage_write(&rp->stage, buf, len);
}

/* (Re)create a capture file `name` in the staging dir. */
static int
open_capture(const struct rsync_priv *rp, const char *name, char **path, int *fd, int *slot)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (*path == NULL) {
		*path = pitr_fsutil_join(rp->stage.dir, name);
		if (*path == NULL)
			return -1;
		/* A fatal signal empties the staging dir before removing it. */
		*slot = pitr_sigclean_add_path(*path, false);
	}
	*fd = open(*path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (*fd < 0) {
		pitr_log_error("could not create \"%s\": %s", *path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Start rsync with its stdout and stderr in fresh files of the staging
 * dir. */
static int
start_rsync(struct pitr_dest *d, bool compare_only)
{
	struct rsync_priv *rp = d->priv;
	char *argv[RSYNC_ARGV_MAX];
	char tbuf[2][48];

	if (open_capture(rp, ".rsync-output", &rp->out_path, &rp->out_fd, &rp->out_slot) != 0 ||
	    open_capture(rp, ".rsync-errors", &rp->err_path, &rp->err_fd, &rp->err_slot) != 0)
		return -1;
	build_argv(d, rp->stage.path, compare_only, argv, tbuf);
	if (pitr_spawn_start_redirect(&rp->child, argv, -1, rp->out_fd, rp->err_fd) != 0)
		return -1;
	rp->running = true;
	return 0;
}

void
pitr_dest_rsync_reason(const char *err_path, char *buf, size_t size)
{
	size_t len;
	char *text = pitr_fsutil_read_small(err_path, 1 << 16, &len);
	char *line, *save = NULL, *chosen = NULL;

	buf[0] = '\0';
	if (text == NULL)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "rsync: ", 7) == 0) {
			chosen = line + 7;
			break;
		}
		/* A daemon's refusal ("@ERROR: Unknown module 'x'"). */
		if (strncmp(line, "@ERROR: ", 8) == 0) {
			chosen = line + 8;
			break;
		}
		chosen = line;
	}
	if (chosen != NULL)
		snprintf(buf, size, ": %s", chosen);
	free(text);
}

static int
rsync_finish_begin(struct pitr_dest *d)
{
	struct rsync_priv *rp = d->priv;

	if (pitr_dest_stage_close(&rp->stage) != 0)
		return -1;
	return start_rsync(d, false);
}

/* Wait for rsync; 1 if it itemized a transfer of our file, 0 if it sent
 * nothing, -1 if it failed (logged). */
static int
wait_rsync(struct pitr_dest *d)
{
	struct rsync_priv *rp = d->priv;
	char *out;
	size_t len;
	int sent, status;

	rp->running = false;
	if (pitr_spawn_reap(&rp->child, &status) != 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char how[96], why[512];

		pitr_spawn_status_text(status, how, sizeof(how));
		if (WIFEXITED(status) && (WEXITSTATUS(status) == RSYNC_EXIT_TIMEOUT ||
					  WEXITSTATUS(status) == RSYNC_EXIT_CONTIMEOUT))
			/* rsync would name its own (two-thirds) --timeout. */
			snprintf(why, sizeof(why), ": the peer did not answer within --rsync-timeout "
				 "(%d seconds)", rsync_timeout(d));
		else
			pitr_dest_rsync_reason(rp->err_path, why, sizeof(why));
		pitr_log_error("could not deliver \"%s\" to remote destination \"%s\": rsync %s%s",
			       d->name, d->spec.location, how, why);
		return -1;
	}
	out = pitr_fsutil_read_small(rp->out_path, 1 << 20, &len);
	if (out == NULL) {
		if (errno == ENOENT)
			pitr_log_error("could not read \"%s\": %s", rp->out_path, strerror(errno));
		return -1;
	}
	/* An itemized line is "<f" + change flags + " " + name: "<f+++++++++ x"
	 * for a new file, "<fc..." when the content differs. */
	sent = strstr(out, "<f") != NULL ? 1 : 0;
	free(out);
	return sent;
}

static int
rsync_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	int sent = wait_rsync(d);

	if (sent < 0)
		return -1;
	if (sent == 1) {
		*result = PITR_DEST_DELIVERED;
		return 0;
	}
	/* Nothing was sent: the remote already had that name. */
	if (start_rsync(d, true) != 0)
		return -1;
	sent = wait_rsync(d);
	if (sent < 0)
		return -1;
	if (sent == 1) {
		pitr_log_error("\"%s\" already exists at remote destination \"%s\" with different "
			       "content: not overwritten", d->name, d->spec.location);
		return -1;
	}
	*result = PITR_DEST_ALREADY;
	return 0;
}

static void
rsync_abort(struct pitr_dest *d)
{
	struct rsync_priv *rp = d->priv;

	if (rp == NULL)
		return;
	if (rp->running)
		pitr_spawn_kill(&rp->child);
	if (rp->out_fd >= 0)
		close(rp->out_fd);
	if (rp->out_path != NULL)
		unlink(rp->out_path);
	pitr_sigclean_remove(rp->out_slot);
	free(rp->out_path);
	if (rp->err_fd >= 0)
		close(rp->err_fd);
	if (rp->err_path != NULL)
		unlink(rp->err_path);
	pitr_sigclean_remove(rp->err_slot);
	free(rp->err_path);
	pitr_dest_stage_remove(&rp->stage);
	free(rp);
	d->priv = NULL;
}

const struct pitr_dest_ops pitr_dest_rsync_ops = {
	.kind_name = "remote",
	.staged = true,
	.open = rsync_open,
	.write = rsync_write,
	.finish_begin = rsync_finish_begin,
	.finish_end = rsync_finish_end,
	.abort = rsync_abort,
	.free = rsync_abort,
};
