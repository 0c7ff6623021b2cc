#!/bin/bash
# install.sh - the installed libraries behave like libraries: `make install
# DESTDIR=...` puts the headers under include/pitrkit/FOLDER/ and a .pc
# file per library under lib/pkgconfig; a program that includes every
# installed header and calls into both libraries compiles, links and runs
# with nothing but `pkg-config --cflags --libs pitrkit-backup`, and its
# first S3 call finds the installed libpitrkit-s3 (loaded by dlopen from
# libpitrkit's directory); and each library exports its pitr_ functions
# only, libpitrkit-s3 its one table.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init install --no-root
# The build's compiler, and its sanitizer flags: a program linked against
# an ASan-built library must load the ASan runtime first.
CC=${PITR_CC:-cc}
read -r -a SAN_FLAGS <<<"${PITR_SAN_CFLAGS:-}"
DEST=$T/dest

# The libraries, headers and .pc files are installed from a build of their
# own, configured as this one was: installing relinks each library in place
# in its build tree, where the tests running alongside load it (one saw
# "file too short").  The sub-make is a make of its own, not a job of the
# make check that runs this test.
# (A source tree configured in place cannot host a second build: there,
# the build tree installs itself.)
B=$T/build
mkdir -p "$B"
CONF_ARGS=$(cd "$PITR_BUILDDIR" && ./config.status --config)
if [ -f "$PITR_SRCDIR/config.status" ]; then
	it_run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$PITR_BUILDDIR" install DESTDIR="$DEST"
else
	it_run env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL bash -c '
		cd "$1" && eval "\"\$2/configure\" $3" >/dev/null &&
			make -j2 lib/libpitrkit.la lib/libpitrkit-backup.la lib/libpitrkit-s3.la >/dev/null &&
			make install-libLTLIBRARIES install-data DESTDIR="$4"' \
		_ "$B" "$PITR_SRCDIR" "$CONF_ARGS" "$DEST"
fi
is "configure, build and install the libraries and headers (DESTDIR=...): exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_ERR")"

PCDIR=$(dirname "$(find "$DEST" -name pitrkit-backup.pc -path '*/pkgconfig/*' | head -n 1)")
ok "pitrkit.pc and pitrkit-backup.pc are installed in a pkgconfig dir" \
	test -f "$PCDIR/pitrkit.pc" -a -f "$PCDIR/pitrkit-backup.pc"
# The installed .pc files name the configured prefix; the sysroot puts
# their -I and -L under DESTDIR.
pc()
{
	PKG_CONFIG_PATH=$PCDIR PKG_CONFIG_SYSROOT_DIR=$DEST pkg-config "$@"
}
ok "pkg-config validates both files" pc --validate pitrkit pitrkit-backup
it_run pc --cflags pitrkit-backup
is "pkg-config --cflags pitrkit-backup: exit 0" "$IT_RC" 0
read -r -a CFLAGS <<<"$IT_OUT"
INCDIR=
for f in "${CFLAGS[@]}"; do
	[[ $f == -I*/pitrkit ]] && INCDIR=${f#-I}
done
ok "the include dir is .../include/pitrkit, under DESTDIR ($INCDIR)" \
	test -n "$INCDIR" -a -f "$INCDIR/postgres/wal.h" -a -f "$INCDIR/digest/digest.h"
it_run pc --libs pitrkit-backup
is "pkg-config --libs pitrkit-backup: exit 0" "$IT_RC" 0
read -r -a LIBS <<<"$IT_OUT"
like "--libs names both libraries, the backup one first" "${LIBS[*]}" '-lpitrkit-backup .*-lpitrkit( |$)'
LIBDIR=
for f in "${LIBS[@]}"; do
	[[ $f == -L* ]] && LIBDIR=${f#-L}
done
ok "the library dir holds the three shared libraries ($LIBDIR)" \
	test -n "$LIBDIR" -a -f "$LIBDIR/libpitrkit.so" -a -f "$LIBDIR/libpitrkit-backup.so" \
	-a -f "$LIBDIR/libpitrkit-s3.so.0"
is "no internal header (*_impl.h) is installed" "$(find "$INCDIR" -name '*_impl.h')" ""
# Installed at their paths in lib/, so that the way headers include each
# other ("FOLDER/x.h") holds in the tree and once installed alike.
misplaced=$(cd "$INCDIR" && find . -name '*.h' | sed 's|^\./||' |
	while read -r h; do [ -f "$PITR_SRCDIR/lib/$h" ] || echo "$h"; done)
is "every installed header sits at its path in lib/" "$misplaced" ""

# A program that includes every installed header, as "FOLDER/x.h", and
# calls into both libraries.
{
	(cd "$INCDIR" && find . -name '*.h' | sed 's|^\./||' | sort) |
		while read -r h; do printf '#include "%s"\n' "$h"; done
	cat <<'EOF'
#include <stdio.h>
#include <string.h>

int main(void)
{
	struct pitr_wal_name name;
	char hex[PITR_DIGEST_HEX_MAX];
	struct pitr_digest *d;
	struct pitr_s3_config s3cfg = { .endpoint = "http://127.0.0.1:9", .path_style = true };
	struct pitr_s3_creds creds = { (char *)"key", (char *)"secret", NULL };
	struct pitr_s3 *s3 = pitr_s3_new(&s3cfg, &creds, "bucket");

	if (s3 == NULL)
		return 1;
	pitr_s3_free(s3);
	if (pitr_wal_parse("00000002000000A1000000FE", &name) != PITR_WAL_SEGMENT)
		return 1;
	d = pitr_digest_new("SHA-256");
	if (d == NULL || pitr_digest_update(d, "abc", 3) != 0 || pitr_digest_final(d, hex) != 0)
		return 1;
	pitr_digest_free(d);
	printf("%u %X %X %s %s\n", name.tli, name.log, name.seg, pitr_codec_name(PITR_CODEC_ZSTD), hex);
	return 0;
}
EOF
} >"$T/prog.c"
ok "the program includes installed headers" grep -q '^#include "command/' "$T/prog.c"
it_run "$CC" -std=c11 -Wall -Wextra -Werror "${SAN_FLAGS[@]}" "${CFLAGS[@]}" -o "$T/prog" "$T/prog.c" "${LIBS[@]}"
is "it compiles and links with pkg-config's flags alone: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_ERR")"
it_run env LD_LIBRARY_PATH="$LIBDIR" "$T/prog"
is "it runs against the installed libraries, libpitrkit-s3 loaded: exit 0" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_ERR")"
is "it prints what both libraries computed" "$IT_OUT" \
	"2 A1 FE zstd ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
like "it loaded the installed libpitrkit-backup" \
	"$(LD_LIBRARY_PATH=$LIBDIR ldd "$T/prog" 2>&1)" "$LIBDIR/libpitrkit-backup\.so"

# Exported: pitr_ functions only.
for lib in libpitrkit libpitrkit-backup; do
	syms=$(nm -D --defined-only "$LIBDIR/$lib.so" 2>&1)
	like "$lib exports pitr_ functions" "$syms" ' T pitr_'
	is "$lib exports no other symbol" "$(grep -v ' pitr_' <<<"$syms")" ""
done
# The one symbol the loader asks for (s3_impl.h's PITR_S3_IMPL_SYMBOL).
S3SYM=$(sed -n 's/^#define PITR_S3_IMPL_SYMBOL "\(.*\)"$/\1/p' "$PITR_SRCDIR/lib/s3/s3_impl.h")
is "libpitrkit-s3 exports its table only ($S3SYM)" \
	"$(nm -D --defined-only "$LIBDIR/libpitrkit-s3.so.0" 2>&1 | awk '{ print $3 }')" "${S3SYM:-none}"

it_done
