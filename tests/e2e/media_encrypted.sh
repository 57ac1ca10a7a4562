#!/usr/bin/env bash
# media_encrypted.sh - the decrypted payload everywhere after intake (issue
# 12): the real OpenLI 1.1.20 capture of set C (../shared/vectors/openli-c:
# every IRI, CC and integrity payload AES-192-CBC encrypted; a VoIP target
# with two G.711 calls, an EPS mobile target) ingested with the handover
# key configured.  After intake no reader holds the key: each decodes the
# pre-encryption form the receiver sealed beside the PDU (frame record
# version 2, docs/FORMATS.md §3.2).
#   - records --json: "decrypted":true and the decoded plaintext; the EPS
#     warrant with categories `iri` holds the IRIs without a location
#     field only (the rest quarantined category-not-authorised);
#   - calls lists both VoIP calls; audio gives each call's WAV with its two
#     tones (425/950 Hz PCMU, 1336/697 Hz PCMA: README of the set); pcap
#     reads in tshark (the VoIP warrant's RTP and the EPS target's packets);
#   - export -> lacre-verify: VERIFIED, every decrypted record's
#     pre-encryption form checked against its PDU; --extract writes per
#     call a WAV of each direction with the right tone, a pcap tshark reads,
#     the records' decoded JSON, and a report tying each file to the
#     commitments in the signed ingest log;
#   - a party copy without one RTP record of call 1 verifies and extracts,
#     the excluded packet as silence, reported;
#   - a tampered package (one byte of a pre-encryption form changed and the
#     package re-sealed to the court) -> exit 3, nothing extracted; an
#     extraction into a folder that exists -> exit 1, nothing written.
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-media-enc-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
command -v tshark >/dev/null || die "tshark is not installed (scripts/deps installs it)"
command -v age-keygen >/dev/null || die "age-keygen is not installed (scripts/deps installs age)"
[ -x "$B/lacre" ] && [ -x "$B/lacre-verify" ] || die "build/bin not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"
ok() { echo "ok   $*"; }
L="$B/lacre"
V="$B/lacre-verify"
J=(--justification "e2e: decrypted content after intake")

mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/opc.hex"
chmod 600 "$work/hkeys/opc.hex"

site=$work/site
vault_init "$site"
export LACRE_SITE=$site
WV=$(vault_warrant "$site" LIC-VOIP-GRACE 2025-06-01 2025-06-30 content,iri) || die "warrant VoIP"
WE=$(vault_warrant "$site" LIC-MOBILE-EPS 2026-11-01 2027-01-31 iri) || die "warrant EPS"
vault_ingest_start "$site" run1 --set "handover.key_dir=$work/hkeys" --set "handover.keys=opC-telco opc.hex"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$vec/raw/hi2.bin" "$vec/raw/hi3.bin" ||
	die "sending"
vault_ingest_stop run1
# the key is gone from here on: nothing below may need it
rm -rf "$work/hkeys"

for w in "$WV" "$WE"; do
	"$L" records --warrant "$w" --json "${J[@]}" > "$work/rec-$w.jsonl" 2>"$work/rec.err" ||
		{ cat "$work/rec.err"; die "records $w"; }
done
n=$("$L" records --warrant "$WV" "${J[@]}" 2>/dev/null | grep -c ' decrypted$')
[ "$n" -eq 264 ] || die "records (text): $n lines end in 'decrypted', want 264"
echo "ok   records (text): the 264 VoIP records say 'decrypted'"
export LACRE_USER=$CLERK_KEY
"$L" quarantine --json "${J[@]}" > "$work/q.jsonl" 2>"$work/q.err" || { cat "$work/q.err"; die "quarantine"; }
export LACRE_USER=$INV_KEY
tool="python3 $top/tests/e2e/lib/pkg_tool.py"

# ---- records --json: decrypted, the plaintext decoded; EPS iri-only warrant
python3 - "$work" "$vec" "$WV" "$WE" <<'PY' || die "records --json of the decrypted records not as expected"
import base64, collections, json, sys
work, vec, wv, we = sys.argv[1:5]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
load = lambda p: [json.loads(l) for l in open(p)]
exp = {}
for h in ('hi2', 'hi3'):
    data = open(f'{vec}/raw/{h}.bin', 'rb').read()
    for d in load(f'{vec}/expected-{h}.jsonl'):
        exp[data[d['offset']:d['offset'] + d['length']]] = d
rv, re_ = load(f'{work}/rec-{wv}.jsonl'), load(f'{work}/rec-{we}.jsonl')
q = [r for r in load(f'{work}/q.jsonl') if r.get('reason') != 'event']
allr = rv + re_ + q
check(len(allr) > 0 and all(r.get('decrypted') is True and 'decoded' in r for r in allr),
      f'every one of the {len(allr)} records (warrants and quarantine) says "decrypted":true and carries "decoded"')
check(all('operator' in r for r in allr), 'every record has an "operator" key')
bad = []
for r in allr:
    e, d = exp[base64.b64decode(r['pdu'])], r['decoded']
    for k in ('liid', 'cin', 'seq', 'kind', 'iri_type', 'content'):
        if d.get(k) != e.get(k):
            bad.append((r['seq'], k, d.get(k), e.get(k)))
    if not d.get('encryption', {}).get('decrypted') or d['encryption'].get('type') != 'aes-192-cbc':
        bad.append((r['seq'], 'encryption', d.get('encryption'), 'aes-192-cbc decrypted'))
check(not bad, f'the decoded plaintext of every record equals expected-hi2/hi3.jsonl '
      f'(liid, cin, seq, kind, iri_type, content){": " + str(bad[:3]) if bad else ""}')
kinds = collections.Counter((r['kind'], r['decoded']['content']) for r in rv)
check(kinds[('cc', 'ipmmcc')] == 250 and kinds[('iri', 'ipmmiri')] == 14,
      f'VoIP warrant: 250 iPMMCC (RTP) and 14 iPMMIRI (SIP) records decoded (got {dict(kinds)})')
sip = [r['decoded'].get('sip', {}) for r in rv if r['kind'] == 'iri']
check(any('c1-7d3f9a2e@10.60.2.21' in json.dumps(s) for s in sip),
      'the SIP of call 1 (Call-ID c1-7d3f9a2e@10.60.2.21) is in the decoded IRIs')
# EPS target, categories iri: only what carries no location; the rest quarantined
eps_q = [r for r in q if r['liid'] == 'LIC-MOBILE-EPS']
eps_iri_w = [r for r in re_ if r['kind'] == 'iri']
# set C: each of the 3 EPS IRIs carries a ULI (a location), so the iri-only
# warrant holds none of them, only the EPS integrity PDUs of HI2
check(len(eps_iri_w) == 0 and len(re_) == 3 and
      all(r['listener'] == 'hi2' and r['kind'] == 'integrity-check' for r in re_),
      f'EPS warrant (iri): no IRI with a location ({len(eps_iri_w)} IRIs), its {len(re_)} HI2 integrity PDUs')
loc = [r for r in eps_q if r['kind'] == 'iri']
check(len(loc) == 3 and all(r['reason'] == 'category-not-authorised' for r in eps_q) and
      all(r['decoded'].get('mobile', {}).get('uli') or r['decoded'].get('location') for r in loc),
      f'EPS: the {len(loc)} IRIs with a location and every CC ({sum(1 for r in eps_q if r["kind"] == "cc")}) '
      f'quarantined category-not-authorised ({len(eps_q)} in all)')
sys.exit(0 if ok else 1)
PY

# ---- calls, audio, pcap on the decrypted CC
"$L" calls --warrant "$WV" --json "${J[@]}" > "$work/calls.jsonl" 2>"$work/calls.err" ||
	{ cat "$work/calls.err"; die "calls"; }
python3 - "$work/calls.jsonl" <<'PY' || die "calls on the decrypted deliveries not as expected"
import json, sys
c = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda c: c['start'])
want = [('c1-7d3f9a2e@10.60.2.21', 'PCMU', 75, 75), ('5e1b0c77-c2@172.21.0.9', 'PCMA', 50, 50)]
got = [(x['call_id'], x['codec'], x['rtp_from_target'], x['rtp_to_target']) for x in c]
print(('ok   ' if got == want else 'FAIL ') + f'calls: both calls, codec and RTP each way: {got}')
sys.exit(0 if got == want and all(x['complete'] for x in c) else 1)
PY
python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1])]' "$work/calls.jsonl" \
	> "$work/call-ids"
[ "$(wc -l < "$work/call-ids")" -eq 2 ] || die "two call ids"
for id in $(cat "$work/call-ids"); do
	"$L" audio "$id" -o "$work/$id.wav" "${J[@]}" 2>"$work/audio.err" || { cat "$work/audio.err"; die "audio $id"; }
	python3 "$top/tests/e2e/lib/wav_tone.py" "$work/$id.wav" 0.2 > "$work/$id.tone" || die "wav_tone $id"
done
python3 - "$work" $(cat "$work/call-ids") <<'PY' || die "the calls' WAVs do not carry their tones"
import json, sys
work, ids = sys.argv[1], sys.argv[2:]
# set C README: call 1 grace 425 Hz / far 950 Hz; call 2 grace 1336 Hz / far 697 Hz;
# lacre audio: left = from the target, right = to the target
want = [(425, 950), (1336, 697)]
ok = True
for id, (l, r) in zip(sorted(ids, key=lambda i: json.load(open(f'{work}/{i}.tone'))['frames'], reverse=True), want):
    t = json.load(open(f'{work}/{id}.tone'))
    good = (abs(t['left']['freq'] - l) <= 10 and abs(t['right']['freq'] - r) <= 10 and
            t['left']['rms'] > 3000 and t['right']['rms'] > 3000)
    print(('ok   ' if good else 'FAIL ') + f'audio {id}: left {t["left"]["freq"]} Hz (want {l}), '
          f'right {t["right"]["freq"]} Hz (want {r}), rms {t["left"]["rms"]}/{t["right"]["rms"]}')
    ok = ok and good
sys.exit(0 if ok else 1)
PY
"$L" pcap --warrant "$WV" -o "$work/v.pcap" "${J[@]}" 2>"$work/pcap.err" || { cat "$work/pcap.err"; die "pcap"; }
n=$(tshark -r "$work/v.pcap" -Y 'udp && ip.addr == 10.60.2.21' 2>/dev/null | wc -l)
[ "$n" -eq 250 ] || die "pcap: tshark reads $n UDP packets of the target's RTP, want 250"
ok "pcap: tshark reads the 250 decrypted RTP packets (10.60.2.21, both calls)"

# ---- export -> lacre-verify -> --extract
export LACRE_USER=$CLERK_KEY
age-keygen -o "$work/court.key" 2>/dev/null || die "age-keygen"
R=$(grep -o 'age1[a-z0-9]*' "$work/court.key")
LOGV=$site/ledger/ingest/vkey
"$L" export --warrant "$WV" --recipient "$R" -o "$work/v.age" "${J[@]}" > /dev/null 2>"$work/exp.err" ||
	{ cat "$work/exp.err"; die "export"; }
EXV=$site/ledger/export.vkey
age -d -i "$work/court.key" -o "$work/v.plain" "$work/v.age" || die "age -d"
npre=$($tool list "$work/v.plain" | grep -c ' records/[0-9]*\.pre$')
[ "$npre" -eq 264 ] || die "the package carries $npre pre-encryption forms, want 264 (one per record)"
ok "the package carries records/<n>.pre beside each of the 264 PDUs"
"$V" "$work/v.age" -i "$work/court.key" --log-vkey "$LOGV" --export-vkey "$EXV" --extract "$work/x" \
	> "$work/v.txt" 2>"$work/v.err"
rc=$?
[ $rc -eq 0 ] || { cat "$work/v.txt" "$work/v.err"; die "lacre-verify --extract: exit $rc"; }
grep -q '^VERIFIED' "$work/v.txt" && grep -q '^decrypted 264 records were encrypted in transit' "$work/v.txt" ||
	{ cat "$work/v.txt"; die "lacre-verify: not VERIFIED with 264 decrypted records"; }
grep -q '^extracted .*: 264 records (264 decrypted' "$work/v.txt" || { cat "$work/v.txt"; die "extract summary"; }
ok "lacre-verify: VERIFIED, 264 pre-encryption forms checked, extracted"
[ "$(stat -c %a "$work/x")" = 700 ] || die "the extraction folder is not 0700"
python3 - "$work/x" "$work/v.plain" "$top" <<'PY' || die "the extraction is not as expected"
import glob, json, os, subprocess, sys
x, plain, top = sys.argv[1:4]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
def tone(p):
    return json.loads(subprocess.run(['python3', top + '/tests/e2e/lib/wav_tone.py', p, '0.2'],
                                     capture_output=True, text=True, check=True).stdout)
# per call (folder LIID-CIN) a WAV of each direction: the README's tones
calls = sorted(d for d in os.listdir(x) if os.path.isdir(os.path.join(x, d)))
check(len(calls) == 2, f'two call folders: {calls}')
want = {'6a1c0001': 425, '7b2d0002': 950, '6a1c0003': 1336, '7b2d0004': 697}
got = {}
for w in glob.glob(x + '/*/*.wav'):
    t = tone(w)
    got[os.path.basename(w)[-12:-4]] = (t['left']['freq'], t['left']['rms'], t['channels'], os.path.basename(w))
for ssrc, f in want.items():
    g = got.get(ssrc)
    check(g is not None and abs(g[0] - f) <= 10 and g[1] > 3000 and g[2] == 1,
          f'WAV of SSRC {ssrc}: {g and g[3]} {g and g[0]} Hz (want {f}), rms {g and g[1]}')
check(len(got) == 4, f'four WAVs, one per call direction (got {len(got)})')
# a pcap per call that tshark reads
for d in calls:
    p = os.path.join(x, d, 'content.pcap')
    out = subprocess.run(['tshark', '-r', p, '-T', 'fields', '-e', 'udp.srcport'],
                         capture_output=True, text=True)
    n = len([l for l in out.stdout.splitlines() if l.strip()])
    check(out.returncode == 0 and n in (100, 150), f'{d}/content.pcap: tshark reads {n} UDP packets')
# records.jsonl: re-derived, and equal to the package's verified records.jsonl
mine = open(x + '/records.jsonl', 'rb').read().splitlines()
pkg = subprocess.run(['python3', top + '/tests/e2e/lib/pkg_tool.py', 'get', plain, 'records.jsonl'],
                     capture_output=True, check=True).stdout.splitlines()
strip = lambda l: {k: v for k, v in json.loads(l).items() if k not in ('segment', 'index')}
check(len(mine) == 264 and [strip(l) for l in mine] == [strip(l) for l in pkg],
      f'records.jsonl: {len(mine)} lines, each the verified record JSON (decoded plaintext included)')
txt = open(x + '/extract.txt').read().splitlines()
recl = [l for l in txt if l.startswith('record ')]
check(len(recl) == 264 and all('decrypted: the plaintext is the pre-encryption form in the frame, '
                                'covered by this commitment in the signed ingest log' in l for l in recl),
      f'extract.txt: {len(recl)} record lines, each saying its plaintext is covered by its commitment')
check(txt[0] == 'lacre-extract/v1' and sum(1 for l in txt if l.startswith('file ')) == 7,
      'extract.txt names the 7 files it wrote')
sys.exit(0 if ok else 1)
PY

# ---- a party copy without one RTP packet of call 1 still verifies and
# extracts: that direction's WAV has the packet as silence, reported
ex=$(python3 -c '
import json, sys
cc = [json.loads(l) for l in open(sys.argv[1])]
cc = [r for r in cc if r["kind"] == "cc" and r["decoded"].get("rtp", {}).get("ssrc") in (0x6a1c0001, "6a1c0001")]
r = cc[20]
print(r["segment"] + ":" + str(r["index"]))' "$work/rec-$WV.jsonl") || die "choosing a record to exclude"
[ -n "$ex" ] || die "no record of SSRC 6a1c0001 to exclude"
"$L" export --warrant "$WV" --recipient "$R" -o "$work/p.age" --exclude-record "$ex" "${J[@]}" \
	> /dev/null 2>"$work/pexp.err" || { cat "$work/pexp.err"; die "party copy export"; }
"$V" "$work/p.age" -i "$work/court.key" --log-vkey "$LOGV" --export-vkey "$EXV" --extract "$work/px" \
	> "$work/pv.txt" 2>&1 || { cat "$work/pv.txt"; die "party copy: lacre-verify --extract failed"; }
grep -q '^extracted .*: 263 records (263 decrypted' "$work/pv.txt" || { cat "$work/pv.txt"; die "party copy extract summary"; }
grep -q '^file LIC-VOIP-GRACE-[0-9]*/from-target-6a1c0001.wav rtp 74 missing 1 ' "$work/px/extract.txt" ||
	{ cat "$work/px/extract.txt" | grep '^file'; die "party copy: the excluded RTP packet is not reported missing"; }
python3 "$top/tests/e2e/lib/wav_tone.py" "$work"/px/LIC-VOIP-GRACE-*/from-target-6a1c0001.wav 0.2 |
	python3 -c 'import json,sys; t=json.load(sys.stdin); sys.exit(0 if abs(t["left"]["freq"]-425)<=10 else 1)' ||
	die "party copy: the WAV of call 1 from the target lost its tone"
age -d -i "$work/court.key" -o "$work/p.plain" "$work/p.age" || die "age -d of the party copy"
$tool get "$work/p.plain" media.txt | grep -Eq '^wav audio/[a-z0-9-]+\.wav call .* gaps 0 excluded 1 0$' ||
	{ $tool get "$work/p.plain" media.txt; die "party copy: the call's WAV is not kept with the RTP packet left out (excluded 1 0)"; }
[ "$($tool list "$work/p.plain" | grep -c ' audio/.*\.wav$')" -eq 2 ] || die "party copy: both calls' WAVs are not in the package"
ok "party copy without one decrypted RTP record: VERIFIED, extracted, 425 Hz kept, the packet reported missing; the package keeps both calls' WAVs (media.txt: excluded 1 0)"

# ---- a tampered package: exit 3, nothing extracted
$tool edit "$work/v.plain" "$work/t.plain" records/00000020.pre 'd[:60] + bytes([d[60] ^ 1]) + d[61:]' ||
	die "pkg_tool edit"
age -r "$R" -o "$work/t.age" "$work/t.plain" || die "age -r"
expect_exit 3 "lacre-verify: nothing extracted into $work/tx: the package did not verify" \
	"$V" "$work/t.age" -i "$work/court.key" --log-vkey "$LOGV" --export-vkey "$EXV" --extract "$work/tx" ||
	die "a tampered package: not refused with exit 3"
grep -q '^FAIL records/00000020.pre: differs from the pre-encryption form sealed in its frame' "$EXPECT_DIR/expect.out" ||
	{ cat "$EXPECT_DIR/expect.out"; die "a tampered pre-encryption form: not named"; }
[ ! -e "$work/tx" ] && [ -z "$(ls -d "$work"/tx.part* 2>/dev/null)" ] || die "a tampered package: something was extracted"
ok "a tampered pre-encryption form: exit 3, named, nothing extracted"
# ---- an extraction folder that exists: exit 1, left as it was
mkdir "$work/exists"
expect_exit 1 "lacre-verify: extraction failed, nothing written: the extraction folder must not exist: $work/exists" \
	"$V" "$work/v.age" -i "$work/court.key" --log-vkey "$LOGV" --extract "$work/exists" ||
	die "an existing extraction folder: not refused with exit 1"
[ -z "$(ls -A "$work/exists")" ] && [ -z "$(ls -d "$work"/exists.part* 2>/dev/null)" ] ||
	die "an existing extraction folder: written into"
ok "an existing extraction folder: exit 1, nothing written"
echo "ok"
