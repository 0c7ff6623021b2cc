/*
 * json.c - the JSON writer (see json.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/json.h"

/* The length of the UTF-8 sequence at s (1-4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

void
pitr_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
		p++;
	}
	fputc('"', out);
}


void
pitr_jw_key(struct pitr_jw *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->empty[j->depth] ? "\n" : ",\n", j->out);
		j->empty[j->depth] = false;
		fprintf(j->out, "%*s", 2 * j->depth, "");
	}
	if (key != NULL) {
		pitr_json_string(j->out, key);
		fputs(": ", j->out);
	}
}

void
pitr_jw_open(struct pitr_jw *j, const char *key, char bracket)
{
	pitr_jw_key(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->empty[j->depth] = true;
}

void
pitr_jw_close(struct pitr_jw *j, char bracket)
{
	bool empty = j->empty[j->depth];

	j->depth--;
	if (!empty)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->out);
}

void
pitr_jw_str(struct pitr_jw *j, const char *key, const char *value)
{
	pitr_jw_key(j, key);
	if (value == NULL)
		fputs("null", j->out);
	else
		pitr_json_string(j->out, value);
}

void
pitr_jw_num(struct pitr_jw *j, const char *key, long long value)
{
	pitr_jw_key(j, key);
	fprintf(j->out, "%lld", value);
}

void
pitr_jw_unum(struct pitr_jw *j, const char *key, uint64_t value)
{
	pitr_jw_key(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void
pitr_jw_null(struct pitr_jw *j, const char *key)
{
	pitr_jw_key(j, key);
	fputs("null", j->out);
}

void
pitr_jw_bool(struct pitr_jw *j, const char *key, bool value)
{
	pitr_jw_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

