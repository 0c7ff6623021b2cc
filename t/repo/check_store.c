/*
 * check_store.c - unit tests for stores (repo/store.h): the local kind
 * listed, looked up, read and removed; an s3:// location parsed and named
 * without contacting a store; and the pipe a thread fills
 * (common/pipefeed.h), which the s3 kind reads objects through, with
 * producers standing in for a GET: whole, missing, failing before and
 * after its first bytes, and a reader that stops early.  The s3 kind
 * against a real gateway is t/integration/s3-info.sh's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/pipefeed.h"
#include "compress/codec.h"
#include "harness.h"
#include "repo/store.h"

static char dir[4096];

static void
setup(void)
{
	h_setup();
	snprintf(dir, sizeof(dir), "%s", h_path("store"));
	ck_assert_int_eq(mkdir(dir, 0700), 0);
}

static void
teardown(void)
{
	h_teardown();
}

static void
put(const char *name, const char *text)
{
	h_write_file(h_fmt("%s/%s", dir, name), text, strlen(text));
}

static void
assert_logged(const char *line)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", line);
	ck_assert_msg(strstr(h_log(), want) != NULL, "log lacks [%s]: [%s]", want, h_log());
}

/* Read fd to its end into a malloc'd, NUL-terminated buffer. */
static char *
slurp(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - n);

		ck_assert_int_ge(r, 0);
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap) {
			cap *= 2;
			ck_assert_ptr_nonnull(buf = realloc(buf, cap + 1));
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- the local kind ---- */

struct seen {
	char names[8][64];
	struct pitr_store_entry e[8];
	size_t n;
	size_t stop_after;   /* 0: never */
};

static int
collect(void *ctx, const struct pitr_store_entry *e)
{
	struct seen *s = ctx;

	ck_assert_uint_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", e->name);
	s->e[s->n] = *e;
	s->e[s->n].name = s->names[s->n];
	s->n++;
	if (s->stop_after != 0 && s->n == s->stop_after) {
		pitr_log_error("enough");
		return -1;
	}
	return 0;
}

START_TEST(test_local_list)
{
	struct pitr_store *st = pitr_store_new(dir, NULL, "archive dir");
	struct seen s = { 0 };

	put("b", "12345");
	put("a", "1");
	put(".hidden", "");
	ck_assert_int_eq(mkdir(h_fmt("%s/sub", dir), 0700), 0);
	ck_assert_int_eq(symlink("nowhere", h_fmt("%s/dangling", dir)), 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(pitr_store_location(st), dir);
	ck_assert_str_eq(pitr_store_dir(st), dir);
	ck_assert_int_eq(pitr_store_list(st, collect, &s), 0);
	/* Sorted by name, nothing left out but "." and "..". */
	ck_assert_uint_eq(s.n, 5);
	ck_assert_str_eq(s.e[0].name, ".hidden");
	ck_assert_str_eq(s.e[1].name, "a");
	ck_assert_str_eq(s.e[2].name, "b");
	ck_assert_str_eq(s.e[3].name, "dangling");
	ck_assert_str_eq(s.e[4].name, "sub");
	ck_assert(s.e[1].regular && s.e[2].regular);
	ck_assert_uint_eq(s.e[1].size, 1);
	ck_assert_uint_eq(s.e[2].size, 5);
	ck_assert_int_gt(s.e[2].mtime, 0);
	ck_assert_int_eq(s.e[2].error, 0);
	/* A link to nothing is listed with its error, a directory as no file. */
	ck_assert(!s.e[3].regular);
	ck_assert_int_eq(s.e[3].error, ENOENT);
	ck_assert(!s.e[4].regular);
	ck_assert_int_eq(s.e[4].error, 0);
	/* The callback's -1 stops the listing. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	ck_assert_int_eq(pitr_store_list(st, collect, &s), -1);
	ck_assert_uint_eq(s.n, 2);
	pitr_store_free(st);
}
END_TEST

START_TEST(test_local_list_missing)
{
	const char *gone = h_path("gone");
	struct pitr_store *st = pitr_store_new(gone, NULL, "backup dir");
	struct seen s = { 0 };

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pitr_store_list(st, collect, &s), -1);
	ck_assert_uint_eq(s.n, 0);
	assert_logged(h_fmt("cannot read backup dir \"%s\": No such file or directory", gone));
	pitr_store_free(st);
}
END_TEST

START_TEST(test_local_stat_path_remove)
{
	struct pitr_store *st = pitr_store_new(dir, NULL, "archive dir");
	struct pitr_store_entry e;
	struct pitr_s3 *client = (void *)1;
	const char *prefix = "x";
	char *path;

	put("f", "abc");
	ck_assert_int_eq(pitr_store_stat(st, "f", &e), 0);
	ck_assert_str_eq(e.name, "f");
	ck_assert_uint_eq(e.size, 3);
	ck_assert(e.regular);
	ck_assert_int_eq(pitr_store_stat(st, "nope", &e), 1);
	ck_assert_ptr_nonnull(path = pitr_store_path(st, "f"));
	ck_assert_str_eq(path, h_fmt("%s/f", dir));
	free(path);
	/* A local store has no client to hand out. */
	ck_assert_int_eq(pitr_store_s3(st, &client, &prefix), 1);
	ck_assert_int_eq(pitr_store_remove(st, "f"), 0);
	ck_assert(!h_exists(h_fmt("%s/f", dir)));
	ck_assert_int_eq(pitr_store_remove(st, "f"), 0);   /* gone already: done */
	ck_assert_int_eq(pitr_store_stat(st, "f", &e), 1);
	pitr_store_free(st);
}
END_TEST

START_TEST(test_local_read)
{
	struct pitr_store *st = pitr_store_new(dir, NULL, "archive dir");
	char reason[256] = "";
	char *text;
	size_t len;
	int fd;

	put("f", "hello");
	ck_assert_int_ge(fd = pitr_store_read_begin(st, "f", NULL, 0), 0);
	text = slurp(fd, &len);
	ck_assert_str_eq(text, "hello");
	free(text);
	ck_assert_int_eq(pitr_store_read_end(st, fd, 0, NULL, 0), 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);   /* closed by read_end */
	/* Stopping early is no failure. */
	ck_assert_int_ge(fd = pitr_store_read_begin(st, "f", NULL, 0), 0);
	ck_assert_int_eq(pitr_store_read_end(st, fd, PITR_STORE_READ_EARLY, NULL, 0), 0);
	/* Absent: -2 and no line. */
	h_log_reset();
	ck_assert_int_eq(pitr_store_read_begin(st, "nope", reason, sizeof(reason)), -2);
	ck_assert_str_eq(h_log(), "");
	/* Unreadable: the reason without the path when asked for, else a line. */
	if (geteuid() != 0) {
		put("locked", "x");
		ck_assert_int_eq(chmod(h_fmt("%s/locked", dir), 0), 0);
		ck_assert_int_eq(pitr_store_read_begin(st, "locked", reason, sizeof(reason)), -1);
		ck_assert_str_eq(reason, "cannot open: Permission denied");
		ck_assert_str_eq(h_log(), "");   /* written to reason, not logged */
		ck_assert_int_eq(pitr_store_read_begin(st, "locked", NULL, 0), -1);
		assert_logged(h_fmt("cannot open \"%s/locked\": Permission denied", dir));
	}
	pitr_store_free(st);
}
END_TEST

/* ---- an s3:// location, no request made ---- */

START_TEST(test_s3_location)
{
	struct pitr_s3_config cfg = { .endpoint = "http://127.0.0.1:1", .path_style = true };
	struct pitr_store *st = pitr_store_new("s3://bucket/wal", &cfg, "archive dir");
	char *path;

	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(pitr_store_location(st), "s3://bucket/wal");
	ck_assert_ptr_null(pitr_store_dir(st));
	ck_assert_ptr_nonnull(path = pitr_store_path(st, "000000010000000000000001.gz"));
	ck_assert_str_eq(path, "s3://bucket/wal/000000010000000000000001.gz");
	free(path);
	pitr_store_free(st);
	/* A malformed location: one line naming the role, no store. */
	h_log_reset();
	ck_assert_ptr_null(pitr_store_new("s3://B_ad/x", NULL, "backup dir"));
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : backup dir"));
}
END_TEST

/* ---- the pipe a thread fills ---- */

struct producer {
	size_t total;        /* bytes to pass; SIZE_MAX: until the writer refuses */
	size_t fail_after;   /* fail (a logged line) after this many; SIZE_MAX: never */
	int absent;          /* return 1 at once */
	size_t passed;
	int write_refused;   /* a write returned -1 */
	const unsigned char *data;   /* the bytes to pass; NULL: a pattern */
};

static int
produce(void *ctx, pitr_pipefeed_write_fn write, void *wctx)
{
	struct producer *p = ctx;
	unsigned char chunk[4096];

	if (p->absent)
		return 1;
	while (p->passed < p->total) {
		size_t n = sizeof(chunk);

		if (p->passed >= p->fail_after) {
			pitr_log_error("s3://b/k: GET: HTTP 500 InternalError: boom");
			return -1;
		}
		if (n > p->total - p->passed)
			n = p->total - p->passed;
		if (n > p->fail_after - p->passed)
			n = p->fail_after - p->passed;
		for (size_t i = 0; i < n; i++)
			chunk[i] = p->data != NULL ? p->data[p->passed + i] :
						     (unsigned char)((p->passed + i) % 251);
		if (write(wctx, chunk, n) != 0) {
			p->write_refused = 1;
			return -1;
		}
		p->passed += n;
	}
	return 0;
}

START_TEST(test_feed_whole)
{
	struct producer p = { .total = 3u << 20, .fail_after = SIZE_MAX };
	struct pitr_pipefeed *f;
	char *buf;
	size_t len;

	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	buf = slurp(pitr_pipefeed_fd(f), &len);
	ck_assert_uint_eq(len, 3u << 20);
	for (size_t i = 0; i < len; i += 4093)
		ck_assert_uint_eq((unsigned char)buf[i], i % 251);
	free(buf);
	ck_assert_int_eq(pitr_pipefeed_end(f, false, NULL, 0), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_feed_empty_and_absent)
{
	struct producer empty = { .total = 0, .fail_after = SIZE_MAX };
	struct producer absent = { .absent = 1 };
	struct pitr_pipefeed *f = (void *)1;
	char *buf;
	size_t len;

	ck_assert_int_eq(pitr_pipefeed_begin(produce, &empty, &f, NULL, 0), 0);
	buf = slurp(pitr_pipefeed_fd(f), &len);
	ck_assert_uint_eq(len, 0);
	free(buf);
	ck_assert_int_eq(pitr_pipefeed_end(f, false, NULL, 0), 0);
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &absent, &f, NULL, 0), 1);
	ck_assert_ptr_null(f);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* A request refused before any byte is known at begin, in one line. */
START_TEST(test_feed_fails_at_once)
{
	struct producer p = { .total = 100, .fail_after = 0 };
	struct pitr_pipefeed *f = (void *)1;
	char reason[256] = "";

	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, reason, sizeof(reason)), -1);
	ck_assert_ptr_null(f);
	ck_assert_str_eq(reason, "s3://b/k: GET: HTTP 500 InternalError: boom");
	ck_assert_str_eq(h_log(), "");   /* held in the thread, given to reason */
	p.passed = 0;
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), -1);
	ck_assert_str_eq(h_log(), "ERROR : s3://b/k: GET: HTTP 500 InternalError: boom\n");
}
END_TEST

/* Bytes, then a failure: the reader sees an end of file that end says
 * was no end. */
START_TEST(test_feed_fails_midway)
{
	struct producer p = { .total = 100000, .fail_after = 10000 };
	struct pitr_pipefeed *f;
	char reason[256] = "";
	char *buf;
	size_t len;

	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	buf = slurp(pitr_pipefeed_fd(f), &len);
	ck_assert_uint_eq(len, 10000);
	free(buf);
	ck_assert_int_eq(pitr_pipefeed_end(f, false, reason, sizeof(reason)), -1);
	ck_assert_str_eq(reason, "s3://b/k: GET: HTTP 500 InternalError: boom");
	ck_assert_str_eq(h_log(), "");
	/* The same with the reader stopping early after it: the failure came
	 * first, so it still counts. */
	p.passed = 0;
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	buf = slurp(pitr_pipefeed_fd(f), &len);
	free(buf);
	ck_assert_int_eq(pitr_pipefeed_end(f, true, NULL, 0), -1);
	ck_assert_str_eq(h_log(), "ERROR : s3://b/k: GET: HTTP 500 InternalError: boom\n");
}
END_TEST

/* A reader that stops early never leaves the thread waiting: the
 * producer's next write is refused (EPIPE, no SIGPIPE), and only an
 * early stop the reader did not declare is a failure. */
START_TEST(test_feed_reader_stops)
{
	struct producer p = { .total = SIZE_MAX, .fail_after = SIZE_MAX };
	struct pitr_pipefeed *f;
	char head[10], reason[256] = "";

	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read(pitr_pipefeed_fd(f), head, sizeof(head)), (ssize_t)sizeof(head));
	ck_assert_int_eq(pitr_pipefeed_end(f, true, NULL, 0), 0);
	ck_assert(p.write_refused);
	ck_assert_str_eq(h_log(), "");
	memset(&p, 0, sizeof(p));
	p.total = p.fail_after = SIZE_MAX;
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read(pitr_pipefeed_fd(f), head, sizeof(head)), (ssize_t)sizeof(head));
	ck_assert_int_eq(pitr_pipefeed_end(f, false, reason, sizeof(reason)), -1);
	ck_assert(p.write_refused);
	ck_assert_str_eq(reason, "the reader closed before the end");
}
END_TEST

/* Read `fd` through a (logging) gzip reader naming it "s3://b/k", with a
 * LOG line on the way: 0 at a whole stream's end, -1 when it fails. */
static int
read_gzip(int fd)
{
	struct pitr_codec_reader *r = pitr_codec_reader_new(PITR_CODEC_GZIP, fd, "s3://b/k");
	char buf[8192];
	ssize_t n;

	ck_assert_ptr_nonnull(r);
	pitr_log_info("reading on");
	while ((n = pitr_codec_reader_read(r, buf, sizeof(buf))) > 0)
		;
	pitr_codec_reader_free(r);
	return n == 0 ? 0 : -1;
}

/* A gzip'd stream of `len` bytes that do not compress. */
static unsigned char *
gzip_noise(size_t len, size_t *zlen)
{
	unsigned char *raw = malloc(len);
	uint32_t x = 12345;
	char *z;

	ck_assert_ptr_nonnull(raw);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		raw[i] = (unsigned char)(x >> 24);
	}
	h_write_compressed(h_path("noise.gz"), PITR_CODEC_GZIP, raw, len);
	free(raw);
	z = h_read_file(h_path("noise.gz"), zlen);
	return (unsigned char *)z;
}

/* The GET fails midway: the reader finds its stream cut and would say
 * so, but the GET's line, naming the object and the cause, is the one
 * ERROR line; the reader's LOG lines are written meanwhile. */
START_TEST(test_feed_fails_under_a_reader)
{
	size_t zlen;
	unsigned char *z = gzip_noise(300000, &zlen);
	struct producer p = { .data = z, .total = zlen, .fail_after = zlen / 2 };
	struct pitr_pipefeed *f;
	char reason[256] = "";

	ck_assert_uint_gt(zlen, 200000);
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read_gzip(pitr_pipefeed_fd(f)), -1);
	ck_assert_int_eq(pitr_pipefeed_end(f, true, NULL, 0), -1);
	ck_assert_str_eq(h_log(), "LOG : reading on\n"
				  "ERROR : s3://b/k: GET: HTTP 500 InternalError: boom\n");
	/* The hold ended with the feed: a later line is written. */
	pitr_log_error("after");
	ck_assert_ptr_nonnull(strstr(h_log(), "boom\nERROR : after\n"));
	/* Into a caller's reason: no line at all then. */
	h_log_reset();
	p.passed = 0;
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read_gzip(pitr_pipefeed_fd(f)), -1);
	ck_assert_int_eq(pitr_pipefeed_end(f, true, reason, sizeof(reason)), -1);
	ck_assert_str_eq(reason, "s3://b/k: GET: HTTP 500 InternalError: boom");
	ck_assert_str_eq(h_log(), "LOG : reading on\n");
	free(z);
}
END_TEST

/* The GET delivers every byte and the reader finds them wrong: the
 * reader's line is the one, once, at the end. */
START_TEST(test_feed_whole_but_wrong)
{
	size_t zlen;
	unsigned char *z = gzip_noise(300000, &zlen);
	struct producer p = { .data = z, .total = zlen, .fail_after = SIZE_MAX };
	struct pitr_pipefeed *f;
	const char *log, *head = "LOG : reading on\nERROR : ";

	z[zlen / 2] ^= 0x55;   /* deflate data or its CRC no longer agree */
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read_gzip(pitr_pipefeed_fd(f)), -1);
	ck_assert_str_eq(h_log(), "LOG : reading on\n");   /* held until the end */
	ck_assert_int_eq(pitr_pipefeed_end(f, true, NULL, 0), 0);
	log = h_log();
	ck_assert_msg(strncmp(log, head, strlen(head)) == 0, "[%s]", log);
	ck_assert_ptr_nonnull(strstr(log, "\"s3://b/k\" is corrupt"));
	ck_assert_ptr_eq(strchr(log + strlen(head), '\n'), log + strlen(log) - 1);   /* one line */
	free(z);
}
END_TEST

/* A thread that holds already keeps its hold: the reader's line lands in
 * it, and the feed's end does not end it. */
START_TEST(test_feed_under_an_outer_hold)
{
	struct producer p = { .total = 1000, .fail_after = SIZE_MAX };
	struct pitr_pipefeed *f;
	char outer[256];

	pitr_log_hold(outer, sizeof(outer));
	ck_assert_int_eq(pitr_pipefeed_begin(produce, &p, &f, NULL, 0), 0);
	ck_assert_int_eq(read_gzip(pitr_pipefeed_fd(f)), -1);
	ck_assert_int_eq(pitr_pipefeed_end(f, true, NULL, 0), 0);
	ck_assert(pitr_log_holding());
	pitr_log_hold(NULL, 0);
	ck_assert_str_eq(outer, "reading on");   /* the outer hold takes every level */
	ck_assert_str_eq(h_log(), "");
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("local");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_local_list);
	tcase_add_test(tc, test_local_list_missing);
	tcase_add_test(tc, test_local_stat_path_remove);
	tcase_add_test(tc, test_local_read);
	tcase_add_test(tc, test_s3_location);
	suite_add_tcase(s, tc);

	tc = tcase_create("pipefeed");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_feed_whole);
	tcase_add_test(tc, test_feed_empty_and_absent);
	tcase_add_test(tc, test_feed_fails_at_once);
	tcase_add_test(tc, test_feed_fails_midway);
	tcase_add_test(tc, test_feed_reader_stops);
	tcase_add_test(tc, test_feed_fails_under_a_reader);
	tcase_add_test(tc, test_feed_whole_but_wrong);
	tcase_add_test(tc, test_feed_under_an_outer_hold);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
