/*
 * check_walhdr.c - unit tests for lib/postgres/walhdr.c: decoding the long page
 * header and every way a segment's header can disagree with its name.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

#define MIB (1u << 20)
#define GIB (1u << 30)
#define SYSID UINT64_C(7301234567890123456)

/* Byte offsets of the long header's fields. */
#define OFF_MAGIC 0
#define OFF_INFO 2
#define OFF_TLI 4
#define OFF_PAGEADDR 8
#define OFF_SYSID 24
#define OFF_SEGSIZE 32
#define OFF_BLCKSZ 36

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

static void
put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int byte_idx = 0; byte_idx < bytes; byte_idx++)
		p[byte_idx] = (unsigned char)(v >> (8 * byte_idx));
}

/*
 * The first PITR_WALHDR_SIZE bytes of a real test segment (built at 1 MiB to
 * keep memory small) rewritten for `segsize`, so that every segment size can
 * be checked without allocating a gigabyte.
 */
static void
header_bytes(unsigned char *out, uint32_t segsize, uint32_t tli, uint64_t segno)
{
	unsigned char *seg = h_make_segment(MIB, tli, segno, SYSID, 1);

	memcpy(out, seg, PITR_WALHDR_SIZE);
	free(seg);
	put_le(out + OFF_PAGEADDR, segno * segsize, 8);
	put_le(out + OFF_SEGSIZE, segsize, 4);
}

static struct pitr_walhdr
decode(const unsigned char *bytes)
{
	struct pitr_walhdr hdr;

	ck_assert_int_eq(pitr_walhdr_decode(bytes, PITR_WALHDR_SIZE, &hdr), 0);
	return hdr;
}

static struct pitr_wal_name
name_of(const char *s)
{
	struct pitr_wal_name n;

	ck_assert_msg(pitr_wal_parse(s, &n) != PITR_WAL_NONE, "parse \"%s\"", s);
	return n;
}

/*
 * Check the header of segment `segno` at `segsize` against the name
 * `name`; expect `want` ("" for success, else the exact ERROR line's
 * message).  `corrupt` may change the bytes first.
 */
static void
check_case(uint32_t segsize, uint32_t tli, uint64_t segno, const char *name,
	   void (*corrupt)(unsigned char *), const char *what, const char *want)
{
	unsigned char bytes[PITR_WALHDR_SIZE];
	struct pitr_walhdr hdr;
	struct pitr_wal_name n = name_of(name);
	char line[512];

	header_bytes(bytes, segsize, tli, segno);
	if (corrupt != NULL)
		corrupt(bytes);
	hdr = decode(bytes);
	h_log_reset();
	if (*want == '\0') {
		ck_assert_int_eq(pitr_walhdr_check(&hdr, &n, what), 0);
		ck_assert_str_eq(h_log(), "");
		return;
	}
	ck_assert_int_eq(pitr_walhdr_check(&hdr, &n, what), -1);
	snprintf(line, sizeof(line), "ERROR : %s\n", want);
	ck_assert_str_eq(h_log(), line);
}

START_TEST(test_decode_segment)
{
	unsigned char *seg = h_make_segment(16 * MIB, 3, 0x1FF, SYSID, 9);
	struct pitr_walhdr hdr;

	memset(&hdr, 0xAA, sizeof(hdr));
	ck_assert_int_eq(pitr_walhdr_decode(seg, 16 * MIB, &hdr), 0);
	ck_assert_uint_eq(hdr.magic, 0xD110);
	ck_assert_uint_eq(hdr.info, PITR_WALHDR_XLP_LONG_HEADER);
	ck_assert_uint_eq(hdr.tli, 3);
	ck_assert_uint_eq(hdr.pageaddr, UINT64_C(0x1FF000000));
	ck_assert_uint_eq(hdr.sysid, SYSID);
	ck_assert_uint_eq(hdr.seg_size, 16 * MIB);
	ck_assert_uint_eq(hdr.blcksz, 8192);
	free(seg);
}
END_TEST

/* Every byte distinct, at an odd address: catches a wrong offset, a wrong
 * byte order and any reliance on alignment. */
START_TEST(test_decode_layout)
{
	unsigned char raw[PITR_WALHDR_SIZE + 1];
	struct pitr_walhdr hdr;

	for (size_t pos = 0; pos < sizeof(raw) - 1; pos++)
		raw[pos + 1] = (unsigned char)(0x80 + pos);
	ck_assert_int_eq(pitr_walhdr_decode(raw + 1, PITR_WALHDR_SIZE, &hdr), 0);
	ck_assert_uint_eq(hdr.magic, 0x8180);
	ck_assert_uint_eq(hdr.info, 0x8382);
	ck_assert_uint_eq(hdr.tli, 0x87868584);
	ck_assert_uint_eq(hdr.pageaddr, UINT64_C(0x8F8E8D8C8B8A8988));
	ck_assert_uint_eq(hdr.sysid, UINT64_C(0x9F9E9D9C9B9A9998));
	ck_assert_uint_eq(hdr.seg_size, 0xA3A2A1A0);
	ck_assert_uint_eq(hdr.blcksz, 0xA7A6A5A4);
}
END_TEST

START_TEST(test_decode_short)
{
	unsigned char raw[PITR_WALHDR_SIZE] = { 0 };
	struct pitr_walhdr hdr, before;

	memset(&hdr, 0x5A, sizeof(hdr));
	before = hdr;
	errno = 0;
	ck_assert_int_eq(pitr_walhdr_decode(raw, PITR_WALHDR_SIZE - 1, &hdr), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert(memcmp(&hdr, &before, sizeof(hdr)) == 0);
	ck_assert_int_eq(pitr_walhdr_decode(raw, 0, &hdr), -1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_version)
{
	ck_assert_str_eq(pitr_walhdr_version(0xD101), "12");
	ck_assert_str_eq(pitr_walhdr_version(0xD106), "13");
	ck_assert_str_eq(pitr_walhdr_version(0xD10D), "14");
	ck_assert_str_eq(pitr_walhdr_version(0xD110), "15");
	ck_assert_str_eq(pitr_walhdr_version(0xD113), "16");
	ck_assert_str_eq(pitr_walhdr_version(0xD116), "17");
	ck_assert_ptr_null(pitr_walhdr_version(0));
	ck_assert_ptr_null(pitr_walhdr_version(0xD098));   /* 11 */
	ck_assert_ptr_null(pitr_walhdr_version(0xD111));
	ck_assert_ptr_null(pitr_walhdr_version(0x10D1));   /* 0xD110 byte-swapped */
	ck_assert_ptr_null(pitr_walhdr_version(0xFFFF));
}
END_TEST

START_TEST(test_check_valid)
{
	/* A plain segment at each size, at the end of an xlogid. */
	check_case(MIB, 1, 0xFFF, "000000010000000000000FFF", NULL, "w", "");
	check_case(MIB, 1, 0x1000, "000000010000000100000000", NULL, "w", "");
	check_case(16 * MIB, 1, 0xFF, "0000000100000000000000FF", NULL, "w", "");
	check_case(16 * MIB, 2, 0x1FF, "0000000200000001000000FF", NULL, "w", "");
	check_case(64 * MIB, 1, 0x3F, "00000001000000000000003F", NULL, "w", "");
	check_case(GIB, 1, 3, "000000010000000000000003", NULL, "w", "");
	check_case(GIB, 1, UINT64_C(0xFFFFFFFF) * 4 + 3, "00000001FFFFFFFF00000003", NULL, "w", "");
	/* Segment 0 exists (pg_resetwal can start a cluster anywhere). */
	check_case(16 * MIB, 1, 0, "000000010000000000000000", NULL, "w", "");
	/* A partial segment has the same header. */
	check_case(16 * MIB, 1, 0x1FF, "0000000100000001000000FF.partial", NULL, "w", "");
	/* The header's timeline may be older than the name's: the first
	 * segment of a new timeline begins with its parent's records. */
	check_case(16 * MIB, 1, 5, "000000020000000000000005", NULL, "w", "");
}
END_TEST

static void
set_magic_d111(unsigned char *b)
{
	put_le(b + OFF_MAGIC, 0xD111, 2);
}

static void
set_magic_1(unsigned char *b)
{
	put_le(b + OFF_MAGIC, 0x0001, 2);
}

static void
set_magic_swapped(unsigned char *b)
{
	/* A big-endian reading of the PostgreSQL 15 magic. */
	put_le(b + OFF_MAGIC, 0x10D1, 2);
}

static void
set_magic_13(unsigned char *b)
{
	put_le(b + OFF_MAGIC, 0xD106, 2);
}

START_TEST(test_check_magic)
{
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_magic_d111,
		   "pg_wal/000000010000000000000001",
		   "\"pg_wal/000000010000000000000001\" is not a WAL segment of a known "
		   "PostgreSQL version: page magic 0xD111");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_magic_1, "x",
		   "\"x\" is not a WAL segment of a known PostgreSQL version: page magic 0x0001");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_magic_swapped, "x",
		   "\"x\" is not a WAL segment of a known PostgreSQL version: page magic 0x10D1");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_magic_13, "x", "");
}
END_TEST

static void
set_short_header(unsigned char *b)
{
	/* XLP_FIRST_IS_CONTRECORD without XLP_LONG_HEADER. */
	put_le(b + OFF_INFO, 0x0001, 2);
}

static void
set_all_flags(unsigned char *b)
{
	put_le(b + OFF_INFO, 0x0007, 2);
}

START_TEST(test_check_long_header)
{
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_short_header, "f",
		   "\"f\" does not start with a long page header");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_all_flags, "f", "");
}
END_TEST

static void
set_segsize_3mib(unsigned char *b)
{
	put_le(b + OFF_SEGSIZE, 3 * MIB, 4);
}

static void
set_segsize_0(unsigned char *b)
{
	put_le(b + OFF_SEGSIZE, 0, 4);
}

static void
set_segsize_2gib(unsigned char *b)
{
	put_le(b + OFF_SEGSIZE, 2 * (uint64_t)GIB, 4);
}

static void
set_segsize_512k(unsigned char *b)
{
	put_le(b + OFF_SEGSIZE, 512 * 1024, 4);
}

START_TEST(test_check_segsize)
{
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_segsize_3mib, "s",
		   "\"s\" has an invalid segment size in its header: 3145728 bytes");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_segsize_0, "s",
		   "\"s\" has an invalid segment size in its header: 0 bytes");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_segsize_2gib, "s",
		   "\"s\" has an invalid segment size in its header: 2147483648 bytes");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_segsize_512k, "s",
		   "\"s\" has an invalid segment size in its header: 524288 bytes");
}
END_TEST

START_TEST(test_check_name_fits)
{
	/* Numbered for 1 MiB segments but the header says 16 MiB. */
	check_case(16 * MIB, 1, 0x100, "000000010000000000000100", NULL, "n",
		   "\"n\" cannot exist with 16777216-byte segments: its number is out of range");
	check_case(GIB, 1, 4, "000000010000000000000004", NULL, "n",
		   "\"n\" cannot exist with 1073741824-byte segments: its number is out of range");
	check_case(MIB, 1, 0x1000, "000000010000000000001000", NULL, "n",
		   "\"n\" cannot exist with 1048576-byte segments: its number is out of range");
	check_case(MIB, 1, 0x1000, "000000010000000000001000.partial", NULL, "n",
		   "\"n\" cannot exist with 1048576-byte segments: its number is out of range");
}
END_TEST

static void
set_blcksz_0(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 0, 4);
}

static void
set_blcksz_512(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 512, 4);
}

static void
set_blcksz_3000(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 3000, 4);
}

static void
set_blcksz_64k(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 65536, 4);
}

static void
set_blcksz_128k(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 131072, 4);
}

static void
set_blcksz_1k(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 1024, 4);
}

static void
set_blcksz_32k(unsigned char *b)
{
	put_le(b + OFF_BLCKSZ, 32768, 4);
}

START_TEST(test_check_blcksz)
{
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_0, "b",
		   "\"b\" has an invalid block size in its header: 0");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_512, "b",
		   "\"b\" has an invalid block size in its header: 512");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_3000, "b",
		   "\"b\" has an invalid block size in its header: 3000");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_128k, "b",
		   "\"b\" has an invalid block size in its header: 131072");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_64k, "b", "");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_1k, "b", "");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", set_blcksz_32k, "b", "");
}
END_TEST

static void
set_pageaddr_plus_page(unsigned char *b)
{
	/* The address of the segment's second page, as a short header has. */
	put_le(b + OFF_PAGEADDR, UINT64_C(0x1FF000000) + 8192, 8);
}

START_TEST(test_check_pageaddr)
{
	/* The segment before, under the next one's name. */
	check_case(16 * MIB, 1, 0x1FE, "0000000100000001000000FF", NULL, "p",
		   "\"p\" has page address 1/FE000000 but its name says 1/FF000000");
	check_case(16 * MIB, 1, 0x1FF, "0000000100000001000000FF", set_pageaddr_plus_page, "p",
		   "\"p\" has page address 1/FF002000 but its name says 1/FF000000");
	/* Same digits, other size: 64 MiB segment 0x3F is at 0/FC000000. */
	check_case(64 * MIB, 1, 0x3F, "00000001000000000000003F", NULL, "p", "");
	check_case(64 * MIB, 1, 0x3E, "00000001000000000000003F", NULL, "p",
		   "\"p\" has page address 0/F8000000 but its name says 0/FC000000");
	check_case(MIB, 1, UINT64_C(0xABCD) * 4096 + 0xFFF, "000000010000ABCE00000000", NULL, "p",
		   "\"p\" has page address ABCD/FFF00000 but its name says ABCE/0");
	check_case(GIB, 1, UINT64_C(0xFFFFFFFF) * 4 + 2, "00000001FFFFFFFF00000003", NULL, "p",
		   "\"p\" has page address FFFFFFFF/80000000 but its name says FFFFFFFF/C0000000");
}
END_TEST

START_TEST(test_check_timeline)
{
	check_case(16 * MIB, 3, 5, "000000020000000000000005", NULL, "t",
		   "\"t\" has timeline 3 in its header, after the 2 of its name");
	check_case(16 * MIB, 0xFFFFFFFF, 5, "000000010000000000000005", NULL, "t",
		   "\"t\" has timeline 4294967295 in its header, after the 1 of its name");
	check_case(16 * MIB, 2, 5, "000000020000000000000005", NULL, "t", "");
}
END_TEST

static void
corrupt_everything(unsigned char *b)
{
	set_magic_d111(b);
	set_short_header(b);
	set_segsize_3mib(b);
	set_blcksz_3000(b);
	put_le(b + OFF_TLI, 9, 4);
	put_le(b + OFF_PAGEADDR, 12345, 8);
}

static void
corrupt_but_magic(unsigned char *b)
{
	corrupt_everything(b);
	put_le(b + OFF_MAGIC, 0xD116, 2);
}

static void
corrupt_blcksz_tli_addr(unsigned char *b)
{
	set_blcksz_3000(b);
	put_le(b + OFF_TLI, 9, 4);
	put_le(b + OFF_PAGEADDR, 12345, 8);
}

static void
corrupt_tli_addr(unsigned char *b)
{
	put_le(b + OFF_TLI, 9, 4);
	put_le(b + OFF_PAGEADDR, 12345, 8);
}

START_TEST(test_check_first_problem_only)
{
	check_case(16 * MIB, 1, 1, "000000010000000000000001", corrupt_everything, "m",
		   "\"m\" is not a WAL segment of a known PostgreSQL version: page magic 0xD111");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", corrupt_but_magic, "m",
		   "\"m\" does not start with a long page header");
	check_case(16 * MIB, 1, 0x100, "000000010000000000000100", corrupt_blcksz_tli_addr, "m",
		   "\"m\" cannot exist with 16777216-byte segments: its number is out of range");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", corrupt_blcksz_tli_addr, "m",
		   "\"m\" has an invalid block size in its header: 3000");
	check_case(16 * MIB, 1, 1, "000000010000000000000001", corrupt_tli_addr, "m",
		   "\"m\" has page address 0/3039 but its name says 0/1000000");
}
END_TEST

static void
set_segsize_16mib(unsigned char *b)
{
	put_le(b + OFF_SEGSIZE, 16 * MIB, 4);
}

/* Write the 1 MiB segment `segno` of timeline `tli` as `name` in the scratch
 * dir, after `corrupt`; returns its path. */
static const char *
write_case(const char *name, uint32_t tli, uint64_t segno, void (*corrupt)(unsigned char *),
	   size_t len)
{
	unsigned char *seg = h_make_segment(MIB, tli, segno, SYSID, 3);
	const char *path = h_path(name);

	if (corrupt != NULL)
		corrupt(seg);
	h_write_file(path, seg, len);
	free(seg);
	return path;
}

/* Expect pitr_walhdr_read_file(path) to fail with the ERROR line `want`
 * and to leave *out alone. */
static void
read_fails(const char *path, const char *name, const char *want)
{
	struct pitr_wal_name n = name_of(name);
	struct pitr_walhdr hdr, before;
	char line[8192];

	memset(&hdr, 0x5A, sizeof(hdr));
	before = hdr;
	h_log_reset();
	ck_assert_int_eq(pitr_walhdr_read_file(path, &n, &hdr), -1);
	ck_assert(memcmp(&hdr, &before, sizeof(hdr)) == 0);
	snprintf(line, sizeof(line), "ERROR : %s\n", want);
	ck_assert_str_eq(h_log(), line);
}

START_TEST(test_read_file_ok)
{
	const char *path = h_write_segment(h_dir(), MIB, 2, 0x1FFF, SYSID);
	struct pitr_wal_name n = name_of("000000020000000100000FFF");
	struct pitr_walhdr hdr;

	ck_assert_str_eq(strrchr(path, '/') + 1, "000000020000000100000FFF");
	ck_assert_int_eq(pitr_walhdr_read_file(path, &n, &hdr), 0);
	ck_assert_uint_eq(hdr.magic, 0xD110);
	ck_assert_uint_eq(hdr.info, PITR_WALHDR_XLP_LONG_HEADER);
	ck_assert_uint_eq(hdr.tli, 2);
	ck_assert_uint_eq(hdr.pageaddr, UINT64_C(0x1FFF00000));
	ck_assert_uint_eq(hdr.sysid, SYSID);
	ck_assert_uint_eq(hdr.seg_size, MIB);
	ck_assert_uint_eq(hdr.blcksz, 8192);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_file_16mib)
{
	const char *path = h_write_segment(h_dir(), 16 * MIB, 1, 0x2FF, SYSID);
	struct pitr_wal_name n = name_of("0000000100000002000000FF");
	struct pitr_walhdr hdr;

	ck_assert_int_eq(pitr_walhdr_read_file(path, &n, &hdr), 0);
	ck_assert_uint_eq(hdr.pageaddr, UINT64_C(0x2FF000000));
	ck_assert_uint_eq(hdr.seg_size, 16 * MIB);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_file_open)
{
	char want[8192];
	const char *path = h_path("000000010000000000000001");

	snprintf(want, sizeof(want), "could not open \"%s\": No such file or directory", path);
	read_fails(path, "000000010000000000000001", want);
}
END_TEST

START_TEST(test_read_file_read)
{
	char want[8192];
	const char *path = h_path("000000010000000000000001");

	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(want, sizeof(want), "could not read \"%s\": Is a directory", path);
	read_fails(path, "000000010000000000000001", want);
}
END_TEST

START_TEST(test_read_file_short)
{
	char want[8192];
	const char *path;

	path = write_case("000000010000000000000001", 1, 1, NULL, 0);
	snprintf(want, sizeof(want), "\"%s\" is too short to be a WAL segment: 0 bytes", path);
	read_fails(path, "000000010000000000000001", want);

	path = write_case("000000010000000000000001", 1, 1, NULL, PITR_WALHDR_SIZE - 1);
	snprintf(want, sizeof(want), "\"%s\" is too short to be a WAL segment: 39 bytes", path);
	read_fails(path, "000000010000000000000001", want);
}
END_TEST

START_TEST(test_read_file_size)
{
	char want[8192];
	const char *path;

	/* A segment cut short, as a crash during a copy leaves it. */
	path = write_case("000000010000000000000001", 1, 1, NULL, MIB - 8192);
	snprintf(want, sizeof(want),
		 "\"%s\" is %lld bytes but its header says segments are 1048576 bytes", path,
		 (long long)(MIB - 8192));
	read_fails(path, "000000010000000000000001", want);

	/* Only the header: the smallest file that gets past the header check. */
	path = write_case("000000010000000000000001", 1, 1, NULL, PITR_WALHDR_SIZE);
	snprintf(want, sizeof(want),
		 "\"%s\" is 40 bytes but its header says segments are 1048576 bytes", path);
	read_fails(path, "000000010000000000000001", want);

	/* A 1 MiB segment whose header claims 16 MiB. */
	path = write_case("000000010000000000000000", 1, 0, set_segsize_16mib, MIB);
	snprintf(want, sizeof(want),
		 "\"%s\" is 1048576 bytes but its header says segments are 16777216 bytes", path);
	read_fails(path, "000000010000000000000000", want);
}
END_TEST

START_TEST(test_read_file_bad_header)
{
	char want[8192];
	const char *path;

	/* The header check runs before the size check and names the path. */
	path = write_case("000000010000000000000001", 1, 1, set_magic_d111, 100);
	snprintf(want, sizeof(want),
		 "\"%s\" is not a WAL segment of a known PostgreSQL version: page magic 0xD111",
		 path);
	read_fails(path, "000000010000000000000001", want);

	/* The file is segment 2 of timeline 1 under segment 3's name. */
	path = write_case("000000010000000000000003", 1, 2, NULL, MIB);
	snprintf(want, sizeof(want), "\"%s\" has page address 0/200000 but its name says 0/300000",
		 path);
	read_fails(path, "000000010000000000000003", want);

	path = write_case("000000010000000000000003", 4, 3, NULL, MIB);
	snprintf(want, sizeof(want),
		 "\"%s\" has timeline 4 in its header, after the 1 of its name", path);
	read_fails(path, "000000010000000000000003", want);
}
END_TEST

START_TEST(test_read_file_partial)
{
	const char *path = write_case("000000010000000000000007.partial", 1, 7, NULL, MIB);
	struct pitr_wal_name n = name_of("000000010000000000000007.partial");
	struct pitr_walhdr hdr;

	ck_assert_int_eq(pitr_walhdr_read_file(path, &n, &hdr), 0);
	ck_assert_uint_eq(hdr.pageaddr, 7 * MIB);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("walhdr");
	struct {
		const char *name;
		const TTest *tests[10];
	} cases[] = {
		{ "pitr_walhdr_decode()", { test_decode_segment, test_decode_layout,
					    test_decode_short } },
		{ "pitr_walhdr_version()", { test_version } },
		{ "pitr_walhdr_check()", { test_check_valid, test_check_magic,
					   test_check_long_header, test_check_segsize,
					   test_check_name_fits, test_check_blcksz,
					   test_check_pageaddr, test_check_timeline,
					   test_check_first_problem_only } },
		{ "pitr_walhdr_read_file()", { test_read_file_ok, test_read_file_16mib,
					       test_read_file_open, test_read_file_read,
					       test_read_file_short, test_read_file_size,
					       test_read_file_bad_header, test_read_file_partial } },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		TCase *tc = tcase_create(cases[case_idx].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		for (size_t test_idx = 0; cases[case_idx].tests[test_idx] != NULL; test_idx++)
			tcase_add_test(tc, cases[case_idx].tests[test_idx]);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
