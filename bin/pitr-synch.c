/*
 * pitr-synch - a running PostgreSQL cluster copied to one or several new
 * data directories at once (OmniPITR's omnipitr-synch), on the backup
 * protocol.  Parses options and calls pitr_cmd_synch(); --receive is the
 * receiving end each output runs.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/synch/synch.h"
#include "common/log.h"
#include "common/opts.h"
#include "s3/s3.h"

static const struct pitr_opt_def synch_options[] = {
	{ "archive", NULL, PITR_OPT_LIST, "[CODEC=]DIR|s3://BUCKET/PREFIX/",
	  .help = "a WAL archive at the output's host, or an object store's, that "
		  "restore_command reads (repeatable)" },
	{ "automatic", "a", PITR_OPT_FLAG, NULL,
	  .help = "copy without asking for confirmation on the terminal" },
	{ "bwlimit", NULL, PITR_OPT_INT, "KBPS", .min = 0, .max = 100000000, .dflt = "0",
	  .help = "rsync's bandwidth limit for -r, in KiB/s; 0: none" },
	{ "compress", "c", PITR_OPT_STRING, "CODEC[:LEVEL]",
	  .help = "compress in transit: gzip, bzip2, lzma, xz, lz4, zstd (or a path to one)" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt_doc = "the server's data_directory",
	  .help = "the source's data directory" },
	{ "database", "d", PITR_OPT_STRING, "DBNAME", .dflt_doc = "libpq's",
	  .help = "database or full conninfo to connect to" },
	{ "force", NULL, PITR_OPT_FLAG, NULL,
	  .help = "-r: re-sync an output holding another system's data directory" },
	{ "host", "h", PITR_OPT_STRING, "HOST", .dflt_doc = "libpq's",
	  .help = "server host or socket dir" },
	{ "keep-conf", NULL, PITR_OPT_FLAG, NULL,
	  .help = "-r: keep the output's postgresql.conf, pg_hba.conf and pg_ident.conf" },
	PITR_OPTS_LOG,
	{ "map", "m", PITR_OPT_LIST, "OLD:NEW",
	  .help = "tablespaces under OLD go to NEW ([USER@]HOST:/DIR: that host's only) (repeatable)" },
	{ "output", "o", PITR_OPT_LIST, "DEST",
	  .help = "/DIR, [USER@]HOST[:PORT]:/DIR or rsync://HOST/MODULE/DIR (repeatable)",
	  .required = "pitr-synch needs somewhere to copy to" },
	PITR_OPTS_PID_FILE,
	{ "port", "p", PITR_OPT_STRING, "PORT", .dflt_doc = "libpq's", .help = "server port" },
	{ "pitr-recover", NULL, PITR_OPT_STRING, "PATH",
	  .dflt_doc = "pitr-recover in the directory of this program",
	  .help = "recovery_end_command's program at the output's host" },
	{ "pitr-restore", NULL, PITR_OPT_STRING, "PATH",
	  .dflt_doc = "pitr-restore in the directory of this program",
	  .help = "restore_command's program at the output's host" },
	{ "psql-path", "pp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; pitrkit connects with libpq" },
	{ "remote-compressor-path", "rcp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; the receiver decompresses in-process" },
	{ "remote-pitr-synch", NULL, PITR_OPT_STRING, "PATH", .dflt = PITR_SYNCH_REMOTE_DEFAULT,
	  .help = "the receiving program on ssh outputs" },
	{ "remote-rm-path", "rrp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; the receiver removes in-process" },
	{ "remote-rsync-path", "rsp", PITR_OPT_STRING, "PATH", .dflt_doc = "rsync on the remote PATH",
	  .help = "the rsync program on the output's host (-r)" },
	{ "remote-tar-path", "rtp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; the receiver reads tar in-process" },
	{ "rsync", "r", PITR_OPT_FLAG, NULL,
	  .help = "delta re-sync of an existing, stopped data directory with rsync" },
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", .dflt_doc = "rsync on the PATH",
	  .help = "the rsync program" },
	PITR_OPTS_S3,
	PITR_STANDBY_OPTS,
	{ "shell-path", "sh", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; no shell is run" },
	{ "ssh-path", "sp", PITR_OPT_STRING, "PATH", .dflt_doc = "ssh on the PATH",
	  .help = "the ssh program" },
	{ "stale-pid-file", NULL, PITR_OPT_FLAG, NULL,
	  .help = "-r: a remote output's postmaster.pid is stale, its server known to be down" },
	{ "tar-path", "tp", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; tar is written in-process" },
	{ "tee-path", "ep", PITR_OPT_IGNORED, "PATH",
	  .help = "accepted for OmniPITR; output fans out in-process" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", .dflt_doc = "$TMPDIR or /tmp",
	  .help = "staging for -r's small files" },
	{ "username", "U", PITR_OPT_STRING, "USER", .dflt_doc = "libpq's",
	  .help = "user to connect as" },
	PITR_OPTS_VERBOSE("log every step"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(synch_options) / sizeof(synch_options[0]))

/* pitr-synch --receive DIR: one output's end, run by the sender. */
static const struct pitr_opt_def receive_options[] = {
	{ "receive", NULL, PITR_OPT_STRING, "DIR",
	  .help = "extract the copy on stdin into DIR (run by pitr-synch)" },
	{ "codec", NULL, PITR_OPT_STRING, "CODEC", .dflt = "none", .help = "the stream's codec" },
	{ "index", NULL, PITR_OPT_INT, "N", .min = 0, .max = 100000, .dflt = "0",
	  .help = "this output's configuration members" },
	{ "sysid", NULL, PITR_OPT_STRING, "N", .help = "the source's system identifier",
	  .required = "the receiver writes it into the in-progress mark" },
	{ "tablespace", NULL, PITR_OPT_LIST, "OID=DIR", .help = "a tablespace's place (repeatable)" },
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("log more"),
	PITR_OPTS_COMMON,
};

static int
receive(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct synch_receive_opts r = { 0 };
	char *end;
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-synch", "pitr-synch --receive DIR --sysid N [OPTION]...",
				receive_options, sizeof(receive_options) / sizeof(receive_options[0]),
				argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-synch") != 0)
		goto out;
	r.dir = pitr_opts_str(&o, "receive");
	r.codec = pitr_opts_str(&o, "codec");
	r.index = (int)pitr_opts_int(&o, "index");
	r.sysid = strtoull(pitr_opts_str(&o, "sysid"), &end, 10);
	r.tablespaces = pitr_opts_list(&o, "tablespace", &r.ntablespaces);
	if (*end != '\0') {
		pitr_log_error("invalid value \"%s\" for option \"--sysid\"", pitr_opts_str(&o, "sysid"));
		goto out;
	}
	rc = pitr_cmd_synch_receive(&r) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}

/* The run's options from the parsed command line. */
static void
fill(const struct pitr_opts *o, const char *argv0, struct synch_opts *s)
{
	s->data_dir = pitr_opts_str(o, "data-dir");
	s->dbname = pitr_opts_str(o, "database");
	s->host = pitr_opts_str(o, "host");
	s->port = pitr_opts_str(o, "port");
	s->user = pitr_opts_str(o, "username");
	s->outputs = pitr_opts_list(o, "output", &s->noutputs);
	s->compress = pitr_opts_str(o, "compress");
	s->rsync = pitr_opts_flag(o, "rsync");
	s->maps = pitr_opts_list(o, "map", &s->nmaps);
	s->pid_file = pitr_opts_str(o, "pid-file");
	s->automatic = pitr_opts_flag(o, "automatic");
	s->temp_dir = pitr_opts_str(o, "temp-dir");
	s->verbose = pitr_opts_flag(o, "verbose");
	s->rsync_path = pitr_opts_str(o, "rsync-path");
	s->remote_rsync_path = pitr_opts_str(o, "remote-rsync-path");
	s->ssh_path = pitr_opts_str(o, "ssh-path");
	s->remote_synch = pitr_opts_str(o, "remote-pitr-synch");
	s->bwlimit = (int)pitr_opts_int(o, "bwlimit");
	s->keep_conf = pitr_opts_flag(o, "keep-conf");
	s->force = pitr_opts_flag(o, "force");
	s->stale_pid_file = pitr_opts_flag(o, "stale-pid-file");
	s->archives = pitr_opts_list(o, "archive", &s->narchives);
	pitr_s3_config_from_opts(o, &s->s3);
	s->pitr_restore = pitr_opts_str(o, "pitr-restore");
	s->pitr_recover = pitr_opts_str(o, "pitr-recover");
	s->log = pitr_opts_str(o, "log");
	s->argv0 = argv0;
}

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct synch_opts s = { 0 };
	int rc = 1;

	if (argc >= 2 && strcmp(argv[1], "--receive") == 0)
		return receive(argc, argv);
	switch (pitr_opts_begin(&o, "pitr-synch", "pitr-synch -o DEST [-o DEST]... [OPTION]...",
				synch_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-synch") != 0)
		goto out;
	fill(&o, argv[0], &s);
	if (pitr_standby_opts_get(&o, &s.sb) == 0)
		rc = pitr_cmd_synch(&s) == 0 ? 0 : 1;
out:
	pitr_standby_opts_free(&s.sb);
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
