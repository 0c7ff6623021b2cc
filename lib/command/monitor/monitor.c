/*
 * monitor.c - the pitr-monitor run: lock the state dir, read what the
 * logs gained since the last call, save the state, then answer one check
 * (plain or Nagios) or every check at once (prometheus, json).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include "command/monitor/monitor_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/opts.h"

enum check {
	CK_LAST_ARCHIVE_AGE,
	CK_CURRENT_ARCHIVE_TIME,
	CK_ARCHIVE_QUEUE,
	CK_LAST_RESTORE_AGE,
	CK_CURRENT_RESTORE_TIME,
	CK_LAST_BACKUP_AGE,
	CK_ERRORS,
	CK_DUMP_STATE,
	CK_ALL,                 /* prometheus, json */
};

/* In the order of PITR_MONITOR_CHECKS and enum check. */
static const char *const check_names[] = {
	"last-archive-age", "current-archive-time", "archive-queue", "last-restore-age",
	"current-restore-time", "last-backup-age", "errors", "dump-state",
};

struct monitor_run {
	const struct pitr_monitor_opts *opts;
	enum check check;
	bool nagios;
	int format;             /* index in PITR_MONITOR_FORMATS */
	struct pitr_mon_state state;
	struct pitr_mon_values values;
	int lock_fd;
};

#define FORMAT_PLAIN 0
#define FORMAT_PROMETHEUS 1

static double
now_epoch(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* The check's index in PITR_MONITOR_CHECKS.  As OmniPITR, which loaded
 * the check's class by its name, case and '_' for '-' do not matter
 * ("Last_Archive_Age"). */
static int
check_index(const char *name)
{
	char norm[64];
	size_t i;

	for (i = 0; name[i] != '\0' && i < sizeof(norm) - 1; i++)
		norm[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
	norm[i] = '\0';
	if (name[i] != '\0')
		return pitr_opts_check_choice("check", name, PITR_MONITOR_CHECKS);
	for (int c = 0; c <= CK_DUMP_STATE; c++)
		if (strcmp(norm, check_names[c]) == 0)
			return c;
	return pitr_opts_check_choice("check", name, PITR_MONITOR_CHECKS);
}

/* The option combinations, refused before anything is read. */
static int
check_options(struct monitor_run *r)
{
	const struct pitr_monitor_opts *o = r->opts;

	r->format = o->format == NULL ? FORMAT_PLAIN :
		    pitr_opts_check_choice("format", o->format, PITR_MONITOR_FORMATS);
	if (r->format < 0)
		return -1;
	r->nagios = o->warning != NULL || o->critical != NULL;
	if (r->format != FORMAT_PLAIN) {
		if (o->check != NULL || r->nagios) {
			pitr_log_error("--format %s writes every check at once: leave out --check, "
				       "--warning and --critical", o->format);
			return -1;
		}
		r->check = CK_ALL;
	} else if (o->check == NULL) {
		pitr_log_error("no --check given: plain output answers one check");
		return -1;
	} else {
		int c = check_index(o->check);

		if (c < 0)
			return -1;
		r->check = (enum check)c;
	}
	if (r->nagios) {
		bool have;
		double value;

		if (pitr_mon_threshold(o->warning, "warning", &have, &value) != 0 ||
		    pitr_mon_threshold(o->critical, "critical", &have, &value) != 0)
			return -1;
	}
	if (r->nagios && r->check == CK_DUMP_STATE) {
		pitr_log_error("--warning and --critical need a check with a number: not dump-state");
		return -1;
	}
	if (o->output != NULL && r->format == FORMAT_PLAIN) {
		pitr_log_error("--output is for --format prometheus or json");
		return -1;
	}
	if (o->nlogs == 0 && r->check != CK_ARCHIVE_QUEUE) {
		pitr_log_error("no --log given: pitr-monitor reads the pitr-* programs' logs");
		return -1;
	}
	return 0;
}

/* One call at a time per state dir: a Nagios check and a cron job must
 * not both advance the same offsets. */
static int
lock_state_dir(struct monitor_run *r)
{
	char *path = pitr_fsutil_join(r->opts->state_dir, "pitr-monitor.lock");

	if (path == NULL)
		return -1;
	r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (r->lock_fd < 0 || flock(r->lock_fd, LOCK_EX) != 0) {
		pitr_log_error("could not lock \"%s\" (is --state-dir a writable directory?): %s",
			       path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

static int
read_state(struct monitor_run *r)
{
	const struct pitr_monitor_opts *o = r->opts;
	long n;

	if (lock_state_dir(r) != 0 || pitr_mon_state_load(&r->state, o->state_dir) != 0)
		return -1;
	n = pitr_mon_read_logs(&r->state, (const char *const *)o->logs, o->nlogs);
	if (n < 0)
		return -1;
	pitr_mon_state_prune(&r->state, now_epoch());
	return pitr_mon_state_save(&r->state, o->state_dir);
}

/* The errors check: the new ones since --from or the last call. */
static int
run_errors(struct monitor_run *r, FILE *out, size_t *count)
{
	const struct pitr_mon_error **errs;
	double from;
	bool state_based;
	size_t n;
	int rc = 0;

	if (pitr_mon_errors_from(r->opts, r->values.now, &from, &state_based) != 0)
		return -1;
	n = pitr_mon_errors_after(&r->state, from, &errs);
	for (size_t i = 0; out != NULL && i < n; i++)
		pitr_mon_print_error(out, errs[i]);
	if (n > 0 && state_based)
		rc = pitr_mon_errors_save_from(r->opts->state_dir, errs[n - 1]->epoch);
	*count = n;
	free(errs);
	return rc;
}

/* One check's number: whether known, its value and its Nagios unit. */
static bool
check_number(const struct monitor_run *r, double *value, const char **unit)
{
	const struct pitr_mon_values *v = &r->values;
	const struct pitr_mon_state *s = &r->state;

	*unit = "s";
	switch (r->check) {
	case CK_LAST_ARCHIVE_AGE: *value = v->last_archive_age; return s->archive_last > 0;
	case CK_CURRENT_ARCHIVE_TIME: *value = v->current_archive_time; return v->have_archive;
	case CK_LAST_RESTORE_AGE: *value = v->last_restore_age; return s->restore_last > 0;
	case CK_CURRENT_RESTORE_TIME: *value = v->current_restore_time; return v->have_restore;
	case CK_LAST_BACKUP_AGE: *value = v->last_backup_age; return v->have_backup;
	default: break;
	}
	*unit = "";
	*value = (double)v->archive_queue;
	return v->have_queue;
}

static int
run_one(struct monitor_run *r)
{
	const struct pitr_monitor_opts *o = r->opts;
	double value;
	const char *unit;
	size_t n;
	bool have;

	if (r->check == CK_DUMP_STATE) {
		pitr_mon_state_write(&r->state, stdout);
		return 0;
	}
	/* No log to read: a plugin cannot vouch for anything ("OK errors 0"
	 * would hide a wrong --log).  The plain answer stays OmniPITR's 0. */
	if (r->nagios && r->check != CK_ARCHIVE_QUEUE && r->state.nfiles == 0) {
		printf("PITR-MONITOR UNKNOWN - %s: no log file found for the --log templates\n",
		       check_names[r->check]);
		return PITR_MONITOR_UNKNOWN;
	}
	if (r->check == CK_ERRORS) {
		if (run_errors(r, r->nagios ? NULL : stdout, &n) != 0)
			return -1;
		return r->nagios ? pitr_mon_nagios(stdout, check_names[r->check], true, (double)n,
						   "", o->warning, o->critical) : 0;
	}
	if (r->check == CK_ARCHIVE_QUEUE && pitr_mon_values_queue(o, &r->values) != 0)
		return -1;
	have = check_number(r, &value, &unit);
	if (r->nagios)
		return pitr_mon_nagios(stdout, check_names[r->check], have, value, unit,
				       o->warning, o->critical);
	if (r->check == CK_ARCHIVE_QUEUE)
		printf("%ld\n", r->values.archive_queue);
	else
		pitr_mon_print_plain_number(stdout, have, value);
	return 0;
}

/* prometheus or json to --output (atomically replaced) or stdout. */
static int
run_all(struct monitor_run *r)
{
	const struct pitr_monitor_opts *o = r->opts;
	const struct pitr_mon_error **errs = NULL;
	double from = 0;
	bool state_based;
	char *buf = NULL;
	size_t len = 0, nerrs = 0;
	FILE *mem;
	int rc;

	if (o->conn_given && pitr_mon_values_queue(o, &r->values) != 0)
		return -1;
	/* json lists the errors of --from's window, else every one kept; it
	 * does not move the errors check's mark. */
	if (r->format != FORMAT_PROMETHEUS) {
		if (o->from != NULL && pitr_mon_errors_from(o, r->values.now, &from, &state_based) != 0)
			return -1;
		nerrs = pitr_mon_errors_after(&r->state, from, &errs);
	}
	mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		free(errs);
		pitr_log_error("could not format the output: %s", strerror(errno));
		return -1;
	}
	rc = r->format == FORMAT_PROMETHEUS ? pitr_mon_write_prometheus(mem, &r->values, &r->state) :
	     pitr_mon_write_json(mem, &r->values, &r->state, errs, nerrs);
	free(errs);
	if (fclose(mem) != 0 || rc != 0) {
		pitr_log_error("could not format the output");
		free(buf);
		return -1;
	}
	rc = o->output != NULL ? pitr_mon_publish_output(o->output, buf, len) :
	     (fwrite(buf, 1, len, stdout) == len ? 0 : -1);
	free(buf);
	return rc;
}

int
pitr_cmd_monitor(const struct pitr_monitor_opts *opts)
{
	struct monitor_run r = { .opts = opts, .lock_fd = -1 };
	char held[1024] = "";
	int rc;

	if (check_options(&r) != 0)
		return 1;
	/* A Nagios plugin answers UNKNOWN in its one status line, so the
	 * failure's message is kept for that line; --verbose is off, or its
	 * first line would be the one kept. */
	if (r.nagios) {
		pitr_log_open(NULL, NULL, false);
		pitr_log_hold(held, sizeof(held));
	}
	rc = r.check == CK_ARCHIVE_QUEUE ? lock_state_dir(&r) : read_state(&r);
	if (rc == 0) {
		pitr_mon_values_compute(&r.state, now_epoch(), &r.values);
		rc = r.check == CK_ALL ? run_all(&r) : run_one(&r);
	}
	if (r.nagios) {
		pitr_log_hold(NULL, 0);
		if (rc < 0) {
			pitr_log_error("%s", held);
			printf("PITR-MONITOR UNKNOWN - %s\n", held);
			rc = PITR_MONITOR_UNKNOWN;
		}
	} else {
		rc = rc == 0 ? 0 : 1;
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	pitr_mon_state_free(&r.state);
	if (r.lock_fd >= 0)
		close(r.lock_fd);
	return rc;
}
