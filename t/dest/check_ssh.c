/* check_ssh.c - unit tests for lib/dest/ssh.c (--dst-direct): locations,
 * and deliveries whose remote commands are run by a stand-in ssh that
 * hands them to the local sh (its quoting is common/quote's, tested in
 * t/common/check_quote). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "compress/codec.h"
#include "dest/dest.h"
#include "harness.h"

static size_t
count_char(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

START_TEST(test_ssh_spec_parse)
{
	struct pitr_dest_spec spec;
	static const char *const bad[] = {
		"host", "host:rel/dir", "-oProxyCommand=x:/d", "@h:/d", ":/d", "h o:/d",
		"[::1:/d", "a/b:/d",
	};

	h_setup();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip:3=me@db2:/bk/x@y/", PITR_DEST_SSH, "--dst-direct",
					      &spec), 0);
	ck_assert_int_eq(spec.kind, PITR_DEST_SSH);
	ck_assert_int_eq(spec.codec, PITR_CODEC_GZIP);
	ck_assert_int_eq(spec.level, 3);
	ck_assert_str_eq(spec.location, "me@db2:/bk/x@y/");
	ck_assert_str_eq(spec.key, "direct:gzip=me@db2:/bk/x@y/");
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(pitr_dest_spec_parse("[::1]:/", PITR_DEST_SSH, "-dd", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_NONE);
	ck_assert_str_eq(spec.key, "direct:none=[::1]:/");
	pitr_dest_spec_free(&spec);
	ck_assert_str_eq(h_log(), "");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_log_reset();
		ck_assert_int_eq(pitr_dest_spec_parse(bad[i], PITR_DEST_SSH, "--dst-direct", &spec),
				 -1);
		ck_assert_str_eq(h_log(), h_fmt("ERROR : --dst-direct \"%s\" is not an ssh location: "
						"expected [CODEC=][USER@]HOST:/PATH\n", bad[i]));
		ck_assert_ptr_null(spec.location);
	}
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip=", PITR_DEST_SSH, "--dst-direct", &spec), -1);
	ck_assert_str_eq(h_log(), "ERROR : --dst-direct \"gzip=\" names no location\n");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("rar=h:/d", PITR_DEST_SSH, "--dst-direct", &spec), -1);
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

	ck_assert_int_eq(pitr_dest_spec_parse(loc, PITR_DEST_SSH, "--dst-direct", &spec), 0);
	d = pitr_dest_new(&spec, env);
	pitr_dest_spec_free(&spec);
	ck_assert_ptr_nonnull(d);
	if (pitr_dest_open(d, name) == 0 && pitr_dest_write(d, text, strlen(text)) == 0 &&
	    pitr_dest_end_upload(d) == 0 && pitr_dest_finish_begin(d) == 0 &&
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
	ck_assert_int_eq(pitr_dest_spec_parse(loc, PITR_DEST_SSH, "--dst-direct", &spec), 0);
	d = pitr_dest_new(&spec, &env);
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(pitr_dest_open(d, "c.tar"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "part", 4), 0);
	ck_assert_int_eq(pitr_dest_end_upload(d), 0);
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
	Suite *s = suite_create("dest_ssh");
	TCase *tc = tcase_create("dst_direct");

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
