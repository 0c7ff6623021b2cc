/*
 * archdir.c - find, list and prune WAL files in a local archive directory
 * (see archdir.h).
 *
 * Line coverage: the allocation failures and readdir(3) errors are not
 * provoked by t/check_archdir.c.
 */
#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repo/archdir.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/xalloc.h"

int
pitr_archdir_find(const char *dir, const char *walname, enum pitr_codec preferred,
		  char **path, enum pitr_codec *codec, struct stat *st)
{
	struct stat sbuf;
	char *candidate = NULL;

	assert(dir != NULL && walname != NULL && path != NULL && codec != NULL);
	*path = NULL;
	for (int try_idx = -1; try_idx < PITR_CODEC_COUNT; try_idx++) {
		/* The preferred codec first, then the others in table order. */
		enum pitr_codec c = try_idx < 0 ? preferred : (enum pitr_codec)try_idx;

		if (try_idx >= 0 && c == preferred)
			continue;
		if ((candidate = pitr_xasprintf("%s/%s%s", dir, walname, pitr_codec_ext(c))) == NULL)
			return -1;
		if (stat(candidate, &sbuf) != 0) {
			if (errno != ENOENT) {
				pitr_log_error("could not stat \"%s\": %s", candidate, strerror(errno));
				free(candidate);
				return -1;
			}
			free(candidate);
			candidate = NULL;
			continue;
		}
		if (!S_ISREG(sbuf.st_mode)) {
			pitr_log_error("\"%s\" is not a regular file", candidate);
			free(candidate);
			return -1;
		}
		*path = candidate;
		*codec = c;
		if (st != NULL)
			*st = sbuf;
		return 1;
	}
	return 0;
}

int
pitr_archdir_parse_cutoff(const char *name, struct pitr_wal_name *out)
{
	char copy[PITR_WAL_NAME_MAX];
	enum pitr_wal_kind kind;

	assert(out != NULL);
	if (name == NULL || strlen(name) >= sizeof(copy))
		return -1;
	snprintf(copy, sizeof(copy), "%s", name);
	/* Timeline 0 exists only in %r before the first restartpoint. */
	if (strncmp(copy, "00000000", 8) == 0)
		copy[7] = '1';
	kind = pitr_wal_parse(copy, out);
	if (kind != PITR_WAL_SEGMENT && kind != PITR_WAL_PARTIAL && kind != PITR_WAL_BACKUP)
		return -1;
	out->kind = PITR_WAL_SEGMENT;
	out->offset = 0;
	return 0;
}

/* qsort order: position (timeline ignored), then file name, so that equal
 * positions on several timelines come out in a stable order. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct pitr_archdir_entry *ea = a, *eb = b;
	int pos = pitr_wal_cmp_position(&ea->name, &eb->name);

	return pos != 0 ? pos : strcmp(ea->file, eb->file);
}

void
pitr_archdir_sort(struct pitr_archdir_entry *entries, size_t n)
{
	if (n > 1)
		qsort(entries, n, sizeof(*entries), entry_cmp);
}

bool
pitr_archdir_parse_entry(const char *file, struct pitr_archdir_entry *e)
{
	char stem[PITR_WAL_NAME_MAX];
	size_t stem_len = 0;
	size_t file_len = strlen(file);
	enum pitr_codec codec = pitr_codec_from_filename(file, &stem_len);
	enum pitr_wal_kind kind;

	if (stem_len >= sizeof(stem) || file_len >= sizeof(e->file))
		return false;
	memcpy(stem, file, stem_len);
	stem[stem_len] = '\0';
	kind = pitr_wal_parse(stem, &e->name);
	if (kind != PITR_WAL_SEGMENT && kind != PITR_WAL_PARTIAL)
		return false;
	memcpy(e->file, file, file_len + 1);
	e->codec = codec;
	return true;
}

int
pitr_archdir_list_older(const char *dir, const struct pitr_wal_name *cutoff,
			struct pitr_archdir_entry **entries, size_t *n)
{
	struct pitr_archdir_entry *list = NULL;
	struct pitr_wal_name limit;
	size_t count = 0, cap = 0;
	struct dirent *de;
	DIR *dh = NULL;
	int rc = -1;

	assert(dir != NULL && cutoff != NULL && entries != NULL && n != NULL);
	assert(cutoff->kind == PITR_WAL_SEGMENT || cutoff->kind == PITR_WAL_PARTIAL ||
	       cutoff->kind == PITR_WAL_BACKUP);
	*entries = NULL;
	*n = 0;
	/* Only the cutoff's position counts: as a plain segment it sorts
	 * before its own .partial and .backup, which are therefore kept. */
	limit = *cutoff;
	limit.kind = PITR_WAL_SEGMENT;
	limit.offset = 0;

	dh = opendir(dir);
	if (dh == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		goto out;
	}
	for (;;) {
		struct pitr_archdir_entry e;

		errno = 0;
		de = readdir(dh);
		if (de == NULL) {
			if (errno != 0) {
				pitr_log_error("could not read directory \"%s\": %s", dir,
					       strerror(errno));
				goto out;
			}
			break;
		}
		if (!pitr_archdir_parse_entry(de->d_name, &e) ||
		    pitr_wal_cmp_position(&e.name, &limit) >= 0)
			continue;
		if (count == cap) {
			size_t newcap = cap > 0 ? cap * 2 : 64;
			struct pitr_archdir_entry *grown;

			grown = pitr_xreallocarray(list, newcap, sizeof(*grown));

			if (grown == NULL)
				goto out;
			list = grown;
			cap = newcap;
		}
		list[count++] = e;
	}
	pitr_archdir_sort(list, count);
	*entries = count > 0 ? list : NULL;
	*n = count;
	if (count > 0)
		list = NULL;
	rc = 0;
out:
	free(list);
	if (dh != NULL)
		closedir(dh);
	return rc;
}

int
pitr_archdir_remove_older(const char *dir, const struct pitr_wal_name *cutoff, size_t limit,
			  pitr_archdir_hook_fn hook, void *ctx, size_t *removed)
{
	struct pitr_archdir_entry *entries = NULL;
	size_t n = 0, done = 0;
	char *path = NULL;
	int rc = -1;

	if (removed != NULL)
		*removed = 0;
	if (pitr_archdir_list_older(dir, cutoff, &entries, &n) != 0)
		goto out;
	if (limit > 0 && n > limit)
		n = limit;
	for (size_t entry_idx = 0; entry_idx < n; entry_idx++) {
		if (hook != NULL && hook(ctx, dir, &entries[entry_idx]) != 0)
			goto out;
		if ((path = pitr_fsutil_join(dir, entries[entry_idx].file)) == NULL)
			goto out;
		if (unlink(path) != 0 && errno != ENOENT) {
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
			goto out;
		}
		pitr_log_verbose("removed \"%s\"", path);
		free(path);
		path = NULL;
		done++;
	}
	rc = 0;
out:
	if (removed != NULL)
		*removed = done;
	free(path);
	free(entries);
	return rc;
}

#define COPY_READ_SIZE (256 * 1024)

/* Decompress all of `fd`: the first PITR_WALHDR_SIZE bytes go to `head`,
 * the length to *len.  0, or -1 with the reason in `why`. */
static int
read_stream(int fd, enum pitr_codec codec, const char *path, unsigned char *head,
	    uint64_t *len, char *why, size_t why_size)
{
	struct pitr_codec_reader *r = pitr_codec_reader_new_quiet(codec, fd, path, why, why_size);
	unsigned char *buf = pitr_xmalloc(COPY_READ_SIZE);
	int rc = -1;

	*len = 0;
	if (r == NULL || buf == NULL)
		goto out;
	for (;;) {
		ssize_t n = pitr_codec_reader_read(r, buf, COPY_READ_SIZE);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (*len < PITR_WALHDR_SIZE) {
			size_t take = PITR_WALHDR_SIZE - (size_t)*len;

			memcpy(head + *len, buf, (size_t)n < take ? (size_t)n : take);
		}
		*len += (uint64_t)n;
	}
	rc = 0;
out:
	pitr_codec_reader_free(r);
	free(buf);
	return rc;
}

int
pitr_archdir_check_copy(const char *path, enum pitr_codec codec,
			const struct pitr_wal_name *name, struct pitr_walhdr *hdr, bool *has_hdr)
{
	unsigned char head[PITR_WALHDR_SIZE];
	char why[256] = "";
	uint64_t len;
	int fd;
	int rc;

	*has_hdr = false;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	rc = read_stream(fd, codec, path, head, &len, why, sizeof(why));
	close(fd);
	if (rc != 0) {
		pitr_log_error("could not read \"%s\" as %s: %s", path, pitr_codec_name(codec),
			       why[0] != '\0' ? why : "unknown error");
		return -1;
	}
	if (name->kind != PITR_WAL_SEGMENT && name->kind != PITR_WAL_PARTIAL) {
		if (len > 0)
			return 0;
		pitr_log_error("\"%s\" is empty", path);
		return -1;
	}
	if (len < PITR_WALHDR_SIZE) {
		pitr_log_error("\"%s\" is too short to be a WAL segment: %llu bytes", path,
			       (unsigned long long)len);
		return -1;
	}
	pitr_walhdr_decode(head, sizeof(head), hdr);
	if (pitr_walhdr_check(hdr, name, path) != 0)
		return -1;
	if (len != hdr->seg_size) {
		pitr_log_error("\"%s\" holds %llu bytes but its header says segments are %u bytes",
			       path, (unsigned long long)len, (unsigned)hdr->seg_size);
		return -1;
	}
	*has_hdr = true;
	return 0;
}
