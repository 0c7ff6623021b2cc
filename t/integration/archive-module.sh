#!/bin/bash
# archive-module.sh - the archive module pitrkit_archive as the
# archive_library of a real PostgreSQL 15 server (1 MiB segments): every
# file kind (segments, .backup, .history and .partial after an archive
# recovery on a new timeline), two destinations with a state dir, a
# destination failure retried by the server, a restart, a reload that
# changes the destinations, the archiver never reniced, and the
# archiver's memory flat over thousands of segments.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init archive-module
it_require lz4
MOD=$PITR_BUILDDIR/pgmodule/pitrkit_archive.so
# configure builds the module only where it finds PGXS; a build that was
# configured with it and lacks the module is broken, not skipped.
grep -q '^PG_PKGLIBDIR = .' "$PITR_BUILDDIR/Makefile" ||
	it_skip "the archive module is not built: configure found no PGXS (postgresql-server-dev-15)"
[ -f "$MOD" ] || it_bail "no $MOD: build first"

# In the sanitizer build the module and libpitrkit need the sanitizer
# runtimes, which PostgreSQL cannot be started with: preloaded, the
# server deadlocks before it reads its arguments (postgres --version
# hangs on a futex).  It is glibc's gettext lock (_nl_state_lock), left
# write-locked with a reader count of -1 in a single thread: the
# constructors of libraries postgres links (libgpg-error and libp11-kit,
# through libsystemd, libgnutls and libldap) call gettext before the
# runtime is initialised.  gcc 12's libasan and clang 14's runtime both
# hang so, whatever ASAN_OPTIONS (detect_leaks=0,
# verify_asan_link_order=0) or locale; preloading libasan with one of
# those libraries hangs pg_controldata too.  The module's code is checked
# there at build time (built with the sanitizers, -Werror); it runs in
# the normal build.
if [ -n "${PITR_SAN_CFLAGS:-}" ]; then
	ok "the module is built in the sanitizer build" test -f "$MOD"
	diag "PostgreSQL cannot run with the sanitizer runtimes preloaded: the server test runs in the normal build"
	it_done
fi

# The server loads the module and, through it, this build's libpitrkit.
SERVER_ENV=("LD_LIBRARY_PATH=$PITR_BUILDDIR/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

# start: pg_start with the server's environment.
start()
{
	local var
	for var in "${SERVER_ENV[@]}"; do
		export "${var?}"
	done
	pg_start "$@"
}

PG=$T/pg
A1=$T/a1 A2=$T/a2
# The destination of the reload and of the 2200 segments of the memory
# test: in memory where there is a tmpfs, whose fsync costs nothing (the
# durability of each file is not what that part tests).
if [ -d /dev/shm ] && A3=$(mktemp -d /dev/shm/pitrkit-it-archive-module.XXXXXX); then
	it_at_exit rm -rf "$A3"
else
	A3=$T/a3
fi
mkdir_pg "$A1" "$A2" "$A3" "$T/state"
pg_new "$PG" --wal-segsize=1 || it_bail "initdb failed"
# The server's own fsyncs are not under test; the module's are.
pg_set "$PG" "archive_mode = on" "archive_library = '$MOD'" \
	"pitrkit_archive.dst_local = '$A1, lz4=$A2'" \
	"pitrkit_archive.state_dir = '$T/state'" \
	"fsync = off" "wal_init_zero = off" "max_wal_size = '4GB'" "checkpoint_timeout = '1h'"
( start "$PG" ) || it_bail "the server does not start with the module"
LOG=$(pg_logfile "$PG")

# archiver_pid: the archiver's pid.
archiver_pid()
{
	pg_sql "$PG" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'archiver'"
}

# same_segment NAME: the plain and the lz4 copy hold the same bytes, a
# whole 1 MiB segment.
same_segment()
{
	[ "$(stat -c %s "$A1/$1")" -eq 1048576 ] && lz4 -qdc "$A2/$1.lz4" | cmp -s - "$A1/$1"
}

# switches N: N segments, each with a record in it, in one statement.
switches()
{
	pg_sql "$PG" "DO \$\$BEGIN FOR i IN 1..$1 LOOP
		PERFORM pg_logical_emit_message(false, 'it', 'x'); PERFORM pg_switch_wal();
		END LOOP; END\$\$" "SELECT pg_walfile_name(pg_current_wal_lsn())" | tail -n 1
}

# prev_segment NAME: the segment before NAME (same timeline, 1 MiB).
prev_segment()
{
	printf '%s%016X\n' "${1:0:8}" $((16#${1:8:16} - 1))
}

# --- segments -------------------------------------------------------------
SEG=$(pg_switch "$PG")
ok "a segment is archived by the module ($SEG)" pg_wait_archived "$PG" "$SEG" 20
ok "it is at both destinations, whole and the same ($SEG, $SEG.lz4)" same_segment "$SEG"
is "the state dir holds no record once both have it" "$(ls -A "$T/state")" ""
like "the server log names the module's archive line" "$(cat "$LOG")" \
	"LOG:  pitrkit_archive: archived \"$SEG\" \\(segment\\)"
pid=$(archiver_pid)
# Compressing lowers the priority of the module's thread, not the
# archiver's (see pitrkit_archive(7)): it keeps the postmaster's.
is "the archiver was never reniced for the compression (nice of $pid)" \
	"$(ps -o ni= -p "$pid" | tr -d ' ')" "$(ps -o ni= -p "$(head -n 1 "$PG/postmaster.pid")" | tr -d ' ')"
# ...and no thread of it is left reniced once the call is done: a thread
# kept from call to call would stay at nice 10 for good.
is "no thread of the archiver is left reniced (nice of each of its threads)" \
	"$(ps -L -o ni= -p "$pid" | tr -d ' ' | sort -u)" \
	"$(ps -o ni= -p "$(head -n 1 "$PG/postmaster.pid")" | tr -d ' ')"

# --- .backup: the stop of a base backup waits for its archiving ----------
pg_sql "$PG" "SELECT pg_backup_start('it', true)" "SELECT 1 FROM pg_backup_stop(true)" >/dev/null
BACKUP=$(cd "$A1" && ls ./*.backup 2>/dev/null | sed 's|^\./||')
like "the backup history file is archived ($BACKUP)" "$BACKUP" '^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$'
ok "its lz4 copy decompresses to the same text" \
	bash -c "lz4 -qdc '$A2/$BACKUP.lz4' | cmp -s - '$A1/$BACKUP'"

# --- a destination failure, retried by the server --------------------------
chmod 0555 "$A2"
FAILED=$(pg_switch "$PG")
ok "with $A2 unwritable, the server counts a failure of $FAILED" \
	poll 30 bash -c "grep -q 'pitrkit_archive: .*$FAILED' '$LOG' &&
		[ \"\$(ls -A '$T/state')\" != '' ]"
like "the failure reaches the server log as a WARNING naming the cause" "$(cat "$LOG")" \
	"WARNING:  pitrkit_archive: .*Permission denied"
ok "the destination that worked has it, recorded in the state dir" test -f "$A1/$FAILED"
ok "the failing one has no copy" test ! -e "$A2/$FAILED.lz4"
is "PostgreSQL has not marked it done" "$(ls "$PG/pg_wal/archive_status/$FAILED.done" 2>/dev/null)" ""
chmod 0700 "$A2"
# A new segment wakes the archiver, which retries the oldest first.
NEXT=$(pg_switch "$PG")
ok "once the directory is fixed, the server's retry archives $FAILED" \
	pg_wait_archived "$PG" "$NEXT" 30
ok "and it is whole at both destinations" same_segment "$FAILED"

# --- a restart as an archive recovery: .history and .partial --------------
# The server recovers from the archive and ends on timeline 2 in the
# middle of its last segment (the shutdown checkpoint's): PostgreSQL
# archives 00000002.history and that segment of timeline 1 as .partial.
pg_stop "$PG" || it_bail "the server does not stop"
pg_set "$PG" "restore_command = 'cp $A1/%f %p'"
touch "$PG/recovery.signal" && chown postgres:postgres "$PG/recovery.signal"
( start "$PG" ) || it_bail "the server does not restart"
ok "after the restart, 00000002.history is archived at both destinations" \
	poll 30 test -f "$A1/00000002.history" -a -f "$A2/00000002.history.lz4"
PARTIAL=$(cd "$PG/pg_wal" && ls ./*.partial 2>/dev/null | sed 's|^\./||')
like "the server made a partial segment of timeline 1 ($PARTIAL)" "$PARTIAL" \
	'^00000001[0-9A-F]{16}\.partial$'
ok "it is archived at both destinations" \
	poll 30 test -f "$A1/$PARTIAL" -a -f "$A2/$PARTIAL.lz4"
ok "the .partial copies hold the server's file" \
	bash -c "lz4 -qdc '$A2/$PARTIAL.lz4' | cmp -s - '$A1/$PARTIAL' && cmp -s '$A1/$PARTIAL' '$PG/pg_wal/$PARTIAL'"
SEG2=$(pg_switch "$PG")
ok "segments of timeline 2 are archived after the restart ($SEG2)" pg_wait_archived "$PG" "$SEG2" 20
ok "whole at both destinations" same_segment "$SEG2"

# --- a reload changes the destinations ------------------------------------
pg_set "$PG" "pitrkit_archive.dst_local = 'lz4=$A3'"
pg_sql "$PG" "SELECT pg_reload_conf()" >/dev/null
# The archiver takes the reload between two files: switch until a
# segment reaches the new destination.
first_new()
{
	local seg
	seg=$(pg_switch "$PG") && pg_wait_archived "$PG" "$seg" 20 >/dev/null && [ -f "$A3/$seg.lz4" ]
}
ok "after a reload, segments go to the new destination" poll 30 first_new
SEG3=$(pg_switch "$PG")
ok "the next segment is archived ($SEG3)" pg_wait_archived "$PG" "$SEG3" 20
ok "at the new destination only" \
	bash -c "test -f '$A3/$SEG3.lz4' && test ! -e '$A1/$SEG3' && test ! -e '$A2/$SEG3.lz4'"

# A list with an unterminated quote is refused at the reload, and the
# destinations that work are kept.
pg_set "$PG" "pitrkit_archive.dst_local = '''lz4=$A1'"
pg_sql "$PG" "SELECT pg_reload_conf()" >/dev/null
ok "a reload with an unterminated quote in a list is refused by the archiver" \
	poll 20 grep -q "WARNING:  pitrkit_archive: list .* has an unterminated ' quote; the setting keeps its value" "$LOG"
SEG4=$(pg_switch "$PG")
ok "the next segment is archived ($SEG4)" pg_wait_archived "$PG" "$SEG4" 20
ok "at the destination kept" bash -c "test -f '$A3/$SEG4.lz4' && test ! -e '$A1/$SEG4'"

# --- memory: flat over thousands of segments ------------------------------
# 200 segments warm the archiver up; then its resident size is read, and
# again after 2000 more: a leak of even 100 bytes a file would show.
rss()
{
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}
pid=$(archiver_pid)
END=$(switches 200)
ok "200 segments archived" pg_wait_archived "$PG" "$(prev_segment "$END")" 60
rss1=$(rss "$pid")
END=$(switches 2000)
ok "2000 more segments archived" pg_wait_archived "$PG" "$(prev_segment "$END")" 120
rss2=$(rss "$pid")
is "the archiver is the same process" "$(archiver_pid)" "$pid"
diag "archiver VmRSS: $rss1 kB after 200 segments, $rss2 kB after 2200"
ok "its memory stayed flat: grew by $((rss2 - rss1)) kB over 2000 segments (at most 256 kB)" \
	test $((rss2 - rss1)) -le 256
n=$(find "$A3" -name '*.lz4' | wc -l)
ok "all 2200 of them are at the destination ($n files)" test "$n" -ge 2200

# --- a stop while the look-ahead's workers run ---------------------------
# They go on after a call as the archiver's children; when it stops, they
# finish the segment each holds and are waited for.
END=$(switches 100)
ok "the server stops" pg_stop "$PG"
left=$(find /proc -mindepth 2 -maxdepth 2 -name cwd -lname "$(realpath "$PG")" 2>/dev/null | wc -l)
ok "no process of the archiver outlives it ($left left)" test "$left" -eq 0
ok "nothing half-written is left in the archive or the state dir" \
	test -z "$(find "$A3" "$T/state" -name '.pitr-tmp*')"
it_done
