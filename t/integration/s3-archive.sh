#!/bin/bash
# s3-archive.sh - pitr-archive and pitr-backup-master to an object store: a
# real single-node Ceph cluster's RADOS gateway (lib.sh's ceph_start), over
# HTTPS checked against the test's CA.  A PostgreSQL 15 primary archives
# to a local directory and to s3:// under pgbench load, the gateway is
# stopped and started again meanwhile; an identical and a different object
# already there; wrong credentials, a missing bucket, another user's
# bucket; a backup whose data tarball is a multipart upload; and no
# credential in any log, output or process title.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# Helpers here run through ok/wait_for, which shellcheck cannot follow:
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-archive
it_require curl gzip cmp
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
it_need_built "$PA" "$PB"
ceph_start || it_bail "could not start Ceph"

BUCKET=pitr-archive
ok "bucket $BUCKET made" s3_mb "$BUCKET"
D=$T/pg
L=$T/local                  # the local archive, gzip as the s3 one
mkdir_pg "$L" "$T/state" "$T/log" "$T/aws" "$T/seg" "$T/bk"
# The credentials in a file the server's environment names, never on a
# command line.
CREDS=$T/aws/credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$RGW_KEY" "$RGW_SECRET" >"$CREDS"
chown postgres:postgres "$CREDS"
chmod 600 "$CREDS"
# Short retries: PostgreSQL retries a failed archive_command anyway.
# (Split into words where used.)
# shellcheck disable=SC2086
S3OPTS="--s3-endpoint $RGW_HTTPS --s3-uri-style path --s3-ca-file $RGW_CA --s3-retries 1 --s3-timeout 5"
ALOG=$T/log/archive.log

ok "initdb (1 MiB segments)" pg_new "$D" --wal-segsize=1
pg_set "$D" "archive_mode = on" \
	"archive_command = '$PA -l $ALOG -s $T/state -dl gzip=$L -dr gzip=s3://$BUCKET/wal/ $S3OPTS \"%p\"'"
# For the server only (bash exports a command's own assignments to its
# children): its archiver's archive_command inherits it.
AWS_SHARED_CREDENTIALS_FILE=$CREDS ok "the primary starts, the credentials file named in its environment" \
	pg_start "$D"

# ps_sample: the command lines of every process, kept for the credential
# grep at the end (process titles included).
ps_sample()
{
	ps -eo args >>"$T/log/ps.txt" 2>&1
}

# every_object_is_local: the objects under wal/ are exactly the local
# archive's files (the system-identifier record included), each with the
# same bytes: nothing lost, nothing partial, nothing extra.
every_object_is_local()
{
	local keys names f n=0
	keys=$(s3_keys "$BUCKET" wal/ | sed 's|^wal/||') || return 1
	names=$(cd "$L" && LC_ALL=C ls -A | grep -v '^\.pitr-tmp\.')
	if [ "$keys" != "$names" ]; then
		diff <(printf '%s\n' "$keys") <(printf '%s\n' "$names")
		return 1
	fi
	for f in $names; do
		s3_req GET "/$BUCKET/wal/$f" -o "$T/seg/object" || return 1
		cmp "$T/seg/object" "$L/$f" || return 1
		n=$((n + 1))
	done
	echo "$n objects equal to their local copies"
}

# --- archiving under load -------------------------------------------------

ok "pgbench -i" pg_bench "$D" -i -s 1 -q
SEG=$(pg_switch "$D")
wait_for "the archiver archives $SEG" 30 pg_is_archived "$D" "$SEG"
ps_sample
N=$(cd "$L" && ls | grep -cE '^[0-9A-F]{24}\.gz$')
like "segments archived under load ($N)" "$N" '^([5-9]|[1-9][0-9]+)$'
ok "every object equals its local copy" every_object_is_local
is "the system identifier is an object" \
	"$(s3_req GET "/$BUCKET/wal/.pitrkit-system-identifier")" \
	"$(pg_sql "$D" "SELECT system_identifier FROM pg_control_system()")"

# --- the gateway stopped mid-archive ------------------------------------------

# failed_more N: the archiver failed more than N times so far.
failed_more()
{
	[ "$(pg_sql "$D" "SELECT failed_count FROM pg_stat_archiver")" -gt "$1" ]
}
FAILED0=$(pg_sql "$D" "SELECT failed_count FROM pg_stat_archiver")
LINES0=$(wc -l <"$ALOG")
pg_bench "$D" -c 2 -T 8 -n >"$T/log/pgbench.out" 2>&1 &
BENCH=$!
sleep 1
ok "the gateway stops under load" rgw_stop
ps_sample
wait_for "the archiver fails while it is down" 30 failed_more "$FAILED0"
sleep 2
ps_sample
ok "the gateway starts again" rgw_start
BENCH_RC=0
wait "$BENCH" || BENCH_RC=$?
is "pgbench ran through the outage" "$BENCH_RC" 0
SEG=$(pg_switch "$D")
wait_for "the archiver catches up ($SEG)" 60 pg_is_archived "$D" "$SEG"
ps_sample
FAILED=$(($(pg_sql "$D" "SELECT failed_count FROM pg_stat_archiver") - FAILED0))
ERRS=$(tail -n +"$((LINES0 + 1))" "$ALOG" | grep ' : ERROR : ')
# A run that failed only its s3 delivery after the local one adds a
# summary; every other line is a failed request.
REQ_ERRS=$(printf '%s\n' "$ERRS" | grep -v 'destinations failed' || true)
is "one line per failed archive_command ($FAILED)" "$(count_lines "$REQ_ERRS")" "$FAILED"
like "failures were logged" "$REQ_ERRS" "s3://$BUCKET/wal/"
is "each names an s3:// object of the archive and the transport error" \
	"$(printf '%s\n' "$REQ_ERRS" | grep -vE "s3://$BUCKET/wal/[^ ]+: (GET|HEAD|PUT): [^ ]*.*(connect|Connection|reset|reply|receiving|sending|timed out)" || true)" ""
ok "nothing lost: every object equals its local copy, none extra or partial" every_object_is_local
is "no incomplete multipart upload" "$(s3_pending "$BUCKET")" ""

# --- an object already there --------------------------------------------------

# A segment archived earlier, as PostgreSQL would pass it again.
NAME=$(cd "$L" && ls | grep -E '^[0-9A-F]{24}\.gz$' | head -n 3 | tail -n 1)
NAME=${NAME%.gz}
gzip -dc "$L/$NAME.gz" >"$T/seg/$NAME"
chown postgres "$T/seg/$NAME"
# direct [ENV...] -- ARGS...: pitr-archive as postgres, with this run's
# store options and the segment, its log in T/log/direct.log.
direct()
{
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	: >"$T/log/direct.log"
	chown postgres "$T/log/direct.log"
	# shellcheck disable=SC2086
	it_run as_pg env "${envs[@]}" "$PA" -D "$D" -l "$T/log/direct.log" $S3OPTS "$@" "$T/seg/$NAME"
}
direct AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- -dr "gzip=s3://$BUCKET/wal/"
is "an identical object: exit 0" "$IT_RC" 0
like "... counted as delivered" "$(cat "$T/log/direct.log")" \
	"\"$NAME.gz\" was already at s3 destination \"s3://$BUCKET/wal/\" with the same content"
printf 'X' | dd of="$T/seg/$NAME" bs=1 seek=100000 conv=notrunc status=none
direct AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- -dr "gzip=s3://$BUCKET/wal/"
is "a different object: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... saying why" "$IT_ERR" \
	": ERROR : \"s3://$BUCKET/wal/$NAME.gz\" already exists with different content: not overwritten$"
s3_req GET "/$BUCKET/wal/$NAME.gz" -o "$T/seg/object"
ok "... the object unchanged" cmp "$T/seg/object" "$L/$NAME.gz"

# --- refusals: one line each, exit 1 -------------------------------------------

s3_mb -u other other-bucket
# refused DESC STATUS CODE [ENV...] -- ARGS: exit 1, one line naming an
# object of the location, the HTTP status and S3's error code.
refused()
{
	local desc=$1 status=$2 code=$3
	shift 3
	direct "$@"
	is "$desc: exit 1" "$IT_RC" 1
	is "$desc: one line" "$(count_lines "$IT_ERR")" 1
	like "$desc: the object, HTTP $status, $code" "$IT_ERR" \
		": ERROR : .*s3://[a-z-]+/wal/[^ ]+: [A-Z]+: HTTP $status $code"
}
refused "wrong credentials" 403 InvalidAccessKeyId \
	AWS_ACCESS_KEY_ID=AKIAWRONGWRONGWRONG1 AWS_SECRET_ACCESS_KEY=not-the-secret -- \
	-dr "gzip=s3://$BUCKET/wal/"
refused "a missing bucket" 404 NoSuchBucket AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- \
	-dr "gzip=s3://no-such-bucket/wal/"
refused "another user's bucket" 403 AccessDenied AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- \
	-dr "gzip=s3://other-bucket/wal/"
is "another user's bucket: nothing written there" \
	"$(s3_req -u other GET "/other-bucket?list-type=2" | s3_xml Key)" ""

# --- a backup -------------------------------------------------------------------

# Uncompressed, so that the data tarball outgrows one 16 MiB part.
# shellcheck disable=SC2086
it_run env AWS_SHARED_CREDENTIALS_FILE="$CREDS" runuser -u postgres -- "$PB" \
	-h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -sx -l "$T/log/backup.log" \
	-dl "$T/bk" -dr "s3://$BUCKET/backups/" $S3OPTS
is "pitr-backup-master to s3: exit 0" "$IT_RC" 0
BKEYS=$(s3_keys "$BUCKET" backups/ | sed 's|^backups/||')
is "its objects are the local backup's files" "$BKEYS" "$(cd "$T/bk" && LC_ALL=C ls)"
like "... data and meta among them" "$BKEYS" 'data.*meta'
for f in $BKEYS; do
	s3_req GET "/$BUCKET/backups/$f" -o "$T/seg/object"
	ok "object $f equals the local copy" cmp "$T/seg/object" "$T/bk/$f"
done
DATA=$(printf '%s\n' "$BKEYS" | grep -- -data-)
SIZE=$(stat -c %s "$T/bk/$DATA")
if [ "$SIZE" -gt $((16 << 20)) ]; then
	like "the data tarball ($SIZE bytes) was uploaded in parts" \
		"$(s3_req HEAD "/$BUCKET/backups/$DATA" | tr -d '\r' | grep -i '^etag:')" '-[0-9]+"?$'
else
	diag "data tarball of $SIZE bytes: one part, multipart not asserted"
fi
is "no incomplete multipart upload after the backup" "$(s3_pending "$BUCKET")" ""

# A backup to two locations, the second holding the data tarball's name
# already: it fails as its first part fills, and the upload begun at the
# first is aborted, leaving nothing there.
s3_req PUT "/$BUCKET/taken/$DATA" --data-binary 'someone else' >/dev/null
mkdir_pg "$T/bk2"
# shellcheck disable=SC2086
it_run env AWS_SHARED_CREDENTIALS_FILE="$CREDS" runuser -u postgres -- "$PB" \
	-h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -sx -l "$T/log/backup2.log" \
	-dr "s3://$BUCKET/free/" -dr "s3://$BUCKET/taken/" $S3OPTS
is "a data tarball's name taken: exit 1" "$IT_RC" 1
like "... one line naming the object" "$(grep ' : ERROR : ' "$T/log/backup2.log" | head -n 1)" \
	"\"s3://$BUCKET/taken/$DATA\" already exists: not overwritten"
is "... nothing of the backup stored at the other location" "$(s3_keys "$BUCKET" free/)" ""
is "... its upload aborted: none pending" "$(s3_pending "$BUCKET")" ""
is "... the object in the way untouched" "$(s3_req GET "/$BUCKET/taken/$DATA")" "someone else"

# --- no credential anywhere ---------------------------------------------------------

SHOWN=$(pg_sql "$D" "SELECT setting FROM pg_settings WHERE name = 'archive_command'")
for secret in "$RGW_KEY" "$RGW_SECRET"; do
	unlike "archive_command as pg_settings shows it holds no credential" "$SHOWN" "$secret"
	# Ceph's own store and the credentials file hold them by design.
	is "no log, output or process title holds a credential" \
		"$(grep -rlF --exclude-dir=ceph --exclude-dir=aws -e "$secret" "$T" 2>/dev/null)" ""
done
like "process titles were sampled" "$(cat "$T/log/ps.txt")" 'postgres'

it_done
