/*
 * text.c - pitr-info's text report: for people, one fact a line.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/info/info_impl.h"
#include "common/quote.h"
#include "compress/codec.h"
#include "postgres/wal.h"
#include "repo/catalog.h"

/* ---- text ---- */

/* Full or incremental; for an incremental, its base, its chain and what
 * the chain takes on disk (issue 13). */
static void
text_chain(FILE *out, const struct pitr_catalog *cat, const struct pitr_catalog_backup *b)
{
	struct pitr_info_chain c;
	char sz[32];

	if (!pitr_catalog_is_incremental(b)) {
		pitr_quote_fprintf(out, "    type:         full\n");
		return;
	}
	if (pitr_info_chain_of(cat, b, &c) != 0) {
		pitr_quote_fprintf(out, "    type:         incremental on \"%s\"\n", b->base);
		return;
	}
	pitr_quote_fprintf(out, "    type:         incremental on \"%s\", %zu backup%s before it from "
			   "full \"%s\"\n", b->base, c.nlinks, c.nlinks == 1 ? "" : "s", c.labels[0]);
	pitr_quote_fprintf(out, "    chain stored: %s (%" PRIu64 " bytes on disk, this backup and the "
			   "%zu before it%s)\n", pitr_info_fmt_size(c.stored, sz, sizeof(sz)), c.stored,
			   c.nlinks - c.nmissing, c.nmissing > 0 ? " here" : "");
	if (c.nmissing > 0) {
		pitr_quote_fprintf(out, "    chain lacks: ");
		for (size_t i = 0; i < c.nlinks; i++)
			if (c.missing[i])
				pitr_quote_fprintf(out, " \"%s\"", c.labels[i]);
		pitr_quote_fprintf(out, " (not in %s: it cannot be recovered)\n",
				   cat->backup_dirs[b->dir]);
	}
	pitr_info_chain_free(&c);
}

void
pitr_info_text_backup(FILE *out, const struct pitr_catalog *cat,
		      const struct pitr_catalog_backup *b)
{
	char t[64], l[32], s1[32], s2[32];
	struct pitr_info_backup_reach r;

	pitr_quote_fprintf(out, "  %s\n", b->name);
	pitr_quote_fprintf(out, "    label:        %s\n", b->label ? b->label : "");
	pitr_quote_fprintf(out, "    host:         %s\n", b->host ? b->host : "");
	pitr_quote_fprintf(out, "    system id:    %" PRIu64 "\n", b->sysid);
	pitr_quote_fprintf(out, "    data dir:     %s\n", b->data_dir ? b->data_dir : "");
	pitr_quote_fprintf(out, "    timeline:     %" PRIu32 "\n", b->timeline);
	pitr_quote_fprintf(out, "    start:        %s, WAL %s, LSN %s\n", b->start_time,
			   b->start_wal,
			   pitr_info_fmt_lsn(b->start_lsn, l, sizeof(l)));
	pitr_quote_fprintf(out, "    stop:         %s, WAL %s, LSN %s\n", b->stop_time, b->stop_wal,
			   pitr_info_fmt_lsn(b->stop_lsn, l, sizeof(l)));
	pitr_quote_fprintf(out, "    size:         %s data, %s xlog (before compression), %s\n",
			   pitr_info_fmt_size(b->data_size, s1,
					      sizeof(s1)), pitr_info_fmt_size(b->xlog_size, s2,
									      sizeof(s2)),
			   pitr_codec_name(b->codec));
	pitr_quote_fprintf(out, "    stored:       %s (%" PRIu64 " bytes on disk)\n",
			   pitr_info_fmt_size(b->stored_size, s1, sizeof(s1)), b->stored_size);
	pitr_quote_fprintf(out, "    version:      %s%s\n", b->pg_version ? "PostgreSQL " : "",
			   b->pg_version ? b->pg_version : "unknown (not in the meta file)");
	pitr_quote_fprintf(out, "    source:       %s\n",
			   b->source == NULL ? "unknown (not in the meta file)" :
			   strcmp(b->source, "standby") == 0 ? "standby (pitr-backup-slave)" :
			   strcmp(b->source, "primary") == 0 ? "primary (pitr-backup-master)" : b->source);
	text_chain(out, cat, b);
	pitr_quote_fprintf(out, "    files:        %s %s%s%s%s%s\n", b->meta_file, b->data_file,
			   b->xlog_file ? " " : " (no xlog file)", b->xlog_file ? b->xlog_file : "",
			   b->sig_file ? " " : "", b->sig_file ? b->sig_file : "");
	pitr_quote_fprintf(out, "    digests:     ");
	if (b->ndigests == 0)
		pitr_quote_fprintf(out, " none");
	for (size_t d = 0; d < b->ndigests; d++)
		pitr_quote_fprintf(out, " %s (%s)", b->digests[d].algorithm, b->digests[d].file);
	pitr_quote_fprintf(out, "\n");
	pitr_info_reach_of(cat, b, &r);
	if (r.lsn == 0)
		pitr_quote_fprintf(out, "    recoverable:  no (timeline %" PRIu32 ")\n", r.tli);
	else
		pitr_quote_fprintf(out, "    recoverable:  to LSN %s, %s (timeline %" PRIu32 ")\n",
				   pitr_info_fmt_lsn(r.lsn, l,
						     sizeof(l)), pitr_info_fmt_time(r.epoch, t,
										    sizeof(t)), r.tli);
}

static void
text_timeline(FILE *out, const struct pitr_catalog *cat, const struct pitr_catalog_timeline *t)
{
	char a[PITR_WAL_NAME_MAX], z[PITR_WAL_NAME_MAX], l[32], st[32];

	pitr_quote_fprintf(out, "  timeline %" PRIu32, t->tli);
	if (t->has_history && t->nancestry > 0)
		pitr_quote_fprintf(out, " (from timeline %" PRIu32 " at %s)",
				   t->ancestry[t->nancestry - 1].tli,
				   pitr_info_fmt_lsn(t->ancestry[t->nancestry - 1].end, l,
						     sizeof(l)));
	else if (t->tli > 1)
		pitr_quote_fprintf(out, " (no history file)");
	if (t->nsegments == 0) {
		pitr_quote_fprintf(out, ": no segments, %s stored\n",
				   pitr_info_fmt_size(t->stored_size, st, sizeof(st)));
		return;
	}
	pitr_quote_fprintf(out, ": %s to %s, %zu segment%s, %zu gap%s, %s stored\n",
			   pitr_info_fmt_seg(t->tli, t->first, cat->segsize, a),
			   pitr_info_fmt_seg(t->tli, t->last, cat->segsize,
					     z), t->nsegments, t->nsegments == 1 ? "" : "s",
			   t->ngaps, t->ngaps == 1 ? "" : "s", pitr_info_fmt_size(t->stored_size,
										  st, sizeof(st)));
	for (size_t g = 0; g < t->ngaps; g++) {
		const struct pitr_catalog_gap *gap = &t->gaps[g];

		if (gap->first == gap->last)
			pitr_quote_fprintf(out, "    missing %s\n", pitr_info_fmt_seg(t->tli,
										      gap->first, cat->segsize, a));
		else
			pitr_quote_fprintf(out, "    missing %s to %s (%" PRIu64 " segments)\n",
					   pitr_info_fmt_seg(t->tli, gap->first, cat->segsize, a),
					   pitr_info_fmt_seg(t->tli, gap->last, cat->segsize,
							     z), gap->last - gap->first + 1);
	}
}

/* The archive `adir` as `cat` (holding it alone, or the union) sees it. */
void
pitr_info_text_archive(FILE *out, const char *adir, const struct pitr_catalog *cat)
{
	size_t segs = pitr_info_count_segments(cat);
	char st[32];

	pitr_quote_fprintf(out, "Archive %s: %zu file%s, %zu segment%s", adir, cat->nfiles,
			   cat->nfiles == 1 ? "" : "s", segs, segs == 1 ? "" : "s");
	if (cat->segsize != 0)
		pitr_quote_fprintf(out, " of %" PRIu32 " bytes", cat->segsize);
	pitr_quote_fprintf(out, ", %s stored\n",
			   pitr_info_fmt_size(pitr_info_archive_stored(cat), st, sizeof(st)));
	for (size_t i = 0; i < cat->ntimelines; i++)
		text_timeline(out, cat, &cat->timelines[i]);
}

/* Backups being written now, then files a killed run left without meta. */
void
pitr_info_text_unfinished(FILE *out, const struct pitr_catalog *cat)
{
	char sz[32];

	pitr_quote_fprintf(out, "Backups in progress: %zu\n", cat->nin_progress);
	for (size_t i = 0; i < cat->nin_progress; i++) {
		const struct pitr_catalog_progress *p = &cat->in_progress[i];

		pitr_quote_fprintf(out,
				   "  %s in %s: %zu file%s at temporary names, %s written so far\n",
				   p->name, cat->backup_dirs[p->dir], p->nfiles, p->nfiles == 1 ? "" : "s",
				   pitr_info_fmt_size(p->bytes, sz, sizeof(sz)));
		for (size_t f = 0; f < p->nfiles; f++)
			pitr_quote_fprintf(out, "    %s\n", p->files[f]);
	}
	pitr_quote_fprintf(out, "Orphaned files: %zu\n", cat->norphans);
	for (size_t i = 0; i < cat->norphans; i++) {
		const char *dir = cat->backup_dirs[cat->orphan_dirs[i]];

		pitr_quote_fprintf(out, "  %s/%s (%s)\n", dir, cat->orphans[i],
				   pitr_info_fmt_size(pitr_info_file_size(dir, cat->orphans[i]),
						      sz, sizeof(sz)));
	}
}

void
pitr_info_text_report(FILE *out, const struct pitr_info_opts *opts, const char *bdir,
		      const char *adir,
		      const struct pitr_catalog *cat)
{
	if (opts->nbackup_dirs > 0) {
		pitr_quote_fprintf(out, "Backups in %s: %zu\n", bdir, cat->nbackups);
		for (size_t i = 0; i < cat->nbackups; i++)
			pitr_info_text_backup(out, cat, &cat->backups[i]);
		pitr_info_text_unfinished(out, cat);
	}
	if (opts->narchives > 0)
		pitr_info_text_archive(out, adir, cat);
	pitr_info_text_window_problems(out, cat);
}

/* The window, then the problems: the end of every text report. */
void
pitr_info_text_window_problems(FILE *out, const struct pitr_catalog *cat)
{
	struct pitr_info_window w;
	char t1[64], t2[64], l1[32], l2[32];

	pitr_info_window(cat, &w);
	if (w.backup == NULL)
		pitr_quote_fprintf(out, "Recoverable window: none (no backup to recover from)\n");
	else
		pitr_quote_fprintf(out,
				   "Recoverable window on timeline %" PRIu32 ": from %s (LSN %s, end of backup "
				   "%s) to %s (LSN %s)\n", w.tli, pitr_info_fmt_time(w.start_epoch, t1, sizeof(t1)),
				   pitr_info_fmt_lsn(w.start_lsn, l1, sizeof(l1)), w.backup->name,
				   pitr_info_fmt_time(w.end_epoch, t2,
						      sizeof(t2)), pitr_info_fmt_lsn(w.end_lsn,
										     l2, sizeof(l2)));
	pitr_quote_fprintf(out, "Problems: %zu\n", cat->nproblems);
	for (size_t i = 0; i < cat->nproblems; i++)
		pitr_quote_fprintf(out, "  %s\n", cat->problems[i]);
}
