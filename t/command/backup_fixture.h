/*
 * backup_fixture.h - what the pitr-backup-master and pitr-backup-slave
 * test programs share: a scratch directory holding a data directory with a
 * tablespace, a local destination, the -x dir's place and an archive; the
 * options pointing at them; the session with the scripted server
 * (t/server/pqfake.h) as far as each phase goes; and readers of what the
 * run produced.
 */
#ifndef PITR_T_BACKUP_FIXTURE_H
#define PITR_T_BACKUP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/backup/backup.h"

#define BF_SEG (1u << 20)
#define BF_SYSID 7300000000000000001ULL
#define BF_SYSID_TEXT "7300000000000000001"
/* The backup's WAL: start in segment 2, stop in segment 3. */
#define BF_START_LSN "0/200028"
#define BF_STOP_LSN "0/300100"
#define BF_START_WAL "000000010000000000000002"
#define BF_STOP_WAL "000000010000000000000003"
#define BF_TEMPLATE "bk-__FILETYPE__.tar__CEXT__"
#define BF_STOP_NOWAIT \
	"SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => false)"
#define BF_STOP_WAIT \
	"SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => true)"

/* Paths in the scratch directory, set by bf_setup(): the data directory
 * (PG_VERSION, global/pg_control, relations, pg_wal, files a backup
 * leaves out, pg_tblspc/16384 linking to ts), the tablespace, a local
 * destination (made), the -x dir (not made) and an archive (made). */
extern char bf_pgdata[4096], bf_ts[4096], bf_dest[4096], bf_xlogs[4096], bf_arch[4096];

/* The host name the run puts in its label and file names. */
extern char bf_host[256];

/* A fresh scratch directory with all of the above, in TZ=UTC. */
void bf_setup(void);
void bf_teardown(void);

/* Options for a backup of bf_pgdata to bf_dest with BF_TEMPLATE, -x
 * bf_xlogs, --not-nice, no digests, a 5 s WAL wait, connecting to
 * database "db1". */
void bf_opts(struct pitr_backup_opts *o);

/* The scripted server, phase by phase (each adds its calls to the
 * script): the connection and the four questions, answered as a server
 * on `data_directory` in recovery ("t") or not ("f"); */
void bf_script_connect(const char *data_directory, const char *in_recovery);
/* pg_backup_start with the run's label, answering BF_START_LSN; */
void bf_script_start(void);
/* A primary's SHOW archive_mode and archive_command, before the start:
 * bf_archive_mode ("on") and bf_archive_command (NULL: pitr-archive
 * with --dst-backup bf_xlogs). */
extern const char *bf_archive_mode, *bf_archive_command;
void bf_script_archiving(void);
/* pg_backup_stop (`sql` one of BF_STOP_*) answering BF_STOP_LSN, the
 * backup label of bf_label(standby) and `spcmap` (NULL: ""); */
void bf_script_stop(const char *sql, bool standby, const char *spcmap);
/* and the end of the session. */
void bf_script_finish(void);

/* The backup_label the scripted server gives (PRIMARY or STANDBY). */
const char *bf_label(bool standby);

/* Segment `segno` of timeline 1, as in the test's WAL: written to `dir`
 * under its name (codec NONE) or its name and the codec's extension. */
void bf_put_segment(const char *dir, uint64_t segno, int codec);

/* The members of tarball `path` in stored order, as "name size" lines
 * (size -1 for what holds no data); malloc'd. */
char *bf_tar_list(const char *path, int codec);

/* The content of member `member` of tarball `path` (malloc'd,
 * NUL-terminated; *len may be NULL); fails the test when missing. */
char *bf_tar_member(const char *path, int codec, const char *member, size_t *len);

/* The whole of file `path` decompressed by `codec` (malloc'd,
 * NUL-terminated, its length in *len, which may be NULL). */
char *bf_read(const char *path, int codec, size_t *len);

/* The names in `dir`, sorted, one per line; malloc'd. */
char *bf_dir_list(const char *dir);

/* True if `text` holds the line `line` (without its newline). */
bool bf_has_line(const char *text, const char *line);

/* A pid that names no process (a child that has exited and been
 * reaped). */
long bf_dead_pid(void);

/* h_log() without the data tarball's progress lines ("LOG : data: ..."),
 * which -v writes at each tenth and at the end (common/progress.h).
 * Static storage, valid until the next call. */
const char *bf_log(void);

#endif
