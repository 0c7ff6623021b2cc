/*
 * check_standby.c - unit tests for the standby module
 * (lib/command/standby): the configuration text of every mode, quoting,
 * --set's order, the refusals of pitr_standby_opts_check(), and the
 * recovery.conf parser and its translation.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/recover/recover.h"
#include "command/standby/recoveryconf.h"
#include "command/standby/standby.h"
#include "common/opts.h"
#include "harness.h"

static const char *const ARCH[] = { "gzip=/mnt/100%" };

static struct pitr_standby_ctx
ctx15(void)
{
	return (struct pitr_standby_ctx){
		.program = "pitr-recover", .restore_program = "/opt/pitr kit/pitr-restore",
		.archives = ARCH, .narchives = 1, .recovery_ended = "/usr/bin/pitr-recover",
		.pg_major = 15,
	};
}

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

/* Whether `needle` is in `hay`, with the text shown when not. */
#define HAS(hay, needle) ck_assert_msg(strstr((hay), (needle)) != NULL, "no <%s> in:\n%s", (needle), (hay))
#define HASNT(hay, needle) ck_assert_msg(strstr((hay), (needle)) == NULL, "<%s> in:\n%s", (needle), (hay))

START_TEST(test_streaming)
{
	struct pitr_standby_opts o = { .mode = PITR_STANDBY_STREAMING,
				       .primary_conninfo = "host=10.0.0.1 user=rep password=it's",
				       .primary_slot_name = "node_2" };
	struct pitr_standby_ctx c = ctx15();
	char *t;

	ck_assert_int_eq(pitr_standby_opts_check(&o), 0);
	ck_assert_str_eq(pitr_standby_signal(&o), "standby.signal");
	t = pitr_standby_added_text(&o, &c);
	HAS(t, PITR_RECOVER_BLOCK_BEGIN "\nrestore_command = '''/opt/pitr kit/pitr-restore'' -sr "
	    "-s gzip=/mnt/100%% %f \"%p\"'\n"
	    "primary_conninfo = 'host=10.0.0.1 user=rep password=it''s'\n"
	    "primary_slot_name = 'node_2'\n"
	    "recovery_end_command = '/usr/bin/pitr-recover --recovery-ended || exit 1'\n"
	    PITR_RECOVER_BLOCK_END "\n");
	/* A standby archives as its source did unless told otherwise. */
	HASNT(t, "archive_mode");
	HASNT(t, "recovery_prefetch");
	free(t);
	pitr_standby_opts_free(&o);
}
END_TEST

START_TEST(test_warm)
{
	struct pitr_standby_opts o = { .mode = PITR_STANDBY_WARM, .hot_standby = "off",
				       .restore_options = "-f '/var/lib/pitr/finish recovery' -p "
				       "/p -w 300 -r %r -ep hang -pp /usr/bin/pg_controldata -pf 2" };
	struct pitr_standby_ctx c = ctx15();
	char *t;

	ck_assert_int_eq(pitr_standby_opts_check(&o), 0);
	ck_assert_str_eq(pitr_standby_signal(&o), "recovery.signal");
	t = pitr_standby_added_text(&o, &c);
	/* No -sr: pitr-restore waits for the next segment. */
	HAS(t, "\nrestore_command = '''/opt/pitr kit/pitr-restore'' -f ''/var/lib/pitr/finish "
	    "recovery'' -p /p -w 300 -r %r -ep hang -pp /usr/bin/pg_controldata -pf 2 "
	    "-s gzip=/mnt/100%% %f \"%p\"'\n");
	HAS(t, "\n# pitr-recover --warm-standby: the WAL prefetcher asks restore_command");
	HAS(t, "\nrecovery_prefetch = 'off'\n");
	HAS(t, "# pitr-recover --hot-standby\nhot_standby = 'off'\n");
	free(t);
	/* PostgreSQL 14 has no recovery_prefetch: naming it would stop it. */
	c.pg_major = 14;
	t = pitr_standby_added_text(&o, &c);
	HASNT(t, "recovery_prefetch =");
	HAS(t, "PostgreSQL 14 has no WAL prefetcher");
	free(t);
	pitr_standby_opts_free(&o);
}
END_TEST

START_TEST(test_none_and_sources)
{
	struct pitr_standby_opts o = { .port = 5433 };
	struct pitr_standby_ctx c = ctx15();
	const char *const two[] = { "/a b", "lz4=/c" };
	char *t;

	t = pitr_standby_added_text(&o, &c);
	HAS(t, "archive_mode = 'off'\n# pitr-recover --port\nport = 5433\n" PITR_RECOVER_BLOCK_BEGIN);
	HAS(t, " -sr -s gzip=/mnt/100%% %f");
	free(t);
	ck_assert_int_eq(pitr_standby_archives(&o), 0);
	o.archive_mode = "preserve";
	ck_assert_int_eq(pitr_standby_archives(&o), 1);
	t = pitr_standby_sources(two, 2);
	ck_assert_str_eq(t, "-s '/a b' -s lz4=/c");
	free(t);
	/* Without a recovery-ended program, no recovery_end_command. */
	c.recovery_ended = NULL;
	t = pitr_standby_added_text(&o, &c);
	HASNT(t, "recovery_end_command = '/");
	free(t);
}
END_TEST

START_TEST(test_set_order)
{
	const char *sets[] = { "port=6000", "work_mem=64MB", "auto_explain.log_min_duration=it's" };
	struct pitr_standby_opts o = { .port = 5433, .sets = sets, .nsets = 3 };
	struct pitr_standby_ctx c = ctx15();
	char *t, *end;

	ck_assert_int_eq(pitr_standby_opts_check(&o), 0);
	t = pitr_standby_added_text(&o, &c);
	end = strstr(t, PITR_RECOVER_BLOCK_END);
	ck_assert_ptr_nonnull(end);
	/* After everything else: PostgreSQL applies the last one. */
	ck_assert_str_eq(end, PITR_RECOVER_BLOCK_END "\n"
			 "# pitr-recover --set: the operator's settings, last so they win\n"
			 "port = '6000'\nwork_mem = '64MB'\n"
			 "auto_explain.log_min_duration = 'it''s'\n");
	free(t);
}
END_TEST

START_TEST(test_auto_conf_old)
{
	struct pitr_standby_opts o = { 0 };
	struct pitr_standby_ctx c = ctx15();
	char *t = pitr_standby_auto_conf("work_mem = '1MB'\nprimary_conninfo = 'host=old'\n"
					 "recovery_target_time='2020-01-01'", &o, &c);

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(strncmp(t, "work_mem = '1MB'\n# pitr-recover: primary_conninfo = 'host=old'\n"
				 "# pitr-recover: recovery_target_time='2020-01-01'\n# pitr-recover: "
				 "the source's", 124), 0);
	free(t);
}
END_TEST

/* pitr_standby_opts_check refuses with one line naming what. */
static void
refused(struct pitr_standby_opts *o, const char *what)
{
	h_log_reset();
	ck_assert_int_eq(pitr_standby_opts_check(o), -1);
	HAS(h_log(), what);
	ck_assert_ptr_null(strchr(strchr(h_log(), '\n') + 1, '\n'));
	pitr_standby_opts_free(o);
}

START_TEST(test_refusals)
{
	const char *badname[] = { "1port=5" }, *noeq[] = { "port" }, *rc[] = { "restore_command=x" };
	const char *nl[] = { "work_mem=1\nport=2" };

	refused(&(struct pitr_standby_opts){ .primary_conninfo = "host=x" }, "needs --standby");
	refused(&(struct pitr_standby_opts){ .mode = PITR_STANDBY_WARM, .primary_conninfo = "h" },
		"needs --standby");
	refused(&(struct pitr_standby_opts){ .mode = PITR_STANDBY_STREAMING,
					     .primary_slot_name = "s" }, "needs --primary-conninfo");
	refused(&(struct pitr_standby_opts){ .restore_options = "-f x %f" }, "%f and %p");
	refused(&(struct pitr_standby_opts){ .restore_options = "-w 3 \"%p\"" }, "%f and %p");
	refused(&(struct pitr_standby_opts){ .restore_options = "-s /other" }, "-s is written");
	refused(&(struct pitr_standby_opts){ .restore_options = "--streaming-replication" },
		"--streaming-replication is written");
	refused(&(struct pitr_standby_opts){ .restore_options = "-f 'x" }, "unterminated");
	refused(&(struct pitr_standby_opts){ .hot_standby = "maybe" }, "hot-standby");
	refused(&(struct pitr_standby_opts){ .sets = badname, .nsets = 1 }, "expected NAME=VALUE");
	refused(&(struct pitr_standby_opts){ .sets = noeq, .nsets = 1 }, "expected NAME=VALUE");
	refused(&(struct pitr_standby_opts){ .sets = rc, .nsets = 1 }, "--restore-options");
	refused(&(struct pitr_standby_opts){ .sets = nl, .nsets = 1 }, "control character");
	refused(&(struct pitr_standby_opts){ .recovery_conf = h_path("none") }, "No such file");
}
END_TEST

/* The option rows as a program's table holds them. */
static const struct pitr_opt_def defs[] = {
	PITR_STANDBY_OPTS,
	PITR_STANDBY_OPT_PORT,
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("more"),
	PITR_OPTS_COMMON,
};
/* pitr-synch's: its port is the source's, a string. */
static const struct pitr_opt_def synch_defs[] = {
	PITR_STANDBY_OPTS,
	{ "port", "p", PITR_OPT_STRING, "PORT", .help = "the source's port" },
	PITR_OPTS_LOG,
	PITR_OPTS_VERBOSE("more"),
	PITR_OPTS_COMMON,
};

START_TEST(test_opts_get)
{
	char *argv[] = { "prog", "--standby", "--primary-conninfo", "host=a", "--restore-options",
			 "-pf 2 -w 5", "--set", "a=1", "--set", "b=2", "--port", "5999",
			 "--hot-standby", "off", NULL };
	char *both[] = { "prog", "--standby", "--warm-standby", NULL };
	struct pitr_opts po = { 0 };
	struct pitr_standby_opts o;

	ck_assert_int_eq(pitr_opts_parse(&po, defs, sizeof(defs) / sizeof(defs[0]), 14, argv), 0);
	ck_assert_int_eq(pitr_standby_opts_get(&po, &o), 0);
	ck_assert_int_eq(o.mode, PITR_STANDBY_STREAMING);
	ck_assert_str_eq(o.primary_conninfo, "host=a");
	ck_assert_str_eq(o.restore_options, "-pf 2 -w 5");
	ck_assert_uint_eq(o.nsets, 2);
	ck_assert_str_eq(o.sets[1], "b=2");
	ck_assert_int_eq(o.port, 5999);
	ck_assert_str_eq(o.hot_standby, "off");
	pitr_standby_opts_free(&o);
	pitr_opts_free(&po);
	/* A table whose port is another option's: not the copy's. */
	memset(&po, 0, sizeof(po));
	ck_assert_int_eq(pitr_opts_parse(&po, synch_defs, sizeof(synch_defs) / sizeof(synch_defs[0]),
					 14, argv), 0);
	ck_assert_int_eq(pitr_standby_opts_get(&po, &o), 0);
	ck_assert_int_eq(o.port, 0);
	pitr_standby_opts_free(&o);
	pitr_opts_free(&po);
	memset(&po, 0, sizeof(po));
	ck_assert_int_eq(pitr_opts_parse(&po, defs, sizeof(defs) / sizeof(defs[0]), 3, both), 0);
	h_log_reset();
	ck_assert_int_eq(pitr_standby_opts_get(&po, &o), -1);
	HAS(h_log(), "--standby and --warm-standby exclude each other");
	pitr_standby_opts_free(&o);
	pitr_opts_free(&po);
}
END_TEST

/* ---- recovery.conf -------------------------------------------------------- */

START_TEST(test_parse)
{
	static const char text[] =
		"# the guide's\n"
		"restore_command = '/opt/omnipitr-restore -s gzip=/a -f /b %f %p'  # trailing\n"
		"\n  standby_mode on\n"
		"Primary_Conninfo='host=m password=''x'' app=\\'y\\' tab=\\t o=\\101'\n"
		"recovery_target_timeline = latest\n"
		"recovery_min_apply_delay = 5min\n";
	struct pitr_recovery_conf c;

	ck_assert_int_eq(pitr_recovery_conf_parse(text, sizeof(text) - 1, "r.conf", &c), 0);
	ck_assert_uint_eq(c.n, 5);
	ck_assert_str_eq(c.items[0].value, "/opt/omnipitr-restore -s gzip=/a -f /b %f %p");
	ck_assert_uint_eq(c.items[0].line, 2);
	ck_assert_str_eq(c.items[1].key, "standby_mode");
	ck_assert_str_eq(c.items[1].value, "on");
	ck_assert_uint_eq(c.items[1].line, 4);
	ck_assert_str_eq(c.items[2].key, "primary_conninfo");
	ck_assert_str_eq(c.items[2].value, "host=m password='x' app='y' tab=\t o=A");
	ck_assert_str_eq(c.items[3].value, "latest");
	ck_assert_str_eq(c.items[4].value, "5min");
	pitr_recovery_conf_free(&c);
}
END_TEST

static void
bad_parse(const char *text, const char *why)
{
	struct pitr_recovery_conf c;

	h_log_reset();
	ck_assert_int_eq(pitr_recovery_conf_parse(text, strlen(text), "r.conf", &c), -1);
	HAS(h_log(), why);
	pitr_recovery_conf_free(&c);
}

START_TEST(test_parse_bad)
{
	bad_parse("restore_command = 'abc\n", "line 1: a quoted value is not closed");
	bad_parse("\n= 'x'\n", "line 2: expected a setting's name");
	bad_parse("a = 'x' b\n", "expected name = 'value'");
	bad_parse("a = \n", "expected name = 'value'");
	bad_parse("a = $%\n", "expected name = 'value'");
}
END_TEST

START_TEST(test_translate)
{
	const char *k, *v, *why;
	int on;

	ck_assert_int_eq(pitr_recovery_conf_translate("trigger_file", "/t", &k, &v, &on, &why),
			 PITR_RCONF_SETTING);
	ck_assert_str_eq(k, "promote_trigger_file");
	HAS(why, "-f finish trigger");
	ck_assert_int_eq(pitr_recovery_conf_translate("pause_at_recovery_target", "false", &k, &v,
						      &on, &why), PITR_RCONF_SETTING);
	ck_assert_str_eq(k, "recovery_target_action");
	ck_assert_str_eq(v, "promote");
	ck_assert_int_eq(pitr_recovery_conf_translate("standby_mode", "TRUE", &k, &v, &on, &why),
			 PITR_RCONF_STANDBY);
	ck_assert_int_eq(on, 1);
	ck_assert_int_eq(pitr_recovery_conf_translate("standby_mode", "perhaps", &k, &v, &on, &why),
			 PITR_RCONF_INVALID);
	ck_assert_int_eq(pitr_recovery_conf_translate("recovery_target_xid", "7", &k, &v, &on, &why),
			 PITR_RCONF_SETTING);
	ck_assert_int_eq(pitr_recovery_conf_translate("shared_buffers", "1GB", &k, &v, &on, &why),
			 PITR_RCONF_UNKNOWN);
	ck_assert_int_eq(pitr_recovery_conf_translate("restore_command", "a\nb", &k, &v, &on, &why),
			 PITR_RCONF_INVALID);
}
END_TEST

static const char GUIDE[] =
	"restore_command = '/opt/msys/3rdParty/omnipitr/bin/omnipitr-restore -l "
	"/var/log/pe2/omnipitr/^a.log -s gzip=/var/log/pe2/omnipitr/wal_archive -f "
	"/var/log/pe2/omnipitr/finish.recovery -p /var/log/pe2/omnipitr/pause.removal -t "
	"/var/tmp/omnipitr/ -ep hang -pp /opt/msys/3rdParty/bin/pg_controldata -r -v %f %p'\n";

START_TEST(test_guide_conf)
{
	struct pitr_standby_opts o = { .recovery_conf = h_path("recovery.conf") };
	struct pitr_standby_ctx c = ctx15();
	char *t;

	h_write_file(o.recovery_conf, GUIDE, sizeof(GUIDE) - 1);
	ck_assert_int_eq(pitr_standby_opts_check(&o), 0);
	/* No standby_mode: OmniPITR's warm standby. */
	ck_assert_int_eq(o.mode, PITR_STANDBY_WARM);
	HAS(h_log(), "recovery.conf line 1: restore_command: written as it is");
	t = pitr_standby_added_text(&o, &c);
	HAS(t, "\nrestore_command = '''/opt/pitr kit/pitr-restore'' -l /var/log/pe2/omnipitr/^a.log "
	    "-s gzip=/var/log/pe2/omnipitr/wal_archive -f");
	HAS(t, "-r -v %f %p'\n");
	HAS(t, "recovery_prefetch = 'off'");
	free(t);
	pitr_standby_opts_free(&o);
}
END_TEST

START_TEST(test_streaming_conf)
{
	static const char text[] =
		"standby_mode = 'on'\nprimary_conninfo = 'host=master port=5432 user=replicator'\n"
		"restore_command = 'omnipitr-restore -sr -s gzip=/mnt/wal_archive %f %p'\n"
		"archive_cleanup_command = '/usr/bin/omnipitr-cleanup -a gzip=/mnt/wal_archive %r'\n"
		"trigger_file = '/var/lib/pitr/promote'\n"
		"recovery_end_command = 'echo done'\n"
		"recovery_target_timeline = '3'\n";
	struct pitr_standby_opts o = { .recovery_conf = h_path("recovery.conf") };
	struct pitr_standby_ctx c = ctx15();
	char *t;

	h_write_file(o.recovery_conf, text, sizeof(text) - 1);
	ck_assert_int_eq(pitr_standby_opts_check(&o), 0);
	ck_assert_int_eq(o.mode, PITR_STANDBY_STREAMING);
	ck_assert_str_eq(o.primary_conninfo, "host=master port=5432 user=replicator");
	ck_assert_str_eq(pitr_standby_conf_value(&o, "recovery_target_timeline"), "3");
	HAS(h_log(), "trigger_file -> promote_trigger_file = '/var/lib/pitr/promote'");
	c.cleanup_program = "/usr/bin/pitr-cleanup";
	t = pitr_standby_added_text(&o, &c);
	HAS(t, "restore_command = '''/opt/pitr kit/pitr-restore'' -sr -s gzip=/mnt/wal_archive %f %p'\n"
	    "primary_conninfo = 'host=master port=5432 user=replicator'\n"
	    "archive_cleanup_command = '/usr/bin/pitr-cleanup -a gzip=/mnt/wal_archive %r'\n"
	    "promote_trigger_file = '/var/lib/pitr/promote'\n"
	    "recovery_target_timeline = '3'\n"
	    "recovery_end_command = '/usr/bin/pitr-recover --recovery-ended || exit 1; echo done'\n");
	free(t);
	/* The caller's targets: not written twice. */
	c.targets_by_caller = true;
	t = pitr_standby_added_text(&o, &c);
	HASNT(t, "recovery_target_timeline = '3'");
	free(t);
	/* PostgreSQL 16 has no promote_trigger_file. */
	c.pg_major = 16;
	h_log_reset();
	ck_assert_ptr_null(pitr_standby_added_text(&o, &c));
	HAS(h_log(), "trigger_file has no meaning in PostgreSQL 16");
	pitr_standby_opts_free(&o);
}
END_TEST

static void
conf_refused(const char *text, struct pitr_standby_opts o, const char *why)
{
	o.recovery_conf = h_path("bad.conf");
	h_write_file(o.recovery_conf, text, strlen(text));
	refused(&o, why);
	/* Nothing of the file is reported done. */
	HASNT(h_log(), "LOG");
}

START_TEST(test_conf_refusals)
{
	conf_refused("restore_command = 'x %f %p'\nshared_buffers = '1GB'\n",
		     (struct pitr_standby_opts){ 0 },
		     "line 2: shared_buffers = '1GB' has no PostgreSQL 12+ meaning");
	conf_refused("standby_mode = 'off'\n", (struct pitr_standby_opts){
			     .mode = PITR_STANDBY_STREAMING }, "standby_mode = off contradicts --standby");
	conf_refused("standby_mode = 'on'\n", (struct pitr_standby_opts){
			     .mode = PITR_STANDBY_WARM }, "standby_mode = on contradicts --warm-standby");
	conf_refused("standby_mode = on\nprimary_conninfo = 'host=a'\n", (struct pitr_standby_opts){
			     .primary_conninfo = "host=b" }, "--primary-conninfo gives it too");
	conf_refused("restore_command = 'x %f %p'\n", (struct pitr_standby_opts){
			     .restore_options = "-w 5" }, "give one");
	conf_refused("standby_mode = maybe\n", (struct pitr_standby_opts){ 0 }, "expected on or off");
}
END_TEST

static Suite *
standby_suite(void)
{
	Suite *s = suite_create("cmd_standby");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_streaming);
	tcase_add_test(tc, test_warm);
	tcase_add_test(tc, test_none_and_sources);
	tcase_add_test(tc, test_set_order);
	tcase_add_test(tc, test_auto_conf_old);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_opts_get);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_parse_bad);
	tcase_add_test(tc, test_translate);
	tcase_add_test(tc, test_guide_conf);
	tcase_add_test(tc, test_streaming_conf);
	tcase_add_test(tc, test_conf_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(standby_suite());
}
