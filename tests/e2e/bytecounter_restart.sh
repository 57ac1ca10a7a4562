#!/usr/bin/env bash
# bytecounter_restart.sh - the byteCounter chain across a receiver restart
# (issue 12; docs/FORMATS.md §12 section BCTR): the real OpenLI 1.1.20
# capture of set C (../shared/vectors/openli-c, every payload encrypted,
# each carrying its byteCounter) cut in two halves at a PDU boundary, each
# handover on its own.
#   Site 1: the first half, a clean stop (SIGTERM), a restart, the second
#   half: the chains continue: no byteCounter break, gap or restart in
#   either run (--stats), no such event sealed; the state file carries the
#   BCTR section.
#   Site 2: the same, but the first PDU of LIC-VOIP-GRACE on HI3 in the
#   second half is withheld: the second run reports a break or gap naming
#   exactly that PDU's bytes (its byteCounter count .. count + length).
#   Site 3: the first half, kill -9 once the state is written, a restart,
#   the second half: the restart names every chain's bytes the crash may
#   have lost (--stats bytecounter_unkept_*: 6 chains, all the first half's
#   bytes), and those alerts are sealed as events (as are the sequence
#   unkept-at-restart ones); the chains continue (no break/gap).
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-bctr-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
[ -x "$B/lacre" ] || die "build/bin/lacre not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"

mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/opc.hex"
chmod 600 "$work/hkeys/opc.hex"
for h in hi2 hi3; do
	"$B/lacre" decode --key "$work/hkeys/opc.hex" "$vec/raw/$h.bin" > "$work/d.$h.jsonl" || die "decode $h"
done

# the halves: a.hiN (first), b.hiN (second), w.hi3 (second, one PDU withheld);
# withheld.json names that PDU's byteCounter bytes
python3 - "$work" "$vec" <<'PY' || die "cutting the capture"
import json, sys
work, vec = sys.argv[1:3]
for h in ('hi2', 'hi3'):
    data = open(f'{vec}/raw/{h}.bin', 'rb').read()
    pdus = [json.loads(l) for l in open(f'{work}/d.{h}.jsonl')]
    mid = pdus[len(pdus) // 2]['offset']
    open(f'{work}/a.{h}', 'wb').write(data[:mid])
    with open(f'{work}/a.bytes', 'a') as f:
        f.write(' '.join(str(d['length']) for d in pdus
                         if d['offset'] < mid and d.get('encryption', {}).get('decrypted')) + '\n')
    open(f'{work}/b.{h}', 'wb').write(data[mid:])
    if h != 'hi3':
        continue
    w = next(d for d in pdus if d['offset'] >= mid and d['liid'] == 'LIC-VOIP-GRACE'
             and d.get('encryption', {}).get('decrypted'))
    b = data[mid:w['offset']] + data[w['offset'] + w['length']:]
    open(f'{work}/w.{h}', 'wb').write(b)
    c = w['encryption']['byte_counter_count']
    json.dump({'liid': w['liid'], 'seq': w['seq'], 'kind': w['kind'], 'from': c, 'to': c + w['length']},
              open(f'{work}/withheld.json', 'w'))
    print(f'cut: hi3 at offset {mid} of {len(data)}; withheld {w["kind"]} seq {w["seq"]} of {w["liid"]}, '
          f'bytes {c}..{c + w["length"]}')
PY

# run SITE NAME HI2FILE HI3FILE: one receiver run over the two files, stopped cleanly
run() {
	vault_ingest_start "$1" "$2" --set "handover.key_dir=$work/hkeys" \
		--set "handover.keys=opC-telco opc.hex" --stats "$work/stats-$2.json"
	python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$3" "$4" || die "sending ($2)"
	vault_ingest_stop "$2"
	IPID=
}

# events SITE OUT: every event record the site sealed, one JSON a line
events() {
	"$B/lacre" quarantine --site "$1" --user "$CLERK_KEY" --justification "e2e: oversight" --events --json \
		> "$2" 2>"$2.err" || { cat "$2.err"; die "quarantine $1"; }
}

site1=$work/site1
vault_init "$site1"
run "$site1" s1a "$work/a.hi2" "$work/a.hi3"
grep -q "BCTR" "$site1/state/streams.state" || die "the state file has no byteCounter section after a clean stop"
echo "ok   the state file carries the byteCounter section"
run "$site1" s1b "$work/b.hi2" "$work/b.hi3"
events "$site1" "$work/ev1.jsonl"

site2=$work/site2
vault_init "$site2"
run "$site2" s2a "$work/a.hi2" "$work/a.hi3"
run "$site2" s2b "$work/b.hi2" "$work/w.hi3"
events "$site2" "$work/ev2.jsonl"

# site 3: a crash (kill -9) after the first half, once the state file was
# written (every 250 ms) but before a durability mark covers it (they lag
# segment.max_age + flush + 1 s), then the second half
site3=$work/site3
vault_init "$site3"
vault_ingest_start "$site3" s3a --set "handover.key_dir=$work/hkeys" --set "handover.keys=opC-telco opc.hex" \
	--set "segment.max_age=60s"   # no durability mark before the crash
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/a.hi2" "$work/a.hi3" || die "sending (s3a)"
sleep 1
kill -9 "$IPID"; wait "$IPID" 2>/dev/null; IPID=
run "$site3" s3b "$work/b.hi2" "$work/b.hi3"
events "$site3" "$work/ev3.jsonl"

python3 - "$work" <<'PY' || die "the byteCounter chain across a restart is not as expected"
import json, sys
work = sys.argv[1]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
def stats(n): return json.load(open(f'{work}/stats-{n}.json'))['encryption']
def evs(p):
    out = []
    for l in open(p):
        r = json.loads(l)
        e = r.get('event')
        if isinstance(e, str):
            try: e = json.loads(e)
            except ValueError: e = None
        if isinstance(e, dict) and str(e.get('event', '')).startswith('bytecounter'):
            out.append(e)
    return out
for n in ('s1a', 's1b'):
    e = stats(n)
    check(e['decrypted'] > 0 and e['bytecounter_breaks'] == 0 and e['bytecounter_gaps'] == 0
          and e['bytecounter_restarts'] == 0,
          f'site 1 run {n}: {e["decrypted"]} decrypted, byteCounter {e["bytecounter_breaks"]} breaks, '
          f'{e["bytecounter_gaps"]} gaps, {e["bytecounter_restarts"]} restarts, {e.get("bytecounter_open")} open at stop')
ev1 = evs(f'{work}/ev1.jsonl')
allev1 = sum(1 for l in open(f'{work}/ev1.jsonl') if json.loads(l).get('kind') == 'event')
check(allev1 > 0, f'site 1: {allev1} accounting events listed (the listing is not empty)')
bad1 = [e for e in ev1 if e['event'] in ('bytecounter-break', 'bytecounter-gap', 'bytecounter-restart',
                                          'bytecounter-unkept-at-restart')]
check(not bad1, f'site 1: no byteCounter break, gap, restart or unkept event sealed (got {bad1[:3]})')
wh = json.load(open(f'{work}/withheld.json'))
e = stats('s2b')
check(e['bytecounter_breaks'] + e['bytecounter_gaps'] == 1 and e['bytecounter_restarts'] == 0,
      f'site 2, one PDU withheld across the restart: {e["bytecounter_breaks"]} breaks + {e["bytecounter_gaps"]} gaps '
      f'(want 1), {e["bytecounter_restarts"]} restarts')
ev2 = evs(f'{work}/ev2.jsonl')
named = [x for x in ev2 if x.get('liid') == wh['liid'] and x.get('alert') and
         ((x['event'] == 'bytecounter-break' and x.get('complete_to') == wh['from'] and x.get('got') == wh['to']) or
          (x['event'] == 'bytecounter-gap' and x.get('from') == wh['from'] and x.get('to') == wh['to']))]
check(len(named) == 1,
      f'site 2: one alerted byteCounter break/gap of {wh["liid"]} names bytes {wh["from"]}..{wh["to"]} '
      f'(the withheld {wh["kind"]} seq {wh["seq"]}); byteCounter events: {[(x["event"], x.get("from", x.get("complete_to")), x.get("to", x.get("got"))) for x in ev2]}')
# the crash: what may be lost is named per chain, the chains still continue
e = stats('s3b')
check(e['decrypted'] > 0 and e['bytecounter_breaks'] == 0 and e['bytecounter_gaps'] == 0
      and e['bytecounter_restarts'] == 0,
      f'site 3 after kill -9: byteCounter {e["bytecounter_breaks"]} breaks, {e["bytecounter_gaps"]} gaps, '
      f'{e["bytecounter_restarts"]} restarts (the chains continue from the saved state)')
# every chain of the first half (3 LIIDs on 2 handovers) may have lost
# bytes: the crash came before any durability mark covered them, so the
# bytes named are all those the first half carried (a superset of the loss)
full = json.load(open(f'{work}/stats-s3b.json'))
half = sum(int(x) for x in open(f'{work}/a.bytes').read().split())
check(full['bytecounter_unkept_at_restart'] == 6 and
      full['bytecounter_unkept_bytes_at_restart'] == half,
      f'site 3: {full["bytecounter_unkept_at_restart"]} chains named possibly lost by the crash (want 6), '
      f'{full["bytecounter_unkept_bytes_at_restart"]} byteCounter bytes (want {half}: the first half, keep-alives aside); '
      f'sequence numbers: {full["unkept_numbers_at_restart"]}')
# ... and the start's alerts are sealed as events (they were emitted before
# the sink opened), byteCounter and sequence alike
ev3 = evs(f'{work}/ev3.jsonl')
unk = [x for x in ev3 if x['event'] == 'bytecounter-unkept-at-restart']
check(len(unk) == 6 and len({(x['listener'], x['liid']) for x in unk}) == 6 and
      all(x.get('alert') is True and x['from'] == 0 for x in unk) and sum(x['to'] - x['from'] for x in unk) == half,
      f'site 3: 6 bytecounter-unkept-at-restart alert events sealed, one per chain, from 0 to its top: '
      f'{sorted((x["listener"], x["liid"], x["to"]) for x in unk)}')
seq = 0
for l in open(f'{work}/ev3.jsonl'):
    e = json.loads(l).get('event')
    if isinstance(e, str) and json.loads(e).get('event') == 'unkept-at-restart':
        seq += 1
check(seq == full['unkept_at_restart'] and seq > 0,
      f'site 3: {seq} sequence unkept-at-restart events sealed (--stats counts {full["unkept_at_restart"]})')
sys.exit(0 if ok else 1)
PY
echo "ok"
