/*
 * state.c - the per-WAL-file record of destinations already done (see state.h).
 *
 * Line coverage: only the ENOMEM branches are left to the reader.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/state.h"

#define STATE_SUFFIX ".pitr-state"

/* A record far above anything real (a few destination keys) is not ours. */
#define STATE_MAX (1024 * 1024)

/*
 * The record is kept in memory exactly as on disk: keys, each followed by
 * '\n'.  Every add rewrites the whole file, which stays a few lines long.
 */
struct pitr_state {
	char *dir;
	char *name;     /* <wal_name>.pitr-state */
	char *path;
	char *text;     /* NUL-terminated; empty or ending in '\n' */
	size_t len;
	bool on_disk;   /* the file may exist: read at load, or published */
};

void
pitr_state_free(struct pitr_state *st)
{
	if (st == NULL)
		return;
	free(st->dir);
	free(st->name);
	free(st->path);
	free(st->text);
	free(st);
}

struct pitr_state *
pitr_state_load(const char *state_dir, const char *wal_name)
{
	struct pitr_state *st = NULL;
	struct pitr_state *ret = NULL;
	size_t nlen = strlen(wal_name);
	int fd = -1;

	if (nlen == 0 || strchr(wal_name, '/') != NULL) {
		pitr_log_error("invalid WAL file name \"%s\" for the state file", wal_name);
		goto out;
	}
	/* Open it rather than stat() it: the directory must be searchable too. */
	fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not open directory \"%s\": %s", state_dir, strerror(errno));
		goto out;
	}
	if ((st = pitr_xcalloc(1, sizeof(*st))) == NULL ||
	    (st->dir = pitr_xstrdup(state_dir)) == NULL ||
	    (st->name = pitr_xasprintf("%s%s", wal_name, STATE_SUFFIX)) == NULL ||
	    (st->path = pitr_fsutil_join(state_dir, st->name)) == NULL)
		goto out;

	st->text = pitr_fsutil_read_small(st->path, STATE_MAX, &st->len);
	if (st->text == NULL) {
		if (errno != ENOENT)
			goto out;
		st->len = 0;
		if ((st->text = pitr_xstrdup("")) == NULL)
			goto out;
	}
	if (strlen(st->text) != st->len) {
		pitr_log_error("\"%s\" is not a valid state file", st->path);
		goto out;
	}
	/* Records are only ever published whole, so a missing final newline
	 * means someone edited the file: take the last line as a key anyway. */
	if (st->len > 0 && st->text[st->len - 1] != '\n') {
		char *grown = pitr_xrealloc(st->text, st->len + 2);

		if (grown == NULL)
			goto out;
		st->text = grown;
		st->text[st->len++] = '\n';
		st->text[st->len] = '\0';
	}
	st->on_disk = st->len > 0 || access(st->path, F_OK) == 0;
	ret = st;
	st = NULL;
out:
	if (fd >= 0)
		close(fd);
	pitr_state_free(st);
	return ret;
}

bool
pitr_state_has(const struct pitr_state *st, const char *key)
{
	size_t klen = strlen(key);
	const char *line = st->text;

	while (*line != '\0') {
		const char *nl = strchr(line, '\n');

		/* text always ends in '\n' when not empty */
		if ((size_t)(nl - line) == klen && memcmp(line, key, klen) == 0)
			return true;
		line = nl + 1;
	}
	return false;
}

int
pitr_state_add(struct pitr_state *st, const char *key)
{
	size_t klen = strlen(key);
	size_t old_len = st->len;
	char *grown;

	if (klen == 0 || strchr(key, '\n') != NULL) {
		pitr_log_error("invalid destination key for the state file");
		return -1;
	}
	if (pitr_state_has(st, key))
		return 0;
	if ((grown = pitr_xrealloc(st->text, st->len + klen + 2)) == NULL)
		return -1;
	st->text = grown;
	memcpy(st->text + st->len, key, klen);
	st->len += klen;
	st->text[st->len++] = '\n';
	st->text[st->len] = '\0';
	st->on_disk = true;
	if (pitr_fsutil_publish_buffer(st->dir, st->name, st->text, st->len, true, NULL) != 0) {
		/* Memory keeps matching the disk: the key is not recorded. */
		st->len = old_len;
		st->text[st->len] = '\0';
		return -1;
	}
	return 0;
}

int
pitr_state_clear(struct pitr_state *st)
{
	/* Nothing was ever recorded: no unlink, and no fsync of the dir. */
	if (!st->on_disk)
		return 0;
	if (unlink(st->path) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\": %s", st->path, strerror(errno));
		return -1;
	}
	st->len = 0;
	st->text[0] = '\0';
	st->on_disk = false;
	return pitr_fsutil_fsync_dir(st->dir);
}

void
pitr_state_names_free(char **names, size_t n)
{
	for (size_t name_idx = 0; name_idx < n; name_idx++)
		free(names[name_idx]);
	free(names);
}

/* The WAL name of a record's file name, or NULL (not a record, or `skip`'s). */
static char *
record_wal_name(const char *file, const char *skip)
{
	size_t len = strlen(file);
	size_t slen = strlen(STATE_SUFFIX);
	char *wal;

	if (len <= slen || strcmp(file + len - slen, STATE_SUFFIX) != 0 || file[0] == '.')
		return NULL;
	if (skip != NULL && strlen(skip) == len - slen && memcmp(file, skip, len - slen) == 0)
		return NULL;
	wal = pitr_xstrdup(file);
	if (wal != NULL)
		wal[len - slen] = '\0';
	return wal;
}

/* Reservoir sampling over every entry readdir returns (up to the hard
 * cap): the k-th record seen replaces a kept one with probability max/k,
 * so every record is as likely to be picked, wherever it sits. */
int
pitr_state_list(const char *state_dir, const char *skip, size_t max, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	size_t seen = 0, scanned = 0;

	*names = NULL;
	*n = 0;
	if (max == 0)
		return 0;
	if ((d = opendir(state_dir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", state_dir, strerror(errno));
		return -1;
	}
	if ((*names = pitr_xcalloc(max, sizeof(**names))) == NULL) {
		closedir(d);
		return -1;
	}
	while (scanned++ < PITR_STATE_SCAN_MAX && (de = readdir(d)) != NULL) {
		char *wal = record_wal_name(de->d_name, skip);
		size_t slot;

		if (wal == NULL)
			continue;
		seen++;
		slot = seen <= max ? seen - 1 : (size_t)random() % seen;
		if (slot >= max) {
			free(wal);
			continue;
		}
		if (slot < *n)
			free((*names)[slot]);
		else
			*n = slot + 1;
		(*names)[slot] = wal;
	}
	closedir(d);
	if (*n == 0) {
		free(*names);
		*names = NULL;
	}
	return 0;
}
