/*
 * fuzz_archcmd.c - pitr-check's reading of archive_command
 * (command/check/words.c).  The input is any text.  What must hold: a
 * split gives its words and the NULL after them, or one refusal with its
 * reason; the words, written back as single-quoted shell words, split to
 * the same words; finding the call gives the program word first and the
 * NULL after the last, or a refusal with its reason and no words.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/check/check.h"
#include "common/quote.h"
#include "fuzz.h"

/* The words joined as a shell would read them back. */
static char *
rejoin(char **words, size_t n)
{
	size_t len = 1;
	char *out, **quoted = calloc(n + 1, sizeof(*quoted));

	if (quoted == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		if ((quoted[i] = pitr_quote_shell(words[i])) == NULL)
			abort();
		len += strlen(quoted[i]) + 1;
	}
	if ((out = malloc(len)) == NULL)
		abort();
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, quoted[i]);
		strcat(out, i + 1 < n ? " " : "");
		free(quoted[i]);
	}
	free(quoted);
	return out;
}

static void
check_split(const char *text)
{
	char err[256] = "", **words, **again, *joined;
	size_t n, n2;

	if (pitr_check_split_words(text, strlen(text), &words, &n, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fuzz_fail("a refusal without a reason", text);
		return;
	}
	if (n > 0 && words[n] != NULL)
		fuzz_fail("the words do not end in NULL", text);
	joined = rejoin(words, n);

	if (pitr_check_split_words(joined, strlen(joined), &again, &n2, err, sizeof(err)) != 0 ||
	    n2 != n)
		fuzz_fail("quoted words split differently", joined);
	for (size_t i = 0; i < n; i++)
		if (strcmp(words[i], again[i]) != 0)
			fuzz_fail("a quoted word reads back differently", joined);
	pitr_check_words_free(again, n2);
	pitr_check_words_free(words, n);
	free(joined);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct pitr_check_call call;
	char err[256] = "";

	check_split(text);
	if (pitr_check_find_call(text, &call, err, sizeof(err)) == 0) {
		if (call.argc == 0 || call.argv[call.argc] != NULL)
			fuzz_fail("a call without its program or its NULL", text);
		pitr_check_call_free(&call);
	} else if (err[0] == '\0' || call.argv != NULL) {
		fuzz_fail("a refused call without a reason, or with words", text);
	}
	free(text);
	return 0;
}
