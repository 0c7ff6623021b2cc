#!/bin/bash
# monitor.sh - pitr-monitor against what real programs log: a PostgreSQL 15
# master archiving with pitr-archive -l, a warm standby restoring with
# pitr-restore -l, a pitr-backup-master -l backup.  Every check answers
# with the right value (ages advancing, the archive queue 0 and then more
# when archiving is made to fail, the errors found once and not again with
# -s), the Prometheus output read by a real parser (python3-prometheus-client),
# the JSON by python3's json, and the Nagios mode through OK, WARNING,
# CRITICAL and UNKNOWN.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init monitor
PA=$PITR_BUILDDIR/bin/pitr-archive
PR=$PITR_BUILDDIR/bin/pitr-restore
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PM=$PITR_BUILDDIR/bin/pitr-monitor
it_need_built "$PA" "$PR" "$PB" "$PM"
PY=/usr/bin/python3
"$PY" -c 'import prometheus_client.parser' 2>/dev/null ||
	it_skip "no python3-prometheus-client (Debian's python3-prometheus-client)"
it_reap 'pitr-restore'

M=$T/m
S=$T/s
A=$T/archive
L=$T/log
mkdir_pg "$A" "$L" "$T/ms" "$T/bk"
ALOG="$L/archive-^Y-^m-^d.log"
RLOG="$L/restore-^Y-^m-^d.log"
BLOG="$L/backup-^Y-^m-^d.log"

# mon ARGS...: pitr-monitor reading the three logs with state in T/ms.
mon()
{
	it_run "$PM" -l "$ALOG" -l "$RLOG" -l "$BLOG" -s "$T/ms" "$@"
}

# number TEXT: TEXT is one non-negative number.
is_number()
{
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]]
}

# gt A B: A > B as numbers.
gt()
{
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'
}

# check_value CHECK [ARGS...]: the plain answer of CHECK.
check_value()
{
	mon -c "$@"
	printf '%s\n' "$IT_OUT"
}

# queue_above N: the archive queue is above N.
queue_above()
{
	gt "$(check_value archive-queue "${CONN[@]}")" "$1"
}

# restore_waiting: the standby's pitr-restore logged that it waits.
restore_waiting()
{
	grep -q 'is not in the archive yet: waiting' "$L"/restore-*.log 2>/dev/null
}

ok "initdb m (1 MiB segments)" pg_new "$M" --wal-segsize=1
pg_archiving "$M" -l "$ALOG" -dl "$A"
ok "m starts, archiving with pitr-archive -l" pg_start "$M"
PORT=$(pg_port "$M")
CONN=(-h 127.0.0.1 -p "$PORT" -U postgres)
seg=$(pg_switch "$M")
ok "m archived $seg" pg_wait_archived "$M" "$seg" 30
ok "a base backup of m" pg_base_backup "$M" "$T/base"
ok "s: a warm standby restoring with pitr-restore -l" pg_standby_new "$T/base" "$S" warm \
	"$PR -l $RLOG -s $A %f %p"
ok "s starts" pg_start "$S"
wait_for "s's pitr-restore waits for the next segment" 30 restore_waiting
it_run as_pg "$PB" "${CONN[@]}" -sx -dl "$T/bk" -l "$BLOG"
is "pitr-backup-master -l: exit 0" "$IT_RC" 0

# --- each check, plain --------------------------------------------------
for c in last-archive-age last-restore-age last-backup-age current-restore-time; do
	v1=$(check_value "$c")
	ok "$c: a number ($v1)" is_number "$v1"
	ok "$c: above 0 (it has happened)" gt "$v1" 0
	v2=$(check_value "$c")
	ok "$c: advances between calls ($v1 then $v2)" gt "$v2" "$v1"
done
is "current-archive-time: 0 while archiving works" "$(check_value current-archive-time)" 0
mon -c archive-queue "${CONN[@]}"
is "archive-queue: exit 0" "$IT_RC" 0
is "archive-queue: 0 while archiving works" "$IT_OUT" 0
mon -c errors
is "errors: none yet" "$IT_OUT" ""
mon -c dump-state
like "dump-state: the archive log is in the state" "$IT_OUT" "file	[0-9]+	[0-9.]+	[0-9]+	[0-9]+	$L/archive-"
like "dump-state: the restore log is in the state" "$IT_OUT" "file	[0-9]+	[0-9.]+	[0-9]+	[0-9]+	$L/restore-"
like "dump-state: the backup log is in the state" "$IT_OUT" "file	[0-9]+	[0-9.]+	[0-9]+	[0-9]+	$L/backup-"

# --- archiving made to fail ----------------------------------------------
chmod 0500 "$A"
pg_switch "$M" >/dev/null
wait_for "archive-queue: above 0 once archiving fails" 30 queue_above 0
wait_for "the archive log has an ERROR line" 30 grep -q ' : pitr-archive : ERROR : ' "$L"/archive-*.log
mon -c errors
is "errors: exit 0" "$IT_RC" 0
like "errors: the failure, as OmniPITR printed it" "$IT_OUT" \
	'^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\.[0-9]{6} : [0-9]+ : ERROR : '
mon -c errors
is "errors: not again on the next call (-s)" "$IT_OUT" ""
mon -c errors --from 3600
like "errors --from 3600: the failure again" "$IT_OUT" ' : ERROR : '
v=$(check_value current-archive-time)
ok "current-archive-time: above 0 while archiving fails ($v)" gt "$v" 0

# --- Nagios --------------------------------------------------------------
mon -c last-archive-age --warning 100000 --critical 200000
is "Nagios OK: exit 0" "$IT_RC" 0
like "Nagios OK: the status line" "$IT_OUT" \
	'^PITR-MONITOR OK - last-archive-age [0-9]+ \| last_archive_age=[0-9.]+s;100000;200000$'
mon -c last-archive-age --warning 0 --critical 200000
is "Nagios WARNING: exit 1" "$IT_RC" 1
like "Nagios WARNING: the status line" "$IT_OUT" '^PITR-MONITOR WARNING - last-archive-age [0-9]+ \| '
mon -c archive-queue "${CONN[@]}" --warning 0 --critical 0
is "Nagios CRITICAL: exit 2" "$IT_RC" 2
like "Nagios CRITICAL: the status line" "$IT_OUT" \
	'^PITR-MONITOR CRITICAL - archive-queue [0-9]+ \| archive_queue=[0-9]+;0;0$'
mon -c archive-queue -h 127.0.0.1 -p "$(free_port)" -U postgres --warning 0 --critical 0
is "Nagios UNKNOWN (no server): exit 3" "$IT_RC" 3
like "Nagios UNKNOWN: the status line says why" "$IT_OUT" '^PITR-MONITOR UNKNOWN - could not connect'

# --- Prometheus and JSON -------------------------------------------------
mkdir -p "$T/metrics"
mon --format prometheus --output "$T/metrics/pitrkit.prom" "${CONN[@]}"
is "prometheus --output: exit 0" "$IT_RC" 0
is "prometheus --output: nothing on stdout" "$IT_OUT" ""
it_run "$PY" -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
v = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        v[s.name] = s.value
for name in sorted(v):
    print(name, v[name])
' "$T/metrics/pitrkit.prom"
is "the Prometheus parser accepts the file" "$IT_RC" 0
parsed=$IT_OUT
# metric NAME: its value as the parser read it.
metric()
{
	printf '%s\n' "$parsed" | awk -v n="$1" '$1 == n { print $2 }'
}
for m in last_archive_age_seconds current_archive_time_seconds last_restore_age_seconds \
	current_restore_time_seconds last_backup_age_seconds archive_queue_segments log_errors_total; do
	ok "prometheus: pitrkit_$m above 0 ($(metric "pitrkit_$m"))" gt "$(metric "pitrkit_$m")" 0
done
ok "prometheus: no temporary file left" eval "[ \$(ls -A '$T/metrics' | wc -l) = 1 ]"
mon --format json "${CONN[@]}"
it_run "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
print(d["archive_queue"] > 0, d["last_backup_age"] > 0, len(d["errors"]) > 0)
' <<<"$IT_OUT"
is "json: read by python3, queue, backup age and errors there" "$IT_OUT" "True True True"

# --- -l names logs to read, never pitr-monitor's own ----------------------
mon -c last-archive-age --no-such-option
is "an option error: exit 1" "$IT_RC" 1
like "an option error: on stderr" "$IT_ERR" ' : pitr-monitor : ERROR : .*no-such-option'
nok "no pitr-monitor line in the logs it reads" grep -q ' : pitr-monitor : ' "$L"/*.log

# --- archiving works again -----------------------------------------------
chmod 0700 "$A"
seg=$(pg_switch "$M")
ok "m archives again ($seg)" pg_wait_archived "$M" "$seg" 60
is "current-archive-time: 0 again once archiving works" "$(check_value current-archive-time)" 0
wait_for "archive-queue: 0 again" 30 eval '[ "$(check_value archive-queue "${CONN[@]}")" = 0 ]'

pg_stop "$S" immediate
pg_stop "$M"
it_done
