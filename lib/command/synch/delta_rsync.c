/*
 * delta_rsync.c - running the real rsync program for pitr-synch: its
 * argument vector (execvp, never a shell), the location of a directory at
 * an output, and one run with its output captured.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "command/synch/delta_impl.h"
#include "common/findprog.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/xalloc.h"
#include "dest/dest.h"

/* The seconds of silence after which rsync gives a peer up.  Generous:
 * rsync keeps a live connection busy with keep-alives while it reads and
 * checksums large files, so only a dead peer reaches it. */
#define DELTA_RSYNC_TIMEOUT 600
/* The seconds a daemon is given to accept the connection. */
#define DELTA_RSYNC_CONTIMEOUT 60

void
delta_cmd_add(struct delta_cmd *c, const char *arg)
{
	char *copy;

	if (c->failed)
		return;
	if (c->argc + 2 > c->cap) {
		size_t cap = c->cap == 0 ? 32 : c->cap * 2;
		char **v = pitr_xreallocarray(c->argv, cap, sizeof(*v));

		if (v == NULL) {
			c->failed = true;
			return;
		}
		c->argv = v;
		c->cap = cap;
	}
	if ((copy = pitr_xstrdup(arg)) == NULL) {
		c->failed = true;
		return;
	}
	c->argv[c->argc++] = copy;
	c->argv[c->argc] = NULL;
}

void
delta_cmd_addf(struct delta_cmd *c, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (c->failed)
		return;
	va_start(ap, fmt);
	s = pitr_xvasprintf(fmt, ap);
	va_end(ap);
	if (s == NULL) {
		c->failed = true;
		return;
	}
	delta_cmd_add(c, s);
	free(s);
}

void
delta_cmd_free(struct delta_cmd *c)
{
	for (size_t i = 0; i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	memset(c, 0, sizeof(*c));
}

/* `s` as one word of rsync's -e command: rsync splits that string itself
 * (not a shell), at blanks, with '...' grouping and '' inside it standing
 * for one quote.  Plain words stay as they are. */
static char *
rsh_word(const char *s)
{
	size_t n = 0;
	char *q, *p;

	if (*s != '\0' && strpbrk(s, " \t'\"") == NULL)
		return pitr_xstrdup(s);
	for (const char *t = s; *t != '\0'; t++)
		n += *t == '\'' ? 2 : 1;
	if ((q = pitr_xmalloc(n + 3)) == NULL)
		return NULL;
	p = q;
	*p++ = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			*p++ = '\'';
		*p++ = *s;
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

/* -e "ssh -o ... [-p PORT]": the options pitr-archive's ssh destination
 * uses, so a dead host or a password prompt fails instead of hanging. */
static void
add_rsh(struct delta_cmd *c, const struct synch_delta_env *env, const struct synch_output *out)
{
	char *ssh = rsh_word(env->ssh_path != NULL && *env->ssh_path != '\0' ? env->ssh_path : "ssh");
	char port[32] = "";

	if (ssh == NULL) {
		c->failed = true;
		return;
	}
	if (out->port > 0)
		snprintf(port, sizeof(port), " -p %d", out->port);
	delta_cmd_add(c, "-e");
	delta_cmd_addf(c, "%s -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 "
		       "-o ServerAliveCountMax=4%s", ssh, port);
	free(ssh);
}

int
delta_cmd_init(struct delta_cmd *c, const struct synch_delta_env *env,
	       const struct synch_output *out)
{
	memset(c, 0, sizeof(*c));
	delta_cmd_add(c, delta_rsync_program(env));
	/* Counts as plain digits, for --stats to be read back. */
	delta_cmd_add(c, "--no-human-readable");
	delta_cmd_addf(c, "--timeout=%d", DELTA_RSYNC_TIMEOUT);
	if (out->kind == SYNCH_OUT_SSH)
		add_rsh(c, env, out);
	if (out->kind == SYNCH_OUT_RSYNCD)
		delta_cmd_addf(c, "--contimeout=%d", DELTA_RSYNC_CONTIMEOUT);
	if (out->kind == SYNCH_OUT_SSH && env->remote_rsync_path != NULL &&
	    *env->remote_rsync_path != '\0')
		delta_cmd_addf(c, "--rsync-path=%s", env->remote_rsync_path);
	/* Compression only where bytes cross a link. */
	if (env->compress && out->kind != SYNCH_OUT_LOCAL)
		delta_cmd_add(c, "--compress");
	if (env->bwlimit > 0)
		delta_cmd_addf(c, "--bwlimit=%d", env->bwlimit);
	if (c->failed) {
		delta_cmd_free(c);
		return -1;
	}
	return 0;
}

char *
delta_location(const struct synch_output *out, const char *dir, const char *sub)
{
	const char *s = sub != NULL ? "/" : "", *sb = sub != NULL ? sub : "";
	const char *at = out->user != NULL ? "@" : "", *user = out->user != NULL ? out->user : "";
	bool v6 = out->host != NULL && strchr(out->host, ':') != NULL;
	char port[16] = "";

	switch (out->kind) {
	case SYNCH_OUT_LOCAL:
		return pitr_xasprintf("%s%s%s/", dir, s, sb);
	case SYNCH_OUT_SSH:
		return pitr_xasprintf("%s%s%s%s%s:%s%s%s/", user, at, v6 ? "[" : "", out->host,
				      v6 ? "]" : "", dir, s, sb);
	case SYNCH_OUT_RSYNCD:
		if (out->port > 0)
			snprintf(port, sizeof(port), ":%d", out->port);
		return pitr_xasprintf("rsync://%s%s%s%s%s%s/%s%s%s/", user, at, v6 ? "[" : "",
				      out->host, v6 ? "]" : "", port, dir, s, sb);
	}
	pitr_log_error("output \"%s\": unknown kind", out->label);
	return NULL;
}

/* One "Label: N" line of --stats; 0 when missing. */
static uint64_t
stat_value(const char *text, const char *label)
{
	const char *p = text != NULL ? strstr(text, label) : NULL;

	return p != NULL ? strtoull(p + strlen(label), NULL, 10) : 0;
}

static void
read_stats(struct delta_result *r)
{
	r->sent = stat_value(r->stdout_text, "Total bytes sent: ");
	r->literal = stat_value(r->stdout_text, "Literal data: ");
	r->matched = stat_value(r->stdout_text, "Matched data: ");
	r->files = stat_value(r->stdout_text, "Number of regular files transferred: ");
}

/* Wait for rsync and judge its exit; `err_path` holds its stderr. */
static int
finish_run(struct pitr_spawn *sp, const char *out_path, const char *err_path,
	   struct delta_result *r)
{
	int status;
	size_t len;

	if (pitr_spawn_reap(sp, &status) != 0)
		return -1;
	r->stdout_text = pitr_fsutil_read_small(out_path, 16 << 20, &len);
	if (!WIFEXITED(status)) {
		char how[96];

		r->status = -1;
		pitr_spawn_status_text(status, how, sizeof(how));
		snprintf(r->reason, sizeof(r->reason), ": %s", how);
		return 1;
	}
	r->status = WEXITSTATUS(status);
	read_stats(r);
	if (r->status == 0)
		return 0;
	pitr_dest_rsync_reason(err_path, r->reason, sizeof(r->reason));
	if (r->status == DELTA_RSYNC_VANISHED) {
		pitr_log_verbose("rsync: source files vanished while they were copied (exit status "
				 "24), as a running server's do%s", r->reason);
		return 0;
	}
	return 1;
}

int
delta_run(const struct synch_delta_env *env, struct delta_cmd *c, struct delta_result *r)
{
	struct pitr_tmp out = { .fd = -1, .slot = -1 }, err = { .fd = -1, .slot = -1 };
	const char *dir = pitr_fsutil_tmpdir(env->temp_dir);
	struct pitr_spawn sp;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (c->failed)
		return -1;
	if (pitr_tmp_create(&out, dir, "synch-rsync-out") != 0 ||
	    pitr_tmp_create(&err, dir, "synch-rsync-err") != 0)
		goto done;
	if (env->verbose) {
		pitr_log_verbose("running rsync with %zu arguments, the last two \"%s\" \"%s\"",
				 c->argc, c->argv[c->argc - 2], c->argv[c->argc - 1]);
	}
	if (pitr_spawn_start_redirect(&sp, c->argv, -1, out.fd, err.fd) != 0)
		goto done;
	rc = finish_run(&sp, out.path, err.path, r);
done:
	pitr_tmp_discard(&out);
	pitr_tmp_discard(&err);
	return rc;
}

void
delta_result_free(struct delta_result *r)
{
	free(r->stdout_text);
	r->stdout_text = NULL;
}

void
delta_status_text(const struct delta_result *r, char *buf, size_t size)
{
	if (r->status >= 0)
		snprintf(buf, size, "rsync exit status %d", r->status);
	else
		snprintf(buf, size, "rsync ended");
}

const char *
delta_rsync_program(const struct synch_delta_env *env)
{
	return env->rsync_path != NULL && *env->rsync_path != '\0' ? env->rsync_path : "rsync";
}

/* Asked only of a program that exists: a missing one is reported once,
 * by the run itself ("could not execute"), not by this probe first. */
bool
delta_rsync_fsync(const struct synch_delta_env *env)
{
	const char *prog = delta_rsync_program(env);
	char *found = NULL;
	bool exists;

	if (strchr(prog, '/') != NULL) {
		exists = pitr_findprog_executable(prog);
	} else {
		found = pitr_findprog_on_path(prog);
		exists = found != NULL;
		free(found);
	}
	return exists && pitr_dest_rsync_has_fsync(prog);
}

int
delta_stage_make(const struct synch_delta_env *env, struct pitr_tmp *t, const char *base)
{
	return pitr_tmp_mkdir(t, pitr_fsutil_tmpdir(env->temp_dir), base);
}

void
delta_stage_remove(struct pitr_tmp *t)
{
	if (t->path != NULL && pitr_fsutil_remove_tree(t->path) != 0)
		pitr_log_error("could not remove the staging directory \"%s\"", t->path);
	pitr_tmp_discard(t);
}
