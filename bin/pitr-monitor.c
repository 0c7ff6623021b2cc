/*
 * pitr-monitor - what the pitr-* programs' logs and the server say about
 * archiving, restoring and backups, for Nagios, Cacti, Prometheus and
 * scripts.  Parses options and calls pitr_cmd_monitor().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/monitor/monitor.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def monitor_options[] = {
	{ "log", "l", PITR_OPT_LIST, "TEMPLATE",
	  .help = "a pitr-* (or omnipitr-*) program's log, ^-strftime template; repeatable; "
		  "earlier days' files of the template are read too" },
	{ "check", "c", PITR_OPT_STRING, "CHECK",
	  .help = "the check to answer (plain output): " PITR_MONITOR_CHECKS },
	{ "state-dir", "s", PITR_OPT_STRING, "DIR",
	  .required = "pitr-monitor keeps what it read of the logs there",
	  .help = "where what was read is kept between calls" },
	{ "from", NULL, PITR_OPT_STRING, "DATETIME|SECONDS",
	  .help = "errors: since \"YYYY-MM-DD HH:MM:SS\" or that many seconds ago, instead "
		  "of since the last call" },
	{ "format", NULL, PITR_OPT_STRING, NULL, .choices = PITR_MONITOR_FORMATS,
	  .dflt = "plain", .help = "plain: one check; prometheus, json: every check at once" },
	{ "output", "o", PITR_OPT_STRING, "FILE",
	  .help = "prometheus, json: replace FILE atomically instead of writing to stdout" },
	{ "warning", NULL, PITR_OPT_STRING, "N",
	  .help = "Nagios plugin: WARNING (exit 1) above N" },
	{ "critical", NULL, PITR_OPT_STRING, "N",
	  .help = "Nagios plugin: CRITICAL (exit 2) above N" },
	{ "database", "d", PITR_OPT_STRING, "DBNAME",
	  .help = "archive-queue: database name or conninfo (else libpq's PG* environment)" },
	{ "host", "h", PITR_OPT_STRING, "HOST",
	  .help = "archive-queue: server host (else libpq's PG* environment)" },
	{ "port", "p", PITR_OPT_STRING, "PORT",
	  .help = "archive-queue: server port (else libpq's PG* environment)" },
	{ "username", "U", PITR_OPT_STRING, "USER",
	  .help = "archive-queue: user name (else libpq's PG* environment)" },
	{ "psql-path", "pp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; the server is queried through libpq" },
	{ "temp-dir", "t", PITR_OPT_IGNORED, "DIR",
	  .help = "accepted for OmniPITR; pitr-monitor needs no temporary files" },
	PITR_OPTS_VERBOSE("log what was read from each log file"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(monitor_options) / sizeof(monitor_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_monitor_opts m = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-monitor",
				"pitr-monitor -l TEMPLATE... -s DIR -c CHECK [--from WHEN] "
				"[--warning N] [--critical N] [OPTION]...\n"
				"   or: pitr-monitor -l TEMPLATE... -s DIR --format prometheus|json "
				"[--output FILE] [OPTION]...",
				monitor_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-monitor") != 0)
		goto out;
	m.logs = pitr_opts_list(&o, "log", &m.nlogs);
	m.check = pitr_opts_str(&o, "check");
	m.state_dir = pitr_opts_str(&o, "state-dir");
	m.from = pitr_opts_str(&o, "from");
	m.format = pitr_opts_str(&o, "format");
	m.output = pitr_opts_str(&o, "output");
	m.warning = pitr_opts_str(&o, "warning");
	m.critical = pitr_opts_str(&o, "critical");
	m.conn.dbname = pitr_opts_str(&o, "database");
	m.conn.host = pitr_opts_str(&o, "host");
	m.conn.port = pitr_opts_str(&o, "port");
	m.conn.user = pitr_opts_str(&o, "username");
	m.conn_given = m.conn.dbname || m.conn.host || m.conn.port || m.conn.user;
	rc = pitr_cmd_monitor(&m);
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
