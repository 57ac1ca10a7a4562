#!/usr/bin/env bash
# vault_durability.sh - kill -9 of `lacre ingest` under load loses at most the
# records of the segments still open (bounded by segment.max_age), and the
# next start uploads every closed segment left in the spool; a SIGTERM after
# delivery loses nothing.  Counts records the mediator sent against records
# sealed (read back with lacre records / quarantine).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-dur-XXXXXX)
IPID= MPID=
trap '[ -n "$IPID" ] && kill -9 $IPID 2>/dev/null; [ -n "$MPID" ] && kill $MPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"

site=$work/site
vault_init "$site"
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant"
rate=1500 secs=6 max_age_s=2
# closed_segments: segments closed so far (a closed segment is SPOOL/<32 hex>,
# SPOOL/ready/<32 hex> or uploaded; SPOOL/<name>.streams and .leaves are
# its side files, docs/FORMATS.md §3.4)
seg_files() { find "$@" -type f -regextype posix-extended -regex '.*/[0-9a-f]{32}' 2>/dev/null; }
closed_segments() {
	{ seg_files "$site/spool" -maxdepth 2; seg_files "$site/objects/seg"; } | wc -l
}
spool_empty() { [ "$(seg_files "$site/spool" -maxdepth 2 | wc -l)" -eq 0 ]; }
has_closed_segment() { [ "$(closed_segments)" -gt 0 ]; }
vault_ingest_start "$site" killed
"$B/lacre-mediator" --hi2 127.0.0.1:$HI2 --hi3 127.0.0.1:$HI3 --targets 1 --sessions 100 --calls 80 \
	--rate $rate --duration $secs --seed 5 --summary "$work/sum.json" >/dev/null 2>"$work/med.err" &
MPID=$!
# kill once the load has closed a segment (segment.max_age into the run), so
# that closed and open segments both exist at the kill
wait_for 60 "a segment closed under load" has_closed_segment || die "no segment closed during the load"
kill -0 "$MPID" 2>/dev/null && echo "killing ingest while the mediator sends" ||
	echo "note: the mediator had finished before the kill (slow machine)"
kill -9 "$IPID"; wait "$IPID" 2>/dev/null; IPID=
t_kill=$(date +%s.%N)
wait "$MPID"; MPID=
sent=$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["sent"].values()))' "$work/sum.json")
leftover=$(seg_files "$site/spool" -maxdepth 2 | wc -l)
echo "sent $sent data PDUs; killed ingest with -9; $leftover closed segments left in the spool"
# restart: the spool drains, nothing new arrives
vault_ingest_start "$site" restart
wait_for 60 "the spool draining after the restart" spool_empty ||
	die "$(seg_files "$site/spool" -maxdepth 2 | wc -l) closed segments still in the spool after the restart"
vault_ingest_stop restart
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records after the kill -9 and restart"; }
n=$(wc -l < "$work/rec.jsonl")
cat "$work/rec.err"
# the mediator sent 'sent' PDUs at 'rate'/s until it was cut off by the kill;
# only those of the last max_age + 1 s (the open segments, plus the tick) may be lost
lost=$((sent - n)); bound=$(( rate * (max_age_s + 1) ))
echo "sealed $n of $sent; lost $lost (bound: $bound = rate x (segment.max_age + 1 s))"
[ "$n" -le "$sent" ] || die "more records than were sent"
[ "$lost" -le "$bound" ] || die "kill -9 lost $lost records, more than the open segments can hold ($bound)"
[ "$n" -gt 0 ] || die "nothing survived"

# SIGTERM after delivery: nothing lost
"$B/lacre-mediator" --output "$work/s" --targets 1 --calls 3 --sessions 2 --seed 9 \
	--start-time 2026-11-28T12:00:00Z >/dev/null 2>&1 || die "mediator --output"
expect=$(cat <("$B/lacre" decode "$work/s.hi2") <("$B/lacre" decode "$work/s.hi3") | grep -vc '"keepalive')
before=$n
vault_ingest_start "$site" term
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/s.hi2" "$work/s.hi3" || die "send"
vault_ingest_stop term
"$B/lacre" records --site "$site" --warrant "$W1" --justification "e2e: check the sealed records" --json \
	> "$work/rec2.jsonl" 2>"$work/rec2.err" || { cat "$work/rec2.err"; die "records after the SIGTERM run"; }
n2=$(wc -l < "$work/rec2.jsonl")
[ $((n2 - before)) -eq "$expect" ] || die "SIGTERM run: sealed $((n2 - before)), sent $expect"
echo "ok   SIGTERM: all $expect records sealed"
