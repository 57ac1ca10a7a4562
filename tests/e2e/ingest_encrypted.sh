#!/usr/bin/env bash
# ingest_encrypted.sh - encrypted deliveries at the receiver (issue 12): the
# real OpenLI 1.1.20 capture of set C (../shared/vectors/openli-c: every IRI,
# CC and integrity payload in an AES-192-CBC EncryptionContainer) replayed
# into `lacre ingest --site` over loopback.
#   Run 1, the set-C key configured (handover.key_dir, handover.keys) and a
#   warrant for the EPS target LIC-MOBILE-EPS with categories `iri` only:
#   routing and L2 judge the decrypted payload (an IRI without a location
#   field goes to the warrant, one with a location and every CC are
#   quarantined category-not-authorised, the other LIIDs unknown-liid);
#   every PDU is kept exactly as received (nothing lost, nothing twice);
#   every encrypted PDU decrypted, the byteCounter chain has no break and
#   no gap; every hash verifies (integrity-verify.txt: all ok, though
#   OpenLI sends most hash PDUs before their last data PDUs) and every
#   signature: zero false alerts.
#   Run 2, a site with no key: every encrypted PDU is quarantined
#   `undecryptable`, one ALERT line and one alerted event per LIID.
#   A key file that is not a key: `lacre ingest -n` exits 2 naming it.
set -u
top=${LACRE_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
vec="$top/../shared/vectors/openli-c"
work=$(mktemp -d /tmp/lacre-e2e-enc-XXXXXX)
IPID=
trap '[ -n "$IPID" ] && kill $IPID 2>/dev/null; [ -n "${LACRE_KEEP_TMP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
. "$top/tests/e2e/lib/vault.bash"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
[ -x "$B/lacre" ] || die "build/bin/lacre not built (a test run needs the build)"
[ -f "$vec/raw/hi2.bin" ] || die "vectors not found at $vec: check out the shared folder beside the source tree"

# the handover key, as an operator would install it (folder 0700, file 0600)
mkdir -m 700 "$work/hkeys"
cp "$vec/config/payload-encryption-key.hex" "$work/hkeys/opc.hex"
chmod 600 "$work/hkeys/opc.hex"
"$B/lacre" decode --key "$work/hkeys/opc.hex" "$vec/raw/hi2.bin" > "$work/d.hi2.jsonl" || die "decode hi2"
"$B/lacre" decode --key "$work/hkeys/opc.hex" "$vec/raw/hi3.bin" > "$work/d.hi3.jsonl" || die "decode hi3"

# ---- run 1: key configured, an iri-only warrant for the EPS target
site=$work/site
vault_init "$site"
W=$(vault_warrant "$site" LIC-MOBILE-EPS 2026-11-01 2027-01-31 iri) || die "warrant"
vault_ingest_start "$site" run1 --set "handover.key_dir=$work/hkeys" \
	--set "handover.keys=opC-telco opc.hex" --stats "$work/stats1.json" \
	--integrity-pubkey "$vec/config/integrity-signing-public.pem"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$vec/raw/hi2.bin" "$vec/raw/hi3.bin" ||
	die "sending"
vault_ingest_stop run1
"$B/lacre" records --site "$site" --warrant "$W" --justification "e2e: encrypted deliveries" --json \
	> "$work/rec.jsonl" 2>"$work/rec.err" || { cat "$work/rec.err"; die "records"; }
"$B/lacre" quarantine --site "$site" --user "$CLERK_KEY" --justification "e2e: oversight" --json \
	> "$work/q1.jsonl" 2>"$work/q1.err" || { cat "$work/q1.err"; die "quarantine"; }

python3 - "$work" "$vec" <<'PY' || { cat "$work/ingest-run1.err"; die "run 1 (key configured) not as expected"; }
import base64, collections, json, sys
work, vec = sys.argv[1:3]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
def load(p): return [json.loads(l) for l in open(p)]
sent = []                       # (decoded, bytes) of every non-keep-alive PDU
for h in ('hi2', 'hi3'):
    data = open(f'{vec}/raw/{h}.bin', 'rb').read()
    for d in load(f'{work}/d.{h}.jsonl'):
        if d['kind'] not in ('keepalive', 'keepalive-response'):
            sent.append((d, data[d['offset']:d['offset'] + d['length']]))
rec, q = load(f'{work}/rec.jsonl'), load(f'{work}/q1.jsonl')
qrec = [r for r in q if r.get('reason') != 'event']
stats = json.load(open(f'{work}/stats1.json'))
enc = [d for d, _ in sent if d.get('encrypted')]
check(len(enc) > 0 and all(d['encryption'].get('decrypted') for d in enc),
      f'decode --key: {len(enc)} encrypted PDUs, every one decrypts')
eps = 'LIC-MOBILE-EPS'
def is_iri(d): return d['kind'] == 'iri'
# expected: the warrant gets the EPS IRIs without a location and the EPS
# TRI PDUs on HI2 (category iri by listener); the EPS IRIs with a location
# and all its HI3 PDUs are category-not-authorised; other LIIDs unknown
want_w, want_cat, want_unk = [], [], []
for d, b in sent:
    if d['liid'] != eps:
        want_unk.append(b)
    elif is_iri(d):
        (want_cat if d.get('location') else want_w).append(b)
    elif d['kind'] == 'cc':
        want_cat.append(b)
    else:   # integrity checks follow their listener
        (want_w if b in open(f'{vec}/raw/hi2.bin', 'rb').read() else want_cat).append(b)
got_w = sorted(base64.b64decode(r['pdu']) for r in rec)
by_reason = collections.defaultdict(list)
for r in qrec:
    by_reason[r['reason']].append(base64.b64decode(r['pdu']))
n_iri_loc = sum(1 for d, _ in sent if d['liid'] == eps and is_iri(d) and d.get('location'))
n_cc = sum(1 for d, _ in sent if d['liid'] == eps and d['kind'] == 'cc')
check(n_iri_loc > 0 and n_cc > 0, f'{eps}: {n_iri_loc} IRIs with a location, {n_cc} CCs sent')
check(got_w == sorted(want_w) and len(got_w) > 0,
      f'warrant (iri only): the {len(want_w)} EPS records without location (IRIs without one, HI2 integrity PDUs), byte-identical (got {len(got_w)})')
check(sorted(by_reason['category-not-authorised']) == sorted(want_cat),
      f'quarantine category-not-authorised: the {len(want_cat)} EPS IRIs with a location and CCs '
      f'(got {len(by_reason["category-not-authorised"])})')
check(sorted(by_reason['unknown-liid']) == sorted(want_unk),
      f'quarantine unknown-liid: the {len(want_unk)} PDUs of the other LIIDs (got {len(by_reason["unknown-liid"])})')
check(set(by_reason) <= {'category-not-authorised', 'unknown-liid'},
      f'no other quarantine reason (reasons: {sorted(by_reason)})')
every = sorted(b for _, b in sent)
check(sorted(got_w + [b for v in by_reason.values() for b in v]) == every,
      f'nothing lost, nothing twice: {len(every)} PDUs kept exactly as received')
e = stats.get('encryption', {})
check(e.get('encrypted') == len(enc) and e.get('decrypted') == len(enc) and e.get('undecryptable') == 0,
      f'stats: encrypted {e.get("encrypted")}, decrypted {e.get("decrypted")}, undecryptable {e.get("undecryptable")}')
check(e.get('bytecounter_breaks') == 0 and e.get('bytecounter_gaps') == 0 and e.get('bytecounter_restarts') == 0,
      f'byteCounter: {e.get("bytecounter_breaks")} breaks, {e.get("bytecounter_gaps")} gaps, '
      f'{e.get("bytecounter_restarts")} restarts')
i = stats['integrity']
print(f'integrity: hash {i["hash_pdus"]} pdus, {i["hash_verified"]} verified, {i["hash_mismatch"]} mismatch, '
      f'{i["hash_missing"]} missing; signature {i["signature_pdus"]} pdus, {i["signature_verified"]} verified, '
      f'{i["signature_bad"]} bad, {i["signature_unchecked"]} unchecked')
ref = open(f'{vec}/decoded/integrity-verify.txt').read().splitlines()
ref_h = sum(1 for l in ref if ' hash ' in l and l.endswith('ok(preenc)'))
check(i['hash_pdus'] == ref_h and i['hash_mismatch'] == 0,
      f'hashes: {i["hash_pdus"]} seen (reference {ref_h}, all verify over the pre-encryption form), no mismatch')
check(i['hash_verified'] == ref_h and i['hash_missing'] == 0 and i['hash_mismatch'] == 0,
      f'hashes: {i["hash_verified"]} of {ref_h} verify, {i["hash_missing"]} missing (reference: every hash ok; '
      'OpenLI sends most hash PDUs before their last data PDUs: the verdict waits for them)')
ref_s = sum(1 for l in ref if ' signature ' in l and l.endswith(': ok'))
check(i['signature_pdus'] == ref_s and i['signature_verified'] == ref_s and i['signature_bad'] == 0,
      f'signatures of the decrypted integrity PDUs: {i["signature_verified"]} of {ref_s} verify (reference: all)')
sys.exit(0 if ok else 1)
PY
grep -q "undecryptable" "$work/ingest-run1.err" && die "run 1: an undecryptable alert with the key configured"

# ---- run 2: no key: every encrypted PDU quarantined undecryptable, alerted once per LIID
site2=$work/site2
vault_init "$site2"
W2=$(vault_warrant "$site2" LIC-MOBILE-EPS 2026-11-01 2027-01-31 iri,location,content) || die "warrant 2"
vault_ingest_start "$site2" run2 --stats "$work/stats2.json"
python3 "$top/tests/e2e/lib/send_streams.py" "$HI2" "$HI3" "$vec/raw/hi2.bin" "$vec/raw/hi3.bin" ||
	die "sending (run 2)"
vault_ingest_stop run2
"$B/lacre" quarantine --site "$site2" --user "$CLERK_KEY" --justification "e2e: oversight" --json \
	> "$work/q2.jsonl" 2>"$work/q2.err" || { cat "$work/q2.err"; die "quarantine (run 2)"; }
"$B/lacre" records --site "$site2" --warrant "$W2" --justification "e2e: encrypted deliveries" --json \
	> "$work/rec2.jsonl" 2>"$work/rec2.err" || { cat "$work/rec2.err"; die "records (run 2)"; }
python3 - "$work" "$vec" <<'PY' || { cat "$work/ingest-run2.err"; die "run 2 (no key) not as expected"; }
import base64, collections, json, sys
work, vec = sys.argv[1:3]
ok = True
def check(cond, what):
    global ok
    print(('ok   ' if cond else 'FAIL ') + what)
    ok = ok and cond
def load(p): return [json.loads(l) for l in open(p)]
enc = []
liids = set()
for h in ('hi2', 'hi3'):
    data = open(f'{vec}/raw/{h}.bin', 'rb').read()
    for d in load(f'{work}/d.{h}.jsonl'):
        if d.get('encrypted'):
            enc.append(data[d['offset']:d['offset'] + d['length']])
            liids.add(d['liid'])
q = load(f'{work}/q2.jsonl')
und = sorted(base64.b64decode(r['pdu']) for r in q if r.get('reason') == 'undecryptable')
check(und == sorted(enc) and len(und) > 0,
      f'every encrypted PDU ({len(enc)}) quarantined undecryptable, byte-identical (got {len(und)})')
rec2 = load(f'{work}/rec2.jsonl')
check(len(rec2) == 0, f'the EPS warrant (all categories) gets nothing it cannot see into (got {len(rec2)})')
stats = json.load(open(f'{work}/stats2.json'))
e = stats['encryption']
check(e['encrypted'] == len(enc) and e['undecryptable'] == len(enc) and e['decrypted'] == 0,
      f'stats: encrypted {e["encrypted"]}, undecryptable {e["undecryptable"]}, decrypted {e["decrypted"]}')
err = open(f'{work}/ingest-run2.err').read()
for l in sorted(liids):
    n = err.count(f'ALERT quarantined records of LIID {l}: undecryptable')
    check(n == 1, f'one ALERT line for LIID {l} (got {n})')
sys.exit(0 if ok else 1)
PY
# ---- a key file that is not a key stops the start (exit 2, naming the file)
printf 'not a key\n' > "$work/hkeys/bad.hex"
chmod 600 "$work/hkeys/bad.hex"
"$B/lacre" ingest --site "$site" -n --set "handover.key_dir=$work/hkeys" \
	--set "handover.keys=opC-telco bad.hex" > /dev/null 2>"$work/bad.err"
rc=$?
[ $rc -eq 2 ] || die "a bad handover key file: exit $rc, want 2"
grep -q "ingest: $work/hkeys/bad.hex: not a handover key: expected 24 or 32 octets in hex" "$work/bad.err" ||
	{ cat "$work/bad.err"; die "a bad handover key file: no message naming it"; }
echo "ok   a bad handover key file: exit 2, named"
echo "ok"
