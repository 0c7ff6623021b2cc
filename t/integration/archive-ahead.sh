#!/bin/bash
# archive-ahead.sh - pitr-archive's look-ahead (issue 12) as the
# archive_command of a real PostgreSQL 15 server draining a backlog: every
# segment archived whole, most of them by look-ahead workers; a look-ahead
# segment that cannot be delivered is reported only when PostgreSQL asks
# for it, and archived once the cause is gone; nothing left behind.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# Helpers here run through ok/wait_for, which shellcheck cannot follow:
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init archive-ahead
it_require lz4
PA=$PITR_BUILDDIR/bin/pitr-archive
it_need_built "$PA"

P=$T/p
A=$T/arch
LOG=$T/archive.log
mkdir_pg "$A" "$T/state" "$T/copy"
pg_new "$P" --wal-segsize=1 || it_bail "initdb"
# Archiving paused (an empty archive_command): the backlog builds up.
pg_set "$P" "archive_mode = on" "archive_command = ''" "max_wal_size = 256MB"
pg_start "$P" || it_bail "pg_start"

# --- a backlog of finished segments ---------------------------------------

pg_sql "$P" "CREATE TABLE t AS SELECT g, md5(g::text) AS h FROM generate_series(1, 150000) g" \
	"CHECKPOINT" >/dev/null || it_bail "load"
for _ in 1 2 3; do pg_switch "$P" >/dev/null || it_bail "switch"; done
ready_names()
{
	find "$P/pg_wal/archive_status" -name '*.ready' -printf '%f\n' | sed 's/\.ready$//' |
		grep -E '^[0-9A-F]{24}$' | sort
}
mapfile -t SEGS < <(ready_names)
diag "backlog: ${#SEGS[@]} segments"
ok "a backlog of at least 12 segments" test "${#SEGS[@]}" -ge 12
# The segments as they are now, to compare the archive with.
for s in "${SEGS[@]}"; do cp "$P/pg_wal/$s" "$T/copy/$s"; done

# A file in the way of the 6th segment: its look-ahead fails, silently.
BLOCKED=${SEGS[5]}
echo "not this segment" | lz4 -q >"$A/$BLOCKED.lz4"
chown postgres: "$A/$BLOCKED.lz4"

pg_set "$P" "archive_command = '$PA -s $T/state -dl lz4=$A --look-ahead 8 --jobs 2 -v -l $LOG \"%p\"'"
pg_sql "$P" "SELECT pg_reload_conf()" >/dev/null

# --- the failure, reported when asked for ---------------------------------

blocked_failed() { [ "$(pg_archiver "$P" last_failed_wal)" = "$BLOCKED" ]; }
wait_for "PostgreSQL's call for $BLOCKED fails" 60 blocked_failed
before=$(sed -n "/ERROR/{p;q}" "$LOG")
like "the first ERROR is the call for $BLOCKED" "$before" "already exists with different content"
like "... naming its file" "$before" "$BLOCKED.lz4"
prev=${SEGS[4]}
ok "... logged after $prev was archived" \
	awk -v a="archived \"$prev\"" -v e="ERROR" 'index($0, a) { seen = 1 } index($0, e) { exit !seen }' "$LOG"
like "its look-ahead failure was only a LOG line" "$(cat "$LOG")" \
	"look-ahead: \"pg_wal/$BLOCKED\" not archived now"

# --- the cause removed: the backlog drains ---------------------------------

rm -f "$A/$BLOCKED.lz4"
# After three failures the archiver waits up to a minute; a new segment
# wakes it.
pg_switch "$P" >/dev/null
last=${SEGS[${#SEGS[@]}-1]}
wait_for "the whole backlog is archived" 120 pg_is_archived "$P" "$last"
missing=()
for s in "${SEGS[@]}"; do
	if ! lz4 -qdc "$A/$s.lz4" 2>/dev/null | cmp -s - "$T/copy/$s"; then missing+=("$s"); fi
done
is "every segment in the archive is the segment whole" "${missing[*]}" ""
n_ahead=$(grep -c 'look-ahead: archived' "$LOG")
diag "segments archived by look-ahead workers: $n_ahead of ${#SEGS[@]}"
ok "most segments were archived ahead of PostgreSQL's call" test "$n_ahead" -ge $((${#SEGS[@]} / 2))
n_calls=$(grep -cE "LOG : archived \"[0-9A-F]{24}\" \(segment\)" "$LOG")
ok "every segment's call said archived" test "$n_calls" -ge "${#SEGS[@]}"
is "no record left in the state dir" "$(ls -A "$T/state")" ""
is "no temporary file left in the archive" "$(find "$A" -name '.pitr-tmp*')" ""

pg_stop "$P"
it_done
