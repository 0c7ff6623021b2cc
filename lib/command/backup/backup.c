/*
 * backup.c - pitr-backup-master and pitr-backup-slave: a hot base
 * backup of a primary or of a hot standby.
 *
 * One libpq session brackets the copy with pg_backup_start and
 * pg_backup_stop.  The data dir is streamed once into a tar; each distinct
 * codec among the destinations compresses it once and fans its output out
 * to that codec's destinations, as pitr-archive does for WAL.  WAL written
 * during the copy is collected by pitr-archive --dst-backup into the -x dir
 * and becomes the xlog tarball; on a standby the segments come from the
 * archive it restores from, kept there by the removal pause trigger.  The --digest digests are taken of the
 * bytes as stored, as each codec group hands them to its destinations, so
 * no file is read twice; one plain digest file per algorithm lists a
 * destination's data and xlog files.  Every destination file is left
 * unfinished (at a temporary name) until all files are complete, then the
 * data, xlog, digest and meta files are published in that order (the meta
 * last: its presence marks a complete backup), so a failed or killed run
 * leaves nothing at a final name.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <signal.h>
#include <inttypes.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "repo/archdir.h"
#include "command/backup/backup.h"
#include "compress/codec.h"
#include "dest/dest.h"
#include "digest/digest.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "server/pgconn.h"
#include "common/pidfile.h"
#include "tar/tarwrite.h"
#include "postgres/wal.h"

#define BACKUP_NICENESS 10
#define BACKUP_THREADS 4
#define BACKUP_WAL_WAIT 300
#define BACKUP_WAL_POLL_US 20000

/* Streams in publication order: data, xlog, one per digest, meta. */
enum { FT_DATA, FT_XLOG, FT_DIGEST0 };
#define FT_META(run) (FT_DIGEST0 + (run)->ndigests)
#define FT_COUNT(run) (FT_DIGEST0 + (run)->ndigests + 1)

struct bk_target {
	struct pitr_dest *dest;
	size_t group_idx;
	bool failed;
};

struct bk_group {
	enum pitr_codec codec;
	int level;
	struct pitr_codec_writer *writer;
	struct bk_stream *stream;
	size_t ndigests;             /* data and xlog streams only */
	struct pitr_digest *digests[PITR_BACKUP_MAX_DIGESTS];
	char hex[PITR_BACKUP_MAX_DIGESTS][PITR_DIGEST_HEX_MAX];
};

/* One output file (data, xlog or meta) to every destination. */
struct bk_stream {
	struct bk_run *run;
	struct bk_target *targets;
	size_t ntargets;
	struct bk_group *groups;
	size_t ngroups;
};

struct bk_run {
	const struct pitr_backup_opts *opts;
	struct pitr_dest_env env;
	struct pitr_pidfile *pidfile;
	struct pitr_dest_spec *specs;
	size_t nspecs;
	const char *digests[PITR_BACKUP_MAX_DIGESTS];  /* canonical names */
	size_t ndigests;
	struct bk_stream *streams;   /* FT_COUNT(run) of them */
	struct pitr_pgconn *conn;
	struct pitr_tarwrite *tar;
	char hostname[256];
	char *data_dir;              /* realpath */
	const char *data_base;       /* its last component */
	char *xlog_moved;            /* -x after it was renamed away */
	bool xlog_created;
	bool slave;
	struct pitr_dest_spec source; /* slave: -s, the standby's archive */
	bool trigger_owned;          /* slave: this run created -p */
	bool stop_logged;            /* the signal was reported */
	time_t start_time, stop_time;
};

/* The signal that asked the run to stop; 0 while none did.  The handler
 * only sets it: the copy loops and every step check it, and the run fails
 * through its normal cleanup. */
static volatile sig_atomic_t bk_signal;

static void
on_signal(int signo)
{
	bk_signal = signo;
}

/* True (after logging once) when a signal asked the run to stop. */
static bool
stopped(struct bk_run *run)
{
	if (bk_signal == 0)
		return false;
	if (!run->stop_logged)
		pitr_log_error("interrupted by %s: backup abandoned", bk_signal == SIGINT ? "SIGINT" :
			       "SIGTERM");
	run->stop_logged = true;
	return true;
}

/* Drop everything; targets not finished are aborted, so nothing partial
 * reaches a final name. */
static void
run_free(struct bk_run *run)
{
	for (size_t ft = 0; run->streams != NULL && ft < FT_COUNT(run); ft++) {
		struct bk_stream *s = &run->streams[ft];

		for (size_t i = 0; i < s->ntargets; i++) {
			pitr_dest_abort(s->targets[i].dest);
			pitr_dest_free(s->targets[i].dest);
		}
		for (size_t i = 0; i < s->ngroups; i++) {
			pitr_codec_writer_free(s->groups[i].writer);
			for (size_t k = 0; k < s->groups[i].ndigests; k++)
				pitr_digest_free(s->groups[i].digests[k]);
		}
		free(s->targets);
		free(s->groups);
	}
	free(run->streams);
	for (size_t i = 0; i < run->nspecs; i++)
		pitr_dest_spec_free(&run->specs[i]);
	free(run->specs);
	pitr_tarwrite_free(run->tar);
	pitr_pgconn_close(run->conn);
	pitr_pidfile_release(run->pidfile);
	pitr_dest_spec_free(&run->source);
	free(run->data_dir);
	free(run->xlog_moved);
}

char *
pitr_backup_expand_template(const char *tmpl, const char *hostname, const char *filetype,
			    const char *cext, long when)
{
	static const char *const keys[] = { "__HOSTNAME__", "__FILETYPE__", "__CEXT__" };
	const char *vals[] = { hostname, filetype, cext };
	char fmt[1024], out[1024];
	size_t n = 0;
	time_t t = (time_t)when;
	struct tm tm;

	for (const char *p = tmpl; *p != '\0';) {
		const char *add = NULL;
		size_t skip = 1;
		bool is_value = false;

		for (size_t k = 0; k < 3; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				add = vals[k];
				skip = strlen(keys[k]);
				is_value = true;
			}
		if (add == NULL) {
			static const char one[2][3] = { "%", "%%" };

			if (*p == '^')
				add = one[0];
			else if (*p == '%')
				add = one[1];  /* a literal '%' of the template */
		}
		if (add == NULL) {
			if (n + 1 >= sizeof(fmt))
				goto toolong;
			fmt[n++] = *p;
		} else {
			for (const char *v = add; *v != '\0'; v++) {
				if (n + 2 >= sizeof(fmt))
					goto toolong;
				/* A '%' inside a value (a host name) is literal. */
				if (is_value && *v == '%')
					fmt[n++] = '%';
				fmt[n++] = *v;
			}
		}
		p += skip;
	}
	fmt[n] = '\0';
	localtime_r(&t, &tm);
	out[0] = '\0';
	if (n > 0 && strftime(out, sizeof(out), fmt, &tm) == 0)
		goto toolong;
	if (out[0] == '\0' || strchr(out, '/') != NULL || strcmp(out, ".") == 0 ||
	    strcmp(out, "..") == 0) {
		pitr_log_error("filename template \"%s\" gives \"%s\" for the %s file: not a file name",
			       tmpl, out, filetype);
		return NULL;
	}
	{
		char *res = strdup(out);

		if (res == NULL)
			pitr_log_error("out of memory");
		return res;
	}
toolong:
	pitr_log_error("filename template \"%s\" is too long", tmpl);
	return NULL;
}

int
pitr_backup_parse_digests(const char *list, const char **out)
{
	size_t n = 0;

	if (list == NULL)
		return 0;
	for (const char *p = list;;) {
		const char *end = strchr(p, ','), *canon;
		char name[64];
		size_t len;

		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = (size_t)(end - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			pitr_log_error("empty digest name in --digest \"%s\"", list);
			return -1;
		}
		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		canon = len < sizeof(name) ? pitr_digest_canonical(name) : NULL;
		if (canon == NULL) {
			pitr_log_error("unknown digest \"%.*s\" in --digest \"%s\": expected MD5, SHA-1, "
				       "SHA-224, SHA-256, SHA-384 or SHA-512", (int)len, p, list);
			return -1;
		}
		for (size_t i = 0; i < n && canon != NULL; i++)
			if (out[i] == canon)
				canon = NULL;
		if (canon != NULL)
			out[n++] = canon;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return (int)n;
}

int
pitr_backup_check_template(const char *tmpl, const char *hostname, const char *const *cexts,
			   size_t n, const char *const *digests, size_t ndigests, long when)
{
	static const char *const fixed[] = { "data", "xlog", "meta" };
	size_t nnames = 3 + ndigests;
	char **names = calloc(nnames, sizeof(*names));
	const char **types = calloc(nnames, sizeof(*types));
	int rc = -1;

	if (names == NULL || types == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	for (size_t c = 0; c < n; c++) {
		for (size_t i = 0; i < nnames; i++) {
			types[i] = i < 3 ? fixed[i] : digests[i - 3];
			free(names[i]);
			names[i] = pitr_backup_expand_template(tmpl, hostname, types[i],
							      i < 3 ? cexts[c] : "", when);
			if (names[i] == NULL)
				goto out;
			for (size_t j = 0; j < i; j++)
				if (strcmp(names[i], names[j]) == 0) {
					pitr_log_error("filename template \"%s\" gives \"%s\" for both the %s "
						       "and the %s file: it needs __FILETYPE__", tmpl,
						       names[i], types[j], types[i]);
					goto out;
				}
		}
	}
	rc = 0;
out:
	for (size_t i = 0; names != NULL && i < nnames; i++)
		free(names[i]);
	free(names);
	free(types);
	return rc;
}

char *
pitr_backup_template_glob(const char *tmpl, const char *hostname, const char *filetype,
			  const char *cext)
{
	static const char *const keys[] = { "__HOSTNAME__", "__FILETYPE__", "__CEXT__" };
	const char *vals[] = { hostname, filetype, cext };
	/* Each template byte gives at most two pattern bytes. */
	size_t size = strlen(tmpl) * 2 + (strlen(hostname) + strlen(filetype) + strlen(cext)) * 2 *
		(strlen(tmpl) / 8 + 1) + 1;
	char *out = malloc(size), *o = out;

	if (out == NULL) {
		pitr_log_error("out of memory");
		return NULL;
	}
	for (const char *p = tmpl; *p != '\0';) {
		const char *lit = NULL;
		size_t skip = 1, litlen = 1;

		for (size_t k = 0; k < 3 && lit == NULL; k++)
			if (strncmp(p, keys[k], strlen(keys[k])) == 0) {
				lit = vals[k];
				litlen = strlen(vals[k]);
				skip = strlen(keys[k]);
			}
		if (lit == NULL && *p == '^') {
			/* A conversion, its E or O modifier included. */
			skip = p[1] == '\0' ? 1 : (p[1] == 'E' || p[1] == 'O') && p[2] != '\0' ? 3 : 2;
			if (o == out || o[-1] != '*' || (o - out >= 2 && o[-2] == '\\'))
				*o++ = '*';
			p += skip;
			continue;
		}
		if (lit == NULL)
			lit = p;
		for (size_t i = 0; i < litlen; i++) {
			if (strchr("*?[]\\", lit[i]) != NULL)
				*o++ = '\\';
			*o++ = lit[i];
		}
		p += skip;
	}
	*o = '\0';
	return out;
}

/* Parse every destination option; nothing happens before they are all
 * valid. */
static int
collect_specs(struct bk_run *run)
{
	const struct pitr_backup_opts *opts = run->opts;
	const struct {
		const char **args;
		size_t n;
		enum pitr_dest_kind kind;
		const char *optname;
	} lists[] = {
		{ opts->dst_local, opts->ndst_local, PITR_DEST_LOCAL, "--dst-local" },
		{ opts->dst_remote, opts->ndst_remote, PITR_DEST_RSYNC, "--dst-remote" },
		{ opts->dst_pipe, opts->ndst_pipe, PITR_DEST_PIPE, "--dst-pipe" },
		{ opts->dst_direct, opts->ndst_direct, PITR_DEST_SSH, "--dst-direct" },
	};
	size_t total = opts->ndst_local + opts->ndst_remote + opts->ndst_pipe + opts->ndst_direct;

	if (total == 0) {
		pitr_log_error("no destination given: use --dst-local, --dst-remote, --dst-direct or "
			       "--dst-pipe");
		return -1;
	}
	run->specs = calloc(total, sizeof(*run->specs));
	if (run->specs == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
		for (size_t i = 0; i < lists[l].n; i++) {
			struct pitr_dest_spec *spec = &run->specs[run->nspecs];

			if ((lists[l].kind == PITR_DEST_SSH ?
			     pitr_dest_ssh_spec_parse(lists[l].args[i], lists[l].optname, spec) :
			     pitr_dest_spec_parse(lists[l].args[i], lists[l].kind, lists[l].optname,
						  spec)) != 0)
				return -1;
			run->nspecs++;
		}
	return 0;
}

/* The codec writer's sink: fan out to the group's live targets. */
static int
group_sink(void *ctx, const void *buf, size_t len)
{
	struct bk_group *g = ctx;
	struct bk_stream *s = g->stream;
	size_t group_idx = (size_t)(g - s->groups);

	for (size_t k = 0; k < g->ndigests; k++)
		if (pitr_digest_update(g->digests[k], buf, len) != 0)
			return -1;
	for (size_t i = 0; i < s->ntargets; i++) {
		struct bk_target *t = &s->targets[i];

		if (t->group_idx != group_idx)
			continue;
		if (t->failed || pitr_dest_write(t->dest, buf, len) != 0) {
			t->failed = true;
			return -1;
		}
	}
	return 0;
}

/* A backup is only worth having complete everywhere: any failure fails
 * the stream, so the sink for the tar writer is plain. */
static int
stream_sink(void *ctx, const void *buf, size_t len)
{
	struct bk_stream *s = ctx;

	if (stopped(s->run))
		return -1;
	for (size_t i = 0; i < s->ngroups; i++)
		if (pitr_codec_writer_write(s->groups[i].writer, buf, len) != 0)
			return -1;
	return 0;
}

static int
thread_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > BACKUP_THREADS ? BACKUP_THREADS : (int)cpus;
}

/* Open stream `ft` on every destination, one codec writer per distinct
 * codec (and level), each digesting what it stores when `digest` is set;
 * a `plain` stream (the digest files) has no writers: the caller writes
 * each target's own text uncompressed. */
static int
stream_open(struct bk_run *run, size_t ft, const char *filetype, bool digest, bool plain)
{
	struct bk_stream *s = &run->streams[ft];
	const char *tmpl = run->opts->filename_template ? run->opts->filename_template :
		PITR_BACKUP_DEFAULT_TEMPLATE;

	s->run = run;
	s->targets = calloc(run->nspecs, sizeof(*s->targets));
	s->groups = calloc(run->nspecs, sizeof(*s->groups));
	if (s->targets == NULL || s->groups == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < run->nspecs; i++) {
		struct pitr_dest_spec spec = run->specs[i];
		struct bk_target *t = &s->targets[i];
		char *name;
		size_t g;
		int rc;

		if (plain) {
			/* Stored as is, so compared as is should it exist already. */
			spec.codec = PITR_CODEC_NONE;
			spec.level = 0;
		}
		for (g = 0; g < s->ngroups; g++)
			if (s->groups[g].codec == spec.codec && s->groups[g].level == spec.level)
				break;
		if (g == s->ngroups) {
			s->groups[g].codec = spec.codec;
			s->groups[g].level = spec.level;
			s->groups[g].stream = s;
			s->ngroups++;
		}
		t->group_idx = g;
		t->dest = spec.kind == PITR_DEST_SSH ? pitr_dest_ssh_new(&spec, &run->env) :
			pitr_dest_new(&spec, &run->env);
		if (t->dest == NULL)
			return -1;
		s->ntargets++;
		name = pitr_backup_expand_template(tmpl, run->hostname, filetype,
						   pitr_codec_ext(spec.codec), (long)run->start_time);
		if (name == NULL)
			return -1;
		rc = pitr_dest_open(t->dest, name);
		free(name);
		if (rc != 0) {
			t->failed = true;
			return -1;
		}
	}
	for (size_t g = 0; g < s->ngroups && !plain; g++) {
		struct bk_group *grp = &s->groups[g];

		for (size_t k = 0; digest && k < run->ndigests; k++) {
			grp->digests[k] = pitr_digest_new(run->digests[k]);
			if (grp->digests[k] == NULL)
				return -1;
			grp->ndigests++;
		}
		grp->writer = pitr_codec_writer_new(grp->codec, grp->level, thread_count(), group_sink,
						    grp);
		if (grp->writer == NULL)
			return -1;
	}
	return 0;
}

/* Wait for the stream's direct (ssh) uploads to end, so that a failed one
 * is known before anything is published and no ssh session idles while
 * the next file is made. */
static int
end_uploads(struct bk_stream *s)
{
	for (size_t i = 0; i < s->ntargets; i++) {
		struct bk_target *t = &s->targets[i];

		if (t->dest->spec.kind == PITR_DEST_SSH && pitr_dest_ssh_end_upload(t->dest) != 0) {
			t->failed = true;
			return -1;
		}
	}
	return 0;
}

/* End the stream's codec streams; their digests are then final. */
static int
stream_close(struct bk_run *run, size_t ft)
{
	struct bk_stream *s = &run->streams[ft];

	for (size_t g = 0; g < s->ngroups; g++) {
		struct bk_group *grp = &s->groups[g];

		if (pitr_codec_writer_finish(grp->writer) != 0)
			return -1;
		for (size_t k = 0; k < grp->ndigests; k++)
			if (pitr_digest_final(grp->digests[k], grp->hex[k]) != 0)
				return -1;
	}
	return end_uploads(s);
}

/* One digest file per algorithm and destination: "HEX  NAME" for the data
 * and xlog files of that destination, as `sha256sum -c` reads it. */
static int
write_digest_files(struct bk_run *run)
{
	const struct bk_stream *data = &run->streams[FT_DATA], *xlog = &run->streams[FT_XLOG];

	for (size_t k = 0; k < run->ndigests; k++) {
		size_t ft = FT_DIGEST0 + k;
		struct bk_stream *s = &run->streams[ft];

		if (stream_open(run, ft, run->digests[k], false, true) != 0)
			return -1;
		for (size_t i = 0; i < s->ntargets; i++) {
			const struct bk_target *dt = &data->targets[i];
			const struct bk_target *xt = xlog->ntargets > 0 ? &xlog->targets[i] : NULL;
			char *l1 = pitr_digest_line(data->groups[dt->group_idx].hex[k], dt->dest->name);
			/* -sx: no xlog file to list. */
			char *l2 = xlog->ntargets == 0 ? strdup("") :
				pitr_digest_line(xlog->groups[xt->group_idx].hex[k], xt->dest->name);
			int rc = -1;

			if (l1 != NULL && l2 != NULL &&
			    pitr_dest_write(s->targets[i].dest, l1, strlen(l1)) == 0 &&
			    (l2[0] == '\0' || pitr_dest_write(s->targets[i].dest, l2, strlen(l2)) == 0))
				rc = 0;
			free(l1);
			free(l2);
			if (rc != 0) {
				s->targets[i].failed = true;
				return -1;
			}
		}
		if (end_uploads(s) != 0)
			return -1;
	}
	return 0;
}

/* Publish every file: locals first, in data/xlog/digests/meta order, then
 * the staged and direct (remote, pipe, ssh) ones --parallel-jobs at a
 * time.  A destination that failed one file gets none of the later ones:
 * a meta file (the mark of a complete backup) never reaches a destination
 * that lacks the data before it. */
static int
publish_all(struct bk_run *run)
{
	size_t jobs = run->opts->parallel_jobs > 0 ? (size_t)run->opts->parallel_jobs : 1;
	bool *broken = calloc(run->nspecs, sizeof(*broken));
	int rc = 0;

	if (broken == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	for (int staged = 0; staged < 2; staged++)
		for (size_t ft = 0; ft < FT_COUNT(run); ft++) {
			struct bk_stream *s = &run->streams[ft];
			size_t begun = 0, first = 0;

			for (size_t i = 0; i <= s->ntargets; i++) {
				if (i < s->ntargets) {
					struct bk_target *t = &s->targets[i];

					if ((t->dest->spec.kind != PITR_DEST_LOCAL) != (staged == 1))
						continue;
					if (t->failed || broken[i] || pitr_dest_finish_begin(t->dest) != 0) {
						t->failed = true;
						broken[i] = true;
						rc = -1;
						continue;
					}
					begun++;
					if (begun < jobs)
						continue;
				}
				/* Wait for the begun ones, the one just begun included. */
				size_t end = i < s->ntargets ? i + 1 : s->ntargets;

				for (size_t j = first; j < end; j++) {
					struct bk_target *t = &s->targets[j];
					enum pitr_dest_result result;

					if ((t->dest->spec.kind != PITR_DEST_LOCAL) != (staged == 1) || t->failed)
						continue;
					if (pitr_dest_finish_end(t->dest, &result) != 0) {
						t->failed = true;
						broken[j] = true;
						rc = -1;
						continue;
					}
					if (result == PITR_DEST_ALREADY)
						pitr_log_info("\"%s\" was already at %s with the same content",
							      t->dest->name, pitr_dest_label(t->dest));
					else
						pitr_log_verbose("delivered \"%s\" to %s", t->dest->name,
								 pitr_dest_label(t->dest));
					/* Done: make abort at the end a no-op for it. */
					t->failed = true;
				}
				first = end;
				begun = 0;
			}
		}
	free(broken);
	/* failed doubles as "finished" above; a real failure set rc. */
	return rc;
}

/* Every file name, for every codec, before anything is started. */
static int
check_names(struct bk_run *run)
{
	const char *cexts[PITR_CODEC_COUNT];
	size_t n = 0;

	for (size_t i = 0; i < run->nspecs; i++) {
		const char *ext = pitr_codec_ext(run->specs[i].codec);
		size_t j;

		for (j = 0; j < n && strcmp(cexts[j], ext) != 0; j++)
			;
		if (j == n)
			cexts[n++] = ext;
	}
	return pitr_backup_check_template(run->opts->filename_template ? run->opts->filename_template :
					  PITR_BACKUP_DEFAULT_TEMPLATE, run->hostname, cexts, n,
					  run->digests, run->ndigests, (long)time(NULL));
}

static int
check_dirs(struct bk_run *run, const char *server_data_dir)
{
	const char *want = run->opts->data_dir ? run->opts->data_dir : server_data_dir;
	char real_server[PATH_MAX];
	char *pgv;
	struct stat st;

	run->data_dir = realpath(want, NULL);
	if (run->data_dir == NULL) {
		pitr_log_error("could not resolve data directory \"%s\": %s", want, strerror(errno));
		return -1;
	}
	pgv = pitr_fsutil_join(run->data_dir, "PG_VERSION");
	if (pgv == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	if (stat(pgv, &st) != 0) {
		pitr_log_error("\"%s\" is not a PostgreSQL data directory (no PG_VERSION)", want);
		free(pgv);
		return -1;
	}
	free(pgv);
	if (realpath(server_data_dir, real_server) == NULL || strcmp(real_server, run->data_dir) != 0) {
		pitr_log_error("data directory \"%s\" is not the one of the server connected to (\"%s\")",
			       want, server_data_dir);
		return -1;
	}
	run->data_base = strrchr(run->data_dir, '/') + 1;
	if (*run->data_base == '\0') {
		pitr_log_error("data directory \"%s\" has no name to put in the tarball", want);
		return -1;
	}
	return 0;
}

/* The pid in an owner file (-x dir, pause trigger): > 0, or 0 when the
 * file is missing or holds no pid (not one of ours). */
static long
owner_pid(const char *path)
{
	size_t len;
	char *buf = pitr_fsutil_read_small(path, 64, &len), *end;
	long pid;

	if (buf == NULL)
		return 0;
	errno = 0;
	pid = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0') || pid <= 0)
		pid = 0;
	free(buf);
	return pid;
}

/* The owner is gone for sure: no such process.  A pid reused since, or a
 * process of another user (EPERM), counts as alive: refusing is safe. */
static bool
owner_dead(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

static int
write_owner(const char *dir, const char *name, bool replace)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	return pitr_fsutil_publish_buffer(dir, name, buf, strlen(buf), replace, NULL);
}

static void remove_xlog_dir(struct bk_run *run);

/* Create -x with our pid inside.  A dir left by a killed backup (its owner
 * file names a process that is gone) is removed and made again; any other
 * existing dir is refused. */
static int
make_xlog_dir(struct bk_run *run)
{
	const char *x = run->opts->xlogs;
	bool retried = false;

	if (x == NULL || x[0] != '/') {
		pitr_log_error(x == NULL ? "no --xlogs dir given: it must be the --dst-backup dir of "
			       "pitr-archive%s" : "--xlogs \"%s\" must be an absolute path", x ? x : "");
		return -1;
	}
	while (mkdir(x, 0700) != 0) {
		char *of;
		long pid;

		if (errno != EEXIST || retried) {
			pitr_log_error("could not create --xlogs dir \"%s\": %s", x, strerror(errno));
			return -1;
		}
		of = pitr_fsutil_join(x, PITR_BACKUP_OWNER_FILE);
		if (of == NULL) {
			pitr_log_error("out of memory");
			return -1;
		}
		pid = owner_pid(of);
		free(of);
		if (!owner_dead(pid)) {
			if (pid > 0)
				pitr_log_error("--xlogs dir \"%s\" already exists: backup process %ld is "
					       "running", x, pid);
			else
				pitr_log_error("--xlogs dir \"%s\" already exists: another backup is running, "
					       "or one was killed (remove it if none runs)", x);
			return -1;
		}
		pitr_log_info("--xlogs dir \"%s\" was left by backup process %ld, which is gone: "
			      "taking it over", x, pid);
		run->xlog_created = true;
		remove_xlog_dir(run);
		free(run->xlog_moved);
		run->xlog_moved = NULL;
		if (run->xlog_created) {
			run->xlog_created = false;  /* not ours to remove at the end */
			return -1;                  /* logged */
		}
		retried = true;
	}
	run->xlog_created = true;
	return write_owner(x, PITR_BACKUP_OWNER_FILE, false);
}

/* Remove the temporary files (fsutil.h's names) that a killed run left for
 * this backup's files in the local destinations; other files, pitr-archive's
 * temporary WAL included, do not match. */
static int
remove_stale_temps(struct bk_run *run)
{
	const char *tmpl = run->opts->filename_template ? run->opts->filename_template :
		PITR_BACKUP_DEFAULT_TEMPLATE;

	for (size_t i = 0; i < run->nspecs; i++) {
		const struct pitr_dest_spec *spec = &run->specs[i];
		char *pats[3 + PITR_BACKUP_MAX_DIGESTS] = { NULL };
		size_t npats = 0;
		DIR *d;
		struct dirent *de;
		int rc = -1;

		if (spec->kind != PITR_DEST_LOCAL)
			continue;
		for (size_t k = 0; k < 3 + run->ndigests; k++) {
			static const char *const fixed[] = { "data", "xlog", "meta" };
			char *g = pitr_backup_template_glob(tmpl, run->hostname, k < 3 ? fixed[k] :
							    run->digests[k - 3], k < 3 ?
							    pitr_codec_ext(spec->codec) : "");

			if (g == NULL || asprintf(&pats[npats], "%s%s.??????", PITR_FSUTIL_TMP_PREFIX,
						  g) < 0) {
				free(g);
				pitr_log_error("out of memory");
				goto next;
			}
			free(g);
			npats++;
		}
		d = opendir(spec->location);
		if (d == NULL) {
			rc = 0;  /* the destination's own open names the problem */
			goto next;
		}
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, PITR_FSUTIL_TMP_PREFIX, strlen(PITR_FSUTIL_TMP_PREFIX)) != 0)
				continue;
			for (size_t k = 0; k < npats; k++)
				if (fnmatch(pats[k], de->d_name, 0) == 0) {
					char *p = pitr_fsutil_join(spec->location, de->d_name);

					if (p != NULL && unlink(p) == 0)
						pitr_log_info("removed \"%s\", left by an interrupted backup", p);
					else if (p != NULL && errno != ENOENT)
						pitr_log_error("could not remove \"%s\": %s", p, strerror(errno));
					free(p);
					break;
				}
		}
		closedir(d);
		rc = 0;
next:
		for (size_t k = 0; k < npats; k++)
			free(pats[k]);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Create the removal pause trigger with our pid.  One that exists already
 * is another process's pause and is left alone, unless its owner is gone
 * (a killed backup): then it becomes ours. */
static int
claim_trigger(struct bk_run *run)
{
	const char *path = run->opts->pause_trigger;
	char buf[32], *dir, *slash;
	int fd;
	long pid;

	if (path == NULL)
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t n;

		snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
		run->trigger_owned = true;
		n = write(fd, buf, strlen(buf));
		if (n != (ssize_t)strlen(buf) || fsync(fd) != 0) {
			pitr_log_error("could not write removal pause trigger \"%s\": %s", path,
				       n < 0 ? strerror(errno) : "short write");
			close(fd);
			return -1;
		}
		close(fd);
		pitr_log_verbose("created removal pause trigger \"%s\"", path);
		return 0;
	}
	if (errno != EEXIST) {
		pitr_log_error("could not create removal pause trigger \"%s\": %s", path,
			       strerror(errno));
		return -1;
	}
	pid = owner_pid(path);
	if (!owner_dead(pid)) {
		pitr_log_info("removal pause trigger \"%s\" exists already: left for its owner", path);
		return 0;
	}
	dir = strdup(path);
	if (dir == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	pitr_log_info("removal pause trigger \"%s\" was left by backup process %ld, which is gone: "
		      "taking it over", path, pid);
	fd = write_owner(slash ? dir : ".", slash ? strrchr(path, '/') + 1 : path, true);
	free(dir);
	if (fd != 0)
		return -1;
	run->trigger_owned = true;
	return 0;
}

static void
release_trigger(struct bk_run *run)
{
	if (!run->trigger_owned)
		return;
	if (unlink(run->opts->pause_trigger) != 0 && errno != ENOENT)
		pitr_log_error("could not remove removal pause trigger \"%s\": %s",
			       run->opts->pause_trigger, strerror(errno));
	else
		pitr_log_verbose("removed removal pause trigger \"%s\"", run->opts->pause_trigger);
	run->trigger_owned = false;
}

/* Rename -x away first (pitr-archive may be copying into it: after the
 * rename it sees no dir and stops), then empty and remove it. */
static int
move_xlog_dir(struct bk_run *run)
{
	if (run->xlog_moved != NULL || !run->xlog_created)
		return 0;
	if (asprintf(&run->xlog_moved, "%s.pitr-done.%ld", run->opts->xlogs, (long)getpid()) < 0) {
		run->xlog_moved = NULL;
		pitr_log_error("out of memory");
		return -1;
	}
	if (rename(run->opts->xlogs, run->xlog_moved) != 0) {
		pitr_log_error("could not rename \"%s\" to \"%s\": %s", run->opts->xlogs,
			       run->xlog_moved, strerror(errno));
		free(run->xlog_moved);
		run->xlog_moved = NULL;
		return -1;
	}
	return 0;
}

static void
remove_xlog_dir(struct bk_run *run)
{
	DIR *d;
	struct dirent *de;

	if (move_xlog_dir(run) != 0 || run->xlog_moved == NULL)
		return;
	d = opendir(run->xlog_moved);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char *p;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			p = pitr_fsutil_join(run->xlog_moved, de->d_name);
			if (p != NULL && unlink(p) != 0)
				pitr_log_error("could not remove \"%s\": %s", p, strerror(errno));
			free(p);
		}
		closedir(d);
	}
	if (rmdir(run->xlog_moved) != 0)
		pitr_log_error("could not remove \"%s\": %s", run->xlog_moved, strerror(errno));
	run->xlog_created = false;
}

/* global/pg_control, after every other file of the data dir and the
 * tablespaces: a backup taken on a standby ends, when recovered, at the
 * minRecoveryPoint of this copy, which must be later than every page
 * copied before it (basebackup.c sends it last for the same reason). */
static int
add_pg_control(struct bk_run *run)
{
	char path[PATH_MAX], name[PATH_MAX];

	snprintf(path, sizeof(path), "%s/global/pg_control", run->data_dir);
	snprintf(name, sizeof(name), "%s/global/pg_control", run->data_base);
	return pitr_tarwrite_add_file(run->tar, path, name);
}

/* Stream every tablespace (pg_tblspc symlinks) as tablespaces/<path>. */
static int
add_tablespaces(struct bk_run *run)
{
	char *tsdir = pitr_fsutil_join(run->data_dir, "pg_tblspc");
	DIR *d = NULL;
	struct dirent *de;
	int rc = -1;

	if (tsdir == NULL || (d = opendir(tsdir)) == NULL) {
		pitr_log_error("could not open directory \"%s\": %s", tsdir ? tsdir : "pg_tblspc",
			       strerror(errno));
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		char link[PATH_MAX], prefix[PATH_MAX + 16];
		char *lp;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		lp = pitr_fsutil_join(tsdir, de->d_name);
		if (lp == NULL) {
			pitr_log_error("out of memory");
			goto out;
		}
		n = readlink(lp, link, sizeof(link) - 1);
		free(lp);
		if (n < 0)
			continue;     /* an in-place tablespace is inside the data dir */
		link[n] = '\0';
		snprintf(prefix, sizeof(prefix), "tablespaces%s%s", link[0] == '/' ? "" : "/", link);
		if (pitr_tarwrite_add_tree(run->tar, link, prefix, PITR_TARWRITE_PGDATA) != 0)
			goto out;
	}
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	free(tsdir);
	return rc;
}

/* "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)" */
static int
label_start_file(const char *label, char *out)
{
	const char *p = strstr(label, "START WAL LOCATION: ");

	p = p ? strstr(p, "(file ") : NULL;
	if (p == NULL || sscanf(p, "(file %24[0-9A-F])", out) != 1 || strlen(out) != 24 ||
	    pitr_wal_parse(out, NULL) != PITR_WAL_SEGMENT) {
		pitr_log_error("backup_label from the server has no START WAL LOCATION file name");
		return -1;
	}
	return 0;
}

static void
format_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S %z", &tm);
}

/* Where `name` is now: 1 with *path (malloc'd) and *codec set when the
 * backup's WAL source holds it, 0 when not yet, -1 after logging. */
static int
find_segment(struct bk_run *run, const char *name, char **path, enum pitr_codec *codec)
{
	struct stat st;

	if (run->slave)
		return pitr_archdir_find(run->source.location, name, run->source.codec, path, codec,
					 NULL);
	*codec = PITR_CODEC_NONE;
	*path = pitr_fsutil_join(run->xlog_moved ? run->xlog_moved : run->opts->xlogs, name);
	if (*path == NULL) {
		pitr_log_error("out of memory");
		return -1;
	}
	if (stat(*path, &st) == 0)
		return 1;
	free(*path);
	*path = NULL;
	return 0;
}

/* Wait for the stop segment in the WAL source: on a primary the archiver
 * delivers it to the -x dir after pg_backup_stop switched to the next
 * segment (the archiver runs in order, so every earlier one is there
 * too); a standby archives nothing itself and restores a segment only once
 * it is in the archive. */
static int
wait_for_segment(struct bk_run *run, const char *name)
{
	int limit = run->opts->wal_wait > 0 ? run->opts->wal_wait : BACKUP_WAL_WAIT;

	for (int i = 0; i < limit * (1000000 / BACKUP_WAL_POLL_US); i++) {
		char *path = NULL;
		enum pitr_codec codec;
		int r = find_segment(run, name, &path, &codec);

		free(path);
		if (r != 0)
			return r > 0 ? 0 : -1;
		if (stopped(run))
			return -1;
		usleep(BACKUP_WAL_POLL_US);
	}
	if (run->slave)
		pitr_log_error("WAL segment \"%s\" did not reach --source archive \"%s\" within %d s: "
			       "is the primary archiving there?", name, run->source.location, limit);
	else
		pitr_log_error("WAL segment \"%s\" did not reach --xlogs dir \"%s\" within %d s: is "
			       "archive_command pitr-archive --dst-backup %s?", name, run->opts->xlogs,
			       limit, run->opts->xlogs);
	return -1;
}

/* One segment of the backup into the xlog tarball, decompressed by its
 * codec when it comes from the archive. */
static int
add_segment(struct bk_run *run, const char *name, const char *member, size_t segsize)
{
	char *path = NULL, *buf = NULL;
	enum pitr_codec codec;
	struct pitr_codec_reader *r = NULL;
	size_t got = 0;
	int fd = -1, rc = -1, found = find_segment(run, name, &path, &codec);

	if (found == 0)
		pitr_log_error("WAL segment \"%s\" the backup needs is missing from %s \"%s\"", name,
			       run->slave ? "--source archive" : "--xlogs dir",
			       run->slave ? run->source.location : run->opts->xlogs);
	if (found != 1)
		goto out;
	if (!run->slave) {
		rc = pitr_tarwrite_add_file(run->tar, path, member);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		pitr_log_error("could not open \"%s\": %s", path, strerror(errno));
		goto out;
	}
	buf = malloc(segsize + 1);
	r = buf ? pitr_codec_reader_new(codec, fd, path) : NULL;
	if (r == NULL) {
		if (buf == NULL)
			pitr_log_error("out of memory");
		goto out;
	}
	/* One byte more than a segment, to see an overlong one. */
	while (got <= segsize) {
		ssize_t n = pitr_codec_reader_read(r, buf + got, segsize + 1 - got);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != segsize) {
		pitr_log_error("archived WAL segment \"%s\" holds %s%zu bytes, not a segment of %zu",
			       path, got > segsize ? "more than " : "", got > segsize ? segsize : got,
			       segsize);
		goto out;
	}
	rc = pitr_tarwrite_add_buffer(run->tar, member, buf, segsize, 0600);
out:
	pitr_codec_reader_free(r);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return rc;
}

/* The segment holding the byte before `lsn` ("0/3000028"), as
 * pg_walfile_name() names it; it cannot run on a standby. */
static int
lsn_segment(const char *lsn, uint32_t tli, uint32_t segsize, char *out)
{
	unsigned int hi, lo;
	char extra;
	uint64_t pos;

	if (sscanf(lsn, "%X/%X%c", &hi, &lo, &extra) != 2) {
		pitr_log_error("server gave \"%s\", not a WAL location", lsn);
		return -1;
	}
	pos = ((uint64_t)hi << 32) | lo;
	pitr_wal_format_segment(out, tli, pos == 0 ? 0 : (pos - 1) / segsize, segsize);
	return 0;
}

static int
install_signals(struct sigaction *old_term, struct sigaction *old_int)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	bk_signal = 0;
	if (sigaction(SIGTERM, &sa, old_term) != 0 || sigaction(SIGINT, &sa, old_int) != 0) {
		pitr_log_error("could not install signal handlers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
backup_run(const struct pitr_backup_opts *opts, bool slave)
{
	struct bk_run run = { .opts = opts, .slave = slave };
	struct pitr_pgconn_params params = { opts->dbname, opts->host, opts->port, opts->user };
	struct pitr_pgconn_backup_stop stop = { 0 };
	struct sigaction old_term, old_int;
	char *server_dd = NULL, *segsize_s = NULL, *sysid = NULL, *start_lsn = NULL;
	char *recovery = NULL, *meta = NULL, *label = NULL;
	char start_file[32], stop_file[PITR_WAL_NAME_MAX], prefix[PATH_MAX], tstart[64], tstop[64];
	char codecs[128] = "", digests[128] = "";
	int nd;
	uint64_t data_size = 0, xlog_size = 0;
	struct pitr_wal_name sname, ename;
	unsigned long long segsize;
	bool want_xlogs = !opts->skip_xlogs;
	int rc = -1;

	if (install_signals(&old_term, &old_int) != 0)
		return -1;
	run.env.temp_dir = opts->temp_dir;
	run.env.rsync_path = opts->rsync_path;
	run.env.ssh_path = opts->ssh_path;
	if (gethostname(run.hostname, sizeof(run.hostname) - 1) != 0)
		strcpy(run.hostname, "localhost");
	if (opts->pid_file != NULL && (run.pidfile = pitr_pidfile_acquire(opts->pid_file)) == NULL)
		goto out;
	if (collect_specs(&run) != 0)
		goto out;
	nd = pitr_backup_parse_digests(opts->digests, run.digests);
	if (nd < 0)
		goto out;
	run.ndigests = (size_t)nd;
	for (size_t k = 0; k < run.ndigests; k++)
		snprintf(digests + strlen(digests), sizeof(digests) - strlen(digests), "%s%s",
			 k > 0 ? "," : "", run.digests[k]);
	if (check_names(&run) != 0)
		goto out;
	run.streams = calloc(FT_COUNT(&run), sizeof(*run.streams));
	if (run.streams == NULL) {
		pitr_log_error("out of memory");
		goto out;
	}
	if (slave && opts->source != NULL &&
	    pitr_dest_spec_parse(opts->source, PITR_DEST_LOCAL, "--source", &run.source) != 0)
		goto out;
	if (slave && want_xlogs && opts->source == NULL) {
		pitr_log_error("no --source given: the xlog tarball is made from the archive the "
			       "standby restores from (or use --skip-xlogs)");
		goto out;
	}
	if (!slave && want_xlogs && (opts->xlogs == NULL || opts->xlogs[0] != '/')) {
		make_xlog_dir(&run);  /* logs the reason */
		goto out;
	}
	run.conn = pitr_pgconn_connect(&params);
	if (run.conn == NULL)
		goto out;
	if (pitr_pgconn_show(run.conn, "data_directory", &server_dd) != 0 ||
	    pitr_pgconn_query_value(run.conn, "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'",
				    &segsize_s) != 0 ||
	    pitr_pgconn_query_value(run.conn, "SELECT system_identifier FROM pg_control_system()",
				    &sysid) != 0 ||
	    pitr_pgconn_query_value(run.conn, "SELECT pg_is_in_recovery()", &recovery) != 0)
		goto out;
	if (strcmp(recovery, slave ? "t" : "f") != 0) {
		pitr_log_error(slave ? "the server is not a standby (not in recovery): use "
			       "pitr-backup-master" : "the server is a standby (in recovery): use "
			       "pitr-backup-slave");
		goto out;
	}
	segsize = strtoull(segsize_s, NULL, 10);
	if (!pitr_wal_segsize_valid(segsize)) {
		pitr_log_error("server reports wal_segment_size \"%s\", not a valid segment size", segsize_s);
		goto out;
	}
	if (check_dirs(&run, server_dd) != 0)
		goto out;
	if (!slave && want_xlogs && make_xlog_dir(&run) != 0)
		goto out;
	if (remove_stale_temps(&run) != 0)
		goto out;
	if (slave && opts->call_master)
		pitr_log_verbose("--call-master: PostgreSQL 15 runs the backup on the standby itself; "
				 "the master is not called");
	run.start_time = time(NULL);
	format_time(run.start_time, tstart, sizeof(tstart));
	if (asprintf(&label, "pitrkit %s %s", run.hostname, tstart) < 0) {
		label = NULL;
		pitr_log_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < run.nspecs; i++)
		if (strstr(codecs, pitr_codec_name(run.specs[i].codec)) == NULL)
			snprintf(codecs + strlen(codecs), sizeof(codecs) - strlen(codecs), "%s%s",
				 codecs[0] ? "," : "", pitr_codec_name(run.specs[i].codec));
	if (!opts->not_nice)
		(void)setpriority(PRIO_PROCESS, 0, BACKUP_NICENESS);

	/* The data tarball. */
	if (stream_open(&run, FT_DATA, "data", true, false) != 0)
		goto out;
	if (slave && claim_trigger(&run) != 0)
		goto out;
	if (stopped(&run) || pitr_pgconn_backup_start(run.conn, label, &start_lsn) != 0)
		goto out;
	pitr_log_info("backup \"%s\" started at %s", label, start_lsn);
	run.tar = pitr_tarwrite_new(stream_sink, &run.streams[FT_DATA]);
	if (run.tar == NULL ||
	    pitr_tarwrite_add_tree(run.tar, run.data_dir, run.data_base,
				   PITR_TARWRITE_PGDATA | PITR_TARWRITE_ROOT_0700 |
				   PITR_TARWRITE_SKIP_PGCONTROL) != 0 ||
	    add_tablespaces(&run) != 0 || add_pg_control(&run) != 0)
		goto out;
	/* With an xlog tarball the stop segment is waited for in the -x dir
	 * (or the standby's -s archive) at a finer step than PostgreSQL's
	 * one-second look at the archiver; with -sx on a primary the archive
	 * itself must hold the WAL, so PostgreSQL waits for it. */
	if (stopped(&run) ||
	    pitr_pgconn_backup_stop(run.conn, !want_xlogs && !slave, &stop) != 0)
		goto out;
	run.stop_time = time(NULL);
	snprintf(prefix, sizeof(prefix), "%s/backup_label", run.data_base);
	if (pitr_tarwrite_add_buffer(run.tar, prefix, stop.labelfile, strlen(stop.labelfile), 0600) != 0)
		goto out;
	snprintf(prefix, sizeof(prefix), "%s/tablespace_map", run.data_base);
	if (stop.spcmapfile[0] != '\0' &&
	    pitr_tarwrite_add_buffer(run.tar, prefix, stop.spcmapfile, strlen(stop.spcmapfile), 0600) != 0)
		goto out;
	if (pitr_tarwrite_finish(run.tar) != 0 || stream_close(&run, FT_DATA) != 0)
		goto out;
	data_size = pitr_tarwrite_bytes(run.tar);
	pitr_tarwrite_free(run.tar);
	run.tar = NULL;
	pitr_pgconn_close(run.conn);
	run.conn = NULL;

	/* The xlog tarball: start to stop segment from the WAL source. */
	if (label_start_file(stop.labelfile, start_file) != 0 ||
	    pitr_wal_parse(start_file, &sname) != PITR_WAL_SEGMENT ||
	    lsn_segment(stop.lsn, sname.tli, (uint32_t)segsize, stop_file) != 0)
		goto out;
	if (pitr_wal_parse(stop_file, &ename) != PITR_WAL_SEGMENT ||
	    pitr_wal_segno(&ename, (uint32_t)segsize) < pitr_wal_segno(&sname, (uint32_t)segsize)) {
		pitr_log_error("server gave an impossible WAL range \"%s\" to \"%s\"", start_file, stop_file);
		goto out;
	}
	if (want_xlogs || (slave && opts->source != NULL)) {
		if (wait_for_segment(&run, stop_file) != 0 || (!slave && move_xlog_dir(&run) != 0))
			goto out;
	}
	if (want_xlogs) {
		if (stream_open(&run, FT_XLOG, "xlog", true, false) != 0)
			goto out;
		run.tar = pitr_tarwrite_new(stream_sink, &run.streams[FT_XLOG]);
		if (run.tar == NULL)
			goto out;
		for (uint64_t segno = pitr_wal_segno(&sname, (uint32_t)segsize);
		     segno <= pitr_wal_segno(&ename, (uint32_t)segsize); segno++) {
			char name[PITR_WAL_NAME_MAX];

			pitr_wal_format_segment(name, sname.tli, segno, (uint32_t)segsize);
			snprintf(prefix, sizeof(prefix), "%s/pg_wal/%s", run.data_base, name);
			if (stopped(&run) || add_segment(&run, name, prefix, (size_t)segsize) != 0)
				goto out;
		}
		if (pitr_tarwrite_finish(run.tar) != 0 || stream_close(&run, FT_XLOG) != 0)
			goto out;
		xlog_size = pitr_tarwrite_bytes(run.tar);
	}
	/* The segments are in the xlog tarball (or, with -sx, the archive
	 * serves them): cleanup may go on. */
	release_trigger(&run);
	if (write_digest_files(&run) != 0)
		goto out;

	/* The meta file, last: its presence marks a complete backup. */
	format_time(run.stop_time, tstop, sizeof(tstop));
	if (asprintf(&meta, "start_wal=%s\nstop_wal=%s\nstart_lsn=%s\nstop_lsn=%s\nstart_time=%s\n"
		     "stop_time=%s\nstart_epoch=%lld\nstop_epoch=%lld\nhost=%s\nlabel=%s\n"
		     "system_identifier=%s\ntimeline=%" PRIu32 "\nwal_segment_size=%llu\ndata_dir=%s\n"
		     "data_size=%" PRIu64 "\nxlog_size=%" PRIu64 "\ncodec=%s\ndigests=%s\n",
		     start_file, stop_file, start_lsn, stop.lsn, tstart, tstop, (long long)run.start_time,
		     (long long)run.stop_time, run.hostname, label, sysid, sname.tli, segsize,
		     run.data_dir, data_size, xlog_size, codecs, digests) < 0) {
		meta = NULL;
		pitr_log_error("out of memory");
		goto out;
	}
	if (stream_open(&run, FT_META(&run), "meta", false, false) != 0 ||
	    stream_sink(&run.streams[FT_META(&run)], meta, strlen(meta)) != 0 ||
	    stream_close(&run, FT_META(&run)) != 0)
		goto out;
	if (stopped(&run))
		goto out;
	if (publish_all(&run) != 0) {
		pitr_log_error("backup incomplete: some destinations did not receive all the files");
		goto out;
	}
	pitr_log_info("backup \"%s\" done: WAL %s to %s, %" PRIu64 " bytes of data, %" PRIu64
		      " bytes of WAL%s, to %zu destinations", label, start_file, stop_file, data_size,
		      xlog_size, want_xlogs ? "" : " (--skip-xlogs: restore with the archive)", run.nspecs);
	rc = 0;
out:
	remove_xlog_dir(&run);
	release_trigger(&run);
	pitr_pgconn_backup_stop_free(&stop);
	free(server_dd);
	free(segsize_s);
	free(sysid);
	free(recovery);
	free(start_lsn);
	free(meta);
	free(label);
	run_free(&run);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGINT, &old_int, NULL);
	return rc;
}

int
pitr_cmd_backup_master(const struct pitr_backup_opts *opts)
{
	return backup_run(opts, false);
}

int
pitr_cmd_backup_slave(const struct pitr_backup_opts *opts)
{
	return backup_run(opts, true);
}

void
pitr_backup_opts_shared(const struct pitr_opts *o, struct pitr_backup_opts *b)
{
	b->data_dir = pitr_opts_str(o, "data-dir");
	b->dbname = pitr_opts_str(o, "database");
	b->host = pitr_opts_str(o, "host");
	b->port = pitr_opts_str(o, "port");
	b->user = pitr_opts_str(o, "username");
	b->dst_local = pitr_opts_list(o, "dst-local", &b->ndst_local);
	b->dst_remote = pitr_opts_list(o, "dst-remote", &b->ndst_remote);
	b->dst_pipe = pitr_opts_list(o, "dst-pipe", &b->ndst_pipe);
	b->dst_direct = pitr_opts_list(o, "dst-direct", &b->ndst_direct);
	b->temp_dir = pitr_opts_str(o, "temp-dir");
	b->filename_template = pitr_opts_str(o, "filename-template");
	b->pid_file = pitr_opts_str(o, "pid-file");
	b->parallel_jobs = (int)pitr_opts_int(o, "parallel-jobs");
	b->not_nice = pitr_opts_flag(o, "not-nice");
	b->rsync_path = pitr_opts_str(o, "rsync-path");
	b->ssh_path = pitr_opts_str(o, "ssh-path");
	b->digests = pitr_opts_str(o, "digest");
	b->skip_xlogs = pitr_opts_flag(o, "skip-xlogs");
}
