/*
 * orphan.c - which files in a backup directory are a backup's files
 * without their meta file (orphan.h).  pitr-backup-cleanup and a backup
 * run remove them, so a name counts only when the -f template gives it
 * exactly: "metadata.tar.gz" or an operator's "db1-data-2026-11-01-keep.tar.gz"
 * never does.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/orphan.h"
#include "compress/codec.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

#define FORMAT_MAX 1024
/* More conversions than any template has; a template with more never
 * matches (nothing is removed). */
#define MAX_CONVERSIONS 64

struct captures {
	const char *text[MAX_CONVERSIONS];
	size_t len[MAX_CONVERSIONS];
};

/* The file types other than meta (digest names as digest.h spells them). */
static const char *const orphan_types[] = {
	"data", "xlog", "MD5", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512",
};

int
pitr_orphan_template_format(const char *tmpl, const char *hostname, const char *filetype,
			    const char *cext, char *fmt, size_t size)
{
	static const char *const keys[] = { "__HOSTNAME__", "__FILETYPE__", "__CEXT__" };
	const char *vals[] = { hostname != NULL ? hostname : "%@", filetype, cext };
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0';) {
		const char *add = NULL;
		size_t skip = 1;
		bool is_value = false;

		for (size_t k = 0; k < 3; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				add = vals[k];
				skip = strlen(keys[k]);
				is_value = k != 0 || hostname != NULL;
			}
		if (add == NULL) {
			static const char one[2][3] = { "%", "%%" };

			if (*p == '^')
				add = one[0];
			else if (*p == '%')
				add = one[1];  /* a literal '%' of the template */
		}
		if (add == NULL) {
			if (n + 1 >= size)
				return -1;
			fmt[n++] = *p;
		} else {
			for (const char *v = add; *v != '\0'; v++) {
				if (n + 2 >= size)
					return -1;
				/* A '%' inside a value (a host name) is literal. */
				if (is_value && *v == '%')
					fmt[n++] = '%';
				fmt[n++] = *v;
			}
		}
		p += skip;
	}
	fmt[n] = '\0';
	return 0;
}

size_t
pitr_orphan_conversion_len(const char *p)
{
	size_t n = strspn(p, "_-0^#");

	n += strspn(p + n, "0123456789");
	if (p[n] == 'E' || p[n] == 'O')
		n++;
	return p[n] == '\0' ? n : n + 1;
}

/* How many digits the conversion `conv` (after its '%', `len` long)
 * always gives in the C and every usual locale, or 0 when that is not
 * known (flags, width, modifier, text or variable-width conversions). */
static size_t
conversion_digits(const char *conv, size_t len)
{
	if (len != 1)
		return 0;
	switch (conv[0]) {
	case 'Y': case 'G':
		return 4;
	case 'j':
		return 3;
	case 'm': case 'd': case 'H': case 'M': case 'S': case 'y': case 'C': case 'I':
	case 'U': case 'W': case 'V': case 'g': case 'e': case 'k': case 'l':
		return 2;
	case 'u': case 'w':
		return 1;
	default:
		return 0;
	}
}

/* Whether `s` is what format `f` gives (from conversion number `k` on),
 * recording each conversion's text in `caps`. */
static bool
match_at(const char *f, const char *s, struct captures *caps, size_t k)
{
	size_t cl, nd;

	if (*f == '\0')
		return *s == '\0';
	if (f[0] != '%' || f[1] == '%') {
		f += f[0] == '%';
		return *f == *s && match_at(f + 1, s + 1, caps, k);
	}
	if (k >= MAX_CONVERSIONS)
		return false;
	cl = pitr_orphan_conversion_len(f + 1);
	nd = conversion_digits(f + 1, cl);
	caps->text[k] = s;
	if (nd > 0) {
		/* ^e ^k ^l pad with a space. */
		bool space = strchr("ekl", f[1]) != NULL;

		for (size_t i = 0; i < nd; i++)
			if (!isdigit((unsigned char)s[i]) && !(space && i == 0 && s[i] == ' '))
				return false;
		caps->len[k] = nd;
		return match_at(f + 1 + cl, s + nd, caps, k + 1);
	}
	for (size_t l = 0;; l++) {
		caps->len[k] = l;
		if (match_at(f + 1 + cl, s + l, caps, k + 1))
			return true;
		if (s[l] == '\0')
			return false;
	}
}

/* The name format `f` gives with the conversions' texts `caps`: what
 * the matched file's meta file is called.  NULL when out of memory or
 * too long. */
static char *
rebuild(const char *f, const struct captures *caps)
{
	char out[FORMAT_MAX];
	size_t n = 0, k = 0;

	while (*f != '\0') {
		const char *add = f;
		size_t len = 1;

		if (f[0] == '%' && f[1] != '%') {
			size_t cl = pitr_orphan_conversion_len(f + 1);

			if (k >= MAX_CONVERSIONS)
				return NULL;
			add = caps->text[k];
			len = caps->len[k++];
			f += 1 + cl;
		} else {
			f += f[0] == '%' ? 2 : 1;
			add = f - 1;
		}
		if (n + len >= sizeof(out))
			return NULL;
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
	return pitr_xstrdup(out);
}

/* Whether dir/name is a regular file, through a symbolic link when
 * `follow`. */
static bool
is_regular_in(const char *dir, const char *name, bool follow)
{
	struct stat st;
	char *path = pitr_fsutil_join(dir, name);
	bool yes = path != NULL && (follow ? stat(path, &st) : lstat(path, &st)) == 0 &&
		   S_ISREG(st.st_mode);

	free(path);
	return yes;
}

/* Whether `name` is `tmpl`'s file of `type` with extension `cext`
 * (known: true) and its meta file, with meta extension `mext` (any
 * codec's when NULL), is in `dir` (*has_meta). */
static bool
match_type(const char *tmpl, const char *hostname, const char *dir, const char *name,
	   const char *type, const char *cext, bool *has_meta)
{
	char fmt[FORMAT_MAX], mfmt[FORMAT_MAX];
	struct captures caps;
	bool digest = strcmp(type, "data") != 0 && strcmp(type, "xlog") != 0;

	if (pitr_orphan_template_format(tmpl, hostname, type, cext, fmt, sizeof(fmt)) != 0 ||
	    !match_at(fmt, name, &caps, 0))
		return false;
	*has_meta = true;  /* unknown counts as present: nothing is removed */
	for (int c = 0; c < PITR_CODEC_COUNT; c++) {
		const char *mext = digest ? pitr_codec_ext((enum pitr_codec)c) : cext;
		char *meta;

		if (pitr_orphan_template_format(tmpl, hostname, "meta", mext, mfmt,
						sizeof(mfmt)) != 0 || (meta = rebuild(mfmt, &caps)) == NULL)
			return true;
		*has_meta = is_regular_in(dir, meta, false);
		free(meta);
		if (*has_meta || !digest)
			break;
	}
	return true;
}

bool
pitr_orphan_check(const char *tmpl, const char *hostname, const char *dir, const char *name)
{
	bool named = false;

	if (!is_regular_in(dir, name, false))
		return false;
	/* A digest file carries any codec's extension too (OmniPITR's names,
	 * pitrkit's since issue 11), or none (pitrkit's before). */
	for (size_t t = 0; t < sizeof(orphan_types) / sizeof(orphan_types[0]); t++) {
		for (int c = 0; c < PITR_CODEC_COUNT; c++) {
			bool has_meta;

			if (!match_type(tmpl, hostname, dir, name, orphan_types[t],
					pitr_codec_ext((enum pitr_codec)c), &has_meta))
				continue;
			if (has_meta)
				return false;
			named = true;
		}
	}
	return named;
}

/* ---- the catalog's loose rule and the backup dir's lock ---- */

/* The words -f's __FILETYPE__ gives a backup's files other than its meta. */
static const char *const orphan_words[] = {
	"data", "xlog", "MD5", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512",
};

/* Whether the meta file `name`'s occurrence of `word` at `at` stands for
 * exists: the same name with "meta" there, with the same extension, or,
 * for a digest file (plain text), with any codec's. */
static bool
meta_beside(const char *dir, const char *name, size_t at, size_t wlen, bool digest)
{
	bool found = false;

	for (int c = 0; c < (digest ? PITR_CODEC_COUNT : 1) && !found; c++) {
		char *meta = pitr_xasprintf("%.*smeta%s%s", (int)at, name, name + at + wlen,
					    digest ? pitr_codec_ext((enum pitr_codec)c) : "");

		found = meta != NULL && is_regular_in(dir, meta, true);
		free(meta);
	}
	return found;
}

bool
pitr_orphan_loose(const char *dir, const char *name)
{
	bool named = false;

	/* ".tar" keeps foreign files ("metadata.txt", "notes-data") out:
	 * what is called an orphan here, pitr-backup-cleanup removes. */
	if (name[0] == '.' || strstr(name, PITR_FSUTIL_TMP_PREFIX) != NULL ||
	    strstr(name, ".tar") == NULL || !is_regular_in(dir, name, true))
		return false;
	for (size_t w = 0; w < sizeof(orphan_words) / sizeof(orphan_words[0]); w++) {
		size_t wlen = strlen(orphan_words[w]);

		for (const char *p = strstr(name, orphan_words[w]); p != NULL; p = strstr(p + 1, orphan_words[w])) {
			named = true;
			if (meta_beside(dir, name, (size_t)(p - name), wlen, w >= 2))
				return false;
		}
	}
	return named;
}

int
pitr_orphan_lock(const char *dir, bool exclusive)
{
	/* The directory itself, so no lock file sits among the backups. */
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	if (flock(fd, exclusive ? LOCK_EX | LOCK_NB : LOCK_SH) != 0) {
		int busy = errno == EWOULDBLOCK;

		if (!busy)
			pitr_log_error("could not lock directory \"%s\": %s", dir, strerror(errno));
		close(fd);
		return busy ? -2 : -1;
	}
	return fd;
}
