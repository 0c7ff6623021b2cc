/*
 * pitr-restore - restore_command: hand PostgreSQL the WAL file it asks for,
 * keep a warm standby waiting, finish recovery on a trigger, prune the
 * archive.  Parses options and calls pitr_cmd_restore().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/restore/restore.h"
#include "common/log.h"
#include "common/opts.h"

static const struct pitr_opt_def restore_options[] = {
	{ "bzip2-path", "bp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; decompression is in-process" },
	{ "data-dir", "D", PITR_OPT_STRING, "DIR", 0, 0, "the cluster's data directory; %p is relative to it (default: .)" },
	{ "error-pgcontroldata", "ep", PITR_OPT_STRING, "break|hang|ignore", 0, 0, "when pg_controldata fails: fail, wait, or skip removal (default: break)" },
	{ "finish-trigger", "f", PITR_OPT_STRING, "FILE", 0, 0, "end recovery when FILE exists: NOW at once, else after the archived segments" },
	{ "gzip-path", "gp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; decompression is in-process" },
	{ "log", "l", PITR_OPT_STRING, "TEMPLATE", 0, 0, "log file, ^-strftime template (default: stderr)" },
	{ "lz4-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; decompression is in-process" },
	{ "lzma-path", "lp", PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; decompression is in-process" },
	{ "pgcontroldata-path", "pp", PITR_OPT_STRING, "PATH", 0, 0, "the pg_controldata program (default: found on PATH or by PG_VERSION)" },
	{ "pid-file", NULL, PITR_OPT_STRING, "FILE", 0, 0, "run only one copy at a time, locked on FILE" },
	{ "prefetch", "pf", PITR_OPT_INT, "N", 0, PITR_RESTORE_PREFETCH_MAX, "decompress the next N segments in the background, for the next calls (default: 0)" },
	{ "pre-removal-processing", "h", PITR_OPT_STRING, "COMMAND", 0, 0, "run COMMAND FILE (no shell) with each file before removing it" },
	{ "recovery-delay", "w", PITR_OPT_INT, "SECONDS", 0, 315360000, "hand a segment over only once it is that old in the archive" },
	{ "removal-pause-trigger", "p", PITR_OPT_STRING, "FILE", 0, 0, "remove nothing while FILE exists" },
	{ "remove-at-a-time", "rt", PITR_OPT_INT, "N", 1, 1000000, "remove at most N files per pass (default: 3)" },
	{ "remove-before", "rb", PITR_OPT_FLAG, NULL, 0, 0, "with -r: remove before handing the file over, not after" },
	{ "remove-unneeded", "r", PITR_OPT_OPTIONAL, "SEGMENT", 0, 0, "remove archived files older than SEGMENT (%r) or the REDO file" },
	{ "source", "s", PITR_OPT_STRING, "[CODEC=]DIR", 0, 0, "the archive to restore from" },
	{ "streaming-replication", "sr", PITR_OPT_FLAG, NULL, 0, 0, "a missing segment fails at once (the server then streams)" },
	{ "temp-dir", "t", PITR_OPT_STRING, "DIR", 0, 0, "for --pre-removal-processing copies (default: $TMPDIR or /tmp)" },
	{ "verbose", "v", PITR_OPT_FLAG, NULL, 0, 0, "log waits, removals and timings" },
	{ "xz-path", NULL, PITR_OPT_IGNORED, "PATH", 0, 0, "accepted for OmniPITR; decompression is in-process" },
	PITR_OPTS_COMMON,
};

#define NOPTIONS (sizeof(restore_options) / sizeof(restore_options[0]))

/* The spellings of -r without a value, after which %r may follow. */
static bool
is_bare_remove_unneeded(const char *arg)
{
	static const char *const spellings[] = {
		"-r", "--r", "-remove-unneeded", "--remove-unneeded",
	};

	for (size_t spell_idx = 0; spell_idx < sizeof(spellings) / sizeof(spellings[0]); spell_idx++)
		if (strcmp(arg, spellings[spell_idx]) == 0)
			return true;
	return false;
}

/*
 * With -r, which of three operands is %r.  %f and %p always come as the
 * pair "%f %p", and %p is a path (PostgreSQL passes pg_wal/RECOVERYXLOG)
 * where %f and %r are bare names: when exactly one operand has a slash it
 * is %p, the one before it %f, and the remaining one %r, whatever the
 * order ("-r %r %f %p", "%f %p -r %r", "-r %f %p %r").  Otherwise %r is the
 * operand right after a bare -r (operands point into argv, so it is found
 * by identity), else the last one.  Returns its index.
 */
static size_t
cutoff_operand(const struct pitr_opts *o, int argc, char **argv)
{
	size_t found = o->noperands - 1;
	size_t nslash = 0, p_idx = 0;

	for (size_t op_idx = 0; op_idx < o->noperands; op_idx++) {
		if (strchr(o->operands[op_idx], '/') != NULL) {
			nslash++;
			p_idx = op_idx;
		}
	}
	if (nslash == 1 && p_idx > 0)
		return p_idx == 1 ? 2 : 0;
	for (int argi = 1; argi + 1 < argc; argi++) {
		if (strcmp(argv[argi], "--") == 0)
			break;
		if (!is_bare_remove_unneeded(argv[argi]))
			continue;
		for (size_t op_idx = 0; op_idx < o->noperands; op_idx++)
			if (o->operands[op_idx] == argv[argi + 1])
				found = op_idx;
	}
	return found;
}

int
main(int argc, char **argv)
{
	struct pitr_opts o = { 0 };
	struct pitr_restore_opts r = { 0 };
	const char *ep;
	const char *ops[2];
	int rc = 1;

	switch (pitr_opts_begin(&o, "pitr-restore",
				"pitr-restore [OPTION]... %f %p\n"
				"       pitr-restore [OPTION]... -r %r %f %p",
				restore_options, NOPTIONS, argc, argv)) {
	case 1:
		rc = 0;
		/* fall through */
	case -1:
		goto out;
	}
	ep = pitr_opts_str(&o, "error-pgcontroldata");
	if (ep != NULL && pitr_restore_ep_from_name(ep, &r.error_pgcontroldata) != 0) {
		pitr_log_error("invalid value \"%s\" for option \"--error-pgcontroldata\": expected "
			       "break, hang or ignore", ep);
		goto out;
	}
	r.remove_unneeded = pitr_opts_flag(&o, "remove-unneeded");
	r.remove_cutoff = pitr_opts_str(&o, "remove-unneeded");
	if (o.noperands == 3 && r.remove_unneeded && r.remove_cutoff == NULL) {
		size_t cut = cutoff_operand(&o, argc, argv);
		size_t n = 0;

		r.remove_cutoff = o.operands[cut];
		for (size_t op_idx = 0; op_idx < 3; op_idx++)
			if (op_idx != cut)
				ops[n++] = o.operands[op_idx];
	} else if (o.noperands == 2) {
		ops[0] = o.operands[0];
		ops[1] = o.operands[1];
	} else if (o.noperands < 2) {
		pitr_log_error("WAL file name and destination not given: restore_command must pass "
			       "\"%%f\" \"%%p\"");
		goto out;
	} else {
		pitr_log_error("too many operands: restore_command passes \"%%f\" \"%%p\", and "
			       "\"%%r\" only after --remove-unneeded");
		goto out;
	}
	r.data_dir = pitr_opts_str(&o, "data-dir") ? pitr_opts_str(&o, "data-dir") : ".";
	r.source = pitr_opts_str(&o, "source");
	r.recovery_delay = (int)pitr_opts_int(&o, "recovery-delay", 0);
	r.finish_trigger = pitr_opts_str(&o, "finish-trigger");
	r.remove_before = pitr_opts_flag(&o, "remove-before");
	r.remove_at_a_time = (int)pitr_opts_int(&o, "remove-at-a-time", 3);
	r.removal_pause_trigger = pitr_opts_str(&o, "removal-pause-trigger");
	r.pre_removal_processing = pitr_opts_str(&o, "pre-removal-processing");
	r.temp_dir = pitr_opts_str(&o, "temp-dir");
	r.streaming_replication = pitr_opts_flag(&o, "streaming-replication");
	r.pid_file = pitr_opts_str(&o, "pid-file");
	r.pgcontroldata_path = pitr_opts_str(&o, "pgcontroldata-path");
	r.prefetch = (int)pitr_opts_int(&o, "prefetch", 0);
	r.wal_name = ops[0];
	r.wal_path = ops[1];
	rc = pitr_cmd_restore(&r) == 0 ? 0 : 1;
out:
	pitr_opts_free(&o);
	pitr_log_close();
	return rc;
}
