/*
 * dest_impl.h - what the files of lib/dest share: the ssh location check
 * spec parsing needs, and a staged copy of the file in the temp dir, for
 * kinds whose delivery is a child process reading a finished file (rsync,
 * pipe programs).  Staging first means a slow or failing child never
 * stalls the compression stream that feeds every other destination, and
 * -PJ can run the children side by side.
 */
#ifndef PITR_DEST_IMPL_H
#define PITR_DEST_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/tmpfile.h"
#include "dest/dest.h"

/* True if `loc` has the shape of an ssh location, [USER@]HOST:/PATH
 * (ssh.c).  Logs nothing. */
bool pitr_dest_ssh_location_valid(const char *loc);

struct pitr_dest_stage {
	char *dir;     /* private directory under the temp dir (tdir.path) */
	char *path;    /* dir/<file name> */
	int fd;
	struct pitr_tmp tdir;  /* the directory, locked while the stage lives */
	int path_slot;         /* sigclean slot of path, or -1 */
};

/* Create dir (.pitr-tmp.stage.XXXXXX in the temp dir, locked: a sweep of
 * the temp dir removes it only once its run is dead) and an empty file
 * named `name` in it.  Returns 0 or -1
 * (logged). */
int pitr_dest_stage_open(struct pitr_dest_stage *st, const struct pitr_dest_env *env,
			 const char *name);

/* Append.  Returns 0 or -1 (logged). */
int pitr_dest_stage_write(struct pitr_dest_stage *st, const void *buf, size_t len);

/* Close the file for writing; it stays for the child to read.  0 or -1. */
int pitr_dest_stage_close(struct pitr_dest_stage *st);

/* Remove the file and the directory, free paths; safe on a zeroed or
 * already-removed stage. */
void pitr_dest_stage_remove(struct pitr_dest_stage *st);

#endif
