/*
 * operand.h - which operand is which: the %p that archive_command passes,
 * the %f %p (and %r) of restore_command and the %r of
 * archive_cleanup_command, as PostgreSQL substitutes them into the
 * setting's command line.  pitr-archive, pitr-restore and pitr-cleanup
 * hand their operands here, in command-line order; a setting that passes
 * the wrong ones is refused with one line saying what it must pass.
 */
#ifndef PITR_OPERAND_H
#define PITR_OPERAND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * archive_command's operand: exactly one, %p.  Returns 0 with *wal_path
 * set to it (a pointer into ops), or -1 after logging
 *   no WAL file given: archive_command must pass "%p"
 *   more than one WAL file given: archive_command must pass only "%p"
 */
int pitr_operand_archive(const char *const *ops, size_t nops, const char **wal_path);

/*
 * archive_cleanup_command's operand: exactly one, %r.  Returns 0 with
 * *segment set to it (a pointer into ops), or -1 after logging
 *   no WAL segment given: archive_cleanup_command must pass "%r"
 *   more than one operand given: archive_cleanup_command passes only "%r"
 */
int pitr_operand_cleanup(const char *const *ops, size_t nops, const char **segment);

/* restore_command's operands, pointers into the ops given. */
struct pitr_operand_restore {
	const char *wal_name;  /* %f: the file the server wants */
	const char *wal_path;  /* %p: where it goes */
	const char *cutoff;    /* %r, when it was among the operands; else NULL */
};

/*
 * restore_command's operands: "%f %p", in that order; and when
 * `want_cutoff` (a bare --remove-unneeded, whose value may follow as an
 * operand) also three, one of which is %r.  %f and %p always come as the
 * pair "%f %p", and %p is a path (the server passes pg_wal/RECOVERYXLOG)
 * where %f and %r are bare names, so when exactly one of the three has a
 * '/' and it is not the first, it is %p, the one before it %f and the
 * remaining one %r, whatever the order ("-r %r %f %p", "%f %p -r %r").
 * Otherwise %r is the operand at index `after_r` (the one that came right
 * after the bare option on the command line, -1 for none), else the last.
 * Returns 0 with *out set, or -1 after logging
 *   WAL file name and destination not given: restore_command must pass "%f" "%p"
 *     (fewer than two operands)
 *   too many operands: restore_command passes "%f" "%p", and "%r" only after
 *   --remove-unneeded
 *     (more than two, or than three with want_cutoff)
 */
int pitr_operand_restore(const char *const *ops, size_t nops, bool want_cutoff, long after_r,
			 struct pitr_operand_restore *out);

#endif
