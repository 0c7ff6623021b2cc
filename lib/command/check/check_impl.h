/*
 * check_impl.h - what the files of lib/command/check share.
 */
#ifndef PITR_CHECK_IMPL_H
#define PITR_CHECK_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "dest/dest.h"

/* Where a probe fetches remote copies and with which rsync. */
struct check_fetch {
	const char *dir;          /* this run's temporary directory */
	const char *rsync;        /* the program (pitr-check's --rsync-path, else "rsync") */
	int rsync_timeout;        /* seconds */
};

/*
 * Look for `wal` at `spec` (local or remote), under any codec's
 * extension, the spec's own first.  A remote copy is fetched with rsync
 * into fetch->dir/INDEX/.  Returns 1 with *path (malloc'd: the local copy
 * to read) and *codec set; 0 when it is not there (yet), with the reason
 * in `why` when the destination could not be asked ("" otherwise); -1
 * after logging a local error.
 */
int check_probe(const struct pitr_dest_spec *spec, size_t index, const char *wal,
		const struct check_fetch *fetch, char **path, enum pitr_codec *codec, char *why,
		size_t why_size);

#endif
