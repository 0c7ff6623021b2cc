/*
 * client.c - the request engine: each request signed by libcurl's SigV4
 * with the body's real SHA-256 (libcrypto) on the client's one handle (so
 * a run reuses its connection), retried with backoff when the store says
 * a failure may pass, and each failure told in one line.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/xalloc.h"
#include "s3/client.h"

#define BACKOFF_MAX_MS 20000

bool
s3c_retryable(int curl_code, long status, const char *s3_code)
{
	static const char *const codes[] = { "RequestTimeout", "SlowDown", "InternalError",
					     "ServiceUnavailable" };

	switch (curl_code) {
	case CURLE_OK:
		break;
	/* What retrying cannot mend: the request or the setup is wrong, or
	 * our own sink refused the bytes. */
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_LOGIN_DENIED:
	case CURLE_FILESIZE_EXCEEDED:
		return false;
	default:
		return true;
	}
	if (status == 500 || status == 502 || status == 503 || status == 504)
		return true;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (s3_code != NULL && strcmp(s3_code, codes[i]) == 0)
			return true;
	return false;
}

unsigned
s3c_backoff_ms(unsigned base, int attempt, unsigned *seed)
{
	unsigned delay = base;

	for (int i = 1; i < attempt && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	/* Jitter: clients failing together do not come back together. */
	return delay - (delay / 2 == 0 ? 0 : (unsigned)rand_r(seed) % (delay / 2));
}

static int
buf_add(struct s3c_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap == 0 ? 4096 : b->cap;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
			return -1;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

/* Does a header line start with `name` (case-insensitive, then ':')?
 * Returns its value, blanks trimmed into `out`. */
static bool
header_is(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t n = strlen(name), vlen;
	const char *v;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	v = line + n + 1;
	vlen = len - n - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= size)
		vlen = size - 1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return true;
}

static size_t
on_header(char *line, size_t one, size_t len, void *arg)
{
	struct s3c_req *req = arg;
	char value[256];
	bool first = !req->resuming;

	(void)one;
	if (header_is(line, len, "ETag", value, sizeof(value)) && first) {
		const char *v = value;
		size_t n = strlen(v);

		if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
			v++, n -= 2;
		if (n < sizeof(req->etag))
			snprintf(req->etag, sizeof(req->etag), "%.*s", (int)n, v);
	} else if (header_is(line, len, "Content-Length", value, sizeof(value)) && first) {
		req->size = strtoull(value, NULL, 10);
	} else if (header_is(line, len, "Content-Range", value, sizeof(value)) && first) {
		const char *total = strchr(value, '/');

		if (total != NULL)
			req->size = strtoull(total + 1, NULL, 10);
	} else if (header_is(line, len, "Last-Modified", value, sizeof(value)) && first) {
		req->mtime = curl_getdate(value, NULL);
	} else if (header_is(line, len, PITR_S3_MARK_HEADER, value, sizeof(value)) && first) {
		snprintf(req->mark, sizeof(req->mark), "%.*s", (int)sizeof(req->mark) - 1, value);
	}
	return len;
}

/* Whether the reply being received goes to the sink (a 2xx to a GET). */
static bool
sinking(CURL *curl, const struct s3c_req *req)
{
	long status = 0;

	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	return req->sink != NULL && status >= 200 && status < 300;
}

struct write_ctx {
	struct pitr_s3 *s3;
	struct s3c_req *req;
};

static size_t
on_body(char *data, size_t one, size_t len, void *arg)
{
	struct write_ctx *w = arg;
	struct s3c_req *req = w->req;
	struct pitr_s3_test_knobs *k = &w->s3->knobs;
	size_t whole = len;

	(void)one;
	if (!sinking(w->s3->curl, req))
		return buf_add(&req->reply, data, len) == 0 ? len : 0;
	if (req->skip == UINT64_MAX) {
		long status = 0;

		/* A resumed GET: 206 sends the rest, 200 all of it again. */
		curl_easy_getinfo(w->s3->curl, CURLINFO_RESPONSE_CODE, &status);
		req->skip = status == 206 ? 0 : req->delivered;
	}
	if (req->skip > 0) {
		size_t n = req->skip < len ? (size_t)req->skip : len;

		data += n, len -= n, req->skip -= n;
	}
	if (len > 0 && k->cut_get_at > 0 && req->delivered + len >= k->cut_get_at) {
		size_t n = (size_t)(k->cut_get_at - req->delivered);

		k->cut_get_at = 0;
		if (n > 0 && req->sink(req->sink_ctx, data, n) != 0) {
			req->sink_failed = true;
			return 0;
		}
		req->delivered += n;
		req->cut = true;
		if (k->on_cut != NULL)
			k->on_cut(k->cut_ctx);
		return 0;
	}
	if (len > 0 && req->sink(req->sink_ctx, data, len) != 0) {
		req->sink_failed = true;
		return 0;
	}
	req->delivered += len;
	return whole;
}

static size_t
on_read(char *out, size_t one, size_t size, void *arg)
{
	struct s3c_req *req = arg;
	size_t n = req->body_len - req->sent;

	(void)one;
	if (n > size)
		n = size;
	memcpy(out, (const char *)req->body + req->sent, n);
	req->sent += n;
	return n;
}

/* curl rewinds the body when it sends it again (a reused connection that
 * turned out closed). */
static int
on_seek(void *arg, curl_off_t offset, int origin)
{
	struct s3c_req *req = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > req->body_len)
		return CURL_SEEKFUNC_FAIL;
	req->sent = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static void
hex(const unsigned char *d, unsigned n, char *out)
{
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* "x-amz-content-sha256: HEX" of `req`'s body into `line` (at least
 * SHA256_LINE_SIZE bytes): its real SHA-256, which the store checks the
 * body against (a mismatch is refused: XAmzContentSHA256Mismatch), so a
 * body damaged on the way is never stored.  Computed once per request,
 * not per attempt.  No Content-MD5 besides: it would check the same bytes
 * again at 1.4 ms per MB. */
#define SHA256_LINE_SIZE 128
static void
sha256_line(const struct s3c_req *req, char *line)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	EVP_Digest(req->body != NULL ? req->body : "", req->body_len, md, &mdlen, EVP_sha256(),
		   NULL);
	strcpy(line, "x-amz-content-sha256: ");
	hex(md, mdlen, line + strlen(line));
}

/* The headers every attempt of `req` carries; NULL after logging. */
static struct curl_slist *
headers(struct pitr_s3 *s3, struct s3c_req *req, const char *sha_line)
{
	char line[256];
	struct curl_slist *h = curl_slist_append(NULL, sha_line), *t;

	if (h != NULL && req->send_mark)
		h = (t = curl_slist_append(h, PITR_S3_MARK_HEADER ": " PACKAGE_VERSION)) == NULL ? NULL : t;
	if (h != NULL && s3->token_header != NULL)
		h = (t = curl_slist_append(h, s3->token_header)) == NULL ? NULL : t;
	if (h != NULL && req->header != NULL)
		h = (t = curl_slist_append(h, req->header)) == NULL ? NULL : t;
	if (h != NULL && req->resuming) {
		snprintf(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long)req->delivered);
		h = (t = curl_slist_append(h, line)) == NULL ? NULL : t;
		snprintf(line, sizeof(line), "If-Match: \"%s\"", req->etag);
		h = h == NULL ? NULL : curl_slist_append(h, line);
	}
	if (h == NULL)
		pitr_log_error("out of memory");
	return h;
}

static char *
request_url(struct pitr_s3 *s3, const struct s3c_req *req)
{
	char *key = s3c_encode(req->key != NULL ? req->key : "", true), *url;

	if (key == NULL)
		return NULL;
	url = pitr_xasprintf("%s/%s%s%s", s3->base, key, req->query != NULL ? "?" : "",
			     req->query != NULL ? req->query : "");
	free(key);
	return url;
}

/* One attempt: the curl result, with req->status and req->reply set. */
static CURLcode
attempt(struct pitr_s3 *s3, struct s3c_req *req, const char *url, struct curl_slist *h,
	char *errbuf)
{
	CURL *c = s3->curl;
	struct write_ctx w = { s3, req };
	CURLcode rc;

	curl_easy_reset(c);
	req->sent = 0;
	req->reply.len = 0;
	req->status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s3->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s3->access_key);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s3->secret_key);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s3->connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, s3->stall_timeout);
	if (req->probe)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, s3->connect_timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	if (s3->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s3->ca_file);
	if (s3->no_verify_tls) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(req->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, req);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, req);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
		/* The body goes at once: waiting for the store's "100 Continue",
		 * as libcurl does past 1 MiB, costs a round trip per PUT and
		 * saves nothing when the request is refused (a body under 1 MiB
		 * is sent in vain then too).  Not by removing the Expect header:
		 * libcurl before 8.3 signs a removed header (curl issue 11664),
		 * and the store refuses the signature. */
		curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 0L);
	} else if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	errbuf[0] = '\0';
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &req->status);
	return rc;
}

static bool
accepted(const struct s3c_req *req)
{
	if (req->status >= 200 && req->status < 300)
		return true;
	for (const long *a = req->accept; a != NULL && *a != 0; a++)
		if (*a == req->status)
			return true;
	return false;
}

/* S3's message in one printable line. */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

static void
log_failure(struct pitr_s3 *s3, const struct s3c_req *req, CURLcode rc, const char *errbuf,
	    const char *code, const char *msg)
{
	char *label = s3c_label(s3, req->name != NULL ? req->name : req->key);
	char tries[32] = "";

	if (req->attempts > 1)
		snprintf(tries, sizeof(tries), ", %d attempts", req->attempts);
	if (req->cut)
		pitr_log_error("%s: %s: transfer broken off (test)%s", label, req->what, tries);
	else if (rc != CURLE_OK)
		pitr_log_error("%s: %s: %s%s%s%s%s", label, req->what, curl_easy_strerror(rc),
			       errbuf[0] != '\0' ? " (" : "", errbuf, errbuf[0] != '\0' ? ")" : "",
			       tries);
	else
		pitr_log_error("%s: %s: HTTP %ld%s%s%s%s%s", label, req->what, req->status,
			       code[0] != '\0' ? " " : "", code, msg[0] != '\0' ? ": " : "", msg,
			       tries);
	free(label);
}

static void
pause_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0)
		;
}

long
s3c_request(struct pitr_s3 *s3, struct s3c_req *req)
{
	char errbuf[CURL_ERROR_SIZE], code[64], msg[256], sha[SHA256_LINE_SIZE];
	char *url = request_url(s3, req);
	struct curl_slist *h = NULL;
	CURLcode rc = CURLE_OK;
	long result = -1;

	if (url == NULL)
		return -1;
	sha256_line(req, sha);
	for (req->attempts = 1;; req->attempts++) {
		code[0] = msg[0] = '\0';
		req->cut = false;
		req->resuming = req->delivered > 0;
		req->skip = req->resuming ? UINT64_MAX : 0;
		if (!req->resuming) {
			req->etag[0] = '\0';
			req->mark[0] = '\0';
			req->size = 0;
			req->mtime = 0;
		}
		curl_slist_free_all(h);
		if ((h = headers(s3, req, sha)) == NULL)
			break;
		rc = attempt(s3, req, url, h, errbuf);
		if (req->sink_failed)
			break;   /* the sink logged */
		if (rc == CURLE_OK && req->status >= 300 && req->reply.len > 0)
			(void)s3c_xml_error(req->reply.data, req->reply.len, code, sizeof(code), msg,
					    sizeof(msg));
		/* A 404 answers "no such object" only while the bucket exists: a
		 * missing bucket is the operator's error, not an empty archive. */
		if (rc == CURLE_OK && accepted(req) && strcmp(code, "NoSuchBucket") != 0) {
			result = req->status;
			break;
		}
		/* A GET that passed bytes on resumes only from an ETag. */
		if (!(req->cut || s3c_retryable(rc, req->status, code)) ||
		    req->attempts > s3->retries || req->probe || (req->delivered > 0 && req->etag[0] == '\0')) {
			one_line(msg);
			log_failure(s3, req, rc, errbuf, code, msg);
			break;
		}
		pause_ms(s3c_backoff_ms(s3->backoff_ms, req->attempts, &s3->seed));
	}
	curl_slist_free_all(h);
	free(url);
	return result;
}

void
s3c_bad_reply(struct pitr_s3 *s3, const char *key, const char *what)
{
	char *label = s3c_label(s3, key);

	pitr_log_error("%s: %s: the store's reply could not be read", label, what);
	free(label);
}
