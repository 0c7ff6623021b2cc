/*
 * files.c - a backup's files (data, xlog, digest files, meta) to every
 * destination through one fan-out (dest/fanout.h) with its all-or-nothing
 * policy: each named by the -f template for the destination's codec,
 * compressed once per codec, digested once per codec as stored, left at a
 * temporary name until every file is complete, then published.  Also the
 * temporary files a killed run left in the local destinations.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "dest/fanout.h"
#include "digest/digest.h"

/* -f, or the default. */
static const char *
name_template(const struct bk_run *run)
{
	return run->opts->filename_template ? run->opts->filename_template :
		PITR_BACKUP_DEFAULT_TEMPLATE;
}

int
pitr_backup_files_collect(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;
	const struct pitr_dest_args args = {
		.local = opts->dst_local, .nlocal = opts->ndst_local,
		.remote = opts->dst_remote, .nremote = opts->ndst_remote,
		.pipe = opts->dst_pipe, .npipe = opts->ndst_pipe,
		.direct = opts->dst_direct, .ndirect = opts->ndst_direct,
	};

	if (pitr_dest_args_count(&args) == 0) {
		pitr_log_error("no destination given: use --dst-local, --dst-remote, --dst-direct or "
			       "--dst-pipe");
		return -1;
	}
	if (pitr_dest_args_parse(&args, &run->specs, &run->nspecs) != 0)
		return -1;
	run->fanout = pitr_fanout_new(&run->env, PITR_FANOUT_ALL, opts->parallel_jobs);
	if (run->fanout == NULL)
		return -1;
	for (size_t spec_idx = 0; spec_idx < run->nspecs; spec_idx++)
		if (pitr_fanout_add(run->fanout, &run->specs[spec_idx]) != 0)
			return -1;
	return 0;
}

/* A file's name at a destination: the -f template for its type and the
 * destination's codec extension. */
static char *
file_name(void *arg, const char *ext)
{
	const struct bk_file *bf = arg;
	const struct bk_run *run = bf->run;

	return pitr_backup_expand_template(name_template(run), run->hostname, bf->filetype, ext,
					   (long)run->start_time);
}

/* The fan-out's tap: digest what a group stores, once per codec. */
static int
digest_tap(void *arg, size_t group, const void *buf, size_t len)
{
	struct bk_file *bf = arg;

	for (size_t k = 0; k < bf->run->ndigests; k++)
		if (pitr_digest_update(bf->sums[group].digests[k], buf, len) != 0)
			return -1;
	return 0;
}

/* A backup is only worth having complete everywhere: the fan-out fails
 * the file at any destination's failure (its ALL policy), and so does a
 * signal. */
int
pitr_backup_files_sink(void *ctx, const void *buf, size_t len)
{
	struct bk_file *bf = ctx;

	if (pitr_backup_stopped(bf->run))
		return -1;
	return pitr_fanout_write(bf->file, buf, len);
}

/* One codec writer per distinct codec (and level), each digesting what
 * it stores when `digest` is set; a `plain` file (a digest file) has no
 * writers: the caller writes each destination's own text uncompressed. */
int
pitr_backup_files_open(struct bk_run *run, size_t ft, const char *filetype, bool digest,
		       bool plain)
{
	struct bk_file *bf = &run->files[ft];
	const struct pitr_fanout_file_opts fopts = {
		.name = file_name, .plain = plain, .tap = digest && run->ndigests > 0 ? digest_tap : NULL,
		.arg = bf,
	};

	bf->run = run;
	bf->filetype = filetype;
	bf->file = pitr_fanout_open(run->fanout, &fopts);
	if (bf->file == NULL)
		return -1;
	if (!digest || run->ndigests == 0)
		return 0;
	bf->sums = pitr_xcalloc(pitr_fanout_groups(bf->file), sizeof(*bf->sums));
	if (bf->sums == NULL)
		return -1;
	for (; bf->ngroups < pitr_fanout_groups(bf->file); bf->ngroups++)
		for (size_t k = 0; k < run->ndigests; k++) {
			bf->sums[bf->ngroups].digests[k] = pitr_digest_new(run->digests[k]);
			if (bf->sums[bf->ngroups].digests[k] == NULL) {
				bf->ngroups++;  /* freed by run_free */
				return -1;
			}
		}
	return 0;
}

int
pitr_backup_files_close(struct bk_run *run, size_t ft)
{
	struct bk_file *bf = &run->files[ft];

	if (pitr_fanout_close(bf->file) != 0)
		return -1;
	for (size_t group_idx = 0; bf->sums != NULL && group_idx < bf->ngroups; group_idx++)
		for (size_t k = 0; k < run->ndigests; k++)
			if (pitr_digest_final(bf->sums[group_idx].digests[k],
					      bf->sums[group_idx].hex[k]) != 0)
				return -1;
	return 0;
}

/* The line for destination `dest_idx`'s copy of `bf` in a digest file of
 * digest `k`: "HEX *NAME\n".  Malloc'd, NULL after logging. */
static char *
digest_line(const struct bk_file *bf, size_t dest_idx, size_t k)
{
	return pitr_digest_line(bf->sums[pitr_fanout_group_of(bf->file, dest_idx)].hex[k],
				pitr_fanout_name(bf->file, dest_idx));
}

/* Destination `dest_idx`'s lines of digest `k` for the data, xlog and
 * sig files (those written: no xlog with -sx). */
static int
write_digest_lines(struct bk_run *run, size_t k, size_t dest_idx)
{
	static const size_t listed[] = { FT_DATA, FT_XLOG, FT_SIG };
	struct pitr_fanout_file *out = run->files[FT_DIGEST0 + k].file;

	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++) {
		const struct bk_file *bf = &run->files[listed[i]];
		char *line;
		int rc;

		if (bf->file == NULL)
			continue;
		line = digest_line(bf, dest_idx, k);
		rc = line != NULL ? pitr_fanout_write_one(out, dest_idx, line, strlen(line)) : -1;
		free(line);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* One digest file per algorithm and destination, named by the template
 * with the digest's name and the destination codec's extension, holding
 * "HEX *NAME" for the data, xlog and sig files of that destination: what
 * OmniPITR's backups wrote (omnipitr-checksum's lines; the sig file is
 * pitrkit's), which `sha256sum -c` reads. */
int
pitr_backup_files_write_digests(struct bk_run *run)
{
	for (size_t k = 0; k < run->ndigests; k++) {
		size_t ft = FT_DIGEST0 + k;

		if (pitr_backup_files_open(run, ft, run->digests[k], false, true) != 0)
			return -1;
		for (size_t dest_idx = 0; dest_idx < run->nspecs; dest_idx++)
			if (write_digest_lines(run, k, dest_idx) != 0)
				return -1;
		if (pitr_backup_files_close(run, ft) != 0)
			return -1;
	}
	return 0;
}

/* The fan-out's published callback: the file named at its destination. */
static int
log_delivery(void *arg, const struct pitr_dest *d, enum pitr_dest_result result)
{
	(void)arg;
	if (result == PITR_DEST_ALREADY)
		pitr_log_info("\"%s\" was already at %s with the same content", d->name,
			      pitr_dest_label(d));
	else
		pitr_log_verbose("delivered \"%s\" to %s", d->name, pitr_dest_label(d));
	return 0;
}

int
pitr_backup_files_check_names(struct bk_run *run)
{
	const char *cexts[PITR_CODEC_COUNT];
	size_t n = 0;

	for (size_t i = 0; i < run->nspecs; i++) {
		const char *ext = pitr_codec_ext(run->specs[i].codec);
		size_t j;

		for (j = 0; j < n && strcmp(cexts[j], ext) != 0; j++)
			;
		if (j == n)
			cexts[n++] = ext;
	}
	return pitr_backup_check_template(name_template(run), run->hostname, cexts, n, run->digests,
					  run->ndigests, (long)time(NULL));
}

/* True when an earlier spec is an ssh destination at the same location:
 * swept already. */
static bool
ssh_swept(const struct bk_run *run, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (run->specs[j].kind == PITR_DEST_SSH &&
		    strcmp(run->specs[j].location, run->specs[i].location) == 0)
			return true;
	return false;
}

/* Every temporary file in a local destination that no live run holds
 * locked was left by a killed one (tmpfile.h): this backup's, another
 * backup's or pitr-archive's, they all go; so do those in a --dst-direct
 * directory on its host (ssh.c), and an s3 destination's uploads begun
 * days ago and never completed (s3.c).  A directory that cannot be read is the
 * destination's own open to report. */
int
pitr_backup_files_remove_stale_temps(struct bk_run *run)
{
	for (size_t i = 0; i < run->nspecs; i++) {
		const char *dir = pitr_dest_spec_dir(&run->specs[i]);

		if (dir != NULL && access(dir, R_OK | W_OK | X_OK) == 0)
			(void)pitr_tmp_sweep(dir, false);
		if (run->specs[i].kind == PITR_DEST_SSH && !ssh_swept(run, i))
			(void)pitr_dest_ssh_sweep(&run->specs[i], &run->env);
		if (run->specs[i].kind == PITR_DEST_S3)
			(void)pitr_dest_s3_sweep(&run->specs[i], &run->env);
	}
	return 0;
}

/* Whether another host's orphan at `path` was published (its rename sets
 * ctime) less than PITR_DEST_UNLOCKED_MIN_AGE ago: on a dir shared over
 * NFS that host's lock may be invisible here and its run still alive,
 * about to publish the meta.  pitr-backup-cleanup waits as long. */
static bool
too_young(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0 || time(NULL) - st.st_ctime >= PITR_DEST_UNLOCKED_MIN_AGE)
		return false;
	pitr_log_verbose("\"%s\" has no meta file but was published by another host less than "
			 "%d minutes ago: left for now", path, PITR_DEST_UNLOCKED_MIN_AGE / 60);
	return true;
}

/* pitr_orphan_sweep()'s remover: a dead run's file, its journal says so. */
static int
remove_orphan(void *arg, const char *dir, const char *name, bool other_host)
{
	char *p = pitr_fsutil_join(dir, name);
	int rc = -1;

	(void)arg;
	if (p != NULL && other_host && too_young(p)) {
		rc = 1;
	} else if (p != NULL && unlink(p) == 0) {
		pitr_log_info("removed \"%s\", an orphan without meta file left by an interrupted "
			      "backup", p);
		rc = 0;
	} else if (p != NULL && errno == ENOENT) {
		rc = 0;
	} else if (p != NULL) {
		pitr_log_error("could not remove \"%s\": %s", p, strerror(errno));
	}
	free(p);
	return rc;
}

/* The local destination dir of spec `i`, unless an earlier spec names
 * the same one (a dir given twice, with two codecs): its lock is that
 * spec's. */
static const char *
own_dir(const struct bk_run *run, size_t i)
{
	const char *dir = pitr_dest_spec_dir(&run->specs[i]);

	for (size_t j = 0; dir != NULL && j < i; j++) {
		const char *other = pitr_dest_spec_dir(&run->specs[j]);

		if (other != NULL && strcmp(other, dir) == 0)
			return NULL;
	}
	return dir;
}

/* A local destination dir's lock: exclusive if free (then the files dead runs'
 * journals name go), held shared for the rest of the run. */
static int
claim_dir(const char *dir)
{
	int fd = pitr_orphan_lock(dir, true);

	if (fd == -2) {
		pitr_log_verbose("another backup or a cleanup is using \"%s\": files without meta there "
				 "may be its own, left alone", dir);
		return pitr_orphan_lock(dir, false);
	}
	if (fd < 0)
		return -1;
	/* Only what a dead run's journal names goes (repo/orphan.h): files
	 * without meta and without journal (OmniPITR's backups) stay.  A
	 * failure is logged and does not stop this run. */
	(void)pitr_orphan_sweep(dir, false, remove_orphan, NULL);
	/* A conversion is not atomic: a cleanup may slip in between, which
	 * is harmless, as nothing of this run is at a final name yet. */
	if (flock(fd, LOCK_SH) != 0) {
		pitr_log_error("could not lock \"%s\": %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
pitr_backup_files_claim(struct bk_run *run)
{
	run->dest_locks = pitr_xcalloc(run->nspecs, sizeof(*run->dest_locks));
	if (run->dest_locks == NULL)
		return -1;
	for (size_t i = 0; i < run->nspecs; i++)
		run->dest_locks[i] = -1;
	for (size_t i = 0; i < run->nspecs; i++) {
		const char *dir = own_dir(run, i);

		/* A missing dir: the destination's own open names the problem. */
		if (dir == NULL || access(dir, F_OK) != 0)
			continue;
		if ((run->dest_locks[i] = claim_dir(dir)) < 0)
			return -1;
	}
	return 0;
}

/* A name at a final name already: with a template of one name a day, a
 * second backup that day.  Refused before the server is asked to start. */
static int
check_free(struct bk_run *run, const char *dir, const char *filetype, const char *ext)
{
	char *name = pitr_backup_expand_template(name_template(run), run->hostname, filetype, ext,
						 (long)run->start_time);
	char *path = name ? pitr_fsutil_join(dir, name) : NULL;
	struct stat st;
	int rc = -1;

	if (path == NULL)
		goto out;
	if (lstat(path, &st) != 0) {
		rc = 0;
		goto out;
	}
	if (strstr(name_template(run), "^H") == NULL || strstr(name_template(run), "^M") == NULL)
		pitr_log_error("backup file \"%s\" exists already: -f \"%s\" gives the next backup the "
			       "same names (add ^H^M to -f for more than one a day)", path,
			       name_template(run));
	else
		pitr_log_error("backup file \"%s\" exists already: remove it, or use another -f", path);
out:
	free(name);
	free(path);
	return rc;
}

int
pitr_backup_files_check_free(struct bk_run *run)
{
	for (size_t i = 0; i < run->nspecs; i++) {
		const char *dir = pitr_dest_spec_dir(&run->specs[i]);
		const char *ext = pitr_codec_ext(run->specs[i].codec);

		if (dir == NULL)
			continue;
		if (check_free(run, dir, "data", ext) != 0 ||
		    (!run->opts->skip_xlogs && check_free(run, dir, "xlog", ext) != 0) ||
		    check_free(run, dir, "sig", ext) != 0 || check_free(run, dir, "meta", ext) != 0)
			return -1;
		for (size_t k = 0; k < run->ndigests; k++)
			if (check_free(run, dir, run->digests[k], ext) != 0)
				return -1;
	}
	return 0;
}

/* A journal (repo/orphan.h) per local destination that exists, naming
 * this run's meta file there; the files it will publish are recorded in
 * it just before they are (journal_record()): what proves them this
 * run's should it die before their meta file is published.  A
 * destination dir that does not exist yet gets none: files that reach it
 * without meta are left alone, the safe side. */
int
pitr_backup_files_journal(struct bk_run *run)
{
	run->journals = pitr_xcalloc(run->nspecs, sizeof(*run->journals));
	if (run->journals == NULL)
		return -1;
	for (size_t i = 0; i < run->nspecs; i++) {
		const char *dir = pitr_dest_spec_dir(&run->specs[i]);
		const char *ext = pitr_codec_ext(run->specs[i].codec);
		char *meta;

		if (dir == NULL || access(dir, F_OK) != 0)
			continue;
		meta = pitr_backup_expand_template(name_template(run), run->hostname, "meta", ext,
						   (long)run->start_time);
		if (meta != NULL)
			run->journals[i] = pitr_orphan_journal_begin(dir, meta);
		free(meta);
		if (run->journals[i] == NULL)
			return -1;
	}
	return 0;
}

/* Record in spec `i`'s journal each file but the meta by its temporary
 * file's inode, which its publishing rename keeps, then fsync: a file at
 * that name with another inode (OmniPITR's same-day backup) is not this
 * run's. */
static int
journal_record_one(struct bk_run *run, size_t i)
{
	for (size_t ft = 0; ft < FT_META(run); ft++) {
		const struct pitr_fanout_file *file = run->files[ft].file;
		dev_t dev;
		ino_t ino;
		int r;

		if (file == NULL)
			continue;
		r = pitr_fanout_local_file_id(file, i, &dev, &ino);
		if (r < 0 || (r == 0 && pitr_orphan_journal_add(run->journals[i],
								pitr_fanout_name(file, i), dev,
								ino) != 0))
			return -1;
	}
	return pitr_orphan_journal_sync(run->journals[i]);
}

static int
journal_record(struct bk_run *run)
{
	for (size_t i = 0; run->journals != NULL && i < run->nspecs; i++)
		if (run->journals[i] != NULL && journal_record_one(run, i) != 0)
			return -1;
	return 0;
}

void
pitr_backup_files_journal_end(struct bk_run *run)
{
	for (size_t i = 0; run->journals != NULL && i < run->nspecs; i++)
		pitr_orphan_journal_end(run->journals[i]);
	free(run->journals);
	run->journals = NULL;
}

/* Locals first, then the staged and direct ones --parallel-jobs at a
 * time, each in data/xlog/digests/meta order; a destination that failed
 * one file gets none of the later ones: a meta file (the mark of a
 * complete backup) never reaches a destination that lacks the data before
 * it. */
int
pitr_backup_files_publish(struct bk_run *run)
{
	if (journal_record(run) != 0)
		return -1;
	return pitr_fanout_publish(run->fanout, log_delivery, NULL);
}
