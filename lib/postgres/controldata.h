/*
 * controldata.h - what pg_controldata says about a data directory: the
 * oldest WAL file a restart needs, the segment size and the system
 * identifier.
 *
 * pg_controldata is the one external program pitr-restore runs (with
 * execvp on an argument vector, never a shell), under LC_ALL=C so that its
 * labels are not translated.  It reads global/pg_control, which the
 * running server keeps current, so its answer follows the standby's
 * restartpoints.
 */
#ifndef PITR_CONTROLDATA_H
#define PITR_CONTROLDATA_H

#include <stdint.h>

#include "postgres/wal.h"

struct pitr_controldata {
	char redo_wal_file[PITR_WAL_NAME_MAX]; /* "Latest checkpoint's REDO WAL file" */
	uint32_t seg_size;                     /* "Bytes per WAL segment" */
	uint64_t sysid;                        /* "Database system identifier" */
};

/*
 * Parse pg_controldata's output `text` (labels in English, "Label: value"
 * lines).  `what` names the source in messages (the program's path).
 * Returns 0 with *out filled, or -1 after logging one line naming `what`
 * and the first label that is missing or has a bad value.
 */
int pitr_controldata_parse(const char *text, const char *what, struct pitr_controldata *out);

/*
 * The pg_controldata program to run for `data_dir`: `path` if not NULL
 * (returned as given); else "pg_controldata" found on PATH (its full
 * path); else /usr/lib/postgresql/<the data dir's PG_VERSION>/bin/
 * pg_controldata, Debian's place for it, if that is executable.  Returns a
 * malloc'd string the caller frees, or NULL after logging.
 */
char *pitr_controldata_find(const char *path, const char *data_dir);

/*
 * Run `program` on `data_dir` and parse its output.  Returns 0 with *out
 * filled, or -1 after logging: the program could not be run, died, exited
 * with a non-zero status, or printed something unparseable.
 */
int pitr_controldata_read(const char *program, const char *data_dir,
			  struct pitr_controldata *out);

/*
 * The system identifier of the cluster whose data directory is
 * `data_dir`, read from global/pg_control itself: it is the file's first
 * field (ControlFileData.system_identifier, the host's byte order) in
 * every PostgreSQL version, never changes after initdb, and lies within
 * the 512 bytes PostgreSQL writes atomically.  No pg_controldata run (a
 * process, and a binary of the data dir's major version).  Returns 0 with
 * *out set, 1 when there is no global/pg_control (nothing logged), or -1
 * after logging (unreadable, too short).
 */
int pitr_controldata_sysid(const char *data_dir, uint64_t *out);

#endif
