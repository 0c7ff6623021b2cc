/*
 * check_recover_settings.c - unit tests for the recovery settings
 * pitr-recover writes (lib/command/recover/settings.c): the
 * postgresql.auto.conf lines for each target and option, quoted as
 * common/quote does (its tables in t/common/check_quote), and where
 * pitr-restore is looked for.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command/recover/recover.h"
#include "command/standby/standby.h"
#include "common/fsutil.h"
#include "harness.h"
#include "recover_fixture.h"
#include "s3/s3.h"

/* What every copy gets first: the source's settings voided. */
/* One archive, as the array pitr_recover_conf_text() takes. */
#define A(dir) ((const char *const[]){ (dir) })

#define VOIDS \
	"# pitr-recover: the source's replication, trigger and recovery settings do not apply to this copy\n" \
	"primary_conninfo = ''\nprimary_slot_name = ''\npromote_trigger_file = ''\n" \
	"archive_cleanup_command = ''\nrecovery_end_command = ''\nrestore_command = ''\n" \
	"recovery_target = ''\nrecovery_target_lsn = ''\nrecovery_target_name = ''\n" \
	"recovery_target_time = ''\nrecovery_target_xid = ''\nrecovery_target_inclusive = 'on'\n" \
	"recovery_target_action = 'pause'\nrecovery_target_timeline = 'latest'\n"
#define ARCHIVE_OFF \
	"# pitr-recover --archive-mode=off: a recovered copy does not archive into its source's " \
	"archive (--archive-mode=preserve keeps archiving)\narchive_mode = 'off'\n"

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
				      A("gzip=/mnt/100%"), 1, "/opt/pitr kit/pitr-recover", 15);
	ck_assert_str_eq(text, "# written by pitr-recover: recovery from backup bk-*-1.tar.gz\n"
			 VOIDS ARCHIVE_OFF
			 "# pitr-recover --port\nport = 5433\n"
			 PITR_RECOVER_BLOCK_BEGIN "\n"
			 "restore_command = '''/opt/pitr kit/pitr-restore'' -sr -s gzip=/mnt/100%% %f \"%p\"'\n"
			 "recovery_target_name = 'it''s done'\n"
			 "recovery_target_action = 'promote'\n"
			 "recovery_target_timeline = 'current'\n"
			 "recovery_end_command = '''/opt/pitr kit/pitr-recover'' --recovery-ended || exit 1'\n"
			 PITR_RECOVER_BLOCK_END "\n");
	free(text);
	pitr_recover_target_free(&t);

	/* Several archives: one -s each, in the order given (pitr-restore
	 * takes a segment from the first that has it), each quoted alone. */
	opts_init(&o);
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore",
				      (const char *const[]){ "/host a/arch", "gzip=/b", "/c" }, 3,
				      "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "restore_command = '/bin/pitr-restore -sr -s ''/host a/arch'' "
				     "-s gzip=/b -s /c %f \"%p\"'\n"));
	free(text);
	pitr_recover_target_free(&t);

	/* Defaults: pause, latest; no target line at the end of the archive. */
	opts_init(&o);
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_str_eq(text, "# written by pitr-recover: recovery from backup b\n"
			 VOIDS ARCHIVE_OFF PITR_RECOVER_BLOCK_BEGIN "\n"
			 "restore_command = '/bin/pitr-restore -sr -s /arch %f \"%p\"'\n"
			 "recovery_target_action = 'pause'\n"
			 "recovery_target_timeline = 'latest'\n"
			 "recovery_end_command = '/bin/pitr-recover --recovery-ended || exit 1'\n"
			 PITR_RECOVER_BLOCK_END "\n");
	free(text);
	/* A standby archives as its source did, unless told otherwise. */
	o.standby = true;
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_null(strstr(text, "archive_mode"));
	ck_assert_ptr_nonnull(strstr(text, "\nprimary_conninfo = ''\n"));
	free(text);
	o.archive_mode = "off";
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, ARCHIVE_OFF));
	free(text);
	/* PostgreSQL 16 has no promote_trigger_file. */
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 16);
	ck_assert_ptr_null(strstr(text, "promote_trigger_file"));
	ck_assert_ptr_nonnull(strstr(text, "\nprimary_conninfo = ''\nprimary_slot_name = ''\n"
				     "archive_cleanup_command = ''\n"));
	free(text);
	o.standby = false;
	o.archive_mode = "preserve";
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_null(strstr(text, "archive_mode"));
	free(text);
	pitr_recover_target_free(&t);
	o.target_immediate = true;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrecovery_target = 'immediate'\n"));
	free(text);
	pitr_recover_target_free(&t);
	opts_init(&o);
	o.target_time = "2024-03-01 11:00:00";
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrecovery_target_time = '2024-03-01 11:00:00 +0000'\n"));
	free(text);
	pitr_recover_target_free(&t);
}
END_TEST

/* --prefetch N: restore_command's pitr-restore gets -pf N, unless
 * --restore-options gives -pf or --prefetch itself (the user's wins). */
START_TEST(test_prefetch_text)
{
	static const char *const given[] = { "-pf 8 -w 5", "--prefetch=2", "--pf 3" };
	struct pitr_standby_opts sb;
	struct pitr_recover_opts o;
	struct pitr_recover_target t;
	char *text;

	opts_init(&o);
	o.prefetch = 4;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrestore_command = '/bin/pitr-restore -sr -pf 4 -s /arch %f \"%p\"'\n"));
	free(text);
	memset(&sb, 0, sizeof(sb));
	sb.mode = PITR_STANDBY_WARM;
	o.sb = &sb;
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrestore_command = '/bin/pitr-restore -pf 4 -s /arch %f \"%p\"'\n"));
	free(text);
	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		sb.restore_options = given[i];
		text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
		ck_assert_msg(strstr(text, given[i]) != NULL && strstr(text, "-pf 4") == NULL,
			      "--restore-options %s: %s", given[i], text);
		free(text);
	}
	/* 0: none. */
	sb.restore_options = NULL;
	o.prefetch = 0;
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_null(strstr(text, "-pf"));
	free(text);
	pitr_recover_target_free(&t);
}
END_TEST

/* An s3:// archive: restore_command gives pitr-restore the run's --s3-*
 * settings, quoted as the other words, before the archives; none for a
 * local archive alone or without settings. */
START_TEST(test_s3_text)
{
	static const char *const mixed[] = { "/arch", "gzip=s3://pitr/wal/" };
	struct pitr_s3_config s3 = {
		.endpoint = "https://127.0.0.1:8443", .path_style = true, .ca_file = "/etc/my ca.pem",
		.retries = PITR_S3_RETRIES_DEFAULT,
	};
	struct pitr_recover_opts o;
	struct pitr_recover_target t;
	char *text;

	opts_init(&o);
	o.s3 = &s3;
	ck_assert_int_eq(pitr_recover_parse_target(&o, &t), 0);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", mixed, 2, "/bin/pitr-recover", 15);
	ck_assert_msg(strstr(text, "\nrestore_command = '/bin/pitr-restore -sr --s3-endpoint=https://127.0.0.1:8443 "
			     "--s3-uri-style=path ''--s3-ca-file=/etc/my ca.pem'' -s /arch -s gzip=s3://pitr/wal/ "
			     "%f \"%p\"'\n") != NULL, "%s", text);
	free(text);
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("/arch"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrestore_command = '/bin/pitr-restore -sr -s /arch %f \"%p\"'\n"));
	free(text);
	o.s3 = NULL;
	text = pitr_recover_conf_text(&o, &t, "b", "/bin/pitr-restore", A("s3://pitr/wal/"), 1, "/bin/pitr-recover", 15);
	ck_assert_ptr_nonnull(strstr(text, "\nrestore_command = '/bin/pitr-restore -sr -s s3://pitr/wal/ %f \"%p\"'\n"));
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

/* ---- --recovery-ended --------------------------------------------------------- */

START_TEST(test_strip_block)
{
	const char *conf = "work_mem = '8MB'\n" VOIDS ARCHIVE_OFF PITR_RECOVER_BLOCK_BEGIN "\n"
			   "restore_command = 'x'\nrecovery_target_xid = '7'\n"
			   "recovery_end_command = 'y'\n" PITR_RECOVER_BLOCK_END "\nport = 1\n";
	/* ALTER SYSTEM's rewrite: no comments, the order kept. */
	const char *rewritten = "work_mem = '8MB'\nrestore_command = ''\nrecovery_target_xid = ''\n"
				"archive_mode = 'off'\nrestore_command = 'x'\n"
				"recovery_target_xid = '7'\nrecovery_end_command = 'y'\nport = 1\n";
	size_t removed;
	char *out = pitr_recover_strip_block(conf, &removed);

	ck_assert_str_eq(out, "work_mem = '8MB'\n" VOIDS ARCHIVE_OFF "port = 1\n");
	ck_assert_uint_eq(removed, 5);
	free(out);
	out = pitr_recover_strip_block(rewritten, &removed);
	ck_assert_str_eq(out, "work_mem = '8MB'\nrestore_command = ''\nrecovery_target_xid = ''\n"
			 "archive_mode = 'off'\nport = 1\n");
	ck_assert_uint_eq(removed, 3);
	free(out);
	/* Nothing of pitr-recover's: nothing removed. */
	out = pitr_recover_strip_block("restore_command = 'z'\n", &removed);
	ck_assert_str_eq(out, "restore_command = 'z'\n");
	ck_assert_uint_eq(removed, 0);
	free(out);
}
END_TEST

#define ENDED_CONF VOIDS ARCHIVE_OFF PITR_RECOVER_BLOCK_BEGIN "\nrestore_command = 'x'\n" \
	PITR_RECOVER_BLOCK_END "\n"

START_TEST(test_recovery_ended)
{
	const char *dir = h_path("data");
	char *got;
	size_t len;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	/* Not a data dir: refused, nothing written. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover_ended(dir), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "is not a PostgreSQL data directory"));
	h_write_file(h_path("data/PG_VERSION"), "15\n", 3);
	h_write_file(h_path("data/postgresql.auto.conf"), ENDED_CONF, strlen(ENDED_CONF));
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover_ended(dir), 0);
	got = pitr_fsutil_read_small(h_path("data/postgresql.auto.conf"), 65536, &len);
	ck_assert_str_eq(got, VOIDS ARCHIVE_OFF);
	free(got);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : recovery ended: pitr-recover's recovery settings "
				     "(3 lines) removed"));
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : archiving stays disabled in this copy"));
	/* Again: nothing to remove, still 0. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover_ended(dir), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "no recovery settings of pitr-recover left"));
}
END_TEST

/* The end of recovery removes pg_wal/.pitr-prefetch, and first stops the
 * worker that holds its lock (here a child holding it as libbsd's
 * pidfile does: flock, its pid in the file). */
START_TEST(test_recovery_ended_prefetch)
{
	int ready[2], status, fd;
	pid_t child;
	char c;

	ck_assert_int_eq(mkdir(h_path("data"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("data/pg_wal"), 0700), 0);
	ck_assert_int_eq(mkdir(h_path("data/pg_wal/.pitr-prefetch"), 0700), 0);
	h_write_file(h_path("data/PG_VERSION"), "15\n", 3);
	h_write_file(h_path("data/postgresql.auto.conf"), ENDED_CONF, strlen(ENDED_CONF));
	h_write_file(h_path("data/pg_wal/.pitr-prefetch/000000010000000000000003"), "x", 1);
	ck_assert_int_eq(pipe(ready), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		char pid[32];

		/* The harness's handler signals the whole group; only a
		 * pitr-restore (by its name) is sent SIGTERM. */
		signal(SIGTERM, SIG_DFL);
		prctl(PR_SET_NAME, "pitr-restore");
		fd = open(h_path("data/pg_wal/.pitr-prefetch/worker.pid"), O_WRONLY | O_CREAT, 0600);
		if (fd < 0 || flock(fd, LOCK_EX) != 0 ||
		    write(fd, pid, (size_t)snprintf(pid, sizeof(pid), "%d\n", (int)getpid())) <= 0 ||
		    write(ready[1], "r", 1) != 1)
			_exit(2);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover_ended(h_path("data")), 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	ck_assert_int_ne(access(h_path("data/pg_wal/.pitr-prefetch"), F_OK), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "LOG : recovery ended: pitr-restore's prefetched "
				     "segments removed"));
	/* None left: nothing said. */
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover_ended(h_path("data")), 0);
	ck_assert_ptr_null(strstr(h_log(), "prefetched"));
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
	tcase_add_test(tc, test_strip_block);
	tcase_add_test(tc, test_recovery_ended);
	tcase_add_test(tc, test_recovery_ended_prefetch);
	tcase_add_test(tc, test_prefetch_text);
	tcase_add_test(tc, test_s3_text);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(recover_settings_suite());
}
