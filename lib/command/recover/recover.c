/*
 * recover.c - pitr-recover: choose a backup, prove the archive and the
 * backup good enough, assemble the data directory under a temporary name,
 * write the recovery settings, rename it into place, and optionally start
 * the server and watch it reach the target.
 *
 * Every check that needs no writing runs first (options, target dir,
 * backup choice, WAL path, an incremental's chain, digests).  Tablespaces are only known from the
 * data tarball itself (its tablespaces/<path>/ members, then its
 * tablespace_map at the end), so their destinations are judged when their
 * first member arrives, before anything is written there; a refusal then
 * removes what the extraction had written so far.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "command/standby/standby.h"
#include "common/fsutil.h"
#include "common/opts.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/catalog.h"
#include "tar/tarread.h"

/* ------------------------------------------------------------------------
 * What the files share
 * ------------------------------------------------------------------------ */

/* By descriptors, not nftw(3): nothing a refused extraction left may
 * stay behind, however deep. */
static void
rm_tree(const char *path)
{
	pitr_fsutil_remove_tree(path);
}

/* Remove what is inside `dir`, keeping it. */
static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = pitr_fsutil_join(dir, de->d_name);
		if (p != NULL)
			rm_tree(p);
		free(p);
	}
	closedir(d);
}

enum recover_dir_state
recover_dir_state(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	enum recover_dir_state s = RECOVER_DIR_EMPTY;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? RECOVER_DIR_MISSING : RECOVER_DIR_ERROR;
	if (!S_ISDIR(st.st_mode))
		return RECOVER_DIR_NOT_DIR;
	d = opendir(path);
	if (d == NULL)
		return RECOVER_DIR_ERROR;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			s = RECOVER_DIR_FULL;
			break;
		}
	closedir(d);
	return s;
}

char *
recover_strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

int
recover_give_to_owner(struct recover_run *run, const char *path)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(run->tmp, &st) != 0 || lchown(path, st.st_uid, st.st_gid) != 0) {
		pitr_log_error("could not give \"%s\" to the data directory's owner: %s", path,
			       strerror(errno));
		return -1;
	}
	return 0;
}

int
recover_write_file(struct recover_run *run, const char *name, const char *text, bool replace)
{
	char *path;
	int rc;

	if (pitr_fsutil_publish_buffer(run->tmp, name, text, strlen(text), replace, NULL) != 0)
		return -1;
	path = pitr_fsutil_join(run->tmp, name);
	if (path == NULL)
		return -1;
	rc = recover_give_to_owner(run, path);
	free(path);
	return rc;
}

/* ------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------ */

static void
run_cleanup(struct recover_run *run, bool failed)
{
	if (failed && !run->renamed) {
		if (run->tmp_created)
			rm_tree(run->tmp);
		for (size_t i = 0; i < run->nts; i++) {
			if (run->ts[i].created != NULL)
				rm_tree(run->ts[i].created);
			else if (run->ts[i].real != NULL)
				empty_dir(run->ts[i].real);
		}
	}
	for (size_t i = 0; i < run->nts; i++) {
		free(run->ts[i].old);
		free(run->ts[i].new);
		free(run->ts[i].real);
		free(run->ts[i].created);
	}
	free(run->ts);
	for (size_t i = 0; i < run->nmap; i++) {
		free(run->map_old[i]);
		free(run->map_new[i]);
	}
	free(run->map_old);
	free(run->map_new);
	free(run->map_used);
	recover_chain_free(run);
	pitr_recover_target_free(&run->target);
	pitr_catalog_free(&run->cat);
	free(run->parent);
	free(run->final);
	free(run->tmp);
	free(run->base);
	free(run->restore_prog);
	free(run->recover_prog);
	for (size_t i = 0; i < run->narchives; i++)
		free(run->archives[i]);
	free(run->archives);
	free(run->s3_ca_file);
	free(run->archives_text);
	free(run->backup_dirs_text);
	free(run->pg_ctl);
}

/* The target dir: its parent must exist; it must not, or be empty. */
static int
check_target_dir(struct recover_run *run)
{
	char *copy = pitr_xstrdup(run->o->target_dir), *slash, *name;
	const char *pdir, *sep;
	int rc = -1;

	if (copy == NULL)
		return -1;
	recover_strip_slashes(copy);
	slash = strrchr(copy, '/');
	name = slash ? slash + 1 : copy;
	pdir = slash == NULL ? "." : slash == copy ? "/" : copy;
	if (slash != NULL && slash != copy)
		*slash = '\0';
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		pitr_log_error("--target-dir \"%s\" does not name a new directory", run->o->target_dir);
		goto out;
	}
	run->parent = realpath(pdir, NULL);
	if (run->parent == NULL) {
		pitr_log_error("--target-dir \"%s\": parent directory \"%s\": %s", run->o->target_dir,
			       pdir, strerror(errno));
		goto out;
	}
	sep = strcmp(run->parent, "/") != 0 ? "/" : "";
	if ((run->final = pitr_xasprintf("%s%s%s", run->parent, sep, name)) == NULL ||
	    (run->tmp = pitr_xasprintf("%s%s.%s.pitr-tmp-%ld", run->parent, sep, name,
				       (long)getpid())) == NULL)
		goto out;
	switch (recover_dir_state(run->final)) {
	case RECOVER_DIR_MISSING:
	case RECOVER_DIR_EMPTY:
		break;
	case RECOVER_DIR_FULL:
		pitr_log_error("--target-dir \"%s\" exists and is not empty", run->o->target_dir);
		goto out;
	case RECOVER_DIR_NOT_DIR:
		pitr_log_error("--target-dir \"%s\" exists and is not a directory", run->o->target_dir);
		goto out;
	case RECOVER_DIR_ERROR:
		pitr_log_error("--target-dir \"%s\": %s", run->o->target_dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* Assemble the data directory under run->tmp and rename it into place,
 * synced. */
static int
assemble(struct recover_run *run)
{
	char *version = NULL;
	int rc = -1;

	if (recover_extract(run, &version) != 0)
		return -1;
	if (recover_tablespace_relink(run) != 0 || recover_settings_write(run, version) != 0 ||
	    recover_tablespace_chown(run) != 0)
		goto out;
	if (chmod(run->tmp, 0700) != 0) {
		pitr_log_error("could not chmod \"%s\": %s", run->tmp, strerror(errno));
		goto out;
	}
	if (run->o->start && recover_start_find_pg_ctl(run, version) != 0)
		goto out;
	if (recover_tablespace_sync(run) != 0)
		goto out;
	if (rename(run->tmp, run->final) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", run->tmp, run->final,
			       strerror(errno));
		goto out;
	}
	run->tmp_created = false;
	run->renamed = true;
	if (pitr_fsutil_fsync_dir(run->parent) != 0)
		goto out;
	rc = 0;
out:
	free(version);
	return rc;
}

/* ------------------------------------------------------------------------
 * The command
 * ------------------------------------------------------------------------ */

static int
check_options(const struct pitr_recover_opts *o)
{
	if (o->nbackup_dirs == 0 || o->narchives == 0 || o->target_dir == NULL) {
		pitr_log_error("missing %s: --backup-dir, --archive and --target-dir are required",
			       o->nbackup_dirs == 0 ? "--backup-dir" : o->narchives == 0 ? "--archive" :
			       "--target-dir");
		return -1;
	}
	if (o->target_action != NULL &&
	    pitr_opts_check_choice("target-action", o->target_action, PITR_RECOVER_TARGET_ACTIONS) < 0)
		return -1;
	if (o->archive_mode != NULL &&
	    pitr_opts_check_choice("archive-mode", o->archive_mode, PITR_RECOVER_ARCHIVE_MODES) < 0)
		return -1;
	if (o->sb != NULL && o->sb->mode == PITR_STANDBY_WARM &&
	    (o->target_time != NULL || o->target_xid != NULL || o->target_lsn != NULL ||
	     o->target_name != NULL || o->target_immediate)) {
		pitr_log_error("--warm-standby takes no recovery target: it replays until its finish "
			       "trigger (--restore-options \"-f FILE\"); recover to a target without it");
		return -1;
	}
	if (o->start && geteuid() == 0) {
		pitr_log_error("--start: PostgreSQL does not run as root; run pitr-recover as the user "
			       "the server runs as (runuser -u postgres -- pitr-recover ...)");
		return -1;
	}
	return 0;
}

int
pitr_cmd_recover(const struct pitr_recover_opts *o)
{
	struct recover_run run = { .o = o };
	uint32_t tli_wanted;
	int rc = -1;

	/* Every check that writes nothing comes first. */
	if (check_options(o) != 0 || pitr_recover_parse_target(o, &run.target) != 0 ||
	    recover_target_timeline(o, &tli_wanted) != 0 || recover_tablespace_parse_map(&run) != 0 ||
	    check_target_dir(&run) != 0 || recover_settings_archive(&run) != 0 ||
	    recover_settings_restore_program(&run) != 0)
		goto out;
	if (o->start && recover_start_find_pg_ctl(&run, NULL) < 0)
		goto out;
	if (recover_choose_backup(&run, tli_wanted) != 0 || recover_choose_check_systems(&run) != 0 ||
	    recover_choose_check_wal(&run) != 0 || recover_chain_find(&run) != 0 ||
	    recover_choose_check_digests(&run) != 0 || recover_chain_check(&run) != 0)
		goto out;
	if (assemble(&run) != 0)
		goto out;
	pitr_log_info("data directory \"%s\" is ready for recovery (%s)", run.final,
		      recover_settings_signal(o));
	if (pitr_recover_archives(o))
		pitr_log_info("archiving as the backup's source did (--archive-mode=preserve%s): once "
			      "promoted, the copy runs the source's archive_command", o->archive_mode == NULL ?
			      ", the default for a standby" : "");
	else
		pitr_log_info("archiving disabled in the copy (--archive-mode=off): archive_mode = 'off' "
			      "in its postgresql.auto.conf; give --archive-mode=preserve to recover the "
			      "production primary itself");
	if (o->start && recover_start_and_wait(&run) != 0)
		goto out;
	rc = 0;
out:
	run_cleanup(&run, rc != 0);
	return rc;
}
