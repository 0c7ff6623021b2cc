/*
 * s3journal.c - journals of multipart uploads, and the next run's abort
 * of those a dead run left (see s3journal.h).  The locking, and the tell
 * of a dead run's file from a live one's, are tmpfile.h's records.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "dest/s3journal.h"

#define JOURNAL_HEADER "pitrkit s3 upload journal 1"
/* Far more than a journal takes (a key is at most 1024 bytes). */
#define JOURNAL_MAX 8192

/* A journal's fields, pointing into its text; NULL when absent. */
struct record {
	char text[JOURNAL_MAX + 1];
	const char *host, *endpoint, *location, *key, *upload;
};

static bool
one_line(const char *s)
{
	return s[0] != '\0' && strchr(s, '\n') == NULL;
}

static int
append(struct pitr_tmp *j, const char *text)
{
	if (pitr_io_write_all(j->fd, text, strlen(text)) != 0) {
		pitr_log_error("could not write \"%s\": %s", j->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
pitr_s3journal_begin(struct pitr_tmp *j, const char *temp_dir, const char *endpoint,
		     const char *location, const char *key)
{
	const char *dir = pitr_fsutil_tmpdir(temp_dir);
	char host[256], *text;
	int rc;

	if (endpoint == NULL)
		endpoint = "-";
	if (!one_line(endpoint) || !one_line(location) || !one_line(key)) {
		pitr_log_error("s3 upload of \"%s\": a location, key or endpoint with a newline cannot "
			       "be journaled", key);
		return -1;
	}
	pitr_tmp_lock_host(host, sizeof(host));
	text = pitr_xasprintf(JOURNAL_HEADER "\nhost %s\nendpoint %s\nlocation %s\nkey %s\n", host,
			      endpoint, location, key);
	if (text == NULL)
		return -1;
	if (pitr_tmp_create_record(j, dir, PITR_S3JOURNAL_PREFIX) != 0) {
		free(text);
		return -1;
	}
	rc = append(j, text);
	free(text);
	if (rc != 0)
		pitr_tmp_discard(j);
	return rc;
}

int
pitr_s3journal_upload(struct pitr_tmp *j, const char *upload_id)
{
	char *line;
	char *dir;
	int rc;

	if (!one_line(upload_id)) {
		pitr_log_error("\"%s\": the store's upload id holds a newline", j->path);
		return -1;
	}
	if ((line = pitr_xasprintf("upload %s\n", upload_id)) == NULL)
		return -1;
	rc = append(j, line);
	free(line);
	if (rc == 0 && fsync(j->fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", j->path, strerror(errno));
		rc = -1;
	}
	/* The journal's name too, once: it must outlive a crash of the host. */
	if (rc == 0 && (dir = pitr_xstrdup(j->path)) != NULL) {
		*strrchr(dir, '/') = '\0';
		rc = pitr_fsutil_fsync_dir(dir);
		free(dir);
	}
	return rc;
}

void
pitr_s3journal_end(struct pitr_tmp *j, bool gone)
{
	if (gone)
		pitr_tmp_discard(j);
	else
		pitr_tmp_release(j);
}

/* Parse r->text in place.  0, or -1 when it is not a journal. */
static int
parse(struct record *r)
{
	char *line = r->text, *next;

	if (strncmp(line, JOURNAL_HEADER "\n", strlen(JOURNAL_HEADER) + 1) != 0)
		return -1;
	for (line += strlen(JOURNAL_HEADER) + 1; *line != '\0'; line = next) {
		char *value;

		/* A line cut short (its run killed while writing it) says nothing. */
		if ((next = strchr(line, '\n')) == NULL)
			break;
		*next++ = '\0';
		if ((value = strchr(line, ' ')) == NULL)
			continue;
		*value++ = '\0';
		if (strcmp(line, "host") == 0)
			r->host = value;
		else if (strcmp(line, "endpoint") == 0)
			r->endpoint = value;
		else if (strcmp(line, "location") == 0)
			r->location = value;
		else if (strcmp(line, "key") == 0)
			r->key = value;
		else if (strcmp(line, "upload") == 0)
			r->upload = value;
	}
	return 0;
}

struct sweep {
	const char *endpoint;
	const char *location;
	const char *prefix;      /* the location's key prefix */
	struct pitr_s3 *s3;
	char host[256];
	int aborted;
	bool failed;
};

/* Whether journal r is this sweep's to act on: this host's, for this
 * store and location, of a key under its prefix. */
static bool
is_ours(const struct sweep *sw, const struct record *r)
{
	return r->host != NULL && strcmp(r->host, sw->host) == 0 && r->endpoint != NULL &&
	       strcmp(r->endpoint, sw->endpoint) == 0 && r->location != NULL &&
	       strcmp(r->location, sw->location) == 0 && r->key != NULL &&
	       strncmp(r->key, sw->prefix, strlen(sw->prefix)) == 0;
}

/* pitr_tmp_each_dead()'s: one dead run's journal, locked as `fd`. */
static int
sweep_one(void *ctx, const char *dir, const char *name, int fd)
{
	struct sweep *sw = ctx;
	struct record *r = pitr_xcalloc(1, sizeof(*r));
	char *path = pitr_xasprintf("%s/%s", dir, name);
	ssize_t len;

	if (r == NULL || path == NULL)
		goto out;
	if ((len = pitr_io_read_full(fd, r->text, JOURNAL_MAX)) < 0) {
		pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
		sw->failed = true;
		goto out;
	}
	r->text[len] = '\0';
	/* Not a journal this version reads, or another run's to act on. */
	if (parse(r) != 0 || !is_ours(sw, r))
		goto out;
	if (r->upload != NULL) {
		if (pitr_s3_pending_abort(sw->s3, r->key, r->upload) != 0) {
			sw->failed = true;
			goto out;
		}
		sw->aborted++;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
		sw->failed = true;
	}
out:
	free(path);
	free(r);
	return 0;
}

int
pitr_s3journal_sweep(const char *temp_dir, const char *endpoint, const char *location,
		     struct pitr_s3 *s3)
{
	struct sweep sw = { .endpoint = endpoint != NULL ? endpoint : "-", .location = location,
			    .s3 = s3 };
	const char *slash = strchr(location + strlen(PITR_S3_SCHEME), '/');

	if (strncmp(location, PITR_S3_SCHEME, strlen(PITR_S3_SCHEME)) != 0 || slash == NULL) {
		pitr_log_error("\"%s\" is not an s3 location", location);
		return -1;
	}
	sw.prefix = slash + 1;
	pitr_tmp_lock_host(sw.host, sizeof(sw.host));
	if (pitr_tmp_each_dead(pitr_fsutil_tmpdir(temp_dir), PITR_S3JOURNAL_PREFIX, sweep_one,
			       &sw) != 0)
		return -1;
	return sw.failed ? -1 : sw.aborted;
}
