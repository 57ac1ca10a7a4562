#!/usr/bin/env python3
"""mkseeds_signer.py - the seed corpus of fuzz/fuzz_signer.c in
fuzz/corpus/signer/: log signer request bodies (docs/FORMATS.md "Log
signer protocol") against the harness's state (it last signed the first 8
entries of a tree whose entry i is 8 bytes, i little endian):

  key          a key request
  grow13       growth 8 -> 13 with its RFC 6962 consistency proof (signed)
  same8        the signed checkpoint again (signed, nothing changes)
  fork8        size 8, another root
  rollback5    size 5
  badproof13   growth 8 -> 13, one proof hash changed
  stale13      growth with a proof that claims to start at 6
  origin13     another log's origin
  cut13        grow13 without its last byte
  long13       grow13 with a byte too many

Run from the top folder: python3 fuzz/mkseeds_signer.py"""
import hashlib, os, struct

ORIGIN = b'lacre/fuzz/ingest'
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'signer')
os.makedirs(out, exist_ok=True)


def leaf(i):
    return hashlib.sha256(b'\x00' + struct.pack('<Q', i)).digest()


def node(l, r):
    return hashlib.sha256(b'\x01' + l + r).digest()


def mth(lo, hi):
    """RFC 6962 MTH of entries [lo, hi)."""
    n = hi - lo
    if n == 1:
        return leaf(lo)
    k = 1
    while k * 2 < n:
        k *= 2
    return node(mth(lo, lo + k), mth(lo + k, hi))


def subproof(m, lo, hi, whole):
    """RFC 6962 SUBPROOF(m, D[lo:hi], whole)."""
    n = hi - lo
    if m == n:
        return [] if whole else [mth(lo, hi)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return subproof(m, lo, lo + k, whole) + [mth(lo + k, hi)]
    return subproof(m - k, lo + k, hi, False) + [mth(lo, lo + k)]


def sign_req(origin, old, size, root, proof):
    return (b'LSG1\x01' + bytes([len(origin)]) + origin + struct.pack('>QQ', old, size) + root +
            bytes([len(proof)]) + b''.join(proof))


def put(name, body):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(body)


r8, r13, r5 = mth(0, 8), mth(0, 13), mth(0, 5)
p = subproof(8, 0, 13, True)
grow = sign_req(ORIGIN, 8, 13, r13, p)
put('key', b'LSG1\x02')
put('grow13', grow)
put('same8', sign_req(ORIGIN, 8, 8, r8, []))
put('fork8', sign_req(ORIGIN, 8, 8, r5, []))
put('rollback5', sign_req(ORIGIN, 0, 5, r5, []))
bad = [p[0][:5] + bytes([p[0][5] ^ 0x80]) + p[0][6:]] + p[1:]
put('badproof13', sign_req(ORIGIN, 8, 13, r13, bad))
put('stale13', sign_req(ORIGIN, 6, 13, r13, p))
put('origin13', sign_req(b'lacre/other/ingest', 8, 13, r13, p))
put('cut13', grow[:-1])
put('long13', grow + b'\x00')
print('wrote 10 seeds to', out)
