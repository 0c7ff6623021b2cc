/*
 * harness.c - fixtures shared by the Check unit tests (see harness.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress/codec.h"
#include "harness.h"
#include "common/log.h"
#include "postgres/wal.h"

static char scratch[4096];
static char logbuf[1 << 16];

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	/* chmod first: tests make unwritable directories on purpose.  Never
	 * through a symbolic link: chmod follows it, out of the scratch dir. */
	if (flag != FTW_SL && flag != FTW_SLN)
		chmod(path, 0700);
	return remove(path);
}

const char *
h_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(scratch, sizeof(scratch), "%s/pitrkit-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(scratch));
	logbuf[0] = '\0';
	pitr_log_open("check", NULL, false);
	pitr_log_capture(logbuf, sizeof(logbuf));
	return scratch;
}

void
h_teardown(void)
{
	pitr_log_capture(NULL, 0);
	pitr_log_close();
	if (scratch[0] != '\0') {
		/* Restore permissions top-down before the depth-first removal. */
		chmod(scratch, 0700);
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		scratch[0] = '\0';
	}
}

const char *
h_dir(void)
{
	return scratch;
}

const char *
h_path(const char *name)
{
	static char ring[8][8192 + 16];
	static unsigned next;
	char *buf = ring[next++ % 8];

	snprintf(buf, sizeof(ring[0]), "%s/%s", scratch, name);
	return buf;
}

void
h_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

char *
h_read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	if (len != NULL)
		*len = (size_t)st.st_size;
	return buf;
}

int
h_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
h_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
put_le(unsigned char *p, uint64_t v, int bytes)
{
	for (int byte_idx = 0; byte_idx < bytes; byte_idx++)
		p[byte_idx] = (unsigned char)(v >> (8 * byte_idx));
}

unsigned char *
h_make_segment(uint32_t segsize, uint32_t tli, uint64_t segno, uint64_t sysid, unsigned seed)
{
	unsigned char *buf = malloc(segsize);
	uint32_t x = seed * 2654435761u + 1;

	ck_assert_ptr_nonnull(buf);
	/* Half random bytes, half runs: compresses about 2:1, like WAL. */
	for (uint32_t pos = 0; pos < segsize; pos++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[pos] = (pos / 64) % 2 ? (unsigned char)x : (unsigned char)(pos / 4096);
	}
	put_le(buf + 0, 0xD110, 2);               /* PostgreSQL 15 magic */
	put_le(buf + 2, 0x0002, 2);               /* XLP_LONG_HEADER */
	put_le(buf + 4, tli, 4);
	put_le(buf + 8, segno * segsize, 8);      /* page address */
	put_le(buf + 16, 0, 4);                   /* rem_len */
	put_le(buf + 20, 0, 4);                   /* padding */
	put_le(buf + 24, sysid, 8);
	put_le(buf + 32, segsize, 4);
	put_le(buf + 36, 8192, 4);
	return buf;
}

const char *
h_write_segment(const char *dir, uint32_t segsize, uint32_t tli, uint64_t segno, uint64_t sysid)
{
	static char path[4096];
	char name[PITR_WAL_NAME_MAX];
	unsigned char *buf = h_make_segment(segsize, tli, segno, sysid, (unsigned)segno);

	pitr_wal_format_segment(name, tli, segno, segsize);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	h_write_file(path, buf, segsize);
	free(buf);
	return path;
}

const char *
h_log(void)
{
	return logbuf;
}

void
h_log_reset(void)
{
	logbuf[0] = '\0';
}

int
h_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

int
h_fd_sink(void *ctx, const void *buf, size_t len)
{
	return write(*(int *)ctx, buf, len) == (ssize_t)len ? 0 : -1;
}

void
h_write_compressed(const char *path, int codec, const void *buf, size_t len)
{
	struct pitr_codec_writer *w;
	int fd;

	if (codec == PITR_CODEC_NONE) {
		h_write_file(path, buf, len);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	w = pitr_codec_writer_new((enum pitr_codec)codec, 0, 1, h_fd_sink, &fd);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(pitr_codec_writer_write(w, buf, len), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(w), 0);
	pitr_codec_writer_free(w);
	ck_assert_int_eq(close(fd), 0);
}

const char *
h_fmt(const char *fmt, ...)
{
	static char ring[16][8192];
	static int next;
	char *out = ring[next++ % 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return out;
}

static void
put_journal(const char *dir, const char *tag, const char *host, const char *meta, va_list ap)
{
	char text[8192];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "pitrkit backup journal 2\nhost %s\nmeta %s\n",
			     host, meta);
	for (const char *f; (f = va_arg(ap, const char *)) != NULL && n < sizeof(text);) {
		struct stat st;

		/* Recorded as the run records them: by inode, as they are. */
		if (lstat(h_fmt("%s/%s", dir, f), &st) == 0)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "file %ju %ju %s\n",
					      (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, f);
	}
	ck_assert_uint_lt(n, sizeof(text));
	h_write_file(h_fmt("%s/.pitr-journal.%s", dir, tag), text, n);
}

void
h_put_journal(const char *dir, const char *tag, const char *meta, ...)
{
	char host[256] = "";
	va_list ap;

	ck_assert_int_eq(gethostname(host, sizeof(host) - 1), 0);
	va_start(ap, meta);
	put_journal(dir, tag, host, meta, ap);
	va_end(ap);
}

void
h_put_journal_of(const char *dir, const char *tag, const char *host, const char *meta, ...)
{
	va_list ap;

	va_start(ap, meta);
	put_journal(dir, tag, host, meta, ap);
	va_end(ap);
}

void
h_replace_file(const char *path, const char *text)
{
	const char *tmp = h_fmt("%s.replacing", path);

	/* Written while the old file exists: its inode cannot be reused. */
	h_write_file(tmp, text, strlen(text));
	ck_assert_int_eq(rename(tmp, path), 0);
}
