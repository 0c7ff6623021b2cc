/*
 * recoveryconf.h - an OmniPITR-era recovery.conf (PostgreSQL 11 and
 * older) read, and translated into its PostgreSQL 12+ settings.
 *
 * Syntax, as PostgreSQL's configuration file reader took it: one setting
 * per line, `name = value` or `name value`; the value a '...' string (''
 * or \' for a quote, \b \f \n \r \t and \ooo escapes, any other escaped
 * character itself) or an unquoted word or number; `#` starts a comment;
 * blank lines are ignored.  Names are compared without case.
 */
#ifndef PITR_CMD_RECOVERYCONF_H
#define PITR_CMD_RECOVERYCONF_H

#include <stddef.h>

struct pitr_recovery_conf_item {
	char *key;       /* lowercased */
	char *value;     /* unquoted */
	unsigned line;   /* 1-based */
};

struct pitr_recovery_conf {
	struct pitr_recovery_conf_item *items;
	size_t n;
};

/* Parse `text` (`len` bytes; a NUL byte is refused).  `what` names the
 * file in messages.  Returns 0, or -1 after logging one line
 * ("recovery.conf FILE line N: ...").  `out` needs
 * pitr_recovery_conf_free() in both cases. */
int pitr_recovery_conf_parse(const char *text, size_t len, const char *what,
			     struct pitr_recovery_conf *out);

void pitr_recovery_conf_free(struct pitr_recovery_conf *c);

/* What a recovery.conf setting becomes. */
enum pitr_recovery_conf_kind {
	PITR_RCONF_SETTING,   /* the same name or a renamed one: *key, the value as given
			       * (or translated: pause_at_recovery_target) */
	PITR_RCONF_STANDBY,   /* standby_mode: *on set */
	PITR_RCONF_INVALID,   /* a known name with a value it cannot take */
	PITR_RCONF_UNKNOWN,   /* no PostgreSQL 12+ meaning */
};

/*
 * The PostgreSQL 12+ form of one setting: `key` (lowercased) and `value`
 * give *new_key (static), *new_value (`value` or a static string) and
 * *on (standby_mode).  *why is a short text for the log line: what was
 * done, or why it was refused (static).
 */
enum pitr_recovery_conf_kind pitr_recovery_conf_translate(const char *key, const char *value,
							  const char **new_key,
							  const char **new_value, int *on,
							  const char **why);

/* A PostgreSQL boolean ("on", "true", "yes", "1" and their opposites,
 * any case, unique prefixes of true/false/yes/no): 1, 0, or -1. */
int pitr_recovery_conf_bool(const char *value);

#endif
