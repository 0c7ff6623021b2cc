/*
 * pgdata.c - the base backup exclusions (PostgreSQL 15's basebackup.c).
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "postgres/pgdata.h"

const char *const pitr_pgdata_exclude_dir_contents[] = {
	"pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial",
	"pg_snapshots", "pg_subtrans", NULL,
};

const char *const pitr_pgdata_exclude_files[] = {
	"postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label", "tablespace_map",
	"backup_manifest", "postmaster.pid", "postmaster.opts", "backup_label.old", NULL,
};

const char *const pitr_pgdata_exclude_file_prefixes[] = { "pg_internal.init", "pgsql_tmp", NULL };

static bool
name_in(const char *name, const char *const *list, bool prefix)
{
	for (; *list != NULL; list++) {
		if (prefix ? strncmp(name, *list, strlen(*list)) == 0 : strcmp(name, *list) == 0)
			return true;
	}
	return false;
}

bool
pitr_pgdata_excluded_name(const char *name)
{
	return name_in(name, pitr_pgdata_exclude_files, false) ||
	       name_in(name, pitr_pgdata_exclude_file_prefixes, true);
}

bool
pitr_pgdata_excluded_contents(const char *name, int depth)
{
	return name_in(name, pitr_pgdata_exclude_dir_contents, false) ||
	       (depth == 0 && strcmp(name, PITR_PGDATA_WAL_DIR) == 0);
}

#define TAR_BLOCK 512u

/* Add what a tar of the tree at `path` holds, `depth` 0 the data dir;
 * `follow`: the entries are pg_tblspc's links, walked to their targets. */
static void
estimate_dir(const char *path, int depth, bool follow, uint64_t *bytes, uint64_t *files)
{
	DIR *d = opendir(path);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char child[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    pitr_pgdata_excluded_name(de->d_name) ||
		    snprintf(child, sizeof(child), "%s/%s", path, de->d_name) >= (int)sizeof(child) ||
		    (follow ? stat(child, &st) : lstat(child, &st)) != 0)
			continue;
		/* Its header; a tablespace has two: pg_tblspc's link, and its
		 * tree's root stored apart. */
		*bytes += follow ? 2 * TAR_BLOCK : TAR_BLOCK;
		if (S_ISREG(st.st_mode)) {
			*bytes += ((uint64_t)st.st_size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
			(*files)++;
		} else if (S_ISDIR(st.st_mode) && !pitr_pgdata_excluded_contents(de->d_name, depth)) {
			estimate_dir(child, depth + 1, depth == 0 && strcmp(de->d_name, "pg_tblspc") == 0,
				     bytes, files);
		} else if (depth == 0 && strcmp(de->d_name, PITR_PGDATA_WAL_DIR) == 0) {
			*bytes += TAR_BLOCK;  /* the empty archive_status kept in it */
		}
	}
	closedir(d);
}

void
pitr_pgdata_estimate(const char *dir, uint64_t *tar_bytes, uint64_t *files)
{
	*tar_bytes = TAR_BLOCK;
	*files = 0;
	estimate_dir(dir, 0, false, tar_bytes, files);
	/* The end of the archive: two zero blocks (tarwrite.c pads no
	 * further). */
	*tar_bytes += 2 * TAR_BLOCK;
}
