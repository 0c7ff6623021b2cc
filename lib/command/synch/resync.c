/*
 * resync.c - pitr-synch's outputs copied through the real rsync program
 * (delta.h): with -r every output, an existing stopped data directory
 * brought up to date by sending only what differs; an rsync daemon output
 * always (a daemon speaks only rsync's protocol).
 *
 * Each output goes by itself, as the streamed ones do: checked before the
 * plan is confirmed (stopped, the source's system, a data directory or an
 * interrupted copy or nothing), marked in progress with pg_control
 * removed before the backup starts, its trees updated while the backup
 * runs, then after pg_backup_stop its configuration (backup_label,
 * tablespace_map, the copy's settings), the WAL from the start segment to
 * the stop segment with the timeline history files, and pg_control, the
 * source's copy taken before the stop (a standby's copy ends at the
 * minRecoveryPoint it holds) and written last.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"

/* The output's own configuration that --keep-conf keeps. */
static const char *const keep_conf[] = { "postgresql.conf", "pg_hba.conf", "pg_ident.conf" };

/* A postmaster.pid found at a local output names a live process. */
static bool
pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The source's postmaster pid (postmaster.pid's first line); -1 unknown. */
static long
source_pid(const struct synch_run *run)
{
	char *path = pitr_fsutil_join(run->data_dir, "postmaster.pid"), *text;
	size_t len;
	long pid = 0;

	if (path == NULL)
		return -1;
	if ((text = pitr_fsutil_read_small(path, 64 * 1024, &len)) != NULL) {
		pid = strtol(text, NULL, 10);
		free(text);
	}
	free(path);
	return pid > 0 ? pid : -1;
}

/* A server that may run at the output: refused (a local live one always,
 * a remote one's pid file unless --stale-pid-file says its server is
 * down, as that cannot be checked from here; one naming the source's own
 * postmaster always: an ssh output that is the source itself, whose
 * pg_wal -r would empty).  --force is not enough: it means another
 * system's data directory, not a server that may be running. */
static int
check_running(const struct synch_run *run, const struct synch_target *t,
	      const struct synch_probe *p)
{
	if (!p->pid_file)
		return 0;
	if (t->out.kind == SYNCH_OUT_LOCAL && pid_alive(p->pid)) {
		pitr_log_error("output \"%s\": a server is running there (postmaster.pid, pid %ld): "
			       "stop it first", t->out.label, p->pid);
		return -1;
	}
	if (t->out.kind != SYNCH_OUT_LOCAL && p->pid == source_pid(run)) {
		pitr_log_error("output \"%s\" holds a postmaster.pid naming the source's own postmaster "
			       "(pid %ld): it is the source itself; nothing copied", t->out.label, p->pid);
		return -1;
	}
	if (t->out.kind != SYNCH_OUT_LOCAL && !run->o->stale_pid_file) {
		pitr_log_error("output \"%s\" holds postmaster.pid: a server may be running there; "
			       "stop it (or give --stale-pid-file if it is known to be down)",
			       t->out.label);
		return -1;
	}
	return 0;
}

static int
check_one(const struct synch_run *run, const struct synch_target *t)
{
	struct synch_probe p;

	if (pitr_synch_delta_probe(&run->denv, &t->out, t->out.path, &p) != 0 ||
	    check_running(run, t, &p) != 0)
		return -1;
	if (!p.exists || p.empty)
		return 0;
	if (!p.datadir && !p.in_progress) {
		pitr_log_error("output \"%s\" is not empty and holds no data directory nor an "
			       "interrupted pitr-synch copy: nothing copied", t->out.label);
		return -1;
	}
	if (!run->o->rsync && !p.in_progress) {
		pitr_log_error("output \"%s\" holds a data directory: re-sync it with -r", t->out.label);
		return -1;
	}
	if (p.sysid != run->sysid && !run->o->force) {
		pitr_log_error("output \"%s\" holds a data directory of system %" PRIu64 ", not the "
			       "source's %" PRIu64 ": give --force to replace it", t->out.label,
			       p.sysid, run->sysid);
		return -1;
	}
	if (p.sysid != run->sysid)
		pitr_log_info("output \"%s\": system %" PRIu64 " replaced by %" PRIu64 " (--force)",
			      t->out.label, p.sysid, run->sysid);
	return 0;
}

/* A daemon does not say where its module is on its host, so the absolute
 * place a tablespace_map needs cannot be known there. */
static int
check_daemon_tablespaces(const struct synch_run *run, const struct synch_target *t)
{
	if (t->out.kind != SYNCH_OUT_RSYNCD || run->nts == 0)
		return 0;
	pitr_log_error("output \"%s\": an rsync daemon output cannot take the source's %zu "
		       "tablespace%s (the daemon does not tell where its module lies, which "
		       "tablespace_map needs): copy over ssh instead", t->out.label, run->nts,
		       run->nts == 1 ? "" : "s");
	return -1;
}

/*
 * The source's tablespace version directory, "PG_<major>_<catversion>"
 * (PostgreSQL's TABLESPACE_VERSION_DIRECTORY): the major from PG_VERSION,
 * the catalog version from pg_control, where catalog_version_no follows
 * the system identifier and pg_control_version in every version.  It is
 * what -r syncs of each tablespace, as pg_basebackup lays it out.
 */
static int
version_dir(struct synch_run *run)
{
	char *ver = pitr_fsutil_join(run->data_dir, "PG_VERSION"), *text = NULL;
	char *ctl = pitr_fsutil_join(run->data_dir, "global/pg_control"), *buf = NULL;
	size_t len, clen;
	uint32_t cat;
	int rc = -1;

	if (ver == NULL || ctl == NULL || (text = pitr_fsutil_read_small(ver, 4096, &len)) == NULL ||
	    (buf = pitr_fsutil_read_small(ctl, 1 << 20, &clen)) == NULL)
		goto out;
	text[strcspn(text, "\r\n")] = '\0';
	if (clen < 16 || text[0] == '\0' || strspn(text, "0123456789") != strlen(text)) {
		pitr_log_error("\"%s\" or \"%s\" is not PostgreSQL's", ver, ctl);
		goto out;
	}
	memcpy(&cat, buf + 12, sizeof(cat));
	snprintf(run->ts_vdir, sizeof(run->ts_vdir), "PG_%s_%" PRIu32, text, cat);
	rc = 0;
out:
	free(ver);
	free(ctl);
	free(text);
	free(buf);
	return rc;
}

/*
 * An in-place tablespace (allow_in_place_tablespaces: pg_tblspc/OID a
 * directory, not a link; the session lists only those with an absolute
 * location) would be hidden from rsync with pg_tblspc's links and so
 * silently left out of the copy: refused, as the receiver refuses it in
 * the stream.
 */
static int
check_in_place(const struct synch_run *run)
{
	char *dir = pitr_fsutil_join(run->data_dir, "pg_tblspc"), *path = NULL;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	if (dir == NULL)
		return -1;
	if ((d = opendir(dir)) == NULL) {
		free(dir);
		return 0;    /* none: PostgreSQL makes pg_tblspc, the copy does not need it */
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((path = pitr_fsutil_join(dir, de->d_name)) == NULL) {
			rc = -1;
			break;
		}
		if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode)) {
			pitr_log_error("the source's tablespace \"%s\" is in place (a directory, not a "
				       "link): -r copies only tablespaces with a location of their own",
				       path);
			rc = -1;
		}
		free(path);
	}
	closedir(d);
	free(dir);
	return rc;
}

/*
 * A tablespace place (local or remote) that -r would bring to the source's
 * content must be missing, empty, or hold only the source's own version
 * directory (PG_15_202209061) and the in-progress mark: another cluster's
 * or major version's (PG_14_...) is no copy of this source's, and a --map
 * onto an unrelated directory is refused.
 */
static int
check_places(const struct synch_run *run, const struct synch_target *t)
{
	for (size_t k = 0; k < run->nts; k++) {
		const char *bad = NULL;
		char **names;
		size_t n;
		bool exists;

		if (pitr_synch_delta_list(&run->denv, &t->out, t->ts_dirs[k], &exists, &names, &n) != 0)
			return -1;
		for (size_t i = 0; bad == NULL && i < n; i++)
			if (strcmp(names[i], run->ts_vdir) != 0 && strcmp(names[i], SYNCH_IN_PROGRESS) != 0)
				bad = names[i];
		if (bad != NULL)
			pitr_log_error("output \"%s\": tablespace place \"%s\" holds \"%s\", which is not "
				       "the source's tablespace directory %s: nothing copied", t->out.label,
				       t->ts_dirs[k], bad, run->ts_vdir);
		pitr_synch_delta_list_free(names, n);
		if (bad != NULL)
			return -1;
	}
	return 0;
}

static size_t
delta_targets(const struct synch_run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->nt; i++)
		n += run->t[i].delta;
	return n;
}

int
synch_rsync_check(struct synch_run *run)
{
	if (delta_targets(run) > 0 && (check_in_place(run) != 0 ||
					(run->nts > 0 && version_dir(run) != 0)))
		return -1;
	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (t->delta && (check_daemon_tablespaces(run, t) != 0 || check_one(run, t) != 0 ||
				 check_places(run, t) != 0))
			return -1;
	}
	return 0;
}

/* `out` with its data dir's `path` in place of its own: files sent into
 * a directory below the data dir. */
static struct synch_output
below(const struct synch_output *out, char *path)
{
	struct synch_output o = *out;

	o.path = path;
	return o;
}

static bool
live(const struct synch_target *t)
{
	return t->delta && !t->failed;
}

/* The error line (naming the output) is the delta call's; this one says
 * what is left there. */
static void
failed(struct synch_target *t)
{
	t->failed = true;
	pitr_log_info("output \"%s\" failed: it holds an interrupted copy (no global/pg_control), "
		      "which the same pitr-synch run again completes", t->out.label);
}

int
synch_rsync_begin(struct synch_run *run)
{
	int rc = 0;

	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (!t->delta)
			continue;
		if (pitr_synch_delta_begin(&run->denv, &t->out, run->sysid) != 0) {
			t->failed = true;
			rc = -1;
		}
	}
	return rc;
}

/* The data directory and each tablespace at target `t`. */
static int
trees(struct synch_run *run, struct synch_target *t, uint64_t *sent)
{
	size_t nkeep = run->o->keep_conf ? sizeof(keep_conf) / sizeof(keep_conf[0]) : 0;
	uint64_t part = 0;

	if (pitr_synch_delta_tree(&run->denv, &t->out, run->data_dir, t->out.path, true, keep_conf,
				  nkeep, &part) != 0)
		return -1;
	*sent += part;
	for (size_t k = 0; k < run->nts; k++) {
		if (pitr_synch_delta_tablespace(&run->denv, &t->out, run->ts[k].location,
						t->ts_dirs[k], run->ts_vdir, &part) != 0)
			return -1;
		*sent += part;
	}
	return 0;
}

/* The source's pg_control, staged now (before the stop) and sent last.
 * The staging dir stays flat (tmpfile.h's sweep removes files only). */
static int
stage_control(struct synch_run *run)
{
	char *src = pitr_fsutil_join(run->data_dir, "global/pg_control"), *buf = NULL;
	size_t len;
	int rc = -1;

	if (src == NULL)
		return -1;
	if ((buf = pitr_fsutil_read_small(src, 1 << 20, &len)) == NULL) {
		if (errno == ENOENT)
			pitr_log_error("could not read \"%s\": %s", src, strerror(ENOENT));
	} else {
		rc = pitr_fsutil_publish_buffer(run->rstage.path, "pg_control", buf, len, true, NULL);
	}
	free(src);
	free(buf);
	return rc;
}

int
synch_rsync_data(struct synch_run *run)
{
	int rc = 0;

	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];
		uint64_t sent = 0;

		if (!live(t))
			continue;
		if (trees(run, t, &sent) != 0) {
			failed(t);
			rc = -1;
			continue;
		}
		pitr_log_info("output \"%s\": data directory%s brought up to date, %" PRIu64
			      " bytes sent", t->out.label, run->nts > 0 ? " and tablespaces" : "", sent);
	}
	if (delta_targets(run) == 0)
		return 0;
	if (pitr_tmp_mkdir(&run->rstage, pitr_fsutil_tmpdir(run->o->temp_dir), "synch-stage") != 0 ||
	    stage_control(run) != 0)
		return -1;
	return rc;
}

/* Append a malloc'd `name` (NULL: a failed allocation) to the vector. */
static int
push(char ***names, size_t *n, size_t *cap, char *name)
{
	if (name == NULL)
		return -1;
	if (*n >= *cap) {
		size_t c = *cap == 0 ? 16 : *cap * 2;
		char **grown = pitr_xreallocarray(*names, c, sizeof(char *));

		if (grown == NULL) {
			free(name);
			return -1;
		}
		*names = grown;
		*cap = c;
	}
	(*names)[(*n)++] = name;
	return 0;
}

/* Every timeline history file of the source's pg_wal: a later promotion
 * of the copy needs its ancestry. */
static int
history_names(const struct synch_run *run, char ***names, size_t *n, size_t *cap)
{
	char *dir = pitr_fsutil_join(run->data_dir, "pg_wal");
	struct pitr_wal_name wn;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (dir == NULL)
		return -1;
	if ((d = opendir(dir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (pitr_wal_parse(de->d_name, &wn) == PITR_WAL_HISTORY)
			rc = push(names, n, cap, pitr_xasprintf("pg_wal/%s", de->d_name));
	closedir(d);
	free(dir);
	return rc;
}

/* The WAL the copy needs: "pg_wal/NAME" from the start segment to the
 * stop segment (the run's replication slot keeps them in the source's
 * pg_wal), and the history files. */
static int
wal_names(const struct synch_run *run, char ***names, size_t *n)
{
	uint32_t segsize = (uint32_t)run->segsize;
	struct pitr_wal_name start;
	size_t cap = 0;
	uint64_t last;

	*names = NULL;
	*n = 0;
	if (synch_wal_range(run, &start, &last) != 0)
		return -1;
	for (uint64_t segno = pitr_wal_segno(&start, segsize); segno <= last; segno++) {
		char name[PITR_WAL_NAME_MAX];

		pitr_wal_format_segment(name, start.tli, segno, segsize);
		if (push(names, n, &cap, pitr_xasprintf("pg_wal/%s", name)) != 0)
			return -1;
	}
	return history_names(run, names, n, &cap);
}

static void
names_free(char **names, size_t n)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		free(names[i]);
	free(names);
}

/* Stage member `m` flat in `dir` and send it: those in a directory
 * ("conf.d/x") one by one, from a file of that base name. */
static int
send_member(struct synch_run *run, size_t i, const char *dir, const struct synch_member *m,
	    bool *batch)
{
	const char *slash = strrchr(m->name, '/'), *base = slash != NULL ? slash + 1 : m->name;
	char *sub;
	int rc;

	*batch = slash == NULL;
	if (pitr_fsutil_publish_buffer(dir, base, m->text, strlen(m->text), true, NULL) != 0)
		return -1;
	if (*batch)
		return 0;
	if ((sub = pitr_xasprintf("%s/%.*s", run->t[i].out.path, (int)(slash - m->name), m->name)) == NULL)
		return -1;
	{
		struct synch_output o = below(&run->t[i].out, sub);

		rc = pitr_synch_delta_files(&run->denv, &o, dir, &base, 1);
	}
	free(sub);
	return rc;
}

/* A signal file the configuration placed replaces the source's other one,
 * which the tree brought (as the receiver does): a copy of a standby made
 * a warm standby must lose its standby.signal. */
static int
drop_other_signal(struct synch_run *run, size_t i, const char *placed)
{
	const char *other = strcmp(placed, "standby.signal") == 0 ? "recovery.signal" :
			    strcmp(placed, "recovery.signal") == 0 ? "standby.signal" : NULL;

	return other != NULL ? pitr_synch_delta_remove(&run->denv, &run->t[i].out, other) : 0;
}

/* Target `i`'s configuration files, from a flat staging dir of their own
 * (tablespace_map differs per output). */
static int
send_config(struct synch_run *run, size_t i)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	struct synch_member *m;
	const char **names = NULL;
	size_t n, nn = 0;
	bool batch;
	int rc = -1;

	if ((m = synch_config_members(run, i, &n)) == NULL)
		return -1;
	if ((names = pitr_xcalloc(n + 1, sizeof(*names))) == NULL ||
	    pitr_tmp_mkdir(&stage, pitr_fsutil_tmpdir(run->o->temp_dir), "synch-config") != 0)
		goto out;
	for (size_t k = 0; k < n; k++) {
		if (send_member(run, i, stage.path, &m[k], &batch) != 0)
			goto out;
		if (batch)
			names[nn++] = m[k].name;
	}
	rc = pitr_synch_delta_files(&run->denv, &run->t[i].out, stage.path, names, nn);
	for (size_t k = 0; rc == 0 && k < n; k++)
		rc = drop_other_signal(run, i, m[k].name);
out:
	if (stage.path != NULL && pitr_fsutil_remove_tree(stage.path) != 0)
		rc = -1;
	pitr_tmp_discard(&stage);
	free(names);
	synch_config_free(m, n);
	return rc;
}

/* pg_tblspc/OID, links to each tablespace's place at target `i` (as the
 * receiver makes them; the server would also make them from
 * tablespace_map), from a flat staging dir of links sent into pg_tblspc. */
static int
send_links(struct synch_run *run, size_t i)
{
	struct pitr_tmp stage = { .fd = -1, .slot = -1 };
	const char **names;
	char *sub = NULL;
	int rc = -1;

	if (run->nts == 0)
		return 0;
	if ((names = pitr_xcalloc(run->nts, sizeof(*names))) == NULL ||
	    (sub = pitr_fsutil_join(run->t[i].out.path, "pg_tblspc")) == NULL ||
	    pitr_tmp_mkdir(&stage, pitr_fsutil_tmpdir(run->o->temp_dir), "synch-links") != 0)
		goto out;
	for (size_t k = 0; k < run->nts; k++) {
		char *path = pitr_fsutil_join(stage.path, run->ts[k].oid);

		names[k] = run->ts[k].oid;
		if (path == NULL || symlink(run->t[i].ts_dirs[k], path) != 0) {
			if (path != NULL)
				pitr_log_error("could not create the link \"%s\": %s", path, strerror(errno));
			free(path);
			goto out;
		}
		free(path);
	}
	{
		struct synch_output o = below(&run->t[i].out, sub);

		rc = pitr_synch_delta_files(&run->denv, &o, stage.path, names, run->nts);
	}
out:
	if (stage.path != NULL && pitr_fsutil_remove_tree(stage.path) != 0)
		rc = -1;
	pitr_tmp_discard(&stage);
	free(names);
	free(sub);
	return rc;
}

int
synch_rsync_finish(struct synch_run *run)
{
	char **wal = NULL, *control;
	size_t nwal = 0;
	int rc;

	if (delta_targets(run) == 0)
		return 0;
	if (run->rstage.path == NULL || (control = pitr_fsutil_join(run->rstage.path, "pg_control")) == NULL)
		return -1;
	rc = wal_names(run, &wal, &nwal);

	for (size_t i = 0; rc == 0 && i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (!live(t))
			continue;
		if (send_config(run, i) != 0 || send_links(run, i) != 0 ||
		    pitr_synch_delta_files(&run->denv, &t->out, run->data_dir, (const char *const *)wal,
					   nwal) != 0 ||
		    pitr_synch_delta_finish(&run->denv, &t->out, control) != 0) {
			failed(t);
			continue;
		}
		pitr_log_info("output \"%s\": copy complete", t->out.label);
	}
	names_free(wal, nwal);
	free(control);
	for (size_t i = 0; i < run->nt; i++)
		if (run->t[i].delta && run->t[i].failed)
			rc = -1;
	return rc;
}

void
synch_rsync_free(struct synch_run *run)
{
	if (run->rstage.path != NULL && pitr_fsutil_remove_tree(run->rstage.path) != 0)
		pitr_log_error("could not remove the staging directory \"%s\"", run->rstage.path);
	pitr_tmp_discard(&run->rstage);
}
