/*
 * module.c - the archive module's settings as pitr-archive's options, for
 * pitr-check (see check.h).  The module (pgmodule/guc.c) defines each
 * pitrkit_archive.* GUC with its default, range and unit; the server
 * checks a value only in a process that loaded the module, so what
 * pitr-check reads may be the raw text of postgresql.conf (a placeholder)
 * or PostgreSQL's own display of it ("1min"): both are read here, and a
 * value the module would refuse is said, not guessed at.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/archive/ahead.h"
#include "command/check/check.h"
#include "common/itemlist.h"
#include "dest/dest.h"
#include "s3/s3.h"

#define MODULE_NAME "pitrkit_archive"

const char *const pitr_check_module_gucs[PITR_CHECK_GUC_COUNT] = {
	[PITR_CHECK_GUC_DST_LOCAL] = MODULE_NAME ".dst_local",
	[PITR_CHECK_GUC_DST_REMOTE] = MODULE_NAME ".dst_remote",
	[PITR_CHECK_GUC_DST_PIPE] = MODULE_NAME ".dst_pipe",
	[PITR_CHECK_GUC_DST_BACKUP] = MODULE_NAME ".dst_backup",
	[PITR_CHECK_GUC_STATE_DIR] = MODULE_NAME ".state_dir",
	[PITR_CHECK_GUC_TEMP_DIR] = MODULE_NAME ".temp_dir",
	[PITR_CHECK_GUC_RSYNC_PATH] = MODULE_NAME ".rsync_path",
	[PITR_CHECK_GUC_RSYNC_TIMEOUT] = MODULE_NAME ".rsync_timeout",
	[PITR_CHECK_GUC_PIPE_TIMEOUT] = MODULE_NAME ".pipe_timeout",
	[PITR_CHECK_GUC_PARALLEL_JOBS] = MODULE_NAME ".parallel_jobs",
	[PITR_CHECK_GUC_NOT_NICE] = MODULE_NAME ".not_nice",
	[PITR_CHECK_GUC_LOOK_AHEAD] = MODULE_NAME ".look_ahead",
	[PITR_CHECK_GUC_JOBS] = MODULE_NAME ".jobs",
	[PITR_CHECK_GUC_S3_ENDPOINT] = MODULE_NAME ".s3_endpoint",
	[PITR_CHECK_GUC_S3_REGION] = MODULE_NAME ".s3_region",
	[PITR_CHECK_GUC_S3_URI_STYLE] = MODULE_NAME ".s3_uri_style",
	[PITR_CHECK_GUC_S3_CA_FILE] = MODULE_NAME ".s3_ca_file",
	[PITR_CHECK_GUC_S3_NO_VERIFY_TLS] = MODULE_NAME ".s3_no_verify_tls",
	[PITR_CHECK_GUC_S3_TIMEOUT] = MODULE_NAME ".s3_timeout",
	[PITR_CHECK_GUC_S3_RETRIES] = MODULE_NAME ".s3_retries",
};

/* An integer GUC: its range and default as guc.c defines them. */
struct int_guc {
	enum pitr_check_guc guc;
	int min, max, dflt;
	bool seconds;              /* GUC_UNIT_S: a unit may follow */
};

static const struct int_guc int_gucs[] = {
	{ PITR_CHECK_GUC_RSYNC_TIMEOUT, 1, 86400, PITR_DEST_RSYNC_TIMEOUT_DEFAULT, true },
	{ PITR_CHECK_GUC_PIPE_TIMEOUT, 1, 86400, PITR_DEST_PIPE_TIMEOUT_DEFAULT, true },
	{ PITR_CHECK_GUC_PARALLEL_JOBS, 1, 64, 1, false },
	{ PITR_CHECK_GUC_LOOK_AHEAD, 0, 256, PITR_ARCHIVE_LOOK_AHEAD_DEFAULT, false },
	{ PITR_CHECK_GUC_JOBS, 0, PITR_ARCHIVE_JOBS_MAX, 0, false },
	{ PITR_CHECK_GUC_S3_TIMEOUT, 1, 86400, PITR_S3_STALL_TIMEOUT_DEFAULT, true },
	{ PITR_CHECK_GUC_S3_RETRIES, 0, 100, PITR_S3_RETRIES_DEFAULT, false },
};

bool
pitr_check_is_module(const char *library)
{
	const char *base = strrchr(library, '/');
	size_t len;

	base = base != NULL ? base + 1 : library;
	len = strlen(base);
	if (len > 3 && strcmp(base + len - 3, ".so") == 0)
		len -= 3;
	return len == strlen(MODULE_NAME) && strncmp(base, MODULE_NAME, len) == 0;
}

/* A time unit PostgreSQL accepts after a number of a GUC_UNIT_S setting,
 * as seconds; 0 when `unit` (of `len` bytes) is none. */
static double
unit_seconds(const char *unit, size_t len)
{
	static const struct { const char *name; double seconds; } units[] = {
		{ "ms", 0.001 }, { "s", 1 }, { "min", 60 }, { "h", 3600 }, { "d", 86400 },
	};

	for (size_t unit_idx = 0; unit_idx < sizeof(units) / sizeof(units[0]); unit_idx++)
		if (strlen(units[unit_idx].name) == len && strncmp(unit, units[unit_idx].name, len) == 0)
			return units[unit_idx].seconds;
	return 0;
}

/* PostgreSQL's reading of an integer setting (parse_int()): a number,
 * fractions rounded, and for a time a unit after optional blanks. */
static int
parse_int_value(const char *text, const struct int_guc *g, int *out, char *err, size_t err_size)
{
	char *end;
	double v = strtod(text, &end);
	size_t len;

	if (end == text || !isfinite(v)) {
		snprintf(err, err_size, "not a number");
		return -1;
	}
	while (isspace((unsigned char)*end))
		end++;
	len = strcspn(end, " \t\r\n");
	if (len > 0) {
		double unit = g->seconds ? unit_seconds(end, len) : 0;

		if (unit == 0) {
			snprintf(err, err_size, g->seconds ? "valid units are \"ms\", \"s\", \"min\", "
				 "\"h\" and \"d\"" : "it takes no unit");
			return -1;
		}
		v *= unit;
		end += len;
	}
	end += strspn(end, " \t\r\n");
	v = rint(v);
	if (*end != '\0') {
		snprintf(err, err_size, "not a number");
		return -1;
	}
	if (v < g->min || v > g->max) {
		snprintf(err, err_size, "outside %d .. %d", g->min, g->max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* PostgreSQL's reading of a boolean (parse_bool()): a prefix of "true",
 * "false", "yes" or "no", "on", "off" (two letters at least), 1 or 0. */
static int
parse_bool_value(const char *text, bool *out)
{
	static const struct { const char *word; size_t min; bool value; } words[] = {
		{ "true", 1, true }, { "false", 1, false }, { "yes", 1, true }, { "no", 1, false },
		{ "on", 2, true }, { "off", 2, false }, { "1", 1, true }, { "0", 1, false },
	};
	size_t len = strlen(text);

	for (size_t word_idx = 0; word_idx < sizeof(words) / sizeof(words[0]); word_idx++)
		if (len >= words[word_idx].min && len <= strlen(words[word_idx].word) &&
		    strncasecmp(text, words[word_idx].word, len) == 0) {
			*out = words[word_idx].value;
			return 0;
		}
	return -1;
}

/* The value of `guc`, or NULL when it is not set (the module's default). */
static const char *
value_of(const struct pitr_check_module *m, enum pitr_check_guc guc)
{
	const char *v = m->values[guc];

	return v != NULL && *v != '\0' ? v : NULL;
}

/* List number `idx` (0..2) of setting `guc` into *items, *n. */
static int
read_list(struct pitr_check_module *m, int idx, enum pitr_check_guc guc, const char ***items,
	  size_t *n, char *err, size_t err_size)
{
	const char *v = value_of(m, guc);
	char quote = pitr_itemlist_open_quote(v);

	*items = NULL;
	*n = 0;
	if (quote != '\0') {
		snprintf(err, err_size, "%s \"%s\" has an unterminated %c quote (the module refuses "
			 "it)", pitr_check_module_gucs[guc], v, quote);
		return -1;
	}
	if (v == NULL)
		return 0;
	/* malloc, not pitr_xmalloc: the caller says the one line. */
	m->text[idx] = malloc(strlen(v) + 1);
	m->items[idx] = calloc(pitr_itemlist_max_items(v), sizeof(*m->items[idx]));
	if (m->text[idx] == NULL || m->items[idx] == NULL) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	*n = pitr_itemlist_split(v, m->text[idx], m->items[idx]);
	*items = *n > 0 ? m->items[idx] : NULL;
	return 0;
}

static int
read_ints(struct pitr_check_module *m, char *err, size_t err_size)
{
	int *fields[PITR_CHECK_GUC_COUNT] = {
		[PITR_CHECK_GUC_RSYNC_TIMEOUT] = &m->a.rsync_timeout,
		[PITR_CHECK_GUC_PIPE_TIMEOUT] = &m->a.pipe_timeout,
		[PITR_CHECK_GUC_PARALLEL_JOBS] = &m->a.parallel_jobs,
		[PITR_CHECK_GUC_LOOK_AHEAD] = &m->a.look_ahead,
		[PITR_CHECK_GUC_JOBS] = &m->a.jobs,
		[PITR_CHECK_GUC_S3_TIMEOUT] = &m->a.s3.stall_timeout,
		[PITR_CHECK_GUC_S3_RETRIES] = &m->a.s3.retries,
	};
	char why[128];

	for (size_t int_idx = 0; int_idx < sizeof(int_gucs) / sizeof(int_gucs[0]); int_idx++) {
		const struct int_guc *g = &int_gucs[int_idx];
		const char *v = value_of(m, g->guc);

		*fields[g->guc] = g->dflt;
		if (v != NULL && parse_int_value(v, g, fields[g->guc], why, sizeof(why)) != 0) {
			snprintf(err, err_size, "%s is \"%s\": %s (the module refuses it)",
				 pitr_check_module_gucs[g->guc], v, why);
			return -1;
		}
	}
	return 0;
}

/* Boolean setting `guc` into *out (false when not set). */
static int
read_bool(const struct pitr_check_module *m, enum pitr_check_guc guc, bool *out, char *err,
	  size_t err_size)
{
	const char *v = value_of(m, guc);

	*out = false;
	if (v == NULL || parse_bool_value(v, out) == 0)
		return 0;
	snprintf(err, err_size, "%s is \"%s\": not a boolean (the module refuses it)",
		 pitr_check_module_gucs[guc], v);
	return -1;
}

/* s3_uri_style, an enum GUC: "host" or "path", any case (PostgreSQL's
 * config_enum_lookup_by_name()). */
static int
read_uri_style(const struct pitr_check_module *m, bool *path_style, char *err, size_t err_size)
{
	const char *v = value_of(m, PITR_CHECK_GUC_S3_URI_STYLE);

	*path_style = v != NULL && strcasecmp(v, "path") == 0;
	if (v == NULL || *path_style || strcasecmp(v, "host") == 0)
		return 0;
	snprintf(err, err_size, "%s is \"%s\": not \"host\" or \"path\" (the module refuses it)",
		 pitr_check_module_gucs[PITR_CHECK_GUC_S3_URI_STYLE], v);
	return -1;
}

int
pitr_check_module_opts(struct pitr_check_module *m, char *err, size_t err_size)
{
	struct pitr_archive_opts *a = &m->a;

	memset(a, 0, sizeof(*a));
	if (read_list(m, 0, PITR_CHECK_GUC_DST_LOCAL, &a->dst_local, &a->ndst_local, err,
		      err_size) != 0 ||
	    read_list(m, 1, PITR_CHECK_GUC_DST_REMOTE, &a->dst_remote, &a->ndst_remote, err,
		      err_size) != 0 ||
	    read_list(m, 2, PITR_CHECK_GUC_DST_PIPE, &a->dst_pipe, &a->ndst_pipe, err,
		      err_size) != 0 ||
	    read_ints(m, err, err_size) != 0 ||
	    read_bool(m, PITR_CHECK_GUC_NOT_NICE, &a->not_nice, err, err_size) != 0 ||
	    read_bool(m, PITR_CHECK_GUC_S3_NO_VERIFY_TLS, &a->s3.no_verify_tls, err,
		      err_size) != 0 ||
	    read_uri_style(m, &a->s3.path_style, err, err_size) != 0)
		return -1;
	a->s3.endpoint = value_of(m, PITR_CHECK_GUC_S3_ENDPOINT);
	a->s3.region = value_of(m, PITR_CHECK_GUC_S3_REGION);
	a->s3.ca_file = value_of(m, PITR_CHECK_GUC_S3_CA_FILE);
	a->dst_backup = value_of(m, PITR_CHECK_GUC_DST_BACKUP);
	a->state_dir = value_of(m, PITR_CHECK_GUC_STATE_DIR);
	a->temp_dir = value_of(m, PITR_CHECK_GUC_TEMP_DIR);
	a->rsync_path = value_of(m, PITR_CHECK_GUC_RSYNC_PATH);
	return 0;
}

void
pitr_check_module_free(struct pitr_check_module *m)
{
	for (size_t guc = 0; guc < PITR_CHECK_GUC_COUNT; guc++)
		free(m->values[guc]);
	for (size_t list = 0; list < 3; list++) {
		free(m->text[list]);
		free((void *)m->items[list]);
	}
	memset(m, 0, sizeof(*m));
}
