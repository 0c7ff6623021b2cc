/* check_ssh.c - unit tests for lib/dest/ssh.c (--dst-direct): locations,
 * and deliveries whose remote commands are run by a stand-in ssh that
 * hands them to the local sh (its quoting is common/quote's, tested in
 * t/common/check_quote). */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
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
				     "s=$(wc -c <"));
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
			"case $last in s=*) exit 0;; esac\nexec /bin/sh -c \"$last\"\n";

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

/* A stand-in ssh whose remote shell finds only the programs in `bindir`
 * (made here: scripts running the real ones), and `flock`, a script,
 * when `flock_script` is given. */
static const char *
fake_ssh_path(const char *bindir, const char *flock_script)
{
	static const char *const progs[] = { "cat", "wc", "sync", "ln", "rm", "cmp", NULL };
	static char path[4096];
	char *script;

	ck_assert_int_eq(mkdir(bindir, 0700), 0);
	for (size_t i = 0; progs[i] != NULL; i++) {
		const char *prog = h_fmt("%s/%s", bindir, progs[i]);
		char *text = strdup(h_fmt("#!/bin/sh\nPATH=/usr/bin:/bin exec %s \"$@\"\n", progs[i]));

		ck_assert_ptr_nonnull(text);
		h_write_file(prog, text, strlen(text));
		free(text);
		ck_assert_int_eq(chmod(prog, 0755), 0);
	}
	if (flock_script != NULL) {
		h_write_file(h_fmt("%s/flock", bindir), flock_script, strlen(flock_script));
		ck_assert_int_eq(chmod(h_fmt("%s/flock", bindir), 0755), 0);
	}
	snprintf(path, sizeof(path), "%s", h_fmt("%s.ssh", bindir));
	script = strdup(h_fmt("#!/bin/sh\nfor a; do last=$a; done\nPATH='%s' exec /bin/sh -c \"$last\"\n",
			      bindir));
	h_write_file(path, script, strlen(script));
	free(script);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

/* The name of the one temporary file in `dir`, or "" when there is none. */
static const char *
remote_tmp(const char *dir)
{
	static char name[1024];
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	name[0] = '\0';
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, ".pitr-tmp.", 10) == 0 && de->d_type == DT_REG)
			snprintf(name, sizeof(name), "%s/%s", dir, de->d_name);
	closedir(d);
	return name;
}

static struct pitr_dest *
ssh_dest(const struct pitr_dest_env *env, const char *loc)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	ck_assert_int_eq(pitr_dest_spec_parse(loc, PITR_DEST_SSH, "--dst-direct", &spec), 0);
	d = pitr_dest_new(&spec, env);
	pitr_dest_spec_free(&spec);
	ck_assert_ptr_nonnull(d);
	return d;
}

static int
sweep(const struct pitr_dest_env *env, const char *loc)
{
	struct pitr_dest_spec spec;
	int n;

	ck_assert_int_eq(pitr_dest_spec_parse(loc, PITR_DEST_SSH, "--dst-direct", &spec), 0);
	n = pitr_dest_ssh_sweep(&spec, env);
	pitr_dest_spec_free(&spec);
	return n;
}

/* Fails the test unless `path` holds `text`. */
static void
assert_file(const char *path, const char *text)
{
	char *got = h_read_file(path, NULL);

	ck_assert_str_eq(got, text);
	free(got);
}

/* True when someone holds `path` flock'ed. */
static bool
locked(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool held;

	ck_assert_int_ge(fd, 0);
	held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/* Set `path`'s mtime twice PITR_DEST_UNLOCKED_MIN_AGE back: a file the
 * remote sweep may judge. */
static void
age(const char *path)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 2 * PITR_DEST_UNLOCKED_MIN_AGE;
	t[1] = t[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* The sweep of the remote directory: a dead run's old temporary file
 * goes; a locked one (a live writer's, here the test's own lock), a young
 * unlocked one (a writer's between its upload and its publish, issue 9),
 * a staging directory, a symbolic link and every other file stay; a live
 * upload's file is locked by its remote writer and survives a sweep. */
START_TEST(test_ssh_sweep)
{
	struct pitr_dest_env env = { 0 };
	enum pitr_dest_result result;
	char remote[4096], loc[4200];
	struct pitr_dest *d;
	int lock_fd;

	h_setup();
	env.ssh_path = fake_ssh();
	env.temp_dir = h_dir();
	snprintf(remote, sizeof(remote), "%s", h_path("it's remote"));
	ck_assert_int_eq(mkdir(remote, 0700), 0);
	snprintf(loc, sizeof(loc), "db2:%s", remote);
	h_write_file(h_fmt("%s/.pitr-tmp.dead b.tar.AAAAAAAA", remote), "part", 4);
	h_write_file(h_fmt("%s/.pitr-tmp.live.tar.BBBBBBBB", remote), "part", 4);
	h_write_file(h_fmt("%s/kept.tar", remote), "whole", 5);
	ck_assert_int_eq(mkdir(h_fmt("%s/.pitr-tmp.stage.CCCCCC", remote), 0700), 0);
	ck_assert_int_eq(symlink("kept.tar", h_fmt("%s/.pitr-tmp.link", remote)), 0);
	lock_fd = open(h_fmt("%s/.pitr-tmp.live.tar.BBBBBBBB", remote), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(lock_fd, 0);
	ck_assert_int_eq(flock(lock_fd, LOCK_EX), 0);
	age(h_fmt("%s/.pitr-tmp.dead b.tar.AAAAAAAA", remote));
	age(h_fmt("%s/.pitr-tmp.live.tar.BBBBBBBB", remote));
	h_write_file(h_fmt("%s/.pitr-tmp.young.tar.DDDDDDDD", remote), "uploaded", 8);

	ck_assert_int_eq(sweep(&env, loc), 1);
	ck_assert_str_eq(h_log(), h_fmt("LOG : removed 1 temporary file left by interrupted runs at "
					"direct destination \"%s\"\n", loc));
	ck_assert(!h_exists(h_fmt("%s/.pitr-tmp.dead b.tar.AAAAAAAA", remote)));
	ck_assert(h_exists(h_fmt("%s/.pitr-tmp.young.tar.DDDDDDDD", remote)));
	ck_assert_int_eq(h_count_entries(remote), 5);
	h_log_reset();
	/* Nothing more to remove while the lock is held; then it goes. */
	ck_assert_int_eq(sweep(&env, loc), 0);
	ck_assert_str_eq(h_log(), "");
	close(lock_fd);
	ck_assert_int_eq(sweep(&env, loc), 1);
	ck_assert_int_eq(h_count_entries(remote), 4);
	ck_assert(h_exists(h_fmt("%s/.pitr-tmp.young.tar.DDDDDDDD", remote)));
	ck_assert_int_eq(unlink(h_fmt("%s/.pitr-tmp.young.tar.DDDDDDDD", remote)), 0);
	h_log_reset();

	/* An upload under way: its file is locked, a sweep leaves it, and it
	 * is published whole. */
	d = ssh_dest(&env, loc);
	ck_assert_int_eq(pitr_dest_open(d, "up.tar"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "first half ", 11), 0);
	/* The remote writer has locked the file once it asks for input: wait
	 * for the bytes written so far to reach it. */
	for (int i = 0; i < 1000; i++) {
		struct stat st;

		if (remote_tmp(remote)[0] != '\0' && stat(remote_tmp(remote), &st) == 0 &&
		    st.st_size == 11)
			break;
		usleep(10000);
	}
	ck_assert(locked(remote_tmp(remote)));
	ck_assert_int_eq(sweep(&env, loc), 0);
	ck_assert_int_eq(pitr_dest_write(d, "second half", 11), 0);
	ck_assert_int_eq(pitr_dest_end_upload(d), 0);
	ck_assert_int_eq(pitr_dest_finish_begin(d), 0);
	ck_assert_int_eq(pitr_dest_finish_end(d, &result), 0);
	pitr_dest_free(d);
	assert_file(h_fmt("%s/up.tar", remote), "first half second half");
	ck_assert_str_eq(remote_tmp(remote), "");
	ck_assert_str_eq(h_log(), "");

	/* An unreachable host: said with -v only, nothing else happens. */
	ck_assert_int_eq(sweep(&env, h_fmt("db2:%s", h_path("missing"))), -1);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* A remote host without flock(1): uploads work, unlocked, and a sweep
 * removes nothing, since it cannot tell a dead writer's file. */
START_TEST(test_ssh_no_flock)
{
	struct pitr_dest_env env = { 0 };
	enum pitr_dest_result result;
	char remote[4096], loc[4200];

	h_setup();
	env.ssh_path = fake_ssh_path(h_path("bin"), NULL);
	env.temp_dir = h_dir();
	snprintf(remote, sizeof(remote), "%s", h_path("remote"));
	ck_assert_int_eq(mkdir(remote, 0700), 0);
	snprintf(loc, sizeof(loc), "db2:%s", remote);
	h_write_file(h_fmt("%s/.pitr-tmp.dead.tar.AAAAAAAA", remote), "part", 4);
	age(h_fmt("%s/.pitr-tmp.dead.tar.AAAAAAAA", remote));
	ck_assert_int_eq(sweep(&env, loc), 0);
	ck_assert(h_exists(h_fmt("%s/.pitr-tmp.dead.tar.AAAAAAAA", remote)));
	ck_assert_int_eq(ssh_deliver(&env, loc, "a.tar", "whole", &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	assert_file(h_fmt("%s/a.tar", remote), "whole");
	ck_assert_int_eq(h_count_entries(remote), 2);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* The temporary file is never published short or after someone else
 * took it: a sweep that removes it between its creation and the writer's
 * lock (a flock(1) that sweeps first) fails the upload; bytes added
 * after the upload fail the publish. */
START_TEST(test_ssh_tmp_checked)
{
	struct pitr_dest_env env = { 0 };
	enum pitr_dest_result result;
	char remote[4096], loc[4200];
	struct pitr_dest *d;
	const char *racing;

	h_setup();
	env.temp_dir = h_dir();
	snprintf(remote, sizeof(remote), "%s", h_path("remote"));
	ck_assert_int_eq(mkdir(remote, 0700), 0);
	snprintf(loc, sizeof(loc), "db2:%s", remote);
	racing = h_fmt("#!/bin/sh\nrm -f '%s'/.pitr-tmp.*\nexec /usr/bin/flock \"$@\"\n", remote);
	env.ssh_path = fake_ssh_path(h_path("bin"), racing);
	ck_assert_int_eq(ssh_deliver(&env, loc, "a.tar", "whole", &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not deliver \"a.tar\" to direct destination "
					"\"%s\": ssh exit status 1: the temporary file was removed "
					"before it could be locked\n", loc));
	ck_assert_int_eq(h_count_entries(remote), 0);
	h_log_reset();

	env.ssh_path = fake_ssh();
	d = ssh_dest(&env, loc);
	ck_assert_int_eq(pitr_dest_open(d, "b.tar"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "abc", 3), 0);
	ck_assert_int_eq(pitr_dest_end_upload(d), 0);
	h_write_file(remote_tmp(remote), "abcdef", 6);
	ck_assert_int_eq(pitr_dest_finish_begin(d), 0);
	ck_assert_int_eq(pitr_dest_finish_end(d, &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not publish \"b.tar\" at direct destination "
					"\"%s\": ssh exit status 1: the temporary file has 6 bytes "
					"of 3\n", loc));
	pitr_dest_abort(d);
	pitr_dest_free(d);
	ck_assert_int_eq(h_count_entries(remote), 0);
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
	tcase_add_test(tc, test_ssh_sweep);
	tcase_add_test(tc, test_ssh_no_flock);
	tcase_add_test(tc, test_ssh_tmp_checked);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
