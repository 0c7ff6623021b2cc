#!/bin/bash
# synch.sh - pitr-synch against a real PostgreSQL 15 primary (1 MiB
# segments, a tablespace, pgbench data, pgbench writing during the copy):
# one run copies it to two local outputs and one over ssh (a real sshd on
# 127.0.0.1) at once, gzip in transit, the tablespace mapped per output;
# every copy starts (one as a streaming standby, two standalone from their
# backup_label) and shows the primary's rows.  Bad input is refused with
# one line and nothing written; a run killed at a random moment leaves a
# directory PostgreSQL refuses to start, and the same command run again
# succeeds; SIGTERM removes what the run wrote.  A primary on the default
# 16 MiB segments is copied too.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init synch
it_require /usr/sbin/sshd ssh ssh-keygen
PS=$PITR_BUILDDIR/bin/pitr-synch
it_need_built "$PS"

P=$T/primary
mkdir_pg "$T/ts" "$T/o1" "$T/o2" "$T/o3"
ok "initdb primary (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_set "$P" "wal_level = replica" "max_wal_senders = 10" "max_replication_slots = 10"
ok "primary starts" pg_start "$P"
PORT=$(pg_port "$P")
ok "table t in tablespace ts, rows 1..1000; pgbench scale 2" \
	pg_sql "$P" "CREATE TABLESPACE ts LOCATION '$T/ts'" \
	"CREATE TABLE t (id int) TABLESPACE ts" "INSERT INTO t SELECT generate_series(1, 1000)"
ok "pgbench -i -s 2" pg_bench "$P" -q -i -s 2
TSOID=$(pg_sql "$P" "SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")

sshd_start || it_bail "sshd did not start"
ok "ssh logs in as postgres with the test key" as_pg "$SSHD_DIR/ssh" -o BatchMode=yes 127.0.0.1 true

SYNCH=(as_pg "$PS" -h 127.0.0.1 -p "$PORT" -U postgres --ssh-path "$SSHD_DIR/ssh"
	--remote-pitr-synch "$PS")

# --- three outputs at once ----------------------------------------------------
pg_bench "$P" -T 4 -c 2 >/dev/null 2>&1 &
BENCH=$!
it_run "${SYNCH[@]}" -a -c gzip -o "$T/o1/data" -o "$T/o2/data" -o "127.0.0.1:$T/o3/data" \
	-m "$T/ts:ts" -m "$T/ts:127.0.0.1:$T/o3/tsx" -v
wait "$BENCH"
is "three outputs: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "the plan names each output and the tablespace's place there" "$IT_OUT" \
	"to $T/o1/data.*tablespace $T/ts \\($TSOID\\) to $T/o1/ts.*to 127.0.0.1:$T/o3/data.*to $T/o3/tsx"
for o in o1 o2 o3; do
	nok "$o: no in-progress mark left" test -e "$T/$o/data/pitr-synch.in-progress"
	ok "$o: global/pg_control is there" test -s "$T/$o/data/global/pg_control"
	ok "$o: backup_label is there" grep -q '^LABEL: pitr-synch' "$T/$o/data/backup_label"
	like "$o: archive_mode off with its reason" "$(cat "$T/$o/data/postgresql.auto.conf")" \
		"# pitr-synch --archive-mode=off.*archive_mode = 'off'"
	nok "$o: no staging dir left" test -e "$T/$o/data/.pitr-synch.config"
	is "$o: the data dir is postgres's, mode 700" "$(stat -c '%U %a' "$T/$o/data")" "postgres 700"
done
for o in o1 o2; do
	is "$o: tablespace_map names $T/$o/ts" "$(cat "$T/$o/data/tablespace_map")" "$TSOID $T/$o/ts"
	is "$o: pg_tblspc link to $T/$o/ts" "$(readlink "$T/$o/data/pg_tblspc/$TSOID")" "$T/$o/ts"
done
is "o3 (ssh): the host's own map wins: tablespace_map names $T/o3/tsx" \
	"$(cat "$T/o3/data/tablespace_map")" "$TSOID $T/o3/tsx"
ok "o3: the tablespace's files are at $T/o3/tsx" compgen -G "$T/o3/tsx/PG_15_*"

# The three are clones (no standby option): o1 is made a streaming standby
# by hand here, as a pg_basebackup clone would be, to serve below as a hot
# standby source; o2 and o3 start standalone from their backup_label.  The
# standby options are tested on their own further down.
as_pg touch "$T/o1/data/standby.signal"
pg_set "$T/o1/data" "primary_conninfo = 'host=127.0.0.1 port=$PORT user=postgres'"
EXPECT=$(pg_sql "$P" "SELECT count(*) FROM pgbench_history")
for o in o1 o2 o3; do
	ok "$o starts" pg_start "$T/$o/data"
done
ok "o1 is a standby" pg_in_recovery "$T/o1/data"
for o in o2 o3; do
	ok "$o is a primary of its own" pg_promoted "$T/$o/data"
	is "$o: table t has the primary's 1000 rows" "$(pg_sql "$T/$o/data" "SELECT count(*) FROM t")" 1000
	is "$o: pgbench_accounts has the primary's 200000 rows" \
		"$(pg_sql "$T/$o/data" "SELECT count(*) FROM pgbench_accounts")" 200000
done
ok "primary: rows 1001..1100" pg_sql "$P" "INSERT INTO t SELECT generate_series(1001, 1100)"
wait_for "o1 streams the new rows" 60 pg_has_rows "$T/o1/data" t 1100
is "o1: pgbench_history as on the primary" "$(pg_sql "$T/o1/data" "SELECT count(*) FROM pgbench_history")" \
	"$EXPECT"

# A hot standby as the source: o1 copied, pg_control before the stop, the
# WAL from the standby's own pg_wal; -l and --pid-file on the way.
mkdir_pg "$T/sb" "$T/log"
it_run as_pg "$PS" -h 127.0.0.1 -p "$(pg_port "$T/o1/data")" -U postgres -a -o "$T/sb/data" \
	-m "$T/o1/ts:ts" -l "$T/log/synch-^Y.log" --pid-file "$T/sb/synch.pid"
is "standby source: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "standby source: the plan says so" "$IT_OUT" "copy of $T/o1/data \\(a standby\\)"
ok "standby source: -l names the log by its template" grep -q "backup stopped at" "$T/log/synch-$(date +%Y).log"
nok "standby source: the pid file is gone" test -e "$T/sb/synch.pid"
ok "standby source: its copy starts" pg_start "$T/sb/data"
ok "standby source: the copy is a standby, as its source (standby.signal came along)" pg_in_recovery "$T/sb/data"
# A standby copy answers once consistent, which may be before it replayed
# the last rows its source had (a slow run, ASan's, met it).
wait_for "standby source: the copy has what the standby had" 60 pg_has_rows "$T/sb/data" t 1100
# --- a streaming standby in one command ----------------------------------------
# The standby options (as pitr-recover's) write its configuration: no
# postgresql.conf edited, no signal file touched by hand; --set port wins
# over what postgresql.conf says.
mkdir_pg "$T/st"
STPORT=$(pg_adopt "$T/st/data")
it_run "${SYNCH[@]}" -a -o "$T/st/data" -m "$T/ts:ts" --standby \
	--primary-conninfo "host=127.0.0.1 port=$PORT user=postgres" --hot-standby on \
	--set "port=$STPORT" --set "work_mem=7MB"
is "--standby: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "--standby: standby.signal written" test -e "$T/st/data/standby.signal"
nok "--standby: no recovery.signal" test -e "$T/st/data/recovery.signal"
ST_CONF=$(cat "$T/st/data/postgresql.auto.conf")
like "--standby: primary_conninfo written" "$ST_CONF" "primary_conninfo = 'host=127.0.0.1 port=$PORT user=postgres'"
unlike "--standby: no restore_command without --archive" "$ST_CONF" "restore_command = '/"
like "--standby: --set port last" "$ST_CONF" "port = '$STPORT'"
ok "--standby: the copy starts as it is" as_pg "$PGBIN/pg_ctl" -D "$T/st/data" -l "$T/st.log" -w -t 90 start
ok "--standby: in recovery" pg_in_recovery "$T/st/data"
is "--standby: --set work_mem reached the server" "$(pg_sql "$T/st/data" "SHOW work_mem")" 7MB
ok "primary: rows 1101..1200" pg_sql "$P" "INSERT INTO t SELECT generate_series(1101, 1200)"
wait_for "--standby: it streams the new rows" 60 pg_has_rows "$T/st/data" t 1200
ok "--standby: its WAL receiver streams" pg_streaming "$T/st/data"

for o in o1 o2 o3 sb st; do
	ok "$o stops" pg_stop "$T/$o/data"
done

# An output that fails (ssh to a host where nothing listens) is named; the
# others complete; the run exits 1.
it_run "${SYNCH[@]}" -a -o "$T/ok1/data" -o "dead:$T/never/data" -m "$T/ts:ts"
is "a failed output: exit 1" "$IT_RC" 1
like "a failed output: named" "$IT_ERR" "output \"dead:$T/never/data\" failed"
like "a failed output: the other completes" "$IT_ERR" "output \"$T/ok1/data\": copy complete"
ok "a failed output: the other's copy is whole" test -s "$T/ok1/data/global/pg_control"
nok "a failed output: nothing at the failed one" test -e "$T/never"

# --- bad input: one line, exit 1, nothing written ------------------------------
LOGLINE='^[0-9-]{10} [0-9:.]{15} [+-][0-9]{4} : [0-9]+ : pitr-synch : ERROR : '
refused()
{
	local desc=$1 re=$2
	shift 2
	it_run "${SYNCH[@]}" "$@"
	is "$desc: exit 1" "$IT_RC" 1
	is "$desc: one line on stderr" "$(count_lines "$IT_ERR")" 1
	like "$desc: it says why" "$IT_ERR" "$LOGLINE.*$re"
}
mkdir_pg "$T/full"
as_pg touch "$T/full/keep"
refused "non-empty output" "\"$T/full\" is not empty and holds no interrupted pitr-synch copy" \
	-a -o "$T/full" -m "$T/ts:$T/bad-ts"
is "non-empty output: untouched" "$(ls -A "$T/full")" keep
nok "non-empty output: no tablespace dir made" test -e "$T/bad-ts"
refused "output = source" "is the source.s \"$P\" itself" -a -o "$P" -m "$T/ts:$T/bad-ts"
refused "output inside the source" "is the source.s \"$P\" itself" -a -o "$P/sub" -m "$T/ts:$T/bad-ts"
nok "output inside the source: nothing made" test -e "$P/sub"
ln -s "$P" "$T/plink"
refused "output inside the source through a link" "is the source.s \"$P\" itself" -a -o "$T/plink/new/data" \
	-m "$T/ts:$T/bad-ts"
refused "output inside the source's tablespace" "is the source.s \"$T/ts\" itself" -a -o "$T/ts/data" \
	-m "$T/ts:$T/bad-ts"
# The source itself through ssh (this host): its receiver refuses it as a
# directory that is not empty; the source is untouched and still runs.
it_run "${SYNCH[@]}" -a -o "127.0.0.1:$P" -m "$T/ts:$T/bad-ts"
is "the source through ssh: exit 1" "$IT_RC" 1
like "the source through ssh: refused by its receiver" "$IT_ERR" \
	"output \"$P\" is not empty and holds no interrupted pitr-synch copy"
like "the source through ssh: the output named" "$IT_ERR" "output \"127.0.0.1:$P\" failed"
ok "the source through ssh: the source still runs" pg_has_rows "$P" t 1200
nok "the source through ssh: no mark left in it" test -e "$P/pitr-synch.in-progress"
refused "tablespace onto the source's own" "tablespace \"$T/ts\" would be copied onto the source's own" \
	-a -o "$T/bad"
refused "--map naming no tablespace" "--map \"/nowhere:/x\" names no tablespace" \
	-a -o "$T/bad" -m "$T/ts:$T/bad-ts" -m /nowhere:/x
refused "two outputs, one place" "would both write \"$T/bad-ts\"" \
	-a -o "$T/bad" -o "$T/bad2" -m "$T/ts:$T/bad-ts"
it_run as_pg "$PS" -h 127.0.0.1 -p "$SSHD_DEAD_PORT" -U postgres -a -o "$T/bad"
is "conninfo that cannot connect: exit 1" "$IT_RC" 1
is "conninfo that cannot connect: one line" "$(count_lines "$IT_ERR")" 1
like "conninfo that cannot connect: says so" "$IT_ERR" "could not connect to PostgreSQL"
for bad in relative/dir host:relative "user@:/x" "h:0:/x" "h:99999:/x" / "/a/../b" "rsync://h"; do
	refused "-o $bad" "invalid value \"$bad\" for option \"--output\"" -a -o "$bad"
done
for bad in foo /usr/bin/pbzip2 "gzip:99" ""; do
	refused "-c '$bad'" "\"--compress\"" -a -c "$bad" -o "$T/bad"
done
for bad in relative:/x /x /x:host:rel; do
	refused "-m $bad" "invalid value \"$bad\" for option \"--map\"" -a -o "$T/bad" -m "$bad"
done
refused "--bwlimit without -r" "--bwlimit limits rsync: it needs -r" -a --bwlimit 100 -o "$T/bad"
it_run "${SYNCH[@]}" -o "$T/bad" -m "$T/ts:$T/bad-ts" </dev/null
is "no -a and no terminal: exit 1" "$IT_RC" 1
is "no -a and no terminal: one line" "$(count_lines "$IT_ERR")" 1
like "no -a and no terminal: asks for -a" "$IT_ERR" "give -a"
like "no -a: the plan is shown first" "$IT_OUT" "to $T/bad"
# On a terminal (script(1) gives it one): the plan, then the question;
# anything but "y" copies nothing, "y" copies.
printf '#!/bin/sh\nexec runuser -u postgres -- %q -h 127.0.0.1 -p %q -U postgres -o %q -m %q\n' \
	"$PS" "$PORT" "$T/conf/data" "$T/ts:$T/conf/ts" >"$T/confirm.sh"
chmod 755 "$T/confirm.sh"
it_run bash -c "printf 'n\n' | script -qec '$T/confirm.sh' /dev/null"
is "terminal, answered n: exit 1" "$IT_RC" 1
like "terminal, answered n: the question was asked" "$IT_OUT" "Proceed\\? \\[y/N\\]"
like "terminal, answered n: nothing copied" "$IT_OUT" "not confirmed: nothing copied"
nok "terminal, answered n: nothing at the output" test -e "$T/conf"
it_run bash -c "printf 'y\n' | script -qec '$T/confirm.sh' /dev/null"
is "terminal, answered y: exit 0" "$IT_RC" 0
ok "terminal, answered y: the copy is there" test -s "$T/conf/data/global/pg_control"

for d in bad bad2 bad-ts; do
	nok "bad input: nothing at $T/$d" test -e "$T/$d"
done

# --- an interrupted run: killed at a random moment, then run again ---------------
# A receiver that reads slowly (about 1.3 MB/s, through a python cat on the
# ssh output's host), so that the random moment falls inside the copy.
cat >"$T/slow-synch" <<SLOW
#!/bin/sh
python3 -c 'import sys, time
i, o = sys.stdin.buffer, sys.stdout.buffer
while True:
    b = i.read1(65536)
    if not b:
        break
    o.write(b); o.flush(); time.sleep(0.05)' | "$PS" "\$@"
SLOW
chmod 755 "$T/slow-synch"
SLOW=(as_pg "$PS" -h 127.0.0.1 -p "$PORT" -U postgres --ssh-path "$SSHD_DIR/ssh"
	--remote-pitr-synch "$T/slow-synch")
KILLCMD=("${SLOW[@]}" -a -c zstd -o "127.0.0.1:$T/k/data" -m "$T/ts:$T/k/ts")
"${KILLCMD[@]}" >"$T/kill.out" 2>&1 &
VICTIM=$!
wait_for "the killed run's receiver began" 60 test -e "$T/k/data/pitr-synch.in-progress"
sleep "$((RANDOM % 2)).$((RANDOM % 10))"
# The run and everything it started, by pid (as_pg's runuser, pitr-synch,
# ssh), and the receiver on the ssh host, at once: SIGKILL cleans nothing.
kill_tree()
{
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		kill_tree "$c"
	done
	kill -KILL "$1" 2>/dev/null
}
for r in $(proc_pids "--receive $T/k/data"); do
	kill -KILL "$r" 2>/dev/null
done
kill_tree "$VICTIM"
wait "$VICTIM" 2>/dev/null
if [ -e "$T/k/data/pitr-synch.in-progress" ]; then
	nok "killed copy: no global/pg_control" test -e "$T/k/data/global/pg_control"
	pg_prepare "$T/k/data"
	nok "killed copy: PostgreSQL refuses to start it" \
		as_pg "$PGBIN/pg_ctl" -D "$T/k/data" -l "$T/k.log" -w -t 30 start
	like "killed copy: for want of pg_control" "$(cat "$T/k.log")" 'could not open file ".*/global/pg_control"'
else
	diag "the run ended before the kill: nothing to check in the killed copy"
	rm -rf "$T/k"
fi
it_run "${KILLCMD[@]}"
is "the same command again: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "the same command again: replaces the interrupted copy" "$IT_ERR" \
	"\"$T/k/data\" holds an interrupted pitr-synch copy: replaced"
ok "the re-run's copy starts" pg_start "$T/k/data"
is "the re-run's copy has table t's rows" "$(pg_sql "$T/k/data" "SELECT count(*) FROM t")" 1200
ok "the re-run's copy stops" pg_stop "$T/k/data"

# --- SIGTERM: the run stops, every output's copy is removed ------------------------
"${SLOW[@]}" -a -o "$T/term/data" -o "127.0.0.1:$T/term2/data" -m "$T/ts:ts" >"$T/term.out" 2>&1 &
VICTIM=$!
wait_for "the TERM run's receivers began" 60 test -e "$T/term2/data/pitr-synch.in-progress"
# pitr-synch itself, under the subshell and runuser of as_pg.
synch_pid()
{
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		if grep -q 'pitr-synch' "/proc/$c/comm"; then
			echo "$c"
		else
			synch_pid "$c"
		fi
	done
}
TERMPID=$(synch_pid "$VICTIM")
like "SIGTERM: the run's pid found" "$TERMPID" '^[0-9]+$'
kill -TERM "$TERMPID"
wait "$VICTIM"
is "SIGTERM: exit 1" "$?" 1
like "SIGTERM: the run says so" "$(cat "$T/term.out")" "pitr-synch : .*SIGTERM"
for o in term term2; do
	wait_for "SIGTERM: $o: the receiver removed the data dir it made" 30 \
		bash -c "! test -e '$T/$o/data'"
	nok "SIGTERM: $o: and the tablespace dir" test -e "$T/$o/ts"
done
no_session() { [ "$(pg_sql "$P" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pitrkit'")" = 0 ]; }
wait_for "SIGTERM: the session ended (which aborts the backup)" 30 no_session
is "SIGTERM: the source has no replication slot left" \
	"$(pg_sql "$P" "SELECT count(*) FROM pg_replication_slots")" 0

# --- the default 16 MiB segments ------------------------------------------------
P16=$T/p16
ok "initdb p16 (16 MiB segments)" pg_new "$P16"
ok "p16 starts" pg_start "$P16"
ok "p16: rows" pg_sql "$P16" "CREATE TABLE u AS SELECT generate_series(1, 500) AS id"
# Run as root this time: the copy is still the cluster's owner's.
it_run "$PS" -h 127.0.0.1 -p "$(pg_port "$P16")" -U postgres -a -o "$T/c16/data"
is "16 MiB: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
is "run as root: everything in the copy is postgres's" "$(find "$T/c16/data" ! -user postgres)" ""
ok "16 MiB: the copy starts" pg_start "$T/c16/data"
is "16 MiB: the copy has the rows" "$(pg_sql "$T/c16/data" "SELECT count(*) FROM u")" 500
ok "16 MiB: the copy stops" pg_stop "$T/c16/data"

it_done
