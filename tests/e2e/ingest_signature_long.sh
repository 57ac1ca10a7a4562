#!/usr/bin/env bash
# ingest_signature_long.sh - signature PDUs that cover many hash PDUs (the
# signed element's lengths pass 128 bytes): OpenLI's encoder (libwandder)
# writes such lengths as 82 00 xx, not DER's 81 xx; every signature must
# still verify, and ingest stops cleanly (exit 0).  Regression for a
# receiver that rebuilt DER only.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=$top/build/bin
w=$(mktemp -d /tmp/lacre-e2e-sig-XXXXXX); P=
trap '[ -n "$P" ] && kill $P 2>/dev/null; rm -rf "$w"' EXIT
. "$top/tests/e2e/lib/check.bash"
[ -x "$B/lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
openssl ecparam -name prime256v1 -genkey -noout -out "$w/k.pem" 2>/dev/null &&
	openssl ec -in "$w/k.pem" -pubout -out "$w/pub.pem" 2>/dev/null || { echo "FAIL: openssl cannot make an EC key"; exit 1; }
"$B/lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$w/sp" --ready-file "$w/ready" \
	--stats "$w/stats.json" --integrity-pubkey "$w/pub.pem" --quiet 2>"$w/ierr" & P=$!
wait_file 60 "$w/ready" || { cat "$w/ierr"; exit 1; }
. "$w/ready"
"$B/lacre-mediator" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 --targets 2 --calls 4 \
	--integrity-hash sha256 --integrity-every 1 --sign-key "$w/k.pem" --sign-every 50 --seed 3 \
	>/dev/null 2>"$w/merr" || { cat "$w/merr"; exit 1; }
kill -TERM $P; wait $P; rc=$?; P=
[ $rc -eq 0 ] || { echo "FAIL: ingest exited $rc on SIGTERM"; cat "$w/ierr"; exit 1; }
python3 - "$w/stats.json" <<'PY'
import json, sys
i = json.load(open(sys.argv[1]))["integrity"]
print(i)
ok = i["signature_pdus"] > 0 and i["signature_verified"] == i["signature_pdus"] and i["signature_bad"] == 0
sys.exit(0 if ok else 1)
PY
