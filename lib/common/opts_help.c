/*
 * opts_help.c - --help and --version, printed from the option table (see
 * opts.h): every spelling, the help text, "(required)" and the default, so
 * that what --help says cannot drift from what the parser does.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/opts.h"
#include "common/opts_impl.h"

#ifndef PITR_VERSION
#define PITR_VERSION "unknown"
#endif

/* --help pads the spellings to this column at most, so that one very long
 * spelling does not push every help text to the right. */
#define HELP_COLUMN_MAX 40

/* Room for what --help says of one option; longer is truncated. */
#define HELP_TEXT_MAX 4096

/*
 * Write the spellings of `def` as a user types them into buf: the leading
 * short aliases with one dash, the long name, the other aliases with two
 * dashes ("-dl, --dst-local=DIR", "--config-file, --config, --cfg=FILE"),
 * then "=ARG" for options with a value ("[=ARG]" when it is optional; ARG
 * is the choices "a|b" when the table gives no argname).
 * The short ones are the aliases of at most PITR_OPTS_SHORT_ALIAS_MAX characters
 * before the first longer one, so a table lists OmniPITR's "dl" first, and
 * long synonyms after a long one (even a short word like "cfg", which
 * OmniPITR documents as --cfg).
 * Returns the length written (truncated to size).
 */
static size_t
format_spellings(const struct pitr_opt_def *def, char *buf, size_t size)
{
	const char *pos = def->aliases;
	const char *argname = def->argname != NULL ? def->argname :
			      def->choices != NULL ? def->choices : "VALUE";
	const char *alias;
	size_t alen, nshort = 0, alias_idx = 0, used = 0;

	buf[0] = '\0';
	while ((alias = pitr_opts_next_alias(&pos, &alen)) != NULL && alen <= PITR_OPTS_SHORT_ALIAS_MAX) {
		pitr_opts_buf_add(buf, size, &used, "-%.*s, ", (int)alen, alias);
		nshort++;
	}
	pitr_opts_buf_add(buf, size, &used, "--%s", def->name);
	pos = def->aliases;
	while ((alias = pitr_opts_next_alias(&pos, &alen)) != NULL)
		if (alias_idx++ >= nshort)
			pitr_opts_buf_add(buf, size, &used, ", --%.*s", (int)alen, alias);
	if (pitr_opts_kind_takes_value(def->kind))
		pitr_opts_buf_add(buf, size, &used, "=%s", argname);
	else if (def->kind == PITR_OPT_OPTIONAL)
		pitr_opts_buf_add(buf, size, &used, "[=%s]", argname);
	return used;
}

/* Write what --help says of `def` after its spellings into buf: the help
 * text, then "(required)" or "(default: ...)"; "" for none. */
static void
format_help(const struct pitr_opt_def *def, char *buf, size_t size)
{
	const char *dflt = def->dflt != NULL ? def->dflt : def->dflt_doc;
	size_t used = 0;

	buf[0] = '\0';
	if (def->help != NULL)
		pitr_opts_buf_add(buf, size, &used, "%s", def->help);
	if (def->required != NULL)
		pitr_opts_buf_add(buf, size, &used, "%s(required)", used > 0 ? " " : "");
	if (dflt != NULL)
		pitr_opts_buf_add(buf, size, &used, "%s(default: %s)", used > 0 ? " " : "", dflt);
}

void
pitr_opts_print_help(FILE *fp, const char *progname, const char *usage,
		     const struct pitr_opt_def *defs, size_t ndefs)
{
	char spell[512];
	char text[HELP_TEXT_MAX];
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
		format_help(&defs[def_idx], text, sizeof(text));
		if (text[0] != '\0')
			fprintf(fp, "  %-*s  %s\n", column, spell, text);
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
