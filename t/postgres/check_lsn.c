/*
 * check_lsn.c - unit tests for lib/postgres/lsn.c: LSN text both ways,
 * every malformed form refused.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "postgres/lsn.h"

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

START_TEST(test_lsn)
{
	static const char *const bad[] = { "", "0", "0/", "/1", "123456789/0", "0/123456789",
					   "0/3000028x", "G/1", "0-1", " 0/1", "0/1/2", NULL };
	uint64_t v = 7;
	char out[32];

	ck_assert_int_eq(pitr_lsn_parse("0/3000028", &v), 0);
	ck_assert_uint_eq(v, 0x3000028);
	ck_assert_int_eq(pitr_lsn_parse("16/b374d848", &v), 0);
	ck_assert_uint_eq(v, 0x16B374D848ULL);
	ck_assert_int_eq(pitr_lsn_parse("FFFFFFFF/FFFFFFFF", &v), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	for (int i = 0; bad[i] != NULL; i++) {
		v = 7;
		ck_assert_msg(pitr_lsn_parse(bad[i], &v) == -1, "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(v, 7);
	}
	pitr_lsn_format(0x3000028, out, sizeof(out));
	ck_assert_str_eq(out, "0/3000028");
	pitr_lsn_format(0x16B374D848ULL, out, sizeof(out));
	ck_assert_str_eq(out, "16/B374D848");
	pitr_lsn_format(0, out, sizeof(out));
	ck_assert_str_eq(out, "0/0");
}
END_TEST


START_TEST(test_lsn_round_trip)
{
	static const uint64_t lsns[] = { 0, 1, 0x28, 0xFFFFFFFF, 0x100000000ULL, 0x1FFF00028ULL,
					 UINT64_MAX };
	char out[PITR_LSN_TEXT_MAX];

	for (size_t i = 0; i < sizeof(lsns) / sizeof(lsns[0]); i++) {
		uint64_t v = 7;

		pitr_lsn_format(lsns[i], out, sizeof(out));
		ck_assert_int_eq(pitr_lsn_parse(out, &v), 0);
		ck_assert_uint_eq(v, lsns[i]);
	}
	/* The longest fits the buffer the header promises. */
	pitr_lsn_format(UINT64_MAX, out, sizeof(out));
	ck_assert_str_eq(out, "FFFFFFFF/FFFFFFFF");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("lsn");
	TCase *tc = tcase_create("lsn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lsn);
	tcase_add_test(tc, test_lsn_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
