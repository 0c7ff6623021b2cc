#!/bin/bash
# backup-slave.sh - pitr-backup-slave against a warm standby built from a
# pitr-backup-master backup and following its primary through pitr-restore
# from the primary's gzip archive.  The standby's backup takes its xlog
# tarball from that archive, holds the removal pause trigger from before
# pg_backup_start until the tarball is complete, restores on its own (data
# and xlog tarballs extracted with tar, no archive), and both the standby
# and the restored copy promote and accept writes.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init backup-slave
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PS=$PITR_BUILDDIR/bin/pitr-backup-slave
PR=$PITR_BUILDDIR/bin/pitr-restore
PRC=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PS" "$PR" "$PRC"
# A standby's pitr-restore blocked on the next segment outlives its server.
it_reap pitr-restore

M=$T/m S=$T/s
mkdir_pg "$T/arch" "$T/state" "$T/mbk" "$T/sbk" "$T/sbk2" "$T/sbk3" "$T/base" "$T/r"
ok "initdb m (1 MiB segments)" pg_new "$M" --wal-segsize=1
pg_archiving "$M" -dl "gzip=$T/arch" -db "$T/xlogs" -s "$T/state"
ok "m starts" pg_start "$M"
ok "rows on m" pg_sql "$M" "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 10000) g"
it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$M")" -U postgres -x "$T/xlogs" -dl "$T/mbk" \
	-f "m-__FILETYPE__.tar__CEXT__"
is "master backup: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "master backup: data extracts" tar -xf "$T/mbk/m-data.tar" -C "$T/base"
ok "master backup: xlog extracts" tar -xf "$T/mbk/m-xlog.tar" -C "$T/base"
chown -R postgres:postgres "$T/base"
ok "s: warm standby restoring from the archive (-r %r, -p, -f)" pg_standby_new "$T/base/m" "$S" warm \
	"$PR -l $T/restore.log -s gzip=$T/arch -r %r -p $T/pause -f $T/finish %f %p"
ok "s starts and becomes consistent" pg_start "$S"
ok "more rows on m, a checkpoint and a switch" pg_sql "$M" \
	"CREATE TABLE before_sb AS SELECT g AS id FROM generate_series(1, 5000) g" "CHECKPOINT" \
	"SELECT pg_switch_wal()"
wait_for "s replays them from the archive" 60 pg_has_rows "$S" before_sb 5000

# The backup of the standby, with the pause trigger watched while it runs.
# The standby stops where the last switch left it, on a segment boundary:
# the backup waits for the segment starting there, which -cm makes the
# master (OmniPITR's -h/-P/-U) write into and switch away from.
as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P "$(pg_port "$M")" -U postgres -s "gzip=$T/arch" -p "$T/pause" \
	-dl "$T/sbk" -f "s-__FILETYPE__.tar__CEXT__" -v >"$T/sb.log" 2>&1 &
job=$!
rm -f "$T/seen"
while kill -0 "$job" 2>/dev/null; do
	[ -e "$T/pause" ] && cp "$T/pause" "$T/seen" 2>/dev/null
	sleep 0.01
done
rc=0
wait "$job" || rc=$?
is "pitr-backup-slave: exit 0" "$rc" 0
[ "$rc" -eq 0 ] || diag "$(cat "$T/sb.log")"
like "-cm: the master switched WAL after the standby's backup stopped" "$(cat "$T/sb.log")" \
	'LOG : backup "[^"]*" started at .*LOG : --call-master: WAL switched on the master at [0-9A-F]+/[0-9A-F]+.*LOG : backup "[^"]*" done'
# -cm's master must be a primary: the standby named as master is refused
# before anything starts.
it_run as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P "$(pg_port "$S")" -U postgres -s "gzip=$T/arch" -dl "$T/sbk2"
is "-cm with a standby as master: exit 1" "$IT_RC" 1
like "-cm with a standby as master: the reason" "$IT_ERR" \
	'ERROR : the master --call-master connects to is in recovery'
nok "-cm with a standby as master: no backup file written" test -e "$T/sbk2/s-meta.tar"
it_run as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P 1 -U postgres -s "gzip=$T/arch" -dl "$T/sbk2"
is "-cm with an unreachable master: exit 1" "$IT_RC" 1
like "-cm with an unreachable master: one line saying it is the master" "$IT_ERR" \
	'^[^'$'\n'']* ERROR : --call-master: could not connect to PostgreSQL: [^'$'\n'']*port 1 failed'
# -cm's role must have EXECUTE on pg_switch_wal(): checked with the
# master, before the backup starts.
ok "roles on m: mon (plain), sw (may switch WAL)" pg_sql "$M" "CREATE ROLE mon LOGIN" \
	"CREATE ROLE sw LOGIN" "GRANT EXECUTE ON FUNCTION pg_switch_wal() TO sw"
it_run as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P "$(pg_port "$M")" -U mon -d postgres -s "gzip=$T/arch" -dl "$T/sbk2"
is "-cm as a role without EXECUTE on pg_switch_wal(): exit 1" "$IT_RC" 1
like "... refused in one line, before the backup starts" "$IT_ERR" \
	'^[^'$'\n'']* ERROR : --call-master: role mon may not execute pg_switch_wal\(\) on the master: GRANT [^'$'\n'']*$'
# The master's session of the check ends there; the switch, after the
# standby's backup stopped, has one of its own, and its failure leaves the
# backup whole.  The standby's checkpointer stopped holds the backup in
# pg_backup_start (it waits for a restartpoint) while the master changes.
bsstart() { [ "$(pg_sql "$S" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_backup_start%'")" = 1 ]; }
CKPT=$(pg_sql "$S" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")
kill -STOP "$CKPT"
as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P "$(pg_port "$M")" -U sw -d postgres -s "gzip=$T/arch" -dl "$T/sbk3" -f "s-__FILETYPE__.tar" >"$T/sb3.log" 2>&1 &
job=$!
wait_for "-cm: the backup reaches pg_backup_start" 60 bsstart
is "... holding no session on the master" "$(pg_sql "$M" "SELECT count(*) FROM pg_stat_activity WHERE usename = 'sw'")" 0
ok "... whose role may then no longer log in" pg_sql "$M" "ALTER ROLE sw NOLOGIN"
kill -CONT "$CKPT"
wait_for "the failed switch is a WARNING" 60 grep -q "WARNING: --call-master: no WAL switch on the master (could not connect" "$T/sb3.log"
ok "the master switches WAL on its own" pg_sql "$M" "SELECT pg_current_xact_id()" "SELECT pg_switch_wal()"
rc=0
wait "$job" || rc=$?
is "... and the backup still succeeds" "$rc" 0
[ "$rc" -eq 0 ] || diag "$(cat "$T/sb3.log")"
is "... its four files" "$(cd "$T/sbk3" && ls | tr '\n' ' ')" "s-data.tar s-meta.tar s-sig.tar s-xlog.tar "

ok "the removal pause trigger existed during the backup" test -e "$T/seen"
like "... holding the backup's pid" "$(cat "$T/seen" 2>/dev/null)" '^[0-9]+$'
nok "... and is gone after it" test -e "$T/pause"
like "-v: the trigger's creation and removal are logged" "$(cat "$T/sb.log")" \
	"created removal pause trigger \"$T/pause\".*removed removal pause trigger \"$T/pause\""
is "four files" "$(cd "$T/sbk" && ls | tr '\n' ' ')" "s-data.tar s-meta.tar s-sig.tar s-xlog.tar "
META=$(cat "$T/sbk/s-meta.tar")
like "meta: timeline 1, uncompressed" "$META" $'\ntimeline=1\n.*\ncodec=none\n'
like "meta: PostgreSQL 15, from a standby" "$META" $'\npg_version=15\nsource=standby\nbase=\nchain=$'
like "meta: the standby's system identifier is the master's" "$META" \
	$'\nsystem_identifier='"$(pg_sql "$M" 'SELECT system_identifier FROM pg_control_system()')"$'\n'
is "global/pg_control is the last file copied, before backup_label" \
	"$(tar -tf "$T/sbk/s-data.tar" | grep -v '/$' | grep -v -x -e s/backup_label -e s/tablespace_map | tail -n 1)" s/global/pg_control
like "backup_label says it was taken from a standby" "$(tar -xOf "$T/sbk/s-data.tar" s/backup_label)" \
	'BACKUP FROM: standby'

# Restored with tar alone: the archive is out of reach (restore_command
# fails), so the xlog tarball must hold every segment the backup needs.
ok "the standby's data tarball extracts" tar -xf "$T/sbk/s-data.tar" -C "$T/r"
ok "the standby's xlog tarball extracts" tar -xf "$T/sbk/s-xlog.tar" -C "$T/r"
chown -R postgres:postgres "$T/r"
pg_set "$T/r/s" "restore_command = '/bin/false'"
ok "the restored copy starts without the archive" pg_start "$T/r/s"
wait_for "the restored copy ends recovery (promotes)" 60 pg_promoted "$T/r/s"
is "restored: rows from before the standby was made" "$(pg_sql "$T/r/s" "SELECT count(*) FROM t")" 10000
is "restored: rows replayed by the standby" "$(pg_sql "$T/r/s" "SELECT count(*) FROM before_sb")" 5000
ok "restored: accepts writes" pg_sql "$T/r/s" "INSERT INTO t VALUES (0)"

# After the master's switch the standby's replay ends on a segment
# boundary, where the backup stops.  Recovery to the end of the backup
# (recovery_target = 'immediate') stops before the first record after
# it, so it reads the segment starting there: the backup's last segment,
# in its xlog tarball (issue 9).
STOP=$(sed -n 's/^stop_lsn=//p' <<<"$META")
STOP_WAL=$(sed -n 's/^stop_wal=//p' <<<"$META")
is "the standby's backup stops on a segment boundary ($STOP)" "$((16#${STOP#*/} % 1048576))" 0
is "its stop segment is the one starting there" "$STOP_WAL" \
	"$(printf '00000001%08X%08X' 0 $((16#${STOP#*/} / 1048576)))"
like "-v: the wait for it was said" "$(cat "$T/sb.log")" "waiting for WAL segment \"$STOP_WAL\" in --source archive"
ok "the xlog tarball holds it" bash -c "tar -tf '$T/sbk/s-xlog.tar' | grep -qx 's/pg_wal/$STOP_WAL'"
mkdir_pg "$T/ri"
ok "a copy to the backup's end extracts" bash -c "tar -xf '$T/sbk/s-data.tar' -C '$T/ri' && tar -xf '$T/sbk/s-xlog.tar' -C '$T/ri'"
chown -R postgres:postgres "$T/ri"
pg_set "$T/ri/s" "restore_command = '/bin/false'" "recovery_target = 'immediate'" \
	"recovery_target_action = 'promote'" "archive_mode = off"
ok "the copy to the backup's end starts without the archive" pg_start "$T/ri/s"
wait_for "it reaches the end of the backup with the xlog tarball alone, and promotes" 60 pg_promoted "$T/ri/s"
like "... stopping there" "$(cat "$(pg_logfile "$T/ri/s")")" "recovery stopping after reaching consistency"
is "... with the rows the standby replayed" "$(pg_sql "$T/ri/s" "SELECT count(*) FROM before_sb")" 5000
pg_stop "$T/ri/s"
mkdir_pg "$T/rp"
it_run as_pg "$PRC" -b "$T/sbk" -a "gzip=$T/arch" -D "$T/rp/data" --target-immediate --start \
	--port "$(pg_adopt "$T/rp/data")" --wait 120
is "pitr-recover --target-immediate from it: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "... needing WAL up to its stop segment, from the xlog tarball" "$IT_ERR" \
	"WAL needed: [0-9A-F]{24} to the backup's stop segment $STOP_WAL"
is "... the copy holds the rows" "$(pg_sql "$T/rp/data" "SELECT count(*) FROM before_sb")" 5000
pg_stop "$T/rp/data"

# The standby's backup seeds a second standby that follows the master
# through the archive.
mkdir_pg "$T/s2base"
ok "s2: the standby's backup extracts" bash -c "tar -xf '$T/sbk/s-data.tar' -C '$T/s2base' && tar -xf '$T/sbk/s-xlog.tar' -C '$T/s2base'"
chown -R postgres:postgres "$T/s2base"
rm -f "$T/s2base/s/standby.signal" "$T/s2base/s/recovery.signal"
S2=$T/s2
ok "s2: warm standby seeded from the standby's backup" pg_standby_new "$T/s2base/s" "$S2" warm \
	"$PR -l $T/restore2.log -s gzip=$T/arch -f $T/finish2 %f %p"
ok "s2 starts" pg_start "$S2"
ok "rows on m after s2 was seeded, and a switch" pg_sql "$M" \
	"CREATE TABLE after_s2 AS SELECT g AS id FROM generate_series(1, 777) g" "SELECT pg_switch_wal()"
wait_for "s2 follows the master: it replays them from the archive" 60 pg_has_rows "$S2" after_s2 777

as_pg touch "$T/finish" "$T/finish2"
wait_for "s2 promotes on its finish trigger" 60 pg_promoted "$S2"
ok "the promoted s2 accepts writes" pg_sql "$S2" "INSERT INTO after_s2 VALUES (0)"
is "the promoted s2 holds the master's rows" "$(pg_sql "$S2" "SELECT count(*) FROM t")" 10000
wait_for "the standby promotes on the finish trigger" 60 pg_promoted "$S"
ok "the promoted standby accepts writes" pg_sql "$S" "INSERT INTO before_sb VALUES (0)"
is "the promoted standby holds the rows" "$(pg_sql "$S" "SELECT count(*) FROM before_sb")" 5001

# Refusals: a primary given to the slave, a standby given to the master.
it_run as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$M")" --standby-username postgres \
	-s "gzip=$T/arch" -dl "$T/sbk"
is "slave on a primary: exit 1" "$IT_RC" 1
like "slave on a primary: the reason" "$IT_ERR" \
	'ERROR : the server is not a standby \(not in recovery\): use pitr-backup-master'
it_done
