#!/bin/bash
# recover-prefetch.sh - pitr-recover's restore_command prefetches (pitr-restore
# -pf 4 by default, --restore-options' -pf wins, --prefetch 0 none), the
# server replays segments the worker decompressed ahead, and the prefetch
# directory (pg_wal/.pitr-prefetch) is gone once the server is at its target
# whatever recovery_target_action: promote (the recovery_end_command removes
# it), pause and shutdown (pitr-recover --start removes it, stopping a worker
# still filling it).  One primary, 1 MiB segments, three recoveries to a time
# with segments archived beyond it.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover-prefetch
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state"
pg_archiving_primary "$P1"
PORT=$(pg_port "$P1")

# segments N FROM: N batches of rows from FROM, one segment switch each.
segments()
{
	local i
	for ((i = 0; i < $1; i++)); do
		pg_sql "$P1" "INSERT INTO t SELECT g, md5(g::text) FROM generate_series($2 + $i * 1000 + 1, $2 + ($i + 1) * 1000) g" \
			"SELECT pg_switch_wal()" >/dev/null || return 1
	done
}

ok "table t, rows 1..1000" pg_sql "$P1" "CREATE TABLE t (id int, v text)" \
	"INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g"
ok "backup" as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" \
	-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__"
ok "12 segments of rows 1001..13000" segments 12 1000
sleep 1
TIME=$(pg_sql "$P1" "SELECT clock_timestamp()")
sleep 1
ok "8 segments more after the target time" segments 8 13000
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60

# recover NAME ARGS...: pitr-recover --start into $T/NAME/data to $TIME.
recover()
{
	local name=$1 port
	shift
	mkdir_pg "$T/$name"
	port=$(pg_adopt "$T/$name/data")
	it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/$name/data" --target-time "$TIME" \
		--start --port "$port" --wait 120 "$@"
}
count() { pg_sql "$T/$1/data" "SELECT count(*), max(id) FROM t"; }
server_log() { cat "$T/$1/data/pitr-recover.log" 2>/dev/null; }
prefetched() { grep -c 'from the prefetched' "$T/$1/data/pitr-recover.log"; }

# --- promote: the recovery_end_command removes it -----------------------------
recover r-promote --target-action promote
is "promote: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-promote)")"
like "promote: promoted" "$IT_ERR" "the server is promoted"
is "promote: rows 1..13000" "$(count r-promote)" "13000|13000"
ok "promote: segments were handed over from the prefetch dir" test "$(prefetched r-promote)" -gt 3
like "promote: the recovery_end_command removed the prefetch dir" "$(server_log r-promote)" \
	"recovery ended: pitr-restore's prefetched segments removed \(\"\./pg_wal/\.pitr-prefetch\"\)"
nok "promote: no pg_wal/.pitr-prefetch" test -e "$T/r-promote/data/pg_wal/.pitr-prefetch"
ok "promote: accepts writes" pg_sql "$T/r-promote/data" "INSERT INTO t VALUES (0)"
pg_stop "$T/r-promote/data"

# --- pause (the default): pitr-recover removes it ---------------------------
recover r-pause
is "pause: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-pause)")"
like "pause: paused" "$IT_ERR" "the server is paused at the target"
like "pause: restore_command had -pf 4" "$(cat "$T/r-pause/data/postgresql.auto.conf")" \
	"restore_command = '.*pitr-restore -sr -pf 4 -s gzip=$A %f \"%p\"'"
like "pause: pitr-recover removed the prefetch dir at the target" "$IT_ERR" \
	"LOG : at the target: pitr-restore's prefetched segments removed"
nok "pause: no pg_wal/.pitr-prefetch" test -e "$T/r-pause/data/pg_wal/.pitr-prefetch"
is "pause: rows 1..13000" "$(count r-pause)" "13000|13000"
ok "pause: resumed, it promotes" pg_sql "$T/r-pause/data" "SELECT pg_wal_replay_resume()"
ok "pause: promoted" poll 30 pg_promoted "$T/r-pause/data"
pg_stop "$T/r-pause/data"

# --- shutdown, --restore-options' -pf wins -----------------------------------
recover r-shut --target-action shutdown --restore-options "-pf 2"
is "shutdown: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-shut)")"
like "shutdown: shut down at the target" "$IT_ERR" "the server shut down at the target"
like "shutdown: restore_command has --restore-options' -pf 2, not -pf 4" \
	"$(grep '^restore_command = .*pitr-restore' "$T/r-shut/data/postgresql.auto.conf")" \
	"pitr-restore -sr -pf 2 -s gzip="
like "shutdown: pitr-recover removed the prefetch dir at the target" "$IT_ERR" \
	"LOG : at the target: pitr-restore's prefetched segments removed"
nok "shutdown: no pg_wal/.pitr-prefetch" test -e "$T/r-shut/data/pg_wal/.pitr-prefetch"

# --- --prefetch 0: none ------------------------------------------------------
mkdir_pg "$T/r-none"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-none/data" --target-time "$TIME" --prefetch 0
is "--prefetch 0: exit 0" "$IT_RC" 0
unlike "--prefetch 0: no -pf in restore_command" \
	"$(grep '^restore_command = .*pitr-restore' "$T/r-none/data/postgresql.auto.conf")" "-pf"

it_done
