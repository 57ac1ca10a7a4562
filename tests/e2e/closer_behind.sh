#!/usr/bin/env bash
# closer_behind.sh - many low-rate warrants on a slow disk: the receiver
# holds what it cannot seal yet instead of failing (issue 15).  40
# warrants, each closing a segment every 100 ms (segment.max_age), while
# every fsync of the receiver takes 40 ms (the LD_PRELOAD shim of
# keepalive_fsync.sh): segments retire far faster than the closer thread
# can sync them.  Before the bound on the closer's queue each waiting
# segment held two open files and its staging buffer until the process ran
# out of descriptors ("sealing failed (input/output error): the receiver
# will stop"); now record() refuses past 64 waiting segments and the
# receiver pauses reading.  Checks: the ALERT line names the closer (not a
# full spool) and reading resumes; the receiver stops cleanly (exit 0);
# `lacre status`-style metrics showed the closer behind; every PDU the
# mediator sent is sealed exactly once, read back warrant by warrant; and
# the receiver never held more than 2 x (64 + 40) + 2 x 40 + 64 files (two a
# segment: 64 waiting, up to 40 more the ticker retires by age in one
# turn, 40 open; 64 for the rest).  The disk
# stays too slow for the whole run, so reading is paused most of the time;
# a connection holding a refused PDU is not read, so its keep-alives wait
# with it (backpressure.c): the mediator is told to wait up to 300 s for
# an answer instead of its 10 s (on a loaded machine the pauses outlast
# them, and the mediator would drop and redial: nothing lost, but a failed
# run of the mediator).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-closer-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 not found"; exit 77; }
slow_fsync_shim "$work/slow_fsync.so"

N=40
site=$work/site
vault_init "$site"
: > "$work/warrants"
for i in $(seq 1 $N); do
	w=$(vault_warrant "$site" "$(printf 'LIID%04u' "$i")" 2026-11-01 2027-01-31 content,iri,location) ||
		die "warrant $i"
	echo "$w" >> "$work/warrants"
done
export LACRE_USER=$CLERK_KEY
LD_PRELOAD="$work/slow_fsync.so" SLOW_FSYNC_MS=40 \
	vault_ingest_start "$site" cb --set segment.max_age=100ms
grep -q slow_fsync /proc/$IPID/maps || die "the fsync shim is not loaded in the receiver (LD_PRELOAD ignored?)"
wait_file 60 "$site/state/status.prom" || die "the receiver's loop did not start"
pid=$(pgrep -P "$IPID" lacre-ingest || echo "$IPID")
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --connections 4 --targets $N --sessions 80 \
	--calls 40 --rate 2000 --duration 4 --keepalive-wait 300 --seed 31 --summary "$work/sum.json" >/dev/null \
	2>"$work/med.err" &
MPID=$!
# the most files the receiver held, and whether the metrics showed the closer behind
maxfd=0 behind=0
while kill -0 "$MPID" 2>/dev/null; do
	n=$(ls /proc/"$pid"/fd 2>/dev/null | wc -l)
	[ "$n" -gt "$maxfd" ] && maxfd=$n
	grep -q '^lacre_seal_closer_behind 1' "$site/state/status.prom" 2>/dev/null && behind=1
	sleep 0.05
done
wait "$MPID"; mrc=$?; MPID=
[ $mrc -eq 0 ] || { tail -5 "$work/med.err"; die "mediator exited $mrc"; }
vault_ingest_stop cb
echo "most files held by the receiver: $maxfd; metrics showed the closer behind: $behind"
grep -q 'ALERT sealing behind: retired segments wait for the closer' "$work/ingest-cb.err" ||
	{ tail -20 "$work/ingest-cb.err"; die "no 'ALERT sealing behind' line: the test did not exercise the bound"; }
grep -q 'the sink takes records again: reading resumed after' "$work/ingest-cb.err" ||
	die "reading never resumed"
if grep -q 'ALERT spool full' "$work/ingest-cb.err"; then
	die "the pause was reported as a full spool"
fi
[ "$behind" -eq 1 ] || die "lacre_seal_closer_behind never showed 1"
[ "$maxfd" -le $((2 * (64 + N) + 2 * N + 64)) ] || die "the receiver held $maxfd files"
: > "$work/rec.jsonl"
while read -r w; do
	"$B/lacre" records --site "$site" --warrant "$w" --json --justification "e2e: closer behind" \
		>> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records of $w failed"; }
done < "$work/warrants"
python3 - "$work/rec.jsonl" "$work/sum.json" <<'PY' || die "sealed once"
import json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sent = sum(json.load(open(sys.argv[2]))["sent"].values())
seen = collections.Counter((r.get("liid"), r.get("cin"), r.get("kind"), r.get("seq")) for r in recs)
if any(n > 1 for n in seen.values()) or len(recs) != sent:
    sys.exit("sealed %d records (%d distinct), sent %d" % (len(recs), len(seen), sent))
print("sealed: %d records of %d warrants, each once" % (len(recs), len({r.get("liid") for r in recs})))
PY
echo "ok   40 warrants on a slow disk: held while the closer was behind, nothing lost"
