/*
 * extract.c - pitr-recover's extraction: the backup's data tarball into
 * the temporary data directory and each tablespace's destination, its
 * xlog tarball into pg_wal, each member's destination decided by its
 * name so that nothing lands outside them.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/catalog.h"
#include "tar/tarread.h"
#include "common/progress.h"

char *
recover_join_rest(const char *dir, const char *rest)
{
	char *p;

	while (*rest == '/')
		rest++;
	if (*rest == '\0')
		return pitr_xstrdup(dir);
	p = pitr_xasprintf("%s/%s", dir, rest);
	return p != NULL ? recover_strip_slashes(p) : NULL;
}

/* "pg_tblspc/<oid>" exactly: a tablespace link, remade from tablespace_map. */
static bool
is_tblspc_link(const char *rest)
{
	const char *p = rest;

	if (strncmp(p, "pg_tblspc/", 10) != 0)
		return false;
	p += 10;
	return *p != '\0' && strspn(p, "0123456789") == strlen(p);
}

/* *id: the tablespace's number from 1, its writer's (tarread.h). */
static char *
map_tablespace(struct recover_run *run, const char *member, const char *path, unsigned *id)
{
	char *p = pitr_xstrdup(path);
	struct recover_tablespace *ts = NULL;
	const char *rest = NULL;
	char *out = NULL;

	if (p == NULL)
		return NULL;
	recover_strip_slashes(p);
	if (strcmp(p, "/") == 0) {
		pitr_log_error("\"%s\": member \"%s\" names no tablespace", run->tarball, member);
		goto out;
	}
	for (size_t i = 0; i < run->nts; i++) {
		size_t n = strlen(run->ts[i].old);

		if (strncmp(p, run->ts[i].old, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
			ts = &run->ts[i];
			rest = p + n;
			*id = (unsigned)i + 1;
			break;
		}
	}
	if (ts == NULL) {
		/* pitr-backup-master stores each tablespace's own directory
		 * first: the first member of a new path is its root.  Its
		 * destination is judged (missing or empty) with every earlier
		 * tablespace's files on disk, as when they were written in
		 * turn: the writer threads settle first. */
		if (pitr_tarread_settle() != 0)
			goto out;
		ts = recover_tablespace_add(run, p);
		rest = "";
		if (ts == NULL)
			goto out;
		*id = (unsigned)run->nts;
	}
	out = recover_join_rest(ts->real, rest);
out:
	free(p);
	return out;
}

/* Where a data tarball member goes (pitr_tarread_dest_fn): the data dir's
 * under run->tmp, written as it is read; tablespaces' to their
 * destinations, each by a writer thread of its own (*id, from 1), so that
 * a tablespace is written while the next one (or the data dir's last
 * files) is read; pg_tblspc's links skipped (remade from tablespace_map). */
char *
recover_map_data(void *ctx, const char *member, bool *skip, unsigned *id)
{
	struct recover_run *run = ctx;
	size_t bl = strlen(run->base);

	*skip = false;
	*id = 0;
	if (strncmp(member, run->base, bl) == 0 && (member[bl] == '\0' || member[bl] == '/')) {
		const char *rest = member + bl;

		while (*rest == '/')
			rest++;
		if (is_tblspc_link(rest)) {
			*skip = true;
			return NULL;
		}
		return recover_join_rest(run->tmp, rest);
	}
	if (strncmp(member, "tablespaces/", 12) == 0)
		return map_tablespace(run, member, member + 11, id);
	pitr_log_error("\"%s\": member \"%s\" is neither under \"%s/\" nor under \"tablespaces/\"",
		       run->tarball, member, run->base);
	return NULL;
}

/* Where an xlog tarball member goes: only pg_wal's files, into run->tmp. */
static char *
map_xlog(void *ctx, const char *member, bool *skip)
{
	struct recover_run *run = ctx;
	size_t bl = strlen(run->base);
	const char *rest;

	*skip = false;
	if (strncmp(member, run->base, bl) == 0 && (member[bl] == '\0' || member[bl] == '/')) {
		rest = member + bl;
		while (*rest == '/')
			rest++;
		if (*rest == '\0')
			return pitr_xstrdup(run->tmp);
		if (strncmp(rest, "pg_wal", 6) == 0 &&
		    (rest[6] == '\0' || (rest[6] == '/' && strchr(rest + 7, '/') == NULL) ||
		     strcmp(rest + 6, "/") == 0))
			return recover_join_rest(run->tmp, rest);
	}
	pitr_log_error("\"%s\": member \"%s\" is not a WAL file under \"%s/pg_wal/\"", run->tarball,
		       member, run->base);
	return NULL;
}

/* A backup of a data dir whose pg_wal was a link elsewhere stores the
 * link; the recovered dir gets its own pg_wal. */
static int
own_pg_wal(struct recover_run *run)
{
	char *wal = NULL, *status = NULL;
	struct stat st;
	int rc = -1;

	if ((wal = pitr_fsutil_join(run->tmp, "pg_wal")) == NULL ||
	    (status = pitr_fsutil_join(run->tmp, "pg_wal/archive_status")) == NULL)
		goto out;
	if (lstat(wal, &st) == 0 && S_ISLNK(st.st_mode)) {
		pitr_log_info("the backup's pg_wal was a symbolic link: the recovered directory gets "
			      "its own pg_wal");
		if (unlink(wal) != 0) {
			pitr_log_error("could not remove \"%s\": %s", wal, strerror(errno));
			goto out;
		}
	}
	if (pitr_fsutil_mkdir_p(status, 0700) != 0 || recover_give_to_owner(run, wal) != 0 ||
	    recover_give_to_owner(run, status) != 0)
		goto out;
	rc = 0;
out:
	free(wal);
	free(status);
	return rc;
}

char *
recover_data_base_name(const char *data_dir)
{
	char *copy = pitr_xstrdup(data_dir), *slash, *out;

	if (copy == NULL)
		return NULL;
	recover_strip_slashes(copy);
	slash = strrchr(copy, '/');
	out = pitr_xstrdup(slash ? slash + 1 : copy);
	free(copy);
	return out;
}

/* The backup whose data tarball is extracted first: the full one. */
static const struct pitr_catalog_backup *
first_link(const struct recover_run *run)
{
	return run->nlinks > 0 ? run->links[0] : run->b;
}

/* Progress of the tarballs in tar bytes, which the meta files give: every
 * link's data tarball (an incremental's read once: its files extracted
 * and its chunks applied in one pass) and the last one's xlog tarball. */
static struct pitr_progress *
extract_progress(const struct recover_run *run)
{
	uint64_t total = run->b->xlog_size;
	struct pitr_progress *p;

	if (run->nlinks == 0)
		total += run->b->data_size;
	for (size_t i = 0; i < run->nlinks; i++)
		total += run->links[i]->data_size;
	if (!pitr_progress_wanted() || (p = pitr_progress_new("extract", total, 0)) == NULL)
		return NULL;
	pitr_tarread_progress(p);
	return p;
}

/* Extract tarball `name` of backup `b` through `map` (a data tarball's
 * split one, or `xmap` for WAL), read through its dir's store. */
static int
extract_one(struct recover_run *run, const struct pitr_catalog_backup *b, const char *name,
	    const char *what, pitr_tarread_dest_fn map, pitr_tarread_map_fn xmap, uint64_t *bytes)
{
	char *path = NULL;
	int fd = recover_file_open(run, b, name, what, &path), rc = -1;

	run->tarball = path;
	if (fd >= 0) {
		rc = map != NULL ?
			pitr_tarread_extract_split_fd(fd, path, b->codec, map, run,
						      PITR_TARREAD_ALLOW_SYMLINKS, bytes) :
			pitr_tarread_extract_fd(fd, path, b->codec, xmap, run, 0, bytes);
		if (recover_file_close(run, b, fd, rc == 0) != 0)
			rc = -1;
	}
	run->tarball = NULL;
	free(path);
	return rc;
}

/* The extraction proper: the (full) data tarball, each incremental
 * applied over it, the last one's xlog tarball; *bytes and *wbytes their
 * file data.  Only the last link's WAL is extracted: the full backup's
 * and the middle links' would never be replayed. */
static int
extract_tarballs(struct recover_run *run, uint64_t *bytes, uint64_t *wbytes)
{
	const struct pitr_catalog_backup *b = run->b, *full = first_link(run);

	if (extract_one(run, full, full->data_file, "data tarball", recover_map_data, NULL,
			bytes) != 0)
		return -1;
	for (size_t i = 1; i < run->nlinks; i++) {
		uint64_t more = 0;

		if (recover_chain_apply(run, i, &more) != 0)
			return -1;
		*bytes += more;
	}
	if (own_pg_wal(run) != 0)
		return -1;
	if (b->xlog_file != NULL &&
	    extract_one(run, b, b->xlog_file, "xlog tarball", NULL, map_xlog, wbytes) != 0)
		return -1;
	return 0;
}

int
recover_extract(struct recover_run *run, char **version)
{
	const struct pitr_catalog_backup *b = run->b;
	char *path = NULL, *v = NULL;
	uint64_t bytes = 0, wbytes = 0;
	struct pitr_progress *progress;
	size_t len;
	int rc = -1;

	*version = NULL;
	run->base = recover_data_base_name(first_link(run)->data_dir);
	if (run->base == NULL)
		return -1;
	if (mkdir(run->tmp, 0700) != 0) {
		pitr_log_error("could not create directory \"%s\": %s", run->tmp, strerror(errno));
		return -1;
	}
	run->tmp_created = true;
	progress = extract_progress(run);
	rc = extract_tarballs(run, &bytes, &wbytes);
	pitr_tarread_progress(NULL);
	if (rc != 0) {
		pitr_progress_free(progress);
		return -1;
	}
	rc = -1;
	pitr_progress_finish(progress);
	pitr_log_info("extracted %" PRIu64 " bytes of data and %" PRIu64 " bytes of WAL", bytes, wbytes);
	path = pitr_fsutil_join(run->tmp, "backup_label");
	if (path == NULL)
		goto out;
	if (access(path, F_OK) != 0) {
		pitr_log_error("the data tarball of backup \"%s\" has no %s/backup_label: not a base "
			       "backup", b->name, run->base);
		goto out;
	}
	free(path);
	path = pitr_fsutil_join(run->tmp, "PG_VERSION");
	if (path == NULL || (v = pitr_fsutil_read_small(path, 64, &len)) == NULL) {
		if (path != NULL && errno == ENOENT)
			pitr_log_error("the data tarball of backup \"%s\" has no %s/PG_VERSION: not a "
				       "data directory", b->name, run->base);
		goto out;
	}
	v[strcspn(v, " \r\n")] = '\0';
	*version = v;
	rc = 0;
out:
	free(path);
	return rc;
}
