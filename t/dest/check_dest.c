/*
 * check_dest.c - unit tests for destination specs and the local and pipe
 * destination kinds; rsync through a remote shell that runs its server
 * side here, and an unreachable daemon (a real daemon is exercised in
 * t/integration/archive.sh).
 */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress/codec.h"
#include "dest/dest.h"
#include "harness.h"

static struct pitr_dest_env env;

static void
setup(void)
{
	h_setup();
	memset(&env, 0, sizeof(env));
	mkdir(h_path("tmp"), 0700);
	env.temp_dir = h_path("tmp");
	env.rsync_timeout = 5;
}

static void
teardown(void)
{
	h_teardown();
}

static void
assert_error(const char *msg)
{
	char want[8192];

	snprintf(want, sizeof(want), "ERROR : %s\n", msg);
	ck_assert_str_eq(h_log(), want);
}

/* --- pitr_dest_spec_parse() ------------------------------------------- */

START_TEST(test_parse_plain_and_codec)
{
	struct pitr_dest_spec spec;

	ck_assert_int_eq(pitr_dest_spec_parse("/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(spec.kind, PITR_DEST_LOCAL);
	ck_assert_int_eq(spec.codec, PITR_CODEC_NONE);
	ck_assert_int_eq(spec.level, 0);
	ck_assert_str_eq(spec.location, "/mnt/a");
	ck_assert_str_eq(spec.key, "local:none=/mnt/a");
	pitr_dest_spec_free(&spec);

	/* No level: the codec's default, spelled out; xz:0 is xz's preset 0. */
	ck_assert_int_eq(pitr_dest_spec_parse("xz=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(spec.level, 6);
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(pitr_dest_spec_parse("xz:0=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(spec.level, 0);
	pitr_dest_spec_free(&spec);

	ck_assert_int_eq(pitr_dest_spec_parse("zstd:19=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_ZSTD);
	ck_assert_int_eq(spec.level, 19);
	ck_assert_str_eq(spec.location, "/mnt/a");
	ck_assert_str_eq(spec.key, "local:zstd=/mnt/a");
	pitr_dest_spec_free(&spec);

	/* An '=' inside a path is not a codec. */
	ck_assert_int_eq(pitr_dest_spec_parse("/data/a=b", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_NONE);
	ck_assert_str_eq(spec.location, "/data/a=b");
	pitr_dest_spec_free(&spec);

	ck_assert_int_eq(pitr_dest_spec_parse("gzip=rsync://u@h:8873/mod/p", PITR_DEST_RSYNC,
					      "--dst-remote", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_GZIP);
	ck_assert_str_eq(spec.location, "rsync://u@h:8873/mod/p/");
	ck_assert_str_eq(spec.key, "remote:gzip=rsync://u@h:8873/mod/p/");
	pitr_dest_spec_free(&spec);

	ck_assert_int_eq(pitr_dest_spec_parse("bzip2=backups@host:/mnt/wal/", PITR_DEST_RSYNC,
					      "--dst-remote", &spec), 0);
	ck_assert_str_eq(spec.location, "backups@host:/mnt/wal/");
	pitr_dest_spec_free(&spec);

	ck_assert_int_eq(pitr_dest_spec_parse("lz4=/usr/bin/up load", PITR_DEST_PIPE, "--dst-pipe", &spec), 0);
	ck_assert_int_eq(spec.codec, PITR_CODEC_LZ4);
	ck_assert_str_eq(spec.location, "/usr/bin/up load");
	pitr_dest_spec_free(&spec);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* A copy owns its strings: freeing the original leaves it whole. */
START_TEST(test_spec_copy)
{
	struct pitr_dest_spec spec, copy;

	ck_assert_int_eq(pitr_dest_spec_parse("zstd:3=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(pitr_dest_spec_copy(&copy, &spec), 0);
	ck_assert_ptr_ne(copy.location, spec.location);
	ck_assert_ptr_ne(copy.key, spec.key);
	pitr_dest_spec_free(&spec);
	ck_assert_int_eq(copy.kind, PITR_DEST_LOCAL);
	ck_assert_int_eq(copy.codec, PITR_CODEC_ZSTD);
	ck_assert_int_eq(copy.level, 3);
	ck_assert_str_eq(copy.location, "/mnt/a");
	ck_assert_str_eq(copy.key, "local:zstd=/mnt/a");
	pitr_dest_spec_free(&copy);
	ck_assert_str_eq(h_log(), "");
}
END_TEST

START_TEST(test_parse_errors)
{
	struct pitr_dest_spec spec;

	ck_assert_int_eq(pitr_dest_spec_parse("gzp=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("unknown compression \"gzp\" in --dst-local \"gzp=/mnt/a\": expected none, gzip, "
		     "bzip2, lzma, xz, lz4 or zstd");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip:10=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("invalid compression level in --dst-local \"gzip:10=/mnt/a\": gzip takes 1 to 9");
	h_log_reset();
	/* A known codec and ':' with no level, a word or a sign: a bad level, not a dir. */
	ck_assert_int_eq(pitr_dest_spec_parse("gzip:x=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("invalid compression level in --dst-local \"gzip:x=/mnt/a\": gzip takes 1 to 9");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip:=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("invalid compression level in --dst-local \"gzip:=/mnt/a\": gzip takes 1 to 9");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("zstd:-1=/mnt/a", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("invalid compression level in --dst-local \"zstd:-1=/mnt/a\": zstd takes 1 to 19");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip=", PITR_DEST_LOCAL, "--dst-local", &spec), -1);
	assert_error("--dst-local \"gzip=\" names no location");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("gzip=/mnt/wal", PITR_DEST_RSYNC, "--dst-remote", &spec), -1);
	assert_error("--dst-remote \"gzip=/mnt/wal\" is not an rsync location: expected "
		     "rsync://[user@]host[:port]/module/path/ or [user@]host:/path/");
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse("rsync://host", PITR_DEST_RSYNC, "--dst-remote", &spec), -1);
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse(":/path", PITR_DEST_RSYNC, "--dst-remote", &spec), -1);
}
END_TEST

/* --- local destination ------------------------------------------------ */

static int
deliver(const struct pitr_dest_spec *spec, const char *name, const void *buf, size_t len,
	enum pitr_dest_result *result)
{
	struct pitr_dest *d = pitr_dest_new(spec, &env);
	int rc = -1;

	ck_assert_ptr_nonnull(d);
	if (pitr_dest_open(d, name) == 0 && pitr_dest_write(d, buf, len) == 0 &&
	    pitr_dest_finish_begin(d) == 0 && pitr_dest_finish_end(d, result) == 0)
		rc = 0;
	pitr_dest_abort(d);
	pitr_dest_free(d);
	return rc;
}

/* Compress `len` bytes of `buf` with `codec` at `level` into a malloc'd buffer. */
struct membuf {
	unsigned char *data;
	size_t len;
};

static int
mem_sink(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	m->data = realloc(m->data, m->len + len);
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

static struct membuf
compress(enum pitr_codec codec, int level, const void *buf, size_t len)
{
	struct membuf m = { NULL, 0 };
	struct pitr_codec_writer *w = pitr_codec_writer_new(codec, level, 1, mem_sink, &m);

	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(pitr_codec_writer_write(w, buf, len), 0);
	ck_assert_int_eq(pitr_codec_writer_finish(w), 0);
	pitr_codec_writer_free(w);
	return m;
}

START_TEST(test_local_new_identical_conflict)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	char *got;
	size_t len;

	mkdir(h_path("arch"), 0700);
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("arch"), PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "abc", 3, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	got = h_read_file(h_path("arch/000000010000000000000001"), &len);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(got, "abc");
	free(got);
	/* Only the file: no temporary left. */
	ck_assert_int_eq(h_count_entries(h_path("arch")), 1);

	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "abc", 3, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_ALREADY);
	ck_assert_str_eq(h_log(), "");

	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "abd", 3, &result), -1);
	{
		char msg[4096];

		snprintf(msg, sizeof(msg), "\"%s\" already exists with different content: not overwritten",
			 h_path("arch/000000010000000000000001"));
		assert_error(msg);
	}
	got = h_read_file(h_path("arch/000000010000000000000001"), NULL);
	ck_assert_str_eq(got, "abc");
	free(got);
	ck_assert_int_eq(h_count_entries(h_path("arch")), 1);
	pitr_dest_spec_free(&spec);
}
END_TEST

START_TEST(test_local_same_content_other_level)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	unsigned char *seg = h_make_segment(1 << 20, 1, 1, 42, 7);
	unsigned char *other = h_make_segment(1 << 20, 1, 1, 42, 8);
	struct membuf fast = compress(PITR_CODEC_GZIP, 1, seg, 1 << 20);
	struct membuf best = compress(PITR_CODEC_GZIP, 9, seg, 1 << 20);
	struct membuf diff = compress(PITR_CODEC_GZIP, 1, other, 1 << 20);
	char path[4096];

	/* The premise: the two levels really give different bytes. */
	ck_assert(fast.len != best.len || memcmp(fast.data, best.data, fast.len) != 0);
	mkdir(h_path("arch"), 0700);
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("arch"), PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	spec.codec = PITR_CODEC_GZIP;
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001.gz", best.data, best.len, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001.gz", fast.data, fast.len, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_ALREADY);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001.gz", diff.data, diff.len, &result), -1);
	snprintf(path, sizeof(path), "%s", h_path("arch/000000010000000000000001.gz"));
	ck_assert_ptr_nonnull(strstr(h_log(), "already exists with different content"));
	ck_assert_int_eq(h_count_entries(h_path("arch")), 1);
	{
		size_t len;
		char *got = h_read_file(path, &len);

		ck_assert_uint_eq(len, best.len);
		ck_assert_mem_eq(got, best.data, len);
		free(got);
	}
	pitr_dest_spec_free(&spec);
	free(seg);
	free(other);
	free(fast.data);
	free(best.data);
	free(diff.data);
}
END_TEST

START_TEST(test_local_missing_dir)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	char msg[4096];

	ck_assert_int_eq(pitr_dest_spec_parse(h_path("nope"), PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "x", 1, &result), -1);
	snprintf(msg, sizeof(msg), "could not use local destination \"%s\": No such file or directory",
		 h_path("nope"));
	assert_error(msg);
	/* Never created: a missing mount must not be papered over. */
	ck_assert(!h_exists(h_path("nope")));
	pitr_dest_spec_free(&spec);

	h_write_file(h_path("file"), "x", 1);
	h_log_reset();
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("file"), PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "x", 1, &result), -1);
	snprintf(msg, sizeof(msg), "local destination \"%s\" is not a directory", h_path("file"));
	assert_error(msg);
	pitr_dest_spec_free(&spec);
}
END_TEST

/* A --dst-backup dir its backup removes while a file is written into it
 * (the backup ended): no copy needed, no error; a --dst-local dir that
 * vanishes is still a failure. */
START_TEST(test_backup_dir_removed_meanwhile)
{
	struct pitr_dest_spec spec = { 0 };
	struct pitr_dest *d;
	enum pitr_dest_result result;
	char tmp[4096];

	mkdir(h_path("x"), 0700);
	spec.kind = PITR_DEST_LOCAL;
	spec.location = (char *)h_path("x");
	spec.key = (char *)"backup:none=x";
	spec.backup_copy = true;
	d = pitr_dest_new(&spec, &env);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(pitr_dest_open(d, "000000010000000000000001.00000028.backup"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "label", 5), 0);
	/* What pitr-backup-master does once its last segment arrived. */
	snprintf(tmp, sizeof(tmp), "rm -rf '%s'", h_path("x"));
	ck_assert_int_eq(system(tmp), 0);
	ck_assert_int_eq(pitr_dest_finish_begin(d), 0);
	ck_assert_int_eq(pitr_dest_finish_end(d, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_GONE);
	ck_assert_str_eq(h_log(), "");
	pitr_dest_free(d);
	/* Gone before the open. */
	d = pitr_dest_new(&spec, &env);
	ck_assert_int_eq(pitr_dest_open(d, "000000010000000000000002"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "seg", 3), 0);
	ck_assert_int_eq(pitr_dest_finish_begin(d), 0);
	ck_assert_int_eq(pitr_dest_finish_end(d, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_GONE);
	ck_assert_str_eq(h_log(), "");
	ck_assert(!h_exists(h_path("x")));
	pitr_dest_free(d);
	/* The same for an archive: a failure. */
	mkdir(h_path("x"), 0700);
	spec.backup_copy = false;
	d = pitr_dest_new(&spec, &env);
	ck_assert_int_eq(pitr_dest_open(d, "000000010000000000000003"), 0);
	ck_assert_int_eq(system(tmp), 0);
	ck_assert_int_eq(pitr_dest_finish_begin(d), -1);
	ck_assert_str_ne(h_log(), "");
	pitr_dest_abort(d);
	pitr_dest_free(d);
}
END_TEST

START_TEST(test_local_abort_leaves_nothing)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	mkdir(h_path("arch"), 0700);
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("arch"), PITR_DEST_LOCAL, "--dst-local", &spec), 0);
	d = pitr_dest_new(&spec, &env);
	ck_assert_int_eq(pitr_dest_open(d, "000000010000000000000001"), 0);
	ck_assert_int_eq(pitr_dest_write(d, "half", 4), 0);
	ck_assert_int_eq(h_count_entries(h_path("arch")), 1);   /* the temporary file */
	pitr_dest_abort(d);
	pitr_dest_free(d);
	ck_assert_int_eq(h_count_entries(h_path("arch")), 0);
	pitr_dest_spec_free(&spec);
}
END_TEST

/* --- pipe destination ------------------------------------------------- */

static void
write_script(const char *path, const char *body)
{
	h_write_file(path, body, strlen(body));
	ck_assert_int_eq(chmod(path, 0755), 0);
}

START_TEST(test_pipe_delivers)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	char script[8192], *got;

	mkdir(h_path("out"), 0700);
	snprintf(script, sizeof(script), "#!/bin/sh\ncat > '%s'/\"$1\"\n", h_path("out"));
	write_script(h_path("sink.sh"), script);
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("sink.sh"), PITR_DEST_PIPE, "--dst-pipe", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "00000002.history", "1\t0/3000000\tno recovery target\n", 31,
				 &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	got = h_read_file(h_path("out/00000002.history"), NULL);
	ck_assert_str_eq(got, "1\t0/3000000\tno recovery target\n");
	free(got);
	/* The staging directory is gone. */
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	pitr_dest_spec_free(&spec);
}
END_TEST

START_TEST(test_pipe_failure)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	char msg[4096];

	write_script(h_path("fail.sh"), "#!/bin/sh\ncat >/dev/null\nexit 3\n");
	ck_assert_int_eq(pitr_dest_spec_parse(h_path("fail.sh"), PITR_DEST_PIPE, "--dst-pipe", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "x", 1, &result), -1);
	snprintf(msg, sizeof(msg), "ERROR : pipe destination \"%s\" failed for "
		 "\"000000010000000000000001\": exit status 3\n", h_path("fail.sh"));
	ck_assert_str_eq(h_log(), msg);
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	pitr_dest_spec_free(&spec);
}
END_TEST

START_TEST(test_rsync_unreachable)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;

	/* Port 1 on loopback: nothing listens, the connection is refused. */
	ck_assert_int_eq(pitr_dest_spec_parse("rsync://127.0.0.1:1/mod/", PITR_DEST_RSYNC,
					      "--dst-remote", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "x", 1, &result), -1);
	/* One line, with rsync's own reason in it. */
	ck_assert_str_eq(h_log(), "ERROR : could not deliver \"000000010000000000000001\" to remote "
			 "destination \"rsync://127.0.0.1:1/mod/\": rsync exit status 10: [sender] "
			 "failed to connect to 127.0.0.1 (127.0.0.1): Connection refused (111)\n");
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	pitr_dest_spec_free(&spec);
}
END_TEST

/* A peer that completes the TCP handshake and never says a word (a
 * listening socket nobody accepts on): rsync gives up on its own, in one
 * line.  rsync notices a silent peer only after one and a half of its
 * --timeout, so it is given two thirds of ours: "after 2 seconds" for
 * --rsync-timeout 3 (3 s in all; the seconds are not asserted). */
START_TEST(test_rsync_hung_peer)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	char url[64], *args;

	ck_assert_int_ge(lfd, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&sa, &salen), 0);
	snprintf(url, sizeof(url), "rsync://127.0.0.1:%u/mod/", (unsigned)ntohs(sa.sin_port));
	env.rsync_timeout = 3;
	write_script(h_path("rsync-wrap"), h_fmt("#!/bin/sh\necho \" $* \" > '%s'\nexec rsync \"$@\"\n",
						 h_path("rsync-args")));
	env.rsync_path = h_path("rsync-wrap");
	ck_assert_int_eq(pitr_dest_spec_parse(url, PITR_DEST_RSYNC, "--dst-remote", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "x", 1, &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : could not deliver \"000000010000000000000001\" to "
					"remote destination \"%s\": rsync exit status 30: the peer did not "
					"answer within --rsync-timeout (3 seconds)\n", url));
	/* rsync was given two thirds of it (it waits one and a half). */
	args = h_read_file(h_path("rsync-args"), NULL);
	ck_assert_ptr_nonnull(strstr(args, " --timeout=2 --contimeout=3 "));
	free(args);
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	pitr_dest_spec_free(&spec);
	close(lfd);
}
END_TEST

/* A remote shell that runs the remote command here (rsync's RSYNC_RSH):
 * "host:/dir" destinations then reach rsync's real server side without a
 * network, so the delivery, an identical file found there and a
 * different one are the real rsync's answers. */
static const char *
local_rsh(void)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s", h_path("rsh"));
	write_script(path, "#!/bin/sh\n# rsh HOST COMMAND...: the command, run here\nshift\n"
		     "exec sh -c \"$*\"\n");
	ck_assert_int_eq(setenv("RSYNC_RSH", path, 1), 0);
	return path;
}

START_TEST(test_rsync_remote_shell)
{
	struct pitr_dest_spec spec;
	enum pitr_dest_result result;
	char *got;
	size_t len;

	local_rsh();
	ck_assert_int_eq(mkdir(h_path("remote"), 0700), 0);
	ck_assert_int_eq(pitr_dest_spec_parse(h_fmt("localhost:%s/", h_path("remote")),
					      PITR_DEST_RSYNC, "--dst-remote", &spec), 0);
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "first", 5, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_DELIVERED);
	got = h_read_file(h_path("remote/000000010000000000000001"), &len);
	ck_assert_str_eq(got, "first");
	free(got);
	/* The same again: found there, nothing sent, not an error. */
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "first", 5, &result), 0);
	ck_assert_int_eq(result, PITR_DEST_ALREADY);
	ck_assert_str_eq(h_log(), "");
	/* Other content under that name is never overwritten. */
	ck_assert_int_eq(deliver(&spec, "000000010000000000000001", "other", 5, &result), -1);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : \"000000010000000000000001\" already exists at remote "
					"destination \"%s\" with different content: not "
					"overwritten\n", spec.location));
	got = h_read_file(h_path("remote/000000010000000000000001"), &len);
	ck_assert_str_eq(got, "first");
	free(got);
	/* Nothing staged is left. */
	ck_assert_int_eq(h_count_entries(h_path("tmp")), 0);
	pitr_dest_spec_free(&spec);
}
END_TEST

/* The ssh kind is made by the generic calls like the others; a kind from
 * outside the enum is refused with one line instead of reading past the
 * tables. */
START_TEST(test_ssh_kind_and_unknown_kind)
{
	struct pitr_dest_spec spec;
	struct pitr_dest *d;

	ck_assert_int_eq(pitr_dest_spec_parse("gzip=host:/dir", PITR_DEST_SSH, "--dst-direct", &spec), 0);
	ck_assert_int_eq(spec.kind, PITR_DEST_SSH);
	ck_assert_str_eq(spec.key, "direct:gzip=host:/dir");
	d = pitr_dest_new(&spec, &env);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(pitr_dest_kind_name(d), "direct");
	ck_assert(pitr_dest_staged(d));
	/* Nothing opened: nothing to wait for. */
	ck_assert_int_eq(pitr_dest_end_upload(d), 0);
	ck_assert_ptr_null(pitr_dest_spec_dir(&spec));
	pitr_dest_free(d);
	pitr_dest_spec_free(&spec);
	ck_assert_str_eq(h_log(), "");

	ck_assert_int_eq(pitr_dest_spec_parse("/x", (enum pitr_dest_kind)42, "--dst-x", &spec), -1);
	ck_assert_str_eq(h_log(), "ERROR : destination kind 42 is unknown\n");
	h_log_reset();
	memset(&spec, 0, sizeof(spec));
	spec.kind = (enum pitr_dest_kind)42;
	spec.location = "/x";
	spec.key = "x";
	ck_assert_ptr_null(pitr_dest_new(&spec, &env));
	ck_assert_str_eq(h_log(), "ERROR : destination kind 42 is unknown\n");
}
END_TEST

/* What differs between kinds, as properties. */
START_TEST(test_kind_properties)
{
	static const struct {
		const char *arg;
		enum pitr_dest_kind kind;
		const char *name;
		bool staged;
		bool has_dir;
	} kinds[] = {
		{ "/mnt/a", PITR_DEST_LOCAL, "local", false, true },
		{ "h:/a/", PITR_DEST_RSYNC, "remote", true, false },
		{ "/bin/true", PITR_DEST_PIPE, "pipe", true, false },
		{ "h:/a", PITR_DEST_SSH, "direct", true, false },
	};

	for (size_t kind_idx = 0; kind_idx < sizeof(kinds) / sizeof(kinds[0]); kind_idx++) {
		struct pitr_dest_spec spec;
		struct pitr_dest *d;

		ck_assert_int_eq(pitr_dest_spec_parse(kinds[kind_idx].arg, kinds[kind_idx].kind, "--x",
						      &spec), 0);
		d = pitr_dest_new(&spec, &env);
		ck_assert_str_eq(pitr_dest_kind_name(d), kinds[kind_idx].name);
		ck_assert_int_eq(pitr_dest_staged(d), kinds[kind_idx].staged);
		ck_assert_str_eq(pitr_dest_label(d), kinds[kind_idx].arg);
		if (kinds[kind_idx].has_dir)
			ck_assert_str_eq(pitr_dest_spec_dir(&spec), kinds[kind_idx].arg);
		else
			ck_assert_ptr_null(pitr_dest_spec_dir(&spec));
		pitr_dest_free(d);
		pitr_dest_spec_free(&spec);
	}
	ck_assert_str_eq(h_log(), "");
}
END_TEST

/* --- pitr_dest_args_parse() ------------------------------------------- */

START_TEST(test_args_order_and_backup)
{
	const char *local[] = { "/l1", "gzip=/l2" };
	const char *remote[] = { "h:/r/" };
	const char *pipe[] = { "/p" };
	const char *direct[] = { "xz=h:/d" };
	struct pitr_dest_args args = { local, 2, remote, 1, pipe, 1, direct, 1, NULL };
	struct pitr_dest_spec *specs;
	size_t n;
	const char *keys[] = {
		"local:none=/l1", "local:gzip=/l2", "remote:none=h:/r/", "pipe:none=/p",
		"direct:xz=h:/d",
	};
	const char *with_backup[] = {
		"local:none=/l1", "local:gzip=/l2", h_fmt("backup:none=%s", h_path("bk")),
		"remote:none=h:/r/", "pipe:none=/p", "direct:xz=h:/d",
	};

	ck_assert_uint_eq(pitr_dest_args_count(&args), 5);
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), 0);
	ck_assert_uint_eq(n, 5);
	for (size_t spec_idx = 0; spec_idx < n; spec_idx++) {
		ck_assert_str_eq(specs[spec_idx].key, keys[spec_idx]);
		ck_assert(!specs[spec_idx].backup_copy);
	}
	pitr_dest_specs_free(specs, n);

	/* --dst-backup: counted always, a spec only while its directory
	 * exists, right after the locals. */
	args.backup = h_path("bk");
	ck_assert_uint_eq(pitr_dest_args_count(&args), 6);
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), 0);
	ck_assert_uint_eq(n, 5);
	pitr_dest_specs_free(specs, n);
	ck_assert_int_eq(mkdir(h_path("bk"), 0700), 0);
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), 0);
	ck_assert_uint_eq(n, 6);
	for (size_t spec_idx = 0; spec_idx < n; spec_idx++)
		ck_assert_str_eq(specs[spec_idx].key, with_backup[spec_idx]);
	ck_assert_str_eq(pitr_dest_spec_dir(&specs[2]), h_path("bk"));
	ck_assert(specs[2].backup_copy);
	ck_assert_int_eq(specs[2].codec, PITR_CODEC_NONE);
	pitr_dest_specs_free(specs, n);
	ck_assert_str_eq(h_log(), "");

	/* Nothing at all. */
	memset(&args, 0, sizeof(args));
	ck_assert_uint_eq(pitr_dest_args_count(&args), 0);
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(specs);
}
END_TEST

START_TEST(test_args_errors)
{
	const char *local[] = { "/l1" };
	const char *direct[] = { "h:rel" };
	struct pitr_dest_args args = { .local = local, .nlocal = 1 };
	struct pitr_dest_spec *specs;
	size_t n;

	args.backup = "gzip=/x";
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), -1);
	assert_error("--dst-backup \"gzip=/x\" cannot be compressed: pitr-backup-master reads it as "
		     "plain WAL");
	h_log_reset();
	args.backup = "rel/dir";
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), -1);
	assert_error("--dst-backup \"rel/dir\" must be an absolute path");
	h_log_reset();
	args.backup = NULL;
	args.direct = direct;
	args.ndirect = 1;
	ck_assert_int_eq(pitr_dest_args_parse(&args, &specs, &n), -1);
	assert_error("--dst-direct \"h:rel\" is not an ssh location: expected "
		     "[CODEC=][USER@]HOST:/PATH");
	ck_assert_ptr_null(specs);
	ck_assert_uint_eq(n, 0);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("dest");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
		{ "pitr_dest_spec_parse", test_parse_plain_and_codec },
		{ "pitr_dest_spec_parse errors", test_parse_errors },
		{ "pitr_dest_spec_copy", test_spec_copy },
		{ "local: new, identical, conflict", test_local_new_identical_conflict },
		{ "local: same content at another level", test_local_same_content_other_level },
		{ "local: missing directory", test_local_missing_dir },
		{ "local: abort", test_local_abort_leaves_nothing },
		{ "local: a backup dir removed meanwhile", test_backup_dir_removed_meanwhile },
		{ "pipe: delivers", test_pipe_delivers },
		{ "pipe: failure", test_pipe_failure },
		{ "rsync: unreachable", test_rsync_unreachable },
		{ "rsync: hung peer", test_rsync_hung_peer },
		{ "rsync: through a remote shell", test_rsync_remote_shell },
		{ "ssh kind and an unknown kind", test_ssh_kind_and_unknown_kind },
		{ "kind properties", test_kind_properties },
		{ "pitr_dest_args_parse", test_args_order_and_backup },
		{ "pitr_dest_args_parse errors", test_args_errors },
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
