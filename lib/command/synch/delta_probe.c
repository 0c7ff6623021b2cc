/*
 * delta_probe.c - what is at an output's directory before a copy: whether
 * it exists, is empty, is a data directory (and whose), an interrupted
 * copy, or holds a postmaster.pid.  A remote output is listed by rsync
 * and its few telling files fetched into a staging directory, which is
 * then looked at as a local one.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command/synch/delta_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/controldata.h"

/* Read dir/name (small); NULL when missing (*missing set) or on an error
 * (logged). */
static char *
read_in(const char *dir, const char *name, size_t max, size_t *len, bool *missing)
{
	char *path = pitr_fsutil_join(dir, name), *text;

	*missing = false;
	if (path == NULL)
		return NULL;
	text = pitr_fsutil_read_small(path, max, len);
	if (text == NULL && errno == ENOENT)
		*missing = true;
	free(path);
	return text;
}

/* The system identifier from pg_control itself (controldata.h), which
 * needs no pg_controldata binary of the output's major version. */
static int
probe_control(const char *dir, struct synch_probe *p)
{
	int rc = pitr_controldata_sysid(dir, &p->sysid);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	p->datadir = p->pg_version[0] != '\0';
	return 0;
}

/* PG_VERSION's first line. */
static int
probe_version(const char *dir, struct synch_probe *p)
{
	size_t len;
	bool missing;
	char *text = read_in(dir, "PG_VERSION", 4096, &len, &missing);

	if (text == NULL)
		return missing ? 0 : -1;
	text[strcspn(text, "\r\n")] = '\0';
	snprintf(p->pg_version, sizeof(p->pg_version), "%s", text);
	free(text);
	return 0;
}

/* The marker of an interrupted copy; its identifier where pg_control gave
 * none (begin removed pg_control). */
static int
probe_marker(const char *dir, struct synch_probe *p)
{
	size_t len;
	bool missing;
	uint64_t id;
	char *text = read_in(dir, SYNCH_IN_PROGRESS, 4096, &len, &missing);

	if (text == NULL)
		return missing ? 0 : -1;
	p->in_progress = true;
	if (p->sysid == 0 && sscanf(text, "system identifier %" SCNu64, &id) == 1)
		p->sysid = id;
	free(text);
	return 0;
}

static int
probe_pid(const char *dir, struct synch_probe *p)
{
	size_t len;
	bool missing;
	char *text = read_in(dir, "postmaster.pid", 64 * 1024, &len, &missing);

	if (text == NULL)
		return missing ? 0 : -1;
	p->pid_file = true;
	p->pid = strtol(text, NULL, 10);
	if (p->pid < 0)
		p->pid = 0;
	free(text);
	return 0;
}

/* The telling files of `dir`, a local directory that exists. */
static int
probe_files(const char *dir, struct synch_probe *p)
{
	if (probe_version(dir, p) != 0 || probe_control(dir, p) != 0 ||
	    probe_marker(dir, p) != 0 || probe_pid(dir, p) != 0)
		return -1;
	return 0;
}

static int
probe_local(const char *dir, struct synch_probe *p)
{
	struct stat st;
	struct dirent *de;
	DIR *d;

	if (stat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		pitr_log_error("could not stat \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("\"%s\" is not a directory", dir);
		return -1;
	}
	p->exists = true;
	if ((d = opendir(dir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	p->empty = true;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			p->empty = false;
			break;
		}
	}
	closedir(d);
	return p->empty ? 0 : probe_files(dir, p);
}

/* rsync --list-only of the remote directory: whether it exists and holds
 * anything.  Its lines end with the name; "." is the directory itself. */
static int
list_remote(const struct synch_delta_env *env, const struct synch_output *out, const char *dir,
	    struct synch_probe *p)
{
	struct delta_cmd c;
	struct delta_result r;
	char *loc = delta_location(out, dir, NULL), *line, *save = NULL;
	int rc = -1;

	if (loc == NULL || delta_cmd_init(&c, env, out) != 0) {
		free(loc);
		return -1;
	}
	delta_cmd_add(&c, "--list-only");
	delta_cmd_add(&c, "--dirs");
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, loc);
	rc = delta_run(env, &c, &r);
	if (rc == 1 && r.status == 23 && strstr(r.reason, "No such file or directory") != NULL) {
		rc = 0;
	} else if (rc == 1) {
		char how[64];

		delta_status_text(&r, how, sizeof(how));
		pitr_log_error("could not list \"%s\" at output \"%s\": %s%s", dir, out->label, how,
			       r.reason);
	} else if (rc == 0) {
		p->exists = true;
		p->empty = true;
		for (line = strtok_r(r.stdout_text != NULL ? r.stdout_text : "", "\n", &save);
		     line != NULL; line = strtok_r(NULL, "\n", &save)) {
			size_t n = strlen(line);

			if (n > 0 && !(n >= 2 && strcmp(line + n - 2, " .") == 0))
				p->empty = false;
		}
	}
	delta_result_free(&r);
	delta_cmd_free(&c);
	free(loc);
	return rc == 0 ? 0 : -1;
}

/* The name at the end of an rsync --list-only line: after the mode, the
 * size, the date and the time.  NULL when the line has no such fields. */
static const char *
list_line_name(const char *line)
{
	const char *p = line;

	for (int f = 0; f < 4; f++) {
		p += strspn(p, " ");
		if (*p == '\0')
			return NULL;
		p += strcspn(p, " ");
	}
	if (*p != ' ')
		return NULL;
	return p + 1;
}

/* Append a copy of `name` to the vector (NULL-terminated). */
static int
list_push(char ***names, size_t *n, const char *name)
{
	char **grown = pitr_xreallocarray(*names, *n + 2, sizeof(char *));

	if (grown == NULL)
		return -1;
	*names = grown;
	if ((grown[*n] = pitr_xstrdup(name)) == NULL)
		return -1;
	grown[++*n] = NULL;
	return 0;
}

static int
list_local(const char *dir, bool *exists, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	*exists = true;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			rc = list_push(names, n, de->d_name);
	closedir(d);
	return rc;
}

static int
list_names(const struct synch_delta_env *env, const struct synch_output *out, const char *dir,
	   bool *exists, char ***names, size_t *n)
{
	struct delta_cmd c;
	struct delta_result r;
	char *loc = delta_location(out, dir, NULL), *line, *save = NULL;
	int rc;

	if (loc == NULL || delta_cmd_init(&c, env, out) != 0) {
		free(loc);
		return -1;
	}
	delta_cmd_add(&c, "--list-only");
	delta_cmd_add(&c, "--dirs");
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, loc);
	rc = delta_run(env, &c, &r);
	if (rc == 1 && r.status == 23 && strstr(r.reason, "No such file or directory") != NULL) {
		rc = 0;
	} else if (rc == 1) {
		char how[64];

		delta_status_text(&r, how, sizeof(how));
		pitr_log_error("could not list \"%s\" at output \"%s\": %s%s", dir, out->label, how,
			       r.reason);
	} else if (rc == 0) {
		*exists = true;
		for (line = strtok_r(r.stdout_text != NULL ? r.stdout_text : "", "\n", &save);
		     rc == 0 && line != NULL; line = strtok_r(NULL, "\n", &save)) {
			const char *name = list_line_name(line);

			if (name != NULL && strcmp(name, ".") != 0)
				rc = list_push(names, n, name);
		}
	}
	delta_result_free(&r);
	delta_cmd_free(&c);
	free(loc);
	return rc == 0 ? 0 : -1;
}

int
pitr_synch_delta_list(const struct synch_delta_env *env, const struct synch_output *out,
		      const char *dir, bool *exists, char ***names, size_t *n)
{
	int rc;

	*exists = false;
	*names = NULL;
	*n = 0;
	rc = out->kind == SYNCH_OUT_LOCAL ? list_local(dir, exists, names, n) :
	     list_names(env, out, dir, exists, names, n);
	if (rc != 0) {
		pitr_synch_delta_list_free(*names, *n);
		*names = NULL;
		*n = 0;
	}
	return rc;
}

void
pitr_synch_delta_list_free(char **names, size_t n)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

/* Fetch the telling files into `stage`. */
static int
fetch_remote(const struct synch_delta_env *env, const struct synch_output *out, const char *dir,
	     const char *stage)
{
	static const char *const rules[] = {
		"--filter=+ /PG_VERSION", "--filter=+ /global/", "--filter=+ /global/pg_control",
		"--filter=+ /postmaster.pid", "--filter=+ /" SYNCH_IN_PROGRESS, "--filter=- *",
	};
	struct delta_cmd c;
	struct delta_result r;
	char *loc = delta_location(out, dir, NULL), *to = pitr_xasprintf("%s/", stage);
	int rc = -1;

	if (loc == NULL || to == NULL || delta_cmd_init(&c, env, out) != 0)
		goto out;
	delta_cmd_add(&c, "--recursive");
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		delta_cmd_add(&c, rules[i]);
	delta_cmd_add(&c, "--");
	delta_cmd_add(&c, loc);
	delta_cmd_add(&c, to);
	rc = delta_run(env, &c, &r);
	if (rc == 1) {
		char how[64];

		delta_status_text(&r, how, sizeof(how));
		pitr_log_error("could not read \"%s\" at output \"%s\": %s%s", dir, out->label, how,
			       r.reason);
	}
	delta_result_free(&r);
	delta_cmd_free(&c);
out:
	free(loc);
	free(to);
	return rc == 0 ? 0 : -1;
}

static int
probe_remote(const struct synch_delta_env *env, const struct synch_output *out, const char *dir,
	     struct synch_probe *p)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	int rc;

	if (list_remote(env, out, dir, p) != 0)
		return -1;
	if (!p->exists || p->empty)
		return 0;
	rc = delta_stage_make(env, &stage, "synch-probe");
	if (rc == 0)
		rc = fetch_remote(env, out, dir, stage.path);
	if (rc == 0)
		rc = probe_files(stage.path, p);
	delta_stage_remove(&stage);
	return rc;
}

int
pitr_synch_delta_probe(const struct synch_delta_env *env, const struct synch_output *out,
		       const char *dir, struct synch_probe *probe)
{
	memset(probe, 0, sizeof(*probe));
	if (out->kind == SYNCH_OUT_LOCAL)
		return probe_local(dir, probe);
	return probe_remote(env, out, dir, probe);
}
