/*
 * walhdr.c - decode and check the long page header that opens every WAL
 * segment, so that a file is known to be the segment its name claims before
 * it is archived or handed to a server (see walhdr.h).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

/*
 * XLOG_PAGE_MAGIC of each major version (src/include/access/
 * xlog_internal.h).  It changes whenever the WAL format does, which is at
 * least once per major release, so it also tells which server wrote a file.
 */
static const struct {
	uint16_t magic;
	const char *version;
} magics[] = {
	{ 0xD101, "12" },
	{ 0xD106, "13" },
	{ 0xD10D, "14" },
	{ 0xD110, "15" },
	{ 0xD113, "16" },
	{ 0xD116, "17" },
};

/* XLOG_BLCKSZ bounds as walhdr.h states them (--with-wal-blocksize). */
#define MIN_BLCKSZ 1024u
#define MAX_BLCKSZ 65536u  /* configure --with-wal-blocksize goes to 64 kB */

/* Little-endian field of `bytes` bytes at `p`, assembled byte by byte so
 * that neither host byte order nor alignment matters. */
static uint64_t
get_le(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int byte_idx = bytes - 1; byte_idx >= 0; byte_idx--)
		v = v << 8 | p[byte_idx];
	return v;
}

int
pitr_walhdr_decode(const void *buf, size_t len, struct pitr_walhdr *out)
{
	const unsigned char *p = buf;

	if (len < PITR_WALHDR_SIZE) {
		errno = EINVAL;
		return -1;
	}
	/* Offsets of XLogLongPageHeaderData; bytes 16-23 are xlp_rem_len and
	 * the padding that aligns xlp_sysid, neither of use here. */
	out->magic = (uint16_t)get_le(p + 0, 2);
	out->info = (uint16_t)get_le(p + 2, 2);
	out->tli = (uint32_t)get_le(p + 4, 4);
	out->pageaddr = get_le(p + 8, 8);
	out->sysid = get_le(p + 24, 8);
	out->seg_size = (uint32_t)get_le(p + 32, 4);
	out->blcksz = (uint32_t)get_le(p + 36, 4);
	return 0;
}

const char *
pitr_walhdr_version(uint16_t magic)
{
	for (size_t magic_idx = 0; magic_idx < sizeof(magics) / sizeof(magics[0]); magic_idx++)
		if (magics[magic_idx].magic == magic)
			return magics[magic_idx].version;
	return NULL;
}

/*
 * The checks run in the order that gives the most useful first message: a
 * wrong magic means the rest of the bytes mean nothing, and the page
 * address can only be computed once the segment size is known to be sane.
 */
int
pitr_walhdr_check(const struct pitr_walhdr *hdr, const struct pitr_wal_name *name,
		  const char *what)
{
	uint64_t expected;

	/* Only names with a segment position have a first page to check. */
	assert(name->kind == PITR_WAL_SEGMENT || name->kind == PITR_WAL_PARTIAL);

	if (pitr_walhdr_version(hdr->magic) == NULL) {
		pitr_log_error("\"%s\" is not a WAL segment of a known PostgreSQL version: "
			       "page magic 0x%04X", what, (unsigned)hdr->magic);
		return -1;
	}
	if ((hdr->info & PITR_WALHDR_XLP_LONG_HEADER) == 0) {
		pitr_log_error("\"%s\" does not start with a long page header", what);
		return -1;
	}
	if (!pitr_wal_segsize_valid(hdr->seg_size)) {
		pitr_log_error("\"%s\" has an invalid segment size in its header: %u bytes", what,
			       (unsigned)hdr->seg_size);
		return -1;
	}
	if (!pitr_wal_name_fits(name, hdr->seg_size)) {
		pitr_log_error("\"%s\" cannot exist with %u-byte segments: its number is out of range",
			       what, (unsigned)hdr->seg_size);
		return -1;
	}
	if (hdr->blcksz < MIN_BLCKSZ || hdr->blcksz > MAX_BLCKSZ ||
	    (hdr->blcksz & (hdr->blcksz - 1)) != 0) {
		pitr_log_error("\"%s\" has an invalid block size in its header: %u", what,
			       (unsigned)hdr->blcksz);
		return -1;
	}
	expected = pitr_wal_start_lsn(name, hdr->seg_size);
	if (hdr->pageaddr != expected) {
		pitr_log_error("\"%s\" has page address %X/%X but its name says %X/%X", what,
			       (unsigned)(hdr->pageaddr >> 32), (unsigned)(uint32_t)hdr->pageaddr,
			       (unsigned)(expected >> 32), (unsigned)(uint32_t)expected);
		return -1;
	}
	/*
	 * xlp_tli is the timeline of the first record on the page.  The first
	 * segment of a new timeline starts with a copy of the parent's segment,
	 * so an older timeline in the header is normal; a newer one is not.
	 */
	if (hdr->tli > name->tli) {
		pitr_log_error("\"%s\" has timeline %u in its header, after the %u of its name", what,
			       (unsigned)hdr->tli, (unsigned)name->tli);
		return -1;
	}
	return 0;
}

/*
 * The size comes from fstat() on the descriptor that is read, so the size
 * and the header describe the same file even if the path is renamed over
 * meanwhile.  The header is checked before the size: for a file that is not
 * WAL at all, "not a WAL segment" says more than a size mismatch.
 */
int
pitr_walhdr_read_file(const char *path, const struct pitr_wal_name *name,
		      struct pitr_walhdr *out)
{
	unsigned char buf[PITR_WALHDR_SIZE];
	struct pitr_walhdr hdr;
	struct stat st;
	ssize_t got;
	int fd = -1;
	int rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		/* Not reachable on a descriptor open() just returned: not
		 * covered. */
		pitr_log_error("could not stat \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if ((got = pitr_io_read_full(fd, buf, sizeof(buf))) < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		goto out;
	}
	if (got < PITR_WALHDR_SIZE) {
		pitr_log_error("\"%s\" is too short to be a WAL segment: %lld bytes", path,
			       (long long)got);
		goto out;
	}
	pitr_walhdr_decode(buf, sizeof(buf), &hdr);
	if (pitr_walhdr_check(&hdr, name, path) != 0)
		goto out;
	if (st.st_size != (off_t)hdr.seg_size) {
		pitr_log_error("\"%s\" is %lld bytes but its header says segments are %u bytes", path,
			       (long long)st.st_size, (unsigned)hdr.seg_size);
		goto out;
	}
	*out = hdr;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}
