#!/bin/bash
# recover-chain.sh - pitr-recover applies an incremental backup's chain
# (issue 13): a real PostgreSQL 15 primary with a tablespace, a full backup
# and two incrementals by pitr-backup-master --incremental-from latest
# (no --digest: the incrementals get their SHA-256 digest files anyway)
# (rows updated, a table added and one dropped, a database dropped, a
# vacuum); the chain recovered to the archive's end holds every table's
# rows as the primary has them, and a time inside the chain recovers the
# first incremental's, its links proven by their digests without being read
# through; a missing link and a damaged incremental (by its digest) are
# refused by name with nothing written.  Short: the one server, small
# tables, 1 MiB segments.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover-chain
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state" "$T/ts"
pg_archiving_primary "$P1"
PORT=$(pg_port "$P1")

# backup [ARGS...]: one per second (the name template holds the time).
backup()
{
	sleep 1.1
	as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" \
		-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__" "$@"
}
# Every table's rows, in order, as one digest per table.
tables()
{
	pg_sql "$1" "SELECT string_agg(c.relname || '=' || (xpath('/row/m/text()',
		query_to_xml('SELECT md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) AS m FROM '
		|| quote_ident(c.relname) || ' t', false, true, '')))[1]::text, ' ' ORDER BY c.relname)
		FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
}
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

ok "tables a (in tablespace ts, 40000 rows), b and gone; database db2" pg_sql "$P1" \
	"CREATE TABLESPACE ts LOCATION '$T/ts'" \
	"CREATE TABLE a (id int PRIMARY KEY, v text) TABLESPACE ts" \
	"INSERT INTO a SELECT i, repeat('x', 100) FROM generate_series(1, 40000) i" \
	"CREATE TABLE b AS SELECT i AS id, md5(i::text) AS v FROM generate_series(1, 20000) i" \
	"CREATE TABLE gone AS SELECT generate_series(1, 1000) AS id" \
	"CREATE DATABASE db2"
ok "full backup" backup
ok "changes: 1% of a updated, table n added, gone dropped, vacuum" pg_sql "$P1" \
	"UPDATE a SET v = 'changed 1' WHERE id % 100 = 0" \
	"CREATE TABLE n AS SELECT generate_series(1, 500) AS id" "DROP TABLE gone" "VACUUM a"
ok "incremental 1" backup --incremental-from latest
sleep 1
TIME=$(pg_sql "$P1" "SELECT clock_timestamp()")
MID=$(tables "$P1")
ok "changes: b updated, more of a, database db2 dropped" pg_sql "$P1" \
	"UPDATE b SET v = 'changed 2' WHERE id % 50 = 0" "UPDATE a SET v = 'changed 3' WHERE id < 100" \
	"DROP DATABASE db2"
ok "incremental 2" backup --incremental-from latest
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60
END=$(tables "$P1")
mapfile -t METAS < <(cd "$BK" && ls bk-meta-*.tar.gz)
is "three backups" "${#METAS[@]}" 3
B3=${METAS[2]/meta/*}
like "incremental 2's chain is the full backup and incremental 1" "$(gzip -dc "$BK/${METAS[2]}")" \
	"chain=[^|]+\|[^|]+"

# recover NAME ARGS...: as postgres into $T/NAME/data on a fresh port, the
# tablespace to $T/NAME/ts, started and promoted at the target.
recover()
{
	local name=$1 port
	shift
	mkdir_pg "$T/$name"
	port=$(pg_adopt "$T/$name/data")
	it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/$name/data" --tablespace-map "$T/ts=$T/$name/ts" \
		--start --port "$port" --wait 60 --target-action promote "$@"
}

recover r-end
is "the chain to the end: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "... the newest backup, applied over its chain of 2" "$IT_ERR" \
	"backup \"$(re "$B3")\" is incremental: applied over a chain of 2"
like "... its chain checked before anything was written, the incrementals by their SHA-256 digests (written without --digest), not read through" "$IT_ERR" \
	"chain of backup \"$(re "$B3")\" checked: 3 sig files, 0 incremental data tarballs read through, 2 proven by their digests"
is "... every table's rows as on the primary" "$(tables "$T/r-end/data")" "$END"
is "... database db2 is gone" "$(pg_sql "$T/r-end/data" "SELECT count(*) FROM pg_database WHERE datname = 'db2'")" 0
ok "... amcheck finds a's index sound" pg_sql "$T/r-end/data" "CREATE EXTENSION amcheck" \
	"SELECT bt_index_check('a_pkey', true)"
pg_stop "$T/r-end/data"

recover r-mid --target-time "$TIME"
is "a time inside the chain: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "... the first incremental, over the full backup" "$IT_ERR" "is incremental: applied over a chain of 1 "
is "... every table's rows as they were then" "$(tables "$T/r-mid/data")" "$MID"
pg_stop "$T/r-mid/data"

# --- refusals, nothing written --------------------------------------------
data2=${METAS[1]/meta/data}
label2=$(gzip -dc "$BK/${METAS[1]}" | sed -n 's/^label=//p')
mv "$BK/$data2" "$T/$data2"
mkdir_pg "$T/r-missing"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-missing/data" --tablespace-map "$T/ts=$T/r-missing/ts"
is "a missing link: exit 1" "$IT_RC" 1
like "... named with its directory" "$IT_ERR" \
	"ERROR : backup \"$(re "$B3")\" is incremental: its chain needs backup \"$(re "$label2")\", whose data file is missing from \"$(re "$BK")\": nothing written"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/r-missing")" ""
mv "$T/$data2" "$BK/$data2"

cp -p "$BK/$data2" "$T/$data2"
flip_byte "$BK/$data2"
mkdir_pg "$T/r-bad"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/r-bad/data" --tablespace-map "$T/ts=$T/r-bad/ts"
is "a damaged incremental: exit 1" "$IT_RC" 1
like "... named, by its SHA-256 digest" "$IT_ERR" "ERROR : \"$(re "$BK/$data2")\" does not match its SHA-256 digest"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/r-bad")" ""
cp -p "$T/$data2" "$BK/$data2"

it_done
