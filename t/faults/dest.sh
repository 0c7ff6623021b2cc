#!/bin/bash
# dest.sh - destinations that fail (issue 9): full (a small tmpfs), read-only
# (a tmpfs remounted ro), forbidden (root's 0700 dir, the program running
# as postgres), a refusing rsync peer (a closed port) and a hung one (an
# rsync daemon stopped with SIGSTOP: the kernel still accepts connections,
# nothing answers).  Each failure: exit 1, one error line naming the
# cause, no temporary and no partial file left; the other destinations
# get the file as pitr-archive(1) says (local ones first, a failed
# destination isolated, the successes recorded in the state dir), and the
# retry succeeds once the fault is gone.  pitr-restore into a full and a
# read-only pg_wal likewise.
#
# The hung peer is given up after rsync's timeout: --rsync-timeout 10 in
# make check, the default (60 s, says the man page) under make
# check-faults (PITR_FAULT_FULL=1); the time taken is printed, not
# asserted.  The mounts are unmounted by the EXIT trap whatever happens.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=faultlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/faultlib.sh"

it_init faults-dest
it_require rsync gzip setpriv mount umount
it_need_built "$PA" "$PR"

ok "4 finished 1 MiB segments of a PostgreSQL 15 cluster" fault_segments "$T/src" 4 1
mapfile -t SEGS <"$T/src/names"
[ "${#SEGS[@]}" -ge 4 ] || it_bail "no segments to archive"
D=$T/data
fake_datadir "$D"
for s in "${SEGS[@]}"; do
	cp "$T/src/$s" "$D/pg_wal/$s"
done
chown postgres:postgres "$D"/pg_wal/*
S1=${SEGS[0]} S2=${SEGS[1]} S3=${SEGS[2]} S4=${SEGS[3]}

# tmpfs DIR SIZE: a tmpfs of SIZE at DIR (created), owned by postgres,
# unmounted at exit.
tmpfs()
{
	mkdir -p "$1" || return 1
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" || return 1
	it_at_exit umount -l "$1"
	chown postgres:postgres "$1"
}

# archive ARGS...: pitr-archive ARGS as postgres, from the data dir.
archive()
{
	run_pg_in "$D" "$PA" -D "$D" "$@"
}

# one_error DESC REGEX: the last run exited 1 with exactly one line on
# stderr, an error matching REGEX.
one_error()
{
	is "$1: exit status 1" "$IT_RC" 1
	is "$1: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
	[ "$(count_lines "$IT_ERR")" = 1 ] || diag "its stderr:" "$IT_ERR"
	like "$1: an error line naming the cause" "$IT_ERR" " : (ERROR|FATAL) : .*$2"
}

# nothing_left DESC DIR [ENTRY...]: DIR holds no .pitr-tmp file and nothing
# but ENTRYs (and pitr-archive's system identifier record).
nothing_left()
{
	local desc=$1 dir=$2 allowed got
	shift 2
	allowed=$(printf '%s\n' .pitrkit-system-identifier "$@" | sort -u)
	got=$(entries "$dir" | grep -vxF "$allowed")
	is "$desc: nothing left in ${dir#"$T"/}" "$got" ""
	is "$desc: no .pitr-tmp file in ${dir#"$T"/}" "$(tmp_files "$dir")" ""
}

# --- a full destination -----------------------------------------------------
if ! tmpfs "$T/full" 1536k; then
	it_skip "cannot mount a tmpfs (mount -t tmpfs needs root outside a restricted container)"
fi
head -c 1M /dev/urandom >"$T/full/filler"
archive -dl "$T/full" "pg_wal/$S1"
one_error "into a full tmpfs" "No space left on device"
nothing_left "into a full tmpfs" "$T/full" filler
rm "$T/full/filler"
archive -dl "$T/full" "pg_wal/$S1"
is "once space is freed the same command exits 0" "$IT_RC" 0
ok "and the copy holds the segment's bytes" same_bytes "$T/full/$S1" "$T/src/$S1"
nothing_left "once space is freed" "$T/full" "$S1"

# With another destination: it gets the file, the state dir records it,
# and the retry only fills the full one.
rm "$T/full/$S1"
head -c 1M /dev/urandom >"$T/full/filler"
mkdir_pg "$T/ok" "$T/state"
archive -s "$T/state" -dl "$T/full" -dl "$T/ok" "pg_wal/$S2"
is "full and healthy destinations: exit status 1" "$IT_RC" 1
like "full and healthy destinations: an error line says ENOSPC" "$IT_ERR" " : ERROR : .*No space left on device"
diag "its stderr:" "$IT_ERR"
ok "the healthy destination got the segment" same_bytes "$T/ok/$S2" "$T/src/$S2"
ok "the state dir records it" test -f "$T/state/$S2.pitr-state"
nothing_left "full and healthy destinations" "$T/full" filler
rm "$T/full/filler"
archive -s "$T/state" -dl "$T/full" -dl "$T/ok" "pg_wal/$S2"
is "the retry once space is freed exits 0" "$IT_RC" 0
ok "the full destination got the segment" same_bytes "$T/full/$S2" "$T/src/$S2"
is "the state dir is empty" "$(entries "$T/state")" ""

# pitr-restore into a full pg_wal.
RD=$T/rdata
fake_datadir "$RD"
archive -dl "gzip=$T/ok" "pg_wal/$S3"
is "a gzip archive for pitr-restore" "$IT_RC" 0
tmpfs "$RD/pg_wal" 1536k
head -c 1M /dev/urandom >"$RD/pg_wal/filler"
run_pg_in "$RD" "$PR" -s "gzip=$T/ok" "$S3" pg_wal/RECOVERYXLOG
one_error "pitr-restore into a full pg_wal" "No space left on device"
nothing_left "pitr-restore into a full pg_wal" "$RD/pg_wal" filler
rm "$RD/pg_wal/filler"
run_pg_in "$RD" "$PR" -s "gzip=$T/ok" "$S3" pg_wal/RECOVERYXLOG
is "pitr-restore once space is freed: exit 0" "$IT_RC" 0
ok "pg_wal/RECOVERYXLOG holds the segment" same_bytes "$RD/pg_wal/RECOVERYXLOG" "$T/src/$S3"

# --- read-only ----------------------------------------------------------
tmpfs "$T/ro" 4m
mount -o remount,ro "$T/ro"
archive -dl "$T/ro" "pg_wal/$S1"
one_error "into a read-only tmpfs" "Read-only file system"
nothing_left "into a read-only tmpfs" "$T/ro"
rm -f "$RD/pg_wal/RECOVERYXLOG"
mount -o remount,ro "$RD/pg_wal"
run_pg_in "$RD" "$PR" -s "gzip=$T/ok" "$S3" pg_wal/RECOVERYXLOG
one_error "pitr-restore into a read-only pg_wal" "Read-only file system"
nothing_left "pitr-restore into a read-only pg_wal" "$RD/pg_wal"

# --- permission denied -------------------------------------------------------
mkdir -m 0700 "$T/deny"
archive -dl "$T/deny" "pg_wal/$S1"
one_error "into root's 0700 dir" "Permission denied"
nothing_left "into root's 0700 dir" "$T/deny"
mkdir -m 0755 "$T/deny2"
archive -dl "$T/deny2" "pg_wal/$S1"
one_error "into root's 0755 dir" "Permission denied"
nothing_left "into root's 0755 dir" "$T/deny2"

# --- rsync peers ----------------------------------------------------------
mkdir_pg "$T/stage" "$T/good" "$T/hung" "$T/l2" "$T/state2"
TIMEOUT_ARGS=(--rsync-timeout 10)
[ "${PITR_FAULT_FULL:-0}" = 1 ] && TIMEOUT_ARGS=()

# A refusing peer: a reserved port nobody listens on.
port=$(free_port) || it_bail "no free port"
t0=$(now_ms)
archive -s "$T/state2" -t "$T/stage" -dl "$T/l2" -dr "gzip=rsync://127.0.0.1:$port/none/" "pg_wal/$S3"
t1=$(now_ms)
echo "# a refusing rsync peer was given up after $((t1 - t0)) ms"
is "a refusing rsync peer: exit status 1" "$IT_RC" 1
like "a refusing rsync peer: an error line names it" "$IT_ERR" " : ERROR : .*127\.0\.0\.1:$port"
diag "its stderr:" "$IT_ERR"
ok "the local destination got the segment" same_bytes "$T/l2/$S3" "$T/src/$S3"
ok "the state dir records it" test -f "$T/state2/$S3.pitr-state"
is "-t is empty" "$(entries "$T/stage")" ""
rm -f "$T/state2/$S3.pitr-state"

# A hung peer (listed first) and a good one.
ok "rsync daemon 'good' starts" rsyncd_start good "$T/good"
ok "rsync daemon 'hung' starts" rsyncd_start hung "$T/hung"
hung_pid=$(cat "$T/rsyncd-hung.pid")
kill -STOP "$hung_pid"
it_at_exit kill -CONT "$hung_pid"
ok "the stopped daemon's port still accepts connections" port_open "$(rsyncd_port hung)"
t0=$(now_ms)
archive -s "$T/state2" -t "$T/stage" "${TIMEOUT_ARGS[@]}" -dl "$T/l2" -dr "gzip=$(rsyncd_url hung)" \
	-dr "gzip=$(rsyncd_url good)" "pg_wal/$S4"
t1=$(now_ms)
echo "# a hung rsync peer was given up after $((t1 - t0)) ms (${TIMEOUT_ARGS[*]:-default --rsync-timeout, 60 s by the man page})"
is "a hung rsync peer: exit status 1" "$IT_RC" 1
like "a hung rsync peer: an error line names it" "$IT_ERR" " : ERROR : .*127\.0\.0\.1:$(rsyncd_port hung)"
diag "its stderr:" "$IT_ERR"
ok "the local destination got the segment" same_bytes "$T/l2/$S4" "$T/src/$S4"
ok "the good rsync peer got the segment" same_bytes "$T/good/$S4.gz" "$T/src/$S4"
ok "the state dir records it" test -f "$T/state2/$S4.pitr-state"
is "-t is empty" "$(entries "$T/stage")" ""
kill -CONT "$hung_pid"
archive -s "$T/state2" -t "$T/stage" "${TIMEOUT_ARGS[@]}" -dl "$T/l2" -dr "gzip=$(rsyncd_url hung)" \
	-dr "gzip=$(rsyncd_url good)" "pg_wal/$S4"
is "once the peer answers again the retry exits 0" "$IT_RC" 0
ok "the once hung peer got the segment" same_bytes "$T/hung/$S4.gz" "$T/src/$S4"
is "the state dir is empty" "$(entries "$T/state2")" ""
is "-t is empty" "$(entries "$T/stage")" ""
wait_for "no rsync temporary file at the once hung peer" 10 no_hidden_files "$T/hung"
wait_for "no rsync temporary file at the good peer" 10 no_hidden_files "$T/good"

it_done
