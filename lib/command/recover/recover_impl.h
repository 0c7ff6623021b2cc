/*
 * recover_impl.h - what the files of pitr-recover share: the state of one
 * run, and each file's entry points for recover.c's orchestration.
 *
 *   target.c      the recovery target and --target-timeline, parsed
 *   choose.c      the backup chosen, and the proof that it and the
 *                 archive reach the target (WAL path, digests)
 *   files.c       the backup's files read through their dir's store (a
 *                 directory or an object store)
 *   settings.c    restore_command's parts and the recovery settings
 *                 written into the new data directory
 *   extract.c     the tarballs extracted under the temporary name
 *   tablespace.c  --tablespace-map, each tablespace's destination, and
 *                 tablespace_map and pg_tblspc relinked to them
 *   start.c       --start: pg_ctl found, the server started and watched
 *                 until it reaches the target
 *   check.c       an incremental backup's chain: its links found and
 *                 proven whole before anything is written
 *   apply.c       then each incremental applied over the full backup's
 *                 extraction, its tarball read in one pass
 *   patch.c       the applying thread: each changed chunk patched,
 *                 checked and written in place
 *   ended.c       --recovery-ended (recovery_end_command), and the removal
 *                 of pitr-restore's prefetch dir at the target
 *   recover.c     the run in order, what the files share, and undoing a
 *                 failed run
 *
 * Not installed.  These names carry no pitr_ prefix: they are not part of
 * the library's interface.
 */
#ifndef PITR_CMD_RECOVER_IMPL_H
#define PITR_CMD_RECOVER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "command/recover/recover.h"
#include "delta/delta.h"
#include "repo/catalog.h"
#include "s3/s3.h"

/* The largest settings, digest or tablespace_map file read whole. */
#define RECOVER_CONF_MAX (1024 * 1024)

struct recover_tablespace {
	char *old;          /* its path in the backup */
	char *new;          /* where it goes (absolute, as given or the old one) */
	char *real;         /* realpath(new), once it exists */
	char *created;      /* the topmost directory this run created, or NULL */
	bool remapped;
};

struct pitr_delta_sigs;      /* delta/delta.h */

struct recover_run {
	const struct pitr_recover_opts *o;
	struct pitr_recover_target target;
	struct pitr_catalog cat;
	const struct pitr_catalog_backup *b;
	uint32_t tli;              /* the timeline recovery follows (resolved) */
	char *parent;              /* realpath of the target dir's parent */
	char *final;               /* parent/name */
	char *tmp;                 /* parent/.name.pitr-tmp-PID */
	bool tmp_created;
	bool renamed;              /* tmp is at final: nothing to undo */
	char *base;                /* the data dir's name inside the tarballs */
	const char *tarball;       /* the tarball being extracted, for messages */
	struct recover_tablespace *ts;
	size_t nts;
	char **map_old, **map_new; /* --tablespace-map, parsed */
	bool *map_used;            /* map_old[i] was a tablespace extracted */
	size_t nmap;
	char *restore_prog;
	char *recover_prog;        /* recovery_end_command's program */
	char **archives;           /* -a, each [CODEC=]absolute dir or s3:// location */
	size_t narchives;
	struct pitr_s3_config s3;  /* o->s3 with its CA file absolute, for
				    * restore_command (zeroed without o->s3) */
	char *s3_ca_file;          /* that CA file (malloc'd), or NULL */
	char *archives_text;       /* "A", "B": the archives in messages */
	char *backup_dirs_text;    /* likewise the backup dirs */
	char *pg_ctl;
	bool probed;               /* --start: a session was tried once */
	/* An incremental backup's chain (check.c): the full backup first, b
	 * last; none (nlinks 0) when b is a full backup. */
	const struct pitr_catalog_backup **links;
	size_t nlinks;
	struct pitr_delta_sigs *sigs;  /* each link's sig file, read: nsigs of them */
	size_t nsigs;
	/* Per link: its digests verified (recover_choose_check_digests);
	 * NULL until then, and no link is taken as proven. */
	bool *verified;
	struct recover_apply *apply;   /* the incremental being applied, or NULL */
};

/* ---- recover.c: what the files share ----------------------------------- */

enum recover_dir_state {
	RECOVER_DIR_MISSING,
	RECOVER_DIR_EMPTY,
	RECOVER_DIR_FULL,
	RECOVER_DIR_NOT_DIR,
	RECOVER_DIR_ERROR,
};

/* Whether `path` is missing, an empty or a full directory, something
 * else, or unreadable (errno set).  Logs nothing. */
enum recover_dir_state recover_dir_state(const char *path);

/* Strip trailing slashes (keeping "/"); returns s. */
char *recover_strip_slashes(char *s);

/* Chown `path` to the owner the extraction gave run->tmp, when running as
 * root (the tarball's owner is restored then, so the server's user must be
 * able to read what this run wrote itself).  Returns 0, or -1 after
 * logging. */
int recover_give_to_owner(struct recover_run *run, const char *path);

/* Publish `text` as run->tmp/`name` (replacing it or not) and give it to
 * the data directory's owner.  Returns 0, or -1 after logging. */
int recover_write_file(struct recover_run *run, const char *name, const char *text, bool replace);

/* ---- target.c ------------------------------------------------------------ */

/* How the target reads in messages: "--target-time 2024-...". */
void recover_target_text(const struct pitr_recover_target *t, char *out, size_t size);

/* --target-timeline as a number in *tli_wanted; 0 for latest, current or
 * none.  Returns 0, or -1 after logging. */
int recover_target_timeline(const struct pitr_recover_opts *o, uint32_t *tli_wanted);

/* ---- choose.c ------------------------------------------------------------ */

/* Load the catalog, choose run->b (--backup or by the target, on the
 * history of `tli_wanted`, 0: any) and resolve run->tli.  Returns 0, or -1
 * after logging. */
int recover_choose_backup(struct recover_run *run, uint32_t tli_wanted);

/* Log the plan, then check that the archives together hold every segment
 * from the backup to the target.  Returns 0, or -1 after logging. */
int recover_choose_check_wal(struct recover_run *run);

/* Check that every archive that tells its system identifier (its record,
 * else a segment's header) tells the chosen backup's.  Returns 0, or -1
 * after logging the first that differs. */
int recover_choose_check_systems(struct recover_run *run);

/* The directory run->b's files are in. */
const char *recover_backup_dir(const struct recover_run *run);

/* The dirs `specs` name (codec prefixes dropped with `strip`), as one
 * string for messages: A", "B (each message quotes it whole).  malloc'd,
 * NULL after logging ENOMEM. */
char *recover_dirs_text(const char *const *specs, size_t n, bool strip);

/* Verify every digest the chosen backup and every link of its chain
 * have, run->verified[i] set for each link that had some.  Returns 0 (an
 * info line for each that has none), or -1 after logging. */
int recover_choose_check_digests(struct recover_run *run);

/* ---- files.c ------------------------------------------------------------- */

/* Open file `name` of backup b's dir for reading: its descriptor, to be
 * closed with recover_file_close(), *path what messages call it (malloc'd,
 * NULL after ENOMEM; to be freed in either case).  Returns -1 after
 * logging; a missing file is "`what` "PATH" of backup "B" is
 * missing". */
int recover_file_open(const struct recover_run *run, const struct pitr_catalog_backup *b,
		      const char *name, const char *what, char **path);

/* Close it: `read_whole` when its reader read it to its end and found it
 * good.  Returns 0 when so and the store delivered every byte, else -1
 * (what the store had to say logged). */
int recover_file_close(const struct recover_run *run, const struct pitr_catalog_backup *b, int fd,
		       bool read_whole);

/* A small text file (at most RECOVER_CONF_MAX bytes) of b's dir, read
 * whole: malloc'd, NUL-terminated; NULL after logging.  *path as above. */
char *recover_file_read_small(const struct recover_run *run, const struct pitr_catalog_backup *b,
			      const char *name, const char *what, char **path);

/* The hex `algorithm` digest of file `name` of b's dir into `hex`
 * (PITR_DIGEST_HEX_MAX).  Returns 0, or -1 after logging.  *path as above. */
int recover_file_digest(const struct recover_run *run, const struct pitr_catalog_backup *b,
			const char *name, const char *what, const char *algorithm, char *hex,
			char **path);

/* ---- check.c, apply.c: an incremental's chain ----------------------------- */

struct pitr_delta_file;

/* ".pitrkit/<key>/<k>.d" or ".w" (delta.h): *key (malloc'd), *k, *whole.
 * Returns 0, 1 when `member` is not such a name, -1 after logging ENOMEM. */
int recover_chunk_parse(const char *member, char **key, uint32_t *k, bool *whole);

/* The index of chunk k among f's stored chunks, or -1. */
ssize_t recover_chunk_index(const struct pitr_delta_file *f, uint32_t k);

/* An incremental's chunk members met in its data tarball, against those
 * its manifest lists (each once). */
struct recover_tally {
	const struct pitr_delta_sigs *s;
	size_t *first;       /* per file: its first chunk's place in `seen` */
	bool *seen;          /* per chunk the manifest lists: met */
	size_t want, met;
};

int recover_tally_init(struct recover_tally *t, const struct pitr_delta_sigs *s);
/* Chunk member `member` met: 0; 1 with *problem (malloc'd) when it is no
 * chunk, one the manifest does not list, or one met before; -1 after
 * logging ENOMEM. */
int recover_tally_meet(struct recover_tally *t, const char *member, char **problem);
/* Every chunk the manifest lists met: 0; else -1 after logging it (of
 * `tarball`, backup `label`; "nothing written" said when so). */
int recover_tally_end(const struct recover_tally *t, const char *tarball, const char *label,
		      bool nothing_written);
void recover_tally_free(struct recover_tally *t);

/* ---- apply.c, patch.c: an incremental applied ----------------------------- */

struct chunk_pipe;

/* A chunk member, by its name. */
struct chunk_name {
	char *key;
	uint32_t k;
	bool whole;          /* ".w": the chunk itself, not a delta */
};

/* The file chunks go to, on the reading thread: its key, its file in the
 * link and its path, resolved once for all its chunks (a file's chunks
 * come together). */
struct recover_target {
	char *key, *path;
	const struct pitr_delta_file *f;
};

/* One incremental being applied (apply.c), which the applying thread
 * (patch.c) reads. */
struct recover_apply {
	const struct pitr_catalog_backup *link;
	const struct pitr_delta_sigs *sigs;
	size_t i;            /* its place in run->links */
	char **seen;         /* every destination a member mapped to */
	size_t nseen, capseen;
	struct recover_target t;
	struct chunk_pipe *pipe;
	struct recover_tally tally;  /* its chunk members, met in this pass */
};

/* The most a chunk member may hold: a delta of a chunk is at most a
 * little over the chunk (literal commands' headers); more is damage. */
#define MEMBER_MAX (PITR_DELTA_CHUNK + PITR_DELTA_CHUNK / 8 + 4096)

/* A chunk member handed over: its name, file (path owned) and data. */
struct chunk_slot {
	struct chunk_name st;
	const struct pitr_delta_file *f;
	char *path;
	unsigned char *data;
	size_t n;
};

/* ---- patch.c: the applying thread --------------------------------------- */

/* Start the thread that patches, checks and writes an incremental's
 * chunks in place, handed over by the reading thread; NULL after logging. */
struct chunk_pipe *recover_pipe_start(const struct recover_run *run,
				      const struct recover_apply *ap);
/* A free slot for the reading thread to fill, NULL when the applying
 * thread failed (it logged why); recover_pipe_push() hands it over. */
struct chunk_slot *recover_pipe_slot(struct chunk_pipe *p);
void recover_pipe_push(struct chunk_pipe *p);
/* Release what a slot holds (its data buffer stays). */
void recover_slot_clear(struct chunk_slot *s);
/* Whether the applying thread failed (it logged why). */
bool recover_pipe_failed(struct chunk_pipe *p);
/* Stop the applying thread (at its end: every chunk applied; else at
 * once, after the chunk it is on) and free it.  0, or -1 when it failed. */
int recover_pipe_finish(struct chunk_pipe *p, bool end);


/* When run->b is an incremental backup: find every link of its chain in
 * its backup dir (data and sig files present) into run->links.  Returns
 * 0 (at once for a full backup), or -1 after logging. */
int recover_chain_find(struct recover_run *run);

/* Then read and compose the links' signatures, and read each
 * incremental link's data tarball through, its chunk members checked
 * against its manifest, unless its digests proved it whole (those links'
 * chunk members are counted during their pass, in apply.c, instead).
 * Writes nothing.  Returns 0, or -1 after logging. */
int recover_chain_check(struct recover_run *run);

/* Apply link `i` (> 0) of the chain to run->tmp and the tablespaces: its
 * data tarball extracted over them (whole files replacing), its chunks
 * patched and checked against its signatures, its files truncated to
 * their sizes, removed files and dropped directories removed.  *bytes:
 * the tarball's file data.  Returns 0, or -1 after logging. */
int recover_chain_apply(struct recover_run *run, size_t i, uint64_t *bytes);

/* Free what recover_chain_find(), _check() and _apply() keep in run. */
void recover_chain_free(struct recover_run *run);

/* ---- settings.c ---------------------------------------------------------- */

/* run->archives: each -a with its directory made absolute
 * (restore_command runs in the data dir), an s3:// one as given; and
 * run->s3 with its CA file made absolute likewise.  Returns 0, or -1
 * after logging. */
int recover_settings_archive(struct recover_run *run);

/* run->restore_prog: --pitr-restore, else pitr-restore beside this
 * program; it must be executable.  Returns 0, or -1 after logging. */
int recover_settings_restore_program(struct recover_run *run);

/* Write the recovery settings into run->tmp: postgresql.auto.conf (the
 * backup's own target settings commented out, pitr_recover_conf_text
 * appended, for the PostgreSQL `version` of PG_VERSION), postgresql.conf
 * and pg_hba.conf when the backup had none, and the signal file (the other
 * one removed).  Returns 0, or -1 after
 * logging. */
int recover_settings_write(struct recover_run *run, const char *version);

/* The signal file the copy gets: "standby.signal" or "recovery.signal". */
const char *recover_settings_signal(const struct pitr_recover_opts *o);

/* ---- extract.c ----------------------------------------------------------- */

/* `rest` under `dir` (leading slashes dropped, trailing ones stripped):
 * malloc'd, NULL after logging ENOMEM. */
char *recover_join_rest(const char *dir, const char *rest);

/* The last component of a backup's data_dir: its members' prefix in the
 * data tarball.  malloc'd, NULL after logging ENOMEM. */
char *recover_data_base_name(const char *data_dir);

/* Where a data tarball member goes (pitr_tarread_dest_fn, ctx the run),
 * under run->base's naming. */
char *recover_map_data(void *ctx, const char *member, bool *skip, unsigned *id);

/* Create run->tmp and extract the backup's data and xlog tarballs into it
 * (tablespaces to their destinations, judged as they come), give it its
 * own pg_wal, and check it is a base backup.  For an incremental, the
 * full backup's data tarball, each incremental's applied over it in
 * order, then the last one's xlog tarball.  Returns 0 with *version set
 * to its PG_VERSION (malloc'd), or -1 after logging. */
int recover_extract(struct recover_run *run, char **version);

/* ---- tablespace.c -------------------------------------------------------- */

/* Parse --tablespace-map into run->map_old/map_new.  Returns 0, or -1
 * after logging. */
int recover_tablespace_parse_map(struct recover_run *run);

/* The tablespace the backup kept at `old`, met for the first time: its
 * destination (mapped or the old path) judged free, created, and added to
 * run->ts.  Returns the entry, or NULL after logging. */
struct recover_tablespace *recover_tablespace_add(struct recover_run *run, const char *old);

/* Check that --tablespace-map, the tablespaces extracted and the backup's
 * tablespace_map name the same ones, then rewrite tablespace_map and make
 * pg_tblspc's links for the new places.  Returns 0, or -1 after logging. */
int recover_tablespace_relink(struct recover_run *run);

/* Give the directories this run created above each tablespace to the data
 * directory's owner (as root).  Returns 0, or -1 after logging. */
int recover_tablespace_chown(struct recover_run *run);

/* Sync the data dir (run->tmp) and each tablespace and its parent
 * directory, all at once (a thread each).  Returns 0, or -1 after
 * logging (each failure its own line). */
int recover_tablespace_sync(struct recover_run *run);

/* ---- ended.c ------------------------------------------------------------- */

/* Remove pitr-restore -pf's directory in `data_dir`'s pg_wal (stopping a
 * worker still filling it), logging one line naming `when` if there was
 * one.  Returns 0, or -1 after logging. */
int recover_remove_prefetch(const char *data_dir, const char *when);

/* ---- start.c ------------------------------------------------------------- */

/*
 * pg_ctl: the option; else the backup's own major version in PostgreSQL's
 * Debian layout (a pg_ctl of another version on PATH would start a server
 * that refuses the data dir); else pg_ctl on PATH (as execvp reads it,
 * common/findprog).  With `version` NULL (before extraction) only whether
 * there is one, on PATH or in any version's bin directory, is looked at,
 * so that a machine with no pg_ctl at all is refused before anything is
 * written.
 * Returns 0 with run->pg_ctl set, 1 when it is not decided yet (only with
 * version NULL), -1 after logging.
 */
int recover_start_find_pg_ctl(struct recover_run *run, const char *version);

/* Start the server on run->final and wait until it is at the target
 * (promoted, paused, a standby, or shut down there).  Returns 0 after
 * logging where it stopped, or -1 after logging why not (the server may be
 * left running). */
int recover_start_and_wait(struct recover_run *run);

#endif
