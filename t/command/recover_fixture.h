/*
 * recover_fixture.h - what the pitr-recover test programs share: a scratch
 * directory with a backup dir, an archive and a stand-in pitr-restore, the
 * options pointing at them, and small file builders.
 */
#ifndef PITR_T_RECOVER_FIXTURE_H
#define PITR_T_RECOVER_FIXTURE_H

#include <stdint.h>

#include "command/recover/recover.h"

#define SEG (1u << 20)
#define SYSID 7300000000000000001ULL

/* Paths in the scratch directory, set by setup(): the backup dir, the
 * archive, the stand-in pitr-restore (exits 1), the source cluster and its
 * tablespace (made by check_recover.c's make_backup). */
extern char bk[4096], arch[4096], prog[4096], src[4096], ts[4096];

/* A fresh scratch directory with bk, arch and prog made, in TZ=UTC. */
void setup(void);
void teardown(void);

/* A directory, a text file (mode 0600), failing the test on any error. */
void mk(const char *path);
void text_file(const char *path, const char *text);

/* Segment `segno` of timeline `tli`, gzip'ed into the archive. */
void put_segment(uint32_t tli, uint64_t segno);

/* Options for a recovery from bk and gzip=arch into "new" with prog. */
void opts_init(struct pitr_recover_opts *o);

#endif
