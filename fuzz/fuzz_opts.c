/*
 * fuzz_opts.c - options (common/opts), built twice: fuzz_config feeds the
 * input to the config-file reader as the file --config-file names
 * (FUZZ_CONFIG set), fuzz_args splits it at NUL bytes into the argument
 * vector.  One table has a row of every kind.  Whatever the input, a parse
 * that succeeds must leave values the table allows: an INT within its
 * range, a STRING with choices one of them, no empty value, counts that
 * agree with the lists; and pitr_opts_free() must release everything.
 * fuzz_args also hands the operands to postgres/operand, as pitr-archive,
 * pitr-restore and pitr-cleanup do: what it picks must be among them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/opts.h"
#include "fuzz.h"
#include "postgres/operand.h"

#define MAX_ARGS 64

static const struct pitr_opt_def defs[] = {
	{ "dst-local", "dl", PITR_OPT_LIST, "DIR", .help = "a list" },
	{ "state-dir", "s", PITR_OPT_STRING, "DIR", .help = "a string" },
	{ "on-error", NULL, PITR_OPT_STRING, NULL, .choices = "break|hang|ignore",
	  .dflt = "break", .help = "a choice" },
	{ "remove-at-a-time", "rt", PITR_OPT_INT, "N", .min = 1, .max = 1000000, .dflt = "3",
	  .help = "an integer" },
	{ "remove-unneeded", "r", PITR_OPT_OPTIONAL, NULL, .help = "a flag with a value" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, .help = "a flag" },
	PITR_OPTS_IGNORED_CODEC_PATHS("compression"),
#ifdef FUZZ_CONFIG
	PITR_OPTS_COMMON,
#else
	/* No --config-file here: a path made of random bytes could name
	 * /dev/zero.  fuzz_config reads config files. */
	{ "help", "?", PITR_OPT_HELP, NULL, .help = "show this help and exit" },
	{ "version", "V", PITR_OPT_VERSION, NULL, .help = "show the version and exit" },
#endif
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static void
check_value(const struct pitr_opt_def *def, const struct pitr_opt_value *v)
{
	if (def->kind == PITR_OPT_LIST) {
		if (v->nlist != v->count)
			fuzz_fail("a list's length is not its count", def->name);
		for (size_t i = 0; i < v->nlist; i++)
			if (v->list[i] == NULL || v->list[i][0] == '\0')
				fuzz_fail("a list holds an empty value", def->name);
	}
	if (def->kind == PITR_OPT_INT && (v->num < def->min || v->num > def->max))
		fuzz_fail("an integer outside its range was taken", def->name);
	if (def->kind == PITR_OPT_STRING && def->choices != NULL &&
	    pitr_opts_check_choice(def->name, v->str, def->choices) < 0)
		fuzz_fail("a value outside the choices was taken", v->str);
	if ((def->kind == PITR_OPT_STRING || def->kind == PITR_OPT_INT) && v->count > 0 &&
	    (v->str == NULL || v->str[0] == '\0'))
		fuzz_fail("an option given has no value", def->name);
	if (def->kind == PITR_OPT_OPTIONAL && v->str != NULL && v->str[0] == '\0')
		fuzz_fail("an optional value is empty", def->name);
}

#ifdef FUZZ_CONFIG
static int
make_argv(const uint8_t *data, size_t size, char **argv)
{
	argv[0] = "pitr-fuzz";
	argv[1] = "--config-file";
	argv[2] = (char *)fuzz_file(data, size, ".conf");
	argv[3] = NULL;
	return 3;
}
#else
/* Arguments separated by NUL bytes, as execve(2) passes them. */
static int
make_argv(const uint8_t *data, size_t size, char **argv)
{
	char *copy = fuzz_cstr(data, size);
	int argc = 1;

	argv[0] = copy;     /* freed by the caller: argv[0] is never parsed */
	for (size_t pos = 0; pos < size && argc < MAX_ARGS; pos++)
		if (copy[pos] == '\0' || pos == 0)
			argv[argc++] = copy + pos + (copy[pos] == '\0');
	argv[argc] = NULL;
	return argc;
}
#endif

#ifndef FUZZ_CONFIG
static bool
among(const char *s, const char *const *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s == ops[i])
			return true;
	return false;
}

/* The operands as restore_command's, archive_command's and
 * archive_cleanup_command's: what is picked must be one of them. */
static void
check_operands(const struct pitr_opts *o, long after_r)
{
	const char *const *ops = o->operands;
	struct pitr_operand_restore r;
	const char *one;

	for (int want = 0; want < 2; want++)
		if (pitr_operand_restore(ops, o->noperands, want, after_r, &r) == 0 &&
		    (!among(r.wal_name, ops, o->noperands) || !among(r.wal_path, ops, o->noperands) ||
		     r.wal_name == r.wal_path || (r.cutoff && !among(r.cutoff, ops, o->noperands))))
			fuzz_fail("restore operands picked outside those given", NULL);
	if (pitr_operand_archive(ops, o->noperands, &one) == 0 && one != ops[0])
		fuzz_fail("archive operand is not the one given", NULL);
	if (pitr_operand_cleanup(ops, o->noperands, &one) == 0 && one != ops[0])
		fuzz_fail("cleanup operand is not the one given", NULL);
}
#endif

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 1];
	int argc = make_argv(data, size, argv);
	struct pitr_opts o;

	if (pitr_opts_parse(&o, defs, NDEFS, argc, argv) == 0) {
		for (size_t i = 0; i < NDEFS; i++)
			check_value(&defs[i], &o.values[i]);
#ifndef FUZZ_CONFIG
		check_operands(&o, pitr_opts_get(&o, "remove-unneeded")->next_operand);
#endif
	}
	pitr_opts_free(&o);
#ifndef FUZZ_CONFIG
	free(argv[0]);
#endif
	return 0;
}
