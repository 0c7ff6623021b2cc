/*
 * monitor.h - pitr-monitor: what the pitr-* programs' logs say about
 * archiving, restoring and backups, and the server's archive queue, as
 * OmniPITR's omnipitr-monitor reported it (a plain number or list), as
 * Prometheus text, as JSON, or as a Nagios plugin's status line.
 */
#ifndef PITR_MONITOR_H
#define PITR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "server/pgconn.h"

/* The checks, in the order the all-at-once formats write them. */
#define PITR_MONITOR_CHECKS                                                      \
	"last-archive-age|current-archive-time|archive-queue|last-restore-age|"  \
	"current-restore-time|last-backup-age|errors|dump-state"

/* The output formats. */
#define PITR_MONITOR_FORMATS "plain|prometheus|json"

/* Nagios plugins' exit statuses: the one program of pitrkit that exits
 * above 1, on purpose (never archive_command or restore_command). */
enum pitr_monitor_status {
	PITR_MONITOR_OK = 0,
	PITR_MONITOR_WARNING = 1,
	PITR_MONITOR_CRITICAL = 2,
	PITR_MONITOR_UNKNOWN = 3,
};

struct pitr_monitor_opts {
	const char **logs;          /* -l templates, ^-strftime */
	size_t nlogs;
	const char *check;          /* -c; NULL: every check (prometheus, json) */
	const char *state_dir;      /* -s */
	const char *from;           /* --from DATETIME|SECONDS, errors */
	const char *format;         /* --format; NULL: plain */
	const char *output;         /* --output FILE; NULL: stdout */
	const char *warning;        /* --warning N; with critical: Nagios mode */
	const char *critical;       /* --critical N */
	struct pitr_pgconn_params conn; /* -d -h -p -U */
	bool conn_given;            /* one of -d -h -p -U was given */
};

/* Run pitr-monitor.  Returns the exit status: 0 done, 1 failure (logged);
 * in Nagios mode (--warning or --critical) 0 to 3, the status line on
 * stdout. */
int pitr_cmd_monitor(const struct pitr_monitor_opts *opts);

#endif
