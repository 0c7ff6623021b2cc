/*
 * info_impl.h - what the files of pitr-info share: the reach of a
 * backup, the formatters, the text and JSON writers of each part of the
 * report (info.c, text.c, json.c, hosts.c).  Not installed.
 */
#ifndef PITR_CMD_INFO_IMPL_H
#define PITR_CMD_INFO_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "command/info/info.h"
#include "common/json.h"
#include "repo/catalog.h"

/* How far from a backup recovery can go: along the latest timeline that
 * descends from the backup's, through its xlog tarball and the archive. */
struct pitr_info_backup_reach {
	uint32_t tli;
	uint64_t lsn;      /* 0: not even the backup's end */
	time_t epoch;
};
void pitr_info_reach_of(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
			struct pitr_info_backup_reach *r);

/* A backup's chain as its dir holds it (issue 13): its links' labels,
 * the full backup first, and the bytes on disk of the backup and of every
 * link there; `missing` flags the links the dir lacks. */
struct pitr_info_chain {
	char **labels;
	size_t nlinks;
	bool *missing;
	size_t nmissing;
	uint64_t stored;
};
/* 0, or -1 after logging (memory): *c is then empty. */
int pitr_info_chain_of(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b,
		       struct pitr_info_chain *c);
void pitr_info_chain_free(struct pitr_info_chain *c);

/* The formatters return buf. */
const char *pitr_info_fmt_time(time_t t, char *buf, size_t size);
const char *pitr_info_fmt_lsn(uint64_t lsn, char *buf, size_t size);
const char *pitr_info_fmt_size(uint64_t bytes, char *buf, size_t size);
const char *pitr_info_fmt_seg(uint32_t tli, uint64_t segno, uint32_t segsize, char *buf);
size_t pitr_info_count_segments(const struct pitr_catalog *cat);
/* Bytes on disk of every file of the archive(s) cat read. */
uint64_t pitr_info_archive_stored(const struct pitr_catalog *cat);
/* Bytes on disk of dir/name; 0 when it cannot be read. */
uint64_t pitr_info_file_size(const char *dir, const char *name);

/* text.c */
void pitr_info_text_backup(FILE *out, const struct pitr_catalog *cat,
			   const struct pitr_catalog_backup *b);
void pitr_info_text_archive(FILE *out, const char *adir, const struct pitr_catalog *cat);
void pitr_info_text_window_problems(FILE *out, const struct pitr_catalog *cat);
void pitr_info_text_unfinished(FILE *out, const struct pitr_catalog *cat);
void pitr_info_text_report(FILE *out, const struct pitr_info_opts *opts, const char *bdir,
			   const char *adir, const struct pitr_catalog *cat);

/* json.c */
void pitr_info_jw_lsn(struct pitr_jw *j, const char *key, uint64_t lsn);
void pitr_info_jw_time(struct pitr_jw *j, const char *key, time_t t);
void pitr_info_json_backup(struct pitr_jw *j, const struct pitr_catalog *cat,
			   const struct pitr_catalog_backup *b, const char *dir);
void pitr_info_json_timelines(struct pitr_jw *j, const struct pitr_catalog *cat);
void pitr_info_json_window(struct pitr_jw *j, const struct pitr_catalog *cat);
void pitr_info_json_problems(struct pitr_jw *j, const struct pitr_catalog *cat);
void pitr_info_json_unfinished(struct pitr_jw *j, const struct pitr_catalog *cat);
void pitr_info_json_report(FILE *out, const char *bdir, const char *adir,
			   const struct pitr_catalog *cat);

/* hosts.c: the report on several hosts; 1 when it was written but their
 * systems differ (logged), -1 after logging a failure. */
int pitr_info_report_hosts(FILE *out, const struct pitr_info_opts *opts,
			   const struct pitr_catalog *cat);

#endif
