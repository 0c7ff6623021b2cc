/*
 * harness.h - fixtures shared by the Check unit tests: a scratch directory
 * per test, file builders, WAL segment builders and log capture.
 */
#ifndef PITR_T_HARNESS_H
#define PITR_T_HARNESS_H

#include <check.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Create a fresh scratch directory (under $TMPDIR or /tmp) and chdir into
 * nothing: returns its path (static storage, valid until h_teardown()).
 * Also starts capturing log lines (see h_log()). */
const char *h_setup(void);

/* Remove the scratch directory recursively and stop log capture. */
void h_teardown(void);

/* The scratch directory of the running test. */
const char *h_dir(void);

/* A path inside the scratch directory (static ring of buffers, valid for
 * the next 8 calls). */
const char *h_path(const char *name);

/* Write `len` bytes to `path` (created or truncated, parents not made). */
void h_write_file(const char *path, const void *buf, size_t len);

/* Write in `dir` a dead backup run's journal (repo/orphan.h), named
 * ".pitr-journal.<tag>", of this host, naming `meta` and recording the
 * files that follow, up to a NULL, by their inodes (those absent are not
 * recorded): what a run killed before its meta was published left. */
void h_put_journal(const char *dir, const char *tag, const char *meta, ...);

/* The same, of another host `host`: a run whose lock this host may not
 * see (a backup dir shared over NFS). */
void h_put_journal_of(const char *dir, const char *tag, const char *host, const char *meta, ...);

/* Replace `path` by a new file (another inode) holding `text`, as
 * another program writing that name does. */
void h_replace_file(const char *path, const char *text);

/* A codec sink (pitr_codec_sink_fn) writing to the fd `ctx` points to. */
int h_fd_sink(void *ctx, const void *buf, size_t len);

/* Write `len` bytes to `path` compressed with `codec` (a value of enum
 * pitr_codec; PITR_CODEC_NONE writes them as they are) by our codec
 * writer at its default level; fails the test on any error. */
void h_write_compressed(const char *path, int codec, const void *buf, size_t len);

/* A formatted string, valid for the next 15 calls (a ring of buffers, as
 * h_path's). */
const char *h_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Read a whole file; returns a malloc'd buffer (NUL-terminated) and its
 * length in *len; fails the test if unreadable. */
char *h_read_file(const char *path, size_t *len);

/* True if path exists. */
int h_exists(const char *path);

/* Number of directory entries (without . and ..). */
int h_count_entries(const char *dir);

/*
 * Build an in-memory WAL segment of `segsize` bytes whose first page carries
 * a valid long header (PostgreSQL 15 magic 0xD110) for timeline `tli`,
 * segment number `segno`, system identifier `sysid`, block size 8192; the
 * rest is pseudo-random but deterministic for `seed` (compressible about
 * 2:1, like real WAL).  Returns a malloc'd buffer.
 */
unsigned char *h_make_segment(uint32_t segsize, uint32_t tli, uint64_t segno, uint64_t sysid,
			      unsigned seed);

/* h_make_segment() written to dir/<its name>; returns the path (static). */
const char *h_write_segment(const char *dir, uint32_t segsize, uint32_t tli, uint64_t segno,
			    uint64_t sysid);

/* Everything logged since h_setup() ("LEVEL : message\n" lines). */
const char *h_log(void);

/* Forget captured lines. */
void h_log_reset(void);

/* Run a suite and return the process exit status: 0 when all passed. */
int h_run_suite(Suite *s);

#endif
