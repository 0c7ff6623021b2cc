/*
 * recover_fixture.c - the fixtures the pitr-recover test programs share
 * (see recover_fixture.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "compress/codec.h"
#include "harness.h"
#include "postgres/wal.h"
#include "recover_fixture.h"

char bk[4096], arch[4096], prog[4096], src[4096], ts[4096];

void
put_segment(uint32_t tli, uint64_t segno)
{
	unsigned char *buf = h_make_segment(SEG, tli, segno, SYSID, (unsigned)segno);
	char name[80];

	pitr_wal_format_segment(name, tli, segno, SEG);
	strcat(name, ".gz");
	h_write_compressed(h_fmt("%s/%s", arch, name), PITR_CODEC_GZIP, buf, SEG);
	free(buf);
}

void
mk(const char *path)
{
	ck_assert_int_eq(mkdir(path, 0700), 0);
}

void
text_file(const char *path, const char *text)
{
	h_write_file(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0600), 0);
}

void
setup(void)
{
	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	snprintf(bk, sizeof(bk), "%s", h_path("bk"));
	snprintf(arch, sizeof(arch), "%s", h_path("arch"));
	snprintf(prog, sizeof(prog), "%s", h_path("bin/pitr-restore"));
	snprintf(src, sizeof(src), "%s", h_path("pgdata"));
	snprintf(ts, sizeof(ts), "%s", h_path("ts"));
	mk(bk);
	mk(arch);
	mk(h_path("bin"));
	text_file(prog, "#!/bin/sh\nexit 1\n");
	ck_assert_int_eq(chmod(prog, 0755), 0);
}

void
teardown(void)
{
	h_teardown();
}

void
opts_init(struct pitr_recover_opts *o)
{
	memset(o, 0, sizeof(*o));
	static const char *bdirs[1], *archives[1];

	bdirs[0] = bk;
	archives[0] = h_fmt("gzip=%s", arch);
	o->backup_dirs = bdirs;
	o->nbackup_dirs = 1;
	o->archives = archives;
	o->narchives = 1;
	o->target_dir = h_path("new");
	o->pitr_restore = prog;
	o->pitr_recover = prog;
}
