/*
 * s3journal.h - the multipart uploads a run has begun, recorded on its
 * host, so that the next run to the same location aborts those a killed
 * run left at once rather than days later (dest.h's
 * PITR_DEST_S3_PENDING_MIN_AGE, which stays for other hosts' uploads and
 * for pitr-backup-cleanup).
 *
 * Before an upload begins, its writer creates a journal in the run's temp
 * dir, .pitr-s3upload.XXXXXX: a tmpfile.h record, locked while the run
 * lives, never removed by a sweep of temporary files nor by the fatal
 * signal handler (which cannot make a request: a SIGTERM leaves the upload
 * to the next run, as a SIGKILL does).  It names this host, the store's
 * endpoint, the location and the key; the upload id follows, fsynced, as
 * soon as the store gives it.  The journal goes when the upload completes
 * or is aborted, and stays (unlocked) when an abort fails.
 *
 * Its text, one record per line (keys and ids hold no newline):
 *   pitrkit s3 upload journal 1
 *   host HOSTNAME
 *   endpoint URL          ("-": the default, AWS's)
 *   location s3://BUCKET/PREFIX/
 *   key KEY
 *   upload ID             (once the store gave it)
 */
#ifndef PITR_DEST_S3JOURNAL_H
#define PITR_DEST_S3JOURNAL_H

#include <stdbool.h>

#include "common/tmpfile.h"
#include "s3/s3.h"

#define PITR_S3JOURNAL_PREFIX ".pitr-s3upload."

/* Create the journal of an upload of `key` under `location` (as a spec
 * spells it) in `temp_dir` (NULL: $TMPDIR or /tmp), on the store at
 * `endpoint` (NULL: the default).  0, or -1 after logging. */
int pitr_s3journal_begin(struct pitr_tmp *j, const char *temp_dir, const char *endpoint,
			 const char *location, const char *key);

/* Record the upload's id, durably.  0, or -1 after logging. */
int pitr_s3journal_upload(struct pitr_tmp *j, const char *upload_id);

/* The upload is over: completed or aborted (`gone`: the journal goes), or
 * still pending after a failed abort (it stays for the next run).  A
 * zeroed or ended journal is accepted. */
void pitr_s3journal_end(struct pitr_tmp *j, bool gone);

/*
 * Abort the uploads of the journals in `temp_dir` that no live run holds
 * and that are this host's, of `endpoint` and of `location`, through
 * `s3` (that location's client), and remove those journals; a journal
 * without an upload id (its run died before the store answered) only
 * goes.  Others are left to the runs they are for.  Returns the number of
 * uploads aborted (already gone counts: killed runs' in any case), or -1
 * when one could not be (logged; its journal stays).
 */
int pitr_s3journal_sweep(const char *temp_dir, const char *endpoint, const char *location,
			 struct pitr_s3 *s3);

#endif
