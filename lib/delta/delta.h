/*
 * delta.h - incremental backups (issue 13): librsync signatures of a
 * backup's files, per-chunk deltas against a base's signatures, and the
 * "sig" file that carries a backup's signatures and manifest.
 *
 * The unit of work is the chunk: PITR_DELTA_CHUNK bytes (128 PostgreSQL
 * pages) at a multiple of that offset in a file.  A file's signature is
 * librsync's (RS_BLAKE2_SIG_MAGIC, PITR_DELTA_BLOCK = 8 KiB blocks, the
 * page size, so that a changed page costs one block; strong sums of
 * PITR_DELTA_STRONG = 32 bytes, the whole BLAKE2b-256: a false match needs
 * a 256-bit collision, which neither chance nor a user writing rows can
 * make).  Since a chunk holds whole blocks, the records of chunk k are
 * records [k * 128, k * 128 + nblocks) of the file's signature, and the
 * signature of a chunk taken alone equals that slice.
 *
 * Each chunk also has a digest: the SHA-256 of its bytes
 * (PITR_DELTA_DIGEST bytes, through libcrypto, 3x faster than signing).
 * A chunk is unchanged when its length and digest equal the base's chunk's
 * at the same offset (PostgreSQL pages do not move: positional comparison
 * is exact, and content is compared, never size or mtime alone); only
 * then are its records taken from the base without signing it.  A changed
 * chunk is signed, its blocks compared with the base's by position, and
 * it is stored as its delta against the base chunk, or whole when that
 * delta is not smaller.
 *
 * A chunk's delta (format 2) is a sequence of pieces that make the chunk
 * in order, each a 4-byte big-endian length L and L bytes of a librsync
 * delta made by librsync: for each maximal run of blocks whose records
 * equal the base's at their position, the delta of the run's bytes
 * against the base chunk's records (it copies from the base chunk); for
 * each maximal run of the other blocks, the delta of its bytes against no
 * signature (librsync's literal "slack" delta).  librsync's rolling search
 * for moved data, which costs some 16 ns a byte of changed data, is thus
 * spent only where the positional comparison found a match: PostgreSQL's
 * pages do not move within a file, and a changed page is new content.
 * The patch applies each piece against the base chunk and appends its
 * output.  A patched chunk is checked against its digest.
 *
 * Format 1 (read, never written: backups of the first pitrkit with
 * incrementals) has no digests, and a chunk's delta is one librsync delta
 * of the whole chunk against the base chunk's records; its patched
 * chunks are checked block by block against their records.  A chain's
 * links all have one format: an incremental is taken only on a base of
 * the current format.
 *
 * Keys.  A file is named by its key, independent of the data directory's
 * name and of the host: "data/" + its path relative to the data directory
 * ("data/base/5/1259"), or, for a tablespace's file, its tar member name
 * ("tablespaces/srv/ts1/PG_15_202209061/5/16390").
 *
 * The data tarball of an incremental backup holds what a full one does,
 * except regular files: a file new since the base, or one the backup
 * writes from memory (backup_label, tablespace_map, pg_wal's history
 * files, global/pg_control) is stored whole at its usual member name; an
 * unchanged file is not stored; a changed file is stored as members
 * ".pitrkit/<key>/<k>.d" (the librsync delta of chunk k) or ".w" (chunk k
 * whole), k in decimal, ascending.  Directories and symbolic links are
 * stored as in a full backup.
 *
 * The sig file (the backup's file of type "sig", compressed by the
 * destination's codec, written with every backup, full or incremental) is
 * a tar holding, in this order:
 *   "sig/<key>"      for a file of kind whole: its complete librsync
 *                    signature (12-byte header, then the records), then
 *                    (format 2) the digest of each of its chunks in order
 *   "sig/<key>/<k>"  for a file of kind delta: the records of each chunk k
 *                    stored in this backup (no header), then (format 2)
 *                    the chunk's digest; ascending k
 *   "manifest"       last, text: "key=value" lines
 *                      format=2  (1: read only, see above)
 *                      system_identifier=<decimal>
 *                      label=<this backup's label>
 *                      base=<the base's label; empty for a full backup>
 *                      block=8192
 *                      chunk=1048576
 *                    then an empty line, then one line per regular file
 *                    of the backup and per file of the base that is gone:
 *                      "<kind> <size> <key>\n"
 *                    kind: whole (stored whole here), delta (stored as
 *                    chunk members here: the chunks not stored are the
 *                    base's), same (unchanged since the base), removed (in
 *                    the base's manifest, not here; size 0); size: the
 *                    file's size in this backup, decimal.  Keys hold no
 *                    newline; the key is the rest of the line after the
 *                    second space.
 * A file's signature in a backup is thus the base's (chain-composed)
 * signature, cut or extended to the new size, with the chunks this
 * backup stores replaced: pitr_delta_chain_* compose it.  A full backup's
 * manifest has only whole lines.
 *
 * Every call returns 0, or -1 after logging one line, unless it says
 * otherwise.
 */
#ifndef PITR_DELTA_H
#define PITR_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compress/codec.h"

#define PITR_DELTA_BLOCK 8192
#define PITR_DELTA_STRONG 32
#define PITR_DELTA_RECORD (4 + PITR_DELTA_STRONG)  /* weak sum + strong sum */
#define PITR_DELTA_CHUNK (1024 * 1024)
#define PITR_DELTA_CHUNK_BLOCKS (PITR_DELTA_CHUNK / PITR_DELTA_BLOCK)
#define PITR_DELTA_SIG_HEADER 12  /* librsync's: magic, block length, strong length */
#define PITR_DELTA_DIGEST 32      /* SHA-256 of a chunk */
#define PITR_DELTA_FORMAT 2       /* written; 1 is read too */

/* Member name prefix of the chunks of changed files in a data tarball. */
#define PITR_DELTA_MEMBER_PREFIX ".pitrkit/"

/* Blocks of a chunk (or file) of `len` bytes. */
#define PITR_DELTA_NBLOCKS(len) (((len) + PITR_DELTA_BLOCK - 1) / PITR_DELTA_BLOCK)
/* Chunks of a file of `len` bytes. */
#define PITR_DELTA_NCHUNKS(len) (((len) + PITR_DELTA_CHUNK - 1) / PITR_DELTA_CHUNK)

/* Bytes of chunk k of a file of `size` bytes (0 past its end). */
static inline size_t
pitr_delta_chunk_len(uint64_t size, uint64_t k)
{
	uint64_t off = k * PITR_DELTA_CHUNK;

	if (off >= size)
		return 0;
	return size - off < PITR_DELTA_CHUNK ? (size_t)(size - off) : PITR_DELTA_CHUNK;
}

enum pitr_delta_kind {
	PITR_DELTA_WHOLE,
	PITR_DELTA_DELTA,
	PITR_DELTA_SAME,
	PITR_DELTA_REMOVED,
};

/* ---- one chunk (sig.c) ----
 * These keep no state between calls: threads may call them at once. */

/* The records of `len` bytes (len <= PITR_DELTA_CHUNK) into `records`,
 * PITR_DELTA_NBLOCKS(len) * PITR_DELTA_RECORD bytes. */
int pitr_delta_chunk_sig(const void *buf, size_t len, unsigned char *records);

/* The digest of `len` bytes (len <= PITR_DELTA_CHUNK) into `digest`,
 * PITR_DELTA_DIGEST bytes. */
int pitr_delta_chunk_digest(const void *buf, size_t len, unsigned char *digest);

/* The delta (format 2, pieces) of the chunk `buf` (len bytes, whose
 * records are `records`, PITR_DELTA_NBLOCKS(len) of them) against the base
 * chunk's `base_nrec` records `base_records`, into a malloc'd *out of
 * *outlen bytes. */
int pitr_delta_chunk_delta(const void *buf, size_t len, const unsigned char *records,
			   const unsigned char *base_records, size_t base_nrec,
			   unsigned char **out, size_t *outlen);

/* Apply a chunk delta of `format` (1 or 2) to the base chunk `basis`
 * (basis_len bytes): the new chunk into `out` (capacity
 * PITR_DELTA_CHUNK), its length into *outlen.  A delta that does not
 * parse, reads outside the basis or makes more than PITR_DELTA_CHUNK bytes
 * fails, naming `what`. */
int pitr_delta_chunk_patch(const void *basis, size_t basis_len, const void *delta,
			   size_t delta_len, int format, unsigned char *out, size_t *outlen,
			   const char *what);

/* ---- a backup's signatures and manifest, read (sigfile.c) ---- */

struct pitr_delta_file {
	char *key;
	enum pitr_delta_kind kind;
	uint64_t size;
	/* The records this backup stores for the file: kind whole, all of
	 * them (PITR_DELTA_NBLOCKS(size)); kind delta, those of the chunks
	 * listed in `chunks` (nchunks of them, ascending), chunk by chunk;
	 * none for same and removed. */
	unsigned char *records;
	/* Format 2: the digest of each chunk that has records here, in the
	 * same order (PITR_DELTA_NCHUNKS(size) of them for kind whole,
	 * nchunks for kind delta); NULL in format 1. */
	unsigned char *digests;
	uint32_t *chunks;
	size_t nchunks;
};

struct pitr_delta_sigs {
	int format;                /* 1 or 2 */
	uint64_t sysid;
	char *label;
	char *base;                /* NULL for a full backup */
	struct pitr_delta_file *files;  /* in manifest order */
	size_t nfiles;
	/* Private: pitr_delta_sigs_find()'s index of keys, made by
	 * pitr_delta_sigs_read() (NULL in a struct made otherwise: a
	 * linear search then). */
	struct pitr_delta_map *index;
};

/* Read the sig file `path` (compressed with `codec`): every record and the
 * manifest, checked (format, block and chunk sizes, one line per key,
 * records present and of the right length for every whole and delta
 * file).  A damaged file fails naming `path`. */
int pitr_delta_sigs_read(const char *path, enum pitr_codec codec, struct pitr_delta_sigs *out);
/* The same from descriptor `fd`, read to its end and left open (tar/tarread.h's
 * _fd functions), `name` naming it. */
int pitr_delta_sigs_read_fd(int fd, const char *name, enum pitr_codec codec,
			    struct pitr_delta_sigs *out);
void pitr_delta_sigs_free(struct pitr_delta_sigs *s);
/* The file of `key`, or NULL. */
const struct pitr_delta_file *pitr_delta_sigs_find(const struct pitr_delta_sigs *s,
						   const char *key);

/* ---- a chain's composed signatures (chain.c) ---- */

/* Every file of the newest link, with its complete signature. */
struct pitr_delta_chain;

/* Compose `links` (n of them, the full backup first, each the base of the
 * next: link i's base label is link i-1's label, every system identifier
 * the same, every format the same, else fail naming the link).  Takes
 * ownership of nothing. */
struct pitr_delta_chain *pitr_delta_chain_compose(const struct pitr_delta_sigs *links, size_t n);
/* The chain's format (every link's). */
int pitr_delta_chain_format(const struct pitr_delta_chain *c);
/* The size, records (PITR_DELTA_NBLOCKS(size) of them) and chunk digests
 * (PITR_DELTA_NCHUNKS(size); NULL in format 1) of `key` in the newest
 * link; false when it has no such file.  `digests` may be NULL. */
bool pitr_delta_chain_lookup(const struct pitr_delta_chain *c, const char *key, uint64_t *size,
			     const unsigned char **records, const unsigned char **digests);
/* Every key of the newest link, for removed-file detection: calls `fn`
 * with each, stopping at its first nonzero return, which it returns. */
int pitr_delta_chain_each(const struct pitr_delta_chain *c,
			  int (*fn)(void *arg, const char *key, uint64_t size), void *arg);
void pitr_delta_chain_free(struct pitr_delta_chain *c);

/* ---- a backup's signatures and manifest, written (sigwrite.c) ---- */

/* Collects the signatures of one backup in a temporary file under
 * `temp_dir` (nothing at a final name; gone when released), then writes
 * the sig file's tar through `sink`.  Files are given one at a time: a
 * file's calls (whole_begin, _data, _end; or its delta_chunk calls, then
 * delta_end) end before the next file's begin.  `temp_dir` NULL or
 * empty: fsutil.h's pitr_fsutil_tmpdir(). */
struct pitr_delta_sigwriter;

struct pitr_delta_sigwriter *pitr_delta_sigwriter_new(const char *temp_dir, uint64_t sysid,
						      const char *label, const char *base);
/* A file of kind whole: its chunks' records and digests in order with
 * _whole_chunk (pitr_delta_chunk_sig and _digest, on any thread), then
 * its end with _whole_end (its size is the sum of the chunks' `len`; none
 * for an empty file). */
int pitr_delta_sigwriter_whole_begin(struct pitr_delta_sigwriter *w, const char *key);
int pitr_delta_sigwriter_whole_chunk(struct pitr_delta_sigwriter *w, size_t len,
				     const unsigned char *records, const unsigned char *digest);
int pitr_delta_sigwriter_whole_end(struct pitr_delta_sigwriter *w);
/* A file of kind delta: its chunks stored here (records and digest of
 * chunk k), then the end with its new size. */
int pitr_delta_sigwriter_delta_chunk(struct pitr_delta_sigwriter *w, const char *key,
				     uint32_t k, const unsigned char *records, size_t nrec,
				     const unsigned char *digest);
int pitr_delta_sigwriter_delta_end(struct pitr_delta_sigwriter *w, const char *key,
				   uint64_t size);
/* Kinds same and removed: a manifest line. */
int pitr_delta_sigwriter_same(struct pitr_delta_sigwriter *w, const char *key, uint64_t size);
int pitr_delta_sigwriter_removed(struct pitr_delta_sigwriter *w, const char *key);
/* The sig file's tar, through `sink` (codec.h's sink); once. */
int pitr_delta_sigwriter_finish(struct pitr_delta_sigwriter *w, pitr_codec_sink_fn sink,
				void *ctx);
void pitr_delta_sigwriter_free(struct pitr_delta_sigwriter *w);

#endif
