/*
 * handover.c - how a file reaches %p: decompressed from the archive into a
 * temporary file beside it (or taken from the -pf prefetch dir), checked
 * (full segment size, a long page header that matches its name, the
 * archive's cluster), fsync'ed and renamed, so PostgreSQL never sees a
 * partial or corrupt segment.  An object in a store is decompressed as it
 * arrives (fetch.c).  The -pf worker and the -h hook decompress through
 * the same functions.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/sysid.h"

/* No file PostgreSQL asks for is larger than the largest segment. */
#define MAX_FILE_SIZE ((uint64_t)PITR_WAL_MAX_SEGSIZE)

/* The reader's failure, when it was quiet (an object's: see
 * pitr_restore_handover_decompress()), said once and only when the GET
 * itself did not fail: a GET that failed midway ends the stream early,
 * and its own line says why. */
static void
reader_failed(const struct restore_file *src, int got, const char *why)
{
	if (got < 0)
		return;
	if (got == 1)
		pitr_log_error("\"%s\" is no longer in the archive", src->path);
	else
		pitr_log_error("could not read \"%s\" as %s: %s", src->path,
			       pitr_codec_name(src->codec), why[0] != '\0' ? why : "unknown error");
}

/* The first PITR_WALHDR_SIZE bytes gathered into `head`: once whole, the
 * header is checked against `check` and *seg_size set from it.  Returns 0,
 * or -1 after logging. */
static int
take_head(const struct restore_file *src, const unsigned char *buf, size_t n,
	  unsigned char *head, size_t *head_len, const struct pitr_wal_name *check,
	  struct pitr_walhdr *hdr, uint64_t *seg_size)
{
	size_t take = PITR_WALHDR_SIZE - *head_len < n ? PITR_WALHDR_SIZE - *head_len : n;

	memcpy(head + *head_len, buf, take);
	*head_len += take;
	if (*head_len < PITR_WALHDR_SIZE)
		return 0;
	(void)pitr_walhdr_decode(head, *head_len, hdr);
	if (pitr_walhdr_check(hdr, check, src->path) != 0)
		return -1;
	*seg_size = hdr->seg_size;
	return 0;
}

int
pitr_restore_handover_decompress(struct restore_run *run, const struct restore_file *src,
				 int fd, const char *out_path, const struct pitr_wal_name *check,
				 struct pitr_walhdr *hdr, uint64_t *total)
{
	struct pitr_codec_reader *reader = NULL;
	struct restore_fetch fx = { .fd = -1 };
	unsigned char head[PITR_WALHDR_SIZE];
	char why[256] = "";
	size_t head_len = 0;
	uint64_t seg_size = MAX_FILE_SIZE;
	off_t flushed = 0;
	bool quiet = src->key != NULL;
	int rc = -1, got;

	*total = 0;
	if (pitr_restore_fetch_open(run, src, &fx) != 0)
		return -1;
	/* An object's reader is quiet: its failure may be the GET's. */
	if (quiet)
		reader = pitr_codec_reader_new_quiet(src->codec, fx.fd, src->path, why, sizeof(why));
	else
		reader = pitr_codec_reader_new(src->codec, fx.fd, src->path);
	if (reader == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_codec_reader_read(reader, run->buf, PITR_RESTORE_BUF_SIZE);

		if (n < 0) {
			got = pitr_restore_fetch_close(&fx);
			if (got == 1 && src->guessed)
				rc = 1;   /* no such object: the reader saw no bytes */
			else if (quiet)
				reader_failed(src, got, why);
			goto out;
		}
		if (n == 0)
			break;
		if (check != NULL && head_len < sizeof(head) &&
		    take_head(src, run->buf, (size_t)n, head, &head_len, check, hdr, &seg_size) != 0)
			goto out;
		*total += (uint64_t)n;
		if (*total > seg_size) {
			if (check != NULL)
				pitr_log_error("\"%s\" holds more than the %llu bytes its header says "
					       "segments are", src->path, (unsigned long long)seg_size);
			else
				pitr_log_error("\"%s\" holds more than %llu bytes: not a file PostgreSQL "
					       "archived", src->path, (unsigned long long)seg_size);
			goto out;
		}
		if (pitr_io_write_all(fd, run->buf, (size_t)n) != 0) {
			pitr_log_error("could not write \"%s\": %s", out_path, strerror(errno));
			goto out;
		}
		pitr_fsutil_writeback(fd, &flushed, (off_t)*total);
	}
	/* The stream ended: the GET must have passed every byte. */
	if ((got = pitr_restore_fetch_close(&fx)) != 0) {
		if (got == 1 && src->guessed)
			rc = 1;
		else if (got == 1)
			pitr_log_error("\"%s\" is no longer in the archive", src->path);
		goto out;
	}
	if (check != NULL && head_len < sizeof(head)) {
		pitr_log_error("\"%s\" holds %llu bytes: too short to be a WAL segment", src->path,
			       (unsigned long long)*total);
		goto out;
	}
	if (check != NULL && *total != seg_size) {
		pitr_log_error("\"%s\" holds %llu bytes of WAL but its header says segments are %llu "
			       "bytes", src->path, (unsigned long long)*total,
			       (unsigned long long)seg_size);
		goto out;
	}
	rc = 0;
out:
	pitr_codec_reader_free(reader);
	(void)pitr_restore_fetch_close(&fx);
	return rc;
}

/* A segment of another cluster must not be handed over: compare its
 * header with the cluster's own identifier (its pg_control) when the data
 * dir is known, else with the archives' record, when pitr-archive made
 * one (every source that has one has the same, pitr_restore_sources_open()
 * saw to it), so a source without a record is held to the others'. */
static int
check_cluster(struct restore_run *run, const char *src, uint64_t sysid)
{
	if (run->have_sysid && run->sysid != sysid) {
		pitr_log_error("\"%s\" is WAL of database system %llu, but %s \"%s\" %s system %llu",
			       src, (unsigned long long)sysid,
			       run->control_path != NULL ? "this cluster's" : "archive", run->sysid_dir,
			       run->control_path != NULL ? "is of" : "holds",
			       (unsigned long long)run->sysid);
		return -1;
	}
	return 0;
}

int
pitr_restore_handover_to_temp(struct restore_run *run, const struct restore_file *src,
			      const char *dir, const char *base, const struct pitr_wal_name *check,
			      struct pitr_walhdr *hdr, struct pitr_tmp *tmp_out)
{
	uint64_t total = 0;
	int rc;

	/* Locked until renamed or removed: a sweep of pg_wal by the next call
	 * after a SIGKILL takes only dead calls' files (tmpfile.h). */
	if (pitr_tmp_create(tmp_out, dir, base) != 0)
		return -1;
	rc = pitr_restore_handover_decompress(run, src, tmp_out->fd, tmp_out->path, check, hdr,
					      &total);
	if (rc != 0)
		goto fail;
	rc = -1;
	if (check != NULL && check_cluster(run, src->path, hdr->sysid) != 0)
		goto fail;
	if (fsync(tmp_out->fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", tmp_out->path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	pitr_tmp_discard(tmp_out);
	return rc;
}

/*
 * Rename the checked, fsync'ed file `from` to %p, make the rename durable,
 * and log where the file came from (`origin`, then `shown` quoted) and the
 * time since `started`.  A SIGUSR1 that came while the file was made ready
 * stops short of the rename: the server is to end recovery without it.
 * Returns 0, or -1 after logging; `from` is then gone only if the rename
 * went through.
 */
static int
put_in_place(struct restore_run *run, const char *from, const char *origin, const char *shown,
	     double started)
{
	if (pitr_restore_got_usr1) {
		pitr_log_info("SIGUSR1 received: immediate finish of recovery, \"%s\" not restored",
			      run->opts->wal_name);
		return -1;
	}
	if (rename(from, run->dest_path) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", from, run->dest_path,
			       strerror(errno));
		return -1;
	}
	if (pitr_fsutil_fsync_dir(run->dest_dir) != 0)
		return -1;
	pitr_log_info("restored \"%s\" from %s\"%s\" in %.1f ms", run->opts->wal_name, origin, shown,
		      pitr_clock_ms() - started);
	return 0;
}

/* Decompress, check, fsync and rename the archive file `src` to %p. */
static int
deliver_archived(struct restore_run *run, const struct restore_file *src)
{
	bool is_segment = run->kind == PITR_WAL_SEGMENT || run->kind == PITR_WAL_PARTIAL;
	double started = pitr_clock_ms();
	struct pitr_walhdr hdr;
	struct pitr_tmp tmp;
	int rc = pitr_restore_handover_to_temp(run, src, run->dest_dir, run->dest_base,
					       is_segment ? &run->name : NULL, &hdr, &tmp);

	if (rc != 0)
		return rc;
	if (is_segment)
		run->seg_size = hdr.seg_size;
	rc = put_in_place(run, tmp.path, "", src->path, started);
	if (rc != 0)
		pitr_tmp_discard(&tmp);
	else
		pitr_tmp_release(&tmp);
	return rc;
}

/*
 * Hand %f over from the prefetch dir, if a worker left it there.  The
 * worker checked it before giving it its name; the header, size and
 * cluster are checked again (a few bytes) so that nothing another process
 * put there reaches the server.  Returns 1 when it is at %p, fsync'ed; 0
 * when there is no usable copy (an unusable one is removed: the caller
 * decompresses from the archive); -1 after logging a failure.
 */
static int
take_prefetched(struct restore_run *run)
{
	double started = pitr_clock_ms();
	struct pitr_walhdr hdr;
	char *path = pitr_fsutil_join(run->prefetch_dir, run->opts->wal_name);
	int fd = -1;
	int rc = -1;

	if (path == NULL)
		return -1;
	if (access(path, F_OK) != 0) {
		rc = 0;
		goto out;
	}
	if (pitr_walhdr_read_file(path, &run->name, &hdr) != 0 ||
	    check_cluster(run, path, hdr.sysid) != 0) {
		pitr_log_info("not using the prefetched \"%s\": restoring it from the archive", path);
		(void)unlink(path);
		rc = 0;
		goto out;
	}
	/* The worker fsync'ed it; this costs nothing then, and makes sure. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", path, strerror(errno));
		goto out;
	}
	run->seg_size = hdr.seg_size;
	if (put_in_place(run, path, "the prefetched ", path, started) != 0)
		goto out;
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* A segment's prefetched copy goes first: the worker did the work. */
int
pitr_restore_handover(struct restore_run *run, const struct restore_file *src)
{
	if (run->prefetch_dir != NULL && run->kind == PITR_WAL_SEGMENT) {
		int took = take_prefetched(run);

		if (took != 0)
			return took > 0 ? 0 : -1;
	}
	return deliver_archived(run, src);
}
