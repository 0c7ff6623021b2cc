/*
 * info.c - pitr-info: the catalog as a report, text or JSON (see
 * info.h; the JSON schema is documented in man/pitr-info.1).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "repo/catalog.h"
#include "repo/walpath.h"
#include "command/info/info.h"
#include "compress/codec.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"
#include "postgres/lsn.h"
#include "postgres/timestamp.h"
#include "postgres/wal.h"

/* How far from a backup recovery can go: along the latest timeline that
 * descends from the backup's, through its xlog tarball and the archive. */
struct reach {
	uint32_t tli;
	uint64_t lsn;      /* 0: not even the backup's end */
	time_t epoch;
};

static void
reach_of(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b, struct reach *r)
{
	const struct pitr_catalog_file *f = NULL;

	r->tli = pitr_walpath_latest_timeline(cat, b->timeline);
	r->lsn = pitr_walpath_reachable_lsn(cat, b, r->tli);
	if (r->lsn != 0)
		f = pitr_walpath_find_segment(cat, r->tli, r->lsn / cat->segsize - 1);
	/* The last segment came from the backup's own xlog tarball: it was
	 * complete when the backup stopped. */
	r->epoch = f != NULL ? f->mtime : b->stop_epoch;
}

void
pitr_info_window(const struct pitr_catalog *cat, struct pitr_info_window *w)
{
	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];
		struct reach r;

		reach_of(cat, b, &r);
		if (r.lsn == 0)
			continue;
		w->backup = b;
		w->tli = r.tli;
		w->start_lsn = b->stop_lsn;
		w->start_epoch = b->stop_epoch;
		w->end_lsn = r.lsn;
		w->end_epoch = r.epoch;
		return;
	}
}

/* ---- small formatters ---- */

/* The form the meta files use, in the reader's time zone; "@EPOCH" for a
 * time the local calendar cannot show. */
static const char *
fmt_time(time_t t, char *buf, size_t size)
{
	if (pitr_timestamp_format(t, buf, size) != 0)
		snprintf(buf, size, "@%lld", (long long)t);
	return buf;
}

static const char *
fmt_lsn(uint64_t lsn, char *buf, size_t size)
{
	pitr_lsn_format(lsn, buf, size);
	return buf;
}

static const char *
fmt_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static const char *
fmt_seg(uint32_t tli, uint64_t segno, uint32_t segsize, char *buf)
{
	pitr_wal_format_segment(buf, tli, segno, segsize);
	return buf;
}

/* ---- text ---- */

static void
text_backup(FILE *out, const struct pitr_catalog *cat, const struct pitr_catalog_backup *b)
{
	char t[64], l[32], s1[32], s2[32];
	struct reach r;

	pitr_quote_fprintf(out, "  %s\n", b->name);
	pitr_quote_fprintf(out, "    label:        %s\n", b->label ? b->label : "");
	pitr_quote_fprintf(out, "    host:         %s\n", b->host ? b->host : "");
	pitr_quote_fprintf(out, "    system id:    %" PRIu64 "\n", b->sysid);
	pitr_quote_fprintf(out, "    data dir:     %s\n", b->data_dir ? b->data_dir : "");
	pitr_quote_fprintf(out, "    timeline:     %" PRIu32 "\n", b->timeline);
	pitr_quote_fprintf(out, "    start:        %s, WAL %s, LSN %s\n", b->start_time, b->start_wal,
			   fmt_lsn(b->start_lsn, l, sizeof(l)));
	pitr_quote_fprintf(out, "    stop:         %s, WAL %s, LSN %s\n", b->stop_time, b->stop_wal,
			   fmt_lsn(b->stop_lsn, l, sizeof(l)));
	pitr_quote_fprintf(out, "    size:         %s data, %s xlog (before compression), %s\n",
			   fmt_size(b->data_size, s1, sizeof(s1)), fmt_size(b->xlog_size, s2, sizeof(s2)),
			   pitr_codec_name(b->codec));
	pitr_quote_fprintf(out, "    files:        %s %s%s%s\n", b->meta_file, b->data_file,
			   b->xlog_file ? " " : " (no xlog file)", b->xlog_file ? b->xlog_file : "");
	pitr_quote_fprintf(out, "    digests:     ");
	if (b->ndigests == 0)
		pitr_quote_fprintf(out, " none");
	for (size_t d = 0; d < b->ndigests; d++)
		pitr_quote_fprintf(out, " %s (%s)", b->digests[d].algorithm, b->digests[d].file);
	pitr_quote_fprintf(out, "\n");
	reach_of(cat, b, &r);
	if (r.lsn == 0)
		pitr_quote_fprintf(out, "    recoverable:  no (timeline %" PRIu32 ")\n", r.tli);
	else
		pitr_quote_fprintf(out, "    recoverable:  to LSN %s, %s (timeline %" PRIu32 ")\n",
				   fmt_lsn(r.lsn, l, sizeof(l)), fmt_time(r.epoch, t, sizeof(t)), r.tli);
}

static void
text_timeline(FILE *out, const struct pitr_catalog *cat, const struct pitr_catalog_timeline *t)
{
	char a[PITR_WAL_NAME_MAX], z[PITR_WAL_NAME_MAX], l[32];

	pitr_quote_fprintf(out, "  timeline %" PRIu32, t->tli);
	if (t->has_history && t->nancestry > 0)
		pitr_quote_fprintf(out, " (from timeline %" PRIu32 " at %s)", t->ancestry[t->nancestry - 1].tli,
				   fmt_lsn(t->ancestry[t->nancestry - 1].end, l, sizeof(l)));
	else if (t->tli > 1)
		pitr_quote_fprintf(out, " (no history file)");
	if (t->nsegments == 0) {
		pitr_quote_fprintf(out, ": no segments\n");
		return;
	}
	pitr_quote_fprintf(out, ": %s to %s, %zu segment%s, %zu gap%s\n", fmt_seg(t->tli, t->first, cat->segsize, a),
			   fmt_seg(t->tli, t->last, cat->segsize, z), t->nsegments, t->nsegments == 1 ? "" : "s",
			   t->ngaps, t->ngaps == 1 ? "" : "s");
	for (size_t g = 0; g < t->ngaps; g++) {
		const struct pitr_catalog_gap *gap = &t->gaps[g];

		if (gap->first == gap->last)
			pitr_quote_fprintf(out, "    missing %s\n", fmt_seg(t->tli, gap->first, cat->segsize, a));
		else
			pitr_quote_fprintf(out, "    missing %s to %s (%" PRIu64 " segments)\n",
					   fmt_seg(t->tli, gap->first, cat->segsize, a),
					   fmt_seg(t->tli, gap->last, cat->segsize, z), gap->last - gap->first + 1);
	}
}

static size_t
count_segments(const struct pitr_catalog *cat)
{
	size_t segs = 0;

	for (size_t i = 0; i < cat->ntimelines; i++)
		segs += cat->timelines[i].nsegments;
	return segs;
}

/* The archive `adir` as `cat` (holding it alone, or the union) sees it. */
static void
text_archive(FILE *out, const char *adir, const struct pitr_catalog *cat)
{
	size_t segs = count_segments(cat);

	pitr_quote_fprintf(out, "Archive %s: %zu file%s, %zu segment%s", adir, cat->nfiles,
			   cat->nfiles == 1 ? "" : "s", segs, segs == 1 ? "" : "s");
	if (cat->segsize != 0)
		pitr_quote_fprintf(out, " of %" PRIu32 " bytes", cat->segsize);
	pitr_quote_fprintf(out, "\n");
	for (size_t i = 0; i < cat->ntimelines; i++)
		text_timeline(out, cat, &cat->timelines[i]);
}

static void
text_window_problems(FILE *out, const struct pitr_catalog *cat);

static void
text_report(FILE *out, const struct pitr_info_opts *opts, const char *bdir, const char *adir,
	    const struct pitr_catalog *cat)
{
	if (opts->nbackup_dirs > 0) {
		pitr_quote_fprintf(out, "Backups in %s: %zu\n", bdir, cat->nbackups);
		for (size_t i = 0; i < cat->nbackups; i++)
			text_backup(out, cat, &cat->backups[i]);
	}
	if (opts->narchives > 0)
		text_archive(out, adir, cat);
	text_window_problems(out, cat);
}

/* The window, then the problems: the end of every text report. */
static void
text_window_problems(FILE *out, const struct pitr_catalog *cat)
{
	struct pitr_info_window w;
	char t1[64], t2[64], l1[32], l2[32];

	pitr_info_window(cat, &w);
	if (w.backup == NULL)
		pitr_quote_fprintf(out, "Recoverable window: none (no backup to recover from)\n");
	else
		pitr_quote_fprintf(out, "Recoverable window on timeline %" PRIu32 ": from %s (LSN %s, end of backup "
				   "%s) to %s (LSN %s)\n", w.tli, fmt_time(w.start_epoch, t1, sizeof(t1)),
				   fmt_lsn(w.start_lsn, l1, sizeof(l1)), w.backup->name,
				   fmt_time(w.end_epoch, t2, sizeof(t2)), fmt_lsn(w.end_lsn, l2, sizeof(l2)));
	pitr_quote_fprintf(out, "Problems: %zu\n", cat->nproblems);
	for (size_t i = 0; i < cat->nproblems; i++)
		pitr_quote_fprintf(out, "  %s\n", cat->problems[i]);
}

/* ---- JSON ---- */

/* The length of the UTF-8 sequence at s (1-4), or 0 if it is not one
 * (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

void
pitr_info_json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p != '\0') {
		size_t n = utf8_len(p);

		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		if (n > 1) {
			fwrite(p, 1, n, out);
			p += n;
			continue;
		}
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
		p++;
	}
	fputc('"', out);
}

/* A writer that indents by two per level and puts commas where they
 * belong, so the output is both valid and readable. */
#define JSON_DEPTH 8

struct jw {
	FILE *out;
	int depth;
	bool empty[JSON_DEPTH];
};

static void
jw_key(struct jw *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->empty[j->depth] ? "\n" : ",\n", j->out);
		j->empty[j->depth] = false;
		fprintf(j->out, "%*s", 2 * j->depth, "");
	}
	if (key != NULL) {
		pitr_info_json_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void
jw_open(struct jw *j, const char *key, char bracket)
{
	jw_key(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->empty[j->depth] = true;
}

static void
jw_close(struct jw *j, char bracket)
{
	bool empty = j->empty[j->depth];

	j->depth--;
	if (!empty)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->out);
}

static void
jw_str(struct jw *j, const char *key, const char *value)
{
	jw_key(j, key);
	if (value == NULL)
		fputs("null", j->out);
	else
		pitr_info_json_string(j->out, value);
}

static void
jw_num(struct jw *j, const char *key, long long value)
{
	jw_key(j, key);
	fprintf(j->out, "%lld", value);
}

static void
jw_unum(struct jw *j, const char *key, uint64_t value)
{
	jw_key(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

static void
jw_null(struct jw *j, const char *key)
{
	jw_key(j, key);
	fputs("null", j->out);
}

static void
jw_bool(struct jw *j, const char *key, bool value)
{
	jw_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

static void
jw_lsn(struct jw *j, const char *key, uint64_t lsn)
{
	char l[32];

	jw_str(j, key, fmt_lsn(lsn, l, sizeof(l)));
}

static void
jw_time(struct jw *j, const char *key, time_t t)
{
	char buf[64];

	jw_str(j, key, fmt_time(t, buf, sizeof(buf)));
}

static void
json_backup(struct jw *j, const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
	    const char *dir)
{
	char sysid[32];
	struct reach r;

	jw_open(j, NULL, '{');
	jw_str(j, "name", b->name);
	if (dir != NULL)
		jw_str(j, "backup_dir", dir);
	jw_str(j, "label", b->label);
	jw_str(j, "host", b->host);
	snprintf(sysid, sizeof(sysid), "%" PRIu64, b->sysid);
	jw_str(j, "system_identifier", sysid);
	jw_str(j, "data_dir", b->data_dir);
	jw_unum(j, "timeline", b->timeline);
	jw_str(j, "start_time", b->start_time);
	jw_str(j, "stop_time", b->stop_time);
	jw_num(j, "start_epoch", (long long)b->start_epoch);
	jw_num(j, "stop_epoch", (long long)b->stop_epoch);
	jw_str(j, "start_wal", b->start_wal);
	jw_str(j, "stop_wal", b->stop_wal);
	jw_lsn(j, "start_lsn", b->start_lsn);
	jw_lsn(j, "stop_lsn", b->stop_lsn);
	jw_unum(j, "data_size", b->data_size);
	jw_unum(j, "xlog_size", b->xlog_size);
	jw_str(j, "codec", pitr_codec_name(b->codec));
	jw_str(j, "meta_file", b->meta_file);
	jw_str(j, "data_file", b->data_file);
	jw_str(j, "xlog_file", b->xlog_file);
	jw_open(j, "digests", '[');
	for (size_t d = 0; d < b->ndigests; d++) {
		jw_open(j, NULL, '{');
		jw_str(j, "algorithm", b->digests[d].algorithm);
		jw_str(j, "file", b->digests[d].file);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	reach_of(cat, b, &r);
	jw_open(j, "recoverable", '{');
	jw_unum(j, "timeline", r.tli);
	if (r.lsn == 0) {
		jw_null(j, "end_lsn");
		jw_null(j, "end_time");
		jw_null(j, "end_epoch");
	} else {
		jw_lsn(j, "end_lsn", r.lsn);
		jw_time(j, "end_time", r.epoch);
		jw_num(j, "end_epoch", (long long)r.epoch);
	}
	jw_close(j, '}');
	jw_close(j, '}');
}

static void
json_timeline(struct jw *j, const struct pitr_catalog *cat, const struct pitr_catalog_timeline *t)
{
	char a[PITR_WAL_NAME_MAX];
	bool parent = t->has_history && t->nancestry > 0;

	jw_open(j, NULL, '{');
	jw_unum(j, "timeline", t->tli);
	jw_bool(j, "history", t->has_history);
	if (parent) {
		jw_unum(j, "parent", t->ancestry[t->nancestry - 1].tli);
		jw_lsn(j, "switch_lsn", t->ancestry[t->nancestry - 1].end);
	} else {
		jw_null(j, "parent");
		jw_null(j, "switch_lsn");
	}
	jw_str(j, "first", t->nsegments ? fmt_seg(t->tli, t->first, cat->segsize, a) : NULL);
	jw_str(j, "last", t->nsegments ? fmt_seg(t->tli, t->last, cat->segsize, a) : NULL);
	jw_unum(j, "segments", t->nsegments);
	jw_open(j, "gaps", '[');
	for (size_t g = 0; g < t->ngaps; g++) {
		jw_open(j, NULL, '{');
		jw_str(j, "first", fmt_seg(t->tli, t->gaps[g].first, cat->segsize, a));
		jw_str(j, "last", fmt_seg(t->tli, t->gaps[g].last, cat->segsize, a));
		jw_unum(j, "segments", t->gaps[g].last - t->gaps[g].first + 1);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	jw_close(j, '}');
}

static void json_timelines(struct jw *j, const struct pitr_catalog *cat);
static void json_window(struct jw *j, const struct pitr_catalog *cat);
static void json_problems(struct jw *j, const struct pitr_catalog *cat);

static void
json_report(FILE *out, const char *bdir, const char *adir, const struct pitr_catalog *cat)
{
	struct jw j = { .out = out };

	jw_open(&j, NULL, '{');
	jw_str(&j, "backup_dir", bdir);
	jw_str(&j, "archive_dir", adir);
	if (cat->segsize != 0)
		jw_unum(&j, "segment_size", cat->segsize);
	else
		jw_null(&j, "segment_size");
	jw_open(&j, "backups", '[');
	for (size_t i = 0; i < cat->nbackups; i++)
		json_backup(&j, cat, &cat->backups[i], NULL);
	jw_close(&j, ']');
	json_timelines(&j, cat);
	json_window(&j, cat);
	json_problems(&j, cat);
	jw_close(&j, '}');
	fputc('\n', out);
}

static void
json_timelines(struct jw *j, const struct pitr_catalog *cat)
{
	jw_open(j, "timelines", '[');
	for (size_t i = 0; i < cat->ntimelines; i++)
		json_timeline(j, cat, &cat->timelines[i]);
	jw_close(j, ']');
}

static void
json_window(struct jw *j, const struct pitr_catalog *cat)
{
	struct pitr_info_window w;

	pitr_info_window(cat, &w);
	if (w.backup == NULL) {
		jw_null(j, "window");
	} else {
		jw_open(j, "window", '{');
		jw_str(j, "backup", w.backup->name);
		jw_unum(j, "timeline", w.tli);
		jw_lsn(j, "start_lsn", w.start_lsn);
		jw_time(j, "start_time", w.start_epoch);
		jw_num(j, "start_epoch", (long long)w.start_epoch);
		jw_lsn(j, "end_lsn", w.end_lsn);
		jw_time(j, "end_time", w.end_epoch);
		jw_num(j, "end_epoch", (long long)w.end_epoch);
		jw_close(j, '}');
	}
}

static void
json_problems(struct jw *j, const struct pitr_catalog *cat)
{
	jw_open(j, "problems", '[');
	for (size_t i = 0; i < cat->nproblems; i++)
		jw_str(j, NULL, cat->problems[i]);
	jw_close(j, ']');
}

/* ---- the command ---- */

/* Add a problem line to cat for each temporary file in `dir` that no
 * live run holds locked (tmpfile.h), as pitr-verify words it; `remover`
 * is the program that removes it.  Returns 0 or -1 (logged). */
static int
add_leftovers(struct pitr_catalog *cat, const char *dir, const char *remover)
{
	struct pitr_tmp_found *found;
	size_t n;
	int rc = 0;

	if (dir == NULL)
		return 0;
	if (pitr_tmp_scan(dir, &found, &n) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char **grown = pitr_xreallocarray(cat->problems, cat->nproblems + 1,
						  sizeof(*grown));
		char size[32], *line;

		if (grown == NULL) {
			rc = -1;
			break;
		}
		cat->problems = grown;
		pitr_tmp_size_text(found[i].size, size, sizeof(size));
		line = pitr_xasprintf("temporary file \"%s/%s\": %s left by an interrupted run; "
				      "%s removes it", dir, found[i].name, size, remover);
		if (line == NULL)
			rc = -1;
		else
			cat->problems[cat->nproblems++] = line;
	}
	pitr_tmp_found_free(found, n);
	return rc;
}

/* ---- several hosts ---- */

const struct pitr_catalog_backup *
pitr_info_newest(const struct pitr_catalog *cat)
{
	const struct pitr_catalog_backup *best = NULL;

	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (best == NULL || b->timeline > best->timeline ||
		    (b->timeline == best->timeline &&
		     (b->stop_lsn > best->stop_lsn ||
		      (b->stop_lsn == best->stop_lsn && b->stop_epoch > best->stop_epoch))))
			best = b;
	}
	return best;
}

void
pitr_info_furthest(const struct pitr_catalog *cats, size_t n, struct pitr_info_reach *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t a = 0; a < n; a++) {
		const struct pitr_catalog *cat = &cats[a];

		/* Timelines ascend: the last with segments is the latest. */
		for (size_t t = cat->ntimelines; t-- > 0;) {
			const struct pitr_catalog_timeline *tl = &cat->timelines[t];
			const struct pitr_catalog_file *f;

			if (tl->nsegments == 0 || cat->segsize == 0)
				continue;
			if (r->found && (tl->tli < r->tli || (tl->tli == r->tli && tl->last <= r->last)))
				break;
			f = pitr_walpath_find_segment(cat, tl->tli, tl->last);
			r->found = true;
			r->archive = a;
			r->tli = tl->tli;
			r->last = tl->last;
			r->end_lsn = (tl->last + 1) * (uint64_t)cat->segsize;
			r->end_epoch = f != NULL ? f->mtime : 0;
			break;
		}
	}
}

/* What the report on several hosts adds to the union catalog: each
 * archive alone, the newest backup, the furthest archive, the systems. */
struct hosts {
	struct pitr_catalog *acats;    /* one per archive */
	size_t nacats;
	const struct pitr_catalog_backup *newest;
	struct pitr_info_reach far;
	bool have_sysid;               /* one system is known ... */
	uint64_t sysid;                /* ... this one */
	char *mixed;                   /* else why not: the error line */
};

static void
hosts_free(struct hosts *h)
{
	for (size_t i = 0; i < h->nacats; i++)
		pitr_catalog_free(&h->acats[i]);
	free(h->acats);
	free(h->mixed);
}

/* One more system identifier, `what` saying whose: the first known is the
 * reference, the first that differs makes h->mixed.  0 or -1 (ENOMEM). */
static int
hosts_system(struct hosts *h, uint64_t sysid, const char *what, char **ref_what)
{
	if (h->mixed != NULL)
		return 0;
	if (!h->have_sysid) {
		h->have_sysid = true;
		h->sysid = sysid;
		return (*ref_what = pitr_xstrdup(what)) != NULL ? 0 : -1;
	}
	if (sysid == h->sysid)
		return 0;
	h->mixed = pitr_xasprintf("%s is of database system %" PRIu64 ", %s of system %" PRIu64
				  ": not one cluster", *ref_what, h->sysid, what, sysid);
	return h->mixed != NULL ? 0 : -1;
}

static int
hosts_systems(struct hosts *h, const struct pitr_catalog *cat)
{
	char *ref = NULL, *what = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		what = pitr_xasprintf("backup \"%s\" in \"%s\"", b->name, cat->backup_dirs[b->dir]);
		rc = what != NULL ? hosts_system(h, b->sysid, what, &ref) : -1;
		free(what);
	}
	for (size_t a = 0; rc == 0 && a < cat->narchive_dirs; a++) {
		uint64_t sysid;
		int r = pitr_catalog_archive_sysid(cat, a, &sysid);

		if (r != 0) {
			rc = r < 0 ? -1 : 0;
			continue;
		}
		what = pitr_xasprintf("archive \"%s\"", cat->archive_dirs[a]);
		rc = what != NULL ? hosts_system(h, sysid, what, &ref) : -1;
		free(what);
	}
	free(ref);
	return rc;
}

static int
hosts_load(struct hosts *h, const struct pitr_info_opts *opts, const struct pitr_catalog *cat)
{
	memset(h, 0, sizeof(*h));
	h->acats = pitr_xcalloc(opts->narchives + 1, sizeof(*h->acats));
	if (h->acats == NULL)
		return -1;
	for (; h->nacats < opts->narchives; h->nacats++)
		if (pitr_catalog_load(NULL, opts->archives[h->nacats], &h->acats[h->nacats]) != 0)
			return -1;
	h->newest = pitr_info_newest(cat);
	pitr_info_furthest(h->acats, h->nacats, &h->far);
	return hosts_systems(h, cat);
}

static void
text_hosts_summary(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	char t[64], l[32], seg[PITR_WAL_NAME_MAX];
	const struct pitr_catalog_backup *b = h->newest;

	if (b == NULL)
		pitr_quote_fprintf(out, "Newest backup: none\n");
	else
		pitr_quote_fprintf(out, "Newest backup: %s in %s (timeline %" PRIu32 ", stopped %s, "
				   "LSN %s)\n", b->name, cat->backup_dirs[b->dir], b->timeline,
				   b->stop_time, fmt_lsn(b->stop_lsn, l, sizeof(l)));
	if (!h->far.found)
		pitr_quote_fprintf(out, "Furthest archive: none (no segments)\n");
	else
		pitr_quote_fprintf(out, "Furthest archive: %s (timeline %" PRIu32 ", last segment %s, "
				   "to LSN %s, %s)\n", cat->archive_dirs[h->far.archive], h->far.tli,
				   fmt_seg(h->far.tli, h->far.last, h->acats[h->far.archive].segsize, seg),
				   fmt_lsn(h->far.end_lsn, l, sizeof(l)), fmt_time(h->far.end_epoch, t, sizeof(t)));
	if (h->mixed != NULL)
		pitr_quote_fprintf(out, "Database system: DIFFERENT: %s\n", h->mixed);
	else if (h->have_sysid)
		pitr_quote_fprintf(out, "Database system: %" PRIu64 " (every backup and archive that "
				   "tells)\n", h->sysid);
	else
		pitr_quote_fprintf(out, "Database system: unknown\n");
}

static void
text_hosts(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	for (size_t d = 0; d < cat->nbackup_dirs; d++) {
		size_t n = 0;

		for (size_t i = 0; i < cat->nbackups; i++)
			n += cat->backups[i].dir == d;
		pitr_quote_fprintf(out, "Backups in %s: %zu\n", cat->backup_dirs[d], n);
		for (size_t i = 0; i < cat->nbackups; i++)
			if (cat->backups[i].dir == d)
				text_backup(out, cat, &cat->backups[i]);
	}
	for (size_t a = 0; a < h->nacats; a++)
		text_archive(out, cat->archive_dirs[a], &h->acats[a]);
	text_hosts_summary(out, cat, h);
	text_window_problems(out, cat);
}

static void
json_dirs(struct jw *j, const char *key, char **dirs, size_t n)
{
	jw_open(j, key, '[');
	for (size_t i = 0; i < n; i++)
		jw_str(j, NULL, dirs[i]);
	jw_close(j, ']');
}

static void
json_sysid(struct jw *j, const char *key, bool known, uint64_t sysid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, sysid);
	jw_str(j, key, known ? buf : NULL);
}

static void
json_archives(struct jw *j, const struct pitr_catalog *cat, const struct hosts *h)
{
	jw_open(j, "archives", '[');
	for (size_t a = 0; a < h->nacats; a++) {
		const struct pitr_catalog *ac = &h->acats[a];
		uint64_t sysid = 0;
		bool known = pitr_catalog_archive_sysid(ac, 0, &sysid) == 0;

		jw_open(j, NULL, '{');
		jw_str(j, "archive_dir", cat->archive_dirs[a]);
		json_sysid(j, "system_identifier", known, sysid);
		jw_unum(j, "files", ac->nfiles);
		jw_unum(j, "segments", count_segments(ac));
		json_timelines(j, ac);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void
json_hosts_summary(struct jw *j, const struct pitr_catalog *cat, const struct hosts *h)
{
	char seg[PITR_WAL_NAME_MAX];
	const struct pitr_catalog_backup *b = h->newest;

	if (b == NULL) {
		jw_null(j, "newest_backup");
	} else {
		jw_open(j, "newest_backup", '{');
		jw_str(j, "backup_dir", cat->backup_dirs[b->dir]);
		jw_str(j, "name", b->name);
		jw_unum(j, "timeline", b->timeline);
		jw_str(j, "stop_time", b->stop_time);
		jw_num(j, "stop_epoch", (long long)b->stop_epoch);
		jw_lsn(j, "stop_lsn", b->stop_lsn);
		jw_close(j, '}');
	}
	if (!h->far.found) {
		jw_null(j, "furthest_archive");
	} else {
		jw_open(j, "furthest_archive", '{');
		jw_str(j, "archive_dir", cat->archive_dirs[h->far.archive]);
		jw_unum(j, "timeline", h->far.tli);
		jw_str(j, "last", fmt_seg(h->far.tli, h->far.last, h->acats[h->far.archive].segsize, seg));
		jw_lsn(j, "end_lsn", h->far.end_lsn);
		jw_time(j, "end_time", h->far.end_epoch);
		jw_num(j, "end_epoch", (long long)h->far.end_epoch);
		jw_close(j, '}');
	}
	jw_bool(j, "same_system", h->mixed == NULL);
	json_sysid(j, "system_identifier", h->mixed == NULL && h->have_sysid, h->sysid);
	jw_str(j, "systems_differ", h->mixed);
}

static void
json_hosts(FILE *out, const struct pitr_catalog *cat, const struct hosts *h)
{
	struct jw j = { .out = out };

	jw_open(&j, NULL, '{');
	json_dirs(&j, "backup_dirs", cat->backup_dirs, cat->nbackup_dirs);
	json_dirs(&j, "archive_dirs", cat->archive_dirs, cat->narchive_dirs);
	if (cat->segsize != 0)
		jw_unum(&j, "segment_size", cat->segsize);
	else
		jw_null(&j, "segment_size");
	jw_open(&j, "backups", '[');
	for (size_t i = 0; i < cat->nbackups; i++)
		json_backup(&j, cat, &cat->backups[i], cat->backup_dirs[cat->backups[i].dir]);
	jw_close(&j, ']');
	json_archives(&j, cat, h);
	json_timelines(&j, cat);
	json_window(&j, cat);
	json_hosts_summary(&j, cat, h);
	json_problems(&j, cat);
	jw_close(&j, '}');
	fputc('\n', out);
}

/* ---- the command ---- */

/* The report on several hosts; 1 when it was written but their systems
 * differ (logged), -1 after logging a failure. */
static int
report_hosts(FILE *out, const struct pitr_info_opts *opts, const struct pitr_catalog *cat)
{
	struct hosts h;
	int rc = -1;

	if (hosts_load(&h, opts, cat) != 0)
		goto out;
	if (opts->json)
		json_hosts(out, cat, &h);
	else
		text_hosts(out, cat, &h);
	rc = 0;
	if (h.mixed != NULL) {
		pitr_log_error("%s", h.mixed);
		rc = 1;
	}
out:
	hosts_free(&h);
	return rc;
}

static int
add_all_leftovers(struct pitr_catalog *cat)
{
	for (size_t i = 0; i < cat->nbackup_dirs; i++)
		if (add_leftovers(cat, cat->backup_dirs[i], "pitr-backup-cleanup") != 0)
			return -1;
	for (size_t i = 0; i < cat->narchive_dirs; i++)
		if (add_leftovers(cat, cat->archive_dirs[i], "pitr-cleanup") != 0)
			return -1;
	return 0;
}

int
pitr_cmd_info(const struct pitr_info_opts *opts)
{
	FILE *out = opts->out != NULL ? opts->out : stdout;
	bool several = opts->nbackup_dirs > 1 || opts->narchives > 1;
	struct pitr_catalog cat;
	int rc = 0;

	if (opts->nbackup_dirs == 0 && opts->narchives == 0) {
		pitr_log_error("nothing to report on: give --backup-dir, --archive or both");
		return -1;
	}
	if (pitr_catalog_load_many(opts->backup_dirs, opts->nbackup_dirs, opts->archives,
				   opts->narchives, &cat) != 0)
		return -1;
	if (add_all_leftovers(&cat) != 0) {
		pitr_catalog_free(&cat);
		return -1;
	}
	pitr_log_verbose("read %zu backups, %zu archived files on %zu timelines, %zu problems",
			 cat.nbackups, cat.nfiles, cat.ntimelines, cat.nproblems);
	if (several)
		rc = report_hosts(out, opts, &cat);
	else if (opts->json)
		json_report(out, cat.nbackup_dirs ? cat.backup_dirs[0] : NULL,
			    cat.narchive_dirs ? cat.archive_dirs[0] : NULL, &cat);
	else
		text_report(out, opts, cat.nbackup_dirs ? cat.backup_dirs[0] : NULL,
			    cat.narchive_dirs ? cat.archive_dirs[0] : NULL, &cat);
	pitr_catalog_free(&cat);
	if (rc < 0)
		return -1;
	if (fflush(out) != 0 || ferror(out)) {
		pitr_log_error("cannot write the report: %s", strerror(errno ? errno : EIO));
		return -1;
	}
	return rc == 0 ? 0 : -1;
}
