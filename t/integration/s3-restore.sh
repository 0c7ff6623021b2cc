#!/bin/bash
# s3-restore.sh - pitr-restore and pitr-cleanup against an archive in a
# real object store (a single-node Ceph with its RADOS gateway, from
# lib.sh): a PostgreSQL 15 primary archives with pitr-archive -dr
# gzip=s3://wal/arch/ (and -dl, a local copy to compare with), the store
# then holding what the directory holds; a warm standby
# whose restore_command is pitr-restore -s gzip=s3://... over HTTPS (the
# test's CA, credentials in the server's environment) replays it, -pf
# prefetching from the store, and follows it; a segment restored by hand
# is the archived one; a missing segment and a missing history file are
# the quiet "not found"; a call waiting for a segment lists the store less
# and less often (the gateway's log counts the listings); a missing bucket and wrong credentials are one
# line, exit 1; -r prunes at most -rt objects, oldest first; pitr-cleanup
# -a s3://... --dry-run lists, and a real run removes, exactly the
# segments and partial segments older than the cutoff (never a history
# file, a backup history file, the record, or a key below a further '/');
# no log holds a credential.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-restore
it_reap pitr-restore
PA=$PITR_BUILDDIR/bin/pitr-archive
PRS=$PITR_BUILDDIR/bin/pitr-restore
PC=$PITR_BUILDDIR/bin/pitr-cleanup
it_need_built "$PA" "$PRS" "$PC"
ceph_start || it_bail "no Ceph"

A=$T/arch
P=$T/p
S=$T/s
mkdir_pg "$A" "$T/state" "$T/one"
S3=(--s3-endpoint "$RGW_HTTPS" --s3-uri-style path --s3-ca-file "$RGW_CA")
ok "bucket wal" s3_mb wal
# The primary archives into the store and into $A, its credentials in the
# server's environment.
ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_set "$P" "archive_mode = on" \
	"archive_command = '$PA -s $T/state -dl gzip=$A -dr gzip=s3://wal/arch/ ${S3[*]} \"%p\"'"

rows() { pg_sql "$P" "INSERT INTO t SELECT generate_series($1, $2)"; }
count() { pg_sql "$1" "SELECT count(*) FROM t" 2>/dev/null; }
# more FROM TO: rows FROM..TO on the primary, in an archived segment.
more()
{
	local last
	rows "$1" "$2" && last=$(pg_switch "$P") && pg_wait_archived "$P" "$last" 60
}
# creds CMD...: CMD with the pitr user's credentials in its environment.
creds() { AWS_ACCESS_KEY_ID=$RGW_KEY AWS_SECRET_ACCESS_KEY=$RGW_SECRET "$@"; }
# cli NAME CMD...: it_run CMD with the credentials, its stderr kept for the
# credential check at the end.
cli()
{
	local name=$1
	shift
	it_run creds "$@"
	printf '%s\n' "$IT_ERR" >"$T/cli-$name.err"
}

ok "p starts, credentials in its environment only" creds pg_start "$P"
ok "table t, rows 1..100" pg_sql "$P" "CREATE TABLE t (id int)" "INSERT INTO t SELECT generate_series(1, 100)"
ok "a base backup" pg_base_backup "$P" "$T/base"
for i in 1 2 3; do
	ok "rows $((i * 100 + 1))..$((i * 100 + 100)), archived" more $((i * 100 + 1)) $((i * 100 + 100))
done
# local_keys: the keys the local archive's files would have in the store.
local_keys()
{
	local f
	for f in "$A"/* "$A"/.pitrkit-system-identifier; do
		echo "arch/${f##*/}"
	done | LC_ALL=C sort
}
is "the store holds what the local archive holds" "$(s3_keys wal arch/)" "$(local_keys)"

# --- a warm standby restoring from the store ------------------------------------------
ok "standby set up" pg_standby_new "$T/base" "$S" warm \
	"$PRS -l $T/restore.log -pf 2 ${S3[*]} -s gzip=s3://wal/arch/ %f \"%p\""
ok "standby launched, credentials in its environment only" creds pg_launch "$S"
wait_for "the standby replays the store's WAL (400 rows)" 60 eval "[ \"\$(count '$S')\" = 400 ]"
ok "rows 401..500 on the primary, archived" more 401 500
wait_for "the standby follows the store (500 rows)" 60 eval "[ \"\$(count '$S')\" = 500 ]"
like "restore.log: segments restored from the store" "$(cat "$T/restore.log")" \
	'restored "[0-9A-F]{24}" from "s3://wal/arch/[0-9A-F]{24}\.gz"'
like "restore.log: -pf prefetched from the store" "$(cat "$T/restore.log")" \
	'restored "[0-9A-F]{24}" from the prefetched'
unlike "restore.log: no ERROR" "$(cat "$T/restore.log")" ' ERROR '
pg_stop "$S" immediate

# --- pitr-restore by hand ---------------------------------------------------------------
seg=$(wal_in "$A" | sed -n 3p)
cli seg "$PRS" "${S3[@]}" -sr -s "gzip=s3://wal/arch/" "$seg" "$T/one/$seg"
is "a segment restored by hand: exit 0" "$IT_RC" 0
ok "it is the archived segment, decompressed" cmp "$T/one/$seg" <(gzip -dc "$A/$seg.gz")
ok "no temporary file is left beside it" eval "[ \"\$(ls -A '$T/one')\" = '$seg' ]"

cli missing "$PRS" "${S3[@]}" -sr -s "gzip=s3://wal/arch/" 0000000100000000000000F0 "$T/one/x"
is "a missing segment (-sr): exit 1" "$IT_RC" 1
unlike "a missing segment: no ERROR line" "$IT_ERR" 'ERROR'
ok "a missing segment: nothing at %p" test ! -e "$T/one/x"
# A warm standby's wait: the store is asked less and less often (200 ms,
# 400 ms, 800 ms, 1.6 s, 3.2 s...), not every 200 ms: over 4 s, 5 listings
# rather than 20.  The gateway logs each request.
rgwlog=$CEPH_DIR/log/client.rgw.gw.log
it_run timeout -s TERM 4 env AWS_ACCESS_KEY_ID="$RGW_KEY" AWS_SECRET_ACCESS_KEY="$RGW_SECRET" \
	"$PRS" "${S3[@]}" -s "gzip=s3://wal/arch/" 0000000100000000000000F1 "$T/one/w"
printf '%s\n' "$IT_ERR" >"$T/cli-wait.err"
like "a waiting call: SIGTERM ends it" "$IT_ERR" 'interrupted by a signal'
# listings: the gateway's log lines of the listings for that segment.
listings() { grep -c '"GET /wal[/]*?[^"]*0000000100000000000000F1' "$rgwlog"; }
wait_for "the gateway logged the waiting call's listings" 10 eval "[ \"\$(listings)\" -ge 2 ]"
like "4 s of waiting: 2 to 7 listings, not 20" "$(listings)" '^[2-7]$'
cli history "$PRS" "${S3[@]}" -s "gzip=s3://wal/arch/" 00000005.history "$T/one/h"
is "a missing history file: exit 1" "$IT_RC" 1
unlike "a missing history file: no ERROR line" "$IT_ERR" 'ERROR'

cli nobucket "$PRS" "${S3[@]}" -sr -s "gzip=s3://nosuchbucket/arch/" "$seg" "$T/one/y"
is "a missing bucket: exit 1" "$IT_RC" 1
is "a missing bucket: one line" "$(count_lines "$IT_ERR")" 1
like "a missing bucket: the line names S3's error" "$IT_ERR" 'NoSuchBucket'
it_run env AWS_ACCESS_KEY_ID="$RGW_KEY" AWS_SECRET_ACCESS_KEY=not-the-secret \
	"$PRS" "${S3[@]}" -sr -s "gzip=s3://wal/arch/" "$seg" "$T/one/z"
printf '%s\n' "$IT_ERR" >"$T/cli-badsecret.err"
is "wrong credentials: exit 1" "$IT_RC" 1
is "wrong credentials: one line" "$(count_lines "$IT_ERR")" 1
like "wrong credentials: the line names S3's error" "$IT_ERR" 'HTTP 403 SignatureDoesNotMatch'
ok "nothing at %p after the failures" eval "[ \"\$(ls -A '$T/one')\" = '$seg' ]"

# -s CODEC=: the object of that codec is asked for first; a miss lists,
# and finds another codec's copy.
cli guess "$PRS" "${S3[@]}" -sr -s "lz4=s3://wal/arch/" "$seg" "$T/one/g"
is "-s lz4= over gzip objects: exit 0" "$IT_RC" 0
ok "... the gzip copy restored" cmp "$T/one/g" <(gzip -dc "$A/$seg.gz")
rm -f "$T/one/g"

# The system identifier: with the data dir known (-D, or a relative %p)
# every segment is checked against its pg_control and the store's record
# is not read; without, the record stands in for it.
SYSID=$(pg_sql "$P" "SELECT system_identifier FROM pg_control_system()")
s3_req GET /wal/arch/.pitrkit-system-identifier -o "$T/record" || diag "GET record failed"
echo 12345 >"$T/other-record"
s3_req PUT /wal/arch/.pitrkit-system-identifier -T "$T/other-record" >/dev/null
cli rec1 "$PRS" "${S3[@]}" -sr -s "gzip=s3://wal/arch/" "$seg" "$T/one/r"
is "another system's record, no data dir: exit 1" "$IT_RC" 1
like "... the segment refused against the record" "$IT_ERR" \
	"is WAL of database system $SYSID, but archive \"s3://wal/arch/\" holds system 12345"
cli rec2 "$PRS" "${S3[@]}" -D "$P" -sr -s "gzip=s3://wal/arch/" "$seg" "$T/one/r"
is "-D of the cluster: the record not read, exit 0" "$IT_RC" 0
ok "... the segment restored" cmp "$T/one/r" <(gzip -dc "$A/$seg.gz")
s3_req PUT /wal/arch/.pitrkit-system-identifier -T "$T/record" >/dev/null
# A data dir of another cluster: its pg_control starts with 12345.
mkdir -p "$T/otherdata/global"
echo 15 >"$T/otherdata/PG_VERSION"
printf '\x39\x30\0\0\0\0\0\0' >"$T/otherdata/global/pg_control"
cli rec3 "$PRS" "${S3[@]}" -D "$T/otherdata" -sr -s "gzip=s3://wal/arch/" "$seg" "$T/one/o"
is "-D of another cluster: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... the segment refused against pg_control" "$IT_ERR" \
	"is WAL of database system $SYSID, but this cluster's \"$T/otherdata/global/pg_control\" is of system 12345"
ok "... nothing at %p" test ! -e "$T/one/o"
rm -f "$T/one/r"

# -r prunes s3://wal/prune/ (copies of the first five segments): at most
# -rt 2 objects older than the cutoff, oldest first.
mapfile -t segs < <(wal_in "$A" | sed -n 1,5p)
for s in "${segs[@]}"; do
	s3_req PUT "/wal/prune/$s.gz" -T "$A/$s.gz" >/dev/null || diag "PUT $s failed"
done
cli prune "$PRS" "${S3[@]}" -r "${segs[3]}" -rt 2 -s "gzip=s3://wal/prune/" "${segs[4]}" "$T/one/${segs[4]}"
is "-r from the store: exit 0" "$IT_RC" 0
is "-r -rt 2: the two oldest objects went" "$(s3_keys wal prune/)" \
	"$(printf 'prune/%s.gz\n' "${segs[2]}" "${segs[3]}" "${segs[4]}")"

# --- pitr-cleanup -------------------------------------------------------------------------
# Beside the archive: a history file, an older partial segment, and a key
# below a further '/' that is not the archive's.
echo "1	0/3000000	no recovery target specified" >"$T/00000002.history"
extras()
{
	s3_req PUT /wal/arch/00000002.history -T "$T/00000002.history" >/dev/null &&
		s3_req PUT "/wal/arch/${segs[0]}.partial.gz" -T "$A/${segs[0]}.gz" >/dev/null &&
		s3_req PUT "/wal/arch/sub/${segs[0]}.gz" -T "$A/${segs[0]}.gz" >/dev/null
}
ok "extra objects stored" extras
before=$(s3_keys wal arch/)
cut=${segs[3]}
# older KEY...: the keys that name a segment or partial segment before $cut.
older()
{
	local k n
	for k in "$@"; do
		n=${k#arch/}
		[[ $n =~ ^[0-9A-F]{24}(\.partial)?(\.gz)?$ ]] && [[ ${n:8:16} < ${cut:8:16} ]] && echo "$n"
	done
}
# shellcheck disable=SC2086
want=$(older $before)
like "some objects are older than $cut" "$(count_lines "$want")" '^[1-9]'
cli dry "$PC" "${S3[@]}" -a "gzip=s3://wal/arch/" --dry-run "$cut"
is "--dry-run: exit 0" "$IT_RC" 0
is "--dry-run lists exactly the older segments" "$(printf '%s\n' "$IT_OUT" | LC_ALL=C sort)" \
	"$(printf '%s\n' "$want" | LC_ALL=C sort)"
is "--dry-run removes nothing" "$(s3_keys wal arch/)" "$before"
cli cleanup "$PC" --s3-endpoint "$RGW_HTTP" --s3-uri-style path -a "s3://wal/arch" "$cut"
is "pitr-cleanup over HTTP: exit 0" "$IT_RC" 0
after=$(s3_keys wal arch/)
is "pitr-cleanup removed exactly the older segments and partial segments" \
	"$(comm -23 <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's|^arch/||')" "$want"
is "pitr-cleanup removed nothing else" "$(comm -13 <(printf '%s\n' "$before") <(printf '%s\n' "$after"))" ""
for k in arch/.pitrkit-system-identifier arch/00000002.history "arch/sub/${segs[0]}.gz"; do
	ok "$k stays" grep -qxF -- "$k" <<<"$after"
done
cli cleanup-nobucket "$PC" "${S3[@]}" -a "s3://nosuchbucket/arch/" "$cut"
is "pitr-cleanup, a missing bucket: exit 1" "$IT_RC" 1
is "pitr-cleanup, a missing bucket: one line" "$(count_lines "$IT_ERR")" 1

# --- no credential anywhere -----------------------------------------------------------
# no_log_holds TEXT: no log of the servers or of pitrkit's programs holds
# TEXT (each of them exists: a missing one would hide nothing).
no_log_holds()
{
	local logs=("$T/restore.log" "$(pg_logfile "$S")" "$(pg_logfile "$P")" "$T"/cli-*.err)
	ls "${logs[@]}" >/dev/null && ! grep -qF -- "$1" "${logs[@]}"
}
ok "no log holds the secret key" no_log_holds "$RGW_SECRET"
ok "no log holds the access key" no_log_holds "$RGW_KEY"

it_done
