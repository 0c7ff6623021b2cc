/*
 * check_check.c - pitr-check's reading of archive_command: shell word
 * splitting and finding the pitr-archive call (lib/command/check/words.c),
 * and the trust it gives the call's config files (check.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "command/archive/archive.h"
#include "command/check/check.h"
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
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
