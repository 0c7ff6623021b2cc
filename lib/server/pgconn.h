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

#endif
