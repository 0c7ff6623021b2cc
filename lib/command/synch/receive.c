/*
 * receive.c - pitr-synch --receive: one output's end of the copy.  The
 * stream on stdin (stream.c's layout) is extracted into the data directory
 * and each tablespace's place; SYNCH_IN_PROGRESS is written first in each
 * and removed last, and global/pg_control is held under a temporary name
 * until everything else is synced, so that a copy cut short at any point
 * is one PostgreSQL refuses to start and the next pitr-synch recognises
 * as its own.  A failure or a signal removes everything this run wrote.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "tar/tarread.h"

/* Where the output's configuration files wait until the data is all
 * there, then are moved over the source's copies. */
#define STAGING ".pitr-synch.config"
#define PG_CONTROL_TMP "global/pg_control.pitr-synch"

static volatile sig_atomic_t rc_signal;

static void
on_signal(int signo)
{
	rc_signal = signo;
}

struct rc_dir {
	char *oid;           /* NULL for the data directory */
	char *path;
	bool created;        /* this run made it: removed whole on failure */
	size_t top;          /* created: the length of its first new ancestor ("/a/b" of
			      * "/a/b/c" when /a existed), made and removed with it */
	bool marked;         /* SYNCH_IN_PROGRESS written */
};

struct rc_run {
	const struct synch_receive_opts *o;
	struct rc_dir *dirs; /* [0] the data directory, then the tablespaces */
	size_t ndirs;
	char index[32];
};

/* Empty (or only "." and ".."): 1; holds SYNCH_IN_PROGRESS: 2; else 0;
 * -1 after logging. */
static int
dir_state(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true, ours = false;

	if (d == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		empty = false;
		ours |= strcmp(de->d_name, SYNCH_IN_PROGRESS) == 0;
	}
	closedir(d);
	return empty ? 1 : ours ? 2 : 0;
}

/* Everything inside `path`, not `path` itself, SYNCH_IN_PROGRESS last:
 * a removal cut short still leaves a directory marked as an interrupted
 * copy. */
static int
empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char *mark;
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SYNCH_IN_PROGRESS) == 0)
			continue;
		if ((p = pitr_fsutil_join(path, de->d_name)) == NULL)
			rc = -1;
		else
			rc = pitr_fsutil_remove_tree(p);
		free(p);
	}
	closedir(d);
	if (rc == 0 && (mark = pitr_fsutil_join(path, SYNCH_IN_PROGRESS)) != NULL) {
		if (unlink(mark) != 0 && errno != ENOENT)
			rc = -1;
		free(mark);
	}
	return rc;
}

/* The length of the first component of `path` that does not exist. */
static size_t
first_missing(const char *path)
{
	char copy[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(copy))
		return len;
	memcpy(copy, path, len + 1);
	for (size_t i = 1; i <= len; i++)
		if (copy[i] == '/' || copy[i] == '\0') {
			struct stat st;
			int missing;

			copy[i] = '\0';
			missing = lstat(copy, &st) != 0 && errno == ENOENT;
			copy[i] = path[i];
			if (missing)
				return i;
		}
	return len;
}

/* The ancestors of a created `dir` that this run made, deepest first: fn
 * on each, as long as it returns 0. */
static int
each_made_ancestor(const struct rc_dir *dir, int (*fn)(const char *path, void *arg), void *arg)
{
	char copy[PATH_MAX];
	char *slash;

	if (!dir->created || strlen(dir->path) >= sizeof(copy))
		return 0;
	strcpy(copy, dir->path);
	while ((slash = strrchr(copy, '/')) != NULL && (size_t)(slash - copy) >= dir->top) {
		*slash = '\0';
		if (fn(copy, arg) != 0)
			return -1;
	}
	return 0;
}

static int
rmdir_quiet(const char *path, void *arg)
{
	(void)arg;
	return rmdir(path);
}

/* Make `dir` ready: created, or empty, or an interrupted copy emptied. */
static int
claim(struct rc_dir *dir)
{
	struct stat st;
	int state;

	if (lstat(dir->path, &st) != 0) {
		if (errno != ENOENT) {
			pitr_log_error("could not stat \"%s\": %s", dir->path, strerror(errno));
			return -1;
		}
		dir->top = first_missing(dir->path);
		if (pitr_fsutil_mkdir_p(dir->path, 0700) != 0)
			return -1;
		dir->created = true;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("output \"%s\" exists and is not a directory", dir->path);
		return -1;
	}
	if ((state = dir_state(dir->path)) < 0)
		return -1;
	if (state == 0) {
		pitr_log_error("output %s\"%s\" is not empty and holds no interrupted pitr-synch copy: "
			       "empty it, or re-sync it with -r", dir->oid ? "tablespace directory " : "",
			       dir->path);
		return -1;
	}
	if (state == 2) {
		pitr_log_info("\"%s\" holds an interrupted pitr-synch copy: replaced", dir->path);
		if (empty_dir(dir->path) != 0)
			return -1;
	}
	return 0;
}

static int
mark(struct rc_run *run, struct rc_dir *dir)
{
	char text[64];

	snprintf(text, sizeof(text), "system identifier %" PRIu64 "\n", run->o->sysid);
	if (chmod(dir->path, 0700) != 0) {
		pitr_log_error("could not change the mode of \"%s\": %s", dir->path, strerror(errno));
		return -1;
	}
	if (pitr_fsutil_publish_buffer(dir->path, SYNCH_IN_PROGRESS, text, strlen(text), true, NULL) != 0)
		return -1;
	dir->marked = true;
	return 0;
}

/* Undo: what this run created goes whole, what it found is emptied. */
static void
undo(struct rc_run *run)
{
	/* The last made first: a tablespace's place may be in a parent
	 * made for the data directory. */
	for (size_t i = run->ndirs; i-- > 0;) {
		struct rc_dir *d = &run->dirs[i];

		if ((d->created || d->marked) && empty_dir(d->path) == 0 && d->created) {
			if (rmdir(d->path) != 0)
				pitr_log_error("could not remove \"%s\": %s", d->path, strerror(errno));
			else
				(void)each_made_ancestor(d, rmdir_quiet, NULL);
		}
	}
}

static char *
under(const char *dir, const char *rest)
{
	while (*rest == '/')
		rest++;
	return *rest == '\0' ? pitr_xstrdup(dir) : pitr_xasprintf("%s/%s", dir, rest);
}

static char *
map_data(struct rc_run *run, const char *rest, bool *skip)
{
	size_t digits;

	while (*rest == '/')
		rest++;
	/* pg_wal is made here (a link at the source stays there); the
	 * tablespace links are remade to the mapped places. */
	if (strcmp(rest, "pg_wal") == 0 || strcmp(rest, "pg_wal/") == 0 ||
	    strcmp(rest, SYNCH_IN_PROGRESS) == 0 || strncmp(rest, STAGING, strlen(STAGING)) == 0) {
		*skip = true;
		return NULL;
	}
	digits = strncmp(rest, "pg_tblspc/", 10) == 0 ? strspn(rest + 10, "0123456789") : 0;
	if (digits > 0 && (rest[10 + digits] == '\0' || rest[10 + digits] == '/')) {
		*skip = rest[10 + digits] == '\0';
		if (!*skip)
			pitr_log_error("member \"pgdata/%s\" lies under a tablespace link", rest);
		return NULL;
	}
	if (strcmp(rest, "global/pg_control") == 0)
		return under(run->dirs[0].path, PG_CONTROL_TMP);
	return under(run->dirs[0].path, rest);
}

static char *
map_member(void *ctx, const char *member, bool *skip)
{
	struct rc_run *run = ctx;
	const char *rest;

	*skip = false;
	if (rc_signal != 0) {
		pitr_log_error("interrupted by signal %d: copy abandoned", (int)rc_signal);
		return NULL;
	}
	if (strcmp(member, SYNCH_MEMBER_DATA) == 0 || strncmp(member, SYNCH_MEMBER_DATA "/", 7) == 0)
		return map_data(run, member + 6, skip);
	if (strncmp(member, SYNCH_MEMBER_TS "/", 12) == 0) {
		rest = member + 12;
		for (size_t i = 1; i < run->ndirs; i++) {
			size_t n = strlen(run->dirs[i].oid);

			if (strncmp(rest, run->dirs[i].oid, n) == 0 && (rest[n] == '\0' || rest[n] == '/'))
				return under(run->dirs[i].path, rest + n);
		}
		pitr_log_error("member \"%s\": no --tablespace names this tablespace", member);
		return NULL;
	}
	if (strncmp(member, SYNCH_MEMBER_CONFIG "/", 7) == 0) {
		size_t n = strlen(run->index);

		rest = member + 7;
		if (strncmp(rest, run->index, n) != 0 || rest[n] != '/') {
			*skip = true;
			return NULL;
		}
		if (strchr(rest + n + 1, '/') == NULL && rest[n + 1] != '\0') {
			char *staging = under(run->dirs[0].path, STAGING);
			char *p = staging ? under(staging, rest + n + 1) : NULL;

			free(staging);
			return p;
		}
	}
	pitr_log_error("member \"%s\" is not part of a pitr-synch stream", member);
	return NULL;
}

static int
parse_dirs(struct rc_run *run)
{
	const struct synch_receive_opts *o = run->o;

	if (o->dir == NULL || o->dir[0] != '/') {
		pitr_log_error("--receive needs an absolute directory, not \"%s\"", o->dir ? o->dir : "");
		return -1;
	}
	if ((run->dirs = pitr_xcalloc(o->ntablespaces + 1, sizeof(*run->dirs))) == NULL ||
	    (run->dirs[0].path = pitr_xstrdup(o->dir)) == NULL)
		return -1;
	run->ndirs = 1;
	for (size_t i = 0; i < o->ntablespaces; i++) {
		const char *arg = o->tablespaces[i], *eq = strchr(arg, '=');
		struct rc_dir *d = &run->dirs[run->ndirs];

		if (eq == NULL || eq == arg || strspn(arg, "0123456789") != (size_t)(eq - arg) ||
		    eq[1] != '/') {
			pitr_log_error("invalid value \"%s\" for option \"--tablespace\": expected "
				       "OID=/DIR", arg);
			return -1;
		}
		run->ndirs++;
		if ((d->oid = pitr_xstrndup(arg, (size_t)(eq - arg))) == NULL ||
		    (d->path = pitr_xstrdup(eq + 1)) == NULL)
			return -1;
	}
	snprintf(run->index, sizeof(run->index), "%d", o->index);
	return 0;
}

static int
prepare(struct rc_run *run)
{
	char *p = NULL;
	int rc = -1;

	for (size_t i = 0; i < run->ndirs; i++)
		if (claim(&run->dirs[i]) != 0 || mark(run, &run->dirs[i]) != 0)
			return -1;
	if ((p = under(run->dirs[0].path, "pg_wal/archive_status")) == NULL ||
	    pitr_fsutil_mkdir_p(p, 0700) != 0)
		goto out;
	free(p);
	if ((p = under(run->dirs[0].path, STAGING)) == NULL || pitr_fsutil_mkdir_p(p, 0700) != 0)
		goto out;
	rc = 0;
out:
	free(p);
	return rc;
}

/* The tablespace links to the places this output gives them. */
static int
relink(struct rc_run *run)
{
	for (size_t i = 1; i < run->ndirs; i++) {
		char *link = pitr_xasprintf("%s/pg_tblspc/%s", run->dirs[0].path, run->dirs[i].oid);
		int r;

		if (link == NULL)
			return -1;
		r = symlink(run->dirs[i].path, link);
		if (r != 0)
			pitr_log_error("could not create symbolic link \"%s\": %s", link, strerror(errno));
		free(link);
		if (r != 0)
			return -1;
	}
	return 0;
}

/* A signal file the sender placed replaces the source's other one: a copy
 * of a standby made a warm standby must lose its standby.signal, which
 * PostgreSQL would obey first. */
static int
drop_other_signal(struct rc_run *run, const char *placed)
{
	const char *other = strcmp(placed, "standby.signal") == 0 ? "recovery.signal" :
			    strcmp(placed, "recovery.signal") == 0 ? "standby.signal" : NULL;
	char *path;
	int rc = 0;

	if (other == NULL)
		return 0;
	if ((path = under(run->dirs[0].path, other)) == NULL)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}

/* The staged configuration files over the source's copies. */
static int
place_config(struct rc_run *run)
{
	char *staging = under(run->dirs[0].path, STAGING);
	DIR *d = staging ? opendir(staging) : NULL;
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", staging ? staging : STAGING,
			       strerror(errno));
		free(staging);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *from, *to;

		if (de->d_name[0] == '.')
			continue;
		from = pitr_fsutil_join(staging, de->d_name);
		to = under(run->dirs[0].path, de->d_name);
		if (from == NULL || to == NULL || rename(from, to) != 0) {
			pitr_log_error("could not move \"%s\" into place: %s", de->d_name, strerror(errno));
			rc = -1;
		} else {
			rc = drop_other_signal(run, de->d_name);
		}
		free(from);
		free(to);
	}
	closedir(d);
	if (rc == 0 && rmdir(staging) != 0) {
		pitr_log_error("could not remove \"%s\": %s", staging, strerror(errno));
		rc = -1;
	}
	free(staging);
	return rc;
}

static int
chown_one(const char *path, void *arg)
{
	const struct stat *st = arg;

	return lchown(path, st->st_uid, st->st_gid);
}

/* Run as root, the members keep their owners (tarread) but what this
 * receiver made does not: the directories, pg_wal, the configuration
 * files and the links go to the owner of PG_VERSION, the cluster's. */
static int
give_to_owner(struct rc_run *run)
{
	static const char *const made[] = { "", "pg_wal", "pg_wal/archive_status", "backup_label",
					    "tablespace_map", "postgresql.auto.conf", NULL };
	char *pgv = under(run->dirs[0].path, "PG_VERSION");
	struct stat st;
	int rc = 0;

	if (geteuid() != 0 || pgv == NULL || stat(pgv, &st) != 0) {
		free(pgv);
		return 0;
	}
	free(pgv);
	for (size_t i = 0; made[i] != NULL && rc == 0; i++) {
		char *p = under(run->dirs[0].path, made[i]);

		if (p == NULL || (lchown(p, st.st_uid, st.st_gid) != 0 && errno != ENOENT))
			rc = -1;
		free(p);
	}
	for (size_t i = 1; i < run->ndirs && rc == 0; i++) {
		char *link = pitr_xasprintf("%s/pg_tblspc/%s", run->dirs[0].path, run->dirs[i].oid);

		if (link == NULL || lchown(link, st.st_uid, st.st_gid) != 0 ||
		    lchown(run->dirs[i].path, st.st_uid, st.st_gid) != 0)
			rc = -1;
		free(link);
	}
	for (size_t i = 0; i < run->ndirs && rc == 0; i++)
		rc = each_made_ancestor(&run->dirs[i], chown_one, &st);
	if (rc != 0)
		pitr_log_error("could not give the copy to its owner (uid %ld): %s", (long)st.st_uid,
			       strerror(errno));
	return rc;
}

/* Everything durable, then pg_control under its name, then the marks
 * gone: from this point on the copy can be started. */
static int
finish(struct rc_run *run)
{
	char *tmp = under(run->dirs[0].path, PG_CONTROL_TMP);
	char *final = under(run->dirs[0].path, "global/pg_control");
	char *global = under(run->dirs[0].path, "global");
	int rc = -1;

	if (tmp == NULL || final == NULL || global == NULL)
		goto out;
	if (access(tmp, F_OK) != 0) {
		pitr_log_error("the stream held no global/pg_control");
		goto out;
	}
	for (size_t i = run->ndirs; i-- > 0;)
		if (pitr_tarread_sync(run->dirs[i].path) != 0)
			goto out;
	if (rename(tmp, final) != 0) {
		pitr_log_error("could not rename \"%s\": %s", tmp, strerror(errno));
		goto out;
	}
	if (pitr_fsutil_fsync_dir(global) != 0)
		goto out;
	for (size_t i = run->ndirs; i-- > 0;) {
		char *m = pitr_fsutil_join(run->dirs[i].path, SYNCH_IN_PROGRESS);

		if (m == NULL || unlink(m) != 0 || pitr_fsutil_fsync_dir(run->dirs[i].path) != 0) {
			if (m != NULL)
				pitr_log_error("could not remove \"%s\": %s", m, strerror(errno));
			free(m);
			goto out;
		}
		free(m);
		run->dirs[i].marked = false;
	}
	rc = 0;
out:
	free(tmp);
	free(final);
	free(global);
	return rc;
}

static const int rc_signals[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP };

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(rc_signals) / sizeof(rc_signals[0]); i++)
		(void)sigaction(rc_signals[i], &sa, NULL);
	/* A sender gone mid-stream is an end of file, not a death. */
	signal(SIGPIPE, SIG_IGN);
}

int
pitr_cmd_synch_receive(const struct synch_receive_opts *opts)
{
	struct rc_run run = { .o = opts };
	enum pitr_codec codec;
	uint64_t bytes = 0;
	int rc = -1;

	install_signals();
	if (pitr_codec_from_name(opts->codec ? opts->codec : "none", &codec) != 0) {
		pitr_log_error("invalid value \"%s\" for option \"--codec\"", opts->codec);
		return -1;
	}
	if (parse_dirs(&run) != 0 || prepare(&run) != 0)
		goto out;
	if (pitr_tarread_extract("/dev/stdin", codec, map_member, &run, PITR_TARREAD_ALLOW_SYMLINKS,
				 &bytes) != 0)
		goto out;
	if (rc_signal != 0) {
		pitr_log_error("interrupted by signal %d: copy abandoned", (int)rc_signal);
		goto out;
	}
	if (relink(&run) != 0 || place_config(&run) != 0 || give_to_owner(&run) != 0 ||
	    finish(&run) != 0)
		goto out;
	pitr_log_verbose("\"%s\": %" PRIu64 " bytes written", opts->dir, bytes);
	rc = 0;
out:
	if (rc != 0)
		undo(&run);
	for (size_t i = 0; i < run.ndirs; i++) {
		free(run.dirs[i].oid);
		free(run.dirs[i].path);
	}
	free(run.dirs);
	return rc;
}
