/*
 * findprog.h - where a program is: on PATH, as execvp(3) looks, or in the
 * PostgreSQL bin directory of one major version.
 *
 * Debian's postgresql-NN packages (and the Ubuntu ones pitrkit is tested
 * on) keep the server programs in /usr/lib/postgresql/NN/bin, off PATH,
 * so that several major versions can be installed side by side.  That
 * layout is written here once, as PITR_FINDPROG_PGBIN_FMT.
 */
#ifndef PITR_FINDPROG_H
#define PITR_FINDPROG_H

#include <stdbool.h>

/* The bin directory of PostgreSQL major version %s, for messages too:
 * "... at " PITR_FINDPROG_PGBIN_FMT " ..." takes the version as an
 * argument. */
#define PITR_FINDPROG_PGBIN_FMT "/usr/lib/postgresql/%s/bin"

/* True if `path` is a regular file this process may execute (a directory
 * with the program's name does not count, as it does not for execvp). */
bool pitr_findprog_executable(const char *path);

/*
 * The first executable `dir`/`name` for the directories of $PATH in order,
 * an empty entry meaning the working directory, as execvp(3) reads it; an
 * unset or empty PATH holds nothing.  `name` has no '/'.  Returns a
 * malloc'd path the caller frees, or NULL with errno ENOENT when there is
 * none (nothing logged: callers look elsewhere or word the failure), or
 * ENOMEM after logging.
 */
char *pitr_findprog_on_path(const char *name);

/* The path of `name` in the bin directory of PostgreSQL major version
 * `version` ("15"), whether or not it is there (see
 * pitr_findprog_executable()).  Returns a malloc'd string the caller
 * frees, or NULL after logging a failed allocation (xalloc.h). */
char *pitr_findprog_pgbin(const char *version, const char *name);

/* True if the bin directory of some PostgreSQL major version holds an
 * executable `name` (false also after logging a failed allocation). */
bool pitr_findprog_pgbin_any(const char *name);

#endif
