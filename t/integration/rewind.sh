#!/bin/bash
# rewind.sh - pg_rewind --restore-target-wal with pitr-restore as the
# target's restore_command (issue 9).  pg_rewind runs restore_command from
# its own working directory with an absolute %p: pitr-restore must not ask
# for a data directory there.  A primary archiving with pitr-archive, a
# streaming standby promoted, the old primary diverging and losing the
# WAL pg_rewind needs from its pg_wal (it is in the archive): the rewind
# succeeds and the old primary runs as a standby of the new one.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init rewind
PA=$PITR_BUILDDIR/bin/pitr-archive
PRS=$PITR_BUILDDIR/bin/pitr-restore
it_need_built "$PA" "$PRS"
it_require "$PGBIN/pg_rewind"
it_reap pitr-restore

A=$T/arch
P=$T/p
S=$T/s
mkdir_pg "$A" "$T/state" "$T/base" "$T/cwd"
ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_set "$P" "wal_log_hints = on"
pg_archiving "$P" -dl "gzip=$A" -s "$T/state"
ok "p starts, archiving into $A" pg_start "$P"
ok "rows 1..1000 on p" pg_sql "$P" "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g"
ok "s: a base backup of p" pg_base_backup "$P" "$T/base/s"
ok "s: a streaming standby of p" pg_standby_new "$T/base/s" "$S" standby \
	"$PRS -sr -s gzip=$A %f %p" \
	"primary_conninfo = 'host=127.0.0.1 port=$(pg_port "$P") user=postgres application_name=s'"
ok "s starts" pg_launch "$S"
wait_for "s streams from p" 60 pg_streaming "$S"
ok "rows 1001..2000 on p" pg_sql "$P" "INSERT INTO t SELECT generate_series(1001, 2000)"
lsn=$(pg_lsn "$P")
wait_for "s replays them" 60 pg_replayed "$S" "$lsn"

ok "s is promoted" pg_sql "$S" "SELECT pg_promote()"
wait_for "s accepts writes" 60 pg_promoted "$S"
# A checkpoint, so that s's control file shows its new timeline (what
# pg_rewind compares).
ok "rows on the new primary s, a checkpoint" pg_sql "$S" "INSERT INTO t SELECT generate_series(2001, 2100)" \
	"CHECKPOINT"

# The old primary diverges: writes of its own, several segments, archived.
ok "p diverges: rows of its own and four segment switches" pg_sql "$P" \
	"CREATE TABLE only_p AS SELECT g FROM generate_series(1, 20000) g" "SELECT pg_switch_wal()" \
	"INSERT INTO only_p SELECT g FROM generate_series(1, 20000) g" "SELECT pg_switch_wal()" \
	"INSERT INTO only_p SELECT 1" "SELECT pg_switch_wal()" "CHECKPOINT"
last=$(pg_switch "$P")
ok "p's last segment $last is archived" pg_wait_archived "$P" "$last" 60
ok "p stops cleanly" pg_stop "$P"

# Every segment p archived leaves its pg_wal (its shutdown checkpoint may
# have recycled them already): the rewind needs the archive.
for f in "$P"/pg_wal/archive_status/*.done; do
	seg=$(basename "$f" .done)
	[[ $seg =~ ^[0-9A-F]{24}$ ]] && rm -f "$P/pg_wal/$seg" "$f"
done
SRC="host=127.0.0.1 port=$(pg_port "$S") user=postgres dbname=postgres"
it_run as_pg "$PGBIN/pg_rewind" -D "$P" --source-server "$SRC" -n
is "without --restore-target-wal, pg_rewind lacks p's WAL" "$IT_RC" 1
like "... naming a missing segment" "$IT_ERR" "could not open file .*pg_wal/[0-9A-F]{24}"

pg_set "$P" "restore_command = '$PRS -sr -l $T/restore.log -s gzip=$A %f %p'"
# From a directory that is no data directory (as_pg runs from $T).
it_run as_pg bash -c "cd '$T/cwd' && exec '$PGBIN/pg_rewind' -D '$P' --source-server '$SRC' --restore-target-wal -R"
is "pg_rewind --restore-target-wal with pitr-restore: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_OUT" "$IT_ERR" "$(cat "$T/restore.log" 2>/dev/null)"
like "pg_rewind: done" "$IT_OUT$IT_ERR" "Done!"
like "pitr-restore handed the archived segments over" "$(cat "$T/restore.log" 2>/dev/null)" \
	'restored "[0-9A-F]{24}" from '
unlike "pitr-restore asked for no data directory" "$(cat "$T/restore.log" 2>/dev/null)" \
	"is not a PostgreSQL data directory"
ok "the rewound p has standby.signal (-R)" test -f "$P/standby.signal"
ok "the rewound p starts" pg_launch "$P"
wait_for "the rewound p is in recovery" 60 pg_in_recovery "$P"
wait_for "the rewound p streams from s" 60 pg_streaming "$P"
ok "rows 2101..2200 on s" pg_sql "$S" "INSERT INTO t SELECT generate_series(2101, 2200)"
lsn=$(pg_lsn "$S")
wait_for "the rewound p replays s's WAL" 60 pg_replayed "$P" "$lsn"
is "the rewound p holds s's rows, not its own" \
	"$(pg_sql "$P" "SELECT count(*), max(id), to_regclass('only_p') IS NULL FROM t")" "2200|2200|t"
it_done
