/*
 * io.c - whole-buffer reads and writes under one rule (see io.h).
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "common/io.h"

int
pitr_io_write_all(int fd, const void *buf, size_t len)
{
	const char *pos = buf;

	while (len > 0) {
		ssize_t n = write(fd, pos, len);

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
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
pitr_io_read_full(int fd, void *buf, size_t len)
{
	char *pos = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pitr_io_read(fd, pos + done, len - done);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int
pitr_io_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *pos = buf;

	while (len > 0) {
		ssize_t n = pwrite(fd, pos, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENOSPC;
			return -1;
		}
		pos += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t
pitr_io_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *pos = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, pos + done, len - done, off + (off_t)done);

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

ssize_t
pitr_io_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}
