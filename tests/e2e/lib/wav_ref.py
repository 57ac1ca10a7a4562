#!/usr/bin/env python3
"""wav_ref.py WAV DECODE_HI3_JSONL CINS LEFT

Checks a WAV written by `lacre audio` against the RTP that was sent,
decoded here without lacre's code: `lacre decode --content` only splits
the PS-PDUs; the IP/UDP/RTP headers are parsed and G.711 is expanded in
this file.  CINS is a comma-separated list; LEFT says which packets are
"from the target" (left channel): `label` (the PDU's fromTarget label) or
`src=IP` (RTP sent by IP).  Placement as docs/cmd-audio.md: per side the
SSRC with most packets, 16-bit sequence numbers unwrapped in arrival order,
sample offset (seq - first) * frame after the side's first packet time.
Prints JSON: frames, expected frames, mismatching samples per channel, gaps
per side (runs of missing sequence numbers)."""
import base64, datetime, json, struct, sys, wave

def ulaw(u):
    u = ~u & 0xff
    t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)
    return (0x84 - t) if (u & 0x80) else (t - 0x84)

def alaw(a):
    a ^= 0x55
    t = (a & 0x0f) << 4
    seg = (a & 0x70) >> 4
    if seg == 0:
        t += 8
    elif seg == 1:
        t += 0x108
    else:
        t = (t + 0x108) << (seg - 1)
    return t if (a & 0x80) else -t

def us(s):
    d = datetime.datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000000 + d.microsecond

def rtp_of(frame):
    v = frame[0] >> 4
    if v == 4:
        ihl = (frame[0] & 15) * 4
        frame = frame[ihl + 8:]
    elif v == 6:
        frame = frame[48:]
    cc = frame[0] & 15
    x = (frame[0] >> 4) & 1
    pt = frame[1] & 0x7f
    seq, ts, ssrc = struct.unpack('>HII', frame[2:12])
    off = 12 + 4 * cc
    if x:
        words = struct.unpack('>H', frame[off + 2:off + 4])[0]
        off += 4 + 4 * words
    pay = frame[off:]
    if frame[0] & 0x20:
        pay = pay[:-pay[-1]]
    return pt, seq, ssrc, pay

def main():
    wav, dec, cins, left = sys.argv[1:5]
    cins = {int(c) for c in cins.split(',')}
    pk = []
    for line in open(dec):
        d = json.loads(line)
        if d.get('content') != 'ipmmcc' or d.get('cin') not in cins:
            continue
        frame = base64.b64decode(d['content_b64'])
        pt, seq, ssrc, pay = rtp_of(frame)
        if left == 'label':
            side = {'from-target': 0, 'to-target': 1}.get(d.get('direction'), -1)
        else:
            side = 0 if d['ip']['src'] == left[4:] else 1
        pk.append({'t': us(d['time']), 'eseq': d['seq'], 'side': side, 'pt': pt, 'seq': seq,
                   'ssrc': ssrc, 'pay': pay})
    pk.sort(key=lambda k: (k['t'], k['eseq']))
    first, base, frame, chans, gaps = {}, {}, {}, {0: {}, 1: {}}, {0: [], 1: []}
    for s in (0, 1):
        ps = [k for k in pk if k['side'] == s]
        if not ps:
            continue
        counts = {}
        for k in ps:
            counts[k['ssrc']] = counts.get(k['ssrc'], 0) + 1
        main = max(counts, key=counts.get)
        ext = None
        for k in ps:
            if k['ssrc'] != main:
                continue
            ext = k['seq'] if ext is None else ext + ((k['seq'] - ext + 0x8000) % 0x10000 - 0x8000)
            k['ext'] = ext
            if s not in base or ext < base[s]:
                base[s], first[s], frame[s] = ext, k['t'], len(k['pay']) or 160
            chans[s][ext] = k
    t0 = min(first.values())
    total = 0
    exp = {0: {}, 1: {}}
    for s in chans:
        if not chans[s]:
            continue
        off = (first[s] - t0) // 125
        exts = sorted(chans[s])
        for a, b in zip(exts, exts[1:]):
            if b - a > 1:
                gaps[s].append(b - a - 1)
        for e in exts:
            k = chans[s][e]
            pos = off + (e - base[s]) * frame[s]
            dec_ = ulaw if k['pt'] == 0 else alaw
            for i, c in enumerate(k['pay']):
                exp[s][pos + i] = dec_(c)
            total = max(total, pos + len(k['pay']))
    w = wave.open(wav, 'rb')
    n = w.getnframes()
    raw = w.readframes(n)
    smp = struct.unpack('<%dh' % (len(raw) // 2), raw)
    bad = [0, 0]
    for s in (0, 1):
        for i in range(n):
            if smp[2 * i + s] != exp[s].get(i, 0):
                bad[s] += 1
    print(json.dumps({'frames': n, 'expected_frames': total, 'mismatch_left': bad[0],
                      'mismatch_right': bad[1], 'gaps_left': gaps[0], 'gaps_right': gaps[1],
                      'packets_left': len(chans[0]), 'packets_right': len(chans[1]),
                      'channels': w.getnchannels(), 'rate': w.getframerate(),
                      'width': w.getsampwidth()}))

main()
