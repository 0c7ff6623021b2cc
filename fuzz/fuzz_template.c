/*
 * fuzz_template.c - backup file name templates and --digest lists
 * (command/backup/template): pitr-backup-master and -slave turn -f into
 * each file's name, check that the names differ, and turn it into a
 * pattern that finds the temporary files a killed run left.  The input is
 * eight bytes of time, then the template.  What must hold: a name is a
 * file name (no '/', not "." or ".."), and the pattern matches every name
 * the template gives, at any time, or a killed backup's files stay.  The
 * template is also read as a --digest list.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "command/backup/backup.h"
#include "fuzz.h"

/* A host name with what a pattern or strftime would take as special. */
#define HOST "db-1%d*[x]?\\"

static void
check_type(const char *tmpl, const char *type, const char *cext, long when)
{
	char *name = pitr_backup_expand_template(tmpl, HOST, type, cext, when);
	char *glob;

	if (name == NULL)
		return;
	if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		fuzz_fail("a template gave something that is not a file name", name);
	if ((glob = pitr_backup_template_glob(tmpl, HOST, type, cext)) == NULL)
		fuzz_fail("no pattern for a template that gives names", tmpl);
	if (fnmatch(glob, name, 0) != 0) {
		char detail[4096];

		snprintf(detail, sizeof(detail), "template \"%s\" gives \"%s\", pattern \"%s\"", tmpl,
			 name, glob);
		fuzz_fail("the pattern does not match a name the template gives", detail);
	}
	free(glob);
	free(name);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cexts[] = { ".gz", "" };
	const char *digests[PITR_BACKUP_MAX_DIGESTS];
	int64_t when = 0;
	char *tmpl;

	if (size < sizeof(when))
		return 0;
	memcpy(&when, data, sizeof(when));
	when %= (int64_t)400 * 366 * 86400;
	tmpl = fuzz_cstr(data + sizeof(when), size - sizeof(when));
	check_type(tmpl, "data", ".gz", (long)when);
	check_type(tmpl, "meta", "", (long)when);
	check_type(tmpl, "SHA-256", "", (long)when);
	(void)pitr_backup_check_template(tmpl, HOST, cexts, 2, NULL, 0, (long)when);
	if (pitr_backup_parse_digests(tmpl, digests) > PITR_BACKUP_MAX_DIGESTS)
		fuzz_fail("more digests than there is room for", tmpl);
	free(tmpl);
	return 0;
}
