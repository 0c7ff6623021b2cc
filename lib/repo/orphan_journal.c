/*
 * orphan_journal.c - a backup run's journal (orphan.h): the proof that
 * files without meta are a dead pitrkit run's, the only ones a sweep
 * removes.  OmniPITR never wrote meta files, so "no meta" alone would take
 * every backup of an installation switching to pitrkit for an orphan.
 *
 * The text, one name per line (names hold no '/' nor newline):
 *   pitrkit backup journal 1
 *   meta NAME
 *   file NAME ...
 * A journal cut short (its run killed while writing it) was never fsynced
 * and nothing of its run was published: its incomplete lines name
 * nothing, and the journal itself goes.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/orphan.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

#define JOURNAL_HEADER "pitrkit backup journal 1\n"
/* Far more than a run's files take (names of at most NAME_MAX). */
#define JOURNAL_MAX (64 * 1024)

struct pitr_orphan_journal {
	int fd;
	char *dir;
	char *path;
	char *text;  /* as written: parsed again at the end */
};

/* A journal's content, parsed in place in `text`. */
struct parsed {
	char *text;
	const char *meta;  /* NULL: none (cut short) */
	const char **files;
	size_t n;
};

static bool
plain_name(const char *name)
{
	return name[0] != '\0' && name[0] != '.' && strpbrk(name, "/\n") == NULL;
}

static bool
is_regular(const char *dir, const char *name)
{
	struct stat st;
	char *path = pitr_fsutil_join(dir, name);
	bool yes = path != NULL && lstat(path, &st) == 0 && S_ISREG(st.st_mode);

	free(path);
	return yes;
}

/* The journal's text, NULL (logged) when a name is unfit. */
static char *
journal_text(const char *meta, const char *const *files, size_t n)
{
	char *text = pitr_xasprintf("%smeta %s\n", JOURNAL_HEADER, meta);

	if (!plain_name(meta)) {
		pitr_log_error("backup file name \"%s\" is not a plain file name", meta);
		free(text);
		return NULL;
	}
	for (size_t i = 0; text != NULL && i < n; i++) {
		char *more;

		if (!plain_name(files[i])) {
			pitr_log_error("backup file name \"%s\" is not a plain file name", files[i]);
			free(text);
			return NULL;
		}
		more = pitr_xasprintf("%sfile %s\n", text, files[i]);
		free(text);
		text = more;
	}
	return text;
}

static int
write_all(int fd, const char *path, const char *text)
{
	size_t len = strlen(text), done = 0;

	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			pitr_log_error("could not write \"%s\": %s", path, strerror(errno));
			return -1;
		}
		done += (size_t)w;
	}
	if (fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct pitr_orphan_journal *
pitr_orphan_journal_begin(const char *dir, const char *meta, const char *const *files, size_t n)
{
	struct pitr_orphan_journal *j = pitr_xcalloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->fd = -1;
	j->dir = pitr_xstrdup(dir);
	j->path = pitr_fsutil_join(dir, PITR_ORPHAN_JOURNAL_PREFIX "XXXXXX");
	j->text = journal_text(meta, files, n);
	if (j->dir == NULL || j->path == NULL || j->text == NULL)
		goto fail;
	if ((j->fd = mkostemp(j->path, O_CLOEXEC)) < 0) {
		pitr_log_error("could not create \"%s\": %s", j->path, strerror(errno));
		goto fail;
	}
	/* Nobody else knows the name yet: the lock is ours at once. */
	if (flock(j->fd, LOCK_EX) != 0) {
		pitr_log_error("could not lock \"%s\": %s", j->path, strerror(errno));
		goto fail;
	}
	if (write_all(j->fd, j->path, j->text) != 0 || pitr_fsutil_fsync_dir(dir) != 0)
		goto fail;
	return j;
fail:
	if (j->fd >= 0) {
		(void)unlink(j->path);
		close(j->fd);
	}
	free(j->text);
	free(j->path);
	free(j->dir);
	free(j);
	return NULL;
}

/* Parse `p->text` in place (orphan.c's format at the top).  A text
 * without its header names nothing. */
static int
parse(struct parsed *p)
{
	char *s = p->text, *nl;

	p->meta = NULL;
	p->n = 0;
	if (strncmp(s, JOURNAL_HEADER, strlen(JOURNAL_HEADER)) != 0)
		return 0;
	s += strlen(JOURNAL_HEADER);
	p->files = pitr_xcalloc(strlen(s) / 6 + 1, sizeof(*p->files));
	if (p->files == NULL)
		return -1;
	/* Only complete lines count: an incomplete one was being written. */
	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (strncmp(s, "meta ", 5) == 0 && p->meta == NULL && plain_name(s + 5))
			p->meta = s + 5;
		else if (strncmp(s, "file ", 5) == 0 && p->meta != NULL && plain_name(s + 5))
			p->files[p->n++] = s + 5;
	}
	return 0;
}

/* Read the journal open at `fd` into p (parsed).  -1 after logging. */
static int
read_journal(int fd, const char *path, struct parsed *p)
{
	size_t len = 0;
	ssize_t r;

	p->files = NULL;
	if ((p->text = pitr_xcalloc(JOURNAL_MAX + 1, 1)) == NULL)
		return -1;
	while (len < JOURNAL_MAX && (r = read(fd, p->text + len, JOURNAL_MAX - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pitr_log_error("could not read \"%s\": %s", path, strerror(errno));
			return -1;
		}
		len += (size_t)r;
	}
	return parse(p);
}

static void
parsed_free(struct parsed *p)
{
	free(p->text);
	free(p->files);
}

/* Whether any of p's files is in `dir`. */
static bool
any_file(const char *dir, const struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (is_regular(dir, p->files[i]))
			return true;
	return false;
}

void
pitr_orphan_journal_end(struct pitr_orphan_journal *j)
{
	struct parsed p = { 0 };

	if (j == NULL)
		return;
	p.text = j->text;
	/* Left for the next sweep only when files of a backup without meta
	 * are there (a failed publication). */
	if (parse(&p) == 0 && (p.meta == NULL || is_regular(j->dir, p.meta) || !any_file(j->dir, &p)) &&
	    unlink(j->path) != 0 && errno != ENOENT)
		pitr_log_error("could not remove \"%s\": %s", j->path, strerror(errno));
	parsed_free(&p);
	close(j->fd);
	free(j->path);
	free(j->dir);
	free(j);
}

/* The files of the dead run's journal p, through `remove`, when its meta
 * is absent.  Returns 1 when all went (or had nothing to do), 0 when one
 * was kept, -1 when one failed. */
static int
remove_files(const char *dir, const struct parsed *p, pitr_orphan_remove_fn remove, void *arg)
{
	int rc = 1;

	if (p->meta == NULL || is_regular(dir, p->meta))
		return 1;
	for (size_t i = 0; i < p->n; i++) {
		int r;

		if (!is_regular(dir, p->files[i]))
			continue;
		r = remove(arg, dir, p->files[i]);
		if (r < 0)
			rc = -1;
		else if (r > 0 && rc > 0)
			rc = 0;
	}
	return rc;
}

/* One journal `name` of `dir`: left alone while its run lives. */
static int
sweep_one(const char *dir, const char *name, bool keep, pitr_orphan_remove_fn remove, void *arg)
{
	struct parsed p = { 0 };
	char *path = pitr_fsutil_join(dir, name);
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	int r = path == NULL ? -1 : 0;

	if (fd < 0) {
		if (path != NULL && errno != ENOENT) {
			pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
			r = -1;
		}
		free(path);
		return r;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		r = read_journal(fd, path, &p);
		if (r == 0 && (r = remove_files(dir, &p, remove, arg)) > 0 && !keep &&
		    unlink(path) != 0 && errno != ENOENT) {
			pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
			r = -1;
		}
		parsed_free(&p);
	} else if (errno != EWOULDBLOCK) {
		pitr_log_error("could not lock \"%s\": %s", path, strerror(errno));
		r = -1;
	}
	close(fd);
	free(path);
	return r < 0 ? -1 : 0;
}

int
pitr_orphan_sweep(const char *dir, bool keep_journals, pitr_orphan_remove_fn remove, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, PITR_ORPHAN_JOURNAL_PREFIX,
			    strlen(PITR_ORPHAN_JOURNAL_PREFIX)) == 0 &&
		    sweep_one(dir, de->d_name, keep_journals, remove, arg) != 0)
			rc = -1;
	closedir(d);
	return rc;
}

/* Whether journal `jname` of `dir` names `name` as a file. */
static bool
names_file(const char *dir, const char *jname, const char *name)
{
	struct parsed p = { 0 };
	char *path = pitr_fsutil_join(dir, jname);
	int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	bool yes = false;

	if (fd >= 0 && read_journal(fd, path, &p) == 0)
		for (size_t i = 0; i < p.n && !yes; i++)
			yes = strcmp(p.files[i], name) == 0;
	parsed_free(&p);
	if (fd >= 0)
		close(fd);
	free(path);
	return yes;
}

bool
pitr_orphan_journaled(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool yes = false;

	if (d == NULL)
		return false;
	while (!yes && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, PITR_ORPHAN_JOURNAL_PREFIX,
			    strlen(PITR_ORPHAN_JOURNAL_PREFIX)) == 0)
			yes = names_file(dir, de->d_name, name);
	closedir(d);
	return yes;
}
