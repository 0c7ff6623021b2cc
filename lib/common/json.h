/*
 * json.h - a small JSON writer: string literals that are always valid
 * JSON, and a writer that indents by two per level and puts commas where
 * they belong.  pitr-info and pitr-verify write their --json with it.
 */
#ifndef PITR_COMMON_JSON_H
#define PITR_COMMON_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Write a string as a JSON string literal (RFC 8259 escapes; bytes that
 * are not UTF-8 become U+FFFD, so the output is always valid JSON). */
void pitr_json_string(FILE *out, const char *s);

#define PITR_JSON_DEPTH 8

/* Zero it but for `out`; open the top-level value with key NULL. */
struct pitr_jw {
	FILE *out;
	int depth;
	bool empty[PITR_JSON_DEPTH];
};

/* Each takes the member's key (NULL inside an array or at the top). */
void pitr_jw_key(struct pitr_jw *j, const char *key);
void pitr_jw_open(struct pitr_jw *j, const char *key, char bracket);  /* '{' or '[' */
void pitr_jw_close(struct pitr_jw *j, char bracket);                  /* '}' or ']' */
void pitr_jw_str(struct pitr_jw *j, const char *key, const char *value);  /* NULL: null */
void pitr_jw_num(struct pitr_jw *j, const char *key, long long value);
void pitr_jw_unum(struct pitr_jw *j, const char *key, uint64_t value);
void pitr_jw_null(struct pitr_jw *j, const char *key);
void pitr_jw_bool(struct pitr_jw *j, const char *key, bool value);

#endif
