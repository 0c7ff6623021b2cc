#!/bin/bash
# synch-delta.sh - pitr-synch -r, the delta re-sync through the real rsync
# program, against real PostgreSQL 15 servers (1 MiB segments): a primary
# and its streaming standby; the standby promoted and written to, the old
# primary diverged and stopped; the old primary re-synced from the new
# one in one command (-r --standby --primary-conninfo), sending far less
# than the database's size, and started as a standby of the new primary
# that follows it (its diverged writes gone).
# An rsync daemon output copied, then re-synced with -r, and started.
# An ssh output (a real sshd on 127.0.0.1) copied by -r onto nothing,
# refused while it holds a postmaster.pid, re-synced with --force, started.
# A tablespace mapped at a local output, a file only there removed; a -r
# run killed half way leaves a copy that cannot start, the same command
# again completes it.
# Bad input: -r onto another system's data directory (refused, then
# accepted with --force), onto a running server, onto a directory that is
# no data directory.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init synch-delta
it_require rsync
PS=$PITR_BUILDDIR/bin/pitr-synch
it_need_built "$PS"

P=$T/p
S=$T/s
mkdir_pg "$T/base" "$T/mod" "$T/other"
ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_set "$P" "wal_level = replica" "max_wal_senders = 10" "max_replication_slots = 10" \
	"checkpoint_timeout = 30s"
ok "p starts" pg_start "$P"
ok "pgbench -i -s 10 on p" pg_bench "$P" -q -i -s 10
ok "table t, rows 1..1000" pg_sql "$P" "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g"
ok "s: a base backup of p" pg_base_backup "$P" "$T/base/s" -X stream
ok "s: a streaming standby of p" pg_standby_new "$T/base/s" "$S" standby false \
	"primary_conninfo = 'host=127.0.0.1 port=$(pg_port "$P") user=postgres application_name=s'"
ok "s starts" pg_launch "$S"
wait_for "s streams from p" 60 pg_streaming "$S"
lsn=$(pg_lsn "$P")
wait_for "s replays p's WAL" 60 pg_replayed "$S" "$lsn"

# --- failover, then failback of the old primary by delta -----------------------------
ok "s is promoted" pg_sql "$S" "SELECT pg_promote()"
wait_for "s accepts writes" 60 pg_promoted "$S"
ok "the new primary s: rows 1001..2000, some pgbench" \
	pg_sql "$S" "INSERT INTO t SELECT generate_series(1001, 2000)"
ok "pgbench on s" pg_bench "$S" -t 300 -c 2
# The old primary diverges: a table and rows of its own, written in place
# over pages s has too (same files, same sizes).
ok "p diverges: rows of its own" pg_sql "$P" \
	"CREATE TABLE only_p AS SELECT g FROM generate_series(1, 5000) g" \
	"UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 2000" "CHECKPOINT"
ok "p stops" pg_stop "$P"
SYSID_S=$(pg_control "$S" "Database system identifier")
mkdir_pg "$T/stage"
SYNCH=(as_pg "$PS" -h 127.0.0.1 -p "$(pg_port "$S")" -U postgres -D "$S" -a -v -t "$T/stage")

it_run "${SYNCH[@]}" -r --keep-conf -o "$P" --standby \
	--primary-conninfo "host=127.0.0.1 port=$(pg_port "$S") user=postgres application_name=p"
is "-r onto the old primary: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
sent=$(sed -n 's/.*data directory brought up to date, \([0-9]*\) bytes sent.*/\1/p' <<<"$IT_ERR" | head -1)
size=$(pg_sql "$S" "SELECT sum(pg_database_size(oid)) FROM pg_database")
ok "the bytes sent ($sent) are reported" test -n "$sent"
# A sanity bound on the ratio, not a target (bench/synch measures those):
# the failback changed a few pages of a database of $size bytes.
ok "far below the database's size: $sent < $size / 4" test "${sent:-$size}" -lt $((size / 4))
like "-v: rsync's figures per call" "$IT_ERR" "bytes sent as they are, [0-9]+ bytes found there"
diag "$(grep -E 'rsync to|brought up to date' <<<"$IT_ERR" | sed 's/.* : //')"
nok "no in-progress mark left" test -e "$P/pitr-synch.in-progress"
ok "backup_label written" grep -q '^LABEL: pitr-synch' "$P/backup_label"
is "the old primary is now s's system" "$(pg_control "$P" "Database system identifier")" "$SYSID_S"
like "--keep-conf: p's own postgresql.conf stays (its port line)" "$(cat "$P/postgresql.conf")" \
	"port = $(pg_port "$P")"
is "pg_wal holds the copy's WAL only, archive_status empty" \
	"$(find "$P/pg_wal/archive_status" -type f | wc -l)" 0
nok "no postmaster.pid nor postmaster.opts copied" test -e "$P/postmaster.opts"

ok "--standby: standby.signal written" test -e "$P/standby.signal"
like "--standby: primary_conninfo in postgresql.auto.conf" "$(cat "$P/postgresql.auto.conf")" \
	"primary_conninfo = .*port=$(pg_port "$S")"
ok "the re-synced p starts" pg_launch "$P"
wait_for "p is in recovery" 60 pg_in_recovery "$P"
wait_for "p streams from s" 60 pg_streaming "$P"
ok "rows 2001..2100 on s" pg_sql "$S" "INSERT INTO t SELECT generate_series(2001, 2100)"
lsn=$(pg_lsn "$S")
wait_for "p replays s's WAL" 60 pg_replayed "$P" "$lsn"
is "p holds s's rows and none of its own" \
	"$(pg_sql "$P" "SELECT count(*), max(id), to_regclass('only_p') IS NULL FROM t")" "2100|2100|t"
is "pgbench_accounts as on s" "$(pg_sql "$P" "SELECT sum(abalance) FROM pgbench_accounts")" \
	"$(pg_sql "$S" "SELECT sum(abalance) FROM pgbench_accounts")"
ok "p stops" pg_stop "$P"

# --- an rsync daemon output ---------------------------------------------------------
ok "an rsync daemon on 127.0.0.1" rsyncd_start d "$T/mod"
URL="$(rsyncd_url d)data"
it_run "${SYNCH[@]}" -o "$URL"
is "daemon output, first copy (no -r): exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "daemon output: pg_control there" test -s "$T/mod/data/global/pg_control"
it_run "${SYNCH[@]}" -o "$URL"
is "daemon output holding a data dir, without -r: exit 1" "$IT_RC" 1
like "... says to use -r" "$IT_ERR" "holds a data directory: re-sync it with -r"
ok "rows 2101..3000 on s" pg_sql "$S" "INSERT INTO t SELECT generate_series(2101, 3000)"
it_run "${SYNCH[@]}" -r -o "$URL" --bwlimit 100000
is "daemon output re-synced with -r: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
pg_set "$T/mod/data" "archive_mode = off"
ok "the daemon's copy starts (standalone, from its backup_label)" pg_start "$T/mod/data"
is "the daemon's copy has s's 3000 rows" "$(pg_sql "$T/mod/data" "SELECT count(*) FROM t")" 3000
ok "the daemon's copy stops" pg_stop "$T/mod/data"

LOGLINE='^[0-9-]{10} [0-9:.]{15} [+-][0-9]{4} : [0-9]+ : pitr-synch : ERROR : '

# --- an ssh output (a real sshd on 127.0.0.1) ---------------------------------------
it_require /usr/sbin/sshd ssh ssh-keygen
sshd_start || it_bail "sshd did not start"
SSHOUT=$T/sshout/data
mkdir_pg "$T/sshout"
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -c zstd -r -o "127.0.0.1:$SSHOUT"
is "ssh output, -r onto nothing: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "ssh output: s's system" "$(pg_control "$SSHOUT" "Database system identifier")" "$SYSID_S"
ok "rows 3001..3500 on s" pg_sql "$S" "INSERT INTO t SELECT generate_series(3001, 3500)"
# A stale postmaster.pid: its pid one of a process that has ended.
DEADPID=$(sh -c 'echo $$')
as_pg sh -c "printf '%s\n%s\n' $DEADPID '$SSHOUT' >'$SSHOUT/postmaster.pid'"
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r -o "127.0.0.1:$SSHOUT"
is "ssh output holding postmaster.pid: exit 1" "$IT_RC" 1
like "... a server may run there" "$IT_ERR" "pitr-synch : ERROR : output \"127.0.0.1:$SSHOUT\" holds postmaster.pid: a server may be running there; stop it \\(or give --stale-pid-file"
# --force means another system's data directory, not a server that may run.
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r --force -o "127.0.0.1:$SSHOUT"
is "... with --force: still exit 1" "$IT_RC" 1
like "... the same error" "$IT_ERR" "pitr-synch : ERROR : output \"127.0.0.1:$SSHOUT\" holds postmaster.pid"
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r --stale-pid-file -o "127.0.0.1:$SSHOUT"
is "... with --stale-pid-file: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "... the postmaster.pid neither removed nor written" "$(head -1 "$SSHOUT/postmaster.pid")" "$DEADPID"
# The source itself as an ssh output: the mark pitr-synch put into the
# source's data directory is found there, refused even with --force (-r
# would empty its pg_wal).
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r --force -o "127.0.0.1:$S"
is "-r --force onto the source itself over ssh: exit 1" "$IT_RC" 1
like "... it says so" "$IT_ERR" "pitr-synch : ERROR : output \"127.0.0.1:$S\": \"$S\" is the source's data directory \"$S\" itself"
is "... no mark left in the source" "$(find "$S" -maxdepth 1 -name '*synch-self*')" ""
ok "... and the source still runs" pg_promoted "$S"
nok "... with no in-progress mark" test -e "$S/pitr-synch.in-progress"
pg_set "$SSHOUT" "archive_mode = off"
ok "the ssh copy starts" pg_start "$SSHOUT"
is "the ssh copy has s's 3500 rows" "$(pg_sql "$SSHOUT" "SELECT count(*) FROM t")" 3500
ok "the ssh copy stops" pg_stop "$SSHOUT"

# --- tablespaces, and a run killed half way --------------------------------------
mkdir_pg "$T/c" "$T/tsd"
ok "tablespace tsd on s, table u in it" pg_sql "$S" "CREATE TABLESPACE tsd LOCATION '$T/tsd'" \
	"CREATE TABLE u TABLESPACE tsd AS SELECT generate_series(1, 500) AS id"
TSOID=$(pg_sql "$S" "SELECT oid FROM pg_tablespace WHERE spcname = 'tsd'")
# An ssh output that is this host, with no --map: each tablespace's place
# is the source's own location, found by its mark and refused before
# anything is written (rsync would have run onto the live tablespace).
TSVD=$(compgen -G "$T/tsd/PG_15_*")
as_pg mkdir -p "$TSVD/pgsql_tmp"
as_pg touch "$TSVD/pgsql_tmp/pgsql_tmp42.0"
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r --force -o "127.0.0.1:$T/sshout/b"
is "-r to this host over ssh, no --map, with a tablespace: exit 1" "$IT_RC" 1
like "... the place is the source's tablespace itself" "$IT_ERR" \
	"pitr-synch : ERROR : output \"127.0.0.1:$T/sshout/b\": \"$T/tsd\" is the source's tablespace \"$T/tsd\" itself"
ok "... the source's temporary file untouched" test -e "$TSVD/pgsql_tmp/pgsql_tmp42.0"
nok "... the output not made" test -e "$T/sshout/b"
is "... no mark left in the source nor its tablespace" \
	"$(find "$S" "$T/tsd" -maxdepth 1 -name '*synch-self*')" ""
as_pg rm -r "$TSVD/pgsql_tmp"
C=$T/c/data
mkdir_pg "$T/junkts"
as_pg touch "$T/junkts/precious"
# A remote place is listed (rsync --list-only) under the same rule.
it_run "${SYNCH[@]}" --ssh-path "$SSHD_DIR/ssh" -r -o "127.0.0.1:$T/sshout/a" -m "$T/tsd:$T/junkts"
is "-r over ssh mapping a tablespace onto a directory that is no tablespace's: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "pitr-synch : ERROR : output \"127.0.0.1:$T/sshout/a\": tablespace place \"$T/junkts\" holds \"precious\", which is not the source's tablespace directory PG_15_"
is "... untouched" "$(ls -A "$T/junkts")" precious
nok "... the output not made" test -e "$T/sshout/a"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:/"
is "-r mapping a tablespace onto /: exit 1" "$IT_RC" 1
like "... an invalid --map" "$IT_ERR" "pitr-synch : ERROR : invalid value \"$T/tsd:/\" for option \"--map\""
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/junkts"
is "-r mapping a tablespace onto a directory that is no tablespace's: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "tablespace place \"$T/junkts\" holds \"precious\", which is not the source's tablespace directory PG_15_"
is "... untouched" "$(ls -A "$T/junkts")" precious
nok "... the output not made" test -e "$C"
# Another cluster's or major version's tablespace directory is not this
# source's: refused, not emptied.
mkdir_pg "$T/oldts" "$T/oldts/PG_14_202107181"
as_pg touch "$T/oldts/PG_14_202107181/16384"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/oldts"
is "-r mapping a tablespace onto a place holding PG_14_...: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "tablespace place \"$T/oldts\" holds \"PG_14_202107181\", which is not the source's tablespace directory PG_15_"
ok "... untouched" test -e "$T/oldts/PG_14_202107181/16384"
nok "... the output not made" test -e "$C"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/c/tsd"
is "-r with a tablespace, onto nothing: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "rows 501..800 in u; a file only at the copy's tablespace" \
	pg_sql "$S" "INSERT INTO u SELECT generate_series(501, 800)"
as_pg touch "$(compgen -G "$T/c/tsd/PG_15_*")/stale"
# A run killed half way (rsync slowed down so that the kill falls inside
# it) leaves a copy PostgreSQL refuses to start; the same command again
# completes it.
printf '#!/bin/sh\nsleep 0.3\nexec rsync "$@"\n' >"$T/slow-rsync"
chmod 755 "$T/slow-rsync"
"${SYNCH[@]}" -r -rp "$T/slow-rsync" -o "$C" -m "$T/tsd:$T/c/tsd" >"$T/kill.out" 2>&1 &
VICTIM=$!
wait_for "the killed run marked the copy" 60 test -e "$C/pitr-synch.in-progress"
# kill_synch PID: SIGKILL to the pitr-synch among PID's descendants (under
# as_pg's subshell and runuser), by pid, and to nothing else.
kill_synch()
{
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if grep -q 'pitr-synch' "/proc/$c/comm" 2>/dev/null; then
			kill -KILL "$c"
		else
			kill_synch "$c"
		fi
	done
}
kill_synch "$VICTIM"
wait "$VICTIM" 2>/dev/null
unlike "killed -r run: it was killed before it completed" "$(cat "$T/kill.out")" "copy complete"
# What it staged is flat (files and links only), so that any pitrkit
# program's sweep of dead temporary files can remove it.
is "killed -r run: its staging dirs hold no directory" "$(find "$T/stage" -mindepth 2 -type d)" ""
nok "killed -r run: no global/pg_control" test -e "$C/global/pg_control"
it_run as_pg "$PGBIN/postgres" --single -D "$C" postgres </dev/null
nok "killed -r run: PostgreSQL refuses to start it" test "$IT_RC" -eq 0
like "... for want of pg_control" "$IT_ERR" 'could not open file "global/pg_control"'
# pitr-synch's rsync dies with it (PR_SET_PDEATHSIG): nothing writes on
# under the next run.
no_process() { [ -z "$(proc_pids "$1")" ]; }
wait_for "killed -r run: its rsync ends with it" 30 no_process "$C/"
# The marks put into the source while the places are looked at go with a
# fatal signal: SIGTERM while the remote listing runs (an rsync that lists
# only once $T/go exists, which it never does).
marks() { find "$S" "$T/tsd" -maxdepth 1 -name '*synch-self*' | grep -q .; }
printf '%s\n' '#!/bin/sh' "case \" \$* \" in *' --list-only '*)" \
	"	while [ ! -e '$T/go' ]; do sleep 0.1; done ;;" 'esac' 'exec rsync "$@"' >"$T/hang-rsync"
chmod 755 "$T/hang-rsync"
"${SYNCH[@]}" -r -rp "$T/hang-rsync" --ssh-path "$SSHD_DIR/ssh" -o "127.0.0.1:$T/sshout/m" \
	-m "$T/tsd:$T/sshout/mts" >"$T/term.out" 2>&1 &
VICTIM=$!
wait_for "a run looking at its places has marked the source" 60 marks
term_synch()
{
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if grep -q 'pitr-synch' "/proc/$c/comm" 2>/dev/null; then
			kill -TERM "$c"
		else
			term_synch "$c"
		fi
	done
}
term_synch "$VICTIM"
rc=0
wait "$VICTIM" 2>/dev/null || rc=$?
as_pg touch "$T/go"
is "SIGTERM while looking: exit 1" "$rc" 1
nok "SIGTERM while looking: no mark left in the source nor its tablespace" marks
nok "... nothing made at the output" test -e "$T/sshout/m"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/c/tsd"
is "the same -r again: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "tablespace_map names the mapped place" "$(cat "$C/tablespace_map")" "$TSOID $T/c/tsd"
is "pg_tblspc link to the mapped place" "$(readlink "$C/pg_tblspc/$TSOID")" "$T/c/tsd"
nok "the file only at the copy's tablespace is gone" compgen -G "$T/c/tsd/PG_15_*/stale"
pg_set "$C" "archive_mode = off"
ok "the copy starts" pg_start "$C"
is "the copy has u's 800 rows, from its tablespace" "$(pg_sql "$C" "SELECT count(*) FROM u")" 800
is "... at the mapped place" "$(pg_sql "$C" "SELECT pg_tablespace_location($TSOID)")" "$T/c/tsd"
ok "the copy stops" pg_stop "$C"
# A tablespace place that is the output itself by another path: through a
# link (its --delete would empty the copy just written), or a link.
ln -s "$T/c" "$T/clink"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/clink/data"
is "-r with a tablespace place that is the output through a link: exit 1" "$IT_RC" 1
like "... says so (the two places, either first)" "$IT_ERR" "pitr-synch : ERROR : output \"$C\": (\"$T/clink/data\" is \"$C\"|\"$C\" is \"$T/clink/data\") of output \"$C\" or inside it"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/clink/data/base/tsd"
is "... or inside it through a link: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "pitr-synch : ERROR : output \"$C\": \"$T/clink/data/base/tsd\" is \"$C\" of output \"$C\" or inside it"
ln -s "$T/c/tsd" "$T/tslink"
it_run "${SYNCH[@]}" -r -o "$C" -m "$T/tsd:$T/tslink"
is "... a tablespace place that is a link: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "pitr-synch : ERROR : output \"$C\": tablespace place \"$T/tslink\" is a symbolic link"
ok "... the copy intact: pg_control" test -s "$C/global/pg_control"
ok "... and base/" test -d "$C/base"
ok "table u and tablespace tsd dropped on s" pg_sql "$S" "DROP TABLE u" "DROP TABLESPACE tsd"

# --- two outputs, one failing half way -------------------------------------------
# rsync fails (as a full disk would) on the second output's data directory
# only: that output is named in one error line and left an interrupted
# copy; the first completes.
mkdir_pg "$T/twoa" "$T/twob"
printf '%s\n' '#!/bin/sh' \
	"case \" \$* \" in *\" --inplace \"*\" $T/twob/data/ \"*)" \
	"	echo 'rsync: [receiver] write failed on \"base/1/1259\": No space left on device (28)' >&2" \
	'	exit 11 ;;' 'esac' 'exec rsync "$@"' >"$T/full-rsync"
chmod 755 "$T/full-rsync"
it_run "${SYNCH[@]}" -r -rp "$T/full-rsync" -o "$T/twoa/data" -o "$T/twob/data"
is "two outputs, the second failing: exit 1" "$IT_RC" 1
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
like "... naming the output and rsync's reason" "$IT_ERR" \
	"ERROR : could not bring up to date \"$T/twob/data\" at output \"$T/twob/data\": rsync exit status 11: .receiver. write failed on \"base/1/1259\": No space left on device"
ok "... the first output is complete" test -s "$T/twoa/data/global/pg_control"
nok "... and unmarked" test -e "$T/twoa/data/pitr-synch.in-progress"
ok "... the second holds the mark" test -e "$T/twob/data/pitr-synch.in-progress"
nok "... and no pg_control" test -e "$T/twob/data/global/pg_control"

# --- bad input ---------------------------------------------------------------------
O=$T/other/data
ok "initdb another system" pg_new "$O"
SYSID_O=$(pg_control "$O" "Database system identifier")
it_run "${SYNCH[@]}" -r -o "$O"
is "-r onto another system: exit 1" "$IT_RC" 1
is "... one error line" "$(grep -c 'ERROR' <<<"$IT_ERR")" 1
like "... naming both systems" "$IT_ERR" "${LOGLINE}output \"$O\" holds a data directory of system $SYSID_O, not the source's $SYSID_S: give --force"
is "... the other system untouched" "$(pg_control "$O" "Database system identifier")" "$SYSID_O"
nok "... no in-progress mark" test -e "$O/pitr-synch.in-progress"
it_run "${SYNCH[@]}" -r --force -o "$O"
is "-r --force onto another system: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "... it is s's system now" "$(pg_control "$O" "Database system identifier")" "$SYSID_S"

R=$T/other/running
ok "initdb a server that will run" pg_new "$R"
ok "it runs" pg_start "$R"
it_run "${SYNCH[@]}" -r --force -o "$R"
is "-r onto a running server (even with --force): exit 1" "$IT_RC" 1
like "... says a server runs there" "$IT_ERR" "${LOGLINE}output \"$R\": a server is running there"
ok "... and it still runs" pg_alive "$R"
ok "it stops" pg_stop "$R"

mkdir_pg "$T/other/junk"
as_pg touch "$T/other/junk/precious"
it_run "${SYNCH[@]}" -r -o "$T/other/junk"
is "-r onto a directory that is no data dir: exit 1" "$IT_RC" 1
like "... says so" "$IT_ERR" "holds no data directory nor an interrupted pitr-synch copy"
is "... untouched" "$(ls -A "$T/other/junk")" precious

# An in-place tablespace (pg_tblspc/OID a directory): -r would leave it
# out silently; refused in one line.
ok "an in-place tablespace on s" pg_sql "$S" "SET allow_in_place_tablespaces = on" \
	"CREATE TABLESPACE ip LOCATION ''"
IPOID=$(pg_sql "$S" "SELECT oid FROM pg_tablespace WHERE spcname = 'ip'")
it_run "${SYNCH[@]}" -r -o "$T/ipout/data"
is "-r from a source with an in-place tablespace: exit 1" "$IT_RC" 1
is "... one error line" "$(grep -c 'ERROR' <<<"$IT_ERR")" 1
like "... naming it" "$IT_ERR" "pitr-synch : ERROR : the source's tablespace \"$S/pg_tblspc/$IPOID\" is in place"
nok "... the output not made" test -e "$T/ipout/data"
ok "the in-place tablespace dropped" pg_sql "$S" "DROP TABLESPACE ip"

is "no staging dir or rsync capture left but the killed run's" \
	"$(find "$T/stage" -mindepth 1 -maxdepth 1 ! -name '.pitr-tmp.synch-*' | wc -l)" 0
it_done
