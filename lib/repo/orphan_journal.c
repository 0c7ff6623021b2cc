/*
 * orphan_journal.c - a backup run's journal (orphan.h): the proof that
 * files without meta are a dead pitrkit run's, the only ones a sweep
 * removes.  OmniPITR never wrote meta files, so "no meta" alone would take
 * every backup of an installation switching to pitrkit for an orphan; and
 * a name alone proves nothing either (OmniPITR, still installed during a
 * switch, writes the same default names), so each file is recorded by its
 * inode, which its publishing rename keeps.
 *
 * The text, one record per line (names hold no '/' nor newline):
 *   pitrkit backup journal 2
 *   host HOSTNAME
 *   meta NAME
 *   file DEV INO NAME ...   (appended, fsynced, before any is published)
 * A journal cut short (its run killed while writing it) was never fsynced
 * and nothing of its run was published: its incomplete lines name
 * nothing, and the journal itself goes.  A version 1 journal (names only)
 * names nothing.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repo/orphan.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "common/xalloc.h"

#define JOURNAL_HEADER "pitrkit backup journal 2\n"
/* Far more than a run's files take (names of at most NAME_MAX). */
#define JOURNAL_MAX (64 * 1024)

struct pitr_orphan_journal {
	int fd;
	char *dir;
	char *path;
	char *text;  /* as written: parsed again at the end */
};

struct entry {
	const char *name;
	dev_t dev;
	ino_t ino;
};

/* A journal's content, parsed in place in `text`. */
struct parsed {
	char *text;
	const char *host;  /* NULL: none */
	const char *meta;  /* NULL: none (cut short) */
	struct entry *files;
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

/* Whether the file at e's name in `dir` is the one its run recorded. */
static bool
is_recorded(const char *dir, const struct entry *e)
{
	struct stat st;
	char *path = pitr_fsutil_join(dir, e->name);
	bool yes = path != NULL && lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		st.st_dev == e->dev && st.st_ino == e->ino;

	free(path);
	return yes;
}

static int
write_all(int fd, const char *path, const char *text)
{
	if (pitr_io_write_all(fd, text, strlen(text)) != 0) {
		pitr_log_error("could not write \"%s\": %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
sync_fd(int fd, const char *path)
{
	if (fsync(fd) != 0) {
		pitr_log_error("could not fsync \"%s\": %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
journal_free(struct pitr_orphan_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->text);
	free(j->path);
	free(j->dir);
	free(j);
}

struct pitr_orphan_journal *
pitr_orphan_journal_begin(const char *dir, const char *meta)
{
	struct pitr_orphan_journal *j = pitr_xcalloc(1, sizeof(*j));
	char host[256];

	if (j == NULL)
		return NULL;
	j->fd = -1;
	if (!plain_name(meta)) {
		pitr_log_error("backup file name \"%s\" is not a plain file name", meta);
		journal_free(j);
		return NULL;
	}
	pitr_tmp_lock_host(host, sizeof(host));
	j->dir = pitr_xstrdup(dir);
	j->path = pitr_fsutil_join(dir, PITR_ORPHAN_JOURNAL_PREFIX "XXXXXX");
	j->text = pitr_xasprintf("%shost %s\nmeta %s\n", JOURNAL_HEADER, host, meta);
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
	if (write_all(j->fd, j->path, j->text) != 0 || sync_fd(j->fd, j->path) != 0 ||
	    pitr_fsutil_fsync_dir(dir) != 0)
		goto fail;
	return j;
fail:
	if (j->fd >= 0)
		(void)unlink(j->path);
	journal_free(j);
	return NULL;
}

int
pitr_orphan_journal_add(struct pitr_orphan_journal *j, const char *name, dev_t dev, ino_t ino)
{
	char *line, *text;
	int rc;

	if (!plain_name(name)) {
		pitr_log_error("backup file name \"%s\" is not a plain file name", name);
		return -1;
	}
	line = pitr_xasprintf("file %ju %ju %s\n", (uintmax_t)dev, (uintmax_t)ino, name);
	if (line == NULL)
		return -1;
	text = pitr_xasprintf("%s%s", j->text, line);
	rc = text != NULL ? write_all(j->fd, j->path, line) : -1;
	if (text != NULL) {
		free(j->text);
		j->text = text;
	}
	free(line);
	return rc;
}

int
pitr_orphan_journal_sync(struct pitr_orphan_journal *j)
{
	return sync_fd(j->fd, j->path);
}

/* "DEV INO NAME" at `s` into e; false when it is not that. */
static bool
parse_file(char *s, struct entry *e)
{
	char *end;
	uintmax_t dev, ino;

	dev = strtoumax(s, &end, 10);
	if (end == s || *end != ' ')
		return false;
	s = end + 1;
	ino = strtoumax(s, &end, 10);
	if (end == s || *end != ' ' || !plain_name(end + 1))
		return false;
	e->dev = (dev_t)dev;
	e->ino = (ino_t)ino;
	e->name = end + 1;
	return true;
}

/* Parse `p->text` in place (the format at the top).  A text without its
 * header names nothing. */
static int
parse(struct parsed *p)
{
	char *s = p->text, *nl;

	p->host = NULL;
	p->meta = NULL;
	p->n = 0;
	if (strncmp(s, JOURNAL_HEADER, strlen(JOURNAL_HEADER)) != 0)
		return 0;
	s += strlen(JOURNAL_HEADER);
	p->files = pitr_xcalloc(strlen(s) / 8 + 1, sizeof(*p->files));
	if (p->files == NULL)
		return -1;
	/* Only complete lines count: an incomplete one was being written. */
	for (; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		if (strncmp(s, "host ", 5) == 0 && p->host == NULL)
			p->host = s + 5;
		else if (strncmp(s, "meta ", 5) == 0 && p->meta == NULL && plain_name(s + 5))
			p->meta = s + 5;
		else if (strncmp(s, "file ", 5) == 0 && p->meta != NULL &&
			 parse_file(s + 5, &p->files[p->n]))
			p->n++;
	}
	return 0;
}

/* Open journal `path` for reading (and for the lock, which NFS grants
 * only on a file open for writing, where we may): a regular file only,
 * never waiting (a FIFO of that name would).  -1 without logging when it
 * is gone or not a journal. */
static int
open_journal(const char *path, bool for_lock)
{
	int flags = O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	int fd = for_lock ? open(path, O_RDWR | flags) : -1;
	struct stat st;

	if (fd < 0 && (!for_lock || errno == EACCES || errno == EROFS || errno == EISDIR))
		fd = open(path, O_RDONLY | flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	return fd;
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

/* Whether any of p's recorded files is in `dir`. */
static bool
any_file(const char *dir, const struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (is_recorded(dir, &p->files[i]))
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
	/* Left for the next sweep only when files this run published are
	 * there without their meta (a failed publication). */
	if (parse(&p) == 0 && (p.meta == NULL || is_regular(j->dir, p.meta) || !any_file(j->dir, &p)) &&
	    unlink(j->path) != 0 && errno != ENOENT)
		pitr_log_error("could not remove \"%s\": %s", j->path, strerror(errno));
	free(p.files);
	journal_free(j);
}

/* The files of the dead run's journal p, through `remove`, when its meta
 * is absent: only those still the very files it recorded.  Returns 1 when
 * all went (or had nothing to do), 0 when one was kept, -1 when one
 * failed. */
static int
remove_files(const char *dir, const struct parsed *p, pitr_orphan_remove_fn remove, void *arg)
{
	char host[256];
	bool other_host;
	int rc = 1;

	if (p->meta == NULL || is_regular(dir, p->meta))
		return 1;
	pitr_tmp_lock_host(host, sizeof(host));
	other_host = p->host == NULL || strcmp(p->host, host) != 0;
	for (size_t i = 0; i < p->n; i++) {
		int r;

		if (!is_recorded(dir, &p->files[i]))
			continue;
		r = remove(arg, dir, p->files[i].name, other_host);
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
	int fd = path ? open_journal(path, true) : -1;
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

/* Whether journal `jname` of `dir` records the file `name` is now. */
static bool
records_file(const char *dir, const char *jname, const char *name)
{
	struct parsed p = { 0 };
	char *path = pitr_fsutil_join(dir, jname);
	int fd = path ? open_journal(path, false) : -1;
	bool yes = false;

	if (fd >= 0 && read_journal(fd, path, &p) == 0)
		for (size_t i = 0; i < p.n && !yes; i++)
			yes = strcmp(p.files[i].name, name) == 0 && is_recorded(dir, &p.files[i]);
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
			yes = records_file(dir, de->d_name, name);
	closedir(d);
	return yes;
}
