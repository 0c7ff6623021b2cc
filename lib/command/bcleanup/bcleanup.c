/*
 * bcleanup.c - pitr-backup-cleanup: remove the backups neither rule keeps
 * (--keep-days' window, --keep-count's newest; the newest always) and the
 * archived WAL that no remaining backup needs.
 *
 * Order, chosen so that a run killed at any point leaves nothing that looks
 * usable and is not:
 *  - Backups before WAL.  Killed in between, the archive merely keeps WAL
 *    longer than needed; the other way round, old backups would stand
 *    complete in the catalog without the WAL they need.
 *  - Backups newest first: a chain of incrementals goes from its newest
 *    member down, so a run killed on the way leaves a shorter chain that
 *    still recovers, never an incremental without its base.  A backup
 *    stays whole while any kept backup's chain names it (issue 13).
 *  - Within a backup: the data file first, then the xlog tarball, the
 *    sig file, the digest files, and the meta file last.  The catalog
 *    stops offering a backup as soon as its data file is gone (it becomes
 *    a listed problem, so pitr-recover never picks a half-removed backup,
 *    nor pitr-backup-master --incremental-from latest a base), while the
 *    meta stays as the one record that names the rest: removing the meta
 *    first would leave the data and xlog tarballs as orphans nothing
 *    reports.
 *  - WAL oldest first, stopping at the first file that cannot be removed,
 *    so the archive keeps one contiguous run from that file on and never
 *    gets a hole that pitr-verify would then report as a gap.
 *
 * A backup whose data file could not be removed counts as still present:
 * its WAL is kept as if it were in the window, and so is its chain.  A
 * later failure inside a backup stops that backup (its meta stays, listed
 * by the catalog as a problem) but not the others.  Any failure makes the
 * run's result -1.
 *
 * WAL is kept from the start of the oldest backup that stays, a chain's
 * full backup kept only for its incrementals included: every backup left
 * is recoverable by itself, to any moment after it, as pitr-info shows
 * and pitr-verify checks.
 *
 * --dry-run goes through exactly the same decisions; only the unlink (and
 * truncation) is skipped, so it lists what a real run removes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repo/catalog.h"
#include "repo/orphan.h"
#include "command/bcleanup/bcleanup.h"
#include "dest/dest.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/wal.h"

#define SECONDS_PER_DAY 86400
#define KEEP_DAYS_MAX 100000
#define KEEP_COUNT_MAX 100000
#define SLEEP_MS_MAX 3600000

struct bc_run {
	const struct pitr_bcleanup_opts *opts;
	const char *prefix;       /* "(dry-run) " or "" */
	size_t count;             /* files removed (or, dry, that would be) */
	uint64_t bytes;
	bool failed;
};

static bool
is_trunc_leftover(const char *name)
{
	size_t len = strlen(name), plen = strlen(PITR_FSUTIL_TMP_PREFIX),
	       slen = strlen(PITR_BCLEANUP_TRUNC_SUFFIX);

	return len > plen + slen && strncmp(name, PITR_FSUTIL_TMP_PREFIX, plen) == 0 &&
	       strcmp(name + len - slen, PITR_BCLEANUP_TRUNC_SUFFIX) == 0;
}

/*
 * Shrink `path` by opts->truncate bytes at a time, pausing after each step,
 * then unlink it.  The file is first renamed to a temporary name in the
 * same directory: a file cut short must never stand at its real name (a
 * truncated WAL segment would look like a corrupt one), and a successful
 * rename also shows the directory lets us unlink.  A leftover that already
 * has such a name is shrunk where it is.
 */
static int
shrink_and_unlink(struct bc_run *run, const char *dir, const char *file, const char *path,
		  off_t size)
{
	const off_t step = (off_t)run->opts->truncate;
	char *tmp = NULL;
	const char *target = path;
	int fd = -1, rc = -1;

	if (!is_trunc_leftover(file)) {
		tmp = pitr_xasprintf("%s/%s%s%s", dir, PITR_FSUTIL_TMP_PREFIX, file,
				     PITR_BCLEANUP_TRUNC_SUFFIX);
		if (tmp == NULL)
			return -1;
		if (rename(path, tmp) != 0) {
			pitr_log_error("could not remove \"%s\": renaming it to \"%s\" failed: %s",
				       path, tmp, strerror(errno));
			goto out;
		}
		target = tmp;
	}
	fd = open(target, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	/* Locked while it shrinks, so that no other program's sweep of dead
	 * temporary files unlinks it at once, in one go. */
	if (fd >= 0)
		(void)flock(fd, LOCK_EX | LOCK_NB);
	if (fd < 0)
		pitr_log_info("could not open \"%s\" to truncate it (%s): unlinking it at once",
			      target, strerror(errno));
	while (fd >= 0 && size > step) {
		size -= step;
		if (ftruncate(fd, size) != 0) {
			pitr_log_info("could not truncate \"%s\" (%s): unlinking it at once", target,
				      strerror(errno));
			break;
		}
		pitr_log_verbose("Truncated %s to %jd bytes", target, (intmax_t)size);
		pitr_clock_sleep_ms(run->opts->sleep_ms);
	}
	if (fd >= 0)
		close(fd);
	if (unlink(target) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\" (renamed from \"%s\"): %s", target, path,
			       strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

/*
 * The one place a file is removed, or, in a dry run, only named.  `kind`
 * is "backup", "xlog", "orphan" or "leftover" (OmniPITR's log words for the first
 * two).  A file already gone (a concurrent run) is not an error and not
 * counted.  Returns 0, or -1 after logging.
 */
static int
remove_file(struct bc_run *run, const char *kind, const char *dir, const char *file)
{
	struct stat st;
	char *path = pitr_fsutil_join(dir, file);
	int rc = -1;

	if (path == NULL)
		return -1;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT) {
			pitr_log_info("%s file already gone: %s", kind, path);
			rc = 0;
		} else {
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
		}
		goto out;
	}
	pitr_log_info("%sRemoving %s file: %s", run->prefix, kind, path);
	if (!run->opts->dry_run) {
		if (run->opts->truncate > 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size > run->opts->truncate) {
			if (shrink_and_unlink(run, dir, file, path, st.st_size) != 0)
				goto out;
		} else if (unlink(path) != 0 && errno != ENOENT) {
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
			goto out;
		}
	}
	run->count++;
	run->bytes += (uint64_t)st.st_size;
	rc = 0;
out:
	free(path);
	return rc;
}

/* Whether `name` in `dir` changed (ctime for an orphan: its publishing
 * rename sets it; mtime for a temporary file: its writes) less than the
 * minimum age ago, logged: a remote writer holds no lock we can see, so a
 * young file may be one still being published. */
static bool
too_young(const struct bc_run *run, const char *kind, const char *dir, const char *name,
	  bool use_ctime)
{
	int min_age = run->opts->min_age != 0 ? run->opts->min_age : PITR_DEST_UNLOCKED_MIN_AGE;
	char *path;
	struct stat st;
	time_t changed;

	if (min_age < 0 || (path = pitr_fsutil_join(dir, name)) == NULL)
		return min_age >= 0;
	if (lstat(path, &st) != 0) {
		free(path);
		return false;   /* gone: remove_file() says so */
	}
	changed = use_ctime ? st.st_ctime : st.st_mtime;
	if (time(NULL) - changed < min_age) {
		pitr_log_info("%s file left for now: younger than %d minutes (a backup may still be "
			      "publishing it from another host): %s", kind, min_age / 60, path);
		free(path);
		return true;
	}
	free(path);
	return false;
}

/* Remove what killed runs left in `dir`: an interrupted truncation's
 * file (finished as it was begun) and every other temporary file that no
 * live run holds locked (tmpfile.h) and that is older than the minimum
 * age: a --dst-direct writer's file stands unlocked between its upload and
 * its publish; a staging directory is not expected here and stays. */
static int
remove_leftovers(struct bc_run *run, const char *dir)
{
	struct pitr_tmp_found *found;
	size_t n;
	int rc = 0;

	if (pitr_tmp_scan(dir, &found, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!found[i].is_dir && !too_young(run, "leftover", dir, found[i].name, false) &&
		    remove_file(run, "leftover", dir, found[i].name) != 0)
			rc = -1;
	pitr_tmp_found_free(found, n);
	return rc;
}

/* pitr_orphan_sweep()'s remover: a file a dead backup run's journal
 * names, its meta file absent (repo/orphan.h), once old enough.  Files
 * without meta that no journal names (OmniPITR's backups) never come
 * here. */
static int
remove_orphan(void *arg, const char *dir, const char *name, bool other_host)
{
	struct bc_run *run = arg;

	(void)other_host;  /* the age guard is for every host's: see too_young() */
	if (too_young(run, "orphan", dir, name, true))
		return 1;
	if (remove_file(run, "orphan", dir, name) != 0) {
		run->failed = true;
		return -1;
	}
	/* A dry run removes nothing: the journal stays for the real one. */
	return run->opts->dry_run ? 1 : 0;
}

/* The orphans once no backup run holds the dir's lock: none is
 * publishing them.  They are looked for only once the lock is held, not
 * taken from the catalog loaded before: a backup that published its data
 * file then has finished since.  The lock is held only while they go, so
 * a backup starting meanwhile waits that long. */
static void
remove_orphans(struct bc_run *run, const char *dir)
{
	int fd = pitr_orphan_lock(dir, true);

	if (fd == -2) {
		pitr_log_info("a backup is running into \"%s\": the files without meta there may be "
			      "its own, left for a later run", dir);
		return;
	}
	if (fd == -1) {
		run->failed = true;
		return;
	}
	if (pitr_orphan_sweep(dir, run->opts->dry_run, remove_orphan, run) != 0)
		run->failed = true;
	close(fd);
}

/* Remove one backup's files, data first and meta last (see the top); a
 * remnant (no data file) has its other files removed the same way.
 * Returns true when the backup is still whole: its data file stayed. */
static bool
remove_backup(struct bc_run *run, const char *dir, const struct pitr_catalog_backup *b)
{
	pitr_log_verbose("- Backup %s (started %s)%s", b->name, b->start_time,
			 b->data_file == NULL ? ", half removed before: finishing" : "");
	if (b->data_file != NULL && remove_file(run, "backup", dir, b->data_file) != 0) {
		run->failed = true;
		return true;
	}
	if (b->xlog_file != NULL && remove_file(run, "backup", dir, b->xlog_file) != 0)
		goto fail;
	if (b->sig_file != NULL && remove_file(run, "backup", dir, b->sig_file) != 0)
		goto fail;
	for (size_t i = 0; i < b->ndigests; i++)
		if (b->digests[i].file != NULL &&
		    remove_file(run, "backup", dir, b->digests[i].file) != 0)
			goto fail;
	if (remove_file(run, "backup", dir, b->meta_file) != 0)
		goto fail;
	return false;
fail:
	pitr_log_error("backup \"%s\" is half removed: its meta file \"%s\" stays, so the next run "
		       "and pitr-info see it", b->name, b->meta_file);
	run->failed = true;
	return false;
}

static int
cmp_files(const void *pa, const void *pb)
{
	const struct pitr_catalog_file *a = *(const struct pitr_catalog_file *const *)pa;
	const struct pitr_catalog_file *b = *(const struct pitr_catalog_file *const *)pb;
	int c = pitr_wal_cmp_position(&a->name, &b->name);

	return c != 0 ? c : strcmp(a->file, b->file);
}

/* Remove the segments, partial segments and backup history files before
 * `cutoff`'s position, oldest first, stopping at the first failure. */
static int
remove_wal(struct bc_run *run, const char *dir, const struct pitr_catalog *cat,
	   const struct pitr_wal_name *cutoff)
{
	const struct pitr_catalog_file **old;
	char cutname[PITR_WAL_NAME_MAX];
	size_t n = 0;
	int rc = 0;

	pitr_wal_format(cutname, cutoff);
	if ((old = pitr_xcalloc(cat->nfiles, sizeof(*old))) == NULL)
		return -1;
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];

		if ((f->name.kind == PITR_WAL_SEGMENT || f->name.kind == PITR_WAL_PARTIAL ||
		     f->name.kind == PITR_WAL_BACKUP) && pitr_wal_cmp_position(&f->name, cutoff) < 0)
			old[n++] = f;
	}
	if (n == 0) {
		pitr_log_verbose("No xlogs to remove (the oldest backup kept starts at %s).", cutname);
		goto out;
	}
	qsort(old, n, sizeof(*old), cmp_files);
	pitr_log_verbose("%zu xlogs to be removed, from %s to %s (the oldest backup kept starts at "
			 "%s)", n, old[0]->file, old[n - 1]->file, cutname);
	for (size_t i = 0; i < n; i++)
		if (remove_file(run, "xlog", dir, old[i]->file) != 0) {
			pitr_log_error("stopped removing WAL at \"%s\": newer files stay, so the "
				       "archive keeps no hole", old[i]->file);
			rc = -1;
			break;
		}
out:
	free(old);
	return rc;
}

static int
check_opts(const struct pitr_bcleanup_opts *opts)
{
	if (opts->archive == NULL) {
		pitr_log_error("no --archive given: pitr-backup-cleanup needs the WAL archive");
		return -1;
	}
	if (opts->backup_dir == NULL) {
		pitr_log_error("no --backup-dir given: pitr-backup-cleanup needs the backup directory");
		return -1;
	}
	/* 0 days: the count alone decides (--keep-count without --keep-days). */
	if (opts->keep_days < (opts->keep_count > 0 ? 0 : 1) || opts->keep_days > KEEP_DAYS_MAX) {
		pitr_log_error("invalid value \"%ld\" for option \"--keep-days\": expected an integer "
			       "from 1 to %d", opts->keep_days, KEEP_DAYS_MAX);
		return -1;
	}
	if (opts->keep_count < 0 || opts->keep_count > KEEP_COUNT_MAX) {
		pitr_log_error("invalid value \"%ld\" for option \"--keep-count\": expected an integer "
			       "from 1 to %d", opts->keep_count, KEEP_COUNT_MAX);
		return -1;
	}
	if (opts->sleep_ms < 0 || opts->sleep_ms > SLEEP_MS_MAX) {
		pitr_log_error("invalid value \"%ld\" for option \"--sleep\": expected an integer "
			       "from 0 to %d", opts->sleep_ms, SLEEP_MS_MAX);
		return -1;
	}
	return 0;
}

/* What decides which backups stay, worked out once per run. */
struct bc_plan {
	const struct pitr_bcleanup_opts *opts;
	const struct pitr_catalog *cat;
	size_t *newer;            /* newer[i]: backup runs newer than backups[i]'s */
	bool *keep;               /* keep[i]: backups[i] stays (a rule keeps it, or
				   * a kept incremental needs it) */
	time_t keep_since;
};

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether a and b are copies of one backup run: a run writing to several
 * destinations (-dl gzip=DIR -dl DIR) leaves one catalog entry per copy. */
static bool
same_run(const struct pitr_catalog_backup *a, const struct pitr_catalog_backup *b)
{
	return a->start_epoch == b->start_epoch && a->start_lsn == b->start_lsn &&
	       same_str(a->start_time, b->start_time) && same_str(a->label, b->label) &&
	       same_str(a->host, b->host);
}

/* newer[i] for the plan: how many backup runs are newer than entry i's,
 * runs ordered by their last entry (cat->backups is oldest start first,
 * and the copies of a run, with the same start time and LSN, lie in the
 * span of entries that share both).  0 for every copy of the newest run.
 * Returns NULL after logging. */
static size_t *
count_newer_runs(const struct pitr_catalog *cat)
{
	size_t n = cat->nbackups, ends = 0;
	size_t *end = pitr_xcalloc(n, sizeof(*end));      /* its run's last entry */
	size_t *after = pitr_xcalloc(n, sizeof(*after));  /* run ends after k */

	if (end == NULL || after == NULL) {
		free(end);
		free(after);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		end[i] = i;
		for (size_t j = i + 1; j < n && cat->backups[j].start_epoch == b->start_epoch &&
				       cat->backups[j].start_lsn == b->start_lsn; j++)
			if (same_run(b, &cat->backups[j]))
				end[i] = j;
	}
	for (size_t k = n; k-- > 0;) {
		after[k] = ends;
		ends += end[k] == k;
	}
	for (size_t i = 0; i < n; i++)
		end[i] = after[end[i]];
	free(after);
	return end;
}

/* Whether backup i of cat is kept: a copy of one of the keep_count newest
 * runs, or started since keep_since (with a day rule), or a copy of the
 * newest run.  A backup is kept when either rule keeps it; the copies of
 * one run share its start, so they all stay or all go. */
static bool
kept(const struct bc_plan *p, size_t i)
{
	if (p->newer[i] == 0)
		return true;
	if (p->opts->keep_count > 0 && p->newer[i] < (size_t)p->opts->keep_count)
		return true;
	return p->opts->keep_days > 0 && p->cat->backups[i].start_epoch >= p->keep_since;
}

/* A remnant (no backup: a removal killed half way) goes once it is outside
 * the day window, or, with the count alone, older than every kept backup. */
static bool
remnant_goes(const struct bc_plan *p, const struct pitr_catalog_backup *r)
{
	if (p->opts->keep_days > 0)
		return r->start_epoch < p->keep_since;
	for (size_t i = 0; i < p->cat->nbackups; i++)
		if (p->keep[i])
			return r->start_epoch < p->cat->backups[i].start_epoch;
	return false;
}

/* Keep every backup of dir `b`'s dir whose label is in b's chain (every
 * copy of it: a run may have left several), and say why when no rule
 * keeps it.  b's chain lists every link down to the full backup, so one
 * call keeps all that recovering b reads.  Returns 0, or -1 (logged). */
static int
keep_chain(struct bc_plan *p, const struct pitr_catalog_backup *b)
{
	char **labels;
	size_t n;

	if (pitr_catalog_chain_labels(b, &labels, &n) != 0)
		return -1;
	for (size_t l = 0; l < n; l++)
		for (size_t j = 0; j < p->cat->nbackups; j++) {
			const struct pitr_catalog_backup *link = &p->cat->backups[j];

			if (p->keep[j] || link->dir != b->dir || link->label == NULL ||
			    strcmp(link->label, labels[l]) != 0)
				continue;
			p->keep[j] = true;
			pitr_log_info("keeping backup \"%s\" although no rule keeps it: the kept "
				      "incremental backup \"%s\" needs it (its chain)", link->name,
				      b->name);
		}
	pitr_catalog_chain_labels_free(labels, n);
	return 0;
}

/* plan.keep: what the rules keep, then every link of a kept backup's
 * chain.  Returns 0, or -1 (logged). */
static int
plan_keep(struct bc_plan *p)
{
	size_t n = p->cat->nbackups;

	if ((p->keep = pitr_xcalloc(n ? n : 1, sizeof(*p->keep))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		p->keep[i] = kept(p, i);
	/* Newest first: a link kept for a newer chain has its own chain
	 * kept in turn (when a meta's chain is shorter than its base's). */
	for (size_t i = n; i-- > 0;)
		if (p->keep[i] && keep_chain(p, &p->cat->backups[i]) != 0)
			return -1;
	return 0;
}

/* The plan in the log: how many go, and the newest kept beyond the days. */
static size_t
log_plan(const struct bc_plan *p)
{
	const struct pitr_bcleanup_opts *opts = p->opts;
	const struct pitr_catalog *cat = p->cat;
	size_t nold = 0;

	for (size_t i = 0; i < cat->nbackups; i++)
		nold += !p->keep[i];
	if (opts->keep_count > 0)
		pitr_log_verbose("Keeping the %ld newest backups%s.", opts->keep_count,
				 opts->keep_days > 0 ? " and those of the --keep-days window" : "");
	if (nold == 0)
		pitr_log_verbose("No backups to remove.");
	else
		pitr_log_verbose("%zu backups to remove.", nold);
	for (size_t i = 0; i < cat->nbackups; i++)
		if (opts->keep_count == 0 && p->newer[i] == 0 &&
		    cat->backups[i].start_epoch < p->keep_since)
			pitr_log_info("keeping backup \"%s\" although it started more than %ld day%s "
				      "ago: it is the newest", cat->backups[i].name, opts->keep_days,
				      opts->keep_days == 1 ? "" : "s");
	return nold;
}

/* Remove every backup the plan does not keep, newest first: a chain
 * goes from its newest member down, so that a run killed on the way
 * leaves a shorter chain that still recovers, never an incremental
 * without its base.  A backup whose data file stays is kept after all,
 * and so is its chain.  Returns 0, or -1 (logged: memory). */
static int
remove_backups(struct bc_run *run, struct bc_plan *p, const char *dir)
{
	for (size_t i = p->cat->nbackups; i-- > 0;) {
		if (p->keep[i] || !remove_backup(run, dir, &p->cat->backups[i]))
			continue;
		p->keep[i] = true;
		if (keep_chain(p, &p->cat->backups[i]) != 0)
			return -1;
	}
	return 0;
}

int
pitr_cmd_backup_cleanup(const struct pitr_bcleanup_opts *opts)
{
	struct pitr_dest_spec bspec = { 0 }, aspec = { 0 };
	struct pitr_pidfile *pidfile = NULL;
	struct pitr_catalog cat = { 0 };
	struct bc_run run = { .opts = opts, .prefix = opts->dry_run ? "(dry-run) " : "" };
	struct pitr_wal_name cutoff = { 0 };
	struct bc_plan plan = { .opts = opts, .cat = &cat };
	bool anchored = false;
	const char *bdir, *adir;
	time_t now;
	int rc = -1;

	if (check_opts(opts) != 0 ||
	    pitr_dest_spec_parse(opts->backup_dir, PITR_DEST_LOCAL, "--backup-dir", &bspec) != 0 ||
	    pitr_dest_spec_parse(opts->archive, PITR_DEST_LOCAL, "--archive", &aspec) != 0)
		goto out;
	bdir = bspec.location;
	adir = aspec.location;
	if (opts->pid_file != NULL) {
		pidfile = pitr_pidfile_acquire(opts->pid_file);
		if (pidfile == NULL)
			goto out;
	}
	if (pitr_catalog_load(opts->backup_dir, opts->archive, NULL, &cat) != 0)
		goto out;
	for (size_t i = 0; i < cat.nproblems; i++)
		pitr_log_verbose("not a backup, left alone: %s", cat.problems[i]);
	if (cat.nbackups == 0) {
		pitr_log_error("no backup in \"%s\"%s: refusing to remove anything, because without a "
			       "backup nothing tells which WAL is no longer needed", bdir,
			       cat.nproblems > 0 ? " (only files the catalog could not use: see "
						   "pitr-info)" : "");
		goto out;
	}

	now = opts->now != 0 ? opts->now : time(NULL);
	plan.keep_since = now - (time_t)opts->keep_days * SECONDS_PER_DAY;
	if ((plan.newer = count_newer_runs(&cat)) == NULL)
		goto out;
	if (remove_leftovers(&run, bdir) != 0 || remove_leftovers(&run, adir) != 0)
		run.failed = true;
	remove_orphans(&run, bdir);

	/* The newest run (cat.backups' last entry, with its copies under the
	 * other codecs) stays whatever its age: a cluster whose backups
	 * stopped must not be left with none. */
	if (plan_keep(&plan) != 0)
		goto out;
	(void)log_plan(&plan);

	if (remove_backups(&run, &plan, bdir) != 0)
		goto out;
	for (size_t i = 0; i < cat.nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat.backups[i];
		struct pitr_wal_name start;

		if (!plan.keep[i])
			continue;
		if (pitr_wal_parse(b->start_wal, &start) != PITR_WAL_SEGMENT) {
			pitr_log_error("backup \"%s\" names no start segment (\"%s\"): not removing "
				       "any WAL", b->name, b->start_wal);
			run.failed = true;
			anchored = false;
			break;
		}
		if (!anchored || pitr_wal_cmp_position(&start, &cutoff) < 0)
			cutoff = start;
		anchored = true;
	}
	/* What an earlier run killed half way left (the catalog's remnants:
	 * meta files whose data file is gone) goes once it is outside the
	 * window too; it is no backup, so it anchors no WAL. */
	for (size_t i = 0; i < cat.nremnants; i++)
		if (remnant_goes(&plan, &cat.remnants[i]))
			(void)remove_backup(&run, bdir, &cat.remnants[i]);
	if (anchored && remove_wal(&run, adir, &cat, &cutoff) != 0)
		run.failed = true;

	pitr_log_info("%sRemoved %zu files, total: %.1fMB", run.prefix, run.count,
		      (double)run.bytes / (1024.0 * 1024.0));
	rc = run.failed ? -1 : 0;
out:
	free(plan.newer);
	free(plan.keep);
	pitr_catalog_free(&cat);
	pitr_pidfile_release(pidfile);
	pitr_dest_spec_free(&aspec);
	pitr_dest_spec_free(&bspec);
	return rc;
}
