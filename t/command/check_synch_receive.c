/*
 * check_synch_receive.c - unit tests for pitr-synch --receive
 * (lib/command/synch/receive.c): streams built here with the tar writer
 * and a codec, as stream.c lays them out, fed on standard input; what a
 * complete stream leaves (pg_control, the output's own configuration
 * files, the tablespace at its place and its link, pg_wal, no mark), and
 * what a truncated or refused one leaves (nothing), an interrupted copy
 * replaced, a non-empty directory refused untouched.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/synch/output.h"
#include "command/synch/synch.h"
#include "common/fsutil.h"
#include "compress/codec.h"
#include "harness.h"
#include "tar/tarwrite.h"

#define SEG "000000010000000000000002"

struct sink {
	int fd;
	struct pitr_codec_writer *w;
};

static int
tar_sink(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	return pitr_codec_writer_write(s->w, buf, len);
}

static void
mkfile(const char *rel, const char *text)
{
	h_write_file(h_path(rel), text, strlen(text));
}

/* The source: a small data dir with a tablespace link, and its tablespace. */
static void
make_source(void)
{
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("src/base/1"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("src/global"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("src/pg_wal/archive_status"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("src/pg_tblspc"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("ts/PG_15_202209061/1"), 0700), 0);
	mkfile("src/PG_VERSION", "15\n");
	mkfile("src/base/1/1259", "relation");
	mkfile("src/global/pg_control", "control");
	mkfile("src/postgresql.auto.conf", "# the source's\n");
	mkfile("src/postmaster.pid", "123\n");
	mkfile("src/pg_wal/" SEG, "wal in the source's pg_wal, excluded");
	mkfile("ts/PG_15_202209061/1/16385", "in the tablespace");
	ck_assert_int_eq(symlink(h_path("ts"), h_path("src/pg_tblspc/16384")), 0);
}

/* The stream to `path`: as stream.c writes it, cut to `keep` bytes when
 * not 0, with `extra` members (name, text pairs) before the end. */
static void
make_stream(const char *path, size_t keep, const char *const *extra, size_t nextra)
{
	struct sink s;
	struct pitr_tarwrite *t;

	s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(s.fd, 0);
	s.w = pitr_codec_writer_new(PITR_CODEC_GZIP, 1, 1, h_fd_sink, &s.fd);
	t = pitr_tarwrite_new(tar_sink, &s);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("src"), "pgdata", PITR_TARWRITE_PGDATA |
						PITR_TARWRITE_ROOT_0700 | PITR_TARWRITE_SKIP_PGCONTROL), 0);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("ts"), "tablespaces/16384",
						PITR_TARWRITE_PGDATA), 0);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("src/global/pg_control"),
						"pgdata/global/pg_control"), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "pgdata/pg_wal/" SEG, "segment", 7, 0600), 0);
	for (size_t i = 0; i + 1 < nextra * 2; i += 2)
		ck_assert_int_eq(pitr_tarwrite_add_buffer(t, extra[i], extra[i + 1], strlen(extra[i + 1]),
							  0600), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "config/0/backup_label", "LABEL: mine\n", 12,
						  0600), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "config/0/postgresql.auto.conf", "# ours\n", 7,
						  0600), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "config/1/backup_label", "LABEL: theirs\n", 14,
						  0600), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(s.w), 0);
	pitr_tarwrite_free(t);
	pitr_codec_writer_free(s.w);
	if (keep > 0)
		ck_assert_int_eq(ftruncate(s.fd, (off_t)keep), 0);
	close(s.fd);
}

/* pitr_cmd_synch_receive() with `stream` on standard input. */
static int
receive(const char *stream, const char *dir, const char *tsdir)
{
	char tsarg[PATH_MAX];
	const char *ts[1] = { tsarg };
	struct synch_receive_opts o = { .dir = dir, .codec = "gzip", .sysid = 7000000000000000001ULL,
					.index = 0, .tablespaces = ts, .ntablespaces = 1 };
	int saved = dup(0), fd = open(stream, O_RDONLY), rc;

	snprintf(tsarg, sizeof(tsarg), "16384=%s", tsdir);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(dup2(fd, 0), 0);
	close(fd);
	rc = pitr_cmd_synch_receive(&o);
	ck_assert_int_eq(dup2(saved, 0), 0);
	close(saved);
	return rc;
}

static char *
slurp(const char *rel)
{
	size_t len;

	return h_read_file(h_path(rel), &len);
}

START_TEST(test_complete)
{
	char link[PATH_MAX];
	ssize_t n;
	char *text;

	h_setup();
	make_source();
	make_stream(h_path("stream"), 0, NULL, 0);
	ck_assert_int_eq(receive(h_path("stream"), h_path("out/new/data"), h_path("out/new/ts")), 0);
	text = slurp("out/new/data/global/pg_control");
	ck_assert_str_eq(text, "control");
	free(text);
	ck_assert(!h_exists(h_path("out/new/data/global/pg_control.pitr-synch")));
	ck_assert(!h_exists(h_path("out/new/data/" SYNCH_IN_PROGRESS)));
	ck_assert(!h_exists(h_path("out/new/ts/" SYNCH_IN_PROGRESS)));
	ck_assert(!h_exists(h_path("out/new/data/.pitr-synch.config")));
	ck_assert(!h_exists(h_path("out/new/data/postmaster.pid")));
	/* The output's own files, not another output's, over the source's. */
	text = slurp("out/new/data/backup_label");
	ck_assert_str_eq(text, "LABEL: mine\n");
	free(text);
	text = slurp("out/new/data/postgresql.auto.conf");
	ck_assert_str_eq(text, "# ours\n");
	free(text);
	text = slurp("out/new/data/base/1/1259");
	ck_assert_str_eq(text, "relation");
	free(text);
	/* The tablespace at its place, the link to it. */
	text = slurp("out/new/ts/PG_15_202209061/1/16385");
	ck_assert_str_eq(text, "in the tablespace");
	free(text);
	n = readlink(h_path("out/new/data/pg_tblspc/16384"), link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_str_eq(link, h_path("out/new/ts"));
	/* pg_wal: the stream's segment, not the source's file, and
	 * archive_status. */
	text = slurp("out/new/data/pg_wal/" SEG);
	ck_assert_str_eq(text, "segment");
	free(text);
	ck_assert(h_exists(h_path("out/new/data/pg_wal/archive_status")));
	h_teardown();
}
END_TEST

START_TEST(test_truncated)
{
	struct stat st;

	h_setup();
	make_source();
	make_stream(h_path("full"), 0, NULL, 0);
	ck_assert_int_eq(stat(h_path("full"), &st), 0);
	make_stream(h_path("cut"), (size_t)st.st_size - 40, NULL, 0);
	ck_assert_int_eq(receive(h_path("cut"), h_path("out/new/data"), h_path("out/ts")), -1);
	/* What it made, parents included, is gone. */
	ck_assert(!h_exists(h_path("out")));
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : "));
	h_teardown();
}
END_TEST

START_TEST(test_refusals)
{
	static const char *const under_link[] = { "pgdata/pg_tblspc/16384/x", "oops" };
	static const char *const stranger[] = { "tablespaces/99999/x", "oops" };
	static const char *const loose[] = { "elsewhere/x", "oops" };
	char *text;

	h_setup();
	make_source();
	/* Not empty, not ours: untouched. */
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("busy"), 0700), 0);
	mkfile("busy/keep", "mine");
	make_stream(h_path("stream"), 0, NULL, 0);
	ck_assert_int_eq(receive(h_path("stream"), h_path("busy"), h_path("busy-ts")), -1);
	ck_assert_int_eq(h_count_entries(h_path("busy")), 1);
	ck_assert(!h_exists(h_path("busy-ts")));
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("ERROR : output \"%s\" is not empty and holds no "
						     "interrupted pitr-synch copy", h_path("busy"))));
	/* A tablespace's place not empty: refused, the data dir made for
	 * this run removed. */
	mkfile("busy-ts", "a file");
	ck_assert_int_eq(receive(h_path("stream"), h_path("d0"), h_path("busy-ts")), -1);
	ck_assert(!h_exists(h_path("d0")));
	text = slurp("busy-ts");
	ck_assert_str_eq(text, "a file");
	free(text);
	/* Members that do not belong: refused, everything removed. */
	make_stream(h_path("s1"), 0, under_link, 1);
	ck_assert_int_eq(receive(h_path("s1"), h_path("d1"), h_path("t1")), -1);
	ck_assert(!h_exists(h_path("d1")) && !h_exists(h_path("t1")));
	make_stream(h_path("s2"), 0, stranger, 1);
	ck_assert_int_eq(receive(h_path("s2"), h_path("d2"), h_path("t2")), -1);
	ck_assert(!h_exists(h_path("d2")) && !h_exists(h_path("t2")));
	make_stream(h_path("s3"), 0, loose, 1);
	ck_assert_int_eq(receive(h_path("s3"), h_path("d3"), h_path("t3")), -1);
	ck_assert(!h_exists(h_path("d3")) && !h_exists(h_path("t3")));
	h_teardown();
}
END_TEST

START_TEST(test_interrupted_replaced)
{
	char *text;

	h_setup();
	make_source();
	make_stream(h_path("stream"), 0, NULL, 0);
	/* What a killed run leaves: the mark, some files, no pg_control. */
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("d/base/1"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("t/PG_15_202209061"), 0700), 0);
	mkfile("d/" SYNCH_IN_PROGRESS, "system identifier 7000000000000000001\n");
	mkfile("t/" SYNCH_IN_PROGRESS, "system identifier 7000000000000000001\n");
	mkfile("d/base/1/stale", "from the killed run");
	ck_assert_int_eq(receive(h_path("stream"), h_path("d"), h_path("t")), 0);
	ck_assert(!h_exists(h_path("d/base/1/stale")));
	ck_assert(!h_exists(h_path("d/" SYNCH_IN_PROGRESS)));
	text = slurp("d/global/pg_control");
	ck_assert_str_eq(text, "control");
	free(text);
	ck_assert_ptr_nonnull(strstr(h_log(), "holds an interrupted pitr-synch copy: replaced"));
	h_teardown();
}
END_TEST

static Suite *
synch_receive_suite(void)
{
	Suite *s = suite_create("cmd_synch_receive");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_complete);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_interrupted_replaced);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(synch_receive_suite());
}
