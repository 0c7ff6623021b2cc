/*
 * template.c - the names of a backup's files: -f templates expanded for
 * each file type and codec, checked for clashes, and turned into patterns
 * that match them whatever the time; and the --digest names, which are
 * file types too (backup.h).
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "command/backup/backup.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "digest/digest.h"
#include "repo/orphan.h"

/* Room for a template's strftime format and for a file name. */
#define TEMPLATE_MAX 1024

char *
pitr_backup_expand_template(const char *tmpl, const char *hostname, const char *filetype,
			    const char *cext, long when)
{
	char fmt[TEMPLATE_MAX], out[TEMPLATE_MAX];
	time_t t = (time_t)when;
	struct tm tm;

	if (pitr_orphan_template_format(tmpl, hostname, filetype, cext, fmt, sizeof(fmt)) != 0)
		goto toolong;
	localtime_r(&t, &tm);
	out[0] = '\0';
	if (fmt[0] != '\0' && strftime(out, sizeof(out), fmt, &tm) == 0)
		goto toolong;
	if (out[0] == '\0' || strchr(out, '/') != NULL || strcmp(out, ".") == 0 ||
	    strcmp(out, "..") == 0) {
		pitr_log_error("filename template \"%s\" gives \"%s\" for the %s file: not a file name",
			       tmpl, out, filetype);
		return NULL;
	}
	return pitr_xstrdup(out);
toolong:
	pitr_log_error("filename template \"%s\" is too long", tmpl);
	return NULL;
}

int
pitr_backup_parse_digests(const char *list, const char **out)
{
	size_t n = 0;

	if (list == NULL)
		return 0;
	for (const char *p = list;;) {
		const char *end = strchr(p, ','), *canon;
		char name[64];
		size_t len;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			pitr_log_error("empty digest name in --digest \"%s\"", list);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		canon = len < sizeof(name) ? pitr_digest_canonical(name) : NULL;
		if (canon == NULL) {
			pitr_log_error("unknown digest \"%.*s\" in --digest \"%s\": expected MD5, SHA-1, "
				       "SHA-224, SHA-256, SHA-384 or SHA-512", (int)len, p, list);
			return -1;
		}
		for (size_t i = 0; i < n && canon != NULL; i++)
			if (out[i] == canon)
				canon = NULL;
		if (canon != NULL)
			out[n++] = canon;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return (int)n;
}

int
pitr_backup_check_template(const char *tmpl, const char *hostname, const char *const *cexts,
			   size_t n, const char *const *digests, size_t ndigests, long when)
{
	static const char *const fixed[] = { "data", "xlog", "sig", "meta" };
	size_t nnames = 4 + ndigests;
	const char **types = NULL;
	char **names = pitr_xcalloc(nnames, sizeof(*names));
	int rc = -1;

	if (names == NULL || (types = pitr_xcalloc(nnames, sizeof(*types))) == NULL)
		goto out;
	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < nnames; i++) {
			types[i] = i < 4 ? fixed[i] : digests[i - 4];
			free(names[i]);
			names[i] = pitr_backup_expand_template(tmpl, hostname, types[i],
							      cexts[c], when);
			if (names[i] == NULL)
				goto out;
			for (size_t j = 0; j < i; j++)
				if (strcmp(names[i], names[j]) == 0) {
					pitr_log_error("filename template \"%s\" gives \"%s\" for both the %s "
						       "and the %s file: it needs __FILETYPE__", tmpl,
						       names[i], types[j], types[i]);
					goto out;
				}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; names != NULL && i < nnames; i++)
		free(names[i]);
	free(names);
	free(types);
	return rc;
}

/* Made from the strftime format rather than the template, so that a
 * conversion is exactly what strftime will take as one (a flag or width
 * such as ^_H or ^10Y, a key's value right after a '^'). */
char *
pitr_backup_template_glob(const char *tmpl, const char *hostname, const char *filetype,
			  const char *cext)
{
	char fmt[TEMPLATE_MAX];
	/* Each format byte gives at most two pattern bytes. */
	char *out, *o;

	if (pitr_orphan_template_format(tmpl, hostname, filetype, cext, fmt, sizeof(fmt)) != 0) {
		pitr_log_error("filename template \"%s\" is too long", tmpl);
		return NULL;
	}
	if ((out = pitr_xmalloc(2 * strlen(fmt) + 1)) == NULL)
		return NULL;
	o = out;
	for (const char *p = fmt; *p != '\0';) {
		if (p[0] == '%' && p[1] != '%') {
			p += 1 + pitr_orphan_conversion_len(p + 1);
			if (o == out || o[-1] != '*' || (o - out >= 2 && o[-2] == '\\'))
				*o++ = '*';
			continue;
		}
		if (p[0] == '%')
			p++;     /* "%%" is one literal '%' */
		if (strchr("*?[]\\", *p) != NULL)
			*o++ = '\\';
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}
