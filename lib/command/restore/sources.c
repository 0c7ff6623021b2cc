/*
 * sources.c - pitr-restore's archives: -s may be given once per host that
 * keeps one (seeds/002: every server stopped, each holding part of the
 * WAL).  A file is taken from the first source that has it, in the order
 * given; they must all be of one cluster.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command/restore/restore_impl.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "postgres/sysid.h"
#include "repo/archdir.h"

/* Each source that records its cluster must record run->sysid, the first
 * record met: two hosts' archives of different clusters are never mixed,
 * whichever of them would serve the segment asked for. */
static int
check_record(struct restore_run *run, const char *dir)
{
	uint64_t sysid;
	int r = pitr_sysid_read(dir, &sysid);

	if (r != 0)
		return r < 0 ? -1 : 0;
	if (!run->have_sysid) {
		run->have_sysid = true;
		run->sysid = sysid;
		run->sysid_dir = dir;
		return 0;
	}
	if (sysid != run->sysid) {
		pitr_log_error("--source \"%s\" holds WAL of database system %llu, --source \"%s\" of "
			       "system %llu: the archives are of different clusters", run->sysid_dir,
			       (unsigned long long)run->sysid, dir, (unsigned long long)sysid);
		return -1;
	}
	return 0;
}

static int
open_one(struct restore_run *run, const char *spec)
{
	struct pitr_dest_spec *s = &run->sources[run->nsources];
	struct stat st;

	if (pitr_dest_spec_parse(spec, PITR_DEST_LOCAL, "--source", s) != 0)
		return -1;
	run->nsources++;
	if (stat(s->location, &st) != 0) {
		pitr_log_error("could not open --source \"%s\": %s", s->location, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		pitr_log_error("--source \"%s\" is not a directory", s->location);
		return -1;
	}
	return check_record(run, s->location);
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
	for (size_t i = 0; i < run->nsources; i++)
		pitr_dest_spec_free(&run->sources[i]);
	free(run->sources);
	run->sources = NULL;
	run->nsources = 0;
}

int
pitr_restore_find(struct restore_run *run, const char *walname, char **path,
		  enum pitr_codec *codec, struct stat *st)
{
	for (size_t i = 0; i < run->nsources; i++) {
		int r = pitr_archdir_find(run->sources[i].location, walname, run->sources[i].codec,
					  path, codec, st);

		if (r != 0)
			return r;
	}
	return 0;
}
