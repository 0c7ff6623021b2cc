/*
 * check_fanout.c - unit tests for lib/dest/fanout.c: one writer per codec,
 * each destination fed once, local destinations published first, staged
 * ones in --parallel-jobs batches, and both policies with a failing
 * destination (local and pipe destinations stand for every kind).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "dest/fanout.h"
#include "harness.h"

static struct pitr_dest_env env;
/* A stable copy: h_path() reuses a small ring of buffers. */
static char p_tmp[4096];

/* What the callbacks saw, in order. */
static char seen[8192];

static void
setup(void)
{
	h_setup();
	memset(&env, 0, sizeof(env));
	snprintf(p_tmp, sizeof(p_tmp), "%s", h_path("tmp"));
	ck_assert_int_eq(mkdir(p_tmp, 0700), 0);
	env.temp_dir = p_tmp;
	seen[0] = '\0';
}

static void
teardown(void)
{
	h_teardown();
}

/* Add a destination of `kind` for `arg` to `f`. */
static void
add(struct pitr_fanout *f, enum pitr_dest_kind kind, const char *arg)
{
	struct pitr_dest_spec spec;

	ck_assert_int_eq(pitr_dest_spec_parse(arg, kind, "--dst", &spec), 0);
	ck_assert_int_eq(pitr_fanout_add(f, &spec), 0);
	pitr_dest_spec_free(&spec);
}

/* A pipe destination: a script `name` in the scratch dir with `body`.
 * Its path stays valid for the next three calls. */
static const char *
script(const char *name, const char *body)
{
	static char paths[4][4096];
	static size_t next;
	char *path = paths[next++ % 4];

	snprintf(path, sizeof(paths[0]), "%s", h_path(name));
	h_write_file(path, body, strlen(body));
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

static char *
name_file(void *arg, const char *ext)
{
	char *name;

	ck_assert_int_ge(asprintf(&name, "%s%s", (const char *)arg, ext), 0);
	return name;
}

static int
note_published(void *arg, const struct pitr_dest *d, enum pitr_dest_result result)
{
	(void)arg;
	snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s %s %s%s\n",
		 pitr_dest_kind_name(d), d->name, pitr_dest_label(d),
		 result == PITR_DEST_ALREADY ? " already" : "");
	return 0;
}

/* Open a file named `name` (plus each codec's extension), write `text`,
 * close it.  Returns what open/write/close gave: 0, or -1. */
static int
deliver_text(struct pitr_fanout *f, const char *name, const char *text)
{
	struct pitr_fanout_file_opts opts = { .name = name_file, .arg = (void *)name };
	struct pitr_fanout_file *file = pitr_fanout_open(f, &opts);

	if (file == NULL)
		return -1;
	if (pitr_fanout_write(file, text, strlen(text)) != 0)
		return -1;
	return pitr_fanout_close(file);
}

/* The decompressed content of `path`, stored with `codec`. */
static char *
content(const char *path, enum pitr_codec codec)
{
	FILE *fp = fopen(path, "r");
	struct pitr_codec_reader *r;
	static char buf[4096];
	size_t have = 0;
	ssize_t n;

	ck_assert_msg(fp != NULL, "missing %s", path);
	r = pitr_codec_reader_new(codec, fileno(fp), path);
	ck_assert_ptr_nonnull(r);
	while ((n = pitr_codec_reader_read(r, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	ck_assert_int_eq(n, 0);
	buf[have] = '\0';
	pitr_codec_reader_free(r);
	fclose(fp);
	return buf;
}

START_TEST(test_one_writer_per_codec)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ALL, 1);
	struct pitr_fanout_file_opts opts = { .name = name_file, .arg = "f" };
	struct pitr_fanout_file *file;

	mkdir(h_path("a"), 0700);
	mkdir(h_path("b"), 0700);
	mkdir(h_path("c"), 0700);
	mkdir(h_path("out"), 0700);
	add(f, PITR_DEST_LOCAL, h_path("a"));
	add(f, PITR_DEST_LOCAL, h_fmt("gzip=%s", h_path("b")));
	add(f, PITR_DEST_LOCAL, h_fmt("gzip=%s", h_path("c")));
	add(f, PITR_DEST_PIPE, h_fmt("gzip:1=%s", script("up.sh", h_fmt("#!/bin/sh\ncat >'%s'/\"$1\"\n",
									  h_path("out")))));
	ck_assert_uint_eq(pitr_fanout_count(f), 4);
	file = pitr_fanout_open(f, &opts);
	ck_assert_ptr_nonnull(file);
	/* none, gzip (default level), gzip:1: three writers for four. */
	ck_assert_uint_eq(pitr_fanout_groups(file), 3);
	ck_assert_uint_eq(pitr_fanout_group_of(file, 0), 0);
	ck_assert_uint_eq(pitr_fanout_group_of(file, 1), 1);
	ck_assert_uint_eq(pitr_fanout_group_of(file, 2), 1);
	ck_assert_uint_eq(pitr_fanout_group_of(file, 3), 2);
	ck_assert_str_eq(pitr_fanout_name(file, 0), "f");
	ck_assert_str_eq(pitr_fanout_name(file, 3), "f.gz");
	ck_assert(pitr_fanout_compresses(file));
	ck_assert_int_eq(pitr_fanout_write(file, "hello, ", 7), 0);
	ck_assert_int_eq(pitr_fanout_write(file, "world", 5), 0);
	ck_assert_int_eq(pitr_fanout_close(file), 0);
	/* Nothing at a final name before the publish. */
	ck_assert(!h_exists(h_path("a/f")));
	ck_assert(!h_exists(h_path("out/f.gz")));
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), 0);
	ck_assert_str_eq(content(h_path("a/f"), PITR_CODEC_NONE), "hello, world");
	ck_assert_str_eq(content(h_path("b/f.gz"), PITR_CODEC_GZIP), "hello, world");
	ck_assert_str_eq(content(h_path("c/f.gz"), PITR_CODEC_GZIP), "hello, world");
	ck_assert_str_eq(content(h_path("out/f.gz"), PITR_CODEC_GZIP), "hello, world");
	ck_assert_uint_eq(pitr_fanout_nfailed(f), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_fanout_free(f);
	/* The pipe's staged copy is gone. */
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
}
END_TEST

/* Locals first, whatever the order given: the staged destination runs
 * only once the local file is published. */
START_TEST(test_local_first)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ISOLATE, 4);

	mkdir(h_path("a"), 0700);
	add(f, PITR_DEST_PIPE, script("check.sh", h_fmt("#!/bin/sh\n[ -e '%s' ] || exit 5\ncat >/dev/null\n",
							 h_path("a/f"))));
	add(f, PITR_DEST_LOCAL, h_path("a"));
	ck_assert_int_eq(deliver_text(f, "f", "x"), 0);
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), 0);
	ck_assert_str_eq(seen, h_fmt("local f %s\npipe f %s\n", h_path("a"), h_path("check.sh")));
	/* Published again: identical, counted as delivered. */
	seen[0] = '\0';
	pitr_fanout_free(f);
	f = pitr_fanout_new(&env, PITR_FANOUT_ISOLATE, 1);
	add(f, PITR_DEST_LOCAL, h_path("a"));
	ck_assert_int_eq(deliver_text(f, "f", "x"), 0);
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), 0);
	ck_assert_str_eq(seen, h_fmt("local f %s already\n", h_path("a")));
	ck_assert_str_eq(h_log(), "");
	pitr_fanout_free(f);
}
END_TEST

/* Three staged destinations, -PJ 2: the first two run side by side, the
 * third only after both ended.  Each script logs its start and end. */
static void
run_batches(int jobs)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ISOLATE, jobs);
	const char *log = h_path("order");

	h_write_file(log, "", 0);
	for (int job_idx = 1; job_idx <= 3; job_idx++) {
		char name[32];

		snprintf(name, sizeof(name), "p%d.sh", job_idx);
		add(f, PITR_DEST_PIPE, script(name, h_fmt("#!/bin/sh\necho s%d >>'%s'\ncat >/dev/null\n"
							  "sleep 0.3\necho e%d >>'%s'\n", job_idx, log,
							  job_idx, log)));
	}
	ck_assert_int_eq(deliver_text(f, "f", "x"), 0);
	ck_assert_int_eq(pitr_fanout_publish(f, NULL, NULL), 0);
	pitr_fanout_free(f);
}

START_TEST(test_batches)
{
	char *order;

	run_batches(2);
	order = h_read_file(h_path("order"), NULL);
	/* s1 and s2 in either order, then both ends, then the third. */
	ck_assert_msg(strncmp(order, "s1\ns2\n", 6) == 0 || strncmp(order, "s2\ns1\n", 6) == 0,
		      "order: %s", order);
	ck_assert_msg(strcmp(order + 6, "e1\ne2\ns3\ne3\n") == 0 ||
		      strcmp(order + 6, "e2\ne1\ns3\ne3\n") == 0, "order: %s", order);
	free(order);
	run_batches(1);
	order = h_read_file(h_path("order"), NULL);
	ck_assert_str_eq(order, "s1\ne1\ns2\ne2\ns3\ne3\n");
	free(order);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* ISOLATE: a destination that cannot open, one whose program fails and one
 * whose record fails are dropped and counted; the others get the file. */
static int
refuse_b(void *arg, const struct pitr_dest *d, enum pitr_dest_result result)
{
	note_published(arg, d, result);
	if (strstr(pitr_dest_label(d), "/b") == NULL)
		return 0;
	pitr_log_error("could not record");
	return -1;
}

START_TEST(test_isolate_failures)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ISOLATE, 2);
	const char *fail = script("fail.sh", "#!/bin/sh\ncat >/dev/null\nexit 3\n");

	mkdir(h_path("a"), 0700);
	mkdir(h_path("b"), 0700);
	add(f, PITR_DEST_LOCAL, h_path("nope"));
	add(f, PITR_DEST_LOCAL, h_path("a"));
	add(f, PITR_DEST_PIPE, fail);
	add(f, PITR_DEST_LOCAL, h_fmt("gzip=%s", h_path("b")));
	ck_assert_int_eq(deliver_text(f, "f", "data"), 0);
	ck_assert(pitr_fanout_failed(f, 0));
	ck_assert_int_eq(pitr_fanout_publish(f, refuse_b, NULL), -1);
	ck_assert(pitr_fanout_failed(f, 0));
	ck_assert(!pitr_fanout_failed(f, 1));
	ck_assert(pitr_fanout_failed(f, 2));
	ck_assert(pitr_fanout_failed(f, 3));
	ck_assert_uint_eq(pitr_fanout_nfailed(f), 3);
	ck_assert_str_eq(content(h_path("a/f"), PITR_CODEC_NONE), "data");
	/* Published, then its record failed: the file stays. */
	ck_assert(h_exists(h_path("b/f.gz")));
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not use local destination \"%s\": No such file "
					"or directory\nERROR : could not record\nERROR : pipe "
					"destination \"%s\" failed for \"f\": exit status 3\n",
					h_path("nope"), fail));
	pitr_fanout_free(f);
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
}
END_TEST

/* ISOLATE: with no destination left, a write says so. */
START_TEST(test_isolate_none_left)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ISOLATE, 1);
	struct pitr_fanout_file_opts opts = { .name = name_file, .arg = "f" };
	struct pitr_fanout_file *file;

	add(f, PITR_DEST_LOCAL, h_path("nope"));
	file = pitr_fanout_open(f, &opts);
	ck_assert_ptr_nonnull(file);
	ck_assert(!pitr_fanout_compresses(file));
	ck_assert_ptr_null(pitr_fanout_name(file, 0));
	ck_assert_int_eq(pitr_fanout_write(file, "x", 1), -1);
	ck_assert_int_eq(pitr_fanout_close(file), -1);
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), -1);
	ck_assert_str_eq(seen, "");
	ck_assert_uint_eq(pitr_fanout_nfailed(f), 1);
	pitr_fanout_free(f);
}
END_TEST

/* ALL: the first destination that cannot open fails the file; what was
 * opened is aborted by the free, nothing left anywhere. */
START_TEST(test_all_open_failure)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ALL, 1);
	struct pitr_fanout_file_opts opts = { .name = name_file, .arg = "f" };

	mkdir(h_path("a"), 0700);
	add(f, PITR_DEST_LOCAL, h_path("a"));
	add(f, PITR_DEST_LOCAL, h_path("nope"));
	ck_assert_ptr_null(pitr_fanout_open(f, &opts));
	ck_assert_int_eq(h_count_entries(h_path("a")), 1);   /* a's temporary file */
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not use local destination \"%s\": No such file "
					"or directory\n", h_path("nope")));
	pitr_fanout_free(f);
	ck_assert_int_eq(h_count_entries(h_path("a")), 0);
}
END_TEST

/* A file name and a tap that fails on its second call for group 0. */
struct tap_ctx {
	const char *name;
	int calls;
};

static char *
tap_name(void *arg, const char *ext)
{
	return name_file((void *)((struct tap_ctx *)arg)->name, ext);
}

static int
tap_fails(void *arg, size_t group, const void *buf, size_t len)
{
	struct tap_ctx *ctx = arg;

	(void)buf;
	(void)len;
	if (group == 0 && ++ctx->calls == 2) {
		pitr_log_error("digest failed");
		return -1;
	}
	return 0;
}

/* Write "one" and "two" to a (plain, group 0: its tap fails on "two") and
 * b (gzip, group 1) under `policy`; returns the second write's result. */
static int
write_with_failing_tap(enum pitr_fanout_policy policy, struct pitr_fanout **f)
{
	static struct tap_ctx ctx;
	struct pitr_fanout_file_opts opts = { .name = tap_name, .tap = tap_fails, .arg = &ctx };
	struct pitr_fanout_file *file;

	ctx.name = "f";
	ctx.calls = 0;
	*f = pitr_fanout_new(&env, policy, 1);
	add(*f, PITR_DEST_LOCAL, h_path("a"));
	add(*f, PITR_DEST_LOCAL, h_fmt("gzip:1=%s", h_path("b")));
	file = pitr_fanout_open(*f, &opts);
	ck_assert_ptr_nonnull(file);
	ck_assert_int_eq(pitr_fanout_write(file, "one", 3), 0);
	if (pitr_fanout_write(file, "two", 3) != 0)
		return -1;
	ck_assert_int_eq(pitr_fanout_close(file), 0);
	return 0;
}

START_TEST(test_write_failure_by_policy)
{
	struct pitr_fanout *f;

	mkdir(h_path("a"), 0700);
	mkdir(h_path("b"), 0700);
	/* ALL: the write fails; the free leaves nothing anywhere. */
	ck_assert_int_eq(write_with_failing_tap(PITR_FANOUT_ALL, &f), -1);
	ck_assert_str_eq(h_log(), "ERROR : digest failed\n");
	pitr_fanout_free(f);
	ck_assert_int_eq(h_count_entries(h_path("a")), 0);
	ck_assert_int_eq(h_count_entries(h_path("b")), 0);
	h_log_reset();
	/* ISOLATE: only a is dropped; b gets the whole file. */
	ck_assert_int_eq(write_with_failing_tap(PITR_FANOUT_ISOLATE, &f), 0);
	ck_assert_str_eq(h_log(), "ERROR : digest failed\n");
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), -1);
	ck_assert(pitr_fanout_failed(f, 0));
	ck_assert(!pitr_fanout_failed(f, 1));
	ck_assert_str_eq(seen, h_fmt("local f.gz %s\n", h_path("b")));
	pitr_fanout_free(f);
	ck_assert_int_eq(h_count_entries(h_path("a")), 0);
	ck_assert_str_eq(content(h_path("b/f.gz"), PITR_CODEC_GZIP), "onetwo");
}
END_TEST

/* Several files (a backup's data and meta): published file by file, and a
 * destination that failed one gets none of the later ones.  Plain files
 * are stored as written, each destination its own text. */
START_TEST(test_files_in_order)
{
	struct pitr_fanout *f = pitr_fanout_new(&env, PITR_FANOUT_ALL, 2);
	struct pitr_fanout_file_opts plain = { .name = name_file, .plain = true, .arg = "list" };
	struct pitr_fanout_file *file;
	static char out[4096];

	snprintf(out, sizeof(out), "%s", h_path("out"));
	mkdir(h_path("a"), 0700);
	mkdir(h_path("b"), 0700);
	mkdir(out, 0700);
	/* b already holds another "data.gz": its data fails, so it gets no
	 * list and no meta. */
	h_write_compressed(h_path("b/data.gz"), PITR_CODEC_GZIP, "other", 5);
	add(f, PITR_DEST_PIPE, h_fmt("gzip=%s", script("up.sh", h_fmt("#!/bin/sh\ncat >'%s'/\"$1\"\n",
									     out))));
	add(f, PITR_DEST_LOCAL, h_fmt("gzip=%s", h_path("a")));
	add(f, PITR_DEST_LOCAL, h_fmt("gzip=%s", h_path("b")));
	ck_assert_int_eq(deliver_text(f, "data", "DATA"), 0);
	file = pitr_fanout_open(f, &plain);
	ck_assert_ptr_nonnull(file);
	ck_assert(!pitr_fanout_compresses(file));
	/* Named with the destination codec's extension, stored plain. */
	ck_assert_str_eq(pitr_fanout_name(file, 1), "list.gz");
	for (size_t dest_idx = 0; dest_idx < 3; dest_idx++) {
		const char *text = h_fmt("for %zu\n", dest_idx);

		ck_assert_int_eq(pitr_fanout_write_one(file, dest_idx, text, strlen(text)), 0);
	}
	ck_assert_int_eq(pitr_fanout_close(file), 0);
	ck_assert_int_eq(deliver_text(f, "meta", "META"), 0);
	ck_assert_int_eq(pitr_fanout_publish(f, note_published, NULL), -1);
	ck_assert_str_eq(seen, h_fmt("local data.gz %s\nlocal list.gz %s\nlocal meta.gz %s\n"
				     "pipe data.gz %s\npipe list.gz %s\npipe meta.gz %s\n",
				     h_path("a"), h_path("a"), h_path("a"), h_path("up.sh"),
				     h_path("up.sh"), h_path("up.sh")));
	ck_assert_str_eq(h_log(), h_fmt("ERROR : \"%s\" already exists with different content: not "
					"overwritten\n", h_path("b/data.gz")));
	ck_assert_uint_eq(pitr_fanout_nfailed(f), 1);
	ck_assert(pitr_fanout_failed(f, 2));
	pitr_fanout_free(f);
	ck_assert_str_eq(content(h_path("a/data.gz"), PITR_CODEC_GZIP), "DATA");
	ck_assert_str_eq(content(h_path("a/list.gz"), PITR_CODEC_NONE), "for 1\n");
	ck_assert_str_eq(content(h_path("a/meta.gz"), PITR_CODEC_GZIP), "META");
	ck_assert_str_eq(content(h_fmt("%s/list.gz", out), PITR_CODEC_NONE), "for 0\n");
	ck_assert_str_eq(content(h_fmt("%s/meta.gz", out), PITR_CODEC_GZIP), "META");
	/* b: only its own old file. */
	ck_assert_int_eq(h_count_entries(h_path("b")), 1);
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("fanout");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "one writer per codec", test_one_writer_per_codec },
		{ "local destinations first", test_local_first },
		{ "staged ones in batches", test_batches },
		{ "isolate: failures dropped and counted", test_isolate_failures },
		{ "isolate: none left", test_isolate_none_left },
		{ "all: an open failure", test_all_open_failure },
		{ "a write failure by policy", test_write_failure_by_policy },
		{ "files in order, plain files", test_files_in_order },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		TCase *tc = tcase_create(cases[case_idx].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[case_idx].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
