# lib.sh - shared helpers of the integration tests: a scratch dir, PostgreSQL 15
# clusters run as the postgres user, rsync daemons, and TAP-like assertions.
#
# Sourced (never run) by t/integration/*.sh.  A test calls `it_init NAME`
# first and `it_done` last; everything it started is stopped by the EXIT
# trap, by its own pid file or data dir, never by process name.
# shellcheck shell=bash

set -u

PGBIN=/usr/lib/postgresql/15/bin
PITR_SRCDIR=${PITR_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PITR_BUILDDIR=${PITR_BUILDDIR:-}

T=                  # the scratch dir of this test
IT_NAME=            # the test's name
IT_N=0              # assertions made
IT_PASS=0
IT_FAIL=0
IT_OUT=             # it_run's results
IT_ERR=
IT_RC=0

# --- output ---------------------------------------------------------------

# Print each argument as a diagnostic line (TAP comment).
diag()
{
	local line
	for line in "$@"; do
		[ -n "$line" ] && printf '%s\n' "$line" | sed 's/^/#   /'
	done
	return 0
}

# Abort before any assertion, saying why: a broken set-up (no build, a
# fixture that does not come up) fails the test.
it_bail()
{
	printf '# %s: %s\n' "${IT_NAME:-$(basename "$0")}" "$*"
	echo "0 passed, 1 failed"
	exit 1
}

# it_skip REASON: this machine cannot run the test (not root, no
# PostgreSQL 15, no sshd...): exit 77, automake's SKIP, so that a
# newcomer's make check ends with passes and skips.  Under
# PITR_TEST_STRICT=1, which scripts/test (and so CI) sets, a missing
# prerequisite is a failure instead: CI can never pass by skipping.
it_skip()
{
	[ "${PITR_TEST_STRICT:-0}" = 1 ] && it_bail "$* (PITR_TEST_STRICT=1: not skipped)"
	printf '# SKIP %s: %s\n' "${IT_NAME:-$(basename "$0")}" "$*"
	exit 77
}

# it_require PROGRAM...: skip (see it_skip) unless each PROGRAM, a name
# looked up on PATH or an absolute path, can be run.
it_require()
{
	local prog
	for prog in "$@"; do
		command -v "$prog" >/dev/null 2>&1 || it_skip "$prog is not installed"
	done
}

it_pass()
{
	IT_N=$((IT_N + 1))
	IT_PASS=$((IT_PASS + 1))
	printf 'ok %d - %s\n' "$IT_N" "$1"
}

# it_fail DESC [DIAGNOSTIC...]
it_fail()
{
	local desc=$1
	shift
	IT_N=$((IT_N + 1))
	IT_FAIL=$((IT_FAIL + 1))
	printf 'not ok %d - %s\n' "$IT_N" "$desc"
	diag "$@"
}

# The last lines of a text, for diagnostics.
it_tail()
{
	printf '%s\n' "$1" | tail -n "${2:-20}"
}

# --- assertions -----------------------------------------------------------

# it_cmd CMD...: the command line for a diagnostic, cut to 300 characters.
it_cmd()
{
	local line="$*"
	[ "${#line}" -le 300 ] || line="${line:0:300}..."
	printf 'command: %s\n' "$line"
}

# ok DESC CMD...: pass if CMD exits 0.  CMD runs in a subshell (its output
# is captured for the diagnostics), so it cannot set variables.
ok()
{
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		it_pass "$desc"
	else
		it_fail "$desc" "$(it_cmd "$@")" "exit status: $rc" "$(it_tail "$out")"
	fi
}

# nok DESC CMD...: pass if CMD exits non-zero.
nok()
{
	local desc=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ]; then
		it_pass "$desc"
	else
		it_fail "$desc" "$(it_cmd "$@")" "exit status: 0, expected non-zero" "$(it_tail "$out")"
	fi
}

# is DESC GOT EXPECTED: string equality.
is()
{
	if [ "$2" = "$3" ]; then
		it_pass "$1"
	else
		it_fail "$1" "got:      '$2'" "expected: '$3'"
	fi
}

# like DESC GOT REGEX: GOT matches the extended regular expression.
like()
{
	if [[ $2 =~ $3 ]]; then
		it_pass "$1"
	else
		it_fail "$1" "got:      '$2'" "expected to match: /$3/"
	fi
}

# unlike DESC GOT REGEX: GOT does not match the extended regular expression.
unlike()
{
	if [[ $2 =~ $3 ]]; then
		it_fail "$1" "got:      '$2'" "expected not to match: /$3/"
	else
		it_pass "$1"
	fi
}

# it_run CMD...: run CMD, keeping its stdout in IT_OUT, its stderr in
# IT_ERR and its exit status in IT_RC, for the assertions that follow.
# shellcheck disable=SC2034
it_run()
{
	IT_RC=0
	"$@" >"$T/.it/out" 2>"$T/.it/err" || IT_RC=$?
	IT_OUT=$(cat "$T/.it/out")
	IT_ERR=$(cat "$T/.it/err")
}

# count_lines TEXT: the number of lines in TEXT (0 for an empty one).
count_lines()
{
	if [ -z "$1" ]; then
		echo 0
	else
		printf '%s\n' "$1" | wc -l
	fi
}

# poll TIMEOUT CMD...: run CMD (quietly) every 0.2 s until it exits 0;
# returns 1 when TIMEOUT seconds passed first.
poll()
{
	local deadline=$((SECONDS + $1))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# wait_for DESC TIMEOUT CMD...: an assertion that CMD succeeds within
# TIMEOUT seconds.
wait_for()
{
	local desc=$1 timeout=$2 out rc=0
	shift 2
	if poll "$timeout" "$@"; then
		it_pass "$desc"
	else
		out=$("$@" 2>&1) || rc=$?
		it_fail "$desc" "timed out after ${timeout}s: $*" "last exit status: $rc" \
			"$(it_tail "$out")"
	fi
}

# it_done: the closing line; exit 0 only if something passed and nothing
# failed.
it_done()
{
	echo "$IT_PASS passed, $IT_FAIL failed"
	if [ "$IT_FAIL" -eq 0 ] && [ "$IT_PASS" -gt 0 ]; then
		exit 0
	fi
	exit 1
}

# --- setup and cleanup ----------------------------------------------------

# The environment of a program run under ptrace (strace): LeakSanitizer
# cannot work there and fails the run in the sanitizer build ("does not
# work under ptrace"), so leak checking is off for that run alone (the same
# code runs untraced in the other tests).
PTRACE_ENV=(env "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0")

# Run a command as the postgres user, from the scratch dir (a cwd postgres
# may enter).
as_pg()
{
	(cd "${T:-/}" && runuser -u postgres -- "$@")
}

# mkdir_pg DIR...: create directories (and parents) owned by postgres.
mkdir_pg()
{
	mkdir -p "$@" && chown postgres:postgres "$@"
}

# it_need_built PROGRAM...: bail out unless each PROGRAM (a path in the
# build dir) was built.
it_need_built()
{
	local prog
	for prog in "$@"; do
		[ -x "$prog" ] || it_bail "no $prog: build first"
	done
}

# it_init NAME [--no-root]: checks, scratch dir, cleanup trap.  Without
# --no-root the test needs root, the postgres user and PostgreSQL 15 (it
# runs servers as postgres), and skips without them (see it_skip).
it_init()
{
	IT_NAME=$1
	if [ "${2:-}" != --no-root ]; then
		[ "$(id -u)" -eq 0 ] ||
			it_skip "needs root: PostgreSQL and rsync daemons are started as the postgres user with runuser"
		id postgres >/dev/null 2>&1 || it_skip "no postgres user"
		[ -x "$PGBIN/initdb" ] && [ -x "$PGBIN/postgres" ] ||
			it_skip "no PostgreSQL 15 in $PGBIN (postgresql-15)"
	fi
	[ -n "$PITR_BUILDDIR" ] ||
		it_bail "PITR_BUILDDIR is not set (run through make check, or export the absolute build dir)"
	T=$(mktemp -d "/tmp/pitrkit-it-$IT_NAME.XXXXXX") || it_bail "mktemp failed"
	chmod 755 "$T"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres:postgres "$T"
	fi
	mkdir "$T/.it"
	: >"$T/.it/ports"
	: >"$T/.it/clusters"
	: >"$T/.it/rsyncds"
	: >"$T/.it/reap"
	: >"$T/.it/at-exit"
	trap it_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	echo "# scratch dir $T"
}

# it_reap ERE: at exit, once the clusters are stopped, end (SIGKILL, by
# pid) every process whose command line names the scratch dir and matches
# ERE: a restore_command blocked on the next segment outlives its server.
it_reap()
{
	echo "$1" >>"$T/.it/reap"
}

# it_at_exit CMD...: at exit, after the clusters are stopped, run CMD (a
# daemon of the test's own, e.g.), quietly.
it_at_exit()
{
	printf '%q ' "$@" >>"$T/.it/at-exit"
	echo >>"$T/.it/at-exit"
}

# The EXIT trap: stop every cluster and daemon this test started, then
# remove the scratch dir unless PITR_KEEP=1.
it_cleanup()
{
	local rc=$? dir name re pid cmd
	trap - EXIT INT TERM
	if [ -n "$T" ] && [ -d "$T/.it" ]; then
		while read -r dir; do
			[ -f "$dir/postmaster.pid" ] || continue
			as_pg "$PGBIN/pg_ctl" -D "$dir" -m immediate -w -t 30 stop >/dev/null 2>&1
		done <"$T/.it/clusters"
		while read -r re; do
			for pid in $(proc_pids "$T/"); do
				tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qE -- "$re" &&
					kill -KILL "$pid" 2>/dev/null
			done
		done <"$T/.it/reap"
		while read -r cmd; do
			eval "$cmd" >/dev/null 2>&1
		done <"$T/.it/at-exit"
		while read -r name; do
			rsyncd_stop "$name" >/dev/null 2>&1
		done <"$T/.it/rsyncds"
		release_ports
		if [ "${PITR_KEEP:-0}" = 1 ]; then
			echo "# kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}

# --- ports ----------------------------------------------------------------

# True if something accepts TCP connections on 127.0.0.1:PORT.
port_open()
{
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports handed out, across the tests that make check runs side by side: a
# port chosen by one test is not listening yet when another looks, so each
# reservation is a directory here (mkdir is atomic), holding the owning
# test's pid, removed by that test's cleanup.
PORT_REGISTRY=/tmp/pitrkit-it-ports

# The ports to choose from: from 20000 up to below the kernel's ephemeral
# range, from which outgoing connections (psql, rsync, ssh) take their
# local ports and could take a chosen one before its server binds it.
port_range()
{
	local lo hi
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || lo=32768
	[ "${lo:-0}" -gt 21000 ] || lo=32768
	echo "20000 $((lo - 1))"
}

# free_port: print a TCP port below the ephemeral range that nothing listens
# on and no running test has reserved, and reserve it for this test (also
# recorded in a file, so that command substitution subshells see it).
free_port()
{
	local port try lo hi owner
	read -r lo hi < <(port_range)
	mkdir -p -m 1777 "$PORT_REGISTRY" 2>/dev/null
	for try in $(seq 1 500); do
		port=$(((RANDOM * 32768 + RANDOM) % (hi - lo + 1) + lo))
		grep -qx "$port" "$T/.it/ports" && continue
		port_open "$port" && continue
		[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ] || continue
		if ! mkdir "$PORT_REGISTRY/$port" 2>/dev/null; then
			# Reserved by another test; one that died without its
			# cleanup keeps it, which costs one port of thousands.
			owner=$(cat "$PORT_REGISTRY/$port/owner" 2>/dev/null)
			[ "$owner" = "$$" ] || continue
		fi
		echo "$$" >"$PORT_REGISTRY/$port/owner"
		echo "$port" >>"$T/.it/ports"
		echo "$port"
		return 0
	done
	echo "free_port: no free port after $try tries" >&2
	return 1
}

# release_ports: drop this test's reservations (from it_cleanup).
release_ports()
{
	local port
	[ -f "$T/.it/ports" ] || return 0
	while read -r port; do
		[ "$(cat "$PORT_REGISTRY/$port/owner" 2>/dev/null)" = "$$" ] &&
			rm -rf "${PORT_REGISTRY:?}/$port"
	done <"$T/.it/ports"
	return 0
}

# --- PostgreSQL -----------------------------------------------------------

# The file remembering a cluster's port.
pg_portfile()
{
	local key=$1
	echo "$T/.it/port.${key//\//%}"
}

# pg_port DIR: the port the cluster in DIR was started on.
pg_port()
{
	cat "$(pg_portfile "$1")" 2>/dev/null
}

# pg_new DIR [INITDB ARGS...]: initdb as postgres, trust auth, superuser
# postgres.  The output goes to DIR.initdb.log.
pg_new()
{
	local dir=$1
	shift
	if ! as_pg "$PGBIN/initdb" -D "$dir" --auth=trust -U postgres -N -E UTF8 \
		--locale=C "$@" >"$dir.initdb.log" 2>&1; then
		diag "initdb $dir failed:" "$(it_tail "$(cat "$dir.initdb.log")")"
		return 1
	fi
}

# pg_set DIR 'key = value'...: append settings to DIR/postgresql.conf (the
# last line for a key wins).
pg_set()
{
	local dir=$1
	shift
	printf '%s\n' "$@" >>"$dir/postgresql.conf"
}

# pg_archiving_primary DIR: a new cluster at DIR (1 MiB segments) whose
# archive_command is pitr-archive ($PA) into gzip=$A, the -x dir $T/xlogs
# and the state dir $T/state, started (an "ok" line for each).  Only DIR
# itself archives: a copy recovered from it carries its postgresql.conf
# and runs archive_command in its own data dir, so a promoted copy adds no
# timeline to the archive the next recovery reads.
pg_archiving_primary()
{
	local dir=$1 name
	name=$(basename "$dir")
	ok "initdb $name (1 MiB segments)" pg_new "$dir" --wal-segsize=1
	pg_set "$dir" "archive_mode = on" \
		"archive_command = 'test \"\$(pwd -P)\" = \"$dir\" || exit 0; exec $PA -dl gzip=$A -db $T/xlogs -s $T/state \"%p\"'"
	ok "$name starts" pg_start "$dir"
}

# pg_adopt DIR: the port of the cluster in DIR (a free one, recorded, the
# first time), and DIR on the list of clusters the cleanup stops: for a
# cluster that a program under test starts (pitr-recover --start --port).
pg_adopt()
{
	local dir=$1 port pf
	pf=$(pg_portfile "$dir")
	if [ -s "$pf" ]; then
		port=$(cat "$pf")
	else
		port=$(free_port) || return 1
		echo "$port" >"$pf"
	fi
	grep -qxF "$dir" "$T/.it/clusters" || echo "$dir" >>"$T/.it/clusters"
	echo "$port"
}

# pg_prepare DIR: what pg_start and pg_launch do before pg_ctl: DIR's port
# (pg_adopt), 127.0.0.1, sockets in T/sock, no logging collector.
pg_prepare()
{
	local dir=$1 port
	port=$(pg_adopt "$dir") || return 1
	[ -d "$T/sock" ] || mkdir_pg "$T/sock"
	pg_set "$dir" "port = $port" "listen_addresses = '127.0.0.1'" \
		"unix_socket_directories = '$T/sock'" "logging_collector = off"
}

# pg_archiving DIR ARGS...: the cluster in DIR archives with this build's
# pitr-archive ARGS "%p" (archive_mode on).
pg_archiving()
{
	local dir=$1
	shift
	pg_set "$dir" "archive_mode = on" \
		"archive_command = '$PITR_BUILDDIR/bin/pitr-archive $* \"%p\"'"
}

# pg_start DIR: start the cluster on 127.0.0.1 and a free port (the same
# port again on a restart), sockets in T/sock, server log DIR/../NAME.log.
pg_start()
{
	local dir=$1 log
	pg_prepare "$dir" || return 1
	log=$(pg_logfile "$dir")
	if ! as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$log" -w -t 90 start >/dev/null 2>&1; then
		diag "pg_ctl start $dir failed; server log:" "$(it_tail "$(cat "$log" 2>/dev/null)")"
		return 1
	fi
}

# pg_stop DIR [MODE]: stop the cluster (mode fast by default) and wait.
pg_stop()
{
	as_pg "$PGBIN/pg_ctl" -D "$1" -m "${2:-fast}" -w -t 90 stop >/dev/null
}

# pg_sql DIR SQL...: run each SQL (one psql session, -c per statement) and
# print the unaligned tuples.  Tests may use psql; the product may not.
pg_sql()
{
	local dir=$1 port s args=()
	shift
	port=$(pg_port "$dir") || { echo "pg_sql: no port recorded for $dir" >&2; return 1; }
	for s in "$@"; do
		args+=(-c "$s")
	done
	PGCONNECT_TIMEOUT=10 "$PGBIN/psql" -XAtq -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
		-U postgres -d postgres "${args[@]}"
}

# pg_bench DIR PGBENCH-ARGS...: pgbench against the cluster's postgres db.
pg_bench()
{
	local dir=$1 port
	shift
	port=$(pg_port "$dir") || return 1
	"$PGBIN/pgbench" -h 127.0.0.1 -p "$port" -U postgres "$@" postgres
}

# pg_switch DIR: write something, switch to a new segment and print the
# name of the segment just finished.
pg_switch()
{
	pg_sql "$1" "SET client_min_messages = warning" \
		"CREATE TABLE IF NOT EXISTS it_switch (at timestamptz)" \
		"INSERT INTO it_switch VALUES (clock_timestamp())" \
		"SELECT pg_walfile_name(pg_switch_wal())"
}

# pg_is_archived DIR WALNAME: true if the server archived WALNAME: its
# .done status file, or pg_stat_archiver (for segments, a later segment
# archived, since they are archived in order, and no .ready left).
pg_is_archived()
{
	local dir=$1 name=$2 last
	[ -e "$dir/pg_wal/archive_status/$name.done" ] && return 0
	last=$(pg_sql "$dir" "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") || return 1
	[ "$last" = "$name" ] && return 0
	[[ $name =~ ^[0-9A-F]{24}$ && $last =~ ^[0-9A-F]{24}$ ]] || return 1
	[ -e "$dir/pg_wal/archive_status/$name.ready" ] && return 1
	[[ ! $last < $name ]]
}

# pg_wait_archived DIR WALNAME TIMEOUT: wait until WALNAME is archived;
# on timeout print the archiver's statistics and return 1.
pg_wait_archived()
{
	poll "$3" pg_is_archived "$1" "$2" && return 0
	echo "not archived within $3 s: $2"
	pg_sql "$1" "SELECT archived_count, last_archived_wal, failed_count, last_failed_wal FROM pg_stat_archiver"
	return 1
}

# pg_archiver DIR COLUMN: one column of pg_stat_archiver.
pg_archiver()
{
	pg_sql "$1" "SELECT coalesce($2::text, '') FROM pg_stat_archiver"
}

# --- rsync daemons --------------------------------------------------------

# rsyncd_start NAME MODULEDIR [MODULE]: run an rsync daemon on 127.0.0.1
# and a free port (the same port again on a restart) serving the writable
# module MODULE (default NAME) from MODULEDIR, as uid postgres.
rsyncd_start()
{
	local name=$1 dir=$2 module=${3:-$1} port pf conf
	pf="$T/.it/rsyncd.$name.port"
	echo "$module" >"$T/.it/rsyncd.$name.module"
	if [ -s "$pf" ]; then
		port=$(cat "$pf")
	else
		port=$(free_port) || return 1
		echo "$port" >"$pf"
	fi
	conf="$T/rsyncd-$name.conf"
	cat >"$conf" <<EOF
pid file = $T/rsyncd-$name.pid
log file = $T/rsyncd-$name.log
address = 127.0.0.1
port = $port
use chroot = no
uid = postgres
gid = postgres

[$module]
	path = $dir
	read only = false
EOF
	grep -qxF "$name" "$T/.it/rsyncds" || echo "$name" >>"$T/.it/rsyncds"
	if ! rsync --daemon --config="$conf"; then
		diag "rsync --daemon --config=$conf failed"
		return 1
	fi
	if ! poll 20 port_open "$port"; then
		diag "rsync daemon $name not listening on $port:" \
			"$(it_tail "$(cat "$T/rsyncd-$name.log" 2>/dev/null)")"
		return 1
	fi
}

# rsyncd_stop NAME: stop the daemon by its pid file and wait until its
# port is closed.
rsyncd_stop()
{
	local name=$1 pidf pid port
	pidf="$T/rsyncd-$name.pid"
	port=$(cat "$T/.it/rsyncd.$name.port" 2>/dev/null)
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	kill "$pid" 2>/dev/null
	poll 20 eval "! kill -0 $pid && ! port_open $port" || return 1
	rm -f "$pidf"
}

# rsyncd_url NAME: the daemon's module URL, with a trailing slash.
rsyncd_url()
{
	echo "rsync://127.0.0.1:$(cat "$T/.it/rsyncd.$1.port")/$(cat "$T/.it/rsyncd.$1.module")/"
}

# rsyncd_port NAME
rsyncd_port()
{
	cat "$T/.it/rsyncd.$1.port"
}

# --- standbys (restore.sh) ------------------------------------------------

# pg_launch DIR: start the cluster like pg_start (same port rules, sockets
# and log) but without waiting until it accepts connections: a standby
# that is not consistent yet, or whose restore_command blocks, is started
# this way and then watched with wait_for.
pg_launch()
{
	local dir=$1 log
	pg_prepare "$dir" || return 1
	log=$(pg_logfile "$dir")
	if ! as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$log" -W start >/dev/null 2>&1; then
		diag "pg_ctl start $dir failed; server log:" "$(it_tail "$(cat "$log" 2>/dev/null)")"
		return 1
	fi
}

# pg_logfile DIR: the server log pg_start and pg_launch write.
pg_logfile()
{
	echo "$(dirname "$1")/$(basename "$1").log"
}

# pg_alive DIR: the postmaster of DIR runs (pg_ctl status).
pg_alive()
{
	as_pg "$PGBIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_control DIR FIELD: one field of pg_controldata, e.g. "Database
# cluster state" or "Latest checkpoint's REDO WAL file".
pg_control()
{
	"$PGBIN/pg_controldata" "$1" 2>/dev/null | sed -n "s/^$2: *//p"
}

# pg_in_recovery DIR: the server answers and is in recovery.
pg_in_recovery()
{
	[ "$(pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = t ]
}

# pg_promoted DIR: the server answers and is no longer in recovery.
pg_promoted()
{
	[ "$(pg_sql "$1" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]
}

# pg_replayed DIR LSN: the standby in DIR replayed up to LSN.
pg_replayed()
{
	[ "$(pg_sql "$1" "SELECT pg_last_wal_replay_lsn() >= '$2'::pg_lsn" 2>/dev/null)" = t ]
}

# pg_streaming DIR: the standby in DIR receives WAL by streaming.
pg_streaming()
{
	[ "$(pg_sql "$1" "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]
}

# pg_has_rows DIR TABLE N: the server answers and TABLE holds exactly N
# rows.
pg_has_rows()
{
	[ "$(pg_sql "$1" "SELECT count(*) FROM $2" 2>/dev/null)" = "$3" ]
}

# pg_lsn DIR: the primary's current insert position.
pg_lsn()
{
	pg_sql "$1" "SELECT pg_current_wal_insert_lsn()"
}

# pg_base_backup PRIMARY DIR [PG_BASEBACKUP ARGS...]: a base backup of the
# running PRIMARY into DIR (fast checkpoint, no WAL in it unless ARGS say
# so: pg_basebackup -X none waits until the server archived the WAL the
# backup needs).
pg_base_backup()
{
	local src=$1 dst=$2
	shift 2
	as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$(pg_port "$src")" -U postgres \
		-D "$dst" -c fast -X none "$@"
}

# pg_standby_new BACKUP DIR KIND RESTORE_COMMAND ['key = value'...]: a
# standby in DIR from a copy of the base backup BACKUP.  KIND: warm
# (recovery.signal: archive recovery that a blocking restore_command keeps
# going) or standby (standby.signal).  Hot standby on, WAL prefetch off (a
# blocking restore_command with the prefetcher on holds back the end of
# the current segment), no archiving of its own (a promoted standby would
# otherwise archive into its primary's archives), checkpoint_timeout 30 s.
# Further settings follow, the last one for a key wins.
pg_standby_new()
{
	local backup=$1 dir=$2 kind=$3 cmd=$4
	shift 4
	cp -a "$backup" "$dir" || return 1
	case $kind in
	warm) as_pg touch "$dir/recovery.signal" ;;
	standby) as_pg touch "$dir/standby.signal" ;;
	*) echo "pg_standby_new: unknown kind $kind" >&2; return 1 ;;
	esac
	pg_set "$dir" "archive_mode = off" "hot_standby = on" "recovery_prefetch = off" \
		"checkpoint_timeout = 30s" "restore_command = '$cmd'" "$@"
}

# wal_in DIR: the WAL segment names (24 hex digits, extension stripped) of
# the files in an archive directory, sorted, one a line.
wal_in()
{
	local f
	for f in "$1"/*; do
		f=${f##*/}
		[[ $f =~ ^[0-9A-F]{24}(\.[a-z0-9]+)?$ ]] && echo "${f:0:24}"
	done | sort
}

# proc_pids PATTERN: the pids of the processes whose command line contains
# PATTERN (a fixed string), one a line; only for looking, and for ending
# processes a test itself caused, by id.
proc_pids()
{
	local p
	for p in /proc/[0-9]*; do
		[ "${p#/proc/}" = "$$" ] && continue
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$1" && echo "${p#/proc/}"
	done
	return 0
}

# --- sshd -----------------------------------------------------------------

# sshd_start: a real sshd on 127.0.0.1 and a free port (a host key and a
# client key made here in SSHD_DIR=T/ssh), logged in to as postgres
# through the wrapper SSHD_DIR/ssh with its own client config, for hosts
# "127.0.0.1" and "dead" (SSHD_DEAD_PORT, where nothing listens).  UsePAM
# yes: Debian's postgres account is locked ("!" password), which sshd
# refuses without PAM even for a key.  Stopped at exit (sshd_stop).
SSHD_PID=
SSHD_DIR=
SSHD_PORT=
SSHD_DEAD_PORT=
sshd_start()
{
	local s=$T/ssh
	SSHD_DIR=$s
	mkdir_pg "$s"
	ssh-keygen -q -t ed25519 -N '' -C pitr-test-host -f "$s/host_key" || return 1
	as_pg ssh-keygen -q -t ed25519 -N '' -C pitr-test-client -f "$s/client_key" || return 1
	cp "$s/client_key.pub" "$s/authorized_keys"
	SSHD_PORT=$(free_port) || return 1
	SSHD_DEAD_PORT=$(free_port) || return 1
	cat >"$s/sshd_config" <<EOF
ListenAddress 127.0.0.1
HostKey $s/host_key
AuthorizedKeysFile $s/authorized_keys
AllowUsers postgres
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM yes
PidFile $s/sshd.pid
StrictModes no
EOF
	cat >"$s/config" <<EOF
Host 127.0.0.1 dead
	HostName 127.0.0.1
	User postgres
	IdentityFile $s/client_key
	IdentitiesOnly yes
	UserKnownHostsFile $s/known_hosts
	StrictHostKeyChecking accept-new
	LogLevel ERROR
Host 127.0.0.1
	Port $SSHD_PORT
Host dead
	Port $SSHD_DEAD_PORT
EOF
	printf '#!/bin/sh\nexec ssh -F %s "$@"\n' "$s/config" >"$s/ssh"
	chmod 755 "$s/ssh"
	mkdir -p /run/sshd
	/usr/sbin/sshd -D -f "$s/sshd_config" -p "$SSHD_PORT" -E "$s/sshd.log" &
	SSHD_PID=$!
	it_at_exit sshd_stop
	wait_for "sshd listens on 127.0.0.1:$SSHD_PORT" 30 port_open "$SSHD_PORT"
}

# sshd_stop: stop the sshd sshd_start started, by its pid, and wait.
sshd_stop()
{
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	poll 10 eval "! kill -0 $SSHD_PID"
	SSHD_PID=
}

# --- files ----------------------------------------------------------------

# empty_dir DIR: DIR exists and holds nothing.
empty_dir()
{
	local content
	[ -d "$1" ] || { echo "no directory $1"; return 1; }
	content=$(ls -A "$1")
	[ -z "$content" ] || { echo "$1 holds: $content"; return 1; }
}

# no_hidden_files DIR: nothing below DIR but pitr-archive's system
# identifier record starts with a dot (no rsync or pitrkit temporary file
# left).
no_hidden_files()
{
	local found
	found=$(find "$1" -name '.*' ! -name .pitrkit-system-identifier)
	[ -z "$found" ] || { echo "$found"; return 1; }
}

# flip_byte FILE: invert the byte in the middle of FILE (damage that keeps
# its size).
flip_byte()
{
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(0, 2); n = f.tell() // 2; f.seek(n); b = f.read(1); f.seek(n); f.write(bytes([b[0] ^ 0xFF]))' "$1"
}

# --- Ceph: an S3 object store ---------------------------------------------

# ceph_start: a single-node Ceph cluster of this test's own in CEPH_DIR=T/ceph
# (one monitor, one OSD keeping its objects in memory, or on disk with
# CEPH_OSD_STORE=bluestore (see ceph_conf), the RADOS gateway),
# everything on 127.0.0.1 and read from CEPH_DIR/ceph.conf, nothing from
# /etc/ceph.  The gateway serves HTTP on RGW_HTTP and HTTPS on RGW_HTTPS
# with a certificate for 127.0.0.1 signed by a CA made here (RGW_CA,
# readable by postgres).  Users "pitr" (RGW_KEY, RGW_SECRET) and "other"
# (RGW_OTHER_KEY, RGW_OTHER_SECRET).  Call it directly, not in a subshell
# (`ceph_start || it_bail "no Ceph"`): it sets those variables and starts
# the daemons as this shell's children.  Skips (it_require) without the
# Ceph programs.  Stopped at exit (ceph_stop), whatever happened.
CEPH_DIR=
RGW_HTTP=
RGW_HTTPS=
RGW_CA=
RGW_KEY=
RGW_SECRET=
RGW_OTHER_KEY=
RGW_OTHER_SECRET=
ceph_start()
{
	local c=$T/ceph fsid osd_uuid mon_port http_port https_port
	it_require ceph-mon ceph-osd radosgw radosgw-admin ceph-authtool monmaptool \
		ceph curl openssl
	CEPH_DIR=$c
	mkdir -p "$c/log" "$c/run" "$c/crash" "$c/mon" "$c/osd" "$c/rgw" || return 1
	chmod 755 "$c"
	it_at_exit ceph_stop
	fsid=$(cat /proc/sys/kernel/random/uuid)
	osd_uuid=$(cat /proc/sys/kernel/random/uuid)
	mon_port=$(free_port) && http_port=$(free_port) && https_port=$(free_port) || return 1
	RGW_HTTP=http://127.0.0.1:$http_port
	RGW_HTTPS=https://127.0.0.1:$https_port
	ceph_tls "$c" && ceph_conf "$c" "$fsid" "$mon_port" "$http_port" "$https_port" &&
		ceph_mkfs "$c" "$fsid" "$mon_port" "$osd_uuid" || return 1
	ceph_launch mon ceph-mon -i a || return 1
	# The OSD's id in the OSD map: the one request that needs a quorum.
	if ! ceph -c "$c/ceph.conf" --connect-timeout 30 osd new "$osd_uuid" 0 \
		>"$c/log/osd-new.out" 2>&1; then
		diag "ceph osd new failed:" "$(it_tail "$(cat "$c/log/osd-new.out")")"
		return 1
	fi
	ceph_launch osd ceph-osd -i 0 && rgw_start || return 1
	read -r RGW_KEY RGW_SECRET < <(ceph_user pitr) && [ -n "$RGW_SECRET" ] &&
		read -r RGW_OTHER_KEY RGW_OTHER_SECRET < <(ceph_user other) && [ -n "$RGW_OTHER_SECRET" ]
}

# ceph_tls DIR: a CA (DIR/ca.crt, RGW_CA) and the gateway's key and
# certificate for 127.0.0.1 signed by it (DIR/rgw.key, DIR/rgw.crt).  The
# address is in the certificate twice: as an IP address (what libcurl
# checks) and as a DNS name (what pgBackRest 2.45 checks, for bench/s3).
ceph_tls()
{
	local d=$1
	RGW_CA=$d/ca.crt
	(
		umask 077
		set -e
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj '/CN=pitrkit test CA'
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/rgw.key" -out "$d/rgw.csr" -subj '/CN=127.0.0.1'
		openssl x509 -req -in "$d/rgw.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -out "$d/rgw.crt" \
			-extfile <(printf 'subjectAltName = IP:127.0.0.1, DNS:127.0.0.1\nbasicConstraints = CA:FALSE\n')
		chmod 644 "$d/ca.crt" "$d/rgw.crt"
	) >"$d/log/tls.out" 2>&1 ||
		{ diag "openssl failed:" "$(it_tail "$(cat "$d/log/tls.out")")"; return 1; }
}

# ceph_conf DIR FSID MON_PORT HTTP_PORT HTTPS_PORT: DIR/ceph.conf.  Every
# path under DIR; messenger v2 only, on 127.0.0.1 (the OSD's ports from
# Ceph's own range, 6800-7300, each daemon taking the next unused one);
# pools of one replica; paxos quick to propose (with the defaults the
# gateway takes 13 s to come up).  The OSD's memory store holds at most
# CEPH_MEMSTORE_BYTES (default 4 GiB, taken only as objects are stored).
# CEPH_OSD_STORE=bluestore (for benchmarks: a memory store holds every
# object twice in RAM, with the page cache's copy of what was sent) puts
# the objects on disk instead, in a sparse file of CEPH_BLUESTORE_BYTES
# (default 64 GiB, taken only as objects are stored), DIR/osd/block.
# The gateway sends with TCP_NODELAY (beast's tcp_nodelay=1): without it
# every reply with a small body (a HEAD, an error, a listing, a small
# object) waits ~40 ms for the client's delayed ACK (Nagle), which is
# what the tests and benchmarks would time; CEPH_RGW_TCP_NODELAY=0 keeps
# beast's default.
ceph_conf()
{
	local d=$1 store nodelay=' tcp_nodelay=1'
	[ "${CEPH_RGW_TCP_NODELAY:-1}" = 1 ] || nodelay=
	case ${CEPH_OSD_STORE:-memstore} in
	memstore)
		store="osd objectstore = memstore
memstore device bytes = ${CEPH_MEMSTORE_BYTES:-4294967296}"
		;;
	bluestore)
		# Checks of the whole store at mkfs and mount cost seconds and
		# find nothing in a store made a moment ago.
		store="osd objectstore = bluestore
bluestore block create = true
bluestore block size = ${CEPH_BLUESTORE_BYTES:-68719476736}
bluestore fsck on mkfs = false
bluestore fsck on mount = false"
		;;
	*)
		diag "CEPH_OSD_STORE=$CEPH_OSD_STORE: memstore or bluestore"
		return 1
		;;
	esac
	cat >"$d/ceph.conf" <<EOF
[global]
fsid = $2
mon host = v2:127.0.0.1:$3
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr1 = false
ms bind msgr2 = true
keyring = $d/keyring
run dir = $d/run
admin socket = $d/run/\$name.asok
log file = $d/log/\$name.log
crash dir = $d/crash
mon cluster log file = $d/log/cluster.log
mon allow pool size one = true
mon warn on pool no redundancy = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
paxos propose interval = 0.1
paxos min wait = 0.01
client mount timeout = 30

[mon]
mon data = $d/mon

[osd]
osd data = $d/osd
$store

[client.rgw.gw]
rgw data = $d/rgw
rgw frontends = beast endpoint=127.0.0.1:$4 ssl_endpoint=127.0.0.1:$5 ssl_certificate=$d/rgw.crt ssl_private_key=$d/rgw.key$nodelay
rgw thread pool size = 32
rgw exit timeout secs = 5
EOF
}

# ceph_mkfs DIR FSID MON_PORT OSD_UUID: the keys, the monitor's and the
# OSD's stores.  One keyring for all: the monitor's mkfs takes every key
# in it into its auth database, so no daemon needs registering later.
ceph_mkfs()
{
	local d=$1 k=$1/keyring
	if ! {
		ceph-authtool --create-keyring "$k" --gen-key -n mon. --cap mon 'allow *' &&
			ceph-authtool "$k" --gen-key -n client.admin --cap mon 'allow *' \
				--cap osd 'allow *' --cap mgr 'allow *' &&
			ceph-authtool "$k" --gen-key -n osd.0 --cap mon 'allow profile osd' \
				--cap osd 'allow *' --cap mgr 'allow profile osd' &&
			ceph-authtool "$k" --gen-key -n client.rgw.gw --cap mon 'allow rw' \
				--cap osd 'allow rwx' &&
			monmaptool --create --fsid "$2" --addv a "[v2:127.0.0.1:$3]" "$d/monmap" &&
			ceph-mon -c "$d/ceph.conf" -i a --mkfs --monmap "$d/monmap" --keyring "$k" &&
			ceph-osd -c "$d/ceph.conf" -i 0 --mkfs --no-mon-config --osd-uuid "$4"
	} >"$d/log/mkfs.out" 2>&1; then
		diag "Ceph set-up failed:" "$(it_tail "$(cat "$d/log/mkfs.out")")"
		return 1
	fi
}

# ceph_user UID: make the gateway user UID and print its access key and
# secret key, which the gateway generates (so no key is ever on a command
# line).
ceph_user()
{
	local out err=$CEPH_DIR/log/user-$1.err
	if ! out=$(radosgw-admin -c "$CEPH_DIR/ceph.conf" user create --uid="$1" \
		--display-name="$1" 2>"$err"); then
		diag "radosgw-admin user create --uid=$1 failed:" "$(it_tail "$(cat "$err")")" >&2
		return 1
	fi
	python3 -c 'import json, sys
k = json.load(sys.stdin)["keys"][0]
print(k["access_key"], k["secret_key"])' <<<"$out"
}

# ceph_launch NAME PROGRAM ARGS...: run a Ceph daemon in the foreground as
# a child of this shell (its pid in T/.it/ceph.NAME.pid), its output in
# CEPH_DIR/log/NAME.out.
ceph_launch()
{
	local name=$1
	shift
	"$@" -c "$CEPH_DIR/ceph.conf" -f >>"$CEPH_DIR/log/$name.out" 2>&1 </dev/null &
	echo $! >"$T/.it/ceph.$name.pid"
	disown $!
}

# pid_gone PID: the process ended (a zombie counts: it may be reaped late).
pid_gone()
{
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "${st%% *}" = Z ]
}

# ceph_kill NAME SIGNAL: send SIGNAL to the daemon NAME (by the pid
# ceph_launch recorded) and wait until it is gone; SIGKILL after 10 s.
ceph_kill()
{
	local pf=$T/.it/ceph.$1.pid pid
	[ -s "$pf" ] || return 0
	pid=$(cat "$pf")
	kill "-$2" "$pid" 2>/dev/null
	if ! poll 10 pid_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		poll 10 pid_gone "$pid" || return 1
	fi
	rm -f "$pf"
}

# ceph_stop: stop the gateway, then the OSD, then the monitor (the gateway
# hangs for minutes when the OSD goes first).  Nothing of theirs is kept,
# so the OSD and the monitor are killed.
ceph_stop()
{
	rgw_stop
	ceph_kill osd KILL
	ceph_kill mon KILL
}

# rgw_ports OPEN|CLOSED: both the gateway's ports accept connections, or
# neither does.
rgw_ports()
{
	if [ "$1" = OPEN ]; then
		port_open "${RGW_HTTP##*:}" && port_open "${RGW_HTTPS##*:}"
	else
		! port_open "${RGW_HTTP##*:}" && ! port_open "${RGW_HTTPS##*:}"
	fi
}

# rgw_stop: stop only the gateway (SIGTERM, as an operator would) and wait
# until its ports are closed.
rgw_stop()
{
	ceph_kill rgw TERM && poll 10 rgw_ports CLOSED
}

# rgw_start: start the gateway (again: the same ports) and wait until both
# ports accept connections.
rgw_start()
{
	ceph_launch rgw radosgw -n client.rgw.gw || return 1
	if ! poll 60 rgw_ports OPEN; then
		diag "radosgw not listening on $RGW_HTTP and $RGW_HTTPS:" \
			"$(it_tail "$(cat "$CEPH_DIR/log/client.rgw.gw.log" 2>/dev/null)" 10)"
		return 1
	fi
}

# s3_req [-u other] METHOD PATH [CURL ARGS...]: one request signed for
# user pitr (or other) through the curl CLI, path-style (PATH:
# /BUCKET[/KEY][?QUERY]), over HTTPS checked against RGW_CA; prints the
# body; fails on an HTTP error (the body, S3's error XML, still printed).
# A body is given as -T FILE or --data-binary @FILE|STRING: its SHA-256
# goes in x-amz-content-sha256, without which RGW refuses the signature.
# curl does not canonicalize the query: write its parameters sorted, each
# with '=', percent-encoded (s3_uriencode).  The credentials reach curl in
# a config file, not on its command line.
s3_req()
{
	local key=$RGW_KEY secret=$RGW_SECRET method path a prev='' sha
	if [ "${1:-}" = -u ]; then
		[ "$2" = other ] || { echo "s3_req: no user $2" >&2; return 2; }
		key=$RGW_OTHER_KEY secret=$RGW_OTHER_SECRET
		shift 2
	fi
	method=$1 path=$2
	shift 2
	sha=$(sha256sum </dev/null)
	for a in "$@"; do
		case $prev in
		-T | --upload-file) sha=$(sha256sum <"$a") || return 2 ;;
		--data-binary)
			if [ "${a:0:1}" = @ ]; then
				sha=$(sha256sum <"${a:1}") || return 2
			else
				sha=$(printf '%s' "$a" | sha256sum)
			fi
			;;
		esac
		prev=$a
	done
	if [ "$method" = HEAD ]; then
		set -- --head "$@"
	else
		set -- -X "$method" "$@"
	fi
	curl -sS --fail-with-body --cacert "$RGW_CA" --aws-sigv4 aws:amz:us-east-1:s3 \
		-K <(printf 'user = "%s:%s"\n' "$key" "$secret") \
		-H "x-amz-content-sha256: ${sha%% *}" "$@" "$RGW_HTTPS$path"
}

# s3_mb [-u other] BUCKET: make a bucket (owned by pitr, or other).
s3_mb()
{
	local user=() out
	if [ "${1:-}" = -u ]; then
		user=(-u "$2")
		shift 2
	fi
	out=$(s3_req "${user[@]}" PUT "/$1") || { printf '%s\n' "$out" >&2; return 1; }
}

# s3_uriencode STRING: STRING percent-encoded as SigV4 wants (all but
# A-Z a-z 0-9 - _ . ~).
s3_uriencode()
{
	local LC_ALL=C s=$1 i c n out=''
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*)
			printf -v n '%d' "'$c"
			printf -v c '%%%02X' $((n & 255))
			out+=$c
			;;
		esac
	done
	printf '%s' "$out"
}

# s3_xml TAG: the texts of the elements TAG in the XML on stdin, one a
# line, entities decoded (S3's replies nest nothing in those elements).
s3_xml()
{
	grep -o "<$1>[^<]*</$1>" | sed -e "s|^<$1>||" -e "s|</$1>\$||" -e 's/&lt;/</g' \
		-e 's/&gt;/>/g' -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&amp;/\&/g'
}

# s3_list BUCKET QUERY TAG MARKER...: the TAG texts of every page of a
# listing of BUCKET, sorted; the query of each next page starts with the
# MARKERs (PARAMETER=ELEMENT: the parameter gets the last reply's
# element; they sort before QUERY's parameters).
s3_list()
{
	local bucket=$1 query=$2 tag=$3 out all='' q m
	shift 3
	q=$query
	while :; do
		out=$(s3_req GET "/$bucket?$q") || { printf '%s\n' "$out" >&2; return 1; }
		all+=$(s3_xml "$tag" <<<"$out")$'\n'
		[ "$(s3_xml IsTruncated <<<"$out")" = true ] || break
		q=
		for m in "$@"; do
			q+="${m%%=*}=$(s3_uriencode "$(s3_xml "${m#*=}" <<<"$out")")&"
		done
		q+=$query
	done
	printf '%s' "$all" | sed '/^$/d' | LC_ALL=C sort
}

# s3_keys BUCKET [PREFIX]: the keys under PREFIX, one a line, sorted.
s3_keys()
{
	s3_list "$1" "list-type=2&prefix=$(s3_uriencode "${2:-}")" Key \
		continuation-token=NextContinuationToken
}

# s3_pending BUCKET: the keys of the incomplete multipart uploads in
# BUCKET, one a line (one per upload), sorted.
s3_pending()
{
	s3_list "$1" "uploads=" Key key-marker=NextKeyMarker \
		upload-id-marker=NextUploadIdMarker
}
