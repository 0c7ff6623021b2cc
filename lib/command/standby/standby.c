/*
 * standby.c - the standby options of pitr-recover and pitr-synch: read,
 * checked, and merged with what --recovery-conf translates.  The text
 * they give is built in standby_conf.c.
 *
 * --recovery-conf and the explicit options: they add up, and a setting
 * both give is refused (one line naming both), never silently chosen, so
 * that an operator migrating a recovery.conf sees every conflict.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/standby/recoveryconf.h"
#include "command/standby/standby.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"
#include "compress/codec.h"

/* The largest recovery.conf read. */
#define STANDBY_RECOVERY_CONF_MAX (1024 * 1024)

static const char *const mode_names[] = {
	[PITR_STANDBY_NONE] = "plain recovery",
	[PITR_STANDBY_STREAMING] = "--standby",
	[PITR_STANDBY_WARM] = "--warm-standby",
};

/* Keep `s` for as long as `o` (s malloc'd; NULL passes through). */
static char *
own(struct pitr_standby_opts *o, char *s)
{
	char **n;

	if (s == NULL)
		return NULL;
	n = pitr_xreallocarray(o->owned, o->nowned + 1, sizeof(*n));
	if (n == NULL) {
		free(s);
		return NULL;
	}
	o->owned = n;
	n[o->nowned++] = s;
	return s;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* A pitr-restore option name that -s or -sr spell (one or two dashes). */
static bool
ours(const char *word)
{
	static const char *const names[] = { "s", "source", "sr", "streaming-replication" };
	const char *n = word + (word[0] == '-') + (word[0] == '-' && word[1] == '-');
	size_t len = strcspn(n, "=");

	if (n == word)
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && strncmp(n, names[i], len) == 0)
			return true;
	return false;
}

/* --restore-options: words without a shell, none that is ours or that
 * holds %f or %p (PostgreSQL fills those in at the end of the command). */
static int
check_restore_options(const char *s)
{
	size_t n;
	char **w;
	int rc = 0;

	if (has_control(s)) {
		pitr_log_error("--restore-options holds a control character (a newline?)");
		return -1;
	}
	if ((w = pitr_quote_split(s, "--restore-options", 0, &n)) == NULL)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (strstr(w[i], "%f") != NULL || strstr(w[i], "%p") != NULL) {
			pitr_log_error("--restore-options \"%s\": %%f and %%p are restore_command's own, "
				       "added at its end; give only pitr-restore's options", s);
			rc = -1;
		} else if (ours(w[i])) {
			pitr_log_error("--restore-options \"%s\": %s is written by pitr-recover itself "
				       "(-s from --archive, -sr by the mode)", s, w[i]);
			rc = -1;
		}
	}
	pitr_quote_split_free(w);
	return rc;
}

/* A GUC name: a letter or _ first, then letters, digits and _, with at
 * most one dot (a custom setting: "auto_explain.log_min_duration"). */
static bool
guc_name(const char *s, size_t len)
{
	size_t dots = 0;

	if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_') || s[len - 1] == '.')
		return false;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == '.' && s[i - 1] != '.')
			dots++;
		else if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$'))
			return false;
	}
	return dots <= 1;
}

/* --set NAME=VALUE. */
static int
check_set(const char *s)
{
	const char *eq = strchr(s, '=');
	size_t len = eq != NULL ? (size_t)(eq - s) : 0;

	if (eq == NULL || !guc_name(s, len)) {
		pitr_log_error("--set \"%s\": expected NAME=VALUE with NAME a setting's name", s);
		return -1;
	}
	if ((len == 15 && strncasecmp(s, "restore_command", len) == 0) ||
	    (len == 20 && strncasecmp(s, "recovery_end_command", len) == 0)) {
		pitr_log_error("--set \"%.*s\": written by the mode (give --restore-options for "
			       "pitr-restore's options); the end of recovery removes it", (int)len, s);
		return -1;
	}
	if (has_control(eq + 1)) {
		pitr_log_error("--set \"%.*s\": the value holds a control character (a newline?), "
			       "which a settings file cannot hold", (int)len, s);
		return -1;
	}
	return 0;
}

/* The checks that do not involve --recovery-conf's settings. */
static int
check_plain(const struct pitr_standby_opts *o)
{
	if (o->hot_standby != NULL && pitr_opts_check_choice("hot-standby", o->hot_standby, "on|off") < 0)
		return -1;
	if (o->archive_mode != NULL &&
	    pitr_opts_check_choice("archive-mode", o->archive_mode, PITR_STANDBY_ARCHIVE_MODES) < 0)
		return -1;
	if (o->port < 0 || o->port > 65535) {
		pitr_log_error("--port %d: expected an integer from 1 to 65535", o->port);
		return -1;
	}
	if (o->primary_conninfo != NULL && has_control(o->primary_conninfo)) {
		pitr_log_error("--primary-conninfo holds a control character (a newline?)");
		return -1;
	}
	if (o->primary_slot_name != NULL && !guc_name(o->primary_slot_name,
						      strlen(o->primary_slot_name))) {
		pitr_log_error("--primary-slot-name \"%s\": expected a slot name (letters, digits, _)",
			       o->primary_slot_name);
		return -1;
	}
	if (o->restore_options != NULL && check_restore_options(o->restore_options) != 0)
		return -1;
	for (size_t i = 0; i < o->nsets; i++)
		if (check_set(o->sets[i]) != 0)
			return -1;
	return 0;
}

/* The rules between the options, once --recovery-conf is merged. */
static int
check_combination(const struct pitr_standby_opts *o)
{
	if (o->primary_conninfo != NULL && o->mode != PITR_STANDBY_STREAMING) {
		pitr_log_error("primary_conninfo (--primary-conninfo, or a recovery.conf's) needs "
			       "--standby (or standby_mode = on): %s does not stream", mode_names[o->mode]);
		return -1;
	}
	if (o->primary_slot_name != NULL && o->primary_conninfo == NULL) {
		pitr_log_error("--primary-slot-name needs --primary-conninfo (the slot is the "
			       "primary's)");
		return -1;
	}
	if (o->restore_options != NULL && o->conf_restore_command != NULL) {
		pitr_log_error("--restore-options and --recovery-conf's restore_command both give "
			       "restore_command: give one");
		return -1;
	}
	return 0;
}

/* When --recovery-conf gives restore_command, every archive the caller
 * was given (-a, --archive) must be one it reads: otherwise the copy would
 * restore from elsewhere than what was named and checked.  An archive is
 * found in the command as given or, when it exists here, as its real
 * path. */
static int
check_archives(const struct pitr_standby_opts *o)
{
	if (o->conf_restore_command == NULL)
		return 0;
	for (size_t i = 0; i < o->narchives; i++) {
		const char *g = o->archives[i] + pitr_codec_prefix_len(o->archives[i]);
		char *real = realpath(g, NULL);
		bool found = strstr(o->conf_restore_command, g) != NULL ||
			     (real != NULL && strstr(o->conf_restore_command, real) != NULL);

		free(real);
		if (!found) {
			pitr_log_error("--recovery-conf's restore_command does not read the archive "
				       "\"%s\" given with --archive: the copy would restore from another "
				       "archive than the one named; make them the same, or drop "
				       "restore_command from the file", g);
			return -1;
		}
	}
	return 0;
}

/* Read --recovery-conf, with one line for what is wrong in it. */
static int
read_recovery_conf(const char *path, struct pitr_recovery_conf *rc)
{
	size_t len = 0;
	char *text = pitr_fsutil_read_small(path, STANDBY_RECOVERY_CONF_MAX, &len);
	int ret;

	memset(rc, 0, sizeof(*rc));
	if (text == NULL) {
		pitr_log_error("--recovery-conf \"%s\": %s", path,
			       errno == EFBIG ? "larger than 1 MiB: not a recovery.conf" : strerror(errno));
		return -1;
	}
	ret = pitr_recovery_conf_parse(text, len, path, rc);
	free(text);
	return ret;
}

/* The first refusal among the file's settings, checked before any is
 * used: -1 after logging it. */
static int
check_conf_items(const struct pitr_recovery_conf *rc, const char *path)
{
	for (size_t i = 0; i < rc->n; i++) {
		const char *k, *v, *why;
		int on;
		enum pitr_recovery_conf_kind kind =
			pitr_recovery_conf_translate(rc->items[i].key, rc->items[i].value, &k, &v, &on, &why);

		if (kind == PITR_RCONF_UNKNOWN || kind == PITR_RCONF_INVALID) {
			pitr_log_error("--recovery-conf \"%s\" line %u: %s = '%s' %s%s; nothing was "
				       "written", path, rc->items[i].line, rc->items[i].key,
				       rc->items[i].value, kind == PITR_RCONF_INVALID ? "refused: " : "",
				       why);
			return -1;
		}
	}
	return 0;
}

/* A field both the file and an option give. */
static int
conflict(const char *path, unsigned line, const char *key, const char *option)
{
	pitr_log_error("--recovery-conf \"%s\" line %u sets %s and %s gives it too: give one",
		       path, line, key, option);
	return -1;
}

/* Put one translated setting where it goes in `o`. */
static int
merge_item(struct pitr_standby_opts *o, const struct pitr_recovery_conf_item *it, const char *k,
	   const char *v, bool explicit_conninfo, bool explicit_slot)
{
	char *key, *val;
	struct pitr_standby_setting *n;

	if (strcmp(k, "primary_conninfo") == 0 && explicit_conninfo)
		return conflict(o->recovery_conf, it->line, k, "--primary-conninfo");
	if (strcmp(k, "primary_slot_name") == 0 && explicit_slot)
		return conflict(o->recovery_conf, it->line, k, "--primary-slot-name");
	if ((val = own(o, pitr_xstrdup(v))) == NULL)
		return -1;
	if (strcmp(k, "restore_command") == 0) {
		o->conf_restore_command = val;
		return 0;
	}
	if (strcmp(k, "primary_conninfo") == 0) {
		o->primary_conninfo = val;
		return 0;
	}
	if (strcmp(k, "primary_slot_name") == 0) {
		o->primary_slot_name = val;
		return 0;
	}
	if ((key = own(o, pitr_xstrdup(k))) == NULL ||
	    (n = pitr_xreallocarray(o->conf, o->nconf + 1, sizeof(*n))) == NULL)
		return -1;
	o->conf = n;
	n[o->nconf++] = (struct pitr_standby_setting){ key, val };
	return 0;
}

/* What the file's standby_mode (-1: none) and targets make the mode, with
 * an explicit mode that contradicts it refused. */
static int
merge_mode(struct pitr_standby_opts *o, int standby_mode, unsigned line)
{
	enum pitr_standby_mode want;

	if (standby_mode == 1)
		want = PITR_STANDBY_STREAMING;
	else if (pitr_standby_conf_value(o, "recovery_target") != NULL ||
		 pitr_standby_conf_value(o, "recovery_target_time") != NULL ||
		 pitr_standby_conf_value(o, "recovery_target_xid") != NULL ||
		 pitr_standby_conf_value(o, "recovery_target_lsn") != NULL ||
		 pitr_standby_conf_value(o, "recovery_target_name") != NULL)
		want = PITR_STANDBY_NONE;
	else
		want = o->conf_restore_command != NULL ? PITR_STANDBY_WARM : PITR_STANDBY_NONE;
	if (o->mode == PITR_STANDBY_NONE) {
		o->mode = want;
		return 0;
	}
	if (standby_mode >= 0 && (standby_mode == 1) != (o->mode == PITR_STANDBY_STREAMING)) {
		pitr_log_error("--recovery-conf \"%s\" line %u: standby_mode = %s contradicts %s",
			       o->recovery_conf, line, standby_mode ? "on" : "off", mode_names[o->mode]);
		return -1;
	}
	return 0;
}

/* One info line per setting of the file, saying what became of it. */
static void
log_conf(const struct pitr_standby_opts *o, const struct pitr_recovery_conf *rc)
{
	for (size_t i = 0; i < rc->n; i++) {
		const char *k, *v, *why;
		int on;

		pitr_recovery_conf_translate(rc->items[i].key, rc->items[i].value, &k, &v, &on, &why);
		if (strcmp(rc->items[i].key, "standby_mode") == 0)
			pitr_log_info("recovery.conf line %u: standby_mode = %s: %s", rc->items[i].line,
				      on ? "on" : "off", why);
		else if (strcmp(k, "restore_command") == 0 || strcmp(k, "archive_cleanup_command") == 0)
			pitr_log_info("recovery.conf line %u: %s: written as it is, but for an "
				      "omnipitr-%s program, which becomes pitrkit's", rc->items[i].line, k,
				      k[0] == 'r' ? "restore" : "cleanup");
		else if (strcmp(k, "recovery_end_command") == 0)
			pitr_log_info("recovery.conf line %u: recovery_end_command: run after pitr-recover "
				      "--recovery-ended", rc->items[i].line);
		else
			pitr_log_info("recovery.conf line %u: %s -> %s = '%s' (%s)", rc->items[i].line,
				      rc->items[i].key, k, v, why);
	}
	pitr_log_info("recovery.conf \"%s\": %s, %s", o->recovery_conf, mode_names[o->mode],
		      pitr_standby_signal(o));
}

/* Merge --recovery-conf into `o`. */
static int
merge_recovery_conf(struct pitr_standby_opts *o)
{
	struct pitr_recovery_conf rc;
	bool conninfo = o->primary_conninfo != NULL, slot = o->primary_slot_name != NULL;
	int standby_mode = -1, ret = -1;
	unsigned mode_line = 0;

	if (read_recovery_conf(o->recovery_conf, &rc) != 0 ||
	    check_conf_items(&rc, o->recovery_conf) != 0)
		goto out;
	for (size_t i = 0; i < rc.n; i++) {
		const char *k, *v, *why;
		int on;

		if (pitr_recovery_conf_translate(rc.items[i].key, rc.items[i].value, &k, &v, &on,
						 &why) == PITR_RCONF_STANDBY) {
			standby_mode = on;
			mode_line = rc.items[i].line;
		} else if (merge_item(o, &rc.items[i], k, v, conninfo, slot) != 0) {
			goto out;
		}
	}
	if (merge_mode(o, standby_mode, mode_line) != 0 || check_combination(o) != 0 ||
	    check_archives(o) != 0)
		goto out;
	log_conf(o, &rc);
	ret = 0;
out:
	pitr_recovery_conf_free(&rc);
	return ret;
}

int
pitr_standby_opts_check(struct pitr_standby_opts *o)
{
	if (check_plain(o) != 0)
		return -1;
	if (o->recovery_conf != NULL)
		return merge_recovery_conf(o);
	return check_combination(o);
}

int
pitr_standby_opts_get(struct pitr_opts *po, struct pitr_standby_opts *o)
{
	bool streaming = pitr_opts_flag(po, "standby"), warm = pitr_opts_flag(po, "warm-standby");

	memset(o, 0, sizeof(*o));
	if (streaming && warm) {
		pitr_log_error("--standby and --warm-standby exclude each other: a streaming standby "
			       "(standby.signal) or a warm one (recovery.signal)");
		return -1;
	}
	o->mode = streaming ? PITR_STANDBY_STREAMING : warm ? PITR_STANDBY_WARM : PITR_STANDBY_NONE;
	o->primary_conninfo = pitr_opts_str(po, "primary-conninfo");
	o->primary_slot_name = pitr_opts_str(po, "primary-slot-name");
	o->restore_options = pitr_opts_str(po, "restore-options");
	o->hot_standby = pitr_opts_str(po, "hot-standby");
	o->sets = pitr_opts_list(po, "set", &o->nsets);
	for (size_t i = 0; i < po->ndefs; i++)
		if (strcmp(po->defs[i].name, "port") == 0 && po->defs[i].kind == PITR_OPT_INT)
			o->port = (int)pitr_opts_int(po, "port");
	o->archive_mode = pitr_opts_str(po, "archive-mode");
	o->recovery_conf = pitr_opts_str(po, "recovery-conf");
	for (size_t i = 0; i < po->ndefs; i++)
		if (strcmp(po->defs[i].name, "archive") == 0 && po->defs[i].kind == PITR_OPT_LIST)
			o->archives = pitr_opts_list(po, "archive", &o->narchives);
	return pitr_standby_opts_check(o);
}

void
pitr_standby_opts_free(struct pitr_standby_opts *o)
{
	for (size_t i = 0; i < o->nowned; i++)
		free(o->owned[i]);
	free(o->owned);
	free(o->conf);
	o->owned = NULL;
	o->nowned = 0;
	o->conf = NULL;
	o->nconf = 0;
	o->conf_restore_command = NULL;
}

const char *
pitr_standby_conf_value(const struct pitr_standby_opts *o, const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < o->nconf; i++)
		if (strcmp(o->conf[i].key, key) == 0)
			v = o->conf[i].value;
	return v;
}

bool
pitr_standby_archives(const struct pitr_standby_opts *o)
{
	if (o->archive_mode == NULL)
		return o->mode != PITR_STANDBY_NONE;
	return strcmp(o->archive_mode, "preserve") == 0;
}

const char *
pitr_standby_signal(const struct pitr_standby_opts *o)
{
	return o->mode == PITR_STANDBY_STREAMING ? "standby.signal" : "recovery.signal";
}
