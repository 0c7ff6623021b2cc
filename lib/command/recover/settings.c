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

/* Append a "key = 'value'" line to *text (realloc'd). */
static int
add_setting(char **text, const char *key, const char *value)
{
	char *q = pitr_quote_conf(value), *n;

	if (q == NULL)
		return -1;
	n = pitr_xasprintf("%s%s = %s\n", *text, key, q);
	free(q);
	if (n == NULL)
		return -1;
	free(*text);
	*text = n;
	return 0;
}

/* Append `line` (a comment, or a setting already formatted) to *text. */
static int
add_line(char **text, const char *line)
{
	char *n = pitr_xasprintf("%s%s\n", *text, line);

	if (n == NULL)
		return -1;
	free(*text);
	*text = n;
	return 0;
}

bool
pitr_recover_archives(const struct pitr_recover_opts *o)
{
	if (o->archive_mode == NULL)
		return o->standby;
	return strcmp(o->archive_mode, "preserve") == 0;
}

/* What isolates the copy from the backup's source: every setting of the
 * source that reaches out (to its primary, its trigger, its archive) or
 * that would recover again, voided; archive_mode; port. */
static int
isolation_text(char **text, const struct pitr_recover_opts *o, unsigned pg_major)
{
	static const char *const voids[][2] = {
		{ "primary_conninfo", "" }, { "primary_slot_name", "" },
		{ "promote_trigger_file", "" }, { "archive_cleanup_command", "" },
		{ "recovery_end_command", "" }, { "restore_command", "" },
		{ "recovery_target", "" }, { "recovery_target_lsn", "" },
		{ "recovery_target_name", "" }, { "recovery_target_time", "" },
		{ "recovery_target_xid", "" }, { "recovery_target_inclusive", "on" },
		{ "recovery_target_action", "pause" }, { "recovery_target_timeline", "latest" },
	};

	if (add_line(text, "# pitr-recover: the source's replication, trigger and recovery "
		     "settings do not apply to this copy") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(voids) / sizeof(voids[0]); i++) {
		/* PostgreSQL 16 dropped the setting; naming it stops the server. */
		if (pg_major >= 16 && strcmp(voids[i][0], "promote_trigger_file") == 0)
			continue;
		if (add_setting(text, voids[i][0], voids[i][1]) != 0)
			return -1;
	}
	if (!pitr_recover_archives(o) &&
	    (add_line(text, "# pitr-recover --archive-mode=off: a recovered copy does not archive "
		      "into its source's archive (--archive-mode=preserve keeps archiving)") != 0 ||
	     add_setting(text, "archive_mode", "off") != 0))
		return -1;
	if (o->port > 0) {
		char port[32];

		snprintf(port, sizeof(port), "port = %d", o->port);
		if (add_line(text, "# pitr-recover --port") != 0 || add_line(text, port) != 0)
			return -1;
	}
	return 0;
}

/* The recovery settings, between the marks. */
static int
recovery_text(char **text, const struct pitr_recover_opts *o, const struct pitr_recover_target *t,
	      const char *restore_cmd, const char *end_cmd)
{
	static const char *const keys[] = {
		[PITR_RECOVER_TIME] = "recovery_target_time",
		[PITR_RECOVER_XID] = "recovery_target_xid",
		[PITR_RECOVER_LSN] = "recovery_target_lsn",
		[PITR_RECOVER_NAME] = "recovery_target_name",
		[PITR_RECOVER_IMMEDIATE] = "recovery_target",
	};

	if (add_line(text, PITR_RECOVER_BLOCK_BEGIN) != 0 ||
	    add_setting(text, "restore_command", restore_cmd) != 0)
		return -1;
	if (t->kind != PITR_RECOVER_END &&
	    add_setting(text, keys[t->kind], t->kind == PITR_RECOVER_IMMEDIATE ? "immediate" :
			t->conf_value) != 0)
		return -1;
	if (add_setting(text, "recovery_target_action",
			o->target_action != NULL ? o->target_action : PITR_RECOVER_TARGET_ACTION_DEFAULT) != 0 ||
	    add_setting(text, "recovery_target_timeline",
			o->target_timeline != NULL ? o->target_timeline : PITR_RECOVER_TARGET_TIMELINE_DEFAULT) != 0 ||
	    add_setting(text, "recovery_end_command", end_cmd) != 0 ||
	    add_line(text, PITR_RECOVER_BLOCK_END) != 0)
		return -1;
	return 0;
}

/* "-s A -s B": every archive, in order, each quoted as a command word
 * (pitr-restore takes a segment from the first that has it).  malloc'd,
 * NULL after logging ENOMEM. */
static char *
source_words(const char *const *archives, size_t n)
{
	char *out = pitr_xstrdup("");

	for (size_t i = 0; out != NULL && i < n; i++) {
		char *word = pitr_quote_command_word(archives[i]), *more = NULL;

		if (word != NULL)
			more = pitr_xasprintf("%s%s-s %s", out, i > 0 ? " " : "", word);
		free(word);
		free(out);
		out = more;
	}
	return out;
}

char *
pitr_recover_conf_text(const struct pitr_recover_opts *o, const struct pitr_recover_target *t,
		       const char *backup_name, const char *restore_program,
		       const char *const *archives, size_t narchives,
		       const char *recover_program, unsigned pg_major)
{
	char *prog = NULL, *arch = NULL, *cmd = NULL, *text = NULL, *rec = NULL, *end = NULL;
	char *ok = NULL;

	/* -sr: a segment the archive lacks fails at once, so recovery ends
	 * at the archive's end and a standby polls for the next one.  "||
	 * exit 1": the server stops for good when recovery_end_command dies of
	 * a signal or the shell cannot run it (127), and only warns on 1; a
	 * copy moved to a host without pitrkit still promotes. */
	if ((prog = pitr_quote_command_word(restore_program)) == NULL ||
	    (arch = source_words(archives, narchives)) == NULL ||
	    (cmd = pitr_xasprintf("%s -sr %s %%f \"%%p\"", prog, arch)) == NULL ||
	    (rec = pitr_quote_command_word(recover_program)) == NULL ||
	    (end = pitr_xasprintf("%s --recovery-ended || exit 1", rec)) == NULL ||
	    (text = pitr_xasprintf("# written by pitr-recover: recovery from backup %s\n",
				   backup_name)) == NULL)
		goto out;
	if (isolation_text(&text, o, pg_major) != 0 || recovery_text(&text, o, t, cmd, end) != 0)
		goto out;
	ok = text;
	text = NULL;
out:
	free(prog);
	free(arch);
	free(cmd);
	free(rec);
	free(end);
	free(text);
	return ok;
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

/* restore_command runs in the data dir: the archive must be absolute. */
int
recover_settings_archive(struct recover_run *run)
{
	if ((run->archives = pitr_xcalloc(run->o->narchives + 1, sizeof(*run->archives))) == NULL)
		return -1;
	for (size_t i = 0; i < run->o->narchives; i++) {
		const char *spec = run->o->archives[i];
		size_t pre = pitr_codec_prefix_len(spec);
		char *real = realpath(spec + pre, NULL);

		if (real == NULL) {
			pitr_log_error("archive \"%s\": %s", spec + pre, strerror(errno));
			return -1;
		}
		run->archives[run->narchives] = pitr_xasprintf("%.*s%s", (int)pre, spec, real);
		free(real);
		if (run->archives[run->narchives] == NULL)
			return -1;
		run->narchives++;
	}
	return 0;
}

/* `given` made absolute, else `name` beside this program; it must be
 * executable.  Returns it (malloc'd), or NULL after logging. */
static char *
find_program(const char *given, const char *name, const char *option)
{
	char *prog;

	if (given != NULL) {
		prog = realpath(given, NULL);
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

const char *
recover_line_key(const char *line, size_t *len)
{
	const char *p = line + strspn(line, " \t");
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.");

	if (n == 0 || (p[n] != '=' && p[n] != ' ' && p[n] != '\t'))
		return NULL;
	*len = n;
	return p;
}

/* The settings keys pitr-recover writes or that would contradict them. */
static bool
conflicting_key(const char *line)
{
	static const char *const keys[] = {
		"restore_command", "recovery_target", "recovery_target_lsn", "recovery_target_name",
		"recovery_target_time", "recovery_target_xid", "recovery_target_inclusive",
		"recovery_target_action", "recovery_target_timeline", "primary_conninfo",
		"primary_slot_name", "promote_trigger_file", "archive_cleanup_command",
		"recovery_end_command",
	};
	size_t n;
	const char *p = recover_line_key(line, &n);

	if (p == NULL)
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && strncasecmp(p, keys[i], n) == 0)
			return true;
	return false;
}

/* The backup's postgresql.auto.conf with pitr_recover_conf_text appended. */
static int
write_auto_conf(struct recover_run *run, unsigned pg_major)
{
	char *apath = pitr_fsutil_join(run->tmp, "postgresql.auto.conf");
	char *old = NULL, *add = NULL, *text = NULL, *p;
	size_t len = 0, used = 0;
	int rc = -1;

	if (apath == NULL)
		goto out;
	old = pitr_fsutil_read_small(apath, RECOVER_CONF_MAX, &len);
	if (old == NULL && errno != ENOENT)
		goto out;
	add = pitr_recover_conf_text(run->o, &run->target, run->b->name, run->restore_prog,
				     (const char *const *)run->archives, run->narchives,
				     run->recover_prog, pg_major);
	if (add == NULL)
		goto out;
	text = pitr_xmalloc(len * 2 + strlen(add) + 64);
	if (text == NULL)
		goto out;
	/* Two recovery targets make PostgreSQL refuse to start, and the
	 * source's replication and trigger settings would reach out to it:
	 * such settings the backup carries are kept, commented out. */
	for (char *line = old; line != NULL && *line != '\0'; line = p) {
		p = strchr(line, '\n');
		p = p ? p + 1 : line + strlen(line);
		if (conflicting_key(line))
			used += (size_t)sprintf(text + used, "# pitr-recover: ");
		memcpy(text + used, line, (size_t)(p - line));
		used += (size_t)(p - line);
		if (p[-1] != '\n')
			text[used++] = '\n';
	}
	strcpy(text + used, add);
	if (recover_write_file(run, "postgresql.auto.conf", text, true) != 0)
		goto out;
	rc = 0;
out:
	free(apath);
	free(old);
	free(add);
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

int
recover_settings_write(struct recover_run *run, const char *version)
{
	const char *signal = run->o->standby ? "standby.signal" : "recovery.signal";
	const char *other = run->o->standby ? "recovery.signal" : "standby.signal";
	char *path;
	int rc = -1;

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
