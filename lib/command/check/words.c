/*
 * words.c - read an archive_command as the server's /bin/sh would, for
 * the plain case, and find its pitr-archive call (see check.h).
 *
 * Only what can be read without running anything is accepted: quoting,
 * backslashes, comments, && and ; lists.  An expansion ($VAR, $(...),
 * `...`), a pipe, a redirection or a glob would need the shell itself;
 * the caller then says so in one line and the operator names the call
 * with --archive-command.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/check/check.h"
#include "common/xalloc.h"

/* A growing list of words, each growing a character at a time. */
struct splitter {
	char **words;
	size_t n, cap;
	char *cur;              /* the word being read, or NULL between words */
	size_t len, cur_cap;
	char *err;
	size_t err_size;
};

static int
fail(struct splitter *sp, const char *fmt, const char *what, size_t pos)
{
	char lead[64];

	snprintf(lead, sizeof(lead), fmt, what);
	snprintf(sp->err, sp->err_size, "%s at character %zu", lead, pos + 1);
	return -1;
}

static int
put(struct splitter *sp, char c)
{
	if (sp->cur == NULL || sp->len + 2 > sp->cur_cap) {
		size_t cap = sp->cur_cap ? sp->cur_cap * 2 : 32;
		char *grown = pitr_xrealloc(sp->cur, cap);

		if (grown == NULL) {
			snprintf(sp->err, sp->err_size, "out of memory");
			return -1;
		}
		sp->cur = grown;
		sp->cur_cap = cap;
	}
	sp->cur[sp->len++] = c;
	sp->cur[sp->len] = '\0';
	return 0;
}

/* Make sure a word is started, even an empty one ('' is a word). */
static int
start_word(struct splitter *sp)
{
	if (sp->cur != NULL)
		return 0;
	if (put(sp, 'x') != 0)
		return -1;
	sp->len = 0;
	sp->cur[0] = '\0';
	return 0;
}

static int
end_word(struct splitter *sp)
{
	if (sp->cur == NULL)
		return 0;
	if (sp->n + 2 > sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 8;
		char **grown = pitr_xrealloc(sp->words, cap * sizeof(*grown));

		if (grown == NULL) {
			snprintf(sp->err, sp->err_size, "out of memory");
			return -1;
		}
		sp->words = grown;
		sp->cap = cap;
	}
	sp->words[sp->n++] = sp->cur;
	sp->words[sp->n] = NULL;
	sp->cur = NULL;
	sp->len = sp->cur_cap = 0;
	return 0;
}

/* '...' from text[*i] (the opening quote): everything literal. */
static int
single_quoted(struct splitter *sp, const char *text, size_t len, size_t *i)
{
	size_t open = *i;

	if (start_word(sp) != 0)
		return -1;
	for ((*i)++; *i < len && text[*i] != '\''; (*i)++)
		if (put(sp, text[*i]) != 0)
			return -1;
	if (*i >= len)
		return fail(sp, "%s", "an unterminated single quote", open);
	return 0;
}

/* "..." from text[*i]: \ escapes only $ ` " \ and newline; an expansion
 * is refused. */
static int
double_quoted(struct splitter *sp, const char *text, size_t len, size_t *i)
{
	size_t open = *i;

	if (start_word(sp) != 0)
		return -1;
	for ((*i)++; *i < len && text[*i] != '"'; (*i)++) {
		char c = text[*i];

		if (c == '$' || c == '`')
			return fail(sp, "cannot read the expansion '%s'", c == '$' ? "$" : "`", *i);
		if (c == '\\' && *i + 1 < len && strchr("$`\"\\\n", text[*i + 1]) != NULL) {
			if (text[++(*i)] == '\n')
				continue;
			c = text[*i];
		}
		if (put(sp, c) != 0)
			return -1;
	}
	if (*i >= len)
		return fail(sp, "%s", "an unterminated double quote", open);
	return 0;
}

/* One unquoted character at text[*i]. */
static int
plain(struct splitter *sp, const char *text, size_t len, size_t *i)
{
	static const char *const names[][2] = {
		{ "|", "a pipe '|'" }, { "&", "'&'" }, { ";", "';'" }, { "<", "a redirection '<'" },
		{ ">", "a redirection '>'" }, { "(", "'('" }, { ")", "')'" },
		{ "$", "the expansion '$'" }, { "`", "the expansion '`'" }, { "*", "the glob '*'" },
		{ "?", "the glob '?'" }, { "[", "the glob '['" },
	};
	char c = text[*i];

	for (size_t name_idx = 0; name_idx < sizeof(names) / sizeof(names[0]); name_idx++)
		if (c == names[name_idx][0][0])
			return fail(sp, "cannot read %s", names[name_idx][1], *i);
	if (c == '~' && sp->cur == NULL)
		return fail(sp, "cannot read %s", "the expansion '~'", *i);
	if (c == '\\') {
		if (*i + 1 >= len)
			return fail(sp, "%s", "a backslash ending the command", *i);
		if (text[++(*i)] == '\n')
			return 0;       /* a line continuation */
		c = text[*i];
	}
	return put(sp, c);
}

static void
splitter_free(struct splitter *sp)
{
	pitr_check_words_free(sp->words, sp->n);
	free(sp->cur);
}

int
pitr_check_split_words(const char *text, size_t len, char ***words, size_t *n, char *err,
		       size_t err_size)
{
	struct splitter sp = { .err = err, .err_size = err_size };
	int rc = 0;

	for (size_t i = 0; i < len && rc == 0; i++) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\n')
			rc = end_word(&sp);
		else if (c == '#' && sp.cur == NULL)
			break;          /* a comment to the end */
		else if (c == '\'')
			rc = single_quoted(&sp, text, len, &i);
		else if (c == '"')
			rc = double_quoted(&sp, text, len, &i);
		else
			rc = plain(&sp, text, len, &i);
	}
	if (rc == 0)
		rc = end_word(&sp);
	if (rc != 0) {
		splitter_free(&sp);
		return -1;
	}
	*words = sp.words;
	*n = sp.n;
	return 0;
}

void
pitr_check_words_free(char **words, size_t n)
{
	for (size_t word_idx = 0; word_idx < n; word_idx++)
		free(words[word_idx]);
	free(words);
}

/* The end of the list element that starts at `start`: the next unquoted,
 * unescaped "&&", ";" or newline, or the end; *next is where the element
 * after it starts.  Quotes are only skipped here: the splitter judges
 * them. */
static size_t
element_end(const char *cmd, size_t start, size_t *next)
{
	size_t i = start;
	char quote = '\0';

	for (; cmd[i] != '\0'; i++) {
		char c = cmd[i];

		if (quote != '\0') {
			if (c == '\\' && quote == '"' && cmd[i + 1] != '\0')
				i++;
			else if (c == quote)
				quote = '\0';
		} else if (c == '\\' && cmd[i + 1] != '\0') {
			i++;
		} else if (c == '\'' || c == '"') {
			quote = c;
		} else if (c == '#' && (i == start || strchr(" \t;&", cmd[i - 1]) != NULL)) {
			/* A comment: its ; and && separate nothing. */
			while (cmd[i + 1] != '\0' && cmd[i + 1] != '\n')
				i++;
		} else if (c == ';' || c == '\n' || (c == '&' && cmd[i + 1] == '&')) {
			*next = i + (c == '&' ? 2 : 1);
			return i;
		}
	}
	*next = i;
	return i;
}

/* The index of the program among `words`: after NAME=VALUE assignments
 * and an `exec`. */
static size_t
program_index(char **words, size_t n)
{
	size_t i = 0;

	while (i < n && strchr(words[i], '=') != NULL && words[i][0] != '=' &&
	       strspn(words[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
	       (size_t)(strchr(words[i], '=') - words[i]))
		i++;
	if (i < n && strcmp(words[i], "exec") == 0)
		i++;
	return i;
}

static bool
is_archive_program(const char *word)
{
	const char *slash = strrchr(word, '/');
	const char *base = slash != NULL ? slash + 1 : word;

	return strcmp(base, "pitr-archive") == 0 || strcmp(base, "omnipitr-archive") == 0;
}

/* PostgreSQL replaced %% by % before the shell saw the command; %p and
 * %f stay, as placeholders. */
static void
unescape_percent(char *word)
{
	char *w = word;

	for (const char *r = word; *r != '\0'; r++) {
		*w++ = *r;
		if (r[0] == '%' && r[1] == '%')
			r++;
	}
	*w = '\0';
}

/* Keep words[from..n) as the call; the rest is freed. */
static void
take_call(struct pitr_check_call *call, char **words, size_t n, size_t from)
{
	for (size_t word_idx = 0; word_idx < from; word_idx++)
		free(words[word_idx]);
	memmove(words, words + from, (n - from + 1) * sizeof(*words));
	call->argv = words;
	call->argc = n - from;
	for (size_t word_idx = 0; word_idx < call->argc; word_idx++)
		unescape_percent(call->argv[word_idx]);
}

static bool
mentions_archive(const char *text, size_t len)
{
	static const char needle[] = "-archive";

	for (size_t i = 0; i + sizeof(needle) - 1 <= len; i++)
		if (memcmp(text + i, needle, sizeof(needle) - 1) == 0)
			return true;
	return false;
}

/* Look at one list element: 1 if it is the call (taken into *call),
 * 0 if not, -1 with `err` set if it cannot be read and names the
 * program (or a second call). */
static int
look_at(const char *text, size_t len, struct pitr_check_call *call, char *err, size_t err_size)
{
	char **words;
	size_t n, prog;
	bool names_it = mentions_archive(text, len);

	if (pitr_check_split_words(text, len, &words, &n, err, err_size) != 0)
		return names_it ? -1 : 0;
	prog = program_index(words, n);
	if (prog >= n || !is_archive_program(words[prog])) {
		pitr_check_words_free(words, n);
		return 0;
	}
	if (call->argv != NULL) {
		snprintf(err, err_size, "it runs pitr-archive more than once");
		pitr_check_words_free(words, n);
		return -1;
	}
	take_call(call, words, n, prog);
	return 1;
}

int
pitr_check_find_call(const char *command, struct pitr_check_call *call, char *err,
		     size_t err_size)
{
	size_t start = 0;

	call->argv = NULL;
	call->argc = 0;
	while (command[start] != '\0') {
		size_t next;
		size_t end = element_end(command, start, &next);

		if (look_at(command + start, end - start, call, err, err_size) < 0) {
			pitr_check_call_free(call);
			return -1;
		}
		start = next;
	}
	if (call->argv == NULL) {
		snprintf(err, err_size, "it runs no pitr-archive (or omnipitr-archive)");
		return -1;
	}
	return 0;
}

void
pitr_check_call_free(struct pitr_check_call *call)
{
	pitr_check_words_free(call->argv, call->argc);
	call->argv = NULL;
	call->argc = 0;
}
