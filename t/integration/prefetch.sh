#!/bin/bash
# prefetch.sh - pitr-restore -pf against a real PostgreSQL 15 warm standby:
# it replays a backlog with segments handed over from the prefetch dir,
# every prefetched file is the archived segment, the workers exit, a smart
# finish promotes the standby with every archived row, and the prefetch dir
# is empty once recovery has ended.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init prefetch
PA=$PITR_BUILDDIR/bin/pitr-archive
PR=$PITR_BUILDDIR/bin/pitr-restore
it_need_built "$PA" "$PR"

M=$T/m S=$T/s A=$T/a
mkdir_pg "$A" "$T/log"
PFDIR=$S/pg_wal/.pitr-prefetch
RLOG=$T/log/restore.log

# workers_of LOG: how many pitr-restore processes writing LOG run (the
# -l path is unique to this standby's restore_command; the shell the
# server runs it with is not counted).
workers_of()
{
	proc_pids "-l $1 " | while read -r pid; do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pitr-restore ] && echo "$pid"
	done | wc -l
}

# at_most_running N: at most N pitr-restore processes of the standby run.
at_most_running()
{
	local n
	n=$(workers_of "$RLOG")
	[ "$n" -le "$1" ] || { echo "$n running"; return 1; }
}

# prefetched_are_archived: every segment in the prefetch dir is the archived
# segment of that name, whole (gzip -dc of the archive file, compared).
prefetched_are_archived()
{
	local f bad=0
	for f in "$PFDIR"/*; do
		[ -e "$f" ] || continue
		f=${f##*/}
		[ "$f" = worker.pid ] && continue
		if ! gzip -dc "$A/$f.gz" | cmp -s - "$PFDIR/$f"; then
			echo "$f differs from $A/$f.gz"
			bad=1
		fi
	done
	return "$bad"
}

# no_prefetched_segments: the prefetch dir holds no segment (nor temp file).
no_prefetched_segments()
{
	local left
	left=$(find "$PFDIR" -mindepth 1 ! -name worker.pid 2>&1)
	[ -z "$left" ] || { echo "$left"; return 1; }
}

ok "initdb the master (1 MiB segments)" pg_new "$M" --wal-segsize=1
pg_archiving "$M" -l "$T/log/archive.log" -dl "gzip=$A"
ok "the master starts" pg_start "$M" || it_bail "no master"
ok "base backup of the master (WAL from the archive only)" pg_base_backup "$M" "$T/base"
ok "a backlog: pgbench -i -s 3 and 20000 rows in t" pg_bench "$M" -i -s 3 -q
ok "table t" pg_sql "$M" "CREATE TABLE t (id int)" \
	"INSERT INTO t SELECT generate_series(1, 20000)"
# The position before the switch: the switch ends the segment, and the
# next one reaches the archive only with the next switch.
lsn1=$(pg_lsn "$M")
end1=$(pg_switch "$M")
ok "the master archived the backlog up to $end1" pg_wait_archived "$M" "$end1" 60
nseg=$(wal_in "$A" | wc -l)
ok "the backlog is more than 20 segments ($nseg)" test "$nseg" -gt 20

ok "s: warm standby with -pf 3" pg_standby_new "$T/base" "$S" warm \
	"$PR -v -pf 3 -l $RLOG -s gzip=$A -f $T/finish.recovery %f %p"
ok "s is launched" pg_launch "$S"
wait_for "s replays the backlog up to $lsn1" 120 pg_replayed "$S" "$lsn1"
is "s holds t's 20000 rows" "$(pg_sql "$S" "SELECT count(*) FROM t")" 20000
taken=$(grep -c 'from the prefetched "' "$RLOG")
ok "segments were handed over from the prefetch dir ($taken of $nseg)" test "$taken" -gt 0
nok "the restore log has no ERROR line" grep -h ' : ERROR : ' "$RLOG"
wait_for "the workers exit: only the call waiting for the next segment runs" 30 at_most_running 1
ok "every prefetched file is its archived segment, whole" prefetched_are_archived
count=$(find "$PFDIR" -mindepth 1 ! -name worker.pid | wc -l)
ok "the prefetch dir holds at most 3 segments ($count)" test "$count" -le 3

# More WAL while the standby waits: replayed as it arrives.
ok "20000 more rows on the master" pg_sql "$M" "INSERT INTO t SELECT generate_series(1, 20000)"
lsn2=$(pg_lsn "$M")
end2=$(pg_switch "$M")
ok "the master archived up to $end2" pg_wait_archived "$M" "$end2" 60
wait_for "s replays up to $lsn2" 60 pg_replayed "$S" "$lsn2"
is "s holds 40000 rows" "$(pg_sql "$S" "SELECT count(*) FROM t")" 40000

# Failover: the master stops (its last segment archived), a smart finish.
ok "the master stops" pg_stop "$M"
as_pg touch "$T/finish.recovery"
wait_for "s promotes after the smart finish" 60 pg_promoted "$S"
is "s kept all 40000 rows" "$(pg_sql "$S" "SELECT count(*) FROM t")" 40000
ok "s accepts writes" pg_sql "$S" "INSERT INTO t VALUES (0)"
wait_for "no pitr-restore of s runs after the promotion" 30 at_most_running 0
ok "the prefetch dir holds no segment after recovery ended" no_prefetched_segments
nok "the restore log has no ERROR line after the promotion" grep -h ' : ERROR : ' "$RLOG"
ok "s stops" pg_stop "$S"

echo "# runtime ${SECONDS}s"
it_done
