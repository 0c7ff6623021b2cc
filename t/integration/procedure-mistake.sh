#!/bin/bash
# procedure-mistake.sh - examples/procedures/recover-mistake.sh, recovery
# after an incorrect user operation, run step by step against a real
# PostgreSQL 15 primary (1 MiB segments) archiving with pitr-archive on
# 127.0.0.1: the restore point and the mistakes land in the archive;
# pitr-info's window covers the DELETE's time, found in the server log;
# the copy recovered to the restore point (--target-name, promote) holds the
# accounts the purge (a TRUNCATE) removed and none of the later orders; the
# copy recovered to the time (--target-time, pause) waits paused at the
# target with the orders of the last good transaction and not the DELETE, and is
# promoted by pg_wal_replay_resume(); the repair brings both tables back on
# the primary, and the primary never leaves timeline 1.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init procedure-mistake
SCRIPT=$PITR_SRCDIR/examples/procedures/recover-mistake.sh
it_need_built "$PITR_BUILDDIR/bin/pitr-archive" "$PITR_BUILDDIR/bin/pitr-recover" \
	"$PITR_BUILDDIR/bin/pitr-backup-master" "$PITR_BUILDDIR/bin/pitr-info"
[ -x "$SCRIPT" ] || it_bail "no $SCRIPT"

mkdir_pg "$T/pg" "$T/pitr" "$T/sock"
P=$T/pg/main
RP=$T/pg/before-purge
PIT=$T/pg/before-delete
export RUN_AS=postgres SOCKET_DIR=$T/sock LISTEN_ADDRESSES=127.0.0.1 \
	PITR_BIN=$PITR_BUILDDIR/bin WAIT=60 \
	INITDB_OPTS="--auth=trust --encoding=UTF8 --locale=C --no-sync --wal-segsize=1" \
	PRIMARY_DATA=$P PRIMARY_LOG=$T/pg/main.log RP_DATA=$RP PIT_DATA=$PIT \
	ARCHIVE=$T/pitr/wal_archive BACKUPS=$T/pitr/backup BACKUP_XLOGS=$T/pitr/backup-xlogs \
	PITR_STATE=$T/pitr/state PITR_LOGS=$T/pitr/log
# A read that a replayed lock blocks fails instead of hanging the test.
export PGOPTIONS="-c lock_timeout=30s"
PRIMARY_PORT=$(pg_adopt "$P") || it_bail "no free port"
RP_PORT=$(pg_adopt "$RP") || it_bail "no free port"
PIT_PORT=$(pg_adopt "$PIT") || it_bail "no free port"
export PRIMARY_PORT RP_PORT PIT_PORT
n() { pg_sql "$1" "SELECT count(*) FROM $2" 2>/dev/null; }
recovery() { pg_sql "$1" "SELECT pg_is_in_recovery()"; }
tl() { pg_sql "$1" "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"; }

# step NAME: run the script's step NAME; its exit status is asserted.
step()
{
	local t0=$SECONDS
	it_run "$SCRIPT" "$1"
	is "step $1: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
	[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
}

it_run "$SCRIPT" --list
is "--list: 14 steps" "$(count_lines "$IT_OUT")" 14
like "--list: primary first, stop last" "$IT_OUT" "^primary .*"$'\n'"stop +stop the recovered copies"

step primary
is "primary: archive_command is pitr-archive" "$(pg_sql "$P" "SHOW archive_command" | cut -d' ' -f1)" \
	"$PITR_BUILDDIR/bin/pitr-archive"
is "primary: log_statement mod" "$(pg_sql "$P" "SHOW log_statement")" mod
is "primary: 500 accounts" "$(n "$P" accounts)" 500
step backup
ok "backup: a meta file" eval "ls '$T/pitr/backup/'*-meta-*"
# The day's work comes hours after the backup in real life; here one
# second is enough: a backup's stop time is kept in whole seconds, and
# pitr-recover takes for --target-time only a backup that ended before it.
sleep 1.1
step good-work
is "good-work: 1000 accounts" "$(n "$P" accounts)" 1000
is "good-work: 50 orders" "$(n "$P" orders)" 50
step restore-point
like "restore-point: its LSN printed" "$IT_OUT" "restore point 'before_purge' at LSN [0-9A-F]+/[0-9A-F]+"
step purge
is "purge: no accounts left" "$(n "$P" accounts)" 0
step more-work
is "more-work: 75 orders" "$(n "$P" orders)" 75
good=$(pg_sql "$P" "SELECT max(at) FROM orders")
step delete
is "delete: no orders left" "$(n "$P" orders)" 0
like "delete: the server log has the DELETE with its time" "$(cat "$T/pg/main.log")" \
	"[0-9]{4}-[0-9-]+ [0-9:.]+ UTC \[[0-9]+\] LOG:  statement: DELETE FROM orders"

step window
like "window: pitr-info's window printed" "$IT_OUT" "Recoverable window on timeline 1: from "
like "window: the DELETE's time found in the log, inside the window" "$IT_OUT" \
	"the DELETE ran at [0-9-]+ [0-9:.]+ UTC, inside the recoverable window"
like "window: the archive has no gap, pitr-info finds no problem" "$IT_OUT" \
	"timeline 1: [0-9A-F]{24} to [0-9A-F]{24}, [0-9]+ segments, 0 gaps.*Problems: 0"
# pitr-backup-master -x removes its -x directory once the stop segment is
# there; the backup history file (.backup) archived after it finds the
# directory gone, which pitr-archive takes as "no copy needed", not as a
# failure that PostgreSQL would count and retry.
is "window: the archiver never failed" "$(pg_sql "$P" "SELECT failed_count FROM pg_stat_archiver")" 0

step recover-restore-point
is "restore point: the copy is promoted" "$(recovery "$RP")" f
is "restore point: the 1000 accounts of before the purge" "$(n "$RP" accounts)" 1000
is "restore point: the 50 orders made before it, none after" "$(n "$RP" orders)" 50
is "restore point: the copy is on timeline 2" "$(tl "$RP")" 00000002
like "restore point: the server stopped recovery at the restore point" \
	"$(cat "$RP/pitr-recover.log" 2>/dev/null)" \
	"recovery stopping at restore point \"before_purge\""

step recover-time
is "time: the copy waits in recovery" "$(recovery "$PIT")" t
like "time: the server stopped before the DELETE's commit and paused" "$(cat "$PIT/pitr-recover.log" 2>/dev/null)" \
	"recovery stopping before commit of transaction [0-9]+.*pausing at the end of recovery"
is "time: paused at the target" "$(pg_sql "$PIT" "SELECT pg_get_wal_replay_pause_state()")" paused
is "time: the 75 orders of before the DELETE" "$(n "$PIT" orders)" 75
is "time: the last good order is there" "$(pg_sql "$PIT" "SELECT max(at) FROM orders")" "$good"
is "time: the purge (before the target) is replayed: no accounts" "$(n "$PIT" accounts)" 0
step check-time
like "check-time: it shows the pause and the rows" "$IT_OUT" "replay: paused"$'\n'".*"$'\n'".*0 accounts, 75 orders"
is "check-time: still paused (reading changes nothing)" "$(pg_sql "$PIT" "SELECT pg_get_wal_replay_pause_state()")" paused
step promote-time
is "promote-time: promoted" "$(recovery "$PIT")" f
is "promote-time: on timeline 2" "$(tl "$PIT")" 00000002
is "promote-time: still the 75 orders" "$(n "$PIT" orders)" 75
ok "promote-time: it accepts writes" pg_sql "$PIT" "CREATE TABLE it_probe (x int)"

step repair
is "repair: the primary has its 1000 accounts back" "$(n "$P" accounts)" 1000
is "repair: the primary has its 75 orders back" "$(n "$P" orders)" 75
is "repair: the primary is still the primary on timeline 1" "$(recovery "$P")/$(tl "$P")" f/00000001
ok "the archive holds no timeline 2 (the copies do not archive)" \
	eval "! ls '$T/pitr/wal_archive' | grep -q '^00000002'"

step stop
ok "stop: the restore point's copy stopped" eval "! pg_alive '$RP'"
ok "stop: the time's copy stopped" eval "! pg_alive '$PIT'"
ok "stop: the primary still runs" pg_alive "$P"

# --- all: every step in one call, on a fresh primary and fresh directories -------
mkdir_pg "$T/all/pg" "$T/all/pitr"
export PRIMARY_DATA=$T/all/pg/main PRIMARY_LOG=$T/all/pg/main.log RP_DATA=$T/all/pg/rp \
	PIT_DATA=$T/all/pg/pit ARCHIVE=$T/all/pitr/wal_archive BACKUPS=$T/all/pitr/backup \
	BACKUP_XLOGS=$T/all/pitr/backup-xlogs PITR_STATE=$T/all/pitr/state PITR_LOGS=$T/all/pitr/log
PRIMARY_PORT=$(pg_adopt "$PRIMARY_DATA") || it_bail "no free port"
RP_PORT=$(pg_adopt "$RP_DATA") || it_bail "no free port"
PIT_PORT=$(pg_adopt "$PIT_DATA") || it_bail "no free port"
t0=$SECONDS
it_run "$SCRIPT" all
is "all: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
is "all: every step ran, in order" "$(printf '%s\n' "$IT_OUT" | sed -n 's/^== \([a-z-]*\):.*/\1/p' | tr '\n' ' ')" \
	"$("$SCRIPT" --list | cut -d' ' -f1 | tr '\n' ' ')"
is "all: the primary repaired" "$(n "$PRIMARY_DATA" accounts)/$(n "$PRIMARY_DATA" orders)" 1000/75

it_done
