/*
 * backup.h - pitr-backup-master and pitr-backup-slave: a hot base
 * backup of a primary or of a hot standby, as a data tarball, an xlog
 * tarball and a meta file, to every destination.  Both run the same steps;
 * only the source of the backup's WAL differs (the -x dir pitr-archive
 * fills on a primary, the archive a standby restores from).
 */
#ifndef PITR_CMD_BACKUP_H
#define PITR_CMD_BACKUP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/fsutil.h"
#include "common/opts.h"
#include "repo/orphan.h"
#include "s3/s3.h"

struct pitr_backup_opts {
	const char *data_dir;          /* -D; NULL: the server's data_directory */
	/* The server backed up (slave: the standby, --standby-*). */
	const char *dbname;            /* -d, a name or a full conninfo */
	const char *host;              /* -h */
	const char *port;              /* -p */
	const char *user;              /* -U */
	const char *xlogs;             /* -x, absolute, must not exist */
	const char **dst_local;        /* -dl [CODEC=]DIR */
	size_t ndst_local;
	const char **dst_remote;       /* -dr [CODEC=]rsync or s3 location */
	size_t ndst_remote;
	const char **dst_pipe;         /* -dp [CODEC=]PROGRAM */
	size_t ndst_pipe;
	const char **dst_direct;       /* -dd [CODEC=][USER@]HOST:/DIR, through ssh */
	size_t ndst_direct;
	const char *temp_dir;          /* -t */
	const char *filename_template; /* -f; NULL: the default */
	const char *pid_file;          /* --pid-file */
	int parallel_jobs;             /* -PJ, >= 1 */
	int pipe_timeout;              /* --pipe-timeout seconds; 0: none */
	bool not_nice;                 /* -nn */
	const char *rsync_path;        /* -rp */
	const char *ssh_path;          /* -ssh, for -dd; NULL: ssh on PATH */
	const char *remote_cat_path;   /* -rcp, for -dd; NULL: cat on the remote PATH */
	struct pitr_s3_config s3;      /* --s3-*, for s3:// destinations */
	int wal_wait;                  /* seconds to wait for the stop segment; 0: 300 */
	const char *digests;           /* -dg LIST, "MD5,SHA-256"; NULL: none */
	bool skip_xlogs;               /* -sx: no xlog tarball; restore with the archive */
	const char *incremental_from;  /* --incremental-from BACKUP|latest; NULL: full */
	/* pitr-backup-slave only */
	const char *source;            /* -s [CODEC=]DIR, the archive the standby restores from */
	const char *pause_trigger;     /* -p FILE, present while the backup needs the archive */
	bool call_master;              /* -cm: switch WAL on the master after the stop */
	const char *master_dbname;     /* -d, -h, -P, -U: the master, with -cm only */
	const char *master_host;
	const char *master_port;
	const char *master_user;
};

/* Written into the -x dir when it is created: the owning process's pid, so
 * that a run finding the dir of a killed backup may take it over. */
#define PITR_BACKUP_OWNER_FILE ".pitr-backup.pid"

/* At most one of each digest digest.h knows. */
#define PITR_BACKUP_MAX_DIGESTS 6

/* The -f default, OmniPITR's. */
#define PITR_BACKUP_DEFAULT_TEMPLATE PITR_ORPHAN_DEFAULT_TEMPLATE

/*
 * The option table entries pitr-backup-master and pitr-backup-slave share
 * (each adds its own: the connection options, whose OmniPITR meaning differs
 * between the two, the WAL source, ...), and the
 * fields of struct pitr_backup_opts they fill, read by
 * pitr_backup_opts_shared().
 */
#define PITR_BACKUP_SHARED_OPTS                                                  \
	{ "data-dir", "D", PITR_OPT_STRING, "DIR",                                \
	  .dflt_doc = "the server's data_directory",                              \
	  .help = "the cluster's data directory" },                               \
	{ "digest", "dg", PITR_OPT_STRING, "LIST",                                \
	  .help = "digest files of the data and xlog files: "                     \
		  "MD5,SHA-1,SHA-224,SHA-256,SHA-384,SHA-512 "                    \
		  "(an incremental always gets SHA-256)" },                       \
	{ "dst-direct", "dd", PITR_OPT_LIST, "[CODEC=][USER@]HOST:/DIR",          \
	  .help = "remote directory written through ssh, no local copy (repeatable)" }, \
	{ "dst-local", "dl", PITR_OPT_LIST, "[CODEC=]DIR",                        \
	  .help = "local backup directory (repeatable)" },                        \
	{ "dst-pipe", "dp", PITR_OPT_LIST, "[CODEC=]PROGRAM",                     \
	  .help = "program run with the file name, data on stdin (repeatable)" }, \
	{ "dst-remote", "dr", PITR_OPT_LIST, "[CODEC=]URL",                       \
	  .help = "rsync://host[:port]/module/path/, host:/path/ or "             \
		  "s3://BUCKET/PREFIX/ (repeatable)" },                           \
	{ "filename-template", "f", PITR_OPT_STRING, "TEMPLATE",                  \
	  .dflt = PITR_BACKUP_DEFAULT_TEMPLATE, .help = "file names" },           \
	{ "incremental-from", NULL, PITR_OPT_STRING, "BACKUP|latest",             \
	  .help = "store only what changed since BACKUP (its label or name in a " \
		  "--dst-local dir), or since the newest backup there" },         \
	PITR_OPTS_LOG,                                                            \
	PITR_OPTS_NICE,                                                           \
	{ "parallel-jobs", "PJ", PITR_OPT_INT, "N", .min = 1, .max = 64,          \
	  .dflt = "1", .help = "remote and pipe deliveries run at once" },        \
	PITR_OPTS_PID_FILE,                                                       \
	{ "pipe-timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 0, .max = 86400,  \
	  .dflt = "0", .help = "stop a --dst-pipe program that reads nothing for " \
	  "this long; 0: never" },                                                \
	{ "rsync-path", "rp", PITR_OPT_STRING, "PATH", .dflt_doc = "rsync on the PATH", \
	  .help = "the rsync program" },                                          \
	PITR_OPTS_S3,                                                             \
	{ "ssh-path", "ssh", PITR_OPT_STRING, "PATH", .dflt_doc = "ssh on the PATH", \
	  .help = "the ssh program for --dst-direct" },                           \
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR",                                \
	  .dflt_doc = "$TMPDIR or " PITR_FSUTIL_TMPDIR_DEFAULT,                   \
	  .help = "staging for remote and pipe copies" },                         \
	PITR_OPTS_VERBOSE("log every delivery and timings"),                      \
	PITR_OPTS_IGNORED_CODEC_PATHS("compression"),                             \
	{ "shell-path", "sh", PITR_OPT_IGNORED, "PATH",                           \
	  .help = "accepted for OmniPITR; no shell is run" },                     \
	{ "tar-path", "tp", PITR_OPT_IGNORED, "PATH",                             \
	  .help = "accepted for OmniPITR; tar is written in-process" },           \
	{ "tee-path", "ep", PITR_OPT_IGNORED, "PATH",                             \
	  .help = "accepted for OmniPITR; output fans out in-process" },          \
	{ "remote-cat-path", "rcp", PITR_OPT_STRING, "PATH",                      \
	  .dflt_doc = "cat on the remote PATH",                                   \
	  .help = "the cat program on --dst-direct hosts" }

/* Fill the options both programs share (connection, destinations, file
 * names, digests, -sx, ...) from `o`, parsed with a table holding
 * PITR_BACKUP_SHARED_OPTS; the connection is each program's own. */
void pitr_backup_opts_shared(const struct pitr_opts *o, struct pitr_backup_opts *b);

/*
 * Expand a -f template for `filetype` ("data", "xlog", "meta") and codec
 * extension `cext` (".gz"): __HOSTNAME__, __FILETYPE__, __CEXT__, then '^'
 * becomes '%' and strftime(3) runs on `when` in local time.  Returns a
 * malloc'd name, or NULL after logging (empty result, a '/' in it, ENOMEM).
 */
char *pitr_backup_expand_template(const char *tmpl, const char *hostname, const char *filetype,
				  const char *cext, long when);

/*
 * Parse a --digest LIST: names separated by commas (blanks around them
 * ignored), spelt as digest.h accepts them.  The canonical names ("SHA-256")
 * go to `out` (PITR_BACKUP_MAX_DIGESTS entries) in the order given,
 * repeats dropped.  Returns their count (0 for a NULL list), or -1 after
 * logging one line naming the unknown or empty name.
 */
int pitr_backup_parse_digests(const char *list, const char **out);

/*
 * Check that `tmpl` gives every file of a backup, for every codec
 * extension in `cexts` (n of them), a distinct valid name: data, xlog,
 * meta and each digest in `digests` (canonical names), expanded for time
 * `when`.  Returns 0, or -1 after logging.
 */
int pitr_backup_check_template(const char *tmpl, const char *hostname, const char *const *cexts,
			       size_t n, const char *const *digests, size_t ndigests, long when);

/*
 * The fnmatch(3) pattern matching every name `tmpl` gives the `filetype`
 * file with extension `cext`, whatever the time: each strftime conversion
 * (^X, with its flags, width and modifier: ^_H, ^10Y, ^EY) becomes '*',
 * everything else is matched literally.  Used to find the temporary files
 * (fsutil.h) a killed backup left in a destination.  Returns a malloc'd
 * pattern, or NULL after logging (a template too long, ENOMEM).
 */
char *pitr_backup_template_glob(const char *tmpl, const char *hostname, const char *filetype,
				const char *cext);

/* Take the backup.  Returns 0 when every destination holds all its
 * files durably; -1 after logging, with nothing at a final name, the -x
 * dir removed and no backup left open on the server. */
int pitr_cmd_backup_master(const struct pitr_backup_opts *opts);

/* The same from a hot standby: pg_backup_start and pg_backup_stop run on
 * the standby, the xlog tarball's segments come from opts->source, and
 * opts->pause_trigger exists from before the start until they are all
 * read.  Returns as pitr_cmd_backup_master() does; the trigger file is
 * removed on every path if this run created it. */
int pitr_cmd_backup_slave(const struct pitr_backup_opts *opts);

/* SIGTERM and SIGINT while a backup runs make it fail through its cleanup
 * (nothing at a final name, the -x dir removed, the server's backup
 * aborted by the session's end); a signal during pg_backup_start or
 * pg_backup_stop takes effect when that call returns. */

#endif
