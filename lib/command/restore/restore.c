/*
 * restore.c - pitr-restore: hand PostgreSQL the WAL file it asks for
 * (restore_command), keep a warm standby waiting, finish recovery on a
 * trigger, and prune the archive behind the standby.
 *
 * One call serves one file; this file runs it: the options checked, the
 * signal handlers, and the loop that hands a segment over (handover.c)
 * when the archive has it, waits while it does not, and ends when -sr or
 * a finish trigger (trigger.c) says so: the exit status 1 that then
 * follows is how a restore command tells PostgreSQL "no such file", which
 * ends archive recovery.  Around the hand-over, -r prunes the archive
 * (remove.c) and -pf starts the worker that decompresses ahead
 * (prefetch.c).  A missing segment is waited for by polling the archive
 * (stat(2) of a directory, a listing of an object store, which is asked
 * less and less often: sources.c's pitr_restore_poll).
 *
 * Line coverage of this folder's files: t/command/check_restore.c does not
 * provoke allocation, sigaction, fsync, close, rename or write failures, a
 * file vanishing between stat and open, nor a SIGUSR1 in the instant
 * between the checks and the rename of a delivery.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/restore/restore.h"
#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/quote.h"
#include "common/sigclean.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/controldata.h"
#include "repo/archdir.h"

#define DEFAULT_POLL_MS 200
#define DEFAULT_STABLE_MS 1000
/* -ep hang retries pg_controldata this often (each failure is logged). */
#define DEFAULT_HANG_RETRY_MS 30000

volatile sig_atomic_t pitr_restore_got_usr1;
volatile sig_atomic_t pitr_restore_got_term;

/* Signal handlers only set the flags the waiting loops check. */
static void
on_usr1(int signo)
{
	(void)signo;
	pitr_restore_got_usr1 = 1;
}

/* SIGTERM (the server shuts down) and SIGINT: give up the wait; in the
 * middle of writing a file, remove it and exit 1 at once (sigclean.h). */
static void
on_term(int signo)
{
	pitr_restore_got_term = 1;
	if (pitr_sigclean_busy())
		pitr_sigclean_die(signo);
}

/* SIGQUIT (the server's immediate shutdown or crash restart, sent to the
 * whole group): leave at once, removing what is half written. */
static void
on_quit(int signo)
{
	pitr_sigclean_die(signo);
}

/* PostgreSQL signals the startup process's whole process group on reload;
 * dying of SIGHUP would be fatal for the server.  A handler (rather than
 * SIG_IGN) is reset by exec, so children get the default back. */
static void
on_hup(int signo)
{
	(void)signo;
}

/* Install `fn` for `signo`, saving the old action in *old.  Returns 0 or
 * -1 (logged). */
static int
set_handler(int signo, void (*fn)(int), struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must cut a sleep short. */
	if (sigaction(signo, &sa, old) != 0) {
		pitr_log_error("could not set a handler for signal %d: %s", signo, strerror(errno));
		return -1;
	}
	return 0;
}

int
pitr_restore_on_term_signal(int signo, struct sigaction *old)
{
	return set_handler(signo, on_term, old);
}

/* Install every handler of a call, or none.  Returns 0 or -1 (logged). */
static int
install_handlers(struct restore_run *run)
{
	pitr_restore_got_usr1 = 0;
	pitr_restore_got_term = 0;
	if (set_handler(SIGUSR1, on_usr1, &run->old_usr1) != 0)
		return -1;
	if (set_handler(SIGTERM, on_term, &run->old_term) != 0 ||
	    set_handler(SIGINT, on_term, &run->old_int) != 0 ||
	    set_handler(SIGHUP, on_hup, &run->old_hup) != 0 ||
	    set_handler(SIGQUIT, on_quit, &run->old_quit) != 0) {
		sigaction(SIGUSR1, &run->old_usr1, NULL);
		sigaction(SIGTERM, &run->old_term, NULL);
		sigaction(SIGINT, &run->old_int, NULL);
		sigaction(SIGHUP, &run->old_hup, NULL);
		return -1;
	}
	run->handlers_set = true;
	return 0;
}

void
pitr_restore_run_free(struct restore_run *run)
{
	if (run->handlers_set) {
		sigaction(SIGUSR1, &run->old_usr1, NULL);
		sigaction(SIGTERM, &run->old_term, NULL);
		sigaction(SIGINT, &run->old_int, NULL);
		sigaction(SIGHUP, &run->old_hup, NULL);
		sigaction(SIGQUIT, &run->old_quit, NULL);
	}
	pitr_tmp_discard(&run->hook_tmp);
	run->hook_dir = NULL;
	free(run->prefetch_dir);
	pitr_quote_split_free(run->hook_argv);
	free(run->trigger.content);
	free(run->controldata_prog);
	free(run->control_path);
	free(run->dest_path);
	free(run->dest_dir);
	free(run->dest_base);
	free(run->buf);
	pitr_restore_sources_free(run);
	pitr_pidfile_release(run->pidfile);
}

int
pitr_restore_ep_from_name(const char *name, enum pitr_restore_ep *out)
{
	static const char *const names[] = { "break", "hang", "ignore" };

	for (size_t name_idx = 0; name_idx < sizeof(names) / sizeof(names[0]); name_idx++) {
		if (strcmp(name, names[name_idx]) == 0) {
			*out = (enum pitr_restore_ep)name_idx;
			return 0;
		}
	}
	return -1;
}

/* Resolve %p against the data dir into run->dest_path, and split that
 * into run->dest_dir and run->dest_base.  Returns 0, or -1 after logging. */
static int
resolve_dest(struct restore_run *run, const char *data_dir)
{
	const char *wal_path = run->opts->wal_path;
	const char *slash;

	if (wal_path[0] == '/' || strcmp(data_dir, ".") == 0)
		run->dest_path = pitr_xstrdup(wal_path);
	else
		run->dest_path = pitr_fsutil_join(data_dir, wal_path);
	if (run->dest_path == NULL)
		return -1;
	slash = strrchr(run->dest_path, '/');
	if (slash != NULL) {
		/* "/RECOVERYXLOG" lives in "/". */
		size_t dir_len = slash == run->dest_path ? 1 : (size_t)(slash - run->dest_path);

		if ((run->dest_dir = pitr_xstrndup(run->dest_path, dir_len)) == NULL ||
		    (run->dest_base = pitr_xstrdup(slash + 1)) == NULL)
			return -1;
	} else if ((run->dest_dir = pitr_xstrdup(".")) == NULL ||
		   (run->dest_base = pitr_xstrdup(run->dest_path)) == NULL) {
		return -1;
	}
	if (run->dest_base[0] == '\0') {
		pitr_log_error("\"%s\" names a directory, not a file: restore_command must pass \"%%p\"",
			       wal_path);
		return -1;
	}
	return 0;
}

/* The data dir is only read for a relative %p (PostgreSQL's own call,
 * from the data dir) and for -r without %r (pg_controldata reads it):
 * pg_rewind --restore-target-wal runs restore_command from its own working
 * directory with an absolute %p. */
static bool
needs_data_dir(const struct pitr_restore_opts *opts)
{
	return opts->wal_path[0] != '/' || (opts->remove_unneeded && opts->remove_cutoff == NULL);
}

static int
check_data_dir(const char *data_dir)
{
	char *version = pitr_fsutil_join(data_dir, "PG_VERSION");
	struct stat st;
	int rc = 0;

	if (version == NULL)
		return -1;
	if (stat(version, &st) != 0) {
		pitr_log_error("\"%s\" is not a PostgreSQL data directory (no PG_VERSION): give the "
			       "right --data-dir", data_dir);
		rc = -1;
	}
	free(version);
	return rc;
}

/*
 * The cluster's system identifier, from the data dir's pg_control, when
 * the data dir is known: -D given, or %p relative (PostgreSQL's own call,
 * from the data dir; pg_rewind's runs from anywhere with an absolute %p).
 * Every segment handed over is then checked against it, which is what
 * PostgreSQL would refuse anyway, only later.  No pg_control (not a data
 * dir): the archives' records stand in for it (sources.c).
 */
static int
cluster_sysid(struct restore_run *run, const char *data_dir)
{
	const struct pitr_restore_opts *opts = run->opts;
	int r;

	if (opts->data_dir == NULL && opts->wal_path[0] == '/')
		return 0;
	if ((r = pitr_controldata_sysid(data_dir, &run->sysid)) != 0)
		return r < 0 ? -1 : 0;
	if ((run->control_path = pitr_fsutil_join(data_dir, "global/pg_control")) == NULL)
		return -1;
	run->have_sysid = true;
	run->sysid_dir = run->control_path;
	return 0;
}

/* Check the options and resolve paths, before anything is touched. */
static int
prepare(struct restore_run *run)
{
	const struct pitr_restore_opts *opts = run->opts;
	const char *data_dir = opts->data_dir != NULL ? opts->data_dir : ".";

	if (opts->wal_name == NULL || opts->wal_name[0] == '\0' || strchr(opts->wal_name, '/') ||
	    strcmp(opts->wal_name, ".") == 0 || strcmp(opts->wal_name, "..") == 0) {
		pitr_log_error("\"%s\" is not a WAL file name: restore_command must pass \"%%f\"",
			       opts->wal_name != NULL ? opts->wal_name : "");
		return -1;
	}
	if (opts->wal_path == NULL || opts->wal_path[0] == '\0') {
		pitr_log_error("no destination given: restore_command must pass \"%%p\"");
		return -1;
	}
	if (cluster_sysid(run, data_dir) != 0 || pitr_restore_sources_open(run) != 0)
		return -1;
	if (needs_data_dir(opts) && check_data_dir(data_dir) != 0)
		return -1;
	if (opts->remove_cutoff != NULL) {
		if (pitr_archdir_parse_cutoff(opts->remove_cutoff, &run->fixed_cutoff) != 0) {
			pitr_log_error("--remove-unneeded \"%s\" is not a WAL segment name: "
				       "restore_command must pass \"%%r\"", opts->remove_cutoff);
			return -1;
		}
		run->have_fixed_cutoff = true;
	}
	if (opts->remove_unneeded && opts->pre_removal_processing != NULL &&
	    pitr_restore_remove_parse_hook(run, opts->pre_removal_processing) != 0)
		return -1;
	if (opts->remove_before && !opts->remove_unneeded)
		pitr_log_verbose("--remove-before has no effect without --remove-unneeded");

	run->kind = pitr_wal_parse(opts->wal_name, &run->name);
	if (resolve_dest(run, data_dir) != 0)
		return -1;
	run->poll_ms = opts->poll_ms > 0 ? opts->poll_ms : DEFAULT_POLL_MS;
	run->stable_ms = opts->trigger_stable_ms > 0 ? opts->trigger_stable_ms : DEFAULT_STABLE_MS;
	run->hang_retry_ms = opts->hang_retry_ms > 0 ? opts->hang_retry_ms : DEFAULT_HANG_RETRY_MS;
	run->remove_at_a_time = opts->remove_at_a_time > 0 ? (size_t)opts->remove_at_a_time
							   : PITR_RESTORE_REMOVE_AT_A_TIME_DEFAULT;
	if (opts->prefetch < 0 || opts->prefetch > PITR_RESTORE_PREFETCH_MAX) {
		pitr_log_error("--prefetch %d is out of range: 0 to %d segments", opts->prefetch,
			       PITR_RESTORE_PREFETCH_MAX);
		return -1;
	}
	if (opts->prefetch > 0) {
		run->prefetch_dir = pitr_fsutil_join(run->dest_dir, PITR_RESTORE_PREFETCH_DIR);
		if (run->prefetch_dir == NULL)
			return -1;
	}
	run->buf = pitr_xmalloc(PITR_RESTORE_BUF_SIZE);
	return run->buf != NULL ? 0 : -1;
}

/* Deliver `src`, with -r's removal before (-rb) or after it.  The cutoff
 * is learnt first, so that -ep break fails before anything is delivered.
 * Returns 0, 1 when a guessed `src` was not there, or -1 after logging. */
static int
deliver_and_prune(struct restore_run *run, const struct restore_file *src)
{
	const struct pitr_restore_opts *opts = run->opts;
	struct pitr_wal_name cutoff;
	bool prune = false;
	int rc;

	if (opts->remove_unneeded && !run->removal_done) {
		switch (pitr_restore_remove_cutoff(run, &cutoff)) {
		case CUTOFF_FAIL:
			return -1;
		case CUTOFF_SKIP:
			break;
		case CUTOFF_OK:
			prune = true;
			break;
		}
	}
	if (prune && opts->remove_before)
		pitr_restore_remove_pass(run, &cutoff);
	if ((rc = pitr_restore_handover(run, src)) != 0)
		return rc;
	if (prune && !opts->remove_before)
		pitr_restore_remove_pass(run, &cutoff);
	return 0;
}

/*
 * Anything but a segment: handed over when present, else "no such file" at
 * once.  Never held back by a finish, a delay or removal: such files carry
 * no changes to replay, and at the end of recovery the server needs the
 * archive's timeline history files to pick a timeline nobody used yet.
 */
static int
restore_other(struct restore_run *run)
{
	struct restore_file src;
	int found, rc;

	/* The server asks for history files when it starts and when recovery
	 * ends (to choose the next timeline): after a promotion no call
	 * would take the prefetched segments, so they go now. */
	if (run->prefetch_dir != NULL)
		pitr_restore_prefetch_prune(run, false);
	found = pitr_restore_find(run, run->opts->wal_name, &src);
	if (found < 0)
		return -1;
	if (found == 0) {
		pitr_log_info("\"%s\" is not in the archive", run->opts->wal_name);
		return -1;
	}
	rc = pitr_restore_handover(run, &src);
	pitr_restore_file_free(&src);
	return rc;
}

/* What the wait for a segment has said and seen so far. */
struct restore_wait {
	bool waiting_logged;
	bool delay_logged;
	bool guess_missed;   /* the object named for the source's codec was
			      * not there: every look lists */
	double aged_ms;      /* the file found is old enough for -w then
			      * (pitr_clock_ms); 0: none found young */
};

/* One look at the archive for the segment: 1 to go on waiting, else the
 * call's result (0: delivered). */
static int
look(struct restore_run *run, enum finish_mode mode, struct restore_wait *w)
{
	const struct pitr_restore_opts *opts = run->opts;
	struct restore_file src = { .path = NULL };
	int found, rc;

	/* A smart finish ends the call on this look's answer: a fresh one,
	 * even from an object store not due for one.  The first look of a
	 * call without --recovery-delay (which needs the object's age: a
	 * listing's) may be a GET of the object named for the source's codec;
	 * once it is not there, every look lists, and finds any codec's. */
	run->guess = opts->recovery_delay <= 0 && !w->guess_missed;
	found = mode == FINISH_SMART ? pitr_restore_find(run, opts->wal_name, &src)
				     : pitr_restore_poll(run, opts->wal_name, &src);
	run->guess = false;
	if (found < 0)
		return -1;
	if (found == 1 && mode != FINISH_PENDING) {
		double age_ms = pitr_clock_file_age_ms(&src.st);

		if (opts->recovery_delay <= 0 || mode == FINISH_SMART ||
		    age_ms >= opts->recovery_delay * 1000.0) {
			rc = deliver_and_prune(run, &src);
			pitr_restore_file_free(&src);
			if (rc == 1) {
				w->guess_missed = true;   /* not there: list at once */
				return look(run, mode, w);
			}
			if (rc == 0 && run->prefetch_dir != NULL)
				pitr_restore_prefetch_start(run);
			return rc;
		}
		if (!w->delay_logged)
			pitr_log_verbose("\"%s\" is in the archive but younger than the %d s "
					 "--recovery-delay: waiting", src.path, opts->recovery_delay);
		w->delay_logged = true;
		w->aged_ms = pitr_clock_ms() + opts->recovery_delay * 1000.0 - age_ms;
	}
	pitr_restore_file_free(&src);
	if (found == 0 && mode != FINISH_PENDING) {
		if (opts->streaming_replication) {
			pitr_log_info("segment \"%s\" is not in the archive: returning to "
				      "streaming replication", opts->wal_name);
			return -1;
		}
		if (mode == FINISH_SMART) {
			pitr_log_info("ending recovery: segment \"%s\" is not in the archive "
				      "(smart finish)", opts->wal_name);
			return -1;
		}
		/* At LOG level: pitr-monitor's current-restore-time counts
		 * from this line. */
		if (!w->waiting_logged)
			pitr_log_info("segment \"%s\" is not in the archive yet: waiting",
				      opts->wal_name);
		w->waiting_logged = true;
	}
	return 1;
}

/* The main loop for a segment: deliver, wait, or end, as the archive and
 * the finish trigger say.  The trigger is checked every poll interval;
 * the archive too, but an object store less often (pitr_restore_poll),
 * and not at all while the file found waits out -w. */
static int
restore_loop(struct restore_run *run)
{
	struct restore_wait w = { .aged_ms = 0 };

	if (run->kind != PITR_WAL_SEGMENT)
		return restore_other(run);
	for (;;) {
		enum finish_mode mode;
		int rc;

		if (pitr_restore_got_term) {
			pitr_log_info("interrupted by a signal: \"%s\" not restored",
				      run->opts->wal_name);
			return -1;
		}
		mode = pitr_restore_trigger_check(run);
		if (mode == FINISH_IMMEDIATE) {
			pitr_log_info("ending recovery: \"%s\" not restored (immediate finish)",
				      run->opts->wal_name);
			return -1;
		}
		if (mode == FINISH_SMART || pitr_clock_ms() >= w.aged_ms) {
			if ((rc = look(run, mode, &w)) != 1)
				return rc;
		}
		if (pitr_restore_remove_while_waiting(run) != 0)
			return -1;
		(void)pitr_clock_sleep_interruptible_ms(run->poll_ms);
	}
}

int
pitr_cmd_restore(const struct pitr_restore_opts *opts)
{
	struct restore_run run = { .opts = opts };
	int rc = -1;

	/* First, so that a SIGUSR1 or SIGHUP that comes early cannot kill us. */
	if (install_handlers(&run) != 0)
		goto out;
	if (prepare(&run) != 0)
		goto out;
	if (opts->pid_file != NULL) {
		run.pidfile = pitr_pidfile_acquire(opts->pid_file);
		if (run.pidfile == NULL)
			goto out;
	}
	/* What a killed call left in pg_wal (its own .pitr-tmp.* files only:
	 * nothing else there is ours to judge) goes before anything new is
	 * written; a call still writing holds its file locked. */
	(void)pitr_tmp_sweep(run.dest_dir, false);
	rc = restore_loop(&run);
out:
	pitr_restore_run_free(&run);
	return rc;
}
