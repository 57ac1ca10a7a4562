#!/usr/bin/env bash
# mediator_content.sh - what is inside lacre-mediator's PDUs is realistic:
# every IPv4 packet (RTP in iPMMCC, IP in iPCC) has valid IPv4 and
# UDP/TCP/ICMP checksums; RTP is version 2, PT 0 or 8 as the call's SDP
# says, 160-byte payloads, sequence +1 and timestamp +160 per SSRC; the G.711
# audio decodes (an independent Python decoder) to an audible signal; each
# call's SIP dialogue is INVITE ... 200 OK (BYE) with one Call-ID, iRI-Begin
# first and iRI-End last; and each session's IPIRI counters equal the bytes
# of its IPCC packets.
set -u
. "$(dirname "$0")/mediator_common.bash"
export LEMF_DIR="$top/tests/e2e"

"$MED" --output "$T/o" --seed 11 --targets 8 --calls 6 --sessions 4 --call-seconds 1 \
	--session-packets 60 --start-time 2026-05-01T08:00:00Z --summary "$T/o.json" || exit 1
python3 - "$T/o" <<'PY' || exit 1
import os, re, struct, sys, math, collections
sys.path.insert(0, os.environ['LEMF_DIR'])
import mediator_lemf as L
base = sys.argv[1]

def walk(pdu, path):
    """Follow context tag numbers (None = any) from the PS-PDU's contents; return (start, end)."""
    (_, _, _, c0, c1, _), = list(L.children(pdu, 0, len(pdu)))
    for want in path:
        for t, n, s, d0, d1, e in L.children(pdu, c0, c1):
            if want is None or n == want:
                c0, c1 = d0, d1
                break
        else:
            return None
    return c0, c1

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s

def check_ip(p):
    assert p[0] == 0x45 and struct.unpack('!H', p[2:4])[0] == len(p), 'IPv4 header/length'
    assert csum(p[:20]) == 0xffff, 'IPv4 header checksum'
    proto, src, dst, l4 = p[9], p[12:16], p[16:20], p[20:]
    if proto in (6, 17):
        ph = src + dst + bytes([0, proto]) + struct.pack('!H', len(l4))
        assert csum(ph + l4) == 0xffff, 'L4 checksum (proto %d)' % proto
    elif proto == 1:
        assert csum(l4) == 0xffff, 'ICMP checksum'
    else:
        raise AssertionError('protocol %d' % proto)
    return proto, l4

def ulaw(c):
    c = ~c & 0xff
    v = (((c & 0x0f) << 3) + 0x84) << ((c >> 4) & 7)
    return -(v - 0x84) if c & 0x80 else v - 0x84

def alaw(c):
    c ^= 0x55
    t = (c & 0x0f) << 4; seg = (c & 0x70) >> 4
    t = t + 8 if seg == 0 else (t + 0x108 if seg == 1 else (t + 0x108) << (seg - 1))
    return t if c & 0x80 else -t

rtp = collections.defaultdict(list)     # ssrc -> [(seq, ts, pt, payload)]
sip = collections.defaultdict(list)     # (liid, cin) -> [(iri_type, text)]
ipcc = collections.defaultdict(lambda: [0, 0])   # (liid, cin) -> [from, to] bytes
ipiri = {}
pts = {}
for hi in ('hi2', 'hi3'):
    b = open(base + '.' + hi, 'rb').read()
    o = 0
    while o < len(b):
        e = L.elem_end(b, o); pdu = b[o:e]; o = e
        k, liid, cin, seq, hdr, tri = L.summarize(pdu)
        if k == 'cc':
            d0, d1 = walk(pdu, [2, 1, None, 0])
            direction = pdu[d1 - 1]
            c = walk(pdu, [2, 1, None, 2, None])
            alt = [n for t, n, *_ in L.children(pdu, *walk(pdu, [2, 1, None, 2]))][0]
            if alt == 12:   # iPMMCC: mMCCContents [1]
                p0, p1 = walk(pdu, [2, 1, None, 2, 12, 1])
                proto, l4 = check_ip(pdu[p0:p1])
                assert proto == 17
                r = l4[8:]
                assert r[0] == 0x80 and len(r) == 172, 'RTP header / 160-byte payload'
                rtp[struct.unpack('!I', r[8:12])[0]].append((struct.unpack('!H', r[2:4])[0],
                    struct.unpack('!I', r[4:8])[0], r[1] & 0x7f, r[12:], (liid, cin)))
            else:           # iPCC: iPCCContents [1] / iPPackets [0]
                p0, p1 = walk(pdu, [2, 1, None, 2, 2, 1, 0])
                check_ip(pdu[p0:p1])
                ipcc[(liid, cin)][direction] += p1 - p0
        elif k == 'iri':
            itype = pdu[walk(pdu, [2, 0, None, 0])[0]]
            alt = [n for t, n, *_ in L.children(pdu, *walk(pdu, [2, 0, None, 2]))][0]
            if alt == 11:
                s0, s1 = walk(pdu, [2, 0, None, 2, 11, 1, 1, 2])
                sip[(liid, cin)].append((itype, pdu[s0:s1].decode()))
            else:
                f = {n: pdu[d0:d1] for t, n, s, d0, d1, e in L.children(pdu, *walk(pdu, [2, 0, None, 2, 2, 1]))}
                if f[0][0] == 8:
                    ipiri[(liid, cin)] = (int.from_bytes(f[13], 'big'), int.from_bytes(f[14], 'big'))
calls = 0
for key, msgs in sip.items():
    types = [t for t, _ in msgs]
    assert types[0] == 1 and types[-1] == 2 and all(t == 3 for t in types[1:-1]), types
    assert msgs[0][1].startswith('INVITE ') and msgs[-1][1].startswith('SIP/2.0 200 OK'), key
    assert 'CSeq: 1 BYE' in msgs[-1][1] or 'CSeq: 2 BYE' in msgs[-1][1]
    ids = {re.search(r'Call-ID: (\S+)', m).group(1) for _, m in msgs}
    assert len(ids) == 1, ids
    firsts = [m.split('\r\n')[0] for _, m in msgs]
    assert any(x.startswith('SIP/2.0 180') for x in firsts) and any(x.startswith('ACK ') for x in firsts)
    pt = int(re.search(r'm=audio \d+ RTP/AVP (\d+)', msgs[0][1]).group(1))
    pts[key] = pt
    calls += 1
assert calls == 6, calls
audible = 0
for ssrc, pk in rtp.items():
    assert len(pk) == 50, len(pk)       # 1 s of 20 ms frames
    for a, b in zip(pk, pk[1:]):
        assert (b[0] - a[0]) & 0xffff == 1 and (b[1] - a[1]) & 0xffffffff == 160, 'RTP numbering'
    assert all(p[2] == pts[p[4]] for p in pk), 'payload type differs from the SDP'
    dec = alaw if pk[0][2] == 8 else ulaw
    samples = [dec(c) for p in pk for c in p[3]]
    rms = math.sqrt(sum(x * x for x in samples) / len(samples))
    peak = max(abs(x) for x in samples)
    assert peak < 32700 or rms < 12000, 'clipping'
    if rms > 300:
        audible += 1
assert len(rtp) == 12 and audible >= 11, (len(rtp), audible)
for key, (rx, tx) in ipiri.items():
    assert (rx, tx) == (ipcc[key][1], ipcc[key][0]), (key, rx, tx, ipcc[key])
assert len(ipiri) == 4
print('content ok: %d calls, %d RTP streams (%d audible), %d sessions' % (calls, len(rtp), audible, len(ipiri)))
PY
echo "mediator_content: ok"
