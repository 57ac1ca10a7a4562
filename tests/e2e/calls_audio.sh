#!/usr/bin/env bash
# calls_audio.sh - calls, audio and pcap end to end (docs/cmd-calls.md,
# cmd-audio.md, cmd-pcap.md, cmd-reindex.md):
#   mediator VoIP calls and broadband sessions (some RTP packets dropped on
#   the way, some ETSI sequence numbers skipped by the mediator) -> lacre
#   ingest -> `lacre calls` lists every call with the parties and times of
#   its SIP messages, the packets each way and the gaps -> `lacre audio`
#   writes WAVs equal sample for sample to the sent RTP decoded by an
#   independent Python decoder, tones at their frequency, the dropped packets
#   as silence and reported -> `lacre pcap` opens in tshark with the right
#   packet count -> the real OpenLI VoIP vector (two G.711 calls, 440/660 Hz)
#   through the same path.  Also: no justification, no access; the index is
#   0600 and `lacre reindex` gives the same answer.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d /tmp/lacre-e2e-calls-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
[ -x "$B/lacre" ] || { echo "FAIL: build/bin/lacre missing: run make (a test run needs the build)"; exit 1; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v tshark >/dev/null || die "tshark is not installed (scripts/deps installs it)"
ok() { echo "ok   $*"; }
L="$B/lacre"
V=$top/../shared/vectors/openli-a
[ -f "$V/raw/hi2.bin" ] || { echo "FAIL: vectors not found at $V: the shared test vectors are missing; check out the shared folder beside the source tree"; exit 1; }

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
W1=$(vault_warrant "$site" LIID0001 2026-11-01 2027-01-31 content,iri) || die "warrant LIID0001"
W2=$(vault_warrant "$site" LIID0002 2026-11-01 2027-01-31 content,iri) || die "warrant LIID0002"
WO=$(vault_warrant "$site" LIVOIP0001 2025-01-01 2025-03-31 content,iri) || die "warrant LIVOIP0001"
J=(--justification "Diligencias 12/2026: escucha de las llamadas intervenidas")

# 4 calls (LIID0001: µ-law and A-law) and 2 sessions (LIID0002), 12 s calls; with
# seed 30 one call's RTP sequence numbers cross 65535 -> 0 (checked below)
"$L-mediator" --output "$work/m" --targets 2 --calls 4 --sessions 2 --call-seconds 12 --seed 30 \
	--inject-gaps 2 --start-time 2026-11-28T10:00:00Z >/dev/null 2>&1 || die "mediator --output"
"$L" decode "$work/m.hi2" > "$work/m.d2" || die "decode hi2"
"$L" decode --content "$work/m.hi3" > "$work/m.d3" || die "decode hi3"
# lose RTP on the way: 5 consecutive packets from the target and 1 to it, in the first call
python3 - "$work" <<'PY' || die "dropping packets"
import json, sys
w = sys.argv[1]
d3 = [json.loads(l) for l in open(f'{w}/m.d3')]
cc = [d for d in d3 if d.get('content') == 'ipmmcc']
cin = cc[0]['cin']
fr = [d for d in cc if d['cin'] == cin and d['direction'] == 'from-target']
to = [d for d in cc if d['cin'] == cin and d['direction'] == 'to-target']
drop = {d['offset'] for d in fr[40:45]} | {to[60]['offset']}
data = open(f'{w}/m.hi3', 'rb').read()
out = bytearray()
for d in d3:
    if d['offset'] not in drop:
        out += data[d['offset']:d['offset'] + d['length']]
open(f'{w}/s.hi3', 'wb').write(out)
json.dump({'cin': cin, 'from': 5, 'to': 1}, open(f'{w}/dropped.json', 'w'))
PY
"$L" decode --content "$work/s.hi3" > "$work/s.d3" || die "decode sent hi3"
wraps=$(python3 -c '
import json, sys
s = {}
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d.get("rtp"):
        s.setdefault((d["cin"], d["direction"]), []).append(d["rtp"]["seq"])
print(sum(1 for v in s.values() for a, b in zip(v, v[1:]) if b < a))' "$work/s.d3")
[ "$wraps" -ge 1 ] || die "no RTP stream crosses 65535 -> 0: choose another seed"

vault_ingest_start "$site" run1
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/m.hi2" "$work/s.hi3" || die "sending mediator streams"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$V/raw/hi2.bin" "$V/raw/hi3.bin" || die "sending the OpenLI vector"
vault_ingest_stop run1

# no justification, no access (and nothing printed)
expect_exit 2 "calls needs --justification TEXT" "$L" calls --warrant "$W1" || die "calls without --justification"
expect_no_output || die "calls printed something without --justification"
ok "calls without --justification is refused (exit 2)"
[ -e "$site/index.sqlite" ] && die "the index was built before the gate"

"$L" calls --warrant "$W1" --json "${J[@]}" > "$work/calls1.jsonl" 2>"$work/calls1.err" ||
	{ cat "$work/calls1.err"; die "calls $W1"; }
"$L" calls --warrant "$W2" --json "${J[@]}" > "$work/calls2.jsonl" 2>"$work/calls2.err" ||
	{ cat "$work/calls2.err"; die "calls $W2"; }
mode=$(stat -c %a "$site/index.sqlite")
[ "$mode" = 600 ] || die "index.sqlite has mode $mode"
ok "index.sqlite is mode 0600"

python3 - "$work" "$W1" <<'PY' || die "lacre calls does not match what was sent"
import collections, datetime, json, re, sys
w, w1 = sys.argv[1:3]
def us(s):
    d = datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + d.microsecond
d2 = [json.loads(l) for l in open(f'{w}/m.d2')]
d3 = [json.loads(l) for l in open(f'{w}/s.d3')]
drop = json.load(open(f'{w}/dropped.json'))
calls = [json.loads(l) for l in open(f'{w}/calls1.jsonl')]
sess = [json.loads(l) for l in open(f'{w}/calls2.jsonl')]
ok = True
def check(c, what):
    global ok
    print(('ok   ' if c else 'FAIL ') + what)
    ok = ok and c
def uri(sip, h):
    m = re.search(r'^' + h + r':[^<\r\n]*<([^>]*)>', sip, re.M)
    return m.group(1) if m else None
exp = {}
for d in d2:
    if d['liid'] != 'LIID0001' or d.get('content') != 'ipmmiri':
        continue
    e = exp.setdefault(d['sip_call_id'], {'cin': d['cin'], 'seqs': []})
    e['seqs'].append(d['seq'])
    if d['sip_first_line'].startswith('INVITE '):
        e['from'], e['to'], e['start'] = uri(d['sip'], 'From'), uri(d['sip'], 'To'), us(d['time'])
    if d['iri_type'] == 'end':
        e['end'] = us(d['time'])
check(len(calls) == len(exp) == 4, f'{len(calls)} calls listed, {len(exp)} sent')
by = {c['call_id']: c for c in calls}
for cid, e in exp.items():
    c = by.get(cid)
    if not c:
        check(False, f'call {cid} listed'); continue
    cc = [d for d in d3 if d.get('cin') == e['cin'] and d.get('content') == 'ipmmcc']
    nf = sum(d['direction'] == 'from-target' for d in cc)
    nt = sum(d['direction'] == 'to-target' for d in cc)
    ccs = sorted(d['seq'] for d in cc)
    cc_gaps = ccs[-1] - ccs[0] + 1 - len(set(ccs))
    iri_gaps = max(e['seqs']) - min(e['seqs']) + 1 - len(set(e['seqs']))
    rtp_gaps = drop['from'] + drop['to'] if e['cin'] == drop['cin'] else 0
    check(c['id'] == f"{w1}-{e['cin']}" and c['from'] == e['from'] and c['to'] == e['to'],
          f"{c['id']}: {c['from']} -> {c['to']} ({c['direction']}, {c['codec']})")
    check(c['duration_ms'] == (e['end'] - e['start']) // 1000 and us(c['start']) == e['start'],
          f"{c['id']}: start {c['start']}, duration {c['duration_ms']} ms as sent")
    check(c['rtp_from_target'] == nf and c['rtp_to_target'] == nt and not c['direction_labels_swapped'],
          f"{c['id']}: RTP {nf} from / {nt} to the target")
    check(c['iri_gaps'] == iri_gaps and c['cc_gaps'] == cc_gaps and c['rtp_gaps'] == rtp_gaps,
          f"{c['id']}: gaps IRI {c['iri_gaps']} CC {c['cc_gaps']} RTP {c['rtp_gaps']} (sent: {iri_gaps} {cc_gaps} {rtp_gaps})")
    check(c['complete'] == (iri_gaps + cc_gaps + rtp_gaps == 0) and c['bye'] and c['iri_end'],
          f"{c['id']}: complete={c['complete']} problems={c['problems']}")
    check(c['codec'] in ('PCMU', 'PCMA') and c['direction'] in ('target-calling', 'target-called'),
          f"{c['id']}: codec and direction known")
check(len(sess) == 2 and all(s['type'] == 'session' and s['target_ip'] and s['iri_end'] for s in sess),
      f'{len(sess)} broadband sessions with target IP and end')
ipcc = collections.Counter(d['cin'] for d in d3 if d.get('content') == 'ipcc')
check(sorted(s['packets'] for s in sess) == sorted(ipcc.values()), f'session packets {sorted(ipcc.values())}')
json.dump([c['id'] for c in calls], open(f'{w}/ids.json', 'w'))
sys.exit(0 if ok else 1)
PY

# audio: every call, sample-exact against the independent decoder
n_tone=0
for id in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$work/ids.json"); do
	cin=${id##*-}
	"$L" audio "$id" -o "$work/$id.wav" --json "${J[@]}" > "$work/$id.json" 2>"$work/$id.err" ||
		{ cat "$work/$id.err"; die "audio $id"; }
	ref=$(python3 "$top/tests/e2e/lib/wav_ref.py" "$work/$id.wav" "$work/s.d3" "$cin" label)
	python3 - "$ref" "$work/$id.json" "$work/dropped.json" "$cin" <<'PY' || die "audio $id does not match the sent RTP"
import json, sys
ref, rep, drop, cin = json.loads(sys.argv[1]), json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), int(sys.argv[4])
assert (ref['channels'], ref['rate'], ref['width']) == (2, 8000, 2), ref
assert ref['frames'] == ref['expected_frames'] and ref['mismatch_left'] == 0 and ref['mismatch_right'] == 0, ref
gl = [g['packets'] for g in rep['gaps'] if g['side'] == 'from-target']
gr = [g['packets'] for g in rep['gaps'] if g['side'] == 'to-target']
assert gl == ref['gaps_left'] and gr == ref['gaps_right'], (rep['gaps'], ref)
if cin == drop['cin']:
    assert gl == [drop['from']] and gr == [drop['to']], rep['gaps']
    assert all(g['silence_ms'] == 20 * g['packets'] for g in rep['gaps']), rep['gaps']
else:
    assert not rep['gaps'], rep['gaps']
print(f"ok   {rep['call']}: {ref['frames']} frames, left/right equal to the sent RTP sample for sample; gaps {gl} / {gr}")
PY
	[ $? -eq 0 ] || exit 1
	grep -q "gap" "$work/$id.err" && echo "     stderr: $(grep gap "$work/$id.err" | head -2 | tr '\n' ' ')"
	tone=$(python3 "$top/tests/e2e/lib/wav_tone.py" "$work/$id.wav")
	t=$(python3 -c '
import json, sys
t = json.loads(sys.argv[1]); n = 0
for ch in ("left", "right"):
    c = t[ch]
    if c["share"] > 0.9:
        assert c["freq"] in (350, 440, 660, 880, 1000, 1210, 1205), c
        n += 1
print(n)' "$tone") || die "audio $id: a pure tone is off its frequency: $tone"
	n_tone=$((n_tone + t))
	echo "     $tone"
done
[ "$n_tone" -ge 1 ] || die "no channel carried a pure tone (choose another seed)"
ok "$n_tone channels carry a pure tone at one of the mediator's frequencies; $wraps RTP stream(s) crossed 65535 -> 0"

# the plan each call's first audio stored in the index (docs/cmd-audio.md
# "The stored plan"): the second audio uses it and writes the same bytes;
# a stored plan that does not match the rows fails (exit 1), nothing is
# renamed into place; without it the call is planned in full again
for id in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$work/ids.json"); do
	LACRE_KEEPER=off LACRE_AUDIO_TIMING=1 "$L" audio "$id" -o "$work/$id-2.wav" "${J[@]}" 2>"$work/$id-2.err" ||
		{ cat "$work/$id-2.err"; die "audio $id (again)"; }
	grep -q "audio timing: stored-plan" "$work/$id-2.err" || die "audio $id: the second run did not use the stored plan"
	cmp -s "$work/$id.wav" "$work/$id-2.wav" || die "audio $id: the stored plan gave another file"
done
n_plans=$(sqlite3 "$site/index.sqlite" "SELECT count(*) FROM audio_plans")
[ "$n_plans" -ge 1 ] || die "no audio plan stored"
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0])' "$work/ids.json")
sqlite3 "$site/index.sqlite" "UPDATE audio_plan_segments SET chunks = zeroblob(length(chunks)) WHERE call = '$id'" ||
	die "sqlite3: cannot alter the plan of $id"
expect_exit 1 "the index failed while the audio was written: rebuild it with 'lacre reindex'" \
	"$L" audio "$id" -o "$work/$id-bad.wav" "${J[@]}" || die "audio $id with a plan that does not match its rows"
[ ! -e "$work/$id-bad.wav" ] && [ ! -e "$work/$id-bad.wav.part" ] || die "audio $id: a file is left after the failure"
sqlite3 "$site/index.sqlite" "DELETE FROM audio_plans WHERE call = '$id'" || die "sqlite3: cannot delete the plan of $id"
"$L" audio "$id" -o "$work/$id-3.wav" "${J[@]}" 2>/dev/null || die "audio $id without its plan"
cmp -s "$work/$id.wav" "$work/$id-3.wav" || die "audio $id planned again gave another file"
ok "$n_plans stored audio plans: the second audio of each call the same bytes; a plan not matching its rows refused (exit 1), then planned again without it"

# pcap: tshark opens it; the packet count is the CC count
"$L" pcap --warrant "$W1" -o "$work/w1.pcap" "${J[@]}" 2>"$work/pcap.err" || { cat "$work/pcap.err"; die "pcap"; }
np=$(tshark -r "$work/w1.pcap" 2>/dev/null | wc -l)
ncc=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("liid") == "LIID0001" and json.loads(l).get("kind") == "cc"))' "$work/s.d3")
[ "$np" -gt 0 ] && [ "$np" = "$ncc" ] || die "pcap: tshark reads $np packets, $ncc CC records sent"
ok "pcap of $W1: tshark reads $np packets = CC records sent"
dcin=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cin"])' "$work/dropped.json")
"$L" pcap --warrant "$W1" --cin "$dcin" -o "$work/c.pcap" "${J[@]}" 2>/dev/null || die "pcap --cin"
np=$(tshark -r "$work/c.pcap" 2>/dev/null | wc -l)
nexp=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l).get("cin") == int(sys.argv[2]) and json.loads(l).get("kind") == "cc"))' "$work/s.d3" "$dcin")
[ "$np" = "$nexp" ] || die "pcap --cin $dcin: $np packets, expected $nexp"
lost=$(tshark -r "$work/c.pcap" -q -z rtp,streams -o rtp.heuristic_rtp:TRUE 2>/dev/null | python3 -c '
import sys
n = 0
for l in sys.stdin:
    t = l.split()
    for i, x in enumerate(t):
        if x.startswith("g711"):
            n += int(t[i + 2])
print(n)')
[ "$lost" = 6 ] || die "pcap --cin $dcin: tshark RTP analysis counts $lost lost packets, 6 were dropped"
ok "pcap --cin $dcin: $np packets; tshark's RTP analysis counts the $lost packets dropped on the way"
"$L" pcap --warrant "$W2" -o "$work/w2.pcap" "${J[@]}" 2>/dev/null || die "pcap sessions"
np=$(tshark -r "$work/w2.pcap" -Y ip 2>/dev/null | wc -l)
[ "$np" = 40 ] || die "pcap of the sessions: tshark reads $np IP packets, expected 40"
ok "pcap of $W2 (IPCC): $np IP packets"

# reindex gives the same answer
"$L" reindex --warrant "$W1" "${J[@]}" 2>/dev/null || die "reindex"
"$L" calls --warrant "$W1" --json "${J[@]}" 2>/dev/null > "$work/calls1b.jsonl" || die "calls after reindex"
cmp -s "$work/calls1.jsonl" "$work/calls1b.jsonl" || die "calls differ after reindex"
ok "lacre reindex: the same calls"

# the real OpenLI vector: two µ-law calls of alice@example.net
"$L" calls --warrant "$WO" --json "${J[@]}" > "$work/co.jsonl" 2>/dev/null || die "calls $WO"
"$L" decode --content "$V/raw/hi3.bin" > "$work/o.d3" || die "decode OpenLI hi3"
python3 - "$work/co.jsonl" <<'PY' || die "OpenLI calls"
import json, sys
c = [json.loads(l) for l in open(sys.argv[1])]
assert len(c) == 2, c
a, b = c
assert (a['from'], a['to'], a['direction'], a['duration_ms']) == ('sip:bob@example.net', 'sip:alice@example.net', 'target-called', 3150), a
assert (b['from'], b['to'], b['direction'], b['duration_ms']) == ('sip:alice@example.net', 'sip:carol@example.net', 'target-calling', 1942), b
assert a['call_id'] == '3c26700b5f8e-7f1a@10.1.1.20' and b['call_id'] == 'a84b4c76e66710@10.1.1.10'
assert (a['rtp_from_target'], a['rtp_to_target'], b['rtp_from_target'], b['rtp_to_target']) == (100, 100, 50, 50)
assert a['complete'] and b['complete'] and a['codec'] == b['codec'] == 'PCMU'
# OpenLI labels call 1's RTP by "who sent the INVITE": lacre notices
assert a['direction_labels_swapped'] and not b['direction_labels_swapped']
print('ok   OpenLI: 2 calls, bob -> alice (target called, 3.150 s) and alice -> carol (target calling, 1.942 s), 100+100 and 50+50 RTP; call 1 direction labels found swapped')
PY
[ $? -eq 0 ] || exit 1
for id in $(python3 -c 'import json,sys; print(" ".join(json.loads(l)["id"] for l in open(sys.argv[1])))' "$work/co.jsonl"); do
	"$L" audio "$id" -o "$work/o-$id.wav" "${J[@]}" 2>/dev/null || die "audio $id"
	ref=$(python3 "$top/tests/e2e/lib/wav_ref.py" "$work/o-$id.wav" "$work/o.d3" "${id##*-}" src=10.1.1.10)
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["mismatch_left"] == r["mismatch_right"] == 0 and r["frames"] == r["expected_frames"], r' "$ref" ||
		die "OpenLI $id: WAV differs from the independent decode: $ref"
	echo "ok   OpenLI $id: sample-exact (left = alice 10.1.1.10, the target)"
done
first=$(head -1 "$work/co.jsonl" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
tone=$(python3 "$top/tests/e2e/lib/wav_tone.py" "$work/o-$first.wav")
python3 -c 'import json,sys; t=json.loads(sys.argv[1]); assert t["left"]["freq"] == 440 and t["right"]["freq"] == 660 and t["left"]["share"] > 0.9 and t["right"]["share"] > 0.9, t' "$tone" ||
	die "OpenLI call 1: expected 440 Hz from alice (left) and 660 Hz from bob (right): $tone"
ok "OpenLI call 1: left (alice, the target) 440 Hz, right (bob) 660 Hz: $tone"
# crypto-shredding takes the index's metadata too
n2=$(sqlite3 "$site/index.sqlite" "SELECT count(*) FROM records WHERE warrant = '$W2'")
[ "$n2" -gt 0 ] || die "no index rows for $W2 before the shred"
"$L" warrant cease "$W2" --order CESE-2 --order-date 2026-11-27 --at 2026-11-27 --user "$CLERK_KEY" >/dev/null ||
	die "cease $W2"
"$L" shred request --warrant "$W2" --order AUTO-DESTR-9/2031 --order-date 2026-11-27 --user "$SUP_KEY" "${J[@]}" \
	> "$work/sh.out" 2>&1 || { cat "$work/sh.out"; die "shred request"; }
"$L" shred approve "$(grep -o 'S-[0-9]*' "$work/sh.out" | head -1)" --user "$CLERK_KEY" "${J[@]}" >/dev/null 2>&1 ||
	die "shred approve"
n2=$(sqlite3 "$site/index.sqlite" "SELECT (SELECT count(*) FROM records WHERE warrant = '$W2') + (SELECT count(*) FROM calls WHERE warrant = '$W2')")
[ "$n2" = 0 ] || die "$n2 index rows of $W2 survive 'lacre shred approve' itself"
expect_exit 1 "warrant $W2 was shredded by order AUTO-DESTR-9/2031" "$L" calls --warrant "$W2" --json "${J[@]}" ||
	die "calls after the shred"
expect_no_output || die "calls printed something after the shred"
n2=$(sqlite3 "$site/index.sqlite" "SELECT (SELECT count(*) FROM records WHERE warrant = '$W2') + (SELECT count(*) FROM calls WHERE warrant = '$W2') + (SELECT count(*) FROM segments WHERE warrant = '$W2')")
[ "$n2" = 0 ] || die "$n2 index rows of $W2 survive its shred"
ok "after the shred of $W2: calls refused with the order, its index rows deleted"
echo "calls, audio and pcap end to end ok"
