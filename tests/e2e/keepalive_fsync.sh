#!/usr/bin/env bash
# keepalive_fsync.sh - keep-alive answers never wait behind a disk sync
# (issue 15).  Every fsync/fdatasync of the receiver takes 600 ms (an
# LD_PRELOAD shim, slow_fsync.c: a slow or busy disk) and segments close
# often (segment.max_bytes 1 MiB: a close every few hundred ms, each with
# three syncs); a flood of 8 connections keeps every worker sealing.  A
# second mediator, one connection that is mostly idle, sends a keep-alive
# every 0.1 s and fails any answer not back within 0.25 s.  Checks: no
# keep-alive failure, every keep-alive answered, every PDU sealed once, and
# at least 5 slow syncs ran while the keep-alives did (the shim logs them).
# Before the closer thread, a segment's close (fsync, ledger batch, rename,
# folder fsync) ran on the receiving thread, or under the sink's lock the
# receiving thread needed: each close held keep-alives for 1.8 s here.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-kafsync-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
slow_fsync_shim "$work/slow_fsync.so"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant"
export LACRE_USER=$CLERK_KEY
LD_PRELOAD="$work/slow_fsync.so" SLOW_FSYNC_MS=${KA_FSYNC_MS:-600} \
	vault_ingest_start "$site" ka --workers 2 --set segment.max_bytes=1M --set limits.max_pdu_bytes=256K
grep -q . /proc/$IPID/maps && grep -q slow_fsync /proc/$IPID/maps ||
	die "the fsync shim is not loaded in the receiver (LD_PRELOAD ignored?)"
# the sink opens (spool recovery, ledger: slow syncs) after the listeners:
# the loop runs once it writes the status file
wait_file 60 "$site/state/status.prom" || die "the receiver's loop did not start"
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --connections 8 --targets 1 --sessions 40 \
	--calls 40 --rate 3000 --duration 5 --seed 21 --summary "$work/sum-flood.json" >/dev/null \
	2>"$work/med-flood.err" &
MPID=$!
sleep 0.5
mono() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
t0=$(mono)
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --connections 1 --targets 1 --rate 2 \
	--duration 4 --keepalive 0.1 --keepalive-wait 0.25 --seed 22 --summary "$work/sum-ka.json" \
	>/dev/null 2>"$work/med-ka.err"
krc=$?
t1=$(mono)
wait "$MPID"; frc=$?; MPID=
vault_ingest_stop ka
[ $frc -eq 0 ] || { tail -5 "$work/med-flood.err"; die "flood mediator exited $frc"; }
python3 - "$work/sum-ka.json" "$krc" <<'PY' || { tail -5 "$work/med-ka.err"; die "keep-alives waited behind the syncs"; }
import json, sys
s = json.load(open(sys.argv[1]))
print("keep-alives: %d sent, %d answered within 0.25 s, %d failures (mediator exit %s)" % (
    s["keepalives_sent"], s["keepalive_responses_ok"], s.get("keepalive_failures", 0), sys.argv[2]))
if s.get("keepalive_failures", 0) or s["keepalives_sent"] < 10 or \
        s["keepalive_responses_ok"] != s["keepalives_sent"] or sys.argv[2] != "0":
    sys.exit(1)
PY
"$B/lacre" records --site "$site" --warrant "$W1" --json --justification "e2e: keep-alive under slow fsync" \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records failed"; }
python3 - "$work/rec.jsonl" "$work/sum-flood.json" "$work/sum-ka.json" <<'PY' || die "sealed once"
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sent = sum(json.load(open(sys.argv[2]))["sent"].values()) + sum(json.load(open(sys.argv[3]))["sent"].values())
seen = collections.Counter((r.get("liid"), r.get("cin"), r.get("kind"), r.get("seq")) for r in recs)
if any(n > 1 for n in seen.values()) or len(recs) != sent:
    sys.exit("sealed %d records (%d distinct), sent %d" % (len(recs), len(seen), sent))
print("sealed: %d records, each once" % len(recs))
PY
syncs=$(awk -v a="$t0" -v b="$t1" '$1 == "slow-fsync" && $2 >= a && $2 <= b { n++ } END { print n + 0 }' "$work/ingest-ka.err")
echo "slow fsyncs while the keep-alives ran: $syncs"
[ "$syncs" -ge 5 ] || die "only $syncs syncs while the keep-alives ran: the test did not exercise them"
echo "ok   keep-alives answered within 0.25 s while every fsync took 0.6 s"
