/*
 * catalog_impl.h - what the files of the catalog share: catalog.c (small
 * files, directory listing, loading, freeing), catalog_backups.c (the
 * backup dir) and catalog_wal.c (the archive).  Not installed.
 */
#ifndef PITR_CATALOG_IMPL_H
#define PITR_CATALOG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "compress/codec.h"
#include "postgres/walhdr.h"
#include "repo/catalog.h"
#include "repo/store.h"

int pitr_catalog_add_problem(struct pitr_catalog *cat, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int pitr_catalog_read_text(struct pitr_store *st, const char *name, enum pitr_codec codec,
			   size_t max, char **text, char *reason, size_t reason_size);

/* Whether `name` is in `l` and a regular file. */
bool pitr_catalog_is_regular(const struct pitr_store_listing *l, const char *name);
bool pitr_catalog_ignored_name(const char *name);
int pitr_catalog_load_backups(struct pitr_catalog *cat, struct pitr_store *st);
void pitr_catalog_backup_free(struct pitr_catalog_backup *b);
int pitr_catalog_load_archive(struct pitr_catalog *cat, struct pitr_store *st);
bool pitr_catalog_read_header(struct pitr_store *st, const struct pitr_catalog_file *f,
			      struct pitr_walhdr *hp);
int pitr_catalog_settle_segsize(struct pitr_catalog *cat);
int pitr_catalog_drop_misfits(struct pitr_catalog *cat);
int pitr_catalog_build_timelines(struct pitr_catalog *cat);

#endif
