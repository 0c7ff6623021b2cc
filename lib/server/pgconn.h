/*
 * pgconn.h - one libpq session to a PostgreSQL server: connect, read
 * settings, and run the non-exclusive backup protocol in that session.
 */
#ifndef PITR_PGCONN_H
#define PITR_PGCONN_H

#include <stdbool.h>

struct pitr_pgconn;

/* Connection options; NULL fields fall back to libpq's PG* environment
 * variables and defaults.  `dbname` may be a full conninfo string or URI
 * (expanded, as psql does). */
struct pitr_pgconn_params {
	const char *dbname;   /* -d */
	const char *host;     /* -h */
	const char *port;     /* -p */
	const char *user;     /* -U */
};

/* Connect.  Returns NULL after logging one line:
 * `could not connect to PostgreSQL: <libpq's first message line>`. */
struct pitr_pgconn *pitr_pgconn_connect(const struct pitr_pgconn_params *params);

/* Close the session; accepts NULL.  A backup still open on the server is
 * aborted by the server when the session ends. */
void pitr_pgconn_close(struct pitr_pgconn *c);

/* Run `sql` (no parameters) returning one row of one column; *out gets a
 * malloc'd copy of the value.  Returns 0, or -1 after logging
 * `query "<sql>" failed: <reason>`. */
int pitr_pgconn_query_value(struct pitr_pgconn *c, const char *sql, char **out);

/* SHOW `setting`; *out malloc'd.  Returns 0 or -1 (logged). */
int pitr_pgconn_show(struct pitr_pgconn *c, const char *setting, char **out);

/* SELECT pg_backup_start(label, fast => true); *lsn gets the start LSN
 * (malloc'd).  Returns 0 or -1 (logged). */
int pitr_pgconn_backup_start(struct pitr_pgconn *c, const char *label, char **lsn);

/* What pg_backup_stop returns; every field malloc'd, spcmapfile "" when
 * there are no tablespaces. */
struct pitr_pgconn_backup_stop {
	char *lsn;
	char *labelfile;
	char *spcmapfile;
};

/* SELECT * FROM pg_backup_stop(wait_for_archive => WAIT) in the session
 * that started the backup.  With wait_archive false the caller waits for
 * the WAL itself: PostgreSQL 15 looks at the archiver only once a second
 * there, which is most of a small backup's time.  Returns 0 or -1
 * (logged). */
int pitr_pgconn_backup_stop(struct pitr_pgconn *c, bool wait_archive,
			    struct pitr_pgconn_backup_stop *out);

/* Release the fields; accepts a zeroed struct. */
void pitr_pgconn_backup_stop_free(struct pitr_pgconn_backup_stop *s);

/* A tablespace outside the data directory (pg_tablespace_location() is
 * absolute; in-place tablespaces are part of the data directory). */
struct pitr_pgconn_tablespace {
	char *oid;
	char *location;
};

/* Every such tablespace, by OID.  Returns 0 with *out (malloc'd, for
 * pitr_pgconn_tablespaces_free()) and *n set, or -1 (logged). */
int pitr_pgconn_tablespaces(struct pitr_pgconn *c, struct pitr_pgconn_tablespace **out, size_t *n);
void pitr_pgconn_tablespaces_free(struct pitr_pgconn_tablespace *ts, size_t n);

/* A temporary physical replication slot `name` reserving WAL from now on
 * (pg_create_physical_replication_slot(name, true, true)): the server
 * keeps every segment from its LSN until the session ends.  *lsn gets the
 * slot's restart LSN (malloc'd).  Returns 0 or -1 (logged). */
int pitr_pgconn_create_temp_slot(struct pitr_pgconn *c, const char *name, char **lsn);

#endif
