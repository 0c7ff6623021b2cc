/*
 * fetch.c - a found file's compressed bytes as a descriptor the codec's
 * reader reads (handover.c): a file is opened; an object's GET runs in a
 * thread that writes what arrives into a pipe, so that the download, the
 * decompression and the write of %p overlap and a segment never waits
 * whole in memory or on disk in its compressed form.
 *
 * The thread blocks every signal (they reach the main thread, whose
 * handlers know the call's state) and so gets EPIPE, not SIGPIPE, when the
 * reader stops early: its sink then fails quietly, and the GET with it
 * (s3.h: a sink's -1 ends the GET without a line of its own).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "command/restore/restore_impl.h"
#include "common/io.h"
#include "common/log.h"

/* A pipe this large holds a few of libcurl's writes while the reader is
 * busy decompressing (best effort: the default 64 KiB works too). */
#define FETCH_PIPE_SIZE (1 << 20)

static int
pipe_sink(void *ctx, const void *buf, size_t len)
{
	struct restore_fetch *fx = ctx;

	if (pitr_io_write_all(fx->wfd, buf, len) == 0)
		return 0;
	/* EPIPE: the reader stopped and said why. */
	if (errno != EPIPE)
		pitr_log_error("could not pass the bytes of an object on: %s", strerror(errno));
	return -1;
}

static void *
get_thread(void *arg)
{
	struct restore_fetch *fx = arg;

	fx->get_rc = pitr_s3_get(fx->s3, fx->key, pipe_sink, fx, NULL);
	close(fx->wfd);
	fx->wfd = -1;
	return NULL;
}

/* Start the GET of `src` into a new pipe. */
static int
open_object(struct restore_run *run, const struct restore_file *src, struct restore_fetch *fx)
{
	sigset_t all, old;
	int fds[2];
	int err;

	if ((fx->s3 = pitr_restore_source_s3(run, src->source)) == NULL)
		return -1;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		pitr_log_error("could not create a pipe: %s", strerror(errno));
		return -1;
	}
	(void)fcntl(fds[1], F_SETPIPE_SZ, FETCH_PIPE_SIZE);
	fx->fd = fds[0];
	fx->wfd = fds[1];
	fx->key = src->key;
	/* The thread inherits the mask: no instant where it could take a
	 * signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&fx->thread, NULL, get_thread, fx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		pitr_log_error("could not start a thread to read \"%s\": %s", src->path,
			       strerror(err));
		close(fds[0]);
		close(fds[1]);
		fx->fd = fx->wfd = -1;
		return -1;
	}
	fx->threaded = true;
	return 0;
}

int
pitr_restore_fetch_open(struct restore_run *run, const struct restore_file *src,
			struct restore_fetch *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->fd = fx->wfd = -1;
	if (src->key != NULL)
		return open_object(run, src, fx);
	fx->fd = open(src->path, O_RDONLY | O_CLOEXEC);
	if (fx->fd < 0) {
		pitr_log_error("could not open \"%s\": %s", src->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
pitr_restore_fetch_close(struct restore_fetch *fx)
{
	int rc = 0;

	if (fx->fd >= 0)
		close(fx->fd);
	fx->fd = -1;
	if (fx->threaded) {
		(void)pthread_join(fx->thread, NULL);
		fx->threaded = false;
		rc = fx->get_rc;
	}
	return rc;
}
