/*
 * checks.c - the checks' values: ages from the state, the archive queue
 * from the server, and the errors check's window.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "command/monitor/monitor_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "server/pgconn.h"

#define ERRORS_DIR "Check-errors"
#define FROM_FILE "from-timestamp"

/* An age never goes below 0: a log written by a clock slightly ahead. */
static double
age(double now, double then)
{
	return then > now ? 0 : now - then;
}

void
pitr_mon_values_compute(const struct pitr_mon_state *s, double now, struct pitr_mon_values *v)
{
	memset(v, 0, sizeof(*v));
	v->now = now;
	v->have_archive = s->archive_last > 0 || s->archive_fail > 0;
	v->last_archive_age = s->archive_last > 0 ? age(now, s->archive_last) : 0;
	v->current_archive_time = s->archive_fail > 0 ? age(now, s->archive_fail) : 0;
	v->have_restore = s->restore_last > 0 || s->restore_wait > 0;
	v->last_restore_age = s->restore_last > 0 ? age(now, s->restore_last) : 0;
	v->current_restore_time = s->restore_wait > 0 ? age(now, s->restore_wait) : 0;
	v->have_backup = s->backup_last > 0;
	v->last_backup_age = s->backup_last > 0 ? age(now, s->backup_last) : 0;
}

/* The .ready files are read through the server (pg_ls_archive_statusdir(),
 * PostgreSQL 12 and later): the monitor need not run on its host. */
#define QUEUE_SQL                                                                \
	"SELECT (SELECT count(*) FROM pg_ls_archive_statusdir() "                \
	"WHERE name LIKE '%.ready') || ' ' || failed_count FROM pg_stat_archiver"

int
pitr_mon_values_queue(const struct pitr_monitor_opts *o, struct pitr_mon_values *v)
{
	struct pitr_pgconn *c = pitr_pgconn_connect(&o->conn);
	char *answer = NULL;
	int rc = -1;

	if (c == NULL)
		return -1;
	if (pitr_pgconn_query_value(c, QUEUE_SQL, &answer) == 0) {
		if (sscanf(answer, "%ld %ld", &v->archive_queue, &v->archiver_failed) == 2) {
			v->have_queue = true;
			rc = 0;
		} else {
			pitr_log_error("unexpected answer \"%s\" to the archive queue query", answer);
		}
	}
	free(answer);
	pitr_pgconn_close(c);
	return rc;
}

/* --from: "YYYY-MM-DD HH:MM:SS" in local time, or a number of seconds
 * before now. */
static int
parse_from(const char *text, double now, double *from)
{
	struct tm tm = { 0 };
	char *end;
	int n = 0;
	long secs;

	if (sscanf(text, "%4d-%2d-%2d %2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) == 6 && text[n] == '\0') {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		tm.tm_isdst = -1;
		*from = (double)mktime(&tm);
		return 0;
	}
	errno = 0;
	secs = strtol(text, &end, 10);
	if (end != text && *end == '\0' && errno == 0 && secs >= 0) {
		*from = now - (double)secs;
		return 0;
	}
	pitr_log_error("invalid value \"%s\" for option \"--from\": expected YYYY-MM-DD HH:MM:SS "
		       "or a number of seconds", text);
	return -1;
}

int
pitr_mon_errors_from(const struct pitr_monitor_opts *o, double now, double *from, bool *state_based)
{
	char *dir, *path, *text;
	size_t len;

	*from = 0;
	*state_based = o->from == NULL;
	if (o->from != NULL)
		return parse_from(o->from, now, from);
	dir = pitr_fsutil_join(o->state_dir, ERRORS_DIR);
	path = dir != NULL ? pitr_fsutil_join(dir, FROM_FILE) : NULL;
	free(dir);
	if (path == NULL)
		return -1;
	text = pitr_fsutil_read_small(path, 64, &len);
	if (text == NULL && errno != ENOENT) {
		free(path);
		return -1;
	}
	if (text != NULL)
		*from = strtod(text, NULL);
	free(text);
	free(path);
	return 0;
}

int
pitr_mon_errors_save_from(const char *state_dir, double from)
{
	char *dir = pitr_fsutil_join(state_dir, ERRORS_DIR);
	char buf[64];
	int rc = -1;

	if (dir == NULL)
		return -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		pitr_log_error("could not create \"%s\": %s", dir, strerror(errno));
	else
		rc = pitr_fsutil_publish_buffer(dir, FROM_FILE, buf,
						(size_t)snprintf(buf, sizeof(buf), "%.6f", from),
						true, NULL);
	free(dir);
	return rc;
}

static int
by_epoch(const void *a, const void *b)
{
	const struct pitr_mon_error *x = *(const struct pitr_mon_error *const *)a;
	const struct pitr_mon_error *y = *(const struct pitr_mon_error *const *)b;

	return (x->epoch > y->epoch) - (x->epoch < y->epoch);
}

size_t
pitr_mon_errors_after(const struct pitr_mon_state *s, double from,
		      const struct pitr_mon_error ***out)
{
	const struct pitr_mon_error **list = pitr_xcalloc(s->nerrors + 1, sizeof(*list));
	size_t n = 0;

	*out = list;
	if (list == NULL)
		return 0;
	for (size_t i = 0; i < s->nerrors; i++)
		if (s->errors[i].epoch > from)
			list[n++] = &s->errors[i];
	/* Stable enough: equal times keep no particular order, as OmniPITR. */
	qsort(list, n, sizeof(*list), by_epoch);
	return n;
}
