/*
 * logread.c - the log files a set of -l templates names, and their new
 * lines.  As OmniPITR's monitor did, a template's strftime marks become
 * wildcards, so the files of earlier days (a rotated template) are found
 * too; a file found this way counts only if its first pitr log line's
 * time, expanded through the template, gives back its name.  A template
 * without marks names its one file, read whatever its first line (a
 * wrapper's banner).  Each file is read from where the last call stopped,
 * complete lines only (a writer may be half way through the last one),
 * unless it was replaced under the same name since: then from its start.
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/monitor/monitor_impl.h"
#include "common/log.h"
#include "common/logpath.h"
#include "common/xalloc.h"

char *
pitr_mon_template_glob(const char *template_)
{
	char *out = pitr_xmalloc(2 * strlen(template_) + 1);
	char *o = out;
	bool wild = false;      /* the last thing written is a wildcard */

	if (out == NULL)
		return NULL;
	for (const char *p = template_; *p != '\0'; p++) {
		if (*p == '^' && p[1] != '\0') {
			/* ^E and ^O are strftime modifiers of the mark after them. */
			if ((p[1] == 'E' || p[1] == 'O') && p[2] != '\0')
				p++;
			p++;
			if (!wild)
				*o++ = '*';
			wild = true;
			continue;
		}
		if (strchr("*?[]\\", *p) != NULL)
			*o++ = '\\';
		*o++ = *p;
		wild = false;
	}
	*o = '\0';
	return out;
}

/* How far into a file its first pitr log line is looked for. */
#define HEAD_MAX 8192

/* The epoch of the first line of `fd` that starts with a pitr log line's
 * time, and that line's own wall clock in *wall (may be NULL); -1 when
 * none starts within HEAD_MAX bytes (yet). */
static double
head_time(int fd, struct tm *wall)
{
	char buf[HEAD_MAX + 1];
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, HEAD_MAX, 0);
	const char *line = buf, *end = buf + (n > 0 ? n : 0);

	/* sscanf measures its input: the buffer ends with a NUL. */
	buf[end - buf] = '\0';
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t len = (size_t)((nl != NULL ? nl : end) - line);
		double t;

		/* 32 bytes: the time and its zone. */
		if (len >= 32 && memchr(line, '\0', 32) == NULL &&
		    (t = pitr_mon_parse_wall(line, wall)) >= 0)
			return t;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	return -1;
}

static bool
has_marks(const char *template_)
{
	const char *mark = strchr(template_, '^');

	return mark != NULL && mark[1] != '\0';
}

/* Whether `path` is the template's file for the time of its first line:
 * the line's own clock (as the writer expanded its template, whatever the
 * reader's TZ), or the local one (as OmniPITR compared). */
static bool
name_matches(const char *path, const char *template_, double start, const struct tm *wall)
{
	char *own = pitr_logpath_expand_tm(template_, wall);
	bool match = own != NULL && strcmp(own, path) == 0;

	free(own);
	if (!match) {
		char *local = pitr_logpath_expand(template_, (time_t)start);

		match = local != NULL && strcmp(local, path) == 0;
		free(local);
	}
	return match;
}

/* Start following a file the template names.  Returns 0 (tracked or
 * skipped), or -1 after logging. */
static int
track_new(struct pitr_mon_state *s, const char *path, const char *template_)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct tm wall;
	double start = head_time(fd, &wall);

	if (fd >= 0)
		close(fd);
	/* Named exactly: read, or its unreadability reported by the reader. */
	if (!has_marks(template_))
		return pitr_mon_state_add_file(s, path, start) == NULL ? -1 : 0;
	if (start < 0) {
		pitr_log_verbose("skipping log file \"%s\": no pitr log line in its first %d bytes "
				 "to match its name against \"%s\"", path, HEAD_MAX, template_);
		return 0;
	}
	if (!name_matches(path, template_, start, &wall)) {
		pitr_log_verbose("skipping log file \"%s\": the time of its first log line does not "
				 "give back its name through \"%s\"", path, template_);
		return 0;
	}
	return pitr_mon_state_add_file(s, path, start) == NULL ? -1 : 0;
}

/* Mark every state file named by a template in `seen`, adding new ones. */
static int
find_files(struct pitr_mon_state *s, const char *template_, bool *seen, size_t nseen)
{
	char *pattern = pitr_mon_template_glob(template_);
	glob_t g = { 0 };
	int rc;

	if (pattern == NULL)
		return -1;
	rc = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (rc != 0 && rc != GLOB_NOMATCH) {
		pitr_log_error("could not list the log files of \"%s\"", template_);
		globfree(&g);
		return -1;
	}
	if (rc == GLOB_NOMATCH)
		pitr_log_verbose("no log file matches \"%s\" yet", template_);
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct pitr_mon_file *f = pitr_mon_state_file(s, g.gl_pathv[i]);

		if (f != NULL) {
			if ((size_t)(f - s->files) < nseen)
				seen[f - s->files] = true;
			continue;
		}
		if (track_new(s, g.gl_pathv[i], template_) != 0) {
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}

/* Forget the files no template names any more (removed, or no longer
 * asked for); the new ones are after the first `nold`. */
static void
drop_unseen(struct pitr_mon_state *s, const bool *seen, size_t nold)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nfiles; i++) {
		if (i >= nold || seen[i])
			s->files[kept++] = s->files[i];
		else
			free(s->files[i].path);
	}
	s->nfiles = kept;
}

static int
by_start(const void *a, const void *b)
{
	const struct pitr_mon_file *x = a, *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Whether the file open with status `st` and first line time `head` is
 * still the one read up to f->offset.  A new inode is a rename and create;
 * a shorter file or another first line, a copytruncate (or a reused
 * inode): either way its first lines are new. */
static bool
same_file(const struct pitr_mon_file *f, const struct stat *st, double head)
{
	bool id_known = f->dev != 0 || f->ino != 0;

	if (id_known && (f->dev != (unsigned long long)st->st_dev ||
			 f->ino != (unsigned long long)st->st_ino))
		return false;
	if (st->st_size < f->offset)
		return false;
	/* Half a microsecond: the state keeps six decimals. */
	return f->start < 0 || (head >= 0 && fabs(head - f->start) < 5e-7);
}

/* Where to read `fp` from: the offset, or 0 for a replaced file; the
 * file's identity is kept for the next call. */
static void
identify(struct pitr_mon_file *f, FILE *fp, const struct stat *st)
{
	double head = head_time(fileno(fp), NULL);

	if (!same_file(f, st, head)) {
		if (f->offset > 0)
			pitr_log_verbose("log file \"%s\" was replaced: reading it from its start",
					 f->path);
		f->offset = 0;
	}
	f->start = head;
	f->dev = (unsigned long long)st->st_dev;
	f->ino = (unsigned long long)st->st_ino;
}

/* The new complete lines of one file. */
static long
read_file(struct pitr_mon_state *s, size_t idx)
{
	struct pitr_mon_file *f = &s->files[idx];
	FILE *fp = fopen(f->path, "r");
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long n = 0;

	if (fp == NULL || fstat(fileno(fp), &st) != 0) {
		pitr_log_error("could not read log file \"%s\": %s", f->path, strerror(errno));
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	identify(f, fp, &st);
	if (fseeko(fp, f->offset, SEEK_SET) == 0) {
		while ((len = getline(&line, &cap, fp)) > 0 && line[len - 1] == '\n') {
			struct pitr_mon_line l;

			f = &s->files[idx];
			f->offset += len;
			line[len - 1] = '\0';
			if (pitr_mon_parse_line(line, &l) == 0)
				pitr_mon_state_feed(s, &l);
			n++;
		}
	}
	free(line);
	fclose(fp);
	pitr_log_verbose("read %ld lines from \"%s\"", n, s->files[idx].path);
	return n;
}

long
pitr_mon_read_logs(struct pitr_mon_state *s, const char *const *templates, size_t n)
{
	size_t nold = s->nfiles;
	bool *seen = pitr_xcalloc(nold + 1, sizeof(*seen));
	long total = 0;

	if (seen == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (find_files(s, templates[i], seen, nold) != 0) {
			free(seen);
			return -1;
		}
	}
	drop_unseen(s, seen, nold);
	free(seen);
	if (s->nfiles > 1)
		qsort(s->files, s->nfiles, sizeof(*s->files), by_start);
	for (size_t i = 0; i < s->nfiles; i++) {
		long got = read_file(s, i);

		if (got < 0)
			return -1;
		total += got;
	}
	return total;
}
