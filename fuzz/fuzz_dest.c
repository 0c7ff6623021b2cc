/*
 * fuzz_dest.c - destination specs (dest/dest): every --dst-local,
 * --dst-remote, --dst-pipe, --dst-direct and --dst-backup argument is
 * parsed by pitr_dest_spec_parse / pitr_dest_args_parse before anything
 * runs.  The input is a list of arguments separated by NUL bytes, each
 * starting with a byte that picks its option.  A spec that parses must
 * have a location and a key naming its kind and codec, an rsync location
 * must end in '/' (rsync's "into this directory"), and a level must lie
 * within the codec's range.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dest/dest.h"
#include "fuzz.h"

#define MAX_ARGS 16

static void
check_spec(const struct pitr_dest_spec *s, const char *arg)
{
	if (s->location == NULL || s->location[0] == '\0' || s->key == NULL)
		fuzz_fail("a spec parsed without a location or key", arg);
	if (s->kind == PITR_DEST_RSYNC && s->location[strlen(s->location) - 1] != '/')
		fuzz_fail("an rsync location without its trailing slash", arg);
	if (s->kind == PITR_DEST_S3 && (strncmp(s->location, "s3://", 5) != 0 ||
					s->location[strlen(s->location) - 1] != '/'))
		fuzz_fail("an s3 location not as s3://BUCKET/PREFIX/", arg);
	if (s->level != 0 && (s->level < pitr_codec_min_level(s->codec) ||
			      s->level > pitr_codec_max_level(s->codec)))
		fuzz_fail("a level outside the codec's range was taken", arg);
	if (strstr(s->key, pitr_codec_name(s->codec)) == NULL)
		fuzz_fail("a key does not name its codec", s->key);
}

/* Each argument alone, as the option its first byte picks. */
static void
one_by_one(char **args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pitr_dest_spec spec, copy;
		enum pitr_dest_kind kind = (enum pitr_dest_kind)((unsigned char)args[i][0] % 4);

		if (args[i][0] == '\0')
			continue;
		if (pitr_dest_spec_parse(args[i] + 1, kind, "--dst-fuzz", &spec) != 0)
			continue;
		/* --dst-remote takes s3:// locations as the s3 kind. */
		if (spec.kind != kind && !(kind == PITR_DEST_RSYNC && spec.kind == PITR_DEST_S3))
			fuzz_fail("a spec of another kind came out", args[i] + 1);
		check_spec(&spec, args[i] + 1);
		if (pitr_dest_spec_copy(&copy, &spec) != 0 || strcmp(copy.key, spec.key) != 0)
			fuzz_fail("a spec does not copy", args[i] + 1);
		pitr_dest_spec_free(&copy);
		pitr_dest_spec_free(&spec);
	}
}

/* All of them together, as a program's options. */
static void
together(char **args, size_t n)
{
	const char *lists[4][MAX_ARGS];
	size_t counts[4] = { 0, 0, 0, 0 };
	struct pitr_dest_args a;
	struct pitr_dest_spec *specs = NULL;
	size_t nspecs = 0;

	memset(&a, 0, sizeof(a));
	for (size_t i = 0; i < n; i++) {
		unsigned pick = (unsigned char)args[i][0] % 5;

		if (args[i][0] == '\0')
			continue;
		if (pick == 4)
			a.backup = args[i] + 1;
		else
			lists[pick][counts[pick]++] = args[i] + 1;
	}
	a.local = lists[0], a.nlocal = counts[0];
	a.remote = lists[1], a.nremote = counts[1];
	a.pipe = lists[2], a.npipe = counts[2];
	a.direct = lists[3], a.ndirect = counts[3];
	if (pitr_dest_args_parse(&a, &specs, &nspecs) == 0) {
		if (nspecs > pitr_dest_args_count(&a))
			fuzz_fail("more specs than arguments", NULL);
		for (size_t i = 0; i < nspecs; i++)
			check_spec(&specs[i], specs[i].location);
	} else if (specs != NULL || nspecs != 0) {
		fuzz_fail("a refused set of options left specs", NULL);
	}
	pitr_dest_specs_free(specs, nspecs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = fuzz_cstr(data, size);
	char *args[MAX_ARGS];
	size_t n = 0;

	/* NUL-separated: each argument is the text up to the next NUL. */
	for (size_t pos = 0; pos <= size && n < MAX_ARGS;) {
		args[n++] = copy + pos;
		pos += strlen(copy + pos) + 1;
	}
	one_by_one(args, n);
	together(args, n);
	free(copy);
	return 0;
}
