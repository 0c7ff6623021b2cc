/*
 * check_recover_target.c - unit tests for pitr-recover's target and backup
 * choice (lib/command/recover/target.c, choose.c): time parsing, every
 * target option and its refusals, and the backup chosen by each target
 * kind, by name and by timeline.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/recover/recover.h"
#include "harness.h"
#include "postgres/timestamp.h"
#include "recover_fixture.h"
#include "repo/catalog.h"

/* ---- targets -------------------------------------------------------------- */

START_TEST(test_parse_time)
{
	static const struct {
		const char *text;
		time_t epoch;
		bool zone;
	} good[] = {
		{ "2024-03-01 12:00:00+01", 1709290800, true },
		{ "2024-03-01 12:00:00 +0100", 1709290800, true },
		{ "2024-03-01 12:00:00-02:30", 1709303400, true },
		{ "2024-03-01T11:00:00Z", 1709290800, true },
		{ "2024-03-01 11:00:00.123456 UTC", 1709290800, true },
		{ "2024-03-01 11:00 GMT", 1709290800, true },
		{ "2024-03-01 11:00:00", 1709290800, false },
		{ "2024-02-29 23:59:59.5", 1709251199, false },
	};
	static const char *const bad[] = {
		"", "2024-03-01", "2024-3-01 12:00:00", "2024-03-01 12", "2024-03-01 25:00:00",
		"2024-13-01 12:00:00", "2024-03-01 12:00:00 CET", "2024-03-01 12:00:00+1",
		"2024-03-01 12:00:00.", "2024-03-01 12:00:00+01:00x", "yesterday",
	};
	time_t t;
	bool zone;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		zone = !good[i].zone;
		ck_assert_msg(pitr_timestamp_parse(good[i].text, &t, &zone) == 0, "%s", good[i].text);
		ck_assert_msg(t == good[i].epoch, "%s: %ld", good[i].text, (long)t);
		ck_assert_int_eq(zone, good[i].zone);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(pitr_timestamp_parse(bad[i], &t, &zone) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_parse_target)
{
	struct pitr_recover_opts o;
	struct pitr_recover_target t;

	opts_init(&o);
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_int_eq(t.kind, PITR_RECOVER_END);
	pitr_recover_target_free(&t);

	o.target_time = "2024-03-01 11:00:00";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_int_eq(t.kind, PITR_RECOVER_TIME);
	ck_assert_int_eq(t.epoch, 1709290800);
	ck_assert_str_eq(t.conf_value, "2024-03-01 11:00:00 +0000");
	pitr_recover_target_free(&t);
	o.target_time = "2024-03-01 12:00:00.5+01";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_str_eq(t.conf_value, "2024-03-01 12:00:00.5+01");
	pitr_recover_target_free(&t);

	o.target_immediate = true;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), -1);
	pitr_recover_target_free(&t);
	ck_assert_str_eq(h_log(), "ERROR : --target-time and --target-immediate given: at most one "
			 "recovery target\n");
	o.target_time = NULL;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_int_eq(t.kind, PITR_RECOVER_IMMEDIATE);
	ck_assert_ptr_null(t.value);
	pitr_recover_target_free(&t);
	o.target_immediate = false;

	o.target_lsn = "0/3000028";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_uint_eq(t.lsn, 0x3000028);
	ck_assert_str_eq(t.conf_value, "0/3000028");
	pitr_recover_target_free(&t);
	o.target_xid = "735";
	h_log_reset();
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), -1);
	ck_assert_str_eq(h_log(), "ERROR : --target-xid and --target-lsn given: at most one recovery target\n");
	pitr_recover_target_free(&t);
	o.target_lsn = NULL;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_int_eq(t.kind, PITR_RECOVER_XID);
	ck_assert_str_eq(t.conf_value, "735");
	pitr_recover_target_free(&t);
	o.target_xid = NULL;
	o.target_name = "before upgrade";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	ck_assert_int_eq(t.kind, PITR_RECOVER_NAME);
	ck_assert_str_eq(t.conf_value, "before upgrade");
	pitr_recover_target_free(&t);
	o.target_name = NULL;

	{
		static const struct {
			int which;
			const char *value;
			const char *error;
		} bad[] = {
			{ 0, "noon", "invalid value \"noon\" for option \"--target-time\": expected "
				     "YYYY-MM-DD HH:MM:SS[.FFFFFF][+HH[:MM]|Z]" },
			{ 1, "12a", "invalid value \"12a\" for option \"--target-xid\": expected a "
				    "transaction ID (a number from 3)" },
			{ 1, "2", "invalid value \"2\" for option \"--target-xid\": expected a "
				  "transaction ID (a number from 3)" },
			{ 1, "-5", "invalid value \"-5\" for option \"--target-xid\": expected a "
				   "transaction ID (a number from 3)" },
			{ 2, "3000028", "invalid value \"3000028\" for option \"--target-lsn\": expected an "
					"LSN like 0/3000028" },
			{ 3, "", "invalid value \"\" for option \"--target-name\": a restore point name is "
				 "1 to 63 bytes" },
			{ 3, "0123456789012345678901234567890123456789012345678901234567890123",
			  "invalid value \"0123456789012345678901234567890123456789012345678901234567890123\" "
			  "for option \"--target-name\": a restore point name is 1 to 63 bytes" },
		};

		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			const char **field[] = { &o.target_time, &o.target_xid, &o.target_lsn, &o.target_name };

			opts_init(&o);
			*field[bad[i].which] = bad[i].value;
			h_log_reset();
			ck_assert_int_eq(pitr_recover_parse_target(&o, &t), -1);
			pitr_recover_target_free(&t);
			ck_assert_str_eq(h_log(), h_fmt("ERROR : %s\n", bad[i].error));
		}
	}
}
END_TEST

/* ---- choosing --------------------------------------------------------------- */

/* Three backups (March 1, 2, 3; stop at 12:05 UTC; stop LSNs 0/300100,
 * 0/600100, 0/900100), the xlog of the second missing from its dir. */
static void
three_backups(struct pitr_catalog *cat)
{
	for (int day = 1; day <= 3; day++) {
		unsigned start = (unsigned)day * 3 - 1, stop = (unsigned)day * 3;

		text_file(h_fmt("%s/bk-meta-2024030%d.tar", bk, day),
		    h_fmt("start_wal=00000001000000000000000%X\nstop_wal=00000001000000000000000%X\n"
		       "start_lsn=0/%X\nstop_lsn=0/%X\nstart_time=2024-03-0%d 12:00:00 +0000\n"
		       "stop_time=2024-03-0%d 12:05:00 +0000\nhost=db1\nlabel=l%d\n"
		       "system_identifier=%llu\ntimeline=1\nwal_segment_size=%u\ndata_dir=/pg\n"
		       "data_size=1\nxlog_size=1\ncodec=none\ndigests=\n",
		       start, stop, start * SEG + 0x28, stop * SEG + 0x100, day, day, day,
		       (unsigned long long)SYSID, SEG));
		text_file(h_fmt("%s/bk-data-2024030%d.tar", bk, day), "data");
		text_file(h_fmt("%s/bk-xlog-2024030%d.tar", bk, day), "xlog");
	}
	ck_assert_int_eq(pitr_catalog_load(bk, arch, NULL, cat), 0);
	ck_assert_uint_eq(cat->nbackups, 3);
}

static const char *
chosen(const struct pitr_catalog *cat, const char *name, const struct pitr_recover_opts *o)
{
	struct pitr_recover_target t;
	const struct pitr_catalog_backup *b;

	ck_assert_int_eq(pitr_recover_parse_target(o, &t), 0);
	b = pitr_recover_choose(cat, bk, name, &t, 0);
	pitr_recover_target_free(&t);
	return b ? b->name : "none";
}

START_TEST(test_choose)
{
	struct pitr_catalog cat = { 0 };
	struct pitr_recover_opts o;

	three_backups(&cat);
	opts_init(&o);
	/* No target, --target-immediate: the newest. */
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240303.tar");
	o.target_immediate = true;
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240303.tar");
	opts_init(&o);

	/* Time: the newest that stopped before it. */
	o.target_time = "2024-03-02 12:05:01+00";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240302.tar");
	o.target_time = "2024-03-02 12:05:00+00";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240301.tar");
	o.target_time = "2024-03-02 13:05:00+01";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240301.tar");
	o.target_time = "2025-01-01 00:00:00";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240303.tar");
	ck_assert_str_eq(h_log(), "");
	o.target_time = "2024-03-01 12:04:00+00";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "none");
	ck_assert_str_eq(h_log(), h_fmt("ERROR : no backup in \"%s\" ends before --target-time \"2024-03-01 "
				     "12:04:00+00\" (the oldest ends at 2024-03-01 12:05:00 +0000)\n", bk));
	h_log_reset();

	/* LSN: the newest whose stop LSN is at or before it. */
	opts_init(&o);
	o.target_lsn = "0/600100";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240302.tar");
	o.target_lsn = "0/6000FF";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240301.tar");
	o.target_lsn = "1/0";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240303.tar");
	o.target_lsn = "0/100";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "none");
	ck_assert_str_eq(h_log(), h_fmt("ERROR : no backup in \"%s\" ends before --target-lsn 0/100 (the "
				     "oldest ends at 2024-03-01 12:05:00 +0000)\n", bk));
	h_log_reset();

	/* XID and restore point: the oldest. */
	opts_init(&o);
	o.target_xid = "1000";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240301.tar");
	opts_init(&o);
	o.target_name = "rp";
	ck_assert_str_eq(chosen(&cat, NULL, &o), "bk-*-20240301.tar");

	/* By name: the catalog name, any of its file names, "latest". */
	opts_init(&o);
	ck_assert_str_eq(chosen(&cat, "bk-*-20240302.tar", &o), "bk-*-20240302.tar");
	ck_assert_str_eq(chosen(&cat, "bk-meta-20240302.tar", &o), "bk-*-20240302.tar");
	ck_assert_str_eq(chosen(&cat, "bk-data-20240301.tar", &o), "bk-*-20240301.tar");
	ck_assert_str_eq(chosen(&cat, "latest", &o), "bk-*-20240303.tar");
	ck_assert_str_eq(h_log(), "");
	ck_assert_str_eq(chosen(&cat, "bk-*-2023.tar", &o), "none");
	ck_assert_str_eq(h_log(), h_fmt("ERROR : no backup named \"bk-*-2023.tar\" in \"%s\"\n", bk));
	h_log_reset();
	/* A named backup that ends after the target cannot reach it. */
	o.target_time = "2024-03-02 00:00:00+00";
	ck_assert_str_eq(chosen(&cat, "latest", &o), "none");
	ck_assert_str_eq(h_log(), "ERROR : backup \"bk-*-20240303.tar\" ended at 2024-03-03 12:05:00 +0000 "
			 "(0/900100), after --target-time \"2024-03-02 00:00:00+00\": recovery cannot "
			 "stop before the end of its backup\n");
	pitr_catalog_free(&cat);
}
END_TEST

/* Timeline 2 branched off timeline 1 at 0/500000: a backup taken on 1
 * after that is not on 2's history. */
START_TEST(test_choose_timeline)
{
	struct pitr_catalog cat = { 0 };
	struct pitr_recover_target t = { 0 };
	const struct pitr_catalog_backup *b;

	text_file(h_fmt("%s/00000002.history", arch), "1\t0/500000\tno recovery target specified\n");
	put_segment(2, 5);
	three_backups(&cat);
	b = pitr_recover_choose(&cat, bk, NULL, &t, 2);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->name, "bk-*-20240301.tar");
	b = pitr_recover_choose(&cat, bk, NULL, &t, 1);
	ck_assert_str_eq(b->name, "bk-*-20240303.tar");
	ck_assert_ptr_null(pitr_recover_choose(&cat, bk, "bk-*-20240302.tar", &t, 2));
	ck_assert_str_eq(h_log(), "ERROR : backup \"bk-*-20240302.tar\" (timeline 1) is not on the history of "
			 "timeline 2\n");
	h_log_reset();
	ck_assert_ptr_null(pitr_recover_choose(&cat, bk, NULL, &t, 3));
	ck_assert_str_eq(h_log(), h_fmt("ERROR : no backup in \"%s\" is on the history of timeline 3\n", bk));
	pitr_catalog_free(&cat);
}
END_TEST

static Suite *
recover_target_suite(void)
{
	Suite *s = suite_create("cmd_recover_target");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_parse_time);
	tcase_add_test(tc, test_parse_target);
	tcase_add_test(tc, test_choose);
	tcase_add_test(tc, test_choose_timeline);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(recover_target_suite());
}
