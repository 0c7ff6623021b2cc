#!/bin/bash
# backup.sh - pitr-backup-master against a real PostgreSQL 15 primary with
# pitr-archive --dst-backup as its archive_command, a tablespace and
# pgbench writing during the backup; the backup is extracted with tar,
# started, checked with pg_amcheck and must hold every row committed before
# it began.  A second backup with -dg MD5,SHA-256 to two destinations of
# different codecs: its digest files named and written as OmniPITR's
# (HOST-SHA-256-DAY.tar.gz, "HEX *NAME" lines, pitr-checksum's output),
# md5sum -c and sha256sum -c pass in each, and so does pitr-verify (on
# the earlier pitrkit form too), until a byte of a data file changes.  -dd through a real
# sshd on 127.0.0.1 next to a -dl: identical files, nothing overwritten,
# ssh's reason when the host does not answer; the dead runs' temporary
# files in a -dd dir swept (a planted one, a SIGKILLed upload's), a locked
# one kept.  Refused cases: an existing -x dir, an unreachable server, an
# unknown digest.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init backup
it_require /usr/sbin/sshd ssh ssh-keygen zstd
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
it_need_built "$PA" "$PB"
ok "pitr-backup-master runs as the postgres user" as_pg "$PB" --version

P1=$T/p1
mkdir_pg "$T/arch" "$T/state" "$T/bk" "$T/bk2" "$T/ts"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" -dl "$T/arch" -db "$T/xlogs" -s "$T/state"
ok "p1 starts" pg_start "$P1"
PORT=$(pg_port "$P1")
ok "amcheck, a tablespace and rows in it" pg_sql "$P1" "CREATE EXTENSION amcheck" \
	"CREATE TABLESPACE ts LOCATION '$T/ts'" \
	"CREATE TABLE in_ts (id int PRIMARY KEY, v text) TABLESPACE ts" \
	"INSERT INTO in_ts SELECT g, md5(g::text) FROM generate_series(1, 20000) g" \
	"CREATE TABLE before_rows AS SELECT g AS id FROM generate_series(1, 50000) g"
ok "pgbench -i -s 3 on p1" pg_bench "$P1" -i -s 3 -q
HIST_BEFORE=$(pg_sql "$P1" "SELECT count(*) FROM pgbench_history")
pg_bench "$P1" -T 15 -c 2 -j 2 >"$T/pgbench.log" 2>&1 &
BENCH=$!
sleep 2
HIST_STARTED=$(pg_sql "$P1" "SELECT count(*) FROM pgbench_history")

it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/bk" \
	-f "bk-__FILETYPE__.tar__CEXT__"
is "backup exits 0 while pgbench runs" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
unlike "the server's NOTICE does not reach stderr raw (it is logged with -v)" "$IT_ERR" "NOTICE:"
wait "$BENCH"
ok "pgbench ran without errors" grep -q 'number of transactions actually processed' "$T/pgbench.log"
is "four files in the destination" "$(cd "$T/bk" && ls | tr '\n' ' ')" \
	"bk-data.tar.gz bk-meta.tar.gz bk-sig.tar.gz bk-xlog.tar.gz "
nok "the -x dir is gone" test -e "$T/xlogs"
ok "no leftover -x dir" bash -c "! ls -d $T/xlogs* 2>/dev/null | grep -q ."
META=$(gzip -dc "$T/bk/bk-meta.tar.gz")
like "meta: start_wal" "$META" $'(^|\n)start_wal=[0-9A-F]{24}\n'
like "meta: stop_wal" "$META" $'\nstop_wal=[0-9A-F]{24}\n'
like "meta: stop_time with a numeric zone" "$META" $'\nstop_time=[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} [+-][0-9]{4}\n'
like "meta: system_identifier" "$META" \
	$'\nsystem_identifier='"$(pg_sql "$P1" 'SELECT system_identifier FROM pg_control_system()')"$'\n'
like "meta: timeline 1, codec gzip" "$META" $'\ntimeline=1\n.*\ncodec=gzip\n'
like "meta: start and stop epochs" "$META" $'\nstart_epoch=[0-9]{10}\nstop_epoch=[0-9]{10}\n'
like "meta: 1 MiB segments" "$META" $'\nwal_segment_size=1048576\n'
like "meta: no digests" "$META" $'\ndigests=\n'
like "meta: PostgreSQL 15, from a primary, last lines" "$META" $'\npg_version=15\nsource=primary\nbase=\nchain=$'
S_EPOCH=$(sed -n 's/^start_epoch=//p' <<<"$META")
S_TIME=$(sed -n 's/^start_time=//p' <<<"$META")
is "meta: start_epoch is start_time" "$S_EPOCH" "$(date -d "$S_TIME" +%s)"

R=$T/r
mkdir_pg "$R"
ok "data tarball extracts with tar" tar -xzf "$T/bk/bk-data.tar.gz" -C "$R"
ok "xlog tarball extracts with tar" tar -xzf "$T/bk/bk-xlog.tar.gz" -C "$R"
is "the data dir entry has mode 0700" "$(stat -c %a "$R/p1")" 700
ok "backup_label is in the data dir" test -s "$R/p1/backup_label"
ok "no postmaster.pid" test ! -e "$R/p1/postmaster.pid"
ok "the tablespace is under tablespaces/" test -d "$R/tablespaces$T/ts"
nok "pg_wal holds only what the xlog tarball gave" bash -c "ls $R/p1/pg_wal | grep -v -E '^([0-9A-F]{24}|archive_status)\$'"
# Point the tablespace at its extracted copy, as pitr-recover will.
sed -i "s|$T/ts\$|$R/tablespaces$T/ts|" "$R/p1/tablespace_map"
chown -R postgres:postgres "$R"
pg_set "$R/p1" "archive_mode = off"
ok "the restored cluster starts (no restore_command)" pg_start "$R/p1"
ok "pg_amcheck --all is clean" "$PGBIN/pg_amcheck" --all -h 127.0.0.1 -p "$(pg_port "$R/p1")" -U postgres
is "before_rows complete" "$(pg_sql "$R/p1" 'SELECT count(*) FROM before_rows')" 50000
is "tablespace rows complete" "$(pg_sql "$R/p1" 'SELECT count(*), sum(id) FROM in_ts')" "20000|200010000"
got=$(pg_sql "$R/p1" "SELECT count(*) FROM pgbench_history")
ok "pgbench_history holds every row committed before the backup ($HIST_STARTED <= $got)" \
	test "$got" -ge "$HIST_STARTED" -a "$got" -ge "$HIST_BEFORE"
pg_stop "$R/p1"

# Killed half way: xz (slow) so that the copy is still running when the
# signal comes, once the server holds the backup open and the data file's
# temporary file exists.
backup_open()
{
	[ "$(pg_sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND query ILIKE '%pg_backup_start%'")" -gt 0 ]
}
no_backup_open()
{
	[ "$(pg_sql "$P1" "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND query ILIKE '%pg_backup_start%') + (SELECT count(*) FROM pg_stat_progress_basebackup)")" = 0 ]
}
for sig in TERM INT KILL; do
	K=$T/kill-$sig
	mkdir_pg "$K"
	codec=xz
	[ "$sig" = KILL ] && codec=gzip:9  # the re-run uses gzip:1: quicker than xz
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "$codec=$K" \
		-f "k-__FILETYPE__.tar__CEXT__" --pid-file "$T/kill.pid" >"$K.log" 2>&1 &
	job=$!
	wait_for "SIG$sig: the backup is open and copying" 30 \
		bash -c "ls -A '$K' | grep -q '^\.pitr-tmp\.k-data\.tar\.[gx]z\.' && test -s '$T/kill.pid'"
	wait_for "SIG$sig: the server holds the backup open" 30 backup_open
	victim=$(cat "$T/kill.pid")
	ok "SIG$sig: the backup still runs (pid $victim)" kill -0 "$victim"
	kill -"$sig" "$victim"
	rc=0
	wait "$job" || rc=$?
	if [ "$sig" = KILL ]; then
		nok "SIGKILL: exit status not 0" test "$rc" -eq 0
		is "SIGKILL: only temporary files and the run's journal in the destination" \
			"$(find "$K" -mindepth 1 ! -name '.pitr-tmp.k-data.tar.gz.??????' \
				! -name '.pitr-journal.??????' -printf '%f\n')" ""
		is "SIGKILL: one journal (naming the run's files: only those are orphans)" \
			"$(find "$K" -mindepth 1 -name '.pitr-journal.??????' | wc -l)" 1
		is "SIGKILL: the -x dir names its dead owner" "$(cat "$T/xlogs/.pitr-backup.pid")" "$victim"
	else
		is "SIG$sig: exit 1" "$rc" 1
		like "SIG$sig: one clear line" "$(cat "$K.log")" "ERROR : interrupted by SIG$sig: backup abandoned"
		is "SIG$sig: one error line" "$(grep -c ' : ERROR : ' "$K.log")" 1
		is "SIG$sig: nothing left in the destination" "$(ls -A "$K")" ""
		nok "SIG$sig: the -x dir is removed" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
		nok "SIG$sig: the pid file is removed" test -e "$T/kill.pid"
	fi
	# The server ends the dead client's session only when it notices the
	# closed connection, a moment after the client is gone; a backup left
	# open stays open.
	wait_for "SIG$sig: no backup left open on the server" 30 no_backup_open
done
# The re-run after SIGKILL takes the dead run's -x dir over and clears its
# temporary file, and every other one no live run holds locked (a killed
# pitr-archive's, another codec's).
as_pg touch "$K/.pitr-tmp.000000010000000000000001.AbCdEf" "$K/.pitr-tmp.k-data.tar.xz.AbCdEf"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip:1=$K" \
	-f "k-__FILETYPE__.tar__CEXT__" --pid-file "$T/kill.pid"
is "re-run after SIGKILL: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "re-run: takes the dead run's -x dir over" "$IT_ERR" \
	"LOG : --xlogs dir \"$T/xlogs\" was left by backup process $victim, which is gone: taking it over"
like "re-run: removes the killed runs' temporary files" "$IT_ERR" \
	"LOG : removed 3 temporary files left by interrupted runs in \"$K\""
is "re-run: the backup and no temporary file" "$(ls -A "$K" | tr '\n' ' ')" \
	"k-data.tar.gz k-meta.tar.gz k-sig.tar.gz k-xlog.tar.gz "
ok "re-run: the xlog tarball is whole" tar -tzf "$K/k-xlog.tar.gz"
nok "re-run: no -x dir left" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."

# Another run's -x dir, at a path the server's archive_command does not copy
# into (its -db "$T/xlogs" could put a segment in it while this runs).
# Its owner file is locked, as a live backup holds it (flock(1) stands in).
mkdir_pg "$T/xlogs-busy"
as_pg bash -c "echo 4242 >'$T/xlogs-busy/.pitr-backup.pid'"
flock "$T/xlogs-busy/.pitr-backup.pid" sleep 120 &
HOLDER=$!
wait_for "the owner file is locked" 10 bash -c "! flock -n '$T/xlogs-busy/.pitr-backup.pid' true"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs-busy" -dl "$T/bk2"
is "an existing -x dir: exit 1" "$IT_RC" 1
like "an existing -x dir: one clear line" "$IT_ERR" \
	"ERROR : --xlogs dir \"$T/xlogs-busy\" already exists: backup process 4242 is running"
is "an existing -x dir: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "an existing -x dir: nothing delivered" "$(ls -A "$T/bk2")" ""
ok "the existing -x dir is left alone" test -f "$T/xlogs-busy/.pitr-backup.pid"
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null
rm -r "$T/xlogs-busy"

DEAD=$(free_port)
it_run as_pg "$PB" -h 127.0.0.1 -p "$DEAD" -U postgres -x "$T/xlogs" -dl "$T/bk2"
is "an unreachable server: exit 1" "$IT_RC" 1
like "an unreachable server: the reason" "$IT_ERR" \
	"ERROR : could not connect to PostgreSQL: connection to server at \"127.0.0.1\", port $DEAD failed: Connection refused"
is "an unreachable server: nothing at a final name" "$(ls -A "$T/bk2")" ""
nok "an unreachable server: no -x dir" test -e "$T/xlogs"

mkdir_pg "$T/notpg"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -D "$T/notpg" -x "$T/xlogs" -dl "$T/bk2"
is "a wrong data dir: exit 1" "$IT_RC" 1
is "a wrong data dir: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
like "a wrong data dir: the line names it" "$IT_ERR" "ERROR : .*$T/notpg"
is "a wrong data dir: nothing at a final name" "$(ls -A "$T/bk2")" ""
nok "a wrong data dir: no -x dir" test -e "$T/xlogs"

mkdir -p "$T/ro" && chmod 555 "$T/ro"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "$T/ro" -dl "$T/bk2"
is "an unwritable destination: exit 1" "$IT_RC" 1
like "an unwritable destination: the line names it" "$IT_ERR" "ERROR : .*$T/ro.*Permission denied"
is "an unwritable destination: nothing in it" "$(ls -A "$T/ro")" ""
nok "an unwritable destination: no meta at a final name in the other one" \
	bash -c "ls '$T/bk2' | grep -q meta"
nok "an unwritable destination: no -x dir left" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
rm -rf "$T/bk2" && mkdir_pg "$T/bk2"

mkdir_pg "$T/dg-gz" "$T/dg-zst"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/dg-gz" \
	-dl "zstd=$T/dg-zst" -dg MD5,SHA-256 -f "dg-__FILETYPE__.tar__CEXT__"
is "-dg MD5,SHA-256: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
# Digest files named as OmniPITR named them: the template with the
# digest's name and the codec's extension (plain text all the same).
is "-dg: six files in the gzip destination" "$(cd "$T/dg-gz" && ls | tr '\n' ' ')" \
	"dg-MD5.tar.gz dg-SHA-256.tar.gz dg-data.tar.gz dg-meta.tar.gz dg-sig.tar.gz dg-xlog.tar.gz "
is "-dg: six files in the zstd destination" "$(cd "$T/dg-zst" && ls | tr '\n' ' ')" \
	"dg-MD5.tar.zst dg-SHA-256.tar.zst dg-data.tar.zst dg-meta.tar.zst dg-sig.tar.zst dg-xlog.tar.zst "
PCS=$PITR_BUILDDIR/bin/pitr-checksum
for d in dg-gz dg-zst; do
	ext=${d#dg-}
	ok "$d: md5sum -c passes" bash -c "cd '$T/$d' && md5sum -c --strict dg-MD5.tar.$ext"
	ok "$d: sha256sum -c passes" bash -c "cd '$T/$d' && sha256sum -c --strict dg-SHA-256.tar.$ext"
	is "$d: the MD5 file lists the data, xlog and sig files" \
		"$(cut -c33- "$T/$d/dg-MD5.tar.$ext" | tr '\n' ' ')" \
		" *dg-data.tar.$ext  *dg-xlog.tar.$ext  *dg-sig.tar.$ext "
	# OmniPITR's lines (omnipitr-checksum's "%s *%s\n"): sha256sum -b's.
	is "$d: the SHA-256 file holds the stored bytes' digests, OmniPITR's lines" \
		"$(cat "$T/$d/dg-SHA-256.tar.$ext")" \
		"$(cd "$T/$d" && sha256sum -b "dg-data.tar.$ext" "dg-xlog.tar.$ext" "dg-sig.tar.$ext")"
	# pitr-checksum on the data tarball prints the digest file's line.
	for alg in MD5 SHA-256; do
		is "$d: pitr-checksum -d $alg of the data tarball is the $alg file's line" \
			"$("$PCS" -d "$alg" -f "dg-data.tar.$ext" <"$T/$d/dg-data.tar.$ext")" \
			"$(head -n 1 "$T/$d/dg-$alg.tar.$ext")"
	done
done
META=$(gzip -dc "$T/dg-gz/dg-meta.tar.gz")
like "-dg meta: the digests" "$META" $'\ndigests=MD5,SHA-256\n'
like "-dg meta: epochs and segment size" "$META" \
	$'\nstart_epoch=[0-9]+\nstop_epoch=[0-9]+\n.*\nwal_segment_size=1048576\n'
like "-dg meta: both codecs" "$META" $'\ncodec=gzip,zstd\n'
is "-dg meta: the same in the zstd destination" "$(zstd -dc "$T/dg-zst/dg-meta.tar.zst")" "$META"
ok "-dg: the xlog tarball is whole" tar -tzf "$T/dg-gz/dg-xlog.tar.gz"
PV=$PITR_BUILDDIR/bin/pitr-verify
for d in dg-gz dg-zst; do
	it_run "$PV" -b "$T/$d" -a "$T/arch"
	is "pitr-verify -b $d: exit 0" "$IT_RC" 0
	like "pitr-verify -b $d: one backup, no problem" "$IT_OUT" '^1 backups, [0-9]+ segments checked, 0 problems$'
done
# A backup pitrkit took before it named digest files as OmniPITR did: no
# codec extension, "HEX  NAME" lines; still verified.
cp -a "$T/dg-gz" "$T/dg-old"
for alg in MD5 SHA-256; do
	sed 's/ \*/  /' "$T/dg-old/dg-$alg.tar.gz" >"$T/dg-old/dg-$alg.tar"
	rm "$T/dg-old/dg-$alg.tar.gz"
done
it_run "$PV" -b "$T/dg-old" -a "$T/arch"
is "pitr-verify, digest files of the earlier form: exit 0" "$IT_RC" 0
like "pitr-verify, digest files of the earlier form: no problem" "$IT_OUT" '^1 backups, [0-9]+ segments checked, 0 problems$'
rm -rf "$T/dg-old"
printf 'X' | dd of="$T/dg-zst/dg-data.tar.zst" bs=1 seek=200 conv=notrunc 2>/dev/null
it_run "$PV" -b "$T/dg-zst" -a "$T/arch"
is "a damaged data file: pitr-verify exit 1" "$IT_RC" 1
like "a damaged data file: MD5 and SHA-256 named" "$IT_OUT" \
	"^PROBLEM: backup file \"$T/dg-zst/dg-data.tar.zst\": MD5 is [0-9a-f]{32}, its digest file says [0-9a-f]{32}
PROBLEM: backup file \"$T/dg-zst/dg-data.tar.zst\": SHA-256 is [0-9a-f]{64}, its digest file says [0-9a-f]{64}
1 backups, [0-9]+ segments checked, 2 problems\$"

mkdir_pg "$T/dg-bad"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/dg-bad" \
	-dg MD5,SHA-3
is "-dg with an unknown name: exit 1" "$IT_RC" 1
like "-dg with an unknown name: the name" "$IT_ERR" \
	'ERROR : unknown digest "SHA-3" in --digest "MD5,SHA-3": expected MD5, SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512'
is "-dg with an unknown name: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "-dg with an unknown name: nothing at a final name" "$(ls -A "$T/dg-bad")" ""
nok "-dg with an unknown name: no -x dir" test -e "$T/xlogs"
# -sx: no xlog tarball, no -x dir; pitr-recover takes the WAL from the
# archive.
pg_sql "$P1" "CREATE TABLE sx_rows AS SELECT g AS id FROM generate_series(1, 1234) g" >/dev/null
mkdir_pg "$T/sx"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -sx -dl "gzip=$T/sx" -f "sx-__FILETYPE__.tar__CEXT__"
is "-sx: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "-sx: data, meta and sig only" "$(cd "$T/sx" && ls | tr '\n' ' ')" \
	"sx-data.tar.gz sx-meta.tar.gz sx-sig.tar.gz "
nok "-sx: no -x dir made" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
like "-sx meta: xlog_size=0" "$(gzip -dc "$T/sx/sx-meta.tar.gz")" $'\nxlog_size=0\n'
mkdir_pg "$T/rsx"
RSXPORT=$(pg_adopt "$T/rsx/r")
it_run as_pg "$PITR_BUILDDIR/bin/pitr-recover" -b "$T/sx" -a "$T/arch" -D "$T/rsx/r" \
	--tablespace-map "$T/ts=$T/rsx/ts" --start --port "$RSXPORT" --target-action promote \
	--pitr-restore "$PITR_BUILDDIR/bin/pitr-restore"
is "-sx backup: pitr-recover with the archive exits 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_OUT" "$IT_ERR"
is "-sx backup: the rows committed before it" "$(pg_sql "$T/rsx/r" "SELECT count(*) FROM sx_rows")" 1234
is "-sx backup: tablespace rows" "$(pg_sql "$T/rsx/r" "SELECT count(*) FROM in_ts")" 20000
pg_stop "$T/rsx/r" >/dev/null 2>&1

# Incremental backups (issue 13), with the time in -f: --incremental-from
# latest in an empty dir warns and takes a full backup; then a table
# changed, one made and one dropped, and an incremental on it: its meta
# names the base, its data tarball holds the changed table's chunks only
# (.pitrkit/ members) and is a fraction of the full one, its sig file's
# manifest says what it stored, the digest files list the sig file.
INCF='inc-__FILETYPE__-^H^M^S.tar__CEXT__'
mkdir_pg "$T/inc"
pg_sql "$P1" "CREATE TABLE inc_dropped AS SELECT g AS id FROM generate_series(1, 100) g" \
	"VACUUM" "CHECKPOINT" >/dev/null
DROPPED=$(pg_sql "$P1" "SELECT pg_relation_filepath('inc_dropped')")
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/inc" \
	-dg SHA-256 -f "$INCF" --incremental-from latest
is "incremental from latest, no backup yet: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "no backup yet: the warning" "$IT_ERR" \
	"LOG : WARNING: no backup of this cluster with a sig file in the --dst-local dirs: taking a full backup"
FULL_META=$(ls "$T/inc"/inc-meta-*.tar.gz)
FULL_LABEL=$(gzip -dc "$FULL_META" | sed -n 's/^label=//p')
# The label as a regular expression: it holds a "+".
FULL_RE=$(sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$FULL_LABEL")
FULL_START=$(gzip -dc "$FULL_META" | sed -n 's/^start_epoch=//p')
like "no backup yet: a full backup (no base, no chain)" "$(gzip -dc "$FULL_META")" $'\nbase=\nchain=$'
FULL_SIG=${FULL_META/-meta-/-sig-}
ok "full: a sig file" test -s "$FULL_SIG"
MANIFEST=$(tar -xzOf "$FULL_SIG" manifest)
like "full: its manifest names it, no base" "$MANIFEST" \
	$'^format=2\nsystem_identifier=[0-9]+\nlabel='"$FULL_RE"$'\nbase=\nblock=8192\nchunk=1048576\n\n'
like "full: a table's file stored whole" "$MANIFEST" $'\nwhole [0-9]+ data/'"$DROPPED"$'\n'
like "full: backup_label and pg_control whole" "$MANIFEST" \
	$'\nwhole [0-9]+ data/global/pg_control\n(.*\n)?whole [0-9]+ data/backup_label'
nok "full: only whole files" grep -qvE '^(whole [0-9]+ .+|[a-z_]+=.*|)$' <<<"$MANIFEST"
CHANGED=$(pg_sql "$P1" "SELECT pg_relation_filepath('before_rows')")
pg_sql "$P1" "UPDATE before_rows SET id = id WHERE id <= 500" "DROP TABLE inc_dropped" \
	"CREATE TABLE inc_new AS SELECT g AS id FROM generate_series(1, 1000) g" >/dev/null
NEW=$(pg_sql "$P1" "SELECT pg_relation_filepath('inc_new')")
# Another second for the incremental's names.
wait_for "a second after the full backup's start" 5 bash -c "[ \$(date +%s) -gt $FULL_START ]"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/inc" \
	-dg SHA-256 -f "$INCF" --incremental-from latest
is "incremental: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "incremental: it names its base" "$IT_ERR" "LOG : incremental backup on \"$FULL_RE\" in \"$T/inc\""
INC_META=$(ls "$T/inc"/inc-meta-*.tar.gz | grep -vxF "$FULL_META")
like "incremental meta: base and chain are the full backup" "$(gzip -dc "$INC_META")" \
	$'\nbase='"$FULL_RE"$'\nchain='"$FULL_RE"'$'
INC_SIG=${INC_META/-meta-/-sig-}
INC_DATA=${INC_META/-meta-/-data-}
ok "incremental: a sig file" test -s "$INC_SIG"
MANIFEST=$(tar -xzOf "$INC_SIG" manifest)
like "incremental manifest: the base" "$MANIFEST" $'\nbase='"$FULL_RE"$'\n'
like "incremental manifest: the changed table as chunks" "$MANIFEST" $'\ndelta [0-9]+ data/'"$CHANGED"$'\n'
like "incremental manifest: the new table whole" "$MANIFEST" $'\nwhole [0-9]+ data/'"$NEW"$'\n'
like "incremental manifest: the dropped table removed" "$MANIFEST" $'\nremoved 0 data/'"$DROPPED"$'(\n|$)'
like "incremental manifest: pg_control whole" "$MANIFEST" $'\nwhole [0-9]+ data/global/pg_control\n'
like "incremental manifest: unchanged files same" "$MANIFEST" $'\nsame [0-9]+ data/PG_VERSION\n'
MEMBERS=$(tar -tzf "$INC_DATA")
like "incremental data: the changed table's first chunk, as a delta or whole" "$MEMBERS" \
	$'(^|\n)\\.pitrkit/data/'"$CHANGED"$'/0\\.[dw]\n'
nok "incremental data: the changed table not whole" grep -qxF "p1/$CHANGED" <<<"$MEMBERS"
ok "incremental data: the new table whole" grep -qxF "p1/$NEW" <<<"$MEMBERS"
ok "incremental data: backup_label" grep -qxF "p1/backup_label" <<<"$MEMBERS"
FULL_SIZE=$(stat -c %s "${FULL_META/-meta-/-data-}")
INC_SIZE=$(stat -c %s "$INC_DATA")
ok "incremental data: under a quarter of the full one ($INC_SIZE of $FULL_SIZE bytes)" \
	test $((INC_SIZE * 4)) -lt "$FULL_SIZE"
INC_DG=${INC_META/-meta-/-SHA-256-}
is "incremental: the digest file lists data, xlog and sig" "$(cut -c66- "$INC_DG" | tr '\n' ' ')" \
	"*$(basename "$INC_DATA") *$(basename "${INC_META/-meta-/-xlog-}") *$(basename "$INC_SIG") "
ok "incremental: sha256sum -c passes" bash -c "cd '$T/inc' && sha256sum -c --strict '$(basename "$INC_DG")'"
INC_START=$(gzip -dc "$INC_META" | sed -n 's/^start_epoch=//p')
wait_for "a second after the incremental's start" 5 bash -c "[ \$(date +%s) -gt $INC_START ]"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/inc" \
	-f "$INCF" --incremental-from "no such backup"
is "a base not found: exit 1" "$IT_RC" 1
is "a base not found: one line" "$(grep ' : ERROR : ' <<<"$IT_ERR" | sed 's/.* : ERROR : //')" \
	'base backup "no such backup" not found in the --dst-local dirs'
is "a base not found: nothing new" "$(ls "$T/inc" | wc -l)" 10

# The seed's A.1.5 command line (paths aside): no -h/-p (libpq's PG*
# variables), -D with a trailing slash, a ^a log template, -t, --pid-file.
mkdir_pg "$T/a15" "$T/a15log" "$T/a15dst" "$T/a15tmp"
it_run as_pg env PGHOST="$T/sock" PGPORT="$PORT" "$PB" \
	-U postgres \
	-D "$P1/" \
	-l "$T/a15log/^a.log" \
	-x "$T/xlogs" \
	-dl "gzip=$T/a15dst" \
	-t "$T/a15tmp/" \
	--pid-file "$T/a15/omnipitr-backup-master.pid" \
	-v
is "A.1.5 command line: exit 0" "$IT_RC" 0
A15LOG=$T/a15log/$(date +%a).log
[ "$IT_RC" -eq 0 ] || diag "$(cat "$A15LOG" 2>/dev/null)"
H=$(hostname)
D=$(date +%Y-%m-%d)
is "A.1.5: the default names" "$(cd "$T/a15dst" && ls | tr '\n' ' ')" \
	"$H-data-$D.tar.gz $H-meta-$D.tar.gz $H-sig-$D.tar.gz $H-xlog-$D.tar.gz "
like "A.1.5: -v logs the deliveries to the ^a log" "$(cat "$A15LOG")" "delivered \"$H-meta-$D.tar.gz\""
nok "A.1.5: the pid file is gone" test -e "$T/a15/omnipitr-backup-master.pid"
ok "A.1.5: the data tarball is whole" tar -tzf "$T/a15dst/$H-data-$D.tar.gz"

# -dd: a real sshd on 127.0.0.1 (a host key and a client key made here),
# logged in to as postgres through an ssh wrapper with its own client
# config.  UsePAM yes: Debian's postgres account is locked ("!" password),
# which sshd refuses without PAM even for a key.
sshd_start || it_bail "sshd did not start"
S=$SSHD_DIR
DD_DEAD=$SSHD_DEAD_PORT
mkdir_pg "$T/dd-remote" "$T/dd-local"
ok "ssh logs in as postgres with the test key" as_pg "$S/ssh" -o BatchMode=yes 127.0.0.1 true

# -rcp: OmniPITR's remote cat, here one that counts its runs.
mkdir_pg "$T/rcp"
printf '#!/bin/sh\necho run >>%q\nexec cat\n' "$T/rcp/runs" >"$T/rcp/cat"
chmod 755 "$T/rcp/cat"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh" \
	-dd "gzip=127.0.0.1:$T/dd-remote" -dl "gzip=$T/dd-local" -dg SHA-256 \
	-f "dd-__FILETYPE__.tar__CEXT__" -rcp "$T/rcp/cat" -v
is "-dd and -dl: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "-rcp: the remote cat wrote each of the five files" "$(count_lines "$(cat "$T/rcp/runs" 2>/dev/null)")" 5
is "-dd: the backup at the remote path, no temporary file" "$(ls -A "$T/dd-remote" | tr '\n' ' ')" \
	"dd-SHA-256.tar.gz dd-data.tar.gz dd-meta.tar.gz dd-sig.tar.gz dd-xlog.tar.gz "
is "-dl: the same names" "$(ls -A "$T/dd-local" | tr '\n' ' ')" \
	"dd-SHA-256.tar.gz dd-data.tar.gz dd-meta.tar.gz dd-sig.tar.gz dd-xlog.tar.gz "
for f in dd-SHA-256.tar.gz dd-data.tar.gz dd-meta.tar.gz dd-sig.tar.gz dd-xlog.tar.gz; do
	ok "-dd: $f identical to the -dl copy" cmp "$T/dd-remote/$f" "$T/dd-local/$f"
done
is "-dd: files are postgres's, mode 0600" "$(stat -c '%U %a' "$T/dd-remote"/* | sort -u)" "postgres 600"
ok "-dd: sha256sum -c passes at the remote path" bash -c "cd '$T/dd-remote' && sha256sum -c --strict dd-SHA-256.tar.gz"
like "-dd: -v logs the delivery" "$IT_ERR" "delivered \"dd-meta.tar.gz\" to 127.0.0.1:$T/dd-remote"
like "-dd meta: gzip" "$(gzip -dc "$T/dd-remote/dd-meta.tar.gz")" $'\ncodec=gzip\n'
mkdir_pg "$T/dd-x"
ok "-dd: the data tarball extracts" tar -xzf "$T/dd-remote/dd-data.tar.gz" -C "$T/dd-x"
ok "-dd: the xlog tarball extracts" tar -xzf "$T/dd-remote/dd-xlog.tar.gz" -C "$T/dd-x"
ok "-dd: backup_label and WAL extracted" bash -c "test -s '$T/dd-x/p1/backup_label' && ls '$T/dd-x/p1/pg_wal' | grep -qE '^[0-9A-F]{24}\$'"

# The same names again: the remote data file differs, so it is not
# overwritten, the later files are not published there, and the run's
# remote temporary files are removed.
mkdir_pg "$T/dd-local2"
BEFORE=$(cd "$T/dd-remote" && sha256sum ./*)
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh" \
	-dd "gzip=127.0.0.1:$T/dd-remote" -dl "gzip=$T/dd-local2" -dg SHA-256 \
	-f "dd-__FILETYPE__.tar__CEXT__"
is "-dd onto an existing backup: exit 1" "$IT_RC" 1
like "-dd onto an existing backup: the reason" "$IT_ERR" \
	"ERROR : \"dd-data.tar.gz\" already exists at direct destination \"127.0.0.1:$T/dd-remote\" with different content: not overwritten"
is "-dd onto an existing backup: the remote files untouched, no temporary file" \
	"$(cd "$T/dd-remote" && ls -A | tr '\n' ' '; sha256sum ./*)" \
	"dd-SHA-256.tar.gz dd-data.tar.gz dd-meta.tar.gz dd-sig.tar.gz dd-xlog.tar.gz $BEFORE"

# SIGTERM, SIGQUIT and SIGHUP while the data file streams through ssh (xz:
# slow enough): exit 1, one line naming the signal, and the remote
# temporary file removed.
for sig in TERM QUIT HUP; do
	mkdir_pg "$T/dd-term"
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh" \
		-dd "xz=127.0.0.1:$T/dd-term" -f "dd-__FILETYPE__.tar__CEXT__" --pid-file "$T/dd.pid" \
		>"$T/dd-term.log" 2>&1 &
	job=$!
	wait_for "-dd SIG$sig: the remote temporary file is being written" 30 \
		bash -c "ls -A '$T/dd-term' | grep -q '^\.pitr-tmp\.dd-data\.tar\.xz\.' && test -s '$T/dd.pid'"
	kill -"$sig" "$(cat "$T/dd.pid")"
	rc=0
	wait "$job" || rc=$?
	is "-dd SIG$sig: exit 1" "$rc" 1
	is "-dd SIG$sig: one error line" "$(grep -c ' : ERROR : ' "$T/dd-term.log")" 1
	like "-dd SIG$sig: it names the signal" "$(cat "$T/dd-term.log")" \
		"ERROR : interrupted by SIG$sig: backup abandoned"
	is "-dd SIG$sig: nothing left at the remote path" "$(ls -A "$T/dd-term")" ""
	nok "-dd SIG$sig: no -x dir" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
	rm -r "$T/dd-term"
done

# The sweep of a -dd dir: a planted temporary file nobody holds locked and
# unchanged for two hours (a dead run's) is removed by the next backup
# there; one held locked (a live writer's: a process of the test holding
# an flock on it) is not, nor a young unlocked one (a writer's between its
# upload and its publish: the sweep waits an hour, issue 9).
mkdir_pg "$T/dd-sweep"
as_pg bash -c "printf part >'$T/dd-sweep/.pitr-tmp.dead.tar.gz.AAAAAAAA'; printf part >'$T/dd-sweep/.pitr-tmp.live.tar.gz.BBBBBBBB'; printf part >'$T/dd-sweep/.pitr-tmp.young.tar.gz.CCCCCCCC'"
touch -d '2 hours ago' "$T/dd-sweep/.pitr-tmp.dead.tar.gz.AAAAAAAA" "$T/dd-sweep/.pitr-tmp.live.tar.gz.BBBBBBBB"
bash -c 'exec 9<"$1" && flock 9 && exec sleep 120' _ "$T/dd-sweep/.pitr-tmp.live.tar.gz.BBBBBBBB" &
HOLDER=$!
wait_for "-dd sweep: the test holds the live one locked" 10 \
	bash -c "! flock -n '$T/dd-sweep/.pitr-tmp.live.tar.gz.BBBBBBBB' true"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh" \
	-dd "gzip=127.0.0.1:$T/dd-sweep" -f "dd-__FILETYPE__.tar__CEXT__" -v
is "-dd sweep: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "-dd sweep: one line says how many" "$IT_ERR" \
	"LOG : removed 1 temporary file left by interrupted runs at direct destination \"127.0.0.1:$T/dd-sweep\""
like "-dd sweep: -v names it" "$IT_ERR" \
	"removed \"$T/dd-sweep/.pitr-tmp.dead.tar.gz.AAAAAAAA\" at 127.0.0.1, left by an interrupted run"
is "-dd sweep: the dead one gone, the locked and the young ones kept, the backup there" \
	"$(LC_ALL=C ls -A "$T/dd-sweep" | tr '\n' ' ')" \
	".pitr-tmp.live.tar.gz.BBBBBBBB .pitr-tmp.young.tar.gz.CCCCCCCC dd-data.tar.gz dd-meta.tar.gz dd-sig.tar.gz dd-xlog.tar.gz "
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true

# SIGKILL while the data file streams through ssh: the remote cat gets an
# end of input and exits, leaving a short temporary file nothing
# publishes; once its writer is gone nobody holds it, and the next run with
# the same command line removes it and succeeds.
mkdir_pg "$T/dd-kill"
DD_KILL=(as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh"
	-dd "xz=127.0.0.1:$T/dd-kill" -f "dd-__FILETYPE__.tar__CEXT__" --pid-file "$T/dd-kill.pid")
"${DD_KILL[@]}" >"$T/dd-kill.log" 2>&1 &
job=$!
wait_for "-dd SIGKILL: the remote temporary file is being written" 30 \
	bash -c "ls -A '$T/dd-kill' | grep -q '^\.pitr-tmp\.dd-data\.tar\.xz\.' && test -s '$T/dd-kill.pid'"
TMPF=$(find "$T/dd-kill" -maxdepth 1 -name '.pitr-tmp.dd-data.tar.xz.*')
ok "-dd SIGKILL: the remote writer holds it locked" bash -c "! flock -n '$TMPF' true"
kill -KILL "$(cat "$T/dd-kill.pid")"
wait "$job" 2>/dev/null || true
wait_for "-dd SIGKILL: the remote writer ends, its lock with it" 30 flock -n "$TMPF" true
ok "-dd SIGKILL: the short temporary file stays, nothing at a final name" \
	bash -c "[ \"\$(ls -A '$T/dd-kill')\" = '$(basename "$TMPF")' ]"
# The remote sweep waits an hour before judging an unlocked file.
touch -d '2 hours ago' "$TMPF"
it_run "${DD_KILL[@]}" -v
is "-dd after SIGKILL: the same command line succeeds" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "-dd after SIGKILL: the killed run's temporary file removed" "$IT_ERR" \
	"removed \"$TMPF\" at 127.0.0.1, left by an interrupted run"
is "-dd after SIGKILL: only the backup at the remote path" "$(ls -A "$T/dd-kill" | tr '\n' ' ')" \
	"dd-data.tar.xz dd-meta.tar.xz dd-sig.tar.xz dd-xlog.tar.xz "
ok "-dd after SIGKILL: the data tarball is whole" xz -t "$T/dd-kill/dd-data.tar.xz"

# An ssh host that does not answer (a closed port).
mkdir_pg "$T/dd-dead" "$T/dd-local3"
it_run as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -ssh "$S/ssh" \
	-dd "gzip=dead:$T/dd-dead" -dl "gzip=$T/dd-local3" -f "dd-__FILETYPE__.tar__CEXT__"
is "-dd to a closed port: exit 1" "$IT_RC" 1
like "-dd to a closed port: the destination and ssh's reason" "$IT_ERR" \
	"ERROR : could not deliver \"dd-data.tar.gz\" to direct destination \"dead:$T/dd-dead\": ssh exit status 255: ssh: connect to host 127.0.0.1 port $DD_DEAD: Connection refused"
is "-dd to a closed port: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "-dd to a closed port: nothing at the -dl destination" "$(ls -A "$T/dd-local3")" ""
is "-dd to a closed port: nothing at the remote path" "$(ls -A "$T/dd-dead")" ""
nok "-dd to a closed port: no -x dir" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
sshd_stop
ok "sshd stopped" bash -c "! kill -0 \$(cat '$S/sshd.pid' 2>/dev/null) 2>/dev/null"

# no_backup_session: no other client session of p1 last ran pg_backup_start
# or pg_backup_stop.
no_backup_session()
{
	local n
	n=$(pg_sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND query LIKE '%pg_backup_st%'")
	[ "$n" = 0 ] || { echo "$n backup sessions"; return 1; }
}
# The last runs failed or were killed: their backends go away a moment
# after the client, when the server notices; a session left open stays.
wait_for "no backup left open on p1" 30 no_backup_session

it_done
