/*
 * catalog_fixture.h - what the tests of the catalog and of the WAL path
 * through it build: a backup dir (bk) and an archive dir (arch) in the
 * test's scratch dir, holding backups as pitr-backup-master writes them
 * and segments as pitr-archive does.
 */
#ifndef PITR_T_CATALOG_FIXTURE_H
#define PITR_T_CATALOG_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "compress/codec.h"
#include "repo/catalog.h"

#define SEG (1u << 20)
#define SYSID 7300000000000000001ULL

/* The backup dir and the archive dir, made empty by the setup. */
extern char bk[4096], arch[4096];

/* Check fixture: the harness's scratch dir, with bk and arch in it. */
void catalog_fixture_setup(void);
void catalog_fixture_teardown(void);

/* dir/name holding `len` bytes compressed with `codec`. */
void put(const char *dir, const char *name, enum pitr_codec codec, const void *buf, size_t len);
void put_text(const char *dir, const char *name, enum pitr_codec codec, const char *text);

/* An archived segment (1 MiB, valid header) under its name + extension. */
void put_segment(uint32_t tli, uint64_t segno, enum pitr_codec codec);

/*
 * The meta text pitr-backup-master writes for a backup taken on March
 * `day` from segment `start` to `stop` on `tli`; `tail` follows the
 * classic keys (the new ones: epochs, wal_segment_size, digests).  A
 * static buffer, overwritten by the next call.
 */
const char *meta_text(int day, uint32_t tli, unsigned start, unsigned stop, const char *host,
		      unsigned long xlog_size, const char *tail);

/* A complete backup: meta (with codec), data and xlog files, named by
 * `stem_fmt` ("%s" the file type, "%02d" the day). */
void put_backup(const char *stem_fmt, int day, enum pitr_codec codec, const char *meta);

/* Load the catalog of backup dir b and archive dir a; must succeed. */
void load(struct pitr_catalog *cat, const char *b, const char *a);

#endif
