/*
 * check_wal.c - unit tests for lib/postgres/wal.c: WAL file names for every segment
 * size, their order and stepping across the xlogid boundary.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "postgres/wal.h"

#define MIB (1u << 20)
#define GIB (1u << 30)

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

/* Parse `s`, which must be of `kind`, and check it formats back to itself. */
static struct pitr_wal_name
parse_ok(const char *s, enum pitr_wal_kind kind)
{
	struct pitr_wal_name n;
	char back[PITR_WAL_NAME_MAX];

	ck_assert_msg(pitr_wal_parse(s, &n) == kind, "parse \"%s\"", s);
	ck_assert_int_eq(n.kind, kind);
	pitr_wal_format(back, &n);
	ck_assert_str_eq(back, s);
	return n;
}

/* A parsed name, failing the test if `s` is not a WAL name. */
static struct pitr_wal_name
name_of(const char *s)
{
	struct pitr_wal_name n;

	ck_assert_msg(pitr_wal_parse(s, &n) != PITR_WAL_NONE, "parse \"%s\"", s);
	return n;
}

START_TEST(test_parse_segment)
{
	struct pitr_wal_name n = parse_ok("0000000A00000001000000FE", PITR_WAL_SEGMENT);

	ck_assert_uint_eq(n.tli, 10);
	ck_assert_uint_eq(n.log, 1);
	ck_assert_uint_eq(n.seg, 0xFE);
	ck_assert_uint_eq(n.offset, 0);

	n = parse_ok("FFFFFFFFFFFFFFFF00000FFF", PITR_WAL_SEGMENT);
	ck_assert_uint_eq(n.tli, 0xFFFFFFFF);
	ck_assert_uint_eq(n.log, 0xFFFFFFFF);
	ck_assert_uint_eq(n.seg, 0xFFF);

	/* Every hex digit in every position. */
	n = parse_ok("0123456789ABCDEF01234567", PITR_WAL_SEGMENT);
	ck_assert_uint_eq(n.tli, 0x01234567);
	ck_assert_uint_eq(n.log, 0x89ABCDEF);
	ck_assert_uint_eq(n.seg, 0x01234567);
}
END_TEST

START_TEST(test_parse_partial)
{
	struct pitr_wal_name n = parse_ok("000000020000000300000004.partial", PITR_WAL_PARTIAL);

	ck_assert_uint_eq(n.tli, 2);
	ck_assert_uint_eq(n.log, 3);
	ck_assert_uint_eq(n.seg, 4);
	ck_assert_uint_eq(n.offset, 0);
}
END_TEST

START_TEST(test_parse_history)
{
	struct pitr_wal_name n = parse_ok("0000001F.history", PITR_WAL_HISTORY);

	ck_assert_uint_eq(n.tli, 0x1F);
	ck_assert_uint_eq(n.log, 0);
	ck_assert_uint_eq(n.seg, 0);
	ck_assert_uint_eq(n.offset, 0);
}
END_TEST

START_TEST(test_parse_backup)
{
	struct pitr_wal_name n =
		parse_ok("000000010000000000000002.00000028.backup", PITR_WAL_BACKUP);

	ck_assert_uint_eq(n.tli, 1);
	ck_assert_uint_eq(n.log, 0);
	ck_assert_uint_eq(n.seg, 2);
	ck_assert_uint_eq(n.offset, 0x28);

	n = parse_ok("00000003000000AB00000CDE.00FEDCBA.backup", PITR_WAL_BACKUP);
	ck_assert_uint_eq(n.tli, 3);
	ck_assert_uint_eq(n.log, 0xAB);
	ck_assert_uint_eq(n.seg, 0xCDE);
	ck_assert_uint_eq(n.offset, 0xFEDCBA);
}
END_TEST

START_TEST(test_parse_none)
{
	static const char *const bad[] = {
		"",
		"0000000100000000000000",                   /* too short */
		"00000001000000000000000",                  /* 23 digits */
		"0000000100000000000000010",                /* 25 digits */
		"000000010000000000000001 ",                /* trailing space */
		" 000000010000000000000001",                /* leading space */
		"00000001000000000000000a",                 /* lower case */
		"0000000a000000000000000A",                 /* lower case timeline */
		"00000001000000000000000G",                 /* not hex */
		"0000000100000000-0000001",                 /* sign */
		"0x000001000000000000000001",               /* prefix */
		"000000000000000000000001",                 /* timeline 0 */
		"000000010000000000000001.gz",              /* codec left on */
		"000000010000000000000001.partial.gz",
		"000000010000000000000001.Partial",
		"000000010000000000000001.partia",
		"000000010000000000000001Xpartial",
		"00000001000000000000000g.partial",
		"000000000000000000000001.partial",         /* timeline 0 */
		"00000001.history.gz",
		"00000001.History",
		"0000001.history",
		"000000001.history",
		"0000000a.history",
		"00000000.history",                         /* timeline 0 */
		"00000001xhistory",
		"000000010000000000000002.00000028.backup.gz",
		"000000010000000000000002.0000028.backup",
		"000000010000000000000002.000000028.backup",
		"000000010000000000000002.0000002a.backup",
		"000000010000000000000002X00000028.backup",
		"000000010000000000000002.00000028Xbackup",
		"00000001000000000000000z.00000028.backup",
		"000000000000000000000002.00000028.backup", /* timeline 0 */
		"000000010000000000000002.00000028.backuP",
		"archive_status",
		"000000010000000000000001.ready",
	};

	for (size_t bad_idx = 0; bad_idx < sizeof(bad) / sizeof(bad[0]); bad_idx++) {
		struct pitr_wal_name n;

		memset(&n, 0xAA, sizeof(n));
		ck_assert_msg(pitr_wal_parse(bad[bad_idx], &n) == PITR_WAL_NONE, "\"%s\"",
			      bad[bad_idx]);
		/* Nothing half-parsed is left behind. */
		ck_assert_int_eq(n.kind, PITR_WAL_NONE);
		ck_assert_uint_eq(n.tli, 0);
		ck_assert_uint_eq(n.log, 0);
		ck_assert_uint_eq(n.seg, 0);
		ck_assert_uint_eq(n.offset, 0);
	}
}
END_TEST

START_TEST(test_parse_null_out)
{
	ck_assert_int_eq(pitr_wal_parse("000000010000000000000001", NULL), PITR_WAL_SEGMENT);
	ck_assert_int_eq(pitr_wal_parse("000000010000000000000001.partial", NULL),
			 PITR_WAL_PARTIAL);
	ck_assert_int_eq(pitr_wal_parse("00000001.history", NULL), PITR_WAL_HISTORY);
	ck_assert_int_eq(pitr_wal_parse("000000010000000000000001.00000000.backup", NULL),
			 PITR_WAL_BACKUP);
	ck_assert_int_eq(pitr_wal_parse("nope", NULL), PITR_WAL_NONE);
}
END_TEST

START_TEST(test_kind_name)
{
	ck_assert_str_eq(pitr_wal_kind_name(PITR_WAL_SEGMENT), "segment");
	ck_assert_str_eq(pitr_wal_kind_name(PITR_WAL_PARTIAL), "partial segment");
	ck_assert_str_eq(pitr_wal_kind_name(PITR_WAL_HISTORY), "timeline history file");
	ck_assert_str_eq(pitr_wal_kind_name(PITR_WAL_BACKUP), "backup history file");
	ck_assert_str_eq(pitr_wal_kind_name(PITR_WAL_NONE), "not a WAL file");
}
END_TEST

START_TEST(test_segsize_valid)
{
	for (unsigned shift = 20; shift <= 30; shift++)
		ck_assert_msg(pitr_wal_segsize_valid(UINT64_C(1) << shift), "2^%u", shift);
	ck_assert(!pitr_wal_segsize_valid(0));
	ck_assert(!pitr_wal_segsize_valid(1));
	ck_assert(!pitr_wal_segsize_valid(512 * 1024));        /* below 1 MiB */
	ck_assert(!pitr_wal_segsize_valid(MIB - 1));
	ck_assert(!pitr_wal_segsize_valid(MIB + 1));
	ck_assert(!pitr_wal_segsize_valid(3 * MIB));           /* not a power of two */
	ck_assert(!pitr_wal_segsize_valid(24 * MIB));
	ck_assert(!pitr_wal_segsize_valid((uint64_t)GIB + 1));
	ck_assert(!pitr_wal_segsize_valid(UINT64_C(2) * GIB)); /* above 1 GiB */
	ck_assert(!pitr_wal_segsize_valid(UINT64_C(1) << 40));
	ck_assert(!pitr_wal_segsize_valid(UINT64_MAX));
}
END_TEST

START_TEST(test_segs_per_id)
{
	ck_assert_uint_eq(pitr_wal_segs_per_id(MIB), 4096);
	ck_assert_uint_eq(pitr_wal_segs_per_id(2 * MIB), 2048);
	ck_assert_uint_eq(pitr_wal_segs_per_id(16 * MIB), 256);
	ck_assert_uint_eq(pitr_wal_segs_per_id(64 * MIB), 64);
	ck_assert_uint_eq(pitr_wal_segs_per_id(512 * MIB), 8);
	ck_assert_uint_eq(pitr_wal_segs_per_id(GIB), 4);
}
END_TEST

START_TEST(test_name_fits)
{
	struct pitr_wal_name n;

	n = name_of("000000010000000000000FFF");
	ck_assert(pitr_wal_name_fits(&n, MIB));
	ck_assert(!pitr_wal_name_fits(&n, 2 * MIB));
	ck_assert(!pitr_wal_name_fits(&n, 16 * MIB));

	n = name_of("000000010000000000001000");
	ck_assert(!pitr_wal_name_fits(&n, MIB));

	n = name_of("0000000100000000000000FF");
	ck_assert(pitr_wal_name_fits(&n, MIB));
	ck_assert(pitr_wal_name_fits(&n, 16 * MIB));
	ck_assert(!pitr_wal_name_fits(&n, 32 * MIB));

	n = name_of("000000010000000000000100");
	ck_assert(pitr_wal_name_fits(&n, MIB));
	ck_assert(!pitr_wal_name_fits(&n, 16 * MIB));

	n = name_of("00000001000000000000003F");
	ck_assert(pitr_wal_name_fits(&n, 64 * MIB));
	n = name_of("000000010000000000000040");
	ck_assert(!pitr_wal_name_fits(&n, 64 * MIB));

	n = name_of("0000000100000ABC00000003");
	ck_assert(pitr_wal_name_fits(&n, GIB));
	n = name_of("0000000100000ABC00000004");
	ck_assert(!pitr_wal_name_fits(&n, GIB));
	ck_assert(pitr_wal_name_fits(&n, 512 * MIB));

	/* The other kinds carry the same position rule. */
	n = name_of("0000000100000000000000FF.partial");
	ck_assert(pitr_wal_name_fits(&n, 16 * MIB));
	n = name_of("000000010000000000000100.partial");
	ck_assert(!pitr_wal_name_fits(&n, 16 * MIB));
	n = name_of("000000010000000000000100.00000028.backup");
	ck_assert(!pitr_wal_name_fits(&n, 16 * MIB));
	ck_assert(pitr_wal_name_fits(&n, MIB));

	/* .history has no position: always possible. */
	n = name_of("00000002.history");
	ck_assert(pitr_wal_name_fits(&n, MIB));
	ck_assert(pitr_wal_name_fits(&n, GIB));

	/* Not a name: cannot exist. */
	memset(&n, 0, sizeof(n));
	ck_assert(!pitr_wal_name_fits(&n, 16 * MIB));
}
END_TEST

START_TEST(test_segno)
{
	struct pitr_wal_name n;

	n = name_of("000000010000000000000000");
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 0);

	n = name_of("0000000100000000000000FF");
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 255);
	ck_assert_uint_eq(pitr_wal_segno(&n, MIB), 255);

	n = name_of("000000010000000100000000");
	ck_assert_uint_eq(pitr_wal_segno(&n, MIB), 4096);
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 256);
	ck_assert_uint_eq(pitr_wal_segno(&n, 64 * MIB), 64);
	ck_assert_uint_eq(pitr_wal_segno(&n, GIB), 4);

	n = name_of("00000005000000120000002A");
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 0x12 * 256 + 0x2A);
	ck_assert_uint_eq(pitr_wal_segno(&n, MIB), 0x12 * 4096 + 0x2A);

	n = name_of("00000001FFFFFFFF00000003");
	ck_assert_uint_eq(pitr_wal_segno(&n, GIB), UINT64_C(0xFFFFFFFF) * 4 + 3);

	n = name_of("000000010000000200000003.partial");
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 2 * 256 + 3);
	n = name_of("000000010000000200000003.00000028.backup");
	ck_assert_uint_eq(pitr_wal_segno(&n, 16 * MIB), 2 * 256 + 3);
}
END_TEST

START_TEST(test_start_lsn)
{
	struct pitr_wal_name n;

	n = name_of("000000010000000000000000");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, 16 * MIB), 0);

	n = name_of("000000010000000000000001");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, 16 * MIB), 0x1000000);
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, MIB), 0x100000);

	/* The LSN's high half is the middle eight digits for every size. */
	n = name_of("0000000100000003000000FF");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, 16 * MIB), UINT64_C(0x3FF000000));
	n = name_of("000000010000000300000FFF");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, MIB), UINT64_C(0x3FFF00000));
	n = name_of("00000001000000030000003F");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, 64 * MIB), UINT64_C(0x3FC000000));
	n = name_of("000000010000000300000003");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, GIB), UINT64_C(0x3C0000000));

	/* The very last segment does not overflow. */
	n = name_of("00000001FFFFFFFF00000003");
	ck_assert_uint_eq(pitr_wal_start_lsn(&n, GIB), UINT64_C(0xFFFFFFFFC0000000));
}
END_TEST

/* Sign of pitr_wal_cmp_position(a, b), checked both ways round. */
static int
cmp_names(const char *a, const char *b)
{
	struct pitr_wal_name na = name_of(a), nb = name_of(b);
	int ab = pitr_wal_cmp_position(&na, &nb);
	int ba = pitr_wal_cmp_position(&nb, &na);
	int sign = (ab > 0) - (ab < 0);

	ck_assert_msg(sign == -((ba > 0) - (ba < 0)), "asymmetric: %s %s", a, b);
	return sign;
}

START_TEST(test_cmp_position)
{
	struct pitr_wal_name none;

	ck_assert_int_eq(cmp_names("000000010000000000000001", "000000010000000000000001"), 0);
	ck_assert_int_eq(cmp_names("000000010000000000000001", "000000010000000000000002"), -1);
	ck_assert_int_eq(cmp_names("0000000100000000000000FF", "000000010000000100000000"), -1);
	ck_assert_int_eq(cmp_names("000000010000000200000000", "000000010000000100000FFF"), 1);

	/* The timeline is ignored in both directions. */
	ck_assert_int_eq(cmp_names("000000020000000000000005", "000000010000000000000005"), 0);
	ck_assert_int_eq(cmp_names("000000010000000000000006", "000000020000000000000005"), 1);
	ck_assert_int_eq(cmp_names("000000030000000000000004", "000000010000000000000005"), -1);

	/* At one position: segment < partial < backup, backups by offset. */
	ck_assert_int_eq(cmp_names("000000010000000000000005",
				   "000000010000000000000005.partial"), -1);
	ck_assert_int_eq(cmp_names("000000010000000000000005.partial",
				   "000000010000000000000005.00000000.backup"), -1);
	ck_assert_int_eq(cmp_names("000000010000000000000005",
				   "000000010000000000000005.00000000.backup"), -1);
	ck_assert_int_eq(cmp_names("000000010000000000000005.00000028.backup",
				   "000000010000000000000005.00000100.backup"), -1);
	ck_assert_int_eq(cmp_names("000000010000000000000005.00000028.backup",
				   "000000020000000000000005.00000028.backup"), 0);
	ck_assert_int_eq(cmp_names("000000010000000000000005.partial",
				   "000000020000000000000005.partial"), 0);

	/* The position wins over the kind. */
	ck_assert_int_eq(cmp_names("000000010000000000000005.00FFFFFF.backup",
				   "000000010000000000000006"), -1);
	ck_assert_int_eq(cmp_names("000000010000000000000005.partial",
				   "000000010000000000000006"), -1);
	ck_assert_int_eq(cmp_names("000000010000000100000000.partial",
				   "0000000100000000000000FF.00000000.backup"), 1);

	/* .history: equal to each other, below every positioned name. */
	ck_assert_int_eq(cmp_names("00000001.history", "00000002.history"), 0);
	ck_assert_int_eq(cmp_names("00000005.history", "000000010000000000000000"), -1);
	ck_assert_int_eq(cmp_names("00000005.history", "000000010000000000000000.partial"), -1);
	ck_assert_int_eq(cmp_names("00000005.history",
				   "000000010000000000000000.00000000.backup"), -1);

	/* A name that is none of the kinds has no position either. */
	memset(&none, 0, sizeof(none));
	{
		struct pitr_wal_name hist = name_of("00000001.history");
		struct pitr_wal_name seg = name_of("000000010000000000000000");

		ck_assert_int_eq(pitr_wal_cmp_position(&none, &hist), 0);
		ck_assert_int_lt(pitr_wal_cmp_position(&none, &seg), 0);
		ck_assert_int_gt(pitr_wal_cmp_position(&seg, &none), 0);
	}
}
END_TEST

START_TEST(test_format_segment)
{
	char out[PITR_WAL_SEGNAME_LEN + 1];

	pitr_wal_format_segment(out, 1, 0, 16 * MIB);
	ck_assert_str_eq(out, "000000010000000000000000");
	pitr_wal_format_segment(out, 1, 255, 16 * MIB);
	ck_assert_str_eq(out, "0000000100000000000000FF");
	pitr_wal_format_segment(out, 1, 256, 16 * MIB);
	ck_assert_str_eq(out, "000000010000000100000000");
	pitr_wal_format_segment(out, 1, 4095, MIB);
	ck_assert_str_eq(out, "000000010000000000000FFF");
	pitr_wal_format_segment(out, 1, 4096, MIB);
	ck_assert_str_eq(out, "000000010000000100000000");
	pitr_wal_format_segment(out, 0xAB, 64 + 63, 64 * MIB);
	ck_assert_str_eq(out, "000000AB000000010000003F");
	pitr_wal_format_segment(out, 0xFFFFFFFF, UINT64_C(0xFFFFFFFF) * 4 + 3, GIB);
	ck_assert_str_eq(out, "FFFFFFFFFFFFFFFF00000003");

	/* Round trip through the parser for every size. */
	for (unsigned shift = 20; shift <= 30; shift++) {
		uint32_t size = UINT32_C(1) << shift;
		uint64_t segno = UINT64_C(0x123456789) % (UINT64_C(1) << (64 - shift));
		struct pitr_wal_name n;

		pitr_wal_format_segment(out, 7, segno, size);
		ck_assert_int_eq(pitr_wal_parse(out, &n), PITR_WAL_SEGMENT);
		ck_assert_uint_eq(n.tli, 7);
		ck_assert(pitr_wal_name_fits(&n, size));
		ck_assert_uint_eq(pitr_wal_segno(&n, size), segno);
	}
}
END_TEST

START_TEST(test_format)
{
	char out[PITR_WAL_NAME_MAX];
	struct pitr_wal_name n = {
		.kind = PITR_WAL_SEGMENT, .tli = 0x1A, .log = 0xB2, .seg = 0xC3, .offset = 0x99,
	};

	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "0000001A000000B2000000C3");
	n.kind = PITR_WAL_PARTIAL;
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "0000001A000000B2000000C3.partial");
	n.kind = PITR_WAL_BACKUP;
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "0000001A000000B2000000C3.00000099.backup");
	n.kind = PITR_WAL_HISTORY;
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "0000001A.history");

	/* The longest name fits, with its NUL. */
	n = (struct pitr_wal_name){ PITR_WAL_BACKUP, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF,
				    0xFFFFFFFF };
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "FFFFFFFFFFFFFFFFFFFFFFFF.FFFFFFFF.backup");

	memset(out, 'x', sizeof(out));
	n.kind = PITR_WAL_NONE;
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Step `from` once with `step` at `segsize`; expect `to`. */
static void
step_ok(int (*step)(struct pitr_wal_name *, uint32_t), const char *from, uint32_t segsize,
	const char *to)
{
	struct pitr_wal_name n = name_of(from);
	char out[PITR_WAL_NAME_MAX];

	ck_assert_msg(step(&n, segsize) == 0, "step %s at %u", from, segsize);
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, to);
}

/* Step `from` once with `step` at `segsize`; expect ERANGE, name unchanged. */
static void
step_range(int (*step)(struct pitr_wal_name *, uint32_t), const char *from, uint32_t segsize)
{
	struct pitr_wal_name n = name_of(from);
	struct pitr_wal_name before = n;

	errno = 0;
	ck_assert_msg(step(&n, segsize) == -1, "step %s at %u", from, segsize);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert(memcmp(&n, &before, sizeof(n)) == 0);
}

START_TEST(test_next)
{
	step_ok(pitr_wal_next, "000000010000000000000000", 16 * MIB, "000000010000000000000001");
	step_ok(pitr_wal_next, "0000000100000000000000FE", 16 * MIB, "0000000100000000000000FF");
	step_ok(pitr_wal_next, "0000000100000000000000FF", 16 * MIB, "000000010000000100000000");
	step_ok(pitr_wal_next, "0000000100000000000000FF", MIB, "000000010000000000000100");
	step_ok(pitr_wal_next, "000000010000000000000FFF", MIB, "000000010000000100000000");
	step_ok(pitr_wal_next, "00000001000000000000003F", 64 * MIB, "000000010000000100000000");
	step_ok(pitr_wal_next, "000000010000000000000003", GIB, "000000010000000100000000");
	step_ok(pitr_wal_next, "000000010000000000000002", GIB, "000000010000000000000003");
	/* The timeline is kept. */
	step_ok(pitr_wal_next, "0000000700000009000000FF", 16 * MIB, "000000070000000A00000000");
	step_ok(pitr_wal_next, "00000001FFFFFFFE000000FF", 16 * MIB, "00000001FFFFFFFF00000000");

	/* No segment after the last one. */
	step_range(pitr_wal_next, "00000001FFFFFFFF000000FF", 16 * MIB);
	step_range(pitr_wal_next, "00000001FFFFFFFF00000FFF", MIB);
	step_range(pitr_wal_next, "00000001FFFFFFFF00000003", GIB);
	/* A name that cannot exist at this size has no neighbour. */
	step_range(pitr_wal_next, "000000010000000000000100", 16 * MIB);
	step_range(pitr_wal_next, "000000010000000000000004", GIB);
	/* Only plain segments step. */
	step_range(pitr_wal_next, "000000010000000000000001.partial", 16 * MIB);
	step_range(pitr_wal_next, "000000010000000000000001.00000028.backup", 16 * MIB);
	step_range(pitr_wal_next, "00000001.history", 16 * MIB);
}
END_TEST

START_TEST(test_prev)
{
	step_ok(pitr_wal_prev, "000000010000000000000001", 16 * MIB, "000000010000000000000000");
	step_ok(pitr_wal_prev, "000000010000000100000000", 16 * MIB, "0000000100000000000000FF");
	step_ok(pitr_wal_prev, "000000010000000100000000", MIB, "000000010000000000000FFF");
	step_ok(pitr_wal_prev, "000000010000000100000000", 64 * MIB, "00000001000000000000003F");
	step_ok(pitr_wal_prev, "000000010000000100000000", GIB, "000000010000000000000003");
	step_ok(pitr_wal_prev, "000000010000000000000100", MIB, "0000000100000000000000FF");
	step_ok(pitr_wal_prev, "00000003FFFFFFFF00000000", 16 * MIB, "00000003FFFFFFFE000000FF");

	/* No segment before segment 0, on any timeline. */
	step_range(pitr_wal_prev, "000000010000000000000000", 16 * MIB);
	step_range(pitr_wal_prev, "000000050000000000000000", MIB);
	step_range(pitr_wal_prev, "000000010000000000001000", MIB);
	step_range(pitr_wal_prev, "000000010000000000000100", 16 * MIB);
	step_range(pitr_wal_prev, "000000010000000000000001.partial", 16 * MIB);
	step_range(pitr_wal_prev, "000000010000000000000001.00000028.backup", 16 * MIB);
	step_range(pitr_wal_prev, "00000001.history", 16 * MIB);
}
END_TEST

/* next and prev undo each other over a whole xlogid at the smallest size. */
START_TEST(test_next_prev_walk)
{
	struct pitr_wal_name n = name_of("000000010000000000000000");
	char out[PITR_WAL_NAME_MAX];

	for (uint64_t segno = 0; segno < 2 * 4096 + 1; segno++) {
		ck_assert_uint_eq(pitr_wal_segno(&n, MIB), segno);
		ck_assert_int_eq(pitr_wal_next(&n, MIB), 0);
	}
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "000000010000000200000001");
	for (uint64_t segno = 2 * 4096 + 1; segno > 0; segno--)
		ck_assert_int_eq(pitr_wal_prev(&n, MIB), 0);
	pitr_wal_format(out, &n);
	ck_assert_str_eq(out, "000000010000000000000000");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* The segment before a boundary, as XLByteToPrevSeg (issue 10: a stop
 * LSN on a boundary asked for the next segment). */
START_TEST(test_prev_segno)
{
	ck_assert_uint_eq(pitr_wal_prev_segno(0, MIB), 0);
	ck_assert_uint_eq(pitr_wal_prev_segno(1, MIB), 0);
	ck_assert_uint_eq(pitr_wal_prev_segno(MIB, MIB), 0);
	ck_assert_uint_eq(pitr_wal_prev_segno(MIB + 1, MIB), 1);
	ck_assert_uint_eq(pitr_wal_prev_segno(7 * (uint64_t)MIB, MIB), 6);
	ck_assert_uint_eq(pitr_wal_prev_segno(0x100000000ULL, 16 * MIB), 255);
	ck_assert_uint_eq(pitr_wal_prev_segno(0x100000028ULL, 16 * MIB), 256);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("wal");
	struct {
		const char *name;
		const TTest *tests[7];
	} cases[] = {
		{ "pitr_wal_parse()", { test_parse_segment, test_parse_partial, test_parse_history,
					test_parse_backup, test_parse_none, test_parse_null_out } },
		{ "pitr_wal_kind_name()", { test_kind_name } },
		{ "pitr_wal_segsize_valid()", { test_segsize_valid } },
		{ "pitr_wal_segs_per_id()", { test_segs_per_id } },
		{ "pitr_wal_name_fits()", { test_name_fits } },
		{ "pitr_wal_segno()", { test_segno } },
		{ "pitr_wal_start_lsn()", { test_start_lsn } },
		{ "pitr_wal_prev_segno()", { test_prev_segno } },
		{ "pitr_wal_cmp_position()", { test_cmp_position } },
		{ "pitr_wal_format_segment()", { test_format_segment } },
		{ "pitr_wal_format()", { test_format } },
		{ "pitr_wal_next()", { test_next, test_next_prev_walk } },
		{ "pitr_wal_prev()", { test_prev } },
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
