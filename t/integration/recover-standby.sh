#!/bin/bash
# recover-standby.sh - pitr-recover's standby modes against a real
# PostgreSQL 15 primary archiving through pitr-archive, backed up once with
# pitr-backup-master: a warm standby (--warm-standby --restore-options
# "-f TRIGGER ...") replays the archive and promotes when the finish
# trigger is touched; a streaming standby (--standby --primary-conninfo
# --primary-slot-name) streams from the running primary through its slot;
# --set port and --set work_mem reach the running server; the guide's
# recovery.conf (--recovery-conf) makes a working warm standby, and a
# streaming slave's recovery.conf a streaming standby that its trigger_file
# promotes; each bad input is refused with one line, exit 1, nothing
# written.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover-standby
it_reap pitr-restore
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
rows() { pg_sql "$P1" "INSERT INTO t SELECT generate_series($1, $2)"; }
count() { pg_sql "$1" "SELECT count(*) FROM t" 2>/dev/null; }
auto() { cat "$1/postgresql.auto.conf"; }

ok "table t, rows 1..100" pg_sql "$P1" "CREATE TABLE t (id int)" "INSERT INTO t SELECT generate_series(1, 100)"
ok "backup" as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" \
	-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__"
ok "rows 101..200" rows 101 200
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60

# recover NAME ARGS...: pitr-recover as postgres into $T/NAME.
recover()
{
	local name=$1
	shift
	it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/$name" "$@"
}
# more FROM TO: rows FROM..TO on p1, in an archived segment.
more()
{
	rows "$1" "$2" && last=$(pg_switch "$P1") && pg_wait_archived "$P1" "$last" 60
}

# --- warm standby: the guide's slave ---------------------------------------------
W=$T/warm
port=$(pg_adopt "$W")
recover warm --warm-standby --hot-standby on --port "$port" --start --wait 120 \
	--restore-options "-f $T/warm.finish -p $T/warm.pause -l $T/warm-restore.log"
is "--warm-standby: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(cat "$W/pitr-recover.log" 2>/dev/null)")"
ok "--warm-standby: recovery.signal" test -f "$W/recovery.signal"
ok "--warm-standby: no standby.signal" test ! -e "$W/standby.signal"
like "--warm-standby: restore_command without -sr, with the options, the archive last" "$(auto "$W")" \
	"restore_command = '$PITR_BUILDDIR/bin/pitr-restore -f $T/warm.finish -p $T/warm.pause -l $T/warm-restore.log -pf 4 -s gzip=$A %f \"%p\"'"
like "--warm-standby: recovery_prefetch off, the reason in a comment" "$(auto "$W")" \
	"# pitr-recover --warm-standby: the WAL prefetcher .*"$'\n'"recovery_prefetch = 'off'"
is "--warm-standby: the server runs with recovery_prefetch off" "$(pg_sql "$W" "SHOW recovery_prefetch")" off
is "--warm-standby: hot_standby as asked" "$(pg_sql "$W" "SHOW hot_standby")" on
wait_for "--warm-standby: rows 1..200 replayed from the archive" 60 eval "[ \"\$(count '$W')\" = 200 ]"
ok "rows 201..300 on p1, archived" more 201 300
wait_for "--warm-standby: it follows the archive (300 rows)" 60 eval "[ \"\$(count '$W')\" = 300 ]"
is "--warm-standby: still in recovery" "$(pg_sql "$W" "SELECT pg_is_in_recovery()")" t
as_pg touch "$T/warm.finish"
wait_for "--warm-standby: the finish trigger promotes it" 60 pg_promoted "$W"
is "--warm-standby: promoted with every row" "$(count "$W")" 300
wait_for "--warm-standby: recovery_end_command removed the recovery block" 30 \
	eval "! grep -q '^restore_command = .*pitr-restore' '$W/postgresql.auto.conf'"
pg_stop "$W"

# --- streaming standby --------------------------------------------------------------
S=$T/stream
port=$(pg_adopt "$S")
ok "a replication slot on p1" pg_sql "$P1" "SELECT pg_create_physical_replication_slot('it_slot')"
recover stream --standby --port "$port" --start --wait 120 --primary-slot-name it_slot \
	--primary-conninfo "host=127.0.0.1 port=$PORT user=postgres application_name=it_s1"
is "--standby --primary-conninfo: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "--standby: standby.signal" test -f "$S/standby.signal"
like "--standby: primary_conninfo written" "$(auto "$S")" \
	"primary_conninfo = 'host=127.0.0.1 port=$PORT user=postgres application_name=it_s1'"
like "--standby: restore_command with -sr" "$(auto "$S")" "pitr-restore -sr -pf 4 -s gzip=$A %f"
wait_for "--standby: it streams from p1 (pg_stat_wal_receiver)" 60 pg_streaming "$S"
is "--standby: p1 sees it (pg_stat_replication)" \
	"$(pg_sql "$P1" "SELECT application_name FROM pg_stat_replication")" it_s1
is "--primary-slot-name: the standby uses p1's slot" \
	"$(pg_sql "$P1" "SELECT active FROM pg_replication_slots WHERE slot_name = 'it_slot'")" t
ok "rows 301..400 on p1, not switched (only streaming delivers them)" rows 301 400
wait_for "--standby: the rows arrive by streaming (400 rows)" 60 eval "[ \"\$(count '$S')\" = 400 ]"
pg_stop "$S"
ok "the slot dropped" pg_sql "$P1" "SELECT pg_drop_replication_slot('it_slot')"

# --- --set: the operator's settings win ---------------------------------------------
X=$T/set
port=$(pg_adopt "$X")
recover set --set "port=$port" --set "work_mem=7MB" --set "application_name=it's here" --start --wait 120
is "--set: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "--set port reaches the server (SHOW port)" "$(pg_sql "$X" "SHOW port")" "$port"
is "--set work_mem reaches the server (SHOW work_mem)" "$(pg_sql "$X" "SHOW work_mem")" 7MB
like "--set: written last, quoted" "$(tail -n 3 "$X/postgresql.auto.conf")" \
	"^port = '$port'"$'\n'"work_mem = '7MB'"$'\n'"application_name = 'it''s here'$"
pg_stop "$X"

# --- --recovery-conf: the guide's recovery.conf (A.1.6) --------------------------------
# The guide's file, paths aside (ours in $T, the archive, Debian's
# pg_controldata); the pause file exists, so -r removes nothing from the
# archive the other copies read.
mkdir_pg "$T/omnipitr" "$T/omnitmp"
as_pg touch "$T/omnipitr/pause.removal"
cat >"$T/recovery.conf" <<EOF
restore_command = '/opt/msys/3rdParty/omnipitr/bin/omnipitr-restore -l $T/omnipitr/^a.log -s gzip=$A -f $T/omnipitr/finish.recovery -p $T/omnipitr/pause.removal -t $T/omnitmp/ -ep hang -pp $PGBIN/pg_controldata -r -v %f %p'
EOF
R=$T/rconf
port=$(pg_adopt "$R")
recover rconf --recovery-conf "$T/recovery.conf" --hot-standby on --port "$port" --start --wait 120
is "--recovery-conf: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "--recovery-conf: one line for its setting" "$IT_ERR" \
	"LOG : recovery.conf line 1: restore_command: written as it is, but for an omnipitr-restore program"
like "--recovery-conf: the mode it gives" "$IT_ERR" "--warm-standby, recovery.signal"
ok "--recovery-conf: recovery.signal" test -f "$R/recovery.signal"
like "--recovery-conf: omnipitr-restore became pitr-restore" "$(auto "$R")" \
	"restore_command = '$PITR_BUILDDIR/bin/pitr-restore -l $T/omnipitr/\\^a.log -s gzip=$A -f "
ok "--recovery-conf: no recovery.conf in the copy" test ! -e "$R/recovery.conf"
ok "rows 401..500 on p1, archived" more 401 500
wait_for "--recovery-conf: the standby follows the archive (500 rows)" 60 eval "[ \"\$(count '$R')\" = 500 ]"
as_pg touch "$T/omnipitr/finish.recovery"
wait_for "--recovery-conf: the guide's finish trigger promotes it" 60 pg_promoted "$R"
pg_stop "$R"

# --- --recovery-conf: a streaming standby's, promoted by its trigger_file ----------------
cat >"$T/stream.conf" <<EOF
# OmniPITR's streaming slave
standby_mode = 'on'
primary_conninfo = 'host=127.0.0.1 port=$PORT user=postgres application_name=it_s2'
restore_command = 'omnipitr-restore -sr -s gzip=$A %f %p'
trigger_file = '$T/promote.now'
EOF
R2=$T/rconf2
port=$(pg_adopt "$R2")
recover rconf2 --recovery-conf "$T/stream.conf" --port "$port" --start --wait 120
is "--recovery-conf (streaming): exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "--recovery-conf (streaming): one line per setting" "$(printf '%s' "$IT_ERR" | tr '\n' ' ')" \
	"line 2: standby_mode = on: standby.signal.*line 3: primary_conninfo -> primary_conninfo.*line 4: restore_command.*line 5: trigger_file -> promote_trigger_file = '$T/promote.now' \(.*-f finish trigger"
ok "--recovery-conf (streaming): standby.signal" test -f "$R2/standby.signal"
wait_for "--recovery-conf (streaming): it streams from p1" 60 pg_streaming "$R2"
as_pg touch "$T/promote.now"
wait_for "--recovery-conf (streaming): trigger_file, as promote_trigger_file, promotes it" 60 \
	pg_promoted "$R2"
pg_stop "$R2"

# --- bad input: one line, exit 1, nothing written --------------------------------------
printf "restore_command = 'x %%f %%p'\nshared_buffers = '1GB'\n" >"$T/bad.conf"
printf "standby_mode = 'on'\n" >"$T/sm.conf"
chmod 644 "$T/bad.conf" "$T/sm.conf" "$T/recovery.conf"
refused()
{
	local desc=$1 re=$2
	shift 2
	recover bad "$@"
	is "$desc: exit 1" "$IT_RC" 1
	is "$desc: one line" "$(count_lines "$IT_ERR")" 1
	like "$desc: it says why" "$IT_ERR" "ERROR : .*$re"
	ok "$desc: nothing written" test ! -e "$T/bad"
}
refused "--standby with --warm-standby" "exclude each other" --standby --warm-standby
refused "--primary-conninfo without --standby" "needs --standby" --primary-conninfo host=x
refused "--primary-slot-name without a conninfo" "needs --primary-conninfo" --standby \
	--primary-slot-name s1
refused "--warm-standby with a target" "takes no recovery target" --warm-standby --target-xid 5
refused "--restore-options with %p" "%f and %p" --restore-options "-f x %p"
refused "--restore-options with -s" "written by pitr-recover" --restore-options "-s /elsewhere"
refused "--set with a bad name" "expected NAME=VALUE" --set "work mem=1"
refused "--set restore_command" "written by the mode" --set "restore_command=cp"
refused "--hot-standby maybe" "hot-standby" --hot-standby maybe
refused "--recovery-conf with a setting unknown to PostgreSQL 12+" \
	"line 2: shared_buffers = '1GB' has no PostgreSQL 12\+ meaning" --recovery-conf "$T/bad.conf"
refused "--recovery-conf standby_mode = on with --warm-standby" "contradicts --warm-standby" \
	--recovery-conf "$T/sm.conf" --warm-standby
refused "--recovery-conf restore_command with --restore-options" "give one" \
	--recovery-conf "$T/recovery.conf" --restore-options "-w 5"
refused "--recovery-conf that does not exist" "No such file" --recovery-conf "$T/none.conf"
printf "restore_command = 'omnipitr-restore -s gzip=/old/gone/archive %%f %%p'\n" >"$T/other.conf"
chmod 644 "$T/other.conf"
refused "--recovery-conf restore_command reading another archive than -a" \
	"restore_command does not read the archive" --recovery-conf "$T/other.conf"

it_done
