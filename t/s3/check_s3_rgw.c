/*
 * check_s3_rgw.c - the s3.h client against a real Ceph RADOS gateway,
 * through libpitrkit and its loader of libpitrkit-s3: every operation,
 * listings over several pages, If-None-Match, a GET resumed after a break
 * (and refused when the object was replaced meanwhile), multipart uploads
 * completed, aborted and left pending, and each kind of failure as one
 * line.  Run by t/integration/s3-client.sh, which starts the gateway and
 * gives it in the environment: RGW_HTTP, RGW_HTTPS, RGW_CA, RGW_KEY,
 * RGW_SECRET, RGW_OTHER_KEY, RGW_OTHER_SECRET, S3_BUCKET (pitr's),
 * S3_OTHER_BUCKET (other's), S3_PREFIX (this run's).  It leaves
 * PREFIX/keep/{one,two,three} for the script to see with its own client.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "s3/s3.h"
#include "s3/s3_impl.h"

static const char *
need(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v != NULL && v[0] != '\0', "%s is not set (run t/integration/s3-client.sh)",
		      name);
	return v;
}

/* A key of this run: S3_PREFIX/name. */
static const char *
key(const char *name)
{
	return h_fmt("%s%s", need("S3_PREFIX"), name);
}

static struct pitr_s3_config
config(const char *endpoint)
{
	struct pitr_s3_config cfg = { .endpoint = endpoint, .region = "us-east-1",
				      .path_style = true, .retries = 2, .stall_timeout = 10 };
	return cfg;
}

/* A client of `user` ("pitr", "other") for `bucket` over `cfg`, with
 * short backoff and the knobs given. */
static struct pitr_s3 *
client_as(const struct pitr_s3_config *cfg, const char *access, const char *secret,
	  const char *bucket, const struct pitr_s3_test_knobs *knobs)
{
	struct pitr_s3_creds creds = { .access_key = (char *)access, .secret_key = (char *)secret };
	struct pitr_s3_test_knobs none = { 0 };
	struct pitr_s3 *s3 = pitr_s3_new(cfg, &creds, bucket);

	ck_assert_ptr_nonnull(s3);
	pitr_s3_test_set_knobs(s3, knobs != NULL ? knobs : &none);
	return s3;
}

static struct pitr_s3 *
client(const struct pitr_s3_test_knobs *knobs)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));

	return client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), knobs);
}

/* `n` bytes of a pattern of `seed`, malloc'd. */
static unsigned char *
bytes(size_t n, unsigned seed)
{
	unsigned char *b = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
	return b;
}

static void
md5_hex(const void *buf, size_t len, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	EVP_Digest(buf, len, md, &n, EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* A GET's bytes gathered in memory. */
struct got {
	unsigned char *data;
	size_t len;
	unsigned calls;
};

static int
gather(void *ctx, const void *buf, size_t len)
{
	struct got *g = ctx;

	g->data = realloc(g->data, g->len + len + 1);
	ck_assert_ptr_nonnull(g->data);
	memcpy(g->data + g->len, buf, len);
	g->len += len;
	g->calls++;
	return 0;
}

static void
assert_object(struct pitr_s3 *s3, const char *k, const void *want, size_t len)
{
	struct got g = { 0 };
	struct pitr_s3_object obj;

	ck_assert_int_eq(pitr_s3_get(s3, k, gather, &g, &obj), 0);
	ck_assert_uint_eq(g.len, len);
	ck_assert_int_eq(memcmp(g.data, want, len), 0);
	ck_assert_uint_eq(obj.size, len);
	free(g.data);
}

/* The number of ERROR lines logged since setup. */
static int
errors(void)
{
	int n = 0;

	for (const char *p = h_log(); (p = strstr(p, "ERROR")) != NULL; p++)
		n++;
	return n;
}

static void
setup(void)
{
	h_setup();
}

static void
teardown(void)
{
	h_teardown();
}

/* The library is found beside libpitrkit; with S3_EXPECT_NO_LIBRARY set
 * (the script runs a libpitrkit copied where it has no sibling) each
 * call that needs it fails with one line naming the file. */
START_TEST(test_loader)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));
	struct pitr_s3_creds creds = { .access_key = (char *)"k", .secret_key = (char *)"s" };

	if (getenv("S3_EXPECT_NO_LIBRARY") == NULL) {
		ck_assert_ptr_nonnull(pitr_s3_impl());
		ck_assert_str_eq(h_log(), "");
		return;
	}
	ck_assert_ptr_null(pitr_s3_new(&cfg, &creds, "pitr"));
	ck_assert_ptr_null(pitr_s3_new(&cfg, &creds, "pitr"));
	ck_assert_int_eq(errors(), 2);
	ck_assert_msg(strstr(h_log(), "ERROR : could not load the S3 library \"") == h_log(), "%s",
		      h_log());
	ck_assert_ptr_nonnull(strstr(h_log(), "/" PITR_S3_IMPL_FILE "\": "));
}
END_TEST

START_TEST(test_put_head_get_delete)
{
	struct pitr_s3 *s3 = client(NULL);
	unsigned char *b = bytes(100000, 1);
	struct pitr_s3_object obj;
	struct got g = { 0 };
	char md5[33];
	time_t now = time(NULL);

	ck_assert_int_eq(pitr_s3_put(s3, key("obj"), b, 100000, false), 0);
	ck_assert_int_eq(pitr_s3_head(s3, key("obj"), &obj), 0);
	md5_hex(b, 100000, md5);
	ck_assert_str_eq(obj.etag, md5);
	ck_assert_uint_eq(obj.size, 100000);
	ck_assert_ptr_null(obj.key);
	ck_assert_int_le(labs((long)(obj.mtime - now)), 60);
	ck_assert_str_eq(obj.mark, PACKAGE_VERSION);
	assert_object(s3, key("obj"), b, 100000);
	/* Overwritten by a plain PUT. */
	ck_assert_int_eq(pitr_s3_put(s3, key("obj"), "short", 5, false), 0);
	assert_object(s3, key("obj"), "short", 5);
	ck_assert_int_eq(pitr_s3_delete(s3, key("obj")), 0);
	ck_assert_int_eq(pitr_s3_head(s3, key("obj"), NULL), 1);
	ck_assert_int_eq(pitr_s3_delete(s3, key("obj")), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("obj"), gather, &g, NULL), 1);
	ck_assert_uint_eq(g.calls, 0);
	/* An empty object. */
	ck_assert_int_eq(pitr_s3_put(s3, key("empty"), "", 0, false), 0);
	ck_assert_int_eq(pitr_s3_head(s3, key("empty"), &obj), 0);
	ck_assert_uint_eq(obj.size, 0);
	ck_assert_str_eq(obj.etag, "d41d8cd98f00b204e9800998ecf8427e");
	ck_assert_int_eq(pitr_s3_delete(s3, key("empty")), 0);
	ck_assert_str_eq(h_log(), "");
	free(b);
	pitr_s3_free(s3);
}
END_TEST

/* Keys with what must be encoded in a path and a query: a listing by
 * their prefix finds them by their exact names. */
static int
collect(void *ctx, const struct pitr_s3_object *obj)
{
	char *list = ctx;

	strcat(list, obj->key + strlen(need("S3_PREFIX")));
	strcat(list, "|");
	return 0;
}

START_TEST(test_odd_keys)
{
	struct pitr_s3 *s3 = client(NULL);
	static const char *const names[] = { "odd dir+/a b", "odd dir+/x&y=z%41?#", "odd dir+/\xc3\xbc~" };
	char list[512] = "";

	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(pitr_s3_put(s3, key(names[i]), names[i], strlen(names[i]), false), 0);
		assert_object(s3, key(names[i]), names[i], strlen(names[i]));
	}
	ck_assert_int_eq(pitr_s3_list(s3, key("odd dir+/"), true, collect, list), 0);
	ck_assert_str_eq(list, "odd dir+/a b|odd dir+/x&y=z%41?#|odd dir+/\xc3\xbc~|");
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(pitr_s3_delete(s3, key(names[i])), 0);
	pitr_s3_free(s3);
}
END_TEST

START_TEST(test_put_if_absent)
{
	struct pitr_s3 *s3 = client(NULL);

	ck_assert_int_eq(pitr_s3_put(s3, key("once"), "first", 5, true), 0);
	ck_assert_int_eq(pitr_s3_put(s3, key("once"), "second", 6, true), 1);
	assert_object(s3, key("once"), "first", 5);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_s3_delete(s3, key("once")), 0);
	pitr_s3_free(s3);
}
END_TEST

struct listing {
	char keys[2048];
	int n, stop_after;
};

static int
count_keys(void *ctx, const struct pitr_s3_object *obj)
{
	struct listing *l = ctx;

	strcat(l->keys, obj->key + strlen(need("S3_PREFIX")));
	strcat(l->keys, " ");
	ck_assert_uint_eq(obj->size, 3);
	ck_assert_str_eq(obj->etag, "900150983cd24fb0d6963f7d28e17f72");   /* md5("abc") */
	return ++l->n == l->stop_after ? 1 : 0;
}

/* Pages of two keys: nine keys take five requests, followed by their
 * continuation tokens. */
START_TEST(test_list_pages)
{
	struct pitr_s3_test_knobs knobs = { .max_keys = 2 };
	struct pitr_s3 *s3 = client(&knobs);
	static const char *const names[] = { "l/a", "l/b", "l/c", "l/d", "l/e", "l/f", "l/g",
					     "l/sub/h", "l/sub/i" };
	struct listing l = { .n = 0 };

	for (size_t i = 0; i < 9; i++)
		ck_assert_int_eq(pitr_s3_put(s3, key(names[i]), "abc", 3, false), 0);
	ck_assert_int_eq(pitr_s3_list(s3, key("l/"), true, count_keys, &l), 0);
	ck_assert_str_eq(l.keys, "l/a l/b l/c l/d l/e l/f l/g l/sub/h l/sub/i ");
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(pitr_s3_list(s3, key("l/"), false, count_keys, &l), 0);
	ck_assert_str_eq(l.keys, "l/a l/b l/c l/d l/e l/f l/g ");
	memset(&l, 0, sizeof(l));
	l.stop_after = 3;
	ck_assert_int_eq(pitr_s3_list(s3, key("l/"), true, count_keys, &l), 0);
	ck_assert_str_eq(l.keys, "l/a l/b l/c ");
	memset(&l, 0, sizeof(l));
	ck_assert_int_eq(pitr_s3_list(s3, key("nothing/"), true, count_keys, &l), 0);
	ck_assert_int_eq(l.n, 0);
	for (size_t i = 0; i < 9; i++)
		ck_assert_int_eq(pitr_s3_delete(s3, key(names[i])), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_s3_free(s3);
}
END_TEST

#define BIG (3u << 20)

START_TEST(test_get_resumes)
{
	struct pitr_s3_test_knobs knobs = { .cut_get_at = 1u << 20 };
	struct pitr_s3 *s3 = client(&knobs);
	unsigned char *b = bytes(BIG, 2);
	char md5[33];
	struct got g = { 0 };
	struct pitr_s3_object obj;

	ck_assert_int_eq(pitr_s3_put(s3, key("big"), b, BIG, false), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("big"), gather, &g, &obj), 0);
	ck_assert_uint_eq(g.len, BIG);
	ck_assert_int_eq(memcmp(g.data, b, BIG), 0);
	ck_assert_uint_eq(obj.size, BIG);
	md5_hex(b, BIG, md5);
	ck_assert_str_eq(obj.etag, md5);
	ck_assert_int_eq(pitr_s3_delete(s3, key("big")), 0);
	ck_assert_str_eq(h_log(), "");
	free(g.data);
	free(b);
	pitr_s3_free(s3);
}
END_TEST

/* The break's hook: another client replaces the object. */
static void
replace(void *ctx)
{
	(void)ctx;
	struct pitr_s3 *other = client(NULL);

	ck_assert_int_eq(pitr_s3_put(other, key("big2"), "replaced", 8, false), 0);
	pitr_s3_free(other);
}

START_TEST(test_get_resume_refuses_replaced)
{
	struct pitr_s3_test_knobs knobs = { .cut_get_at = 1u << 20, .on_cut = replace };
	struct pitr_s3 *s3 = client(&knobs);
	unsigned char *b = bytes(BIG, 3);
	struct got g = { 0 };

	ck_assert_int_eq(pitr_s3_put(s3, key("big2"), b, BIG, false), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("big2"), gather, &g, NULL), -1);
	ck_assert_uint_eq(g.len, 1u << 20);
	ck_assert_int_eq(errors(), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("s3://%s/%s: GET: HTTP 412 PreconditionFailed",
						     need("S3_BUCKET"), key("big2"))));
	ck_assert_int_eq(pitr_s3_delete(s3, key("big2")), 0);
	free(g.data);
	free(b);
	pitr_s3_free(s3);
}
END_TEST

START_TEST(test_get_break_without_retries)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));
	struct pitr_s3_test_knobs knobs = { .cut_get_at = 1000 };
	struct pitr_s3 *s3;
	unsigned char *b = bytes(5000, 4);
	struct got g = { 0 };

	cfg.retries = 0;
	s3 = client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), &knobs);
	ck_assert_int_eq(pitr_s3_put(s3, key("cut"), b, 5000, false), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("cut"), gather, &g, NULL), -1);
	ck_assert_int_eq(errors(), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), ": GET: transfer broken off (test)\n"));
	ck_assert_int_eq(pitr_s3_delete(s3, key("cut")), 0);
	free(g.data);
	free(b);
	pitr_s3_free(s3);
}
END_TEST

/* A sink's failure fails the GET without a line of the GET's own. */
static int
refuse(void *ctx, const void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
	return -1;
}

START_TEST(test_get_sink_fails)
{
	struct pitr_s3 *s3 = client(NULL);

	ck_assert_int_eq(pitr_s3_put(s3, key("sunk"), "abc", 3, false), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("sunk"), refuse, NULL, NULL), -1);
	ck_assert_str_eq(h_log(), "");
	ck_assert_int_eq(pitr_s3_delete(s3, key("sunk")), 0);
	pitr_s3_free(s3);
}
END_TEST

struct pending {
	char key[512], id[256];
	int n;
};

static int
find_pending(void *ctx, const struct pitr_s3_pending *p)
{
	struct pending *f = ctx;

	f->n++;
	snprintf(f->key, sizeof(f->key), "%s", p->key);
	snprintf(f->id, sizeof(f->id), "%s", p->upload_id);
	ck_assert_int_le(labs((long)(p->initiated - time(NULL))), 60);
	return 0;
}

START_TEST(test_multipart_complete)
{
	struct pitr_s3 *s3 = client(NULL);
	size_t len = PITR_S3_PART_MIN + 12345;
	unsigned char *b = bytes(len, 5);
	struct pitr_s3_upload *up = pitr_s3_upload_begin(s3, key("mp/whole"));
	struct pitr_s3_object obj;
	struct pending f = { .n = 0 };

	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(pitr_s3_head(s3, key("mp/whole"), NULL), 1);
	ck_assert_int_eq(pitr_s3_upload_part(up, b, PITR_S3_PART_MIN), 0);
	ck_assert_int_eq(pitr_s3_upload_part(up, b + PITR_S3_PART_MIN, 12345), 0);
	/* Not there before completion. */
	ck_assert_int_eq(pitr_s3_head(s3, key("mp/whole"), NULL), 1);
	ck_assert_int_eq(pitr_s3_pending_list(s3, key("mp/"), find_pending, &f), 0);
	ck_assert_int_eq(f.n, 1);
	ck_assert_str_eq(f.key, key("mp/whole"));
	ck_assert_int_eq(pitr_s3_upload_complete(up), 0);
	pitr_s3_upload_free(up);
	ck_assert_int_eq(pitr_s3_head(s3, key("mp/whole"), &obj), 0);
	ck_assert_uint_eq(obj.size, len);
	ck_assert_str_eq(obj.etag + strlen(obj.etag) - 2, "-2");
	ck_assert_str_eq(obj.mark, PACKAGE_VERSION);
	assert_object(s3, key("mp/whole"), b, len);
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(pitr_s3_pending_list(s3, key("mp/"), find_pending, &f), 0);
	ck_assert_int_eq(f.n, 0);
	ck_assert_int_eq(pitr_s3_delete(s3, key("mp/whole")), 0);
	ck_assert_str_eq(h_log(), "");
	free(b);
	pitr_s3_free(s3);
}
END_TEST

START_TEST(test_multipart_empty)
{
	struct pitr_s3 *s3 = client(NULL);
	struct pitr_s3_upload *up = pitr_s3_upload_begin(s3, key("mp/empty"));
	struct pitr_s3_object obj;

	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(pitr_s3_upload_complete(up), 0);
	pitr_s3_upload_free(up);
	ck_assert_int_eq(pitr_s3_head(s3, key("mp/empty"), &obj), 0);
	ck_assert_uint_eq(obj.size, 0);
	ck_assert_int_eq(pitr_s3_delete(s3, key("mp/empty")), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_s3_free(s3);
}
END_TEST

START_TEST(test_multipart_abort)
{
	struct pitr_s3 *s3 = client(NULL);
	struct pitr_s3_upload *up = pitr_s3_upload_begin(s3, key("ab/x"));
	struct pending f = { .n = 0 };

	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(pitr_s3_upload_part(up, "part", 4), 0);
	pitr_s3_upload_abort(up);
	ck_assert_int_eq(pitr_s3_pending_list(s3, key("ab/"), find_pending, &f), 0);
	ck_assert_int_eq(f.n, 0);
	ck_assert_int_eq(pitr_s3_head(s3, key("ab/x"), NULL), 1);
	ck_assert_str_eq(h_log(), "");
	pitr_s3_free(s3);
}
END_TEST

/* Uploads left by runs that died: listed over several pages, aborted by
 * id (twice: the second finds it gone, which is no failure). */
START_TEST(test_pending)
{
	struct pitr_s3_test_knobs knobs = { .max_keys = 1 };
	struct pitr_s3 *s3 = client(&knobs);
	struct pitr_s3_upload *a = pitr_s3_upload_begin(s3, key("pd/a"));
	struct pitr_s3_upload *b = pitr_s3_upload_begin(s3, key("pd/b"));
	struct pitr_s3_upload *c = pitr_s3_upload_begin(s3, key("pd/b"));
	struct pending f = { .n = 0 };

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(pitr_s3_upload_part(a, "x", 1), 0);
	ck_assert_int_eq(pitr_s3_pending_list(s3, key("pd/"), find_pending, &f), 0);
	ck_assert_int_eq(f.n, 3);
	while (f.n > 0) {
		ck_assert_int_eq(pitr_s3_pending_abort(s3, f.key, f.id), 0);
		ck_assert_int_eq(pitr_s3_pending_abort(s3, f.key, f.id), 0);
		memset(&f, 0, sizeof(f));
		ck_assert_int_eq(pitr_s3_pending_list(s3, key("pd/"), find_pending, &f), 0);
	}
	ck_assert_str_eq(h_log(), "");
	/* No id: refused, not a DELETE of the key. */
	ck_assert_int_eq(pitr_s3_pending_abort(s3, key("pd/a"), ""), -1);
	ck_assert_int_eq(errors(), 1);
	pitr_s3_upload_free(a);
	pitr_s3_upload_free(b);
	pitr_s3_upload_free(c);
	pitr_s3_free(s3);
}
END_TEST

/* An object another program stored (the script, with curl, before this
 * ran) has no mark; a GET reads the mark as a HEAD does. */
START_TEST(test_mark)
{
	struct pitr_s3 *s3 = client(NULL);
	struct pitr_s3_object obj;
	struct got g = { 0 };

	ck_assert_int_eq(pitr_s3_head(s3, key("foreign"), &obj), 0);
	ck_assert_uint_eq(obj.size, 7);
	ck_assert_str_eq(obj.mark, "");
	ck_assert_int_eq(pitr_s3_put(s3, key("marked"), "marked", 6, false), 0);
	ck_assert_int_eq(pitr_s3_get(s3, key("marked"), gather, &g, &obj), 0);
	ck_assert_str_eq(obj.mark, PACKAGE_VERSION);
	ck_assert_int_eq(pitr_s3_delete(s3, key("marked")), 0);
	ck_assert_int_eq(pitr_s3_delete(s3, key("foreign")), 0);
	ck_assert_str_eq(h_log(), "");
	free(g.data);
	pitr_s3_free(s3);
}
END_TEST

/* Objects the script checks with its own client. */
START_TEST(test_keep)
{
	struct pitr_s3 *s3 = client(NULL);
	struct pitr_s3_upload *up = pitr_s3_upload_begin(s3, key("keep/three"));

	ck_assert_int_eq(pitr_s3_put(s3, key("keep/one"), "one\n", 4, false), 0);
	ck_assert_int_eq(pitr_s3_put(s3, key("keep/two"), "two\n", 4, true), 0);
	ck_assert_ptr_nonnull(up);
	ck_assert_int_eq(pitr_s3_upload_part(up, "three\n", 6), 0);
	ck_assert_int_eq(pitr_s3_upload_complete(up), 0);
	pitr_s3_upload_free(up);
	pitr_s3_free(s3);
}
END_TEST

/* One failed PUT of `s3`: exactly one ERROR line, holding `want`, and no
 * secret of either user. */
static void
put_fails(struct pitr_s3 *s3, const char *want)
{
	ck_assert_int_eq(pitr_s3_put(s3, key("denied"), "x", 1, false), -1);
	ck_assert_int_eq(errors(), 1);
	ck_assert_msg(strstr(h_log(), want) != NULL, "log: %s, want: %s", h_log(), want);
	ck_assert_ptr_null(strstr(h_log(), need("RGW_SECRET")));
	ck_assert_ptr_null(strstr(h_log(), need("RGW_OTHER_SECRET")));
	ck_assert_ptr_null(strstr(h_log(), need("RGW_KEY")));
	pitr_s3_free(s3);
}

START_TEST(test_wrong_secret)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));

	put_fails(client_as(&cfg, need("RGW_KEY"), need("RGW_OTHER_SECRET"), need("S3_BUCKET"), NULL),
		  h_fmt("s3://%s/%s: PUT: HTTP 403 SignatureDoesNotMatch", need("S3_BUCKET"),
			key("denied")));
}
END_TEST

START_TEST(test_unknown_key)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));

	put_fails(client_as(&cfg, "NOSUCHKEYID000000000", need("RGW_SECRET"), need("S3_BUCKET"), NULL),
		  ": PUT: HTTP 403 InvalidAccessKeyId");
}
END_TEST

START_TEST(test_missing_bucket)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));

	put_fails(client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), "no-such-bucket-here", NULL),
		  h_fmt("s3://no-such-bucket-here/%s: PUT: HTTP 404 NoSuchBucket", key("denied")));
}
END_TEST

/* A GET's 404 is "no such object" only when the bucket is there. */
static int
sink_none(void *ctx, const void *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	(void)len;
	return 0;
}

START_TEST(test_missing_bucket_get)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));
	struct pitr_s3 *s3 = client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"),
				       "no-such-bucket-here", NULL);

	ck_assert_int_eq(pitr_s3_get(s3, key("denied"), sink_none, NULL, NULL), -1);
	ck_assert_int_eq(errors(), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), h_fmt("s3://no-such-bucket-here/%s: GET: HTTP 404 "
						    "NoSuchBucket", key("denied"))));
	pitr_s3_free(s3);
}
END_TEST

START_TEST(test_other_users_bucket)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTP"));

	put_fails(client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_OTHER_BUCKET"), NULL),
		  ": PUT: HTTP 403 AccessDenied");
}
END_TEST

/* A port nobody listens on: connection refused, retried, then one line. */
START_TEST(test_gateway_down)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct pitr_s3_config cfg;

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	close(fd);
	cfg = config(h_fmt("http://127.0.0.1:%d", ntohs(sa.sin_port)));
	put_fails(client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), NULL),
		  "PUT: Couldn't connect to server (Failed to connect to 127.0.0.1 port");
	ck_assert_ptr_nonnull(strstr(h_log(), "), 3 attempts\n"));
}
END_TEST

/* A probe answers as a HEAD does; a store it cannot reach fails it in
 * one attempt, however many retries the client has. */
START_TEST(test_probe)
{
	struct pitr_s3 *s3 = client(NULL);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t salen = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	const char *k = key("probed");
	unsigned char *b = bytes(1000, 7);
	struct pitr_s3_object obj;
	struct pitr_s3_config cfg;

	ck_assert_int_eq(pitr_s3_probe(s3, k, &obj), 1);
	ck_assert_int_eq(pitr_s3_put(s3, k, b, 1000, false), 0);
	ck_assert_int_eq(pitr_s3_probe(s3, k, &obj), 0);
	ck_assert_uint_eq(obj.size, 1000);
	ck_assert_str_eq(obj.mark, PACKAGE_VERSION);
	ck_assert_int_eq(pitr_s3_delete(s3, k), 0);
	pitr_s3_free(s3);
	ck_assert_int_eq(errors(), 0);

	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &salen), 0);
	close(fd);
	cfg = config(h_fmt("http://127.0.0.1:%d", ntohs(sa.sin_port)));
	s3 = client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), NULL);
	ck_assert_int_eq(pitr_s3_probe(s3, k, &obj), -1);
	ck_assert_int_eq(errors(), 1);
	ck_assert_ptr_nonnull(strstr(h_log(), ": HEAD: Couldn't connect to server"));
	ck_assert_ptr_null(strstr(h_log(), "attempts"));
	pitr_s3_free(s3);
	free(b);
}
END_TEST

START_TEST(test_https_ca_file)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTPS"));
	struct pitr_s3 *s3;

	cfg.ca_file = need("RGW_CA");
	s3 = client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), NULL);
	ck_assert_int_eq(pitr_s3_put(s3, key("tls"), "tls", 3, false), 0);
	assert_object(s3, key("tls"), "tls", 3);
	ck_assert_int_eq(pitr_s3_delete(s3, key("tls")), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_s3_free(s3);
}
END_TEST

/* Without the CA the certificate is refused, at once (not retried). */
START_TEST(test_https_unverified_fails)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTPS"));

	put_fails(client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), NULL),
		  ": PUT: SSL peer certificate or SSH remote key was not OK");
	ck_assert_ptr_null(strstr(h_log(), "attempts"));
}
END_TEST

START_TEST(test_https_no_verify)
{
	struct pitr_s3_config cfg = config(need("RGW_HTTPS"));
	struct pitr_s3 *s3;

	cfg.no_verify_tls = true;
	s3 = client_as(&cfg, need("RGW_KEY"), need("RGW_SECRET"), need("S3_BUCKET"), NULL);
	ck_assert_int_eq(pitr_s3_put(s3, key("tls2"), "tls", 3, false), 0);
	ck_assert_int_eq(pitr_s3_delete(s3, key("tls2")), 0);
	ck_assert_str_eq(h_log(), "");
	pitr_s3_free(s3);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("s3_rgw");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_loader);
	suite_add_tcase(s, tc);
	tc = tcase_create("rgw");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_put_head_get_delete);
	tcase_add_test(tc, test_odd_keys);
	tcase_add_test(tc, test_put_if_absent);
	tcase_add_test(tc, test_list_pages);
	tcase_add_test(tc, test_get_resumes);
	tcase_add_test(tc, test_get_resume_refuses_replaced);
	tcase_add_test(tc, test_get_break_without_retries);
	tcase_add_test(tc, test_get_sink_fails);
	tcase_add_test(tc, test_multipart_complete);
	tcase_add_test(tc, test_multipart_empty);
	tcase_add_test(tc, test_multipart_abort);
	tcase_add_test(tc, test_pending);
	tcase_add_test(tc, test_mark);
	tcase_add_test(tc, test_keep);
	tcase_add_test(tc, test_wrong_secret);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_missing_bucket);
	tcase_add_test(tc, test_missing_bucket_get);
	tcase_add_test(tc, test_other_users_bucket);
	tcase_add_test(tc, test_gateway_down);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_https_ca_file);
	tcase_add_test(tc, test_https_unverified_fails);
	tcase_add_test(tc, test_https_no_verify);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
