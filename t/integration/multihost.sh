#!/bin/bash
# multihost.sh - several hosts at once (issue 10, seeds/002: every server
# stopped, the newest backup and the furthest WAL spread over two hosts):
# a real PostgreSQL 15 primary archives to A, then only to B; one backup
# lands in backup dir 1, a later one in backup dir 2.  pitr-info names the
# newest backup and the furthest archive across both (text and --json);
# pitr-recover recovers to a target only the union of A and B reaches,
# from the backup of either dir; pitr-restore reads from both; archives of
# another cluster are refused by pitr-info, pitr-recover and pitr-restore
# in one line, exit 1.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init multihost
it_require python3
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
PI=$PITR_BUILDDIR/bin/pitr-info
PS=$PITR_BUILDDIR/bin/pitr-restore
it_need_built "$PA" "$PB" "$PR" "$PI" "$PS"

A=$T/host1/arch
B=$T/host2/arch
BK1=$T/host1/backup
BK2=$T/host2/backup
P1=$T/p1
mkdir_pg "$T/host1" "$T/host2" "$A" "$B" "$BK1" "$BK2" "$T/state" "$T/xlogs"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1

# archive_to DIR: p1 archives into DIR (and the backups' xlog dir) from now.
archive_to()
{
	pg_set "$P1" "archive_mode = on" \
		"archive_command = 'test \"\$(pwd -P)\" = \"$P1\" || exit 0; exec $PA -dl gzip=$1 -db $T/xlogs -s $T/state \"%p\"'"
}
archive_to "$A"
ok "p1 starts, archiving to host 1's archive" pg_start "$P1"
PORT=$(pg_port "$P1")

# backup DIR: pitr-backup-master of p1 into DIR.
backup()
{
	sleep 1.1  # one name per second
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$1" \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__"
}
rows() { pg_sql "$P1" "INSERT INTO t SELECT generate_series($1, $2)"; }
archived() { local last; last=$(pg_switch "$P1") && pg_wait_archived "$P1" "$last" 60; }
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

ok "table t, rows 1..100" pg_sql "$P1" "CREATE TABLE t (id int)" "INSERT INTO t SELECT generate_series(1, 100)"
ok "backup 1 into host 1's backup dir" backup "$BK1"
ok "rows 101..200" rows 101 200
ok "their segment archived to host 1" archived
# From here on p1 archives to host 2 only.
archive_to "$B"
ok "archive_command now archives to host 2" pg_sql "$P1" "SELECT pg_reload_conf()"
sleep 1
ok "rows 201..300" rows 201 300
LSN=$(pg_sql "$P1" "SELECT pg_current_wal_insert_lsn()")
ok "rows 301..400" rows 301 400
ok "their segment archived to host 2" archived
ok "backup 2 into host 2's backup dir" backup "$BK2"
ok "rows 401..500" rows 401 500
ok "their segment archived to host 2" archived
ok "p1 stops (every server stopped)" pg_stop "$P1"
B1=$(cd "$BK1" && ls bk-meta-*.tar.gz)
B2=$(cd "$BK2" && ls bk-meta-*.tar.gz)
B1=${B1/meta/*}
B2=${B2/meta/*}
like "one backup on each host" "$B1 $B2" '^bk-\*-[0-9-]+\.tar\.gz bk-\*-[0-9-]+\.tar\.gz$'
LASTB=$(cd "$B" && ls 0000000*.gz | sort | tail -1)
LASTB=${LASTB%.gz}
LASTA=$(cd "$A" && ls 0000000*.gz | sort | tail -1)
LASTA=${LASTA%.gz}
ok "host 2's archive goes further than host 1's ($LASTB, $LASTA)" test "$LASTB" \> "$LASTA"

# --- pitr-info across both hosts ---------------------------------------------
it_run "$PI" -b "$BK1" -b "gzip=$BK2" -a "gzip=$A" -a "$B"
is "pitr-info, two hosts: exit 0" "$IT_RC" 0
is "pitr-info, two hosts: nothing on stderr" "$IT_ERR" ""
like "pitr-info: host 1's backups listed" "$IT_OUT" "Backups in $(re "$BK1"): 1"
like "pitr-info: host 2's backups listed" "$IT_OUT" "Backups in $(re "$BK2"): 1"
like "pitr-info: the newest backup is host 2's" "$IT_OUT" \
	"Newest backup: $(re "$B2") in $(re "$BK2") \(timeline 1, stopped "
like "pitr-info: the furthest archive is host 2's, to its last segment" "$IT_OUT" \
	"Furthest archive: $(re "$B") \(timeline 1, last segment $LASTB, "
like "pitr-info: one database system" "$IT_OUT" "Database system: [0-9]+ \(every backup and archive that tells\)"
like "pitr-info: backup 1 is recoverable through both archives, to host 2's last segment" "$IT_OUT" \
	"Recoverable window on timeline 1: from .* \(LSN [0-9A-F/]+, end of backup $(re "$B1")\) to "
it_run "$PI" -b "$BK1" -a "gzip=$A"
unlike "pitr-info, host 1 alone: no newest/furthest lines (one host's report as before)" "$IT_OUT" "Newest backup"

it_run "$PI" -b "$BK1" -b "$BK2" -a "$A" -a "$B" --json
is "pitr-info --json, two hosts: exit 0" "$IT_RC" 0
printf '%s\n' "$IT_OUT" >"$T/info.json"
is "pitr-info --json: newest backup, furthest archive, one system" \
	"$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n, f = d["newest_backup"], d["furthest_archive"]
print(n["backup_dir"], n["name"], f["archive_dir"], f["last"], d["same_system"],
      [a["archive_dir"] for a in d["archives"]], d["window"]["backup"])' "$T/info.json")" \
	"$BK2 $B2 $B $LASTB True ['$A', '$B'] $B1"

# --- pitr-recover over both hosts ----------------------------------------------
# recover NAME ARGS...: pitr-recover as postgres into $T/NAME on a fresh
# port, the server started.
recover()
{
	local name=$1 port
	shift
	port=$(pg_adopt "$T/$name")
	it_run as_pg "$PR" -D "$T/$name" --start --port "$port" --wait 120 "$@"
}
count() { pg_sql "$T/$1" "SELECT count(*), max(id) FROM t"; }

mkdir_pg "$T/r-b-only"
it_run as_pg "$PR" -b "$BK1" -b "$BK2" -a "gzip=$B" -D "$T/r-b-only/data" --target-lsn "$LSN"
is "host 2's archive alone does not reach from backup 1: exit 1" "$IT_RC" 1
like "... the first segment it lacks named, nothing written" "$IT_ERR" \
	"ERROR : archive \"gzip=$(re "$B")\" lacks WAL segment [0-9A-F]{24}, which recovery from backup \"$(re "$B1")\" to --target-lsn $LSN needs: nothing written"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/r-b-only")" ""

# Without prefetching, each segment's archive is named in the server log.
recover r-lsn -b "$BK2" -b "$BK1" -a "gzip=$A" -a "gzip=$B" --target-lsn "$LSN" --target-action promote \
	--prefetch 0
is "--target-lsn over both archives: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(cat "$T/r-lsn/pitr-recover.log" 2>/dev/null)")"
like "--target-lsn: backup 1 chosen from host 1's dir (the newest that ends before the LSN)" "$IT_ERR" \
	"from backup \"$(re "$B1")\""
like "--target-lsn: the WAL comes from both archives" "$IT_ERR" \
	"the rest from archive \"gzip=$(re "$A")\", \"gzip=$(re "$B")\""
like "--target-lsn: pitr-restore read segments from host 1's archive" "$(cat "$T/r-lsn/pitr-recover.log")" \
	"pitr-restore : LOG : restored \"[0-9A-F]{24}\" from \"$(re "$A")/[0-9A-F]{24}\.gz\""
like "--target-lsn: ... and from host 2's" "$(cat "$T/r-lsn/pitr-recover.log")" \
	"pitr-restore : LOG : restored \"[0-9A-F]{24}\" from \"$(re "$B")/[0-9A-F]{24}\.gz\""
like "--target-lsn: recovery stopped at the LSN" "$IT_ERR" "recovery stopped: recovery stopping after WAL location \(LSN\) \"$LSN\""
is "--target-lsn: rows 1..300 (host 1's WAL, then host 2's)" "$(count r-lsn)" "300|300"
pg_stop "$T/r-lsn"

recover r-end -b "$BK1" -b "$BK2" -a "gzip=$A" -a "gzip=$B" --target-action promote
is "no target: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "no target: the newest backup of both dirs chosen (host 2's)" "$IT_ERR" "from backup \"$(re "$B2")\""
is "no target: rows 1..500" "$(count r-end)" "500|500"
pg_stop "$T/r-end"

# Not promoted, the settings stay: restore_command names both archives.
recover r-imm -b "$BK1" -b "$BK2" -a "gzip=$A" -a "gzip=$B" --target-immediate --target-action shutdown
is "--target-immediate: exit 0" "$IT_RC" 0
like "--target-immediate: restore_command names both archives, in order" \
	"$(cat "$T/r-imm/postgresql.auto.conf")" \
	"restore_command = '$(re "$PITR_BUILDDIR")/bin/pitr-restore -sr -pf 4 -s gzip=$(re "$A") -s gzip=$(re "$B") %f \"%p\"'"

# --- pitr-restore from both ------------------------------------------------------
FIRST_B=$(cd "$B" && ls 0000000*.gz | sort | head -1)
FIRST_B=${FIRST_B%.gz}
mkdir_pg "$T/rs" "$T/rs/pg_wal"
echo 15 >"$T/rs/PG_VERSION"
it_run "$PS" -D "$T/rs" -s "gzip=$A" -s "gzip=$B" -sr "$FIRST_B" pg_wal/RECOVERYXLOG
is "pitr-restore -s A -s B: a segment only host 2 has is restored" "$IT_RC" 0
is "... whole" "$(stat -c %s "$T/rs/pg_wal/RECOVERYXLOG")" 1048576
it_run "$PS" -D "$T/rs" -s "gzip=$A" -s "gzip=$B" -sr 0000000100000000000000FF pg_wal/RECOVERYXLOG
is "pitr-restore -sr: a segment neither has fails" "$IT_RC" 1
like "... at once, as for one archive" "$IT_ERR" "not in the archive: returning to streaming replication"

# --- another cluster's archive ------------------------------------------------------
P2=$T/p2
C=$T/host3/arch
mkdir_pg "$T/host3" "$C"
ok "initdb p2 (another cluster)" pg_new "$P2" --wal-segsize=1
pg_archiving "$P2" -dl "gzip=$C"
ok "p2 starts, archiving to host 3" pg_start "$P2"
last=$(pg_switch "$P2")
ok "p2's segment $last is archived" pg_wait_archived "$P2" "$last" 60
pg_stop "$P2"

it_run "$PI" -b "$BK1" -a "gzip=$A" -a "gzip=$C"
is "pitr-info, another cluster's archive: exit 1" "$IT_RC" 1
like "... the report says DIFFERENT" "$IT_OUT" "Database system: DIFFERENT: backup \"$(re "$B1")\" in \"$(re "$BK1")\" is of database system [0-9]+, archive \"$(re "$C")\" of system [0-9]+: not one cluster"
is "... one error line" "$(count_lines "$IT_ERR")" 1
like "... naming both" "$IT_ERR" " : ERROR : backup \"$(re "$B1")\" in \"$(re "$BK1")\" is of database system [0-9]+, archive \"$(re "$C")\" of system [0-9]+: not one cluster"

mkdir_pg "$T/r-other"
it_run as_pg "$PR" -b "$BK1" -a "gzip=$A" -a "gzip=$C" -D "$T/r-other/data"
is "pitr-recover, another cluster's archive: exit 1" "$IT_RC" 1
like "... one line naming it" "$IT_ERR" \
	" : ERROR : archive \"$(re "$C")\" holds WAL of database system [0-9]+, backup \"$(re "$B1")\" is of system [0-9]+: nothing written"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/r-other")" ""

it_run "$PS" -D "$T/rs" -s "gzip=$A" -s "gzip=$C" -sr "$FIRST_B" pg_wal/RECOVERYXLOG
is "pitr-restore, another cluster's archive: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... naming both" "$IT_ERR" \
	" : ERROR : --source \"$(re "$A")\" holds WAL of database system [0-9]+, --source \"$(re "$C")\" of system [0-9]+: the archives are of different clusters"

it_done
