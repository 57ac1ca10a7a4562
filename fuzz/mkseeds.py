#!/usr/bin/env python3
"""fuzz/mkseeds.py - (re)create the seed corpus of fuzz/corpus/.

etsi/: single PS-PDUs cut from the OpenLI vectors (../shared/vectors/openli-a,
every HI2 PDU and the first PDU of each kind/content in HI3) plus hand-built
edge cases covering what the vectors lack: microsecond timestamps, integrity
hash and signature PDUs, cINReset, operator messages, HI1 notifications,
encryption containers, 3GPP containers, aggregated payloads, indefinite
lengths, non-minimal lengths, high tag numbers, 5-octet sequence numbers.
ber/: small TLV edge cases.  Usage: fuzz/mkseeds.py (from anywhere)."""
import os, sys

top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
vec = os.path.join(top, '..', 'shared', 'vectors', 'openli-a', 'raw')
cdir = os.path.join(top, 'fuzz', 'corpus')

def ln(n, nonmin=False):
    if nonmin and n < 256: return bytes([0x82, 0, n])
    if n < 128: return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, 'big')
    return bytes([0x80 | len(b)]) + b

def tlv(tag, val, nonmin=False):
    return bytes([tag]) + ln(len(val), nonmin) + val

def indef(tag, val):
    return bytes([tag, 0x80]) + val + b'\0\0'

def uint(n):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), 'big')
    return b

def ctx(n, val, cons=False):
    return tlv((0xa0 if cons else 0x80) | n, val)

def header(liid=b'LIID1', cin=7, seq=0, usec=None, extra=b''):
    h = ctx(0, bytes([4, 0, 2, 2, 5, 1, 43]))
    h += ctx(1, liid) + ctx(2, b'ES')
    h += ctx(3, ctx(0, ctx(0, b'OPER') + ctx(1, b'ne-1'), True) + ctx(1, uint(cin)) + ctx(2, b'ES'), True)
    h += ctx(4, uint(seq))
    if usec is None:
        h += ctx(5, b'20260101000000.250Z')
    else:
        h += ctx(7, ctx(0, uint(usec[0])) + ctx(1, uint(usec[1])), True)
    h += ctx(8, b'\x01') + extra
    return ctx(1, h, True)

def pdu(hdr, payload):
    return tlv(0x30, hdr + ctx(2, payload, True))

def tri(alt):
    return ctx(2, alt, True)

def ipaddr(b):
    """Contents of an IPAddress (to be wrapped in its implicit tag)."""
    return ctx(1, b'\0') + ctx(2, ctx(1, b), True) + ctx(3, b'\x03')

seeds = {}
seeds['keepalive-usec'] = pdu(header(b'openli-1.1.20', 0, 7, (1767225600, 250000)), tri(ctx(3, b'')))
seeds['keepalive-response'] = pdu(header(b'openli-1.1.20', 0, 7), tri(ctx(4, b'')))
seeds['keepalive-seq5'] = pdu(header(b'x', 0, 0xffffffff), tri(ctx(3, b'')))
seeds['cin-reset'] = pdu(header(seq=0), tri(ctx(7, b'')))
seeds['padding'] = pdu(header(), tri(ctx(2, b'\xaa' * 20)))
seeds['opmsg'] = pdu(header(), tri(ctx(8, ctx(0, b'\x01') + ctx(1, b'quality affected'), True)))
ic = ctx(0, b''.join(tlv(2, uint(i)) for i in range(5)), True) + ctx(1, b'\x01') + ctx(2, b'\x02') + ctx(3, bytes(range(32))) + ctx(4, b'\x02')
seeds['integrity-hash'] = pdu(header(seq=1), tri(ctx(0, ic, True)))
ic = ctx(0, tlv(2, b'\x01') + tlv(2, b'\x02'), True) + ctx(1, b'\x02') + ctx(2, b'\x01') + ctx(3, b'\x30\x06\x02\x01\x01\x02\x01\x02') + ctx(5, b'\x02')
seeds['integrity-sig'] = pdu(header(seq=1), tri(ctx(0, ic, True)))
ic = ctx(0, tlv(0x30, tlv(2, b'\x00') + tlv(2, b'\x01')), True) + ctx(1, b'\x01') + ctx(2, b'\x01') + ctx(3, b'\x00' * 20) + ctx(4, b'\x01')
seeds['integrity-legacy'] = pdu(header(seq=1), tri(ctx(0, ic, True)))
note = ctx(0, bytes([4, 0, 2, 2, 0, 1, 6])) + ctx(1, b'LIID1') + ctx(2, ctx(0, b'\x01') + ctx(1, ctx(0, b'OLT01'), True), True) + ctx(3, ctx(1, b'260101120000Z'), True)
seeds['hi1-activated'] = pdu(header(cin=0), ctx(3, ctx(1, note, True), True))
seeds['encrypted'] = pdu(header(), ctx(4, ctx(0, b'\x03') + ctx(1, bytes(range(48))) + ctx(2, b'\x08'), True))
iri3g = tlv(0x30, ctx(1, bytes([4, 19, 19, 3, 3])) + ctx(2, b'\x01\x02'))
irip = tlv(0x30, ctx(0, b'\x01') + ctx(2, ctx(19, iri3g), True))
seeds['3gpp-iri'] = pdu(header(), ctx(0, irip, True))
cc3g = tlv(0x30, ctx(1, bytes([4, 19, 19, 3, 4])) + ctx(2, ctx(1, b'\x45'), True))
ccp = tlv(0x30, ctx(0, b'\x00') + ctx(2, ctx(23, cc3g), True))
seeds['3gpp-cc'] = pdu(header(), ctx(1, ccp, True))
ip = bytes.fromhex('4500001c000100004011f9cc0a0000010a000002') + bytes.fromhex('138813890008ffff')
ipcc = tlv(0x30, ctx(0, b'\x01') + ctx(2, ctx(2, ctx(0, bytes([5, 3, 10, 2])) + ctx(1, ctx(0, ip), True), True), True))
seeds['ipcc-aggregated'] = pdu(header(), ctx(1, ipcc + ipcc + ipcc, True))
rtp = bytes([0x80, 0x00, 0x1b, 0x58, 0, 0, 0, 160, 1, 2, 3, 4]) + b'\xff' * 160
udp = (5004).to_bytes(2, 'big') + (5006).to_bytes(2, 'big') + (8 + len(rtp)).to_bytes(2, 'big') + b'\0\0' + rtp
v6 = bytes.fromhex('60000000') + len(udp).to_bytes(2, 'big') + b'\x11\x40' + bytes(15) + b'\x01' + bytes(15) + b'\x02' + udp
mmcc = ctx(0, bytes([5, 5, 6, 2])) + ctx(1, v6) + ctx(2, b'\x00') + ctx(3, b'stream1') + ctx(4, b'\x00')
seeds['ipmmcc-v6'] = pdu(header(usec=(1767225600, 1)), ctx(1, tlv(0x30, ctx(0, b'\x01') + ctx(2, ctx(12, mmcc, True), True)), True))
seeds['ipmmcc-rtpframe'] = pdu(header(), ctx(1, tlv(0x30, ctx(0, b'\x00') + ctx(2, ctx(12, ctx(0, bytes([5, 5, 6, 2])) + ctx(1, rtp) + ctx(2, b'\x02'), True), True)), True))
sip = ctx(0, bytes([5, 5, 6, 1])) + ctx(1, ctx(1, ctx(0, ipaddr(b'\x0a\0\0\x01'), True) + ctx(1, ipaddr(b'\x0a\0\0\x02'), True) + ctx(2, b'BYE sip:a@b SIP/2.0\r\ni: abc\r\n\r\n'), True), True)
seeds['ipmmiri-compact'] = pdu(header(), ctx(0, tlv(0x30, ctx(0, b'\x02') + ctx(2, ctx(11, sip, True), True) + ctx(5, b'\x00')), True))
ipiri = ctx(0, bytes([5, 3, 10, 1])) + ctx(1, ctx(0, b'\x08') + ctx(1, b'user') + ctx(2, b'\x04') + ctx(3, b'\x01') + ctx(4, ipaddr(b'\x0a\x02\x02\x32'), True) + ctx(10, b'20260101000000Z') + ctx(13, b'\x00\xff\xff\xff\xff\xff\xff\xff\xff') + ctx(24, b'', True), True)
seeds['ipiri-full'] = pdu(header(), ctx(0, tlv(0x30, ctx(0, b'\x02') + ctx(2, ctx(2, ipiri, True), True)), True))
# indefinite lengths everywhere, non-minimal lengths, an unknown high tag
h = header(extra=b'\x9f\x81\x00\x01\x00')
seeds['indefinite'] = indef(0x30, indef(0xa1, h[2:]) + indef(0xa2, indef(0xa2, ctx(3, b''))))
seeds['nonminimal'] = tlv(0x30, tlv(0xa1, h[2:], True) + tlv(0xa2, tlv(0xa2, ctx(3, b''), True), True), True)
seeds['unknown-tags'] = pdu(header(extra=ctx(20, b'x') + ctx(9, b'ext-ip') + ctx(10, b'nf')), tri(ctx(3, b'')))
seeds['hi4'] = pdu(header(), ctx(7, tlv(0x30, b''), True))

bers = {
    'indef-nested': bytes.fromhex('3080a0800201010000000000'),
    'high-tag': bytes.fromhex('9f8101020000'),
    'tag-too-long': bytes.fromhex('9f818181010100'),
    'len-ff': bytes.fromhex('30ff'),
    'len-5oct': bytes.fromhex('04850000000001ff'),
    'int-9': bytes.fromhex('020900ffffffffffffffff'),
    'int-neg': bytes.fromhex('0201ff'),
    'gentime': b'\x18\x13' + b'20250115120000.123Z',
    'utctime': b'\x17\x0d' + b'260101120000Z',
    'oid': bytes.fromhex('06070400020205012b'),
    'eoc-bad': bytes.fromhex('308004000000'),
}

def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

for n, b in seeds.items():
    write(os.path.join(cdir, 'etsi'), 'edge-' + n, b)
for n, b in bers.items():
    write(os.path.join(cdir, 'ber'), 'edge-' + n, b)

def split(path):
    d = open(path, 'rb').read()
    off = 0
    while off < len(d):
        n = d[off + 1]
        if n & 0x80:
            k = n & 0x7f
            hl = 2 + k
            n = int.from_bytes(d[off + 2:off + hl], 'big')
        else:
            hl = 2
        yield off, d[off:off + hl + n]
        off += hl + n

if os.path.isdir(vec):
    for s in ('hi2', 'hi3'):
        seen = set()
        for off, p in split(os.path.join(vec, s + '.bin')):
            key = (len(p) // 100, p[-40:-30])
            if s == 'hi3' and key in seen:
                continue
            seen.add(key)
            write(os.path.join(cdir, 'etsi'), f'openli-{s}-{off}', p)
            if s == 'hi2' and off < 1000:
                write(os.path.join(cdir, 'ber'), f'openli-{s}-{off}', p)
