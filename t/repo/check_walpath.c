/*
 * check_walpath.c - unit tests for lib/repo/walpath.c over real backup and
 * archive dirs: segment lookup across a timeline switch, the latest
 * timeline, path checks from a backup and the reachable end.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "compress/codec.h"
#include "harness.h"
#include "postgres/wal.h"
#include "repo/catalog.h"
#include "catalog_fixture.h"
#include "repo/walpath.h"

/*
 * Timeline 1: segments 1-5 (4 and 5 after the switch: the abandoned
 * future).  Timeline 2 left it at 0/380000 (in segment 3) and holds 3, 4,
 * 6, 7.  Timeline 3 left timeline 1 at 0/280000 (in segment 2): holds 2.
 */
static void
make_switch_archive(void)
{
	for (unsigned s = 1; s <= 5; s++)
		put_segment(1, s, PITR_CODEC_GZIP);
	put_segment(2, 3, PITR_CODEC_NONE);
	put_segment(2, 4, PITR_CODEC_NONE);
	put_segment(2, 6, PITR_CODEC_NONE);
	put_segment(2, 7, PITR_CODEC_ZSTD);
	put_text(arch, "00000002.history.gz", PITR_CODEC_GZIP, "1\t0/380000\tno recovery target specified\n");
	put_segment(3, 2, PITR_CODEC_NONE);
	put_text(arch, "00000003.history", PITR_CODEC_NONE, "1\t0/280000\tbefore 2024-03-01 12:00:00+01\n");
}

START_TEST(test_timeline_switch)
{
	struct pitr_catalog cat;
	const struct pitr_catalog_timeline *t;

	make_switch_archive();
	load(&cat, NULL, arch);
	ck_assert_uint_eq(cat.nproblems, 0);
	ck_assert_uint_eq(cat.ntimelines, 3);
	t = pitr_catalog_timeline(&cat, 2);
	ck_assert(t->has_history);
	ck_assert_uint_eq(t->nancestry, 1);
	ck_assert_uint_eq(t->ancestry[0].tli, 1);
	ck_assert_uint_eq(t->ancestry[0].end, 0x380000);
	ck_assert_uint_eq(t->first, 3);
	ck_assert_uint_eq(t->last, 7);
	ck_assert_uint_eq(t->nsegments, 4);
	ck_assert_uint_eq(t->ngaps, 1);
	ck_assert_uint_eq(t->gaps[0].first, 5);
	ck_assert_uint_eq(t->gaps[0].last, 5);
	ck_assert_str_eq(cat.files[0].file, "000000010000000000000001.gz");
	ck_assert_str_eq(cat.files[5].file, "00000002.history.gz");   /* history first in its timeline */

	/* Before the switch: the parent's; from the switch segment on: the child's. */
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 1)->file, "000000010000000000000001.gz");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 2)->file, "000000010000000000000002.gz");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 3)->file, "000000020000000000000003");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 4)->file, "000000020000000000000004");
	/* The parent's segment 5 is past its end: it never serves timeline 2. */
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 2, 5));
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 7)->file, "000000020000000000000007.zst");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 1, 5)->file, "000000010000000000000005.gz");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 3, 1)->file, "000000010000000000000001.gz");
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 3, 2)->file, "000000030000000000000002");
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 3, 3));
	ck_assert_ptr_null(pitr_walpath_find_segment(&cat, 4, 1));
	pitr_catalog_free(&cat);

	/* Without the child's switch segment the parent's serves, as
	 * PostgreSQL reads it: it holds the WAL up to the switch. */
	ck_assert_int_eq(unlink(h_path("arch/000000020000000000000003")), 0);
	load(&cat, NULL, arch);
	ck_assert_str_eq(pitr_walpath_find_segment(&cat, 2, 3)->file, "000000010000000000000003.gz");
	pitr_catalog_free(&cat);
}
END_TEST

START_TEST(test_latest_timeline)
{
	struct pitr_catalog cat;

	make_switch_archive();
	load(&cat, NULL, arch);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 1), 3);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 2), 2);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 3), 3);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 9), 9);
	pitr_catalog_free(&cat);
	/* A timeline 4 born of 2. */
	put_text(arch, "00000004.history", PITR_CODEC_NONE, "1\t0/380000\tx\n2\t0/600000\ty\n");
	load(&cat, NULL, arch);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 1), 4);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 2), 4);
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 3), 3);
	pitr_catalog_free(&cat);
}
END_TEST

static void
load_switch_with_backups(struct pitr_catalog *cat)
{
	/* Backup A on timeline 1, segments 1-2, with its xlog tarball;
	 * backup B the same with --skip-xlogs; backup C on timeline 1 up to
	 * segment 4 (after timeline 2 left at segment 3); backup D on
	 * timeline 2. */
	put_backup("A-%s-%02d", 1, PITR_CODEC_NONE, meta_text(1, 1, 1, 2, "h", 9, "wal_segment_size=1048576\n"));
	put_text(bk, "B-meta-02", PITR_CODEC_NONE, meta_text(2, 1, 1, 2, "h", 0, "wal_segment_size=1048576\n"));
	put_text(bk, "B-data-02", PITR_CODEC_NONE, "d");
	put_backup("C-%s-%02d", 3, PITR_CODEC_NONE, meta_text(3, 1, 4, 4, "h", 9, ""));
	put_backup("D-%s-%02d", 4, PITR_CODEC_NONE, meta_text(4, 2, 4, 4, "h", 9, ""));
	load(cat, bk, arch);
	ck_assert_uint_eq(cat->nbackups, 4);
	ck_assert_str_eq(cat->backups[1].name, "B-*-02");
	ck_assert_ptr_null(cat->backups[1].xlog_file);
}

START_TEST(test_check_path)
{
	struct pitr_catalog cat;
	char missing[PITR_WAL_NAME_MAX];
	const struct pitr_catalog_backup *a, *b, *c, *d;

	make_switch_archive();
	ck_assert_int_eq(unlink(h_path("arch/00000003.history")), 0);
	ck_assert_int_eq(unlink(h_path("arch/000000030000000000000002")), 0);
	load_switch_with_backups(&cat);
	a = &cat.backups[0], b = &cat.backups[1], c = &cat.backups[2], d = &cat.backups[3];

	/* Latest (2) to the archive's end: segment 5 is missing. */
	strcpy(missing, "-");
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 0, 0, missing), 1);
	ck_assert_str_eq(missing, "000000020000000000000005");
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 2, 0, missing), 1);
	ck_assert_str_eq(missing, "000000020000000000000005");
	/* Up to a target before the gap: complete. */
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 2, 0x4FFFFF, missing), 0);
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 2, 0x500000, missing), 1);
	/* Timeline 1 to its end is complete. */
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 1, 0, missing), 0);
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 1, 0x900000, missing), 1);
	ck_assert_str_eq(missing, "000000010000000000000006");
	ck_assert_int_eq(pitr_walpath_check(&cat, d, 0, 0x4FFFFF, missing), 0);
	ck_assert_int_eq(pitr_walpath_check(&cat, d, 0, 0, missing), 1);
	ck_assert_str_eq(missing, "000000020000000000000005");
	pitr_catalog_free(&cat);

	/* Without its xlog tarball the backup needs its own segments too. */
	ck_assert_int_eq(unlink(h_path("arch/000000010000000000000001.gz")), 0);
	load(&cat, bk, arch);
	a = &cat.backups[0], b = &cat.backups[1], c = &cat.backups[2], d = &cat.backups[3];
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 1, 0, missing), 0);
	ck_assert_int_eq(pitr_walpath_check(&cat, b, 1, 0, missing), 1);
	ck_assert_str_eq(missing, "000000010000000000000001");
	/* ... even with a target before its end. */
	ck_assert_int_eq(pitr_walpath_check(&cat, b, 1, 0x100100, missing), 1);
	ck_assert_str_eq(missing, "000000010000000000000001");
	ck_assert_str_eq(h_log(), "");

	/* C ended on timeline 1 after timeline 2 had left it. */
	ck_assert_int_eq(pitr_walpath_check(&cat, c, 2, 0, missing), -1);
	ck_assert_str_eq(h_log(), "ERROR : backup \"C-*-03\" ends at 0/400100 on timeline 1, after "
				  "timeline 2 branched off it at 0/380000\n");
	h_log_reset();
	/* Timeline 2 is not on timeline 1's history. */
	ck_assert_int_eq(pitr_walpath_check(&cat, d, 1, 0, missing), -1);
	ck_assert_str_eq(h_log(), "ERROR : backup \"D-*-04\" is on timeline 2, which is not in the "
				  "history of timeline 1\n");
	h_log_reset();
	ck_assert_int_eq(pitr_walpath_check(&cat, a, 3, 0, missing), -1);
	ck_assert_str_eq(h_log(), "ERROR : backup \"A-*-01\" is on timeline 1, and the archive has no "
				  "history file of timeline 3 to tell whether it leads there\n");
	pitr_catalog_free(&cat);
}
END_TEST

START_TEST(test_reachable)
{
	struct pitr_catalog cat;

	make_switch_archive();
	load_switch_with_backups(&cat);
	/* Latest from timeline 1 is 3, which left 1 in segment 2: A's
	 * tarball ends with segment 2, timeline 3 has only segment 2. */
	ck_assert_uint_eq(pitr_walpath_latest_timeline(&cat, 1), 3);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[0], 0), 3 * SEG);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[0], 2), 5 * SEG);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[0], 1), 6 * SEG);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[1], 2), 5 * SEG);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[3], 2), 5 * SEG);
	/* C is not on timeline 2's path. */
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[2], 2), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_catalog_free(&cat);
	/* B without its first segment: not even its end is reachable. */
	ck_assert_int_eq(unlink(h_path("arch/000000010000000000000001.gz")), 0);
	load(&cat, bk, arch);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[1], 2), 0);
	ck_assert_uint_eq(pitr_walpath_reachable_lsn(&cat, &cat.backups[0], 2), 5 * SEG);
	pitr_catalog_free(&cat);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("walpath");
	TCase *tc;

	tc = tcase_create("timelines");
	tcase_add_checked_fixture(tc, catalog_fixture_setup, catalog_fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_timeline_switch);
	tcase_add_test(tc, test_latest_timeline);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, catalog_fixture_setup, catalog_fixture_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_check_path);
	tcase_add_test(tc, test_reachable);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
