/*
 * check_quote.c - unit tests for shell words, postgresql.conf literals and
 * splitting a command line.
 *
 * Shell words are also run through /bin/sh, to show that the shell gives
 * back the original.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "common/quote.h"

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

/* What `sh -c 'printf %s WORD'` prints for the quoted `word`. */
static char *
through_shell(const char *word)
{
	const char *out = h_path("out");
	char *cmd = NULL;
	char *got;

	ck_assert_int_ge(asprintf(&cmd, "printf %%s %s > '%s'", word, out), 0);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	got = h_read_file(out, NULL);
	return got;
}

/* --- pitr_quote_shell ------------------------------------------------ */

START_TEST(test_shell_always_quotes)
{
	static const char *const cases[][2] = {
		{ "plain", "'plain'" },
		{ "/mnt/my archive", "'/mnt/my archive'" },
		{ "a'b", "'a'\\''b'" },
		{ "100%", "'100%'" },
		{ "$HOME `x` \\ \"q\"", "'$HOME `x` \\ \"q\"'" },
		{ "", "''" },
		{ "/a b/it's $x`y`\\n", "'/a b/it'\\''s $x`y`\\n'" },
		{ "''", "''\\'''\\'''" },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		char *q = pitr_quote_shell(cases[case_idx][0]);
		char *back = through_shell(q);

		ck_assert_str_eq(q, cases[case_idx][1]);
		ck_assert_str_eq(back, cases[case_idx][0]);
		free(back);
		free(q);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- pitr_quote_command_word ----------------------------------------- */

START_TEST(test_command_word)
{
	static const char *const cases[][2] = {
		{ "/usr/bin/pitr-restore", "/usr/bin/pitr-restore" },
		{ "gzip=/mnt/wal_archive", "gzip=/mnt/wal_archive" },
		{ "/mnt/my archive", "'/mnt/my archive'" },
		{ "/mnt/it's", "'/mnt/it'\\''s'" },
		{ "/mnt/100%", "/mnt/100%%" },
		{ "/a b/%f", "'/a b/%%f'" },
		{ "$HOME", "'$HOME'" },
		{ "", "''" },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		char *q = pitr_quote_command_word(cases[case_idx][0]);

		ck_assert_str_eq(q, cases[case_idx][1]);
		free(q);
	}
}
END_TEST

/* Without a % (which PostgreSQL, not the shell, reads) the shell gives the
 * word back. */
START_TEST(test_command_word_through_shell)
{
	static const char *const words[] = { "/mnt/my archive", "/mnt/it's", "a;b|c&d", "" };

	for (size_t word_idx = 0; word_idx < sizeof(words) / sizeof(words[0]); word_idx++) {
		char *q = pitr_quote_command_word(words[word_idx]);
		char *back = through_shell(q);

		ck_assert_str_eq(back, words[word_idx]);
		free(back);
		free(q);
	}
}
END_TEST

/* --- pitr_quote_conf ------------------------------------------------- */

START_TEST(test_conf)
{
	static const char *const cases[][2] = {
		{ "plain", "'plain'" },
		{ "it's", "'it''s'" },
		{ "back\\slash", "'back\\\\slash'" },
		{ "", "''" },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		char *q = pitr_quote_conf(cases[case_idx][0]);

		ck_assert_str_eq(q, cases[case_idx][1]);
		free(q);
	}
}
END_TEST

/* --- pitr_quote_split ------------------------------------------------ */

/* Split `line` with one spare slot and compare with the `n` words. */
static void
assert_split(const char *line, size_t n, const char *const *want)
{
	size_t nwords = 99;
	char **words = pitr_quote_split(line, "--opt", 1, &nwords);

	ck_assert_ptr_nonnull(words);
	ck_assert_uint_eq(nwords, n);
	for (size_t word_idx = 0; word_idx < n; word_idx++)
		ck_assert_str_eq(words[word_idx], want[word_idx]);
	/* The spare slot and the terminator. */
	ck_assert_ptr_null(words[n]);
	ck_assert_ptr_null(words[n + 1]);
	pitr_quote_split_free(words);
	ck_assert_str_eq(h_log(), "");
}

START_TEST(test_split_at_blanks)
{
	static const char *const three[] = { "a", "bc", "d" };
	static const char *const one[] = { "prog" };

	assert_split("a bc d", 3, three);
	assert_split("  a \t bc\td  ", 3, three);
	assert_split("prog", 1, one);
}
END_TEST

START_TEST(test_split_quotes_group)
{
	static const char *const sh[] = { "/bin/sh", "-c", "case \"$0\" in *02) exit 4;; esac" };
	static const char *const dq[] = { "it's here", "x" };
	static const char *const joined[] = { "ab cd", "e" };
	static const char *const empty[] = { "a", "", "b" };
	static const char *const backslash[] = { "a\\", "b" };

	assert_split("/bin/sh -c 'case \"$0\" in *02) exit 4;; esac'", 3, sh);
	assert_split("\"it's here\" x", 2, dq);
	assert_split("a'b c'd e", 2, joined);
	assert_split("a '' b", 3, empty);
	/* Nothing but the quotes is special. */
	assert_split("a\\ b", 2, backslash);
}
END_TEST

START_TEST(test_split_no_words)
{
	assert_split("", 0, NULL);
	assert_split(" \t ", 0, NULL);
}
END_TEST

START_TEST(test_split_spare_slots)
{
	size_t nwords;
	char **words = pitr_quote_split("a b", "--opt", 3, &nwords);

	ck_assert_uint_eq(nwords, 2);
	for (size_t slot_idx = 2; slot_idx < 2 + 3 + 1; slot_idx++)
		ck_assert_ptr_null(words[slot_idx]);
	pitr_quote_split_free(words);
}
END_TEST

START_TEST(test_split_unterminated_quote)
{
	size_t nwords = 7;

	ck_assert_ptr_null(pitr_quote_split("archive 'x", "--pre-removal-processing", 1, &nwords));
	ck_assert_str_eq(h_log(), "ERROR : --pre-removal-processing \"archive 'x\" has an "
			 "unterminated ' quote\n");
	ck_assert_uint_eq(nwords, 7);
	h_log_reset();
	ck_assert_ptr_null(pitr_quote_split("a \"b c", "-h", 0, &nwords));
	ck_assert_str_eq(h_log(), "ERROR : -h \"a \"b c\" has an unterminated \" quote\n");
}
END_TEST

START_TEST(test_split_free_null)
{
	pitr_quote_split_free(NULL);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

/* ---- text ---- */

static void
assert_text(const char *s, const char *want)
{
	char *got = pitr_quote_text(s);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_text_controls)
{
	assert_text("", "");
	assert_text("plain name-1.tar.gz", "plain name-1.tar.gz");
	assert_text("a\nPROBLEM: none\n", "a\\nPROBLEM: none\\n");
	assert_text("t\tr\rb\\", "t\\tr\\rb\\\\");
	assert_text("\x01\x1b[31m\x7f", "\\x01\\x1b[31m\\x7f");
}
END_TEST

START_TEST(test_text_utf8)
{
	/* Valid UTF-8 stays: é, €, 𝄞. */
	assert_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e");
	/* Not UTF-8: a Latin-1 é, a cut sequence, overlong "/", a surrogate,
	 * past U+10FFFF, a lone continuation byte. */
	assert_text("caf\xe9", "caf\\xe9");
	assert_text("\xe2\x82", "\\xe2\\x82");
	assert_text("\xc0\xaf", "\\xc0\\xaf");
	assert_text("\xed\xa0\x80", "\\xed\\xa0\\x80");
	assert_text("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	assert_text("\x80", "\\x80");
	/* C1 controls (U+009B is CSI for some terminals), encoded right. */
	assert_text("\xc2\x9b" "2J", "\\xc2\\x9b2J");
	assert_text("\xc2\xa0", "\xc2\xa0");
}
END_TEST

START_TEST(test_text_fprintf)
{
	const char *path = h_path("out");
	FILE *f = fopen(path, "w");
	char *got;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pitr_quote_fprintf(f, "  %s\n", "x\nPROBLEM: y"), 0);
	ck_assert_int_eq(pitr_quote_fprintf(f, "a %s", "b\tc"), 0);
	ck_assert_int_eq(pitr_quote_fprintf(f, "\n"), 0);
	ck_assert_int_eq(fclose(f), 0);
	got = h_read_file(path, NULL);
	ck_assert_str_eq(got, "  x\\nPROBLEM: y\na b\\tc\n");
	free(got);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("quote");
	TCase *tc;

	tc = tcase("shell");
	tcase_add_test(tc, test_shell_always_quotes);
	suite_add_tcase(s, tc);

	tc = tcase("command_word");
	tcase_add_test(tc, test_command_word);
	tcase_add_test(tc, test_command_word_through_shell);
	suite_add_tcase(s, tc);

	tc = tcase("conf");
	tcase_add_test(tc, test_conf);
	suite_add_tcase(s, tc);

	tc = tcase("split");
	tcase_add_test(tc, test_split_at_blanks);
	tcase_add_test(tc, test_split_quotes_group);
	tcase_add_test(tc, test_split_no_words);
	tcase_add_test(tc, test_split_spare_slots);
	tcase_add_test(tc, test_split_unterminated_quote);
	tcase_add_test(tc, test_split_free_null);
	suite_add_tcase(s, tc);

	tc = tcase("text");
	tcase_add_test(tc, test_text_controls);
	tcase_add_test(tc, test_text_utf8);
	tcase_add_test(tc, test_text_fprintf);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
