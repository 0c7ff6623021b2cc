/*
 * synch.c - pitr-synch's run: the options checked, one libpq session to
 * the source (its identity, data directory and tablespaces), the plan
 * shown and confirmed, then between pg_backup_start and pg_backup_stop
 * the copy to every output at once (stream.c), with a temporary physical
 * replication slot keeping in pg_wal, until the session ends, the WAL the
 * copy takes from there after the stop.
 *
 * Outputs are independent: one whose receiver fails is named and cleaned
 * by its receiver, the others go on, and the run exits 1 (OmniPITR ran
 * all-or-nothing; a copy that completed is a good copy whatever happened
 * to another host).
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "command/recover/recover.h"
#include "command/synch/synch_impl.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/pidfile.h"
#include "common/sigclean.h"
#include "common/xalloc.h"
#include "postgres/wal.h"
#include "tar/tarwrite.h"

static void
run_free(struct synch_run *run)
{
	synch_stream_abort(run);
	synch_rsync_free(run);
	pitr_tarwrite_free(run->tar);
	pitr_codec_writer_free(run->writer);
	for (size_t i = 0; run->t != NULL && i < run->nt; i++) {
		for (size_t k = 0; run->t[i].ts_dirs != NULL && k < run->nts; k++)
			free(run->t[i].ts_dirs[k]);
		free(run->t[i].ts_dirs);
		synch_output_free(&run->t[i].out);
	}
	free(run->t);
	for (size_t i = 0; run->maps != NULL && i < run->nmaps; i++)
		synch_map_free(&run->maps[i]);
	free(run->maps);
	pitr_pgconn_close(run->conn);
	pitr_pgconn_tablespaces_free(run->ts, run->nts);
	free(run->data_dir);
	free(run->start_lsn);
	free(run->stop_lsn);
	free(run->labelfile);
	free(run->spcmapfile);
}

/* Whether an output goes through rsync (resync.c): -r, or a daemon
 * (which speaks only rsync's protocol). */
static bool
through_rsync(const struct synch_run *run, const struct synch_target *t)
{
	return run->o->rsync || t->out.kind == SYNCH_OUT_RSYNCD;
}

/* Mark the outputs that go through rsync (resync.c); whether any does. */
static bool
mark_delta(struct synch_run *run)
{
	bool any = false;

	for (size_t i = 0; i < run->nt; i++) {
		run->t[i].delta = through_rsync(run, &run->t[i]);
		any |= run->t[i].delta;
	}
	return any;
}

/* Everything that needs no server. */
static int
prepare(struct synch_run *run)
{
	const struct synch_opts *o = run->o;

	if (o->noutputs == 0) {
		pitr_log_error("no --output given: pitr-synch needs somewhere to copy to");
		return -1;
	}
	if ((run->t = pitr_xcalloc(o->noutputs, sizeof(*run->t))) == NULL)
		return -1;
	for (; run->nt < o->noutputs; run->nt++)
		if (synch_output_parse(o->outputs[run->nt], &run->t[run->nt].out) != 0)
			return -1;
	if (o->nmaps > 0 && (run->maps = pitr_xcalloc(o->nmaps, sizeof(*run->maps))) == NULL)
		return -1;
	for (; run->nmaps < o->nmaps; run->nmaps++)
		if (synch_map_parse(o->maps[run->nmaps], &run->maps[run->nmaps]) != 0)
			return -1;
	if (o->compress != NULL && synch_parse_compress(o->compress, &run->codec, &run->level) != 0)
		return -1;
	if (synch_config_check(o) != 0)
		return -1;
	run->denv = (struct synch_delta_env){
		.rsync_path = o->rsync_path,
		.remote_rsync_path = o->remote_rsync_path,
		.ssh_path = o->ssh_path,
		.temp_dir = o->temp_dir,
		.compress = run->codec != PITR_CODEC_NONE,
		.bwlimit = o->bwlimit,
		.verbose = o->verbose,
	};
	if (!mark_delta(run) && o->bwlimit > 0) {
		pitr_log_error("--bwlimit limits rsync: it needs -r or an rsync:// output (the full copy "
			       "runs unthrottled)");
		return -1;
	}
	return 0;
}

/* A bigint: the unsigned identifier, negative once its top bit is set. */
static int
parse_sysid(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = s[0] == '-' ? (uint64_t)strtoll(s, &end, 10) : strtoull(s, &end, 10);
	if (!isdigit((unsigned char)s[s[0] == '-']) || *end != '\0' || errno != 0) {
		pitr_log_error("server reports system identifier \"%s\", not a number", s);
		return -1;
	}
	return 0;
}

static int
check_data_dir(struct synch_run *run, const char *server_dd)
{
	const char *want = run->o->data_dir ? run->o->data_dir : server_dd;
	char real_server[PATH_MAX];

	if ((run->data_dir = realpath(want, NULL)) == NULL) {
		pitr_log_error("could not resolve data directory \"%s\": %s (pitr-synch runs on the "
			       "source's host)", want, strerror(errno));
		return -1;
	}
	if (realpath(server_dd, real_server) == NULL || strcmp(real_server, run->data_dir) != 0) {
		pitr_log_error("data directory \"%s\" is not the one of the server connected to (\"%s\")",
			       want, server_dd);
		return -1;
	}
	return 0;
}

static int
connect_source(struct synch_run *run)
{
	const struct synch_opts *o = run->o;
	struct pitr_pgconn_params params = { o->dbname, o->host, o->port, o->user };
	char *dd = NULL, *seg = NULL, *sysid = NULL, *rec = NULL;
	int rc = -1;

	if ((run->conn = pitr_pgconn_connect(&params)) == NULL)
		return -1;
	if (pitr_pgconn_show(run->conn, "data_directory", &dd) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT setting FROM pg_settings WHERE name = "
				    "'wal_segment_size'", &seg) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT system_identifier FROM pg_control_system()",
				    &sysid) != 0 ||
	    pitr_pgconn_query_value(run->conn, "SELECT pg_is_in_recovery()", &rec) != 0 ||
	    pitr_pgconn_tablespaces(run->conn, &run->ts, &run->nts) != 0)
		goto out;
	run->standby = strcmp(rec, "t") == 0;
	run->segsize = strtoull(seg, NULL, 10);
	if (!pitr_wal_segsize_valid(run->segsize)) {
		pitr_log_error("server reports wal_segment_size \"%s\", not a valid segment size", seg);
		goto out;
	}
	if (parse_sysid(sysid, &run->sysid) != 0)
		goto out;
	rc = check_data_dir(run, dd);
out:
	free(dd);
	free(seg);
	free(sysid);
	free(rec);
	return rc;
}

/* `path` with its longest existing prefix resolved (symbolic links, "."),
 * so that a place not made yet is still compared where it would be.
 * Malloc'd, NULL after logging. */
static char *
real_of(const char *path)
{
	char *copy = pitr_xstrdup(path), *cut = NULL, *real, *out;

	if (copy == NULL)
		return NULL;
	while ((real = realpath(copy, NULL)) == NULL && (cut = strrchr(copy, '/')) != NULL &&
	       cut != copy)
		*cut = '\0';
	if (real == NULL) {
		free(copy);
		return pitr_xstrdup(path);
	}
	out = pitr_xasprintf("%s%s", real, path + strlen(copy));
	free(real);
	free(copy);
	return out;
}

/* `path` is `src` or inside it, on this host, links resolved: -1 when it
 * cannot be told (logged). */
static int
within(const char *path, const char *src)
{
	char *a = real_of(path), *b = real_of(src);
	int r = -1;

	if (a != NULL && b != NULL) {
		size_t n = strlen(b);

		r = strcmp(b, "/") == 0 || (strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/'));
	}
	free(a);
	free(b);
	return r;
}

/* Any of the source's places (its data dir, its tablespaces) that holds
 * `path`; NULL when none does (or after logging). */
static const char *
source_place(const struct synch_run *run, const char *path, int *err)
{
	int r = within(path, run->data_dir);

	*err = r < 0;
	if (r != 0)
		return r > 0 ? run->data_dir : NULL;
	for (size_t k = 0; k < run->nts; k++)
		if ((r = within(path, run->ts[k].location)) != 0) {
			*err = r < 0;
			return r > 0 ? run->ts[k].location : NULL;
		}
	return NULL;
}

/* A local output's places: none is the source's own or inside it. */
static int
check_local(const struct synch_run *run, const struct synch_target *t)
{
	const char *src;
	int err;

	if ((src = source_place(run, t->out.path, &err)) != NULL || err) {
		if (!err)
			pitr_log_error("output \"%s\" is the source's \"%s\" itself (or inside it)",
				       t->out.label, src);
		return -1;
	}
	for (size_t k = 0; k < run->nts; k++)
		if ((src = source_place(run, t->ts_dirs[k], &err)) != NULL || err) {
			if (!err)
				pitr_log_error("output \"%s\": tablespace \"%s\" would be copied onto the "
					       "source's own \"%s\": give --map %s:NEWDIR", t->out.label,
					       run->ts[k].location, src, run->ts[k].location);
			return -1;
		}
	return 0;
}

static bool
overlap(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/') && (b[n] == '\0' || b[n] == '/');
}

/* Place `pa` of output `a` and `pb` of `b` on one host, one inside the
 * other. */
static bool
collide(const struct synch_target *a, const char *pa, const struct synch_target *b, const char *pb)
{
	if ((a->out.host == NULL) != (b->out.host == NULL) ||
	    (a->out.host != NULL && strcmp(a->out.host, b->out.host) != 0))
		return false;
	return overlap(pa, pb);
}

static const char *
place(const struct synch_target *t, size_t k)
{
	return k == 0 ? t->out.path : t->ts_dirs[k - 1];
}

static int
synch_check_places(const struct synch_run *run)
{
	for (size_t i = 0; i < run->nt; i++)
		for (size_t j = i; j < run->nt; j++)
			for (size_t a = 0; a <= run->nts; a++)
				for (size_t b = i == j ? a + 1 : 0; b <= run->nts; b++)
					if (collide(&run->t[i], place(&run->t[i], a), &run->t[j],
						    place(&run->t[j], b))) {
						pitr_log_error("outputs \"%s\" and \"%s\" would both write "
							       "\"%s\" (give --map for the tablespaces)",
							       run->t[i].out.label, run->t[j].out.label,
							       place(&run->t[i], a));
						return -1;
					}
	return 0;
}

/* Each tablespace's place at each output, every map used, no two
 * outputs writing one place. */
static int
resolve(struct synch_run *run)
{
	for (size_t i = 0; i < run->nt; i++) {
		struct synch_target *t = &run->t[i];

		if (run->nts > 0 && (t->ts_dirs = pitr_xcalloc(run->nts, sizeof(char *))) == NULL)
			return -1;
		for (size_t k = 0; k < run->nts; k++)
			if ((t->ts_dirs[k] = synch_map_resolve(run->maps, run->nmaps, &t->out,
							       run->ts[k].location)) == NULL)
				return -1;
	}
	for (size_t m = 0; m < run->nmaps; m++)
		if (!run->maps[m].used) {
			pitr_log_error("--map \"%s\" names no tablespace of the source (%zu tablespace%s)",
				       run->o->maps[m], run->nts, run->nts == 1 ? "" : "s");
			return -1;
		}
	for (size_t i = 0; i < run->nt; i++)
		if (run->t[i].out.kind == SYNCH_OUT_LOCAL && check_local(run, &run->t[i]) != 0)
			return -1;
	return synch_check_places(run);
}

/* A local output's place: missing, empty or an interrupted copy. */
static int
check_empty(const struct synch_target *t, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true, ours = false;

	if (d == NULL)
		return 0;   /* missing (or unreadable: the receiver says which) */
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			empty = false;
			ours |= strcmp(de->d_name, SYNCH_IN_PROGRESS) == 0;
		}
	closedir(d);
	if (empty || ours)
		return 0;
	pitr_log_error("output \"%s\": \"%s\" is not empty and holds no interrupted pitr-synch copy: "
		       "empty it, or re-sync it with -r", t->out.label, path);
	return -1;
}

static int
check_outputs(struct synch_run *run)
{
	if (synch_places_check_local(run) != 0 || synch_places_check_self(run) != 0 ||
	    synch_rsync_check(run) != 0)
		return -1;
	for (size_t i = 0; i < run->nt; i++)
		for (size_t k = 0; run->t[i].out.kind == SYNCH_OUT_LOCAL && !run->t[i].delta &&
		     k <= run->nts; k++)
			if (check_empty(&run->t[i], place(&run->t[i], k)) != 0)
				return -1;
	return 0;
}

/* The plan, on stdout; without -a, "y" on the terminal to go on. */
static int
confirm(const struct synch_run *run)
{
	char answer[16] = "";
	FILE *tty;

	printf("pitr-synch: copy of %s%s (system identifier %" PRIu64 ")%s%s\n", run->data_dir,
	       run->standby ? " (a standby)" : "", run->sysid, run->codec != PITR_CODEC_NONE ?
	       ", compressed with " : "", run->codec != PITR_CODEC_NONE ? pitr_codec_name(run->codec) : "");
	for (size_t i = 0; i < run->nt; i++) {
		printf("  to %s\n", run->t[i].out.label);
		for (size_t k = 0; k < run->nts; k++)
			printf("    tablespace %s (%s) to %s\n", run->ts[k].location, run->ts[k].oid,
			       run->t[i].ts_dirs[k]);
	}
	fflush(stdout);
	if (run->o->automatic)
		return 0;
	if (!isatty(STDIN_FILENO) || (tty = fopen("/dev/tty", "r+")) == NULL) {
		pitr_log_error("no terminal to confirm the copy on: give -a (--automatic) to copy "
			       "without asking");
		return -1;
	}
	fputs("Everything at these outputs will be replaced. Proceed? [y/N] ", tty);
	fflush(tty);
	if (fgets(answer, sizeof(answer), tty) == NULL)
		answer[0] = '\0';
	fclose(tty);
	if (strcmp(answer, "y\n") != 0 && strcmp(answer, "y") != 0) {
		pitr_log_error("not confirmed: nothing copied");
		return -1;
	}
	return 0;
}

/* The pitr-synch beside `argv0`; run as omnipitr-synch (a link of make
 * install-compat, maybe in a directory of its own), beside the program
 * the link leads to.  Malloc'd, or NULL after logging. */
static char *
receiver_beside(const char *argv0)
{
	char exe[PATH_MAX];
	ssize_t n;

	if (strcmp(pitr_opts_progname("pitr-synch", argv0), "pitr-synch") == 0)
		return pitr_recover_program_beside(argv0, "pitr-synch");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		pitr_log_error("could not find this program's path (/proc/self/exe): %s",
			       strerror(errno));
		return NULL;
	}
	exe[n] = '\0';
	return pitr_recover_program_beside(exe, "pitr-synch");
}

/* The local receiver: --local-synch, else the pitr-synch beside us. */
static int
find_receiver(struct synch_run *run, char **prog)
{
	*prog = NULL;
	for (size_t i = 0; i < run->nt; i++)
		if (run->t[i].out.kind == SYNCH_OUT_LOCAL && !run->o->rsync) {
			*prog = receiver_beside(run->o->argv0 ? run->o->argv0 : "pitr-synch");
			if (*prog == NULL)
				return -1;
			if (access(*prog, X_OK) != 0) {
				pitr_log_error("receiver program \"%s\" is not executable: %s", *prog,
					       strerror(errno));
				return -1;
			}
			break;
		}
	return 0;
}

/* How many outputs take the tar stream (stream.c). */
static size_t
streamed(const struct synch_run *run)
{
	size_t n = 0;

	for (size_t i = 0; i < run->nt; i++)
		n += !run->t[i].delta;
	return n;
}

/*
 * Between pg_backup_start and pg_backup_stop: the stream's one read, then
 * the rsync outputs' trees (resync.c), which are touched only once the
 * backup runs, so that a source that cannot start one leaves them as they
 * were.  The two kinds fail apart: *stream_rc and *rsync_rc.
 */
static void
copy_data(struct synch_run *run, int *stream_rc, int *rsync_rc)
{
	*rsync_rc = synch_rsync_begin(run);
	*stream_rc = synch_stream_data(run);
	if (synch_rsync_data(run) != 0)
		*rsync_rc = -1;
}

/* The end of the tablespace_map line at `p`: its unescaped line break
 * (PostgreSQL writes \ before a \, CR or LF in a path). */
static const char *
spcmap_line_end(const char *p)
{
	for (; *p != '\0' && *p != '\n'; p++)
		if (*p == '\\' && p[1] != '\0')
			p++;
	return p;
}

/* A tablespace made while the copy ran is in pg_backup_stop's map and not
 * in the copy: refused, rather than a copy that lacks it. */
static int
check_spcmap(const struct synch_run *run)
{
	for (const char *p = run->spcmapfile; *p != '\0';) {
		const char *end = spcmap_line_end(p);
		size_t digits = strspn(p, "0123456789");
		bool known = digits == 0;

		for (size_t k = 0; !known && k < run->nts; k++)
			known = strlen(run->ts[k].oid) == digits && strncmp(run->ts[k].oid, p, digits) == 0;
		if (!known) {
			pitr_log_error("tablespace %.*s was created while the copy ran: run pitr-synch again",
				       (int)digits, p);
			return -1;
		}
		p = *end != '\0' ? end + 1 : end;
	}
	return 0;
}

static int
copy(struct synch_run *run)
{
	struct pitr_pgconn_backup_stop stop = { 0 };
	char slot[64], *slot_lsn = NULL, label[96];
	int rc = -1, stream_rc, rsync_rc;

	snprintf(slot, sizeof(slot), "pitr_synch_%ld", (long)getpid());
	snprintf(label, sizeof(label), "pitr-synch %ld", (long)getpid());
	if (pitr_pgconn_create_temp_slot(run->conn, slot, &slot_lsn) != 0)
		return -1;
	pitr_log_verbose("replication slot \"%s\" keeps the WAL from %s", slot, slot_lsn);
	free(slot_lsn);
	if (synch_stream_start(run) != 0 ||
	    pitr_pgconn_backup_start(run->conn, label, &run->start_lsn) != 0)
		goto out;
	pitr_log_info("backup started at %s", run->start_lsn);
	copy_data(run, &stream_rc, &rsync_rc);
	if (pitr_pgconn_backup_stop(run->conn, false, &stop) != 0)
		goto out;
	run->stop_lsn = stop.lsn;
	run->labelfile = stop.labelfile;
	run->spcmapfile = stop.spcmapfile;
	memset(&stop, 0, sizeof(stop));
	pitr_log_info("backup stopped at %s", run->stop_lsn);
	if (check_spcmap(run) != 0)
		goto out;
	if (stream_rc == 0)
		stream_rc = synch_stream_finish(run);
	if (stream_rc == 0 && streamed(run) > 0)
		pitr_log_info("copied to %zu output%s, %" PRIu64 " bytes sent to each", streamed(run),
			      streamed(run) == 1 ? "" : "s", run->sent);
	if (synch_rsync_finish(run) != 0)
		rsync_rc = -1;
	rc = stream_rc == 0 && rsync_rc == 0 ? 0 : -1;
out:
	synch_stream_abort(run);
	return rc;
}

int
pitr_cmd_synch(const struct synch_opts *opts)
{
	struct synch_opts own = *opts;
	struct synch_run run = { .o = &own };
	struct pitr_pidfile *pf = NULL;
	char *receiver = NULL;
	int rc = -1;

	if (prepare(&run) != 0 || find_receiver(&run, &receiver) != 0)
		goto out;
	own.local_synch = opts->local_synch ? opts->local_synch : receiver;
	if (opts->pid_file != NULL && (pf = pitr_pidfile_acquire(opts->pid_file)) == NULL)
		goto out;
	/* A signal removes the marks check_outputs() puts into the source,
	 * stops the receivers (they remove what they wrote) and ends the
	 * session, which aborts the backup and drops the slot. */
	if (pitr_sigclean_install(pitr_opts_progname("pitr-synch", opts->argv0), false) != 0)
		goto out;
	if (connect_source(&run) != 0 || resolve(&run) != 0 || check_outputs(&run) != 0 ||
	    confirm(&run) != 0)
		goto out;
	rc = copy(&run);
out:
	run_free(&run);
	free(receiver);
	pitr_pidfile_release(pf);
	return rc;
}
