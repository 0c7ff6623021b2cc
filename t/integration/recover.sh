#!/bin/bash
# recover.sh - pitr-recover against a real PostgreSQL 15 primary archiving
# through pitr-archive and backed up twice with pitr-backup-master (SHA-256
# digests, a tablespace): recovery to an LSN, a transaction, a restore
# point, a time and the end of the backup each yields exactly the rows
# committed before the target, with the promote, pause and shutdown
# actions; --standby follows the archive; a WAL gap and a damaged data
# tarball are refused by name with nothing written.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover
it_require python3
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state" "$T/ts"
pg_archiving_primary "$P1"
PORT=$(pg_port "$P1")

backup()
{
	sleep 1.1  # one name per second
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" -dg SHA-256 \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__"
}
rows() { pg_sql "$P1" "INSERT INTO t SELECT generate_series($1, $2)"; }
meta() { gzip -dc "$BK/$1" | sed -n "s/^$2=//p"; }
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

ok "table t in tablespace ts, rows 1..100" pg_sql "$P1" "CREATE TABLESPACE ts LOCATION '$T/ts'" \
	"CREATE TABLE t (id int) TABLESPACE ts" "INSERT INTO t SELECT generate_series(1, 100)"
ok "backup 1" backup
ok "rows 101..200" rows 101 200
LSN=$(pg_sql "$P1" "SELECT pg_current_wal_insert_lsn()")
ok "rows 201..300" rows 201 300
XID=$(pg_sql "$P1" "BEGIN" "INSERT INTO t SELECT generate_series(301, 400)" "SELECT txid_current()" "COMMIT")
like "rows 301..400 in transaction $XID" "$XID" '^[0-9]+$'
ok "rows 401..500" rows 401 500
ok "backup 2" backup
ok "rows 501..600, restore point rp1, rows 601..700" rows 501 600 &&
	pg_sql "$P1" "SELECT pg_create_restore_point('rp1')" >/dev/null && rows 601 700
ok "rows 701..800" rows 701 800
sleep 1
TIME=$(pg_sql "$P1" "SELECT clock_timestamp()")
sleep 1
ok "rows 801..900" rows 801 900
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60
mapfile -t METAS < <(cd "$BK" && ls bk-meta-*.tar.gz)
is "two backups" "${#METAS[@]}" 2
B1=${METAS[0]/meta/*}
B2=${METAS[1]/meta/*}

# recover NAME ARGS...: pitr-recover as postgres into $T/NAME/data on a
# fresh port, the tablespace remapped to $T/NAME/ts, server started.
recover()
{
	local name=$1 port
	shift
	mkdir_pg "$T/$name"
	port=$(pg_adopt "$T/$name/data")
	it_run as_pg env ${RECOVER_ENV:+"$RECOVER_ENV"} "$PR" -b "$BK" -a "gzip=$A" -D "$T/$name/data" --tablespace-map "$T/ts=$T/$name/ts" \
		--start --port "$port" --wait 120 "$@"
}
count() { pg_sql "$T/$1/data" "SELECT count(*), max(id) FROM t"; }
server_log() { cat "$T/$1/data/pitr-recover.log" 2>/dev/null; }

# --- LSN, promote -----------------------------------------------------------
# No pg_ctl on this PATH: the backup's own version in Debian's layout.
RECOVER_ENV="PATH=/usr/bin:/bin" recover r-lsn --target-lsn "$LSN" --target-action promote
is "--target-lsn: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-lsn)")"
like "--target-lsn: pg_ctl of the backup's PostgreSQL 15, found without PATH" "$IT_ERR" \
	"starting the server: /usr/lib/postgresql/15/bin/pg_ctl start"
like "--target-lsn: backup 1 chosen (the newest that ends before the LSN)" "$IT_ERR" "from backup \"$(re "$B1")\""
like "--target-lsn: the plan names the WAL needed" "$IT_ERR" "WAL needed: [0-9A-F]{24} to [0-9A-F]{24} \(the target LSN's segment\)"
like "--target-lsn: SHA-256 digests checked" "$IT_ERR" "SHA-256 digests of backup \"$(re "$B1")\" match"
like "--target-lsn: where recovery stopped" "$IT_ERR" "recovery stopped: recovery stopping after WAL location \(LSN\) \"$LSN\""
like "--target-lsn: promoted" "$IT_ERR" "the server is promoted, on timeline 2"
is "--target-lsn: rows 1..200" "$(count r-lsn)" "200|200"
ok "--target-lsn: the recovered cluster accepts writes" pg_sql "$T/r-lsn/data" "INSERT INTO t VALUES (0)"
is "--target-lsn: the tablespace is at its new place" \
	"$(readlink "$T/r-lsn/data/pg_tblspc/$(pg_sql "$T/r-lsn/data" "SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")")" \
	"$T/r-lsn/ts"
is "--target-lsn: the data dir has mode 0700" "$(stat -c %a "$T/r-lsn/data")" 700
pg_stop "$T/r-lsn/data"

# --- XID, pause (the default) -----------------------------------------------
recover r-xid --target-xid "$XID"
is "--target-xid: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-xid)")"
like "--target-xid: the oldest backup chosen" "$IT_ERR" "from backup \"$(re "$B1")\""
like "--target-xid: where recovery stopped" "$IT_ERR" "recovery stopped: recovery stopping after commit of transaction $XID, time "
like "--target-xid: paused" "$IT_ERR" "the server is paused at the target"
is "--target-xid: rows 1..400" "$(count r-xid)" "400|400"
is "--target-xid: still in recovery, paused" \
	"$(pg_sql "$T/r-xid/data" "SELECT pg_is_in_recovery(), pg_get_wal_replay_pause_state()")" "t|paused"
pg_stop "$T/r-xid/data"

# --- restore point, watched through the server log only ---------------------
RECOVER_ENV=PGUSER=no_such_role recover r-name --target-name rp1 --target-action promote
is "--target-name: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-name)")"
like "--target-name: no session (no such role), the log is watched" "$IT_ERR" \
	'LOG : cannot query the server \(.*no_such_role.*\): watching its log instead'
unlike "--target-name: no error line" "$IT_ERR" ' : ERROR : '
like "--target-name: promoted" "$IT_ERR" "the server is promoted, on timeline 2"
like "--target-name: where recovery stopped" "$IT_ERR" 'recovery stopped: recovery stopping at restore point "rp1", time '
is "--target-name: rows 1..600" "$(count r-name)" "600|600"
pg_stop "$T/r-name/data"

# --- time, from backup 2, with the default pitr-restore beside pitr-recover --
recover r-time --target-time "$TIME" --target-action promote
is "--target-time: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-time)")"
like "--target-time: backup 2 chosen (the newest that ends before the time)" "$IT_ERR" "from backup \"$(re "$B2")\""
like "--target-time: where recovery stopped" "$IT_ERR" "recovery stopped: recovery stopping before commit of transaction [0-9]+, time "
is "--target-time: rows 1..800" "$(count r-time)" "800|800"
like "--target-time: pitr-restore restored the archive's segments" "$(server_log r-time)" \
	'pitr-restore : LOG : restored "[0-9A-F]{24}"'
like "--target-time: promoted, recovery_end_command removed the recovery settings" "$(server_log r-time)" \
	"pitr-recover : LOG : recovery ended: pitr-recover's recovery settings \([0-9]+ lines\) removed"
unlike "--target-time: ... so no restore_command of pitr-recover's is left" \
	"$(cat "$T/r-time/data/postgresql.auto.conf")" "restore_command = '[^']"
pg_stop "$T/r-time/data"

# --- immediate, shutdown ----------------------------------------------------
recover r-imm --target-immediate --target-action shutdown
is "--target-immediate: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-imm)")"
like "--target-immediate: the newest backup chosen" "$IT_ERR" "from backup \"$(re "$B2")\""
like "--target-immediate: where recovery stopped" "$IT_ERR" "recovery stopped: recovery stopping after reaching consistency"
like "--target-immediate: shut down at the target" "$IT_ERR" "the server shut down at the target"
nok "--target-immediate: no server runs" pg_alive "$T/r-imm/data"
like "--target-immediate: restore_command is pitr-restore of this build, still there (not promoted)" \
	"$(cat "$T/r-imm/data/postgresql.auto.conf")" "$(re "restore_command = '$PITR_BUILDDIR/bin/pitr-restore -sr -pf 4 -s gzip=$A %f \"%p\"'")"
# Started again to pause there instead, it shows the rows of backup 2.
sed -i "s/^recovery_target_action = 'shutdown'/recovery_target_action = 'pause'/" "$T/r-imm/data/postgresql.auto.conf"
ok "--target-immediate: restarted to pause at the target" pg_start "$T/r-imm/data"
wait_for "--target-immediate: paused" 60 eval "[ \"\$(pg_sql '$T/r-imm/data' 'SELECT pg_get_wal_replay_pause_state()')\" = paused ]"
is "--target-immediate: rows 1..500 (backup 2)" "$(count r-imm)" "500|500"
pg_stop "$T/r-imm/data"

# --- standby ------------------------------------------------------------------
recover r-sb --standby
is "--standby: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-sb)")"
like "--standby: running as a standby" "$IT_ERR" "the server runs as a standby of the archive"
ok "--standby: standby.signal" test -f "$T/r-sb/data/standby.signal"
wait_for "--standby: rows 1..900 replayed from the archive" 60 eval "[ \"\$(count r-sb)\" = '900|900' ]"
ok "rows 901..1000 on p1" rows 901 1000
last=$(pg_switch "$P1")
ok "their segment $last is archived" pg_wait_archived "$P1" "$last" 60
wait_for "--standby: the standby follows the archive (rows 1..1000)" 60 eval "[ \"\$(count r-sb)\" = '1000|1000' ]"
is "--standby: still in recovery" "$(pg_sql "$T/r-sb/data" "SELECT pg_is_in_recovery()")" t
pg_stop "$T/r-sb/data"

# --- targets never reached ---------------------------------------------------
FUTURE=$((XID + 1000000))
recover r-never --target-xid "$FUTURE"
is "a transaction the archive never reaches: exit 1" "$IT_RC" 1
like "... the server's reason given" "$IT_ERR" \
	'ERROR : the server stopped before reaching the target: recovery ended before configured recovery target was reached \(see '
ok "... the recovered directory stays for a look" test -f "$T/r-never/data/PG_VERSION"
recover r-wait --standby --target-xid "$FUTURE" --wait 3
is "a standby waiting longer than --wait: exit 1" "$IT_RC" 1
like "... said so, the server still running" "$IT_ERR" \
	'ERROR : the server did not reach the target within 3 s; it is still running \(see '
ok "... it is" pg_alive "$T/r-wait/data"
pg_stop "$T/r-wait/data"

# --- as root, without --start: the files belong to the cluster's owner --------
mkdir_pg "$T/r-root1"
it_run "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-root1/data" --tablespace-map "$T/ts=$T/r-root1/ts" \
	--target-name rp1 --target-action promote
is "as root: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "as root: everything written belongs to postgres" \
	"$(find "$T/r-root1/data" "$T/r-root1/ts" ! -user postgres | head -3)" ""
ok "as root: the cluster starts as postgres" pg_start "$T/r-root1/data"
wait_for "as root: it promotes at the restore point" 60 pg_promoted "$T/r-root1/data"
is "as root: rows 1..600" "$(count r-root1)" "600|600"
pg_stop "$T/r-root1/data"

# --- refusals -------------------------------------------------------------------
stop2=$(meta "${METAS[1]}" stop_wal)
gap=$(printf '%s%08X' "${stop2:0:16}" $((16#${stop2:16:8} + 1)))
mv "$A/$gap.gz" "$T/$gap.gz"
mkdir_pg "$T/r-gap"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-gap/data" --target-time "$TIME"
is "a WAL gap: exit 1" "$IT_RC" 1
like "a WAL gap: the missing segment named" "$IT_ERR" \
	"ERROR : archive \"gzip=$A\" lacks WAL segment $gap, which recovery from backup \"$(re "$B2")\" to --target-time \"$(re "$TIME")\" needs: nothing written"
is "a WAL gap: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "a WAL gap: nothing written" "$(ls -A "$T/r-gap")" ""
mv "$T/$gap.gz" "$A/$gap.gz"

data1=${METAS[0]/meta/data}
# The digest file's name: the meta file's with SHA-256 for meta, its codec
# extension kept (OmniPITR's names).
digest1=${METAS[0]/meta/SHA-256}
cp -p "$BK/$data1" "$T/$data1.orig"
flip_byte "$BK/$data1"
mkdir_pg "$T/r-bad"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-bad/data" --backup "$B1"
is "a damaged data tarball: exit 1" "$IT_RC" 1
like "a damaged data tarball: refused by its digest" "$IT_ERR" \
	"ERROR : \"$(re "$BK/$data1")\" does not match its SHA-256 digest in \"$(re "$BK/$digest1")\" \(expected [0-9a-f]{64}, got [0-9a-f]{64}\): the backup is damaged"
is "a damaged data tarball: nothing written" "$(ls -A "$T/r-bad")" ""
cp -p "$T/$data1.orig" "$BK/$data1"

mkdir_pg "$T/r-root"
it_run "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-root/data" --start
is "--start as root: exit 1" "$IT_RC" 1
like "--start as root: refused with the reason" "$IT_ERR" "ERROR : --start: PostgreSQL does not run as root"
is "--start as root: nothing written" "$(ls -A "$T/r-root")" ""

it_done
