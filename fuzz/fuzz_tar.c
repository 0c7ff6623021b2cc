/*
 * fuzz_tar.c - tarball member names (tar/tarread): pitr-recover extracts
 * backup tarballs that may have been damaged or crafted, and the member
 * name check is what keeps them inside the target.
 *
 * The input's first byte picks the mode: 'R' takes the rest as the tar
 * itself (libarchive's parser, then the checks); anything else builds a
 * well-formed tar (pax, so names of any length) from lines "TNAME\tLINK":
 * T is the member type ('d' directory, 's' symbolic link, 'h' hard link,
 * else a file), LINK a link's target.  Checksums are right, so every
 * mutation of a name reaches the check.  The second byte's low bit allows
 * symbolic links, as pitr-recover does for pg_tblspc.
 *
 * Extraction goes into DIR/in, where DIR is a fresh directory; DIR/out
 * stands beside it.  Whatever the input: the map is only ever asked about
 * relative names without a ".." component, and nothing appears in DIR/out.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "fuzz.h"
#include "tar/tarread.h"

#define MAX_MEMBERS 64
#define MEMBER_MAX 1024

static char root[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX - 64];

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	snprintf(dir, sizeof(dir), "%s/pitr-fuzz-tar-%ld", tmp && *tmp ? tmp : "/tmp",
		 (long)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		fuzz_fail("could not make the scratch dir", dir);
	/* SECURE_SYMLINKS checks every component: a resolved path. */
	if (realpath(dir, root) == NULL)
		fuzz_fail("could not resolve the scratch dir", dir);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		fuzz_fail("could not clean the scratch dir", path);
	return 0;
}

/* Members may carry mode 0: make every directory enterable first. */
static int
chmod_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		(void)chmod(path, 0700);
	(void)st;
	return 0;
}

static void
clean(const char *dir)
{
	nftw(dir, chmod_entry, 16, FTW_PHYS);
	nftw(dir, chmod_entry, 16, FTW_PHYS);   /* those just made readable */
	nftw(dir, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
}

static bool
unsafe(const char *m)
{
	if (m[0] == '\0' || m[0] == '/')
		return true;
	for (const char *p = m; *p != '\0';) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += len + (p[len] == '/');
	}
	return false;
}

static char *
map(void *ctx, const char *member, bool *skip)
{
	char *dest;

	(void)ctx;
	*skip = false;
	if (unsafe(member))
		fuzz_fail("the map was asked about an unsafe member", member);
	/* A deeper tree than PATH_MAX could not be removed by path after each
	 * input (nor by pitr-recover's clean-up, a known limit): left out. */
	if (strlen(member) > MEMBER_MAX) {
		*skip = true;
		return NULL;
	}
	if (asprintf(&dest, "%s/in/%s", root, member) < 0)
		abort();
	return dest;
}

static void
add_member(struct archive *a, char *line)
{
	struct archive_entry *e = archive_entry_new();
	char type = line[0];
	char *name = line + (line[0] != '\0'), *link = strchr(name, '\t');

	if (link != NULL)
		*link++ = '\0';
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, (type == 'd' ? AE_IFDIR : type == 's' ? AE_IFLNK : AE_IFREG) |
				  0755);
	if (type == 's')
		archive_entry_set_symlink(e, link ? link : "");
	if (type == 'h')
		archive_entry_set_hardlink(e, link ? link : "");
	archive_entry_set_size(e, type == 'd' || type == 's' || type == 'h' ? 0 : 1);
	if (archive_write_header(a, e) == ARCHIVE_OK && archive_entry_size(e) == 1)
		archive_write_data(a, "x", 1);
	archive_entry_free(e);
}

/* A well-formed pax tar of the input's lines, in *out (malloc'd). */
static size_t
build_tar(const uint8_t *data, size_t size, void **out)
{
	size_t cap = 1024 * 1024 + size * 8, used = 0;
	char *text = fuzz_cstr(data, size), *save = NULL;
	struct archive *a = archive_write_new();
	int members = 0;

	*out = malloc(cap);
	if (a == NULL || *out == NULL || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_memory(a, *out, cap, &used) != ARCHIVE_OK)
		fuzz_fail("could not build a tar", archive_error_string(a));
	for (char *line = strtok_r(text, "\n", &save); line != NULL && members < MAX_MEMBERS;
	     line = strtok_r(NULL, "\n", &save), members++)
		add_member(a, line);
	archive_write_close(a);
	archive_write_free(a);
	free(text);
	return used;
}

static void
check_outside_empty(void)
{
	char out[PATH_MAX + 8];
	struct stat st;

	snprintf(out, sizeof(out), "%s/out", root);
	if (rmdir(out) != 0 || lstat(out, &st) == 0)
		fuzz_fail("something was written outside the target", out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[PATH_MAX + 8], out[PATH_MAX + 8];
	unsigned flags;
	const char *path;

	if (size < 2)
		return 0;
	flags = (data[1] & 1) ? PITR_TARREAD_ALLOW_SYMLINKS : 0;
	if (data[0] == 'R') {
		path = fuzz_file(data + 2, size - 2, ".tar");
	} else {
		void *tar;
		size_t len = build_tar(data + 2, size - 2, &tar);

		path = fuzz_file(tar, len, ".tar");
		free(tar);
	}
	snprintf(in, sizeof(in), "%s/in", root);
	snprintf(out, sizeof(out), "%s/out", root);
	if (mkdir(in, 0700) != 0 || mkdir(out, 0700) != 0)
		fuzz_fail("could not make the target dirs", root);
	(void)pitr_tarread_extract(path, PITR_CODEC_NONE, map, NULL, flags, NULL);
	(void)pitr_tarread_list(path, PITR_CODEC_NONE, NULL, NULL);
	check_outside_empty();
	clean(in);
	return 0;
}
