/*
 * backup_fixture.c - the fixtures the pitr-backup-master and
 * pitr-backup-slave test programs share (see backup_fixture.h).
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backup_fixture.h"
#include "compress/codec.h"
#include "harness.h"
#include "postgres/wal.h"
#include "server/pqfake.h"
#include "tar/tarread.h"

char bf_pgdata[4096], bf_ts[4096], bf_dest[4096], bf_xlogs[4096], bf_arch[4096];
char bf_host[256];

static void
mkdir_ok(const char *path)
{
	ck_assert_msg(mkdir(path, 0700) == 0, "mkdir %s", path);
}

static void
text(const char *path, const char *content)
{
	h_write_file(path, content, strlen(content));
}

void
bf_setup(void)
{
	char control[8192];

	h_setup();
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(gethostname(bf_host, sizeof(bf_host) - 1), 0);
	snprintf(bf_pgdata, sizeof(bf_pgdata), "%s", h_path("pgdata"));
	snprintf(bf_ts, sizeof(bf_ts), "%s", h_path("ts"));
	snprintf(bf_dest, sizeof(bf_dest), "%s", h_path("dest"));
	snprintf(bf_xlogs, sizeof(bf_xlogs), "%s", h_path("xlogs"));
	snprintf(bf_arch, sizeof(bf_arch), "%s", h_path("arch"));
	mkdir_ok(bf_dest);
	mkdir_ok(bf_arch);

	mkdir_ok(bf_pgdata);
	text(h_fmt("%s/PG_VERSION", bf_pgdata), "15\n");
	mkdir_ok(h_fmt("%s/global", bf_pgdata));
	memset(control, 0, sizeof(control));
	memcpy(control, "pg_control of the test", 22);
	h_write_file(h_fmt("%s/global/pg_control", bf_pgdata), control, sizeof(control));
	text(h_fmt("%s/global/1262", bf_pgdata), "pg_database");
	mkdir_ok(h_fmt("%s/base", bf_pgdata));
	mkdir_ok(h_fmt("%s/base/5", bf_pgdata));
	text(h_fmt("%s/base/5/1259", bf_pgdata), "pg_class");
	text(h_fmt("%s/postgresql.conf", bf_pgdata), "wal_level = replica\n");
	/* What a backup leaves out: the running server's files, a stale
	 * label, pg_wal's and pg_replslot's contents. */
	text(h_fmt("%s/postmaster.pid", bf_pgdata), "4242\n");
	text(h_fmt("%s/postmaster.opts", bf_pgdata), "postgres\n");
	text(h_fmt("%s/backup_label.old", bf_pgdata), "old\n");
	mkdir_ok(h_fmt("%s/pg_wal", bf_pgdata));
	mkdir_ok(h_fmt("%s/pg_wal/archive_status", bf_pgdata));
	text(h_fmt("%s/pg_wal/000000010000000000000001", bf_pgdata), "old WAL");
	mkdir_ok(h_fmt("%s/pg_replslot", bf_pgdata));
	mkdir_ok(h_fmt("%s/pg_replslot/slot1", bf_pgdata));
	mkdir_ok(h_fmt("%s/pg_tblspc", bf_pgdata));
	ck_assert_int_eq(symlink(bf_ts, h_fmt("%s/pg_tblspc/16384", bf_pgdata)), 0);

	mkdir_ok(bf_ts);
	mkdir_ok(h_fmt("%s/PG_15_202209061", bf_ts));
	mkdir_ok(h_fmt("%s/PG_15_202209061/5", bf_ts));
	text(h_fmt("%s/PG_15_202209061/5/16385", bf_ts), "tablespace relation");
}

void
bf_teardown(void)
{
	h_teardown();
}

void
bf_opts(struct pitr_backup_opts *o)
{
	static const char *dl[1];

	memset(o, 0, sizeof(*o));
	dl[0] = bf_dest;
	o->data_dir = bf_pgdata;
	o->dbname = "db1";
	o->xlogs = bf_xlogs;
	o->dst_local = dl;
	o->ndst_local = 1;
	o->filename_template = BF_TEMPLATE;
	o->parallel_jobs = 1;
	o->not_nice = true;
	o->wal_wait = 5;
}

void
bf_script_connect(const char *data_directory, const char *in_recovery)
{
	h_pq_connect("dbname=db1 fallback_application_name=pitrkit", 1);
	h_pq_exec("SHOW data_directory");
	h_pq_value(data_directory);
	h_pq_exec("SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'");
	h_pq_value("1048576");
	h_pq_exec("SELECT system_identifier FROM pg_control_system()");
	h_pq_value(BF_SYSID_TEXT);
	h_pq_exec("SELECT pg_is_in_recovery()");
	h_pq_value(in_recovery);
}

const char *bf_archive_mode = "on", *bf_archive_command;

void
bf_script_archiving(void)
{
	h_pq_exec("SHOW archive_mode");
	h_pq_value(bf_archive_mode);
	h_pq_exec("SHOW archive_command");
	h_pq_value(bf_archive_command ? bf_archive_command :
		   h_fmt("pitr-archive -dl /arch --dst-backup %s %%p", bf_xlogs));
}

void
bf_script_start(void)
{
	/* The label: "pitrkit HOST START-TIME", the time in local time (UTC
	 * here). */
	h_pq_exec_params("SELECT pg_backup_start($1, fast => true)", 1,
			 h_fmt("pitrkit %s [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] "
			       "[0-9][0-9]:[0-9][0-9]:[0-9][0-9] +0000", bf_host));
	h_pq_value(BF_START_LSN);
}

void
bf_script_stop(const char *sql, bool standby, const char *spcmap)
{
	h_pq_exec(sql);
	h_pq_rows(1, 3, BF_STOP_LSN, bf_label(standby), spcmap ? spcmap : "");
}

void
bf_script_finish(void)
{
	h_pq_finish();
}

const char *
bf_label(bool standby)
{
	return standby ?
		"START WAL LOCATION: 0/200028 (file " BF_START_WAL ")\n"
		"CHECKPOINT LOCATION: 0/200060\nBACKUP METHOD: streamed\nBACKUP FROM: standby\n"
		"START TIME: 2026-01-01 00:00:00 UTC\nLABEL: pitrkit\nSTART TIMELINE: 1\n" :
		"START WAL LOCATION: 0/200028 (file " BF_START_WAL ")\n"
		"CHECKPOINT LOCATION: 0/200060\nBACKUP METHOD: streamed\nBACKUP FROM: primary\n"
		"START TIME: 2026-01-01 00:00:00 UTC\nLABEL: pitrkit\nSTART TIMELINE: 1\n";
}

void
bf_put_segment(const char *dir, uint64_t segno, int codec)
{
	unsigned char *buf = h_make_segment(BF_SEG, 1, segno, BF_SYSID, (unsigned)segno);
	char name[PITR_WAL_NAME_MAX];

	pitr_wal_format_segment(name, 1, segno, BF_SEG);
	h_write_compressed(h_fmt("%s/%s%s", dir, name, pitr_codec_ext((enum pitr_codec)codec)), codec,
			   buf, BF_SEG);
	free(buf);
}

struct listing {
	FILE *f;
};

static void
list_member(void *ctx, const char *member, int64_t size)
{
	fprintf(((struct listing *)ctx)->f, "%s %lld\n", member, (long long)size);
}

char *
bf_tar_list(const char *path, int codec)
{
	struct listing l;
	char *buf = NULL;
	size_t size = 0;

	l.f = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(l.f);
	ck_assert_int_eq(pitr_tarread_list(path, (enum pitr_codec)codec, list_member, &l), 0);
	ck_assert_int_eq(fclose(l.f), 0);
	return buf;
}

struct pick {
	const char *member;
	const char *to;
	bool found;
};

static char *
pick_member(void *ctx, const char *member, bool *skip)
{
	struct pick *p = ctx;

	*skip = strcmp(member, p->member) != 0;
	if (*skip)
		return NULL;
	p->found = true;
	return strdup(p->to);
}

char *
bf_tar_member(const char *path, int codec, const char *member, size_t *len)
{
	struct pick p = { member, h_path("member.out"), false };
	char *buf;

	unlink(p.to);
	ck_assert_int_eq(pitr_tarread_extract(path, (enum pitr_codec)codec, pick_member, &p,
					      PITR_TARREAD_ALLOW_SYMLINKS, NULL), 0);
	ck_assert_msg(p.found, "no member %s in %s", member, path);
	buf = h_read_file(p.to, len);
	unlink(p.to);
	return buf;
}

char *
bf_read(const char *path, int codec, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct pitr_codec_reader *r;
	char *buf = NULL;
	size_t size = 0, got = 0;
	ssize_t n;

	ck_assert_msg(fd >= 0, "open %s", path);
	r = pitr_codec_reader_new((enum pitr_codec)codec, fd, path);
	ck_assert_ptr_nonnull(r);
	do {
		if (size - got < 65536) {
			size = size * 2 + 65536;
			buf = realloc(buf, size + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = pitr_codec_reader_read(r, buf + got, size - got);
		ck_assert_int_ge(n, 0);
		got += (size_t)n;
	} while (n > 0);
	pitr_codec_reader_free(r);
	close(fd);
	buf[got] = '\0';
	if (len != NULL)
		*len = got;
	return buf;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *
bf_dir_list(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256], *buf = NULL;
	size_t n = 0, size = 0;
	FILE *f;

	ck_assert_msg(d != NULL, "opendir %s", dir);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			ck_assert_uint_lt(n, 256);
			names[n++] = strdup(de->d_name);
		}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	f = open_memstream(&buf, &size);
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s\n", names[i]);
		free(names[i]);
	}
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

bool
bf_has_line(const char *text_, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text_; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);

		if (l == len && strncmp(p, line, len) == 0)
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

long
bf_dead_pid(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return (long)pid;
}

const char *
bf_log(void)
{
	static char out[65536];
	const char *pos = h_log();
	size_t n = 0;

	while (*pos != '\0') {
		size_t len = strcspn(pos, "\n") + (pos[strcspn(pos, "\n")] == '\n');

		if (strncmp(pos, "LOG : data: ", 12) != 0 && n + len < sizeof(out)) {
			memcpy(out + n, pos, len);
			n += len;
		}
		pos += len;
	}
	out[n] = '\0';
	return out;
}
