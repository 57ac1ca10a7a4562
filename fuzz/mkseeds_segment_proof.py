#!/usr/bin/env python3
"""mkseeds_segment_proof.py - seeds for fuzz/fuzz_segment_proof.c: valid
lacre-segment-proof/v1 texts (docs/FORMATS.md §6.1) for trees of 1, 2, 5, 13
and 1000 commitments, the v2 (and a v1) segment entries alone, a few near
misses, and record proofs (§6.2: a segment proof, then a tlog-proof of its
entry against an unsigned checkpoint text, so the split and both readers
run; one cut inside the receipt's magic line).  Computed here from the format's definition (RFC 6962), not
with lacre's code.

  fuzz/mkseeds_segment_proof.py fuzz/corpus/segment_proof
"""
import base64
import hashlib
import os
import struct
import sys


def leaf(c):
    return hashlib.sha256(b"\x00" + c).digest()


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def mth(cs):
    if not cs:
        return hashlib.sha256(b"").digest()
    if len(cs) == 1:
        return leaf(cs[0])
    k = 1
    while k * 2 < len(cs):
        k *= 2
    return node(mth(cs[:k]), mth(cs[k:]))


def path(i, cs):
    """PATH(i, D) of RFC 6962 2.1.1, leaf sibling first."""
    if len(cs) == 1:
        return []
    k = 1
    while k * 2 < len(cs):
        k *= 2
    if i < k:
        return path(i, cs[:k]) + [mth(cs[k:])]
    return path(i - k, cs[k:]) + [mth(cs[:k])]


def entry(name, size, n, root, v=2):
    e = b"lacre-segment/v%d" % v + bytes([len(name)]) + name + struct.pack(">Q", size)
    e += bytes([32]) + hashlib.sha256(name).digest()
    if v == 2:
        e += struct.pack(">Q", n) + root
    return e


def proof(e, i, n, p):
    t = b"lacre-segment-proof/v1\nentry " + base64.b64encode(e) + b"\nrecord %d %d\n" % (i, n)
    return t + b"".join(base64.b64encode(h) + b"\n" for h in p)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for n, picks in ((1, [0]), (2, [0, 1]), (5, [0, 3, 4]), (13, [6, 12]), (1000, [0, 511, 999])):
        cs = [hashlib.sha256(b"record %d" % k).digest() for k in range(n)]
        name = b"seg/%032x" % n
        e = entry(name, 4096 + n, n, mth(cs))
        seeds["entry-v2-n%d" % n] = e
        for i in picks:
            seeds["proof-n%d-i%d" % (n, i)] = proof(e, i, n, path(i, cs))
    cs = [hashlib.sha256(b"record %d" % k).digest() for k in range(5)]
    e = entry(b"seg/" + b"ab" * 16, 777, 5, mth(cs))
    seeds["entry-v1"] = entry(b"seg/" + b"ab" * 16, 777, 0, b"", v=1)
    good = proof(e, 3, 5, path(3, cs))
    seeds["near-crlf"] = good.replace(b"\n", b"\r\n")
    seeds["near-short-path"] = good[:-45]
    seeds["near-leading-zero"] = good.replace(b"record 3 5", b"record 03 5")
    seeds["near-n-mismatch"] = good.replace(b"record 3 5", b"record 3 6")
    # record proofs: the receipt of the entry as leaf 0 of a one-leaf tree
    cp = b"lacre/demo/ingest\n1\n" + base64.b64encode(leaf(e)) + b"\n\n"
    rcpt = b"c2sp.org/tlog-proof@v1\nindex 0\n\n" + cp
    seeds["record-proof-n5-i3"] = good + rcpt
    seeds["near-record-proof-cut"] = good + rcpt[:10]
    for k, v in seeds.items():
        open(os.path.join(out, k), "wb").write(v)


main()
