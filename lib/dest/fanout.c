/*
 * fanout.c - one delivery pipeline for several destinations: a codec
 * writer per group, each destination fed once, local destinations
 * published first and the staged ones in --parallel-jobs batches
 * (fanout.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/codec.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "dest/dest.h"
#include "dest/fanout.h"

/* More compression threads than this gain little next to the cost of the
 * other work of the run (reading, tar, digests). */
#define FANOUT_MAX_THREADS 4

/* One file at one destination. */
struct delivery {
	struct pitr_dest *dest;      /* NULL: not opened (the destination failed before) */
	size_t group;
	bool opened;
	bool published;
};

struct group {
	enum pitr_codec codec;
	int level;
	struct pitr_codec_writer *writer;   /* NULL for a plain file */
	struct pitr_fanout_file *file;
};

struct pitr_fanout_file {
	struct pitr_fanout *f;
	struct pitr_fanout_file_opts opts;
	struct delivery *deliveries;        /* one per destination */
	struct group *groups;               /* at most one per destination */
	size_t ngroups;
	bool closed;
};

struct pitr_fanout {
	const struct pitr_dest_env *env;
	enum pitr_fanout_policy policy;
	size_t jobs;
	int threads;
	struct pitr_dest_spec *specs;
	bool *failed;                       /* per destination */
	size_t ndests;
	struct pitr_fanout_file **files;    /* in the order opened */
	size_t nfiles;
};

int
pitr_fanout_thread_count(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > FANOUT_MAX_THREADS ? FANOUT_MAX_THREADS : (int)cpus;
}

struct pitr_fanout *
pitr_fanout_new(const struct pitr_dest_env *env, enum pitr_fanout_policy policy, int parallel_jobs)
{
	struct pitr_fanout *f = pitr_xcalloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->env = env;
	f->policy = policy;
	f->jobs = parallel_jobs > 0 ? (size_t)parallel_jobs : 1;
	f->threads = pitr_fanout_thread_count();
	return f;
}

int
pitr_fanout_add(struct pitr_fanout *f, const struct pitr_dest_spec *spec)
{
	struct pitr_dest_spec *specs = pitr_xreallocarray(f->specs, f->ndests + 1, sizeof(*specs));
	bool *failed;

	if (specs == NULL)
		return -1;
	f->specs = specs;
	failed = pitr_xreallocarray(f->failed, f->ndests + 1, sizeof(*failed));
	if (failed == NULL)
		return -1;
	f->failed = failed;
	if (pitr_dest_spec_copy(&specs[f->ndests], spec) != 0)
		return -1;
	failed[f->ndests] = false;
	f->ndests++;
	return 0;
}

size_t
pitr_fanout_count(const struct pitr_fanout *f)
{
	return f->ndests;
}

const struct pitr_dest_spec *
pitr_fanout_spec(const struct pitr_fanout *f, size_t dest_idx)
{
	return &f->specs[dest_idx];
}

/* Whether destination `dest_idx` is being fed `file`. */
static bool
live(const struct pitr_fanout_file *file, size_t dest_idx)
{
	return file->deliveries[dest_idx].opened && !file->f->failed[dest_idx];
}

static bool
group_live(const struct pitr_fanout_file *file, size_t group_idx)
{
	for (size_t dest_idx = 0; dest_idx < file->f->ndests; dest_idx++)
		if (live(file, dest_idx) && file->deliveries[dest_idx].group == group_idx)
			return true;
	return false;
}

static bool
any_live(const struct pitr_fanout_file *file)
{
	for (size_t dest_idx = 0; dest_idx < file->f->ndests; dest_idx++)
		if (live(file, dest_idx))
			return true;
	return false;
}

static void
fail_group(struct pitr_fanout_file *file, size_t group_idx)
{
	for (size_t dest_idx = 0; dest_idx < file->f->ndests; dest_idx++)
		if (live(file, dest_idx) && file->deliveries[dest_idx].group == group_idx)
			file->f->failed[dest_idx] = true;
}

/* The codec writer's sink: the tap, then every live destination of the
 * group.  -1 (which stops the writer) once none is left to feed. */
static int
group_sink(void *ctx, const void *buf, size_t len)
{
	struct group *g = ctx;
	struct pitr_fanout_file *file = g->file;
	struct pitr_fanout *f = file->f;
	size_t group_idx = (size_t)(g - file->groups);
	bool fed = false;

	if (file->opts.tap != NULL && file->opts.tap(file->opts.arg, group_idx, buf, len) != 0)
		return -1;
	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++) {
		struct delivery *d = &file->deliveries[dest_idx];

		if (d->group != group_idx || !live(file, dest_idx))
			continue;
		if (pitr_dest_write(d->dest, buf, len) != 0) {
			f->failed[dest_idx] = true;
			if (f->policy == PITR_FANOUT_ALL)
				return -1;
			continue;
		}
		fed = true;
	}
	return fed ? 0 : -1;
}

/* The group of `spec` in `file`, added if new. */
static size_t
group_for(struct pitr_fanout_file *file, const struct pitr_dest_spec *spec)
{
	size_t group_idx;

	for (group_idx = 0; group_idx < file->ngroups; group_idx++)
		if (file->groups[group_idx].codec == spec->codec &&
		    file->groups[group_idx].level == spec->level)
			return group_idx;
	file->groups[group_idx].codec = spec->codec;
	file->groups[group_idx].level = spec->level;
	file->groups[group_idx].file = file;
	file->ngroups++;
	return group_idx;
}

/* Make and open destination `dest_idx`'s delivery of `file`.  0, or -1
 * after logging. */
static int
open_one(struct pitr_fanout_file *file, size_t dest_idx)
{
	struct pitr_fanout *f = file->f;
	struct delivery *d = &file->deliveries[dest_idx];
	struct pitr_dest_spec spec = f->specs[dest_idx];
	/* A plain file still carries its destination codec's extension in
	 * its name, as OmniPITR's digest files did. */
	char *name = file->opts.name(file->opts.arg, pitr_codec_ext(spec.codec));
	int rc;

	if (name == NULL)
		return -1;
	if (file->opts.plain) {
		/* Stored as is, so compared as is should it exist already. */
		spec.codec = PITR_CODEC_NONE;
		spec.level = 0;
	}
	d->group = group_for(file, &spec);
	d->dest = pitr_dest_new(&spec, f->env);
	if (d->dest == NULL) {
		free(name);
		return -1;
	}
	rc = pitr_dest_open(d->dest, name);
	free(name);
	if (rc != 0)
		return -1;
	d->opened = true;
	return 0;
}

/* A new file, kept by `f` from the start so that pitr_fanout_free() aborts
 * whatever of it gets opened. */
static struct pitr_fanout_file *
file_new(struct pitr_fanout *f, const struct pitr_fanout_file_opts *opts)
{
	struct pitr_fanout_file **files = pitr_xreallocarray(f->files, f->nfiles + 1, sizeof(*files));
	struct pitr_fanout_file *file;

	if (files == NULL)
		return NULL;
	f->files = files;
	file = pitr_xcalloc(1, sizeof(*file));
	if (file == NULL)
		return NULL;
	files[f->nfiles++] = file;
	file->f = f;
	file->opts = *opts;
	if ((file->deliveries = pitr_xcalloc(f->ndests, sizeof(*file->deliveries))) == NULL ||
	    (file->groups = pitr_xcalloc(f->ndests, sizeof(*file->groups))) == NULL)
		return NULL;
	return file;
}

struct pitr_fanout_file *
pitr_fanout_open(struct pitr_fanout *f, const struct pitr_fanout_file_opts *opts)
{
	struct pitr_fanout_file *file = file_new(f, opts);

	if (file == NULL)
		return NULL;
	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++) {
		if (f->failed[dest_idx] || open_one(file, dest_idx) == 0)
			continue;
		f->failed[dest_idx] = true;
		if (f->policy == PITR_FANOUT_ALL)
			return NULL;
	}
	for (size_t group_idx = 0; group_idx < file->ngroups && !opts->plain; group_idx++) {
		struct group *g = &file->groups[group_idx];

		if (!group_live(file, group_idx))
			continue;
		g->writer = pitr_codec_writer_new(g->codec, g->level, f->threads, group_sink, g);
		if (g->writer != NULL)
			continue;
		if (f->policy == PITR_FANOUT_ALL)
			return NULL;
		fail_group(file, group_idx);
	}
	return file;
}

int
pitr_fanout_write(struct pitr_fanout_file *file, const void *buf, size_t len)
{
	for (size_t group_idx = 0; group_idx < file->ngroups; group_idx++) {
		struct group *g = &file->groups[group_idx];
		int rc;

		if (!group_live(file, group_idx))
			continue;
		rc = g->writer != NULL ? pitr_codec_writer_write(g->writer, buf, len) :
			group_sink(g, buf, len);
		if (rc == 0)
			continue;
		if (file->f->policy == PITR_FANOUT_ALL)
			return -1;
		fail_group(file, group_idx);
	}
	return any_live(file) ? 0 : -1;
}

int
pitr_fanout_write_one(struct pitr_fanout_file *file, size_t dest_idx, const void *buf, size_t len)
{
	if (!file->opts.plain) {
		pitr_log_error("pitr_fanout_write_one() on a file that is not plain");
		return -1;
	}
	if (live(file, dest_idx) && pitr_dest_write(file->deliveries[dest_idx].dest, buf, len) != 0) {
		file->f->failed[dest_idx] = true;
		if (file->f->policy == PITR_FANOUT_ALL)
			return -1;
	}
	return any_live(file) ? 0 : -1;
}

int
pitr_fanout_close(struct pitr_fanout_file *file)
{
	struct pitr_fanout *f = file->f;

	for (size_t group_idx = 0; group_idx < file->ngroups; group_idx++) {
		struct group *g = &file->groups[group_idx];

		if (g->writer == NULL || !group_live(file, group_idx) ||
		    pitr_codec_writer_finish(g->writer) == 0)
			continue;
		if (f->policy == PITR_FANOUT_ALL)
			return -1;
		fail_group(file, group_idx);
	}
	/* A failed upload is known before anything is published, and no
	 * connection idles while the next file is made. */
	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++) {
		if (!live(file, dest_idx) || pitr_dest_end_upload(file->deliveries[dest_idx].dest) == 0)
			continue;
		f->failed[dest_idx] = true;
		if (f->policy == PITR_FANOUT_ALL)
			return -1;
	}
	file->closed = true;
	return any_live(file) ? 0 : -1;
}

bool
pitr_fanout_compresses(const struct pitr_fanout_file *file)
{
	for (size_t group_idx = 0; group_idx < file->ngroups; group_idx++)
		if (file->groups[group_idx].writer != NULL &&
		    file->groups[group_idx].codec != PITR_CODEC_NONE && group_live(file, group_idx))
			return true;
	return false;
}

size_t
pitr_fanout_groups(const struct pitr_fanout_file *file)
{
	return file->ngroups;
}

size_t
pitr_fanout_group_of(const struct pitr_fanout_file *file, size_t dest_idx)
{
	return file->deliveries[dest_idx].group;
}

const char *
pitr_fanout_name(const struct pitr_fanout_file *file, size_t dest_idx)
{
	return file->deliveries[dest_idx].opened ? file->deliveries[dest_idx].dest->name : NULL;
}

int
pitr_fanout_local_file_id(const struct pitr_fanout_file *file, size_t dest_idx, dev_t *dev,
			  ino_t *ino)
{
	if (!live(file, dest_idx))
		return 1;
	return pitr_dest_local_file_id(file->deliveries[dest_idx].dest, dev, ino);
}

/* End the begun deliveries of `batch` (their destination indexes). */
static void
end_batch(struct pitr_fanout_file *file, const size_t *batch, size_t nbatch,
	  pitr_fanout_published_fn published, void *arg)
{
	for (size_t batch_idx = 0; batch_idx < nbatch; batch_idx++) {
		size_t dest_idx = batch[batch_idx];
		struct pitr_dest *dest = file->deliveries[dest_idx].dest;
		enum pitr_dest_result result;

		file->deliveries[dest_idx].published = true;
		if (pitr_dest_finish_end(dest, &result) != 0 ||
		    (published != NULL && published(arg, dest, result) != 0))
			file->f->failed[dest_idx] = true;
	}
}

/* Publish `file` to the live destinations that are `staged` (or not):
 * local ones one at a time, staged ones `jobs` at a time, `batch` having
 * room for that many. */
static void
publish_file(struct pitr_fanout_file *file, bool staged, size_t *batch,
	     pitr_fanout_published_fn published, void *arg)
{
	struct pitr_fanout *f = file->f;
	size_t nbatch = 0, jobs = staged ? f->jobs : 1;

	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++) {
		struct pitr_dest *dest = file->deliveries[dest_idx].dest;

		if (!live(file, dest_idx) || file->deliveries[dest_idx].published ||
		    pitr_dest_staged(dest) != staged)
			continue;
		if (pitr_dest_finish_begin(dest) != 0) {
			f->failed[dest_idx] = true;
			continue;
		}
		batch[nbatch++] = dest_idx;
		if (nbatch == jobs) {
			end_batch(file, batch, nbatch, published, arg);
			nbatch = 0;
		}
	}
	end_batch(file, batch, nbatch, published, arg);
}

int
pitr_fanout_publish(struct pitr_fanout *f, pitr_fanout_published_fn published, void *arg)
{
	size_t *batch = pitr_xcalloc(f->jobs, sizeof(*batch));

	if (batch == NULL) {
		/* Nothing published: every destination lacks its files. */
		for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++)
			f->failed[dest_idx] = true;
		return -1;
	}
	for (int staged = 0; staged < 2; staged++)
		for (size_t file_idx = 0; file_idx < f->nfiles; file_idx++)
			if (f->files[file_idx]->closed)
				publish_file(f->files[file_idx], staged == 1, batch, published, arg);
	free(batch);
	return pitr_fanout_nfailed(f) == 0 ? 0 : -1;
}

bool
pitr_fanout_failed(const struct pitr_fanout *f, size_t dest_idx)
{
	return f->failed[dest_idx];
}

size_t
pitr_fanout_nfailed(const struct pitr_fanout *f)
{
	size_t n = 0;

	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++)
		n += f->failed[dest_idx] ? 1 : 0;
	return n;
}

static void
file_free(struct pitr_fanout_file *file)
{
	for (size_t dest_idx = 0; dest_idx < file->f->ndests && file->deliveries != NULL; dest_idx++) {
		/* After a publish, abort only removes what staging left. */
		pitr_dest_abort(file->deliveries[dest_idx].dest);
		pitr_dest_free(file->deliveries[dest_idx].dest);
	}
	for (size_t group_idx = 0; group_idx < file->ngroups; group_idx++)
		pitr_codec_writer_free(file->groups[group_idx].writer);
	free(file->deliveries);
	free(file->groups);
	free(file);
}

void
pitr_fanout_free(struct pitr_fanout *f)
{
	if (f == NULL)
		return;
	for (size_t file_idx = 0; file_idx < f->nfiles; file_idx++)
		file_free(f->files[file_idx]);
	free(f->files);
	for (size_t dest_idx = 0; dest_idx < f->ndests; dest_idx++)
		pitr_dest_spec_free(&f->specs[dest_idx]);
	free(f->specs);
	free(f->failed);
	free(f);
}
