/*
 * meta.c - the backup meta file's text from and to a catalog backup (see
 * meta.h).  One table of keys serves the reader and the writer, so that
 * they cannot disagree on names or order.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/lsn.h"
#include "postgres/timestamp.h"
#include "postgres/wal.h"
#include "repo/meta.h"

static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s) || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/* The meta's "YYYY-MM-DD HH:MM:SS +ZZZZ": its zone is required, so that
 * the reader's own zone never shifts a backup in time. */
static int
parse_time(const char *s, time_t *out)
{
	bool zone;

	return pitr_timestamp_parse(s, out, &zone) == 0 && zone ? 0 : -1;
}

enum meta_key {
	MK_START_WAL, MK_STOP_WAL, MK_START_LSN, MK_STOP_LSN, MK_START_TIME, MK_STOP_TIME,
	MK_START_EPOCH, MK_STOP_EPOCH, MK_HOST, MK_LABEL, MK_SYSID, MK_TIMELINE, MK_SEGSIZE,
	MK_DATA_DIR, MK_DATA_SIZE, MK_XLOG_SIZE, MK_CODEC, MK_DIGESTS, MK_PG_VERSION, MK_SOURCE,
	MK_BASE, MK_CHAIN, MK_COUNT
};

static const char *const meta_keys[MK_COUNT] = {
	"start_wal", "stop_wal", "start_lsn", "stop_lsn", "start_time", "stop_time",
	"start_epoch", "stop_epoch", "host", "label", "system_identifier", "timeline",
	"wal_segment_size", "data_dir", "data_size", "xlog_size", "codec", "digests",
	"pg_version", "source", "base", "chain",
};

/* Without these a backup cannot be placed in the WAL stream or in time. */
static const enum meta_key meta_required[] = {
	MK_START_WAL, MK_STOP_WAL, MK_START_LSN, MK_STOP_LSN, MK_START_TIME, MK_STOP_TIME, MK_TIMELINE,
};

static int
set_string(char **field, const char *value)
{
	*field = pitr_xstrdup(value);
	return *field == NULL ? -1 : 0;
}

/* Returns 0, -1 for a name that cannot be part of a file name, -2 after
 * logging a failed allocation. */
static int
parse_digest_list(const char *value, struct pitr_catalog_backup *b)
{
	const char *p = value;

	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)p[i]) && p[i] != '-')
				return -1;
		if (len > 0) {
			struct pitr_catalog_digest *grown =
				pitr_xreallocarray(b->digests, b->ndigests + 1, sizeof(*grown));

			if (grown == NULL)
				return -2;
			b->digests = grown;
			b->digests[b->ndigests].file = NULL;
			b->digests[b->ndigests].algorithm = pitr_xstrndup(p, len);
			if (b->digests[b->ndigests].algorithm == NULL)
				return -2;
			b->ndigests++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* One key's value into b; returns 0, -1 for a bad value, -2 after logging
 * a failed allocation. */
static int
meta_value(enum meta_key key, const char *value, struct pitr_catalog_backup *b, bool *epoch_given)
{
	struct pitr_wal_name w;
	uint64_t n;

	switch (key) {
	case MK_START_WAL:
	case MK_STOP_WAL:
		if (pitr_wal_parse(value, &w) != PITR_WAL_SEGMENT)
			return -1;
		snprintf(key == MK_START_WAL ? b->start_wal : b->stop_wal, PITR_WAL_NAME_MAX, "%s", value);
		return 0;
	case MK_START_LSN:
		return pitr_lsn_parse(value, &b->start_lsn);
	case MK_STOP_LSN:
		return pitr_lsn_parse(value, &b->stop_lsn);
	case MK_START_TIME:
	case MK_STOP_TIME: {
		time_t t;

		if (parse_time(value, &t) != 0)
			return -1;
		if (!epoch_given[key == MK_START_TIME ? 0 : 1])
			*(key == MK_START_TIME ? &b->start_epoch : &b->stop_epoch) = t;
		return set_string(key == MK_START_TIME ? &b->start_time : &b->stop_time, value) ? -2 : 0;
	}
	case MK_START_EPOCH:
	case MK_STOP_EPOCH:
		if (parse_u64(value, &n) != 0 || n > INT64_MAX)
			return -1;
		*(key == MK_START_EPOCH ? &b->start_epoch : &b->stop_epoch) = (time_t)n;
		epoch_given[key == MK_START_EPOCH ? 0 : 1] = true;
		return 0;
	case MK_HOST:
		return set_string(&b->host, value) ? -2 : 0;
	case MK_LABEL:
		return set_string(&b->label, value) ? -2 : 0;
	case MK_DATA_DIR:
		return set_string(&b->data_dir, value) ? -2 : 0;
	case MK_SYSID:
		return parse_u64(value, &b->sysid);
	case MK_TIMELINE:
		if (parse_u64(value, &n) != 0 || n == 0 || n > UINT32_MAX)
			return -1;
		b->timeline = (uint32_t)n;
		return 0;
	case MK_SEGSIZE:
		if (parse_u64(value, &n) != 0 || !pitr_wal_segsize_valid(n))
			return -1;
		b->segsize = (uint32_t)n;
		return 0;
	case MK_DATA_SIZE:
		return parse_u64(value, &b->data_size);
	case MK_XLOG_SIZE:
		return parse_u64(value, &b->xlog_size);
	case MK_CODEC:
		/* The destinations' codecs at backup time, kept as written:
		 * what the catalog reads a file by is its own extension. */
		return set_string(&b->codecs, value) ? -2 : 0;
	case MK_DIGESTS:
		return parse_digest_list(value, b);
	case MK_BASE:
	case MK_CHAIN:
		/* Empty: a full backup. */
		if (*value == '\0')
			return 0;
		return set_string(key == MK_BASE ? &b->base : &b->chain, value) ? -2 : 0;
	case MK_PG_VERSION:
	case MK_SOURCE:
		/* Empty: written by a program that did not know; NULL says so. */
		if (*value == '\0')
			return 0;
		/* A source this version does not know (a later one's) is kept as
		 * written: the backup stays usable, only its label is new. */
		return set_string(key == MK_SOURCE ? &b->source : &b->pg_version, value) ? -2 : 0;
	case MK_COUNT:
		break;
	}
	return -1;
}

/* The keys agree with each other: names, positions and timeline. */
static int
meta_consistent(const struct pitr_catalog_backup *b, char *reason, size_t size)
{
	struct pitr_wal_name s, e;

	pitr_wal_parse(b->start_wal, &s);
	pitr_wal_parse(b->stop_wal, &e);
	if (s.tli != b->timeline) {
		snprintf(reason, size, "timeline %" PRIu32 " does not match start_wal %s", b->timeline,
			 b->start_wal);
		return -1;
	}
	if (b->stop_lsn < b->start_lsn || pitr_wal_cmp_position(&e, &s) < 0) {
		snprintf(reason, size, "the backup stops (%s) before it starts (%s)", b->stop_wal,
			 b->start_wal);
		return -1;
	}
	if (b->segsize != 0) {
		char lsn[PITR_LSN_TEXT_MAX];

		if (!pitr_wal_name_fits(&s, b->segsize) ||
		    pitr_wal_segno(&s, b->segsize) != b->start_lsn / b->segsize) {
			pitr_lsn_format(b->start_lsn, lsn, sizeof(lsn));
			snprintf(reason, size, "start_lsn %s is not in start_wal %s", lsn, b->start_wal);
			return -1;
		}
		/* A stop LSN on a segment boundary: the segment starting there
		 * (what recovery to the backup's end reads, and what backups
		 * record since issue 9), or the one before, as pg_walfile_name()
		 * names it and earlier backups recorded. */
		if (!pitr_wal_name_fits(&e, b->segsize) ||
		    (pitr_wal_segno(&e, b->segsize) != b->stop_lsn / b->segsize &&
		     pitr_wal_segno(&e, b->segsize) != (b->stop_lsn - (b->stop_lsn > 0)) / b->segsize)) {
			pitr_lsn_format(b->stop_lsn, lsn, sizeof(lsn));
			snprintf(reason, size, "stop_lsn %s is not in stop_wal %s", lsn, b->stop_wal);
			return -1;
		}
	}
	return 0;
}

void
pitr_meta_clear(struct pitr_catalog_backup *b)
{
	free(b->start_time);
	free(b->stop_time);
	free(b->host);
	free(b->label);
	free(b->data_dir);
	free(b->codecs);
	free(b->pg_version);
	free(b->source);
	free(b->base);
	free(b->chain);
	for (size_t i = 0; i < b->ndigests; i++) {
		free(b->digests[i].algorithm);
		free(b->digests[i].file);
	}
	free(b->digests);
	b->start_time = b->stop_time = b->host = b->label = b->data_dir = b->codecs = NULL;
	b->pg_version = b->source = b->base = b->chain = NULL;
	b->digests = NULL;
	b->ndigests = 0;
}

bool
pitr_meta_detect(const char *text)
{
	return strncmp(text, "start_wal=", 10) == 0;
}

int
pitr_meta_parse(const char *text, const char *what, struct pitr_catalog_backup *b, char *err,
		size_t errsize)
{
	bool seen[MK_COUNT] = { false }, epoch_given[2] = { false, false };
	const char *line = text;
	char reason[256];
	unsigned lineno = 0;
	char *buf = NULL;

	b->start_wal[0] = b->stop_wal[0] = '\0';
	while (*line != '\0') {
		size_t len = strcspn(line, "\n");
		const char *next = line[len] == '\n' ? line + len + 1 : line + len;
		const char *eq;
		size_t k;
		int r;

		lineno++;
		if (len == 0) {
			line = next;
			continue;
		}
		free(buf);
		if ((buf = pitr_xstrndup(line, len)) == NULL)
			goto nomem;
		if ((eq = strchr(buf, '=')) == NULL) {
			snprintf(reason, sizeof(reason), "line %u is not key=value", lineno);
			goto bad;
		}
		buf[eq - buf] = '\0';
		for (k = 0; k < MK_COUNT && strcmp(buf, meta_keys[k]) != 0; k++)
			;
		if (k < MK_COUNT) {
			if (seen[k]) {
				snprintf(reason, sizeof(reason), "key \"%s\" appears twice", buf);
				goto bad;
			}
			seen[k] = true;
			r = meta_value((enum meta_key)k, eq + 1, b, epoch_given);
			if (r == -2)
				goto nomem;
			if (r != 0) {
				snprintf(reason, sizeof(reason), "invalid %s \"%.64s\"", buf, eq + 1);
				goto bad;
			}
		}
		line = next;
	}
	for (size_t i = 0; i < sizeof(meta_required) / sizeof(meta_required[0]); i++)
		if (!seen[meta_required[i]]) {
			snprintf(reason, sizeof(reason), "no %s", meta_keys[meta_required[i]]);
			goto bad;
		}
	if (meta_consistent(b, reason, sizeof(reason)) != 0)
		goto bad;
	free(buf);
	return 0;
nomem:
	free(buf);
	pitr_meta_clear(b);
	return -2;
bad:
	snprintf(err, errsize, "%s: %s", what, reason);
	free(buf);
	pitr_meta_clear(b);
	return -1;
}

/* Key `key`'s value of b, as pitr_meta_parse reads it. */
static void
write_value(FILE *out, enum meta_key key, const struct pitr_catalog_backup *b)
{
	char lsn[PITR_LSN_TEXT_MAX];
	const char *s = NULL;

	switch (key) {
	case MK_START_WAL:
		s = b->start_wal;
		break;
	case MK_STOP_WAL:
		s = b->stop_wal;
		break;
	case MK_START_LSN:
	case MK_STOP_LSN:
		pitr_lsn_format(key == MK_START_LSN ? b->start_lsn : b->stop_lsn, lsn, sizeof(lsn));
		s = lsn;
		break;
	case MK_START_TIME:
		s = b->start_time;
		break;
	case MK_STOP_TIME:
		s = b->stop_time;
		break;
	case MK_START_EPOCH:
	case MK_STOP_EPOCH:
		fprintf(out, "%lld", (long long)(key == MK_START_EPOCH ? b->start_epoch : b->stop_epoch));
		return;
	case MK_HOST:
		s = b->host;
		break;
	case MK_LABEL:
		s = b->label;
		break;
	case MK_SYSID:
		fprintf(out, "%" PRIu64, b->sysid);
		return;
	case MK_TIMELINE:
		fprintf(out, "%" PRIu32, b->timeline);
		return;
	case MK_SEGSIZE:
		fprintf(out, "%" PRIu32, b->segsize);
		return;
	case MK_DATA_DIR:
		s = b->data_dir;
		break;
	case MK_DATA_SIZE:
		fprintf(out, "%" PRIu64, b->data_size);
		return;
	case MK_XLOG_SIZE:
		fprintf(out, "%" PRIu64, b->xlog_size);
		return;
	case MK_CODEC:
		s = b->codecs;
		break;
	case MK_DIGESTS:
		for (size_t i = 0; i < b->ndigests; i++)
			fprintf(out, "%s%s", i > 0 ? "," : "", b->digests[i].algorithm);
		return;
	case MK_PG_VERSION:
		s = b->pg_version;
		break;
	case MK_SOURCE:
		s = b->source;
		break;
	case MK_BASE:
		s = b->base;
		break;
	case MK_CHAIN:
		s = b->chain;
		break;
	case MK_COUNT:
		return;
	}
	fputs(s != NULL ? s : "", out);
}

char *
pitr_meta_format(const struct pitr_catalog_backup *b)
{
	char *text = NULL;
	size_t len = 0;
	/* A memory stream fails only for want of memory. */
	FILE *out = pitr_xcheck(open_memstream(&text, &len));
	bool failed;

	if (out == NULL)
		return NULL;
	for (int k = 0; k < MK_COUNT; k++) {
		fprintf(out, "%s=", meta_keys[k]);
		write_value(out, (enum meta_key)k, b);
		fputc('\n', out);
	}
	failed = ferror(out) != 0;
	if (fclose(out) != 0 || failed) {
		free(text);
		text = NULL;
	}
	return pitr_xcheck(text);
}
