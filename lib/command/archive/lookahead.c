/*
 * lookahead.c - the look-ahead workers (ahead.h): the segments that
 * follow the call's own, taken from pg_wal/archive_status, delivered by
 * forked workers and by the caller once its own file is done.
 *
 * One look-ahead at a time per data directory: an exclusive flock(2) on
 * the archive_status directory, taken without waiting, held by the
 * processes of the look-ahead (a second run at the same moment, an
 * operator's by hand, archives its own file alone).  The work is a queue
 * of indexes written at once into a pipe, read one at a time by every
 * process (reads of a few bytes from a pipe are atomic), so a fast worker
 * takes more.
 *
 * The workers go on after the call that started them, so that they
 * compress while PostgreSQL's archiver does its own work between calls.
 * Two ways to run them (enum pitr_ahead_mode):
 *   detached pitr-archive's: started through an intermediate process, so
 *            that nobody has to reap them.  They stay in the archiver's
 *            process group: PostgreSQL's signals at shutdown reach them.
 *   children the archive module's: children of the process that stays
 *            (the archiver), which reaps them in later calls; they die
 *            with the thread that forked them (PR_SET_PDEATHSIG), so that
 *            no copy of the archiver, attached to the server's shared
 *            memory, outlives it.  pitr_lookahead_stop() ends them.
 * A call for a segment that workers still running may be delivering waits
 * for its record or for the look-ahead's end (pitr_lookahead_wait()).
 * Either way the temporary files a killed worker leaves are swept by the
 * next call (tmpfile.h); a detached one that is told to stop removes its
 * own (sigclean.h), a child blocks every signal, as its parent's thread.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command/archive/ahead.h"
#include "common/sigclean.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "dest/fanout.h"
#include "postgres/wal.h"

#define READY_SUFFIX ".ready"
/* How often a call waiting for a running look-ahead looks again: a
 * fraction of the time a segment takes. */
#define LOOKAHEAD_POLL_US 1000
/* How long a call waits for a running look-ahead to record its segment:
 * a worker takes well under a second per segment, and past this the call
 * delivers the segment itself (should a worker be delivering it still,
 * the later of the two finds the same content there).  A retry after a
 * failure must not wait for a whole look-ahead that is failing too. */
#define LOOKAHEAD_WAIT_MAX_US (10 * 1000 * 1000)
/* How long pitr_lookahead_stop() lets the children finish their segments
 * before it kills them (what they leave is swept by the next call). */
#define LOOKAHEAD_STOP_MAX_US (30 * 1000 * 1000)

struct pitr_lookahead {
	const struct pitr_archive_opts *opts;
	char *status_dir;      /* DATA/pg_wal/archive_status */
	int lock_fd;           /* the status dir, flock'ed */
	int queue_fd;          /* read end of the queue */
	char **names;          /* the segments, oldest first */
	size_t n;
	size_t per_process;    /* pitr_archive_mem_estimate() */
};

static void
names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static void
lookahead_free(struct pitr_lookahead *la)
{
	if (la->queue_fd >= 0)
		close(la->queue_fd);
	if (la->lock_fd >= 0)
		close(la->lock_fd);   /* releases the lock */
	names_free(la->names, la->n);
	free(la->status_dir);
	free(la);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether `wal_name` has a look-ahead record. */
static bool
recorded(const struct pitr_archive_opts *opts, const char *wal_name)
{
	char *record = pitr_xasprintf("%s/%s.pitr-ahead", opts->state_dir, wal_name);
	bool yes = record != NULL && access(record, F_OK) == 0;

	free(record);
	return yes;
}

/* Whether `name` (a .ready entry, suffix cut) is a segment to take: one
 * PostgreSQL will ask for after the call's own (it asks oldest first), none
 * recorded yet. */
static bool
wanted(const struct pitr_lookahead *la, const char *name, const char *own)
{
	return strcmp(name, own) > 0 && pitr_wal_parse(name, NULL) == PITR_WAL_SEGMENT &&
	       !recorded(la->opts, name);
}

/* Room for one more name in la->names. */
static int
grow(struct pitr_lookahead *la, size_t *cap)
{
	char **more;

	if (la->n < *cap)
		return 0;
	more = pitr_xrealloc(la->names, (*cap ? *cap * 2 : 64) * sizeof(*more));
	if (more == NULL)
		return -1;
	la->names = more;
	*cap = *cap ? *cap * 2 : 64;
	return 0;
}

/* Every wanted segment with a .ready file into la->names, oldest first,
 * then cut to --look-ahead.  0, or -1 after logging. */
static int
scan_ready(struct pitr_lookahead *la, const char *own)
{
	DIR *d = fdopendir(dup(la->lock_fd));
	struct dirent *de;
	size_t cap = 0;

	if (d == NULL) {
		pitr_log_verbose("look-ahead: could not read \"%s\": %s", la->status_dir,
				 strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), slen = strlen(READY_SUFFIX);
		char *name;

		if (len <= slen || strcmp(de->d_name + len - slen, READY_SUFFIX) != 0)
			continue;
		if ((name = pitr_xstrndup(de->d_name, len - slen)) == NULL)
			break;
		if (!wanted(la, name, own) || grow(la, &cap) != 0) {
			free(name);
			continue;
		}
		la->names[la->n++] = name;
	}
	closedir(d);
	if (la->n > 1)
		qsort(la->names, la->n, sizeof(*la->names), by_name);
	while (la->n > (size_t)la->opts->look_ahead)
		free(la->names[--la->n]);
	return 0;
}

/* The status dir, locked for this call alone.  -1 when it cannot be or
 * another call holds it (said with -v). */
static int
lock_status_dir(struct pitr_lookahead *la)
{
	la->status_dir = pitr_xasprintf("%s/pg_wal/archive_status", la->opts->data_dir);
	if (la->status_dir == NULL)
		return -1;
	la->lock_fd = open(la->status_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (la->lock_fd < 0) {
		pitr_log_verbose("look-ahead: could not open \"%s\": %s", la->status_dir,
				 strerror(errno));
		return -1;
	}
	if (flock(la->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		pitr_log_verbose("look-ahead: another call is looking ahead in \"%s\"",
				 la->status_dir);
		return -1;
	}
	return 0;
}

/* The queue: every index written at once (a few hundred bytes at most,
 * far below a pipe's capacity), the write end closed so that readers
 * meet its end. */
static int
fill_queue(struct pitr_lookahead *la)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) != 0) {
		pitr_log_verbose("look-ahead: could not make a pipe: %s", strerror(errno));
		return -1;
	}
	la->queue_fd = fds[0];
	for (uint32_t i = 0; i < la->n; i++)
		if (write(fds[1], &i, sizeof(i)) != (ssize_t)sizeof(i)) {
			close(fds[1]);
			return -1;
		}
	close(fds[1]);
	return 0;
}

/* Take segments from the queue until it is empty. */
static void
work(struct pitr_lookahead *la)
{
	uint32_t i;

	while (read(la->queue_fd, &i, sizeof(i)) == (ssize_t)sizeof(i) && i < la->n) {
		char *ready = pitr_xasprintf("%s/%s%s", la->status_dir, la->names[i], READY_SUFFIX);
		char *path = pitr_xasprintf("pg_wal/%s", la->names[i]);

		/* Only a segment PostgreSQL says is finished is ever read. */
		if (ready != NULL && path != NULL && access(ready, F_OK) == 0)
			(void)pitr_archive_ahead_one(la->opts, path);
		free(ready);
		free(path);
	}
}

/* A worker process: (children) dies with the thread that forked it;
 * works; ends without running the caller's exit handlers.  The caller's temporary files and
 * children are not its to clean up. */
static void
worker(struct pitr_lookahead *la, pid_t parent)
{
	pitr_sigclean_forget_all();
	if (la->opts->ahead_mode != PITR_AHEAD_DETACHED &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		_exit(0);
	work(la);
	_exit(0);
}

size_t
pitr_archive_mem_estimate(const struct pitr_dest_spec *specs, size_t nspecs, int threads)
{
	size_t total = PITR_ARCHIVE_MEM_FIXED;

	for (size_t i = 0; i < nspecs; i++) {
		bool seen = false;

		/* The fan-out feeds every destination of a codec and level from
		 * one writer. */
		for (size_t j = 0; j < i && !seen; j++)
			seen = specs[j].codec == specs[i].codec && specs[j].level == specs[i].level;
		if (!seen)
			total += pitr_codec_mem_estimate(specs[i].codec, specs[i].level, threads);
	}
	return total;
}

size_t
pitr_lookahead_workers(size_t budget, size_t per_process, long cpus, int user_jobs)
{
	size_t want, fit;

	if (user_jobs > 0)
		want = (size_t)user_jobs;
	else
		want = cpus < 1 ? 1 : cpus > PITR_ARCHIVE_JOBS_MAX ? PITR_ARCHIVE_JOBS_MAX :
			(size_t)cpus;
	if (user_jobs > 0 || per_process == 0)
		return want;
	/* The call is one of the processes, whatever its share. */
	fit = budget / per_process;
	fit = fit > 1 ? fit - 1 : 0;
	return want < fit ? want : fit;
}

/* The workers this look-ahead starts (pitr_lookahead_workers()), at most
 * one per segment; said with -v when the memory bound cut them. */
static size_t
worker_count(const struct pitr_lookahead *la)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = pitr_lookahead_workers(PITR_ARCHIVE_MEM_BUDGET, la->per_process, cpus,
					  la->opts->jobs);
	size_t uncut = pitr_lookahead_workers(PITR_ARCHIVE_MEM_BUDGET, 0, cpus, la->opts->jobs);

	if (n < uncut)
		pitr_log_verbose("look-ahead: %zu workers rather than %zu: %zu MiB a process, "
				 "%zu MiB in all", n, uncut, la->per_process >> 20,
				 PITR_ARCHIVE_MEM_BUDGET >> 20);
	return n < la->n ? n : la->n;
}

/* Detached: the workers forked by an intermediate process that ends at
 * once, reaped here; they hold the lock (the same open directory) until
 * the last one ends. */
static void
fork_detached(struct pitr_lookahead *la)
{
	size_t want = worker_count(la);
	pid_t pid;

	if (want == 0)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		for (size_t k = 0; k < want; k++)
			if (fork() == 0)
				worker(la, 0);
		_exit(0);
	}
	if (pid < 0)
		pitr_log_verbose("look-ahead: could not fork: %s", strerror(errno));
	else
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

/* Children mode: the workers of the last look-ahead this process
 * started (one runs at a time: they hold the lock), and a read end of
 * their queue for pitr_lookahead_stop() to empty. */
static pid_t children[PITR_ARCHIVE_JOBS_MAX];
static size_t nchildren;
static int children_queue = -1;

/* Reap the children that ended (`block`: wait for every one). */
static void
reap_children(bool block)
{
	size_t kept = 0;

	for (size_t k = 0; k < nchildren; k++) {
		pid_t r;

		while ((r = waitpid(children[k], NULL, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
			;
		if (r == 0)
			children[kept++] = children[k];
	}
	nchildren = kept;
	if (nchildren == 0 && children_queue >= 0) {
		close(children_queue);
		children_queue = -1;
	}
}

static pitr_lookahead_forker_fn forker;

void
pitr_lookahead_set_forker(pitr_lookahead_forker_fn fn)
{
	forker = fn;
}

struct child_arg {
	struct pitr_lookahead *la;
	pid_t parent;
};

static void
child_main(void *arg)
{
	struct child_arg *c = arg;

	worker(c->la, c->parent);
}

/* The default forker: this thread forks, the child runs `child`. */
static pid_t
plain_fork(void (*child)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid == 0) {
		child(arg);
		_exit(0);
	}
	return pid;
}

/* Children: `jobs` workers that go on after the call.  The last
 * look-ahead's workers released the lock, so they are ending: waiting
 * for them takes no time. */
static void
fork_children(struct pitr_lookahead *la)
{
	size_t want = worker_count(la);
	pid_t parent = getpid();

	reap_children(true);
	if (want == 0)
		return;
	if ((children_queue = fcntl(la->queue_fd, F_DUPFD_CLOEXEC, 0)) < 0) {
		pitr_log_verbose("look-ahead: could not keep the queue: %s", strerror(errno));
		return;
	}
	fflush(NULL);   /* nothing buffered is written twice */
	for (size_t k = 0; k < want && k < PITR_ARCHIVE_JOBS_MAX; k++) {
		struct child_arg arg = { .la = la, .parent = parent };
		pid_t pid = forker != NULL ? forker(child_main, &arg) : plain_fork(child_main, &arg);

		if (pid < 0) {
			pitr_log_verbose("look-ahead: could not fork: %s", strerror(errno));
			break;
		}
		children[nchildren++] = pid;
	}
}

void
pitr_lookahead_stop(void)
{
	uint32_t i;

	/* The writers are gone: reads never block, and an empty queue ends
	 * each worker after the segment it holds. */
	while (children_queue >= 0 && read(children_queue, &i, sizeof(i)) == (ssize_t)sizeof(i))
		;
	for (long waited = 0; nchildren > 0 && waited < LOOKAHEAD_STOP_MAX_US;
	     waited += LOOKAHEAD_POLL_US * 10) {
		reap_children(false);
		if (nchildren > 0)
			(void)usleep(LOOKAHEAD_POLL_US * 10);
	}
	for (size_t k = 0; k < nchildren; k++)
		(void)kill(children[k], SIGKILL);
	reap_children(true);
}

void
pitr_lookahead_start(const struct pitr_archive_opts *opts, const char *wal_name,
		     const struct pitr_dest_spec *specs, size_t nspecs)
{
	struct pitr_lookahead *la;

	if (opts->look_ahead <= 0 || opts->state_dir == NULL ||
	    pitr_wal_parse(wal_name, NULL) != PITR_WAL_SEGMENT)
		return;
	if ((la = pitr_xcalloc(1, sizeof(*la))) == NULL)
		return;
	la->opts = opts;
	la->lock_fd = la->queue_fd = -1;
	la->per_process = pitr_archive_mem_estimate(specs, nspecs, pitr_fanout_thread_count());
	if (lock_status_dir(la) != 0 || scan_ready(la, wal_name) != 0 || la->n == 0 ||
	    fill_queue(la) != 0) {
		lookahead_free(la);
		return;
	}
	pitr_log_verbose("look-ahead: %zu segments from \"%s\"", la->n, la->names[0]);
	if (opts->ahead_mode == PITR_AHEAD_DETACHED)
		fork_detached(la);
	else
		fork_children(la);
	lookahead_free(la);
}

void
pitr_lookahead_wait(const struct pitr_archive_opts *opts, const char *wal_name)
{
	char *dir;
	int fd;

	if (opts->ahead_mode == PITR_AHEAD_CHILDREN)
		reap_children(false);
	if (opts->look_ahead <= 0 || opts->state_dir == NULL ||
	    pitr_wal_parse(wal_name, NULL) != PITR_WAL_SEGMENT)
		return;
	dir = pitr_xasprintf("%s/pg_wal/archive_status", opts->data_dir);
	fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	/* A shared lock is granted only while no look-ahead holds it. */
	for (long waited = 0; fd >= 0 && waited < LOOKAHEAD_WAIT_MAX_US &&
	     !recorded(opts, wal_name) && flock(fd, LOCK_SH | LOCK_NB) != 0 &&
	     errno == EWOULDBLOCK; waited += LOOKAHEAD_POLL_US)
		(void)usleep(LOOKAHEAD_POLL_US);
	if (fd >= 0)
		close(fd);
	free(dir);
}
