/*
 * guc.h - the archive module's settings: pitr-archive's options as GUCs
 * (pitrkit_archive.dst_local, ...), all PGC_SIGHUP, so that a reload
 * changes the destinations of the next file.
 */
#ifndef PITRKIT_ARCHIVE_GUC_H
#define PITRKIT_ARCHIVE_GUC_H

#include "command/archive/archive.h"

/* The log settings (pitr-archive's -l and -v). */
struct pka_log_settings {
	const char *template_;  /* NULL: every line to the server's log */
	bool verbose;
};

/* Define every pitrkit_archive.* GUC (from _PG_init). */
void pka_define_gucs(void);

/* True when at least one destination is set. */
bool pka_configured(void);

/* Fill *opts from the GUCs, data_dir and wal_path aside; lists are
 * palloc'd in the current memory context. */
void pka_read_opts(struct pitr_archive_opts *opts);

/* The current log settings. */
void pka_read_log(struct pka_log_settings *log);

#endif
