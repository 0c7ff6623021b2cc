/*
 * archdir.h - a local WAL archive directory as pitr-restore and
 * pitr-cleanup see it: files named by their WAL name plus the extension of
 * the codec that compressed them.
 *
 * Ordering and removal follow pg_archivecleanup: files are compared by the
 * 16 hex digits after the timeline (the timeline is ignored, so a parent
 * timeline's segments that a standby on the child timeline still needs are
 * not taken for older), only segments and partial segments are ever
 * removed, and timeline history files never are.
 */
#ifndef PITR_ARCHDIR_H
#define PITR_ARCHDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "compress/codec.h"
#include "postgres/wal.h"
#include "postgres/walhdr.h"

/* Room for a WAL name, the longest codec extension and the NUL. */
#define PITR_ARCHDIR_FILE_MAX (PITR_WAL_NAME_MAX + 8)

struct pitr_archdir_entry {
	char file[PITR_ARCHDIR_FILE_MAX];  /* the directory entry: WAL name + extension */
	struct pitr_wal_name name;         /* its WAL name, parsed */
	enum pitr_codec codec;             /* the codec its extension names */
};

/* Parse an archive's file name (no directory) into *e when it is a
 * segment or a partial segment, with any codec extension: the files
 * pitr_archdir_list_older() and s3arch.h's listing may remove.  Returns
 * true when it is one. */
bool pitr_archdir_parse_entry(const char *file, struct pitr_archdir_entry *e);

/* Sort `n` entries oldest first: by position (timeline ignored), equal
 * positions by file name. */
void pitr_archdir_sort(struct pitr_archdir_entry *entries, size_t n);

/*
 * Look for the WAL file `walname` (a bare name, no extension) in `dir`:
 * first with the extension of `preferred`, then with every other codec's
 * (none included), so an archive whose codec was changed still serves the
 * files written before.  Returns 1 with *path (malloc'd, the caller frees
 * it), *codec and *st (may be NULL) set; 0 when there is no such file
 * (nothing logged: a missing file is a normal answer); -1 after logging any
 * other error (an unreadable directory, a name that is not a plain file).
 */
int pitr_archdir_find(const char *dir, const char *walname, enum pitr_codec preferred,
		      char **path, enum pitr_codec *codec, struct stat *st);

/*
 * Read the archived copy at `path` (compressed with `codec`) of the WAL
 * file `name` whole, as a restore would: the stream must be complete, and
 * for a segment (or partial segment) its page header must pass
 * pitr_walhdr_check() and its decompressed length equal the header's
 * segment size; any other WAL file must not be empty.  Returns 0 with
 * *hdr set for a segment (*has_hdr true), or -1 after logging one line
 * naming `path` and the first problem.
 */
int pitr_archdir_check_copy(const char *path, enum pitr_codec codec,
			    const struct pitr_wal_name *name, struct pitr_walhdr *hdr,
			    bool *has_hdr);

/*
 * Parse a cutoff name (%r): a segment name, or a partial segment or backup
 * history file name meaning its segment, as pg_archivecleanup takes them.
 * Timeline 00000000 is accepted too: PostgreSQL passes
 * "000000000000000000000000" as %r before the first restartpoint, and only
 * the position counts.  Returns 0 with *out set (kind PITR_WAL_SEGMENT,
 * timeline 1 for timeline 0), or -1 without logging (the caller names the
 * option).
 */
int pitr_archdir_parse_cutoff(const char *name, struct pitr_wal_name *out);

/*
 * The segments and partial segments in `dir`, any codec extension, whose
 * position is before `cutoff` (timeline ignored).  `cutoff` may be a
 * segment, a partial segment or a backup history file name: only its
 * position counts, so the cutoff segment itself, and its .partial, are
 * never listed.  History and backup history files, temporary files and
 * anything else are never listed.  Sorted oldest first (equal positions by
 * file name).  Returns 0 with *entries (malloc'd array the caller frees;
 * NULL when *n is 0), or -1 after logging.
 */
int pitr_archdir_list_older(const char *dir, const struct pitr_wal_name *cutoff,
			    struct pitr_archdir_entry **entries, size_t *n);

/* Called before each removal by pitr_archdir_remove_older(); returns 0 to
 * go on with the removal, -1 (after logging) to postpone it and the rest. */
typedef int (*pitr_archdir_hook_fn)(void *ctx, const char *dir,
				    const struct pitr_archdir_entry *entry);

/*
 * Remove the oldest files pitr_archdir_list_older() lists, at most `limit`
 * of them (0: all), oldest first, calling `hook` (may be NULL) before each.
 * Each removal is logged with pitr_log_verbose(); a file already gone (a
 * concurrent cleanup) counts as removed.  The first failure (a hook, or
 * unlink) stops the run, so that no newer file is removed while an older
 * one stays.  *removed (may be NULL) gets the number removed.  Returns 0,
 * or -1 after logging.
 */
int pitr_archdir_remove_older(const char *dir, const struct pitr_wal_name *cutoff, size_t limit,
			      pitr_archdir_hook_fn hook, void *ctx, size_t *removed);

#endif
