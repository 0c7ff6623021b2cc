/*
 * delta_impl.h - what delta.c and delta_probe.c share: rsync's argument
 * vector, the location of a directory at an output, one rsync run with its
 * output captured, and the local staging of small files.
 */
#ifndef PITR_SYNCH_DELTA_IMPL_H
#define PITR_SYNCH_DELTA_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "command/synch/delta.h"
#include "common/tmpfile.h"

/* An argument vector being built; a failed allocation is remembered (and
 * logged once) and fails the run. */
struct delta_cmd {
	char **argv;
	size_t argc;
	size_t cap;
	bool failed;
};

/* rsync with the options every call of a run shares: the program, the
 * remote shell (-e "ssh ...") or the daemon's timeouts, --rsync-path, -z,
 * --bwlimit, numbers without separators.  Returns 0 or -1 (logged). */
int delta_cmd_init(struct delta_cmd *c, const struct synch_delta_env *env,
		   const struct synch_output *out);
void delta_cmd_add(struct delta_cmd *c, const char *arg);
void delta_cmd_addf(struct delta_cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void delta_cmd_free(struct delta_cmd *c);

/* The rsync location of `dir` (an output's path: absolute for local and
 * ssh outputs, "module/path" for a daemon) and `sub` below it (NULL:
 * none), with a trailing slash: "/d/sub/", "u@h:/d/sub/",
 * "rsync://u@h:873/mod/d/sub/".  NULL after logging. */
char *delta_location(const struct synch_output *out, const char *dir, const char *sub);

/* What one rsync run said. */
struct delta_result {
	int status;            /* rsync's exit status (0, or 24: vanished files) */
	uint64_t sent;         /* "Total bytes sent" (with --stats) */
	uint64_t literal;      /* "Literal data": file bytes sent as they are */
	uint64_t matched;      /* "Matched data": file bytes found at the output */
	uint64_t files;        /* "Number of regular files transferred" */
	char *stdout_text;     /* what it printed (malloc'd; may be NULL) */
	char reason[512];      /* on failure: ": rsync's explanation", or "" */
};

/* rsync's exit status for "some source files vanished". */
#define DELTA_RSYNC_VANISHED 24

/*
 * Run the vector (stdout and stderr into temporary files in the env's
 * temp dir).  Returns 0 when rsync exited 0 or 24, 1 when it failed
 * otherwise (r->status and r->reason set, nothing logged: the caller names
 * the output), -1 when it could not be run (logged).  Free r with
 * delta_result_free().
 */
int delta_run(const struct synch_delta_env *env, struct delta_cmd *c, struct delta_result *r);
void delta_result_free(struct delta_result *r);

/* "rsync exit status N" for a failed run: into buf. */
void delta_status_text(const struct delta_result *r, char *buf, size_t size);

/* The rsync program of the env ("rsync" when none is given). */
const char *delta_rsync_program(const struct synch_delta_env *env);

/* Whether that rsync knows --fsync (dest.h's probe, asked only when the
 * program exists). */
bool delta_rsync_fsync(const struct synch_delta_env *env);

/* A staging directory in the env's temp dir (pitr_tmp_mkdir); its
 * contents are removed by delta_stage_remove(). */
int delta_stage_make(const struct synch_delta_env *env, struct pitr_tmp *t, const char *base);
void delta_stage_remove(struct pitr_tmp *t);

/* Send the files `names` (relative to `src_dir`) to `dir` at `out`
 * (delta.c). */
int delta_send_files(const struct synch_delta_env *env, const struct synch_output *out,
		     const char *dir, const char *src_dir, const char *const *names, size_t n);

#endif
