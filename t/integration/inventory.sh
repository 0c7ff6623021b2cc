#!/bin/bash
# inventory.sh - pitr-info, pitr-verify and pitr-backup-cleanup over what a
# real PostgreSQL 15 primary archived through pitr-archive and backed up
# with pitr-backup-master: the inventory lists the backups and the WAL,
# verification passes on the real thing and names every injected fault
# (a gap, a truncated file, a segment whose header lies, a tarball whose
# digest no longer matches), and retention removes exactly what its dry
# run listed, never the newest backup, and leaves a backup that recovers.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init inventory
it_require python3
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PI=$PITR_BUILDDIR/bin/pitr-info
PV=$PITR_BUILDDIR/bin/pitr-verify
PC=$PITR_BUILDDIR/bin/pitr-backup-cleanup
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PI" "$PV" "$PC" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state" "$T/log"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" -dl "gzip=$A" -db "$T/xlogs" -s "$T/state"
ok "p1 starts" pg_start "$P1"
PORT=$(pg_port "$P1")

# backup N: a backup named by the second it starts, SHA-256 digests.
backup()
{
	sleep 1.1  # one name per second
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" -dg SHA-256 \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" -l "$T/log/backup.log"
}
rows() { pg_sql "$P1" "INSERT INTO t SELECT generate_series($1, $2)"; }

ok "table t, rows 1..1000" pg_sql "$P1" "CREATE TABLE t (id int)" "INSERT INTO t SELECT generate_series(1, 1000)"
ok "backup 1" backup
ok "rows 1001..2000" rows 1001 2000
ok "backup 2" backup
ok "rows 2001..3000" rows 2001 3000
ok "backup 3" backup
ok "rows 3001..4000" rows 3001 4000
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60
ok "p1 stops" pg_stop "$P1"
mapfile -t METAS < <(cd "$BK" && ls bk-meta-*.tar.gz)
is "three meta files" "${#METAS[@]}" 3
meta() { gzip -dc "$BK/$1" | sed -n "s/^$2=//p"; }

# ============================================================================
# pitr-info
# ============================================================================
it_run "$PI" -b "$BK" -a "$A" --json
is "pitr-info --json: exit 0" "$IT_RC" 0
printf '%s' "$IT_OUT" >"$T/info.json"
ok "pitr-info --json: the output is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/info.json"
# One line per backup: name start_wal stop_wal timeline, sorted by start.
got=$(python3 - "$T/info.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["backups"]:
    print(b["name"], b["start_wal"], b["stop_wal"], b["timeline"])
PY
)
want=""
for m in "${METAS[@]}"; do
	want+="${m/meta/*} $(meta "$m" start_wal) $(meta "$m" stop_wal) 1"$'\n'
done
is "pitr-info --json lists the three backups, oldest first, with the meta's WAL" "$got" "${want%$'\n'}"
got=$(python3 - "$T/info.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for tl in d["timelines"]:
    print(tl["timeline"], tl["last"], len(tl["gaps"]))
print(len(d["problems"]))
PY
)
is "pitr-info --json: timeline 1 ends at $last, no gap, no problem" "$got" "1 $last 0"$'\n'"0"
it_run "$PI" -b "$BK" -a "$A"
is "pitr-info (text): exit 0" "$IT_RC" 0
for m in "${METAS[@]}"; do
	like "pitr-info (text) names ${m/meta/*}" "$IT_OUT" "${m/meta/\\*}"
done
like "pitr-info (text) shows the last segment" "$IT_OUT" "$last"

# Stored sizes, version and source (issue 11): each backup's stored size is
# its five files' (data, xlog, sig, meta, digest) bytes on disk, compressed; the
# timeline's and the archive's are their archived files' bytes.
got=$(python3 - "$T/info.json" "$BK" "$A" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
bk, arch = sys.argv[2], sys.argv[3]
for b in d["backups"]:
    files = [b["meta_file"], b["data_file"], b["xlog_file"], b["meta_file"].replace("meta", "sig", 1)] + \
        [g["file"] for g in b["digests"]]
    print(b["stored_size"] == sum(os.path.getsize(os.path.join(bk, f)) for f in files),
          b["stored_size"] > 0, len(files), b["pg_version"], b["source"])
wal = sum(os.path.getsize(os.path.join(arch, f)) for f in os.listdir(arch) if f.startswith("00000001"))
tl = d["timelines"][0]
print(tl["stored_size"] == wal, d["archive_stored_size"] == wal, wal > 0)
print(d["in_progress"], d["orphans"])
PY
)
is "pitr-info --json: stored size = the files' sizes, PostgreSQL 15, from a primary" "$got" \
	"True True 5 15 primary"$'\n'"True True 5 15 primary"$'\n'"True True 5 15 primary"$'\n'"True True True"$'\n'"[] []"
it_run "$PI" -b "$BK" -a "$A"
like "pitr-info (text): version and source of each backup" "$IT_OUT" \
	$'\n    version:      PostgreSQL 15\n    source:       primary \\(pitr-backup-master\\)\n'
like "pitr-info (text): stored size of each backup" "$IT_OUT" $'\n    stored:       [0-9.]+ [KM]i?B \\([0-9]+ bytes on disk\\)\n'
like "pitr-info (text): stored size of the timeline" "$IT_OUT" "  timeline 1: .*, 0 gaps, [0-9.]+ [KM]iB stored"

# A backup in progress (a live run's locked temporary file; flock(1) holds
# it as pitr-backup-master does while pitr-info runs) and an orphan (a
# data tarball without meta), in a copy of the backup dir.
BI=$T/bk-inv
cp -a "$BK" "$BI"
cp "$BI/${METAS[2]/meta/data}" "$BI/bk-data-20990101-000000.tar.gz"
tmp=.pitr-tmp.bk-data-20990102-000000.tar.gz.000000
printf 'partial data' >"$BI/$tmp"
it_run flock -x "$BI/$tmp" "$PI" -b "$BI" -a "$A" --json
is "pitr-info --json with a backup in progress: exit 0" "$IT_RC" 0
printf '%s' "$IT_OUT" >"$T/inv.json"
got=$(python3 - "$T/inv.json" "$BI" <<'PY'
import json, os, sys
d = json.load(open(sys.argv[1]))
p = d["in_progress"]
print(len(p), p[0]["name"], p[0]["backup_dir"] == sys.argv[2], p[0]["files"], p[0]["bytes"])
o = d["orphans"]
print(len(o), o[0]["file"], o[0]["size"] == os.path.getsize(os.path.join(sys.argv[2], o[0]["file"])))
print(len(d["backups"]))
PY
)
is "pitr-info --json: the backup in progress and the orphan, with their sizes" "$got" \
	"1 bk-*-20990102-000000.tar True ['$tmp'] 12"$'\n'"1 bk-data-20990101-000000.tar.gz True"$'\n'"3"
it_run flock -x "$BI/$tmp" "$PI" -b "$BI"
like "pitr-info (text): the backup in progress" "$IT_OUT" \
	$'\nBackups in progress: 1\n  bk-\\*-20990102-000000.tar in '"$BI"$': 1 file at temporary names, 12 B written so far\n'
like "pitr-info (text): the orphaned file" "$IT_OUT" \
	$'\nOrphaned files: 1\n  '"$BI"'/bk-data-20990101-000000.tar.gz \('
it_run "$PI" -b "$BI"
like "pitr-info (text): no run holds it: no backup in progress, a problem" "$IT_OUT" \
	$'\nBackups in progress: 0\n.*temporary file "'"$BI/$tmp"'": 12 bytes left by an interrupted run'

# ============================================================================
# pitr-verify
# ============================================================================
it_run "$PV" -b "$BK" -a "$A"
is "pitr-verify on the real archive and backups: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_OUT" "$IT_ERR"

cp -a "$A" "$T/arch2"
cp -a "$BK" "$T/bk2"
A2=$T/arch2
B2=$T/bk2
start2=$(meta "${METAS[1]}" start_wal)
gap=$(meta "${METAS[0]}" stop_wal)
# a gap right after backup 1, needed by backup 1 only
next=$(printf '%s%08X' "${gap:0:16}" $((16#${gap:16:8} + 1)))
rm "$A2/$next.gz"
# a truncated segment: the last one
head -c 2000 "$A/$last.gz" >"$A2/$last.gz"
# a segment whose header names another position (bytes 8..15: page address)
lie=$(printf '%s%08X' "${start2:0:16}" $((16#${start2:16:8} + 1)))
gzip -dc "$A/$lie.gz" >"$T/lie"
printf '\x42' | dd of="$T/lie" bs=1 seek=12 conv=notrunc status=none
gzip -c "$T/lie" >"$A2/$lie.gz"
# a data tarball with one byte changed
data2=${METAS[1]/meta/data}
flip_byte "$B2/$data2"
it_run "$PV" -b "$B2" -a "$A2"
is "pitr-verify with four faults: exit 1" "$IT_RC" 1
like "pitr-verify names the missing segment $next" "$IT_OUT" \
	"PROBLEM: archive \"$A2\": segment $next is missing"
like "pitr-verify names the truncated $last.gz" "$IT_OUT" \
	"PROBLEM: archive file \"$A2/$last.gz\": not a complete gzip stream"
like "pitr-verify names $lie.gz, whose header lies" "$IT_OUT" \
	"PROBLEM: archive file \"$A2/$lie.gz\": bad WAL header"
like "pitr-verify names the changed data tarball $data2" "$IT_OUT" \
	"PROBLEM: backup file \"$B2/$data2\": SHA-256 is [0-9a-f]{64}, its digest file says [0-9a-f]{64}"
b1=${METAS[0]/meta/*}
like "pitr-verify says backup 1 needs $next" "$IT_OUT" \
	"PROBLEM: archive \"$A2\": first missing segment $next needed by backup ${b1//\*/\\*}"
is "pitr-verify: five problem lines (the gap is one in the timeline and one on backup 1's path)" \
	"$(grep -c '^PROBLEM: ' <<<"$IT_OUT")" 5
like "pitr-verify closes with its summary" "$IT_OUT" $'\n3 backups, [0-9]+ segments checked, 5 problems$'
unlike "pitr-verify does not accuse the good tarballs" "$IT_OUT" "${METAS[2]/meta/data}"
text_lines=$(sed -n 's/^PROBLEM: //p' <<<"$IT_OUT" | sort)
it_run "$PV" -b "$B2" -a "$A2" --json
is "pitr-verify --json with four faults: exit 1, as without" "$IT_RC" 1
printf '%s' "$IT_OUT" >"$T/verify.json"
got=$(python3 - "$T/verify.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["backup_dir", "archives", "ok", "summary", "checks", "problems"], list(d)
assert all(list(c) == ["id", "check", "target", "method", "segments", "ok", "problems"] for c in d["checks"])
assert all(list(p) == ["check", "kind", "path", "reason", "line"] for p in d["problems"])
assert all(c["ok"] == (c["problems"] == 0) for c in d["checks"])
assert sum(c["problems"] for c in d["checks"]) == len(d["problems"])
print(d["ok"], d["summary"]["backups"], d["summary"]["problems"], len(d["problems"]))
print(sorted(set(d["checks"][p["check"]]["check"] for p in d["problems"])))
print(sorted(c["method"] for c in d["checks"] if c["check"] == "backup"))
PY
)
is "pitr-verify --json: the documented keys, 3 backups, 5 problems and the checks that found them" "$got" \
	"False 3 5 5"$'\n'"['archive files', 'archive gaps', 'backup']"$'\n'"['digests', 'digests', 'digests']"
is "pitr-verify --json: its problem lines are the text's" \
	"$(python3 -c 'import json,sys; [print(p["line"]) for p in json.load(open(sys.argv[1]))["problems"]]' "$T/verify.json" | sort)" \
	"$text_lines"

# ============================================================================
# pitr-backup-cleanup
# ============================================================================
# Make backup 1 ten days old and backup 2 eight days old.
age()
{
	local m=$1 days=$2 text s e
	text=$(gzip -dc "$BK/$m")
	s=$(($(meta "$m" start_epoch) - days * 86400))
	e=$(($(meta "$m" stop_epoch) - days * 86400))
	text=$(printf '%s\n' "$text" | sed -e "s/^start_epoch=.*/start_epoch=$s/" -e "s/^stop_epoch=.*/stop_epoch=$e/" \
		-e "s/^start_time=.*/start_time=$(date -d "@$s" '+%Y-%m-%d %H:%M:%S %z')/" \
		-e "s/^stop_time=.*/stop_time=$(date -d "@$e" '+%Y-%m-%d %H:%M:%S %z')/")
	printf '%s\n' "$text" | gzip -c >"$BK/$m"
}
ok "backup 1 made 10 days old" age "${METAS[0]}" 10
ok "backup 2 made 8 days old" age "${METAS[1]}" 8
before_files=$(cd "$BK" && ls; cd "$A" && ls)
keep_start=$(meta "${METAS[2]}" start_wal)

# Beside each backup of dir $1, its plain copy, as a run with -dl given
# twice (gzip=DIR and DIR) writes it: one backup run, two copies.
plain_copies()
{
	local m s
	for m in "$1"/bk-meta-*.tar.gz; do
		s=${m##*/bk-meta-}
		s=${s%.tar.gz}
		gzip -dc "$m" >"$1/bk-meta-$s.tar" &&
		gzip -dc "$1/bk-data-$s.tar.gz" >"$1/bk-data-$s.tar" &&
		gzip -dc "$1/bk-xlog-$s.tar.gz" >"$1/bk-xlog-$s.tar" &&
		gzip -dc "$1/bk-sig-$s.tar.gz" >"$1/bk-sig-$s.tar" &&
		sed 's/\.tar\.gz$/.tar/' "$1/bk-SHA-256-$s.tar.gz" >"$1/bk-SHA-256-$s.tar" || return 1
	done
}

# --keep-count (issue 11), on copies of the dirs where every backup run
# also has a plain copy (the count is of runs, and a run's copies stay or
# go together): alone, the 2 newest stay although backup 2 is 8 days old;
# with -k 9 and a count of 1, backup 2 stays by its age and backup 3 by
# the count; the dry runs list what the real runs remove.
for rules in "--keep-count 2" "-k 9 --keep-count 1"; do
	rm -rf "$T/bkc" "$T/ac"
	cp -a "$BK" "$T/bkc"
	cp -a "$A" "$T/ac"
	ok "every backup run also has a plain copy" plain_copies "$T/bkc"
	# shellcheck disable=SC2086
	it_run "$PC" -a "gzip=$T/ac" -b "$T/bkc" $rules -d
	is "cleanup $rules --dry-run: exit 0" "$IT_RC" 0
	cdry=$(printf '%s\n' "$IT_OUT$IT_ERR" | sed -n 's/.*(dry-run) Removing [a-z]* file: //p' | sort)
	# shellcheck disable=SC2086
	it_run "$PC" -a "gzip=$T/ac" -b "$T/bkc" $rules
	is "cleanup $rules: exit 0" "$IT_RC" 0
	creal=$(printf '%s\n' "$IT_OUT$IT_ERR" | sed -n 's/.* : Removing [a-z]* file: //p' | sort)
	is "cleanup $rules removed exactly what its dry run listed" "$creal" "$cdry"
	is "cleanup $rules: backup 1 is gone, backups 2 and 3 stay, both copies" \
		"$(cd "$T/bkc" && ls bk-*-* | LC_ALL=C sort)" "$(for s in "${METAS[1]}" "${METAS[2]}"; do
			s=${s#bk-meta-}; for t in SHA-256 data meta sig xlog; do
			echo "bk-$t-${s%.gz}"; echo "bk-$t-$s"; done; done | LC_ALL=C sort)"
	ok "cleanup $rules: backup 2's start segment stays" test -f "$T/ac/$start2.gz"
	ok "cleanup $rules: the segment before it goes" test ! -e "$T/ac/$(printf '%s%08X' "${start2:0:16}" $((16#${start2:16:8} - 1))).gz"
done
it_run "$PC" -a "gzip=$A" -b "$BK" --keep-count 3 -d
is "cleanup --keep-count 3 --dry-run keeps all three: no backup file listed" \
	"$(printf '%s\n' "$IT_OUT$IT_ERR" | grep -c 'Removing backup file')" 0

it_run "$PC" -a "gzip=$A" -b "$BK" -k 7 -d -v
is "cleanup --dry-run: exit 0" "$IT_RC" 0
dry=$(printf '%s\n' "$IT_OUT$IT_ERR" | sed -n 's/.*(dry-run) Removing [a-z]* file: //p' | sort)
is "cleanup --dry-run removed nothing" "$(cd "$BK" && ls; cd "$A" && ls)" "$before_files"
it_run "$PC" -a "gzip=$A" -b "$BK" -k 7 -v
is "cleanup: exit 0" "$IT_RC" 0
real=$(printf '%s\n' "$IT_OUT$IT_ERR" | sed -n 's/.* : Removing [a-z]* file: //p' | sort)
like "cleanup removed files" "$real" .
is "cleanup removed exactly what its dry run listed" "$real" "$dry"
stamp3=${METAS[2]#bk-meta-}
stamp3=${stamp3%.tar.gz}
is "backups 1 and 2 are gone, backup 3 (data, xlog, sig, meta, digest) stays" "$(cd "$BK" && ls)" \
	"$(cd "$T/bk2" && ls | grep -F -- "-$stamp3.")"
is "backup 3 has five files" "$(cd "$BK" && ls | wc -l)" 5
old=$(cd "$A" && ls | grep -E '^[0-9A-F]{24}' | awk -v k="$keep_start" 'substr($0, 9, 16) < substr(k, 9, 16)')
is "no segment older than backup 3's start ($keep_start) is left" "$old" ""
ok "backup 3's start segment is still archived" test -f "$A/$keep_start.gz"
ok "the last segment is still archived" test -f "$A/$last.gz"
it_run "$PV" -b "$BK" -a "$A"
is "pitr-verify after cleanup: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_OUT" "$IT_ERR"

R=$T/r
mkdir_pg "$T/rp"
RPORT=$(pg_adopt "$T/rp/r")
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/rp/r" --target-action promote --start --port "$RPORT" \
	--pitr-restore "$PITR_BUILDDIR/bin/pitr-restore"
is "the kept backup recovers to the end of the archive: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_OUT" "$IT_ERR"
is "the recovered cluster holds all 4000 rows" "$(pg_sql "$T/rp/r" "SELECT count(*) FROM t")" 4000
pg_stop "$T/rp/r" >/dev/null 2>&1

ok "backup 3 made 30 days old too" age "${METAS[2]}" 30
it_run "$PC" -a "gzip=$A" -b "$BK" -k 1
is "cleanup with every backup old: exit 0" "$IT_RC" 0
ok "the newest backup is never removed" test -f "$BK/${METAS[2]}"
ok "... nor its data tarball" test -f "$BK/${METAS[2]/meta/data}"

# Crafted names and a .gz meta file that is not gzip: each problem is one
# line, control bytes escaped, nothing besides on stderr.
CR=$T/crafted
mkdir -p "$CR"
printf 'not gzip\n' > "$CR/db-meta-1.tar.gz"
printf 'd' > "$CR/db-data-1.tar.gz"
printf 'hello\n' > "$CR/x"$'\n'"Problems: 0-meta-2.tar"
printf 'd' > "$CR/x"$'\n'"Problems: 0-data-2.tar"
it_run "$PI" -b "$CR"
is "pitr-info, crafted names: exit 0" "$IT_RC" 0
is "pitr-info, crafted names: nothing on stderr" "$IT_ERR" ""
is "pitr-info, crafted names: one Problems line" "$(grep -c '^Problems:' <<<"$IT_OUT")" 1
like "pitr-info, crafted names: the .gz that is not gzip, in one line" "$IT_OUT" \
	"  meta file \"$CR/db-meta-1.tar.gz\": cannot read it as gzip: corrupt: incorrect header check"
like "pitr-info, crafted names: the newline shown as \\n" "$IT_OUT" \
	"  meta file \"$CR/x\\\\nProblems: 0-meta-2.tar\": not a pitrkit meta file"
it_run "$PV" -b "$CR" -a "$A"
is "pitr-verify, crafted names: exit 1" "$IT_RC" 1
is "pitr-verify, crafted names: nothing on stderr" "$IT_ERR" ""
is "pitr-verify, crafted names: two problems, two lines, and the summary" \
	"$(grep -c '^PROBLEM: meta file' <<<"$IT_OUT") $(count_lines "$IT_OUT")" "2 3"

mkdir_pg "$T/empty"
it_run "$PC" -a "gzip=$A" -b "$T/empty" -k 7
is "cleanup without any backup: exit 1" "$IT_RC" 1
ok "... and the archive is untouched" test -f "$A/$keep_start.gz"

it_done
