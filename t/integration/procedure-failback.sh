#!/bin/bash
# procedure-failback.sh - examples/procedures/failback.sh, failback of the
# old primary by delta re-sync, run step by step against real PostgreSQL 15
# servers (1 MiB segments) on 127.0.0.1, the copies made over the real sshd:
# the standby made by pitr-synch --standby streams; the rows written while
# it was cut off are lost at the failover; the promoted standby is on
# timeline 2; ONE pitr-synch -r call makes the crashed, diverged old
# primary a standby of the new one, which then streams, holds the new
# primary's rows and none of the lost ones, and sent less than the
# database; the switchover back and the second re-sync end with A the
# primary on timeline 3 and B its streaming standby.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init procedure-failback
SCRIPT=$PITR_SRCDIR/examples/procedures/failback.sh
it_need_built "$PITR_BUILDDIR/bin/pitr-synch"
[ -x "$SCRIPT" ] || it_bail "no $SCRIPT"

mkdir_pg "$T/a" "$T/b" "$T/sock"
A=$T/a/main
B=$T/b/main
sshd_start || it_bail "sshd did not start"
export RUN_AS=postgres SOCKET_DIR=$T/sock LISTEN_ADDRESSES=127.0.0.1 \
	PITR_BIN=$PITR_BUILDDIR/bin WAIT=60 SSH_PATH=$SSHD_DIR/ssh \
	INITDB_OPTS="--auth=trust --encoding=UTF8 --locale=C --no-sync --wal-segsize=1" \
	HOST_A=127.0.0.1 HOST_B=127.0.0.1 DATA_A=$A DATA_B=$B LOG_A=$T/a/main.log LOG_B=$T/b/main.log
PORT_A=$(pg_adopt "$A") || it_bail "no free port"
PORT_B=$(pg_adopt "$B") || it_bail "no free port"
export PORT_A PORT_B
n() { pg_sql "$1" "SELECT count(*) FROM t WHERE what = '$2'" 2>/dev/null; }
recovery() { pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null; }
tli()
{
	pg_sql "$1" "SELECT CASE WHEN pg_is_in_recovery()
		THEN (SELECT received_tli FROM pg_stat_wal_receiver)
		ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END" 2>/dev/null
}
upstream() { pg_sql "$1" "SELECT sender_port FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null; }

# step NAME: run the script's step NAME; its exit status is asserted.
step()
{
	local t0=$SECONDS
	it_run "$SCRIPT" "$1"
	is "step $1: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
	[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
}

it_run "$SCRIPT" --list
is "--list: 11 steps" "$(count_lines "$IT_OUT")" 11
like "--list: primary first, standby-back last" "$IT_OUT" "^primary .*"$'\n'"standby-back +.*"

step primary
is "primary: A runs, not in recovery" "$(recovery "$A")" f
step standby
like "standby: the plan names the ssh output" "$IT_OUT" "127.0.0.1:$B"
ok "standby: standby.signal at B" test -e "$B/standby.signal"
like "standby: primary_conninfo and B's port in postgresql.auto.conf" "$(cat "$B/postgresql.auto.conf")" \
	"primary_conninfo = 'host=127.0.0.1 port=$PORT_A .*port = '?$PORT_B"
step standby-start
is "standby-start: B in recovery" "$(recovery "$B")" t
is "standby-start: B streams from A" "$(upstream "$B")" "$PORT_A"
step work
is "work: B has A's 1000 rows" "$(n "$B" before-failure)" 1000
step cut-off
ok "cut-off: B stopped" eval "! pg_alive '$B'"
is "cut-off: A has 500 rows B never received" "$(n "$A" lost)" 500
step primary-fails
ok "primary-fails: A is down" eval "! pg_alive '$A'"
like "primary-fails: A did not shut down cleanly" "$(pg_control "$A" "Database cluster state")" "in production"
step promote
is "promote: B is a primary" "$(recovery "$B")" f
is "promote: B on timeline 2" "$(tli "$B")" 2
is "promote: B has none of the lost rows" "$(n "$B" lost)" 0
is "promote: B took 300 rows of its own" "$(n "$B" after-failover)" 300
ok "A's pg_wal holds segments of timeline 1 past the fork (it diverged)" \
	eval "ls '$A/pg_wal' | grep -q '^00000001'"

t0=$SECONDS
step failback
sent=$(printf '%s\n' "$IT_ERR" | sed -n "s|.*output \"127.0.0.1:$A\": data directory brought up to date, \([0-9]*\) bytes sent.*|\1|p")
size=$(du -sb --exclude=pg_wal "$A" | cut -f1)
like "failback: pitr-synch logs what it sent to A" "$sent" "^[0-9]+$"
ok "failback: it sent less than a quarter of the data dir (${sent:-?} of $size bytes)" \
	test "${sent:-$size}" -lt $((size / 4))
ok "failback: standby.signal at A" test -e "$A/standby.signal"
nok "failback: no timeline 1 segment left in A's pg_wal" eval "ls '$A/pg_wal' | grep -q '^00000001[0-9A-F]\\{16\\}$'"
nok "failback: no in-progress mark" test -e "$A/pitr-synch.in-progress"
step failback-start
is "failback-start: A in recovery" "$(recovery "$A")" t
is "failback-start: A streams from B" "$(upstream "$A")" "$PORT_B"
is "failback-start: A on timeline 2" "$(tli "$A")" 2
is "failback-start: A has the 1000 rows of before" "$(n "$A" before-failure)" 1000
is "failback-start: A has B's 300 rows" "$(n "$A" after-failover)" 300
is "failback-start: A has none of the lost rows" "$(n "$A" lost)" 0
is "failback-start: A's rows are B's (the updates too)" \
	"$(pg_sql "$A" "SELECT md5(string_agg(id || what || v, ',' ORDER BY id)) FROM t")" \
	"$(pg_sql "$B" "SELECT md5(string_agg(id || what || v, ',' ORDER BY id)) FROM t")"
diag "failback and start: $((SECONDS - t0)) s"

step switchover
ok "switchover: B stopped" eval "! pg_alive '$B'"
is "switchover: A is the primary again" "$(recovery "$A")" f
is "switchover: A on timeline 3" "$(tli "$A")" 3
step standby-back
is "standby-back: B in recovery" "$(recovery "$B")" t
is "standby-back: B streams from A" "$(upstream "$B")" "$PORT_A"
is "standby-back: B has A's switchover rows" "$(n "$B" after-switchover)" 100
is "standby-back: B has still none of the lost rows" "$(n "$B" lost)" 0

# --- all: every step in one call, on fresh directories ----------------------------
for d in "$A" "$B"; do
	pg_stop "$d" >/dev/null 2>&1 || true
done
mkdir_pg "$T/all/a" "$T/all/b"
export DATA_A=$T/all/a/main DATA_B=$T/all/b/main LOG_A=$T/all/a/main.log LOG_B=$T/all/b/main.log
PORT_A=$(pg_adopt "$DATA_A") || it_bail "no free port"
PORT_B=$(pg_adopt "$DATA_B") || it_bail "no free port"
t0=$SECONDS
it_run "$SCRIPT" all
is "all: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
is "all: every step ran, in order" "$(printf '%s\n' "$IT_OUT" | sed -n 's/^== \([a-z-]*\):.*/\1/p' | tr '\n' ' ')" \
	"$("$SCRIPT" --list | cut -d' ' -f1 | tr '\n' ' ')"
is "all: B follows A, no lost row" "$(upstream "$DATA_B")/$(n "$DATA_B" lost)" "$PORT_A/0"

it_done
