/*
 * opts.c - one option table feeding the command-line parser and the
 * config-file reader (see opts.h); --help and --version are printed by
 * opts_help.c.
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
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/opts.h"
#include "common/opts_impl.h"
#include "common/sigclean.h"
#include "common/xalloc.h"

/* Room for one error message; long values are truncated, which a log line
 * (8 KiB) would do anyway. */
#define ERR_MAX 4096

/* What one argv element turned out to be. */
enum arg_class {
	ARG_OPTION,    /* an option, with its value if it takes one */
	ARG_OPERAND,   /* not an option ("-" and "" included) */
	ARG_END,       /* "--": everything after it is an operand */
	ARG_ERROR,     /* err holds the message */
};

void
pitr_opts_buf_add(char *buf, size_t size, size_t *used, const char *fmt, ...)
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

bool
pitr_opts_kind_takes_value(enum pitr_opt_kind kind)
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

const char *
pitr_opts_next_alias(const char **pos, size_t *len)
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

	while ((alias = pitr_opts_next_alias(&pos, &alen)) != NULL)
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

/* The one message for an unknown option: what was typed (`shown`, its
 * first `shown_len` bytes) and the nearest known spelling, if one is near. */
static void
unknown_option(const struct pitr_opts *o, const char *shown, size_t shown_len, const char *name,
	       size_t namelen, char *err, size_t errsize)
{
	size_t used = 0;

	pitr_opts_buf_add(err, errsize, &used, "unknown option \"%.*s\"", (int)shown_len, shown);
	pitr_opts_add_hint(o->defs, o->ndefs, name, namelen, err, errsize, &used);
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

/* Index of `value` among the '|'-separated `choices`, or -1. */
static int
choice_index(const char *choices, const char *value)
{
	size_t vlen = strlen(value);
	int idx = 0;

	for (const char *pos = choices;; pos++, idx++) {
		size_t len = strcspn(pos, "|");

		if (len == vlen && memcmp(pos, value, len) == 0)
			return idx;
		pos += len;
		if (*pos == '\0')
			return -1;
	}
}

/* Write the uniform message for a value not among `choices` into err:
 * the choices listed as "a, b or c". */
static void
choice_error(const char *optname, const char *value, const char *choices, char *err,
	     size_t errsize)
{
	size_t used = 0;

	pitr_opts_buf_add(err, errsize, &used, "invalid value \"%s\" for option \"--%s\": expected ", value,
		optname);
	for (const char *pos = choices;; pos++) {
		size_t len = strcspn(pos, "|");

		pitr_opts_buf_add(err, errsize, &used, "%.*s", (int)len, pos);
		pos += len;
		if (*pos == '\0')
			break;
		pitr_opts_buf_add(err, errsize, &used, "%s", strchr(pos + 1, '|') != NULL ? ", " : " or ");
	}
}

int
pitr_opts_check_choice(const char *optname, const char *value, const char *choices)
{
	char err[ERR_MAX];
	int idx;

	assert(optname != NULL && value != NULL && choices != NULL);
	idx = choice_index(choices, value);
	if (idx < 0) {
		choice_error(optname, value, choices, err, sizeof(err));
		pitr_log_error("%s", err);
	}
	return idx;
}

/* Assert that `def`'s default, choices and required fit its kind: a
 * default must be a value the parser would take. */
static void
assert_row_sane(const struct pitr_opt_def *def)
{
#ifndef NDEBUG
	char err[ERR_MAX];
	long num;

	assert(def->dflt == NULL || def->kind == PITR_OPT_STRING || def->kind == PITR_OPT_INT);
	assert(def->dflt == NULL || def->dflt_doc == NULL);
	assert(def->dflt == NULL || def->kind != PITR_OPT_INT ||
	       parse_int(def->name, def->dflt, def->min, def->max, &num, err, sizeof(err)) == 0);
	assert(def->choices == NULL || def->kind == PITR_OPT_STRING);
	assert(def->choices == NULL || def->dflt == NULL || choice_index(def->choices, def->dflt) >= 0);
	assert(def->required == NULL || def->dflt == NULL);
	assert(def->required == NULL || def->kind == PITR_OPT_STRING || def->kind == PITR_OPT_INT ||
	       def->kind == PITR_OPT_LIST);
#else
	(void)def;
#endif
}

/* Assert that no spelling names two options (with the table's first match
 * winning, a duplicate would silently hide an option) and that every row
 * is sane. */
static void
assert_table_sane(const struct pitr_opt_def *defs, size_t ndefs)
{
#ifndef NDEBUG
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++) {
		const char *pos = defs[def_idx].aliases;
		const char *alias;
		size_t alen;

		assert(defs[def_idx].name != NULL && defs[def_idx].name[0] != '\0');
		(void)pitr_opts_kind_takes_value(defs[def_idx].kind);
		assert(find_spelling(defs, ndefs, defs[def_idx].name,
				     strlen(defs[def_idx].name)) == (long)def_idx);
		while ((alias = pitr_opts_next_alias(&pos, &alen)) != NULL)
			assert(find_spelling(defs, ndefs, alias, alen) == (long)def_idx);
		assert_row_sane(&defs[def_idx]);
	}
#else
	(void)defs;
	(void)ndefs;
#endif
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
		if (def->choices != NULL && choice_index(def->choices, value) < 0) {
			choice_error(def->name, value, def->choices, err, errsize);
			return -1;
		}
		val->str = value;
		break;
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
	if (!pitr_opts_kind_takes_value(def->kind)) {
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
		unknown_option(o, arg, (size_t)(name - arg) + namelen, name, namelen, err, errsize);
		return ARG_ERROR;
	}
	*def_idx = (size_t)found;
	if (eq != NULL) {
		*value = eq + 1;
	} else if (pitr_opts_kind_takes_value(o->defs[found].kind) && *argi < argc) {
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
 * Apply one config file line of `read` bytes (trailing newline included).
 * Returns 0 (also for blank and comment lines), -1 with the message in err,
 * or -2 for an error already logged.
 */
static int
config_line(struct pitr_opts *o, char *line, size_t read, char *err, size_t errsize)
{
	size_t len = strlen(line);
	char *typed, *name, *value = NULL;
	char *copy;
	size_t namelen;
	long found;

	/* Everything after a NUL would be dropped without a word. */
	if (len != read) {
		snprintf(err, errsize, "contains a NUL byte");
		return -1;
	}
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
		unknown_option(o, typed, (size_t)(name - typed) + namelen, name, namelen, err, errsize);
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

/* Open config file `path`, vetted by the guard if there is one: the
 * stat is of the open file, so a swap after the check changes nothing,
 * and the open does not wait (a FIFO named to hang us is refused). NULL
 * after logging. */
static FILE *
open_config(const struct pitr_opts *o, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (o->guard != NULL ? O_NONBLOCK : 0));
	struct stat st;
	FILE *fp;

	if (fd < 0) {
		pitr_log_error("could not read config file \"%s\": %s", path, strerror(errno));
		return NULL;
	}
	if (o->guard != NULL && fstat(fd, &st) != 0) {
		pitr_log_error("could not stat config file \"%s\": %s", path, strerror(errno));
	} else if (o->guard != NULL && o->guard->vet(path, &st, o->guard->arg) != 0) {
		/* vet() said why. */
	} else if ((fp = fdopen(fd, "r")) == NULL) {
		pitr_log_error("could not read config file \"%s\": %s", path, strerror(errno));
	} else {
		return fp;
	}
	close(fd);
	return NULL;
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
	ssize_t nread;

	if ((fp = open_config(o, path)) == NULL)
		goto out;
	for (;;) {
		errno = 0;
		if ((nread = getline(&line, &cap, fp)) < 0)
			break;
		lineno++;
		lrc = config_line(o, line, (size_t)nread, err, sizeof(err));
		/* A guarded file's text is not the reader's to see. */
		if (lrc == -1 && o->guard != NULL)
			pitr_log_error("invalid line %lu in config file \"%s\"", lineno, path);
		else if (lrc == -1)
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

/*
 * After parsing: give every absent option its table default, then refuse
 * the first absent required one (not when --help or --version was asked:
 * they need nothing).  Returns 0 or -1 (logged).
 */
static int
finish(struct pitr_opts *o)
{
	char err[ERR_MAX];

	for (size_t def_idx = 0; def_idx < o->ndefs; def_idx++) {
		const struct pitr_opt_def *def = &o->defs[def_idx];
		struct pitr_opt_value *val = &o->values[def_idx];

		if (val->count > 0 || def->dflt == NULL)
			continue;
		val->str = def->dflt;
		if (def->kind == PITR_OPT_INT) {
			/* assert_table_sane() checked that it parses. */
			int prc = parse_int(def->name, def->dflt, def->min, def->max, &val->num,
					    err, sizeof(err));

			assert(prc == 0);
			(void)prc;
		}
	}
	if (o->help || o->version)
		return 0;
	for (size_t def_idx = 0; def_idx < o->ndefs; def_idx++) {
		if (o->defs[def_idx].required != NULL && o->values[def_idx].count == 0) {
			pitr_log_error("no --%s given: %s", o->defs[def_idx].name,
				       o->defs[def_idx].required);
			return -1;
		}
	}
	return 0;
}

int
pitr_opts_parse(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs, int argc,
		char **argv)
{
	return pitr_opts_parse_guarded(o, defs, ndefs, argc, argv, NULL);
}

int
pitr_opts_parse_guarded(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs,
			int argc, char **argv, const struct pitr_opts_guard *guard)
{
	char err[ERR_MAX];
	bool options_ended = false;
	/* The OPTIONAL option whose bare occurrence the last argument was. */
	long bare = -1;
	int argi = 1;

	assert(o != NULL && defs != NULL && argc >= 1 && argv != NULL);
	memset(o, 0, sizeof(*o));
	assert_table_sane(defs, ndefs);
	o->defs = defs;
	o->ndefs = ndefs;
	o->guard = guard;
	o->values = pitr_xcalloc(ndefs, sizeof(*o->values));
	if (o->values == NULL)
		return -1;
	for (size_t def_idx = 0; def_idx < ndefs; def_idx++)
		o->values[def_idx].next_operand = -1;
	if (read_configs(o, argc, argv) != 0)
		return -1;
	while (argi < argc) {
		enum arg_class cls = ARG_OPERAND;
		size_t def_idx = 0;
		const char *value = NULL;
		const char *arg = argv[argi];
		long after = bare;

		bare = -1;
		if (options_ended)
			argi++;
		else
			cls = next_arg(o, argc, argv, &argi, &def_idx, &value, err, sizeof(err));
		switch (cls) {
		case ARG_OPTION:
			/* Config files were read by read_configs(). */
			if (o->defs[def_idx].kind == PITR_OPT_CONFIG)
				break;
			if (o->defs[def_idx].kind == PITR_OPT_OPTIONAL && value == NULL)
				bare = (long)def_idx;
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
			if (after >= 0)
				o->values[after].next_operand = (long)o->noperands;
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
	return finish(o);
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
pitr_opts_int(const struct pitr_opts *o, const char *name)
{
	return pitr_opts_get(o, name)->num;
}

const char **
pitr_opts_list(const struct pitr_opts *o, const char *name, size_t *n)
{
	const struct pitr_opt_value *val = pitr_opts_get(o, name);

	if (n != NULL)
		*n = val->nlist;
	return val->list;
}

/* argv[0] of the last pitr_opts_begin(), whose name pitr_opts_no_operands()
 * follows. */
static const char *begun_argv0;

int
pitr_opts_no_operands(const struct pitr_opts *o, const char *progname)
{
	if (o->noperands == 0)
		return 0;
	pitr_log_error("unexpected argument \"%s\": %s takes only options", o->operands[0],
		       begun_argv0 != NULL ? pitr_opts_progname(progname, begun_argv0) : progname);
	return -1;
}

#define OMNIPITR_PREFIX "omnipitr-"
#define PITR_PREFIX "pitr-"

const char *
pitr_opts_progname(const char *fixed, const char *argv0)
{
	static char name[128];
	const char *base;

	if (argv0 == NULL || strncmp(fixed, PITR_PREFIX, strlen(PITR_PREFIX)) != 0)
		return fixed;
	base = strrchr(argv0, '/');
	base = base != NULL ? base + 1 : argv0;
	if (strncmp(base, OMNIPITR_PREFIX, strlen(OMNIPITR_PREFIX)) != 0 ||
	    strlen(OMNIPITR_PREFIX) + strlen(fixed) >= sizeof(name))
		return fixed;
	snprintf(name, sizeof(name), OMNIPITR_PREFIX "%s", fixed + strlen(PITR_PREFIX));
	return name;
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
			/* A LIST --log names logs to read (pitr-monitor), not one to write. */
			if (strcmp(defs[def_idx].name, "log") == 0 &&
			    defs[def_idx].kind == PITR_OPT_STRING)
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
	/* Run as omnipitr-NAME, the usage names the program so too. */
	const char *fixed = progname;
	char renamed[1024];

	begun_argv0 = argv[0];
	progname = pitr_opts_progname(fixed, argv[0]);
	if (progname != fixed) {
		pitr_sigclean_set_name(progname);
		if (strncmp(usage, fixed, strlen(fixed)) == 0 &&
		    snprintf(renamed, sizeof(renamed), "%s%s", progname, usage + strlen(fixed)) <
		    (int)sizeof(renamed))
			usage = renamed;
	}
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
