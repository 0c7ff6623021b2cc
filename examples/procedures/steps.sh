# steps.sh - the step runner every procedure here shares, sourced at the
# end of a script once its STEPS array ("name|what it does", in order) and
# its step_NAME functions (dashes as underscores) are defined:
#
#     SCRIPT --list    the steps in order, one line each
#     SCRIPT STEP      one step
#     SCRIPT all       every step in order
#
# A script may define procedure_between_steps NAME, run after step NAME
# when all of them run in one go.  Copy this file with the script.
# shellcheck shell=bash

procedure_usage()
{
	echo "usage: $(basename "$0") --list | all | STEP" >&2
	exit 2
}

procedure_step()
{
	local s
	for s in "${STEPS[@]}"; do
		if [ "${s%%|*}" = "$1" ]; then
			"step_${1//-/_}"
			return
		fi
	done
	echo "$(basename "$0"): no step $1 (--list shows them)" >&2
	exit 2
}

procedure_main()
{
	local s width=0
	[ $# -eq 1 ] || procedure_usage
	case $1 in
	--list)
		for s in "${STEPS[@]}"; do
			s=${s%%|*}
			[ "${#s}" -le "$width" ] || width=${#s}
		done
		for s in "${STEPS[@]}"; do
			printf '%-*s %s\n' "$((width + 2))" "${s%%|*}" "${s#*|}"
		done
		;;
	all)
		for s in "${STEPS[@]}"; do
			procedure_step "${s%%|*}"
			if declare -F procedure_between_steps >/dev/null; then
				procedure_between_steps "${s%%|*}"
			fi
		done
		;;
	-*) procedure_usage ;;
	*) procedure_step "$1" ;;
	esac
}
