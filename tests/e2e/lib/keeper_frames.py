#!/usr/bin/env python3
"""keeper_frames.py - a keeper client that records the order of the answer's
frames (docs/FORMATS.md §11), for tests/e2e/audio_stream.sh: whether the
output file's bytes ('F') reach the client while the command still runs.

usage: keeper_frames.py SOCKET KEYFILE OUTFILE ARG...
Sends the signed request ARG... to the keeper at SOCKET as the user of
KEYFILE, signs the access events it is asked to sign (its own user's, as
the lacre CLI does), writes the 'F' bytes to OUTFILE and prints one line
per frame run: "F <bytes>", "E <text>", "O <bytes>", then "X <status>".
Exit status: 0 when the answer ended with an exit frame, 1 otherwise."""
import base64, os, socket, struct, sys, time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def pct(s):
    """Percent-encoding of FORMATS §11 (the CLI's pct_encode)."""
    out = []
    for b in s.encode():
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in "-._~:/@+"):
            out.append(c)
        else:
            out.append("%%%02X" % b)
    return "".join(out)


def read_full(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            raise EOFError("the keeper's answer ended early")
        b += k
    return b


def main():
    sock, keyfile, outfile = sys.argv[1:4]
    args = sys.argv[4:]
    parts = open(keyfile).read().strip().split("+", 4)   # base64 may hold '+'
    name, raw = parts[2], base64.b64decode(parts[4])
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    t = "lacre-keeper-request/v1\nuser %s\ntime %d\nnonce %s\n" % (
        name, int(time.time() * 1e6), os.urandom(16).hex())
    for a in args:
        t += "arg %s\n" % pct(a)
    req = (t + "sig %s\n" % key.sign(t.encode()).hex()).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(struct.pack(">I", len(req)) + req)
    runs = []                      # [type, bytes or text]
    epart = b""                    # an E line not yet ended
    with open(outfile, "wb") as out:
        try:
            while True:
                h = read_full(s, 5)
                typ, n = chr(h[0]), struct.unpack(">I", h[1:])[0]
                p = read_full(s, n) if n else b""
                if typ == "S":
                    ok = p.startswith(b"lacre-access-event/v1\n") and b"\nuser %s\n" % name.encode() in p
                    sig = key.sign(p) if ok else b""
                    s.sendall(b"G" + struct.pack(">I", len(sig)) + sig)
                    continue
                if typ == "X":
                    if epart:
                        runs.append(["E", epart.decode("utf-8", "replace")])
                    for r in runs:
                        print(r[0], r[1] if r[0] == "E" else len(r[1]) if r[0] == "O" else r[1])
                    print("X", p[0])
                    return 0
                if typ == "F":
                    out.write(p)
                    if runs and runs[-1][0] == "F":
                        runs[-1][1] += len(p)
                    else:
                        runs.append(["F", len(p)])
                elif typ == "E":
                    # the keeper relays stderr as the worker writes it: a
                    # line may come in several frames; one run per whole line
                    epart += p
                    while b"\n" in epart:
                        line, epart = epart.split(b"\n", 1)
                        runs.append(["E", line.decode("utf-8", "replace")])
                else:
                    runs.append([typ, p])
        except EOFError as e:
            for r in runs:
                print(r[0], r[1] if r[0] != "O" else len(r[1]))
            print("no exit frame: %s" % e)
            return 1


sys.exit(main())
