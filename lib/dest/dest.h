/*
 * dest.h - where archived files go: local directories, rsync locations,
 * pipe programs and ssh hosts, behind one set of operations.
 *
 * A destination argument is [CODEC[:LEVEL]=]LOCATION.  CODEC is a name from
 * codec.h; without it the file is stored uncompressed.  LOCATION is, by the
 * option that gave it:
 *   --dst-local   a directory;
 *   --dst-remote  rsync://[user@]host[:port]/module/path/ (rsync daemon),
 *                 [user@]host:/path/ (rsync over the remote shell) or
 *                 s3://BUCKET/PREFIX/ (an object store, s3.c);
 *   --dst-pipe    a program, run once per file with the file name
 *                 (extension included) as its only argument and the data on
 *                 its standard input;
 *   --dst-direct  [user@]host:/path, written through ssh with no local copy;
 *   --dst-backup  (pitr-archive) an absolute directory that gets a plain
 *                 copy only while it exists: pitr-backup-master's -x dir.
 *
 * Callers never switch on the kind: they open a destination for a name,
 * write the (already compressed) bytes, end the upload, then finish it in
 * two steps so that several slow deliveries can run at once (finish_begin
 * starts, finish_end waits), or abort it.  What differs between kinds and
 * matters to a caller is a property: whether a destination is staged
 * (pitr_dest_staged()) and which directory of this host it writes into
 * (pitr_dest_spec_dir()).  fanout.h drives all of it for several
 * destinations at once.
 */
#ifndef PITR_DEST_H
#define PITR_DEST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "compress/codec.h"

enum pitr_dest_kind {
	PITR_DEST_LOCAL,
	PITR_DEST_RSYNC,
	PITR_DEST_PIPE,
	PITR_DEST_SSH,      /* --dst-direct */
	PITR_DEST_S3,       /* --dst-remote s3://BUCKET/PREFIX/ */
};

struct pitr_dest_spec {
	enum pitr_dest_kind kind;
	enum pitr_codec codec;
	int level;          /* the codec's default when the spec gives none */
	char *location;     /* directory, rsync target (with trailing '/'), program, host:/dir
			     * or s3://BUCKET/PREFIX/ (as pitr_s3_url_parse() reads it:
			     * "s3://b" becomes "s3://b/", "s3://b/p" "s3://b/p/") */
	char *key;          /* stable identity for the state dir: "local:gzip=/mnt/a" */
	bool backup_copy;   /* --dst-backup: a backup's WAL collection, not an archive */
};

/*
 * Parse `arg` given to the option for `kind`.  Checks the codec name and
 * level and the rsync, s3 and ssh locations' syntax (not that anything
 * exists).  --dst-remote's kind, PITR_DEST_RSYNC, becomes PITR_DEST_S3
 * for an s3:// location (key "s3:CODEC=s3://BUCKET/PREFIX/").
 * `optname` ("--dst-local") is named in the error.  Returns 0, or -1 after
 * logging.  Free with pitr_dest_spec_free().
 */
int pitr_dest_spec_parse(const char *arg, enum pitr_dest_kind kind, const char *optname,
			 struct pitr_dest_spec *out);
void pitr_dest_spec_free(struct pitr_dest_spec *spec);

/* *dst becomes a copy of *src with its own strings, for
 * pitr_dest_spec_free().  Returns 0, or -1 after logging (*dst then holds
 * no string). */
int pitr_dest_spec_copy(struct pitr_dest_spec *dst, const struct pitr_dest_spec *src);

/* The directory of this host a destination of `spec` writes into: its
 * location for a local one (--dst-local, --dst-backup), NULL for the
 * others, whose files only their own host sees. */
const char *pitr_dest_spec_dir(const struct pitr_dest_spec *spec);

/* A program's destination options as given; a program leaves empty the
 * ones it has not. */
struct pitr_dest_args {
	const char **local;       /* --dst-local */
	size_t nlocal;
	const char **remote;      /* --dst-remote */
	size_t nremote;
	const char **pipe;        /* --dst-pipe */
	size_t npipe;
	const char **direct;      /* --dst-direct */
	size_t ndirect;
	const char *backup;       /* --dst-backup, or NULL */
};

/* How many destinations `args` names (--dst-backup counted, whether its
 * directory exists or not). */
size_t pitr_dest_args_count(const struct pitr_dest_args *args);

/*
 * Parse every destination option of `args`, nothing else happening before
 * they are all valid, into *specs (*n of them) in this order: --dst-local,
 * --dst-backup, --dst-remote, --dst-pipe, --dst-direct.  --dst-backup must
 * be absolute and uncompressed; it is left out (logged with -v) while its
 * directory does not exist, and its spec is a local one with the key
 * "backup:none=DIR" and backup_copy set.  Returns 0 (*specs NULL when *n
 * is 0), or -1 after logging one line.  Free with pitr_dest_specs_free().
 */
int pitr_dest_args_parse(const struct pitr_dest_args *args, struct pitr_dest_spec **specs,
			 size_t *n);
void pitr_dest_specs_free(struct pitr_dest_spec *specs, size_t n);

/* The seconds a hung rsync peer is given when the env says none. */
#define PITR_DEST_RSYNC_TIMEOUT_DEFAULT 60

/* Seconds a --dst-pipe program may go without reading more of its input
 * (or without ending once it read all of it) before it is stopped, when
 * the env gives none. */
#define PITR_DEST_PIPE_TIMEOUT_DEFAULT 600

/* Seconds a file a remote writer may have left unlocked must be unchanged
 * before anyone removes it: a --dst-direct temporary file between its
 * upload and its publish (ctime/mtime: the WAL wait alone may take 300 s),
 * a --dst-direct or --dst-remote backup's data file before its meta is
 * published (no lock reaches the remote dir).  Used by the remote sweep
 * (ssh.c) and pitr-backup-cleanup. */
#define PITR_DEST_UNLOCKED_MIN_AGE 3600

struct pitr_s3_config;
struct pitr_dest_s3_session;

/* Settings shared by every destination of a run. */
struct pitr_dest_env {
	const char *temp_dir;     /* staging for rsync uploads (default $TMPDIR or /tmp) */
	const char *rsync_path;   /* the rsync program (default "rsync", found on PATH) */
	int rsync_timeout;        /* seconds a hung rsync peer is given (rsync gets
				   * --contimeout of it, --timeout of 2/3 of it);
				   * 0: the default above */
	const char *ssh_path;     /* the ssh program for --dst-direct (default "ssh" on PATH) */
	const char *remote_cat_path; /* the cat program --dst-direct runs on the remote host
				      * (default "cat" on its PATH) */
	int pipe_timeout;         /* seconds, see PITR_DEST_PIPE_TIMEOUT_DEFAULT; 0: that;
				   * < 0: none */
	const struct pitr_s3_config *s3; /* s3:// destinations' store (PITR_OPTS_S3);
					  * NULL: s3.h's defaults */
	struct pitr_dest_s3_session *s3_session; /* the run's credentials and clients,
						  * see below; NULL: each s3 file
						  * loads and connects on its own */
};

enum pitr_dest_result {
	PITR_DEST_DELIVERED,      /* the file is now there */
	PITR_DEST_ALREADY,        /* identical file was there: counts as delivered */
	PITR_DEST_GONE,           /* a --dst-backup dir removed meanwhile: the backup
				   * ended and needs no copy; counts as delivered */
};

struct pitr_dest;

struct pitr_dest_ops {
	const char *kind_name;    /* "local", "remote", "pipe", "direct", "s3" */
	/* Delivered by a child process (rsync, a pipe program, ssh) or over
	 * the network (s3), which may be slow: finished after the local
	 * kinds, several at a time. */
	bool staged;
	int (*open)(struct pitr_dest *d, const char *name);
	int (*write)(struct pitr_dest *d, const void *buf, size_t len);
	int (*end_upload)(struct pitr_dest *d);   /* NULL: nothing to wait for */
	int (*finish_begin)(struct pitr_dest *d);
	int (*finish_end)(struct pitr_dest *d, enum pitr_dest_result *result);
	void (*abort)(struct pitr_dest *d);
	void (*free)(struct pitr_dest *d);
};

struct pitr_dest {
	const struct pitr_dest_ops *ops;
	struct pitr_dest_spec spec;      /* owned copy */
	const struct pitr_dest_env *env; /* borrowed */
	char *name;                      /* file being delivered (with extension) */
	void *priv;                      /* the kind's own state */
};

/* A destination for `spec` (copied) of any kind; `env` is borrowed and
 * must outlive it.  Returns NULL after logging. */
struct pitr_dest *pitr_dest_new(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env);

/* The kind-independent calls.  Each returns 0 or -1 after logging one line
 * naming the destination and the file.  A destination that failed must be
 * aborted before it is freed or opened again. */
int pitr_dest_open(struct pitr_dest *d, const char *name);
int pitr_dest_write(struct pitr_dest *d, const void *buf, size_t len);
/* Wait until the file written so far is complete where it goes (not yet
 * published): the ssh kind waits for its upload, the s3 kind sends a
 * multipart upload's last part, the others have nothing to wait for.  A no-op once done; finish_begin does it too.  Ending each
 * upload as soon as its file is written means no file is published
 * before every upload of the run is known to be complete. */
int pitr_dest_end_upload(struct pitr_dest *d);
int pitr_dest_finish_begin(struct pitr_dest *d);
int pitr_dest_finish_end(struct pitr_dest *d, enum pitr_dest_result *result);
void pitr_dest_abort(struct pitr_dest *d);
void pitr_dest_free(struct pitr_dest *d);

/* The destination's location, for messages: "/mnt/a". */
const char *pitr_dest_label(const struct pitr_dest *d);

/* Its kind's name, for messages: "local", "remote", "pipe", "direct", "s3". */
const char *pitr_dest_kind_name(const struct pitr_dest *d);

/* True for the kinds published after the local ones, --parallel-jobs at a
 * time (remote, pipe, direct, s3): see struct pitr_dest_ops. */
bool pitr_dest_staged(const struct pitr_dest *d);

/* The device and inode of the file a local destination is writing, at
 * its temporary name until published (which keeps them): what a backup's
 * journal records (repo/orphan.h).  0; 1 when `d` is of another kind or
 * writes nothing (a --dst-backup dir gone); -1 after logging. */
int pitr_dest_local_file_id(const struct pitr_dest *d, dev_t *dev, ino_t *ino);

/* Implementations (local.c, rsync.c, pipe.c, ssh.c; s3.c below). */
extern const struct pitr_dest_ops pitr_dest_local_ops;
extern const struct pitr_dest_ops pitr_dest_rsync_ops;
extern const struct pitr_dest_ops pitr_dest_pipe_ops;

/*
 * Direct (ssh) destinations (ssh.c).  open starts `ssh HOST <command>`
 * writing its stdin to a temporary name in the remote directory;
 * end_upload waits for it; finish_begin publishes it there with a second
 * ssh call (fsync, link to the final name, remove the temporary name,
 * fsync the directory); abort removes the remote temporary file (best
 * effort, logged).
 */
extern const struct pitr_dest_ops pitr_dest_ssh_ops;

/*
 * Remove, in the remote directory of a --dst-direct `spec`, the temporary
 * files (.pitr-tmp.*) no live writer holds locked: what killed runs left.
 * Needs flock(1) on the remote host; without it nothing is removed (said
 * with -v).  One info line when any was removed.  An ssh that fails is
 * logged with -v only: the delivery that follows reports it.  Returns the
 * number removed, or -1.
 */
int pitr_dest_ssh_sweep(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env);

/*
 * Object-store destinations (s3.c), given as --dst-remote
 * [CODEC=]s3://BUCKET/PREFIX/; the file's object is PREFIX + its name.
 * open and write gather the file in memory; one that grows past
 * pitr_s3_part_size(1) (a backup's tarball) becomes a multipart upload
 * whose parts go up as they fill, begun only when no object has the key
 * (backup names are unique: one there is an error, never replaced), its
 * last part sent by end_upload.  finish_begin publishes: a multipart
 * upload is completed; a smaller file is one PUT, made only when no
 * object has the key (If-None-Match: *).  An object already there with
 * the same bytes (size, and ETag or content) counts as delivered
 * (PITR_DEST_ALREADY), a different one is an error and stays as it is.
 * abort aborts a multipart upload: nothing of the file is stored.
 */
extern const struct pitr_dest_ops pitr_dest_s3_ops;

/*
 * A run's s3 state: the credentials (pitr_s3_creds_load(), at the first
 * s3 destination opened or by a push's warm-up, so that a run without one
 * never loads the s3 library) and one client per bucket, which every file of the run reuses
 * (one connection).  Used from one thread (besides the warm-up's, which
 * it waits for).  _new allocates only; _free accepts NULL.
 */
struct pitr_dest_s3_session *pitr_dest_s3_session_new(void);
void pitr_dest_s3_session_free(struct pitr_dest_s3_session *session);

/*
 * Begin, in a thread, what a push of the file `name` to s3 destination
 * `spec` needs before its PUT, while the caller reads and compresses the
 * file: the s3 library loaded, the credentials read, the bucket's client
 * made and connected (TLS handshake included) by a HEAD of the file's key
 * in one attempt (pitr_s3_probe), whose answer the PUT then uses: an
 * object found there is compared without a PUT.  A destination of the
 * session opened meanwhile takes its client at its first send, and the
 * session's next use waits for the thread, which runs with every signal
 * blocked.  Silent: the delivery meets any failure again
 * and says it.  One per session (env->s3_session); the caller forks no
 * process but by exec until the session is used.  0 when begun, -1 when
 * not (the delivery then does it all itself).
 */
int pitr_dest_s3_warm(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env,
		      const char *name);

/* The run's client for s3 destination `spec`'s bucket (env->s3_session
 * must be set: the client is the session's), and in *prefix its key
 * prefix (borrowed from spec).  NULL after logging. */
struct pitr_s3;
struct pitr_s3 *pitr_dest_s3_client(const struct pitr_dest_spec *spec,
				    const struct pitr_dest_env *env, const char **prefix);

/*
 * Seconds since its beginning after which a multipart upload neither
 * completed nor aborted is taken for a killed run's.  A store tells only
 * when an upload began, not when it last moved, and a live backup's data
 * tarball uploads for as long as the backup reads the cluster: two days.
 */
#define PITR_DEST_S3_PENDING_MIN_AGE (2 * 24 * 3600)

/*
 * Abort, under s3 destination `spec`'s prefix, what killed runs left (an
 * aborted or failed run aborts its own uploads): the uploads that dead
 * runs on this host journaled in env->temp_dir (s3journal.h), at once,
 * and any other begun more than PITR_DEST_S3_PENDING_MIN_AGE ago (another
 * host's, or one whose journal was lost).  One info line for each kind
 * aborted; a failure is logged with -v only (the delivery that follows
 * reports it).  Returns the number aborted, or -1.
 */
int pitr_dest_s3_sweep(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env);

/*
 * What the sweep and pitr-backup-cleanup share (pitr-verify reports them):
 * the multipart uploads right under `prefix` (none below a further '/':
 * a pitrkit prefix is flat) begun at least `min_age` seconds ago, each
 * passed to `fn`, which aborts it (pitr_s3_pending_abort) or only names it
 * and returns 0 (counted), 1 (passed over) or -1 (stop, logged).  Returns
 * the number counted, or -1 (logged here or by `fn`).
 */
struct pitr_s3_pending;
typedef int (*pitr_dest_s3_stale_fn)(void *ctx, const struct pitr_s3_pending *p);
int pitr_dest_s3_stale_uploads(struct pitr_s3 *s3, const char *prefix, long min_age,
			       pitr_dest_s3_stale_fn fn, void *ctx);

/* Whether the rsync program `rsync` knows --fsync (3.2.4 and later):
 * asked once per process. */
bool pitr_dest_rsync_has_fsync(const char *rsync);

/* rsync's own explanation of a failure, for a one-line error, from the
 * file `err_path` holding its stderr: its first "rsync: " or "@ERROR: "
 * line (the cause, such as "failed to connect ... Connection refused" or a
 * daemon's "Unknown module"), else its last line,
 * written into `buf` as ": TEXT"; "" when it said nothing. */
void pitr_dest_rsync_reason(const char *err_path, char *buf, size_t size);

#endif
