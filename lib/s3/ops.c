/*
 * ops.c - single-request operations on objects (HEAD, PUT, GET, DELETE),
 * listings, and the table libpitrkit-s3 exports to s3load.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "s3/client.h"

static const long accept_404[] = { 404, 0 };

static void
fill_object(const struct s3c_req *req, struct pitr_s3_object *obj)
{
	if (obj == NULL)
		return;
	memset(obj, 0, sizeof(*obj));
	obj->size = req->size;
	obj->mtime = req->mtime;
	memcpy(obj->etag, req->etag, sizeof(obj->etag));
	memcpy(obj->mark, req->mark, sizeof(obj->mark));
}

/* A HEAD or GET of one object: 0 with *obj filled, 1 when absent, -1. */
static int
object_request(struct pitr_s3 *s3, struct s3c_req *req, struct pitr_s3_object *obj)
{
	long status = s3c_request(s3, req);

	free(req->reply.data);
	if (status < 0)
		return -1;
	if (status == 404)
		return 1;
	fill_object(req, obj);
	return 0;
}

int
s3c_head(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj)
{
	struct s3c_req req = { .what = "HEAD", .method = "HEAD", .key = key, .accept = accept_404 };

	return object_request(s3, &req, obj);
}

/* One attempt, bounded by the connect timeout: a guess that must not
 * hold up the work it runs beside when the store is slow or down. */
static int
s3c_probe(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj)
{
	struct s3c_req req = { .what = "HEAD", .method = "HEAD", .key = key, .accept = accept_404,
			       .probe = true };

	return object_request(s3, &req, obj);
}

static int
s3c_put(struct pitr_s3 *s3, const char *key, const void *buf, size_t len, bool if_absent)
{
	static const long accept_412[] = { 412, 0 };
	struct s3c_req req = { .what = "PUT", .method = "PUT", .key = key, .body = buf,
			       .body_len = len, .send_mark = true };
	long status;

	if (if_absent) {
		req.header = "If-None-Match: *";
		req.accept = accept_412;
	}
	status = s3c_request(s3, &req);
	free(req.reply.data);
	if (status < 0)
		return -1;
	return status == 412 ? 1 : 0;
}

static int
s3c_get(struct pitr_s3 *s3, const char *key, pitr_s3_sink sink, void *ctx,
	struct pitr_s3_object *obj)
{
	struct s3c_req req = { .what = "GET", .method = "GET", .key = key, .accept = accept_404,
			       .sink = sink, .sink_ctx = ctx };

	return object_request(s3, &req, obj);
}

static int
s3c_delete(struct pitr_s3 *s3, const char *key)
{
	struct s3c_req req = { .what = "DELETE", .method = "DELETE", .key = key,
			       .accept = accept_404 };
	long status = s3c_request(s3, &req);

	free(req.reply.data);
	return status < 0 ? -1 : 0;
}

/* ListObjectsV2's query for one page, parameters in SigV4's order. */
static char *
list_query(struct pitr_s3 *s3, const char *prefix, bool recurse, const char *token)
{
	char *p = s3c_encode(prefix, false), *t = token == NULL ? NULL : s3c_encode(token, false);
	char max[32] = "", *q = NULL;

	if (s3->knobs.max_keys > 0)
		snprintf(max, sizeof(max), "&max-keys=%u", s3->knobs.max_keys);
	if (p != NULL && (token == NULL || t != NULL))
		q = pitr_xasprintf("%s%s%s%slist-type=2%s&prefix=%s", t != NULL ? "continuation-token=" : "",
				   t != NULL ? t : "", t != NULL ? "&" : "",
				   recurse ? "" : "delimiter=%2F&", max, p);
	free(p);
	free(t);
	return q;
}

/* One page: its objects to `cb`; 0 with *token the next page's (NULL at
 * the end), 1 when cb stopped, -1 after logging. */
static int
list_page(struct pitr_s3 *s3, const char *prefix, bool recurse, char **token, pitr_s3_list_cb cb,
	  void *ctx)
{
	struct s3c_req req = { .what = "LIST", .method = "GET", .name = prefix };
	struct s3c_listing page;
	int rc = -1;

	if ((req.query = list_query(s3, prefix, recurse, *token)) == NULL)
		return -1;
	free(*token);
	*token = NULL;
	if (s3c_request(s3, &req) < 0)
		goto out;
	if (s3c_xml_list(req.reply.data, req.reply.len, &page) != 0) {
		s3c_bad_reply(s3, prefix, "LIST");
		goto out;
	}
	rc = 0;
	for (size_t i = 0; rc == 0 && i < page.nobjs; i++)
		rc = cb(ctx, &page.objs[i]);
	if (rc == 0 && page.truncated) {
		*token = page.next_token;
		page.next_token = NULL;
	}
	s3c_listing_free(&page);
out:
	free((char *)req.query);
	free(req.reply.data);
	return rc;
}

static int
s3c_list(struct pitr_s3 *s3, const char *prefix, bool recurse, pitr_s3_list_cb cb, void *ctx)
{
	char *token = NULL;
	int rc;

	do
		rc = list_page(s3, prefix, recurse, &token, cb, ctx);
	while (rc == 0 && token != NULL);
	free(token);
	return rc < 0 ? -1 : 0;
}

static char *
label(const struct pitr_s3 *s3, const char *key)
{
	return s3c_label(s3, key);
}

static void
test_knobs(struct pitr_s3 *s3, const struct pitr_s3_test_knobs *knobs)
{
	s3->knobs = *knobs;
	s3->backoff_ms = 10;   /* tests retry without waiting long */
}

/* The one symbol this library exports (s3_impl.h). */
extern const struct pitr_s3_impl pitr_s3_impl_v3;
const struct pitr_s3_impl pitr_s3_impl_v3 = {
	.new_ = s3c_new,
	.free_ = s3c_free,
	.head = s3c_head,
	.probe = s3c_probe,
	.put = s3c_put,
	.get = s3c_get,
	.delete_ = s3c_delete,
	.list = s3c_list,
	.upload_begin = s3c_upload_begin,
	.upload_part = s3c_upload_part,
	.upload_complete = s3c_upload_complete,
	.upload_id = s3c_upload_id,
	.upload_abort = s3c_upload_abort,
	.upload_free = s3c_upload_free,
	.pending_list = s3c_pending_list,
	.pending_abort = s3c_pending_abort,
	.label = label,
	.test_knobs = test_knobs,
};
