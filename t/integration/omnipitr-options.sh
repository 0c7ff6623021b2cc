#!/bin/bash
# omnipitr-options.sh - every option of OmniPITR's nine programs
# (t/data/omnipitr-options.txt) is a pitrkit option: for each program,
# each spelling (long name and every short one) is listed by its --help
# and documented in its man page, and its parser accepts it: one command
# line per program holds every spelling (with a value when --help shows it
# takes one) and then an unknown option, and fails on that unknown option
# alone: errors come in argv order, so each spelling before it was taken.
# No server; two runs of each program.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init omnipitr-options --no-root
LIST=$PITR_SRCDIR/t/data/omnipitr-options.txt
[ -r "$LIST" ] || it_bail "no $LIST"
SENTINEL=--no-such-option-pitr

# spellings HELP: every spelling --help lists, one per line, then a tab
# and what it takes: "" for none, "=" for a value ("=break|hang" with the
# choices), "[=" for an optional one, then a tab and the number of its
# option's line (the spellings of one option share it).
spellings()
{
	printf '%s\n' "$1" | awk '
		/^  -/ {
			row++
			col = substr($0, 3); sub(/  .*/, "", col)
			arg = ""
			if (match(col, /\[=/)) arg = "[="
			else if (match(col, /=/)) arg = substr(col, RSTART)
			sub(/\[?=.*/, "", col)
			n = split(col, parts, /, /)
			for (i = 1; i <= n; i++) print parts[i] "\t" arg "\t" row
		}'
}

# value ARG: the value to give an option whose --help shows =ARG: the
# first choice, /dev/null for a config file, else 1 (every number option
# takes it, every path or name option stores it).
value()
{
	case $1 in
	*'|'*) local c=${1#=}; printf '%s' "${c%%|*}" ;;
	=FILE) printf '/dev/null' ;;
	*) printf '1' ;;
	esac
}

# accepts PROG ARGS...: pitr-PROG takes every one of ARGS, the sentinel
# after them being the only error.
accepts()
{
	local prog=$1
	shift
	it_run "$PITR_BUILDDIR/bin/pitr-$prog" "$@" "$SENTINEL"
	if [ "$IT_RC" -eq 1 ] && [ "$(count_lines "$IT_ERR")" -eq 1 ] &&
		[[ $IT_ERR == *"unknown option \"$SENTINEL\""* ]]; then
		it_pass "pitr-$prog accepts all of OmniPITR's spellings: $*"
	else
		it_fail "pitr-$prog accepts all of OmniPITR's spellings: $*" "exit $IT_RC" "$IT_ERR"
	fi
}

declare -A SPELL MAN
cd "$T" || it_bail "no $T"
prev=
args=()
while read -r prog long shorts; do
	case $prog in '#'* | '') continue ;; esac
	if [ "$prog" != "$prev" ]; then
		[ -z "$prev" ] || [ -z "${SPELL[$prev]:-}" ] || accepts "$prev" "${args[@]}"
		prev=$prog
		args=()
		bin=$PITR_BUILDDIR/bin/pitr-$prog
		ok "pitr-$prog is built (omnipitr-$prog's options)" test -x "$bin"
		SPELL[$prog]=
		if [ -x "$bin" ]; then
			SPELL[$prog]=$(spellings "$("$bin" --help 2>/dev/null)")
			MAN[$prog]=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PITR_SRCDIR/man/pitr-$prog.1" 2>/dev/null)
		fi
	fi
	[ -n "${SPELL[$prog]}" ] || continue
	all=$long
	[ "$shorts" = - ] || all="$all ${shorts//,/ }"
	longrow=
	for sp in $all; do
		line=
		while IFS= read -r l; do
			[ "${l%%$'\t'*}" = "$sp" ] && { line=$l; break; }
		done <<<"${SPELL[$prog]}"
		if [ -z "$line" ]; then
			it_fail "pitr-$prog --help lists $sp" "not among: $(printf '%s\n' "${SPELL[$prog]}" | cut -f1 | tr '\n' ' ')"
			continue
		fi
		it_pass "pitr-$prog --help lists $sp"
		# OmniPITR's meaning: every spelling of the row is one option.
		row=${line##*$'\t'}
		if [ "$sp" = "$long" ]; then
			longrow=$row
		else
			is "pitr-$prog: $sp is a spelling of $long" "$row" "$longrow"
		fi
		re=${sp//\?/\\?}
		like "pitr-$prog man page documents $sp" "${MAN[$prog]}" "(^|[^a-zA-Z0-9-])$re([^a-zA-Z0-9-]|$)"
		arg=${line#*$'\t'}
		arg=${arg%$'\t'*}
		args+=("$sp")
		case $arg in
		'' | '[=') ;;
		*) args+=("$(value "$arg")") ;;
		esac
	done
done <"$LIST"
[ -z "$prev" ] || [ -z "${SPELL[$prev]:-}" ] || accepts "$prev" "${args[@]}"
it_done
