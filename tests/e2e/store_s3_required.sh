#!/usr/bin/env bash
# store_s3_required.sh - the S3 tests must never pass by skipping when CI
# asked for them: with LACRE_TEST_S3 set and no usable server (no endpoint,
# or a closed port) test_store_s3 must fail; with neither variable set it
# must skip (exit 0, no test run, one skip counted).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
bin="$top/build/tests/test_store_s3"
[ -x "$bin" ] || { echo "missing $bin (run make)"; exit 1; }
clean_env=(env -u S3_ENDPOINT -u AWS_ENDPOINT_URL -u LACRE_TEST_S3)

# a port nothing listens on
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

out=$("${clean_env[@]}" LACRE_TEST_S3=1 S3_ENDPOINT="http://127.0.0.1:$port" \
	S3_ACCESS_KEY=AK S3_SECRET_KEY=SK timeout 120 "$bin" 2>&1); rc=$?
echo "$out" | tail -3
if [ $rc -ne 1 ]; then echo "FAIL: exit $rc with LACRE_TEST_S3 set and the server down (wanted 1: tests failed)"; exit 1; fi
echo "$out" | grep -q '^FAIL test_s3_server_usable' || { echo "FAIL: no failure reported for the down server"; exit 1; }

out=$("${clean_env[@]}" LACRE_TEST_S3=1 timeout 120 "$bin" 2>&1); rc=$?
if [ $rc -ne 1 ]; then echo "FAIL: exit $rc with LACRE_TEST_S3 set and no endpoint (wanted 1: tests failed)"; exit 1; fi

out=$("${clean_env[@]}" timeout 60 "$bin" 2>&1); rc=$?
if [ $rc -ne 0 ] || ! echo "$out" | grep -q '^skip test_store_s3: S3_ENDPOINT not set' ||
	[ "$(echo "$out" | tail -1)" != "test_store_s3: 0 passed, 0 failed, 1 skipped" ]; then
	echo "FAIL: did not skip (and count the skip) without S3_ENDPOINT (exit $rc)"; echo "$out"; exit 1
fi
echo "ok: fails when required and down, skips when not asked"
