#!/usr/bin/env python3
"""fuzz/mkseeds_state.py OUT: stream state files written field by field
after docs/FORMATS.md §12 (an independent writer of the format): a file of
before the BCTR section, one with held intervals on both handovers, a
crash's kept < frontier, empty trackers, and a few that must be refused."""
import hashlib, struct, sys

out = sys.argv[1]

def stream(cls, flags, liid, cin, next_seq, kept, gaps=()):
    b = struct.pack('>BBB', cls, flags, len(liid)) + liid + struct.pack('>IQQBB', cin, next_seq, kept, 0, len(gaps))
    for lo, hi in gaps:
        b += struct.pack('>QQ', lo, hi)
    return b

def chain(liid, start, frontier, kept, held=()):
    b = struct.pack('>H', len(liid)) + liid + struct.pack('>BIQQB', 1, start, frontier, kept, len(held))
    for f, n in held:
        b += struct.pack('>QQ', f, n)
    return b

def bctr(hi2, hi3):
    return (b'BCTR\x01' + struct.pack('>I', len(hi2)) + b''.join(hi2) +
            struct.pack('>I', len(hi3)) + b''.join(hi3))

def write(name, streams, section=b''):
    body = b'LCRSTAT1' + struct.pack('>QI', 1765000000000000, len(streams)) + b''.join(streams) + section
    open(f'{out}/{name}', 'wb').write(body + hashlib.sha256(body).digest())

S = [stream(1, 3, b'LIC-VOIP-GRACE', 1385348164, 140, 140, [(20, 22)]),
     stream(0, 3, b'LIC-IPRAD-33', 291720191, 12, 12),
     stream(3, 7, b'LIC-VOIP-GRACE', 1385348164, 17, 17)]
write('old-no-section.state', S)
write('bctr-held.state', S, bctr([chain(b'LIC-IPRAD-33', 1796592809, 4000, 4000)],
                                [chain(b'LIC-VOIP-GRACE', 1796592809, 49101, 49841, [(49471, 370)]),
                                 chain(b'LIC-MOBILE-EPS', 1796592809, 0, 700, [(300, 200), (600, 100)])]))
write('bctr-crash.state', S, bctr([chain(b'LIC-IPRAD-33', 1796592809, 4000, 1000)],
                                 [chain(b'LIC-VOIP-GRACE', 1796592809, 49101, 20000)]))
write('bctr-empty.state', [], bctr([], []))
write('bctr-binary-liid.state', [], bctr([], [chain(bytes(range(0, 40)), 7, 10, 10), chain(b'', 7, 5, 5)]))
# refused: an interval behind its frontier, an unknown version, a twice-seen LIID
write('bad-held-behind.state', S, bctr([], [chain(b'X', 1, 100, 100, [(50, 10)])]))
write('bad-version.state', S, bctr([], []).replace(b'BCTR\x01', b'BCTR\x02'))
write('bad-twice.state', [], bctr([chain(b'X', 1, 1, 1), chain(b'X', 1, 2, 2)], []))
