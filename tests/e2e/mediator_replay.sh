#!/usr/bin/env bash
# mediator_replay.sh - lacre-mediator --replay (the cheap sender of
# bench/ingest_workers.sh): files written by --output over 3 connection
# pairs are replayed into the real receiver (lacre ingest, spool sink, two
# workers), plain TCP and TLS; the receiver's per-stream counts equal the
# summary of the run that wrote the files, every final keep-alive is
# answered, the replay's figures (PDUs, bytes) equal the summary's.  And the
# failures: a torn file, a missing file, --replay with --summary, a receiver
# that reads but never answers the final keep-alive, one that sends
# something else.  Loopback only.
set -u
. "$(dirname "$0")/mediator_common.bash"
B=$top/build/bin
IPID= SPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$SPID" ] && kill $SPID 2>/dev/null; cleanup' EXIT
command -v openssl >/dev/null || { echo "openssl not found"; exit 77; }
[ -x "$B/lacre" ] || { echo "FAIL: no $B/lacre: run make"; exit 1; }

"$MED" --output "$T/s" --connections 3 --targets 6 --calls 3 --sessions 3 --session-packets 300 \
	--seed 11 --start-time 2026-11-28T10:00:00Z --summary "$T/sum.json" || { echo "FAIL: --output"; exit 1; }
for p in 0 1 2; do for h in hi2 hi3; do
	[ -s "$T/s.$p.$h" ] || { echo "FAIL: --output --connections 3 wrote no $T/s.$p.$h"; exit 1; }
done; done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=t" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$T/k.pem" -out "$T/c.pem" 2>/dev/null ||
	{ echo "FAIL: openssl req"; exit 1; }

# replay TLS(0|1): into lacre ingest, then compare
replay() {
	local tls=$1 iargs=() margs=()
	[ "$tls" = 1 ] && iargs=(--tls --tls-cert "$T/c.pem" --tls-key "$T/k.pem") margs=(--tls --tls-ca "$T/c.pem")
	rm -rf "$T/spool" "$T/ready" "$T/stats.json"
	"$B/lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$T/spool" --workers 2 "${iargs[@]}" \
		--ready-file "$T/ready" --stats "$T/stats.json" --duration 120 --quiet 2>"$T/ingest.err" &
	IPID=$!
	wait_file 60 "$T/ready" || { cat "$T/ingest.err"; echo "FAIL: ingest did not start"; exit 1; }
	. "$T/ready"
	timeout 60 "$MED" --replay "$T/s" --connections 3 --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 \
		"${margs[@]}" >"$T/replay.json" 2>"$T/replay.err" ||
		{ cat "$T/replay.err"; echo "FAIL: replay (tls=$tls) exited $?"; exit 1; }
	kill -TERM "$IPID"; wait "$IPID" || { tail -3 "$T/ingest.err"; echo "FAIL: ingest exited $?"; exit 1; }
	IPID=
	python3 - "$T/sum.json" "$T/stats.json" "$T/replay.json" "$tls" <<'PY' || exit 1
import json, sys
s, t, r = (json.load(open(p)) for p in sys.argv[1:4])
bad = []
for k, n in s["sent"].items():
    st = t["streams"].get(k)
    if not st or st["received"] != n or st["duplicates"] or st["gaps"]:
        bad.append("%s: sent %d, receiver %r" % (k, n, st))
if len(t["streams"]) != len(s["sent"]):
    bad.append("receiver saw %d streams, summary %d" % (len(t["streams"]), len(s["sent"])))
if t["records"] != s["pdus_sent"] - s["keepalives_sent"]:
    bad.append("records %d != %d" % (t["records"], s["pdus_sent"] - s["keepalives_sent"]))
if s["keepalives_sent"] != 6 or t["keepalives"] != 6 or t["keepalive_responses"] != 6 or r["keepalives_answered"] != 6:
    bad.append("keep-alives: written %d, received %d, answered %d, replay saw %d (want 6)" % (
        s["keepalives_sent"], t["keepalives"], t["keepalive_responses"], r["keepalives_answered"]))
if r["pdus_sent"] != s["pdus_sent"] or r["bytes_sent"] != s["bytes_sent"]:
    bad.append("replay sent %d PDUs / %d B, files hold %d / %d" % (r["pdus_sent"], r["bytes_sent"],
               s["pdus_sent"], s["bytes_sent"]))
if bad:
    print("FAIL (tls=%s): %s" % (sys.argv[4], "; ".join(bad)))
    sys.exit(1)
print("replay tls=%s: %d streams, %d PDUs, %d bytes, %d keep-alives answered" % (
    sys.argv[4], len(s["sent"]), r["pdus_sent"], r["bytes_sent"], r["keepalives_answered"]))
PY
}
replay 0
replay 1

# a torn file, a missing file, a usage error
cp "$T/s.1.hi3" "$T/keep.hi3"
head -c -7 "$T/keep.hi3" >"$T/s.1.hi3"
expect_exit 1 "s.1.hi3: no whole PDU at offset" "$MED" --replay "$T/s" --connections 3 \
	--hi2 127.0.0.1:9 --hi3 127.0.0.1:9 || exit 1
cp "$T/keep.hi3" "$T/s.1.hi3"
expect_exit 1 "cannot open $T/s.3.hi2" "$MED" --replay "$T/s" --connections 4 \
	--hi2 127.0.0.1:9 --hi3 127.0.0.1:9 || exit 1
expect_exit 2 "--replay sends files written before" "$MED" --replay "$T/s" --summary "$T/x.json" \
	--hi2 127.0.0.1:9 --hi3 127.0.0.1:9 || exit 1

# receivers that misbehave: MODE silent reads and never answers; MODE junk
# answers every read with bytes that are no keep-alive response
sink() {
	rm -f "$T/sink.ready"
	python3 - "$1" "$T/sink.ready" <<'PY' &
import socket, sys, threading
mode, ready = sys.argv[1], sys.argv[2]
ls = [socket.socket() for _ in range(2)]
for l in ls:
    l.bind(("127.0.0.1", 0)); l.listen(8)
open(ready + ".tmp", "w").write("%d %d\n" % tuple(l.getsockname()[1] for l in ls))
__import__("os").rename(ready + ".tmp", ready)
def serve(c):
    while True:
        b = c.recv(65536)
        if not b:
            return
        if mode == "junk":
            c.sendall(b"\x30\x03\x02\x01\x00")
def acc(l):
    while True:
        c, _ = l.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
for l in ls:
    threading.Thread(target=acc, args=(l,), daemon=True).start()
threading.Event().wait(60)
PY
	SPID=$!
	wait_file 30 "$T/sink.ready" || { echo "FAIL: sink did not start"; exit 1; }
	read -r SH2 SH3 <"$T/sink.ready"
}
sink silent
expect_exit 1 "nothing moved for 1 s: the receiver stalled" "$MED" --replay "$T/s" --connections 3 \
	--hi2 127.0.0.1:$SH2 --hi3 127.0.0.1:$SH3 --stall-timeout 1 || exit 1
kill $SPID; wait $SPID 2>/dev/null; SPID=
sink junk
expect_exit 1 "the receiver sent something that is not the answer to the final keep-alive" "$MED" \
	--replay "$T/s" --connections 3 --hi2 127.0.0.1:$SH2 --hi3 127.0.0.1:$SH3 --stall-timeout 5 || exit 1
kill $SPID; wait $SPID 2>/dev/null; SPID=
echo "mediator_replay: ok"
