/*
 * fuzz_recoveryconf.c - the recovery.conf reader and its translation
 * (command/standby/recoveryconf).  What must hold: a file that parses
 * gives lowercase names that begin with a letter or _, values without a
 * NUL, and each setting a translation whose PostgreSQL 12+ form, when it
 * has one, is a non-empty name; a value refused as INVALID or a name
 * refused as UNKNOWN is said why.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "command/standby/recoveryconf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pitr_recovery_conf c;

	if (pitr_recovery_conf_parse((const char *)data, size, "fuzz", &c) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			const char *k, *v, *why = NULL;
			int on;
			enum pitr_recovery_conf_kind kind;
			const char *key = c.items[i].key;

			if (!(isalpha((unsigned char)key[0]) || key[0] == '_'))
				fuzz_fail("a name that does not start with a letter or _", key);
			for (const char *p = key; *p != '\0'; p++)
				if (isupper((unsigned char)*p))
					fuzz_fail("a name not lowercased", key);
			kind = pitr_recovery_conf_translate(key, c.items[i].value, &k, &v, &on, &why);
			if (why == NULL || why[0] == '\0')
				fuzz_fail("a translation without its reason", key);
			if (kind == PITR_RCONF_SETTING && (k == NULL || k[0] == '\0' || v == NULL))
				fuzz_fail("a setting translated without a name or value", key);
		}
	}
	pitr_recovery_conf_free(&c);
	return 0;
}
