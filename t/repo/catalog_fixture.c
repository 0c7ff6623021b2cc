/*
 * catalog_fixture.c - backup and archive dirs for the tests of the catalog
 * and of the WAL path through it (see catalog_fixture.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compress/codec.h"
#include "harness.h"
#include "postgres/wal.h"
#include "catalog_fixture.h"

char bk[4096], arch[4096];

void
catalog_fixture_setup(void)
{
	h_setup();
	snprintf(bk, sizeof(bk), "%s", h_path("bk"));
	snprintf(arch, sizeof(arch), "%s", h_path("arch"));
	ck_assert_int_eq(mkdir(bk, 0700), 0);
	ck_assert_int_eq(mkdir(arch, 0700), 0);
}

void
catalog_fixture_teardown(void)
{
	h_teardown();
}

void
put(const char *dir, const char *name, enum pitr_codec codec, const void *buf, size_t len)
{
	h_write_compressed(h_fmt("%s/%s", dir, name), codec, buf, len);
}

void
put_text(const char *dir, const char *name, enum pitr_codec codec, const char *text)
{
	put(dir, name, codec, text, strlen(text));
}

void
put_segment(uint32_t tli, uint64_t segno, enum pitr_codec codec)
{
	unsigned char *buf = h_make_segment(SEG, tli, segno, SYSID, (unsigned)segno);
	char name[80];

	pitr_wal_format_segment(name, tli, segno, SEG);
	strcat(name, pitr_codec_ext(codec));
	put(arch, name, codec, buf, SEG);
	free(buf);
}

const char *
meta_text(int day, uint32_t tli, unsigned start, unsigned stop, const char *host,
	  unsigned long xlog_size, const char *tail)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf),
		 "start_wal=%08X00000000%08X\nstop_wal=%08X00000000%08X\nstart_lsn=0/%X\n"
		 "stop_lsn=0/%X\nstart_time=2024-03-%02d 12:00:00 +0100\n"
		 "stop_time=2024-03-%02d 12:05:00 +0100\nhost=%s\nlabel=pitrkit %s 2024-03-%02d\n"
		 "system_identifier=%llu\ntimeline=%u\ndata_dir=/var/lib/pg\ndata_size=%d\n"
		 "xlog_size=%lu\ncodec=gzip\n%s",
		 tli, start, tli, stop, start * SEG + 0x28, stop * SEG + 0x100, day, day, host, host,
		 day, (unsigned long long)SYSID, tli, 1000 + day, xlog_size, tail);
	return buf;
}

void
put_backup(const char *stem_fmt, int day, enum pitr_codec codec, const char *meta)
{
	char name[256], pattern[256];

	for (int t = 0; t < 3; t++) {
		static const char *const types[] = { "meta", "data", "xlog" };

		snprintf(pattern, sizeof(pattern), stem_fmt, types[t], day);
		snprintf(name, sizeof(name), "%s%s", pattern, pitr_codec_ext(codec));
		put_text(bk, name, codec, t == 0 ? meta : types[t]);
	}
}

void
load(struct pitr_catalog *cat, const char *b, const char *a)
{
	ck_assert_int_eq(pitr_catalog_load(b, a, NULL, cat), 0);
}
