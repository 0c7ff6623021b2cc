#!/bin/bash
# s3-archive.sh - pitr-archive and pitr-backup-master to an object store: a
# real single-node Ceph cluster's RADOS gateway (lib.sh's ceph_start), over
# HTTPS checked against the test's CA.  A PostgreSQL 15 primary archives
# to a local directory and to s3:// under pgbench load, the gateway is
# stopped and started again meanwhile; an identical and a different object
# already there; wrong credentials, a missing bucket, another user's
# bucket; a backup whose data tarball is a multipart upload; pitr-check
# reading the segment back from the store (a good archive, a missing
# bucket, a wrong object, no credentials, its own --s3-endpoint); the
# archive module pitrkit_archive archiving to the store over HTTPS with
# its s3_* settings, checked by pitr-check; and no credential in any log,
# output or process title.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# Helpers here run through ok/wait_for, which shellcheck cannot follow:
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-archive
it_require curl gzip cmp
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PC=$PITR_BUILDDIR/bin/pitr-check
it_need_built "$PA" "$PB" "$PC"
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
# LD_LIBRARY_PATH: the archive module, at the end, loads this build's
# libpitrkit.
AWS_SHARED_CREDENTIALS_FILE=$CREDS LD_LIBRARY_PATH="$PITR_BUILDDIR/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
	ok "the primary starts, the credentials file named in its environment" pg_start "$D"

# ps_sample: the command lines of every process, kept for the credential
# grep at the end (process titles included).
ps_sample()
{
	ps -eo args >>"$T/log/ps.txt" 2>&1
}

# every_object_is_local [PREFIX DIR]: the objects under PREFIX (wal/)
# are exactly the files of the local archive DIR ($L), the
# system-identifier record included, each with the same bytes: nothing
# lost, nothing partial, nothing extra.
every_object_is_local()
{
	local prefix=${1:-wal/} dir=${2:-$L} keys names f n=0
	keys=$(s3_keys "$BUCKET" "$prefix" | sed "s|^$prefix||") || return 1
	names=$(find "$dir" -mindepth 1 -maxdepth 1 ! -name '.pitr-tmp.*' -printf '%f\n' | LC_ALL=C sort)
	if [ "$keys" != "$names" ]; then
		diff <(printf '%s\n' "$keys") <(printf '%s\n' "$names")
		return 1
	fi
	for f in $names; do
		s3_req GET "/$BUCKET/$prefix$f" -o "$T/seg/object" || return 1
		cmp "$T/seg/object" "$dir/$f" || return 1
		n=$((n + 1))
	done
	echo "$n objects equal to their local copies"
}

# --- archiving under load -------------------------------------------------

ok "pgbench -i" pg_bench "$D" -i -s 1 -q
SEG=$(pg_switch "$D")
wait_for "the archiver archives $SEG" 30 pg_is_archived "$D" "$SEG"
ps_sample
# segments LOCALDIR: the names of the archived segments, sorted.
segments()
{
	find "$1" -maxdepth 1 -regextype egrep -regex '.*/[0-9A-F]{24}\.gz' -printf '%f\n' | LC_ALL=C sort
}
N=$(segments "$L" | wc -l)
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
NAME=$(segments "$L" | sed -n 3p)
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
# The gateway's log of requests for the object: pitr-archive's warm-up
# HEADs the key while it compresses, and a PUT is not sent once that
# found the object.  A request for a marker key after the call is waited
# for in the log, so every earlier line is there.
rgwlog=$CEPH_DIR/log/client.rgw.gw.log
requests() { grep -c "\"$1 /$BUCKET/wal/$NAME.gz " "$rgwlog" || true; }
logged_marker() { grep -q "\"HEAD /$BUCKET/marker-$1 " "$rgwlog"; }
PUTS0=$(requests PUT) HEADS0=$(requests HEAD)
direct AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- -dr "gzip=s3://$BUCKET/wal/"
is "an identical object: exit 0" "$IT_RC" 0
like "... counted as delivered" "$(cat "$T/log/direct.log")" \
	"\"$NAME.gz\" was already at s3 destination \"s3://$BUCKET/wal/\" with the same content"
s3_req HEAD "/$BUCKET/marker-1" >/dev/null 2>&1 || true
wait_for "the gateway logged the call's requests" 10 logged_marker 1
is "... found by the warm-up's one HEAD" "$(requests HEAD)" $((HEADS0 + 1))
is "... and no PUT sent" "$(requests PUT)" "$PUTS0"
printf 'X' | dd of="$T/seg/$NAME" bs=1 seek=100000 conv=notrunc status=none
direct AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- -dr "gzip=s3://$BUCKET/wal/"
is "a different object: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... saying why" "$IT_ERR" \
	": ERROR : \"s3://$BUCKET/wal/$NAME.gz\" already exists with different content: not overwritten$"
s3_req GET "/$BUCKET/wal/$NAME.gz" -o "$T/seg/object"
ok "... the object unchanged" cmp "$T/seg/object" "$L/$NAME.gz"

# --- -s: the state dir's memo of the system identifier record ---------------

# A fresh prefix: the first call checks (writes) the record and leaves a
# memo; while it is fresh the record is not read (nor written again); an
# aged memo is checked again, and a record of another system refused.
SYSID=$(pg_sql "$D" "SELECT system_identifier FROM pg_control_system()")
mkdir_pg "$T/mstate"
memo_run() { direct AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- -s "$T/mstate" -dr "gzip=s3://$BUCKET/memo/"; }
memo_run
is "-s, a new prefix: exit 0" "$IT_RC" 0
is "... the record written" "$(s3_req GET "/$BUCKET/memo/.pitrkit-system-identifier")" "$SYSID"
like "... a memo in the state dir" "$(cat "$T"/mstate/.pitr-sysid-* 2>/dev/null)" \
	"^$SYSID .* s3://$BUCKET/memo/\$"
s3_req DELETE "/$BUCKET/memo/.pitrkit-system-identifier" >/dev/null
s3_req DELETE "/$BUCKET/memo/$NAME.gz" >/dev/null
memo_run
is "a fresh memo: exit 0" "$IT_RC" 0
is "... the record neither read nor written" "$(s3_keys "$BUCKET" memo/)" "memo/$NAME.gz"
echo 12345 >"$T/other-record"
s3_req PUT "/$BUCKET/memo/.pitrkit-system-identifier" -T "$T/other-record" >/dev/null
s3_req DELETE "/$BUCKET/memo/$NAME.gz" >/dev/null
touch -d '2 hours ago' "$T"/mstate/.pitr-sysid-*
memo_run
is "an aged memo, another system's record: exit 1" "$IT_RC" 1
like "... the record read and refused" "$IT_ERR" \
	"holds WAL of database system 12345, not $SYSID: refusing to mix clusters"
is "... nothing stored" "$(s3_keys "$BUCKET" memo/)" "memo/.pitrkit-system-identifier"

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
# pitr-monitor knows backup ages from the backup program's log, whatever
# the destination: a backup to an object store counts.
mkdir -p "$T/monstate"
it_run "$PITR_BUILDDIR/bin/pitr-monitor" -l "$T/log/backup.log" -s "$T/monstate" -c last-backup-age
is "pitr-monitor last-backup-age after the s3 backup: exit 0" "$IT_RC" 0
ok "... an age in seconds below 300 ($IT_OUT)" awk -v v="$IT_OUT" \
	'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 < 300) }'

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

# No credentials anywhere: the backup fails as it opens its destinations,
# before pg_backup_start, with nothing published at a local copy.
mkdir_pg "$T/bk3"
# shellcheck disable=SC2086
it_run env AWS_SHARED_CREDENTIALS_FILE="$T/no-such-credentials" runuser -u postgres -- "$PB" \
	-h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -sx -l "$T/log/backup3.log" \
	-dl "$T/bk3" -dr "s3://$BUCKET/nocreds/" $S3OPTS
is "a backup without credentials: exit 1" "$IT_RC" 1
is "... one line" "$(grep -c ' : ERROR : ' "$T/log/backup3.log")" 1
like "... naming where credentials were looked for" "$(grep ' : ERROR : ' "$T/log/backup3.log")" \
	'no-such-credentials'
unlike "... before the backup started" "$(cat "$T/log/backup3.log")" 'started at'
is "... nothing at the local copy" "$(ls -A "$T/bk3")" ""

# --- pitr-check reads the segment back from the store --------------------------

CONN=(-h 127.0.0.1 -p "$(pg_port "$D")" -U postgres -d postgres)
# check [ENV...] -- ARGS...: pitr-check (as root, the operator) with
# ENV, its output kept under T/log for the credential grep.
check()
{
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	it_run env "${envs[@]}" "$PC" "${CONN[@]}" "$@"
	printf '%s\n%s\n' "$IT_OUT" "$IT_ERR" >>"$T/log/check.out"
}
check AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- --timeout 30
is "pitr-check, archive_command to a local dir and s3: exit 0" "$IT_RC" 0
is "... nothing on stderr" "$IT_ERR" ""
SEG=$(printf '%s\n' "$IT_OUT" | sed -n 's/^archiving works: "\([0-9A-F]*\)".*/\1/p')
like "... the s3 copy read back, its header and system identifier checked" "$IT_OUT" \
	"s3 destination \"s3://$BUCKET/wal/\": \"$SEG.gz\" arrived in [0-9.]+ s, read back whole, page header and system identifier [0-9]+ checked"
like "... both destinations reached" "$IT_OUT" "archiving works: \"$SEG\" reached 2 destinations"
s3_req GET "/$BUCKET/wal/$SEG.gz" -o "$T/seg/object"
ok "... the object it read is the local copy" cmp "$T/seg/object" "$L/$SEG.gz"

# The call checked is given: the server keeps archiving to wal/.
# checked_call DEST...: an archive_command naming DEST as -dr.
checked_call()
{
	local dests=() d
	for d in "$@"; do
		dests+=(-dr "$d")
	done
	printf '%s %s %s "%%p"' "$PA" "${dests[*]}" "$S3OPTS"
}
START=$(date +%s)
check AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- --timeout 30 \
	--archive-command "$(checked_call "gzip=s3://no-such-bucket/wal/")"
is "pitr-check, a missing bucket: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... naming the object, HTTP 404 and NoSuchBucket" "$IT_ERR" \
	"ERROR : s3://no-such-bucket/wal/[^ ]*: [A-Z]+: HTTP 404 NoSuchBucket"
ok "... at once, not after --timeout ($(($(date +%s) - START)) s)" test $(($(date +%s) - START)) -lt 15

# A wrong object where the next segment is looked for: an older segment's
# copy under its name (and under the one after, should a switch come
# between), as a mixed-up archive would hold.
NEXT=$(pg_sql "$D" "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
OLD=$(segments "$L" | head -n 1)
for name in "$NEXT" "$(printf '%s%016X' "${NEXT:0:8}" $((16#${NEXT:8:16} + 1)))"; do
	s3_req PUT "/$BUCKET/wrong/$name.gz" --data-binary "@$L/$OLD" >/dev/null
done
check AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- --timeout 30 \
	--archive-command "$(checked_call "gzip=s3://$BUCKET/wrong/")"
is "pitr-check, a wrong object: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... naming the object (not the fetched file) and its wrong header" "$IT_ERR" \
	"ERROR : \"s3://$BUCKET/wrong/[0-9A-F]{24}\\.gz\" has page address [0-9A-F/]+ but its name says"

BEFORE=$(pg_sql "$D" "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")
check AWS_SHARED_CREDENTIALS_FILE="$T/aws/none" AWS_ACCESS_KEY_ID= AWS_SECRET_ACCESS_KEY= -- \
	--timeout 30
is "pitr-check, no credentials: exit 1" "$IT_RC" 1
is "... one line" "$(count_lines "$IT_ERR")" 1
like "... saying where it looked" "$IT_ERR" "$T/aws/none"
is "... before switching WAL: the server still on the same segment" \
	"$(pg_sql "$D" "SELECT pg_walfile_name(pg_current_wal_insert_lsn())")" "$BEFORE"

# --- the archive module to the store --------------------------------------------

MOD=$PITR_BUILDDIR/pgmodule/pitrkit_archive.so
if ! grep -q '^PG_PKGLIBDIR = .' "$PITR_BUILDDIR/Makefile"; then
	diag "the archive module is not built (no PGXS): its s3 settings are not tested"
elif [ -n "${PITR_SAN_CFLAGS:-}" ]; then
	# See archive-module.sh: PostgreSQL cannot load the sanitizer runtimes.
	diag "sanitizer build: the archive module runs in the normal build"
else
	[ -f "$MOD" ] || it_bail "no $MOD: build first"
	L2=$T/local2
	mkdir_pg "$L2" "$T/state2"
	# Reloaded: PostgreSQL restarts its archiver with the library, in
	# the server's environment (the credentials file it names).
	pg_set "$D" "archive_library = '$MOD'" \
		"pitrkit_archive.dst_local = 'gzip=$L2'" \
		"pitrkit_archive.dst_remote = 'gzip=s3://$BUCKET/module/'" \
		"pitrkit_archive.state_dir = '$T/state2'" \
		"pitrkit_archive.log = '$T/log/module.log'" \
		"pitrkit_archive.s3_endpoint = '$RGW_HTTPS'" \
		"pitrkit_archive.s3_uri_style = 'path'" \
		"pitrkit_archive.s3_ca_file = '$RGW_CA'" \
		"pitrkit_archive.s3_timeout = '5s'" \
		"pitrkit_archive.s3_retries = 1"
	pg_sql "$D" "SELECT pg_reload_conf()" >/dev/null
	# module_archived: a new segment reached the module's local copy.
	module_archived()
	{
		local seg
		seg=$(pg_switch "$D") && pg_wait_archived "$D" "$seg" 20 >/dev/null && [ -f "$L2/$seg.gz" ]
	}
	wait_for "the module archives after the reload" 30 module_archived
	SEG=$(pg_switch "$D")
	ok "the module archives $SEG" pg_wait_archived "$D" "$SEG" 20
	ok "every object under module/ equals the module's local copy, none missing or extra" \
		every_object_is_local module/ "$L2"
	like "... $SEG among them" "$(s3_keys "$BUCKET" module/)" "module/$SEG.gz"
	is "the module's log has no error" "$(grep ' : ERROR : ' "$T/log/module.log")" ""
	is "the server log has no pitrkit_archive warning" \
		"$(grep 'WARNING:  pitrkit_archive' "$(pg_logfile "$D")")" ""

	check AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- --timeout 30
	is "pitr-check, the module's settings: exit 0" "$IT_RC" 0
	is "... nothing on stderr" "$IT_ERR" ""
	like "... the s3 copy read back through the module's s3_* settings" "$IT_OUT" \
		"s3 destination \"s3://$BUCKET/module/\": \"[0-9A-F]{24}\\.gz\" arrived in [0-9.]+ s, read back whole"
	like "... both destinations reached" "$IT_OUT" "reached 2 destinations"
	# Its own --s3-endpoint replaces the module's: nothing listens there.
	check AWS_SHARED_CREDENTIALS_FILE="$CREDS" -- --timeout 30 \
		--s3-endpoint "http://127.0.0.1:$(free_port)" --s3-retries 0
	is "pitr-check --s3-endpoint (nothing listening): exit 1" "$IT_RC" 1
	is "... one line" "$(count_lines "$IT_ERR")" 1
	like "... naming the object and the connection refused" "$IT_ERR" \
		"ERROR : s3://$BUCKET/module/[^ ]*: [A-Z]+: .*(connect|Connection refused)"
fi

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
