#!/bin/bash
# archive.sh - pitr-archive as the archive_command of real PostgreSQL 15
# servers: every destination kind and codec, .history/.backup/.partial, an
# rsync outage and its retry, 16 MiB segments, the OmniPITR command line of
# the seed document, and refused bad inputs.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# Helpers here run through ok/wait_for, which shellcheck cannot follow:
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init archive
# rsync for the daemons, the command-line tools to read every codec back.
it_require rsync gzip zstd lz4 bzip2 xz
PA=$PITR_BUILDDIR/bin/pitr-archive
it_need_built "$PA"
ok "pitr-archive runs as the postgres user" as_pg "$PA" --version

# --- helpers --------------------------------------------------------------

# The destinations of the main cluster: directory name, file extension,
# and the standard tool that decompresses it to stdout.
DESTS=(plain gz zst lz4 bz2 xz lzma pipe remote)
LOCAL_DESTS=(plain gz zst lz4 bz2 xz lzma)
declare -A EXT=([plain]="" [gz]=.gz [zst]=.zst [lz4]=.lz4 [bz2]=.bz2 [xz]=.xz
	[lzma]=.lzma [pipe]="" [remote]=.gz)
declare -A UNZIP=([plain]="" [gz]="gzip -dc" [zst]="zstd -qdc" [lz4]="lz4 -qdc"
	[bz2]="bzip2 -dc" [xz]="xz -dc" [lzma]="xz --format=lzma -dc" [pipe]=""
	[remote]="gzip -dc")

# all_present DIR EXT NAME...: every NAME+EXT is a file in DIR.
all_present()
{
	local dir=$1 ext=$2 name missing=0
	shift 2
	for name in "$@"; do
		if [ ! -f "$dir/$name$ext" ]; then
			echo "missing: $dir/$name$ext"
			missing=1
		fi
	done
	return "$missing"
}

# all_equal DIR EXT TOOL REFDIR NAME...: every DIR/NAME+EXT, decompressed
# with TOOL (a word list; empty: as is), has exactly the bytes of
# REFDIR/NAME.
all_equal()
{
	local dir=$1 ext=$2 tool=$3 ref=$4 name bad=0
	local -a cmd
	shift 4
	read -r -a cmd <<<"${tool:-cat}"
	for name in "$@"; do
		if ! "${cmd[@]}" "$dir/$name$ext" | cmp -s - "$ref/$name"; then
			echo "differs from $ref/$name: $dir/$name$ext (${cmd[*]})"
			bad=1
		fi
	done
	return "$bad"
}

# in_all_dests WHAT NAME...: assertions that the main cluster's files NAME
# are in every destination and decompress to the plain copy.
in_all_dests()
{
	local what=$1 d
	shift
	for d in "${DESTS[@]}"; do
		ok "$what: in $d" all_present "$T/$d" "${EXT[$d]}" "$@"
	done
	for d in "${DESTS[@]}"; do
		[ "$d" = plain ] && continue
		ok "$what: $d copies${UNZIP[$d]:+ (${UNZIP[$d]})} equal the plain copy" \
			all_equal "$T/$d" "${EXT[$d]}" "${UNZIP[$d]}" "$T/plain" "$@"
	done
}

# no_temp_files DIR...: no .pitr-tmp.* file is left anywhere below DIRs.
no_temp_files()
{
	local found
	found=$(find "$@" -name '.pitr-tmp.*' 2>&1)
	[ -z "$found" ] || { echo "$found"; return 1; }
}

# done_names DIR: the WAL files the server marked archived (.done).
done_names()
{
	local f
	for f in "$1"/pg_wal/archive_status/*.done; do
		[ -e "$f" ] || continue
		f=${f##*/}
		echo "${f%.done}"
	done
}

# one_file DIR GLOB: print the single file name in DIR matching GLOB.
one_file()
{
	local -a files
	mapfile -t files < <(cd "$1" && compgen -G "$2")
	[ "${#files[@]}" -eq 1 ] || return 1
	echo "${files[0]}"
}

# archiver_failed_more DIR N: pg_stat_archiver.failed_count > N.
archiver_failed_more()
{
	[ "$(pg_archiver "$1" failed_count)" -gt "$2" ]
}

# file_id FILE: inode and modification time, to see whether it was rewritten.
file_id()
{
	stat -c '%i %y' "$1" 2>&1
}

# --- a) every destination kind and codec, under load -----------------------
P1=$T/p1
mkdir_pg "$T/log" "$T/state" "$T/state2" "$T/remote"
for d in "${LOCAL_DESTS[@]}" pipe; do
	mkdir_pg "$T/$d"
done
cat >"$T/pipe.sh" <<EOF
#!/bin/sh
# A --dst-pipe program: stdin to $T/pipe/NAME, published by rename.
cat >"$T/pipe/.in.\$1" && mv "$T/pipe/.in.\$1" "$T/pipe/\$1"
EOF
chmod 755 "$T/pipe.sh"

ok "rsync daemon for the remote destination starts" rsyncd_start remote "$T/remote"
REMOTE_URL=$(rsyncd_url remote)
REMOTE_PORT=$(rsyncd_port remote)

# archive_args STATEDIR: pitr-archive's arguments in the main
# archive_command.
archive_args()
{
	printf '%s' "-D . -l $T/log/^Y-^m-^d.log -s $1" \
		" -dl $T/plain -dl gzip=$T/gz -dl zstd=$T/zst -dl lz4=$T/lz4" \
		" -dl bzip2=$T/bz2 -dl xz=$T/xz -dl lzma=$T/lzma" \
		" -dr gzip=$REMOTE_URL -dp $T/pipe.sh"
}

ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" "$(archive_args "$T/state")"
pg_set "$P1" "wal_keep_size = 128MB"
ok "p1 starts" pg_start "$P1"
is "p1 has 1 MiB segments" "$(pg_sql "$P1" 'SHOW wal_segment_size')" 1MB
ok "pgbench -i -s 2 on p1" pg_bench "$P1" -i -s 2 -q
ok "pgbench -T 5 on p1" pg_bench "$P1" -T 5 -c 2 -j 2
last=$(pg_switch "$P1")
like "pg_switch_wal names a segment" "$last" '^[0-9A-F]{24}$'
ok "p1 archived everything up to $last" pg_wait_archived "$P1" "$last" 180
is "p1: no failed archive_command" "$(pg_archiver "$P1" failed_count)" 0
mapfile -t SEGS < <(done_names "$P1" | grep -E '^[0-9A-F]{24}$' | sort)
like "p1 archived 20 or more segments" "${#SEGS[@]}" '^([2-9][0-9]|[1-9][0-9]{2,})$'
in_all_dests "segments" "${SEGS[@]}"
# The plain copies are the server's own bytes (segments still in pg_wal).
inwal=()
for s in "${SEGS[@]}"; do
	[ -f "$P1/pg_wal/$s" ] && inwal+=("$s")
done
ok "plain copies equal the segments in pg_wal (${#inwal[@]})" \
	all_equal "$T/plain" "" "" "$P1/pg_wal" "${inwal[@]}"
wait_for "state dir is empty after success" 30 empty_dir "$T/state"
# p1 keeps archiving (autovacuum and checkpoints fill 1 MiB segments), so
# an archive in flight may hold its own temporary file for a moment; a
# leaked one never goes away, and that is what these checks catch (the
# state dir likewise holds a record only while an archive is in flight).
wait_for "no .pitr-tmp.* file in any destination" 30 no_temp_files "${DESTS[@]/#/$T/}"
logs=$(ls "$T/log")
like "the log file name follows -l ^Y-^m-^d.log" "$logs" '^[0-9]{4}-[0-9]{2}-[0-9]{2}\.log$'
nok "the log has no ERROR line" grep -h ' : ERROR : ' "$T"/log/*.log

# --- b) .backup, .history and .partial -------------------------------------
P2=$T/p2
ok "pg_basebackup of p1 to p2 (-R, streaming standby)" \
	as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_port "$P1")" -U postgres \
	-D "$P2" -R -X stream -c fast
wait_for "p1 wrote a .backup file" 30 one_file "$P1/pg_wal" '*.backup'
backup=$(one_file "$P1/pg_wal" '*.backup')
like ".backup name" "$backup" '^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$'
ok "p1 archived $backup" pg_wait_archived "$P1" "$backup" 60
in_all_dests ".backup" "$backup"
ok ".backup plain copy equals pg_wal's" cmp "$T/plain/$backup" "$P1/pg_wal/$backup"

# p2 archives into the same destinations once promoted (archive_mode = on:
# a standby does not archive, a promoted one archives the new timeline's
# history file and the old timeline's last segment as .partial).
pg_archiving "$P2" "$(archive_args "$T/state2")"
ok "p2 starts as a streaming standby" pg_start "$P2"
wait_for "p2 streams from p1" 30 pg_streaming "$P2"
pg_sql "$P1" "INSERT INTO it_switch VALUES (clock_timestamp())" >/dev/null
lsn=$(pg_sql "$P1" "SELECT pg_current_wal_insert_lsn()")
wait_for "p2 replayed p1's WAL up to $lsn" 30 pg_replayed "$P2" "$lsn"
ok "p2 is promoted" as_pg "$PGBIN/pg_ctl" -D "$P2" -w -t 60 promote
ok "p2 archived 00000002.history" pg_wait_archived "$P2" 00000002.history 60
wait_for "p2 wrote a .partial segment" 30 one_file "$P2/pg_wal" '*.partial'
partial=$(one_file "$P2/pg_wal" '*.partial')
like ".partial name" "$partial" '^00000001[0-9A-F]{16}\.partial$'
ok "p2 archived $partial" pg_wait_archived "$P2" "$partial" 60
in_all_dests ".history" 00000002.history
in_all_dests ".partial" "$partial"
ok ".history plain copy equals pg_wal's" cmp "$T/plain/00000002.history" "$P2/pg_wal/00000002.history"
ok ".partial plain copy equals pg_wal's" cmp "$T/plain/$partial" "$P2/pg_wal/$partial"
wait_for "p2's state dir is empty" 30 empty_dir "$T/state2"
ok "p2 stops" pg_stop "$P2"

# --- c) the rsync daemon goes away and comes back ---------------------------
# The archiver takes files in order and retries a failing one until it
# succeeds: a segment p1 finished in the background (autovacuum) and had not
# archived yet when the daemon stops would fail in $F's place, and $F would
# never be tried.  So nothing is left waiting first; what remains is the
# instant between this wait and the switch below.
pre=$(pg_switch "$P1")
ok "before the outage p1 archived everything up to $pre" pg_wait_archived "$P1" "$pre" 60
failed_before=$(pg_archiver "$P1" failed_count)
ok "rsync daemon stops" rsyncd_stop remote
F=$(pg_switch "$P1")
wait_for "archiving $F fails while the daemon is down" 30 archiver_failed_more "$P1" "$failed_before"
is "pg_stat_archiver.last_failed_wal is $F" "$(pg_archiver "$P1" last_failed_wal)" "$F"
ok "the log has an ERROR line naming the remote destination" \
	grep -q " : ERROR : .*rsync://127\.0\.0\.1:$REMOTE_PORT/remote" "$T"/log/*.log
for d in "${LOCAL_DESTS[@]}"; do
	ok "during the outage: $F is in $d" all_present "$T/$d" "${EXT[$d]}" "$F"
done
ok "during the outage: $F is not at the remote" test ! -e "$T/remote/$F.gz"
ok "during the outage: the state dir holds $F.pitr-state" test -f "$T/state/$F.pitr-state"
declare -A ID_BEFORE
for d in "${LOCAL_DESTS[@]}"; do
	ID_BEFORE[$d]=$(file_id "$T/$d/$F${EXT[$d]}")
done
pipe_had=0
if [ -f "$T/pipe/$F" ]; then
	pipe_had=1
	ID_BEFORE[pipe]=$(file_id "$T/pipe/$F")
fi
# Let PostgreSQL retry a few times against the closed port.
wait_for "archiving $F failed at least twice more" 30 archiver_failed_more "$P1" "$((failed_before + 2))"
ok "rsync daemon restarts" rsyncd_start remote "$T/remote"
is "on the same port" "$(rsyncd_url remote)" "$REMOTE_URL"
pg_sql "$P1" "SELECT pg_reload_conf()" >/dev/null # wakes the archiver up
wait_for "after the restart $F reaches the remote" 90 test -f "$T/remote/$F.gz"
ok "p1 archived $F" pg_wait_archived "$P1" "$F" 30
ok "the remote copy of $F equals the plain copy" all_equal "$T/remote" .gz "gzip -dc" "$T/plain" "$F"
wait_for "the state dir is empty again" 30 empty_dir "$T/state"
for d in "${LOCAL_DESTS[@]}"; do
	is "$d/$F${EXT[$d]} was not rewritten by the retry" "$(file_id "$T/$d/$F${EXT[$d]}")" "${ID_BEFORE[$d]}"
done
if [ "$pipe_had" = 1 ]; then
	is "the pipe program was not run again for $F" "$(file_id "$T/pipe/$F")" "${ID_BEFORE[pipe]}"
else
	ok "the pipe destination got $F after the restart" test -f "$T/pipe/$F"
fi
wait_for "no .pitr-tmp.* file in any destination" 30 no_temp_files "${DESTS[@]/#/$T/}"
wait_for "no rsync temporary file at the remote" 30 no_hidden_files "$T/remote"

# --- d) 16 MiB segments ---------------------------------------------------
P3=$T/p3
mkdir_pg "$T/d" "$T/d/state" "$T/d/plain" "$T/d/gz"
ok "initdb p3 (16 MiB segments)" pg_new "$P3"
pg_archiving "$P3" -s "$T/d/state" -dl "gzip=$T/d/gz" -dl "$T/d/plain"
ok "p3 starts" pg_start "$P3"
is "p3 has 16 MiB segments" "$(pg_sql "$P3" 'SHOW wal_segment_size')" 16MB
s16=$(pg_switch "$P3")
ok "p3 archived $s16" pg_wait_archived "$P3" "$s16" 60
is "the plain copy is 16 MiB" "$(stat -c %s "$T/d/plain/$s16" 2>&1)" 16777216
ok "the plain copy equals pg_wal's" cmp "$T/d/plain/$s16" "$P3/pg_wal/$s16"
ok "gzip -dc of the gzip copy equals the plain copy" \
	all_equal "$T/d/gz" .gz "gzip -dc" "$T/d/plain" "$s16"
ok "p3 stops" pg_stop "$P3"

# --- e) the seed document's command line (A.1.4), paths aside -------------
P4=$T/p4
mkdir_pg "$T/e" "$T/e/log" "$T/e/state" "$T/e/tmp" "$T/e/r1" "$T/e/r2"
ok "rsync daemon 1 (module wal_archive) starts" rsyncd_start r1 "$T/e/r1" wal_archive
ok "rsync daemon 2 (module wal_archive) starts" rsyncd_start r2 "$T/e/r2" wal_archive
url1="rsync://127.0.0.1:$(rsyncd_port r1)/wal_archive"
url2="rsync://127.0.0.1:$(rsyncd_port r2)/wal_archive"
ok "initdb p4 (1 MiB segments)" pg_new "$P4" --wal-segsize=1
pg_archiving "$P4" -l "$T/e/log/^a.log" -s "$T/e/state" -db "$T/e/backup" -dr "gzip=$url1" \
	-dr "gzip=$url2" -t "$T/e/tmp/" -v
ok "p4 starts" pg_start "$P4"
e1=$(pg_switch "$P4")
ok "p4 archived $e1 (no backup dir)" pg_wait_archived "$P4" "$e1" 60
is "p4: no failed archive_command" "$(pg_archiver "$P4" failed_count)" 0
for r in r1 r2; do
	ok "$e1 is at rsync daemon $r, equal to pg_wal's" all_equal "$T/e/$r" .gz "gzip -dc" "$P4/pg_wal" "$e1"
done
ok "-db did not create the missing backup dir" test ! -e "$T/e/backup"
mkdir_pg "$T/e/backup"
e2=$(pg_switch "$P4")
ok "p4 archived $e2 (backup dir present)" pg_wait_archived "$P4" "$e2" 60
ok "$e2 is in the backup dir, uncompressed, equal to pg_wal's" cmp "$T/e/backup/$e2" "$P4/pg_wal/$e2"
ok "$e1 (archived before the backup dir existed) is not in it" test ! -e "$T/e/backup/$e1"
for r in r1 r2; do
	ok "$e2 is at rsync daemon $r, equal to pg_wal's" all_equal "$T/e/$r" .gz "gzip -dc" "$P4/pg_wal" "$e2"
done
mv "$T/e/backup" "$T/e/backup.done"
e3=$(pg_switch "$P4")
ok "p4 archived $e3 (backup dir gone again)" pg_wait_archived "$P4" "$e3" 60
ok "$e3 did not go to the renamed backup dir" test ! -e "$T/e/backup.done/$e3"
ok "-db did not recreate the backup dir" test ! -e "$T/e/backup"
for r in r1 r2; do
	ok "$e3 is at rsync daemon $r" all_present "$T/e/$r" .gz "$e3"
done
# As in a): an archive in flight (p4 goes on writing WAL in the
# background) holds its state record and temporary file for a moment; a
# leaked one stays.
wait_for "the state dir is empty" 30 empty_dir "$T/e/state"
wait_for "the temp dir is empty" 30 empty_dir "$T/e/tmp"
logs=$(ls "$T/e/log")
like "the log file name follows -l ^a.log" "$logs" '^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\.log$'
ok "-v: the log has LOG lines" grep -q ' : pitr-archive : LOG : ' "$T"/e/log/*.log
nok "the log has no ERROR line" grep -h ' : ERROR : ' "$T"/e/log/*.log
ok "p4 stops" pg_stop "$P4"

# --- f) bad inputs --------------------------------------------------------
FD=$T/f
mkdir_pg "$FD" "$FD/in" "$FD/state" "$FD/plain" "$FD/gz"
# Segments of p1 not yet in $FD: the good one, then material for bad ones.
n=${#SEGS[@]}
good=${SEGS[n - 1]} hdr=${SEGS[n - 2]} half=${SEGS[n - 3]} spare=${SEGS[n - 4]}
other=$e2 # p4's: another cluster, also 1 MiB segments
is "the inputs have distinct names" "$(printf '%s\n' "$good" "$hdr" "$half" "$spare" "$other" | sort -u | wc -l)" 5
cp "$T/plain/$good" "$T/plain/$spare" "$FD/in/"
cp "$T/plain/$good" "$FD/in/not-a-wal-file"
cp "$T/plain/$hdr" "$FD/in/$hdr"
dd if=/dev/zero of="$FD/in/$hdr" bs=40 count=1 conv=notrunc status=none
cp "$T/plain/$half" "$FD/in/$half"
truncate -s 512K "$FD/in/$half"
cp "$T/e/backup.done/$other" "$FD/in/$other"
chown -R postgres:postgres "$FD/in"

# fd_archive ARGS...: pitr-archive into $FD's two destinations, as postgres.
fd_archive()
{
	as_pg "$PA" -D "$P1" -s "$FD/state" -dl "$FD/plain" -dl "gzip=$FD/gz" "$@"
}

it_run fd_archive "$FD/in/$good"
is "a good segment archived by hand: exit 0" "$IT_RC" 0
ok "it is in both destinations" all_equal "$FD/gz" .gz "gzip -dc" "$FD/plain" "$good"
listing()
{
	(cd "$FD" && ls -A plain gz)
}
before=$(listing)

# refused DESC REGEX CMD...: CMD exits 1 with one stderr line matching
# REGEX and leaves the destinations as they were.
refused()
{
	local desc=$1 re=$2
	shift 2
	it_run "$@"
	is "$desc: exit status 1" "$IT_RC" 1
	is "$desc: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
	like "$desc: it is an error naming the problem" "$IT_ERR" " : (ERROR|FATAL) : .*$re"
	is "$desc: nothing new at a final name" "$(listing)" "$before"
	ok "$desc: no .pitr-tmp.* file left" no_temp_files "$FD/plain" "$FD/gz"
}

refused "not a WAL file name" 'not-a-wal-file' fd_archive "$FD/in/not-a-wal-file"
refused "segment with a zeroed header" "$hdr" fd_archive "$FD/in/$hdr"
refused "segment truncated to half" "$half" fd_archive "$FD/in/$half"
# sysid DIR: the cluster's system identifier.
sysid()
{
	"$PGBIN/pg_controldata" "$1" | sed -n 's/^Database system identifier: *//p'
}
id1=$(sysid "$P1") id4=$(sysid "$P4")
refused "segment of another cluster" "$id1.*$id4|$id4.*$id1" fd_archive "$FD/in/$other"
refused "two destinations without -s" '(state-dir|-s)' \
	as_pg "$PA" -D "$P1" -dl "$FD/plain" -dl "gzip=$FD/gz" "$FD/in/$spare"
refused "unknown codec in -dl" 'foo' \
	as_pg "$PA" -D "$P1" -s "$FD/state" -dl "$FD/plain" -dl "foo=$FD/gz" "$FD/in/$spare"
refused "missing file" '000000010000000000000FFF' fd_archive "$FD/in/000000010000000000000FFF"
refused "nonexistent data dir" "$T/no-such-dir" \
	as_pg "$PA" -D "$T/no-such-dir" -s "$FD/state" -dl "$FD/plain" -dl "gzip=$FD/gz" "$FD/in/$spare"

it_done
