/*
 * pitr-check - prove archiving end to end on a running server: switch
 * WAL, wait for the segment at every destination of archive_command, read
 * each copy back.  Parses options and calls pitr_cmd_check().
 *
 * A program of its own rather than a mode of pitr-archive: it needs libpq,
 * which pitr-archive (run once per WAL file) must not load.
 */
#include "config.h"

#include <stdio.h>

#include "command/check/check.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigclean.h"

/* PITR_OPTS_S3 (common/opts.h) with pitr-check's defaults: each one
 * given replaces the server's setting, which stands otherwise. */
#define S3_DFLT_DOC "the server's setting"
#define CHECK_S3_OPTS                                                           \
	{ "s3-endpoint", NULL, PITR_OPT_STRING, "URL", .dflt_doc = S3_DFLT_DOC, \
	  .help = "object store of s3:// destinations: http[s]://HOST[:PORT]" }, \
	{ "s3-region", NULL, PITR_OPT_STRING, "NAME", .dflt_doc = S3_DFLT_DOC,  \
	  .help = "region the requests are signed for" },                       \
	{ "s3-uri-style", NULL, PITR_OPT_STRING, NULL, .dflt_doc = S3_DFLT_DOC, \
	  .help = "bucket in the host name (host) or in the path (path)",       \
	  .choices = "host|path" },                                             \
	{ "s3-ca-file", NULL, PITR_OPT_STRING, "FILE", .dflt_doc = S3_DFLT_DOC, \
	  .help = "CA certificates the store's certificate is checked against" }, \
	{ "s3-no-verify-tls", NULL, PITR_OPT_FLAG, NULL,                        \
	  .help = "do not check the store's TLS certificate" },                 \
	{ "s3-timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 86400,  \
	  .dflt_doc = S3_DFLT_DOC,                                              \
	  .help = "give up a request that moved no byte for SECONDS (retried)" }, \
	{ "s3-retries", NULL, PITR_OPT_INT, "N", .min = 0, .max = 100,          \
	  .dflt_doc = S3_DFLT_DOC,                                              \
	  .help = "retry a failed request N times, with backoff, when S3 says it may" }

static const struct pitr_opt_def check_options[] = {
	{ "archive-command", "ac", PITR_OPT_STRING, "COMMAND",
	  .dflt_doc = "the server's archive_command",
	  .help = "the archive_command to check, when the server's cannot be read" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt_doc = "the server's data_directory",
	  .help = "what relative paths in archive_command are relative to" },
	{ "database", "d", PITR_OPT_STRING, "DBNAME", .dflt_doc = "libpq's",
	  .help = "database or full conninfo to connect to" },
	{ "host", "h", PITR_OPT_STRING, "HOST", .dflt_doc = "libpq's",
	  .help = "server host or socket dir" },
	PITR_OPTS_LOG,
	{ "port", "p", PITR_OPT_STRING, "PORT", .dflt_doc = "libpq's", .help = "server port" },
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", .dflt_doc = "rsync on the PATH",
	  .help = "the rsync that fetches remote copies (never archive_command's)" },
	CHECK_S3_OPTS,
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", .dflt_doc = "$TMPDIR or " PITR_FSUTIL_TMPDIR_DEFAULT,
	  .help = "where copies from remote destinations are fetched" },
	{ "timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 86400, .dflt = "60",
	  .help = "how long the segment may take to reach every destination" },
	{ "username", "U", PITR_OPT_STRING, "USER", .dflt_doc = "libpq's",
	  .help = "user to connect as" },
	PITR_OPTS_VERBOSE("log each step"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(check_options) / sizeof(check_options[0]))

/* pitr-check's --s3-* options: each one given replaces the server's. */
static void
read_s3(const struct pitr_opts *o, struct pitr_check_s3 *s3)
{
	/* No table default: an option not given is NULL, or 0. */
	s3->endpoint = pitr_opts_str(o, "s3-endpoint");
	s3->region = pitr_opts_str(o, "s3-region");
	s3->uri_style = pitr_opts_str(o, "s3-uri-style");
	s3->ca_file = pitr_opts_str(o, "s3-ca-file");
	s3->no_verify_tls = pitr_opts_flag(o, "s3-no-verify-tls");
	s3->timeout = (int)pitr_opts_int(o, "s3-timeout");
	s3->retries = pitr_opts_str(o, "s3-retries") != NULL ? (int)pitr_opts_int(o, "s3-retries") :
		      -1;
}

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_check_opts c = { 0 };
	int rc = 1;

	/* A signal removes the fetched copies and ends with status 1. */
	if (pitr_sigclean_install("pitr-check", false) != 0)
		return 1;
	switch (pitr_opts_begin(&o, "pitr-check", "pitr-check [OPTION]...", check_options, NOPTIONS,
				argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-check") != 0)
		goto out;
	c.conn.dbname = pitr_opts_str(&o, "database");
	c.conn.host = pitr_opts_str(&o, "host");
	c.conn.port = pitr_opts_str(&o, "port");
	c.conn.user = pitr_opts_str(&o, "username");
	c.data_dir = pitr_opts_str(&o, "data-dir");
	c.archive_command = pitr_opts_str(&o, "archive-command");
	c.temp_dir = pitr_opts_str(&o, "temp-dir");
	c.rsync_path = pitr_opts_str(&o, "rsync-path");
	c.timeout = (int)pitr_opts_int(&o, "timeout");
	read_s3(&o, &c.s3);
	c.out = stdout;
	c.to_log = pitr_opts_str(&o, "log") != NULL;
	rc = pitr_cmd_check(&c) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
