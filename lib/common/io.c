/*
 * io.c - whole-buffer reads and writes under one rule (see io.h).
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "common/io.h"

/* One write at `off`, or at the file offset when off < 0 (the positional
 * and sequential calls share the loops below). */
static ssize_t
put(int fd, const void *buf, size_t len, off_t off)
{
	return off < 0 ? write(fd, buf, len) : pwrite(fd, buf, len, off);
}

static ssize_t
get(int fd, void *buf, size_t len, off_t off)
{
	return off < 0 ? read(fd, buf, len) : pread(fd, buf, len, off);
}

static int
put_all(int fd, const char *pos, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = put(fd, pos, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			/* Retrying would loop forever: nothing says it will
			 * ever take a byte. */
			errno = ENOSPC;
			return -1;
		}
		pos += n;
		off += off < 0 ? 0 : n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
get_full(int fd, char *pos, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = get(fd, pos + done, len - done, off < 0 ? off : off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int
pitr_io_write_all(int fd, const void *buf, size_t len)
{
	return put_all(fd, buf, len, -1);
}

ssize_t
pitr_io_read_full(int fd, void *buf, size_t len)
{
	return get_full(fd, buf, len, -1);
}

int
pitr_io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return put_all(fd, buf, len, off);
}

ssize_t
pitr_io_pread_full(int fd, void *buf, size_t len, off_t off)
{
	return get_full(fd, buf, len, off);
}

ssize_t
pitr_io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}
