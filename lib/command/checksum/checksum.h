/*
 * checksum.h - pitr-checksum: the digest of standard input in the line
 * format OmniPITR's omnipitr-checksum printed, "HEX *FILENAME\n" (what
 * `sha256sum -b` writes and `sha256sum -c` reads), which is also the line
 * pitr-backup-master/slave write to their digest files.
 */
#ifndef PITR_CMD_CHECKSUM_H
#define PITR_CMD_CHECKSUM_H

#include <stdbool.h>
#include <stdio.h>

/* OmniPITR's defaults: MD5, and this name when -f is not given. */
#define PITR_CHECKSUM_DEFAULT_DIGEST "MD5"
#define PITR_CHECKSUM_DEFAULT_FILENAME "<stdin>"

struct pitr_checksum_opts {
	const char *digest;    /* -d NAME; NULL or "": MD5 */
	const char *filename;  /* -f NAME; NULL or "": "<stdin>" */
	bool list;             /* -l: list the digests instead */
	int in;                /* what is digested (standard input) */
	FILE *out;             /* where the line goes (standard output) */
};

/*
 * The canonical digest name (digest/digest.h) of -d `name`, also
 * accepting "SHA", which OmniPITR's --list showed (Perl's Digest::SHA
 * module) and Digest->new("SHA") made SHA-1.  NULL when unknown (nothing
 * logged).
 */
const char *pitr_checksum_digest_name(const char *name);

/* OmniPITR's --list: "Available digests:\n" then "- NAME\n" for each
 * digest -d takes, in sorted order.  Returns 0, or -1 after logging a
 * write error. */
int pitr_checksum_list(FILE *out);

/*
 * Digest everything readable from `opts->in` with `opts->digest` and
 * write its line to `opts->out` (or, with `opts->list`, the list).
 * Returns 0, or -1 after logging one error: an unknown digest (before
 * anything is read), a read or a write error.
 */
int pitr_cmd_checksum(const struct pitr_checksum_opts *opts);

#endif
