/*
 * pgdata.c - the base backup exclusions (PostgreSQL 15's basebackup.c).
 */
#include "config.h"

#include <string.h>

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
