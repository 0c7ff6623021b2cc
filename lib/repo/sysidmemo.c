/*
 * sysidmemo.c - the state dir's memo of a checked system identifier
 * record (see sysidmemo.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "repo/sysidmemo.h"

#define MEMO_PREFIX ".pitr-sysid-"
/* A destination key is a location and a codec: far below this. */
#define MEMO_MAX 8192

/* ".pitr-sysid-" and the FNV-1a hash of `key` in hex: a file name for any
 * key, whatever characters it holds. */
static void
memo_name(const char *key, char *out, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *c = (const unsigned char *)key; *c != '\0'; c++)
		h = (h ^ *c) * 0x100000001b3ULL;
	snprintf(out, size, "%s%016llx", MEMO_PREFIX, (unsigned long long)h);
}

static char *
memo_text(const char *dest_key, uint64_t sysid)
{
	return pitr_xasprintf("%llu %s\n", (unsigned long long)sysid, dest_key);
}

bool
pitr_sysid_memo_fresh(const char *state_dir, const char *dest_key, uint64_t sysid)
{
	char name[64], held[512] = "";
	char *path, *want = NULL, *text = NULL;
	struct stat st;
	size_t len = 0;
	bool fresh = false;

	memo_name(dest_key, name, sizeof(name));
	if ((path = pitr_fsutil_join(state_dir, name)) == NULL)
		return false;
	/* Any failure only means the record is read: said with -v at most. */
	pitr_log_hold(held, sizeof(held));
	if (stat(path, &st) == 0 && time(NULL) - st.st_mtime < PITR_SYSID_MEMO_MAX_AGE &&
	    time(NULL) >= st.st_mtime && (want = memo_text(dest_key, sysid)) != NULL &&
	    (text = pitr_fsutil_read_small(path, MEMO_MAX, &len)) != NULL)
		fresh = len == strlen(want) && memcmp(text, want, len) == 0;
	pitr_log_hold(NULL, 0);
	if (held[0] != '\0')
		pitr_log_verbose("not using the memo \"%s\": %s", path, held);
	free(text);
	free(want);
	free(path);
	return fresh;
}

int
pitr_sysid_memo_write(const char *state_dir, const char *dest_key, uint64_t sysid)
{
	char name[64], held[512] = "";
	char *text = memo_text(dest_key, sysid);
	int rc = -1;

	memo_name(dest_key, name, sizeof(name));
	pitr_log_hold(held, sizeof(held));
	if (text != NULL)
		rc = pitr_fsutil_publish_buffer(state_dir, name, text, strlen(text), true, NULL);
	pitr_log_hold(NULL, 0);
	if (rc != 0)
		pitr_log_verbose("could not remember in state dir \"%s\" that the system identifier "
				 "record was checked: %s", state_dir, held);
	free(text);
	return rc;
}
