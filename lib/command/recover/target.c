/*
 * target.c - pitr-recover's recovery target: at most one of the five
 * target options, each checked and turned into the value its
 * recovery_target_* setting gets; and --target-timeline.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/recover/recover_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/lsn.h"
#include "postgres/timestamp.h"
#include "repo/catalog.h"

void
pitr_recover_target_free(struct pitr_recover_target *t)
{
	free(t->conf_value);
	t->conf_value = NULL;
}

/* Check t->value for t->kind and set t->conf_value (and t->epoch or
 * t->lsn).  Returns 0, or -1 after logging. */
static int
parse_value(struct pitr_recover_target *t)
{
	switch (t->kind) {
	case PITR_RECOVER_END:
	case PITR_RECOVER_IMMEDIATE:
		return 0;
	case PITR_RECOVER_TIME: {
		bool zone;

		if (pitr_timestamp_parse(t->value, &t->epoch, &zone) != 0) {
			pitr_log_error("invalid value \"%s\" for option \"--target-time\": expected "
				       "YYYY-MM-DD HH:MM:SS[.FFFFFF][+HH[:MM]|Z]", t->value);
			return -1;
		}
		if (zone) {
			t->conf_value = pitr_xstrdup(t->value);
		} else {
			/* Write the offset chosen here, so that PostgreSQL reads the
			 * same moment whatever its TimeZone setting. */
			char off[16];
			struct tm tm;

			localtime_r(&t->epoch, &tm);
			strftime(off, sizeof(off), "%z", &tm);
			t->conf_value = pitr_xasprintf("%s %s", t->value, off);
		}
		break;
	}
	case PITR_RECOVER_XID: {
		char *end;
		unsigned long long x;

		errno = 0;
		x = strtoull(t->value, &end, 10);
		if (!isdigit((unsigned char)t->value[0]) || *end != '\0' || errno != 0 || x < 3) {
			pitr_log_error("invalid value \"%s\" for option \"--target-xid\": expected a "
				       "transaction ID (a number from 3)", t->value);
			return -1;
		}
		t->conf_value = pitr_xstrdup(t->value);
		break;
	}
	case PITR_RECOVER_LSN: {
		char buf[32];

		if (pitr_lsn_parse(t->value, &t->lsn) != 0) {
			pitr_log_error("invalid value \"%s\" for option \"--target-lsn\": expected an LSN "
				       "like 0/3000028", t->value);
			return -1;
		}
		pitr_lsn_format(t->lsn, buf, sizeof(buf));
		t->conf_value = pitr_xstrdup(buf);
		break;
	}
	case PITR_RECOVER_NAME:
		/* PostgreSQL's restore point names are shorter than 64 bytes. */
		if (t->value[0] == '\0' || strlen(t->value) >= 64) {
			pitr_log_error("invalid value \"%s\" for option \"--target-name\": a restore point "
				       "name is 1 to 63 bytes", t->value);
			return -1;
		}
		t->conf_value = pitr_xstrdup(t->value);
		break;
	}
	return t->conf_value != NULL ? 0 : -1;
}

int
pitr_recover_parse_target(const struct pitr_recover_opts *o, struct pitr_recover_target *t)
{
	const struct {
		const char *value;
		enum pitr_recover_kind kind;
		const char *opt;
	} opts[] = {
		{ o->target_time, PITR_RECOVER_TIME, "--target-time" },
		{ o->target_xid, PITR_RECOVER_XID, "--target-xid" },
		{ o->target_lsn, PITR_RECOVER_LSN, "--target-lsn" },
		{ o->target_name, PITR_RECOVER_NAME, "--target-name" },
		{ o->target_immediate ? "" : NULL, PITR_RECOVER_IMMEDIATE, "--target-immediate" },
	};
	const char *first = NULL;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (opts[i].value == NULL)
			continue;
		if (first != NULL) {
			pitr_log_error("%s and %s given: at most one recovery target", first, opts[i].opt);
			return -1;
		}
		first = opts[i].opt;
		t->kind = opts[i].kind;
		t->value = opts[i].kind == PITR_RECOVER_IMMEDIATE ? NULL : opts[i].value;
	}
	return parse_value(t);
}

void
recover_target_text(const struct pitr_recover_target *t, char *out, size_t size)
{
	switch (t->kind) {
	case PITR_RECOVER_END:
		snprintf(out, size, "the end of the archive");
		break;
	case PITR_RECOVER_IMMEDIATE:
		snprintf(out, size, "--target-immediate (the end of the backup)");
		break;
	case PITR_RECOVER_TIME:
		snprintf(out, size, "--target-time \"%s\"", t->value);
		break;
	case PITR_RECOVER_XID:
		snprintf(out, size, "--target-xid %s", t->value);
		break;
	case PITR_RECOVER_LSN:
		snprintf(out, size, "--target-lsn %s", t->value);
		break;
	case PITR_RECOVER_NAME:
		snprintf(out, size, "--target-name \"%s\"", t->value);
		break;
	}
}

int
recover_target_timeline(const struct pitr_recover_opts *o, uint32_t *tli_wanted)
{
	const char *tl = o->target_timeline;
	char *end;
	unsigned long v;

	*tli_wanted = 0;
	if (tl == NULL || strcmp(tl, "latest") == 0 || strcmp(tl, "current") == 0)
		return 0;
	errno = 0;
	v = strtoul(tl, &end, 10);
	if (!isdigit((unsigned char)tl[0]) || *end != '\0' || errno != 0 || v == 0 || v > UINT32_MAX) {
		pitr_log_error("invalid value \"%s\" for option \"--target-timeline\": expected latest, "
			       "current or a timeline number", tl);
		return -1;
	}
	*tli_wanted = (uint32_t)v;
	return 0;
}
