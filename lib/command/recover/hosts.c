/*
 * hosts.c - pitr-recover over several hosts' directories: the chosen
 * backup's own dir, the dirs named in messages, and the proof that every
 * archive is of the backup's cluster (see recover_impl.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "command/recover/recover_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/catalog.h"

const char *
recover_backup_dir(const struct recover_run *run)
{
	return run->cat.backup_dirs[run->b->dir];
}

char *
recover_dirs_text(const char *const *specs, size_t n, bool strip)
{
	char *out = pitr_xstrdup("");

	for (size_t i = 0; out != NULL && i < n; i++) {
		char *more = pitr_xasprintf("%s%s%s", out, i > 0 ? "\", \"" : "",
					    strip ? pitr_catalog_dir(specs[i]) : specs[i]);

		free(out);
		out = more;
	}
	return out;
}

/* WAL of another cluster would stop replay half way, or worse: two hosts'
 * archives are compared before anything is written. */
int
recover_choose_check_systems(struct recover_run *run)
{
	const struct pitr_catalog_backup *b = run->b;

	for (size_t i = 0; i < run->cat.narchive_dirs; i++) {
		uint64_t sysid;
		int r = pitr_catalog_archive_sysid(&run->cat, i, &sysid);

		if (r < 0)
			return -1;
		if (r == 0 && sysid != b->sysid) {
			pitr_log_error("archive \"%s\" holds WAL of database system %" PRIu64 ", backup "
				       "\"%s\" is of system %" PRIu64 ": nothing written",
				       run->cat.archive_dirs[i], sysid, b->name, b->sysid);
			return -1;
		}
	}
	return 0;
}
