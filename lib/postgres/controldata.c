/*
 * controldata.c - run pg_controldata and read the few values pitrkit needs
 * from it (see controldata.h).
 *
 * Line coverage: only the allocation-failure branches are not reached by
 * t/check_controldata.c.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "postgres/controldata.h"
#include "common/findprog.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/xalloc.h"

#define LABEL_REDO_FILE "Latest checkpoint's REDO WAL file"
#define LABEL_SEG_SIZE "Bytes per WAL segment"
#define LABEL_SYSID "Database system identifier"

/* pg_controldata prints about 3 kB; anything past this is not its output. */
#define OUTPUT_MAX 65536

/*
 * Find the line "label: value" in `text` and copy the value, blanks
 * trimmed, into `value` (truncated to `size`).  Labels are matched whole
 * (pg_controldata pads the values into a column, and for long labels
 * writes no blank at all: "...oldestCommitTsXid:0").  Returns true if found.
 */
static bool
find_value(const char *text, const char *label, char *value, size_t size)
{
	size_t label_len = strlen(label);
	const char *line = text;

	while (*line != '\0') {
		const char *end = strchr(line, '\n');
		size_t line_len = end != NULL ? (size_t)(end - line) : strlen(line);

		if (line_len > label_len && memcmp(line, label, label_len) == 0 &&
		    line[label_len] == ':') {
			const char *v = line + label_len + 1;
			size_t vlen = line_len - label_len - 1;

			while (vlen > 0 && (*v == ' ' || *v == '\t')) {
				v++;
				vlen--;
			}
			while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
				vlen--;
			snprintf(value, size, "%.*s", (int)vlen, v);
			return true;
		}
		if (end == NULL)
			break;
		line = end + 1;
	}
	return false;
}

/* Parse an unsigned decimal that fills all of `str`.  Returns 0 or -1. */
static int
parse_u64(const char *str, uint64_t *out)
{
	char *end;
	unsigned long long val;

	if (!isdigit((unsigned char)str[0]))
		return -1;
	errno = 0;
	val = strtoull(str, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = val;
	return 0;
}

int
pitr_controldata_parse(const char *text, const char *what, struct pitr_controldata *out)
{
	static const char *const labels[] = { LABEL_REDO_FILE, LABEL_SEG_SIZE, LABEL_SYSID };
	char value[256];
	uint64_t num;

	assert(text != NULL && what != NULL && out != NULL);
	memset(out, 0, sizeof(*out));
	for (size_t label_idx = 0; label_idx < sizeof(labels) / sizeof(labels[0]); label_idx++) {
		const char *label = labels[label_idx];
		bool ok = false;

		if (!find_value(text, label, value, sizeof(value))) {
			pitr_log_error("output of \"%s\" has no \"%s\" line", what, label);
			return -1;
		}
		switch (label_idx) {
		case 0: {
			struct pitr_wal_name name;

			ok = pitr_wal_parse(value, &name) == PITR_WAL_SEGMENT;
			if (ok)
				pitr_wal_format(out->redo_wal_file, &name);
			break;
		}
		case 1:
			ok = parse_u64(value, &num) == 0 && pitr_wal_segsize_valid(num);
			if (ok)
				out->seg_size = (uint32_t)num;
			break;
		default:
			ok = parse_u64(value, &out->sysid) == 0;
			break;
		}
		if (!ok) {
			pitr_log_error("output of \"%s\" has an invalid \"%s\": \"%s\"", what, label,
				       value);
			return -1;
		}
	}
	return 0;
}

char *
pitr_controldata_find(const char *path, const char *data_dir)
{
	char *found = NULL;
	char *version_file = NULL;
	char *version = NULL;
	size_t len = 0;

	assert(data_dir != NULL);
	if (path != NULL)
		return pitr_xstrdup(path);
	found = pitr_findprog_on_path("pg_controldata");
	if (found != NULL || errno != ENOENT)
		return found;
	if ((version_file = pitr_fsutil_join(data_dir, "PG_VERSION")) == NULL)
		goto out;
	version = pitr_fsutil_read_small(version_file, 64, &len);
	if (version == NULL && errno != ENOENT)
		goto out;  /* logged */
	if (version != NULL) {
		while (len > 0 && isspace((unsigned char)version[len - 1]))
			version[--len] = '\0';
		if (len == 0 || strspn(version, "0123456789.") != len) {
			free(version);
			version = NULL;
		}
	}
	if (version == NULL) {
		pitr_log_error("could not find pg_controldata: it is not on PATH and \"%s\" names no "
			       "PostgreSQL version; give its path with --pgcontroldata-path",
			       version_file);
		goto out;
	}
	if ((found = pitr_findprog_pgbin(version, "pg_controldata")) == NULL)
		goto out;
	if (!pitr_findprog_executable(found)) {
		pitr_log_error("could not find pg_controldata: it is not on PATH nor at \"%s\"; give "
			       "its path with --pgcontroldata-path", found);
		free(found);
		found = NULL;
	}
out:
	free(version);
	free(version_file);
	return found;
}

int
pitr_controldata_read(const char *program, const char *data_dir, struct pitr_controldata *out)
{
	char *argv[] = { (char *)program, (char *)data_dir, NULL };
	const char *old = getenv("LC_ALL");
	char *saved = NULL;
	char *text = NULL;
	int status;
	int rc = -1;

	assert(program != NULL && data_dir != NULL && out != NULL);
	if ((text = pitr_xmalloc(OUTPUT_MAX)) == NULL ||
	    (old != NULL && (saved = pitr_xstrdup(old)) == NULL))
		goto out;
	/* Translated labels would not be found; the child inherits this, and
	 * our own environment is put back at once. */
	setenv("LC_ALL", "C", 1);
	status = pitr_spawn_capture(argv, text, OUTPUT_MAX);
	if (saved != NULL)
		setenv("LC_ALL", saved, 1);
	else
		unsetenv("LC_ALL");
	if (status < 0)
		goto out;
	if (status != 0) {
		pitr_log_error("\"%s\" failed for \"%s\": exit status %d", program, data_dir, status);
		goto out;
	}
	rc = pitr_controldata_parse(text, program, out);
out:
	free(text);
	free(saved);
	return rc;
}

int
pitr_controldata_sysid(const char *data_dir, uint64_t *out)
{
	char *path = pitr_fsutil_join(data_dir, "global/pg_control");
	char *buf = NULL;
	size_t len = 0;
	int rc = -1;

	if (path == NULL)
		return -1;
	/* pg_control is 8 kB; PG_CONTROL_FILE_SIZE has never been larger. */
	if ((buf = pitr_fsutil_read_small(path, 64 * 1024, &len)) == NULL) {
		if (errno == ENOENT)   /* anything else read_small logged */
			rc = 1;
	} else if (len < sizeof(*out)) {
		pitr_log_error("\"%s\" is too short to be a pg_control file (%zu bytes)", path, len);
	} else {
		memcpy(out, buf, sizeof(*out));
		rc = 0;
	}
	free(buf);
	free(path);
	return rc;
}
