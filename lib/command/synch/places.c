/*
 * places.c - whether an output's place is the source's own, found by
 * what is there rather than by its name: an ssh output naming this very
 * host (localhost, another of its names, an address) is a remote path
 * that no textual or realpath comparison can tell from the source's.
 *
 * Before anything is written, a file with a random name is put into the
 * source's data directory and into every tablespace location; every place
 * of every output that goes through rsync, and every place of a local
 * output, is then looked at (a stat, or rsync --list-only over ssh).  A
 * place holding one of those names is the source's directory itself, and
 * the run is refused, --force or not.  The marks are removed before the
 * plan is shown, on every path; a fatal signal removes them too (they are
 * tmpfile.h files, registered with sigclean.h).
 *
 * Local places are also compared by what they are, not by how they are
 * written: a tablespace place that is a symbolic link is refused, and no
 * place may be another place of any local output, or the source's data
 * directory, or lie inside one, by the device and inode of each of its
 * existing ancestors (links followed): `-m OLD:LINK` with LINK pointing
 * at the output would have the tablespace's --delete empty the copy.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

/* One mark: the source directory it is in, and its name there. */
struct self_mark {
	const char *src;
	const char *what;       /* "data directory", "tablespace" */
	struct pitr_tmp tmp;
	const char *name;       /* the base name of tmp.path */
};

static void
marks_remove(struct self_mark *m, size_t n)
{
	for (size_t i = 0; m != NULL && i < n; i++)
		pitr_tmp_discard(&m[i].tmp);
	free(m);
}

/* Mark k (0: the data directory, k: tablespace k-1) with `rand` in its
 * name: a name no earlier run nor any other host can have left. */
static int
mark_one(const struct synch_run *run, struct self_mark *m, size_t k, uint64_t rand)
{
	char base[64];
	const char *slash;

	m->src = k == 0 ? run->data_dir : run->ts[k - 1].location;
	m->what = k == 0 ? "data directory" : "tablespace";
	m->tmp = (struct pitr_tmp){ .fd = -1, .slot = -1 };
	snprintf(base, sizeof(base), "synch-self-%016" PRIx64 "-%zu", rand, k);
	if (pitr_tmp_create(&m->tmp, m->src, base) != 0)
		return -1;
	slash = strrchr(m->tmp.path, '/');
	m->name = slash != NULL ? slash + 1 : m->tmp.path;
	return 0;
}

static struct self_mark *
marks_make(const struct synch_run *run)
{
	struct self_mark *m = pitr_xcalloc(run->nts + 1, sizeof(*m));
	uint64_t rand;

	if (m == NULL)
		return NULL;
	if (getrandom(&rand, sizeof(rand), 0) != (ssize_t)sizeof(rand)) {
		pitr_log_error("could not get random bytes: %s", strerror(errno));
		free(m);
		return NULL;
	}
	for (size_t k = 0; k <= run->nts; k++) {
		if (mark_one(run, &m[k], k, rand) != 0) {
			marks_remove(m, k);
			return NULL;
		}
	}
	return m;
}

static const char *
place_of(const struct synch_target *t, size_t k)
{
	return k == 0 ? t->out.path : t->ts_dirs[k - 1];
}

static int
found(const struct synch_target *t, const char *dir, const struct self_mark *m)
{
	pitr_log_error("output \"%s\": \"%s\" is the source's %s \"%s\" itself (a mark put "
		       "there was found): nothing copied", t->out.label, dir, m->what, m->src);
	return -1;
}

/* Place k of local target t holds none of the marks (a stat each). */
static int
check_local_marks(const struct synch_run *run, const struct synch_target *t, size_t k,
		  const struct self_mark *m)
{
	const char *dir = place_of(t, k);
	struct stat st;

	for (size_t j = 0; j <= run->nts; j++) {
		char *path = pitr_fsutil_join(dir, m[j].name);
		bool there = path != NULL && lstat(path, &st) == 0;

		free(path);
		if (there)
			return found(t, dir, &m[j]);
	}
	return 0;
}

/* Place k of target t holds none of the marks: a remote one listed. */
static int
check_place(const struct synch_run *run, const struct synch_target *t, size_t k,
	    const struct self_mark *m)
{
	const char *dir = place_of(t, k);
	char **names;
	size_t n;
	bool exists;
	int rc = 0;

	if (t->out.kind == SYNCH_OUT_LOCAL)
		return check_local_marks(run, t, k, m);
	if (pitr_synch_delta_list(&run->denv, &t->out, dir, &exists, &names, &n) != 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		for (size_t j = 0; rc == 0 && j <= run->nts; j++)
			if (strcmp(names[i], m[j].name) == 0)
				rc = found(t, dir, &m[j]);
	pitr_synch_delta_list_free(names, n);
	return rc;
}

/* Whether place k of target t is looked at: every place of a target
 * through rsync and of a local one (a stat); a streamed remote target's
 * receiver refuses a non-empty directory itself, and an rsync daemon
 * takes no tablespace (resync.c refuses them). */
static bool
looked_at(const struct synch_target *t, size_t k)
{
	if (t->out.kind == SYNCH_OUT_RSYNCD)
		return k == 0;
	return t->delta || t->out.kind == SYNCH_OUT_LOCAL;
}

int
synch_places_check_self(const struct synch_run *run)
{
	struct self_mark *m = marks_make(run);
	int rc = 0;

	if (m == NULL)
		return -1;
	for (size_t i = 0; rc == 0 && i < run->nt; i++)
		for (size_t k = 0; rc == 0 && k <= run->nts; k++)
			if (looked_at(&run->t[i], k))
				rc = check_place(run, &run->t[i], k, m);
	marks_remove(m, run->nts + 1);
	return rc;
}

/* `inner` is `outer` or lies below it, by the device and inode of each of
 * `inner`'s existing ancestors (itself first; links followed, so a path
 * through a link to `outer` is found).  A missing `outer` holds nothing. */
static bool
held_by(const char *inner, const char *outer)
{
	struct stat o, st;
	char *p;
	bool found = false;

	if (stat(outer, &o) != 0 || (p = pitr_xstrdup(inner)) == NULL)
		return false;
	for (;;) {
		char *cut;

		if (stat(p, &st) == 0 && st.st_dev == o.st_dev && st.st_ino == o.st_ino) {
			found = true;
			break;
		}
		if ((cut = strrchr(p, '/')) == NULL || cut == p)
			break;
		*cut = '\0';
	}
	free(p);
	return found;
}

/* Place `k` of local target `t` is no link (a tablespace's) and is held by
 * no other place of the local targets nor by the source's data dir. */
static int
check_local_place(const struct synch_run *run, const struct synch_target *t, size_t k)
{
	const char *p = place_of(t, k);
	struct stat st;

	if (k > 0 && lstat(p, &st) == 0 && S_ISLNK(st.st_mode)) {
		pitr_log_error("output \"%s\": tablespace place \"%s\" is a symbolic link: give "
			       "--map the directory it names", t->out.label, p);
		return -1;
	}
	if (held_by(p, run->data_dir)) {
		pitr_log_error("output \"%s\": \"%s\" is the source's data directory \"%s\" or "
			       "inside it", t->out.label, p, run->data_dir);
		return -1;
	}
	for (size_t j = 0; j < run->nt; j++)
		for (size_t b = 0; run->t[j].out.kind == SYNCH_OUT_LOCAL && b <= run->nts; b++) {
			const char *q = place_of(&run->t[j], b);

			if ((&run->t[j] == t && b == k) || !held_by(p, q))
				continue;
			pitr_log_error("output \"%s\": \"%s\" is \"%s\" of output \"%s\" or inside it "
				       "(the same directory, by device and inode): each place must be "
				       "a directory of its own", t->out.label, p, q, run->t[j].out.label);
			return -1;
		}
	return 0;
}

int
synch_places_check_local(const struct synch_run *run)
{
	for (size_t i = 0; i < run->nt; i++)
		for (size_t k = 0; run->t[i].out.kind == SYNCH_OUT_LOCAL && k <= run->nts; k++)
			if (check_local_place(run, &run->t[i], k) != 0)
				return -1;
	return 0;
}
