/*
 * check.c - pitr-check: prove archiving end to end (see check.h).
 *
 * The server's archive_command is read (SHOW, or --archive-command), its
 * pitr-archive call found and parsed with pitr-archive's own option
 * table, so the destinations are exactly those pitr-archive delivers to;
 * with archive_library = 'pitrkit_archive', the module's settings are
 * read instead and made into the same options (module.c).
 * A little WAL is written and pg_switch_wal() finishes the segment; every
 * destination is then polled, with a growing interval, until it holds the
 * segment or --timeout runs out.  Each copy is read back whole (fetched
 * with rsync for a remote one, with a GET from an object store),
 * decompressed, its page header checked and its system identifier
 * compared with the server's.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "command/archive/archive.h"
#include "command/check/check.h"
#include "command/check/check_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "repo/archdir.h"
#include "s3/s3.h"

/* The first poll comes this soon after the switch; each later one waits
 * twice as long, up to the cap. */
#define CHECK_POLL_FIRST_MS 50
#define CHECK_POLL_MAX_MS 2000

enum target_state { TARGET_WAITING, TARGET_OK, TARGET_FAILED, TARGET_UNCHECKED };

struct target {
	const struct pitr_dest_spec *spec;
	enum target_state state;
	char why[512];             /* why the last probe could not ask the destination */
};

/* Everything one run holds, released by run_free(). */
struct check_run {
	const struct pitr_check_opts *opts;
	struct pitr_pgconn *conn;
	char *command;             /* archive_command */
	char *data_dir;            /* -D or the server's data_directory; NULL: unknown */
	struct pitr_check_call call;
	struct pitr_opts aopts;    /* the call's options */
	struct pitr_archive_opts a;
	bool module;               /* archive_library is pitrkit_archive */
	struct pitr_check_module settings;  /* its settings, when it is */
	struct pitr_dest_spec *specs;
	size_t nspecs;
	struct target *targets;
	struct pitr_tmp fetch_dir;
	struct check_fetch fetch;
	struct pitr_s3_config s3;  /* the store of s3 destinations */
	uint64_t sysid;
	long long failed_before;   /* pg_stat_archiver.failed_count before the switch */
	char wal[PITR_WAL_NAME_MAX];
	struct pitr_wal_name name;
	double switched;           /* pitr_clock_ms() at the switch */
	int rsync_timeout;         /* the call's --rsync-timeout, or its default */
};

static void
run_free(struct check_run *run)
{
	if (run->fetch_dir.path != NULL) {
		(void)pitr_fsutil_remove_tree(run->fetch_dir.path);
		pitr_tmp_release(&run->fetch_dir);
	}
	pitr_dest_s3_session_free(run->fetch.s3_env.s3_session);
	free(run->targets);
	pitr_dest_specs_free(run->specs, run->nspecs);
	pitr_opts_free(&run->aopts);
	pitr_check_module_free(&run->settings);
	pitr_check_call_free(&run->call);
	free(run->command);
	free(run->data_dir);
	pitr_pgconn_close(run->conn);
}

/* A result line: plain on stdout, or a LOG line with --log. */
static void __attribute__((format(printf, 2, 3)))
report(const struct check_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (run->opts->to_log) {
		pitr_log_v(PITR_LOG_LOG, fmt, ap);
	} else {
		vfprintf(run->opts->out, fmt, ap);
		fputc('\n', run->opts->out);
		fflush(run->opts->out);
	}
	va_end(ap);
}

/* A setting the server may not have (archive_library before 15): NULL. */
static char *
show_quietly(struct pitr_pgconn *conn, const char *setting)
{
	char hold[512];
	char *value = NULL;

	pitr_log_hold(hold, sizeof(hold));
	if (pitr_pgconn_show(conn, setting, &value) != 0)
		value = NULL;
	pitr_log_hold(NULL, 0);
	return value;
}

/* archive_library: none (archive_command runs), the archive module
 * (run->module), or another one, which pitr-check cannot read. */
static int
read_library(struct check_run *run)
{
	char *library = show_quietly(run->conn, "archive_library");
	int rc = -1;

	if (library == NULL || *library == '\0')
		rc = 0;
	else if (!pitr_check_is_module(library))
		pitr_log_error("archive_library is \"%s\": the server does not run archive_command",
			       library);
	else if (run->opts->archive_command != NULL)
		pitr_log_error("archive_library is \"%s\": the server archives with the module's "
			       "settings, not with the --archive-command given", library);
	else
		run->module = true;
	if (run->module)
		rc = 0;
	free(library);
	return rc;
}

/* The archive_command to check: --archive-command, or the server's. */
static int
read_command(struct check_run *run)
{
	if (run->opts->archive_command != NULL)
		run->command = pitr_xstrdup(run->opts->archive_command);
	else if (pitr_pgconn_show(run->conn, "archive_command", &run->command) != 0)
		return -1;
	if (run->command == NULL)
		return -1;
	if (run->command[strspn(run->command, " \t\n")] == '\0') {
		pitr_log_error("archive_command is empty: the server archives nothing");
		return -1;
	}
	return 0;
}

/* archive_mode on, and the command to check unless the module archives
 * (its settings are read by read_module()). */
static int
read_settings(struct check_run *run)
{
	char *mode = NULL;
	int rc = -1;

	if (pitr_pgconn_show(run->conn, "archive_mode", &mode) != 0)
		goto out;
	if (strcmp(mode, "off") == 0) {
		pitr_log_error("archive_mode is off: the server archives nothing (set archive_mode "
			       "= on and restart it)");
		goto out;
	}
	if (read_library(run) != 0 || (!run->module && read_command(run) != 0))
		goto out;
	if (run->opts->data_dir != NULL)
		run->data_dir = pitr_xstrdup(run->opts->data_dir);
	else
		run->data_dir = show_quietly(run->conn, "data_directory");
	rc = 0;
out:
	free(mode);
	return rc;
}

int
pitr_check_vet_config(const char *path, const struct stat *st, uid_t me, uid_t dd_owner)
{
	const char *why = NULL;

	if (!S_ISREG(st->st_mode))
		why = "it is not a regular file";
	else if (st->st_uid != me && st->st_uid != 0 &&
		 (dd_owner == (uid_t)-1 || st->st_uid != dd_owner))
		why = "its owner is neither you, nor the data directory's owner, nor root";
	else if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		why = "its group or others may write it";
	if (why == NULL)
		return 0;
	pitr_log_error("config file \"%s\" named by archive_command is not read: %s (pitr-check "
		       "reads one only if it is a regular file owned by you, by the data "
		       "directory's owner or by root, and writable by its owner alone)", path, why);
	return -1;
}

/* The guard's vet(): `arg` is the data directory's owner. */
static int
vet_config(const char *path, const struct stat *st, void *arg)
{
	return pitr_check_vet_config(path, st, geteuid(), *(const uid_t *)arg);
}

/* The call's options, its config files under pitr_check_vet_config()'s
 * guard: archive_command is the database superuser's to write, and
 * whoever runs pitr-check may be root. */
static int
parse_guarded(struct check_run *run, char *why, size_t why_size)
{
	struct stat dd;
	uid_t dd_owner = run->data_dir != NULL && stat(run->data_dir, &dd) == 0 ? dd.st_uid :
			 (uid_t)-1;
	const struct pitr_opts_guard guard = { .vet = vet_config, .arg = &dd_owner };
	int rc;

	pitr_log_hold(why, why_size);
	rc = pitr_opts_parse_guarded(&run->aopts, pitr_archive_option_defs,
				     pitr_archive_noption_defs, (int)run->call.argc,
				     run->call.argv, &guard);
	pitr_log_hold(NULL, 0);
	return rc;
}

/* The module's settings, as this session shows them: one set in the
 * server's config files shows even where the module is not loaded (a
 * placeholder), one not set does not exist there: missing_ok makes it
 * "", the module's default. */
static int
read_module(struct check_run *run)
{
	char why[1024] = "";

	for (size_t guc = 0; guc < PITR_CHECK_GUC_COUNT; guc++) {
		char *sql = pitr_xasprintf("SELECT coalesce(current_setting('%s', true), '')",
					   pitr_check_module_gucs[guc]);
		int rc = sql != NULL ? pitr_pgconn_query_value(run->conn, sql,
							       &run->settings.values[guc]) : -1;

		free(sql);
		if (rc != 0)
			return -1;
	}
	if (pitr_check_module_opts(&run->settings, why, sizeof(why)) != 0) {
		pitr_log_error("cannot check the archive module's settings: %s", why);
		return -1;
	}
	run->a = run->settings.a;
	if (run->a.rsync_path != NULL)
		pitr_log_verbose("pitrkit_archive.rsync_path \"%s\" is ignored: pitr-check runs no "
				 "program the server's settings name (its own --rsync-path sets the "
				 "rsync)", run->a.rsync_path);
	return 0;
}

/* Parse the call with pitr-archive's table in the data directory, where
 * the archiver runs it, so that a relative --config-file is found. */
static int
parse_call(struct check_run *run)
{
	char why[1024] = "";
	int here = -1, rc;

	if (run->module)
		return read_module(run);
	if (pitr_check_find_call(run->command, &run->call, why, sizeof(why)) != 0) {
		pitr_log_error("cannot check archive_command \"%s\": %s; name the pitr-archive call "
			       "with --archive-command", run->command, why);
		return -1;
	}
	if (run->data_dir != NULL && (here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
	    chdir(run->data_dir) != 0)
		pitr_log_verbose("could not enter \"%s\": %s", run->data_dir, strerror(errno));
	rc = parse_guarded(run, why, sizeof(why));
	if (here >= 0) {
		if (fchdir(here) != 0)
			pitr_log_error("could not go back to the working directory: %s", strerror(errno));
		close(here);
	}
	if (rc != 0) {
		pitr_log_error("cannot read archive_command's pitr-archive call: %s", why);
		return -1;
	}
	pitr_archive_opts_read(&run->aopts, &run->a);
	if (run->a.rsync_path != NULL)
		pitr_log_verbose("archive_command's --rsync-path \"%s\" is ignored: pitr-check runs "
				 "no program archive_command names (its own --rsync-path sets the "
				 "rsync)", run->a.rsync_path);
	return 0;
}

/* A local destination given relative is relative to the data directory,
 * the archiver's working directory. */
static int
resolve_local(struct check_run *run, struct pitr_dest_spec *spec)
{
	char *abs;

	if (pitr_dest_spec_dir(spec) == NULL || spec->location[0] == '/')
		return 0;
	if (run->data_dir == NULL) {
		pitr_log_error("destination \"%s\" is relative to the data directory: give it with "
			       "--data-dir", spec->location);
		return -1;
	}
	if ((abs = pitr_fsutil_join(run->data_dir, spec->location)) == NULL)
		return -1;
	free(spec->location);
	spec->location = abs;
	return 0;
}

/* pitr-archive never creates a --dst-local directory (a missing mount
 * must fail): one that is not there fails every segment, which polling
 * would only find out after --timeout.  One stat() cannot answer (no
 * access) is left to the polling. */
static int
local_dir_exists(const struct pitr_dest_spec *spec)
{
	const char *dir = pitr_dest_spec_dir(spec);
	struct stat st;

	if (dir == NULL || spec->backup_copy)
		return 0;
	if (stat(dir, &st) == 0 ? S_ISDIR(st.st_mode) : errno != ENOENT && errno != ENOTDIR)
		return 0;
	pitr_log_error("local destination \"%s\" is not a directory: the server can archive "
		       "nothing there (pitr-archive never creates one)", spec->location);
	return -1;
}

static int
collect_targets(struct check_run *run)
{
	const struct pitr_archive_opts *a = &run->a;
	const struct pitr_dest_args args = {
		.local = a->dst_local, .nlocal = a->ndst_local,
		.remote = a->dst_remote, .nremote = a->ndst_remote,
		.pipe = a->dst_pipe, .npipe = a->ndst_pipe,
		.backup = a->dst_backup,
	};

	if (pitr_dest_args_parse(&args, &run->specs, &run->nspecs) != 0)
		return -1;
	if (run->nspecs == 0) {
		pitr_log_error(run->module ? "no pitrkit_archive.dst_* setting names a destination: "
			       "the archive module archives nothing" :
			       "archive_command's pitr-archive call names no destination");
		return -1;
	}
	if ((run->targets = pitr_xcalloc(run->nspecs, sizeof(*run->targets))) == NULL)
		return -1;
	for (size_t spec_idx = 0; spec_idx < run->nspecs; spec_idx++) {
		if (resolve_local(run, &run->specs[spec_idx]) != 0 ||
		    local_dir_exists(&run->specs[spec_idx]) != 0 ||
		    (run->specs[spec_idx].kind == PITR_DEST_S3 &&
		     check_s3_open(&run->specs[spec_idx], &run->fetch) != 0))
			return -1;
		run->targets[spec_idx].spec = &run->specs[spec_idx];
	}
	return 0;
}

static const char *
kind_label(const struct pitr_dest_spec *spec)
{
	switch (spec->kind) {
	case PITR_DEST_LOCAL:
		return spec->backup_copy ? "backup" : "local";
	case PITR_DEST_RSYNC:
		return "remote";
	case PITR_DEST_PIPE:
		return "pipe";
	case PITR_DEST_S3:
		return "s3";
	default:
		return "direct";
	}
}

static int
read_identity(struct check_run *run)
{
	char *v = NULL, *end;
	int rc = -1;

	if (pitr_pgconn_query_value(run->conn, "SELECT system_identifier FROM pg_control_system()",
				    &v) != 0)
		return -1;
	errno = 0;
	run->sysid = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || end == v)
		pitr_log_error("the server's system identifier \"%s\" is not a number", v);
	else
		rc = 0;
	free(v);
	return rc;
}

/* pg_stat_archiver's failed_count and last_failed_wal, as "N WAL". */
static char *
archiver_failures(struct check_run *run)
{
	char *v = NULL;

	if (pitr_pgconn_query_value(run->conn, "SELECT failed_count || ' ' || "
				    "coalesce(last_failed_wal, '') FROM pg_stat_archiver", &v) != 0)
		return NULL;
	return v;
}

/* Write a commit record (an xid, so it reaches WAL), then switch: the
 * segment is certain to be new, and the name pg_walfile_name() gives for
 * pg_switch_wal()'s LSN is the one just finished. */
static int
switch_wal(struct check_run *run)
{
	char *v = NULL, *failures = archiver_failures(run);
	int rc = -1;

	if (failures == NULL)
		return -1;
	run->failed_before = strtoll(failures, NULL, 10);
	free(failures);
	if (pitr_pgconn_query_value(run->conn, "SELECT txid_current()::text", &v) != 0)
		return -1;
	free(v);
	v = NULL;
	if (pitr_pgconn_query_value(run->conn, "SELECT pg_walfile_name(l) || ' ' || l::text "
				    "FROM pg_switch_wal() AS l", &v) != 0)
		return -1;
	run->switched = pitr_clock_ms();
	if (sscanf(v, "%63s", run->wal) != 1 || pitr_wal_parse(run->wal, &run->name) !=
	    PITR_WAL_SEGMENT)
		pitr_log_error("pg_switch_wal() gave \"%s\": not a segment name and LSN", v);
	else
		rc = 0;
	if (rc == 0)
		pitr_log_verbose("switched WAL at %s: waiting for \"%s\"", strchr(v, ' ') + 1, run->wal);
	free(v);
	return rc;
}

/* pitr_archdir_check_copy() of `path`, a copy fetched from a remote
 * target `t` into a directory of its own, under its name: a failure names
 * the copy where it lies (the destination's location and the file's name),
 * not the fetched file, which is gone when pitr-check ends. */
static int
check_copy_as_remote(const struct target *t, const char *path, enum pitr_codec codec,
		     const struct pitr_wal_name *name, struct pitr_walhdr *hdr, bool *has_hdr)
{
	char why[1024] = "", *shown, *at;
	int rc;

	if (pitr_dest_spec_dir(t->spec) != NULL)
		return pitr_archdir_check_copy(path, codec, name, hdr, has_hdr);
	pitr_log_hold(why, sizeof(why));
	rc = pitr_archdir_check_copy(path, codec, name, hdr, has_hdr);
	pitr_log_hold(NULL, 0);
	if (rc == 0)
		return 0;
	shown = pitr_xasprintf("%s%s", t->spec->location, strrchr(path, '/') + 1);
	if (shown != NULL && (at = strstr(why, path)) != NULL)
		pitr_log_error("%.*s%s%s", (int)(at - why), why, shown, at + strlen(path));
	else
		pitr_log_error("%s", why);
	free(shown);
	return -1;
}

/* Read back the copy at `path` found for target `t`: whole, header
 * checked, the server's system identifier.  0 or -1 (logged). */
static int
verify_copy(struct check_run *run, struct target *t, const char *path, enum pitr_codec codec)
{
	struct pitr_walhdr hdr;
	bool has_hdr;

	if (check_copy_as_remote(t, path, codec, &run->name, &hdr, &has_hdr) != 0)
		return -1;
	if (hdr.sysid != run->sysid) {
		pitr_log_error("the copy of \"%s\" at %s destination \"%s\" belongs to system "
			       "%llu, not to this server's %llu", run->wal,
			       kind_label(t->spec), t->spec->location,
			       (unsigned long long)hdr.sysid, (unsigned long long)run->sysid);
		return -1;
	}
	return 0;
}

/* One poll of target number `idx`. */
static void
poll_target(struct check_run *run, size_t idx)
{
	struct target *t = &run->targets[idx];
	enum pitr_codec codec;
	char *path = NULL;
	int found = check_probe(t->spec, idx, run->wal, &run->fetch, &path, &codec, t->why,
				sizeof(t->why));

	if (found == 0)
		return;
	if (found < 0 || verify_copy(run, t, path, codec) != 0) {
		t->state = TARGET_FAILED;
	} else {
		t->state = TARGET_OK;
		report(run, "%s destination \"%s\": \"%s%s\" arrived in %.2f s, read back whole, "
		       "page header and system identifier %llu checked", kind_label(t->spec),
		       t->spec->location, run->wal, pitr_codec_ext(codec),
		       (pitr_clock_ms() - run->switched) / 1000.0, (unsigned long long)run->sysid);
	}
	free(path);
}

/* The targets that cannot be read back are said once, up front: a pipe
 * program's output, a --dst-backup copy (there only while a backup runs,
 * not an archive). */
static size_t
mark_unchecked(struct check_run *run)
{
	size_t waiting = 0;

	for (size_t idx = 0; idx < run->nspecs; idx++) {
		struct target *t = &run->targets[idx];

		if (t->spec->kind == PITR_DEST_PIPE || t->spec->kind == PITR_DEST_SSH) {
			t->state = TARGET_UNCHECKED;
			report(run, "%s destination \"%s\": not checked (it cannot be read back)",
			       kind_label(t->spec), t->spec->location);
		} else if (t->spec->backup_copy) {
			t->state = TARGET_UNCHECKED;
			report(run, "backup destination \"%s\": not checked (a backup's copy, not "
			       "an archive)", t->spec->location);
		} else {
			waiting++;
		}
	}
	return waiting;
}

/* Poll until every target is done or the time is up; returns how many
 * are still waiting. */
static size_t
wait_for_targets(struct check_run *run, size_t waiting)
{
	double deadline = run->switched + run->opts->timeout * 1000.0;
	long pause = CHECK_POLL_FIRST_MS;

	for (;;) {
		double now;

		for (size_t idx = 0; idx < run->nspecs; idx++) {
			double left = (deadline - pitr_clock_ms()) / 1000.0;

			if (run->targets[idx].state != TARGET_WAITING)
				continue;
			/* A hung peer must not hold the check past --timeout. */
			run->fetch.rsync_timeout = left < 1 ? 1 : left < run->rsync_timeout ?
						   (int)left + 1 : run->rsync_timeout;
			poll_target(run, idx);
			if (run->targets[idx].state != TARGET_WAITING)
				waiting--;
		}
		now = pitr_clock_ms();
		if (waiting == 0 || now >= deadline)
			return waiting;
		if (pause > deadline - now)
			pause = (long)(deadline - now) + 1;
		pitr_clock_sleep_ms(pause);
		pause = pause * 2 > CHECK_POLL_MAX_MS ? CHECK_POLL_MAX_MS : pause * 2;
	}
}

/* One line per destination that lacks the segment, then what the
 * server's archiver says. */
static void
report_missing(struct check_run *run)
{
	char *failures;

	for (size_t idx = 0; idx < run->nspecs; idx++) {
		const struct target *t = &run->targets[idx];

		if (t->state == TARGET_WAITING)
			pitr_log_error("\"%s\" did not reach %s destination \"%s\" within %d s%s%s",
				       run->wal, kind_label(t->spec), t->spec->location,
				       run->opts->timeout, t->why[0] != '\0' ? ": " : "", t->why);
	}
	if ((failures = archiver_failures(run)) == NULL)
		return;
	if (strtoll(failures, NULL, 10) > run->failed_before)
		pitr_log_error("the server's archiver failed %lld times meanwhile, last on \"%s\" "
			       "(pg_stat_archiver): the server log says why",
			       strtoll(failures, NULL, 10) - run->failed_before,
			       strchr(failures, ' ') + 1);
	free(failures);
}

/* Failures the archiver retried with success do not fail the check, but
 * a destination that fails now and then is worth a line. */
static void
report_retries(struct check_run *run)
{
	char *failures = archiver_failures(run);
	long long more;

	if (failures == NULL)
		return;
	more = strtoll(failures, NULL, 10) - run->failed_before;
	if (more > 0)
		report(run, "the server's archiver failed %lld time%s meanwhile, last on \"%s\", and "
		       "retried with success (pg_stat_archiver)", more, more == 1 ? "" : "s",
		       strchr(failures, ' ') + 1);
	free(failures);
}

static int
prepare(struct check_run *run)
{
	const char *tmp = pitr_fsutil_tmpdir(run->opts->temp_dir);
	int stall;

	if ((run->conn = pitr_pgconn_connect(&run->opts->conn)) == NULL ||
	    read_settings(run) != 0 || parse_call(run) != 0)
		return -1;
	/* The store as the server reaches it, with pitr-check's own options
	 * over it; credentials and the s3 library wait for an s3 target. */
	run->s3 = run->a.s3;
	pitr_check_s3_apply(&run->opts->s3, &run->s3);
	/* A hung store must not hold the check long past --timeout. */
	stall = run->s3.stall_timeout > 0 ? run->s3.stall_timeout : PITR_S3_STALL_TIMEOUT_DEFAULT;
	run->s3.stall_timeout = stall < run->opts->timeout ? stall : run->opts->timeout;
	run->fetch.s3_env.s3 = &run->s3;
	if ((run->fetch.s3_env.s3_session = pitr_dest_s3_session_new()) == NULL ||
	    collect_targets(run) != 0 || read_identity(run) != 0)
		return -1;
	if (pitr_tmp_mkdir(&run->fetch_dir, tmp, "pitr-check") != 0)
		return -1;
	run->fetch.dir = run->fetch_dir.path;
	run->fetch.rsync = run->opts->rsync_path != NULL ? run->opts->rsync_path : "rsync";
	run->rsync_timeout = run->a.rsync_timeout > 0 ? run->a.rsync_timeout :
			     PITR_DEST_RSYNC_TIMEOUT_DEFAULT;
	return 0;
}

/* Whether pg_stat_archiver's last_archived_wal is `wal` or after it
 * (segments are archived in order); -1 when it cannot be read. */
static int
archiver_passed(struct check_run *run)
{
	char *last = NULL;
	int passed;

	if (pitr_pgconn_query_value(run->conn, "SELECT coalesce(last_archived_wal, '') "
				    "FROM pg_stat_archiver", &last) != 0)
		return -1;
	passed = strlen(last) >= PITR_WAL_SEGNAME_LEN &&
		 strncmp(last, run->wal, PITR_WAL_SEGNAME_LEN) >= 0;
	free(last);
	return passed;
}

/* No destination can be read back: the server's word that its
 * archive_command succeeded for the segment is all there is. */
static int
wait_for_archiver(struct check_run *run)
{
	double deadline = run->switched + run->opts->timeout * 1000.0;
	long pause = CHECK_POLL_FIRST_MS;
	int passed;

	while ((passed = archiver_passed(run)) == 0 && pitr_clock_ms() < deadline) {
		pitr_clock_sleep_ms(pause);
		pause = pause * 2 > CHECK_POLL_MAX_MS ? CHECK_POLL_MAX_MS : pause * 2;
	}
	if (passed < 0)
		return -1;
	if (passed == 0) {
		pitr_log_error("the server did not archive \"%s\" within %d s (pg_stat_archiver)",
			       run->wal, run->opts->timeout);
		report_missing(run);
		return -1;
	}
	report(run, "no destination can be read back; the server archived \"%s\" in %.2f s "
	       "(pg_stat_archiver)", run->wal, (pitr_clock_ms() - run->switched) / 1000.0);
	return 0;
}

int
pitr_cmd_check(const struct pitr_check_opts *opts)
{
	struct check_run run = { .opts = opts };
	size_t waiting, checked, failed = 0;
	int rc = -1;

	if (prepare(&run) != 0 || switch_wal(&run) != 0)
		goto out;
	checked = waiting = mark_unchecked(&run);
	if (checked == 0) {
		rc = wait_for_archiver(&run);
		goto out;
	}
	waiting = wait_for_targets(&run, waiting);
	for (size_t idx = 0; idx < run.nspecs; idx++)
		failed += run.targets[idx].state == TARGET_FAILED;
	if (waiting > 0)
		report_missing(&run);
	if (waiting > 0 || failed > 0)
		goto out;
	report(&run, "archiving works: \"%s\" reached %zu destination%s in %.2f s", run.wal,
	       checked, checked == 1 ? "" : "s", (pitr_clock_ms() - run.switched) / 1000.0);
	report_retries(&run);
	rc = 0;
out:
	run_free(&run);
	return rc;
}
