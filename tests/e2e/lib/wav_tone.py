#!/usr/bin/env python3
"""wav_tone.py FILE.wav [FROM_S [TO_S]]

Prints one JSON object about a stereo 16-bit WAV (as `lacre audio` writes
it): rate, channels, frames, and per channel ("left", "right") the dominant
frequency in Hz (a Goertzel scan from 100 to 3000 Hz in 5 Hz steps over a
0.5 s window starting at FROM_S, default 0.2 s), its share of the signal
power, and the RMS level.  Plain Python, no numpy: an independent check of
the decoder."""
import json, math, struct, sys, wave

def goertzel(x, f, rate):
    w = 2 * math.pi * f / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for v in x:
        s0 = v + c * s1 - s2
        s2, s1 = s1, s0
    return s1 * s1 + s2 * s2 - c * s1 * s2

def main():
    path = sys.argv[1]
    start = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    w = wave.open(path, 'rb')
    rate, ch, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
    raw = w.readframes(n)
    out = {'rate': rate, 'channels': ch, 'width': width, 'frames': n}
    if width != 2:
        print(json.dumps(out)); return
    samples = struct.unpack('<%dh' % (len(raw) // 2), raw)
    a = int(start * rate)
    b = min(n, a + rate // 2)
    for ci, name in enumerate(('left', 'right')[:ch]):
        x = [samples[i * ch + ci] for i in range(a, b)]
        if not x:
            out[name] = None; continue
        energy = sum(v * v for v in x)
        rms = math.sqrt(energy / len(x))
        best, bf = 0.0, 0
        for f in range(100, 3001, 5):
            p = goertzel(x, f, rate)
            if p > best:
                best, bf = p, f
        # Goertzel power of a pure tone ~ (A*N/2)^2; signal energy = A^2*N/2
        share = (2 * best / len(x)) / energy if energy else 0.0
        out[name] = {'freq': bf, 'share': round(share, 3), 'rms': round(rms, 1)}
    print(json.dumps(out))

main()
