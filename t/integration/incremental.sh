#!/bin/bash
# incremental.sh - incremental backups end to end against a real PostgreSQL
# 15 primary (issue 13): pgbench -i -s 20 (PITR_IT_INCR_SCALE), a full
# backup with SHA-256 digests, then ~1% of pgbench_accounts updated in 20
# runs of neighbouring rows, a new table, a dropped table and a VACUUM,
# an incremental (--incremental-from latest) whose manifest says so file by
# file and which stores a fraction of the full; more changes, a second
# incremental on the first.  pitr-recover applies the chain to the end of
# the archive, and to a time between the two incrementals (a chain of
# two); each recovered cluster holds exactly the primary's rows at that
# point (every table's row count and the sum of its rows' 64-bit hashes:
# an md5 of the sorted rows took 3 s a table) and bt_index_check (with
# heapallindexed) passes on every B-tree index.  A damaged data tarball of
# a middle link, a delta damaged under a valid digest, a missing base, and
# a sig file of another database system are refused: one error line, exit
# 1, nothing written.  A hot standby made from the chain (pitr-recover
# --standby) follows the archive; pitr-backup-slave takes an incremental
# from it on the primary's chain (with -dg MD5: it gets SHA-256 digests
# too, as every incremental does), and that chain of four (three from the
# primary, one from the standby) recovers to the standby's rows.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init incremental
it_require python3 lz4 sha256sum md5sum
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PS=$PITR_BUILDDIR/bin/pitr-backup-slave
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PS" "$PR"
it_reap pitr-restore
SCALE=${PITR_IT_INCR_SCALE:-20}
ROWS=$((SCALE * 100000))
started=$SECONDS

A=$T/arch
BK=$T/bk
P=$T/p
FMT='bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__'
mkdir_pg "$A" "$BK" "$T/state" "$T/aside" "$T/ts"
ok "initdb p (1 MiB segments)" pg_new "$P" --wal-segsize=1
# Only p archives (PostgreSQL runs archive_command in the data dir; the
# recovered copies carry this file).  pgbench -i's WAL is not archived:
# recovery never reads WAL from before the full backup, and 300 MiB of
# it would cost 300 pitr-archive runs.
ARCHIVE_CMD="test \"\$(pwd -P)\" = \"$P\" || exit 0; exec $PA -dl lz4=$A -db $T/xlogs -s $T/state \"%p\""
pg_set "$P" "archive_mode = on" "archive_command = 'exit 0'" "autovacuum = off" \
	"checkpoint_timeout = 1h" "max_wal_size = 1GB" "shared_buffers = 64MB"
ok "p starts" pg_start "$P"
ok "pgbench -i -s $SCALE" pg_bench "$P" -i -s "$SCALE" -q -I dtGvp
ok "amcheck, a table in a tablespace, a table to drop, the check functions" pg_sql "$P" \
	"CREATE EXTENSION amcheck" "CREATE TABLESPACE ts LOCATION '$T/ts'" \
	"CREATE TABLE in_ts (id int PRIMARY KEY, v text) TABLESPACE ts" \
	"INSERT INTO in_ts SELECT g, md5(g::text) FROM generate_series(1, 20000) g" \
	"CREATE TABLE doomed AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g" \
	"CREATE INDEX ON doomed (v)" \
	"CREATE FUNCTION it_digest() RETURNS SETOF text LANGUAGE plpgsql AS \$f\$
	DECLARE r record; n bigint; h text;
	BEGIN
		FOR r IN SELECT c.oid::regclass::text AS t FROM pg_class c
			JOIN pg_namespace s ON s.oid = c.relnamespace
			WHERE c.relkind = 'r' AND s.nspname = 'public' ORDER BY c.relname LOOP
			EXECUTE format('SELECT count(*), coalesce(sum(hashtextextended(x::text, 0)::numeric), 0) FROM %s x', r.t)
				INTO n, h;
			RETURN NEXT r.t || ' ' || n || ' ' || h;
		END LOOP;
	END \$f\$" \
	"CREATE FUNCTION it_amcheck() RETURNS bigint LANGUAGE plpgsql AS \$f\$
	DECLARE r record; n bigint := 0;
	BEGIN
		FOR r IN SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_am a ON a.oid = c.relam
			WHERE a.amname = 'btree' AND i.indisvalid AND c.relpersistence <> 't' LOOP
			PERFORM bt_index_check(r.oid::regclass, true);
			n := n + 1;
		END LOOP;
		RETURN n;
	END \$f\$" \
	"VACUUM ANALYZE doomed" "VACUUM ANALYZE in_ts" "CHECKPOINT"
pg_set "$P" "archive_command = '$ARCHIVE_CMD'"
ok "p archives from now on" pg_sql "$P" "SELECT pg_reload_conf()"
diag "set-up took $((SECONDS - started)) s"

# A label is the backup's start time to the second: the next backup
# starts in a later second than the last one stopped.
last_stop=0
after_last_stop() { [ "$(date +%s)" -gt "$last_stop" ]; }
metas() { local f; for f in "$BK"/bk-meta-*.tar.lz4; do [ -e "$f" ] && echo "${f##*/}"; done; }
meta() { lz4 -dcq "$BK/$1" | sed -n "s/^$2=//p"; }
manifest() { lz4 -dcq "$BK/${1/meta/sig}" | tar -xOf - manifest; }
fsize() { stat -c %s "$BK/$1"; }
# (A backup's files in $BK: "$BK"/bk-*-"${META#bk-meta-}".)
# name META: the backup's name (pitr-recover --backup), name_re META: as a
# regex.
name() { echo "${1/meta/*}"; }
re() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }
name_re() { re "$(name "$1")"; }
# backup ARGS...: pitr-backup-master into $BK (lz4, SHA-256), its new meta
# file's name in NEW.
backup()
{
	poll 5 after_last_stop
	it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$P")" -U postgres -x "$T/xlogs" \
		-dl "lz4=$BK" -dg SHA-256 -f "$FMT" "$@"
	NEW=$(metas | tail -n 1)
	last_stop=$(meta "$NEW" stop_epoch)
}
digest() { pg_sql "$1" "SELECT * FROM it_digest()"; }
relpath() { pg_sql "$P" "SELECT 'data/' || pg_relation_filepath('$1')"; }
# update FIRST STEP LEN: add 1 to abalance of the LEN rows from FIRST, and
# every STEP rows after them.
update()
{
	pg_sql "$P" "UPDATE pgbench_accounts SET abalance = abalance + 1, filler = 'changed'
		WHERE (aid - $1) % $2 < $3 AND aid >= $1"
}

# --- the full backup ----------------------------------------------------------
t0=$SECONDS
backup
is "full backup: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
diag "full backup took $((SECONDS - t0)) s"
B0=$NEW
L0=$(meta "$B0" label)
is "full: base and chain empty" "$(meta "$B0" base),$(meta "$B0" chain)" ","
ok "full: its sig file is written" test -s "$BK/${B0/meta/sig}"
like "full: its manifest has whole lines only" "$(manifest "$B0" | sed '1,/^$/d' | cut -d' ' -f1 | sort -u)" '^whole$'

# --- changes, incremental 1 -----------------------------------------------------
DOOMED=$(relpath doomed)
ACCOUNTS=$(relpath pgbench_accounts)
# A tablespace's file: its key ends as its path under the tablespace dir.
IN_TS=$(pg_sql "$P" "SELECT regexp_replace(pg_relation_filepath('in_ts'), '^pg_tblspc/[0-9]+/', '')")
# 1%: 20 runs of SCALE*50 neighbouring rows spread over the table.
changes1()
{
	update 1 $((ROWS / 20)) $((SCALE * 50)) &&
		pg_sql "$P" "CREATE TABLE fresh1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g" \
			"CREATE UNIQUE INDEX ON fresh1 (id)" "DROP TABLE doomed" "VACUUM pgbench_accounts" \
			"UPDATE in_ts SET v = 'changed' WHERE id % 1000 = 0"
}
ok "~1% of pgbench_accounts updated in 20 runs, a new table, a table dropped, VACUUM" changes1
FRESH1=$(relpath fresh1)
t0=$SECONDS
backup --incremental-from latest
is "incremental 1: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
diag "incremental 1 took $((SECONDS - t0)) s"
B1=$NEW
L1=$(meta "$B1" label)
is "incremental 1: a new backup" "$(metas | wc -l)" 2
is "incremental 1: meta base is the full backup's label" "$(meta "$B1" base)" "$L0"
is "incremental 1: meta chain is the full backup" "$(meta "$B1" chain)" "$L0"
M1=$(manifest "$B1")
like "incremental 1: manifest names its base" "$M1" $'(^|\n)base='"$(re "$L0")"$'\n'
like "incremental 1: the dropped table's file is removed" "$M1" $'\nremoved 0 '"$DOOMED"$'(\n|$)'
like "incremental 1: the new table is whole" "$M1" $'\nwhole [0-9]+ '"$FRESH1"$'(\n|$)'
like "incremental 1: pgbench_accounts is a delta" "$M1" $'\ndelta [0-9]+ '"$ACCOUNTS"$'(\n|$)'
like "incremental 1: in_ts, in the tablespace, is a delta" "$M1" $'\ndelta [0-9]+ tablespaces/[^\n]*/'"$IN_TS"$'(\n|$)'
like "incremental 1: pgbench_branches is the same" "$M1" $'\nsame [0-9]+ '"$(relpath pgbench_branches)"$'(\n|$)'
S0=$(fsize "${B0/meta/data}")
S1=$(fsize "${B1/meta/data}")
ok "incremental 1: its data tarball is under 10% of the full one's ($S1 of $S0 bytes)" \
	test $((S1 * 10)) -lt "$S0"
# pgbench_accounts: its changed chunks as .pitrkit/ members, not the file.
LIST1=$(lz4 -dcq "$BK/${B1/meta/data}" | tar -tf -)
CHUNKS=$(grep -c -E "^\\.pitrkit/$ACCOUNTS/[0-9]+\\.[dw]\$" <<<"$LIST1")
ALL=$(pg_sql "$P" "SELECT (pg_relation_size('pgbench_accounts') + 1048575) / 1048576")
ok "incremental 1: pgbench_accounts stored as changed chunks, $CHUNKS of $ALL" \
	test "$CHUNKS" -gt 0 -a $((CHUNKS * 4)) -lt "$ALL"
WHOLE_RE=$'(^|\n)p/'"${ACCOUNTS#data/}"$'(\n|$)'
unlike "incremental 1: ... and not whole" "$LIST1" "$WHOLE_RE"
like "... as the full backup stores it" "$(lz4 -dcq "$BK/${B0/meta/data}" | tar -tf -)" "$WHOLE_RE"
ok "incremental 1: SHA-256 digests pass" bash -c "cd '$BK' && sha256sum -c '${B1/meta/SHA-256}'"

# --- more changes, a time inside, incremental 2, more changes ------------------
changes2()
{
	update $((SCALE * 1000)) $((ROWS / 20)) $((SCALE * 25)) &&
		pg_sql "$P" "INSERT INTO fresh1 SELECT g, 'second' FROM generate_series(5001, 6000) g"
}
changes3()
{
	update $((SCALE * 2000)) $((ROWS / 10)) $((SCALE * 25)) &&
		pg_sql "$P" "CREATE TABLE fresh2 AS SELECT g AS id FROM generate_series(1, 3000) g" \
			"INSERT INTO pgbench_history SELECT 1, 1, g, g, now() FROM generate_series(1, 1000) g"
}
changes4()
{
	update 7 $((ROWS / 4)) 100 &&
		pg_sql "$P" "UPDATE fresh1 SET v = 'third' WHERE id % 7 = 0" "DELETE FROM fresh2 WHERE id > 2000"
}
changes5()
{
	update 11 $((ROWS / 8)) 200 &&
		pg_sql "$P" "INSERT INTO fresh2 SELECT generate_series(5001, 5100)" "CHECKPOINT"
}
# switch: p to a new segment (nothing else written); the segment finished.
switch() { pg_sql "$P" "SELECT pg_walfile_name(pg_switch_wal())"; }
ok "0.5% more rows updated, rows added to fresh1" changes2
D_TIME=$(digest "$P")
TIME=$(pg_sql "$P" "SELECT clock_timestamp()")
ok "after the time: rows updated, a second table, pgbench_history grows" changes3
t0=$SECONDS
backup --incremental-from latest
is "incremental 2: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
diag "incremental 2 took $((SECONDS - t0)) s"
B2=$NEW
L2=$(meta "$B2" label)
is "incremental 2: meta base is incremental 1's label" "$(meta "$B2" base)" "$L1"
is "incremental 2: meta chain is the full backup, then incremental 1" "$(meta "$B2" chain)" "$L0|$L1"
ok "incremental 2: under 10% of the full one" test $(($(fsize "${B2/meta/data}") * 10)) -lt "$S0"
ok "after incremental 2: more rows, fresh1 updated, rows of fresh2 deleted" changes4
D_END=$(digest "$P")
like "the primary's digest lists its tables" "$(cut -d' ' -f1 <<<"$D_END" | tr '\n' ' ')" \
	'^fresh1 fresh2 in_ts pgbench_accounts pgbench_branches pgbench_history pgbench_tellers $'
last=$(switch)
ok "the last segment $last is archived" pg_wait_archived "$P" "$last" 60

# recover NAME ARGS...: pitr-recover as postgres from $BK and $A into
# $T/NAME/data on a fresh port, the tablespace (at TS_FROM, by default
# the primary's place) at $T/NAME/ts, server started.
recover()
{
	local name=$1 port
	shift
	mkdir_pg "$T/$name"
	port=$(pg_adopt "$T/$name/data")
	it_run as_pg "$PR" -b "$BK" -a "lz4=$A" -D "$T/$name/data" --tablespace-map "${TS_FROM:-$T/ts}=$T/$name/ts" \
		--start --port "$port" --wait 120 "$@"
}
# same NAME DIGEST: the recovered cluster's rows are DIGEST's, and every
# B-tree index passes bt_index_check.
same()
{
	local dir=$T/$1/data
	is "$1: every table's rows are the primary's" "$(digest "$dir")" "$2"
	like "$1: bt_index_check on every B-tree index" "$(pg_sql "$dir" "SELECT it_amcheck()" 2>&1)" '^[0-9]+$'
	is "$1: the tablespace at its new place" "$(readlink "$dir/pg_tblspc/$(pg_sql "$dir" \
		"SELECT oid FROM pg_tablespace WHERE spcname = 'ts'")")" "$T/$1/ts"
}

# --- the chain to the end of the archive ----------------------------------------
t0=$SECONDS
recover r-end
is "chain to the end: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(cat "$T/r-end/data/pitr-recover.log" 2>/dev/null)")"
diag "recovery of the chain of three to the end took $((SECONDS - t0)) s"
like "chain to the end: the newest backup chosen" "$IT_ERR" "from backup \"$(name_re "$B2")\""
like "chain to the end: its chain is applied in order" "$IT_ERR" \
	"chain of 2 \(full backup \"$(name_re "$B0")\" first\).*applying incremental backup \"$(name_re "$B1")\" \(1 of 2\).*applying incremental backup \"$(name_re "$B2")\" \(2 of 2\)"
like "chain to the end: promoted" "$IT_ERR" "the server is promoted"
same r-end "$D_END"
pg_stop "$T/r-end/data"

# --- the chain to a time between the incrementals -------------------------------
t0=$SECONDS
recover r-time --target-time "$TIME" --target-action promote
is "chain to a time: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR" "$(it_tail "$(cat "$T/r-time/data/pitr-recover.log" 2>/dev/null)")"
diag "recovery of the chain of two to a time took $((SECONDS - t0)) s"
like "chain to a time: incremental 1 chosen (the newest that ends before the time)" "$IT_ERR" \
	"from backup \"$(name_re "$B1")\""
like "chain to a time: where recovery stopped" "$IT_ERR" "recovery stopped: recovery stopping before commit of transaction [0-9]+, time "
same r-time "$D_TIME"
pg_stop "$T/r-time/data"

# --- refusals ---------------------------------------------------------------------
# refused NAME DESC REGEX ARGS...: pitr-recover into $T/NAME exits 1 with one
# error line matching REGEX and leaves $T/NAME empty.
refused()
{
	local name=$1 desc=$2 re=$3
	shift 3
	mkdir_pg "$T/$name"
	it_run as_pg "$PR" -a "lz4=$A" -D "$T/$name/data" --tablespace-map "$T/ts=$T/$name/ts" "$@"
	is "$desc: exit 1" "$IT_RC" 1
	like "$desc: the reason" "$IT_ERR" "$re"
	is "$desc: one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
	is "$desc: nothing written" "$(ls -A "$T/$name")" ""
}
# redigest DIR FILE: FILE's SHA-256 line in its backup's digest file made
# true again (a damage the digests cannot see).
redigest()
{
	local dg=${2/-data-/-SHA-256-}
	dg=$1/${dg/-sig-/-SHA-256-}
	sed -i "s|^[0-9a-f]\{64\} \*$2\$|$(cd "$1" && sha256sum "$2" | cut -d' ' -f1) *$2|" "$dg"
}

# A middle link's data tarball damaged: the digests refuse it before
# anything of the chain is written.
D1=${B1/meta/data}
cp -p "$BK/$D1" "$T/aside/$D1"
flip_byte "$BK/$D1"
refused r-bad "a damaged middle link" "ERROR : \"$(re "$BK/$D1")\" does not match its SHA-256 digest" -b "$BK"
cp -p "$T/aside/$D1" "$BK/$D1"

# A delta member damaged inside (its digest made to match): the patched
# chunk does not match incremental 1's signature.
mkdir_pg "$T/dbk"
cp -p "$BK"/bk-*-"${B0#bk-meta-}" "$BK"/bk-*-"${B1#bk-meta-}" "$T/dbk/"
lz4 -dcq "$BK/$D1" >"$T/d1.tar"
ok "a delta member of incremental 1 damaged" python3 -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = next(m for m in t.getmembers() if m.name.startswith(".pitrkit/") and m.name.endswith(".d") and m.size > 64)
with open(sys.argv[1], "r+b") as f:
    at = m.offset_data + m.size - 8
    f.seek(at); b = f.read(1); f.seek(at); f.write(bytes([b[0] ^ 0x55]))' "$T/d1.tar"
lz4 -qf "$T/d1.tar" "$T/dbk/$D1"
redigest "$T/dbk" "$D1"
chown -R postgres:postgres "$T/dbk"
refused r-delta "a damaged delta" \
	"ERROR : chunk [0-9]+ of \"data/[^\"]+\" does not match the signature backup \"$(name_re "$B1")\" recorded" -b "$T/dbk"

# The base missing: the full backup's files moved away.
mv "$BK"/bk-*-"${B0#bk-meta-}" "$T/aside/"
refused r-nobase "a missing base" \
	"ERROR : backup \"$(name_re "$B2")\" is incremental: its chain needs backup \"$(re "$L0")\", which \"$(re "$BK")\" does not hold: nothing written" \
	-b "$BK"
ls -A "$BK" >"$T/bk.before"
it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$P")" -U postgres -x "$T/xlogs" -dl "lz4=$BK" \
	-f "$FMT" --incremental-from "$(name "$B0")"
is "--incremental-from a backup not there: exit 1" "$IT_RC" 1
like "... the reason" "$IT_ERR" "ERROR : base backup \"$(name_re "$B0")\" not found"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$BK")" "$(cat "$T/bk.before")"
mv "$T/aside/"bk-*-"${B0#bk-meta-}" "$BK/"

# A sig file of another database system: incremental 2's manifest says so.
mkdir_pg "$T/fbk"
cp -p "$BK"/* "$T/fbk/"
SIG2=${B2/meta/sig}
SYSID=$(meta "$B0" system_identifier)
lz4 -dcq "$BK/$SIG2" >"$T/sig2.in"
ok "incremental 2's sig file forged as another cluster's" python3 -c 'import io, sys, tarfile
src, dst, sysid = sys.argv[1:]
with tarfile.open(src) as t, tarfile.open(dst, "w") as o:
    for m in t.getmembers():
        data = t.extractfile(m).read()
        if m.name == "manifest":
            data = data.replace(b"system_identifier=" + sysid.encode() + b"\n", b"system_identifier=1\n", 1)
            m.size = len(data)
        o.addfile(m, io.BytesIO(data))' "$T/sig2.in" "$T/sig2.tar" "$SYSID"
lz4 -qf "$T/sig2.tar" "$T/fbk/$SIG2"
redigest "$T/fbk" "$SIG2"
chown -R postgres:postgres "$T/fbk"
like "... the forged manifest" "$(lz4 -dcq "$T/fbk/$SIG2" | tar -xOf - manifest)" $'\nsystem_identifier=1\n'
FOREIGN="ERROR : backup \"$(re "$L2")\" of the chain is damaged: its system identifier 1 is not $SYSID, that of \"$(re "$L0")\""
refused r-foreign "a sig file of another cluster in the chain" "$FOREIGN" -b "$T/fbk"
ls -A "$T/fbk" >"$T/fbk.before"
it_run as_pg "$PB" -h 127.0.0.1 -p "$(pg_port "$P")" -U postgres -x "$T/xlogs" -dl "lz4=$T/fbk" \
	-f "$FMT" --incremental-from "$(name "$B2")"
is "--incremental-from a base of another cluster: exit 1" "$IT_RC" 1
like "... the reason" "$IT_ERR" "$FOREIGN"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... nothing written" "$(ls -A "$T/fbk")" "$(cat "$T/fbk.before")"

# --- an incremental from a standby, on the primary's chain ----------------------
S=$T/s/data
t0=$SECONDS
recover s --standby
is "standby from the chain: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "... runs as a standby" "$IT_ERR" "the server runs as a standby of the archive"
# (the checkpoint: the standby's backup starts at a restartpoint there)
ok "changes on p after the standby was made, a checkpoint" changes5
LSN=$(pg_lsn "$P")
last=$(switch)
ok "... archived" pg_wait_archived "$P" "$last" 60
wait_for "the standby replays them from the archive" 60 pg_replayed "$S" "$LSN"
D_SB=$(digest "$P")
is "the hot standby's rows are the primary's" "$(digest "$S")" "$D_SB"
poll 5 after_last_stop
it_run as_pg "$PS" --standby-host 127.0.0.1 --standby-port "$(pg_port "$S")" --standby-username postgres \
	-cm -h 127.0.0.1 -P "$(pg_port "$P")" -U postgres -s "lz4=$A" -dl "lz4=$BK" -dg MD5 -f "$FMT" \
	--incremental-from latest
is "pitr-backup-slave --incremental-from latest: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
diag "standby incremental took $((SECONDS - t0)) s (with the standby's making)"
B3=$(metas | tail -n 1)
is "standby incremental: meta source standby" "$(meta "$B3" source)" standby
is "standby incremental: its base is the primary's incremental 2" "$(meta "$B3" base)" "$L2"
is "standby incremental: chain of three before it" "$(meta "$B3" chain)" "$L0|$L1|$L2"
is "standby incremental (-dg MD5): its digests MD5 and SHA-256, which an incremental always gets" \
	"$(meta "$B3" digests)" "MD5,SHA-256"
ok "standby incremental: both digest files pass" bash -c \
	"cd '$BK' && md5sum -c '${B3/meta/MD5}' && sha256sum -c '${B3/meta/SHA-256}'"
ok "standby incremental: under 10% of the full one" test $(($(fsize "${B3/meta/data}") * 10)) -lt "$S0"
pg_stop "$S"
# The standby's tablespace is at $T/s/ts (pitr-recover --standby put it
# there).  A key names a tablespace's file by the tablespace's place
# (delta.h), so the standby's incremental stores in_ts whole under its own
# place and records the primary's files as removed; the chain's recovery
# writes nothing at the primary's place.
like "standby incremental: in_ts under the standby's tablespace place" "$(manifest "$B3")" \
	$'\n(whole|delta) [0-9]+ tablespaces'"$(re "$T/s/ts")/$IN_TS"$'(\n|$)'
touch "$T/before-r-sb"
# The chain's full backup holds the tablespace at the primary's place: it
# is mapped aside too, and emptied when the standby's link, which holds it
# at the standby's place, is applied (keys follow the place, delta.h).
TS_FROM=$T/s/ts recover r-sb --backup "$(name "$B3")" --target-immediate --target-action promote \
	--tablespace-map "$T/ts=$T/r-sb/ts-full"
is "the chain of four to the standby's backup: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
same r-sb "$D_SB"
is "r-sb: nothing written in the primary's tablespace" "$(find "$T/ts" -newer "$T/before-r-sb")" ""
pg_stop "$T/r-sb/data"

diag "incremental.sh ran $((SECONDS - started)) s (scale $SCALE)"
it_done
