/*
 * check_impl.h - what the files of lib/command/check share.
 */
#ifndef PITR_CHECK_IMPL_H
#define PITR_CHECK_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "dest/dest.h"

/* Where a probe fetches remote copies, with which rsync and which store. */
struct check_fetch {
	const char *dir;          /* this run's temporary directory */
	const char *rsync;        /* the program (pitr-check's --rsync-path, else "rsync") */
	int rsync_timeout;        /* seconds */
	struct pitr_dest_env s3_env; /* .s3: the store of s3 destinations; .s3_session:
				      * the run's credentials and clients */
};

/*
 * Look for `wal` at `spec` (local or remote), under any codec's
 * extension, the spec's own first.  A remote copy is fetched with rsync
 * (an object with a GET, s3.c) into fetch->dir/INDEX/, under its name.
 * Returns 1 with *path (malloc'd: the local copy to read) and *codec set;
 * 0 when it is not there (yet), with the reason in `why` when the
 * destination could not be asked ("" otherwise); -1 after logging a local
 * error (for s3, any error).
 */
int check_probe(const struct pitr_dest_spec *spec, size_t index, const char *wal,
		const struct check_fetch *fetch, char **path, enum pitr_codec *codec, char *why,
		size_t why_size);

/* --- s3 destinations (s3.c) -------------------------------------------- */

/* The client of s3 destination `spec` made before the WAL switch: missing
 * credentials or a bad endpoint fail the check at once.  0, or -1 after
 * logging. */
int check_s3_open(const struct pitr_dest_spec *spec, const struct check_fetch *fetch);

/* check_probe() for an s3 destination: one listing finds the object
 * (s3arch.h), a GET copies it into fetch->dir/INDEX/.  An error of the
 * store (a missing bucket, a refusal) is -1, logged: it does not go away
 * by waiting, and the client has retried what S3 says may. */
int check_probe_s3(const struct pitr_dest_spec *spec, size_t index, const char *wal,
		   const struct check_fetch *fetch, char **path, enum pitr_codec *codec);

#endif
