/*
 * sysid.c - the system identifier record that keeps one cluster per archive (see sysid.h).
 *
 * Line coverage: the ENOMEM branch and the CONFLICT race noted below are
 * not provoked by the tests.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/sysid.h"
#include "s3/s3.h"

/* 20 digits of UINT64_MAX and a newline, with room to spare for a record
 * that is merely wrong rather than huge. */
#define SYSID_RECORD_MAX 64

/*
 * Parse "<decimal>\n" (the newline may be missing, for a record written by
 * hand with printf).  Returns 0 with *out set, or -1 if malformed.
 */
static int
parse_record(const char *text, size_t len, uint64_t *out)
{
	uint64_t value = 0;
	size_t pos = 0;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return -1;
	for (pos = 0; pos < len; pos++) {
		unsigned digit;

		if (text[pos] < '0' || text[pos] > '9')
			return -1;
		digit = (unsigned)(text[pos] - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -1;
		value = value * 10 + digit;
	}
	*out = value;
	return 0;
}

int
pitr_sysid_read(const char *dir, uint64_t *out)
{
	char *path = NULL;
	char *text = NULL;
	size_t len;
	int rc = -1;

	if ((path = pitr_fsutil_join(dir, PITR_SYSID_FILE)) == NULL)
		goto out;
	text = pitr_fsutil_read_small(path, SYSID_RECORD_MAX, &len);
	if (text == NULL) {
		if (errno == ENOENT)
			rc = 1;
		goto out;
	}
	if (parse_record(text, len, out) != 0) {
		pitr_log_error("\"%s\" is not a valid system identifier record", path);
		goto out;
	}
	rc = 0;
out:
	free(path);
	free(text);
	return rc;
}

/* Log the refusal to mix two clusters' WAL. */
static void
log_mismatch(const char *dir, uint64_t recorded, uint64_t ours)
{
	pitr_log_error("\"%s\" holds WAL of database system %llu, not %llu: "
		       "refusing to mix clusters in one archive",
		       dir, (unsigned long long)recorded, (unsigned long long)ours);
}

int
pitr_sysid_check_or_record(const char *dir, uint64_t sysid)
{
	enum pitr_publish_outcome outcome;
	uint64_t recorded;
	char record[32];
	int len;
	int found;

	len = snprintf(record, sizeof(record), "%llu\n", (unsigned long long)sysid);
	/*
	 * Loops only when another archiver records an identifier between our
	 * read and our rename (CONFLICT): the record is there then, so the next
	 * read judges against it.  That race is not reproduced by the unit
	 * tests.
	 */
	for (;;) {
		found = pitr_sysid_read(dir, &recorded);
		if (found < 0)
			return -1;
		if (found == 0) {
			if (recorded != sysid) {
				log_mismatch(dir, recorded, sysid);
				return -1;
			}
			return 0;
		}
		/* Never replace; the same identifier (IDENTICAL) is fine. */
		if (pitr_fsutil_publish_buffer(dir, PITR_SYSID_FILE, record, (size_t)len, false,
					       &outcome) != 0)
			return -1;
		if (outcome != PITR_PUBLISH_CONFLICT)
			return 0;
	}
}

struct record_sink {
	char text[SYSID_RECORD_MAX];
	size_t len;
	const char *label;
};

static int
record_chunk(void *ctx, const void *buf, size_t len)
{
	struct record_sink *rs = ctx;

	if (len > sizeof(rs->text) - rs->len) {
		pitr_log_error("\"%s\" is not a valid system identifier record: too long", rs->label);
		return -1;
	}
	memcpy(rs->text + rs->len, buf, len);
	rs->len += len;
	return 0;
}

/* The record object's text into *rs and parsed: 0, 1 when there is none,
 * -1 after logging. */
static int
read_record_s3(struct pitr_s3 *s3, const char *key, struct record_sink *rs, uint64_t *out)
{
	int found;

	rs->len = 0;
	found = pitr_s3_get(s3, key, record_chunk, rs, NULL);
	if (found != 0)
		return found;
	if (parse_record(rs->text, rs->len, out) != 0) {
		pitr_log_error("\"%s\" is not a valid system identifier record", rs->label);
		return -1;
	}
	return 0;
}

int
pitr_sysid_check_or_record_s3(struct pitr_s3 *s3, const char *prefix, uint64_t sysid)
{
	struct record_sink rs;
	char *key = pitr_xasprintf("%s%s", prefix, PITR_SYSID_FILE);
	char *label = key != NULL ? pitr_s3_label(s3, key) : NULL;
	char record[32];
	uint64_t recorded;
	int len, rc = -1;

	if (label == NULL)
		goto out;
	rs.label = label;
	len = snprintf(record, sizeof(record), "%llu\n", (unsigned long long)sysid);
	/* Twice at most: a PUT refused because the record appeared meanwhile
	 * means it is there to read. */
	for (int attempt = 0; attempt < 2; attempt++) {
		int found = read_record_s3(s3, key, &rs, &recorded);

		if (found < 0)
			goto out;
		if (found == 0) {
			if (recorded != sysid) {
				/* The archive, not the record object, is what the line names. */
				label[strlen(label) - strlen(PITR_SYSID_FILE)] = '\0';
				log_mismatch(label, recorded, sysid);
				goto out;
			}
			rc = 0;
			goto out;
		}
		found = pitr_s3_put(s3, key, record, (size_t)len, true);
		if (found <= 0) {
			rc = found;
			goto out;
		}
	}
	pitr_log_error("\"%s\": appeared and vanished while it was recorded", label);
out:
	free(label);
	free(key);
	return rc;
}

int
pitr_sysid_read_s3(struct pitr_s3 *s3, const char *prefix, uint64_t *out)
{
	struct record_sink rs;
	char *key = pitr_xasprintf("%s%s", prefix, PITR_SYSID_FILE);
	char *label = key != NULL ? pitr_s3_label(s3, key) : NULL;
	int rc = -1;

	if (label != NULL) {
		rs.label = label;
		rc = read_record_s3(s3, key, &rs, out);
	}
	free(label);
	free(key);
	return rc;
}
