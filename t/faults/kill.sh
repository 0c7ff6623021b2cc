#!/bin/bash
# kill.sh - repeatable random-kill trials of pitr-archive and pitr-restore
# (issue 9): each trial starts the program on a real 16 MiB segment, sends
# it a signal after a random delay, retries the same command line and
# checks what was left at every instant that counts.
#
# The seed (printed; PITR_FAULT_SEED=N repeats it) draws, per trial, the
# signal (SIGKILL 70 %, SIGTERM, SIGINT and SIGQUIT 10 % each), whether it
# goes to the program alone (as the OOM killer or `kill -9 PID` does) or to
# its whole process group (as PostgreSQL's shutdown and a crash restart,
# and ^C, do), and the delay: from 0 to 1.25 times a run's measured
# length, so every part of the run is hit.  PITR_FAULT_TRIALS trials each
# (default 30; `make check-faults` runs 100); PITR_FAULT_SIGNALS narrows
# the signals drawn.
#
# pitr-archive delivers to two local directories (gzip; xz level 1, the slow
# part, under make check-faults, zstd in make check), an rsync daemon
# (gzip, staged in -t) with a state dir.
# pitr-restore hands a segment from a gzip or an xz archive to
# pg_wal/RECOVERYXLOG of a data directory, as restore_command does.
#
# After the interrupted run (and every process of its group has ended):
# it exited 0, 1 or died of the signal sent (never another status, never
# above 125 by itself); SIGTERM, SIGINT and SIGQUIT are handled (exit 0 or
# 1, not death; such a signal drawn for an instant before main() has
# installed the handlers waits for them: see await_handlers); every final name is absent or holds exactly the source's
# bytes.  After the retry: exit 0, every final name holds exactly the
# source's bytes, no ".pitr-tmp" file in any destination (or pg_wal), -t
# and the state dir empty, no rsync temporary file at the remote.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=faultlib.sh
. "$(dirname "${BASH_SOURCE[0]}")/faultlib.sh"

it_init faults-kill
it_require rsync gzip xz setpriv setsid
it_need_built "$PA" "$PR"
TRIALS=${PITR_FAULT_TRIALS:-30}
fault_seed
echo "# $TRIALS trials of pitr-archive, then $TRIALS of pitr-restore"

ok "3 finished 16 MiB segments of a PostgreSQL 15 cluster" fault_segments "$T/src" 3
mapfile -t SEGS <"$T/src/names"
[ "${#SEGS[@]}" -ge 3 ] || it_bail "no segments to archive"

declare -A SIGNUM=([KILL]=9 [TERM]=15 [INT]=2 [QUIT]=3)

# PITR_FAULT_SIGNALS="KILL" (or "TERM INT QUIT"...) draws every trial's
# signal from that list instead, evenly: 100 kill -9 in a row, say.
read -r -a ONLY_SIGNALS <<<"${PITR_FAULT_SIGNALS:-}"
for s in "${ONLY_SIGNALS[@]}"; do
	case $s in KILL | TERM | INT | QUIT) ;; *) it_bail "PITR_FAULT_SIGNALS: $s is not KILL, TERM, INT or QUIT" ;; esac
done

# draw_trial BASE_MS: SIG, TARGET (pid or group) and DELAY_MS of a trial.
draw_trial()
{
	rnd 100
	if [ "${#ONLY_SIGNALS[@]}" -gt 0 ]; then SIG=${ONLY_SIGNALS[R % ${#ONLY_SIGNALS[@]}]}
	elif [ "$R" -lt 70 ]; then SIG=KILL
	elif [ "$R" -lt 80 ]; then SIG=TERM
	elif [ "$R" -lt 90 ]; then SIG=INT
	else SIG=QUIT
	fi
	rnd 2
	TARGET=$([ "$R" -eq 0 ] && echo pid || echo group)
	# A share of the run (per mille), so that a seed hits the same
	# moments on a slower machine.
	rnd 1251
	DELAY_MS=$(($1 * R / 1000))
}

# handlers_ready PID SIGNO: PID has ended, or it is a pitr program (past
# exec and the wrappers) whose SigCgt mask shows a handler for SIGNO.
handlers_ready()
{
	local exe mask
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
	case ${exe##*/} in *pitr-*) ;; *) return 1 ;; esac
	mask=$(sed -n 's/^SigCgt:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
	[ -n "$mask" ] || return 0
	(((16#$mask >> ($2 - 1)) & 1))
}

# await_handlers PID SIGNO: until handlers_ready, for at most 10 s.  Before
# main() installs its handlers (exec, the dynamic loader) a signal takes
# its default action, which no program can change; a catchable signal
# drawn for that instant is sent the moment the handlers exist, so what
# the trial checks is the program's own handling.
await_handlers()
{
	local i
	for ((i = 0; i < 2000; i++)); do
		handlers_ready "$1" "$2" && return 0
		sleep 0.005
	done
	return 1
}

# interrupt CMD...: start CMD (start_pg_group from RUN_DIR), send SIG to
# TARGET after DELAY_MS, wait for it (RC) and for every process of its
# group; a group that outlives 90 s (rsync's timeout is 60) is killed and
# noted.
interrupt()
{
	local dest
	start_pg_group "$RUN_DIR" "$@"
	sleep "$(ms_to_s "$DELAY_MS")"
	[ "$SIG" = KILL ] || await_handlers "$RUN_PID" "${SIGNUM[$SIG]}" ||
		note_bad handled "trial $TRIAL: no handler for SIG$SIG within 10 s of the start"
	dest=$RUN_PID
	[ "$TARGET" = group ] && dest=-$RUN_PID
	kill -s "$SIG" -- "$dest" 2>/dev/null
	RC=0
	# (stderr: not the shell's "Killed" notice)
	wait "$RUN_PID" 2>/dev/null || RC=$?
	if ! poll 90 eval "! group_alive $RUN_PID"; then
		note_bad group "trial $TRIAL: processes of the run outlived it by 90 s: $(group_members "$RUN_PID" | tr '\n' ';')"
		kill -KILL -- "-$RUN_PID" 2>/dev/null
	fi
}

# judge_exit: the interrupted run's exit status is 0, 1 or death by the
# signal sent; a catchable signal is handled.  Sets HOW.
judge_exit()
{
	local died=$((128 + SIGNUM[$SIG]))
	case $RC in
	0) HOW=finished; FINISHED=$((FINISHED + 1)) ;;
	1) HOW="exit 1"; INTERRUPTED=$((INTERRUPTED + 1)); EXITED=$((EXITED + 1)) ;;
	"$died") HOW="died of SIG$SIG"; INTERRUPTED=$((INTERRUPTED + 1)); KILLED=$((KILLED + 1)) ;;
	*)
		HOW="exit $RC"
		INTERRUPTED=$((INTERRUPTED + 1))
		note_bad exit "trial $TRIAL: SIG$SIG to the $TARGET: exit status $RC: $(tail -n 2 "$RUN_ERR")"
		;;
	esac
	if [ "$SIG" != KILL ] && [ "$RC" = "$died" ]; then
		note_bad handled "trial $TRIAL: SIG$SIG to the $TARGET after $DELAY_MS ms: died of it (status $RC) instead of exit 1"
	fi
}

# counters DESC: reset the figures of one program's trials.
counters()
{
	FINISHED=0 INTERRUPTED=0 EXITED=0 KILLED=0 MIDWRITE=0 LEFT_BY_KILL=0 LEFT_AFTER=0 FAILED=0
	declare -gA SENT=([KILL]=0 [TERM]=0 [INT]=0 [QUIT]=0)
}

# figures PROGRAM: the closing figures of one program's trials.
figures()
{
	echo "# $1: $TRIALS trials (seed $FAULT_SEED): SIGKILL ${SENT[KILL]}, SIGTERM ${SENT[TERM]}," \
		"SIGINT ${SENT[INT]}, SIGQUIT ${SENT[QUIT]}; finished before the signal $FINISHED;" \
		"interrupted $INTERRUPTED (died of the signal $KILLED, exit 1 $EXITED);" \
		"kills mid-write $MIDWRITE; files left by interrupted runs $LEFT_BY_KILL;" \
		"files left after the retry $LEFT_AFTER; failed trials $FAILED"
}

# --- pitr-archive ---------------------------------------------------------
A=$T/arch
fake_datadir "$A/data"
mkdir_pg "$A/l1" "$A/l2" "$A/rem" "$A/stage" "$A/state"
for s in "${SEGS[@]}"; do
	cp "$T/src/$s" "$A/data/pg_wal/$s"
done
chown postgres:postgres "$A"/data/pg_wal/*
ok "rsync daemon for the remote destination starts" rsyncd_start rem "$A/rem"
URL=$(rsyncd_url rem)

# The second local destination: xz (level 1, about 2 s a segment: the
# slow part) under make check-faults, zstd (fast) in make check.
L2_CODEC=zstd L2_EXT=.zst
[ "${PITR_FAULT_FULL:-0}" = 1 ] && L2_CODEC=xz:1 L2_EXT=.xz

# archive_cmd SEG: the command line of every run (the retry's too).
archive_cmd()
{
	CMD=("$PA" -nn -D "$A/data" -s "$A/state" -t "$A/stage" -dl "gzip=$A/l1"
		-dl "$L2_CODEC=$A/l2" -dr "gzip=$URL" "pg_wal/$1")
}

# archive_finals SEG: the final names, one a line.
archive_finals()
{
	printf '%s\n' "$A/l1/$1.gz" "$A/l2/$1$L2_EXT" "$A/rem/$1.gz"
}

# archive_left: what a run may leave behind and the next must not find,
# one a line: .pitr-tmp files in the destinations and the state dir (a
# record is published as a temporary file renamed), anything in -t,
# rsync's hidden temporary files at the remote.
archive_left()
{
	tmp_files "$A/l1" "$A/l2" "$A/rem" "$A/state"
	find "$A/stage" -mindepth 1 -maxdepth 1 2>/dev/null
	rsync_left
}

# rsync_left: the rsync daemon's temporary files at the remote.
rsync_left()
{
	find "$A/rem" -name '.*' ! -name '*.pitr-tmp*' ! -name .pitrkit-system-identifier 2>/dev/null
}

# archive_reset SEG: remove the segment's copies, its state record and
# anything left, so that the next trial starts as the first did.
archive_reset()
{
	local f
	while read -r f; do rm -rf "$f"; done < <(archive_finals "$1"; archive_left)
	rm -f "$A/state/$1.pitr-state"
}

# Two undisturbed runs measure the length the delays are drawn against.
BASE=0
for i in 1 2; do
	archive_reset "${SEGS[0]}"
	archive_cmd "${SEGS[0]}"
	t0=$(now_ms)
	run_pg_in "$A/data" "${CMD[@]}"
	t1=$(now_ms)
	is "undisturbed pitr-archive run $i exits 0" "$IT_RC" 0
	[ "$IT_RC" = 0 ] || diag "$IT_ERR"
	[ $((t1 - t0)) -gt "$BASE" ] && BASE=$((t1 - t0))
done
archive_reset "${SEGS[0]}"
echo "# an undisturbed pitr-archive run (-dl gzip, -dl $L2_CODEC, -dr gzip) takes $BASE ms;" \
	"delays from 0 to $((BASE * 5 / 4)) ms"

counters
RUN_DIR=$A/data
for ((TRIAL = 1; TRIAL <= TRIALS; TRIAL++)); do
	seg=${SEGS[TRIAL % ${#SEGS[@]}]}
	draw_trial "$BASE"
	SENT[$SIG]=$((SENT[$SIG] + 1))
	TRIAL_BAD=0
	archive_cmd "$seg"
	interrupt "${CMD[@]}"
	judge_exit
	missing=0
	while read -r f; do
		if [ ! -e "$f" ]; then
			missing=$((missing + 1))
		elif ! same_bytes "$f" "$T/src/$seg"; then
			note_bad partial "trial $TRIAL: after SIG$SIG at $DELAY_MS ms, $f is not the source's bytes"
		fi
	done < <(archive_finals "$seg")
	left=$(archive_left | grep -c .)
	LEFT_BY_KILL=$((LEFT_BY_KILL + left))
	[ "$RC" != 0 ] && { [ "$missing" -gt 0 ] || [ "$left" -gt 0 ]; } && MIDWRITE=$((MIDWRITE + 1))
	t0=$(now_ms)
	run_pg_in "$A/data" "${CMD[@]}"
	RETRY_MS=$(($(now_ms) - t0))
	[ "$IT_RC" = 0 ] || note_bad retry "trial $TRIAL: the retry exited $IT_RC: $IT_ERR"
	while read -r f; do
		same_bytes "$f" "$T/src/$seg" ||
			note_bad whole "trial $TRIAL: after the retry $f is missing or not the source's bytes"
	done < <(archive_finals "$seg")
	# rsync's receiving daemon may finish its clean-up a moment after
	# the client is gone.
	# shellcheck disable=SC2016
	poll 10 eval '[ -z "$(rsync_left)" ]'
	after=$(archive_left)
	if [ -n "$after" ]; then
		LEFT_AFTER=$((LEFT_AFTER + $(grep -c . <<<"$after")))
		note_bad left "trial $TRIAL: SIG$SIG to the $TARGET after $DELAY_MS ms ($HOW); left after the retry: $(tr '\n' ' ' <<<"$after")"
	fi
	! entries "$A/state" | grep -qv '\.pitr-tmp' ||
		note_bad state "trial $TRIAL: the state dir holds $(entries "$A/state" | tr '\n' ' ')"
	[ "$TRIAL_BAD" = 1 ] && FAILED=$((FAILED + 1))
	echo "# archive trial $TRIAL: $seg, SIG$SIG to the $TARGET after $DELAY_MS ms: $HOW;" \
		"final names missing $missing, files left $left; retry exit $IT_RC in $RETRY_MS ms$([ "$TRIAL_BAD" = 1 ] && echo '; FAILED')"
	archive_reset "$seg"
done
figures pitr-archive
verdict exit "pitr-archive: every interrupted run exited 0, 1 or died of the signal sent (never >125 by itself)"
verdict handled "pitr-archive: SIGTERM, SIGINT and SIGQUIT are handled: exit 1, not death by the signal"
verdict group "pitr-archive: no process of an interrupted run outlived it"
verdict partial "pitr-archive: after every interrupted run each final name is absent or holds the source's bytes"
verdict retry "pitr-archive: every retry with the same command line exits 0"
verdict whole "pitr-archive: after every retry every destination holds the segment, byte for byte"
verdict left "pitr-archive: after every retry no .pitr-tmp file in any destination or the state dir, -t empty, no rsync temporary"
verdict state "pitr-archive: after every retry the state dir holds no record"
ARCHIVE_FIGURES=$(figures pitr-archive)
BAD=() BADN=()

# --- pitr-restore ---------------------------------------------------------
RS=$T/rest
fake_datadir "$RS/data"
mkdir_pg "$RS/gz" "$RS/xz" "$RS/state"
for s in "${SEGS[@]}"; do
	run_pg_in "$T" "$PA" -nn -D "$A/data" -s "$RS/state" -dl "gzip=$RS/gz" -dl "xz:1=$RS/xz" "pg_wal/$s"
	is "the restore archives (gzip, xz) hold $s" "$IT_RC" 0
done
P=$RS/data/pg_wal/RECOVERYXLOG

# restore_cmd SEG CODEC: the restore_command of every run.
restore_cmd()
{
	CMD=("$PR" -s "$2=$RS/$3" "$1" pg_wal/RECOVERYXLOG)
}

# restore_left: temporary files in pg_wal and in the archive, and anything
# in pg_wal but RECOVERYXLOG and archive_status.
restore_left()
{
	tmp_files "$RS/data/pg_wal" "$RS/gz" "$RS/xz"
	entries "$RS/data/pg_wal" | grep -vxE 'RECOVERYXLOG|archive_status|.*\.pitr-tmp.*' | sed "s|^|$RS/data/pg_wal/|"
}

declare -A RBASE=()
for codec in gzip:gz xz:xz; do
	RBASE[$codec]=0
	for i in 1 2; do
		rm -f "$P"
		restore_cmd "${SEGS[0]}" "${codec%%:*}" "${codec#*:}"
		t0=$(now_ms)
		run_pg_in "$RS/data" "${CMD[@]}"
		t1=$(now_ms)
		is "undisturbed pitr-restore run $i from ${codec%%:*} exits 0" "$IT_RC" 0
		[ $((t1 - t0)) -gt "${RBASE[$codec]}" ] && RBASE[$codec]=$((t1 - t0))
	done
	ok "it handed over the segment from ${codec%%:*}" same_bytes "$P" "$T/src/${SEGS[0]}"
	echo "# an undisturbed pitr-restore run from ${codec%%:*} takes ${RBASE[$codec]} ms"
done
rm -f "$P"

counters
RUN_DIR=$RS/data
for ((TRIAL = 1; TRIAL <= TRIALS; TRIAL++)); do
	seg=${SEGS[TRIAL % ${#SEGS[@]}]}
	rnd 2
	codec=$([ "$R" -eq 0 ] && echo gzip:gz || echo xz:xz)
	draw_trial "${RBASE[$codec]}"
	SENT[$SIG]=$((SENT[$SIG] + 1))
	TRIAL_BAD=0
	restore_cmd "$seg" "${codec%%:*}" "${codec#*:}"
	interrupt "${CMD[@]}"
	judge_exit
	missing=0
	if [ ! -e "$P" ]; then
		missing=1
	elif ! same_bytes "$P" "$T/src/$seg"; then
		note_bad partial "trial $TRIAL: after SIG$SIG at $DELAY_MS ms, pg_wal/RECOVERYXLOG is not $seg's bytes"
	fi
	left=$(restore_left | grep -c .)
	LEFT_BY_KILL=$((LEFT_BY_KILL + left))
	[ "$RC" != 0 ] && { [ "$missing" -gt 0 ] || [ "$left" -gt 0 ]; } && MIDWRITE=$((MIDWRITE + 1))
	run_pg_in "$RS/data" "${CMD[@]}"
	[ "$IT_RC" = 0 ] || note_bad retry "trial $TRIAL: the retry exited $IT_RC: $IT_ERR"
	same_bytes "$P" "$T/src/$seg" ||
		note_bad whole "trial $TRIAL: after the retry pg_wal/RECOVERYXLOG is missing or not $seg's bytes"
	after=$(restore_left)
	if [ -n "$after" ]; then
		LEFT_AFTER=$((LEFT_AFTER + $(grep -c . <<<"$after")))
		note_bad left "trial $TRIAL: SIG$SIG to the $TARGET after $DELAY_MS ms ($HOW); left after the retry: $(tr '\n' ' ' <<<"$after")"
	fi
	[ "$TRIAL_BAD" = 1 ] && FAILED=$((FAILED + 1))
	echo "# restore trial $TRIAL: $seg from ${codec%%:*}, SIG$SIG to the $TARGET after $DELAY_MS ms: $HOW;" \
		"files left $left; retry exit $IT_RC$([ "$TRIAL_BAD" = 1 ] && echo '; FAILED')"
	rm -f "$P"
	restore_left | while read -r f; do rm -rf "$f"; done
done
figures pitr-restore
verdict exit "pitr-restore: every interrupted run exited 0, 1 or died of the signal sent (never >125 by itself)"
verdict handled "pitr-restore: SIGTERM, SIGINT and SIGQUIT are handled: exit 1, not death by the signal"
verdict group "pitr-restore: no process of an interrupted run outlived it"
verdict partial "pitr-restore: after every interrupted run pg_wal/RECOVERYXLOG is absent or holds the segment's bytes"
verdict retry "pitr-restore: every retry with the same command line exits 0"
verdict whole "pitr-restore: after every retry pg_wal/RECOVERYXLOG holds the segment, byte for byte"
verdict left "pitr-restore: after every retry no .pitr-tmp file in pg_wal or the archive, nothing else in pg_wal"

echo "# figures:"
echo "$ARCHIVE_FIGURES"
figures pitr-restore
it_done
