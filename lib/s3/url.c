/*
 * url.c - s3://BUCKET/PREFIX/ locations: recognised and parsed here, in
 * libpitrkit, so that a program can refuse a bad one without loading the
 * S3 library.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/quote.h"
#include "common/xalloc.h"
#include "s3/s3.h"

bool
pitr_s3_is_url(const char *location)
{
	return location != NULL && strncmp(location, PITR_S3_SCHEME, strlen(PITR_S3_SCHEME)) == 0;
}

static bool
bucket_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

/* S3's bucket naming rules: 3 to 63 of [a-z0-9.-], beginning and ending
 * with a letter or digit.  NULL if `b` (of `len` bytes) follows them,
 * else why not. */
static const char *
bucket_problem(const char *b, size_t len)
{
	if (len == 0)
		return "no bucket";
	if (len < 3 || len > 63)
		return "a bucket name has 3 to 63 characters";
	for (size_t i = 0; i < len; i++)
		if (!bucket_char(b[i]))
			return "a bucket name has only lower-case letters, digits, '.' and '-'";
	if (b[0] == '.' || b[0] == '-' || b[len - 1] == '.' || b[len - 1] == '-')
		return "a bucket name begins and ends with a letter or a digit";
	return NULL;
}

/* NULL if the prefix `p` ("a/b", "a/b/" or "") is one pitrkit writes
 * under, else why not. */
static const char *
prefix_problem(const char *p)
{
	const char *seg = p;

	for (const char *c = p; *c != '\0'; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "control character";
	while (*seg != '\0') {
		size_t n = strcspn(seg, "/");

		if (n == 0)
			return "empty path segment";
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return "\".\" or \"..\" path segment";
		seg += n;
		if (*seg == '/')
			seg++;
	}
	return NULL;
}

int
pitr_s3_url_parse(const char *s, const char *what, struct pitr_s3_url *out)
{
	const char *rest, *slash, *problem;
	size_t blen, plen;

	memset(out, 0, sizeof(*out));
	if (!pitr_s3_is_url(s)) {
		char *shown = pitr_quote_text(s == NULL ? "" : s);

		pitr_log_error("%s: \"%s\" is not an s3:// location", what, shown ? shown : "");
		free(shown);
		return -1;
	}
	rest = s + strlen(PITR_S3_SCHEME);
	slash = strchr(rest, '/');
	blen = slash == NULL ? strlen(rest) : (size_t)(slash - rest);
	if ((problem = bucket_problem(rest, blen)) == NULL && slash != NULL)
		problem = prefix_problem(slash + 1);
	if (problem != NULL) {
		char *shown = pitr_quote_text(s);   /* a control character stays in the line */

		pitr_log_error("%s: invalid s3:// location \"%s\": %s", what, shown ? shown : "", problem);
		free(shown);
		return -1;
	}
	plen = slash == NULL ? 0 : strlen(slash + 1);
	if ((out->bucket = pitr_xstrndup(rest, blen)) == NULL)
		return -1;
	if (plen > 0 && slash[plen] != '/')
		out->prefix = pitr_xasprintf("%s/", slash + 1);
	else
		out->prefix = pitr_xstrdup(plen > 0 ? slash + 1 : "");
	if (out->prefix == NULL) {
		pitr_s3_url_free(out);
		return -1;
	}
	return 0;
}

void
pitr_s3_url_free(struct pitr_s3_url *url)
{
	if (url == NULL)
		return;
	free(url->bucket);
	free(url->prefix);
	url->bucket = url->prefix = NULL;
}
