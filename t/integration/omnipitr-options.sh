#!/bin/bash
# omnipitr-options.sh - every option of OmniPITR's nine programs
# (t/data/omnipitr-options.txt) is a pitrkit option: for each program,
# each spelling (long name and every short one) is listed by its --help
# and documented in its man page, and its parser accepts it: the spelling
# (with a value when --help shows it takes one) followed by an unknown
# option fails on that unknown option alone, as errors come in argv order.
# No server; one run of the program per spelling.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init omnipitr-options --no-root
LIST=$PITR_SRCDIR/t/data/omnipitr-options.txt
[ -r "$LIST" ] || it_bail "no $LIST"
SENTINEL=--no-such-option-pitr

# spellings HELP: every spelling --help lists, one per line, and after a
# tab what it takes: "" for none, "=" for a value ("=break|hang" with the
# choices), "[=" for an optional one.
spellings()
{
	printf '%s\n' "$1" | awk '
		/^  -/ {
			col = substr($0, 3); sub(/  .*/, "", col)
			arg = ""
			if (match(col, /\[=/)) arg = "[="
			else if (match(col, /=/)) arg = substr(col, RSTART)
			sub(/\[?=.*/, "", col)
			n = split(col, parts, /, /)
			for (i = 1; i <= n; i++) print parts[i] "\t" arg
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

declare -A HELP MAN SPELL
cd "$T" || it_bail "no $T"
while read -r prog long shorts; do
	case $prog in '#'* | '') continue ;; esac
	bin=$PITR_BUILDDIR/bin/pitr-$prog
	if [ -z "${HELP[$prog]+set}" ]; then
		HELP[$prog]=
		if [ -x "$bin" ]; then
			HELP[$prog]=$("$bin" --help 2>/dev/null)
			SPELL[$prog]=$(spellings "${HELP[$prog]}")
			MAN[$prog]=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PITR_SRCDIR/man/pitr-$prog.1" 2>/dev/null)
		fi
		ok "pitr-$prog is built (omnipitr-$prog's options)" test -x "$bin"
	fi
	[ -x "$bin" ] || continue
	all=$long
	[ "$shorts" = - ] || all="$all ${shorts//,/ }"
	for sp in $all; do
		line=$(printf '%s\n' "${SPELL[$prog]}" | awk -F'\t' -v s="$sp" '$1 == s { print; exit }')
		if [ -z "$line" ]; then
			it_fail "pitr-$prog --help lists $sp" "not among: $(printf '%s\n' "${SPELL[$prog]}" | cut -f1 | tr '\n' ' ')"
			continue
		fi
		it_pass "pitr-$prog --help lists $sp"
		re=${sp//\?/\\?}
		like "pitr-$prog man page documents $sp" "${MAN[$prog]}" "(^|[^a-zA-Z0-9-])$re([^a-zA-Z0-9-]|$)"
		arg=${line#*$'\t'}
		args=("$sp")
		case $arg in
		'' | '[=') ;;
		*) args+=("$(value "$arg")") ;;
		esac
		it_run "$bin" "${args[@]}" "$SENTINEL"
		if [ "$IT_RC" -eq 1 ] && [ "$(count_lines "$IT_ERR")" -eq 1 ] &&
			[[ $IT_ERR == *"unknown option \"$SENTINEL\""* ]]; then
			it_pass "pitr-$prog accepts ${args[*]}"
		else
			it_fail "pitr-$prog accepts ${args[*]}" "exit $IT_RC" "$IT_ERR"
		fi
	done
done <"$LIST"
it_done
