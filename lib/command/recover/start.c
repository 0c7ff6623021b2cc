/*
 * start.c - pitr-recover --start: the pg_ctl for the backup's PostgreSQL
 * version, the server started on the recovered directory, and watched
 * (its log, postmaster.pid, and a session when one can be had) until it
 * reaches the target, stops short of it, or the wait runs out.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "command/recover/recover_impl.h"
#include "common/clock.h"
#include "common/findprog.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/spawn.h"
#include "common/xalloc.h"
#include "server/pgconn.h"

#define RECOVER_POLL_MS 200
#define RECOVER_LOG_NAME "pitr-recover.log"
#define RECOVER_NO_PID_GRACE 15      /* s for postmaster.pid to appear */

/* pg_ctl on PATH, as execvp finds it: -1 after logging a failed
 * allocation, else 0 with *path set (NULL: none). */
static int
pg_ctl_on_path(char **path)
{
	*path = pitr_findprog_on_path("pg_ctl");
	return *path == NULL && errno == ENOMEM ? -1 : 0;
}

int
recover_start_find_pg_ctl(struct recover_run *run, const char *version)
{
	char *cand = NULL;

	if (run->pg_ctl != NULL)
		return 0;
	if (run->o->pg_ctl != NULL) {
		if (access(run->o->pg_ctl, X_OK) != 0) {
			pitr_log_error("--pg-ctl \"%s\" is not executable: %s", run->o->pg_ctl, strerror(errno));
			return -1;
		}
		run->pg_ctl = pitr_xstrdup(run->o->pg_ctl);
		return run->pg_ctl != NULL ? 0 : -1;
	}
	if (version == NULL) {
		bool any;

		if (pg_ctl_on_path(&cand) != 0)
			return -1;
		errno = 0;
		any = cand != NULL || pitr_findprog_pgbin_any("pg_ctl");
		free(cand);
		if (!any && errno == ENOMEM)
			return -1;
		if (!any) {
			pitr_log_error("no pg_ctl on PATH nor in " PITR_FINDPROG_PGBIN_FMT ": give --pg-ctl",
				       "*");
			return -1;
		}
		return 1;
	}
	cand = pitr_findprog_pgbin(version, "pg_ctl");
	if (cand == NULL)
		return -1;
	if (!pitr_findprog_executable(cand)) {
		free(cand);
		if (pg_ctl_on_path(&cand) != 0)
			return -1;
	}
	if (cand == NULL) {
		pitr_log_error("no pg_ctl for PostgreSQL %s at " PITR_FINDPROG_PGBIN_FMT " nor on PATH: "
			       "give --pg-ctl", version, version);
		return -1;
	}
	run->pg_ctl = cand;
	return 0;
}

struct watch {
	char *log_path;
	long offset;
	char partial[4096];
	size_t npartial;
	char stop_line[1024];      /* "recovery stopping ..." */
	char redo_line[1024];      /* "redo done at ..." */
	char last_xact[1024];      /* "last completed transaction was at log time ..." */
	char fatal[1024];          /* the last FATAL/PANIC about the server itself */
	char last_line[1024];
	unsigned new_tli;          /* "selected new timeline ID: N" */
	bool shut_down;            /* "database system is shut down" */
	bool paused;               /* "recovery has paused" */
	bool promoted;             /* "database system is ready to accept connections" */
};

static void
keep_message(char *dst, size_t size, const char *line)
{
	const char *m = strstr(line, ":  ");

	snprintf(dst, size, "%.1000s", m != NULL ? m + 3 : line);
}

static void
watch_line(struct watch *w, const char *line)
{
	const char *p;

	if (line[0] == '\0')
		return;
	snprintf(w->last_line, sizeof(w->last_line), "%.1000s", line);
	if (strstr(line, "recovery stopping ") != NULL)
		keep_message(w->stop_line, sizeof(w->stop_line), line);
	else if (strstr(line, "redo done at ") != NULL)
		keep_message(w->redo_line, sizeof(w->redo_line), line);
	else if (strstr(line, "last completed transaction was at log time") != NULL)
		keep_message(w->last_xact, sizeof(w->last_xact), line);
	else if ((p = strstr(line, "selected new timeline ID: ")) != NULL)
		w->new_tli = (unsigned)strtoul(p + 26, NULL, 10);
	else if (strstr(line, "database system is shut down") != NULL)
		w->shut_down = true;
	else if (strstr(line, "recovery has paused") != NULL)
		w->paused = true;
	else if (strstr(line, "database system is ready to accept connections") != NULL)
		w->promoted = true;
	/* Connection attempts turned away are their clients' business, not a
	 * failure of the server: while it starts, stops, or (after its
	 * startup process failed, FATAL above) waits to exit, which is when
	 * pitr-recover's own session can be told "in recovery mode". */
	if ((strstr(line, "FATAL:  ") != NULL || strstr(line, "PANIC:  ") != NULL) &&
	    strstr(line, "the database system is starting up") == NULL &&
	    strstr(line, "the database system is not yet accepting connections") == NULL &&
	    strstr(line, "the database system is in recovery mode") == NULL &&
	    strstr(line, "the database system is shutting down") == NULL)
		keep_message(w->fatal, sizeof(w->fatal), line);
}

/* Read what the server logged since the last call. */
static void
watch_read(struct watch *w)
{
	FILE *f = fopen(w->log_path, "r");
	char buf[8192];
	size_t n;

	if (f == NULL)
		return;
	if (fseek(f, w->offset, SEEK_SET) != 0) {
		fclose(f);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		w->offset += (long)n;
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				w->partial[w->npartial] = '\0';
				watch_line(w, w->partial);
				w->npartial = 0;
			} else if (w->npartial < sizeof(w->partial) - 1) {
				w->partial[w->npartial++] = buf[i];
			}
		}
	}
	fclose(f);
}

/* postmaster.pid: pid, data dir, start time, port, socket dir, listen
 * address, shared memory key, status. */
struct pm_state {
	bool present;
	bool alive;
	char port[16];
	char host[PATH_MAX];
	char status[16];
};

static void
read_pidfile(const char *dir, struct pm_state *pm)
{
	char *path = pitr_fsutil_join(dir, "postmaster.pid");
	char *text, *line, *rest;
	size_t len;
	int n = 0;

	memset(pm, 0, sizeof(*pm));
	if (path == NULL)
		return;
	text = pitr_fsutil_read_small(path, 65536, &len);
	free(path);
	if (text == NULL)
		return;
	pm->present = true;
	/* strsep, not strtok: a server listening on TCP only leaves the socket
	 * directory's line empty, and the lines after it keep their places. */
	for (rest = text; (line = strsep(&rest, "\n")) != NULL;) {
		n++;
		if (n == 1) {
			long pid = strtol(line, NULL, 10);

			pm->alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
		} else if (n == 4) {
			snprintf(pm->port, sizeof(pm->port), "%s", line);
		} else if (n == 5 && line[0] != '\0' && line[0] != ' ') {
			snprintf(pm->host, sizeof(pm->host), "%s", line);
		} else if (n == 6 && pm->host[0] == '\0') {
			snprintf(pm->host, sizeof(pm->host), "%s",
				 strcmp(line, "*") == 0 || line[0] == '\0' ? "127.0.0.1" : line);
		} else if (n == 8) {
			snprintf(pm->status, sizeof(pm->status), "%.*s", (int)strcspn(line, " "), line);
		}
	}
	free(text);
}

enum outcome { OUT_WAITING, OUT_PROMOTED, OUT_PAUSED, OUT_STANDBY, OUT_SHUT_DOWN };

/* Ask the running server where it is.  Returns the outcome, or
 * OUT_WAITING; *broken set when libpq cannot be used (logged once). */
static enum outcome
ask_server(struct recover_run *run, const struct pm_state *pm, bool *broken, char *replay, size_t size)
{
	struct pitr_pgconn_params params = { "postgres", pm->host, pm->port, NULL };
	const char *keys[] = { "host", "port", "dbname", "connect_timeout", NULL };
	const char *vals[] = { pm->host, pm->port, "postgres", "5", NULL };
	struct pitr_pgconn *c;
	char *inrec = NULL, *paused = NULL, *lsn = NULL, *ver = NULL;
	enum outcome out = OUT_WAITING;

	if (PQpingParams(keys, vals, 0) != PQPING_OK)
		return OUT_WAITING;
	if (!run->probed) {
		/* A first session without pgconn's error line: not being able
		 * to log in is no failure here, the server log still tells. */
		PGconn *pc = PQconnectdbParams(keys, vals, 0);

		run->probed = true;
		if (PQstatus(pc) != CONNECTION_OK) {
			const char *msg = PQerrorMessage(pc);

			pitr_log_info("cannot query the server (%.*s): watching its log instead",
				      (int)strcspn(msg, "\n"), msg);
			PQfinish(pc);
			*broken = true;
			return OUT_WAITING;
		}
		PQfinish(pc);
	}
	c = pitr_pgconn_connect(&params);
	if (c == NULL) {
		*broken = true;
		return OUT_WAITING;
	}
	if (pitr_pgconn_query_value(c, "SELECT pg_is_in_recovery()", &inrec) != 0 ||
	    pitr_pgconn_show(c, "server_version_num", &ver) != 0) {
		*broken = true;
		goto out;
	}
	if (strcmp(inrec, "f") == 0) {
		out = OUT_PROMOTED;
	} else if (pitr_pgconn_query_value(c, atoi(ver) >= 140000 ?
					   "SELECT pg_get_wal_replay_pause_state() = 'paused'" :
					   "SELECT pg_is_wal_replay_paused()", &paused) != 0) {
		*broken = true;
		goto out;
	} else if (strcmp(paused, "t") == 0) {
		out = OUT_PAUSED;
	} else if (run->o->standby && run->target.kind == PITR_RECOVER_END) {
		out = OUT_STANDBY;
	}
	if (out != OUT_WAITING &&
	    pitr_pgconn_query_value(c, "SELECT coalesce(pg_last_wal_replay_lsn()::text, 'none') || "
				    "', last replayed transaction committed at ' || "
				    "coalesce(pg_last_xact_replay_timestamp()::text, 'none')", &lsn) == 0)
		snprintf(replay, size, "last replayed WAL position %s", lsn);
out:
	free(inrec);
	free(paused);
	free(lsn);
	free(ver);
	pitr_pgconn_close(c);
	return out;
}


/* What a running postmaster tells of the target (OUT_WAITING: not there
 * yet); *broken as for ask_server. */
static enum outcome
judge_running(struct recover_run *run, const struct watch *w, const struct pm_state *pm,
	      bool *broken, char *replay, size_t size)
{
	bool standby_at_end = run->o->standby && run->target.kind == PITR_RECOVER_END;

	if (!*broken && strcmp(pm->status, "ready") == 0)
		return ask_server(run, pm, broken, replay, size);
	/* Without a session (no role named like this user, say) the server
	 * log tells. */
	if (*broken && w->promoted)
		return OUT_PROMOTED;
	if (*broken && w->paused)
		return OUT_PAUSED;
	if (*broken && strcmp(pm->status, "ready") == 0 && standby_at_end)
		return OUT_STANDBY;
	if (strcmp(pm->status, "standby") == 0 && standby_at_end)
		return OUT_STANDBY;
	return OUT_WAITING;
}

/* Replay's progress, in WAL bytes from the backup's start, read from a
 * session of its own; silent: without one the wait goes on as before. */
struct replay_watch {
	struct pitr_progress *p;
	PGconn *conn;
	bool failed;
};

/* Where replay ends when that is known: the target LSN, the backup's end
 * for --target-immediate, else the end of the archive's last segment on
 * the timeline followed (a time, xid or name target stops at most there);
 * 0 when unknown. */
static uint64_t
replay_end(const struct recover_run *run)
{
	if (run->target.kind == PITR_RECOVER_LSN)
		return run->target.lsn;
	if (run->target.kind == PITR_RECOVER_IMMEDIATE)
		return run->b->stop_lsn;
	for (size_t i = 0; i < run->cat.ntimelines; i++) {
		const struct pitr_catalog_timeline *tl = &run->cat.timelines[i];

		if (tl->tli == run->tli && tl->nsegments > 0)
			return (tl->last + 1) * (uint64_t)run->cat.segsize;
	}
	return 0;
}

static struct pitr_progress *
replay_progress(const struct recover_run *run)
{
	uint64_t end = replay_end(run);

	if (!pitr_progress_wanted())
		return NULL;
	return pitr_progress_new("replay", end > run->b->start_lsn ? end - run->b->start_lsn : 0, 0);
}

/* Once the server takes sessions, in recovery (hot standby) or after it,
 * its pg_last_wal_replay_lsn() into the progress. */
static void
replay_poll(const struct recover_run *run, const struct pm_state *pm, struct replay_watch *rw)
{
	const char *keys[] = { "host", "port", "dbname", "connect_timeout", NULL };
	const char *vals[] = { pm->host, pm->port, "postgres", "5", NULL };
	char sql[128];
	PGresult *res;

	if (rw->p == NULL || rw->failed ||
	    (strcmp(pm->status, "standby") != 0 && strcmp(pm->status, "ready") != 0))
		return;
	if (rw->conn == NULL && PQstatus(rw->conn = PQconnectdbParams(keys, vals, 0)) != CONNECTION_OK) {
		rw->failed = true;
		return;
	}
	snprintf(sql, sizeof(sql), "SELECT pg_last_wal_replay_lsn() - '%X/%X'::pg_lsn",
		 (unsigned)(run->b->start_lsn >> 32), (unsigned)run->b->start_lsn);
	res = PQexec(rw->conn, sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		pitr_progress_set(rw->p, strtoull(PQgetvalue(res, 0, 0), NULL, 10), 0);
	PQclear(res);
}

/* Watch the server until it is at the target.  Returns 0 with *out and
 * *pm (its last postmaster.pid) set, or -1 after logging that it stopped
 * short or took too long. */
static int
wait_loop(struct recover_run *run, struct watch *w, struct pm_state *pm, char *replay,
	  size_t size, enum outcome *out, struct replay_watch *rw)
{
	int limit = run->o->wait > 0 ? run->o->wait : PITR_RECOVER_WAIT_DEFAULT;
	bool broken = false, seen_pid = false;
	double t0 = pitr_clock_ms();

	for (;;) {
		double elapsed;

		watch_read(w);
		read_pidfile(run->final, pm);
		seen_pid |= pm->present;
		if (pm->present && pm->alive) {
			replay_poll(run, pm, rw);
			*out = judge_running(run, w, pm, &broken, replay, size);
			if (*out != OUT_WAITING)
				return 0;
		} else if (seen_pid || w->fatal[0] != '\0' || w->shut_down) {
			/* (A server that stops at once, at a target reached with
			 * the backup, may come and go between two looks.) */
			/* The postmaster is gone: at the target, or failed. */
			watch_read(w);
			if (w->stop_line[0] != '\0' && w->shut_down) {
				*out = OUT_SHUT_DOWN;
				return 0;
			}
			pitr_log_error("the server stopped before reaching the target: %s (see \"%s\")",
				       w->fatal[0] ? w->fatal : w->last_line[0] ? w->last_line : "no reason logged",
				       w->log_path);
			return -1;
		}
		elapsed = (pitr_clock_ms() - t0) / 1000.0;
		if (!seen_pid && elapsed > RECOVER_NO_PID_GRACE) {
			pitr_log_error("the server did not start within %d s (see \"%s\")",
				       RECOVER_NO_PID_GRACE, w->log_path);
			return -1;
		}
		if (elapsed > limit) {
			pitr_log_error("the server did not reach the target within %d s; it is still "
				       "running (see \"%s\")", limit, w->log_path);
			return -1;
		}
		(void)pitr_clock_sleep_interruptible_ms(RECOVER_POLL_MS);
	}
}

static int
wait_for_target(struct recover_run *run, struct watch *w, struct pm_state *pm, char *replay,
		size_t size, enum outcome *out)
{
	struct replay_watch rw = { .p = replay_progress(run) };
	int rc = wait_loop(run, w, pm, replay, size, out, &rw);

	PQfinish(rw.conn);
	if (rc == 0)
		pitr_progress_finish(rw.p);
	else
		pitr_progress_free(rw.p);
	return rc;
}

/* Log where recovery stopped and what the server does now. */
static void
report(const struct recover_run *run, struct watch *w, const struct pm_state *pm,
       const char *replay, enum outcome out)
{
	watch_read(w);
	if (w->stop_line[0] != '\0')
		pitr_log_info("recovery stopped: %s", w->stop_line);
	else if (w->redo_line[0] != '\0')
		pitr_log_info("recovery replayed all the archive had: %s", w->redo_line);
	if (w->last_xact[0] != '\0')
		pitr_log_info("%s", w->last_xact);
	if (replay[0] != '\0')
		pitr_log_info("%s", replay);
	switch (out) {
	case OUT_PROMOTED:
		if (w->new_tli != 0)
			pitr_log_info("the server is promoted, on timeline %u, and accepts writes on port %s",
				      w->new_tli, pm->port);
		else
			pitr_log_info("the server is promoted and accepts writes on port %s", pm->port);
		break;
	case OUT_PAUSED:
		pitr_log_info("the server is paused at the target, read-only, on port %s: "
			      "SELECT pg_wal_replay_resume() promotes it", pm->port);
		break;
	case OUT_STANDBY:
		pitr_log_info("the server runs as a standby of the archive on port %s", pm->port);
		break;
	case OUT_SHUT_DOWN:
		pitr_log_info("the server shut down at the target (%s)",
			      run->o->target_action != NULL && strcmp(run->o->target_action, "shutdown") == 0 ?
			      "recovery_target_action shutdown" : "pause without hot_standby stops the server");
		break;
	case OUT_WAITING:
		break;
	}
}

int
recover_start_and_wait(struct recover_run *run)
{
	struct watch w;
	struct pm_state pm;
	char replay[512] = "";
	enum outcome out = OUT_WAITING;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.log_path = pitr_fsutil_join(run->final, RECOVER_LOG_NAME);
	if (w.log_path == NULL)
		return -1;
	{
		/* -W: pg_ctl's own wait gives up after its timeout while a long
		 * replay goes on, and counts a server that stops at the target
		 * (recovery_target_action shutdown) as a failed start. */
		char *argv[] = { run->pg_ctl, "start", "-D", run->final, "-l", w.log_path, "-W", NULL };

		pitr_log_info("starting the server: %s start -D %s -l %s -W", run->pg_ctl, run->final,
			      w.log_path);
		if (pitr_spawn_run(argv) != 0)
			goto out;
	}
	if (wait_for_target(run, &w, &pm, replay, sizeof(replay), &out) != 0)
		goto out;
	report(run, &w, &pm, replay, out);
	/* Paused or shut down at the target, the server runs no
	 * recovery_end_command: the segments prefetched beyond the target
	 * would stay in pg_wal (a promotion has removed them already). */
	rc = out == OUT_STANDBY ? 0 : recover_remove_prefetch(run->final, "at the target");
out:
	free(w.log_path);
	return rc;
}
