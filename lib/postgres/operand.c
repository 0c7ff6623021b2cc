/*
 * operand.c - which of the operands PostgreSQL passes is which (see
 * operand.h).
 */
#include "config.h"

#include <string.h>

#include "common/log.h"
#include "postgres/operand.h"

int
pitr_operand_archive(const char *const *ops, size_t nops, const char **wal_path)
{
	if (nops != 1) {
		pitr_log_error(nops == 0 ? "no WAL file given: archive_command must pass \"%%p\"" :
			       "more than one WAL file given: archive_command must pass only \"%%p\"");
		return -1;
	}
	*wal_path = ops[0];
	return 0;
}

int
pitr_operand_cleanup(const char *const *ops, size_t nops, const char **segment)
{
	if (nops != 1) {
		pitr_log_error(nops == 0 ? "no WAL segment given: archive_cleanup_command must pass "
			       "\"%%r\"" : "more than one operand given: archive_cleanup_command "
			       "passes only \"%%r\"");
		return -1;
	}
	*segment = ops[0];
	return 0;
}

/* Which of three operands is %r (see pitr_operand_restore()). */
static size_t
cutoff_index(const char *const *ops, long after_r)
{
	size_t nslash = 0, p_idx = 0;

	for (size_t op_idx = 0; op_idx < 3; op_idx++) {
		if (strchr(ops[op_idx], '/') != NULL) {
			nslash++;
			p_idx = op_idx;
		}
	}
	if (nslash == 1 && p_idx > 0)
		return p_idx == 1 ? 2 : 0;
	if (after_r >= 0 && after_r < 3)
		return (size_t)after_r;
	return 2;
}

int
pitr_operand_restore(const char *const *ops, size_t nops, bool want_cutoff, long after_r,
		     struct pitr_operand_restore *out)
{
	const char *pair[2];
	size_t npair = 0;

	memset(out, 0, sizeof(*out));
	if (nops < 2) {
		pitr_log_error("WAL file name and destination not given: restore_command must pass "
			       "\"%%f\" \"%%p\"");
		return -1;
	}
	if (nops > (want_cutoff ? 3u : 2u)) {
		pitr_log_error("too many operands: restore_command passes \"%%f\" \"%%p\", and "
			       "\"%%r\" only after --remove-unneeded");
		return -1;
	}
	if (nops == 3) {
		size_t cut = cutoff_index(ops, after_r);

		out->cutoff = ops[cut];
		for (size_t op_idx = 0; op_idx < 3; op_idx++)
			if (op_idx != cut)
				pair[npair++] = ops[op_idx];
	} else {
		pair[0] = ops[0];
		pair[1] = ops[1];
	}
	out->wal_name = pair[0];
	out->wal_path = pair[1];
	return 0;
}
