/*
 * check_check.c - pitr-check's reading of archive_command: shell word
 * splitting and finding the pitr-archive call (lib/command/check/words.c),
 * the trust it gives the call's config files (check.c), and the archive
 * module's settings made into pitr-archive's options (module.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "command/archive/ahead.h"
#include "command/archive/archive.h"
#include "command/check/check.h"
#include "dest/dest.h"
#include "common/opts.h"
#include "harness.h"

static char err[512];

/* Split `text` and compare with the NULL-terminated `want`. */
static void
assert_words(const char *text, const char *const *want)
{
	char **words;
	size_t n, want_n = 0;

	err[0] = '\0';
	ck_assert_msg(pitr_check_split_words(text, strlen(text), &words, &n, err, sizeof(err)) == 0,
		      "[%s] refused: %s", text, err);
	while (want[want_n] != NULL)
		want_n++;
	ck_assert_uint_eq(n, want_n);
	for (size_t word_idx = 0; word_idx < n; word_idx++)
		ck_assert_str_eq(words[word_idx], want[word_idx]);
	pitr_check_words_free(words, n);
}

static void
assert_refused(const char *text, const char *reason)
{
	char **words;
	size_t n;

	ck_assert_int_eq(pitr_check_split_words(text, strlen(text), &words, &n, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, reason) != NULL, "[%s]: [%s] lacks [%s]", text, err, reason);
}

START_TEST(test_split_plain)
{
	assert_words("pitr-archive -dl /a %p", (const char *[]){ "pitr-archive", "-dl", "/a", "%p",
								   NULL });
	assert_words("  a\t b\n", (const char *[]){ "a", "b", NULL });
	assert_words("", (const char *[]){ NULL });
	assert_words("a # b c", (const char *[]){ "a", NULL });
	assert_words("a#b", (const char *[]){ "a#b", NULL });
	assert_words("a=b x~", (const char *[]){ "a=b", "x~", NULL });
}
END_TEST

START_TEST(test_split_quotes)
{
	assert_words("'a b' \"c d\"", (const char *[]){ "a b", "c d", NULL });
	assert_words("'' \"\"", (const char *[]){ "", "", NULL });
	assert_words("x'y'\"z\"w", (const char *[]){ "xyzw", NULL });
	/* Single quotes keep backslashes; double quotes escape only $ ` " \ */
	assert_words("'a\\b' \"c\\d\" \"e\\\"f\" \"g\\\\h\"",
		     (const char *[]){ "a\\b", "c\\d", "e\"f", "g\\h", NULL });
	/* Outside quotes a backslash makes the next character literal. */
	assert_words("a\\ b c\\|d \\$x", (const char *[]){ "a b", "c|d", "$x", NULL });
	/* A line continuation joins the word. */
	assert_words("ab\\\ncd", (const char *[]){ "abcd", NULL });
	assert_words("'#' \"# x\"", (const char *[]){ "#", "# x", NULL });
}
END_TEST

START_TEST(test_split_refused)
{
	assert_refused("a | b", "a pipe '|' at character 3");
	assert_refused("a > /x", "redirection '>'");
	assert_refused("a $(b)", "expansion '$'");
	assert_refused("a \"$HOME\"", "expansion '$'");
	assert_refused("a `b`", "expansion '`'");
	assert_refused("a /x/*", "glob '*'");
	assert_refused("a ~/x", "expansion '~'");
	assert_refused("a & b", "'&'");
	assert_refused("a 'b", "an unterminated single quote at character 3");
	assert_refused("a \"b", "an unterminated double quote");
	assert_refused("a \\", "a backslash ending the command");
}
END_TEST

/* Find the call in `command` and compare its words with `want`. */
static void
assert_call(const char *command, const char *const *want)
{
	struct pitr_check_call call;
	size_t want_n = 0;

	err[0] = '\0';
	ck_assert_msg(pitr_check_find_call(command, &call, err, sizeof(err)) == 0, "[%s]: %s",
		      command, err);
	while (want[want_n] != NULL)
		want_n++;
	ck_assert_uint_eq(call.argc, want_n);
	for (size_t word_idx = 0; word_idx < want_n; word_idx++)
		ck_assert_str_eq(call.argv[word_idx], want[word_idx]);
	ck_assert_ptr_null(call.argv[want_n]);
	pitr_check_call_free(&call);
}

static void
assert_no_call(const char *command, const char *reason)
{
	struct pitr_check_call call;

	ck_assert_int_eq(pitr_check_find_call(command, &call, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, reason) != NULL, "[%s]: [%s] lacks [%s]", command, err, reason);
	ck_assert_ptr_null(call.argv);
}

START_TEST(test_find_call)
{
	assert_call("/usr/bin/pitr-archive -dl /a -s /s \"%p\"",
		    (const char *[]){ "/usr/bin/pitr-archive", "-dl", "/a", "-s", "/s", "%p", NULL });
	assert_call("omnipitr-archive -dl gzip=/a %p",
		    (const char *[]){ "omnipitr-archive", "-dl", "gzip=/a", "%p", NULL });
	/* Assignments and exec before the program are the shell's. */
	assert_call("TMPDIR=/t LANG=C exec pitr-archive %p",
		    (const char *[]){ "pitr-archive", "%p", NULL });
	/* %% is PostgreSQL's escape for %; %p and %f stay placeholders. */
	assert_call("pitr-archive -dl /a/100%% %p %f",
		    (const char *[]){ "pitr-archive", "-dl", "/a/100%", "%p", "%f", NULL });
	/* Lists: the other parts may hold what the splitter cannot read. */
	assert_call("test ! -f /x/%f && pitr-archive -dl /a %p",
		    (const char *[]){ "pitr-archive", "-dl", "/a", "%p", NULL });
	assert_call("echo $(date) >> /tmp/log; pitr-archive -dl '/a b' %p",
		    (const char *[]){ "pitr-archive", "-dl", "/a b", "%p", NULL });
	assert_call("pitr-archive -dl /a %p && touch /x\n: done",
		    (const char *[]){ "pitr-archive", "-dl", "/a", "%p", NULL });
	/* A comment's separators separate nothing. */
	assert_call("pitr-archive -dl /a %p # was: ; pitr-archive -dl /b %p",
		    (const char *[]){ "pitr-archive", "-dl", "/a", "%p", NULL });
	assert_call("# old\npitr-archive %p", (const char *[]){ "pitr-archive", "%p", NULL });
	/* A separator inside quotes is a character. */
	assert_call("pitr-archive -dp 'a;b&&c' %p",
		    (const char *[]){ "pitr-archive", "-dp", "a;b&&c", "%p", NULL });
}
END_TEST

START_TEST(test_find_call_refused)
{
	assert_no_call("cp %p /mnt/archive/%f", "runs no pitr-archive");
	assert_no_call("", "runs no pitr-archive");
	assert_no_call("pitr-archive -dl /a %p | tee x", "a pipe '|'");
	assert_no_call("pitr-archive -dl $DIR %p", "expansion '$'");
	assert_no_call("pitr-archive -dl /a %p; pitr-archive -dl /b %p", "more than once");
	assert_no_call("true || pitr-archive -dl /a %p", "a pipe '|'");
	/* Not the call, and unreadable: its reason is not the answer. */
	assert_no_call("echo $(x) && cp %p /a", "runs no pitr-archive");
}
END_TEST

/* A stat of a file with `mode` (type and permissions) owned by `uid`. */
static struct stat
fake_stat(mode_t mode, uid_t uid)
{
	struct stat st = { .st_mode = mode, .st_uid = uid };

	return st;
}

START_TEST(test_vet_config)
{
	const uid_t me = 1000, dd = 26;
	struct stat st;

	h_setup();
	/* Owned by the user running pitr-check, the data directory's owner, root. */
	st = fake_stat(S_IFREG | 0644, me);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), 0);
	st = fake_stat(S_IFREG | 0600, dd);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), 0);
	st = fake_stat(S_IFREG | 0444, 0);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, (uid_t)-1), 0);
	ck_assert_str_eq(h_log(), "");
	/* Anyone else's, writable by others, not a regular file: one line each. */
	st = fake_stat(S_IFREG | 0644, 4242);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), -1);
	st = fake_stat(S_IFREG | 0600, dd);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, (uid_t)-1), -1);
	st = fake_stat(S_IFREG | 0664, me);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), -1);
	st = fake_stat(S_IFREG | 0646, 0);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), -1);
	st = fake_stat(S_IFIFO | 0600, me);
	ck_assert_int_eq(pitr_check_vet_config("/c", &st, me, dd), -1);
	ck_assert_str_eq(h_log(),
		"ERROR : config file \"/c\" named by archive_command is not read: its owner is "
		"neither you, nor the data directory's owner, nor root (pitr-check reads one only if "
		"it is a regular file owned by you, by the data directory's owner or by root, and "
		"writable by its owner alone)\n"
		"ERROR : config file \"/c\" named by archive_command is not read: its owner is "
		"neither you, nor the data directory's owner, nor root (pitr-check reads one only if "
		"it is a regular file owned by you, by the data directory's owner or by root, and "
		"writable by its owner alone)\n"
		"ERROR : config file \"/c\" named by archive_command is not read: its group or "
		"others may write it (pitr-check reads one only if it is a regular file owned by "
		"you, by the data directory's owner or by root, and writable by its owner alone)\n"
		"ERROR : config file \"/c\" named by archive_command is not read: its group or "
		"others may write it (pitr-check reads one only if it is a regular file owned by "
		"you, by the data directory's owner or by root, and writable by its owner alone)\n"
		"ERROR : config file \"/c\" named by archive_command is not read: it is not a "
		"regular file (pitr-check reads one only if it is a regular file owned by you, by "
		"the data directory's owner or by root, and writable by its owner alone)\n");
	h_teardown();
}
END_TEST

/* The guard's vet(): counts its calls, answers *arg. */
static int vet_calls;

static int
vet_answer(const char *path, const struct stat *st, void *arg)
{
	(void)path;
	vet_calls++;
	ck_assert(S_ISREG(st->st_mode));
	return *(int *)arg;
}

/* Parse pitr-archive's call `-dl /a --config-file FILE %p` under a guard
 * answering `answer`. */
static int
parse_call_with(const char *file, int answer, struct pitr_opts *o)
{
	char *argv[] = { "pitr-archive", "-dl", "/a", "--config-file", (char *)file, "%p", NULL };
	const struct pitr_opts_guard guard = { .vet = vet_answer, .arg = &answer };

	vet_calls = 0;
	return pitr_opts_parse_guarded(o, pitr_archive_option_defs, pitr_archive_noption_defs, 6,
				       argv, &guard);
}

/* pitr_check_vet_config() as pitr-check calls it, data directory unknown. */
static int
vet_real(const char *path, const struct stat *st, void *arg)
{
	(void)arg;
	return pitr_check_vet_config(path, st, geteuid(), (uid_t)-1);
}

/* A FIFO named as the call's config file would block its open until a
 * writer comes: it is refused at once instead. */
START_TEST(test_guarded_fifo)
{
	const struct pitr_opts_guard guard = { .vet = vet_real };
	char *argv[] = { "pitr-archive", "--cfg", NULL, "%p", NULL };
	struct pitr_opts o;

	h_setup();
	argv[2] = (char *)h_path("fifo");
	ck_assert_int_eq(mkfifo(argv[2], 0600), 0);
	ck_assert_int_eq(pitr_opts_parse_guarded(&o, pitr_archive_option_defs,
						 pitr_archive_noption_defs, 4, argv, &guard), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "is not read: it is not a regular file"));
	pitr_opts_free(&o);
	h_teardown();
}
END_TEST

START_TEST(test_guarded_config)
{
	struct pitr_opts o;
	const char *secret, *good;

	h_setup();
	secret = h_path("secret");
	h_write_file(secret, "root:$6$SECRETHASH$abc:19000\n", 29);
	good = h_path("good");
	h_write_file(good, "# ok\ndr host:/w/\n", 17);
	/* A bad line is named by file and line, its text never shown. */
	ck_assert_int_eq(parse_call_with(secret, 0, &o), -1);
	ck_assert_int_eq(vet_calls, 1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : invalid line 1 in config file \"%s\"\n", secret));
	ck_assert_ptr_null(strstr(h_log(), "SECRETHASH"));
	pitr_opts_free(&o);
	/* A file the guard refuses is not read at all. */
	h_log_reset();
	ck_assert_int_eq(parse_call_with(good, -1, &o), -1);
	ck_assert_int_eq(vet_calls, 1);
	ck_assert_uint_eq(o.nowned, 0);
	pitr_opts_free(&o);
	/* One it accepts is read as pitr-archive reads it. */
	ck_assert_int_eq(parse_call_with(good, 0, &o), 0);
	ck_assert_str_eq(pitr_opts_list(&o, "dst-remote", &(size_t){ 0 })[0], "host:/w/");
	pitr_opts_free(&o);
	h_teardown();
}
END_TEST

/* --- the archive module's settings (module.c) ------------------------ */

/* Fill m's values from NAME=VALUE pairs (name without its prefix). */
static void
set_values(struct pitr_check_module *m, const char *const *pairs)
{
	memset(m, 0, sizeof(*m));
	for (; *pairs != NULL; pairs++) {
		const char *eq = strchr(*pairs, '=');
		size_t guc;

		ck_assert_ptr_nonnull(eq);
		for (guc = 0; guc < PITR_CHECK_GUC_COUNT; guc++)
			if (strncmp(pitr_check_module_gucs[guc] + strlen("pitrkit_archive."), *pairs,
				    (size_t)(eq - *pairs)) == 0 &&
			    pitr_check_module_gucs[guc][strlen("pitrkit_archive.") + (size_t)(eq - *pairs)]
			    == '\0')
				break;
		ck_assert_msg(guc < PITR_CHECK_GUC_COUNT, "no setting [%s]", *pairs);
		m->values[guc] = strdup(eq + 1);
	}
}

/* Convert; the error, or "" when it converted. */
static const char *
convert(struct pitr_check_module *m, const char *const *pairs)
{
	set_values(m, pairs);
	err[0] = '\0';
	if (pitr_check_module_opts(m, err, sizeof(err)) != 0)
		ck_assert_msg(err[0] != '\0', "refused without a reason");
	return err;
}

START_TEST(test_module_names)
{
	ck_assert(pitr_check_is_module("pitrkit_archive"));
	ck_assert(pitr_check_is_module("pitrkit_archive.so"));
	ck_assert(pitr_check_is_module("/usr/lib/postgresql/15/lib/pitrkit_archive.so"));
	ck_assert(pitr_check_is_module("$libdir/pitrkit_archive"));
	ck_assert(!pitr_check_is_module("basic_archive"));
	ck_assert(!pitr_check_is_module("pitrkit_archive2"));
	ck_assert(!pitr_check_is_module("/x/pitrkit_archive.so/y"));
	ck_assert(!pitr_check_is_module(".so"));
	ck_assert(!pitr_check_is_module(""));
}
END_TEST

/* Nothing set: the module's defaults, no destination. */
START_TEST(test_module_defaults)
{
	struct pitr_check_module m;

	ck_assert_str_eq(convert(&m, (const char *[]){ "dst_local=", NULL }), "");
	ck_assert_uint_eq(m.a.ndst_local + m.a.ndst_remote + m.a.ndst_pipe, 0);
	ck_assert_ptr_null(m.a.dst_local);
	ck_assert_ptr_null(m.a.dst_backup);
	ck_assert_ptr_null(m.a.state_dir);
	ck_assert_ptr_null(m.a.rsync_path);
	ck_assert_int_eq(m.a.rsync_timeout, PITR_DEST_RSYNC_TIMEOUT_DEFAULT);
	ck_assert_int_eq(m.a.pipe_timeout, PITR_DEST_PIPE_TIMEOUT_DEFAULT);
	ck_assert_int_eq(m.a.parallel_jobs, 1);
	ck_assert_int_eq(m.a.look_ahead, PITR_ARCHIVE_LOOK_AHEAD_DEFAULT);
	ck_assert_int_eq(m.a.jobs, 0);
	ck_assert(!m.a.not_nice);
	ck_assert_ptr_null(m.a.s3.endpoint);
	ck_assert_ptr_null(m.a.s3.region);
	ck_assert_ptr_null(m.a.s3.ca_file);
	ck_assert(!m.a.s3.path_style);
	ck_assert(!m.a.s3.no_verify_tls);
	ck_assert_int_eq(m.a.s3.stall_timeout, PITR_S3_STALL_TIMEOUT_DEFAULT);
	ck_assert_int_eq(m.a.s3.retries, PITR_S3_RETRIES_DEFAULT);
	pitr_check_module_free(&m);
}
END_TEST

/* Every setting, as a placeholder shows it (postgresql.conf's text). */
START_TEST(test_module_every_setting)
{
	struct pitr_check_module m;

	ck_assert_str_eq(convert(&m, (const char *[]){
		"dst_local=/a, lz4='/b c'", "dst_remote=gzip=rsync://h/m/ host:/w/",
		"dst_pipe='gzip=cat >/dev/null'", "dst_backup=/bk", "state_dir=/st",
		"temp_dir=/tmp/x", "rsync_path=/opt/rsync", "rsync_timeout=45",
		"pipe_timeout=2min", "parallel_jobs=3", "not_nice=on", "look_ahead=0", "jobs=2",
		"s3_endpoint=https://127.0.0.1:7443", "s3_region=eu-west-3", "s3_uri_style=path",
		"s3_ca_file=/etc/ca.pem", "s3_no_verify_tls=on", "s3_timeout=2min", "s3_retries=0",
		NULL }), "");
	ck_assert_uint_eq(m.a.ndst_local, 2);
	ck_assert_str_eq(m.a.dst_local[0], "/a");
	ck_assert_str_eq(m.a.dst_local[1], "lz4=/b c");
	ck_assert_uint_eq(m.a.ndst_remote, 2);
	ck_assert_str_eq(m.a.dst_remote[0], "gzip=rsync://h/m/");
	ck_assert_str_eq(m.a.dst_remote[1], "host:/w/");
	ck_assert_uint_eq(m.a.ndst_pipe, 1);
	ck_assert_str_eq(m.a.dst_pipe[0], "gzip=cat >/dev/null");
	ck_assert_str_eq(m.a.dst_backup, "/bk");
	ck_assert_str_eq(m.a.state_dir, "/st");
	ck_assert_str_eq(m.a.temp_dir, "/tmp/x");
	ck_assert_str_eq(m.a.rsync_path, "/opt/rsync");
	ck_assert_int_eq(m.a.rsync_timeout, 45);
	ck_assert_int_eq(m.a.pipe_timeout, 120);
	ck_assert_int_eq(m.a.parallel_jobs, 3);
	ck_assert(m.a.not_nice);
	ck_assert_int_eq(m.a.look_ahead, 0);
	ck_assert_int_eq(m.a.jobs, 2);
	ck_assert_str_eq(m.a.s3.endpoint, "https://127.0.0.1:7443");
	ck_assert_str_eq(m.a.s3.region, "eu-west-3");
	ck_assert(m.a.s3.path_style);
	ck_assert_str_eq(m.a.s3.ca_file, "/etc/ca.pem");
	ck_assert(m.a.s3.no_verify_tls);
	ck_assert_int_eq(m.a.s3.stall_timeout, 120);
	ck_assert_int_eq(m.a.s3.retries, 0);
	pitr_check_module_free(&m);
}
END_TEST

/* The module's options and a parsed call's are the same options: the
 * destinations pitr-check collects do not depend on where they came from. */
START_TEST(test_module_same_as_call)
{
	static const char *call[] = { "pitr-archive", "-dl", "/a", "-dl", "lz4=/b c", "-dr",
				      "gzip=s3://b/wal/", "-s", "/st", "--rsync-timeout", "45",
				      "--s3-endpoint", "https://h:7443", "--s3-uri-style", "path",
				      "--s3-ca-file", "/ca.pem", "--s3-timeout", "5", "--s3-retries",
				      "1", "%p", NULL };
	struct pitr_check_module m;
	struct pitr_archive_opts a;
	struct pitr_opts o;

	h_setup();
	ck_assert_int_eq(pitr_opts_parse(&o, pitr_archive_option_defs, pitr_archive_noption_defs,
					 22, (char **)call), 0);
	pitr_archive_opts_read(&o, &a);
	ck_assert_str_eq(convert(&m, (const char *[]){ "dst_local=/a 'lz4=/b c'",
		"dst_remote=gzip=s3://b/wal/", "state_dir=/st", "rsync_timeout=45",
		"s3_endpoint=https://h:7443", "s3_uri_style=path", "s3_ca_file=/ca.pem",
		"s3_timeout=5", "s3_retries=1", NULL }), "");
	ck_assert_uint_eq(m.a.ndst_local, a.ndst_local);
	for (size_t i = 0; i < a.ndst_local; i++)
		ck_assert_str_eq(m.a.dst_local[i], a.dst_local[i]);
	ck_assert_uint_eq(m.a.ndst_remote, a.ndst_remote);
	ck_assert_str_eq(m.a.dst_remote[0], a.dst_remote[0]);
	ck_assert_str_eq(m.a.state_dir, a.state_dir);
	ck_assert_int_eq(m.a.rsync_timeout, a.rsync_timeout);
	ck_assert_int_eq(m.a.parallel_jobs, a.parallel_jobs);
	ck_assert_uint_eq(m.a.ndst_pipe, a.ndst_pipe);
	ck_assert_str_eq(m.a.s3.endpoint, a.s3.endpoint);
	ck_assert_str_eq(m.a.s3.ca_file, a.s3.ca_file);
	ck_assert(m.a.s3.path_style && a.s3.path_style);
	ck_assert(!m.a.s3.no_verify_tls && !a.s3.no_verify_tls);
	ck_assert_int_eq(m.a.s3.stall_timeout, a.s3.stall_timeout);
	ck_assert_int_eq(m.a.s3.retries, a.s3.retries);
	/* The region unset: the module's NULL and the option's default are
	 * the same region (s3.h). */
	ck_assert_ptr_null(m.a.s3.region);
	ck_assert_str_eq(a.s3.region, "us-east-1");
	pitr_check_module_free(&m);
	pitr_opts_free(&o);
	h_teardown();
}
END_TEST

/* PostgreSQL's own display of a loaded module's setting, and the other
 * spellings it accepts. */
START_TEST(test_module_spellings)
{
	static const struct { const char *pair; int want; } times[] = {
		{ "rsync_timeout=1min", 60 }, { "rsync_timeout=1h", 3600 },
		{ "rsync_timeout=1d", 86400 }, { "rsync_timeout=30s", 30 },
		{ "rsync_timeout= 30 s ", 30 }, { "rsync_timeout=1500ms", 2 },
		{ "rsync_timeout=0.5min", 30 }, { "rsync_timeout=7", 7 },
	};
	static const struct { const char *pair; bool want; } bools[] = {
		{ "not_nice=on", true }, { "not_nice=OFF", false }, { "not_nice=t", true },
		{ "not_nice=yes", true }, { "not_nice=n", false }, { "not_nice=1", true },
		{ "not_nice=0", false }, { "not_nice=False", false },
	};
	static const struct { const char *pair; bool want; } styles[] = {
		{ "s3_uri_style=path", true }, { "s3_uri_style=PATH", true },
		{ "s3_uri_style=host", false }, { "s3_uri_style=Host", false },
	};
	struct pitr_check_module m;

	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		ck_assert_msg(convert(&m, (const char *[]){ times[i].pair, NULL })[0] == '\0',
			      "[%s]: %s", times[i].pair, err);
		ck_assert_msg(m.a.rsync_timeout == times[i].want, "[%s]: %d", times[i].pair,
			      m.a.rsync_timeout);
		pitr_check_module_free(&m);
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		ck_assert_msg(convert(&m, (const char *[]){ bools[i].pair, NULL })[0] == '\0',
			      "[%s]: %s", bools[i].pair, err);
		ck_assert_msg(m.a.not_nice == bools[i].want, "[%s]", bools[i].pair);
		pitr_check_module_free(&m);
	}
	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		ck_assert_msg(convert(&m, (const char *[]){ styles[i].pair, NULL })[0] == '\0',
			      "[%s]: %s", styles[i].pair, err);
		ck_assert_msg(m.a.s3.path_style == styles[i].want, "[%s]", styles[i].pair);
		pitr_check_module_free(&m);
	}
	ck_assert_str_eq(convert(&m, (const char *[]){ "s3_no_verify_tls=yes", NULL }), "");
	ck_assert(m.a.s3.no_verify_tls);
	pitr_check_module_free(&m);
}
END_TEST

/* What the module refuses is said, naming the setting. */
START_TEST(test_module_refused)
{
	static const struct { const char *pair, *reason; } bad[] = {
		{ "dst_local=/a '/b", "pitrkit_archive.dst_local \"/a '/b\" has an unterminated ' quote" },
		{ "dst_pipe=\"cat", "unterminated \" quote" },
		{ "rsync_timeout=0", "pitrkit_archive.rsync_timeout is \"0\": outside 1 .. 86400" },
		{ "pipe_timeout=2 weeks", "valid units are" },
		{ "pipe_timeout=90000", "outside 1 .. 86400" },
		{ "parallel_jobs=2s", "pitrkit_archive.parallel_jobs is \"2s\": it takes no unit" },
		{ "parallel_jobs=65", "outside 1 .. 64" },
		{ "look_ahead=x", "not a number" },
		{ "look_ahead=-1", "outside 0 .. 256" },
		{ "jobs=17", "outside 0 .. 16" },
		{ "not_nice=o", "pitrkit_archive.not_nice is \"o\": not a boolean" },
		{ "not_nice=maybe", "not a boolean" },
		{ "s3_no_verify_tls=maybe", "pitrkit_archive.s3_no_verify_tls is \"maybe\": not a "
		  "boolean" },
		{ "s3_uri_style=virtual", "pitrkit_archive.s3_uri_style is \"virtual\": not "
		  "\"host\" or \"path\"" },
		{ "s3_timeout=0", "pitrkit_archive.s3_timeout is \"0\": outside 1 .. 86400" },
		{ "s3_timeout=5 weeks", "valid units are" },
		{ "s3_retries=101", "pitrkit_archive.s3_retries is \"101\": outside 0 .. 100" },
		{ "s3_retries=1s", "it takes no unit" },
	};
	struct pitr_check_module m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = convert(&m, (const char *[]){ bad[i].pair, NULL });

		ck_assert_msg(strstr(why, bad[i].reason) != NULL, "[%s]: [%s] lacks [%s]",
			      bad[i].pair, why, bad[i].reason);
		ck_assert_msg(strstr(why, "the module refuses it") != NULL, "[%s]", why);
		pitr_check_module_free(&m);
	}
}
END_TEST

/* pitr-check's own --s3-* options replace the server's settings one by
 * one; those not given leave the server's. */
START_TEST(test_s3_apply)
{
	const struct pitr_s3_config server = {
		.endpoint = "https://rgw:7443", .region = "eu-west-3", .path_style = true,
		.ca_file = "/srv/ca.pem", .stall_timeout = 5, .retries = 1,
	};
	struct pitr_s3_config cfg = server;
	struct pitr_check_s3 none = { .retries = -1 };
	struct pitr_check_s3 all = {
		.endpoint = "http://127.0.0.1:7480", .region = "us-east-1", .uri_style = "host",
		.ca_file = "/here/ca.pem", .no_verify_tls = true, .timeout = 30, .retries = 0,
	};

	pitr_check_s3_apply(&none, &cfg);
	ck_assert_str_eq(cfg.endpoint, server.endpoint);
	ck_assert_str_eq(cfg.region, server.region);
	ck_assert(cfg.path_style);
	ck_assert_str_eq(cfg.ca_file, server.ca_file);
	ck_assert(!cfg.no_verify_tls);
	ck_assert_int_eq(cfg.stall_timeout, 5);
	ck_assert_int_eq(cfg.retries, 1);
	pitr_check_s3_apply(&all, &cfg);
	ck_assert_str_eq(cfg.endpoint, all.endpoint);
	ck_assert_str_eq(cfg.region, all.region);
	ck_assert(!cfg.path_style);
	ck_assert_str_eq(cfg.ca_file, all.ca_file);
	ck_assert(cfg.no_verify_tls);
	ck_assert_int_eq(cfg.stall_timeout, 30);
	ck_assert_int_eq(cfg.retries, 0);
	cfg = (struct pitr_s3_config){ .path_style = false };
	pitr_check_s3_apply(&(struct pitr_check_s3){ .uri_style = "path", .retries = -1 }, &cfg);
	ck_assert(cfg.path_style);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_check");
	TCase *tc = tcase_create("words");

	tcase_add_test(tc, test_split_plain);
	tcase_add_test(tc, test_split_quotes);
	tcase_add_test(tc, test_split_refused);
	tcase_add_test(tc, test_find_call);
	tcase_add_test(tc, test_find_call_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("trust");
	tcase_add_test(tc, test_vet_config);
	tcase_add_test(tc, test_guarded_config);
	tcase_add_test(tc, test_guarded_fifo);
	suite_add_tcase(s, tc);
	tc = tcase_create("module");
	tcase_add_test(tc, test_module_names);
	tcase_add_test(tc, test_module_defaults);
	tcase_add_test(tc, test_module_every_setting);
	tcase_add_test(tc, test_module_same_as_call);
	tcase_add_test(tc, test_module_spellings);
	tcase_add_test(tc, test_module_refused);
	tcase_add_test(tc, test_s3_apply);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
