#!/usr/bin/env bash
# ingest_openli.sh - the real OpenLI 1.1.20 streams (../shared/vectors/openli-a)
# sent into `lacre ingest` over loopback: every data PDU must be in the spool
# byte-identical and in order, every keep-alive answered with exactly the
# expected bytes (and logged with its bytes), nothing else sent; then SIGTERM
# drains and --stats matches the vector README's counts.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-a/raw"
lacre="$top/build/bin/lacre"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre not built (a test run needs the build)"; exit 1; }
[ -f "$vec/hi2.bin" ] || { echo "FAIL: vectors not found at $vec: the shared test vectors are missing; check out the shared folder beside the source tree"; exit 1; }
tmp=$(mktemp -d /tmp/lacre-e2e-ingest-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
. "$top/tests/e2e/lib/check.bash"

"$lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$tmp/spool" \
	--ready-file "$tmp/ready" --stats "$tmp/stats.json" --duration 120 2>"$tmp/stderr" &
pid=$!
wait_file 60 "$tmp/ready" || { echo "ingest did not start"; cat "$tmp/stderr"; exit 1; }
. "$tmp/ready"

python3 - "$vec" "$hi2" "$hi3" <<'PY' || exit 1
import socket, sys, time
vec, ports = sys.argv[1], {"hi2": int(sys.argv[2]), "hi3": int(sys.argv[3])}

def pdus(b):
    off = 0
    while off < len(b):
        l = b[off + 1]
        if l < 0x80:
            h, n = 2, l
        else:
            k = l & 0x7f
            h, n = 2 + k, int.from_bytes(b[off + 2:off + 2 + k], "big")
        yield b[off:off + h + n]
        off += h + n

for name, port in ports.items():
    data = open("%s/%s.bin" % (vec, name), "rb").read()
    want = b"".join(p[:-2] + b"\x84\x00" for p in pdus(data) if p.endswith(b"\xa2\x02\x83\x00"))
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    for i in range(0, len(data), 1400):          # many PDUs per write, PDUs split
        s.sendall(data[i:i + 1400])
    # end of the stream: ingest answers what it read and closes; everything
    # up to its close is the answer (no quiet period guessed)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        got += c
    s.close()
    if got != want:
        sys.exit("%s: keep-alive responses differ (%d bytes, want %d)" % (name, len(got), len(want)))
    print("%s: %d keep-alive responses byte-exact" % (name, len(want) // 100))
PY

kill -TERM "$pid"
wait "$pid"; rc=$?
pid=
[ $rc -eq 0 ] || { echo "ingest exited $rc"; cat "$tmp/stderr"; exit 1; }

python3 "$top/tests/e2e/ingest_spool.py" "$tmp/spool" > "$tmp/spool.json" || exit 1
python3 - "$vec" "$tmp/spool.json" "$tmp/stats.json" <<'PY' || exit 1
import json, sys
vec, spool, stats = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))

def pdus(b):
    off = 0
    while off < len(b):
        l = b[off + 1]
        if l < 0x80:
            h, n = 2, l
        else:
            k = l & 0x7f
            h, n = 2 + k, int.from_bytes(b[off + 2:off + 2 + k], "big")
        yield b[off:off + h + n]
        off += h + n

fail = []
for lis, name in ((2, "hi2"), (3, "hi3")):
    all_ = list(pdus(open("%s/%s.bin" % (vec, name), "rb").read()))
    ka = [p.hex() for p in all_ if p.endswith(b"\xa2\x02\x83\x00")]
    data = [p.hex() for p in all_ if not p.endswith(b"\xa2\x02\x83\x00")]
    got = [r[1] for r in spool["records"] if r[0] == lis]
    if got != data:
        fail.append("%s: spool records differ from the stream (%d vs %d)" % (name, len(got), len(data)))
    kev = [e["pdu_hex"] for e in spool["events"] if e["event"] == "keepalive" and e["listener"] == name]
    if kev != ka:
        fail.append("%s: keep-alive events differ (%d vs %d)" % (name, len(kev), len(ka)))
    print("%s: %d records and %d keep-alives byte-identical in the spool" % (name, len(got), len(kev)))

want = {"LIVOIP0001/164085088/iri": 7, "LIVOIP0001/1461051119/iri": 7, "LIIPRAD001/1622142037/iri": 4,
        "LIIPSTA001/7/iri": 1, "LIVOIP0001/164085088/cc": 200, "LIVOIP0001/1461051119/cc": 100,
        "LIIPRAD001/1622142037/cc": 20, "LIIPSTA001/7/cc": 20}
for k, n in want.items():
    st = stats["streams"].get(k)
    if not st or st["received"] != n or st["gaps"] or st["duplicates"] or st["restarts"]:
        fail.append("stats %s: %r, want received %d and no gap" % (k, st, n))
if set(stats["streams"]) != set(want):
    fail.append("unexpected streams %r" % sorted(set(stats["streams"]) - set(want)))
if stats["keepalives"] != 10 or stats["keepalive_responses"] != 10 or stats["connections"] != 2:
    fail.append("keep-alive/connection counts: %r" % {k: stats[k] for k in ("keepalives", "keepalive_responses", "connections")})
if [e for e in spool["events"] if e.get("alert")]:
    fail.append("alerts raised on a clean stream")
if fail:
    sys.exit("\n".join(fail))
print("stats match the vector README")
PY
echo "ok"
