/*
 * checksum.c - pitr-checksum: OmniPITR's omnipitr-checksum, the digest of
 * standard input as one "HEX *FILENAME" line, through libcrypto
 * (digest/digest.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command/checksum/checksum.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "digest/digest.h"

#define CHECKSUM_READ_SIZE (256 * 1024)

const char *
pitr_checksum_digest_name(const char *name)
{
	if (name != NULL && strcasecmp(name, "SHA") == 0)
		return pitr_digest_canonical("SHA-1");
	return pitr_digest_canonical(name);
}

/* A write to standard output that failed (a closed pipe, a full disk)
 * must not look like a digest printed. */
static int
finish_output(FILE *out)
{
	if (fflush(out) != 0 || ferror(out)) {
		pitr_log_error("could not write to standard output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
pitr_checksum_list(FILE *out)
{
	const char *name;

	fputs("Available digests:\n", out);
	for (size_t i = 0; (name = pitr_digest_nth(i)) != NULL; i++)
		fprintf(out, "- %s\n", name);
	return finish_output(out);
}

/* The digest of all of `fd` into `hex`.  0, or -1 after logging. */
static int
digest_fd(const char *algorithm, int fd, char *hex)
{
	struct pitr_digest *d = pitr_digest_new(algorithm);
	unsigned char *buf = pitr_xmalloc(CHECKSUM_READ_SIZE);
	int rc = -1;

	if (d == NULL || buf == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_io_read(fd, buf, CHECKSUM_READ_SIZE);

		if (n < 0) {
			pitr_log_error("could not read standard input: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (pitr_digest_update(d, buf, (size_t)n) != 0)
			goto out;
	}
	rc = pitr_digest_final(d, hex);
out:
	free(buf);
	pitr_digest_free(d);
	return rc;
}

int
pitr_cmd_checksum(const struct pitr_checksum_opts *opts)
{
	/* An empty -d or -f is the default, as OmniPITR's "||" made it. */
	const char *asked = opts->digest && *opts->digest ? opts->digest :
		PITR_CHECKSUM_DEFAULT_DIGEST;
	const char *filename = opts->filename && *opts->filename ? opts->filename :
		PITR_CHECKSUM_DEFAULT_FILENAME;
	const char *algorithm = pitr_checksum_digest_name(asked);
	char hex[PITR_DIGEST_HEX_MAX];
	char *line;

	if (opts->list)
		return pitr_checksum_list(opts->out);
	if (algorithm == NULL) {
		pitr_log_error("unknown digest \"%s\": expected MD5, SHA-1, SHA-224, SHA-256, SHA-384 "
			       "or SHA-512 (--list shows them)", asked);
		return -1;
	}
	if (digest_fd(algorithm, opts->in, hex) != 0)
		return -1;
	line = pitr_digest_line(hex, filename);
	if (line == NULL)
		return -1;
	fputs(line, opts->out);
	free(line);
	return finish_output(opts->out);
}
