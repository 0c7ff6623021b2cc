/* check_backup.c - unit tests for lib/command/backup/: file name
 * templates (digest file names included) and their patterns, --digest
 * lists, the shared options and the refusals that come before any server
 * contact, for the master and the slave.  The runs themselves, against a
 * scripted server, are in check_backup_master.c and check_backup_slave.c;
 * lib/dest/ssh.c (--dst-direct) is tested in t/dest/check_ssh.c. */
#include "config.h"

#include <check.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "harness.h"

START_TEST(test_expand_template)
{
	/* 2024-02-29 13:14:15 UTC */
	long when = 1709212455;
	char *s;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	s = pitr_backup_expand_template(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "data", ".gz", when);
	ck_assert_str_eq(s, "db1-data-2024-02-29.tar.gz");
	free(s);
	s = pitr_backup_expand_template("__FILETYPE__-^H^M%__HOSTNAME__.tar__CEXT__", "h%d", "meta", "",
					when);
	ck_assert_str_eq(s, "meta-1314%h%d.tar");
	free(s);
	ck_assert_str_eq(h_log(), "");
	ck_assert_ptr_null(pitr_backup_expand_template("a/__FILETYPE__", "h", "xlog", "", when));
	ck_assert_str_eq(h_log(), "ERROR : filename template \"a/__FILETYPE__\" gives \"a/xlog\" for the "
			 "xlog file: not a file name\n");
	h_log_reset();
	ck_assert_ptr_null(pitr_backup_expand_template("", "h", "data", "", when));
	ck_assert_str_eq(h_log(), "ERROR : filename template \"\" gives \"\" for the data file: not a "
			 "file name\n");
	h_teardown();
}
END_TEST

START_TEST(test_digest_names)
{
	long when = 1709212455;
	char *s;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	/* A digest file: the canonical name, no codec extension. */
	s = pitr_backup_expand_template(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "SHA-256", "", when);
	ck_assert_str_eq(s, "db1-SHA-256-2024-02-29.tar");
	free(s);
	s = pitr_backup_expand_template("bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__", "h", "MD5", "",
					when);
	ck_assert_str_eq(s, "bk-MD5-20240229-131415.tar");
	free(s);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_parse_digests)
{
	const char *d[PITR_BACKUP_MAX_DIGESTS];

	h_setup();
	ck_assert_int_eq(pitr_backup_parse_digests(NULL, d), 0);
	ck_assert_int_eq(pitr_backup_parse_digests("MD5,SHA-256", d), 2);
	ck_assert_str_eq(d[0], "MD5");
	ck_assert_str_eq(d[1], "SHA-256");
	ck_assert_int_eq(pitr_backup_parse_digests("sha512, SHA-1 ,md5,SHA-512,sha-1", d), 3);
	ck_assert_str_eq(d[0], "SHA-512");
	ck_assert_str_eq(d[1], "SHA-1");
	ck_assert_str_eq(d[2], "MD5");
	ck_assert_int_eq(pitr_backup_parse_digests("MD5,SHA-1,SHA-224,SHA-256,SHA-384,SHA-512,md5", d), 6);
	ck_assert_str_eq(d[5], "SHA-512");
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_backup_parse_digests("MD5,SHA-3", d), -1);
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"SHA-3\" in --digest \"MD5,SHA-3\": expected "
			 "MD5, SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512\n");
	h_log_reset();
	ck_assert_int_eq(pitr_backup_parse_digests("CRC32", d), -1);
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"CRC32\" in --digest \"CRC32\": expected "
			 "MD5, SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512\n");
	h_log_reset();
	ck_assert_int_eq(pitr_backup_parse_digests("MD5,,SHA-1", d), -1);
	ck_assert_str_eq(h_log(), "ERROR : empty digest name in --digest \"MD5,,SHA-1\"\n");
	h_log_reset();
	ck_assert_int_eq(pitr_backup_parse_digests("MD5, ", d), -1);
	ck_assert_str_eq(h_log(), "ERROR : empty digest name in --digest \"MD5, \"\n");
	h_log_reset();
	ck_assert_int_eq(pitr_backup_parse_digests("", d), -1);
	ck_assert_str_eq(h_log(), "ERROR : empty digest name in --digest \"\"\n");
	h_teardown();
}
END_TEST

START_TEST(test_check_template)
{
	const char *cexts[] = { ".gz", "" };
	const char *dg[] = { "MD5", "SHA-256" };
	long when = 1709212455;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(pitr_backup_check_template(PITR_BACKUP_DEFAULT_TEMPLATE, "h", cexts, 2, dg, 2,
						    when), 0);
	ck_assert_int_eq(pitr_backup_check_template("bk-__FILETYPE__.tar__CEXT__", "h", cexts, 1, NULL, 0,
						    when), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_backup_check_template("bk-^Y.tar__CEXT__", "h", cexts, 2, dg, 2, when), -1);
	ck_assert_str_eq(h_log(), "ERROR : filename template \"bk-^Y.tar__CEXT__\" gives \"bk-2024.tar.gz\" "
			 "for both the data and the xlog file: it needs __FILETYPE__\n");
	h_log_reset();
	/* Without __FILETYPE__ every file has one name: the first pair is
	 * named. */
	ck_assert_int_eq(pitr_backup_check_template("x__CEXT__-__HOSTNAME__", "h", cexts + 1, 1, dg, 1,
						    when), -1);
	ck_assert_str_eq(h_log(), "ERROR : filename template \"x__CEXT__-__HOSTNAME__\" gives \"x-h\" "
			 "for both the data and the xlog file: it needs __FILETYPE__\n");
	h_log_reset();
	/* A template that cannot name a digest file. */
	ck_assert_int_eq(pitr_backup_check_template("__FILETYPE__/x", "h", cexts, 1, dg, 1, when), -1);
	ck_assert_str_eq(h_log(), "ERROR : filename template \"__FILETYPE__/x\" gives \"data/x\" for the "
			 "data file: not a file name\n");
	h_teardown();
}
END_TEST

START_TEST(test_template_glob)
{
	long when = 1709212455;
	char *g, *name;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	g = pitr_backup_template_glob(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "data", ".gz");
	ck_assert_str_eq(g, "db1-data-*-*-*.tar.gz");
	name = pitr_backup_expand_template(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "data", ".gz", when);
	ck_assert_int_eq(fnmatch(g, name, 0), 0);
	free(name);
	/* Another file type, codec or host does not match. */
	name = pitr_backup_expand_template(PITR_BACKUP_DEFAULT_TEMPLATE, "db1", "xlog", ".gz", when);
	ck_assert_int_ne(fnmatch(g, name, 0), 0);
	free(name);
	ck_assert_int_ne(fnmatch(g, "db1-data-2024-02-29.tar.zst", 0), 0);
	ck_assert_int_ne(fnmatch(g, "db2-data-2024-02-29.tar.gz", 0), 0);
	free(g);
	/* Adjacent conversions give one '*'; glob characters of the host and
	 * the template are literal; ^E and ^O modifiers belong to their
	 * conversion; a literal '%' stays. */
	g = pitr_backup_template_glob("__FILETYPE__-^Y^m^d_^EY[1]%?^", "h*[x]\\", "meta", "");
	ck_assert_str_eq(g, "meta-*_*\\[1\\]%\\?*");
	ck_assert_int_eq(fnmatch(g, "meta-20240229_2024[1]%?", 0), 0);
	ck_assert_int_ne(fnmatch(g, "meta-20240229_20241%?", 0), 0);
	free(g);
	g = pitr_backup_template_glob("__HOSTNAME__-__FILETYPE__", "h*[x]", "MD5", "");
	ck_assert_str_eq(g, "h\\*\\[x\\]-MD5");
	ck_assert_int_eq(fnmatch(g, "h*[x]-MD5", 0), 0);
	ck_assert_int_ne(fnmatch(g, "hh[x]-MD5", 0), 0);
	free(g);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* Found by fuzz/fuzz_template: the pattern took a conversion to be '^'
 * and one character, so for "__HOSANMET^_-__FILETYPE__-^Y-^m-^d.tarX_CEXT__"
 * ("^_-" is strftime's %_ flag, then the conversion: the '-' and the 'd'
 * of "data") it was "__HOSANMET*-data-*-*-*.tarX_CEXT__", which the name
 * "__HOSANMET28ata-..." does not match: a killed backup's temporary files
 * would stay.  Flags, widths and a key right after a '^' are conversions
 * as strftime reads them. */
START_TEST(test_template_glob_flags)
{
	static const char *const tmpls[] = {
		"__HOSANMET^_-__FILETYPE__-^Y-^m-^d.tarX_CEXT__",
		"__FILETYPE__-^_H^-M^010Y^#Z^^Y.tar__CEXT__",
		"^__HOSTNAME__-__FILETYPE__^__CEXT__",
		"__FILETYPE__^E",
	};
	long when = 1709212455;

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++) {
		char *g = pitr_backup_template_glob(tmpls[i], "db1", "data", ".gz");
		char *name = pitr_backup_expand_template(tmpls[i], "db1", "data", ".gz", when);

		ck_assert_ptr_nonnull(g);
		ck_assert_ptr_nonnull(name);
		ck_assert_msg(fnmatch(g, name, 0) == 0, "\"%s\": \"%s\" against \"%s\"", tmpls[i],
			      name, g);
		free(g);
		free(name);
	}
	{
		char *g = pitr_backup_template_glob(tmpls[1], "db1", "data", ".gz");

		ck_assert_str_eq(g, "data-*%Y.tar.gz");
		free(g);
	}
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_refusals)
{
	const char *dl[] = { "/nonexistent-dest" };
	const char *baddl[] = { "nocodec=/x" };
	struct pitr_backup_opts o = { 0 };

	h_setup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no destination given: use --dst-local, --dst-remote, "
			 "--dst-direct or --dst-pipe\n");
	h_log_reset();
	o.dst_local = baddl;
	o.ndst_local = 1;
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "--dst-local"));
	h_log_reset();
	o.dst_local = dl;
	o.digests = "SHA-256,SHA256,whirlpool";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"whirlpool\" in --digest "
			 "\"SHA-256,SHA256,whirlpool\": expected MD5, SHA-1, SHA-224, SHA-256, SHA-384 or "
			 "SHA-512\n");
	h_log_reset();
	o.digests = "SHA-256";
	o.filename_template = "same-for-all";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : filename template \"same-for-all\" gives \"same-for-all\" for "
			 "both the data and the xlog file: it needs __FILETYPE__\n");
	h_log_reset();
	o.filename_template = NULL;
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --xlogs dir given: it must be the --dst-backup dir of "
			 "pitr-archive\n");
	h_log_reset();
	o.xlogs = "rel/x";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : --xlogs \"rel/x\" must be an absolute path\n");
	h_log_reset();
	o.xlogs = h_path("x");
	o.host = "127.0.0.1";
	o.port = "1";
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	ck_assert(!h_exists(h_path("x")));
	h_log_reset();
	/* -sx: no -x dir needed, so the run goes as far as the server. */
	o.xlogs = NULL;
	o.skip_xlogs = true;
	ck_assert_int_eq(pitr_cmd_backup_master(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	h_teardown();
}
END_TEST

START_TEST(test_slave_refusals)
{
	const char *dl[1];
	struct pitr_backup_opts o = { 0 };

	h_setup();
	dl[0] = h_path("dest");
	o.dst_local = dl;
	o.ndst_local = 1;
	o.host = "127.0.0.1";
	o.port = "1";
	o.pause_trigger = h_path("pause");
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --source given: the xlog tarball is made from the archive "
			 "the standby restores from (or use --skip-xlogs)\n");
	h_log_reset();
	o.source = "nocodec=/x";
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "--source"));
	h_log_reset();
	o.source = "gzip=/x";
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	h_log_reset();
	/* -sx needs no archive. */
	o.source = NULL;
	o.skip_xlogs = true;
	ck_assert_int_eq(pitr_cmd_backup_slave(&o), -1);
	ck_assert_str_eq(h_log(), "ERROR : could not connect to PostgreSQL: connection to server at "
			 "\"127.0.0.1\", port 1 failed: Connection refused\n");
	/* The trigger is only made once the server answered. */
	ck_assert(!h_exists(h_path("pause")));
	h_teardown();
}
END_TEST

/* The options both programs share reach struct pitr_backup_opts, each
 * to its field; what is not given keeps the table's default.  The
 * connection is each program's own (OmniPITR's -d/-h/-P/-U are the
 * master's on backup-slave). */
START_TEST(test_opts_shared)
{
	static const struct pitr_opt_def defs[] = {
		{ "skip-xlogs", "sx", PITR_OPT_FLAG, NULL, .help = "no xlog tarball" },
		PITR_BACKUP_SHARED_OPTS,
		PITR_OPTS_COMMON,
	};
	char *argv[] = {
		"pitr-backup-master", "-D", "/srv/pg", "-rcp", "/opt/cat", "-dl", "/bk1", "-dl", "gzip=/bk2", "-dr", "rsync://h/m/", "-dp",
		"zstd=/bin/store", "-dd", "h:/bk", "-t", "/var/tmp", "-f", "x-__FILETYPE__",
		"--pid-file", "/run/bk.pid", "-PJ", "3", "-nn", "-rp", "/opt/rsync", "-ssh",
		"/opt/ssh", "-dg", "MD5", "-sx", "--pipe-timeout", "900", NULL,
	};
	struct pitr_opts o = { 0 };
	struct pitr_backup_opts b = { 0 }, d = { 0 };

	h_setup();
	ck_assert_int_eq(pitr_opts_parse(&o, defs, sizeof(defs) / sizeof(defs[0]),
					 (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv), 0);
	pitr_backup_opts_shared(&o, &b);
	ck_assert_str_eq(b.data_dir, "/srv/pg");
	ck_assert_str_eq(b.remote_cat_path, "/opt/cat");
	ck_assert_ptr_null(b.dbname);
	ck_assert_ptr_null(b.port);
	ck_assert_uint_eq(b.ndst_local, 2);
	ck_assert_str_eq(b.dst_local[0], "/bk1");
	ck_assert_str_eq(b.dst_local[1], "gzip=/bk2");
	ck_assert_uint_eq(b.ndst_remote, 1);
	ck_assert_str_eq(b.dst_remote[0], "rsync://h/m/");
	ck_assert_uint_eq(b.ndst_pipe, 1);
	ck_assert_str_eq(b.dst_pipe[0], "zstd=/bin/store");
	ck_assert_uint_eq(b.ndst_direct, 1);
	ck_assert_str_eq(b.dst_direct[0], "h:/bk");
	ck_assert_str_eq(b.temp_dir, "/var/tmp");
	ck_assert_str_eq(b.filename_template, "x-__FILETYPE__");
	ck_assert_str_eq(b.pid_file, "/run/bk.pid");
	ck_assert_int_eq(b.parallel_jobs, 3);
	ck_assert_int_eq(b.pipe_timeout, 900);
	ck_assert(b.not_nice);
	ck_assert_str_eq(b.rsync_path, "/opt/rsync");
	ck_assert_str_eq(b.ssh_path, "/opt/ssh");
	ck_assert_str_eq(b.digests, "MD5");
	ck_assert(b.skip_xlogs);
	/* Left to the caller: -x, the slave's own options. */
	ck_assert_ptr_null(b.xlogs);
	ck_assert_ptr_null(b.source);
	pitr_opts_free(&o);

	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(pitr_opts_parse(&o, defs, sizeof(defs) / sizeof(defs[0]), 1, argv), 0);
	pitr_backup_opts_shared(&o, &d);
	ck_assert_ptr_null(d.data_dir);
	ck_assert_ptr_null(d.remote_cat_path);
	ck_assert_uint_eq(d.ndst_local, 0);
	ck_assert_str_eq(d.filename_template, PITR_BACKUP_DEFAULT_TEMPLATE);
	ck_assert_int_eq(d.parallel_jobs, 1);
	/* No pipe timeout for backups unless asked (issue 9). */
	ck_assert_int_eq(d.pipe_timeout, 0);
	ck_assert(!d.not_nice);
	ck_assert(!d.skip_xlogs);
	ck_assert_ptr_null(d.digests);
	pitr_opts_free(&o);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* A data tarball member's key (lib/delta/delta.h): "data/<rel>" for the
 * data dir's, whatever its name; a tablespace's member name as it is;
 * nothing for another name. */
START_TEST(test_sig_key)
{
	bool oom = true;
	char *k;

	h_setup();
	k = pitr_backup_sig_key("main", "main/base/5/1259", &oom);
	ck_assert_str_eq(k, "data/base/5/1259");
	ck_assert(!oom);
	free(k);
	k = pitr_backup_sig_key("main", "main/backup_label", &oom);
	ck_assert_str_eq(k, "data/backup_label");
	free(k);
	k = pitr_backup_sig_key("15", "15/global/pg_control", &oom);
	ck_assert_str_eq(k, "data/global/pg_control");
	free(k);
	k = pitr_backup_sig_key("main", "tablespaces/srv/ts1/PG_15_202209061/5/16390", &oom);
	ck_assert_str_eq(k, "tablespaces/srv/ts1/PG_15_202209061/5/16390");
	free(k);
	/* A data dir called "tablespaces": its own files first. */
	k = pitr_backup_sig_key("tablespaces", "tablespaces/PG_VERSION", &oom);
	ck_assert_str_eq(k, "data/PG_VERSION");
	free(k);
	ck_assert_ptr_null(pitr_backup_sig_key("main", "mainx/base/1", &oom));
	ck_assert(!oom);
	ck_assert_ptr_null(pitr_backup_sig_key("main", "main", &oom));
	ck_assert_ptr_null(pitr_backup_sig_key("main", "main/", &oom));
	ck_assert_ptr_null(pitr_backup_sig_key("main", "tablespaces/", &oom));
	ck_assert_ptr_null(pitr_backup_sig_key("main", ".pitrkit/data/x/0.w", &oom));
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* --incremental-from: long only, a string for both programs; refused
 * without a --dst-local dir, or empty, before any server contact. */
START_TEST(test_incremental_from)
{
	static const struct pitr_opt_def defs[] = {
		{ "skip-xlogs", "sx", PITR_OPT_FLAG, NULL, .help = "no xlog tarball" },
		PITR_BACKUP_SHARED_OPTS,
		PITR_OPTS_COMMON,
	};
	char *argv[] = { "pitr-backup-master", "--incremental-from", "latest", NULL };
	const char *dr[] = { "rsync://h/m/" };
	const char *dl[1];
	struct pitr_opts o = { 0 };
	struct pitr_backup_opts b = { 0 };

	h_setup();
	ck_assert_int_eq(pitr_opts_parse(&o, defs, sizeof(defs) / sizeof(defs[0]), 3, argv), 0);
	pitr_backup_opts_shared(&o, &b);
	ck_assert_str_eq(b.incremental_from, "latest");
	pitr_opts_free(&o);
	memset(&o, 0, sizeof(o));
	ck_assert_int_eq(pitr_opts_parse(&o, defs, sizeof(defs) / sizeof(defs[0]), 1, argv), 0);
	pitr_backup_opts_shared(&o, &b);
	ck_assert_ptr_null(b.incremental_from);
	pitr_opts_free(&o);
	ck_assert_str_eq(h_log(), "");

	memset(&b, 0, sizeof(b));
	b.dst_remote = dr;
	b.ndst_remote = 1;
	b.skip_xlogs = true;
	b.incremental_from = "latest";
	ck_assert_int_eq(pitr_cmd_backup_master(&b), -1);
	ck_assert_str_eq(h_log(), "ERROR : --incremental-from needs a --dst-local dir or an s3:// "
			 "--dst-remote location: the base backup is looked up there (rsync, "
			 "--dst-direct and --dst-pipe destinations cannot be read back)\n");
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_backup_slave(&b), -1);
	ck_assert_str_eq(h_log(), "ERROR : --incremental-from needs a --dst-local dir or an s3:// "
			 "--dst-remote location: the base backup is looked up there (rsync, "
			 "--dst-direct and --dst-pipe destinations cannot be read back)\n");
	h_log_reset();
	dl[0] = h_path("dest");
	b.dst_local = dl;
	b.ndst_local = 1;
	b.incremental_from = "";
	ck_assert_int_eq(pitr_cmd_backup_master(&b), -1);
	ck_assert_str_eq(h_log(), "ERROR : --incremental-from is empty: give a backup's label or "
			 "name, or \"latest\"\n");
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_backup");
	TCase *tc = tcase_create("expand_template");

	tcase_add_test(tc, test_expand_template);
	tcase_add_test(tc, test_digest_names);
	tcase_add_test(tc, test_check_template);
	tcase_add_test(tc, test_template_glob);
	tcase_add_test(tc, test_template_glob_flags);
	suite_add_tcase(s, tc);
	tc = tcase_create("digests");
	tcase_add_test(tc, test_parse_digests);
	suite_add_tcase(s, tc);
	tc = tcase_create("backup_master");
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_slave_refusals);
	tcase_add_test(tc, test_incremental_from);
	tcase_add_test(tc, test_sig_key);
	tcase_add_test(tc, test_opts_shared);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
