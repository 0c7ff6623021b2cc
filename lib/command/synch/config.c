/*
 * config.c - the files pitr-synch writes at an output besides the data:
 * backup_label and tablespace_map from pg_backup_stop (the map with each
 * tablespace's place at that output), the copy's postgresql.auto.conf
 * with the standby options (standby/standby.h), and the signal file.
 * One function gathers them, so that the standby settings join them in
 * one place.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/recover/recover.h"
#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "s3/s3.h"

/* postgresql.auto.conf is small; a larger one is not PostgreSQL's. */
#define SYNCH_AUTO_CONF_MAX (1024 * 1024)

char *
synch_spcmap_text(char *const *oids, char *const *dirs, size_t n)
{
	size_t cap = 1, used = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += strlen(oids[i]) + 2 * strlen(dirs[i]) + 2;
	if ((out = pitr_xmalloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		used += (size_t)sprintf(out + used, "%s ", oids[i]);
		for (const char *p = dirs[i]; *p != '\0'; p++) {
			if (*p == '\\' || *p == '\n' || *p == '\r')
				out[used++] = '\\';
			out[used++] = *p;
		}
		out[used++] = '\n';
	}
	out[used] = '\0';
	return out;
}

/* Whether the standby options make the copy more than a clone. */
static bool
configured(const struct synch_opts *o)
{
	return o->sb.mode != PITR_STANDBY_NONE || o->narchives > 0 || o->sb.recovery_conf != NULL;
}

int
synch_config_check(const struct synch_opts *o)
{
	bool s3 = false;

	for (size_t i = 0; i < o->narchives; i++) {
		const char *a = o->archives[i] + pitr_codec_prefix_len(o->archives[i]);

		if (pitr_s3_is_url(a)) {
			struct pitr_s3_url url;

			if (pitr_s3_url_parse(a, "--archive", &url) != 0)
				return -1;
			pitr_s3_url_free(&url);
			s3 = true;
		} else if (a[0] != '/') {
			pitr_log_error("--archive \"%s\" must be absolute: restore_command runs in the "
				       "copy's data directory", o->archives[i]);
			return -1;
		}
	}
	if (s3 && o->s3.ca_file != NULL && o->s3.ca_file[0] != '/') {
		pitr_log_error("--s3-ca-file \"%s\" must be absolute: restore_command runs in the "
			       "copy's data directory, at the output's host", o->s3.ca_file);
		return -1;
	}
	if (o->narchives > 0 || o->sb.conf_restore_command != NULL)
		return 0;
	if (o->sb.mode == PITR_STANDBY_WARM) {
		pitr_log_error("--warm-standby needs --archive: the archive its restore_command waits on");
		return -1;
	}
	if (o->sb.restore_options != NULL) {
		pitr_log_error("--restore-options needs --archive: without one the copy has no "
			       "restore_command");
		return -1;
	}
	return 0;
}

/* `name` beside this program, or `given`. */
static char *
program(const char *given, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (given != NULL)
		return pitr_xstrdup(given);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		pitr_log_error("could not find this program's path (/proc/self/exe): %s",
			       strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	return pitr_recover_program_beside(exe, name);
}

/* The PostgreSQL major version of the source's PG_VERSION; 0 unknown. */
static unsigned
pg_major(const struct synch_run *run)
{
	char *path = pitr_fsutil_join(run->data_dir, "PG_VERSION"), *text;
	size_t len;
	unsigned v = 0;

	text = path != NULL ? pitr_fsutil_read_small(path, 64, &len) : NULL;
	if (text != NULL)
		v = (unsigned)strtoul(text, NULL, 10);
	free(path);
	free(text);
	return v;
}

/* The standby settings (standby/standby.h) after the source's own. */
static char *
standby_conf(const struct synch_run *run, const char *old)
{
	const struct synch_opts *o = run->o;
	char *header = pitr_xasprintf("written by pitr-synch: a copy of %s", run->data_dir);
	struct pitr_standby_ctx ctx = {
		.program = "pitr-synch", .header = header, .archives = o->archives,
		.narchives = o->narchives, .pg_major = pg_major(run), .s3 = &o->s3,
	};
	char *restore = program(o->pitr_restore, "pitr-restore");
	char *recover = program(o->pitr_recover, "pitr-recover");
	char *cleanup = program(NULL, "pitr-cleanup");
	char *text = NULL;

	ctx.restore_program = restore;
	ctx.recovery_ended = recover;
	ctx.cleanup_program = cleanup;
	if (header != NULL && restore != NULL && recover != NULL && cleanup != NULL)
		text = pitr_standby_auto_conf(old, &o->sb, &ctx);
	free(header);
	free(restore);
	free(recover);
	free(cleanup);
	return text;
}

/* A clone's: the source's settings kept, archive_mode off unless
 * --archive-mode=preserve (a copy must not archive into its source's
 * archive by accident), hot_standby and every --set. */
static char *
plain_conf(const struct synch_run *run, const char *old, size_t len)
{
	struct pitr_standby_ctx ctx = { .program = "pitr-synch", .pg_major = pg_major(run) };
	char *add = pitr_standby_plain_text(&run->o->sb, &ctx), *out;

	if (add == NULL)
		return NULL;
	out = pitr_xasprintf("%s%s%s", old != NULL ? old : "",
			     old != NULL && len > 0 && old[len - 1] != '\n' ? "\n" : "", add);
	free(add);
	return out;
}

/* The copy's postgresql.auto.conf: the source's with what the options add. */
static char *
auto_conf(const struct synch_run *run)
{
	char *path = pitr_fsutil_join(run->data_dir, "postgresql.auto.conf");
	char *old = NULL, *out;
	size_t len = 0;

	if (path == NULL)
		return NULL;
	old = pitr_fsutil_read_small(path, SYNCH_AUTO_CONF_MAX, &len);
	free(path);
	if (old == NULL && errno != ENOENT)
		return NULL;
	out = configured(run->o) ? standby_conf(run, old) : plain_conf(run, old, len);
	free(old);
	return out;
}

static int
add(struct synch_member *m, size_t *n, const char *name, char *text)
{
	if (text == NULL)
		return -1;
	m[*n].text = text;
	if ((m[*n].name = pitr_xstrdup(name)) == NULL) {
		free(text);
		return -1;
	}
	(*n)++;
	return 0;
}

struct synch_member *
synch_config_members(const struct synch_run *run, size_t i, size_t *n)
{
	struct synch_member *m = pitr_xcalloc(5, sizeof(*m));
	char **oids = NULL;

	*n = 0;
	if (m == NULL)
		return NULL;
	if (add(m, n, "backup_label", pitr_xstrdup(run->labelfile)) != 0)
		goto fail;
	if (run->nts > 0) {
		if ((oids = pitr_xcalloc(run->nts, sizeof(char *))) == NULL)
			goto fail;
		for (size_t k = 0; k < run->nts; k++)
			oids[k] = run->ts[k].oid;
		if (add(m, n, "tablespace_map", synch_spcmap_text(oids, run->t[i].ts_dirs, run->nts)) != 0)
			goto fail;
	}
	if (add(m, n, "postgresql.auto.conf", auto_conf(run)) != 0)
		goto fail;
	/* The receiver removes the other signal file when it places this one. */
	if (configured(run->o) &&
	    add(m, n, pitr_standby_signal(&run->o->sb), pitr_xstrdup("")) != 0)
		goto fail;
	free(oids);
	return m;
fail:
	free(oids);
	synch_config_free(m, *n);
	*n = 0;
	return NULL;
}

void
synch_config_free(struct synch_member *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++) {
		free(m[i].name);
		free(m[i].text);
	}
	free(m);
}
