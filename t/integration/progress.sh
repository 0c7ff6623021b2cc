#!/bin/bash
# progress.sh - progress and terminals (issue 11): pitr-backup-master of a
# pgbench scale-20 database run under a pseudo-terminal (script(1)) shows
# a status line that advances and ends erased; the same backup run as cron
# runs it (no terminal, stdin from /dev/null, stderr to a file, -v) writes
# OmniPITR log lines and nothing else; with -l a failure still reaches
# stderr as one line: the OmniPITR line off a terminal, the short
# "PROGRAM: ERROR: ..." on one.  pitr-verify's, pitr-synch's and
# pitr-recover's extraction's progress with -v on a terminal: a LOG line
# each tenth.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init progress
it_require script
PB=$PITR_BUILDDIR/bin/pitr-backup-master
it_need_built "$PB" "$PITR_BUILDDIR/bin/pitr-archive"

# The log line of lib/common/log.h, as OmniPITR wrote it.
STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} [+-][0-9]{4} : [0-9]+ : pitr-backup-master : '
OMNI="$STAMP(LOG|ERROR|FATAL) : "

P1=$T/p1
mkdir_pg "$T/arch" "$T/state" "$T/tty" "$T/cron" "$T/log"
ok "initdb p1 (1 MiB segments)" pg_new "$P1" --wal-segsize=1
# Loaded with wal_level minimal, so that pgbench's rows (created and
# filled in one transaction) write no WAL for the archiver to copy; the
# backups then run with archiving on.
pg_set "$P1" "wal_level = minimal" "max_wal_senders = 0" "archive_mode = off"
ok "p1 starts for loading" pg_start "$P1"
ok "pgbench -i -s 20" pg_bench "$P1" -i -s 20 -q -I dtGp
ok "p1 stops" pg_stop "$P1"
pg_set "$P1" "wal_level = replica" "max_wal_senders = 2"
pg_archiving "$P1" -dl "$T/arch" -db "$T/xlogs" -s "$T/state"
ok "p1 starts archiving" pg_start "$P1"
PORT=$(pg_port "$P1")

# --- on a terminal -------------------------------------------------------
# script runs the command under a new pseudo-terminal; its output (the
# terminal's, stderr's included) comes out on script's stdout.
# -v: the LOG line at each tenth makes the advance visible whatever the
# machine's speed; the status line is drawn between them.
cmd="$PB -v -h 127.0.0.1 -p $PORT -U postgres -x $T/xlogs -dl gzip=$T/tty -f tty-__FILETYPE__.tar__CEXT__"
it_run as_pg script -qfec "$cmd" /dev/null
is "on a terminal: the backup exits 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT")"
# Each redraw, and each log line after the status line's erasure, on a
# line of its own.
TTY=$(printf '%s' "$IT_OUT" | tr '\r' '\n' | sed 's/\x1b\[K//g')
SHOWN=$(printf '%s\n' "$TTY" | grep -oE 'data: [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\)' | sort -u)
diag "status lines seen: $(count_lines "$SHOWN")"
ok "the progress shows bytes of a total, a share, files" \
	grep -qE 'data: [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\), [0-9]+ of [0-9]+ files' <<<"$TTY"
# (The rate and the time left join the line after a first second.)
ok "-v: the end says how much, in how long, at what rate" \
	grep -qE '^pitr-backup-master: data: [0-9.]+ [KMG]iB, [0-9]+ files in [0-9]+s, [0-9.]+ [KMG]?i?B/s$' \
	<<<"$TTY"
ok "the progress advances: two different counts at least" test "$(count_lines "$SHOWN")" -ge 2
ok "the status line itself is drawn (a line of its own after the erasure)" \
	grep -qE '^data: [0-9.]+ [KMG]iB of ' <<<"$TTY"
ok "the status line is erased in place (CR, erase to end of line)" \
	grep -qF $'\r\033[K' <<<"$IT_OUT"
like "log lines are short on the terminal" "$TTY" $'(^|\n)pitr-backup-master: backup "pitrkit [^"]*" done: '
unlike "no OmniPITR prefix on the terminal" "$TTY" ' : pitr-backup-master : '
ok "the backup is complete" test -s "$T/tty/tty-meta.tar.gz"

# --- as cron runs it -----------------------------------------------------
it_run as_pg "$PB" -v -h 127.0.0.1 -p "$PORT" -U postgres -x "$T/xlogs" -dl "gzip=$T/cron" \
	-f "cron-__FILETYPE__.tar__CEXT__" </dev/null
is "without a terminal: the backup exits 0" "$IT_RC" 0
ok "without a terminal: some lines on stderr" test "$(count_lines "$IT_ERR")" -gt 3
BAD=$(printf '%s\n' "$IT_ERR" | grep -cvE "$OMNI" || true)
is "without a terminal: every line is an OmniPITR line" "$BAD" 0
[ "$BAD" -eq 0 ] || diag "$(printf '%s\n' "$IT_ERR" | grep -vE "$OMNI" | head -5 | cat -A)"
nok "without a terminal: no CR nor escape sequence" grep -q $'[\r\033]' "$T/.it/err"
like "-v: the periodic progress is LOG lines" "$IT_ERR" " : LOG : data: [0-9.]+ [KMG]iB of "
ok "the cron backup is complete" test -s "$T/cron/cron-meta.tar.gz"

# --- pitr-verify ---------------------------------------------------------
# -v on a terminal: the LOG line at each tenth of the bytes comes whatever
# the speed, each on a line of its own below the status line.
PV=$PITR_BUILDDIR/bin/pitr-verify
it_run as_pg script -qfec "$PV -v -b $T/cron -a $T/arch" /dev/null
is "pitr-verify on a terminal exits 0" "$IT_RC" 0
TTY=$(printf '%s' "$IT_OUT" | tr '\r' '\n' | sed 's/\x1b\[K//g')
SHOWN=$(printf '%s\n' "$TTY" | grep -E '^pitr-verify: verify: [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\), [0-9]+ of [0-9]+ files' | sort -u)
ok "pitr-verify -v: its progress advances, tenth by tenth" test "$(count_lines "$SHOWN")" -ge 2
like "pitr-verify: the report still on stdout" "$TTY" '1 backups, [0-9]+ segments checked, 0 problems'

# --- pitr-synch's stream ------------------------------------------------------
PS=$PITR_BUILDDIR/bin/pitr-synch
mkdir_pg "$T/syn"
it_run as_pg script -qfec "$PS -v -a -h 127.0.0.1 -p $PORT -U postgres -o $T/syn/data" /dev/null
is "pitr-synch on a terminal exits 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT")"
TTY=$(printf '%s' "$IT_OUT" | tr '\r' '\n' | sed 's/\x1b\[K//g')
SHOWN=$(printf '%s\n' "$TTY" | grep -E '^pitr-synch: data: [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\), [0-9]+ of [0-9]+ files' | sort -u)
ok "pitr-synch -v: the stream's progress advances, tenth by tenth" \
	test "$(count_lines "$SHOWN")" -ge 2
ok "pitr-synch: the copy is there" test -s "$T/syn/data/global/pg_control"

# --- pitr-recover's extraction ---------------------------------------------
PR=$PITR_BUILDDIR/bin/pitr-recover
mkdir_pg "$T/rec"
it_run as_pg script -qfec "$PR -v -b $T/cron -a $T/arch -D $T/rec/data" /dev/null
is "pitr-recover on a terminal exits 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT")"
TTY=$(printf '%s' "$IT_OUT" | tr '\r' '\n' | sed 's/\x1b\[K//g')
SHOWN=$(printf '%s\n' "$TTY" | grep -E '^pitr-recover: extract: [0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\), [0-9]+ files' | sort -u)
ok "pitr-recover -v: the extraction's progress advances, tenth by tenth" \
	test "$(count_lines "$SHOWN")" -ge 2
ok "pitr-recover: the copy is there" test -s "$T/rec/data/global/pg_control"

# --- a failure with -l ---------------------------------------------------
# Nothing listens on port 1: the connection fails.
it_run as_pg "$PB" -l "$T/log/bk.log" -h 127.0.0.1 -p 1 -U postgres -x "$T/xlogs" \
	-dl "$T/cron" </dev/null
is "-l, unreachable server: exit 1" "$IT_RC" 1
is "-l, no terminal: one line on stderr" "$(count_lines "$IT_ERR")" 1
like "-l, no terminal: the OmniPITR ERROR line" "$IT_ERR" "${STAMP}ERROR : .+$"
ok "-l: the log file has the same line" grep -qxF "$IT_ERR" "$T/log/bk.log"
it_run as_pg script -qfec "$PB -l $T/log/bk.log -h 127.0.0.1 -p 1 -U postgres -x $T/xlogs -dl $T/cron" /dev/null
is "-l, terminal: exit 1" "$IT_RC" 1
TTY=$(printf '%s' "$IT_OUT" | tr -d '\r')
is "-l, terminal: the error in one line, a hint after it" "$(count_lines "$TTY")" 2
like "-l, terminal: the short ERROR line" "$TTY" '^pitr-backup-master: ERROR: could not connect to PostgreSQL: [^'$'\n'']+'$'\n''HINT: '
is "-l: the log file holds both failures" "$(grep -c ' : ERROR : ' "$T/log/bk.log")" 2

it_done
