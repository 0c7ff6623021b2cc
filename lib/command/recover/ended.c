/*
 * ended.c - pitr-recover --recovery-ended: the recovery_end_command
 * pitr-recover writes.  The server runs it once, in its data directory,
 * when recovery ends (a promotion); it removes the recovery settings
 * pitr-recover wrote, so that a restart, or a recovery.signal or
 * standby.signal made later, does not reuse the old restore_command and
 * target.  The voided source settings written before them stay, so what
 * applies from then on is an empty restore_command and no target.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "command/recover/recover_impl.h"
#include "command/restore/restore.h"
#include "command/standby/standby.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

/* The start of the line after the one at `p`. */
static const char *
next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? nl + 1 : p + strlen(p);
}

/* The line of `conf` that is exactly `want` (its start), or NULL. */
static const char *
find_line(const char *conf, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = conf; *p != '\0'; p = next_line(p))
		if (strncmp(p, want, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
			return p;
	return NULL;
}

/* A line setting a recovery-only key pitr-recover's block writes. */
static bool
recovery_key(const char *line)
{
	size_t n;
	const char *k = pitr_standby_line_key(line, &n);

	return k != NULL && ((n == 15 && strncasecmp(k, "restore_command", n) == 0) ||
			     (n == 20 && strncasecmp(k, "recovery_end_command", n) == 0) ||
			     (n >= 15 && strncasecmp(k, "recovery_target", 15) == 0));
}

/* A line setting `key`. */
static bool
sets(const char *line, const char *key)
{
	size_t n;
	const char *k = pitr_standby_line_key(line, &n);

	return k != NULL && n == strlen(key) && strncasecmp(k, key, n) == 0;
}

/* Without the marks: from the first restore_command after the last void
 * one (ALTER SYSTEM keeps the order of the lines it keeps, and the block
 * begins with restore_command), every recovery key. */
static char *
strip_by_key(const char *conf, size_t *removed)
{
	const char *from = NULL, *p;
	char *out = pitr_xmalloc(strlen(conf) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (p = conf; *p != '\0'; p = next_line(p))
		if (strncmp(p, "restore_command = ''", 20) == 0 && (p[20] == '\n' || p[20] == '\0'))
			from = p;
	if (from != NULL) {
		for (p = next_line(from); *p != '\0' && !sets(p, "restore_command"); p = next_line(p))
			;
		from = *p != '\0' ? p : NULL;
	}
	for (p = conf; *p != '\0'; p = next_line(p)) {
		size_t n = (size_t)(next_line(p) - p);

		if (from != NULL && p >= from && recovery_key(p)) {
			(*removed)++;
			continue;
		}
		memcpy(o, p, n);
		o += n;
	}
	*o = '\0';
	return out;
}

char *
pitr_recover_strip_block(const char *conf, size_t *removed)
{
	const char *begin = find_line(conf, PITR_RECOVER_BLOCK_BEGIN), *end, *p;
	size_t before;
	char *out;

	*removed = 0;
	end = begin != NULL ? find_line(begin, PITR_RECOVER_BLOCK_END) : NULL;
	if (begin == NULL || end == NULL)
		return strip_by_key(conf, removed);
	end = next_line(end);
	for (p = begin; p < end; p = next_line(p))
		(*removed)++;
	before = (size_t)(begin - conf);
	out = pitr_xmalloc(strlen(conf) - (size_t)(end - begin) + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, conf, before);
	strcpy(out + before, end);
	return out;
}

/* What the server does from now on about archiving, in one line. */
static void
log_archiving(const char *conf)
{
	const char *mark = "# pitr-recover --archive-mode=off";
	const char *p = strstr(conf, mark);

	if (p != NULL && strstr(p, "\narchive_mode = 'off'") != NULL)
		pitr_log_info("archiving stays disabled in this copy: archive_mode = 'off' "
			      "(pitr-recover --archive-mode=off in postgresql.auto.conf)");
}

int
recover_remove_prefetch(const char *data_dir, const char *when)
{
	char *wal = pitr_fsutil_join(data_dir, "pg_wal");
	bool removed = false;
	int rc = -1;

	if (wal != NULL && (rc = pitr_restore_prefetch_remove(wal, &removed)) == 0 && removed)
		pitr_log_info("%s: pitr-restore's prefetched segments removed (\"%s/%s\")", when, wal,
			      PITR_RESTORE_PREFETCH_DIR);
	free(wal);
	return rc;
}

int
pitr_cmd_recover_ended(const char *data_dir)
{
	char *version = pitr_fsutil_join(data_dir, "PG_VERSION");
	char *path = pitr_fsutil_join(data_dir, "postgresql.auto.conf");
	char *conf = NULL, *out = NULL;
	size_t len, removed = 0;
	struct stat st;
	int rc = -1;

	if (version == NULL || path == NULL)
		goto done;
	if (stat(version, &st) != 0) {
		pitr_log_error("--recovery-ended: \"%s\" is not a PostgreSQL data directory (no "
			       "PG_VERSION): the server runs it in its data directory", data_dir);
		goto done;
	}
	conf = pitr_fsutil_read_small(path, RECOVER_CONF_MAX, &len);
	if (conf == NULL) {
		pitr_log_error("--recovery-ended: could not read \"%s\": %s", path, strerror(errno));
		goto done;
	}
	if ((out = pitr_recover_strip_block(conf, &removed)) == NULL)
		goto done;
	if (removed > 0 &&
	    pitr_fsutil_publish_buffer(data_dir, "postgresql.auto.conf", out, strlen(out), true,
				       NULL) != 0)
		goto done;
	if (removed > 0)
		pitr_log_info("recovery ended: pitr-recover's recovery settings (%zu lines) removed "
			      "from \"%s\": restore_command and recovery_target* are void from now on",
			      removed, path);
	else
		pitr_log_info("recovery ended: no recovery settings of pitr-recover left in \"%s\"",
			      path);
	log_archiving(out);
	rc = recover_remove_prefetch(data_dir, "recovery ended");
done:
	free(version);
	free(path);
	free(conf);
	free(out);
	return rc;
}
