/*
 * ahead.c - the record a look-ahead worker leaves for the call PostgreSQL
 * makes later for the same segment (ahead.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/archive/ahead.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

#define AHEAD_HEADER "pitrkit look-ahead 1\n"
/* A few destinations' lines; anything far bigger is not ours. */
#define AHEAD_MAX (64 * 1024)

static char *
record_name(const char *wal_name)
{
	return pitr_xasprintf("%s%s", wal_name, PITR_AHEAD_SUFFIX);
}

/* The record's "source" line for `st`. */
static char *
source_line(const struct stat *st)
{
	return pitr_xasprintf("source %ju %jd %jd %ld\n", (uintmax_t)st->st_ino,
			      (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
			      (long)st->st_mtim.tv_nsec);
}

int
pitr_ahead_record(const char *state_dir, const char *wal_name, const struct stat *src,
		  const struct pitr_ahead_dest *dests, size_t n)
{
	char *name = record_name(wal_name);
	char *src_line = source_line(src);
	char *text = src_line ? pitr_xasprintf("%s%s", AHEAD_HEADER, src_line) : NULL;
	int rc = -1;

	for (size_t i = 0; text != NULL && i < n; i++) {
		char *more = pitr_xasprintf("%sdest %" PRId64 " %s\n", text, dests[i].size,
					    dests[i].key);

		free(text);
		text = more;
	}
	if (name != NULL && text != NULL)
		rc = pitr_fsutil_publish_buffer(state_dir, name, text, strlen(text), true, NULL);
	free(text);
	free(src_line);
	free(name);
	return rc;
}

/* Whether the local file of `spec` for `wal_name` is there at `size`. */
static bool
stored_at_size(const struct pitr_dest_spec *spec, const char *wal_name, int64_t size)
{
	const char *dir = pitr_dest_spec_dir(spec);
	char *path = dir ? pitr_xasprintf("%s/%s%s", dir, wal_name, pitr_codec_ext(spec->codec)) :
		NULL;
	struct stat st;
	bool yes = path != NULL && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		(int64_t)st.st_size == size;

	if (path != NULL && !yes)
		pitr_log_verbose("look-ahead record of \"%s\": \"%s\" is not there at %" PRId64
				 " bytes: delivered again", wal_name, path, size);
	free(path);
	return yes;
}

/* The spec whose key is `key`, or nspecs. */
static size_t
spec_by_key(const struct pitr_dest_spec *specs, size_t nspecs, const char *key)
{
	size_t i;

	for (i = 0; i < nspecs && strcmp(specs[i].key, key) != 0; i++)
		;
	return i;
}

/* Mark in held[] what the "dest" lines from `s` on prove. */
static size_t
check_dests(char *s, const char *wal_name, const struct pitr_dest_spec *specs, size_t nspecs,
	    bool *held)
{
	size_t count = 0;
	char *nl;

	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		char *end;
		int64_t size;
		size_t i;

		*nl = '\0';
		if (strncmp(s, "dest ", 5) != 0)
			continue;
		size = strtoll(s + 5, &end, 10);
		if (end == s + 5 || *end != ' ')
			continue;
		i = spec_by_key(specs, nspecs, end + 1);
		if (i == nspecs || held[i])
			continue;
		if (pitr_dest_spec_dir(&specs[i]) != NULL &&
		    !stored_at_size(&specs[i], wal_name, size))
			continue;
		held[i] = true;
		count++;
	}
	return count;
}

/* What `text` (the record) proves, given the segment is now `src`. */
static size_t
check_record(char *text, const char *wal_name, const struct stat *src,
	     const struct pitr_dest_spec *specs, size_t nspecs, bool *held)
{
	char *want = source_line(src);
	size_t hlen = strlen(AHEAD_HEADER);
	size_t count = 0;

	if (want == NULL)
		return 0;
	if (strncmp(text, AHEAD_HEADER, hlen) != 0 ||
	    strncmp(text + hlen, want, strlen(want)) != 0)
		pitr_log_verbose("look-ahead record of \"%s\" is not of this file: ignored", wal_name);
	else
		count = check_dests(text + hlen + strlen(want), wal_name, specs, nspecs, held);
	free(want);
	return count;
}

size_t
pitr_ahead_take(const char *state_dir, const char *wal_name, const struct stat *src,
		const struct pitr_dest_spec *specs, size_t nspecs, bool *held)
{
	char *name = record_name(wal_name);
	char *path = name ? pitr_fsutil_join(state_dir, name) : NULL;
	size_t len, count = 0;
	char *text = path ? pitr_fsutil_read_small(path, AHEAD_MAX, &len) : NULL;

	if (text != NULL) {
		count = check_record(text, wal_name, src, specs, nspecs, held);
		/* Consumed: a retry must not trust it again once the
		 * destinations may have changed.  The removal is not fsynced:
		 * should the record come back after a crash, it is checked
		 * again as it was now. */
		if (unlink(path) != 0 && errno != ENOENT)
			pitr_log_verbose("could not remove \"%s\": %s", path, strerror(errno));
	}
	free(text);
	free(path);
	free(name);
	return count;
}
