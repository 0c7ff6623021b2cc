/*
 * codec.h - in-process compression and decompression, streaming both ways.
 *
 * One table row per codec (name, file extension, level range, stream
 * constructors), so a new codec is one row and one set of stream functions.
 * Output is byte-compatible with the standard tools: `gzip -d`, `bzip2 -d`,
 * `xz --format=lzma -d`, `xz -d`, `lz4 -d` and `zstd -d` read what the
 * writers produce, and the readers read those tools' output (gzip and the
 * other formats with several concatenated members or frames included).
 *
 * gzip is written with libdeflate as a series of independent gzip members
 * of a fixed input size (what `gzip -d` reads as one file): libdeflate is
 * far faster than zlib at the same ratio but is not a streaming API, and
 * fixed-size members keep memory bounded and let members be compressed on
 * several cores at once.  gzip is read with zlib, which streams.
 */
#ifndef PITR_CODEC_H
#define PITR_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum pitr_codec {
	PITR_CODEC_NONE = 0,
	PITR_CODEC_GZIP,
	PITR_CODEC_BZIP2,
	PITR_CODEC_LZMA,
	PITR_CODEC_XZ,
	PITR_CODEC_LZ4,
	PITR_CODEC_ZSTD,
	PITR_CODEC_COUNT
};

/* "none", "gzip", "bzip2", "lzma", "xz", "lz4", "zstd". */
const char *pitr_codec_name(enum pitr_codec codec);

/* "", ".gz", ".bz2", ".lzma", ".xz", ".lz4", ".zst". */
const char *pitr_codec_ext(enum pitr_codec codec);

/* Look a codec up by name (exact, lower case; "none" included).  Returns 0,
 * or -1 without logging (the caller knows which option was wrong). */
int pitr_codec_from_name(const char *name, enum pitr_codec *out);

/* The codec whose extension ends `filename` (PITR_CODEC_NONE when none
 * does); *stem_len gets the length of the name without the extension. */
enum pitr_codec pitr_codec_from_filename(const char *filename, size_t *stem_len);

/* The length of the "CODEC=" that starts a "[CODEC=]DIR" argument,
 * '=' included, when CODEC names a codec; else 0 (the whole argument is
 * the dir, even if it holds a '='). */
size_t pitr_codec_prefix_len(const char *spec);

/* The command-line tool's default level (gzip 6, bzip2 9, lzma 6, xz 6,
 * lz4 1, zstd 3; none 0) and the accepted range. */
int pitr_codec_default_level(enum pitr_codec codec);
int pitr_codec_min_level(enum pitr_codec codec);
int pitr_codec_max_level(enum pitr_codec codec);

/*
 * The bytes a writer for `codec` at `level` (0: the default; out of range:
 * clamped) with `threads` holds at its peak: its library's own figure
 * where the library gives one (liblzma, libzstd, lz4), the documented one
 * otherwise (bzip2; libdeflate documents none, so gzip's is measured: see
 * gzip.c), plus the writer's buffers and threads.  An upper bound meant for
 * sizing how many writers may run at once, not an exact count; 0 for none.
 */
size_t pitr_codec_mem_estimate(enum pitr_codec codec, int level, int threads);

/* Where compressed bytes go: returns 0, or -1 after logging (which stops
 * the writer, whose call then returns -1 without logging again). */
typedef int (*pitr_codec_sink_fn)(void *ctx, const void *buf, size_t len);

struct pitr_codec_writer;

/*
 * A compressor for `codec` at `level` (0 means the default for the codecs
 * whose levels start at 1; lzma's and xz's 0 is their preset 0) feeding
 * `sink`.
 * `threads` > 1 lets codecs that can (gzip, zstd) use that many worker
 * threads; output is identical whatever the thread count.  Returns NULL
 * after logging on failure.  The caller frees it with
 * pitr_codec_writer_free().
 */
struct pitr_codec_writer *pitr_codec_writer_new(enum pitr_codec codec, int level, int threads,
						pitr_codec_sink_fn sink, void *ctx);

/* Feed `len` bytes.  Returns 0 or -1 (logged, by the codec or the sink). */
int pitr_codec_writer_write(struct pitr_codec_writer *w, const void *buf, size_t len);

/* Flush everything and write the stream's end.  Returns 0 or -1. */
int pitr_codec_writer_finish(struct pitr_codec_writer *w);

/* Release; accepts NULL. */
void pitr_codec_writer_free(struct pitr_codec_writer *w);

struct pitr_codec_reader;

/*
 * A decompressor reading compressed data from `fd` (not closed by the
 * reader).  `what` names the source in error messages ("\"/arch/000...gz\"").
 * Returns NULL after logging on failure.
 */
struct pitr_codec_reader *pitr_codec_reader_new(enum pitr_codec codec, int fd, const char *what);

/*
 * The same, for a caller that reports a bad file in its own words: the
 * reader's failures (of this call and of every read) are not logged, and
 * their reason, without the file's name ("corrupt: incorrect header
 * check", "truncated: the compressed stream ends early"), is written to
 * `err` (`err_size` bytes).  Failed allocations are still logged.
 */
struct pitr_codec_reader *pitr_codec_reader_new_quiet(enum pitr_codec codec, int fd,
						      const char *what, char *err,
						      size_t err_size);

/*
 * Read up to `len` decompressed bytes.  Returns the count, 0 at the end of a
 * complete stream, or -1 after logging one line naming `what`: a read error,
 * corrupt data, or a stream that ends before its format says it is complete
 * (a truncated file is never mistaken for a short one).
 */
ssize_t pitr_codec_reader_read(struct pitr_codec_reader *r, void *buf, size_t len);

/* Release; accepts NULL. */
void pitr_codec_reader_free(struct pitr_codec_reader *r);

#endif
