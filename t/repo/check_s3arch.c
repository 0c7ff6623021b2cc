/*
 * check_s3arch.c - unit tests for the pure logic of an archive in an
 * object store: which listed keys are a WAL file's copies (exact name and
 * a codec's extension, never "NAME.partial..."), the entries a listing
 * keeps and their order (shared with archdir.c).  The requests themselves are tested
 * against a real gateway by t/integration/s3-restore.sh.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "postgres/sysid.h"
#include "repo/archdir.h"
#include "repo/s3arch.h"

#define SEG "000000010000000000000003"

START_TEST(test_match_each_codec)
{
	for (int codec_idx = 0; codec_idx < PITR_CODEC_COUNT; codec_idx++) {
		enum pitr_codec want = (enum pitr_codec)codec_idx, got = PITR_CODEC_COUNT;
		char name[64];

		snprintf(name, sizeof(name), "%s%s", SEG, pitr_codec_ext(want));
		ck_assert_msg(pitr_s3arch_match(name, SEG, &got), "%s not matched", name);
		ck_assert_int_eq(got, want);
	}
}
END_TEST

START_TEST(test_match_refuses_others)
{
	static const char *const others[] = {
		SEG ".partial", SEG ".partial.gz", SEG ".gz.tmp", SEG ".gzip", SEG ".GZ",
		SEG "0", SEG ".", "000000010000000000000004.gz", "00000001000000000000000",
		SEG ".00000028.backup", SEG ".gz.gz", "", ".gz",
	};
	enum pitr_codec codec = PITR_CODEC_COUNT;

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_msg(!pitr_s3arch_match(others[i], SEG, &codec), "\"%s\" matched", others[i]);
	ck_assert_int_eq(codec, PITR_CODEC_COUNT);
}
END_TEST

START_TEST(test_match_history_and_partial)
{
	enum pitr_codec codec;

	ck_assert(pitr_s3arch_match("00000002.history.zst", "00000002.history", &codec));
	ck_assert_int_eq(codec, PITR_CODEC_ZSTD);
	ck_assert(pitr_s3arch_match(SEG ".partial.xz", SEG ".partial", &codec));
	ck_assert_int_eq(codec, PITR_CODEC_XZ);
	ck_assert(!pitr_s3arch_match("00000002.history.zst", "00000002", &codec));
}
END_TEST

/* What a listing keeps: segments and partial segments of any codec, never
 * history files, backup history files, the record or temporary names. */
START_TEST(test_parse_entry_kinds)
{
	static const char *const kept[] = {
		SEG, SEG ".gz", SEG ".partial", SEG ".partial.lz4",
	};
	static const char *const skipped[] = {
		"00000002.history", "00000002.history.gz", SEG ".00000028.backup",
		PITR_SYSID_FILE, ".pitr-tmp.abc", SEG ".gz.tmp", "README",
	};
	struct pitr_archdir_entry e;

	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		ck_assert_msg(pitr_archdir_parse_entry(kept[i], &e), "%s skipped", kept[i]);
		ck_assert_str_eq(e.file, kept[i]);
	}
	ck_assert(pitr_archdir_parse_entry(SEG ".partial.lz4", &e));
	ck_assert_int_eq(e.codec, PITR_CODEC_LZ4);
	ck_assert_int_eq(e.name.kind, PITR_WAL_PARTIAL);
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		ck_assert_msg(!pitr_archdir_parse_entry(skipped[i], &e), "%s kept", skipped[i]);
}
END_TEST

/* Oldest first by position, the timeline ignored; equal positions by name. */
START_TEST(test_sort_order)
{
	static const char *const in[] = {
		"000000020000000000000005.gz", "000000010000000000000003", "000000010000000000000005",
		"000000010000000000000004.partial", "000000030000000000000001.zst",
	};
	static const char *const want[] = {
		"000000030000000000000001.zst", "000000010000000000000003",
		"000000010000000000000004.partial", "000000010000000000000005",
		"000000020000000000000005.gz",
	};
	struct pitr_archdir_entry entries[5];

	for (size_t i = 0; i < 5; i++)
		ck_assert(pitr_archdir_parse_entry(in[i], &entries[i]));
	pitr_archdir_sort(entries, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(entries[i].file, want[i]);
}
END_TEST

/* An archive argument is parsed as an object store's only for s3://. */
START_TEST(test_spec_kind)
{
	ck_assert_int_eq(pitr_s3arch_spec_kind("s3://wal/arch/"), PITR_DEST_RSYNC);
	ck_assert_int_eq(pitr_s3arch_spec_kind("gzip=s3://wal"), PITR_DEST_RSYNC);
	ck_assert_int_eq(pitr_s3arch_spec_kind("/mnt/s3://x"), PITR_DEST_LOCAL);
	ck_assert_int_eq(pitr_s3arch_spec_kind("gzip=/mnt/arch"), PITR_DEST_LOCAL);
	ck_assert_int_eq(pitr_s3arch_spec_kind("nocodec=s3://wal"), PITR_DEST_LOCAL);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite *s = suite_create("s3arch");
	TCase *tc;

	tc = tcase_create("pitr_s3arch_match");
	tcase_add_test(tc, test_match_each_codec);
	tcase_add_test(tc, test_match_refuses_others);
	tcase_add_test(tc, test_match_history_and_partial);
	tcase_add_test(tc, test_spec_kind);
	suite_add_tcase(s, tc);

	tc = tcase_create("listing");
	tcase_add_test(tc, test_parse_entry_kinds);
	tcase_add_test(tc, test_sort_order);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(make_suite());
}
