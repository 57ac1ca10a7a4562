#!/usr/bin/env bash
# fault_kill9.sh - kill -9 of `lacre ingest` at random moments under load
# (3 runs; 10 with LACRE_SOAK=1).  After each kill and a restart:
#   - no segment reaches the backend before its ledger batch is signed, so
#     every record a reader gets is in the ledger: the export of the warrant
#     succeeds (no "not in the published checkpoint" for ever) and
#     lacre-verify says VERIFIED against the site's log key;
#   - the records of segments that were open at the kill are named as lost
#     (lost-open-segment events: stream and sequence range), and every range
#     named is truly absent from what was sealed (no false loss report);
#   - sealed + named lost never exceeds what the mediator sent.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-kill9-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

runs=3
[ -n "${LACRE_SOAK:-}" ] && runs=10
site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant"
seed=$RANDOM
echo "seed $seed"
RANDOM=$seed
total_sent=0
for run in $(seq 1 $runs); do
	vault_ingest_start "$site" "k$run"
	"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --sessions 40 --calls 40 \
		--rate 2000 --duration 6 --seed $((seed + run)) --summary "$work/sum$run.json" \
		>/dev/null 2>"$work/med$run.err" &
	MPID=$!
	# a random moment between 2.5 s and 5.5 s into the delivery (segments
	# close by age every 0.5 s: some closed, some open at the kill)
	sleep "$(( RANDOM % 3 + 2 )).$(( RANDOM % 10 ))"
	kill -9 "$IPID"; wait "$IPID" 2>/dev/null; IPID=
	wait "$MPID"; MPID=
	sent=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["sent"].values()))' "$work/sum$run.json")
	total_sent=$((total_sent + sent))
	open_at_kill=$(find "$site/spool" -maxdepth 1 -name 'TMP.*' | wc -l)
	# restart: recovery re-logs unsigned batches, names the open segments' loss
	vault_ingest_start "$site" "r$run"
	vault_ingest_stop "r$run"
	grep -q 'spool recovery' "$work/ingest-r$run.err" && grep 'spool recovery' "$work/ingest-r$run.err"
	echo "run $run: sent $sent, $open_at_kill open segments at the kill"
	[ -z "$(find "$site/spool" -maxdepth 1 -name 'TMP.*' -o -maxdepth 1 -name '*.leaves')" ] ||
		die "run $run: the restart left open segments or unsigned batches in the spool: $(ls "$site/spool")"
	[ -z "$(ls "$site/spool/ready")" ] || die "run $run: segments still wait for upload after a clean stop"
done

export LACRE_USER=$CLERK_KEY
"$B/lacre" records --site "$site" --warrant "$W1" --json --justification "e2e: kill -9 counts" \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records failed"; }
"$B/lacre" quarantine --site "$site" --events --json --justification "e2e: kill -9 counts" \
	> "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine failed"; }
python3 - "$work/rec.jsonl" "$work/q.jsonl" "$total_sent" <<'EOF' || die "loss accounting"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
quar = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
sent = int(sys.argv[3])
sealed = set()
n = 0
for r in recs + [q for q in quar if q.get("kind") != "event"]:
    n += 1
    sealed.add((r.get("liid"), r.get("cin"), r.get("kind"), r.get("seq")))
lost = []
for q in quar:
    if q.get("kind") != "event":
        continue
    ev = q["event"] if isinstance(q["event"], dict) else json.loads(q["event"])
    if ev.get("event") == "lost-open-segment":
        lost.append(ev)
named = sum(e.get("count", 0) for e in lost)
print(f"sealed {n} records, {len(lost)} loss events naming {named} records, mediator sent {sent}")
for e in lost:
    if "first" not in e:
        continue
    hits = [s for s in range(e["first"], e["last"] + 1) if (e["liid"], e["cin"], e["stream"], s) in sealed]
    # a range may hold numbers of other records of the stream sealed in
    # other segments only if the stream interleaves segments; never all
    if len(hits) >= e["count"]:
        sys.exit(f"loss event names records that were sealed: {e}")
if n + named > sent + 1000:   # + accounting events and keep-alives are not data PDUs
    sys.exit(f"sealed {n} + named lost {named} exceed the {sent} sent")
EOF
# every record a reader gets is in the signed log: the export completes and verifies
R=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')
"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/exp.age" \
	--justification "e2e: export after kill -9" --json > "$work/exp.json" 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "export after kill -9 failed (exit $?)"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["unlogged"] == 0 else "export: %d records in no signed checkpoint" % r["unlogged"])' "$work/exp.json" ||
	die "a record a reader gets is not in the ledger"
# the backend and the logs agree: both audits exit 0
"$B/lacre" audit --site "$site" > "$work/audit.out" 2>&1 || { cat "$work/audit.out"; die "audit --site after kill -9: exit $?"; }
"$B/lacre" audit --site "$site" --deep > "$work/deep.out" 2>&1 || { cat "$work/deep.out"; die "audit --site --deep after kill -9: exit $?"; }
grep '^deep:' "$work/deep.out"
echo "ok   $runs kill -9 runs: export after recovery succeeded"
