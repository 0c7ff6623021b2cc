/*
 * wal.h - names of the files PostgreSQL archives, and their ordering.
 *
 * Kinds: segments (TTTTTTTTXXXXXXXXYYYYYYYY), partial segments
 * (segment name + ".partial"), timeline history files (TTTTTTTT.history)
 * and backup history files (segment name + ".OOOOOOOO.backup").
 *
 * The segment size is fixed at initdb (1 MiB to 1 GiB, a power of two), so
 * the last eight hex digits of a segment name run up to
 * 0x100000000 / size - 1, not always 0xFF: nothing here assumes 16 MiB.
 */
#ifndef PITR_WAL_H
#define PITR_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PITR_WAL_SEGNAME_LEN 24          /* hex digits of a segment name */
#define PITR_WAL_NAME_MAX 64             /* room for any archived name + NUL */
#define PITR_WAL_MIN_SEGSIZE (1u << 20)
#define PITR_WAL_MAX_SEGSIZE (1u << 30)
#define PITR_WAL_DEFAULT_SEGSIZE (16u << 20)

enum pitr_wal_kind {
	PITR_WAL_NONE = 0,      /* not a name PostgreSQL archives */
	PITR_WAL_SEGMENT,
	PITR_WAL_PARTIAL,
	PITR_WAL_HISTORY,
	PITR_WAL_BACKUP,
};

struct pitr_wal_name {
	enum pitr_wal_kind kind;
	uint32_t tli;
	uint32_t log;       /* the middle eight digits ("xlogid") */
	uint32_t seg;       /* the last eight digits */
	uint32_t offset;    /* .backup only: the start offset in the segment */
};

/*
 * Parse a bare file name (no directory, no codec extension).  Hex digits
 * must be upper case, as PostgreSQL writes them.  Returns the kind and fills
 * `out` (which may be NULL); PITR_WAL_NONE for anything else.
 */
enum pitr_wal_kind pitr_wal_parse(const char *name, struct pitr_wal_name *out);

/* The kind's human name: "segment", "partial segment", "timeline history
 * file", "backup history file", or "not a WAL file". */
const char *pitr_wal_kind_name(enum pitr_wal_kind kind);

/* True if `size` is a power of two from 1 MiB to 1 GiB. */
bool pitr_wal_segsize_valid(uint64_t size);

/* Segments per xlogid: 0x100000000 / segsize.  segsize must be valid. */
uint64_t pitr_wal_segs_per_id(uint32_t segsize);

/* True if the name's last eight digits are below pitr_wal_segs_per_id(),
 * i.e. the name can exist in a cluster with that segment size.  Names that
 * are not segments (.history) are always valid. */
bool pitr_wal_name_fits(const struct pitr_wal_name *name, uint32_t segsize);

/* The segment number (log * segs_per_id + seg). */
uint64_t pitr_wal_segno(const struct pitr_wal_name *name, uint32_t segsize);

/* The byte position where the segment starts (segno * segsize): what its
 * first page header's address must be. */
uint64_t pitr_wal_start_lsn(const struct pitr_wal_name *name, uint32_t segsize);

/* The number of the segment holding the byte just before `lsn`
 * (PostgreSQL's XLByteToPrevSeg): the last segment WAL ending at `lsn`
 * needs.  A backup's stop LSN on a segment boundary needs the segment
 * before the boundary, not the next one, which may not exist yet.  0 for
 * an `lsn` of 0. */
uint64_t pitr_wal_prev_segno(uint64_t lsn, uint32_t segsize);

/*
 * Order two names by the 16 hex digits after the timeline, ignoring the
 * timeline, as pg_archivecleanup does: a parent timeline's segments that a
 * standby on the child timeline still needs are not "older" because of
 * their smaller timeline.  For equal positions .backup/.partial sort by
 * kind after the plain segment.  Returns <0, 0 or >0.  .history files have
 * no position and compare equal to each other and below every segment.
 */
int pitr_wal_cmp_position(const struct pitr_wal_name *a, const struct pitr_wal_name *b);

/* Write the 24-digit segment name of (tli, segno) into `out` (at least 25
 * bytes). */
void pitr_wal_format_segment(char *out, uint32_t tli, uint64_t segno, uint32_t segsize);

/* Format any parsed name back to its file name (out: PITR_WAL_NAME_MAX). */
void pitr_wal_format(char *out, const struct pitr_wal_name *name);

/* Step a segment name to the next/previous segment, carrying across the
 * xlogid boundary for this segment size.  Returns 0, or -1 (errno ERANGE)
 * when there is no previous/next segment or the name is not a segment. */
int pitr_wal_next(struct pitr_wal_name *name, uint32_t segsize);
int pitr_wal_prev(struct pitr_wal_name *name, uint32_t segsize);

#endif
