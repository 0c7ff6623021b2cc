/*
 * output.h - where pitr-synch copies a data directory: an -o argument
 * parsed, and the names every way of copying agrees on at the output.
 *
 * An output is a local absolute directory, an ssh location in OmniPITR's
 * forms ([user@]host:/path, [user@]host:PORT:/path), or an rsync daemon
 * location (rsync://[user@]host[:port]/module/path).  The full copy
 * (stream.c) reaches local and ssh outputs through a receiver, pitr-synch
 * --receive; the delta copy (-r) and rsync daemons are reached through the
 * real rsync program (delta.h).
 */
#ifndef PITR_SYNCH_OUTPUT_H
#define PITR_SYNCH_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

enum synch_out_kind {
	SYNCH_OUT_LOCAL,
	SYNCH_OUT_SSH,
	SYNCH_OUT_RSYNCD,
};

struct synch_output {
	enum synch_out_kind kind;
	char *label;      /* the -o argument as given, for messages */
	char *user;       /* NULL: the default */
	char *host;       /* NULL for a local output */
	int port;         /* ssh's or the daemon's; 0: the default */
	char *path;       /* local and ssh: the absolute data directory;
			   * rsyncd: "module/path" without slashes around it */
};

/*
 * Written at the top of an output's data directory before anything else
 * and removed after everything else, global/pg_control last but one: a copy
 * that was interrupted holds this file and no pg_control, so PostgreSQL
 * refuses to start it and the next pitr-synch recognises it as its own and
 * may overwrite it.  Its text: "system identifier N\n" of the source.
 */
#define SYNCH_IN_PROGRESS "pitr-synch.in-progress"

/* Parse an -o argument.  Returns 0, or -1 after logging one line naming
 * the argument.  Free with synch_output_free(). */
int synch_output_parse(const char *arg, struct synch_output *out);
void synch_output_free(struct synch_output *out);

#endif
