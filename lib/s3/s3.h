/*
 * s3.h - objects in an S3-compatible store (AWS S3, Ceph's RADOS gateway,
 * MinIO): a location s3://BUCKET/PREFIX/, credentials, and the requests
 * pitrkit makes (HEAD, PUT, GET, DELETE, list, multipart uploads).
 *
 * Requests go through libcurl: its connection cache (one handle per
 * struct pitr_s3, so a run reuses one connection), its TLS, and its AWS
 * Signature V4 signing (CURLOPT_AWS_SIGV4).  Every request carries
 * x-amz-content-sha256 with the body's real SHA-256 (libcrypto), which
 * the store checks: a body damaged on the way is refused, never stored.
 * libxml2 reads the replies (listings, errors).
 *
 * The implementation lives in its own shared library, libpitrkit-s3,
 * which libpitrkit loads with dlopen the first time a pitr_s3_* function
 * is called (s3load.c): libcurl and libxml2 with their dependencies cost
 * an archive_command call about 3 ms to load, paid only by runs that
 * reach an object store.  The functions below are the same whichever side
 * of that split a caller is on.
 *
 * Every object pitrkit stores carries a mark: each PUT and each multipart
 * upload's beginning sends the user-metadata header PITR_S3_MARK_HEADER
 * with the writer's version, which a HEAD reads back.  A store may hold
 * objects other programs put there (OmniPITR's --dst-pipe uploaders); an
 * object without the mark is never taken for a pitrkit run's leftover.
 *
 * Errors are logged as one line naming the object, the request, the HTTP
 * status and S3's error code and message:
 *   s3://b/p/000000010000000000000003.gz: PUT: HTTP 403 AccessDenied: Access Denied
 *   s3://b/p/000000010000000000000003.gz: PUT: Couldn't connect to server
 *     (Failed to connect to 127.0.0.1 port 7480: Connection refused), 5 attempts
 * and never hold a credential.  Retryable failures (transport errors,
 * timeouts, HTTP 500, 502, 503, 504, and S3's RequestTimeout, SlowDown,
 * InternalError, ServiceUnavailable) are retried with exponential backoff
 * before that line is written.
 */
#ifndef PITR_S3_H
#define PITR_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "s3://" starts every location of this kind. */
#define PITR_S3_SCHEME "s3://"

/* True when `location` names an object store ("s3://..."). */
bool pitr_s3_is_url(const char *location);

/* A location: s3://BUCKET/PREFIX/. */
struct pitr_s3_url {
	char *bucket;   /* S3's bucket naming rules: 3-63 of [a-z0-9.-] */
	char *prefix;   /* "" (the bucket's top) or "dir/sub/" (always ending in '/') */
};

/*
 * Parse `s` ("s3://bucket", "s3://bucket/", "s3://bucket/a/b", ...: a
 * missing trailing '/' is added to the prefix).  Refuses an empty or
 * invalid bucket, an empty path segment ("a//b"), "." and ".." segments
 * and control characters, with one line starting with `what` (the
 * option: "--dst-remote").  Returns 0, or -1 after logging.  Free with
 * pitr_s3_url_free().
 */
int pitr_s3_url_parse(const char *s, const char *what, struct pitr_s3_url *out);
void pitr_s3_url_free(struct pitr_s3_url *url);

/* Where and how to connect: the options every program with an s3://
 * location has (PITR_OPTS_S3 in common/opts.h). */
struct pitr_s3_config {
	const char *endpoint;    /* "https://host[:port]" or "http://..."; NULL:
				  * https://s3.REGION.amazonaws.com */
	const char *region;      /* signing region; NULL: PITR_S3_REGION_DEFAULT */
	bool path_style;         /* ENDPOINT/BUCKET/KEY (RGW, MinIO) rather than
				  * BUCKET.ENDPOINT/KEY (AWS's virtual host) */
	bool no_verify_tls;      /* do not check the server's certificate (tests) */
	const char *ca_file;     /* CA bundle for the server's certificate; NULL:
				  * the system's */
	int connect_timeout;     /* seconds to connect; 0: PITR_S3_CONNECT_TIMEOUT_DEFAULT */
	int stall_timeout;       /* seconds without a byte moving before a request
				  * is given up (and retried); 0: PITR_S3_STALL_TIMEOUT_DEFAULT */
	int retries;             /* further attempts after a retryable failure; 0: none */
};

#define PITR_S3_REGION_DEFAULT "us-east-1"
#define PITR_S3_CONNECT_TIMEOUT_DEFAULT 10
#define PITR_S3_STALL_TIMEOUT_DEFAULT 60
#define PITR_S3_RETRIES_DEFAULT 4

/* The PITR_OPTS_S3 options of `o` into *cfg (strings borrowed from `o`,
 * which must outlive it). */
struct pitr_opts;
void pitr_s3_config_from_opts(const struct pitr_opts *o, struct pitr_s3_config *cfg);

/*
 * The PITR_OPTS_S3 words that give another program `cfg` (pitr-restore in
 * the restore_command pitr-recover and pitr-synch write): "--s3-endpoint=URL"
 * and the like, one for each setting that is not the default, in the
 * table's order, into `words` (PITR_S3_CONFIG_WORDS_MAX entries, each
 * malloc'd).  A CA file is written as `cfg` has it: the caller makes it
 * absolute.  Returns how many, or -1 after logging ENOMEM.
 */
#define PITR_S3_CONFIG_WORDS_MAX 7
int pitr_s3_config_words(const struct pitr_s3_config *cfg, char **words);

/* Credentials: never from the command line, where ps shows them. */
struct pitr_s3_creds {
	char *access_key;
	char *secret_key;
	char *session_token;   /* NULL without one */
};

/*
 * AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN when
 * set) when both are set; else the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) section
 * [AWS_PROFILE] (default [default]): aws_access_key_id,
 * aws_secret_access_key, aws_session_token.  Returns 0, or -1 after
 * logging one line saying where it looked (never a secret).
 */
int pitr_s3_creds_load(struct pitr_s3_creds *out);
void pitr_s3_creds_free(struct pitr_s3_creds *creds);

/* One client: a bucket, its connection and its signing.  Not shared
 * between threads (one per thread). */
struct pitr_s3;

/* A client for `bucket`; `cfg` and `creds` are copied.  Connects at the
 * first request.  Returns NULL after logging. */
struct pitr_s3 *pitr_s3_new(const struct pitr_s3_config *cfg, const struct pitr_s3_creds *creds,
			    const char *bucket);
void pitr_s3_free(struct pitr_s3 *s3);

/* The mark's header; its value is the writer's PACKAGE_VERSION ("0.1.0"). */
#define PITR_S3_MARK_HEADER "x-amz-meta-pitrkit"
#define PITR_S3_MARK_MAX 32

/* An object as a HEAD or a listing describes it. */
#define PITR_S3_ETAG_MAX 72
struct pitr_s3_object {
	char *key;               /* full key, prefix included (listings only;
				  * NULL from pitr_s3_head) */
	uint64_t size;
	time_t mtime;            /* Last-Modified */
	char etag[PITR_S3_ETAG_MAX]; /* without quotes: the body's MD5 in hex for a
				      * single PUT, "HEX-N" for a multipart one */
	char mark[PITR_S3_MARK_MAX]; /* PITR_S3_MARK_HEADER's value, the version of
				      * the pitrkit that stored it; "" when it has
				      * none (another program's object) and in
				      * listings, which do not tell (HEAD does) */
};

/* 0 with *obj filled (obj may be NULL), 1 when there is no such object,
 * or -1 after logging. */
int pitr_s3_head(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj);

/* As pitr_s3_head, in one attempt that ends within the connect timeout
 * (no retry, however retryable the failure): for a guess made ahead of
 * time, which a failure leaves to the request that follows.  The failure
 * is logged all the same; the caller holds the line when it is not to
 * be said (pitr_log_hold). */
int pitr_s3_probe(struct pitr_s3 *s3, const char *key, struct pitr_s3_object *obj);

/*
 * Store `len` bytes under `key` in one PUT, sent with its SHA-256 (the
 * store refuses a body that does not match it; no Content-MD5, which
 * would check the same bytes again) and the mark: the object appears
 * whole or not at all.  With `if_absent` the
 * request carries If-None-Match: * and an existing object is left as it
 * is: 1 is returned then.  Returns 0 when stored, 1 (if_absent) when an
 * object was there, -1 after logging.
 */
int pitr_s3_put(struct pitr_s3 *s3, const char *key, const void *buf, size_t len,
		bool if_absent);

/* Where a GET's bytes go, in order; returns 0, or -1 after logging (the
 * GET then fails without a line of its own). */
typedef int (*pitr_s3_sink)(void *ctx, const void *buf, size_t len);

/*
 * The object's bytes, passed to `sink` as they arrive.  A retry after
 * some bytes were passed asks for the rest only (Range, If-Match on the
 * first reply's ETag: a replaced object fails instead of being spliced).
 * *obj (may be NULL) gets the object's size, mtime and ETag.  Returns 0,
 * 1 when there is no such object (nothing passed), -1 after logging.
 */
int pitr_s3_get(struct pitr_s3 *s3, const char *key, pitr_s3_sink sink, void *ctx,
		struct pitr_s3_object *obj);

/* Remove `key`.  0 (also when it was not there), or -1 after logging. */
int pitr_s3_delete(struct pitr_s3 *s3, const char *key);

/* Called per listed object in key order; returns 0 to go on, 1 to stop
 * the listing early (pitr_s3_list then returns 0), -1 after logging. */
typedef int (*pitr_s3_list_cb)(void *ctx, const struct pitr_s3_object *obj);

/*
 * Every object whose key starts with `prefix` (ListObjectsV2, following
 * continuation tokens), in key order; with `recurse` false only those
 * with no further '/' after the prefix, as a directory listing.  Returns
 * 0, or -1 (logged here or by `cb`).
 */
int pitr_s3_list(struct pitr_s3 *s3, const char *prefix, bool recurse, pitr_s3_list_cb cb,
		 void *ctx);

/*
 * Multipart uploads, for a stream of unknown size (a backup's tarball):
 * begin, parts in order, then complete, at which instant the object
 * appears under its key whole; or abort, after which nothing of it is
 * stored.  Every part but the last must hold at least
 * PITR_S3_PART_MIN bytes; pitr_s3_part_size() says how much a writer
 * should gather for part `n` (16 MiB, growing by 16 MiB every 1000 parts) so
 * that 10000 parts hold 880 GB with at most 160 MiB in memory.
 */
#define PITR_S3_PART_MIN (5u << 20)
#define PITR_S3_PARTS_MAX 10000
size_t pitr_s3_part_size(unsigned n);   /* n from 1 */

struct pitr_s3_upload;

/* Begin an upload of `key` (the object it makes carries the mark).
 * NULL after logging. */
struct pitr_s3_upload *pitr_s3_upload_begin(struct pitr_s3 *s3, const char *key);

/* The store's id of the upload: what pitr_s3_pending_abort() takes. */
const char *pitr_s3_upload_id(const struct pitr_s3_upload *up);

/* Upload the next part.  0, or -1 after logging (abort then). */
int pitr_s3_upload_part(struct pitr_s3_upload *up, const void *buf, size_t len);

/* Complete the upload: the object is there whole.  0, or -1 after
 * logging (abort then).  A completed upload is only freed. */
int pitr_s3_upload_complete(struct pitr_s3_upload *up);

/* Abort an upload not completed, then free it.  0 when it is gone (or
 * `up` is NULL), -1 after logging: it may still be pending, for a later
 * pitr_s3_pending_abort() (dest.h's sweep). */
int pitr_s3_upload_abort(struct pitr_s3_upload *up);

/* Free a completed upload; NULL is accepted. */
void pitr_s3_upload_free(struct pitr_s3_upload *up);

/* An upload begun and neither completed nor aborted. */
struct pitr_s3_pending {
	const char *key;
	const char *upload_id;
	time_t initiated;
};

/* Called per pending upload; 0 to go on, -1 after logging. */
typedef int (*pitr_s3_pending_cb)(void *ctx, const struct pitr_s3_pending *p);

/* Every pending upload of a key starting with `prefix`
 * (ListMultipartUploads).  0, or -1. */
int pitr_s3_pending_list(struct pitr_s3 *s3, const char *prefix, pitr_s3_pending_cb cb, void *ctx);

/* Abort one pending upload.  0 (also when it is already gone), or -1
 * after logging. */
int pitr_s3_pending_abort(struct pitr_s3 *s3, const char *key, const char *upload_id);

/* "s3://BUCKET/KEY", for messages; malloc'd. */
char *pitr_s3_label(const struct pitr_s3 *s3, const char *key);

#endif
