/*
 * lsn.h - WAL locations (LSNs) as PostgreSQL writes them: "X/X", the high
 * and low 32 bits in hex, as pg_lsn's output, backup_label, history files
 * and recovery_target_lsn have them.
 */
#ifndef PITR_LSN_H
#define PITR_LSN_H

#include <stddef.h>
#include <stdint.h>

/* Room for any formatted LSN and its NUL ("FFFFFFFF/FFFFFFFF"). */
#define PITR_LSN_TEXT_MAX 18

/* "0/3000028" -> 0x3000028: 1 to 8 hex digits each side, either case,
 * nothing before or after.  Returns 0, or -1 with *out untouched (nothing
 * logged). */
int pitr_lsn_parse(const char *text, uint64_t *out);

/* 0x3000028 -> "0/3000028", upper-case hex without leading zeros, as
 * PostgreSQL prints it; truncated to `size` (PITR_LSN_TEXT_MAX is
 * enough). */
void pitr_lsn_format(uint64_t lsn, char *out, size_t size);

#endif
