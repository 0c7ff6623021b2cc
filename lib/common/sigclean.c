/*
 * sigclean.c - the table of what a fatal signal undoes (see sigclean.h).
 *
 * Slots are claimed under a mutex with every signal blocked in the
 * claiming thread; each slot's `state` is an atomic that is set only once
 * its contents are complete and cleared before they change, so a handler
 * running in any thread sees whole entries or none.
 *
 * Line coverage: the handler's own paths run in forked children of the
 * unit tests (which _exit without writing coverage data).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sigclean.h"

/* SLOT_UNDONE: taken by the handler, never free again, so a thread that
 * keeps running while another thread's handler reads the path can neither
 * free nor claim it meanwhile (the process _exits anyway). */
enum slot_state { SLOT_FREE, SLOT_CLAIMED, SLOT_FILE, SLOT_DIR, SLOT_PID, SLOT_UNDONE };

struct slot {
	atomic_int state;
	pid_t pid;
	char path[PATH_MAX];
};

static struct slot slots[PITR_SIGCLEAN_SLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;
/* "PROGNAME: " for the handler's line, written before handlers exist. */
static char line_prefix[64] = "pitrkit: ";

/* Claim a free slot with signals blocked; fill() completes it. */
static int
claim(void)
{
	int found = -1;

	pthread_mutex_lock(&slots_mu);
	for (int i = 0; i < PITR_SIGCLEAN_SLOTS && found < 0; i++) {
		int expect = SLOT_FREE;

		if (atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_CLAIMED))
			found = i;
	}
	pthread_mutex_unlock(&slots_mu);
	return found;
}

int
pitr_sigclean_add_path(const char *path, bool is_dir)
{
	size_t len = strlen(path);
	sigset_t all, old;
	int slot;

	if (len >= PATH_MAX)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	slot = claim();
	if (slot >= 0) {
		memcpy(slots[slot].path, path, len + 1);
		atomic_store(&slots[slot].state, is_dir ? SLOT_DIR : SLOT_FILE);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return slot;
}

int
pitr_sigclean_add_pid(pid_t pid)
{
	sigset_t all, old;
	int slot;

	if (pid <= 0)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	slot = claim();
	if (slot >= 0) {
		slots[slot].pid = pid;
		atomic_store(&slots[slot].state, SLOT_PID);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return slot;
}

void
pitr_sigclean_remove(int slot)
{
	int state;

	if (slot < 0 || slot >= PITR_SIGCLEAN_SLOTS)
		return;
	state = atomic_load(&slots[slot].state);
	while (state != SLOT_UNDONE &&
	       !atomic_compare_exchange_weak(&slots[slot].state, &state, SLOT_FREE))
		;
}

void
pitr_sigclean_forget_all(void)
{
	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++)
		atomic_store(&slots[i].state, SLOT_FREE);
}

void
pitr_sigclean_remove_pid(pid_t pid)
{
	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++) {
		int expect = SLOT_PID;

		if (slots[i].pid == pid &&
		    atomic_compare_exchange_strong(&slots[i].state, &expect, SLOT_FREE))
			return;
	}
}

int
pitr_sigclean_count(void)
{
	int n = 0;

	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++)
		n += atomic_load(&slots[i].state) == SLOT_FILE;
	return n;
}

bool
pitr_sigclean_busy(void)
{
	return pitr_sigclean_count() > 0;
}

/* Append `s` to buf at *len (bounded); async-signal-safe. */
static void
put(char *buf, size_t size, size_t *len, const char *s)
{
	while (*s != '\0' && *len + 1 < size)
		buf[(*len)++] = *s++;
}

/* Append a small non-negative number. */
static void
put_num(char *buf, size_t size, size_t *len, int n)
{
	char digits[12];
	int nd = 0;

	do {
		digits[nd++] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0 && nd < (int)sizeof(digits));
	while (nd > 0 && *len + 1 < size)
		buf[(*len)++] = digits[--nd];
}

static const char *
signame(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGHUP: return "SIGHUP";
	default: return "a signal";
	}
}

/* Take every slot in `from` for the handler; returns how many `act` did. */
static int
undo_pass(int from)
{
	int done = 0;

	for (int i = 0; i < PITR_SIGCLEAN_SLOTS; i++) {
		int state = from;

		if (!atomic_compare_exchange_strong(&slots[i].state, &state, SLOT_UNDONE))
			continue;
		if (from == SLOT_FILE)
			done += unlink(slots[i].path) == 0;
		else if (from == SLOT_DIR)
			(void)rmdir(slots[i].path);
		else
			(void)kill(slots[i].pid, SIGTERM);
	}
	return done;
}

/* Remove the registered files, then the directories (a file may sit in a
 * lower slot than its directory: claim() reuses the lowest free one), and
 * signal the children.  Returns the files removed. */
static int
undo(void)
{
	int removed = undo_pass(SLOT_FILE);

	(void)undo_pass(SLOT_DIR);
	(void)undo_pass(SLOT_PID);
	return removed;
}

void
pitr_sigclean_die(int signo)
{
	int saved = errno;
	char line[160];
	size_t len = 0;
	int removed = undo(), logfd = pitr_log_fd();

	put(line, sizeof(line), &len, line_prefix);
	put(line, sizeof(line), &len, "interrupted by ");
	put(line, sizeof(line), &len, signame(signo));
	put(line, sizeof(line), &len, "; removed ");
	put_num(line, sizeof(line), &len, removed);
	put(line, sizeof(line), &len, removed == 1 ? " temporary file\n" : " temporary files\n");
	if (write(STDERR_FILENO, line, len) < 0)
		(void)0;  /* nowhere left to say it */
	if (logfd >= 0 && logfd != STDERR_FILENO && write(logfd, line, len) < 0)
		(void)0;
	errno = saved;
	_exit(1);
}

static void
on_fatal(int signo)
{
	pitr_sigclean_die(signo);
}

void
pitr_sigclean_set_name(const char *progname)
{
	size_t len = 0;

	put(line_prefix, sizeof(line_prefix), &len, progname);
	put(line_prefix, sizeof(line_prefix), &len, ": ");
	line_prefix[len] = '\0';
}

int
pitr_sigclean_install(const char *progname, bool keep_hup)
{
	static const int signals[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
	struct sigaction sa;

	pitr_sigclean_set_name(progname);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	/* One undo at a time: a second signal waits for the _exit. */
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		if (keep_hup && signals[i] == SIGHUP)
			continue;
		if (sigaction(signals[i], &sa, NULL) != 0) {
			pitr_log_error("could not set a handler for signal %d: %s", signals[i],
				       strerror(errno));
			return -1;
		}
	}
	return 0;
}
