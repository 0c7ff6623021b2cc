#!/bin/bash
# add-resync-node.sh - add a node, and re-sync a repaired one, while the
# master keeps serving, with pitrkit on PostgreSQL 15: the applications
# (here pgbench) write to the master the whole time; a new node is copied
# from the running master by pitr-synch --standby, a damaged node is
# stopped and brought back by pitr-synch -r (only what differs is sent);
# both follow the master by streaming.
#
# Serves: issue 10 item 4, seeds/003_* (PGCluster's "Restoration":
# "restoration of data base" of a Cluster DB in error, restarted with -R to
# synchronize with the Master DB, and "Addition of Cluster DB").  What
# changed: PGCluster locked the Master DB while a Cluster DB synchronized
# ("Access from the outside to Master DB is forbidden until Cluster DB
# addition processing is completed"); pitr-synch copies the running master
# inside pg_backup_start/stop and streams the rest, so nothing is locked and
# the applications never stop.  The nodes are read-only hot standbys (the
# replication of PostgreSQL 15), not PGCluster's multi-master nodes.
# Run one step at a time (`add-resync-node.sh STEP`), `--list` for the
# steps, `all` for every step in order.  The steps, in order (the host each
# runs on in brackets):
#
#   master         [master] initdb (if new), settings by ALTER SYSTEM, pgbench -i
#   node1          [master] pitr-synch --standby to node 1's rsync daemon
#   node1-start    [node1]  pg_ctl start: node 1 streams from the master
#   traffic        [client] the applications: pgbench against the master, in
#                  the background, until traffic-end
#   add-node       [master] pitr-synch --standby to node 2's rsync daemon,
#                  the master serving
#   add-node-start [node2]  pg_ctl start: node 2 catches up and streams
#   node1-stop     [node1]  node 1 is found damaged: stopped for repair (its
#                  data dir stays: the re-sync keeps what is right in it)
#   node1-resync   [master] pitr-synch -r --standby: node 1's data dir brought
#                  back to the master's content, the master serving
#   node1-start-again [node1] pg_ctl start: node 1 catches up and streams
#   traffic-end    [client] the applications stop; every pgbench round
#                  succeeded; both nodes have the master's last transaction
#
# The nodes' data directories are reached through an rsync daemon on each
# node (a module holding the data directory's parent, written as the
# database user): rsync://NODE/MODULE/DIR.  Over ssh instead, give -o
# NODE:/DIR (and --ssh-path, --remote-pitr-synch: see failback.sh).
# shellcheck disable=SC2317  # step functions are called by name
set -euo pipefail

# --- what to adapt ----------------------------------------------------------
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PITR_BIN:=}"                       # where pitrkit's programs are; default: PATH
: "${RUN_AS:=}"                         # e.g. postgres when run as root; empty: already him
: "${INITDB_OPTS:=--auth=trust --encoding=UTF8 --data-checksums}"
: "${SOCKET_DIR:=/var/run/postgresql}"  # unix_socket_directories, for psql and pitr-synch
: "${LISTEN_ADDRESSES:=*}"
: "${DB_USER:=postgres}"                # superuser and replication user
: "${DB_NAME:=postgres}"                # the database pgbench writes
: "${MASTER_HOST:=master}"              # how the nodes reach the master (primary_conninfo)
: "${MASTER_DATA:=/var/lib/postgresql/15/main}"
: "${MASTER_PORT:=5432}"
: "${MASTER_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${NODE1_DATA:=/var/lib/postgresql/15/main}"  # at node 1
: "${NODE1_URL:=rsync://node1/pg15/main}"       # the same dir through node 1's rsync daemon
: "${NODE1_PORT:=5432}"
: "${NODE1_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${NODE2_DATA:=/var/lib/postgresql/15/main}"  # at node 2, the new node
: "${NODE2_URL:=rsync://node2/pg15/main}"
: "${NODE2_PORT:=5432}"
: "${NODE2_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${SCALE:=10}"                        # pgbench -i -s
: "${CLIENTS:=4}"                       # pgbench -c
: "${TRAFFIC_ROUND:=5}"                 # seconds of each pgbench round (-T)
: "${TRAFFIC_DIR:=/var/tmp/add-resync-node}"  # pgbench's output, status and stop file
: "${WAIT:=300}"                        # seconds to wait for a server or a node

if [ -z "$PITR_BIN" ]; then
	PITR_BIN=$(dirname "$(command -v pitr-synch || echo /usr/bin/pitr-synch)")
fi

STEPS=(
	"master|[master] initdb (if new), settings by ALTER SYSTEM, pgbench -i"
	"node1|[master] pitr-synch --standby to node 1's rsync daemon"
	"node1-start|[node1] pg_ctl start: node 1 streams from the master"
	"traffic|[client] pgbench against the master, in the background"
	"add-node|[master] pitr-synch --standby to node 2, the master serving"
	"add-node-start|[node2] pg_ctl start: node 2 catches up and streams"
	"node1-stop|[node1] node 1 found damaged: stopped for repair"
	"node1-resync|[master] pitr-synch -r --standby: node 1 re-synced, the master serving"
	"node1-start-again|[node1] pg_ctl start: node 1 catches up and streams"
	"traffic-end|[client] pgbench stops: every round succeeded; the nodes caught up"
)

# --- helpers ------------------------------------------------------------------

say() { printf '== %s\n' "$*"; }
die() { printf 'add-resync-node: %s\n' "$*" >&2; exit 1; }

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
		-d "$DB_NAME" -c "$2"
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

streaming() { [ "$(sql "$1" "SELECT status FROM pg_stat_wal_receiver")" = streaming ]; }
replayed() { [ "$(sql "$1" "SELECT pg_last_wal_replay_lsn() >= '$2'")" = t ]; }
history() { sql "$1" "SELECT count(*) FROM pgbench_history"; }

# synch URL PORT [-r]: one pitr-synch call on the master: the node behind
# URL made a streaming standby of the master, listening on PORT.
synch()
{
	run "$PITR_BIN/pitr-synch" -D "$MASTER_DATA" -h "$SOCKET_DIR" -p "$MASTER_PORT" \
		-U "$DB_USER" -a -o "$1" "${@:3}" --standby --set "port=$2" \
		--primary-conninfo "host=$MASTER_HOST port=$MASTER_PORT user=$DB_USER"
}

# node_up DATA LOG PORT NAME: start the node, wait until it streams and
# has replayed what the master had when it started.
node_up()
{
	local lsn
	run "$PGBIN/pg_ctl" -D "$1" -l "$2" -w -s start
	wait_until "$4 streams from the master" streaming "$3"
	lsn=$(sql "$MASTER_PORT" "SELECT pg_current_wal_lsn()")
	wait_until "$4 replays up to $lsn" replayed "$3" "$lsn"
	echo "   $4 on port $3 streams; $(history "$3") pgbench transactions (master: $(history "$MASTER_PORT"))"
}

# --- steps ----------------------------------------------------------------------

step_master()
{
	local -a initdb_opts
	say "master: the master, its pgbench tables"
	if [ ! -s "$MASTER_DATA/PG_VERSION" ]; then
		read -r -a initdb_opts <<<"$INITDB_OPTS"
		run "$PGBIN/initdb" -D "$MASTER_DATA" -U "$DB_USER" "${initdb_opts[@]}" >/dev/null
	fi
	run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -l "$MASTER_LOG" -w -s \
		-o "-p $MASTER_PORT -k $SOCKET_DIR" start
	# wal_level replica, max_wal_senders 10 and hot_standby on are
	# PostgreSQL 15's defaults; the rest by ALTER SYSTEM.
	sql "$MASTER_PORT" "ALTER SYSTEM SET port = $MASTER_PORT"
	sql "$MASTER_PORT" "ALTER SYSTEM SET listen_addresses = '$LISTEN_ADDRESSES'"
	sql "$MASTER_PORT" "ALTER SYSTEM SET unix_socket_directories = '$SOCKET_DIR'"
	run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -m fast -w -s stop
	run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -l "$MASTER_LOG" -w -s start
	run "$PGBIN/pgbench" -h "$SOCKET_DIR" -p "$MASTER_PORT" -U "$DB_USER" -q -i -s "$SCALE" \
		"$DB_NAME" 2>&1 | tail -n 1
}

step_node1()
{
	say "node1: the master copied to node 1 (its rsync daemon), a streaming standby"
	synch "$NODE1_URL" "$NODE1_PORT"
}

step_node1_start()
{
	say "node1-start: node 1 started"
	node_up "$NODE1_DATA" "$NODE1_LOG" "$NODE1_PORT" "node 1"
}

step_traffic()
{
	say "traffic: pgbench writes to the master, in the background, until traffic-end"
	run mkdir -p "$TRAFFIC_DIR"
	rm -f "$TRAFFIC_DIR/stop" "$TRAFFIC_DIR/status"
	# Rounds of TRAFFIC_ROUND seconds, each one's exit status kept, so that
	# traffic-end (another process) can tell whether any transaction
	# failed; the first failure ends the traffic.
	(
		rc=0
		while [ ! -e "$TRAFFIC_DIR/stop" ]; do
			run "$PGBIN/pgbench" -h "$SOCKET_DIR" -p "$MASTER_PORT" -U "$DB_USER" -n \
				-c "$CLIENTS" -T "$TRAFFIC_ROUND" "$DB_NAME" >>"$TRAFFIC_DIR/pgbench.log" 2>&1 ||
				{ rc=$?; break; }
		done
		echo "$rc" >"$TRAFFIC_DIR/status"
	) </dev/null >/dev/null 2>&1 &
	echo "$!" >"$TRAFFIC_DIR/pid"
	wait_until "pgbench's first transactions" eval "[ \"\$(history $MASTER_PORT)\" -gt 0 ]"
	echo "   pgbench runs (pid $(cat "$TRAFFIC_DIR/pid")), output in $TRAFFIC_DIR/pgbench.log"
}

step_add_node()
{
	local before
	say "add-node: the running master copied to node 2, a streaming standby"
	before=$(history "$MASTER_PORT")
	synch "$NODE2_URL" "$NODE2_PORT"
	echo "   the master committed $(($(history "$MASTER_PORT") - before)) pgbench transactions meanwhile"
}

step_add_node_start()
{
	say "add-node-start: node 2 started"
	node_up "$NODE2_DATA" "$NODE2_LOG" "$NODE2_PORT" "node 2"
}

step_node1_stop()
{
	say "node1-stop: node 1 in error, stopped for repair"
	run "$PGBIN/pg_ctl" -D "$NODE1_DATA" -m fast -w -s stop || true
	# Repair the host (disk, file system) now; the data directory itself
	# is what node1-resync repairs.
}

step_node1_resync()
{
	local before
	say "node1-resync: node 1's data dir re-synced from the running master (pitr-synch -r)"
	# PGCluster's "pg_ctl start -o -R": synchronize with the master.
	# rsync compares every file by checksum, so a damaged or removed file is
	# sent again whatever its size and time; what is right stays.
	before=$(history "$MASTER_PORT")
	synch "$NODE1_URL" "$NODE1_PORT" -r
	echo "   the master committed $(($(history "$MASTER_PORT") - before)) pgbench transactions meanwhile"
}

step_node1_start_again()
{
	say "node1-start-again: node 1 started"
	node_up "$NODE1_DATA" "$NODE1_LOG" "$NODE1_PORT" "node 1"
}

step_traffic_end()
{
	local rc lsn
	say "traffic-end: the applications stop"
	touch "$TRAFFIC_DIR/stop"
	wait_until "pgbench's last round" test -s "$TRAFFIC_DIR/status"
	rc=$(cat "$TRAFFIC_DIR/status")
	sed -n 's/^number of transactions actually processed: /   pgbench round: /p' \
		"$TRAFFIC_DIR/pgbench.log" | tail -n 3
	[ "$rc" = 0 ] || die "pgbench failed (exit $rc): see $TRAFFIC_DIR/pgbench.log"
	lsn=$(sql "$MASTER_PORT" "SELECT pg_current_wal_lsn()")
	wait_until "node 1 replays up to $lsn" replayed "$NODE1_PORT" "$lsn"
	wait_until "node 2 replays up to $lsn" replayed "$NODE2_PORT" "$lsn"
	echo "   pgbench transactions: master $(history "$MASTER_PORT"), node 1 $(history "$NODE1_PORT"), node 2 $(history "$NODE2_PORT")"
}

# --- main -------------------------------------------------------------------------

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
cd /
procedure_main "$@"
