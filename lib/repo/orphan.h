/*
 * orphan.h - a backup's files left at their final names without their
 * meta file (the meta is published last): what a backup run killed while
 * publishing left, when that run's journal names them; any other file
 * without meta (OmniPITR's backups never had one) is someone else's.
 */
#ifndef PITR_REPO_ORPHAN_H
#define PITR_REPO_ORPHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* -f's default (backup.h's PITR_BACKUP_DEFAULT_TEMPLATE). */
#define PITR_ORPHAN_DEFAULT_TEMPLATE "__HOSTNAME__-__FILETYPE__-^Y-^m-^d.tar__CEXT__"

/*
 * The strftime(3) format of template `tmpl`: its keys replaced by their
 * values (a '%' in a value doubled: literal), each '^' turned into '%' and
 * each '%' of the template doubled.  A NULL `hostname` stands for any
 * host name: a "%@" no strftime call ever sees, which
 * pitr_orphan_template_match() matches with anything.  Returns 0, or -1
 * when it does not fit `size`.
 */
int pitr_orphan_template_format(const char *tmpl, const char *hostname, const char *filetype,
				const char *cext, char *fmt, size_t size);

/* The length of the conversion after a '%' at `p`, as glibc's strftime
 * reads it: flags, a field width, an E or O modifier, the conversion
 * character (fewer at the format's end). */
size_t pitr_orphan_conversion_len(const char *p);

/*
 * Whether `name` in `dir` is an orphan: a regular file whose name holds
 * ".tar" (as every name of the default -f template does) and a non-meta
 * file type word of the template (data, xlog, a digest name) where no
 * file has "meta" in that place (with any codec extension for a digest
 * file).  Other files are no backup's and no orphan.  Loose on purpose,
 * for reporting (pitr-info, pitr-verify know no -f template): nothing is
 * removed on this basis; removal asks a dead run's journal (below).
 */
bool pitr_orphan_loose(const char *dir, const char *name);

/* The same rule where `exists(ctx, NAME)` tells whether a regular file
 * (an object) NAME is there: an object store's listing. */
typedef bool (*pitr_orphan_exists_fn)(void *ctx, const char *name);
bool pitr_orphan_loose_by(pitr_orphan_exists_fn exists, void *ctx, const char *name);

/*
 * What becomes of an orphan in an object store (a backup object whose
 * meta object is missing), where no journal and no lock reach: the
 * object's mark (s3.h) says who stored it.  Without one another program
 * did (OmniPITR's uploaders through --dst-pipe, whose backups never had a
 * meta file): foreign, never removed.  One pitrkit stored is a killed
 * run's once `min_age` seconds have passed since its Last-Modified `mtime`
 * at `now` (a younger one may be a live backup's, about to put its meta);
 * a negative `min_age` waits for nothing (tests).
 */
enum pitr_orphan_fate {
	PITR_ORPHAN_REMOVE,    /* a killed pitrkit run's: it goes */
	PITR_ORPHAN_FOREIGN,   /* not pitrkit's: it stays, reported */
	PITR_ORPHAN_YOUNG,     /* pitrkit's, too young to tell: it stays for now */
};
enum pitr_orphan_fate pitr_orphan_object_fate(bool marked, time_t mtime, time_t now, int min_age);

/*
 * The backup dir's lock, an flock(2) on the directory itself: a backup run
 * holds it shared from before it checks its names until it ends, so a
 * file without meta is only an orphan nobody owns while the lock can be
 * taken exclusive; whoever removes orphans (the next backup at its start,
 * pitr-backup-cleanup) takes it so, without waiting.  Shared: waits.
 * Returns the descriptor holding it (close to release), -2 when exclusive
 * is refused because another process holds it, -1 after logging.
 */
int pitr_orphan_lock(const char *dir, bool exclusive);

/* ---- the backup run's journal (orphan_journal.c) ----
 *
 * Only files a pitrkit run provably left are ever removed as orphans: a
 * backup run writes, durably and before any of its files can reach a final
 * name, one journal per local destination, a hidden file ".pitr-journal.*"
 * naming this host, the meta file and (by device and inode, recorded while
 * they are still at their temporary names) the other files it publishes
 * there, and keeps it locked (flock) while it lives.  Files without meta
 * that no journal records as they are (OmniPITR's backups, which never had
 * a meta file, even at the same names, or an older pitrkit's leftovers)
 * are foreign: never removed.
 */
#define PITR_ORPHAN_JOURNAL_PREFIX ".pitr-journal."

struct pitr_orphan_journal;

/* Write and fsync (file and dir) the journal in `dir` naming this host
 * and `meta`, held locked until pitr_orphan_journal_end().  NULL after
 * logging. */
struct pitr_orphan_journal *pitr_orphan_journal_begin(const char *dir, const char *meta);

/* Record one file the run is about to publish as `name`: its temporary
 * file's device and inode, which the publishing rename keeps.  Then
 * pitr_orphan_journal_sync() before the first is published.  0, or -1
 * after logging. */
int pitr_orphan_journal_add(struct pitr_orphan_journal *j, const char *name, dev_t dev,
			    ino_t ino);
int pitr_orphan_journal_sync(struct pitr_orphan_journal *j);

/* The run ends: its journal goes when its meta file is in place or none
 * of the files it recorded is (nothing to sweep), else it stays for the
 * next sweep; the lock is released, `j` freed.  NULL is harmless. */
void pitr_orphan_journal_end(struct pitr_orphan_journal *j);

/* Called by pitr_orphan_sweep() for each file a dead run's journal
 * recorded, still that very file, whose meta file is absent;
 * `other_host`: the journal is another machine's (or names none), whose
 * lock this one may not see on a shared (NFS) dir, so its run may be
 * alive and publishing.  0 removed (or gone), 1 kept for now, -1 failed
 * (logged). */
typedef int (*pitr_orphan_remove_fn)(void *arg, const char *dir, const char *name,
				     bool other_host);

/*
 * The journals in `dir` whose run is dead (their lock free): when the
 * meta file they name is absent, `remove` is called for each of their
 * recorded files present; the journal itself goes (unless
 * `keep_journals`: a dry run) once its meta is there or every file went.
 * Anything at a journal's name that is not a regular file is passed over.
 * Returns 0, or -1 when something failed (logged).
 */
int pitr_orphan_sweep(const char *dir, bool keep_journals, pitr_orphan_remove_fn remove,
		      void *arg);

/* Whether a journal in `dir` (live or dead) records the file at `name`
 * as one of its run's: a file without meta is pitrkit's orphan, not
 * foreign. */
bool pitr_orphan_journaled(const char *dir, const char *name);

#endif
