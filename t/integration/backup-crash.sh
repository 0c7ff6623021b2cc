#!/bin/bash
# backup-crash.sh - pitr-backup-master killed (SIGKILL, by strace's fault
# injection) just before each rename(2) of a run in turn: the -x dir into
# place, the -x dir away, then the data, xlog, digest and meta files into
# their final names.  After each kill no backup session stays open on the
# server, pitr-verify reports the files left without meta as orphans, and
# the same command line then succeeds, leaving no file without its meta.
# A -x dir without an owner file (made by hand, or -x naming the WAL
# archive) is refused and left untouched; a second backup the same day fails at once with the ^H^M hint.
# OmniPITR's backups (no meta file, no journal) survive a backup and a
# cleanup (issue 11).  A
# backup of a promoted server (timeline 2) carries 00000002.history: a
# standby made from it by pitr-recover and promoted writes a
# 00000003.history that still names timeline 1.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init backup-crash
it_require strace
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PV=$PITR_BUILDDIR/bin/pitr-verify
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PV" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/bk0" "$T/state"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" -dl "$A" -db "$T/xlogs" -s "$T/state"
ok "p1 starts" pg_start "$P1"
PORT=$(pg_port "$P1")
ok "a table with rows" pg_sql "$P1" "CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 10000) g"

# The default -f template: one name a day.
CMD=("$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dg SHA-256)
RENAMES=rename,renameat,renameat2

no_backup_open()
{
	[ "$(pg_sql "$P1" "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND query ILIKE '%pg_backup_start%'")" = 0 ]
}
# Files at a final name in DIR whose meta file is missing.
without_meta()
{
	local f metas=("$1"/*-meta-*)
	[ -e "${metas[0]}" ] && return 0
	for f in "$1"/*; do
		[ -e "$f" ] && echo "${f##*/}"
	done
}

# How many renames a whole run makes.
it_run as_pg "${PTRACE_ENV[@]}" strace -f -qq -o "$T/renames.log" -e trace=$RENAMES "${CMD[@]}" -dl "gzip=$T/bk0"
is "a traced run exits 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
# strace counts each system call apart: the Nth rename is the Kth call of
# its own name.
mapfile -t STEPS < <(sed -n -E 's/^[0-9]+ +(rename[a-z0-9]*)\(.*/\1/p' "$T/renames.log" |
	awk '{ n[$1]++; print $1 ":" n[$1] }')
N=${#STEPS[@]}
is "a run makes 7 renames (-x in, -x away, data, xlog, sig, SHA-256, meta)" "$N" 7
diag "renames: $(grep -o -E '"[^"]*", [^"]*"[^"]*"' "$T/renames.log" | sed "s|$T/||g" | tr '\n' ';')"

for ((i = 1; i <= N; i++)); do
	step=${STEPS[i - 1]}
	it_run as_pg "${PTRACE_ENV[@]}" strace -f -qq -o /dev/null -e trace=$RENAMES \
		-e inject="${step%:*}:signal=SIGKILL:when=${step#*:}" "${CMD[@]}" -dl "gzip=$BK"
	nok "killed before rename $i: exit status not 0" test "$IT_RC" -eq 0
	wait_for "killed before rename $i: no backup session left open on the server" 30 no_backup_open
	left=$(without_meta "$BK")
	if [ -n "$left" ]; then
		it_run "$PV" -b "$BK" -a "$A"
		like "killed before rename $i: pitr-verify reports the orphans (${left//$'\n'/ })" "$IT_OUT" \
			"orphan backup files without meta in \"$BK\": .*left by an interrupted backup"
		is "killed before rename $i: pitr-verify exits 1" "$IT_RC" 1
	fi
	it_run as_pg "${CMD[@]}" -dl "gzip=$BK"
	is "killed before rename $i: the same command line then succeeds" "$IT_RC" 0
	[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
	[ -n "$left" ] && like "killed before rename $i: the orphans were removed, logged" "$IT_ERR" \
		"an orphan without meta file left by an interrupted backup"
	is "killed before rename $i: the five files of one backup, nothing else" \
		"$(find "$BK" -mindepth 1 -printf '%f\n' | LC_ALL=C sort | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}/DAY/' | tr '\n' ' ')" \
		"$(hostname)-SHA-256-DAY.tar.gz $(hostname)-data-DAY.tar.gz $(hostname)-meta-DAY.tar.gz $(hostname)-sig-DAY.tar.gz $(hostname)-xlog-DAY.tar.gz "
	is "killed before rename $i: no file without meta" "$(without_meta "$BK")" ""
	nok "killed before rename $i: no -x dir left" bash -c "ls -d $T/xlogs* 2>/dev/null | grep -q ."
	it_run "$PV" -b "$BK" -a "$A"
	like "killed before rename $i: pitr-verify finds one backup, no problem" "$IT_OUT" \
		'^1 backups, [0-9]+ segments checked, 0 problems$'
	if [ "$i" -lt "$N" ]; then
		rm -f "$BK"/*
	fi
done

# --- a second backup the same day ---------------------------------------------
it_run as_pg "${CMD[@]}" -dl "gzip=$BK"
is "a second backup the same day: exit 1" "$IT_RC" 1
like "... at once, with the hint" "$IT_ERR" \
	"ERROR : backup file \"$BK/$(hostname)-data-[0-9-]+\.tar\.gz\" exists already: .*add \^H\^M to -f for more than one a day"
is "... one line" "$(grep -c ' : ' <<<"$IT_ERR")" 1
unlike "... before pg_backup_start" "$IT_ERR" "started at"
is "... the backup there is untouched" "$(find "$BK" -mindepth 1 | wc -l)" 5

# --- an installation switching from OmniPITR ----------------------------------
# OmniPITR's backups (data, xlog, MD5 digest, never a meta file), of this
# host and of another, old and of yesterday, under the default template:
# no pitrkit run's journal names them, so neither pitr-backup-master nor
# pitr-backup-cleanup (nor its --dry-run) touches or names them.
BO=$T/bko
mkdir_pg "$BO"
H=$(hostname)
OMNI=()
for d in 2020-01-02 "$(date -d yesterday +%Y-%m-%d)"; do
	for h in "$H" otherhost; do
		for t in data xlog MD5; do
			OMNI+=("$h-$t-$d.tar.gz")
			echo "$t" | gzip >"$BO/$h-$t-$d.tar.gz"
		done
	done
done
chown postgres: "$BO"/*
it_run as_pg "${CMD[@]}" -dl "gzip=$BO"
is "OmniPITR's backups beside: the backup succeeds" "$IT_RC" 0
unlike "... and removes none of them" "$IT_ERR" "orphan"
it_run "$PV" -b "$BO" -a "$A"
like "pitr-verify: one line names them, named by no pitrkit run's journal" "$IT_OUT" \
	"backup files without meta in \"$BO\": .*named by no pitrkit run's journal \\(OmniPITR's\\? a remote run's\\?\\)"
# An archive of its own: p1's WAL stays for what follows.
mkdir_pg "$T/arch-omni"
it_run as_pg "$PITR_BUILDDIR/bin/pitr-backup-cleanup" -a "$T/arch-omni" -b "$BO" -d
is "pitr-backup-cleanup --dry-run: exit 0" "$IT_RC" 0
unlike "... names none of them" "$IT_ERR$IT_OUT" "orphan"
it_run as_pg "$PITR_BUILDDIR/bin/pitr-backup-cleanup" -a "$T/arch-omni" -b "$BO"
is "pitr-backup-cleanup: exit 0" "$IT_RC" 0
unlike "... removes none of them" "$IT_ERR$IT_OUT" "orphan"
missing=""
for f in "${OMNI[@]}"; do
	[ -e "$BO/$f" ] || missing+=" $f"
done
is "OmniPITR's 12 files are all still there" "$missing" ""
is "... and no journal is left" "$(find "$BO" -name '.pitr-journal.*' | wc -l)" 0

# --- a -x dir without an owner file ------------------------------------------
mkdir_pg "$T/xlogs"
as_pg touch "$T/xlogs/000000010000000000000001"  # e.g. -x naming the WAL archive
it_run as_pg "${CMD[@]}" -dl "gzip=$T/bk0" -f "x-__FILETYPE__.tar__CEXT__"
is "a -x dir no pitrkit run made: exit 1" "$IT_RC" 1
like "... refused, with the hint" "$IT_ERR" \
	"ERROR : --xlogs dir \"$T/xlogs\" already exists and holds no owner file \(\.pitr-backup\.pid\) naming a backup: remove it if no backup is running"
is "... one line" "$(grep -c ' : ' <<<"$IT_ERR")" 1
ok "... its files untouched" test -e "$T/xlogs/000000010000000000000001"
nok "... nothing of the run left next to it" bash -c "ls -d $T/xlogs.* 2>/dev/null | grep -q ."
rm -r "$T/xlogs"

# --- timeline history in the backup ----------------------------------------------
S=$T/s
ok "a base backup of p1" pg_base_backup "$P1" "$T/base"
pg_standby_new "$T/base" "$S" standby "cp \"$A/%f\" \"%p\"" "archive_mode = on" \
	"archive_command = '$PA -dl $T/arch2 -db $T/xlogs2 -s $T/state2 \"%p\"'"
mkdir_pg "$T/arch2" "$T/state2" "$T/bk2"
ok "standby s starts" pg_start "$S"
ok "s is promoted to timeline 2" as_pg "$PGBIN/pg_ctl" -D "$S" promote -w
wait_for "s is a primary" 60 pg_promoted "$S"
pg_stop "$P1"
ok "rows on timeline 2" pg_sql "$S" "INSERT INTO t SELECT generate_series(10001, 10100)"
it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$S")" -U postgres -x "$T/xlogs2" -dl "gzip=$T/bk2"
is "backup of s on timeline 2: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "the data tarball holds s/pg_wal/00000002.history" \
	"$(tar -tzf "$T"/bk2/*-data-*.tar.gz)" '(^|'$'\n'')s/pg_wal/00000002\.history('$'\n''|$)'
pg_stop "$S"
mkdir_pg "$T/n"
port=$(pg_adopt "$T/n/data")
it_run as_pg "$PR" -b "$T/bk2" -a "$T/arch2" -D "$T/n/data" --standby --start --port "$port" --wait 120
is "pitr-recover --standby from the timeline 2 backup: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
ok "the copy's pg_wal holds 00000002.history" test -s "$T/n/data/pg_wal/00000002.history"
ok "the copy runs as a standby" pg_in_recovery "$T/n/data"
ok "the copy is promoted" as_pg "$PGBIN/pg_ctl" -D "$T/n/data" promote -w
wait_for "the copy is a primary" 60 pg_promoted "$T/n/data"
H3=$(cat "$T/n/data/pg_wal/00000003.history" 2>&1)
like "its 00000003.history names timeline 1" "$H3" '^1'$'\t''[0-9A-F]+/[0-9A-F]+'$'\t'
like "its 00000003.history names timeline 2" "$H3" $'\n''2'$'\t''[0-9A-F]+/[0-9A-F]+'$'\t'
is "the copy's rows" "$(pg_sql "$T/n/data" "SELECT count(*) FROM t")" 10100
pg_stop "$T/n/data"

it_done
