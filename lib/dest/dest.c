/*
 * dest.c - destination specs and a program's destination options, the
 * kind-independent calls, and the staging shared by the kinds that deliver
 * through a child process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest/dest.h"
#include "dest/dest_impl.h"
#include "common/fsutil.h"
#include "common/io.h"
#include "common/log.h"
#include "common/sigclean.h"
#include "common/xalloc.h"
#include "s3/s3.h"

static const struct pitr_dest_ops *const ops_by_kind[] = {
	[PITR_DEST_LOCAL] = &pitr_dest_local_ops,
	[PITR_DEST_RSYNC] = &pitr_dest_rsync_ops,
	[PITR_DEST_PIPE] = &pitr_dest_pipe_ops,
	[PITR_DEST_SSH] = &pitr_dest_ssh_ops,
	[PITR_DEST_S3] = &pitr_dest_s3_ops,
};

/* A kind from outside the enum would read past the table. */
static bool
kind_known(enum pitr_dest_kind kind)
{
	if ((size_t)kind < sizeof(ops_by_kind) / sizeof(ops_by_kind[0]) && ops_by_kind[kind] != NULL)
		return true;
	pitr_log_error("destination kind %d is unknown", (int)kind);
	return false;
}

/* True if the `len` bytes at `name` spell a codec's name. */
static bool
codec_name_known(const char *name, size_t len)
{
	char buf[32];
	enum pitr_codec codec;

	if (len >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, name);
	return pitr_codec_from_name(buf, &codec) == 0;
}

/*
 * True if `prefix` (length `len`) has the shape of a codec spelling,
 * NAME or NAME:LEVEL with NAME in [a-z0-9].  Only then is the text before
 * '=' taken as a codec: a directory such as "/data/a=b" keeps its '='.
 * A known codec's name and ':' make it one whatever follows, so that
 * "gzip:x=DIR" is refused as a bad level, not taken as a directory.
 */
static bool
looks_like_codec(const char *prefix, size_t len)
{
	size_t pos = 0;

	while (pos < len && ((prefix[pos] >= 'a' && prefix[pos] <= 'z') ||
			     (prefix[pos] >= '0' && prefix[pos] <= '9')))
		pos++;
	if (pos == 0)
		return false;
	if (pos == len)
		return true;
	if (prefix[pos] == ':' && codec_name_known(prefix, pos))
		return true;
	if (prefix[pos] != ':' || pos + 1 == len)
		return false;
	for (pos++; pos < len; pos++)
		if (prefix[pos] < '0' || prefix[pos] > '9')
			return false;
	return true;
}

/*
 * Check an rsync location: rsync://[user@]host[:port]/module[/path] for a
 * daemon, or [user@]host:path for the remote shell.  A plain local path is
 * refused: --dst-remote with a directory is a typo for --dst-local, and
 * rsync would silently copy locally.
 */
static bool
rsync_location_valid(const char *loc)
{
	if (strncmp(loc, "rsync://", 8) == 0) {
		const char *host = loc + 8;
		const char *slash = strchr(host, '/');

		return slash != NULL && slash != host && slash[1] != '\0' && slash[1] != '/';
	} else {
		const char *colon = strchr(loc, ':');
		const char *slash = strchr(loc, '/');

		return colon != NULL && colon != loc && (slash == NULL || slash > colon) &&
		       colon[1] != '\0';
	}
}

/* An s3 location checked and spelt one way, "s3://BUCKET/PREFIX/", so
 * that its state-dir key does not depend on a trailing '/'.  NULL after
 * logging. */
static char *
s3_location(const char *loc, const char *optname)
{
	struct pitr_s3_url url;
	char *location;

	if (pitr_s3_url_parse(loc, optname, &url) != 0)
		return NULL;
	location = pitr_xasprintf("%s%s/%s", PITR_S3_SCHEME, url.bucket, url.prefix);
	pitr_s3_url_free(&url);
	return location;
}

int
pitr_dest_spec_parse(const char *arg, enum pitr_dest_kind kind, const char *optname,
		     struct pitr_dest_spec *out)
{
	const char *eq = strchr(arg, '=');
	const char *loc = arg;
	enum pitr_codec codec = PITR_CODEC_NONE;
	long level;
	size_t loclen;

	memset(out, 0, sizeof(*out));
	if (!kind_known(kind))
		return -1;
	level = pitr_codec_default_level(codec);
	if (eq != NULL && looks_like_codec(arg, (size_t)(eq - arg))) {
		char name[32];
		size_t namelen = strcspn(arg, ":=");

		if (namelen >= sizeof(name) || (snprintf(name, sizeof(name), "%.*s", (int)namelen, arg),
						pitr_codec_from_name(name, &codec) != 0)) {
			pitr_log_error("unknown compression \"%.*s\" in %s \"%s\": expected none, gzip, "
				       "bzip2, lzma, xz, lz4 or zstd", (int)namelen, arg, optname, arg);
			return -1;
		}
		/* Explicit, so that "xz" and "xz:6" share one compressor and
		 * "xz:0" is xz's preset 0, not "the default". */
		level = pitr_codec_default_level(codec);
		if (arg[namelen] == ':') {
			char *end;

			errno = 0;
			level = strtol(arg + namelen + 1, &end, 10);
			if (errno != 0 || end != eq || level < pitr_codec_min_level(codec) ||
			    level > pitr_codec_max_level(codec)) {
				pitr_log_error("invalid compression level in %s \"%s\": %s takes %d to %d",
					       optname, arg, pitr_codec_name(codec),
					       pitr_codec_min_level(codec), pitr_codec_max_level(codec));
				return -1;
			}
		}
		loc = eq + 1;
	}
	if (*loc == '\0') {
		pitr_log_error("%s \"%s\" names no location", optname, arg);
		return -1;
	}
	/* Objects, not files: --dst-remote's other kind. */
	if (kind == PITR_DEST_RSYNC && pitr_s3_is_url(loc))
		kind = PITR_DEST_S3;
	if (kind == PITR_DEST_LOCAL && pitr_s3_is_url(loc)) {
		pitr_log_error("%s \"%s\" names an object store: use --dst-remote", optname, arg);
		return -1;
	}
	if (kind == PITR_DEST_RSYNC && !rsync_location_valid(loc)) {
		pitr_log_error("%s \"%s\" is not an rsync location: expected "
			       "rsync://[user@]host[:port]/module/path/ or [user@]host:/path/",
			       optname, arg);
		return -1;
	}
	if (kind == PITR_DEST_SSH && !pitr_dest_ssh_location_valid(loc)) {
		pitr_log_error("%s \"%s\" is not an ssh location: expected [CODEC=][USER@]HOST:/PATH",
			       optname, arg);
		return -1;
	}
	out->kind = kind;
	out->codec = codec;
	out->level = (int)level;
	if (kind == PITR_DEST_S3) {
		if ((out->location = s3_location(loc, optname)) == NULL)
			goto fail;
	} else {
		/* rsync needs the trailing slash to treat the target as a
		 * directory. */
		loclen = strlen(loc);
		out->location = pitr_xmalloc(loclen + 2);
		if (out->location == NULL)
			goto fail;
		memcpy(out->location, loc, loclen + 1);
		if (kind == PITR_DEST_RSYNC && loc[loclen - 1] != '/')
			strcat(out->location, "/");
	}
	out->key = pitr_xasprintf("%s:%s=%s", ops_by_kind[kind]->kind_name, pitr_codec_name(codec),
				  out->location);
	if (out->key == NULL)
		goto fail;
	return 0;
fail:
	pitr_dest_spec_free(out);
	return -1;
}

void
pitr_dest_spec_free(struct pitr_dest_spec *spec)
{
	if (spec == NULL)
		return;
	free(spec->location);
	free(spec->key);
	spec->location = NULL;
	spec->key = NULL;
}

int
pitr_dest_spec_copy(struct pitr_dest_spec *dst, const struct pitr_dest_spec *src)
{
	*dst = *src;
	dst->location = dst->key = NULL;
	if ((dst->location = pitr_xstrdup(src->location)) == NULL ||
	    (dst->key = pitr_xstrdup(src->key)) == NULL) {
		pitr_dest_spec_free(dst);
		return -1;
	}
	return 0;
}

const char *
pitr_dest_spec_dir(const struct pitr_dest_spec *spec)
{
	return spec->kind == PITR_DEST_LOCAL ? spec->location : NULL;
}

size_t
pitr_dest_args_count(const struct pitr_dest_args *args)
{
	return args->nlocal + args->nremote + args->npipe + args->ndirect +
		(args->backup != NULL ? 1 : 0);
}

/* --dst-backup's spec, in *spec, when its directory exists: 1; 0 when it
 * does not (no backup is collecting WAL); -1 after logging. */
static int
backup_spec(const char *dir, struct pitr_dest_spec *spec)
{
	struct stat st;

	/* The backup's WAL collection exists only while pitr-backup-master
	 * runs: no directory, no copy. */
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		pitr_log_verbose("--dst-backup \"%s\" does not exist: no backup is collecting WAL", dir);
		return 0;
	}
	memset(spec, 0, sizeof(*spec));
	spec->kind = PITR_DEST_LOCAL;
	spec->codec = PITR_CODEC_NONE;
	spec->backup_copy = true;
	if ((spec->location = pitr_xstrdup(dir)) == NULL ||
	    (spec->key = pitr_xasprintf("backup:none=%s", dir)) == NULL) {
		pitr_dest_spec_free(spec);
		return -1;
	}
	return 1;
}

int
pitr_dest_args_parse(const struct pitr_dest_args *args, struct pitr_dest_spec **specs, size_t *n)
{
	const struct {
		const char **args;
		size_t n;
		enum pitr_dest_kind kind;
		const char *optname;
	} lists[] = {
		{ args->local, args->nlocal, PITR_DEST_LOCAL, "--dst-local" },
		{ args->remote, args->nremote, PITR_DEST_RSYNC, "--dst-remote" },
		{ args->pipe, args->npipe, PITR_DEST_PIPE, "--dst-pipe" },
		{ args->direct, args->ndirect, PITR_DEST_SSH, "--dst-direct" },
	};
	size_t total = pitr_dest_args_count(args);

	*specs = NULL;
	*n = 0;
	if (args->backup != NULL && args->backup[0] != '/' && strchr(args->backup, '=') != NULL) {
		pitr_log_error("--dst-backup \"%s\" cannot be compressed: pitr-backup-master reads it "
			       "as plain WAL", args->backup);
		return -1;
	}
	if (args->backup != NULL && args->backup[0] != '/') {
		pitr_log_error("--dst-backup \"%s\" must be an absolute path", args->backup);
		return -1;
	}
	if (total == 0)
		return 0;
	*specs = pitr_xcalloc(total, sizeof(**specs));
	if (*specs == NULL)
		return -1;
	for (size_t list_idx = 0; list_idx < sizeof(lists) / sizeof(lists[0]); list_idx++) {
		for (size_t arg_idx = 0; arg_idx < lists[list_idx].n; arg_idx++) {
			if (pitr_dest_spec_parse(lists[list_idx].args[arg_idx], lists[list_idx].kind,
						 lists[list_idx].optname, &(*specs)[*n]) != 0)
				goto fail;
			(*n)++;
		}
		/* Right after the locals: published with them. */
		if (list_idx == 0 && args->backup != NULL) {
			int found = backup_spec(args->backup, &(*specs)[*n]);

			if (found < 0)
				goto fail;
			*n += (size_t)found;
		}
	}
	return 0;
fail:
	pitr_dest_specs_free(*specs, *n);
	*specs = NULL;
	*n = 0;
	return -1;
}

void
pitr_dest_specs_free(struct pitr_dest_spec *specs, size_t n)
{
	for (size_t spec_idx = 0; spec_idx < n && specs != NULL; spec_idx++)
		pitr_dest_spec_free(&specs[spec_idx]);
	free(specs);
}

struct pitr_dest *
pitr_dest_new(const struct pitr_dest_spec *spec, const struct pitr_dest_env *env)
{
	struct pitr_dest *d;

	if (!kind_known(spec->kind))
		return NULL;
	d = pitr_xcalloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->ops = ops_by_kind[spec->kind];
	d->env = env;
	if (pitr_dest_spec_copy(&d->spec, spec) != 0) {
		free(d);
		return NULL;
	}
	return d;
}

const char *
pitr_dest_label(const struct pitr_dest *d)
{
	return d->spec.location;
}

const char *
pitr_dest_kind_name(const struct pitr_dest *d)
{
	return d->ops->kind_name;
}

bool
pitr_dest_staged(const struct pitr_dest *d)
{
	return d->ops->staged;
}

int
pitr_dest_open(struct pitr_dest *d, const char *name)
{
	free(d->name);
	d->name = pitr_xstrdup(name);
	if (d->name == NULL)
		return -1;
	return d->ops->open(d, name);
}

int
pitr_dest_write(struct pitr_dest *d, const void *buf, size_t len)
{
	return d->ops->write(d, buf, len);
}

int
pitr_dest_end_upload(struct pitr_dest *d)
{
	return d->ops->end_upload != NULL ? d->ops->end_upload(d) : 0;
}

int
pitr_dest_finish_begin(struct pitr_dest *d)
{
	return d->ops->finish_begin(d);
}

int
pitr_dest_finish_end(struct pitr_dest *d, enum pitr_dest_result *result)
{
	return d->ops->finish_end(d, result);
}

void
pitr_dest_abort(struct pitr_dest *d)
{
	if (d != NULL)
		d->ops->abort(d);
}

void
pitr_dest_free(struct pitr_dest *d)
{
	if (d == NULL)
		return;
	d->ops->free(d);
	pitr_dest_spec_free(&d->spec);
	free(d->name);
	free(d);
}

int
pitr_dest_stage_open(struct pitr_dest_stage *st, const struct pitr_dest_env *env, const char *name)
{
	const char *tmp = pitr_fsutil_tmpdir(env->temp_dir);

	memset(st, 0, sizeof(*st));
	st->fd = -1;
	st->path_slot = -1;
	if (pitr_tmp_mkdir(&st->tdir, tmp, "stage") != 0)
		return -1;
	st->dir = st->tdir.path;
	st->path = pitr_fsutil_join(st->dir, name);
	if (st->path == NULL)
		goto fail;
	st->fd = open(st->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		pitr_log_error("could not create \"%s\": %s", st->path, strerror(errno));
		goto fail;
	}
	st->path_slot = pitr_sigclean_add_path(st->path, false);
	return 0;
fail:
	pitr_dest_stage_remove(st);
	return -1;
}

int
pitr_dest_stage_write(struct pitr_dest_stage *st, const void *buf, size_t len)
{
	if (pitr_io_write_all(st->fd, buf, len) != 0) {
		pitr_log_error("could not write \"%s\": %s", st->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
pitr_dest_stage_close(struct pitr_dest_stage *st)
{
	int fd = st->fd;

	st->fd = -1;
	if (fd >= 0 && close(fd) != 0) {
		pitr_log_error("could not write \"%s\": %s", st->path, strerror(errno));
		return -1;
	}
	return 0;
}

void
pitr_dest_stage_remove(struct pitr_dest_stage *st)
{
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	/* A zeroed stage (path NULL) owns no slot. */
	if (st->path != NULL) {
		unlink(st->path);
		pitr_sigclean_remove(st->path_slot);
	}
	st->path_slot = -1;
	free(st->path);
	st->path = NULL;
	/* The directory last: removing it drops its lock. */
	pitr_tmp_discard(&st->tdir);
	st->dir = NULL;
}
