/*
 * findprog.c - programs on PATH and in PostgreSQL's bin directories (see
 * findprog.h).
 */
#include "config.h"

#include <assert.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/findprog.h"
#include "common/xalloc.h"

bool
pitr_findprog_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *
pitr_findprog_on_path(const char *name)
{
	const char *pos = getenv("PATH");

	assert(name != NULL && strchr(name, '/') == NULL);
	if (pos == NULL || *pos == '\0') {
		errno = ENOENT;
		return NULL;
	}
	for (;;) {
		size_t len = strcspn(pos, ":");
		char *candidate = pitr_xasprintf("%.*s/%s", len > 0 ? (int)len : 1,
						 len > 0 ? pos : ".", name);

		if (candidate == NULL)
			return NULL;
		if (pitr_findprog_executable(candidate))
			return candidate;
		free(candidate);
		if (pos[len] == '\0')
			break;
		pos += len + 1;
	}
	errno = ENOENT;
	return NULL;
}

char *
pitr_findprog_pgbin(const char *version, const char *name)
{
	return pitr_xasprintf(PITR_FINDPROG_PGBIN_FMT "/%s", version, name);
}

bool
pitr_findprog_pgbin_any(const char *name)
{
	char *pattern = pitr_findprog_pgbin("*", name);
	bool found = false;
	glob_t g;

	if (pattern == NULL)
		return false;
	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
		for (size_t match_idx = 0; match_idx < g.gl_pathc && !found; match_idx++)
			found = pitr_findprog_executable(g.gl_pathv[match_idx]);
	/* Also after a failure, which may leave a partial list. */
	globfree(&g);
	free(pattern);
	return found;
}
