/*
 * client.h - what the files of libpitrkit-s3 share: the client, the
 * request engine (client.c), the XML readers (xml.c), and the functions
 * of ops.c and upload.c that its table (ops.c) points to.  Nothing here is
 * exported: the library's one exported symbol is its table (s3_impl.h).
 */
#ifndef PITR_S3_CLIENT_H
#define PITR_S3_CLIENT_H

#include <curl/curl.h>

#include "s3/s3.h"
#include "s3/s3_impl.h"

struct pitr_s3 {
	CURL *curl;                /* one handle: its connection is reused */
	char *bucket;
	char *base;                /* "https://host:port/bucket" or "https://bucket.host:port" */
	char *sigv4;               /* "aws:amz:REGION:s3" */
	char *access_key, *secret_key;
	char *token_header;        /* "x-amz-security-token: ...", or NULL */
	char *ca_file;
	bool no_verify_tls;
	long connect_timeout, stall_timeout;
	int retries;
	unsigned backoff_ms;       /* first retry's delay (tests shorten it) */
	struct pitr_s3_test_knobs knobs;
	unsigned seed;             /* the backoff's jitter */
};

/* A growing buffer of a reply's body. */
struct s3c_buf {
	char *data;
	size_t len, cap;
};

/* One request, retried by s3c_request() as the store allows. */
struct s3c_req {
	const char *what;          /* "PUT", "LIST", "UPLOAD PART": for messages */
	const char *method;        /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *key;           /* the object's key, NULL for the bucket */
	const char *name;          /* what messages name after the bucket, when
				    * not the key (a listing's prefix) */
	const char *query;         /* sorted, encoded parameters without '?', or NULL */
	const void *body;          /* PUT and POST */
	size_t body_len;
	bool send_mark;            /* send PITR_S3_MARK_HEADER: it stores an object */
	bool probe;                /* one attempt, done within the connect timeout */
	const char *header;        /* one more header ("If-None-Match: *"), or NULL */
	const long *accept;        /* statuses beyond 2xx that are answers, 0-ended */
	pitr_s3_sink sink;         /* GET: the 2xx body goes there */
	void *sink_ctx;

	/* Results. */
	long status;
	struct s3c_buf reply;      /* the body when not sunk (also an error's) */
	char etag[PITR_S3_ETAG_MAX]; /* of the first reply, unquoted */
	char mark[PITR_S3_MARK_MAX]; /* its PITR_S3_MARK_HEADER, "" without one */
	uint64_t size;             /* Content-Length, or Content-Range's total */
	time_t mtime;

	/* The engine's state. */
	size_t sent;               /* bytes of body read by curl this attempt */
	uint64_t delivered;        /* bytes passed to sink, all attempts */
	uint64_t skip;             /* bytes of this reply already delivered */
	bool sink_failed, cut, resuming;
	int attempts;
};

/*
 * Send `req` (retrying retryable failures with backoff).  Returns its
 * HTTP status when 2xx or in req->accept, or -1 after logging one line
 * "LABEL: WHAT: ..." (none when the sink failed: it logged).  Free
 * req->reply.data afterwards.
 */
long s3c_request(struct pitr_s3 *s3, struct s3c_req *req);

/* Whether a failure may succeed if tried again: a curl result (CURLE_OK
 * when a reply came), its HTTP status, and S3's error code ("" for none). */
bool s3c_retryable(int curl_code, long status, const char *s3_code);

/* The delay before retry `attempt` (1: the first retry) in ms: `base`
 * doubled each time up to 20 s, less up to half of it at random. */
unsigned s3c_backoff_ms(unsigned base, int attempt, unsigned *seed);

/* `s` percent-encoded for a URL path (`keep_slash`) or a query value:
 * all but A-Z a-z 0-9 - . _ ~ (and '/'), as SigV4 wants.  malloc'd. */
char *s3c_encode(const char *s, bool keep_slash);

/* Logs a one-line reason for a reply the XML readers refused. */
void s3c_bad_reply(struct pitr_s3 *s3, const char *key, const char *what);

char *s3c_label(const struct pitr_s3 *s3, const char *key);

/* xml.c: readers of S3's replies; each returns 0, or -1 for a reply that
 * is not the document expected (nothing logged, nothing left allocated). */
int s3c_xml_error(const char *buf, size_t len, char *code, size_t code_size, char *msg,
		  size_t msg_size);

struct s3c_listing {
	struct pitr_s3_object *objs;
	size_t nobjs;
	bool truncated;
	char *next_token;          /* NextContinuationToken, or NULL */
};
int s3c_xml_list(const char *buf, size_t len, struct s3c_listing *out);
void s3c_listing_free(struct s3c_listing *l);

int s3c_xml_initiate(const char *buf, size_t len, char **upload_id);

struct s3c_uploads {
	struct pitr_s3_pending *ups;   /* key and upload_id malloc'd */
	size_t nups;
	bool truncated;
	char *next_key, *next_id;      /* NextKeyMarker, NextUploadIdMarker */
};
int s3c_xml_uploads(const char *buf, size_t len, struct s3c_uploads *out);
void s3c_uploads_free(struct s3c_uploads *u);

/* "2024-01-02T03:04:05.000Z" into *t; 0 or -1. */
int s3c_iso8601(const char *s, time_t *t);

/* ops.c and upload.c: the table's functions. */
struct pitr_s3 *s3c_new(const struct pitr_s3_config *cfg, const struct pitr_s3_creds *creds,
			const char *bucket);
void s3c_free(struct pitr_s3 *s3);
int s3c_head(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj);
struct pitr_s3_upload *s3c_upload_begin(struct pitr_s3 *s3, const char *key);
int s3c_upload_part(struct pitr_s3_upload *up, const void *buf, size_t len);
int s3c_upload_complete(struct pitr_s3_upload *up);
const char *s3c_upload_id(const struct pitr_s3_upload *up);
int s3c_upload_abort(struct pitr_s3_upload *up);
void s3c_upload_free(struct pitr_s3_upload *up);
int s3c_pending_list(struct pitr_s3 *s3, const char *prefix, pitr_s3_pending_cb cb, void *ctx);
int s3c_pending_abort(struct pitr_s3 *s3, const char *key, const char *upload_id);
/* DELETE `key`?`id_query` ("uploadId=ENCODED"); 0 also when it is gone. */
int s3c_pending_abort_query(struct pitr_s3 *s3, const char *key, const char *id_query);

#endif
