#!/usr/bin/env bash
# ingest_key_rotation.sh - handover keys that change or are wrong (issue 12),
# on the real OpenLI set-C capture (../shared/vectors/openli-c, AES-192-CBC):
#   Run 1, a key rotated mid-stream: from the middle of each handover on,
#   every encrypted PDU is re-encrypted (same IV rule, same plaintext: the
#   set's pre-encryption forms) under a second key, as a mediator does when
#   its key is rotated; both keys configured for the operator with
#   overlapping windows.  Every PDU decrypts (none undecryptable, no key
#   flagged outside its window), and after intake, with no key anywhere,
#   records --json decodes each record's plaintext equal to the set's
#   expected-*.jsonl, and calls still lists both calls.
#   Run 2, a wrong key only: every encrypted PDU is still sealed, byte for
#   byte as received, quarantined `undecryptable`, shown "decrypted":false
#   with no decoded plaintext; the sealed event names the cause ("wrong
#   key") once per LIID.
# (A missing key: ingest_encrypted.sh run 2; rotation by validity window
# and the key-outside-window note: tests/unit/test_ingest_decrypt.c.)
# Exit 0 pass, 77 skip, 1 fail.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-keyrot-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
python3 -c 'import cryptography' 2>/dev/null ||
	die "python3-cryptography is not installed (scripts/deps installs it): it re-encrypts the capture under a second key"
[ -x "$B/lacre" ] || die "build/bin/lacre not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"
ok() { echo "ok   $*"; }
L="$B/lacre"
J=(--justification "e2e: handover key rotation")

mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/a.hex"
python3 -c 'import os; print(os.urandom(24).hex())' > "$work/hkeys/b.hex"
python3 -c 'import os; print(os.urandom(24).hex())' > "$work/hkeys/wrong.hex"
chmod 600 "$work/hkeys"/*.hex
for h in hi2 hi3; do
	"$L" decode "$vec/raw/$h.bin" > "$work/$h.jsonl" || die "decode $h"
done
# the second half of each handover re-encrypted under key b
python3 - "$vec" "$work" <<'PY' || die "re-encrypting under the second key"
import json, sys
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
vec, work = sys.argv[1:3]
kb = bytes.fromhex(open(f'{work}/hkeys/b.hex').read().strip())
total = 0
for h in ('hi2', 'hi3'):
    raw = open(f'{vec}/raw/{h}.bin', 'rb').read()
    pre = open(f'{vec}/decoded/{h}.preencryption.bin', 'rb').read()
    ds = [json.loads(l) for l in open(f'{work}/{h}.jsonl')]
    out, n = bytearray(raw), 0
    for d in ds[len(ds) // 2:]:
        if not d.get('encrypted'):
            continue
        o, ln = d['offset'], d['length']
        # container: a4 L 80 01 <type> 81 L <ciphertext> ...; the type octet
        # is the first byte where the PDU and its pre-encryption form differ
        t = next(i for i in range(o, o + ln) if raw[i] != pre[i])
        assert raw[t] == 3 and pre[t] == 1 and raw[t + 1] == 0x81
        b = raw[t + 2]
        if b < 0x80:
            ct_off, ct_len = t + 3, b
        else:
            k = b & 0x7f
            ct_off, ct_len = t + 3 + k, int.from_bytes(raw[t + 3:t + 3 + k], 'big')
        iv = (d['seq'] & 0xffffffff).to_bytes(4, 'big') * 4
        enc = Cipher(algorithms.AES(kb), modes.CBC(iv)).encryptor()
        ct = enc.update(pre[ct_off:ct_off + ct_len]) + enc.finalize()
        assert len(ct) == ct_len and ct != raw[ct_off:ct_off + ct_len]
        out[ct_off:ct_off + ct_len] = ct
        n += 1
    open(f'{work}/{h}.rot', 'wb').write(out)
    total += n
    print(f'{h}: {n} PDUs of the second half re-encrypted under key b')
assert total > 100
PY

# ---- run 1: both keys, overlapping windows
site=$work/site
vault_init "$site"
export LACRE_SITE=$site
WV=$(vault_warrant "$site" LIC-VOIP-GRACE 2025-06-01 2025-06-30 content,iri) || die "warrant VoIP"
vault_ingest_start "$site" run1 --set "handover.key_dir=$work/hkeys" \
	--set "handover.keys=opC-telco a.hex 2026-01-01 -, opC-telco b.hex 2026-06-01 -" --stats "$work/stats1.json"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$work/hi2.rot" "$work/hi3.rot" || die "sending"
vault_ingest_stop run1
"$L" records --warrant "$WV" --json "${J[@]}" > "$work/rec1.jsonl" 2>"$work/rec1.err" ||
	{ cat "$work/rec1.err"; die "records run 1"; }
export LACRE_USER=$CLERK_KEY
"$L" quarantine --json --events "${J[@]}" > "$work/q1.jsonl" 2>"$work/q1.err" || { cat "$work/q1.err"; die "quarantine run 1"; }
export LACRE_USER=$INV_KEY
"$L" calls --warrant "$WV" --json "${J[@]}" > "$work/calls1.jsonl" 2>"$work/calls1.err" ||
	{ cat "$work/calls1.err"; die "calls run 1"; }
python3 - "$work" "$vec" <<'PY' || { cat "$work/ingest-run1.err"; die "run 1 (key rotated mid-stream) not as expected"; }
import base64, json, sys
work, vec = sys.argv[1:3]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
load = lambda p: [json.loads(l) for l in open(p)]
exp = {}
for h in ('hi2', 'hi3'):
    data = open(f'{work}/{h}.rot', 'rb').read()
    for d in load(f'{vec}/expected-{h}.jsonl'):
        exp[data[d['offset']:d['offset'] + d['length']]] = d
n_enc = sum(1 for v in exp.values() if v.get('encrypted'))
e = json.load(open(f'{work}/stats1.json'))['encryption']
check(e['encrypted'] == n_enc and e['decrypted'] == n_enc and e['undecryptable'] == 0,
      f'stats: {e["decrypted"]} of {n_enc} encrypted PDUs decrypted, {e["undecryptable"]} undecryptable')
check(e.get('bytecounter_breaks') == 0, f'byteCounter: {e.get("bytecounter_breaks")} breaks')
recs = load(f'{work}/rec1.jsonl') + [r for r in load(f'{work}/q1.jsonl') if r.get('kind') != 'event']
ev = [json.loads(r['event']) for r in load(f'{work}/q1.jsonl') if r.get('kind') == 'event']
check(len(recs) == n_enc and all(r.get('decrypted') is True for r in recs),
      f'all {len(recs)} records sealed with their plaintext (both keys\' halves)')
check(not any('notes' in r for r in recs) and not any(x.get('event') == 'key-outside-validity-window' for x in ev),
      'no record or event flags a key outside its validity window')
bad = [(r['seq'], k) for r in recs for k in ('liid', 'cin', 'seq', 'kind', 'iri_type', 'content')
       if r['decoded'].get(k) != exp[base64.b64decode(r['pdu'])].get(k)]
check(not bad, f'every record\'s decoded plaintext equals expected-*.jsonl, read with no key{": " + str(bad[:3]) if bad else ""}')
calls = load(f'{work}/calls1.jsonl')
check(sorted(c['call_id'] for c in calls) == ['5e1b0c77-c2@172.21.0.9', 'c1-7d3f9a2e@10.60.2.21'] and
      all(c['complete'] for c in calls), f'calls: both calls complete across the rotation ({len(calls)})')
sys.exit(0 if ok else 1)
PY

# ---- run 2: a wrong key only
site2=$work/site2
vault_init "$site2"
export LACRE_SITE=$site2
W2=$(vault_warrant "$site2" LIC-VOIP-GRACE 2025-06-01 2025-06-30 content,iri) || die "warrant VoIP (run 2)"
vault_ingest_start "$site2" run2 --set "handover.key_dir=$work/hkeys" \
	--set "handover.keys=opC-telco wrong.hex" --stats "$work/stats2.json"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$vec/raw/hi2.bin" "$vec/raw/hi3.bin" || die "sending (run 2)"
vault_ingest_stop run2
export LACRE_USER=$CLERK_KEY
"$L" quarantine --json --events "${J[@]}" > "$work/q2.jsonl" 2>"$work/q2.err" || { cat "$work/q2.err"; die "quarantine run 2"; }
export LACRE_USER=$INV_KEY
"$L" records --warrant "$W2" --json "${J[@]}" > "$work/rec2.jsonl" 2>"$work/rec2.err" ||
	{ cat "$work/rec2.err"; die "records run 2"; }
python3 - "$work" "$vec" <<'PY' || { cat "$work/ingest-run2.err"; die "run 2 (wrong key) not as expected"; }
import base64, json, sys
work, vec = sys.argv[1:3]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
load = lambda p: [json.loads(l) for l in open(p)]
enc, liids = [], set()
for h in ('hi2', 'hi3'):
    data = open(f'{vec}/raw/{h}.bin', 'rb').read()
    for d in load(f'{work}/{h}.jsonl'):
        if d.get('encrypted'):
            enc.append(data[d['offset']:d['offset'] + d['length']])
            liids.add(d['liid'])
q = load(f'{work}/q2.jsonl')
und = [r for r in q if r.get('reason') == 'undecryptable']
check(sorted(base64.b64decode(r['pdu']) for r in und) == sorted(enc),
      f'every encrypted PDU ({len(enc)}) still sealed byte for byte, quarantined undecryptable ({len(und)})')
check(all(r.get('decrypted') is False and 'decoded' not in r for r in und),
      'each shows "decrypted":false and no decoded plaintext')
check(len(load(f'{work}/rec2.jsonl')) == 0, 'the warrant gets nothing it cannot see into')
ev = [json.loads(r['event']) for r in q if r.get('kind') == 'event']
wk = [x for x in ev if x.get('event') == 'undecryptable']
check(sorted(x['liid'] for x in wk) == sorted(liids) and
      all(x['reason'] == 'wrong key: no handover key gives a well-formed payload' for x in wk),
      f'one sealed undecryptable event per LIID ({len(wk)}), cause "wrong key: no handover key gives a well-formed payload"')
sys.exit(0 if ok else 1)
PY
grep -q "ALERT quarantined records of LIID LIC-VOIP-GRACE: undecryptable" "$work/ingest-run2.err" ||
	{ cat "$work/ingest-run2.err"; die "run 2: no ALERT line for the undecryptable records"; }
ok "wrong key: the receiver ALERTs (quarantined records of LIID LIC-VOIP-GRACE: undecryptable)"
echo "ok"
