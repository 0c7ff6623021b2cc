/*
 * check_timeline.c - unit tests for lib/postgres/timeline.c: history files
 * (every malformed form refused), and the recovery path a history
 * describes: its steps, switch points, which timeline serves a segment and
 * which one recovery asks for it on.  The catalog's lookups over a real
 * archive are in t/repo/check_walpath.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "postgres/timeline.h"

#define SEG (1u << 20)

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

START_TEST(test_history)
{
	struct pitr_timeline_branch *br = (void *)1;
	size_t n = 9;

	ck_assert_int_eq(pitr_timeline_parse_history("# comment\n\n1\t0/3800000\tno recovery target "
						     "specified\n  \n2\t1/A0\tbefore 2024-03-01 12:00:00+01\n"
						     "5 2/0 at restore point \"x\"", &br, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(br[0].tli, 1);
	ck_assert_uint_eq(br[0].end, 0x3800000);
	ck_assert_uint_eq(br[1].tli, 2);
	ck_assert_uint_eq(br[1].end, 0x1000000A0ULL);
	ck_assert_uint_eq(br[2].tli, 5);
	ck_assert_uint_eq(br[2].end, 0x200000000ULL);
	free(br);
	ck_assert_int_eq(pitr_timeline_parse_history("", &br, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(br);
}
END_TEST

START_TEST(test_history_errors)
{
	static const char *const bad[] = {
		"x\t0/1\treason\n",              /* no timeline number */
		"1\n",                            /* no switch point */
		"1\t0/1x\n",                      /* not an LSN */
		"0\t0/1\n",                       /* timeline 0 */
		"2\t0/1\n1\t0/2\n",               /* timelines must increase */
		"1\t0/5\n2\t0/4\n",               /* switch points must not go back */
		"1\t0/1\n\nabc\n",
		NULL,
	};

	for (int i = 0; bad[i] != NULL; i++) {
		struct pitr_timeline_branch *br = (void *)1;
		size_t n = 9;

		ck_assert_msg(pitr_timeline_parse_history(bad[i], &br, &n) == -1, "accepted [%s]", bad[i]);
		ck_assert_ptr_null(br);
		ck_assert_uint_eq(n, 0);
	}
}
END_TEST

START_TEST(test_history_fits)
{
	static const struct pitr_timeline_branch one[] = { { 1, 0x380000 } };
	static const struct pitr_timeline_branch two[] = { { 1, 0x380000 }, { 2, 0x600000 } };
	static const struct pitr_timeline_branch self[] = { { 1, 0x100000 }, { 4, 0x200000 } };

	ck_assert(!pitr_timeline_history_fits(1, one, 1));    /* timeline 1 has none */
	ck_assert(!pitr_timeline_history_fits(1, NULL, 0));
	ck_assert(!pitr_timeline_history_fits(2, NULL, 0));   /* a later one names its parent */
	ck_assert(pitr_timeline_history_fits(2, one, 1));
	ck_assert(pitr_timeline_history_fits(3, two, 2));
	ck_assert(!pitr_timeline_history_fits(2, two, 2));    /* its own number as an ancestor */
	ck_assert(!pitr_timeline_history_fits(4, self, 2));
}
END_TEST

/* Timeline 4, born of 2 at 0/600000 (segment 6), itself born of 1 at
 * 0/380000 (segment 3). */
START_TEST(test_path)
{
	static const struct pitr_timeline_branch anc[] = { { 1, 0x380000 }, { 2, 0x600000 } };
	const struct pitr_timeline_path p = { 4, anc, 2 };
	uint64_t end = 0;

	ck_assert_uint_eq(pitr_timeline_step_tli(&p, 0), 1);
	ck_assert_uint_eq(pitr_timeline_step_tli(&p, 1), 2);
	ck_assert_uint_eq(pitr_timeline_step_tli(&p, 2), 4);
	ck_assert_uint_eq(pitr_timeline_step_begin(&p, 0), 0);
	ck_assert_uint_eq(pitr_timeline_step_begin(&p, 1), 0x380000);
	ck_assert_uint_eq(pitr_timeline_step_begin(&p, 2), 0x600000);
	ck_assert_uint_eq(pitr_timeline_step_end(&p, 0), 0x380000);
	ck_assert_uint_eq(pitr_timeline_step_end(&p, 1), 0x600000);
	ck_assert_uint_eq(pitr_timeline_step_end(&p, 2), UINT64_MAX);

	ck_assert_int_eq(pitr_timeline_switch_point(&p, 1, &end), 0);
	ck_assert_uint_eq(end, 0x380000);
	ck_assert_int_eq(pitr_timeline_switch_point(&p, 2, &end), 0);
	ck_assert_uint_eq(end, 0x600000);
	ck_assert_int_eq(pitr_timeline_switch_point(&p, 4, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	end = 7;
	ck_assert_int_eq(pitr_timeline_switch_point(&p, 3, &end), -1);
	ck_assert_uint_eq(end, 7);

	/* Segment 3 holds the first switch: both 1 and 2 have it. */
	ck_assert(pitr_timeline_step_serves(&p, 0, 3, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 1, 3, SEG));
	ck_assert(!pitr_timeline_step_serves(&p, 2, 3, SEG));
	/* Past its switch timeline 1's segments are not on the path. */
	ck_assert(!pitr_timeline_step_serves(&p, 0, 4, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 1, 4, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 1, 6, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 2, 6, SEG));
	ck_assert(!pitr_timeline_step_serves(&p, 1, 7, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 2, 1000, SEG));

	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 0, SEG), 1);
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 2, SEG), 1);
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 3, SEG), 2);
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 5, SEG), 2);
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 6, SEG), 4);
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 100, SEG), 4);
}
END_TEST

/* No history known: the timeline alone, from the start. */
START_TEST(test_path_alone)
{
	const struct pitr_timeline_path p = { 7, NULL, 0 };
	uint64_t end = 0;

	ck_assert_uint_eq(pitr_timeline_step_tli(&p, 0), 7);
	ck_assert_uint_eq(pitr_timeline_step_begin(&p, 0), 0);
	ck_assert_uint_eq(pitr_timeline_step_end(&p, 0), UINT64_MAX);
	ck_assert_int_eq(pitr_timeline_switch_point(&p, 7, &end), 0);
	ck_assert_uint_eq(end, UINT64_MAX);
	ck_assert_int_eq(pitr_timeline_switch_point(&p, 1, &end), -1);
	ck_assert(pitr_timeline_step_serves(&p, 0, 0, SEG));
	ck_assert(pitr_timeline_step_serves(&p, 0, 12345, SEG));
	ck_assert_uint_eq(pitr_timeline_of_segment(&p, 12345, SEG), 7);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("timeline");
	TCase *tc = tcase_create("timeline");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_history);
	tcase_add_test(tc, test_history_errors);
	tcase_add_test(tc, test_history_fits);
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_path_alone);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
