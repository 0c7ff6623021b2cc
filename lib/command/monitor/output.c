/*
 * output.c - the formats: OmniPITR's plain number or list, Prometheus'
 * text exposition format (every check at once, for node_exporter's
 * textfile collector), JSON, and a Nagios plugin's status line.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/info/info.h"
#include "command/monitor/monitor_impl.h"
#include "common/fsutil.h"
#include "common/log.h"

void
pitr_mon_print_plain_number(FILE *out, bool have, double value)
{
	/* OmniPITR printed "%f" seconds, and 0 when the logs said nothing or
	 * nothing was going on. */
	if (have && value != 0)
		fprintf(out, "%f\n", value);
	else
		fputs("0\n", out);
}

void
pitr_mon_print_error(FILE *out, const struct pitr_mon_error *e)
{
	fprintf(out, "%s : %ld : %s\n", e->ts, e->pid, e->line);
}

static void
prom_family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_gauge(FILE *out, const char *name, const char *help, bool have, double value)
{
	prom_family(out, name, "gauge", help);
	if (have)
		fprintf(out, "%s %.6f\n", name, value);
}

int
pitr_mon_write_prometheus(FILE *out, const struct pitr_mon_values *v,
			  const struct pitr_mon_state *s)
{
	prom_gauge(out, "pitrkit_last_archive_age_seconds",
		   "Seconds since pitr-archive last archived a WAL file.",
		   s->archive_last > 0, v->last_archive_age);
	prom_gauge(out, "pitrkit_current_archive_time_seconds",
		   "Seconds pitr-archive has been failing since its last success (0: not failing).",
		   v->have_archive, v->current_archive_time);
	prom_gauge(out, "pitrkit_archive_queue_segments",
		   "WAL files waiting for archive_command (.ready files in pg_wal/archive_status).",
		   v->have_queue, (double)v->archive_queue);
	prom_family(out, "pitrkit_archiver_failed_total", "counter",
		    "Failed archive_command calls since the server's statistics reset (pg_stat_archiver).");
	if (v->have_queue)
		fprintf(out, "pitrkit_archiver_failed_total %ld\n", v->archiver_failed);
	prom_gauge(out, "pitrkit_last_restore_age_seconds",
		   "Seconds since pitr-restore last handed a WAL file over.",
		   s->restore_last > 0, v->last_restore_age);
	prom_gauge(out, "pitrkit_current_restore_time_seconds",
		   "Seconds pitr-restore has been waiting for the next WAL file (0: not waiting).",
		   v->have_restore, v->current_restore_time);
	prom_gauge(out, "pitrkit_last_backup_age_seconds",
		   "Seconds since the last pitr-backup-master or pitr-backup-slave finished.",
		   v->have_backup, v->last_backup_age);
	prom_family(out, "pitrkit_log_errors_total", "counter",
		    "ERROR and FATAL lines read from the logs since the state dir was new.");
	fprintf(out, "pitrkit_log_errors_total %llu\n", s->errors_total);
	prom_gauge(out, "pitrkit_monitor_timestamp_seconds",
		   "When pitr-monitor wrote these values.", true, v->now);
	return ferror(out) ? -1 : 0;
}

static void
json_number(FILE *out, const char *key, bool have, double value, bool last)
{
	if (have)
		fprintf(out, "  \"%s\": %.6f%s\n", key, value, last ? "" : ",");
	else
		fprintf(out, "  \"%s\": null%s\n", key, last ? "" : ",");
}

static void
json_string(FILE *out, const char *key, const char *value)
{
	fprintf(out, "  \"%s\": ", key);
	if (value[0] != '\0')
		pitr_info_json_string(out, value);
	else
		fputs("null", out);
	fputs(",\n", out);
}

static void
json_errors(FILE *out, const struct pitr_mon_error **errs, size_t n)
{
	fputs("  \"errors\": [", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n    {\"time\": ", i == 0 ? "" : ",");
		pitr_info_json_string(out, errs[i]->ts);
		fprintf(out, ", \"epoch\": %.6f, \"pid\": %ld, \"line\": ", errs[i]->epoch,
			errs[i]->pid);
		pitr_info_json_string(out, errs[i]->line);
		fputc('}', out);
	}
	fputs(n > 0 ? "\n  ]\n" : "]\n", out);
}

int
pitr_mon_write_json(FILE *out, const struct pitr_mon_values *v, const struct pitr_mon_state *s,
	       const struct pitr_mon_error **errs, size_t nerrs)
{
	fputs("{\n", out);
	json_number(out, "last_archive_age", s->archive_last > 0, v->last_archive_age, false);
	json_string(out, "last_archived_wal", s->archive_wal);
	json_number(out, "current_archive_time", v->have_archive, v->current_archive_time, false);
	json_number(out, "archive_queue", v->have_queue, (double)v->archive_queue, false);
	json_number(out, "archiver_failed", v->have_queue, (double)v->archiver_failed, false);
	json_number(out, "last_restore_age", s->restore_last > 0, v->last_restore_age, false);
	json_string(out, "last_restored_wal", s->restore_wal);
	json_number(out, "current_restore_time", v->have_restore, v->current_restore_time, false);
	json_number(out, "last_backup_age", v->have_backup, v->last_backup_age, false);
	fprintf(out, "  \"errors_total\": %llu,\n", s->errors_total);
	json_errors(out, errs, nerrs);
	fputs("}\n", out);
	return ferror(out) ? -1 : 0;
}

static const char *const status_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

int
pitr_mon_threshold(const char *text, const char *opt, bool *have, double *value)
{
	char *end;

	*have = text != NULL;
	if (text == NULL)
		return 0;
	*value = strtod(text, &end);
	if (end == text || *end != '\0' || !isfinite(*value)) {
		pitr_log_error("invalid value \"%s\" for option \"--%s\": expected a number", text, opt);
		return -1;
	}
	return 0;
}

/* "12.3" as Nagios' perfdata wants it: no exponent, no trailing zeros. */
static void
perf_number(char *buf, size_t n, bool have, double value)
{
	if (!have) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, n, "%.3f", value);
	for (char *end = buf + strlen(buf) - 1; end > buf && (*end == '0' || *end == '.'); end--) {
		bool dot = *end == '.';

		*end = '\0';
		if (dot)
			break;
	}
}

int
pitr_mon_nagios(FILE *out, const char *name, bool have, double value, const char *unit,
	   const char *warning, const char *critical)
{
	bool hw, hc;
	double w = 0, c = 0;
	char label[64], sv[32], sw[32], sc[32];
	int st;

	if (pitr_mon_threshold(warning, "warning", &hw, &w) != 0 ||
	    pitr_mon_threshold(critical, "critical", &hc, &c) != 0)
		return PITR_MONITOR_UNKNOWN;
	if (!have) {
		fprintf(out, "PITR-MONITOR UNKNOWN - %s: nothing in the logs yet\n", name);
		return PITR_MONITOR_UNKNOWN;
	}
	/* As the plugin guidelines' "N" range: alert above the threshold. */
	st = hc && value > c ? PITR_MONITOR_CRITICAL :
	     hw && value > w ? PITR_MONITOR_WARNING : PITR_MONITOR_OK;
	snprintf(label, sizeof(label), "%s", name);
	for (char *p = label; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
	perf_number(sv, sizeof(sv), true, value);
	perf_number(sw, sizeof(sw), hw, w);
	perf_number(sc, sizeof(sc), hc, c);
	fprintf(out, "PITR-MONITOR %s - %s %.0f | %s=%s%s;%s;%s\n", status_names[st], name,
		(double)(long long)value, label, sv, unit, sw, sc);
	return st;
}

int
pitr_mon_publish_output(const char *path, const char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? strdup(".") :
		    slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	int rc;

	if (dir == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	/* Replaced whole by a rename: node_exporter never reads half a file. */
	rc = pitr_fsutil_publish_buffer(dir, slash == NULL ? path : slash + 1, buf, len, true, NULL);
	free(dir);
	return rc;
}
