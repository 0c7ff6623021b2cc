/*
 * check_recover_settings.c - unit tests for the recovery settings
 * pitr-recover writes (lib/command/recover/settings.c): the
 * postgresql.auto.conf lines for each target and option, quoted as
 * common/quote does (its tables in t/common/check_quote), and where
 * pitr-restore is looked for.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/recover/recover.h"
#include "harness.h"
#include "recover_fixture.h"

/* ---- settings text ---------------------------------------------------------- */

START_TEST(test_conf_text)
{
	struct pitr_recover_opts o;
	struct pitr_recover_target t;
	char *text;

	opts_init(&o);
	o.target_name = "it's done";
	o.target_action = "promote";
	o.target_timeline = "current";
	o.port = 5433;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "bk-*-1.tar.gz", "/opt/pitr kit/pitr-restore",
				      "gzip=/mnt/100%");
	ck_assert_str_eq(text, "# written by pitr-recover: recovery from backup bk-*-1.tar.gz\n"
			 "restore_command = '''/opt/pitr kit/pitr-restore'' -sr -s gzip=/mnt/100%% %f \"%p\"'\n"
			 "recovery_target_name = 'it''s done'\n"
			 "recovery_target_action = 'promote'\n"
			 "recovery_target_timeline = 'current'\n"
			 "# pitr-recover --port\nport = 5433\n");
	free(text);
	pitr_recover_target_free(&t);

	/* Defaults: pause, latest; no target line at the end of the archive. */
	opts_init(&o);
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", "/arch");
	ck_assert_str_eq(text, "# written by pitr-recover: recovery from backup b\n"
			 "restore_command = '/bin/pitr-restore -sr -s /arch %f \"%p\"'\n"
			 "recovery_target_action = 'pause'\n"
			 "recovery_target_timeline = 'latest'\n");
	free(text);
	pitr_recover_target_free(&t);
	o.target_immediate = true;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", "/arch");
	ck_assert_ptr_nonnull(strstr(text, "\nrecovery_target = 'immediate'\n"));
	free(text);
	pitr_recover_target_free(&t);
	opts_init(&o);
	o.target_time = "2024-03-01 11:00:00";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", "/arch");
	ck_assert_ptr_nonnull(strstr(text, "\nrecovery_target_time = '2024-03-01 11:00:00 +0000'\n"));
	free(text);
	pitr_recover_target_free(&t);
}
END_TEST

START_TEST(test_restore_beside)
{
	static const char *const cases[][2] = {
		{ "/usr/bin/pitr-recover", "/usr/bin/pitr-restore" },
		{ "/b/bin/.libs/lt-pitr-recover", "/b/bin/pitr-restore" },
		{ "/b/bin/.libs/pitr-recover", "/b/bin/pitr-restore" },
		{ "/pitr-recover", "/pitr-restore" },
		{ "pitr-recover", "./pitr-restore" },
		{ ".libs/lt-pitr-recover", "./pitr-restore" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = pitr_recover_restore_beside(cases[i][0]);

		ck_assert_str_eq(got, cases[i][1]);
		free(got);
	}
}
END_TEST

static Suite *
recover_settings_suite(void)
{
	Suite *s = suite_create("cmd_recover_settings");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_conf_text);
	tcase_add_test(tc, test_restore_beside);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(recover_settings_suite());
}
