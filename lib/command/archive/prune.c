/*
 * prune.c - remove the state records of files that reached every
 * destination by other means (see pitr_archive_prune_state()), and the
 * look-ahead records no call will take (pitr_archive_prune_ahead(), at
 * the end).
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

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "command/archive/ahead.h"
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

/* ---- look-ahead records (ahead.h) ----
 *
 * A record is taken by the call PostgreSQL makes for its segment, and
 * PostgreSQL makes one exactly while the segment's .ready file exists.
 * Without it, and once the record is older than the grace (a record is
 * written for a segment whose .ready was seen a moment before, and the
 * archiver renames .ready to .done only after the call that took it), the
 * record can only wait forever.  Removing one wrongly costs little: the
 * call for that segment would deliver it again and find the file already
 * at each destination with the same content.
 */

/* The WAL name of directory entry `file` when it is a look-ahead record
 * of a segment other than `current`, else NULL. */
static char *
ahead_wal_name(const char *file, const char *current)
{
	size_t len = strlen(file), slen = strlen(PITR_AHEAD_SUFFIX);
	char *wal;

	if (len <= slen || strcmp(file + len - slen, PITR_AHEAD_SUFFIX) != 0)
		return NULL;
	if ((wal = pitr_xstrndup(file, len - slen)) == NULL)
		return NULL;
	if (pitr_wal_parse(wal, NULL) != PITR_WAL_SEGMENT || strcmp(wal, current) == 0) {
		free(wal);
		return NULL;
	}
	return wal;
}

/* Whether the record `file` of `wal` (in the dir `state_fd`) is stale:
 * old enough, and no .ready for its segment in `status_fd`. */
static bool
ahead_stale(int state_fd, int status_fd, const char *file, const char *wal, time_t now)
{
	struct stat st;
	char *ready = pitr_xasprintf("%s.ready", wal);
	bool stale;

	if (ready == NULL || fstatat(state_fd, file, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_mtim.tv_sec > now - PITR_AHEAD_GRACE_SEC) {
		free(ready);
		return false;
	}
	stale = faccessat(status_fd, ready, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
	free(ready);
	return stale;
}

/* Remove `file` when stale: 1 when it was, else 0. */
static size_t
prune_ahead_one(int state_fd, int status_fd, const char *file, const char *current, time_t now)
{
	char *wal = ahead_wal_name(file, current);
	size_t removed = 0;

	if (wal != NULL && ahead_stale(state_fd, status_fd, file, wal, now)) {
		if (unlinkat(state_fd, file, 0) == 0) {
			pitr_log_verbose("removed look-ahead record of \"%s\": PostgreSQL will not "
					 "ask for it (no .ready file)", wal);
			removed = 1;
		} else {
			pitr_log_verbose("could not remove look-ahead record of \"%s\": %s", wal,
					 strerror(errno));
		}
	}
	free(wal);
	return removed;
}

size_t
pitr_archive_prune_ahead(const char *state_dir, const char *data_dir, const char *current,
			 size_t max)
{
	char *status = pitr_xasprintf("%s/pg_wal/archive_status", data_dir);
	/* No status dir to look in: no record can be proven stale. */
	int status_fd = status ? open(status, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	DIR *d = status_fd >= 0 ? opendir(state_dir) : NULL;
	struct dirent *de;
	size_t removed = 0, scanned = 0;
	time_t now = time(NULL);

	while (d != NULL && removed < max && scanned++ < PITR_STATE_SCAN_MAX &&
	       (de = readdir(d)) != NULL)
		removed += prune_ahead_one(dirfd(d), status_fd, de->d_name, current, now);
	if (d != NULL)
		closedir(d);
	if (status_fd >= 0)
		close(status_fd);
	free(status);
	return removed;
}
