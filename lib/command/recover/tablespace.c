/*
 * tablespace.c - pitr-recover's tablespaces: --tablespace-map parsed, each
 * tablespace's destination judged and created when the data tarball's
 * first member for it arrives, and tablespace_map and pg_tblspc's links
 * pointed at the new places once the tarball is extracted.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "tar/tarread.h"

int
recover_tablespace_parse_map(struct recover_run *run)
{
	size_t n = run->o->ntablespace_map;

	if (n == 0)
		return 0;
	if ((run->map_old = pitr_xcalloc(n, sizeof(char *))) == NULL ||
	    (run->map_new = pitr_xcalloc(n, sizeof(char *))) == NULL ||
	    (run->map_used = pitr_xcalloc(n, sizeof(bool))) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *arg = run->o->tablespace_map[i];
		const char *eq = strchr(arg, '=');

		if (eq == NULL || arg[0] != '/' || eq[1] != '/') {
			pitr_log_error("invalid value \"%s\" for option \"--tablespace-map\": expected "
				       "OLDDIR=NEWDIR, both absolute", arg);
			return -1;
		}
		run->nmap++;
		if ((run->map_old[i] = pitr_xstrndup(arg, (size_t)(eq - arg))) == NULL ||
		    (run->map_new[i] = pitr_xstrdup(eq + 1)) == NULL)
			return -1;
		recover_strip_slashes(run->map_old[i]);
		recover_strip_slashes(run->map_new[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(run->map_old[j], run->map_old[i]) == 0) {
				pitr_log_error("--tablespace-map names \"%s\" twice", run->map_old[i]);
				return -1;
			}
	}
	return 0;
}

/* Set *missing to the first directory of `path` that does not exist
 * (malloc'd), or NULL when it all exists.  Returns 0, or -1 after logging
 * a failed allocation (not "all exists": what it creates must be known to
 * be removed on a refusal). */
static int
first_missing(const char *path, char **missing)
{
	char *copy = pitr_xstrdup(path);

	*missing = NULL;
	if (copy == NULL)
		return -1;
	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			struct stat st;

			*p = '\0';
			if (lstat(copy, &st) != 0 && errno == ENOENT) {
				*missing = copy;
				return 0;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return 0;
}

struct recover_tablespace *
recover_tablespace_add(struct recover_run *run, const char *old)
{
	struct recover_tablespace *ts, *grown;
	const char *new = old;
	bool remapped = false;

	for (size_t i = 0; i < run->nmap; i++)
		if (strcmp(run->map_old[i], old) == 0) {
			new = run->map_new[i];
			remapped = run->map_used[i] = true;
		}
	switch (recover_dir_state(new)) {
	case RECOVER_DIR_MISSING:
	case RECOVER_DIR_EMPTY:
		break;
	case RECOVER_DIR_FULL:
		if (remapped)
			pitr_log_error("--tablespace-map target \"%s\" for tablespace \"%s\" exists and is "
				       "not empty", new, old);
		else
			pitr_log_error("tablespace \"%s\" of backup \"%s\" exists and is not empty: give "
				       "--tablespace-map %s=NEWDIR", old, run->b->name, old);
		return NULL;
	case RECOVER_DIR_NOT_DIR:
		pitr_log_error("tablespace destination \"%s\" exists and is not a directory", new);
		return NULL;
	case RECOVER_DIR_ERROR:
		pitr_log_error("tablespace destination \"%s\": %s", new, strerror(errno));
		return NULL;
	}
	grown = pitr_xreallocarray(run->ts, run->nts + 1, sizeof(*run->ts));
	if (grown == NULL)
		return NULL;
	run->ts = grown;
	ts = &run->ts[run->nts];
	memset(ts, 0, sizeof(*ts));
	run->nts++;
	ts->remapped = remapped;
	if ((ts->old = pitr_xstrdup(old)) == NULL || (ts->new = pitr_xstrdup(new)) == NULL)
		return NULL;
	if (first_missing(new, &ts->created) != 0 ||
	    (ts->created != NULL && pitr_fsutil_mkdir_p(new, 0700) != 0))
		return NULL;
	/* libarchive's symlink guard checks every component from "/". */
	ts->real = realpath(new, NULL);
	if (ts->real == NULL) {
		pitr_log_error("tablespace destination \"%s\": %s", new, strerror(errno));
		return NULL;
	}
	pitr_log_info("tablespace \"%s\" goes to \"%s\"", old, new);
	return ts;
}

/* Read tablespace_map (PostgreSQL's format: "OID PATH" lines, with \ before
 * a \, CR or LF in the path). */
struct ts_line {
	char *oid;
	char *path;
};

static int
parse_spcmap(const char *text, const char *what, struct ts_line **out, size_t *n)
{
	size_t cap = 0;
	char line[PATH_MAX + 64];
	size_t i = 0;
	bool bs = false;

	*out = NULL;
	*n = 0;
	for (const char *p = text;; p++) {
		char ch = *p;

		if (ch == '\0' || (!bs && (ch == '\n' || ch == '\r'))) {
			struct ts_line *grown, *l;
			size_t digits;

			/* Ended before it is measured: a line of digits alone
			 * must not run on into an earlier, longer line's bytes. */
			line[i] = '\0';
			digits = strspn(line, "0123456789");
			if (i > 0) {
				if (digits == 0 || line[digits] != ' ' || line[digits + 1] == '\0') {
					pitr_log_error("\"%s\" is malformed: \"%s\"", what, line);
					return -1;
				}
				if (*n == cap) {
					cap = cap ? cap * 2 : 4;
					grown = pitr_xreallocarray(*out, cap, sizeof(**out));
					if (grown == NULL)
						return -1;
					*out = grown;
				}
				l = &(*out)[(*n)++];
				l->path = NULL;
				if ((l->oid = pitr_xstrndup(line, digits)) == NULL ||
				    (l->path = pitr_xstrdup(line + digits + 1)) == NULL)
					return -1;
			}
			i = 0;
			if (ch == '\0')
				return 0;
		} else if (!bs && ch == '\\') {
			bs = true;
		} else {
			if (i < sizeof(line) - 1)
				line[i++] = ch;
			bs = false;
		}
	}
}

static void
free_spcmap(struct ts_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].oid);
		free(l[i].path);
	}
	free(l);
}

/* Every --tablespace-map source was a tablespace extracted (of the
 * backup, or of a link of its chain: a standby's incremental on its
 * primary's chain may hold a tablespace at another place than the full
 * backup), and every tablespace left is named by its tablespace_map. */
static int
check_names(const struct recover_run *run, const struct ts_line *lines, size_t nlines)
{
	for (size_t i = 0; i < run->nmap; i++)
		if (!run->map_used[i]) {
			pitr_log_error("--tablespace-map \"%s\": backup \"%s\"%s has no tablespace there",
				       run->map_old[i], run->b->name, run->nlinks > 0 ? " (nor its chain)" : "");
			return -1;
		}
	for (size_t t = 0; t < run->nts; t++) {
		bool found = false;

		for (size_t i = 0; i < nlines; i++)
			found |= strcmp(lines[i].path, run->ts[t].old) == 0;
		if (!found) {
			pitr_log_error("the data tarball of backup \"%s\" holds tablespace \"%s\", which its "
				       "tablespace_map does not name", run->b->name, run->ts[t].old);
			return -1;
		}
	}
	return 0;
}

/* Append `line`'s entry for its new place to `out` at *used, and make its
 * pg_tblspc link. */
static int
relink_one(struct recover_run *run, const struct ts_line *line, char *out, size_t *used)
{
	const struct recover_tablespace *ts = NULL;
	char *link;
	int r;

	for (size_t t = 0; t < run->nts; t++)
		if (strcmp(line->path, run->ts[t].old) == 0)
			ts = &run->ts[t];
	if (ts == NULL) {
		pitr_log_error("tablespace_map of backup \"%s\" names \"%s\" (OID %s), which its data "
			       "tarball does not hold", run->b->name, line->path, line->oid);
		return -1;
	}
	*used += (size_t)sprintf(out + *used, "%s ", line->oid);
	for (const char *p = ts->real; *p != '\0'; p++) {
		if (*p == '\\' || *p == '\n' || *p == '\r')
			out[(*used)++] = '\\';
		out[(*used)++] = *p;
	}
	out[(*used)++] = '\n';
	/* PostgreSQL remakes these links from tablespace_map at start;
	 * making them now keeps the directory whole before that. */
	link = pitr_xasprintf("%s/pg_tblspc/%s", run->tmp, line->oid);
	if (link == NULL)
		return -1;
	r = symlink(ts->real, link);
	if (r != 0)
		pitr_log_error("could not create symbolic link \"%s\": %s", link, strerror(errno));
	else
		r = recover_give_to_owner(run, link);
	free(link);
	return r;
}

int
recover_tablespace_relink(struct recover_run *run)
{
	char *mpath = pitr_fsutil_join(run->tmp, "tablespace_map");
	char *text = NULL, *out = NULL;
	struct ts_line *lines = NULL;
	size_t nlines = 0, len = 0, used = 0;
	int rc = -1;

	if (mpath == NULL)
		return -1;
	text = pitr_fsutil_read_small(mpath, RECOVER_CONF_MAX, &len);
	if (text == NULL && errno != ENOENT)
		goto out;
	if (text != NULL && parse_spcmap(text, mpath, &lines, &nlines) != 0)
		goto out;
	if (check_names(run, lines, nlines) != 0)
		goto out;
	if (nlines == 0) {
		rc = 0;
		goto out;
	}
	out = pitr_xcalloc(1, len * 2 + nlines * (PATH_MAX * 2 + 32) + 1);
	if (out == NULL)
		goto out;
	for (size_t i = 0; i < nlines; i++)
		if (relink_one(run, &lines[i], out, &used) != 0)
			goto out;
	out[used] = '\0';
	if (recover_write_file(run, "tablespace_map", out, true) != 0)
		goto out;
	rc = 0;
out:
	free_spcmap(lines, nlines);
	free(text);
	free(out);
	free(mpath);
	return rc;
}

/* Give the dirs between a created tablespace ancestor and the tablespace
 * to the data dir's owner (root made them). */
static int
chown_created(struct recover_run *run, const struct recover_tablespace *ts)
{
	char *copy;
	size_t start;
	int rc = 0;

	if (geteuid() != 0 || ts->created == NULL)
		return 0;
	copy = pitr_xstrdup(ts->new);
	if (copy == NULL)
		return -1;
	start = strlen(ts->created);
	for (char *p = copy + start;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (recover_give_to_owner(run, copy) != 0)
				rc = -1;
			*p = saved;
			if (saved == '\0' || rc != 0)
				break;
		}
	}
	free(copy);
	return rc;
}

int
recover_tablespace_chown(struct recover_run *run)
{
	for (size_t i = 0; i < run->nts; i++)
		if (chown_created(run, &run->ts[i]) != 0)
			return -1;
	return 0;
}

/* One directory made durable: its file system synced, the directory and
 * (for a tablespace) its parent fsync'ed. */
struct sync_job {
	const char *dir;
	char *parent;        /* NULL: the data dir, whose parent the rename syncs */
	pthread_t thread;
	bool threaded;
	int rc;
};

static void *
sync_one(void *arg)
{
	struct sync_job *job = arg;

	job->rc = pitr_tarread_sync(job->dir) != 0 ||
		(job->parent != NULL && pitr_fsutil_fsync_dir(job->parent) != 0) ? -1 : 0;
	return NULL;
}

/* The parent directory of `path` (malloc'd), or NULL after logging. */
static char *
parent_of(const char *path)
{
	char *parent = pitr_xstrdup(path), *slash;

	if (parent != NULL && (slash = strrchr(parent, '/')) != NULL)
		slash[slash == parent ? 1 : 0] = '\0';
	return parent;
}

/* The data dir and every tablespace at once, a thread each: tablespaces
 * usually live on file systems of their own, whose writeback then runs in
 * parallel instead of one after the other.  A thread that cannot start
 * syncs on this one.  Signals stay with this thread. */
int
recover_tablespace_sync(struct recover_run *run)
{
	struct sync_job *jobs = pitr_xcalloc(run->nts + 1, sizeof(*jobs));
	sigset_t all, old;
	int rc = 0;

	if (jobs == NULL)
		return -1;
	jobs[0].dir = run->tmp;
	for (size_t i = 0; i < run->nts; i++) {
		jobs[i + 1].dir = run->ts[i].real;
		if ((jobs[i + 1].parent = parent_of(run->ts[i].real)) == NULL)
			rc = -1;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; rc == 0 && i <= run->nts; i++)
		jobs[i].threaded = pthread_create(&jobs[i].thread, NULL, sync_one, &jobs[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; rc == 0 && i <= run->nts; i++) {
		if (!jobs[i].threaded)
			sync_one(&jobs[i]);
	}
	for (size_t i = 0; i <= run->nts; i++) {
		if (jobs[i].threaded)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].rc != 0)
			rc = -1;
		free(jobs[i].parent);
	}
	free(jobs);
	return rc;
}
