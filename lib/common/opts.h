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

/*
 * One option.  Tables give the first four fields in order and the rest by
 * name, so that a row says only what applies to it:
 *   { "remove-at-a-time", "rt", PITR_OPT_INT, "N", .min = 1, .max = 1000000,
 *     .dflt = "3", .help = "remove at most N files per pass" },
 * --help shows the spellings, the help text, "(required)" and
 * "(default: ...)" from these fields, so a default or a choice is written
 * once, here.
 */
struct pitr_opt_def {
	const char *name;     /* long name without dashes: "dst-local" */
	const char *aliases;  /* other names, space separated: "dl"; NULL for none */
	enum pitr_opt_kind kind;
	const char *argname;  /* "DIR", shown in --help; NULL: the choices ("a|b"), else
			       * "VALUE"; NULL for flags */
	long min, max;        /* PITR_OPT_INT only */
	const char *help;     /* one line, without the default */
	const char *dflt;     /* STRING and INT: the value when the option is absent,
			       * returned by pitr_opts_str() and pitr_opts_int() (an INT's
			       * must parse within [min, max]); NULL: none */
	const char *dflt_doc; /* a default computed at run time, as --help describes
			       * it ("$TMPDIR or /tmp"); the accessors return NULL or 0.
			       * At most one of dflt and dflt_doc */
	const char *choices;  /* STRING only: the values allowed, separated by '|'
			       * ("break|hang|ignore"); the parser refuses any other
			       * with one line listing them; NULL: any value */
	const char *required; /* NULL: optional; else why the program needs it: the
			       * parser refuses its absence with
			       *   no --NAME given: REQUIRED */
};

/* A number as the string a dflt field takes: .dflt = PITR_OPTS_STR(N_DEFAULT),
 * so that a default the library applies too is written once. */
#define PITR_OPTS_STR(x) PITR_OPTS_STR_(x)
#define PITR_OPTS_STR_(x) #x

/* The entries every program has, to put at the end of its table. */
#define PITR_OPTS_COMMON                                                         \
	{ "config-file", "config cfg", PITR_OPT_CONFIG, "FILE",                  \
	  .help = "read options from FILE, one per line" },                      \
	{ "help", "?", PITR_OPT_HELP, NULL, .help = "show this help and exit" }, \
	{ "version", "V", PITR_OPT_VERSION, NULL, .help = "show the version and exit" }

/* The rows several programs share, each declared here once. */

/* --log, which every program has (pitr_opts_begin() opens it). */
#define PITR_OPTS_LOG                                                            \
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE",                               \
	  .help = "log file, ^-strftime template", .dflt_doc = "standard error" }

/* --verbose, which every program has, with what it adds to the log. */
#define PITR_OPTS_VERBOSE(HELP) { "verbose", "v", PITR_OPT_FLAG, NULL, .help = HELP }

/* --pid-file, for the programs that must not run twice at once. */
#define PITR_OPTS_PID_FILE                                                       \
	{ "pid-file", NULL, PITR_OPT_STRING, "FILE",                             \
	  .help = "run only one copy at a time, locked on FILE" }

/* OmniPITR's compressor program paths, accepted and ignored: pitrkit
 * compresses and decompresses in-process.  WORK is "compression" or
 * "decompression". */
#define PITR_OPTS_IGNORED_CODEC_PATHS(WORK)                                      \
	{ "bzip2-path", "bp", PITR_OPT_IGNORED, "PATH",                          \
	  .help = "accepted for OmniPITR; " WORK " is in-process" },             \
	{ "gzip-path", "gp", PITR_OPT_IGNORED, "PATH",                           \
	  .help = "accepted for OmniPITR; " WORK " is in-process" },             \
	{ "lz4-path", "ll", PITR_OPT_IGNORED, "PATH",                            \
	  .help = "accepted for OmniPITR; " WORK " is in-process" },             \
	{ "lzma-path", "lp", PITR_OPT_IGNORED, "PATH",                           \
	  .help = "accepted for OmniPITR; " WORK " is in-process" },             \
	{ "xz-path", "xz", PITR_OPT_IGNORED, "PATH",                             \
	  .help = "accepted for OmniPITR; " WORK " is in-process" }

/* The programs that compress lower their priority in-process: OmniPITR's
 * nice(1) path is accepted and ignored, and -nn keeps the priority. */
#define PITR_OPTS_NICE                                                           \
	{ "nice-path", "np", PITR_OPT_IGNORED, "PATH",                           \
	  .help = "accepted for OmniPITR; priority is lowered in-process" },     \
	{ "not-nice", "nn", PITR_OPT_FLAG, NULL,                                 \
	  .help = "do not lower the priority while compressing" }

/* How the programs that take an s3:// location reach the store
 * (s3/s3.h's struct pitr_s3_config, filled by pitr_s3_config_from_opts()).
 * Credentials are never options: ps would show them.  The defaults are
 * s3.h's, which is to be included where this is expanded (a missing one
 * fails to compile: PITR_S3_REGION_DEFAULT is used bare). */
#define PITR_OPTS_S3                                                             \
	{ "s3-endpoint", NULL, PITR_OPT_STRING, "URL",                           \
	  .help = "object store for s3:// locations: http[s]://HOST[:PORT]",     \
	  .dflt_doc = "https://s3.REGION.amazonaws.com" },                       \
	{ "s3-region", NULL, PITR_OPT_STRING, "NAME",                            \
	  .help = "region the requests are signed for",                          \
	  .dflt = PITR_S3_REGION_DEFAULT },                                      \
	{ "s3-uri-style", NULL, PITR_OPT_STRING, NULL,                           \
	  .help = "bucket in the host name (host) or in the path (path)",        \
	  .dflt = "host", .choices = "host|path" },                              \
	{ "s3-ca-file", NULL, PITR_OPT_STRING, "FILE",                           \
	  .help = "CA certificates the store's certificate is checked against",  \
	  .dflt_doc = "the system's" },                                          \
	{ "s3-no-verify-tls", NULL, PITR_OPT_FLAG, NULL,                         \
	  .help = "do not check the store's TLS certificate" },                  \
	{ "s3-timeout", NULL, PITR_OPT_INT, "SECONDS", .min = 1, .max = 86400,   \
	  .help = "give up a request that moved no byte for SECONDS (retried)",  \
	  .dflt = PITR_OPTS_STR(PITR_S3_STALL_TIMEOUT_DEFAULT) },                \
	{ "s3-retries", NULL, PITR_OPT_INT, "N", .min = 0, .max = 100,           \
	  .help = "retry a failed request N times, with backoff, when S3 says it may", \
	  .dflt = PITR_OPTS_STR(PITR_S3_RETRIES_DEFAULT) }

struct pitr_opt_value {
	unsigned count;   /* times given */
	const char *str;  /* STRING/INT: the last value (points into argv or owned
			   * storage), else the table's dflt */
	long num;         /* INT: the parsed value, else the dflt's, else 0 */
	const char **list;/* LIST: every value, in order */
	size_t nlist;
	long next_operand;/* OPTIONAL: the index in operands of the operand that
			   * came right after the option's last bare occurrence on
			   * the command line ("-r %r"); -1: none */
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
	const struct pitr_opts_guard *guard;  /* pitr_opts_parse_guarded()'s; else NULL */
};

/*
 * Parse argv (argv[0] is skipped) against `defs`, config files included.
 * Returns 0, or -1 after logging one error naming the option: unknown
 * option (followed, in the same line, by "; did you mean --NAME?" for the
 * nearest spelling when one is near: a case slip, or at most two edits and
 * a third of the typed name), missing value, bad integer, a value not among the choices, a
 * value given to a flag, an unreadable config file or a bad line in it
 * (with file and line number), or, unless --help or --version was given,
 * the first required option of the table missing.
 * On -1, `o` still needs pitr_opts_free().
 */
int pitr_opts_parse(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs,
		    int argc, char **argv);

/*
 * Options named by someone the running user need not trust (pitr-check
 * reads the server's archive_command): each config file is opened and
 * handed to vet() with its fstat() (so what is vetted is what is read)
 * before a line is read; vet() returns 0 to read it, or -1 after logging
 * one line.  A bad line is reported by file and line number only, never
 * with the line's text.
 */
struct stat;
struct pitr_opts_guard {
	int (*vet)(const char *path, const struct stat *st, void *arg);
	void *arg;
};

/* pitr_opts_parse() with the config files under `guard` (see above). */
int pitr_opts_parse_guarded(struct pitr_opts *o, const struct pitr_opt_def *defs, size_t ndefs,
			    int argc, char **argv, const struct pitr_opts_guard *guard);

/* Release what parse allocated; accepts a zeroed struct. */
void pitr_opts_free(struct pitr_opts *o);

/* Look an option up by its long name (must be in the table: a typo here is
 * a programmer error and asserts). */
const struct pitr_opt_value *pitr_opts_get(const struct pitr_opts *o, const char *name);

/* Convenience: the value string, else the table's default, else NULL; flag
 * given; the integer, else the table's default, else 0; list and its
 * length. */
const char *pitr_opts_str(const struct pitr_opts *o, const char *name);
bool pitr_opts_flag(const struct pitr_opts *o, const char *name);
long pitr_opts_int(const struct pitr_opts *o, const char *name);
const char **pitr_opts_list(const struct pitr_opts *o, const char *name, size_t *n);

/*
 * For a program that takes no operands: returns 0 if none was given, else
 * -1 after logging
 *   unexpected argument "X": PROGNAME takes only options
 */
int pitr_opts_no_operands(const struct pitr_opts *o, const char *progname);

/*
 * Parse a decimal integer in [min, max] for option `optname`.  Returns 0,
 * or -1 after logging the one uniform message:
 *   invalid value "x" for option "--name": expected an integer from MIN to MAX
 */
int pitr_opts_parse_int(const char *optname, const char *str, long min, long max, long *out);

/*
 * Check `value` of option `optname` against `choices` ("a|b|c", as in a
 * table's choices field).  Returns the index of the choice it is (exact,
 * case-sensitive match), or -1 after logging the one uniform message:
 *   invalid value "x" for option "--name": expected a, b or c
 */
int pitr_opts_check_choice(const char *optname, const char *value, const char *choices);

/* Print --help: `usage` line(s), then one line per option with all its
 * spellings, its help text, "(required)" and its default. */
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

/*
 * The name a program logs and prints as (the PROGRAM field of its log
 * lines, --help, --version): `fixed` ("pitr-archive"), unless the last
 * component of `argv0` starts with "omnipitr-" (the drop-in names `make
 * install-compat` links to the pitr-* programs): then "omnipitr-" and
 * what follows "pitr-" in `fixed` ("omnipitr-archive"), whatever else the
 * link is called, so that OmniPITR's log watchers and pitr-monitor find
 * the names they expect.  Returns `fixed` or static storage (the same for
 * every call).  pitr_opts_begin() applies it to its progname, the
 * signal handlers' line (sigclean.h) and pitr_opts_no_operands().
 */
const char *pitr_opts_progname(const char *fixed, const char *argv0);

/* Print "PROGNAME (pitrkit) VERSION". */
void pitr_opts_print_version(FILE *fp, const char *progname);

#endif
