/*
 * restore.c - pitr-restore: hand PostgreSQL the WAL file it asks for
 * (restore_command), keep a warm standby waiting, finish recovery on a
 * trigger, and prune the archive behind the standby.
 *
 * One call serves one file.  A segment that is in the archive is
 * decompressed to a temporary file beside %p, checked (full segment size,
 * a long page header that matches its name, the archive's cluster),
 * fsync'ed and renamed to %p, so PostgreSQL never sees a partial or corrupt
 * segment.  A missing segment is waited for, polling the archive with
 * stat(2), unless -sr is given or a finish trigger says to end recovery:
 * the exit status 1 that then follows is how a restore command tells
 * PostgreSQL "no such file", which ends archive recovery.
 *
 * With -pf, the decompression of the next segments overlaps the server's
 * replay of this one: a forked worker writes them, checked and fsync'ed,
 * into PITR_RESTORE_PREFETCH_DIR beside %p, and the next call renames its
 * segment from there.  The server replays in one process and waits for
 * every restore command, so without this a backlog's decompression adds
 * to its replay time; with it the work moves to another core.
 *
 * Line coverage: t/command/check_restore.c does not provoke allocation,
 * sigaction, fsync, close, rename or write failures, a file vanishing
 * between stat and open, nor a SIGUSR1 in the instant between the checks
 * and the rename of a delivery.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repo/archdir.h"
#include "command/restore/restore.h"
#include "compress/codec.h"
#include "postgres/controldata.h"
#include "dest/dest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/spawn.h"
#include "postgres/sysid.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

#define DEFAULT_POLL_MS 200
#define DEFAULT_STABLE_MS 1000
/* While waiting, removal passes follow each other this closely while
 * there is a backlog, and this far apart once there is none: each pass
 * may run pg_controldata and reads the whole archive directory. */
#define REMOVAL_BUSY_MS 1000
#define REMOVAL_IDLE_MS 10000
/* -ep hang retries pg_controldata this often (each failure is logged). */
#define DEFAULT_HANG_RETRY_MS 30000
/* A finish trigger holds a word; anything longer is still a trigger. */
#define TRIGGER_MAX 4096
#define COPY_BUF_SIZE (1 << 20)
/* No file PostgreSQL asks for is larger than the largest segment. */
#define MAX_FILE_SIZE ((uint64_t)PITR_WAL_MAX_SEGSIZE)

/* Set by the signal handlers, read by the waiting loops. */
static volatile sig_atomic_t got_usr1;
static volatile sig_atomic_t got_term;

enum finish_mode {
	FINISH_NONE,       /* no trigger: wait for missing segments */
	FINISH_PENDING,    /* a trigger exists but its content is not settled */
	FINISH_SMART,      /* deliver what the archive has, without delay, then end */
	FINISH_IMMEDIATE,  /* end now */
};

/* What the finish trigger looked like at the last look. */
struct trigger_watch {
	char *content;         /* malloc'd, NULL when the file was absent */
	size_t len;
	struct stat st;
	double since_ms;       /* monotonic time the content was first seen so */
	bool pending_logged;
	bool stat_error_logged;
	enum finish_mode decided;  /* sticky once decided */
};

enum cutoff_result {
	CUTOFF_OK,         /* *cutoff says what may go */
	CUTOFF_SKIP,       /* no removal this time; deliver as usual */
	CUTOFF_FAIL,       /* give up the call */
};

/* Everything one call holds, released by run_free(). */
struct restore_run {
	const struct pitr_restore_opts *opts;
	struct pitr_pidfile *pidfile;
	struct pitr_dest_spec source;
	struct pitr_wal_name name;
	enum pitr_wal_kind kind;
	char *dest_path;             /* %p, resolved against the data dir */
	char *dest_dir;
	char *dest_base;
	int poll_ms;
	int stable_ms;
	int hang_retry_ms;
	size_t remove_at_a_time;
	struct trigger_watch trigger;
	bool handlers_set;
	struct sigaction old_usr1, old_term, old_int, old_hup;
	bool have_fixed_cutoff;      /* -r SEGMENT */
	struct pitr_wal_name fixed_cutoff;
	char *controldata_prog;
	bool removal_done;           /* nothing more to remove in this call */
	bool pause_logged;
	double next_removal_ms;
	char **hook_argv;            /* -h split into words, one free slot for the path */
	size_t hook_argc;
	char *hook_dir;              /* temporary dir for -h copies */
	char *prefetch_dir;          /* -pf: dest_dir/PITR_RESTORE_PREFETCH_DIR, else NULL */
	uint32_t seg_size;           /* of the segment handed over (-pf steps by it) */
	unsigned char *buf;
};

/* Signal handlers only set the flags the waiting loops check. */
static void
on_usr1(int signo)
{
	(void)signo;
	got_usr1 = 1;
}

/* SIGTERM (the server shuts down) and SIGINT: give up the wait. */
static void
on_term(int signo)
{
	(void)signo;
	got_term = 1;
}

/* PostgreSQL signals the startup process's whole process group on reload;
 * dying of SIGHUP would be fatal for the server.  A handler (rather than
 * SIG_IGN) is reset by exec, so children get the default back. */
static void
on_hup(int signo)
{
	(void)signo;
}

/* Milliseconds on the monotonic clock, for intervals. */
static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Milliseconds of wall-clock time, to compare with file times. */
static double
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* A file's modification time in wall-clock milliseconds. */
static double
mtime_ms(const struct stat *st)
{
	return st->st_mtim.tv_sec * 1000.0 + st->st_mtim.tv_nsec / 1e6;
}

/* Sleep `ms`, returning early when a signal arrives (the caller checks the
 * flags right after). */
static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	(void)nanosleep(&ts, NULL);
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

/* Install every handler of a call, or none.  Returns 0 or -1 (logged). */
static int
install_handlers(struct restore_run *run)
{
	got_usr1 = 0;
	got_term = 0;
	if (set_handler(SIGUSR1, on_usr1, &run->old_usr1) != 0)
		return -1;
	if (set_handler(SIGTERM, on_term, &run->old_term) != 0 ||
	    set_handler(SIGINT, on_term, &run->old_int) != 0 ||
	    set_handler(SIGHUP, on_hup, &run->old_hup) != 0) {
		sigaction(SIGUSR1, &run->old_usr1, NULL);
		sigaction(SIGTERM, &run->old_term, NULL);
		sigaction(SIGINT, &run->old_int, NULL);
		return -1;
	}
	run->handlers_set = true;
	return 0;
}

/* Release everything a call holds and put the old signal actions back. */
static void
run_free(struct restore_run *run)
{
	if (run->handlers_set) {
		sigaction(SIGUSR1, &run->old_usr1, NULL);
		sigaction(SIGTERM, &run->old_term, NULL);
		sigaction(SIGINT, &run->old_int, NULL);
		sigaction(SIGHUP, &run->old_hup, NULL);
	}
	if (run->hook_dir != NULL && rmdir(run->hook_dir) != 0)
		pitr_log_error("could not remove \"%s\": %s", run->hook_dir, strerror(errno));
	free(run->hook_dir);
	free(run->prefetch_dir);
	if (run->hook_argv != NULL)
		for (size_t word_idx = 0; word_idx < run->hook_argc; word_idx++)
			free(run->hook_argv[word_idx]);
	free(run->hook_argv);
	free(run->trigger.content);
	free(run->controldata_prog);
	free(run->dest_path);
	free(run->dest_dir);
	free(run->dest_base);
	free(run->buf);
	pitr_dest_spec_free(&run->source);
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

/*
 * Split the -h COMMAND into words at blanks, without a shell: '...' and
 * "..." group words (the quotes are dropped; nothing else is special).
 * Leaves one NULL slot for the file name and one for the terminator.
 * Returns 0, or -1 after logging.
 */
static int
split_command(struct restore_run *run, const char *cmd)
{
	size_t len = strlen(cmd);
	char **argv = calloc(len / 2 + 3, sizeof(*argv));
	size_t argc = 0;
	const char *pos = cmd;

	if (argv == NULL)
		goto nomem;
	run->hook_argv = argv;
	for (;;) {
		char *word, *out;
		char quote = '\0';

		pos += strspn(pos, " \t");
		if (*pos == '\0')
			break;
		word = malloc(len + 1);
		if (word == NULL)
			goto nomem;
		argv[argc++] = word;
		run->hook_argc = argc;
		out = word;
		for (; *pos != '\0'; pos++) {
			if (quote != '\0') {
				if (*pos == quote)
					quote = '\0';
				else
					*out++ = *pos;
			} else if (*pos == '\'' || *pos == '"') {
				quote = *pos;
			} else if (*pos == ' ' || *pos == '\t') {
				break;
			} else {
				*out++ = *pos;
			}
		}
		*out = '\0';
		if (quote != '\0') {
			pitr_log_error("--pre-removal-processing \"%s\" has an unterminated %c quote", cmd,
				       quote);
			return -1;
		}
	}
	if (argc == 0) {
		pitr_log_error("--pre-removal-processing names no program");
		return -1;
	}
	return 0;
nomem:
	pitr_log_error("out of memory");
	return -1;
}

/* Check the options and resolve paths, before anything is touched. */
static int
prepare(struct restore_run *run)
{
	const struct pitr_restore_opts *opts = run->opts;
	const char *data_dir = opts->data_dir != NULL ? opts->data_dir : ".";
	const char *slash;
	struct stat st;
	char *version;

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
	if (opts->source == NULL) {
		pitr_log_error("no --source given: pitr-restore needs the archive to read from");
		return -1;
	}
	if (pitr_dest_spec_parse(opts->source, PITR_DEST_LOCAL, "--source", &run->source) != 0)
		return -1;
	if (stat(run->source.location, &st) != 0) {
		pitr_log_error("could not open --source \"%s\": %s", run->source.location,
			       strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("--source \"%s\" is not a directory", run->source.location);
		return -1;
	}
	version = pitr_fsutil_join(data_dir, "PG_VERSION");
	if (version == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	if (stat(version, &st) != 0) {
		pitr_log_error("\"%s\" is not a PostgreSQL data directory (no PG_VERSION): give the "
			       "right --data-dir", data_dir);
		free(version);
		return -1;
	}
	free(version);
	if (opts->remove_cutoff != NULL) {
		if (pitr_archdir_parse_cutoff(opts->remove_cutoff, &run->fixed_cutoff) != 0) {
			pitr_log_error("--remove-unneeded \"%s\" is not a WAL segment name: "
				       "restore_command must pass \"%%r\"", opts->remove_cutoff);
			return -1;
		}
		run->have_fixed_cutoff = true;
	}
	if (opts->remove_unneeded && opts->pre_removal_processing != NULL &&
	    split_command(run, opts->pre_removal_processing) != 0)
		return -1;
	if (opts->remove_before && !opts->remove_unneeded)
		pitr_log_verbose("--remove-before has no effect without --remove-unneeded");

	run->kind = pitr_wal_parse(opts->wal_name, &run->name);
	if (opts->wal_path[0] == '/' || strcmp(data_dir, ".") == 0)
		run->dest_path = strdup(opts->wal_path);
	else
		run->dest_path = pitr_fsutil_join(data_dir, opts->wal_path);
	if (run->dest_path == NULL)
		goto nomem;
	slash = strrchr(run->dest_path, '/');
	if (slash != NULL) {
		/* "/RECOVERYXLOG" lives in "/". */
		size_t dir_len = slash == run->dest_path ? 1 : (size_t)(slash - run->dest_path);

		run->dest_dir = strndup(run->dest_path, dir_len);
		run->dest_base = strdup(slash + 1);
	} else {
		run->dest_dir = strdup(".");
		run->dest_base = strdup(run->dest_path);
	}
	if (run->dest_dir == NULL || run->dest_base == NULL)
		goto nomem;
	if (run->dest_base[0] == '\0') {
		pitr_log_error("\"%s\" names a directory, not a file: restore_command must pass \"%%p\"",
			       opts->wal_path);
		return -1;
	}
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
			goto nomem;
	}
	run->buf = malloc(COPY_BUF_SIZE);
	if (run->buf == NULL)
		goto nomem;
	return 0;
nomem:
	pitr_log_error("out of memory");
	return -1;
}

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
static enum finish_mode
check_finish(struct restore_run *run)
{
	struct trigger_watch *tw = &run->trigger;
	const char *path = run->opts->finish_trigger;
	struct stat before, after;
	char *content;
	size_t len = 0;
	double now;
	bool stable;

	if (got_usr1 && tw->decided != FINISH_IMMEDIATE) {
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
	now = mono_ms();
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
		 (same_file_state(&before, &after) && real_ms() - mtime_ms(&after) >= run->stable_ms);
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

/*
 * Decompress `src` (`codec`) into `fd` (the file at `out_path`).  With
 * `check` not NULL the result must be one whole WAL segment named `check`:
 * its long page header matches the name, and its length is the header's
 * segment size; *hdr gets the header.  Never reads more than the largest
 * segment.  Returns 0 with *total set, or -1 after logging one line.
 */
static int
decompress_to(struct restore_run *run, const char *src, enum pitr_codec codec, int fd,
	      const char *out_path, const struct pitr_wal_name *check, struct pitr_walhdr *hdr,
	      uint64_t *total)
{
	struct pitr_codec_reader *reader = NULL;
	unsigned char head[PITR_WALHDR_SIZE];
	size_t head_len = 0;
	uint64_t seg_size = MAX_FILE_SIZE;
	off_t flushed = 0;
	int in = -1;
	int rc = -1;

	*total = 0;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		pitr_log_error("could not open \"%s\": %s", src, strerror(errno));
		goto out;
	}
	reader = pitr_codec_reader_new(codec, in, src);
	if (reader == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_codec_reader_read(reader, run->buf, COPY_BUF_SIZE);
		size_t off = 0;

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (check != NULL && head_len < sizeof(head)) {
			size_t take = sizeof(head) - head_len < (size_t)n ? sizeof(head) - head_len
									   : (size_t)n;

			memcpy(head + head_len, run->buf, take);
			head_len += take;
			if (head_len == sizeof(head)) {
				(void)pitr_walhdr_decode(head, head_len, hdr);
				if (pitr_walhdr_check(hdr, check, src) != 0)
					goto out;
				seg_size = hdr->seg_size;
			}
		}
		*total += (uint64_t)n;
		if (*total > seg_size) {
			if (check != NULL)
				pitr_log_error("\"%s\" holds more than the %llu bytes its header says "
					       "segments are", src, (unsigned long long)seg_size);
			else
				pitr_log_error("\"%s\" holds more than %llu bytes: not a file PostgreSQL "
					       "archived", src, (unsigned long long)seg_size);
			goto out;
		}
		while (off < (size_t)n) {
			ssize_t w = write(fd, run->buf + off, (size_t)n - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				pitr_log_error("could not write \"%s\": %s", out_path, strerror(errno));
				goto out;
			}
			off += (size_t)w;
		}
		pitr_fsutil_writeback(fd, &flushed, (off_t)*total);
	}
	if (check != NULL && head_len < sizeof(head)) {
		pitr_log_error("\"%s\" holds %llu bytes: too short to be a WAL segment", src,
			       (unsigned long long)*total);
		goto out;
	}
	if (check != NULL && *total != seg_size) {
		pitr_log_error("\"%s\" holds %llu bytes of WAL but its header says segments are %llu "
			       "bytes", src, (unsigned long long)*total, (unsigned long long)seg_size);
		goto out;
	}
	rc = 0;
out:
	pitr_codec_reader_free(reader);
	if (in >= 0)
		close(in);
	return rc;
}

/* A segment of another cluster must not be handed over: compare with the
 * archive's record, when pitr-archive made one. */
static int
check_cluster(struct restore_run *run, const char *src, uint64_t sysid)
{
	uint64_t recorded;
	int found = pitr_sysid_read(run->source.location, &recorded);

	if (found < 0)
		return -1;
	if (found == 0 && recorded != sysid) {
		pitr_log_error("\"%s\" is WAL of database system %llu, but archive \"%s\" holds "
			       "system %llu", src, (unsigned long long)sysid, run->source.location,
			       (unsigned long long)recorded);
		return -1;
	}
	return 0;
}

/*
 * Decompress `src` into a new temporary file in `dir` named after `base`,
 * checked as the segment `check` (whole, its header, its cluster; *hdr gets
 * the header) unless that is NULL, and fsync'ed.  Returns 0 with *tmp_out
 * (malloc'd) naming the closed file, for the caller to rename or unlink;
 * -1 after logging, with nothing left behind.
 */
static int
decompress_to_temp(struct restore_run *run, const char *src, enum pitr_codec codec,
		   const char *dir, const char *base, const struct pitr_wal_name *check,
		   struct pitr_walhdr *hdr, char **tmp_out)
{
	char *tmp = NULL;
	uint64_t total = 0;
	int fd = -1;

	*tmp_out = NULL;
	if (asprintf(&tmp, "%s/%s%s.XXXXXX", dir, PITR_FSUTIL_TMP_PREFIX, base) < 0) {
		pitr_log_error("out of memory");
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not create a temporary file in \"%s\": %s", dir,
			       strerror(errno));
		free(tmp);
		return -1;
	}
	if (decompress_to(run, src, codec, fd, tmp, check, hdr, &total) != 0)
		goto fail;
	if (check != NULL && check_cluster(run, src, hdr->sysid) != 0)
		goto fail;
	if (fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		pitr_log_error("could not write \"%s\": %s", tmp, strerror(errno));
		goto fail;
	}
	*tmp_out = tmp;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

/* Decompress, check, fsync and rename the archive file `src` to %p. */
static int
deliver_archived(struct restore_run *run, const char *src, enum pitr_codec codec)
{
	bool is_segment = run->kind == PITR_WAL_SEGMENT || run->kind == PITR_WAL_PARTIAL;
	double started = mono_ms();
	struct pitr_walhdr hdr;
	char *tmp = NULL;
	int rc = -1;

	if (decompress_to_temp(run, src, codec, run->dest_dir, run->dest_base,
			       is_segment ? &run->name : NULL, &hdr, &tmp) != 0)
		return -1;
	if (is_segment)
		run->seg_size = hdr.seg_size;
	if (got_usr1) {
		pitr_log_info("SIGUSR1 received: immediate finish of recovery, \"%s\" not restored",
			      run->opts->wal_name);
		goto out;
	}
	if (rename(tmp, run->dest_path) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", tmp, run->dest_path,
			       strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (pitr_fsutil_fsync_dir(run->dest_dir) != 0)
		goto out;
	pitr_log_info("restored \"%s\" from \"%s\" in %.1f ms", run->opts->wal_name, src,
		      mono_ms() - started);
	rc = 0;
out:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	return rc;
}

/* --- -pf: segments decompressed ahead ------------------------------------ */

/* The worker's lock, inside the prefetch dir: one worker at a time. */
#define PREFETCH_LOCK "worker.pid"

/*
 * Hand %f over from the prefetch dir, if a worker left it there.  The
 * worker checked it before giving it its name; the header, size and
 * cluster are checked again (a few bytes) so that nothing another process
 * put there reaches the server.  Returns 1 when it is at %p, fsync'ed; 0
 * when there is no usable copy (an unusable one is removed: the caller
 * decompresses from the archive); -1 after logging a failure.
 */
static int
take_prefetched(struct restore_run *run)
{
	double started = mono_ms();
	struct pitr_walhdr hdr;
	char *path = pitr_fsutil_join(run->prefetch_dir, run->opts->wal_name);
	int fd = -1;
	int rc = -1;

	if (path == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	if (access(path, F_OK) != 0) {
		rc = 0;
		goto out;
	}
	if (pitr_walhdr_read_file(path, &run->name, &hdr) != 0 ||
	    check_cluster(run, path, hdr.sysid) != 0) {
		pitr_log_info("not using the prefetched \"%s\": restoring it from the archive", path);
		(void)unlink(path);
		rc = 0;
		goto out;
	}
	/* The worker fsync'ed it; this costs nothing then, and makes sure. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (got_usr1) {
		pitr_log_info("SIGUSR1 received: immediate finish of recovery, \"%s\" not restored",
			      run->opts->wal_name);
		goto out;
	}
	if (rename(path, run->dest_path) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", path, run->dest_path,
			       strerror(errno));
		goto out;
	}
	if (pitr_fsutil_fsync_dir(run->dest_dir) != 0)
		goto out;
	run->seg_size = hdr.seg_size;
	pitr_log_info("restored \"%s\" from the prefetched \"%s\" in %.1f ms", run->opts->wal_name,
		      path, mono_ms() - started);
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Hand `src` over: the prefetched copy of a segment when there is one,
 * else decompressed from the archive. */
static int
deliver(struct restore_run *run, const char *src, enum pitr_codec codec)
{
	if (run->prefetch_dir != NULL && run->kind == PITR_WAL_SEGMENT) {
		int took = take_prefetched(run);

		if (took != 0)
			return took > 0 ? 0 : -1;
	}
	return deliver_archived(run, src, codec);
}

/*
 * Remove from the prefetch dir what no later call will take: with
 * `keep_window`, every segment but the -pf ones after %f on its timeline,
 * and temporary files (only the lock holder calls it so, and any it finds
 * were left by a killed worker); without, every segment.  The lock file
 * and another worker's temporary files are left alone.
 */
static void
prefetch_prune(struct restore_run *run, bool keep_window)
{
	uint64_t wanted = 0;
	struct dirent *de;
	DIR *dir = opendir(run->prefetch_dir);

	if (dir == NULL) {
		if (errno != ENOENT)
			pitr_log_error("could not open directory \"%s\": %s", run->prefetch_dir,
				       strerror(errno));
		return;
	}
	if (keep_window)
		wanted = pitr_wal_segno(&run->name, run->seg_size);
	while ((de = readdir(dir)) != NULL) {
		struct pitr_wal_name name;
		bool drop;

		if (strncmp(de->d_name, PITR_FSUTIL_TMP_PREFIX, strlen(PITR_FSUTIL_TMP_PREFIX)) == 0) {
			drop = keep_window;
		} else if (pitr_wal_parse(de->d_name, &name) == PITR_WAL_SEGMENT) {
			drop = !keep_window || name.tli != run->name.tli;
			if (!drop) {
				uint64_t segno = pitr_wal_segno(&name, run->seg_size);

				drop = segno <= wanted || segno > wanted + (uint64_t)run->opts->prefetch;
			}
		} else {
			drop = false;
		}
		if (drop && unlinkat(dirfd(dir), de->d_name, 0) != 0 && errno != ENOENT)
			pitr_log_error("could not remove \"%s/%s\": %s", run->prefetch_dir, de->d_name,
				       strerror(errno));
	}
	closedir(dir);
}

/* Decompress the archive's `walname` (`name`) to `final` in the prefetch
 * dir, checked and fsync'ed.  Returns 0, 1 when the archive does not hold
 * it (yet), -1 after logging. */
static int
prefetch_one(struct restore_run *run, const struct pitr_wal_name *name, const char *walname,
	     const char *final)
{
	double started = mono_ms();
	enum pitr_codec codec;
	struct pitr_walhdr hdr;
	char *src = NULL, *tmp = NULL;
	int found;
	int rc = -1;

	found = pitr_archdir_find(run->source.location, walname, run->source.codec, &src, &codec,
				  NULL);
	if (found <= 0)
		return found == 0 ? 1 : -1;
	if (decompress_to_temp(run, src, codec, run->prefetch_dir, walname, name, &hdr, &tmp) != 0)
		goto out;
	if (got_term)
		goto out;
	if (rename(tmp, final) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", tmp, final, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	pitr_log_verbose("prefetched \"%s\" from \"%s\" in %.1f ms", walname, src,
			 mono_ms() - started);
	rc = 0;
out:
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(src);
	return rc;
}

/* The worker: under the prefetch dir's lock, drop what is stale, then
 * decompress the -pf segments after %f that the archive holds. */
static void
prefetch_work(struct restore_run *run)
{
	struct pitr_wal_name next = run->name;
	struct pitr_pidfile *lock = NULL;
	struct sigaction old_quit;
	char *lock_path = NULL;
	bool busy;
	int devnull;

	/* The parent removes its --pid-file when it returns. */
	pitr_pidfile_forget(run->pidfile);
	run->pidfile = NULL;
	/* The server's immediate shutdown sends the group SIGQUIT: end as on
	 * SIGTERM, leaving no temporary file. */
	(void)set_handler(SIGQUIT, on_term, &old_quit);
	/* Whoever reads the restore command's output must not wait for the
	 * worker (the log, on stderr without -l, stays). */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		(void)dup2(devnull, STDIN_FILENO);
		(void)dup2(devnull, STDOUT_FILENO);
		close(devnull);
	}
	if (mkdir(run->prefetch_dir, 0700) != 0 && errno != EEXIST) {
		pitr_log_error("could not create directory \"%s\": %s", run->prefetch_dir,
			       strerror(errno));
		return;
	}
	lock_path = pitr_fsutil_join(run->prefetch_dir, PREFETCH_LOCK);
	if (lock_path == NULL) {
		pitr_log_error("out of memory");
		return;
	}
	lock = pitr_pidfile_try(lock_path, &busy);
	free(lock_path);
	if (lock == NULL)
		return;  /* another worker is at it, or the failure is logged */
	prefetch_prune(run, true);
	for (int ahead = 0; ahead < run->opts->prefetch && !got_term; ahead++) {
		char walname[PITR_WAL_NAME_MAX];
		char *path;
		int rc = 0;

		if (pitr_wal_next(&next, run->seg_size) != 0)
			break;
		pitr_wal_format(walname, &next);
		path = pitr_fsutil_join(run->prefetch_dir, walname);
		if (path == NULL) {
			pitr_log_error("out of memory");
			break;
		}
		if (access(path, F_OK) != 0)
			rc = prefetch_one(run, &next, walname, path);
		free(path);
		if (rc != 0)
			break;
	}
	pitr_pidfile_release(lock);
}

/* Fork the worker and return at once; a failed fork only costs speed. */
static void
prefetch_start(struct restore_run *run)
{
	pid_t pid = fork();

	if (pid < 0) {
		pitr_log_info("could not start prefetching: %s", strerror(errno));
		return;
	}
	if (pid > 0)
		return;
	/* The -h copies' directory is the parent's to remove. */
	free(run->hook_dir);
	run->hook_dir = NULL;
	prefetch_work(run);
	run_free(run);
	pitr_log_close();
	_exit(0);
}

/* Wait up to `ms`, in poll steps, for SIGTERM/SIGINT or a decided finish
 * trigger.  Returns the finish mode seen (FINISH_NONE or PENDING when the
 * time ran out), or -1 for a termination signal. */
static int
wait_hang_step(struct restore_run *run, int ms)
{
	double until = mono_ms() + ms;

	while (mono_ms() < until) {
		enum finish_mode mode;

		if (got_term)
			return -1;
		mode = check_finish(run);
		if (mode == FINISH_SMART || mode == FINISH_IMMEDIATE)
			return (int)mode;
		sleep_ms(run->poll_ms);
	}
	return (int)FINISH_NONE;
}

/*
 * What may be removed: -r's SEGMENT, or pg_controldata's REDO WAL file.
 * When pg_controldata fails, -ep decides: break fails the call, ignore
 * skips removal for the rest of it, hang waits (retrying now and then)
 * until it works, a finish trigger or a termination signal.
 */
static enum cutoff_result
get_cutoff(struct restore_run *run, struct pitr_wal_name *cutoff)
{
	const struct pitr_restore_opts *opts = run->opts;
	const char *data_dir = opts->data_dir != NULL ? opts->data_dir : ".";
	bool hanging = false;

	if (run->have_fixed_cutoff) {
		*cutoff = run->fixed_cutoff;
		return CUTOFF_OK;
	}
	for (;;) {
		struct pitr_controldata cd;
		int waited;

		if (run->controldata_prog == NULL)
			run->controldata_prog = pitr_controldata_find(opts->pgcontroldata_path, data_dir);
		if (run->controldata_prog != NULL &&
		    pitr_controldata_read(run->controldata_prog, data_dir, &cd) == 0) {
			(void)pitr_wal_parse(cd.redo_wal_file, cutoff);
			if (hanging)
				pitr_log_info("pg_controldata works again: going on");
			return CUTOFF_OK;
		}
		switch (opts->error_pgcontroldata) {
		case PITR_RESTORE_EP_BREAK:
			pitr_log_info("not restoring \"%s\": pg_controldata failed, so the files to "
				      "remove are unknown (--error-pgcontroldata break)", opts->wal_name);
			return CUTOFF_FAIL;
		case PITR_RESTORE_EP_IGNORE:
			pitr_log_info("pg_controldata failed: no removal in this call "
				      "(--error-pgcontroldata ignore)");
			run->removal_done = true;
			return CUTOFF_SKIP;
		case PITR_RESTORE_EP_HANG:
			break;
		}
		if (!hanging)
			pitr_log_info("pg_controldata failed: waiting until it works again, a finish "
				      "trigger or a signal (--error-pgcontroldata hang)");
		hanging = true;
		waited = wait_hang_step(run, run->hang_retry_ms);
		if (waited < 0) {
			pitr_log_info("interrupted by a signal while waiting for pg_controldata");
			return CUTOFF_FAIL;
		}
		if (waited == FINISH_IMMEDIATE)
			return CUTOFF_FAIL;
		if (waited == FINISH_SMART) {
			run->removal_done = true;
			return CUTOFF_SKIP;
		}
	}
}

/* -h: hand the file to the hook, uncompressed, under its WAL name, before
 * it is removed.  The command runs with execvp, never a shell. */
static int
pre_removal_hook(void *ctx, const char *dir, const struct pitr_archdir_entry *entry)
{
	struct restore_run *run = ctx;
	const char *tmpdir = run->opts->temp_dir;
	char walname[PITR_WAL_NAME_MAX];
	char *src = NULL, *copy = NULL;
	uint64_t total;
	int fd = -1;
	int rc = -1;

	if (run->hook_argv == NULL)
		return 0;
	if (tmpdir == NULL)
		tmpdir = getenv("TMPDIR") != NULL && *getenv("TMPDIR") != '\0' ? getenv("TMPDIR")
									  : PITR_FSUTIL_TMPDIR_DEFAULT;
	if (run->hook_dir == NULL) {
		if (asprintf(&run->hook_dir, "%s/pitr-restore.XXXXXX", tmpdir) < 0) {
			run->hook_dir = NULL;
			goto nomem;
		}
		if (mkdtemp(run->hook_dir) == NULL) {
			pitr_log_error("could not create a temporary directory in \"%s\": %s", tmpdir,
				       strerror(errno));
			free(run->hook_dir);
			run->hook_dir = NULL;
			goto out;
		}
	}
	pitr_wal_format(walname, &entry->name);
	src = pitr_fsutil_join(dir, entry->file);
	copy = pitr_fsutil_join(run->hook_dir, walname);
	if (src == NULL || copy == NULL)
		goto nomem;
	fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		pitr_log_error("could not create \"%s\": %s", copy, strerror(errno));
		goto out;
	}
	if (decompress_to(run, src, entry->codec, fd, copy, NULL, NULL, &total) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		pitr_log_error("could not write \"%s\": %s", copy, strerror(errno));
		goto out;
	}
	fd = -1;
	run->hook_argv[run->hook_argc] = copy;
	if (pitr_spawn_run(run->hook_argv) != 0) {
		run->hook_argv[run->hook_argc] = NULL;
		goto out;
	}
	run->hook_argv[run->hook_argc] = NULL;
	pitr_log_verbose("--pre-removal-processing done for \"%s\"", src);
	rc = 0;
	goto out;
nomem:
	pitr_log_error("out of memory");
out:
	if (rc != 0 && src != NULL)
		pitr_log_info("removal of \"%s\" and newer files postponed", src);
	if (fd >= 0)
		close(fd);
	if (copy != NULL)
		unlink(copy);
	free(copy);
	free(src);
	return rc;
}

/* One removal pass: at most -rt files older than `cutoff`, oldest first,
 * unless the pause trigger exists.  Returns the number removed. */
static size_t
removal_pass(struct restore_run *run, const struct pitr_wal_name *cutoff)
{
	const char *pause = run->opts->removal_pause_trigger;
	char cutname[PITR_WAL_NAME_MAX];
	size_t removed = 0;

	if (pause != NULL && access(pause, F_OK) == 0) {
		if (!run->pause_logged)
			pitr_log_verbose("removal pause trigger \"%s\" exists: not removing anything",
					 pause);
		run->pause_logged = true;
		return 0;
	}
	(void)pitr_archdir_remove_older(run->source.location, cutoff, run->remove_at_a_time,
					pre_removal_hook, run, &removed);
	if (removed > 0) {
		pitr_wal_format(cutname, cutoff);
		pitr_log_info("removed %zu file%s older than \"%s\" from \"%s\"", removed,
			      removed == 1 ? "" : "s", cutname, run->source.location);
	}
	return removed;
}

/* While waiting: a removal pass when one is due.  Returns -1 when -ep
 * break (or a signal in -ep hang) says to give up the call. */
static int
removal_while_waiting(struct restore_run *run)
{
	struct pitr_wal_name cutoff;
	size_t removed;

	if (!run->opts->remove_unneeded || run->removal_done || mono_ms() < run->next_removal_ms)
		return 0;
	switch (get_cutoff(run, &cutoff)) {
	case CUTOFF_FAIL:
		return -1;
	case CUTOFF_SKIP:
		return 0;
	case CUTOFF_OK:
		break;
	}
	removed = removal_pass(run, &cutoff);
	/* A fixed cutoff cannot move: once a pass leaves nothing behind,
	 * nothing more will become removable in this call. */
	if (removed < run->remove_at_a_time && run->have_fixed_cutoff)
		run->removal_done = true;
	run->next_removal_ms = mono_ms() + (removed == run->remove_at_a_time ? REMOVAL_BUSY_MS
									       : REMOVAL_IDLE_MS);
	return 0;
}

/* Deliver `src`, with -r's removal before (-rb) or after it.  The cutoff
 * is learnt first, so that -ep break fails before anything is delivered. */
static int
deliver_and_prune(struct restore_run *run, const char *src, enum pitr_codec codec)
{
	const struct pitr_restore_opts *opts = run->opts;
	struct pitr_wal_name cutoff;
	bool prune = false;

	if (opts->remove_unneeded && !run->removal_done) {
		switch (get_cutoff(run, &cutoff)) {
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
		removal_pass(run, &cutoff);
	if (deliver(run, src, codec) != 0)
		return -1;
	if (prune && !opts->remove_before)
		removal_pass(run, &cutoff);
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
	enum pitr_codec codec;
	char *src = NULL;
	int found, rc;

	/* The server asks for history files when it starts and when recovery
	 * ends (to choose the next timeline): after a promotion no call
	 * would take the prefetched segments, so they go now. */
	if (run->prefetch_dir != NULL)
		prefetch_prune(run, false);
	found = pitr_archdir_find(run->source.location, run->opts->wal_name, run->source.codec,
				  &src, &codec, NULL);
	if (found < 0)
		return -1;
	if (found == 0) {
		pitr_log_info("\"%s\" is not in the archive", run->opts->wal_name);
		return -1;
	}
	rc = deliver(run, src, codec);
	free(src);
	return rc;
}

/* The main loop for a segment: deliver, wait, or end, as the archive and
 * the finish trigger say. */
static int
restore_loop(struct restore_run *run)
{
	const struct pitr_restore_opts *opts = run->opts;
	bool waiting_logged = false, delay_logged = false;

	if (run->kind != PITR_WAL_SEGMENT)
		return restore_other(run);
	for (;;) {
		enum finish_mode mode;
		enum pitr_codec codec;
		struct stat st;
		char *src = NULL;
		int found, rc;

		if (got_term) {
			pitr_log_info("interrupted by a signal: \"%s\" not restored", opts->wal_name);
			return -1;
		}
		mode = check_finish(run);
		if (mode == FINISH_IMMEDIATE) {
			pitr_log_info("ending recovery: \"%s\" not restored (immediate finish)",
				      opts->wal_name);
			return -1;
		}
		found = pitr_archdir_find(run->source.location, opts->wal_name, run->source.codec,
					  &src, &codec, &st);
		if (found < 0)
			return -1;
		if (found == 1 && mode != FINISH_PENDING) {
			double age_ms = real_ms() - mtime_ms(&st);

			if (opts->recovery_delay <= 0 || mode == FINISH_SMART ||
			    age_ms >= opts->recovery_delay * 1000.0) {
				rc = deliver_and_prune(run, src, codec);
				free(src);
				if (rc == 0 && run->prefetch_dir != NULL)
					prefetch_start(run);
				return rc;
			}
			if (!delay_logged)
				pitr_log_verbose("\"%s\" is in the archive but younger than the %d s "
						 "--recovery-delay: waiting", src, opts->recovery_delay);
			delay_logged = true;
		}
		free(src);
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
			if (!waiting_logged)
				pitr_log_verbose("segment \"%s\" is not in the archive yet: waiting",
						 opts->wal_name);
			waiting_logged = true;
		}
		if (removal_while_waiting(run) != 0)
			return -1;
		sleep_ms(run->poll_ms);
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
	rc = restore_loop(&run);
out:
	run_free(&run);
	return rc;
}
