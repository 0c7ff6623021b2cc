/*
 * recover.c - pitr-recover: choose a backup, prove the archive and the
 * backup good enough, assemble the data directory under a temporary name,
 * write the recovery settings, rename it into place, and optionally start
 * the server and watch it reach the target.
 *
 * Every check that needs no writing runs first (options, target dir,
 * backup choice, WAL path, digests).  Tablespaces are only known from the
 * data tarball itself (its tablespaces/<path>/ members, then its
 * tablespace_map at the end), so their destinations are judged when their
 * first member arrives, before anything is written there; a refusal then
 * removes what the extraction had written so far.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "repo/catalog.h"
#include "command/recover/recover.h"
#include "digest/digest.h"
#include "common/fsutil.h"
#include "common/opts.h"
#include "common/log.h"
#include "server/pgconn.h"
#include "common/spawn.h"
#include "tar/tarread.h"
#include "postgres/wal.h"

#define RECOVER_POLL_MS 200
#define RECOVER_LOG_NAME "pitr-recover.log"
#define RECOVER_CONF_MAX (1024 * 1024)
#define RECOVER_NO_PID_GRACE 15      /* s for postmaster.pid to appear */

/* ------------------------------------------------------------------------
 * Targets
 * ------------------------------------------------------------------------ */

void
pitr_recover_target_free(struct pitr_recover_target *t)
{
	free(t->conf_value);
	t->conf_value = NULL;
}

int
pitr_recover_parse_target(const struct pitr_recover_opts *o, struct pitr_recover_target *t)
{
	const struct {
		const char *value;
		enum pitr_recover_kind kind;
		const char *opt;
	} opts[] = {
		{ o->target_time, PITR_RECOVER_TIME, "--target-time" },
		{ o->target_xid, PITR_RECOVER_XID, "--target-xid" },
		{ o->target_lsn, PITR_RECOVER_LSN, "--target-lsn" },
		{ o->target_name, PITR_RECOVER_NAME, "--target-name" },
		{ o->target_immediate ? "" : NULL, PITR_RECOVER_IMMEDIATE, "--target-immediate" },
	};
	const char *first = NULL;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (opts[i].value == NULL)
			continue;
		if (first != NULL) {
			pitr_log_error("%s and %s given: at most one recovery target", first, opts[i].opt);
			return -1;
		}
		first = opts[i].opt;
		t->kind = opts[i].kind;
		t->value = opts[i].kind == PITR_RECOVER_IMMEDIATE ? NULL : opts[i].value;
	}
	switch (t->kind) {
	case PITR_RECOVER_END:
	case PITR_RECOVER_IMMEDIATE:
		return 0;
	case PITR_RECOVER_TIME: {
		bool zone;

		if (pitr_catalog_parse_time(t->value, &t->epoch, &zone) != 0) {
			pitr_log_error("invalid value \"%s\" for option \"--target-time\": expected "
				       "YYYY-MM-DD HH:MM:SS[.FFFFFF][+HH[:MM]|Z]", t->value);
			return -1;
		}
		if (zone) {
			t->conf_value = strdup(t->value);
		} else {
			/* Write the offset chosen here, so that PostgreSQL reads the
			 * same moment whatever its TimeZone setting. */
			char off[16];
			struct tm tm;

			localtime_r(&t->epoch, &tm);
			strftime(off, sizeof(off), "%z", &tm);
			if (asprintf(&t->conf_value, "%s %s", t->value, off) < 0)
				t->conf_value = NULL;
		}
		break;
	}
	case PITR_RECOVER_XID: {
		char *end;
		unsigned long long x;

		errno = 0;
		x = strtoull(t->value, &end, 10);
		if (!isdigit((unsigned char)t->value[0]) || *end != '\0' || errno != 0 || x < 3) {
			pitr_log_error("invalid value \"%s\" for option \"--target-xid\": expected a "
				       "transaction ID (a number from 3)", t->value);
			return -1;
		}
		t->conf_value = strdup(t->value);
		break;
	}
	case PITR_RECOVER_LSN: {
		char buf[32];

		if (pitr_catalog_parse_lsn(t->value, &t->lsn) != 0) {
			pitr_log_error("invalid value \"%s\" for option \"--target-lsn\": expected an LSN "
				       "like 0/3000028", t->value);
			return -1;
		}
		pitr_catalog_format_lsn(t->lsn, buf, sizeof(buf));
		t->conf_value = strdup(buf);
		break;
	}
	case PITR_RECOVER_NAME:
		/* PostgreSQL's restore point names are shorter than 64 bytes. */
		if (t->value[0] == '\0' || strlen(t->value) >= 64) {
			pitr_log_error("invalid value \"%s\" for option \"--target-name\": a restore point "
				       "name is 1 to 63 bytes", t->value);
			return -1;
		}
		t->conf_value = strdup(t->value);
		break;
	}
	if (t->conf_value == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	return 0;
}

/* How the target reads in messages: "--target-time 2024-...". */
static void
target_text(const struct pitr_recover_target *t, char *out, size_t size)
{
	switch (t->kind) {
	case PITR_RECOVER_END:
		snprintf(out, size, "the end of the archive");
		break;
	case PITR_RECOVER_IMMEDIATE:
		snprintf(out, size, "--target-immediate (the end of the backup)");
		break;
	case PITR_RECOVER_TIME:
		snprintf(out, size, "--target-time \"%s\"", t->value);
		break;
	case PITR_RECOVER_XID:
		snprintf(out, size, "--target-xid %s", t->value);
		break;
	case PITR_RECOVER_LSN:
		snprintf(out, size, "--target-lsn %s", t->value);
		break;
	case PITR_RECOVER_NAME:
		snprintf(out, size, "--target-name \"%s\"", t->value);
		break;
	}
}

/* ------------------------------------------------------------------------
 * Choosing the backup
 * ------------------------------------------------------------------------ */

/* Is b's timeline on the history of `tli` (0: any), branching off after
 * the backup ended? */
static bool
on_history(const struct pitr_catalog *cat, const struct pitr_catalog_backup *b, uint32_t tli)
{
	const struct pitr_catalog_timeline *tl;

	if (tli == 0 || b->timeline == tli)
		return true;
	tl = pitr_catalog_timeline(cat, tli);
	if (tl == NULL)
		return false;
	for (size_t i = 0; i < tl->nancestry; i++)
		if (tl->ancestry[i].tli == b->timeline)
			return tl->ancestry[i].end >= b->stop_lsn;
	return false;
}

static bool
backup_named(const struct pitr_catalog_backup *b, const char *name)
{
	const char *names[] = { b->name, b->meta_file, b->data_file, b->xlog_file };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* Can recovery from b reach t at all? */
static bool
reaches(const struct pitr_catalog_backup *b, const struct pitr_recover_target *t)
{
	if (t->kind == PITR_RECOVER_TIME)
		return b->stop_epoch < t->epoch;
	if (t->kind == PITR_RECOVER_LSN)
		return b->stop_lsn <= t->lsn;
	return true;
}

const struct pitr_catalog_backup *
pitr_recover_choose(const struct pitr_catalog *cat, const char *backup_dir, const char *name,
		    const struct pitr_recover_target *t, uint32_t tli)
{
	const struct pitr_catalog_backup *best = NULL;
	char what[256], lsn[32];
	size_t candidates = 0;

	target_text(t, what, sizeof(what));
	if (cat->nbackups == 0) {
		pitr_log_error("no backup in \"%s\"", backup_dir);
		return NULL;
	}
	if (name != NULL) {
		if (strcmp(name, "latest") == 0)
			best = &cat->backups[cat->nbackups - 1];
		for (size_t i = 0; best == NULL && i < cat->nbackups; i++)
			if (backup_named(&cat->backups[i], name))
				best = &cat->backups[i];
		if (best == NULL) {
			pitr_log_error("no backup named \"%s\" in \"%s\"", name, backup_dir);
			return NULL;
		}
		if (!reaches(best, t)) {
			pitr_catalog_format_lsn(best->stop_lsn, lsn, sizeof(lsn));
			pitr_log_error("backup \"%s\" ended at %s (%s), after %s: recovery cannot stop "
				       "before the end of its backup", best->name, best->stop_time, lsn, what);
			return NULL;
		}
		if (!on_history(cat, best, tli)) {
			pitr_log_error("backup \"%s\" (timeline %" PRIu32 ") is not on the history of "
				       "timeline %" PRIu32, best->name, best->timeline, tli);
			return NULL;
		}
		return best;
	}
	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (!on_history(cat, b, tli))
			continue;
		candidates++;
		if (!reaches(b, t))
			continue;
		/* Oldest first in the catalog: the last fit is the newest. */
		if (t->kind == PITR_RECOVER_XID || t->kind == PITR_RECOVER_NAME) {
			if (best == NULL)
				best = b;
		} else {
			best = b;
		}
	}
	if (best != NULL)
		return best;
	if (candidates == 0)
		pitr_log_error("no backup in \"%s\" is on the history of timeline %" PRIu32, backup_dir, tli);
	else
		pitr_log_error("no backup in \"%s\" ends before %s (the oldest ends at %s)", backup_dir,
			       what, cat->backups[0].stop_time);
	return NULL;
}

/* ------------------------------------------------------------------------
 * Quoting and the configuration text
 * ------------------------------------------------------------------------ */

char *
pitr_recover_shell_word(const char *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789_/.,:=+@%-";
	bool quote = s[0] == '\0' || strspn(s, plain) != strlen(s);
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == '\'' ? 4 : *p == '%' ? 2 : 1;
	out = malloc(n);
	if (out == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	o = out;
	if (quote)
		*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else if (*p == '%') {
			*o++ = '%';
			*o++ = '%';
		} else {
			*o++ = *p;
		}
	}
	if (quote)
		*o++ = '\'';
	*o = '\0';
	return out;
}

char *
pitr_recover_conf_quote(const char *s)
{
	size_t n = 3;
	char *out, *o;

	for (const char *p = s; *p != '\0'; p++)
		n += (*p == '\'' || *p == '\\') ? 2 : 1;
	out = malloc(n);
	if (out == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	o = out;
	*o++ = '\'';
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			*o++ = *p;
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/* Append a "key = 'value'" line to *text (realloc'd). */
static int
add_setting(char **text, const char *key, const char *value)
{
	char *q = pitr_recover_conf_quote(value), *n = NULL;

	if (q == NULL)
		return -1;
	if (asprintf(&n, "%s%s = %s\n", *text, key, q) < 0) {
		pitr_log_error("out of memory");
		free(q);
		return -1;
	}
	free(q);
	free(*text);
	*text = n;
	return 0;
}

char *
pitr_recover_conf_text(const struct pitr_recover_opts *o, const struct pitr_recover_target *t,
		       const char *backup_name, const char *restore_program, const char *archive)
{
	static const char *const keys[] = {
		[PITR_RECOVER_TIME] = "recovery_target_time",
		[PITR_RECOVER_XID] = "recovery_target_xid",
		[PITR_RECOVER_LSN] = "recovery_target_lsn",
		[PITR_RECOVER_NAME] = "recovery_target_name",
		[PITR_RECOVER_IMMEDIATE] = "recovery_target",
	};
	char *prog = pitr_recover_shell_word(restore_program);
	char *arch = pitr_recover_shell_word(archive);
	char *cmd = NULL, *text = NULL, *port = NULL;
	char *ok = NULL;

	if (prog == NULL || arch == NULL)
		goto out;
	/* -sr: a segment the archive lacks fails at once, so recovery ends
	 * at the archive's end and a standby polls for the next one. */
	if (asprintf(&cmd, "%s -sr -s %s %%f \"%%p\"", prog, arch) < 0 ||
	    asprintf(&text, "# written by pitr-recover: recovery from backup %s\n", backup_name) < 0) {
		cmd = text = NULL;
		pitr_log_error("out of memory");
		goto out;
	}
	if (add_setting(&text, "restore_command", cmd) != 0)
		goto out;
	if (t->kind != PITR_RECOVER_END &&
	    add_setting(&text, keys[t->kind], t->kind == PITR_RECOVER_IMMEDIATE ? "immediate" :
			t->conf_value) != 0)
		goto out;
	if (add_setting(&text, "recovery_target_action",
			o->target_action != NULL ? o->target_action : PITR_RECOVER_TARGET_ACTION_DEFAULT) != 0 ||
	    add_setting(&text, "recovery_target_timeline",
			o->target_timeline != NULL ? o->target_timeline : PITR_RECOVER_TARGET_TIMELINE_DEFAULT) != 0)
		goto out;
	if (o->port > 0) {
		if (asprintf(&port, "%s# pitr-recover --port\nport = %d\n", text, o->port) < 0) {
			port = NULL;
			pitr_log_error("out of memory");
			goto out;
		}
		free(text);
		text = port;
	}
	ok = text;
	text = NULL;
out:
	free(prog);
	free(arch);
	free(cmd);
	free(text);
	return ok;
}

char *
pitr_recover_restore_beside(const char *exe)
{
	char *dir = strdup(exe), *slash, *out = NULL;
	size_t len;

	if (dir == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else {
		*(slash == dir ? slash + 1 : slash) = '\0';
	}
	/* libtool runs bin/.libs/lt-pitr-recover from a build tree; its
	 * pitr-restore wrapper is in bin/. */
	len = strlen(dir);
	if (len >= 6 && strcmp(dir + len - 6, "/.libs") == 0)
		dir[len - 6] = '\0';
	else if (strcmp(dir, ".libs") == 0)
		strcpy(dir, ".");
	len = strlen(dir);
	if (asprintf(&out, "%s%spitr-restore", dir, len > 0 && dir[len - 1] == '/' ? "" : "/") < 0) {
		out = NULL;
		pitr_log_error("out of memory");
	}
	free(dir);
	return out;
}

/* ------------------------------------------------------------------------
 * Small filesystem helpers
 * ------------------------------------------------------------------------ */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0 && errno != ENOENT)
		pitr_log_error("could not remove \"%s\": %s", path, strerror(errno));
	return 0;
}

static void
rm_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Remove what is inside `dir`, keeping it. */
static void
empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = pitr_fsutil_join(dir, de->d_name);
		if (p != NULL)
			rm_tree(p);
		free(p);
	}
	closedir(d);
}

enum dir_state { DIR_MISSING, DIR_EMPTY, DIR_FULL, DIR_NOT_DIR, DIR_ERROR };

static enum dir_state
dir_state(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	enum dir_state s = DIR_EMPTY;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? DIR_MISSING : DIR_ERROR;
	if (!S_ISDIR(st.st_mode))
		return DIR_NOT_DIR;
	d = opendir(path);
	if (d == NULL)
		return DIR_ERROR;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			s = DIR_FULL;
			break;
		}
	closedir(d);
	return s;
}

/* Strip trailing slashes (keeping "/"); returns s. */
static char *
strip_slashes(char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

/* ------------------------------------------------------------------------
 * The run
 * ------------------------------------------------------------------------ */

struct rc_tablespace {
	char *old;          /* its path in the backup */
	char *new;          /* where it goes (absolute, as given or the old one) */
	char *real;         /* realpath(new), once it exists */
	char *created;      /* the topmost directory this run created, or NULL */
	bool remapped;
};

struct rc_run {
	const struct pitr_recover_opts *o;
	struct pitr_recover_target target;
	struct pitr_catalog cat;
	const struct pitr_catalog_backup *b;
	uint32_t tli;              /* the timeline recovery follows (resolved) */
	char *parent;              /* realpath of the target dir's parent */
	char *final;               /* parent/name */
	char *tmp;                 /* parent/.name.pitr-tmp-PID */
	bool tmp_created;
	bool renamed;              /* tmp is at final: nothing to undo */
	char *base;                /* the data dir's name inside the tarballs */
	const char *tarball;       /* the tarball being extracted, for messages */
	struct rc_tablespace *ts;
	size_t nts;
	char **map_old, **map_new; /* --tablespace-map, parsed */
	size_t nmap;
	char *restore_prog;
	char *archive;             /* [CODEC=]absolute dir */
	char *pg_ctl;
	bool probed;               /* --start: a session was tried once */
};

static void
run_cleanup(struct rc_run *run, bool failed)
{
	if (failed && !run->renamed) {
		if (run->tmp_created)
			rm_tree(run->tmp);
		for (size_t i = 0; i < run->nts; i++) {
			if (run->ts[i].created != NULL)
				rm_tree(run->ts[i].created);
			else if (run->ts[i].real != NULL)
				empty_dir(run->ts[i].real);
		}
	}
	for (size_t i = 0; i < run->nts; i++) {
		free(run->ts[i].old);
		free(run->ts[i].new);
		free(run->ts[i].real);
		free(run->ts[i].created);
	}
	free(run->ts);
	for (size_t i = 0; i < run->nmap; i++) {
		free(run->map_old[i]);
		free(run->map_new[i]);
	}
	free(run->map_old);
	free(run->map_new);
	pitr_recover_target_free(&run->target);
	pitr_catalog_free(&run->cat);
	free(run->parent);
	free(run->final);
	free(run->tmp);
	free(run->base);
	free(run->restore_prog);
	free(run->archive);
	free(run->pg_ctl);
}

/* restore_command runs in the data dir: the archive must be absolute. */
static int
resolve_archive(struct rc_run *run)
{
	const char *spec = run->o->archive;
	size_t pre = pitr_codec_prefix_len(spec);
	char *real = realpath(spec + pre, NULL);

	if (real == NULL) {
		pitr_log_error("archive \"%s\": %s", spec + pre, strerror(errno));
		return -1;
	}
	if (asprintf(&run->archive, "%.*s%s", (int)pre, spec, real) < 0) {
		run->archive = NULL;
		pitr_log_error("out of memory");
	}
	free(real);
	return run->archive != NULL ? 0 : -1;
}

static int
find_restore_program(struct rc_run *run)
{
	if (run->o->pitr_restore != NULL) {
		run->restore_prog = realpath(run->o->pitr_restore, NULL);
		if (run->restore_prog == NULL) {
			pitr_log_error("--pitr-restore \"%s\": %s", run->o->pitr_restore, strerror(errno));
			return -1;
		}
	} else {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (n < 0) {
			pitr_log_error("could not find this program's path (/proc/self/exe): %s; give "
				       "--pitr-restore", strerror(errno));
			return -1;
		}
		exe[n] = '\0';
		run->restore_prog = pitr_recover_restore_beside(exe);
		if (run->restore_prog == NULL)
			return -1;
	}
	if (access(run->restore_prog, X_OK) != 0) {
		pitr_log_error("restore program \"%s\" is not executable (%s): give --pitr-restore",
			       run->restore_prog, strerror(errno));
		return -1;
	}
	return 0;
}

/* The first executable `dir`/pg_ctl among PATH's directories (malloc'd),
 * or NULL. */
static char *
pg_ctl_on_path(void)
{
	const char *path = getenv("PATH");
	char *cand;

	for (const char *p = path ? path : ""; *p != '\0';) {
		size_t len = strcspn(p, ":");

		if (len > 0 && asprintf(&cand, "%.*s/pg_ctl", (int)len, p) >= 0) {
			if (access(cand, X_OK) == 0)
				return cand;
			free(cand);
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return NULL;
}

/*
 * pg_ctl: the option; else the backup's own major version in PostgreSQL's
 * Debian layout (a pg_ctl of another version on PATH would start a server
 * that refuses the data dir); else pg_ctl on PATH.  With `version` NULL
 * (before extraction) only the option and PATH are looked at, so that a
 * machine with no pg_ctl at all is refused before anything is written.
 * Returns 0 with run->pg_ctl set, 1 when it is not decided yet (only with
 * version NULL), -1 after logging.
 */
static int
find_pg_ctl(struct rc_run *run, const char *version)
{
	char *cand = NULL;
	glob_t g;

	if (run->pg_ctl != NULL)
		return 0;
	if (run->o->pg_ctl != NULL) {
		if (access(run->o->pg_ctl, X_OK) != 0) {
			pitr_log_error("--pg-ctl \"%s\" is not executable: %s", run->o->pg_ctl, strerror(errno));
			return -1;
		}
		if ((run->pg_ctl = strdup(run->o->pg_ctl)) == NULL) {
			pitr_log_error("out of memory");
			return -1;
		}
		return 0;
	}
	if (version == NULL) {
		bool any;

		cand = pg_ctl_on_path();
		any = cand != NULL ||
		      glob("/usr/lib/postgresql/*/bin/pg_ctl", GLOB_NOSORT, NULL, &g) == 0;
		if (cand == NULL)
			globfree(&g);
		free(cand);
		if (!any) {
			pitr_log_error("no pg_ctl on PATH nor in /usr/lib/postgresql/*/bin: give --pg-ctl");
			return -1;
		}
		return 1;
	}
	if (asprintf(&cand, "/usr/lib/postgresql/%s/bin/pg_ctl", version) < 0) {
		pitr_log_error("out of memory");
		return -1;
	}
	if (access(cand, X_OK) != 0) {
		free(cand);
		cand = pg_ctl_on_path();
	}
	if (cand == NULL) {
		pitr_log_error("no pg_ctl for PostgreSQL %s at /usr/lib/postgresql/%s/bin nor on PATH: "
			       "give --pg-ctl", version, version);
		return -1;
	}
	run->pg_ctl = cand;
	return 0;
}

static int
parse_tablespace_map(struct rc_run *run)
{
	size_t n = run->o->ntablespace_map;

	if (n == 0)
		return 0;
	run->map_old = calloc(n, sizeof(char *));
	run->map_new = calloc(n, sizeof(char *));
	if (run->map_old == NULL || run->map_new == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *arg = run->o->tablespace_map[i];
		const char *eq = strchr(arg, '=');

		if (eq == NULL || arg[0] != '/' || eq[1] != '/') {
			pitr_log_error("invalid value \"%s\" for option \"--tablespace-map\": expected "
				       "OLDDIR=NEWDIR, both absolute", arg);
			return -1;
		}
		run->map_old[i] = strndup(arg, (size_t)(eq - arg));
		run->map_new[i] = strdup(eq + 1);
		run->nmap++;
		if (run->map_old[i] == NULL || run->map_new[i] == NULL) {
			pitr_log_error("out of memory");
			return -1;
		}
		strip_slashes(run->map_old[i]);
		strip_slashes(run->map_new[i]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(run->map_old[j], run->map_old[i]) == 0) {
				pitr_log_error("--tablespace-map names \"%s\" twice", run->map_old[i]);
				return -1;
			}
	}
	return 0;
}

/* The target dir: its parent must exist; it must not, or be empty. */
static int
check_target_dir(struct rc_run *run)
{
	char *copy = strdup(run->o->target_dir), *slash, *name;
	const char *pdir;
	int rc = -1;

	if (copy == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	strip_slashes(copy);
	slash = strrchr(copy, '/');
	name = slash ? slash + 1 : copy;
	pdir = slash == NULL ? "." : slash == copy ? "/" : copy;
	if (slash != NULL && slash != copy)
		*slash = '\0';
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		pitr_log_error("--target-dir \"%s\" does not name a new directory", run->o->target_dir);
		goto out;
	}
	run->parent = realpath(pdir, NULL);
	if (run->parent == NULL) {
		pitr_log_error("--target-dir \"%s\": parent directory \"%s\": %s", run->o->target_dir,
			       pdir, strerror(errno));
		goto out;
	}
	if (asprintf(&run->final, "%s%s%s", run->parent, strcmp(run->parent, "/") ? "/" : "", name) < 0 ||
	    asprintf(&run->tmp, "%s%s.%s.pitr-tmp-%ld", run->parent, strcmp(run->parent, "/") ? "/" : "",
		     name, (long)getpid()) < 0) {
		pitr_log_error("out of memory");
		goto out;
	}
	switch (dir_state(run->final)) {
	case DIR_MISSING:
	case DIR_EMPTY:
		break;
	case DIR_FULL:
		pitr_log_error("--target-dir \"%s\" exists and is not empty", run->o->target_dir);
		goto out;
	case DIR_NOT_DIR:
		pitr_log_error("--target-dir \"%s\" exists and is not a directory", run->o->target_dir);
		goto out;
	case DIR_ERROR:
		pitr_log_error("--target-dir \"%s\": %s", run->o->target_dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

static int
resolve_timeline(struct rc_run *run, uint32_t *tli_wanted)
{
	const char *tl = run->o->target_timeline;
	char *end;
	unsigned long v;

	*tli_wanted = 0;
	if (tl == NULL || strcmp(tl, "latest") == 0 || strcmp(tl, "current") == 0)
		return 0;
	errno = 0;
	v = strtoul(tl, &end, 10);
	if (!isdigit((unsigned char)tl[0]) || *end != '\0' || errno != 0 || v == 0 || v > UINT32_MAX) {
		pitr_log_error("invalid value \"%s\" for option \"--target-timeline\": expected latest, "
			       "current or a timeline number", tl);
		return -1;
	}
	*tli_wanted = (uint32_t)v;
	return 0;
}

/* Verify every digest the backup has, before anything is extracted. */
static int
check_digests(struct rc_run *run)
{
	const struct pitr_catalog_backup *b = run->b;
	const char *files[2] = { b->data_file, b->xlog_file };

	if (b->ndigests == 0) {
		pitr_log_info("backup \"%s\" has no digests: its files are not verified before "
			      "extraction (take backups with --digest)", b->name);
		return 0;
	}
	for (size_t i = 0; i < b->ndigests; i++) {
		const struct pitr_catalog_digest *d = &b->digests[i];
		char *dpath = pitr_catalog_path(pitr_catalog_dir(run->o->backup_dir), d->file);
		char *text = NULL;
		size_t len;

		if (dpath == NULL)
			return -1;
		text = pitr_fsutil_read_small(dpath, RECOVER_CONF_MAX, &len);
		if (text == NULL) {
			if (errno == ENOENT)
				pitr_log_error("digest file \"%s\" of backup \"%s\" is missing", dpath, b->name);
			free(dpath);
			return -1;
		}
		for (size_t f = 0; f < 2; f++) {
			char want[PITR_DIGEST_HEX_MAX], got[PITR_DIGEST_HEX_MAX];
			char *fpath;
			int r;

			if (files[f] == NULL)
				continue;
			r = pitr_digest_lookup(text, files[f], want);
			if (r != 0) {
				pitr_log_error(r > 0 ? "digest file \"%s\" does not list \"%s\"" :
					       "digest file \"%s\" is malformed (looking for \"%s\")",
					       dpath, files[f]);
				goto fail;
			}
			fpath = pitr_catalog_path(pitr_catalog_dir(run->o->backup_dir), files[f]);
			if (fpath == NULL)
				goto fail;
			r = pitr_digest_file(d->algorithm, fpath, got);
			if (r == 0 && strcasecmp(want, got) != 0) {
				pitr_log_error("\"%s\" does not match its %s digest in \"%s\" (expected %s, "
					       "got %s): the backup is damaged", fpath, d->algorithm, dpath,
					       want, got);
				r = -1;
			}
			free(fpath);
			if (r != 0)
				goto fail;
		}
		pitr_log_info("%s digests of backup \"%s\" match", d->algorithm, b->name);
		free(text);
		free(dpath);
		continue;
fail:
		free(text);
		free(dpath);
		return -1;
	}
	return 0;
}

/* Log the plan: the backup, the WAL it needs and from where. */
static void
log_plan(const struct rc_run *run)
{
	const struct pitr_catalog_backup *b = run->b;
	const struct pitr_catalog_timeline *tl = pitr_catalog_timeline(&run->cat, run->tli);
	char what[256], start[32], stop[32], end[128];

	target_text(&run->target, what, sizeof(what));
	pitr_catalog_format_lsn(b->start_lsn, start, sizeof(start));
	pitr_catalog_format_lsn(b->stop_lsn, stop, sizeof(stop));
	pitr_log_info("recovering to %s from backup \"%s\" (label \"%s\", taken %s to %s, WAL %s to %s, "
		      "timeline %" PRIu32 ") into \"%s\"", what, b->name, b->label, b->start_time,
		      b->stop_time, start, stop, b->timeline, run->final);
	if (run->target.kind == PITR_RECOVER_IMMEDIATE) {
		snprintf(end, sizeof(end), "the backup's stop segment %s", b->stop_wal);
	} else if (run->target.kind == PITR_RECOVER_LSN && run->cat.segsize != 0) {
		char seg[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(seg, run->tli, run->target.lsn / run->cat.segsize, run->cat.segsize);
		snprintf(end, sizeof(end), "%s (the target LSN's segment)", seg);
	} else if (tl != NULL && tl->nsegments > 0 && run->cat.segsize != 0) {
		char seg[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(seg, run->tli, tl->last, run->cat.segsize);
		snprintf(end, sizeof(end), "%s (the last archived segment)", seg);
	} else {
		snprintf(end, sizeof(end), "the end of the archive");
	}
	if (b->xlog_file != NULL)
		pitr_log_info("WAL needed: %s to %s on timeline %" PRIu32 " (start to stop segment from "
			      "the backup's xlog tarball, the rest from archive \"%s\")", b->start_wal, end,
			      run->tli, run->o->archive);
	else
		pitr_log_info("WAL needed: %s to %s on timeline %" PRIu32 " (all from archive \"%s\": "
			      "the backup has no xlog tarball)", b->start_wal, end, run->tli, run->o->archive);
}

/* ------------------------------------------------------------------------
 * Extraction
 * ------------------------------------------------------------------------ */

static char *
dup_or_log(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		pitr_log_error("out of memory");
	return d;
}

static char *
join_rest(const char *dir, const char *rest)
{
	char *p = NULL;

	while (*rest == '/')
		rest++;
	if (*rest == '\0')
		return dup_or_log(dir);
	if (asprintf(&p, "%s/%s", dir, rest) < 0) {
		pitr_log_error("out of memory");
		return NULL;
	}
	return strip_slashes(p);
}

/* "pg_tblspc/<oid>" exactly: a tablespace link, remade from tablespace_map. */
static bool
is_tblspc_link(const char *rest)
{
	const char *p = rest;

	if (strncmp(p, "pg_tblspc/", 10) != 0)
		return false;
	p += 10;
	return *p != '\0' && strspn(p, "0123456789") == strlen(p);
}

/* The first directory of `path` that does not exist, or NULL when it
 * all exists (malloc'd). */
static char *
first_missing(const char *path)
{
	char *copy = strdup(path);

	if (copy == NULL)
		return NULL;
	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			struct stat st;

			*p = '\0';
			if (lstat(copy, &st) != 0 && errno == ENOENT)
				return copy;
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return NULL;
}

/* A tablespace root met for the first time: judge and prepare its
 * destination. */
static struct rc_tablespace *
add_tablespace(struct rc_run *run, const char *old)
{
	struct rc_tablespace *ts, *grown;
	const char *new = old;
	bool remapped = false;

	for (size_t i = 0; i < run->nmap; i++)
		if (strcmp(run->map_old[i], old) == 0) {
			new = run->map_new[i];
			remapped = true;
		}
	switch (dir_state(new)) {
	case DIR_MISSING:
	case DIR_EMPTY:
		break;
	case DIR_FULL:
		if (remapped)
			pitr_log_error("--tablespace-map target \"%s\" for tablespace \"%s\" exists and is "
				       "not empty", new, old);
		else
			pitr_log_error("tablespace \"%s\" of backup \"%s\" exists and is not empty: give "
				       "--tablespace-map %s=NEWDIR", old, run->b->name, old);
		return NULL;
	case DIR_NOT_DIR:
		pitr_log_error("tablespace destination \"%s\" exists and is not a directory", new);
		return NULL;
	case DIR_ERROR:
		pitr_log_error("tablespace destination \"%s\": %s", new, strerror(errno));
		return NULL;
	}
	grown = realloc(run->ts, (run->nts + 1) * sizeof(*run->ts));
	if (grown == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	run->ts = grown;
	ts = &run->ts[run->nts];
	memset(ts, 0, sizeof(*ts));
	run->nts++;
	ts->remapped = remapped;
	ts->old = strdup(old);
	ts->new = strdup(new);
	if (ts->old == NULL || ts->new == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	ts->created = first_missing(new);
	if (ts->created != NULL && pitr_fsutil_mkdir_p(new, 0700) != 0)
		return NULL;
	/* libarchive's symlink guard checks every component from "/". */
	ts->real = realpath(new, NULL);
	if (ts->real == NULL) {
		pitr_log_error("tablespace destination \"%s\": %s", new, strerror(errno));
		return NULL;
	}
	pitr_log_info("tablespace \"%s\" goes to \"%s\"", old, new);
	return ts;
}

static char *
map_tablespace(struct rc_run *run, const char *member, const char *path)
{
	char *p = strdup(path);
	struct rc_tablespace *ts = NULL;
	const char *rest = NULL;
	char *out = NULL;

	if (p == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	strip_slashes(p);
	if (strcmp(p, "/") == 0) {
		pitr_log_error("\"%s\": member \"%s\" names no tablespace", run->tarball, member);
		goto out;
	}
	for (size_t i = 0; i < run->nts; i++) {
		size_t n = strlen(run->ts[i].old);

		if (strncmp(p, run->ts[i].old, n) == 0 && (p[n] == '\0' || p[n] == '/')) {
			ts = &run->ts[i];
			rest = p + n;
			break;
		}
	}
	if (ts == NULL) {
		/* pitr-backup-master stores each tablespace's own directory
		 * first: the first member of a new path is its root. */
		ts = add_tablespace(run, p);
		rest = "";
		if (ts == NULL)
			goto out;
	}
	out = join_rest(ts->real, rest);
out:
	free(p);
	return out;
}

static char *
map_data(void *ctx, const char *member, bool *skip)
{
	struct rc_run *run = ctx;
	size_t bl = strlen(run->base);

	*skip = false;
	if (strncmp(member, run->base, bl) == 0 && (member[bl] == '\0' || member[bl] == '/')) {
		const char *rest = member + bl;

		while (*rest == '/')
			rest++;
		if (is_tblspc_link(rest)) {
			*skip = true;
			return NULL;
		}
		return join_rest(run->tmp, rest);
	}
	if (strncmp(member, "tablespaces/", 12) == 0)
		return map_tablespace(run, member, member + 11);
	pitr_log_error("\"%s\": member \"%s\" is neither under \"%s/\" nor under \"tablespaces/\"",
		       run->tarball, member, run->base);
	return NULL;
}

static char *
map_xlog(void *ctx, const char *member, bool *skip)
{
	struct rc_run *run = ctx;
	size_t bl = strlen(run->base);
	const char *rest;

	*skip = false;
	if (strncmp(member, run->base, bl) == 0 && (member[bl] == '\0' || member[bl] == '/')) {
		rest = member + bl;
		while (*rest == '/')
			rest++;
		if (*rest == '\0')
			return dup_or_log(run->tmp);
		if (strncmp(rest, "pg_wal", 6) == 0 &&
		    (rest[6] == '\0' || (rest[6] == '/' && strchr(rest + 7, '/') == NULL) ||
		     strcmp(rest + 6, "/") == 0))
			return join_rest(run->tmp, rest);
	}
	pitr_log_error("\"%s\": member \"%s\" is not a WAL file under \"%s/pg_wal/\"", run->tarball,
		       member, run->base);
	return NULL;
}

/* Read tablespace_map (PostgreSQL's format: "OID PATH" lines, with \ before
 * a \, CR or LF in the path). */
struct ts_line {
	char *oid;
	char *path;
};

static int
parse_spcmap(const char *text, const char *what, struct ts_line **out, size_t *n)
{
	size_t cap = 0;
	char line[PATH_MAX + 64];
	size_t i = 0;
	bool bs = false;

	*out = NULL;
	*n = 0;
	for (const char *p = text;; p++) {
		char ch = *p;

		if (ch == '\0' || (!bs && (ch == '\n' || ch == '\r'))) {
			size_t digits = strspn(line, "0123456789");
			struct ts_line *grown;

			line[i] = '\0';
			if (i > 0) {
				if (digits == 0 || line[digits] != ' ' || line[digits + 1] == '\0') {
					pitr_log_error("\"%s\" is malformed: \"%s\"", what, line);
					return -1;
				}
				if (*n == cap) {
					cap = cap ? cap * 2 : 4;
					grown = realloc(*out, cap * sizeof(**out));
					if (grown == NULL) {
						pitr_log_error("out of memory");
						return -1;
					}
					*out = grown;
				}
				(*out)[*n].oid = strndup(line, digits);
				(*out)[*n].path = strdup(line + digits + 1);
				(*n)++;
				if ((*out)[*n - 1].oid == NULL || (*out)[*n - 1].path == NULL) {
					pitr_log_error("out of memory");
					return -1;
				}
			}
			i = 0;
			if (ch == '\0')
				return 0;
		} else if (!bs && ch == '\\') {
			bs = true;
		} else {
			if (i < sizeof(line) - 1)
				line[i++] = ch;
			bs = false;
		}
	}
}

static void
free_spcmap(struct ts_line *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].oid);
		free(l[i].path);
	}
	free(l);
}

/* Chown what this run wrote itself to the owner the extraction gave the
 * data dir (as root the tarball's owner is restored, so the server's
 * user must be able to read the settings too). */
static int
give_to_owner(struct rc_run *run, const char *path)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(run->tmp, &st) != 0 || lchown(path, st.st_uid, st.st_gid) != 0) {
		pitr_log_error("could not give \"%s\" to the data directory's owner: %s", path,
			       strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_file(struct rc_run *run, const char *name, const char *text, bool replace)
{
	char *path;
	int rc;

	if (pitr_fsutil_publish_buffer(run->tmp, name, text, strlen(text), replace, NULL) != 0)
		return -1;
	path = pitr_fsutil_join(run->tmp, name);
	if (path == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	rc = give_to_owner(run, path);
	free(path);
	return rc;
}

/* Point tablespace_map and pg_tblspc at the new places. */
static int
relink_tablespaces(struct rc_run *run)
{
	char *mpath = pitr_fsutil_join(run->tmp, "tablespace_map");
	char *text = NULL, *out = NULL;
	struct ts_line *lines = NULL;
	size_t nlines = 0, len = 0, used = 0;
	int rc = -1;

	if (mpath == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	text = pitr_fsutil_read_small(mpath, RECOVER_CONF_MAX, &len);
	if (text == NULL && errno != ENOENT)
		goto out;
	if (text != NULL && parse_spcmap(text, mpath, &lines, &nlines) != 0)
		goto out;
	for (size_t i = 0; i < run->nmap; i++) {
		bool found = false;

		for (size_t t = 0; t < run->nts; t++)
			found |= strcmp(run->ts[t].old, run->map_old[i]) == 0;
		if (!found) {
			pitr_log_error("--tablespace-map \"%s\": backup \"%s\" has no tablespace there",
				       run->map_old[i], run->b->name);
			goto out;
		}
	}
	for (size_t t = 0; t < run->nts; t++) {
		bool found = false;

		for (size_t i = 0; i < nlines; i++)
			found |= strcmp(lines[i].path, run->ts[t].old) == 0;
		if (!found) {
			pitr_log_error("the data tarball of backup \"%s\" holds tablespace \"%s\", which its "
				       "tablespace_map does not name", run->b->name, run->ts[t].old);
			goto out;
		}
	}
	if (nlines == 0) {
		rc = 0;
		goto out;
	}
	out = calloc(1, len * 2 + nlines * (PATH_MAX * 2 + 32) + 1);
	if (out == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < nlines; i++) {
		const struct rc_tablespace *ts = NULL;
		char *link;
		int r;

		for (size_t t = 0; t < run->nts; t++)
			if (strcmp(lines[i].path, run->ts[t].old) == 0)
				ts = &run->ts[t];
		if (ts == NULL) {
			pitr_log_error("tablespace_map of backup \"%s\" names \"%s\" (OID %s), which its data "
				       "tarball does not hold", run->b->name, lines[i].path, lines[i].oid);
			goto out;
		}
		used += (size_t)sprintf(out + used, "%s ", lines[i].oid);
		for (const char *p = ts->real; *p != '\0'; p++) {
			if (*p == '\\' || *p == '\n' || *p == '\r')
				out[used++] = '\\';
			out[used++] = *p;
		}
		out[used++] = '\n';
		/* PostgreSQL remakes these links from tablespace_map at start;
		 * making them now keeps the directory whole before that. */
		if (asprintf(&link, "%s/pg_tblspc/%s", run->tmp, lines[i].oid) < 0) {
			pitr_log_error("out of memory");
			goto out;
		}
		r = symlink(ts->real, link);
		if (r != 0)
			pitr_log_error("could not create symbolic link \"%s\": %s", link, strerror(errno));
		else
			r = give_to_owner(run, link);
		free(link);
		if (r != 0)
			goto out;
	}
	out[used] = '\0';
	if (write_file(run, "tablespace_map", out, true) != 0)
		goto out;
	rc = 0;
out:
	free_spcmap(lines, nlines);
	free(text);
	free(out);
	free(mpath);
	return rc;
}

/* A backup of a data dir whose pg_wal was a link elsewhere stores the
 * link; the recovered dir gets its own pg_wal. */
static int
own_pg_wal(struct rc_run *run)
{
	char *wal = pitr_fsutil_join(run->tmp, "pg_wal");
	char *status = pitr_fsutil_join(run->tmp, "pg_wal/archive_status");
	struct stat st;
	int rc = -1;

	if (wal == NULL || status == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	if (lstat(wal, &st) == 0 && S_ISLNK(st.st_mode)) {
		pitr_log_info("the backup's pg_wal was a symbolic link: the recovered directory gets "
			      "its own pg_wal");
		if (unlink(wal) != 0) {
			pitr_log_error("could not remove \"%s\": %s", wal, strerror(errno));
			goto out;
		}
	}
	if (pitr_fsutil_mkdir_p(status, 0700) != 0 || give_to_owner(run, wal) != 0 ||
	    give_to_owner(run, status) != 0)
		goto out;
	rc = 0;
out:
	free(wal);
	free(status);
	return rc;
}

/* The settings keys pitr-recover writes or that would contradict them. */
static bool
conflicting_key(const char *line)
{
	static const char *const keys[] = {
		"restore_command", "recovery_target", "recovery_target_lsn", "recovery_target_name",
		"recovery_target_time", "recovery_target_xid", "recovery_target_inclusive",
		"recovery_target_action", "recovery_target_timeline",
	};
	const char *p = line + strspn(line, " \t");
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.");

	if (n == 0 || (p[n] != '=' && p[n] != ' ' && p[n] != '\t'))
		return false;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && strncasecmp(p, keys[i], n) == 0)
			return true;
	return false;
}

static int
write_settings(struct rc_run *run)
{
	const char *signal = run->o->standby ? "standby.signal" : "recovery.signal";
	const char *other = run->o->standby ? "recovery.signal" : "standby.signal";
	char *apath = pitr_fsutil_join(run->tmp, "postgresql.auto.conf");
	char *old = NULL, *add = NULL, *text = NULL, *p;
	size_t len = 0, used = 0;
	int rc = -1;

	if (apath == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	old = pitr_fsutil_read_small(apath, RECOVER_CONF_MAX, &len);
	if (old == NULL && errno != ENOENT)
		goto out;
	add = pitr_recover_conf_text(run->o, &run->target, run->b->name, run->restore_prog,
				     run->archive);
	if (add == NULL)
		goto out;
	text = malloc(len * 2 + strlen(add) + 64);
	if (text == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	/* Two recovery targets make PostgreSQL refuse to start: settings the
	 * backup carries are kept, commented out. */
	for (char *line = old; line != NULL && *line != '\0'; line = p) {
		p = strchr(line, '\n');
		p = p ? p + 1 : line + strlen(line);
		if (conflicting_key(line))
			used += (size_t)sprintf(text + used, "# pitr-recover: ");
		memcpy(text + used, line, (size_t)(p - line));
		used += (size_t)(p - line);
		if (p[-1] != '\n')
			text[used++] = '\n';
	}
	strcpy(text + used, add);
	if (write_file(run, "postgresql.auto.conf", text, true) != 0)
		goto out;
	free(apath);
	apath = pitr_fsutil_join(run->tmp, "postgresql.conf");
	if (apath == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	if (access(apath, F_OK) != 0 &&
	    write_file(run, "postgresql.conf",
		       "# written by pitr-recover: the backup had no postgresql.conf (it was kept\n"
		       "# outside the data directory, /etc/postgresql on Debian); the recovery\n"
		       "# settings are in postgresql.auto.conf\n", false) != 0)
		goto out;
	free(apath);
	apath = pitr_fsutil_join(run->tmp, "pg_hba.conf");
	if (apath == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	if (access(apath, F_OK) != 0 &&
	    write_file(run, "pg_hba.conf",
		       "# written by pitr-recover: the backup had no pg_hba.conf; local\n"
		       "# connections by the same operating system user only\n"
		       "local all all peer\n", false) != 0)
		goto out;
	free(apath);
	apath = pitr_fsutil_join(run->tmp, other);
	if (apath == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	if (unlink(apath) != 0 && errno != ENOENT) {
		pitr_log_error("could not remove \"%s\": %s", apath, strerror(errno));
		goto out;
	}
	if (write_file(run, signal, "", false) != 0)
		goto out;
	rc = 0;
out:
	free(apath);
	free(old);
	free(add);
	free(text);
	return rc;
}

static char *
data_base_name(const char *data_dir)
{
	char *copy = strdup(data_dir), *slash, *out;

	if (copy == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	strip_slashes(copy);
	slash = strrchr(copy, '/');
	out = strdup(slash ? slash + 1 : copy);
	free(copy);
	if (out == NULL)
		pitr_log_error("out of memory");
	return out;
}

/* Give the dirs between a created tablespace ancestor and the tablespace
 * to the data dir's owner (root made them). */
static int
chown_created(struct rc_run *run, const struct rc_tablespace *ts)
{
	char *copy;
	size_t start;
	int rc = 0;

	if (geteuid() != 0 || ts->created == NULL)
		return 0;
	copy = strdup(ts->new);
	if (copy == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	start = strlen(ts->created);
	for (char *p = copy + start;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;

			*p = '\0';
			if (give_to_owner(run, copy) != 0)
				rc = -1;
			*p = saved;
			if (saved == '\0' || rc != 0)
				break;
		}
	}
	free(copy);
	return rc;
}

static int
assemble(struct rc_run *run)
{
	const struct pitr_catalog_backup *b = run->b;
	char *path = NULL, *version = NULL;
	uint64_t bytes = 0, wbytes = 0;
	size_t len;
	int rc = -1;

	run->base = data_base_name(b->data_dir);
	if (run->base == NULL)
		return -1;
	if (mkdir(run->tmp, 0700) != 0) {
		pitr_log_error("could not create directory \"%s\": %s", run->tmp, strerror(errno));
		return -1;
	}
	run->tmp_created = true;
	path = pitr_catalog_path(pitr_catalog_dir(run->o->backup_dir), b->data_file);
	if (path == NULL)
		goto out;
	run->tarball = path;
	if (pitr_tarread_extract(path, b->codec, map_data, run, PITR_TARREAD_ALLOW_SYMLINKS, &bytes) != 0)
		goto out;
	free(path);
	path = NULL;
	if (b->xlog_file != NULL) {
		path = pitr_catalog_path(pitr_catalog_dir(run->o->backup_dir), b->xlog_file);
		if (path == NULL)
			goto out;
		run->tarball = path;
		if (own_pg_wal(run) != 0 ||
		    pitr_tarread_extract(path, b->codec, map_xlog, run, 0, &wbytes) != 0)
			goto out;
		free(path);
		path = NULL;
	} else if (own_pg_wal(run) != 0) {
		goto out;
	}
	run->tarball = NULL;
	pitr_log_info("extracted %" PRIu64 " bytes of data and %" PRIu64 " bytes of WAL", bytes, wbytes);
	path = pitr_fsutil_join(run->tmp, "backup_label");
	if (path == NULL || access(path, F_OK) != 0) {
		pitr_log_error("the data tarball of backup \"%s\" has no %s/backup_label: not a base "
			       "backup", b->name, run->base);
		goto out;
	}
	free(path);
	path = pitr_fsutil_join(run->tmp, "PG_VERSION");
	if (path == NULL || (version = pitr_fsutil_read_small(path, 64, &len)) == NULL) {
		if (path != NULL && errno == ENOENT)
			pitr_log_error("the data tarball of backup \"%s\" has no %s/PG_VERSION: not a "
				       "data directory", b->name, run->base);
		goto out;
	}
	version[strcspn(version, " \r\n")] = '\0';
	if (relink_tablespaces(run) != 0 || write_settings(run) != 0)
		goto out;
	for (size_t i = 0; i < run->nts; i++)
		if (chown_created(run, &run->ts[i]) != 0)
			goto out;
	if (chmod(run->tmp, 0700) != 0) {
		pitr_log_error("could not chmod \"%s\": %s", run->tmp, strerror(errno));
		goto out;
	}
	if (run->o->start && find_pg_ctl(run, version) != 0)
		goto out;
	if (pitr_tarread_sync(run->tmp) != 0)
		goto out;
	for (size_t i = 0; i < run->nts; i++) {
		char *parent = strdup(run->ts[i].real), *slash;

		if (parent == NULL) {
			pitr_log_error("out of memory");
			goto out;
		}
		slash = strrchr(parent, '/');
		if (slash != NULL)
			slash[slash == parent ? 1 : 0] = '\0';
		if (pitr_tarread_sync(run->ts[i].real) != 0 || pitr_fsutil_fsync_dir(parent) != 0) {
			free(parent);
			goto out;
		}
		free(parent);
	}
	if (rename(run->tmp, run->final) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", run->tmp, run->final,
			       strerror(errno));
		goto out;
	}
	run->tmp_created = false;
	run->renamed = true;
	if (pitr_fsutil_fsync_dir(run->parent) != 0)
		goto out;
	rc = 0;
out:
	free(path);
	free(version);
	return rc;
}

/* ------------------------------------------------------------------------
 * --start: run the server and watch it reach the target
 * ------------------------------------------------------------------------ */

struct watch {
	char *log_path;
	long offset;
	char partial[4096];
	size_t npartial;
	char stop_line[1024];      /* "recovery stopping ..." */
	char redo_line[1024];      /* "redo done at ..." */
	char last_xact[1024];      /* "last completed transaction was at log time ..." */
	char fatal[1024];          /* the last FATAL/PANIC about the server itself */
	char last_line[1024];
	unsigned new_tli;          /* "selected new timeline ID: N" */
	bool shut_down;            /* "database system is shut down" */
	bool paused;               /* "recovery has paused" */
	bool promoted;             /* "database system is ready to accept connections" */
};

static void
keep_message(char *dst, size_t size, const char *line)
{
	const char *m = strstr(line, ":  ");

	snprintf(dst, size, "%.1000s", m != NULL ? m + 3 : line);
}

static void
watch_line(struct watch *w, const char *line)
{
	const char *p;

	if (line[0] == '\0')
		return;
	snprintf(w->last_line, sizeof(w->last_line), "%.1000s", line);
	if (strstr(line, "recovery stopping ") != NULL)
		keep_message(w->stop_line, sizeof(w->stop_line), line);
	else if (strstr(line, "redo done at ") != NULL)
		keep_message(w->redo_line, sizeof(w->redo_line), line);
	else if (strstr(line, "last completed transaction was at log time") != NULL)
		keep_message(w->last_xact, sizeof(w->last_xact), line);
	else if ((p = strstr(line, "selected new timeline ID: ")) != NULL)
		w->new_tli = (unsigned)strtoul(p + 26, NULL, 10);
	else if (strstr(line, "database system is shut down") != NULL)
		w->shut_down = true;
	else if (strstr(line, "recovery has paused") != NULL)
		w->paused = true;
	else if (strstr(line, "database system is ready to accept connections") != NULL)
		w->promoted = true;
	/* Connection attempts while the server starts are its clients'
	 * business, not a failure of the server. */
	if ((strstr(line, "FATAL:  ") != NULL || strstr(line, "PANIC:  ") != NULL) &&
	    strstr(line, "the database system is starting up") == NULL &&
	    strstr(line, "the database system is not yet accepting connections") == NULL &&
	    strstr(line, "the database system is shutting down") == NULL)
		keep_message(w->fatal, sizeof(w->fatal), line);
}

/* Read what the server logged since the last call. */
static void
watch_read(struct watch *w)
{
	FILE *f = fopen(w->log_path, "r");
	char buf[8192];
	size_t n;

	if (f == NULL)
		return;
	if (fseek(f, w->offset, SEEK_SET) != 0) {
		fclose(f);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		w->offset += (long)n;
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				w->partial[w->npartial] = '\0';
				watch_line(w, w->partial);
				w->npartial = 0;
			} else if (w->npartial < sizeof(w->partial) - 1) {
				w->partial[w->npartial++] = buf[i];
			}
		}
	}
	fclose(f);
}

/* postmaster.pid: pid, data dir, start time, port, socket dir, listen
 * address, shared memory key, status. */
struct pm_state {
	bool present;
	bool alive;
	char port[16];
	char host[PATH_MAX];
	char status[16];
};

static void
read_pidfile(const char *dir, struct pm_state *pm)
{
	char *path = pitr_fsutil_join(dir, "postmaster.pid");
	char *text, *line, *save = NULL;
	size_t len;
	int n = 0;

	memset(pm, 0, sizeof(*pm));
	if (path == NULL)
		return;
	text = pitr_fsutil_read_small(path, 65536, &len);
	free(path);
	if (text == NULL)
		return;
	pm->present = true;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		n++;
		if (n == 1) {
			long pid = strtol(line, NULL, 10);

			pm->alive = pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
		} else if (n == 4) {
			snprintf(pm->port, sizeof(pm->port), "%s", line);
		} else if (n == 5 && line[0] != '\0' && line[0] != ' ') {
			snprintf(pm->host, sizeof(pm->host), "%s", line);
		} else if (n == 6 && pm->host[0] == '\0') {
			snprintf(pm->host, sizeof(pm->host), "%s",
				 strcmp(line, "*") == 0 || line[0] == '\0' ? "127.0.0.1" : line);
		} else if (n == 8) {
			snprintf(pm->status, sizeof(pm->status), "%.*s", (int)strcspn(line, " "), line);
		}
	}
	free(text);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

enum outcome { OUT_WAITING, OUT_PROMOTED, OUT_PAUSED, OUT_STANDBY, OUT_SHUT_DOWN };

/* Ask the running server where it is.  Returns the outcome, or
 * OUT_WAITING; *broken set when libpq cannot be used (logged once). */
static enum outcome
ask_server(struct rc_run *run, const struct pm_state *pm, bool *broken, char *replay, size_t size)
{
	struct pitr_pgconn_params params = { "postgres", pm->host, pm->port, NULL };
	const char *keys[] = { "host", "port", "dbname", "connect_timeout", NULL };
	const char *vals[] = { pm->host, pm->port, "postgres", "5", NULL };
	struct pitr_pgconn *c;
	char *inrec = NULL, *paused = NULL, *lsn = NULL, *ver = NULL;
	enum outcome out = OUT_WAITING;

	if (PQpingParams(keys, vals, 0) != PQPING_OK)
		return OUT_WAITING;
	if (!run->probed) {
		/* A first session without pgconn's error line: not being able
		 * to log in is no failure here, the server log still tells. */
		PGconn *pc = PQconnectdbParams(keys, vals, 0);

		run->probed = true;
		if (PQstatus(pc) != CONNECTION_OK) {
			const char *msg = PQerrorMessage(pc);

			pitr_log_info("cannot query the server (%.*s): watching its log instead",
				      (int)strcspn(msg, "\n"), msg);
			PQfinish(pc);
			*broken = true;
			return OUT_WAITING;
		}
		PQfinish(pc);
	}
	c = pitr_pgconn_connect(&params);
	if (c == NULL) {
		*broken = true;
		return OUT_WAITING;
	}
	if (pitr_pgconn_query_value(c, "SELECT pg_is_in_recovery()", &inrec) != 0 ||
	    pitr_pgconn_show(c, "server_version_num", &ver) != 0) {
		*broken = true;
		goto out;
	}
	if (strcmp(inrec, "f") == 0) {
		out = OUT_PROMOTED;
	} else if (pitr_pgconn_query_value(c, atoi(ver) >= 140000 ?
					   "SELECT pg_get_wal_replay_pause_state() = 'paused'" :
					   "SELECT pg_is_wal_replay_paused()", &paused) != 0) {
		*broken = true;
		goto out;
	} else if (strcmp(paused, "t") == 0) {
		out = OUT_PAUSED;
	} else if (run->o->standby && run->target.kind == PITR_RECOVER_END) {
		out = OUT_STANDBY;
	}
	if (out != OUT_WAITING &&
	    pitr_pgconn_query_value(c, "SELECT coalesce(pg_last_wal_replay_lsn()::text, 'none') || "
				    "', last replayed transaction committed at ' || "
				    "coalesce(pg_last_xact_replay_timestamp()::text, 'none')", &lsn) == 0)
		snprintf(replay, size, "last replayed WAL position %s", lsn);
out:
	free(inrec);
	free(paused);
	free(lsn);
	free(ver);
	pitr_pgconn_close(c);
	return out;
}

static int
start_and_wait(struct rc_run *run)
{
	int limit = run->o->wait > 0 ? run->o->wait : PITR_RECOVER_WAIT_DEFAULT;
	struct watch w;
	struct pm_state pm;
	char replay[512] = "";
	bool broken = false, seen_pid = false;
	enum outcome out = OUT_WAITING;
	struct timespec t0, now;
	int rc = -1;

	memset(&w, 0, sizeof(w));
	w.log_path = pitr_fsutil_join(run->final, RECOVER_LOG_NAME);
	if (w.log_path == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	{
		/* -W: pg_ctl's own wait gives up after its timeout while a long
		 * replay goes on, and counts a server that stops at the target
		 * (recovery_target_action shutdown) as a failed start. */
		char *argv[] = { run->pg_ctl, "start", "-D", run->final, "-l", w.log_path, "-W", NULL };

		pitr_log_info("starting the server: %s start -D %s -l %s -W", run->pg_ctl, run->final,
			      w.log_path);
		if (pitr_spawn_run(argv) != 0)
			goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		double elapsed;

		watch_read(&w);
		read_pidfile(run->final, &pm);
		seen_pid |= pm.present;
		if (pm.present && pm.alive) {
			if (!broken && strcmp(pm.status, "ready") == 0)
				out = ask_server(run, &pm, &broken, replay, sizeof(replay));
			/* Without a session (no role named like this user, say)
			 * the server log tells. */
			else if (broken && w.promoted)
				out = OUT_PROMOTED;
			else if (broken && w.paused)
				out = OUT_PAUSED;
			else if (broken && strcmp(pm.status, "ready") == 0 && run->o->standby &&
				 run->target.kind == PITR_RECOVER_END)
				out = OUT_STANDBY;
			else if (strcmp(pm.status, "standby") == 0 && run->o->standby &&
				 run->target.kind == PITR_RECOVER_END)
				out = OUT_STANDBY;
			if (out != OUT_WAITING)
				break;
		} else if (seen_pid || w.fatal[0] != '\0' || w.shut_down) {
			/* (A server that stops at once, at a target reached with
			 * the backup, may come and go between two looks.) */
			/* The postmaster is gone: at the target, or failed. */
			watch_read(&w);
			if (w.stop_line[0] != '\0' && w.shut_down) {
				out = OUT_SHUT_DOWN;
				break;
			}
			pitr_log_error("the server stopped before reaching the target: %s (see \"%s\")",
				       w.fatal[0] ? w.fatal : w.last_line[0] ? w.last_line : "no reason logged",
				       w.log_path);
			goto out;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (!seen_pid && elapsed > RECOVER_NO_PID_GRACE) {
			pitr_log_error("the server did not start within %d s (see \"%s\")",
				       RECOVER_NO_PID_GRACE, w.log_path);
			goto out;
		}
		if (elapsed > limit) {
			pitr_log_error("the server did not reach the target within %d s; it is still "
				       "running (see \"%s\")", limit, w.log_path);
			goto out;
		}
		sleep_ms(RECOVER_POLL_MS);
	}
	watch_read(&w);
	if (w.stop_line[0] != '\0')
		pitr_log_info("recovery stopped: %s", w.stop_line);
	else if (w.redo_line[0] != '\0')
		pitr_log_info("recovery replayed all the archive had: %s", w.redo_line);
	if (w.last_xact[0] != '\0')
		pitr_log_info("%s", w.last_xact);
	if (replay[0] != '\0')
		pitr_log_info("%s", replay);
	switch (out) {
	case OUT_PROMOTED:
		if (w.new_tli != 0)
			pitr_log_info("the server is promoted, on timeline %u, and accepts writes on port %s",
				      w.new_tli, pm.port);
		else
			pitr_log_info("the server is promoted and accepts writes on port %s", pm.port);
		break;
	case OUT_PAUSED:
		pitr_log_info("the server is paused at the target, read-only, on port %s: "
			      "SELECT pg_wal_replay_resume() promotes it", pm.port);
		break;
	case OUT_STANDBY:
		pitr_log_info("the server runs as a standby of the archive on port %s", pm.port);
		break;
	case OUT_SHUT_DOWN:
		pitr_log_info("the server shut down at the target (%s)",
			      run->o->target_action != NULL && strcmp(run->o->target_action, "shutdown") == 0 ?
			      "recovery_target_action shutdown" : "pause without hot_standby stops the server");
		break;
	case OUT_WAITING:
		break;
	}
	rc = 0;
out:
	free(w.log_path);
	return rc;
}

/* ------------------------------------------------------------------------
 * The command
 * ------------------------------------------------------------------------ */

static int
check_options(const struct pitr_recover_opts *o)
{
	if (o->backup_dir == NULL || o->archive == NULL || o->target_dir == NULL) {
		pitr_log_error("missing %s: --backup-dir, --archive and --target-dir are required",
			       o->backup_dir == NULL ? "--backup-dir" : o->archive == NULL ? "--archive" :
			       "--target-dir");
		return -1;
	}
	if (o->target_action != NULL &&
	    pitr_opts_check_choice("target-action", o->target_action, PITR_RECOVER_TARGET_ACTIONS) < 0)
		return -1;
	if (o->start && geteuid() == 0) {
		pitr_log_error("--start: PostgreSQL does not run as root; run pitr-recover as the user "
			       "the server runs as (runuser -u postgres -- pitr-recover ...)");
		return -1;
	}
	return 0;
}

int
pitr_cmd_recover(const struct pitr_recover_opts *o)
{
	struct rc_run run = { .o = o };
	uint32_t tli_wanted;
	char missing[PITR_WAL_NAME_MAX];
	uint64_t end = 0;
	int r, rc = -1;

	if (check_options(o) != 0 || pitr_recover_parse_target(o, &run.target) != 0 ||
	    resolve_timeline(&run, &tli_wanted) != 0 || parse_tablespace_map(&run) != 0 ||
	    check_target_dir(&run) != 0 || resolve_archive(&run) != 0 || find_restore_program(&run) != 0)
		goto out;
	if (o->start && find_pg_ctl(&run, NULL) < 0)
		goto out;
	if (pitr_catalog_load(o->backup_dir, o->archive, &run.cat) != 0)
		goto out;
	for (size_t i = 0; i < run.cat.nproblems; i++)
		pitr_log_verbose("catalog: %s", run.cat.problems[i]);
	run.b = pitr_recover_choose(&run.cat, pitr_catalog_dir(o->backup_dir), o->backup, &run.target, tli_wanted);
	if (run.b == NULL)
		goto out;
	if (o->target_timeline != NULL && strcmp(o->target_timeline, "current") == 0)
		run.tli = run.b->timeline;
	else if (tli_wanted != 0)
		run.tli = tli_wanted;
	else
		run.tli = pitr_catalog_latest_timeline(&run.cat, run.b->timeline);
	if (run.cat.segsize == 0)
		run.cat.segsize = run.b->segsize;
	if (run.target.kind == PITR_RECOVER_LSN)
		end = run.target.lsn;
	else if (run.target.kind == PITR_RECOVER_IMMEDIATE)
		end = run.b->stop_lsn;
	log_plan(&run);
	r = pitr_catalog_check_path(&run.cat, run.b, run.tli, end, missing);
	if (r < 0)
		goto out;
	if (r > 0) {
		char what[256];

		target_text(&run.target, what, sizeof(what));
		pitr_log_error("archive \"%s\" lacks WAL segment %s, which recovery from backup \"%s\" "
			       "to %s needs: nothing written", o->archive, missing, run.b->name, what);
		goto out;
	}
	if (check_digests(&run) != 0)
		goto out;
	if (assemble(&run) != 0)
		goto out;
	pitr_log_info("data directory \"%s\" is ready for recovery (%s)", run.final,
		      o->standby ? "standby.signal" : "recovery.signal");
	if (o->start && start_and_wait(&run) != 0)
		goto out;
	rc = 0;
out:
	run_cleanup(&run, rc != 0);
	return rc;
}
