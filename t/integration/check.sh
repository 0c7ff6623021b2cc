#!/bin/bash
# check.sh - pitr-check against a real archiving PostgreSQL 15 server: an
# archive_command with two local directories (none and gzip) and an rsync
# daemon passes, naming each destination; a destination that cannot be
# written makes it fail naming that destination within --timeout; an
# unreadable archive_command and archive_mode off fail with one line.
# With archive_library = 'pitrkit_archive' the module's settings are read
# and checked the same way; a missing destination directory fails at once
# with one line; another archive_library is refused with one line.
# What archive_command names is the database superuser's: pitr-check runs
# none of its programs and shows no line of its config files.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init check
it_require rsync
PC=$PITR_BUILDDIR/bin/pitr-check
PA=$PITR_BUILDDIR/bin/pitr-archive
it_need_built "$PC" "$PA"

P=$T/p
mkdir_pg "$T/plain"
mkdir_pg "$T/gz"
mkdir_pg "$T/remote"
mkdir_pg "$T/state"
ok "rsync daemon for the remote destination starts" rsyncd_start remote "$T/remote"
URL=$(rsyncd_url remote)
DESTS="-s $T/state -dl $T/plain -dl gzip=$T/gz -dr gzip=$URL"

ok "initdb (1 MiB segments)" pg_new "$P" --wal-segsize=1
pg_archiving "$P" "$DESTS"
ok "the server starts" pg_start "$P"
PORT=$(pg_port "$P")
conn=(-h 127.0.0.1 -p "$PORT" -U postgres -d postgres)

# --- every destination reached -----------------------------------------
it_run "$PC" "${conn[@]}" --timeout 20
is "pitr-check passes: exit 0" "$IT_RC" 0
is "pitr-check passes: nothing on stderr" "$IT_ERR" ""
seg=$(printf '%s\n' "$IT_OUT" | sed -n 's/^archiving works: "\([0-9A-F]*\)".*/\1/p')
like "the last line names the segment and 3 destinations" "$IT_OUT" \
	'archiving works: "[0-9A-F]{24}" reached 3 destinations in [0-9.]+ s'
like "the plain directory is named, its copy checked" "$IT_OUT" \
	"local destination \"$T/plain\": \"$seg\" arrived in [0-9.]+ s, read back whole, page header and system identifier [0-9]+ checked"
like "the gzip directory is named, its .gz copy checked" "$IT_OUT" \
	"local destination \"$T/gz\": \"$seg.gz\" arrived in"
like "the rsync daemon is named, its .gz copy checked" "$IT_OUT" \
	"remote destination \"$URL\": \"$seg.gz\" arrived in"
ok "the segment is in the rsync daemon's directory" test -f "$T/remote/$seg.gz"
is "four lines: one per destination and the result" "$(count_lines "$IT_OUT")" 4
sysid=$(pg_sql "$P" "SELECT system_identifier FROM pg_control_system()")
like "the system identifier checked is the server's" "$IT_OUT" "system identifier $sysid checked"

# With --log the same lines are log lines in the file, nothing on stdout.
it_run "$PC" "${conn[@]}" --timeout 20 -l "$T/check.log"
is "pitr-check -l: exit 0" "$IT_RC" 0
is "pitr-check -l: nothing on stdout" "$IT_OUT" ""
ok "pitr-check -l: the result is a LOG line of pitr-check" \
	grep -qE '^[0-9-]{10} [0-9:.]{15} [+-][0-9]{4} : [0-9]+ : pitr-check : LOG : archiving works' \
	"$T/check.log"

# --- archive_command is not trusted (a database superuser writes it) ------
# The server's call names a program as --rsync-path: pitr-archive (as
# postgres) runs it, pitr-check (as root here) must not.
mkdir_pg "$T/evil.d"
printf '#!/bin/sh\nid -u >>%s\nexec rsync "$@"\n' "$T/evil.d/ran" >"$T/evil"
chmod 755 "$T/evil"
pg_set "$P" "archive_command = '$PA $DESTS -rp $T/evil \"%p\"'"
pg_sql "$P" "SELECT pg_reload_conf()" >/dev/null
wait_for "the server reloads the archive_command with -rp" 20 \
	bash -c "[[ \$(PGCONNECT_TIMEOUT=10 $PGBIN/psql -XAtq -h 127.0.0.1 -p $PORT -U postgres -d postgres -c 'SHOW archive_command') == *evil* ]]"
it_run "$PC" "${conn[@]}" --timeout 20 -v
is "the call's -rp: pitr-check passes with its own rsync" "$IT_RC" 0
like "the call's -rp: said to be ignored (-v)" "$IT_ERR" \
	"archive_command's --rsync-path \"$T/evil\" is ignored"
ok "the call's -rp: run by the server's pitr-archive" grep -qx "$(id -u postgres)" "$T/evil.d/ran"
is "the call's -rp: never run as pitr-check's user" "$(grep -cx "$(id -u)" "$T/evil.d/ran")" 0
# A file only root may read, named as --config-file: no line of it shown.
echo 'root:$6$SECRETHASH$abc:19000:0:99999:7:::' >"$T/secret"
chmod 600 "$T/secret"
it_run "$PC" "${conn[@]}" --archive-command "$PA --config-file $T/secret -dl $T/plain %p"
is "a secret as --config-file: exit 1, one line" "$IT_RC:$(count_lines "$IT_ERR")" 1:1
like "a secret as --config-file: file and line named" "$IT_ERR" \
	"invalid line 1 in config file \"$T/secret\"\$"
unlike "a secret as --config-file: its text never shown" "$IT_ERR" 'SECRETHASH'
# Someone else's config file, or one others may write, is not read.
install -m 644 -o nobody /dev/null "$T/other.conf"
install -m 666 /dev/null "$T/open.conf"
for f in other open; do
	it_run "$PC" "${conn[@]}" --archive-command "$PA --cfg $T/$f.conf -dl $T/plain %p"
	like "$f.conf refused: one line" "$IT_RC:$(count_lines "$IT_ERR"):$IT_ERR" \
		"^1:1:.*config file \"$T/$f.conf\" named by archive_command is not read"
done

# --- archive_command that cannot be read, or runs no pitr-archive ---------
it_run "$PC" "${conn[@]}" --archive-command "$PA -dl $T/plain %p | tee /tmp/x"
is "a pipe in archive_command: exit 1" "$IT_RC" 1
is "a pipe in archive_command: one line" "$(count_lines "$IT_ERR")" 1
like "a pipe in archive_command: it says what it cannot read" "$IT_ERR" \
	"cannot check archive_command .*a pipe '\\|'.*--archive-command"
it_run "$PC" "${conn[@]}" --archive-command "cp %p $T/plain/%f"
is "no pitr-archive call: exit 1, one line" "$IT_RC:$(count_lines "$IT_ERR")" 1:1
like "no pitr-archive call: said" "$IT_ERR" 'runs no pitr-archive'

# --- only a pipe destination: not checked, the archiver's word taken ----
it_run "$PC" "${conn[@]}" --timeout 20 --archive-command "TMPDIR=$T exec $PA -dp 'cat' \"%p\""
is "pipe only: exit 0" "$IT_RC" 0
like "pipe only: the pipe is not checked" "$IT_OUT" 'pipe destination "cat": not checked'
like "pipe only: pg_stat_archiver says the segment was archived" "$IT_OUT" \
	'no destination can be read back; the server archived "[0-9A-F]{24}" in [0-9.]+ s'

# --- a destination that stays empty -----------------------------------
# Owned by root, mode 755: the postgres user cannot write there.  The
# system identifier record is there already, so pitr-archive fails at this
# destination alone and delivers to the others.
mkdir -m 755 "$T/locked"
install -m 644 "$T/plain/.pitrkit-system-identifier" "$T/locked/"
pg_set "$P" "archive_command = '$PA $DESTS -dl $T/locked \"%p\"'"
pg_sql "$P" "SELECT pg_reload_conf()" >/dev/null
wait_for "the server reloads the new archive_command" 20 \
	bash -c "[[ \$(PGCONNECT_TIMEOUT=10 $PGBIN/psql -XAtq -h 127.0.0.1 -p $PORT -U postgres -d postgres -c 'SHOW archive_command') == *locked* ]]"
it_run "$PC" "${conn[@]}" --timeout 3
is "a destination it cannot write: exit 1" "$IT_RC" 1
like "it names the destination that lacks the segment" "$IT_ERR" \
	"ERROR : \"[0-9A-F]{24}\" did not reach local destination \"$T/locked\" within 3 s"
unlike "no other destination is said to lack it" "$IT_ERR" "did not reach [a-z]* destination \"($T/plain|$T/gz|rsync)"
like "the archiver's failures are named" "$IT_ERR" "archiver failed [0-9]+ times meanwhile"
like "the destinations that have it are still listed" "$IT_OUT" "local destination \"$T/plain\""

# --- archive_library = 'pitrkit_archive': the module's settings --------
# The checking session has not loaded the module: what postgresql.conf
# sets shows as a placeholder, what it leaves out does not exist (the
# module's default).  Only where the module is built, and not in the
# sanitizer build, whose runtimes the server cannot start with (see
# archive-module.sh).
MOD=$PITR_BUILDDIR/pgmodule/pitrkit_archive.so
if [ -f "$MOD" ] && [ -z "${PITR_SAN_CFLAGS:-}" ]; then
	ok "the server stops for the module" pg_stop "$P"
	mkdir_pg "$T/mstate"
	pg_set "$P" "archive_command = ''" "archive_library = '$MOD'" \
		"pitrkit_archive.dst_local = '$T/plain, gzip=$T/gz'" \
		"pitrkit_archive.dst_remote = 'gzip=$URL'" "pitrkit_archive.state_dir = '$T/mstate'"
	# The module loads this build's libpitrkit.
	# shellcheck disable=SC2317  # called through ok
	start_with_module()
	(
		export LD_LIBRARY_PATH=$PITR_BUILDDIR/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
		pg_start "$1"
	)
	ok "the server starts with the module" start_with_module "$P"
	it_run "$PC" "${conn[@]}" --timeout 20
	is "module: pitr-check passes: exit 0, nothing on stderr" "$IT_RC:$IT_ERR" "0:"
	like "module: the last line names 3 destinations" "$IT_OUT" \
		'archiving works: "[0-9A-F]{24}" reached 3 destinations in [0-9.]+ s'
	seg=$(printf '%s\n' "$IT_OUT" | sed -n 's/^archiving works: "\([0-9A-F]*\)".*/\1/p')
	like "module: the plain directory's copy checked" "$IT_OUT" \
		"local destination \"$T/plain\": \"$seg\" arrived in [0-9.]+ s, read back whole"
	like "module: the gzip directory's .gz copy checked" "$IT_OUT" \
		"local destination \"$T/gz\": \"$seg.gz\" arrived in"
	like "module: the rsync daemon's .gz copy checked" "$IT_OUT" \
		"remote destination \"$URL\": \"$seg.gz\" arrived in"
	like "module: the module archived it (server log)" "$(cat "$(pg_logfile "$P")")" \
		"pitrkit_archive: archived \"$seg\""
	# Every setting the module defines (but its log's two) is one pitr-check reads.
	defined=$(pg_sql "$P" "LOAD '$MOD'" "SELECT name FROM pg_settings WHERE name LIKE
		'pitrkit_archive.%' AND name NOT IN ('pitrkit_archive.log', 'pitrkit_archive.verbose')
		ORDER BY 1")
	read_by_check=$(grep -o '^	\[PITR_CHECK_GUC_[A-Z0-9_]*\] = MODULE_NAME "\.[a-z0-9_]*"' \
		"$PITR_SRCDIR/lib/command/check/module.c" | sed 's/.*"\.\([a-z0-9_]*\)"/pitrkit_archive.\1/' |
		LC_ALL=C sort)
	is "module: pitr-check reads every setting the module defines" "$read_by_check" \
		"$(printf '%s\n' "$defined" | LC_ALL=C sort)"
	# A destination directory that does not exist: said at once.
	pg_set "$P" "pitrkit_archive.dst_local = '$T/plain, $T/missing'"
	pg_sql "$P" "SELECT pg_reload_conf()" >/dev/null
	# A new session has the new settings once the postmaster reloaded.
	# shellcheck disable=SC2317  # called through wait_for
	shows()
	{
		[[ $(pg_sql "$P" "SELECT current_setting('$1', true)") == *"$2"* ]]
	}
	wait_for "module: the server reloads the missing destination" 20 \
		shows pitrkit_archive.dst_local missing
	it_run "$PC" "${conn[@]}" --timeout 20
	is "module: a missing destination: exit 1, one line" "$IT_RC:$(count_lines "$IT_ERR")" 1:1
	like "module: the missing destination is named" "$IT_ERR" \
		"ERROR : local destination \"$T/missing\" is not a directory: the server can archive nothing there"
	# Another archive library is not read.
	pg_set "$P" "archive_library = 'basic_archive'"
	pg_sql "$P" "SELECT pg_reload_conf()" >/dev/null
	wait_for "the server reloads archive_library = 'basic_archive'" 20 \
		shows archive_library basic_archive
	it_run "$PC" "${conn[@]}"
	is "another archive_library: exit 1, one line" "$IT_RC:$(count_lines "$IT_ERR")" 1:1
	like "another archive_library: said" "$IT_ERR" \
		'archive_library is "basic_archive": the server does not run archive_command'
else
	diag "the module's case runs where the module is built, outside the sanitizer build"
fi

# --- archive_mode off ----------------------------------------------------
pg_set "$P" "archive_mode = off"
ok "the server stops" pg_stop "$P" immediate
ok "the server starts without archiving" pg_start "$P"
it_run "$PC" "${conn[@]}"
is "archive_mode off: exit 1" "$IT_RC" 1
is "archive_mode off: one line" "$(count_lines "$IT_ERR")" 1
like "archive_mode off: said" "$IT_ERR" 'archive_mode is off'

it_done
