/*
 * check_synch_output.c - unit tests for pitr-synch's arguments
 * (lib/command/synch/output.c): every -o form and its refusals, every -m
 * form and its refusals, which tablespace goes where at which output
 * (--map resolution), -c's codec names and OmniPITR's program paths; and
 * the files written at an output besides the data (config.c: the
 * tablespace_map's escaping, archive_mode off or preserved).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "command/synch/output.h"
#include "command/synch/synch_impl.h"
#include "harness.h"

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

/* ---- -o ------------------------------------------------------------------ */

struct out_case {
	const char *arg;
	enum synch_out_kind kind;
	const char *user, *host;
	int port;
	const char *path;
};

static const struct out_case good_outputs[] = {
	{ "/srv/data", SYNCH_OUT_LOCAL, NULL, NULL, 0, "/srv/data" },
	{ "/srv/data///", SYNCH_OUT_LOCAL, NULL, NULL, 0, "/srv/data" },
	{ "/a b/c:d", SYNCH_OUT_LOCAL, NULL, NULL, 0, "/a b/c:d" },
	{ "replica:/var/lib/pg", SYNCH_OUT_SSH, NULL, "replica", 0, "/var/lib/pg" },
	{ "postgres@replica:/var/lib/pg/", SYNCH_OUT_SSH, "postgres", "replica", 0, "/var/lib/pg" },
	{ "replica:2222:/pg", SYNCH_OUT_SSH, NULL, "replica", 2222, "/pg" },
	{ "pg@10.0.0.2:22:/pg", SYNCH_OUT_SSH, "pg", "10.0.0.2", 22, "/pg" },
	{ "h:/p:q", SYNCH_OUT_SSH, NULL, "h", 0, "/p:q" },
	{ "rsync://backup/mod/pg", SYNCH_OUT_RSYNCD, NULL, "backup", 0, "mod/pg" },
	{ "rsync://u@backup:8873/mod/", SYNCH_OUT_RSYNCD, "u", "backup", 8873, "mod" },
	{ "rsync://backup//mod/a/b//", SYNCH_OUT_RSYNCD, NULL, "backup", 0, "mod/a/b" },
};

START_TEST(test_output_forms)
{
	const struct out_case *c = &good_outputs[_i];
	struct synch_output o;

	ck_assert_msg(synch_output_parse(c->arg, &o) == 0, "%s refused: %s", c->arg, h_log());
	ck_assert_int_eq(o.kind, c->kind);
	ck_assert_str_eq(o.label, c->arg);
	ck_assert_pstr_eq(o.user, c->user);
	ck_assert_pstr_eq(o.host, c->host);
	ck_assert_int_eq(o.port, c->port);
	ck_assert_str_eq(o.path, c->path);
	synch_output_free(&o);
	synch_output_free(&o);   /* twice: a freed output is zeroed */
}
END_TEST

static const char *const bad_outputs[] = {
	"relative/dir", "data", "", "host:relative", "host:", ":/p", "@h:/p", "u@:/p",
	"h:0:/p", "h:65536:/p", "h:12x:/p", "h:22:rel", "/", "h:/", "/a/../b", "h:/a/..",
	"rsync://", "rsync://h", "rsync://h/", "rsync://:873/m", "rsync://h:x/m", "rsync://h/m/../x",
	/* issue 10: a "." component */
	"/a/./b", "/a/.", "h:/a/.", "h:/./a", "rsync://h/m/./x",
};

START_TEST(test_output_refused)
{
	struct synch_output o;

	h_log_reset();
	ck_assert_msg(synch_output_parse(bad_outputs[_i], &o) == -1, "\"%s\" accepted", bad_outputs[_i]);
	ck_assert_ptr_null(o.label);
	ck_assert_ptr_null(o.path);
	ck_assert_msg(strstr(h_log(), h_fmt("ERROR : invalid value \"%s\" for option \"--output\"",
					    bad_outputs[_i])) != NULL || bad_outputs[_i][0] == '/',
		      "log: %s", h_log());
	ck_assert_msg(strstr(h_log(), "--output") != NULL, "log: %s", h_log());
	/* One line. */
	ck_assert_ptr_eq(strchr(h_log(), '\n'), h_log() + strlen(h_log()) - 1);
}
END_TEST

/* ---- -m ------------------------------------------------------------------ */

START_TEST(test_map_forms)
{
	struct synch_map m;

	ck_assert_int_eq(synch_map_parse("/ts1:/x/y/z", &m), 0);
	ck_assert_str_eq(m.old, "/ts1");
	ck_assert_str_eq(m.new, "/x/y/z");
	ck_assert_ptr_null(m.host);
	synch_map_free(&m);
	ck_assert_int_eq(synch_map_parse("/ts1/:remote:/x/y/", &m), 0);
	ck_assert_str_eq(m.old, "/ts1");
	ck_assert_str_eq(m.host, "remote");
	ck_assert_ptr_null(m.user);
	ck_assert_str_eq(m.new, "/x/y");
	synch_map_free(&m);
	ck_assert_int_eq(synch_map_parse("/:pg@remote:/root/", &m), 0);
	ck_assert_str_eq(m.old, "/");
	ck_assert_str_eq(m.user, "pg");
	ck_assert_str_eq(m.host, "remote");
	ck_assert_str_eq(m.new, "/root");
	synch_map_free(&m);
	ck_assert_int_eq(synch_map_parse("/srv/ts:ts", &m), 0);
	ck_assert_str_eq(m.new, "ts");
	ck_assert_ptr_null(m.host);
	synch_map_free(&m);
	ck_assert_int_eq(synch_map_parse("/srv/ts:a/b/", &m), 0);
	ck_assert_str_eq(m.new, "a/b");
	synch_map_free(&m);
	synch_map_free(&m);
}
END_TEST

static const char *const bad_maps[] = {
	"/ts", "ts:/x", "/ts:", ":/x", "/ts:h:rel", "/ts:h:22:/x", "/ts:h:", "/a/../b:/x",
	"/ts:/a/../b", "/ts:..", "/ts:.", "/ts:./x", "/ts:@h:/x", "/ts:rsync://h/m",
	/* issue 10: a place of "/" or with a "." component */
	"/ts:/", "/ts://", "/ts:h:/", "/ts:/out/.", "/ts:/out/./x", "/ts:h:/out/.", "/a/./b:/x",
	"/ts:x/.",
};

START_TEST(test_map_refused)
{
	struct synch_map m;

	h_log_reset();
	ck_assert_msg(synch_map_parse(bad_maps[_i], &m) == -1, "\"%s\" accepted", bad_maps[_i]);
	ck_assert_ptr_null(m.old);
	ck_assert_ptr_null(m.new);
	ck_assert_str_eq(h_log(), h_fmt("ERROR : invalid value \"%s\" for option \"--map\": expected "
					"/OLD:/NEW, /OLD:NEW (beside each output's data directory) or "
					"/OLD:[USER@]HOST:/NEW\n", bad_maps[_i]));
}
END_TEST

/* ---- --map resolution ---------------------------------------------------- */

/* OmniPITR's example: tablespaces /ts1, /mnt/ssd/ts2, /var/ts3. */
static char *
where(const char *const *maps, size_t n, const char *output, const char *location, bool *used)
{
	struct synch_map m[8];
	struct synch_output o;
	char *r;

	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(synch_map_parse(maps[i], &m[i]), 0);
	ck_assert_int_eq(synch_output_parse(output, &o), 0);
	r = synch_map_resolve(m, n, &o, location);
	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < n; i++) {
		if (used != NULL)
			used[i] = m[i].used;
		synch_map_free(&m[i]);
	}
	synch_output_free(&o);
	return r;
}

#define WHERE_IS(maps, output, location, expected)                                  \
	do {                                                                         \
		char *r_ = where(maps, sizeof(maps) / sizeof(maps[0]), output, location, NULL); \
		ck_assert_str_eq(r_, expected);                                      \
		free(r_);                                                            \
	} while (0)

START_TEST(test_map_resolve)
{
	static const char *const none[1] = { "/unused:/x" };
	static const char *const one[] = { "/ts1:remote:/x/y/z" };
	static const char *const root[] = { "/:remote:/root/" };
	static const char *const mixed[] = { "/:/all", "/mnt:/mnt2", "/mnt/ssd:remote:/fast",
					     "/mnt:remote:/slow", "/var/ts3:ts3" };
	static const char *const tie[] = { "/ts1:/plain", "/ts1:remote:/host", "/ts1:/plain2" };
	static const char *const user[] = { "/ts1:pg@remote:/pg", "/ts1:other@remote:/other" };
	bool used[8];
	char *r;

	/* No map applies: the same path. */
	WHERE_IS(none, "remote:/a/b/c", "/ts1", "/ts1");
	/* OmniPITR's examples. */
	WHERE_IS(one, "remote:/a/b/c", "/ts1", "/x/y/z");
	WHERE_IS(one, "remote:/a/b/c", "/ts1/sub", "/x/y/z/sub");
	WHERE_IS(one, "remote:/a/b/c", "/ts10", "/ts10");   /* by components */
	WHERE_IS(one, "other:/a/b/c", "/ts1", "/ts1");      /* another host's map */
	WHERE_IS(one, "/a/b/c", "/ts1", "/ts1");            /* a local output has no host */
	WHERE_IS(root, "remote:/a/b/c", "/ts1", "/root/ts1");
	WHERE_IS(root, "remote:/a/b/c", "/mnt/ssd/ts2", "/root/mnt/ssd/ts2");
	WHERE_IS(root, "remote:/a/b/c", "/var/ts3", "/root/var/ts3");
	/* The longest OLD wins; a host's beats a plain one only among
	 * equals. */
	WHERE_IS(mixed, "remote:/a/data", "/mnt/ssd/ts2", "/fast/ts2");
	WHERE_IS(mixed, "remote:/a/data", "/mnt/hdd/ts4", "/slow/hdd/ts4");
	WHERE_IS(mixed, "other:/a/data", "/mnt/ssd/ts2", "/mnt2/ssd/ts2");
	WHERE_IS(mixed, "/srv/a/data", "/ts1", "/all/ts1");
	/* A relative NEW: beside each output's data directory. */
	WHERE_IS(mixed, "/srv/a/data", "/var/ts3", "/srv/a/ts3");
	WHERE_IS(mixed, "remote:2222:/b/data", "/var/ts3/x", "/b/ts3/x");
	WHERE_IS(tie, "remote:/d", "/ts1", "/host");
	WHERE_IS(tie, "/d", "/ts1", "/plain");              /* the first of equals */
	WHERE_IS(user, "pg@remote:/d", "/ts1", "/pg");
	WHERE_IS(user, "other@remote:/d", "/ts1", "/other");
	WHERE_IS(user, "remote:/d", "/ts1", "/ts1");        /* a user's map needs that user */

	/* A daemon's places stay in its module; beside a module's root there
	 * is nothing. */
	WHERE_IS(mixed, "rsync://h/mod/pg", "/var/ts3", "mod/ts3");
	WHERE_IS(mixed, "rsync://h/mod/pg", "/mnt/x", "/mnt2/x");
	{
		static const char *const rel[] = { "/ts:ts" };
		struct synch_map m;
		struct synch_output o;

		ck_assert_int_eq(synch_map_parse(rel[0], &m), 0);
		ck_assert_int_eq(synch_output_parse("rsync://h/mod", &o), 0);
		h_log_reset();
		ck_assert_ptr_null(synch_map_resolve(&m, 1, &o, "/ts"));
		ck_assert_str_eq(h_log(), "ERROR : --map \"/ts:ts\": output \"rsync://h/mod\" is a "
				 "module's root, with no directory beside it: give an absolute NEW\n");
		synch_map_free(&m);
		synch_output_free(&o);
	}

	/* Used: what applied, so a map naming no tablespace is known. */
	r = where(mixed, 5, "remote:/a/data", "/mnt/ssd/ts2", used);
	free(r);
	ck_assert(!used[0] && !used[1] && used[2] && !used[3] && !used[4]);
}
END_TEST

/* ---- -c ------------------------------------------------------------------ */

START_TEST(test_compress)
{
	static const struct {
		const char *arg;
		enum pitr_codec codec;
		int level;
	} good[] = {
		{ "gzip", PITR_CODEC_GZIP, 0 },   { "zstd:19", PITR_CODEC_ZSTD, 19 },
		{ "bzip2", PITR_CODEC_BZIP2, 0 }, { "lz4", PITR_CODEC_LZ4, 0 },
		{ "xz:0", PITR_CODEC_XZ, 0 },     { "none", PITR_CODEC_NONE, 0 },
		{ "/usr/bin/gzip", PITR_CODEC_GZIP, 0 }, { "/opt/zstd/bin/zstd", PITR_CODEC_ZSTD, 0 },
	};
	static const char *const bad[] = { "pigz", "/usr/bin/pbzip2", "gzip:", "gzip:10",
					   "zstd:0", "", "/usr/bin/none", "GZIP", "gzip:1x" };
	enum pitr_codec codec;
	int level;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(synch_parse_compress(good[i].arg, &codec, &level) == 0, "%s", good[i].arg);
		ck_assert_int_eq(codec, good[i].codec);
		ck_assert_int_eq(level, good[i].level);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h_log_reset();
		ck_assert_msg(synch_parse_compress(bad[i], &codec, &level) == -1, "\"%s\" accepted", bad[i]);
		ck_assert_msg(strstr(h_log(), "\"--compress\"") != NULL, "%s", h_log());
	}
}
END_TEST

/* ---- tablespace_map ------------------------------------------------------ */

START_TEST(test_spcmap_text)
{
	char *oids[] = { "16384", "16390" };
	char *dirs[] = { "/srv/a/ts", "/odd\\dir\nname" };
	char *t = synch_spcmap_text(oids, dirs, 2);

	ck_assert_str_eq(t, "16384 /srv/a/ts\n16390 /odd\\\\dir\\\nname\n");
	free(t);
	t = synch_spcmap_text(oids, dirs, 0);
	ck_assert_str_eq(t, "");
	free(t);
}
END_TEST

/* ---- the configuration members ------------------------------------------ */

static const char *sets[] = { "port=5499" };
static const char *archives_rel[] = { "gzip=arch" };
static const char *archives_abs[] = { "gzip=/arch" };

START_TEST(test_config_members)
{
	struct synch_opts o = { 0 };
	struct pitr_pgconn_tablespace ts[1] = { { "16384", "/srv/ts" } };
	char *dirs[1] = { "/out/ts" };
	struct synch_target t[1];
	struct synch_run run = { .o = &o, .t = t, .nt = 1, .ts = ts, .nts = 1,
				 .labelfile = "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n" };
	struct synch_member *m;
	size_t n;

	memset(t, 0, sizeof(t));
	t[0].ts_dirs = dirs;
	run.data_dir = (char *)h_dir();
	/* No postgresql.auto.conf at the source: archive_mode off alone. */
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(m[0].name, "backup_label");
	ck_assert_str_eq(m[0].text, run.labelfile);
	ck_assert_str_eq(m[1].name, "tablespace_map");
	ck_assert_str_eq(m[1].text, "16384 /out/ts\n");
	ck_assert_str_eq(m[2].name, "postgresql.auto.conf");
	ck_assert_str_eq(m[2].text, "# pitr-synch --archive-mode=off: a copy does not archive into its "
			 "source's archive (--archive-mode=preserve keeps archiving)\narchive_mode = 'off'\n");
	synch_config_free(m, n);
	/* The source's settings kept, a missing last newline added. */
	h_write_file(h_path("postgresql.auto.conf"), "work_mem = '8MB'", 16);
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m[2].text, "work_mem = '8MB'\n# pitr-synch --archive-mode=off: a copy does not "
			 "archive into its source's archive (--archive-mode=preserve keeps archiving)\n"
			 "archive_mode = 'off'\n");
	synch_config_free(m, n);
	/* preserve: the source's file as it is; no tablespace, no map. */
	o.sb.archive_mode = "preserve";
	run.nts = 0;
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(m[1].name, "postgresql.auto.conf");
	ck_assert_str_eq(m[1].text, "work_mem = '8MB'\n");
	synch_config_free(m, n);
	/* --set on a clone: after the source's settings. */
	o.sb.sets = sets;
	o.sb.nsets = 1;
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m[1].text, "work_mem = '8MB'\n"));
	ck_assert_ptr_nonnull(strstr(m[1].text, "\nport = '5499'\n"));
	ck_assert_ptr_null(strstr(m[1].text, "primary_conninfo"));
	synch_config_free(m, n);
}
END_TEST

/* --standby --primary-conninfo without --archive: standby.signal, the
 * conninfo in the recovery block, no restore_command; --warm-standby
 * without an archive refused before anything is copied. */
START_TEST(test_config_standby)
{
	struct synch_opts o = { 0 };
	struct synch_run run = { .o = &o, .labelfile = (char *)"LABEL\n" };
	struct synch_target t[1];
	struct synch_member *m;
	size_t n;

	memset(t, 0, sizeof(t));
	run.t = t;
	run.nt = 1;
	run.data_dir = (char *)h_dir();
	h_write_file(h_path("postgresql.auto.conf"), "primary_conninfo = 'old'\n", 26);
	o.sb.mode = PITR_STANDBY_STREAMING;
	o.sb.primary_conninfo = "host=new";
	ck_assert_int_eq(synch_config_check(&o), 0);
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(m[2].name, "standby.signal");
	ck_assert_str_eq(m[2].text, "");
	ck_assert_ptr_nonnull(strstr(m[1].text, "# pitr-synch: primary_conninfo = 'old'\n"));
	ck_assert_ptr_nonnull(strstr(m[1].text, "\nprimary_conninfo = 'host=new'\n"));
	ck_assert_ptr_null(strstr(m[1].text, "\nrestore_command = '/"));
	synch_config_free(m, n);
	o.sb.mode = PITR_STANDBY_WARM;
	o.sb.primary_conninfo = NULL;
	ck_assert_int_eq(synch_config_check(&o), -1);
	o.archives = archives_rel;
	o.narchives = 1;
	ck_assert_int_eq(synch_config_check(&o), -1);
	o.archives = archives_abs;
	ck_assert_int_eq(synch_config_check(&o), 0);
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m[2].name, "recovery.signal");
	ck_assert_ptr_nonnull(strstr(m[1].text, "-s gzip=/arch %f"));
	ck_assert_ptr_nonnull(strstr(m[1].text, "recovery_prefetch = 'off'"));
	synch_config_free(m, n);
}
END_TEST

/* --archive s3://...: taken as it is (not a path), a malformed one and a
 * relative CA file (restore_command runs in the copy's data dir)
 * refused; restore_command gets the --s3-* settings. */
START_TEST(test_config_s3)
{
	static const char *s3_archive[] = { "gzip=s3://pitr/wal/" };
	static const char *bad_archive[] = { "s3://B_/wal/" };
	struct synch_opts o = { 0 };
	struct synch_run run = { .o = &o, .labelfile = (char *)"LABEL\n" };
	struct synch_target t[1];
	struct synch_member *m;
	size_t n;

	memset(t, 0, sizeof(t));
	run.t = t;
	run.nt = 1;
	run.data_dir = (char *)h_dir();
	o.sb.mode = PITR_STANDBY_WARM;
	o.archives = bad_archive;
	o.narchives = 1;
	ck_assert_int_eq(synch_config_check(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : --archive"));
	o.archives = s3_archive;
	o.s3.endpoint = "https://127.0.0.1:8443";
	o.s3.retries = PITR_S3_RETRIES_DEFAULT;
	o.s3.ca_file = "ca.pem";
	ck_assert_int_eq(synch_config_check(&o), -1);
	ck_assert_ptr_nonnull(strstr(h_log(), "ERROR : --s3-ca-file \"ca.pem\" must be absolute"));
	o.s3.ca_file = "/etc/ca.pem";
	ck_assert_int_eq(synch_config_check(&o), 0);
	m = synch_config_members(&run, 0, &n);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m[1].text, "/pitr-restore --s3-endpoint=https://127.0.0.1:8443 "
			     "--s3-ca-file=/etc/ca.pem -s gzip=s3://pitr/wal/ %f \"%p\"'\n") != NULL,
		      "%s", m[1].text);
	synch_config_free(m, n);
}
END_TEST

static Suite *
synch_output_suite(void)
{
	Suite *s = suite_create("cmd_synch_output");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_output_forms, 0, sizeof(good_outputs) / sizeof(good_outputs[0]));
	tcase_add_loop_test(tc, test_output_refused, 0, sizeof(bad_outputs) / sizeof(bad_outputs[0]));
	tcase_add_test(tc, test_map_forms);
	tcase_add_loop_test(tc, test_map_refused, 0, sizeof(bad_maps) / sizeof(bad_maps[0]));
	tcase_add_test(tc, test_map_resolve);
	tcase_add_test(tc, test_compress);
	tcase_add_test(tc, test_spcmap_text);
	tcase_add_test(tc, test_config_members);
	tcase_add_test(tc, test_config_standby);
	tcase_add_test(tc, test_config_s3);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return h_run_suite(synch_output_suite());
}
