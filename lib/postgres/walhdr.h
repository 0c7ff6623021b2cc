/*
 * walhdr.h - the long page header at the start of every WAL segment.
 *
 * XLogLongPageHeaderData, little-endian on every platform PostgreSQL
 * archives from that pitrkit targets: magic (u16, changes with every major
 * version), info (u16, XLP_LONG_HEADER set), timeline (u32), page address
 * (u64), remaining length (u32), 4 bytes padding, system identifier (u64),
 * segment size (u32), block size (u32): 40 bytes.
 */
#ifndef PITR_WALHDR_H
#define PITR_WALHDR_H

#include <stddef.h>
#include <stdint.h>

#include "postgres/wal.h"

#define PITR_WALHDR_SIZE 40
#define PITR_WALHDR_XLP_LONG_HEADER 0x0002

struct pitr_walhdr {
	uint16_t magic;
	uint16_t info;
	uint32_t tli;
	uint64_t pageaddr;
	uint64_t sysid;
	uint32_t seg_size;
	uint32_t blcksz;
};

/* Decode the first PITR_WALHDR_SIZE bytes of `buf` (len must be at least
 * that).  Pure decoding, no checks.  Returns 0, or -1 if len is short. */
int pitr_walhdr_decode(const void *buf, size_t len, struct pitr_walhdr *out);

/* The PostgreSQL major version ("15") whose WAL carries `magic`, or NULL
 * if pitrkit does not know it (12 to 17 are known). */
const char *pitr_walhdr_version(uint16_t magic);

/*
 * Check a decoded header against the segment's name: known magic, long
 * header flag, valid segment size that the name fits, block size a power of
 * two from 1 kB to 64 kB, page address equal to the segment's start, header
 * timeline not after the name's.  `what` names the file in the message.
 * Returns 0, or -1 after logging one error line naming `what` and the first
 * problem found.
 */
int pitr_walhdr_check(const struct pitr_walhdr *hdr, const struct pitr_wal_name *name,
		      const char *what);

/*
 * Read the header of the segment file at `path` and check it against
 * `name` and against the file's size, which must equal the header's segment
 * size.  Returns 0 with *out filled, or -1 after logging one error line.
 */
int pitr_walhdr_read_file(const char *path, const struct pitr_wal_name *name,
			  struct pitr_walhdr *out);

#endif
