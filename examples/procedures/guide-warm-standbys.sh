#!/bin/bash
# guide-warm-standbys.sh - the OmniPITR set-up guide (Message Central's
# "Appendix A. Point-In-Time Recovery", seeds 000_* and 001_*), sections
# A.1 to A.3, with pitrkit on PostgreSQL 15.
#
# Three hosts: a master archiving every WAL file over rsync to two slaves
# ("warm spares"), each slave a warm standby replaying its own copy of the
# archive; slave 2 applies nothing younger than a window of -w seconds, so
# that a "TRUNCATE TABLE users;" on the master can be kept from it.  Then
# the fail over (A.2) and the restoring of normal operations (A.3) with a
# new data center bootstrapped from the new master.
#
# Run one step at a time, on the host the step names, as root (the steps
# that the guide runs as the database user switch to RUN_AS):
#
#     guide-warm-standbys.sh --list          the steps, in order
#     guide-warm-standbys.sh STEP            one step
#     guide-warm-standbys.sh all             every step in order (all hosts one machine)
#
# A.1 Replicating the database
#   a1-master-dirs         A.1.2 on the master: log/state and temp directories
#   a1-slave-dirs          A.1.2 on slave 1 and slave 2: log/state, wal_archive, temp
#                          (A.1.3, the rsync daemon serving wal_archive on each
#                          slave, is system set-up: see the rsyncd.conf below)
#   a1-master-archive      A.1.4 archive_mode, the guide's archive_command, archive_timeout
#   a1-master-backup       A.1.5 the guide's omnipitr-backup-master line
#   a1-slave1-bootstrap    A.1.5/A.1.6 on slave 1: copy the backup, lay it out as a warm standby
#   a1-slave1-start        A.1.6 start slave 1
#   a1-slave2-bootstrap    the same on slave 2, with the -w window
#   a1-slave2-start        start slave 2
# A.2 Failing over to a slave (two independent demonstrations: in real life
#     you fail over to one slave, the way the situation asks for)
#   a2-slave2-finish-now   a TRUNCATE reached the master: finish slave 2 NOW,
#                          inside its window, so the TRUNCATE never reaches it
#   a2-master-down         the master died: make sure it stays down
#   a2-slave1-finish-smart finish slave 1 smart: replay all the archive has, then promote
# A.3 Restoring normal operations (slave 1 is the new master; slave 2 is
#     rebuilt as its warm spare (A.3.1.1) and slave 3 is the new data center
#     (A.3.2))
#   a3-slave-dirs          A.3.3 (= A.1.2) on slave 3; slave 2 has its directories
#   a3-new-master-archive  A.3.4 (= A.1.4) the new master archives to slave 2 and slave 3
#   a3-new-master-backup   A.3.5 (= A.1.5) a backup of the new master
#   a3-slave2-bootstrap    A.3.6 (= A.1.6) slave 2 rebuilt from the new master's backup
#   a3-slave2-start
#   a3-slave3-bootstrap    A.3.6 slave 3, the new data center
#   a3-slave3-start
#   a3-slave3-finish-smart A.3.7 item 2: fail the new master over to the new data center
#
# The rsync daemon on each slave (A.1.3), /etc/rsyncd.conf:
#
#     uid = postgres
#     gid = postgres
#     use chroot = no
#     hosts deny = *
#     hosts allow = MASTER-IP
#     [wal_archive]
#         path = /var/log/pe2/omnipitr/wal_archive
#         read only = false
#
# What changed for PostgreSQL 15 (the guide was written for 8.4):
# - No recovery.conf (PostgreSQL 12 and later refuse to start with one) and
#   no copying of postgresql.conf.dist: pitr-recover --warm-standby writes
#   the guide's restore_command (its -s from -a) into postgresql.auto.conf
#   with recovery.signal, and recovery_prefetch = off (the prefetcher would
#   ask the waiting restore_command for the next segment too early).
# - The master's postgresql.conf is edited with ALTER SYSTEM, not by hand.
# - The guide's slaves run the original postgresql.conf, without the
#   master's archive_command, and A.3.4 configures archiving once a slave is
#   the master.  Here the slaves keep archive_mode = on with an empty
#   archive_command instead: at promotion PostgreSQL then keeps the new
#   timeline's history file and every new segment in pg_wal (marked
#   .ready) until A.3.4 gives the archive_command, which sends them all, so
#   the new data center's archive holds the timeline history (the new
#   timeline's ancestry) and nothing written between the promotion and
#   A.3.4 is missing.
# - The new master's own backup (A.3.5) is on the new timeline; the new
#   data center's slave reads the history file from its archive.
#
# shellcheck disable=SC2317
set -euo pipefail

# --- what to adapt --------------------------------------------------------
# Each step runs on one host and reads only that host's variables (and the
# URLs of the slaves it archives to).  Servers are started and stopped with
# pg_ctl -D DATA, which wants postgresql.conf in the data directory (as
# initdb makes it, and as pitr-recover's copies have it); with Debian's
# split layout (/etc/postgresql/15/main) use pg_ctlcluster 15 main there.
# Programs.
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
# The names the guide's programs run under: pitr (pitr-archive, ...) or
# omnipitr, the guide's own (omnipitr-archive, ..., the links of `make
# install-compat`, which log as omnipitr-*).  pitr-recover, which has no
# OmniPITR name, stays pitr-recover; with omnipitr it writes omnipitr-restore
# into restore_command.
: "${PITR_NAMES:=pitr}"
case $PITR_NAMES in
pitr | omnipitr) ;;
*) echo "PITR_NAMES must be pitr or omnipitr, not \"$PITR_NAMES\"" >&2; exit 1 ;;
esac
if [ -z "${PITR_BIN:-}" ]; then
	PITR_BIN=$(dirname "$(command -v "$PITR_NAMES-archive" || echo "/usr/local/bin/$PITR_NAMES-archive")")
fi
# The database user (the guide's msyspg): empty when already running as it.
: "${RUN_AS:=}"
: "${DB_USER:=postgres}"
# Where psql, pg_ctl and pitr-backup-master find the local server's socket.
: "${PG_SOCKET_DIR:=/var/run/postgresql}"
: "${ARCHIVE_TIMEOUT:=60}"
# How long a finish may take (seconds) before the step gives up.
: "${FINISH_WAIT:=600}"

# The master (MC-DB-A).
: "${MASTER_HOST:=master}"
: "${MASTER_DATA:=/var/lib/postgresql/15/main}"
: "${MASTER_PORT:=5432}"
: "${MASTER_SERVER_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${MASTER_OMNIPITR:=/var/log/pe2/omnipitr}"     # the guide's log, state and backup dir
: "${MASTER_TMP:=/var/tmp/omnipitr}"
: "${MASTER_BACKUPS:=/var/tmp}"                  # the guide's -dl gzip=/var/tmp

# Slave 1 (a warm spare, the new master in A.3).
: "${SLAVE1_HOST:=slave1}"
: "${SLAVE1_DATA:=/var/lib/postgresql/15/main}"
: "${SLAVE1_PORT:=5432}"
: "${SLAVE1_SERVER_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${SLAVE1_OMNIPITR:=/var/log/pe2/omnipitr}"     # wal_archive is below it
: "${SLAVE1_TMP:=/var/tmp/omnipitr}"
: "${SLAVE1_DB:=/var/db}"                        # where the backup is copied to
: "${SLAVE1_BACKUPS:=/var/tmp}"                  # its own backups once it is the master
: "${SLAVE1_RSYNC:=rsync://$SLAVE1_HOST/wal_archive}"

# Slave 2 (a warm spare with a window against a TRUNCATE).
: "${SLAVE2_HOST:=slave2}"
: "${SLAVE2_DATA:=/var/lib/postgresql/15/main}"
: "${SLAVE2_PORT:=5432}"
: "${SLAVE2_SERVER_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${SLAVE2_OMNIPITR:=/var/log/pe2/omnipitr}"
: "${SLAVE2_TMP:=/var/tmp/omnipitr}"
: "${SLAVE2_DB:=/var/db}"
: "${SLAVE2_RSYNC:=rsync://$SLAVE2_HOST/wal_archive}"
: "${SLAVE2_WINDOW:=3600}"                       # -w: seconds a segment is held back

# Slave 3 (A.3.2: the new data center's warm spare).
: "${SLAVE3_HOST:=slave3}"
: "${SLAVE3_DATA:=/var/lib/postgresql/15/main}"
: "${SLAVE3_PORT:=5432}"
: "${SLAVE3_SERVER_LOG:=/var/log/postgresql/postgresql-15-main.log}"
: "${SLAVE3_OMNIPITR:=/var/log/pe2/omnipitr}"
: "${SLAVE3_TMP:=/var/tmp/omnipitr}"
: "${SLAVE3_DB:=/var/db}"
: "${SLAVE3_RSYNC:=rsync://$SLAVE3_HOST/wal_archive}"

# Where a slave fetches a backup from (rsync over ssh from the host that
# took it; a local directory works too).
: "${MASTER_BACKUP_SOURCE:=$MASTER_HOST:$MASTER_BACKUPS/}"
: "${SLAVE1_BACKUP_SOURCE:=$SLAVE1_HOST:$SLAVE1_BACKUPS/}"

# --- helpers --------------------------------------------------------------

say() { printf '== %s\n' "$*"; }

# as_db CMD...: run CMD as the database user (the guide's "sudo -u msyspg"),
# from / (a directory that user may enter).
as_db()
{
	if [ -n "$RUN_AS" ]; then
		(cd / && runuser -u "$RUN_AS" -- "$@")
	else
		(cd / && "$@")
	fi
}

# mkdir_db DIR...: the guide's "mkdir -p; chown msyspg:msyspg" (as root).
mkdir_db()
{
	mkdir -p "$@"
	if [ -n "$RUN_AS" ]; then
		chown "$RUN_AS:" "$@"
	fi
}

# psql_at PORT: psql on the local server at PORT, reading SQL from stdin
# (so that -v variables are quoted by psql: :'name').
psql_at()
{
	local port=$1
	shift
	as_db "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$port" \
		-U "$DB_USER" -d postgres "$@"
}

# archive_command OMNIPITR TMP RSYNC...: the guide's A.1.4 archive_command,
# one -dr per slave (paths without blanks, as in the guide).
archive_command()
{
	local omni=$1 tmp=$2 dr='' url
	shift 2
	for url in "$@"; do
		dr="$dr -dr gzip=$url"
	done
	printf '%s' "$PITR_BIN/$PITR_NAMES-archive -l $omni/^a.log -s $omni/state -db $omni/backup$dr -t $tmp/ -v \"%p\""
}

# backup_master PORT DATA OMNIPITR TMP BACKUPS: the guide's A.1.5 line.  The
# guide connects through the local socket; PGHOST and PGPORT say where it is.
backup_master()
{
	local port=$1 data=$2 omni=$3 tmp=$4 backups=$5
	as_db env PGHOST="$PG_SOCKET_DIR" PGPORT="$port" \
		"$PITR_BIN/$PITR_NAMES-backup-master" \
		-U "$DB_USER" \
		-D "$data" \
		-l "$omni/^a.log" \
		-x "$omni/backup" \
		-dl "gzip=$backups" \
		-t "$tmp/" \
		--pid-file "$(dirname "$omni")/omnipitr-backup-master.pid" \
		-v
}

# slave_bootstrap SOURCE DB DATA PORT OMNIPITR TMP [WINDOW]: A.1.5's copy
# and A.1.6's configuration on a slave.
slave_bootstrap()
{
	local src=$1 db=$2 data=$3 port=$4 omni=$5 tmp=$6 window=${7:-} opts
	# "Copy this backup file to /var/db on each slave."  The backup is
	# its data and xlog tarballs and its meta file.
	as_db rsync -a --include='*-data-*' --include='*-xlog-*' --include='*-meta-*' \
		--exclude='*' "$src" "$db/"
	# "/etc/init.d/msyspg stop; mv ./msyspg/ ./msyspg.dist/": the slave's
	# own database (if any) stopped and kept aside, dated so that a second
	# bootstrap keeps the first one's.
	if [ -e "$data/postmaster.pid" ]; then
		as_db "$PGBIN/pg_ctl" -D "$data" -m fast -w stop
	fi
	if [ -e "$data" ] && [ -n "$(ls -A "$data")" ]; then
		mv "$data" "$data.dist-$(date +%Y%m%d-%H%M%S)"
	fi
	# A.1.6's restore_command, but for -s (pitr-recover writes it from
	# -a) and %f %p; -w SECONDS is the guide's window against a TRUNCATE.
	opts="-l $omni/^a.log -f $omni/finish.recovery -p $omni/pause.removal -t $tmp/"
	opts="$opts -ep hang -pp $PGBIN/pg_controldata -r -v"
	[ -z "$window" ] || opts="$opts -w $window"
	# "tar -xzf <backup>.tar.gz", recovery.conf and postgresql.conf.dist
	# in one: the newest backup laid out as a warm standby
	# (recovery.signal; pitr-restore waits for every next segment, so the
	# finish trigger is the only way out of recovery); its own port; the
	# master's archive_command emptied (see the header: the history file
	# and the new segments wait in pg_wal for A.3.4).  Hot standby, which
	# the guide's PostgreSQL did not have, lets you watch the replay
	# with read-only queries, and tells when a NOW finish is safe.
	as_db "$PITR_BIN/pitr-recover" \
		--pitr-restore "$PITR_BIN/$PITR_NAMES-restore" \
		-b "$db" --backup latest \
		-a "gzip=$omni/wal_archive" \
		-D "$data" \
		--warm-standby --hot-standby on \
		--restore-options "$opts" \
		--port "$port" \
		--set archive_command=
}

# slave_start DATA LOG: "/etc/init.d/msyspg start".  Without pg_ctl's wait:
# a warm standby answers only once it replayed up to consistency, which
# with a -w window takes the window.  The step ends once the postmaster
# runs; then watch the logs, as the guide says.
slave_start()
{
	local waited=0
	as_db "$PGBIN/pg_ctl" -D "$1" -l "$2" -W start
	until as_db "$PGBIN/pg_ctl" -D "$1" status >/dev/null; do
		if [ "$waited" -ge 10 ]; then
			echo "the server in $1 did not start; see $2" >&2
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	as_db "$PGBIN/pg_ctl" -D "$1" status
}

# wait_consistent PORT: wait until the hot standby at PORT accepts
# connections, i.e. it replayed up to consistency.  Finishing NOW before
# that ends recovery before the data is consistent, and PostgreSQL then
# refuses to start at all.
wait_consistent()
{
	local waited=0
	until as_db "$PGBIN/pg_isready" -q -h "$PG_SOCKET_DIR" -p "$1"; do
		if [ "$waited" -eq 0 ]; then
			echo "waiting until the slave is consistent (a NOW finish before that would leave it unusable)"
		fi
		if [ "$waited" -ge "$FINISH_WAIT" ]; then
			echo "the slave at port $1 is not consistent after $FINISH_WAIT s: finish it smart instead" >&2
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
}

# promoted DATA: recovery ended: PostgreSQL removed recovery.signal and
# pg_control says "in production".  Not pg_control alone: a data dir laid
# out from a primary's backup says "in production" too until its startup
# process, which may wait for the -w window first, begins the recovery.
promoted()
{
	[ ! -e "$1/recovery.signal" ] &&
		"$PGBIN/pg_controldata" "$1" | grep -q '^Database cluster state: *in production'
}

# finish DATA TRIGGER CONTENT: write the finish trigger (empty: smart; NOW:
# immediate), wait until the slave is promoted, then remove the trigger:
# pitr-restore reads it at every call, and a leftover trigger would finish
# the next recovery that uses it at once.
finish()
{
	local data=$1 trigger=$2 content=$3 waited=0
	if [ -n "$content" ]; then
		printf '%s\n' "$content" | as_db tee "$trigger" >/dev/null
	else
		as_db touch "$trigger"
	fi
	until promoted "$data"; do
		if ! as_db "$PGBIN/pg_ctl" -D "$data" status >/dev/null; then
			echo "the server in $data stopped instead of being promoted: see its log" >&2
			return 1
		fi
		if [ "$waited" -ge "$FINISH_WAIT" ]; then
			echo "not promoted after $FINISH_WAIT s: $data" >&2
			return 1
		fi
		sleep 1
		waited=$((waited + 1))
	done
	as_db rm -f "$trigger"
	"$PGBIN/pg_controldata" "$data" | grep -E "^(Database cluster state|Latest checkpoint's TimeLineID)"
}

# --- A.1 ------------------------------------------------------------------

step_a1_master_dirs()
{
	say "A.1.2: working directories on the master ($MASTER_HOST)"
	mkdir_db "$MASTER_OMNIPITR" "$MASTER_OMNIPITR/state" "$MASTER_TMP"
}

step_a1_slave_dirs()
{
	say "A.1.2: working directories on $SLAVE1_HOST and $SLAVE2_HOST"
	mkdir_db "$SLAVE1_OMNIPITR" "$SLAVE1_OMNIPITR/state" "$SLAVE1_OMNIPITR/wal_archive" "$SLAVE1_TMP"
	mkdir_db "$SLAVE2_OMNIPITR" "$SLAVE2_OMNIPITR/state" "$SLAVE2_OMNIPITR/wal_archive" "$SLAVE2_TMP"
}

step_a1_master_archive()
{
	local cmd
	cmd=$(archive_command "$MASTER_OMNIPITR" "$MASTER_TMP" "$SLAVE1_RSYNC" "$SLAVE2_RSYNC")
	say "A.1.4: the master archives to $SLAVE1_RSYNC and $SLAVE2_RSYNC"
	echo "archive_command = '$cmd'"
	# ALTER SYSTEM instead of editing postgresql.conf; archive_mode
	# needs the restart the guide does with /etc/init.d/msyspg start.
	psql_at "$MASTER_PORT" -v cmd="$cmd" -v timeout="$ARCHIVE_TIMEOUT" <<'EOF'
ALTER SYSTEM SET archive_mode = on;
ALTER SYSTEM SET archive_command = :'cmd';
ALTER SYSTEM SET archive_timeout = :'timeout';
EOF
	as_db "$PGBIN/pg_ctl" -D "$MASTER_DATA" -l "$MASTER_SERVER_LOG" -m fast -w restart
}

step_a1_master_backup()
{
	say "A.1.5: a backup of the master into $MASTER_BACKUPS"
	backup_master "$MASTER_PORT" "$MASTER_DATA" "$MASTER_OMNIPITR" "$MASTER_TMP" "$MASTER_BACKUPS"
}

step_a1_slave1_bootstrap()
{
	say "A.1.5/A.1.6: $SLAVE1_HOST bootstrapped as a warm standby from the master's backup"
	slave_bootstrap "$MASTER_BACKUP_SOURCE" "$SLAVE1_DB" "$SLAVE1_DATA" "$SLAVE1_PORT" \
		"$SLAVE1_OMNIPITR" "$SLAVE1_TMP"
}

step_a1_slave1_start()
{
	say "A.1.6: start $SLAVE1_HOST"
	slave_start "$SLAVE1_DATA" "$SLAVE1_SERVER_LOG"
}

step_a1_slave2_bootstrap()
{
	say "A.1.5/A.1.6: $SLAVE2_HOST bootstrapped as a warm standby, -w $SLAVE2_WINDOW"
	slave_bootstrap "$MASTER_BACKUP_SOURCE" "$SLAVE2_DB" "$SLAVE2_DATA" "$SLAVE2_PORT" \
		"$SLAVE2_OMNIPITR" "$SLAVE2_TMP" "$SLAVE2_WINDOW"
}

step_a1_slave2_start()
{
	say "A.1.6: start $SLAVE2_HOST"
	slave_start "$SLAVE2_DATA" "$SLAVE2_SERVER_LOG"
}

# --- A.2 ------------------------------------------------------------------

step_a2_slave2_finish_now()
{
	# "echo NOW" finishes at once: nothing more is handed over, so the
	# segments still inside the -w window (the TRUNCATE's) are never
	# replayed.  Do it before the window passes.
	say "A.2: finish $SLAVE2_HOST NOW, before its window lets the TRUNCATE through"
	wait_consistent "$SLAVE2_PORT"
	finish "$SLAVE2_DATA" "$SLAVE2_OMNIPITR/finish.recovery" NOW
}

step_a2_master_down()
{
	# A failed master must not come back as a second master: stop it if
	# it still runs (it would go on archiving into the slaves' archives).
	say "A.2: the master ($MASTER_HOST) is down"
	if as_db "$PGBIN/pg_ctl" -D "$MASTER_DATA" status >/dev/null; then
		as_db "$PGBIN/pg_ctl" -D "$MASTER_DATA" -m immediate -w stop
	else
		echo "the master is not running"
	fi
}

step_a2_slave1_finish_smart()
{
	# An empty finish trigger is the smart finish: every segment the
	# archive has is replayed (without any -w delay), then recovery ends
	# and the slave is promoted on a new timeline.
	say "A.2: finish $SLAVE1_HOST smart: replay all its archive holds, then promote"
	finish "$SLAVE1_DATA" "$SLAVE1_OMNIPITR/finish.recovery" ""
}

# --- A.3 ------------------------------------------------------------------

step_a3_slave_dirs()
{
	say "A.3.3: working directories on $SLAVE3_HOST (the new data center)"
	mkdir_db "$SLAVE3_OMNIPITR" "$SLAVE3_OMNIPITR/state" "$SLAVE3_OMNIPITR/wal_archive" "$SLAVE3_TMP"
}

step_a3_new_master_archive()
{
	local cmd
	cmd=$(archive_command "$SLAVE1_OMNIPITR" "$SLAVE1_TMP" "$SLAVE2_RSYNC" "$SLAVE3_RSYNC")
	say "A.3.4: the new master ($SLAVE1_HOST) archives to $SLAVE2_RSYNC and $SLAVE3_RSYNC"
	echo "archive_command = '$cmd'"
	# archive_mode is on already (see the header): a reload is enough,
	# and what waited in pg_wal since the promotion (the timeline
	# history file first) is archived now.
	psql_at "$SLAVE1_PORT" -v cmd="$cmd" -v timeout="$ARCHIVE_TIMEOUT" <<'EOF'
ALTER SYSTEM SET archive_mode = on;
ALTER SYSTEM SET archive_command = :'cmd';
ALTER SYSTEM SET archive_timeout = :'timeout';
SELECT pg_reload_conf();
EOF
}

step_a3_new_master_backup()
{
	say "A.3.5: a backup of the new master ($SLAVE1_HOST) into $SLAVE1_BACKUPS"
	backup_master "$SLAVE1_PORT" "$SLAVE1_DATA" "$SLAVE1_OMNIPITR" "$SLAVE1_TMP" "$SLAVE1_BACKUPS"
}

step_a3_slave2_bootstrap()
{
	say "A.3.6: $SLAVE2_HOST rebuilt as a warm standby of the new master, -w $SLAVE2_WINDOW"
	slave_bootstrap "$SLAVE1_BACKUP_SOURCE" "$SLAVE2_DB" "$SLAVE2_DATA" "$SLAVE2_PORT" \
		"$SLAVE2_OMNIPITR" "$SLAVE2_TMP" "$SLAVE2_WINDOW"
}

step_a3_slave2_start()
{
	say "A.3.6: start $SLAVE2_HOST"
	slave_start "$SLAVE2_DATA" "$SLAVE2_SERVER_LOG"
}

step_a3_slave3_bootstrap()
{
	say "A.3.6: $SLAVE3_HOST (new data center) bootstrapped as a warm standby of the new master"
	slave_bootstrap "$SLAVE1_BACKUP_SOURCE" "$SLAVE3_DB" "$SLAVE3_DATA" "$SLAVE3_PORT" \
		"$SLAVE3_OMNIPITR" "$SLAVE3_TMP"
}

step_a3_slave3_start()
{
	say "A.3.6: start $SLAVE3_HOST"
	slave_start "$SLAVE3_DATA" "$SLAVE3_SERVER_LOG"
}

step_a3_slave3_finish_smart()
{
	# A.3.7 item 2: "artificially fail over" to the new data center, the
	# way A.2 did; its new timeline's history names both earlier switches.
	say "A.3.7: fail over to $SLAVE3_HOST (smart finish)"
	finish "$SLAVE3_DATA" "$SLAVE3_OMNIPITR/finish.recovery" ""
}

# --- steps ----------------------------------------------------------------

STEPS=(
	"a1-master-dirs|A.1.2 on the master: log/state and temp directories"
	"a1-slave-dirs|A.1.2 on slave 1 and 2: log/state, wal_archive and temp directories"
	"a1-master-archive|A.1.4 the master archives to both slaves (archive_command, restart)"
	"a1-master-backup|A.1.5 a backup of the master (pitr-backup-master)"
	"a1-slave1-bootstrap|A.1.5/A.1.6 slave 1: copy the backup, lay it out as a warm standby"
	"a1-slave1-start|A.1.6 start slave 1"
	"a1-slave2-bootstrap|A.1.5/A.1.6 slave 2: the same, with the -w window"
	"a1-slave2-start|A.1.6 start slave 2"
	"a2-slave2-finish-now|A.2 finish slave 2 NOW (a TRUNCATE inside its window stays out)"
	"a2-master-down|A.2 the failed master stays down"
	"a2-slave1-finish-smart|A.2 finish slave 1 smart: the whole archive, then promote"
	"a3-slave-dirs|A.3.3 directories on slave 3 (the new data center)"
	"a3-new-master-archive|A.3.4 the new master (slave 1) archives to slave 2 and slave 3"
	"a3-new-master-backup|A.3.5 a backup of the new master"
	"a3-slave2-bootstrap|A.3.6 slave 2 rebuilt as the new master's warm standby"
	"a3-slave2-start|A.3.6 start slave 2"
	"a3-slave3-bootstrap|A.3.6 slave 3 bootstrapped as the new master's warm standby"
	"a3-slave3-start|A.3.6 start slave 3"
	"a3-slave3-finish-smart|A.3.7 fail over to slave 3"
)

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
procedure_main "$@"
