/*
 * check_digest.c - unit tests for lib/digest/digest.c: names, known answers
 * (published vectors, and what the coreutils tools print for the same
 * files), whole-file digests and their errors, the digest-file line format
 * (which `sha256sum -c` must accept) and lookups in digest-file text.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "digest/digest.h"
#include "harness.h"
#include "common/log.h"
#include "common/spawn.h"

static const struct {
	const char *name;
	const char *tool;
	const char *empty;
	const char *abc;
} vectors[] = {
	{ "MD5", "md5sum", "d41d8cd98f00b204e9800998ecf8427e", "900150983cd24fb0d6963f7d28e17f72" },
	{ "SHA-1", "sha1sum", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
	  "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ "SHA-224", "sha224sum", "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
	  "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7" },
	{ "SHA-256", "sha256sum", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "SHA-384", "sha384sum",
	  "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
	  "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7" },
	{ "SHA-512", "sha512sum",
	  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f"
	  "63b931bd47417a81a538327af927da3e",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd"
	  "454d4423643ce80e2a9ac94fa54ca49f" },
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

/* The hex digest of a buffer, fed in pieces of `chunk` bytes. */
static void
digest_buf(const char *name, const void *buf, size_t len, size_t chunk, char *hex)
{
	struct pitr_digest *d = pitr_digest_new(name);
	const unsigned char *p = buf;

	ck_assert_ptr_nonnull(d);
	for (size_t off = 0; off < len; off += chunk)
		ck_assert_int_eq(pitr_digest_update(d, p + off, len - off < chunk ? len - off : chunk), 0);
	ck_assert_int_eq(pitr_digest_final(d, hex), 0);
	pitr_digest_free(d);
}

/* What `tool -b path` prints: exactly our digest line for that path. */
static void
assert_tool_agrees(const char *tool, const char *path, const char *hex)
{
	char *argv[] = { (char *)tool, "-b", (char *)path, NULL };
	char out[512];
	char *line = pitr_digest_line(hex, path);

	ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
	ck_assert_str_eq(out, line);
	free(line);
}

START_TEST(test_names)
{
	h_setup();
	ck_assert_str_eq(pitr_digest_canonical("MD5"), "MD5");
	ck_assert_str_eq(pitr_digest_canonical("md5"), "MD5");
	ck_assert_str_eq(pitr_digest_canonical("SHA-1"), "SHA-1");
	ck_assert_str_eq(pitr_digest_canonical("sha1"), "SHA-1");
	ck_assert_str_eq(pitr_digest_canonical("Sha-224"), "SHA-224");
	ck_assert_str_eq(pitr_digest_canonical("sha256"), "SHA-256");
	ck_assert_str_eq(pitr_digest_canonical("SHA-384"), "SHA-384");
	ck_assert_str_eq(pitr_digest_canonical("sha-512"), "SHA-512");
	ck_assert_ptr_null(pitr_digest_canonical("SHA--256"));
	ck_assert_ptr_null(pitr_digest_canonical("SHA-256-"));
	ck_assert_ptr_null(pitr_digest_canonical("-SHA256"));
	ck_assert_ptr_null(pitr_digest_canonical("SHA-2"));
	ck_assert_ptr_null(pitr_digest_canonical("SHA-3"));
	ck_assert_ptr_null(pitr_digest_canonical("MD4"));
	ck_assert_ptr_null(pitr_digest_canonical("MD"));
	ck_assert_ptr_null(pitr_digest_canonical(""));
	ck_assert_ptr_null(pitr_digest_canonical(NULL));
	for (size_t i = 0; i < NVECTORS; i++)
		ck_assert_str_eq(pitr_digest_tool(vectors[i].name), vectors[i].tool);
	ck_assert_ptr_null(pitr_digest_tool("CRC32"));
	ck_assert_str_eq(h_log(), "");
	ck_assert_ptr_null(pitr_digest_new("SHA-3"));
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"SHA-3\": expected MD5, SHA-1, SHA-224, "
			 "SHA-256, SHA-384 or SHA-512\n");
	pitr_digest_free(NULL);
	h_teardown();
}
END_TEST

START_TEST(test_known_answers)
{
	char hex[PITR_DIGEST_HEX_MAX], path[4096];
	int fd;

	h_setup();
	for (size_t i = 0; i < NVECTORS; i++) {
		digest_buf(vectors[i].name, "", 0, 1, hex);
		ck_assert_str_eq(hex, vectors[i].empty);
		snprintf(path, sizeof(path), "%s", h_path("empty"));
		h_write_file(path, "", 0);
		assert_tool_agrees(vectors[i].tool, path, hex);
		ck_assert_int_eq(pitr_digest_file(vectors[i].name, path, hex), 0);
		ck_assert_str_eq(hex, vectors[i].empty);

		digest_buf(vectors[i].name, "abc", 3, 1, hex);
		ck_assert_str_eq(hex, vectors[i].abc);
		digest_buf(vectors[i].name, "abc", 3, 3, hex);
		ck_assert_str_eq(hex, vectors[i].abc);
		snprintf(path, sizeof(path), "%s", h_path("abc"));
		h_write_file(path, "abc", 3);
		assert_tool_agrees(vectors[i].tool, path, hex);
		ck_assert_int_eq(pitr_digest_file(vectors[i].name, path, hex), 0);
		ck_assert_str_eq(hex, vectors[i].abc);
		ck_assert_uint_eq(strlen(hex), strlen(vectors[i].abc));
		/* From a descriptor: to its end, left open. */
		ck_assert_int_ge(fd = open(path, O_RDONLY), 0);
		ck_assert_int_eq(pitr_digest_fd(vectors[i].name, fd, "s3://b/abc", hex), 0);
		ck_assert_str_eq(hex, vectors[i].abc);
		ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 3);
		ck_assert_int_eq(close(fd), 0);
	}
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

/* 1 MiB (more than one read of pitr_digest_file), fed whole, in odd
 * pieces and from the file: one answer, the tool's. */
START_TEST(test_big_file)
{
	const size_t len = 1u << 20;
	unsigned char *buf = malloc(len);
	char hex[PITR_DIGEST_HEX_MAX], hex2[PITR_DIGEST_HEX_MAX], path[4096];
	uint32_t x = 12345;

	h_setup();
	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	snprintf(path, sizeof(path), "%s", h_path("big"));
	h_write_file(path, buf, len);
	for (size_t i = 0; i < NVECTORS; i++) {
		ck_assert_int_eq(pitr_digest_file(vectors[i].name, path, hex), 0);
		assert_tool_agrees(vectors[i].tool, path, hex);
		digest_buf(vectors[i].name, buf, len, 4093, hex2);
		ck_assert_str_eq(hex2, hex);
		digest_buf(vectors[i].name, buf, len, len, hex2);
		ck_assert_str_eq(hex2, hex);
	}
	ck_assert_str_eq(h_log(), "");
	free(buf);
	h_teardown();
}
END_TEST

START_TEST(test_file_errors)
{
	char hex[PITR_DIGEST_HEX_MAX] = "untouched", want[8192], dir[4096];

	h_setup();
	ck_assert_int_eq(pitr_digest_file("SHA-256", h_path("missing"), hex), -1);
	snprintf(want, sizeof(want), "ERROR : could not open \"%s\": No such file or directory\n",
		 h_path("missing"));
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	snprintf(dir, sizeof(dir), "%s", h_path("adir"));
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	ck_assert_int_eq(pitr_digest_file("MD5", dir, hex), -1);
	snprintf(want, sizeof(want), "ERROR : could not read \"%s\": Is a directory\n", dir);
	ck_assert_str_eq(h_log(), want);
	h_log_reset();
	ck_assert_int_eq(pitr_digest_file("CRC", dir, hex), -1);
	ck_assert_str_eq(h_log(), "ERROR : unknown digest \"CRC\": expected MD5, SHA-1, SHA-224, "
			 "SHA-256, SHA-384 or SHA-512\n");
	ck_assert_str_eq(hex, "untouched");
	h_teardown();
}
END_TEST

/* Our lines are what the tools write, escapes included, and `-c` reads a
 * file of them back. */
START_TEST(test_lines)
{
	static const char *const names[] = { "plain.tar.gz", "with space", "back\\slash", "new\nline",
					     "cr\rhere" };
	char hex[PITR_DIGEST_HEX_MAX], path[4096], list[4096];
	char *line, *text = NULL;
	size_t tlen = 0;

	h_setup();
	line = pitr_digest_line("abcd", "x");
	ck_assert_str_eq(line, "abcd *x\n");
	free(line);
	line = pitr_digest_line("abcd", "a\\b\nc\rd");
	ck_assert_str_eq(line, "\\abcd *a\\\\b\\nc\\rd\n");
	free(line);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s", h_path(names[i]));
		h_write_file(path, names[i], strlen(names[i]));
		ck_assert_int_eq(pitr_digest_file("SHA-256", path, hex), 0);
		assert_tool_agrees("sha256sum", path, hex);
		line = pitr_digest_line(hex, path);
		text = realloc(text, tlen + strlen(line) + 1);
		ck_assert_ptr_nonnull(text);
		memcpy(text + tlen, line, strlen(line) + 1);
		tlen += strlen(line);
		/* And the lookup finds the name through the escapes. */
		{
			char got[PITR_DIGEST_HEX_MAX];

			ck_assert_int_eq(pitr_digest_lookup(line, path, got), 0);
			ck_assert_str_eq(got, hex);
		}
		free(line);
	}
	snprintf(list, sizeof(list), "%s", h_path("SHA-256.txt"));
	h_write_file(list, text, tlen);
	{
		char *argv[] = { "sha256sum", "-c", "--strict", list, NULL };
		char out[4096];

		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 0);
		/* Damage one digest: -c must now fail, so the file was read. */
		text[3] = text[3] == '0' ? '1' : '0';
		h_write_file(list, text, tlen);
		ck_assert_int_eq(pitr_spawn_capture(argv, out, sizeof(out)), 1);
	}
	free(text);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

#define H32 "0123456789abcdef0123456789abcdef"
#define H64 H32 H32

START_TEST(test_lookup)
{
	char hex[PITR_DIGEST_HEX_MAX];

	h_setup();
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a.tar\n" H64 "  b.tar\n", "b.tar", hex), 0);
	ck_assert_str_eq(hex, H64);
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a.tar\n" H64 "  b.tar\n", "a.tar", hex), 0);
	ck_assert_str_eq(hex, H32);
	/* Binary-mode '*', upper-case hex, no final newline. */
	ck_assert_int_eq(pitr_digest_lookup("0123456789ABCDEF0123456789ABCDEF *a.tar", "a.tar", hex), 0);
	ck_assert_str_eq(hex, H32);
	/* The '*' is the marker, not part of the name. */
	ck_assert_int_eq(pitr_digest_lookup(H32 " *a.tar\n", "*a.tar", hex), 1);
	/* A name is matched whole, spaces in it included. */
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a.tar \n", "a.tar", hex), 1);
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a.tar \n", "a.tar ", hex), 0);
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a b\n", "a b", hex), 0);
	/* The first line for a name wins. */
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a\n" H64 "  a\n", "a", hex), 0);
	ck_assert_str_eq(hex, H32);
	/* Not listed. */
	strcpy(hex, "untouched");
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a.tar\n", "b.tar", hex), 1);
	ck_assert_int_eq(pitr_digest_lookup("", "b.tar", hex), 1);
	ck_assert_str_eq(hex, "untouched");
	/* Malformed lines, wherever they are, fail the lookup. */
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a\n\n", "a", hex), -1);        /* blank line */
	ck_assert_int_eq(pitr_digest_lookup(H32 "  a\nxyz  b\n", "a", hex), -1);  /* not hex */
	ck_assert_int_eq(pitr_digest_lookup("0123  a\n", "a", hex), -1);          /* too short */
	ck_assert_int_eq(pitr_digest_lookup(H32 "0  a\n", "a", hex), -1);         /* 33 digits */
	ck_assert_int_eq(pitr_digest_lookup(H32 " a\n", "a", hex), -1);           /* one space */
	ck_assert_int_eq(pitr_digest_lookup(H32 "\ta\n", "a", hex), -1);          /* a tab */
	ck_assert_int_eq(pitr_digest_lookup(H32 "  \n", "", hex), -1);            /* no name */
	ck_assert_int_eq(pitr_digest_lookup(H32 "g  a\n", "a", hex), -1);         /* stray letter */
	ck_assert_int_eq(pitr_digest_lookup("\\" H32 "  a\\x\n", "a", hex), -1);  /* bad escape */
	ck_assert_int_eq(pitr_digest_lookup("\\" H32 "  a\\\n", "a", hex), -1);   /* cut escape */
	/* OmniPITR's binary-mode lines and pitrkit's old text-mode ones. */
	ck_assert_int_eq(pitr_digest_lookup(H32 " *a.tar\n" H64 "  b.tar\n", "a.tar", hex), 0);
	ck_assert_int_eq(pitr_digest_lookup(H32 " *a.tar\n" H64 "  b.tar\n", "b.tar", hex), 0);
	/* A good escaped line. */
	ck_assert_int_eq(pitr_digest_lookup("\\" H32 "  a\\nb\n", "a\nb", hex), 0);
	ck_assert_str_eq(h_log(), "");
	h_teardown();
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("digest");
	TCase *tc = tcase_create("digest");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_known_answers);
	tcase_add_test(tc, test_big_file);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_lookup);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
