/*
 * recoveryconf.c - an OmniPITR-era recovery.conf read as PostgreSQL's
 * configuration reader (guc-file.l) read it, and each setting's
 * PostgreSQL 12+ form.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/standby/recoveryconf.h"
#include "common/log.h"
#include "common/xalloc.h"

struct cursor {
	const char *p, *end;
	const char *what;
	unsigned line;
};

static bool
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void
skip_blanks(struct cursor *c)
{
	while (c->p < c->end && blank((unsigned char)*c->p))
		c->p++;
}

/* A name: a letter or _, then letters, digits, _ $ and dots. */
static char *
read_name(struct cursor *c)
{
	const char *s = c->p;

	if (c->p >= c->end || !(isalpha((unsigned char)*c->p) || *c->p == '_'))
		return NULL;
	while (c->p < c->end && (isalnum((unsigned char)*c->p) || strchr("_$.", *c->p) != NULL))
		c->p++;
	return pitr_xstrndup(s, (size_t)(c->p - s));
}

/* One escape after a backslash inside a '...' string, appended to *o. */
static void
read_escape(struct cursor *c, char **o)
{
	static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
	const char *hit = strchr(from, *c->p);

	if (*c->p >= '0' && *c->p <= '7') {
		unsigned v = 0;

		for (int i = 0; i < 3 && c->p < c->end && *c->p >= '0' && *c->p <= '7'; i++)
			v = v * 8 + (unsigned)(*c->p++ - '0');
		*(*o)++ = (char)v;
		return;
	}
	*(*o)++ = hit != NULL && *hit != '\0' ? to[hit - from] : *c->p;
	c->p++;
}

/* A '...' string (c->p after the opening quote), unquoted; NULL at a line's
 * end without the closing quote. */
static char *
read_quoted(struct cursor *c)
{
	char *out = pitr_xmalloc((size_t)(c->end - c->p) + 1), *o = out;

	if (out == NULL)
		return NULL;
	while (c->p < c->end && *c->p != '\n') {
		if (*c->p == '\'' && c->p + 1 < c->end && c->p[1] == '\'') {
			*o++ = '\'';
			c->p += 2;
		} else if (*c->p == '\'') {
			c->p++;
			*o = '\0';
			return out;
		} else if (*c->p == '\\' && c->p + 1 < c->end && c->p[1] != '\n') {
			c->p++;
			read_escape(c, &o);
		} else {
			*o++ = *c->p++;
		}
	}
	free(out);
	return NULL;
}

/* An unquoted value: letters, digits and _ - . : / + (a word, a number, a
 * path). */
static char *
read_word(struct cursor *c)
{
	const char *s = c->p;

	while (c->p < c->end && (isalnum((unsigned char)*c->p) || strchr("_-.:/+$", *c->p) != NULL))
		c->p++;
	return c->p > s ? pitr_xstrndup(s, (size_t)(c->p - s)) : NULL;
}

static int
syntax_error(const struct cursor *c, const char *why)
{
	pitr_log_error("recovery.conf \"%s\" line %u: %s", c->what, c->line, why);
	return -1;
}

static int
add_item(struct pitr_recovery_conf *out, char *key, char *value, unsigned line)
{
	struct pitr_recovery_conf_item *n =
		pitr_xreallocarray(out->items, out->n + 1, sizeof(*out->items));

	if (n == NULL) {
		free(key);
		free(value);
		return -1;
	}
	out->items = n;
	for (char *k = key; *k != '\0'; k++)
		*k = (char)tolower((unsigned char)*k);
	n[out->n++] = (struct pitr_recovery_conf_item){ key, value, line };
	return 0;
}

/* One line that is not blank or a comment: name [=] value [# comment]. */
static int
parse_setting(struct cursor *c, struct pitr_recovery_conf *out)
{
	char *key = read_name(c), *value = NULL;

	if (key == NULL)
		return syntax_error(c, "expected a setting's name");
	skip_blanks(c);
	if (c->p < c->end && *c->p == '=')
		c->p++;
	skip_blanks(c);
	if (c->p < c->end && *c->p == '\'') {
		c->p++;
		value = read_quoted(c);
		if (value == NULL) {
			free(key);
			return syntax_error(c, "a quoted value is not closed on its line");
		}
	} else {
		value = read_word(c);
	}
	skip_blanks(c);
	if (value == NULL || (c->p < c->end && *c->p != '\n' && *c->p != '#')) {
		free(key);
		free(value);
		return syntax_error(c, "expected name = 'value'");
	}
	return add_item(out, key, value, c->line);
}

int
pitr_recovery_conf_parse(const char *text, size_t len, const char *what,
			 struct pitr_recovery_conf *out)
{
	struct cursor c = { text, text + len, what, 1 };

	memset(out, 0, sizeof(*out));
	if (memchr(text, '\0', len) != NULL) {
		pitr_log_error("recovery.conf \"%s\": holds a NUL byte: not a settings file", what);
		return -1;
	}
	while (c.p < c.end) {
		skip_blanks(&c);
		if (c.p < c.end && *c.p != '\n' && *c.p != '#' && parse_setting(&c, out) != 0)
			return -1;
		while (c.p < c.end && *c.p != '\n')
			c.p++;      /* the comment */
		if (c.p < c.end) {
			c.p++;
			c.line++;
		}
	}
	return 0;
}

void
pitr_recovery_conf_free(struct pitr_recovery_conf *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->items[i].key);
		free(c->items[i].value);
	}
	free(c->items);
	c->items = NULL;
	c->n = 0;
}

int
pitr_recovery_conf_bool(const char *v)
{
	static const char *const yes[] = { "on", "true", "yes", "1", "t", "y", "tr", "tru", "ye" };
	static const char *const no[] = { "off", "false", "no", "0", "f", "n", "fa", "fal", "fals" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -1;
}

/* The settings that kept their name in PostgreSQL 12. */
static bool
same_name(const char *key)
{
	static const char *const keys[] = {
		"restore_command", "archive_cleanup_command", "recovery_end_command",
		"primary_conninfo", "primary_slot_name", "recovery_target", "recovery_target_name",
		"recovery_target_time", "recovery_target_xid", "recovery_target_lsn",
		"recovery_target_inclusive", "recovery_target_timeline", "recovery_target_action",
		"recovery_min_apply_delay",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

enum pitr_recovery_conf_kind
pitr_recovery_conf_translate(const char *key, const char *value, const char **new_key,
			     const char **new_value, int *on, const char **why)
{
	*new_key = key;
	*new_value = value;
	*on = 0;
	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "its value holds a control character (a newline?), which a "
			       "PostgreSQL 12+ settings file cannot hold";
			return PITR_RCONF_INVALID;
		}
	if (same_name(key)) {
		*why = "same name in PostgreSQL 12+";
		return PITR_RCONF_SETTING;
	}
	if (strcmp(key, "standby_mode") == 0) {
		*on = pitr_recovery_conf_bool(value);
		*why = *on == 1 ? "standby.signal (a standby)" : "recovery.signal (archive recovery)";
		return *on < 0 ? (*why = "expected on or off", PITR_RCONF_INVALID) : PITR_RCONF_STANDBY;
	}
	if (strcmp(key, "trigger_file") == 0) {
		*new_key = "promote_trigger_file";
		*why = "its name in PostgreSQL 12 to 15, which promote when the file appears; "
		       "pitr-restore's -f finish trigger is the OmniPITR way to end a warm standby";
		return PITR_RCONF_SETTING;
	}
	if (strcmp(key, "pause_at_recovery_target") == 0) {
		int b = pitr_recovery_conf_bool(value);

		*new_key = "recovery_target_action";
		*new_value = b == 1 ? "pause" : "promote";
		*why = "replaced by recovery_target_action (PostgreSQL 9.5)";
		return b < 0 ? (*why = "expected on or off", PITR_RCONF_INVALID) : PITR_RCONF_SETTING;
	}
	*why = "has no PostgreSQL 12+ meaning";
	return PITR_RCONF_UNKNOWN;
}
