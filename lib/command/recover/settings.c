/*
 * settings.c - what pitr-recover writes into the new data directory so
 * that PostgreSQL recovers: restore_command (pitr-restore and the archive,
 * quoted for the shell and for the settings file), the target and its
 * action, the timeline, the port, and the signal file that starts
 * recovery or standby mode.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "command/standby/standby.h"
#include "s3/s3.h"

/* The standby options of `o`: its --standby... set (o->sb), else the mode
 * o->standby gives; --port and --archive-mode from `o` either way. */
static void
standby_of(const struct pitr_recover_opts *o, struct pitr_standby_opts *sb)
{
	if (o->sb != NULL) {
		*sb = *o->sb;
	} else {
		memset(sb, 0, sizeof(*sb));
		sb->mode = o->standby ? PITR_STANDBY_STREAMING : PITR_STANDBY_NONE;
	}
	sb->port = o->port;
	sb->archive_mode = o->archive_mode;
}

bool
pitr_recover_archives(const struct pitr_recover_opts *o)
{
	struct pitr_standby_opts sb;

	standby_of(o, &sb);
	return pitr_standby_archives(&sb);
}

/* The target settings, for the standby module's recovery block. */
static char *
target_lines(const struct pitr_recover_opts *o, const struct pitr_recover_target *t)
{
	static const char *const keys[] = {
		[PITR_RECOVER_TIME] = "recovery_target_time",
		[PITR_RECOVER_XID] = "recovery_target_xid",
		[PITR_RECOVER_LSN] = "recovery_target_lsn",
		[PITR_RECOVER_NAME] = "recovery_target_name",
		[PITR_RECOVER_IMMEDIATE] = "recovery_target",
	};
	char *target = NULL, *action, *tli, *out = NULL;

	if (t->kind != PITR_RECOVER_END &&
	    (target = pitr_quote_conf(t->kind == PITR_RECOVER_IMMEDIATE ? "immediate" :
				      t->conf_value)) == NULL)
		return NULL;
	action = pitr_quote_conf(o->target_action != NULL ? o->target_action :
				 PITR_RECOVER_TARGET_ACTION_DEFAULT);
	tli = pitr_quote_conf(o->target_timeline != NULL ? o->target_timeline :
			      PITR_RECOVER_TARGET_TIMELINE_DEFAULT);
	if (action != NULL && tli != NULL)
		out = pitr_xasprintf("%s%s%s%srecovery_target_action = %s\n"
				     "recovery_target_timeline = %s\n",
				     target != NULL ? keys[t->kind] : "", target != NULL ? " = " : "",
				     target != NULL ? target : "", target != NULL ? "\n" : "", action, tli);
	free(target);
	free(action);
	free(tli);
	return out;
}

/* postgresql.auto.conf: `old` (NULL: none) with what pitr-recover adds;
 * `s3` the settings restore_command gives pitr-restore for an s3://
 * archive. */
static char *
auto_conf(const char *old, const struct pitr_recover_opts *o, const struct pitr_s3_config *s3,
	  const struct pitr_recover_target *t, const char *backup_name,
	  const char *restore_program, const char *const *archives, size_t narchives,
	  const char *recover_program, unsigned pg_major)
{
	struct pitr_standby_opts sb;
	char *header = pitr_xasprintf("written by pitr-recover: recovery from backup %s", backup_name);
	char *extra = target_lines(o, t), *text = NULL;
	struct pitr_standby_ctx ctx = {
		.program = "pitr-recover", .header = header, .restore_program = restore_program,
		.archives = archives, .narchives = narchives, .recovery_ended = recover_program,
		.pg_major = pg_major, .extra = extra, .targets_by_caller = true,
		.prefetch = o->prefetch, .s3 = s3,
	};

	standby_of(o, &sb);
	if (header != NULL && extra != NULL) {
		ctx.cleanup_program = pitr_recover_program_beside(restore_program, "pitr-cleanup");
		if (ctx.cleanup_program != NULL)
			text = pitr_standby_auto_conf(old, &sb, &ctx);
		free((char *)ctx.cleanup_program);
	}
	free(header);
	free(extra);
	return text;
}

char *
pitr_recover_conf_text(const struct pitr_recover_opts *o, const struct pitr_recover_target *t,
		       const char *backup_name, const char *restore_program,
		       const char *const *archives, size_t narchives,
		       const char *recover_program, unsigned pg_major)
{
	return auto_conf(NULL, o, o->s3, t, backup_name, restore_program, archives, narchives,
			 recover_program, pg_major);
}

char *
pitr_recover_restore_beside(const char *exe)
{
	return pitr_recover_program_beside(exe, "pitr-restore");
}

char *
pitr_recover_program_beside(const char *exe, const char *name)
{
	char *dir = pitr_xstrdup(exe), *slash, *out;
	size_t len;

	if (dir == NULL)
		return NULL;
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		*(slash == dir ? slash + 1 : slash) = '\0';
	}
	/* libtool runs bin/.libs/lt-pitr-recover from a build tree; its
	 * pitr-restore wrapper is in bin/. */
	len = strlen(dir);
	if (len >= 6 && strcmp(dir + len - 6, "/.libs") == 0)
		dir[len - 6] = '\0';
	else if (strcmp(dir, ".libs") == 0)
		strcpy(dir, ".");
	len = strlen(dir);
	out = pitr_xasprintf("%s%s%s", dir, len > 0 && dir[len - 1] == '/' ? "" : "/", name);
	free(dir);
	return out;
}

/* restore_command runs in the data dir: a CA file as well as a
 * directory must be absolute there. */
static int
absolute_ca_file(struct recover_run *run)
{
	if (run->o->s3 == NULL)
		return 0;
	run->s3 = *run->o->s3;
	if (run->s3.ca_file == NULL)
		return 0;
	if ((run->s3_ca_file = realpath(run->s3.ca_file, NULL)) == NULL) {
		pitr_log_error("--s3-ca-file \"%s\": %s", run->s3.ca_file, strerror(errno));
		return -1;
	}
	run->s3.ca_file = run->s3_ca_file;
	return 0;
}

int
recover_settings_archive(struct recover_run *run)
{
	if ((run->archives = pitr_xcalloc(run->o->narchives + 1, sizeof(*run->archives))) == NULL)
		return -1;
	for (size_t i = 0; i < run->o->narchives; i++) {
		const char *spec = run->o->archives[i];
		size_t pre = pitr_codec_prefix_len(spec);
		char *real;

		if (pitr_s3_is_url(spec + pre)) {
			if ((run->archives[run->narchives++] = pitr_xstrdup(spec)) == NULL)
				return -1;
			continue;
		}
		if ((real = realpath(spec + pre, NULL)) == NULL) {
			pitr_log_error("archive \"%s\": %s", spec + pre, strerror(errno));
			return -1;
		}
		run->archives[run->narchives] = pitr_xasprintf("%.*s%s", (int)pre, spec, real);
		free(real);
		if (run->archives[run->narchives] == NULL)
			return -1;
		run->narchives++;
	}
	return absolute_ca_file(run);
}

/* `path` made absolute by resolving its directory only: a link's own name
 * is kept, as omnipitr-restore (make install-compat) must stay to log as
 * omnipitr-restore.  Malloc'd, or NULL with errno set. */
static char *
absolute_keeping_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;
	char *dir, *real, *out;

	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return realpath(path, NULL);
	if (slash == NULL)
		dir = pitr_xstrdup(".");
	else
		dir = slash == path ? pitr_xstrdup("/") : pitr_xstrndup(path, (size_t)(slash - path));
	if (dir == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	real = realpath(dir, NULL);
	free(dir);
	if (real == NULL)
		return NULL;
	out = pitr_xasprintf("%s%s%s", real, strcmp(real, "/") == 0 ? "" : "/", base);
	free(real);
	if (out == NULL)
		errno = ENOMEM;
	return out;
}

/* `given` made absolute, else `name` beside this program; it must be
 * executable.  Returns it (malloc'd), or NULL after logging. */
static char *
find_program(const char *given, const char *name, const char *option)
{
	char *prog;

	if (given != NULL) {
		/* Resolved first only to refuse what does not exist. */
		prog = realpath(given, NULL);
		if (prog != NULL) {
			free(prog);
			prog = absolute_keeping_name(given);
		}
		if (prog == NULL) {
			pitr_log_error("--%s \"%s\": %s", option, given, strerror(errno));
			return NULL;
		}
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n < 0) {
			pitr_log_error("could not find this program's path (/proc/self/exe): %s; give "
				       "--%s", strerror(errno), option);
			return NULL;
		}
		exe[n] = '\0';
		prog = pitr_recover_program_beside(exe, name);
		if (prog == NULL)
			return NULL;
	}
	if (access(prog, X_OK) != 0) {
		pitr_log_error("%s program \"%s\" is not executable (%s): give --%s",
			       strcmp(name, "pitr-restore") == 0 ? "restore" : "recovery end", prog,
			       strerror(errno), option);
		free(prog);
		return NULL;
	}
	return prog;
}

int
recover_settings_restore_program(struct recover_run *run)
{
	run->restore_prog = find_program(run->o->pitr_restore, "pitr-restore", "pitr-restore");
	if (run->restore_prog == NULL)
		return -1;
	run->recover_prog = find_program(run->o->pitr_recover, "pitr-recover", "pitr-recover");
	return run->recover_prog != NULL ? 0 : -1;
}

/* The backup's postgresql.auto.conf with the recovery settings. */
static int
write_auto_conf(struct recover_run *run, unsigned pg_major)
{
	char *apath = pitr_fsutil_join(run->tmp, "postgresql.auto.conf");
	char *old = NULL, *text = NULL;
	size_t len = 0;
	int rc = -1;

	if (apath == NULL)
		goto out;
	old = pitr_fsutil_read_small(apath, RECOVER_CONF_MAX, &len);
	if (old == NULL && errno != ENOENT)
		goto out;
	text = auto_conf(old, run->o, run->o->s3 != NULL ? &run->s3 : NULL, &run->target,
			 run->b->name, run->restore_prog,
			 (const char *const *)run->archives, run->narchives, run->recover_prog,
			 pg_major);
	if (text == NULL || recover_write_file(run, "postgresql.auto.conf", text, true) != 0)
		goto out;
	rc = 0;
out:
	free(apath);
	free(old);
	free(text);
	return rc;
}

/* Write `text` as run->tmp/`name` unless the backup has that file. */
static int
write_if_missing(struct recover_run *run, const char *name, const char *text)
{
	char *path = pitr_fsutil_join(run->tmp, name);
	int rc = 0;

	if (path == NULL)
		return -1;
	if (access(path, F_OK) != 0)
		rc = recover_write_file(run, name, text, false);
	free(path);
	return rc;
}

const char *
recover_settings_signal(const struct pitr_recover_opts *o)
{
	struct pitr_standby_opts sb;

	standby_of(o, &sb);
	return pitr_standby_signal(&sb);
}

int
recover_settings_write(struct recover_run *run, const char *version)
{
	struct pitr_standby_opts sb;
	const char *signal, *other;
	char *path;
	int rc = -1;

	standby_of(run->o, &sb);
	signal = pitr_standby_signal(&sb);
	other = strcmp(signal, "standby.signal") == 0 ? "recovery.signal" : "standby.signal";
	/* PG_VERSION holds the major version ("15"; "9.6" before 10). */
	if (write_auto_conf(run, (unsigned)strtoul(version, NULL, 10)) != 0 ||
	    write_if_missing(run, "postgresql.conf",
			     "# written by pitr-recover: the backup had no postgresql.conf (it was kept\n"
			     "# outside the data directory, /etc/postgresql on Debian); the recovery\n"
			     "# settings are in postgresql.auto.conf\n") != 0 ||
	    write_if_missing(run, "pg_hba.conf",
			     "# written by pitr-recover: the backup had no pg_hba.conf; local\n"
			     "# connections by the same operating system user only\n"
			     "local all all peer\n") != 0)
		return -1;
	path = pitr_fsutil_join(run->tmp, other);
	if (path == NULL)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
	else if (recover_write_file(run, signal, "", false) == 0)
		rc = 0;
	free(path);
	return rc;
}
