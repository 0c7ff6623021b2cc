/*
 * tarwrite.h - stream directory trees and in-memory files into a tar
 * (libarchive, pax restricted format) whose bytes go to a sink, so that
 * compression and delivery stay with our codec writers and destinations.
 */
#ifndef PITR_TARWRITE_H
#define PITR_TARWRITE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "compress/codec.h"

/* add_tree flags */
#define PITR_TARWRITE_PGDATA 0x1  /* skip what PostgreSQL says not to back up */
#define PITR_TARWRITE_ROOT_0700 0x2 /* the tree's own entry gets mode 0700 */
/* leave global/pg_control out, for the caller to add after every other
 * file: recovery of a backup taken on a standby ends at the copy's
 * minRecoveryPoint, which must be later than any page in the copy (as
 * PostgreSQL's basebackup.c sends it last) */
#define PITR_TARWRITE_SKIP_PGCONTROL 0x4

struct pitr_tarwrite;

/* A tar writer feeding `sink`.  Returns NULL after logging. */
struct pitr_tarwrite *pitr_tarwrite_new(pitr_codec_sink_fn sink, void *ctx);

/*
 * Add `dir` and everything under it as `prefix`/... (prefix without a
 * trailing slash).  Symbolic links are stored as links.  With
 * PITR_TARWRITE_PGDATA the exclusions of PostgreSQL 15's basebackup.c
 * apply: the contents (not the directories) of pg_wal, pg_stat_tmp,
 * pg_replslot, pg_dynshmem, pg_notify, pg_serial, pg_snapshots and
 * pg_subtrans; the files postmaster.pid, postmaster.opts, backup_label,
 * tablespace_map, backup_manifest, postgresql.auto.conf.tmp,
 * current_logfiles.tmp, pg_internal.init*, backup_label.old; anything named
 * pgsql_tmp*.  A file that vanishes while the tree is read is skipped; a
 * file is stored with the size stat gave, cut if it grew, zero-padded if it
 * shrank (the backup's WAL replay makes it right).  Returns 0 or -1
 * (logged).
 */
int pitr_tarwrite_add_tree(struct pitr_tarwrite *t, const char *dir, const char *prefix,
			   unsigned flags);

/* Add one regular file from disk as `name`.  Returns 0 or -1 (logged). */
int pitr_tarwrite_add_file(struct pitr_tarwrite *t, const char *path, const char *name);

/* Add an in-memory file (backup_label, tablespace_map).  Returns 0 or -1. */
int pitr_tarwrite_add_buffer(struct pitr_tarwrite *t, const char *name, const void *buf,
			     size_t len, mode_t mode);

/*
 * A per-file hook: what becomes of each regular file stored, for a caller
 * that signs what it stores or stores something else instead (an
 * incremental backup's changed chunks).  `file` is called for each
 * regular file before its header: from disk (add_tree, add_file) with
 * `path` its path, `fd` open on it at offset 0 and `size` the size the
 * tar would store (stat's), or for a buffer (add_buffer) with `path` NULL
 * and `fd` -1.  It returns
 * PITR_TARWRITE_STORE: the file is stored whole, `data` sees every buffer
 * of what is stored (exactly those bytes: cut if the file grew, zeros
 * where it shrank) and `end` its end; PITR_TARWRITE_TAKEN (from disk
 * only): the hook stored what it wanted, nothing or its own members
 * (pitr_tarwrite_add_member), and the fd is closed after it; or -1 after
 * logging, which fails the add.  `data` and `end` return 0 or -1 after
 * logging.
 */
#define PITR_TARWRITE_STORE 0
#define PITR_TARWRITE_TAKEN 1

struct pitr_tarwrite_hook {
	int (*file)(void *arg, struct pitr_tarwrite *t, const char *path, const char *name, int fd,
		    uint64_t size);
	int (*data)(void *arg, const void *buf, size_t len);
	int (*end)(void *arg);
	void *arg;
};

/* Set (NULL: remove) the hook, copied, for the files added from now on. */
void pitr_tarwrite_set_hook(struct pitr_tarwrite *t, const struct pitr_tarwrite_hook *hook);

/* Add an in-memory file as add_buffer does, without calling the hook: a
 * hook's own members.  Returns 0 or -1. */
int pitr_tarwrite_add_member(struct pitr_tarwrite *t, const char *name, const void *buf,
			     size_t len, mode_t mode);

/* Write the end of the archive.  Returns 0 or -1 (logged). */
int pitr_tarwrite_finish(struct pitr_tarwrite *t);

/* Tar bytes handed to the sink so far. */
uint64_t pitr_tarwrite_bytes(const struct pitr_tarwrite *t);

/* Regular files from disk stored (or taken by the hook) so far (add_tree,
 * add_file). */
uint64_t pitr_tarwrite_files(const struct pitr_tarwrite *t);

/* Release; accepts NULL. */
void pitr_tarwrite_free(struct pitr_tarwrite *t);

#endif
