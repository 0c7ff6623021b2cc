/*
 * check_tarread.c - unit tests for lib/tar/tarread.c: tarballs built here with
 * libarchive's writer and compressed with our codec writers are extracted
 * (contents, modes, times, every codec), listed, and refused when damaged
 * or unsafe, each refusal in one line naming the file and the member;
 * and the decompression thread's ring (readahead.c) read whole, wrapped
 * around and stopped while full; and the split extraction, a writer
 * thread per destination: the same files, and one line for the first
 * failure on either side.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "compress/codec.h"
#include "harness.h"
#include "common/log.h"
#include "common/progress.h"
#include "tar/readahead.h"
#include "tar/tarread.h"

#define MTIME 1700000000

/* One member of a tarball a test builds. */
struct member {
	const char *name;
	mode_t type;           /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO; 0 = hard link */
	mode_t mode;
	const char *content;   /* file content; link target for links */
	size_t size;           /* 0: strlen(content) */
};

struct sink {
	int fd;
	struct pitr_codec_writer *w;
};

static int
fd_sink(void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	ck_assert_int_eq(write(s->fd, buf, len), (ssize_t)len);
	return 0;
}

static la_ssize_t
tar_write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct sink *s = ctx;

	(void)a;
	ck_assert_int_eq(pitr_codec_writer_write(s->w, buf, len), 0);
	return (la_ssize_t)len;
}

/* Write `path`: a tar of `m` (n members) compressed with `codec`. */
static void
make_tar(const char *path, enum pitr_codec codec, const struct member *m, size_t n)
{
	struct sink s;
	struct archive *a = archive_write_new();

	s.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(s.fd, 0);
	s.w = pitr_codec_writer_new(codec, 0, 1, fd_sink, &s);
	ck_assert_ptr_nonnull(s.w);
	ck_assert_int_eq(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open(a, &s, NULL, tar_write_cb, NULL), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		size_t size = m[i].size ? m[i].size : m[i].content ? strlen(m[i].content) : 0;

		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_mtime(e, MTIME, 0);
		archive_entry_set_uid(e, getuid());
		archive_entry_set_gid(e, getgid());
		if (m[i].type == 0) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, m[i].mode);
			archive_entry_set_hardlink(e, m[i].content);
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, m[i].type);
			archive_entry_set_perm(e, m[i].mode);
			if (m[i].type == AE_IFLNK)
				archive_entry_set_symlink(e, m[i].content);
			archive_entry_set_size(e, m[i].type == AE_IFREG ? (la_int64_t)size : 0);
		}
		ck_assert_int_eq(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].type == AE_IFREG && size > 0)
			ck_assert_int_eq(archive_write_data(a, m[i].content, size), (la_ssize_t)size);
		archive_entry_free(e);
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	ck_assert_int_eq(pitr_codec_writer_finish(s.w), 0);
	pitr_codec_writer_free(s.w);
	ck_assert_int_eq(close(s.fd), 0);
}

/* The map the tests use: members under "d" go to <scratch>/out, the one
 * named in `skip` is left out, the one named in `refuse` is refused (with
 * its own log line), anything else goes to <scratch>/other/<name>.  Every
 * call is recorded. */
struct map_ctx {
	const char *skip;
	const char *refuse;
	const char *relative;  /* mapped to a relative path */
	char calls[4096];
};

static char *
test_map(void *vctx, const char *member, bool *skip)
{
	struct map_ctx *c = vctx;
	char *out = NULL;

	snprintf(c->calls + strlen(c->calls), sizeof(c->calls) - strlen(c->calls), "%s\n", member);
	*skip = false;
	if (c->skip != NULL && strcmp(member, c->skip) == 0) {
		*skip = true;
		return NULL;
	}
	if (c->refuse != NULL && strcmp(member, c->refuse) == 0) {
		pitr_log_error("member \"%s\" is not wanted", member);
		return NULL;
	}
	if (c->relative != NULL && strcmp(member, c->relative) == 0)
		return strdup("relative/path");
	if (strcmp(member, "d") == 0 || strcmp(member, "d/") == 0)
		return strdup(h_path("out"));
	if (strncmp(member, "d/", 2) == 0)
		ck_assert_int_ge(asprintf(&out, "%s/%s", h_path("out"), member + 2), 0);
	else
		ck_assert_int_ge(asprintf(&out, "%s/%s", h_path("other"), member), 0);
	return out;
}

static char big[300000];

static void
fill_big(void)
{
	unsigned x = 12345;

	for (size_t i = 0; i < sizeof(big); i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (char)('a' + (x >> 16) % 26);
	}
}

static const struct member tree[] = {
	{ "d/", AE_IFDIR, 0750, NULL, 0 },
	{ "d/PG_VERSION", AE_IFREG, 0640, "15\n", 0 },
	{ "d/base", AE_IFDIR, 0700, NULL, 0 },
	{ "d/base/big", AE_IFREG, 0600, big, sizeof(big) },
	{ "d/empty", AE_IFREG, 0604, "", 0 },
};

static void
assert_file(const char *rel, const char *content, size_t size, mode_t mode)
{
	struct stat st;
	size_t len;
	char *got;

	ck_assert_msg(stat(h_path(rel), &st) == 0, "%s: %s", rel, strerror(errno));
	ck_assert_msg(S_ISREG(st.st_mode), "%s is not a file", rel);
	ck_assert_uint_eq(st.st_mode & 07777, mode);
	ck_assert_int_eq(st.st_mtime, MTIME);
	got = h_read_file(h_path(rel), &len);
	ck_assert_uint_eq(len, size);
	ck_assert_int_eq(memcmp(got, content, size), 0);
	free(got);
}

static void
assert_dir(const char *rel, mode_t mode)
{
	struct stat st;

	ck_assert_msg(stat(h_path(rel), &st) == 0, "%s: %s", rel, strerror(errno));
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, mode);
	ck_assert_int_eq(st.st_mtime, MTIME);
}

/* Every codec: contents, modes, times and the byte count. */
START_TEST(test_extract_each_codec)
{
	enum pitr_codec codec = (enum pitr_codec)_i;
	struct map_ctx c = { 0 };
	char tar[4096];
	uint64_t bytes = 99;

	h_setup();
	fill_big();
	snprintf(tar, sizeof(tar), "%s%s", h_path("t.tar"), pitr_codec_ext(codec));
	make_tar(tar, codec, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(pitr_tarread_extract(tar, codec, test_map, &c, 0, &bytes), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_str_eq(c.calls, "d/\nd/PG_VERSION\nd/base/\nd/base/big\nd/empty\n");
	ck_assert_uint_eq(bytes, 3 + sizeof(big));
	assert_dir("out", 0750);
	assert_dir("out/base", 0700);
	assert_file("out/PG_VERSION", "15\n", 3, 0640);
	assert_file("out/base/big", big, sizeof(big), 0600);
	assert_file("out/empty", "", 0, 0604);
	ck_assert_int_eq(h_count_entries(h_path("out")), 3);
	ck_assert_int_eq(h_exists(h_path("other")), 0);
	/* bytes may be NULL. */
	c.calls[0] = '\0';
	ck_assert_int_eq(pitr_tarread_extract(tar, codec, test_map, &c, 0, NULL), -1);
	h_teardown();
}
END_TEST

/* A second extraction over the first: nothing is overwritten. */
START_TEST(test_no_overwrite)
{
	struct map_ctx c = { 0 };
	char want[8192];

	h_setup();
	fill_big();
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, tree, 2);
	ck_assert_int_eq(mkdir(h_path("out"), 0700), 0);
	h_write_file(h_path("out/PG_VERSION"), "14\n", 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : could not create \"%s\" (member \"d/PG_VERSION\" of \"%s\"): "
		 "it already exists\n", h_path("out/PG_VERSION"), h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	{
		size_t len;
		char *got = h_read_file(h_path("out/PG_VERSION"), &len);

		ck_assert_str_eq(got, "14\n");
		free(got);
	}
	h_teardown();
}
END_TEST

START_TEST(test_truncated_gzip)
{
	struct map_ctx c = { 0 };
	char want[8192];
	struct stat st;

	h_setup();
	fill_big();
	make_tar(h_path("t.tar.gz"), PITR_CODEC_GZIP, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(stat(h_path("t.tar.gz"), &st), 0);
	ck_assert_int_eq(truncate(h_path("t.tar.gz"), st.st_size / 2), 0);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is truncated: the compressed stream ends early\n",
		 h_path("t.tar.gz"));
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.gz"), PITR_CODEC_GZIP, test_map, &c, 0, NULL), -1);
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar.gz"), PITR_CODEC_GZIP, NULL, NULL), -1);
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

/* The gzip trailer comes after the tar's end marker: it is still checked. */
START_TEST(test_corrupt_gzip_trailer)
{
	struct map_ctx c = { 0 };
	char want[8192];
	size_t len;
	char *buf;

	h_setup();
	make_tar(h_path("t.tar.gz"), PITR_CODEC_GZIP, tree, 2);
	buf = h_read_file(h_path("t.tar.gz"), &len);
	buf[len - 6] ^= 0x5a;      /* inside the CRC-32 */
	h_write_file(h_path("t.tar.gz"), buf, len);
	free(buf);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt: incorrect data check\n",
		 h_path("t.tar.gz"));
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar.gz"), PITR_CODEC_GZIP, NULL, NULL), -1);
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.gz"), PITR_CODEC_GZIP, test_map, &c, 0, NULL), -1);
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

/* A plain tar cut inside a member's data names the member. */
START_TEST(test_truncated_plain_tar)
{
	struct map_ctx c = { 0 };
	char want[8192];

	h_setup();
	fill_big();
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(truncate(h_path("t.tar"), 100000), 0);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt at member \"d/base/big\": Truncated tar archive\n",
		 h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	/* Skipping says it in other words. */
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar"), PITR_CODEC_NONE, NULL, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt at member \"d/base/big\": Truncated input file (needed 300032 bytes, only 97440 available)\n",
		 h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

START_TEST(test_not_a_tar)
{
	struct map_ctx c = { 0 };
	char junk[2048], want[8192];

	h_setup();
	memset(junk, 'x', sizeof(junk));
	h_write_file(h_path("junk"), junk, sizeof(junk));
	ck_assert_int_eq(pitr_tarread_extract(h_path("junk"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is not a tar archive: Unrecognized archive format\n",
		 h_path("junk"));
	ck_assert_str_eq(h_log(), want);
	ck_assert_str_eq(c.calls, "");
	h_log_reset();
	/* Not gzip at all: the codec says so. */
	ck_assert_int_eq(pitr_tarread_list(h_path("junk"), PITR_CODEC_GZIP, NULL, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt: incorrect header check\n", h_path("junk"));
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	ck_assert_int_eq(pitr_tarread_list(h_path("missing"), PITR_CODEC_NONE, NULL, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : could not open \"%s\": No such file or directory\n",
		 h_path("missing"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

/* "../x", "/etc/x" and a hard link out are refused before the map is
 * asked, and nothing is written for them. */
START_TEST(test_unsafe_names)
{
	static const struct {
		const char *name;
		mode_t type;
		const char *link;
		const char *why;
	} cases[] = {
		{ "../x", AE_IFREG, NULL, "\"..\" in its path" },
		{ "d/../../x", AE_IFREG, NULL, "\"..\" in its path" },
		{ "d/a/../", AE_IFDIR, NULL, "\"..\" in its path" },
		{ "/etc/x", AE_IFREG, NULL, "absolute path" },
		{ "d/h", 0, "../x", "hard link to \"../x\": \"..\" in its path" },
		{ "d/h", 0, "/etc/passwd", "hard link to \"/etc/passwd\": absolute path" },
		{ "d/fifo", AE_IFIFO, NULL, "not a file, directory or link" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct map_ctx c = { 0 };
		struct member m[2] = {
			{ "d/ok", AE_IFREG, 0600, "ok", 0 },
			{ cases[i].name, cases[i].type, 0600, cases[i].link ? cases[i].link : "x", 0 },
		};
		char want[8192];

		h_setup();
		make_tar(h_path("t.tar"), PITR_CODEC_NONE, m, 2);
		ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c,
						      PITR_TARREAD_ALLOW_SYMLINKS, NULL), -1);
		snprintf(want, sizeof(want), "ERROR : \"%s\": member \"%s\" refused: %s\n",
			 h_path("t.tar"), cases[i].name, cases[i].why);
		ck_assert_str_eq(h_log(), want);
		ck_assert_str_eq(c.calls, "d/ok\n");
		ck_assert_int_eq(h_exists(h_path("x")), 0);
		ck_assert_int_eq(h_exists(h_path("other")), 0);
		h_teardown();
	}
}
END_TEST

START_TEST(test_skip_and_refuse)
{
	struct map_ctx c = { .skip = "d/base/big" };
	uint64_t bytes = 0;

	h_setup();
	fill_big();
	make_tar(h_path("t.tar.zst"), PITR_CODEC_ZSTD, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.zst"), PITR_CODEC_ZSTD, test_map, &c, 0,
					      &bytes), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_uint_eq(bytes, 3);
	ck_assert_int_eq(h_exists(h_path("out/base/big")), 0);
	assert_file("out/PG_VERSION", "15\n", 3, 0640);
	assert_file("out/empty", "", 0, 0604);
	h_teardown();

	/* A refusal by the map stops the extraction with the map's line only. */
	h_setup();
	memset(&c, 0, sizeof(c));
	c.refuse = "d/base/";
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	ck_assert_str_eq(h_log(), "ERROR : member \"d/base/\" is not wanted\n");
	ck_assert_str_eq(c.calls, "d/\nd/PG_VERSION\nd/base/\n");
	ck_assert_int_eq(h_exists(h_path("out/base")), 0);
	h_teardown();

	/* A relative destination is a caller's bug, reported. */
	h_setup();
	memset(&c, 0, sizeof(c));
	c.relative = "d/PG_VERSION";
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, tree, 2);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	{
		char want[8192];

		snprintf(want, sizeof(want), "ERROR : \"%s\": member \"d/PG_VERSION\" mapped to relative "
			 "path \"relative/path\"\n", h_path("t.tar"));
		ck_assert_str_eq(h_log(), want);
	}
	h_teardown();
}
END_TEST

static void
list_fn(void *ctx, const char *member, int64_t size)
{
	char *out = ctx;

	snprintf(out + strlen(out), 4096 - strlen(out), "%s %lld\n", member, (long long)size);
}

START_TEST(test_list)
{
	char out[4096] = "";
	const struct member m[] = {
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/a", AE_IFREG, 0600, "hello", 0 },
		{ "d/big", AE_IFREG, 0600, big, sizeof(big) },
		{ "d/l", AE_IFLNK, 0777, "/somewhere", 0 },
		{ "../odd", AE_IFREG, 0600, "x", 0 },
	};

	h_setup();
	fill_big();
	make_tar(h_path("t.tar.xz"), PITR_CODEC_XZ, m, sizeof(m) / sizeof(m[0]));
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar.xz"), PITR_CODEC_XZ, list_fn, out), 0);
	ck_assert_str_eq(out, "d/ 0\nd/a 5\nd/big 300000\nd/l 0\n../odd 1\n");
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar.xz"), PITR_CODEC_XZ, NULL, NULL), 0);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* The _fd variants read a descriptor to its end, name it as told in
 * messages, and leave it open (a store's pipe is closed by its store). */
START_TEST(test_fd)
{
	struct map_ctx c = { 0 };
	char out[4096] = "";
	struct pitr_tarread_stream *st;
	const char *name;
	int64_t size;
	uint64_t bytes = 0;
	struct stat sb;
	int fd;

	h_setup();
	fill_big();
	make_tar(h_path("t.tar.gz"), PITR_CODEC_GZIP, tree, sizeof(tree) / sizeof(tree[0]));
	ck_assert_int_eq(stat(h_path("t.tar.gz"), &sb), 0);
	ck_assert_int_ge(fd = open(h_path("t.tar.gz"), O_RDONLY), 0);
	ck_assert_int_eq(pitr_tarread_list_fd(fd, "s3://b/t.tar.gz", PITR_CODEC_GZIP, list_fn, out), 0);
	ck_assert_str_eq(out, "d/ 0\nd/PG_VERSION 3\nd/base/ 0\nd/base/big 300000\nd/empty 0\n");
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), sb.st_size);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_int_eq(pitr_tarread_extract_fd(fd, "s3://b/t.tar.gz", PITR_CODEC_GZIP, test_map, &c,
						 0, &bytes), 0);
	ck_assert_uint_eq(bytes, 3 + sizeof(big));
	assert_file("out/base/big", big, sizeof(big), 0600);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), sb.st_size);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	ck_assert_ptr_nonnull(st = pitr_tarread_open_fd(fd, "s3://b/t.tar.gz", PITR_CODEC_GZIP));
	ck_assert_int_eq(pitr_tarread_next(st, &name, &size), 1);
	ck_assert_str_eq(name, "d/");
	pitr_tarread_close(st);
	ck_assert_str_eq(h_log(), "");
	/* Still open: closed by its owner. */
	ck_assert_int_eq(close(fd), 0);
	/* A truncated stream is named as told. */
	h_write_file(h_path("cut.tar.gz"), "\x1f\x8b\x08\x00", 4);
	ck_assert_int_ge(fd = open(h_path("cut.tar.gz"), O_RDONLY), 0);
	ck_assert_int_eq(pitr_tarread_list_fd(fd, "s3://b/cut.tar.gz", PITR_CODEC_GZIP, NULL, NULL), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "\"s3://b/cut.tar.gz\""));
	ck_assert_int_eq(close(fd), 0);
	h_teardown();
}
END_TEST

START_TEST(test_progress)
{
	const struct member m[] = {
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/a", AE_IFREG, 0600, "hello", 0 },
		{ "d/big", AE_IFREG, 0600, big, sizeof(big) },
	};
	struct map_ctx c = { 0 };
	struct pitr_progress *p;
	struct stat st;

	/* Tar bytes as decompressed (the tar's own size) and regular files,
	 * in the final -v line; nothing once the progress is taken away. */
	h_setup();
	fill_big();
	make_tar(h_path("t.tar.gz"), PITR_CODEC_GZIP, m, sizeof(m) / sizeof(m[0]));
	make_tar(h_path("plain.tar"), PITR_CODEC_NONE, m, sizeof(m) / sizeof(m[0]));
	ck_assert_int_eq(stat(h_path("plain.tar"), &st), 0);
	ck_assert_int_eq(pitr_log_open("check", NULL, true), 0);
	p = pitr_progress_new("extract", 0, 0);
	pitr_tarread_progress(p);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.gz"), PITR_CODEC_GZIP, test_map, &c, 0,
					      NULL), 0);
	pitr_tarread_progress(NULL);
	ck_assert_int_eq(pitr_tarread_list(h_path("t.tar.gz"), PITR_CODEC_GZIP, NULL, NULL), 0);
	pitr_progress_finish(p);
	ck_assert_msg(strncmp(h_log(), h_fmt("LOG : extract: %.1f KiB, 2 files in ",
					     (double)st.st_size / 1024), 30) == 0, "%s", h_log());
	/* 3 headers, "hello" and 300000 bytes in whole blocks, the end. */
	ck_assert_uint_eq(st.st_size, 3 * 512 + 512 + 300032 + 1024);
	h_teardown();
}
END_TEST

START_TEST(test_symlinks)
{
	const struct member m[] = {
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/pg_tblspc", AE_IFDIR, 0700, NULL, 0 },
		{ "d/pg_tblspc/16384", AE_IFLNK, 0777, "/srv/ts", 0 },
	};
	struct map_ctx c = { 0 };
	char want[8192], link[256];
	ssize_t n;

	h_setup();
	make_tar(h_path("t.tar.lz4"), PITR_CODEC_LZ4, m, 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.lz4"), PITR_CODEC_LZ4, test_map, &c, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\": member \"d/pg_tblspc/16384\" refused: a symbolic link\n",
		 h_path("t.tar.lz4"));
	ck_assert_str_eq(h_log(), want);
	ck_assert_str_eq(c.calls, "d/\nd/pg_tblspc/\n");
	h_teardown();

	h_setup();
	memset(&c, 0, sizeof(c));
	make_tar(h_path("t.tar.lz4"), PITR_CODEC_LZ4, m, 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.lz4"), PITR_CODEC_LZ4, test_map, &c,
					      PITR_TARREAD_ALLOW_SYMLINKS, NULL), 0);
	ck_assert_str_eq(h_log(), "");
	n = readlink(h_path("out/pg_tblspc/16384"), link, sizeof(link) - 1);
	ck_assert_int_eq(n, 7);
	link[n] = '\0';
	ck_assert_str_eq(link, "/srv/ts");
	h_teardown();
}
END_TEST

/* A link stored before a member under it: nothing is written through the
 * link (SECURE_SYMLINKS). */
START_TEST(test_through_symlink)
{
	char target[4096], m2[64], want[8192];
	struct member m[] = {
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/l", AE_IFLNK, 0777, target, 0 },
		{ m2, AE_IFREG, 0600, "evil", 0 },
	};
	struct map_ctx c = { 0 };

	h_setup();
	snprintf(target, sizeof(target), "%s", h_path("elsewhere"));
	snprintf(m2, sizeof(m2), "d/l/f");
	ck_assert_int_eq(mkdir(target, 0700), 0);
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, m, 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c,
					      PITR_TARREAD_ALLOW_SYMLINKS, NULL), -1);
	ck_assert_int_eq(h_count_entries(target), 0);
	snprintf(want, sizeof(want), "ERROR : could not create \"%s\" (member \"d/l/f\" of \"%s\"): ",
		 h_path("out/l/f"), h_path("t.tar"));
	ck_assert_msg(strncmp(h_log(), want, strlen(want)) == 0, "%s", h_log());
	ck_assert_ptr_nonnull(strstr(h_log(), "symlink"));
	ck_assert_int_eq((int)(strchr(h_log(), '\n') - h_log()) + 1, (int)strlen(h_log()));
	h_teardown();
}
END_TEST

START_TEST(test_hardlink)
{
	const struct member m[] = {
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/a", AE_IFREG, 0600, "same", 0 },
		{ "d/h", 0, 0600, "d/a", 0 },
	};
	struct map_ctx c = { 0 };
	struct stat a, h;

	h_setup();
	make_tar(h_path("t.tar.bz2"), PITR_CODEC_BZIP2, m, 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar.bz2"), PITR_CODEC_BZIP2, test_map, &c, 0,
					      NULL), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(stat(h_path("out/a"), &a), 0);
	ck_assert_int_eq(stat(h_path("out/h"), &h), 0);
	ck_assert_uint_eq(a.st_ino, h.st_ino);
	ck_assert_str_eq(c.calls, "d/\nd/a\nd/h\nd/a\n");
	h_teardown();

	/* A hard link to a member left out cannot be made. */
	h_setup();
	memset(&c, 0, sizeof(c));
	c.skip = "d/a";
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, m, 3);
	ck_assert_int_eq(pitr_tarread_extract(h_path("t.tar"), PITR_CODEC_NONE, test_map, &c, 0, NULL), -1);
	{
		char want[8192];

		snprintf(want, sizeof(want), "ERROR : \"%s\": member \"d/h\" is a hard link to \"d/a\", which "
			 "is left out\n", h_path("t.tar"));
		ck_assert_str_eq(h_log(), want);
	}
	h_teardown();
}
END_TEST

static char split_big[5 * 1024 * 1024 + 4321];

/* pitr_tarread_extract_split's map: "d/..." to <scratch>/out (the main
 * destination, 0), "tN/..." to <scratch>/tsN (destination N). */
static char *
split_map(void *vctx, const char *member, bool *skip, unsigned *dest)
{
	char *out = NULL;

	(void)vctx;
	*skip = false;
	/* A new destination is judged with the earlier ones' files on disk. */
	if (strcmp(member, "t2/") == 0) {
		struct stat st;

		ck_assert_int_eq(pitr_tarread_settle(), 0);
		ck_assert_int_eq(stat(h_path("ts1/PG_15/big"), &st), 0);
		ck_assert_int_eq(st.st_size, sizeof(split_big));
	}
	if (member[0] == 't' && member[1] >= '1' && member[1] <= '9') {
		*dest = (unsigned)(member[1] - '0');
		ck_assert_int_ge(asprintf(&out, "%s/ts%c%s", h_dir(), member[1], member + 2), 0);
		return out;
	}
	return test_map(vctx, member, skip);
}

static const struct member split_tree[] = {
	{ "d/", AE_IFDIR, 0750, NULL, 0 },
	{ "d/PG_VERSION", AE_IFREG, 0640, "15\n", 0 },
	{ "d/big", AE_IFREG, 0600, split_big, sizeof(split_big) },
	{ "t1/", AE_IFDIR, 0700, NULL, 0 },
	{ "t1/PG_15", AE_IFDIR, 0710, NULL, 0 },
	{ "t1/PG_15/big", AE_IFREG, 0600, split_big, sizeof(split_big) },
	{ "t1/PG_15/small", AE_IFREG, 0640, "small", 0 },
	{ "t1/PG_15/empty", AE_IFREG, 0600, "", 0 },
	{ "t2/", AE_IFDIR, 0700, NULL, 0 },
	{ "t2/a", AE_IFREG, 0604, big, sizeof(big) },
	{ "t5/", AE_IFDIR, 0750, NULL, 0 },       /* shares t1's writer */
	{ "t5/b", AE_IFREG, 0600, "b", 0 },
	{ "d/h", 0, 0640, "t1/PG_15/small", 0 }, /* a link to another writer's file */
	{ "t2/h", 0, 0640, "d/PG_VERSION", 0 },
	{ "d/last", AE_IFREG, 0600, "last", 0 },
};

static void
fill_split_big(void)
{
	fill_big();
	for (size_t i = 0; i < sizeof(split_big); i++)
		split_big[i] = big[(i * 7) % sizeof(big)];
}

/* Each destination written by its own thread: every file, mode, time and
 * hard link as pitr_tarread_extract writes them, and the byte count. */
START_TEST(test_split)
{
	struct map_ctx c = { 0 };
	uint64_t bytes = 0;
	struct stat a, h;

	h_setup();
	fill_split_big();
	make_tar(h_path("t.tar.lz4"), PITR_CODEC_LZ4, split_tree, sizeof(split_tree) / sizeof(split_tree[0]));
	ck_assert_int_eq(pitr_tarread_settle(), 0);     /* outside an extraction: nothing to wait for */
	ck_assert_int_eq(pitr_tarread_extract_split(h_path("t.tar.lz4"), PITR_CODEC_LZ4, split_map, &c,
						    0, &bytes), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_uint_eq(bytes, 3 + 2 * sizeof(split_big) + 5 + sizeof(big) + 1 + 4);
	assert_dir("out", 0750);
	assert_file("out/PG_VERSION", "15\n", 3, 0640);
	assert_file("out/big", split_big, sizeof(split_big), 0600);
	assert_file("out/last", "last", 4, 0600);
	assert_dir("ts1", 0700);
	assert_dir("ts1/PG_15", 0710);
	assert_file("ts1/PG_15/big", split_big, sizeof(split_big), 0600);
	assert_file("ts1/PG_15/small", "small", 5, 0640);
	assert_file("ts1/PG_15/empty", "", 0, 0600);
	assert_dir("ts2", 0700);
	assert_file("ts2/a", big, sizeof(big), 0604);
	assert_dir("ts5", 0750);
	assert_file("ts5/b", "b", 1, 0600);
	ck_assert_int_eq(stat(h_path("ts1/PG_15/small"), &a), 0);
	ck_assert_int_eq(stat(h_path("out/h"), &h), 0);
	ck_assert_uint_eq(a.st_ino, h.st_ino);
	ck_assert_int_eq(stat(h_path("out/PG_VERSION"), &a), 0);
	ck_assert_int_eq(stat(h_path("ts2/h"), &h), 0);
	ck_assert_uint_eq(a.st_ino, h.st_ino);
	h_teardown();
}
END_TEST

/* A writer thread's failure is the one line logged, and stops the
 * extraction: a member met twice (the second would replace the first,
 * queued or written), and a destination that cannot be created. */
START_TEST(test_split_writer_fails)
{
	const struct member twice[] = {
		{ "t1/", AE_IFDIR, 0700, NULL, 0 },
		{ "t1/a", AE_IFREG, 0600, "first", 0 },
		{ "t1/a", AE_IFREG, 0600, "second", 0 },
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
		{ "d/big", AE_IFREG, 0600, split_big, sizeof(split_big) },
		{ "d/late", AE_IFREG, 0600, "late", 0 },
	};
	const struct member blocked[] = {
		{ "t2/x/a", AE_IFREG, 0600, split_big, sizeof(split_big) },
		{ "t2/x/b", AE_IFREG, 0600, "b", 0 },
		{ "d/", AE_IFDIR, 0700, NULL, 0 },
	};
	struct map_ctx c = { 0 };
	char want[8192];
	const char *log;

	h_setup();
	fill_split_big();
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, twice, 6);
	ck_assert_int_eq(pitr_tarread_extract_split(h_path("t.tar"), PITR_CODEC_NONE, split_map, &c,
						    0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : could not create \"%s\" (member \"t1/a\" of \"%s\"): "
		 "it already exists\n", h_path("ts1/a"), h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();

	h_setup();
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, blocked, 3);
	h_write_file(h_path("ts2"), "a file", 6);
	ck_assert_int_eq(pitr_tarread_extract_split(h_path("t.tar"), PITR_CODEC_NONE, split_map, &c,
						    0, NULL), -1);
	log = h_log();
	snprintf(want, sizeof(want), "ERROR : could not create \"%s\" (member \"t2/x/a\" of \"%s\"): ",
		 h_path("ts2/x/a"), h_path("t.tar"));
	ck_assert_msg(strncmp(log, want, strlen(want)) == 0, "%s", log);
	ck_assert_ptr_eq(strchr(log, '\n'), log + strlen(log) - 1);
	ck_assert_int_eq(h_exists(h_path("out")), 0);
	h_teardown();
}
END_TEST

/* The reader fails (a truncated tarball) while a writer has data queued:
 * the reader's line alone, the writer stopped and joined. */
START_TEST(test_split_reader_fails)
{
	struct map_ctx c = { 0 };
	char want[8192];
	struct stat st;

	h_setup();
	fill_split_big();
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, split_tree, 6);
	ck_assert_int_eq(stat(h_path("t.tar"), &st), 0);
	ck_assert_int_eq(truncate(h_path("t.tar"), st.st_size - 1024 * 1024), 0);
	ck_assert_int_eq(pitr_tarread_extract_split(h_path("t.tar"), PITR_CODEC_NONE, split_map, &c,
						    0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt at member \"t1/PG_15/big\": ",
		 h_path("t.tar"));
	ck_assert_msg(strncmp(h_log(), want, strlen(want)) == 0, "%s", h_log());
	ck_assert_ptr_eq(strchr(h_log(), '\n'), h_log() + strlen(h_log()) - 1);
	h_teardown();
}
END_TEST

/* pitr_tarread_extract_take: members under "k/" handed to take_fn,
 * which reads part of "k/big" (the rest is skipped) and all of the
 * others; `fail` names one it refuses. */
struct take_ctx {
	char names[1024];
	size_t got;
	const char *fail;
	bool short_read;       /* read one byte more than the member has */
};

static char *
take_map(void *vctx, const char *member, bool *skip, unsigned *dest)
{
	static struct map_ctx mc;

	(void)vctx;
	mc.calls[0] = '\0';
	*skip = false;
	*dest = 0;
	if (strncmp(member, "k/", 2) == 0) {
		*skip = true;
		*dest = PITR_TARREAD_TAKE;
		return NULL;
	}
	return test_map(&mc, member, skip);
}

static int
take_fn(void *vctx, const char *member, int64_t size, struct pitr_tarread_member *m)
{
	struct take_ctx *c = vctx;
	static char buf[sizeof(big) + 1];
	size_t want = strcmp(member, "k/big") == 0 ? 1000 : (size_t)size;

	snprintf(c->names + strlen(c->names), sizeof(c->names) - strlen(c->names), "%s %lld\n",
		 member, (long long)size);
	if (c->fail != NULL && strcmp(member, c->fail) == 0) {
		pitr_log_error("member \"%s\" not taken", member);
		return -1;
	}
	if (c->short_read)
		want = (size_t)size + 1;
	if (pitr_tarread_member_read(m, buf, want) != 0)
		return -1;
	ck_assert_int_eq(memcmp(buf, strcmp(member, "k/big") == 0 ? big : "chunk", want), 0);
	c->got += want;
	return 0;
}

static const struct member take_tree[] = {
	{ "d/", AE_IFDIR, 0750, NULL, 0 },
	{ "k/big", AE_IFREG, 0600, big, sizeof(big) },
	{ "d/PG_VERSION", AE_IFREG, 0640, "15\n", 0 },
	{ "k/c", AE_IFREG, 0600, "chunk", 0 },
	{ "d/last", AE_IFREG, 0600, "last", 0 },
	{ "k/link", AE_IFLNK, 0777, "c", 0 },
};

/* One pass: files extracted, taken members handed over with their data,
 * in order; a take failure or a short member stops it with one line; a
 * member of another kind than a file is refused. */
START_TEST(test_take)
{
	struct take_ctx c = { .got = 0 };
	uint64_t bytes = 0;
	char want[8192];

	h_setup();
	fill_big();
	make_tar(h_path("t.tar.gz"), PITR_CODEC_GZIP, take_tree, 5);
	ck_assert_int_eq(pitr_tarread_extract_take(h_path("t.tar.gz"), PITR_CODEC_GZIP, take_map,
						   take_fn, &c, 0, &bytes), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_str_eq(c.names, "k/big 300000\nk/c 5\n");
	ck_assert_uint_eq(c.got, 1000 + 5);
	ck_assert_uint_eq(bytes, 3 + 4);
	assert_file("out/PG_VERSION", "15\n", 3, 0640);
	assert_file("out/last", "last", 4, 0600);
	ck_assert_int_eq(h_exists(h_path("out/big")), 0);
	ck_assert_int_eq(h_exists(h_path("other/k")), 0);
	h_teardown();

	h_setup();
	memset(&c, 0, sizeof(c));
	c.fail = "k/c";
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, take_tree, 5);
	ck_assert_int_eq(pitr_tarread_extract_take(h_path("t.tar"), PITR_CODEC_NONE, take_map, take_fn,
						   &c, 0, NULL), -1);
	ck_assert_str_eq(h_log(), "ERROR : member \"k/c\" not taken\n");
	ck_assert_int_eq(h_exists(h_path("out/last")), 0);
	h_teardown();

	h_setup();
	memset(&c, 0, sizeof(c));
	c.short_read = true;
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, take_tree, 2);
	ck_assert_int_eq(pitr_tarread_extract_take(h_path("t.tar"), PITR_CODEC_NONE, take_map, take_fn,
						   &c, 0, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\" is corrupt at member \"k/big\": it ends early\n",
		 h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();

	h_setup();
	memset(&c, 0, sizeof(c));
	make_tar(h_path("t.tar"), PITR_CODEC_NONE, take_tree, 6);
	ck_assert_int_eq(pitr_tarread_extract_take(h_path("t.tar"), PITR_CODEC_NONE, take_map, take_fn,
						   &c, PITR_TARREAD_ALLOW_SYMLINKS, NULL), -1);
	snprintf(want, sizeof(want), "ERROR : \"%s\": member \"k/link\" refused: not a regular file\n",
		 h_path("t.tar"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

START_TEST(test_sync)
{
	char want[8192];

	h_setup();
	ck_assert_int_eq(pitr_tarread_sync(h_dir()), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_tarread_sync(h_path("nope")), -1);
	snprintf(want, sizeof(want), "ERROR : could not open directory \"%s\": No such file or directory\n",
		 h_path("nope"));
	ck_assert_str_eq(h_log(), want);
	h_teardown();
}
END_TEST

/* A stream three times the ring: every byte comes out in order, then 0;
 * stopped after one block, the producer ends too (joined, freed). */
START_TEST(test_readahead)
{
	size_t size = 3 * PITR_READAHEAD_SLOTS * PITR_READAHEAD_SLOT + 12345, got = 0;
	unsigned char *data = malloc(size);
	struct pitr_codec_reader *r;
	struct pitr_readahead *ra;
	const void *block;
	ssize_t n;
	int fd;

	h_setup();
	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	h_write_file(h_path("plain"), (const char *)data, size);
	for (int pass = 0; pass < 2; pass++) {
		fd = open(h_path("plain"), O_RDONLY);
		ck_assert_int_ge(fd, 0);
		r = pitr_codec_reader_new(PITR_CODEC_NONE, fd, h_path("plain"));
		ck_assert_ptr_nonnull(r);
		ra = pitr_readahead_start(r);
		ck_assert_ptr_nonnull(ra);
		got = 0;
		while (pass == 0 && (n = pitr_readahead_next(ra, &block)) > 0) {
			ck_assert_uint_le(got + (size_t)n, size);
			ck_assert(memcmp(block, data + got, (size_t)n) == 0);
			got += (size_t)n;
		}
		if (pass == 0) {
			ck_assert_int_eq(n, 0);
			ck_assert_uint_eq(got, size);
			ck_assert_int_eq(pitr_readahead_next(ra, &block), 0);
		} else {
			/* One block taken, the producer still filling the ring. */
			ck_assert_int_gt(pitr_readahead_next(ra, &block), 0);
		}
		pitr_readahead_stop(ra);
		pitr_codec_reader_free(r);
		close(fd);
	}
	free(data);
	h_teardown();
}
END_TEST

static Suite *
tarread_suite(void)
{
	Suite *s = suite_create("tarread");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_extract_each_codec, PITR_CODEC_NONE, PITR_CODEC_COUNT);
	tcase_add_test(tc, test_no_overwrite);
	tcase_add_test(tc, test_truncated_gzip);
	tcase_add_test(tc, test_corrupt_gzip_trailer);
	tcase_add_test(tc, test_truncated_plain_tar);
	tcase_add_test(tc, test_not_a_tar);
	tcase_add_test(tc, test_unsafe_names);
	tcase_add_test(tc, test_skip_and_refuse);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_fd);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_through_symlink);
	tcase_add_test(tc, test_hardlink);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_split_writer_fails);
	tcase_add_test(tc, test_split_reader_fails);
	tcase_add_test(tc, test_take);
	tcase_add_test(tc, test_sync);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_readahead);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(tarread_suite());
}
