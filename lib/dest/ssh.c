/*
 * ssh.c - a direct destination (--dst-direct [USER@]HOST:/DIR): each
 * file is streamed through the real ssh program straight into a temporary
 * name in DIR on the remote host, with no local copy, and published there
 * by a second ssh call once every file of the run is complete.
 *
 * ssh runs with execvp on an argument vector; only the remote user's
 * shell parses the remote command, in which every path is single-quoted
 * for a POSIX shell.  The remote side needs GNU coreutils 8.24 or later
 * (`sync FILE` fsyncs that file or directory) and cmp.
 *
 * Publishing mirrors the local destination (fsutil.h): fsync the
 * temporary file, link it to the final name (link(2) never replaces an
 * existing name), remove the temporary name, fsync the directory.  A final
 * name that exists already with the same bytes counts as delivered; with
 * other bytes it is an error and is left alone.
 *
 * Only this run knows its temporary name, and only its second ssh call,
 * made once the upload's ssh exited 0 with every byte counted, publishes
 * it: a run killed mid-upload leaves the remote `cat` an end of input, and
 * a short file at the temporary name that nothing ever publishes.  That
 * file is what the remote writer's lock is for: where the remote host has
 * util-linux flock(1), the writer holds an flock on its temporary file
 * for as long as `cat` writes it (the same lock tmpfile.h's local writers
 * hold), so pitr_dest_ssh_sweep() tells a dead run's file from a live one
 * and removes only the dead.  Without flock(1) nothing is locked and
 * nothing is swept.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/dest_impl.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/spawn.h"
#include "common/xalloc.h"

#define SSH_ARGV_MAX 16
/* Printed by the remote commands on stdout, to tell outcomes apart from
 * ssh's own exit status 255 and from the remote shell's errors. */
#define MARK_CREATED "pitr:created"
#define MARK_NEW "pitr:new"
#define MARK_SAME "pitr:same"
#define MARK_DIFFER "pitr:differ"
#define MARK_SWEPT "pitr:swept "
#define MARK_NOFLOCK "pitr:noflock"

/*
 * The remote sweep: every .pitr-tmp.* file in the directory unchanged for
 * more than PITR_DEST_UNLOCKED_MIN_AGE (find -mmin, in minutes) that
 * flock(1) can lock at once, which no live writer holds, is removed, and
 * named on stdout.  The age, because a writer's temporary file is unlocked
 * between the end of its upload (cat exits) and its publish, which for a
 * backup's data file comes after pg_backup_stop, the WAL wait and the xlog
 * tarball.  A host without flock(1) cannot tell a dead writer's file from
 * a live one's: nothing is removed there.  flock(1) opens the name with
 * O_CREAT; a file removed meanwhile by another sweep is recreated empty
 * and removed again, under the lock.  -maxdepth is no POSIX but GNU and
 * BSD find have it.
 */
#define SWEEP_CMD "cd -- %s || exit 1; command -v flock >/dev/null 2>&1 || { echo " \
	MARK_NOFLOCK "; exit 0; }; find . -maxdepth 1 -name '" PITR_FSUTIL_TMP_PREFIX "*' -type f " \
	"-mmin +%d | while IFS= read -r f; do f=${f#./}; if [ -f \"$f\" ] && " \
	"[ ! -h \"$f\" ] && flock -n \"$f\" rm -f -- \"$f\" 2>/dev/null; then printf '" \
	MARK_SWEPT "%%s\\n' \"$f\"; fi; done"

enum ssh_state {
	SSH_UPLOADING,    /* ssh runs `cat` into the temporary name */
	SSH_UPLOADED,     /* it exited 0: the temporary file is complete */
	SSH_PUBLISHING,   /* the publish command runs */
	SSH_DONE,         /* published (or found identical): nothing to undo */
};

struct ssh_priv {
	char *userhost;         /* "[user@]host" as ssh takes it */
	char *dir;              /* remote directory, absolute */
	char *tmp;              /* remote temporary path */
	char *final;            /* remote final path */
	struct pitr_spawn child;
	int in_fd;              /* our end of the upload's stdin, or -1 */
	int out_fd, err_fd;     /* ssh's stdout and stderr, unlinked files */
	uint64_t bytes;         /* written to the upload so far */
	bool running;
	bool tmp_exists;        /* the remote temporary file may exist */
	enum ssh_state state;
	enum pitr_dest_result result;
};

/*
 * The shape of "[user@]host:/dir": the length of "[user@]host" and of the
 * dir after the colon (trailing slashes dropped, "/" kept).  A host in
 * brackets may hold colons ("[::1]:/dir").  Returns 0, or -1 when the
 * location has not that shape.  Nothing is allocated, so nothing can fail
 * unseen.
 */
static int
location_shape(const char *loc, size_t *uhlen, size_t *dlen)
{
	const char *at = strchr(loc, '@'), *first_colon = strchr(loc, ':'), *host, *colon;

	/* An '@' after the host is part of the path. */
	if (at != NULL && (first_colon == NULL || at > first_colon))
		at = NULL;
	if (at == loc)
		return -1;
	host = at != NULL ? at + 1 : loc;
	if (*host == '[') {
		const char *close = strchr(host, ']');

		if (close == NULL || close[1] != ':' || close == host + 1)
			return -1;
		colon = close + 1;
	} else {
		colon = strchr(host, ':');
	}
	/* A host starting with '-' would be an option to ssh. */
	if (colon == NULL || colon == host || *host == '-' || colon[1] != '/')
		return -1;
	for (const char *p = loc; p < colon; p++)
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '/')
			return -1;
	*dlen = strlen(colon + 1);
	while (*dlen > 1 && colon[*dlen] == '/')
		(*dlen)--;
	*uhlen = (size_t)(colon - loc);
	return 0;
}

/* Split "[user@]host:/dir" into malloc'd "[user@]host" and "/dir" (see
 * location_shape).  Returns 0; -1 when the location has not that shape
 * (nothing logged, nothing allocated); -2 after logging a failed
 * allocation. */
static int
split_location(const char *loc, char **userhost, char **dir)
{
	size_t uhlen, dlen;

	*userhost = *dir = NULL;
	if (location_shape(loc, &uhlen, &dlen) != 0)
		return -1;
	if ((*userhost = pitr_xstrndup(loc, uhlen)) == NULL ||
	    (*dir = pitr_xstrndup(loc + uhlen + 1, dlen)) == NULL) {
		free(*userhost);
		*userhost = NULL;
		return -2;
	}
	return 0;
}

bool
pitr_dest_ssh_location_valid(const char *loc)
{
	size_t uhlen, dlen;

	return location_shape(loc, &uhlen, &dlen) == 0;
}

/* An unlinked file in the temp dir for ssh's stdout or stderr.  -1 after
 * logging. */
static int
capture_file(const struct pitr_dest_env *env)
{
	const char *tmp = pitr_fsutil_tmpdir(env->temp_dir);
	char *path = pitr_xasprintf("%s/pitr-ssh.XXXXXX", tmp);
	int fd;

	if (path == NULL)
		return -1;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		pitr_log_error("could not create a file in \"%s\": %s", tmp, strerror(errno));
	else
		unlink(path);
	free(path);
	return fd;
}

/* The captured text (NUL-terminated, at most `size`-1 bytes). */
static void
read_capture(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? (size_t)n : 0] = '\0';
}

/* ": " and ssh's last non-empty stderr line (its reason, or the remote
 * command's), or "" when it said nothing; `size` is at least 1003. */
static void
ssh_reason(const struct ssh_priv *sp, char *buf, size_t size)
{
	char text[8192], *end;

	buf[0] = '\0';
	read_capture(sp->err_fd, text, sizeof(text));
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	while (end > text && end[-1] != '\n')
		end--;
	/* One line of ssh's is short; a longer one is cut. */
	if (*end != '\0')
		snprintf(buf, size, ": %.1000s", end);
}

static bool
captured(const struct ssh_priv *sp, const char *mark)
{
	char text[1024];

	read_capture(sp->out_fd, text, sizeof(text));
	return strstr(text, mark) != NULL;
}

static const char *
ssh_program(const struct pitr_dest *d)
{
	return d->env->ssh_path != NULL && *d->env->ssh_path != '\0' ? d->env->ssh_path : "ssh";
}

static const char *
remote_cat(const struct pitr_dest *d)
{
	return d->env->remote_cat_path != NULL && *d->env->remote_cat_path != '\0' ?
	       d->env->remote_cat_path : "cat";
}

/* Start ssh running `cmd` on the remote host, stdin from `stdin_fd` (-1:
 * /dev/null), its output in fresh captures.  0, or -1 after logging. */
static int
start_ssh(struct pitr_dest *d, const char *cmd, int stdin_fd)
{
	struct ssh_priv *sp = d->priv;
	char *argv[SSH_ARGV_MAX];
	int argc = 0;

	if (ftruncate(sp->out_fd, 0) != 0 || ftruncate(sp->err_fd, 0) != 0 ||
	    lseek(sp->out_fd, 0, SEEK_SET) < 0 || lseek(sp->err_fd, 0, SEEK_SET) < 0) {
		pitr_log_error("could not reset a capture file: %s", strerror(errno));
		return -1;
	}
	argv[argc++] = (char *)ssh_program(d);
	/* Never prompt (a cron job has nobody to answer); notice a dead peer
	 * instead of hanging for the TCP timeout. */
	argv[argc++] = "-o";
	argv[argc++] = "BatchMode=yes";
	argv[argc++] = "-o";
	argv[argc++] = "ConnectTimeout=30";
	argv[argc++] = "-o";
	argv[argc++] = "ServerAliveInterval=15";
	argv[argc++] = "-o";
	argv[argc++] = "ServerAliveCountMax=4";
	argv[argc++] = "--";
	argv[argc++] = sp->userhost;
	argv[argc++] = (char *)cmd;
	argv[argc] = NULL;
	if (pitr_spawn_start_redirect(&sp->child, argv, stdin_fd, sp->out_fd, sp->err_fd) != 0)
		return -1;
	sp->running = true;
	return 0;
}

/* Wait for the running ssh.  0 if it exited 0; otherwise -1 after logging
 * one line: "could not `what` NAME `prep` direct destination LOCATION: ssh
 * exit status N: reason". */
static int
wait_ssh(struct pitr_dest *d, const char *what, const char *prep)
{
	struct ssh_priv *sp = d->priv;
	int status;

	sp->running = false;
	if (sp->in_fd >= 0) {
		close(sp->in_fd);
		sp->in_fd = -1;
	}
	if (pitr_spawn_reap(&sp->child, &status) != 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char how[96], why[1024];

		pitr_spawn_status_text(status, how, sizeof(how));
		ssh_reason(sp, why, sizeof(why));
		pitr_log_error("could not %s \"%s\" %s direct destination \"%s\": ssh %s%s", what,
			       d->name, prep, d->spec.location, how, why);
		return -1;
	}
	return 0;
}

/* d->priv: the location split and the capture files made.  0, or -1
 * after logging (what was made is freed by priv_free()). */
static int
priv_new(struct pitr_dest *d)
{
	struct ssh_priv *sp = pitr_xcalloc(1, sizeof(*sp));
	int rc;

	if (sp == NULL)
		return -1;
	sp->in_fd = sp->out_fd = sp->err_fd = -1;
	sp->child.pid = -1;
	sp->child.stdin_fd = -1;
	d->priv = sp;
	if ((rc = split_location(d->spec.location, &sp->userhost, &sp->dir)) != 0) {
		if (rc == -1)
			pitr_log_error("direct destination \"%s\" is not [USER@]HOST:/PATH",
				       d->spec.location);
		return -1;
	}
	if ((sp->out_fd = capture_file(d->env)) < 0 || (sp->err_fd = capture_file(d->env)) < 0)
		return -1;
	return 0;
}

static void
priv_free(struct pitr_dest *d)
{
	struct ssh_priv *sp = d->priv;

	if (sp->out_fd >= 0)
		close(sp->out_fd);
	if (sp->err_fd >= 0)
		close(sp->err_fd);
	free(sp->userhost);
	free(sp->dir);
	free(sp->tmp);
	free(sp->final);
	free(sp);
	d->priv = NULL;
}

/* sp->tmp, a fresh name ".pitr-tmp.NAME.XXXXXXXX" in the remote
 * directory, and sp->final.  0, or -1 after logging. */
static int
remote_names(struct ssh_priv *sp, const char *name)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	const char *sep = strcmp(sp->dir, "/") ? "/" : "";
	unsigned char rnd[8];
	char suffix[sizeof(rnd) + 1];

	if (getentropy(rnd, sizeof(rnd)) != 0) {
		pitr_log_error("could not get random bytes: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(rnd); i++)
		suffix[i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
	suffix[sizeof(rnd)] = '\0';
	if ((sp->tmp = pitr_xasprintf("%s%s%s%s.%s", sp->dir, sep, PITR_FSUTIL_TMP_PREFIX, name,
				      suffix)) == NULL ||
	    (sp->final = pitr_xasprintf("%s%s%s", sp->dir, sep, name)) == NULL)
		return -1;
	return 0;
}

/*
 * The upload's remote command.  noclobber: the name is ours alone; 0600
 * as the local temporary files (fsutil.h); the mark says the file exists,
 * for the cleanup.  The file is created and opened once, as fd 3, and
 * where flock(1) exists it locks that open file (the lock outlives
 * flock(1), and `cat` inherits it) before a byte is written: a sweep
 * (SWEEP_CMD) that got in between creating and locking removed the name,
 * which the check after the lock notices.  `cat` is the remote program
 * (--remote-cat-path), quoted as every path is.  Malloc'd, NULL after
 * logging.
 */
static char *
upload_command(const char *tmp, const char *cat)
{
	char *q = pitr_quote_shell(tmp), *qcat = pitr_quote_shell(cat), *cmd = NULL;

	if (q != NULL && qcat != NULL)
		cmd = pitr_xasprintf("umask 077 && set -C && exec 3>%s && echo " MARK_CREATED " && { ! "
				     "command -v flock >/dev/null 2>&1 || { flock -n 3 && [ -f %s ]; } || { "
				     "echo \"the temporary file was removed before it could be locked\" >&2; "
				     "exit 1; }; } && exec %s >&3 3>&-", q, q, qcat);
	free(q);
	free(qcat);
	return cmd;
}

static int
ssh_open(struct pitr_dest *d, const char *name)
{
	struct ssh_priv *sp;
	char *cmd = NULL;
	int in[2] = { -1, -1 }, rc = -1;

	if (priv_new(d) != 0)
		return -1;
	sp = d->priv;
	if (remote_names(sp, name) != 0 || (cmd = upload_command(sp->tmp, remote_cat(d))) == NULL)
		goto out;
	/* Close-on-exec from birth: no other child may hold our write end,
	 * or this ssh would never see the end of its input. */
	if (pipe2(in, O_CLOEXEC) != 0) {
		pitr_log_error("could not create a pipe for ssh: %s", strerror(errno));
		goto out;
	}
	/* A remote end that went away gives EPIPE on our write, reported
	 * with ssh's reason, not a signal death. */
	signal(SIGPIPE, SIG_IGN);
	if (start_ssh(d, cmd, in[0]) != 0)
		goto out;
	sp->in_fd = in[1];
	in[1] = -1;
	sp->state = SSH_UPLOADING;
	rc = 0;
out:
	if (in[0] >= 0)
		close(in[0]);
	if (in[1] >= 0)
		close(in[1]);
	free(cmd);
	return rc;
}

/* Wait for the upload to end: the remote temporary file complete. */
static int
ssh_end_upload(struct pitr_dest *d)
{
	struct ssh_priv *sp = d->priv;
	int rc;

	if (sp == NULL || sp->state != SSH_UPLOADING)
		return 0;
	rc = wait_ssh(d, "deliver", "to");
	sp->tmp_exists = captured(sp, MARK_CREATED);
	if (rc != 0)
		return -1;
	sp->state = SSH_UPLOADED;
	return 0;
}

static int
ssh_write(struct pitr_dest *d, const void *buf, size_t len)
{
	struct ssh_priv *sp = d->priv;

	if (sp->state != SSH_UPLOADING || sp->in_fd < 0) {
		pitr_log_error("\"%s\" to direct destination \"%s\" is no longer being written",
			       d->name, d->spec.location);
		return -1;
	}
	if (pitr_io_write_all(sp->in_fd, buf, len) == 0) {
		sp->bytes += len;
		return 0;
	}
	if (errno == EPIPE) {
		/* ssh is gone: its exit status and reason say why. */
		if (ssh_end_upload(d) == 0)
			pitr_log_error("could not deliver \"%s\" to direct destination \"%s\": ssh "
				       "stopped reading its input", d->name, d->spec.location);
		return -1;
	}
	pitr_log_error("could not write \"%s\" to ssh for direct destination \"%s\": %s", d->name,
		       d->spec.location, strerror(errno));
	return -1;
}

static int
ssh_finish_begin(struct pitr_dest *d)
{
	struct ssh_priv *sp = d->priv;
	char *qt = NULL, *qf = NULL, *qd = NULL, *cmd = NULL;
	int rc = -1;

	if (ssh_end_upload(d) != 0)
		return -1;
	if (sp->state != SSH_UPLOADED) {
		pitr_log_error("\"%s\" to direct destination \"%s\" is not complete", d->name,
			       d->spec.location);
		return -1;
	}
	/* Every byte written there (a sweep cannot have taken the file since
	 * the writer locked it, but nothing short is ever published); fsync
	 * the data, link (never replaces), drop the temporary name, fsync the
	 * directory; an existing final name is only compared. */
	if ((qt = pitr_quote_shell(sp->tmp)) == NULL || (qf = pitr_quote_shell(sp->final)) == NULL ||
	    (qd = pitr_quote_shell(sp->dir)) == NULL ||
	    (cmd = pitr_xasprintf("s=$(wc -c <%s) && { [ $s -eq %" PRIu64 " ] || { echo \"the "
				  "temporary file has $s bytes of %" PRIu64 "\" >&2; exit 1; }; } && "
				  "sync -- %s && if [ -e %s ] || [ -h %s ]; then if cmp -s -- %s %s; "
				  "then r=" MARK_SAME "; else r=" MARK_DIFFER "; fi; else ln -- %s %s "
				  "&& r=" MARK_NEW "; fi && rm -f -- %s && sync -- %s && echo \"$r\"",
				  qt, sp->bytes, sp->bytes, qt, qf, qf, qt, qf, qt, qf, qt, qd)) == NULL)
		goto out;
	if (start_ssh(d, cmd, -1) != 0)
		goto out;
	sp->state = SSH_PUBLISHING;
	rc = 0;
out:
	free(qt);
	free(qf);
	free(qd);
	free(cmd);
	return rc;
}

static int
ssh_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	struct ssh_priv *sp = d->priv;

	if (sp->state != SSH_PUBLISHING) {
		pitr_log_error("\"%s\" to direct destination \"%s\" was not being published", d->name,
			       d->spec.location);
		return -1;
	}
	if (wait_ssh(d, "publish", "at") != 0)
		return -1;
	/* An outcome printed means the command ran to its end, the temporary
	 * name removed. */
	if (captured(sp, MARK_NEW) || captured(sp, MARK_SAME) || captured(sp, MARK_DIFFER)) {
		sp->tmp_exists = false;
		sp->state = SSH_DONE;
	}
	if (captured(sp, MARK_NEW)) {
		*result = PITR_DEST_DELIVERED;
	} else if (captured(sp, MARK_SAME)) {
		*result = PITR_DEST_ALREADY;
	} else if (captured(sp, MARK_DIFFER)) {
		pitr_log_error("\"%s\" already exists at direct destination \"%s\" with different "
			       "content: not overwritten", d->name, d->spec.location);
		return -1;
	} else {
		/* Not known to have run to its end: abort removes the temporary
		 * name. */
		pitr_log_error("could not publish \"%s\" at direct destination \"%s\": the remote "
			       "command reported no outcome", d->name, d->spec.location);
		sp->state = SSH_UPLOADED;
		return -1;
	}
	return 0;
}

/* Best effort: remove the remote temporary file of an unfinished run. */
static void
remove_remote_tmp(struct pitr_dest *d)
{
	struct ssh_priv *sp = d->priv;
	char *q = pitr_quote_shell(sp->tmp), *cmd = NULL;

	if (q == NULL || (cmd = pitr_xasprintf("rm -f -- %s", q)) == NULL) {
		free(q);
		return;
	}
	if (start_ssh(d, cmd, -1) == 0 && wait_ssh(d, "remove the temporary file of", "at") == 0)
		pitr_log_verbose("removed \"%s\" from %s", sp->tmp, sp->userhost);
	free(q);
	free(cmd);
}

static void
ssh_abort(struct pitr_dest *d)
{
	struct ssh_priv *sp = d->priv;

	if (sp == NULL)
		return;
	if (sp->in_fd >= 0)
		close(sp->in_fd);
	sp->in_fd = -1;
	if (sp->running) {
		pitr_spawn_kill(&sp->child);
		sp->running = false;
		if (sp->state == SSH_UPLOADING)
			sp->tmp_exists = captured(sp, MARK_CREATED);
		else
			sp->tmp_exists = true;  /* a publish cut short */
	}
	if (sp->tmp_exists && sp->state != SSH_DONE)
		remove_remote_tmp(d);
	priv_free(d);
}

/* Count (and with -v name) the files the sweep's output says it removed.
 * The output of a sweep of many files may exceed a capture's read. */
static int
report_swept(const struct pitr_dest *d)
{
	const struct ssh_priv *sp = d->priv;
	FILE *f;
	char line[4096];
	int fd = dup(sp->out_fd), count = 0;

	if (fd < 0 || lseek(fd, 0, SEEK_SET) < 0 || (f = fdopen(fd, "r")) == NULL) {
		pitr_log_error("could not read the output of ssh: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, MARK_NOFLOCK) == 0)
			pitr_log_verbose("%s has no flock(1): the temporary files interrupted runs left "
					 "in \"%s\" there are not removed", sp->userhost, sp->dir);
		if (strncmp(line, MARK_SWEPT, strlen(MARK_SWEPT)) != 0)
			continue;
		pitr_log_verbose("removed \"%s/%s\" at %s, left by an interrupted run", sp->dir,
				 line + strlen(MARK_SWEPT), sp->userhost);
		count++;
	}
	fclose(f);
	if (count > 0)
		pitr_log_info("removed %d temporary file%s left by interrupted runs at direct "
			      "destination \"%s\"", count, count == 1 ? "" : "s", d->spec.location);
	return count;
}

int
pitr_dest_ssh_sweep(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env)
{
	struct pitr_dest *d = pitr_dest_new(spec, env);
	struct ssh_priv *sp;
	char *qd = NULL, *cmd = NULL;
	int rc = -1, status;

	if (d == NULL || priv_new(d) != 0)
		goto out;
	sp = d->priv;
	if ((qd = pitr_quote_shell(sp->dir)) == NULL ||
	    (cmd = pitr_xasprintf(SWEEP_CMD, qd, PITR_DEST_UNLOCKED_MIN_AGE / 60)) == NULL ||
	    start_ssh(d, cmd, -1) != 0)
		goto out;
	sp->running = false;
	if (pitr_spawn_reap(&sp->child, &status) != 0)
		goto out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		rc = report_swept(d);
	} else {
		char how[96], why[1024];

		/* The delivery that follows reports an unreachable host. */
		pitr_spawn_status_text(status, how, sizeof(how));
		ssh_reason(sp, why, sizeof(why));
		pitr_log_verbose("could not look for temporary files interrupted runs left at direct "
				 "destination \"%s\": ssh %s%s", spec->location, how, why);
	}
out:
	free(qd);
	free(cmd);
	pitr_dest_free(d);
	return rc;
}

const struct pitr_dest_ops pitr_dest_ssh_ops = {
	.kind_name = "direct",
	.staged = true,
	.open = ssh_open,
	.write = ssh_write,
	.end_upload = ssh_end_upload,
	.finish_begin = ssh_finish_begin,
	.finish_end = ssh_finish_end,
	.abort = ssh_abort,
	.free = ssh_abort,
};
