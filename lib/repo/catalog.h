/*
 * catalog.h - what a backup directory and a WAL archive hold: the backups
 * pitr-backup-master wrote (read from their meta files), the archived WAL
 * per timeline with its gaps, and the timeline history that ties them.
 * pitr-info, pitr-verify, pitr-recover and pitr-backup-cleanup all read
 * their world through this module, so they agree on it.
 *
 * A backup is found by its meta file: any regular file in the backup dir
 * whose name contains "meta" and whose content (decompressed by the codec
 * its extension names, or plain) is a pitrkit meta file.  Its data, xlog
 * sig and digest files carry the same name with that "meta" replaced by
 * "data", "xlog", "sig" or the digest's name (pitr-backup-master's -f template
 * expands __FILETYPE__ to those words).  A digest file is plain text
 * whatever its name's codec extension, as OmniPITR's were; one without
 * that extension (pitrkit's before issue 11) is taken when the one with
 * it is missing.  When "meta" occurs several
 * times (a host called "metabox"), the occurrence whose "data" sibling
 * exists counts.  A meta file that cannot be read, or whose data file is
 * missing, is a problem, listed, not a backup; a file with "meta" in its
 * name that reads fine but holds no meta text is ignored unless its data
 * sibling exists.  Files named like a backup's other files whose meta
 * file is missing (a run killed while publishing: the meta comes last)
 * are orphans, listed, never a backup.  Hidden files and pitrkit's
 * temporary files
 * (".pitr-tmp.*") are ignored in both directories.  The meta file's
 * format is repo/meta.h's; history files and the recovery path they
 * describe are postgres/timeline.h's.
 */
#ifndef PITR_CATALOG_H
#define PITR_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "compress/codec.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"
#include "repo/store.h"
#include "s3/s3.h"

struct pitr_catalog_digest {
	char *algorithm;     /* "MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512" */
	char *file;          /* the digest file's name in the backup dir */
};

struct pitr_catalog_backup {
	char *name;          /* the meta file name with "meta" replaced by "*" */
	char *meta_file;     /* file names inside the backup dir */
	char *data_file;
	char *xlog_file;     /* NULL when the backup was taken with --skip-xlogs */
	enum pitr_codec codec;   /* of the files in this dir (from their extension) */
	char start_wal[PITR_WAL_NAME_MAX];
	char stop_wal[PITR_WAL_NAME_MAX];
	uint64_t start_lsn;
	uint64_t stop_lsn;
	char *start_time;    /* "YYYY-MM-DD HH:MM:SS +ZZZZ", as the meta has it */
	char *stop_time;
	time_t start_epoch;
	time_t stop_epoch;
	char *host;
	char *label;
	uint64_t sysid;
	uint32_t timeline;
	uint32_t segsize;    /* wal_segment_size of the cluster (the catalog's
			      * when the meta file does not say) */
	char *data_dir;      /* the data dir it was taken from */
	uint64_t data_size;  /* tar bytes, before compression */
	uint64_t xlog_size;
	char *codecs;        /* the meta's codec line: the destinations' codecs
			      * at backup time, comma-separated (NULL when it
			      * has none); `codec` is what reads the files */
	char *pg_version;    /* the server's major version ("15"); NULL when the
			      * meta (written before issue 11) does not say */
	char *source;        /* "primary" or "standby" (or a later version's word); NULL likewise */
	char *base;          /* an incremental's base label (meta.h); NULL: full */
	char *chain;         /* its chain's labels, full first, "|"-joined; NULL: full */
	char *sig_file;      /* its signatures (lib/delta/delta.h), the meta file
			      * name with "meta" replaced by "sig"; NULL when
			      * absent (backups before issue 13 have none, and
			      * cannot be the base of an incremental) */
	struct pitr_catalog_digest *digests;  /* one per algorithm the meta names */
	size_t ndigests;
	size_t dir;          /* its directory: cat->backup_dirs[dir] */
	uint64_t stored_size;  /* bytes on disk of its files there: meta, data,
				* xlog, sig and digest files (those present) */
};

struct pitr_catalog_gap {
	uint64_t first;      /* the first missing segment number */
	uint64_t last;       /* the last missing one (inclusive) */
};

struct pitr_catalog_timeline {
	uint32_t tli;
	bool has_history;    /* TTTTTTTT.history is in the archive (and parsed) */
	struct pitr_timeline_branch *ancestry;  /* its history file, oldest first;
						* empty for timeline 1 */
	size_t nancestry;
	uint64_t first;      /* segment numbers of its first and last segment; */
	uint64_t last;       /*   both 0 and nsegments 0 when it has none */
	size_t nsegments;
	struct pitr_catalog_gap *gaps;  /* missing segments between first and last */
	size_t ngaps;
	uint64_t stored_size;  /* bytes on disk of every archived file of the
				* timeline (segments under every codec and in
				* every archive, partial and history files) */
};

/* One archived file, as found in the archive dir. */
struct pitr_catalog_file {
	char *file;          /* the directory entry (WAL name + codec extension) */
	struct pitr_wal_name name;
	enum pitr_codec codec;
	uint64_t size;       /* bytes on disk */
	time_t mtime;
	size_t archive;      /* its directory: cat->archive_dirs[archive] */
};

/* A backup being written now: its files still at temporary names that a
 * live run holds locked (common/tmpfile.h), not yet published. */
struct pitr_catalog_progress {
	char *name;          /* its file names with the file type replaced by
			      * "*" and without codec extension */
	char **files;        /* the temporary files' names in the dir */
	size_t nfiles;
	uint64_t bytes;      /* written so far, all its files together */
	size_t dir;          /* cat->backup_dirs[dir] */
};

struct pitr_catalog {
	struct pitr_catalog_backup *backups;  /* oldest start first */
	size_t nbackups;
	struct pitr_catalog_backup *remnants;  /* meta files whose data file is
						* gone (a removal killed half
						* way): data_file NULL, xlog_file
						* and digests' files NULL where
						* absent; oldest start first */
	size_t nremnants;
	uint32_t segsize;    /* from the backups (the oldest that states it), else
			      * from the first archived segment with a valid
			      * header; 0 when neither tells (segments are then
			      * not counted, and a problem says so) */
	struct pitr_catalog_file *files;      /* every WAL file in the archive, by
					       * timeline then position */
	size_t nfiles;
	struct pitr_catalog_timeline *timelines;  /* ascending tli */
	size_t ntimelines;
	char **orphans;      /* files in the backup dir named as a backup's data,
			      * xlog or digest file whose meta file is missing
			      * (pitr_orphan_loose()): what a run killed
			      * while publishing left; one problem line lists
			      * them */
	size_t norphans;
	size_t *orphan_dirs;  /* orphans[i] is in backup_dirs[orphan_dirs[i]] */
	struct pitr_catalog_progress *in_progress;  /* pitr_catalog_load_progress()'s;
						     * none until it is called */
	size_t nin_progress;
	char **problems;     /* one line each: unreadable meta files, backups
			      * missing a file (data, xlog when xlog_size > 0,
			      * digest), backups that disagree on the segment
			      * size, files named like WAL that are not (or not
			      * regular files), unreadable or invalid history
			      * files, timelines after 1 without one */
	size_t nproblems;
	char **backup_dirs;  /* the dirs read, in the order given, without a
			      * codec prefix: local directories or s3:// locations */
	size_t nbackup_dirs;
	char **archive_dirs; /* likewise; where a segment is in several, the
			      * first archive's file comes first in `files` and
			      * is the one pitr_walpath_find_segment() returns */
	size_t narchive_dirs;
	struct pitr_store **backup_stores;   /* backup_dirs[i] as the store it was
					      * read through (repo/store.h): how
					      * its files are read */
	struct pitr_store **archive_stores;  /* likewise for archive_dirs */
};

/*
 * Read `backup_dir` (NULL: no backups) and `archive_dir` (NULL: no
 * archive).  Either may be given with a "CODEC=" prefix, which is ignored:
 * files are recognised by their own extension.  Either may be an object
 * store's s3://BUCKET/PREFIX/, reached with `s3` (a program's
 * PITR_OPTS_S3); with `s3` NULL (a program without those options) such a
 * location is refused.  A missing or unreadable directory, bucket or
 * prefix is an error; everything wrong inside one is a problem listed in
 * cat->problems, not an error.
 *
 * What only a local directory holds is looked for there alone: the
 * journals of backup runs that tell a run's orphans from foreign files
 * (an object store has none: there an object's mark, s3.h, which a HEAD
 * of each orphan reads, tells what pitrkit stored, an object a backup
 * killed before its meta object's PUT left, from another program's), and
 * the locked temporary files of backups in progress (an
 * object store's are pending multipart uploads, which s3.h lists).
 *
 * Returns 0, or -1 after logging (cat is then empty and needs no free,
 * but freeing it is harmless).
 */
int pitr_catalog_load(const char *backup_dir, const char *archive_dir,
		      const struct pitr_s3_config *s3, struct pitr_catalog *cat);

/*
 * The same over several hosts' directories: the backups of every
 * `backup_dirs` entry and the union of every `archive_dirs` entry's WAL,
 * so that the timelines, their gaps and the recoverable paths are those
 * of all of them together.  A segment several archives hold is counted
 * once; the file of the first archive (in the order given) serves it.
 * Problems name their directory.  Returns as pitr_catalog_load().
 */
int pitr_catalog_load_many(const char *const *backup_dirs, size_t nbackup_dirs,
			   const char *const *archive_dirs, size_t narchive_dirs,
			   const struct pitr_s3_config *s3, struct pitr_catalog *cat);

/*
 * The system identifier of archive `archive` of cat: its
 * .pitrkit-system-identifier record (postgres/sysid.h; an object store's
 * PREFIX.pitrkit-system-identifier object), else the long
 * header of the first segment it holds whose header fits its name.
 * Returns 0 with *sysid set, 1 when neither tells, -1 after logging (a
 * malformed record).
 */
int pitr_catalog_archive_sysid(const struct pitr_catalog *cat, size_t archive, uint64_t *sysid);

/*
 * Add to cat the backups in progress in its local backup dirs: their
 * temporary files that a live run holds locked, grouped by backup (a data, xlog,
 * meta or digest file's type word replaced by "*", the codec extension
 * dropped).  Separate from loading, because finding them takes each
 * temporary file's lock for an instant, which only a report wants.
 * Returns 0, or -1 after logging.
 */
int pitr_catalog_load_progress(struct pitr_catalog *cat);

/* Release everything; accepts a zeroed catalog. */
void pitr_catalog_free(struct pitr_catalog *cat);

/* The timeline entry for `tli`, or NULL. */
const struct pitr_catalog_timeline *pitr_catalog_timeline(const struct pitr_catalog *cat,
							   uint32_t tli);

/* ---- chains of incremental backups (catalog_chain.c) ---- */

/* Whether b is an incremental backup (its meta names a base). */
bool pitr_catalog_is_incremental(const struct pitr_catalog_backup *b);

/*
 * The labels of b's chain, the full backup first (b's own label not
 * among them), as a malloc'd array of *n malloc'd strings: b->chain split
 * at "|", or b->base alone when a meta names a base but no chain; none for
 * a full backup.  Returns 0, or -1 after logging (memory).
 */
int pitr_catalog_chain_labels(const struct pitr_catalog_backup *b, char ***labels, size_t *n);
void pitr_catalog_chain_labels_free(char **labels, size_t n);

/*
 * The backup of backup dir `dir` (an index into cat->backup_dirs) whose
 * label is `label`: the copy written with `codec` when a run left several
 * there, else the first; NULL when the dir has none (links of a chain are
 * always looked for in the dir of the backup that needs them: recovery
 * reads them from there).
 */
const struct pitr_catalog_backup *pitr_catalog_by_label(const struct pitr_catalog *cat, size_t dir,
							const char *label, enum pitr_codec codec);

/* The dir a "[CODEC=]DIR" option names (a pointer into `spec`): the
 * prefix is dropped when it is a codec's name. */
const char *pitr_catalog_dir(const char *spec);

#endif
