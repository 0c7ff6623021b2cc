#!/bin/bash
# recover-tablespaces.sh - pitr-recover of a backup with two tablespaces,
# each written by its own writer thread while the data tarball is read:
# remapped with --tablespace-map to new directories, every file of the
# data tarball (data dir and both tablespaces) byte-identical at its new
# place with its mode, time and owner, and the rows of a table in each
# tablespace those committed before the target; a tablespace destination
# that cannot be written stops the extraction with one line, nothing left.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init recover-tablespaces
it_require python3
PA=$PITR_BUILDDIR/bin/pitr-archive
PB=$PITR_BUILDDIR/bin/pitr-backup-master
PR=$PITR_BUILDDIR/bin/pitr-recover
it_need_built "$PA" "$PB" "$PR"

A=$T/arch
BK=$T/bk
P1=$T/p1
mkdir_pg "$A" "$BK" "$T/state" "$T/ts1" "$T/ts2" "$T/r"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
pg_archiving "$P1" "-dl gzip=$A -db $T/xlogs -s $T/state"
ok "p1 starts" pg_start "$P1"
PORT=$(pg_port "$P1")

# Some MiB in each tablespace: more than a writer's 4 MiB of buffers.
ok "tables a in ts1 and b in ts2, 150000 rows each" pg_sql "$P1" \
	"CREATE TABLESPACE ts1 LOCATION '$T/ts1'" "CREATE TABLESPACE ts2 LOCATION '$T/ts2'" \
	"CREATE TABLE a (id int, v text) TABLESPACE ts1" "CREATE TABLE b (id int, v text) TABLESPACE ts2" \
	"INSERT INTO a SELECT i, md5(i::text) FROM generate_series(1, 150000) i" \
	"INSERT INTO b SELECT i, md5((-i)::text) FROM generate_series(1, 150000) i" \
	"CREATE INDEX ON b (v) TABLESPACE ts1" "CHECKPOINT"
ok "backup" as_pg "$PB" -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$BK" \
	-f "bk-__FILETYPE__-^Y^m^d-^H^M^S.tar__CEXT__"
ok "rows 150001..150100 in each, restore point rp" pg_sql "$P1" \
	"INSERT INTO a SELECT i, md5(i::text) FROM generate_series(150001, 150100) i" \
	"INSERT INTO b SELECT i, md5((-i)::text) FROM generate_series(150001, 150100) i" \
	"SELECT pg_create_restore_point('rp')"
sums() { pg_sql "$1" "SELECT (SELECT count(*) || ':' || sum(id) || ':' || md5(string_agg(v, ',' ORDER BY id)) FROM a)" \
	"SELECT (SELECT count(*) || ':' || sum(id) || ':' || md5(string_agg(v, ',' ORDER BY id)) FROM b)"; }
WANT=$(sums "$P1")
ok "rows after the restore point" pg_sql "$P1" "INSERT INTO a VALUES (0, 'late')" "INSERT INTO b VALUES (0, 'late')"
last=$(pg_switch "$P1")
ok "the last segment $last is archived" pg_wait_archived "$P1" "$last" 60
DATA=$(cd "$BK" && ls bk-data-*.tar.gz)

# --- extraction: as root, without --start ----------------------------------
it_run "$PR" -b "$BK" -a "gzip=$A" -D "$T/r/data" --tablespace-map "$T/ts1=$T/r/new1" \
	--tablespace-map "$T/ts2=$T/r/new2" --target-name rp --target-action promote
is "exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$IT_ERR"
like "tablespace ts1 goes to its new place" "$IT_ERR" "tablespace \"$T/ts1\" goes to \"$T/r/new1\""
like "tablespace ts2 goes to its new place" "$IT_ERR" "tablespace \"$T/ts2\" goes to \"$T/r/new2\""
unlike "no error line" "$IT_ERR" ' : ERROR : '

# Every member of the data tarball against the file written for it: bytes,
# mode and time (the files pitr-recover writes itself are left out, and
# the directories' roots' times).
compare()
{
	python3 - "$BK/$DATA" "$(basename "$P1")" "$T/r/data" "$T/ts1=$T/r/new1" "$T/ts2=$T/r/new2" <<'EOF'
import os, sys, tarfile
tar, base, data = sys.argv[1:4]
maps = dict(a.split("=", 1) for a in sys.argv[4:])
own = {"tablespace_map", "postgresql.auto.conf", "backup_label"}
same = bad = ts = 0
with tarfile.open(tar) as t:
    for m in t:
        name = m.name.rstrip("/")
        if name == base or name.startswith(base + "/"):
            rest = name[len(base) + 1:]
            if rest in own or rest.startswith("pg_tblspc/") or rest.startswith("pg_wal"):
                continue
            path = os.path.join(data, rest) if rest else data
        else:
            old = "/" + name[len("tablespaces/"):]
            root = next(o for o in maps if old == o or old.startswith(o + "/"))
            path = maps[root] + old[len(root):]
            ts += m.isfile()
        st = os.lstat(path)
        # The roots' times are not kept (as before the writer threads): the
        # tablespaces' exist before their member, the others change after.
        root = path in (data, data + "/pg_tblspc") or path in maps.values()
        ok = (st.st_mode & 0o7777) == m.mode and (root or int(st.st_mtime) == m.mtime)
        if m.isfile():
            ok = ok and open(path, "rb").read() == t.extractfile(m).read()
        if ok:
            same += 1
        else:
            bad += 1
            print("differs:", name, oct(st.st_mode), oct(m.mode), int(st.st_mtime), m.mtime, file=sys.stderr)
print(f"{same} same, {bad} differ, {ts} tablespace files")
EOF
}
out=$(compare)
like "every member of the data tarball is written as it was stored" "$out" '^[0-9]+ same, 0 differ, [0-9]+ tablespace files$'
unlike "... tablespace files among them" "$out" ' 0 tablespace files$'
is "everything written belongs to postgres" "$(find "$T/r" ! -user postgres | head -3)" ""

# --- the recovered cluster ------------------------------------------------------
ok "the recovered cluster starts" pg_start "$T/r/data"
wait_for "it promotes at the restore point" 60 pg_promoted "$T/r/data"
is "the rows of both tablespaces at the restore point" "$(sums "$T/r/data")" "$WANT"
for n in 1 2; do
	oid=$(pg_sql "$T/r/data" "SELECT oid FROM pg_tablespace WHERE spcname = 'ts$n'")
	is "ts$n is at its new place" "$(readlink "$T/r/data/pg_tblspc/$oid")" "$T/r/new$n"
done
pg_stop "$T/r/data"

# --- a tablespace destination that cannot be written ---------------------------
# new2 is empty (accepted) but root's: ts2's writer thread fails there, as
# postgres, while the reader goes on; the first error stops everything.
mkdir_pg "$T/f"
mkdir -m 0755 "$T/f/new2"
it_run as_pg "$PR" -b "$BK" -a "gzip=$A" -D "$T/f/data" --tablespace-map "$T/ts1=$T/f/new1" \
	--tablespace-map "$T/ts2=$T/f/new2" --target-name rp
is "an unwritable tablespace: exit 1" "$IT_RC" 1
like "... the tablespace's file named" "$IT_ERR" \
	"ERROR : could not (create|finish) \"$T/f/new2[^\"]*\" \(member \"tablespaces$T/ts2/[^\"]*\" of \"$BK/$DATA\"\)"
is "... one error line" "$(grep -c ' : ERROR : ' <<<"$IT_ERR")" 1
is "... the data dir and ts1's new place removed, new2 left as it was" "$(ls -A "$T/f")" "new2"
is "... new2 empty" "$(ls -A "$T/f/new2")" ""

it_done
