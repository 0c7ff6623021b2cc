/*
 * fuzz_quote.c - command lines and quoting (common/quote): pitr-restore
 * -h splits its command line into words without a shell, and the words
 * pitrkit writes for a shell or postgresql.conf (restore_command, the ssh
 * destination's remote commands) are quoted here.  The input is any text.
 * What must hold: split gives its words and the NULL slots it promises,
 * or one refusal; the shell word and the postgresql.conf literal read
 * back, by those languages' rules, to the text exactly.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/quote.h"
#include "fuzz.h"

#define SPARE 3

/* A POSIX shell's reading of a word made of '...' parts and \' . */
static char *
unquote_shell(const char *q)
{
	char *out = malloc(strlen(q) + 1), *o = out;

	if (out == NULL)
		abort();
	while (*q != '\0') {
		if (q[0] == '\\' && q[1] == '\'') {
			*o++ = '\'';
			q += 2;
		} else if (*q == '\'') {
			const char *end = strchr(q + 1, '\'');

			if (end == NULL)
				fuzz_fail("an unterminated quote in a shell word", q);
			memcpy(o, q + 1, (size_t)(end - q - 1));
			o += end - q - 1;
			q = end + 1;
		} else {
			fuzz_fail("a shell word with an unquoted character", q);
		}
	}
	*o = '\0';
	return out;
}

/* postgresql.conf's reading of a '...' literal ('' and \\ inside). */
static char *
unquote_conf(const char *q)
{
	size_t len = strlen(q);
	char *out = malloc(len + 1), *o = out;

	if (out == NULL)
		abort();
	if (len < 2 || q[0] != '\'' || q[len - 1] != '\'')
		fuzz_fail("a conf literal without its quotes", q);
	for (size_t i = 1; i + 1 < len; i++) {
		if ((q[i] == '\'' || q[i] == '\\') && i + 2 < len && q[i + 1] == q[i])
			i++;
		else if (q[i] == '\'' || q[i] == '\\')
			fuzz_fail("a conf literal with a lone quote or backslash", q);
		*o++ = q[i];
	}
	*o = '\0';
	return out;
}

static void
check_back(const char *text, char *quoted, char *(*unquote)(const char *), const char *what)
{
	char *back;

	if (quoted == NULL)
		fuzz_fail("no quoted form", what);
	back = unquote(quoted);
	if (strcmp(back, text) != 0)
		fuzz_fail(what, quoted);
	free(back);
	free(quoted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	size_t n = 0;
	char **words = pitr_quote_split(text, "--fuzz", SPARE, &n);

	if (words != NULL) {
		for (size_t i = 0; i < n; i++)
			if (words[i] == NULL)
				fuzz_fail("a split word is missing", text);
		for (size_t i = n; i < n + SPARE + 1; i++)
			if (words[i] != NULL)
				fuzz_fail("a spare slot is not empty", text);
		pitr_quote_split_free(words);
	}
	check_back(text, pitr_quote_shell(text), unquote_shell, "a shell word reads back differently");
	check_back(text, pitr_quote_conf(text), unquote_conf, "a conf literal reads back differently");
	free(pitr_quote_command_word(text));
	free(text);
	return 0;
}
