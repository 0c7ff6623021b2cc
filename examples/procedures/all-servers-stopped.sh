#!/bin/bash
# all-servers-stopped.sh - when all servers have stopped, with pitrkit on
# PostgreSQL 15: a primary (host A) and its streaming standby (host B), each
# with its own backups and WAL archive, both stopped; the primary's data
# files are lost, its pg_wal (on a disk of its own) survived.  The WAL that
# was never archived is archived by hand, ONE pitr-info call finds the
# newest backup and the furthest archive across both hosts, pitr-recover
# recovers the primary from that backup and both archives (no copying
# between hosts), and ONE pitr-synch -r call rebuilds the standby over its
# old data directory.
#
# Serves: issue 10 item 4, seeds/002_* "all servers or instances stopped":
# identify the primary, recover it from the backup data and archive log
# "that show the latest date" on either server, start it, resume the
# applications, then "recover (set up) the standby server from the primary
# server".  Mirroring Controller (mc_ctl) has no counterpart: pg_ctl.
#
# The two hosts, as this script sets them up:
#   host A  the primary: archive_mode = on, pitr-archive into A's archive
#           (ARCHIVE_A); its backups (pitr-backup-master, say weekly) in
#           BACKUPS_A.
#   host B  the streaming standby: archive_mode = always, pitr-archive into
#           B's own archive (ARCHIVE_B) every segment it receives; the
#           nightly backups are taken here (pitr-backup-slave, off the
#           primary's back) into BACKUPS_B.
#   B's backup and archive directories are mounted on A (NFS, read-only is
#   enough: B_BACKUPS_ON_A, B_ARCHIVE_ON_A), so the recovery on A reads both
#   hosts' directories where they are: nothing is copied between hosts
#   (the seed's "copy the backup data and overwrite it" is not needed).
#
# Run one step at a time (`all-servers-stopped.sh STEP`), `--list` for the
# steps, `all` for every step in order.  The steps, in order (host in
# brackets):
#
#   primary          [A] initdb (if new), archiving to A's archive, table t
#   primary-backup   [A] pitr-backup-master: the weekly backup, into A's backups
#   standby          [A] pitr-synch over ssh: B a streaming standby archiving
#                    (archive_mode = always) to B's own archive
#   standby-start    [B] pg_ctl start
#   work             [A] rows, replayed on B
#   standby-backup   [B] pitr-backup-slave: the nightly backup, into B's backups
#   more-work        [A] rows after both backups; the last ones still in the
#                    segment A is writing (not archived anywhere)
#   all-stopped      [A, B] both servers stop (power failure: -m immediate)
#   save-wal         [A] what survived in A's pg_wal and was never archived,
#                    archived by hand with pitr-archive into A's archive
#   identify         [A] ONE pitr-info over both hosts' backups and archives:
#                    the newest backup, the furthest archive
#   recover-primary  [A] A's damaged data dir kept aside; pitr-recover from the
#                    newest backup and both archives; A is the primary again
#   rebuild-standby  [A] ONE pitr-synch -r call over ssh: B's old data dir made
#                    the new primary's standby
#   standby-restart  [B] pg_ctl start: B follows A on A's new timeline
#   resume           [A] the applications resume; B receives their rows
#
# Notes for PostgreSQL 15: no recovery.conf, the recovered primary ends
# recovery on a new timeline (2); the standby must follow that timeline,
# which its old data dir (timeline 1, further ahead than nothing) cannot do
# by itself: pitr-synch -r brings it to A's content, sending what differs.
# shellcheck disable=SC2317  # step functions are called by name
set -euo pipefail

# --- what to adapt ----------------------------------------------------------
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PITR_BIN:=}"                       # where pitrkit's programs are; default: PATH
: "${RUN_AS:=}"                         # e.g. postgres when run as root; empty: already him
: "${INITDB_OPTS:=--auth=trust --encoding=UTF8 --data-checksums}"
: "${SOCKET_DIR:=/var/run/postgresql}"  # unix_socket_directories, for psql and the programs
: "${LISTEN_ADDRESSES:=*}"
: "${DB_USER:=postgres}"                # superuser and replication user
: "${HOST_A:=pg-a}"                     # the primary (ssh, primary_conninfo)
: "${HOST_B:=pg-b}"                     # the standby
: "${DATA_A:=/var/lib/postgresql/15/main}"
: "${DATA_B:=/var/lib/postgresql/15/main}"
: "${PORT_A:=5432}"
: "${PORT_B:=5432}"
: "${LOG_A:=/var/log/postgresql/postgresql-15-main.log}"
: "${LOG_B:=/var/log/postgresql/postgresql-15-main.log}"
: "${ARCHIVE_A:=/var/lib/pitr/wal_archive}"     # at A
: "${BACKUPS_A:=/var/lib/pitr/backup}"          # at A
: "${BACKUP_XLOGS_A:=/var/lib/pitr/backup-xlogs}"  # pitr-backup-master -x = pitr-archive -db
: "${PITR_A:=/var/lib/pitr}"                    # at A: state/, log/, tmp/
: "${ARCHIVE_B:=/var/lib/pitr/wal_archive}"     # at B
: "${BACKUPS_B:=/var/lib/pitr/backup}"          # at B
: "${PITR_B:=/var/lib/pitr}"                    # at B: state/, log/, tmp/
: "${B_ARCHIVE_ON_A:=/mnt/pg-b/wal_archive}"    # B's archive as A sees it
: "${B_BACKUPS_ON_A:=/mnt/pg-b/backup}"         # B's backups as A sees it
: "${ARCHIVE_TIMEOUT:=60}"              # a segment is finished at least this often
: "${SSH_PATH:=ssh}"                    # pitr-synch --ssh-path
: "${REBUILD_OPTS:=}"                   # more pitr-synch -r options, e.g. --stale-pid-file (see rebuild-standby)
: "${WAIT:=300}"                        # seconds to wait for a server or a row

if [ -z "$PITR_BIN" ]; then
	PITR_BIN=$(dirname "$(command -v pitr-recover || echo /usr/bin/pitr-recover)")
fi
# Each host's archive_command (B's: archive_mode = always, so a standby
# archives what it receives).
ARCHIVE_CMD_A="$PITR_BIN/pitr-archive -l $PITR_A/log/archive.log -s $PITR_A/state -dl gzip=$ARCHIVE_A -db $BACKUP_XLOGS_A \"%p\""
ARCHIVE_CMD_B="$PITR_BIN/pitr-archive -l $PITR_B/log/archive.log -s $PITR_B/state -dl gzip=$ARCHIVE_B \"%p\""

STEPS=(
	"primary|[A] initdb (if new), archiving to A's archive, table t"
	"primary-backup|[A] pitr-backup-master: the weekly backup, into A's backups"
	"standby|[A] pitr-synch over ssh: B a streaming standby archiving to B's archive"
	"standby-start|[B] pg_ctl start"
	"work|[A] rows, replayed on B"
	"standby-backup|[B] pitr-backup-slave: the nightly backup, into B's backups"
	"more-work|[A] rows after both backups, the last ones not archived anywhere"
	"all-stopped|[A, B] both servers stop (power failure)"
	"save-wal|[A] A's surviving, unarchived WAL archived by hand (pitr-archive)"
	"identify|[A] ONE pitr-info: the newest backup, the furthest archive"
	"recover-primary|[A] pitr-recover from the newest backup and both archives"
	"rebuild-standby|[A] ONE pitr-synch -r: B's old data dir the new primary's standby"
	"standby-restart|[B] pg_ctl start: B follows A on its new timeline"
	"resume|[A] the applications resume; B receives their rows"
)

# --- helpers ------------------------------------------------------------------

say() { printf '== %s\n' "$*"; }
die() { printf 'all-servers-stopped: %s\n' "$*" >&2; exit 1; }

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
rows() { sql "$1" "SELECT count(*) FROM t"; }
streaming() { [ "$(sql "$1" "SELECT status FROM pg_stat_wal_receiver")" = streaming ]; }
replayed() { [ "$(sql "$1" "SELECT pg_last_wal_replay_lsn() >= '$2'")" = t ]; }
timeline() { sql "$1" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"; }

# caught_up: B has replayed everything A has written.
caught_up()
{
	local lsn
	lsn=$(sql "$PORT_A" "SELECT pg_current_wal_lsn()")
	wait_until "B replays up to $lsn" replayed "$PORT_B" "$lsn"
}

# json_field OBJECT FIELD: FIELD's string value inside "OBJECT": { ... } of
# pitr-info --json (read from standard input).
json_field()
{
	sed -n "/\"$1\": {/,/}/p" | sed -n "s/.*\"$2\": \"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

# json_line FIELD: a top-level string FIELD of pitr-info --json (stdin).
json_line() { sed -n "s/^  \"$1\": \"\(.*\)\",*$/\1/p" | head -n 1; }

# pitr_info ARGS...: the one pitr-info call over both hosts' directories.
pitr_info()
{
	run "$PITR_BIN/pitr-info" -b "$BACKUPS_A" -b "$B_BACKUPS_ON_A" \
		-a "gzip=$ARCHIVE_A" -a "gzip=$B_ARCHIVE_ON_A" "$@"
}

# standby_of_a [-r]: ONE pitr-synch call on A: B's data dir (over ssh) a
# streaming standby of A, on B's port, archiving to B's own archive.
standby_of_a()
{
	run "$PITR_BIN/pitr-synch" -D "$DATA_A" -h "$SOCKET_DIR" -p "$PORT_A" -U "$DB_USER" -a \
		--ssh-path "$SSH_PATH" --remote-pitr-synch "$PITR_BIN/pitr-synch" \
		-o "$HOST_B:$DATA_B" "$@" --standby \
		--primary-conninfo "host=$HOST_A port=$PORT_A user=$DB_USER application_name=$HOST_B" \
		--set "port=$PORT_B" --set "archive_mode=always" --set "archive_command=$ARCHIVE_CMD_B"
}

# --- steps ----------------------------------------------------------------------

step_primary()
{
	local -a initdb_opts
	say "primary: host A's cluster, archiving into A's archive"
	run mkdir -p "$ARCHIVE_A" "$BACKUPS_A" "$PITR_A/state" "$PITR_A/log" "$PITR_A/tmp"
	if [ ! -s "$DATA_A/PG_VERSION" ]; then
		read -r -a initdb_opts <<<"$INITDB_OPTS"
		run "$PGBIN/initdb" -D "$DATA_A" -U "$DB_USER" "${initdb_opts[@]}" >/dev/null
	fi
	start "$DATA_A" "$LOG_A" -o "-p $PORT_A -k $SOCKET_DIR"
	sql "$PORT_A" "ALTER SYSTEM SET port = $PORT_A"
	sql "$PORT_A" "ALTER SYSTEM SET listen_addresses = '$LISTEN_ADDRESSES'"
	sql "$PORT_A" "ALTER SYSTEM SET unix_socket_directories = '$SOCKET_DIR'"
	sql "$PORT_A" "ALTER SYSTEM SET archive_mode = 'on'"
	sql "$PORT_A" "ALTER SYSTEM SET archive_command = '${ARCHIVE_CMD_A//\'/\'\'}'"
	sql "$PORT_A" "ALTER SYSTEM SET archive_timeout = $ARCHIVE_TIMEOUT"
	stop "$DATA_A"
	start "$DATA_A" "$LOG_A"
	sql "$PORT_A" "CREATE TABLE IF NOT EXISTS t (id serial PRIMARY KEY, what text,
		at timestamptz DEFAULT clock_timestamp())"
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'initial' FROM generate_series(1, 1000)"
	echo "   host A: primary on port $PORT_A, $(rows "$PORT_A") rows"
}

step_primary_backup()
{
	say "primary-backup: the weekly backup of A, into A's backup dir"
	run "$PITR_BIN/pitr-backup-master" -D "$DATA_A" -h "$SOCKET_DIR" -p "$PORT_A" -U "$DB_USER" \
		-x "$BACKUP_XLOGS_A" -dl "gzip=$BACKUPS_A" -dg SHA-256 -t "$PITR_A/tmp/" \
		-f "$HOST_A-__FILETYPE__-^Y-^m-^d-^H^M^S.tar__CEXT__" -l "$PITR_A/log/backup.log"
}

step_standby()
{
	say "standby: A copied to B over ssh, a streaming standby archiving into B's archive"
	# B's own archive and backups, made on B (ssh runs as the database user).
	run "$SSH_PATH" -o BatchMode=yes "$HOST_B" mkdir -p "$ARCHIVE_B" "$BACKUPS_B" \
		"$PITR_B/state" "$PITR_B/log" "$PITR_B/tmp"
	standby_of_a
}

step_standby_start()
{
	say "standby-start: B started, streaming from A"
	start "$DATA_B" "$LOG_B"
	wait_until "B streams from A" streaming "$PORT_B"
}

step_work()
{
	say "work: the day's rows on A, replayed on B"
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'work' FROM generate_series(1, 1000)"
	caught_up
	echo "   A: $(rows "$PORT_A") rows, B: $(rows "$PORT_B") rows"
}

step_standby_backup()
{
	local pid
	say "standby-backup: the nightly backup, taken on B, into B's backup dir"
	# A standby with archive_mode = always archives the segments it
	# streams, not the ones its copy brought in pg_wal, and a standby's
	# backup starts at its last restartpoint: on a new standby that is the
	# copy's own checkpoint, in a segment B's archive lacks.  So the first
	# backup needs a restartpoint in streamed WAL: a checkpoint on A, in a
	# new segment, replayed on B, then CHECKPOINT on B (a restartpoint).
	# Later nightly backups find one there anyway (checkpoint_timeout).
	sql "$PORT_A" "SELECT pg_switch_wal()" >/dev/null
	sql "$PORT_A" "CHECKPOINT"
	caught_up
	sql "$PORT_B" "CHECKPOINT"
	# The backup ends with the segment B replays when it stops; A must
	# finish that segment (archive_timeout, once something is written) and
	# B archive it: the applications write meanwhile (here a row a second).
	( while :; do sql "$PORT_A" "INSERT INTO t (what) VALUES ('during-backup')"; sleep 1; done ) \
		>/dev/null 2>&1 &
	pid=$!
	# shellcheck disable=SC2064  # the pid now
	trap "kill $pid 2>/dev/null" EXIT
	run "$PITR_BIN/pitr-backup-slave" -D "$DATA_B" --standby-host "$SOCKET_DIR" --standby-port "$PORT_B" \
		--standby-username "$DB_USER" \
		-s "gzip=$ARCHIVE_B" -p "$PITR_B/tmp/removal-pause" -t "$PITR_B/tmp/" \
		-dl "gzip=$BACKUPS_B" -dg SHA-256 \
		-f "$HOST_B-__FILETYPE__-^Y-^m-^d-^H^M^S.tar__CEXT__" -l "$PITR_B/log/backup.log"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	trap - EXIT
}

step_more_work()
{
	local seg
	say "more-work: rows after both backups; the last ones only in the segment A writes"
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'after-backups' FROM generate_series(1, 1000)"
	seg=$(sql "$PORT_A" "SELECT pg_walfile_name(pg_switch_wal())")
	# These commit into the segment being written: no archive has them
	# until it is finished.
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'last' FROM generate_series(1, 100)"
	caught_up
	echo "   A: $(rows "$PORT_A") rows; $seg finished, the last rows in $(sql "$PORT_A" "SELECT pg_walfile_name(pg_current_wal_lsn())")"
}

step_all_stopped()
{
	say "all-stopped: A and B stop at once (power failure)"
	stop "$DATA_A" immediate
	stop "$DATA_B" immediate
}

step_save_wal()
{
	local f n=0
	say "save-wal: A's pg_wal survived: its unarchived segments archived by hand"
	# Before anything else on A: its pg_wal holds the segment it was
	# writing (never archived: PostgreSQL archives a segment once it is
	# finished) and any its archiver had not delivered yet.  Each segment
	# is given to pitr-archive, oldest first: one already archived counts
	# as delivered; a file PostgreSQL recycled or preallocated for later
	# use (not written under its name yet) is refused, and that is the end
	# of the WAL.  -D with -f (--force-data-dir): the data files around
	# pg_wal may be gone.
	for f in "$DATA_A"/pg_wal/[0-9A-F]*; do
		[[ ${f##*/} =~ ^[0-9A-F]{24}$ ]] || continue
		if ! run "$PITR_BIN/pitr-archive" -l "$PITR_A/log/archive-by-hand.log" -s "$PITR_A/state" \
			-D "$DATA_A" -f -dl "gzip=$ARCHIVE_A" "$f" 2>/dev/null; then
			echo "   ${f##*/}: not written under its name (the end of the WAL): stop"
			break
		fi
		echo "   ${f##*/}: in A's archive"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || die "nothing in $DATA_A/pg_wal could be archived"
}

step_identify()
{
	local json
	say "identify: the newest backup and the furthest archive, over both hosts"
	# ONE pitr-info over both hosts' backup dirs and archives (the seed's
	# "pgx_rcvall -l" and "ls -ltr" on each server, compared by hand):
	# its JSON is kept for recover-primary, which recovers from what was
	# identified here.
	json=$(pitr_info --json)
	printf '%s\n' "$json" | run tee "$PITR_A/identify.json" >/dev/null
	grep -q '"same_system": true' <<<"$json" ||
		die "the two hosts' directories are not one database system's: $(json_line systems_differ <<<"$json")"
	echo "   newest backup: $(json_field newest_backup name <<<"$json") in $(json_field newest_backup backup_dir <<<"$json"), stopped $(json_field newest_backup stop_time <<<"$json")"
	echo "   furthest archive: $(json_field furthest_archive archive_dir <<<"$json"), up to $(json_field furthest_archive last <<<"$json") ($(json_field furthest_archive end_time <<<"$json"))"
	echo "   recoverable to: $(json_field window end_lsn <<<"$json"), $(json_field window end_time <<<"$json")"
}

step_recover_primary()
{
	local name aside
	say "recover-primary: A recovered from the newest backup and both archives"
	[ -s "$PITR_A/identify.json" ] || die "no $PITR_A/identify.json: run the identify step first"
	name=$(json_field newest_backup name <"$PITR_A/identify.json")
	[ -n "$name" ] || die "pitr-info found no backup"
	# The damaged data directory is kept, not overwritten (the seed's *2).
	if [ -e "$DATA_A" ]; then
		aside=$DATA_A.damaged-$(date +%Y%m%d-%H%M%S)
		run mv "$DATA_A" "$aside"
		echo "   the damaged data dir kept as $aside"
	fi
	# The newest backup may be B's: its settings are B's (its port, its
	# archive, archive_mode = always); A gets its own back with --port and
	# --set.  --archive-mode=preserve: A is the production primary again and
	# archives its new timeline.  With no target, recovery goes to the end
	# of the WAL both archives hold, then A is promoted.
	run "$PITR_BIN/pitr-recover" -b "$BACKUPS_A" -b "$B_BACKUPS_ON_A" --backup "$name" \
		-a "gzip=$ARCHIVE_A" -a "gzip=$B_ARCHIVE_ON_A" -D "$DATA_A" \
		--archive-mode preserve --port "$PORT_A" \
		--set "archive_mode=on" --set "archive_command=$ARCHIVE_CMD_A" \
		--start --wait "$WAIT"
	# pitr-recover started it for the recovery; from now on it runs as any
	# server does, logging where LOG_A says.
	stop "$DATA_A"
	start "$DATA_A" "$LOG_A"
	echo "   A: primary on timeline $(timeline "$PORT_A"), $(rows "$PORT_A") rows"
}

step_rebuild_standby()
{
	say "rebuild-standby: B's old data dir re-synced from A as A's standby (pitr-synch -r)"
	# After a real power loss B's postmaster.pid stays behind; pitr-synch
	# cannot check a remote pid and refuses: make sure B is down, then
	# REBUILD_OPTS=--stale-pid-file.
	# shellcheck disable=SC2086  # options, split on purpose
	standby_of_a -r $REBUILD_OPTS
}

step_standby_restart()
{
	say "standby-restart: B started, following A"
	start "$DATA_B" "$LOG_B"
	wait_until "B streams from A" streaming "$PORT_B"
	caught_up
	echo "   B: $(rows "$PORT_B") rows"
}

step_resume()
{
	say "resume: the applications write to A again"
	sql "$PORT_A" "INSERT INTO t (what) SELECT 'resumed' FROM generate_series(1, 100)"
	caught_up
	echo "   A: $(rows "$PORT_A") rows, B: $(rows "$PORT_B") rows"
}

# --- main -------------------------------------------------------------------------

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
cd /
procedure_main "$@"
