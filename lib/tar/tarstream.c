/*
 * tarstream.c - a tarball's members read in turn (pitr_tarread_open,
 * _next, _read, _close) or listed (pitr_tarread_list), every byte read
 * through the codec and checked, nothing written.
 */
#include "config.h"

#include <stdlib.h>

#include <archive.h>
#include <archive_entry.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "tar/tarread.h"
#include "tar/tarsource.h"

int
pitr_tarread_list(const char *path, enum pitr_codec codec,
		  void (*fn)(void *ctx, const char *member, int64_t size), void *ctx)
{
	return pitr_tarread_list_fd(-1, path, codec, fn, ctx);
}

int
pitr_tarread_list_fd(int fd, const char *name, enum pitr_codec codec,
		     void (*fn)(void *ctx, const char *member, int64_t size), void *ctx)
{
	struct tar_source s = { .fd = -1 };
	struct archive *in;
	struct archive_entry *e;
	int rc = -1;

	in = tar_source_open(&s, name, fd, codec);
	if (in == NULL)
		return -1;
	for (;;) {
		int r = archive_read_next_header(in, &e);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			tar_read_failed(&s, in, NULL);
			goto out;
		}
		/* Skipping reads through the codec: every byte is checked. */
		if (archive_read_data_skip(in) != ARCHIVE_OK) {
			tar_read_failed(&s, in, archive_entry_pathname(e));
			goto out;
		}
		if (fn != NULL)
			fn(ctx, archive_entry_pathname(e), archive_entry_size(e));
	}
	if (tar_drain(&s) != 0)
		goto out;
	rc = 0;
out:
	archive_read_free(in);
	tar_source_close(&s);
	return rc;
}

struct pitr_tarread_stream {
	struct tar_source s;
	struct archive *in;
	char *member;          /* the current member's name */
};

struct pitr_tarread_stream *
pitr_tarread_open(const char *path, enum pitr_codec codec)
{
	return pitr_tarread_open_fd(-1, path, codec);
}

struct pitr_tarread_stream *
pitr_tarread_open_fd(int fd, const char *name, enum pitr_codec codec)
{
	struct pitr_tarread_stream *st = pitr_xcalloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->s.fd = -1;
	if ((st->s.path = pitr_xstrdup(name)) == NULL ||
	    (st->in = tar_source_open(&st->s, st->s.path, fd, codec)) == NULL) {
		free((char *)st->s.path);
		free(st);
		return NULL;
	}
	return st;
}

int
pitr_tarread_next(struct pitr_tarread_stream *st, const char **name, int64_t *size)
{
	struct archive_entry *e;
	int r = archive_read_next_header(st->in, &e);

	free(st->member);
	st->member = NULL;
	if (r == ARCHIVE_EOF)
		return tar_drain(&st->s) == 0 ? 0 : -1;
	if (r != ARCHIVE_OK)
		return tar_read_failed(&st->s, st->in, NULL);
	st->member = pitr_xstrdup(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
	if (st->member == NULL)
		return -1;
	*name = st->member;
	*size = archive_entry_size(e);
	return 1;
}

int
pitr_tarread_read(struct pitr_tarread_stream *st, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		la_ssize_t n = archive_read_data(st->in, (char *)buf + got, len - got);

		if (n < 0)
			return tar_read_failed(&st->s, st->in, st->member);
		if (n == 0) {
			pitr_log_error("\"%s\" is corrupt at member \"%s\": it ends early", st->s.path,
				       st->member != NULL ? st->member : "");
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

void
pitr_tarread_close(struct pitr_tarread_stream *st)
{
	if (st == NULL)
		return;
	archive_read_free(st->in);
	tar_source_close(&st->s);
	free(st->member);
	free((char *)st->s.path);
	free(st);
}
