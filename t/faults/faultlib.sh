# faultlib.sh - helpers of the fault suite (t/faults/*.sh) on top of
# t/integration/lib.sh: the seed, real 16 MiB WAL segments, programs run as
# postgres in a process group of their own, and files left behind.
#
# Sourced (never run).  A script sources this file, then calls it_init as
# the integration tests do.
# shellcheck shell=bash
# The variables set here are read by the scripts that source it:
# shellcheck disable=SC2034
# shellcheck source-path=SCRIPTDIR
# shellcheck source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

PA=$PITR_BUILDDIR/bin/pitr-archive
PR=$PITR_BUILDDIR/bin/pitr-restore

# --- the seed -------------------------------------------------------------

# fault_seed: seed bash's RANDOM from PITR_FAULT_SEED (or a fresh seed) and
# print it, so that a failing run is repeated with the same signals and
# delays.  Random numbers are drawn only in the main shell (rnd), never in
# a command substitution, so the sequence depends on the seed alone.
fault_seed()
{
	FAULT_SEED=${PITR_FAULT_SEED:-$(((($$ << 15) ^ $(date +%N | sed 's/^0*//;s/^$/0/')) % 1000000000))}
	RANDOM=$FAULT_SEED
	echo "# seed $FAULT_SEED (PITR_FAULT_SEED=$FAULT_SEED repeats the draws)"
}

# rnd N: R = a random integer from 0 to N-1.
rnd()
{
	R=$(((RANDOM * 32768 + RANDOM) % $1))
}

# --- WAL segments ---------------------------------------------------------

# fault_segments DIR COUNT [MIB]: COUNT real segments of MIB MiB (default
# 16) of a fresh PostgreSQL 15 cluster (T/walsrc.MIB, stopped again) copied
# into DIR, full of random text (md5 rows, no WAL compression) so that
# compressing them takes time; their names, one a line, into DIR/names.
fault_segments()
{
	local dir=$1 count=$2 mib=${3:-16} pg=$T/walsrc.${3:-16} seg rows
	mkdir_pg "$dir"
	pg_new "$pg" --wal-segsize="$mib" || return 1
	pg_set "$pg" "wal_compression = off" "max_wal_size = 1GB" "min_wal_size = 1GB"
	pg_start "$pg" || return 1
	# About 9 MB of WAL per 100000 rows of two md5 values.
	rows=$((count * mib * 14000 + 20000))
	pg_sql "$pg" "CREATE TABLE r (v text)" \
		"INSERT INTO r SELECT md5(random()::text) || md5(random()::text) FROM generate_series(1, $rows)" \
		"SELECT pg_switch_wal()" >/dev/null || return 1
	# The finished segments only: those before the current one.
	local cur
	cur=$(pg_sql "$pg" "SELECT pg_walfile_name(pg_current_wal_lsn())") || return 1
	: >"$dir/names"
	for seg in "$pg"/pg_wal/[0-9A-F]*; do
		seg=${seg##*/}
		if [[ ! $seg =~ ^[0-9A-F]{24}$ ]] || [[ ! $seg < $cur ]]; then
			continue
		fi
		cp "$pg/pg_wal/$seg" "$dir/$seg" && echo "$seg" >>"$dir/names"
		[ "$(wc -l <"$dir/names")" -ge "$count" ] && break
	done
	chown -R postgres:postgres "$dir"
	chmod 644 "$dir"/0*
	pg_stop "$pg" immediate
	[ "$(wc -l <"$dir/names")" -ge "$count" ] ||
		{ echo "only $(wc -l <"$dir/names") finished segments" >&2; return 1; }
}

# fake_datadir DIR: a directory the programs accept as a data directory
# (PG_VERSION, pg_wal), owned by postgres.
fake_datadir()
{
	mkdir_pg "$1" "$1/pg_wal" "$1/pg_wal/archive_status"
	echo 15 >"$1/PG_VERSION"
	chown postgres:postgres "$1/PG_VERSION"
}

# --- running the programs -------------------------------------------------

# start_pg_group DIR CMD...: start CMD as postgres from DIR, in the
# background, as the leader of a new process group (setsid: as PostgreSQL's
# archiver and startup process run their commands, a group a signal can be
# sent to as a whole); RUN_PID is its pid (setpriv, env and setsid exec,
# so the pid is CMD's), RUN_OUT/RUN_ERR its output files.  A background
# command of a non-interactive shell starts with SIGINT and SIGQUIT
# ignored; env --default-signal gives them back their default, as
# PostgreSQL's commands have it.
start_pg_group()
{
	local dir=$1
	shift
	RUN_OUT=$T/.it/run.out RUN_ERR=$T/.it/run.err
	(cd "$dir" && exec setpriv --reuid=postgres --regid=postgres --init-groups \
		env --default-signal=INT,QUIT setsid -- "$@" >"$RUN_OUT" 2>"$RUN_ERR") &
	RUN_PID=$!
}

# group_alive PGID: some process of the group is still running.
group_alive()
{
	kill -0 -- "-$1" 2>/dev/null
}

# group_members PGID: the pid and command line of each process of the
# group, one a line (for diagnostics).
group_members()
{
	local p stat
	for p in /proc/[0-9]*; do
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		stat=${stat##*) }
		read -r _ _ pgrp _ <<<"$stat"
		[ "$pgrp" = "$1" ] && echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)"
	done
	return 0
}

# run_pg_in DIR CMD...: run CMD as postgres from DIR to its end, like
# it_run (IT_RC, IT_OUT, IT_ERR).
run_pg_in()
{
	local dir=$1
	shift
	IT_RC=0
	(cd "$dir" && exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@") \
		>"$T/.it/out" 2>"$T/.it/err" || IT_RC=$?
	IT_OUT=$(cat "$T/.it/out")
	IT_ERR=$(cat "$T/.it/err")
}

# now_ms: the monotonic-enough wall clock in milliseconds.
now_ms()
{
	local ns
	ns=$(date +%s%N)
	echo $((ns / 1000000))
}

# ms_to_s MS: "S.mmm" for sleep(1).
ms_to_s()
{
	printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
}

# --- files left -----------------------------------------------------------

# tmp_files DIR...: the files below DIRs whose name contains ".pitr-tmp",
# one a line.
tmp_files()
{
	find "$@" -name '*.pitr-tmp*' 2>/dev/null
}

# entries DIR: everything in DIR (names, one a line; none: empty).
entries()
{
	(cd "$1" 2>/dev/null && ls -A)
}

# same_bytes FILE SOURCE: FILE, decompressed by its extension with the
# standard tool, holds exactly SOURCE's bytes.
same_bytes()
{
	local f=$1 src=$2
	case $f in
	*.gz) gzip -dc -- "$f" | cmp -s - "$src" ;;
	*.xz) xz -dc -- "$f" | cmp -s - "$src" ;;
	*.zst) zstd -qdc -- "$f" | cmp -s - "$src" ;;
	*.bz2) bzip2 -dc -- "$f" | cmp -s - "$src" ;;
	*.lz4) lz4 -qdc -- "$f" | cmp -s - "$src" ;;
	*) cmp -s -- "$f" "$src" ;;
	esac
}

# --- aggregate assertions over trials --------------------------------------

# A check over all trials: each trial that breaks it is noted with
# note_bad KEY "trial N: ..." and the assertion `verdict KEY DESC` passes
# when none did, else fails listing the first ten.
declare -A BAD=()
declare -A BADN=()
note_bad()
{
	BADN[$1]=$((${BADN[$1]:-0} + 1))
	[ "${BADN[$1]}" -le 10 ] && BAD[$1]+="$2"$'\n'
	TRIAL_BAD=1
}
verdict()
{
	local key=$1 desc=$2
	if [ "${BADN[$key]:-0}" -eq 0 ]; then
		it_pass "$desc"
	else
		# shellcheck disable=SC2086
		it_fail "$desc" "${BADN[$key]} trial(s) broke it (seed $FAULT_SEED); the first:" \
			"$(printf '%s' "${BAD[$key]}")"
	fi
}
