/*
 * pgconn.c - one libpq session: connection, single-value queries and the
 * non-exclusive backup calls, which must share the session.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "server/pgconn.h"

struct pitr_pgconn {
	PGconn *conn;
};

/* libpq's messages end with a newline and may hold several lines (one per
 * address tried, a DETAIL); our log wants the first line only. */
static const char *
first_line(const char *msg, char *buf, size_t size)
{
	size_t len;

	if (msg == NULL || *msg == '\0')
		return "unknown error";
	len = strcspn(msg, "\n");
	if (len >= size)
		len = size - 1;
	memcpy(buf, msg, len);
	buf[len] = '\0';
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	/* The leading "ERROR:  " of a server message repeats our level. */
	if (strncmp(buf, "ERROR:  ", 8) == 0)
		return buf + 8;
	return buf;
}

/* The server's NOTICEs ("all required WAL segments have been archived")
 * would go to stderr raw; they belong in our log, in our format. */
static void
log_notice(void *arg, const char *message)
{
	char buf[512];

	(void)arg;
	pitr_log_verbose("server: %s", first_line(message, buf, sizeof(buf)));
}

struct pitr_pgconn *
pitr_pgconn_connect(const struct pitr_pgconn_params *params)
{
	const char *keys[6];
	const char *vals[6];
	struct pitr_pgconn *c = NULL;
	char buf[512];
	int n = 0;

	/* dbname first: with expand_dbname its conninfo is applied first and
	 * the explicit -h/-p/-U that follow override it. */
	if (params->dbname != NULL) {
		keys[n] = "dbname";
		vals[n++] = params->dbname;
	}
	if (params->host != NULL) {
		keys[n] = "host";
		vals[n++] = params->host;
	}
	if (params->port != NULL) {
		keys[n] = "port";
		vals[n++] = params->port;
	}
	if (params->user != NULL) {
		keys[n] = "user";
		vals[n++] = params->user;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "pitrkit";
	keys[n] = NULL;
	vals[n] = NULL;

	if ((c = pitr_xcalloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->conn = pitr_xcheck(PQconnectdbParams(keys, vals, 1))) == NULL) {
		free(c);
		return NULL;
	}
	if (PQstatus(c->conn) != CONNECTION_OK) {
		pitr_log_error("could not connect to PostgreSQL: %s",
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		pitr_log_hint("the server is the one the connection options name (--help lists "
			      "them), else libpq's PGHOST, PGPORT and PGUSER");
		pitr_pgconn_close(c);
		return NULL;
	}
	PQsetNoticeProcessor(c->conn, log_notice, NULL);
	return c;
}

void
pitr_pgconn_close(struct pitr_pgconn *c)
{
	if (c == NULL)
		return;
	PQfinish(c->conn);
	free(c);
}

/* Run `sql` expecting tuples with at least `ncols` columns and one row. */
static PGresult *
exec_one_row(struct pitr_pgconn *c, const char *sql, int ncols)
{
	PGresult *res = PQexec(c->conn, sql);
	char buf[512];

	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		pitr_log_error("query \"%s\" failed: %s", sql,
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		PQclear(res);
		return NULL;
	}
	if (PQntuples(res) != 1 || PQnfields(res) < ncols) {
		pitr_log_error("query \"%s\" failed: expected one row of %d columns, got %d rows of %d",
			       sql, ncols, PQntuples(res), PQnfields(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

static char *
dup_value(PGresult *res, int col)
{
	return pitr_xstrdup(PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col));
}

int
pitr_pgconn_query_value(struct pitr_pgconn *c, const char *sql, char **out)
{
	PGresult *res = exec_one_row(c, sql, 1);

	*out = NULL;
	if (res == NULL)
		return -1;
	*out = dup_value(res, 0);
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

int
pitr_pgconn_show(struct pitr_pgconn *c, const char *setting, char **out)
{
	char sql[128];

	if (snprintf(sql, sizeof(sql), "SHOW %s", setting) >= (int)sizeof(sql)) {
		pitr_log_error("setting name \"%s\" is too long", setting);
		*out = NULL;
		return -1;
	}
	return pitr_pgconn_query_value(c, sql, out);
}

int
pitr_pgconn_backup_start(struct pitr_pgconn *c, const char *label, char **lsn)
{
	const char *params[1] = { label };
	PGresult *res;
	char buf[512];

	*lsn = NULL;
	res = PQexecParams(c->conn, "SELECT pg_backup_start($1, fast => true)", 1, NULL, params,
			   NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pitr_log_error("could not start the backup: %s",
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		PQclear(res);
		return -1;
	}
	*lsn = dup_value(res, 0);
	PQclear(res);
	return *lsn != NULL ? 0 : -1;
}

int
pitr_pgconn_backup_stop(struct pitr_pgconn *c, bool wait_archive, struct pitr_pgconn_backup_stop *out)
{
	PGresult *res;
	char buf[512];

	memset(out, 0, sizeof(*out));
	res = PQexec(c->conn, wait_archive ?
		     "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => true)" :
		     "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => false)");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 3) {
		pitr_log_error("could not stop the backup: %s",
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		PQclear(res);
		return -1;
	}
	out->lsn = dup_value(res, 0);
	out->labelfile = dup_value(res, 1);
	out->spcmapfile = dup_value(res, 2);
	PQclear(res);
	if (out->lsn == NULL || out->labelfile == NULL || out->spcmapfile == NULL) {
		pitr_pgconn_backup_stop_free(out);
		return -1;
	}
	return 0;
}

void
pitr_pgconn_backup_stop_free(struct pitr_pgconn_backup_stop *s)
{
	free(s->lsn);
	free(s->labelfile);
	free(s->spcmapfile);
	memset(s, 0, sizeof(*s));
}

int
pitr_pgconn_tablespaces(struct pitr_pgconn *c, struct pitr_pgconn_tablespace **out, size_t *n)
{
	PGresult *res = PQexec(c->conn, "SELECT oid, pg_tablespace_location(oid) FROM pg_tablespace "
				"WHERE pg_tablespace_location(oid) LIKE '/%' ORDER BY oid");
	char buf[512];
	int rows;

	*out = NULL;
	*n = 0;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 2) {
		pitr_log_error("could not list the tablespaces: %s",
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		PQclear(res);
		return -1;
	}
	rows = PQntuples(res);
	if (rows > 0 && (*out = pitr_xcalloc((size_t)rows, sizeof(**out))) == NULL) {
		PQclear(res);
		return -1;
	}
	for (int r = 0; r < rows; r++, (*n)++)
		if (((*out)[r].oid = pitr_xstrdup(PQgetvalue(res, r, 0))) == NULL ||
		    ((*out)[r].location = pitr_xstrdup(PQgetvalue(res, r, 1))) == NULL) {
			(*n)++;
			PQclear(res);
			pitr_pgconn_tablespaces_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
	PQclear(res);
	return 0;
}

void
pitr_pgconn_tablespaces_free(struct pitr_pgconn_tablespace *ts, size_t n)
{
	for (size_t i = 0; ts != NULL && i < n; i++) {
		free(ts[i].oid);
		free(ts[i].location);
	}
	free(ts);
}

int
pitr_pgconn_create_temp_slot(struct pitr_pgconn *c, const char *name, char **lsn)
{
	const char *params[1] = { name };
	PGresult *res;
	char buf[512];

	*lsn = NULL;
	res = PQexecParams(c->conn, "SELECT lsn FROM pg_create_physical_replication_slot($1, true, true)",
			   1, NULL, params, NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pitr_log_error("could not create replication slot \"%s\": %s", name,
			       first_line(PQerrorMessage(c->conn), buf, sizeof(buf)));
		PQclear(res);
		return -1;
	}
	*lsn = dup_value(res, 0);
	PQclear(res);
	return *lsn != NULL ? 0 : -1;
}
