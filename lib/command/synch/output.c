/*
 * output.c - pitr-synch's -o, -m and -c arguments: an output parsed, a
 * map parsed, and each tablespace's place at each output.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "command/synch/output.h"
#include "command/synch/synch_impl.h"
#include "common/log.h"
#include "common/opts.h"
#include "common/xalloc.h"

/* `s` without trailing slashes, "/" kept. */
static void
strip_slashes(char *s)
{
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		s[--len] = '\0';
}

/* "PORT" of 1..65535 exactly; -1 otherwise. */
static int
parse_port(const char *s, size_t len)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/* A path with a "." or ".." component is refused: an output names one
 * place, compared with the others as written (`-m OLD:$OUT/.` is the
 * output itself, whose tablespace --delete would empty it). */
static bool
path_ok(const char *p)
{
	for (const char *c = p; *c != '\0';) {
		size_t n = strcspn(c, "/");

		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
		c += strspn(c, "/");
	}
	return strchr(p, '\n') == NULL;
}

/* [user@]host[:port]/module/path after "rsync://". */
static int
parse_rsyncd(const char *arg, const char *s, struct synch_output *out)
{
	const char *at = strchr(s, '@'), *slash = strchr(s, '/'), *host = s, *colon;
	size_t hlen;

	if (at != NULL && (slash == NULL || at < slash)) {
		if ((out->user = pitr_xstrndup(s, (size_t)(at - s))) == NULL)
			return -1;
		host = at + 1;
	}
	if (slash == NULL || slash[strspn(slash, "/")] == '\0')
		goto bad;
	colon = memchr(host, ':', (size_t)(slash - host));
	hlen = (size_t)((colon ? colon : slash) - host);
	if (hlen == 0 || (out->user != NULL && out->user[0] == '\0'))
		goto bad;
	if (colon != NULL && (out->port = parse_port(colon + 1, (size_t)(slash - colon - 1))) < 0)
		goto bad;
	if ((out->host = pitr_xstrndup(host, hlen)) == NULL ||
	    (out->path = pitr_xstrdup(slash + strspn(slash, "/"))) == NULL)
		return -1;
	strip_slashes(out->path);
	if (!path_ok(out->path))
		goto bad;
	return 0;
bad:
	pitr_log_error("invalid value \"%s\" for option \"--output\": expected "
		       "rsync://[USER@]HOST[:PORT]/MODULE[/PATH]", arg);
	return -1;
}

/* [user@]host[:port]:/path */
static int
parse_ssh(const char *arg, struct synch_output *out)
{
	const char *colon = strchr(arg, ':'), *at = strchr(arg, '@'), *host = arg, *path, *c2;

	if (colon == NULL)
		goto bad;
	if (at != NULL && at < colon) {
		if (at == arg || (out->user = pitr_xstrndup(arg, (size_t)(at - arg))) == NULL)
			goto bad_or_oom;
		host = at + 1;
	}
	if (colon == host)
		goto bad;
	path = colon + 1;
	c2 = strchr(path, ':');
	if (path[0] != '/' && c2 != NULL) {
		if ((out->port = parse_port(path, (size_t)(c2 - path))) < 0)
			goto bad;
		path = c2 + 1;
	}
	if (path[0] != '/' || !path_ok(path))
		goto bad;
	if ((out->host = pitr_xstrndup(host, (size_t)(colon - host))) == NULL ||
	    (out->path = pitr_xstrdup(path)) == NULL)
		return -1;
	strip_slashes(out->path);
	if (strcmp(out->path, "/") == 0)
		goto bad;
	out->kind = SYNCH_OUT_SSH;
	return 0;
bad_or_oom:
	if (at == arg)
		goto bad;
	return -1;
bad:
	pitr_log_error("invalid value \"%s\" for option \"--output\": expected an absolute "
		       "directory, [USER@]HOST[:PORT]:/DIR or rsync://[USER@]HOST[:PORT]/MODULE[/PATH]",
		       arg);
	return -1;
}

int
synch_output_parse(const char *arg, struct synch_output *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if ((out->label = pitr_xstrdup(arg)) == NULL)
		return -1;
	if (strncmp(arg, "rsync://", 8) == 0) {
		out->kind = SYNCH_OUT_RSYNCD;
		rc = parse_rsyncd(arg, arg + 8, out);
	} else if (arg[0] == '/') {
		out->kind = SYNCH_OUT_LOCAL;
		rc = -1;
		if ((out->path = pitr_xstrdup(arg)) != NULL) {
			strip_slashes(out->path);
			rc = 0;
			if (strcmp(out->path, "/") == 0 || !path_ok(out->path)) {
				pitr_log_error("invalid value \"%s\" for option \"--output\": the root "
					       "directory or a path with \".\" or \"..\" cannot be an "
					       "output", arg);
				rc = -1;
			}
		}
	} else {
		rc = parse_ssh(arg, out);
	}
	if (rc != 0)
		synch_output_free(out);
	return rc;
}

void
synch_output_free(struct synch_output *out)
{
	if (out == NULL)
		return;
	free(out->label);
	free(out->user);
	free(out->host);
	free(out->path);
	memset(out, 0, sizeof(*out));
}

/* ---- -m OLD:NEW ---------------------------------------------------------- */

int
synch_map_parse(const char *arg, struct synch_map *map)
{
	const char *colon = strchr(arg, ':');
	struct synch_output o;
	char held[2];

	memset(map, 0, sizeof(*map));
	if (colon == NULL || arg[0] != '/' || colon[1] == '\0')
		goto bad;
	if ((map->old = pitr_xstrndup(arg, (size_t)(colon - arg))) == NULL)
		return -1;
	strip_slashes(map->old);
	if (!path_ok(map->old))
		goto bad;
	if (colon[1] == '/' || strchr(colon + 1, ':') == NULL) {
		/* A plain path: absolute for every output, relative beside
		 * each output's data directory. */
		if (!path_ok(colon + 1) || (colon[1] == '.' && (colon[2] == '\0' || colon[2] == '/')))
			goto bad;
		if ((map->new = pitr_xstrdup(colon + 1)) == NULL)
			goto oom;
		strip_slashes(map->new);
		/* A tablespace place is rsync --delete's target: never "/". */
		if (strcmp(map->new, "/") == 0)
			goto bad;
		return 0;
	}
	pitr_log_hold(held, sizeof(held));
	if (synch_output_parse(colon + 1, &o) != 0 || o.kind != SYNCH_OUT_SSH || o.port != 0) {
		pitr_log_hold(NULL, 0);
		if (o.label != NULL)
			synch_output_free(&o);
		goto bad;
	}
	pitr_log_hold(NULL, 0);
	map->user = o.user;
	map->host = o.host;
	map->new = o.path;
	o.user = o.host = o.path = NULL;
	synch_output_free(&o);
	return 0;
bad:
	pitr_log_error("invalid value \"%s\" for option \"--map\": expected /OLD:/NEW, /OLD:NEW "
		       "(beside each output's data directory) or /OLD:[USER@]HOST:/NEW", arg);
oom:
	synch_map_free(map);
	return -1;
}

void
synch_map_free(struct synch_map *map)
{
	if (map == NULL)
		return;
	free(map->old);
	free(map->user);
	free(map->host);
	free(map->new);
	memset(map, 0, sizeof(*map));
}

/* How many bytes of `location` OLD covers, or -1 when it is no prefix (by
 * components: /ts is a prefix of /ts/a, not of /tsx). */
static long
prefix_len(const char *old, const char *location)
{
	size_t n = strlen(old);

	if (strcmp(old, "/") == 0)
		return 1;
	if (strncmp(old, location, n) != 0 || (location[n] != '\0' && location[n] != '/'))
		return -1;
	return (long)n;
}

static bool
applies(const struct synch_map *m, const struct synch_output *out)
{
	if (m->host == NULL)
		return true;
	if (out->kind == SYNCH_OUT_LOCAL || out->host == NULL || strcmp(m->host, out->host) != 0)
		return false;
	return m->user == NULL || (out->user != NULL && strcmp(m->user, out->user) == 0);
}

/* NEW joined with the rest of the location; a relative NEW beside the
 * output's data directory. */
static char *
mapped(const struct synch_map *m, const struct synch_output *out, const char *rest)
{
	char *base, *res;

	while (*rest == '/')
		rest++;
	if (m->new[0] == '/') {
		base = pitr_xstrdup(m->new);
	} else {
		/* An rsync daemon's "module/path" keeps its module; its module's
		 * root has nothing beside it. */
		const char *slash = strrchr(out->path, '/');

		if (slash == NULL) {
			pitr_log_error("--map \"%s:%s\": output \"%s\" is a module's root, with no "
				       "directory beside it: give an absolute NEW", m->old, m->new, out->label);
			return NULL;
		}
		base = pitr_xasprintf("%.*s/%s", (int)(slash - out->path), out->path, m->new);
	}
	if (base == NULL)
		return NULL;
	if (*rest == '\0')
		return base;
	res = pitr_xasprintf("%s%s%s", base, strcmp(base, "/") == 0 ? "" : "/", rest);
	free(base);
	return res;
}

char *
synch_map_resolve(struct synch_map *maps, size_t nmaps, const struct synch_output *out,
		  const char *location)
{
	struct synch_map *best = NULL;
	long best_len = -1;

	for (size_t i = 0; i < nmaps; i++) {
		long n = applies(&maps[i], out) ? prefix_len(maps[i].old, location) : -1;

		if (n > best_len || (n >= 0 && n == best_len && maps[i].host != NULL)) {
			best = &maps[i];
			best_len = n;
		}
	}
	if (best == NULL)
		return pitr_xstrdup(location);
	best->used = true;
	return mapped(best, out, location + best_len);
}

/* ---- -c ------------------------------------------------------------------ */

int
synch_parse_compress(const char *arg, enum pitr_codec *codec, int *level)
{
	const char *base = strrchr(arg, '/'), *colon;
	char name[32];
	long lv = 0;

	*level = 0;
	base = base != NULL ? base + 1 : arg;
	colon = base == arg ? strchr(arg, ':') : NULL;
	snprintf(name, sizeof(name), "%.*s", (int)(colon ? colon - base : (long)strlen(base)), base);
	/* OmniPITR names a program: "gzip", "/usr/bin/bzip2", "pbzip2" is not one. */
	if (pitr_codec_from_name(name, codec) != 0 || (base != arg && *codec == PITR_CODEC_NONE)) {
		pitr_log_error("invalid value \"%s\" for option \"--compress\": expected none, gzip, "
			       "bzip2, lzma, xz, lz4 or zstd, with an optional :LEVEL", arg);
		return -1;
	}
	if (colon != NULL) {
		if (pitr_opts_parse_int("--compress", colon + 1, pitr_codec_min_level(*codec),
					pitr_codec_max_level(*codec), &lv) != 0)
			return -1;
		*level = (int)lv;
	}
	return 0;
}
