/*
 * fuzz_synch.c - pitr-synch's arguments (command/synch/output.c): -o, -m
 * and -c, and where a tablespace goes at an output.  The input is
 * NUL-separated: an -o, an -m, a tablespace location, a -c.  What must
 * hold: a parsed output keeps its argument as its label and names one
 * place (a local or ssh path is absolute, "/" is not one, no ".."
 * component; a daemon path has no leading or trailing '/'); a parsed map
 * has an absolute OLD; a tablespace's place, mapped or not, has no ".."
 * component when the location has none, and is absolute but at a daemon
 * (whose places are module paths, as its own); a refused argument leaves
 * nothing allocated (the leak check sees it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/synch/output.h"
#include "command/synch/synch_impl.h"
#include "fuzz.h"

static bool
has_dotdot(const char *p)
{
	for (const char *c = p; *c != '\0';) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += n;
		c += strspn(c, "/");
	}
	return false;
}

static void
check_output(const char *arg, const struct synch_output *o)
{
	size_t len = strlen(o->path);

	if (strcmp(o->label, arg) != 0)
		fuzz_fail("an output's label is not its argument", arg);
	if (has_dotdot(o->path))
		fuzz_fail("an output's path has a \"..\" component", arg);
	if (o->kind == SYNCH_OUT_RSYNCD) {
		if (len == 0 || o->path[0] == '/' || o->path[len - 1] == '/' || o->host == NULL)
			fuzz_fail("a daemon output's module path is not MODULE[/PATH]", arg);
	} else if (o->path[0] != '/' || strcmp(o->path, "/") == 0 ||
		   (o->kind == SYNCH_OUT_SSH) != (o->host != NULL)) {
		fuzz_fail("an output is not one absolute directory", arg);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 4), *parts[4];
	struct synch_output o;
	struct synch_map m;
	bool have_o, have_m;
	enum pitr_codec codec;
	int level;

	if (in == NULL)
		abort();
	memcpy(in, data, size);
	memset(in + size, 0, 4);
	parts[0] = in;
	for (size_t i = 1; i < 4; i++)
		parts[i] = parts[i - 1] + strlen(parts[i - 1]) + (parts[i - 1] < in + size);
	if ((have_o = synch_output_parse(parts[0], &o) == 0))
		check_output(parts[0], &o);
	if ((have_m = synch_map_parse(parts[1], &m) == 0) && m.old[0] != '/')
		fuzz_fail("a map's OLD is not absolute", parts[1]);
	if (have_o && have_m && parts[2][0] == '/' && !has_dotdot(parts[2])) {
		char *r = synch_map_resolve(&m, 1, &o, parts[2]);

		/* A daemon's places are in its modules, relative as its path is;
		 * beside a module's root is refused. */
		if (r == NULL && !(o.kind == SYNCH_OUT_RSYNCD && strchr(o.path, '/') == NULL))
			fuzz_fail("no place for a tablespace", parts[2]);
		if (r != NULL && ((r[0] != '/' && o.kind != SYNCH_OUT_RSYNCD) || has_dotdot(r)))
			fuzz_fail("a tablespace's place is not an absolute path without \"..\"", r);
		free(r);
	}
	(void)synch_parse_compress(parts[3], &codec, &level);
	if (have_o)
		synch_output_free(&o);
	if (have_m)
		synch_map_free(&m);
	free(in);
	return 0;
}
