/*
 * check_recover_chain.c - unit tests for pitr-recover on incremental
 * backups (issue 13): a full backup and two incrementals synthesized here
 * with lib/delta's calls (signatures, chunk deltas, sig files) in the
 * format delta/delta.h defines, recovered to the end and to the middle of
 * the chain and compared file by file with the source as it was; and the
 * refusals (a missing link, a missing sig file, a damaged tarball, a chunk
 * that does not match its signature, another cluster's signatures), each
 * leaving nothing behind; and the same chain rewritten as format 1, whose
 * chunks are checked by their records, not by digests.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <librsync.h>

#include "command/recover/recover.h"
#include "command/recover/recover_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "compress/codec.h"
#include "delta/delta.h"
#include "delta/delta_fixture.h"
#include "digest/digest.h"
#include "harness.h"
#include "postgres/wal.h"
#include "recover_fixture.h"
#include "tar/tarread.h"
#include "tar/tarwrite.h"

/* ---- files ---------------------------------------------------------------- */

static void
put_random(const char *path, size_t size, unsigned seed)
{
	unsigned char *buf = malloc(size ? size : 1);
	uint32_t x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < size; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	h_write_file(path, buf, size);
	ck_assert_int_eq(chmod(path, 0600), 0);
	free(buf);
}

/* Overwrite `len` bytes at `off` (a changed page). */
static void
poke(const char *path, off_t off, size_t len, unsigned char byte)
{
	int fd = open(path, O_WRONLY);
	unsigned char buf[8192];

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, byte, len);
	ck_assert_int_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	close(fd);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
	return (unsigned char *)h_read_file(path, len);
}

static void
copy_tree(const char *from, const char *to)
{
	DIR *d = opendir(from);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	mk(to);
	while ((de = readdir(d)) != NULL) {
		char a[PATH_MAX], b[PATH_MAX], link[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(a, sizeof(a), "%s/%s", from, de->d_name);
		snprintf(b, sizeof(b), "%s/%s", to, de->d_name);
		ck_assert_int_eq(lstat(a, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			copy_tree(a, b);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(a, link, sizeof(link) - 1);

			ck_assert_int_gt(n, 0);
			link[n] = '\0';
			ck_assert_int_eq(symlink(link, b), 0);
		} else {
			size_t len;
			unsigned char *buf = slurp(a, &len);

			h_write_file(b, buf, len);
			ck_assert_int_eq(chmod(b, st.st_mode & 07777), 0);
			free(buf);
		}
	}
	closedir(d);
}

/* ---- compressed files --------------------------------------------------------- */

struct gz_file {
	int fd;
	struct pitr_codec_writer *w;
};

static int
gz_sink(void *ctx, const void *buf, size_t len)
{
	return pitr_codec_writer_write(((struct gz_file *)ctx)->w, buf, len);
}

static void
gz_open(struct gz_file *f, const char *path)
{
	f->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(f->fd, 0);
	f->w = pitr_codec_writer_new(PITR_CODEC_GZIP, 0, 1, h_fd_sink, &f->fd);
	ck_assert_ptr_nonnull(f->w);
}

static void
gz_close(struct gz_file *f)
{
	ck_assert_int_eq(pitr_codec_writer_finish(f->w), 0);
	pitr_codec_writer_free(f->w);
	ck_assert_int_eq(close(f->fd), 0);
}

/* ---- backups ------------------------------------------------------------------- */

/* The backup being written: its data tar, its signatures, the skeleton
 * dir (what add_tree stores: dirs, links and the files stored whole). */
struct bkb {
	struct gz_file f;
	struct pitr_tarwrite *t;
	struct pitr_delta_sigwriter *sw;
};

static bool ts_dropped;          /* take_backup: the tablespace is gone */
static bool drop_ts;             /* make_chain: dropped before backup 3 */
static const char *tamper_key;   /* its chunks are stored with a flipped byte */
static const char *stale_key;    /* its chunks are stored as they were before */
static const char *dup_key;      /* its chunks are all named as its first one */
static const char *digest_key;   /* its chunks' digests are recorded wrong */
static const char *skip_key;     /* its chunks are left out of the tarball */
static const char *big_key;      /* its chunks are stored whole, padded past apply.c's MEMBER_MAX */
static bool with_digests;        /* every backup has SHA-256 digests of its files */
static bool format1;             /* the chain as the first pitrkit wrote it (delta.h) */
static bool incr_digests;        /* the incrementals have them (as pitr-backup-* always writes) */
static int64_t dup_first = -1;   /* that first chunk's number, once stored */
static const void *dup_in;       /* the backup dup_first was met in */
static uint64_t sig_sysid = SYSID;

static void
add_chunk(struct bkb *b, const char *key, uint32_t k, const unsigned char *cur, size_t clen,
	  const unsigned char *prev, size_t plen)
{
	unsigned char rec[PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD];
	unsigned char brec[PITR_DELTA_CHUNK_BLOCKS * PITR_DELTA_RECORD];
	unsigned char dig[PITR_DELTA_DIGEST];
	unsigned char *d = NULL, *stored;
	size_t dlen = 0;
	bool whole = true;

	ck_assert_int_eq(pitr_delta_chunk_sig(cur, clen, rec), 0);
	ck_assert_int_eq(pitr_delta_chunk_digest(cur, clen, dig), 0);
	if (digest_key != NULL && strcmp(key, digest_key) == 0)
		dig[PITR_DELTA_DIGEST - 1] ^= 0x01;
	ck_assert_int_eq(pitr_delta_sigwriter_delta_chunk(b->sw, key, k, rec, PITR_DELTA_NBLOCKS(clen),
							  dig), 0);
	if (plen > 0 && format1) {
		d = df_format1_delta(prev, plen, cur, clen, &dlen);
		whole = dlen >= clen;
	} else if (plen > 0) {
		ck_assert_int_eq(pitr_delta_chunk_sig(prev, plen, brec), 0);
		ck_assert_int_eq(pitr_delta_chunk_delta(cur, clen, rec, brec, PITR_DELTA_NBLOCKS(plen),
							&d, &dlen), 0);
		whole = dlen >= clen;
	}
	if (stale_key != NULL && strcmp(key, stale_key) == 0 && plen == clen) {
		/* A chunk with the records of its change, whose bytes are
		 * still the base's: each block is as it was. */
		free(d);
		d = NULL;
		cur = prev;
		whole = true;
	}
	stored = whole ? malloc(clen) : d;
	ck_assert_ptr_nonnull(stored);
	if (whole) {
		memcpy(stored, cur, clen);
		dlen = clen;
	}
	if (tamper_key != NULL && strcmp(key, tamper_key) == 0)
		stored[dlen / 2] ^= 0x55;
	if (big_key != NULL && strcmp(key, big_key) == 0) {
		size_t big = PITR_DELTA_CHUNK + PITR_DELTA_CHUNK / 8 + 4096 + 1;

		if (!whole) {
			free(d);
			d = NULL;
		}
		stored = whole ? realloc(stored, big) : calloc(1, big);
		ck_assert_ptr_nonnull(stored);
		memset(stored + (whole ? dlen : 0), 0, big - (whole ? dlen : 0));
		dlen = big;
		whole = true;
	}
	if (dup_key != NULL && strcmp(key, dup_key) == 0) {
		if (dup_in != b)
			dup_first = k;
		dup_in = b;
		k = (uint32_t)dup_first;
	}
	if (skip_key == NULL || strcmp(key, skip_key) != 0)
		ck_assert_int_eq(pitr_tarwrite_add_buffer(b->t, h_fmt("%s%s/%u.%c",
								      PITR_DELTA_MEMBER_PREFIX, key, k,
								      whole ? 'w' : 'd'),
							  stored, dlen, 0600), 0);
	if (stored != d)
		free(stored);
	free(d);
}

static void
add_whole_sig(struct bkb *b, const char *key, const void *buf, size_t len)
{
	ck_assert_int_eq(pitr_delta_sigwriter_whole_begin(b->sw, key), 0);
	df_whole_chunks(b->sw, buf, len);
	ck_assert_int_eq(pitr_delta_sigwriter_whole_end(b->sw), 0);
}

/* One regular file: whole (copied to the skeleton), same or changed
 * chunks against its previous version `prev_path` (NULL: none). */
static void
diff_file(struct bkb *b, const char *cur_path, const char *prev_path, const char *skel_path,
	  const char *key)
{
	size_t clen, plen = 0;
	unsigned char *cur = slurp(cur_path, &clen), *prev = NULL;
	size_t changed = 0;

	if (prev_path != NULL && h_exists(prev_path))
		prev = slurp(prev_path, &plen);
	if (prev == NULL) {
		struct stat st;

		ck_assert_int_eq(stat(cur_path, &st), 0);
		h_write_file(skel_path, cur, clen);
		ck_assert_int_eq(chmod(skel_path, st.st_mode & 07777), 0);
		add_whole_sig(b, key, cur, clen);
		free(cur);
		return;
	}
	for (size_t off = 0; off < clen; off += PITR_DELTA_CHUNK) {
		size_t cl = clen - off < PITR_DELTA_CHUNK ? clen - off : PITR_DELTA_CHUNK;
		size_t pl = off >= plen ? 0 : plen - off < PITR_DELTA_CHUNK ? plen - off : PITR_DELTA_CHUNK;

		if (cl == pl && memcmp(cur + off, prev + off, cl) == 0)
			continue;
		add_chunk(b, key, (uint32_t)(off / PITR_DELTA_CHUNK), cur + off, cl, prev + off, pl);
		changed++;
	}
	if (changed == 0 && clen == plen)
		ck_assert_int_eq(pitr_delta_sigwriter_same(b->sw, key, clen), 0);
	else
		ck_assert_int_eq(pitr_delta_sigwriter_delta_end(b->sw, key, clen), 0);
	free(cur);
	free(prev);
}

/* Every file under `prev` (keys under `key`) removed, but for the
 * entries `cur` still has (cur NULL: none). */
static void
removed_under(struct bkb *b, const char *prev, const char *key, const char *cur)
{
	DIR *d = opendir(prev);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		char p[PATH_MAX], k[PATH_MAX];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (cur != NULL && lstat(h_fmt("%s/%s", cur, de->d_name), &st) == 0))
			continue;
		snprintf(p, sizeof(p), "%s/%s", prev, de->d_name);
		snprintf(k, sizeof(k), "%s/%s", key, de->d_name);
		ck_assert_int_eq(lstat(p, &st), 0);
		if (S_ISDIR(st.st_mode))
			removed_under(b, p, k, NULL);
		else if (S_ISREG(st.st_mode))
			ck_assert_int_eq(pitr_delta_sigwriter_removed(b->sw, k), 0);
	}
	closedir(d);
}

/* The tree `cur` against `prev` (NULL: a full backup) into the skeleton
 * `skel`; keys under `key`. */
static void
walk(struct bkb *b, const char *cur, const char *prev, const char *skel, const char *key)
{
	DIR *d = opendir(cur);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char c[PATH_MAX], p[PATH_MAX], s[PATH_MAX], k[PATH_MAX], link[PATH_MAX];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(c, sizeof(c), "%s/%s", cur, de->d_name);
		snprintf(p, sizeof(p), "%s/%s", prev ? prev : "/nonexistent", de->d_name);
		snprintf(s, sizeof(s), "%s/%s", skel, de->d_name);
		snprintf(k, sizeof(k), "%s/%s", key, de->d_name);
		ck_assert_int_eq(lstat(c, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			mk(s);
			walk(b, c, prev && h_exists(p) ? p : NULL, s, k);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(c, link, sizeof(link) - 1);

			ck_assert_int_gt(n, 0);
			link[n] = '\0';
			ck_assert_int_eq(symlink(link, s), 0);
		} else if (strstr(c, "/pg_wal/") == NULL) {
			diff_file(b, c, prev ? p : NULL, s, k);
		}
	}
	closedir(d);
	if (prev != NULL)
		removed_under(b, prev, key, cur);
}

/* What a sig member of `size` bytes keeps in format 1: a whole file's
 * (librsync's magic first) its header and records, not the digest of
 * each of its chunks after them; a delta chunk's its records, not the
 * digest after them. */
static size_t
format1_len(const unsigned char *buf, size_t size)
{
	static const unsigned char magic[4] = { RS_BLAKE2_SIG_MAGIC >> 24,
						(RS_BLAKE2_SIG_MAGIC >> 16) & 0xff,
						(RS_BLAKE2_SIG_MAGIC >> 8) & 0xff,
						RS_BLAKE2_SIG_MAGIC & 0xff };

	if (size >= PITR_DELTA_SIG_HEADER && memcmp(buf, magic, 4) == 0)
		for (size_t nb = 0;; nb++) {
			size_t len = PITR_DELTA_SIG_HEADER + nb * PITR_DELTA_RECORD;
			size_t all = len + PITR_DELTA_NCHUNKS(nb * PITR_DELTA_BLOCK) * PITR_DELTA_DIGEST;

			if (all == size)
				return len;
			ck_assert_uint_lt(all, size);
		}
	ck_assert_uint_ge(size, PITR_DELTA_DIGEST + PITR_DELTA_RECORD);
	ck_assert_uint_eq((size - PITR_DELTA_DIGEST) % PITR_DELTA_RECORD, 0);
	return size - PITR_DELTA_DIGEST;
}

/* The sig file `path` rewritten as format 1: every digest cut, the
 * manifest's "format=2" made "format=1". */
static void
sig_to_format1(const char *path)
{
	struct pitr_tarread_stream *r = pitr_tarread_open(path, PITR_CODEC_GZIP);
	char tmp[8320];
	struct gz_file f;
	struct pitr_tarwrite *t;
	const char *name;
	int64_t size;
	int rc;

	ck_assert_ptr_nonnull(r);
	snprintf(tmp, sizeof(tmp), "%s.f1", path);
	gz_open(&f, tmp);
	t = pitr_tarwrite_new(gz_sink, &f);
	ck_assert_ptr_nonnull(t);
	while ((rc = pitr_tarread_next(r, &name, &size)) == 1) {
		char *buf = malloc((size_t)size + 1);
		size_t keep = (size_t)size;

		ck_assert_ptr_nonnull(buf);
		ck_assert_int_eq(pitr_tarread_read(r, buf, (size_t)size), 0);
		buf[size] = '\0';
		if (strcmp(name, "manifest") == 0) {
			char *fmt = strstr(buf, "format=2\n");

			ck_assert_ptr_nonnull(fmt);
			fmt[7] = '1';
		} else {
			keep = format1_len((unsigned char *)buf, (size_t)size);
		}
		ck_assert_int_eq(pitr_tarwrite_add_buffer(t, name, buf, keep, 0600), 0);
		free(buf);
	}
	ck_assert_int_eq(rc, 0);
	pitr_tarread_close(r);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	pitr_tarwrite_free(t);
	gz_close(&f);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* The backup files' times, WAL and labels of backup n (1: full). */
static const char *labels[] = { NULL, "full", "inc1", "inc2" };

static void
write_xlog_and_meta(int n, const char *base, const char *chain)
{
	struct gz_file f;
	struct pitr_tarwrite *t;
	const char *meta;
	bool digests = with_digests || (incr_digests && n > 1);

	gz_open(&f, h_fmt("%s/bk-xlog-%d.tar.gz", bk, n));
	t = pitr_tarwrite_new(gz_sink, &f);
	ck_assert_ptr_nonnull(t);
	for (uint64_t s = 2 * (uint64_t)n; s <= 2 * (uint64_t)n + 1; s++) {
		unsigned char *buf = h_make_segment(SEG, 1, s, SYSID, (unsigned)s);
		char name[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(name, 1, s, SEG);
		ck_assert_int_eq(pitr_tarwrite_add_buffer(t, h_fmt("pgdata/pg_wal/%s", name), buf, SEG,
							  0600), 0);
		free(buf);
	}
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	pitr_tarwrite_free(t);
	gz_close(&f);
	meta = h_fmt("start_wal=00000001000000000000000%d\nstop_wal=00000001000000000000000%d\n"
		     "start_lsn=0/%d00028\nstop_lsn=0/%d00100\nstart_time=2024-03-01 1%d:00:00 +0000\n"
		     "stop_time=2024-03-01 1%d:05:00 +0000\nhost=db1\nlabel=%s\n"
		     "system_identifier=%llu\ntimeline=1\nwal_segment_size=%u\ndata_dir=%s\n"
		     "data_size=10000\nxlog_size=2098176\ncodec=gzip\ndigests=%s\nbase=%s\nchain=%s\n",
		     2 * n, 2 * n + 1, 2 * n, 2 * n + 1, n + 1, n + 1, labels[n],
		     (unsigned long long)SYSID, SEG, src, digests ? "SHA-256" : "", base, chain);
	if (digests) {
		char line[1024], hex[PITR_DIGEST_HEX_MAX];

		ck_assert_int_eq(pitr_digest_file("SHA-256", h_fmt("%s/bk-data-%d.tar.gz", bk, n), hex), 0);
		snprintf(line, sizeof(line), "%s  bk-data-%d.tar.gz\n", hex, n);
		ck_assert_int_eq(pitr_digest_file("SHA-256", h_fmt("%s/bk-xlog-%d.tar.gz", bk, n), hex), 0);
		snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s  bk-xlog-%d.tar.gz\n", hex,
			 n);
		text_file(h_fmt("%s/bk-SHA-256-%d.tar", bk, n), line);
	}
	h_write_compressed(h_fmt("%s/bk-meta-%d.tar.gz", bk, n), PITR_CODEC_GZIP, meta, strlen(meta));
}

/* Backup n of src and ts, against their copies in prev/ (none for n 1),
 * which it then updates. */
static void
take_backup(int n)
{
	const char *base = n == 1 ? "" : labels[n - 1];
	const char *chain = n == 1 ? "" : n == 2 ? "full" : "full|inc1";
	struct bkb b;
	struct gz_file sf;
	char skel[8300], prev[8300], bl[128], map[PATH_MAX + 16], tsm[PATH_MAX + 16];
	char skel_data[8310], skel_ts[8310], prev_data[8310], prev_ts[8310];

	/* h_fmt's and h_path's buffers are reused: copies. */
	snprintf(skel, sizeof(skel), "%s", h_path(h_fmt("skel%d", n)));
	snprintf(prev, sizeof(prev), "%s", h_path("prev"));
	snprintf(bl, sizeof(bl), "START WAL LOCATION: backup %d\n", n);
	snprintf(map, sizeof(map), ts_dropped ? "" : "16384 %s\n", ts);
	snprintf(tsm, sizeof(tsm), "tablespaces%s", ts);

	snprintf(skel_data, sizeof(skel_data), "%s/pgdata", skel);
	snprintf(skel_ts, sizeof(skel_ts), "%s/ts", skel);
	snprintf(prev_data, sizeof(prev_data), "%s/pgdata", prev);
	snprintf(prev_ts, sizeof(prev_ts), "%s/ts", prev);
	b.sw = pitr_delta_sigwriter_new(h_dir(), n == 3 ? sig_sysid : SYSID, labels[n],
					n == 1 ? NULL : base);
	ck_assert_ptr_nonnull(b.sw);
	gz_open(&b.f, h_fmt("%s/bk-data-%d.tar.gz", bk, n));
	b.t = pitr_tarwrite_new(gz_sink, &b.f);
	ck_assert_ptr_nonnull(b.t);
	mk(skel);
	mk(skel_data);
	mk(skel_ts);
	walk(&b, src, n == 1 ? NULL : prev_data, skel_data, "data");
	if (ts_dropped)
		removed_under(&b, prev_ts, tsm, NULL);
	else
		walk(&b, ts, n == 1 ? NULL : prev_ts, skel_ts, tsm);
	ck_assert_int_eq(pitr_tarwrite_add_tree(b.t, skel_data, "pgdata", PITR_TARWRITE_PGDATA |
						PITR_TARWRITE_ROOT_0700), 0);
	if (!ts_dropped)
		ck_assert_int_eq(pitr_tarwrite_add_tree(b.t, skel_ts, tsm, PITR_TARWRITE_PGDATA), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(b.t, "pgdata/backup_label", bl, strlen(bl), 0600), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(b.t, "pgdata/tablespace_map", map, strlen(map),
						  0600), 0);
	add_whole_sig(&b, "data/backup_label", bl, strlen(bl));
	add_whole_sig(&b, "data/tablespace_map", map, strlen(map));
	ck_assert_int_eq(pitr_tarwrite_finish(b.t), 0);
	pitr_tarwrite_free(b.t);
	gz_close(&b.f);
	gz_open(&sf, h_fmt("%s/bk-sig-%d.tar.gz", bk, n));
	ck_assert_int_eq(pitr_delta_sigwriter_finish(b.sw, gz_sink, &sf), 0);
	gz_close(&sf);
	if (format1) {
		char sig[8300];

		snprintf(sig, sizeof(sig), "%s/bk-sig-%d.tar.gz", bk, n);
		sig_to_format1(sig);
	}
	pitr_delta_sigwriter_free(b.sw);
	write_xlog_and_meta(n, base, chain);
	ck_assert_int_eq(pitr_fsutil_remove_tree(skel), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(prev), 0);
	mk(prev);
	copy_tree(src, prev_data);
	if (!ts_dropped)
		copy_tree(ts, prev_ts);
}

#define MIB (1024 * 1024)

/* The source: a data dir with a tablespace; then the full backup, the
 * changes, the first incremental (its state kept in state2/), more
 * changes, the second. */
static void
make_chain(void)
{
	char db[PATH_MAX + 32];

	snprintf(db, sizeof(db), "%s/PG_15_202209061/5", ts);

	mk(src);
	text_file(h_fmt("%s/PG_VERSION", src), "15\n");
	mk(h_fmt("%s/global", src));
	put_random(h_fmt("%s/global/pg_control", src), 8192, 1);
	mk(h_fmt("%s/base", src));
	mk(h_fmt("%s/base/1", src));
	put_random(h_fmt("%s/base/1/100", src), 5 * MIB / 2, 2);
	put_random(h_fmt("%s/base/1/200", src), 3 * MIB, 3);
	text_file(h_fmt("%s/base/1/300", src), "relation");
	mk(h_fmt("%s/base/2", src));
	put_random(h_fmt("%s/base/2/400", src), 100000, 4);
	mk(h_fmt("%s/pg_wal", src));
	mk(h_fmt("%s/pg_tblspc", src));
	ck_assert_int_eq(symlink(ts, h_fmt("%s/pg_tblspc/16384", src)), 0);
	mk(ts);
	mk(h_fmt("%s/PG_15_202209061", ts));
	mk(db);
	put_random(h_fmt("%s/500", db), 3 * MIB / 2, 5);
	mk(h_path("prev"));
	take_backup(1);

	/* A page in chunk 1, chunk 2 grown to full, chunk 3 new; a file cut
	 * by a whole chunk, one removed, a database dropped, a new file. */
	poke(h_fmt("%s/base/1/100", src), MIB + 3 * 8192, 100, 0xab);
	put_random(h_path("grow"), MIB, 6);
	{
		size_t len;
		unsigned char *more = slurp(h_path("grow"), &len);
		int fd = open(h_fmt("%s/base/1/100", src), O_WRONLY | O_APPEND);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(write(fd, more, len), (ssize_t)len);
		close(fd);
		free(more);
		unlink(h_path("grow"));
	}
	ck_assert_int_eq(truncate(h_fmt("%s/base/1/200", src), 2 * MIB), 0);
	ck_assert_int_eq(unlink(h_fmt("%s/base/1/300", src)), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_fmt("%s/base/2", src)), 0);
	put_random(h_fmt("%s/base/1/600", src), 20000, 7);
	put_random(h_fmt("%s/global/pg_control", src), 8192, 8);
	take_backup(2);
	copy_tree(src, h_path("state2"));
	copy_tree(ts, h_path("state2-ts"));

	/* A page in chunk 0; the tablespace's file's last (short) chunk; a
	 * new database. */
	poke(h_fmt("%s/base/1/100", src), 10 * 8192, 8192, 0x11);
	poke(h_fmt("%s/500", db), MIB + 8192, 200, 0x22);
	mk(h_fmt("%s/base/3", src));
	text_file(h_fmt("%s/base/3/700", src), "new database");
	if (drop_ts) {
		ck_assert_int_eq(pitr_fsutil_remove_tree(ts), 0);
		ck_assert_int_eq(unlink(h_fmt("%s/pg_tblspc/16384", src)), 0);
		ts_dropped = true;
	}
	take_backup(3);
	ts_dropped = false;
	for (uint64_t s = 2; s <= 10; s++)
		put_segment(1, s);
	h_log_reset();
}

/* ---- checks ------------------------------------------------------------------ */

/* What pitr-recover writes itself, or only the last backup decides. */
static bool
not_compared(const char *rel)
{
	static const char *names[] = { "backup_label", "tablespace_map", "postgresql.conf",
				       "postgresql.auto.conf", "pg_hba.conf", "recovery.signal" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(rel, names[i]) == 0)
			return true;
	return strncmp(rel, "pg_wal/", 7) == 0 || strncmp(rel, "pg_tblspc/", 10) == 0;
}

/* Every entry of `a` is in `b` alike (files byte for byte); with `both`,
 * b has nothing more. */
static void
same_tree(const char *a, const char *b, const char *rel, bool both)
{
	DIR *d = opendir(h_fmt("%s%s%s", a, *rel ? "/" : "", rel));
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char r[PATH_MAX], pa[2 * PATH_MAX + 2], pb[2 * PATH_MAX + 2];
		struct stat sa, sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(r, sizeof(r), "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		if (not_compared(r))
			continue;
		snprintf(pa, sizeof(pa), "%s/%s", a, r);
		snprintf(pb, sizeof(pb), "%s/%s", b, r);
		ck_assert_int_eq(lstat(pa, &sa), 0);
		ck_assert_msg(lstat(pb, &sb) == 0, "%s is missing", pb);
		ck_assert_uint_eq(sa.st_mode & S_IFMT, sb.st_mode & S_IFMT);
		if (S_ISDIR(sa.st_mode))
			same_tree(a, b, r, both);
		else if (S_ISREG(sa.st_mode))
			ck_assert_msg(pitr_fsutil_files_equal(pa, pb) == 1, "%s differs from %s", pb, pa);
	}
	closedir(d);
	if (both)
		same_tree(b, a, rel, false);
}

static void
assert_nothing_left(void)
{
	DIR *d = opendir(h_dir());
	struct dirent *de;

	ck_assert_int_eq(h_exists(h_path("new")), 0);
	ck_assert_int_eq(h_count_entries(h_path("ts-new")), 0);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(strstr(de->d_name, "pitr-tmp") == NULL, "left behind: %s", de->d_name);
	closedir(d);
}

/* The log has exactly one ERROR line, and it holds `want`. */
static void
assert_error(const char *want)
{
	const char *log = h_log();
	const char *e = strstr(log, "ERROR : ");

	ck_assert_msg(e != NULL, "no error in: %s", log);
	ck_assert_ptr_null(strstr(e + 1, "ERROR : "));
	ck_assert_msg(strstr(e, want) != NULL && strstr(e, want) < strchr(e, '\n'),
		      "error \"%.*s\" lacks \"%s\"", (int)(strchr(e, '\n') - e), e, want);
}

static const char *tsmap[1];
static char tsmap_arg[16384], target_arg[8300];

static void
chain_opts(struct pitr_recover_opts *o)
{
	opts_init(o);
	mk(h_path("ts-new"));
	snprintf(tsmap_arg, sizeof(tsmap_arg), "%s=%s", ts, h_path("ts-new"));
	tsmap[0] = tsmap_arg;
	snprintf(target_arg, sizeof(target_arg), "%s", h_path("new"));
	o->target_dir = target_arg;
	o->tablespace_map = tsmap;
	o->ntablespace_map = 1;
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(test_chain_to_end)
{
	struct pitr_recover_opts o;
	const char *nd = h_path("new");
	size_t len;
	char *label;

	make_chain();
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert_ptr_nonnull(strstr(h_log(), "backup \"bk-*-3.tar.gz\" is incremental: applied over a "
				     "chain of 2 (full backup \"bk-*-1.tar.gz\" first)"));
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-2.tar.gz\" (1 of 2)"));
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-3.tar.gz\" (2 of 2)"));
	same_tree(src, nd, "", true);
	same_tree(ts, h_path("ts-new"), "", true);
	label = h_read_file(h_fmt("%s/backup_label", nd), &len);
	ck_assert_str_eq(label, "START WAL LOCATION: backup 3\n");
	free(label);
	/* Only the last backup's WAL. */
	ck_assert_int_eq(h_count_entries(h_fmt("%s/pg_wal", nd)), 3);
	ck_assert_int_eq(h_exists(h_fmt("%s/pg_wal/000000010000000000000006", nd)), 1);
	ck_assert_int_eq(h_exists(h_fmt("%s/pg_wal/000000010000000000000007", nd)), 1);
	ck_assert_int_eq(h_exists(h_fmt("%s/.pitrkit-apply", nd)), 0);
}
END_TEST

/* A time inside the chain: the full backup and the first incremental. */
START_TEST(test_chain_to_middle)
{
	struct pitr_recover_opts o;

	make_chain();
	chain_opts(&o);
	o.target_time = "2024-03-01 13:30:00+00";
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "backup \"bk-*-2.tar.gz\" is incremental: applied over a "
				     "chain of 1"));
	ck_assert_ptr_null(strstr(h_log(), "bk-*-3"));
	same_tree(h_path("state2"), h_path("new"), "", true);
	same_tree(h_path("state2-ts"), h_path("ts-new"), "", true);
	ck_assert_int_eq(h_exists(h_fmt("%s/base/2", h_path("new"))), 0);
}
END_TEST

/* The tablespace dropped before the second incremental: what the first
 * two backups put there is gone again, and it is named nowhere. */
START_TEST(test_chain_tablespace_dropped)
{
	struct pitr_recover_opts o;
	size_t len;
	char *map;

	drop_ts = true;
	make_chain();
	drop_ts = false;
	opts_init(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : tablespace \"%s\" is gone in backup "
						 "\"bk-*-3.tar.gz\": \"%s\" emptied\n", ts, ts)));
	ck_assert_int_eq(h_exists(ts), 0);
	same_tree(src, h_path("new"), "", true);
	map = h_read_file(h_fmt("%s/tablespace_map", h_path("new")), &len);
	ck_assert_str_eq(map, "");
	free(map);
}
END_TEST

START_TEST(test_chain_missing_link)
{
	struct pitr_recover_opts o;

	make_chain();
	ck_assert_int_eq(unlink(h_fmt("%s/bk-data-2.tar.gz", bk)), 0);
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	assert_error(h_fmt("backup \"bk-*-3.tar.gz\" is incremental: its chain needs backup \"inc1\", "
			   "whose data file is missing from \"%s\": nothing written", bk));
	assert_nothing_left();
	ck_assert_int_eq(unlink(h_fmt("%s/bk-meta-2.tar.gz", bk)), 0);
	h_log_reset();
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	assert_error(h_fmt("backup \"bk-*-3.tar.gz\" is incremental: its chain needs backup \"inc1\", "
			   "which \"%s\" does not hold: nothing written", bk));
	assert_nothing_left();
}
END_TEST

START_TEST(test_chain_missing_sig)
{
	struct pitr_recover_opts o;

	make_chain();
	ck_assert_int_eq(unlink(h_fmt("%s/bk-sig-1.tar.gz", bk)), 0);
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	assert_error(h_fmt("backup \"full\" (the full backup of the chain of \"bk-*-3.tar.gz\") has no "
			   "sig file in \"%s\": nothing written", bk));
	assert_nothing_left();
}
END_TEST

/* A damaged incremental tarball is read through, and refused, before
 * anything is written. */
START_TEST(test_chain_damaged_tarball)
{
	struct pitr_recover_opts o;
	const char *path;
	size_t len;
	unsigned char *buf;

	make_chain();
	path = h_fmt("%s/bk-data-2.tar.gz", bk);
	buf = slurp(path, &len);
	buf[len / 2] ^= 0xff;
	h_write_file(path, buf, len);
	free(buf);
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	assert_error(path);
	ck_assert_ptr_null(strstr(h_log(), "applying"));
	ck_assert_ptr_null(strstr(h_log(), "extracted"));
	assert_nothing_left();
}
END_TEST

/* The chain made with `*knob` set to `key` (and the flags the caller
 * set), the knob and the flags reset, then recovered: refused. */
static void
recover_damaged(const char **knob, const char *key)
{
	struct pitr_recover_opts o;

	*knob = key;
	make_chain();
	*knob = NULL;
	dup_in = NULL;
	with_digests = format1 = false;
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
}

/* A chunk whose bytes are not what its digest says (format 2; format
 * 1's check by the records: test_chain_format1_tamper). */
START_TEST(test_chain_chunk_mismatch)
{
	recover_damaged(&tamper_key, "data/base/1/100");
	assert_error("chunk 1 of \"data/base/1/100\" does not match the signature backup \"bk-*-2.tar.gz\" recorded for it");
	assert_nothing_left();
}
END_TEST

/* A chunk whose blocks are all as they were, while its records say it
 * changed: in format 2 refused by its digest (format 1's check by the
 * records: test_chain_format1_stale). */
START_TEST(test_chain_chunk_stale)
{
	recover_damaged(&stale_key, "data/base/1/100");
	assert_error("chunk 1 of \"data/base/1/100\" does not match the signature backup \"bk-*-2.tar.gz\" recorded for it");
	assert_nothing_left();
}
END_TEST

/* The chunks of a changed file left out of the first incremental: read
 * through, it is refused before anything is written. */
START_TEST(test_chain_chunk_missing)
{
	recover_damaged(&skip_key, "data/base/1/100");
	assert_error(h_fmt("\"%s/bk-data-2.tar.gz\" (backup \"inc1\") holds 1 chunk members, its "
			   "manifest lists 4: the backup is damaged, nothing written", bk));
	ck_assert_ptr_null(strstr(h_log(), "applying"));
	assert_nothing_left();
}
END_TEST

/* Likewise with digests: the link is not read through before, its chunk
 * members are counted in its pass, and the missing ones refused at its
 * end: one line, nothing left. */
START_TEST(test_chain_digests_chunk_missing)
{
	with_digests = true;
	recover_damaged(&skip_key, "data/base/1/100");
	assert_error(h_fmt("\"%s/bk-data-2.tar.gz\" (backup \"inc1\") holds 1 chunk members, its "
			   "manifest lists 4: the backup is damaged\n", bk));
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-2.tar.gz\""));
	assert_nothing_left();
}
END_TEST

/* A chunk member larger than any chunk's delta can be: refused as such
 * in its pass (the read-through before does not read members' data), one
 * line, nothing left. */
START_TEST(test_chain_chunk_too_big)
{
	recover_damaged(&big_key, "data/base/1/100");
	assert_error(h_fmt("chunk member \".pitrkit/data/base/1/100/1.w\" of \"%s/bk-data-2.tar.gz\" "
			   "holds %d bytes, more than a chunk's delta can: the backup is damaged", bk,
			   PITR_DELTA_CHUNK + PITR_DELTA_CHUNK / 8 + 4096 + 1));
	assert_nothing_left();
}
END_TEST

/* As many chunk members as the manifest lists, one of them twice and
 * another not at all: refused before anything is written. */
START_TEST(test_chain_chunk_twice)
{
	recover_damaged(&dup_key, "data/base/1/100");
	assert_error("is stored twice: the backup is damaged, nothing written");
	ck_assert_ptr_null(strstr(h_log(), "applying"));
	assert_nothing_left();
}
END_TEST

/* Format 2: a chunk whose bytes and block records agree, but not its
 * digest, is refused; met in the last link's pass, once the first link
 * and some of the last one's files were applied, it is still one line
 * and nothing left. */
START_TEST(test_chain_chunk_digest)
{
	char key[PATH_MAX + 64];

	snprintf(key, sizeof(key), "tablespaces%s/PG_15_202209061/5/500", ts);
	recover_damaged(&digest_key, key);
	assert_error(h_fmt("chunk 1 of \"%s\" does not match the signature backup \"bk-*-3.tar.gz\" "
			   "recorded for it", key));
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-3.tar.gz\" (2 of 2)"));
	assert_nothing_left();
}
END_TEST

/* A damaged chunk of the last link, met in its pass after the first
 * link was applied: one line, nothing left. */
START_TEST(test_chain_chunk_damaged_late)
{
	char key[PATH_MAX + 64];

	snprintf(key, sizeof(key), "tablespaces%s/PG_15_202209061/5/500", ts);
	recover_damaged(&tamper_key, key);
	assert_error(h_fmt("chunk 1 of \"%s\"", key));
	assert_error("bk-*-3.tar.gz");
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-3.tar.gz\" (2 of 2)"));
	assert_nothing_left();
}
END_TEST

/* Links whose digests were checked are not read through before: their
 * chunk members are tallied in their pass, and a chunk stored twice in
 * place of another is still refused there, one line, nothing left. */
START_TEST(test_chain_digests)
{
	struct pitr_recover_opts o;

	with_digests = true;
	make_chain();
	with_digests = false;
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert_ptr_nonnull(strstr(h_log(), "3 sig files, 0 incremental data tarballs read through, "
				     "2 proven by their digests"));
	same_tree(src, h_path("new"), "", true);
	same_tree(ts, h_path("ts-new"), "", true);
}
END_TEST

/* The chain pitr-backup-* makes without --digest: a full backup without
 * digests, incrementals with SHA-256 ones; those links are proven by their
 * digests, not read through. */
START_TEST(test_chain_incr_digests)
{
	struct pitr_recover_opts o;

	incr_digests = true;
	make_chain();
	incr_digests = false;
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert_ptr_nonnull(strstr(h_log(), "backup \"bk-*-1.tar.gz\" has no digests"));
	ck_assert_ptr_nonnull(strstr(h_log(), "SHA-256 digests of backup \"bk-*-3.tar.gz\" match"));
	ck_assert_ptr_nonnull(strstr(h_log(), "3 sig files, 0 incremental data tarballs read through, "
				     "2 proven by their digests"));
	same_tree(src, h_path("new"), "", true);
	same_tree(ts, h_path("ts-new"), "", true);
}
END_TEST

/* An incremental damaged in place (its length kept) fails its SHA-256
 * digest: refused in one line naming it, before any link is read or
 * anything written. */
START_TEST(test_chain_incr_digest_damaged)
{
	struct pitr_recover_opts o;
	char path[8300];
	size_t len;
	unsigned char *buf;

	incr_digests = true;
	make_chain();
	incr_digests = false;
	snprintf(path, sizeof(path), "%s/bk-data-2.tar.gz", bk);
	buf = slurp(path, &len);
	buf[len / 2] ^= 0xff;
	h_write_file(path, buf, len);
	free(buf);
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	assert_error(h_fmt("\"%s\" does not match its SHA-256 digest in \"%s/bk-SHA-256-2.tar\"",
			   path, bk));
	ck_assert_ptr_null(strstr(h_log(), "read through"));
	ck_assert_ptr_null(strstr(h_log(), "applying"));
	ck_assert_ptr_null(strstr(h_log(), "extracted"));
	assert_nothing_left();
}
END_TEST

START_TEST(test_chain_digests_twice)
{
	with_digests = true;
	recover_damaged(&dup_key, "data/base/1/100");
	assert_error("is stored twice: the backup is damaged");
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-2.tar.gz\""));
	assert_nothing_left();
}
END_TEST

START_TEST(test_chain_other_cluster)
{
	struct pitr_recover_opts o;

	sig_sysid = SYSID + 1;
	make_chain();
	sig_sysid = SYSID;
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : "));
	ck_assert_ptr_null(strstr(h_log(), "applying"));
	assert_nothing_left();
}
END_TEST

/* check.c, compiled into this test for recover_chunk_parse(), needs
 * hosts.c's and files.c's (not exported) recover_backup_dir(),
 * recover_file_open() and recover_file_close(), which the test does not
 * reach. */
const char *
recover_backup_dir(const struct recover_run *run)
{
	(void)run;
	return "";
}

int
recover_file_open(const struct recover_run *run, const struct pitr_catalog_backup *b,
		  const char *name, const char *what, char **path)
{
	(void)run, (void)b, (void)name, (void)what;
	*path = NULL;
	return -1;
}

int
recover_file_close(const struct recover_run *run, const struct pitr_catalog_backup *b, int fd,
		   bool read_whole)
{
	(void)run, (void)b, (void)fd, (void)read_whole;
	return -1;
}

/* Names shorter than the chunk members' prefix are no chunks, read no
 * further than their end (ASan's build proves the latter). */
START_TEST(test_chunk_parse_short)
{
	char *key = NULL;
	uint32_t k = 0;
	bool whole = false;

	ck_assert_int_eq(recover_chunk_parse("a", &key, &k, &whole), 1);
	ck_assert_int_eq(recover_chunk_parse(".pitrkit", &key, &k, &whole), 1);
	ck_assert_ptr_null(key);
	ck_assert_int_eq(recover_chunk_parse(".pitrkit/data/x/3.d", &key, &k, &whole), 0);
	ck_assert_str_eq(key, "data/x");
	ck_assert_uint_eq(k, 3);
	ck_assert(!whole);
	free(key);
}
END_TEST

/* ---- format 1 ----------------------------------------------------------------- */

/* A chain of format 1 (every sig file without digests, every delta one
 * librsync delta of the whole chunk), its chunks checked block by block
 * against their records: recovered byte for byte. */
START_TEST(test_chain_format1)
{
	struct pitr_recover_opts o;
	struct pitr_delta_sigs sigs;

	format1 = true;
	make_chain();
	format1 = false;
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/bk-sig-3.tar.gz", bk), PITR_CODEC_GZIP, &sigs),
			 0);
	ck_assert_int_eq(sigs.format, 1);
	pitr_delta_sigs_free(&sigs);
	chain_opts(&o);
	ck_assert_int_eq(pitr_cmd_recover(&o), 0);
	ck_assert_ptr_null(strstr(h_log(), "ERROR"));
	ck_assert_ptr_nonnull(strstr(h_log(), "applying incremental backup \"bk-*-3.tar.gz\" (2 of 2)"));
	same_tree(src, h_path("new"), "", true);
	same_tree(ts, h_path("ts-new"), "", true);
}
END_TEST

/* Format 1: a damaged delta (a byte of its literal data flipped) makes a
 * chunk its records refuse: one line, nothing left. */
START_TEST(test_chain_format1_tamper)
{
	format1 = true;
	recover_damaged(&tamper_key, "data/base/1/100");
	assert_error("chunk 1 of \"data/base/1/100\"");
	assert_error("bk-*-2.tar.gz");
	assert_nothing_left();
}
END_TEST

/* Format 1: a chunk whose bytes are the base's while its records say it
 * changed: refused by its records alone. */
START_TEST(test_chain_format1_stale)
{
	format1 = true;
	recover_damaged(&stale_key, "data/base/1/100");
	assert_error("chunk 1 of \"data/base/1/100\" does not match the signature backup "
		     "\"bk-*-2.tar.gz\" recorded for it");
	assert_nothing_left();
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("recover_chain");
	TCase *tc = tcase_create("chain");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_chain_to_end);
	tcase_add_test(tc, test_chain_to_middle);
	tcase_add_test(tc, test_chain_tablespace_dropped);
	tcase_add_test(tc, test_chain_missing_link);
	tcase_add_test(tc, test_chain_missing_sig);
	tcase_add_test(tc, test_chain_damaged_tarball);
	tcase_add_test(tc, test_chain_chunk_mismatch);
	tcase_add_test(tc, test_chain_chunk_stale);
	tcase_add_test(tc, test_chain_chunk_twice);
	tcase_add_test(tc, test_chain_chunk_too_big);
	tcase_add_test(tc, test_chain_chunk_missing);
	tcase_add_test(tc, test_chain_digests_chunk_missing);
	tcase_add_test(tc, test_chain_chunk_digest);
	tcase_add_test(tc, test_chain_chunk_damaged_late);
	tcase_add_test(tc, test_chain_digests);
	tcase_add_test(tc, test_chain_incr_digests);
	tcase_add_test(tc, test_chain_incr_digest_damaged);
	tcase_add_test(tc, test_chain_digests_twice);
	tcase_add_test(tc, test_chain_other_cluster);
	tcase_add_test(tc, test_chunk_parse_short);
	tcase_add_test(tc, test_chain_format1);
	tcase_add_test(tc, test_chain_format1_tamper);
	tcase_add_test(tc, test_chain_format1_stale);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(suite());
}
