/*
 * digest.c - message digests through OpenSSL's EVP interface, and the
 * coreutils digest-file line format.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "digest/digest.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"

#define DIGEST_READ_SIZE (256 * 1024)

struct digest_algo {
	const char *canonical;
	const char *tool;
	const EVP_MD *(*md)(void);
};

static const struct digest_algo algos[] = {
	{ "MD5", "md5sum", EVP_md5 },
	{ "SHA-1", "sha1sum", EVP_sha1 },
	{ "SHA-224", "sha224sum", EVP_sha224 },
	{ "SHA-256", "sha256sum", EVP_sha256 },
	{ "SHA-384", "sha384sum", EVP_sha384 },
	{ "SHA-512", "sha512sum", EVP_sha512 },
};

#define NALGOS (sizeof(algos) / sizeof(algos[0]))

struct pitr_digest {
	const struct digest_algo *algo;
	EVP_MD_CTX *ctx;
};

/* "sha256", "Sha-256" and "SHA-256" are one digest: compare without the
 * dash and without case. */
static const struct digest_algo *
find_algo(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < NALGOS; i++) {
		const char *a = algos[i].canonical, *b = name;

		while (*a != '\0' && *b != '\0') {
			if (*a == '-') {
				a++;
				if (*b == '-')
					b++;
				continue;
			}
			if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
				break;
			a++;
			b++;
		}
		if (*a == '\0' && *b == '\0')
			return &algos[i];
	}
	return NULL;
}

const char *
pitr_digest_canonical(const char *name)
{
	const struct digest_algo *a = find_algo(name);

	return a ? a->canonical : NULL;
}

const char *
pitr_digest_nth(size_t i)
{
	return i < NALGOS ? algos[i].canonical : NULL;
}

const char *
pitr_digest_tool(const char *canonical)
{
	const struct digest_algo *a = find_algo(canonical);

	return a ? a->tool : NULL;
}

/* OpenSSL's own reason, for the rare failure of an EVP call. */
static void
log_openssl(const char *what, const char *algo)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "unknown error");
	ERR_clear_error();
	pitr_log_error("%s digest %s failed: %s", algo, what, buf);
}

struct pitr_digest *
pitr_digest_new(const char *name)
{
	const struct digest_algo *a = find_algo(name);
	struct pitr_digest *d;

	if (a == NULL) {
		pitr_log_error("unknown digest \"%s\": expected MD5, SHA-1, SHA-224, SHA-256, SHA-384 "
			       "or SHA-512", name ? name : "");
		return NULL;
	}
	if ((d = pitr_xcalloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->algo = a;
	if ((d->ctx = pitr_xcheck(EVP_MD_CTX_new())) == NULL) {
		free(d);
		return NULL;
	}
	if (EVP_DigestInit_ex(d->ctx, a->md(), NULL) != 1) {
		log_openssl("initialisation", a->canonical);
		pitr_digest_free(d);
		return NULL;
	}
	return d;
}

int
pitr_digest_update(struct pitr_digest *d, const void *buf, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(d->ctx, buf, len) != 1) {
		log_openssl("update", d->algo->canonical);
		return -1;
	}
	return 0;
}

int
pitr_digest_final(struct pitr_digest *d, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1) {
		log_openssl("finalisation", d->algo->canonical);
		return -1;
	}
	for (unsigned int i = 0; i < n && 2 * i + 2 < PITR_DIGEST_HEX_MAX; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * n] = '\0';
	return 0;
}

void
pitr_digest_free(struct pitr_digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

int
pitr_digest_file(const char *name, const char *path, char *hex)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	rc = pitr_digest_fd(name, fd, path, hex);
	close(fd);
	return rc;
}

int
pitr_digest_fd(const char *name, int fd, const char *what, char *hex)
{
	struct pitr_digest *d = pitr_digest_new(name);
	unsigned char *buf = NULL;
	int rc = -1;

	if (d == NULL)
		return -1;
	if ((buf = pitr_xmalloc(DIGEST_READ_SIZE)) == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_io_read(fd, buf, DIGEST_READ_SIZE);

		if (n < 0) {
			pitr_log_error("could not read \"%s\": %s", what, strerror(errno));
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

/* coreutils escapes a name holding '\\', '\n' or '\r' and marks the line
 * with a leading backslash; `sha256sum -c` undoes it. */
static bool
needs_escape(const char *filename)
{
	return strpbrk(filename, "\\\n\r") != NULL;
}

char *
pitr_digest_line(const char *hex, const char *filename)
{
	bool esc = needs_escape(filename);
	size_t len = strlen(hex) + 2 * strlen(filename) + 5;
	char *line = pitr_xmalloc(len), *p;

	if (line == NULL)
		return NULL;
	p = line;
	if (esc)
		*p++ = '\\';
	p += sprintf(p, "%s *", hex);
	for (const char *f = filename; *f != '\0'; f++) {
		if (esc && (*f == '\\' || *f == '\n' || *f == '\r')) {
			*p++ = '\\';
			*p++ = *f == '\\' ? '\\' : *f == '\n' ? 'n' : 'r';
		} else {
			*p++ = *f;
		}
	}
	*p++ = '\n';
	*p = '\0';
	return line;
}

/* Lengths of the hex digests this module knows. */
static bool
valid_hex_len(size_t n)
{
	return n == 32 || n == 40 || n == 56 || n == 64 || n == 96 || n == 128;
}

/*
 * Parse one line [line, end) into its hex digest and (unescaped) name.
 * Returns 0, or -1 when malformed.
 */
static int
parse_line(const char *line, const char *end, char *hex, char *name, size_t namesize)
{
	const char *p = line;
	bool esc = false;
	size_t n = 0, o = 0;

	if (p < end && *p == '\\') {
		esc = true;
		p++;
	}
	while (p + n < end && isxdigit((unsigned char)p[n]))
		n++;
	if (!valid_hex_len(n))
		return -1;
	for (size_t i = 0; i < n; i++)
		hex[i] = (char)tolower((unsigned char)p[i]);
	hex[n] = '\0';
	p += n;
	/* "HEX  NAME" (text mode) or "HEX *NAME" (binary mode). */
	if (end - p < 3 || p[0] != ' ' || (p[1] != ' ' && p[1] != '*'))
		return -1;
	for (p += 2; p < end; p++) {
		char c = *p;

		if (esc && c == '\\') {
			if (++p == end)
				return -1;
			c = *p == '\\' ? '\\' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : 0;
			if (c == 0)
				return -1;
		}
		if (o + 1 >= namesize)
			return -1;
		name[o++] = c;
	}
	name[o] = '\0';
	return 0;
}

int
pitr_digest_lookup(const char *text, const char *filename, char *hex)
{
	size_t namesize = strlen(text) + 1;
	char *name = pitr_xmalloc(namesize);
	char linehex[PITR_DIGEST_HEX_MAX];
	int rc = 1;

	if (name == NULL)
		return -1;
	/* Every line is parsed, the match or not: a damaged digest file is
	 * reported as such even when the wanted line is intact. */
	for (const char *p = text; *p != '\0';) {
		const char *end = strchr(p, '\n');

		if (end == NULL)
			end = p + strlen(p);
		if (parse_line(p, end, linehex, name, namesize) != 0) {
			rc = -1;
			break;
		}
		if (rc == 1 && strcmp(name, filename) == 0) {
			memcpy(hex, linehex, strlen(linehex) + 1);
			rc = 0;
		}
		p = *end == '\n' ? end + 1 : end;
	}
	free(name);
	return rc;
}
