/*
 * quote.c - shell words, postgresql.conf literals and splitting a command
 * line (see quote.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"

/* What a shell word may hold and stay unquoted: nothing the shell, or the
 * PostgreSQL setting around it, would read differently. */
#define PLAIN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/.,:=+@%-"

/* The closing quote, an escaped quote, and the quote reopened. */
#define QUOTE_IN_QUOTES "'\\''"

/* `s` for a shell: single-quoted when `always` or when needed, each % doubled
 * when `double_percent`. */
static char *
shell_word(const char *s, bool always, bool double_percent)
{
	bool quote = always || s[0] == '\0' || strspn(s, PLAIN_CHARS) != strlen(s);
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\'' ? strlen(QUOTE_IN_QUOTES) : (*p == '%' && double_percent) ? 2 : 1;
	if ((out = pitr_xmalloc(n)) == NULL)
		return NULL;
	o = out;
	if (quote)
		*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, QUOTE_IN_QUOTES, strlen(QUOTE_IN_QUOTES));
			o += strlen(QUOTE_IN_QUOTES);
		} else {
			if (*p == '%' && double_percent)
				*o++ = '%';
			*o++ = *p;
		}
	}
	if (quote)
		*o++ = '\'';
	*o = '\0';
	return out;
}

char *
pitr_quote_shell(const char *s)
{
	return shell_word(s, true, false);
}

char *
pitr_quote_command_word(const char *s)
{
	return shell_word(s, false, true);
}

char *
pitr_quote_conf(const char *s)
{
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += (*p == '\'' || *p == '\\') ? 2 : 1;
	if ((out = pitr_xmalloc(n)) == NULL)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			*o++ = *p;
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Copy the word at *pos into `word` (room for strlen(*pos) + 1), moving *pos
 * past it.  Returns 0, or the quote character left open. */
static char
next_word(const char **pos, char *word)
{
	const char *p = *pos;
	char quote = '\0';

	for (; *p != '\0'; p++) {
		if (quote != '\0') {
			if (*p == quote)
				quote = '\0';
			else
				*word++ = *p;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == ' ' || *p == '\t') {
			break;
		} else {
			*word++ = *p;
		}
	}
	*word = '\0';
	*pos = p;
	return quote;
}

char **
pitr_quote_split(const char *s, const char *what, size_t spare, size_t *nwords)
{
	size_t len = strlen(s);
	/* A word and a blank take two bytes at least. */
	size_t max_words = len / 2 + 1;
	char **words = pitr_xcalloc(max_words + spare + 1, sizeof(*words));
	char *word = pitr_xmalloc(len + 1);
	const char *pos = s;
	size_t count = 0;
	char **ret = NULL;

	if (words == NULL || word == NULL)
		goto out;
	for (;;) {
		char open_quote;

		pos += strspn(pos, " \t");
		if (*pos == '\0')
			break;
		if ((open_quote = next_word(&pos, word)) != '\0') {
			pitr_log_error("%s \"%s\" has an unterminated %c quote", what, s, open_quote);
			goto out;
		}
		if ((words[count] = pitr_xstrdup(word)) == NULL)
			goto out;
		count++;
	}
	*nwords = count;
	ret = words;
	words = NULL;
out:
	pitr_quote_split_free(words);
	free(word);
	return ret;
}

void
pitr_quote_split_free(char **words)
{
	if (words == NULL)
		return;
	for (size_t word_idx = 0; words[word_idx] != NULL; word_idx++)
		free(words[word_idx]);
	free(words);
}

/* The length of the valid UTF-8 sequence at `p` that is not a C1 control
 * character (U+0080 to U+009F, which some terminals obey), or 0. */
static size_t
utf8_printable(const unsigned char *p)
{
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, surrogates or code points past U+10FFFF. */
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	else if (p[0] == 0xc2 && p[1] <= 0x9f)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* The escape of byte `c` (room for 5 bytes), or NULL when it stands as it is. */
static const char *
text_escape(unsigned char c, char *buf)
{
	switch (c) {
	case '\n': return "\\n";
	case '\t': return "\\t";
	case '\r': return "\\r";
	case '\\': return "\\\\";
	default:
		break;
	}
	if (c < 0x20 || c >= 0x7f) {
		snprintf(buf, 5, "\\x%02x", c);
		return buf;
	}
	return NULL;
}

char *
pitr_quote_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = pitr_xmalloc(strlen(s) * 4 + 1), *o = out;
	char esc[5];

	if (out == NULL)
		return NULL;
	while (*p != '\0') {
		size_t n = *p >= 0x80 ? utf8_printable(p) : 0;
		const char *e = n == 0 ? text_escape(*p, esc) : NULL;

		if (e != NULL) {
			o = stpcpy(o, e);
			p++;
		} else {
			n = n == 0 ? 1 : n;
			memcpy(o, p, n);
			o += n;
			p += n;
		}
	}
	*o = '\0';
	return out;
}

int
pitr_quote_fprintf(FILE *out, const char *fmt, ...)
{
	va_list ap;
	char *line, *text;
	size_t len;
	bool newline;

	va_start(ap, fmt);
	line = pitr_xvasprintf(fmt, ap);
	va_end(ap);
	if (line == NULL)
		return -1;
	len = strlen(line);
	if ((newline = len > 0 && line[len - 1] == '\n'))
		line[len - 1] = '\0';
	text = pitr_quote_text(line);
	free(line);
	if (text == NULL)
		return -1;
	fputs(text, out);
	if (newline)
		fputc('\n', out);
	free(text);
	return 0;
}
