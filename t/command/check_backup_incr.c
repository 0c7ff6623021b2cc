/* check_backup_incr.c - pitr-backup-master's sig file and incremental
 * backups (--incremental-from, issue 13) against the scripted server of
 * t/server/pqfake.h: a full backup's signatures are those of the bytes
 * stored; an incremental stores a changed chunk as a delta (one page
 * changed) or whole (all changed), leaves unchanged chunks and files out,
 * stores new files, pg_control and the label whole and records removed
 * files; its signatures composed over the chain are those of the files
 * now, and its deltas patch the base's chunks into today's.  The base is
 * found by "latest", by label and by name; refused: a base without sig
 * file, a chain missing a link, one not found, one of an older format
 * (which "latest" passes over for a full backup). */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "command/backup/backup.h"
#include "command/backup/backup_impl.h"
#include "common/log.h"
#include "compress/codec.h"
#include "delta/delta.h"
#include "digest/digest.h"
#include "harness.h"
#include "repo/catalog.h"
#include "repo/meta.h"
#include "server/pqfake.h"
#include "tar/tarread.h"
#include "tar/tarwrite.h"

#define REL "base/5/1259"
#define REL_SIZE (3 * PITR_DELTA_CHUNK + 100)

/* pitr-archive --dst-backup at work: segments 2 and 3 reach -x. */
static void
archive_to_xlogs(void *arg)
{
	(void)arg;
	bf_put_segment(bf_xlogs, 2, PITR_CODEC_NONE);
	bf_put_segment(bf_xlogs, 3, PITR_CODEC_NONE);
}

/* The session of a whole backup. */
static void
script_backup(void)
{
	bf_script_connect(bf_pgdata, "f");
	bf_script_archiving();
	bf_script_start();
	bf_script_stop(BF_STOP_NOWAIT, false, NULL);
	h_pq_during(archive_to_xlogs, NULL);
	bf_script_finish();
}

/* The label of the last run, from its "started" line. */
static char *
last_label(void)
{
	const char *p = NULL, *q = h_log();
	char label[512];

	while ((q = strstr(q, "LOG : backup \"")) != NULL)
		p = q++;
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(sscanf(p, "LOG : backup \"%511[^\"]\" started", label), 1);
	return strdup(label);
}

/* A pseudo-random buffer (xorshift), the same for the same seed. */
static void
fill(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

static const struct pitr_delta_file *
file_of(const struct pitr_delta_sigs *s, const char *key)
{
	const struct pitr_delta_file *f = pitr_delta_sigs_find(s, key);

	ck_assert_msg(f != NULL, "no %s in the manifest", key);
	return f;
}

/* The records of a whole buffer, chunk by chunk. */
static unsigned char *
records_of(const unsigned char *buf, size_t len)
{
	unsigned char *r = malloc(PITR_DELTA_NBLOCKS(len) * PITR_DELTA_RECORD + 1);

	for (size_t off = 0; off < len; off += PITR_DELTA_CHUNK) {
		size_t n = len - off < PITR_DELTA_CHUNK ? len - off : PITR_DELTA_CHUNK;

		ck_assert_int_eq(pitr_delta_chunk_sig(buf + off, n, r + off / PITR_DELTA_BLOCK *
						      PITR_DELTA_RECORD), 0);
	}
	return r;
}

/* Until the clock's second changes: a backup's label holds its start
 * time to the second, and a chain names its links by label. */
static void
next_second(void)
{
	time_t t0 = time(NULL);

	while (time(NULL) == t0)
		usleep(10000);
}

/* A full backup of bf_pgdata with REL of REL_SIZE bytes (seed 1) and a
 * file to be removed; returns its label. */
static char *
full_backup(unsigned char *rel)
{
	struct pitr_backup_opts o;

	fill(rel, REL_SIZE, 1);
	h_write_file(h_fmt("%s/" REL, bf_pgdata), rel, REL_SIZE);
	h_write_file(h_fmt("%s/base/5/2000", bf_pgdata), "gone soon", 9);
	bf_opts(&o);
	script_backup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	return last_label();
}

/* A full backup's sig file: every file whole, signed as stored. */
START_TEST(test_full_sig)
{
	unsigned char *rel = malloc(REL_SIZE);
	struct pitr_delta_sigs s;
	const struct pitr_delta_file *f;
	unsigned char *want;
	char *label, *l;

	bf_setup();
	label = full_backup(rel);
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\n");
	free(l);
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/bk-sig.tar", bf_dest), PITR_CODEC_NONE, &s),
			 0);
	ck_assert_uint_eq(s.sysid, BF_SYSID);
	ck_assert_str_eq(s.label, label);
	ck_assert_ptr_null(s.base);
	for (size_t i = 0; i < s.nfiles; i++)
		ck_assert_int_eq(s.files[i].kind, PITR_DELTA_WHOLE);
	f = file_of(&s, "data/" REL);
	ck_assert_uint_eq(f->size, REL_SIZE);
	want = records_of(rel, REL_SIZE);
	ck_assert(memcmp(f->records, want, PITR_DELTA_NBLOCKS(REL_SIZE) * PITR_DELTA_RECORD) == 0);
	free(want);
	ck_assert_uint_eq(file_of(&s, "data/backup_label")->size, strlen(bf_label(false)));
	ck_assert_uint_eq(file_of(&s, "data/global/pg_control")->size, 8192);
	ck_assert_uint_eq(file_of(&s, "data/PG_VERSION")->size, 3);
	ck_assert_uint_eq(file_of(&s, h_fmt("tablespaces%s/PG_15_202209061/5/16385", bf_ts))->size,
			  19);
	ck_assert_ptr_null(pitr_delta_sigs_find(&s, "data/postmaster.pid"));
	pitr_delta_sigs_free(&s);
	free(label);
	free(rel);
	bf_teardown();
}
END_TEST

/* Incremental run `tmpl` on `from`; its exit.  The session is the
 * caller's script. */
static int
run_incremental(const char *tmpl, const char *from)
{
	struct pitr_backup_opts o;

	bf_opts(&o);
	o.filename_template = tmpl;
	o.incremental_from = from;
	return pitr_cmd_backup_master(&o);
}

/* The same with a whole backup's session. */
static int
incremental(const char *tmpl, const char *from)
{
	script_backup();
	return run_incremental(tmpl, from);
}

/* Today's REL: chunk 0 and 3 as in the base, one page of chunk 1
 * changed, chunk 2 all new. */
static void
change_rel(unsigned char *rel)
{
	memset(rel + PITR_DELTA_CHUNK + 5 * PITR_DELTA_BLOCK + 17, 0xA5, 300);
	fill(rel + 2 * PITR_DELTA_CHUNK, PITR_DELTA_CHUNK, 2);
	h_write_file(h_fmt("%s/" REL, bf_pgdata), rel, REL_SIZE);
	ck_assert_int_eq(unlink(h_fmt("%s/base/5/2000", bf_pgdata)), 0);
	h_write_file(h_fmt("%s/base/5/3000", bf_pgdata), "new", 3);
}

/* Patch the base's chunk 1 with the stored delta: today's chunk 1. */
static void
assert_delta_patches(const char *data, const unsigned char *base, const unsigned char *now)
{
	size_t dlen, outlen;
	char *delta = bf_tar_member(data, PITR_CODEC_NONE, ".pitrkit/data/" REL "/1.d", &dlen);
	unsigned char *out = malloc(PITR_DELTA_CHUNK);

	/* One page changed: the delta is about that page. */
	ck_assert_uint_lt(dlen, 2 * PITR_DELTA_BLOCK);
	ck_assert_int_eq(pitr_delta_chunk_patch(base + PITR_DELTA_CHUNK, PITR_DELTA_CHUNK, delta, dlen,
						PITR_DELTA_FORMAT, out, &outlen, "chunk 1"), 0);
	ck_assert_uint_eq(outlen, PITR_DELTA_CHUNK);
	ck_assert(memcmp(out, now + PITR_DELTA_CHUNK, PITR_DELTA_CHUNK) == 0);
	free(out);
	free(delta);
}

/* What the incremental's data tarball holds of the files. */
static void
assert_incr_members(const char *data)
{
	char *list = bf_tar_list(data, PITR_CODEC_NONE), *w;
	size_t len;

	ck_assert_ptr_nonnull(strstr(list, ".pitrkit/data/" REL "/1.d "));
	ck_assert_ptr_nonnull(strstr(list, h_fmt(".pitrkit/data/" REL "/2.w %d\n",
						 PITR_DELTA_CHUNK)));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" REL "/0."));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" REL "/3."));
	ck_assert_ptr_null(strstr(list, "pgdata/" REL " "));
	ck_assert_ptr_null(strstr(list, "pgdata/PG_VERSION "));
	ck_assert_ptr_null(strstr(list, "PG_15_202209061/5/16385 "));
	ck_assert_ptr_nonnull(strstr(list, "pgdata/base/5/3000 3\n"));
	ck_assert_ptr_nonnull(strstr(list, "pgdata/global/pg_control 8192\n"));
	ck_assert_ptr_nonnull(strstr(list, "pgdata/backup_label "));
	/* Directories as in a full backup. */
	ck_assert_ptr_nonnull(strstr(list, "pgdata/base/5/ 0\n"));
	w = bf_tar_member(data, PITR_CODEC_NONE, ".pitrkit/data/" REL "/2.w", &len);
	ck_assert_uint_eq(len, PITR_DELTA_CHUNK);
	free(w);
	free(list);
}

/* The incremental's manifest, and its signatures composed over the chain:
 * today's REL's. */
static void
assert_incr_sigs(const char *full_label, const unsigned char *now)
{
	struct pitr_delta_sigs links[2];
	const struct pitr_delta_file *f;
	struct pitr_delta_chain *c;
	const unsigned char *rec, *dig;
	unsigned char *want, d[PITR_DELTA_DIGEST];
	uint64_t size;

	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/bk-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &links[0]), 0);
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/inc-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &links[1]), 0);
	ck_assert_str_eq(links[1].base, full_label);
	f = file_of(&links[1], "data/" REL);
	ck_assert_int_eq(f->kind, PITR_DELTA_DELTA);
	ck_assert_uint_eq(f->nchunks, 2);
	ck_assert_uint_eq(f->chunks[0], 1);
	ck_assert_uint_eq(f->chunks[1], 2);
	ck_assert_int_eq(file_of(&links[1], "data/base/5/2000")->kind, PITR_DELTA_REMOVED);
	ck_assert_int_eq(file_of(&links[1], "data/base/5/3000")->kind, PITR_DELTA_WHOLE);
	ck_assert_int_eq(file_of(&links[1], "data/PG_VERSION")->kind, PITR_DELTA_SAME);
	ck_assert_int_eq(file_of(&links[1], "data/global/pg_control")->kind, PITR_DELTA_WHOLE);
	ck_assert_int_eq(file_of(&links[1], "data/backup_label")->kind, PITR_DELTA_WHOLE);
	c = pitr_delta_chain_compose(links, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert(pitr_delta_chain_lookup(c, "data/" REL, &size, &rec, &dig));
	ck_assert_uint_eq(size, REL_SIZE);
	want = records_of(now, REL_SIZE);
	ck_assert(memcmp(rec, want, PITR_DELTA_NBLOCKS(REL_SIZE) * PITR_DELTA_RECORD) == 0);
	/* Each chunk's digest: the base's kept, the stored ones today's. */
	ck_assert_int_eq(pitr_delta_chain_format(c), PITR_DELTA_FORMAT);
	ck_assert_ptr_nonnull(dig);
	for (size_t k = 0; k < PITR_DELTA_NCHUNKS(REL_SIZE); k++) {
		size_t off = k * PITR_DELTA_CHUNK;

		ck_assert_int_eq(pitr_delta_chunk_digest(now + off, REL_SIZE - off < PITR_DELTA_CHUNK ?
							 REL_SIZE - off : PITR_DELTA_CHUNK, d), 0);
		ck_assert(memcmp(dig + k * PITR_DELTA_DIGEST, d, PITR_DELTA_DIGEST) == 0);
	}
	ck_assert(!pitr_delta_chain_lookup(c, "data/base/5/2000", &size, &rec, NULL));
	free(want);
	pitr_delta_chain_free(c);
	pitr_delta_sigs_free(&links[0]);
	pitr_delta_sigs_free(&links[1]);
}

START_TEST(test_incremental_latest)
{
	unsigned char *base = malloc(REL_SIZE), *now = malloc(REL_SIZE);
	struct pitr_catalog_backup b;
	char err[256], *text, *full, *inc;

	bf_setup();
	full = full_backup(base);
	memcpy(now, base, REL_SIZE);
	change_rel(now);
	h_log_reset();
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", "latest"), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : incremental backup on \"%s\" in \"%s\" "
						    "(a chain of 1)\n", full, bf_dest)));
	inc = last_label();
	assert_incr_members(h_fmt("%s/inc-data.tar", bf_dest));
	assert_delta_patches(h_fmt("%s/inc-data.tar", bf_dest), base, now);
	assert_incr_sigs(full, now);
	memset(&b, 0, sizeof(b));
	text = bf_read(h_fmt("%s/inc-meta.tar", bf_dest), PITR_CODEC_NONE, NULL);
	ck_assert_msg(pitr_meta_parse(text, "meta", &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(b.label, inc);
	ck_assert_str_eq(b.base, full);
	ck_assert_str_eq(b.chain, full);
	pitr_meta_clear(&b);
	free(text);
	free(full);
	free(inc);
	free(base);
	free(now);
	bf_teardown();
}
END_TEST

/* The line of the one error a refused run logs. */
static void
assert_refused(const char *tmpl, const char *from, const char *line)
{
	char *before = bf_dir_list(bf_dest), *after;

	next_second();
	h_log_reset();
	bf_script_connect(bf_pgdata, "f");
	bf_script_finish();
	ck_assert_int_eq(run_incremental(tmpl, from), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : %s\n", line));
	after = bf_dir_list(bf_dest);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}

/* A base named by its label, and a second incremental on the first named
 * by its name as pitr-info shows it: a chain of two, which the meta
 * lists.  Refused: a name no backup has, a base without sig file (taken
 * before issue 13), a chain whose full backup is gone. */
START_TEST(test_incremental_named)
{
	unsigned char *rel = malloc(REL_SIZE);
	struct pitr_catalog_backup b;
	char err[256], *text, *full, *inc, *inc2;

	bf_setup();
	full = full_backup(rel);
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", full), 0);
	inc = last_label();
	next_second();
	h_log_reset();
	ck_assert_int_eq(incremental("inc2-__FILETYPE__.tar__CEXT__", "inc-*.tar"), 0);
	inc2 = last_label();
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : incremental backup on \"%s\" in \"%s\" "
						    "(a chain of 2)\n", inc, bf_dest)));
	memset(&b, 0, sizeof(b));
	text = bf_read(h_fmt("%s/inc2-meta.tar", bf_dest), PITR_CODEC_NONE, NULL);
	ck_assert_msg(pitr_meta_parse(text, "meta", &b, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(b.base, inc);
	ck_assert_str_eq(b.chain, h_fmt("%s|%s", full, inc));
	pitr_meta_clear(&b);
	free(text);

	assert_refused("x-__FILETYPE__.tar__CEXT__", "pitrkit nosuch",
		       "base backup \"pitrkit nosuch\" not found in the --dst-local dirs");
	ck_assert_int_eq(rename(h_fmt("%s/bk-sig.tar", bf_dest), h_fmt("%s/bk-sig.old", bf_dest)), 0);
	assert_refused("x-__FILETYPE__.tar__CEXT__", full,
		       h_fmt("backup \"%s\" in \"%s\" has no sig file: it cannot be the base of an "
			     "incremental backup", full, bf_dest));
	ck_assert_int_eq(unlink(h_fmt("%s/bk-meta.tar", bf_dest)), 0);
	assert_refused("x-__FILETYPE__.tar__CEXT__", "latest",
		       h_fmt("the chain of base backup \"%s\" lacks backup \"%s\" in \"%s\"", inc2,
			     full, bf_dest));
	free(inc2);
	free(full);
	free(inc);
	free(rel);
	bf_teardown();
}
END_TEST

/* An incremental on "latest" into the --dst-local dirs `first`, then
 * `second`; its exit. */
static int
incremental_two_dirs(const char *first, const char *second)
{
	struct pitr_backup_opts o;
	const char *dl[2] = { first, second };

	bf_opts(&o);
	o.dst_local = dl;
	o.ndst_local = 2;
	o.filename_template = "inc-__FILETYPE__.tar__CEXT__";
	o.incremental_from = "latest";
	script_backup();
	return pitr_cmd_backup_master(&o);
}

/* The sig file `path` of a full backup rewritten as an older pitrkit's
 * (format 1): the digests after each file's records dropped. */
static void
sig_to_format1(const char *path)
{
	const char *tmp = h_fmt("%s.new", path);
	struct pitr_delta_sigs s;
	struct pitr_tarread_stream *in;
	struct pitr_tarwrite *out;
	const char *name;
	int64_t size;
	int fd, r;

	ck_assert_int_eq(pitr_delta_sigs_read(path, PITR_CODEC_NONE, &s), 0);
	ck_assert_ptr_nonnull(in = pitr_tarread_open(path, PITR_CODEC_NONE));
	ck_assert_int_ge(fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600), 0);
	out = pitr_tarwrite_new(h_fd_sink, &fd);
	while ((r = pitr_tarread_next(in, &name, &size)) == 1) {
		char *buf = malloc((size_t)size + 1), *f2;
		size_t len = (size_t)size;

		ck_assert_int_eq(pitr_tarread_read(in, buf, len), 0);
		if (strcmp(name, "manifest") == 0) {
			ck_assert_ptr_nonnull(f2 = strstr(buf, "format=2\n"));
			f2[7] = '1';
		} else {
			const struct pitr_delta_file *f = file_of(&s, name + strlen("sig/"));

			ck_assert_int_eq(f->kind, PITR_DELTA_WHOLE);
			len = PITR_DELTA_SIG_HEADER + PITR_DELTA_NBLOCKS(f->size) * PITR_DELTA_RECORD;
			ck_assert_uint_eq(len + PITR_DELTA_NCHUNKS(f->size) * PITR_DELTA_DIGEST,
					  (size_t)size);
		}
		ck_assert_int_eq(pitr_tarwrite_add_buffer(out, name, buf, len, 0600), 0);
		free(buf);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(pitr_tarwrite_finish(out), 0);
	pitr_tarwrite_free(out);
	pitr_tarread_close(in);
	close(fd);
	pitr_delta_sigs_free(&s);
	ck_assert_int_eq(rename(tmp, path), 0);
}

/* A base whose signatures are an older pitrkit's format: "latest" takes a
 * full backup with a warning, as with no base; a base named is refused. */
START_TEST(test_incremental_older_base)
{
	unsigned char *rel = malloc(REL_SIZE);
	struct pitr_delta_sigs s;
	char *full, *dest2;

	bf_setup();
	full = full_backup(rel);
	sig_to_format1(h_fmt("%s/bk-sig.tar", bf_dest));
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/bk-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &s), 0);
	ck_assert_int_eq(s.format, 1);
	pitr_delta_sigs_free(&s);
	next_second();
	assert_refused("x-__FILETYPE__.tar__CEXT__", full,
		       h_fmt("base backup \"%s\" in \"%s\" has signatures of an older pitrkit (sig "
			     "format 1): take a full backup first", full, bf_dest));
	next_second();
	h_log_reset();
	/* A second --dst-local dir without the base: no word of a chain it
	 * would need, since the backup is a full one. */
	dest2 = strdup(h_path("dest2"));
	ck_assert_int_eq(mkdir(dest2, 0700), 0);
	ck_assert_int_eq(incremental_two_dirs(bf_dest, dest2), 0);
	ck_assert_ptr_null(strstr(h_log(), "does not hold base backup"));
	free(dest2);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : WARNING: the latest backup \"%s\" in "
						    "\"%s\" has signatures of an older pitrkit "
						    "(sig format 1): taking a full backup\n", full,
						    bf_dest)));
	ck_assert_ptr_null(strstr(h_log(), "incremental backup on"));
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/inc-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &s), 0);
	ck_assert_ptr_null(s.base);
	ck_assert_int_eq(s.format, PITR_DELTA_FORMAT);
	ck_assert_int_eq(file_of(&s, "data/" REL)->kind, PITR_DELTA_WHOLE);
	pitr_delta_sigs_free(&s);
	free(full);
	free(rel);
	bf_teardown();
}
END_TEST

/* A second --dst-local dir without the base gets the incremental too,
 * with a warning that its chain is in the first. */
START_TEST(test_incremental_other_dir)
{
	unsigned char *rel = malloc(REL_SIZE);
	char *full, *dest2, *l;

	bf_setup();
	full = full_backup(rel);
	dest2 = strdup(h_path("dest2"));
	ck_assert_int_eq(mkdir(dest2, 0700), 0);
	next_second();
	h_log_reset();
	ck_assert_int_eq(incremental_two_dirs(dest2, bf_dest), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : incremental backup on \"%s\" in \"%s\"",
						    full, bf_dest)));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : WARNING: --dst-local \"%s\" does not hold "
						    "base backup \"%s\": the incremental backup "
						    "stored there needs its chain from \"%s\"\n",
						    dest2, full, bf_dest)));
	l = bf_dir_list(dest2);
	ck_assert_str_eq(l, "inc-SHA-256.tar\ninc-data.tar\ninc-meta.tar\ninc-sig.tar\n"
			 "inc-xlog.tar\n");
	free(l);
	free(dest2);
	free(full);
	free(rel);
	bf_teardown();
}
END_TEST

/* The digest algorithms backup `prefix`'s meta names, "A,B". */
static char *
meta_digests(const char *prefix)
{
	struct pitr_catalog_backup b;
	char err[256], *text, *out;

	memset(&b, 0, sizeof(b));
	text = bf_read(h_fmt("%s/%s-meta.tar", bf_dest, prefix), PITR_CODEC_NONE, NULL);
	ck_assert_msg(pitr_meta_parse(text, "meta", &b, err, sizeof(err)) == 0, "%s", err);
	out = strdup("");
	for (size_t i = 0; i < b.ndigests; i++) {
		char *next = strdup(h_fmt("%s%s%s", out, i > 0 ? "," : "", b.digests[i].algorithm));

		free(out);
		out = next;
	}
	pitr_meta_clear(&b);
	free(text);
	return out;
}

/* Backup `prefix`'s `algo` digest file lists its data tarball with the
 * tarball's real digest. */
static void
assert_digest_line(const char *prefix, const char *algo)
{
	char want[PITR_DIGEST_HEX_MAX], got[PITR_DIGEST_HEX_MAX];
	char *text = bf_read(h_fmt("%s/%s-%s.tar", bf_dest, prefix, algo), PITR_CODEC_NONE, NULL);

	ck_assert_int_eq(pitr_digest_lookup(text, h_fmt("%s-data.tar", prefix), want), 0);
	ck_assert_int_eq(pitr_digest_file(algo, h_fmt("%s/%s-data.tar", bf_dest, prefix), got), 0);
	ck_assert_str_eq(want, got);
	free(text);
}

/* An incremental always writes a SHA-256 digest file (pitr-recover's
 * chain pre-check proves the link by it without reading it through):
 * without --digest, SHA-256 alone; with --digest MD5, both; with --digest
 * SHA-256, that one only.  A full backup without --digest has none, nor
 * has "latest" falling back to a full one. */
START_TEST(test_incremental_sha256_always)
{
	unsigned char *rel = malloc(REL_SIZE);
	struct pitr_backup_opts o;
	char *l, *d;

	bf_setup();
	h_write_file(h_fmt("%s/" REL, bf_pgdata), "x", 1);
	script_backup();
	ck_assert_int_eq(run_incremental("lat-__FILETYPE__.tar__CEXT__", "latest"), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), "taking a full backup"));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "lat-data.tar\nlat-meta.tar\nlat-sig.tar\nlat-xlog.tar\n");
	free(l);
	d = meta_digests("lat");
	ck_assert_str_eq(d, "");
	free(d);
	next_second();

	free(full_backup(rel));
	l = bf_dir_list(bf_dest);
	ck_assert_str_eq(l, "bk-data.tar\nbk-meta.tar\nbk-sig.tar\nbk-xlog.tar\nlat-data.tar\n"
			 "lat-meta.tar\nlat-sig.tar\nlat-xlog.tar\n");
	free(l);
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", "latest"), 0);
	ck_assert(h_exists(h_fmt("%s/inc-SHA-256.tar", bf_dest)));
	assert_digest_line("inc", "SHA-256");
	d = meta_digests("inc");
	ck_assert_str_eq(d, "SHA-256");
	free(d);

	next_second();
	bf_opts(&o);
	o.filename_template = "md5-__FILETYPE__.tar__CEXT__";
	o.incremental_from = "latest";
	o.digests = "MD5";
	script_backup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	assert_digest_line("md5", "MD5");
	assert_digest_line("md5", "SHA-256");
	d = meta_digests("md5");
	ck_assert_str_eq(d, "MD5,SHA-256");
	free(d);

	next_second();
	o.filename_template = "sha-__FILETYPE__.tar__CEXT__";
	o.digests = "sha256";
	script_backup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	assert_digest_line("sha", "SHA-256");
	d = meta_digests("sha");
	ck_assert_str_eq(d, "SHA-256");
	free(d);
	l = bf_dir_list(bf_dest);
	ck_assert_ptr_null(strstr(l, "sha-MD5"));
	free(l);
	free(rel);
	bf_teardown();
}
END_TEST

/* ---- format 2: digests, the pool (issue 13, speed) ---- */

/* The digests of a whole buffer, chunk by chunk. */
static unsigned char *
digests_of(const unsigned char *buf, size_t len)
{
	unsigned char *d = malloc(PITR_DELTA_NCHUNKS(len) * PITR_DELTA_DIGEST + 1);

	for (size_t off = 0; off < len; off += PITR_DELTA_CHUNK)
		ck_assert_int_eq(pitr_delta_chunk_digest(buf + off, len - off < PITR_DELTA_CHUNK ?
							 len - off : PITR_DELTA_CHUNK,
							 d + off / PITR_DELTA_CHUNK *
							 PITR_DELTA_DIGEST), 0);
	return d;
}

/* A full backup of the files `rel[i]` (`buf[i]`, `len[i]` bytes). */
static char *
full_of(size_t n, const char *const *rel, unsigned char *const *buf, const size_t *len)
{
	struct pitr_backup_opts o;

	for (size_t i = 0; i < n; i++)
		h_write_file(h_fmt("%s/%s", bf_pgdata, rel[i]), buf[i], len[i]);
	bf_opts(&o);
	script_backup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	return last_label();
}

/* The chain of bk (the full) and inc composed: `key`'s size, records and
 * digests are those of `now` (`len` bytes). */
static void
assert_chain_is(const char *key, const unsigned char *now, size_t len)
{
	struct pitr_delta_sigs links[2];
	struct pitr_delta_chain *c;
	const unsigned char *rec, *dig;
	unsigned char *want_rec = records_of(now, len), *want_dig = digests_of(now, len);
	uint64_t size;

	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/bk-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &links[0]), 0);
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/inc-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &links[1]), 0);
	ck_assert_int_eq(links[1].format, PITR_DELTA_FORMAT);
	c = pitr_delta_chain_compose(links, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(pitr_delta_chain_lookup(c, key, &size, &rec, &dig), "%s", key);
	ck_assert_uint_eq(size, len);
	ck_assert(memcmp(rec, want_rec, PITR_DELTA_NBLOCKS(len) * PITR_DELTA_RECORD) == 0);
	ck_assert_ptr_nonnull(dig);
	ck_assert(memcmp(dig, want_dig, PITR_DELTA_NCHUNKS(len) * PITR_DELTA_DIGEST) == 0);
	pitr_delta_chain_free(c);
	pitr_delta_sigs_free(&links[0]);
	pitr_delta_sigs_free(&links[1]);
	free(want_rec);
	free(want_dig);
}

/* Flip a byte of the first record of `key` in the sig file `path`
 * (uncompressed): records that no longer match the file. */
static void
spoil_first_record(const char *path, const char *key)
{
	size_t len, flen;
	char *member = bf_tar_member(path, PITR_CODEC_NONE, h_fmt("sig/%s", key), &len);
	char *file = bf_read(path, PITR_CODEC_NONE, &flen), *at;
	FILE *f;

	ck_assert_uint_gt(len, PITR_DELTA_SIG_HEADER + PITR_DELTA_RECORD);
	at = memmem(file, flen, member, PITR_DELTA_SIG_HEADER + 4 * PITR_DELTA_RECORD);
	ck_assert_ptr_nonnull(at);
	at[PITR_DELTA_SIG_HEADER + 7] ^= 0x5A;
	f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, (long)(at - file) + PITR_DELTA_SIG_HEADER + 7, SEEK_SET), 0);
	ck_assert_int_eq(fputc((unsigned char)at[PITR_DELTA_SIG_HEADER + 7], f),
			 (unsigned char)at[PITR_DELTA_SIG_HEADER + 7]);
	ck_assert_int_eq(fclose(f), 0);
	free(member);
	free(file);
}

/* A chunk whose length and digest are the base's is not stored and not
 * signed: the base's records of chunk 0 were spoiled, and still chunk 0
 * is left out (records compared would have found it changed); a chunk of
 * the same length with other bytes (chunk 1, one page) is stored as a
 * delta that patches the base chunk into today's; the chain's records
 * and digests are today's, but for the spoiled record, which is the
 * base's. */
START_TEST(test_incremental_digest_same)
{
	unsigned char *base = malloc(REL_SIZE), *now = malloc(REL_SIZE), *out;
	const char *rel[1] = { REL };
	size_t len[1] = { REL_SIZE }, dlen, outlen;
	char *full, *list, *delta;

	bf_setup();
	fill(base, REL_SIZE, 1);
	full = full_of(1, rel, &base, len);
	spoil_first_record(h_fmt("%s/bk-sig.tar", bf_dest), "data/" REL);
	memcpy(now, base, REL_SIZE);
	memset(now + PITR_DELTA_CHUNK + 9 * PITR_DELTA_BLOCK + 5, 0x3C, 100);
	h_write_file(h_fmt("%s/" REL, bf_pgdata), now, REL_SIZE);
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", "latest"), 0);
	list = bf_tar_list(h_fmt("%s/inc-data.tar", bf_dest), PITR_CODEC_NONE);
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" REL "/0."));
	ck_assert_ptr_nonnull(strstr(list, ".pitrkit/data/" REL "/1.d "));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" REL "/2."));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" REL "/3."));
	delta = bf_tar_member(h_fmt("%s/inc-data.tar", bf_dest), PITR_CODEC_NONE,
			      ".pitrkit/data/" REL "/1.d", &dlen);
	ck_assert_uint_lt(dlen, 2 * PITR_DELTA_BLOCK);
	out = malloc(PITR_DELTA_CHUNK);
	ck_assert_int_eq(pitr_delta_chunk_patch(base + PITR_DELTA_CHUNK, PITR_DELTA_CHUNK, delta,
						dlen, PITR_DELTA_FORMAT, out, &outlen, "chunk 1"), 0);
	ck_assert_uint_eq(outlen, PITR_DELTA_CHUNK);
	ck_assert(memcmp(out, now + PITR_DELTA_CHUNK, PITR_DELTA_CHUNK) == 0);
	/* The spoiled record is the base's, kept: put it back to compare. */
	spoil_first_record(h_fmt("%s/bk-sig.tar", bf_dest), "data/" REL);
	assert_chain_is("data/" REL, now, REL_SIZE);
	free(out);
	free(delta);
	free(list);
	free(full);
	free(base);
	free(now);
	bf_teardown();
}
END_TEST

#define GROWN_SIZE (4 * PITR_DELTA_CHUNK + 300)
#define SHRUNK_REL "base/5/1300"
#define SHRUNK_OLD (2 * PITR_DELTA_CHUNK + 5000)
#define SHRUNK_NEW (PITR_DELTA_CHUNK + 1000)

/* A file grown (its last chunk longer, one more) and one shrunk (its
 * last chunk shorter, one fewer): each stored as the chunks whose length
 * or bytes changed, and the chain's signatures are today's. */
START_TEST(test_incremental_resized)
{
	unsigned char *old[2] = { malloc(REL_SIZE), malloc(SHRUNK_OLD) };
	unsigned char *grown = malloc(GROWN_SIZE);
	const char *rel[2] = { REL, SHRUNK_REL };
	size_t len[2] = { REL_SIZE, SHRUNK_OLD };
	struct pitr_delta_sigs s;
	const struct pitr_delta_file *f;
	char *full, *list;

	bf_setup();
	fill(old[0], REL_SIZE, 1);
	fill(old[1], SHRUNK_OLD, 3);
	full = full_of(2, rel, old, len);
	memcpy(grown, old[0], REL_SIZE);
	fill(grown + REL_SIZE, GROWN_SIZE - REL_SIZE, 4);
	h_write_file(h_fmt("%s/" REL, bf_pgdata), grown, GROWN_SIZE);
	h_write_file(h_fmt("%s/" SHRUNK_REL, bf_pgdata), old[1], SHRUNK_NEW);
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", "latest"), 0);
	list = bf_tar_list(h_fmt("%s/inc-data.tar", bf_dest), PITR_CODEC_NONE);
	for (int k = 0; k < 3; k++)
		ck_assert_ptr_null(strstr(list, h_fmt(".pitrkit/data/" REL "/%d.", k)));
	ck_assert_ptr_nonnull(strstr(list, ".pitrkit/data/" REL "/3."));
	ck_assert_ptr_nonnull(strstr(list, ".pitrkit/data/" REL "/4.w 300\n"));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" SHRUNK_REL "/0."));
	ck_assert_ptr_nonnull(strstr(list, ".pitrkit/data/" SHRUNK_REL "/1."));
	ck_assert_ptr_null(strstr(list, ".pitrkit/data/" SHRUNK_REL "/2."));
	ck_assert_int_eq(pitr_delta_sigs_read(h_fmt("%s/inc-sig.tar", bf_dest), PITR_CODEC_NONE,
					      &s), 0);
	f = file_of(&s, "data/" REL);
	ck_assert_int_eq(f->kind, PITR_DELTA_DELTA);
	ck_assert_uint_eq(f->size, GROWN_SIZE);
	ck_assert_uint_eq(f->nchunks, 2);
	f = file_of(&s, "data/" SHRUNK_REL);
	ck_assert_int_eq(f->kind, PITR_DELTA_DELTA);
	ck_assert_uint_eq(f->size, SHRUNK_NEW);
	ck_assert_uint_eq(f->nchunks, 1);
	ck_assert_uint_eq(f->chunks[0], 1);
	pitr_delta_sigs_free(&s);
	assert_chain_is("data/" REL, grown, GROWN_SIZE);
	assert_chain_is("data/" SHRUNK_REL, old[1], SHRUNK_NEW);
	free(list);
	free(full);
	free(grown);
	free(old[0]);
	free(old[1]);
	bf_teardown();
}
END_TEST

#define MANY 9
#define MANY_SIZE (MANY * PITR_DELTA_CHUNK)

/* The chunk member lines of `list` for keys under `prefix`, in order, as
 * "name\n" lines. */
static char *
chunk_lines(const char *list, const char *prefix)
{
	char *out = calloc(1, strlen(list) + 1), *o = out;

	for (const char *p = list; *p != '\0'; p = strchr(p, '\n') + 1)
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			size_t n = strcspn(p, " ");

			memcpy(o, p, n);
			o += n;
			*o++ = '\n';
		}
	return out;
}

/* Two files of MANY chunks each, every chunk changed (one page of the
 * even ones, all of the odd ones: deltas and whole chunks worked on at
 * once, of unequal cost): their members come out file after file, each
 * file's chunks ascending, and the chain's signatures are today's. */
START_TEST(test_incremental_in_order)
{
	unsigned char *buf[2] = { malloc(MANY_SIZE), malloc(MANY_SIZE) };
	const char *rel[2] = { "base/5/1400", "base/5/1401" };
	size_t len[2] = { MANY_SIZE, MANY_SIZE };
	char *full, *list, *lines, *want[2];

	bf_setup();
	fill(buf[0], MANY_SIZE, 5);
	fill(buf[1], MANY_SIZE, 6);
	full = full_of(2, rel, buf, len);
	for (int i = 0; i < 2; i++) {
		want[i] = calloc(1, 4096);
		for (int k = 0; k < MANY; k++) {
			unsigned char *chunk = buf[i] + (size_t)k * PITR_DELTA_CHUNK;

			if (k % 2 == 0)
				memset(chunk + 3 * PITR_DELTA_BLOCK, k + 1, 200);
			else
				fill(chunk, PITR_DELTA_CHUNK, 100 + (uint64_t)(i * MANY + k));
			strcat(want[i], h_fmt(".pitrkit/data/%s/%d.%s\n", rel[i], k, k % 2 ? "w" : "d"));
		}
		h_write_file(h_fmt("%s/%s", bf_pgdata, rel[i]), buf[i], MANY_SIZE);
	}
	next_second();
	ck_assert_int_eq(incremental("inc-__FILETYPE__.tar__CEXT__", "latest"), 0);
	list = bf_tar_list(h_fmt("%s/inc-data.tar", bf_dest), PITR_CODEC_NONE);
	lines = chunk_lines(list, ".pitrkit/data/base/5/140");
	/* Whichever file the directory lists first. */
	ck_assert_msg(strcmp(lines, h_fmt("%s%s", want[0], want[1])) == 0 ||
		      strcmp(lines, h_fmt("%s%s", want[1], want[0])) == 0, "%s", lines);
	assert_chain_is("data/base/5/1400", buf[0], MANY_SIZE);
	assert_chain_is("data/base/5/1401", buf[1], MANY_SIZE);
	free(lines);
	free(list);
	free(want[0]);
	free(want[1]);
	free(full);
	free(buf[0]);
	free(buf[1]);
	bf_teardown();
}
END_TEST

/* The pool alone: what a test's work and consumer see. */
struct pool_probe {
	int fail_at;           /* the first k whose work fails (and every
				* later one's); -1: none */
	int seen[256];
	size_t nseen;
};

/* Work of uneven length (later chunks quicker), failing from fail_at. */
static int
probe_work(void *ctx, struct bk_chunk *c)
{
	struct pool_probe *p = ctx;

	usleep((useconds_t)(((c->k * 7919u) % 5) * 300));
	if (p->fail_at >= 0 && (int)c->k >= p->fail_at) {
		pitr_log_error("chunk %u could not be signed", (unsigned)c->k);
		return -1;
	}
	c->dlen = c->k * 3u;
	return 0;
}

static int
probe_consume(void *ctx, struct bk_chunk *c)
{
	struct pool_probe *p = ctx;

	/* A mark is not worked on; a chunk is, before it is consumed. */
	ck_assert_uint_eq(c->dlen, c->op == 1 ? c->k * 3u : 0u);
	p->seen[p->nseen++] = (int)c->k;
	return 0;
}

/* Queue chunks 0..n-1 (every third a mark, with a key the pool frees):
 * the count queued before the pool refused a slot. */
static int
probe_queue(struct bk_pool *pool, int n)
{
	for (int k = 0; k < n; k++) {
		struct bk_chunk *c = pitr_backup_pool_slot(pool);

		if (c == NULL)
			return k;
		c->k = (uint32_t)k;
		c->op = k % 3 == 0 ? 0 : 1;
		c->dlen = 0;
		c->key = k % 3 == 0 ? strdup("mark") : NULL;
		pitr_backup_pool_submit(pool, c, c->op == 1);
	}
	return n;
}

/* Results are consumed in the order queued, whatever order the threads
 * finish in, with more queued than there are slots; works that fail make
 * one line, nothing from the first on is consumed, and the pool is freed
 * with its threads joined (and its slots' keys released) at once. */
START_TEST(test_pool_order_and_error)
{
	struct pool_probe p = { .fail_at = -1 };
	struct bk_pool *pool;

	bf_setup();
	pool = pitr_backup_pool_new(2, probe_work, probe_consume, &p);
	ck_assert_ptr_nonnull(pool);
	ck_assert_int_eq(probe_queue(pool, 200), 200);
	ck_assert_int_eq(pitr_backup_pool_drain(pool, true), 0);
	ck_assert_uint_eq(pitr_backup_pool_pending(pool), 0);
	ck_assert_uint_eq(p.nseen, 200);
	for (int k = 0; k < 200; k++)
		ck_assert_int_eq(p.seen[k], k);
	pitr_backup_pool_free(pool);

	h_log_reset();
	memset(&p, 0, sizeof(p));
	p.fail_at = 20;
	pool = pitr_backup_pool_new(2, probe_work, probe_consume, &p);
	ck_assert_ptr_nonnull(pool);
	ck_assert_int_lt(probe_queue(pool, 200), 200);
	ck_assert_int_eq(pitr_backup_pool_drain(pool, true), -1);
	/* Every chunk from 20 on fails on both threads (as no memory would):
	 * the first in order is said, once, by the caller's thread, after
	 * every chunk before it was consumed. */
	ck_assert_str_eq(h_log(), "ERROR : chunk 20 could not be signed\n");
	ck_assert_uint_eq(p.nseen, 20);
	for (size_t k = 0; k < p.nseen; k++)
		ck_assert_int_eq(p.seen[k], (int)k);
	pitr_backup_pool_free(pool);

	/* Freed with work queued and not consumed. */
	memset(&p, 0, sizeof(p));
	p.fail_at = -1;
	pool = pitr_backup_pool_new(2, probe_work, probe_consume, &p);
	ck_assert_int_eq(probe_queue(pool, 5), 5);
	pitr_backup_pool_free(pool);
	bf_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("cmd_backup_incr");
	TCase *tc = tcase_create("incr");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_full_sig);
	tcase_add_test(tc, test_incremental_latest);
	tcase_add_test(tc, test_incremental_named);
	tcase_add_test(tc, test_incremental_other_dir);
	tcase_add_test(tc, test_incremental_older_base);
	tcase_add_test(tc, test_incremental_sha256_always);
	tcase_add_test(tc, test_incremental_digest_same);
	tcase_add_test(tc, test_incremental_resized);
	tcase_add_test(tc, test_incremental_in_order);
	tcase_add_test(tc, test_pool_order_and_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
