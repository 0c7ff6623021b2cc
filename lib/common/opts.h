/*
 * opts.h - command-line and config-file options, declared once per program.
 *
 * Each program has one table of struct pitr_opt_def.  The same table feeds
 * the command-line parser, the config-file reader (so a config line and a
 * flag cannot mean different things) and --help.
 *
 * Spellings, as OmniPITR (Perl Getopt::Long) accepted them: every name
 * works with one or two leading dashes, so `-dl`, `--dl`, `-dst-local` and
 * `--dst-local` are the same option; a value follows as `--opt=value` or as
 * the next argument.  Names are matched exactly (no abbreviations: OmniPITR
 * has short names that are prefixes of long ones).  Options and operands
 * may be mixed; `--` ends the options.
 *
 * --config-file / --config / --cfg FILE reads FILE first: one option per
 * line, written as on the command line with or without the dashes
 * ("--dst-local gzip=/mnt/a", "dl=/mnt/a", "verbose"); the value runs to the
 * end of the line unquoted, trailing spaces dropped; '#' comment lines and
 * blank lines are ignored.  Command-line options are added to it: a
 * repeatable option collects both, a single-valued one takes the command
 * line's value.
 */
#ifndef PITR_OPTS_H
#define PITR_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum pitr_opt_kind {
	PITR_OPT_FLAG,     /* no value; counts occurrences */
	PITR_OPT_STRING,   /* one value; the last one given wins */
	PITR_OPT_LIST,     /* repeatable value; all are kept in order */
	PITR_OPT_INT,      /* one integer value in [min, max] */
	PITR_OPT_OPTIONAL, /* a flag that may carry a value: only as --opt=VALUE (or
			    * "opt VALUE" in a config file), because the next
			    * argument cannot be told from an operand; the program
			    * decides what a following operand means
			    * (pitr-restore -r %r).  Counts like a flag; str is the
			    * last value given, or NULL */
	PITR_OPT_IGNORED,  /* takes a value that pitrkit does not need (--gzip-path) */
	PITR_OPT_CONFIG,   /* --config-file: read another option source */
	PITR_OPT_HELP,     /* -?/--help */
	PITR_OPT_VERSION,  /* -V/--version */
};

struct pitr_opt_def {
	const char *name;     /* long name without dashes: "dst-local" */
	const char *aliases;  /* other names, space separated: "dl"; NULL for none */
	enum pitr_opt_kind kind;
	const char *argname;  /* "DIR", shown in --help; NULL for flags */
	long min, max;        /* PITR_OPT_INT only */
	const char *help;     /* one line */
};

/* The entries every program has, to put at the end of its table. */
#define PITR_OPTS_COMMON                                                        \
	{ "config-file", "config cfg", PITR_OPT_CONFIG, "FILE", 0, 0,           \
	  "read options from FILE, one per line" },                             \
	{ "help", "?", PITR_OPT_HELP, NULL, 0, 0, "show this help and exit" },  \
	{ "version", "V", PITR_OPT_VERSION, NULL, 0, 0,                         \
	  "show the version and exit" }

struct pitr_opt_value {
	unsigned count;   /* times given */
	const char *str;  /* STRING/INT: the last value (points into argv or owned storage) */
	long num;         /* INT: the parsed value */
	const char **list;/* LIST: every value, in order */
	size_t nlist;
};

struct pitr_opts {
	const struct pitr_opt_def *defs;
	size_t ndefs;
	struct pitr_opt_value *values;   /* ndefs entries, parallel to defs */
	const char **operands;
	size_t noperands;
	bool help;                       /* --help was given */
	bool version;                    /* --version was given */
	char **owned;                    /* strings read from config files */
	size_t nowned;
};

/*
 * Parse argv (argv[0] is skipped) against `defs`, config files included.
 * Returns 0, or -1 after logging one error naming the option: unknown
 * option, missing value, bad integer, a value given to a flag, an
 * unreadable config file or a bad line in it (with file and line number).
 * On -1, `o` still needs pitr_opts_free().
 */
int pitr_opts_parse(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs,
		    int argc, char **argv);

/* Release what parse allocated; accepts a zeroed struct. */
void pitr_opts_free(struct pitr_opts *o);

/* Look an option up by its long name (must be in the table: a typo here is
 * a programmer error and asserts). */
const struct pitr_opt_value *pitr_opts_get(const struct pitr_opts *o, const char *name);

/* Convenience: value string or NULL; flag given; list and its length. */
const char *pitr_opts_str(const struct pitr_opts *o, const char *name);
bool pitr_opts_flag(const struct pitr_opts *o, const char *name);
long pitr_opts_int(const struct pitr_opts *o, const char *name, long dflt);
const char **pitr_opts_list(const struct pitr_opts *o, const char *name, size_t *n);

/*
 * Parse a decimal integer in [min, max] for option `optname`.  Returns 0,
 * or -1 after logging the one uniform message:
 *   invalid value "x" for option "--name": expected an integer from MIN to MAX
 */
int pitr_opts_parse_int(const char *optname, const char *str, long min, long max, long *out);

/* Print --help: `usage` line(s), then one line per option with all its
 * spellings and its help text. */
void pitr_opts_print_help(FILE *fp, const char *progname, const char *usage,
			  const struct pitr_opt_def *defs, size_t ndefs);

/*
 * The common start of every program's main(): open the log named by the
 * command line's --log (found by a lenient first pass, so that even an
 * option error reaches the log file as well as stderr), parse, and answer
 * --help (with `usage`) or --version on stdout.  Returns 1 when --help or
 * --version was answered (exit 0); 0 to go on, with the log open as the
 * final --log and --verbose say (and --verbose logs every PITR_OPT_IGNORED
 * option given); -1 after an option error was logged (exit
 * 1).  `o` needs pitr_opts_free() in every case.  The table must have
 * "log" and "verbose" entries.
 */
int pitr_opts_begin(struct pitr_opts *o, const char *progname, const char *usage,
		    const struct pitr_opt_def *defs, size_t ndefs, int argc, char **argv);

/* Print "PROGNAME (pitrkit) VERSION". */
void pitr_opts_print_version(FILE *fp, const char *progname);

#endif
