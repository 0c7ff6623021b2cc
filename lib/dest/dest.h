/*
 * dest.h - where archived files go: local directories, rsync locations and
 * pipe programs, behind one set of operations.
 *
 * A destination argument is [CODEC[:LEVEL]=]LOCATION.  CODEC is a name from
 * codec.h; without it the file is stored uncompressed.  LOCATION is, by the
 * option that gave it:
 *   --dst-local   a directory;
 *   --dst-remote  rsync://[user@]host[:port]/module/path/ (rsync daemon) or
 *                 [user@]host:/path/ (rsync over the remote shell);
 *   --dst-pipe    a program, run once per file with the file name
 *                 (extension included) as its only argument and the data on
 *                 its standard input;
 *   --dst-direct  [user@]host:/path, written through ssh with no local copy
 *                 (ssh.c: made with pitr_dest_ssh_spec_parse() and
 *                 pitr_dest_ssh_new(), never with the generic calls, which
 *                 know only the kinds above).
 *
 * Callers never switch on the kind: they open a destination for a name,
 * write the (already compressed) bytes, then finish it in two steps so that
 * several slow deliveries can run at once (finish_begin starts, finish_end
 * waits), or abort it.
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
	PITR_DEST_SSH,      /* made by pitr_dest_ssh_new() only */
};

struct pitr_dest_spec {
	enum pitr_dest_kind kind;
	enum pitr_codec codec;
	int level;          /* 0: the codec's default */
	char *location;     /* directory, rsync target (with trailing '/') or program */
	char *key;          /* stable identity for the state dir: "local:gzip=/mnt/a" */
};

/*
 * Parse `arg` given to the option for `kind`.  Checks the codec name and
 * level and the rsync location's syntax (not that anything exists).
 * `optname` ("--dst-local") is named in the error.  Returns 0, or -1 after
 * logging.  Free with pitr_dest_spec_free().
 */
int pitr_dest_spec_parse(const char *arg, enum pitr_dest_kind kind, const char *optname,
			 struct pitr_dest_spec *out);
void pitr_dest_spec_free(struct pitr_dest_spec *spec);

/* rsync's --timeout and --contimeout when the env gives none. */
#define PITR_DEST_RSYNC_TIMEOUT_DEFAULT 60

/* Settings shared by every destination of a run. */
struct pitr_dest_env {
	const char *temp_dir;     /* staging for rsync uploads (default $TMPDIR or /tmp) */
	const char *rsync_path;   /* the rsync program (default "rsync", found on PATH) */
	int rsync_timeout;        /* seconds for rsync --timeout / --contimeout; 0: the
				   * default below */
	const char *ssh_path;     /* the ssh program for --dst-direct (default "ssh" on PATH) */
};

enum pitr_dest_result {
	PITR_DEST_DELIVERED,      /* the file is now there */
	PITR_DEST_ALREADY,        /* identical file was there: counts as delivered */
};

struct pitr_dest;

struct pitr_dest_ops {
	const char *kind_name;    /* "local", "rsync", "pipe" */
	int (*open)(struct pitr_dest *d, const char *name);
	int (*write)(struct pitr_dest *d, const void *buf, size_t len);
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

/* A destination for `spec` (copied).  Returns NULL after logging. */
struct pitr_dest *pitr_dest_new(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env);

/* The kind-independent calls.  Each returns 0 or -1 after logging one line
 * naming the destination and the file.  A destination that failed must be
 * aborted before it is freed or opened again. */
int pitr_dest_open(struct pitr_dest *d, const char *name);
int pitr_dest_write(struct pitr_dest *d, const void *buf, size_t len);
int pitr_dest_finish_begin(struct pitr_dest *d);
int pitr_dest_finish_end(struct pitr_dest *d, enum pitr_dest_result *result);
void pitr_dest_abort(struct pitr_dest *d);
void pitr_dest_free(struct pitr_dest *d);

/* A human label for messages: "local destination \"/mnt/a\"". */
const char *pitr_dest_label(const struct pitr_dest *d);

/* Implementations (local.c, rsync.c, pipe.c). */
extern const struct pitr_dest_ops pitr_dest_local_ops;
extern const struct pitr_dest_ops pitr_dest_rsync_ops;
extern const struct pitr_dest_ops pitr_dest_pipe_ops;

/*
 * Direct (ssh) destinations (ssh.c).  open
 * starts `ssh HOST <command>` writing its stdin to a temporary name in the
 * remote directory; finish_begin publishes it there with a second ssh
 * call (fsync, link to the final name, remove the temporary name, fsync
 * the directory); abort removes the remote temporary file (best effort,
 * logged).
 */
extern const struct pitr_dest_ops pitr_dest_ssh_ops;

/* Parse [CODEC[:LEVEL]=][USER@]HOST:/PATH given to `optname`.  0, or -1
 * after logging. */
int pitr_dest_ssh_spec_parse(const char *arg, const char *optname, struct pitr_dest_spec *out);

/* A destination for a PITR_DEST_SSH spec (copied); NULL after logging.
 * Use the generic calls on it. */
struct pitr_dest *pitr_dest_ssh_new(const struct pitr_dest_spec *spec,
				    const struct pitr_dest_env *env);

/* Wait for the upload of an opened file to end (the remote temporary file
 * complete): 0, or -1 after logging one line with ssh's reason.  A no-op
 * once done; finish_begin does it too.  Ending each upload as soon as its
 * file is written means no file is published before every upload of the
 * run is known to be complete. */
int pitr_dest_ssh_end_upload(struct pitr_dest *d);

/* `s` single-quoted for a POSIX shell ("a'b" gives 'a'\''b'); malloc'd,
 * NULL after logging. */
char *pitr_dest_ssh_quote(const char *s);

#endif
