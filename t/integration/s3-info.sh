#!/bin/bash
# s3-info.sh - pitr-info reading backup dirs and archives in a real Ceph
# RADOS gateway (issue 14) through the store (lib/repo/store.c): a
# PostgreSQL 15 primary archives with pitr-archive -dl and is backed up
# with pitr-backup-master into local dirs, whose files are then put into a
# bucket with curl (independent of pitrkit's writers); pitr-info's text
# and JSON for the s3:// locations equal those for the local dirs, the
# locations aside (the local files get their objects' Last-Modified as
# mtime, which the store reports as an object's time).  Two archives
# exercise the system identifier from the record object and from a
# segment's header read through the GET pipe; keys below the prefix are
# not listed.  A missing bucket, wrong credentials and missing
# credentials: one line, exit 1, no secret in it.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-info
it_require python3
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PI=$PITR_BUILDDIR/bin/pitr-info
it_need_built "$PA" "$PB" "$PI" "$PITR_BUILDDIR/lib/.libs/libpitrkit-s3.so.0"

A=$T/arch
A2=$T/arch2
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state" "$T/log"

# --- what a primary archived and a backup wrote, in local dirs ------------
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" -dl "gzip=$A" -db "$T/xlogs" -s "$T/state"
ok "p1 starts" pg_start "$P1"
ok "table t" pg_sql "$P1" "CREATE TABLE t (id int)" "INSERT INTO t SELECT generate_series(1, 1000)"
ok "backup into $BK" as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$P1")" -U postgres -x "$T/xlogs" \
	-dl "gzip=$BK" -dg SHA-256 -f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" \
	-l "$T/log/backup.log"
ok "more rows" pg_sql "$P1" "INSERT INTO t SELECT generate_series(1001, 5000)"
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60
ok "p1 stops" pg_stop "$P1"
# A timeline's history (as a promotion archives it) for history objects to
# be read; and a second archive without the system identifier record, whose
# identifier only a segment's header tells.
printf '1\t0/3000000\tno recovery target specified\n' >"$A/00000002.history"
cp -a "$A" "$A2"
rm "$A2/.pitrkit-system-identifier"
ok "the archive holds its system identifier record" test -s "$A/.pitrkit-system-identifier"

# --- the same files in a bucket -------------------------------------------
ceph_start || it_bail "no Ceph cluster"
ok "bucket pitr" s3_mb pitr

# put DIR PREFIX: every file of DIR as PREFIX/NAME, with curl.
put()
{
	local f
	for f in "$1"/* "$1"/.pitrkit-system-identifier; do
		[ -f "$f" ] || continue
		s3_req PUT "/pitr/$2/$(basename "$f")" -T "$f" >/dev/null || return 1
	done
}
ok "curl puts the archive under wal/" put "$A" wal
ok "curl puts the second archive under wal2/" put "$A2" wal2
ok "curl puts the backup dir under backups/" put "$BK" backups
# Below the prefix: not the archive's, never listed.
ok "a segment-named key one level below wal/" \
	s3_req PUT "/pitr/wal/sub/$last" --data-binary "not WAL"
is "the objects are there" "$(s3_keys pitr wal/ | grep -c .)" \
	"$(($(find "$A" -type f | wc -l) + 1))"

# stamp DIR PREFIX: each file of DIR gets its object's Last-Modified as
# mtime (an object's time is when it was stored).
stamp()
{
	s3_req GET "/pitr?list-type=2&prefix=$2%2F" | python3 -c '
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
for c in ET.parse(sys.stdin).getroot().findall("s:Contents", ns):
    print(c.find("s:Key", ns).text + "\t" + c.find("s:LastModified", ns).text)' |
		while IFS=$'\t' read -r key when; do
			[ "${key%/*}" = "$2" ] || continue
			touch -d "$when" "$1/${key##*/}" || return 1
		done
}
ok "local archive files get their objects' times" stamp "$A" wal
ok "local files of the second archive likewise" stamp "$A2" wal2
ok "local backup files likewise" stamp "$BK" backups

S3OPTS=(--s3-endpoint "$RGW_HTTPS" --s3-ca-file "$RGW_CA" --s3-uri-style path)
creds() { env AWS_ACCESS_KEY_ID="$RGW_KEY" AWS_SECRET_ACCESS_KEY="$RGW_SECRET" "$@"; }

# same DESC LOCAL_ARGS -- S3_ARGS: pitr-info's output for both equals,
# the local dirs' names replaced by their s3:// locations.
same()
{
	local desc=$1 local_args=() s3_args=() want
	shift
	while [ "$1" != -- ]; do local_args+=("$1"); shift; done
	shift
	s3_args=("$@")
	it_run "$PI" "${local_args[@]}"
	is "$desc: exit 0 for the local dirs" "$IT_RC" 0
	want=$IT_OUT
	want=${want//"$A2"/s3://pitr/wal2}
	want=${want//"$A"/s3://pitr/wal}
	want=${want//"$BK"/s3://pitr/backups}
	it_run creds "$PI" "${S3OPTS[@]}" "${s3_args[@]}"
	is "$desc: exit 0 for the s3:// locations" "$IT_RC" 0
	is "$desc: nothing logged" "$IT_ERR" ""
	is "$desc: the same report" "$IT_OUT" "$want"
}

same "text" -b "$BK" -a "$A" -- -b s3://pitr/backups -a s3://pitr/wal
same "--json" -b "$BK" -a "gzip=$A" --json -- -b s3://pitr/backups -a gzip=s3://pitr/wal --json
# report EXPR: a Python expression over the JSON report d in IT_OUT.
report() { python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$IT_OUT"; }
like "the report lists the backup" "$(report '[b["name"] for b in d["backups"]]')" \
	"^\['bk-\*-[0-9]{8}-[0-9]{6}\.tar\.gz'\]$"
is "the report read the history object" "$(report '[(t["timeline"], t["history"]) for t in d["timelines"]]')" \
	"[(1, False), (2, True)]"
is "no problem reported" "$(report 'd["problems"]')" "[]"
same "several archives, --json" -b "$BK" -a "$A" -a "$A2" --json -- \
	-b s3://pitr/backups -a s3://pitr/wal -a s3://pitr/wal2 --json
sysid=$(cat "$A/.pitrkit-system-identifier")
is "both archives' system identifiers known (record, segment header)" \
	"$(report '[a["system_identifier"] for a in d["archives"]] + [d["same_system"]]')" \
	"['$sysid', '$sysid', True]"

# --- failures: one line, exit 1, no secret --------------------------------
# fails DESC PATTERN ENV... -- ARGS...: pitr-info ARGS, run by env ENV...,
# exits 1 with one line on stderr matching PATTERN, holding no credential.
fails()
{
	local desc=$1 pattern=$2 envs=()
	shift 2
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	it_run env "${envs[@]}" "$PI" "${S3OPTS[@]}" "$@"
	diag "$desc: $IT_ERR"
	is "$desc: exit 1" "$IT_RC" 1
	is "$desc: one line" "$(count_lines "$IT_ERR")" 1
	like "$desc: it says why" "$IT_ERR" "$pattern"
	unlike "$desc: no secret in it" "$IT_ERR" "$RGW_SECRET|$RGW_KEY|wrongsecret"
	is "$desc: no report" "$IT_OUT" ""
}
fails "a missing bucket" "s3://nobucket/wal/: .*HTTP 404 NoSuchBucket" \
	AWS_ACCESS_KEY_ID="$RGW_KEY" AWS_SECRET_ACCESS_KEY="$RGW_SECRET" -- -a s3://nobucket/wal
fails "wrong credentials" "s3://pitr/backups/: .*HTTP 403 SignatureDoesNotMatch" \
	AWS_ACCESS_KEY_ID="$RGW_KEY" AWS_SECRET_ACCESS_KEY=wrongsecret -- -b s3://pitr/backups
fails "no credentials" "AWS_ACCESS_KEY_ID" -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	AWS_SHARED_CREDENTIALS_FILE="$T/none" -- -a s3://pitr/wal
it_done
