/*
 * pipefeed.c - a descriptor a thread fills (see pipefeed.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pipefeed.h"
#include "common/xalloc.h"

/* A pipe of 1 MiB (Linux's default limit for an unprivileged process)
 * lets the producer run ahead of a reader that decompresses. */
#define PIPEFEED_PIPE_SIZE (1 << 20)

struct pitr_pipefeed {
	pthread_t thread;
	int rfd;                 /* the reader's end */
	int wfd;                 /* the thread's end, closed when it finishes */
	pitr_pipefeed_fn fn;
	void *ctx;
	pthread_mutex_t mu;      /* guards started, done, rc */
	pthread_cond_t cv;
	bool started;            /* wrote or done: begin may return */
	bool wrote;              /* the first bytes were passed */
	bool done;               /* the producer returned rc */
	int rc;
	bool reader_gone;        /* a write met a closed pipe (the thread's) */
	bool done_at_close;      /* done when the reader closed its end */
	char held[1024];         /* the producer's first log line */
	bool reader_holds;       /* the reader's errors held in reader_held */
	char reader_held[1024];  /* the reader's first ERROR line meanwhile */
};

static void
announce(struct pitr_pipefeed *f, bool done, int rc)
{
	pthread_mutex_lock(&f->mu);
	f->started = true;
	if (done) {
		f->done = true;
		f->rc = rc;
	} else {
		f->wrote = true;
	}
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int
feed_write(void *wctx, const void *buf, size_t len)
{
	struct pitr_pipefeed *f = wctx;
	const char *p = buf;

	if (!f->wrote)
		announce(f, false, 0);
	while (len > 0) {
		ssize_t n = write(f->wfd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			f->reader_gone = true;   /* not a failure of the source */
			return -1;
		}
		if (n < 0) {
			pitr_log_error("cannot write to the reader's pipe: %s", strerror(errno));
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *
feed_main(void *arg)
{
	struct pitr_pipefeed *f = arg;
	sigset_t pipe_only;
	int rc;

	/* A reader that stops early must cost the producer an EPIPE, not
	 * the process its life. */
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_only, NULL);
	pitr_log_hold(f->held, sizeof(f->held));
	rc = f->fn(f->ctx, feed_write, f);
	pitr_log_hold(NULL, 0);
	/* Done before the reader's end of file: a reader that saw it and
	 * ends the feed finds the producer's outcome settled. */
	announce(f, true, rc);
	close(f->wfd);
	return NULL;
}

/* Report the producer's failure once: into `reason`, else the log. */
static void
report(const struct pitr_pipefeed *f, char *reason, size_t reason_size)
{
	const char *why = f->held[0] != '\0' ? f->held :
			  f->reader_gone ? "the reader closed before the end" : "the source failed";

	if (reason != NULL)
		snprintf(reason, reason_size, "%s", why);
	else
		pitr_log_error("%s", why);
}

static void
feed_free(struct pitr_pipefeed *f)
{
	pthread_cond_destroy(&f->cv);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

/* Close the reader's end and wait for the thread: a producer blocked on
 * a full pipe gets EPIPE and returns. */
static void
feed_join(struct pitr_pipefeed *f)
{
	pthread_mutex_lock(&f->mu);
	f->done_at_close = f->done;
	pthread_mutex_unlock(&f->mu);
	if (f->rfd >= 0)
		close(f->rfd);
	f->rfd = -1;
	pthread_join(f->thread, NULL);
}

static struct pitr_pipefeed *
feed_new(pitr_pipefeed_fn fn, void *ctx, char *reason, size_t reason_size)
{
	struct pitr_pipefeed *f = pitr_xcalloc(1, sizeof(*f));
	int fds[2];

	if (f == NULL)
		return NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		if (reason != NULL)
			snprintf(reason, reason_size, "cannot make a pipe: %s", strerror(errno));
		else
			pitr_log_error("cannot make a pipe: %s", strerror(errno));
		free(f);
		return NULL;
	}
#ifdef F_SETPIPE_SZ
	(void)fcntl(fds[1], F_SETPIPE_SZ, PIPEFEED_PIPE_SIZE);   /* a wish: the default works */
#endif
	f->rfd = fds[0];
	f->wfd = fds[1];
	f->fn = fn;
	f->ctx = ctx;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	return f;
}

int
pitr_pipefeed_begin(pitr_pipefeed_fn fn, void *ctx, struct pitr_pipefeed **feed, char *reason,
		    size_t reason_size)
{
	struct pitr_pipefeed *f = feed_new(fn, ctx, reason, reason_size);
	int err;

	*feed = NULL;
	if (f == NULL)
		return -1;
	if ((err = pthread_create(&f->thread, NULL, feed_main, f)) != 0) {
		if (reason != NULL)
			snprintf(reason, reason_size, "cannot start a thread: %s", strerror(err));
		else
			pitr_log_error("cannot start a thread: %s", strerror(err));
		close(f->rfd);
		close(f->wfd);
		feed_free(f);
		return -1;
	}
	pthread_mutex_lock(&f->mu);
	while (!f->started)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);
	/* Bytes passed are the reader's even when the producer failed after
	 * them: it learns of the failure at the end, as it would later. */
	if (f->done && f->rc != 0 && !f->wrote) {
		int rc = f->rc;

		feed_join(f);
		if (rc < 0)
			report(f, reason, reason_size);
		feed_free(f);
		return rc > 0 ? 1 : -1;
	}
	if (!pitr_log_holding()) {
		pitr_log_hold_errors(f->reader_held, sizeof(f->reader_held));
		f->reader_holds = true;
	}
	*feed = f;
	return 0;
}

int
pitr_pipefeed_fd(const struct pitr_pipefeed *feed)
{
	return feed->rfd;
}

int
pitr_pipefeed_end(struct pitr_pipefeed *feed, bool early, char *reason, size_t reason_size)
{
	bool failed;

	feed_join(feed);
	/* Early, what the producer did after the reader left is its own
	 * business; what it did before may be why the reader left. */
	failed = feed->rc != 0 && (!early || feed->done_at_close);
	if (feed->reader_holds)
		pitr_log_hold(NULL, 0);
	/* The producer's failure is the cause of whatever the reader made of
	 * the bytes it missed: its line alone. */
	if (failed)
		report(feed, reason, reason_size);
	else if (feed->reader_holds && feed->reader_held[0] != '\0')
		pitr_log_error("%s", feed->reader_held);
	feed_free(feed);
	return failed ? -1 : 0;
}
