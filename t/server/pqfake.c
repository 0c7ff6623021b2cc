/*
 * pqfake.c - a scripted libpq for the unit tests (see pqfake.h).  The
 * libpq functions below replace libpq's in the test program; their
 * handles are this file's own struct pg_conn and struct pg_result, which
 * libpq never sees.
 */
#include "config.h"

#include <check.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "server/pqfake.h"

const char *const h_pq_defined[] = {
	"PQclear", "PQconnectdbParams", "PQerrorMessage", "PQexec", "PQexecParams", "PQfinish",
	"PQgetisnull", "PQgetvalue", "PQnfields", "PQntuples", "PQpingParams", "PQresultStatus",
	"PQsetNoticeProcessor", "PQstatus", NULL
};

enum call_kind { CALL_CONNECT, CALL_PING, CALL_EXEC, CALL_EXEC_PARAMS, CALL_FINISH };
enum outcome { OUT_DEFAULT, OUT_ROWS, OUT_ERROR, OUT_DIES, OUT_NULL };

struct step {
	enum call_kind kind;
	char *text;             /* the conninfo or the SQL */
	int expand;             /* connect, ping: expand_dbname */
	PGPing ping;
	char **patterns;        /* exec_params: one per parameter */
	int nparams;
	enum outcome outcome;
	char *message;
	char **values;          /* nrows * ncols, NULL for an SQL NULL */
	int nrows, ncols;
	char *notice;
	void (*during)(void *arg);
	void *during_arg;
};

struct pg_conn {
	int call;               /* the connect that made it */
	ConnStatusType status;
	char *errmsg;
	int finished;           /* the PQfinish call, 0 while open */
	PQnoticeProcessor notice;
	void *notice_arg;
	struct pg_conn *next;
};

struct pg_result {
	int call;
	char *what;             /* the call, for messages */
	ExecStatusType status;
	char **values;          /* the step's */
	int nrows, ncols;
	bool cleared;
	struct pg_result *next;
};

static struct step *steps;
static int nsteps, next_step, calls;
static struct pg_conn *conns;
static struct pg_result *results;
static void (*on_failure)(const char *message);

static void
pq_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
pq_fail(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (on_failure != NULL) {
		on_failure(buf);
		return;
	}
	ck_abort_msg("%s", buf);
}

static char *
fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt_alloc(const char *fmt, ...)
{
	char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	ck_assert_int_ge(n, 0);
	return s;
}

static char *
xstrdup(const char *s)
{
	char *d = s != NULL ? strdup(s) : NULL;

	ck_assert(s == NULL || d != NULL);
	return d;
}

/* --- the script -------------------------------------------------------- */

static void
free_step(struct step *s)
{
	free(s->text);
	for (int i = 0; i < s->nparams; i++)
		free(s->patterns[i]);
	free(s->patterns);
	free(s->message);
	for (int i = 0; i < s->nrows * s->ncols; i++)
		free(s->values[i]);
	free(s->values);
	free(s->notice);
}

void
h_pq_reset(void)
{
	for (int i = 0; i < nsteps; i++)
		free_step(&steps[i]);
	free(steps);
	steps = NULL;
	nsteps = next_step = calls = 0;
	while (conns != NULL) {
		struct pg_conn *c = conns;

		conns = c->next;
		free(c->errmsg);
		free(c);
	}
	while (results != NULL) {
		struct pg_result *r = results;

		results = r->next;
		free(r->what);
		free(r);
	}
	on_failure = NULL;
}

static struct step *
add_step(enum call_kind kind, const char *text)
{
	struct step *s;

	steps = realloc(steps, (size_t)(nsteps + 1) * sizeof(*steps));
	ck_assert_ptr_nonnull(steps);
	s = &steps[nsteps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->text = xstrdup(text);
	return s;
}

/* The step a result builder applies to: the last connect or exec. */
static struct step *
last_step(const char *builder, bool connect_ok)
{
	struct step *s = nsteps > 0 ? &steps[nsteps - 1] : NULL;

	ck_assert_msg(s != NULL && (s->kind == CALL_EXEC || s->kind == CALL_EXEC_PARAMS ||
				    (connect_ok && s->kind == CALL_CONNECT)),
		      "pqfake: %s must follow h_pq_exec%s", builder, connect_ok ? " or h_pq_connect" : "");
	ck_assert_msg(s->outcome == OUT_DEFAULT, "pqfake: %s: the call has a result already", builder);
	return s;
}

void
h_pq_connect(const char *conninfo, int expand_dbname)
{
	add_step(CALL_CONNECT, conninfo)->expand = expand_dbname;
}

void
h_pq_ping(const char *conninfo, int expand_dbname, PGPing answer)
{
	struct step *s = add_step(CALL_PING, conninfo);

	s->expand = expand_dbname;
	s->ping = answer;
}

void
h_pq_exec(const char *sql)
{
	add_step(CALL_EXEC, sql);
}

void
h_pq_exec_params(const char *sql, int nparams, ...)
{
	struct step *s = add_step(CALL_EXEC_PARAMS, sql);
	va_list ap;

	s->patterns = calloc((size_t)nparams + 1, sizeof(*s->patterns));
	ck_assert_ptr_nonnull(s->patterns);
	va_start(ap, nparams);
	for (; s->nparams < nparams; s->nparams++)
		s->patterns[s->nparams] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
}

void
h_pq_finish(void)
{
	add_step(CALL_FINISH, NULL);
}

void
h_pq_rows(int nrows, int ncols, ...)
{
	struct step *s = last_step("h_pq_rows", false);
	va_list ap;

	s->outcome = OUT_ROWS;
	s->nrows = nrows;
	s->ncols = ncols;
	s->values = calloc((size_t)(nrows * ncols) + 1, sizeof(*s->values));
	ck_assert_ptr_nonnull(s->values);
	va_start(ap, ncols);
	for (int i = 0; i < nrows * ncols; i++)
		s->values[i] = xstrdup(va_arg(ap, const char *));
	va_end(ap);
}

void
h_pq_value(const char *value)
{
	h_pq_rows(1, 1, value);
}

void
h_pq_error(const char *message)
{
	struct step *s = last_step("h_pq_error", true);

	s->outcome = OUT_ERROR;
	s->message = xstrdup(message);
}

void
h_pq_dies(const char *message)
{
	struct step *s = last_step("h_pq_dies", false);

	s->outcome = OUT_DIES;
	s->message = xstrdup(message);
}

void
h_pq_null(const char *message)
{
	struct step *s = last_step("h_pq_null", true);

	s->outcome = OUT_NULL;
	s->message = xstrdup(message);
}

void
h_pq_notice(const char *message)
{
	struct step *s = nsteps > 0 ? &steps[nsteps - 1] : NULL;

	ck_assert_msg(s != NULL && (s->kind == CALL_EXEC || s->kind == CALL_EXEC_PARAMS),
		      "pqfake: h_pq_notice must follow h_pq_exec");
	free(s->notice);
	s->notice = xstrdup(message);
}

void
h_pq_during(void (*fn)(void *arg), void *arg)
{
	ck_assert_msg(nsteps > 0, "pqfake: h_pq_during must follow a call");
	steps[nsteps - 1].during = fn;
	steps[nsteps - 1].during_arg = arg;
}

void
h_pq_on_failure(void (*fn)(const char *message))
{
	on_failure = fn;
}

int
h_pq_calls(void)
{
	return calls;
}

/* --- matching the calls ------------------------------------------------ */

/* A step as the call it expects, for messages; malloc'd. */
static char *
describe(const struct step *s)
{
	char *out = NULL, *more;

	switch (s->kind) {
	case CALL_CONNECT:
		return fmt_alloc("PQconnectdbParams(\"%s\", expand_dbname=%d)", s->text, s->expand);
	case CALL_PING:
		return fmt_alloc("PQpingParams(\"%s\", expand_dbname=%d)", s->text, s->expand);
	case CALL_EXEC:
		return fmt_alloc("PQexec(\"%s\")", s->text);
	case CALL_EXEC_PARAMS:
		out = fmt_alloc("PQexecParams(\"%s\"", s->text);
		for (int i = 0; i < s->nparams; i++) {
			more = fmt_alloc("%s, \"%s\"", out, s->patterns[i]);
			free(out);
			out = more;
		}
		more = fmt_alloc("%s)", out);
		free(out);
		return more;
	case CALL_FINISH:
		break;
	}
	return fmt_alloc("PQfinish()");
}

/* keywords and values as a conninfo string (see h_pq_connect). */
static char *
conninfo_text(const char *const *keys, const char *const *vals)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(f);
	for (int i = 0; keys != NULL && keys[i] != NULL; i++) {
		const char *v = vals[i];

		fprintf(f, "%s%s=", i > 0 ? " " : "", keys[i]);
		if (v == NULL) {
			fputs("<NULL>", f);
		} else if (*v == '\0' || strpbrk(v, " '\\") != NULL) {
			fputc('\'', f);
			for (; *v != '\0'; v++) {
				if (*v == '\'' || *v == '\\')
					fputc('\\', f);
				fputc(*v, f);
			}
			fputc('\'', f);
		} else {
			fputs(v, f);
		}
	}
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

static bool
matches(const struct step *s, enum call_kind kind, const char *text, int expand, int nparams,
	const char *const *values)
{
	if (s->kind != kind)
		return false;
	if (kind == CALL_FINISH)
		return true;
	if (strcmp(s->text, text) != 0 || s->expand != expand)
		return false;
	if (kind != CALL_EXEC_PARAMS)
		return true;
	if (s->nparams != nparams)
		return false;
	for (int i = 0; i < nparams; i++)
		if (values[i] == NULL || fnmatch(s->patterns[i], values[i], 0) != 0)
			return false;
	return true;
}

/* The next step if it is this call, or NULL after failing the test with
 * `actual`, the call as made. */
static struct step *
take(enum call_kind kind, const char *text, int expand, int nparams, const char *const *values,
     const char *actual)
{
	struct step *s;
	char *want;

	calls++;
	if (next_step >= nsteps) {
		pq_fail("libpq call %d: %s is not in the script (%d calls)", calls, actual, nsteps);
		return NULL;
	}
	s = &steps[next_step];
	if (!matches(s, kind, text, expand, nparams, values)) {
		want = describe(s);
		pq_fail("libpq call %d: expected %s, got %s", calls, want, actual);
		free(want);
		return NULL;
	}
	next_step++;
	return s;
}

/* A session of the script, not finished, for `fn`; false after failing. */
static bool
live_conn(const PGconn *conn, const char *fn)
{
	for (const struct pg_conn *c = conns; c != NULL; c = c->next)
		if (c == conn) {
			if (c->finished == 0)
				return true;
			pq_fail("%s on the session of call %d after PQfinish (call %d)", fn, c->call,
			     c->finished);
			return false;
		}
	pq_fail("%s on %s, not a session of the script", fn, conn == NULL ? "NULL" : "a PGconn");
	return false;
}

static bool
live_result(const PGresult *res, const char *fn)
{
	for (const struct pg_result *r = results; r != NULL; r = r->next)
		if (r == res) {
			if (!r->cleared)
				return true;
			pq_fail("%s on the result of call %d %s after PQclear", fn, r->call, r->what);
			return false;
		}
	pq_fail("%s on a PGresult the script did not make", fn);
	return false;
}

static bool
in_range(const PGresult *res, int row, int col, const char *fn)
{
	if (row >= 0 && row < res->nrows && col >= 0 && col < res->ncols)
		return true;
	pq_fail("%s(row %d, column %d) outside the %d rows of %d columns of call %d %s", fn, row, col,
	     res->nrows, res->ncols, res->call, res->what);
	return false;
}

/* --- libpq, scripted calls ----------------------------------------- */

static PGconn *
connect_call(enum call_kind kind, const char *const *keys, const char *const *vals, int expand,
	     PGPing *ping)
{
	char *text = conninfo_text(keys, vals);
	char *actual = fmt_alloc("%s(\"%s\", expand_dbname=%d)", kind == CALL_PING ?
				 "PQpingParams" : "PQconnectdbParams", text, expand);
	struct step *s = take(kind, text, expand, 0, NULL, actual);
	struct pg_conn *c = NULL;

	free(text);
	free(actual);
	if (s == NULL) {
		*ping = PQPING_NO_ATTEMPT;
		return NULL;
	}
	if (s->during != NULL)
		s->during(s->during_arg);
	*ping = s->ping;
	if (kind == CALL_PING || s->outcome == OUT_NULL)
		return NULL;
	c = calloc(1, sizeof(*c));
	ck_assert_ptr_nonnull(c);
	c->call = calls;
	c->status = s->outcome == OUT_ERROR ? CONNECTION_BAD : CONNECTION_OK;
	c->errmsg = xstrdup(s->message != NULL ? s->message : "");
	c->next = conns;
	conns = c;
	return c;
}

PGconn *
PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
	PGPing ignored;

	return connect_call(CALL_CONNECT, keywords, values, expand_dbname, &ignored);
}

PGPing
PQpingParams(const char *const *keywords, const char *const *values, int expand_dbname)
{
	PGPing ping;

	connect_call(CALL_PING, keywords, values, expand_dbname, &ping);
	return ping;
}

static void
set_errmsg(struct pg_conn *c, const char *msg)
{
	free(c->errmsg);
	c->errmsg = xstrdup(msg != NULL ? msg : "");
}

/* What a matched exec step does to the session, and its result. */
static PGresult *
exec_outcome(PGconn *conn, const struct step *s, const char *actual)
{
	struct pg_result *r;

	if (s->notice != NULL) {
		if (conn->notice == NULL)
			pq_fail("libpq call %d: %s has a notice for the session, which has no notice "
			     "processor", calls, actual);
		else
			conn->notice(conn->notice_arg, s->notice);
	}
	if (s->during != NULL)
		s->during(s->during_arg);
	if (conn->status != CONNECTION_OK && s->outcome != OUT_NULL) {
		pq_fail("libpq call %d: %s on a lost session returns NULL: script it with h_pq_null", calls,
		     actual);
		return NULL;
	}
	set_errmsg(conn, s->message);
	if (s->outcome == OUT_NULL)
		return NULL;
	if (s->outcome == OUT_DIES)
		conn->status = CONNECTION_BAD;
	r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->call = calls;
	r->what = xstrdup(actual);
	r->status = s->outcome == OUT_ROWS ? PGRES_TUPLES_OK : s->outcome == OUT_DEFAULT ?
		PGRES_COMMAND_OK : PGRES_FATAL_ERROR;
	if (s->outcome == OUT_ROWS) {
		r->values = s->values;
		r->nrows = s->nrows;
		r->ncols = s->ncols;
	}
	r->next = results;
	results = r;
	return r;
}

PGresult *
PQexec(PGconn *conn, const char *query)
{
	char *actual = fmt_alloc("PQexec(\"%s\")", query);
	struct step *s = live_conn(conn, "PQexec") ? take(CALL_EXEC, query, 0, 0, NULL, actual) : NULL;
	PGresult *res = s != NULL ? exec_outcome(conn, s, actual) : NULL;

	free(actual);
	return res;
}

PGresult *
PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
	     const char *const *paramValues, const int *paramLengths, const int *paramFormats,
	     int resultFormat)
{
	char *actual = fmt_alloc("PQexecParams(\"%s\"", command), *more;
	struct step *s = NULL;
	PGresult *res = NULL;

	for (int i = 0; i < nParams; i++) {
		more = fmt_alloc("%s, \"%s\"", actual, paramValues[i] ? paramValues[i] : "<NULL>");
		free(actual);
		actual = more;
	}
	more = fmt_alloc("%s)", actual);
	free(actual);
	actual = more;
	/* Text parameters and a text result are all the fake knows. */
	if (paramTypes != NULL || paramLengths != NULL || paramFormats != NULL || resultFormat != 0)
		pq_fail("%s: only text parameters and results are scripted", actual);
	else if (live_conn(conn, "PQexecParams"))
		s = take(CALL_EXEC_PARAMS, command, 0, nParams, paramValues, actual);
	if (s != NULL)
		res = exec_outcome(conn, s, actual);
	free(actual);
	return res;
}

void
PQfinish(PGconn *conn)
{
	struct step *s;

	if (conn == NULL)
		return;  /* as libpq */
	if (!live_conn(conn, "PQfinish"))
		return;
	s = take(CALL_FINISH, NULL, 0, 0, NULL, "PQfinish()");
	conn->finished = calls;
	if (s != NULL && s->during != NULL)
		s->during(s->during_arg);
}

/* --- libpq, answered from the session and the results ----------------- */

ConnStatusType
PQstatus(const PGconn *conn)
{
	if (conn == NULL)
		return CONNECTION_BAD;
	return live_conn(conn, "PQstatus") ? conn->status : CONNECTION_BAD;
}

char *
PQerrorMessage(const PGconn *conn)
{
	static char none[] = "";
	static char null_conn[] = "connection pointer is NULL\n";

	if (conn == NULL)
		return null_conn;
	return live_conn(conn, "PQerrorMessage") ? conn->errmsg : none;
}

PQnoticeProcessor
PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg)
{
	PQnoticeProcessor old;

	if (conn == NULL || !live_conn(conn, "PQsetNoticeProcessor"))
		return NULL;
	old = conn->notice;
	if (proc != NULL) {
		conn->notice = proc;
		conn->notice_arg = arg;
	}
	return old;
}

ExecStatusType
PQresultStatus(const PGresult *res)
{
	if (res == NULL)
		return PGRES_FATAL_ERROR;  /* as libpq */
	return live_result(res, "PQresultStatus") ? res->status : PGRES_FATAL_ERROR;
}

int
PQntuples(const PGresult *res)
{
	if (res == NULL)
		return 0;
	return live_result(res, "PQntuples") ? res->nrows : 0;
}

int
PQnfields(const PGresult *res)
{
	if (res == NULL)
		return 0;
	return live_result(res, "PQnfields") ? res->ncols : 0;
}

char *
PQgetvalue(const PGresult *res, int tup_num, int field_num)
{
	static char empty[] = "";
	char *v;

	if (!live_result(res, "PQgetvalue") || !in_range(res, tup_num, field_num, "PQgetvalue"))
		return NULL;
	v = res->values[tup_num * res->ncols + field_num];
	return v != NULL ? v : empty;  /* libpq gives "" for an SQL NULL */
}

int
PQgetisnull(const PGresult *res, int tup_num, int field_num)
{
	if (!live_result(res, "PQgetisnull") || !in_range(res, tup_num, field_num, "PQgetisnull"))
		return 1;
	return res->values[tup_num * res->ncols + field_num] == NULL;
}

void
PQclear(PGresult *res)
{
	if (res == NULL)
		return;
	for (struct pg_result *r = results; r != NULL; r = r->next)
		if (r == res) {
			if (r->cleared)
				pq_fail("PQclear of the result of call %d %s, cleared already", r->call, r->what);
			r->cleared = true;
			return;
		}
	pq_fail("PQclear of a PGresult the script did not make");
}

/* --- the end of a test ---------------------------------------------- */

void
h_pq_done(void)
{
	if (next_step < nsteps) {
		char *want = describe(&steps[next_step]);

		pq_fail("libpq script: call %d, %s, was not made (%d of %d calls made)", next_step + 1, want,
		     next_step, nsteps);
		free(want);
	} else {
		const struct pg_result *r;
		const struct pg_conn *c;

		for (r = results; r != NULL && r->cleared; r = r->next)
			;
		for (c = conns; c != NULL && c->finished != 0; c = c->next)
			;
		if (r != NULL)
			pq_fail("libpq script: the result of call %d %s was never cleared", r->call, r->what);
		else if (c != NULL)
			pq_fail("libpq script: the session of call %d was never finished", c->call);
	}
	h_pq_reset();
}
