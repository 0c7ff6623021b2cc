/*
 * catalog_chain.c - the chains of incremental backups as the catalog
 * sees them (issue 13): a meta's chain split into its labels, and the
 * backup of a dir that carries a label.  pitr-info, pitr-verify and
 * pitr-backup-cleanup read chains only through these, so they agree on
 * which backup a link is.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "repo/catalog.h"

bool
pitr_catalog_is_incremental(const struct pitr_catalog_backup *b)
{
	return b->base != NULL;
}

void
pitr_catalog_chain_labels_free(char **labels, size_t n)
{
	for (size_t i = 0; i < n && labels != NULL; i++)
		free(labels[i]);
	free(labels);
}

int
pitr_catalog_chain_labels(const struct pitr_catalog_backup *b, char ***labels, size_t *n)
{
	/* A meta with a base and no chain (not what pitrkit writes) still
	 * needs its base: the chain is then that one label. */
	const char *chain = b->chain != NULL ? b->chain : b->base;
	size_t count = 1;
	char **out;

	*labels = NULL;
	*n = 0;
	if (chain == NULL)
		return 0;
	for (const char *p = chain; (p = strchr(p, '|')) != NULL; p++)
		count++;
	if ((out = pitr_xcalloc(count, sizeof(*out))) == NULL)
		return -1;
	for (size_t i = 0; i < count; i++) {
		const char *end = strchr(chain, '|');
		size_t len = end != NULL ? (size_t)(end - chain) : strlen(chain);

		if ((out[i] = pitr_xstrndup(chain, len)) == NULL) {
			pitr_catalog_chain_labels_free(out, i);
			return -1;
		}
		chain += len + (end != NULL);
	}
	*labels = out;
	*n = count;
	return 0;
}

const struct pitr_catalog_backup *
pitr_catalog_by_label(const struct pitr_catalog *cat, size_t dir, const char *label,
		      enum pitr_codec codec)
{
	const struct pitr_catalog_backup *first = NULL;

	for (size_t i = 0; i < cat->nbackups; i++) {
		const struct pitr_catalog_backup *b = &cat->backups[i];

		if (b->dir != dir || b->label == NULL || strcmp(b->label, label) != 0)
			continue;
		if (b->codec == codec)
			return b;
		if (first == NULL)
			first = b;
	}
	return first;
}
