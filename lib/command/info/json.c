/*
 * json.c - pitr-info's --json report (the schema is in man/pitr-info.1;
 * keys are only ever added).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/info/info_impl.h"
#include "common/json.h"
#include "compress/codec.h"
#include "postgres/wal.h"
#include "repo/catalog.h"

void
pitr_info_jw_lsn(struct pitr_jw *j, const char *key, uint64_t lsn)
{
	char l[32];

	pitr_jw_str(j, key, pitr_info_fmt_lsn(lsn, l, sizeof(l)));
}

void
pitr_info_jw_time(struct pitr_jw *j, const char *key, time_t t)
{
	char buf[64];

	pitr_jw_str(j, key, pitr_info_fmt_time(t, buf, sizeof(buf)));
}

/* Issue 13's keys: the sig file, full or incremental, the base, the
 * chain's labels (full first), the bytes on disk of the backup and every
 * link its dir holds, and the links it lacks. */
static void
json_chain(struct pitr_jw *j, const struct pitr_catalog *cat, const struct pitr_catalog_backup *b)
{
	struct pitr_info_chain c;
	bool ok = pitr_info_chain_of(cat, b, &c) == 0;

	pitr_jw_str(j, "sig_file", b->sig_file);
	pitr_jw_bool(j, "incremental", pitr_catalog_is_incremental(b));
	pitr_jw_str(j, "base", b->base);
	pitr_jw_open(j, "chain", '[');
	for (size_t i = 0; ok && i < c.nlinks; i++)
		pitr_jw_str(j, NULL, c.labels[i]);
	pitr_jw_close(j, ']');
	if (ok)
		pitr_jw_unum(j, "chain_stored_size", c.stored);
	else
		pitr_jw_null(j, "chain_stored_size");
	pitr_jw_open(j, "chain_missing", '[');
	for (size_t i = 0; ok && i < c.nlinks; i++)
		if (c.missing[i])
			pitr_jw_str(j, NULL, c.labels[i]);
	pitr_jw_close(j, ']');
	if (ok)
		pitr_info_chain_free(&c);
}

void
pitr_info_json_backup(struct pitr_jw *j, const struct pitr_catalog *cat,
		      const struct pitr_catalog_backup *b,
		      const char *dir)
{
	char sysid[32];
	struct pitr_info_backup_reach r;

	pitr_jw_open(j, NULL, '{');
	pitr_jw_str(j, "name", b->name);
	if (dir != NULL)
		pitr_jw_str(j, "backup_dir", dir);
	pitr_jw_str(j, "label", b->label);
	pitr_jw_str(j, "host", b->host);
	snprintf(sysid, sizeof(sysid), "%" PRIu64, b->sysid);
	pitr_jw_str(j, "system_identifier", sysid);
	pitr_jw_str(j, "data_dir", b->data_dir);
	pitr_jw_unum(j, "timeline", b->timeline);
	pitr_jw_str(j, "start_time", b->start_time);
	pitr_jw_str(j, "stop_time", b->stop_time);
	pitr_jw_num(j, "start_epoch", (long long)b->start_epoch);
	pitr_jw_num(j, "stop_epoch", (long long)b->stop_epoch);
	pitr_jw_str(j, "start_wal", b->start_wal);
	pitr_jw_str(j, "stop_wal", b->stop_wal);
	pitr_info_jw_lsn(j, "start_lsn", b->start_lsn);
	pitr_info_jw_lsn(j, "stop_lsn", b->stop_lsn);
	pitr_jw_unum(j, "data_size", b->data_size);
	pitr_jw_unum(j, "xlog_size", b->xlog_size);
	pitr_jw_str(j, "codec", pitr_codec_name(b->codec));
	pitr_jw_str(j, "meta_file", b->meta_file);
	pitr_jw_str(j, "data_file", b->data_file);
	pitr_jw_str(j, "xlog_file", b->xlog_file);
	pitr_jw_open(j, "digests", '[');
	for (size_t d = 0; d < b->ndigests; d++) {
		pitr_jw_open(j, NULL, '{');
		pitr_jw_str(j, "algorithm", b->digests[d].algorithm);
		pitr_jw_str(j, "file", b->digests[d].file);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
	pitr_info_reach_of(cat, b, &r);
	pitr_jw_open(j, "recoverable", '{');
	pitr_jw_unum(j, "timeline", r.tli);
	if (r.lsn == 0) {
		pitr_jw_null(j, "end_lsn");
		pitr_jw_null(j, "end_time");
		pitr_jw_null(j, "end_epoch");
	} else {
		pitr_info_jw_lsn(j, "end_lsn", r.lsn);
		pitr_info_jw_time(j, "end_time", r.epoch);
		pitr_jw_num(j, "end_epoch", (long long)r.epoch);
	}
	pitr_jw_close(j, '}');
	pitr_jw_unum(j, "stored_size", b->stored_size);
	pitr_jw_str(j, "pg_version", b->pg_version);
	pitr_jw_str(j, "source", b->source);
	json_chain(j, cat, b);
	pitr_jw_close(j, '}');
}

static void
json_timeline(struct pitr_jw *j, const struct pitr_catalog *cat,
	      const struct pitr_catalog_timeline *t)
{
	char a[PITR_WAL_NAME_MAX];
	bool parent = t->has_history && t->nancestry > 0;

	pitr_jw_open(j, NULL, '{');
	pitr_jw_unum(j, "timeline", t->tli);
	pitr_jw_bool(j, "history", t->has_history);
	if (parent) {
		pitr_jw_unum(j, "parent", t->ancestry[t->nancestry - 1].tli);
		pitr_info_jw_lsn(j, "switch_lsn", t->ancestry[t->nancestry - 1].end);
	} else {
		pitr_jw_null(j, "parent");
		pitr_jw_null(j, "switch_lsn");
	}
	pitr_jw_str(j, "first", t->nsegments ? pitr_info_fmt_seg(t->tli, t->first, cat->segsize,
								 a) : NULL);
	pitr_jw_str(j, "last", t->nsegments ? pitr_info_fmt_seg(t->tli, t->last, cat->segsize,
								a) : NULL);
	pitr_jw_unum(j, "segments", t->nsegments);
	pitr_jw_open(j, "gaps", '[');
	for (size_t g = 0; g < t->ngaps; g++) {
		pitr_jw_open(j, NULL, '{');
		pitr_jw_str(j, "first", pitr_info_fmt_seg(t->tli, t->gaps[g].first, cat->segsize,
							  a));
		pitr_jw_str(j, "last", pitr_info_fmt_seg(t->tli, t->gaps[g].last, cat->segsize, a));
		pitr_jw_unum(j, "segments", t->gaps[g].last - t->gaps[g].first + 1);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
	pitr_jw_unum(j, "stored_size", t->stored_size);
	pitr_jw_close(j, '}');
}

void
pitr_info_json_report(FILE *out, const char *bdir, const char *adir, const struct pitr_catalog *cat)
{
	struct pitr_jw j = { .out = out };

	pitr_jw_open(&j, NULL, '{');
	pitr_jw_str(&j, "backup_dir", bdir);
	pitr_jw_str(&j, "archive_dir", adir);
	if (cat->segsize != 0)
		pitr_jw_unum(&j, "segment_size", cat->segsize);
	else
		pitr_jw_null(&j, "segment_size");
	pitr_jw_open(&j, "backups", '[');
	for (size_t i = 0; i < cat->nbackups; i++)
		pitr_info_json_backup(&j, cat, &cat->backups[i], NULL);
	pitr_jw_close(&j, ']');
	pitr_info_json_timelines(&j, cat);
	pitr_info_json_window(&j, cat);
	pitr_info_json_problems(&j, cat);
	if (cat->narchive_dirs > 0)
		pitr_jw_unum(&j, "archive_stored_size", pitr_info_archive_stored(cat));
	else
		pitr_jw_null(&j, "archive_stored_size");
	pitr_info_json_unfinished(&j, cat);
	pitr_jw_close(&j, '}');
	fputc('\n', out);
}

void
pitr_info_json_timelines(struct pitr_jw *j, const struct pitr_catalog *cat)
{
	pitr_jw_open(j, "timelines", '[');
	for (size_t i = 0; i < cat->ntimelines; i++)
		json_timeline(j, cat, &cat->timelines[i]);
	pitr_jw_close(j, ']');
}

void
pitr_info_json_window(struct pitr_jw *j, const struct pitr_catalog *cat)
{
	struct pitr_info_window w;

	pitr_info_window(cat, &w);
	if (w.backup == NULL) {
		pitr_jw_null(j, "window");
	} else {
		pitr_jw_open(j, "window", '{');
		pitr_jw_str(j, "backup", w.backup->name);
		pitr_jw_unum(j, "timeline", w.tli);
		pitr_info_jw_lsn(j, "start_lsn", w.start_lsn);
		pitr_info_jw_time(j, "start_time", w.start_epoch);
		pitr_jw_num(j, "start_epoch", (long long)w.start_epoch);
		pitr_info_jw_lsn(j, "end_lsn", w.end_lsn);
		pitr_info_jw_time(j, "end_time", w.end_epoch);
		pitr_jw_num(j, "end_epoch", (long long)w.end_epoch);
		pitr_jw_close(j, '}');
	}
}

void
pitr_info_json_problems(struct pitr_jw *j, const struct pitr_catalog *cat)
{
	pitr_jw_open(j, "problems", '[');
	for (size_t i = 0; i < cat->nproblems; i++)
		pitr_jw_str(j, NULL, cat->problems[i]);
	pitr_jw_close(j, ']');
}

/* The backups in progress and the orphaned files (see text.c). */
void
pitr_info_json_unfinished(struct pitr_jw *j, const struct pitr_catalog *cat)
{
	pitr_jw_open(j, "in_progress", '[');
	for (size_t i = 0; i < cat->nin_progress; i++) {
		const struct pitr_catalog_progress *p = &cat->in_progress[i];

		pitr_jw_open(j, NULL, '{');
		pitr_jw_str(j, "name", p->name);
		pitr_jw_str(j, "backup_dir", cat->backup_dirs[p->dir]);
		pitr_jw_open(j, "files", '[');
		for (size_t f = 0; f < p->nfiles; f++)
			pitr_jw_str(j, NULL, p->files[f]);
		pitr_jw_close(j, ']');
		pitr_jw_unum(j, "bytes", p->bytes);
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
	pitr_jw_open(j, "orphans", '[');
	for (size_t i = 0; i < cat->norphans; i++) {
		const char *dir = cat->backup_dirs[cat->orphan_dirs[i]];

		pitr_jw_open(j, NULL, '{');
		pitr_jw_str(j, "backup_dir", dir);
		pitr_jw_str(j, "file", cat->orphans[i]);
		pitr_jw_unum(j, "size", pitr_info_file_size(dir, cat->orphans[i]));
		pitr_jw_close(j, '}');
	}
	pitr_jw_close(j, ']');
}
