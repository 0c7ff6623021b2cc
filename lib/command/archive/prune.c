/*
 * prune.c - remove the state records of files that reached every
 * destination by other means (see pitr_archive_prune_state()).
 *
 * A record names the destinations that already hold its file, so that a
 * retry delivers only to the others.  It is removed when every run for
 * the file succeeds; one stays forever when no retry ever comes: the
 * operator copied the file and marked it done, the archive_command
 * changed, a run succeeded but could not remove it.  Such a record is
 * dropped only when the file is proven to be at every destination: each
 * one is either in the record, or a directory of this host that holds a
 * complete copy.  A remote or pipe destination missing from the record
 * cannot be checked cheaply, so the record stays: never drop a record for
 * a file that may still be missing somewhere.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command/archive/archive.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/archdir.h"
#include "repo/state.h"

/* Whether the local destination `spec` holds a complete copy of `wal`;
 * why not in `why`. */
static bool
local_has(const struct pitr_dest_spec *spec, const char *wal, const struct pitr_wal_name *name,
	  char *why, size_t why_size)
{
	char *path = pitr_xasprintf("%s/%s%s", spec->location, wal, pitr_codec_ext(spec->codec));
	struct pitr_walhdr hdr;
	struct stat st;
	bool has_hdr;
	int rc;

	if (path == NULL) {
		snprintf(why, why_size, "out of memory");
		return false;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "\"%s\" is missing", path);
		free(path);
		return false;
	}
	/* The reason goes into our own -v line, not into the log as an error. */
	pitr_log_hold(why, why_size);
	rc = pitr_archdir_check_copy(path, spec->codec, name, &hdr, &has_hdr);
	pitr_log_hold(NULL, 0);
	free(path);
	return rc == 0;
}

/* Whether every destination holds `wal`, by its record `st` or a local
 * copy; why not in `why`.  The destinations that cannot be checked come
 * first, so that a record they keep costs no read. */
static bool
everywhere(const struct pitr_state *st, const char *wal, const struct pitr_wal_name *name,
	   const struct pitr_dest_spec *specs, size_t nspecs, char *why, size_t why_size)
{
	for (size_t spec_idx = 0; spec_idx < nspecs; spec_idx++) {
		const struct pitr_dest_spec *spec = &specs[spec_idx];

		if (pitr_dest_spec_dir(spec) == NULL && !pitr_state_has(st, spec->key)) {
			snprintf(why, why_size, "%s is not recorded at \"%s\", which cannot be "
				 "checked from here", wal, spec->location);
			return false;
		}
	}
	for (size_t spec_idx = 0; spec_idx < nspecs; spec_idx++) {
		const struct pitr_dest_spec *spec = &specs[spec_idx];

		if (pitr_dest_spec_dir(spec) != NULL && !pitr_state_has(st, spec->key) &&
		    !local_has(spec, wal, name, why, why_size))
			return false;
	}
	return true;
}

/* Look at the record of `wal`: 1 when it was removed, else 0. */
static int
prune_one(const char *state_dir, const char *wal, const struct pitr_dest_spec *specs,
	  size_t nspecs)
{
	struct pitr_wal_name name;
	struct pitr_state *st;
	char why[512] = "";
	int removed = 0;

	if (pitr_wal_parse(wal, &name) == PITR_WAL_NONE)
		return 0;      /* not a record pitr-archive wrote */
	pitr_log_hold(why, sizeof(why));
	st = pitr_state_load(state_dir, wal);
	pitr_log_hold(NULL, 0);
	if (st == NULL) {
		pitr_log_verbose("kept state record of \"%s\": %s", wal, why);
		return 0;
	}
	if (!everywhere(st, wal, &name, specs, nspecs, why, sizeof(why))) {
		pitr_log_verbose("kept state record of \"%s\": %s", wal, why);
		goto out;
	}
	/* A state dir that cannot be written is the delivery's to report
	 * (report_state_failure()): here it only costs a record kept. */
	why[0] = '\0';
	pitr_log_hold(why, sizeof(why));
	removed = pitr_state_clear(st) == 0;
	pitr_log_hold(NULL, 0);
	if (removed)
		pitr_log_verbose("removed state record of \"%s\": every destination holds it", wal);
	else
		pitr_log_verbose("could not remove state record of \"%s\": %s", wal, why);
out:
	pitr_state_free(st);
	return removed;
}

int
pitr_archive_prune_state(const char *state_dir, const char *current,
			 const struct pitr_dest_spec *specs, size_t nspecs, size_t max)
{
	char **names, why[512] = "";
	size_t n;
	int removed = 0, rc;

	/* Not this run's failure: said with -v only. */
	pitr_log_hold(why, sizeof(why));
	rc = pitr_state_list(state_dir, current, max, &names, &n);
	pitr_log_hold(NULL, 0);
	if (rc != 0) {
		pitr_log_verbose("could not look for stale state records: %s", why);
		return -1;
	}
	for (size_t name_idx = 0; name_idx < n; name_idx++)
		removed += prune_one(state_dir, names[name_idx], specs, nspecs);
	pitr_state_names_free(names, n);
	return removed;
}
