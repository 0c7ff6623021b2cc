/*
 * pitr-archive - archive_command: deliver one finished WAL file to every
 * destination, durably.  Parses options and calls pitr_cmd_archive().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "command/archive/archive.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/sigclean.h"
#include "postgres/operand.h"

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_archive_opts a = { 0 };
	int rc = 1;

	/* First of all, so that no instant of the run dies of a signal: TERM,
	 * INT, QUIT (PostgreSQL's immediate shutdown signals the archiver's
	 * group) and HUP remove this run's temporary files and end with exit
	 * status 1. */
	if (pitr_sigclean_install("pitr-archive", false) != 0)
		return 1;
	switch (pitr_opts_begin(&o, "pitr-archive", "pitr-archive [OPTION]... WAL_PATH",
				pitr_archive_option_defs, pitr_archive_noption_defs, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	if (pitr_operand_archive(o.operands, o.noperands, &a.wal_path) != 0)
		goto out;
	pitr_archive_opts_read(&o, &a);
	a.ahead_mode = PITR_AHEAD_DETACHED;
	rc = pitr_cmd_archive(&a) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
