#!/usr/bin/env bash
# mediator_integrity.sh - integrity-check PDUs of lacre-mediator verified
# independently: Python recomputes each hash PDU's digest over the complete
# bytes of the data PDUs it lists (spec §8.3), and the openssl command line
# verifies each signature PDU over the DER of the interim IntegrityCheck
# element with an empty checkValue (ECDSA P-256 with SHA-256, Ed25519,
# Ed448).  Also checks the hash and signature PDU numbering (1, 2, 3 ... per
# chain) and that hash PDUs ride on the chain's handover.
set -u
. "$(dirname "$0")/mediator_common.bash"
export LEMF_DIR="$top/tests/e2e"
command -v openssl >/dev/null || { echo "openssl missing"; exit 77; }

openssl ecparam -name prime256v1 -genkey -noout -out "$T/ec.pem" 2>/dev/null
openssl pkey -in "$T/ec.pem" -pubout -out "$T/ec.pub"
openssl genpkey -algorithm ed25519 -out "$T/ed.pem" 2>/dev/null
openssl pkey -in "$T/ed.pem" -pubout -out "$T/ed.pub"
openssl genpkey -algorithm ed448 -out "$T/e4.pem" 2>/dev/null
openssl pkey -in "$T/e4.pem" -pubout -out "$T/e4.pub"

cat > "$T/verify.py" <<'PY'
import hashlib, json, os, subprocess, sys
sys.path.insert(0, os.environ['LEMF_DIR'])
import mediator_lemf as L
t, key, hname = sys.argv[1:4]
s = json.load(open(t + '/o.json'))
data = {}
checks = []
for hi in ('hi2', 'hi3'):
    b = open('%s/o.%s' % (t, hi), 'rb').read()
    o = 0
    while o < len(b):
        e = L.elem_end(b, o)
        pdu = b[o:e]
        k, liid, cin, seq, hdr, tri = L.summarize(pdu)
        if k in ('iri', 'cc'):
            data[(liid, cin, k, seq)] = pdu
        elif k == 'integrity':
            checks.append((hi, liid, cin, seq, pdu))
        o = e
def ic_fields(pdu):
    # PS-PDU / payload [2] / tRIPayload [2] / integrityCheck [0]
    (_, _, _, c0, c1, _), = list(L.children(pdu, 0, len(pdu)))
    for t1, n1, s1, d0, d1, e1 in L.children(pdu, c0, c1):
        if t1 == 0xa2:
            for t2, n2, s2, f0, f1, e2 in L.children(pdu, d0, d1):
                for t3, n3, s3, g0, g1, e3 in L.children(pdu, f0, f1):
                    f = {}
                    for t4, n4, s4, h0, h1, e4 in L.children(pdu, g0, g1):
                        if n4 == 0:
                            f['seqs'] = [L.uint(pdu[x0:x1]) for (_, _, _, x0, x1, _) in L.children(pdu, h0, h1)]
                        else:
                            f[n4] = pdu[h0:h1]
                    return f
algs = {'sha256': (2, hashlib.sha256), 'sha512': (4, hashlib.sha512)}
hashes = sigs = 0
expect = {}
for hi, liid, cin, seq, pdu in checks:
    f = ic_fields(pdu)
    ctype, dtype = f[1][0], f[2][0]
    kind = 'iri' if dtype == 1 else 'cc'
    assert (hi == 'hi2') == (kind == 'iri'), 'integrity PDU on the wrong handover'
    chain = (liid, cin, kind, ctype)
    want = expect.get(chain, 1)
    assert seq == want, 'chain %s: PDU numbered %d, expected %d' % (chain, seq, want)
    expect[chain] = want + 1
    if ctype == 1:
        aid, fn = algs[hname]
        assert f[4][0] == aid, 'hashAlgorithm'
        h = fn(b''.join(data[(liid, cin, kind, q)] for q in f['seqs'])).digest()
        assert h == f[3], 'hash mismatch in %s seq %d' % (chain, seq)
        hashes += 1
    else:
        assert 4 not in f and f[5][0] in (2, 3)
        def enc(tag, body):
            n = len(body)
            # libwandder's lengths: 128 -> 81 80, 129..255 -> 82 00 xx
            return bytes([tag]) + (bytes([n]) if n < 128 else bytes([0x81, n]) if n == 128 else b'\x82' + n.to_bytes(2, 'big')) + body
        def i(v):
            bb = v.to_bytes((v.bit_length() + 8) // 8 or 1, 'big')
            return enc(0x02, bb)
        interim = enc(0xa0, enc(0xa0, b''.join(i(q) for q in f['seqs'])) + enc(0x81, b'\x02') +
                      enc(0x82, bytes([dtype])) + enc(0x83, b'') + enc(0x85, f[5]))
        open(t + '/in.der', 'wb').write(interim)
        open(t + '/sig.bin', 'wb').write(f[3])
        if key == 'ec':
            cmd = ['openssl', 'dgst', '-sha256', '-verify', t + '/ec.pub', '-signature', t + '/sig.bin', t + '/in.der']
        else:
            cmd = ['openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', '%s/%s.pub' % (t, key), '-rawin',
                   '-in', t + '/in.der', '-sigfile', t + '/sig.bin']
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, 'signature %s seq %d does not verify: %s' % (chain, seq, r.stdout + r.stderr)
        sigs += 1
assert hashes > 0 and sigs > 0
assert hashes + sigs == s['integrity_pdus_sent']
print('%s/%s: %d hash PDUs and %d signature PDUs verified' % (key, hname, hashes, sigs))
PY

for key in ec ed e4; do
	for hash in sha256 sha512; do
		"$MED" --output "$T/o" --seed 9 --targets 4 --calls 2 --sessions 2 --call-seconds 1 \
			--integrity-hash $hash --integrity-every 17 --sign-key "$T/$key.pem" --sign-every 3 \
			--summary "$T/o.json" || exit 1
		python3 "$T/verify.py" "$T" "$key" "$hash" || { echo "($key, $hash)"; exit 1; }
	done
done
# signatures over 50 hash PDUs: the interim element passes 128 bytes, where
# libwandder's lengths (82 00 xx) differ from strict DER
"$MED" --output "$T/o" --seed 9 --targets 2 --calls 1 --sessions 1 --call-seconds 2 \
	--integrity-hash sha256 --integrity-every 1 --sign-key "$T/ec.pem" --sign-every 50 \
	--summary "$T/o.json" || exit 1
python3 "$T/verify.py" "$T" ec sha256 || { echo "(50 hashes per signature)"; exit 1; }
# a bad key is refused with a clear message
echo "not a key" > "$T/bad.pem"
expect_exit 1 "--sign-key $T/bad.pem holds no PEM private key" "$MED" --output "$T/x" --sign-key "$T/bad.pem" ||
	{ echo "bad key not refused"; exit 1; }
echo "mediator_integrity: ok"
