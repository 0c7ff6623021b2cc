/*
 * check.h - pitr-check: prove archiving end to end on a running server.
 * It forces a WAL switch, waits until the segment just finished is at
 * every destination of the server's archive_command, reads each copy back
 * and checks its header and system identifier.
 */
#ifndef PITR_CMD_CHECK_H
#define PITR_CMD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "command/archive/archive.h"
#include "server/pgconn.h"

/* pitr-check's own --s3-* options: each one given replaces the server's
 * setting (archive_command's --s3-*, or the module's pitrkit_archive.s3_*),
 * for a checker that reaches the store otherwise than the server does. */
struct pitr_check_s3 {
	const char *endpoint;    /* NULL: the server's */
	const char *region;      /* NULL: the server's */
	const char *uri_style;   /* "host" or "path"; NULL: the server's */
	const char *ca_file;     /* NULL: the server's */
	bool no_verify_tls;      /* true: not checked, whatever the server's */
	int timeout;             /* seconds; 0: the server's */
	int retries;             /* -1: the server's */
};

/* The store's settings `cfg` (the server's) with `mine` applied. */
struct pitr_s3_config;
void pitr_check_s3_apply(const struct pitr_check_s3 *mine, struct pitr_s3_config *cfg);

struct pitr_check_opts {
	struct pitr_pgconn_params conn;  /* -d/-h/-p/-U; NULL: libpq's environment */
	const char *data_dir;            /* -D: relative paths of archive_command; NULL:
					  * the server's data_directory */
	const char *archive_command;     /* --archive-command; NULL: SHOW archive_command */
	const char *temp_dir;            /* -t: where remote copies are fetched */
	const char *rsync_path;          /* --rsync-path; NULL: rsync on the PATH (never
					  * archive_command's) */
	int timeout;                     /* --timeout seconds, >= 1 */
	struct pitr_check_s3 s3;         /* --s3-*; credentials: pitr-check's own
					  * environment or shared credentials file */
	FILE *out;                       /* result lines without --log (stdout) */
	bool to_log;                     /* --log given: result lines are LOG lines */
};

/* Run the check.  Returns 0 when the segment reached every destination
 * that can be read back, intact; -1 after logging what failed. */
int pitr_cmd_check(const struct pitr_check_opts *opts);

/*
 * Whether pitr-check may read config file `path` (its fstat `st`), named
 * by archive_command, which a database superuser writes: a regular file
 * owned by `me` (the user running pitr-check), by `dd_owner` (the data
 * directory's owner; (uid_t)-1 when unknown) or by root, and writable by
 * its owner alone.  0, or -1 with one line logged.
 */
int pitr_check_vet_config(const char *path, const struct stat *st, uid_t me, uid_t dd_owner);

/* --- reading archive_command (words.c) ------------------------------- */

/* The pitr-archive call of an archive_command: its words as the server's
 * /bin/sh would pass them (argv[0] the program), "%%" already "%", "%p"
 * and "%f" left as they are. */
struct pitr_check_call {
	char **argv;     /* argc words and a NULL */
	size_t argc;
};

/*
 * Split one simple command into words, as sh does for the plain case:
 * blanks separate words, '...' is literal, "..." keeps its text with \
 * escaping $ ` " \ and newline, \ outside quotes makes the next character
 * literal, an unquoted # starting a word begins a comment.  Anything that
 * needs more of the shell (| & ; < > ( ) $ ` globs, ~) is refused.
 * Returns 0 with *words (NULL-terminated, for pitr_check_words_free())
 * and *n set, or -1 with the reason in `err` (nothing logged).
 */
int pitr_check_split_words(const char *text, size_t len, char ***words, size_t *n, char *err,
			   size_t err_size);
void pitr_check_words_free(char **words, size_t n);

/*
 * Find the pitr-archive (or omnipitr-archive) call in `command`, which is
 * a simple command or a list of them joined by && or ; (newlines too):
 * leading NAME=VALUE assignments and an `exec` before the program are
 * skipped.  The parts that are not the call may hold anything the shell
 * reads.  Returns 0 with *call set (free with pitr_check_call_free()), or
 * -1 with the reason in `err`: no call, more than one, or a call the
 * splitter cannot read.
 */
int pitr_check_find_call(const char *command, struct pitr_check_call *call, char *err,
			 size_t err_size);
void pitr_check_call_free(struct pitr_check_call *call);

/* --- the archive module's settings (module.c) ------------------------- */

/* The pitrkit_archive.* settings that make pitr-archive's options (the
 * log's two aside), indexes into pitr_check_module_gucs[]. */
enum pitr_check_guc {
	PITR_CHECK_GUC_DST_LOCAL,
	PITR_CHECK_GUC_DST_REMOTE,
	PITR_CHECK_GUC_DST_PIPE,
	PITR_CHECK_GUC_DST_BACKUP,
	PITR_CHECK_GUC_STATE_DIR,
	PITR_CHECK_GUC_TEMP_DIR,
	PITR_CHECK_GUC_RSYNC_PATH,
	PITR_CHECK_GUC_RSYNC_TIMEOUT,
	PITR_CHECK_GUC_PIPE_TIMEOUT,
	PITR_CHECK_GUC_PARALLEL_JOBS,
	PITR_CHECK_GUC_NOT_NICE,
	PITR_CHECK_GUC_LOOK_AHEAD,
	PITR_CHECK_GUC_JOBS,
	PITR_CHECK_GUC_S3_ENDPOINT,
	PITR_CHECK_GUC_S3_REGION,
	PITR_CHECK_GUC_S3_URI_STYLE,
	PITR_CHECK_GUC_S3_CA_FILE,
	PITR_CHECK_GUC_S3_NO_VERIFY_TLS,
	PITR_CHECK_GUC_S3_TIMEOUT,
	PITR_CHECK_GUC_S3_RETRIES,
	PITR_CHECK_GUC_COUNT
};

/* Their full names ("pitrkit_archive.dst_local", ...). */
extern const char *const pitr_check_module_gucs[PITR_CHECK_GUC_COUNT];

/* Whether archive_library `library` is the archive module: its name, or
 * a path to it (PostgreSQL loads either), with or without ".so". */
bool pitr_check_is_module(const char *library);

/* The module's settings as the server shows them, and the options the
 * module makes of them. */
struct pitr_check_module {
	char *values[PITR_CHECK_GUC_COUNT];  /* malloc'd; NULL or "": not set, the default */
	char *text[3];                       /* the three lists' items' text */
	const char **items[3];
	struct pitr_archive_opts a;          /* data_dir and wal_path aside */
};

/*
 * Fill m->a from m->values as the module reads its GUCs (pgmodule/guc.c):
 * the same defaults, ranges and list splitting (common/itemlist.h).
 * Returns 0, or -1 with the reason in `err` (nothing logged) for a value
 * the module refuses: the archiver would keep another one.
 */
int pitr_check_module_opts(struct pitr_check_module *m, char *err, size_t err_size);
void pitr_check_module_free(struct pitr_check_module *m);

#endif
