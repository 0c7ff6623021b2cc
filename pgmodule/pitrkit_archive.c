/*
 * pitrkit_archive.c - the archive module (archive_library =
 * 'pitrkit_archive', PostgreSQL 15 and later): pitr-archive inside the
 * archiver, with no process started per file.
 *
 * Each file goes through pitr_cmd_archive(), the very pipeline of
 * pitr-archive, with options read from the pitrkit_archive.* GUCs
 * (guc.c).  It runs in a thread of its own, started per file with every
 * signal blocked, for reasons that are the archiver's and not the
 * library's:
 *  - the library lowers its priority to compress (pitr-archive's default,
 *    --not-nice to keep it); on Linux that applies to the calling thread
 *    alone, and an unprivileged process can never raise it back, so done
 *    in the archiver's own thread it would slow the archiver for good;
 *  - the threads the library starts (gzip's workers) inherit the blocked
 *    mask, so the archiver's signal handlers (SIGHUP, SIGUSR2, SIGQUIT's
 *    exit...) always run in the archiver's thread, as PostgreSQL expects;
 *  - the library's log lines, which may come from any of its threads, are
 *    queued and handed to ereport() by the archiver's thread afterwards:
 *    ereport is not thread-safe.
 * The look-ahead's workers go on after the call (children mode, ahead.h)
 * and die with the thread that forked them: the archiver's own thread
 * forks them, at the call's request, every signal blocked, so that they
 * live as long as the archiver and never longer.
 * The library allocates with malloc and frees all of it per file; the
 * lists built from the GUCs live in a memory context reset per file.
 */
#include "postgres.h"

#include <pthread.h>
#include <signal.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/memutils.h"
#if PG_VERSION_NUM >= 160000
#include "archive/archive_module.h"
#else
#include "postmaster/pgarch.h"
#endif

#include "command/archive/ahead.h"
#include "command/archive/archive.h"
#include "common/log.h"
#include "guc.h"

PG_MODULE_MAGIC;

#if PG_VERSION_NUM < 160000
/* Declared by fmgr.h from PostgreSQL 16 on. */
extern PGDLLEXPORT void _PG_init(void);
#endif

/* One queued log line (flexible array: the message). */
struct log_entry {
	struct log_entry *next;
	enum pitr_log_level level;
	char message[FLEXIBLE_ARRAY_MEMBER];
};

static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static struct log_entry *queue_head;
static struct log_entry **queue_tail = &queue_head;

static pid_t archiver_pid;              /* whose queue it is: not a forked worker's */
static MemoryContext call_cxt;          /* the GUC lists of one file */
static char *log_template_open;         /* what pitr_log_open() was given last */
static bool log_verbose_open;
static bool log_opened;

/* One file's call, shared with its thread. */
struct archive_call {
	struct pitr_archive_opts opts;
	int rc;
};

/* The library's sink (any thread): queue the line for log_flush().  A
 * process the library forked (look-ahead workers) has no server to hand
 * its lines to, and may have been forked while another thread held the
 * queue's mutex: its lines are dropped (a look-ahead failure is reported
 * when PostgreSQL asks for that segment). */
static void
log_queue(enum pitr_log_level level, const char *message, void *arg)
{
	size_t len = strlen(message);
	struct log_entry *entry;

	if (getpid() != archiver_pid)
		return;
	entry = malloc(offsetof(struct log_entry, message) + len + 1);
	if (entry == NULL)
		return;                 /* no memory to say it with */
	entry->next = NULL;
	entry->level = level;
	memcpy(entry->message, message, len + 1);
	pthread_mutex_lock(&queue_mu);
	*queue_tail = entry;
	queue_tail = &entry->next;
	pthread_mutex_unlock(&queue_mu);
}

/* Hand the queued lines to the server's log, in the archiver's thread:
 * the library's LOG lines at LOG, its errors at WARNING (an ERROR would
 * end the call, and the server retries a failed file by itself). */
static void
log_flush(void)
{
	struct log_entry *entry;

	pthread_mutex_lock(&queue_mu);
	entry = queue_head;
	queue_head = NULL;
	queue_tail = &queue_head;
	pthread_mutex_unlock(&queue_mu);
	while (entry != NULL) {
		struct log_entry *next = entry->next;
		int elevel = entry->level == PITR_LOG_LOG ? LOG : WARNING;
		/* Copied first, so that nothing is lost should ereport throw. */
		char *message = pstrdup(entry->message);

		free(entry);
		entry = next;
		ereport(elevel, (errmsg_internal("pitrkit_archive: %s", message)));
	}
}

/* (Re)open the library's log when its settings changed: lines of the
 * template go there in pitr-archive's format and program name, so that
 * pitr-monitor reads them as pitr-archive's. */
static void
log_settings_apply(void)
{
	struct pka_log_settings log;

	pka_read_log(&log);
	if (log_opened && log.verbose == log_verbose_open &&
	    ((log.template_ == NULL && log_template_open == NULL) ||
	     (log.template_ != NULL && log_template_open != NULL &&
	      strcmp(log.template_, log_template_open) == 0)))
		return;
	free(log_template_open);
	log_template_open = log.template_ != NULL ? strdup(log.template_) : NULL;
	log_verbose_open = log.verbose;
	log_opened = pitr_log_open("pitr-archive", log.template_, log.verbose) == 0;
}

/* One file's call and the worker fork it may ask the archiver's thread
 * for, under call_mu. */
static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t call_cv = PTHREAD_COND_INITIALIZER;
static bool call_done;

struct fork_request {
	void (*child)(void *);
	void *arg;
	pid_t pid;
};
static struct fork_request *fork_pending;   /* asked for, not yet forked */

static void *
archive_thread(void *arg)
{
	struct archive_call *call = arg;

	call->rc = pitr_cmd_archive(&call->opts);
	pthread_mutex_lock(&call_mu);
	call_done = true;
	pthread_cond_broadcast(&call_cv);
	pthread_mutex_unlock(&call_mu);
	return NULL;
}

/* The look-ahead's forker (ahead.h), in the call's thread: the archiver's
 * thread forks, so that the worker's PR_SET_PDEATHSIG holds while the
 * archiver lives. */
static pid_t
fork_in_archiver(void (*child)(void *), void *arg)
{
	struct fork_request req = { .child = child, .arg = arg, .pid = 0 };

	pthread_mutex_lock(&call_mu);
	fork_pending = &req;
	pthread_cond_broadcast(&call_cv);
	while (fork_pending == &req)
		pthread_cond_wait(&call_cv, &call_mu);
	pthread_mutex_unlock(&call_mu);
	return req.pid;
}

/* In the archiver's thread: fork for `req` with every signal blocked, so
 * that none of the server's handlers runs in the worker. */
static void
serve_fork(struct fork_request *req)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	req->pid = fork();
	if (req->pid == 0) {
		req->child(req->arg);
		_exit(0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Wait for the call's thread to end, forking workers as it asks. */
static void
wait_for_call(void)
{
	pthread_mutex_lock(&call_mu);
	while (!call_done) {
		if (fork_pending != NULL) {
			serve_fork(fork_pending);
			fork_pending = NULL;
			pthread_cond_broadcast(&call_cv);
			continue;
		}
		pthread_cond_wait(&call_cv, &call_mu);
	}
	pthread_mutex_unlock(&call_mu);
}

/* Run the call in its own thread, every signal blocked there (see the top
 * of the file).  Returns 0 when it ran (its result in call->rc), -1 when
 * no thread could be started (logged). */
static int
run_in_thread(struct archive_call *call)
{
	sigset_t all, old;
	pthread_t thread;
	int err;

	call_done = false;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&thread, NULL, archive_thread, call);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		ereport(WARNING, (errmsg("pitrkit_archive: could not start a thread: %s",
					 strerror(err))));
		return -1;
	}
	wait_for_call();
	pthread_join(thread, NULL);
	return 0;
}

static bool
archive_file(const char *file, const char *path)
{
	struct archive_call call = { .rc = -1 };
	MemoryContext old = MemoryContextSwitchTo(call_cxt);

	log_settings_apply();
	pka_read_opts(&call.opts);
	call.opts.data_dir = DataDir;
	call.opts.ahead_mode = PITR_AHEAD_CHILDREN;
	call.opts.wal_path = path;
	(void)run_in_thread(&call);
	log_flush();
	MemoryContextSwitchTo(old);
	MemoryContextReset(call_cxt);
	return call.rc == 0;
}

static bool
check_configured(void)
{
	return pka_configured();
}

/* The archiver stops: the look-ahead's workers finish the segments they
 * hold and are waited for, so that none is killed half-way (what one
 * leaves would be swept by the next call, but need not be). */
static void
module_shutdown(void)
{
	pitr_lookahead_stop();
}

static void
module_setup(void)
{
	if (call_cxt == NULL)
		call_cxt = AllocSetContextCreate(TopMemoryContext, "pitrkit_archive",
						 ALLOCSET_DEFAULT_SIZES);
	archiver_pid = getpid();
	pitr_log_set_sink(log_queue, NULL);
	pitr_lookahead_set_forker(fork_in_archiver);
}

void
_PG_init(void)
{
	pka_define_gucs();
}

#if PG_VERSION_NUM >= 160000

static bool
check_configured_cb(ArchiveModuleState *state)
{
	return check_configured();
}

static bool
archive_file_cb(ArchiveModuleState *state, const char *file, const char *path)
{
	return archive_file(file, path);
}

static void
shutdown_cb(ArchiveModuleState *state)
{
	module_shutdown();
}

static const ArchiveModuleCallbacks callbacks = {
	.check_configured_cb = check_configured_cb,
	.archive_file_cb = archive_file_cb,
	.shutdown_cb = shutdown_cb,
};

const ArchiveModuleCallbacks *
_PG_archive_module_init(void)
{
	module_setup();
	return &callbacks;
}

#else

extern PGDLLEXPORT void _PG_archive_module_init(ArchiveModuleCallbacks *cb);

void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	module_setup();
	cb->check_configured_cb = check_configured;
	cb->archive_file_cb = archive_file;
	cb->shutdown_cb = module_shutdown;
}

#endif
