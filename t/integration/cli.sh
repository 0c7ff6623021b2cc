#!/bin/bash
# cli.sh - the command-line contract (STYLE.md rule 13): pitr-archive in
# detail, then every program's help, version, option errors and man page.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init cli --no-root
PA=$PITR_BUILDDIR/bin/pitr-archive
MAN=$PITR_SRCDIR/man/pitr-archive.1
it_need_built "$PA"

# --- help -----------------------------------------------------------------
it_run "$PA" --help
is "--help exits 0" "$IT_RC" 0
is "--help writes nothing on stderr" "$IT_ERR" ""
like "--help shows the usage on stdout" "$IT_OUT" 'pitr-archive'
help=$IT_OUT
# The options the spec gives pitr-archive (OmniPITR's), each listed.
for opt in data-dir force-data-dir dst-local dst-remote dst-backup dst-pipe temp-dir \
	log state-dir pid-file parallel-jobs verbose not-nice rsync-path config-file \
	help version; do
	like "--help lists --$opt" "$help" "(^|[^a-z-])--$opt([^a-z-]|$)"
done
# Their OmniPITR short spellings.
for opt in D f dl dr db dp t l s PJ v nn rp V; do
	like "--help lists -$opt" "$help" "(^|[^a-zA-Z-])-$opt([^a-zA-Z-]|$)"
done

it_run "$PA" '-?'
is "-? exits 0" "$IT_RC" 0
is "-? prints the same help as --help" "$IT_OUT" "$help"

# --- version --------------------------------------------------------------
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$PITR_BUILDDIR/config.h")
for opt in --version -V; do
	it_run "$PA" "$opt"
	is "$opt exits 0" "$IT_RC" 0
	is "$opt prints 'pitr-archive (pitrkit) VERSION' on stdout" "$IT_OUT" \
		"pitr-archive (pitrkit) $version"
	is "$opt writes nothing on stderr" "$IT_ERR" ""
done

# --- option errors: exit 1, nothing on stdout, one stderr line naming the option
LOGLINE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} [+-][0-9]{4} : [0-9]+ : pitr-archive : (ERROR|FATAL) : '

# option_error DESC REGEX ARGS...: ARGS are refused with one line on stderr
# matching REGEX.
option_error()
{
	local desc=$1 re=$2
	shift 2
	it_run "$PA" "$@"
	is "$desc: exit status 1" "$IT_RC" 1
	is "$desc: nothing on stdout" "$IT_OUT" ""
	is "$desc: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
	like "$desc: the line is a log line" "$IT_ERR" "$LOGLINE"
	like "$desc: the line names the option" "$IT_ERR" "$re"
}

option_error "unknown option" 'no-such-option' --no-such-option -dl "$T/a" pg_wal/000000010000000000000001
option_error "unknown short option" '-Q([^a-zA-Z0-9]|$)' -Q -dl "$T/a" pg_wal/000000010000000000000001
option_error "missing value (-dl last)" '(-dl|dst-local)' -dl
option_error "bad value (-PJ abc)" '(-PJ|parallel-jobs).*abc|abc.*(-PJ|parallel-jobs)' \
	-PJ abc -dl "$T/a" pg_wal/000000010000000000000001
option_error "out-of-range value (-PJ 0)" '(-PJ|parallel-jobs)' \
	-PJ 0 -dl "$T/a" pg_wal/000000010000000000000001
option_error "no WAL path" '%p|WAL' -dl "$T/a"
# A NUL byte in a config file line would cut its value short unseen.
printf 'dl %s\0/more\n' "$T/a" > "$T/nul.conf"
option_error "config line with a NUL byte" 'line 1 in config file .*nul\.conf.*NUL byte' \
	--cfg "$T/nul.conf" pg_wal/000000010000000000000001

# The spec: an option error goes to stderr and to the log.
mkdir -p "$T/log"
it_run "$PA" -l "$T/log/cli.log" --no-such-option -dl "$T/a" pg_wal/000000010000000000000001
is "unknown option with --log: exit status 1" "$IT_RC" 1
like "unknown option with --log: stderr names it" "$IT_ERR" 'no-such-option'
ok "unknown option with --log: the log names it" grep -q 'ERROR : .*no-such-option' "$T/log/cli.log"

# Nothing was created by the refused runs.
ok "no destination dir was created by refused runs" test ! -e "$T/a"

# --- man page -------------------------------------------------------------
ok "man page $MAN exists" test -s "$MAN"
ok "man page has a .TH header" grep -q '^\.TH PITR-ARCHIVE 1' "$MAN"
# roff spells '-' as '\-'; drop that and font changes before looking.
mantext=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN" 2>/dev/null)
longopts=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u)
like "--help spells long options" "$(count_lines "$longopts")" '^[1-9][0-9]*$'
for opt in $longopts; do
	like "man page documents $opt" "$mantext" "(^|[^a-z-])$opt([^a-z-]|$)"
done

# --- every other program: the same contract, in brief -----------------------
for prog in pitr-restore pitr-cleanup pitr-backup-master pitr-backup-slave pitr-backup-cleanup pitr-recover pitr-info \
	pitr-verify pitr-synch; do
	bin=$PITR_BUILDDIR/bin/$prog
	man=$PITR_SRCDIR/man/$prog.1
	it_run "$bin" --help
	is "$prog --help exits 0" "$IT_RC" 0
	like "$prog --help shows its usage on stdout" "$IT_OUT" "Usage: $prog"
	phelp=$IT_OUT
	it_run "$bin" -V
	is "$prog -V prints its version" "$IT_OUT" "$prog (pitrkit) $version"
	for bad in --no-such-option "-l"; do
		it_run "$bin" "$bad"
		is "$prog $bad: exit status 1" "$IT_RC" 1
		is "$prog $bad: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
		like "$prog $bad: the line names the option" "$IT_ERR" "(no-such-option|--log)"
	done
	ok "$prog: man page exists with its .TH header" grep -q "^\.TH ${prog^^} 1" "$man"
	pman=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man" 2>/dev/null)
	for opt in $(printf '%s\n' "$phelp" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u); do
		like "$prog man page documents $opt" "$pman" "(^|[^a-z-])$opt([^a-z-]|$)"
	done
done

# --- every option's default, allowed values and "required": --help (from
# the option table) and the man page say the same -------------------------

# man_items MAN: the man page's .TP entries, one per line as "TAGS<TAB>TEXT"
# (the tags of .TQ lines joined), roff dropped: \- is -, font escapes go,
# the font macros show their text (.BR and its kind join their arguments
# as troff does), other requests are dropped.
man_items()
{
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$1" | awk '
		function flush() { if (tags != "") print tags "\t" body; tags = ""; body = "" }
		function text(line,    args, n, i, out, join) {
			if (line !~ /^\./)
				return line
			if (line !~ /^\.(B|I|BR|RB|IR|RI|BI|IB) /)
				return ""
			join = line ~ /^\.[BIR][BIR] /
			sub(/^\.[A-Z]+ /, "", line)
			n = 0
			while (line != "") {
				if (line ~ /^"/) {
					match(line, /^"[^"]*"?/)
					args[++n] = substr(line, 2, RLENGTH - 1)
					sub(/"$/, "", args[n])
				} else {
					match(line, /^[^ ]+/)
					args[++n] = substr(line, 1, RLENGTH)
				}
				line = substr(line, RLENGTH + 1)
				sub(/^ +/, "", line)
			}
			out = ""
			for (i = 1; i <= n; i++)
				out = out (i > 1 && !join ? " " : "") args[i]
			return out
		}
		/^\.TQ/ { wanttag = 1; next }
		/^\.(TP|SH|SS)/ { flush(); intp = ($0 ~ /^\.TP/); wanttag = intp; next }
		intp && wanttag { tags = tags " " text($0); wanttag = 0; next }
		intp { t = text($0); if (t != "") body = body " " t }
		END { flush() }' | tr -s ' '
}

# has DESC HAYSTACK NEEDLE...: HAYSTACK holds one of the NEEDLEs, literally
# and ignoring case.
has()
{
	local desc=$1 hay=${2,,} needle
	shift 2
	for needle in "$@"; do
		if [[ $hay == *"${needle,,}"* ]]; then
			it_pass "$desc"
			return
		fi
	done
	it_fail "$desc" "got:      '$hay'" "expected to contain: '$1'"
}

for prog in pitr-archive pitr-restore pitr-cleanup pitr-backup-master pitr-backup-slave \
	pitr-backup-cleanup pitr-recover pitr-info pitr-verify pitr-synch pitr-checksum; do
	items=$(man_items "$PITR_SRCDIR/man/$prog.1")
	it_run "$PITR_BUILDDIR/bin/$prog" --help
	while IFS= read -r line; do
		opt=$(printf '%s\n' "$line" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | head -n 1)
		# The entry whose tags spell the option.
		item=$(printf '%s\n' "$items" | awk -F '\t' -v opt="$opt" '{
			tags = " " $1 " "
			gsub(/[^a-zA-Z0-9?-]/, " ", tags)
			if (index(tags, " " opt " ")) { print; exit }
		}')
		like "$prog man page has an entry for $opt" "$item" '.'
		dflt=$(printf '%s\n' "$line" | sed -n 's/.*(default: \(.*\))$/\1/p')
		if [ -n "$dflt" ]; then
			has "$prog man page gives $opt's default, $dflt" "$item" "default $dflt" \
				"default: $dflt" "default, $dflt" "default is $dflt"
		fi
		if [[ $line == *"(required)"* ]]; then
			has "$prog man page says $opt is required" "$item" "required"
		fi
		# Allowed values: the lowercase words of an =a|b|c argument.
		values=$(printf '%s\n' "$line" | sed -n 's/^ *[^ ]*=\([^ ]*|[^ ]*\) .*/\1/p' | tr '|' '\n' |
			grep -E '^[a-z]+$' || true)
		for value in $values; do
			has "$prog man page names $opt's value $value" "$item" "$value"
		done
	done < <(printf '%s\n' "$IT_OUT" | grep -E '^  -')
done

# pitr-checksum: the same contract, except that -l is OmniPITR's --list
# (the log has its long name only); its output byte for byte OmniPITR's.
PCS=$PITR_BUILDDIR/bin/pitr-checksum
it_run "$PCS" --help
is "pitr-checksum --help exits 0" "$IT_RC" 0
like "pitr-checksum --help shows its usage on stdout" "$IT_OUT" "Usage: pitr-checksum"
for opt in digest filename list help version; do
	like "pitr-checksum --help lists --$opt" "$IT_OUT" "(^|[^a-z-])--$opt([^a-z-]|$)"
done
for opt in d f l '\?' V; do
	like "pitr-checksum --help lists -$opt" "$IT_OUT" "(^|[^a-zA-Z-])-$opt([^a-zA-Z-]|$)"
done
pchelp=$IT_OUT
it_run "$PCS" -V
is "pitr-checksum -V prints its version" "$IT_OUT" "pitr-checksum (pitrkit) $version"
ok "pitr-checksum: man page exists with its .TH header" grep -q '^\.TH PITR-CHECKSUM 1' \
	"$PITR_SRCDIR/man/pitr-checksum.1"
pcman=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$PITR_SRCDIR/man/pitr-checksum.1")
for opt in $(printf '%s\n' "$pchelp" | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u); do
	like "pitr-checksum man page documents $opt" "$pcman" "(^|[^a-z-])$opt([^a-z-]|$)"
done
for bad in --no-such-option "-d SHA-3" operand; do
	# shellcheck disable=SC2086
	it_run "$PCS" $bad </dev/null
	is "pitr-checksum $bad: exit status 1" "$IT_RC" 1
	is "pitr-checksum $bad: nothing on stdout" "$IT_OUT" ""
	is "pitr-checksum $bad: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
done
# OmniPITR's printf "%s *%s\n": MD5 and "<stdin>" by default.
is "pitr-checksum: OmniPITR's line, MD5 of stdin by default" \
	"$(printf abc | "$PCS" | od -An -c | tr -s ' \n' ' ')" \
	"$(printf '900150983cd24fb0d6963f7d28e17f72 *<stdin>\n' | od -An -c | tr -s ' \n' ' ')"
printf 'some bytes' >"$T/f.tar.gz"
for alg in md5 sha1 sha224 sha256 sha384 sha512; do
	name=$(printf '%s' "$alg" | tr '[:lower:]' '[:upper:]' | sed 's/^SHA/SHA-/')
	is "pitr-checksum -d $name -f NAME: sha${alg#sha}sum -b's line" \
		"$("$PCS" -d "$name" -f f.tar.gz <"$T/f.tar.gz")" "$(cd "$T" && "${alg}sum" -b f.tar.gz)"
done
is "pitr-checksum -l: OmniPITR's list format, the names -d takes" "$("$PCS" -l)" \
	"Available digests:
- MD5
- SHA-1
- SHA-224
- SHA-256
- SHA-384
- SHA-512"

# pitr-restore -pf: a count from 0 to 16, refused with one line otherwise.
for bad in 17 -1 x; do
	it_run "$PITR_BUILDDIR/bin/pitr-restore" -pf "$bad" -s "$T" 000000010000000000000001 pg_wal/RECOVERYXLOG
	is "pitr-restore -pf $bad: exit status 1" "$IT_RC" 1
	is "pitr-restore -pf $bad: exactly one line on stderr" "$(count_lines "$IT_ERR")" 1
	like "pitr-restore -pf $bad: the line names --prefetch and its range" "$IT_ERR" \
		'"--prefetch": expected an integer from 0 to 16'
done

# --- what archive_command and restore_command load -------------------------
# They run once per WAL file: libpq and libarchive (and ICU, GnuTLS,
# Kerberos behind them) stay out of them, in libpitrkit-backup.
for prog in pitr-archive pitr-restore pitr-cleanup; do
	needed=$(LD_LIBRARY_PATH=$PITR_BUILDDIR/lib/.libs ldd "$PITR_BUILDDIR/bin/.libs/$prog" 2>&1)
	like "$prog links libpitrkit" "$needed" 'libpitrkit\.so'
	unlike "$prog loads neither libpq nor libarchive" "$needed" 'libpq|libarchive'
done
needed=$(LD_LIBRARY_PATH=$PITR_BUILDDIR/lib/.libs ldd "$PITR_BUILDDIR/bin/.libs/pitr-backup-master" 2>&1)
like "pitr-backup-master links libpitrkit-backup" "$needed" 'libpitrkit-backup\.so'

it_done
