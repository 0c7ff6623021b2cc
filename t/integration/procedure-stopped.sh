#!/bin/bash
# procedure-stopped.sh - examples/procedures/all-servers-stopped.sh, all
# servers stopped, run step by step against real PostgreSQL 15 servers
# (1 MiB segments) on 127.0.0.1, the standby made and rebuilt over the real
# sshd: the primary archives to A's archive, the standby (archive_mode =
# always) to B's; A's backup is older than B's; both stop at once with the
# last rows only in the segment A was writing; A's data files are then lost
# (the test removes base/), its pg_wal survives; save-wal puts that segment
# into A's archive; ONE pitr-info names B's backup as the newest and A's
# archive as the furthest; pitr-recover from B's backup and both archives
# gives A back every committed row, the last ones included, on timeline 2,
# with A's own port and archiving; ONE pitr-synch -r makes B's old data dir
# A's streaming standby, and the applications' new rows reach it.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init procedure-stopped
SCRIPT=$PITR_SRCDIR/examples/procedures/all-servers-stopped.sh
it_need_built "$PITR_BUILDDIR/bin/pitr-synch" "$PITR_BUILDDIR/bin/pitr-recover" \
	"$PITR_BUILDDIR/bin/pitr-info" "$PITR_BUILDDIR/bin/pitr-archive" \
	"$PITR_BUILDDIR/bin/pitr-backup-master" "$PITR_BUILDDIR/bin/pitr-backup-slave"
[ -x "$SCRIPT" ] || it_bail "no $SCRIPT"

mkdir_pg "$T/a" "$T/b" "$T/sock"
A=$T/a/main
B=$T/b/main
sshd_start || it_bail "sshd did not start"
it_reap pitr-restore
export RUN_AS=postgres SOCKET_DIR=$T/sock LISTEN_ADDRESSES=127.0.0.1 \
	PITR_BIN=$PITR_BUILDDIR/bin WAIT=60 SSH_PATH=$SSHD_DIR/ssh ARCHIVE_TIMEOUT=1 \
	INITDB_OPTS="--auth=trust --encoding=UTF8 --locale=C --no-sync --wal-segsize=1" \
	HOST_A=127.0.0.1 HOST_B=127.0.0.1 DATA_A=$A DATA_B=$B LOG_A=$T/a/main.log LOG_B=$T/b/main.log \
	ARCHIVE_A=$T/a/pitr/wal_archive BACKUPS_A=$T/a/pitr/backup BACKUP_XLOGS_A=$T/a/pitr/backup-xlogs \
	PITR_A=$T/a/pitr ARCHIVE_B=$T/b/pitr/wal_archive BACKUPS_B=$T/b/pitr/backup PITR_B=$T/b/pitr \
	B_ARCHIVE_ON_A=$T/b/pitr/wal_archive B_BACKUPS_ON_A=$T/b/pitr/backup
PORT_A=$(pg_adopt "$A") || it_bail "no free port"
PORT_B=$(pg_adopt "$B") || it_bail "no free port"
export PORT_A PORT_B
n() { pg_sql "$1" "SELECT count(*) FROM t WHERE what = '$2'" 2>/dev/null; }
recovery() { pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null; }
tli() { pg_sql "$1" "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int" 2>/dev/null; }
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
is "--list: 14 steps" "$(count_lines "$IT_OUT")" 14
like "--list: primary first, resume last" "$IT_OUT" "^primary .*"$'\n'"resume +.*"

step primary
is "primary: archive_command is pitr-archive into A's archive" \
	"$(pg_sql "$A" "SHOW archive_command" | grep -c -- "-dl gzip=$T/a/pitr/wal_archive")" 1
step primary-backup
ok "primary-backup: a meta file in A's backups" eval "ls '$T/a/pitr/backup/'*-meta-*"
step standby
like "standby: B archives always, into B's archive" "$(cat "$B/postgresql.auto.conf")" \
	"archive_mode = '?always'?.*archive_command = '[^']*-dl gzip=$T/b/pitr/wal_archive"
step standby-start
is "standby-start: B streams from A" "$(upstream "$B")" "$PORT_A"
step work
is "work: B has the 1000 work rows" "$(n "$B" work)" 1000
step standby-backup
ok "standby-backup: a meta file in B's backups" eval "ls '$T/b/pitr/backup/'*-meta-*"
step more-work
last_seg=$(pg_sql "$A" "SELECT pg_walfile_name(pg_current_wal_lsn())")
rows_a=$(pg_sql "$A" "SELECT count(*) FROM t")
is "more-work: 100 last rows on A" "$(n "$A" last)" 100
step all-stopped
ok "all-stopped: A is down" eval "! pg_alive '$A'"
ok "all-stopped: B is down" eval "! pg_alive '$B'"
nok "all-stopped: A's last segment $last_seg is in neither archive" \
	eval "ls '$T/a/pitr/wal_archive' '$T/b/pitr/wal_archive' | grep -q '^$last_seg'"
ok "A's pg_wal still holds $last_seg" test -s "$A/pg_wal/$last_seg"
# The failure: A's data files lost, its pg_wal (a disk of its own) not.
ok "damage: A's base/ removed" rm -rf "$A/base"

step save-wal
ok "save-wal: $last_seg is in A's archive now" eval "ls '$T/a/pitr/wal_archive' | grep -q '^$last_seg'"
like "save-wal: it says so" "$IT_OUT" "$last_seg: in A's archive"
step identify
like "identify: its pitr-info JSON kept, naming both hosts' backup dirs" \
	"$(tr -d '\n' <"$T/a/pitr/identify.json")" "\"backup_dirs\": \[ *\"$T/a/pitr/backup\", *\"$T/b/pitr/backup\" *\]"
like "identify: the window reaches past the saved segment" "$IT_OUT" "recoverable to: [0-9A-F]+/[0-9A-F]+, [0-9-]+ [0-9:]+"
like "identify: the newest backup is B's" "$IT_OUT" "newest backup: 127\\.0\\.0\\.1-\\*-[0-9-]+\\.tar\\.gz in $T/b/pitr/backup"
like "identify: the furthest archive is A's, up to $last_seg" "$IT_OUT" \
	"furthest archive: $T/a/pitr/wal_archive, up to $last_seg"
step recover-primary
like "recover-primary: the damaged data dir kept aside" "$IT_OUT" "kept as $A\\.damaged-"
is "recover-primary: A is a primary" "$(recovery "$A")" f
is "recover-primary: A on timeline 2" "$(tli "$A")" 2
is "recover-primary: A has every row committed before the stop" "$(pg_sql "$A" "SELECT count(*) FROM t")" "$rows_a"
is "recover-primary: the 100 last rows (only in the saved segment) are there" "$(n "$A" last)" 100
is "recover-primary: A on its own port" "$(pg_sql "$A" "SHOW port")" "$PORT_A"
is "recover-primary: A archives (on) into A's archive" \
	"$(pg_sql "$A" "SHOW archive_mode")/$(pg_sql "$A" "SHOW archive_command" | grep -c -- "gzip=$T/a/pitr/wal_archive")" on/1
ok "recover-primary: A's timeline 2 history reaches A's archive" \
	poll 30 eval "ls '$T/a/pitr/wal_archive' | grep -q '^00000002.history'"
step rebuild-standby
ok "rebuild-standby: standby.signal at B" test -e "$B/standby.signal"
nok "rebuild-standby: no timeline 1 segment left in B's pg_wal" eval "ls '$B/pg_wal' | grep -q '^00000001[0-9A-F]\\{16\\}$'"
step standby-restart
is "standby-restart: B streams from A" "$(upstream "$B")" "$PORT_A"
is "standby-restart: B has A's rows" "$(pg_sql "$B" "SELECT count(*) FROM t")" "$rows_a"
step resume
is "resume: B has the 100 resumed rows" "$(n "$B" resumed)" 100
ok "resume: B archives timeline 2 into B's archive" \
	poll 30 eval "ls '$T/b/pitr/wal_archive' | grep -q '^00000002[0-9A-F]\\{16\\}'"

# --- all: every step in one call, on fresh directories ----------------------------
for d in "$A" "$B"; do
	pg_stop "$d" >/dev/null 2>&1 || true
done
mkdir_pg "$T/all" "$T/all/a" "$T/all/b"
export DATA_A=$T/all/a/main DATA_B=$T/all/b/main LOG_A=$T/all/a/main.log LOG_B=$T/all/b/main.log \
	ARCHIVE_A=$T/all/a/pitr/wal_archive BACKUPS_A=$T/all/a/pitr/backup \
	BACKUP_XLOGS_A=$T/all/a/pitr/backup-xlogs PITR_A=$T/all/a/pitr \
	ARCHIVE_B=$T/all/b/pitr/wal_archive BACKUPS_B=$T/all/b/pitr/backup PITR_B=$T/all/b/pitr \
	B_ARCHIVE_ON_A=$T/all/b/pitr/wal_archive B_BACKUPS_ON_A=$T/all/b/pitr/backup
PORT_A=$(pg_adopt "$DATA_A") || it_bail "no free port"
PORT_B=$(pg_adopt "$DATA_B") || it_bail "no free port"
t0=$SECONDS
it_run "$SCRIPT" all
is "all: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
is "all: every step ran, in order" "$(printf '%s\n' "$IT_OUT" | sed -n 's/^== \([a-z-]*\):.*/\1/p' | tr '\n' ' ')" \
	"$("$SCRIPT" --list | cut -d' ' -f1 | tr '\n' ' ')"
is "all: B follows A with the last rows" "$(upstream "$DATA_B")/$(n "$DATA_B" last)" "$PORT_A/100"

it_done
