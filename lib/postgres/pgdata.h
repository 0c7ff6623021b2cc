/*
 * pgdata.h - what a base backup leaves out of a data directory, in one
 * place: the tar writer (tarwrite.c) skips these names, and pitr-synch's
 * rsync filter (command/synch/delta.c) hides them from the copy and
 * removes them at the output.
 *
 * The lists are PostgreSQL 15's basebackup.c: the contents (not the
 * directories) of excludeDirContents, at any depth; pg_wal's contents, at
 * the top only; the files of excludeFiles, at any depth, some by prefix;
 * anything named pgsql_tmp*.
 */
#ifndef PITR_PGDATA_H
#define PITR_PGDATA_H

#include <stdbool.h>
#include <stdint.h>

/* Directories whose contents are not copied (NULL-terminated); pg_wal is
 * not among them: it is excluded at the top of the data directory only. */
extern const char *const pitr_pgdata_exclude_dir_contents[];

/* Files not copied, by exact name (NULL-terminated). */
extern const char *const pitr_pgdata_exclude_files[];

/* Files (and directories) not copied, by prefix (NULL-terminated). */
extern const char *const pitr_pgdata_exclude_file_prefixes[];

/* The top-level directory whose contents are not copied, but for an empty
 * archive_status in it (the server needs that to start). */
#define PITR_PGDATA_WAL_DIR "pg_wal"

/* Whether the entry `name` (in any directory of the data directory) is
 * left out, contents and all. */
bool pitr_pgdata_excluded_name(const char *name);

/* Whether the directory `name`, `depth` levels below the data directory
 * (0: at its top), is copied without its contents. */
bool pitr_pgdata_excluded_contents(const char *name, int depth);

/*
 * What a base backup of the data directory `dir` holds, by a walk that
 * reads no file: its regular files, and the bytes of the tar that
 * tar/tarwrite.c writes of it and of the tablespaces that pg_tblspc's
 * links lead to (a 512-byte header per entry, contents padded to 512
 * bytes; exact for names under 100 bytes, which need no pax header).  The
 * backup_label and tablespace_map added at the end are not counted.  An
 * estimate for a progress display: entries that vanish or cannot be read
 * are skipped, never reported.
 */
void pitr_pgdata_estimate(const char *dir, uint64_t *tar_bytes, uint64_t *files);

#endif
