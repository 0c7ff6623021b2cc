/*
 * store_impl.h - what a kind of store implements (store.c's local
 * directories, store_s3.c's object stores) and the parts they share.
 * Not installed.
 */
#ifndef PITR_STORE_IMPL_H
#define PITR_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "repo/store.h"

/* Append an entry (its name copied) to a listing being gathered.  0, or
 * -1 after logging. */
int pitr_store_listing_add(struct pitr_store_listing *l, const struct pitr_store_entry *e);

/* The calls of store.h, per kind; store.c checks the arguments and
 * dispatches. */
struct pitr_store_kind {
	int (*list)(struct pitr_store *st, struct pitr_store_listing *l);
	int (*stat)(struct pitr_store *st, const char *name, struct pitr_store_entry *e);
	int (*read_begin)(struct pitr_store *st, const char *name, char *reason,
			  size_t reason_size);
	int (*read_end)(struct pitr_store *st, int fd, unsigned flags, char *reason,
			size_t reason_size);
	int (*remove)(struct pitr_store *st, const char *name);
	char *(*path)(const struct pitr_store *st, const char *name);
	void (*free_)(struct pitr_store *st);
};

struct pitr_store_s3;

struct pitr_store {
	const struct pitr_store_kind *kind;
	char *location;               /* as given */
	char *role;
	char *dir;                    /* local: the directory; else NULL */
	struct pitr_store_s3 *s3;     /* s3: store_s3.c's state; else NULL */
};

/* The s3 kind: st->s3 set up for `location`, or -1 after logging. */
extern const struct pitr_store_kind pitr_store_s3_kind;
int pitr_store_s3_init(struct pitr_store *st, const struct pitr_s3_config *cfg);
int pitr_store_s3_client(struct pitr_store *st, struct pitr_s3 **client, const char **prefix);

#endif
