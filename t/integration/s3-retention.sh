#!/bin/bash
# s3-retention.sh - pitr-verify and pitr-backup-cleanup over a real Ceph
# RADOS gateway (issue 14): a PostgreSQL 15 primary archives with
# pitr-archive -dr gzip=s3:// (HTTPS, CA file, credentials from a file its
# environment names) beside a local copy; three backups go up with
# pitr-backup-master --dst-remote gzip=s3://.  pitr-verify finds all of it
# sound (the s3 archive, and the local one beside it); a data object
# overwritten with garbage and a WAL object deleted are each one problem,
# exit 1, and sound again once put back.  pitr-backup-cleanup
# --keep-count 1 --dry-run lists exactly what the real run then deletes:
# the two older backups' objects and the WAL before the kept backup's
# start, plus a multipart upload a killed run left (aborted with
# --pending-age 0); nothing else goes (a young orphan pitrkit stored, a
# data-named object another program stored without pitrkit's mark, which
# is foreign at any age, an upload below the prefix, the kept backup,
# newer WAL).  A backup killed while its data tarball goes up in parts
# leaves a journaled upload, which the next run aborts at its start.  No
# log holds a credential.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-retention
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PV=$PITR_BUILDDIR/bin/pitr-verify
PC=$PITR_BUILDDIR/bin/pitr-backup-cleanup
it_need_built "$PA" "$PB" "$PV" "$PC" "$PITR_BUILDDIR/lib/.libs/libpitrkit-s3.so.0"
ceph_start || it_bail "could not start Ceph"

B=retain
ok "bucket $B made" s3_mb "$B"
D=$T/pg
L=$T/local                  # the local archive beside the s3 one
mkdir_pg "$L" "$T/state" "$T/log" "$T/aws" "$T/obj"
CREDS=$T/aws/credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$RGW_KEY" "$RGW_SECRET" >"$CREDS"
chown postgres:postgres "$CREDS"
chmod 600 "$CREDS"
S3OPTS=(--s3-endpoint "$RGW_HTTPS" --s3-uri-style path --s3-ca-file "$RGW_CA" --s3-retries 1
	--s3-timeout 5)

ok "initdb (1 MiB segments)" pg_new "$D" --wal-segsize=1
pg_set "$D" "archive_mode = on" \
	"archive_command = '$PA -l $T/log/archive.log -s $T/state -dl gzip=$L -dr gzip=s3://$B/wal/ ${S3OPTS[*]} \"%p\"'"
AWS_SHARED_CREDENTIALS_FILE=$CREDS ok "the primary starts, credentials in its environment" \
	pg_start "$D"
ok "table t" pg_sql "$D" "CREATE TABLE t (id int)"

# pg: a program as postgres with the credentials file in its environment.
pg() { env AWS_SHARED_CREDENTIALS_FILE="$CREDS" runuser -u postgres -- "$@"; }

# backup N: backup N into s3://B/backups/ (SHA-256 digests), with rows and
# archived segments before it, a second apart so that names differ.
backup()
{
	pg_sql "$D" "INSERT INTO t SELECT generate_series(1, 20000)" || return 1
	pg_wait_archived "$D" "$(pg_switch "$D")" 30 || return 1
	sleep 1
	pg "$PB" -h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -sx -l "$T/log/backup$1.log" \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" -dg SHA-256 \
		-dr "gzip=s3://$B/backups/" "${S3OPTS[@]}"
}
for n in 1 2 3; do
	ok "backup $n to s3" backup "$n"
	[ "$n" = 2 ] && SEG3=$(pg_switch "$D")
done
ok "rows after the last backup" pg_sql "$D" "INSERT INTO t SELECT generate_series(1, 5000)"
ok "their segment archived" pg_wait_archived "$D" "$(pg_switch "$D")" 30
is "no upload pending after the backups" "$(s3_pending "$B")" ""
METAS=$(s3_keys "$B" backups/ | grep -- '-meta-')
is "three meta objects" "$(count_lines "$METAS")" 3

# --- pitr-verify ----------------------------------------------------------

# verify ARGS...: pitr-verify over the bucket, with ARGS, log in T/log.
verify() { it_run pg "$PV" "${S3OPTS[@]}" -l "$T/log/verify.log" "$@"; }

verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/"
is "pitr-verify over s3: exit 0" "$IT_RC" 0
like "... 3 backups, no problem" "$IT_OUT" '^3 backups, [0-9]+ segments checked, 0 problems$'
NSEG=$(sed -E 's/^3 backups, ([0-9]+) segments.*/\1/' <<<"$IT_OUT")
like "... segments read through the store ($NSEG)" "$NSEG" '^([5-9]|[1-9][0-9]+)$'
verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/" -a "$L"
is "the s3 archive and the local one beside it: exit 0" "$IT_RC" 0
like "... both archives' segments read" "$IT_OUT" "^3 backups, $((2 * NSEG)) segments checked, 0 problems$"

# The middle backup's data object replaced by garbage; the last segment
# archived before the third backup deleted (SEG3).
DATA2=$(s3_keys "$B" backups/ | grep -- '-data-' | sed -n 2p)
GONE=wal/$SEG3.gz
ok "the data object saved" s3_req GET "/$B/$DATA2" -o "$T/obj/data"
ok "the WAL object saved" s3_req GET "/$B/$GONE" -o "$T/obj/wal"
ok "garbage PUT over $DATA2" s3_req PUT "/$B/$DATA2" --data-binary "not a tarball"
ok "$GONE deleted" s3_req DELETE "/$B/$GONE"
verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/"
is "damaged: exit 1" "$IT_RC" 1
PROBLEMS=$(grep '^PROBLEM: ' <<<"$IT_OUT")
# lines REGEX: how many lines of PROBLEMS match.
lines() { grep -cE "$1" <<<"$PROBLEMS"; }
is "the data object's digest differs" \
	"$(lines "^PROBLEM: backup file \"s3://$B/$DATA2\": SHA-256 is [0-9a-f]{64}, its digest file says [0-9a-f]{64}$")" 1
is "the missing segment is a gap" \
	"$(lines "^PROBLEM: archive \"s3://$B/wal/\": segment $SEG3 is missing \(a gap in timeline 1\)$")" 1
is "... and the first missing one of the two backups before it" \
	"$(lines "^PROBLEM: archive \"s3://$B/wal/\": first missing segment $SEG3 needed by backup bk-\*-")" 2
is "... no other problem" "$(count_lines "$PROBLEMS")" 4
is "... counted in the summary" "$(tail -n 1 <<<"$IT_OUT")" "3 backups, $((NSEG - 1)) segments checked, 4 problems"
ok "the data object put back" s3_req PUT "/$B/$DATA2" -T "$T/obj/data"
ok "the WAL object put back" s3_req PUT "/$B/$GONE" -T "$T/obj/wal"
verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/"
is "put back: exit 0 again" "$IT_RC" 0
verify -b "s3://nosuch-$B/backups/" -a "gzip=s3://$B/wal/"
is "a missing bucket: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... naming it, the status and S3's code" "$IT_ERR" "s3://nosuch-$B/.*404 NoSuchBucket"

# --- what a killed run leaves -------------------------------------------------

# A multipart upload begun and never completed (a backup killed while its
# data tarball went up), one below the prefix (not the backup dir's), the
# data object of a backup whose meta never came (an orphan: it carries
# pitrkit's mark, as every object pitrkit stores does; too young to go),
# and a data-named object another program stored (OmniPITR's uploader
# through --dst-pipe: no mark, no meta), foreign.
ORPHAN=bk-data-20000102-000000.tar.gz
FOREIGN=bk-data-20000103-000000.tar.gz
s3_req POST "/$B/backups/bk-data-20000101-000000.tar.gz?uploads=" >/dev/null
s3_req POST "/$B/backups/sub/other.tar.gz?uploads=" >/dev/null
is "two pending uploads" "$(s3_pending "$B")" \
	"$(printf 'backups/bk-data-20000101-000000.tar.gz\nbackups/sub/other.tar.gz')"
ok "an orphan data object, marked" s3_req PUT "/$B/backups/$ORPHAN" --data-binary "orphan" \
	-H "x-amz-meta-pitrkit: 0.1.0"
ok "a foreign data object, unmarked" s3_req PUT "/$B/backups/$FOREIGN" --data-binary "omnipitr"
verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/"
is "verify: the orphan and the foreign object are problems (exit 1)" "$IT_RC" 1
is "... the orphan named as a killed backup's, the other as not pitrkit's" \
	"$(grep '^PROBLEM: ' <<<"$IT_OUT")" \
	"PROBLEM: orphan backup files without meta in \"s3://$B/backups/\": \"$ORPHAN\", left by an interrupted backup
PROBLEM: backup files without meta in \"s3://$B/backups/\": \"$FOREIGN\", not stored by pitrkit (no x-amz-meta-pitrkit: OmniPITR's?): never removed by pitrkit, remove them by hand if unwanted"
unlike "... a young upload is not (a live backup's may be)" "$IT_OUT" 'pending upload'

# --- pitr-backup-cleanup --keep-count 1 ----------------------------------------

# cleanup LOG ARGS...: pitr-backup-cleanup over the bucket.
cleanup()
{
	local log=$1
	shift
	it_run pg "$PC" "${S3OPTS[@]}" -b "s3://$B/backups/" -a "gzip=s3://$B/wal/" --keep-count 1 \
		--pending-age 0 -l "$T/log/$log" "$@"
}
# removals LOG: the removals a run logged, as s3://B/KEY, sorted.
removals()
{
	sed -nE 's/.* : LOG : (\(dry-run\) )?Removing [a-z ]+(file|upload): (s3:[^ ]*).*/\3/p' \
		"$T/log/$1" | LC_ALL=C sort
}

BEFORE=$(s3_keys "$B")
# What must go: the two older backups' objects (everything of theirs
# under the name their meta files share), the segments and backup history
# files before the kept backup's start segment, and the pending upload
# right under the prefix.
KEPT_META=$(sed -n 3p <<<"$METAS")
START=$(s3_req GET "/$B/$KEPT_META" | gzip -dc | sed -n 's/^start_wal[ :=]*\([0-9A-F]\{24\}\).*/\1/p')
like "the kept backup's start segment ($START)" "$START" '^[0-9A-F]{24}$'
EXPECT=$(
	for m in $(sed -n 1,2p <<<"$METAS"); do
		stem=${m#backups/bk-meta-}
		grep -E "^backups/bk-[^/]+-${stem%%.*}\.tar" <<<"$BEFORE"
	done
	grep -E '^wal/[0-9A-F]{24}(\.[0-9A-F]{8}\.backup)?\.gz$' <<<"$BEFORE" | while read -r k; do
		n=${k#wal/}
		[[ "${n:8:16}" < "${START:8:16}" ]] && echo "$k"
	done
	echo "backups/bk-data-20000101-000000.tar.gz"
)
EXPECT=$(sed "s|^|s3://$B/|" <<<"$EXPECT" | LC_ALL=C sort)
like "some WAL goes too" "$EXPECT" "s3://$B/wal/"

cleanup dry.log --dry-run
is "--dry-run: exit 0" "$IT_RC" 0
is "--dry-run lists the older backups, the old WAL and the pending upload" \
	"$(removals dry.log)" "$EXPECT"
is "--dry-run deletes nothing" "$(s3_keys "$B")" "$BEFORE"
is "--dry-run aborts nothing" "$(count_lines "$(s3_pending "$B")")" 2
like "the orphan is left: younger than the minimum age" "$(cat "$T/log/dry.log")" \
	"orphan file left for now: younger than 60 minutes .*: s3://$B/backups/$ORPHAN"
like "the foreign object is left: not pitrkit's" "$(cat "$T/log/dry.log")" \
	"backup file without meta left: not stored by pitrkit \(no x-amz-meta-pitrkit\), never removed by pitrkit: s3://$B/backups/$FOREIGN"

cleanup real.log -t 1000 -v
is "the real run: exit 0" "$IT_RC" 0
is "it logs what --dry-run listed" "$(removals real.log)" "$EXPECT"
AFTER=$(s3_keys "$B")
GONE_KEYS=$(LC_ALL=C comm -23 <(printf '%s\n' "$BEFORE") <(printf '%s\n' "$AFTER") |
	sed "s|^|s3://$B/|")
is "exactly those objects deleted (the upload aside)" "$GONE_KEYS" \
	"$(grep -v 20000101 <<<"$EXPECT")"
is "nothing new" "$(LC_ALL=C comm -13 <(printf '%s\n' "$BEFORE") <(printf '%s\n' "$AFTER"))" ""
is "the young orphan and the foreign object are still there" \
	"$(grep -E '^backups/bk-data-2000010[23]-' <<<"$AFTER")" \
	"$(printf 'backups/%s\nbackups/%s' "$ORPHAN" "$FOREIGN")"
is "the upload right under the prefix aborted, the one below it left" "$(s3_pending "$B")" \
	"backups/sub/other.tar.gz"
like "--truncate said to be for local files" "$(cat "$T/log/real.log")" \
	"--truncate and --sleep apply to local files: objects in \"s3://$B/backups/\" are deleted whole"
like "the summary counts the aborted upload" "$(cat "$T/log/real.log")" \
	'Removed [0-9]+ files, total: [0-9.]+MB, 1 pending upload aborted'
like "... the real run too" "$(cat "$T/log/real.log")" \
	"backup file without meta left: not stored by pitrkit .*: s3://$B/backups/$FOREIGN"
s3_req DELETE "/$B/backups/$ORPHAN"
s3_req DELETE "/$B/backups/$FOREIGN"
verify -b "s3://$B/backups/" -a "gzip=s3://$B/wal/"
is "what remains verifies (orphan and foreign object removed by hand): exit 0" "$IT_RC" 0
like "... one backup left" "$IT_OUT" '^1 backups, [0-9]+ segments checked, 0 problems$'

# --- a backup killed mid-upload: the next run aborts its upload ----------------

# Uncompressed, the data tarball (the cluster and 10 MiB of rows, over one
# 16 MiB part) goes up as a multipart upload, journaled in the run's temp
# dir.  The run is killed (SIGKILL: no handler runs) once the journal
# names its upload; the next run to the same destination aborts that
# upload at its start, at once (not two days later), and says so.  (The
# upload below the prefix made above is no backup's and stays.)
JT=$T/tmp
mkdir_pg "$JT" "$T/run"
ok "10 MiB of rows" pg_sql "$D" \
	"CREATE TABLE big AS SELECT repeat(md5(g::text), 4) AS v FROM generate_series(1, 60000) g"
# bk_plain LOG: a backup, uncompressed, into s3://B/backups/ (temp dir JT).
bk_plain()
{
	pg "$PB" -h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -sx -l "$T/log/$1" -t "$JT" \
		--pid-file "$T/run/bk.pid" -f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" \
		-dr "s3://$B/backups/" "${S3OPTS[@]}"
}
# journaled: a journal in JT names an upload id.
journaled() { grep -qs '^upload ' "$JT"/.pitr-s3upload.*; }
# pending: the uploads pending under backups/, but the one below it.
pending() { s3_pending "$B" | grep -vxF backups/sub/other.tar.gz; }
# journal_poll: wait (60 s at most) for journaled, looking every 20 ms: the
# upload lasts a second or so.
journal_poll()
{
	local n
	for ((n = 0; n < 3000; n++)); do
		journaled && return 0
		sleep 0.02
	done
	return 1
}
bk_plain killed.log 2>"$T/log/killed.err" &   # runuser says "Killed" there
BG=$!
if journal_poll; then
	it_pass "the backup's upload is journaled in its temp dir"
	kill -KILL "$(cat "$T/run/bk.pid")"
else
	it_fail "the backup's upload is journaled in its temp dir" "$(it_tail "$(cat "$T/log/killed.log")")"
fi
wait "$BG"
nok "the killed run did not succeed" test "$?" -eq 0
is "its journal stays" "$(find "$JT" -name '.pitr-s3upload.*' | wc -l)" 1
KEY=$(sed -n 's/^key //p' "$JT"/.pitr-s3upload.*)
like "... naming the data tarball ($KEY)" "$KEY" '^backups/bk-data-[0-9]{8}-[0-9]{6}\.tar$'
is "its upload is pending in the store" "$(pending)" "$KEY"
it_run bk_plain next.log
is "the next run succeeds" "$IT_RC" 0
is "... it aborted the killed run's upload: none is pending" "$(pending)" ""
is "... and removed its journal (and wrote none left over)" "$(find "$JT" -name '.pitr-s3upload.*')" ""
is "... said in one info line" \
	"$(grep -c "LOG : aborted 1 upload under \"s3://$B/backups/\" left by interrupted runs on this host (journaled in \"$JT\")$" "$T/log/next.log")" 1
NEWDATA=$(s3_keys "$B" backups/ | grep -E '^backups/bk-data-[0-9-]+\.tar$' | grep -vxF "$KEY")
like "... its own data object is there, uploaded in parts" \
	"$(s3_req HEAD "/$B/$NEWDATA" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: "[0-9a-f]*\(-[0-9]*\)"$/\1/p')" '^-[2-9]$'

# --- no credential anywhere ----------------------------------------------------------

ok "the primary stops" pg_stop "$D"
for secret in "$RGW_KEY" "$RGW_SECRET"; do
	is "no log holds a credential" "$(grep -rlF -- "$secret" "$T/log" "$(pg_logfile "$D")" || true)" ""
done

it_done
