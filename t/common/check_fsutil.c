/*
 * check_fsutil.c - unit tests for durable publication and the filesystem helpers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fsutil.h"
#include "harness.h"

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

/* Assert the whole content of path. */
static void
assert_content(const char *path, const char *want)
{
	size_t len;
	char *got = h_read_file(path, &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
}

/* Assert the captured log is exactly one ERROR line with `msg`. */
static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

/* --- publish_open ------------------------------------------------------ */

START_TEST(test_open_temp_name)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "000000010000000000000001");
	const char *tmp;
	char prefix[4096];
	struct stat st;

	ck_assert_ptr_nonnull(p);
	tmp = pitr_fsutil_publish_temp_path(p);
	snprintf(prefix, sizeof(prefix), "%s/.pitr-tmp.000000010000000000000001.", h_dir());
	ck_assert_uint_eq(strlen(tmp), strlen(prefix) + 6);
	ck_assert_int_eq(strncmp(tmp, prefix, strlen(prefix)), 0);
	ck_assert_int_eq(stat(tmp, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert(!h_exists(h_path("000000010000000000000001")));
	pitr_fsutil_publish_free(p);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_open_mode_ignores_umask)
{
	mode_t old = umask(0377);
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");
	struct stat st;

	umask(old);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(stat(pitr_fsutil_publish_temp_path(p), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	pitr_fsutil_publish_free(p);
}
END_TEST

START_TEST(test_open_missing_dir)
{
	char msg[4096];

	ck_assert_ptr_null(pitr_fsutil_publish_open(h_path("nodir"), "f"));
	snprintf(msg, sizeof(msg),
		 "could not create a temporary file in \"%s\": No such file or directory",
		 h_path("nodir"));
	assert_error(msg);
}
END_TEST

/* --- publish_write ----------------------------------------------------- */

START_TEST(test_write_appends)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, "abc", 3), 0);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, "", 0), 0);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, "def\n", 4), 0);
	assert_content(pitr_fsutil_publish_temp_path(p), "abcdef\n");
	pitr_fsutil_publish_free(p);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_write_error)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");
	struct rlimit lim = { .rlim_cur = 1000, .rlim_max = RLIM_INFINITY };
	struct rlimit old;
	static char big[4096];
	char msg[4096];
	int rc;

	ck_assert_ptr_nonnull(p);
	/* A file size limit gives a short write, then EFBIG. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = pitr_fsutil_publish_write(p, big, sizeof(big));
	/* Check itself writes files: restore the limit before asserting. */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(rc, -1);
	snprintf(msg, sizeof(msg), "could not write \"%s\": File too large",
		 pitr_fsutil_publish_temp_path(p));
	assert_error(msg);
	pitr_fsutil_publish_free(p);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
}
END_TEST

/* --- publish_temp_path / publish_final_path ----------------------------- */

START_TEST(test_paths)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "name.gz");

	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(pitr_fsutil_publish_final_path(p), h_path("name.gz"));
	ck_assert_int_eq(strncmp(pitr_fsutil_publish_temp_path(p), h_path(".pitr-tmp.name.gz."),
				 strlen(h_path(".pitr-tmp.name.gz."))), 0);
	pitr_fsutil_publish_free(p);
}
END_TEST

/* --- publish_commit ---------------------------------------------------- */

/* Open, write `content`, commit; returns commit's result. */
static int
publish(const char *name, const char *content, enum pitr_publish_outcome *outcome,
	struct pitr_publish **keep)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), name);
	int rc;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, content, strlen(content)), 0);
	rc = pitr_fsutil_publish_commit(p, outcome);
	if (keep != NULL)
		*keep = p;
	else
		pitr_fsutil_publish_free(p);
	return rc;
}

START_TEST(test_commit_new)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_CONFLICT;
	struct stat st;

	ck_assert_int_eq(publish("f", "hello\n", &outcome, NULL), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_NEW);
	assert_content(h_path("f"), "hello\n");
	ck_assert_int_eq(stat(h_path("f"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_commit_identical)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;
	struct pitr_publish *p;

	h_write_file(h_path("f"), "same\n", 5);
	ck_assert_int_eq(publish("f", "same\n", &outcome, &p), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_IDENTICAL);
	/* The temporary file is gone already, before free. */
	ck_assert(!h_exists(pitr_fsutil_publish_temp_path(p)));
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	pitr_fsutil_publish_free(p);
	assert_content(h_path("f"), "same\n");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_commit_conflict)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;
	struct pitr_publish *p;

	h_write_file(h_path("f"), "old\n", 4);
	ck_assert_int_eq(publish("f", "new\n", &outcome, &p), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_CONFLICT);
	/* Nothing replaced, the temporary file kept until free. */
	assert_content(h_path("f"), "old\n");
	assert_content(pitr_fsutil_publish_temp_path(p), "new\n");
	ck_assert_int_eq(h_count_entries(h_dir()), 2);
	pitr_fsutil_publish_free(p);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_commit_conflict_same_size)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;

	h_write_file(h_path("f"), "abcd", 4);
	ck_assert_int_eq(publish("f", "abce", &outcome, NULL), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_CONFLICT);
	assert_content(h_path("f"), "abcd");
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
}
END_TEST

START_TEST(test_commit_directory_in_the_way)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;

	ck_assert_int_eq(mkdir(h_path("f"), 0700), 0);
	ck_assert_int_eq(publish("f", "x", &outcome, NULL), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_CONFLICT);
	ck_assert_int_eq(h_count_entries(h_path("f")), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_commit_unreadable_existing)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;
	char msg[4096];

	/* A dangling symlink occupies the name but cannot be compared. */
	ck_assert_int_eq(symlink("nowhere", h_path("f")), 0);
	ck_assert_int_eq(publish("f", "x", &outcome, NULL), -1);
	snprintf(msg, sizeof(msg), "could not open \"%s\": No such file or directory", h_path("f"));
	assert_error(msg);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
}
END_TEST

START_TEST(test_commit_rename_error)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");
	char msg[8192];
	char *tmp;

	ck_assert_ptr_nonnull(p);
	/* The temporary file disappears before commit: rename says ENOENT. */
	tmp = strdup(pitr_fsutil_publish_temp_path(p));
	ck_assert_int_eq(unlink(tmp), 0);
	ck_assert_int_eq(pitr_fsutil_publish_commit(p, &outcome), -1);
	snprintf(msg, sizeof(msg), "could not rename \"%s\" to \"%s\": No such file or directory",
		 tmp, h_path("f"));
	assert_error(msg);
	free(tmp);
	pitr_fsutil_publish_free(p);
}
END_TEST

/* --- publish_abort ----------------------------------------------------- */

START_TEST(test_abort)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_NEW;
	struct pitr_publish *p;

	pitr_fsutil_publish_abort(NULL);
	h_write_file(h_path("f"), "old\n", 4);
	ck_assert_int_eq(publish("f", "new\n", &outcome, &p), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_CONFLICT);
	ck_assert_int_eq(h_count_entries(h_dir()), 2);
	pitr_fsutil_publish_abort(p);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	/* Paths stay readable; aborting twice is harmless. */
	ck_assert_str_eq(pitr_fsutil_publish_final_path(p), h_path("f"));
	pitr_fsutil_publish_abort(p);
	pitr_fsutil_publish_free(p);
	assert_content(h_path("f"), "old\n");
}
END_TEST

START_TEST(test_abort_before_commit)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, "x", 1), 0);
	pitr_fsutil_publish_abort(p);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	pitr_fsutil_publish_free(p);
}
END_TEST

/* --- publish_free ------------------------------------------------------ */

START_TEST(test_free)
{
	struct pitr_publish *p = pitr_fsutil_publish_open(h_dir(), "f");
	enum pitr_publish_outcome outcome;

	pitr_fsutil_publish_free(NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pitr_fsutil_publish_write(p, "x", 1), 0);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	pitr_fsutil_publish_free(p);
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
	/* After a NEW commit free only frees. */
	ck_assert_int_eq(publish("f", "y", &outcome, NULL), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_NEW);
	assert_content(h_path("f"), "y");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- publish_buffer ---------------------------------------------------- */

START_TEST(test_buffer_outcomes)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_CONFLICT;

	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "m", "one\n", 4, false, &outcome), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_NEW);
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "m", "one\n", 4, false, &outcome), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_IDENTICAL);
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "m", "two\n", 4, false, &outcome), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_CONFLICT);
	assert_content(h_path("m"), "one\n");
	/* The conflicting temporary file does not outlive the call. */
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "n", "", 0, false, NULL), 0);
	assert_content(h_path("n"), "");
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_buffer_replace)
{
	enum pitr_publish_outcome outcome = PITR_PUBLISH_CONFLICT;

	h_write_file(h_path("s"), "old contents\n", 13);
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "s", "new\n", 4, true, &outcome), 0);
	ck_assert_int_eq(outcome, PITR_PUBLISH_NEW);
	assert_content(h_path("s"), "new\n");
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "t", "t\n", 2, true, NULL), 0);
	assert_content(h_path("t"), "t\n");
	ck_assert_int_eq(h_count_entries(h_dir()), 2);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_buffer_replace_directory)
{
	char msg[8192];
	const char *log;
	const char *tail;

	ck_assert_int_eq(mkdir(h_path("s"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_dir(), "s", "x", 1, true, NULL), -1);
	/* The temporary name is random: check the message around it. */
	log = h_log();
	snprintf(msg, sizeof(msg), "ERROR : could not rename \"%s/.pitr-tmp.s.", h_dir());
	ck_assert_int_eq(strncmp(log, msg, strlen(msg)), 0);
	snprintf(msg, sizeof(msg), "\" to \"%s\": Is a directory\n", h_path("s"));
	tail = strstr(log, "\" to \"");
	ck_assert_ptr_nonnull(tail);
	ck_assert_str_eq(tail, msg);
	ck_assert_int_eq(h_count_entries(h_dir()), 1);
}
END_TEST

START_TEST(test_buffer_missing_dir)
{
	char msg[4096];

	ck_assert_int_eq(pitr_fsutil_publish_buffer(h_path("no"), "s", "x", 1, false, NULL), -1);
	snprintf(msg, sizeof(msg),
		 "could not create a temporary file in \"%s\": No such file or directory",
		 h_path("no"));
	assert_error(msg);
}
END_TEST

START_TEST(test_buffer_write_error)
{
	struct rlimit lim = { .rlim_cur = 10, .rlim_max = RLIM_INFINITY };
	struct rlimit old;
	const char *log;
	char msg[4096];
	int rc;

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = pitr_fsutil_publish_buffer(h_dir(), "s", "0123456789abc", 13, false, NULL);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(rc, -1);
	log = h_log();
	snprintf(msg, sizeof(msg), "ERROR : could not write \"%s/.pitr-tmp.s.", h_dir());
	ck_assert_int_eq(strncmp(log, msg, strlen(msg)), 0);
	ck_assert_str_eq(log + strlen(msg) + 6, "\": File too large\n");
	ck_assert_int_eq(h_count_entries(h_dir()), 0);
}
END_TEST

/* --- mkdir_p ----------------------------------------------------------- */

START_TEST(test_mkdir_p_creates)
{
	mode_t old = umask(022);
	struct stat st;

	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("a/b//c/"), 0750), 0);
	umask(old);
	ck_assert_int_eq(stat(h_path("a"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(stat(h_path("a/b/c"), &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	/* Existing directories are fine, and are left alone. */
	ck_assert_int_eq(chmod(h_path("a/b"), 0700), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("a/b/c"), 0755), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_dir(), 0755), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p("/", 0755), 0);
	ck_assert_int_eq(stat(h_path("a/b"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(h_count_entries(h_path("a/b/c")), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_mkdir_p_relative)
{
	char cwd[4096];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(h_dir()), 0);
	ck_assert_int_eq(pitr_fsutil_mkdir_p("x/y", 0700), 0);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_int_eq(h_count_entries(h_path("x/y")), 0);
}
END_TEST

START_TEST(test_mkdir_p_file_in_the_way)
{
	char msg[4096];

	h_write_file(h_path("file"), "x", 1);
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("file/sub"), 0700), -1);
	snprintf(msg, sizeof(msg), "could not create directory \"%s\": Not a directory",
		 h_path("file"));
	assert_error(msg);
	h_log_reset();
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path("file"), 0700), -1);
	assert_error(msg);
}
END_TEST

START_TEST(test_mkdir_p_empty)
{
	ck_assert_int_eq(pitr_fsutil_mkdir_p("", 0700), -1);
	assert_error("could not create directory \"\": No such file or directory");
}
END_TEST

START_TEST(test_mkdir_p_too_long)
{
	char name[300];
	char msg[4096];

	/* One component longer than NAME_MAX (255). */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(pitr_fsutil_mkdir_p(h_path(name), 0700), -1);
	snprintf(msg, sizeof(msg), "could not create directory \"%s\": File name too long",
		 h_path(name));
	assert_error(msg);
}
END_TEST

/* --- fsync_dir --------------------------------------------------------- */

START_TEST(test_fsync_dir)
{
	char msg[4096];

	ck_assert_int_eq(pitr_fsutil_fsync_dir(h_dir()), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_fsutil_fsync_dir(h_path("none")), -1);
	snprintf(msg, sizeof(msg), "could not open directory \"%s\": No such file or directory",
		 h_path("none"));
	assert_error(msg);
	h_log_reset();
	h_write_file(h_path("file"), "x", 1);
	ck_assert_int_eq(pitr_fsutil_fsync_dir(h_path("file")), -1);
	snprintf(msg, sizeof(msg), "could not open directory \"%s\": Not a directory",
		 h_path("file"));
	assert_error(msg);
}
END_TEST

/* --- writeback -------------------------------------------------------- */

START_TEST(test_writeback_bookkeeping)
{
	size_t len = (size_t)1 << 20;
	char *buf = calloc(1, len);
	off_t flushed = 0;
	int fd;

	ck_assert_ptr_nonnull(buf);
	fd = open(h_path("wb"), O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len - 1), (ssize_t)(len - 1));
	pitr_fsutil_writeback(fd, &flushed, (off_t)len - 1);
	ck_assert_int_eq(flushed, 0); /* less than a MiB pending: nothing started */
	ck_assert_int_eq(write(fd, buf, 1), 1);
	pitr_fsutil_writeback(fd, &flushed, (off_t)len);
#ifdef SYNC_FILE_RANGE_WRITE
	ck_assert_int_eq(flushed, (off_t)len);
#else
	ck_assert_int_eq(flushed, 0);
#endif
	ck_assert_int_eq(close(fd), 0);
	ck_assert_str_eq(h_log(), "");
	free(buf);
}
END_TEST

/* Only a hint: a descriptor it cannot use is no error and logs nothing. */
START_TEST(test_writeback_bad_fd)
{
	off_t flushed = 0;

	pitr_fsutil_writeback(-1, &flushed, (off_t)4 << 20);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- files_equal ------------------------------------------------------- */

START_TEST(test_files_equal)
{
	size_t size = 200000;   /* several 64 KiB blocks and a partial one */
	char *buf = malloc(size);

	ck_assert_ptr_nonnull(buf);
	for (size_t pos = 0; pos < size; pos++)
		buf[pos] = (char)(pos * 7 + pos / 1000);
	h_write_file(h_path("a"), buf, size);
	h_write_file(h_path("b"), buf, size);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("a"), h_path("b")), 1);
	/* A difference in the last, partial block. */
	buf[size - 1] ^= 1;
	h_write_file(h_path("b"), buf, size);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("a"), h_path("b")), 0);
	/* A difference in the second block. */
	buf[size - 1] ^= 1;
	buf[70000] ^= 1;
	h_write_file(h_path("b"), buf, size);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("a"), h_path("b")), 0);
	/* Exactly one block, equal. */
	h_write_file(h_path("c"), buf, 65536);
	h_write_file(h_path("d"), buf, 65536);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("c"), h_path("d")), 1);
	/* Sizes differ. */
	h_write_file(h_path("b"), buf, size - 1);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("a"), h_path("b")), 0);
	/* Empty files. */
	h_write_file(h_path("e1"), "", 0);
	h_write_file(h_path("e2"), "", 0);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("e1"), h_path("e2")), 1);
	free(buf);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_files_equal_not_regular)
{
	ck_assert_int_eq(mkdir(h_path("d"), 0700), 0);
	h_write_file(h_path("f"), "x", 1);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("f"), h_path("d")), 0);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("d"), h_path("d")), 0);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_files_equal_missing)
{
	char msg[4096];

	h_write_file(h_path("a"), "x", 1);
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("a"), h_path("missing")), -1);
	snprintf(msg, sizeof(msg), "could not open \"%s\": No such file or directory",
		 h_path("missing"));
	assert_error(msg);
	h_log_reset();
	ck_assert_int_eq(pitr_fsutil_files_equal(h_path("missing"), h_path("a")), -1);
	assert_error(msg);
}
END_TEST

/* --- tmpdir ------------------------------------------------------------- */

START_TEST(test_tmpdir)
{
	const char *saved = getenv("TMPDIR");
	char *keep = saved != NULL ? strdup(saved) : NULL;

	ck_assert_int_eq(setenv("TMPDIR", "/var/tmp/x", 1), 0);
	ck_assert_str_eq(pitr_fsutil_tmpdir("/given"), "/given");
	ck_assert_str_eq(pitr_fsutil_tmpdir(NULL), "/var/tmp/x");
	ck_assert_str_eq(pitr_fsutil_tmpdir(""), "/var/tmp/x");
	ck_assert_int_eq(setenv("TMPDIR", "", 1), 0);
	ck_assert_str_eq(pitr_fsutil_tmpdir(NULL), PITR_FSUTIL_TMPDIR_DEFAULT);
	ck_assert_int_eq(unsetenv("TMPDIR"), 0);
	ck_assert_str_eq(pitr_fsutil_tmpdir(NULL), PITR_FSUTIL_TMPDIR_DEFAULT);
	ck_assert_str_eq(pitr_fsutil_tmpdir("/given"), "/given");
	if (keep != NULL)
		ck_assert_int_eq(setenv("TMPDIR", keep, 1), 0);
	free(keep);
}
END_TEST

/* --- join -------------------------------------------------------------- */

START_TEST(test_join)
{
	const char *cases[][3] = {
		{ "a", "b", "a/b" },
		{ "a/", "b", "a/b" },
		{ "/", "b", "/b" },
		{ "/a/", "b", "/a/b" },
		{ "/a", "b", "/a/b" },
		{ "/x/y", "z.gz", "/x/y/z.gz" },
		{ "", "b", "b" },
		{ "a", "", "a/" },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		char *got = pitr_fsutil_join(cases[case_idx][0], cases[case_idx][1]);

		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, cases[case_idx][2]);
		free(got);
	}
}
END_TEST

/* --- read_small -------------------------------------------------------- */

START_TEST(test_read_small)
{
	size_t len = 99;
	char *got;

	h_write_file(h_path("f"), "12345", 5);
	got = pitr_fsutil_read_small(h_path("f"), 5, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(got, "12345");
	free(got);
	/* len may be NULL; the NUL after the data is there. */
	got = pitr_fsutil_read_small(h_path("f"), 100, NULL);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "12345");
	free(got);
	h_write_file(h_path("e"), "", 0);
	got = pitr_fsutil_read_small(h_path("e"), 100, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(got, "");
	free(got);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_small_embedded_nul)
{
	size_t len = 0;
	char *got;

	h_write_file(h_path("f"), "a\0b", 3);
	got = pitr_fsutil_read_small(h_path("f"), 3, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(got, "a\0b", 4), 0);
	free(got);
}
END_TEST

START_TEST(test_read_small_missing)
{
	errno = 0;
	ck_assert_ptr_null(pitr_fsutil_read_small(h_path("none"), 10, NULL));
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_read_small_too_large)
{
	char msg[4096];

	h_write_file(h_path("f"), "12345", 5);
	errno = 0;
	ck_assert_ptr_null(pitr_fsutil_read_small(h_path("f"), 4, NULL));
	ck_assert_int_eq(errno, EFBIG);
	snprintf(msg, sizeof(msg), "\"%s\" is larger than 4 bytes", h_path("f"));
	assert_error(msg);
}
END_TEST

START_TEST(test_read_small_unsized)
{
	size_t len = 0;
	char *got;

	/* /proc files claim size 0: the buffer has to grow while reading. */
	got = pitr_fsutil_read_small("/proc/self/status", 1 << 20, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_gt(len, 100);
	ck_assert_uint_eq(strlen(got), len);
	ck_assert_int_eq(strncmp(got, "Name:", 5), 0);
	free(got);
	ck_assert_ptr_null(pitr_fsutil_read_small("/proc/self/status", 50, &len));
	ck_assert_str_eq(h_log(), "ERROR : \"/proc/self/status\" is larger than 50 bytes\n");
}
END_TEST

START_TEST(test_read_small_directory)
{
	char msg[4096];

	errno = 0;
	ck_assert_ptr_null(pitr_fsutil_read_small(h_dir(), 10, NULL));
	ck_assert_int_eq(errno, EISDIR);
	snprintf(msg, sizeof(msg), "could not read \"%s\": Is a directory", h_dir());
	assert_error(msg);
}
END_TEST

START_TEST(test_read_small_not_a_dir)
{
	char msg[4096];

	h_write_file(h_path("f"), "x", 1);
	errno = 0;
	ck_assert_ptr_null(pitr_fsutil_read_small(h_path("f/x"), 10, NULL));
	ck_assert_int_eq(errno, ENOTDIR);
	snprintf(msg, sizeof(msg), "could not open \"%s\": Not a directory", h_path("f/x"));
	assert_error(msg);
}
END_TEST

/* --- remove_tree -------------------------------------------------------- */

/* Below `top`, 30 directories of 200-character names (a path of 6,000
 * bytes, beyond PATH_MAX), each with a file, a link to `outside` and a
 * dangling link; a second branch at the first level. */
static void
make_deep_tree(const char *top, const char *outside)
{
	char name[256];
	int fd, nfd;

	ck_assert_int_eq(mkdir(top, 0700), 0);
	fd = open(top, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(mkdirat(fd, "branch", 0700), 0);
	for (int level = 0; level < 30; level++) {
		snprintf(name, sizeof(name), "%0200d", level);
		ck_assert_int_eq(mkdirat(fd, name, 0700), 0);
		nfd = openat(fd, name, O_RDONLY | O_DIRECTORY);
		ck_assert_int_ge(nfd, 0);
		close(fd);
		fd = nfd;
		close(openat(fd, "file", O_WRONLY | O_CREAT, 0600));
		ck_assert_int_eq(symlinkat(outside, fd, "link"), 0);
		ck_assert_int_eq(symlinkat("/nonexistent", fd, "dangling"), 0);
	}
	close(fd);
}

START_TEST(test_remove_tree_beyond_path_max)
{
	const char *top = h_path("deep"), *outside = h_path("outside");

	mkdir(outside, 0700);
	h_write_file(h_path("outside/kept"), "k", 1);
	make_deep_tree(top, outside);
	h_log_reset();
	ck_assert_int_eq(pitr_fsutil_remove_tree(top), 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(h_exists(top), 0);
	/* Links were removed, never followed. */
	assert_content(h_path("outside/kept"), "k");
}
END_TEST

START_TEST(test_remove_tree_not_a_dir)
{
	h_write_file(h_path("f"), "x", 1);
	ck_assert_int_eq(symlink(h_dir(), h_path("l")), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_path("f")), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_path("l")), 0);
	ck_assert_int_eq(pitr_fsutil_remove_tree(h_path("missing")), 0);
	ck_assert_int_eq(h_exists(h_path("f")), 0);
	ck_assert_int_eq(h_exists(h_path("l")), 0);
	ck_assert_int_eq(h_exists(h_dir()), 1);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* A failure stops it with one line: here the descriptor limit leaves
 * room for the top directory's and no more (as root too). */
START_TEST(test_remove_tree_fails_once)
{
	struct rlimit rl;
	rlim_t saved;
	char msg[4096];
	int lowest = dup(0), rc;

	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(mkdir(h_path("t"), 0700), 0);
	h_write_file(h_path("t/a"), "x", 1);
	h_log_reset();
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	saved = rl.rlim_cur;
	rl.rlim_cur = (rlim_t)lowest + 1;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	rc = pitr_fsutil_remove_tree(h_path("t"));
	rl.rlim_cur = saved;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(rc, -1);
	snprintf(msg, sizeof(msg), "could not remove \"%s\": could not read \".\" 0 levels down: "
		 "Too many open files", h_path("t"));
	assert_error(msg);
	ck_assert_int_eq(h_exists(h_path("t/a")), 1);
}
END_TEST

static TCase *
tcase(const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	return tc;
}

static Suite *
make_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc;

	tc = tcase("publish_open");
	tcase_add_test(tc, test_open_temp_name);
	tcase_add_test(tc, test_open_mode_ignores_umask);
	tcase_add_test(tc, test_open_missing_dir);
	suite_add_tcase(s, tc);

	tc = tcase("publish_write");
	tcase_add_test(tc, test_write_appends);
	tcase_add_test(tc, test_write_error);
	suite_add_tcase(s, tc);

	tc = tcase("publish_temp_path/final_path");
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);

	tc = tcase("publish_commit");
	tcase_add_test(tc, test_commit_new);
	tcase_add_test(tc, test_commit_identical);
	tcase_add_test(tc, test_commit_conflict);
	tcase_add_test(tc, test_commit_conflict_same_size);
	tcase_add_test(tc, test_commit_directory_in_the_way);
	tcase_add_test(tc, test_commit_unreadable_existing);
	tcase_add_test(tc, test_commit_rename_error);
	suite_add_tcase(s, tc);

	tc = tcase("publish_abort");
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_abort_before_commit);
	suite_add_tcase(s, tc);

	tc = tcase("publish_free");
	tcase_add_test(tc, test_free);
	suite_add_tcase(s, tc);

	tc = tcase("publish_buffer");
	tcase_add_test(tc, test_buffer_outcomes);
	tcase_add_test(tc, test_buffer_replace);
	tcase_add_test(tc, test_buffer_replace_directory);
	tcase_add_test(tc, test_buffer_missing_dir);
	tcase_add_test(tc, test_buffer_write_error);
	suite_add_tcase(s, tc);

	tc = tcase("mkdir_p");
	tcase_add_test(tc, test_mkdir_p_creates);
	tcase_add_test(tc, test_mkdir_p_relative);
	tcase_add_test(tc, test_mkdir_p_file_in_the_way);
	tcase_add_test(tc, test_mkdir_p_empty);
	tcase_add_test(tc, test_mkdir_p_too_long);
	suite_add_tcase(s, tc);

	tc = tcase("fsync_dir");
	tcase_add_test(tc, test_fsync_dir);
	suite_add_tcase(s, tc);

	tc = tcase("writeback");
	tcase_add_test(tc, test_writeback_bookkeeping);
	tcase_add_test(tc, test_writeback_bad_fd);
	suite_add_tcase(s, tc);

	tc = tcase("files_equal");
	tcase_add_test(tc, test_files_equal);
	tcase_add_test(tc, test_files_equal_not_regular);
	tcase_add_test(tc, test_files_equal_missing);
	suite_add_tcase(s, tc);

	tc = tcase("tmpdir");
	tcase_add_test(tc, test_tmpdir);
	suite_add_tcase(s, tc);

	tc = tcase("join");
	tcase_add_test(tc, test_join);
	suite_add_tcase(s, tc);

	tc = tcase("read_small");
	tcase_add_test(tc, test_read_small);
	tcase_add_test(tc, test_read_small_embedded_nul);
	tcase_add_test(tc, test_read_small_missing);
	tcase_add_test(tc, test_read_small_too_large);
	tcase_add_test(tc, test_read_small_unsized);
	tcase_add_test(tc, test_read_small_directory);
	tcase_add_test(tc, test_read_small_not_a_dir);
	tcase_add_test(tc, test_remove_tree_beyond_path_max);
	tcase_add_test(tc, test_remove_tree_not_a_dir);
	tcase_add_test(tc, test_remove_tree_fails_once);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
