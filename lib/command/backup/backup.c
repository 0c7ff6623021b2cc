/*
 * backup.c - pitr-backup-master and pitr-backup-slave: a hot base
 * backup of a primary or of a hot standby, run as a sequence of phases.
 *
 * One libpq session brackets the copy with pg_backup_start and
 * pg_backup_stop.  The data dir is streamed once into a tar; each distinct
 * codec among the destinations compresses it once and fans its output out
 * to that codec's destinations, as pitr-archive does for WAL (files.c,
 * dest/fanout.h).  WAL written during the copy is collected by pitr-archive
 * --dst-backup into the -x dir and becomes the xlog tarball; on a standby
 * the segments come from the archive it restores from, kept there by the
 * removal pause trigger (xlogdir.c, segments.c).  The --digest digests are
 * taken of the bytes as stored, as each codec group hands them to its
 * destinations, so no file is read twice; one plain digest file per
 * algorithm lists a destination's data and xlog files.  Every destination
 * file is left unfinished (at a temporary name) until all files are
 * complete, then the data, xlog, digest and meta files are published in
 * that order (the meta last: its presence marks a complete backup), so a
 * failed run leaves nothing at a final name, and a killed one at most
 * files without meta, orphans no reader takes for a backup, which the next
 * run with the same names removes (files.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "dest/fanout.h"
#include "digest/digest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/xalloc.h"
#include "server/pgconn.h"
#include "tar/tarwrite.h"
#include "postgres/pgdata.h"
#include "postgres/timestamp.h"
#include "postgres/wal.h"
#include "repo/meta.h"

#define BACKUP_NICENESS 10

/* The signal that asked the run to stop; 0 while none did.  The handler
 * only sets it: the copy loops and every step check it, and the run fails
 * through its normal cleanup. */
static volatile sig_atomic_t bk_signal;

static void
on_signal(int signo)
{
	bk_signal = signo;
}

bool
pitr_backup_stopped(struct bk_run *run)
{
	if (bk_signal == 0)
		return false;
	if (!run->stop_logged)
		pitr_log_error("interrupted by %s: backup abandoned", bk_signal == SIGINT ? "SIGINT" :
			       bk_signal == SIGQUIT ? "SIGQUIT" : bk_signal == SIGHUP ? "SIGHUP" :
			       "SIGTERM");
	run->stop_logged = true;
	return true;
}

/* Drop everything; files not published are aborted, so nothing partial
 * reaches a final name. */
static void
run_free(struct bk_run *run)
{
	pitr_fanout_free(run->fanout);
	pitr_dest_s3_session_free(run->env.s3_session);
	/* After the fan-out: its unpublished files are gone by now. */
	pitr_backup_files_journal_end(run);
	for (size_t ft = 0; run->files != NULL && ft < FT_COUNT(run); ft++) {
		struct bk_file *bf = &run->files[ft];

		for (size_t group_idx = 0; bf->sums != NULL && group_idx < bf->ngroups; group_idx++)
			for (size_t k = 0; k < run->ndigests; k++)
				pitr_digest_free(bf->sums[group_idx].digests[k]);
		free(bf->sums);
	}
	free(run->files);
	for (size_t i = 0; run->dest_locks != NULL && i < run->nspecs; i++)
		if (run->dest_locks[i] >= 0)
			close(run->dest_locks[i]);
	free(run->dest_locks);
	pitr_dest_specs_free(run->specs, run->nspecs);
	pitr_progress_free(run->progress);
	pitr_tarwrite_free(run->tar);
	pitr_pgconn_close(run->conn);
	pitr_pgconn_backup_stop_free(&run->stop);
	pitr_backup_sigs_free(run);
	pitr_backup_base_free(run);
	pitr_pidfile_release(run->pidfile);
	pitr_dest_spec_free(&run->source);
	free(run->data_dir);
	free(run->xlog_moved);
	if (run->xlog_lock_fd >= 0)
		close(run->xlog_lock_fd);
	free(run->label);
	free(run->start_lsn);
}

/* The major version for the meta file; left empty (the meta then says
 * nothing, as older ones) when PG_VERSION cannot be read: the backup
 * itself does not need it. */
static void
read_pg_version(struct bk_run *run, const char *path)
{
	size_t len;
	char *text = pitr_fsutil_read_small(path, 64, &len);

	if (text == NULL)
		return;
	text[strcspn(text, "\r\n")] = '\0';
	snprintf(run->pg_version, sizeof(run->pg_version), "%s", text);
	free(text);
}

static int
check_dirs(struct bk_run *run, const char *server_data_dir)
{
	const char *want = run->opts->data_dir ? run->opts->data_dir : server_data_dir;
	char real_server[PATH_MAX];
	char *pgv;
	struct stat st;

	run->data_dir = realpath(want, NULL);
	if (run->data_dir == NULL) {
		pitr_log_error("could not resolve data directory \"%s\": %s", want, strerror(errno));
		return -1;
	}
	pgv = pitr_fsutil_join(run->data_dir, "PG_VERSION");
	if (pgv == NULL)
		return -1;
	if (stat(pgv, &st) != 0) {
		pitr_log_error("\"%s\" is not a PostgreSQL data directory (no PG_VERSION)", want);
		free(pgv);
		return -1;
	}
	read_pg_version(run, pgv);
	free(pgv);
	if (realpath(server_data_dir, real_server) == NULL || strcmp(real_server, run->data_dir) != 0) {
		pitr_log_error("data directory \"%s\" is not the one of the server connected to (\"%s\")",
			       want, server_data_dir);
		return -1;
	}
	run->data_base = strrchr(run->data_dir, '/') + 1;
	if (*run->data_base == '\0') {
		pitr_log_error("data directory \"%s\" has no name to put in the tarball", want);
		return -1;
	}
	return 0;
}

/* global/pg_control, after every other file of the data dir and the
 * tablespaces: a backup taken on a standby ends, when recovered, at the
 * minRecoveryPoint of this copy, which must be later than every page
 * copied before it (basebackup.c sends it last for the same reason). */
static int
add_pg_control(struct bk_run *run)
{
	char path[PATH_MAX], name[PATH_MAX];

	snprintf(path, sizeof(path), "%s/global/pg_control", run->data_dir);
	snprintf(name, sizeof(name), "%s/global/pg_control", run->data_base);
	return pitr_tarwrite_add_file(run->tar, path, name);
}

/* Stream every tablespace (pg_tblspc symlinks) as tablespaces/<path>. */
static int
add_tablespaces(struct bk_run *run)
{
	char *tsdir = pitr_fsutil_join(run->data_dir, "pg_tblspc");
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	if (tsdir == NULL || (d = opendir(tsdir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", tsdir ? tsdir : "pg_tblspc",
			       strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char link[PATH_MAX], prefix[PATH_MAX + 16];
		char *lp;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		lp = pitr_fsutil_join(tsdir, de->d_name);
		if (lp == NULL)
			goto out;
		n = readlink(lp, link, sizeof(link) - 1);
		free(lp);
		if (n < 0)
			continue;     /* an in-place tablespace is inside the data dir */
		link[n] = '\0';
		snprintf(prefix, sizeof(prefix), "tablespaces%s%s", link[0] == '/' ? "" : "/", link);
		if (pitr_tarwrite_add_tree(run->tar, link, prefix, PITR_TARWRITE_PGDATA) != 0)
			goto out;
	}
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	free(tsdir);
	return rc;
}

/* Now, into *t and as the meta file writes it into `out`
 * (PITR_TIMESTAMP_TEXT_MAX bytes). */
static int
stamp_now(time_t *t, char *out)
{
	*t = time(NULL);
	if (pitr_timestamp_format(*t, out, PITR_TIMESTAMP_TEXT_MAX) != 0) {
		pitr_log_error("could not format the local time of %lld", (long long)*t);
		return -1;
	}
	return 0;
}

/* The signals that abandon a run: a closed terminal (SIGHUP) and
 * SIGQUIT too, which would otherwise kill it with its temporary files and
 * -x dir left for the next run; pitr-backup-* documents no other use of
 * either. */
static const int bk_signals[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };
#define BK_NSIGNALS (sizeof(bk_signals) / sizeof(bk_signals[0]))

/* Install on_signal for bk_signals, the old actions in `old`.  0, or -1
 * after logging (none left installed). */
static int
install_signals(struct sigaction old[BK_NSIGNALS])
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	bk_signal = 0;
	for (size_t i = 0; i < BK_NSIGNALS; i++)
		if (sigaction(bk_signals[i], &sa, &old[i]) != 0) {
			pitr_log_error("could not install signal handlers: %s", strerror(errno));
			while (i-- > 0)
				sigaction(bk_signals[i], &old[i], NULL);
			return -1;
		}
	return 0;
}

static void
restore_signals(const struct sigaction old[BK_NSIGNALS])
{
	for (size_t i = 0; i < BK_NSIGNALS; i++)
		sigaction(bk_signals[i], &old[i], NULL);
}

/* The meta file's text (repo/meta.h), which pitr-info, pitr-recover and
 * the catalog read.  Malloc'd, NULL after logging. */
static char *
meta_text(struct bk_run *run)
{
	struct pitr_catalog_digest digests[PITR_BACKUP_MAX_DIGESTS];
	struct pitr_catalog_backup b = {
		.start_lsn = run->start_pos,
		.stop_lsn = run->stop_pos,
		.start_time = run->tstart,
		.stop_time = run->tstop,
		.start_epoch = run->start_time,
		.stop_epoch = run->stop_time,
		.host = run->hostname,
		.label = run->label,
		.sysid = run->sysid,
		.timeline = run->sname.tli,
		.segsize = (uint32_t)run->segsize,
		.data_dir = run->data_dir,
		.data_size = run->data_size,
		.xlog_size = run->xlog_size,
		.codecs = run->codecs,
		.pg_version = run->pg_version,
		.source = run->slave ? "standby" : "primary",
		.digests = digests,
		.ndigests = run->ndigests,
		.base = run->base_label,
		.chain = run->chain_labels,
	};

	snprintf(b.start_wal, sizeof(b.start_wal), "%s", run->start_file);
	snprintf(b.stop_wal, sizeof(b.stop_wal), "%s", run->stop_file);
	/* The canonical names, which the format only reads. */
	for (size_t k = 0; k < run->ndigests; k++)
		digests[k] = (struct pitr_catalog_digest){ .algorithm = (char *)run->digests[k] };
	return pitr_meta_format(&b);
}

/* The digest files to write: --digest's list, and SHA-256 for an
 * incremental backup even when the list lacks it.  pitr-recover's
 * pre-check must prove every link of a chain whole before it writes
 * anything; a link with a SHA-256 digest file is proved by hashing its
 * compressed tarball (some 0.02 s for 40 MB) instead of decompressing and
 * parsing it through (a fifth of a scale-50 chain's recovery).  Whether
 * the backup is incremental is known only once the base is looked up
 * (after connecting): the names are checked with SHA-256 in, and
 * settle_digests() drops it again for a full backup ("latest" without a
 * base), which stays as --digest says. */
static int
resolve_digests(struct bk_run *run)
{
	const char *sha256 = pitr_digest_canonical("SHA-256");
	int nd = pitr_backup_parse_digests(run->opts->digests, run->digests);

	if (nd < 0)
		return -1;
	run->ndigests = (size_t)nd;
	if (run->opts->incremental_from == NULL)
		return 0;
	for (size_t k = 0; k < run->ndigests; k++)
		if (run->digests[k] == sha256)
			return 0;
	/* parse_digests drops repeats: with SHA-256 missing there is room. */
	run->digests[run->ndigests++] = sha256;
	run->digest_added = true;
	return 0;
}

/* After the base is looked up: a full backup writes only --digest's
 * digest files (resolve_digests()).  The added one is the last: nothing
 * is open yet, and the meta file's slot moves down onto it. */
static void
settle_digests(struct bk_run *run)
{
	if (run->digest_added && run->chain == NULL) {
		run->ndigests--;
		run->digest_added = false;
	}
}

/* Everything checked that needs no server: the options, the destinations,
 * the digests and every file name. */
static int
prepare(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;
	bool want_xlogs = !opts->skip_xlogs;

	run->env.temp_dir = opts->temp_dir;
	/* A backup's pipe program may upload for long after reading its
	 * input (cat > f; scp f ...): no limit unless asked. */
	run->env.pipe_timeout = opts->pipe_timeout > 0 ? opts->pipe_timeout : -1;
	run->env.rsync_path = opts->rsync_path;
	run->env.ssh_path = opts->ssh_path;
	run->env.remote_cat_path = opts->remote_cat_path;
	run->env.s3 = &opts->s3;
	/* Allocation only: credentials and the s3 library wait for an s3
	 * destination. */
	if ((run->env.s3_session = pitr_dest_s3_session_new()) == NULL)
		return -1;
	if (gethostname(run->hostname, sizeof(run->hostname) - 1) != 0)
		strcpy(run->hostname, "localhost");
	if (opts->pid_file != NULL && (run->pidfile = pitr_pidfile_acquire(opts->pid_file)) == NULL)
		return -1;
	if (pitr_backup_files_collect(run) != 0 || pitr_backup_base_check(run) != 0)
		return -1;
	if (resolve_digests(run) != 0 || pitr_backup_files_check_names(run) != 0)
		return -1;
	run->files = pitr_xcalloc(FT_COUNT(run), sizeof(*run->files));
	if (run->files == NULL)
		return -1;
	if (run->slave && opts->source != NULL &&
	    pitr_dest_spec_parse(opts->source, PITR_DEST_LOCAL, "--source", &run->source) != 0)
		return -1;
	if (run->slave && want_xlogs && opts->source == NULL) {
		pitr_log_error("no --source given: the xlog tarball is made from the archive the "
			       "standby restores from (or use --skip-xlogs)");
		return -1;
	}
	if (!run->slave && want_xlogs && (opts->xlogs == NULL || opts->xlogs[0] != '/'))
		return pitr_backup_xlogdir_make(run);  /* refuses, logging the reason */
	return 0;
}

/* Connect, and check that the server is the one the options mean: a
 * primary or a standby as the program says, running on the data dir. */
static int
connect_server(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;
	struct pitr_pgconn_params params = { opts->dbname, opts->host, opts->port, opts->user };
	char *server_dd = NULL, *segsize_s = NULL, *sysid_s = NULL, *recovery = NULL, *end;
	int rc = -1;

	if (run->slave)
		pitr_backup_master_warn(opts);
	run->conn = pitr_pgconn_connect(&params);
	if (run->conn == NULL)
		return -1;
	if (pitr_pgconn_show(run->conn, "data_directory", &server_dd) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'",
				    &segsize_s) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT system_identifier FROM pg_control_system()",
				    &sysid_s) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT pg_is_in_recovery()", &recovery) != 0)
		goto out;
	if (strcmp(recovery, run->slave ? "t" : "f") != 0) {
		if (!run->slave)
			pitr_log_error("the server is a standby (in recovery): use pitr-backup-slave");
		else
			pitr_log_error("the server is not a standby (not in recovery): use "
				       "pitr-backup-master%s", pitr_backup_master_unused(opts) ?
				       " (-d/-h/-P/-U name the master, as in OmniPITR; the standby is "
				       "--standby-database/--standby-host/--standby-port/"
				       "--standby-username)" : "");
		goto out;
	}
	run->segsize = strtoull(segsize_s, NULL, 10);
	if (!pitr_wal_segsize_valid(run->segsize)) {
		pitr_log_error("server reports wal_segment_size \"%s\", not a valid segment size", segsize_s);
		goto out;
	}
	/* A bigint: the unsigned identifier, negative once its top bit is
	 * set (clusters made after 2038). */
	errno = 0;
	run->sysid = sysid_s[0] == '-' ? (uint64_t)strtoll(sysid_s, &end, 10)
				       : strtoull(sysid_s, &end, 10);
	if (!isdigit((unsigned char)sysid_s[sysid_s[0] == '-']) || *end != '\0' || errno != 0) {
		pitr_log_error("server reports system identifier \"%s\", not a number", sysid_s);
		goto out;
	}
	rc = check_dirs(run, server_dd);
	if (rc == 0 && run->slave)
		rc = pitr_backup_master_connect(run);
out:
	free(server_dd);
	free(segsize_s);
	free(sysid_s);
	free(recovery);
	return rc;
}

/* Make ready to copy: the destinations claimed and their names free, the
 * -x dir, no stale temporary files, the label,
 * the codecs for the meta file, a lower priority. */
static int
begin(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;

	/* The names first: a second backup of the day fails before -x
	 * exists (pitr-archive would start copying into it). */
	if (stamp_now(&run->start_time, run->tstart) != 0 || pitr_backup_files_claim(run) != 0 ||
	    pitr_backup_files_check_free(run) != 0 || pitr_backup_files_journal(run) != 0)
		return -1;
	if (!run->slave && !opts->skip_xlogs && pitr_backup_xlogdir_make(run) != 0)
		return -1;
	if (pitr_backup_files_remove_stale_temps(run) != 0)
		return -1;
	run->label = pitr_xasprintf("pitrkit %s %s", run->hostname, run->tstart);
	if (run->label == NULL)
		return -1;
	for (size_t i = 0; i < run->nspecs; i++)
		if (strstr(run->codecs, pitr_codec_name(run->specs[i].codec)) == NULL)
			snprintf(run->codecs + strlen(run->codecs), sizeof(run->codecs) - strlen(run->codecs),
				 "%s%s", run->codecs[0] ? "," : "", pitr_codec_name(run->specs[i].codec));
	if (!opts->not_nice)
		(void)setpriority(PRIO_PROCESS, 0, BACKUP_NICENESS);
	return 0;
}

/* On a primary the backup's WAL comes through archive_command: with
 * archive_mode off or no command it never would, and the run would only
 * find out after 300 seconds.  A command that does not name -x may
 * still reach it through a script: a warning. */
static int
check_archiving(struct bk_run *run)
{
	char *mode = NULL, *cmd = NULL;
	int rc = -1;

	if (pitr_pgconn_show(run->conn, "archive_mode", &mode) != 0 ||
	    pitr_pgconn_show(run->conn, "archive_command", &cmd) != 0)
		goto out;
	if (strcmp(mode, "on") != 0 && strcmp(mode, "always") != 0)
		pitr_log_error("archive_mode is \"%s\" on the server: no WAL is archived, so the "
			       "backup would never get its WAL (set archive_mode = on)", mode);
	else if (cmd[0] == '\0')
		pitr_log_error("archive_command is empty on the server: no WAL is archived, so the "
			       "backup would never get its WAL");
	else
		rc = 0;
	if (rc == 0 && !run->opts->skip_xlogs && strstr(cmd, run->opts->xlogs) == NULL)
		pitr_log_info("WARNING: archive_command \"%s\" does not name --xlogs dir \"%s\": unless "
			      "what it runs gives it to pitr-archive --dst-backup %s, the backup's WAL "
			      "will not arrive", cmd, run->opts->xlogs, run->opts->xlogs);
out:
	free(mode);
	free(cmd);
	return rc;
}

/* The data tarball's sink: the file's, counting for the progress. */
static int
data_sink(void *ctx, const void *buf, size_t len)
{
	struct bk_run *run = ((struct bk_file *)ctx)->run;

	if (pitr_backup_files_sink(ctx, buf, len) != 0)
		return -1;
	if (run->tar != NULL)
		pitr_progress_set(run->progress, pitr_tarwrite_bytes(run->tar) + len +
				  run->not_stored, pitr_tarwrite_files(run->tar));
	return 0;
}

/* Progress of the data tarball, its total from a walk of the data dir
 * (stat only, as the tar's own walk will, so it also warms the cache for
 * it): the size as the tar stores it, before compression.  NULL when no
 * one would see it. */
static struct pitr_progress *
data_progress(const struct bk_run *run)
{
	uint64_t bytes, files;

	if (!pitr_progress_wanted())
		return NULL;
	pitr_pgdata_estimate(run->data_dir, &bytes, &files);
	return pitr_progress_new("data", bytes, files);
}

/* The data tarball, between pg_backup_start and pg_backup_stop, with the
 * backup label and tablespace map the stop returns. */
static int
copy_data(struct bk_run *run)
{
	char member[PATH_MAX];

	if (pitr_backup_files_open(run, FT_DATA, "data", true, false) != 0)
		return -1;
	if (run->slave && pitr_backup_xlogdir_claim_trigger(run) != 0)
		return -1;
	if (!run->slave && check_archiving(run) != 0)
		return -1;
	if (pitr_backup_stopped(run) || pitr_pgconn_backup_start(run->conn, run->label, &run->start_lsn) != 0)
		return -1;
	pitr_log_info("backup \"%s\" started at %s", run->label, run->start_lsn);
	run->progress = data_progress(run);
	run->tar = pitr_tarwrite_new(data_sink, &run->files[FT_DATA]);
	if (run->tar == NULL || pitr_backup_sigs_begin(run) != 0 ||
	    pitr_tarwrite_add_tree(run->tar, run->data_dir, run->data_base,
				   PITR_TARWRITE_PGDATA | PITR_TARWRITE_ROOT_0700 |
				   PITR_TARWRITE_SKIP_PGCONTROL) != 0 ||
	    add_tablespaces(run) != 0 || add_pg_control(run) != 0)
		return -1;
	/* With an xlog tarball the stop segment is waited for in the -x dir
	 * (or the standby's -s archive) at a finer step than PostgreSQL's
	 * one-second look at the archiver; with -sx on a primary the archive
	 * itself must hold the WAL, so PostgreSQL waits for it. */
	if (pitr_backup_stopped(run) ||
	    pitr_pgconn_backup_stop(run->conn, run->opts->skip_xlogs && !run->slave, &run->stop) != 0)
		return -1;
	pitr_backup_master_switch(run);
	if (stamp_now(&run->stop_time, run->tstop) != 0)
		return -1;
	snprintf(member, sizeof(member), "%s/backup_label", run->data_base);
	if (pitr_tarwrite_add_buffer(run->tar, member, run->stop.labelfile,
				     strlen(run->stop.labelfile), 0600) != 0)
		return -1;
	snprintf(member, sizeof(member), "%s/tablespace_map", run->data_base);
	if (run->stop.spcmapfile[0] != '\0' &&
	    pitr_tarwrite_add_buffer(run->tar, member, run->stop.spcmapfile,
				     strlen(run->stop.spcmapfile), 0600) != 0)
		return -1;
	if (pitr_backup_segments_history_in_data(run) && pitr_backup_segments_add_history(run) != 0)
		return -1;
	if (pitr_backup_sigs_end_data(run) != 0 || pitr_tarwrite_finish(run->tar) != 0 ||
	    pitr_backup_files_close(run, FT_DATA) != 0)
		return -1;
	pitr_progress_finish(run->progress);
	run->progress = NULL;
	run->data_size = pitr_tarwrite_bytes(run->tar);
	pitr_tarwrite_free(run->tar);
	run->tar = NULL;
	pitr_pgconn_close(run->conn);
	run->conn = NULL;
	return 0;
}

/* The xlog tarball: start to stop segment from the WAL source.  Then the
 * segments are in it (or, with -sx, the archive serves them): the removal
 * pause ends. */
static int
copy_xlogs(struct bk_run *run)
{
	bool want_xlogs = !run->opts->skip_xlogs;

	if (pitr_backup_segments_range(run) != 0)
		return -1;
	if ((want_xlogs || (run->slave && run->opts->source != NULL)) &&
	    (pitr_backup_segments_wait(run) != 0 || (!run->slave && pitr_backup_xlogdir_move(run) != 0)))
		return -1;
	if (want_xlogs) {
		if (pitr_backup_files_open(run, FT_XLOG, "xlog", true, false) != 0)
			return -1;
		run->tar = pitr_tarwrite_new(pitr_backup_files_sink, &run->files[FT_XLOG]);
		if (run->tar == NULL || pitr_backup_segments_add(run) != 0 ||
		    (!pitr_backup_segments_history_in_data(run) &&
		     pitr_backup_segments_add_history(run) != 0) ||
		    pitr_tarwrite_finish(run->tar) != 0 || pitr_backup_files_close(run, FT_XLOG) != 0)
			return -1;
		run->xlog_size = pitr_tarwrite_bytes(run->tar);
	}
	pitr_backup_xlogdir_release_trigger(run);
	return 0;
}

/* The meta file, last: its presence marks a complete backup. */
static int
write_meta(struct bk_run *run)
{
	char *meta = meta_text(run);
	int rc = -1;

	if (meta != NULL && pitr_backup_files_open(run, FT_META(run), "meta", false, false) == 0 &&
	    pitr_backup_files_sink(&run->files[FT_META(run)], meta, strlen(meta)) == 0 &&
	    pitr_backup_files_close(run, FT_META(run)) == 0)
		rc = 0;
	free(meta);
	return rc;
}

static int
publish(struct bk_run *run)
{
	if (pitr_backup_stopped(run))
		return -1;
	if (pitr_backup_files_publish(run) != 0) {
		pitr_log_error("backup incomplete: some destinations did not receive all the files");
		return -1;
	}
	pitr_log_info("backup \"%s\" done: WAL %s to %s, %" PRIu64 " bytes of data, %" PRIu64
		      " bytes of WAL%s, to %zu destinations", run->label, run->start_file,
		      run->stop_file, run->data_size, run->xlog_size,
		      run->opts->skip_xlogs ? " (--skip-xlogs: restore with the archive)" : "",
		      run->nspecs);
	return 0;
}

/* `dir` without trailing slashes ("/x/" is "/x"): rename(2) refuses to
 * move "/x/" to "/x.pitr-done.PID".  NULL for NULL; NULL after logging. */
static char *
without_trailing_slashes(const char *dir)
{
	char *copy;
	size_t len;

	if (dir == NULL || (copy = pitr_xstrdup(dir)) == NULL)
		return NULL;
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	return copy;
}

static int
backup_run(const struct pitr_backup_opts *opts, bool slave)
{
	struct pitr_backup_opts own = *opts;
	struct bk_run run = { .opts = &own, .slave = slave, .xlog_lock_fd = -1 };
	struct sigaction old_actions[BK_NSIGNALS];
	char *xlogs = without_trailing_slashes(opts->xlogs);
	int rc = -1;

	if (opts->xlogs != NULL && xlogs == NULL)
		return -1;
	own.xlogs = xlogs;
	if (install_signals(old_actions) != 0) {
		free(xlogs);
		return -1;
	}
	if (prepare(&run) == 0 && connect_server(&run) == 0 && begin(&run) == 0 &&
	    pitr_backup_base_load(&run) == 0) {
		settle_digests(&run);
		if (copy_data(&run) == 0 && copy_xlogs(&run) == 0 && pitr_backup_sigs_write(&run) == 0 &&
		    pitr_backup_files_write_digests(&run) == 0 && write_meta(&run) == 0 &&
		    publish(&run) == 0)
			rc = 0;
	}
	pitr_backup_xlogdir_remove(&run);
	pitr_backup_xlogdir_release_trigger(&run);
	run_free(&run);
	free(xlogs);
	restore_signals(old_actions);
	return rc;
}

int
pitr_cmd_backup_master(const struct pitr_backup_opts *opts)
{
	return backup_run(opts, false);
}

int
pitr_cmd_backup_slave(const struct pitr_backup_opts *opts)
{
	return backup_run(opts, true);
}

void
pitr_backup_opts_shared(const struct pitr_opts *o, struct pitr_backup_opts *b)
{
	b->data_dir = pitr_opts_str(o, "data-dir");
	b->dst_local = pitr_opts_list(o, "dst-local", &b->ndst_local);
	b->dst_remote = pitr_opts_list(o, "dst-remote", &b->ndst_remote);
	b->dst_pipe = pitr_opts_list(o, "dst-pipe", &b->ndst_pipe);
	b->dst_direct = pitr_opts_list(o, "dst-direct", &b->ndst_direct);
	b->temp_dir = pitr_opts_str(o, "temp-dir");
	b->filename_template = pitr_opts_str(o, "filename-template");
	b->pid_file = pitr_opts_str(o, "pid-file");
	b->parallel_jobs = (int)pitr_opts_int(o, "parallel-jobs");
	b->pipe_timeout = (int)pitr_opts_int(o, "pipe-timeout");
	b->not_nice = pitr_opts_flag(o, "not-nice");
	b->rsync_path = pitr_opts_str(o, "rsync-path");
	b->ssh_path = pitr_opts_str(o, "ssh-path");
	b->remote_cat_path = pitr_opts_str(o, "remote-cat-path");
	b->digests = pitr_opts_str(o, "digest");
	b->skip_xlogs = pitr_opts_flag(o, "skip-xlogs");
	b->incremental_from = pitr_opts_str(o, "incremental-from");
	pitr_s3_config_from_opts(o, &b->s3);
}
