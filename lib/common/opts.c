/*
 * opts.c - one option table feeding the command-line parser, the
 * config-file reader and --help (see opts.h).
 *
 * The allocation-failure branches are the only ones t/check_opts.c does not
 * reach: making malloc fail on cue would need an interposer.
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/opts.h"
#include "common/xalloc.h"

#ifndef PITR_VERSION
#define PITR_VERSION "unknown"
#endif

/* Room for one error message; long values are truncated, which a log line
 * (8 KiB) would do anyway. */
#define ERR_MAX 4096

/* Aliases of at most this many characters are OmniPITR's short spellings
 * (-dl, -?, -rcp), shown with one dash in --help. */
#define SHORT_ALIAS_MAX 3

/* --help pads the spellings to this column at most, so that one very long
 * spelling does not push every help text to the right. */
#define HELP_COLUMN_MAX 40

/* What one argv element turned out to be. */
enum arg_class {
	ARG_OPTION,    /* an option, with its value if it takes one */
	ARG_OPERAND,   /* not an option ("-" and "" included) */
	ARG_END,       /* "--": everything after it is an operand */
	ARG_ERROR,     /* err holds the message */
};

/* Whether options of `kind` take a value (and so the next argument when
 * it is not given with '='). */
static bool
kind_takes_value(enum pitr_opt_kind kind)
{
	switch (kind) {
	case PITR_OPT_STRING:
	case PITR_OPT_LIST:
	case PITR_OPT_INT:
	case PITR_OPT_IGNORED:
	case PITR_OPT_CONFIG:
		return true;
	case PITR_OPT_FLAG:
	case PITR_OPT_OPTIONAL:
	case PITR_OPT_HELP:
	case PITR_OPT_VERSION:
		return false;
	}
	assert(!"unknown option kind");
	return false;
}

/* Step through the space-separated alias list: returns the next alias and
 * its length in *len, advancing *pos, or NULL at the end. */
static const char *
next_alias(const char **pos, size_t *len)
{
	const char *start;

	if (*pos == NULL)
		return NULL;
	start = *pos + strspn(*pos, " ");
	if (*start == '\0')
		return NULL;
	*len = strcspn(start, " ");
	*pos = start + *len;
	return start;
}

/* True if the space-separated `aliases` hold exactly `name[0..len)`. */
static bool
aliases_have(const char *aliases, const char *name, size_t len)
{
	const char *pos = aliases;
	const char *alias;
	size_t alen;

	while ((alias = next_alias(&pos, &alen)) != NULL)
		if (alen == len && memcmp(alias, name, len) == 0)
			return true;
	return false;
}

/* Index of the definition spelt `name[0..len)` (long name or alias, exact
 * and case-sensitive: OmniPITR has both -d and -D), or -1. */
static long
find_spelling(const struct pitr_opt_def *defs, size_t ndefs, const char *name, size_t len)
{
	if (len == 0)
		return -1;
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		if (strlen(defs[def_idx].name) == len && memcmp(defs[def_idx].name, name, len) == 0)
			return (long)def_idx;
		if (aliases_have(defs[def_idx].aliases, name, len))
			return (long)def_idx;
	}
	return -1;
}

/* Assert that no spelling names two options: with the table's first match
 * winning, a duplicate would silently hide an option. */
static void
assert_table_sane(const struct pitr_opt_def *defs, size_t ndefs)
{
#ifndef NDEBUG
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		const char *pos = defs[def_idx].aliases;
		const char *alias;
		size_t alen;

		assert(defs[def_idx].name != NULL && defs[def_idx].name[0] != '\0');
		(void)kind_takes_value(defs[def_idx].kind);
		assert(find_spelling(defs, ndefs, defs[def_idx].name,
				     strlen(defs[def_idx].name)) == (long)def_idx);
		while ((alias = next_alias(&pos, &alen)) != NULL)
			assert(find_spelling(defs, ndefs, alias, alen) == (long)def_idx);
	}
#else
	(void)defs;
	(void)ndefs;
#endif
}

/*
 * Parse `str` as a decimal long in [min, max] into *out; on failure write
 * the uniform message to err and return -1.  `optname` is shown with "--"
 * in front unless it already starts with a dash, so callers may pass the
 * table name or the spelling.
 */
static int
parse_int(const char *optname, const char *str, long min, long max, long *out, char *err,
	  size_t errsize)
{
	const char *dashes = optname[0] == '-' ? "" : "--";
	char *end = NULL;
	long val;

	/* strtol would skip leading blanks and accept "": neither is a number
	 * someone meant. */
	if (str[0] != '\0' && !isspace((unsigned char)str[0])) {
		errno = 0;
		val = strtol(str, &end, 10);
		if (errno == 0 && *end == '\0' && val >= min && val <= max) {
			*out = val;
			return 0;
		}
	}
	snprintf(err, errsize,
		 "invalid value \"%s\" for option \"%s%s\": expected an integer from %ld to %ld",
		 str, dashes, optname, min, max);
	return -1;
}

int
pitr_opts_parse_int(const char *optname, const char *str, long min, long max, long *out)
{
	char err[ERR_MAX];

	assert(optname != NULL && str != NULL && out != NULL);
	if (parse_int(optname, str, min, max, out, err, sizeof(err)) != 0) {
		pitr_log_error("%s", err);
		return -1;
	}
	return 0;
}

/* Append `item` to the array *arr of *n strings.  Returns 0 or -1 (out of
 * memory, logged). */
static int
append_str(const char ***arr, size_t *n, const char *item)
{
	const char **grown = pitr_xreallocarray(*arr, *n + 1, sizeof(*grown));

	if (grown == NULL)
		return -1;
	grown[(*n)++] = item;
	*arr = grown;
	return 0;
}

/*
 * Record one occurrence of option `def_idx` with `value` (NULL for kinds
 * without one).  `value` must outlive `o` (argv or o->owned).  Returns 0;
 * -1 with the message in err for a bad value; -2 when out of memory, which
 * is logged here because it is not the input's fault.
 */
static int
apply(struct pitr_opts *o, size_t def_idx, const char *value, char *err, size_t errsize)
{
	const struct pitr_opt_def *def = &o->defs[def_idx];
	struct pitr_opt_value *val = &o->values[def_idx];

	switch (def->kind) {
	case PITR_OPT_FLAG:
		break;
	case PITR_OPT_OPTIONAL:
		/* A bare occurrence keeps a value given earlier. */
		if (value != NULL)
			val->str = value;
		break;
	case PITR_OPT_HELP:
		o->help = true;
		break;
	case PITR_OPT_VERSION:
		o->version = true;
		break;
	case PITR_OPT_INT:
		if (parse_int(def->name, value, def->min, def->max, &val->num, err, errsize) != 0)
			return -1;
		val->str = value;
		break;
	case PITR_OPT_STRING:
	case PITR_OPT_IGNORED:
	case PITR_OPT_CONFIG:
		val->str = value;
		break;
	case PITR_OPT_LIST:
		if (append_str(&val->list, &val->nlist, value) != 0)
			return -2;
		break;
	}
	val->count++;
	return 0;
}

/*
 * Check that option `def_idx`, given a value (has_value) or not, is used
 * properly.  Returns 0 or -1 with the message in err.
 */
static int
check_value(const struct pitr_opts *o, size_t def_idx, bool has_value, const char *value,
	    char *err, size_t errsize)
{
	const struct pitr_opt_def *def = &o->defs[def_idx];

	if (def->kind == PITR_OPT_OPTIONAL) {
		if (has_value && value[0] == '\0') {
			snprintf(err, errsize, "option \"--%s\" has an empty value", def->name);
			return -1;
		}
		return 0;
	}
	if (!kind_takes_value(def->kind)) {
		if (has_value) {
			snprintf(err, errsize, "option \"--%s\" does not take a value", def->name);
			return -1;
		}
		return 0;
	}
	/* "--dst-local=" is as good as nothing, as in Getopt::Long; so is an
	 * empty next argument, which no option has a use for. */
	if (!has_value || value[0] == '\0') {
		snprintf(err, errsize, "option \"--%s\" requires a value", def->name);
		return -1;
	}
	return 0;
}

/*
 * Classify argv[*argi] and step *argi past it, and past the next argument
 * too when that is the option's value (a mandatory value takes the next
 * argument whatever it looks like, as Getopt::Long does).  For ARG_OPTION,
 * *def_idx and *value (NULL for flags) are set.
 */
static enum arg_class
next_arg(const struct pitr_opts *o, int argc, char **argv, int *argi, size_t *def_idx,
	 const char **value, char *err, size_t errsize)
{
	const char *arg = argv[(*argi)++];
	const char *name = arg;
	const char *eq;
	size_t namelen;
	long found;

	*value = NULL;
	if (strcmp(arg, "--") == 0)
		return ARG_END;
	if (arg[0] != '-' || arg[1] == '\0')
		return ARG_OPERAND;
	name += name[1] == '-' ? 2 : 1;
	eq = strchr(name, '=');
	namelen = eq != NULL ? (size_t)(eq - name) : strlen(name);
	found = find_spelling(o->defs, o->ndefs, name, namelen);
	if (found < 0) {
		snprintf(err, errsize, "unknown option \"%.*s\"", (int)(name - arg + (long)namelen),
			 arg);
		return ARG_ERROR;
	}
	*def_idx = (size_t)found;
	if (eq != NULL) {
		*value = eq + 1;
	} else if (kind_takes_value(o->defs[found].kind) && *argi < argc) {
		*value = argv[(*argi)++];
	}
	if (check_value(o, *def_idx, *value != NULL, *value, err, errsize) != 0)
		return ARG_ERROR;
	return ARG_OPTION;
}

/* Keep `str` (malloc'd) until pitr_opts_free(), which frees it; on failure
 * it is freed at once.  Returns 0 or -1 (logged). */
static int
own(struct pitr_opts *o, char *str)
{
	char **grown = pitr_xreallocarray(o->owned, o->nowned + 1, sizeof(*grown));

	if (grown == NULL) {
		free(str);
		return -1;
	}
	grown[o->nowned++] = str;
	o->owned = grown;
	return 0;
}

/*
 * Apply one config file line (trailing newline included).  Returns 0 (also
 * for blank and comment lines), -1 with the message in err, or -2 for an
 * error already logged.
 */
static int
config_line(struct pitr_opts *o, char *line, char *err, size_t errsize)
{
	size_t len = strlen(line);
	char *typed, *name, *value = NULL;
	char *copy;
	size_t namelen;
	long found;

	while (len > 0 && isspace((unsigned char)line[len - 1]))
		line[--len] = '\0';
	typed = line + strspn(line, " \t");
	if (*typed == '\0' || *typed == '#')
		return 0;
	name = typed;
	if (name[0] == '-')
		name += name[1] == '-' ? 2 : 1;
	namelen = strcspn(name, " \t=");
	if (name[namelen] != '\0') {
		/* Only the first separator counts: "dr gzip=rsync://h/m/". */
		value = name + namelen + 1;
		value += strspn(value, " \t");
	}
	found = find_spelling(o->defs, o->ndefs, name, namelen);
	if (found < 0) {
		snprintf(err, errsize, "unknown option \"%.*s\"", (int)(name - typed + (long)namelen),
			 typed);
		return -1;
	}
	if (o->defs[found].kind == PITR_OPT_CONFIG) {
		snprintf(err, errsize, "option \"--%s\" cannot be used in a config file",
			 o->defs[found].name);
		return -1;
	}
	if (check_value(o, (size_t)found, value != NULL, value, err, errsize) != 0)
		return -1;
	if (value != NULL) {
		if ((copy = pitr_xstrdup(value)) == NULL || own(o, copy) != 0)
			return -2;
		value = copy;
	}
	return apply(o, (size_t)found, value, err, errsize);
}

/* Read the options of config file `path` into `o`.  Returns 0 or -1
 * (logged, naming the file, and the line if one is bad). */
static int
read_config(struct pitr_opts *o, const char *path)
{
	FILE *fp = NULL;
	char *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	char err[ERR_MAX];
	int rc = -1;
	int lrc;

	fp = fopen(path, "r");
	if (fp == NULL) {
		pitr_log_error("could not read config file \"%s\": %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, fp) < 0)
			break;
		lineno++;
		lrc = config_line(o, line, err, sizeof(err));
		if (lrc == -1)
			pitr_log_error("invalid line %lu in config file \"%s\": %s", lineno, path,
				       err);
		if (lrc != 0)
			goto out;
	}
	if (ferror(fp)) {
		pitr_log_error("could not read config file \"%s\": %s", path,
			       strerror(errno != 0 ? errno : EIO));
		goto out;
	}
	rc = 0;
out:
	free(line);
	if (fp != NULL)
		fclose(fp);
	return rc;
}

/*
 * Read the config files named on the command line, in their order, before
 * anything else, so that command-line options come after them.  Stops
 * quietly at the first bad argument: the main pass reports it, after the
 * config files that came before it, so errors come out in argv order.
 */
static int
read_configs(struct pitr_opts *o, int argc, char **argv)
{
	char err[ERR_MAX];
	int argi = 1;

	while (argi < argc) {
		size_t def_idx = 0;
		const char *value;

		switch (next_arg(o, argc, argv, &argi, &def_idx, &value, err, sizeof(err))) {
		case ARG_OPTION:
			if (o->defs[def_idx].kind != PITR_OPT_CONFIG)
				break;
			if (read_config(o, value) != 0)
				return -1;
			/* Only records the file name: it cannot fail. */
			(void)apply(o, def_idx, value, err, sizeof(err));
			break;
		case ARG_OPERAND:
			break;
		case ARG_END:
		case ARG_ERROR:
			return 0;
		}
	}
	return 0;
}

int
pitr_opts_parse(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs, int argc,
		char **argv)
{
	char err[ERR_MAX];
	bool options_ended = false;
	int argi = 1;

	assert(o != NULL && defs != NULL && argc >= 1 && argv != NULL);
	memset(o, 0, sizeof(*o));
	assert_table_sane(defs, ndefs);
	o->defs = defs;
	o->ndefs = ndefs;
	o->values = pitr_xcalloc(ndefs, sizeof(*o->values));
	if (o->values == NULL)
		return -1;
	if (read_configs(o, argc, argv) != 0)
		return -1;
	while (argi < argc) {
		enum arg_class cls = ARG_OPERAND;
		size_t def_idx = 0;
		const char *value = NULL;
		const char *arg = argv[argi];

		if (options_ended)
			argi++;
		else
			cls = next_arg(o, argc, argv, &argi, &def_idx, &value, err, sizeof(err));
		switch (cls) {
		case ARG_OPTION:
			/* Config files were read by read_configs(). */
			if (o->defs[def_idx].kind == PITR_OPT_CONFIG)
				break;
			switch (apply(o, def_idx, value, err, sizeof(err))) {
			case 0:
				break;
			case -1:
				pitr_log_error("%s", err);
				return -1;
			default:
				return -1;
			}
			break;
		case ARG_OPERAND:
			if (append_str(&o->operands, &o->noperands, arg) != 0)
				return -1;
			break;
		case ARG_END:
			options_ended = true;
			break;
		case ARG_ERROR:
			pitr_log_error("%s", err);
			return -1;
		}
	}
	return 0;
}

void
pitr_opts_free(struct pitr_opts *o)
{
	if (o == NULL)
		return;
	if (o->values != NULL)
		for (size_t def_idx = 0; def_idx < o->ndefs; def_idx++)
			free(o->values[def_idx].list);
	free(o->values);
	free(o->operands);
	for (size_t own_idx = 0; own_idx < o->nowned; own_idx++)
		free(o->owned[own_idx]);
	free(o->owned);
	memset(o, 0, sizeof(*o));
}

const struct pitr_opt_value *
pitr_opts_get(const struct pitr_opts *o, const char *name)
{
	assert(o != NULL && name != NULL && o->values != NULL);
	for (size_t def_idx = 0; def_idx < o->ndefs; def_idx++)
		if (strcmp(o->defs[def_idx].name, name) == 0)
			return &o->values[def_idx];
	assert(!"option name not in the table");
	return NULL;
}

const char *
pitr_opts_str(const struct pitr_opts *o, const char *name)
{
	return pitr_opts_get(o, name)->str;
}

bool
pitr_opts_flag(const struct pitr_opts *o, const char *name)
{
	return pitr_opts_get(o, name)->count > 0;
}

long
pitr_opts_int(const struct pitr_opts *o, const char *name, long dflt)
{
	const struct pitr_opt_value *val = pitr_opts_get(o, name);

	return val->count > 0 ? val->num : dflt;
}

const char **
pitr_opts_list(const struct pitr_opts *o, const char *name, size_t *n)
{
	const struct pitr_opt_value *val = pitr_opts_get(o, name);

	if (n != NULL)
		*n = val->nlist;
	return val->list;
}

/* Append printf output to buf[*used..size), truncating quietly. */
static void __attribute__((format(printf, 4, 5)))
buf_add(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used + 1 >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used = *used + (size_t)n < size ? *used + (size_t)n : size - 1;
}

/*
 * Write the spellings of `def` as a user types them into buf: the leading
 * short aliases with one dash, the long name, the other aliases with two
 * dashes ("-dl, --dst-local=DIR", "--config-file, --config, --cfg=FILE"),
 * then "=ARG" for options with a value ("[=ARG]" when it is optional).
 * The short ones are the aliases of at most SHORT_ALIAS_MAX characters
 * before the first longer one, so a table lists OmniPITR's "dl" first, and
 * long synonyms after a long one (even a short word like "cfg", which
 * OmniPITR documents as --cfg).
 * Returns the length written (truncated to size).
 */
static size_t
format_spellings(const struct pitr_opt_def *def, char *buf, size_t size)
{
	const char *pos = def->aliases;
	const char *alias;
	size_t alen, nshort = 0, alias_idx = 0, used = 0;

	buf[0] = '\0';
	while ((alias = next_alias(&pos, &alen)) != NULL && alen <= SHORT_ALIAS_MAX) {
		buf_add(buf, size, &used, "-%.*s, ", (int)alen, alias);
		nshort++;
	}
	buf_add(buf, size, &used, "--%s", def->name);
	pos = def->aliases;
	while ((alias = next_alias(&pos, &alen)) != NULL)
		if (alias_idx++ >= nshort)
			buf_add(buf, size, &used, ", --%.*s", (int)alen, alias);
	if (kind_takes_value(def->kind))
		buf_add(buf, size, &used, "=%s", def->argname != NULL ? def->argname : "VALUE");
	else if (def->kind == PITR_OPT_OPTIONAL)
		buf_add(buf, size, &used, "[=%s]", def->argname != NULL ? def->argname : "VALUE");
	return used;
}

void
pitr_opts_print_help(FILE *fp, const char *progname, const char *usage,
		     const struct pitr_opt_def *defs, size_t ndefs)
{
	char spell[512];
	int column = 0;

	/* The usage text names the program itself, as the caller words it. */
	(void)progname;
	fprintf(fp, "Usage: %s\n", usage);
	fprintf(fp, "Options:\n");
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		int len = (int)format_spellings(&defs[def_idx], spell, sizeof(spell));

		if (len > column && len <= HELP_COLUMN_MAX)
			column = len;
	}
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		format_spellings(&defs[def_idx], spell, sizeof(spell));
		if (defs[def_idx].help != NULL)
			fprintf(fp, "  %-*s  %s\n", column, spell, defs[def_idx].help);
		else
			fprintf(fp, "  %s\n", spell);
	}
}

void
pitr_opts_print_version(FILE *fp, const char *progname)
{
	const char *slash = strrchr(progname, '/');

	/* argv[0] may be a path; the program's name is its last part. */
	fprintf(fp, "%s (pitrkit) %s\n", slash != NULL ? slash + 1 : progname, PITR_VERSION);
}

/* The last --log value on the command line, ignoring every error: the
 * strict parse that follows reports them, into this log. */
static const char *
prescan_log(const struct pitr_opt_def *defs, size_t ndefs, int argc, char **argv)
{
	struct pitr_opts probe = { .defs = defs, .ndefs = ndefs };
	const char *log = NULL;
	char err[ERR_MAX];
	int argi = 1;

	while (argi < argc) {
		size_t def_idx = 0;
		const char *value = NULL;

		switch (next_arg(&probe, argc, argv, &argi, &def_idx, &value, err, sizeof(err))) {
		case ARG_OPTION:
			if (strcmp(defs[def_idx].name, "log") == 0)
				log = value;
			break;
		case ARG_END:
			return log;
		case ARG_OPERAND:
		case ARG_ERROR:
			break;
		}
	}
	return log;
}

int
pitr_opts_begin(struct pitr_opts *o, const char *progname, const char *usage,
		const struct pitr_opt_def *defs, size_t ndefs, int argc, char **argv)
{
	if (pitr_log_open(progname, prescan_log(defs, ndefs, argc, argv), false) != 0)
		return -1;
	pitr_log_tee_stderr(true);
	if (pitr_opts_parse(o, defs, ndefs, argc, argv) != 0)
		return -1;
	if (o->help) {
		pitr_opts_print_help(stdout, progname, usage, defs, ndefs);
		return 1;
	}
	if (o->version) {
		pitr_opts_print_version(stdout, progname);
		return 1;
	}
	if (pitr_log_open(progname, pitr_opts_str(o, "log"), pitr_opts_flag(o, "verbose")) != 0)
		return -1;
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++)
		if (defs[def_idx].kind == PITR_OPT_IGNORED && o->values[def_idx].count > 0)
			pitr_log_verbose("--%s ignored: %s does this work in-process", defs[def_idx].name,
					 progname);
	return 0;
}
