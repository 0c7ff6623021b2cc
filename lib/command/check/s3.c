/*
 * s3.c - pitr-check's s3 destinations (see check_impl.h): the store as the
 * server reaches it, with pitr-check's own --s3-* options over it, and a
 * copy of the segment's object fetched as rsync fetches a remote file.
 * The credentials are pitr-check's (its environment or shared credentials
 * file): the server's environment cannot be read, and no credential is
 * ever a setting.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/check/check.h"
#include "command/check/check_impl.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/s3arch.h"
#include "s3/s3.h"

void
pitr_check_s3_apply(const struct pitr_check_s3 *mine, struct pitr_s3_config *cfg)
{
	if (mine->endpoint != NULL)
		cfg->endpoint = mine->endpoint;
	if (mine->region != NULL)
		cfg->region = mine->region;
	if (mine->uri_style != NULL)
		cfg->path_style = strcmp(mine->uri_style, "path") == 0;
	if (mine->ca_file != NULL)
		cfg->ca_file = mine->ca_file;
	if (mine->no_verify_tls)
		cfg->no_verify_tls = true;
	if (mine->timeout > 0)
		cfg->stall_timeout = mine->timeout;
	if (mine->retries >= 0)
		cfg->retries = mine->retries;
}

int
check_s3_open(const struct pitr_dest_spec *spec, const struct check_fetch *fetch)
{
	const char *prefix;

	return pitr_dest_s3_client(spec, &fetch->s3_env, &prefix) != NULL ? 0 : -1;
}

/* A GET's bytes into the copy. */
struct copy_file {
	int fd;
	const char *path;
};

static int
copy_sink(void *ctx, const void *buf, size_t len)
{
	const struct copy_file *copy = ctx;

	if (pitr_io_write_all(copy->fd, buf, len) == 0)
		return 0;
	pitr_log_error("could not write \"%s\": %s", copy->path, strerror(errno));
	return -1;
}

/* GET `key` into the new file `path`.  0, or -1 after logging. */
static int
get_copy(struct pitr_s3 *s3, const char *key, const char *path)
{
	struct copy_file copy = { .path = path };
	int rc;

	copy.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (copy.fd < 0) {
		pitr_log_error("could not create \"%s\": %s", path, strerror(errno));
		return -1;
	}
	rc = pitr_s3_get(s3, key, copy_sink, &copy, NULL);
	if (close(copy.fd) != 0 && rc == 0) {
		pitr_log_error("could not write \"%s\": %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 1) {
		/* Listed, then gone: a cleanup ran meanwhile. */
		char *label = pitr_s3_label(s3, key);

		pitr_log_error("\"%s\" was listed, then could not be read: it is gone", label != NULL ?
			       label : key);
		free(label);
		rc = -1;
	}
	return rc;
}

int
check_probe_s3(const struct pitr_dest_spec *spec, size_t index, const char *wal,
	       const struct check_fetch *fetch, char **path, enum pitr_codec *codec)
{
	struct pitr_s3arch_found found = { .key = NULL };
	const char *prefix;
	struct pitr_s3 *s3 = pitr_dest_s3_client(spec, &fetch->s3_env, &prefix);
	char *into = NULL;
	int rc;

	if (s3 == NULL)
		return -1;
	if ((rc = pitr_s3arch_find(s3, prefix, wal, spec->codec, &found)) != 1)
		return rc;
	rc = -1;
	if ((into = pitr_xasprintf("%s/%zu", fetch->dir, index)) == NULL)
		goto out;
	/* Emptied first, as for rsync: an earlier poll's copy never counts. */
	if (pitr_fsutil_remove_tree(into) != 0 || mkdir(into, 0700) != 0) {
		pitr_log_error("could not create \"%s\": %s", into, strerror(errno));
		goto out;
	}
	if ((*path = pitr_xasprintf("%s/%s", into, found.key + strlen(prefix))) == NULL)
		goto out;
	if (get_copy(s3, found.key, *path) != 0) {
		free(*path);
		*path = NULL;
		goto out;
	}
	*codec = found.codec;
	rc = 1;
out:
	free(into);
	free(found.key);
	return rc;
}
