/*
 * orphan.c - -f templates as strftime(3) formats (template.c matches and
 * expands names with them), the catalog's loose rule for files without
 * meta, the fate of an object store's orphans, the backup dir's lock
 * (orphan.h).  What is removed as an orphan is decided by the runs'
 * journals (orphan_journal.c) or an object's mark, never by a name.
 */
#include "config.h"

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

enum pitr_orphan_fate
pitr_orphan_object_fate(bool marked, time_t mtime, time_t now, int min_age)
{
	if (!marked)
		return PITR_ORPHAN_FOREIGN;
	if (min_age >= 0 && now - mtime < min_age)
		return PITR_ORPHAN_YOUNG;
	return PITR_ORPHAN_REMOVE;
}

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

/* ---- the catalog's loose rule and the backup dir's lock ---- */

/* The words -f's __FILETYPE__ gives a backup's files other than its meta. */
static const char *const orphan_words[] = {
	"data", "xlog", "sig", "MD5", "SHA-1", "SHA-224", "SHA-256", "SHA-384", "SHA-512",
};

/* Whether the meta file `name`'s occurrence of `word` at `at` stands for
 * exists: the same name with "meta" there, with the same extension, or,
 * for a digest file (plain text), with any codec's. */
static bool
meta_beside(pitr_orphan_exists_fn exists, void *ctx, const char *name, size_t at, size_t wlen,
	    bool digest)
{
	bool found = false;

	for (int c = 0; c < (digest ? PITR_CODEC_COUNT : 1) && !found; c++) {
		char *meta = pitr_xasprintf("%.*smeta%s%s", (int)at, name, name + at + wlen,
					    digest ? pitr_codec_ext((enum pitr_codec)c) : "");

		found = meta != NULL && exists(ctx, meta);
		free(meta);
	}
	return found;
}

bool
pitr_orphan_loose_by(pitr_orphan_exists_fn exists, void *ctx, const char *name)
{
	bool named = false;

	/* ".tar" keeps foreign files ("metadata.txt", "notes-data") out:
	 * what is called an orphan here, pitr-backup-cleanup removes. */
	if (name[0] == '.' || strstr(name, PITR_FSUTIL_TMP_PREFIX) != NULL ||
	    strstr(name, ".tar") == NULL || !exists(ctx, name))
		return false;
	for (size_t w = 0; w < sizeof(orphan_words) / sizeof(orphan_words[0]); w++) {
		size_t wlen = strlen(orphan_words[w]);

		for (const char *p = strstr(name, orphan_words[w]); p != NULL; p = strstr(p + 1, orphan_words[w])) {
			named = true;
			if (meta_beside(exists, ctx, name, (size_t)(p - name), wlen, w >= 2))
				return false;
		}
	}
	return named;
}

static bool
regular_in_dir(void *dir, const char *name)
{
	return is_regular_in(dir, name, true);
}

bool
pitr_orphan_loose(const char *dir, const char *name)
{
	return pitr_orphan_loose_by(regular_in_dir, (void *)dir, name);
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
