/*
 * fuzz_meta.c - backup meta files (repo/meta): every reader of a backup
 * directory (pitr-info, pitr-verify, pitr-recover, pitr-backup-cleanup)
 * parses each meta file it finds.  The input is the file's text.  A text
 * that parses must write back (pitr_meta_format) to a text that parses to
 * the same backup, when it is one the writer could have written; a
 * refusal must leave nothing allocated and say why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "repo/meta.h"

static bool
same_str(const char *a, const char *b)
{
	return strcmp(a == NULL ? "" : a, b == NULL ? "" : b) == 0;
}

static void
compare(const struct pitr_catalog_backup *a, const struct pitr_catalog_backup *b, const char *text)
{
	bool same = strcmp(a->start_wal, b->start_wal) == 0 && strcmp(a->stop_wal, b->stop_wal) == 0 &&
		    a->start_lsn == b->start_lsn && a->stop_lsn == b->stop_lsn &&
		    same_str(a->start_time, b->start_time) && same_str(a->stop_time, b->stop_time) &&
		    a->start_epoch == b->start_epoch && a->stop_epoch == b->stop_epoch &&
		    same_str(a->host, b->host) && same_str(a->label, b->label) && a->sysid == b->sysid &&
		    a->timeline == b->timeline && a->segsize == b->segsize &&
		    same_str(a->data_dir, b->data_dir) && a->data_size == b->data_size &&
		    a->xlog_size == b->xlog_size && same_str(a->codecs, b->codecs) &&
		    a->ndigests == b->ndigests;

	for (size_t i = 0; same && i < a->ndigests; i++)
		same = strcmp(a->digests[i].algorithm, b->digests[i].algorithm) == 0;
	if (!same)
		fuzz_fail("a meta file written back reads differently", text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	struct pitr_catalog_backup b, again;
	char err[512] = "";
	char *written;

	memset(&b, 0, sizeof(b));
	memset(&again, 0, sizeof(again));
	(void)pitr_meta_detect(text);
	if (pitr_meta_parse(text, "fuzz", &b, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			fuzz_fail("a refused meta file has no reason", text);
		if (b.start_time || b.stop_time || b.host || b.label || b.data_dir || b.codecs ||
		    b.digests)
			fuzz_fail("a refused meta file left fields allocated", text);
		free(text);
		return 0;
	}
	/* The writer's domain is what pitr-backup-master records: a known
	 * segment size and times after 1970.  An older meta without
	 * wal_segment_size is read, never written again. */
	if (b.segsize == 0 || b.start_epoch < 0 || b.stop_epoch < 0) {
		pitr_meta_clear(&b);
		free(text);
		return 0;
	}
	if ((written = pitr_meta_format(&b)) == NULL)
		fuzz_fail("a parsed meta file cannot be written", text);
	if (!pitr_meta_detect(written))
		fuzz_fail("a meta file written is not detected as one", written);
	if (pitr_meta_parse(written, "fuzz (written back)", &again, err, sizeof(err)) != 0)
		fuzz_fail(err, written);
	compare(&b, &again, written);
	pitr_meta_clear(&again);
	pitr_meta_clear(&b);
	free(written);
	free(text);
	return 0;
}
