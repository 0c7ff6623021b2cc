/*
 * recover.h - pitr-recover: a new data directory recovered from a
 * pitr-backup-master backup and a WAL archive, to a point in time, a
 * transaction, an LSN, a restore point, consistency, or the archive's end.
 *
 * Nothing is written until every check passed (a target the archive
 * reaches without a gap, an incremental's chain, the backup's digests, a
 * free target directory);
 * the data directory is assembled under a temporary sibling name and
 * renamed into place only when complete and synced, and everything created
 * is removed again when anything fails.
 */
#ifndef PITR_CMD_RECOVER_H
#define PITR_CMD_RECOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "repo/catalog.h"

struct pitr_standby_opts;    /* command/standby/standby.h */
struct pitr_s3_config;       /* s3/s3.h */

struct pitr_recover_opts {
	const char **backup_dirs;      /* -b [CODEC=]DIR, repeatable: the backup is
					* chosen among all of theirs */
	size_t nbackup_dirs;
	const char *backup;            /* --backup NAME|latest; NULL: chosen by the target */
	const char **archives;         /* -a [CODEC=]DIR, repeatable: the WAL checked
					* over their union, each handed to pitr-restore
					* as -s in this order (the first that has a
					* segment serves it) */
	size_t narchives;
	const char *target_dir;        /* -D, the new data directory */
	const char *target_time;       /* at most one of these five */
	const char *target_xid;
	const char *target_lsn;
	const char *target_name;
	bool target_immediate;
	const char *target_action;     /* PITR_RECOVER_TARGET_ACTIONS; NULL: the default */
	const char *target_timeline;   /* latest|current|N; NULL: the default */
	bool standby;                  /* a standby (either mode of `sb`; without sb:
					* standby.signal instead of recovery.signal) */
	const struct pitr_standby_opts *sb; /* --standby, --warm-standby and the
					* standby options; NULL: none but o->standby */
	const char **tablespace_map;   /* OLD=NEW, repeatable */
	size_t ntablespace_map;
	bool start;                    /* start the server and wait for the target */
	int port;                      /* written as port = N; 0: not written */
	const char *archive_mode;      /* PITR_RECOVER_ARCHIVE_MODES; NULL: off, preserve
					* with --standby */
	const char *pitr_recover;      /* recovery_end_command's program; NULL: this one */
	const char *pitr_restore;      /* NULL: pitr-restore next to this program */
	const char *pg_ctl;            /* NULL: pg_ctl on PATH, else by PG_VERSION */
	int wait;                      /* seconds --start waits; 0: the default */
	int prefetch;                  /* --prefetch N: restore_command's pitr-restore -pf N
					* (unless --restore-options gives -pf); 0: none */
	const struct pitr_s3_config *s3;  /* how s3:// backup dirs and archives are
					* reached (PITR_OPTS_S3), also written into
					* restore_command for an s3:// archive; NULL:
					* such locations are refused */
};

/* What --target-action may be, and the defaults pitr_cmd_recover() gives
 * the options left NULL or 0 (pitr-recover's option table shows them). */
#define PITR_RECOVER_TARGET_ACTIONS "promote|pause|shutdown"
#define PITR_RECOVER_TARGET_ACTION_DEFAULT "pause"
#define PITR_RECOVER_TARGET_TIMELINE_DEFAULT "latest"
#define PITR_RECOVER_WAIT_DEFAULT 600
/* pitr-restore -pf 4 replayed bench/restore's gzip backlog as fast as cp
 * from a plain archive; it costs up to 4 segments of room in pg_wal. */
#define PITR_RECOVER_PREFETCH_DEFAULT 4
#define PITR_RECOVER_ARCHIVE_MODES "off|preserve"   /* as PITR_STANDBY_ARCHIVE_MODES */

/* The marks around the settings that only serve the recovery; the
 * --recovery-ended mode removes the lines from the first to the second. */
#define PITR_RECOVER_BLOCK_BEGIN "# pitr-recover: recovery settings, removed when recovery ends"
#define PITR_RECOVER_BLOCK_END "# pitr-recover: end of the recovery settings"

enum pitr_recover_kind {
	PITR_RECOVER_END = 0,          /* no target: the end of the archive */
	PITR_RECOVER_TIME,
	PITR_RECOVER_XID,
	PITR_RECOVER_LSN,
	PITR_RECOVER_NAME,
	PITR_RECOVER_IMMEDIATE,
};

/* The target, parsed. */
struct pitr_recover_target {
	enum pitr_recover_kind kind;
	const char *value;             /* as given (NULL for END and IMMEDIATE) */
	char *conf_value;              /* what recovery_target_* gets (malloc'd):
					* a time without a zone gets this
					* machine's UTC offset, so PostgreSQL
					* reads the moment the backup was
					* chosen for */
	time_t epoch;                  /* TIME: whole seconds, rounded down */
	uint64_t lsn;                  /* LSN */
};

/* Check the target options (at most one target, each well-formed).
 * Returns 0, or -1 after logging the option and why.  Free with
 * pitr_recover_target_free() in either case. */
int pitr_recover_parse_target(const struct pitr_recover_opts *o, struct pitr_recover_target *t);
void pitr_recover_target_free(struct pitr_recover_target *t);

/*
 * The backup to recover from, among every backup of cat (all its backup
 * dirs; `backup_dir` names them in messages): `name` ("latest", a catalog name or one of
 * its file names), else by the target: TIME the newest that stopped
 * before it, LSN the newest whose stop LSN is at or before it, XID and
 * NAME the oldest (their position is unknown until WAL is replayed, and
 * every later one is reachable from the oldest), IMMEDIATE and END the
 * newest.  Only backups whose timeline lies on the history of `tli`
 * (0: any) are considered.  Returns the backup, or NULL after logging why
 * none fits.
 */
const struct pitr_catalog_backup *pitr_recover_choose(const struct pitr_catalog *cat,
						       const char *backup_dir, const char *name,
						       const struct pitr_recover_target *t, uint32_t tli);

/*
 * The lines pitr-recover appends to postgresql.auto.conf.  First what
 * isolates the copy from the backup's source, kept for good: every
 * replication, trigger and recovery setting the source may have set
 * (postgresql.conf included) voided by an empty or default value,
 * archive_mode = 'off' unless --archive-mode=preserve (or --standby), and
 * port with --port.  Then, between PITR_RECOVER_BLOCK_BEGIN and _END, the
 * recovery settings: restore_command (`restore_program` -sr -s ARCHIVE
 * for each of `archives`, in order, %f "%p"), the target, recovery_target_action, recovery_target_timeline,
 * and recovery_end_command (`recover_program` --recovery-ended), which
 * removes that block when recovery ends.  Each setting is written after
 * its void value, and the last occurrence of a setting is the one
 * PostgreSQL applies.  The text is the standby module's
 * (pitr_standby_added_text(), command/standby/standby.h): o->sb's mode,
 * hot_standby, recovery_prefetch, primary_conninfo, --recovery-conf's
 * settings and the --set lines after the block come from there.  `pg_major` is the backup's PostgreSQL major version
 * (promote_trigger_file is not written for 16 and later, which refuse it
 * as unknown).  malloc'd, NULL after logging ENOMEM.
 */
char *pitr_recover_conf_text(const struct pitr_recover_opts *o, const struct pitr_recover_target *t,
			     const char *backup_name, const char *restore_program,
			     const char *const *archives, size_t narchives,
			     const char *recover_program, unsigned pg_major);

/* Whether the copy archives: false unless --archive-mode=preserve, or
 * --standby without --archive-mode. */
bool pitr_recover_archives(const struct pitr_recover_opts *o);

/* pitr-restore next to the program `exe` (/proc/self/exe), stepping out
 * of libtool's .libs/ and lt- prefix in a build tree.  malloc'd, NULL
 * after logging ENOMEM. */
char *pitr_recover_restore_beside(const char *exe);

/* The program `name` next to `exe`, as pitr_recover_restore_beside. */
char *pitr_recover_program_beside(const char *exe, const char *name);

/*
 * `conf` (postgresql.auto.conf's text) without the recovery settings:
 * the lines from PITR_RECOVER_BLOCK_BEGIN to PITR_RECOVER_BLOCK_END.
 * When the marks are gone (ALTER SYSTEM rewrites the file without
 * comments), every line setting restore_command, recovery_target* or
 * recovery_end_command after the last "restore_command = ''" is removed
 * instead.  *removed: the lines removed.  malloc'd, NULL after logging
 * ENOMEM.
 */
char *pitr_recover_strip_block(const char *conf, size_t *removed);

/* pitr-recover --recovery-ended: recovery_end_command, run by the server
 * in its data directory `data_dir` when recovery ends.  Removes the
 * recovery settings from postgresql.auto.conf (pitr_recover_strip_block)
 * so that a restart does not recover again, and logs what it did and
 * whether the copy archives.  Returns 0, or -1 after logging. */
int pitr_cmd_recover_ended(const char *data_dir);

/* Run pitr-recover.  Returns 0, or -1 after logging, with nothing left
 * behind when the failure came before the data directory was complete
 * (a failure of --start leaves the recovered directory in place). */
int pitr_cmd_recover(const struct pitr_recover_opts *opts);

#endif
