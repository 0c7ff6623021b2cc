/*
 * tarsource.h - what tarread.c (extraction) and tarstream.c (members read
 * in turn) share: a tarball opened through our codec readers, decompressed
 * on a thread of its own (readahead.c), into libarchive's tar reader.
 * Not installed.
 */
#ifndef PITR_TAR_TARSOURCE_H
#define PITR_TAR_TARSOURCE_H

#include <stdbool.h>

#include <archive.h>

#include "compress/codec.h"

struct pitr_progress;

struct tar_source {
	const char *path;
	int fd;
	bool own_fd;           /* fd was opened here (else the caller's) */
	struct pitr_codec_reader *reader;
	struct pitr_readahead *ra;   /* the thread decompressing `reader` */
	bool codec_failed;     /* the codec reader logged already */
};

/* What pitr_tarread_progress() set: the readers count into it. */
struct pitr_progress *tar_progress(void);

/* Open `path` for reading through `codec` into a new tar reader; with
 * `fd` >= 0, read that descriptor instead (left open: the caller's), which
 * `path` names in messages.  NULL after logging. */
struct archive *tar_source_open(struct tar_source *s, const char *path, int fd,
				enum pitr_codec codec);
void tar_source_close(struct tar_source *s);

/* A tar-level failure on the read side (at `member`, or NULL), logged
 * unless the codec said why already; -1. */
int tar_read_failed(struct tar_source *s, struct archive *a, const char *member);

/* libarchive stops at the tar's end marker; the compressed stream is read
 * to its end too, or the codec's final check (gzip's CRC and length, say)
 * would never run and a damaged tail would pass.  0, or -1 (logged). */
int tar_drain(struct tar_source *s);

#endif
