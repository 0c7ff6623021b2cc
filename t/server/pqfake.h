/*
 * pqfake.h - a scripted libpq for the unit tests: a test declares the
 * libpq calls it expects, in order, with what each one returns, then runs
 * the code under test without a server.
 *
 * pqfake.c defines every libpq function the libraries call.  Linked into a
 * test program, its definitions win over libpq's for every caller,
 * libpitrkit-backup.so included: the dynamic linker looks in the
 * executable first.  (libpq is still loaded, as a dependency of the
 * library, and never called.)
 *
 * Scripted calls, matched in order: PQconnectdbParams, PQpingParams,
 * PQexec, PQexecParams and PQfinish.  The others (PQstatus,
 * PQerrorMessage, PQsetNoticeProcessor, PQresultStatus, PQntuples,
 * PQnfields, PQgetvalue, PQgetisnull, PQclear) answer from the session or
 * result a scripted call made, as libpq would.
 *
 * The test fails, with a message naming the call, on: a call other than
 * the next one scripted, or beyond the script; a scripted call not made by
 * h_pq_done(); a PGresult never cleared, cleared twice or read after
 * PQclear; a PGconn used after PQfinish or never finished; a value read
 * outside a result's rows and columns; a scripted notice for a session
 * without a notice processor.
 *
 * Use: tcase_add_checked_fixture(tc, h_pq_reset, h_pq_done), then in the
 * test, before running the code:
 *
 *     h_pq_connect("dbname=db1 fallback_application_name=pitrkit", 1);
 *     h_pq_exec("SHOW data_directory");
 *     h_pq_value("/srv/pg");
 *     h_pq_finish();
 */
#ifndef PITR_T_PQFAKE_H
#define PITR_T_PQFAKE_H

#include <libpq-fe.h>

/* Forget any script and every session and result (a fixture's setup). */
void h_pq_reset(void);

/* Fail the test unless every scripted call was made, every result
 * cleared and every session finished; then reset (a fixture's teardown,
 * or called by a test that runs several scripts in turn). */
void h_pq_done(void);

/* --- the calls, in the order they must come ---------------------------- */

/* PQconnectdbParams with these keywords and values, written "key=value"
 * in order, separated by one blank, a value quoted as in a conninfo string
 * when it is empty or holds a blank, a quote or a backslash (NULL:
 * key=<NULL>), and this expand_dbname.  The session opens, unless a
 * result below says otherwise. */
void h_pq_connect(const char *conninfo, int expand_dbname);

/* PQpingParams with these keywords and values (as h_pq_connect) and
 * expand_dbname; it answers `answer`. */
void h_pq_ping(const char *conninfo, int expand_dbname, PGPing answer);

/* PQexec(conn, sql) on a session of the script.  Without a result below
 * it returns PGRES_COMMAND_OK with no rows. */
void h_pq_exec(const char *sql);

/* PQexecParams(conn, sql, nparams, NULL, values, NULL, NULL, 0): the
 * `nparams` variadic arguments are fnmatch(3) patterns the values must
 * match, in order. */
void h_pq_exec_params(const char *sql, int nparams, ...);

/* PQfinish of a session of the script that is not finished yet. */
void h_pq_finish(void);

/* --- what the last scripted connect or exec gives --------------------- */

/* PGRES_TUPLES_OK with nrows rows of ncols columns: nrows * ncols values
 * follow, row by row, each a string or NULL for an SQL NULL. */
void h_pq_rows(int nrows, int ncols, ...);

/* PGRES_TUPLES_OK with one row of one column (NULL: an SQL NULL). */
void h_pq_value(const char *value);

/* An exec: PGRES_FATAL_ERROR, with `message` as PQerrorMessage (libpq's
 * form: "ERROR:  text\n", maybe more lines); the session stays usable.
 * A connect: the session is CONNECTION_BAD with `message`. */
void h_pq_error(const char *message);

/* An exec: PGRES_FATAL_ERROR with `message`, and the session is lost
 * from then on (CONNECTION_BAD), as when the server ends it. */
void h_pq_dies(const char *message);

/* The call returns NULL (libpq out of memory; PQexec on a session already
 * lost), with `message` as the session's PQerrorMessage (exec only). */
void h_pq_null(const char *message);

/* During the call, the session's notice processor receives `message`
 * (the test fails if none was set). */
void h_pq_notice(const char *message);

/* During the call, after matching it, `fn(arg)` runs: the test's stand-in
 * for what happens meanwhile (WAL arriving, a signal, ...). */
void h_pq_during(void (*fn)(void *arg), void *arg);

/* --- testing the fake itself ----------------------------------------- */

/* Report failures to `fn` instead of failing the test (NULL: fail the
 * test again); after a failure reported this way the call returns NULL
 * or an error value.  Reset by h_pq_reset(). */
void h_pq_on_failure(void (*fn)(const char *message));

/* The number of scripted calls made so far. */
int h_pq_calls(void);

/* The names of the libpq functions pqfake.c defines, NULL-terminated. */
extern const char *const h_pq_defined[];

#endif
