/*
 * trigger.c - when pitr-restore ends recovery: SIGUSR1 or a finish trigger
 * saying NOW end it at once, any other trigger content ends it once the
 * archive has nothing more (smart), and only content that has settled
 * counts.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"

/* A finish trigger holds a word; anything longer is still a trigger. */
#define TRIGGER_MAX 4096

/* True if the trigger's content asks for an immediate finish: "NOW",
 * optionally followed by a newline (or other trailing blanks). */
static bool
says_now(const char *content, size_t len)
{
	while (len > 0 && (content[len - 1] == '\n' || content[len - 1] == '\r' ||
			   content[len - 1] == ' ' || content[len - 1] == '\t'))
		len--;
	return len == 3 && memcmp(content, "NOW", 3) == 0;
}

/* True if two stat results show the same file, unchanged. */
static bool
same_file_state(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * Look at SIGUSR1 and the finish trigger.  `echo NOW > trigger` creates an
 * empty file before it writes NOW, and an empty trigger means "smart",
 * which drops the recovery delay: deciding at that instant would replay
 * exactly what the operator wants to stop.  So the content only counts
 * once it has been stable for stable_ms: either the file was last changed
 * that long ago (and did not change while we read it), or we have seen the
 * same content for that long.  Until then the answer is FINISH_PENDING.
 */
enum finish_mode
pitr_restore_trigger_check(struct restore_run *run)
{
	struct trigger_watch *tw = &run->trigger;
	const char *path = run->opts->finish_trigger;
	struct stat before, after;
	char *content;
	size_t len = 0;
	double now;
	bool stable;

	if (pitr_restore_got_usr1 && tw->decided != FINISH_IMMEDIATE) {
		pitr_log_info("SIGUSR1 received: immediate finish of recovery");
		tw->decided = FINISH_IMMEDIATE;
	}
	if (tw->decided != FINISH_NONE || path == NULL)
		return tw->decided;
	if (stat(path, &before) != 0) {
		if (errno != ENOENT && !tw->stat_error_logged) {
			pitr_log_error("could not stat finish trigger \"%s\": %s", path, strerror(errno));
			tw->stat_error_logged = true;
		}
		goto absent;
	}
	content = pitr_fsutil_read_small(path, TRIGGER_MAX, &len);
	if (content == NULL) {
		if (errno == ENOENT)
			goto absent;
		/* It exists, so the operator wants recovery to end; unable to
		 * tell how, stop replaying at once rather than replay on. */
		pitr_log_info("finish trigger \"%s\" exists but cannot be read: immediate finish", path);
		tw->decided = FINISH_IMMEDIATE;
		return tw->decided;
	}
	if (stat(path, &after) != 0) {
		/* Removed or replaced meanwhile: certainly not stable. */
		after = before;
		after.st_ino = 0;
	}
	now = pitr_clock_ms();
	if (tw->content == NULL || tw->len != len || memcmp(tw->content, content, len) != 0 ||
	    !same_file_state(&tw->st, &after)) {
		free(tw->content);
		tw->content = content;
		tw->len = len;
		tw->st = after;
		tw->since_ms = now;
	} else {
		free(content);
	}
	stable = now - tw->since_ms >= run->stable_ms ||
		 (same_file_state(&before, &after) && pitr_clock_file_age_ms(&after) >= run->stable_ms);
	if (!stable) {
		if (!tw->pending_logged)
			pitr_log_verbose("finish trigger \"%s\" found; waiting for its content to settle",
					 path);
		tw->pending_logged = true;
		return FINISH_PENDING;
	}
	if (says_now(tw->content, tw->len)) {
		pitr_log_info("finish trigger \"%s\" says NOW: immediate finish of recovery", path);
		tw->decided = FINISH_IMMEDIATE;
	} else {
		pitr_log_info("finish trigger \"%s\" found: smart finish of recovery, handing over the "
			      "segments already in the archive without delay", path);
		tw->decided = FINISH_SMART;
	}
	return tw->decided;
absent:
	free(tw->content);
	tw->content = NULL;
	tw->pending_logged = false;
	return FINISH_NONE;
}

/* -ep hang waits in these steps: while pg_controldata fails, a finish
 * trigger or a signal must still end the call. */
int
pitr_restore_trigger_wait(struct restore_run *run, int ms)
{
	double until = pitr_clock_ms() + ms;

	while (pitr_clock_ms() < until) {
		enum finish_mode mode;

		if (pitr_restore_got_term)
			return -1;
		mode = pitr_restore_trigger_check(run);
		if (mode == FINISH_SMART || mode == FINISH_IMMEDIATE)
			return (int)mode;
		(void)pitr_clock_sleep_interruptible_ms(run->poll_ms);
	}
	return (int)FINISH_NONE;
}

