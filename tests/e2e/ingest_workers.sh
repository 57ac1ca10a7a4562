#!/usr/bin/env bash
# ingest_workers.sh - the receiver with --workers 4 (issue 15): several event
# loops share the connections; the stream accounting, the sealing and the
# crash recovery stay right.  Loopback only.
#   1. spool sink, 16 connections that drop and reconnect every 1500 PDUs
#      (resending their last 3): a stream continues on a new connection,
#      which lands on whatever worker accepts it.  Per stream, received
#      minus duplicates equals the mediator's count; no gap is reported (none
#      injected) and the duplicates are exactly the resent ones; every
#      keep-alive is answered; --stats says 4 workers, more than one of them
#      took connections, and their PDUs add up to the total.
#   2. sealed site, 8 connections: every PDU the mediator sent is sealed
#      exactly once (lacre records: no (stream, seq) twice, none missing).
#   3. sealed site, kill -9 mid-delivery, restart: recovery leaves no open
#      segment or unsigned batch, every loss it names is truly absent, and
#      the export verifies against the signed log.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-workers-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
[ -x "$B/lacre" ] && [ -x "$B/lacre-mediator" ] || die "build/bin not built (a test run needs the build)"

# --workers is checked before anything listens
expect_exit 2 "--workers takes 1 to 256" "$B/lacre" ingest --hi2 127.0.0.1:0 --spool "$work/s0" --workers 0 ||
	die "--workers 0 was not refused"
expect_exit 2 "--workers takes 1 to 256" "$B/lacre" ingest --hi2 127.0.0.1:0 --spool "$work/s0" --workers 257 ||
	die "--workers 257 was not refused"

# 1. the spool sink, streams split over reconnections
"$B/lacre" ingest --hi2 127.0.0.1:0 --hi3 127.0.0.1:0 --spool "$work/spool" --workers 4 \
	--ready-file "$work/ready" --stats "$work/stats.json" --duration 120 --quiet 2>"$work/ingest.err" &
IPID=$!
wait_file 60 "$work/ready" || { cat "$work/ingest.err"; die "ingest did not start"; }
. "$work/ready"
timeout 90 "$B/lacre-mediator" --hi2 127.0.0.1:$hi2 --hi3 127.0.0.1:$hi3 --connections 16 --targets 200 \
	--duration 6 --rate 4000 --keepalive 1 --disconnect-every 1500 --resend-after-reconnect 3 \
	--reconnect-wait 0.2 --summary "$work/summary.json" 2>"$work/med.err" ||
	{ tail -5 "$work/med.err"; die "mediator exited $?"; }
kill -TERM "$IPID"; wait "$IPID" || { tail -5 "$work/ingest.err"; die "ingest exited $?"; }
IPID=
python3 - "$work/summary.json" "$work/stats.json" <<'PY' || die "accounting across workers"
import json, sys
s, t = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
fail = []
streams = t["streams"]
for k, n in s["sent"].items():
    st = streams.get(k)
    if not st:
        fail.append("%s: stream never seen" % k)
    elif st["received"] - st["duplicates"] != n:
        fail.append("%s: received %d - duplicates %d != sent %d" % (k, st["received"], st["duplicates"], n))
tot = lambda f: sum(v[f] for v in streams.values())
if tot("gaps") or tot("missing") or tot("restarts"):
    fail.append("false gaps: gaps %d missing %d restarts %d (none injected)" % (tot("gaps"), tot("missing"), tot("restarts")))
if tot("duplicates") != s["injected"]["duplicates"]:
    fail.append("duplicates %d != resent %d" % (tot("duplicates"), s["injected"]["duplicates"]))
if not (t["keepalives"] == t["keepalive_responses"] == s["keepalives_sent"] == s["keepalive_responses_ok"]) \
        or s["keepalives_sent"] == 0:
    fail.append("keep-alives: received %d answered %d sent %d ok %d" % (
        t["keepalives"], t["keepalive_responses"], s["keepalives_sent"], s["keepalive_responses_ok"]))
if t["records"] != s["pdus_sent"] - s["keepalives_sent"]:
    fail.append("records %d != PDUs %d - keep-alives %d" % (t["records"], s["pdus_sent"], s["keepalives_sent"]))
w = t["per_worker"]
busy = [x for x in w if x["connections"] > 0]
if t["workers"] != 4 or len(w) != 4:
    fail.append("workers %r, per_worker %d entries (want 4)" % (t["workers"], len(w)))
if len(busy) < 4:
    fail.append("connections landed on %d worker(s): %r" % (len(busy), w))
if sum(x["pdus"] for x in w) != t["pdus"] or sum(x["connections"] for x in w) != t["connections"]:
    fail.append("per-worker PDUs %d / connections %d do not add up to %d / %d" % (
        sum(x["pdus"] for x in w), sum(x["connections"] for x in w), t["pdus"], t["connections"]))
if t["connections"] < 32:
    fail.append("only %d connections: the reconnections did not happen" % t["connections"])
print("spool: %d streams, %d PDUs over %d connections; per worker (connections/PDUs): %s; "
      "duplicates %d (resent %d), gaps %d" % (len(s["sent"]), t["pdus"], t["connections"],
      " ".join("%d/%d" % (x["connections"], x["pdus"]) for x in w), tot("duplicates"),
      s["injected"]["duplicates"], tot("gaps")))
if fail:
    sys.exit("\n".join(fail[:20]))
PY

# 2. sealed: every PDU sealed once
site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant"
export LACRE_USER=$CLERK_KEY
vault_ingest_start "$site" seal --workers 4
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --connections 8 --targets 1 --sessions 40 \
	--calls 40 --rate 2000 --duration 4 --seed 15 --summary "$work/sum-seal.json" >/dev/null \
	2>"$work/med-seal.err" || { tail -5 "$work/med-seal.err"; die "mediator (sealed) exited $?"; }
vault_ingest_stop seal
"$B/lacre" records --site "$site" --warrant "$W1" --json --justification "e2e: workers sealed once" \
	> "$work/rec1.jsonl" 2>"$work/rec1.err" || { cat "$work/rec1.err"; die "records failed"; }
python3 - "$work/rec1.jsonl" "$work/sum-seal.json" <<'PY' || die "sealed once"
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = json.load(open(sys.argv[2]))
seen = collections.Counter((r.get("liid"), r.get("cin"), r.get("kind"), r.get("seq")) for r in recs)
twice = [k for k, n in seen.items() if n > 1]
sent = sum(s["sent"].values())
if twice:
    sys.exit("sealed twice: %r" % twice[:5])
if len(recs) != sent:
    sys.exit("sealed %d records, the mediator sent %d" % (len(recs), sent))
print("sealed: %d records, each once, = %d sent by the mediator" % (len(recs), sent))
PY
[ -z "$(find "$site/spool" -maxdepth 1 -name 'TMP.*' -o -maxdepth 1 -name '*.leaves')" ] ||
	die "a clean stop left open segments or unsigned batches: $(ls "$site/spool")"

# 3. kill -9 mid-delivery with 4 workers, then recovery
vault_ingest_start "$site" k9 --workers 4
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --connections 8 --targets 1 --sessions 40 \
	--calls 40 --rate 2000 --duration 6 --seed 16 --summary "$work/sum-k9.json" >/dev/null \
	2>"$work/med-k9.err" &
MPID=$!
sleep 3.3
kill -9 "$IPID"; wait "$IPID" 2>/dev/null; IPID=
wait "$MPID"; MPID=
open_at_kill=$(find "$site/spool" -maxdepth 1 -name 'TMP.*' | wc -l)
vault_ingest_start "$site" r9 --workers 4
vault_ingest_stop r9
[ -z "$(find "$site/spool" -maxdepth 1 -name 'TMP.*' -o -maxdepth 1 -name '*.leaves')" ] ||
	die "the restart left open segments or unsigned batches: $(ls "$site/spool")"
"$B/lacre" records --site "$site" --warrant "$W1" --json --justification "e2e: workers kill -9" \
	> "$work/rec2.jsonl" 2>"$work/rec2.err" || { cat "$work/rec2.err"; die "records failed"; }
"$B/lacre" quarantine --site "$site" --events --json --justification "e2e: workers kill -9" \
	> "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine failed"; }
python3 - "$work/rec2.jsonl" "$work/q.jsonl" "$work/sum-seal.json" "$work/sum-k9.json" "$open_at_kill" <<'PY' || die "loss accounting after kill -9"
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
quar = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
sent = sum(json.load(open(sys.argv[3]))["sent"].values()) + sum(json.load(open(sys.argv[4]))["sent"].values())
sealed = collections.Counter((r.get("liid"), r.get("cin"), r.get("kind"), r.get("seq")) for r in recs)
lost = []
for q in quar:
    if q.get("kind") != "event":
        continue
    ev = q["event"] if isinstance(q["event"], dict) else json.loads(q["event"])
    if ev.get("event") == "lost-open-segment":
        lost.append(ev)
named = sum(e.get("count", 0) for e in lost)
print("kill -9: %s open segments at the kill; sealed %d records in all, %d loss events naming %d, sent %d"
      % (sys.argv[5], len(recs), len(lost), named, sent))
for e in lost:
    if "first" not in e:
        continue
    hits = [s for s in range(e["first"], e["last"] + 1) if (e["liid"], e["cin"], e["stream"], s) in sealed]
    if len(hits) >= e["count"]:
        sys.exit("loss event names records that were sealed: %r" % e)
if len(recs) + named > sent:
    sys.exit("sealed %d + named lost %d exceed the %d sent" % (len(recs), named, sent))
PY
R=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')
[ -n "$R" ] || { echo "age-keygen not found"; exit 77; }
"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/exp.age" \
	--justification "e2e: export after kill -9 with workers" --json > "$work/exp.json" 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "export after kill -9 failed"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["unlogged"] == 0 else "export: %d records in no signed checkpoint" % r["unlogged"])' "$work/exp.json" ||
	die "a record a reader gets is not in the ledger"
echo "ok   4 workers: streams across reconnections, sealed once, kill -9 recovered"
