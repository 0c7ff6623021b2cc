/*
 * verify.c - pitr-verify: every backup and every archived file checked
 * to the last byte, every problem printed, one line each.
 *
 * Every catalog is loaded before anything is printed, so a directory that
 * cannot be read stops the run before a partial report.  Then the backups
 * (digests, or full decompression without them), each archive's files,
 * and the segments the backups need.  Faults found by lower modules (a
 * codec's corrupt-data message, a WAL header's wrong page address) are
 * logged there in their own words; the problem line classifies them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/catalog.h"
#include "repo/walpath.h"
#include "command/verify/report.h"
#include "command/verify/verify.h"
#include "command/verify/verify_impl.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "digest/digest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/progress.h"
#include "common/quote.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/walhdr.h"
#include "postgres/wal.h"

#define VF_READ_SIZE (1u << 20)
#define VF_DIGEST_FILE_MAX (1u << 20)   /* a digest file lists three files */
#define VF_MAX_DIGESTS 6                 /* one of each digest.h knows */

/* "PROBLEM: KIND \"PATH\": REASON", the form the catalog's lines have. */
static void
vproblem(struct vf_run *run, const char *kind, const char *path, const char *fmt, va_list ap)
{
	char *reason = pitr_xvasprintf(fmt, ap);

	/* Names from disk are escaped: one problem, one line, not mixed with
	 * the status line should the report go to the same terminal. */
	if (run->json != NULL) {
		pitr_verify_report_problem(run->json, kind, path, reason != NULL ? reason : "(out of memory)");
	} else {
		if (run->progress != NULL)
			pitr_log_status(NULL);
		pitr_quote_fprintf(run->out, "PROBLEM: %s \"%s\": %s\n", kind, path,
				   reason != NULL ? reason : "(out of memory)");
	}
	free(reason);
	run->nproblems++;
}

void
pitr_verify_problem(struct vf_run *run, const char *kind, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(run, kind, path, fmt, ap);
	va_end(ap);
}

/* A line of the catalog's problems, "PROBLEM: " and the line. */
static void
catalog_problem(struct vf_run *run, const char *line)
{
	if (run->json != NULL)
		pitr_verify_report_problem(run->json, NULL, NULL, line);
	else
		pitr_quote_fprintf(run->out, "PROBLEM: %s\n", line);
	run->nproblems++;
}

/* --json: the checks that follow are `type`'s of `target`. */
void
pitr_verify_begin_check(struct vf_run *run, const char *type, const char *target,
			const char *method)
{
	if (run->json != NULL)
		pitr_verify_report_check(run->json, type, target, method);
}

/* What a whole-file read hands its bytes to. */
typedef void (*vf_consume_fn)(void *ctx, const unsigned char *buf, size_t len);

enum vf_read {
	VF_READ_OK,
	VF_READ_UNREADABLE,      /* open or read failed (logged) */
	VF_READ_INCOMPLETE,      /* the compressed stream is damaged or cut (logged) */
};

/* The progress, in stored bytes: where the codec's reads reached in the
 * file `fd`; `done`: the file is read. */
static void
progress_at(struct vf_run *run, int fd, bool done)
{
	off_t pos;

	if (run->progress == NULL || (pos = lseek(fd, 0, SEEK_CUR)) < 0)
		return;
	pitr_progress_set(run->progress, run->done_bytes + (uint64_t)pos, run->done_files);
	if (done) {
		run->done_bytes += (uint64_t)pos;
		run->done_files++;
	}
}

/* The stored bytes and files the run will read: the backups' data and
 * xlog files, each archive's files. */
static struct pitr_progress *
verify_progress(const struct pitr_catalog *bcat, const char *bdir,
		const struct pitr_catalog *acats, size_t narchives)
{
	uint64_t bytes = 0, files = 0;

	if (!pitr_progress_wanted())
		return NULL;
	for (size_t i = 0; i < bcat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &bcat->backups[i];
		/* The sig file is read through the digests only. */
		const char *names[3] = { b->data_file, b->xlog_file,
					 b->ndigests > 0 ? b->sig_file : NULL };

		for (size_t k = 0; k < 3; k++) {
			char *path = names[k] != NULL ? pitr_fsutil_join(bdir, names[k]) : NULL;
			struct stat st;

			if (path != NULL && stat(path, &st) == 0) {
				bytes += (uint64_t)st.st_size;
				files++;
			}
			free(path);
		}
	}
	for (size_t a = 0; a < narchives; a++)
		for (size_t i = 0; i < acats[a].nfiles; i++) {
			bytes += acats[a].files[i].size;
			files++;
		}
	return pitr_progress_new("verify", bytes, files);
}

/*
 * Read `path` through `codec` to the end of its stream, handing every
 * decompressed byte to `fn` (may be NULL) and counting them in *total.
 */
static enum vf_read
read_whole(struct vf_run *run, const char *path, enum pitr_codec codec, vf_consume_fn fn, void *ctx,
	   uint64_t *total)
{
	struct pitr_codec_reader *r;
	enum vf_read result = VF_READ_OK;
	int fd;

	*total = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return VF_READ_UNREADABLE;
	}
	r = pitr_codec_reader_new(codec, fd, path);
	if (r == NULL) {
		close(fd);
		return VF_READ_UNREADABLE;
	}
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, run->buf, VF_READ_SIZE);

		if (n < 0) {
			result = codec == PITR_CODEC_NONE ? VF_READ_UNREADABLE : VF_READ_INCOMPLETE;
			break;
		}
		if (n == 0)
			break;
		if (fn != NULL)
			fn(ctx, run->buf, (size_t)n);
		*total += (uint64_t)n;
		progress_at(run, fd, false);
	}
	progress_at(run, fd, true);
	pitr_codec_reader_free(r);
	close(fd);
	return result;
}

/* The problem line for a failed read_whole(). */
static void
read_problem(struct vf_run *run, const char *kind, const char *path, enum pitr_codec codec,
	     enum vf_read rc)
{
	if (rc == VF_READ_INCOMPLETE)
		pitr_verify_problem(run, kind, path, "not a complete %s stream", pitr_codec_name(codec));
	else
		pitr_verify_problem(run, kind, path, "could not be read");
}

/* --- backups ------------------------------------------------------------ */

struct vf_digests {
	struct pitr_digest *d[VF_MAX_DIGESTS];
	size_t n;
	bool failed;
};

static void
digests_consume(void *ctx, const unsigned char *buf, size_t len)
{
	struct vf_digests *ds = ctx;

	for (size_t k = 0; k < ds->n && !ds->failed; k++)
		if (ds->d[k] != NULL && pitr_digest_update(ds->d[k], buf, len) != 0)
			ds->failed = true;
}

/*
 * The digests (algorithms `algos`, n of them, NULL entries skipped) of the
 * file as stored, in one read, into hex[k].  Returns 0; 1 after the
 * problem line; -1 after logging when no digest could be started.
 */
static int
digest_file(struct vf_run *run, const char *path, const char *const *algos, size_t n,
	    char (*hex)[PITR_DIGEST_HEX_MAX])
{
	struct vf_digests ds = { .n = n };
	enum vf_read rc;
	uint64_t total;
	int ret = -1;

	for (size_t k = 0; k < n; k++)
		if (algos[k] != NULL && (ds.d[k] = pitr_digest_new(algos[k])) == NULL)
			goto out;
	ret = 1;
	rc = read_whole(run, path, PITR_CODEC_NONE, digests_consume, &ds, &total);
	if (rc != VF_READ_OK) {
		read_problem(run, "backup file", path, PITR_CODEC_NONE, rc);
		goto out;
	}
	for (size_t k = 0; k < n && !ds.failed; k++)
		if (ds.d[k] != NULL && pitr_digest_final(ds.d[k], hex[k]) != 0)
			ds.failed = true;
	if (ds.failed) {
		pitr_verify_problem(run, "backup file", path, "could not be digested");
		goto out;
	}
	ret = 0;
out:
	for (size_t k = 0; k < n; k++)
		pitr_digest_free(ds.d[k]);
	return ret;
}

/* Compare a backup's stored files (data, xlog, sig: those it has) with
 * every digest file its meta names. */
static int
check_digests(struct vf_run *run, const char *dir, const struct pitr_catalog_backup *b)
{
	const char *files[3] = { b->data_file };
	size_t nfiles = 1;
	const char *algos[VF_MAX_DIGESTS] = { 0 };
	char hex[3][VF_MAX_DIGESTS][PITR_DIGEST_HEX_MAX];
	int readable[3];
	size_t n = b->ndigests < VF_MAX_DIGESTS ? b->ndigests : VF_MAX_DIGESTS;
	char *meta_path = pitr_fsutil_join(dir, b->meta_file);
	int rc = -1;

	if (meta_path == NULL)
		return -1;
	if (b->xlog_file != NULL)
		files[nfiles++] = b->xlog_file;
	if (b->sig_file != NULL)
		files[nfiles++] = b->sig_file;
	for (size_t k = 0; k < n; k++) {
		algos[k] = pitr_digest_canonical(b->digests[k].algorithm);
		if (algos[k] == NULL)
			pitr_verify_problem(run, "meta file", meta_path, "names an unknown digest \"%s\"",
				b->digests[k].algorithm);
	}
	for (size_t i = 0; i < nfiles; i++) {
		char *path = pitr_fsutil_join(dir, files[i]);

		if (path == NULL)
			goto out;
		readable[i] = digest_file(run, path, algos, n, hex[i]);
		free(path);
		if (readable[i] < 0)
			goto out;
	}
	for (size_t k = 0; k < n; k++) {
		char *dpath, *text;
		size_t len;

		if (algos[k] == NULL)
			continue;
		dpath = pitr_fsutil_join(dir, b->digests[k].file);
		if (dpath == NULL)
			goto out;
		text = pitr_fsutil_read_small(dpath, VF_DIGEST_FILE_MAX, &len);
		if (text == NULL) {
			/* A missing one is among the catalog's problems already. */
			if (errno != ENOENT)
				pitr_verify_problem(run, "digest file", dpath, "could not be read");
			free(dpath);
			continue;
		}
		for (size_t i = 0; i < nfiles; i++) {
			char listed[PITR_DIGEST_HEX_MAX];
			int found = pitr_digest_lookup(text, files[i], listed);

			if (found < 0) {
				pitr_verify_problem(run, "digest file", dpath, "a line is not in %s -c format",
					pitr_digest_tool(algos[k]));
				break;
			}
			if (found == 1) {
				pitr_verify_problem(run, "digest file", dpath, "does not list \"%s\"", files[i]);
				continue;
			}
			if (readable[i] == 0 && strcmp(listed, hex[i][k]) != 0) {
				char *path = pitr_fsutil_join(dir, files[i]);

				if (path == NULL) {
					free(text);
					free(dpath);
					goto out;
				}
				pitr_verify_problem(run, "backup file", path, "%s is %s, its digest file says %s",
					algos[k], hex[i][k], listed);
				free(path);
			}
		}
		free(text);
		free(dpath);
	}
	rc = 0;
out:
	free(meta_path);
	return rc;
}

/* Without digests, at least the compressed streams must be whole. */
static int
check_streams(struct vf_run *run, const char *dir, const struct pitr_catalog_backup *b)
{
	const char *files[2] = { b->data_file, b->xlog_file };

	for (size_t i = 0; i < 2; i++) {
		char *path;
		enum vf_read rc;
		uint64_t total;

		if (files[i] == NULL)
			continue;
		path = pitr_fsutil_join(dir, files[i]);
		if (path == NULL)
			return -1;
		rc = read_whole(run, path, b->codec, NULL, NULL, &total);
		if (rc != VF_READ_OK)
			read_problem(run, "backup file", path, b->codec, rc);
		free(path);
	}
	return 0;
}

/* The first backup's system identifier is the one everything shares. */
static int
check_backup_sysid(struct vf_run *run, const char *dir, const struct pitr_catalog_backup *b)
{
	char *path;

	if (!run->have_sysid) {
		if ((run->sysid_from = pitr_xasprintf("backup %s", b->name)) == NULL)
			return -1;
		run->sysid = b->sysid;
		run->have_sysid = true;
		return 0;
	}
	if (b->sysid == run->sysid)
		return 0;
	path = pitr_fsutil_join(dir, b->meta_file);
	if (path == NULL)
		return -1;
	pitr_verify_problem(run, "meta file", path,
			    "system identifier %" PRIu64 ", not the %" PRIu64 " of %s", b->sysid,
			    run->sysid, run->sysid_from);
	free(path);
	return 0;
}

/* --- archived files ---------------------------------------------------- */

struct vf_head {
	unsigned char bytes[PITR_WALHDR_SIZE];
	size_t have;
};

static void
head_consume(void *ctx, const unsigned char *buf, size_t len)
{
	struct vf_head *h = ctx;
	size_t want = sizeof(h->bytes) - h->have;

	if (want > len)
		want = len;
	memcpy(h->bytes + h->have, buf, want);
	h->have += want;
}

/* A segment or partial segment: whole, one segment long (a partial is
 * padded to that size too, but its tail is not judged), a header that fits
 * its name, the shared system identifier. */
static int
check_segment(struct vf_run *run, const struct pitr_catalog *cat, const char *path,
	      const struct pitr_catalog_file *f)
{
	struct vf_head h = { .have = 0 };
	struct pitr_walhdr hdr;
	uint64_t total;
	enum vf_read rc = read_whole(run, path, f->codec, head_consume, &h, &total);

	run->nsegments++;
	if (rc != VF_READ_OK) {
		read_problem(run, "archive file", path, f->codec, rc);
		return 0;
	}
	if (h.have < PITR_WALHDR_SIZE || pitr_walhdr_decode(h.bytes, h.have, &hdr) != 0) {
		pitr_verify_problem(run, "archive file", path, "%" PRIu64 " bytes, too short for a WAL segment",
			total);
		return 0;
	}
	if (pitr_walhdr_check(&hdr, &f->name, path) != 0) {
		pitr_verify_problem(run, "archive file", path, "bad WAL header");
		return 0;
	}
	if (f->name.kind == PITR_WAL_SEGMENT && total != hdr.seg_size) {
		pitr_verify_problem(run, "archive file", path, "%" PRIu64 " bytes, not the segment size %" PRIu32,
			total, hdr.seg_size);
		return 0;
	}
	if (cat->segsize != 0 && hdr.seg_size != cat->segsize) {
		pitr_verify_problem(run, "archive file", path, "segment size %" PRIu32 " in its header, not the "
			"archive's %" PRIu32, hdr.seg_size, cat->segsize);
		return 0;
	}
	if (!run->have_sysid) {
		run->sysid_from = pitr_xasprintf("archive file \"%s\"", path);
		if (run->sysid_from == NULL)
			return -1;
		run->sysid = hdr.sysid;
		run->have_sysid = true;
	} else if (hdr.sysid != run->sysid) {
		pitr_verify_problem(run, "archive file", path, "system identifier %" PRIu64 ", not the %" PRIu64
			" of %s", hdr.sysid, run->sysid, run->sysid_from);
	}
	return 0;
}

static int
check_archive_files(struct vf_run *run, const struct pitr_catalog *cat, const char *dir)
{
	for (size_t i = 0; i < cat->nfiles; i++) {
		const struct pitr_catalog_file *f = &cat->files[i];
		char *path = pitr_fsutil_join(dir, f->file);
		uint64_t total;
		enum vf_read rc;
		int ret = 0;

		if (path == NULL)
			return -1;
		pitr_log_verbose("checking \"%s\"", path);
		switch (f->name.kind) {
		case PITR_WAL_SEGMENT:
		case PITR_WAL_PARTIAL:
			ret = check_segment(run, cat, path, f);
			break;
		case PITR_WAL_HISTORY:
			/* Read and parsed by the catalog, which lists its faults. */
			break;
		default:
			/* Backup history files: only their stream. */
			rc = read_whole(run, path, f->codec, NULL, NULL, &total);
			if (rc != VF_READ_OK)
				read_problem(run, "archive file", path, f->codec, rc);
			break;
		}
		free(path);
		if (ret != 0)
			return -1;
	}
	return 0;
}

/* Gaps: inside each timeline's range, and on each backup's way to the end
 * of its timeline path. */
static void
check_gaps(struct vf_run *run, const struct pitr_catalog *acat, const char *dir)
{
	for (size_t t = 0; t < acat->ntimelines && acat->segsize != 0; t++) {
		const struct pitr_catalog_timeline *tl = &acat->timelines[t];

		for (size_t g = 0; g < tl->ngaps; g++) {
			char first[PITR_WAL_NAME_MAX], last[PITR_WAL_NAME_MAX];

			pitr_wal_format_segment(first, tl->tli, tl->gaps[g].first, acat->segsize);
			pitr_wal_format_segment(last, tl->tli, tl->gaps[g].last, acat->segsize);
			if (tl->gaps[g].first == tl->gaps[g].last)
				pitr_verify_problem(run, "archive", dir, "segment %s is missing (a gap in timeline %"
					PRIu32 ")", first, tl->tli);
			else
				pitr_verify_problem(run, "archive", dir, "segments %s to %s are missing (a gap in "
					"timeline %" PRIu32 ")", first, last, tl->tli);
		}
	}
	for (size_t i = 0; i < acat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &acat->backups[i];
		char missing[PITR_WAL_NAME_MAX];
		int rc = pitr_walpath_check(acat, b, 0, 0, missing);

		if (rc == 1)
			pitr_verify_problem(run, "archive", dir, "first missing segment %s needed by backup %s",
				missing, b->name);
		else if (rc < 0)
			pitr_verify_problem(run, "archive", dir, "the WAL backup %s needs cannot be checked",
				b->name);
	}
}


/* One problem line for each temporary file in `dir` that no live run
 * holds locked (tmpfile.h): a killed run's, which only takes room;
 * `remover` is the program that removes it.  Returns 0 or -1 (logged). */
static int
check_leftovers(struct vf_run *run, const char *dir, const char *remover)
{
	struct pitr_tmp_found *found;
	size_t n;

	if (dir == NULL)
		return 0;
	if (pitr_tmp_scan(dir, &found, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char *path = pitr_fsutil_join(dir, found[i].name);
		char size[32];

		if (path == NULL)
			break;
		pitr_tmp_size_text(found[i].size, size, sizeof(size));
		pitr_verify_problem(run, "temporary file", path, "%s left by an interrupted run; %s removes it",
			size, remover);
		free(path);
	}
	pitr_tmp_found_free(found, n);
	return 0;
}

/* The --json document, the dirs as read (no codec prefix). */
static int
write_json(struct vf_run *run, const char *bdir, const struct pitr_dest_spec *aspecs, size_t n,
	   size_t nbackups)
{
	const char **dirs = pitr_xcalloc(n + 1, sizeof(*dirs));
	int rc;

	if (dirs == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		dirs[i] = aspecs[i].location;
	rc = pitr_verify_report_write(run->json, run->out, bdir, dirs, n, nbackups, run->nsegments);
	free(dirs);
	return rc;
}

int
pitr_cmd_verify(const struct pitr_verify_opts *opts)
{
	struct vf_run run = { .out = opts->out ? opts->out : stdout };
	struct pitr_catalog bcat = { 0 };
	struct pitr_catalog *acats = NULL;
	struct pitr_dest_spec bspec = { 0 }, *aspecs = NULL;
	size_t nloaded = 0, nspecs = 0;
	int rc = -1;

	if (opts->narchives == 0) {
		pitr_log_error("no --archive given: pitr-verify needs at least one");
		return -1;
	}
	if ((run.buf = pitr_xmalloc(VF_READ_SIZE)) == NULL ||
	    (acats = pitr_xcalloc(opts->narchives, sizeof(*acats))) == NULL ||
	    (aspecs = pitr_xcalloc(opts->narchives, sizeof(*aspecs))) == NULL)
		goto out;
	/* "gzip=/a" is the dir /a: files are known by their own extension, the
	 * prefix is accepted so that other programs' arguments can be pasted. */
	if (opts->backup_dir != NULL &&
	    pitr_dest_spec_parse(opts->backup_dir, PITR_DEST_LOCAL, "--backup-dir", &bspec) != 0)
		goto out;
	for (; nspecs < opts->narchives; nspecs++)
		if (pitr_dest_spec_parse(opts->archives[nspecs], PITR_DEST_LOCAL, "--archive",
					 &aspecs[nspecs]) != 0)
			goto out;
	/* The backups alone, then each archive with them: the backups give
	 * the segment size, and each archive is checked for what they need. */
	if (pitr_catalog_load(bspec.location, NULL, NULL, &bcat) != 0)
		goto out;
	for (; nloaded < opts->narchives; nloaded++)
		if (pitr_catalog_load(bspec.location, aspecs[nloaded].location, NULL,
				      &acats[nloaded]) != 0)
			goto out;

	if (opts->json && (run.json = pitr_verify_report_new()) == NULL)
		goto out;
	if (bspec.location != NULL)
		pitr_verify_begin_check(&run, "backup directory", bspec.location, NULL);
	for (size_t i = 0; i < bcat.nproblems; i++)
		catalog_problem(&run, bcat.problems[i]);
	run.progress = verify_progress(&bcat, bspec.location, acats, opts->narchives);
	if (bspec.location != NULL)
		pitr_verify_begin_check(&run, "temporary files", bspec.location, NULL);
	if (check_leftovers(&run, bspec.location, "pitr-backup-cleanup") != 0)
		goto out;
	for (size_t i = 0; i < bcat.nbackups; i++) {
		const struct pitr_catalog_backup *b = &bcat.backups[i];
		const char *dir = bspec.location;

		pitr_log_verbose("checking backup %s", b->name);
		pitr_verify_begin_check(&run, "backup", b->name, b->ndigests > 0 ? "digests" : "decompression");
		if (check_backup_sysid(&run, dir, b) != 0 ||
		    (b->ndigests > 0 ? check_digests(&run, dir, b) : check_streams(&run, dir, b)) != 0 ||
		    pitr_verify_links(&run, &bcat, dir, b) != 0)
			goto out;
	}
	if (bspec.location != NULL && pitr_verify_chains(&run, &bcat, bspec.location) != 0)
		goto out;
	for (size_t a = 0; a < opts->narchives; a++) {
		const char *dir = aspecs[a].location;
		size_t before;

		/* The backup dir's own problems were printed once above. */
		pitr_verify_begin_check(&run, "archive directory", dir, NULL);
		for (size_t i = 0; i < acats[a].nproblems; i++) {
			size_t j;

			for (j = 0; j < bcat.nproblems; j++)
				if (strcmp(bcat.problems[j], acats[a].problems[i]) == 0)
					break;
			if (j < bcat.nproblems)
				continue;
			catalog_problem(&run, acats[a].problems[i]);
		}
		pitr_verify_begin_check(&run, "temporary files", dir, NULL);
		if (check_leftovers(&run, dir, "pitr-cleanup") != 0)
			goto out;
		pitr_verify_begin_check(&run, "archive files", dir, NULL);
		before = run.nsegments;
		if (check_archive_files(&run, &acats[a], dir) != 0)
			goto out;
		if (run.json != NULL)
			pitr_verify_report_segments(run.json, run.nsegments - before);
		pitr_verify_begin_check(&run, "archive gaps", dir, NULL);
		check_gaps(&run, &acats[a], dir);
	}
	pitr_progress_finish(run.progress);
	run.progress = NULL;
	if (run.json != NULL) {
		if (write_json(&run, bspec.location, aspecs, opts->narchives, bcat.nbackups) != 0)
			goto out;
	} else {
		fprintf(run.out, "%zu backups, %zu segments checked, %zu problems\n", bcat.nbackups,
			run.nsegments, run.nproblems);
	}
	pitr_log_verbose("%zu backups, %zu segments checked, %zu problems", bcat.nbackups,
			 run.nsegments, run.nproblems);
	rc = run.nproblems > 0 ? 1 : 0;
out:
	if (fflush(run.out) != 0) {
		pitr_log_error("could not write the report: %s", strerror(errno));
		rc = -1;
	}
	pitr_catalog_free(&bcat);
	for (size_t a = 0; a < nloaded && acats != NULL; a++)
		pitr_catalog_free(&acats[a]);
	/* A failed load leaves its catalog empty; freeing it is harmless. */
	if (acats != NULL && nloaded < opts->narchives)
		pitr_catalog_free(&acats[nloaded]);
	free(acats);
	pitr_dest_spec_free(&bspec);
	for (size_t a = 0; a < nspecs && aspecs != NULL; a++)
		pitr_dest_spec_free(&aspecs[a]);
	free(aspecs);
	pitr_progress_free(run.progress);
	free(run.buf);
	free(run.sysid_from);
	pitr_verify_report_free(run.json);
	return rc;
}
