/*
 * orphan.h - a backup's files left at their final names without their
 * meta file (the meta is published last): what a backup run killed while
 * publishing left.  Only names the backup name template (-f) gives count:
 * a file merely containing "data" or "xlog" is someone else's.
 */
#ifndef PITR_REPO_ORPHAN_H
#define PITR_REPO_ORPHAN_H

#include <stdbool.h>
#include <stddef.h>

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
 * Whether `name` is a file `tmpl` gives a backup's data, xlog or digest
 * file (any codec, any digest; hostname NULL: any host) at some time, and
 * the meta file the same template gives at that same time (the same text
 * for every conversion) is not a regular file in `dir`.  A numeric
 * conversion without flags or width (^Y, ^m, ^d, ...) matches only its
 * digits; any other one matches any text.
 */
bool pitr_orphan_check(const char *tmpl, const char *hostname, const char *dir,
		       const char *name);

/*
 * Whether `name` in `dir` is an orphan: a regular file whose name holds
 * ".tar" (as every name of the default -f template does) and a non-meta
 * file type word of the template (data, xlog, a digest name) where no
 * file has "meta" in that place (with any codec extension for a digest
 * file).  Other files are no backup's and no orphan.  Loose on purpose,
 * for reporting (pitr-info, pitr-verify know no -f template): nothing is
 * removed on this basis; removal asks pitr_orphan_check(), which knows
 * the template (issue 9).
 */
bool pitr_orphan_loose(const char *dir, const char *name);

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

#endif
