/*
 * state.c - what pitr-monitor remembers between calls, in
 * STATE_DIR/pitr-monitor.state: each log file's read offset, so that a
 * call reads only what was written since the last one (as OmniPITR's
 * monitor did), and the facts read so far.  One record per line, fields
 * separated by tabs, the path or message last:
 *   pitr-monitor-state 2
 *   file OFFSET START DEVICE INODE PATH
 *   archive LAST FAIL WAL          restore LAST WAIT PID WAL
 *   backup LAST                    errors-total N
 *   error EPOCH PID TIMESTAMP LINE
 * Written whole to a temporary file, fsync'ed and renamed over the old one.
 * A version 1 state (file records without DEVICE and INODE, from before
 * the file's identity was kept) still loads: its files' identity is taken
 * from their next reading.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/monitor/monitor_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

#define STATE_FILE "pitr-monitor.state"
#define STATE_HEADER "pitr-monitor-state\t2"
#define STATE_HEADER_V1 "pitr-monitor-state\t1"

struct pitr_mon_file *
pitr_mon_state_file(struct pitr_mon_state *s, const char *path)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return &s->files[i];
	return NULL;
}

struct pitr_mon_file *
pitr_mon_state_add_file(struct pitr_mon_state *s, const char *path, double start)
{
	struct pitr_mon_file *f = pitr_xreallocarray(s->files, s->nfiles + 1, sizeof(*f));
	char *copy = pitr_xstrdup(path);

	if (f == NULL || copy == NULL) {
		if (f != NULL)
			s->files = f;
		free(copy);
		return NULL;
	}
	s->files = f;
	f = &s->files[s->nfiles++];
	*f = (struct pitr_mon_file){ .path = copy, .start = start };
	return f;
}

static void
add_error(struct pitr_mon_state *s, double epoch, long pid, const char *ts, const char *line)
{
	struct pitr_mon_error *e = pitr_xreallocarray(s->errors, s->nerrors + 1, sizeof(*e));
	char *copy = pitr_xstrdup(line);

	if (e != NULL)
		s->errors = e;
	if (e == NULL || copy == NULL) {
		free(copy);
		return;
	}
	/* A tab or a newline in a message would break the state's records. */
	for (char *c = copy; *c != '\0'; c++)
		if (*c == '\t' || *c == '\n' || *c == '\r')
			*c = ' ';
	e = &s->errors[s->nerrors++];
	*e = (struct pitr_mon_error){ .epoch = epoch, .pid = pid, .line = copy };
	snprintf(e->ts, sizeof(e->ts), "%s", ts);
}

void
pitr_mon_state_add_error(struct pitr_mon_state *s, const struct pitr_mon_line *l)
{
	s->errors_total++;
	add_error(s, l->epoch, l->pid, l->ts, l->level_and_message);
}

void
pitr_mon_state_prune(struct pitr_mon_state *s, double now)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->nerrors; i++) {
		if (s->errors[i].epoch >= now - PITR_MON_ERROR_KEEP_S)
			s->errors[kept++] = s->errors[i];
		else
			free(s->errors[i].line);
	}
	s->nerrors = kept;
}

void
pitr_mon_state_free(struct pitr_mon_state *s)
{
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i].path);
	for (size_t i = 0; i < s->nerrors; i++)
		free(s->errors[i].line);
	free(s->files);
	free(s->errors);
	memset(s, 0, sizeof(*s));
}

void
pitr_mon_state_write(const struct pitr_mon_state *s, FILE *out)
{
	fprintf(out, "%s\n", STATE_HEADER);
	for (size_t i = 0; i < s->nfiles; i++)
		fprintf(out, "file\t%lld\t%.6f\t%llu\t%llu\t%s\n", s->files[i].offset,
			s->files[i].start, s->files[i].dev, s->files[i].ino, s->files[i].path);
	fprintf(out, "archive\t%.6f\t%.6f\t%s\n", s->archive_last, s->archive_fail, s->archive_wal);
	fprintf(out, "restore\t%.6f\t%.6f\t%ld\t%s\n", s->restore_last, s->restore_wait,
		s->restore_pid, s->restore_wal);
	fprintf(out, "backup\t%.6f\n", s->backup_last);
	fprintf(out, "errors-total\t%llu\n", s->errors_total);
	for (size_t i = 0; i < s->nerrors; i++)
		fprintf(out, "error\t%.6f\t%ld\t%s\t%s\n", s->errors[i].epoch, s->errors[i].pid,
			s->errors[i].ts, s->errors[i].line);
}

/* Split `line` at tabs into at most `max` fields, the last taking the
 * rest.  Returns the number of fields. */
static int
split(char *line, char **f, int max)
{
	int n = 0;

	f[n++] = line;
	while (n < max) {
		char *tab = strchr(f[n - 1], '\t');

		if (tab == NULL)
			break;
		*tab = '\0';
		f[n++] = tab + 1;
	}
	return n;
}

static void
copy_name(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src);
}

/* A file record: version 1 has no device and inode (the path, last, may
 * hold tabs). */
static int
load_file_record(struct pitr_mon_state *s, char *line, int version)
{
	char *f[6];
	int want = version == 1 ? 4 : 6;
	struct pitr_mon_file *file;

	if (split(line, f, want) != want)
		return -1;
	file = pitr_mon_state_add_file(s, f[want - 1], strtod(f[2], NULL));
	if (file != NULL) {
		file->offset = strtoll(f[1], NULL, 10);
		if (version > 1) {
			file->dev = strtoull(f[3], NULL, 10);
			file->ino = strtoull(f[4], NULL, 10);
		}
	}
	return 0;
}

/* The fields of a record of kind `line` starts with, its last one taking
 * the rest of the line (a WAL name or message read from a log may hold a
 * tab); 0 for no kind known. */
static int
field_count(const char *line)
{
	static const struct {
		const char *kind;
		int n;
	} kinds[] = { { "archive\t", 4 }, { "restore\t", 5 }, { "backup\t", 2 },
		      { "errors-total\t", 2 }, { "error\t", 5 } };

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(line, kinds[i].kind, strlen(kinds[i].kind)) == 0)
			return kinds[i].n;
	return 0;
}

/* One record.  Returns 0, or -1 for a line that is not one. */
static int
load_record(struct pitr_mon_state *s, char *line, int version)
{
	char *f[5];
	int n, want = field_count(line);

	if (strncmp(line, "file\t", 5) == 0)
		return load_file_record(s, line, version);
	if (want == 0)
		return -1;
	n = split(line, f, want);
	if (strcmp(f[0], "archive") == 0 && n == 4) {
		s->archive_last = strtod(f[1], NULL);
		s->archive_fail = strtod(f[2], NULL);
		copy_name(s->archive_wal, sizeof(s->archive_wal), f[3]);
	} else if (strcmp(f[0], "restore") == 0 && n == 5) {
		s->restore_last = strtod(f[1], NULL);
		s->restore_wait = strtod(f[2], NULL);
		s->restore_pid = strtol(f[3], NULL, 10);
		copy_name(s->restore_wal, sizeof(s->restore_wal), f[4]);
	} else if (strcmp(f[0], "backup") == 0 && n == 2) {
		s->backup_last = strtod(f[1], NULL);
	} else if (strcmp(f[0], "errors-total") == 0 && n == 2) {
		s->errors_total = strtoull(f[1], NULL, 10);
	} else if (strcmp(f[0], "error") == 0 && n == 5 && strlen(f[3]) == PITR_MON_TS_LEN) {
		add_error(s, strtod(f[1], NULL), strtol(f[2], NULL, 10), f[3], f[4]);
	} else {
		return -1;
	}
	return 0;
}

static int
load_lines(struct pitr_mon_state *s, FILE *fp, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	int rc = 0, version = 0;

	while ((len = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1)
			version = strcmp(line, STATE_HEADER) == 0 ? 2 :
				  strcmp(line, STATE_HEADER_V1) == 0 ? 1 : 0;
		if (lineno == 1 ? version == 0 : load_record(s, line, version) != 0) {
			pitr_log_error("state file \"%s\", line %ld: not a pitr-monitor state record; "
				       "remove the file to start afresh", path, lineno);
			rc = -1;
			break;
		}
	}
	free(line);
	return rc;
}

int
pitr_mon_state_load(struct pitr_mon_state *s, const char *state_dir)
{
	char *path = pitr_fsutil_join(state_dir, STATE_FILE);
	FILE *fp;
	int rc;

	if (path == NULL)
		return -1;
	fp = fopen(path, "r");
	if (fp == NULL) {
		rc = errno == ENOENT ? 0 : -1;
		if (rc != 0)
			pitr_log_error("could not open state file \"%s\": %s", path, strerror(errno));
		free(path);
		return rc;
	}
	rc = load_lines(s, fp, path);
	fclose(fp);
	free(path);
	return rc;
}

int
pitr_mon_state_save(const struct pitr_mon_state *s, const char *state_dir)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	int rc;

	if (mem == NULL) {
		pitr_log_error("could not write the state: %s", strerror(errno));
		return -1;
	}
	pitr_mon_state_write(s, mem);
	if (fclose(mem) != 0) {
		pitr_log_error("could not write the state: %s", strerror(errno));
		free(buf);
		return -1;
	}
	rc = pitr_fsutil_publish_buffer(state_dir, STATE_FILE, buf, len, true, NULL);
	free(buf);
	return rc;
}
