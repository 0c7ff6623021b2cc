/*
 * bcleanup.h - pitr-backup-cleanup: retention.  Removes the backups
 * that started more than --keep-days ago and are not among the
 * --keep-count newest, never the newest, nor any backup a kept
 * incremental's chain needs, and the archived WAL that no remaining
 * backup needs.  A backup here is a backup run: the copies one
 * run wrote under several codecs (same label, start LSN, start time and
 * host) are counted once and stay or go together.
 *
 * Backups are found by their meta files through catalog.h, so the
 * filename template they were written with does not matter.  Either
 * location may be an object store (s3://BUCKET/PREFIX/): the same rules,
 * objects deleted, and the multipart uploads killed runs left there
 * aborted (bcleanup_impl.h).
 */
#ifndef PITR_CMD_BCLEANUP_H
#define PITR_CMD_BCLEANUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Removed files are first renamed to this prefix + their name + this
 * suffix when they are truncated in steps (see --truncate), so that a
 * shortened file never stands at its real name; a leftover of an
 * interrupted run is removed by the next. */
#define PITR_BCLEANUP_TRUNC_SUFFIX ".bcleanup"

struct pitr_s3_config;

struct pitr_bcleanup_opts {
	const char *archive;      /* -a [CODEC=]DIR or [CODEC=]s3://BUCKET/PREFIX/
				   * (required); the codec does not matter: every
				   * codec's files are considered */
	const char *backup_dir;   /* -b [CODEC=]DIR or s3://... (required); likewise */
	long keep_days;           /* -k: at least 1; 0 (only with keep_count): no
				   * day rule, the count alone decides */
	long keep_count;          /* --keep-count: keep this many newest backups
				   * whatever their age; 0: no count rule */
	uint64_t truncate;        /* -t BYTES: shrink larger files by this much at a
				   * time before unlinking them; 0: unlink at once */
	long sleep_ms;            /* -s: pause after each truncation step */
	bool dry_run;             /* -d: log what would go, remove nothing */
	const char *pid_file;     /* --pid-file */
	const char *filename_template;  /* -f: accepted, unused (orphans are told by
					 * their run's journal, backups
					 * found by their meta files); NULL: default */
	int min_age;              /* seconds an orphan (ctime) or unlocked temporary
				   * file (mtime) must be unchanged before it goes;
				   * 0: PITR_DEST_UNLOCKED_MIN_AGE, < 0: none (tests) */
	time_t now;               /* the time the window is counted from;
				   * 0: time(NULL) (tests pin it) */
	long pending_age;         /* --pending-age: seconds a multipart upload in an
				   * object store must have been begun before it
				   * is aborted; 0: PITR_DEST_S3_PENDING_MIN_AGE,
				   * < 0: none (every pending upload) */
	const struct pitr_s3_config *s3;  /* PITR_OPTS_S3; NULL: s3:// refused */
};

/*
 * Remove every backup neither rule keeps: the day rule keeps those whose
 * start is at most keep_days * 86400 seconds before `now`, the count rule
 * the keep_count newest runs (by start; a run's copies under several
 * codecs are one); every copy of the newest run is always kept.  Every
 * backup whose label is in a kept backup's chain is kept too (issue 13),
 * so a chain goes whole, newest member first, once no rule keeps its
 * newest member.
 * Each removed backup goes with all its files (data, xlog, sig,
 * digests, the meta last); then every archived segment, partial segment
 * and backup history file positioned before the start segment of the
 * oldest backup that remains (timeline ignored, any codec extension), oldest
 * first.  Timeline history files are never removed.  Each removal is
 * logged ("Removing backup file: PATH", "Removing xlog file: PATH", with
 * "(dry-run) " in front and nothing removed under dry_run: one code path
 * decides for both) and the run ends with "Removed N files, total: X.XMB".
 *
 * Refuses (error, nothing removed) when the backup dir holds no backup: WAL
 * with no backup to anchor it is not judged unneeded.  A file that cannot
 * be removed is logged and makes the result -1; see bcleanup.c for how
 * the rest of the run goes on.  Returns 0, or -1 after logging.
 */
int pitr_cmd_backup_cleanup(const struct pitr_bcleanup_opts *opts);

#endif
