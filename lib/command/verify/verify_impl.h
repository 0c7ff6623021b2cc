/*
 * verify_impl.h - what the files of pitr-verify share: the run's state,
 * the problem lines, and the checks of incremental backups' chains
 * (verify.c, chain.c).  Not installed.
 */
#ifndef PITR_CMD_VERIFY_IMPL_H
#define PITR_CMD_VERIFY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "repo/catalog.h"
#include "repo/store.h"

struct pitr_verify_report;
struct pitr_progress;

struct vf_run {
	FILE *out;
	unsigned char *buf;
	size_t nproblems;
	size_t nsegments;
	bool have_sysid;         /* the system identifier everything must share */
	uint64_t sysid;
	char *sysid_from;        /* whose it is: "backup NAME", "archive file \"PATH\"" */
	struct pitr_verify_report *json;  /* --json: problems gathered here; NULL: text */
	struct pitr_progress *progress;  /* stored bytes and files read */
	uint64_t done_bytes, done_files;
};

/* One problem: "PROBLEM: KIND \"PATH\": REASON" (or into the JSON). */
void pitr_verify_problem(struct vf_run *run, const char *kind, const char *path, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

/* --json: the checks that follow are `type`'s of `target`. */
void pitr_verify_begin_check(struct vf_run *run, const char *type, const char *target,
			     const char *method);

/*
 * chain.c (issue 13).  pitr_verify_links: backup b (of cat, whose backup
 * dir is read through `st`) names a base and a chain that agree, and
 * every link of its chain is a backup of its dir.  pitr_verify_chains: every backup's sig file reads
 * and agrees with its meta file, every incremental's data tarball holds
 * exactly the chunk members its manifest lists, and every chain whose
 * links are all there composes.  Problems are printed; -1 after logging
 * only when the check could not go on (memory).
 */
int pitr_verify_links(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st,
		      const struct pitr_catalog_backup *b);
int pitr_verify_chains(struct vf_run *run, const struct pitr_catalog *cat, struct pitr_store *st);

#endif
