#!/usr/bin/env bash
# fault_backend.sh - the backend goes away and comes back (a faulty: wrapper
# around dir:, down while a file exists; docs/storage.md):
#   1. down for 5 s (30 s with LACRE_SOAK=1) under load: ingest says so in one
#      line, sealed segments wait in the spool, nothing reaches the backend
#      before its ledger batch is signed, the spool drains when it is back,
#      and a SIGTERM then loses nothing (sealed = sent);
#   2. down, kill -9, restart with the backend still down: the listeners
#      open at once (ready within 5 s), recovery runs, and once the backend
#      is back everything drains; what was lost is named.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-backend-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

outage=5
[ -n "${LACRE_SOAK:-}" ] && outage=30
site=$work/site
down=$work/backend-down
export LACRE_TEST_BACKENDS=1
vault_init "$site" --backend "faulty:down-file=$down;dir:$work/objects"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri,location) || die "warrant"
export LACRE_USER=$CLERK_KEY
count() { # records + quarantined records (not events) of the site
	local a b
	a=$("$B/lacre" records --site "$site" --warrant "$W1" --json --justification "e2e: backend outage" | wc -l) || return 1
	b=$("$B/lacre" quarantine --site "$site" --json --justification "e2e: backend outage" | wc -l) || return 1
	echo $((a + b))
}
ready_empty() { [ -z "$(ls "$site/spool/ready")" ]; }
segs_on_backend() { find "$work/objects" -path '*/seg/*' -type f 2>/dev/null | wc -l; }

# --- 1. outage under load, then back, then SIGTERM: nothing lost
touch "$down"
vault_ingest_start "$site" out1
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --sessions 20 --calls 20 \
	--rate 1000 --duration 4 --seed 11 --summary "$work/sum1.json" >/dev/null 2>"$work/med1.err" &
MPID=$!
wait_for 20 "a backend-unavailable line" grep -q 'ALERT backend unavailable' "$work/ingest-out1.err" ||
	die "no 'backend unavailable' line within 20 s: $(cat "$work/ingest-out1.err")"
wait "$MPID"; MPID=
sleep "$outage"
[ "$(segs_on_backend)" -eq 0 ] || die "segments reached a backend that was down"
waiting=$(ls "$site/spool/ready" | wc -l)
[ "$waiting" -gt 0 ] || die "no sealed segment waits in the spool during the outage"
rm -f "$down"
wait_for 60 "a backend-back line" grep -q 'backend back' "$work/ingest-out1.err" || die "no 'backend back' line"
wait_for 60 "an empty spool/ready" ready_empty || die "the spool did not drain after the backend came back"
vault_ingest_stop out1
sent=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["sent"].values()))' "$work/sum1.json")
n=$(count) || die "reading the records failed"
echo "outage of ${outage} s: $waiting segments waited in the spool; sealed $n of $sent sent"
[ "$n" -eq "$sent" ] || die "sealed $n records, the mediator sent $sent"

# --- 2. down + kill -9 + restart with the backend still down
touch "$down"
vault_ingest_start "$site" out2
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --sessions 20 --calls 20 \
	--rate 1000 --duration 5 --seed 12 --summary "$work/sum2.json" >/dev/null 2>"$work/med2.err" &
MPID=$!
sleep 3.3
kill -9 "$IPID"; wait "$IPID" 2>/dev/null; IPID=
wait "$MPID"; MPID=
t0=$(date +%s%N)
vault_ingest_start "$site" out3
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "restart with the backend down: listening after $ms ms"
[ "$ms" -lt 5000 ] || die "the restart waited $ms ms for a backend that is down"
[ "$(segs_on_backend)" -gt 0 ] || die "test setup: part 1 left nothing on the backend"
rm -f "$down"
wait_for 60 "an empty spool/ready" ready_empty || die "the spool did not drain after the restart"
vault_ingest_stop out3
grep 'spool recovery' "$work/ingest-out3.err" || true
[ -z "$(find "$site/spool" -maxdepth 1 -name '*.leaves' -o -maxdepth 1 -name 'TMP.*')" ] ||
	die "unsigned batches or open segments left after the restart: $(ls "$site/spool")"
sent2=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["sent"].values()))' "$work/sum2.json")
n2=$(count) || die "reading the records failed"
echo "kill -9 during the outage: sealed $((n2 - n)) of $sent2 sent"
[ $((n2 - n)) -le "$sent2" ] || die "more records than were sent"
[ $((n2 - n)) -gt 0 ] || die "nothing of the second delivery survived"
R=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')
"$B/lacre" export --site "$site" --warrant "$W1" --recipient "$R" -o "$work/exp.age" \
	--justification "e2e: export after an outage" --json > "$work/exp.json" 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "export after the outage failed"; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["unlogged"] == 0 else "export: %d records in no signed checkpoint" % r["unlogged"])' "$work/exp.json" ||
	die "a record a reader gets is not in the ledger"
"$B/lacre" audit --site "$site" --deep > "$work/deep.out" 2>&1 || { cat "$work/deep.out"; die "audit --site --deep after the outage: exit $?"; }
echo "ok   backend outage: nothing lost, no segment before its batch, restart does not wait"
