/*
 * check_io.c - unit tests for whole-buffer reads and writes.
 *
 * read(2) and write(2) as the library sees them: the executable's
 * definitions interpose libc's (as unlink in check_bcleanup.c), so a test
 * can make the kernel return EINTR, short counts or a zero-byte write on
 * one descriptor, which no real file does on cue.  Every other descriptor
 * goes straight to the system call.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "common/io.h"

/* What the interposed calls do to `fake_fd`. */
static int fake_fd = -1;
static int fake_eintr;          /* fail this many calls with EINTR first */
static size_t fake_chunk;       /* then transfer at most this much (0: all) */
static bool fake_zero;          /* write(2) returns 0, taking nothing */
static int fake_calls;          /* calls made on fake_fd */

/* Count a call on `fd` and shorten *len as told.  Returns true when the
 * call is to fail with EINTR instead. */
static bool
fake_interrupts(int fd, size_t *len)
{
	if (fd != fake_fd)
		return false;
	fake_calls++;
	if (fake_eintr > 0) {
		fake_eintr--;
		errno = EINTR;
		return true;
	}
	if (fake_chunk > 0 && *len > fake_chunk)
		*len = fake_chunk;
	return false;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	if (fake_interrupts(fd, &len))
		return -1;
	if (fd == fake_fd && fake_zero && len > 0)
		return 0;
	return syscall(SYS_write, fd, buf, len);
}

ssize_t
read(int fd, void *buf, size_t len)
{
	if (fake_interrupts(fd, &len))
		return -1;
	return syscall(SYS_read, fd, buf, len);
}

static void
setup(void)
{
	h_setup();
	fake_fd = -1;
	fake_eintr = 0;
	fake_chunk = 0;
	fake_zero = false;
	fake_calls = 0;
}

static void
teardown(void)
{
	fake_fd = -1;
	h_teardown();
}

static int
open_new(const char *name)
{
	int fd = open(h_path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static int
open_with(const char *name, const char *content)
{
	int fd;

	h_write_file(h_path(name), content, strlen(content));
	fd = open(h_path(name), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Close a descriptor the fakes may be aimed at: its number will be reused. */
static void
close_fd(int fd)
{
	if (fd == fake_fd)
		fake_fd = -1;
	close(fd);
}

static void
assert_file(const char *name, const char *want)
{
	size_t len;
	char *got = h_read_file(h_path(name), &len);

	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(got, want);
	free(got);
}

/* --- pitr_io_write_all ----------------------------------------------- */

START_TEST(test_write_all_whole_buffer)
{
	int fd = open_new("f");

	fake_fd = fd;
	ck_assert_int_eq(pitr_io_write_all(fd, "hello world", 11), 0);
	close_fd(fd);
	ck_assert_int_eq(fake_calls, 1);
	assert_file("f", "hello world");
}
END_TEST

START_TEST(test_write_all_short_writes_and_eintr)
{
	int fd = open_new("f");

	fake_fd = fd;
	fake_eintr = 2;
	fake_chunk = 3;
	ck_assert_int_eq(pitr_io_write_all(fd, "hello world", 11), 0);
	close_fd(fd);
	/* Two interrupted calls, then 3 + 3 + 3 + 2 bytes. */
	ck_assert_int_eq(fake_calls, 6);
	assert_file("f", "hello world");
}
END_TEST

/* The bug in the copies this replaced: `pos += 0` forever. */
START_TEST(test_write_all_zero_byte_write_fails)
{
	int fd = open_new("f");

	fake_fd = fd;
	fake_zero = true;
	errno = 0;
	ck_assert_int_eq(pitr_io_write_all(fd, "hello", 5), -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_eq(fake_calls, 1);
	close_fd(fd);
}
END_TEST

START_TEST(test_write_all_empty_buffer_writes_nothing)
{
	int fd = open_new("f");

	fake_fd = fd;
	fake_zero = true;
	ck_assert_int_eq(pitr_io_write_all(fd, "", 0), 0);
	ck_assert_int_eq(fake_calls, 0);
	close_fd(fd);
}
END_TEST

START_TEST(test_write_all_error_keeps_errno)
{
	int fd = open_with("f", "x");

	ck_assert_int_eq(pitr_io_write_all(fd, "hello", 5), -1);
	ck_assert_int_eq(errno, EBADF);
	close_fd(fd);
}
END_TEST

START_TEST(test_write_all_reader_gone_is_epipe)
{
	int fds[2];

	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe(fds), 0);
	close(fds[0]);
	ck_assert_int_eq(pitr_io_write_all(fds[1], "hello", 5), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(fds[1]);
}
END_TEST

/* --- pitr_io_pwrite_all, pitr_io_pread_full --------------------------- */

START_TEST(test_positional_write_then_read)
{
	char buf[16];
	int fd;

	h_write_file(h_path("f"), "0123456789", 10);
	fd = open(h_path("f"), O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pitr_io_pwrite_all(fd, "abc", 3, 4), 0);
	ck_assert_int_eq(pitr_io_pread_full(fd, buf, 6, 2), 6);
	ck_assert_mem_eq(buf, "23abc7", 6);
	/* Short only at end of file; the descriptor's position untouched. */
	ck_assert_int_eq(pitr_io_pread_full(fd, buf, sizeof(buf), 8), 2);
	ck_assert_mem_eq(buf, "89", 2);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 0);
	errno = 0;
	ck_assert_int_eq(pitr_io_pwrite_all(-1, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EBADF);
	close_fd(fd);
}
END_TEST

/* --- pitr_io_read_full ----------------------------------------------- */

START_TEST(test_read_full_stops_at_end_of_file)
{
	char buf[32];
	int fd = open_with("f", "0123456789");

	fake_fd = fd;
	fake_eintr = 1;
	fake_chunk = 3;
	ck_assert_int_eq(pitr_io_read_full(fd, buf, sizeof(buf)), 10);
	ck_assert_mem_eq(buf, "0123456789", 10);
	/* One interrupted call, 3 + 3 + 3 + 1 bytes, then end of file. */
	ck_assert_int_eq(fake_calls, 6);
	close_fd(fd);
}
END_TEST

START_TEST(test_read_full_fills_the_buffer)
{
	char buf[4];
	int fd = open_with("f", "0123456789");

	fake_fd = fd;
	fake_chunk = 3;
	ck_assert_int_eq(pitr_io_read_full(fd, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(fake_calls, 2);
	ck_assert_int_eq(pitr_io_read_full(fd, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "4567", 4);
	close_fd(fd);
}
END_TEST

START_TEST(test_read_full_error_keeps_errno)
{
	char buf[4];
	int fd = open_new("f");

	ck_assert_int_eq(pitr_io_read_full(fd, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EBADF);
	close_fd(fd);
}
END_TEST

/* --- pitr_io_read ---------------------------------------------------- */

START_TEST(test_read_once_through_eintr)
{
	char buf[32];
	int fd = open_with("f", "0123456789");

	fake_fd = fd;
	fake_eintr = 2;
	fake_chunk = 4;
	/* One read's worth, not the whole file. */
	ck_assert_int_eq(pitr_io_read(fd, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "0123", 4);
	ck_assert_int_eq(fake_calls, 3);
	fake_chunk = 0;
	ck_assert_int_eq(pitr_io_read(fd, buf, sizeof(buf)), 6);
	ck_assert_int_eq(pitr_io_read(fd, buf, sizeof(buf)), 0);
	close_fd(fd);
}
END_TEST

START_TEST(test_read_once_error_keeps_errno)
{
	char buf[4];
	int fd = open_new("f");

	ck_assert_int_eq(pitr_io_read(fd, buf, sizeof(buf)), -1);
	ck_assert_int_eq(errno, EBADF);
	close_fd(fd);
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
	Suite *s = suite_create("io");
	TCase *tc;

	tc = tcase("write_all");
	tcase_add_test(tc, test_write_all_whole_buffer);
	tcase_add_test(tc, test_write_all_short_writes_and_eintr);
	tcase_add_test(tc, test_write_all_zero_byte_write_fails);
	tcase_add_test(tc, test_write_all_empty_buffer_writes_nothing);
	tcase_add_test(tc, test_write_all_error_keeps_errno);
	tcase_add_test(tc, test_write_all_reader_gone_is_epipe);
	suite_add_tcase(s, tc);

	tc = tcase("read_full");
	tcase_add_test(tc, test_read_full_stops_at_end_of_file);
	tcase_add_test(tc, test_positional_write_then_read);
	tcase_add_test(tc, test_read_full_fills_the_buffer);
	tcase_add_test(tc, test_read_full_error_keeps_errno);
	suite_add_tcase(s, tc);

	tc = tcase("read");
	tcase_add_test(tc, test_read_once_through_eintr);
	tcase_add_test(tc, test_read_once_error_keeps_errno);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
