/* check_tarwrite.c - unit tests for lib/tar/tarwrite.c. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "harness.h"
#include "common/log.h"
#include "postgres/pgdata.h"
#include "tar/tarwrite.h"

struct mem {
	unsigned char *buf;
	size_t len;
	int fail_after;   /* calls before the sink fails; -1 never */
};

static int
mem_sink(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;

	if (m->fail_after == 0) {
		pitr_log_error("sink full");
		return -1;
	}
	if (m->fail_after > 0)
		m->fail_after--;
	m->buf = realloc(m->buf, m->len + len);
	ck_assert_ptr_nonnull(m->buf);
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

/* Read the tar back: "name mode size[ -> link]\n" per entry, and the
 * content of the entry named `want` into *content. */
static char *
listing(const struct mem *m, const char *want, char **content)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *out = calloc(1, 65536);
	size_t n = 0;

	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, m->buf, m->len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *link = archive_entry_symlink(e);

		n += (size_t)snprintf(out + n, 65536 - n, "%s %o %lld%s%s\n", archive_entry_pathname(e),
				      (unsigned)archive_entry_mode(e), (long long)archive_entry_size(e),
				      link ? " -> " : "", link ? link : "");
		if (want != NULL && strcmp(archive_entry_pathname(e), want) == 0) {
			*content = calloc(1, (size_t)archive_entry_size(e) + 1);
			ck_assert_int_eq(archive_read_data(a, *content, (size_t)archive_entry_size(e)),
					 archive_entry_size(e));
		}
	}
	archive_read_free(a);
	return out;
}

static void
mk(const char *rel, mode_t mode)
{
	ck_assert_int_eq(mkdir(h_path(rel), mode), 0);
	ck_assert_int_eq(chmod(h_path(rel), mode), 0);
}

static void
put(const char *rel, const char *text)
{
	h_write_file(h_path(rel), text, strlen(text));
	ck_assert_int_eq(chmod(h_path(rel), 0600), 0);
}

START_TEST(test_estimate_is_the_tar)
{
	struct mem m = { .fail_after = -1 };
	struct pitr_tarwrite *t;
	uint64_t bytes, files;
	char big[5000];

	/* A data dir with excluded entries, a file of several blocks and a
	 * tablespace: the estimate is what the backup's tar holds (the data
	 * dir, then the tablespace apart, as backup.c adds them). */
	h_setup();
	memset(big, 'x', sizeof(big));
	mk("pg", 0700);
	put("pg/PG_VERSION", "15\n");
	put("pg/postmaster.pid", "1\n");
	mk("pg/pg_wal", 0700);
	mk("pg/pg_wal/archive_status", 0700);
	put("pg/pg_wal/000000010000000000000001", "wal");
	mk("pg/pg_stat_tmp", 0700);
	put("pg/pg_stat_tmp/global.stat", "s");
	mk("pg/base", 0700);
	mk("pg/base/1", 0700);
	h_write_file(h_path("pg/base/1/123"), big, sizeof(big));
	put("pg/base/1/empty", "");
	mk("pg/pg_tblspc", 0700);
	mk("ts", 0700);
	mk("ts/PG_15_1", 0700);
	put("ts/PG_15_1/456", "rel");
	ck_assert_int_eq(symlink(h_path("ts"), h_path("pg/pg_tblspc/16384")), 0);
	pitr_pgdata_estimate(h_path("pg"), &bytes, &files);
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("pg"), "data", PITR_TARWRITE_PGDATA), 0);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("ts"), "tablespaces/ts", PITR_TARWRITE_PGDATA), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	/* PG_VERSION, 123, empty, 456. */
	ck_assert_uint_eq(pitr_tarwrite_files(t), 4);
	ck_assert_uint_eq(files, 4);
	ck_assert_uint_eq(bytes, pitr_tarwrite_bytes(t));
	pitr_tarwrite_free(t);
	free(m.buf);
	h_teardown();
}
END_TEST

START_TEST(test_add_tree)
{
	struct mem m = { .fail_after = -1 };
	struct pitr_tarwrite *t;
	char *list, *content = NULL;

	h_setup();
	mk("pg", 0750);
	put("pg/PG_VERSION", "15\n");
	put("pg/postmaster.pid", "1\n");
	put("pg/postmaster.opts", "x\n");
	put("pg/backup_label.old", "x\n");
	mk("pg/pg_wal", 0700);
	mk("pg/pg_wal/archive_status", 0700);
	put("pg/pg_wal/000000010000000000000001", "wal");
	mk("pg/pg_stat_tmp", 0700);
	put("pg/pg_stat_tmp/global.stat", "s");
	mk("pg/base", 0700);
	mk("pg/base/1", 0700);
	put("pg/base/1/123", "rel");
	put("pg/base/1/pg_internal.init", "x");
	mk("pg/base/pgsql_tmp", 0700);
	put("pg/base/pgsql_tmp/pgsql_tmp1.0", "x");
	mk("pg/pg_tblspc", 0700);
	ck_assert_int_eq(symlink("/srv/ts", h_path("pg/pg_tblspc/16384")), 0);

	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("pg"), "data",
						PITR_TARWRITE_PGDATA | PITR_TARWRITE_ROOT_0700), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "data/backup_label", "LABEL\n", 6, 0600), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	ck_assert_uint_eq(pitr_tarwrite_bytes(t), m.len);
	ck_assert_uint_eq(m.len % 512, 0);
	list = listing(&m, "data/backup_label", &content);
	/* readdir order is not sorted: check each line's presence and the
	 * total count. */
	ck_assert_msg(strstr(list, "data/ 40700 0\n") != NULL, "%s", list);
	ck_assert_ptr_nonnull(strstr(list, "data/PG_VERSION 100600 3\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/pg_wal/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/pg_wal/archive_status/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/pg_stat_tmp/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/base/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/base/1/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/base/1/123 100600 3\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/pg_tblspc/ 40700 0\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/pg_tblspc/16384 120777 0 -> /srv/ts\n"));
	ck_assert_ptr_nonnull(strstr(list, "data/backup_label 100600 6\n"));
	ck_assert_ptr_null(strstr(list, "postmaster"));
	ck_assert_ptr_null(strstr(list, "pgsql_tmp"));
	ck_assert_ptr_null(strstr(list, "pg_internal.init"));
	ck_assert_ptr_null(strstr(list, "backup_label.old"));
	ck_assert_ptr_null(strstr(list, "0000000100"));
	ck_assert_ptr_null(strstr(list, "global.stat"));
	{
		int lines = 0;

		for (const char *p = list; *p; p++)
			lines += *p == '\n';
		ck_assert_int_eq(lines, 11);
	}
	ck_assert_str_eq(content, "LABEL\n");
	ck_assert_str_eq(h_log(), "");
	free(content);
	free(list);
	free(m.buf);
	pitr_tarwrite_free(t);
	h_teardown();
}
END_TEST

/* With PITR_TARWRITE_SKIP_PGCONTROL only global/pg_control stays out
 * (for the caller to add last); without it, it is in. */
START_TEST(test_skip_pg_control)
{
	for (int skip = 0; skip <= 1; skip++) {
		struct mem m = { .fail_after = -1 };
		struct pitr_tarwrite *t;
		char *list;

		h_setup();
		mk("pg", 0700);
		mk("pg/global", 0700);
		put("pg/global/pg_control", "ctl");
		put("pg/global/1260", "rel");
		mk("pg/base", 0700);
		put("pg/base/pg_control", "not the one");
		t = pitr_tarwrite_new(mem_sink, &m);
		ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("pg"), "data",
							PITR_TARWRITE_PGDATA |
							(skip ? PITR_TARWRITE_SKIP_PGCONTROL : 0)), 0);
		ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
		list = listing(&m, NULL, NULL);
		ck_assert_ptr_nonnull(strstr(list, "data/global/1260 100600 3\n"));
		ck_assert_ptr_nonnull(strstr(list, "data/base/pg_control 100600 11\n"));
		if (skip)
			ck_assert_msg(strstr(list, "data/global/pg_control") == NULL, "%s", list);
		else
			ck_assert_ptr_nonnull(strstr(list, "data/global/pg_control 100600 3\n"));
		free(list);
		pitr_tarwrite_free(t);
		free(m.buf);
		h_teardown();
	}
}
END_TEST

START_TEST(test_add_tree_missing)
{
	struct mem m = { .fail_after = -1 };
	struct pitr_tarwrite *t;
	char want[512];

	h_setup();
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_int_eq(pitr_tarwrite_add_tree(t, h_path("nope"), "x", 0), -1);
	snprintf(want, sizeof(want), "ERROR : could not stat \"%s\": No such file or directory\n",
		 h_path("nope"));
	ck_assert_str_eq(h_log(), want);
	pitr_tarwrite_free(t);
	free(m.buf);
	h_teardown();
}
END_TEST

START_TEST(test_add_file)
{
	struct mem m = { .fail_after = -1 };
	struct pitr_tarwrite *t;
	char *list, *content = NULL;
	char big[30000];

	h_setup();
	memset(big, 'w', sizeof(big));
	h_write_file(h_path("seg"), big, sizeof(big));
	ck_assert_int_eq(chmod(h_path("seg"), 0600), 0);
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("seg"), "d/pg_wal/seg"), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	list = listing(&m, "d/pg_wal/seg", &content);
	ck_assert_str_eq(list, "d/pg_wal/seg 100600 30000\n");
	ck_assert_int_eq(memcmp(content, big, sizeof(big)), 0);
	free(list);
	free(content);
	pitr_tarwrite_free(t);
	free(m.buf);
	m = (struct mem){ .fail_after = -1 };
	/* A file that is not there is an error for add_file. */
	t = pitr_tarwrite_new(mem_sink, &m);
	h_log_reset();
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("gone"), "gone"), -1);
	{
		char want[512];

		snprintf(want, sizeof(want), "ERROR : could not open \"%s\": No such file or directory\n",
			 h_path("gone"));
		ck_assert_str_eq(h_log(), want);
	}
	pitr_tarwrite_free(t);
	free(m.buf);
	h_teardown();
}
END_TEST

START_TEST(test_add_buffer_sink_failure)
{
	struct mem m = { .fail_after = 0 };
	struct pitr_tarwrite *t;
	char big[20000];

	h_setup();
	memset(big, 'b', sizeof(big));
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_ptr_nonnull(t);
	/* libarchive blocks 10240 bytes: the sink sees them during the
	 * write; its error is the only line logged. */
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "b", big, sizeof(big), 0600), -1);
	ck_assert_str_eq(h_log(), "ERROR : sink full\n");
	/* The stream stays failed, and the sink is not asked again (it would
	 * log once more). */
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "c", big, sizeof(big), 0600), -1);
	ck_assert_int_eq(pitr_tarwrite_finish(t), -1);
	pitr_tarwrite_free(t);
	ck_assert_str_eq(h_log(), "ERROR : sink full\n");
	free(m.buf);
	h_teardown();
}
END_TEST

/* A sink that fails only when the end of the archive is flushed: the
 * finish fails, with the sink's line only. */
START_TEST(test_finish_sink_failure)
{
	struct mem m = { .fail_after = 0 };
	struct pitr_tarwrite *t;

	h_setup();
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "small", "x", 1, 0600), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_tarwrite_finish(t), -1);
	ck_assert_str_eq(h_log(), "ERROR : sink full\n");
	ck_assert_uint_eq(pitr_tarwrite_bytes(t), 0);
	pitr_tarwrite_free(t);
	ck_assert_str_eq(h_log(), "ERROR : sink full\n");
	free(m.buf);
	h_teardown();
}
END_TEST

START_TEST(test_finish_empty)
{
	struct mem m = { .fail_after = -1 };
	struct pitr_tarwrite *t;

	h_setup();
	t = pitr_tarwrite_new(mem_sink, &m);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	/* End of archive: two zero blocks (bytes_in_last_block 1). */
	ck_assert_uint_eq(m.len, 1024);
	ck_assert_uint_eq(pitr_tarwrite_bytes(t), 1024);
	pitr_tarwrite_free(t);
	free(m.buf);
	h_teardown();
}
END_TEST

/* The hook's record of what it saw: per file "name fd? size" lines, and
 * the bytes tapped. */
struct seen {
	char log[4096];
	size_t loglen;
	unsigned char tapped[300000];
	size_t ntapped;
	int ends;
	const char *shrink;   /* truncate this path when its file is met */
	const char *grow;     /* append to this path likewise */
	const char *take;     /* member name the hook takes, storing two members */
};

static int
hook_file(void *arg, struct pitr_tarwrite *t, const char *path, const char *name, int fd,
	  uint64_t size)
{
	struct seen *s = arg;

	ck_assert((path == NULL) == (fd < 0));
	s->loglen += (size_t)snprintf(s->log + s->loglen, sizeof(s->log) - s->loglen, "%s %s %llu\n",
				      name, fd < 0 ? "buffer" : "fd", (unsigned long long)size);
	if (s->shrink != NULL && strstr(name, "shrinks") != NULL)
		ck_assert_int_eq(truncate(s->shrink, 1000), 0);
	if (s->grow != NULL && strstr(name, "grows") != NULL) {
		FILE *f = fopen(s->grow, "a");

		ck_assert_ptr_nonnull(f);
		fputs("more bytes", f);
		fclose(f);
	}
	if (s->take != NULL && strcmp(name, s->take) == 0 && fd < 0)
		return PITR_TARWRITE_TAKEN;
	if (s->take != NULL && strcmp(name, s->take) == 0) {
		char b[4];

		/* The fd is the file's, at offset 0. */
		ck_assert_int_eq(read(fd, b, 4), 4);
		ck_assert_int_eq(memcmp(b, "take", 4), 0);
		ck_assert_int_eq(pitr_tarwrite_add_member(t, ".x/0.w", "chunk", 5, 0600), 0);
		ck_assert_int_eq(pitr_tarwrite_add_member(t, ".x/1.d", "d", 1, 0600), 0);
		return PITR_TARWRITE_TAKEN;
	}
	return PITR_TARWRITE_STORE;
}

static int
hook_data(void *arg, const void *buf, size_t len)
{
	struct seen *s = arg;

	ck_assert_uint_le(s->ntapped + len, sizeof(s->tapped));
	memcpy(s->tapped + s->ntapped, buf, len);
	s->ntapped += len;
	return 0;
}

static int
hook_end(void *arg)
{
	((struct seen *)arg)->ends++;
	return 0;
}

/* Every stored member's content, concatenated in tar order. */
static unsigned char *
stored_bytes(const struct mem *m, size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned char *out = malloc(300000);

	*len = 0;
	archive_read_support_format_tar(a);
	ck_assert_int_eq(archive_read_open_memory(a, m->buf, m->len), ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		la_int64_t n = archive_entry_size(e);

		ck_assert_int_eq(archive_read_data(a, out + *len, (size_t)n), n);
		*len += (size_t)n;
	}
	archive_read_free(a);
	return out;
}

/* A hook that stores every file: it is told of each file (from disk with
 * its fd, buffers with -1) and taps exactly the bytes stored, a file that
 * shrank while read padded with zeros, one that grew cut. */
START_TEST(test_hook_taps_what_is_stored)
{
	struct mem m = { .fail_after = -1 };
	struct seen *s = calloc(1, sizeof(*s));
	const struct pitr_tarwrite_hook hook = { hook_file, hook_data, hook_end, s };
	struct pitr_tarwrite *t;
	char big[100000];
	unsigned char *stored;
	size_t nstored;
	char *list;

	h_setup();
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	mk("d", 0700);
	h_write_file(h_path("d/shrinks"), big, sizeof(big));
	h_write_file(h_path("d/grows"), big, 3000);
	ck_assert_int_eq(chmod(h_path("d/shrinks"), 0600), 0);
	ck_assert_int_eq(chmod(h_path("d/grows"), 0600), 0);
	s->shrink = h_path("d/shrinks");
	s->grow = h_path("d/grows");
	t = pitr_tarwrite_new(mem_sink, &m);
	pitr_tarwrite_set_hook(t, &hook);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("d/shrinks"), "d/shrinks"), 0);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("d/grows"), "d/grows"), 0);
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "d/backup_label", "label\n", 6, 0600), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	ck_assert_str_eq(s->log, "d/shrinks fd 100000\nd/grows fd 3000\nd/backup_label buffer 6\n");
	ck_assert_int_eq(s->ends, 3);
	list = listing(&m, NULL, NULL);
	ck_assert_str_eq(list, "d/shrinks 100600 100000\nd/grows 100600 3000\n"
			 "d/backup_label 100600 6\n");
	stored = stored_bytes(&m, &nstored);
	ck_assert_uint_eq(s->ntapped, 100000 + 3000 + 6);
	ck_assert_uint_eq(nstored, s->ntapped);
	ck_assert_int_eq(memcmp(stored, s->tapped, nstored), 0);
	/* What was read, then the zeros of the shrunk part. */
	ck_assert_int_eq(memcmp(s->tapped, big, 1000), 0);
	for (size_t i = 1000; i < 100000; i++)
		ck_assert_int_eq(s->tapped[i], 0);
	ck_assert_uint_eq(pitr_tarwrite_files(t), 2);
	free(stored);
	free(list);
	pitr_tarwrite_free(t);
	free(m.buf);
	free(s);
	h_teardown();
}
END_TEST

/* A hook that takes a file stores its own members instead, untapped; the
 * other files of the tree are stored and tapped as usual; a hook without
 * effect on another tar. */
START_TEST(test_hook_takes_a_file)
{
	struct mem m = { .fail_after = -1 };
	struct seen *s = calloc(1, sizeof(*s));
	const struct pitr_tarwrite_hook hook = { hook_file, hook_data, hook_end, s };
	struct pitr_tarwrite *t;
	char *list;

	h_setup();
	mk("d", 0700);
	put("d/a", "take me");
	put("d/b", "keep");
	s->take = "d/a";
	t = pitr_tarwrite_new(mem_sink, &m);
	pitr_tarwrite_set_hook(t, &hook);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("d/a"), "d/a"), 0);
	ck_assert_int_eq(pitr_tarwrite_add_file(t, h_path("d/b"), "d/b"), 0);
	ck_assert_int_eq(pitr_tarwrite_finish(t), 0);
	list = listing(&m, NULL, NULL);
	ck_assert_str_eq(list, ".x/0.w 100600 5\n.x/1.d 100600 1\nd/b 100600 4\n");
	ck_assert_uint_eq(s->ntapped, 4);
	ck_assert_int_eq(memcmp(s->tapped, "keep", 4), 0);
	ck_assert_int_eq(s->ends, 1);
	ck_assert_uint_eq(pitr_tarwrite_files(t), 2);
	free(list);
	pitr_tarwrite_free(t);
	free(m.buf);
	/* A buffer cannot be taken: the add fails, saying so. */
	m = (struct mem){ .fail_after = -1 };
	s->take = "buf";
	t = pitr_tarwrite_new(mem_sink, &m);
	pitr_tarwrite_set_hook(t, &hook);
	h_log_reset();
	ck_assert_int_eq(pitr_tarwrite_add_buffer(t, "buf", "take", 4, 0600), -1);
	ck_assert_str_eq(h_log(), "ERROR : internal error: the tar hook took the in-memory file "
			 "\"buf\"\n");
	pitr_tarwrite_free(t);
	free(m.buf);
	free(s);
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("tarwrite");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "add_tree", test_add_tree },
		{ "estimate", test_estimate_is_the_tar },
		{ "skip_pg_control", test_skip_pg_control },
		{ "add_tree_missing", test_add_tree_missing },
		{ "add_file", test_add_file },
		{ "add_buffer", test_add_buffer_sink_failure },
		{ "finish", test_finish_empty },
		{ "finish_sink_failure", test_finish_sink_failure },
		{ "hook_taps", test_hook_taps_what_is_stored },
		{ "hook_takes", test_hook_takes_a_file },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
