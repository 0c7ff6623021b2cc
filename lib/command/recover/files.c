/*
 * files.c - the chosen backup's files (and its chain's) read through the
 * store of their backup dir (repo/store.h): a local directory or an
 * object-store prefix, whose objects stream through a pipe.  A file
 * counts as read only once its store said every byte was delivered.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "command/recover/recover_impl.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "digest/digest.h"
#include "repo/catalog.h"
#include "repo/store.h"

static struct pitr_store *
store_of(const struct recover_run *run, const struct pitr_catalog_backup *b)
{
	return run->cat.backup_stores[b->dir];
}

int
recover_file_open(const struct recover_run *run, const struct pitr_catalog_backup *b,
		  const char *name, const char *what, char **path)
{
	struct pitr_store *st = store_of(run, b);
	int fd;

	if ((*path = pitr_store_path(st, name)) == NULL)
		return -1;
	fd = pitr_store_read_begin(st, name, NULL, 0);
	if (fd == -2)
		pitr_log_error("%s \"%s\" of backup \"%s\" is missing", what, *path, b->name);
	return fd < 0 ? -1 : fd;
}

int
recover_file_close(const struct recover_run *run, const struct pitr_catalog_backup *b, int fd,
		   bool read_whole)
{
	/* A reader that failed stopped early: only the store's own failure,
	 * which may be why the bytes looked wrong, is worth a line then. */
	return pitr_store_read_end(store_of(run, b), fd, read_whole ? 0 : PITR_STORE_READ_EARLY,
				   NULL, 0);
}

char *
recover_file_read_small(const struct recover_run *run, const struct pitr_catalog_backup *b,
			const char *name, const char *what, char **path)
{
	char *buf = pitr_xmalloc(RECOVER_CONF_MAX + 1);
	size_t len = 0;
	int fd = recover_file_open(run, b, name, what, path);
	bool whole = false;

	if (fd < 0 || buf == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_io_read(fd, buf + len, RECOVER_CONF_MAX + 1 - len);

		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", *path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > RECOVER_CONF_MAX) {
			pitr_log_error("%s \"%s\" is larger than %d bytes: not one pitrkit wrote", what,
				       *path, RECOVER_CONF_MAX);
			goto out;
		}
	}
	buf[len] = '\0';
	whole = true;
out:
	if (fd >= 0 && recover_file_close(run, b, fd, whole) != 0)
		whole = false;
	if (!whole) {
		free(buf);
		return NULL;
	}
	return buf;
}

int
recover_file_digest(const struct recover_run *run, const struct pitr_catalog_backup *b,
		    const char *name, const char *what, const char *algorithm, char *hex,
		    char **path)
{
	int fd = recover_file_open(run, b, name, what, path), r;

	if (fd < 0)
		return -1;
	r = pitr_digest_fd(algorithm, fd, *path, hex);
	if (recover_file_close(run, b, fd, r == 0) != 0)
		r = -1;
	return r;
}
