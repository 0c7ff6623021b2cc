/*
 * guc.c - pitr-archive's options as the archive module's GUCs.
 *
 * Each GUC has pitr-archive's long option's name with '_' for '-' and its
 * meaning; the repeatable ones (--dst-local, --dst-remote, --dst-pipe) are
 * one string each, a list separated by commas or blanks, in which '...'
 * or "..." keeps a comma or a blank inside one item.  What has no meaning
 * inside the server is left out: --data-dir and --force-data-dir (the
 * server's own data directory is used), --pid-file (the archiver is one
 * process already).  Every GUC is PGC_SIGHUP: a reload changes them for
 * the next file, and the archiver reloads between files.
 * pitr-archive's --s3-* options are pitrkit_archive.s3_*; the store's
 * credentials are never a setting (SHOW and pg_settings would show them):
 * they come from the server's environment or the shared credentials file
 * of the user it runs as, as for pitr-archive.
 */
#include "postgres.h"

#include "utils/guc.h"

#include "guc.h"
#include "common/itemlist.h"
#include "dest/dest.h"
#include "s3/s3.h"
/* pitr-archive's --look-ahead and --jobs, where the library has them. */
#if defined(__has_include)
#if __has_include("command/archive/ahead.h")
#include "command/archive/ahead.h"
#define PKA_LOOK_AHEAD 1
#endif
#endif

static char *dst_local;
static char *dst_remote;
static char *dst_pipe;
static char *dst_backup;
static char *state_dir;
static char *temp_dir;
static char *rsync_path;
static char *log_template;
static int rsync_timeout = PITR_DEST_RSYNC_TIMEOUT_DEFAULT;
static int pipe_timeout = PITR_DEST_PIPE_TIMEOUT_DEFAULT;
static int parallel_jobs = 1;
static bool not_nice;
static bool verbose;
static char *s3_endpoint;
static char *s3_region;
static int s3_uri_style;        /* S3_STYLE_* */
static char *s3_ca_file;
static bool s3_no_verify_tls;
static int s3_timeout = PITR_S3_STALL_TIMEOUT_DEFAULT;
static int s3_retries = PITR_S3_RETRIES_DEFAULT;

enum { S3_STYLE_HOST, S3_STYLE_PATH };
static const struct config_enum_entry s3_uri_styles[] = {
	{ "host", S3_STYLE_HOST, false },
	{ "path", S3_STYLE_PATH, false },
	{ NULL, 0, false },
};
#ifdef PKA_LOOK_AHEAD
static int look_ahead = PITR_ARCHIVE_LOOK_AHEAD_DEFAULT;
static int jobs;
#endif

static bool gucs_defined;       /* pka_define_gucs() is done: a reload checks */

/*
 * Split `value` into its items, palloc'd (common/itemlist.h, which
 * pitr-check reads the settings with too); *n is their number.  Returns
 * NULL (with *n 0) for an empty list.  An unterminated quote (which the
 * check hook refuses) runs to the end.
 */
static const char **
split_list(const char *value, size_t *n)
{
	const char **items;

	*n = 0;
	if (value == NULL || *value == '\0')
		return NULL;
	items = palloc(pitr_itemlist_max_items(value) * sizeof(*items));
	*n = pitr_itemlist_split(value, palloc(strlen(value) + 1), items);
	return *n > 0 ? items : NULL;
}

/* A list with an unterminated quote is refused when it is set, so that a
 * reload keeps the destinations that work. */
static bool
check_list(char **newval, void **extra, GucSource source)
{
	/* Read without allocating: a check hook runs at every reload. */
	char quote = pitr_itemlist_open_quote(*newval);

	if (quote == '\0')
		return true;
	GUC_check_errdetail("The list has an unterminated %c quote.", quote);
	/* A child's reload logs the refusal at DEBUG2 only (the postmaster,
	 * which has no such check, would say it): the operator must see that
	 * the old destinations are kept.  At the module's load, PostgreSQL
	 * says it itself. */
	if (gucs_defined)
		ereport(WARNING, (errmsg("pitrkit_archive: list \"%s\" has an unterminated %c quote; "
					 "the setting keeps its value", *newval, quote)));
	return false;
}

static void
define_list(const char *name, const char *desc, char **var)
{
	DefineCustomStringVariable(name, desc, NULL, var, NULL, PGC_SIGHUP, 0,
				   check_list, NULL, NULL);
}

static void
define_string(const char *name, const char *desc, char **var)
{
	DefineCustomStringVariable(name, desc, NULL, var, NULL, PGC_SIGHUP, 0, NULL, NULL, NULL);
}

static void
define_seconds(const char *name, const char *desc, int *var, int dflt)
{
	DefineCustomIntVariable(name, desc, NULL, var, dflt, 1, 86400, PGC_SIGHUP, GUC_UNIT_S,
				NULL, NULL, NULL);
}

/* pitr-archive's PITR_OPTS_S3 (common/opts.h), same defaults and ranges. */
static void
define_s3_gucs(void)
{
	define_string("pitrkit_archive.s3_endpoint", "Object store of s3:// destinations, "
		      "http[s]://HOST[:PORT]; empty: AWS's for the region "
		      "(pitr-archive --s3-endpoint).", &s3_endpoint);
	define_string("pitrkit_archive.s3_region", "Region the requests are signed for; "
		      "empty: " PITR_S3_REGION_DEFAULT " (pitr-archive --s3-region).", &s3_region);
	DefineCustomEnumVariable("pitrkit_archive.s3_uri_style", "Bucket in the host name (host) "
				 "or in the path (path) (pitr-archive --s3-uri-style).", NULL,
				 &s3_uri_style, S3_STYLE_HOST, s3_uri_styles, PGC_SIGHUP, 0, NULL,
				 NULL, NULL);
	define_string("pitrkit_archive.s3_ca_file", "CA certificates the store's certificate "
		      "is checked against; empty: the system's (pitr-archive --s3-ca-file).",
		      &s3_ca_file);
	DefineCustomBoolVariable("pitrkit_archive.s3_no_verify_tls", "Do not check the store's "
				 "TLS certificate (pitr-archive --s3-no-verify-tls).", NULL,
				 &s3_no_verify_tls, false, PGC_SIGHUP, 0, NULL, NULL, NULL);
	define_seconds("pitrkit_archive.s3_timeout", "Give up a request that moved no byte for "
		       "this long, and retry it (pitr-archive --s3-timeout).", &s3_timeout,
		       PITR_S3_STALL_TIMEOUT_DEFAULT);
	DefineCustomIntVariable("pitrkit_archive.s3_retries", "Retries of a failed request, with "
				"backoff, when the store says it may (pitr-archive --s3-retries).",
				NULL, &s3_retries, PITR_S3_RETRIES_DEFAULT, 0, 100, PGC_SIGHUP, 0,
				NULL, NULL, NULL);
}

void
pka_define_gucs(void)
{
	define_list("pitrkit_archive.dst_local", "Local archive directories, [CODEC=]DIR, "
		    "separated by commas or blanks (pitr-archive --dst-local).", &dst_local);
	define_list("pitrkit_archive.dst_remote", "rsync and s3:// destinations, "
		    "[CODEC=]LOCATION (pitr-archive --dst-remote).", &dst_remote);
	define_list("pitrkit_archive.dst_pipe", "Programs fed each file on stdin, "
		    "[CODEC=]PROGRAM (pitr-archive --dst-pipe).", &dst_pipe);
	define_string("pitrkit_archive.dst_backup", "Absolute directory that gets a plain "
		      "copy while it exists (pitr-archive --dst-backup).", &dst_backup);
	define_string("pitrkit_archive.state_dir", "Directory remembering partial deliveries; "
		      "needed with several destinations (pitr-archive --state-dir).", &state_dir);
	define_string("pitrkit_archive.temp_dir", "Staging for remote and pipe copies "
		      "(pitr-archive --temp-dir).", &temp_dir);
	define_string("pitrkit_archive.rsync_path", "The rsync program "
		      "(pitr-archive --rsync-path).", &rsync_path);
	define_string("pitrkit_archive.log", "pitr-archive's log file template; empty: every "
		      "line to the server's log (pitr-archive --log).", &log_template);
	define_seconds("pitrkit_archive.rsync_timeout", "How long a hung rsync peer is "
		       "waited for (pitr-archive --rsync-timeout).", &rsync_timeout,
		       PITR_DEST_RSYNC_TIMEOUT_DEFAULT);
	define_seconds("pitrkit_archive.pipe_timeout", "How long a --dst-pipe program that "
		       "reads nothing is waited for (pitr-archive --pipe-timeout).", &pipe_timeout,
		       PITR_DEST_PIPE_TIMEOUT_DEFAULT);
	DefineCustomIntVariable("pitrkit_archive.parallel_jobs", "Remote and pipe deliveries "
				"run at once (pitr-archive --parallel-jobs).", NULL, &parallel_jobs,
				1, 1, 64, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pitrkit_archive.not_nice", "Compress at the archiver's own "
				 "priority (pitr-archive --not-nice).", NULL, &not_nice, false,
				 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("pitrkit_archive.verbose", "Log every delivery and timings "
				 "(pitr-archive --verbose).", NULL, &verbose, false, PGC_SIGHUP, 0,
				 NULL, NULL, NULL);
#ifdef PKA_LOOK_AHEAD
	DefineCustomIntVariable("pitrkit_archive.look_ahead", "With a state dir, also archive "
				"up to N next .ready segments; 0: none (pitr-archive --look-ahead).",
				NULL, &look_ahead, PITR_ARCHIVE_LOOK_AHEAD_DEFAULT, 0, 256, PGC_SIGHUP,
				0, NULL, NULL, NULL);
	DefineCustomIntVariable("pitrkit_archive.jobs", "Look-ahead worker processes besides "
				"the archiver; 0: one a CPU within the memory bound "
				"(pitr-archive --jobs).",
				NULL, &jobs, 0, 0, PITR_ARCHIVE_JOBS_MAX, PGC_SIGHUP, 0, NULL, NULL,
				NULL);
#endif
	define_s3_gucs();
	MarkGUCPrefixReserved("pitrkit_archive");
	gucs_defined = true;
}

bool
pka_configured(void)
{
	return pitr_itemlist_is_set(dst_local) || pitr_itemlist_is_set(dst_remote) ||
	       pitr_itemlist_is_set(dst_pipe) || pitr_itemlist_is_set(dst_backup);
}

/* An empty string is an unset option. */
static const char *
opt_string(const char *value)
{
	return value != NULL && *value != '\0' ? value : NULL;
}

void
pka_read_opts(struct pitr_archive_opts *opts)
{
	opts->dst_local = split_list(dst_local, &opts->ndst_local);
	opts->dst_remote = split_list(dst_remote, &opts->ndst_remote);
	opts->dst_pipe = split_list(dst_pipe, &opts->ndst_pipe);
	opts->dst_backup = opt_string(dst_backup);
	opts->state_dir = opt_string(state_dir);
	opts->temp_dir = opt_string(temp_dir);
	opts->rsync_path = opt_string(rsync_path);
	opts->rsync_timeout = rsync_timeout;
	opts->pipe_timeout = pipe_timeout;
	opts->parallel_jobs = parallel_jobs;
	opts->not_nice = not_nice;
	opts->s3 = (struct pitr_s3_config){
		.endpoint = opt_string(s3_endpoint),
		.region = opt_string(s3_region),
		.path_style = s3_uri_style == S3_STYLE_PATH,
		.ca_file = opt_string(s3_ca_file),
		.no_verify_tls = s3_no_verify_tls,
		.stall_timeout = s3_timeout,
		.retries = s3_retries,
	};
#ifdef PKA_LOOK_AHEAD
	opts->look_ahead = look_ahead;
	opts->jobs = jobs;
#endif
}

void
pka_read_log(struct pka_log_settings *log)
{
	log->template_ = opt_string(log_template);
	log->verbose = verbose;
}
