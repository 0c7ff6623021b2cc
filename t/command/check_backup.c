/* check_backup.c - unit tests for lib/command/backup/backup.c: file name
 * templates (digest file names included) and their patterns, --digest
 * lists and the refusals that come before any server contact, for the
 * master and the slave; and lib/dest/ssh.c (--dst-direct), its remote
 * commands run by a stand-in ssh that hands them to the local sh. */
#include "config.h"

#include <check.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>

#include "command/backup/backup.h"
#include "dest/dest.h"
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

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

START_TEST(test_ssh_quote)
{
	char *q;

	h_setup();
	q = pitr_dest_ssh_quote("/a b/it's $x`y`\\n");
	ck_assert_str_eq(q, "'/a b/it'\\''s $x`y`\\n'");
	free(q);
	q = pitr_dest_ssh_quote("");
	ck_assert_str_eq(q, "''");
	free(q);
	q = pitr_dest_ssh_quote("''");
	ck_assert_str_eq(q, "''\\'''\\'''");
	free(q);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_ssh_spec_parse)
{
	struct pitr_dest_spec spec;
	static const char *const bad[] = {
		"host", "host:rel/dir", "-oProxyCommand=x:/d", "@h:/d", ":/d", "h o:/d",
		"[::1:/d", "a/b:/d",
	};

	h_setup();
	ck_assert_int_eq(pitr_dest_ssh_spec_parse("gzip:3=me@db2:/bk/x@y/", "--dst-direct", &spec), 0);
	ck_assert_int_eq(spec.kind, PITR_DEST_SSH);
	ck_assert_int_eq(spec.codec, PITR_CODEC_GZIP);
	ck_assert_int_eq(spec.level, 3);
	ck_assert_str_eq(spec.location, "me@db2:/bk/x@y/");
	ck_assert_str_eq(spec.key, "direct:gzip=me@db2:/bk/x@y/");
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(pitr_dest_ssh_spec_parse("[::1]:/", "-dd", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_NONE);
	ck_assert_str_eq(spec.key, "direct:none=[::1]:/");
	pitr_dest_spec_free(&spec);
	ck_assert_str_eq(h_log(), "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_log_reset();
		ck_assert_int_eq(pitr_dest_ssh_spec_parse(bad[i], "--dst-direct", &spec), -1);
		ck_assert_str_eq(h_log(), h_fmt("ERROR : --dst-direct \"%s\" is not an ssh location: "
						"expected [CODEC=][USER@]HOST:/PATH\n", bad[i]));
		ck_assert_ptr_null(spec.location);
	}
	h_log_reset();
	ck_assert_int_eq(pitr_dest_ssh_spec_parse("gzip=", "--dst-direct", &spec), -1);
	ck_assert_str_eq(h_log(), "ERROR : --dst-direct \"gzip=\" names no location\n");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_ssh_spec_parse("rar=h:/d", "--dst-direct", &spec), -1);
	ck_assert_str_eq(h_log(), "ERROR : unknown compression \"rar\" in --dst-direct \"rar=h:/d\": "
			 "expected none, gzip, bzip2, lzma, xz, lz4 or zstd\n");
	h_teardown();
}
END_TEST

/* A stand-in for ssh: records its arguments, then runs the remote command
 * (its last argument) with the local sh, as sshd runs it with the remote
 * user's shell. */
static const char *
fake_ssh(void)
{
	static char path[4096];
	char *script;

	snprintf(path, sizeof(path), "%s", h_path("ssh"));
	script = strdup(h_fmt("#!/bin/sh\nprintf '%%s\\n' \"$@\" >'%s'\nfor a; do last=$a; done\n"
			      "exec /bin/sh -c \"$last\"\n", h_path("ssh.args")));
	h_write_file(path, script, strlen(script));
	free(script);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* Open `name` at `loc`, write `text`, publish.  0 with *result, or -1. */
static int
ssh_deliver(const struct pitr_dest_env *env, const char *loc, const char *name, const char *text,
	    enum pitr_dest_result *result)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;
	int rc = -1;

	ck_assert_int_eq(pitr_dest_ssh_spec_parse(loc, "--dst-direct", &spec), 0);
	d = pitr_dest_ssh_new(&spec, env);
	pitr_dest_spec_free(&spec);
	ck_assert_ptr_nonnull(d);
	if (pitr_dest_open(d, name) == 0 && pitr_dest_write(d, text, strlen(text)) == 0 &&
	    pitr_dest_ssh_end_upload(d) == 0 && pitr_dest_finish_begin(d) == 0 &&
	    pitr_dest_finish_end(d, result) == 0)
		rc = 0;
	if (rc != 0)
		pitr_dest_abort(d);
	pitr_dest_free(d);
	return rc;
}

START_TEST(test_ssh_deliver)
{
	struct pitr_dest_env env = { 0 };
	enum pitr_dest_result result;
	char remote[4096], loc[4200], *text, *args;
	size_t len;
	struct pitr_dest_spec spec;
	struct pitr_dest *d;
	struct stat st;

	h_setup();
	env.ssh_path = fake_ssh();
	env.temp_dir = h_dir();
	snprintf(remote, sizeof(remote), "%s", h_path("it's remote"));
	ck_assert_int_eq(mkdir(remote, 0700), 0);
	snprintf(loc, sizeof(loc), "me@db2:%s", remote);

	/* New: the file under its name, 0600, nothing else. */
	ck_assert_int_eq(ssh_deliver(&env, loc, "a b.tar", "first", &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	text = h_read_file(h_fmt("%s/a b.tar", remote), &len);
	ck_assert_str_eq(text, "first");
	free(text);
	ck_assert_int_eq(stat(h_fmt("%s/a b.tar", remote), &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(h_count_entries(remote), 1);
	args = h_read_file(h_path("ssh.args"), &len);
	ck_assert_ptr_nonnull(strstr(args, "-o\nBatchMode=yes\n-o\nConnectTimeout=30\n-o\n"
				     "ServerAliveInterval=15\n-o\nServerAliveCountMax=4\n--\nme@db2\n"
				     "sync -- "));
	free(args);
	ck_assert_str_eq(h_log(), "");

	/* The same bytes again: already there. */
	ck_assert_int_eq(ssh_deliver(&env, loc, "a b.tar", "first", &result), 0);
	ck_assert_int_eq(result, PITR_DEST_ALREADY);
	ck_assert_int_eq(h_count_entries(remote), 1);

	/* Other bytes: an error, the file kept, no temporary file left. */
	ck_assert_int_eq(ssh_deliver(&env, loc, "a b.tar", "second", &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : \"a b.tar\" already exists at direct destination "
					"\"%s\" with different content: not overwritten\n", loc));
	text = h_read_file(h_fmt("%s/a b.tar", remote), &len);
	ck_assert_str_eq(text, "first");
	free(text);
	ck_assert_int_eq(h_count_entries(remote), 1);
	h_log_reset();

	/* Aborted after the upload: the remote temporary file is removed. */
	ck_assert_int_eq(pitr_dest_ssh_spec_parse(loc, "--dst-direct", &spec), 0);
	d = pitr_dest_ssh_new(&spec, &env);
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(pitr_dest_open(d, "c.tar"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "part", 4), 0);
	ck_assert_int_eq(pitr_dest_ssh_end_upload(d), 0);
	ck_assert_int_eq(h_count_entries(remote), 2);
	pitr_dest_abort(d);
	pitr_dest_free(d);
	ck_assert_int_eq(h_count_entries(remote), 1);
	ck_assert_str_eq(h_log(), "");

	/* A missing remote directory: the shell's reason, nothing created. */
	snprintf(loc, sizeof(loc), "db2:%s", h_path("missing"));
	ck_assert_int_eq(ssh_deliver(&env, loc, "d.tar", "x", &result), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("ERROR : could not deliver \"d.tar\" to direct "
						    "destination \"%s\": ssh exit status 2: ", loc)));
	ck_assert_ptr_nonnull(strstr(h_log(), "Directory nonexistent\n"));
	ck_assert_int_eq(count_char(h_log(), '\n'), 1);
	ck_assert(!h_exists(h_path("missing")));
	h_log_reset();

	/* A publish command that says nothing (it did not run to its end):
	 * an error, and abort removes the temporary name. */
	{
		static const char mute[] = "#!/bin/sh\nfor a; do last=$a; done\n"
			"case $last in sync*) exit 0;; esac\nexec /bin/sh -c \"$last\"\n";

		h_write_file(h_path("ssh-mute"), mute, strlen(mute));
	}
	ck_assert_int_eq(chmod(h_path("ssh-mute"), 0755), 0);
	env.ssh_path = h_path("ssh-mute");
	snprintf(loc, sizeof(loc), "db2:%s", remote);
	ck_assert_int_eq(ssh_deliver(&env, loc, "f.tar", "x", &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not publish \"f.tar\" at direct destination "
					"\"%s\": the remote command reported no outcome\n", loc));
	ck_assert_int_eq(h_count_entries(remote), 1);
	h_log_reset();

	/* An ssh that cannot be run. */
	env.ssh_path = h_path("no-such-ssh");
	snprintf(loc, sizeof(loc), "db2:%s", remote);
	ck_assert_int_eq(ssh_deliver(&env, loc, "e.tar", "x", &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not execute \"%s\": No such file or directory\n",
					h_path("no-such-ssh")));
	ck_assert_int_eq(h_count_entries(remote), 1);
	/* The capture files were unlinked at once: only the test's own
	 * files are in the temp dir. */
	ck_assert_int_eq(h_count_entries(h_dir()), 4);
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
	suite_add_tcase(s, tc);
	tc = tcase_create("digests");
	tcase_add_test(tc, test_parse_digests);
	suite_add_tcase(s, tc);
	tc = tcase_create("backup_master");
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_slave_refusals);
	suite_add_tcase(s, tc);
	tc = tcase_create("dst_direct");
	tcase_add_test(tc, test_ssh_quote);
	tcase_add_test(tc, test_ssh_spec_parse);
	tcase_add_test(tc, test_ssh_deliver);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
