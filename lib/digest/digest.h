/*
 * digest.h - message digests of backup files (OpenSSL's libcrypto, whose
 * SHA code uses the CPU's SHA extensions), and the `md5sum -c` /
 * `sha256sum -c` text files that carry them.
 *
 * Names are OmniPITR's --digest spellings: MD5, SHA-1, SHA-224, SHA-256,
 * SHA-384, SHA-512 (case-insensitive, the dash optional: "sha256" works).
 */
#ifndef PITR_DIGEST_H
#define PITR_DIGEST_H

#include <stddef.h>

/* Longest hex digest (SHA-512) plus the NUL. */
#define PITR_DIGEST_HEX_MAX 129

struct pitr_digest;

/* The canonical name ("SHA-256") of `name`, or NULL if it is no digest
 * pitrkit knows (nothing logged: the caller names the option). */
const char *pitr_digest_canonical(const char *name);

/* The canonical name of the i-th digest pitrkit knows, in byte order of
 * the names ("MD5", "SHA-1", ... "SHA-512"), or NULL past the last. */
const char *pitr_digest_nth(size_t i);

/* The coreutils program that checks this digest's files ("sha256sum"),
 * for messages and man pages. */
const char *pitr_digest_tool(const char *canonical);

/* A new running digest.  Returns NULL after logging. */
struct pitr_digest *pitr_digest_new(const char *name);

/* Feed bytes.  Returns 0, or -1 after logging. */
int pitr_digest_update(struct pitr_digest *d, const void *buf, size_t len);

/* Finish and write the lower-case hex digest to `hex`
 * (PITR_DIGEST_HEX_MAX bytes).  Returns 0, or -1 after logging. */
int pitr_digest_final(struct pitr_digest *d, char *hex);

/* Release; accepts NULL. */
void pitr_digest_free(struct pitr_digest *d);

/* The hex digest of a whole file.  Returns 0, or -1 after logging (a read
 * error names the file). */
int pitr_digest_file(const char *name, const char *path, char *hex);

/* The same of what descriptor `fd` gives until its end of file (left
 * open: an object's pipe is closed by its store, which says whether it
 * was whole), `what` naming it in messages. */
int pitr_digest_fd(const char *name, int fd, const char *what, char *hex);

/*
 * Format one line of a digest file, "HEX *FILENAME\n": what OmniPITR's
 * omnipitr-checksum printed and its backups wrote to their digest files,
 * and what `sha256sum --binary` writes (a name holding a backslash, a
 * newline or a CR escaped as coreutils does, the line then starting with
 * a backslash), so `sha256sum -c` reads it.  Returns a malloc'd string,
 * or NULL after logging ENOMEM.
 */
char *pitr_digest_line(const char *hex, const char *filename);

/*
 * Find `filename`'s digest in digest-file text (lines as above, or the
 * text-mode "HEX  NAME" of pitrkit's digest files before issue 11 and of
 * `sha256sum` without -b).  Returns 0 with `hex` filled
 * (PITR_DIGEST_HEX_MAX), 1 when the file is not listed, -1 when a line is
 * malformed (nothing logged: the caller names the digest file).
 */
int pitr_digest_lookup(const char *text, const char *filename, char *hex);

#endif
