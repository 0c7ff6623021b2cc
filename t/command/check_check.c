/*
 * check_check.c - pitr-check's reading of archive_command: shell word
 * splitting and finding the pitr-archive call (lib/command/check/words.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/check/check.h"
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
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
