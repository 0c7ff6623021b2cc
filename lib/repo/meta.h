/*
 * meta.h - the backup meta file, written and read here only.
 *
 * pitr-backup-master writes it last, so that its presence marks a complete
 * backup; pitr-info, pitr-verify, pitr-recover and pitr-backup-cleanup
 * learn a backup's facts from it (through the catalog).  It is text,
 * "key=value" lines, each ending in "\n", in the order of PITR_META_KEYS:
 *
 *   start_wal, stop_wal      the first and last segment of the backup (the
 *                            last holds stop_lsn: on a segment boundary the
 *                            one starting there, or, in backups before
 *                            issue 9, the one before)
 *   start_lsn, stop_lsn      "X/X", as pg_backup_start/stop returned them
 *   start_time, stop_time    "YYYY-MM-DD HH:MM:SS +ZZZZ", local with offset
 *   start_epoch, stop_epoch  the same instants in seconds since 1970
 *   host, label              the host that took it, the backup's label
 *   system_identifier        the cluster's, in decimal
 *   timeline                 the timeline of start_wal
 *   wal_segment_size         the cluster's, in bytes
 *   data_dir                 the data directory it was taken from
 *   data_size, xlog_size     tar bytes before compression (0: no xlog
 *                            tarball, --skip-xlogs)
 *   codec                    the destinations' codecs, comma-separated
 *   digests                  the digest files' algorithms, comma-separated
 *   pg_version               the server's major version, as its data dir's
 *                            PG_VERSION file says ("15")
 *   source                   "primary" (pitr-backup-master) or "standby"
 *                            (pitr-backup-slave); another value (a later
 *                            version's) is read as written
 *   base                     an incremental backup's base: the label of
 *                            the backup its deltas apply to; empty for a
 *                            full backup
 *   chain                    an incremental backup's chain: the labels of
 *                            every backup recovery applies before it, the
 *                            full one first, joined by "|"; empty for a
 *                            full backup
 *
 * Metas written before the epochs, wal_segment_size, digests, pg_version
 * and source existed are read too (the last two are then NULL: unknown).  Unknown keys are ignored, so later versions may add some.
 */
#ifndef PITR_META_H
#define PITR_META_H

#include <stdbool.h>
#include <stddef.h>

#include "repo/catalog.h"

#define PITR_META_KEYS                                                             \
	"start_wal stop_wal start_lsn stop_lsn start_time stop_time start_epoch "  \
	"stop_epoch host label system_identifier timeline wal_segment_size "       \
	"data_dir data_size xlog_size codec digests pg_version source base chain"

/* A meta file is a few hundred bytes; a file larger than this is not one
 * (a data tarball whose name happens to contain "meta"), and readers stop
 * there. */
#define PITR_META_MAX (64 * 1024)

/* Whether `text` is meant as a meta file (it starts as every one does),
 * as opposed to another file with "meta" in its name. */
bool pitr_meta_detect(const char *text);

/*
 * Parse meta file text into the meta fields of *b: start_wal to digests'
 * algorithms, `codecs` for the codec line (fields name/meta_file/data_file
 * /xlog_file/codec/digests' files are not touched: they come from the
 * directory).  Required: start_wal stop_wal start_lsn stop_lsn start_time
 * stop_time timeline; the epochs default to the times, wal_segment_size to
 * 0 (unknown); the keys must agree (timeline and start_wal, positions,
 * LSNs inside their segments when the size is known).  `what` names the
 * file in the message ("WHAT: reason").  Returns 0; -1 with a one-line
 * reason in `err` (size errsize), nothing logged; or -2 after logging an
 * allocation failure (common/xalloc).  On failure nothing is left
 * allocated in *b.  Release what it allocated with pitr_meta_clear().
 */
int pitr_meta_parse(const char *text, const char *what, struct pitr_catalog_backup *b,
		    char *err, size_t errsize);

/*
 * The meta file text of *b, every key in PITR_META_KEYS order, as
 * pitr_meta_parse reads it back: start_wal, stop_wal, start_time,
 * stop_time, host, label, data_dir, codecs, the digests' algorithms,
 * pg_version and source are written as they are (NULL as empty; none may
 * hold a newline), LSNs as PostgreSQL prints them, numbers in decimal.  Returns the text
 * (malloc'd, the caller frees), or NULL after logging an allocation
 * failure.
 */
char *pitr_meta_format(const struct pitr_catalog_backup *b);

/* Free what pitr_meta_parse allocated in *b (and the digests' file names)
 * and set those fields to NULL; harmless on a zeroed backup. */
void pitr_meta_clear(struct pitr_catalog_backup *b);

#endif
