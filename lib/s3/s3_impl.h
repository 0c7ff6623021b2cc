/*
 * s3_impl.h - the seam between libpitrkit (s3load.c) and libpitrkit-s3:
 * the one table of functions libpitrkit-s3 exports, which s3load.c finds
 * with dlsym and calls the s3.h functions through, and test knobs.
 *
 * The table's symbol carries a version: a libpitrkit-s3 of another
 * layout has another name and is refused by dlsym, never called with the
 * wrong arguments.  Change the layout, change the name.
 */
#ifndef PITR_S3_IMPL_H
#define PITR_S3_IMPL_H

#include "s3/s3.h"

/* libpitrkit-s3's soname, the file s3load.c opens. */
#define PITR_S3_IMPL_FILE "libpitrkit-s3.so.0"
#define PITR_S3_IMPL_SYMBOL "pitr_s3_impl_v3"

/* Tests only: what a test against a real gateway cannot make happen
 * otherwise.  Zeroed: none. */
struct pitr_s3_test_knobs {
	unsigned max_keys;       /* page size of listings (ListObjectsV2
				  * max-keys, ListMultipartUploads max-uploads);
				  * 0: the store's (1000) */
	uint64_t cut_get_at;     /* > 0: the first GET attempt breaks off as a
				  * transport error after this many bytes */
	void (*on_cut)(void *ctx); /* called at that break, before the retry */
	void *cut_ctx;
};

struct pitr_s3_impl {
	struct pitr_s3 *(*new_)(const struct pitr_s3_config *cfg, const struct pitr_s3_creds *creds,
				const char *bucket);
	void (*free_)(struct pitr_s3 *s3);
	int (*head)(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj);
	int (*probe)(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj);
	int (*put)(struct pitr_s3 *s3, const char *key, const void *buf, size_t len, bool if_absent);
	int (*get)(struct pitr_s3 *s3, const char *key, pitr_s3_sink sink, void *ctx,
		   struct pitr_s3_object *obj);
	int (*delete_)(struct pitr_s3 *s3, const char *key);
	int (*list)(struct pitr_s3 *s3, const char *prefix, bool recurse, pitr_s3_list_cb cb,
		    void *ctx);
	struct pitr_s3_upload *(*upload_begin)(struct pitr_s3 *s3, const char *key);
	int (*upload_part)(struct pitr_s3_upload *up, const void *buf, size_t len);
	int (*upload_complete)(struct pitr_s3_upload *up);
	const char *(*upload_id)(const struct pitr_s3_upload *up);
	int (*upload_abort)(struct pitr_s3_upload *up);
	void (*upload_free)(struct pitr_s3_upload *up);
	int (*pending_list)(struct pitr_s3 *s3, const char *prefix, pitr_s3_pending_cb cb, void *ctx);
	int (*pending_abort)(struct pitr_s3 *s3, const char *key, const char *upload_id);
	char *(*label)(const struct pitr_s3 *s3, const char *key);
	void (*test_knobs)(struct pitr_s3 *s3, const struct pitr_s3_test_knobs *knobs);
};

/* Set `s3`'s test knobs (copied).  Tests only. */
void pitr_s3_test_set_knobs(struct pitr_s3 *s3, const struct pitr_s3_test_knobs *knobs);

/* The table, loaded on first use; NULL after logging why it could not
 * be.  For tests that check the loader. */
const struct pitr_s3_impl *pitr_s3_impl(void);

#endif
