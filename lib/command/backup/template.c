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

char *
pitr_backup_expand_template(const char *tmpl, const char *hostname, const char *filetype,
			    const char *cext, long when)
{
	static const char *const keys[] = { "__HOSTNAME__", "__FILETYPE__", "__CEXT__" };
	const char *vals[] = { hostname, filetype, cext };
	char fmt[1024], out[1024];
	size_t n = 0;
	time_t t = (time_t)when;
	struct tm tm;

	for (const char *p = tmpl; *p != '\0';) {
		const char *add = NULL;
		size_t skip = 1;
		bool is_value = false;

		for (size_t k = 0; k < 3; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				add = vals[k];
				skip = strlen(keys[k]);
				is_value = true;
			}
		if (add == NULL) {
			static const char one[2][3] = { "%", "%%" };

			if (*p == '^')
				add = one[0];
			else if (*p == '%')
				add = one[1];  /* a literal '%' of the template */
		}
		if (add == NULL) {
			if (n + 1 >= sizeof(fmt))
				goto toolong;
			fmt[n++] = *p;
		} else {
			for (const char *v = add; *v != '\0'; v++) {
				if (n + 2 >= sizeof(fmt))
					goto toolong;
				/* A '%' inside a value (a host name) is literal. */
				if (is_value && *v == '%')
					fmt[n++] = '%';
				fmt[n++] = *v;
			}
		}
		p += skip;
	}
	fmt[n] = '\0';
	localtime_r(&t, &tm);
	out[0] = '\0';
	if (n > 0 && strftime(out, sizeof(out), fmt, &tm) == 0)
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
	static const char *const fixed[] = { "data", "xlog", "meta" };
	size_t nnames = 3 + ndigests;
	const char **types = NULL;
	char **names = pitr_xcalloc(nnames, sizeof(*names));
	int rc = -1;

	if (names == NULL || (types = pitr_xcalloc(nnames, sizeof(*types))) == NULL)
		goto out;
	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < nnames; i++) {
			types[i] = i < 3 ? fixed[i] : digests[i - 3];
			free(names[i]);
			names[i] = pitr_backup_expand_template(tmpl, hostname, types[i],
							      i < 3 ? cexts[c] : "", when);
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

char *
pitr_backup_template_glob(const char *tmpl, const char *hostname, const char *filetype,
			  const char *cext)
{
	static const char *const keys[] = { "__HOSTNAME__", "__FILETYPE__", "__CEXT__" };
	const char *vals[] = { hostname, filetype, cext };
	/* Each template byte gives at most two pattern bytes. */
	size_t size = strlen(tmpl) * 2 + (strlen(hostname) + strlen(filetype) + strlen(cext)) * 2 *
		(strlen(tmpl) / 8 + 1) + 1;
	char *out = pitr_xmalloc(size), *o = out;

	if (out == NULL)
		return NULL;
	for (const char *p = tmpl; *p != '\0';) {
		const char *lit = NULL;
		size_t skip = 1, litlen = 1;

		for (size_t k = 0; k < 3 && lit == NULL; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				lit = vals[k];
				litlen = strlen(vals[k]);
				skip = strlen(keys[k]);
			}
		if (lit == NULL && *p == '^') {
			/* A conversion, its E or O modifier included. */
			skip = p[1] == '\0' ? 1 : (p[1] == 'E' || p[1] == 'O') && p[2] != '\0' ? 3 : 2;
			if (o == out || o[-1] != '*' || (o - out >= 2 && o[-2] == '\\'))
				*o++ = '*';
			p += skip;
			continue;
		}
		if (lit == NULL)
			lit = p;
		for (size_t i = 0; i < litlen; i++) {
			if (strchr("*?[]\\", lit[i]) != NULL)
				*o++ = '\\';
			*o++ = lit[i];
		}
		p += skip;
	}
	*o = '\0';
	return out;
}
