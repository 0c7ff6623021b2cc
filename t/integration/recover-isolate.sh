#!/bin/bash
# recover-isolate.sh - a copy made by pitr-recover cannot touch production
# (issue 9).  A primary archives with pitr-archive into a local archive; a
# streaming standby of it has a promote_trigger_file and primary_conninfo.
#   - A copy of the primary's backup, with the defaults, promoted: it
#     reports and shows archive_mode off, runs no archiver, and the archive
#     gets no file (no segment, no .history) however much WAL it switches;
#     after a restart no restore_command or recovery target is left.
#   - A copy of the standby's backup (pitr-backup-slave): touching the real
#     standby's trigger file promotes the standby, not the copy; the copy
#     runs on --port's port with an empty primary_conninfo; promoted and
#     restarted, it keeps no recovery setting and archives nothing.
#   - With --archive-mode=preserve, a promoted copy archives as its source
#     did (its timeline's .history reaches the archive).
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover-isolate
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PS=$PITR_BUILDDIR/bin/pitr-backup-slave
PR=$PITR_BUILDDIR/bin/pitr-recover
PRS=$PITR_BUILDDIR/bin/pitr-restore
it_need_built "$PA" "$PB" "$PS" "$PR" "$PRS"
# A standby's pitr-restore blocked on the next segment outlives its server.
it_reap pitr-restore

A=$T/arch
P=$T/p
S=$T/s
mkdir_pg "$A" "$T/bk" "$T/sbk" "$T/state" "$T/base"
ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_archiving "$P" -dl "gzip=$A" -db "$T/xlogs" -s "$T/state"
ok "p starts, archiving into $A" pg_start "$P"
ok "rows 1..1000 on p" pg_sql "$P" "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g"
it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$P")" -U postgres -x "$T/xlogs" -dl "gzip=$T/bk" \
	-f "p-__FILETYPE__.tar__CEXT__"
is "backup of p: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
last=$(pg_switch "$P")
ok "p's segment $last is archived" pg_wait_archived "$P" "$last" 60

# arch_files: the archive's content, one name a line (what must not change).
arch_files() { ls "$A" | sort; }
server_log() { cat "$1/pitr-recover.log" 2>/dev/null; }
# show DIR SETTING: "[value]" (an empty value is "[]", a failure nothing).
show() { pg_sql "$1" "SELECT '[' || current_setting('$2') || ']'"; }

# recover NAME ARGS...: pitr-recover as postgres into $T/NAME on a fresh
# port, started.
recover()
{
	local dir=$T/$1 port
	shift
	port=$(pg_adopt "$dir")
	it_run as_pg "$PR" -a "gzip=$A" -D "$dir" --start --port "$port" --wait 120 "$@"
	[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log "$dir")")"
}

# restarted DIR: the copy stopped and started again with pg_ctl alone (on
# the port its configuration names), accepting connections.
restarted()
{
	local dir=$1
	pg_stop "$dir" &&
		as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/restart.log" -w -t 90 start >/dev/null
}

# no_recovery_left DIR LABEL: after promotion and a restart, nothing of the
# recovery applies any more.
no_recovery_left()
{
	local dir=$1 label=$2
	is "$label: restore_command is empty after the restart" "$(show "$dir" restore_command)" "[]"
	is "$label: recovery targets are default after the restart" \
		"$(pg_sql "$dir" "SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings WHERE name IN ('recovery_target', 'recovery_target_lsn', 'recovery_target_name', 'recovery_target_time', 'recovery_target_xid')")" \
		"recovery_target=,recovery_target_lsn=,recovery_target_name=,recovery_target_time=,recovery_target_xid="
	is "$label: recovery_end_command is empty after the restart" "$(show "$dir" recovery_end_command)" "[]"
	ok "$label: pitr-recover's recovery block is gone from postgresql.auto.conf" \
		bash -c "grep -q \"^primary_conninfo = ''\" '$dir/postgresql.auto.conf' && ! grep -q 'recovery settings, removed when recovery ends' '$dir/postgresql.auto.conf'"
	is "$label: not in recovery after the restart" "$(pg_sql "$dir" "SELECT pg_is_in_recovery()")" f
}

# --- the clone that must not archive -----------------------------------------
before=$(arch_files)
recover c1 -b "$T/bk" --target-action promote
is "copy of p (defaults): exit 0" "$IT_RC" 0
like "copy of p: pitr-recover says archiving is disabled, in one line" "$IT_ERR" \
	"LOG : archiving disabled in the copy \(--archive-mode=off\)"
like "copy of p: promoted" "$IT_ERR" "the server is promoted, on timeline 2"
is "copy of p: SHOW archive_mode" "$(show "$T/c1" archive_mode)" "[off]"
is "copy of p: archive_mode comes from postgresql.auto.conf, under pitr-recover's comment" \
	"$(pg_sql "$T/c1" "SELECT sourcefile ~ 'postgresql.auto.conf\$' FROM pg_settings WHERE name = 'archive_mode'")" t
like "copy of p: the server log says archiving stays disabled (recovery_end_command)" \
	"$(server_log "$T/c1")" "archiving stays disabled in this copy: archive_mode = 'off'"
like "copy of p: the server log says the recovery settings were removed" \
	"$(server_log "$T/c1")" "recovery ended: pitr-recover's recovery settings \([0-9]+ lines\) removed"
ok "copy of p: WAL written and three segments switched" pg_sql "$T/c1" \
	"CREATE TABLE c1 AS SELECT g FROM generate_series(1, 50000) g" "SELECT pg_switch_wal()" \
	"INSERT INTO c1 SELECT g FROM generate_series(1, 50000) g" "SELECT pg_switch_wal()" \
	"INSERT INTO c1 SELECT 1" "SELECT pg_switch_wal()" "CHECKPOINT"
is "copy of p: no archiver process runs" \
	"$(pg_sql "$T/c1" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'archiver'")" 0
is "copy of p: no segment marked ready for archiving" "$(ls "$T/c1/pg_wal/archive_status" | grep -c '\.ready$')" 0
is "copy of p: the archive got no new file" "$(arch_files)" "$before"
is "copy of p: no timeline 2 file (segment or .history) in the archive" "$(arch_files | grep -c '^00000002')" 0
ok "copy of p: restarted with pg_ctl alone" restarted "$T/c1"
is "copy of p: the restarted copy listens on --port's port" "$(show "$T/c1" port)" "[$(pg_port "$T/c1")]"
no_recovery_left "$T/c1" "copy of p"
is "copy of p: still no new file in the archive" "$(arch_files)" "$before"
pg_stop "$T/c1"

# --- a standby's backup: the trigger must not move the copy ---------------------
ok "s: a streaming standby of p with a promote_trigger_file" pg_base_backup "$P" "$T/base/s"
ok "s: set up" pg_standby_new "$T/base/s" "$S" standby \
	"$PRS -sr -s gzip=$A %f %p" \
	"primary_conninfo = 'host=127.0.0.1 port=$(pg_port "$P") user=postgres application_name=s'" \
	"promote_trigger_file = '$T/s.trigger'"
# What ALTER SYSTEM would have left there on the standby.
echo "recovery_target_timeline = 'latest'" >>"$S/postgresql.auto.conf"
ok "s starts" pg_launch "$S"
wait_for "s streams from p" 60 pg_streaming "$S"
ok "more rows on p, a switch" pg_sql "$P" "CREATE TABLE t2 AS SELECT g FROM generate_series(1, 500) g" \
	"SELECT pg_switch_wal()"
wait_for "s replays them" 60 pg_has_rows "$S" t2 500
# A streaming standby is ahead of the archive: p switches segments until
# the backup has its stop segment there.
as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-s "gzip=$A" -dl "$T/sbk" \
	-f "s-__FILETYPE__.tar__CEXT__" >"$T/sb.log" 2>&1 &
job=$!
while kill -0 "$job" 2>/dev/null; do
	pg_switch "$P" >/dev/null
	sleep 1
done
rc=0
wait "$job" || rc=$?
is "backup of s (pitr-backup-slave): exit 0" "$rc" 0
[ "$rc" -eq 0 ] || diag "$(cat "$T/sb.log")"
like "s's backup carries its primary_conninfo and trigger" "$(tar -xOf "$T/sbk/s-data.tar" s/postgresql.conf)" \
	"promote_trigger_file = '$T/s.trigger'"

# (A stop position on a segment boundary, 0/C00000, makes recovery ask
# for the next segment too: another fix of issue 9; it is archived here.)
last=$(pg_switch "$P")
ok "p's segment $last is archived" pg_wait_archived "$P" "$last" 60
before=$(arch_files)
recover c2 -b "$T/sbk" --target-immediate
is "copy of s's backup: exit 0" "$IT_RC" 0
like "copy of s's backup: paused at the target" "$IT_ERR" "the server is paused at the target"
is "copy of s's backup: the port is --port's" "$(show "$T/c2" port)" "[$(pg_port "$T/c2")]"
is "copy of s's backup: primary_conninfo is empty" "$(show "$T/c2" primary_conninfo)" "[]"
is "copy of s's backup: promote_trigger_file is empty" "$(show "$T/c2" promote_trigger_file)" "[]"
is "copy of s's backup: archive_mode off" "$(show "$T/c2" archive_mode)" "[off]"
like "copy of s's backup: the source's lines kept, commented out" "$(cat "$T/c2/postgresql.auto.conf")" \
	"# pitr-recover: recovery_target_timeline = 'latest'"
as_pg touch "$T/s.trigger"
wait_for "the real standby s promotes on its trigger file" 60 pg_promoted "$S"
is "... the copy is still in recovery, paused" \
	"$(pg_sql "$T/c2" "SELECT pg_is_in_recovery(), pg_get_wal_replay_pause_state()")" "t|paused"
ok "copy of s's backup: resumed, it promotes" pg_sql "$T/c2" "SELECT pg_wal_replay_resume()"
wait_for "copy of s's backup: promoted" 60 pg_promoted "$T/c2"
ok "copy of s's backup: WAL written and a segment switched" pg_sql "$T/c2" \
	"CREATE TABLE c2 AS SELECT g FROM generate_series(1, 50000) g" "SELECT pg_switch_wal()" "CHECKPOINT"
ok "copy of s's backup: restarted with pg_ctl alone" restarted "$T/c2"
no_recovery_left "$T/c2" "copy of s's backup"
is "copy of s's backup: primary_conninfo still empty after the restart" "$(show "$T/c2" primary_conninfo)" "[]"
is "copy of s's backup: the archive got no new file" "$(arch_files)" "$before"
pg_stop "$T/c2"

# --- --archive-mode=preserve: the copy archives as its source did -------------------
recover c3 -b "$T/bk" --target-action promote --archive-mode=preserve
is "--archive-mode=preserve: exit 0" "$IT_RC" 0
like "--archive-mode=preserve: said in one line" "$IT_ERR" \
	"LOG : archiving as the backup's source did \(--archive-mode=preserve\)"
is "--archive-mode=preserve: SHOW archive_mode" "$(show "$T/c3" archive_mode)" "[on]"
ok "--archive-mode=preserve: a segment switched" pg_sql "$T/c3" "SELECT pg_switch_wal()"
tli=$(pg_sql "$T/c3" "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")
wait_for "--archive-mode=preserve: the copy's $tli.history reaches the archive" 60 \
	test -e "$A/$tli.history.gz" -o -e "$A/$tli.history"
pg_stop "$T/c3"

it_done
