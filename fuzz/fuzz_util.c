/*
 * fuzz_util.c - the harnesses' shared helpers (see fuzz.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "fuzz.h"

void
fuzz_quiet_log(void)
{
	const char *keep = getenv("PITR_FUZZ_LOG");

	if (pitr_log_open("pitr-fuzz", keep && *keep == '1' ? NULL : "/dev/null", false) != 0)
		abort();
}

/* Most harnesses need nothing more at start than a quiet log; one that
 * does defines its own, which takes the place of this weak one. */
__attribute__((weak)) int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static int
write_all(int fd, const uint8_t *data, size_t size)
{
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

const char *
fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
	static char path[4096];
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/pitr-fuzz-%ld%s", tmp && *tmp ? tmp : "/tmp",
		 (long)getpid(), suffix);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write_all(fd, data, size) != 0 || close(fd) != 0)
		fuzz_fail("could not write the input file", path);
	return path;
}

int
fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("pitr-fuzz", MFD_CLOEXEC);

	if (fd < 0 || write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		fuzz_fail("could not make the in-memory input", strerror(errno));
	return fd;
}

_Noreturn void
fuzz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "pitr-fuzz: %s: %s\n", what, detail ? detail : "");
	abort();
}
