#!/usr/bin/env python3
"""mediator_lemf.py - a minimal LEMF for lacre-mediator's end-to-end tests.

Listens on an HI2 and an HI3 port (0 = any free port; the ports go to
the --ready file as "HI2 HI3") (plain TCP, or TLS with --cert/--key and
optional client-certificate check --ca), accepts any number of connections,
splits the unframed BER stream into PS-PDUs, answers every keep-alive with a
keep-alive response (its pSHeader copied, payload A2 04 A2 02 84 00) and
nothing else, and counts what arrived.  On SIGTERM, or when --exit-after
seconds pass, it writes JSON: per "<liid>/<cin>/<iri|cc>" the number of
distinct data sequence numbers and the duplicates, plus keep-alives,
truncated tails, garbage closes and connections.  --bad-response N answers
the N-th keep-alive with a wrong sequence number; --no-response never
answers (both to test the sender's checks).

Independent of lacre's C decoder on purpose: a second BER reader.
"""
import argparse, json, os, selectors, signal, socket, ssl, sys, time

def tlv(b, o):
    """Return (tag_byte, constructed, tagnum, hdr_len, content_len) at b[o:], or None if incomplete."""
    if o >= len(b):
        return None
    t = b[o]; p = o + 1
    num = t & 0x1f
    if num == 0x1f:
        num = 0
        while True:
            if p >= len(b):
                return None
            c = b[p]; p += 1
            num = (num << 7) | (c & 0x7f)
            if not c & 0x80:
                break
    if p >= len(b):
        return None
    l = b[p]; p += 1
    if l == 0x80:
        return (t, bool(t & 0x20), num, p - o, -1)
    if l & 0x80:
        k = l & 0x7f
        if k == 0 or k > 4 or p + k > len(b):
            return None if p + k > len(b) else (t, 0, num, 0, -2)
        l = int.from_bytes(b[p:p + k], 'big'); p += k
    return (t, bool(t & 0x20), num, p - o, l)

def elem_end(b, o, depth=0):
    """End offset of the element at o (handles indefinite lengths), or None if incomplete."""
    h = tlv(b, o)
    if h is None:
        return None
    t, cons, num, hl, cl = h
    if cl == -2 or depth > 40:
        raise ValueError("bad length")
    if cl >= 0:
        e = o + hl + cl
        return e if e <= len(b) else None
    p = o + hl
    while True:
        if p + 2 > len(b):
            return None
        if b[p] == 0 and b[p + 1] == 0:
            return p + 2
        e = elem_end(b, p, depth + 1)
        if e is None:
            return None
        p = e

def children(b, o, e):
    """Yield (tagbyte, tagnum, start, content_start, content_end, end) of the elements in b[o:e]."""
    while o < e:
        if b[o] == 0 and o + 1 < e and b[o + 1] == 0:
            return
        t, cons, num, hl, cl = tlv(b, o)
        end = elem_end(b, o)
        cend = end - 2 if cl == -1 else end
        yield (t, num, o, o + hl, cend, end)
        o = end

def uint(b):
    return int.from_bytes(b, 'big')

def summarize(pdu):
    """(kind, liid, cin, seq, header_bytes, tri) of one PS-PDU."""
    (_, _, s, cs, ce, e), = list(children(pdu, 0, len(pdu)))[:1]
    liid = cin = seq = None; hdr = None; kind = 'other'; tri = None
    for t, num, st, c0, c1, en in children(pdu, cs, ce):
        if t == 0xa1:
            hdr = pdu[st:en]
            for t2, n2, s2, d0, d1, e2 in children(pdu, c0, c1):
                if n2 == 1 and t2 == 0x81:
                    raw = pdu[d0:d1]
                    liid = raw.decode() if all(32 <= x < 127 for x in raw) else '0x' + raw.hex()
                elif n2 == 4:
                    seq = uint(pdu[d0:d1])
                elif t2 == 0xa3:
                    for t3, n3, s3, f0, f1, e3 in children(pdu, d0, d1):
                        if n3 == 1 and t3 == 0x81:
                            cin = uint(pdu[f0:f1])
        elif t == 0xa2:
            for t2, n2, s2, d0, d1, e2 in children(pdu, c0, c1):
                if n2 == 0: kind = 'iri'
                elif n2 == 1: kind = 'cc'
                elif n2 == 2:
                    for t3, n3, s3, f0, f1, e3 in children(pdu, d0, d1):
                        tri = n3
                        kind = {0: 'integrity', 3: 'keepalive', 4: 'keepalive-response', 7: 'cinreset'}.get(n3, 'tri')
                elif n2 == 3: kind = 'hi1'
                break
    return kind, liid, cin, seq, hdr, tri

class Conn:
    def __init__(s, sock, hi):
        s.sock = sock; s.hi = hi; s.buf = b''; s.handshaken = not isinstance(sock, ssl.SSLSocket)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--hi2', type=int, required=True)
    ap.add_argument('--hi3', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--ready', required=True)
    ap.add_argument('--cert'); ap.add_argument('--key'); ap.add_argument('--ca')
    ap.add_argument('--exit-after', type=float, default=120)
    ap.add_argument('--bad-response', type=int, default=0)
    ap.add_argument('--no-response', action='store_true')
    a = ap.parse_args()
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.ca:
            ctx.load_verify_locations(a.ca); ctx.verify_mode = ssl.CERT_REQUIRED
    sel = selectors.DefaultSelector()
    ports = []
    for port, hi in ((a.hi2, 'hi2'), (a.hi3, 'hi3')):
        ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(('127.0.0.1', port)); ls.listen(512); ls.setblocking(False)
        ports.append(ls.getsockname()[1])
        sel.register(ls, selectors.EVENT_READ, ('listen', hi))
    st = {'streams': {}, 'keepalives': 0, 'responses': 0, 'truncated': 0, 'garbage': 0,
          'connections': 0, 'integrity': 0, 'cinresets': 0, 'hi1': 0, 'other': 0, 'pdus': 0}
    seen = {}
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *x: stop.__setitem__(0, True))
    open(a.ready + '.tmp', 'w').write('%d %d\n' % tuple(ports))
    os.rename(a.ready + '.tmp', a.ready)
    t_end = time.time() + a.exit_after
    while not stop[0] and time.time() < t_end:
        for key, ev in sel.select(0.2):
            kind, hi = key.data if isinstance(key.data, tuple) else ('conn', None)
            if kind == 'listen':
                try:
                    s, _ = key.fileobj.accept()
                except BlockingIOError:
                    continue
                st['connections'] += 1
                if ctx:
                    s.setblocking(True); s.settimeout(5)
                    try:
                        s = ctx.wrap_socket(s, server_side=True)
                    except Exception as e:
                        print('tls handshake failed:', e, file=sys.stderr); s.close(); continue
                s.setblocking(False)
                sel.register(s, selectors.EVENT_READ, Conn(s, hi))
                continue
            c = key.data
            try:
                d = c.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                continue
            except (ConnectionResetError, ssl.SSLError):
                d = b''
            if not d:
                if c.buf:
                    st['truncated'] += 1
                sel.unregister(c.sock); c.sock.close(); continue
            c.buf += d
            while c.buf:
                if c.buf[0] != 0x30:
                    st['garbage'] += 1; c.buf = b''
                    sel.unregister(c.sock); c.sock.close(); break
                try:
                    e = elem_end(c.buf, 0)
                except ValueError:
                    st['garbage'] += 1; c.buf = b''; sel.unregister(c.sock); c.sock.close(); break
                if e is None:
                    break
                pdu, c.buf = c.buf[:e], c.buf[e:]
                st['pdus'] += 1
                k, liid, cin, seq, hdr, tri = summarize(pdu)
                if k == 'keepalive':
                    st['keepalives'] += 1
                    if a.no_response:
                        continue
                    if a.bad_response and st['keepalives'] == a.bad_response:
                        hdr = hdr.replace(b'\x84\x01' + bytes([seq & 0xff]), b'\x84\x01' + bytes([(seq + 1) & 0xff]), 1)
                    body = hdr + b'\xa2\x04\xa2\x02\x84\x00'
                    L = len(body)
                    out = b'\x30' + (bytes([L]) if L < 128 else b'\x82' + L.to_bytes(2, 'big')) + body
                    c.sock.setblocking(True); c.sock.sendall(out); c.sock.setblocking(False)
                    st['responses'] += 1
                elif k in ('iri', 'cc'):
                    kk = '%s/%s/%s' % (liid, cin, k)
                    s = seen.setdefault(kk, {})
                    s[seq] = s.get(seq, 0) + 1
                elif k == 'integrity': st['integrity'] += 1
                elif k == 'cinreset': st['cinresets'] += 1
                elif k == 'hi1': st['hi1'] += 1
                else: st['other'] += 1
    for kk, s in seen.items():
        st['streams'][kk] = {'distinct': len(s), 'copies': sum(s.values())}
    json.dump(st, open(a.out, 'w'), indent=1, sort_keys=True)

if __name__ == '__main__':
    main()
