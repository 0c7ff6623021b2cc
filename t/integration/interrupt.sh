#!/bin/bash
# interrupt.sh - what an interrupted run leaves (issue 9): pitr-archive and
# pitr-restore killed with SIGTERM, SIGINT, SIGQUIT in the middle of a
# 16 MiB segment of a real PostgreSQL 15 server remove their temporary
# files and exit 1; after SIGKILL the retry removes what was left and
# succeeds; pitr-verify and pitr-info report a dead temporary file and
# pitr-cleanup removes it; a live (locked) one is left alone; a --dst-pipe
# program that never ends makes pitr-archive fail after --pipe-timeout.
#
# Runs are slowed down deterministically with strace's write delay, so a
# kill lands while the temporary files are being written: the test waits
# for them to exist before it signals.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init interrupt
it_require strace flock rsync
PA=$PITR_BUILDDIR/bin/pitr-archive
PR=$PITR_BUILDDIR/bin/pitr-restore
PV=$PITR_BUILDDIR/bin/pitr-verify
PI=$PITR_BUILDDIR/bin/pitr-info
PC=$PITR_BUILDDIR/bin/pitr-cleanup
it_need_built "$PA" "$PR" "$PV" "$PI" "$PC"

# temps DIR...: the .pitr-tmp* entries anywhere below DIRs, one a line.
temps()
{
	find "$@" -name '.pitr-tmp*' 2>/dev/null
}
# no_temps DIR...: none.
no_temps()
{
	local found
	found=$(temps "$@")
	[ -z "$found" ] || { echo "left: $found"; return 1; }
}
# has_temp DIR: a temporary file (not a staging dir) is in DIR.
has_temp()
{
	[ -n "$(find "$1" -maxdepth 1 -type f -name '.pitr-tmp.*' 2>/dev/null)" ]
}
# gone PID: the process ended (or is a zombie nobody reaped yet).
gone()
{
	! kill -0 "$1" 2>/dev/null || grep -q '^[^)]*) Z' "/proc/$1/stat" 2>/dev/null
}

# A real 16 MiB segment of a PostgreSQL 15 server.
P=$T/p
pg_new "$P" || it_bail "initdb failed"
pg_start "$P" || it_bail "the server did not start"
SEG=$(pg_switch "$P")
[[ $SEG =~ ^[0-9A-F]{24}$ ]] || it_bail "no finished segment: '$SEG'"
mkdir_pg "$T/in" "$T/tmp" "$T/state" "$T/a" "$T/b"
cp "$P/pg_wal/$SEG" "$T/in/$SEG"
chown postgres:postgres "$T/in/$SEG"
is "the segment is 16 MiB" "$(stat -c %s "$T/in/$SEG")" 16777216

# Every write(2) delayed by 0.2 s: a 16 MiB segment takes seconds per
# destination (1 MiB writes), so a signal lands mid-write.
SLOW=("${PTRACE_ENV[@]}" strace -f -o /dev/null -e trace=write -e inject=write:delay_enter=200000)

# archive_args: two local destinations (one compressed) and the state dir.
ARGS=(-D "$P" -s "$T/state" -dl "$T/a" -dl "gzip=$T/b" -t "$T/tmp" --pid-file "$T/pa.pid")

# slow_archive SIGNAL: start a slowed pitr-archive, wait for its temporary
# file, send SIGNAL to it (by its --pid-file), and leave the result in
# IT_RC / IT_ERR.
slow_archive()
{
	local sig=$1 bg
	rm -f "$T/pa.pid"
	as_pg "${SLOW[@]}" "$PA" "${ARGS[@]}" "$T/in/$SEG" >"$T/pa.out" 2>"$T/pa.err" &
	bg=$!
	wait_for "$sig: pitr-archive is writing its temporary file" 60 \
		bash -c "test -s '$T/pa.pid' && find '$T/a' '$T/b' -name '.pitr-tmp.*' | grep -q ."
	kill "-$sig" "$(cat "$T/pa.pid")"
	IT_RC=0
	wait "$bg" || IT_RC=$?
	IT_ERR=$(cat "$T/pa.err")
}

# --- pitr-archive: TERM, INT, QUIT mid-write ------------------------------

for sig in TERM INT QUIT; do
	slow_archive "$sig"
	is "SIG$sig mid-write: exit status 1" "$IT_RC" 1
	like "SIG$sig mid-write: one line says so" "$IT_ERR" \
		"pitr-archive: interrupted by SIG$sig; removed [1-9][0-9]* temporary files?"
	ok "SIG$sig mid-write: no temporary file in the destinations nor -t" \
		no_temps "$T/a" "$T/b" "$T/tmp" "$T/state"
	ok "SIG$sig mid-write: nothing at a final name" \
		bash -c "[ ! -e '$T/a/$SEG' ] || [ ! -e '$T/b/$SEG.gz' ]"
done

# --- pitr-archive: SIGKILL, then the retry --------------------------------

slow_archive KILL
is "SIGKILL mid-write: killed" "$IT_RC" 137
ok "SIGKILL: a temporary file is left" bash -c "find '$T/a' '$T/b' -name '.pitr-tmp.*' | grep -q ."
left=$(temps "$T/a" "$T/b" | head -1)

it_run "$PV" -a "$T/a" -a "$T/b"
is "pitr-verify with a dead temporary file: exit status 1" "$IT_RC" 1
like "pitr-verify names it, its size and who removes it" "$IT_OUT" \
	"PROBLEM: temporary file \"$left\": [0-9.]+ (bytes|KiB|MiB) left by an interrupted run; pitr-cleanup removes it"
it_run "$PI" -a "$(dirname "$left")"
like "pitr-info reports it" "$IT_OUT" "temporary file \"$left\": .* left by an interrupted run"

it_run as_pg "$PA" "${ARGS[@]}" "$T/in/$SEG"
is "the retry after SIGKILL: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
# (a small directory is swept first; in a large one the retry takes its
# killed run's file over by name: check_tmpfile)
like "the retry says what it removed" "$IT_ERR" \
	"removed 1 temporary file left by interrupted runs|took over \".*/\.pitr-tmp\.$SEG.*\", left by an interrupted run"
ok "the retry: no temporary file anywhere" no_temps "$T/a" "$T/b" "$T/tmp" "$T/state"
ok "the retry: the segment archived whole" cmp "$T/in/$SEG" "$T/a/$SEG"
ok "the retry: the compressed copy is whole" bash -c "gzip -dc '$T/b/$SEG.gz' | cmp - '$T/in/$SEG'"
it_run "$PV" -a "$T/a" -a "$T/b"
unlike "pitr-verify: no temporary file reported any more" "$IT_OUT" "temporary file"

# --- a live (locked) temporary file is left alone; a dead one removed ----

live="$T/a/.pitr-tmp.000000010000000000000099.LiVe00"
dead="$T/a/.pitr-tmp.000000010000000000000098.DeAd00"
as_pg touch "$live" "$dead"
# The holder is the process that has the lock (bash exec'ing sleep with
# the locked descriptor), so that killing it by pid drops the lock.
bash -c 'exec 9<"$1" && flock 9 && exec sleep 600' holder "$live" &
holder=$!
wait_for "the live temporary file is locked" 30 \
	bash -c "! flock -n '$live' true"
it_run as_pg "$PC" -a "$T/a" -n "$SEG"
is "pitr-cleanup -n: exit 0" "$IT_RC" 0
like "pitr-cleanup -n lists the dead temporary file" "$IT_OUT" "\.pitr-tmp\.000000010000000000000098\.DeAd00"
unlike "pitr-cleanup -n does not list the live one" "$IT_OUT" "LiVe00"
ok "pitr-cleanup -n removes nothing" test -e "$dead"
it_run as_pg "$PC" -a "$T/a" "$SEG"
is "pitr-cleanup: exit 0" "$IT_RC" 0
nok "pitr-cleanup removed the dead temporary file" test -e "$dead"
ok "pitr-cleanup left the live one" test -e "$live"
as_pg touch "$dead"
it_run as_pg "$PA" "${ARGS[@]}" "$T/in/$SEG"
is "pitr-archive beside a live temporary file: exit 0" "$IT_RC" 0
nok "pitr-archive removed the dead one" test -e "$dead"
ok "pitr-archive left the live one" test -e "$live"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
wait_for "the lock holder is gone" 30 gone "$holder"
it_run as_pg "$PC" -a "$T/a" "$SEG"
nok "once its writer is gone, pitr-cleanup removes it" test -e "$live"

# --- --dst-pipe: a program that is killed with pitr-archive, one that hangs

cat >"$T/block.sh" <<SH
#!/bin/sh
echo \$\$ >"$T/block.pid"
exec sleep 600
SH
chmod 755 "$T/block.sh"
PIPE_ARGS=(-D "$P" -dp "$T/block.sh" -t "$T/tmp" --pid-file "$T/pa.pid")
rm -f "$T/pa.pid" "$T/block.pid"
as_pg "$PA" "${PIPE_ARGS[@]}" "$T/in/$SEG" >"$T/pa.out" 2>"$T/pa.err" &
bg=$!
wait_for "the pipe program runs" 60 test -s "$T/block.pid"
ok "its staging file is in -t" bash -c "find '$T/tmp' -path '*/.pitr-tmp.stage.*/$SEG' | grep -q ."
kill -TERM "$(cat "$T/pa.pid")"
rc=0
wait "$bg" || rc=$?
is "SIGTERM while the pipe program runs: exit status 1" "$rc" 1
ok "-t is empty" no_temps "$T/tmp"
wait_for "the pipe program was sent SIGTERM" 30 gone "$(cat "$T/block.pid")"

rm -f "$T/block.pid"
it_run timeout 300 runuser -u postgres -- "$PA" --pipe-timeout 2 "${PIPE_ARGS[@]}" "$T/in/$SEG"
is "a pipe program that never ends: exit status 1" "$IT_RC" 1
like "one line names the program and the timeout" "$IT_ERR" \
	"pipe destination \"$T/block.sh\" failed for \"$SEG\": no progress for 2 s \(--pipe-timeout\)"
# (one destination: no "1 of 1 destinations failed" summary repeats it)
is "and it is the only line on stderr" "$(count_lines "$IT_ERR")" 1
ok "the hung program is gone" gone "$(cat "$T/block.pid")"
ok "-t is empty after the timeout" no_temps "$T/tmp"

# --- --dst-remote: rsync is stopped with pitr-archive ---------------------

mkdir_pg "$T/remote"
ok "rsync daemon starts" rsyncd_start remote "$T/remote"
rm -f "$T/pa.pid"
as_pg "${SLOW[@]}" "$PA" -D "$P" -dr "$(rsyncd_url remote)" -t "$T/tmp" --pid-file "$T/pa.pid" \
	"$T/in/$SEG" >"$T/pa.out" 2>"$T/pa.err" &
bg=$!
wait_for "rsync is uploading (its receiver's temporary file exists)" 120 \
	bash -c "test -s '$T/pa.pid' && find '$T/remote' -name '.$SEG.*' | grep -q ."
kill -TERM "$(cat "$T/pa.pid")"
rc=0
wait "$bg" || rc=$?
is "SIGTERM while rsync uploads: exit status 1" "$rc" 1
like "SIGTERM while rsync uploads: one line says so" "$(cat "$T/pa.err")" \
	"pitr-archive: interrupted by SIGTERM; removed [1-9][0-9]* temporary files?"
ok "SIGTERM while rsync uploads: -t is empty" no_temps "$T/tmp"
wait_for "the rsync receiver removed its own temporary file" 30 \
	bash -c "[ -z \"\$(ls -A '$T/remote')\" ]"

# --- pitr-restore into pg_wal: QUIT mid-write, KILL, retry ----------------

R=$T/r
mkdir_pg "$R" "$R/pg_wal"
as_pg cp "$P/PG_VERSION" "$R/PG_VERSION"
RARGS=(-D "$R" -s "$T/a" --pid-file "$T/pr.pid" "$SEG" pg_wal/RECOVERYXLOG)

# slow_restore SIGNAL: as slow_archive, for pitr-restore into pg_wal.
slow_restore()
{
	local sig=$1 bg
	rm -f "$T/pr.pid"
	as_pg "${SLOW[@]}" "$PR" "${RARGS[@]}" >/dev/null 2>"$T/pr.err" &
	bg=$!
	wait_for "$sig: pitr-restore is writing into pg_wal" 60 \
		bash -c "test -s '$T/pr.pid' && find '$R/pg_wal' -name '.pitr-tmp.*' | grep -q ."
	kill "-$sig" "$(cat "$T/pr.pid")"
	IT_RC=0
	wait "$bg" || IT_RC=$?
	IT_ERR=$(cat "$T/pr.err")
}

for sig in QUIT TERM; do
	slow_restore "$sig"
	is "pitr-restore SIG$sig mid-write: exit status 1" "$IT_RC" 1
	like "pitr-restore SIG$sig: one line says so" "$IT_ERR" \
		"pitr-restore: interrupted by SIG$sig; removed 1 temporary file"
	ok "pitr-restore SIG$sig: no temporary file in pg_wal" no_temps "$R/pg_wal"
	nok "pitr-restore SIG$sig: no RECOVERYXLOG" test -e "$R/pg_wal/RECOVERYXLOG"
done
as_pg touch "$R/pg_wal/000000010000000000000042" "$R/pg_wal/.not-ours"
slow_restore KILL
is "pitr-restore SIGKILL: killed" "$IT_RC" 137
ok "pitr-restore SIGKILL: a temporary file is left in pg_wal" has_temp "$R/pg_wal"
it_run as_pg "$PR" "${RARGS[@]}"
is "pitr-restore retry: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "pitr-restore retry: no temporary file in pg_wal" no_temps "$R/pg_wal"
ok "pitr-restore retry: RECOVERYXLOG is the segment" cmp "$T/in/$SEG" "$R/pg_wal/RECOVERYXLOG"
ok "pitr-restore retry: nothing else in pg_wal touched" \
	test -e "$R/pg_wal/000000010000000000000042" -a -e "$R/pg_wal/.not-ours"

pg_stop "$P"
it_done
