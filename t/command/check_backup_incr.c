/* check_backup_incr.c - pitr-backup-master's sig file and incremental
 * backups (--incremental-from, issue 13) against the scripted server of
 * t/server/pqfake.h: a full backup's signatures are those of the bytes
 * stored; an incremental stores a changed chunk as a delta (one page
 * changed) or whole (all changed), leaves unchanged chunks and files out,
 * stores new files, pg_control and the label whole and records removed
 * files; its signatures composed over the chain are those of the files
 * now, and its deltas patch the base's chunks into today's.  The base is
 * found by "latest", by label and by name; refused: a base without sig
 * file, a chain missing a link, one not found. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "command/backup/backup.h"
#include "compress/codec.h"
#include "delta/delta.h"
#include "harness.h"
#include "repo/catalog.h"
#include "repo/meta.h"
#include "server/pqfake.h"

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

/* A second --dst-local dir without the base gets the incremental too,
 * with a warning that its chain is in the first. */
START_TEST(test_incremental_other_dir)
{
	unsigned char *rel = malloc(REL_SIZE);
	struct pitr_backup_opts o;
	const char *dl[2];
	char *full, *dest2, *l;

	bf_setup();
	full = full_backup(rel);
	dest2 = strdup(h_path("dest2"));
	ck_assert_int_eq(mkdir(dest2, 0700), 0);
	next_second();
	h_log_reset();
	bf_opts(&o);
	dl[0] = dest2;
	dl[1] = bf_dest;
	o.dst_local = dl;
	o.ndst_local = 2;
	o.filename_template = "inc-__FILETYPE__.tar__CEXT__";
	o.incremental_from = "latest";
	script_backup();
	ck_assert_int_eq(pitr_cmd_backup_master(&o), 0);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : incremental backup on \"%s\" in \"%s\"",
						    full, bf_dest)));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("LOG : WARNING: --dst-local \"%s\" does not hold "
						    "base backup \"%s\": the incremental backup "
						    "stored there needs its chain from \"%s\"\n",
						    dest2, full, bf_dest)));
	l = bf_dir_list(dest2);
	ck_assert_str_eq(l, "inc-data.tar\ninc-meta.tar\ninc-sig.tar\ninc-xlog.tar\n");
	free(l);
	free(dest2);
	free(full);
	free(rel);
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
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
