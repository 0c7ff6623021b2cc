/*
 * logread.c - the log files a set of -l templates names, and their new
 * lines.  As OmniPITR's monitor did, a template's strftime marks become
 * wildcards, so the files of earlier days (a rotated template) are found
 * too; a file found this way counts only if its first line's time,
 * expanded through the template, gives back its name.  Each file is read
 * from where the last call stopped, complete lines only (a writer may be
 * half way through the last one).
 */
#include "config.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* The epoch of the file's first line if its name is what the template
 * gives for that time; -1 otherwise (or an empty file, for now). */
static double
file_start(const char *path, const char *template_)
{
	char head[40] = { 0 };
	FILE *fp = fopen(path, "r");
	double start;
	char *expanded;

	if (fp == NULL)
		return -1;
	if (fread(head, 1, sizeof(head) - 1, fp) < 32) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	start = pitr_mon_parse_time(head);
	if (start < 0)
		return -1;
	expanded = pitr_logpath_expand(template_, (time_t)start);
	if (expanded == NULL || strcmp(expanded, path) != 0)
		start = -1;
	free(expanded);
	return start;
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
	for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct pitr_mon_file *f = pitr_mon_state_file(s, g.gl_pathv[i]);
		double start;

		if (f != NULL) {
			if ((size_t)(f - s->files) < nseen)
				seen[f - s->files] = true;
			continue;
		}
		start = file_start(g.gl_pathv[i], template_);
		if (start >= 0 && pitr_mon_state_add_file(s, g.gl_pathv[i], start) == NULL) {
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
	/* Shorter than what was read: the file was replaced, start over. */
	if (st.st_size < f->offset)
		f->offset = 0;
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
