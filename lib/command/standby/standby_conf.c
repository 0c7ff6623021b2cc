/*
 * standby_conf.c - the postgresql.auto.conf text of a recovered or
 * synchronized copy: the source's settings voided, the mode's settings,
 * the recovery block that pitr-recover --recovery-ended removes, and the
 * operator's --set lines last.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/recover/recover.h"
#include "command/standby/standby.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "s3/s3.h"

/* Append the formatted line and a newline to *text (realloc'd). */
static int __attribute__((format(printf, 2, 3)))
add_linef(char **text, const char *fmt, ...)
{
	va_list ap;
	char *line, *n;

	va_start(ap, fmt);
	line = pitr_xvasprintf(fmt, ap);
	va_end(ap);
	if (line == NULL)
		return -1;
	n = pitr_xasprintf("%s%s\n", *text, line);
	free(line);
	if (n == NULL)
		return -1;
	free(*text);
	*text = n;
	return 0;
}

/* Append `lines` as they are. */
static int
add_raw(char **text, const char *lines)
{
	char *n = pitr_xasprintf("%s%s", *text, lines);

	if (n == NULL)
		return -1;
	free(*text);
	*text = n;
	return 0;
}

/* Append "key = 'value'". */
static int
add_setting(char **text, const char *key, const char *value)
{
	char *q = pitr_quote_conf(value);
	int rc;

	if (q == NULL)
		return -1;
	rc = add_linef(text, "%s = %s", key, q);
	free(q);
	return rc;
}

char *
pitr_standby_sources(const char *const *archives, size_t narchives)
{
	char *out = pitr_xstrdup(""), *q, *n;

	for (size_t i = 0; out != NULL && i < narchives; i++) {
		if ((q = pitr_quote_command_word(archives[i])) == NULL) {
			free(out);
			return NULL;
		}
		n = pitr_xasprintf("%s%s-s %s", out, i > 0 ? " " : "", q);
		free(q);
		free(out);
		out = n;
	}
	return out;
}

/* --restore-options as quoted words, each followed by a blank; "%r"
 * stays PostgreSQL's placeholder. */
static char *
option_words(const char *opts)
{
	size_t n = 0;
	char **w = opts != NULL ? pitr_quote_split(opts, "--restore-options", 0, &n) : NULL;
	char *out = pitr_xstrdup(""), *q, *next;

	if ((opts != NULL && w == NULL) || out == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		q = strcmp(w[i], "%r") == 0 ? pitr_xstrdup("%r") : pitr_quote_command_word(w[i]);
		if (q == NULL)
			goto fail;
		next = pitr_xasprintf("%s%s ", out, q);
		free(q);
		free(out);
		if ((out = next) == NULL)
			goto fail;
	}
	pitr_quote_split_free(w);
	return out;
fail:
	pitr_quote_split_free(w);
	free(out);
	return NULL;
}

/* `cmd` with its first word replaced by `prog` when that word's file name
 * is `old` (an OmniPITR program), else a copy. */
static char *
swap_program(const char *cmd, const char *old, const char *prog)
{
	const char *p = cmd + strspn(cmd, " \t");
	size_t len = strcspn(p, " \t");
	const char *base = p + len;
	char *q, *out;

	while (base > p && base[-1] != '/')
		base--;
	if (prog == NULL || (size_t)(p + len - base) != strlen(old) ||
	    strncmp(base, old, strlen(old)) != 0)
		return pitr_xstrdup(cmd);
	if ((q = pitr_quote_command_word(prog)) == NULL)
		return NULL;
	out = pitr_xasprintf("%s%s", q, p + len);
	free(q);
	return out;
}

/* Whether --restore-options gives pitr-restore's -pf/--prefetch itself
 * (it then wins over the caller's default). */
static bool
gives_prefetch(const char *opts)
{
	size_t n = 0;
	char **w = opts != NULL ? pitr_quote_split(opts, "--restore-options", 0, &n) : NULL;
	bool found = false;

	for (size_t i = 0; i < n && !found; i++) {
		const char *name = w[i] + (w[i][0] == '-') + (w[i][0] == '-' && w[i][1] == '-');
		size_t len = strcspn(name, "=");

		found = name != w[i] && ((len == 2 && strncmp(name, "pf", 2) == 0) ||
					 (len == 8 && strncmp(name, "prefetch", 8) == 0));
	}
	pitr_quote_split_free(w);
	return found;
}

/* The --s3-* words of ctx->s3, each quoted and followed by a blank, when
 * an archive is an object store's; else "". */
static char *
s3_words(const struct pitr_standby_ctx *ctx)
{
	char *w[PITR_S3_CONFIG_WORDS_MAX], *out = pitr_xstrdup(""), *q, *next;
	bool any = false;
	int n;

	for (size_t i = 0; i < ctx->narchives; i++)
		any = any || pitr_s3_is_url(ctx->archives[i] + pitr_codec_prefix_len(ctx->archives[i]));
	if (out == NULL || !any || ctx->s3 == NULL)
		return out;
	if ((n = pitr_s3_config_words(ctx->s3, w)) < 0) {
		free(out);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		q = out != NULL ? pitr_quote_command_word(w[i]) : NULL;
		next = q != NULL ? pitr_xasprintf("%s%s ", out, q) : NULL;
		free(q);
		free(out);
		free(w[i]);
		out = next;
	}
	return out;
}

/* " -pf N" when the caller wants prefetching and the options do not say. */
static char *
prefetch_word(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	if (ctx->prefetch <= 0 || gives_prefetch(o->restore_options))
		return pitr_xstrdup("");
	return pitr_xasprintf("-pf %d ", ctx->prefetch);
}

char *
pitr_standby_restore_command(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	char *prog = NULL, *words = NULL, *pf = NULL, *s3 = NULL, *src = NULL, *cmd = NULL;

	if (o->conf_restore_command != NULL)
		return swap_program(o->conf_restore_command, "omnipitr-restore", ctx->restore_program);
	/* -sr: a segment the archive lacks fails at once, so recovery ends
	 * at the archive's end and a streaming standby turns to its primary.
	 * A warm standby waits for the segment instead. */
	if ((prog = pitr_quote_command_word(ctx->restore_program)) != NULL &&
	    (words = option_words(o->restore_options)) != NULL &&
	    (pf = prefetch_word(o, ctx)) != NULL && (s3 = s3_words(ctx)) != NULL &&
	    (src = pitr_standby_sources(ctx->archives, ctx->narchives)) != NULL)
		cmd = pitr_xasprintf("%s%s %s%s%s%s %%f \"%%p\"", prog,
				     o->mode == PITR_STANDBY_WARM ? "" : " -sr", words, pf, s3, src);
	free(prog);
	free(words);
	free(pf);
	free(s3);
	free(src);
	return cmd;
}

/* What isolates the copy from the backup's source: every setting of the
 * source that reaches out (to its primary, its trigger, its archive) or
 * that would recover again, voided; archive_mode; port. */
static int
isolation_text(char **text, const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
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

	if (add_linef(text, "# %s: the source's replication, trigger and recovery settings do not "
		      "apply to this copy", ctx->program) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(voids) / sizeof(voids[0]); i++) {
		/* PostgreSQL 16 dropped the setting; naming it stops the server. */
		if (ctx->pg_major >= 16 && strcmp(voids[i][0], "promote_trigger_file") == 0)
			continue;
		if (add_setting(text, voids[i][0], voids[i][1]) != 0)
			return -1;
	}
	if (!pitr_standby_archives(o) &&
	    (add_linef(text, "# %s --archive-mode=off: a recovered copy does not archive into its "
		       "source's archive (--archive-mode=preserve keeps archiving)", ctx->program) != 0 ||
	     add_setting(text, "archive_mode", "off") != 0))
		return -1;
	if (o->port > 0 && (add_linef(text, "# %s --port", ctx->program) != 0 ||
			    add_linef(text, "port = %d", o->port) != 0))
		return -1;
	return 0;
}

/* hot_standby and the warm standby's recovery_prefetch, kept for good. */
static int
mode_text(char **text, const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	if (o->hot_standby != NULL && (add_linef(text, "# %s --hot-standby", ctx->program) != 0 ||
				       add_setting(text, "hot_standby", o->hot_standby) != 0))
		return -1;
	if (o->mode != PITR_STANDBY_WARM)
		return 0;
	if (ctx->pg_major > 0 && ctx->pg_major < 15)
		return add_linef(text, "# %s --warm-standby: PostgreSQL %u has no WAL prefetcher "
				 "(recovery_prefetch came in 15)", ctx->program, ctx->pg_major);
	if (add_linef(text, "# %s --warm-standby: the WAL prefetcher asks restore_command for the "
		      "next segment before the end of this one is replayed, and pitr-restore waits "
		      "for it: on an idle primary the last transactions (or the consistency a new "
		      "standby needs) would never be replayed", ctx->program) != 0)
		return -1;
	return add_setting(text, "recovery_prefetch", "off");
}

/* recovery_end_command: pitr-recover --recovery-ended first (it removes
 * this block), then recovery.conf's own.  "|| exit 1": the server stops
 * for good when the command dies of a signal or the shell cannot run it
 * (127), and only warns on 1; a copy moved to a host without pitrkit still
 * promotes. */
static char *
end_command(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	const char *theirs = pitr_standby_conf_value(o, "recovery_end_command");
	char *rec, *out;

	if (ctx->recovery_ended == NULL)
		return theirs != NULL ? pitr_xstrdup(theirs) : NULL;
	if ((rec = pitr_quote_command_word(ctx->recovery_ended)) == NULL)
		return NULL;
	out = pitr_xasprintf("%s --recovery-ended || exit 1%s%s", rec, theirs != NULL ? "; " : "",
			     theirs != NULL ? theirs : "");
	free(rec);
	return out;
}

static bool
caller_target(const char *key)
{
	return strncmp(key, "recovery_target", 15) == 0 && strcmp(key, "recovery_target_inclusive") != 0;
}

/* recovery.conf's settings that are not options (targets, cleanup, the
 * trigger file), in the file's order. */
static int
conf_text(char **text, const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	for (size_t i = 0; i < o->nconf; i++) {
		const char *k = o->conf[i].key;
		char *v;
		int rc;

		if (strcmp(k, "recovery_end_command") == 0 || (ctx->targets_by_caller && caller_target(k)))
			continue;
		if (strcmp(k, "promote_trigger_file") == 0 && ctx->pg_major >= 16) {
			pitr_log_error("--recovery-conf: trigger_file has no meaning in PostgreSQL %u "
				       "(promote_trigger_file ended with 15): use pitr-restore's -f finish "
				       "trigger, or pg_ctl promote", ctx->pg_major);
			return -1;
		}
		v = strcmp(k, "archive_cleanup_command") == 0 ?
		    swap_program(o->conf[i].value, "omnipitr-cleanup", ctx->cleanup_program) :
		    pitr_xstrdup(o->conf[i].value);
		if (v == NULL)
			return -1;
		rc = add_setting(text, k, v);
		free(v);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The settings that only serve recovery, between the marks. */
static int
recovery_text(char **text, const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	char *cmd = NULL, *end = NULL;
	int rc = -1;

	/* A streaming standby pitr-synch made may have no archive: it has
	 * the WAL of its copy in pg_wal and streams the rest. */
	if (ctx->narchives > 0 || o->conf_restore_command != NULL) {
		if ((cmd = pitr_standby_restore_command(o, ctx)) == NULL)
			goto out;
	}
	if (add_linef(text, "%s", PITR_RECOVER_BLOCK_BEGIN) != 0 ||
	    (cmd != NULL && add_setting(text, "restore_command", cmd) != 0))
		goto out;
	if (ctx->extra != NULL && add_raw(text, ctx->extra) != 0)
		goto out;
	if ((o->primary_conninfo != NULL && add_setting(text, "primary_conninfo", o->primary_conninfo) != 0) ||
	    (o->primary_slot_name != NULL &&
	     add_setting(text, "primary_slot_name", o->primary_slot_name) != 0) ||
	    conf_text(text, o, ctx) != 0)
		goto out;
	end = end_command(o, ctx);
	if ((end == NULL && ctx->recovery_ended != NULL) ||
	    (end != NULL && add_setting(text, "recovery_end_command", end) != 0) ||
	    add_linef(text, "%s", PITR_RECOVER_BLOCK_END) != 0)
		goto out;
	rc = 0;
out:
	free(cmd);
	free(end);
	return rc;
}

/* Every --set, last so that PostgreSQL applies it. */
static int
set_text(char **text, const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	for (size_t i = 0; i < o->nsets; i++) {
		const char *eq = strchr(o->sets[i], '=');
		char *q;
		int rc;

		if (eq == NULL)
			continue;      /* refused by pitr_standby_opts_check() */
		if (i == 0 && add_linef(text, "# %s --set: the operator's settings, last so they win",
					ctx->program) != 0)
			return -1;
		if ((q = pitr_quote_conf(eq + 1)) == NULL)
			return -1;
		rc = add_linef(text, "%.*s = %s", (int)(eq - o->sets[i]), o->sets[i], q);
		free(q);
		if (rc != 0)
			return -1;
	}
	return 0;
}

char *
pitr_standby_plain_text(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	char *text = pitr_xstrdup("");

	if (text == NULL)
		return NULL;
	if ((!pitr_standby_archives(o) &&
	     (add_linef(&text, "# %s --archive-mode=off: a copy does not archive into its source's "
			"archive (--archive-mode=preserve keeps archiving)", ctx->program) != 0 ||
	      add_setting(&text, "archive_mode", "off") != 0)) ||
	    (o->port > 0 && (add_linef(&text, "# %s --port", ctx->program) != 0 ||
			     add_linef(&text, "port = %d", o->port) != 0)) ||
	    mode_text(&text, o, ctx) != 0 || set_text(&text, o, ctx) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *
pitr_standby_added_text(const struct pitr_standby_opts *o, const struct pitr_standby_ctx *ctx)
{
	char *text = pitr_xstrdup("");

	if (text == NULL)
		return NULL;
	if ((ctx->header != NULL && add_linef(&text, "# %s", ctx->header) != 0) ||
	    isolation_text(&text, o, ctx) != 0 || mode_text(&text, o, ctx) != 0 ||
	    recovery_text(&text, o, ctx) != 0 || set_text(&text, o, ctx) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* The settings keys the added text writes or that would contradict it. */
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
	const char *p = pitr_standby_line_key(line, &n);

	if (p == NULL)
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && strncasecmp(p, keys[i], n) == 0)
			return true;
	return false;
}

char *
pitr_standby_auto_conf(const char *old, const struct pitr_standby_opts *o,
		       const struct pitr_standby_ctx *ctx)
{
	char *add = pitr_standby_added_text(o, ctx), *text;
	size_t len = old != NULL ? strlen(old) : 0, used = 0;
	const char *p;

	if (add == NULL)
		return NULL;
	/* Two recovery targets make PostgreSQL refuse to start, and the
	 * source's replication and trigger settings would reach out to it:
	 * such settings are kept, commented out.  Room: every line may get
	 * the prefix and a newline. */
	text = pitr_xmalloc(len + (len + 1) * (strlen(ctx->program) + 5) + strlen(add) + 1);
	for (const char *line = old; text != NULL && line != NULL && *line != '\0'; line = p) {
		const char *e = strchr(line, '\n');

		p = e != NULL ? e + 1 : line + strlen(line);
		if (conflicting_key(line))
			used += (size_t)sprintf(text + used, "# %s: ", ctx->program);
		memcpy(text + used, line, (size_t)(p - line));
		used += (size_t)(p - line);
		if (p[-1] != '\n')
			text[used++] = '\n';
	}
	if (text != NULL)
		strcpy(text + used, add);
	free(add);
	return text;
}

const char *
pitr_standby_line_key(const char *line, size_t *len)
{
	const char *p = line + strspn(line, " \t");
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.");

	if (n == 0 || (p[n] != '=' && p[n] != ' ' && p[n] != '\t'))
		return NULL;
	*len = n;
	return p;
}
