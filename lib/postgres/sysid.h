/*
 * sysid.h - one cluster per archive: the system identifier record.
 *
 * The first segment archived into a local destination records its
 * cluster's system identifier there, in `.pitrkit-system-identifier` (a
 * name no WAL reader takes for WAL); later segments from another cluster
 * are refused, so two clusters archiving to one directory by mistake
 * cannot silently mix their WAL.  An s3 destination holds the record as
 * the object PREFIX.pitrkit-system-identifier, with the same text.
 */
#ifndef PITR_SYSID_H
#define PITR_SYSID_H

#include <stdint.h>

#define PITR_SYSID_FILE ".pitrkit-system-identifier"

/*
 * Check `sysid` against the record in `dir`, writing the record durably
 * if there is none yet.  Returns 0 when they match (or the record was just
 * made), or -1 after logging: a different identifier (both named), or an
 * unreadable / malformed record.
 */
int pitr_sysid_check_or_record(const char *dir, uint64_t sysid);

/*
 * The same for the archive at `prefix` of the store `s3` reaches: the
 * record object read, or put if there is none (If-None-Match: *: a
 * record another archiver puts meanwhile is read and judged).
 */
struct pitr_s3;
int pitr_sysid_check_or_record_s3(struct pitr_s3 *s3, const char *prefix, uint64_t sysid);

/* Read the record: 0 with *out set, 1 when there is none, -1 (logged) on a
 * malformed or unreadable record. */
int pitr_sysid_read(const char *dir, uint64_t *out);

/* The same for the record object of the archive at `prefix` (pitr-restore's
 * s3:// sources). */
int pitr_sysid_read_s3(struct pitr_s3 *s3, const char *prefix, uint64_t *out);

#endif
