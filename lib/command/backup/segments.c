/*
 * segments.c - the WAL segments of the xlog tarball: the range from the
 * backup label's start segment to the one holding the stop LSN, waited for
 * in the WAL source and read from it (on a primary the -x dir, as
 * pitr-archive copied them; on a standby the archive it restores from,
 * decompressed by their codec).
 */
#include "config.h"

#include <fcntl.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "compress/codec.h"
#include "postgres/lsn.h"
#include "postgres/timeline.h"
#include "postgres/wal.h"
#include "repo/archdir.h"
#include "tar/tarwrite.h"

#define BACKUP_WAL_WAIT 300
#define BACKUP_WAL_POLL_MS 20
#define BACKUP_WAL_TELL_MS 10000  /* how often the wait is logged */

/* "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)" */
static int
label_start_file(const char *label, char *out)
{
	const char *p = strstr(label, "START WAL LOCATION: ");

	p = p ? strstr(p, "(file ") : NULL;
	if (p == NULL || sscanf(p, "(file %24[0-9A-F])", out) != 1 || strlen(out) != 24 ||
	    pitr_wal_parse(out, NULL) != PITR_WAL_SEGMENT) {
		pitr_log_error("backup_label from the server has no START WAL LOCATION file name");
		return -1;
	}
	return 0;
}

/* Where `name` is now: 1 with *path (malloc'd) and *codec set when the
 * backup's WAL source holds it, 0 when not yet, -1 after logging. */
static int
find_segment(struct bk_run *run, const char *name, char **path, enum pitr_codec *codec)
{
	struct stat st;

	if (run->slave)
		return pitr_archdir_find(run->source.location, name, run->source.codec, path, codec,
					 NULL);
	*codec = PITR_CODEC_NONE;
	*path = pitr_fsutil_join(run->xlog_moved ? run->xlog_moved : run->opts->xlogs, name);
	if (*path == NULL)
		return -1;
	if (stat(*path, &st) == 0)
		return 1;
	free(*path);
	*path = NULL;
	return 0;
}

/* What the wait is for, said once it is not immediate and then every
 * BACKUP_WAL_TELL_MS, so a -x or --source that nothing fills shows. */
static void
tell_wait(const struct bk_run *run, double waited_ms, int limit)
{
	pitr_log_info("waiting for WAL segment \"%s\" in %s \"%s\" (%d s of %d)", run->stop_file,
		      run->slave ? "--source archive" : "--xlogs dir",
		      run->slave ? run->source.location : run->opts->xlogs,
		      (int)(waited_ms / 1000.0 + 0.5), limit);
}

/* On a primary the archiver delivers the stop segment to the -x dir after
 * pg_backup_stop switched to the next segment (the archiver runs in order,
 * so every earlier one is there too); a standby archives nothing itself
 * and restores a segment only once it is in the archive. */
int
pitr_backup_segments_wait(struct bk_run *run)
{
	int limit = run->opts->wal_wait > 0 ? run->opts->wal_wait : BACKUP_WAL_WAIT;
	double begun = pitr_clock_ms(), until = begun + limit * 1000.0, told = begun;
	bool said = false;

	for (;;) {
		char *path = NULL;
		enum pitr_codec codec;
		int r = find_segment(run, run->stop_file, &path, &codec);

		free(path);
		if (r != 0)
			return r > 0 ? 0 : -1;
		if (pitr_backup_stopped(run))
			return -1;
		if (pitr_clock_ms() >= until)
			break;
		if (!said || pitr_clock_ms() - told >= BACKUP_WAL_TELL_MS) {
			said = true;
			told = pitr_clock_ms();
			tell_wait(run, told - begun, limit);
		}
		(void)pitr_clock_sleep_interruptible_ms(BACKUP_WAL_POLL_MS);
	}
	if (run->slave)
		pitr_log_error("WAL segment \"%s\" did not reach --source archive \"%s\" within %d s: "
			       "is the primary archiving there?", run->stop_file, run->source.location, limit);
	else
		pitr_log_error("WAL segment \"%s\" did not reach --xlogs dir \"%s\" within %d s: is "
			       "archive_command pitr-archive --dst-backup %s?", run->stop_file, run->opts->xlogs,
			       limit, run->opts->xlogs);
	return -1;
}

/* One segment of the backup into the xlog tarball, decompressed by its
 * codec when it comes from the archive. */
static int
add_segment(struct bk_run *run, const char *name, const char *member, size_t segsize)
{
	char *path = NULL, *buf = NULL;
	enum pitr_codec codec;
	struct pitr_codec_reader *r = NULL;
	size_t got = 0;
	int fd = -1, rc = -1, found = find_segment(run, name, &path, &codec);

	if (found == 0)
		pitr_log_error("WAL segment \"%s\" the backup needs is missing from %s \"%s\"", name,
			       run->slave ? "--source archive" : "--xlogs dir",
			       run->slave ? run->source.location : run->opts->xlogs);
	if (found != 1)
		goto out;
	if (!run->slave) {
		rc = pitr_tarwrite_add_file(run->tar, path, member);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		goto out;
	}
	buf = pitr_xmalloc(segsize + 1);
	r = buf ? pitr_codec_reader_new(codec, fd, path) : NULL;
	if (r == NULL)
		goto out;
	/* One byte more than a segment, to see an overlong one. */
	while (got <= segsize) {
		ssize_t n = pitr_codec_reader_read(r, buf + got, segsize + 1 - got);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != segsize) {
		pitr_log_error("archived WAL segment \"%s\" holds %s%zu bytes, not a segment of %zu",
			       path, got > segsize ? "more than " : "", got > segsize ? segsize : got,
			       segsize);
		goto out;
	}
	rc = pitr_tarwrite_add_buffer(run->tar, member, buf, segsize, 0600);
out:
	pitr_codec_reader_free(r);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return rc;
}

/* A WAL location as the server gave it ("0/3000028", pg_lsn's text). */
static int
server_lsn(const char *text, uint64_t *pos)
{
	if (pitr_lsn_parse(text, pos) != 0) {
		pitr_log_error("server gave \"%s\", not a WAL location", text);
		return -1;
	}
	return 0;
}

int
pitr_backup_segments_range(struct bk_run *run)
{
	uint32_t segsize = (uint32_t)run->segsize;

	if (label_start_file(run->stop.labelfile, run->start_file) != 0 ||
	    pitr_wal_parse(run->start_file, &run->sname) != PITR_WAL_SEGMENT ||
	    server_lsn(run->start_lsn, &run->start_pos) != 0 ||
	    server_lsn(run->stop.lsn, &run->stop_pos) != 0)
		return -1;
	/* The segment holding the stop LSN itself.  Recovery to the end of
	 * the backup (recovery_target = 'immediate') stops before the first
	 * record after it, which it must read: a stop on a segment boundary
	 * (a standby's replay ending with a switch, 0/A00000) needs segment
	 * A, not 9 as pg_walfile_name() would name it (issue 9). */
	pitr_wal_format_segment(run->stop_file, run->sname.tli, run->stop_pos / segsize, segsize);
	if (pitr_wal_parse(run->stop_file, &run->ename) != PITR_WAL_SEGMENT ||
	    pitr_wal_segno(&run->ename, segsize) < pitr_wal_segno(&run->sname, segsize)) {
		pitr_log_error("server gave an impossible WAL range \"%s\" to \"%s\"", run->start_file,
			       run->stop_file);
		return -1;
	}
	return 0;
}

int
pitr_backup_segments_add(struct bk_run *run)
{
	uint32_t segsize = (uint32_t)run->segsize;

	for (uint64_t segno = pitr_wal_segno(&run->sname, segsize);
	     segno <= pitr_wal_segno(&run->ename, segsize); segno++) {
		char name[PITR_WAL_NAME_MAX], member[PATH_MAX];

		pitr_wal_format_segment(name, run->sname.tli, segno, segsize);
		snprintf(member, sizeof(member), "%s/pg_wal/%s", run->data_base, name);
		if (pitr_backup_stopped(run) || add_segment(run, name, member, (size_t)segsize) != 0)
			return -1;
	}
	return 0;
}

/* One history file of pg_wal into run->tar as DATA/pg_wal/NAME: 1 when
 * added, 0 when pg_wal lacks it. */
static int
add_history_file(struct bk_run *run, uint32_t tli)
{
	char name[32], path[PATH_MAX], member[PATH_MAX];
	char *text;
	size_t len;
	int rc;

	snprintf(name, sizeof(name), "%08" PRIX32 ".history", tli);
	snprintf(path, sizeof(path), "%s/pg_wal/%s", run->data_dir, name);
	text = pitr_fsutil_read_small(path, PITR_TIMELINE_HISTORY_MAX, &len);
	if (text == NULL) {
		if (errno != ENOENT)
			return -1;   /* logged */
		pitr_log_info("timeline history file \"%s\" is not in pg_wal: the backup does not carry "
			      "it (recovery needs it from the archive)", name);
		return 0;
	}
	snprintf(member, sizeof(member), "%s/pg_wal/%s", run->data_base, name);
	rc = pitr_tarwrite_add_buffer(run->tar, member, text, len, 0600) == 0 ? 1 : -1;
	free(text);
	return rc;
}

bool
pitr_backup_segments_history_in_data(const struct bk_run *run)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pg_wal", run->data_dir);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
pitr_backup_segments_add_history(struct bk_run *run)
{
	const char *p = strstr(run->stop.labelfile, "START TIMELINE: ");
	unsigned long tli;
	char path[PATH_MAX], *text;
	struct pitr_timeline_branch *anc = NULL;
	size_t len, n = 0;
	int r;

	/* A label without one fails on its START WAL LOCATION, which every
	 * PostgreSQL 15 label has with it (pitr_backup_segments_range()). */
	if (p == NULL)
		return 0;
	if (sscanf(p, "START TIMELINE: %lu", &tli) != 1 || tli == 0 || tli > UINT32_MAX) {
		pitr_log_error("backup_label from the server has no valid START TIMELINE");
		return -1;
	}
	if (tli == 1)
		return 0;
	if ((r = add_history_file(run, (uint32_t)tli)) <= 0)
		return r;
	/* Its ancestors' own files too, as pg_basebackup brings them: a
	 * later promotion copies the parent's file into its new one. */
	snprintf(path, sizeof(path), "%s/pg_wal/%08lX.history", run->data_dir, tli);
	text = pitr_fsutil_read_small(path, PITR_TIMELINE_HISTORY_MAX, &len);
	if (text == NULL || pitr_timeline_parse_history(text, &anc, &n) != 0) {
		if (text != NULL)
			pitr_log_error("timeline history file \"%s\" cannot be parsed", path);
		free(text);
		return -1;
	}
	free(text);
	r = 0;
	for (size_t i = 0; i < n && r >= 0; i++)
		if (anc[i].tli > 1 && anc[i].tli < tli)
			r = add_history_file(run, anc[i].tli);
	free(anc);
	return r < 0 ? -1 : 0;
}
