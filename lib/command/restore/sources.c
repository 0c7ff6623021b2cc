/*
 * sources.c - pitr-restore's archives: -s may be given once per host that
 * keeps one (seeds/002: every server stopped, each holding part of the
 * WAL), and each is a directory or an archive in an object store
 * (s3://BUCKET/PREFIX/, s3arch.h).  A file is taken from the first source
 * that has it, in the order given; they must all be of one cluster.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command/restore/restore_impl.h"
#include "common/clock.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/sysid.h"
#include "repo/archdir.h"
#include "repo/s3arch.h"

static bool
is_s3(const struct restore_source *s)
{
	return s->url.bucket != NULL;
}

struct pitr_s3 *
pitr_restore_source_s3(struct restore_run *run, size_t i)
{
	struct restore_source *s = &run->sources[i];
	struct pitr_s3_config defaults = { .endpoint = NULL };

	if (s->s3 == NULL)
		s->s3 = pitr_s3_new(run->opts->s3 != NULL ? run->opts->s3 : &defaults, &run->creds,
				    s->url.bucket);
	return s->s3;
}

void
pitr_restore_sources_disconnect(struct restore_run *run)
{
	for (size_t i = 0; i < run->nsources; i++) {
		pitr_s3_free(run->sources[i].s3);
		run->sources[i].s3 = NULL;
	}
}

int
pitr_restore_source_sysid(struct restore_run *run, size_t i, uint64_t *sysid)
{
	struct restore_source *s = &run->sources[i];
	struct pitr_s3 *s3;

	if (!is_s3(s))
		return pitr_sysid_read(s->spec.location, sysid);
	if ((s3 = pitr_restore_source_s3(run, i)) == NULL)
		return -1;
	return pitr_sysid_read_s3(s3, s->url.prefix, sysid);
}

/* Each source that records its cluster must record run->sysid, the
 * cluster's own or the first record met: two hosts' archives of different
 * clusters are never mixed, whichever of them would serve the segment
 * asked for.  An object store keeps its record as an object beside the
 * WAL (sysid.h); when the cluster's identifier is known it is not read:
 * every segment's header is checked against the cluster's (handover.c),
 * which a GET more per call would add nothing to. */
static int
check_record(struct restore_run *run, size_t i)
{
	const char *where = run->sources[i].spec.location;
	uint64_t sysid;
	int r;

	if (run->control_path != NULL && is_s3(&run->sources[i]))
		return 0;
	if ((r = pitr_restore_source_sysid(run, i, &sysid)) != 0)
		return r < 0 ? -1 : 0;
	if (!run->have_sysid) {
		run->have_sysid = true;
		run->sysid = sysid;
		run->sysid_dir = where;
		return 0;
	}
	if (sysid != run->sysid && run->control_path != NULL) {
		pitr_log_error("--source \"%s\" holds WAL of database system %llu, but this cluster's "
			       "\"%s\" is of system %llu", where, (unsigned long long)sysid,
			       run->control_path, (unsigned long long)run->sysid);
		return -1;
	}
	if (sysid != run->sysid) {
		pitr_log_error("--source \"%s\" holds WAL of database system %llu, --source \"%s\" of "
			       "system %llu: the archives are of different clusters", run->sysid_dir,
			       (unsigned long long)run->sysid, where, (unsigned long long)sysid);
		return -1;
	}
	return 0;
}

/* An object store: its location parsed, the credentials loaded once.
 * That the bucket exists and answers is learnt from the record's read, or
 * the first look for the file when the record is not read. */
static int
open_s3(struct restore_run *run, struct restore_source *s)
{
	if (pitr_s3_url_parse(s->spec.location, "--source", &s->url) != 0)
		return -1;
	if (!run->have_creds) {
		if (pitr_s3_creds_load(&run->creds) != 0)
			return -1;
		run->have_creds = true;
	}
	return 0;
}

static int
open_dir(const struct restore_source *s)
{
	struct stat st;

	if (stat(s->spec.location, &st) != 0) {
		pitr_log_error("could not open --source \"%s\": %s", s->spec.location,
			       strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("--source \"%s\" is not a directory", s->spec.location);
		return -1;
	}
	return 0;
}

static int
open_one(struct restore_run *run, const char *spec)
{
	struct restore_source *s = &run->sources[run->nsources];

	if (pitr_dest_spec_parse(spec, pitr_s3arch_spec_kind(spec), "--source", &s->spec) != 0)
		return -1;
	run->nsources++;
	s->codec_named = strncmp(spec, PITR_S3_SCHEME, strlen(PITR_S3_SCHEME)) != 0;
	if ((s->spec.kind == PITR_DEST_S3 ? open_s3(run, s) : open_dir(s)) != 0)
		return -1;
	return check_record(run, run->nsources - 1);
}

int
pitr_restore_sources_open(struct restore_run *run)
{
	const struct pitr_restore_opts *opts = run->opts;

	if (opts->nsources == 0) {
		pitr_log_error("no --source given: pitr-restore needs the archive to read from");
		return -1;
	}
	run->sources = pitr_xcalloc(opts->nsources, sizeof(*run->sources));
	if (run->sources == NULL)
		return -1;
	for (size_t i = 0; i < opts->nsources; i++)
		if (open_one(run, opts->sources[i]) != 0)
			return -1;
	return 0;
}

void
pitr_restore_sources_free(struct restore_run *run)
{
	for (size_t i = 0; i < run->nsources; i++) {
		pitr_s3_free(run->sources[i].s3);
		pitr_s3_url_free(&run->sources[i].url);
		pitr_dest_spec_free(&run->sources[i].spec);
	}
	free(run->sources);
	run->sources = NULL;
	run->nsources = 0;
	if (run->have_creds)
		pitr_s3_creds_free(&run->creds);
	run->have_creds = false;
}

void
pitr_restore_file_free(struct restore_file *f)
{
	free(f->path);
	free(f->key);
	f->path = NULL;
	f->key = NULL;
}

/* The object's copy of `walname` in source `i`: 1, 0 or -1 as
 * pitr_restore_find().  With run->guess, and a codec named in -s
 * (CODEC=s3://...), NAME+EXT of that codec, which pitr_s3arch_find()
 * would prefer too, without a request: its GET is the look, and a
 * listing follows only when it is not there (another codec's copy, or
 * none).  Without a codec named the listing comes first: an archive
 * holds the codec pitr-archive was given, rarely "none". */
static int
find_object(struct restore_run *run, size_t i, const char *walname, struct restore_file *out)
{
	const struct restore_source *s = &run->sources[i];
	struct pitr_s3arch_found found;
	struct pitr_s3 *s3 = pitr_restore_source_s3(run, i);
	int r;

	if (s3 == NULL)
		return -1;
	if (run->guess && s->codec_named) {
		out->guessed = true;
		out->codec = s->spec.codec;
		if ((out->key = pitr_xasprintf("%s%s%s", s->url.prefix, walname,
					       pitr_codec_ext(s->spec.codec))) == NULL ||
		    (out->path = pitr_s3_label(s3, out->key)) == NULL) {
			pitr_restore_file_free(out);
			return -1;
		}
		return 1;
	}
	r = pitr_s3arch_find(s3, s->url.prefix, walname, s->spec.codec, &found);
	if (r != 1)
		return r;
	out->key = found.key;
	out->codec = found.codec;
	/* What -w and the messages use. */
	out->st.st_mode = S_IFREG | 0600;
	out->st.st_size = (off_t)found.size;
	out->st.st_mtim.tv_sec = found.mtime;
	if ((out->path = pitr_s3_label(s3, found.key)) == NULL) {
		pitr_restore_file_free(out);
		return -1;
	}
	return 1;
}

int
pitr_restore_store_poll_ms(int poll_ms, unsigned misses)
{
	long ms = poll_ms;

	for (unsigned i = 1; i < misses && ms < PITR_RESTORE_STORE_POLL_MAX_MS; i++)
		ms *= 2;
	return ms < PITR_RESTORE_STORE_POLL_MAX_MS ? (int)ms : PITR_RESTORE_STORE_POLL_MAX_MS;
}

/* An object store's look: `waiting`, skipped until it is due, and its
 * next one put off further after each miss. */
static int
look_object(struct restore_run *run, size_t i, const char *walname, bool waiting,
	    struct restore_file *out)
{
	struct restore_source *s = &run->sources[i];
	int r;

	if (waiting && pitr_clock_ms() < s->next_look_ms)
		return 0;
	r = find_object(run, i, walname, out);
	if (r == 0) {
		s->misses++;
		s->next_look_ms = pitr_clock_ms() + pitr_restore_store_poll_ms(run->poll_ms, s->misses);
	} else {
		s->misses = 0;
		s->next_look_ms = 0;
	}
	return r;
}

static int
find_in(struct restore_run *run, const char *walname, bool waiting, struct restore_file *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < run->nsources; i++) {
		const struct restore_source *s = &run->sources[i];
		int r;

		out->source = i;
		if (is_s3(s))
			r = look_object(run, i, walname, waiting, out);
		else
			r = pitr_archdir_find(s->spec.location, walname, s->spec.codec, &out->path,
					      &out->codec, &out->st);
		if (r != 0)
			return r;
	}
	return 0;
}

int
pitr_restore_find(struct restore_run *run, const char *walname, struct restore_file *out)
{
	return find_in(run, walname, false, out);
}

int
pitr_restore_poll(struct restore_run *run, const char *walname, struct restore_file *out)
{
	return find_in(run, walname, true, out);
}

int
pitr_restore_file_of_entry(struct restore_run *run, size_t i,
			   const struct pitr_archdir_entry *entry, struct restore_file *out)
{
	const struct restore_source *s = &run->sources[i];
	struct pitr_s3 *s3;

	memset(out, 0, sizeof(*out));
	out->source = i;
	out->codec = entry->codec;
	if (!is_s3(s)) {
		out->path = pitr_fsutil_join(s->spec.location, entry->file);
		return out->path != NULL ? 0 : -1;
	}
	if ((s3 = pitr_restore_source_s3(run, i)) == NULL ||
	    (out->key = pitr_xasprintf("%s%s", s->url.prefix, entry->file)) == NULL ||
	    (out->path = pitr_s3_label(s3, out->key)) == NULL) {
		pitr_restore_file_free(out);
		return -1;
	}
	return 0;
}
