#!/bin/bash
# procedure-guide.sh - examples/procedures/guide-warm-standbys.sh, the
# OmniPITR guide's A.1 to A.3, step by step against real PostgreSQL 15
# servers and real rsync daemons on 127.0.0.1 (each "host" a directory of
# the scratch dir).  After each step, what the guide promises:
# A.1: the master archives into both slaves' wal_archive modules, its backup
# is taken with the guide's line, both slaves run as warm standbys
# (recovery.signal, the guide's restore_command, slave 2 with -w);
# A.2: a TRUNCATE on the master reaches slave 1 but not slave 2, finished
# NOW inside its window (the rows kept); the master dies after a committed
# row that slave 1, finished smart, has; A.3: the new master archives its
# new timeline (history file first) to slave 2 and the new data center's
# slave 3, both rebuilt from its backup, replaying on timeline 2; slave 3
# failed over to ends on timeline 3 with the whole ancestry in its history.
# Every step runs the guide's programs by their OmniPITR names
# (PITR_NAMES=omnipitr): the omnipitr-* links `make install-compat` puts
# beside the pitr-* programs, which then log as omnipitr-*.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
# shellcheck disable=SC2317
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init procedure-guide
it_require rsync
it_reap pitr-restore
SCRIPT=$PITR_SRCDIR/examples/procedures/guide-warm-standbys.sh
it_need_built "$PITR_BUILDDIR/bin/pitr-archive" "$PITR_BUILDDIR/bin/pitr-backup-master" \
	"$PITR_BUILDDIR/bin/pitr-recover" "$PITR_BUILDDIR/bin/pitr-restore"
[ -x "$SCRIPT" ] || it_bail "no $SCRIPT"

# Each host a directory owned by postgres; its data dir, the guide's
# /var/log/pe2/omnipitr, /var/tmp/omnipitr, /var/tmp (backups) and /var/db.
for h in master slave1 slave2 slave3; do
	mkdir_pg "$T/$h" "$T/$h/vartmp" "$T/$h/db"
done
M=$T/master/data
S1=$T/slave1/data
S2=$T/slave2/data
S3=$T/slave3/data
# The OmniPITR names: `make install-compat` into a scratch bindir, whose
# pitr-* are stand-ins for installed programs: each runs the build's
# program with argv[0] kept (the build's libtool wrapper would replace it).
OB=$T/compat/bin
mkdir -p "$OB"
for name in archive restore cleanup backup-master backup-slave backup-cleanup monitor synch \
	checksum recover; do
	real=$PITR_BUILDDIR/bin/pitr-$name
	libs=
	if [ -f "$PITR_BUILDDIR/bin/.libs/pitr-$name" ]; then
		real=$PITR_BUILDDIR/bin/.libs/pitr-$name
		libs=$PITR_BUILDDIR/lib/.libs
	fi
	# shellcheck disable=SC2016  # the stand-in's own expansions
	printf '#!/bin/bash\nexport LD_LIBRARY_PATH=%q${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\nexec -a "$0" %q "$@"\n' \
		"$libs" "$real" >"$OB/pitr-$name"
	chmod 755 "$OB/pitr-$name"
done
chmod 755 "$T/compat"
it_run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PITR_BUILDDIR" install-compat \
	DESTDIR="$T/compat" bindir=/bin
is "make install-compat DESTDIR=...: exit 0" "$IT_RC" 0
links=
for name in archive restore cleanup backup-master backup-slave backup-cleanup monitor synch checksum; do
	links="$links $(readlink "$OB/omnipitr-$name")"
done
is "make install-compat: the nine omnipitr-* names link to their pitr-* programs" "$links" \
	" pitr-archive pitr-restore pitr-cleanup pitr-backup-master pitr-backup-slave pitr-backup-cleanup pitr-monitor pitr-synch pitr-checksum"
# An OmniPITR program already at a name is neither replaced nor deleted:
# install-compat refuses it, uninstall-compat removes pitrkit's links only.
compat_make() {
	it_run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$PITR_BUILDDIR" "$1" \
		DESTDIR="$T/compat" bindir=/bin
}
rm "$OB/omnipitr-cleanup"
printf '#!/usr/bin/perl\n# OmniPITR\n' >"$OB/omnipitr-cleanup"
compat_make install-compat
is "make install-compat over OmniPITR's own omnipitr-cleanup: refused (exit 2)" "$IT_RC" 2
like "the refusal names the file" "$IT_ERR" "omnipitr-cleanup exists and is not pitrkit's link"
compat_make uninstall-compat
is "make uninstall-compat: exit 0" "$IT_RC" 0
is "uninstall-compat keeps OmniPITR's omnipitr-cleanup and removes pitrkit's links" \
	"$(cd "$OB" && echo omnipitr-* && cat omnipitr-cleanup)" "omnipitr-cleanup
#!/usr/bin/perl
# OmniPITR"
rm "$OB/omnipitr-cleanup"
compat_make install-compat
is "make install-compat again: exit 0" "$IT_RC" 0
compat_make install-compat
is "make install-compat over its own links (idempotent): exit 0" "$IT_RC" 0
is "the omnipitr-cleanup link is back" "$(readlink "$OB/omnipitr-cleanup")" pitr-cleanup

ok "initdb the master (1 MiB segments)" pg_new "$M" --wal-segsize=1
ok "the master starts" pg_start "$M"

export PGBIN PITR_BIN=$OB PITR_NAMES=omnipitr RUN_AS=postgres DB_USER=postgres \
	PG_SOCKET_DIR=$T/sock SLAVE2_WINDOW=15 FINISH_WAIT=60
export MASTER_HOST=127.0.0.1 MASTER_DATA=$M MASTER_PORT MASTER_SERVER_LOG \
	MASTER_OMNIPITR=$T/master/omnipitr MASTER_TMP=$T/master/tmp MASTER_BACKUPS=$T/master/vartmp \
	MASTER_BACKUP_SOURCE=$T/master/vartmp/ SLAVE1_BACKUP_SOURCE=$T/slave1/vartmp/
MASTER_PORT=$(pg_port "$M")
MASTER_SERVER_LOG=$(pg_logfile "$M")
for n in 1 2 3; do
	h=slave$n
	port=$(pg_adopt "$T/$h/data") || it_bail "no free port"
	export "SLAVE${n}_HOST=127.0.0.1" "SLAVE${n}_DATA=$T/$h/data" "SLAVE${n}_PORT=$port" \
		"SLAVE${n}_SERVER_LOG=$(pg_logfile "$T/$h/data")" "SLAVE${n}_OMNIPITR=$T/$h/omnipitr" \
		"SLAVE${n}_TMP=$T/$h/tmp" "SLAVE${n}_DB=$T/$h/db" "SLAVE${n}_BACKUPS=$T/$h/vartmp"
done

# step NAME: run the script's step NAME (as root, as the operator would);
# its output is kept in $T/steps.log.
step()
{
	it_run "$SCRIPT" "$1"
	{ echo "### $1 (exit $IT_RC)"; echo "$IT_OUT"; echo "$IT_ERR"; } >>"$T/steps.log"
	if [ "$IT_RC" -eq 0 ]; then
		it_pass "step $1"
	else
		it_fail "step $1" "exit status $IT_RC" "$(it_tail "$IT_OUT" 5)" "$(it_tail "$IT_ERR" 15)"
	fi
}
count() { pg_sql "$1" "SELECT count(*) FROM $2" 2>/dev/null; }
has_rows() { [ "$(count "$1" "$2")" = "$3" ]; }
in_archive() { compgen -G "$1/$2*" >/dev/null; }
tli() { pg_control "$1" "Latest checkpoint's TimeLineID"; }
auto() { cat "$1/postgresql.auto.conf"; }
owner() { stat -c %U "$1"; }

ok "the guide's users (100 rows) and an events table on the master" pg_sql "$M" \
	"CREATE TABLE users (id int)" "INSERT INTO users SELECT generate_series(1, 100)" \
	"CREATE TABLE events (id int)"

# --- A.1 ---------------------------------------------------------------------
it_run "$SCRIPT" --list
is "--list: one line per step" "$(count_lines "$IT_OUT")" 19
like "--list: the steps in order" "$(printf '%s\n' "$IT_OUT" | awk '{print $1}' | tr '\n' ' ')" \
	"^a1-master-dirs a1-slave-dirs a1-master-archive a1-master-backup .* a3-slave3-finish-smart $"

step a1-master-dirs
is "A.1.2: the master's state dir, owned by the database user" "$(owner "$T/master/omnipitr/state")" postgres
step a1-slave-dirs
is "A.1.2: slave 1's wal_archive, owned by the database user" "$(owner "$T/slave1/omnipitr/wal_archive")" postgres
ok "A.1.2: slave 2's wal_archive" test -d "$T/slave2/omnipitr/wal_archive"
# A.1.3: the rsync daemons with their wal_archive module.
ok "A.1.3: slave 1's rsync daemon" rsyncd_start slave1 "$T/slave1/omnipitr/wal_archive" wal_archive
ok "A.1.3: slave 2's rsync daemon" rsyncd_start slave2 "$T/slave2/omnipitr/wal_archive" wal_archive
export SLAVE1_RSYNC SLAVE2_RSYNC
SLAVE1_RSYNC=$(rsyncd_url slave1)
SLAVE2_RSYNC=$(rsyncd_url slave2)

step a1-master-archive
like "A.1.4: the guide's archive_command" "$(pg_sql "$M" "SHOW archive_command")" \
	"^$OB/omnipitr-archive -l $T/master/omnipitr/\\^a.log -s $T/master/omnipitr/state -db $T/master/omnipitr/backup -dr gzip=rsync://127.0.0.1:[0-9]+/wal_archive/ -dr gzip=rsync://127.0.0.1:[0-9]+/wal_archive/ -t $T/master/tmp/ -v \"%p\"$"
is "A.1.4: archive_mode on (after the restart)" "$(pg_sql "$M" "SHOW archive_mode")" on
is "A.1.4: archive_timeout" "$(pg_sql "$M" "SHOW archive_timeout")" 1min
seg=$(pg_switch "$M")
wait_for "A.1.4: a segment reaches slave 1's wal_archive, gzip'ed" 60 \
	test -f "$T/slave1/omnipitr/wal_archive/$seg.gz"
wait_for "A.1.4: and slave 2's" 60 test -f "$T/slave2/omnipitr/wal_archive/$seg.gz"

step a1-master-backup
ok "A.1.5: the backup's meta file in the master's /var/tmp" \
	eval "ls '$T/master/vartmp' | grep -q -- '-meta-'"
ok "A.1.5: its data tarball, gzip'ed" eval "ls '$T/master/vartmp' | grep -q -- '-data-.*\.tar\.gz$'"
ok "A.1.5: the -x directory is gone after the backup" test ! -e "$T/master/omnipitr/backup"
logs=$(cat "$T"/master/omnipitr/*.log)
like "omnipitr-archive logs as omnipitr-archive" "$logs" ' : [0-9]+ : omnipitr-archive : LOG : '
like "omnipitr-backup-master logs as omnipitr-backup-master" "$logs" ' : [0-9]+ : omnipitr-backup-master : LOG : '
unlike "and no line names a pitr-* program" "$logs" ' : [0-9]+ : pitr-'

ok "events 1..10 on the master after the backup" pg_sql "$M" "INSERT INTO events SELECT generate_series(1, 10)"
seg=$(pg_switch "$M")
ok "their segment is archived" pg_wait_archived "$M" "$seg" 60

step a1-slave1-bootstrap
ok "A.1.5: the backup copied to slave 1's /var/db" eval "ls '$T/slave1/db' | grep -q -- '-meta-'"
ok "A.1.6: recovery.signal (warm standby)" test -f "$S1/recovery.signal"
ok "A.1.6: no recovery.conf (PostgreSQL 15 refuses one)" test ! -e "$S1/recovery.conf"
# (^ quoted for the shell: old shells read it as a pipe.)
like "A.1.6: the guide's restore_command" "$(auto "$S1")" \
	"restore_command = '$OB/omnipitr-restore -l ''$T/slave1/omnipitr/\\^a.log'' -f $T/slave1/omnipitr/finish.recovery -p $T/slave1/omnipitr/pause.removal -t $T/slave1/tmp/ -ep hang -pp $PGBIN/pg_controldata -r -v -pf 4 -s gzip=$T/slave1/omnipitr/wal_archive %f \"%p\"'"
is "A.1.6: the data dir belongs to the database user" "$(owner "$S1")" postgres
step a1-slave1-start
wait_for "A.1.6: slave 1 runs in recovery" 60 pg_in_recovery "$S1"
wait_for "A.1.6: slave 1 replayed the events from its archive" 60 has_rows "$S1" events 10
like "omnipitr-restore logs as omnipitr-restore" "$(cat "$T"/slave1/omnipitr/*.log)" \
	' : [0-9]+ : omnipitr-restore : LOG : '

is "A.1.6: slave 1 runs with its own port" "$(pg_sql "$S1" "SHOW port")" "$SLAVE1_PORT"
is "A.1.6: recovery_prefetch off" "$(pg_sql "$S1" "SHOW recovery_prefetch")" off

step a1-slave2-bootstrap
like "A.1.6: slave 2's restore_command has the window" "$(auto "$S2")" \
	"restore_command = '$OB/omnipitr-restore .* -r -v -w 15 -pf 4 -s gzip=$T/slave2/omnipitr/wal_archive %f"
step a1-slave2-start
wait_for "A.1.6: slave 2 consistent (after its window) and in recovery" 60 pg_in_recovery "$S2"
is "slave 2 has the users" "$(count "$S2" users)" 100

# --- A.2: the window against a TRUNCATE ---------------------------------------
ok "the mistake on the master: TRUNCATE users" pg_sql "$M" "TRUNCATE users"
seg=$(pg_switch "$M")
wait_for "the TRUNCATE's segment is in slave 2's archive" 30 in_archive "$T/slave2/omnipitr/wal_archive" "$seg"
# Now, inside the 15 s window.
step a2-slave2-finish-now
ok "A.2 NOW: slave 2 is promoted" pg_promoted "$S2"
is "A.2 NOW: slave 2 kept the users (the TRUNCATE stayed in its window)" "$(count "$S2" users)" 100
like "A.2 NOW: pitr-restore finished immediately" "$(cat "$T"/slave2/omnipitr/*.log)" \
	'says NOW: immediate finish of recovery'
ok "A.2 NOW: the finish trigger removed" test ! -e "$T/slave2/omnipitr/finish.recovery"
is "A.2 NOW: slave 2 on timeline 2" "$(tli "$S2")" 2
wait_for "slave 1, without a window, replayed the TRUNCATE" 60 has_rows "$S1" users 0

# --- A.2: the master dies after a committed row ----------------------------------
ok "the last committed row on the master" pg_sql "$M" "INSERT INTO events VALUES (999)"
# archive_timeout (60 s) would ship it; the test does not wait a minute.
seg=$(pg_switch "$M")
ok "its segment is archived (to both slaves)" pg_wait_archived "$M" "$seg" 60
ok "the master dies (immediate stop)" pg_stop "$M" immediate
step a2-master-down
like "A.2: the master is found down" "$IT_OUT" "the master is not running"
step a2-slave1-finish-smart
ok "A.2 smart: slave 1 is promoted" pg_promoted "$S1"
is "A.2 smart: slave 1 has the last committed row" "$(pg_sql "$S1" "SELECT count(*) FROM events WHERE id = 999")" 1
like "A.2 smart: pitr-restore finished smart" "$(cat "$T"/slave1/omnipitr/*.log)" \
	'found: smart finish of recovery'
ok "A.2 smart: the finish trigger removed" test ! -e "$T/slave1/omnipitr/finish.recovery"
is "A.2 smart: slave 1 on timeline 2" "$(tli "$S1")" 2
is "A.2: the new master does not archive yet (empty archive_command)" \
	"$(pg_sql "$S1" "SHOW archive_command")" ""
ok "A.2: the timeline history file waits in its pg_wal" test -f "$S1/pg_wal/archive_status/00000002.history.ready"
ok "the new master takes writes" pg_sql "$S1" "INSERT INTO events VALUES (1000)"

# --- A.3 ---------------------------------------------------------------------------
step a3-slave-dirs
ok "A.3.3: slave 3's wal_archive" test -d "$T/slave3/omnipitr/wal_archive"
ok "A.3.3: slave 3's rsync daemon" rsyncd_start slave3 "$T/slave3/omnipitr/wal_archive" wal_archive
export SLAVE3_RSYNC
SLAVE3_RSYNC=$(rsyncd_url slave3)
step a3-new-master-archive
like "A.3.4: the new master's archive_command names slave 2 and slave 3" \
	"$(pg_sql "$S1" "SHOW archive_command")" \
	"-s $T/slave1/omnipitr/state -db $T/slave1/omnipitr/backup -dr gzip=$SLAVE2_RSYNC -dr gzip=$SLAVE3_RSYNC "
wait_for "A.3.4: the timeline history file reaches slave 3's archive" 60 \
	test -f "$T/slave3/omnipitr/wal_archive/00000002.history.gz"
wait_for "A.3.4: and slave 2's" 60 test -f "$T/slave2/omnipitr/wal_archive/00000002.history.gz"
seg=$(pg_switch "$S1")
like "the new master writes timeline 2's segments" "$seg" "^00000002"
wait_for "A.3.4: they reach slave 3's archive" 60 test -f "$T/slave3/omnipitr/wal_archive/$seg.gz"

step a3-new-master-backup
ok "A.3.5: the new master's backup in its /var/tmp" eval "ls '$T/slave1/vartmp' | grep -q -- '-meta-'"
ok "events 1001..1010 on the new master after its backup" pg_sql "$S1" \
	"INSERT INTO events SELECT generate_series(1001, 1010)"
seg=$(pg_switch "$S1")
ok "their segment is archived" pg_wait_archived "$S1" "$seg" 60

step a3-slave2-bootstrap
ok "A.3.6: slave 2's promoted data dir kept aside (the guide's .dist)" \
	eval "ls -d '$S2'.dist-* >/dev/null"
ok "A.3.6: slave 2 is a warm standby again" test -f "$S2/recovery.signal"
step a3-slave2-start
step a3-slave3-bootstrap
ok "A.3.6: slave 3 is a warm standby" test -f "$S3/recovery.signal"
step a3-slave3-start
wait_for "A.3.6: slave 3 runs in recovery" 60 pg_in_recovery "$S3"
wait_for "A.3.6: slave 3 replayed the new master's events" 60 has_rows "$S3" events 22
is "A.3.6: slave 3 replays timeline 2 (pg_control)" "$(tli "$S3")" 2
is "A.3.6: slave 3 has no TRUNCATEd users (the new master's history)" "$(count "$S3" users)" 0
wait_for "A.3.6: slave 2 (-w 15) runs in recovery" 60 pg_in_recovery "$S2"
wait_for "A.3.6: slave 2 replayed the new master's events" 60 has_rows "$S2" events 22

step a3-slave3-finish-smart
ok "A.3.7: slave 3 is promoted" pg_promoted "$S3"
is "A.3.7: slave 3 on timeline 3" "$(tli "$S3")" 3
hist=$(cat "$S3/pg_wal/00000003.history" 2>/dev/null)
like "A.3.7: timeline 3's history names the switch from 1 to 2 (the ancestry read from the archive)" \
	"$hist" $'^1\t[0-9A-F]+/[0-9A-F]+\t'
like "A.3.7: and the switch from 2 to 3" "$hist" $'\n2\t[0-9A-F]+/[0-9A-F]+\t'
is "A.3.7: slave 3 has every event" "$(count "$S3" events)" 22

it_done
