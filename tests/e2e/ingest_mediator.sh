#!/usr/bin/env bash
# ingest_mediator.sh - lacre-mediator -> lacre ingest over 100 loopback
# connections at several thousand PDUs/s with injected gaps, duplicates
# (reconnect + resend), cINResets, garbage, integrity hash and signature
# PDUs; then the same over TLS with a client-certificate allow-list; then
# PDUs split across many small writes (TLS records).
# Checks: per (LIID, CIN, IRI|CC) the data PDUs received minus duplicates
# equal the mediator's "sent" exactly; gaps, duplicates and resets equal
# the injected counts (none reported that was not injected, every injected
# one reported); every keep-alive answered; every hash and signature
# verified; every PDU the mediator wrote is a spool record.
#   LACRE_ACCEPTANCE=1  60 s run (the acceptance figure); default 10 s.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
lacre="$top/build/bin/lacre"
med="$top/build/bin/lacre-mediator"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
command -v openssl >/dev/null || { echo "openssl not found"; exit 77; }
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre not built (a test run needs the build)"; exit 1; }
[ -x "$med" ] || { echo "FAIL: build/bin/lacre-mediator not built (a test run needs the build)"; exit 1; }
secs=10
[ "${LACRE_ACCEPTANCE:-0}" = 1 ] && secs=60
tmp=$(mktemp -d /tmp/lacre-e2e-med-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
. "$top/tests/e2e/lib/check.bash"

openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/sign.key" 2>/dev/null &&
openssl ec -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || { echo "openssl failed"; exit 1; }

# run NAME INGEST_ARGS -- MEDIATOR_ARGS
run() {
	local name=$1; shift
	local iargs=() margs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do iargs+=("$1"); shift; done
	shift
	margs=("$@")
	rm -f "$tmp/ready"
	"$lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$tmp/spool-$name" \
		--ready-file "$tmp/ready" --stats "$tmp/stats-$name.json" --duration $((secs + 120)) \
		--integrity-pubkey "$tmp/sign.pub" --quiet "${iargs[@]}" 2>"$tmp/ingest-$name.err" &
	pid=$!
	wait_file 60 "$tmp/ready" || { echo "$name: ingest did not start"; cat "$tmp/ingest-$name.err"; exit 1; }
	. "$tmp/ready"
	timeout $((secs + 60)) "$med" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 "${margs[@]}" \
		--summary "$tmp/summary-$name.json" 2>"$tmp/med-$name.err"
	local mrc=$?
	kill -TERM "$pid"; wait "$pid"; local irc=$?; pid=
	[ $mrc -eq 0 ] || { echo "$name: mediator exited $mrc"; tail -5 "$tmp/med-$name.err"; exit 1; }
	[ $irc -eq 0 ] || { echo "$name: ingest exited $irc"; tail -5 "$tmp/ingest-$name.err"; exit 1; }
	python3 - "$name" "$tmp/summary-$name.json" "$tmp/stats-$name.json" <<'PY' || exit 1
import json, sys
name, s, t = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
fail = []
streams = t["streams"]
for k, n in s["sent"].items():
    st = streams.get(k)
    if not st:
        fail.append("%s: stream never seen" % k)
    elif st["received"] - st["duplicates"] != n:
        fail.append("%s: received %d - duplicates %d != sent %d" % (k, st["received"], st["duplicates"], n))
extra = set(streams) - set(s["sent"])
if extra:
    fail.append("streams not sent: %s" % sorted(extra)[:5])
tot = lambda f: sum(v[f] for v in streams.values())
inj = s["injected"]
if tot("gaps") != inj["gaps"] or tot("missing") != inj["gaps"]:
    fail.append("gaps %d (missing %d) != injected %d" % (tot("gaps"), tot("missing"), inj["gaps"]))
if tot("duplicates") != inj["duplicates"]:
    fail.append("duplicates %d != injected %d" % (tot("duplicates"), inj["duplicates"]))
irestarts = sum(v["restarts"] for v in t["integrity_streams"].values())
igaps = sum(v["gaps"] for v in t["integrity_streams"].values())
if irestarts or igaps:
    fail.append("integrity chains: %d restarts, %d gaps" % (irestarts, igaps))
if t["cin_resets"] != inj["resets"] or tot("restarts") != 0:
    fail.append("resets %d != injected %d (restarts %d)" % (t["cin_resets"], inj["resets"], tot("restarts")))
if not (t["keepalives"] == t["keepalive_responses"] == s["keepalives_sent"] == s["keepalive_responses_ok"]) \
        or s.get("keepalive_failures", 0) or s["keepalives_sent"] == 0:
    fail.append("keep-alives: received %d answered %d sent %d ok %d failures %d" % (
        t["keepalives"], t["keepalive_responses"], s["keepalives_sent"], s["keepalive_responses_ok"],
        s.get("keepalive_failures", 0)))
i = t["integrity"]
if i["hash_pdus"] == 0 or i["hash_verified"] != i["hash_pdus"] or i["signature_verified"] != i["signature_pdus"] \
        or i["signature_pdus"] == 0:
    fail.append("integrity: %r" % i)
if i["hash_pdus"] + i["signature_pdus"] != s["integrity_pdus_sent"]:
    fail.append("integrity PDUs %d != sent %d" % (i["hash_pdus"] + i["signature_pdus"], s["integrity_pdus_sent"]))
if t["records"] != s["pdus_sent"] - s["keepalives_sent"]:
    fail.append("records %d != PDUs written %d - keep-alives %d" % (t["records"], s["pdus_sent"], s["keepalives_sent"]))
rate = s["pdus_sent"] / s["elapsed_s"]
print("%s: %d streams, %d PDUs (%d data) in %.1f s = %.0f PDUs/s, %.1f MB/s, %d connections; "
      "gaps %d, duplicates %d, resets %d, keep-alives %d/%d, hashes %d/%d, signatures %d/%d" % (
      name, len(s["sent"]), s["pdus_sent"], s["data_pdus_sent"], s["elapsed_s"], rate,
      s["bytes_sent"] / s["elapsed_s"] / 1e6, t["connections"], tot("gaps"), tot("duplicates"),
      t["cin_resets"], t["keepalive_responses"], t["keepalives"], i["hash_verified"], i["hash_pdus"],
      i["signature_verified"], i["signature_pdus"]))
if fail:
    sys.exit("%s: %s" % (name, "\n".join(fail[:20])))
PY
}

run plain -- --connections 100 --targets 400 --duration $secs --rate 5000 --keepalive 1 \
	--inject-gaps $((secs * 4)) --inject-resets $((secs)) --integrity-hash sha256 --integrity-every 50 \
	--sign-key "$tmp/sign.key" --sign-every 5 --disconnect-every 5000 --resend-after-reconnect 3 \
	--garbage --reconnect-wait 0.5

# TLS with a required client certificate, allowed by fingerprint
for n in srv cli; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=$n" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$tmp/$n.key" -out "$tmp/$n.crt" 2>/dev/null || { echo "openssl req failed"; exit 1; }
done
fp=$(openssl x509 -in "$tmp/cli.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
tsecs=$((secs / 2))
run tls --tls --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" --tls-require-client-cert \
	--tls-client-fp "$fp" -- \
	--tls --tls-ca "$tmp/srv.crt" --tls-cert "$tmp/cli.crt" --tls-key "$tmp/cli.key" \
	--connections 20 --targets 100 --duration $tsecs --rate 3000 --keepalive 1 \
	--inject-gaps $tsecs --inject-resets 2 --integrity-hash sha512 --integrity-every 20 \
	--sign-key "$tmp/sign.key" --sign-every 3

# indefinite lengths everywhere, signatures over the hash PDUs' contents
# (the older mediator-side scheme): the contents of an indefinite-length
# element are the bytes between its length octet and end-of-contents
run indefinite -- --connections 4 --targets 10 --duration 3 --rate 500 --keepalive 1 \
	--lengths indefinite --integrity-hash sha256 --integrity-every 10 \
	--sign-key "$tmp/sign.key" --sign-every 3 --sign-style contents

# PDUs cut into 1..48-byte writes (the mediator paces these itself: a
# lower rate), over TLS so every piece is its own TLS record
run split --tls --tls-cert "$tmp/srv.crt" --tls-key "$tmp/srv.key" -- \
	--tls --tls-ca "$tmp/srv.crt" --connections 10 --targets 40 --duration 5 --rate 800 \
	--keepalive 1 --inject-gaps 3 --inject-resets 1 --integrity-hash sha256 --integrity-every 20 \
	--sign-key "$tmp/sign.key" --sign-every 3 --split-writes
echo "ok"
