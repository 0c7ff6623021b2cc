#!/bin/bash
# input.sh - bad input of every class to pitr-archive and pitr-restore
# (issue 9): operands, sources that are no WAL file, unreadable ones, codec
# names and levels, destination specs, option values and config file
# lines.  Each is refused with exit status 1, nothing on stdout, exactly
# one error line on stderr naming the problem, and nothing written.
#
# What t/integration/cli.sh (unknown options, a missing or bad -PJ, no WAL
# path, -pf) and archive.sh f) (not a WAL name, a zeroed header, a
# truncated segment, another cluster's, two destinations without -s, an
# unknown codec in -dl, a missing file, a missing data dir) check is not
# repeated here.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=faultlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/faultlib.sh"

it_init faults-input
it_require setpriv gzip
it_need_built "$PA" "$PR"

ok "2 finished 1 MiB segments of a PostgreSQL 15 cluster" fault_segments "$T/src" 2 1
mapfile -t SEGS <"$T/src/names"
[ "${#SEGS[@]}" -ge 2 ] || it_bail "no segments"
S=${SEGS[0]} S2=${SEGS[1]}
D=$T/data
fake_datadir "$D"
cp "$T/src/$S" "$D/pg_wal/$S"
mkdir_pg "$T/dst" "$T/state" "$T/arch" "$T/rdata"
fake_datadir "$T/rdata"
# A valid archive for pitr-restore, and one archived segment.
run_pg_in "$D" "$PA" -D "$D" -dl "gzip=$T/arch" "pg_wal/$S"
is "a segment archived for the restore cases" "$IT_RC" 0
chown postgres:postgres "$D"/pg_wal/*

# refused DESC REGEX DIR PROGRAM ARGS...: PROGRAM ARGS, run as postgres
# from DIR, exits 1 with nothing on stdout and exactly one error line on
# stderr matching REGEX; nothing was written to the destination, the data
# dirs' pg_wal or the archive.
refused()
{
	local desc=$1 re=$2 dir=$3
	shift 3
	local before
	before=$(written)
	run_pg_in "$dir" "$@"
	is "$desc: exit status 1" "$IT_RC" 1
	is "$desc: nothing on stdout" "$IT_OUT" ""
	is "$desc: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
	like "$desc: an error line naming the problem" "$IT_ERR" " : (ERROR|FATAL) : .*($re)"
	is "$desc: nothing written" "$(written)" "$before"
}

# written: what a refused run must not change: the destination, the
# restore data dir's pg_wal, temporary files in the data dir and archive.
written()
{
	entries "$T/dst"
	entries "$T/rdata/pg_wal"
	tmp_files "$D" "$T/arch"
}

# archive_refused DESC REGEX ARGS...: pitr-archive -D DATA ARGS.
archive_refused()
{
	local desc=$1 re=$2
	shift 2
	refused "pitr-archive: $desc" "$re" "$D" "$PA" -D "$D" "$@"
}

# restore_refused DESC REGEX ARGS...: pitr-restore ARGS from the restore
# data dir.
restore_refused()
{
	local desc=$1 re=$2
	shift 2
	refused "pitr-restore: $desc" "$re" "$T/rdata" "$PR" "$@"
}

# --- pitr-archive: operands and sources ------------------------------------
archive_refused "two WAL paths" "$S2|operand|argument|more than one" -dl "$T/dst" "pg_wal/$S" "pg_wal/$S2"
mkdir_pg "$D/pg_wal/$S2"
archive_refused "a directory as the source" "$S2" -dl "$T/dst" "pg_wal/$S2"
rmdir "$D/pg_wal/$S2"
head -c 1M /dev/urandom >"$D/pg_wal/$S2"
chown postgres:postgres "$D/pg_wal/$S2"
archive_refused "random bytes under a WAL name" "$S2" -dl "$T/dst" "pg_wal/$S2"
: >"$D/pg_wal/$S2"
archive_refused "an empty file under a WAL name" "$S2" -dl "$T/dst" "pg_wal/$S2"
cp "$T/src/$S2" "$D/pg_wal/$S2"
chown root:root "$D/pg_wal/$S2"
chmod 600 "$D/pg_wal/$S2"
archive_refused "an unreadable source" "Permission denied" -dl "$T/dst" "pg_wal/$S2"
lower=$(tr 'A-F' 'a-f' <<<"0000000100000000000000AB")
cp "$T/src/$S" "$D/pg_wal/$lower"
archive_refused "a lowercase WAL name" "$lower" -dl "$T/dst" "pg_wal/$lower"
cp "$T/src/$S" "$D/pg_wal/${S}0"
archive_refused "a WAL name of 25 digits" "${S}0" -dl "$T/dst" "pg_wal/${S}0"
cp "$T/src/$S" "$D/pg_wal/$S.gz"
archive_refused "a WAL name with .gz" "$S\.gz" -dl "$T/dst" "pg_wal/$S.gz"
chown postgres:postgres "$D"/pg_wal/*
archive_refused "-D a file" "PG_VERSION|data dir|directory" -dl "$T/dst" -D "$D/PG_VERSION" "pg_wal/$S"
mkdir_pg "$T/nopg"
archive_refused "-D without PG_VERSION" "PG_VERSION|data dir" -dl "$T/dst" -D "$T/nopg" "pg_wal/$S"

# --- pitr-archive: codecs and destinations ----------------------------------
for spec in "gzip:99" "gzip:x" "gzip:" "zstd:-1" "xz:10" "gz" "none:1" "lzma:1x"; do
	archive_refused "codec spec '$spec='" "(unknown|invalid) compression.*$spec=" -dl "$spec=$T/dst" "pg_wal/$S"
done
archive_refused "an empty -dl" "dst-local|-dl|destination|empty" -dl "" "pg_wal/$S"
archive_refused "-dl with a codec and no dir" "dst-local|-dl|destination|empty" -dl "gzip=" "pg_wal/$S"
archive_refused "-dl a missing dir" "$T/no-such-dir" -dl "$T/no-such-dir" "pg_wal/$S"
archive_refused "-dl a file" "$D/PG_VERSION" -dl "$D/PG_VERSION" "pg_wal/$S"
archive_refused "a relative -db" "dst-backup|-db|absolute" -dl "$T/dst" -s "$T/state" -db relative "pg_wal/$S"
archive_refused "-db with a codec" "dst-backup|-db|codec" -dl "$T/dst" -s "$T/state" -db "gzip=$T/dst" "pg_wal/$S"
archive_refused "an empty -dr" "dst-remote|-dr|destination|empty" -dr "" "pg_wal/$S"
archive_refused "-dr a local path" "dst-remote|-dr|/local/path|remote" -dr "/local/path" "pg_wal/$S"
archive_refused "-dr rsync:// without a module" "dst-remote|-dr|rsync://127.0.0.1/|module" \
	-dr "rsync://127.0.0.1/" "pg_wal/$S"
archive_refused "-dp a missing program" "no-such-program" -dp "$T/no-such-program" "pg_wal/$S"
archive_refused "-s a missing dir" "$T/no-such-state" -s "$T/no-such-state" -dl "$T/dst" \
	-dl "gzip=$T/dst2" "pg_wal/$S"
for v in abc 0 -5; do
	archive_refused "--rsync-timeout $v" "rsync-timeout" --rsync-timeout "$v" -dl "$T/dst" "pg_wal/$S"
done
archive_refused "--pid-file in a missing dir" "$T/no-such-dir" --pid-file "$T/no-such-dir/a.pid" \
	-dl "$T/dst" "pg_wal/$S"
archive_refused "-t a missing dir with a remote destination" "$T/no-such-tmp" -t "$T/no-such-tmp" \
	-dr "rsync://127.0.0.1:1/m/" "pg_wal/$S"

# --- config files ---------------------------------------------------------
cfg()
{
	printf '%b' "$2" >"$T/$1.conf"
	chown postgres:postgres "$T/$1.conf"
	echo "$T/$1.conf"
}
archive_refused "a missing config file" "$T/no-such.conf" --config-file "$T/no-such.conf" "pg_wal/$S"
archive_refused "a directory as the config file" "$T/nopg" --config-file "$T/nopg" "pg_wal/$S"
archive_refused "a config line with an unknown option" "no-such-option" \
	--config-file "$(cfg unknown "dst-local $T/dst\nno-such-option 1\n")" "pg_wal/$S"
archive_refused "a config line without its value" "dst-local" \
	--config-file "$(cfg novalue "dst-local\n")" "pg_wal/$S"
archive_refused "a config line with a bad value" "parallel-jobs|abc" \
	--config-file "$(cfg badvalue "dst-local $T/dst\nparallel-jobs abc\n")" "pg_wal/$S"
archive_refused "a config line with a bad codec" "foo" \
	--config-file "$(cfg badcodec "dst-local foo=$T/dst\n")" "pg_wal/$S"
archive_refused "a config line holding a NUL byte" "NUL|nul|byte|line" \
	--config-file "$(cfg nul "dst-local $T/dst\x00/elsewhere\n")" "pg_wal/$S"
chmod 600 "$(cfg unreadable "dst-local $T/dst\n")"
chown root:root "$T/unreadable.conf"
archive_refused "an unreadable config file" "Permission denied" --config-file "$T/unreadable.conf" "pg_wal/$S"

# --- pitr-restore ---------------------------------------------------------
restore_refused "only one operand" "%p|operand|argument" -s "gzip=$T/arch" "$S"
restore_refused "three operands without -r" "operand|argument" -s "gzip=$T/arch" "$S" pg_wal/RECOVERYXLOG extra
restore_refused "no -s" "source|-s" "$S" pg_wal/RECOVERYXLOG
restore_refused "-s a missing dir" "$T/no-such-arch" -s "gzip=$T/no-such-arch" "$S" pg_wal/RECOVERYXLOG
restore_refused "-s a file" "$T/rdata/PG_VERSION" -s "gzip=$T/rdata/PG_VERSION" "$S" pg_wal/RECOVERYXLOG
restore_refused "-s with an unknown codec" "foo" -s "foo=$T/arch" "$S" pg_wal/RECOVERYXLOG
restore_refused "-s with an empty dir" "source|-s|empty" -s "gzip=" "$S" pg_wal/RECOVERYXLOG
restore_refused "a %f with a slash" "\.\./|name" -s "gzip=$T/arch" "../$S" pg_wal/RECOVERYXLOG
restore_refused "-D without PG_VERSION" "PG_VERSION|data dir" -D "$T/nopg" -s "gzip=$T/arch" "$S" \
	pg_wal/RECOVERYXLOG
restore_refused "-w abc" "recovery-delay|abc" -w abc -s "gzip=$T/arch" "$S" pg_wal/RECOVERYXLOG
restore_refused "-ep bogus" "error-pgcontroldata|bogus" -ep bogus -s "gzip=$T/arch" "$S" pg_wal/RECOVERYXLOG
restore_refused "-rt 0" "remove-at-a-time" -rt 0 -s "gzip=$T/arch" "$S" pg_wal/RECOVERYXLOG
restore_refused "a config line with an unknown option" "no-such-option" \
	--config-file "$(cfg runknown "source gzip=$T/arch\nno-such-option 1\n")" "$S" pg_wal/RECOVERYXLOG
# Archive files that cannot be handed over.
mkdir_pg "$T/arch2"
printf 'not gzip at all' >"$T/arch2/$S.gz"
chown postgres:postgres "$T/arch2/$S.gz"
restore_refused "an archive file that is not gzip" "$S" -s "gzip=$T/arch2" "$S" pg_wal/RECOVERYXLOG
rm "$T/arch2/$S.gz"
mkdir_pg "$T/arch2/$S.gz"
restore_refused "an archive file that is a directory" "$S" -s "gzip=$T/arch2" "$S" pg_wal/RECOVERYXLOG
rmdir "$T/arch2/$S.gz"
cp "$T/arch/$S.gz" "$T/arch2/$S.gz"
chown root:root "$T/arch2/$S.gz"
chmod 600 "$T/arch2/$S.gz"
restore_refused "an unreadable archive file" "Permission denied" -s "gzip=$T/arch2" "$S" pg_wal/RECOVERYXLOG
rm "$T/arch2/$S.gz"
head -c 1M /dev/urandom | gzip -c >"$T/arch2/$S.gz"
chown postgres:postgres "$T/arch2/$S.gz"
restore_refused "random bytes under a WAL name" "$S" -s "gzip=$T/arch2" "$S" pg_wal/RECOVERYXLOG

it_done
