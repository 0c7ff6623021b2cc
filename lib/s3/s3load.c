/*
 * s3load.c - the s3.h functions that need libcurl or libxml2, forwarded to
 * libpitrkit-s3, which is loaded with dlopen at the first call.
 *
 * Why: a program linked with libcurl pays for loading it and its
 * dependencies (OpenSSL, nghttp2, libssh2, LDAP, ...) at every exec,
 * about 3 ms (500 runs of `pitr-archive --version`: 1.89 s linked against
 * 0.40 s not), which would triple archive_command's cost for a local
 * archive.  Only runs that reach an object store pay it here.
 *
 * Where: libpitrkit-s3 is always installed, and built, in the same
 * directory as libpitrkit itself (both are lib_LTLIBRARIES, both land in
 * lib/.libs of a build tree and in $(libdir) once installed).  So the
 * file opened is the sibling of the libpitrkit this code runs in, whose
 * path dladdr() gives: that holds in the build tree (programs run through
 * libtool's wrappers or PostgreSQL running them as another user, with any
 * environment), in the sanitizer build tree, in an installation under any
 * prefix or DESTDIR-staged and moved, and for the archive module, which
 * loads libpitrkit into the server.  Opening by soname would instead
 * depend on how the program found libpitrkit (RUNPATH of the executable,
 * which dlopen from a library does not consult, or LD_LIBRARY_PATH, which
 * PostgreSQL's archive_command may not carry); and it could pair this
 * libpitrkit with another build's libpitrkit-s3.  The configured $(libdir)
 * is the fallback, for a libpitrkit whose path dladdr cannot tell.
 */
#include "config.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "s3/s3.h"
#include "s3/s3_impl.h"

#ifndef PITR_S3_LIBDIR
#define PITR_S3_LIBDIR "/usr/local/lib"
#endif

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const struct pitr_s3_impl *loaded;
static char load_error[PATH_MAX + 512];

/* The directory of the object holding this function, with a final '/';
 * "" when dladdr cannot tell. */
static void
own_dir(char *out, size_t size)
{
	Dl_info info;
	const char *slash;

	out[0] = '\0';
	if (dladdr((void *)own_dir, &info) == 0 || info.dli_fname == NULL)
		return;
	if ((slash = strrchr(info.dli_fname, '/')) == NULL)
		return;
	if ((size_t)(slash - info.dli_fname) + 1 >= size)
		return;
	memcpy(out, info.dli_fname, (size_t)(slash - info.dli_fname) + 1);
	out[slash - info.dli_fname + 1] = '\0';
}

/* Open `path` and find the table in it; 0, or -1 with load_error set.
 * RTLD_LAZY: resolving every symbol of libcurl, libxml2 and their ~40
 * libraries up front cost a call ~3 ms more (8.4 against 5.0 ms to load,
 * medians of 30); a call uses a few dozen of them.  Those that Debian
 * links with BIND_NOW are resolved at once all the same.  The libraries
 * are found by their sonames, so a symbol missing at call time would
 * take a libcurl of another ABI, which its soname rules out. */
static int
open_impl(const char *path)
{
	void *handle = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	void *table;

	if (handle == NULL) {
		snprintf(load_error, sizeof(load_error), "could not load the S3 library \"%s\": %s",
			 path, dlerror());
		return -1;
	}
	if ((table = dlsym(handle, PITR_S3_IMPL_SYMBOL)) == NULL) {
		snprintf(load_error, sizeof(load_error), "could not load the S3 library \"%s\": %s",
			 path, dlerror());
		dlclose(handle);
		return -1;
	}
	/* Kept open for the life of the process: clients hold its code. */
	loaded = table;
	return 0;
}

static void
load(void)
{
	char dir[PATH_MAX];
	char path[PATH_MAX + sizeof(PITR_S3_IMPL_FILE)];
	const char *fallback = PITR_S3_LIBDIR "/" PITR_S3_IMPL_FILE;

	own_dir(dir, sizeof(dir));
	if (dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s%s", dir, PITR_S3_IMPL_FILE);
		/* A sibling that exists but does not load is the error to
		 * report: the fallback would be another build's. */
		if (access(path, F_OK) == 0 || strcmp(path, fallback) == 0) {
			(void)open_impl(path);
			return;
		}
	}
	(void)open_impl(fallback);
}

const struct pitr_s3_impl *
pitr_s3_impl(void)
{
	pthread_once(&load_once, load);
	if (loaded == NULL)
		pitr_log_error("%s", load_error);
	return loaded;
}

struct pitr_s3 *
pitr_s3_new(const struct pitr_s3_config *cfg, const struct pitr_s3_creds *creds, const char *bucket)
{
	const struct pitr_s3_impl *t = pitr_s3_impl();

	return t == NULL ? NULL : t->new_(cfg, creds, bucket);
}

/* A client exists only if the library was loaded: the functions taking
 * one call through the table without checking again. */
void
pitr_s3_free(struct pitr_s3 *s3)
{
	if (s3 != NULL)
		loaded->free_(s3);
}

int
pitr_s3_head(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj)
{
	return loaded->head(s3, key, obj);
}

int
pitr_s3_probe(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj)
{
	return loaded->probe(s3, key, obj);
}

int
pitr_s3_put(struct pitr_s3 *s3, const char *key, const void *buf, size_t len, bool if_absent)
{
	return loaded->put(s3, key, buf, len, if_absent);
}

int
pitr_s3_get(struct pitr_s3 *s3, const char *key, pitr_s3_sink sink, void *ctx,
	    struct pitr_s3_object *obj)
{
	return loaded->get(s3, key, sink, ctx, obj);
}

int
pitr_s3_delete(struct pitr_s3 *s3, const char *key)
{
	return loaded->delete_(s3, key);
}

int
pitr_s3_list(struct pitr_s3 *s3, const char *prefix, bool recurse, pitr_s3_list_cb cb, void *ctx)
{
	return loaded->list(s3, prefix, recurse, cb, ctx);
}

struct pitr_s3_upload *
pitr_s3_upload_begin(struct pitr_s3 *s3, const char *key)
{
	return loaded->upload_begin(s3, key);
}

int
pitr_s3_upload_part(struct pitr_s3_upload *up, const void *buf, size_t len)
{
	return loaded->upload_part(up, buf, len);
}

int
pitr_s3_upload_complete(struct pitr_s3_upload *up)
{
	return loaded->upload_complete(up);
}

const char *
pitr_s3_upload_id(const struct pitr_s3_upload *up)
{
	return loaded->upload_id(up);
}

int
pitr_s3_upload_abort(struct pitr_s3_upload *up)
{
	return up != NULL ? loaded->upload_abort(up) : 0;
}

void
pitr_s3_upload_free(struct pitr_s3_upload *up)
{
	if (up != NULL)
		loaded->upload_free(up);
}

int
pitr_s3_pending_list(struct pitr_s3 *s3, const char *prefix, pitr_s3_pending_cb cb, void *ctx)
{
	return loaded->pending_list(s3, prefix, cb, ctx);
}

int
pitr_s3_pending_abort(struct pitr_s3 *s3, const char *key, const char *upload_id)
{
	return loaded->pending_abort(s3, key, upload_id);
}

char *
pitr_s3_label(const struct pitr_s3 *s3, const char *key)
{
	return loaded->label(s3, key);
}

void
pitr_s3_test_set_knobs(struct pitr_s3 *s3, const struct pitr_s3_test_knobs *knobs)
{
	loaded->test_knobs(s3, knobs);
}
