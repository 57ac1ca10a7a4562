#!/usr/bin/env bash
# memory_budget.sh - the receiver's memory budget holds under attack while a
# legitimate mediator loses nothing (issue 11).  Loopback only.
#
# lacre ingest runs with --memory-budget 32M.  100 slow senders
# (memory_budget_hogs.py) each declare a 15 MiB PDU and trickle it at about
# 100 KiB/s, reconnecting when refused, for 14 s: far more than the budget
# in all.  Meanwhile lacre-mediator delivers a normal stream (4
# connections, keep-alives every second) for 10 s.
# Checks:
#  - the receiver's peak RSS (VmHWM) stays under the budget + MARGIN_MIB;
#    MARGIN_MIB (48) is what the receiver holds beside the budget: the
#    process itself with OpenSSL (~10 MiB), the event scratch that carries
#    one refused tail in base64 (4/3 of the largest, doubled by its
#    buffer), the integrity retention (--integrity-retain 4M here), the
#    spool's write buffer and the allocator's slack; without a budget the
#    same attack took it to ~540 MB;
#  - every record the mediator wrote arrived (per stream, and in all) and
#    every keep-alive was answered;
#  - the memory-budget events name only the slow senders' addresses, each
#    with its bytes, the budget and a truncated-tail event carrying those
#    bytes; --stats counts the same refusals and its peak use is within
#    the budget.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
lacre="$top/build/bin/lacre"
med="$top/build/bin/lacre-mediator"
hogs="$top/tests/e2e/memory_budget_hogs.py"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
[ -x "$lacre" ] || { echo "FAIL: build/bin/lacre not built (a test run needs the build)"; exit 1; }
[ -x "$med" ] || { echo "FAIL: build/bin/lacre-mediator not built (a test run needs the build)"; exit 1; }
[ -r /proc/self/status ] || { echo "no /proc: cannot read VmHWM"; exit 77; }
BUDGET_MIB=32
MARGIN_MIB=48
tmp=$(mktemp -d /tmp/lacre-e2e-budget-XXXXXX)
pid= hpid=
cleanup() {
	[ -n "$hpid" ] && kill "$hpid" 2>/dev/null
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	if [ -n "${LACRE_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
. "$top/tests/e2e/lib/check.bash"
EXPECT_DIR=$tmp

# a budget below twice the largest PDU is refused before anything listens
expect_exit 2 "must be at least twice --max-pdu" \
	"$lacre" ingest --hi2 127.0.0.1:0 --spool "$tmp/spool0" --max-pdu 16M --memory-budget 31M ||
	{ echo "FAIL: --memory-budget 31M with --max-pdu 16M was not refused"; exit 1; }

"$lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$tmp/spool" \
	--ready-file "$tmp/ready" --stats "$tmp/stats.json" --duration 120 \
	--memory-budget ${BUDGET_MIB}M --integrity-retain 4M --quiet 2>"$tmp/ingest.err" &
pid=$!
wait_file 60 "$tmp/ready" || { echo "FAIL: ingest did not start"; cat "$tmp/ingest.err"; exit 1; }
. "$tmp/ready"

python3 "$hogs" --port "$hi2" --senders 100 --declare $((15 << 20)) --chunk 2048 --interval 0.02 \
	--duration 14 --reconnect --out "$tmp/hogs.json" 2>"$tmp/hogs.err" &
hpid=$!
sleep 2      # the budget is under pressure before the mediator starts
timeout 60 "$med" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 --connections 4 --targets 20 \
	--duration 10 --rate 1500 --keepalive 1 --summary "$tmp/summary.json" 2>"$tmp/med.err"
mrc=$?
wait "$hpid"; hrc=$?; hpid=
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
kill -TERM "$pid"; wait "$pid"; irc=$?; pid=
[ $mrc -eq 0 ] || { echo "FAIL: mediator exited $mrc"; tail -5 "$tmp/med.err"; exit 1; }
[ $hrc -eq 0 ] || { echo "FAIL: slow senders exited $hrc"; tail -5 "$tmp/hogs.err"; exit 1; }
[ $irc -eq 0 ] || { echo "FAIL: ingest exited $irc"; tail -5 "$tmp/ingest.err"; exit 1; }

python3 - "$tmp" "$hwm" "$BUDGET_MIB" "$MARGIN_MIB" <<'PY' || exit 1
import json, os, struct, sys, zlib
tmp, hwm_kib, budget_mib, margin_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = json.load(open(tmp + "/summary.json"))
t = json.load(open(tmp + "/stats.json"))
h = json.load(open(tmp + "/hogs.json"))
budget = budget_mib << 20
fail = []

# events from the spool (docs/FORMATS.md section 2: entries of u32 length,
# body, CRC-32; type 2 = event: 8-byte time, u32 length, JSON)
events = []
for name in sorted(os.listdir(tmp + "/spool")):
    data = open(os.path.join(tmp, "spool", name), "rb").read()
    if data[:8] != b"LACRESPL":
        continue
    off = 24
    while off + 4 <= len(data):
        (n,) = struct.unpack(">I", data[off:off + 4])
        body = data[off + 4:off + 4 + n]
        if len(body) != n or zlib.crc32(body) != struct.unpack(">I", data[off + 4 + n:off + 8 + n])[0]:
            sys.exit("FAIL: bad spool entry at %d in %s" % (off, name))
        if body[0] == 2:
            events.append(json.loads(body[13:].decode()))
        off += 8 + n

# 1. memory: peak RSS and the receiver's own peak use
limit_kib = (budget_mib + margin_mib) * 1024
if hwm_kib > limit_kib:
    fail.append("peak RSS %d KiB > budget %d MiB + margin %d MiB" % (hwm_kib, budget_mib, margin_mib))
mb = t["memory_budget"]
if mb["budget"] != budget or mb["in_use_max"] > budget or mb["in_use"] != 0:
    fail.append("stats memory_budget: %r" % mb)
if t["connections"] != sum(t["closed"].values()):
    fail.append("connections %d, closed %d: %r" % (t["connections"], sum(t["closed"].values()), t["closed"]))
if h["bytes_sent"] < 2 * budget:
    fail.append("the slow senders wrote only %d bytes: not an attack on a %d-byte budget" % (h["bytes_sent"], budget))

# 2. the mediator lost nothing
streams = t["streams"]
for k, n in s["sent"].items():
    st = streams.get(k)
    if not st or st["received"] - st["duplicates"] != n:
        fail.append("stream %s: sent %d, received %r" % (k, n, st))
if set(streams) - set(s["sent"]):
    fail.append("streams not sent: %s" % sorted(set(streams) - set(s["sent"]))[:5])
if t["records"] != s["pdus_sent"] - s["keepalives_sent"]:
    fail.append("records %d != PDUs written %d - keep-alives %d" % (t["records"], s["pdus_sent"], s["keepalives_sent"]))
if s["keepalives_sent"] == 0 or s.get("keepalive_failures", 0) or \
        not (t["keepalives"] == t["keepalive_responses"] == s["keepalives_sent"] == s["keepalive_responses_ok"]):
    fail.append("keep-alives: received %d answered %d sent %d ok %d" % (
        t["keepalives"], t["keepalive_responses"], s["keepalives_sent"], s["keepalive_responses_ok"]))

# 3. the refusals name the slow senders, with their bytes and the budget
hogs = set(h["peers"])
refused = [e for e in events if e["event"] == "memory-budget"]
tails = {(e["conn"], e["offset"]): e for e in events if e["event"] == "truncated-tail"}
closes = {e["conn"]: e for e in events if e["event"] == "disconnect"}
if not refused:
    fail.append("no memory-budget event")
if len(refused) != mb["refusals"] or mb["refusals"] != t["closed"]["memory_budget"]:
    fail.append("%d memory-budget events, stats refusals %d, closed %d" % (
        len(refused), mb["refusals"], t["closed"]["memory_budget"]))
for e in refused:
    tail = tails.get((e["conn"], e["offset"]))
    d = closes.get(e["conn"])
    if e["peer"] not in hogs:
        fail.append("refused a peer that is not a slow sender: %r" % e)
    elif e["budget"] != budget or e["bytes"] <= 0 or e["declared"] != (15 << 20) + 6 or e.get("alert") is not True:
        fail.append("memory-budget event: %r" % e)
    elif not tail or tail["length"] != e["bytes"] or len(tail["bytes_b64"]) != (e["bytes"] + 2) // 3 * 4:
        fail.append("refused bytes not logged as a truncated tail: %r" % e)
    elif not d or "memory budget" not in d["reason"] or d["truncated_tail"] != e["bytes"]:
        fail.append("disconnect of a refused connection: %r" % d)
print("memory budget %d MiB: peak RSS %.1f MiB (limit %d MiB), peak in use %.1f MiB; %d slow senders' "
      "connections wrote %.0f MiB, %d refused (%.0f MiB refused); mediator: %d PDUs (%d keep-alives) "
      "on %d streams, all received" % (
      budget_mib, hwm_kib / 1024, budget_mib + margin_mib, mb["in_use_max"] / 1048576, h["connections"],
      h["bytes_sent"] / 1048576, len(refused), mb["refused_bytes"] / 1048576, s["pdus_sent"],
      s["keepalives_sent"], len(s["sent"])))
if fail:
    sys.exit("FAIL: " + "\n".join(fail[:20]))
PY
echo "ok"
