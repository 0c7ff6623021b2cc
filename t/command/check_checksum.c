/*
 * check_checksum.c - unit tests for pitr-checksum's module: the line
 * OmniPITR's omnipitr-checksum printed ("%s *%s\n" of the hex digest and
 * -f's name, "<stdin>" without -f, MD5 without -d), byte for byte, for
 * known answers of every digest; --list's exact text; the -d spellings;
 * what `sha256sum -b` prints and `sha256sum -c` accepts; an unknown
 * digest refused before anything is read; read and write errors.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "command/checksum/checksum.h"
#include "common/spawn.h"
#include "digest/digest.h"
#include "harness.h"

/* Run pitr_cmd_checksum on `input` (written to a file, read as standard
 * input would be); returns its result, the output in *out (malloc'd). */
static int
run(const char *digest, const char *filename, bool list, const void *input, size_t len,
    char **out)
{
	const char *path = h_path("input");
	struct pitr_checksum_opts o = { .digest = digest, .filename = filename, .list = list };
	size_t outlen = 0;
	int rc;

	h_write_file(path, input, len);
	o.in = open(path, O_RDONLY);
	ck_assert_int_ge(o.in, 0);
	o.out = open_memstream(out, &outlen);
	ck_assert_ptr_nonnull(o.out);
	rc = pitr_cmd_checksum(&o);
	fclose(o.out);
	close(o.in);
	return rc;
}

/* OmniPITR's run(): printf "%s *%s\n", $digest->hexdigest, $filename. */
static char *
omnipitr_line(const char *hex, const char *filename)
{
	char *line = NULL;

	ck_assert_int_ge(asprintf(&line, "%s *%s\n", hex, filename), 0);
	return line;
}

static void
assert_line(const char *digest, const char *filename, const char *input, const char *hex)
{
	char *out = NULL, *want = omnipitr_line(hex, filename && *filename ? filename : "<stdin>");

	ck_assert_int_eq(run(digest, filename, false, input, strlen(input), &out), 0);
	ck_assert_str_eq(out, want);
	free(out);
	free(want);
}

/* FIPS 180 / RFC 1321 answers for "abc" and the empty input. */
START_TEST(test_omnipitr_lines)
{
	h_setup();
	/* No -d, no -f: OmniPITR's defaults, MD5 and "<stdin>". */
	assert_line(NULL, NULL, "abc", "900150983cd24fb0d6963f7d28e17f72");
	assert_line(NULL, NULL, "", "d41d8cd98f00b204e9800998ecf8427e");
	/* Empty values are the defaults, as OmniPITR's "||" made them. */
	assert_line("", "", "abc", "900150983cd24fb0d6963f7d28e17f72");
	assert_line("MD5", "host-data-2026-12-02.tar.gz", "abc", "900150983cd24fb0d6963f7d28e17f72");
	assert_line("SHA-1", "x", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_line("SHA", "x", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_line("SHA-224", "x", "abc", "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
	assert_line("SHA-256", "with space.tar", "abc",
		    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_line("SHA-384", "x", "abc",
		    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		    "8086072ba1e7cc2358baeca134c825a7");
	assert_line("SHA-512", "x", "abc",
		    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

START_TEST(test_list)
{
	char *out = NULL;

	h_setup();
	/* --list wins over -d, as OmniPITR's read_args exited on it first. */
	ck_assert_int_eq(run("no-such", NULL, true, "", 0, &out), 0);
	ck_assert_str_eq(out, "Available digests:\n- MD5\n- SHA-1\n- SHA-224\n- SHA-256\n"
			 "- SHA-384\n- SHA-512\n");
	free(out);
	h_teardown();
}
END_TEST

START_TEST(test_names)
{
	h_setup();
	ck_assert_str_eq(pitr_checksum_digest_name("MD5"), "MD5");
	ck_assert_str_eq(pitr_checksum_digest_name("SHA"), "SHA-1");
	ck_assert_str_eq(pitr_checksum_digest_name("sha"), "SHA-1");
	ck_assert_str_eq(pitr_checksum_digest_name("sha256"), "SHA-256");
	ck_assert_str_eq(pitr_checksum_digest_name("SHA-512"), "SHA-512");
	ck_assert_ptr_null(pitr_checksum_digest_name("SHA-3"));
	ck_assert_ptr_null(pitr_checksum_digest_name(""));
	ck_assert_ptr_null(pitr_checksum_digest_name(NULL));
	h_teardown();
}
END_TEST

/* More than one read buffer: the same digest as the whole file's. */
START_TEST(test_big_input)
{
	size_t len = 3 * 256 * 1024 + 17;
	char *buf = malloc(len), *out = NULL, hex[PITR_DIGEST_HEX_MAX], *want;

	h_setup();
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(i * 7 + i / 251);
	ck_assert_int_eq(run("SHA-256", "big", false, buf, len, &out), 0);
	ck_assert_int_eq(pitr_digest_file("SHA-256", h_path("input"), hex), 0);
	want = omnipitr_line(hex, "big");
	ck_assert_str_eq(out, want);
	free(want);
	free(out);
	free(buf);
	h_teardown();
}
END_TEST

/* Our line is what `sha256sum -b FILE` prints, and `sha256sum -c` reads
 * it back in the file's directory. */
START_TEST(test_coreutils)
{
	static const char *const tools[][2] = { { "MD5", "md5sum" }, { "SHA-256", "sha256sum" },
						 { "SHA-512", "sha512sum" } };
	const char *path = h_path("data.tar");

	h_setup();
	h_write_file(path, "some tar bytes", 14);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *out = NULL, tool_out[1024], list[4096];
		char *argv[] = { (char *)tools[i][1], "-b", (char *)path, NULL };
		char *check[] = { (char *)tools[i][1], "-c", "--strict", list, NULL };

		ck_assert_int_eq(run(tools[i][0], path, false, "some tar bytes", 14, &out), 0);
		ck_assert_int_eq(pitr_spawn_capture(argv, tool_out, sizeof(tool_out)), 0);
		ck_assert_str_eq(out, tool_out);
		snprintf(list, sizeof(list), "%s", h_path("list"));
		h_write_file(list, out, strlen(out));
		ck_assert_int_eq(pitr_spawn_capture(check, tool_out, sizeof(tool_out)), 0);
		free(out);
	}
	h_teardown();
}
END_TEST

START_TEST(test_errors)
{
	struct pitr_checksum_opts o = { .digest = "SHA-3", .in = -1 };
	char *out = NULL;
	size_t outlen = 0;

	h_setup();
	/* An unknown digest: refused, nothing written, stdin not read (fd
	 * -1 would fail a read). */
	o.out = open_memstream(&out, &outlen);
	ck_assert_int_eq(pitr_cmd_checksum(&o), -1);
	fflush(o.out);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"SHA-3\": expected MD5, SHA-1, SHA-224, "
			 "SHA-256, SHA-384 or SHA-512 (--list shows them)\n");
	/* A read error: logged, no line. */
	h_log_reset();
	o.digest = NULL;
	ck_assert_int_eq(pitr_cmd_checksum(&o), -1);
	fflush(o.out);
	ck_assert_str_eq(out, "");
	ck_assert_ptr_nonnull(strstr(h_log(), "could not read standard input"));
	fclose(o.out);
	free(out);
	/* A write error (a full disk): exit 1, not a digest printed. */
	h_log_reset();
	o.in = open("/dev/null", O_RDONLY);
	o.out = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(o.out);
	ck_assert_int_eq(pitr_cmd_checksum(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "could not write to standard output"));
	fclose(o.out);
	close(o.in);
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("checksum");
	TCase *tc = tcase_create("checksum");

	tcase_add_test(tc, test_omnipitr_lines);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_big_input);
	tcase_add_test(tc, test_coreutils);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
