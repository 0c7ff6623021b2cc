/*
 * fuzz_controldata.c - what pitrkit reads of a cluster's own files:
 * pg_controldata's output (postgres/controldata: pitr-restore -r asks it
 * for the oldest WAL file a restart needs) and the archive's system
 * identifier record (postgres/sysid).  The input is the text.  Output
 * that parses must give a segment name that parses and a valid segment
 * size; a record that reads must hold the digits it was written from.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "postgres/controldata.h"
#include "postgres/sysid.h"
#include "postgres/wal.h"

static char dir[PATH_MAX];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	snprintf(dir, sizeof(dir), "%s/pitr-fuzz-sysid-%ld", tmp && *tmp ? tmp : "/tmp",
		 (long)getpid());
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		fuzz_fail("could not make the scratch dir", dir);
	return 0;
}

static void
check_sysid(const uint8_t *data, size_t size)
{
	char path[PATH_MAX + 64], text[32];
	uint64_t id;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, PITR_SYSID_FILE);
	if ((fp = fopen(path, "w")) == NULL || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		fuzz_fail("could not write the record", path);
	if (pitr_sysid_read(dir, &id) != 0)
		return;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)id);
	/* Leading zeros are allowed, so compare from the first non-zero. */
	size_t start = 0;
	while (start + 1 < size && data[start] == '0' && data[start + 1] != '\n')
		start++;
	if (size - start < strlen(text) || memcmp(data + start, text, strlen(text)) != 0)
		fuzz_fail("a record read back as another number", text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct pitr_controldata cd;

	if (pitr_controldata_parse(text, "fuzz", &cd) == 0) {
		if (pitr_wal_parse(cd.redo_wal_file, NULL) != PITR_WAL_SEGMENT)
			fuzz_fail("a REDO WAL file that is not a segment name", cd.redo_wal_file);
		if (!pitr_wal_segsize_valid(cd.seg_size))
			fuzz_fail("an invalid segment size was taken", text);
	}
	check_sysid(data, size);
	free(text);
	return 0;
}
