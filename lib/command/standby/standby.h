/*
 * standby.h - the standby modes and settings pitr-recover and pitr-synch
 * share: the same options (PITR_STANDBY_OPTS, pitr_standby_opts_get())
 * turned into the same configuration text for the copy's data directory
 * (pitr_standby_auto_conf(), pitr_standby_signal()).
 *
 * The module returns text and never writes files: pitr-synch puts it into
 * a data directory that may be on another host.
 *
 * Modes:
 *   NONE       plain recovery (recovery.signal), to a target or the
 *              archive's end;
 *   STREAMING  --standby: standby.signal, restore_command with -sr (a
 *              segment the archive lacks fails at once, so the server
 *              falls back to streaming from primary_conninfo);
 *   WARM       --warm-standby, the OmniPITR guide's slave (A.1.6):
 *              recovery.signal, restore_command without -sr (pitr-restore
 *              waits for the next segment; its -f finish trigger ends
 *              recovery), recovery_prefetch = off.
 */
#ifndef PITR_CMD_STANDBY_H
#define PITR_CMD_STANDBY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/opts.h"

struct pitr_s3_config;   /* s3/s3.h */

enum pitr_standby_mode { PITR_STANDBY_NONE, PITR_STANDBY_STREAMING, PITR_STANDBY_WARM };

/* One setting read from --recovery-conf, in its PostgreSQL 12+ form. */
struct pitr_standby_setting {
	char *key;
	char *value;
};

struct pitr_standby_opts {
	enum pitr_standby_mode mode;
	const char *primary_conninfo;   /* --primary-conninfo (STREAMING only) */
	const char *primary_slot_name;  /* --primary-slot-name (with a conninfo) */
	const char *restore_options;    /* --restore-options "OPTS": pitr-restore words */
	const char *hot_standby;        /* on|off; NULL: not written */
	const char **sets;              /* --set NAME=VALUE, in order */
	size_t nsets;
	int port;                       /* 0: not written */
	const char *archive_mode;       /* off|preserve; NULL: off, preserve in a standby mode */
	const char *recovery_conf;      /* --recovery-conf FILE (read by opts_get) */
	const char **archives;          /* the program's -a/--archive (a LIST row named
					 * "archive"): what a recovery.conf's
					 * restore_command must read */
	size_t narchives;
	/* From --recovery-conf (owned; pitr_standby_opts_free()): */
	struct pitr_standby_setting *conf;  /* what the file sets, translated */
	size_t nconf;
	char *conf_restore_command;     /* the file's restore_command, program swapped */
	char **owned;                   /* strings the fields above point to */
	size_t nowned;
};

/* The option rows, for a program's struct pitr_opt_def table. */
#define PITR_STANDBY_ARCHIVE_MODES "off|preserve"
#define PITR_STANDBY_OPTS                                                            \
	{ "archive-mode", NULL, PITR_OPT_STRING, NULL, .choices = PITR_STANDBY_ARCHIVE_MODES, \
	  .dflt_doc = "off; preserve with --standby or --warm-standby",              \
	  .help = "whether the copy archives as its source did" },                   \
	{ "hot-standby", NULL, PITR_OPT_STRING, NULL, .choices = "on|off",            \
	  .dflt_doc = "the server's",                                \
	  .help = "hot_standby: read-only queries while in recovery" },              \
	{ "primary-conninfo", NULL, PITR_OPT_STRING, "CONNINFO",                      \
	  .help = "the primary a --standby streams from (primary_conninfo)" },       \
	{ "primary-slot-name", NULL, PITR_OPT_STRING, "NAME",                         \
	  .help = "the primary's replication slot (primary_slot_name)" },            \
	{ "recovery-conf", NULL, PITR_OPT_STRING, "FILE",                             \
	  .help = "an OmniPITR-era recovery.conf, written as PostgreSQL 12+ settings" }, \
	{ "restore-options", NULL, PITR_OPT_STRING, "OPTS",                           \
	  .help = "pitr-restore options for restore_command (-f FILE -w N -r ...)" }, \
	{ "set", NULL, PITR_OPT_LIST, "NAME=VALUE",                                   \
	  .help = "write this setting last, so it wins (repeatable)" },              \
	{ "standby", NULL, PITR_OPT_FLAG, NULL,                                       \
	  .help = "a streaming standby (standby.signal, restore_command -sr)" },     \
	{ "warm-standby", NULL, PITR_OPT_FLAG, NULL,                                  \
	  .help = "a warm standby of the archive (recovery.signal, no -sr)" }

/* --port, the copy's port, apart: pitr-synch's -p/--port is OmniPITR's,
 * the source's port (there --set port=N gives the copy's). */
#define PITR_STANDBY_OPT_PORT                                                        \
	{ "port", NULL, PITR_OPT_INT, "N", .min = 1, .max = 65535,                    \
	  .help = "the copy's server port" }

/* What differs between the callers of pitr_standby_auto_conf(). */
struct pitr_standby_ctx {
	const char *program;          /* "pitr-recover": comment lines start with it */
	const char *header;           /* the first comment line (without "# "), or NULL */
	const char *restore_program;  /* restore_command's program (absolute) */
	const char *const *archives;  /* restore_command's -s archives, in order */
	size_t narchives;
	const char *recovery_ended;   /* recovery_end_command's program (pitr-recover), or
				       * NULL: none (and no block removal at the end) */
	const char *cleanup_program;  /* what a recovery.conf's omnipitr-cleanup becomes;
				       * NULL: kept as it was */
	unsigned pg_major;            /* the copy's PostgreSQL major version */
	const char *extra;            /* lines for the recovery block after
				       * restore_command (targets), each ending in
				       * '\n', or NULL */
	bool targets_by_caller;       /* recovery.conf's target settings are the
				       * caller's (it put them in `extra`) */
	int prefetch;                 /* restore_command's -pf N unless
				       * --restore-options gives one; 0: none */
	const struct pitr_s3_config *s3;  /* how an s3:// archive is reached: its
				       * settings written as restore_command's
				       * --s3-* options (s3/s3.h's
				       * pitr_s3_config_words(), never a
				       * credential) when an archive is s3://;
				       * NULL: none written */
};

/* Read the PITR_STANDBY_OPTS values from `o` into `out` (zeroed first),
 * and --port when the table has PITR_STANDBY_OPT_PORT (an INT row named
 * "port"), reading and translating --recovery-conf (one info line per
 * setting), and check them.  Returns 0, or -1 after logging one line (out still
 * needs pitr_standby_opts_free()). */
int pitr_standby_opts_get(struct pitr_opts *o, struct pitr_standby_opts *out);

/* The same checks on an `out` filled by hand (recovery_conf read here
 * too).  Returns 0, or -1 after logging one line. */
int pitr_standby_opts_check(struct pitr_standby_opts *out);

/* Release what opts_get/opts_check allocated; accepts a zeroed struct. */
void pitr_standby_opts_free(struct pitr_standby_opts *o);

/* The setting a postgresql.conf line sets: its first character, with
 * *len its length; NULL for a comment or a blank line. */
const char *pitr_standby_line_key(const char *line, size_t *len);

/* The value --recovery-conf gave `key` (its PostgreSQL 12+ name), the
 * last one, or NULL. */
const char *pitr_standby_conf_value(const struct pitr_standby_opts *o, const char *key);

/* Whether the copy archives: --archive-mode preserve, or a standby mode
 * without --archive-mode. */
bool pitr_standby_archives(const struct pitr_standby_opts *o);

/* "standby.signal" (STREAMING) or "recovery.signal". */
const char *pitr_standby_signal(const struct pitr_standby_opts *o);

/*
 * restore_command for `o`: PROGRAM [-sr] [--restore-options words]
 * [-pf ctx->prefetch] [--s3-... options] -s A [-s B ...] %f "%p", each
 * word quoted for the shell with % doubled (a word "%r" stays %r); or
 * --recovery-conf's restore_command.  The server's restore_command finds
 * an object store's credentials as every pitrkit program does, in its
 * environment or the shared credentials file of the user it runs as.
 * malloc'd, NULL after logging.
 */
char *pitr_standby_restore_command(const struct pitr_standby_opts *o,
				   const struct pitr_standby_ctx *ctx);

/* The "-s A -s B" part of restore_command, each archive quoted as a
 * command word.  malloc'd, NULL after logging. */
char *pitr_standby_sources(const char *const *archives, size_t narchives);

/*
 * The lines added to postgresql.auto.conf: ctx->header; the source's
 * replication, trigger and recovery settings voided; archive_mode = 'off'
 * unless the copy archives; port; hot_standby, recovery_prefetch = 'off'
 * (WARM, PostgreSQL 15+); between PITR_RECOVER_BLOCK_BEGIN and _END the
 * settings that serve recovery only (restore_command, primary_conninfo,
 * primary_slot_name, recovery.conf's, ctx->extra, recovery_end_command);
 * then every --set, last so it wins.  malloc'd, NULL after logging.
 */
char *pitr_standby_added_text(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx);

/*
 * The lines a copy that is not made a standby gets (pitr-synch without a
 * mode, --archive or --recovery-conf: a clone that keeps its source's
 * settings, as pg_basebackup without -R makes): archive_mode = 'off'
 * unless the copy archives, port, hot_standby, and every --set.  malloc'd,
 * NULL after logging.
 */
char *pitr_standby_plain_text(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx);

/*
 * The complete new postgresql.auto.conf: `old_auto_conf_text` (NULL: none)
 * with every line that sets what the added text controls commented out
 * ("# PROGRAM: " prefixed), then pitr_standby_added_text().  malloc'd,
 * NULL after logging.
 */
char *pitr_standby_auto_conf(const char *old_auto_conf_text, const struct pitr_standby_opts *o,
			     const struct pitr_standby_ctx *ctx);

#endif
