/*
 * synch_impl.h - what the files of lib/command/synch share.
 *
 *   output.c   -o and -m parsed, each tablespace's place at each output
 *   synch.c    the run: session, checks, plan, backup start and stop
 *   stream.c   the one tar stream, compressed once, to every receiver
 *   config.c   the files written at an output besides the data
 *   receive.c  pitr-synch --receive: the stream extracted at an output
 *
 * Every call returns 0, or -1 after logging one line, unless it says
 * otherwise.
 */
#ifndef PITR_CMD_SYNCH_IMPL_H
#define PITR_CMD_SYNCH_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/synch/delta.h"
#include "command/synch/output.h"
#include "command/synch/synch.h"
#include "common/progress.h"
#include "common/spawn.h"
#include "common/tmpfile.h"
#include "compress/codec.h"
#include "postgres/wal.h"
#include "server/pgconn.h"

/* One -m OLD:NEW. */
struct synch_map {
	char *old;              /* absolute, no trailing slash ("/" stays) */
	char *user;             /* NEW's user@, or NULL */
	char *host;             /* NEW's host: the map applies to its outputs only; NULL: all */
	char *new;              /* absolute; or relative: beside each output's data dir */
	bool used;              /* named a tablespace */
};

int synch_map_parse(const char *arg, struct synch_map *map);
void synch_map_free(struct synch_map *map);

/*
 * Where tablespace `location` (absolute) goes at `out`: the longest OLD
 * among the maps that apply to `out` and are a prefix of `location` (by
 * path components), a host's map before a plain one of the same length,
 * then the first given;
 * else `location` itself.  Marks the map used.  Returns a malloc'd path,
 * or NULL after logging.
 */
char *synch_map_resolve(struct synch_map *maps, size_t nmaps, const struct synch_output *out,
			const char *location);

/* -c's value: a codec name with an optional :LEVEL, or OmniPITR's
 * compressor program (gzip, /usr/bin/zstd, ...).  Returns 0, or -1 after
 * logging the one line. */
int synch_parse_compress(const char *arg, enum pitr_codec *codec, int *level);


/* One file written at an output besides the data (backup_label, ...). */
struct synch_member {
	char *name;             /* relative to the data dir */
	char *text;
};

/* An output with its run state. */
struct synch_target {
	struct synch_output out;
	char **ts_dirs;         /* per source tablespace: its place here */
	bool delta;             /* goes through rsync (-r, rsync://), not the stream */
	struct pitr_spawn sp;   /* the receiver (or ssh) */
	bool started, failed;
};

struct synch_run {
	const struct synch_opts *o;
	struct synch_target *t;
	size_t nt;
	struct synch_map *maps;
	size_t nmaps;
	enum pitr_codec codec;
	int level;
	struct pitr_pgconn *conn;
	char *data_dir;          /* the source's, real path */
	uint64_t sysid;
	uint64_t segsize;
	bool standby;
	struct pitr_pgconn_tablespace *ts;
	size_t nts;
	char ts_vdir[64];                /* their version directory, "PG_15_202209061" (-r) */
	char *start_lsn;
	char *stop_lsn;
	char *labelfile;
	char *spcmapfile;
	struct synch_delta_env denv;     /* how rsync runs, for -r and rsync:// outputs */
	struct pitr_codec_writer *writer;
	struct pitr_tarwrite *tar;
	struct pitr_progress *progress;  /* the data's, while streamed */
	uint64_t sent;
	struct pitr_tmp rstage;        /* resync.c's staging: pg_control, each output's config */
};

/* stream.c: start the receiver of every target that is not `delta`, send
 * the copy, wait.  With no such target each call does nothing. */
int synch_stream_start(struct synch_run *run);
int synch_stream_data(struct synch_run *run);   /* between backup start and stop */
int synch_stream_finish(struct synch_run *run); /* after the stop: WAL, pg_control, config */
void synch_stream_abort(struct synch_run *run);

/*
 * resync.c: the outputs copied through rsync (-r: every output, a delta
 * re-sync; an rsync daemon always), each by itself: checked before the
 * plan is confirmed, marked in progress before the backup starts, their
 * trees brought up to date between start and stop (pg_control staged
 * last), the configuration, WAL and pg_control sent after the stop.  A
 * failed output is named and marked failed; the others go on.
 */
int synch_rsync_check(struct synch_run *run);
int synch_rsync_begin(struct synch_run *run);
int synch_rsync_data(struct synch_run *run);
int synch_rsync_finish(struct synch_run *run);
void synch_rsync_free(struct synch_run *run);

/* places.c: no place of any output is the source's data directory or
 * one of its tablespaces, told by a mark with a random name put there and
 * looked for at each place (an ssh output may be this very host).  The
 * marks are removed before it returns. */
int synch_places_check_self(const struct synch_run *run);

/* places.c: no tablespace place of a local output is a symbolic link,
 * and no local place is another one, or the source's data directory, or
 * inside one, by device and inode. */
int synch_places_check_local(const struct synch_run *run);

/* stream.c: the start segment's name, from backup_label's START WAL
 * LOCATION line. */
int synch_label_start(const char *label, struct pitr_wal_name *start);

/* The WAL a copy needs: *start from the backup label, *last the segment
 * holding the stop LSN's last byte (PostgreSQL's XLByteToPrevSeg: on a
 * segment boundary the one before). */
int synch_wal_range(const struct synch_run *run, struct pitr_wal_name *start, uint64_t *last);

/* config.c: the files written at target `i` besides the data, in order;
 * *n gets their count.  Returns NULL after logging. */
struct synch_member *synch_config_members(const struct synch_run *run, size_t i, size_t *n);
void synch_config_free(struct synch_member *m, size_t n);

/* Check what the standby options need of the rest (--warm-standby and
 * --restore-options an --archive, archives absolute) before anything
 * is copied. */
int synch_config_check(const struct synch_opts *o);

/* The "OID PATH" lines of a tablespace_map for `oids`/`dirs`, with \ before
 * a \, CR or LF in a path, as PostgreSQL writes them.  Malloc'd, NULL after
 * logging. */
char *synch_spcmap_text(char *const *oids, char *const *dirs, size_t n);

/* The stream's member names. */
#define SYNCH_MEMBER_DATA "pgdata"
#define SYNCH_MEMBER_TS "tablespaces"   /* tablespaces/OID/... */
#define SYNCH_MEMBER_CONFIG "config"    /* config/INDEX/NAME */

#endif
