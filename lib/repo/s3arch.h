/*
 * s3arch.h - a WAL archive in an object store (s3://BUCKET/PREFIX/) as
 * pitr-restore and pitr-cleanup see it: objects named PREFIX, the WAL
 * name and the extension of the codec that compressed it, beside the
 * system identifier record PREFIX.pitrkit-system-identifier (sysid.h), as
 * files lie in a local archive directory (archdir.h), whose ordering and
 * removal rules apply unchanged.  Listings are non-recursive: what lies
 * below a further '/' is not the archive's.
 */
#ifndef PITR_S3ARCH_H
#define PITR_S3ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compress/codec.h"
#include "dest/dest.h"
#include "postgres/wal.h"
#include "repo/archdir.h"

struct pitr_s3;

/*
 * The kind to give pitr_dest_spec_parse() for an archive a program reads
 * (pitr-restore -s, pitr-cleanup -a: [CODEC=]DIR or [CODEC=]s3://...):
 * PITR_DEST_RSYNC, which it makes PITR_DEST_S3, for an object store, so
 * that the location is checked and spelt "s3://BUCKET/PREFIX/"; else
 * PITR_DEST_LOCAL.
 */
enum pitr_dest_kind pitr_s3arch_spec_kind(const char *arg);

/*
 * Whether `name` (a key with the archive's prefix taken off) is the WAL
 * file `walname` followed by a codec's extension, or by none: exactly,
 * so that "WALNAME.partial.gz" or "WALNAME.gz.tmp" are not WALNAME's.
 * Returns true with *codec set.
 */
bool pitr_s3arch_match(const char *name, const char *walname, enum pitr_codec *codec);

/* An archived copy of a WAL file. */
struct pitr_s3arch_found {
	char *key;              /* full key, prefix included; malloc'd */
	enum pitr_codec codec;  /* the codec its extension names */
	uint64_t size;          /* compressed size */
	time_t mtime;           /* when it was stored */
};

/*
 * Look for the WAL file `walname` under `prefix` with one listing of the
 * keys starting with PREFIX+WALNAME: the copy with the extension of
 * `preferred` first, then the other codecs' in table order (none
 * included), as pitr_archdir_find() does.  Returns 1 with *found set
 * (free its key), 0 when there is none (nothing logged: a missing file is
 * a normal answer), -1 after logging.
 */
int pitr_s3arch_find(struct pitr_s3 *s3, const char *prefix, const char *walname,
		     enum pitr_codec preferred, struct pitr_s3arch_found *found);

/*
 * The segments and partial segments under `prefix` (any codec extension)
 * older than `cutoff`, with pitr_archdir_list_older()'s rules and order;
 * an entry's file is its key without the prefix.  Returns 0 with
 * *entries (malloc'd; NULL when *n is 0), or -1 after logging.
 */
int pitr_s3arch_list_older(struct pitr_s3 *s3, const char *prefix,
			   const struct pitr_wal_name *cutoff, struct pitr_archdir_entry **entries,
			   size_t *n);

/*
 * pitr_archdir_remove_older() for the archive under `prefix`: at most
 * `limit` (0: all) of the objects pitr_s3arch_list_older() lists are
 * deleted, oldest first, `hook` (may be NULL) called before each with
 * the archive's "s3://BUCKET/PREFIX" as its `dir`; the first failure stops
 * the run.  Returns 0, or -1 after logging; *removed (may be NULL) gets
 * the number deleted.
 */
int pitr_s3arch_remove_older(struct pitr_s3 *s3, const char *prefix,
			     const struct pitr_wal_name *cutoff, size_t limit,
			     pitr_archdir_hook_fn hook, void *ctx, size_t *removed);

#endif
