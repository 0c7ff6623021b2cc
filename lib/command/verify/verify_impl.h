/*
 * verify_impl.h - what the files of pitr-verify share: the run's state,
 * the problem lines, reading through stores, and the checks of
 * incremental backups' chains (verify.c, read.c, chain.c).  Not installed.
 */
#ifndef PITR_CMD_VERIFY_IMPL_H
#define PITR_CMD_VERIFY_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compress/codec.h"
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

/* The buffer run->buf holds: what one read of a file takes. */
#define VF_READ_SIZE (1u << 20)

/* One problem: "PROBLEM: KIND \"PATH\": REASON" (or into the JSON). */
void pitr_verify_problem(struct vf_run *run, const char *kind, const char *path, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

/* --json: the checks that follow are `type`'s of `target`. */
void pitr_verify_begin_check(struct vf_run *run, const char *type, const char *target,
			     const char *method);

/*
 * read.c: files and objects read through their store (repo/store.h),
 * `path` naming `name` of `st` in messages.
 *
 * pitr_verify_open: the descriptor of pitr_store_read_begin(), or -1
 * after logging (an entry gone since it was listed too).
 *
 * pitr_verify_read_whole: `name` read through `codec` to the end of its
 * stream, every decompressed byte handed to `fn` (may be NULL) and
 * counted in *total, into run->progress as stored bytes.  An object's
 * bytes count only once the store says they all came
 * (pitr_store_read_end): a GET cut short is the store's fault, not a
 * damaged stream.  pitr_verify_read_problem: the problem line for what it
 * returned.
 *
 * pitr_verify_read_text: `name` as plain text of at most `max` bytes: 0
 * with *text (malloc'd), 1 when there is none, -1 when it cannot be read
 * (logged).
 */
typedef void (*vf_consume_fn)(void *ctx, const unsigned char *buf, size_t len);

enum vf_read {
	VF_READ_OK,
	VF_READ_UNREADABLE,      /* open or read failed (logged) */
	VF_READ_INCOMPLETE,      /* the compressed stream is damaged or cut (logged) */
};

int pitr_verify_open(struct pitr_store *st, const char *name, const char *path);
enum vf_read pitr_verify_read_whole(struct vf_run *run, struct pitr_store *st, const char *name,
				    const char *path, enum pitr_codec codec, vf_consume_fn fn,
				    void *ctx, uint64_t *total);
void pitr_verify_read_problem(struct vf_run *run, const char *kind, const char *path,
			      enum pitr_codec codec, enum vf_read rc);
int pitr_verify_read_text(struct pitr_store *st, const char *name, const char *path, size_t max,
			  char **text);

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
