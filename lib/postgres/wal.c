/*
 * wal.c - parse, format, order and step the names of the files PostgreSQL
 * archives, for any segment size (see wal.h).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "postgres/wal.h"

/* Lengths of the fixed parts of the names (IsXLogFileName() and friends in
 * PostgreSQL's xlog_internal.h). */
#define TLI_LEN 8
#define OFFSET_LEN 8
#define PARTIAL_SUFFIX ".partial"
#define HISTORY_SUFFIX ".history"
#define BACKUP_SUFFIX ".backup"

/*
 * Decode `len` upper-case hex digits at `s` into *out.  Lower case is
 * refused on purpose: PostgreSQL only ever writes "%08X", and accepting
 * "0000000a..." would let two spellings of one segment coexist in an
 * archive.  Returns false at the first character that is not [0-9A-F].
 */
static bool
parse_hex(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t pos = 0; pos < len; pos++) {
		char c = s[pos];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

/*
 * Parse the 24-digit segment name at the start of `s` (which must hold at
 * least PITR_WAL_SEGNAME_LEN characters) into tli/log/seg of `n`.
 */
static bool
parse_segname(const char *s, struct pitr_wal_name *n)
{
	return parse_hex(s, TLI_LEN, &n->tli) && parse_hex(s + 8, 8, &n->log) &&
	       parse_hex(s + 16, 8, &n->seg);
}

enum pitr_wal_kind
pitr_wal_parse(const char *name, struct pitr_wal_name *out)
{
	struct pitr_wal_name n;
	size_t len = strlen(name);

	memset(&n, 0, sizeof(n));
	if (len == PITR_WAL_SEGNAME_LEN) {
		if (parse_segname(name, &n))
			n.kind = PITR_WAL_SEGMENT;
	} else if (len == PITR_WAL_SEGNAME_LEN + strlen(PARTIAL_SUFFIX)) {
		if (strcmp(name + PITR_WAL_SEGNAME_LEN, PARTIAL_SUFFIX) == 0 &&
		    parse_segname(name, &n))
			n.kind = PITR_WAL_PARTIAL;
	} else if (len == TLI_LEN + strlen(HISTORY_SUFFIX)) {
		if (strcmp(name + TLI_LEN, HISTORY_SUFFIX) == 0 && parse_hex(name, TLI_LEN, &n.tli))
			n.kind = PITR_WAL_HISTORY;
	} else if (len == PITR_WAL_SEGNAME_LEN + 1 + OFFSET_LEN + strlen(BACKUP_SUFFIX)) {
		const char *dot = name + PITR_WAL_SEGNAME_LEN;

		if (dot[0] == '.' && strcmp(dot + 1 + OFFSET_LEN, BACKUP_SUFFIX) == 0 &&
		    parse_segname(name, &n) && parse_hex(dot + 1, OFFSET_LEN, &n.offset))
			n.kind = PITR_WAL_BACKUP;
	}
	/* Timelines start at 1 (PostgreSQL's first TimeLineID): a name on
	 * timeline 0 was never written by a server. */
	if (n.kind != PITR_WAL_NONE && n.tli == 0)
		n.kind = PITR_WAL_NONE;
	if (n.kind == PITR_WAL_NONE)
		memset(&n, 0, sizeof(n));
	if (out != NULL)
		*out = n;
	return n.kind;
}

const char *
pitr_wal_kind_name(enum pitr_wal_kind kind)
{
	switch (kind) {
	case PITR_WAL_SEGMENT:
		return "segment";
	case PITR_WAL_PARTIAL:
		return "partial segment";
	case PITR_WAL_HISTORY:
		return "timeline history file";
	case PITR_WAL_BACKUP:
		return "backup history file";
	case PITR_WAL_NONE:
		break;
	}
	return "not a WAL file";
}

bool
pitr_wal_segsize_valid(uint64_t size)
{
	return size >= PITR_WAL_MIN_SEGSIZE && size <= PITR_WAL_MAX_SEGSIZE &&
	       (size & (size - 1)) == 0;
}

uint64_t
pitr_wal_segs_per_id(uint32_t segsize)
{
	assert(pitr_wal_segsize_valid(segsize));
	return UINT64_C(0x100000000) / segsize;
}

/* True for the kinds whose name carries a segment position. */
static bool
has_position(enum pitr_wal_kind kind)
{
	return kind == PITR_WAL_SEGMENT || kind == PITR_WAL_PARTIAL || kind == PITR_WAL_BACKUP;
}

bool
pitr_wal_name_fits(const struct pitr_wal_name *name, uint32_t segsize)
{
	if (name->kind == PITR_WAL_HISTORY)
		return true;
	/* PITR_WAL_NONE is no name at all, so it cannot exist anywhere. */
	if (!has_position(name->kind))
		return false;
	return name->seg < pitr_wal_segs_per_id(segsize);
}

uint64_t
pitr_wal_segno(const struct pitr_wal_name *name, uint32_t segsize)
{
	return (uint64_t)name->log * pitr_wal_segs_per_id(segsize) + name->seg;
}

uint64_t
pitr_wal_start_lsn(const struct pitr_wal_name *name, uint32_t segsize)
{
	return pitr_wal_segno(name, segsize) * segsize;
}

uint64_t
pitr_wal_prev_segno(uint64_t lsn, uint32_t segsize)
{
	return lsn == 0 ? 0 : (lsn - 1) / segsize;
}

/* Order of the kinds that share one position: the segment itself first,
 * then what PostgreSQL derives from it.  Only for has_position() kinds. */
static int
kind_rank(enum pitr_wal_kind kind)
{
	return kind == PITR_WAL_SEGMENT ? 0 : kind == PITR_WAL_PARTIAL ? 1 : 2;
}

/* -1, 0 or 1 for a < b, a == b, a > b. */
static int
cmp_u32(uint32_t a, uint32_t b)
{
	return (a > b) - (a < b);
}

int
pitr_wal_cmp_position(const struct pitr_wal_name *a, const struct pitr_wal_name *b)
{
	bool a_pos = has_position(a->kind);
	bool b_pos = has_position(b->kind);
	int cmp;

	if (!a_pos || !b_pos)
		return (int)a_pos - (int)b_pos;
	if ((cmp = cmp_u32(a->log, b->log)) != 0)
		return cmp;
	if ((cmp = cmp_u32(a->seg, b->seg)) != 0)
		return cmp;
	if ((cmp = kind_rank(a->kind) - kind_rank(b->kind)) != 0)
		return cmp;
	if (a->kind == PITR_WAL_BACKUP)
		return cmp_u32(a->offset, b->offset);
	return 0;
}

void
pitr_wal_format_segment(char *out, uint32_t tli, uint64_t segno, uint32_t segsize)
{
	uint64_t per_id = pitr_wal_segs_per_id(segsize);

	snprintf(out, PITR_WAL_SEGNAME_LEN + 1, "%08X%08X%08X", (unsigned)tli,
		 (unsigned)(uint32_t)(segno / per_id), (unsigned)(uint32_t)(segno % per_id));
}

void
pitr_wal_format(char *out, const struct pitr_wal_name *name)
{
	unsigned tli = name->tli, log = name->log, seg = name->seg;

	switch (name->kind) {
	case PITR_WAL_SEGMENT:
		snprintf(out, PITR_WAL_NAME_MAX, "%08X%08X%08X", tli, log, seg);
		break;
	case PITR_WAL_PARTIAL:
		snprintf(out, PITR_WAL_NAME_MAX, "%08X%08X%08X" PARTIAL_SUFFIX, tli, log, seg);
		break;
	case PITR_WAL_HISTORY:
		snprintf(out, PITR_WAL_NAME_MAX, "%08X" HISTORY_SUFFIX, tli);
		break;
	case PITR_WAL_BACKUP:
		snprintf(out, PITR_WAL_NAME_MAX, "%08X%08X%08X.%08X" BACKUP_SUFFIX, tli, log, seg,
			 (unsigned)name->offset);
		break;
	case PITR_WAL_NONE:
		/* Nothing to name: an empty string rather than garbage. */
		out[0] = '\0';
		break;
	}
}

/*
 * Stepping only makes sense for a plain segment whose name exists with this
 * segment size; anything else is reported as ERANGE like running off either
 * end.  These are pure computations, so they set errno and let the caller,
 * who knows why it was stepping, decide whether that is worth a log line.
 */
int
pitr_wal_next(struct pitr_wal_name *name, uint32_t segsize)
{
	uint64_t per_id = pitr_wal_segs_per_id(segsize);

	if (name->kind != PITR_WAL_SEGMENT || name->seg >= per_id)
		goto range;
	if (name->seg + 1 < per_id) {
		name->seg++;
		return 0;
	}
	if (name->log == UINT32_MAX)
		goto range;
	name->log++;
	name->seg = 0;
	return 0;
range:
	errno = ERANGE;
	return -1;
}

int
pitr_wal_prev(struct pitr_wal_name *name, uint32_t segsize)
{
	uint64_t per_id = pitr_wal_segs_per_id(segsize);

	if (name->kind != PITR_WAL_SEGMENT || name->seg >= per_id)
		goto range;
	if (name->seg > 0) {
		name->seg--;
		return 0;
	}
	if (name->log == 0)
		goto range;
	name->log--;
	name->seg = (uint32_t)(per_id - 1);
	return 0;
range:
	errno = ERANGE;
	return -1;
}
