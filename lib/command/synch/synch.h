/*
 * synch.h - pitr-synch: a running cluster's data directory and tablespaces
 * copied, on the backup protocol, to one or several outputs at once
 * (OmniPITR's omnipitr-synch); and the receiver each output's copy is
 * extracted by, pitr-synch --receive.
 */
#ifndef PITR_CMD_SYNCH_H
#define PITR_CMD_SYNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/standby/standby.h"
#include "s3/s3.h"

struct synch_opts {
	const char *data_dir;          /* -D; NULL: the server's data_directory */
	const char *dbname;            /* -d, a name or a full conninfo */
	const char *host;              /* -h */
	const char *port;              /* -p */
	const char *user;              /* -U */
	const char **outputs;          /* -o, repeatable */
	size_t noutputs;
	const char *compress;          /* -c CODEC[:LEVEL] or a compressor program; NULL: none */
	bool rsync;                    /* -r */
	const char **maps;             /* -m OLD:NEW, repeatable */
	size_t nmaps;
	const char *pid_file;          /* --pid-file */
	bool automatic;                /* -a: no confirmation */
	const char *temp_dir;          /* -t */
	bool verbose;                  /* -v */
	const char *rsync_path;        /* -rp */
	const char *remote_rsync_path; /* -rsp */
	const char *ssh_path;          /* --ssh-path; NULL: ssh on PATH */
	const char *remote_synch;      /* --remote-pitr-synch; NULL: "pitr-synch" */
	const char *local_synch;       /* the receiver run for local outputs; NULL: beside argv0 */
	const char *argv0;             /* this program, to find the receiver beside it */
	int bwlimit;                   /* --bwlimit KiB/s; 0: none */
	bool keep_conf;                /* --keep-conf (delta) */
	bool force;                    /* --force (delta): another system's data dir */
	bool stale_pid_file;           /* --stale-pid-file (delta): a remote output's
					* postmaster.pid names no running server */
	struct pitr_standby_opts sb;   /* the standby options, as pitr-recover's; archive_mode
					* among them */
	const char **archives;         /* --archive [CODEC=]DIR at the output's host, or
					* [CODEC=]s3://BUCKET/PREFIX/; repeatable */
	size_t narchives;
	struct pitr_s3_config s3;      /* --s3-*: written into restore_command for an
					* s3:// archive (pitr-synch itself never
					* contacts the store) */
	const char *pitr_restore;      /* restore_command's program at the output's host; NULL:
					* pitr-restore beside this program */
	const char *pitr_recover;      /* recovery_end_command's; NULL: pitr-recover beside */
	const char *log;               /* -l, passed on to local receivers */
};

#define PITR_SYNCH_REMOTE_DEFAULT "pitr-synch"

/* Copy.  Returns 0 when every output holds a complete copy; -1 after
 * logging, every failed output named and cleaned. */
int pitr_cmd_synch(const struct synch_opts *opts);

/* pitr-synch --receive: what the sender runs for each output. */
struct synch_receive_opts {
	const char *dir;               /* the output's data directory, absolute */
	const char *codec;             /* the stream's codec name */
	uint64_t sysid;                /* the source's, into SYNCH_IN_PROGRESS */
	int index;                     /* this output's config members: "config/INDEX/NAME" */
	const char **tablespaces;      /* "OID=DIR", the mapped place of each */
	size_t ntablespaces;
};

/* Extract the stream on stdin into opts->dir.  Returns 0, or -1 after
 * logging with everything this run wrote removed. */
int pitr_cmd_synch_receive(const struct synch_receive_opts *opts);

#endif
