#!/bin/bash
# failback.sh - failback of the old primary by delta re-sync, with pitrkit on
# PostgreSQL 15: a primary and its streaming standby; the primary fails,
# the standby is promoted and takes writes; the old primary's data
# directory, diverged (it holds WAL and pages the new primary never saw),
# becomes a standby of the new primary with ONE pitr-synch -r call, sending
# only what differs; then the roles are switched back (planned switchover),
# the former standby brought back the same way.
#
# Serves: issue 10 item 4, seeds/002_* "8.1.1.3 Failback of the Primary
# Server" (and "8.1.1.2 Rebuild the Standby Server"), done without
# Mirroring Controller: pg_ctl promote, pitr-synch -r.
# Run one step at a time (`failback.sh STEP`), `--list` for the steps,
# `all` for every step in order.  The steps, in order (the host each runs
# on in brackets):
#
#   primary         [host A] initdb (if new), settings by ALTER SYSTEM, table t
#   standby         [host A] pitr-synch over ssh to host B: a streaming standby
#   standby-start   [host B] pg_ctl start; it streams from the primary
#   work            [host A] rows both servers have
#   cut-off         [host B] the standby goes away (here: stopped, as a network
#                   failure would cut it off) and the primary goes on writing:
#                   rows and updates the standby never receives
#   primary-fails   [host A] the primary crashes (pg_ctl stop -m immediate)
#   promote         [host B] the standby is started and promoted (pg_ctl
#                   promote): timeline 2; the applications write to it
#   failback        [host B] ONE pitr-synch -r call over ssh: the old primary's
#                   data dir re-synced as a standby of the new primary
#   failback-start  [host A] pg_ctl start; it follows the new primary
#   switchover      [B, A]   planned: the new primary stopped cleanly (its
#                   standby has everything), the old primary promoted
#   standby-back    [host A] ONE pitr-synch -r call: host B's data dir back
#                   as the standby of host A, started
#
# Notes for PostgreSQL 15: no Mirroring Controller and no recovery.conf;
# pitr-synch --standby writes standby.signal and primary_conninfo into the
# copy's postgresql.auto.conf; --set port= keeps each host's port (the
# source's postgresql.auto.conf comes along).  pg_rewind would need
# wal_log_hints or checksums and the old timeline's WAL; pitr-synch -r
# compares every file by checksum (rsync --checksum), so it needs neither,
# and it empties the old primary's pg_wal: its diverged segments are never
# replayed.
# shellcheck disable=SC2317  # step functions are called by name
set -euo pipefail

# --- what to adapt ----------------------------------------------------------
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PITR_BIN:=}"                       # where pitrkit's programs are; default: PATH
: "${RUN_AS:=}"                         # e.g. postgres when run as root; empty: already him
: "${INITDB_OPTS:=--auth=trust --encoding=UTF8}"
: "${SOCKET_DIR:=/var/run/postgresql}"  # unix_socket_directories, for psql and pitr-synch
: "${LISTEN_ADDRESSES:=*}"
: "${DB_USER:=postgres}"                # superuser and replication user
: "${HOST_A:=pg-a}"                     # the first primary (ssh and primary_conninfo)
: "${HOST_B:=pg-b}"                     # the first standby
: "${DATA_A:=/var/lib/postgresql/15/main}"
: "${DATA_B:=/var/lib/postgresql/15/main}"
: "${PORT_A:=5432}"
: "${PORT_B:=5432}"
: "${LOG_A:=/var/log/postgresql/postgresql-15-main.log}"
: "${LOG_B:=/var/log/postgresql/postgresql-15-main.log}"
: "${SSH_PATH:=ssh}"                    # pitr-synch --ssh-path
: "${FAILBACK_OPTS:=}"                  # more pitr-synch -r options, e.g. --stale-pid-file (see failback)
: "${WAIT:=120}"                        # seconds to wait for a server or a row

if [ -z "$PITR_BIN" ]; then
	PITR_BIN=$(dirname "$(command -v pitr-synch || echo /usr/bin/pitr-synch)")
fi

STEPS=(
	"primary|[A] initdb (if new), settings by ALTER SYSTEM, table t"
	"standby|[A] pitr-synch over ssh to host B: a streaming standby"
	"standby-start|[B] pg_ctl start: it streams from the primary"
	"work|[A] rows both servers have"
	"cut-off|[B] the standby cut off; [A] writes the standby never receives"
	"primary-fails|[A] the primary crashes: pg_ctl stop -m immediate"
	"promote|[B] the standby started and promoted; the applications write to it"
	"failback|[B] pitr-synch -r: the old primary re-synced as a standby of B"
	"failback-start|[A] pg_ctl start: the old primary follows the new one"
	"switchover|[B] clean stop; [A] promoted: the roles switched back"
	"standby-back|[A] pitr-synch -r: host B back as the standby of A, started"
)

# --- helpers ------------------------------------------------------------------

say() { printf '== %s\n' "$*"; }
die() { printf 'failback: %s\n' "$*" >&2; exit 1; }

# run CMD...: as the database user (RUN_AS).
run()
{
	if [ -n "$RUN_AS" ]; then
		runuser -u "$RUN_AS" -- "$@"
	else
		"$@"
	fi
}

# sql PORT SQL: one statement, unaligned tuples.
sql()
{
	run "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$1" -U "$DB_USER" \
		-d postgres -c "$2"
}

# wait_until DESC CMD...: CMD succeeds within WAIT seconds, or fail.
wait_until()
{
	local desc=$1 deadline=$((SECONDS + WAIT))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || die "$desc: not within $WAIT s"
		sleep 0.2
	done
}

start() { run "$PGBIN/pg_ctl" -D "$1" -l "$2" -w -s "${@:3}" start; }
stop() { run "$PGBIN/pg_ctl" -D "$1" -m "${2:-fast}" -w -s stop; }
rows() { sql "$1" "SELECT string_agg(what || ':' || n, ' ' ORDER BY what) FROM (SELECT what, count(*) n FROM t GROUP BY what) c"; }
streaming() { [ "$(sql "$1" "SELECT status FROM pg_stat_wal_receiver")" = streaming ]; }
replayed() { [ "$(sql "$1" "SELECT pg_last_wal_replay_lsn() >= '$2'")" = t ]; }
# timeline PORT: a primary's from its WAL file name (the checkpoint's
# lags behind a promotion), a standby's from the WAL it receives.
timeline()
{
	sql "$1" "SELECT CASE WHEN pg_is_in_recovery()
		THEN (SELECT received_tli FROM pg_stat_wal_receiver)
		ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END"
}

# synch SRC_DATA SRC_PORT OUT_HOST OUT_DATA PRIMARY_HOST PRIMARY_PORT OUT_PORT [-r]:
# one pitr-synch call on the source's host: OUT_HOST:OUT_DATA (over ssh)
# made a streaming standby of PRIMARY_HOST:PRIMARY_PORT listening on OUT_PORT.
synch()
{
	run "$PITR_BIN/pitr-synch" -D "$1" -h "$SOCKET_DIR" -p "$2" -U "$DB_USER" -a \
		--ssh-path "$SSH_PATH" --remote-pitr-synch "$PITR_BIN/pitr-synch" \
		-o "$3:$4" "${@:8}" --standby --set "port=$7" \
		--primary-conninfo "host=$5 port=$6 user=$DB_USER application_name=$3"
}

# --- steps ----------------------------------------------------------------------

step_primary()
{
	local -a initdb_opts
	say "primary: host A's cluster, set up to have streaming standbys"
	if [ ! -s "$DATA_A/PG_VERSION" ]; then
		read -r -a initdb_opts <<<"$INITDB_OPTS"
		run "$PGBIN/initdb" -D "$DATA_A" -U "$DB_USER" "${initdb_opts[@]}" >/dev/null
	fi
	start "$DATA_A" "$LOG_A" -o "-p $PORT_A -k $SOCKET_DIR"
	# wal_level replica and max_wal_senders 10 are PostgreSQL 15's
	# defaults; the rest by ALTER SYSTEM, which the copies inherit.
	sql "$PORT_A" "ALTER SYSTEM SET port = $PORT_A"
	sql "$PORT_A" "ALTER SYSTEM SET listen_addresses = '$LISTEN_ADDRESSES'"
	sql "$PORT_A" "ALTER SYSTEM SET unix_socket_directories = '$SOCKET_DIR'"
	sql "$PORT_A" "ALTER SYSTEM SET hot_standby = on"
	stop "$DATA_A"
	start "$DATA_A" "$LOG_A"
	sql "$PORT_A" "CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, what text, v int DEFAULT 0)"
	echo "   host A: primary on port $PORT_A"
}

step_standby()
{
	say "standby: host A copied to host B over ssh, made a streaming standby of A"
	# What "6.4.2 Creating the Standby Server Instance" does, in one call:
	# a base backup of the running primary, its WAL, standby.signal and
	# primary_conninfo, written on host B by pitr-synch's receiver.
	synch "$DATA_A" "$PORT_A" "$HOST_B" "$DATA_B" "$HOST_A" "$PORT_A" "$PORT_B"
}

step_standby_start()
{
	say "standby-start: host B started, streaming from A"
	start "$DATA_B" "$LOG_B"
	wait_until "B streams from A" streaming "$PORT_B"
	echo "   host B: standby on port $PORT_B, streaming"
}

step_work()
{
	local lsn
	say "work: rows committed on A, replayed on B"
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'before-failure' FROM generate_series(1, 1000)"
	lsn=$(sql "$PORT_A" "SELECT pg_current_wal_lsn()")
	wait_until "B replays up to $lsn" replayed "$PORT_B" "$lsn"
	echo "   A: $(rows "$PORT_A"); B: $(rows "$PORT_B")"
}

step_cut_off()
{
	say "cut-off: B cut off from A (stopped here); A writes what B never receives"
	stop "$DATA_B"
	# These transactions are lost at the failover: they, and the pages
	# they change, exist only on A.  That is what makes A's data directory
	# diverge from the new primary's.
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'lost' FROM generate_series(1, 500)"
	sql "$PORT_A" "UPDATE t SET v = v + 1 WHERE id % 3 = 0"
	sql "$PORT_A" "CHECKPOINT"
	echo "   A: $(rows "$PORT_A")"
}

step_primary_fails()
{
	say "primary-fails: A crashes"
	stop "$DATA_A" immediate
}

step_promote()
{
	say "promote: B started and promoted, the applications move to it"
	start "$DATA_B" "$LOG_B"
	run "$PGBIN/pg_ctl" -D "$DATA_B" -w -s promote
	sql "$PORT_B" "INSERT INTO t (what) SELECT 'after-failover' FROM generate_series(1, 300)"
	sql "$PORT_B" "UPDATE t SET v = v + 10 WHERE id % 5 = 0"
	echo "   B: primary on timeline $(timeline "$PORT_B"): $(rows "$PORT_B")"
}

step_failback()
{
	say "failback: A's old data dir re-synced from B as B's standby (pitr-synch -r)"
	# "8.1.1.3 Failback of the Primary Server": A's data dir is kept and
	# only what differs is sent.  A must be stopped (it is: it crashed and
	# was not restarted: started, it would have become a second primary).
	# pg_ctl stop -m immediate removes postmaster.pid; after a real crash
	# (power loss, kill -9) it stays, pitr-synch cannot check a remote pid
	# and refuses: make sure A is down, then FAILBACK_OPTS=--stale-pid-file.
	# shellcheck disable=SC2086  # options, split on purpose
	synch "$DATA_B" "$PORT_B" "$HOST_A" "$DATA_A" "$HOST_B" "$PORT_B" "$PORT_A" -r $FAILBACK_OPTS
}

step_failback_start()
{
	local lsn
	say "failback-start: A started, following B"
	start "$DATA_A" "$LOG_A"
	wait_until "A streams from B" streaming "$PORT_A"
	lsn=$(sql "$PORT_B" "SELECT pg_current_wal_lsn()")
	wait_until "A replays up to $lsn" replayed "$PORT_A" "$lsn"
	echo "   A: standby on timeline $(timeline "$PORT_A"): $(rows "$PORT_A")"
}

step_switchover()
{
	say "switchover: B stopped cleanly, A promoted"
	# A clean (fast) shutdown sends the last WAL to the standby before the
	# server exits: A then has everything B had.
	stop "$DATA_B"
	run "$PGBIN/pg_ctl" -D "$DATA_A" -w -s promote
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'after-switchover' FROM generate_series(1, 100)"
	echo "   A: primary on timeline $(timeline "$PORT_A"): $(rows "$PORT_A")"
}

step_standby_back()
{
	local lsn
	say "standby-back: B re-synced from A as A's standby (pitr-synch -r), started"
	synch "$DATA_A" "$PORT_A" "$HOST_B" "$DATA_B" "$HOST_A" "$PORT_A" "$PORT_B" -r
	start "$DATA_B" "$LOG_B"
	wait_until "B streams from A" streaming "$PORT_B"
	lsn=$(sql "$PORT_A" "SELECT pg_current_wal_lsn()")
	wait_until "B replays up to $lsn" replayed "$PORT_B" "$lsn"
	echo "   B: standby again: $(rows "$PORT_B")"
}

# --- main -------------------------------------------------------------------------

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
cd /
procedure_main "$@"
