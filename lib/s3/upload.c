/*
 * upload.c - multipart uploads (begin, parts, complete, abort) and the
 * uploads left pending by runs that neither completed nor aborted them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "s3/client.h"

struct pitr_s3_upload {
	struct pitr_s3 *s3;
	char *key;
	char *id;                  /* the store's */
	char *id_query;            /* "uploadId=ENCODED" */
	unsigned nparts;
	char (*etags)[PITR_S3_ETAG_MAX];
	unsigned cap;
};

static const long accept_404[] = { 404, 0 };

struct pitr_s3_upload *
s3c_upload_begin(struct pitr_s3 *s3, const char *key)
{
	struct s3c_req req = { .what = "UPLOAD BEGIN", .method = "POST", .key = key,
			       .query = "uploads=", .send_mark = true };
	struct pitr_s3_upload *up = NULL;
	char *id = NULL, *enc = NULL;

	if (s3c_request(s3, &req) < 0)
		goto out;
	if (s3c_xml_initiate(req.reply.data, req.reply.len, &id) != 0) {
		s3c_bad_reply(s3, key, "UPLOAD BEGIN");
		goto out;
	}
	if ((enc = s3c_encode(id, false)) == NULL || (up = pitr_xcalloc(1, sizeof(*up))) == NULL)
		goto out;
	up->s3 = s3;
	up->key = pitr_xstrdup(key);
	up->id = id;
	id = NULL;
	up->id_query = pitr_xasprintf("uploadId=%s", enc);
	if (up->key == NULL || up->id_query == NULL) {
		s3c_upload_free(up);
		up = NULL;
	}
out:
	free(enc);
	free(id);
	free(req.reply.data);
	return up;
}

int
s3c_upload_part(struct pitr_s3_upload *up, const void *buf, size_t len)
{
	struct s3c_req req = { .what = "UPLOAD PART", .method = "PUT", .key = up->key, .body = buf,
			       .body_len = len };
	char *query;
	long status;

	if (up->nparts >= PITR_S3_PARTS_MAX) {
		char *label = s3c_label(up->s3, up->key);

		pitr_log_error("%s: UPLOAD PART: more than %d parts", label, PITR_S3_PARTS_MAX);
		free(label);
		return -1;
	}
	if (up->nparts == up->cap) {
		unsigned cap = up->cap == 0 ? 64 : up->cap * 2;
		void *p = pitr_xreallocarray(up->etags, cap, sizeof(*up->etags));

		if (p == NULL)
			return -1;
		up->etags = p;
		up->cap = cap;
	}
	/* partNumber before uploadId: SigV4's order, which libcurl keeps. */
	if ((query = pitr_xasprintf("partNumber=%u&%s", up->nparts + 1, up->id_query)) == NULL)
		return -1;
	req.query = query;
	status = s3c_request(up->s3, &req);
	free(query);
	free(req.reply.data);
	if (status < 0)
		return -1;
	if (req.etag[0] == '\0') {
		s3c_bad_reply(up->s3, up->key, "UPLOAD PART");
		return -1;
	}
	memcpy(up->etags[up->nparts++], req.etag, PITR_S3_ETAG_MAX);
	return 0;
}

/* CompleteMultipartUpload's body: each part's number and ETag. */
static char *
complete_body(const struct pitr_s3_upload *up, size_t *len)
{
	size_t cap = 64 + (size_t)up->nparts * (64 + PITR_S3_ETAG_MAX), n;
	char *body = pitr_xmalloc(cap);

	if (body == NULL)
		return NULL;
	n = (size_t)snprintf(body, cap, "<CompleteMultipartUpload>");
	for (unsigned i = 0; i < up->nparts; i++)
		n += (size_t)snprintf(body + n, cap - n,
				      "<Part><PartNumber>%u</PartNumber><ETag>\"%s\"</ETag></Part>",
				      i + 1, up->etags[i]);
	n += (size_t)snprintf(body + n, cap - n, "</CompleteMultipartUpload>");
	*len = n;
	return body;
}

/* After a retried complete found the upload gone: did the lost reply say
 * it was done?  The object is there then with a multipart ETag of as
 * many parts. */
static bool
completed_before(struct pitr_s3_upload *up)
{
	struct pitr_s3_object obj;
	char tail[16];
	size_t elen, tlen;

	if (s3c_head(up->s3, up->key, &obj) != 0)
		return false;
	snprintf(tail, sizeof(tail), "-%u", up->nparts);
	elen = strlen(obj.etag);
	tlen = strlen(tail);
	return elen > tlen && strcmp(obj.etag + elen - tlen, tail) == 0;
}

int
s3c_upload_complete(struct pitr_s3_upload *up)
{
	struct s3c_req req = { .what = "UPLOAD COMPLETE", .method = "POST", .key = up->key,
			       .query = up->id_query, .accept = accept_404 };
	char code[64] = "", msg[256] = "";
	char *body = NULL;
	long status;
	int rc = -1;

	/* S3 completes nothing without a part: an empty stream is one empty part. */
	if (up->nparts == 0 && s3c_upload_part(up, "", 0) != 0)
		return -1;
	if ((body = complete_body(up, &req.body_len)) == NULL)
		return -1;
	req.body = body;
	if ((status = s3c_request(up->s3, &req)) < 0)
		goto out;
	/* The store may say 200 and then fail the completion in the body. */
	if (req.reply.len > 0 &&
	    s3c_xml_error(req.reply.data, req.reply.len, code, sizeof(code), msg, sizeof(msg)) == 0)
		status = status == 404 ? 404 : 500;
	if (status == 404 && req.attempts > 1 && completed_before(up))
		status = 200;
	if (status >= 300) {
		char *label = s3c_label(up->s3, up->key);

		pitr_log_error("%s: UPLOAD COMPLETE: HTTP %ld%s%s%s%s", label, req.status,
			       code[0] != '\0' ? " " : "", code, msg[0] != '\0' ? ": " : "", msg);
		free(label);
		goto out;
	}
	rc = 0;
out:
	free(body);
	free(req.reply.data);
	return rc;
}

const char *
s3c_upload_id(const struct pitr_s3_upload *up)
{
	return up->id;
}

int
s3c_upload_abort(struct pitr_s3_upload *up)
{
	int rc;

	if (up == NULL)
		return 0;
	rc = s3c_pending_abort_query(up->s3, up->key, up->id_query);
	s3c_upload_free(up);
	return rc;
}

void
s3c_upload_free(struct pitr_s3_upload *up)
{
	if (up == NULL)
		return;
	free(up->key);
	free(up->id);
	free(up->id_query);
	free(up->etags);
	free(up);
}

int
s3c_pending_abort_query(struct pitr_s3 *s3, const char *key, const char *id_query)
{
	struct s3c_req req = { .what = "UPLOAD ABORT", .method = "DELETE", .key = key,
			       .query = id_query, .accept = accept_404 };
	long status = s3c_request(s3, &req);

	free(req.reply.data);
	return status < 0 ? -1 : 0;
}

int
s3c_pending_abort(struct pitr_s3 *s3, const char *key, const char *upload_id)
{
	char *enc, *query;
	int rc;

	/* Without an id the DELETE would remove the object itself. */
	if (upload_id == NULL || upload_id[0] == '\0') {
		char *label = s3c_label(s3, key);

		pitr_log_error("%s: UPLOAD ABORT: no upload id", label);
		free(label);
		return -1;
	}
	if ((enc = s3c_encode(upload_id, false)) == NULL)
		return -1;
	query = pitr_xasprintf("uploadId=%s", enc);
	free(enc);
	if (query == NULL)
		return -1;
	rc = s3c_pending_abort_query(s3, key, query);
	free(query);
	return rc;
}

/* ListMultipartUploads' query for one page, in SigV4's order. */
static char *
uploads_query(struct pitr_s3 *s3, const char *prefix, const char *key_marker, const char *id_marker)
{
	char *p = s3c_encode(prefix, false), *k = NULL, *i = NULL, *q = NULL;
	char max[32] = "";

	if (s3->knobs.max_keys > 0)
		snprintf(max, sizeof(max), "max-uploads=%u&", s3->knobs.max_keys);
	if (key_marker != NULL)
		k = s3c_encode(key_marker, false);
	if (id_marker != NULL)
		i = s3c_encode(id_marker, false);
	if (p != NULL && (key_marker == NULL || k != NULL) && (id_marker == NULL || i != NULL))
		q = pitr_xasprintf("%s%s%s%sprefix=%s&%s%s%suploads=", k != NULL ? "key-marker=" : "",
				   k != NULL ? k : "", k != NULL ? "&" : "", max, p,
				   i != NULL ? "upload-id-marker=" : "", i != NULL ? i : "",
				   i != NULL ? "&" : "");
	free(p);
	free(k);
	free(i);
	return q;
}

int
s3c_pending_list(struct pitr_s3 *s3, const char *prefix, pitr_s3_pending_cb cb, void *ctx)
{
	char *key_marker = NULL, *id_marker = NULL;
	struct s3c_uploads page;
	int rc = 0;

	do {
		struct s3c_req req = { .what = "LIST UPLOADS", .method = "GET", .name = prefix };
		char *query = uploads_query(s3, prefix, key_marker, id_marker);

		free(key_marker);
		free(id_marker);
		key_marker = id_marker = NULL;
		req.query = query;
		rc = query == NULL || s3c_request(s3, &req) < 0 ? -1 : 0;
		if (rc == 0 && s3c_xml_uploads(req.reply.data, req.reply.len, &page) != 0) {
			s3c_bad_reply(s3, prefix, "LIST UPLOADS");
			rc = -1;
		}
		free(query);
		free(req.reply.data);
		if (rc != 0)
			break;
		for (size_t n = 0; rc == 0 && n < page.nups; n++)
			rc = cb(ctx, &page.ups[n]);
		if (page.truncated) {
			key_marker = page.next_key;
			id_marker = page.next_id;
			page.next_key = page.next_id = NULL;
		}
		s3c_uploads_free(&page);
	} while (rc == 0 && key_marker != NULL);
	free(key_marker);
	free(id_marker);
	return rc < 0 ? -1 : 0;
}
