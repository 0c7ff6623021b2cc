#!/bin/bash
# recover-mistake.sh - recovery after an incorrect user operation, with
# pitrkit on PostgreSQL 15: to a restore point made before a risky change,
# and to a time after the last good transaction and before a mistaken
# DELETE; each recovered as a copy beside the running primary, checked,
# promoted, and the lost rows copied back.
#
# Serves: issue 10 item 4, "recovery to a restore point and to a time after
# an incorrect user operation" (seeds/002_*: "recovery of the database to a
# point in time", with OmniPITR's archive and backups).
# Run one step at a time (`recover-mistake.sh STEP`), `--list` for the
# steps, `all` for every step in order.  The steps, in order:
#
#   primary                initdb (if new), archiving with pitr-archive, the
#                          statement log, tables accounts and orders
#   backup                 pitr-backup-master: the base backup every recovery starts from
#   good-work              the day's transactions (after the backup)
#   restore-point          pg_create_restore_point('before_purge') before a risky change
#   purge                  the risky change goes wrong: TRUNCATE accounts
#   more-work              good transactions after it: more orders
#   delete                 the second mistake: DELETE FROM orders, no WHERE
#   window                 archive the WAL holding the mistakes, pitr-info: the
#                          recoverable window; the DELETE's time from the log
#   recover-restore-point  a copy recovered to the restore point (--target-name),
#                          promoted there (--target-action promote)
#   recover-time           a copy recovered to just before the DELETE
#                          (--target-time), paused there (--target-action pause)
#   check-time             what the paused copy holds, before deciding
#   promote-time           pg_wal_replay_resume(): the paused copy is promoted
#   repair                 the lost rows copied back into the primary (pg_dump | psql)
#   stop                   stop the recovered copies (the primary keeps serving)
#
# Notes for PostgreSQL 15: no recovery.conf; pitr-recover writes the target
# into the copy's postgresql.auto.conf with recovery.signal, and with
# --target-action pause the copy waits at the target with hot standby
# queries allowed; SELECT pg_wal_replay_resume() then ends recovery (it
# promotes), pg_promote() too.  The copies do not archive (pitr-recover's
# default): their new timelines stay out of the primary's archive.
# shellcheck disable=SC2317  # step functions are called by name
set -euo pipefail

# --- what to adapt ----------------------------------------------------------
: "${PGBIN:=/usr/lib/postgresql/15/bin}"
: "${PITR_BIN:=}"                       # where pitrkit's programs are; default: PATH
: "${RUN_AS:=}"                         # e.g. postgres when run as root; empty: already him
: "${INITDB_OPTS:=--auth=trust --encoding=UTF8 --data-checksums}"
: "${SOCKET_DIR:=/var/run/postgresql}"  # unix_socket_directories, for psql
: "${LISTEN_ADDRESSES:=localhost}"
: "${DB_USER:=postgres}"
: "${DB_NAME:=postgres}"                # the database holding accounts and orders
: "${PRIMARY_DATA:=/var/lib/postgresql/15/main}"
: "${PRIMARY_PORT:=5432}"
: "${PRIMARY_LOG:=/var/log/postgresql/postgresql-15-main.log}"  # its server log
: "${ARCHIVE:=/var/lib/pitr/wal_archive}"
: "${BACKUPS:=/var/lib/pitr/backup}"
: "${BACKUP_XLOGS:=/var/lib/pitr/backup-xlogs}"  # pitr-backup-master -x = pitr-archive -db
: "${PITR_STATE:=/var/lib/pitr/state}"
: "${PITR_LOGS:=/var/log/pitr}"
: "${RESTORE_POINT:=before_purge}"
: "${RP_DATA:=/var/lib/postgresql/15/before-purge}"      # the restore point's copy
: "${RP_PORT:=5433}"
: "${PIT_DATA:=/var/lib/postgresql/15/before-delete}"  # the point in time's copy
: "${PIT_PORT:=5434}"
: "${TARGET_TIME:=}"                    # empty: the DELETE's time, from PRIMARY_LOG
: "${WAIT:=300}"                        # seconds to wait for a server or the archive

if [ -z "$PITR_BIN" ]; then
	PITR_BIN=$(dirname "$(command -v pitr-recover || echo /usr/bin/pitr-recover)")
fi

STEPS=(
	"primary|initdb (if new), archiving with pitr-archive, the statement log, the tables"
	"backup|pitr-backup-master: the base backup every recovery starts from"
	"good-work|the day's transactions, after the backup"
	"restore-point|pg_create_restore_point('$RESTORE_POINT') before a risky change"
	"purge|the risky change goes wrong: TRUNCATE accounts"
	"more-work|good transactions after it: more orders"
	"delete|the second mistake: DELETE FROM orders without WHERE"
	"window|archive the WAL up to now; pitr-info: the recoverable window; the DELETE's time"
	"recover-restore-point|a copy recovered to the restore point and promoted there"
	"recover-time|a copy recovered to just before the DELETE, paused there"
	"check-time|what the paused copy holds, before deciding"
	"promote-time|pg_wal_replay_resume(): the paused copy is promoted"
	"repair|the lost rows copied back into the primary (pg_dump | psql)"
	"stop|stop the recovered copies (the primary keeps serving)"
)

# --- helpers ------------------------------------------------------------------

say() { printf '== %s\n' "$*"; }
die() { printf 'recover-mistake: %s\n' "$*" >&2; exit 1; }

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

counts() { sql "$1" "SELECT (SELECT count(*) FROM accounts) || ' accounts, ' || (SELECT count(*) FROM orders) || ' orders'"; }
in_recovery() { [ "$(sql "$1" "SELECT pg_is_in_recovery()")" = "$2" ]; }

# archived SEGMENT: the primary's archiver reports SEGMENT (or a later one) done.
archived()
{
	[[ ! "$(sql "$PRIMARY_PORT" "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" < "$1" ]]
}

# The time of the DELETE, from the server log: log_statement = 'mod'
# logs every data-changing statement with its start time (log_line_prefix
# %m, in UTC), and a transaction commits after its statement starts, so
# recovery to that time stops before the DELETE and after every
# transaction that committed before it.
mistake_time()
{
	local t
	t=$(sed -n 's/^\([0-9-]* [0-9:.]* UTC\) .*statement: DELETE FROM orders.*/\1/p' "$PRIMARY_LOG" | tail -n 1)
	[ -n "$t" ] || die "no DELETE FROM orders in $PRIMARY_LOG: give TARGET_TIME"
	printf '%s\n' "$t"
}

# --- steps ----------------------------------------------------------------------

step_primary()
{
	local -a initdb_opts
	local cmd
	say "primary: archiving with pitr-archive, every change in the server log"
	run mkdir -p "$ARCHIVE" "$BACKUPS" "$PITR_STATE" "$PITR_LOGS"
	if [ ! -s "$PRIMARY_DATA/PG_VERSION" ]; then
		read -r -a initdb_opts <<<"$INITDB_OPTS"
		run "$PGBIN/initdb" -D "$PRIMARY_DATA" -U "$DB_USER" "${initdb_opts[@]}" >/dev/null
	fi
	# The archive (-dl), and the backup's WAL directory while a backup runs (-db).
	cmd="$PITR_BIN/pitr-archive -l $PITR_LOGS/archive.log -dl gzip=$ARCHIVE -db $BACKUP_XLOGS -s $PITR_STATE \"%p\""
	# Set with ALTER SYSTEM (postgresql.auto.conf), not by editing files:
	# start on the port and sockets asked, set, restart.
	if ! run "$PGBIN/pg_ctl" -D "$PRIMARY_DATA" status >/dev/null; then
		run "$PGBIN/pg_ctl" -D "$PRIMARY_DATA" -l "$PRIMARY_LOG" -w -s \
			-o "-p $PRIMARY_PORT -k $SOCKET_DIR -c listen_addresses=$LISTEN_ADDRESSES" start
	fi
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET port = $PRIMARY_PORT"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET listen_addresses = '$LISTEN_ADDRESSES'"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET unix_socket_directories = '$SOCKET_DIR'"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET archive_mode = 'on'"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET archive_command = '${cmd//\'/\'\'}'"
	# What finds a mistake's time afterwards: every change logged, with a
	# time --target-time takes as it is.
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET log_statement = 'mod'"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET log_line_prefix = '%m [%p] '"
	sql "$PRIMARY_PORT" "ALTER SYSTEM SET log_timezone = 'UTC'"
	run "$PGBIN/pg_ctl" -D "$PRIMARY_DATA" -w -s stop
	run "$PGBIN/pg_ctl" -D "$PRIMARY_DATA" -l "$PRIMARY_LOG" -w -s start
	sql "$PRIMARY_PORT" "CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, owner text, balance numeric)"
	sql "$PRIMARY_PORT" "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY,
		account int, amount numeric, at timestamptz DEFAULT clock_timestamp())"
	sql "$PRIMARY_PORT" "INSERT INTO accounts SELECT i, 'owner ' || i, 100 FROM generate_series(1, 500) i
		ON CONFLICT DO NOTHING" >/dev/null
	echo "   primary on port $PRIMARY_PORT: $(counts "$PRIMARY_PORT")"
}

step_backup()
{
	say "backup: the base backup of the primary (its WAL in an xlog tarball)"
	run "$PITR_BIN/pitr-backup-master" -D "$PRIMARY_DATA" -h "$SOCKET_DIR" -p "$PRIMARY_PORT" \
		-U "$DB_USER" -x "$BACKUP_XLOGS" -dl "gzip=$BACKUPS" -dg SHA-256 \
		-f "__HOSTNAME__-__FILETYPE__-^Y-^m-^d-^H^M^S.tar__CEXT__" -l "$PITR_LOGS/backup.log"
	( cd "$BACKUPS" && ls -l -- *-meta-* )
}

step_good_work()
{
	say "good-work: the day's transactions, after the backup (recovery replays them)"
	sql "$PRIMARY_PORT" "INSERT INTO accounts SELECT i, 'owner ' || i, 100 FROM generate_series(501, 1000) i"
	sql "$PRIMARY_PORT" "INSERT INTO orders (account, amount) SELECT i, 10 FROM generate_series(1, 50) i"
	echo "   primary: $(counts "$PRIMARY_PORT")"
}

step_restore_point()
{
	say "restore-point: named before the risky change, so that recovery can stop exactly there"
	echo "   restore point '$RESTORE_POINT' at LSN $(sql "$PRIMARY_PORT" "SELECT pg_create_restore_point('$RESTORE_POINT')")"
}

step_purge()
{
	say "purge: the risky change goes wrong (meant: a test table, not accounts)"
	sql "$PRIMARY_PORT" "TRUNCATE accounts"
	echo "   primary: $(counts "$PRIMARY_PORT")"
}

step_more_work()
{
	say "more-work: good transactions after the purge"
	sql "$PRIMARY_PORT" "INSERT INTO orders (account, amount) SELECT i, 20 FROM generate_series(51, 75) i"
	echo "   primary: $(counts "$PRIMARY_PORT")"
}

step_delete()
{
	say "delete: the second mistake, DELETE FROM orders without its WHERE"
	sql "$PRIMARY_PORT" "DELETE FROM orders"
	echo "   primary: $(counts "$PRIMARY_PORT")"
}

step_window()
{
	local seg json start end t epoch
	say "window: the WAL holding the mistakes archived, then what can be recovered"
	# The segment being written holds the mistakes and everything before
	# them: finish it, so that the archive reaches past them.
	seg=$(sql "$PRIMARY_PORT" "SELECT pg_walfile_name(pg_switch_wal())")
	wait_until "segment $seg archived" archived "$seg"
	run "$PITR_BIN/pitr-info" -b "$BACKUPS" -a "gzip=$ARCHIVE"
	t=${TARGET_TIME:-$(mistake_time)}
	# The target must lie inside the recoverable window: after the end of
	# the backup, before the end of the archived WAL.
	json=$(run "$PITR_BIN/pitr-info" -b "$BACKUPS" -a "gzip=$ARCHIVE" --json)
	json=$(printf '%s\n' "$json" | sed -n '/"window"/,/}/p')
	start=$(printf '%s\n' "$json" | sed -n 's/.*"start_epoch": *\([0-9]*\).*/\1/p')
	end=$(printf '%s\n' "$json" | sed -n 's/.*"end_epoch": *\([0-9]*\).*/\1/p')
	epoch=$(date -d "$t" +%s)
	if [ -z "$start" ] || [ -z "$end" ]; then
		die "pitr-info shows no recoverable window"
	fi
	if [ "$epoch" -lt "$start" ] || [ "$epoch" -gt "$end" ]; then
		die "$t is outside the recoverable window"
	fi
	echo "   the DELETE ran at $t, inside the recoverable window: recover to it"
}

step_recover_restore_point()
{
	say "recover-restore-point: a copy at '$RESTORE_POINT', promoted there"
	run "$PITR_BIN/pitr-recover" -b "$BACKUPS" -a "gzip=$ARCHIVE" -D "$RP_DATA" \
		--target-name "$RESTORE_POINT" --target-action promote \
		--port "$RP_PORT" --start --wait "$WAIT"
	in_recovery "$RP_PORT" f || die "the copy is still in recovery"
	echo "   copy on port $RP_PORT: $(counts "$RP_PORT") (the accounts before the purge)"
}

step_recover_time()
{
	local t=${TARGET_TIME:-$(mistake_time)}
	say "recover-time: a copy at $t, just before the DELETE, paused there"
	run "$PITR_BIN/pitr-recover" -b "$BACKUPS" -a "gzip=$ARCHIVE" -D "$PIT_DATA" \
		--target-time "$t" --target-action pause --port "$PIT_PORT" --start --wait "$WAIT"
}

step_check_time()
{
	say "check-time: the paused copy, read-only: is this the state wanted?"
	echo "   replay: $(sql "$PIT_PORT" "SELECT pg_get_wal_replay_pause_state()")"
	echo "   last transaction replayed: $(sql "$PIT_PORT" "SELECT pg_last_xact_replay_timestamp()")"
	echo "   copy on port $PIT_PORT: $(counts "$PIT_PORT")"
	# Not the wanted state?  Stop it, remove $PIT_DATA, and recover-time
	# again with another TARGET_TIME: a paused copy cannot go back.
	# Had the mistake been a TRUNCATE (or DROP), its lock, replayed before
	# its commit, would block every read of that table while the copy is
	# paused (recovery stops before the commit, not before the lock): read
	# with SET lock_timeout, check other tables, or recover with
	# --target-action promote, which aborts the unfinished TRUNCATE.
}

step_promote_time()
{
	say "promote-time: pg_wal_replay_resume() ends recovery at the target"
	sql "$PIT_PORT" "SELECT pg_wal_replay_resume()" >/dev/null
	wait_until "the copy promoted" in_recovery "$PIT_PORT" f
	echo "   copy on port $PIT_PORT promoted: $(counts "$PIT_PORT")"
}

# copy_back PORT TABLE: TABLE's rows from the copy on PORT into the primary's
# (emptied) TABLE, through pg_dump's data-only COPY.
copy_back()
{
	run "$PGBIN/pg_dump" -h "$SOCKET_DIR" -p "$1" -U "$DB_USER" -d "$DB_NAME" \
		--data-only --table="$2" |
		run "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PRIMARY_PORT" \
			-U "$DB_USER" -d "$DB_NAME" >/dev/null
}

step_repair()
{
	say "repair: the purged accounts from the restore point's copy, the orders from the time's copy"
	copy_back "$RP_PORT" accounts
	copy_back "$PIT_PORT" orders
	echo "   primary: $(counts "$PRIMARY_PORT")"
}

step_stop()
{
	local dir
	say "stop: the recovered copies"
	for dir in "$RP_DATA" "$PIT_DATA"; do
		if [ -f "$dir/postmaster.pid" ]; then
			run "$PGBIN/pg_ctl" -D "$dir" -m fast -w -s stop
		fi
	done
}

# --- main -------------------------------------------------------------------------

# All in one go, the day's work would fall in the backup's second: a
# backup's stop time is kept in whole seconds, and --target-time takes only
# a backup that ended before the target.  (Hours pass here in real life.)
procedure_between_steps()
{
	if [ "$1" = backup ]; then
		sleep 1.1
	fi
}

# The step runner (--list, all, STEP) is steps.sh beside this script.
# shellcheck source-path=SCRIPTDIR source=steps.sh
. "$(dirname "$(readlink -f "$0")")/steps.sh"
cd /
procedure_main "$@"
