#!/bin/bash
# procedure-e2e.sh - examples/procedures/omnipitr-end-to-end.sh, OmniPITR's
# own end-to-end list, run step by step against real PostgreSQL 15 servers
# (1 MiB segments) on 127.0.0.1: after each step what it promises is
# checked on the servers themselves: the master archives, each backup's
# files (and no xlog tarball with -sx), each standalone promoted on a new
# timeline with the master's rows, each slave in recovery and following the
# master (warm: through the archive; streaming: by streaming), each
# promotion (finish trigger or pg_ctl promote) ending on timeline 2 with the
# master's rows and accepting writes, and the slaves not promoted yet
# untouched by their siblings' promotions.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init procedure-e2e
it_reap pitr-restore
SCRIPT=$PITR_SRCDIR/examples/procedures/omnipitr-end-to-end.sh
it_need_built "$PITR_BUILDDIR/bin/pitr-archive" "$PITR_BUILDDIR/bin/pitr-recover" \
	"$PITR_BUILDDIR/bin/pitr-backup-master" "$PITR_BUILDDIR/bin/pitr-backup-slave"
[ -x "$SCRIPT" ] || it_bail "no $SCRIPT"

W=$T/e2e
mkdir_pg "$W" "$T/sock"
export RUN_AS=postgres WORK_DIR=$W SOCKET_DIR=$T/sock LISTEN_ADDRESSES=127.0.0.1 \
	MASTER_HOST=127.0.0.1 PITR_BIN=$PITR_BUILDDIR/bin ARCHIVE_TIMEOUT=1 WAIT=60 \
	INITDB_OPTS="--auth=trust --encoding=UTF8 --locale=C --no-sync --wal-segsize=1"
# Every server on a free port, known to lib.sh's cleanup.
NODES="master standalone standalone-sx slave slave-standalone slave-sx-standalone
	slave-slave sr-slave sr-standalone slave-of-sr sr-from-slave sr-from-sr"
for n in $NODES; do
	var=PORT_$(printf '%s' "$n" | tr 'a-z-' 'A-Z_')
	port=$(pg_adopt "$W/data-$n") || it_bail "no free port"
	export "$var=$port"
done
D() { echo "$W/data-$1"; }
BK=$W/omnipitr/backup
rows() { pg_sql "$(D "$1")" "SELECT count(*) FROM t" 2>/dev/null; }
tl() { pg_sql "$(D "$1")" "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"; }

# digests PREFIX: the backup PREFIX-* has its SHA-256 digest file (named
# as OmniPITR named it, with the codec's extension).
digests()
{
	ok "$1: its SHA-256 digest file" test -s "$BK/$1-SHA-256.tar.gz"
}

# step NAME: run the script's step NAME; its exit status is asserted.
step()
{
	local t0=$SECONDS
	it_run "$SCRIPT" "$1"
	is "step $1: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
	[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
}

# --list: every step, in order, one line each.
it_run "$SCRIPT" --list
is "--list: exit 0" "$IT_RC" 0
like "--list: the master first, stop last" "$IT_OUT" "^master +initdb.*"$'\n'"stop +stop every server"
is "--list: 24 steps" "$(count_lines "$IT_OUT")" 24
it_run "$SCRIPT" no-such-step
is "an unknown step: exit 2" "$IT_RC" 2

# --- master ---------------------------------------------------------------------
step master
is "master: primary" "$(pg_sql "$(D master)" "SELECT pg_is_in_recovery()")" f
like "master: archive_command is pitr-archive (ALTER SYSTEM)" \
	"$(pg_sql "$(D master)" "SHOW archive_command")" "^$PITR_BUILDDIR/bin/pitr-archive .*-dl gzip=$W/omnipitr/archive"
is "master: 1000 rows" "$(rows master)" 1000
last=$(pg_archiver "$(D master)" last_archived_wal)
ok "master: its last segment $last in the archive" test -f "$W/omnipitr/archive/$last.gz"
is "master: nothing failed to archive" "$(pg_archiver "$(D master)" failed_count)" 0
ok "master: and in the long-term archive" test -f "$W/omnipitr/longarchive/$last.gz"

# --- backups of the master ----------------------------------------------------------
step master-backup
for f in data xlog meta; do
	ok "master-backup: master-$f.tar.gz" test -s "$BK/master-$f.tar.gz"
done
ok "master-backup: its -x directory is gone" test ! -e "$W/omnipitr/backup-archive"
digests master
step master-backup-sx
ok "master-backup-sx: master-sx-data.tar.gz" test -s "$BK/master-sx-data.tar.gz"
ok "master-backup-sx: no xlog tarball" test ! -e "$BK/master-sx-xlog.tar.gz"
like "master-backup-sx: its meta says xlog_size=0" "$(zcat "$BK/master-sx-meta.tar.gz")" "xlog_size=0"
digests master-sx

# standalone NAME: the step promoted a server of its own on timeline 2 with
# the master's rows (all archived), not archiving.
standalone()
{
	step "$1"
	unlike "$1: the backup's digests are checked (no 'no digests' line)" "$IT_ERR" "has no digests"
	is "$1: promoted" "$(pg_sql "$(D "$1")" "SELECT pg_is_in_recovery()")" f
	is "$1: the master's rows" "$(rows "$1")" "$(rows master)"
	is "$1: timeline 2" "$(tl "$1")" 00000002
	is "$1: archive_mode off (its timeline stays out of the master's archive)" \
		"$(pg_sql "$(D "$1")" "SHOW archive_mode")" off
	pg_stop "$(D "$1")"
}
standalone standalone
standalone standalone-sx

# warm NAME: the step made a warm slave in recovery that followed the master.
warm()
{
	step "$1"
	is "$1: in recovery" "$(pg_sql "$(D "$1")" "SELECT pg_is_in_recovery()")" t
	ok "$1: recovery.signal (warm standby)" test -f "$(D "$1")/recovery.signal"
	is "$1: the master's rows" "$(rows "$1")" "$(rows master)"
	is "$1: no WAL receiver (file-based)" \
		"$(pg_sql "$(D "$1")" "SELECT count(*) FROM pg_stat_wal_receiver")" 0
}
warm slave
ok "rows 1..500 more on the master" pg_sql "$(D master)" \
	"INSERT INTO t (src) SELECT 'more' FROM generate_series(1, 500)"
ok "a segment switch on the master" pg_switch "$(D master)"
wait_for "slave: replays them from the archive" 60 eval "[ \"\$(rows slave)\" = \"\$(rows master)\" ]"

# --- backups of the warm slave ---------------------------------------------------------
step slave-backup
for f in data xlog meta; do
	ok "slave-backup: slave-$f.tar.gz" test -s "$BK/slave-$f.tar.gz"
done
like "slave-backup: taken on the standby (backup_label)" \
	"$(tar -xzOf "$BK/slave-data.tar.gz" --wildcards '*backup_label' 2>/dev/null)" "BACKUP FROM: standby"
ok "slave-backup: its removal pause file removed" test ! -e "$W/omnipitr/pause.slave"
digests slave
step slave-backup-sx
ok "slave-backup-sx: slave-sx-data.tar.gz" test -s "$BK/slave-sx-data.tar.gz"
ok "slave-backup-sx: no xlog tarball" test ! -e "$BK/slave-sx-xlog.tar.gz"
digests slave-sx
standalone slave-standalone
standalone slave-sx-standalone
warm slave-slave

# promoted NAME: the step promoted NAME on timeline 2 with the master's rows
# (and one of its own, written by the step).
promoted()
{
	step "promote-$1"
	is "promote-$1: out of recovery" "$(pg_sql "$(D "$1")" "SELECT pg_is_in_recovery()")" f
	is "promote-$1: timeline 2" "$(tl "$1")" 00000002
	is "promote-$1: the master's rows and its own" "$(rows "$1")" "$(($(rows master) + 1))"
}
promoted slave
is "promote-slave: slave-slave still in recovery" \
	"$(pg_sql "$(D slave-slave)" "SELECT pg_is_in_recovery()")" t
promoted slave-slave
ok "promote-slave: the archive holds no timeline 2 (promoted slaves do not archive)" \
	eval "! ls '$W/omnipitr/archive' | grep -q '^00000002'"

# --- streaming slaves -----------------------------------------------------------------
# stream NAME: the step made a streaming slave, in recovery, streaming.
stream()
{
	step "$1"
	is "$1: in recovery" "$(pg_sql "$(D "$1")" "SELECT pg_is_in_recovery()")" t
	ok "$1: standby.signal" test -f "$(D "$1")/standby.signal"
	is "$1: streaming from the master" \
		"$(pg_sql "$(D "$1")" "SELECT status FROM pg_stat_wal_receiver")" streaming
	is "$1: the master sees it" "$(pg_sql "$(D master)" \
		"SELECT count(*) FROM pg_stat_replication WHERE application_name = '$1'")" 1
	is "$1: the master's rows" "$(rows "$1")" "$(rows master)"
}
stream sr-slave
step sr-slave-backup
for f in data xlog meta; do
	ok "sr-slave-backup: sr-slave-$f.tar.gz" test -s "$BK/sr-slave-$f.tar.gz"
done
digests sr-slave
standalone sr-standalone
warm slave-of-sr
stream sr-from-slave
stream sr-from-sr
ok "rows 1..100 more on the master, no switch" pg_sql "$(D master)" \
	"INSERT INTO t (src) SELECT 'last' FROM generate_series(1, 100)"
for n in sr-slave sr-from-slave sr-from-sr; do
	wait_for "$n: streams them" 60 eval "[ \"\$(rows $n)\" = \"\$(rows master)\" ]"
done
for n in sr-slave sr-from-slave sr-from-sr; do
	promoted "$n"
done
ok "a segment switch on the master" pg_switch "$(D master)"
wait_for "slave-of-sr: replays the master's last rows" 60 \
	eval "[ \"\$(rows slave-of-sr)\" = \"\$(rows master)\" ]"
promoted slave-of-sr
is "the master: still the primary, on timeline 1" "$(tl master)" 00000001
is "the long-term archive holds what the archive holds" "$(wal_in "$W/omnipitr/longarchive")" \
	"$(wal_in "$W/omnipitr/archive")"
it_run "$PITR_BUILDDIR/bin/pitr-verify" -b "$BK" -a "gzip=$W/omnipitr/archive"
is "pitr-verify: exit 0" "$IT_RC" 0
like "pitr-verify: the five backups and the archive are restorable" "$IT_OUT" \
	"^5 backups, [0-9]+ segments checked, 0 problems$"

step stop
for n in $NODES; do
	ok "stop: data-$n stopped" eval "! pg_alive '$(D "$n")'"
done

# --- all: every step in one call, in a fresh directory -------------------------
export WORK_DIR=$T/e2e-all
mkdir_pg "$WORK_DIR"
for n in $NODES; do
	var=PORT_$(printf '%s' "$n" | tr 'a-z-' 'A-Z_')
	port=$(pg_adopt "$WORK_DIR/data-$n") || it_bail "no free port"
	export "$var=$port"
done
t0=$SECONDS
it_run "$SCRIPT" all
is "all: exit 0 ($((SECONDS - t0)) s)" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT" 10)" "$(it_tail "$IT_ERR" 15)"
is "all: every step ran, in order" "$(printf '%s\n' "$IT_OUT" | sed -n 's/^== \([a-z-]*\):.*/\1/p' | tr '\n' ' ')" \
	"$("$SCRIPT" --list | cut -d' ' -f1 | tr '\n' ' ')"
like "all: the last slave promoted on timeline 2" "$IT_OUT" "slave-of-sr: promoted, timeline 2, [0-9]+ rows, writable"
ok "all: every server stopped" eval "! ls '$WORK_DIR'/data-*/postmaster.pid"

it_done
