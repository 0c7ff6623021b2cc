/*
 * config.c - the files pitr-synch writes at an output besides the data:
 * backup_label and tablespace_map from pg_backup_stop (the map with each
 * tablespace's place at that output), and the copy's postgresql.auto.conf.
 * One function gathers them, so that the standby settings join them in
 * one place.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

/* postgresql.auto.conf is small; a larger one is not PostgreSQL's. */
#define SYNCH_AUTO_CONF_MAX (1024 * 1024)

char *
synch_spcmap_text(char *const *oids, char *const *dirs, size_t n)
{
	size_t cap = 1, used = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += strlen(oids[i]) + 2 * strlen(dirs[i]) + 2;
	if ((out = pitr_xmalloc(cap)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		used += (size_t)sprintf(out + used, "%s ", oids[i]);
		for (const char *p = dirs[i]; *p != '\0'; p++) {
			if (*p == '\\' || *p == '\n' || *p == '\r')
				out[used++] = '\\';
			out[used++] = *p;
		}
		out[used++] = '\n';
	}
	out[used] = '\0';
	return out;
}

/* The source's postgresql.auto.conf (the copy keeps its settings), with
 * archive_mode off unless --archive-mode=preserve: a copy must not
 * archive into its source's archive by accident. */
static char *
auto_conf(const struct synch_run *run)
{
	char *path = pitr_fsutil_join(run->data_dir, "postgresql.auto.conf");
	char *text = NULL, *out;
	size_t len = 0;

	if (path == NULL)
		return NULL;
	text = pitr_fsutil_read_small(path, SYNCH_AUTO_CONF_MAX, &len);
	free(path);
	if (text == NULL && errno != ENOENT)
		return NULL;
	if (run->o->archive_mode != NULL && strcmp(run->o->archive_mode, "preserve") == 0)
		return text != NULL ? text : pitr_xstrdup("");
	out = pitr_xasprintf("%s%s# pitr-synch --archive-mode=off: a copy does not archive into its "
			     "source's archive (--archive-mode=preserve keeps archiving)\n"
			     "archive_mode = 'off'\n", text != NULL ? text : "",
			     text != NULL && len > 0 && text[len - 1] != '\n' ? "\n" : "");
	free(text);
	return out;
}

static int
add(struct synch_member *m, size_t *n, const char *name, char *text)
{
	if (text == NULL)
		return -1;
	m[*n].text = text;
	if ((m[*n].name = pitr_xstrdup(name)) == NULL) {
		free(text);
		return -1;
	}
	(*n)++;
	return 0;
}

struct synch_member *
synch_config_members(const struct synch_run *run, size_t i, size_t *n)
{
	struct synch_member *m = pitr_xcalloc(4, sizeof(*m));
	char **oids = NULL;

	*n = 0;
	if (m == NULL)
		return NULL;
	if (add(m, n, "backup_label", pitr_xstrdup(run->labelfile)) != 0)
		goto fail;
	if (run->nts > 0) {
		if ((oids = pitr_xcalloc(run->nts, sizeof(char *))) == NULL)
			goto fail;
		for (size_t k = 0; k < run->nts; k++)
			oids[k] = run->ts[k].oid;
		if (add(m, n, "tablespace_map", synch_spcmap_text(oids, run->t[i].ts_dirs, run->nts)) != 0)
			goto fail;
	}
	if (add(m, n, "postgresql.auto.conf", auto_conf(run)) != 0)
		goto fail;
	free(oids);
	return m;
fail:
	free(oids);
	synch_config_free(m, *n);
	*n = 0;
	return NULL;
}

void
synch_config_free(struct synch_member *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++) {
		free(m[i].name);
		free(m[i].text);
	}
	free(m);
}
