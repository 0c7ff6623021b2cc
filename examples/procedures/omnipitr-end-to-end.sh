#!/bin/bash
# omnipitr-end-to-end.sh - OmniPITR's own end-to-end test list (its
# test/run.test.sh: master, master backup, standalone, file-based slave,
# slave backup, slaves of slaves, streaming slaves, promotions, and the -sx
# backups), walked with pitrkit on PostgreSQL 15, every server on this host.
#
# Serves: issue 10 item 4, "OmniPITR's own end-to-end list on PostgreSQL 15".
# Run one step at a time (`omnipitr-end-to-end.sh STEP`), `--list` for the
# steps, `all` for every step in order.  The steps, in order:
#
#   master               initdb (if new), archive with pitr-archive, table t
#   master-backup        pitr-backup-master with its xlog tarball (-x)
#   master-backup-sx     pitr-backup-master -sx (the WAL stays in the archive)
#   standalone           a standalone server from the master backup
#   standalone-sx        a standalone server from the -sx master backup
#   slave                a warm (file-based) slave from the master backup
#   slave-backup         pitr-backup-slave of the warm slave
#   slave-backup-sx      pitr-backup-slave -sx of the warm slave
#   slave-standalone     a standalone server from the slave backup
#   slave-sx-standalone  a standalone server from the -sx slave backup
#   slave-slave          a warm slave from the slave backup
#   promote-slave        promote the warm slave: its finish trigger
#   promote-slave-slave  promote the slave of the slave: its finish trigger
#   sr-slave             a streaming slave from the master backup
#   sr-slave-backup      pitr-backup-slave of the streaming slave
#   sr-standalone        a standalone server from the streaming slave's backup
#   slave-of-sr          a warm slave from the streaming slave's backup
#   sr-from-slave        a streaming slave from the warm slave's backup
#   sr-from-sr           a streaming slave from the streaming slave's backup
#   promote-sr-slave     promote the streaming slave: pg_ctl promote
#   promote-sr-from-slave, promote-sr-from-sr   the same for the other two
#   promote-slave-of-sr  promote the warm slave of the streaming slave
#   stop                 stop every server of this walk-through
#
# What changed from OmniPITR's test for PostgreSQL 15:
# - no recovery.conf (PostgreSQL 12+ refuses it), no perl on postgresql.conf:
#   pitr-recover lays each backup out and writes the slave's settings itself
#   (--warm-standby, --standby --primary-conninfo, --port);
# - the master is configured with ALTER SYSTEM, not by editing its files;
# - a streaming slave is promoted with pg_ctl promote (trigger_file is gone
#   in PostgreSQL 16; promote works from 12 on), a warm slave by its
#   pitr-restore finish trigger, as in OmniPITR;
# - pitr-backup-slave runs the whole backup on the standby (PostgreSQL 15
#   backs a standby up by itself; -cm only has the master switch WAL after
#   it), so the standby runs with hot_standby on; the standby's own
#   connection is --standby-host/--standby-port/--standby-username.
# shellcheck disable=SC2317  # step functions are called by name
set -euo pipefail

# --- what to adapt ----------------------------------------------------------
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PITR_BIN:=}"                       # where pitrkit's programs are; default: PATH
: "${RUN_AS:=}"                         # e.g. postgres when run as root; empty: already him
: "${WORK_DIR:=/var/lib/postgresql/omnipitr-test}"  # data-NAME dirs and omnipitr/ live here
: "${INITDB_OPTS:=--auth=trust --encoding=UTF8 --data-checksums}"
: "${SOCKET_DIR:=/var/run/postgresql}"  # unix_socket_directories of every server
: "${LISTEN_ADDRESSES:=localhost}"
: "${MASTER_HOST:=localhost}"           # how streaming slaves reach the master
: "${DB_USER:=postgres}"                # superuser and replication user
: "${ARCHIVE_TIMEOUT:=60}"              # the master finishes a segment at least this often
: "${WAIT:=120}"                        # seconds to wait for a server or a row
# The ports, OmniPITR's test's own.
: "${PORT_MASTER:=54001}"
: "${PORT_STANDALONE:=54002}"
: "${PORT_SLAVE:=54003}"
: "${PORT_SLAVE_STANDALONE:=54004}"
: "${PORT_SLAVE_SLAVE:=54005}"
: "${PORT_SR_SLAVE:=54006}"
: "${PORT_SR_STANDALONE:=54007}"
: "${PORT_SLAVE_OF_SR:=54008}"
: "${PORT_SR_FROM_SLAVE:=54009}"
: "${PORT_SR_FROM_SR:=54010}"
: "${PORT_STANDALONE_SX:=54011}"
: "${PORT_SLAVE_SX_STANDALONE:=54012}"

if [ -z "$PITR_BIN" ]; then
	PITR_BIN=$(dirname "$(command -v pitr-archive || echo /usr/bin/pitr-archive)")
fi
OMNI=$WORK_DIR/omnipitr                 # archive, backups, state, logs, triggers
ARCHIVE=$OMNI/archive                   # the master's WAL archive; every slave reads it
LONG_ARCHIVE=$OMNI/longarchive          # the long-term copy OmniPITR's test kept too
BACKUPS=$OMNI/backup                    # every backup, told apart by its -f prefix
BACKUP_XLOGS=$OMNI/backup-archive       # pitr-backup-master -x = pitr-archive -db
MASTER_DATA=$WORK_DIR/data-master

STEPS=(
	"master|initdb the master (if new), archive with pitr-archive, table t"
	"master-backup|pitr-backup-master with its xlog tarball (-x)"
	"master-backup-sx|pitr-backup-master -sx: no xlog tarball, the WAL from the archive"
	"standalone|a standalone server from the master backup (recovered to the archive's end)"
	"standalone-sx|a standalone server from the -sx master backup"
	"slave|a warm (file-based) slave from the master backup"
	"slave-backup|pitr-backup-slave of the warm slave"
	"slave-backup-sx|pitr-backup-slave -sx of the warm slave"
	"slave-standalone|a standalone server from the slave backup"
	"slave-sx-standalone|a standalone server from the -sx slave backup"
	"slave-slave|a warm slave from the slave backup"
	"promote-slave|promote the warm slave: touch its finish trigger"
	"promote-slave-slave|promote the slave of the slave: touch its finish trigger"
	"sr-slave|a streaming slave from the master backup"
	"sr-slave-backup|pitr-backup-slave of the streaming slave"
	"sr-standalone|a standalone server from the streaming slave's backup"
	"slave-of-sr|a warm slave from the streaming slave's backup"
	"sr-from-slave|a streaming slave from the warm slave's backup"
	"sr-from-sr|a streaming slave from the streaming slave's backup"
	"promote-sr-slave|promote the streaming slave: pg_ctl promote"
	"promote-sr-from-slave|promote the streaming slave made from the slave backup"
	"promote-sr-from-sr|promote the streaming slave made from the streaming slave's backup"
	"promote-slave-of-sr|promote the warm slave of the streaming slave: its finish trigger"
	"stop|stop every server of this walk-through"
)

# --- helpers ------------------------------------------------------------------

say() { printf '== %s\n' "$*"; }
die() { printf 'omnipitr-end-to-end: %s\n' "$*" >&2; exit 1; }

# run CMD...: as the database user (RUN_AS), the way the guide runs it.
run()
{
	if [ -n "$RUN_AS" ]; then
		runuser -u "$RUN_AS" -- "$@"
	else
		"$@"
	fi
}

# port_of NAME: the port of server NAME (data-NAME).
port_of()
{
	local var
	var=PORT_$(printf '%s' "$1" | tr 'a-z-' 'A-Z_')
	[ -n "${!var:-}" ] || die "no port for server $1 ($var)"
	printf '%s\n' "${!var}"
}

data_of() { printf '%s\n' "$WORK_DIR/data-$1"; }

# sql NAME SQL: one statement on server NAME, unaligned tuples.
sql()
{
	run "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$(port_of "$1")" \
		-U "$DB_USER" -d postgres -c "$2"
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

rows() { sql "$1" "SELECT count(*) FROM t"; }
same_rows() { [ "$(rows "$1")" = "$(rows master)" ]; }
in_recovery() { [ "$(sql "$1" "SELECT pg_is_in_recovery()")" = "$2" ]; }
streaming() { [ "$(sql "$1" "SELECT status FROM pg_stat_wal_receiver")" = streaming ]; }

# timeline NAME: the timeline a primary writes on (its WAL file names' first
# eight hex digits).
timeline()
{
	local tli
	tli=$(sql "$1" "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)")
	echo $((16#$tli))
}

# archived SEGMENT: the master's archiver reports SEGMENT (or a later one) done.
archived()
{
	[[ ! "$(sql master "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" < "$1" ]]
}

# rotate: finish the master's current segment and wait until it is archived,
# so that everything written so far is in the archive (OmniPITR's test did
# this after each backup: "make sure there is something in the archive").
rotate()
{
	local seg
	seg=$(sql master "SELECT pg_walfile_name(pg_switch_wal())")
	wait_until "segment $seg archived" archived "$seg"
	echo "   the master's segment $seg is archived"
}

# traffic_start / traffic_stop: OmniPITR's load generator: a session on the
# master inserting a row every 0.1 s.  A slave backup needs it: the backup's
# stop segment is the one the standby is replaying when it stops, and the
# master must finish and archive that segment (archive_timeout finishes
# it once something was written to it).
TRAFFIC_PID=
traffic_start()
{
	run "$PGBIN/psql" -XAtq -h "$SOCKET_DIR" -p "$PORT_MASTER" -U "$DB_USER" \
		-d "dbname=postgres application_name=e2e-traffic" -c "CALL e2e_traffic()" \
		>/dev/null 2>&1 &
	TRAFFIC_PID=$!
	trap traffic_stop EXIT
	wait_until "traffic on the master" eval \
		"[ \"\$(sql master \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'e2e-traffic'\")\" = 1 ]"
}
traffic_stop()
{
	[ -n "$TRAFFIC_PID" ] || return 0
	sql master "SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		WHERE application_name = 'e2e-traffic'" >/dev/null || true
	wait "$TRAFFIC_PID" || true
	TRAFFIC_PID=
	trap - EXIT
}

# follows NAME: new rows on the master reach slave NAME (OmniPITR's test:
# "checking if it catches new segments").
follows()
{
	sql master "INSERT INTO t (src) SELECT 'follow' FROM generate_series(1, 100)" >/dev/null
	rotate
	wait_until "$1 replays the master's new rows" same_rows "$1"
	echo "   $1 follows the master: $(rows "$1") rows, as the master"
}

# backup_files PREFIX: the files a backup wrote, for the operator to see.
backup_files()
{
	( cd "$BACKUPS" && ls -l -- "$1"-* )
}

# recover NAME BACKUP-FILE ARGS...: pitr-recover the backup whose files
# include BACKUP-FILE into data-NAME on NAME's port, and start it.
recover()
{
	local name=$1 file=$2
	shift 2
	run "$PITR_BIN/pitr-recover" -b "$BACKUPS" -a "gzip=$ARCHIVE" --backup "$file" \
		-D "$(data_of "$name")" --port "$(port_of "$name")" --start --wait "$WAIT" "$@"
}

# --- steps ----------------------------------------------------------------------

step_master()
{
	local -a initdb_opts
	local cmd
	say "master: a cluster archiving every segment with pitr-archive"
	run mkdir -p "$ARCHIVE" "$LONG_ARCHIVE" "$BACKUPS" "$OMNI/state" "$OMNI/log" \
		"$OMNI/tmp/archive" "$OMNI/tmp/backup-master" "$OMNI/tmp/backup-slave" "$OMNI/tmp/restore"
	if [ ! -s "$MASTER_DATA/PG_VERSION" ]; then
		read -r -a initdb_opts <<<"$INITDB_OPTS"
		run "$PGBIN/initdb" -D "$MASTER_DATA" -U "$DB_USER" "${initdb_opts[@]}" >/dev/null
	fi
	# OmniPITR's test's archive_command, with pitrkit's program: the archive
	# every slave reads and a long-term copy (-dl, twice), the backups' WAL
	# directory while a backup runs (-db), the state directory (-s).
	cmd="$PITR_BIN/pitr-archive -t $OMNI/tmp/archive/ -l $OMNI/log/archive.log -dl gzip=$ARCHIVE -dl gzip=$LONG_ARCHIVE -db $BACKUP_XLOGS -s $OMNI/state -v \"%p\""
	# Configured with ALTER SYSTEM (postgresql.auto.conf), not by editing
	# postgresql.conf: start once on the port and sockets asked, set, restart.
	if ! run "$PGBIN/pg_ctl" -D "$MASTER_DATA" status >/dev/null; then
		run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -l "$MASTER_DATA.log" -w -s \
			-o "-p $PORT_MASTER -k $SOCKET_DIR -c listen_addresses=$LISTEN_ADDRESSES" start
	fi
	sql master "ALTER SYSTEM SET port = $PORT_MASTER"
	sql master "ALTER SYSTEM SET listen_addresses = '$LISTEN_ADDRESSES'"
	sql master "ALTER SYSTEM SET unix_socket_directories = '$SOCKET_DIR'"
	sql master "ALTER SYSTEM SET wal_level = 'replica'"
	sql master "ALTER SYSTEM SET archive_mode = 'on'"
	sql master "ALTER SYSTEM SET archive_command = '${cmd//\'/\'\'}'"
	sql master "ALTER SYSTEM SET archive_timeout = $ARCHIVE_TIMEOUT"
	sql master "ALTER SYSTEM SET max_wal_senders = 30"
	sql master "ALTER SYSTEM SET hot_standby = 'on'"
	run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -w -s stop
	run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -l "$MASTER_DATA.log" -w -s start
	# The load generator's table and procedure (OmniPITR's t0..t9 and
	# fill_me_in, in one table).
	sql master "CREATE TABLE IF NOT EXISTS t (id bigserial PRIMARY KEY,
		at timestamptz DEFAULT clock_timestamp(), src text)"
	sql master "CREATE OR REPLACE PROCEDURE e2e_traffic() LANGUAGE plpgsql AS \$\$
		BEGIN LOOP INSERT INTO t (src) VALUES ('traffic'); COMMIT;
		PERFORM pg_sleep(0.1); END LOOP; END \$\$"
	sql master "INSERT INTO t (src) SELECT 'master' FROM generate_series(1, 1000)"
	rotate
	echo "   master on port $PORT_MASTER, $(rows master) rows, archiving to $ARCHIVE"
}

step_master_backup()
{
	say "master-backup: hot backup of the master, its WAL in an xlog tarball"
	run "$PITR_BIN/pitr-backup-master" -D "$MASTER_DATA" -h "$SOCKET_DIR" -p "$PORT_MASTER" \
		-U "$DB_USER" -t "$OMNI/tmp/backup-master/" -x "$BACKUP_XLOGS" -dl "gzip=$BACKUPS" -dg SHA-256 \
		-f "master-__FILETYPE__.tar__CEXT__" -l "$OMNI/log/backup-master.log" -v
	backup_files master
	rotate
}

step_master_backup_sx()
{
	say "master-backup-sx: the same without xlog tarball (-sx): restored with the archive"
	run "$PITR_BIN/pitr-backup-master" -D "$MASTER_DATA" -h "$SOCKET_DIR" -p "$PORT_MASTER" \
		-U "$DB_USER" -t "$OMNI/tmp/backup-master/" -sx -dl "gzip=$BACKUPS" -dg SHA-256 \
		-f "master-sx-__FILETYPE__.tar__CEXT__" -l "$OMNI/log/backup-master-sx.log" -v
	backup_files master-sx
	rotate
}

# standalone NAME BACKUP-FILE: the backup recovered to the end of the
# archive and promoted: a server of its own, on a new timeline.  It does not
# archive (pitr-recover's default): its timeline must not reach the
# master's archive.
standalone()
{
	local name=$1
	say "$name: a standalone server from $2, recovered to the end of the archive"
	recover "$name" "$2"
	in_recovery "$name" f || die "$name is still in recovery"
	echo "   $name: promoted, timeline $(timeline "$name"), $(rows "$name") rows (master: $(rows master))"
}
step_standalone() { standalone standalone master-data.tar.gz; }
step_standalone_sx() { standalone standalone-sx master-sx-data.tar.gz; }
step_slave_standalone() { standalone slave-standalone slave-data.tar.gz; }
step_slave_sx_standalone() { standalone slave-sx-standalone slave-sx-data.tar.gz; }
step_sr_standalone() { standalone sr-standalone sr-slave-data.tar.gz; }

# warm_slave NAME BACKUP-FILE: OmniPITR's file-based slave: pitr-restore
# waits for each next segment of the master's archive (no -sr), its finish
# trigger (-f) ends recovery, its removal pause file (-p) is the one
# pitr-backup-slave holds.  Every slave here reads the same archive, so no
# -r (removal) and no archiving of its own (--archive-mode off; a slave that
# takes over production keeps the default, preserve).
warm_slave()
{
	local name=$1
	say "$name: a warm slave from $2, replaying the master's archive"
	recover "$name" "$2" --warm-standby --hot-standby on --archive-mode off \
		--restore-options "-l $OMNI/log/restore-$name.log -p $OMNI/pause.$name -f $WORK_DIR/data-$name.finish -t $OMNI/tmp/restore/ -v"
	in_recovery "$name" t || die "$name is not in recovery"
	follows "$name"
}
step_slave() { warm_slave slave master-data.tar.gz; }
step_slave_slave() { warm_slave slave-slave slave-data.tar.gz; }
step_slave_of_sr() { warm_slave slave-of-sr sr-slave-data.tar.gz; }

# sr_slave NAME BACKUP-FILE: a streaming slave: the archive first, then the
# master's stream (primary_conninfo).  Like OmniPITR's SR slaves, it keeps
# pitr-restore's removal pause file for its own backups.
sr_slave()
{
	local name=$1
	say "$name: a streaming slave from $2"
	recover "$name" "$2" --standby --hot-standby on --archive-mode off \
		--primary-conninfo "host=$MASTER_HOST port=$PORT_MASTER user=$DB_USER application_name=$name" \
		--restore-options "-l $OMNI/log/restore-$name.log -p $OMNI/pause.$name -t $OMNI/tmp/restore/ -v"
	in_recovery "$name" t || die "$name is not in recovery"
	wait_until "$name streams from the master" streaming "$name"
	# Rows written now, without a segment switch, reach it only by streaming.
	sql master "INSERT INTO t (src) SELECT 'stream' FROM generate_series(1, 100)" >/dev/null
	wait_until "$name receives the master's rows by streaming" same_rows "$name"
	echo "   $name streams from the master: $(rows "$name") rows, as the master"
}
step_sr_slave() { sr_slave sr-slave master-data.tar.gz; }
step_sr_from_slave() { sr_slave sr-from-slave slave-data.tar.gz; }
step_sr_from_sr() { sr_slave sr-from-sr sr-slave-data.tar.gz; }

# slave_backup STEP NAME PREFIX [-sx]: pitr-backup-slave of slave NAME (its port,
# its data directory, the archive it restores from, its removal pause file),
# with the master under load meanwhile and called (-cm, OmniPITR's -h/-P/-U)
# to switch WAL once the backup stops; its files named PREFIX-*.
slave_backup()
{
	local step=$1 name=$2 prefix=$3
	shift 3
	say "$step: hot backup of $name with pitr-backup-slave${*:+ $*}"
	traffic_start
	run "$PITR_BIN/pitr-backup-slave" -D "$(data_of "$name")" --standby-host "$SOCKET_DIR" \
		--standby-port "$(port_of "$name")" --standby-username "$DB_USER" \
		-cm -h "$SOCKET_DIR" -P "$PORT_MASTER" -U "$DB_USER" -s "gzip=$ARCHIVE" -p "$OMNI/pause.$name" \
		-t "$OMNI/tmp/backup-slave/" -dl "gzip=$BACKUPS" -dg SHA-256 -f "$prefix-__FILETYPE__.tar__CEXT__" \
		-l "$OMNI/log/backup-$prefix.log" -v "$@"
	traffic_stop
	backup_files "$prefix"
	rotate
}
step_slave_backup() { slave_backup slave-backup slave slave; }
step_slave_backup_sx() { slave_backup slave-backup-sx slave slave-sx -sx; }
step_sr_slave_backup() { slave_backup sr-slave-backup sr-slave sr-slave; }

# promote_warm NAME: OmniPITR's promotion of a file-based slave: touch the
# finish trigger; pitr-restore then hands over the rest of the archive and
# reports the end, and the server ends recovery on a new timeline.
promote_warm()
{
	local name=$1
	say "promote-$name: touch $name's finish trigger"
	run touch "$WORK_DIR/data-$name.finish"
	wait_until "$name promoted" in_recovery "$name" f
	sql "$name" "INSERT INTO t (src) VALUES ('promoted $name')" >/dev/null
	echo "   $name: promoted, timeline $(timeline "$name"), $(rows "$name") rows, writable"
}
step_promote_slave() { promote_warm slave; }
step_promote_slave_slave() { promote_warm slave-slave; }
step_promote_slave_of_sr() { promote_warm slave-of-sr; }

# promote_sr NAME: a streaming slave is promoted with pg_ctl promote
# (OmniPITR's trigger_file; PostgreSQL 16 removed promote_trigger_file).
promote_sr()
{
	local name=$1
	say "promote-$name: pg_ctl promote"
	run "$PGBIN/pg_ctl" -D "$(data_of "$name")" -w -s promote
	in_recovery "$name" f || die "$name is still in recovery"
	sql "$name" "INSERT INTO t (src) VALUES ('promoted $name')" >/dev/null
	echo "   $name: promoted, timeline $(timeline "$name"), $(rows "$name") rows, writable"
}
step_promote_sr_slave() { promote_sr sr-slave; }
step_promote_sr_from_slave() { promote_sr sr-from-slave; }
step_promote_sr_from_sr() { promote_sr sr-from-sr; }

step_stop()
{
	local dir
	say "stop: every server of the walk-through, the master last"
	for dir in "$WORK_DIR"/data-*; do
		if [ "$dir" = "$MASTER_DATA" ] || [ ! -f "$dir/postmaster.pid" ]; then
			continue
		fi
		run "$PGBIN/pg_ctl" -D "$dir" -m fast -w -s stop
	done
	if [ -f "$MASTER_DATA/postmaster.pid" ]; then
		run "$PGBIN/pg_ctl" -D "$MASTER_DATA" -m fast -w -s stop
	fi
}

# --- main -------------------------------------------------------------------------

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
cd /
procedure_main "$@"
