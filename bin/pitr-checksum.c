/*
 * pitr-checksum - OmniPITR's omnipitr-checksum: the digest of standard
 * input as "HEX *FILENAME", or the list of digests.  Parses options and
 * calls pitr_cmd_checksum().
 */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "command/checksum/checksum.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def checksum_options[] = {
	{ "digest", "d", PITR_OPT_STRING, "NAME",
	  .help = "the digest: MD5, SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512",
	  .dflt = PITR_CHECKSUM_DEFAULT_DIGEST },
	{ "filename", "f", PITR_OPT_STRING, "NAME",
	  .help = "the file name written after the digest",
	  .dflt = PITR_CHECKSUM_DEFAULT_FILENAME },
	{ "list", "l", PITR_OPT_FLAG, NULL, .help = "list the digests -d takes and exit" },
	/* -l is OmniPITR's --list here: the log has its long name only. */
	{ "log", NULL, PITR_OPT_STRING, "TEMPLATE",
	  .help = "log file, ^-strftime template", .dflt_doc = "standard error" },
	PITR_OPTS_VERBOSE("no effect: pitr-checksum logs only errors"),
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(checksum_options) / sizeof(checksum_options[0]))

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_checksum_opts c = { 0 };
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-checksum", "pitr-checksum [-d DIGEST] [-f FILENAME] < FILE\n"
				"       pitr-checksum --list",
				checksum_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_opts_no_operands(&o, "pitr-checksum") != 0)
		goto out;
	c.digest = pitr_opts_str(&o, "digest");
	c.filename = pitr_opts_str(&o, "filename");
	c.list = pitr_opts_flag(&o, "list");
	c.in = STDIN_FILENO;
	c.out = stdout;
	rc = pitr_cmd_checksum(&c) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
