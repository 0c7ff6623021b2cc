#!/bin/bash
# restore.sh - pitr-restore as the restore_command and pitr-cleanup as the
# archive_cleanup_command of real PostgreSQL 15 standbys fed by a master
# archiving with pitr-archive: a warm standby under load, removal with its
# pause trigger and hook, failover (smart and NOW), the -w safety window, a
# streaming standby pruning its archive, -ep modes, the OmniPITR command
# lines of the seed document, and pitr-cleanup on its own.
#
# One master (1 MiB segments) archives every file into one gzip archive per
# standby (removal by one standby must not starve another) plus a reference
# archive nobody prunes.  All standbys are copies of one base backup and run
# at the same time; the -w 40 standby's window is the longest wait, and the
# other sections run inside it.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# Helpers here run through ok/wait_for, which shellcheck cannot follow:
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init restore
PA=$PITR_BUILDDIR/bin/pitr-archive
PR=$PITR_BUILDDIR/bin/pitr-restore
PC=$PITR_BUILDDIR/bin/pitr-cleanup
it_need_built "$PA" "$PR" "$PC"
SEGSIZE=1048576
# XLOG_PAGE_MAGIC of PostgreSQL 15 (0xD110), as the first two bytes of a
# segment read by od -tx1.
WAL_MAGIC=10d1

# What a blocked restore_command of ours may leave behind (the -ep hang
# standby's pitr-restore) outlives its server.
it_reap 'pitr-(restore|cleanup)'

ok "pitr-restore runs as the postgres user" as_pg "$PR" --version
ok "pitr-cleanup runs as the postgres user" as_pg "$PC" --version

# --- helpers --------------------------------------------------------------

# names_of DIR: the file names in DIR, sorted, one a line.
names_of()
{
	(cd "$1" && ls -A) | sort
}

# older_than LIMIT NAME...: every NAME sorts before LIMIT by the 16 hex
# digits after the timeline.
older_than()
{
	local limit=$1 n bad=0
	shift
	for n in "$@"; do
		if [[ ! ${n:8:16} < ${limit:8:16} ]]; then
			echo "not older than $limit: $n"
			bad=1
		fi
	done
	return "$bad"
}

# secs_since EPOCH: whole seconds from EPOCH to now.
secs_since()
{
	echo $(($(date +%s) - $1))
}

# log_has FILE ERE: FILE has a line matching ERE.
log_has()
{
	grep -qE -- "$2" "$1" 2>/dev/null
}

# rows DIR SQL: one value from DIR, or "" when it does not answer.
rows()
{
	pg_sql "$1" "$2" 2>/dev/null
}

# mark_seen DIR TAG: the marks row TAG is visible on DIR.
mark_seen()
{
	[ "$(rows "$1" "SELECT count(*) FROM marks WHERE tag = '$2'")" = 1 ]
}

# mark MASTER TAG: insert a marks row, switch the segment and wait until it
# is archived; prints the insert position after the row.
mark()
{
	local seg lsn
	pg_sql "$1" "INSERT INTO marks VALUES ('$2', clock_timestamp())" >/dev/null || return 1
	lsn=$(pg_lsn "$1") || return 1
	seg=$(pg_switch "$1") || return 1
	pg_wait_archived "$1" "$seg" 60 >&2 || return 1
	echo "$lsn"
}

# switches MASTER N: N segment switches with a little data each, waiting
# until the last is archived; prints a position inside the last segment
# switched (the position after the switch is in a segment not finished yet).
switches()
{
	local i out
	for ((i = 0; i < $2; i++)); do
		out=$(pg_sql "$1" "SET client_min_messages = warning" \
			"CREATE TABLE IF NOT EXISTS it_switch (at timestamptz)" \
			"INSERT INTO it_switch VALUES (clock_timestamp())" \
			"SELECT pg_current_wal_insert_lsn()" \
			"SELECT pg_walfile_name(pg_switch_wal())") || return 1
	done
	pg_wait_archived "$1" "$(echo "$out" | tail -n 1)" 60 >&2 || return 1
	echo "$out" | head -n 1
}

# pitr_pids LOG: the pids of pitr-restore processes writing LOG.
pitr_pids()
{
	local pid
	for pid in $(proc_pids "$1"); do
		tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'pitr-restore' && echo "$pid"
	done
	return 0
}

# pitr_waiting LOG: a pitr-restore writing LOG is running.
pitr_waiting()
{
	[ -n "$(pitr_pids "$1")" ]
}

# ready_at DIR: the epoch second at which the standby in DIR first accepted
# read-only connections, from its server log (log_line_prefix %m).
ready_at()
{
	local ts
	ts=$(grep -m1 'ready to accept read-only connections' "$(pg_logfile "$1")" | cut -d' ' -f1-3)
	[ -n "$ts" ] && date -d "$ts" +%s
}

# history_seen DIR: DIR shows pgbench_history rows.
history_seen()
{
	[ "$(rows "$1" 'SELECT count(*) > 0 FROM pgbench_history')" = t ]
}

# gone_from DIR: the segments in the reference archive (never pruned) that
# DIR no longer holds, one a line.  The master goes on archiving (autovacuum
# fills segments too) and pitr-archive publishes a file in its archives one
# after another, ref first, so a segment newer than DIR's newest may be in
# ref and not yet in DIR: that one is on its way, not gone.  Removal takes the oldest first, so the
# segments that count are those up to DIR's newest (all of ref if DIR holds
# none).
gone_from()
{
	local newest
	newest=$(wal_in "$1" | tail -n 1)
	comm -23 <(wal_in "$A/ref" | awk -v n="$newest" 'n == "" || $0 "" <= n ""') <(wal_in "$1")
}

# pruned DIR: DIR lost at least one archived segment.
pruned()
{
	[ -n "$(gone_from "$1")" ]
}

# settle DIR: wait until the segments in DIR and the hook log stay the same
# for 4 s (removal and its hook run inside restore calls).  While a backlog
# is left, a waiting pitr-restore removes a few segments a pass, 1 s after
# the previous pass ended, and each removal first decompresses the segment
# for the hook: on a loaded machine under ASan two visible changes can be
# 2 s apart, so 4 s still means the removal is over.
settle()
{
	local a b i same=0
	a=$(wal_in "$1"; cat "$HOOKLOG" 2>/dev/null)
	for i in $(seq 1 60); do
		sleep 1
		b=$(wal_in "$1"; cat "$HOOKLOG" 2>/dev/null)
		if [ "$a" = "$b" ]; then
			same=$((same + 1))
			[ "$same" -ge 4 ] && return 0
		else
			same=0
		fi
		a=$b
	done
	echo "still changing after 60 s"
	return 1
}

# backup_stop_mtime DIR: the modification time (epoch seconds) of the base
# backup's last segment in archive DIR, named by the archived .backup file.
backup_stop_mtime()
{
	local f seg
	for f in "$1"/*.backup.gz; do
		[ -e "$f" ] || return
		seg=$(gzip -dc "$f" | sed -n 's/^STOP WAL LOCATION: .*(file \([0-9A-F]\{24\}\))$/\1/p')
		[ -n "$seg" ] && stat -c %Y "$1/$seg.gz"
		return
	done
}

# cleaned_to_redo DIR: the archive DIR of a standby DATA ($2) holds no
# segment older than DATA's REDO file and every one from it on.
cleaned_to_redo()
{
	local redo
	redo=$(pg_control "$2" "Latest checkpoint's REDO WAL file")
	[ "$(gone_from "$1")" = "$(wal_in "$A/ref" | awk -v r="${redo:8:16}" 'substr($0, 9, 16) < r')" ]
}

# no_pitr_running LOG: no pitr-restore writing LOG runs.
no_pitr_running()
{
	! pitr_waiting "$1"
}

# not_promoted DIR: the server in DIR never ended recovery: its log has no
# new timeline and no read-write start (it may not be consistent yet, so
# it is not asked).
not_promoted()
{
	! grep -E 'selected new timeline ID|archive recovery complete|ready to accept connections' \
		"$(pg_logfile "$1")"
}

# ============================================================================
# 8. pitr-cleanup on its own (no server): dry run, pause, codecs, timelines
# ============================================================================
CD=$T/cleanup
mkdir_pg "$CD" "$T/cleanup-pause"
R=000000020000000100000004
GONE=(000000010000000000000005.gz 0000000100000000000003FF
	000000020000000100000001.zst 000000020000000100000002.lz4
	000000020000000100000003.bz2 000000030000000100000003.xz
	000000010000000100000000.lzma 000000010000000100000003.partial
	000000010000000100000002.partial.gz)
KEPT=(000000020000000100000004.gz 000000010000000100000005.gz
	000000010000000200000000 000000020000000100000004.partial
	00000002.history 00000003.history.gz 00000001.history README.txt)
for f in "${GONE[@]}" "${KEPT[@]}"; do
	echo "$f" >"$CD/$f"
done
chown postgres:postgres "$CD"/*
before=$(names_of "$CD")
expected=$(printf '%s\n' "${GONE[@]}" | sort)

# listed TEXT: the archive file names TEXT mentions (%r itself left out).
listed()
{
	printf '%s\n' "$1" | grep -oE '[0-9A-F]{24}(\.partial)?(\.(gz|zst|lz4|bz2|xz|lzma))?' |
		grep -vxF "$R" | sort -u
}

it_run as_pg "$PC" -a "gzip=$CD" --dry-run "$R"
is "cleanup --dry-run: exit 0" "$IT_RC" 0
dry=$(listed "$IT_OUT$IT_ERR")
is "cleanup --dry-run: removes nothing" "$(names_of "$CD")" "$before"
is "cleanup --dry-run: lists the segments and partials older than %r, any codec and timeline" \
	"$dry" "$expected"
it_run as_pg "$PC" -a "gzip=$CD" -n "$R"
is "cleanup -n: exit 0" "$IT_RC" 0
is "cleanup -n lists what --dry-run lists" "$(listed "$IT_OUT$IT_ERR")" "$dry"
is "cleanup -n: removes nothing" "$(names_of "$CD")" "$before"

touch "$T/cleanup-pause/pause"
it_run as_pg "$PC" -a "gzip=$CD" -p "$T/cleanup-pause/pause" "$R"
is "cleanup with the pause trigger present: exit 0" "$IT_RC" 0
is "cleanup with the pause trigger present: removes nothing" "$(names_of "$CD")" "$before"
rm -f "$T/cleanup-pause/pause"

it_run as_pg "$PC" -a "gzip=$CD" "$R"
is "cleanup: exit 0" "$IT_RC" 0
removed=$(comm -23 <(echo "$before") <(names_of "$CD"))
is "cleanup removes exactly what the dry run listed" "$removed" "$dry"
is "cleanup removes the segments and partials older than %r (timeline ignored, any codec)" \
	"$removed" "$expected"
is "cleanup keeps the rest (%r itself, newer segments of an older timeline, .history, other files)" \
	"$(names_of "$CD")" "$(printf '%s\n' "${KEPT[@]}" | sort)"
it_run as_pg "$PC" -a "gzip=$CD" "$R"
is "cleanup again: nothing left to remove, exit 0" "$IT_RC" 0
is "cleanup again: the archive is unchanged" "$(names_of "$CD")" "$(printf '%s\n' "${KEPT[@]}" | sort)"
it_run as_pg "$PC" -a "gzip=$CD" "not-a-wal-name"
is "cleanup with a bad %r: exit 1" "$IT_RC" 1
like "cleanup with a bad %r: an error line naming it" "$IT_ERR" ' : (ERROR|FATAL) : .*not-a-wal-name'
is "cleanup with a bad %r: the archive is unchanged" "$(names_of "$CD")" "$(printf '%s\n' "${KEPT[@]}" | sort)"
it_run as_pg "$PC" -a "gzip=$T/no-such-archive" "$R"
is "cleanup of a missing archive dir: exit 1" "$IT_RC" 1
like "cleanup of a missing archive dir: an error line naming it" "$IT_ERR" " : (ERROR|FATAL) : .*$T/no-such-archive"

# ============================================================================
# The master, its archives and the standbys
# ============================================================================
M=$T/m
A=$T/a
ARCHIVES=(ref w1 w2 w4 s ep w7 w7w)
mkdir_pg "$A" "$T/log" "$T/mstate" "$T/trig" "$T/hook" "$T/tmp" "$T/tmp/w2" \
	"$T/e" "$T/e/log" "$T/e/tmp" "$T/ew" "$T/ew/log" "$T/ew/tmp"
for a in "${ARCHIVES[@]}"; do
	mkdir_pg "$A/$a"
done
aargs=(-l "$T/log/archive.log" -s "$T/mstate")
for a in "${ARCHIVES[@]}"; do
	aargs+=(-dl "gzip=$A/$a")
done

ok "initdb the master (1 MiB segments)" pg_new "$M" --wal-segsize=1
pg_archiving "$M" "${aargs[@]}"
pg_set "$M" "wal_keep_size = 64MB"
ok "the master starts" pg_start "$M" || it_bail "no master"
ok "pgbench -i on the master" pg_bench "$M" -i -s 1 -q
ok "tables users (1000 rows) and marks on the master" pg_sql "$M" \
	"CREATE TABLE users (id int)" "INSERT INTO users SELECT generate_series(1, 1000)" \
	"CREATE TABLE marks (tag text PRIMARY KEY, at timestamptz)" \
	"CREATE TABLE late (id int)"
ok "base backup of the master (pg_basebackup -X none: all WAL comes from the archive)" \
	pg_base_backup "$M" "$T/base"

# The hook of -h: records the basename, size and first two bytes of the
# file it is given.
HOOKLOG=$T/hook/seen
cat >"$T/hook.sh" <<EOF
#!/bin/sh
# -h hook: one line per call: basename, size in bytes, first two bytes.
printf '%s %s %s\n' "\$(basename "\$1")" "\$(stat -c %s "\$1")" \\
	"\$(od -An -tx1 -N2 "\$1" | tr -d ' \\n')" >>$HOOKLOG
EOF
chmod 755 "$T/hook.sh"

W1=$T/w1 W2=$T/w2 W4=$T/w4 S=$T/s W6I=$T/w6i W6H=$T/w6h W6B=$T/w6b W7=$T/w7 W7W=$T/w7w
EPCMD="-r -pp /bin/false"
A16="-s gzip=$A/w7 -f $T/e/finish.recovery -p $T/e/pause.removal -t $T/e/tmp/ -ep hang -pp $PGBIN/pg_controldata -r -v"
A16W="-s gzip=$A/w7w -f $T/ew/finish.recovery -p $T/ew/pause.removal -t $T/ew/tmp/ -ep hang -pp $PGBIN/pg_controldata -r -v -w 30"

ok "w1: warm standby (-l -s -f)" pg_standby_new "$T/base" "$W1" warm \
	"$PR -l $T/log/w1.log -s gzip=$A/w1 -f $T/trig/w1 %f %p"
touch "$T/trig/w2.pause"
ok "w2: warm standby removing with -r %r, a pause trigger and a hook" \
	pg_standby_new "$T/base" "$W2" warm \
	"$PR -l $T/log/w2.log -s gzip=$A/w2 -r %r -p $T/trig/w2.pause -h $T/hook.sh -t $T/tmp/w2 %f %p"
ok "w4: warm standby with -w 40" pg_standby_new "$T/base" "$W4" warm \
	"$PR -l $T/log/w4.log -s gzip=$A/w4 -w 40 -f $T/trig/w4 %f %p"
ok "w6i: warm standby, -ep ignore, failing -pp" pg_standby_new "$T/base" "$W6I" warm \
	"$PR -l $T/log/w6i.log -s gzip=$A/ep $EPCMD -ep ignore %f %p"
ok "w6h: warm standby, -ep hang, failing -pp" pg_standby_new "$T/base" "$W6H" warm \
	"$PR -l $T/log/w6h.log -s gzip=$A/ep $EPCMD -ep hang %f %p"
ok "w6b: standby (standby.signal), -ep break, failing -pp" pg_standby_new "$T/base" "$W6B" standby \
	"$PR -l $T/log/w6b.log -s gzip=$A/ep $EPCMD -ep break %f %p"
ok "w7: warm standby with the seed's A.1.6 restore_command" pg_standby_new "$T/base" "$W7" warm \
	"$PR -l $T/e/log/^a.log $A16 %f %p"
ok "w7w: the A.1.6 restore_command with -w 30" pg_standby_new "$T/base" "$W7W" warm \
	"$PR -l $T/ew/log/^a.log $A16W %f %p"
ok "s: streaming standby (-sr, archive_cleanup_command pitr-cleanup)" \
	pg_standby_new "$T/base" "$S" standby \
	"$PR -sr -l $T/log/s.log -s gzip=$A/s %f %p" \
	"archive_cleanup_command = '$PC -a gzip=$A/s -l $T/log/s-cleanup.log %r'" \
	"primary_conninfo = 'host=127.0.0.1 port=$(pg_port "$M") user=postgres application_name=s'"

# The delayed and the possibly blocked ones are launched without waiting.
for d in "$W4" "$W7W" "$W6H" "$W6B" "$W6I"; do
	ok "$(basename "$d") is launched" pg_launch "$d"
done
for d in "$W1" "$W2" "$W7"; do
	ok "$(basename "$d") starts and becomes consistent from the archive" pg_start "$d"
done

# --- pitr-restore by hand, on the archive the master fills ------------------
H=$T/hand
mkdir_pg "$H" "$H/arch" "$H/out"
first=$(wal_in "$A/ref" | head -n 1)
like "the reference archive holds segments" "$first" '^[0-9A-F]{24}$'
it_run as_pg "$PR" -D "$T/base" -s "gzip=$A/ref" "$first" "$H/out/RECOVERYXLOG"
is "by hand: an archived segment: exit 0" "$IT_RC" 0
ok "by hand: %p holds the segment, decompressed" cmp "$H/out/RECOVERYXLOG" <(gzip -dc "$A/ref/$first.gz")
is "by hand: nothing else is left next to %p" "$(names_of "$H/out")" RECOVERYXLOG
rm -f "$H/out/RECOVERYXLOG"
t=$SECONDS
it_run as_pg timeout 20 "$PR" -D "$T/base" -s "gzip=$A/ref" 0000000A.history "$H/out/RECOVERYHISTORY"
is "by hand: a missing .history: exit 1" "$IT_RC" 1
ok "by hand: ... at once (within 5 s)" test $((SECONDS - t)) -le 5
t=$SECONDS
it_run as_pg timeout 20 "$PR" -D "$T/base" -sr -s "gzip=$A/ref" 000000010000000F00000000 "$H/out/RECOVERYXLOG"
is "by hand: -sr and a missing segment: exit 1" "$IT_RC" 1
ok "by hand: ... at once (within 5 s)" test $((SECONDS - t)) -le 5
it_run as_pg timeout 4 "$PR" -D "$T/base" -s "gzip=$A/ref" 000000010000000F00000000 "$H/out/RECOVERYXLOG"
is "by hand: a missing segment without -sr: still waiting after 4 s (timeout's 124)" "$IT_RC" 124
ok "by hand: no file at %p after any of these" empty_dir "$H/out"
head -c 2000 "$A/ref/$first.gz" >"$H/arch/$first.gz"
chown postgres:postgres "$H/arch/$first.gz"
it_run as_pg timeout 20 "$PR" -D "$T/base" -s "gzip=$H/arch" "$first" "$H/out/RECOVERYXLOG"
is "by hand: a truncated .gz: exit 1" "$IT_RC" 1
like "by hand: a truncated .gz: an error line naming it" "$IT_ERR" " : (ERROR|FATAL) : .*$first"
ok "by hand: a truncated .gz: no file at %p, nothing left" empty_dir "$H/out"

# ============================================================================
# 1. a warm standby follows the master under load
# ============================================================================
ok "w1 is in recovery" pg_in_recovery "$W1"
pg_bench "$M" -T 15 -c 2 -j 2 >"$T/pgbench1.out" 2>&1 &
bench_pid=$!
wait_for "w1 shows pgbench_history rows (hot standby) while pgbench runs" 20 history_seen "$W1"
ok "... and pgbench was still running then" kill -0 "$bench_pid"
rc=0
wait "$bench_pid" || rc=$?
is "pgbench -T 15 on the master: exit 0" "$rc" 0
hist=$(pg_sql "$M" "SELECT count(*) FROM pgbench_history")
lsn=$(mark "$M" load)
like "after the load: the master archived its last segment" "$lsn" '^[0-9A-F]+/[0-9A-F]+$'
for d in "$W1" "$W2" "$W7"; do
	wait_for "$(basename "$d") replayed the master up to $lsn" 60 pg_replayed "$d" "$lsn"
done
is "w1 has every pgbench_history row of the master ($hist)" \
	"$(rows "$W1" "SELECT count(*) FROM pgbench_history")" "$hist"
ok "w1 sees the row written just before the segment switch" mark_seen "$W1" load

# The streaming standby starts now, with several segments archived since
# the base backup, and catches up from the archive first.
ok "s starts and becomes consistent" pg_start "$S"
wait_for "s streams from the master" 60 pg_streaming "$S"
n_restored=$(grep -c 'restored log file' "$(pg_logfile "$S")")
like "s restored segments from the archive before streaming ($n_restored)" "$n_restored" '^([3-9]|[1-9][0-9]+)$'

# The master goes idle: the warm standby must not end recovery by itself.
replay1=$(rows "$W1" "SELECT pg_last_wal_replay_lsn()")
sleep 8
ok "w1: still in recovery after the master was idle 8 s" pg_in_recovery "$W1"
ok "w1: its pitr-restore is waiting for the next segment" pitr_waiting "$T/log/w1.log"
is "w1: replay did not move while the master was idle" \
	"$(rows "$W1" "SELECT pg_last_wal_replay_lsn()")" "$replay1"
nok "w1's log has no ERROR line" grep -h ' : ERROR : ' "$T/log/w1.log"

# ============================================================================
# 2. removal: -r %r with a pause trigger and a hook (w2); -r with
#    pg_controldata (w7, the A.1.6 line)
# ============================================================================
ok "CHECKPOINT on the master" pg_sql "$M" "CHECKPOINT"
lsn=$(switches "$M" 1)
for d in "$W2" "$W7"; do
	wait_for "$(basename "$d") replayed the master's checkpoint" 60 pg_replayed "$d" "$lsn"
	ok "CHECKPOINT on $(basename "$d") (a restartpoint)" pg_sql "$d" "CHECKPOINT"
done
redo2=$(pg_control "$W2" "Latest checkpoint's REDO WAL file")
like "w2's restartpoint REDO file" "$redo2" '^[0-9A-F]{24}$'
lsn=$(switches "$M" 5)
wait_for "w2 replayed 5 more segments" 60 pg_replayed "$W2" "$lsn"
wait_for "w7 removed old segments from its archive (no pause trigger)" 30 pruned "$A/w7"
is "w2 removed nothing while its pause trigger exists" "$(gone_from "$A/w2")" ""
ok "w2's hook was not called while paused" test ! -s "$HOOKLOG"

rm -f "$T/trig/w2.pause"
lsn=$(switches "$M" 4)
wait_for "w2 replayed 4 more segments" 60 pg_replayed "$W2" "$lsn"
wait_for "w2 removed old segments once the pause trigger is gone" 30 pruned "$A/w2"
ok "CHECKPOINT on the master" pg_sql "$M" "CHECKPOINT"
lsn=$(switches "$M" 1)
wait_for "w2 replayed the master's checkpoint" 60 pg_replayed "$W2" "$lsn"
ok "CHECKPOINT on w2" pg_sql "$W2" "CHECKPOINT"
lsn=$(switches "$M" 3)
wait_for "w2 replayed 3 more segments" 60 pg_replayed "$W2" "$lsn"
ok "w2's archive and hook log settle" settle "$A/w2"
mapfile -t gone2 < <(gone_from "$A/w2")
redo2=$(pg_control "$W2" "Latest checkpoint's REDO WAL file")
oldest=$(wal_in "$A/ref" | head -n 1)
ok "w2's archive lost its oldest segment $oldest" test ! -e "$A/w2/$oldest.gz"
ok "w2 removed only segments older than its restartpoint's REDO $redo2 (${#gone2[@]})" \
	older_than "$redo2" "${gone2[@]}"
is "w2 removed the oldest first (a prefix of the archive)" \
	"$(printf '%s\n' "${gone2[@]}")" "$(wal_in "$A/ref" | head -n "${#gone2[@]}")"
ok "w2's archive still holds its REDO segment" test -e "$A/w2/$redo2.gz"
is "w2's hook saw each removed segment, once" "$(cut -d' ' -f1 "$HOOKLOG" | sort)" \
	"$(printf '%s\n' "${gone2[@]}")"
is "w2's hook got an uncompressed full segment each time (name, $SEGSIZE bytes, magic $WAL_MAGIC)" \
	"$(awk -v s="$SEGSIZE" -v m="$WAL_MAGIC" 'length($1) != 24 || $1 ~ /[^0-9A-F]/ || $2 != s || $3 != m' "$HOOKLOG")" ""
ok "w2 is still in recovery" pg_in_recovery "$W2"
nok "w2's log has no ERROR line" grep -h ' : ERROR : ' "$T/log/w2.log"

mapfile -t gone7 < <(gone_from "$A/w7")
redo7=$(pg_control "$W7" "Latest checkpoint's REDO WAL file")
ok "w7 (-r, pg_controldata) removed only segments older than its REDO $redo7 (${#gone7[@]})" \
	older_than "$redo7" "${gone7[@]}"
is "w7 removed the oldest first" "$(printf '%s\n' "${gone7[@]}")" \
	"$(wal_in "$A/ref" | head -n "${#gone7[@]}")"

# ============================================================================
# 5. the streaming standby prunes its archive behind it
# ============================================================================
oldest=$(wal_in "$A/s" | head -n 1)
ok "CHECKPOINT on the master" pg_sql "$M" "CHECKPOINT"
lsn=$(switches "$M" 1)
wait_for "s replayed the master's checkpoint" 30 pg_replayed "$S" "$lsn"
ok "CHECKPOINT on s (a restartpoint runs archive_cleanup_command)" pg_sql "$S" "CHECKPOINT"
wait_for "s's archive lost its oldest segment $oldest" 30 test ! -e "$A/s/$oldest.gz"
wait_for "s's cleanup removed exactly the segments older than its REDO file" 30 \
	cleaned_to_redo "$A/s" "$S"
ok "s is still streaming" pg_streaming "$S"
nok "pitr-cleanup's log has no ERROR line" grep -h ' : ERROR : ' "$T/log/s-cleanup.log"

# ============================================================================
# 6. -ep with a failing pg_controldata (-pp /bin/false)
# ============================================================================
EPRE='(/bin/false|controldata)'
wait_for "ignore: w6i becomes consistent" 60 pg_in_recovery "$W6I"
wait_for "hang: w6h's log names the failing pg_controldata" 60 log_has "$T/log/w6h.log" "$EPRE"
wait_for "break: w6b's log has an ERROR line naming the failing pg_controldata" 60 \
	log_has "$T/log/w6b.log" " : (ERROR|FATAL) : .*$EPRE"
ok "ignore: w6i's log names the failing pg_controldata" log_has "$T/log/w6i.log" "$EPRE"
lsn=$(mark "$M" ep)
wait_for "ignore: w6i keeps replaying (a new master row appears)" 60 mark_seen "$W6I" ep
t=$SECONDS
sleep 6
ok "hang: w6h's server runs" pg_alive "$W6H"
ok "hang: w6h did not end recovery" not_promoted "$W6H"
nok "hang: the new master row does not reach w6h" mark_seen "$W6H" ep
ok "hang: w6h's pitr-restore is still running" pitr_waiting "$T/log/w6h.log"
ok "break: w6b's server runs (standby mode retries the failing restore_command)" pg_alive "$W6B"
ok "break: w6b did not end recovery" not_promoted "$W6B"
nok "break: no FATAL or PANIC in w6b's server log (exit status below 126)" \
	grep -E 'FATAL|PANIC' "$(pg_logfile "$W6B")"

# ============================================================================
# 4. the -w 40 safety window, and a NOW trigger written the way `echo NOW >`
#    does (an empty file first)
# ============================================================================
wait_for "w4 becomes consistent (after its 40 s window)" 120 pg_has_rows "$W4" users 1000
ready4=$(ready_at "$W4")
like "w4's server log tells when it became consistent" "${ready4:-}" '^[0-9]+$'
# Measured from that segment's arrival in w4's archive (what -w counts
# from), not from when pg_basebackup returned: the backup's fsync after the
# archiving can take seconds on a loaded machine, and the window would look
# shorter by as much.  35, not 40: the server log's clock and the file's
# mtime are read to the second.
stop4=$(backup_stop_mtime "$A/w4")
like "w4's archive holds the backup's last segment" "${stop4:-}" '^[0-9]+$'
ok "w4 was not consistent before the backup's last segment was 35 s old ($((${ready4:-0} - ${stop4:-${ready4:-0}})) s)" \
	test $((${ready4:-0} - ${stop4:-${ready4:-0}})) -ge 35
ok "TRUNCATE users on the master" pg_sql "$M" "TRUNCATE users"
seg=$(pg_switch "$M")
ok "the TRUNCATE's segment $seg is archived" pg_wait_archived "$M" "$seg" 60
T1=$(date +%s)
sleep 12
ok "12 s later w4 still has the 1000 users rows" pg_has_rows "$W4" users 1000
: >"$T/trig/w4"
sleep 0.5
echo NOW >"$T/trig/w4"
wait_for "NOW: w4 is promoted" 25 pg_promoted "$W4"
# The TRUNCATE's segment becomes replayable 40 s after it was archived;
# w4 must be promoted before that (and still has the rows, checked below).
ok "w4 was promoted inside the window ($(secs_since "$T1") s after the TRUNCATE was archived)" \
	test "$(secs_since "$T1")" -lt 40
ok "w4 still has the 1000 users rows after promotion" pg_has_rows "$W4" users 1000
ok "w4 accepts writes" pg_sql "$W4" "INSERT INTO users VALUES (1001)"
ok "w4's log says it chose the immediate (NOW) finish" log_has "$T/log/w4.log" ' : LOG : .*(NOW|[Ii]mmediate)'
nok "w4's log has no ERROR line" grep -h ' : ERROR : ' "$T/log/w4.log"

# ============================================================================
# 3 and 7. failover: the master stops, smart finish triggers
# ============================================================================
ok "pgbench -T 3 on the master" pg_bench "$M" -T 3 -c 2 -j 2
ok "100 late rows on the master" pg_sql "$M" "INSERT INTO late SELECT generate_series(1, 100)"
hist=$(pg_sql "$M" "SELECT count(*) FROM pgbench_history")
lastseg=$(pg_switch "$M")
ok "the master archived $lastseg" pg_wait_archived "$M" "$lastseg" 60
T2=$(date +%s)
# A clean stop switches to a new segment and archives the old one, so this
# row is archived too; only the shutdown checkpoint record is not.
ok "one more row after the last switch" pg_sql "$M" "INSERT INTO late VALUES (-1)"
ok "the master stops (fast)" pg_stop "$M"
stopseg=$(wal_in "$A/ref" | tail -n 1)
ok "the stop archived one more segment than $lastseg ($stopseg)" test "$stopseg" \> "$lastseg"
echo >"$T/trig/w1"
touch "$T/e/finish.recovery" "$T/ew/finish.recovery"
Ttrig=$(date +%s)
ok "the triggers came $((Ttrig - T2)) s after the last rows were archived (less than w7w's 30 s)" \
	test $((Ttrig - T2)) -lt 25
for d in "$W1" "$W7" "$W7W"; do
	n=$(basename "$d")
	wait_for "$n is promoted by the smart finish trigger" 60 pg_promoted "$d"
	[ "$d" = "$W7W" ] && promoted7w=$(secs_since "$T2")
	is "$n has every pgbench_history row archived ($hist)" \
		"$(rows "$d" "SELECT count(*) FROM pgbench_history")" "$hist"
	is "$n has the 100 late rows and the one after the last switch" \
		"$(rows "$d" "SELECT count(*), sum(id) FROM late")" "101|5049"
	ok "$n accepts writes" pg_sql "$d" "INSERT INTO late VALUES (0)"
done
ok "w7w (-w 30) was promoted with segments younger than its window (${promoted7w:-?} s)" \
	test "${promoted7w:-99}" -lt 30
for e in e ew; do
	n=w7; [ "$e" = ew ] && n=w7w
	logs=$(ls "$T/$e/log")
	like "$n: the log file name follows -l ^a.log" "$logs" '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\.log$'
	ok "$n: -v: the log has LOG lines" grep -q ' : pitr-restore : LOG : ' "$T/$e/log/$logs"
	nok "$n: the log has no ERROR line" grep -h ' : ERROR : ' "$T/$e/log/$logs"
	ok "$n: the -t temp dir is empty" empty_dir "$T/$e/tmp"
	ok "$n: no pitr-restore left running" no_pitr_running "$T/$e/log"
done
ok "w7w also removed old segments (-r)" pruned "$A/w7w"
ok "no temporary file left in any archive" no_hidden_files "$A"

echo "# runtime ${SECONDS}s"
it_done
