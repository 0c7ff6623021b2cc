/*
 * check_dest_s3.c - unit tests for the s3 destination kind (lib/dest/s3.c):
 * s3:// locations in destination specs, the kind's properties, and its
 * failures with no store to reach (a port nobody listens on) or no
 * credentials, and the journals of multipart uploads (s3journal.h).
 * Deliveries to a real store (Ceph's RADOS gateway) are
 * t/integration/s3-archive.sh's; a journal's upload aborted by the next
 * run, s3-retention.sh's.
 */
#include "config.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/tmpfile.h"
#include "dest/dest.h"
#include "dest/s3journal.h"
#include "harness.h"
#include "s3/s3.h"

static struct pitr_dest_env env;
static struct pitr_s3_config cfg;

static void
setup(void)
{
	h_setup();
	memset(&env, 0, sizeof(env));
	memset(&cfg, 0, sizeof(cfg));
	/* Port 1 on loopback: refused at once, nothing leaves the host. */
	cfg.endpoint = "http://127.0.0.1:1";
	cfg.path_style = true;
	cfg.connect_timeout = 2;
	cfg.retries = 0;
	env.s3 = &cfg;
	env.temp_dir = h_dir();
	setenv("AWS_ACCESS_KEY_ID", "AKIDUNITTESTKEY", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-never-logged", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
}

static void
teardown(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	h_teardown();
}

/* The log holds exactly one line, an error, containing every one of the
 * NULL-terminated strings, and no credential. */
static void
assert_one_error_with(const char *first, ...)
{
	const char *log = h_log();
	const char *nl = strchr(log, '\n');
	va_list ap;

	ck_assert_msg(strncmp(log, "ERROR : ", 8) == 0, "not an error: %s", log);
	ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: %s", log);
	va_start(ap, first);
	for (const char *want = first; want != NULL; want = va_arg(ap, const char *))
		ck_assert_msg(strstr(log, want) != NULL, "\"%s\" not in: %s", want, log);
	va_end(ap);
	ck_assert(strstr(log, "AKIDUNITTESTKEY") == NULL);
	ck_assert(strstr(log, "unit-test-secret") == NULL);
}

/* --- s3:// in pitr_dest_spec_parse() ---------------------------------- */

START_TEST(test_parse_s3)
{
	static const struct {
		const char *arg;
		const char *location;
		const char *key;
		enum pitr_codec codec;
	} good[] = {
		{ "s3://bucket/wal/", "s3://bucket/wal/", "s3:none=s3://bucket/wal/", PITR_CODEC_NONE },
		/* The '/' a prefix lacks is added: one archive, one state key. */
		{ "gzip=s3://bucket/wal", "s3://bucket/wal/", "s3:gzip=s3://bucket/wal/", PITR_CODEC_GZIP },
		{ "zstd:3=s3://my.bucket-1", "s3://my.bucket-1/", "s3:zstd=s3://my.bucket-1/",
		  PITR_CODEC_ZSTD },
		{ "xz=s3://bucket/a/b/c/", "s3://bucket/a/b/c/", "s3:xz=s3://bucket/a/b/c/", PITR_CODEC_XZ },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct pitr_dest_spec spec;

		ck_assert_int_eq(pitr_dest_spec_parse(good[i].arg, PITR_DEST_RSYNC, "--dst-remote",
						      &spec), 0);
		ck_assert_int_eq(spec.kind, PITR_DEST_S3);
		ck_assert_int_eq(spec.codec, good[i].codec);
		ck_assert_str_eq(spec.location, good[i].location);
		ck_assert_str_eq(spec.key, good[i].key);
		ck_assert_ptr_null(pitr_dest_spec_dir(&spec));
		pitr_dest_spec_free(&spec);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_s3_errors)
{
	static const char *const bad[] = {
		"s3://",                 /* no bucket */
		"gzip=s3:///wal/",       /* empty bucket */
		"s3://ab/wal/",          /* a bucket name is 3 to 63 characters */
		"s3://Bucket/wal/",      /* lower case only */
		"s3://bucket_1/wal/",
		"s3://bucket/a//b/",     /* an empty path segment */
		"s3://bucket/a/../b/",
		"s3://bucket/./b/",
		"s3://bucket/a\tb/",
	};
	struct pitr_dest_spec spec;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_log_reset();
		ck_assert_msg(pitr_dest_spec_parse(bad[i], PITR_DEST_RSYNC, "--dst-remote", &spec) == -1,
			      "accepted %s", bad[i]);
		assert_one_error_with("--dst-remote", NULL);
		ck_assert_ptr_null(spec.location);
	}
	/* The codec is checked as for any kind. */
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzp=s3://bucket/wal/", PITR_DEST_RSYNC, "--dst-remote",
					      &spec), -1);
	assert_one_error_with("unknown compression \"gzp\" in --dst-remote", NULL);
	/* An object store is no directory: --dst-local refuses it rather than
	 * fail at each call on a directory named "s3:". */
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip=s3://bucket/wal/", PITR_DEST_LOCAL, "--dst-local",
					      &spec), -1);
	assert_one_error_with("--dst-local \"gzip=s3://bucket/wal/\" names an object store: use "
			      "--dst-remote", NULL);
}
END_TEST

START_TEST(test_s3_kind_properties)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	ck_assert_int_eq(pitr_dest_spec_parse("lz4=s3://bucket/p", PITR_DEST_RSYNC, "--dst-remote",
					      &spec), 0);
	d = pitr_dest_new(&spec, &env);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(pitr_dest_kind_name(d), "s3");
	ck_assert(pitr_dest_staged(d));
	ck_assert_str_eq(pitr_dest_label(d), "s3://bucket/p/");
	pitr_dest_free(d);
	pitr_dest_spec_free(&spec);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* Remote lists keep their order, s3 among rsync locations. */
START_TEST(test_args_mixed_remote)
{
	const char *remote[] = { "h:/a/", "gzip=s3://bucket/wal/", "rsync://h/m/p" };
	const struct pitr_dest_args args = { .remote = remote, .nremote = 3 };
	struct pitr_dest_spec *specs;
	size_t n;

	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(specs[0].kind, PITR_DEST_RSYNC);
	ck_assert_int_eq(specs[1].kind, PITR_DEST_S3);
	ck_assert_str_eq(specs[1].key, "s3:gzip=s3://bucket/wal/");
	ck_assert_int_eq(specs[2].kind, PITR_DEST_RSYNC);
	pitr_dest_specs_free(specs, n);
}
END_TEST

/* --- deliveries that cannot reach a store ----------------------------- */

/* Open, write `len` bytes of `byte`, end and publish; the failing step's
 * return (or 0). */
static int
try_deliver(struct pitr_dest *d, const char *name, size_t len)
{
	static unsigned char chunk[1 << 20];
	int rc;

	memset(chunk, 'w', sizeof(chunk));
	if ((rc = pitr_dest_open(d, name)) != 0)
		return rc;
	for (size_t done = 0; done < len; done += sizeof(chunk)) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);

		if ((rc = pitr_dest_write(d, chunk, n)) != 0)
			return rc;
	}
	if ((rc = pitr_dest_end_upload(d)) != 0)
		return rc;
	return pitr_dest_finish_begin(d);
}

/* A segment (one PUT at publish) and a backup-sized file (a multipart
 * upload, begun as the first part fills): each fails in one line naming
 * its object and the transport error, and the destination aborts. */
START_TEST(test_unreachable_store)
{
	static const size_t sizes[] = { 4096, (16u << 20) + 1 };
	struct pitr_dest_spec spec;

	env.s3_session = pitr_dest_s3_session_new();
	ck_assert_ptr_nonnull(env.s3_session);
	ck_assert_int_eq(pitr_dest_spec_parse("s3://bucket/wal/", PITR_DEST_RSYNC, "--dst-remote",
					      &spec), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct pitr_dest *d = pitr_dest_new(&spec, &env);

		h_log_reset();
		ck_assert_int_eq(try_deliver(d, "000000010000000000000001", sizes[i]), -1);
		assert_one_error_with("s3://bucket/wal/000000010000000000000001", "127.0.0.1", NULL);
		pitr_dest_abort(d);
		pitr_dest_free(d);
	}
	pitr_dest_spec_free(&spec);
	pitr_dest_s3_session_free(env.s3_session);
}
END_TEST

/* Credentials are loaded at the first open, before a backup starts: none
 * anywhere is that open's one line, naming where they were looked for.
 * (After a warm-up, at the first send: test_warm_up_silent.) */
START_TEST(test_no_credentials)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_SHARED_CREDENTIALS_FILE", h_path("no-such-credentials"), 1);
	ck_assert_int_eq(pitr_dest_spec_parse("s3://bucket/wal/", PITR_DEST_RSYNC, "--dst-remote",
					      &spec), 0);
	d = pitr_dest_new(&spec, &env);
	ck_assert_int_eq(pitr_dest_open(d, "000000010000000000000001"), -1);
	assert_one_error_with("no-such-credentials", NULL);
	pitr_dest_abort(d);
	pitr_dest_free(d);
	pitr_dest_spec_free(&spec);
}
END_TEST

/* The warm-up says nothing of what fails in it (no credentials, a store
 * it cannot reach): the delivery meets the failure again and says it, in
 * one line: the PUT's, never the probe's HEAD. */
START_TEST(test_warm_up_silent)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	ck_assert_int_eq(pitr_dest_spec_parse("s3://bucket/wal/", PITR_DEST_RSYNC, "--dst-remote",
					      &spec), 0);
	for (int creds = 0; creds < 2; creds++) {
		if (creds == 0) {
			unsetenv("AWS_ACCESS_KEY_ID");
			unsetenv("AWS_SECRET_ACCESS_KEY");
			setenv("AWS_SHARED_CREDENTIALS_FILE", h_path("no-such-credentials"), 1);
		} else {
			setenv("AWS_ACCESS_KEY_ID", "AKIDUNITTESTKEY", 1);
			setenv("AWS_SECRET_ACCESS_KEY", "unit-test-secret-never-logged", 1);
		}
		h_log_reset();
		env.s3_session = pitr_dest_s3_session_new();
		ck_assert_int_eq(pitr_dest_s3_warm(&spec, &env, "000000010000000000000001"), 0);
		/* One warm-up a session. */
		ck_assert_int_eq(pitr_dest_s3_warm(&spec, &env, "000000010000000000000002"), -1);
		d = pitr_dest_new(&spec, &env);
		ck_assert_int_eq(try_deliver(d, "000000010000000000000001", 4096), -1);
		if (creds == 0)
			assert_one_error_with("no-such-credentials", NULL);
		else
			assert_one_error_with("s3://bucket/wal/000000010000000000000001: PUT: ",
					      "127.0.0.1", NULL);
		pitr_dest_abort(d);
		pitr_dest_free(d);
		pitr_dest_s3_session_free(env.s3_session);
		env.s3_session = NULL;
	}
	/* A session freed unused waits for its warm-up. */
	h_log_reset();
	env.s3_session = pitr_dest_s3_session_new();
	ck_assert_int_eq(pitr_dest_s3_warm(&spec, &env, "000000010000000000000001"), 0);
	pitr_dest_s3_session_free(env.s3_session);
	env.s3_session = NULL;
	ck_assert_str_eq(h_log(), "");
	pitr_dest_spec_free(&spec);
}
END_TEST

/* --- journals of multipart uploads ---------------------------------- */

static const char *
host(void)
{
	static char name[256];

	ck_assert_int_eq(gethostname(name, sizeof(name)), 0);
	return name;
}

/* A journal's text; it goes when its upload is over, and stays, beyond
 * any sweep of temporary files, when its upload could not be aborted. */
START_TEST(test_journal)
{
	struct pitr_tmp j = { 0 };
	char *text, *path;
	size_t len;

	ck_assert_int_eq(pitr_s3journal_begin(&j, h_dir(), "http://127.0.0.1:1", "s3://bucket/bk/",
					      "bk/db-data.tar"), 0);
	ck_assert_int_eq(strncmp(j.path, h_path(PITR_S3JOURNAL_PREFIX),
				 strlen(h_path(PITR_S3JOURNAL_PREFIX))), 0);
	ck_assert_int_eq(pitr_s3journal_upload(&j, "2~upload-id"), 0);
	text = h_read_file(j.path, &len);
	ck_assert_str_eq(text, h_fmt("pitrkit s3 upload journal 1\nhost %s\n"
				     "endpoint http://127.0.0.1:1\nlocation s3://bucket/bk/\n"
				     "key bk/db-data.tar\nupload 2~upload-id\n", host()));
	free(text);
	path = strdup(j.path);
	pitr_s3journal_end(&j, true);
	ck_assert(!h_exists(path));
	free(path);

	/* The default endpoint is "-"; an upload not aborted leaves it. */
	ck_assert_int_eq(pitr_s3journal_begin(&j, h_dir(), NULL, "s3://bucket/bk/", "bk/x"), 0);
	path = strdup(j.path);
	pitr_s3journal_end(&j, false);
	text = h_read_file(path, &len);
	ck_assert_ptr_nonnull(strstr(text, "\nendpoint -\n"));
	free(text);
	ck_assert_int_eq(pitr_tmp_sweep(h_dir(), false), 0);
	ck_assert(h_exists(path));
	free(path);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* A journal file NAME in the test dir: this host's unless `other_host`,
 * for s3://bucket/bk/ at cfg's endpoint unless `location` says another,
 * with `upload` (NULL: none). */
static const char *
put_journal(const char *name, bool other_host, const char *location, const char *upload)
{
	const char *path = h_path(h_fmt(PITR_S3JOURNAL_PREFIX "%s", name));
	const char *text = h_fmt("pitrkit s3 upload journal 1\nhost %s\nendpoint %s\n"
				 "location %s\nkey bk/%s\n%s%s%s", other_host ? "elsewhere" : host(),
				 cfg.endpoint, location != NULL ? location : "s3://bucket/bk/", name,
				 upload != NULL ? "upload " : "", upload != NULL ? upload : "",
				 upload != NULL ? "\n" : "");

	h_write_file(path, text, strlen(text));
	return path;
}

/* The next run's sweep acts on dead journals of this host, endpoint and
 * location only: one without an upload id goes without a request; one
 * with an id whose abort fails (no store) stays, said in one line; a
 * live run's (locked), another host's and another location's are not
 * touched (no request: no other line). */
START_TEST(test_journal_sweep)
{
	struct pitr_s3_creds creds = { .access_key = "AKIDUNITTESTKEY",
				       .secret_key = "unit-test-secret-never-logged" };
	struct pitr_s3 *s3 = pitr_s3_new(&cfg, &creds, "bucket");
	const char *dead = put_journal("dead", false, NULL, "id-dead");
	const char *early = put_journal("early", false, NULL, NULL);
	const char *live = put_journal("live", false, NULL, "id-live");
	const char *other_host = put_journal("host", true, NULL, "id-host");
	const char *other_loc = put_journal("loc", false, "s3://bucket/elsewhere/", "id-loc");
	int fd = open(live, O_RDONLY);

	ck_assert_ptr_nonnull(s3);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(pitr_s3journal_sweep(h_dir(), cfg.endpoint, "s3://bucket/bk/", s3), -1);
	assert_one_error_with("s3://bucket/bk/dead: UPLOAD ABORT", "127.0.0.1", NULL);
	ck_assert(h_exists(dead));
	ck_assert(!h_exists(early));
	ck_assert(h_exists(live));
	ck_assert(h_exists(other_host));
	ck_assert(h_exists(other_loc));
	/* Another endpoint's: none is this sweep's. */
	h_log_reset();
	ck_assert_int_eq(pitr_s3journal_sweep(h_dir(), "http://127.0.0.1:2", "s3://bucket/bk/", s3),
			 0);
	ck_assert_str_eq(h_log(), "");
	ck_assert(h_exists(dead));
	close(fd);
	pitr_s3_free(s3);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("dest_s3");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "pitr_dest_spec_parse: s3", test_parse_s3 },
		{ "pitr_dest_spec_parse: s3 errors", test_parse_s3_errors },
		{ "s3 kind properties", test_s3_kind_properties },
		{ "pitr_dest_args_parse: s3 among rsync", test_args_mixed_remote },
		{ "s3: unreachable store", test_unreachable_store },
		{ "s3: no credentials", test_no_credentials },
		{ "s3: a warm-up says nothing", test_warm_up_silent },
		{ "s3: an upload's journal", test_journal },
		{ "s3: the next run's sweep of journals", test_journal_sweep },
	};

	for (size_t case_idx = 0; case_idx < sizeof(cases) / sizeof(cases[0]); case_idx++) {
		TCase *tc = tcase_create(cases[case_idx].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, cases[case_idx].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
