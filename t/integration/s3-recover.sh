#!/bin/bash
# s3-recover.sh - pitr-recover from backups and WAL in a real object store
# (a single-node Ceph with its RADOS gateway, from lib.sh), over HTTPS with
# the test's CA, the credentials in a file the programs' environment names,
# never on a command line: a PostgreSQL 15 primary (a tablespace, 1 MiB
# segments) archives with pitr-archive -dr gzip=s3://...; pitr-backup-master
# writes a full backup and an incremental one to gzip=s3://... and to a
# local dir, where --incremental-from finds its base.  Recovered from
# the store alone to a time after the incremental, the chain is streamed
# from the store (sig files, data and xlog tarballs, digests) and the server
# holds exactly the primary's rows up to the time, its index sound; its
# restore_command reads the store with this run's --s3-* options and no
# credential.  The local backups with the store's archive (mixed), to a
# restore point, hold the rows up to it.  A pitr-synch copy with --archive
# in the store gets the same restore_command and, started, recovers the
# rows committed after it from the store.  A chain written to the store
# alone (a full backup, two incrementals on "latest", their bases found
# there; the second one also to an empty dir and an empty prefix, each
# warned of as lacking its base) is recovered from the store alone to the
# archive's end with the primary's rows; a base name the store lacks is
# refused in one line, no backup added.  A data object overwritten with
# garbage is refused by its digest in one line with nothing written, and so
# are wrong credentials.  No log, output or process title holds a
# credential.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-recover
it_reap pitr-restore
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
PS=$PITR_BUILDDIR/bin/pitr-synch
it_need_built "$PA" "$PB" "$PR" "$PS"
ceph_start || it_bail "no Ceph"

P=$T/p
BK=$T/bk
mkdir_pg "$BK" "$T/state" "$T/ts" "$T/aws" "$T/log"
ok "bucket pitr" s3_mb pitr
CREDS=$T/aws/credentials
printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
	"$RGW_KEY" "$RGW_SECRET" >"$CREDS"
chown postgres:postgres "$CREDS"
chmod 600 "$CREDS"
S3=(--s3-endpoint "$RGW_HTTPS" --s3-uri-style path --s3-ca-file "$RGW_CA" --s3-retries 1
	--s3-timeout 5)
WAL=gzip=s3://pitr/wal/
BKS=s3://pitr/backups/

ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_set "$P" "archive_mode = on" \
	"archive_command = 'test \"\$(pwd -P)\" = \"$P\" || exit 0; exec $PA -l $T/log/archive.log -s $T/state -db $T/xlogs -dr $WAL ${S3[*]} \"%p\"'"
# For the server only: its archiver's archive_command inherits it.
AWS_SHARED_CREDENTIALS_FILE=$CREDS ok "p starts, the credentials file named in its environment" \
	pg_start "$P"
PORT=$(pg_port "$P")

# pg_as_creds CMD...: CMD as postgres, the credentials file named in its
# environment.
pg_as_creds() { as_pg env AWS_SHARED_CREDENTIALS_FILE="$CREDS" "$@"; }
# backup [ARGS...]: to the store and to $BK, one per second (the name
# template holds the time), SHA-256 digests.
backup()
{
	sleep 1.1
	pg_as_creds "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -l "$T/log/backup.log" -x "$T/xlogs" \
		-dl "gzip=$BK" -dr "gzip=$BKS" "${S3[@]}" -dg SHA-256 \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" "$@"
}
rows() { pg_sql "$P" "INSERT INTO t SELECT generate_series($1, $2)"; }
# ids DIR [MAX]: the rows of t (up to id MAX) as count|digest.
ids()
{
	pg_sql "$1" "SELECT count(*) || '|' || md5(string_agg(id::text, ',' ORDER BY id)) FROM t
		WHERE id <= ${2:-2147483647}"
}
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

ok "table t (primary key) in tablespace ts, amcheck, rows 1..100" pg_sql "$P" \
	"CREATE TABLESPACE ts LOCATION '$T/ts'" "CREATE EXTENSION amcheck" \
	"CREATE TABLE t (id int PRIMARY KEY) TABLESPACE ts" "INSERT INTO t SELECT generate_series(1, 100)"
ok "full backup to the store" backup
ok "rows 101..200" rows 101 200
ok "incremental backup to the store (its base in $BK)" backup --incremental-from latest
ok "rows 201..300" rows 201 300
sleep 1
TIME=$(pg_sql "$P" "SELECT clock_timestamp()")
sleep 1
ok "rows 301..400, restore point rp1, rows 401..500" rows 301 400 &&
	pg_sql "$P" "SELECT pg_create_restore_point('rp1')" >/dev/null && rows 401 500
last=$(pg_switch "$P")
ok "the last segment $last is archived" pg_wait_archived "$P" "$last" 60
KEYS=$(s3_keys pitr backups/ | sed 's|^backups/||')
is "the store holds the local backups' files" "$KEYS" "$(cd "$BK" && LC_ALL=C ls)"
mapfile -t METAS < <(printf '%s\n' "$KEYS" | grep -- -meta-)
is "two backups" "${#METAS[@]}" 2
B1=${METAS[0]/meta/*}
B2=${METAS[1]/meta/*}

# recover NAME ARGS...: pitr-recover as postgres, the credentials file in
# its environment (and so the server's, for its restore_command), into
# $T/NAME/data on a fresh port, the tablespace to $T/NAME/ts, started.
recover()
{
	local name=$1 port
	shift
	mkdir_pg "$T/$name"
	port=$(pg_adopt "$T/$name/data")
	it_run pg_as_creds "$PR" -l "$T/log/$name.log" -D "$T/$name/data" "${S3[@]}" \
		--tablespace-map "$T/ts=$T/$name/ts" --start --port "$port" --wait 60 "$@"
	IT_ERR=$(cat "$T/log/$name.log" 2>/dev/null)
}
server_log() { cat "$T/$1/data/pitr-recover.log" 2>/dev/null; }

# --- the chain, from the store alone, to a time -----------------------------------
recover r-time -b "$BKS" -a "$WAL" --target-time "$TIME"
is "from the store to a time: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-time)")"
like "... the incremental chosen, from the store" "$IT_ERR" \
	"from backup \"$(re "$B2")\""
like "... applied over its full backup" "$IT_ERR" \
	"backup \"$(re "$B2")\" is incremental: applied over a chain of 1 \(full backup \"$(re "$B1")\" first\)"
like "... the full backup's objects proven by their digests, read from the store" "$IT_ERR" \
	"SHA-256 digests of backup \"$(re "$B1")\" match"
like "... the chain checked (its sig objects read)" "$IT_ERR" \
	"chain of backup \"$(re "$B2")\" checked: 2 sig files"
like "... the archive named as the store's" "$IT_ERR" "archive \"$(re "$WAL")\""
like "... paused at the target" "$IT_ERR" "the server is paused at the target"
is "... rows 1..300, as on the primary" "$(ids "$T/r-time/data")" "$(ids "$P" 300)"
ok "... amcheck finds t's index sound" pg_sql "$T/r-time/data" "SELECT bt_index_check('t_pkey', true)"
is "... the tablespace is at its new place" \
	"$(readlink "$T/r-time/data/pg_tblspc/$(pg_sql "$T/r-time/data" "SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")")" \
	"$T/r-time/ts"
CONF=$(cat "$T/r-time/data/postgresql.auto.conf")
like "... restore_command reads the store with this run's --s3-* options" "$CONF" \
	"$(re "restore_command = '$PITR_BUILDDIR/bin/pitr-restore -sr -pf 4 --s3-endpoint=$RGW_HTTPS --s3-uri-style=path --s3-ca-file=$RGW_CA --s3-timeout=5 --s3-retries=1 -s $WAL %f \"%p\"'")"
like "... and its pitr-restore restored segments from the store" "$(server_log r-time)" \
	'pitr-restore : LOG : restored "[0-9A-F]{24}" from "s3://pitr/wal/[0-9A-F]{24}\.gz"'
unlike "... no ERROR in the server's log" "$(server_log r-time)" ' ERROR '
pg_stop "$T/r-time/data"

# --- the local backups with the store's archive, to a restore point -----------------
recover r-name -b "$BK" -a "$WAL" --target-name rp1 --target-action promote
is "local backups, the store's archive, to a restore point: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-name)")"
like "... the full backup chosen (the oldest, for a name)" "$IT_ERR" "from backup \"$(re "$B1")\""
like "... promoted" "$IT_ERR" "the server is promoted, on timeline 2"
is "... rows 1..400, as on the primary" "$(ids "$T/r-name/data")" "$(ids "$P" 400)"
pg_stop "$T/r-name/data"

# --- pitr-synch: a copy whose restore_command reads the store ------------------------
mkdir_pg "$T/sy"
it_run as_pg "$PS" -h 127.0.0.1 -p "$PORT" -U postgres -a -o "$T/sy/data" -m "$T/ts:$T/sy/ts" \
	--archive "$WAL" "${S3[@]}"
is "pitr-synch --archive $WAL: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "... its restore_command reads the store with the --s3-* options, no credential" \
	"$(cat "$T/sy/data/postgresql.auto.conf")" \
	"$(re "restore_command = '$PITR_BUILDDIR/bin/pitr-restore -sr --s3-endpoint=$RGW_HTTPS --s3-uri-style=path --s3-ca-file=$RGW_CA --s3-timeout=5 --s3-retries=1 -s $WAL %f \"%p\"'")"
ok "rows 501..600 on the primary, after the copy" rows 501 600
last=$(pg_switch "$P")
ok "their segment $last is archived" pg_wait_archived "$P" "$last" 60
AWS_SHARED_CREDENTIALS_FILE=$CREDS ok "the copy starts, the credentials file in its environment" \
	pg_start "$T/sy/data"
wait_for "... it recovers from the store to its end and is promoted" 60 pg_promoted "$T/sy/data"
is "... rows 1..600, as on the primary" "$(ids "$T/sy/data")" "$(ids "$P")"
like "... its pitr-restore restored them from the store" "$(cat "$(pg_logfile "$T/sy/data")")" \
	'pitr-restore : LOG : restored "[0-9A-F]{24}" from "s3://pitr/wal/[0-9A-F]{24}\.gz"'
pg_stop "$T/sy/data"

# --- a chain in the store alone: its bases looked up there ----------------------------
ONLY=s3://pitr/only/
# backup_only ARGS...: to $ONLY alone (no -dl).  Its names and label hold
# the time: a backup that follows one there sleeps first.
backup_only()
{
	pg_as_creds "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -l "$T/log/only.log" -x "$T/xlogs" \
		-dr "gzip=$ONLY" "${S3[@]}" -f "only-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" "$@"
}
# only_metas: the meta objects under $ONLY, oldest first.
only_metas() { s3_keys pitr only/ | sed 's|^only/||' | grep -- -meta-; }
# label_of META: the label of a backup in the store, from its meta object.
label_of()
{
	s3_req GET "/pitr/only/$1" | gzip -dc | sed -n 's/^label=//p'
}
ok "full backup to $ONLY alone" backup_only
ok "rows 601..700" rows 601 700
: >"$T/log/only.log"
sleep 1.1
ok "incremental --incremental-from latest to $ONLY alone" backup_only --incremental-from latest
mapfile -t OM < <(only_metas)
is "... two backups there" "${#OM[@]}" 2
L1=$(label_of "${OM[0]}")
like "... on the full backup, found in the store (a chain of 1)" "$(cat "$T/log/only.log")" \
	"incremental backup on \"$(re "$L1")\" in \"$(re "$ONLY")\" \(a chain of 1\)"
ok "rows 701..800" rows 701 800
# A second incremental, also to an empty local dir and an empty prefix:
# the base is looked up in the local dir first, then in the store, and
# both that lack it are warned of.
mkdir_pg "$T/bk-empty"
: >"$T/log/only.log"
sleep 1.1
ok "a second incremental on the latest, also to an empty dir and prefix" \
	backup_only --incremental-from latest -dl "gzip=$T/bk-empty" -dr "gzip=s3://pitr/empty/"
mapfile -t OM < <(only_metas)
is "... three backups in $ONLY" "${#OM[@]}" 3
L2=$(label_of "${OM[1]}")
OLOG=$(cat "$T/log/only.log")
like "... on the first incremental, from the store (a chain of 2)" "$OLOG" \
	"incremental backup on \"$(re "$L2")\" in \"$(re "$ONLY")\" \(a chain of 2\)"
like "... the local dir without the base warned of" "$OLOG" \
	"WARNING: --dst-local \"$(re "$T/bk-empty")\" does not hold base backup \"$(re "$L2")\""
like "... the prefix without it too" "$OLOG" \
	"WARNING: --dst-remote \"s3://pitr/empty/\" does not hold base backup \"$(re "$L2")\""
last=$(pg_switch "$P")
ok "rows 1..800 archived ($last)" pg_wait_archived "$P" "$last" 60
recover r-only -b "$ONLY" -a "$WAL"
is "the chain from $ONLY alone, to the archive's end: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(server_log r-only)")"
like "... the second incremental applied over a chain of 2" "$IT_ERR" \
	"backup \"$(re "${OM[2]/meta/*}")\" is incremental: applied over a chain of 2 \(full backup \"$(re "${OM[0]/meta/*}")\" first\)"
like "... promoted" "$IT_ERR" "the server is promoted"
is "... rows 1..800, as on the primary" "$(ids "$T/r-only/data")" "$(ids "$P")"
ok "... amcheck finds t's index sound" pg_sql "$T/r-only/data" "SELECT bt_index_check('t_pkey', true)"
pg_stop "$T/r-only/data"
: >"$T/log/only.log"
it_run backup_only --incremental-from "pitrkit nosuch"
is "--incremental-from a name the store lacks: exit 1" "$IT_RC" 1
IT_ERR=$(cat "$T/log/only.log")
like "... one line saying where it was looked for" "$IT_ERR" \
	'ERROR : base backup "pitrkit nosuch" not found in the s3:// --dst-remote locations'
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... no backup added" "$(only_metas | wc -l)" 3

# --- refusals, nothing written --------------------------------------------------
DATA1=${METAS[0]/meta/data}
head -c 100000 /dev/urandom >"$T/garbage"
ok "the full backup's data object overwritten with garbage" \
	s3_req PUT "/pitr/backups/$DATA1" -T "$T/garbage" -o /dev/null
recover r-bad -b "$BKS" -a "$WAL" --target-time "$TIME"
is "a damaged data object: exit 1" "$IT_RC" 1
like "... refused by its digest, named" "$IT_ERR" \
	"ERROR : \"$(re "s3://pitr/backups/$DATA1")\" does not match its SHA-256 digest in \"$(re "s3://pitr/backups/${METAS[0]/meta/SHA-256}")\""
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
unlike "... before anything was extracted" "$IT_ERR" 'extracted'
is "... nothing written" "$(ls -A "$T/r-bad")" ""
ok "... the tablespace's new place not made" test ! -e "$T/r-bad/ts"

mkdir_pg "$T/r-creds"
it_run as_pg env AWS_ACCESS_KEY_ID=nobody AWS_SECRET_ACCESS_KEY=wrong "$PR" "${S3[@]}" \
	-b "$BKS" -a "$WAL" -D "$T/r-creds/data"
is "wrong credentials: exit 1" "$IT_RC" 1
like "... one line, the store's refusal" "$IT_ERR" 'ERROR : .*s3://pitr/.*HTTP 403 InvalidAccessKeyId'
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/r-creds")" ""

# --- no credential anywhere ---------------------------------------------------------
ps -eo args >"$T/log/ps.txt" 2>&1
for secret in "$RGW_KEY" "$RGW_SECRET"; do
	# Ceph's own store and the credentials file hold them by design.
	is "no log, setting, output or process title holds a credential" \
		"$(grep -rlF --exclude-dir=ceph --exclude-dir=aws -e "$secret" "$T" 2>/dev/null)" ""
done

it_done
