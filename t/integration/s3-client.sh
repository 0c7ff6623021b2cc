#!/bin/bash
# s3-client.sh - the S3 client (lib/s3, libpitrkit-s3) against a real
# Ceph RADOS gateway: t/s3/check_s3_rgw runs every operation and failure
# over HTTP and HTTPS, then the objects it left are checked with curl's
# own client (s3_keys, s3_req, s3_pending), which sees pitrkit's mark
# (x-amz-meta-pitrkit) on them, and check_s3_rgw sees none on an object
# curl stored; libpitrkit finds
# libpitrkit-s3 beside itself also when both are copied elsewhere and run
# as the postgres user with an empty environment, and without it says
# which file it could not load.
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

it_init s3-client
CHECK=$PITR_BUILDDIR/t/s3/check_s3_rgw
REAL=$PITR_BUILDDIR/t/s3/.libs/check_s3_rgw
LIBS=$PITR_BUILDDIR/lib/.libs
it_need_built "$CHECK" "$REAL" "$LIBS/libpitrkit-s3.so.0"

ceph_start || it_bail "no Ceph cluster"
ok "bucket of user pitr" s3_mb pitr
ok "bucket of user other" s3_mb -u other otherb
PREFIX=run-$$/

# rgw_env CMD...: CMD with the gateway, users and buckets in its environment.
rgw_env()
{
	env RGW_HTTP="$RGW_HTTP" RGW_HTTPS="$RGW_HTTPS" RGW_CA="$RGW_CA" RGW_KEY="$RGW_KEY" \
		RGW_SECRET="$RGW_SECRET" RGW_OTHER_KEY="$RGW_OTHER_KEY" \
		RGW_OTHER_SECRET="$RGW_OTHER_SECRET" S3_BUCKET=pitr S3_OTHER_BUCKET=otherb \
		S3_PREFIX="$PREFIX" "$@"
}

ok "an object stored by another client (curl) for test_mark" \
	s3_req PUT "/pitr/${PREFIX}foreign" --data-binary foreign
it_run rgw_env "$CHECK"
is "check_s3_rgw: every operation and failure against RGW passes" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT$IT_ERR" 30)"
like "check_s3_rgw ran its 25 tests" "$IT_OUT" "100%: Checks: 25, Failures: 0, Errors: 0"

is "curl lists what the client left" "$(s3_keys pitr "${PREFIX}")" \
	"$(printf '%s\n' "${PREFIX}keep/one" "${PREFIX}keep/three" "${PREFIX}keep/two")"
is "curl reads the single PUT" "$(s3_req GET "/pitr/${PREFIX}keep/one")" one
is "curl reads the multipart upload" "$(s3_req GET "/pitr/${PREFIX}keep/three")" three
is "no multipart upload is left pending" "$(s3_pending pitr)" ""
VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$PITR_BUILDDIR/config.h")
for k in one three; do
	is "curl sees pitrkit's mark on keep/$k" \
		"$(s3_req HEAD "/pitr/${PREFIX}keep/$k" | tr -d '\r' | grep -i '^x-amz-meta-pitrkit:')" \
		"x-amz-meta-pitrkit: $VERSION"
done

# A copy of both libraries elsewhere, used by the postgres user with an
# empty environment: the sibling is found without any search path.
mkdir -p "$T/copy" "$T/alone"
cp -a "$LIBS"/libpitrkit.so* "$LIBS"/libpitrkit-s3.so* "$T/copy/"
cp -a "$LIBS"/libpitrkit.so* "$T/alone/"
chmod -R a+rX "$T/copy" "$T/alone"
it_run as_pg env -i LD_LIBRARY_PATH="$T/copy" CK_RUN_CASE=loader RGW_HTTP="$RGW_HTTP" "$REAL"
is "a copied libpitrkit loads the libpitrkit-s3 beside it (as postgres, empty environment)" \
	"$IT_RC" 0
it_run as_pg env -i LD_LIBRARY_PATH="$T/alone" CK_RUN_CASE=loader RGW_HTTP="$RGW_HTTP" \
	S3_EXPECT_NO_LIBRARY=1 "$REAL"
is "without libpitrkit-s3 each call fails with one line naming the file" "$IT_RC" 0
[ "$IT_RC" -eq 0 ] || diag "$(it_tail "$IT_OUT$IT_ERR")"
it_done
