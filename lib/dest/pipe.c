/*
 * pipe.c - a program destination (--dst-pipe): the program runs once
 * per file with the file name (extension included) as its only argument and
 * the data on its standard input, read from a staged copy so that the
 * program's speed never holds up the other destinations.  A program that
 * stops reading, or does not end once it has read everything, is stopped
 * after --pipe-timeout seconds without progress (SIGTERM, then SIGKILL),
 * and the delivery fails.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/dest_impl.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/xalloc.h"

struct pipe_priv {
	struct pitr_dest_stage stage;
	struct pitr_spawn child;
	bool running;
	pid_t pid;            /* the child's, for progress() */
	long long read_pos;   /* its stdin's offset when last looked at; -1 unknown */
};

/*
 * Has the program read more of its input since the last look?  Its stdin
 * is the staged file, opened for it alone, so the offset Linux shows in
 * /proc/PID/fdinfo/0 is how far it has read.  Without /proc only the
 * program's end counts.
 */
static bool
progress(void *arg)
{
	struct pipe_priv *pp = arg;
	char path[64], text[256];
	long long pos = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/fdinfo/0", (long)pp->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	if (sscanf(text, "pos: %lld", &pos) != 1 || pos == pp->read_pos)
		return false;
	pp->read_pos = pos;
	return true;
}

static int
pipe_open(struct pitr_dest *d, const char *name)
{
	struct pipe_priv *pp = pitr_xcalloc(1, sizeof(*pp));

	if (pp == NULL)
		return -1;
	pp->child.pid = -1;
	pp->child.stdin_fd = -1;
	d->priv = pp;
	return pitr_dest_stage_open(&pp->stage, d->env, name);
}

static int
pipe_write(struct pitr_dest *d, const void *buf, size_t len)
{
	struct pipe_priv *pp = d->priv;

	return pitr_dest_stage_write(&pp->stage, buf, len);
}

static int
pipe_finish_begin(struct pitr_dest *d)
{
	struct pipe_priv *pp = d->priv;
	char *argv[] = { d->spec.location, d->name, NULL };
	int fd, rc;

	if (pitr_dest_stage_close(&pp->stage) != 0)
		return -1;
	fd = open(pp->stage.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not open \"%s\": %s", pp->stage.path, strerror(errno));
		return -1;
	}
	rc = pitr_spawn_start_redirect(&pp->child, argv, fd, -1, -1);
	close(fd);
	if (rc == 0) {
		pp->running = true;
		pp->pid = pp->child.pid;
		pp->read_pos = -1;
	}
	return rc;
}

static int
pipe_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	struct pipe_priv *pp = d->priv;
	char how[96];
	int status;

	int timeout = d->env->pipe_timeout > 0 ? d->env->pipe_timeout : PITR_DEST_PIPE_TIMEOUT_DEFAULT;
	/* < 0: none (backups, whose program may upload long after its input) */
	long timeout_ms = d->env->pipe_timeout < 0 ? LONG_MAX : timeout * 1000L;
	int rc;

	pp->running = false;
	rc = pitr_spawn_reap_timed(&pp->child, &status, timeout_ms, progress, pp);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		pitr_log_error("pipe destination \"%s\" failed for \"%s\": no progress for %d s "
			       "(--pipe-timeout), stopped", d->spec.location, d->name, timeout);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pitr_spawn_status_text(status, how, sizeof(how));
		pitr_log_error("pipe destination \"%s\" failed for \"%s\": %s", d->spec.location,
			       d->name, how);
		return -1;
	}
	*result = PITR_DEST_DELIVERED;
	return 0;
}

static void
pipe_abort(struct pitr_dest *d)
{
	struct pipe_priv *pp = d->priv;

	if (pp == NULL)
		return;
	if (pp->running)
		pitr_spawn_kill(&pp->child);
	pitr_dest_stage_remove(&pp->stage);
	free(pp);
	d->priv = NULL;
}

const struct pitr_dest_ops pitr_dest_pipe_ops = {
	.kind_name = "pipe",
	.staged = true,
	.open = pipe_open,
	.write = pipe_write,
	.finish_begin = pipe_finish_begin,
	.finish_end = pipe_finish_end,
	.abort = pipe_abort,
	.free = pipe_abort,
};
