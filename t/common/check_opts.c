/*
 * check_opts.c - unit tests for the option parser, config files and --help.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "common/log.h"
#include "common/opts.h"

/* A table shaped like a program's: multi-letter short names, -d and -D,
 * -v and -V, every kind. */
static const struct pitr_opt_def defs[] = {
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .help = "data directory" },
	{ "database", "d", PITR_OPT_STRING, "NAME", .help = "database name" },
	{ "dst-local", "dl", PITR_OPT_LIST, "DIR", .help = "local destination" },
	{ "dst-remote", "dr", PITR_OPT_LIST, "URI", .help = "remote destination" },
	{ "gzip-path", "gp", PITR_OPT_IGNORED, "PATH", .help = "ignored" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", .help = "log file template" },
	{ "parallel-jobs", "PJ", PITR_OPT_INT, "N", .min = 1, .max = 64, .help = "parallel jobs" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, .help = "log more" },
	PITR_OPTS_COMMON,
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* argv with "prog" as argv[0], NULL-terminated. */
#define ARGV(...) ((char *[]){ "prog", __VA_ARGS__, NULL })

static struct pitr_opts opts;

static void
setup(void)
{
	h_setup();
	memset(&opts, 0, sizeof(opts));
}

static void
teardown(void)
{
	pitr_opts_free(&opts);
	h_teardown();
}

/* Run pitr_opts_begin() for program `name` on a NULL-terminated argv,
 * with stdout and stderr sent to files of the scratch dir. */
static int
begin_as(const char *name, const char *usage, char **argv)
{
	int argc = 0, rc, saved_out, saved_err, fd;

	while (argv[argc] != NULL)
		argc++;
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	fd = open(h_path("stdout.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	fd = open(h_path("stderr.txt"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, STDERR_FILENO);
	close(fd);
	rc = pitr_opts_begin(&opts, name, usage, defs, NDEFS, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	return rc;
}

static int
begin(char **argv)
{
	return begin_as("prog", "prog [OPTION]...", argv);
}

/* Parse a NULL-terminated argv against the test table. */
static int
parse(char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return pitr_opts_parse(&opts, defs, NDEFS, argc, argv);
}

/* Write a config file in the scratch dir; returns its path (h_path ring). */
static const char *
config(const char *name, const char *text)
{
	const char *path = h_path(name);

	h_write_file(path, text, strlen(text));
	return path;
}

/* Assert the LIST option `name` holds exactly the NULL-terminated values. */
static void
assert_list(const char *name, const char *const *want)
{
	size_t n = 99, want_n = 0;
	const char **got = pitr_opts_list(&opts, name, &n);

	while (want[want_n] != NULL)
		want_n++;
	ck_assert_uint_eq(n, want_n);
	for (size_t idx = 0; idx < want_n; idx++)
		ck_assert_str_eq(got[idx], want[idx]);
}
#define ASSERT_LIST(name, ...) assert_list(name, (const char *const[]){ __VA_ARGS__, NULL })

/* Assert the operands are exactly the NULL-terminated values. */
static void
assert_operands(const char *const *want)
{
	size_t want_n = 0;

	while (want[want_n] != NULL)
		want_n++;
	ck_assert_uint_eq(opts.noperands, want_n);
	for (size_t idx = 0; idx < want_n; idx++)
		ck_assert_str_eq(opts.operands[idx], want[idx]);
}
#define ASSERT_OPERANDS(...) assert_operands((const char *const[]){ __VA_ARGS__, NULL })

/* Parse, expect failure with exactly one logged error `msg`. */
static void
assert_parse_error(char **argv, const char *msg)
{
	char want[8192];

	h_log_reset();
	ck_assert_int_eq(parse(argv), -1);
	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
	pitr_opts_free(&opts);
}

/* A table with defaults, a required option and choices, as the programs'
 * tables have them. */
static const struct pitr_opt_def dflt_defs[] = {
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", .dflt = ".", .help = "data directory" },
	{ "error-pgcontroldata", "ep", PITR_OPT_STRING, NULL, .choices = "break|hang|ignore",
	  .dflt = "break", .help = "when pg_controldata fails" },
	{ "level", NULL, PITR_OPT_STRING, "LEVEL", .choices = "low|high", .help = "a level" },
	PITR_OPTS_LOG,
	{ "remove-at-a-time", "rt", PITR_OPT_INT, "N", .min = 1, .max = 10, .dflt = "3",
	  .help = "files per pass" },
	{ "source", "s", PITR_OPT_STRING, "DIR", .help = "the archive",
	  .required = "prog needs the archive" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", .dflt_doc = "$TMPDIR or /tmp",
	  .help = "temporary files" },
	{ "wait", NULL, PITR_OPT_INT, "S", .min = 0, .max = 9, .required = "prog needs to know" },
	{ "archive", "a", PITR_OPT_LIST, "DIR", .required = "prog needs at least one" },
	PITR_OPTS_VERBOSE("log more"),
	PITR_OPTS_COMMON,
};
#define NDFLT_DEFS (sizeof(dflt_defs) / sizeof(dflt_defs[0]))

/* Parse against dflt_defs; the required options not in argv are added
 * unless `bare` (argv as given). */
static int
parse_dflt_argv(char **argv, bool bare)
{
	char *full[64] = { "prog", "--wait", "0", "-a", "/x" };
	int argc = bare ? 1 : 5;

	for (int argi = 1; argv[argi] != NULL; argi++) {
		ck_assert_int_lt(argc, 63);
		full[argc++] = argv[argi];
	}
	return pitr_opts_parse(&opts, dflt_defs, NDFLT_DEFS, argc, full);
}
#define parse_dflt(argv) parse_dflt_argv(argv, false)

/* --- pitr_opts_parse: command line ------------------------------------- */

START_TEST(test_parse_nothing)
{
	ck_assert_int_eq(parse(ARGV(NULL)), 0);
	ck_assert_uint_eq(opts.noperands, 0);
	ck_assert(!opts.help);
	ck_assert(!opts.version);
	ck_assert_ptr_eq(opts.defs, defs);
	ck_assert_uint_eq(opts.ndefs, NDEFS);
	for (size_t idx = 0; idx < NDEFS; idx++)
		ck_assert_uint_eq(opts.values[idx].count, 0);
	ck_assert_ptr_null(pitr_opts_str(&opts, "log"));
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_zeroes_output)
{
	/* The struct need not be initialised before parse. */
	memset(&opts, 0xa5, sizeof(opts));
	ck_assert_int_eq(parse(ARGV("x")), 0);
	ck_assert(!opts.help);
	ck_assert_uint_eq(opts.nowned, 0);
	ck_assert_ptr_null(opts.owned);
	ASSERT_OPERANDS("x");
}
END_TEST

START_TEST(test_parse_every_spelling)
{
	ck_assert_int_eq(parse(ARGV("-dl", "a", "--dl", "b", "-dst-local", "c", "--dst-local", "d",
				    "-dl=e", "--dl=f", "-dst-local=g", "--dst-local=h")),
			 0);
	ASSERT_LIST("dst-local", "a", "b", "c", "d", "e", "f", "g", "h");
	ck_assert_uint_eq(pitr_opts_get(&opts, "dst-local")->count, 8);
	ck_assert_uint_eq(opts.noperands, 0);
}
END_TEST

START_TEST(test_parse_single_letter_spellings)
{
	ck_assert_int_eq(parse(ARGV("-l", "/l1", "--l", "/l2", "-D", "/data", "-d", "db",
				    "-v", "--v")),
			 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/l2");
	/* Case matters: -D is data-dir, -d is database. */
	ck_assert_str_eq(pitr_opts_str(&opts, "data-dir"), "/data");
	ck_assert_str_eq(pitr_opts_str(&opts, "database"), "db");
	ck_assert_uint_eq(pitr_opts_get(&opts, "verbose")->count, 2);
	ck_assert(!opts.version);
}
END_TEST

START_TEST(test_parse_flag_counts)
{
	ck_assert_int_eq(parse(ARGV("-v", "--verbose", "-verbose", "--v")), 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "verbose")->count, 4);
	ck_assert(pitr_opts_flag(&opts, "verbose"));
	ck_assert_ptr_null(pitr_opts_get(&opts, "verbose")->str);
}
END_TEST

START_TEST(test_parse_string_last_wins)
{
	ck_assert_int_eq(parse(ARGV("--log", "/a", "-l=/b", "--log", "/c")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/c");
	ck_assert_uint_eq(pitr_opts_get(&opts, "log")->count, 3);
}
END_TEST

START_TEST(test_parse_operands_mixed)
{
	char **argv = ARGV("a", "-v", "b", "--log", "x", "c", "-dl=d1", "d");

	ck_assert_int_eq(parse(argv), 0);
	ASSERT_OPERANDS("a", "b", "c", "d");
	/* Operands point into argv. */
	ck_assert_ptr_eq(opts.operands[0], argv[1]);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "x");
	ASSERT_LIST("dst-local", "d1");
	ck_assert(pitr_opts_flag(&opts, "verbose"));
}
END_TEST

START_TEST(test_parse_lone_dash_and_empty)
{
	ck_assert_int_eq(parse(ARGV("-", "", "-v", "-")), 0);
	ASSERT_OPERANDS("-", "", "-");
	ck_assert(pitr_opts_flag(&opts, "verbose"));
}
END_TEST

START_TEST(test_parse_double_dash_ends_options)
{
	ck_assert_int_eq(parse(ARGV("-v", "a", "--", "-v", "--log", "--", "-zz", "--config=x")),
			 0);
	ASSERT_OPERANDS("a", "-v", "--log", "--", "-zz", "--config=x");
	ck_assert_uint_eq(pitr_opts_get(&opts, "verbose")->count, 1);
	ck_assert_ptr_null(pitr_opts_str(&opts, "log"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "config-file"));
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_value_taken_verbatim)
{
	/* A value is the next argument whatever it looks like. */
	ck_assert_int_eq(parse(ARGV("--log", "-v", "-dl", "--", "--dr", "-", "x")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "-v");
	ck_assert(!pitr_opts_flag(&opts, "verbose"));
	ASSERT_LIST("dst-local", "--");
	ASSERT_LIST("dst-remote", "-");
	ASSERT_OPERANDS("x");
	pitr_opts_free(&opts);
	/* An empty value is no value, as "--dr=" is. */
	assert_parse_error(ARGV("--dr", "", "x"), "option \"--dst-remote\" requires a value");
}
END_TEST

START_TEST(test_parse_value_with_equals)
{
	ck_assert_int_eq(parse(ARGV("--dl=gzip=/a", "-dr", "gzip=rsync://h/m/", "-l==x")), 0);
	ASSERT_LIST("dst-local", "gzip=/a");
	ASSERT_LIST("dst-remote", "gzip=rsync://h/m/");
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "=x");
}
END_TEST

START_TEST(test_parse_ignored_and_int)
{
	ck_assert_int_eq(parse(ARGV("--gzip-path", "/bin/gzip", "-gp=/usr/bin/pigz", "-PJ", "7")),
			 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "gzip-path"), "/usr/bin/pigz");
	ck_assert_uint_eq(pitr_opts_get(&opts, "gzip-path")->count, 2);
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 7);
	ck_assert_str_eq(pitr_opts_str(&opts, "parallel-jobs"), "7");
	ck_assert_int_eq(pitr_opts_get(&opts, "parallel-jobs")->num, 7);
}
END_TEST

START_TEST(test_parse_int_edges)
{
	ck_assert_int_eq(parse(ARGV("--parallel-jobs=1")), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse(ARGV("-PJ", "64", "--PJ=+64")), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 64);
	pitr_opts_free(&opts);
	assert_parse_error(ARGV("-PJ", "0"), "invalid value \"0\" for option \"--parallel-jobs\": "
					     "expected an integer from 1 to 64");
	assert_parse_error(ARGV("-PJ", "65"), "invalid value \"65\" for option \"--parallel-jobs\": "
					      "expected an integer from 1 to 64");
	assert_parse_error(ARGV("--PJ=abc"), "invalid value \"abc\" for option \"--parallel-jobs\": "
					     "expected an integer from 1 to 64");
	assert_parse_error(ARGV("-PJ", "4x"), "invalid value \"4x\" for option \"--parallel-jobs\": "
					      "expected an integer from 1 to 64");
	assert_parse_error(ARGV("-PJ", ""), "option \"--parallel-jobs\" requires a value");
	assert_parse_error(ARGV("-PJ", "-1"), "invalid value \"-1\" for option \"--parallel-jobs\": "
					      "expected an integer from 1 to 64");
	assert_parse_error(ARGV("-PJ", "99999999999999999999999"),
			   "invalid value \"99999999999999999999999\" for option "
			   "\"--parallel-jobs\": expected an integer from 1 to 64");
}
END_TEST

START_TEST(test_parse_help_version)
{
	ck_assert_int_eq(parse(ARGV("-?")), 0);
	ck_assert(opts.help);
	ck_assert(!opts.version);
	ck_assert_uint_eq(pitr_opts_get(&opts, "help")->count, 1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse(ARGV("--help", "-V")), 0);
	ck_assert(opts.help);
	ck_assert(opts.version);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse(ARGV("x", "--version")), 0);
	ck_assert(!opts.help);
	ck_assert(opts.version);
	ASSERT_OPERANDS("x");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_unknown)
{
	assert_parse_error(ARGV("-zz"), "unknown option \"-zz\"");
	assert_parse_error(ARGV("a", "--zz=1"), "unknown option \"--zz\"");
	/* No abbreviations. */
	assert_parse_error(ARGV("--verb"), "unknown option \"--verb\"");
	assert_parse_error(ARGV("--dst"), "unknown option \"--dst\"");
	assert_parse_error(ARGV("-DL", "x"), "unknown option \"-DL\"; did you mean -dl?");
	assert_parse_error(ARGV("---verbose"), "unknown option \"---verbose\"; did you mean --verbose?");
	assert_parse_error(ARGV("--=x"), "unknown option \"--\"");
	assert_parse_error(ARGV("-=x"), "unknown option \"-\"");
	/* The first error is the one reported. */
	assert_parse_error(ARGV("-v", "-yy", "-zz"), "unknown option \"-yy\"");
}
END_TEST

START_TEST(test_parse_unknown_hint)
{
	/* The nearest spelling, in the same one line, as --help writes it. */
	assert_parse_error(ARGV("--dst-locl", "x"), "unknown option \"--dst-locl\"; did you mean --dst-local?");
	assert_parse_error(ARGV("-dst-lcoal=x"), "unknown option \"-dst-lcoal\"; did you mean --dst-local?");
	assert_parse_error(ARGV("--vrebose"), "unknown option \"--vrebose\"; did you mean --verbose?");
	assert_parse_error(ARGV("--parallel-job", "2"),
			   "unknown option \"--parallel-job\"; did you mean --parallel-jobs?");
	/* A case slip of a short name: the short name, with one dash. */
	assert_parse_error(ARGV("-pj", "2"), "unknown option \"-pj\"; did you mean -PJ?");
	/* The nearest of two that look alike: database, not data-dir. */
	assert_parse_error(ARGV("--data-dase"), "unknown option \"--data-dase\"; did you mean --database?");
	/* Too far, or too short to tell: no guess. */
	assert_parse_error(ARGV("-Q"), "unknown option \"-Q\"");
	assert_parse_error(ARGV("-dx"), "unknown option \"-dx\"");
	assert_parse_error(ARGV("--no-such-option"), "unknown option \"--no-such-option\"");
	assert_parse_error(ARGV("--verb"), "unknown option \"--verb\"");
}
END_TEST

START_TEST(test_config_unknown_hint)
{
	const char *path = config("hint.conf", "dst-locl /x\n");
	char want[8192];

	h_log_reset();
	ck_assert_int_eq(parse(ARGV("--cfg", (char *)path)), -1);
	snprintf(want, sizeof(want), "ERROR : invalid line 1 in config file \"%s\": unknown option "
		 "\"dst-locl\"; did you mean --dst-local?\n", path);
	ck_assert_str_eq(h_log(), want);
	pitr_opts_free(&opts);
}
END_TEST

START_TEST(test_progname)
{
	/* Only a last component starting with "omnipitr-" renames. */
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", "pitr-archive"), "pitr-archive");
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", "/usr/bin/pitr-archive"), "pitr-archive");
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", "/opt/omnipitr-x/bin/pitr-archive"),
			 "pitr-archive");
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", "omnipitr-archive"), "omnipitr-archive");
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", "/usr/local/bin/omnipitr-archive"),
			 "omnipitr-archive");
	/* The program's own name follows, whatever the link is called
	 * (OmniPITR's old omnipitr-master-backup). */
	ck_assert_str_eq(pitr_opts_progname("pitr-backup-master", "/x/omnipitr-master-backup"),
			 "omnipitr-backup-master");
	ck_assert_str_eq(pitr_opts_progname("prog", "omnipitr-prog"), "prog");
	ck_assert_str_eq(pitr_opts_progname("pitr-archive", NULL), "pitr-archive");
}
END_TEST

START_TEST(test_begin_omnipitr_name)
{
	char *argv[] = { "/usr/bin/omnipitr-prog", "--version", NULL };
	char *argv2[] = { "/usr/bin/omnipitr-prog", "-?", NULL };
	char *argv3[] = { "omnipitr-prog", "--bogus", NULL };
	char *out;

	ck_assert_int_eq(begin_as("pitr-prog", "pitr-prog [OPTION]...", argv), 1);
	out = h_read_file(h_path("stdout.txt"), NULL);
	ck_assert_str_eq(out, "omnipitr-prog (pitrkit) " PITR_VERSION "\n");
	free(out);
	pitr_opts_free(&opts);
	ck_assert_int_eq(begin_as("pitr-prog", "pitr-prog [OPTION]...", argv2), 1);
	out = h_read_file(h_path("stdout.txt"), NULL);
	ck_assert_ptr_nonnull(strstr(out, "Usage: omnipitr-prog [OPTION]...\n"));
	free(out);
	pitr_opts_free(&opts);
	/* The log line's PROGRAM field. */
	ck_assert_int_eq(begin_as("pitr-prog", "pitr-prog", argv3), -1);
	out = h_read_file(h_path("stderr.txt"), NULL);
	ck_assert_ptr_nonnull(strstr(out, " : omnipitr-prog : ERROR : unknown option \"--bogus\"\n"));
	free(out);
	pitr_opts_free(&opts);
}
END_TEST

START_TEST(test_parse_missing_value)
{
	/* Named by the long name whatever the spelling. */
	assert_parse_error(ARGV("-dl"), "option \"--dst-local\" requires a value");
	assert_parse_error(ARGV("x", "--dst-local"), "option \"--dst-local\" requires a value");
	assert_parse_error(ARGV("--dl="), "option \"--dst-local\" requires a value");
	assert_parse_error(ARGV("-PJ"), "option \"--parallel-jobs\" requires a value");
	assert_parse_error(ARGV("-gp"), "option \"--gzip-path\" requires a value");
	assert_parse_error(ARGV("--cfg"), "option \"--config-file\" requires a value");
}
END_TEST

START_TEST(test_parse_flag_with_value)
{
	assert_parse_error(ARGV("--verbose=x"), "option \"--verbose\" does not take a value");
	assert_parse_error(ARGV("-v="), "option \"--verbose\" does not take a value");
	assert_parse_error(ARGV("-?=1"), "option \"--help\" does not take a value");
	assert_parse_error(ARGV("--V=1"), "option \"--version\" does not take a value");
}
END_TEST

START_TEST(test_parse_error_frees)
{
	/* Values gathered before the error are released by free. */
	ck_assert_int_eq(parse(ARGV("-dl", "a", "-dl", "b", "x", "-zz")), -1);
	ck_assert_uint_eq(pitr_opts_get(&opts, "dst-local")->nlist, 2);
}
END_TEST

/* A table with an option whose value is optional, as pitr-restore's -r. */
static const struct pitr_opt_def optional_defs[] = {
	{ "remove-unneeded", "r", PITR_OPT_OPTIONAL, "SEGMENT", .help = "remove old files" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, .help = "log more" },
	PITR_OPTS_COMMON,
};
#define NOPTIONAL_DEFS (sizeof(optional_defs) / sizeof(optional_defs[0]))

static int
parse_optional(char **argv)
{
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	return pitr_opts_parse(&opts, optional_defs, NOPTIONAL_DEFS, argc, argv);
}

START_TEST(test_parse_optional_value)
{
	char **argv = ARGV("-r", "000000010000000000000003", "f", "-v");

	/* Bare: a flag; the next argument stays an operand. */
	ck_assert_int_eq(parse_optional(argv), 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "remove-unneeded")->count, 1);
	ck_assert(pitr_opts_flag(&opts, "remove-unneeded"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "remove-unneeded"));
	ck_assert_uint_eq(opts.noperands, 2);
	ck_assert_ptr_eq(opts.operands[0], argv[2]);
	ck_assert(pitr_opts_flag(&opts, "verbose"));
	pitr_opts_free(&opts);

	/* With '=': the value, in every spelling; a later bare one keeps it. */
	ck_assert_int_eq(parse_optional(ARGV("--remove-unneeded=A", "-r=B", "--r=C", "-r", "x")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "remove-unneeded"), "C");
	ck_assert_uint_eq(pitr_opts_get(&opts, "remove-unneeded")->count, 4);
	ASSERT_OPERANDS("x");
	pitr_opts_free(&opts);

	/* Not given at all. */
	ck_assert_int_eq(parse_optional(ARGV("x")), 0);
	ck_assert(!pitr_opts_flag(&opts, "remove-unneeded"));
	pitr_opts_free(&opts);

	/* An empty value is an error naming the option. */
	h_log_reset();
	ck_assert_int_eq(parse_optional(ARGV("-r=")), -1);
	ck_assert_str_eq(h_log(), "ERROR : option \"--remove-unneeded\" has an empty value\n");
}
END_TEST

START_TEST(test_config_optional_value)
{
	char *argv[] = { "prog", "--cfg", NULL, NULL };

	argv[2] = (char *)config("c", "remove-unneeded\n");
	ck_assert_int_eq(parse_optional(argv), 0);
	ck_assert(pitr_opts_flag(&opts, "remove-unneeded"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "remove-unneeded"));
	pitr_opts_free(&opts);

	argv[2] = (char *)config("c", "-r 000000010000000000000009  \n");
	ck_assert_int_eq(parse_optional(argv), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "remove-unneeded"), "000000010000000000000009");
	ck_assert_uint_eq(opts.noperands, 0);
}
END_TEST

START_TEST(test_parse_next_operand)
{
	/* The operand right after a bare -r, wherever it stands. */
	ck_assert_int_eq(parse_optional(ARGV("-r", "R", "f", "p")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, 0);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_optional(ARGV("f", "p", "--remove-unneeded", "R")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, 2);
	pitr_opts_free(&opts);
	/* The last bare occurrence counts. */
	ck_assert_int_eq(parse_optional(ARGV("-r", "a", "--r", "b", "c")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, 1);
	pitr_opts_free(&opts);
	/* None: not bare, followed by an option or by "--", not given, or
	 * given in a config file (which has no operands). */
	ck_assert_int_eq(parse_optional(ARGV("-r=S", "a")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, -1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_optional(ARGV("-r", "-v", "a")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, -1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_optional(ARGV("-r", "--", "a")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, -1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_optional(ARGV("a", "b")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, -1);
	ck_assert_int_eq(pitr_opts_get(&opts, "verbose")->next_operand, -1);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_optional(ARGV("--cfg", (char *)config("c", "r\n"), "a")), 0);
	ck_assert_int_eq(pitr_opts_get(&opts, "remove-unneeded")->next_operand, -1);
}
END_TEST

/* --- pitr_opts_parse: defaults, required options, choices --------------- */

START_TEST(test_parse_defaults)
{
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "data-dir"), ".");
	ck_assert_str_eq(pitr_opts_str(&opts, "error-pgcontroldata"), "break");
	ck_assert_str_eq(pitr_opts_str(&opts, "remove-at-a-time"), "3");
	/* A default is not an occurrence. */
	ck_assert_uint_eq(pitr_opts_get(&opts, "data-dir")->count, 0);
	ck_assert(!pitr_opts_flag(&opts, "data-dir"));
	/* A computed default is only described: the program computes it. */
	ck_assert_ptr_null(pitr_opts_str(&opts, "temp-dir"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "level"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "log"));
	pitr_opts_free(&opts);

	/* Given on the command line or in a config file, the value wins. */
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "-D", "/d", "-ep", "hang",
					  "--cfg", (char *)config("c", "rt 9\n"))), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "data-dir"), "/d");
	ck_assert_str_eq(pitr_opts_str(&opts, "error-pgcontroldata"), "hang");
	ck_assert_int_eq(pitr_opts_int(&opts, "remove-at-a-time"), 9);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_required)
{
	/* The first required option of the table that is missing, named. */
	h_log_reset();
	ck_assert_int_eq(parse_dflt_argv(ARGV(NULL), true), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --source given: prog needs the archive\n");
	pitr_opts_free(&opts);
	h_log_reset();
	ck_assert_int_eq(parse_dflt_argv(ARGV("-s", "/a"), true), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --wait given: prog needs to know\n");
	pitr_opts_free(&opts);
	h_log_reset();
	ck_assert_int_eq(parse_dflt_argv(ARGV("-s", "/a", "--wait", "0"), true), -1);
	ck_assert_str_eq(h_log(), "ERROR : no --archive given: prog needs at least one\n");
	pitr_opts_free(&opts);

	/* A config file may give them. */
	h_log_reset();
	ck_assert_int_eq(parse_dflt_argv(ARGV("--cfg", (char *)config("c", "s /a\nwait 1\na /x\n")),
					 true), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "source"), "/a");
	pitr_opts_free(&opts);

	/* --help and --version need nothing. */
	ck_assert_int_eq(parse_dflt_argv(ARGV("--help"), true), 0);
	ck_assert(opts.help);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_dflt_argv(ARGV("-V"), true), 0);
	ck_assert(opts.version);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_choices)
{
	const char *cfg;
	char want[4096];

	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "-ep", "ignore", "--level=high")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "error-pgcontroldata"), "ignore");
	ck_assert_str_eq(pitr_opts_str(&opts, "level"), "high");
	pitr_opts_free(&opts);

	h_log_reset();
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "-ep", "x")), -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"x\" for option \"--error-pgcontroldata\": "
				  "expected break, hang or ignore\n");
	pitr_opts_free(&opts);
	/* Exact and case-sensitive: no prefix, no other case, not two at once. */
	for (size_t bad_idx = 0; bad_idx < 4; bad_idx++) {
		static const char *const bad[] = { "brea", "Break", "break|hang", "breaks" };

		h_log_reset();
		ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "-ep", (char *)bad[bad_idx])), -1);
		snprintf(want, sizeof(want), "ERROR : invalid value \"%s\" for option "
			 "\"--error-pgcontroldata\": expected break, hang or ignore\n", bad[bad_idx]);
		ck_assert_str_eq(h_log(), want);
		pitr_opts_free(&opts);
	}
	h_log_reset();
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "--level", "mid")), -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"mid\" for option \"--level\": "
				  "expected low or high\n");
	pitr_opts_free(&opts);

	/* In a config file, with its name and line. */
	h_log_reset();
	cfg = config("c", "# x\nep hung\n");
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "--cfg", (char *)cfg)), -1);
	snprintf(want, sizeof(want), "ERROR : invalid line 2 in config file \"%s\": invalid value "
		 "\"hung\" for option \"--error-pgcontroldata\": expected break, hang or ignore\n", cfg);
	ck_assert_str_eq(h_log(), want);
}
END_TEST

START_TEST(test_parse_bad_default_asserts)
{
	/* A default the parser would refuse is a programmer error. */
	static const struct pitr_opt_def bad[] = {
		{ "n", NULL, PITR_OPT_INT, "N", .min = 1, .max = 9, .dflt = "10" },
	};

	(void)pitr_opts_parse(&opts, bad, 1, 1, ARGV(NULL));
}
END_TEST

START_TEST(test_parse_bad_choice_default_asserts)
{
	static const struct pitr_opt_def bad[] = {
		{ "c", NULL, PITR_OPT_STRING, NULL, .choices = "a|b", .dflt = "c" },
	};

	(void)pitr_opts_parse(&opts, bad, 1, 1, ARGV(NULL));
}
END_TEST

START_TEST(test_no_operands)
{
	ck_assert_int_eq(parse(ARGV("-v")), 0);
	ck_assert_int_eq(pitr_opts_no_operands(&opts, "pitr-x"), 0);
	pitr_opts_free(&opts);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(parse(ARGV("a", "-v", "b")), 0);
	ck_assert_int_eq(pitr_opts_no_operands(&opts, "pitr-x"), -1);
	ck_assert_str_eq(h_log(), "ERROR : unexpected argument \"a\": pitr-x takes only options\n");
}
END_TEST

START_TEST(test_check_choice)
{
	ck_assert_int_eq(pitr_opts_check_choice("target-action", "promote",
						"promote|pause|shutdown"), 0);
	ck_assert_int_eq(pitr_opts_check_choice("target-action", "shutdown",
						"promote|pause|shutdown"), 2);
	ck_assert_int_eq(pitr_opts_check_choice("one", "only", "only"), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_opts_check_choice("target-action", "stop", "promote|pause|shutdown"),
			 -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"stop\" for option \"--target-action\": "
				  "expected promote, pause or shutdown\n");
	h_log_reset();
	ck_assert_int_eq(pitr_opts_check_choice("one", "", "only"), -1);
	ck_assert_str_eq(h_log(), "ERROR : invalid value \"\" for option \"--one\": expected only\n");
}
END_TEST

/* --- pitr_opts_parse: config files ------------------------------------- */

START_TEST(test_config_list_precedence)
{
	const char *cfg = config("c.conf", "dl /c1\n--dl=/c2\n");

	/* Config values come first even though --config follows -dl. */
	ck_assert_int_eq(parse(ARGV("-dl", "/a1", "--config", (char *)cfg, "-dl", "/a2")), 0);
	ASSERT_LIST("dst-local", "/c1", "/c2", "/a1", "/a2");
	ck_assert_uint_eq(pitr_opts_get(&opts, "dst-local")->count, 4);
	ck_assert_str_eq(pitr_opts_str(&opts, "config-file"), cfg);
	ck_assert_uint_eq(opts.noperands, 0);
}
END_TEST

START_TEST(test_config_string_precedence)
{
	const char *cfg = config("c.conf", "log /c\nPJ 5\n");

	ck_assert_int_eq(parse(ARGV("--log", "/a", "--cfg", (char *)cfg)), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/a");
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 5);
	pitr_opts_free(&opts);

	ck_assert_int_eq(parse(ARGV("--config-file", (char *)cfg, "-PJ", "9")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/c");
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 9);
	ck_assert_str_eq(pitr_opts_str(&opts, "parallel-jobs"), "9");
}
END_TEST

START_TEST(test_config_every_spelling)
{
	char arg[4200];
	const char *cfg = config("c.conf", "dl /c\n");

	snprintf(arg, sizeof(arg), "-cfg=%s", cfg);
	ck_assert_int_eq(parse(ARGV("-config-file", (char *)cfg, "--config=" "", arg)), -1);
	ck_assert_str_eq(h_log(), "ERROR : option \"--config-file\" requires a value\n");
	pitr_opts_free(&opts);
	h_log_reset();
	ck_assert_int_eq(parse(ARGV("-config-file", (char *)cfg, "-config", (char *)cfg, arg)), 0);
	ASSERT_LIST("dst-local", "/c", "/c", "/c");
	ck_assert_uint_eq(pitr_opts_get(&opts, "config-file")->count, 3);
}
END_TEST

START_TEST(test_config_values_literal)
{
	const char *cfg = config("c.conf",
				 "-dr gzip=rsync://h/m/\n"
				 "dl=gzip=/a b\n"
				 "  --dl   xz=/with  two  spaces \t \n"
				 "\t-l\t/tab/sep\n"
				 "gp = /spaced/eq\n"
				 "data-dir /ends/in/cr\r\n"
				 "database \"quoted\" # not a comment");

	ck_assert_int_eq(parse(ARGV("--cfg", (char *)cfg)), 0);
	ASSERT_LIST("dst-remote", "gzip=rsync://h/m/");
	ASSERT_LIST("dst-local", "gzip=/a b", "xz=/with  two  spaces");
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/tab/sep");
	/* Only the first separator counts; the rest is the value. */
	ck_assert_str_eq(pitr_opts_str(&opts, "gzip-path"), "= /spaced/eq");
	ck_assert_str_eq(pitr_opts_str(&opts, "data-dir"), "/ends/in/cr");
	ck_assert_str_eq(pitr_opts_str(&opts, "database"), "\"quoted\" # not a comment");
	/* Everything read is owned by opts. */
	ck_assert_uint_eq(opts.nowned, 7);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_config_comments_blanks_flags)
{
	const char *cfg = config("c.conf",
				 "# a comment\n"
				 "\n"
				 "   \t \n"
				 "   # indented comment\n"
				 "#dl /commented\n"
				 "verbose\n"
				 "-v   \n"
				 "--verbose\n"
				 "help\n");

	ck_assert_int_eq(parse(ARGV("-v", "--cfg", (char *)cfg, "op")), 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "verbose")->count, 4);
	ck_assert_uint_eq(pitr_opts_get(&opts, "dst-local")->nlist, 0);
	ck_assert(opts.help);
	ck_assert_uint_eq(opts.nowned, 0);
	ASSERT_OPERANDS("op");
}
END_TEST

START_TEST(test_config_empty_file)
{
	const char *cfg = config("c.conf", "");

	ck_assert_int_eq(parse(ARGV("--cfg", (char *)cfg)), 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "config-file")->count, 1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_config_several_files)
{
	const char *one = config("one.conf", "dl /1\nlog /one\n");
	const char *two = config("two.conf", "dl /2\nlog /two\n");

	ck_assert_int_eq(parse(ARGV("-dl", "/cmd", "--cfg", (char *)one, "--cfg", (char *)two)), 0);
	ASSERT_LIST("dst-local", "/1", "/2", "/cmd");
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "/two");
	ck_assert_str_eq(pitr_opts_str(&opts, "config-file"), two);
}
END_TEST

START_TEST(test_config_after_double_dash)
{
	const char *cfg = config("c.conf", "dl /c\n");

	ck_assert_int_eq(parse(ARGV("--", "--cfg", (char *)cfg)), 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "dst-local")->nlist, 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "config-file")->count, 0);
	ASSERT_OPERANDS("--cfg", cfg);
}
END_TEST

START_TEST(test_config_as_value_not_read)
{
	/* "--cfg" here is the value of --log, not an option. */
	ck_assert_int_eq(parse(ARGV("--log", "--cfg", "/missing")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "log"), "--cfg");
	ASSERT_OPERANDS("/missing");
}
END_TEST

/* Expect the config `text` to fail with `msg` on line `line`. */
static void
assert_config_error(const char *text, unsigned line, const char *msg)
{
	const char *cfg = config("bad.conf", text);
	char want[8192];

	snprintf(want, sizeof(want), "invalid line %u in config file \"%s\": %s", line, cfg, msg);
	assert_parse_error(ARGV("-v", "--cfg", (char *)cfg), want);
}

START_TEST(test_config_bad_lines)
{
	assert_config_error("# c\nverbose\n--foo 1\n", 3, "unknown option \"--foo\"");
	assert_config_error("foo bar\n", 1, "unknown option \"foo\"");
	assert_config_error("-zz=1\n", 1, "unknown option \"-zz\"");
	assert_config_error("dst\n", 1, "unknown option \"dst\"");
	assert_config_error("--\n", 1, "unknown option \"--\"");
	assert_config_error("\n\nverbose=yes\n", 3, "option \"--verbose\" does not take a value");
	assert_config_error("v yes\n", 1, "option \"--verbose\" does not take a value");
	assert_config_error("verbose=\n", 1, "option \"--verbose\" does not take a value");
	assert_config_error("dl\n", 1, "option \"--dst-local\" requires a value");
	assert_config_error("dl   \n", 1, "option \"--dst-local\" requires a value");
	assert_config_error("dl=\n", 1, "option \"--dst-local\" requires a value");
	assert_config_error("PJ 0\n", 1,
			    "invalid value \"0\" for option \"--parallel-jobs\": "
			    "expected an integer from 1 to 64");
	assert_config_error("dl /a\nPJ many\n", 2,
			    "invalid value \"many\" for option \"--parallel-jobs\": "
			    "expected an integer from 1 to 64");
}
END_TEST

/* A NUL byte would end the value early (getline keeps it, strlen stops at
 * it): "dl /a\0/b" must not quietly become "dl /a". */
START_TEST(test_config_nul_byte)
{
	static const char text[] = "verbose\ndl /a\0/b\nPJ 2\n";
	const char *cfg = h_path("nul.conf");
	char want[8192];

	h_write_file(cfg, text, sizeof(text) - 1);
	snprintf(want, sizeof(want),
		 "invalid line 2 in config file \"%s\": contains a NUL byte", cfg);
	assert_parse_error(ARGV("-v", "--cfg", (char *)cfg), want);
	/* Also in a comment, where nothing would be lost but the file is
	 * not text. */
	h_write_file(cfg, "# a\0b\n", 6);
	snprintf(want, sizeof(want),
		 "invalid line 1 in config file \"%s\": contains a NUL byte", cfg);
	assert_parse_error(ARGV("--cfg", (char *)cfg), want);
}
END_TEST

START_TEST(test_config_nested)
{
	assert_config_error("dl /a\nconfig-file /other\n", 2,
			    "option \"--config-file\" cannot be used in a config file");
	assert_config_error("--cfg=/other\n", 1,
			    "option \"--config-file\" cannot be used in a config file");
	assert_config_error("-config /other\n", 1,
			    "option \"--config-file\" cannot be used in a config file");
}
END_TEST

START_TEST(test_config_unreadable)
{
	char want[8192];
	const char *missing = h_path("missing.conf");

	snprintf(want, sizeof(want), "could not read config file \"%s\": No such file or directory",
		 missing);
	assert_parse_error(ARGV("--cfg", (char *)missing), want);

	snprintf(want, sizeof(want), "could not read config file \"%s\": Is a directory", h_dir());
	assert_parse_error(ARGV("-v", "--config", (char *)h_dir(), "x"), want);
}
END_TEST

START_TEST(test_config_errors_in_argv_order)
{
	char want[8192];
	const char *missing = h_path("missing.conf");

	/* An error before --cfg is reported, and the file is not needed. */
	assert_parse_error(ARGV("-zz", "--cfg", (char *)missing), "unknown option \"-zz\"");
	assert_parse_error(ARGV("-dl", "/a", "--verbose=1", "--cfg", (char *)missing),
			   "option \"--verbose\" does not take a value");
	/* A config file before a bad option is read first. */
	snprintf(want, sizeof(want), "could not read config file \"%s\": No such file or directory",
		 missing);
	assert_parse_error(ARGV("--cfg", (char *)missing, "-zz"), want);
}
END_TEST

/* --- pitr_opts_free ---------------------------------------------------- */

START_TEST(test_free_zeroed_and_twice)
{
	struct pitr_opts zero;
	const char *cfg = config("c.conf", "dl /c\n");

	memset(&zero, 0, sizeof(zero));
	pitr_opts_free(&zero);
	pitr_opts_free(NULL);
	ck_assert_int_eq(parse(ARGV("--cfg", (char *)cfg, "x", "-dl", "y")), 0);
	pitr_opts_free(&opts);
	ck_assert_ptr_null(opts.values);
	ck_assert_ptr_null(opts.owned);
	ck_assert_ptr_null(opts.operands);
	ck_assert_uint_eq(opts.nowned, 0);
	ck_assert_uint_eq(opts.noperands, 0);
	pitr_opts_free(&opts);
}
END_TEST

/* --- pitr_opts_get ----------------------------------------------------- */

START_TEST(test_get_by_long_name)
{
	ck_assert_int_eq(parse(ARGV("-l", "/x")), 0);
	ck_assert_ptr_eq(pitr_opts_get(&opts, "log"), &opts.values[5]);
	ck_assert_ptr_eq(pitr_opts_get(&opts, "data-dir"), &opts.values[0]);
	ck_assert_ptr_eq(pitr_opts_get(&opts, "version"), &opts.values[NDEFS - 1]);
	ck_assert_uint_eq(pitr_opts_get(&opts, "log")->count, 1);
}
END_TEST

START_TEST(test_get_unknown_asserts)
{
	ck_assert_int_eq(parse(ARGV(NULL)), 0);
	(void)pitr_opts_get(&opts, "no-such-option");
}
END_TEST

START_TEST(test_get_alias_asserts)
{
	/* Only long names: an alias is a programmer's typo too. */
	ck_assert_int_eq(parse(ARGV(NULL)), 0);
	(void)pitr_opts_get(&opts, "dl");
}
END_TEST

/* --- pitr_opts_str / flag / int / list ---------------------------------- */

START_TEST(test_str)
{
	ck_assert_int_eq(parse(ARGV("-D", "/d")), 0);
	ck_assert_str_eq(pitr_opts_str(&opts, "data-dir"), "/d");
	ck_assert_ptr_null(pitr_opts_str(&opts, "database"));
	ck_assert_ptr_null(pitr_opts_str(&opts, "parallel-jobs"));
}
END_TEST

START_TEST(test_flag)
{
	ck_assert_int_eq(parse(ARGV("-v")), 0);
	ck_assert(pitr_opts_flag(&opts, "verbose"));
	ck_assert(!pitr_opts_flag(&opts, "help"));
	ck_assert(!pitr_opts_flag(&opts, "log"));
}
END_TEST

START_TEST(test_int_default)
{
	/* Without a table default, an absent INT is 0. */
	ck_assert_int_eq(parse(ARGV(NULL)), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 0);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse(ARGV("-PJ", "12")), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "parallel-jobs"), 12);
	pitr_opts_free(&opts);
	/* With one, the default; given, the value. */
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a")), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "remove-at-a-time"), 3);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse_dflt(ARGV("-s", "/a", "-rt", "8")), 0);
	ck_assert_int_eq(pitr_opts_int(&opts, "remove-at-a-time"), 8);
}
END_TEST

START_TEST(test_list)
{
	size_t n = 99;

	ck_assert_int_eq(parse(ARGV(NULL)), 0);
	ck_assert_ptr_null(pitr_opts_list(&opts, "dst-local", &n));
	ck_assert_uint_eq(n, 0);
	pitr_opts_free(&opts);
	ck_assert_int_eq(parse(ARGV("-dl", "a", "-dl", "b")), 0);
	ck_assert_str_eq(pitr_opts_list(&opts, "dst-local", NULL)[1], "b");
	ASSERT_LIST("dst-local", "a", "b");
}
END_TEST

/* --- pitr_opts_parse_int ----------------------------------------------- */

START_TEST(test_parse_int_ok)
{
	char num[64];
	long val = 0;

	ck_assert_int_eq(pitr_opts_parse_int("n", "1", 1, 64, &val), 0);
	ck_assert_int_eq(val, 1);
	ck_assert_int_eq(pitr_opts_parse_int("n", "64", 1, 64, &val), 0);
	ck_assert_int_eq(val, 64);
	ck_assert_int_eq(pitr_opts_parse_int("n", "+7", 1, 64, &val), 0);
	ck_assert_int_eq(val, 7);
	ck_assert_int_eq(pitr_opts_parse_int("n", "-5", -10, 10, &val), 0);
	ck_assert_int_eq(val, -5);
	ck_assert_int_eq(pitr_opts_parse_int("n", "010", 0, 64, &val), 0);
	ck_assert_int_eq(val, 10);
	snprintf(num, sizeof(num), "%ld", LONG_MAX);
	ck_assert_int_eq(pitr_opts_parse_int("n", num, 0, LONG_MAX, &val), 0);
	ck_assert_int_eq(val, LONG_MAX);
	snprintf(num, sizeof(num), "%ld", LONG_MIN);
	ck_assert_int_eq(pitr_opts_parse_int("n", num, LONG_MIN, 0, &val), 0);
	ck_assert_int_eq(val, LONG_MIN);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* Expect parse_int(str) in [min, max] to fail with the uniform message and
 * leave the output alone. */
static void
assert_int_error(const char *optname, const char *str, long min, long max, const char *msg)
{
	long val = 4242;
	char want[512];

	h_log_reset();
	ck_assert_int_eq(pitr_opts_parse_int(optname, str, min, max, &val), -1);
	ck_assert_int_eq(val, 4242);
	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

START_TEST(test_parse_int_errors)
{
	char over[64], msg[256];

	assert_int_error("parallel-jobs", "abc", 1, 64,
			 "invalid value \"abc\" for option \"--parallel-jobs\": "
			 "expected an integer from 1 to 64");
	assert_int_error("n", "0", 1, 64,
			 "invalid value \"0\" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", "65", 1, 64,
			 "invalid value \"65\" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", "", 1, 64,
			 "invalid value \"\" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", "5 ", 1, 64,
			 "invalid value \"5 \" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", " 5", 1, 64,
			 "invalid value \" 5\" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", "5x", 1, 64,
			 "invalid value \"5x\" for option \"--n\": expected an integer from 1 to 64");
	assert_int_error("n", "0x10", 0, 64,
			 "invalid value \"0x10\" for option \"--n\": expected an integer from 0 to 64");
	assert_int_error("n", "-", 0, 64,
			 "invalid value \"-\" for option \"--n\": expected an integer from 0 to 64");
	/* One past each end of long: strtol's ERANGE. */
	snprintf(over, sizeof(over), "%lu", (unsigned long)LONG_MAX + 1);
	snprintf(msg, sizeof(msg),
		 "invalid value \"%s\" for option \"--n\": expected an integer from 0 to %ld", over,
		 LONG_MAX);
	assert_int_error("n", over, 0, LONG_MAX, msg);
	snprintf(over, sizeof(over), "-%lu", (unsigned long)LONG_MAX + 2);
	snprintf(msg, sizeof(msg),
		 "invalid value \"%s\" for option \"--n\": expected an integer from %ld to 0", over,
		 LONG_MIN);
	assert_int_error("n", over, LONG_MIN, 0, msg);
	/* A name already spelt with dashes is shown as given. */
	assert_int_error("-PJ", "x", -1, 1,
			 "invalid value \"x\" for option \"-PJ\": expected an integer from -1 to 1");
}
END_TEST

/* --- pitr_opts_print_help ---------------------------------------------- */

/* Run print_help on `table` and return the malloc'd output. */
static char *
help_text(const char *usage, const struct pitr_opt_def *table, size_t n)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(fp);
	pitr_opts_print_help(fp, "pitr-test", usage, table, n);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

START_TEST(test_help_exact)
{
	static const struct pitr_opt_def table[] = {
		{ "dst-local", "dl", PITR_OPT_LIST, "DIR", .help = "archive to DIR" },
		{ "verbose", "v", PITR_OPT_FLAG, NULL, .help = "log more" },
		{ "gzip-path", "gp", PITR_OPT_IGNORED, NULL, .help = "ignored" },
		{ "pid-file", NULL, PITR_OPT_STRING, "FILE", .help = "lock with FILE" },
		{ "remote-cat-path", "rcp remote-cat", PITR_OPT_STRING, "PATH", .help = "cat" },
		{ "quiet", NULL, PITR_OPT_FLAG, NULL, .help = NULL },
		PITR_OPTS_COMMON,
	};
	char *out = help_text("pitr-test [OPTIONS] FILE", table, sizeof(table) / sizeof(table[0]));

	ck_assert_str_eq(out,
			 "Usage: pitr-test [OPTIONS] FILE\n"
			 "Options:\n"
			 "  -dl, --dst-local=DIR                 archive to DIR\n"
			 "  -v, --verbose                        log more\n"
			 "  -gp, --gzip-path=VALUE               ignored\n"
			 "  --pid-file=FILE                      lock with FILE\n"
			 "  -rcp, --remote-cat-path, --remote-cat=PATH  cat\n"
			 "  --quiet\n"
			 "  --config-file, --config, --cfg=FILE  read options from FILE, one per line\n"
			 "  -?, --help                           show this help and exit\n"
			 "  -V, --version                        show the version and exit\n");
	free(out);
}
END_TEST

START_TEST(test_help_optional_value)
{
	char *out = help_text("prog", optional_defs, NOPTIONAL_DEFS);

	ck_assert_str_eq(out,
			 "Usage: prog\n"
			 "Options:\n"
			 "  -r, --remove-unneeded[=SEGMENT]      remove old files\n"
			 "  -v, --verbose                        log more\n"
			 "  --config-file, --config, --cfg=FILE  read options from FILE, one per line\n"
			 "  -?, --help                           show this help and exit\n"
			 "  -V, --version                        show the version and exit\n");
	free(out);
}
END_TEST

START_TEST(test_help_defaults_required_choices)
{
	char *out = help_text("prog", dflt_defs, NDFLT_DEFS);

	ck_assert_str_eq(out,
			 "Usage: prog\n"
			 "Options:\n"
			 "  -D, --data-dir=DIR                   data directory (default: .)\n"
			 "  -ep, --error-pgcontroldata=break|hang|ignore  when pg_controldata fails "
			 "(default: break)\n"
			 "  --level=LEVEL                        a level\n"
			 "  -l, --log=TEMPLATE                   log file, ^-strftime template "
			 "(default: standard error)\n"
			 "  -rt, --remove-at-a-time=N            files per pass (default: 3)\n"
			 "  -s, --source=DIR                     the archive (required)\n"
			 "  -t, --temp-dir=DIR                   temporary files (default: $TMPDIR or "
			 "/tmp)\n"
			 "  --wait=S                             (required)\n"
			 "  -a, --archive=DIR                    (required)\n"
			 "  -v, --verbose                        log more\n"
			 "  --config-file, --config, --cfg=FILE  read options from FILE, one per line\n"
			 "  -?, --help                           show this help and exit\n"
			 "  -V, --version                        show the version and exit\n");
	free(out);
}
END_TEST

START_TEST(test_help_column_capped)
{
	static const struct pitr_opt_def table[] = {
		{ "a", NULL, PITR_OPT_FLAG, NULL, .help = "short" },
		{ "a-very-long-option-name-indeed-longer", "b", PITR_OPT_STRING, "VALUE",
		  .help = "long" },
	};
	char *out = help_text("x\n       y", table, 2);

	ck_assert_str_eq(out,
			 "Usage: x\n"
			 "       y\n"
			 "Options:\n"
			 "  --a  short\n"
			 "  -b, --a-very-long-option-name-indeed-longer=VALUE  long\n");
	free(out);
}
END_TEST

START_TEST(test_help_lists_every_spelling)
{
	/* Every spelling --help shows is one the parser accepts. */
	char *out = help_text("prog", defs, NDEFS);

	ck_assert_ptr_nonnull(strstr(out, "  -dl, --dst-local=DIR "));
	ck_assert_ptr_nonnull(strstr(out, "  -PJ, --parallel-jobs=N "));
	ck_assert_ptr_nonnull(strstr(out, "  -D, --data-dir=DIR "));
	ck_assert_ptr_nonnull(strstr(out, "  -d, --database=NAME "));
	free(out);
	ck_assert_int_eq(parse(ARGV("-dl", "a", "--dst-local", "b", "-PJ", "2", "--parallel-jobs",
				    "3", "--config-file", (char *)config("c", ""), "--config",
				    (char *)config("c", ""), "--cfg", (char *)config("c", ""))),
			 0);
	ck_assert_uint_eq(pitr_opts_get(&opts, "config-file")->count, 3);
}
END_TEST

START_TEST(test_help_long_spelling_truncated)
{
	char name[700];
	struct pitr_opt_def table[] = {
		{ name, "x", PITR_OPT_STRING, "ARG", .help = "h" },
	};
	char want[1024];
	char *out;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	out = help_text("u", table, 1);
	/* The spellings stop at 511 characters; the help text still follows. */
	snprintf(want, sizeof(want), "Usage: u\nOptions:\n  -x, --%.*s  h\n", 511 - 6, name);
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

/* --- pitr_opts_print_version ------------------------------------------- */

/* Run print_version with `progname`; returns the malloc'd output. */
static char *
version_text(const char *progname)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *fp = open_memstream(&buf, &size);

	ck_assert_ptr_nonnull(fp);
	pitr_opts_print_version(fp, progname);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

START_TEST(test_version)
{
	char *out = version_text("pitr-archive");

	ck_assert_str_eq(out, "pitr-archive (pitrkit) " PITR_VERSION "\n");
	ck_assert_str_eq(PITR_VERSION, PACKAGE_VERSION);
	free(out);
	out = version_text("/usr/local/bin/pitr-restore");
	ck_assert_str_eq(out, "pitr-restore (pitrkit) " PITR_VERSION "\n");
	free(out);
}
END_TEST

START_TEST(test_begin_error_reaches_log)
{
	char logpath[4096];
	char *file, *err;

	snprintf(logpath, sizeof(logpath), "%s", h_path("sub/^Y.log"));
	/* The bad option comes before --log and the log dir does not exist
	 * yet: the error still reaches both the log file and stderr. */
	ck_assert_int_eq(begin(ARGV("--bogus", "-l", logpath)), -1);
	{
		char expanded[4096];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(expanded, sizeof(expanded), "sub/%Y.log", &tm);
		file = h_read_file(h_path(expanded), NULL);
	}
	err = h_read_file(h_path("stderr.txt"), NULL);
	ck_assert_ptr_nonnull(strstr(file, " : prog : ERROR : unknown option \"--bogus\"\n"));
	ck_assert_str_eq(file, err);
	free(file);
	free(err);
}
END_TEST

START_TEST(test_begin_help_version_normal)
{
	char *out;

	ck_assert_int_eq(begin(ARGV("--version")), 1);
	out = h_read_file(h_path("stdout.txt"), NULL);
	ck_assert_str_eq(out, "prog (pitrkit) " PITR_VERSION "\n");
	free(out);
	pitr_opts_free(&opts);

	ck_assert_int_eq(begin(ARGV("-?")), 1);
	out = h_read_file(h_path("stdout.txt"), NULL);
	ck_assert_ptr_nonnull(strstr(out, "Usage: prog [OPTION]...\n"));
	free(out);
	pitr_opts_free(&opts);

	/* Going on: the log is the final --log, verbose as given. */
	char blog[4096];

	snprintf(blog, sizeof(blog), "%s", h_path("b.log"));
	ck_assert_int_eq(begin(ARGV("-v", "-l", "/nonexistent-dir-a/x.log", "--log", blog, "op",
				    "-gp", "/usr/bin/gzip")), 0);
	ck_assert(pitr_log_is_verbose());
	ck_assert_uint_eq(opts.noperands, 1);
	pitr_log_info("into b");
	out = h_read_file(h_path("b.log"), NULL);
	ck_assert_ptr_nonnull(strstr(out, " : prog : LOG : into b\n"));
	/* --verbose tells which accepted options are ignored. */
	ck_assert_ptr_nonnull(strstr(out, " : prog : LOG : --gzip-path ignored: prog does this work "
				     "in-process\n"));
	free(out);
	/* Only the error path copies lines to stderr. */
	out = h_read_file(h_path("stderr.txt"), NULL);
	ck_assert_str_eq(out, "");
	free(out);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
make_suite(void)
{
	Suite *s = suite_create("opts");
	TCase *tc;

	tc = tcase("pitr_opts_parse");
	tcase_add_test(tc, test_parse_nothing);
	tcase_add_test(tc, test_parse_zeroes_output);
	tcase_add_test(tc, test_parse_every_spelling);
	tcase_add_test(tc, test_parse_single_letter_spellings);
	tcase_add_test(tc, test_parse_flag_counts);
	tcase_add_test(tc, test_parse_string_last_wins);
	tcase_add_test(tc, test_parse_operands_mixed);
	tcase_add_test(tc, test_parse_lone_dash_and_empty);
	tcase_add_test(tc, test_parse_double_dash_ends_options);
	tcase_add_test(tc, test_parse_value_taken_verbatim);
	tcase_add_test(tc, test_parse_value_with_equals);
	tcase_add_test(tc, test_parse_ignored_and_int);
	tcase_add_test(tc, test_parse_int_edges);
	tcase_add_test(tc, test_parse_help_version);
	tcase_add_test(tc, test_parse_unknown);
	tcase_add_test(tc, test_parse_unknown_hint);
	tcase_add_test(tc, test_config_unknown_hint);
	tcase_add_test(tc, test_progname);
	tcase_add_test(tc, test_parse_missing_value);
	tcase_add_test(tc, test_parse_flag_with_value);
	tcase_add_test(tc, test_parse_error_frees);
	tcase_add_test(tc, test_parse_optional_value);
	tcase_add_test(tc, test_parse_next_operand);
	tcase_add_test(tc, test_parse_defaults);
	tcase_add_test(tc, test_parse_required);
	tcase_add_test(tc, test_parse_choices);
	tcase_add_test_raise_signal(tc, test_parse_bad_default_asserts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_parse_bad_choice_default_asserts, SIGABRT);
	tcase_add_test(tc, test_config_optional_value);
	tcase_add_test(tc, test_config_list_precedence);
	tcase_add_test(tc, test_config_string_precedence);
	tcase_add_test(tc, test_config_every_spelling);
	tcase_add_test(tc, test_config_values_literal);
	tcase_add_test(tc, test_config_comments_blanks_flags);
	tcase_add_test(tc, test_config_empty_file);
	tcase_add_test(tc, test_config_several_files);
	tcase_add_test(tc, test_config_after_double_dash);
	tcase_add_test(tc, test_config_as_value_not_read);
	tcase_add_test(tc, test_config_bad_lines);
	tcase_add_test(tc, test_config_nul_byte);
	tcase_add_test(tc, test_config_nested);
	tcase_add_test(tc, test_config_unreadable);
	tcase_add_test(tc, test_config_errors_in_argv_order);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_free");
	tcase_add_test(tc, test_free_zeroed_and_twice);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_get");
	tcase_add_test(tc, test_get_by_long_name);
	tcase_add_test_raise_signal(tc, test_get_unknown_asserts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_get_alias_asserts, SIGABRT);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_str");
	tcase_add_test(tc, test_str);
	suite_add_tcase(s, tc);
	tc = tcase("pitr_opts_flag");
	tcase_add_test(tc, test_flag);
	suite_add_tcase(s, tc);
	tc = tcase("pitr_opts_int");
	tcase_add_test(tc, test_int_default);
	suite_add_tcase(s, tc);
	tc = tcase("pitr_opts_list");
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_no_operands");
	tcase_add_test(tc, test_no_operands);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_check_choice");
	tcase_add_test(tc, test_check_choice);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_parse_int");
	tcase_add_test(tc, test_parse_int_ok);
	tcase_add_test(tc, test_parse_int_errors);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_print_help");
	tcase_add_test(tc, test_help_exact);
	tcase_add_test(tc, test_help_optional_value);
	tcase_add_test(tc, test_help_defaults_required_choices);
	tcase_add_test(tc, test_help_column_capped);
	tcase_add_test(tc, test_help_lists_every_spelling);
	tcase_add_test(tc, test_help_long_spelling_truncated);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_begin");
	tcase_add_test(tc, test_begin_error_reaches_log);
	tcase_add_test(tc, test_begin_help_version_normal);
	tcase_add_test(tc, test_begin_omnipitr_name);
	suite_add_tcase(s, tc);

	tc = tcase("pitr_opts_print_version");
	tcase_add_test(tc, test_version);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
